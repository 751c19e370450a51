/*
 * test_accept.c - the server's accept path (transport/engine/accept.c):
 * a ClientHello from a peer without an association goes through the
 * cookie gate on the one listen SSL (made at the first hello).  Without a
 * valid cookie it gets a HelloVerifyRequest and costs no engine memory;
 * a hello the gate cannot use is dropped as malformed.  With a valid
 * cookie, after the ended and admission checks, the listen SSL becomes
 * the new association's (a fresh one listens), the association is
 * counted half-open, put in the peer table (or, for a peer restart, made
 * the old association's successor) and answers with its first flight.
 * Refusals (ended hello, admission, allocation failure) allocate nothing.
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
    tn_init(&net, 5);
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
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc_get()->server, &tc_get()->ca, cfg);
    assert_non_null(s);
    return s;
}

static tn_node *client_node(const char *addr)
{
    tn_node *c = tn_add(&net, addr, &tc_get()->client, &tc_get()->ca, NULL);
    assert_non_null(c);
    return c;
}

static dtlsudp_stats stats(tn_node *n)
{
    dtlsudp_stats st;
    assert_int_equal(dtlsudp_engine_get_stats(n->e, &st), DTLSUDP_OK);
    return st;
}

/* The one datagram n has queued: its handshake type (0: not a handshake
 * record), and whose it is. */
static int queued_handshake(tn_node *n, dtlsudp_assoc **a)
{
    uint8_t buf[TN_MAX_DGRAM];
    size_t len;

    assert_int_equal(dtlsudp_engine_pop(n->e, buf, sizeof(buf), &len, NULL, NULL, a), DTLSUDP_OK);
    return buf[0] == DTLSUDP_CT_HANDSHAKE && len > DTLSUDP_RECORD_HEADER_LEN ? buf[DTLSUDP_RECORD_HEADER_LEN] : 0;
}

static size_t queued_count(tn_node *n)
{
    uint8_t buf[TN_MAX_DGRAM];
    size_t len, count = 0;
    while (dtlsudp_engine_pop(n->e, buf, sizeof(buf), &len, NULL, NULL, NULL) == DTLSUDP_OK)
        count++;
    return count;
}

/* c's first ClientHello (no cookie), taken off c's queue. */
static size_t first_hello(tn_node *c, tn_node *s, uint8_t *out, size_t cap)
{
    size_t len;
    assert_non_null(tn_connect(&net, c, s, NULL));
    assert_int_equal(dtlsudp_engine_pop(c->e, out, cap, &len, NULL, NULL, NULL), DTLSUDP_OK);
    return len;
}

static int both_established(tn_net *n, void *arg)
{
    tn_node **pair = arg;
    (void)n;
    return pair[0]->established >= 1 && pair[1]->established >= 1;
}

/* A hello without a cookie: a HelloVerifyRequest, owned by no
 * association, and not one byte of engine memory.  The listen SSL is made
 * at the first hello, not with the engine. */
static void test_hello_without_cookie_costs_nothing(void **state)
{
    tn_node *s = server_node(NULL), *c = client_node("127.0.0.1:49000");
    uint8_t hello[TN_MAX_DGRAM];
    size_t len = first_hello(c, s, hello, sizeof(hello));
    long long live = s->alloc.live_count, bytes = s->alloc.live_bytes;
    dtlsudp_assoc *a = (dtlsudp_assoc *)&a, *owner = (dtlsudp_assoc *)&owner;

    (void)state;
    assert_null(s->e->listen_ssl);
    assert_int_equal(tn_inject(&net, s, &c->addr, hello, len, &a), DTLSUDP_OK);
    assert_null(a);
    assert_non_null(s->e->listen_ssl);
    assert_int_equal(queued_handshake(s, &owner), DTLSUDP_HS_HELLO_VERIFY_REQUEST);
    assert_null(owner);
    assert_int_equal(s->alloc.live_count, live);
    assert_int_equal(s->alloc.live_bytes, bytes);
    assert_int_equal(eng_count(s->e), 0);
    assert_int_equal(stats(s).cookies_sent, 1);
    assert_int_equal(stats(s).handshakes_started, 0);
    assert_int_equal(stats(s).half_open_now, 0);
}

