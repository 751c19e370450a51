/*
 * test_handoff.c - established associations without their SSL
 * (handoff.c, recordlayer.c).
 *
 * Differential: for each AEAD suite, one side has handed its keys off and
 * the other is OpenSSL's own record layer (cfg.keep_ssl), both ways round,
 * including sequence numbers at the end of the 48-bit space.  Then the
 * record layer's duties: the replay window, reordering, truncated,
 * corrupted and oversized records, records under another association's
 * keys, alerts and close_notify both ways, the last flight (RFC 6347
 * 4.2.4: the server's after a full handshake, the client's after a
 * resumed one) and sequence numbers that continue OpenSSL's.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine_internal.h"
#include "record.h"
#include "recordlayer.h"
#include "testnet.h"

static tn_net net;

static int setup(void **state)
{
    (void)state;
    tn_init(&net, 24);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tn_free(&net);
    assert_int_equal(tn_leaking_nodes(&net), 0);
    return 0;
}

static dtlsudp_engine_config cfg_for(const char *ciphers, int keep_ssl)
{
    dtlsudp_engine_config cfg;
    dtlsudp_engine_config_init(&cfg);
    cfg.ciphers = ciphers;
    cfg.keep_ssl = keep_ssl;
    cfg.handoff_clients = 1;
    cfg.idle_timeout = DTLSUDP_TIME_NEVER;
    return cfg;
}

static tn_node *server(const dtlsudp_engine_config *cfg)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, cfg);
    assert_non_null(s);
    return s;
}

static tn_node *client(const char *addr, const dtlsudp_engine_config *cfg)
{
    const testcerts *tc = tc_get();
    tn_node *c = tn_add(&net, addr, &tc->client, &tc->ca, cfg);
    assert_non_null(c);
    return c;
}

static int all_established(tn_net *n, void *arg)
{
    int i;
    (void)arg;
    for (i = 0; i < n->n; i++)
        if (n->nodes[i].established < 1)
            return 0;
    return 1;
}

static void connect_all(tn_node *s, tn_node **cs, int n)
{
    int i;
    for (i = 0; i < n; i++)
        assert_non_null(tn_connect(&net, cs[i], s, NULL));
    assert_true(tn_run(&net, all_established, NULL, 400));
}

static void fill(uint8_t *buf, size_t len, unsigned salt)
{
    size_t i;
    for (i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 31u + salt);
}

/* `from' writes len bytes to its peer, which must receive exactly them. */
static void send_and_check(dtlsudp_assoc *from, tn_node *to, size_t len, unsigned salt)
{
    static uint8_t msg[TN_MAX_DGRAM];
    unsigned before = to->data;

    fill(msg, len, salt);
    assert_int_equal(dtlsudp_assoc_write(from, msg, len, tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(to->data, before + 1);
    assert_int_equal(to->last_data_len, len);
    assert_memory_equal(to->last_data, msg, len);
}

/* ------------------------------------------------------------------------
 * Differential against OpenSSL's record layer
 * ------------------------------------------------------------------------ */

static const struct suite {
    const char *ciphers;
    const char *name;
} suites[] = {
    {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
};

static void differential(const struct suite *su, int server_keeps, int client_keeps)
{
    dtlsudp_engine_config sc = cfg_for(su->ciphers, server_keeps), cc = cfg_for(su->ciphers, client_keeps);
    tn_node *s = server(&sc), *c = client("127.0.0.1:41000", &cc);
    dtlsudp_assoc *sa, *ca, *ours;
    tn_node *ours_node, *theirs_node;
    size_t len, max;
    unsigned i;

    connect_all(s, &c, 1);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    ca = dtlsudp_engine_find(c->e, &s->addr);
    assert_string_equal(dtlsudp_assoc_cipher(sa), su->name);
    assert_string_equal(dtlsudp_assoc_cipher(ca), su->name);
    assert_string_equal(dtlsudp_assoc_version(sa), "DTLSv1.2");
    assert_true((dtlsudp_assoc_ssl(sa) != NULL) == server_keeps);
    assert_true((dtlsudp_assoc_ssl(ca) != NULL) == client_keeps);
    assert_non_null(dtlsudp_assoc_peer_cert(sa));
    assert_non_null(dtlsudp_assoc_peer_cert(ca));
    /* the same data MTU as OpenSSL computes for the suite */
    assert_int_equal(dtlsudp_assoc_max_write(sa), dtlsudp_assoc_max_write(ca));
    max = dtlsudp_assoc_max_write(sa);
    assert_int_equal(max, 1500 - 28 - 13 - 16 - (strstr(su->name, "CHACHA") != NULL ? 0 : 8));

    /* every length class, both directions */
    for (i = 0; i < 24; i++) {
        len = i == 0 ? 1 : i == 1 ? max : 1 + (i * 61u) % max;
        send_and_check(ca, s, len, i);
        send_and_check(sa, c, len, i + 100);
    }
    assert_int_equal(dtlsudp_assoc_write(sa, (const uint8_t *)"x", max + 1, tn_clock), DTLSUDP_ERR_TOO_BIG);

    /* The end of the 48-bit space: the last two numbers carry data, the
     * very last one only the close_notify (RFC 6347 4.1: no wrap). */
    ours = server_keeps ? ca : sa;
    ours_node = server_keeps ? c : s;
    theirs_node = server_keeps ? s : c;
    ours->rl.wr.seq = DTLSUDP_RL_SEQ_MAX - 2;
    send_and_check(ours, theirs_node, 100, 7);
    send_and_check(ours, theirs_node, 1, 8);
    assert_int_equal(ours->rl.wr.seq, DTLSUDP_RL_SEQ_MAX);
    assert_int_equal(dtlsudp_assoc_write(ours, (const uint8_t *)"y", 1, tn_clock), DTLSUDP_ERR_CLOSED);
    assert_int_equal(ours_node->closed, 1);
    assert_int_equal(ours_node->last_reason, DTLSUDP_ERR_CLOSED);
    tn_pump(&net);
    /* OpenSSL accepted the close_notify sealed with sequence number 2^48-1 */
    assert_int_equal(theirs_node->closed, 1);
    assert_int_equal(theirs_node->last_reason, DTLSUDP_ERR_CLOSED);
}

static void test_differential_server_ours(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        differential(&suites[i], 0, 1);
        teardown(NULL);
        setup(NULL);
    }
}

static void test_differential_client_ours(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        differential(&suites[i], 1, 0);
        teardown(NULL);
        setup(NULL);
    }
}

/* Both sides ours, far into the sequence space: the numbers of both
 * directions and the window carry all 48 bits. */
static void test_ours_both_ways_high_sequence(void **state)
{
    dtlsudp_engine_config cfg = cfg_for(NULL, 0);
    tn_node *s = server(&cfg), *c = client("127.0.0.1:41001", &cfg);
    dtlsudp_assoc *sa, *ca;

    (void)state;
    connect_all(s, &c, 1);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    ca = dtlsudp_engine_find(c->e, &s->addr);
    assert_null(dtlsudp_assoc_ssl(sa));
    assert_null(dtlsudp_assoc_ssl(ca));
    ca->rl.wr.seq = (UINT64_C(1) << 47) + 5;
    sa->rl.wr.seq = DTLSUDP_RL_SEQ_MAX - 3;
    send_and_check(ca, s, 10, 1);
    send_and_check(sa, c, 10, 2);
    send_and_check(ca, s, 10, 3);
    send_and_check(sa, c, 10, 4);
    assert_int_equal(sa->rl.rd.seq, (UINT64_C(1) << 47) + 6);
    assert_int_equal(ca->rl.rd.seq, DTLSUDP_RL_SEQ_MAX - 2);
}

/* A suite without an AEAD keeps OpenSSL. */
static void test_cbc_suite_keeps_ssl(void **state)
{
    dtlsudp_engine_config cfg = cfg_for("ECDHE-ECDSA-AES128-SHA256", 0);
    tn_node *s = server(&cfg), *c = client("127.0.0.1:41002", &cfg);
    dtlsudp_assoc *sa;

    (void)state;
    connect_all(s, &c, 1);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_non_null(dtlsudp_assoc_ssl(sa));
    assert_int_equal(s->e->handoffs, 0);
    send_and_check(dtlsudp_engine_find(c->e, &s->addr), s, 50, 1);
}

/* Sessions of one peer certificate share one X509 after the hand-off;
 * the identity getters and the revocation check see it as before. */
static void test_peer_certificate_shared(void **state)
{
    dtlsudp_engine_config cfg = cfg_for(NULL, 0);
    tn_node *s = server(&cfg), *cs[3];
    dtlsudp_assoc *a0, *a1, *a2;
    dtlsudp_fingerprint fp, want;

    (void)state;
    cs[0] = client("127.0.0.1:41020", &cfg);
    cs[1] = client("127.0.0.1:41021", &cfg);
    cs[2] = client("127.0.0.1:41022", &cfg);
    connect_all(s, cs, 3);
    a0 = dtlsudp_engine_find(s->e, &cs[0]->addr);
    a1 = dtlsudp_engine_find(s->e, &cs[1]->addr);
    a2 = dtlsudp_engine_find(s->e, &cs[2]->addr);
    assert_non_null(dtlsudp_assoc_peer_cert(a0));
    assert_ptr_equal(dtlsudp_assoc_peer_cert(a0), dtlsudp_assoc_peer_cert(a1));
    assert_ptr_equal(dtlsudp_assoc_peer_cert(a0), dtlsudp_assoc_peer_cert(a2));
    assert_ptr_equal(dtlsudp_assoc_peer_cert(a0), sk_X509_value(dtlsudp_assoc_peer_chain(a0), 0));
    assert_int_equal(dtlsudp_assoc_peer_trust(a1), DTLSUDP_TRUST_CHAIN);
    assert_non_null(strstr(dtlsudp_assoc_cipher(a1), "GCM"));
    assert_int_equal(SSL_CIPHER_is_aead(dtlsudp_assoc_current_cipher(a1)), 1);
    assert_true(dtlsudp_assoc_was_established(a1));
    assert_int_equal(dtlsudp_fingerprint_of(tc_get()->client.cert, 32, &want), DTLSUDP_OK);
    /* the first holder goes; the others keep the certificate */
    dtlsudp_assoc_close(a0, tn_clock);
    tn_pump(&net);
    assert_int_equal(dtlsudp_fingerprint_of(dtlsudp_assoc_peer_cert(a1), 32, &fp), DTLSUDP_OK);
    assert_memory_equal(fp.bytes, want.bytes, 32);
    dtlsudp_assoc_close(a2, tn_clock);
    tn_pump(&net);
    assert_int_equal(dtlsudp_fingerprint_of(dtlsudp_assoc_peer_cert(a1), 32, &fp), DTLSUDP_OK);
    assert_memory_equal(fp.bytes, want.bytes, 32);
    send_and_check(dtlsudp_engine_find(cs[1]->e, &s->addr), s, 30, 1);
}

/* Distinct certificates each keep their own X509 while the table of
 * shared certificates grows under them (one chain, then four). */
static void test_distinct_certificates(void **state)
{
    const testcerts *tc = tc_rsa();
    dtlsudp_engine_config cfg = cfg_for(NULL, 0);
    const tc_pair *ids[5] = {&tc->client, &tc->client2, &tc->rsa_client, &tc->client, &tc->client2};
    tn_node *s = server(&cfg), *cs[5];
    dtlsudp_fingerprint fp, want;
    int i;

    (void)state;
    for (i = 0; i < 5; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "127.0.0.1:%d", 41040 + i);
        cs[i] = tn_add(&net, addr, ids[i], &tc->ca, &cfg);
        assert_non_null(cs[i]);
    }
    connect_all(s, cs, 5);
    assert_int_equal(s->e->n_leaves, 3);
    assert_true(s->e->leaves_mask >= 3);
    for (i = 0; i < 5; i++) {
        dtlsudp_assoc *a = dtlsudp_engine_find(s->e, &cs[i]->addr);
        assert_int_equal(dtlsudp_fingerprint_of(ids[i]->cert, 32, &want), DTLSUDP_OK);
        assert_int_equal(dtlsudp_fingerprint_of(dtlsudp_assoc_peer_cert(a), 32, &fp), DTLSUDP_OK);
        assert_memory_equal(fp.bytes, want.bytes, 32);
    }
    assert_ptr_equal(dtlsudp_assoc_peer_cert(dtlsudp_engine_find(s->e, &cs[0]->addr)),
                     dtlsudp_assoc_peer_cert(dtlsudp_engine_find(s->e, &cs[3]->addr)));
    for (i = 0; i < 5; i++)
        dtlsudp_assoc_close(dtlsudp_engine_find(cs[i]->e, &s->addr), tn_clock);
    tn_pump(&net);
    assert_int_equal(s->e->n_leaves, 0);
    assert_null(s->e->leaves); /* nothing left of it without associations */
}

