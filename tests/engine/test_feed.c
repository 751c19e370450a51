/*
 * test_feed.c - one association's traffic (transport/engine/feed.c): a
 * datagram fed through an association (the handshake step and the
 * ESTABLISHED transition, plaintext records to the receive queue with a
 * DATA event, records that fail dropped and counted as stale, the peer's
 * close_notify, a refused certificate) and the application's writes
 * (argument and state checks, the size limit, a handshaking client's
 * writes held and sent in order at ESTABLISHED, least-recently-active
 * order, one close_notify, the end of the sequence numbers).  Record
 * paths are run both handed off and with OpenSSL kept (keep_ssl).
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
#include "testnet.h"

static tn_net net;

static int setup(void **state)
{
    (void)state;
    tn_init(&net, 9);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tn_free(&net);
    assert_int_equal(tn_leaking_nodes(&net), 0);
    return 0;
}

static dtlsudp_engine_config config(int keep_ssl)
{
    dtlsudp_engine_config cfg;
    dtlsudp_engine_config_init(&cfg);
    cfg.keep_ssl = keep_ssl;
    return cfg;
}

static tn_node *node(const char *addr, const tc_pair *id, const dtlsudp_engine_config *cfg)
{
    tn_node *n = tn_add(&net, addr, id, &tc_get()->ca, cfg);
    assert_non_null(n);
    return n;
}

static dtlsudp_stats stats(tn_node *n)
{
    dtlsudp_stats st;
    assert_int_equal(dtlsudp_engine_get_stats(n->e, &st), DTLSUDP_OK);
    return st;
}

static size_t drain(tn_node *n)
{
    uint8_t buf[TN_MAX_DGRAM];
    size_t len, count = 0;
    while (dtlsudp_engine_pop(n->e, buf, sizeof(buf), &len, NULL, NULL, NULL) == DTLSUDP_OK)
        count++;
    return count;
}

static int client_established(tn_net *n, void *arg)
{
    (void)n;
    return ((tn_node *)arg)->established >= 1;
}

/* c connects to s and both finish; returns c's association. */
static dtlsudp_assoc *establish(tn_node *s, tn_node *c)
{
    dtlsudp_assoc *ca = tn_connect(&net, c, s, NULL);

    assert_non_null(ca);
    assert_true(tn_run(&net, client_established, c, 200));
    (void)tn_pump(&net);
    assert_non_null(dtlsudp_engine_find(s->e, &c->addr));
    return ca;
}

/* Bad arguments are INVALID, more than one record's worth is TOO_BIG
 * (exactly the limit goes out), a server handshake cannot write yet: and
 * none of them sends anything. */
static void test_write_refusals(void **state)
{
    static uint8_t big[4096];
    dtlsudp_engine_config cfg = config(0);
    tn_node *s = node("127.0.0.1:10161", &tc_get()->server, &cfg), *c = node("127.0.0.1:49000", &tc_get()->client, &cfg);
    tn_node *c2 = node("127.0.0.1:49002", &tc_get()->client, &cfg);
    dtlsudp_assoc *ca = establish(s, c), *sa = NULL;
    size_t max = dtlsudp_assoc_max_write(ca), len;
    uint8_t hello[TN_MAX_DGRAM];

    (void)state;
    assert_true(max > 1000 && max < sizeof(big));
    assert_int_equal(dtlsudp_assoc_write(NULL, big, 1, tn_clock), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_assoc_write(ca, NULL, 1, tn_clock), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_assoc_write(ca, big, 0, tn_clock), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_assoc_write(ca, big, max + 1, tn_clock), DTLSUDP_ERR_TOO_BIG);
    assert_int_equal(drain(c), 0);
    assert_int_equal(dtlsudp_assoc_write(ca, big, max, tn_clock), DTLSUDP_OK);
    assert_int_equal(drain(c), 1);

    len = tn_cookie_hello(&net, c2, s, hello, sizeof(hello));
    assert_int_equal(tn_inject(&net, s, &c2->addr, hello, len, &sa), DTLSUDP_OK);
    (void)drain(s);
    assert_int_equal(dtlsudp_assoc_write(sa, big, 10, tn_clock), DTLSUDP_ERR_STATE);
    assert_int_equal(drain(s), 0);
}

/* The size limit: nothing without an association; before the cipher is
 * known, the link MTU less IP/UDP, record header and AEAD overhead; once
 * established, what the record layer in use says. */