/* Hellos the cookie gate cannot use are dropped as malformed: no answer,
 * nothing allocated.  DTLSv1_listen() keeps no state between datagrams,
 * so it takes only a first fragment that may hold the cookie, and
 * message_seq 0..2. */
static void test_unusable_hello_dropped(void **state)
{
    tn_node *s = server_node(NULL), *c = client_node("127.0.0.1:49000");
    uint8_t hello[TN_MAX_DGRAM], bad[TN_MAX_DGRAM];
    size_t len = first_hello(c, s, hello, sizeof(hello));
    uint8_t *hs = bad + DTLSUDP_RECORD_HEADER_LEN;
    long long live = s->alloc.live_count;

    (void)state;
    memcpy(bad, hello, len);
    hs[8] = 1; /* fragment_offset 1: not the first fragment */
    assert_int_equal(tn_inject(&net, s, &c->addr, bad, len, NULL), DTLSUDP_ERR_DROPPED);
    assert_non_null(s->e->listen_ssl); /* it reached the gate */
    memcpy(bad, hello, len);
    hs[5] = 3; /* message_seq 3 */
    assert_int_equal(tn_inject(&net, s, &c->addr, bad, len, NULL), DTLSUDP_ERR_DROPPED);
    assert_int_equal(queued_count(s), 0);
    assert_int_equal(stats(s).dropped_malformed, 2);
    assert_int_equal(stats(s).cookies_sent, 0);
    assert_int_equal(s->alloc.live_count, live);
    /* The gate still answers a usable hello. */
    assert_int_equal(tn_inject(&net, s, &c->addr, hello, len, NULL), DTLSUDP_OK);
    assert_int_equal(queued_handshake(s, NULL), DTLSUDP_HS_HELLO_VERIFY_REQUEST);
}

/* A valid cookie: the listen SSL, with the hello it buffered, becomes the
 * association's, which is half-open, in the table, remembers the hello's
 * random and message_seq, and sends its first flight; the handshake it
 * starts completes. */
static void test_verified_cookie_starts_server_handshake(void **state)
{
    tn_node *s = server_node(NULL), *c = client_node("127.0.0.1:49000");
    tn_node *pair[2];
    uint8_t hello[TN_MAX_DGRAM];
    size_t len = tn_cookie_hello(&net, c, s, hello, sizeof(hello));
    SSL *listening = s->e->listen_ssl;
    dtlsudp_assoc *a = NULL, *owner = NULL;
    const uint8_t *random;
    uint16_t seq;

    (void)state;
    assert_non_null(listening);
    assert_int_equal(tn_inject(&net, s, &c->addr, hello, len, &a), DTLSUDP_OK);
    assert_non_null(a);
    assert_false(a->is_client);
    assert_int_equal(a->state, DTLSUDP_STATE_HANDSHAKING);
    assert_ptr_equal(a->ssl, listening);
    assert_non_null(s->e->listen_ssl);
    assert_ptr_not_equal(s->e->listen_ssl, listening);
    assert_ptr_equal(dtlsudp_engine_find(s->e, &c->addr), a);
    assert_true(dtlsudp_addr_equal(&a->local, &s->addr));
    assert_true(eng_record_client_hello_random(hello, len, &random));
    assert_memory_equal(a->client_random, random, sizeof(a->client_random));
    assert_true(eng_record_is_client_hello(hello, len, &seq));
    assert_int_equal(a->peer_seq_max, seq);
    assert_int_equal(queued_handshake(s, &owner), DTLSUDP_HS_SERVER_HELLO);
    assert_ptr_equal(owner, a);
    assert_int_equal(stats(s).cookies_verified, 1);
    assert_int_equal(stats(s).handshakes_started, 1);
    assert_int_equal(stats(s).half_open_now, 1);
    assert_int_equal(stats(s).assocs_now, 1);

    /* The rest of the server's flight was taken off the queue above; the
     * client asks for it again and the handshake completes. */
    (void)queued_count(s);
    pair[0] = s, pair[1] = c;
    assert_true(tn_run(&net, both_established, pair, 200));
    assert_int_equal(stats(s).half_open_now, 0);
}

