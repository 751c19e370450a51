/*
 * test_conn.c - the connection object (transport/net/conn.c), its parts
 * that need no socket: the leftovers (plaintext an association still held
 * when it ended, kept in order for the application), ICMP port
 * unreachable as a hint (RFC 8085 5.2: a handshake fails at once, an
 * established association only when the grace period passes without
 * being cancelled), and the accessors.  The associations are real ones,
 * made between two engines on the in-memory network of tests/engine;
 * the connection around one is built by hand, as the listener does.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net_internal.h"
#include "testnet.h"

static tn_net net;
static tn_node *server, *client;
static dtlsudp_assoc *client_assoc;

static int both_established(tn_net *n, void *arg)
{
    (void)arg;
    return n->nodes[0].established >= 1 && n->nodes[1].established >= 1;
}

static dtlsudp_assoc *established_pair(void)
{
    const testcerts *tc = tc_get();

    tn_init(&net, 23);
    server = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    client = tn_add(&net, "127.0.0.1:20000", &tc->client, &tc->ca, NULL);
    assert_non_null(server);
    assert_non_null(client);
    server->no_read = 1;
    client_assoc = tn_connect(&net, client, server, NULL);
    assert_non_null(client_assoc);
    assert_true(tn_run(&net, both_established, NULL, 200));
    assert_non_null(server->last_assoc);
    return server->last_assoc;
}

static void conn_around(dtlsudp_conn *c, dtlsudp_assoc *a)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->assoc = a;
    if (a != NULL) {
        c->peer = *dtlsudp_assoc_peer(a);
        c->local = *dtlsudp_assoc_local(a);
    }
}

static void test_leftovers_keep_order(void **state)
{
    dtlsudp_conn c;
    dtlsudp_assoc *a;
    uint8_t buf[64];
    size_t len = 0;
    int i;

    (void)state;
    a = established_pair();
    conn_around(&c, a);
    assert_int_equal(net_conn_pop_leftover(&c, buf, sizeof(buf), &len), DTLSUDP_ERR_AGAIN);
    for (i = 0; i < 3; i++) {
        uint8_t msg[8];
        memset(msg, 'a' + i, sizeof(msg));
        assert_int_equal(dtlsudp_assoc_write(client_assoc, msg, (size_t)(i + 4), tn_clock), DTLSUDP_OK);
    }
    for (i = 0; i < 5; i++)
        tn_pump(&net);
    assert_int_equal(dtlsudp_assoc_pending(a), 3);

    net_conn_keep_leftovers(&c, a);
    assert_int_equal(dtlsudp_assoc_pending(a), 0); /* moved out of the engine */
    /* too small: BUFFER, and the datagram stays first */
    assert_int_equal(net_conn_pop_leftover(&c, buf, 3, &len), DTLSUDP_ERR_BUFFER);
    for (i = 0; i < 3; i++) {
        assert_int_equal(net_conn_pop_leftover(&c, buf, sizeof(buf), &len), DTLSUDP_OK);
        assert_int_equal(len, (size_t)(i + 4));
        assert_int_equal(buf[0], 'a' + i);
    }
    assert_int_equal(net_conn_pop_leftover(&c, buf, sizeof(buf), &len), DTLSUDP_ERR_AGAIN);
    assert_false(net_conn_has_leftovers(&c));

    /* kept again after being emptied, then freed without reading */
    assert_int_equal(dtlsudp_assoc_write(client_assoc, (const uint8_t *)"late", 4, tn_clock), DTLSUDP_OK);
    for (i = 0; i < 5; i++)
        tn_pump(&net);
    net_conn_keep_leftovers(&c, a);
    assert_true(net_conn_has_leftovers(&c));
    /* exactly one kept: the first is also the last */
    assert_null(dtlsudp_link_next(&c.leftovers, dtlsudp_link_first(&c.leftovers)));
    net_conn_free_leftovers(&c);
    assert_false(net_conn_has_leftovers(&c));
    assert_int_equal(net_conn_pop_leftover(&c, buf, sizeof(buf), &len), DTLSUDP_ERR_AGAIN);
    tn_free(&net);
}

static void test_refused_is_a_hint_for_an_established_association(void **state)
{
    dtlsudp_conn c;
    dtlsudp_assoc *a;

    (void)state;
    a = established_pair();
    conn_around(&c, a);
    assert_int_equal(net_conn_refused_hint(&c, 1000, 300), 1);
    assert_int_equal(c.refused_deadline, 1300);
    /* a second ICMP error does not push the deadline back */
    assert_int_equal(net_conn_refused_hint(&c, 1200, 300), 1);
    assert_int_equal(c.refused_deadline, 1300);
    /* before the deadline: still pending, association alive */
    assert_int_equal(net_conn_refused_expire(&c, 1299), 1);
    assert_int_equal(server->closed, 0);
    /* at it: ended with REFUSED */
    assert_int_equal(net_conn_refused_expire(&c, 1300), 0);
    assert_int_equal(server->closed, 1);
    assert_int_equal(server->last_reason, DTLSUDP_ERR_REFUSED);
    assert_int_equal(c.refused_deadline, 0);
    tn_free(&net);
}