/* A client's resumable session outlives its SSL: with tickets on, the
 * session taken at ESTABLISHED can still be serialized after the
 * hand-off; without tickets there is none. */
static void test_client_session_survives_handoff(void **state)
{
    dtlsudp_engine_config sc = cfg_for(NULL, 0), keep = cfg_for(NULL, 0), plain = cfg_for(NULL, 0);
    tn_node *s, *cs[2];
    dtlsudp_assoc *a0, *a1;
    uint8_t blob[16384];
    size_t len = 0;

    (void)state;
    sc.session_tickets = 1;
    keep.session_tickets = 1;
    s = server(&sc);
    cs[0] = client("127.0.0.1:41030", &keep);
    cs[1] = client("127.0.0.1:41031", &plain);
    connect_all(s, cs, 2);
    a0 = dtlsudp_engine_find(cs[0]->e, &s->addr);
    a1 = dtlsudp_engine_find(cs[1]->e, &s->addr);
    assert_null(dtlsudp_assoc_ssl(a0));
    assert_null(dtlsudp_assoc_ssl(a1));
    assert_int_equal(dtlsudp_assoc_session(a0, blob, sizeof(blob), &len), DTLSUDP_OK);
    assert_true(len > 0);
    assert_int_equal(dtlsudp_assoc_session(a1, blob, sizeof(blob), &len), DTLSUDP_ERR_AGAIN);
    /* a server never keeps one */
    assert_int_equal(dtlsudp_assoc_session(dtlsudp_engine_find(s->e, &cs[0]->addr), blob, sizeof(blob), &len),
                     DTLSUDP_ERR_AGAIN);
    send_and_check(a0, s, 12, 1);
}