static void test_max_write(void **state)
{
    dtlsudp_engine_config kept = config(1), handed = config(0);
    tn_node *s = node("127.0.0.1:10161", &tc_get()->server, &kept), *c = node("127.0.0.1:49000", &tc_get()->client, &kept);
    tn_node *c2 = node("127.0.0.1:49002", &tc_get()->client, &handed);
    dtlsudp_addr v6 = tn_addr("[::1]:9"), v4 = tn_addr("127.0.0.1:9");
    dtlsudp_assoc *a = NULL, *ca;

    (void)state;
    assert_int_equal(dtlsudp_assoc_max_write(NULL), 0);
    assert_int_equal(dtlsudp_engine_connect(c2->e, &v4, NULL, tn_clock, &a), DTLSUDP_OK);
    assert_int_equal(dtlsudp_assoc_max_write(a), 1500 - 28 - 13 - 8 - 16);
    assert_int_equal(dtlsudp_engine_connect(c2->e, &v6, NULL, tn_clock, &a), DTLSUDP_OK);
    assert_int_equal(dtlsudp_assoc_max_write(a), 1280 - 48 - 13 - 8 - 16);
    (void)drain(c2);

    ca = establish(s, c);
    assert_non_null(ca->ssl);
    assert_int_equal(dtlsudp_assoc_max_write(ca), DTLS_get_data_mtu(ca->ssl));
    ca = establish(s, c2);
    assert_null(ca->ssl);
    assert_true(ca->handed_off);
    assert_int_equal(dtlsudp_assoc_max_write(ca), ca->data_mtu);
    assert_int_equal(ca->data_mtu, 1500 - 28 - 13 - 8 - 16); /* AES-GCM */
}

/* A handshaking client's writes are held (up to max_queued_datagrams),
 * then sent in order right after ESTABLISHED, which moves the server
 * association from the half-open count to the established list. */
static void test_held_writes_sent_in_order_at_established(void **state)
{
    dtlsudp_engine_config cfg = config(0);
    tn_node *s, *c;
    dtlsudp_assoc *ca, *sa;
    uint8_t buf[64];
    size_t len;
    char msg[16];

    (void)state;
    cfg.max_queued_datagrams = 3;
    s = node("127.0.0.1:10161", &tc_get()->server, &cfg);
    c = node("127.0.0.1:49000", &tc_get()->client, &cfg);
    s->no_read = 1;
    ca = tn_connect(&net, c, s, NULL);
    assert_non_null(ca);
    for (int i = 0; i < 3; i++) {
        snprintf(msg, sizeof(msg), "held %d", i);
        assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)msg, strlen(msg), tn_clock), DTLSUDP_OK);
    }
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)"four", 4, tn_clock), DTLSUDP_ERR_QUEUE_FULL);
    assert_int_equal(ca->held.count, 3);

    assert_true(tn_run(&net, client_established, c, 200));
    (void)tn_pump(&net);
    assert_int_equal(ca->held.count, 0);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_non_null(sa);
    assert_int_equal(s->established, 1);
    assert_int_equal(stats(s).handshakes_completed, 1);
    assert_int_equal(stats(s).half_open_now, 0);
    assert_int_equal(s->e->established, 1);
    assert_ptr_equal(ASSOC_OF(s->e->est_list.next), sa);
    assert_int_equal(s->data, 3);
    for (int i = 0; i < 3; i++) {
        snprintf(msg, sizeof(msg), "held %d", i);
        assert_int_equal(dtlsudp_assoc_read(sa, buf, sizeof(buf), &len), DTLSUDP_OK);
        assert_int_equal(len, strlen(msg));
        assert_memory_equal(buf, msg, len);
    }
    assert_int_equal(dtlsudp_assoc_read(sa, buf, sizeof(buf), &len), DTLSUDP_ERR_AGAIN);
}

/* A handshaking client's repeated write is its application's retry timer:
 * its current flight (the ClientHello) goes out again at once, byte for
 * byte; the first write alone sends nothing. */
static void test_repeated_held_write_resends_flight(void **state)
{
    dtlsudp_engine_config cfg = config(0);
    tn_node *c = node("127.0.0.1:49000", &tc_get()->client, &cfg);
    dtlsudp_addr nobody = tn_addr("127.0.0.1:9");
    dtlsudp_assoc *ca = NULL;
    uint8_t hello[TN_MAX_DGRAM], again[TN_MAX_DGRAM];
    size_t len, len2;

    (void)state;
    assert_int_equal(dtlsudp_engine_connect(c->e, &nobody, NULL, tn_clock, &ca), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_pop(c->e, hello, sizeof(hello), &len, NULL, NULL, NULL), DTLSUDP_OK);
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)"get", 3, tn_clock), DTLSUDP_OK);
    assert_int_equal(drain(c), 0);
    tn_clock += cfg.retransmit_initial;
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)"get", 3, tn_clock), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_pop(c->e, again, sizeof(again), &len2, NULL, NULL, NULL), DTLSUDP_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(again, hello, len);
    assert_int_equal(ca->held.count, 2);
}

