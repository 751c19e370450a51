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
    tn_init(&net, 42);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tn_free(&net);
    assert_int_equal(tn_leaking_nodes(&net), 0);
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
    assert_true(eng_record_is_client_hello(buf, len, NULL));
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

/* Room for `max_established' established associations: max_assocs keeps
 * max_half_open slots as headroom for handshakes. */
static dtlsudp_engine_config small_cfg(size_t max_established, int evict)
{
    dtlsudp_engine_config cfg;
    dtlsudp_engine_config_init(&cfg);
    cfg.max_assocs = max_established + 1;
    cfg.max_half_open = 1;
    cfg.evict_idle_when_full = evict;
    cfg.idle_timeout = DTLSUDP_TIME_NEVER; /* the test jumps the clock far */
    return cfg;
}

static int all_clients_established(tn_net *n, void *arg)
{
    int i, want = *(int *)arg;
    for (i = 1; i <= want; i++)
        if (n->nodes[i].established < 1)
            return 0;
    return 1;
}

static void test_full_table_refuses(void **state)
{
    dtlsudp_engine_config cfg = small_cfg(2, 0);
    tn_node *s, *c[3];
    dtlsudp_stats st;
    int two = 2, i;

    (void)state;
    s = server_node(&cfg);
    for (i = 0; i < 3; i++) {
        char addr[40];
        snprintf(addr, sizeof(addr), "127.0.0.%d:4100%d", 2 + i, i);
        c[i] = client_node(addr, &cfg);
    }
    /* One after the other: one half-open slot. */
    assert_non_null(tn_connect(&net, c[0], s, NULL));
    assert_true(tn_run(&net, all_clients_established, &(int){1}, 200));
    assert_non_null(tn_connect(&net, c[1], s, NULL));
    assert_true(tn_run(&net, all_clients_established, &two, 200));
    assert_non_null(tn_connect(&net, c[2], s, NULL));
    tn_run(&net, NULL, NULL, 50);
    /* c[2] authenticated, found no room and was told at once (close_notify
     * right after its handshake), instead of being left to time out. */
    assert_int_equal(c[2]->closed, 1);
    assert_int_equal(c[2]->last_reason, DTLSUDP_ERR_CLOSED);
    assert_int_equal(s->established, 2);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.assocs_now, 2);
    assert_true(st.refused_full >= 1);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(c[0]->closed + c[1]->closed, 0);
}

static void test_full_table_evicts_oldest_idle(void **state)
{
    dtlsudp_engine_config cfg = small_cfg(2, 1);
    tn_node *s, *c[3];
    dtlsudp_stats st;
    dtlsudp_assoc *a1;
    int two = 2, i;
    static const char hi[] = "hi";

    (void)state;
    s = server_node(&cfg);
    for (i = 0; i < 3; i++) {
        char addr[40];
        snprintf(addr, sizeof(addr), "127.0.0.%d:4200%d", 2 + i, i);
        c[i] = client_node(addr, NULL);
    }
    /* One after the other: one half-open slot. */
    assert_non_null(tn_connect(&net, c[0], s, NULL));
    assert_true(tn_run(&net, all_clients_established, &(int){1}, 200));
    assert_non_null(tn_connect(&net, c[1], s, NULL));
    assert_true(tn_run(&net, all_clients_established, &two, 200));
    /* c[0] talks later than c[1]: c[1] is now the least recently active. */
    tn_clock += 1000;
    a1 = dtlsudp_engine_find(c[0]->e, &s->addr);
    assert_int_equal(dtlsudp_assoc_write(a1, (const uint8_t *)hi, sizeof(hi), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_non_null(tn_connect(&net, c[2], s, NULL));
    assert_true(tn_run(&net, all_clients_established, &(int){3}, 200));
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.evictions, 1);
    assert_int_equal(st.assocs_now, 2);
    assert_null(dtlsudp_engine_find(s->e, &c[1]->addr));
    assert_non_null(dtlsudp_engine_find(s->e, &c[0]->addr));
    /* the evicted peer was told (close_notify) */
    tn_pump(&net);
    assert_int_equal(c[1]->closed, 1);
    assert_int_equal(c[1]->last_reason, DTLSUDP_ERR_CLOSED);
}

static void test_max_per_source_counts_established(void **state)
{
    dtlsudp_engine_config cfg;
    tn_node *s, *c1, *c2, *c3;
    dtlsudp_stats st;

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    cfg.max_per_source = 1;
    cfg.idle_timeout = DTLSUDP_TIME_NEVER;
    s = server_node(&cfg);
    c1 = client_node("127.0.0.9:43001", &cfg);
    c2 = client_node("127.0.0.9:43002", &cfg); /* same address, other port */
    c3 = client_node("127.0.0.10:43003", &cfg);
    assert_non_null(tn_connect(&net, c1, s, NULL));
    assert_non_null(tn_connect(&net, c2, s, NULL));
    assert_non_null(tn_connect(&net, c3, s, NULL));
    tn_run(&net, NULL, NULL, 100);
    /* max_per_source counts established associations: both handshakes
     * of the source complete; the second finds the source's one slot
     * taken by an active association and is refused (close_notify). */
    assert_int_equal(c1->established + c2->established, 2);
    assert_int_equal(c1->closed + c2->closed, 1);
    assert_int_equal(c3->established, 1);
    assert_int_equal(c3->closed, 0);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.refused_full, 1);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(st.assocs_now, 2);
}

