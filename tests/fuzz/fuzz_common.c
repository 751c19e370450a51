/*
 * fuzz_common.c - input cursor, deterministic randomness, fake clock,
 * counting allocator and the fixed PKI for the fuzz targets.
 */
#include "config.h"

/* RAND_set_rand_method() is deprecated in OpenSSL 3.0 but is still the one
 * way to make every consumer of randomness (TLS randoms, ECDHE keys, ECDSA
 * nonces, GCM IVs) deterministic for replayable fuzz inputs. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "fuzz_certs.h"
#include "fuzz_common.h"

void fz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    abort();
}

/* ------------------------------------------------------------------------
 * Input cursor
 * ------------------------------------------------------------------------ */

int fz_left(const fz_in *in)
{
    return in->p < in->end;
}

uint8_t fz_u8(fz_in *in)
{
    if (in->end - in->p < 1)
        return 0;
    return *in->p++;
}

uint16_t fz_u16(fz_in *in)
{
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}

const uint8_t *fz_bytes(fz_in *in, size_t n, size_t *got)
{
    const uint8_t *p = in->p;
    size_t left = (size_t)(in->end - in->p);

    if (n > left)
        n = left;
    in->p += n;
    *got = n;
    return p;
}

/* ------------------------------------------------------------------------
 * Fake clock
 * ------------------------------------------------------------------------ */

uint64_t fz_clock = 1000000;

/* OpenSSL's DTLS retransmission timer reads gettimeofday(); the program's
 * definition takes precedence over libc's for libssl too, so that timer
 * follows fz_clock (as in tests/engine/testnet.c). */
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    tv->tv_sec = (time_t)(1700000000 + fz_clock / 1000);
    tv->tv_usec = (suseconds_t)((fz_clock % 1000) * 1000);
    return 0;
}

/* ------------------------------------------------------------------------
 * Deterministic randomness: splitmix64 streams
 * ------------------------------------------------------------------------ */

#define N_STREAMS FZ_STREAMS
static uint64_t streams[N_STREAMS];
static int current_stream;
static int method_installed;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void fill(int stream, uint8_t *buf, size_t len)
{
    while (len > 0) {
        uint64_t v = splitmix(&streams[stream]);
        size_t n = len < 8 ? len : 8;
        memcpy(buf, &v, n);
        buf += n;
        len -= n;
    }
}

static int m_bytes(unsigned char *buf, int num)
{
    if (num > 0)
        fill(current_stream, buf, (size_t)num);
    return 1;
}

static int m_seed(const void *buf, int num)
{
    (void)buf;
    (void)num;
    return 1;
}

static int m_add(const void *buf, int num, double entropy)
{
    (void)buf;
    (void)num;
    (void)entropy;
    return 1;
}

static int m_status(void)
{
    return 1;
}

static RAND_METHOD method = {m_seed, m_bytes, NULL, m_add, m_bytes, m_status};

void fz_rand_reset(int stream)
{
    if (!method_installed) {
        if (RAND_set_rand_method(&method) != 1)
            fz_fail(__FILE__, __LINE__, "RAND_set_rand_method");
        method_installed = 1;
    }
    streams[stream] = 0x0123456789ABCDEFULL * (uint64_t)(stream + 1);
    current_stream = stream;
}

void fz_rand_select(int stream)
{
    current_stream = stream;
}

void fz_rand_fill(int stream, uint8_t *buf, size_t len)
{
    fill(stream, buf, len);
}

/* ------------------------------------------------------------------------
 * Counting allocator
 * ------------------------------------------------------------------------ */

#define HDR 16

static void *alloc_cb(void *user, size_t n)
{
    fz_alloc *a = user;
    uint8_t *p;

    a->total++;
    if (a->fail_at != 0 && a->total == a->fail_at) {
        a->failures++;
        return NULL;
    }
    if ((p = malloc(n + HDR)) == NULL)
        return NULL;
    memcpy(p, &n, sizeof(n));
    a->live_bytes += (long long)n;
    a->live_count++;
    return p + HDR;
}

static void free_cb(void *user, void *ptr)
{
    fz_alloc *a = user;
    uint8_t *p = ptr;
    size_t n;

    if (p == NULL)
        return;
    p -= HDR;
    memcpy(&n, p, sizeof(n));
    a->live_bytes -= (long long)n;
    a->live_count--;
    free(p);
}

dtlsudp_allocator fz_allocator(fz_alloc *a)
{
    dtlsudp_allocator al;

    al.alloc = alloc_cb;
    al.free = free_cb;
    al.user = a;
    return al;
}

/* ------------------------------------------------------------------------
 * Fixed PKI
 * ------------------------------------------------------------------------ */

static X509 *pem_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

    BIO_free(b);
    if (x == NULL)
        fz_fail(__FILE__, __LINE__, "PEM certificate");
    return x;
}

static EVP_PKEY *pem_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

    BIO_free(b);
    if (k == NULL)
        fz_fail(__FILE__, __LINE__, "PEM key");
    return k;
}

static fz_pki pki;

static void pki_free(void)
{
    X509_free(pki.ca);
    X509_free(pki.server);
    X509_free(pki.client);
    EVP_PKEY_free(pki.server_key);
    EVP_PKEY_free(pki.client_key);
    memset(&pki, 0, sizeof(pki));
}

const fz_pki *fz_pki_get(void)
{
    if (pki.ca == NULL) {
        pki.ca = pem_cert(FUZZ_CA_CRT);
        pki.server = pem_cert(FUZZ_SERVER_CRT);
        pki.client = pem_cert(FUZZ_CLIENT_CRT);
        pki.server_key = pem_key(FUZZ_SERVER_KEY);
        pki.client_key = pem_key(FUZZ_CLIENT_KEY);
        /* Freed at exit so leak checkers (LSan, valgrind) see no residue. */
        atexit(pki_free);
    }
    return &pki;
}

int fz_install(SSL_CTX *ctx, X509 *cert, EVP_PKEY *key, X509 *ca)
{
    if (cert != NULL && SSL_CTX_use_certificate(ctx, cert) != 1)
        return -1;
    if (key != NULL && SSL_CTX_use_PrivateKey(ctx, key) != 1)
        return -1;
    if (ca != NULL && X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca) != 1)
        return -1;
    return 0;
}

dtlsudp_addr fz_addr(const char *text)
{
    dtlsudp_addr a;

    if (dtlsudp_addr_parse(text, 0, &a) != DTLSUDP_OK)
        fz_fail(__FILE__, __LINE__, text);
    return a;
}