/* Data in and data out make an association the most recently active
 * (the tail of the established list), with the time of the call. */
static void test_traffic_moves_association_to_lru_tail(void **state)
{
    static const uint8_t msg[] = "ping";
    dtlsudp_engine_config cfg = config(0);
    tn_node *s = node("127.0.0.1:10161", &tc_get()->server, &cfg);
    tn_node *c1 = node("127.0.0.1:49001", &tc_get()->client, &cfg), *c2 = node("127.0.0.1:49002", &tc_get()->client, &cfg);
    dtlsudp_assoc *c1a = establish(s, c1), *s1, *s2;

    (void)state;
    (void)establish(s, c2);
    s1 = dtlsudp_engine_find(s->e, &c1->addr);
    s2 = dtlsudp_engine_find(s->e, &c2->addr);
    assert_ptr_equal(ASSOC_OF(s->e->est_list.next), s1);
    assert_ptr_equal(ASSOC_OF(s->e->est_list.prev), s2);

    tn_clock += 500;
    assert_int_equal(dtlsudp_assoc_write(c1a, msg, sizeof(msg), tn_clock), DTLSUDP_OK);
    (void)tn_pump(&net);
    assert_int_equal(s->data, 1);
    assert_ptr_equal(ASSOC_OF(s->e->est_list.prev), s1);
    assert_int_equal(s1->last_activity, tn_clock);

    tn_clock += 500;
    assert_int_equal(dtlsudp_assoc_write(s2, msg, sizeof(msg), tn_clock), DTLSUDP_OK);
    assert_ptr_equal(ASSOC_OF(s->e->est_list.prev), s2);
    assert_int_equal(s2->last_activity, tn_clock);
}

/* A record that fails (replayed, damaged) is dropped and counted as
 * stale, the association stays; the peer's close_notify ends it. */
static void run_records_classified(int keep_ssl)
{
    static const uint8_t msg[] = "genuine";
    dtlsudp_engine_config cfg = config(keep_ssl);
    tn_node *s = node("127.0.0.1:10161", &tc_get()->server, &cfg), *c = node("127.0.0.1:49000", &tc_get()->client, &cfg);
    dtlsudp_assoc *ca = establish(s, c), *sa = dtlsudp_engine_find(s->e, &c->addr), *out = NULL;
    uint8_t rec[TN_MAX_DGRAM], bad[TN_MAX_DGRAM];
    size_t len;

    assert_int_equal(sa->handed_off, !keep_ssl);
    assert_int_equal(dtlsudp_assoc_write(ca, msg, sizeof(msg), tn_clock), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_pop(c->e, rec, sizeof(rec), &len, NULL, NULL, NULL), DTLSUDP_OK);
    assert_int_equal(rec[0], DTLSUDP_CT_APPLICATION_DATA);
    memcpy(bad, rec, len);
    bad[len - 1] ^= 0x01;
    assert_int_equal(tn_inject(&net, s, &c->addr, bad, len, &out), DTLSUDP_ERR_DROPPED);
    assert_ptr_equal(out, sa);
    assert_int_equal(tn_inject(&net, s, &c->addr, rec, len, NULL), DTLSUDP_OK);
    assert_int_equal(s->data, 1);
    assert_memory_equal(s->last_data, msg, sizeof(msg));
    assert_int_equal(tn_inject(&net, s, &c->addr, rec, len, NULL), DTLSUDP_ERR_DROPPED);
    assert_int_equal(s->data, 1);
    assert_int_equal(stats(s).dropped_stale, 2);
    assert_int_equal(dtlsudp_assoc_state(sa), DTLSUDP_STATE_ESTABLISHED);

    eng_assoc_send_close_notify(c->e, ca);
    eng_assoc_send_close_notify(c->e, ca); /* once only */
    assert_int_equal(stats(c).closes_sent, 1);
    assert_int_equal(dtlsudp_engine_pop(c->e, rec, sizeof(rec), &len, NULL, NULL, NULL), DTLSUDP_OK);
    assert_int_equal(drain(c), 0);
    assert_int_equal(tn_inject(&net, s, &c->addr, rec, len, &out), DTLSUDP_ERR_CLOSED);
    assert_null(out);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_CLOSED);
    assert_int_equal(stats(s).closes_received, 1);
    assert_null(dtlsudp_engine_find(s->e, &c->addr));
}

