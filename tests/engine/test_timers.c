/*
 * test_timers.c - the engine's deadlines (transport/engine/timers.c):
 * dtlsudp_engine_next_timeout() is the earliest of cookie and ticket key
 * rotation, each handshake's deadline, OpenSSL's retransmission timer, the
 * hand-off's last-flight copies and the idle expiry of the least recently
 * active established association; dtlsudp_engine_handle_timeout(now) runs
 * what is due at `now' and nothing before.  Times that would overflow stay
 * at DTLSUDP_TIME_NEVER.
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
static int deadline_logged;

static int setup(void **state)
{
    (void)state;
    tn_init(&net, 11);
    deadline_logged = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tn_free(&net);
    assert_int_equal(tn_leaking_nodes(&net), 0);
    return 0;
}

static void note_deadline(void *user, int level, const char *msg)
{
    (void)user;
    (void)level;
    if (strstr(msg, "handshake deadline passed") != NULL)
        deadline_logged++;
}

static dtlsudp_engine_config base_cfg(void)
{
    dtlsudp_engine_config cfg;
    dtlsudp_engine_config_init(&cfg);
    cfg.log = note_deadline;
    return cfg;
}

static tn_node *node(const char *addr, const tc_pair *id, const dtlsudp_engine_config *cfg)
{
    tn_node *n = tn_add(&net, addr, id, &tc_get()->ca, cfg);
    assert_non_null(n);
    return n;
}

/* OpenSSL's retransmission timer out of the way: one minute per flight. */
static unsigned int slow_timer_cb(SSL *ssl, unsigned int timer_us)
{
    (void)ssl;
    (void)timer_us;
    return 60000000u;
}

static size_t queued(tn_node *n)
{
    uint8_t buf[TN_MAX_DGRAM];
    size_t len, count = 0;
    while (dtlsudp_engine_pop(n->e, buf, sizeof(buf), &len, NULL, NULL, NULL) == DTLSUDP_OK)
        count++;
    return count;
}

static dtlsudp_stats stats(tn_node *n)
{
    dtlsudp_stats st;
    assert_int_equal(dtlsudp_engine_get_stats(n->e, &st), DTLSUDP_OK);
    return st;
}

/* An idle engine waits for its key rotations only. */
static void test_idle_engine_waits_for_key_rotation(void **state)
{
    dtlsudp_engine_config cfg = base_cfg();
    tn_node *a, *b;

    (void)state;
    assert_int_equal(dtlsudp_engine_next_timeout(NULL), DTLSUDP_TIME_NEVER);
    assert_int_equal(dtlsudp_engine_handle_timeout(NULL, tn_clock), DTLSUDP_ERR_INVALID);
    cfg.cookie_rotation = 7000;
    a = node("127.0.0.1:10161", &tc_get()->server, &cfg);
    assert_int_equal(dtlsudp_engine_next_timeout(a->e), tn_clock + 7000);
    cfg.session_tickets = 1;
    cfg.ticket_lifetime = 3000;
    b = node("127.0.0.1:10162", &tc_get()->server, &cfg);
    assert_int_equal(dtlsudp_engine_next_timeout(b->e), tn_clock + 3000);
}

/* Rotation runs at its time, not a millisecond before, and the next one
 * is a period later; the previous secret and ticket key are kept. */
static void test_key_rotation_at_its_time(void **state)
{
    dtlsudp_engine_config cfg = base_cfg();
    uint8_t secret[DTLSUDP_COOKIE_SECRET_LEN], key_name[DTLSUDP_TICKET_KEY_NAME_LEN];
    uint64_t t0 = tn_clock;
    tn_node *s;

    (void)state;
    cfg.cookie_rotation = 1000;
    cfg.session_tickets = 1;
    cfg.ticket_lifetime = 1500;
    s = node("127.0.0.1:10161", &tc_get()->server, &cfg);
    memcpy(secret, s->e->cookie_secret[0], sizeof(secret));
    memcpy(key_name, s->e->ticket_keys[0].name, sizeof(key_name));

    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, t0 + 999), DTLSUDP_OK);
    assert_memory_equal(s->e->cookie_secret[0], secret, sizeof(secret));
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), t0 + 1000);

    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, t0 + 1000), DTLSUDP_OK);
    assert_memory_not_equal(s->e->cookie_secret[0], secret, sizeof(secret));
    assert_memory_equal(s->e->cookie_secret[1], secret, sizeof(secret));
    assert_memory_equal(s->e->ticket_keys[0].name, key_name, sizeof(key_name)); /* not due yet */
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), t0 + 1500);

    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, t0 + 1500), DTLSUDP_OK);
    assert_memory_not_equal(s->e->ticket_keys[0].name, key_name, sizeof(key_name));
    assert_memory_equal(s->e->ticket_keys[1].name, key_name, sizeof(key_name));
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), t0 + 2000);
}

