/*
 * test_flood.c - the engine under hostile or unlucky conditions:
 *   - a flood of cookie-less and bad-cookie ClientHellos from thousands of
 *     addresses costs zero allocations (engine allocator and OpenSSL's,
 *     counted through CRYPTO_set_mem_functions) and one
 *     HelloVerifyRequest each, while real clients still connect;
 *   - allocation failure at every engine allocation site: the engine
 *     returns an error, leaks nothing, and keeps serving other peers;
 *   - open/close cycles for a time budget, memory back to baseline.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "engine_internal.h"
#include "record.h"
#include "testnet.h"

static tn_net net;

static int setup(void **state)
{
    (void)state;
    tn_init(&net, 99);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tn_free(&net);
    assert_int_equal(tn_leaking_nodes(&net), 0);
    return 0;
}

static dtlsudp_addr flood_addr(unsigned i)
{
    char text[40];
    snprintf(text, sizeof(text), "10.%u.%u.%u:%u", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 1024 + i % 60000);
    return tn_addr(text);
}

/* Exactly one datagram queued: a HelloVerifyRequest to `to', sent
 * statelessly (assoc NULL). */
static void expect_one_hvr(tn_node *s, const dtlsudp_addr *to)
{
    uint8_t buf[TN_MAX_DGRAM];
    size_t len;
    dtlsudp_addr peer;
    dtlsudp_assoc *a = (dtlsudp_assoc *)&a;

    assert_int_equal(dtlsudp_engine_pop(s->e, buf, sizeof(buf), &len, &peer, NULL, &a), DTLSUDP_OK);
    assert_null(a);
    assert_true(dtlsudp_addr_equal(&peer, to));
    assert_true(len > 13 + 12);
    assert_int_equal(buf[0], 22);
    assert_int_equal(buf[13], 3); /* hello_verify_request */
    assert_int_equal(dtlsudp_engine_pop(s->e, buf, sizeof(buf), &len, &peer, NULL, &a), DTLSUDP_ERR_AGAIN);
}

static int clients_established(tn_net *n, void *arg)
{
    (void)arg;
    return n->nodes[1].established >= 1 && n->nodes[2].established >= 1;
}