static void test_records_classified_handed_off(void **state)
{
    (void)state;
    run_records_classified(0);
}

static void test_records_classified_kept_ssl(void **state)
{
    (void)state;
    run_records_classified(1);
}

/* A handshake fails with its reason: the server that refused the
 * certificate with PEER_CERT, the client that got the alert with
 * PEER_ALERT; neither is established. */
static void test_handshake_failure_reasons(void **state)
{
    tn_node *s = node("127.0.0.1:10161", &tc_get()->server, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:49000", &tc_get()->wrong_client, &tc_get()->ca, NULL);

    (void)state;
    assert_non_null(c);
    assert_non_null(tn_connect(&net, c, s, NULL));
    (void)tn_run(&net, NULL, NULL, 20);
    assert_int_equal(s->established + c->established, 0);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_PEER_CERT);
    assert_int_equal(stats(s).cert_refused, 1);
    assert_int_equal(c->closed, 1);
    assert_int_equal(c->last_reason, DTLSUDP_ERR_PEER_ALERT);
    assert_int_equal(stats(c).alerts_received, 1);
}

/* A newcomer that authenticated but finds no established slot is told
 * with a close_notify right after its handshake: no ESTABLISHED event,
 * so it was never established for the application (CLOSED with LIMIT,
 * dtlsudp_assoc_was_established() 0 inside it); for the peer it was, so
 * a late copy of its hello is dropped as stale, not answered. */
static void test_refused_newcomer_never_established(void **state)
{
    dtlsudp_engine_config cfg = config(0);
    tn_node *s, *c1, *c2;
    uint8_t hello[TN_MAX_DGRAM];
    size_t len;

    (void)state;
    cfg.max_assocs = 2; /* one established slot, one for a handshake */
    cfg.max_half_open = 1;
    cfg.evict_idle_when_full = 0;
    s = node("127.0.0.1:10161", &tc_get()->server, &cfg);
    c1 = node("127.0.0.1:49001", &tc_get()->client, &cfg);
    c2 = node("127.0.0.1:49002", &tc_get()->client, &cfg);
    (void)establish(s, c1);
    assert_int_equal(s->established, 1);

    len = tn_cookie_hello(&net, c2, s, hello, sizeof(hello));
    assert_int_equal(tn_inject(&net, s, &c2->addr, hello, len, NULL), DTLSUDP_OK);
    (void)tn_run(&net, NULL, NULL, 10);
    assert_int_equal(s->established, 1);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_LIMIT);
    assert_false(s->last_was_established);
    assert_int_equal(stats(s).refused_full, 1);
    assert_int_equal(stats(s).closes_sent, 1);
    assert_int_equal(c2->closed, 1);
    assert_int_equal(c2->last_reason, DTLSUDP_ERR_CLOSED);
    assert_true(c2->last_was_established);

    (void)drain(s);
    assert_int_equal(tn_inject(&net, s, &c2->addr, hello, len, NULL), DTLSUDP_ERR_DROPPED);
    assert_int_equal(stats(s).dropped_stale, 1);
    assert_int_equal(drain(s), 0);
}

/* A handed-off association whose sequence numbers are used up closes at
 * the next write, with a close_notify on the last number. */
static void test_sequence_numbers_exhausted(void **state)
{
    static const uint8_t msg[] = "one too many";
    tn_node *s = node("127.0.0.1:10161", &tc_get()->server, NULL), *c = node("127.0.0.1:49000", &tc_get()->client, NULL);
    dtlsudp_assoc *ca = establish(s, c);

    (void)state;
    assert_true(ca->handed_off);
    ca->rl.wr.seq = DTLSUDP_RL_SEQ_MAX;
    assert_int_equal(dtlsudp_assoc_write(ca, msg, sizeof(msg), tn_clock), DTLSUDP_ERR_CLOSED);
    assert_int_equal(c->closed, 1);
    assert_int_equal(c->last_reason, DTLSUDP_ERR_CLOSED);
    assert_int_equal(stats(c).closes_sent, 1);
    (void)tn_pump(&net);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->data, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_writes_sent_in_order_at_established, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_held_write_resends_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traffic_moves_association_to_lru_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_records_classified_handed_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_records_classified_kept_ssl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake_failure_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_newcomer_never_established, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_numbers_exhausted, setup, teardown),
    };
    int ret = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return ret;
}