/* A source at max_per_source whose association went quiet (its
 * close_notify lost) is not locked out until the idle timeout: a new
 * association of that source, cookie verified, displaces the quiet one
 * once it has been idle longer than a handshake may take -- never an
 * association of another source, however idle. */
static void test_source_at_limit_displaces_its_idlest(void **state)
{
    dtlsudp_engine_config cfg;
    tn_node *s, *c1, *c2, *c3, *other;
    dtlsudp_stats st;
    int one = 1, two = 2, i;

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    cfg.max_per_source = 1;
    cfg.idle_timeout = DTLSUDP_TIME_NEVER;
    cfg.handshake_timeout = 3000;
    s = server_node(&cfg);
    other = client_node("127.0.0.11:43100", &cfg);
    c1 = client_node("127.0.0.12:43101", &cfg);
    c2 = client_node("127.0.0.12:43102", &cfg); /* c1's address, other port */
    c3 = client_node("127.0.0.12:43103", &cfg);
    assert_non_null(tn_connect(&net, other, s, NULL));
    assert_true(tn_run(&net, all_clients_established, &one, 200));
    assert_non_null(tn_connect(&net, c1, s, NULL));
    assert_true(tn_run(&net, all_clients_established, &two, 200));

    /* Busy within the handshake timeout: c2 is refused (it completes its
     * handshake and gets a close_notify at once), c1 stays.  (The clock
     * stands still while only pumping.) */
    assert_non_null(tn_connect(&net, c2, s, NULL));
    for (i = 0; i < 10; i++)
        tn_pump(&net);
    assert_int_equal(c2->closed, 1);
    assert_non_null(dtlsudp_engine_find(s->e, &c1->addr));
    dtlsudp_engine_close_all(c2->e, tn_clock); /* c2 gives up */
    tn_pump(&net);

    /* Quiet for longer: the next verified handshake from that source
     * (c3) takes c1's place; `other', idle longer still, is untouched. */
    tn_clock += 4000;
    assert_non_null(tn_connect(&net, c3, s, NULL));
    for (i = 0; i < 10; i++)
        tn_pump(&net);
    assert_int_equal(c3->established, 1);
    assert_null(dtlsudp_engine_find(s->e, &c1->addr));
    assert_non_null(dtlsudp_engine_find(s->e, &c3->addr));
    assert_non_null(dtlsudp_engine_find(s->e, &other->addr));
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.evictions, 1);
    assert_int_equal(st.source_displaced, 1);
    /* c1 was told (close_notify). */
    tn_pump(&net);
    assert_int_equal(c1->closed, 1);
}

/* Drop everything node 1 (the client) sends after its first `arg' datagrams. */
static int client_goes_silent(tn_net *n, tn_packet *p, void *arg)
{
    unsigned *left = arg;
    if (dtlsudp_addr_equal(&p->from, &n->nodes[1].addr)) {
        if (*left == 0)
            return 0;
        (*left)--;
    }
    return 1;
}

static void test_handshake_deadline(void **state)
{
    dtlsudp_engine_config cfg;
    tn_node *s, *c;
    dtlsudp_stats st;
    unsigned pass = 2; /* ClientHello, ClientHello with cookie; then silence */
    uint64_t t0;

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    cfg.handshake_timeout = 3000;
    s = server_node(&cfg);
    c = client_node("127.0.0.1:44000", &cfg);
    net.tap = client_goes_silent;
    net.tap_arg = &pass;
    t0 = tn_clock;
    assert_non_null(tn_connect(&net, c, s, NULL));
    tn_run(&net, NULL, NULL, 100);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.handshakes_started, 1);
    assert_int_equal(st.handshakes_timed_out, 1);
    assert_int_equal(st.assocs_now, 0);
    assert_int_equal(st.half_open_now, 0);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_TIMEOUT);
    assert_int_equal(c->closed, 1);
    assert_int_equal(c->last_reason, DTLSUDP_ERR_TIMEOUT);
    assert_true(tn_clock >= t0 + 3000);
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), dtlsudp_engine_next_timeout(s->e));
}

