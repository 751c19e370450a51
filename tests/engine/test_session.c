/*
 * test_session.c - session resumption, client side
 * (transport/engine/session.c): what dtlsudp_assoc_session() returns and
 * when (the "DUS1" blob bound to our own certificate; AGAIN, BUFFER,
 * INVALID), and eng_session_offer()'s decision: a blob that is
 * malformed, truncated, extended or made with another certificate of
 * ours is not offered (counted, logged with the reason) and the handshake
 * runs in full; a good one gives an abbreviated handshake.  The identity on
 * demand (identity_cb, identity_sha256): loaded only by a handshake that
 * sends our certificate, never by an abbreviated one, and a stored session
 * offered only under the certificate declared for it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "engine_internal.h"
#include "testnet.h"

static tn_net net;
static tn_node *s, *c;
static char why[256];

static void keep_log(void *user, int level, const char *msg)
{
    (void)user;
    (void)level;
    if (strstr(msg, "not offered") != NULL)
        snprintf(why, sizeof(why), "%s", msg);
}

/* The handshake of run_handshake(): the client has its nth association
 * and the server one more than before it. */
static unsigned server_before;

static int established(tn_net *n, void *arg)
{
    unsigned *want = arg;

    (void)n;
    return c->established >= *want && s->established > server_before;
}

static dtlsudp_assoc *run_handshake(const dtlsudp_connect_opts *opts, unsigned nth)
{
    dtlsudp_assoc *a;

    server_before = s->established;
    a = tn_connect(&net, c, s, opts);

    assert_non_null(a);
    assert_true(tn_run(&net, established, &nth, 300));
    tn_pump(&net);
    return a;
}

static void start(int tickets, const tc_pair *client_id)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;

    why[0] = '\0';
    tn_init(&net, 17);
    dtlsudp_engine_config_init(&cfg);
    cfg.session_tickets = tickets;
    cfg.log = keep_log;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &cfg);
    c = tn_add(&net, "127.0.0.1:20000", client_id, &tc->ca, &cfg);
    assert_non_null(s);
    assert_non_null(c);
}

static uint8_t blob[8192];
static size_t blob_len;

/* A full handshake and the session it leaves; the association closes. */
static void first_session(void)
{
    dtlsudp_assoc *a = run_handshake(NULL, 1);

    assert_false(dtlsudp_assoc_resumed(a));
    assert_int_equal(dtlsudp_assoc_session(a, blob, sizeof(blob), &blob_len), DTLSUDP_OK);
    dtlsudp_assoc_close(a, tn_clock);
    tn_pump(&net);
}

static void test_blob_names_our_certificate(void **state)
{
    uint8_t own[32];
    unsigned n = sizeof(own);
    uint8_t small[16];
    size_t len = 0;
    dtlsudp_assoc *a;

    (void)state;
    start(1, &tc_get()->client);
    a = run_handshake(NULL, 1);
    assert_int_equal(dtlsudp_assoc_session(a, blob, sizeof(blob), &blob_len), DTLSUDP_OK);
    assert_true(blob_len > 4 + 32 + 2 + 4);
    assert_memory_equal(blob, "DUS1", 4);
    assert_int_equal(X509_digest(tc_get()->client.cert, EVP_sha256(), own, &n), 1);
    assert_memory_equal(blob + 4, own, sizeof(own));

    /* too small: BUFFER with the size needed */
    assert_int_equal(dtlsudp_assoc_session(a, small, sizeof(small), &len), DTLSUDP_ERR_BUFFER);
    assert_int_equal(len, blob_len);
    assert_int_equal(dtlsudp_assoc_session(a, NULL, 0, &len), DTLSUDP_ERR_BUFFER);
    assert_int_equal(dtlsudp_assoc_session(a, NULL, 10, &len), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_assoc_session(a, blob, sizeof(blob), NULL), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_assoc_session(NULL, blob, sizeof(blob), &len), DTLSUDP_ERR_INVALID);
    /* a server association has no session to give */
    assert_int_equal(dtlsudp_assoc_session(s->last_assoc, blob, sizeof(blob), &len), DTLSUDP_ERR_AGAIN);
    tn_free(&net);
}

static void test_no_session_without_tickets(void **state)
{
    dtlsudp_assoc *a;
    size_t len = 0;

    (void)state;
    start(0, &tc_get()->client);
    a = run_handshake(NULL, 1);
    assert_int_equal(dtlsudp_assoc_session(a, blob, sizeof(blob), &len), DTLSUDP_ERR_AGAIN);
    tn_free(&net);
}

