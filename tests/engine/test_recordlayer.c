/*
 * test_recordlayer.c - the record layer of handed-off associations
 * (transport/engine/recordlayer.c): each AEAD's records against an
 * independent construction of RFC 5246 6.2.3.3 / RFC 6347 4.1 with
 * OpenSSL's EVP calls (RFC 5288 3: salt || explicit nonce; RFC 7905 2: IV
 * XOR epoch || sequence), round trips between two roles, and every way
 * eng_rl_open() drops a record without changing its state (tampered,
 * replayed, too old, wrong epoch or version, truncated, oversized), plus
 * seal's limits (TOO_BIG, BUFFER, the last sequence number kept for the
 * close_notify).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "engine_internal.h"
#include "record.h"
#include "recordlayer.h"

static const char *const cipher_names[] = {NULL, "AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};

static EVP_CIPHER *fetch(int aead)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, cipher_names[aead], NULL);
    assert_non_null(c);
    return c;
}

static uint8_t key_a[32], key_b[32], iv_a[12], iv_b[12];

/* a writes with key_a, reads with key_b; b the other way round. */
static void make_pair(int aead, eng_rl *a, eng_rl *b, uint64_t a_next_seq)
{
    EVP_CIPHER *c = fetch(aead);
    eng_rl_keys ka = {aead, 1, 0xfefd, a_next_seq, key_a, iv_a, key_b, iv_b};
    eng_rl_keys kb = {aead, 1, 0xfefd, 1, key_b, iv_b, key_a, iv_a};
    size_t i;

    for (i = 0; i < sizeof(key_a); i++) {
        key_a[i] = (uint8_t)(i + 1);
        key_b[i] = (uint8_t)(0x80 + i);
    }
    for (i = 0; i < sizeof(iv_a); i++) {
        iv_a[i] = (uint8_t)(0x30 + i);
        iv_b[i] = (uint8_t)(0x60 + i);
    }
    assert_int_equal(eng_rl_init(a, c, &ka), DTLSUDP_OK);
    assert_int_equal(eng_rl_init(b, c, &kb), DTLSUDP_OK);
    EVP_CIPHER_free(c); /* the contexts hold their own reference */
}

/* The record RFC 5246 6.2.3.3 describes, built here from scratch. */
static size_t reference_seal(int aead, const uint8_t *key, const uint8_t *iv, uint16_t epoch, uint64_t seq,
                             uint8_t type, const uint8_t *in, size_t len, uint8_t *out)
{
    EVP_CIPHER *c = fetch(aead);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t es[8], nonce[12], aad[13];
    size_t explicit_len = aead == DTLSUDP_AEAD_CHACHA20_POLY1305 ? 0 : 8, body = explicit_len + len + 16;
    int n, i;

    es[0] = (uint8_t)(epoch >> 8);
    es[1] = (uint8_t)epoch;
    for (i = 0; i < 6; i++)
        es[2 + i] = (uint8_t)(seq >> (40 - 8 * i));
    if (explicit_len) { /* RFC 5288 3: salt(4) || nonce_explicit(8), the latter = seq_num */
        memcpy(nonce, iv, 4);
        memcpy(nonce + 4, es, 8);
    } else { /* RFC 7905 2: iv XOR (0^32 || seq_num) */
        memcpy(nonce, iv, 12);
        for (i = 0; i < 8; i++)
            nonce[4 + i] ^= es[i];
    }
    memcpy(aad, es, 8);
    aad[8] = type;
    aad[9] = 0xfe, aad[10] = 0xfd;
    aad[11] = (uint8_t)(len >> 8), aad[12] = (uint8_t)len;

    out[0] = type;
    out[1] = 0xfe, out[2] = 0xfd;
    memcpy(out + 3, es, 8);
    out[11] = (uint8_t)(body >> 8), out[12] = (uint8_t)body;
    memcpy(out + 13, es, explicit_len);
    assert_int_equal(EVP_EncryptInit_ex2(ctx, c, key, nonce, NULL), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, aad, 13), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, out + 13 + explicit_len, &n, in, (int)len), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, out + 13 + explicit_len + len, &n), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + 13 + explicit_len + len), 1);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    return 13 + body;
}