static void test_idle_expiry(void **state)
{
    dtlsudp_engine_config cfg;
    tn_node *s, *c;
    dtlsudp_stats st;
    dtlsudp_assoc *ca;
    uint64_t t0;
    static const char hi[] = "keepalive";

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    cfg.idle_timeout = 5000;
    cfg.cookie_rotation = 1000000;
    s = server_node(&cfg);
    c = client_node("127.0.0.1:45000", NULL);
    handshake(s, c);
    t0 = tn_clock;
    /* First the server's timed copy of its last flight (handoff.c), due
     * until the client's first record. */
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), t0 + DTLSUDP_RETRANSMIT_INITIAL_MS);
    /* Activity pushes the deadline. */
    tn_clock = t0 + 4000;
    ca = dtlsudp_engine_find(c->e, &s->addr);
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)hi, sizeof(hi), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), t0 + 9000);
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, t0 + 8999), DTLSUDP_OK);
    assert_int_equal(s->closed, 0);
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, t0 + 9000), DTLSUDP_OK);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_IDLE);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.idle_expired, 1);
    assert_int_equal(st.closes_sent, 1);
    tn_pump(&net);
    assert_int_equal(c->closed, 1); /* told by close_notify */
}

static void test_close_inside_event_and_close_all(void **state)
{
    tn_node *s, *c1, *c2;
    dtlsudp_assoc *ca;
    dtlsudp_stats st;
    int two = 2;
    static const char bye[] = "bye";

    (void)state;
    s = server_node(NULL);
    c1 = client_node("127.0.0.1:46001", NULL);
    c2 = client_node("127.0.0.1:46002", NULL);
    assert_non_null(tn_connect(&net, c1, s, NULL));
    assert_non_null(tn_connect(&net, c2, s, NULL));
    assert_true(tn_run(&net, all_clients_established, &two, 200));
    s->close_on_data = 1;
    ca = dtlsudp_engine_find(c1->e, &s->addr);
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)bye, sizeof(bye), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(s->data, 1);
    assert_int_equal(s->closed, 1);
    tn_pump(&net);
    assert_int_equal(c1->closed, 1);
    dtlsudp_engine_close_all(s->e, tn_clock);
    assert_int_equal(s->closed, 2);
    tn_pump(&net);
    assert_int_equal(c2->closed, 1);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.closes_sent, 2);
    assert_int_equal(st.assocs_now, 0);
}

static void test_ids_unique(void **state)
{
    tn_node *s, *c;
    uint64_t last = 0;
    int i;

    (void)state;
    s = server_node(NULL);
    c = client_node("127.0.0.1:47000", NULL);
    for (i = 0; i < 5; i++) {
        dtlsudp_assoc *sa;
        unsigned before = c->established;
        assert_non_null(tn_connect(&net, c, s, NULL));
        while (c->established == before || s->established < (unsigned)i + 1)
            assert_true(tn_pump(&net) > 0);
        sa = dtlsudp_engine_find(s->e, &c->addr);
        assert_true(dtlsudp_assoc_id(sa) > last);
        last = dtlsudp_assoc_id(sa);
        dtlsudp_assoc_close(dtlsudp_engine_find(c->e, &s->addr), tn_clock);
        tn_pump(&net);
        assert_null(dtlsudp_engine_find(s->e, &c->addr));
    }
}

/* RFC 6347 4.2.8: the client restarts and reuses its address and port. */
static void test_peer_restart(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c, *c2;
    dtlsudp_assoc *old, *now_a, *ca;
    dtlsudp_stats st;
    uint8_t buf[2048];
    size_t len;
    dtlsudp_addr peer;
    uint64_t old_id;
    static const char hi[] = "after restart";

    (void)state;
    s = server_node(NULL);
    c = client_node("127.0.0.1:48000", NULL);
    handshake(s, c);
    old = dtlsudp_engine_find(s->e, &c->addr);
    old_id = dtlsudp_assoc_id(old);
    tn_drop_node(&net, c); /* the client process dies without a close_notify */
    c2 = tn_add(&net, "127.0.0.1:48000", &tc->client2, &tc->ca, NULL);
    assert_non_null(c2);

    /* The new ClientHello gets a HelloVerifyRequest; the old association
     * stays until the new handshake completes. */
    assert_non_null(tn_connect(&net, c2, s, NULL));
    assert_int_equal(dtlsudp_engine_pop(c2->e, buf, sizeof(buf), &len, &peer, NULL, NULL), DTLSUDP_OK);
    assert_int_equal(tn_inject(&net, s, &c2->addr, buf, len, NULL), DTLSUDP_OK);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.cookies_sent, 2);
    assert_ptr_equal(dtlsudp_engine_find(s->e, &c2->addr), old);
    assert_int_equal(dtlsudp_assoc_state(old), DTLSUDP_STATE_ESTABLISHED);

    assert_true(tn_run(&net, NULL, NULL, 1) || 1);
    while (c2->established == 0)
        assert_true(tn_pump(&net) > 0);
    tn_pump(&net);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.restarts, 1);
    assert_int_equal(st.assocs_now, 1);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_REPLACED);
    now_a = dtlsudp_engine_find(s->e, &c2->addr);
    assert_non_null(now_a);
    assert_true(dtlsudp_assoc_id(now_a) > old_id);
    assert_true(dtlsudp_fingerprint_matches(dtlsudp_assoc_peer_cert(now_a), &(dtlsudp_fingerprint){0}) == 0);
    ca = dtlsudp_engine_find(c2->e, &s->addr);
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)hi, sizeof(hi), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_memory_equal(s->last_data, hi, sizeof(hi));
}

