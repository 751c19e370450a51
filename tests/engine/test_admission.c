/*
 * test_admission.c - the admission rules (transport/engine/admission.c) on
 * the in-memory network, one test per rule:
 *   - a source that answers cookies and goes silent cannot lock out a new
 *     handshake from its own address (beyond its cap of idle handshakes the
 *     most silent is evicted, and beyond 8 x the cap too), and a burst
 *     of handshakes in progress below that is not evicted;
 *   - an evicted handshake fails at once with internal_error, and a late
 *     copy of its cookie'd ClientHello starts nothing (it used to start a
 *     handshake that failed with decrypt_error); a duplicate while the
 *     handshake runs joins it; a restart with a new random is served;
 *   - IPv6 sources are counted per /64;
 *   - a peer that has not authenticated never evicts an established
 *     association, and handshakes still start when established ones fill
 *     their share of the table (headroom); a peer that completed
 *     authentication may evict the least recently active one;
 *   - the per-source established cap: an active association is never
 *     displaced (the newcomer is refused with a close_notify), a quiet one
 *     is; both are counted and logged, at most one line a second.
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

static tn_net net;

/* Datagrams each node may still send; -1: unlimited. */
static int budget[TN_MAX_NODES];

static char log_lines[16][256];
static int n_log_lines;

static void capture_log(void *user, int level, const char *message)
{
    (void)user;
    if (level <= DTLSUDP_LOG_NOTICE && n_log_lines < 16)
        snprintf(log_lines[n_log_lines++], sizeof(log_lines[0]), "%s", message);
}

static int silent_tap(tn_net *n, tn_packet *p, void *arg)
{
    int i;
    (void)arg;
    for (i = 0; i < n->n; i++) {
        if (!dtlsudp_addr_equal(&p->from, &n->nodes[i].addr))
            continue;
        if (budget[i] < 0)
            return 1;
        if (budget[i] == 0)
            return 0;
        budget[i]--;
        return 1;
    }
    return 1;
}

static tn_node *watched;

static int setup(void **state)
{
    int i;
    (void)state;
    watched = NULL;
    tn_init(&net, 7);
    for (i = 0; i < TN_MAX_NODES; i++)
        budget[i] = -1;
    net.tap = silent_tap;
    n_log_lines = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tn_free(&net);
    assert_int_equal(tn_leaking_nodes(&net), 0);
    return 0;
}

static tn_node *server_node(const char *addr, const dtlsudp_engine_config *cfg)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, addr, &tc->server, &tc->ca, cfg);
    assert_non_null(s);
    return s;
}

static tn_node *client_node(const char *addr)
{
    const testcerts *tc = tc_get();
    tn_node *c = tn_add(&net, addr, &tc->client, &tc->ca, NULL);
    assert_non_null(c);
    return c;
}

/* A client that sends its ClientHello and the one with the cookie, then
 * nothing: a half-open handshake on the server until the deadline. */
static tn_node *silent_client(tn_node *s, const char *addr)
{
    tn_node *c = client_node(addr);
    budget[c->index] = 2;
    assert_non_null(tn_connect(&net, c, s, NULL));
    return c;
}

/* Pump without moving the clock: no retransmission, no deadline. */
static void pump(int rounds)
{
    int i;
    for (i = 0; i < rounds; i++)
        tn_pump(&net);
}

static dtlsudp_stats stats_of(tn_node *s)
{
    dtlsudp_stats st;
    dtlsudp_engine_get_stats(s->e, &st);
    return st;
}

static dtlsudp_engine_config server_cfg(void)
{
    dtlsudp_engine_config cfg;
    dtlsudp_engine_config_init(&cfg);
    cfg.idle_timeout = DTLSUDP_TIME_NEVER;
    return cfg;
}

/* One address passes the cookie gate from 40 ports and goes silent; a
 * client on that address, and one elsewhere, still complete their
 * handshakes at once (no refusal, no wait for a retransmission). */