/* ------------------------------------------------------------------------
 * Replay window, reordering, damaged records
 * ------------------------------------------------------------------------ */

#define HOLD_MAX 80

typedef struct hold {
    int active;
    int from; /* node index whose datagrams are held */
    size_t n;
    size_t len[HOLD_MAX];
    uint8_t data[HOLD_MAX][TN_MAX_DGRAM];
} hold;

/* Keep (and do not deliver) what node `from' sends while active. */
static int hold_tap(tn_net *n, tn_packet *p, void *arg)
{
    hold *h = arg;
    if (!h->active || !dtlsudp_addr_equal(&p->from, &n->nodes[h->from].addr) || h->n == HOLD_MAX)
        return 1;
    memcpy(h->data[h->n], p->data, p->len);
    h->len[h->n++] = p->len;
    return 0;
}

static int inject(tn_node *to, tn_node *from, const uint8_t *data, size_t len)
{
    int ret = tn_inject(&net, to, &from->addr, data, len, NULL);
    tn_pump(&net);
    return ret;
}

static void write_n(dtlsudp_assoc *a, unsigned n)
{
    uint8_t msg[32];
    unsigned i;
    for (i = 0; i < n; i++) {
        fill(msg, sizeof(msg), i);
        assert_int_equal(dtlsudp_assoc_write(a, msg, sizeof(msg), tn_clock), DTLSUDP_OK);
    }
    tn_pump(&net);
}

static void test_replay_and_reorder(void **state)
{
    static hold h;
    dtlsudp_engine_config cfg = cfg_for(NULL, 0);
    tn_node *s = server(&cfg), *c = client("127.0.0.1:41003", &cfg);
    dtlsudp_assoc *ca;
    dtlsudp_stats st;
    uint64_t stale;

    (void)state;
    connect_all(s, &c, 1);
    ca = dtlsudp_engine_find(c->e, &s->addr);
    memset(&h, 0, sizeof(h));
    h.from = 1;
    net.tap = hold_tap;
    net.tap_arg = &h;
    h.active = 1;
    write_n(ca, 3);
    h.active = 0;
    assert_int_equal(h.n, 3);
    assert_int_equal(s->data, 0);

    /* reordered: 3, 1, 2 all arrive */
    assert_int_equal(inject(s, c, h.data[2], h.len[2]), DTLSUDP_OK);
    assert_int_equal(inject(s, c, h.data[0], h.len[0]), DTLSUDP_OK);
    assert_int_equal(inject(s, c, h.data[1], h.len[1]), DTLSUDP_OK);
    assert_int_equal(s->data, 3);
    dtlsudp_engine_get_stats(s->e, &st);
    stale = st.dropped_stale;

    /* replayed: each one again is dropped and counted */
    assert_int_equal(inject(s, c, h.data[0], h.len[0]), DTLSUDP_ERR_DROPPED);
    assert_int_equal(inject(s, c, h.data[2], h.len[2]), DTLSUDP_ERR_DROPPED);
    assert_int_equal(s->data, 3);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.dropped_stale, stale + 2);
    assert_int_equal(dtlsudp_assoc_state(dtlsudp_engine_find(s->e, &c->addr)), DTLSUDP_STATE_ESTABLISHED);

    /* Left of the window: one held back while 70 newer ones arrive is
     * too old (RFC 6347 4.1.2.6); the positive control, one held back
     * while 10 arrive, is still accepted. */
    h.n = 0;
    h.active = 1;
    write_n(ca, 2);
    h.active = 0;
    write_n(ca, 70);
    assert_int_equal(s->data, 73);
    assert_int_equal(inject(s, c, h.data[0], h.len[0]), DTLSUDP_ERR_DROPPED);
    h.n = 0;
    h.active = 1;
    write_n(ca, 1);
    h.active = 0;
    write_n(ca, 10);
    assert_int_equal(inject(s, c, h.data[0], h.len[0]), DTLSUDP_OK);
    assert_int_equal(s->data, 73 + 10 + 1);
    net.tap = NULL;
}