static void test_key_and_iv_lengths(void **state)
{
    (void)state;
    assert_int_equal(eng_rl_key_len(DTLSUDP_AEAD_AES_128_GCM), 16);
    assert_int_equal(eng_rl_key_len(DTLSUDP_AEAD_AES_256_GCM), 32);
    assert_int_equal(eng_rl_key_len(DTLSUDP_AEAD_CHACHA20_POLY1305), 32);
    assert_int_equal(eng_rl_key_len(DTLSUDP_AEAD_NONE), 0);
    assert_int_equal(eng_rl_iv_len(DTLSUDP_AEAD_AES_128_GCM), 4);
    assert_int_equal(eng_rl_iv_len(DTLSUDP_AEAD_AES_256_GCM), 4);
    assert_int_equal(eng_rl_iv_len(DTLSUDP_AEAD_CHACHA20_POLY1305), 12);
    assert_int_equal(eng_rl_iv_len(DTLSUDP_AEAD_NONE), 0);
}

static void test_init_refuses_what_it_cannot_key(void **state)
{
    eng_rl rl;
    EVP_CIPHER *c = fetch(DTLSUDP_AEAD_AES_128_GCM);
    eng_rl_keys k = {DTLSUDP_AEAD_NONE, 1, 0xfefd, 1, key_a, iv_a, key_b, iv_b};

    (void)state;
    assert_int_equal(eng_rl_init(&rl, c, &k), DTLSUDP_ERR_INVALID);
    k.aead = DTLSUDP_AEAD_AES_128_GCM;
    assert_int_equal(eng_rl_init(&rl, NULL, &k), DTLSUDP_ERR_INVALID);
    k.next_write_seq = DTLSUDP_RL_SEQ_MAX + 1;
    assert_int_equal(eng_rl_init(&rl, c, &k), DTLSUDP_ERR_INVALID);
    EVP_CIPHER_free(c);
}

static void check_against_reference(int aead)
{
    eng_rl a, b;
    static const uint8_t msg[] = "the quick brown fox jumps over the lazy dog";
    uint8_t ours[256], ref[256];
    size_t n, m;
    int i;

    make_pair(aead, &a, &b, 5);
    assert_int_equal(eng_rl_overhead(&a), 13 + (aead == DTLSUDP_AEAD_CHACHA20_POLY1305 ? 0 : 8) + 16);
    for (i = 0; i < 3; i++) {
        assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_APPLICATION_DATA, msg, sizeof(msg) - i, 0, ours,
                                         sizeof(ours), &n),
                         DTLSUDP_OK);
        m = reference_seal(aead, key_a, iv_a, 1, 5 + (uint64_t)i, DTLSUDP_CT_APPLICATION_DATA, msg,
                           sizeof(msg) - i, ref);
        assert_int_equal(n, m);
        assert_int_equal(n, sizeof(msg) - i + eng_rl_overhead(&a));
        assert_memory_equal(ours, ref, n);
    }
    /* an empty record (an alert's worth is 2 bytes; 0 is legal too) */
    assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_ALERT, NULL, 0, 0, ours, sizeof(ours), &n), DTLSUDP_OK);
    m = reference_seal(aead, key_a, iv_a, 1, 8, DTLSUDP_CT_ALERT, NULL, 0, ref);
    assert_int_equal(n, m);
    assert_memory_equal(ours, ref, n);
    eng_rl_dispose(&a);
    eng_rl_dispose(&b);
}

static void test_aes128gcm_matches_rfc5288(void **state)
{
    (void)state;
    check_against_reference(DTLSUDP_AEAD_AES_128_GCM);
}

static void test_aes256gcm_matches_rfc5288(void **state)
{
    (void)state;
    check_against_reference(DTLSUDP_AEAD_AES_256_GCM);
}

static void test_chacha20_matches_rfc7905(void **state)
{
    (void)state;
    check_against_reference(DTLSUDP_AEAD_CHACHA20_POLY1305);
}