/* Drop everything node 0 (the server) sends after its first `arg' datagrams. */
static int server_goes_silent(tn_net *n, tn_packet *p, void *arg)
{
    unsigned *left = arg;
    if (dtlsudp_addr_equal(&p->from, &n->nodes[0].addr)) {
        if (*left == 0)
            return 0;
        (*left)--;
    }
    return 1;
}

/* The client restarts while its first handshake is still in progress. */
static void test_peer_restart_during_handshake(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c, *c2;
    dtlsudp_stats st;
    unsigned pass = 1; /* the HelloVerifyRequest; the server's flight is lost */
    uint64_t t0;
    int i;

    (void)state;
    s = server_node(NULL);
    c = client_node("127.0.0.1:48300", NULL);
    net.tap = server_goes_silent;
    net.tap_arg = &pass;
    assert_non_null(tn_connect(&net, c, s, NULL));
    for (i = 0; i < 4; i++)
        tn_pump(&net);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.half_open_now, 1);
    net.tap = NULL;
    tn_drop_node(&net, c);
    c2 = tn_add(&net, "127.0.0.1:48300", &tc->client2, &tc->ca, NULL);
    t0 = tn_clock;
    assert_non_null(tn_connect(&net, c2, s, NULL));
    for (i = 0; i < 20 && c2->established == 0; i++)
        tn_pump(&net);
    assert_int_equal(c2->established, 1);
    assert_int_equal(tn_clock, t0); /* no wait for the old handshake's deadline */
    tn_pump(&net);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.restarts, 1);
    assert_int_equal(st.assocs_now, 1);
    assert_int_equal(st.half_open_now, 0);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_REPLACED);
}

/* Drop everything sent to one address. */
static int drop_to(tn_net *n, tn_packet *p, void *arg)
{
    (void)n;
    return !dtlsudp_addr_equal(&p->dest, (const dtlsudp_addr *)arg);
}

/* A second restart while the first restart handshake is still pending. */
static void test_peer_restart_twice(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c, *c2, *c3;
    dtlsudp_stats st;
    uint8_t buf[2048];
    size_t len;
    int i;

    (void)state;
    s = server_node(NULL);
    c = client_node("127.0.0.1:48400", NULL);
    handshake(s, c);
    tn_drop_node(&net, c);

    /* First restart: cookie exchange done, then the server's flight is lost. */
    c2 = tn_add(&net, "127.0.0.1:48400", &tc->client, &tc->ca, NULL);
    assert_non_null(tn_connect(&net, c2, s, NULL));
    tn_pump(&net); /* hello -> HVR */
    tn_pump(&net); /* HVR -> hello with cookie */
    net.tap = drop_to;
    net.tap_arg = &c2->addr;
    tn_pump(&net); /* hello with cookie reaches the server: successor; its flight is lost */
    net.tap = NULL;
    assert_non_null(dtlsudp_engine_find(s->e, &c2->addr)->successor);
    while (dtlsudp_engine_pop(s->e, buf, sizeof(buf), &len, NULL, NULL, NULL) == DTLSUDP_OK)
        ;
    tn_drop_node(&net, c2);

    /* Second restart from the same address and port: it must not wait for
     * the pending one's deadline. */
    c3 = tn_add(&net, "127.0.0.1:48400", &tc->client2, &tc->ca, NULL);
    assert_non_null(tn_connect(&net, c3, s, NULL));
    for (i = 0; i < 20 && c3->established == 0; i++)
        tn_pump(&net);
    assert_int_equal(c3->established, 1);
    tn_pump(&net);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.restarts, 1);
    assert_int_equal(st.assocs_now, 1);
    assert_int_equal(st.half_open_now, 0);
    assert_int_equal(s->closed, 2); /* the abandoned restart, then the old association */
    assert_int_equal(s->last_reason, DTLSUDP_ERR_REPLACED);
}

/* A late copy of the client's own cookie ClientHello is not a restart. */
static int keep_copy(tn_net *n, tn_packet *p, void *arg)
{
    tn_packet *copy = arg;
    (void)n;
    /* The last ClientHello seen is the one with the cookie. */
    if (eng_record_is_client_hello(p->data, p->len, NULL))
        *copy = *p;
    return 1;
}

static void test_duplicate_hello_after_established(void **state)
{
    tn_node *s, *c;
    static tn_packet copy;
    dtlsudp_stats st;
    dtlsudp_assoc *sa;

    (void)state;
    memset(&copy, 0, sizeof(copy));
    s = server_node(NULL);
    c = client_node("127.0.0.1:48200", NULL);
    net.tap = keep_copy;
    net.tap_arg = &copy;
    handshake(s, c);
    net.tap = NULL;
    assert_true(copy.len > 0);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_int_equal(tn_inject(&net, s, &c->addr, copy.data, copy.len, NULL), DTLSUDP_ERR_DROPPED);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.handshakes_started, 1);
    assert_int_equal(st.dropped_stale, 1);
    assert_int_equal(st.cookies_sent, 1);
    assert_ptr_equal(dtlsudp_engine_find(s->e, &c->addr), sa);
    assert_null(sa->successor);
}

