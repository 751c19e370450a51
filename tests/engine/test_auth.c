/*
 * test_auth.c - peer authentication (transport/engine/verify.c): chain,
 * fingerprint pins (engine-wide and per connect, leaf or chain, any hash),
 * hostname check, the verify hook, refusals with alert and counters on
 * both ends, RSA-2048 identities, certificates loaded from PEM files.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine_internal.h"
#include "testnet.h"

static tn_net net;

static int setup(void **state)
{
    (void)state;
    tn_init(&net, 7);
    return 0;
}

static int teardown(void **state)
{
    int i;
    (void)state;
    tn_free(&net);
    for (i = 0; i < net.n; i++)
        assert_int_equal(net.nodes[i].alloc.live_count, 0);
    return 0;
}

static int settled(tn_net *n, void *arg)
{
    (void)arg;
    return (n->nodes[0].established >= 1 || n->nodes[0].closed >= 1) &&
           (n->nodes[1].established >= 1 || n->nodes[1].closed >= 1);
}

/* Run one handshake from c to s; returns 1 when both ends established. */
static int attempt(tn_node *s, tn_node *c, const dtlsudp_connect_opts *opts)
{
    assert_non_null(tn_connect(&net, c, s, opts));
    tn_run(&net, settled, NULL, 300);
    tn_pump(&net);
    return s->established == 1 && c->established == 1;
}

static void expect_refused_by(tn_node *refuser, tn_node *other)
{
    dtlsudp_stats st;

    assert_int_equal(refuser->established, 0);
    assert_int_equal(refuser->closed, 1);
    assert_int_equal(refuser->last_reason, DTLSUDP_ERR_PEER_CERT);
    dtlsudp_engine_get_stats(refuser->e, &st);
    assert_int_equal(st.cert_refused, 1);
    assert_int_equal(st.handshakes_failed, 1);
    assert_int_equal(st.assocs_now, 0);
    /* the alert reached the other end, which counts its failure too */
    assert_int_equal(other->established, 0);
    assert_int_equal(other->closed, 1);
    assert_int_equal(other->last_reason, DTLSUDP_ERR_PEER_ALERT);
    dtlsudp_engine_get_stats(other->e, &st);
    assert_int_equal(st.alerts_received, 1);
    assert_int_equal(st.handshakes_failed, 1);
    assert_int_equal(st.assocs_now, 0);
}

static void test_chain_ok(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50000", &tc->client, &tc->ca, NULL);
    dtlsudp_assoc *sa;
    dtlsudp_fingerprint fp;

    (void)state;
    assert_true(attempt(s, c, NULL));
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_int_equal(dtlsudp_fingerprint_of(tc->client.cert, 32, &fp), DTLSUDP_OK);
    assert_true(dtlsudp_fingerprint_matches(dtlsudp_assoc_peer_cert(sa), &fp));
    assert_int_equal(SSL_get_verify_result(dtlsudp_assoc_ssl(sa)), X509_V_OK);
}

static void test_client_from_unknown_ca_refused(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50001", &tc->wrong_client, &tc->ca, NULL);

    (void)state;
    assert_false(attempt(s, c, NULL));
    expect_refused_by(s, c);
}

static void test_expired_client_refused(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50002", &tc->expired_client, &tc->ca, NULL);

    (void)state;
    assert_false(attempt(s, c, NULL));
    expect_refused_by(s, c);
}

static void test_server_from_unknown_ca_refused(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->wrong_server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50003", &tc->client, &tc->ca, NULL);

    (void)state;
    assert_false(attempt(s, c, NULL));
    expect_refused_by(c, s);
}

static void test_client_without_certificate(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50004", NULL, &tc->ca, NULL);
    dtlsudp_stats st;

    (void)state;
    /* RFC 6353 5.3.1: the server always requests and requires one. */
    assert_false(attempt(s, c, NULL));
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.handshakes_failed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_HANDSHAKE);
    assert_int_equal(c->last_reason, DTLSUDP_ERR_PEER_ALERT);
}