/* A cookie issued to another address is bad: a new HelloVerifyRequest,
 * counted, nothing allocated. */
static void test_cookie_of_another_address(void **state)
{
    tn_node *s = server_node(NULL), *c1 = client_node("127.0.0.1:49001"), *c2 = client_node("127.0.0.1:49002");
    uint8_t hello[TN_MAX_DGRAM];
    size_t len = tn_cookie_hello(&net, c1, s, hello, sizeof(hello));
    long long live = s->alloc.live_count;
    dtlsudp_assoc *a = NULL;

    (void)state;
    assert_int_equal(tn_inject(&net, s, &c2->addr, hello, len, &a), DTLSUDP_OK);
    assert_null(a);
    assert_int_equal(queued_handshake(s, NULL), DTLSUDP_HS_HELLO_VERIFY_REQUEST);
    assert_int_equal(stats(s).cookies_bad, 1);
    assert_int_equal(stats(s).cookies_verified, 0);
    assert_int_equal(s->alloc.live_count, live);
    assert_null(dtlsudp_engine_find(s->e, &c2->addr));
}

/* Admission refuses when the table is full: the verified hello is
 * dropped, counted in refused_full, and costs nothing. */
static void test_admission_refusal_allocates_nothing(void **state)
{
    dtlsudp_engine_config cfg;
    tn_node *s, *c;
    dtlsudp_addr far1 = tn_addr("127.0.0.1:7001"), far2 = tn_addr("127.0.0.1:7002");
    uint8_t hello[TN_MAX_DGRAM];
    size_t len;
    long long live;
    dtlsudp_assoc *a = (dtlsudp_assoc *)&a;

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    cfg.max_assocs = 2;
    s = server_node(&cfg);
    c = client_node("127.0.0.1:49000");
    /* The server's own client handshakes fill its two slots. */
    assert_int_equal(dtlsudp_engine_connect(s->e, &far1, NULL, tn_clock, NULL), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_connect(s->e, &far2, NULL, tn_clock, NULL), DTLSUDP_OK);
    (void)queued_count(s);
    len = tn_cookie_hello(&net, c, s, hello, sizeof(hello));
    live = s->alloc.live_count;
    assert_int_equal(tn_inject(&net, s, &c->addr, hello, len, &a), DTLSUDP_ERR_DROPPED);
    assert_null(a);
    assert_int_equal(s->alloc.live_count, live);
    assert_int_equal(queued_count(s), 0);
    assert_null(dtlsudp_engine_find(s->e, &c->addr));
    assert_int_equal(stats(s).refused_full, 1);
    assert_int_equal(stats(s).cookies_verified, 1);
    assert_int_equal(stats(s).handshakes_started, 2);
    assert_int_equal(stats(s).half_open_now, 0);
}

/* The hello of an association that ended starts nothing, even with its
 * valid cookie. */
static void test_hello_of_ended_association_starts_nothing(void **state)
{
    tn_node *s = server_node(NULL), *c = client_node("127.0.0.1:49000");
    uint8_t hello[TN_MAX_DGRAM];
    size_t len = tn_cookie_hello(&net, c, s, hello, sizeof(hello));
    dtlsudp_assoc *a = NULL;

    (void)state;
    assert_int_equal(tn_inject(&net, s, &c->addr, hello, len, &a), DTLSUDP_OK);
    assert_non_null(a);
    (void)queued_count(s);
    dtlsudp_assoc_close(a, tn_clock);
    assert_int_equal(s->closed, 1);
    assert_int_equal(tn_inject(&net, s, &c->addr, hello, len, &a), DTLSUDP_ERR_DROPPED);
    assert_null(a);
    assert_null(dtlsudp_engine_find(s->e, &c->addr));
    assert_int_equal(stats(s).handshakes_started, 1);
    assert_int_equal(stats(s).assocs_now, 0);
}

