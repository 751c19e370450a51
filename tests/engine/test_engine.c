/*
 * test_engine.c - the association engine end to end: two engines on the
 * in-memory network.  Handshake through the cookie gate, data both ways,
 * output queue, events, timers, caps, idle expiry, close.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine_internal.h"
#include "record.h"
#include "testnet.h"

static tn_net net;

static int setup(void **state)
{
    (void)state;
    tn_init(&net, 42);
    return 0;
}

static int teardown(void **state)
{
    int i;
    (void)state;
    tn_free(&net);
    for (i = 0; i < net.n; i++) {
        /* Every engine allocation was returned. */
        assert_int_equal(net.nodes[i].alloc.live_bytes, 0);
        assert_int_equal(net.nodes[i].alloc.live_count, 0);
    }
    return 0;
}

static tn_node *server_node(const dtlsudp_engine_config *cfg)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, cfg);
    assert_non_null(s);
    return s;
}

static tn_node *client_node(const char *addr, const dtlsudp_engine_config *cfg)
{
    const testcerts *tc = tc_get();
    tn_node *c = tn_add(&net, addr, &tc->client, &tc->ca, cfg);
    assert_non_null(c);
    return c;
}

static int both_established(tn_net *n, void *arg)
{
    (void)arg;
    return n->nodes[0].established >= 1 && n->nodes[1].established >= 1;
}

static void handshake(tn_node *s, tn_node *c)
{
    dtlsudp_assoc *ca = tn_connect(&net, c, s, NULL);
    assert_non_null(ca);
    assert_int_equal(dtlsudp_assoc_state(ca), DTLSUDP_STATE_HANDSHAKING);
    assert_true(dtlsudp_assoc_is_client(ca));
    assert_true(tn_run(&net, both_established, NULL, 200));
}

static void test_handshake_and_data(void **state)
{
    tn_node *s, *c;
    dtlsudp_assoc *sa, *ca;
    dtlsudp_stats st;
    static const char ping[] = "ping from client", pong[] = "pong from server";

    (void)state;
    s = server_node(NULL);
    c = client_node("127.0.0.1:40000", NULL);
    handshake(s, c);

    ca = dtlsudp_engine_find(c->e, &s->addr);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_non_null(ca);
    assert_non_null(sa);
    assert_int_equal(dtlsudp_assoc_state(sa), DTLSUDP_STATE_ESTABLISHED);
    assert_false(dtlsudp_assoc_is_client(sa));
    assert_string_equal(dtlsudp_assoc_version(sa), "DTLSv1.2");
    assert_non_null(strstr(dtlsudp_assoc_cipher(sa), "GCM"));
    assert_non_null(dtlsudp_assoc_peer_cert(sa));
    assert_non_null(dtlsudp_assoc_peer_cert(ca));
    assert_true(dtlsudp_addr_equal(dtlsudp_assoc_peer(sa), &c->addr));
    assert_true(dtlsudp_assoc_id(sa) != 0);
    assert_ptr_equal(dtlsudp_assoc_engine(sa), s->e);
    /* 1500 link MTU - 28 IP/UDP - 13 header - 8 nonce - 16 tag. */
    assert_int_equal(dtlsudp_assoc_max_write(sa), 1435);

    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)ping, sizeof(ping), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(s->data, 1);
    assert_int_equal(s->last_data_len, sizeof(ping));
    assert_memory_equal(s->last_data, ping, sizeof(ping));

    assert_int_equal(dtlsudp_assoc_write(sa, (const uint8_t *)pong, sizeof(pong), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(c->data, 1);
    assert_memory_equal(c->last_data, pong, sizeof(pong));

    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.cookies_sent, 1);
    assert_int_equal(st.cookies_verified, 1);
    assert_int_equal(st.cookies_bad, 0);
    assert_int_equal(st.handshakes_started, 1);
    assert_int_equal(st.handshakes_completed, 1);
    assert_int_equal(st.assocs_now, 1);
    assert_int_equal(st.half_open_now, 0);
    assert_true(st.datagrams_in >= 3);
    assert_true(st.bytes_out > 0);

    /* close_notify: sent once, tears the peer down. */
    dtlsudp_assoc_close(ca, tn_clock);
    assert_int_equal(c->closed, 1);
    assert_int_equal(c->last_reason, DTLSUDP_ERR_CLOSED);
    tn_pump(&net);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_CLOSED);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.closes_received, 1);
    assert_int_equal(st.assocs_now, 0);
    dtlsudp_engine_get_stats(c->e, &st);
    assert_int_equal(st.closes_sent, 1);
    assert_null(dtlsudp_engine_find(s->e, &c->addr));
}