static void test_half_open_flood_no_lockout(void **state)
{
    dtlsudp_engine_config cfg = server_cfg();
    tn_node *s, *legit, *other;
    dtlsudp_stats st;
    char addr[64];
    int i;

    (void)state;
    cfg.max_half_open = 128;
    cfg.handshake_timeout = 30000;
    s = server_node("127.0.0.1:10161", &cfg);
    /* A burst within a second: admitted up to 8 x the per-source cap. */
    for (i = 0; i < 40; i++) {
        snprintf(addr, sizeof(addr), "127.0.0.9:%d", 20000 + i);
        silent_client(s, addr);
        pump(4);
    }
    st = stats_of(s);
    assert_int_equal(st.half_open_now, 40);
    assert_int_equal(st.half_open_evicted, 0);
    /* Idle 3 s later: while the source holds the cap (8) of idle ones,
     * each newcomer evicts the most silent; 7 idle ones stay. */
    tn_clock += 3001;
    for (i = 40; i < 80; i++) {
        snprintf(addr, sizeof(addr), "127.0.0.9:%d", 20000 + i);
        silent_client(s, addr);
        pump(4);
    }
    st = stats_of(s);
    assert_int_equal(st.cookies_verified, 80);
    assert_int_equal(st.half_open_evicted, 40 - 7);
    assert_int_equal(st.half_open_now, 40 + 7);
    assert_int_equal(st.refused_full, 0);
    /* At 8 x the cap the most silent go, idle ones first. */
    for (i = 80; i < 110; i++) {
        snprintf(addr, sizeof(addr), "127.0.0.9:%d", 20000 + i);
        silent_client(s, addr);
        pump(4);
    }
    st = stats_of(s);
    assert_int_equal(st.half_open_now, 64);
    assert_int_equal(st.half_open_evicted, 40 - 7 + 30 - 17);
    assert_int_equal(st.refused_full, 0);

    legit = client_node("127.0.0.9:30000");
    other = client_node("127.0.0.10:30000");
    assert_non_null(tn_connect(&net, legit, s, NULL));
    assert_non_null(tn_connect(&net, other, s, NULL));
    pump(10);
    assert_int_equal(legit->established, 1);
    assert_int_equal(other->established, 1);
    st = stats_of(s);
    assert_int_equal(st.refused_full, 0);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(st.assocs_now, 2 + 63); /* two clients, the flooder's 63 newest */
}

static void test_ipv6_source_is_a_64(void **state)
{
    dtlsudp_engine_config cfg = server_cfg();
    tn_node *s;
    dtlsudp_stats st;
    char addr[64];
    int i;

    (void)state;
    cfg.max_half_open_per_source = 4;
    s = server_node("[2001:db8::100]:10161", &cfg);
    for (i = 1; i <= 10; i++) {
        snprintf(addr, sizeof(addr), "[2001:db8:0:1::%x]:20000", i);
        silent_client(s, addr);
        pump(4);
        tn_clock += 3001; /* the earlier ones are idle */
    }
    st = stats_of(s);
    assert_int_equal(st.half_open_now, 4);
    assert_int_equal(st.half_open_evicted, 6);
    for (i = 1; i <= 3; i++) {
        snprintf(addr, sizeof(addr), "[2001:db8:0:2::%x]:20000", i);
        silent_client(s, addr);
        pump(4);
    }
    st = stats_of(s);
    assert_int_equal(st.half_open_now, 7);
    assert_int_equal(st.half_open_evicted, 6);
}

/* The table is full of established associations.  Peers that pass the
 * cookie gate and go silent take the headroom, evict each other (oldest
 * first), and never an established association.  A peer that completes
 * authentication evicts the least recently active established one. */
