/*
 * test_assoc.c - one association seen from outside
 * (transport/engine/assoc.c): the plaintext queue (FIFO, AGAIN when
 * empty, BUFFER keeps the datagram), the accessors on both ends of a real
 * handshake with and without the record hand-off, owned data released
 * exactly once, and a NULL association answered safely by every accessor.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine_internal.h"
#include "testnet.h"

static tn_net net;
static tn_node *server, *client;
static dtlsudp_assoc *ca, *sa;

static int both_established(tn_net *n, void *arg)
{
    (void)arg;
    return n->nodes[0].established >= 1 && n->nodes[1].established >= 1;
}

static void establish(int keep_ssl)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;

    dtlsudp_engine_config_init(&cfg);
    cfg.keep_ssl = keep_ssl;
    tn_init(&net, 7);
    server = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &cfg);
    client = tn_add(&net, "127.0.0.1:20000", &tc->client, &tc->ca, &cfg);
    assert_non_null(server);
    assert_non_null(client);
    server->no_read = 1; /* the test reads the server's queue itself */
    ca = tn_connect(&net, client, server, NULL);
    assert_non_null(ca);
    assert_true(tn_run(&net, both_established, NULL, 200));
    sa = server->last_assoc;
    assert_non_null(sa);
}

static void check_accessors(int handed_off)
{
    const testcerts *tc = tc_get();
    STACK_OF(X509) *chain;

    assert_int_equal(dtlsudp_assoc_state(ca), DTLSUDP_STATE_ESTABLISHED);
    assert_int_equal(dtlsudp_assoc_state(sa), DTLSUDP_STATE_ESTABLISHED);
    assert_true(dtlsudp_assoc_is_client(ca));
    assert_false(dtlsudp_assoc_is_client(sa));
    assert_true(dtlsudp_assoc_id(ca) != 0);
    assert_true(dtlsudp_assoc_id(sa) != 0);
    assert_true(dtlsudp_addr_equal(dtlsudp_assoc_peer(ca), &server->addr));
    assert_true(dtlsudp_addr_equal(dtlsudp_assoc_peer(sa), &client->addr));
    assert_true(dtlsudp_addr_equal(dtlsudp_assoc_local(sa), &server->addr));
    assert_ptr_equal(dtlsudp_assoc_engine(ca), client->e);
    assert_ptr_equal(dtlsudp_assoc_engine(sa), server->e);

    /* identity: each end sees the other's certificate, verified to the CA */
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(ca), tc->server.cert), 0);
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(sa), tc->client.cert), 0);
    chain = dtlsudp_assoc_peer_chain(sa);
    assert_non_null(chain);
    assert_int_equal(sk_X509_num(chain), 2);
    assert_int_equal(X509_cmp(sk_X509_value(chain, 0), tc->client.cert), 0);
    assert_int_equal(X509_cmp(sk_X509_value(chain, 1), tc->ca.cert), 0);
    assert_int_equal(dtlsudp_assoc_peer_trust(sa), DTLSUDP_TRUST_CHAIN);
    assert_int_equal(dtlsudp_assoc_peer_trust(ca), DTLSUDP_TRUST_CHAIN);

    /* the SSL is gone after the hand-off; what it reported stays */
    if (handed_off) {
        assert_null(dtlsudp_assoc_ssl(ca));
        assert_null(dtlsudp_assoc_ssl(sa));
    } else {
        assert_non_null(dtlsudp_assoc_ssl(ca));
        assert_non_null(dtlsudp_assoc_ssl(sa));
    }
    assert_string_equal(dtlsudp_assoc_version(ca), "DTLSv1.2");
    assert_string_equal(dtlsudp_assoc_version(sa), "DTLSv1.2");
    assert_non_null(dtlsudp_assoc_current_cipher(sa));
    assert_string_equal(dtlsudp_assoc_cipher(sa), SSL_CIPHER_get_name(dtlsudp_assoc_current_cipher(sa)));
    assert_string_equal(dtlsudp_assoc_cipher(ca), dtlsudp_assoc_cipher(sa));
    assert_true(dtlsudp_assoc_was_established(ca));
    assert_true(dtlsudp_assoc_was_established(sa));
    assert_false(dtlsudp_assoc_resumed(sa));
    assert_int_equal(dtlsudp_assoc_peer_alert(sa), -1);
}

static void test_accessors_after_handoff(void **state)
{
    (void)state;
    establish(0);
    check_accessors(1);
    tn_free(&net);
}

static void test_accessors_with_openssl_records(void **state)
{
    (void)state;
    establish(1);
    check_accessors(0);
    tn_free(&net);
}