static void test_damaged_records(void **state)
{
    static hold h;
    static uint8_t big[DTLSUDP_RECORD_HEADER_LEN + 16384 + 8 + 16 + 1];
    dtlsudp_engine_config cfg = cfg_for(NULL, 0);
    tn_node *s = server(&cfg), *c = client("127.0.0.1:41004", &cfg);
    uint8_t d[TN_MAX_DGRAM];
    size_t len, body;
    dtlsudp_stats st;

    (void)state;
    connect_all(s, &c, 1);
    memset(&h, 0, sizeof(h));
    h.from = 1;
    net.tap = hold_tap;
    net.tap_arg = &h;
    h.active = 1;
    write_n(dtlsudp_engine_find(c->e, &s->addr), 1);
    h.active = 0;
    len = h.len[0];
    assert_true(len > DTLSUDP_RECORD_HEADER_LEN + 24);

    /* one ciphertext bit */
    memcpy(d, h.data[0], len);
    d[len - 20] ^= 0x01;
    assert_int_equal(inject(s, c, d, len), DTLSUDP_ERR_DROPPED);
    /* the tag */
    memcpy(d, h.data[0], len);
    d[len - 1] ^= 0x80;
    assert_int_equal(inject(s, c, d, len), DTLSUDP_ERR_DROPPED);
    /* the sequence number (authenticated data) */
    memcpy(d, h.data[0], len);
    d[10] ^= 0x01;
    assert_int_equal(inject(s, c, d, len), DTLSUDP_ERR_DROPPED);
    /* the content type (authenticated data) */
    memcpy(d, h.data[0], len);
    d[0] = DTLSUDP_CT_HANDSHAKE;
    assert_int_equal(inject(s, c, d, len), DTLSUDP_ERR_DROPPED);
    /* the epoch */
    memcpy(d, h.data[0], len);
    d[4] = 2;
    assert_int_equal(inject(s, c, d, len), DTLSUDP_ERR_DROPPED);
    /* truncated: one byte less, length field adjusted */
    memcpy(d, h.data[0], len);
    body = len - DTLSUDP_RECORD_HEADER_LEN - 1;
    d[11] = (uint8_t)(body >> 8);
    d[12] = (uint8_t)body;
    assert_int_equal(inject(s, c, d, len - 1), DTLSUDP_ERR_DROPPED);
    /* shorter than nonce and tag */
    d[11] = 0;
    d[12] = 10;
    assert_int_equal(inject(s, c, d, DTLSUDP_RECORD_HEADER_LEN + 10), DTLSUDP_ERR_DROPPED);
    /* truncated without adjusting the length: not a record at all */
    assert_int_equal(inject(s, c, h.data[0], len - 1), DTLSUDP_ERR_DROPPED);
    /* oversized: more than 2^14 bytes of plaintext (RFC 5246 6.2.3) */
    memcpy(big, h.data[0], DTLSUDP_RECORD_HEADER_LEN);
    body = sizeof(big) - DTLSUDP_RECORD_HEADER_LEN;
    big[11] = (uint8_t)(body >> 8);
    big[12] = (uint8_t)body;
    assert_int_equal(tn_inject(&net, s, &c->addr, big, sizeof(big), NULL), DTLSUDP_ERR_DROPPED);

    dtlsudp_engine_get_stats(s->e, &st);
    assert_true(st.dropped_stale + st.dropped_malformed >= 9);
    assert_int_equal(s->data, 0);
    /* Positive control: the intact record, which none of the above moved
     * the window past, is accepted. */
    assert_int_equal(inject(s, c, h.data[0], len), DTLSUDP_OK);
    assert_int_equal(s->data, 1);
    assert_int_equal(dtlsudp_assoc_state(dtlsudp_engine_find(s->e, &c->addr)), DTLSUDP_STATE_ESTABLISHED);
    net.tap = NULL;
}

/* A record sealed under one association's keys means nothing to another,
 * even from the right address. */
static void test_other_association_keys(void **state)
{
    static hold h;
    dtlsudp_engine_config cfg = cfg_for(NULL, 0);
    tn_node *s = server(&cfg), *cs[2];

    (void)state;
    cs[0] = client("127.0.0.1:41005", &cfg);
    cs[1] = client("127.0.0.1:41006", &cfg);
    connect_all(s, cs, 2);
    memset(&h, 0, sizeof(h));
    h.from = 2;
    net.tap = hold_tap;
    net.tap_arg = &h;
    h.active = 1;
    write_n(dtlsudp_engine_find(cs[1]->e, &s->addr), 1);
    h.active = 0;
    assert_int_equal(h.n, 1);
    assert_int_equal(inject(s, cs[0], h.data[0], h.len[0]), DTLSUDP_ERR_DROPPED);
    assert_int_equal(s->data, 0);
    assert_int_equal(dtlsudp_assoc_state(dtlsudp_engine_find(s->e, &cs[0]->addr)), DTLSUDP_STATE_ESTABLISHED);
    /* positive control: from its own association it is accepted */
    assert_int_equal(inject(s, cs[1], h.data[0], h.len[0]), DTLSUDP_OK);
    assert_int_equal(s->data, 1);
    send_and_check(dtlsudp_engine_find(cs[0]->e, &s->addr), s, 20, 1);
    net.tap = NULL;
}

/* ------------------------------------------------------------------------
 * Alerts and close_notify
 * ------------------------------------------------------------------------ */