static void test_engine_pin_accepts_unknown_ca(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50005", &tc->wrong_client, &tc->ca, NULL);
    dtlsudp_fingerprint fp;

    (void)state;
    /* SHA-1 pin: the hash is implied by the length. */
    assert_int_equal(dtlsudp_fingerprint_of(tc->wrong_client.cert, 20, &fp), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(s->e, &fp), DTLSUDP_OK);
    assert_true(attempt(s, c, NULL));
    assert_int_equal(SSL_get_verify_result(dtlsudp_assoc_ssl(dtlsudp_engine_find(s->e, &c->addr))), X509_V_OK);
}

static void test_pin_on_chain_certificate(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50006", &tc->wrong_client, NULL, NULL);
    dtlsudp_fingerprint fp;

    (void)state;
    /* The client sends its (untrusted) CA along; the server pins that CA. */
    assert_int_equal(SSL_CTX_add1_chain_cert(dtlsudp_engine_ssl_ctx(c->e), tc->other_ca.cert), 1);
    assert_int_equal(dtlsudp_fingerprint_of(tc->other_ca.cert, 48, &fp), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(s->e, &fp), DTLSUDP_OK);
    /* the client accepts the server by a per-connect pin (it trusts no CA) */
    assert_int_equal(dtlsudp_fingerprint_of(tc->server.cert, 32, &fp), DTLSUDP_OK);
    assert_true(attempt(s, c, &(dtlsudp_connect_opts){.peer_fingerprints = &fp, .n_peer_fingerprints = 1}));
}

static void test_connect_pin_mismatch_refused(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50007", &tc->client, NULL, NULL);
    dtlsudp_fingerprint fp;

    (void)state;
    assert_int_equal(dtlsudp_fingerprint_of(tc->wrong_server.cert, 32, &fp), DTLSUDP_OK);
    assert_false(attempt(s, c, &(dtlsudp_connect_opts){.peer_fingerprints = &fp, .n_peer_fingerprints = 1}));
    expect_refused_by(c, s);
}

static void test_hostname(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c1 = tn_add(&net, "127.0.0.1:50008", &tc->client, &tc->ca, NULL);
    tn_node *c2 = tn_add(&net, "127.0.0.1:50009", &tc->client, &tc->ca, NULL);
    tn_node *c3 = tn_add(&net, "127.0.0.1:50010", &tc->client, &tc->ca, NULL);
    dtlsudp_stats st;

    (void)state;
    assert_non_null(tn_connect(&net, c1, s, &(dtlsudp_connect_opts){.hostname = "server.example.com"}));
    assert_non_null(tn_connect(&net, c2, s, &(dtlsudp_connect_opts){.hostname = "127.0.0.1"}));
    assert_non_null(tn_connect(&net, c3, s, &(dtlsudp_connect_opts){.hostname = "other.example.com"}));
    tn_run(&net, NULL, NULL, 100);
    assert_int_equal(c1->established, 1);
    assert_int_equal(c2->established, 1);
    assert_int_equal(c3->established, 0);
    assert_int_equal(c3->last_reason, DTLSUDP_ERR_PEER_CERT);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.handshakes_completed, 2);
    assert_int_equal(st.alerts_received, 1);
}

struct hook_log {
    int calls, last_chain_ok, last_fp_ok, answer;
};

static int verify_hook(void *user, dtlsudp_assoc *a, X509 *leaf, STACK_OF(X509) *chain, int chain_ok,
                       int fingerprint_ok)
{
    tn_node *n = user;
    struct hook_log *h = (struct hook_log *)n->last_data; /* scratch space the test owns */
    (void)chain;
    assert_non_null(a);
    assert_non_null(leaf);
    h->calls++;
    h->last_chain_ok = chain_ok;
    h->last_fp_ok = fingerprint_ok;
    return h->answer;
}

static void test_verify_hook(void **state)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;
    tn_node *s, *c;
    struct hook_log *h;
    dtlsudp_fingerprint fp;

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    cfg.verify = verify_hook;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &cfg);
    c = tn_add(&net, "127.0.0.1:50011", &tc->client, &tc->ca, NULL);
    h = (struct hook_log *)s->last_data;
    memset(h, 0, sizeof(*h));
    h->answer = 0; /* refuse a peer whose chain is fine */
    assert_int_equal(dtlsudp_fingerprint_of(tc->client.cert, 32, &fp), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(s->e, &fp), DTLSUDP_OK);
    assert_false(attempt(s, c, NULL));
    assert_int_equal(h->calls, 1); /* once per handshake */
    assert_int_equal(h->last_chain_ok, 1);
    assert_int_equal(h->last_fp_ok, 1);
    expect_refused_by(s, c);
}