static void test_good_blob_resumes(void **state)
{
    dtlsudp_connect_opts opts = {0};
    dtlsudp_assoc *a;
    dtlsudp_stats st;

    (void)state;
    start(1, &tc_get()->client);
    first_session();
    opts.session = blob;
    opts.session_len = blob_len;
    a = run_handshake(&opts, 2);
    assert_true(dtlsudp_assoc_resumed(a));
    dtlsudp_engine_get_stats(c->e, &st);
    assert_int_equal(st.handshakes_resumed, 1);
    assert_int_equal(st.tickets_refused, 0);
    /* the identity is still the server's, verified to the CA */
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(a), tc_get()->server.cert), 0);
    assert_int_equal(dtlsudp_assoc_peer_trust(a), DTLSUDP_TRUST_CHAIN);
    assert_string_equal(why, "");
    tn_free(&net);
}

/* Offer `bad' instead of the session: a full handshake, one refusal
 * counted, the reason logged. */
static void expect_not_offered(const uint8_t *bad, size_t len, const char *reason)
{
    dtlsudp_connect_opts opts = {0};
    dtlsudp_assoc *a;
    dtlsudp_stats st;

    opts.session = bad;
    opts.session_len = len;
    a = run_handshake(&opts, 2);
    assert_int_equal(dtlsudp_assoc_state(a), DTLSUDP_STATE_ESTABLISHED);
    assert_false(dtlsudp_assoc_resumed(a));
    dtlsudp_engine_get_stats(c->e, &st);
    assert_int_equal(st.tickets_refused, 1);
    assert_int_equal(st.handshakes_resumed, 0);
    assert_non_null(strstr(why, reason));
}

static void test_bad_magic(void **state)
{
    (void)state;
    start(1, &tc_get()->client);
    first_session();
    blob[0] = 'X';
    expect_not_offered(blob, blob_len, "malformed");
    tn_free(&net);
}

static void test_truncated(void **state)
{
    (void)state;
    start(1, &tc_get()->client);
    first_session();
    expect_not_offered(blob, blob_len - 1, "malformed");
    tn_free(&net);
}

static void test_extended(void **state)
{
    (void)state;
    start(1, &tc_get()->client);
    first_session();
    blob[blob_len] = 0;
    expect_not_offered(blob, blob_len + 1, "malformed");
    tn_free(&net);
}

static void test_made_with_another_certificate_of_ours(void **state)
{
    (void)state;
    start(1, &tc_get()->client);
    first_session();
    blob[4 + 7] ^= 0x01; /* as if our certificate had changed since */
    expect_not_offered(blob, blob_len, "different certificate of ours");
    tn_free(&net);
}

static void test_ignored_without_tickets(void **state)
{
    uint8_t saved[8192];
    size_t saved_len;
    dtlsudp_connect_opts opts = {0};
    dtlsudp_assoc *a;
    dtlsudp_stats st;

    (void)state;
    start(1, &tc_get()->client);
    first_session();
    memcpy(saved, blob, blob_len);
    saved_len = blob_len;
    tn_free(&net);

    /* an engine without tickets never offers: nothing to refuse */
    start(0, &tc_get()->client);
    opts.session = saved;
    opts.session_len = saved_len;
    a = run_handshake(&opts, 1);
    assert_false(dtlsudp_assoc_resumed(a));
    dtlsudp_engine_get_stats(c->e, &st);
    assert_int_equal(st.tickets_refused, 0);
    assert_string_equal(why, "");
    tn_free(&net);
}

/* ---- the identity on demand ---- */

static int identity_calls;
static int identity_fails;

static int load_identity(void *user, dtlsudp_engine *e)
{
    (void)user;
    identity_calls++;
    if (identity_fails)
        return DTLSUDP_ERR_CONFIG;
    return dtlsudp_engine_set_identity(e, tc_get()->client.cert, tc_get()->client.key, NULL);
}

static tn_node *eager; /* a client with the identity installed up front */

/* A server, `eager' and a client `c' with no identity but the callback;
 * `declared' is the certificate c says the callback will install (NULL:
 * not known). */
static void start_on_demand(X509 *declared)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;
    unsigned n = 32;

    why[0] = '\0';
    identity_calls = 0;
    identity_fails = 0;
    server_before = 0;
    tn_init(&net, 17);
    dtlsudp_engine_config_init(&cfg);
    cfg.session_tickets = 1;
    cfg.log = keep_log;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &cfg);
    eager = tn_add(&net, "127.0.0.1:20001", &tc->client, &tc->ca, &cfg);
    cfg.identity_cb = load_identity;
    if (declared != NULL)
        assert_int_equal(X509_digest(declared, EVP_sha256(), cfg.identity_sha256, &n), 1);
    c = tn_add(&net, "127.0.0.1:20000", NULL, &tc->ca, &cfg);
    assert_non_null(s);
    assert_non_null(eager);
    assert_non_null(c);
}

/* The session of a full handshake between `eager' and the server, which
 * then closes, copied to saved (the handshakes after it reuse blob). */
static uint8_t saved[8192];
static size_t saved_len;

