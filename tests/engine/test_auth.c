/*
 * test_auth.c - peer authentication (transport/engine/verify.c): chain,
 * fingerprint pins (engine-wide and per connect, on the leaf or a CA of the
 * verified path, any hash), the attacks the rules close (appended foreign
 * certificates, pins on unverified CAs, revoked or expired pinned leaves,
 * purpose, depth),
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
    (void)state;
    tn_free(&net);
    assert_int_equal(tn_leaking_nodes(&net), 0);
    return 0;
}

static int settled(tn_net *n, void *arg)
{
    (void)arg;
    return (n->nodes[0].established >= 1 || n->nodes[0].closed >= 1) &&
           (n->nodes[1].established >= 1 || n->nodes[1].closed >= 1);
}

/* cert's fingerprint with the hash of that length (20 SHA-1 .. 64 SHA-512). */
static dtlsudp_fingerprint fp_of(X509 *cert, size_t len)
{
    dtlsudp_fingerprint fp;

    assert_int_equal(dtlsudp_fingerprint_of(cert, len, &fp), DTLSUDP_OK);
    return fp;
}

/* Every client in the NULL-terminated array `arg' has settled. */
static int clients_settled(tn_net *n, void *arg)
{
    tn_node **c;

    (void)n;
    for (c = arg; *c != NULL; c++)
        if ((*c)->established == 0 && (*c)->closed == 0)
            return 0;
    return 1;
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

struct hook_log {
    int calls, last_trust, last_pin, answer, chain_len;
};

static int verify_hook(void *user, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    tn_node *n = user;
    struct hook_log *h = (struct hook_log *)n->last_data; /* scratch space the test owns */
    assert_non_null(a);
    assert_non_null(auth->leaf);
    assert_non_null(auth->chain);
    assert_int_equal(X509_cmp(sk_X509_value(auth->chain, 0), auth->leaf), 0);
    h->calls++;
    h->last_trust = auth->trust;
    h->last_pin = auth->pin_matched;
    h->chain_len = sk_X509_num(auth->chain);
    return h->answer;
}

/* A server on 127.0.0.1:10161 whose policy is verify_hook answering
 * `answer'; *h receives what the hook saw. */
static tn_node *hooked_server(const tc_pair *id, const tc_pair *ca, int answer, struct hook_log **h)
{
    dtlsudp_engine_config cfg;
    tn_node *s;

    dtlsudp_engine_config_init(&cfg);
    cfg.verify = verify_hook;
    s = tn_add(&net, "127.0.0.1:10161", id, ca, &cfg);
    assert_non_null(s);
    *h = (struct hook_log *)s->last_data;
    memset(*h, 0, sizeof(**h));
    (*h)->answer = answer;
    return s;
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
    fp = fp_of(tc->client.cert, 32);
    assert_true(dtlsudp_fingerprint_matches(dtlsudp_assoc_peer_cert(sa), &fp));
    assert_int_equal(dtlsudp_assoc_peer_trust(sa), DTLSUDP_TRUST_CHAIN);
    /* identity outlives the SSL, which the hand-off freed */
    assert_null(dtlsudp_assoc_ssl(sa));
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
    fp = fp_of(tc->wrong_client.cert, 20);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(s->e, &fp), DTLSUDP_OK);
    assert_true(attempt(s, c, NULL));
    assert_int_equal(dtlsudp_assoc_peer_trust(dtlsudp_engine_find(s->e, &c->addr)), DTLSUDP_TRUST_LEAF);
}

/* R3: a pin on a CA counts only when OpenSSL placed that CA in the verified
 * path.  Here the client sends its untrusted CA along and the server pins
 * that CA: nothing vouches for the chain, so the pin proves nothing. */
static void test_pin_on_unverified_ca_refused(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50006", &tc->wrong_client, NULL, NULL);
    dtlsudp_fingerprint fp;

    (void)state;
    assert_int_equal(SSL_CTX_add1_chain_cert(dtlsudp_engine_ssl_ctx(c->e), tc->other_ca.cert), 1);
    fp = fp_of(tc->other_ca.cert, 48);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(s->e, &fp), DTLSUDP_OK);
    fp = fp_of(tc->server.cert, 32);
    assert_false(attempt(s, c, &(dtlsudp_connect_opts){.peer_fingerprints = &fp, .n_peer_fingerprints = 1}));
    expect_refused_by(s, c);
}