static void test_hello_flood(void **state)
{
    const testcerts *tc = tc_get();
    const unsigned N = 5000;
    tn_node *s, *c1, *c2, *ghost;
    uint8_t hello[TN_MAX_DGRAM], hello_cookie[TN_MAX_DGRAM], buf[TN_MAX_DGRAM];
    size_t hlen, clen, len;
    unsigned long allocs0;
    long long bytes0, ossl0;
    dtlsudp_stats st0, st;
    dtlsudp_addr from;
    unsigned i;

    (void)state;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    c1 = tn_add(&net, "127.0.0.1:52001", &tc->client, &tc->ca, NULL);
    c2 = tn_add(&net, "127.0.0.1:52002", &tc->client2, &tc->ca, NULL);
    ghost = tn_add(&net, "127.0.0.1:52003", &tc->client, &tc->ca, NULL);
    assert_non_null(s);

    /* A real cookie-less ClientHello, and one carrying a cookie that is
     * valid only for the ghost's address. */
    assert_non_null(tn_connect(&net, ghost, s, NULL));
    assert_int_equal(dtlsudp_engine_pop(ghost->e, hello, sizeof(hello), &hlen, NULL, NULL, NULL), DTLSUDP_OK);
    assert_int_equal(tn_inject(&net, s, &ghost->addr, hello, hlen, NULL), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_pop(s->e, buf, sizeof(buf), &len, NULL, NULL, NULL), DTLSUDP_OK);
    assert_int_equal(tn_inject(&net, ghost, &s->addr, buf, len, NULL), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_pop(ghost->e, hello_cookie, sizeof(hello_cookie), &clen, NULL, NULL, NULL),
                     DTLSUDP_OK);
    assert_true(eng_record_is_client_hello(hello_cookie, clen, NULL));
    assert_true(clen > hlen); /* it carries the cookie */
    tn_drop_node(&net, ghost);

    /* Phase 1: the flood alone.  Nothing is allocated per peer. */
    dtlsudp_engine_get_stats(s->e, &st0);
    allocs0 = s->alloc.total;
    bytes0 = s->alloc.live_bytes;
    ossl0 = tn_ossl_live_bytes();
    for (i = 0; i < N; i++) {
        from = flood_addr(i);
        assert_int_equal(tn_inject(&net, s, &from, hello, hlen, NULL), DTLSUDP_OK);
        expect_one_hvr(s, &from);
        from = flood_addr(N + i);
        assert_int_equal(tn_inject(&net, s, &from, hello_cookie, clen, NULL), DTLSUDP_OK);
        expect_one_hvr(s, &from);
    }
    assert_int_equal(s->alloc.total, allocs0);
    assert_int_equal(s->alloc.live_bytes, bytes0);
    assert_int_equal(tn_ossl_live_bytes(), ossl0);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.cookies_sent - st0.cookies_sent, 2 * N);
    assert_int_equal(st.cookies_bad - st0.cookies_bad, N);
    assert_int_equal(st.cookies_verified, 0);
    assert_int_equal(st.handshakes_started, 0);
    assert_int_equal(st.assocs_now, 0);
    assert_int_equal(st.half_open_now, 0);
    printf("# flood: %u cookie-less + %u bad-cookie ClientHellos: %lu engine allocations, "
           "%lld OpenSSL live bytes change, %llu HelloVerifyRequests\n",
           N, N, s->alloc.total - allocs0, tn_ossl_live_bytes() - ossl0,
           (unsigned long long)(st.cookies_sent - st0.cookies_sent));

    /* Phase 2: real clients connect through the same flood. */
    assert_non_null(tn_connect(&net, c1, s, NULL));
    assert_non_null(tn_connect(&net, c2, s, NULL));
    for (i = 0; i < 400 && !clients_established(&net, NULL); i++) {
        unsigned k;
        for (k = 0; k < 50; k++) {
            from = flood_addr(2 * N + i * 50 + k);
            assert_int_equal(tn_inject(&net, s, &from, k % 2 ? hello : hello_cookie, k % 2 ? hlen : clen, NULL),
                             DTLSUDP_OK);
        }
        if (tn_pump(&net) == 0)
            tn_advance(&net, tn_clock + 1000);
    }
    assert_true(clients_established(&net, NULL));
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.assocs_now, 2);
    assert_int_equal(st.cookies_verified, 2);
    assert_int_equal(st.handshakes_completed, 2);
}

/* --- allocation failure --- */

static void test_alloc_failure_engine_new(void **state)
{
    dtlsudp_engine_config cfg;
    dtlsudp_engine *e;
    tn_alloc al;
    unsigned long k;
    int ret;

    (void)state;
    for (k = 1; k < 100; k++) {
        memset(&al, 0, sizeof(al));
        al.fail_at = k;
        dtlsudp_engine_config_init(&cfg);
        cfg.allocator = tn_allocator(&al);
        e = NULL;
        ret = dtlsudp_engine_new(&cfg, 0, &e);
        if (al.failures == 0) {
            assert_int_equal(ret, DTLSUDP_OK);
            dtlsudp_engine_free(e);
            break;
        }
        assert_int_equal(ret, DTLSUDP_ERR_NOMEM);
        assert_null(e);
        assert_int_equal(al.live_count, 0);
    }
    assert_true(k > 3); /* engine, tables, queue, scratch... */
    assert_int_equal(al.live_count, 0);
}

static int settled(tn_net *n, void *arg)
{
    tn_node *a = &n->nodes[0], *b = &n->nodes[*(int *)arg];
    return (a->established + a->closed >= 1) && (b->established + b->closed >= 1);
}

/* One scenario with the k-th engine allocation (counted from now) of
 * `victim' failing: a handshake with pins and hostname, data both ways,
 * held client data.  Returns the number of failures injected. */