/* A restart attempt that never completes leaves the old association alone. */
static void test_peer_restart_abandoned(void **state)
{
    tn_node *s, *c;
    dtlsudp_assoc *old, *ca;
    uint8_t hello[2048], buf[2048];
    size_t hlen, len;
    dtlsudp_stats st;
    static const char hi[] = "still here";

    (void)state;
    s = server_node(NULL);
    c = client_node("127.0.0.1:48100", NULL);
    handshake(s, c);
    old = dtlsudp_engine_find(s->e, &c->addr);
    /* Replay a fresh ClientHello from the same address (made by a second
     * client engine that is never allowed to answer). */
    {
        tn_node *ghost = client_node("127.0.0.1:48101", NULL);
        assert_non_null(tn_connect(&net, ghost, s, NULL));
        assert_int_equal(dtlsudp_engine_pop(ghost->e, hello, sizeof(hello), &hlen, NULL, NULL, NULL), DTLSUDP_OK);
        tn_drop_node(&net, ghost);
    }
    assert_int_equal(tn_inject(&net, s, &c->addr, hello, hlen, NULL), DTLSUDP_OK);
    /* the HelloVerifyRequest goes to the real client, which ignores it */
    assert_int_equal(dtlsudp_engine_pop(s->e, buf, sizeof(buf), &len, NULL, NULL, NULL), DTLSUDP_OK);
    assert_ptr_equal(dtlsudp_engine_find(s->e, &c->addr), old);
    ca = dtlsudp_engine_find(c->e, &s->addr);
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)hi, sizeof(hi), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_memory_equal(s->last_data, hi, sizeof(hi));
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.restarts, 0);
    assert_int_equal(st.assocs_now, 1);
}

/* Take the next datagram node n would send. */
static size_t capture(tn_node *n, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    assert_int_equal(dtlsudp_engine_pop(n->e, buf, cap, &len, NULL, NULL, NULL), DTLSUDP_OK);
    return len;
}

static void test_tampered_truncated_replayed(void **state)
{
    tn_node *s, *c;
    dtlsudp_assoc *ca, *sa;
    uint8_t good[2048], bad[2048];
    size_t len;
    dtlsudp_stats st;
    static const char msg[] = "genuine";

    (void)state;
    s = server_node(NULL);
    c = client_node("127.0.0.1:49000", NULL);
    handshake(s, c);
    tn_pump(&net);
    ca = dtlsudp_engine_find(c->e, &s->addr);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)msg, sizeof(msg), tn_clock), DTLSUDP_OK);
    len = capture(c, good, sizeof(good));
    assert_int_equal(good[0], 23);

    /* tampered ciphertext: the AEAD tag fails, OpenSSL drops it */
    memcpy(bad, good, len);
    bad[len - 3] ^= 0x40;
    assert_int_equal(tn_inject(&net, s, &c->addr, bad, len, NULL), DTLSUDP_ERR_DROPPED);
    /* truncated: not a complete record */
    assert_int_equal(tn_inject(&net, s, &c->addr, good, len - 5, NULL), DTLSUDP_ERR_DROPPED);
    assert_int_equal(tn_inject(&net, s, &c->addr, good, 7, NULL), DTLSUDP_ERR_DROPPED);
    /* wrong epoch */
    memcpy(bad, good, len);
    bad[4] = 7;
    assert_int_equal(tn_inject(&net, s, &c->addr, bad, len, NULL), DTLSUDP_ERR_DROPPED);
    assert_int_equal(s->data, 0);
    /* the genuine datagram still works, once */
    assert_int_equal(tn_inject(&net, s, &c->addr, good, len, NULL), DTLSUDP_OK);
    assert_int_equal(s->data, 1);
    assert_int_equal(tn_inject(&net, s, &c->addr, good, len, NULL), DTLSUDP_ERR_DROPPED); /* replay */
    assert_int_equal(s->data, 1);
    /* garbage from a stranger */
    memset(bad, 0x16, 40);
    assert_int_equal(tn_inject(&net, s, &(dtlsudp_addr){.sin = {.sin_family = AF_INET, .sin_port = 9}}, bad, 40,
                               NULL),
                     DTLSUDP_ERR_DROPPED);
    assert_int_equal(tn_inject(&net, s, &c->addr, NULL, 0, NULL), DTLSUDP_ERR_DROPPED);

    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.dropped_stale, 3);     /* tampered, wrong epoch, replay */
    assert_int_equal(st.dropped_malformed, 4); /* two truncations, garbage, empty */
    assert_int_equal(st.assocs_now, 1);
    assert_int_equal(dtlsudp_assoc_state(sa), DTLSUDP_STATE_ESTABLISHED);
    assert_int_equal(s->closed, 0);
}