/* R3, positive: on a server, a pin on a CA of the verified path matches;
 * the authenticated chain is the path (client, then CA). */
static void test_server_pin_on_verified_ca(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c;
    struct hook_log *h;
    dtlsudp_fingerprint fp;

    (void)state;
    s = hooked_server(&tc->server, &tc->ca, 1, &h);
    c = tn_add(&net, "127.0.0.1:50014", &tc->client, &tc->ca, NULL);
    fp = fp_of(tc->ca.cert, 32);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(s->e, &fp), DTLSUDP_OK);
    assert_true(attempt(s, c, NULL));
    assert_int_equal(h->last_trust, DTLSUDP_TRUST_CHAIN);
    assert_int_equal(h->last_pin, 1);
    assert_int_equal(h->chain_len, 2);
}

/* R3 on a client: pins name the server's own certificate.  A pin on the
 * CA that issued it would accept every server of that CA (RFC 6353
 * snmpTlstmAddrServerFingerprint: "the presented certificate"). */
static void test_client_pin_on_ca_refused(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50035", &tc->client, &tc->ca, NULL);
    tn_node *c2 = tn_add(&net, "127.0.0.1:50036", &tc->client, &tc->ca, NULL);
    dtlsudp_fingerprint fp;
    dtlsudp_assoc *ca;

    (void)state;
    fp = fp_of(tc->ca.cert, 32);
    assert_false(attempt(s, c, &(dtlsudp_connect_opts){.peer_fingerprints = &fp, .n_peer_fingerprints = 1}));
    expect_refused_by(c, s);
    /* control: the server's own fingerprint */
    fp = fp_of(tc->server.cert, 48);
    assert_non_null(tn_connect(&net, c2, s, &(dtlsudp_connect_opts){.peer_fingerprints = &fp, .n_peer_fingerprints = 1}));
    assert_true(tn_run(&net, clients_settled, (tn_node *[]){c2, NULL}, 100));
    assert_int_equal(c2->established, 1);
    ca = dtlsudp_engine_find(c2->e, &s->addr);
    assert_int_equal(dtlsudp_assoc_peer_trust(ca), DTLSUDP_TRUST_CHAIN);
    assert_int_equal(sk_X509_num(dtlsudp_assoc_peer_chain(ca)), 2);
    assert_int_equal(X509_cmp(sk_X509_value(dtlsudp_assoc_peer_chain(ca), 0), tc->server.cert), 0);
    assert_int_equal(X509_cmp(sk_X509_value(dtlsudp_assoc_peer_chain(ca), 1), tc->ca.cert), 0);
}

/* R2 checks the shape of what was sent, not byte equality with the trust
 * store: a peer sending its own copy of the root (re-issued: same subject
 * and key) is a path, and is accepted. */
static void test_reissued_root_sent_accepted(void **state)
{
    const testcerts *tc = tc_attack();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50037", &tc->client, NULL, NULL);
    dtlsudp_fingerprint fp;

    (void)state;
    assert_int_equal(SSL_CTX_add1_chain_cert(dtlsudp_engine_ssl_ctx(c->e), tc->ca_reissued.cert), 1);
    fp = fp_of(tc->server.cert, 32);
    assert_true(attempt(s, c, &(dtlsudp_connect_opts){.peer_fingerprints = &fp, .n_peer_fingerprints = 1}));
}

/* Attack: a rogue server presents [its own self-signed leaf, the real
 * server certificate] (public: it crosses the wire in every handshake) to
 * a client that pins the real server.  The pin names a certificate the
 * rogue does not hold the key of. */