static unsigned long failing_run(int victim_is_server, unsigned long k)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c, *c2, *victim;
    dtlsudp_fingerprint fp;
    dtlsudp_connect_opts opts;
    dtlsudp_engine_config cfg;
    dtlsudp_assoc *ca, *sa;
    unsigned long failures;
    int idx = 1;
    static const char msg[] = "data under memory pressure";

    tn_init(&net, k);
    dtlsudp_engine_config_init(&cfg);
    cfg.idle_timeout = DTLSUDP_TIME_NEVER;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &cfg);
    c = tn_add(&net, "127.0.0.1:53001", &tc->client, &tc->ca, &cfg);
    c2 = tn_add(&net, "127.0.0.1:53002", &tc->client2, &tc->ca, &cfg);
    assert_non_null(c2);
    victim = victim_is_server ? s : c;
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(s->e, &(dtlsudp_fingerprint){.len = 20}), DTLSUDP_OK);
    victim->alloc.fail_at = victim->alloc.total + k;

    assert_int_equal(dtlsudp_fingerprint_of(tc->server.cert, 32, &fp), DTLSUDP_OK);
    memset(&opts, 0, sizeof(opts));
    opts.peer_fingerprints = &fp;
    opts.n_peer_fingerprints = 1;
    opts.hostname = "server.example.com";
    ca = NULL;
    if (dtlsudp_engine_connect(c->e, &s->addr, &opts, tn_clock, &ca) == DTLSUDP_OK) {
        (void)dtlsudp_assoc_write(ca, (const uint8_t *)msg, sizeof(msg), tn_clock); /* held */
        tn_run(&net, settled, &idx, 300);
        tn_pump(&net);
        ca = dtlsudp_engine_find(c->e, &s->addr);
        sa = dtlsudp_engine_find(s->e, &c->addr);
        if (ca != NULL && sa != NULL && dtlsudp_assoc_state(ca) == DTLSUDP_STATE_ESTABLISHED &&
            dtlsudp_assoc_state(sa) == DTLSUDP_STATE_ESTABLISHED) {
            (void)dtlsudp_assoc_write(ca, (const uint8_t *)msg, sizeof(msg), tn_clock);
            (void)dtlsudp_assoc_write(sa, (const uint8_t *)msg, sizeof(msg), tn_clock);
            tn_pump(&net);
            tn_pump(&net);
        }
    }
    failures = victim->alloc.failures;

    /* The engine keeps serving: another client gets in. */
    victim->alloc.fail_at = 0;
    idx = 2;
    assert_non_null(tn_connect(&net, c2, s, NULL));
    assert_true(tn_run(&net, settled, &idx, 300));
    assert_int_equal(c2->established, 1);

    tn_free(&net);
    assert_int_equal(tn_leaking_nodes(&net), 0);
    return failures;
}

static void test_alloc_failure_every_site(void **state)
{
    int side;

    (void)state;
    for (side = 0; side < 2; side++) {
        unsigned long k, sites = 0;
        for (k = 1; k < 500; k++) {
            if (failing_run(side, k) == 0)
                break;
            sites++;
        }
        assert_true(k < 500);
        assert_true(sites >= 2);
        printf("# allocation failure: %s side, %lu allocation points failed one at a time\n",
               side ? "server" : "client", sites);
    }
}

/* OpenSSL's own allocations failing, one at a time (every `stride'-th
 * allocation of a handshake with data and close): the engine reports,
 * frees what it holds, and keeps serving.  Returns failures injected. */