static void test_refused_deadline_cleared_by_the_end(void **state)
{
    dtlsudp_conn c;
    dtlsudp_assoc *a;

    (void)state;
    a = established_pair();
    conn_around(&c, a);
    /* grace 0: the documented default of 5 s */
    assert_int_equal(net_conn_refused_hint(&c, 1000, 0), 1);
    assert_int_equal(c.refused_deadline, 6000);
    /* the association ended otherwise meanwhile: nothing left to end */
    c.assoc = NULL;
    assert_int_equal(net_conn_refused_expire(&c, 7000), 0);
    assert_int_equal(c.refused_deadline, 0);
    assert_int_equal(server->closed, 0);
    /* no association, no deadline */
    assert_int_equal(net_conn_refused_hint(&c, 8000, 100), 0);
    assert_int_equal(net_conn_refused_hint(NULL, 8000, 100), 0);
    assert_int_equal(c.refused_deadline, 0);
    tn_free(&net);
}

static void test_refused_ends_a_handshake_at_once(void **state)
{
    const testcerts *tc = tc_get();
    dtlsudp_conn c;

    (void)state;
    tn_init(&net, 29);
    server = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    client = tn_add(&net, "127.0.0.1:20000", &tc->client, &tc->ca, NULL);
    client_assoc = tn_connect(&net, client, server, NULL);
    assert_non_null(client_assoc);
    conn_around(&c, client_assoc);
    assert_int_equal(net_conn_refused_hint(&c, 10, 5000), 0);
    assert_int_equal(client->closed, 1);
    assert_int_equal(client->last_reason, DTLSUDP_ERR_REFUSED);
    assert_int_equal(c.refused_deadline, 0);
    tn_free(&net);
}

static void test_accessors(void **state)
{
    dtlsudp_conn c;
    dtlsudp_assoc *a;
    dtlsudp_conn_stats st;
    int user;

    (void)state;
    a = established_pair();
    conn_around(&c, a);
    assert_ptr_equal(dtlsudp_conn_assoc(&c), a);
    assert_int_equal(dtlsudp_conn_state(&c), DTLSUDP_STATE_ESTABLISHED);
    assert_int_equal(dtlsudp_conn_last_error(&c), DTLSUDP_OK);
    assert_int_equal(dtlsudp_conn_max_write(&c), dtlsudp_assoc_max_write(a));
    assert_true(dtlsudp_conn_max_write(&c) > 1000);
    assert_true(dtlsudp_addr_equal(dtlsudp_conn_peer(&c), &client->addr));
    assert_true(dtlsudp_addr_equal(dtlsudp_conn_local(&c), &server->addr));
    assert_null(dtlsudp_conn_listener(&c));
    dtlsudp_conn_set_user(&c, &user);
    assert_ptr_equal(dtlsudp_conn_get_user(&c), &user);
    assert_int_equal(dtlsudp_conn_get_stats(&c, NULL), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_conn_get_stats(NULL, &st), DTLSUDP_ERR_INVALID);
    c.stats.datagrams_read = 5;
    /* a server connection whose listener is gone still reports its own */
    assert_int_equal(dtlsudp_conn_get_stats(&c, &st), DTLSUDP_OK);
    assert_int_equal(st.datagrams_read, 5);
    assert_int_equal(st.net.conns_now, 0);

    /* once the association is gone: CLOSED, with the reason it ended */
    c.assoc = NULL;
    c.last_error = DTLSUDP_ERR_IDLE;
    assert_int_equal(dtlsudp_conn_state(&c), DTLSUDP_STATE_CLOSED);
    assert_int_equal(dtlsudp_conn_last_error(&c), DTLSUDP_ERR_IDLE);
    assert_int_equal(dtlsudp_conn_max_write(&c), 0);
    assert_int_equal(dtlsudp_conn_shutdown(&c), DTLSUDP_ERR_STATE);
    tn_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leftovers_keep_order),
        cmocka_unit_test(test_refused_is_a_hint_for_an_established_association),
        cmocka_unit_test(test_refused_deadline_cleared_by_the_end),
        cmocka_unit_test(test_refused_ends_a_handshake_at_once),
        cmocka_unit_test(test_accessors),
    };
    int ret;

    tn_mem_init();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return ret;
}