static int eager_established(tn_net *n, void *arg)
{
    (void)n;
    (void)arg;
    return eager->established == 1 && s->established == 1;
}

static void session_of_eager(void)
{
    dtlsudp_assoc *a = tn_connect(&net, eager, s, NULL);

    assert_non_null(a);
    assert_true(tn_run(&net, eager_established, NULL, 300));
    tn_pump(&net);
    assert_int_equal(dtlsudp_assoc_session(a, blob, sizeof(blob), &blob_len), DTLSUDP_OK);
    dtlsudp_assoc_close(a, tn_clock);
    tn_pump(&net);
    memcpy(saved, blob, blob_len);
    saved_len = blob_len;
}

/* A full handshake loads the identity once, sends it (the server maps
 * the client's certificate), and later handshakes reuse it. */
static void test_on_demand_full_handshake(void **state)
{
    dtlsudp_assoc *a;

    (void)state;
    start_on_demand(NULL);
    a = run_handshake(NULL, 1);
    assert_false(dtlsudp_assoc_resumed(a));
    assert_int_equal(identity_calls, 1);
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(s->last_assoc), tc_get()->client.cert), 0);
    dtlsudp_assoc_close(a, tn_clock);
    tn_pump(&net);
    (void)run_handshake(NULL, 2);
    assert_int_equal(identity_calls, 1);
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(s->last_assoc), tc_get()->client.cert), 0);
    /* the session it leaves names the certificate it installed */
    assert_int_equal(dtlsudp_assoc_session(c->last_assoc, blob, sizeof(blob), &blob_len), DTLSUDP_OK);
    {
        uint8_t own[32];
        unsigned n = sizeof(own);
        assert_int_equal(X509_digest(tc_get()->client.cert, EVP_sha256(), own, &n), 1);
        assert_memory_equal(blob + 4, own, sizeof(own));
    }
    tn_free(&net);
}

/* An abbreviated handshake sends no certificate: the stored session of
 * the declared certificate resumes without loading the identity, and the
 * session it leaves still names that certificate. */
static void test_on_demand_resumes_without_loading(void **state)
{
    uint8_t own[32];
    unsigned n = sizeof(own);
    dtlsudp_connect_opts opts = {0};
    dtlsudp_assoc *a;

    (void)state;
    start_on_demand(tc_get()->client.cert);
    session_of_eager();
    opts.session = saved;
    opts.session_len = saved_len;
    a = run_handshake(&opts, 1);
    assert_true(dtlsudp_assoc_resumed(a));
    assert_int_equal(identity_calls, 0);
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(s->last_assoc), tc_get()->client.cert), 0);
    assert_int_equal(dtlsudp_assoc_session(a, blob, sizeof(blob), &blob_len), DTLSUDP_OK);
    assert_int_equal(X509_digest(tc_get()->client.cert, EVP_sha256(), own, &n), 1);
    assert_memory_equal(blob + 4, own, sizeof(own));
    tn_free(&net);
}

/* Declared another certificate (or none): the session is not offered,
 * and the full handshake loads the identity. */
static void test_on_demand_other_certificate_declared(void **state)
{
    X509 *declared[] = {tc_get()->client2.cert, NULL};
    dtlsudp_connect_opts opts = {0};
    dtlsudp_assoc *a;

    (void)state;
    for (size_t i = 0; i < sizeof(declared) / sizeof(declared[0]); i++) {
        start_on_demand(declared[i]);
        session_of_eager();
        opts.session = saved;
        opts.session_len = saved_len;
        a = run_handshake(&opts, 1);
        assert_false(dtlsudp_assoc_resumed(a));
        assert_non_null(strstr(why, "different certificate of ours"));
        assert_int_equal(identity_calls, 1);
        tn_free(&net);
    }
}

/* A callback that fails fails the handshake that needed it. */
static void test_on_demand_failure_fails_the_handshake(void **state)
{
    unsigned one = 1;

    (void)state;
    start_on_demand(NULL);
    identity_fails = 1;
    assert_non_null(tn_connect(&net, c, s, NULL));
    assert_false(tn_run(&net, established, &one, 300));
    assert_int_equal(identity_calls, 1);
    assert_int_equal(s->established, 0);
    tn_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blob_names_our_certificate),
        cmocka_unit_test(test_no_session_without_tickets),
        cmocka_unit_test(test_good_blob_resumes),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_extended),
        cmocka_unit_test(test_made_with_another_certificate_of_ours),
        cmocka_unit_test(test_ignored_without_tickets),
        cmocka_unit_test(test_on_demand_full_handshake),
        cmocka_unit_test(test_on_demand_resumes_without_loading),
        cmocka_unit_test(test_on_demand_other_certificate_declared),
        cmocka_unit_test(test_on_demand_failure_fails_the_handshake),
    };
    int ret;

    tn_mem_init();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return ret;
}