static void test_rogue_server_with_appended_real_cert_refused(void **state)
{
    const testcerts *tc = tc_attack();
    tn_node *rogue = tn_add(&net, "127.0.0.1:10161", &tc->rogue, NULL, NULL);
    tn_node *real = tn_add(&net, "127.0.0.1:10162", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50015", &tc->client, NULL, NULL);
    tn_node *c2 = tn_add(&net, "127.0.0.1:50016", &tc->client, NULL, NULL);
    dtlsudp_fingerprint fp;
    dtlsudp_connect_opts opts = {.peer_fingerprints = &fp, .n_peer_fingerprints = 1};

    (void)state;
    assert_int_equal(SSL_CTX_add1_chain_cert(dtlsudp_engine_ssl_ctx(rogue->e), tc->server.cert), 1);
    fp = fp_of(tc->server.cert, 32);
    {   /* the rogue would accept this client: only the client's check stops it */
        dtlsudp_fingerprint client_fp;
        client_fp = fp_of(tc->client.cert, 32);
        assert_int_equal(dtlsudp_engine_add_peer_fingerprint(rogue->e, &client_fp), DTLSUDP_OK);
        assert_int_equal(dtlsudp_engine_add_peer_fingerprint(real->e, &client_fp), DTLSUDP_OK);
    }
    assert_non_null(tn_connect(&net, c, rogue, &opts));
    assert_non_null(tn_connect(&net, c2, real, &opts)); /* control */
    tn_run(&net, NULL, NULL, 100);
    assert_int_equal(c->established, 0);
    assert_int_equal(c->last_reason, DTLSUDP_ERR_PEER_CERT);
    assert_int_equal(rogue->established, 0);
    assert_int_equal(c2->established, 1);
    assert_int_equal(real->established, 1);
}

/* Attack (securityName escalation, engine view): a client presents [its
 * own leaf, another client's public certificate].  The server pins the
 * other client.  Refused whether or not the server trusts their CA, and
 * the honest owner of the pinned certificate is accepted. */
static void test_appended_foreign_cert_refused(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *trusting = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *pinning = tn_add(&net, "127.0.0.1:10162", &tc->server, NULL, NULL);
    tn_node *bob1 = tn_add(&net, "127.0.0.1:50017", &tc->client, NULL, NULL);
    tn_node *bob2 = tn_add(&net, "127.0.0.1:50018", &tc->client, NULL, NULL);
    tn_node *alice = tn_add(&net, "127.0.0.1:50019", &tc->client2, NULL, NULL);
    dtlsudp_fingerprint alice_fp, server_fp;
    dtlsudp_connect_opts opts = {.peer_fingerprints = &server_fp, .n_peer_fingerprints = 1};
    dtlsudp_stats st;

    (void)state;
    alice_fp = fp_of(tc->client2.cert, 32);
    server_fp = fp_of(tc->server.cert, 32);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(trusting->e, &alice_fp), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(pinning->e, &alice_fp), DTLSUDP_OK);
    assert_int_equal(SSL_CTX_add1_chain_cert(dtlsudp_engine_ssl_ctx(bob1->e), tc->client2.cert), 1);
    assert_int_equal(SSL_CTX_add1_chain_cert(dtlsudp_engine_ssl_ctx(bob2->e), tc->client2.cert), 1);
    assert_non_null(tn_connect(&net, bob1, trusting, &opts));
    assert_non_null(tn_connect(&net, bob2, pinning, &opts));
    assert_non_null(tn_connect(&net, alice, pinning, &opts));
    tn_run(&net, NULL, NULL, 100);
    assert_int_equal(bob1->established, 0);
    assert_int_equal(bob2->established, 0);
    assert_int_equal(alice->established, 1);
    dtlsudp_engine_get_stats(trusting->e, &st);
    assert_int_equal(st.cert_refused, 1);
    dtlsudp_engine_get_stats(pinning->e, &st);
    assert_int_equal(st.cert_refused, 1);
    assert_int_equal(st.handshakes_completed, 1);
}

/* R4: a leaf accepted only by its pin is still checked against a loaded
 * CRL of its issuer, though nothing vouches for that issuer here. */
static void test_pinned_leaf_revoked_refused(void **state)
{
    const testcerts *tc = tc_get();
    char dir[] = "/tmp/dtlsudp-crl-XXXXXX", crl[128];
    dtlsudp_engine_config cfg;
    dtlsudp_fingerprint fp[2], server_fp;
    dtlsudp_connect_opts opts = {.peer_fingerprints = &server_fp, .n_peer_fingerprints = 1};
    tn_node *s, *bob, *alice;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(crl, sizeof(crl), "%s/ca.crl", dir);
    assert_int_equal(tc_write_crl(&tc->ca, tc->client.cert, crl), 0);
    dtlsudp_engine_config_init(&cfg);
    cfg.crl_file = crl;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, NULL, &cfg); /* trusts no CA */
    bob = tn_add(&net, "127.0.0.1:50022", &tc->client, NULL, NULL);    /* revoked */
    alice = tn_add(&net, "127.0.0.1:50023", &tc->client2, NULL, NULL); /* fine */
    fp[0] = fp_of(tc->client.cert, 32);
    fp[1] = fp_of(tc->client2.cert, 20);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(s->e, &fp[0]), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(s->e, &fp[1]), DTLSUDP_OK);
    server_fp = fp_of(tc->server.cert, 32);
    assert_non_null(tn_connect(&net, bob, s, &opts));
    assert_non_null(tn_connect(&net, alice, s, &opts));
    assert_true(tn_run(&net, clients_settled, (tn_node *[]){bob, alice, NULL}, 100));
    tn_pump(&net);
    assert_int_equal(bob->established, 0);
    assert_int_equal(bob->last_reason, DTLSUDP_ERR_PEER_ALERT);
    assert_int_equal(alice->established, 1);
    assert_int_equal(dtlsudp_assoc_peer_trust(dtlsudp_engine_find(s->e, &alice->addr)), DTLSUDP_TRUST_LEAF);
    unlink(crl);
    rmdir(dir);
}