static void test_rsa_identities(void **state)
{
    const testcerts *tc = tc_rsa();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->rsa_server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50012", &tc->rsa_client, &tc->ca, NULL);

    (void)state;
    assert_true(attempt(s, c, NULL));
    assert_non_null(strstr(dtlsudp_assoc_cipher(dtlsudp_engine_find(s->e, &c->addr)), "RSA"));
}

static void capture_log(void *user, int level, const char *msg)
{
    char *out = user;
    (void)level;
    snprintf(out, 512, "%s", msg);
}

static void test_pem_files_and_config_errors(void **state)
{
    const testcerts *tc = tc_get();
    char dir[] = "/tmp/dtlsudp-engine-XXXXXX", cert[128], key[128], ca[128], logline[512] = "";
    dtlsudp_engine_config cfg;
    dtlsudp_engine *e = NULL;
    tn_node *s, *c;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(cert, sizeof(cert), "%s/server.pem", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    assert_int_equal(tc_write_pem(&tc->server, cert, key), 0);
    assert_int_equal(tc_write_pem(&tc->ca, ca, NULL), 0);

    dtlsudp_engine_config_init(&cfg);
    cfg.cert_file = cert;
    cfg.key_file = key;
    cfg.ca_file = ca;
    s = tn_add(&net, "127.0.0.1:10161", NULL, NULL, &cfg);
    assert_non_null(s);
    c = tn_add(&net, "127.0.0.1:50013", &tc->client, &tc->ca, NULL);
    assert_true(attempt(s, c, NULL));

    /* A missing file is a configuration error naming the file. */
    cfg.log = capture_log;
    cfg.user = logline;
    cfg.key_file = "/nonexistent/key.pem";
    assert_int_equal(dtlsudp_engine_new(&cfg, 0, &e), DTLSUDP_ERR_CONFIG);
    assert_null(e);
    assert_non_null(strstr(logline, "/nonexistent/key.pem"));
    cfg.key_file = key;
    cfg.ciphers = "NO-SUCH-CIPHER";
    assert_int_equal(dtlsudp_engine_new(&cfg, 0, &e), DTLSUDP_ERR_CONFIG);
    assert_non_null(strstr(logline, "cipher"));

    unlink(cert);
    unlink(key);
    unlink(ca);
    rmdir(dir);
}

static void test_crl_revokes_client(void **state)
{
    const testcerts *tc = tc_get();
    char dir[] = "/tmp/dtlsudp-crl-XXXXXX", crl[128];
    dtlsudp_engine_config cfg;
    tn_node *s, *c1, *c2;
    dtlsudp_stats st;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(crl, sizeof(crl), "%s/ca.crl", dir);
    assert_int_equal(tc_write_crl(&tc->ca, tc->client.cert, crl), 0);
    dtlsudp_engine_config_init(&cfg);
    cfg.crl_file = crl;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &cfg);
    assert_non_null(s);
    c1 = tn_add(&net, "127.0.0.1:50020", &tc->client, &tc->ca, NULL);  /* revoked */
    c2 = tn_add(&net, "127.0.0.1:50021", &tc->client2, &tc->ca, NULL); /* fine */
    assert_non_null(tn_connect(&net, c1, s, NULL));
    assert_non_null(tn_connect(&net, c2, s, NULL));
    tn_run(&net, NULL, NULL, 50);
    assert_int_equal(c1->established, 0);
    assert_int_equal(c1->last_reason, DTLSUDP_ERR_PEER_ALERT);
    assert_int_equal(c2->established, 1);
    dtlsudp_engine_get_stats(s->e, &st);
    assert_int_equal(st.cert_refused, 1);
    assert_int_equal(st.handshakes_completed, 1);
    unlink(crl);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_from_unknown_ca_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_client_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_from_unknown_ca_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_without_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_pin_accepts_unknown_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_on_chain_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_pin_mismatch_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostname, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa_identities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pem_files_and_config_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crl_revokes_client, setup, teardown),
    };
    int rc;

    tn_mem_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return rc;
}