static void test_close_notify_both_ways(void **state)
{
    dtlsudp_engine_config ours = cfg_for(NULL, 0), theirs = cfg_for(NULL, 1);
    tn_node *s = server(&ours), *c1, *c2;
    tn_node *cs[2];
    dtlsudp_stats st;

    (void)state;
    cs[0] = c1 = client("127.0.0.1:41007", &theirs);
    cs[1] = c2 = client("127.0.0.1:41008", &theirs);
    connect_all(s, cs, 2);
    /* ours -> OpenSSL */
    dtlsudp_assoc_close(dtlsudp_engine_find(s->e, &c1->addr), tn_clock);
    tn_pump(&net);
    assert_int_equal(c1->closed, 1);
    assert_int_equal(c1->last_reason, DTLSUDP_ERR_CLOSED);
    /* OpenSSL -> ours */
    dtlsudp_assoc_close(dtlsudp_engine_find(c2->e, &s->addr), tn_clock);
    tn_pump(&net);
    assert_int_equal(s->closed, 2);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_CLOSED);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.closes_sent, 1);
    assert_int_equal(st.closes_received, 1);
    assert_int_equal(st.assocs_now, 0);
}

static void test_alerts(void **state)
{
    dtlsudp_engine_config cfg = cfg_for(NULL, 0);
    tn_node *s = server(&cfg), *cs[3];
    dtlsudp_assoc *ca;
    uint8_t rec[64];
    size_t n;
    dtlsudp_stats st;

    (void)state;
    cs[0] = client("127.0.0.1:41009", &cfg);
    cs[1] = client("127.0.0.1:41010", &cfg);
    cs[2] = client("127.0.0.1:41011", &cfg);
    connect_all(s, cs, 3);

    /* a warning alert changes nothing */
    ca = dtlsudp_engine_find(cs[0]->e, &s->addr);
    assert_int_equal(eng_handoff_send_alert(cs[0]->e, ca, 0, 100), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(s->closed, 0);
    send_and_check(ca, s, 5, 1);

    /* a fatal alert in ends the association with the peer's reason */
    assert_int_equal(eng_handoff_send_alert(cs[0]->e, ca, 1, 40), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_PEER_ALERT);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.alerts_received, 1);

    /* A fatal alert out: an authenticated ChangeCipherSpec after the
     * handshake is an unexpected_message (10), which the peer receives. */
    ca = dtlsudp_engine_find(cs[1]->e, &s->addr);
    assert_int_equal(eng_rl_seal(&ca->rl, DTLSUDP_CT_CHANGE_CIPHER_SPEC, (const uint8_t *)"\1", 1, 0, rec,
                                     sizeof(rec), &n),
                     DTLSUDP_OK);
    assert_int_equal(tn_inject(&net, s, &cs[1]->addr, rec, n, NULL), DTLSUDP_ERR_HANDSHAKE);
    assert_int_equal(s->closed, 2);
    tn_pump(&net);
    assert_int_equal(cs[1]->closed, 1);
    assert_int_equal(cs[1]->last_reason, DTLSUDP_ERR_PEER_ALERT);

    /* a malformed alert is a decode_error (50) */
    ca = dtlsudp_engine_find(cs[2]->e, &s->addr);
    assert_int_equal(eng_rl_seal(&ca->rl, DTLSUDP_CT_ALERT, (const uint8_t *)"\2\50\0", 3, 0, rec, sizeof(rec), &n),
                     DTLSUDP_OK);
    assert_int_equal(tn_inject(&net, s, &cs[2]->addr, rec, n, NULL), DTLSUDP_ERR_HANDSHAKE);
    tn_pump(&net);
    assert_int_equal(cs[2]->closed, 1);
    assert_int_equal(cs[2]->last_reason, DTLSUDP_ERR_PEER_ALERT);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.assocs_now, 0);
}

/* ------------------------------------------------------------------------
 * The handshake's end: last flight, sequence numbers
 * ------------------------------------------------------------------------ */

#define SEEN_MAX 256

typedef struct seen {
    int lose_final; /* drop the server's CCS/Finished while set */
    unsigned lost;
    unsigned client_finished;
    size_t n;
    struct {
        int from;
        uint64_t seq;
        size_t len;
        uint8_t data[TN_MAX_DGRAM];
    } rec[SEEN_MAX];
} seen;

static seen watch;

/* Every epoch-1 record on the wire, by sender and sequence number: a
 * number used twice by one sender must be the very same record (the
 * server's flight sent again), never a second encryption under the same
 * nonce. */
static int seq_tap(tn_net *n, tn_packet *p, void *arg)
{
    seen *w = arg;
    const uint8_t *cur = p->data, *end = p->data + p->len;
    int from = dtlsudp_addr_equal(&p->from, &n->nodes[0].addr) ? 0 : 1;
    int final_flight = 0;
    eng_record r;
    size_t i;

    while (cur != end && eng_record_parse(&cur, end, &r) == 0) {
        if (r.content_type == DTLSUDP_CT_CHANGE_CIPHER_SPEC || (r.epoch == 1 && r.content_type == DTLSUDP_CT_HANDSHAKE))
            final_flight = 1;
        if (from == 1 && r.epoch == 1 && r.content_type == DTLSUDP_CT_HANDSHAKE)
            w->client_finished++;
        if (r.epoch != 1)
            continue;
        for (i = 0; i < w->n; i++)
            if (w->rec[i].from == from && w->rec[i].seq == r.seq) {
                assert_int_equal(w->rec[i].len, (size_t)(cur - (r.fragment - DTLSUDP_RECORD_HEADER_LEN)));
                assert_memory_equal(w->rec[i].data, r.fragment - DTLSUDP_RECORD_HEADER_LEN, w->rec[i].len);
            }
        assert_true(w->n < SEEN_MAX);
        w->rec[w->n].from = from;
        w->rec[w->n].seq = r.seq;
        w->rec[w->n].len = (size_t)(cur - (r.fragment - DTLSUDP_RECORD_HEADER_LEN));
        memcpy(w->rec[w->n].data, r.fragment - DTLSUDP_RECORD_HEADER_LEN, w->rec[w->n].len);
        w->n++;
    }
    if (from == 0 && final_flight && w->lose_final && w->client_finished < 2) {
        w->lost++;
        return 0;
    }
    return 1;
}