/* R4: an expired leaf is refused even when pinned. */
static void test_pinned_expired_leaf_refused(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, NULL, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50024", &tc->expired_client, &tc->ca, NULL);
    dtlsudp_fingerprint fp, server_fp;

    (void)state;
    fp = fp_of(tc->expired_client.cert, 32);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(s->e, &fp), DTLSUDP_OK);
    server_fp = fp_of(tc->server.cert, 32);
    assert_false(attempt(s, c, &(dtlsudp_connect_opts){.peer_fingerprints = &server_fp, .n_peer_fingerprints = 1}));
    expect_refused_by(s, c);
}

/* R1 purpose: a server certificate whose extendedKeyUsage allows only
 * clientAuth is refused by a client (chain verified or pinned), and a
 * client certificate allowing only serverAuth by a server. */
static void test_eku_mismatch_refused(void **state)
{
    const testcerts *tc = tc_attack();
    tn_node *bad_server = tn_add(&net, "127.0.0.1:10161", &tc->server_eku_client, &tc->ca, NULL);
    tn_node *good_server = tn_add(&net, "127.0.0.1:10162", &tc->server, &tc->ca, NULL);
    tn_node *pinned_server = tn_add(&net, "127.0.0.1:10163", &tc->server_eku_client, &tc->ca, NULL);
    tn_node *c1 = tn_add(&net, "127.0.0.1:50025", &tc->client, &tc->ca, NULL);
    tn_node *c2 = tn_add(&net, "127.0.0.1:50026", &tc->client_eku_server, &tc->ca, NULL);
    tn_node *c3 = tn_add(&net, "127.0.0.1:50027", &tc->client, &tc->ca, NULL);
    tn_node *c4 = tn_add(&net, "127.0.0.1:50028", &tc->client, NULL, NULL);
    dtlsudp_fingerprint fp;
    dtlsudp_stats st;

    (void)state;
    fp = fp_of(tc->server_eku_client.cert, 32);
    assert_non_null(tn_connect(&net, c1, bad_server, &(dtlsudp_connect_opts){.hostname = "server.example.com"}));
    assert_non_null(tn_connect(&net, c2, good_server, &(dtlsudp_connect_opts){.hostname = "server.example.com"}));
    assert_non_null(tn_connect(&net, c3, good_server, &(dtlsudp_connect_opts){.hostname = "server.example.com"}));
    assert_non_null(
        tn_connect(&net, c4, pinned_server, &(dtlsudp_connect_opts){.peer_fingerprints = &fp, .n_peer_fingerprints = 1}));
    tn_run(&net, NULL, NULL, 100);
    assert_int_equal(c1->established, 0);
    assert_int_equal(c1->last_reason, DTLSUDP_ERR_PEER_CERT);
    assert_int_equal(c2->established, 0);
    assert_int_equal(c3->established, 1); /* control */
    assert_int_equal(c4->established, 0); /* pinned, untrusted: purpose still checked */
    assert_int_equal(c4->last_reason, DTLSUDP_ERR_PEER_CERT);
    dtlsudp_engine_get_stats(good_server->e, &st);
    assert_int_equal(st.cert_refused, 1);
    assert_int_equal(st.handshakes_completed, 1);
}

/* R1 depth: at most max_chain_depth (4) CA certificates between the leaf
 * and the trust anchor. */