static void test_unauthenticated_never_evicts(void **state)
{
    dtlsudp_engine_config cfg = server_cfg();
    tn_node *s, *c[2], *late;
    dtlsudp_stats st;
    char addr[64];
    int i;

    (void)state;
    cfg.max_assocs = 3;
    cfg.max_half_open = 2; /* normalised to 1: at most half the table */
    s = server_node("127.0.0.1:10161", &cfg);
    for (i = 0; i < 2; i++) {
        snprintf(addr, sizeof(addr), "127.0.0.%d:4000", 20 + i);
        c[i] = client_node(addr);
        assert_non_null(tn_connect(&net, c[i], s, NULL));
        pump(10);
        assert_int_equal(c[i]->established, 1);
        tn_clock += 10; /* c[0] is the least recently active */
    }
    for (i = 0; i < 5; i++) {
        snprintf(addr, sizeof(addr), "127.0.0.%d:4000", 30 + i);
        silent_client(s, addr);
        pump(4);
    }
    st = stats_of(s);
    assert_int_equal(st.cookies_verified, 2 + 5);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(st.half_open_now, 1);
    assert_int_equal(st.half_open_evicted, 4);
    assert_non_null(dtlsudp_engine_find(s->e, &c[0]->addr));
    assert_non_null(dtlsudp_engine_find(s->e, &c[1]->addr));
    assert_int_equal(c[0]->closed + c[1]->closed, 0);

    /* Authenticated: takes the place of the least recently active. */
    late = client_node("127.0.0.40:4000");
    assert_non_null(tn_connect(&net, late, s, NULL));
    pump(10);
    assert_int_equal(late->established, 1);
    assert_int_equal(late->closed, 0);
    st = stats_of(s);
    assert_int_equal(st.evictions, 1);
    assert_null(dtlsudp_engine_find(s->e, &c[0]->addr));
    assert_non_null(dtlsudp_engine_find(s->e, &c[1]->addr));
    assert_int_equal(c[0]->closed, 1); /* told: close_notify */
}

static int log_has(const char *needle)
{
    int i;
    for (i = 0; i < n_log_lines; i++)
        if (strstr(log_lines[i], needle) != NULL)
            return 1;
    return 0;
}

/* max_per_source counts established associations.  While the source's
 * associations are active a newcomer is refused (it completes its
 * handshake and gets a close_notify at once, which it can act on); once
 * one has been quiet for longer than a handshake may take, it is displaced.
 * Both are counted and logged, one line a second at most. */
static void test_source_cap_displacement_counted_and_logged(void **state)
{
    dtlsudp_engine_config cfg = server_cfg();
    tn_node *s, *c[5];
    dtlsudp_stats st;
    char addr[64];
    int i;

    (void)state;
    cfg.max_per_source = 2;
    cfg.handshake_timeout = 3000;
    cfg.log = capture_log;
    s = server_node("127.0.0.1:10161", &cfg);
    for (i = 0; i < 5; i++) {
        snprintf(addr, sizeof(addr), "127.0.0.12:%d", 5000 + i);
        c[i] = client_node(addr);
    }
    for (i = 0; i < 2; i++) {
        assert_non_null(tn_connect(&net, c[i], s, NULL));
        pump(10);
        assert_int_equal(c[i]->established, 1);
    }
    /* Both active: c[2] is refused after its handshake. */
    assert_non_null(tn_connect(&net, c[2], s, NULL));
    pump(10);
    assert_int_equal(c[2]->closed, 1);
    assert_int_equal(c[2]->last_reason, DTLSUDP_ERR_CLOSED);
    st = stats_of(s);
    assert_int_equal(st.refused_full, 1);
    assert_int_equal(st.source_displaced, 0);
    assert_int_equal(st.assocs_now, 2);
    assert_int_equal(s->established, 2); /* no ESTABLISHED event for c[2] */
    assert_int_equal(n_log_lines, 1);
    assert_true(log_has("refused"));
    assert_true(log_has("127.0.0.12"));

    /* Quiet for longer than a handshake may take: c[3] displaces c[0],
     * c[4] displaces c[1] within the same second (not logged, counted). */
    tn_clock += 4000;
    assert_non_null(tn_connect(&net, c[3], s, NULL));
    pump(10);
    assert_non_null(tn_connect(&net, c[4], s, NULL));
    pump(10);
    assert_int_equal(c[3]->established, 1);
    assert_int_equal(c[4]->established, 1);
    assert_int_equal(c[0]->closed, 1);
    assert_int_equal(c[1]->closed, 1);
    st = stats_of(s);
    assert_int_equal(st.source_displaced, 2);
    assert_int_equal(st.evictions, 2);
    assert_int_equal(n_log_lines, 2);
    assert_true(strstr(log_lines[1], "displaced") != NULL);

    /* A second later the next event is logged with the count left out. */
    tn_clock += 1500;
    budget[c[0]->index] = -1;
    dtlsudp_engine_close_all(c[0]->e, tn_clock);
    assert_non_null(tn_connect(&net, c[0], s, NULL));
    pump(10);
    assert_int_equal(n_log_lines, 3);
    assert_true(strstr(log_lines[2], "1 more") != NULL);
}