static uint64_t max_seq_from(const seen *w, int from)
{
    uint64_t m = 0;
    size_t i;
    for (i = 0; i < w->n; i++)
        if (w->rec[i].from == from && w->rec[i].seq > m)
            m = w->rec[i].seq;
    return m;
}

/* RFC 6347 4.2.4: the server's CCS and Finished are lost; the client
 * sends its last flight again; the handed-off server answers with the
 * kept flight, and the client completes. */
static void last_flight_lost(int client_keeps)
{
    dtlsudp_engine_config sc = cfg_for(NULL, 0), cc = cfg_for(NULL, client_keeps);
    tn_node *s = server(&sc), *c = client("127.0.0.1:41012", &cc);
    dtlsudp_assoc *sa, *ca;
    uint64_t client_hs_max;

    memset(&watch, 0, sizeof(watch));
    watch.lose_final = 1;
    net.tap = seq_tap;
    net.tap_arg = &watch;
    connect_all(s, &c, 1);
    assert_true(watch.lost >= 1);
    assert_true(watch.client_finished >= 2);
    assert_true(s->e->flights_resent >= 1);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    ca = dtlsudp_engine_find(c->e, &s->addr);
    assert_null(dtlsudp_assoc_ssl(sa));
    assert_non_null(sa->last_flight); /* until the client's first record */
    client_hs_max = max_seq_from(&watch, 1);
    assert_true(client_hs_max >= 1); /* the client's Finished went out twice */

    send_and_check(ca, s, 40, 1);
    assert_null(sa->last_flight);
    send_and_check(sa, c, 40, 2);
    /* the client's first record came after its Finished's numbers */
    assert_true(max_seq_from(&watch, 1) > client_hs_max);
    /* a Finished repeated now is stale: nothing is sent again */
    {
        uint64_t resent = s->e->flights_resent;
        size_t i;
        for (i = 0; i < watch.n; i++)
            if (watch.rec[i].from == 1 && watch.rec[i].data[0] == DTLSUDP_CT_HANDSHAKE)
                break;
        assert_true(i < watch.n);
        assert_int_equal(tn_inject(&net, s, &c->addr, watch.rec[i].data, watch.rec[i].len, NULL),
                         DTLSUDP_ERR_DROPPED);
        assert_int_equal(s->e->flights_resent, resent);
    }
    net.tap = NULL;
}

static void test_last_flight_lost_openssl_client(void **state)
{
    (void)state;
    last_flight_lost(1);
}

static void test_last_flight_lost_our_client(void **state)
{
    (void)state;
    last_flight_lost(0);
}

/* Plain handshake: the first records continue from OpenSSL's (seq 1
 * after the Finished at seq 0), for every sender. */
static void test_sequence_continues(void **state)
{
    dtlsudp_engine_config cfg = cfg_for(NULL, 0);
    tn_node *s = server(&cfg), *c = client("127.0.0.1:41013", &cfg);

    (void)state;
    memset(&watch, 0, sizeof(watch));
    net.tap = seq_tap;
    net.tap_arg = &watch;
    connect_all(s, &c, 1);
    assert_int_equal(max_seq_from(&watch, 0), 0);
    assert_int_equal(max_seq_from(&watch, 1), 0);
    send_and_check(dtlsudp_engine_find(c->e, &s->addr), s, 10, 1);
    send_and_check(dtlsudp_engine_find(s->e, &c->addr), c, 10, 2);
    assert_int_equal(max_seq_from(&watch, 0), 1);
    assert_int_equal(max_seq_from(&watch, 1), 1);
    assert_int_equal(s->e->handoffs, 1);
    assert_int_equal(c->e->handoffs, 1);
    net.tap = NULL;
}

/* ------------------------------------------------------------------------
 * Resumed handshakes: the client sends the last flight (RFC 5246 7.3)
 * ------------------------------------------------------------------------ */

typedef struct ccs_drop {
    int from;      /* node index whose flights are watched */
    unsigned left; /* datagrams with a ChangeCipherSpec still to lose */
    unsigned lost;
} ccs_drop;

/* Lose the first `left' datagrams of node `from' that carry a
 * ChangeCipherSpec: its last flight. */
static int ccs_drop_tap(tn_net *n, tn_packet *p, void *arg)
{
    ccs_drop *d = arg;
    const uint8_t *cur = p->data, *end = p->data + p->len;
    eng_record r;

    if (d->left == 0 || !dtlsudp_addr_equal(&p->from, &n->nodes[d->from].addr))
        return 1;
    while (cur != end && eng_record_parse(&cur, end, &r) == 0)
        if (r.content_type == DTLSUDP_CT_CHANGE_CIPHER_SPEC) {
            d->left--;
            d->lost++;
            return 0;
        }
    return 1;
}

struct both {
    tn_node *s, *c;
    unsigned s_est, c_est;
};

static int both_established(tn_net *n, void *arg)
{
    struct both *b = arg;
    (void)n;
    return b->s->established > b->s_est && b->c->established > b->c_est;
}

/* A full handshake leaves a session; the client resumes it while the
 * network loses its first `lose' last flights (CCS + Finished).  The
 * server, which has not completed, repeats its flight on its timer; the
 * client must answer with its own last flight again (RFC 6347 4.2.4),
 * hand-off or not. */