static void test_chain_depth(void **state)
{
    const testcerts *tc = tc_attack();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c4 = tn_add(&net, "127.0.0.1:50029", &tc->deep4, NULL, NULL);
    tn_node *c5 = tn_add(&net, "127.0.0.1:50030", &tc->deep5, NULL, NULL);
    dtlsudp_fingerprint fp;
    dtlsudp_connect_opts opts = {.peer_fingerprints = &fp, .n_peer_fingerprints = 1};
    int i;

    (void)state;
    for (i = 3; i >= 0; i--)
        assert_int_equal(SSL_CTX_add1_chain_cert(dtlsudp_engine_ssl_ctx(c4->e), tc->inter[i].cert), 1);
    for (i = 4; i >= 0; i--)
        assert_int_equal(SSL_CTX_add1_chain_cert(dtlsudp_engine_ssl_ctx(c5->e), tc->inter[i].cert), 1);
    fp = fp_of(tc->server.cert, 32);
    assert_non_null(tn_connect(&net, c4, s, &opts));
    assert_non_null(tn_connect(&net, c5, s, &opts));
    assert_true(tn_run(&net, clients_settled, (tn_node *[]){c4, c5, NULL}, 100));
    tn_pump(&net);
    assert_int_equal(c4->established, 1);
    assert_int_equal(sk_X509_num(dtlsudp_assoc_peer_chain(dtlsudp_engine_find(s->e, &c4->addr))), 6);
    assert_int_equal(c5->established, 0);
    assert_int_equal(c5->last_reason, DTLSUDP_ERR_PEER_ALERT);
}

/* A client with pins wants a pin even from a server its CA vouches for
 * (RFC 6353 5.3.1: a configured server fingerprint is the identity). */
static void test_client_pin_required_with_trusted_chain(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50031", &tc->client, &tc->ca, NULL);
    dtlsudp_fingerprint fp;

    (void)state;
    fp = fp_of(tc->client2.cert, 32);
    assert_false(attempt(s, c, &(dtlsudp_connect_opts){.peer_fingerprints = &fp, .n_peer_fingerprints = 1}));
    expect_refused_by(c, s);
}

/* The trust store can be replaced at run time (configuration reload). */
static void test_set_trust_store(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, NULL, NULL);
    tn_node *c1 = tn_add(&net, "127.0.0.1:50032", &tc->client, NULL, NULL);
    tn_node *c2 = tn_add(&net, "127.0.0.1:50033", &tc->client, NULL, NULL);
    dtlsudp_fingerprint fp;
    dtlsudp_connect_opts opts = {.peer_fingerprints = &fp, .n_peer_fingerprints = 1};
    X509_STORE *store = X509_STORE_new();

    (void)state;
    fp = fp_of(tc->server.cert, 32);
    assert_non_null(tn_connect(&net, c1, s, &opts));
    tn_run(&net, NULL, NULL, 100);
    assert_int_equal(c1->established, 0); /* nothing vouches for the client yet */
    assert_non_null(store);
    assert_int_equal(X509_STORE_add_cert(store, tc->ca.cert), 1);
    assert_int_equal(dtlsudp_engine_set_trust_store(s->e, store), DTLSUDP_OK);
    X509_STORE_free(store); /* the engine holds its own reference */
    assert_non_null(tn_connect(&net, c2, s, &opts));
    tn_run(&net, NULL, NULL, 100);
    assert_int_equal(c2->established, 1);
}

static void test_connect_pin_mismatch_refused(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *c = tn_add(&net, "127.0.0.1:50007", &tc->client, NULL, NULL);
    dtlsudp_fingerprint fp;

    (void)state;
    fp = fp_of(tc->wrong_server.cert, 32);
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

static void test_verify_hook(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c;
    struct hook_log *h;
    dtlsudp_fingerprint fp;

    (void)state;
    s = hooked_server(&tc->server, &tc->ca, 0, &h); /* refuse a peer whose chain is fine */
    c = tn_add(&net, "127.0.0.1:50011", &tc->client, &tc->ca, NULL);
    fp = fp_of(tc->client.cert, 32);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(s->e, &fp), DTLSUDP_OK);
    assert_false(attempt(s, c, NULL));
    assert_int_equal(h->calls, 1); /* once per handshake */
    assert_int_equal(h->last_trust, DTLSUDP_TRUST_CHAIN);
    assert_int_equal(h->last_pin, 1);
    assert_int_equal(h->chain_len, 2); /* client, CA */
    expect_refused_by(s, c);
}