static void test_plaintext_queue(void **state)
{
    uint8_t buf[64];
    size_t len = 0;
    int i;

    (void)state;
    establish(0);
    assert_int_equal(dtlsudp_assoc_pending(sa), 0);
    assert_int_equal(dtlsudp_assoc_read(sa, buf, sizeof(buf), &len), DTLSUDP_ERR_AGAIN);
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)"one", 3, tn_clock), DTLSUDP_OK);
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)"two-two", 7, tn_clock), DTLSUDP_OK);
    assert_int_equal(dtlsudp_assoc_write(ca, (const uint8_t *)"three", 5, tn_clock), DTLSUDP_OK);
    for (i = 0; i < 5; i++)
        tn_pump(&net);
    assert_int_equal(dtlsudp_assoc_pending(sa), 3);

    /* a short buffer is refused and the datagram stays first */
    assert_int_equal(dtlsudp_assoc_read(sa, buf, 2, &len), DTLSUDP_ERR_BUFFER);
    assert_int_equal(dtlsudp_assoc_pending(sa), 3);
    assert_int_equal(dtlsudp_assoc_read(sa, NULL, 0, &len), DTLSUDP_ERR_BUFFER);
    assert_int_equal(dtlsudp_assoc_read(sa, buf, sizeof(buf), NULL), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_assoc_read(sa, NULL, 8, &len), DTLSUDP_ERR_INVALID);

    assert_int_equal(dtlsudp_assoc_read(sa, buf, 3, &len), DTLSUDP_OK); /* exactly fits */
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "one", 3);
    assert_int_equal(dtlsudp_assoc_read(sa, buf, sizeof(buf), &len), DTLSUDP_OK);
    assert_int_equal(len, 7);
    assert_memory_equal(buf, "two-two", 7);
    assert_int_equal(dtlsudp_assoc_pending(sa), 1);
    assert_int_equal(dtlsudp_assoc_read(sa, buf, sizeof(buf), &len), DTLSUDP_OK);
    assert_memory_equal(buf, "three", 5);
    assert_int_equal(dtlsudp_assoc_pending(sa), 0);
    assert_int_equal(dtlsudp_assoc_read(sa, buf, sizeof(buf), &len), DTLSUDP_ERR_AGAIN);
    tn_free(&net);
}

static int released[3];

static void release(void *owned)
{
    released[(int *)owned - released]++;
}

static void test_owned_released_once(void **state)
{
    int user;

    (void)state;
    memset(released, 0, sizeof(released));
    establish(0);
    dtlsudp_assoc_set_user(sa, &user);
    assert_ptr_equal(dtlsudp_assoc_get_user(sa), &user);

    dtlsudp_assoc_set_owned(sa, &released[0], release);
    assert_ptr_equal(dtlsudp_assoc_get_owned(sa), &released[0]);
    /* setting the same object again does not release it */
    dtlsudp_assoc_set_owned(sa, &released[0], release);
    assert_int_equal(released[0], 0);
    /* replacing releases the previous one */
    dtlsudp_assoc_set_owned(sa, &released[1], release);
    assert_int_equal(released[0], 1);
    assert_ptr_equal(dtlsudp_assoc_get_owned(sa), &released[1]);
    /* the last one goes with the association */
    tn_free(&net);
    assert_int_equal(released[0], 1);
    assert_int_equal(released[1], 1);
    assert_int_equal(released[2], 0);
}

static void test_null_association(void **state)
{
    size_t len;
    uint8_t buf[4];

    (void)state;
    assert_int_equal(dtlsudp_assoc_read(NULL, buf, sizeof(buf), &len), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_assoc_pending(NULL), 0);
    assert_int_equal(dtlsudp_assoc_state(NULL), DTLSUDP_STATE_CLOSED);
    assert_false(dtlsudp_assoc_is_client(NULL));
    assert_int_equal(dtlsudp_assoc_id(NULL), 0);
    assert_null(dtlsudp_assoc_peer(NULL));
    assert_null(dtlsudp_assoc_local(NULL));
    assert_null(dtlsudp_assoc_peer_cert(NULL));
    assert_null(dtlsudp_assoc_peer_chain(NULL));
    assert_int_equal(dtlsudp_assoc_peer_alert(NULL), -1);
    assert_null(dtlsudp_assoc_failure_detail(NULL));
    assert_int_equal(dtlsudp_assoc_peer_trust(NULL), DTLSUDP_TRUST_NONE);
    assert_false(dtlsudp_assoc_resumed(NULL));
    assert_null(dtlsudp_assoc_version(NULL));
    assert_null(dtlsudp_assoc_current_cipher(NULL));
    assert_null(dtlsudp_assoc_cipher(NULL));
    assert_false(dtlsudp_assoc_was_established(NULL));
    assert_null(dtlsudp_assoc_get_owned(NULL));
    assert_null(dtlsudp_assoc_ssl(NULL));
    assert_null(dtlsudp_assoc_engine(NULL));
    assert_null(dtlsudp_assoc_get_user(NULL));
    dtlsudp_assoc_set_user(NULL, buf);
    dtlsudp_assoc_set_owned(NULL, buf, NULL);
}

static void test_handshaking_client(void **state)
{
    const testcerts *tc = tc_get();

    (void)state;
    tn_init(&net, 9);
    server = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    client = tn_add(&net, "127.0.0.1:20000", &tc->client, &tc->ca, NULL);
    ca = tn_connect(&net, client, server, NULL);
    assert_non_null(ca);
    /* before any answer: no peer identity, not established, no trust */
    assert_int_equal(dtlsudp_assoc_state(ca), DTLSUDP_STATE_HANDSHAKING);
    assert_null(dtlsudp_assoc_peer_cert(ca));
    assert_null(dtlsudp_assoc_peer_chain(ca));
    assert_int_equal(dtlsudp_assoc_peer_trust(ca), DTLSUDP_TRUST_NONE);
    assert_false(dtlsudp_assoc_was_established(ca));
    assert_non_null(dtlsudp_assoc_ssl(ca));
    assert_int_equal(dtlsudp_assoc_pending(ca), 0);
    tn_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accessors_after_handoff),
        cmocka_unit_test(test_accessors_with_openssl_records),
        cmocka_unit_test(test_plaintext_queue),
        cmocka_unit_test(test_owned_released_once),
        cmocka_unit_test(test_null_association),
        cmocka_unit_test(test_handshaking_client),
    };
    int ret;

    tn_mem_init();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return ret;
}