/* No memory for the association: NOMEM, nothing kept, nothing counted;
 * the same hello is served once memory is back. */
static void test_allocation_failure_keeps_nothing(void **state)
{
    tn_node *s = server_node(NULL), *c = client_node("127.0.0.1:49000");
    uint8_t hello[TN_MAX_DGRAM];
    size_t len = tn_cookie_hello(&net, c, s, hello, sizeof(hello));
    long long live = s->alloc.live_count, bytes = s->alloc.live_bytes;
    dtlsudp_assoc *a = (dtlsudp_assoc *)&a;

    (void)state;
    s->alloc.fail_at = s->alloc.total + 1;
    assert_int_equal(tn_inject(&net, s, &c->addr, hello, len, &a), DTLSUDP_ERR_NOMEM);
    assert_int_equal(s->alloc.failures, 1);
    assert_null(a);
    assert_int_equal(s->alloc.live_count, live);
    assert_int_equal(s->alloc.live_bytes, bytes);
    assert_null(dtlsudp_engine_find(s->e, &c->addr));
    assert_int_equal(stats(s).handshakes_started, 0);
    assert_int_equal(stats(s).half_open_now, 0);
    assert_int_equal(stats(s).assocs_now, 0);
    assert_int_equal(queued_count(s), 0);

    s->alloc.fail_at = 0;
    assert_int_equal(tn_inject(&net, s, &c->addr, hello, len, &a), DTLSUDP_OK);
    assert_non_null(a);
    assert_ptr_equal(dtlsudp_engine_find(s->e, &c->addr), a);
}

/* A peer restart (a new hello from the address of an established
 * association) passes the gate too, and runs as the old association's
 * successor, outside the table; a second restart replaces the first. */
static void test_restart_runs_as_successor(void **state)
{
    tn_node *s = server_node(NULL), *c = client_node("127.0.0.1:49000"), *c2, *c3;
    tn_node *pair[2];
    uint8_t hello[TN_MAX_DGRAM];
    size_t len;
    dtlsudp_assoc *old, *first = NULL, *second = NULL;

    (void)state;
    pair[0] = s, pair[1] = c;
    assert_non_null(tn_connect(&net, c, s, NULL));
    assert_true(tn_run(&net, both_established, pair, 200));
    (void)tn_pump(&net);
    old = dtlsudp_engine_find(s->e, &c->addr);
    assert_non_null(old);

    tn_drop_node(&net, c); /* the client restarts at the same address */
    c2 = client_node("127.0.0.1:49000");
    len = tn_cookie_hello(&net, c2, s, hello, sizeof(hello));
    assert_int_equal(stats(s).cookies_sent, 2);
    assert_int_equal(tn_inject(&net, s, &c2->addr, hello, len, &first), DTLSUDP_OK);
    assert_non_null(first);
    assert_ptr_equal(old->successor, first);
    assert_ptr_equal(first->predecessor, old);
    assert_ptr_equal(dtlsudp_engine_find(s->e, &c2->addr), old);
    assert_int_equal(stats(s).assocs_now, 2);
    assert_int_equal(stats(s).half_open_now, 1);
    (void)queued_count(s);

    tn_drop_node(&net, c2);
    c3 = client_node("127.0.0.1:49000");
    len = tn_cookie_hello(&net, c3, s, hello, sizeof(hello));
    assert_int_equal(tn_inject(&net, s, &c3->addr, hello, len, &second), DTLSUDP_OK);
    assert_non_null(second);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_REPLACED);
    assert_ptr_equal(old->successor, second);
    assert_ptr_equal(second->predecessor, old);
    assert_ptr_equal(dtlsudp_engine_find(s->e, &c3->addr), old);
    assert_int_equal(stats(s).assocs_now, 2);
    assert_int_equal(stats(s).half_open_now, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_without_cookie_costs_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unusable_hello_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verified_cookie_starts_server_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie_of_another_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admission_refusal_allocates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_of_ended_association_starts_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failure_keeps_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_runs_as_successor, setup, teardown),
    };
    int ret = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return ret;
}