/* OpenSSL's retransmission timer is folded in: the client's hello goes
 * out again when it expires (tn_timer_cb: 100 ms, then 200 ms), not
 * well before. */
static void test_retransmission_timer_folded_in(void **state)
{
    dtlsudp_engine_config cfg = base_cfg();
    dtlsudp_addr nobody = tn_addr("127.0.0.1:9");
    uint64_t t0 = tn_clock;
    tn_node *c;

    (void)state;
    c = node("127.0.0.1:49000", &tc_get()->client, &cfg);
    assert_int_equal(dtlsudp_engine_connect(c->e, &nobody, NULL, t0, NULL), DTLSUDP_OK);
    assert_int_equal(queued(c), 1);
    assert_int_equal(dtlsudp_engine_next_timeout(c->e), t0 + 100);

    /* OpenSSL counts a timer with less than 15 ms left as expired. */
    tn_clock = t0 + 80;
    assert_int_equal(dtlsudp_engine_handle_timeout(c->e, tn_clock), DTLSUDP_OK);
    assert_int_equal(queued(c), 0);
    tn_clock = t0 + 100;
    assert_int_equal(dtlsudp_engine_handle_timeout(c->e, tn_clock), DTLSUDP_OK);
    assert_int_equal(queued(c), 1);
    assert_int_equal(dtlsudp_engine_next_timeout(c->e), t0 + 300);
}

/* The handshake deadline counts from the association's creation: a
 * millisecond before it the handshake lives, at it the association ends
 * with TIMEOUT, counted, on both the client and the server side. */
static void test_handshake_deadline_exact(void **state)
{
    dtlsudp_engine_config cfg = base_cfg();
    uint8_t hello[TN_MAX_DGRAM];
    size_t len;
    dtlsudp_assoc *sa = NULL;
    uint64_t t0 = tn_clock;
    tn_node *s, *c;

    (void)state;
    cfg.handshake_timeout = 3000;
    s = node("127.0.0.1:10161", &tc_get()->server, &cfg);
    c = node("127.0.0.1:49000", &tc_get()->client, &cfg);
    eng_set_timer_cb(s->e, slow_timer_cb);
    eng_set_timer_cb(c->e, slow_timer_cb);
    len = tn_cookie_hello(&net, c, s, hello, sizeof(hello));
    assert_int_equal(tn_inject(&net, s, &c->addr, hello, len, &sa), DTLSUDP_OK);
    assert_non_null(sa);
    assert_int_equal(stats(s).half_open_now, 1);
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), t0 + 3000);
    assert_int_equal(dtlsudp_engine_next_timeout(c->e), t0 + 3000);

    tn_clock = t0 + 2999;
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, tn_clock), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_handle_timeout(c->e, tn_clock), DTLSUDP_OK);
    assert_int_equal(s->closed + c->closed, 0);

    tn_clock = t0 + 3000;
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, tn_clock), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_handle_timeout(c->e, tn_clock), DTLSUDP_OK);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_TIMEOUT);
    assert_int_equal(c->closed, 1);
    assert_int_equal(c->last_reason, DTLSUDP_ERR_TIMEOUT);
    assert_int_equal(deadline_logged, 2);
    assert_int_equal(stats(s).handshakes_timed_out, 1);
    assert_int_equal(stats(s).half_open_now, 0);
    assert_int_equal(stats(s).assocs_now, 0);
    assert_int_equal(stats(c).handshakes_timed_out, 1);
    assert_null(dtlsudp_engine_find(c->e, &s->addr));
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), t0 + cfg.cookie_rotation);
}