static int open_dgram(eng_rl *rl, const uint8_t *d, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    const uint8_t *p = d;
    eng_record rec;

    assert_int_equal(eng_record_parse(&p, d + len, &rec), 0);
    return eng_rl_open(rl, &rec, out, cap, out_len);
}

static void round_trip_and_drops(int aead)
{
    eng_rl a, b, before;
    uint8_t rec[256], bad[256], out[256];
    size_t n, len;

    make_pair(aead, &a, &b, 1);
    /* the peer's Finished was sequence 0: the window starts with it seen */
    assert_false(eng_rl_window_check(&b.rd, 0));
    assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_APPLICATION_DATA, (const uint8_t *)"ping", 4, 0, rec, sizeof(rec),
                                     &n),
                     DTLSUDP_OK);
    before = b;

    /* every alteration is dropped and leaves the window as it was */
    memcpy(bad, rec, n);
    bad[n - 1] ^= 1; /* tag */
    assert_int_equal(open_dgram(&b, bad, n, out, sizeof(out), &len), DTLSUDP_ERR_DROPPED);
    memcpy(bad, rec, n);
    bad[n - 17] ^= 1; /* ciphertext */
    assert_int_equal(open_dgram(&b, bad, n, out, sizeof(out), &len), DTLSUDP_ERR_DROPPED);
    memcpy(bad, rec, n);
    bad[0] = DTLSUDP_CT_ALERT; /* the type is authenticated data */
    assert_int_equal(open_dgram(&b, bad, n, out, sizeof(out), &len), DTLSUDP_ERR_DROPPED);
    memcpy(bad, rec, n);
    bad[10] ^= 2; /* the sequence number is authenticated data */
    assert_int_equal(open_dgram(&b, bad, n, out, sizeof(out), &len), DTLSUDP_ERR_DROPPED);
    memcpy(bad, rec, n);
    bad[4] = 2; /* another epoch */
    assert_int_equal(open_dgram(&b, bad, n, out, sizeof(out), &len), DTLSUDP_ERR_DROPPED);
    memcpy(bad, rec, n);
    bad[2] = 0xff; /* DTLS 1.0 */
    assert_int_equal(open_dgram(&b, bad, n, out, sizeof(out), &len), DTLSUDP_ERR_DROPPED);
    {
        /* shorter than nonce + tag */
        uint8_t tiny[13 + 8];
        memcpy(tiny, rec, 13);
        tiny[11] = 0, tiny[12] = 8;
        memset(tiny + 13, 0, 8);
        assert_int_equal(open_dgram(&b, tiny, sizeof(tiny), out, sizeof(out), &len), DTLSUDP_ERR_DROPPED);
    }
    /* no room for the plaintext */
    assert_int_equal(open_dgram(&b, rec, n, out, 3, &len), DTLSUDP_ERR_DROPPED);
    assert_int_equal(b.rd.seq, before.rd.seq);
    assert_true(b.rd.window == before.rd.window);

    /* positive control, then the same record again: a replay */
    assert_int_equal(open_dgram(&b, rec, n, out, sizeof(out), &len), DTLSUDP_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "ping", 4);
    assert_int_equal(b.rd.seq, 1);
    assert_int_equal(open_dgram(&b, rec, n, out, sizeof(out), &len), DTLSUDP_ERR_DROPPED);

    /* the other direction uses the other keys */
    assert_int_equal(eng_rl_seal(&b, DTLSUDP_CT_APPLICATION_DATA, (const uint8_t *)"pong", 4, 0, rec, sizeof(rec),
                                     &n),
                     DTLSUDP_OK);
    assert_int_equal(open_dgram(&b, rec, n, out, sizeof(out), &len), DTLSUDP_ERR_DROPPED); /* not our own */
    assert_int_equal(open_dgram(&a, rec, n, out, sizeof(out), &len), DTLSUDP_OK);
    assert_memory_equal(out, "pong", 4);
    eng_rl_dispose(&a);
    eng_rl_dispose(&b);
}

static void test_round_trip_and_drops_aes128gcm(void **state)
{
    (void)state;
    round_trip_and_drops(DTLSUDP_AEAD_AES_128_GCM);
}

static void test_round_trip_and_drops_chacha20(void **state)
{
    (void)state;
    round_trip_and_drops(DTLSUDP_AEAD_CHACHA20_POLY1305);
}