static unsigned long failing_ossl_run(unsigned long k)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c, *c2;
    dtlsudp_engine_config cfg;
    dtlsudp_assoc *ca, *sa;
    unsigned long failures;
    int idx = 1;
    static const char msg[] = "data under memory pressure";

    tn_init(&net, k);
    dtlsudp_engine_config_init(&cfg);
    cfg.idle_timeout = DTLSUDP_TIME_NEVER;
    cfg.handshake_timeout = 5000;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &cfg);
    c = tn_add(&net, "127.0.0.1:53101", &tc->client, &tc->ca, &cfg);
    c2 = tn_add(&net, "127.0.0.1:53102", &tc->client2, &tc->ca, &cfg);
    assert_non_null(c2);
    tn_ossl_fail_at(k);
    ca = NULL;
    if (dtlsudp_engine_connect(c->e, &s->addr, NULL, tn_clock, &ca) == DTLSUDP_OK) {
        tn_run(&net, settled, &idx, 300);
        tn_pump(&net);
        ca = dtlsudp_engine_find(c->e, &s->addr);
        sa = dtlsudp_engine_find(s->e, &c->addr);
        if (ca != NULL && sa != NULL && dtlsudp_assoc_state(ca) == DTLSUDP_STATE_ESTABLISHED &&
            dtlsudp_assoc_state(sa) == DTLSUDP_STATE_ESTABLISHED) {
            (void)dtlsudp_assoc_write(ca, (const uint8_t *)msg, sizeof(msg), tn_clock);
            (void)dtlsudp_assoc_write(sa, (const uint8_t *)msg, sizeof(msg), tn_clock);
            tn_pump(&net);
            tn_pump(&net);
            dtlsudp_assoc_close(ca, tn_clock);
            tn_pump(&net);
        }
    }
    failures = tn_ossl_fail_at(0);

    idx = 2;
    assert_non_null(tn_connect(&net, c2, s, NULL));
    assert_true(tn_run(&net, settled, &idx, 300));
    assert_int_equal(c2->established, 1);
    tn_free(&net);
    assert_int_equal(tn_leaking_nodes(&net), 0);
    return failures;
}

static void test_ossl_alloc_failure(void **state)
{
    const char *env = getenv("DTLSUDP_OSSL_FAIL_STRIDE");
    unsigned long stride = env != NULL ? strtoul(env, NULL, 10) : 13, k, runs = 0;

    (void)state;
    if (stride == 0)
        stride = 1;
    for (k = 1; k < 100000; k += stride) {
        if (failing_ossl_run(k) == 0)
            break;
        runs++;
    }
    assert_true(runs > 10);
    printf("# OpenSSL allocation failure: %lu runs, every %lu-th of ~%lu allocations failed in turn\n", runs,
           stride, k);
}

/* --- open/close cycles --- */

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_open_close_cycles(void **state)
{
    const testcerts *tc = tc_get();
    const char *env = getenv("DTLSUDP_CYCLE_SECONDS");
    double budget = env != NULL ? atof(env) : 3.0, t0;
    tn_node *s, *c;
    long long engine0 = 0, ossl0 = 0;
    unsigned long cycles = 0;
    dtlsudp_stats st;
    static const char msg[] = "one message per association";

    (void)state;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    c = tn_add(&net, "127.0.0.1:54000", &tc->client, &tc->ca, NULL);
    t0 = mono_seconds();
    while (cycles < 100000 && (cycles < 20 || mono_seconds() - t0 < budget)) {
        dtlsudp_assoc *ca;
        unsigned closed = s->closed;
        int r;
        assert_non_null(ca = tn_connect(&net, c, s, NULL));
        for (r = 0; r < 50 && c->established == cycles; r++)
            tn_pump(&net);
        assert_int_equal(c->established, cycles + 1);
        assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)msg, sizeof(msg), tn_clock), DTLSUDP_OK);
        dtlsudp_assoc_close(ca, tn_clock);
        for (r = 0; r < 50 && s->closed == closed; r++)
            tn_pump(&net);
        assert_int_equal(s->closed, closed + 1);
        cycles++;
        if (cycles == 10) {
            /* baseline once the listen SSL and buffers exist */
            engine0 = s->alloc.live_bytes + c->alloc.live_bytes;
            ossl0 = tn_ossl_live_bytes();
        }
    }
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.handshakes_completed, cycles);
    assert_int_equal(st.closes_received, cycles);
    assert_int_equal(st.assocs_now, 0);
    assert_int_equal(s->alloc.live_bytes + c->alloc.live_bytes, engine0);
    assert_int_equal(tn_ossl_live_bytes(), ossl0);
    printf("# open/close cycles: %lu in %.1f s (handshake, one message, close_notify), memory back to "
           "baseline\n",
           cycles, mono_seconds() - t0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_flood, setup, teardown),
        cmocka_unit_test(test_alloc_failure_engine_new),
        cmocka_unit_test(test_alloc_failure_every_site),
        cmocka_unit_test(test_ossl_alloc_failure),
        cmocka_unit_test_setup_teardown(test_open_close_cycles, setup, teardown),
    };
    int rc;

    tn_mem_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return rc;
}
