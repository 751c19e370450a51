/*
 * test_lossy.c - handshakes and data over a lossy in-memory network: 0, 10
 * and 30 % loss each way, with duplicates and reordering, several seeds,
 * bounded rounds.  Retransmission is OpenSSL's (driven through
 * handle_timeout on the fake clock).
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
#include "testnet.h"

#define MESSAGES 20

static tn_net net;

static int both_established(tn_net *n, void *arg)
{
    (void)arg;
    return n->nodes[0].established >= 1 && n->nodes[1].established >= 1;
}

static void one_run(unsigned loss, unsigned dup, unsigned reorder, uint64_t seed)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;
    tn_node *s, *c;
    dtlsudp_assoc *sa, *ca;
    dtlsudp_stats ss, cs;
    char msg[64];
    int i;

    tn_init(&net, seed);
    dtlsudp_engine_config_init(&cfg);
    cfg.handshake_timeout = 60000;
    cfg.idle_timeout = DTLSUDP_TIME_NEVER; /* tn_run jumps the clock far */
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &cfg);
    c = tn_add(&net, "127.0.0.1:51000", &tc->client, &tc->ca, &cfg);
    assert_non_null(s);
    assert_non_null(c);
    s->loss_pct = loss;
    c->loss_pct = loss;
    net.dup_pct = dup;
    net.reorder_pct = reorder;

    assert_non_null(tn_connect(&net, c, s, NULL));
    if (!tn_run(&net, both_established, NULL, 3000))
        fail_msg("loss %u%% dup %u%% reorder %u%% seed %llu: no handshake", loss, dup, reorder,
                 (unsigned long long)seed);
    /* The client may complete before the server's last flight is all in:
     * let retransmissions settle. */
    tn_run(&net, NULL, NULL, 20);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    ca = dtlsudp_engine_find(c->e, &s->addr);
    assert_non_null(sa);
    assert_non_null(ca);
    for (i = 0; i < MESSAGES; i++) {
        int n = snprintf(msg, sizeof(msg), "message %d", i);
        assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)msg, (size_t)n, tn_clock), DTLSUDP_OK);
        assert_int_equal(dtlsudp_assoc_write(sa, (const uint8_t *)msg, (size_t)n, tn_clock), DTLSUDP_OK);
        tn_pump(&net);
    }
    tn_pump(&net);
    tn_pump(&net);
    /* DTLS does not recover lost data; it must never duplicate it. */
    assert_true(s->data <= MESSAGES);
    assert_true(c->data <= MESSAGES);
    if (loss == 0 && dup == 0) {
        assert_int_equal(s->data, MESSAGES);
        assert_int_equal(c->data, MESSAGES);
    } else {
        assert_true(s->data > 0);
        assert_true(c->data > 0);
    }
    dtlsudp_engine_get_stats(s->e, &ss);
    dtlsudp_engine_get_stats(c->e, &cs);
    assert_int_equal(ss.handshakes_completed, 1);
    assert_int_equal(cs.handshakes_completed, 1);
    assert_int_equal(ss.assocs_now, 1);
    if (dup != 0 && net.duplicated > 0)
        assert_true(ss.dropped_stale + cs.dropped_stale > 0 || s->data + c->data < 2 * MESSAGES);
    if (loss >= 10)
        assert_true(net.lost > 0);
    if (dup >= 50)
        assert_true(net.duplicated > 0);
    tn_free(&net);
    assert_int_equal(s->alloc.live_count, 0);
    assert_int_equal(c->alloc.live_count, 0);
}

static void test_no_loss(void **state)
{
    (void)state;
    one_run(0, 0, 0, 1);
}

static void test_loss_10(void **state)
{
    uint64_t seed;
    (void)state;
    for (seed = 1; seed <= 8; seed++)
        one_run(10, 10, 20, seed);
}

static void test_loss_30(void **state)
{
    uint64_t seed;
    (void)state;
    for (seed = 1; seed <= 8; seed++)
        one_run(30, 10, 20, seed * 7919);
}

static void test_duplicates_only(void **state)
{
    uint64_t seed;
    (void)state;
    for (seed = 1; seed <= 4; seed++)
        one_run(0, 50, 50, seed * 31);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_loss),
        cmocka_unit_test(test_loss_10),
        cmocka_unit_test(test_loss_30),
        cmocka_unit_test(test_duplicates_only),
    };
    int rc;

    tn_mem_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return rc;
}
