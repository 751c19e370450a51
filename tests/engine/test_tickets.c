/*
 * test_tickets.c - session tickets, server side (transport/engine/tickets.c):
 * the ticket keys (made from the injected random source, rotated on the
 * engine's clock with the previous key kept one period, cleansed on
 * dispose), what tickets change on the SSL_CTX, the chain carried in a
 * ticket (the authenticated chain after the leaf, minus the trust anchor)
 * and its decoder's refusal of malformed bytes; and, through real
 * handshakes, that a ticket sealed with the previous key still opens after
 * one rotation and not after two.
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

static int rng_calls, rng_fail;

static int counting_random(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    if (rng_fail)
        return -1;
    rng_calls++;
    memset(buf, rng_calls, len);
    return 0;
}

static dtlsudp_engine *engine(int tickets, dtlsudp_time lifetime, dtlsudp_time now)
{
    dtlsudp_engine_config cfg;
    dtlsudp_engine *e = NULL;

    dtlsudp_engine_config_init(&cfg);
    cfg.session_tickets = tickets;
    cfg.ticket_lifetime = lifetime;
    cfg.random = counting_random;
    rng_calls = rng_fail = 0;
    assert_int_equal(dtlsudp_engine_new(&cfg, now, &e), DTLSUDP_OK);
    return e;
}

static void test_no_tickets_no_keys(void **state)
{
    dtlsudp_engine *e = engine(0, 0, 5);

    (void)state;
    assert_false(e->ticket_keys[0].valid);
    assert_false(e->ticket_keys[1].valid);
    assert_true(e->ticket_rotate_at == DTLSUDP_TIME_NEVER);
    assert_true(SSL_CTX_get_options(e->ctx) & SSL_OP_NO_TICKET);
    dtlsudp_engine_free(e);
}

static void test_keys_rotate_and_keep_the_previous(void **state)
{
    dtlsudp_engine *e = engine(1, 7000, 5);
    struct eng_ticket_key first;
    static const struct eng_ticket_key zero;

    (void)state;
    assert_true(e->ticket_keys[0].valid);
    assert_false(e->ticket_keys[1].valid);
    assert_int_equal(e->ticket_rotate_at, 5 + 7000);
    /* tickets on: OpenSSL may issue them, and its own (wall clock) bound
     * is never shorter than the lifetime */
    assert_false(SSL_CTX_get_options(e->ctx) & SSL_OP_NO_TICKET);
    assert_true(SSL_CTX_get_timeout(e->ctx) >= 7);
    /* name, AES and HMAC keys each come from the random source */
    assert_int_equal(e->ticket_keys[0].aes[0], e->ticket_keys[0].aes[31]);
    assert_true(e->ticket_keys[0].name[0] != e->ticket_keys[0].aes[0]);
    assert_true(e->ticket_keys[0].aes[0] != e->ticket_keys[0].hmac[0]);
    first = e->ticket_keys[0];

    /* the engine's timer rotates at the deadline */
    assert_int_equal(dtlsudp_engine_handle_timeout(e, 5 + 7000), DTLSUDP_OK);
    assert_memory_equal(&e->ticket_keys[1], &first, sizeof(first));
    assert_true(e->ticket_keys[0].valid);
    assert_memory_not_equal(e->ticket_keys[0].name, first.name, sizeof(first.name));
    assert_memory_not_equal(e->ticket_keys[0].aes, first.aes, sizeof(first.aes));
    assert_int_equal(e->ticket_rotate_at, 5 + 7000 + 7000);

    /* a failing random source keeps both keys */
    first = e->ticket_keys[0];
    rng_fail = 1;
    assert_int_not_equal(eng_tickets_rotate(e), DTLSUDP_OK);
    assert_memory_equal(&e->ticket_keys[0], &first, sizeof(first));

    /* dispose leaves no key material */
    eng_tickets_dispose(e);
    assert_memory_equal(e->ticket_keys, &zero, sizeof(zero));
    assert_memory_equal(&e->ticket_keys[1], &zero, sizeof(zero));
    dtlsudp_engine_free(e);
}

/* --- the chain carried in a ticket --- */

static STACK_OF(X509) *stack_of(X509 *a, X509 *b, X509 *c)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *v[3] = {a, b, c};
    int i;

    for (i = 0; i < 3; i++)
        if (v[i] != NULL) {
            X509_up_ref(v[i]);
            sk_X509_push(sk, v[i]);
        }
    return sk;
}