/* ------------------------------------------------------------------------
 * A handshake evicted while its client works on our flight (a slow client
 * behind a busy source): the client must fail at once with a clear alert,
 * and a late copy of its cookie'd ClientHello must not start a handshake
 * whose new ServerHello the client would not read (it failed with
 * decrypt_error at its Finished, after a wait).
 * ------------------------------------------------------------------------ */

/* watched: the client whose datagrams the tap watches */
static uint8_t cookie_hello[TN_MAX_DGRAM];
static size_t cookie_hello_len;
static int sent_by_watched;
static int alerts_to_watched[256]; /* epoch-0 fatal alerts by description */

static int watching_tap(tn_net *n, tn_packet *p, void *arg)
{
    if (watched != NULL && dtlsudp_addr_equal(&p->from, &watched->addr) && ++sent_by_watched == 2 &&
        p->len <= sizeof(cookie_hello)) {
        memcpy(cookie_hello, p->data, p->len); /* the ClientHello with the cookie */
        cookie_hello_len = p->len;
    }
    if (watched != NULL && dtlsudp_addr_equal(&p->dest, &watched->addr) && p->len == 15 && p->data[0] == 21 &&
        p->data[3] == 0 && p->data[4] == 0 && p->data[13] == 2)
        alerts_to_watched[p->data[14]]++;
    return silent_tap(n, p, arg);
}

static void watch(tn_node *c)
{
    watched = c;
    sent_by_watched = 0;
    cookie_hello_len = 0;
    memset(alerts_to_watched, 0, sizeof(alerts_to_watched));
    net.tap = watching_tap;
}

static int watched_closed(tn_net *n, void *arg)
{
    (void)n;
    (void)arg;
    return watched->closed != 0 || watched->established != 0;
}

#define AD_DECRYPT_ERROR 51
#define AD_INTERNAL_ERROR 80

static void test_evicted_handshake_fails_cleanly(void **state)
{
    dtlsudp_engine_config cfg = server_cfg();
    tn_node *s, *slow, *next;
    dtlsudp_stats st;
    uint64_t started;
    int injected;

    (void)state;
    cfg.max_half_open_per_source = 2;
    cfg.handshake_timeout = 30000;
    s = server_node("127.0.0.1:10161", &cfg);

    /* The slow client gets our flight and works on its answer. */
    slow = client_node("127.0.0.9:20000");
    watch(slow);
    budget[slow->index] = 2; /* ClientHello, ClientHello with the cookie */
    assert_non_null(tn_connect(&net, slow, s, NULL));
    pump(4);
    assert_int_not_equal(cookie_hello_len, 0);
    assert_int_equal(stats_of(s).half_open_now, 1);

    /* Its source holds its cap (2) of idle handshakes: the newcomer
     * evicts the most silent, the slow client's. */
    tn_clock += 3500;
    silent_client(s, "127.0.0.9:20001");
    pump(4);
    assert_int_equal(stats_of(s).half_open_evicted, 0);
    tn_clock += 3500;
    silent_client(s, "127.0.0.9:20002");
    pump(4);
    st = stats_of(s);
    assert_int_equal(st.half_open_evicted, 1);
    assert_null(dtlsudp_engine_find(s->e, &slow->addr));
    started = st.handshakes_started;

    /* A copy of its cookie'd ClientHello arrives late, then the client
     * sends its flight. */
    injected = tn_inject(&net, s, &slow->addr, cookie_hello, cookie_hello_len, NULL);
    budget[slow->index] = -1;
    assert_true(tn_run(&net, watched_closed, NULL, 200));

    assert_int_equal(slow->established, 0);
    assert_int_equal(slow->last_reason, DTLSUDP_ERR_PEER_ALERT);
    assert_int_equal(alerts_to_watched[AD_DECRYPT_ERROR], 0);
    assert_true(alerts_to_watched[AD_INTERNAL_ERROR] >= 1);
    assert_int_equal(injected, DTLSUDP_ERR_DROPPED);
    st = stats_of(s);
    assert_int_equal(st.handshakes_started, started); /* the copy started nothing */
    assert_int_equal(st.dropped_stale, 1);

    /* Positive control: a client of the same source whose handshake is not
     * evicted completes (one of the two silent ones is idle). */
    next = client_node("127.0.0.9:20003");
    watch(next);
    assert_non_null(tn_connect(&net, next, s, NULL));
    assert_true(tn_run(&net, watched_closed, NULL, 200));
    assert_int_equal(next->established, 1);
    assert_int_equal(next->closed, 0);
    assert_int_equal(alerts_to_watched[AD_INTERNAL_ERROR], 0);
}