static void test_strangers_and_bad_args(void **state)
{
    tn_node *s;
    dtlsudp_stats st;
    dtlsudp_addr from = tn_addr("10.1.2.3:5000");
    /* an application-data record from nobody we know */
    static const uint8_t appdata[] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 3, 1, 2, 3};

    (void)state;
    s = server_node(NULL);
    assert_int_equal(tn_inject(&net, s, &from, appdata, sizeof(appdata), NULL), DTLSUDP_ERR_DROPPED);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.dropped_unknown, 1);
    assert_int_equal(st.cookies_sent, 0);
    assert_int_equal(dtlsudp_engine_receive(NULL, &from, NULL, appdata, 1, 0, NULL), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_engine_connect(s->e, NULL, NULL, 0, NULL), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_assoc_write(NULL, appdata, 1, 0), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), tn_clock + 60000); /* cookie rotation only */
}

/* A ClientHello with a cookie the server issued to `ghost''s address. */
static size_t cookie_hello(tn_node *s, tn_node *ghost, uint8_t *out, size_t cap)
{
    uint8_t buf[2048];
    size_t len, olen;

    assert_non_null(tn_connect(&net, ghost, s, NULL));
    assert_int_equal(dtlsudp_engine_pop(ghost->e, buf, sizeof(buf), &len, NULL, NULL, NULL), DTLSUDP_OK);
    assert_int_equal(tn_inject(&net, s, &ghost->addr, buf, len, NULL), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_pop(s->e, buf, sizeof(buf), &len, NULL, NULL, NULL), DTLSUDP_OK);
    assert_int_equal(tn_inject(&net, ghost, &s->addr, buf, len, NULL), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_pop(ghost->e, out, cap, &olen, NULL, NULL, NULL), DTLSUDP_OK);
    return olen;
}

static void test_cookie_rotation(void **state)
{
    dtlsudp_engine_config cfg;
    tn_node *s, *g1, *g2;
    uint8_t h1[2048], h2[2048], buf[2048];
    size_t l1, l2, len;
    dtlsudp_stats st;
    dtlsudp_assoc *a = NULL;

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    cfg.cookie_rotation = 1000;
    s = server_node(&cfg);
    g1 = client_node("127.0.0.1:55001", NULL);
    g2 = client_node("127.0.0.1:55002", NULL);
    l1 = cookie_hello(s, g1, h1, sizeof(h1));
    l2 = cookie_hello(s, g2, h2, sizeof(h2));
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), tn_clock + 1000);
    /* One rotation: the previous secret is still accepted. */
    tn_clock += 1000;
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, tn_clock), DTLSUDP_OK);
    assert_int_equal(tn_inject(&net, s, &g1->addr, h1, l1, &a), DTLSUDP_OK);
    assert_non_null(a);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.cookies_verified, 1);
    assert_int_equal(st.half_open_now, 1);
    /* Two rotations: stale, answered with a fresh HelloVerifyRequest. */
    tn_clock += 1000;
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, tn_clock), DTLSUDP_OK);
    while (dtlsudp_engine_pop(s->e, buf, sizeof(buf), &len, NULL, NULL, NULL) == DTLSUDP_OK)
        ;
    assert_int_equal(tn_inject(&net, s, &g2->addr, h2, l2, &a), DTLSUDP_OK);
    assert_null(a);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.cookies_bad, 1);
    assert_int_equal(st.cookies_verified, 1);
    assert_int_equal(dtlsudp_engine_pop(s->e, buf, sizeof(buf), &len, NULL, NULL, &a), DTLSUDP_OK);
    assert_null(a);
    assert_int_equal(buf[13], 3); /* HelloVerifyRequest */
    /* A cookie is bound to the address it was issued to. */
    assert_int_equal(tn_inject(&net, s, &g1->addr, h2, l2, NULL), DTLSUDP_OK);
}

static void test_dtls10_policy(void **state)
{
    dtlsudp_engine_config cfg;
    tn_node *s, *c, *s10, *c10;

    (void)state;
    /* Default server: DTLS 1.2 only (RFC 8996). */
    dtlsudp_engine_config_init(&cfg);
    cfg.allow_dtls10 = 1;
    s = server_node(NULL);
    c = client_node("127.0.0.1:56001", &cfg);
    assert_int_equal(SSL_CTX_set_max_proto_version(dtlsudp_engine_ssl_ctx(c->e), DTLS1_VERSION), 1);
    assert_non_null(tn_connect(&net, c, s, NULL));
    tn_run(&net, NULL, NULL, 30);
    assert_int_equal(c->established, 0);
    assert_int_equal(s->established, 0);
    tn_free(&net);
    tn_init(&net, 43);
    /* Both allow it: a DTLS 1.0 association.  DTLS 1.0 signs with SHA-1,
     * which OpenSSL's default security level (2 on Debian) forbids: the
     * caller lowers it on the SSL_CTX, the engine does not. */
    s10 = server_node(&cfg);
    c10 = client_node("127.0.0.1:56002", &cfg);
    SSL_CTX_set_security_level(dtlsudp_engine_ssl_ctx(s10->e), 0);
    SSL_CTX_set_security_level(dtlsudp_engine_ssl_ctx(c10->e), 0);
    assert_int_equal(SSL_CTX_set_max_proto_version(dtlsudp_engine_ssl_ctx(c10->e), DTLS1_VERSION), 1);
    handshake(s10, c10);
    assert_string_equal(dtlsudp_assoc_version(dtlsudp_engine_find(s10->e, &c10->addr)), "DTLSv1");
}

