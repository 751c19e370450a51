/*
 * recordlayer.c - DTLS 1.2 AEAD records for established associations.
 *
 * The record (RFC 6347 4.1):
 *   type(1) version(2) epoch(2) sequence_number(6) length(2) fragment
 * with, for AEAD ciphers (RFC 5246 6.2.3.3),
 *   fragment = explicit_nonce || AEAD(plaintext) || tag(16)
 *   additional_data = epoch || sequence_number || type || version || length(plaintext)
 * where epoch || sequence_number stands for TLS's 64-bit seq_num (RFC 6347
 * 4.1.2.1).  Nonces:
 *   AES-GCM (RFC 5288 3): salt(4, from the key block) || explicit(8); the
 *     explicit part is ours to choose and, as OpenSSL does, is
 *     epoch || sequence_number, so it never repeats under one key.
 *   ChaCha20-Poly1305 (RFC 7905 2): the 12-byte IV XOR (0^32 || epoch ||
 *     sequence_number); nothing explicit on the wire.
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "dtlsudp.h"
#include "recordlayer.h"

#define AAD_LEN 13

size_t eng_rl_key_len(int aead)
{
    switch (aead) {
    case DTLSUDP_AEAD_AES_128_GCM:
        return 16;
    case DTLSUDP_AEAD_AES_256_GCM:
    case DTLSUDP_AEAD_CHACHA20_POLY1305:
        return 32;
    default:
        return 0;
    }
}

size_t eng_rl_iv_len(int aead)
{
    switch (aead) {
    case DTLSUDP_AEAD_AES_128_GCM:
    case DTLSUDP_AEAD_AES_256_GCM:
        return 4;
    case DTLSUDP_AEAD_CHACHA20_POLY1305:
        return 12;
    default:
        return 0;
    }
}

static EVP_CIPHER_CTX *keyed_ctx(EVP_CIPHER *cipher, const uint8_t *key, int enc)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

    if (ctx == NULL)
        return NULL;
    /* The nonce comes per record; the key schedule is computed once. */
    if (EVP_CipherInit_ex2(ctx, cipher, key, NULL, enc, NULL) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int eng_rl_init(eng_rl *rl, EVP_CIPHER *cipher, const eng_rl_keys *keys)
{
    size_t iv_len = eng_rl_iv_len(keys->aead);

    memset(rl, 0, sizeof(*rl));
    if (iv_len == 0 || cipher == NULL || keys->next_write_seq > DTLSUDP_RL_SEQ_MAX)
        return DTLSUDP_ERR_INVALID;
    rl->aead = (uint8_t)keys->aead;
    rl->explicit_nonce = keys->aead == DTLSUDP_AEAD_CHACHA20_POLY1305 ? 0 : 8;
    rl->epoch = keys->epoch;
    rl->version = keys->version;
    memcpy(rl->wr.iv, keys->write_iv, iv_len);
    memcpy(rl->rd.iv, keys->read_iv, iv_len);
    rl->wr.seq = keys->next_write_seq;
    /* The peer's Finished used sequence number 0 of this epoch. */
    rl->rd.seq = 0;
    rl->rd.window = 1;
    if ((rl->wr.ctx = keyed_ctx(cipher, keys->write_key, 1)) == NULL ||
        (rl->rd.ctx = keyed_ctx(cipher, keys->read_key, 0)) == NULL) {
        eng_rl_dispose(rl);
        return DTLSUDP_ERR_NOMEM;
    }
    return DTLSUDP_OK;
}

void eng_rl_dispose(eng_rl *rl)
{
    EVP_CIPHER_CTX_free(rl->wr.ctx);
    EVP_CIPHER_CTX_free(rl->rd.ctx);
    OPENSSL_cleanse(rl, sizeof(*rl));
}

size_t eng_rl_overhead(const eng_rl *rl)
{
    return DTLSUDP_RECORD_HEADER_LEN + rl->explicit_nonce + DTLSUDP_RL_TAG_LEN;
}

static void put_u16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* epoch(2) || sequence_number(6): TLS's seq_num for DTLS (RFC 6347 4.1.2.1). */
static void put_epoch_seq(uint8_t *p, uint16_t epoch, uint64_t seq)
{
    int i;

    put_u16(p, epoch);
    for (i = 0; i < 6; i++)
        p[2 + i] = (uint8_t)(seq >> (8 * (5 - i)));
}

static void make_aad(uint8_t aad[AAD_LEN], const uint8_t epoch_seq[8], uint8_t type, uint16_t version,
                     size_t len)
{
    memcpy(aad, epoch_seq, 8);
    aad[8] = type;
    put_u16(aad + 9, version);
    put_u16(aad + 11, (unsigned)len);
}

/* The 12-byte per-record nonce from the fixed IV and the 8 bytes that
 * vary: the explicit nonce (GCM) or epoch || sequence_number (ChaCha20). */
static void make_nonce(const eng_rl *rl, const eng_rl_dir *d, const uint8_t var[8], uint8_t nonce[12])
{
    int i;

    if (rl->explicit_nonce != 0) {
        memcpy(nonce, d->iv, 4);
        memcpy(nonce + 4, var, 8);
        return;
    }
    memcpy(nonce, d->iv, 12);
    for (i = 0; i < 8; i++)
        nonce[4 + i] ^= var[i];
}

int eng_rl_seal(eng_rl *rl, uint8_t type, const uint8_t *in, size_t len, int final, uint8_t *out,
                    size_t cap, size_t *out_len)
{
    uint8_t epoch_seq[8], nonce[12], aad[AAD_LEN];
    size_t body = rl->explicit_nonce + len + DTLSUDP_RL_TAG_LEN;
    uint8_t *ct;
    int n, m;

    if (len > DTLSUDP_RL_MAX_PLAINTEXT)
        return DTLSUDP_ERR_TOO_BIG;
    if (cap < DTLSUDP_RECORD_HEADER_LEN + body)
        return DTLSUDP_ERR_BUFFER;
    /* RFC 6347 4.1: the sequence number must not wrap.  The last one is
     * kept for the close_notify that ends the association. */
    if (rl->wr.seq > DTLSUDP_RL_SEQ_MAX || (rl->wr.seq == DTLSUDP_RL_SEQ_MAX && !final))
        return DTLSUDP_ERR_LIMIT;
    put_epoch_seq(epoch_seq, rl->epoch, rl->wr.seq);
    make_nonce(rl, &rl->wr, epoch_seq, nonce);
    make_aad(aad, epoch_seq, type, rl->version, len);

    eng_record_put_header(out, type, rl->version, rl->epoch, rl->wr.seq, body);
    memcpy(out + DTLSUDP_RECORD_HEADER_LEN, epoch_seq, rl->explicit_nonce);
    ct = out + DTLSUDP_RECORD_HEADER_LEN + rl->explicit_nonce;

    if (EVP_CipherInit_ex2(rl->wr.ctx, NULL, NULL, nonce, 1, NULL) != 1 ||
        EVP_CipherUpdate(rl->wr.ctx, NULL, &n, aad, AAD_LEN) != 1 ||
        (len != 0 && EVP_CipherUpdate(rl->wr.ctx, ct, &n, in, (int)len) != 1) ||
        EVP_CipherFinal_ex(rl->wr.ctx, ct + (len != 0 ? n : 0), &m) != 1 ||
        EVP_CIPHER_CTX_ctrl(rl->wr.ctx, EVP_CTRL_AEAD_GET_TAG, DTLSUDP_RL_TAG_LEN, ct + len) != 1)
        return DTLSUDP_ERR_TLS;
    rl->wr.seq++;
    *out_len = DTLSUDP_RECORD_HEADER_LEN + body;
    return DTLSUDP_OK;
}

int eng_rl_window_check(const eng_rl_dir *rd, uint64_t seq)
{
    uint64_t diff;

    if (seq > rd->seq)
        return 1;
    diff = rd->seq - seq;
    if (diff >= 64)
        return 0; /* left of the window: too old */
    return (rd->window & ((uint64_t)1 << diff)) == 0;
}

void eng_rl_window_mark(eng_rl_dir *rd, uint64_t seq)
{
    uint64_t shift;

    if (seq > rd->seq) {
        shift = seq - rd->seq;
        rd->window = shift >= 64 ? 0 : rd->window << shift;
        rd->window |= 1;
        rd->seq = seq;
    } else if (rd->seq - seq < 64) {
        rd->window |= (uint64_t)1 << (rd->seq - seq);
    }
}

int eng_rl_open(eng_rl *rl, const eng_record *rec, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t epoch_seq[8], nonce[12], aad[AAD_LEN], tag[DTLSUDP_RL_TAG_LEN];
    const uint8_t *ct;
    size_t len;
    int n, m;

    if (rec->epoch != rl->epoch || rec->version != rl->version)
        return DTLSUDP_ERR_DROPPED;
    if (rec->length < rl->explicit_nonce + DTLSUDP_RL_TAG_LEN)
        return DTLSUDP_ERR_DROPPED;
    len = (size_t)rec->length - rl->explicit_nonce - DTLSUDP_RL_TAG_LEN;
    /* RFC 5246 6.2.3: a longer plaintext is a record_overflow; in DTLS the
     * record is just discarded. */
    if (len > DTLSUDP_RL_MAX_PLAINTEXT || len > cap)
        return DTLSUDP_ERR_DROPPED;
    /* The cheap check first; the window moves only once the record is
     * authenticated (RFC 6347 4.1.2.6). */
    if (!eng_rl_window_check(&rl->rd, rec->seq))
        return DTLSUDP_ERR_DROPPED;
    put_epoch_seq(epoch_seq, rec->epoch, rec->seq);
    make_nonce(rl, &rl->rd, rl->explicit_nonce != 0 ? rec->fragment : epoch_seq, nonce);
    make_aad(aad, epoch_seq, rec->content_type, rec->version, len);
    ct = rec->fragment + rl->explicit_nonce;
    memcpy(tag, ct + len, sizeof(tag));

    if (EVP_CipherInit_ex2(rl->rd.ctx, NULL, NULL, nonce, 0, NULL) != 1 ||
        EVP_CipherUpdate(rl->rd.ctx, NULL, &n, aad, AAD_LEN) != 1 ||
        (len != 0 && EVP_CipherUpdate(rl->rd.ctx, out, &n, ct, (int)len) != 1) ||
        EVP_CIPHER_CTX_ctrl(rl->rd.ctx, EVP_CTRL_AEAD_SET_TAG, DTLSUDP_RL_TAG_LEN, tag) != 1 ||
        EVP_CipherFinal_ex(rl->rd.ctx, out + (len != 0 ? n : 0), &m) != 1) {
        /* Authentication failed: whatever was decrypted is garbage. */
        if (len != 0)
            OPENSSL_cleanse(out, len);
        return DTLSUDP_ERR_DROPPED;
    }
    eng_rl_window_mark(&rl->rd, rec->seq);
    *out_len = len;
    return DTLSUDP_OK;
}
