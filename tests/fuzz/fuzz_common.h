/*
 * fuzz_common.h - support shared by the fuzz targets in tests/fuzz.
 *
 * Every target defines LLVMFuzzerTestOneInput().  Built with
 * --enable-fuzzers it is linked with libFuzzer (clang, -fsanitize=fuzzer);
 * otherwise with regress_main.c, a main() that replays a corpus directory
 * once (the `make check' regression run).
 *
 * Determinism (picotls fuzz/fuzz-client-hello.c style): OpenSSL's random
 * source is replaced by a seeded counter-mode generator, the engine gets the
 * same through its injected `random', and OpenSSL's DTLS retransmission
 * timer reads a fake clock (this file defines gettimeofday()).  With the
 * fixed certificates of fuzz_certs.h a recorded handshake replays byte for
 * byte, so seed inputs reach established associations.
 */
#ifndef DTLSUDP_FUZZ_COMMON_H
#define DTLSUDP_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dtlsudp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Abort with a message: the fuzzer (or the regression run) reports it. */
#define FZ_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fz_fail(__FILE__, __LINE__, #cond);                                                    \
    } while (0)
void fz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* --- bounds-checked input cursor --- */
typedef struct fz_in {
    const uint8_t *p, *end;
} fz_in;

int fz_left(const fz_in *in);
uint8_t fz_u8(fz_in *in);   /* 0 when exhausted */
uint16_t fz_u16(fz_in *in); /* big endian; 0 when exhausted */
/* Up to n bytes (fewer at the end); *got is how many. */
const uint8_t *fz_bytes(fz_in *in, size_t n, size_t *got);

/* --- deterministic randomness and time --- */

/* The fake clock (ms) behind gettimeofday() and every engine `now'. */
extern uint64_t fz_clock;
/* Install the deterministic RAND method (idempotent) and restart stream
 * `stream' (0..3) from its seed; subsequent OpenSSL randomness comes from
 * the selected stream. */
void fz_rand_reset(int stream);
void fz_rand_select(int stream);
/* Bytes from stream `stream' without selecting it (for the engines'
 * injected random). */
void fz_rand_fill(int stream, uint8_t *buf, size_t len);
#define FZ_STREAMS 4

/* --- counting allocator with fuzz-chosen failures --- */
typedef struct fz_alloc {
    long long live_count;
    long long live_bytes;
    unsigned long total;
    unsigned long fail_at; /* the fail_at-th allocation fails (0: none) */
    unsigned long failures;
} fz_alloc;

dtlsudp_allocator fz_allocator(fz_alloc *a);

/* --- the fixed PKI (parsed once) --- */
typedef struct fz_pki {
    X509 *ca, *server, *client;
    EVP_PKEY *server_key, *client_key;
} fz_pki;

const fz_pki *fz_pki_get(void);
/* Install identity (cert, key; either may be NULL) and trust anchor ca. */
int fz_install(SSL_CTX *ctx, X509 *cert, EVP_PKEY *key, X509 *ca);

dtlsudp_addr fz_addr(const char *text);

#endif