static void test_plaintext_queue_bound(void **state)
{
    dtlsudp_engine_config cfg;
    tn_node *s, *c;
    dtlsudp_assoc *ca, *sa;
    dtlsudp_stats st;
    uint8_t buf[64];
    size_t len;
    int i;

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    cfg.max_queued_datagrams = 4;
    s = server_node(&cfg);
    c = client_node("127.0.0.1:57000", NULL);
    handshake(s, c);
    s->no_read = 1;
    ca = dtlsudp_engine_find(c->e, &s->addr);
    for (i = 0; i < 10; i++) {
        assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)"x", 1, tn_clock), DTLSUDP_OK);
        tn_pump(&net);
    }
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.dropped_queue, 6);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    for (i = 0; i < 4; i++) {
        assert_int_equal(dtlsudp_assoc_pending(sa), 4 - i);
        assert_int_equal(dtlsudp_assoc_read(sa, buf, sizeof(buf), &len), DTLSUDP_OK);
    }
    assert_int_equal(dtlsudp_assoc_pending(sa), 0);
    assert_int_equal(dtlsudp_assoc_pending(NULL), 0);
    assert_int_equal(dtlsudp_assoc_read(sa, buf, sizeof(buf), &len), DTLSUDP_ERR_AGAIN);
    assert_int_equal(dtlsudp_assoc_read(sa, NULL, 0, &len), DTLSUDP_ERR_AGAIN);
}

static void test_output_queue_full(void **state)
{
    tn_node *s, *g;
    uint8_t hello[2048];
    size_t hlen;
    dtlsudp_stats st;
    unsigned i;

    (void)state;
    s = server_node(NULL);
    g = client_node("127.0.0.1:58000", NULL);
    assert_non_null(tn_connect(&net, g, s, NULL));
    assert_int_equal(dtlsudp_engine_pop(g->e, hello, sizeof(hello), &hlen, NULL, NULL, NULL), DTLSUDP_OK);
    /* Nobody pops the server's queue: HelloVerifyRequests pile up. */
    for (i = 0; i < 5000; i++) {
        char text[32];
        dtlsudp_addr from;
        snprintf(text, sizeof(text), "10.9.%u.%u:999", i >> 8, i & 0xff);
        from = tn_addr(text);
        (void)tn_inject(&net, s, &from, hello, hlen, NULL);
    }
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.cookies_sent, 5000);
    assert_true(st.dropped_queue > 0);
    assert_int_equal(st.datagrams_out + st.dropped_queue, 5000);
    assert_true(st.datagrams_out * (hlen / 3) < DTLSUDP_OUTQ_BYTES); /* bounded */
}

static void test_echo_from_inside_event(void **state)
{
    tn_node *s, *c;
    dtlsudp_assoc *ca;
    char msg[32];
    int i;

    (void)state;
    s = server_node(NULL);
    c = client_node("127.0.0.1:59000", NULL);
    handshake(s, c);
    s->echo = 1;
    ca = dtlsudp_engine_find(c->e, &s->addr);
    for (i = 0; i < 5; i++) {
        int n = snprintf(msg, sizeof(msg), "echo %d", i);
        assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)msg, (size_t)n, tn_clock), DTLSUDP_OK);
        tn_pump(&net);
        tn_pump(&net);
        assert_int_equal(c->data, (unsigned)i + 1);
        assert_int_equal(c->last_data_len, (size_t)n);
        assert_memory_equal(c->last_data, msg, (size_t)n);
    }
}

static void test_client_only_engine_ignores_hellos(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *bare;
    uint8_t hello[2048], buf[2048];
    size_t hlen, len;
    dtlsudp_stats st;

    (void)state;
    s = server_node(NULL);
    bare = tn_add(&net, "127.0.0.1:59100", NULL, &tc->ca, NULL); /* trust only, no identity */
    assert_non_null(bare);
    assert_non_null(tn_connect(&net, bare, s, NULL));
    assert_int_equal(dtlsudp_engine_pop(bare->e, hello, sizeof(hello), &hlen, NULL, NULL, NULL), DTLSUDP_OK);
    /* someone sends the bare engine a ClientHello */
    assert_int_equal(tn_inject(&net, bare, &(dtlsudp_addr){.sin = {.sin_family = AF_INET, .sin_port = 7}}, hello,
                               hlen, NULL),
                     DTLSUDP_ERR_DROPPED);
    assert_int_equal(dtlsudp_engine_pop(bare->e, buf, sizeof(buf), &len, NULL, NULL, NULL), DTLSUDP_ERR_AGAIN);
    dtlsudp_engine_get_stats(bare->e, &st);
    assert_int_equal(st.cookies_sent, 0);
    assert_int_equal(st.dropped_unknown, 1);
}