static void test_chain_encode_carries_the_middle(void **state)
{
    const testcerts *tc = tc_attack();
    dtlsudp_assoc a;
    uint8_t buf[8192];
    size_t len, used = 0;
    STACK_OF(X509) *back;

    (void)state;
    memset(&a, 0, sizeof(a));
    /* CHAIN: leaf, intermediate, anchor -> only the intermediate travels */
    a.auth_chain = stack_of(tc->deep4.cert, tc->inter[3].cert, tc->ca.cert);
    a.auth_trust = DTLSUDP_TRUST_CHAIN;
    len = eng_chain_encode(&a, buf, sizeof(buf));
    assert_true(len > 2);
    assert_int_equal(buf[0] << 8 | buf[1], 1);
    back = eng_chain_decode(buf, len, &used);
    assert_non_null(back);
    assert_int_equal(used, len);
    assert_int_equal(sk_X509_num(back), 1);
    assert_int_equal(X509_cmp(sk_X509_value(back, 0), tc->inter[3].cert), 0);
    sk_X509_pop_free(back, X509_free);

    /* a buffer too small for it: nothing (the ticket then carries no chain) */
    assert_int_equal(eng_chain_encode(&a, buf, len - 1), 0);
    assert_int_equal(eng_chain_encode(&a, buf, 1), 0);

    /* decoding a prefix of the bytes fails rather than reading past them */
    assert_null(eng_chain_decode(buf, len - 1, NULL));
    assert_null(eng_chain_decode(buf, 1, NULL));
    /* a certificate length one short: the DER does not end where it says */
    buf[3]--;
    assert_null(eng_chain_decode(buf, len, NULL));
    buf[3]++;
    /* one more certificate announced than present */
    buf[1] = 2;
    assert_null(eng_chain_decode(buf, len, NULL));
    buf[1] = 1;
    /* garbage where the DER is */
    buf[4] ^= 0xff;
    assert_null(eng_chain_decode(buf, len, NULL));
    sk_X509_pop_free(a.auth_chain, X509_free);

    /* LEAF (pinned, no anchor): the leaf alone, nothing else to carry */
    a.auth_chain = stack_of(tc->rogue.cert, NULL, NULL);
    a.auth_trust = DTLSUDP_TRUST_LEAF;
    len = eng_chain_encode(&a, buf, sizeof(buf));
    assert_int_equal(len, 2);
    back = eng_chain_decode(buf, len, &used);
    assert_non_null(back);
    assert_int_equal(sk_X509_num(back), 0);
    sk_X509_pop_free(back, X509_free);
    sk_X509_pop_free(a.auth_chain, X509_free);

    /* CHAIN of leaf + anchor: nothing travels either */
    a.auth_chain = stack_of(tc->client.cert, tc->ca.cert, NULL);
    a.auth_trust = DTLSUDP_TRUST_CHAIN;
    assert_int_equal(eng_chain_encode(&a, buf, sizeof(buf)), 2);
    sk_X509_pop_free(a.auth_chain, X509_free);
}

/* --- tickets in real handshakes --- */

static tn_net net;

static int settled(tn_net *n, void *arg)
{
    unsigned *want = arg;
    return n->nodes[1].established >= *want && n->nodes[0].established >= *want;
}

static dtlsudp_assoc *run_handshake(tn_node *s, tn_node *c, const dtlsudp_connect_opts *opts, unsigned nth)
{
    dtlsudp_assoc *a = tn_connect(&net, c, s, opts);

    assert_non_null(a);
    assert_true(tn_run(&net, settled, &nth, 300));
    tn_pump(&net);
    assert_int_equal(c->established, nth);
    return a;
}

static void test_no_ticket_that_would_not_fit_a_hello(void **state)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;
    tn_node *s, *c;
    dtlsudp_assoc *a;
    uint8_t blob[8192];
    size_t len = 0;
    dtlsudp_stats st;

    (void)state;
    tn_init(&net, 5);
    dtlsudp_engine_config_init(&cfg);
    cfg.session_tickets = 1;
    /* a link on which the ClientHello carrying the ticket would be
     * fragmented, which DTLSv1_listen() drops */
    cfg.mtu_ipv4 = 800;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &cfg);
    c = tn_add(&net, "127.0.0.1:20000", &tc->client, &tc->ca, &cfg);
    assert_non_null(s);
    assert_non_null(c);
    a = run_handshake(s, c, NULL, 1);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.tickets_issued, 0);
    assert_int_equal(dtlsudp_assoc_session(a, blob, sizeof(blob), &len), DTLSUDP_ERR_AGAIN);
    tn_free(&net);
}

static void resume_after_rotations(int rotations, int expect_resumed)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;
    tn_node *s, *c;
    dtlsudp_assoc *a;
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {0};
    dtlsudp_stats st;
    int i;

    tn_init(&net, 3);
    dtlsudp_engine_config_init(&cfg);
    cfg.session_tickets = 1;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &cfg);
    c = tn_add(&net, "127.0.0.1:20000", &tc->client, &tc->ca, &cfg);
    assert_non_null(s);
    assert_non_null(c);
    a = run_handshake(s, c, NULL, 1);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.tickets_issued, 1);
    assert_int_equal(dtlsudp_assoc_session(a, blob, sizeof(blob), &opts.session_len), DTLSUDP_OK);
    opts.session = blob;
    dtlsudp_assoc_close(a, tn_clock);
    tn_pump(&net);

    for (i = 0; i < rotations; i++)
        assert_int_equal(eng_tickets_rotate(s->e), DTLSUDP_OK);
    a = run_handshake(s, c, &opts, 2);
    assert_int_equal(dtlsudp_assoc_resumed(a), expect_resumed);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.tickets_refused, expect_resumed ? 0 : 1);
    assert_int_equal(st.handshakes_resumed, expect_resumed ? 1 : 0);
    /* the current key's ticket is used as it is; one opened with the
     * previous key is renewed, and a refused one gives a full handshake,
     * which issues a new ticket */
    assert_int_equal(st.tickets_issued, rotations == 0 ? 1 : 2);
    tn_free(&net);
}

static void test_ticket_opens_with_the_current_key(void **state)
{
    (void)state;
    resume_after_rotations(0, 1);
}

static void test_ticket_opens_after_one_rotation(void **state)
{
    (void)state;
    resume_after_rotations(1, 1);
}

static void test_ticket_refused_after_two_rotations(void **state)
{
    (void)state;
    resume_after_rotations(2, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_tickets_no_keys),
        cmocka_unit_test(test_keys_rotate_and_keep_the_previous),
        cmocka_unit_test(test_chain_encode_carries_the_middle),
        cmocka_unit_test(test_no_ticket_that_would_not_fit_a_hello),
        cmocka_unit_test(test_ticket_opens_with_the_current_key),
        cmocka_unit_test(test_ticket_opens_after_one_rotation),
        cmocka_unit_test(test_ticket_refused_after_two_rotations),
    };
    int ret;

    tn_mem_init();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return ret;
}