static void test_held_write_and_too_big(void **state)
{
    tn_node *s, *c;
    dtlsudp_assoc *ca, *sa;
    uint8_t big[1500];
    static const char early[] = "written before the handshake completed";

    (void)state;
    s = server_node(NULL);
    c = client_node("127.0.0.1:40001", NULL);
    ca = tn_connect(&net, c, s, NULL);
    assert_non_null(ca);
    /* A handshaking client holds data until the handshake completes. */
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)early, sizeof(early), tn_clock), DTLSUDP_OK);
    assert_true(tn_run(&net, both_established, NULL, 200));
    tn_pump(&net);
    assert_int_equal(s->data, 1);
    assert_memory_equal(s->last_data, early, sizeof(early));

    /* OpenSSL would send one oversized record; the engine refuses. */
    memset(big, 'x', sizeof(big));
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_int_equal(dtlsudp_assoc_write(sa, big, dtlsudp_assoc_max_write(sa) + 1, tn_clock), DTLSUDP_ERR_TOO_BIG);
    assert_int_equal(dtlsudp_assoc_write(sa, big, dtlsudp_assoc_max_write(sa), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(c->last_data_len, dtlsudp_assoc_max_write(sa));
}

static void test_ipv6(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c;
    dtlsudp_assoc *sa;

    (void)state;
    s = tn_add(&net, "[::1]:10161", &tc->server, &tc->ca, NULL);
    c = tn_add(&net, "[::1]:40002", &tc->client, &tc->ca, NULL);
    assert_non_null(s);
    assert_non_null(c);
    handshake(s, c);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_non_null(sa);
    /* 1280 link MTU - 48 IP/UDP - 37 record overhead. */
    assert_int_equal(dtlsudp_assoc_max_write(sa), 1280 - 48 - 37);
}

static void test_pop_buffer_too_small(void **state)
{
    tn_node *s, *c;
    uint8_t small[8], buf[2048];
    size_t len;
    dtlsudp_addr peer;
    dtlsudp_assoc *a = (dtlsudp_assoc *)&a;

    (void)state;
    s = server_node(NULL);
    c = client_node("127.0.0.1:40003", NULL);
    (void)s;
    assert_non_null(tn_connect(&net, c, s, NULL));
    assert_int_equal(dtlsudp_engine_pop(c->e, small, sizeof(small), &len, &peer, NULL, &a), DTLSUDP_ERR_BUFFER);
    assert_int_equal(dtlsudp_engine_pop(c->e, buf, sizeof(buf), &len, &peer, NULL, &a), DTLSUDP_OK);
    assert_true(dtlsudp_record_is_client_hello(buf, len, NULL));
    assert_non_null(a);
    assert_int_equal(dtlsudp_engine_pop(c->e, buf, sizeof(buf), &len, &peer, NULL, &a), DTLSUDP_ERR_AGAIN);
}

/* Drop the first `arg' datagrams the server sends. */
static int drop_first_from_server(tn_net *n, tn_packet *p, void *arg)
{
    unsigned *left = arg;
    if (dtlsudp_addr_equal(&p->from, &n->nodes[0].addr) && *left > 0) {
        (*left)--;
        return 0;
    }
    return 1;
}

static void test_retransmission(void **state)
{
    tn_node *s, *c;
    unsigned drop = 2; /* the HelloVerifyRequest is stateless: lost, the client resends its hello */
    uint64_t t0, next;
    dtlsudp_stats st;

    (void)state;
    s = server_node(NULL);
    c = client_node("127.0.0.1:40004", NULL);
    net.tap = drop_first_from_server;
    net.tap_arg = &drop;
    t0 = tn_clock;
    assert_non_null(tn_connect(&net, c, s, NULL));
    /* The client's retransmission deadline is OpenSSL's timer (shortened
     * to 100 ms by the test hook), well before the handshake deadline. */
    next = dtlsudp_engine_next_timeout(c->e);
    assert_int_equal(next, t0 + 100);
    assert_true(tn_run(&net, both_established, NULL, 200));
    assert_int_equal(drop, 0);
    assert_true(tn_clock > t0);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.handshakes_completed, 1);
    assert_true(st.cookies_sent >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_and_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_write_and_too_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pop_buffer_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retransmission, setup, teardown),
    };
    int rc;

    tn_mem_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return rc;
}