/* RFC 6353 / RFC 5746 policy: no renegotiation.  A client that tries
 * anyway is refused; the association ends by a fatal alert, and a fatal
 * alert received on an established association tears it down. */
static void test_renegotiation_refused(void **state)
{
    tn_node *s, *c;
    dtlsudp_assoc *ca;
    dtlsudp_stats ss, cs;

    dtlsudp_engine_config keep;

    (void)state;
    dtlsudp_engine_config_init(&keep);
    keep.keep_ssl = 1; /* the client's OpenSSL renegotiates; the server has handed off */
    s = server_node(NULL);
    c = client_node("127.0.0.1:59200", &keep);
    handshake(s, c);
    ca = dtlsudp_engine_find(c->e, &s->addr);
    /* go behind the engine's back, as a misbehaving peer would */
    SSL_clear_options(dtlsudp_assoc_ssl(ca), SSL_OP_NO_RENEGOTIATION);
    assert_int_equal(SSL_renegotiate(dtlsudp_assoc_ssl(ca)), 1);
    (void)dtlsudp_assoc_write(ca, (const uint8_t *)"x", 1, tn_clock);
    tn_run(&net, NULL, NULL, 20);
    dtlsudp_engine_get_stats(s->e, &ss);
    dtlsudp_engine_get_stats(c->e, &cs);
    /* server: warning no_renegotiation; client: gives up with a fatal
     * alert, which ends the server's association */
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_PEER_ALERT);
    assert_int_equal(ss.alerts_received, 1);
    assert_int_equal(ss.assocs_now, 0);
    assert_int_equal(c->closed, 1);
    assert_int_equal(cs.assocs_now, 0);
    assert_int_equal(ss.handshakes_started, 1); /* no second handshake on the server */
}

static int count_random;

static int failing_random(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    memset(buf, 0x5a, len);
    return ++count_random > 1 ? -1 : 0;
}

static void test_injected_random(void **state)
{
    dtlsudp_engine_config cfg;
    dtlsudp_engine *e = NULL;

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    cfg.random = failing_random;
    count_random = 0;
    /* hash seed ok, cookie secret fails: the engine refuses to start */
    assert_int_equal(dtlsudp_engine_new(&cfg, 0, &e), DTLSUDP_ERR_FATAL);
    assert_null(e);
    assert_int_equal(count_random, 2);
}

static int node_established(tn_net *n, void *arg)
{
    (void)n;
    return ((tn_node *)arg)->established >= 1;
}

/* A certificate reload: after dtlsudp_engine_set_identity() the very
 * next handshake presents the new identity (the engine had an SSL made
 * from the old one ready for the next ClientHello); the association made
 * before keeps working. */
static void test_identity_changed(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c1, *c2;
    dtlsudp_assoc *a1, *a2;
    static const char ping[] = "still here";

    (void)state;
    s = server_node(NULL);
    c1 = client_node("127.0.0.1:40001", NULL);
    assert_non_null(tn_connect(&net, c1, s, NULL));
    assert_true(tn_run(&net, node_established, c1, 200));
    a1 = dtlsudp_engine_find(c1->e, &s->addr);
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(a1), tc->server.cert), 0);

    /* The new identity: another key pair the same CA certified. */
    assert_int_equal(dtlsudp_engine_set_identity(s->e, tc->client2.cert, tc->client2.key, NULL), DTLSUDP_OK);
    c2 = client_node("127.0.0.1:40002", NULL);
    assert_non_null(tn_connect(&net, c2, s, NULL));
    assert_true(tn_run(&net, node_established, c2, 200));
    a2 = dtlsudp_engine_find(c2->e, &s->addr);
    assert_non_null(a2);
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(a2), tc->client2.cert), 0);

    /* The association made before the change is untouched. */
    assert_int_equal(dtlsudp_assoc_write(a1, (const uint8_t *)ping, sizeof(ping), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(s->data, 1);
    assert_memory_equal(s->last_data, ping, sizeof(ping));
    assert_int_equal(dtlsudp_engine_set_identity(NULL, tc->client2.cert, tc->client2.key, NULL), DTLSUDP_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_and_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_write_and_too_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pop_buffer_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retransmission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_table_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_table_evicts_oldest_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_per_source_counts_established, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_at_limit_displaces_its_idlest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_inside_event_and_close_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ids_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_restart_abandoned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_hello_after_established, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_restart_during_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_restart_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_truncated_replayed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strangers_and_bad_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dtls10_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plaintext_queue_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_queue_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injected_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_from_inside_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_only_engine_ignores_hellos, setup, teardown),
        cmocka_unit_test_setup_teardown(test_renegotiation_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_changed, setup, teardown),
    };
    int rc;

    tn_mem_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return rc;
}