static void test_reordering_inside_the_window(void **state)
{
    eng_rl a, b;
    static uint8_t recs[70][64];
    size_t lens[70], len;
    uint8_t out[64];
    int i;

    (void)state;
    make_pair(DTLSUDP_AEAD_AES_256_GCM, &a, &b, 1);
    for (i = 0; i < 70; i++)
        assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_APPLICATION_DATA, (const uint8_t *)&i, sizeof(i), 0, recs[i],
                                         sizeof(recs[i]), &lens[i]),
                         DTLSUDP_OK);
    /* the newest first: sequence 70 */
    assert_int_equal(open_dgram(&b, recs[69], lens[69], out, sizeof(out), &len), DTLSUDP_OK);
    /* 7 .. 69 are inside the 64-entry window, 1 .. 6 are too old */
    assert_int_equal(open_dgram(&b, recs[6], lens[6], out, sizeof(out), &len), DTLSUDP_OK);
    assert_int_equal(open_dgram(&b, recs[5], lens[5], out, sizeof(out), &len), DTLSUDP_ERR_DROPPED);
    assert_int_equal(open_dgram(&b, recs[0], lens[0], out, sizeof(out), &len), DTLSUDP_ERR_DROPPED);
    assert_int_equal(open_dgram(&b, recs[40], lens[40], out, sizeof(out), &len), DTLSUDP_OK);
    assert_memory_equal(out, &(int){40}, sizeof(int));
    assert_int_equal(open_dgram(&b, recs[40], lens[40], out, sizeof(out), &len), DTLSUDP_ERR_DROPPED);
    eng_rl_dispose(&a);
    eng_rl_dispose(&b);
}

static void test_seal_limits(void **state)
{
    eng_rl a, b;
    static uint8_t big[DTLSUDP_RL_MAX_PLAINTEXT + 1], out[DTLSUDP_RL_MAX_PLAINTEXT + 64];
    size_t n;

    (void)state;
    make_pair(DTLSUDP_AEAD_AES_128_GCM, &a, &b, DTLSUDP_RL_SEQ_MAX - 1);
    /* 2^14 is the most one record carries (RFC 5246 6.2.1) */
    assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_APPLICATION_DATA, big, sizeof(big), 0, out, sizeof(out), &n),
                     DTLSUDP_ERR_TOO_BIG);
    /* a buffer one byte short of the record */
    assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_APPLICATION_DATA, big, 10, 0, out, 10 + eng_rl_overhead(&a) - 1,
                                     &n),
                     DTLSUDP_ERR_BUFFER);
    assert_true(a.wr.seq == DTLSUDP_RL_SEQ_MAX - 1); /* nothing used */
    assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_APPLICATION_DATA, big, DTLSUDP_RL_MAX_PLAINTEXT, 0, out,
                                     sizeof(out), &n),
                     DTLSUDP_OK);
    /* the last number is only for the close_notify (RFC 6347 4.1: no wrap) */
    assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_APPLICATION_DATA, big, 1, 0, out, sizeof(out), &n),
                     DTLSUDP_ERR_LIMIT);
    assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_ALERT, (const uint8_t *)"\1\0", 2, 1, out, sizeof(out), &n),
                     DTLSUDP_OK);
    assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_ALERT, (const uint8_t *)"\1\0", 2, 1, out, sizeof(out), &n),
                     DTLSUDP_ERR_LIMIT);
    eng_rl_dispose(&a);
    eng_rl_dispose(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_and_iv_lengths),
        cmocka_unit_test(test_init_refuses_what_it_cannot_key),
        cmocka_unit_test(test_aes128gcm_matches_rfc5288),
        cmocka_unit_test(test_aes256gcm_matches_rfc5288),
        cmocka_unit_test(test_chacha20_matches_rfc7905),
        cmocka_unit_test(test_round_trip_and_drops_aes128gcm),
        cmocka_unit_test(test_round_trip_and_drops_chacha20),
        cmocka_unit_test(test_reordering_inside_the_window),
        cmocka_unit_test(test_seal_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