static void resumed_last_flight_lost(int client_keeps, unsigned lose)
{
    dtlsudp_engine_config sc = cfg_for(NULL, 0), cc = cfg_for(NULL, client_keeps);
    tn_node *s, *c;
    dtlsudp_connect_opts opts = {0};
    static uint8_t blob[16384];
    static ccs_drop drop;
    dtlsudp_assoc *ca, *sa;
    struct both b;

    sc.session_tickets = 1;
    cc.session_tickets = 1;
    s = server(&sc);
    c = client("127.0.0.1:41040", &cc);
    connect_all(s, &c, 1);
    ca = dtlsudp_engine_find(c->e, &s->addr);
    assert_int_equal(dtlsudp_assoc_session(ca, blob, sizeof(blob), &opts.session_len), DTLSUDP_OK);
    opts.session = blob;
    dtlsudp_assoc_close(ca, tn_clock);
    tn_pump(&net);
    assert_null(dtlsudp_engine_find(s->e, &c->addr));

    memset(&drop, 0, sizeof(drop));
    drop.from = c->index;
    drop.left = lose;
    net.tap = ccs_drop_tap;
    net.tap_arg = &drop;
    b.s = s;
    b.c = c;
    b.s_est = s->established;
    b.c_est = c->established;
    assert_non_null(ca = tn_connect(&net, c, s, &opts));
    /* written while handshaking: held, sent once established, and no
     * part of the last flight */
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)"held", 4, tn_clock), DTLSUDP_OK);
    assert_true(tn_run(&net, both_established, &b, 400));
    tn_pump(&net);
    assert_int_equal(drop.lost, lose);
    net.tap = NULL;
    assert_ptr_equal(dtlsudp_engine_find(c->e, &s->addr), ca);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_non_null(sa);
    assert_true(dtlsudp_assoc_resumed(ca));
    assert_true(dtlsudp_assoc_resumed(sa));
    assert_int_equal(s->last_data_len, 4);
    assert_memory_equal(s->last_data, "held", 4);
    /* the server received the last flight: it keeps none and hands off */
    assert_null(dtlsudp_assoc_ssl(sa));
    assert_null(sa->last_flight);
    assert_true((dtlsudp_assoc_ssl(ca) != NULL) == client_keeps);
    if (!client_keeps) {
        /* the client keeps its CCS and Finished (one datagram of two
         * records) until the server's first record */
        const uint8_t *p, *end;
        eng_record r;
        unsigned types = 0;
        assert_non_null(ca->last_flight);
        p = ca->last_flight + 2;
        end = ca->last_flight + ca->last_flight_len;
        assert_int_equal(((size_t)ca->last_flight[0] << 8 | ca->last_flight[1]) + 2, ca->last_flight_len);
        while (p != end && eng_record_parse(&p, end, &r) == 0)
            types |= 1u << (r.content_type - DTLSUDP_CT_CHANGE_CIPHER_SPEC);
        assert_ptr_equal(p, end);
        assert_int_equal(types, 1u << 0 | 1u << (DTLSUDP_CT_HANDSHAKE - DTLSUDP_CT_CHANGE_CIPHER_SPEC));
    }
    send_and_check(sa, c, 29, 0);
    if (!client_keeps)
        assert_null(ca->last_flight);
    send_and_check(ca, s, 30, 1);
    send_and_check(sa, c, 30, 2);
    send_and_check(ca, s, 31, 3);
}

static void test_resumed(void **state)
{
    (void)state;
    resumed_last_flight_lost(0, 0);
}

static void test_resumed_last_flight_lost_openssl_client(void **state)
{
    (void)state;
    resumed_last_flight_lost(1, 1);
}

static void test_resumed_last_flight_lost_our_client(void **state)
{
    (void)state;
    resumed_last_flight_lost(0, 1);
}

static void test_resumed_last_flight_lost_twice(void **state)
{
    (void)state;
    resumed_last_flight_lost(0, 2);
}

/* ------------------------------------------------------------------------
 * A peer that never repeats its flights: the server's timed copies
 * ------------------------------------------------------------------------ */

/* OpenSSL's timer of a client that never retransmits (Net-SNMP's built-in
 * client behaves so): longer than the handshake deadline. */
static unsigned int never_cb(SSL *ssl, unsigned int previous_us)
{
    (void)ssl;
    (void)previous_us;
    return 60u * 1000u * 1000u;
}

typedef struct count_tap {
    ccs_drop drop;
    int counting;
    unsigned from_client, from_server;
} count_tap;

static int count_and_drop(tn_net *n, tn_packet *p, void *arg)
{
    count_tap *t = arg;

    if (t->counting) {
        if (dtlsudp_addr_equal(&p->from, &n->nodes[t->drop.from].addr))
            t->from_server++;
        else
            t->from_client++;
    }
    return ccs_drop_tap(n, p, &t->drop);
}

static int client_established(tn_net *n, void *arg)
{
    (void)n;
    return ((tn_node *)arg)->established > 0;
}

/* RFC 6347 4.2.4: the server's CCS + Finished are lost (lose = 1) or not
 * (0), and the client never sends its own flight again.  The server's
 * timed copies complete the handshake; a client that has the flight
 * discards the copies as replays and answers none (no ping-pong), and the
 * copies stop after DTLSUDP_LAST_FLIGHT_COPIES, or at the client's first
 * record. */
static void final_flight_timed(int client_keeps, unsigned lose)
{
    dtlsudp_engine_config sc = cfg_for(NULL, 0), cc = cfg_for(NULL, client_keeps);
    tn_node *s = server(&sc), *c = client("127.0.0.1:41050", &cc);
    static count_tap t;
    dtlsudp_assoc *ca, *sa;
    uint64_t start;

    eng_set_timer_cb(c->e, never_cb);
    memset(&t, 0, sizeof(t));
    t.drop.from = s->index;
    t.drop.left = lose;
    net.tap = count_and_drop;
    net.tap_arg = &t;
    start = tn_clock;
    assert_non_null(ca = tn_connect(&net, c, s, NULL));
    assert_true(tn_run(&net, client_established, c, 200));
    assert_int_equal(t.drop.lost, lose);
    assert_int_equal(s->established, 1);
    assert_int_equal(s->e->flights_resent, lose);
    assert_true(tn_clock - start < sc.handshake_timeout);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_non_null(sa->last_flight);

    /* Five quiet seconds: the rest of the copies, and nothing back. */
    t.counting = 1;
    start = tn_clock;
    while (tn_clock - start < 5000) {
        tn_pump(&net);
        tn_advance(&net, start + 5000);
    }
    tn_pump(&net);
    assert_int_equal(s->e->flights_resent, 4);
    assert_int_equal(t.from_server, 4 - lose);
    assert_int_equal(t.from_client, 0);
    assert_int_equal(c->closed, 0);
    assert_int_equal(s->closed, 0);

    /* kept until the client's first record, which ends it */
    assert_non_null(sa->last_flight);
    send_and_check(ca, s, 20, 1);
    assert_null(sa->last_flight);
    send_and_check(sa, c, 20, 2);
    net.tap = NULL;
}

