/*
 * fuzz_record_open.c - the record opener of handed-off associations
 * (transport/engine/recordlayer.c) with known keys.
 *
 * A writer and a reader share fixed keys, so the fuzzer reaches both the
 * authenticated path (records the harness seals, then maybe damages) and
 * the rejecting one (records it makes up).  Contract checked:
 *   - a made-up or damaged record never opens (no forgery by mutation);
 *   - an intact record opens exactly when the replay window says its
 *     number is new, with the plaintext that was sealed, and is refused
 *     the second time;
 *   - a refused record leaves the window as it was;
 *   - the window's top is the highest number ever accepted.
 *
 * Input: aead(1) window_top(6) window_bits(8), then operations:
 *   0x00 seal:  type(1) seq(6) len(2) plaintext(len) damage_pos(2) damage_xor(1)
 *   other raw:  len(2) bytes(len) -- parsed as records and opened
 */
#include "config.h"

#include <string.h>

#include "fuzz_common.h"
#include "record.h"
#include "recordlayer.h"

static uint64_t u48(fz_in *in)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < 6; i++)
        v = (v << 8) | fz_u8(in);
    return v;
}

static uint64_t u64(fz_in *in)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < 8; i++)
        v = (v << 8) | fz_u8(in);
    return v;
}

/* Open every record of buf; returns how many opened. */
static int open_all(eng_rl *rd, const uint8_t *buf, size_t len, const uint8_t *expect, size_t expect_len)
{
    static uint8_t out[DTLSUDP_RL_MAX_PLAINTEXT + 256];
    const uint8_t *p = buf, *end = buf + len;
    eng_record rec;
    int opened = 0;

    while (p != end && eng_record_parse(&p, end, &rec) == 0) {
        eng_rl_dir before = rd->rd;
        int fresh = eng_rl_window_check(&rd->rd, rec.seq);
        size_t n = 0;
        if (eng_rl_open(rd, &rec, out, sizeof(out), &n) == DTLSUDP_OK) {
            opened++;
            FZ_CHECK(fresh);
            FZ_CHECK(n + eng_rl_overhead(rd) == (size_t)rec.length + DTLSUDP_RECORD_HEADER_LEN);
            FZ_CHECK(!eng_rl_window_check(&rd->rd, rec.seq));
            FZ_CHECK(rd->rd.seq == (rec.seq > before.seq ? rec.seq : before.seq));
            if (expect != NULL) {
                FZ_CHECK(n == expect_len);
                FZ_CHECK(n == 0 || memcmp(out, expect, n) == 0);
            }
            /* a second time: replay */
            FZ_CHECK(eng_rl_open(rd, &rec, out, sizeof(out), &n) == DTLSUDP_ERR_DROPPED);
        } else {
            FZ_CHECK(rd->rd.seq == before.seq && rd->rd.window == before.window);
        }
    }
    return opened;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int aeads[] = {DTLSUDP_AEAD_AES_128_GCM, DTLSUDP_AEAD_AES_256_GCM,
                                DTLSUDP_AEAD_CHACHA20_POLY1305};
    static const char *const names[] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
    static EVP_CIPHER *ciphers[3];
    static uint8_t sealed[DTLSUDP_RL_MAX_PLAINTEXT + 256];
    static const uint8_t key[32] = "dtlsudp known key for fuzzing!!", iv[12] = "fixed iv 12";
    fz_in in = {data, data + size};
    eng_rl w, r;
    eng_rl_keys k;
    int which = fz_u8(&in) % 3;

    if (ciphers[which] == NULL)
        ciphers[which] = EVP_CIPHER_fetch(NULL, names[which], NULL);
    FZ_CHECK(ciphers[which] != NULL);
    memset(&k, 0, sizeof(k));
    k.aead = aeads[which];
    k.epoch = 1;
    k.version = 0xfefd;
    k.next_write_seq = 1;
    k.write_key = k.read_key = key;
    k.write_iv = k.read_iv = iv;
    FZ_CHECK(eng_rl_init(&w, ciphers[which], &k) == DTLSUDP_OK);
    FZ_CHECK(eng_rl_init(&r, ciphers[which], &k) == DTLSUDP_OK);
    r.rd.seq = u48(&in);
    r.rd.window = u64(&in) | 1; /* the top is always seen */

    while (fz_left(&in) > 0) {
        uint8_t op = fz_u8(&in);
        if (op == 0) {
            uint8_t type = (uint8_t)(20 + fz_u8(&in) % 4);
            uint64_t seq = u48(&in);
            size_t want = fz_u16(&in) % (DTLSUDP_RL_MAX_PLAINTEXT + 2), got = 0, n = 0;
            const uint8_t *pt = fz_bytes(&in, want, &got);
            uint16_t pos = fz_u16(&in);
            uint8_t x = fz_u8(&in);
            int ret;

            w.wr.seq = seq;
            ret = eng_rl_seal(&w, type, pt, got, 1, sealed, sizeof(sealed), &n);
            FZ_CHECK(ret == DTLSUDP_OK || (ret == DTLSUDP_ERR_LIMIT && seq > DTLSUDP_RL_SEQ_MAX));
            if (ret != DTLSUDP_OK)
                continue;
            FZ_CHECK(n == got + eng_rl_overhead(&w));
            if (x != 0) {
                /* Damaged anywhere (a header change may leave no record
                 * at all): nothing opens. */
                sealed[pos % n] ^= x;
                FZ_CHECK(open_all(&r, sealed, n, NULL, 0) == 0);
            } else {
                int fresh = eng_rl_window_check(&r.rd, seq);
                FZ_CHECK(open_all(&r, sealed, n, pt, got) == (fresh ? 1 : 0));
            }
        } else {
            size_t want = fz_u16(&in), got = 0;
            const uint8_t *raw = fz_bytes(&in, want, &got);
            /* made-up bytes never authenticate */
            FZ_CHECK(open_all(&r, raw, got, NULL, 0) == 0);
        }
    }
    eng_rl_dispose(&w);
    eng_rl_dispose(&r);
    return 0;
}