/* The same client restarts from the same address and port (RFC 6347
 * 4.2.8): a new ClientHello has a new random and gets a new handshake. */
static void test_restart_after_eviction_is_served(void **state)
{
    dtlsudp_engine_config cfg = server_cfg();
    tn_node *s, *slow, *again;

    (void)state;
    cfg.max_half_open_per_source = 1;
    cfg.handshake_timeout = 30000;
    s = server_node("127.0.0.1:10161", &cfg);
    slow = client_node("127.0.0.9:20000");
    budget[slow->index] = 2;
    assert_non_null(tn_connect(&net, slow, s, NULL));
    pump(4);
    tn_clock += 4000;
    silent_client(s, "127.0.0.9:20001");
    pump(4);
    assert_int_equal(stats_of(s).half_open_evicted, 1);
    budget[slow->index] = -1; /* the tap finds the dropped node by address */
    tn_drop_node(&net, slow);

    tn_clock += 4000; /* the silent one is idle too */
    again = client_node("127.0.0.9:20000");
    watch(again);
    assert_non_null(tn_connect(&net, again, s, NULL));
    assert_true(tn_run(&net, watched_closed, NULL, 200));
    assert_int_equal(again->established, 1);
    assert_int_equal(stats_of(s).dropped_stale, 0);
}

/* RFC 6347 4.2.1: a copy of the cookie'd ClientHello while its handshake
 * runs is a retransmission of that handshake, not a new one; once the
 * association is established a copy is stale and dropped. */
static void test_duplicate_hello_joins_its_handshake(void **state)
{
    dtlsudp_engine_config cfg = server_cfg();
    tn_node *s, *c;
    dtlsudp_stats st;

    (void)state;
    s = server_node("127.0.0.1:10161", &cfg);
    c = client_node("127.0.0.9:20000");
    watch(c);
    budget[c->index] = 2;
    assert_non_null(tn_connect(&net, c, s, NULL));
    pump(4);
    assert_int_not_equal(cookie_hello_len, 0);
    tn_inject(&net, s, &c->addr, cookie_hello, cookie_hello_len, NULL);
    st = stats_of(s);
    assert_int_equal(st.handshakes_started, 1);
    assert_int_equal(st.half_open_now, 1);
    budget[c->index] = -1;
    assert_true(tn_run(&net, watched_closed, NULL, 200));
    assert_int_equal(c->established, 1);
    assert_int_equal(tn_inject(&net, s, &c->addr, cookie_hello, cookie_hello_len, NULL), DTLSUDP_ERR_DROPPED);
    pump(4);
    st = stats_of(s);
    assert_int_equal(st.handshakes_started, 1);
    assert_int_equal(st.handshakes_completed, 1);
    assert_int_equal(c->closed, 0);

    /* Closed: a late copy still starts nothing, and is not answered. */
    dtlsudp_engine_close_all(c->e, tn_clock);
    pump(4);
    assert_null(dtlsudp_engine_find(s->e, &c->addr));
    assert_int_equal(tn_inject(&net, s, &c->addr, cookie_hello, cookie_hello_len, NULL), DTLSUDP_ERR_DROPPED);
    st = stats_of(s);
    assert_int_equal(st.handshakes_started, 1);
    assert_int_equal(st.half_open_now, 0);
    pump(4);
    assert_int_equal(alerts_to_watched[AD_INTERNAL_ERROR], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_half_open_flood_no_lockout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_source_is_a_64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unauthenticated_never_evicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_cap_displacement_counted_and_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evicted_handshake_fails_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_after_eviction_is_served, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_hello_joins_its_handshake, setup, teardown),
    };
    tn_mem_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
