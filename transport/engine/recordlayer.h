/*
 * recordlayer.h - the DTLS 1.2 record layer of an established association
 * whose keys were handed off from OpenSSL (handoff.c), internal.
 *
 * AEAD suites only: AES-128/256-GCM (RFC 5288) and ChaCha20-Poly1305
 * (RFC 7905).  One module for both roles: the caller passes the write and
 * read keys of its own role.  Buffer in, buffer out; nothing is allocated
 * per record (the two cipher contexts are keyed once and only get a new
 * nonce per record).
 */
#ifndef DTLSUDP_ENGINE_RECORDLAYER_H
#define DTLSUDP_ENGINE_RECORDLAYER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "record.h"

#define DTLSUDP_RL_SEQ_MAX ((UINT64_C(1) << 48) - 1) /* RFC 6347 4.1: 48-bit sequence numbers */
#define DTLSUDP_RL_TAG_LEN 16
#define DTLSUDP_RL_MAX_PLAINTEXT 16384u /* 2^14, RFC 5246 6.2.1 */
#define DTLSUDP_RL_KEY_MAX 32
#define DTLSUDP_RL_IV_MAX 12

enum eng_aead {
    DTLSUDP_AEAD_NONE = 0,
    DTLSUDP_AEAD_AES_128_GCM,
    DTLSUDP_AEAD_AES_256_GCM,
    DTLSUDP_AEAD_CHACHA20_POLY1305,
};

typedef struct eng_rl_dir {
    EVP_CIPHER_CTX *ctx;           /* keyed once */
    uint8_t iv[DTLSUDP_RL_IV_MAX]; /* GCM: the 4-byte salt; ChaCha20: the 12-byte IV */
    /* write: the next sequence number to use; read: the highest accepted */
    uint64_t seq;
    /* read only: bit i set = sequence number (seq - i) accepted (RFC 6347
     * 4.1.2.6, the 64-entry sliding window of RFC 4303 3.4.3) */
    uint64_t window;
} eng_rl_dir;

typedef struct eng_rl {
    eng_rl_dir wr, rd;
    uint16_t epoch;
    uint16_t version;       /* on the wire, 0xfefd */
    uint8_t aead;           /* enum eng_aead */
    uint8_t explicit_nonce; /* bytes carried in each record: 8 for GCM, 0 for ChaCha20 */
} eng_rl;

/* What eng_rl_init() needs for one role. */
typedef struct eng_rl_keys {
    int aead; /* enum eng_aead */
    uint16_t epoch;
    uint16_t version;
    uint64_t next_write_seq; /* the first sequence number our records may use */
    const uint8_t *write_key, *write_iv;
    const uint8_t *read_key, *read_iv;
} eng_rl_keys;

/* Key and fixed IV lengths of an AEAD (RFC 5288 3: salt 4; RFC 7905 2: 12);
 * 0 for NONE. */
size_t eng_rl_key_len(int aead);
size_t eng_rl_iv_len(int aead);

/* Key the two contexts.  `cipher' is the fetched EVP_CIPHER of keys->aead.
 * The read window starts with sequence number 0 seen (the peer's Finished).
 * Returns OK, NOMEM, TLS.  On failure nothing needs disposing. */
int eng_rl_init(eng_rl *rl, EVP_CIPHER *cipher, const eng_rl_keys *keys);
void eng_rl_dispose(eng_rl *rl);

/* Record header + explicit nonce + tag: what a record adds to its plaintext. */
size_t eng_rl_overhead(const eng_rl *rl);

/* Seal one record of `type' (RFC 6347 4.1, RFC 5246 6.2.3.3) into out.
 * Returns OK; TOO_BIG (more than 2^14 bytes); BUFFER (cap too small);
 * LIMIT (the epoch's sequence numbers are used up, RFC 6347 4.1: the
 * association must end; the last number is kept for the close_notify,
 * which `final' allows); TLS (cipher failure). */
int eng_rl_seal(eng_rl *rl, uint8_t type, const uint8_t *in, size_t len, int final, uint8_t *out,
                    size_t cap, size_t *out_len);

/* Authenticate and decrypt one parsed record of our epoch into out (at
 * least rec->length bytes), then mark its sequence number seen.  Returns
 * OK or DROPPED (wrong epoch or version, replayed or too old, truncated,
 * oversized, or failed authentication: RFC 6347 4.1.2.7, silently
 * discarded).  Nothing changes on DROPPED. */
int eng_rl_open(eng_rl *rl, const eng_record *rec, uint8_t *out, size_t cap, size_t *out_len);

/* The replay window alone (exposed for the hand-off and the tests):
 * 1 if `seq' is new and inside the window, 0 if replayed or too old. */
int eng_rl_window_check(const eng_rl_dir *rd, uint64_t seq);
void eng_rl_window_mark(eng_rl_dir *rd, uint64_t seq);

#endif