/* With the deadline far away, OpenSSL gives up after its last
 * retransmission: the association ends with TIMEOUT before the deadline. */
static void test_openssl_gives_up_first(void **state)
{
    dtlsudp_engine_config cfg = base_cfg();
    dtlsudp_addr nobody = tn_addr("127.0.0.1:9");
    uint64_t t0 = tn_clock;
    tn_node *c;
    int rounds;

    (void)state;
    cfg.handshake_timeout = 600000;
    cfg.cookie_rotation = 600000;
    c = node("127.0.0.1:49000", &tc_get()->client, &cfg);
    assert_int_equal(dtlsudp_engine_connect(c->e, &nobody, NULL, t0, NULL), DTLSUDP_OK);
    for (rounds = 0; rounds < 50 && c->closed == 0; rounds++) {
        tn_clock = dtlsudp_engine_next_timeout(c->e);
        assert_true(tn_clock < t0 + 600000);
        assert_int_equal(dtlsudp_engine_handle_timeout(c->e, tn_clock), DTLSUDP_OK);
        (void)queued(c);
    }
    assert_int_equal(c->closed, 1);
    assert_int_equal(c->last_reason, DTLSUDP_ERR_TIMEOUT);
    assert_int_equal(deadline_logged, 0);
    assert_true(rounds > 10); /* every retransmission ran first */
    assert_int_equal(stats(c).assocs_now, 0);
}

struct wait_established {
    tn_node *node;
    unsigned count; /* ESTABLISHED events to wait for */
};

static int established_on(tn_net *n, void *arg)
{
    const struct wait_established *w = arg;
    (void)n;
    return w->node->established >= w->count;
}

/* c connects to s; returns once s holds the established association and
 * c has sent it one datagram of data (which ends the hand-off's copies of
 * the server's last flight). */
static dtlsudp_assoc *establish_and_say_hello(tn_node *s, tn_node *c)
{
    static const uint8_t hi[] = "hi";
    struct wait_established w = {s, s->established + 1};
    dtlsudp_assoc *ca = tn_connect(&net, c, s, NULL), *sa;

    assert_non_null(ca);
    assert_true(tn_run(&net, established_on, &w, 100));
    tn_pump(&net); /* the server's Finished */
    assert_int_equal(dtlsudp_assoc_state(ca), DTLSUDP_STATE_ESTABLISHED);
    assert_int_equal(dtlsudp_assoc_write(ca, hi, sizeof(hi), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_non_null(sa);
    return sa;
}

/* Idle expiry takes the least recently active association at exactly
 * its time, with a close_notify; the other one stays. */
static void test_idle_expiry_least_recently_active_first(void **state)
{
    dtlsudp_engine_config cfg = base_cfg();
    tn_node *s, *c1, *c2;
    dtlsudp_assoc *a1, *a2;
    dtlsudp_time t1, t2;
    uint8_t buf[TN_MAX_DGRAM];
    size_t len;
    dtlsudp_addr to;

    (void)state;
    cfg.idle_timeout = 5000;
    cfg.cookie_rotation = 600000;
    s = node("127.0.0.1:10161", &tc_get()->server, &cfg);
    c1 = node("127.0.0.1:49001", &tc_get()->client, &cfg);
    c2 = node("127.0.0.1:49002", &tc_get()->client, &cfg);
    a1 = establish_and_say_hello(s, c1);
    tn_clock += 1000;
    a2 = establish_and_say_hello(s, c2);
    t2 = tn_clock;
    t1 = a1->last_activity;
    assert_true(t1 < t2);
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), t1 + 5000);

    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, t1 + 4999), DTLSUDP_OK);
    assert_int_equal(s->closed, 0);
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, t1 + 5000), DTLSUDP_OK);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_IDLE);
    assert_null(dtlsudp_engine_find(s->e, &c1->addr));
    assert_ptr_equal(dtlsudp_engine_find(s->e, &c2->addr), a2);
    assert_int_equal(stats(s).idle_expired, 1);
    assert_int_equal(stats(s).closes_sent, 1);
    /* The close_notify went to the expired peer. */
    assert_int_equal(dtlsudp_engine_pop(s->e, buf, sizeof(buf), &len, &to, NULL, NULL), DTLSUDP_OK);
    assert_true(dtlsudp_addr_equal(&to, &c1->addr));
    assert_int_equal(buf[0], DTLSUDP_CT_ALERT);
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), t2 + 5000);
}