/* A hook cannot accept what verification refused (an expired leaf). */
static void test_verify_hook_cannot_accept_untrusted(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c;
    struct hook_log *h;

    (void)state;
    s = hooked_server(&tc->server, &tc->ca, 1, &h);
    c = tn_add(&net, "127.0.0.1:50034", &tc->expired_client, &tc->ca, NULL);
    assert_false(attempt(s, c, NULL));
    assert_int_equal(h->calls, 1);
    assert_int_equal(h->last_trust, DTLSUDP_TRUST_NONE);
    assert_int_equal(h->last_pin, 0);
    expect_refused_by(s, c);
}

/* A chain that verifies but comes with a foreign certificate is NONE, and
 * the hook sees the leaf alone (dtlsudp_peer_auth.chain), not the path
 * OpenSSL verified. */
static void test_verify_hook_none_chain_is_leaf(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c;
    struct hook_log *h;

    (void)state;
    s = hooked_server(&tc->server, &tc->ca, 1, &h);
    c = tn_add(&net, "127.0.0.1:50035", &tc->client, &tc->ca, NULL);
    assert_int_equal(SSL_CTX_add1_chain_cert(dtlsudp_engine_ssl_ctx(c->e), tc->client2.cert), 1);
    assert_false(attempt(s, c, NULL));
    assert_int_equal(h->calls, 1);
    assert_int_equal(h->last_trust, DTLSUDP_TRUST_NONE);
    assert_int_equal(h->chain_len, 1);
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

/* A reload with a CRL that revokes a connected client closes that
 * association (dtlsudp_engine_close_revoked) and keeps the others. */
static void test_close_revoked_after_reload(void **state)
{
    const testcerts *tc = tc_get();
    char dir[] = "/tmp/dtlsudp-crl-XXXXXX", crl[128];
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    tn_node *bob = tn_add(&net, "127.0.0.1:50040", &tc->client, &tc->ca, NULL);
    tn_node *alice = tn_add(&net, "127.0.0.1:50041", &tc->client2, &tc->ca, NULL);
    X509_STORE *store = X509_STORE_new();
    X509_LOOKUP *lookup;
    dtlsudp_assoc *sa;

    (void)state;
    assert_non_null(tn_connect(&net, bob, s, NULL));
    assert_non_null(tn_connect(&net, alice, s, NULL));
    assert_true(tn_run(&net, clients_settled, (tn_node *[]){bob, alice, NULL}, 100));
    tn_pump(&net);
    assert_int_equal(s->established, 2);
    /* nothing revoked yet: nothing closed */
    assert_int_equal(dtlsudp_engine_close_revoked(s->e, tn_clock), 0);

    assert_non_null(mkdtemp(dir));
    snprintf(crl, sizeof(crl), "%s/ca.crl", dir);
    assert_int_equal(tc_write_crl(&tc->ca, tc->client.cert, crl), 0);
    assert_non_null(store);
    assert_int_equal(X509_STORE_add_cert(store, tc->ca.cert), 1);
    assert_non_null(lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file()));
    assert_int_equal(X509_load_crl_file(lookup, crl, X509_FILETYPE_PEM), 1);
    assert_int_equal(dtlsudp_engine_set_trust_store(s->e, store), DTLSUDP_OK);
    X509_STORE_free(store);

    assert_int_equal(dtlsudp_engine_close_revoked(s->e, tn_clock), 1);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_PEER_CERT);
    assert_null(dtlsudp_engine_find(s->e, &bob->addr));
    sa = dtlsudp_engine_find(s->e, &alice->addr);
    assert_non_null(sa);
    assert_int_equal(dtlsudp_assoc_state(sa), DTLSUDP_STATE_ESTABLISHED);
    tn_pump(&net); /* bob hears the close_notify */
    assert_int_equal(bob->closed, 1);
    assert_int_equal(alice->closed, 0);
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
        cmocka_unit_test_setup_teardown(test_pin_on_unverified_ca_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_pin_on_verified_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_pin_on_ca_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reissued_root_sent_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rogue_server_with_appended_real_cert_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appended_foreign_cert_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pinned_leaf_revoked_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pinned_expired_leaf_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eku_mismatch_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_pin_required_with_trusted_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_trust_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_pin_mismatch_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostname, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_hook_cannot_accept_untrusted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_hook_none_chain_is_leaf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rsa_identities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pem_files_and_config_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crl_revokes_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_revoked_after_reload, setup, teardown),
    };
    int rc;

    tn_mem_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return rc;
}