static void test_final_flight_lost_client_never_repeats(void **state)
{
    (void)state;
    final_flight_timed(1, 1);
}

static void test_final_flight_lost_our_client_never_repeats(void **state)
{
    (void)state;
    final_flight_timed(0, 1);
}

static void test_final_flight_copies_to_a_client_that_has_it(void **state)
{
    (void)state;
    final_flight_timed(1, 0);
}

/* ------------------------------------------------------------------------
 * recordlayer.c alone, known keys
 * ------------------------------------------------------------------------ */

static void test_window_unit(void **state)
{
    eng_rl_dir d = {0};
    (void)state;
    d.seq = 0;
    d.window = 1;
    assert_false(eng_rl_window_check(&d, 0));
    assert_true(eng_rl_window_check(&d, 1));
    eng_rl_window_mark(&d, 100);
    assert_true(eng_rl_window_check(&d, 37));
    assert_false(eng_rl_window_check(&d, 36)); /* 100 - 64 */
    assert_false(eng_rl_window_check(&d, 100));
    eng_rl_window_mark(&d, 37);
    assert_false(eng_rl_window_check(&d, 37));
    assert_true(eng_rl_window_check(&d, 38));
    eng_rl_window_mark(&d, DTLSUDP_RL_SEQ_MAX);
    assert_false(eng_rl_window_check(&d, DTLSUDP_RL_SEQ_MAX));
    assert_true(eng_rl_window_check(&d, DTLSUDP_RL_SEQ_MAX - 1));
    assert_false(eng_rl_window_check(&d, 100));
}

static void test_seal_open_known_key(void **state)
{
    static const int aeads[] = {DTLSUDP_AEAD_AES_128_GCM, DTLSUDP_AEAD_AES_256_GCM,
                                DTLSUDP_AEAD_CHACHA20_POLY1305};
    static const char *const names[] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
    uint8_t k1[32], k2[32], iv1[12], iv2[12], out[256], pt[256];
    eng_rl a, b;
    eng_rl_keys ka, kb;
    eng_record rec;
    const uint8_t *p;
    size_t i, n, m;

    (void)state;
    fill(k1, sizeof(k1), 1);
    fill(k2, sizeof(k2), 2);
    fill(iv1, sizeof(iv1), 3);
    fill(iv2, sizeof(iv2), 4);
    for (i = 0; i < 3; i++) {
        EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, names[i], NULL);
        assert_non_null(cipher);
        memset(&ka, 0, sizeof(ka));
        ka.aead = aeads[i];
        ka.epoch = 1;
        ka.version = 0xfefd;
        ka.next_write_seq = DTLSUDP_RL_SEQ_MAX - 1;
        ka.write_key = k1;
        ka.write_iv = iv1;
        ka.read_key = k2;
        ka.read_iv = iv2;
        kb = ka;
        kb.write_key = k2;
        kb.write_iv = iv2;
        kb.read_key = k1;
        kb.read_iv = iv1;
        assert_int_equal(eng_rl_init(&a, cipher, &ka), DTLSUDP_OK);
        assert_int_equal(eng_rl_init(&b, cipher, &kb), DTLSUDP_OK);
        EVP_CIPHER_free(cipher);
        assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_APPLICATION_DATA, (const uint8_t *)"hello", 5, 0, out,
                                         sizeof(out), &n),
                         DTLSUDP_OK);
        assert_int_equal(n, 5 + eng_rl_overhead(&a));
        p = out;
        assert_int_equal(eng_record_parse(&p, out + n, &rec), 0);
        assert_int_equal(rec.seq, DTLSUDP_RL_SEQ_MAX - 1);
        assert_int_equal(eng_rl_open(&b, &rec, pt, sizeof(pt), &m), DTLSUDP_OK);
        assert_int_equal(m, 5);
        assert_memory_equal(pt, "hello", 5);
        assert_int_equal(eng_rl_open(&b, &rec, pt, sizeof(pt), &m), DTLSUDP_ERR_DROPPED); /* replay */
        /* the reader's own keys do not open it */
        assert_int_equal(eng_rl_open(&a, &rec, pt, sizeof(pt), &m), DTLSUDP_ERR_DROPPED);
        /* the last number: data refused, close_notify allowed, then nothing */
        assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, 0, out,
                                         sizeof(out), &n),
                         DTLSUDP_ERR_LIMIT);
        assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_ALERT, (const uint8_t *)"\1\0", 2, 1, out, sizeof(out), &n),
                         DTLSUDP_OK);
        p = out;
        assert_int_equal(eng_record_parse(&p, out + n, &rec), 0);
        assert_int_equal(rec.seq, DTLSUDP_RL_SEQ_MAX);
        assert_int_equal(eng_rl_open(&b, &rec, pt, sizeof(pt), &m), DTLSUDP_OK);
        assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_ALERT, (const uint8_t *)"\1\0", 2, 1, out, sizeof(out), &n),
                         DTLSUDP_ERR_LIMIT);
        assert_int_equal(eng_rl_seal(&a, DTLSUDP_CT_APPLICATION_DATA, pt, 10, 0, out, 20, &n),
                         DTLSUDP_ERR_BUFFER);
        eng_rl_dispose(&a);
        eng_rl_dispose(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_unit),
        cmocka_unit_test(test_seal_open_known_key),
        cmocka_unit_test_setup_teardown(test_differential_server_ours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_differential_client_ours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ours_both_ways_high_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cbc_suite_keeps_ssl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_certificate_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_session_survives_handoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_distinct_certificates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_and_reorder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_association_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_notify_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_continues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_flight_lost_openssl_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_flight_lost_our_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resumed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resumed_last_flight_lost_openssl_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resumed_last_flight_lost_our_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resumed_last_flight_lost_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_final_flight_lost_client_never_repeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_final_flight_lost_our_client_never_repeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_final_flight_copies_to_a_client_that_has_it, setup, teardown),
    };

    int rc;

    tn_mem_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return rc;
}