/* idle_timeout NEVER: established associations have no deadline. */
static void test_idle_timeout_never(void **state)
{
    dtlsudp_engine_config cfg = base_cfg();
    tn_node *s, *c;
    dtlsudp_time far;

    (void)state;
    cfg.idle_timeout = DTLSUDP_TIME_NEVER;
    cfg.cookie_rotation = 600000;
    s = node("127.0.0.1:10161", &tc_get()->server, &cfg);
    c = node("127.0.0.1:49000", &tc_get()->client, &cfg);
    (void)establish_and_say_hello(s, c);
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), s->e->cookie_rotate_at);
    far = tn_clock + 1000u * 1000u * 1000u;
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, far), DTLSUDP_OK);
    assert_int_equal(s->closed, 0);
    assert_non_null(dtlsudp_engine_find(s->e, &c->addr));
}

/* A timeout near DTLSUDP_TIME_NEVER saturates instead of wrapping round
 * to a time already past. */
static void test_huge_timeouts_saturate(void **state)
{
    dtlsudp_engine_config cfg = base_cfg();
    tn_node *s, *c;
    dtlsudp_addr nobody = tn_addr("127.0.0.1:9");

    (void)state;
    cfg.handshake_timeout = DTLSUDP_TIME_NEVER - 1;
    cfg.idle_timeout = DTLSUDP_TIME_NEVER - 1;
    s = node("127.0.0.1:10161", &tc_get()->server, &cfg);
    c = node("127.0.0.1:49000", &tc_get()->client, &cfg);
    (void)establish_and_say_hello(s, c);
    assert_true(dtlsudp_engine_next_timeout(s->e) > tn_clock);
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, tn_clock + 1), DTLSUDP_OK);
    assert_int_equal(s->closed, 0);

    assert_int_equal(dtlsudp_engine_connect(c->e, &nobody, NULL, tn_clock, NULL), DTLSUDP_OK);
    eng_set_timer_cb(c->e, slow_timer_cb);
    assert_true(dtlsudp_engine_next_timeout(c->e) > tn_clock);
    assert_int_equal(dtlsudp_engine_handle_timeout(c->e, tn_clock + 1), DTLSUDP_OK);
    assert_int_equal(c->closed, 0);
    assert_non_null(dtlsudp_engine_find(c->e, &nobody));
}

/* The hand-off's timed copies of the server's last flight are folded in:
 * while the client is silent after its Finished, the server's deadline is
 * the next copy, and at that time the copy goes out. */
static void test_last_flight_copies_folded_in(void **state)
{
    dtlsudp_engine_config cfg = base_cfg();
    tn_node *s, *c;
    dtlsudp_time due;
    uint64_t resent;

    (void)state;
    s = node("127.0.0.1:10161", &tc_get()->server, &cfg);
    c = node("127.0.0.1:49000", &tc_get()->client, &cfg);
    struct wait_established w = {s, 1};

    assert_non_null(tn_connect(&net, c, s, NULL));
    assert_true(tn_run(&net, established_on, &w, 100));
    tn_pump(&net); /* the server's Finished reaches the client */
    assert_int_equal(queued(s), 0);
    due = eng_handoff_next_timeout(s->e);
    assert_true(due < s->e->cookie_rotate_at);
    assert_int_equal(dtlsudp_engine_next_timeout(s->e), due);
    resent = s->e->flights_resent;
    tn_clock = due - 1;
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, tn_clock), DTLSUDP_OK);
    assert_int_equal(queued(s), 0);
    tn_clock = due;
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, tn_clock), DTLSUDP_OK);
    assert_true(queued(s) >= 1);
    assert_int_equal(s->e->flights_resent, resent + 1);
    assert_true(dtlsudp_engine_next_timeout(s->e) > due);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idle_engine_waits_for_key_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_rotation_at_its_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retransmission_timer_folded_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake_deadline_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openssl_gives_up_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_expiry_least_recently_active_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout_never, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_timeouts_saturate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_flight_copies_folded_in, setup, teardown),
    };
    int ret = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return ret;
}
