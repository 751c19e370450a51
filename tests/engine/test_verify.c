/*
 * test_verify.c - the peer-certificate decision (transport/engine/verify.c),
 * driven through eng_verify_stored(), which runs the whole decision on
 * a given leaf and the certificates after it without a handshake: trust
 * CHAIN / LEAF / NONE for leaf, chain and pin cases (expiry, purpose,
 * depth, a foreign certificate appended, revocation by a loaded CRL), the
 * default policy of each role (pins, host names), and what an accepted
 * peer leaves on its association.  The policy hook is not used here: the
 * default decision and the refusal reasons are the module's contract.
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

#include <openssl/pem.h>

#include "engine_internal.h"
#include "testcerts.h"

static dtlsudp_engine *e;
static X509_STORE *store;
static dtlsudp_assoc a;
static char why[512];

static void keep_log(void *user, int level, const char *msg)
{
    (void)user;
    (void)level;
    if (strstr(msg, "not resumed") != NULL)
        snprintf(why, sizeof(why), "%s", msg);
}

static void new_engine(void)
{
    dtlsudp_engine_config cfg;

    dtlsudp_engine_config_init(&cfg);
    cfg.trust_store = store;
    cfg.log = keep_log;
    assert_int_equal(dtlsudp_engine_new(&cfg, 0, &e), DTLSUDP_OK);
}

static int setup(void **state)
{
    const testcerts *tc = tc_attack();

    (void)state;
    store = X509_STORE_new();
    if (store == NULL || X509_STORE_add_cert(store, tc->ca.cert) != 1)
        return -1;
    e = NULL;
    memset(&a, 0, sizeof(a));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sk_X509_pop_free(a.auth_chain, X509_free);
    SSL_free(a.ssl);
    memset(&a, 0, sizeof(a));
    dtlsudp_engine_free(e);
    X509_STORE_free(store);
    return 0;
}

/* A fake association of the given role on the engine (made on first use). */
static void role(int is_client)
{
    if (e == NULL)
        new_engine();
    sk_X509_pop_free(a.auth_chain, X509_free);
    SSL_free(a.ssl);
    memset(&a, 0, sizeof(a));
    a.e = e;
    a.is_client = is_client;
    a.ssl = SSL_new(e->ctx);
    assert_non_null(a.ssl);
    assert_int_equal(dtlsudp_addr_parse("192.0.2.1:1000", 0, &a.peer), DTLSUDP_OK);
}

static STACK_OF(X509) *rest_of(int n, X509 *const *certs)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    int i;

    for (i = 0; i < n; i++)
        X509_add_cert(sk, certs[i], X509_ADD_FLAG_UP_REF);
    return sk;
}

/* Run the decision; on acceptance check the trust it left. */
static int decide_on(X509 *leaf, STACK_OF(X509) *rest)
{
    int ok;

    why[0] = '\0';
    ok = eng_verify_stored(e, &a, leaf, rest, NULL);
    sk_X509_pop_free(rest, X509_free);
    if (ok) {
        assert_non_null(a.auth_chain);
        assert_int_equal(X509_cmp(sk_X509_value(a.auth_chain, 0), leaf), 0);
    } else {
        assert_true(why[0] != '\0'); /* every refusal says why */
    }
    return ok;
}

static void expect_refused(X509 *leaf, STACK_OF(X509) *rest, const char *reason)
{
    assert_false(decide_on(leaf, rest));
    if (strstr(why, reason) == NULL)
        print_error("reason: %s\n", why);
    assert_non_null(strstr(why, reason));
    assert_null(a.auth_chain);
}

static void pin(X509 *cert)
{
    dtlsudp_fingerprint fp;

    assert_int_equal(dtlsudp_fingerprint_of(cert, 32, &fp), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_add_peer_fingerprint(e, &fp), DTLSUDP_OK);
}

static void test_install_requires_a_peer_certificate(void **state)
{
    (void)state;
    new_engine();
    assert_int_equal(SSL_CTX_get_verify_mode(e->ctx), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
    assert_int_equal(SSL_CTX_get_verify_depth(e->ctx), 4);
}

static void test_chain_to_an_anchor(void **state)
{
    const testcerts *tc = tc_attack();

    (void)state;
    role(0);
    assert_true(decide_on(tc->client.cert, NULL));
    assert_int_equal(a.auth_trust, DTLSUDP_TRUST_CHAIN);
    /* the verified path, anchor last */
    assert_int_equal(sk_X509_num(a.auth_chain), 2);
    assert_int_equal(X509_cmp(sk_X509_value(a.auth_chain, 1), tc->ca.cert), 0);
}

static void test_depth_is_counted_in_cas_below_the_anchor(void **state)
{
    const testcerts *tc = tc_attack();
    X509 *path[5] = {tc->inter[4].cert, tc->inter[3].cert, tc->inter[2].cert, tc->inter[1].cert,
                     tc->inter[0].cert};

    (void)state;
    role(0);
    /* deep4: 4 CAs between leaf and anchor */
    assert_true(decide_on(tc->deep4.cert, rest_of(4, path + 1)));
    assert_int_equal(a.auth_trust, DTLSUDP_TRUST_CHAIN);
    assert_int_equal(sk_X509_num(a.auth_chain), 6);
    role(0);
    expect_refused(tc->deep5.cert, rest_of(5, path), "too long");
}

static void test_leaf_only_by_a_pin(void **state)
{
    const testcerts *tc = tc_attack();

    (void)state;
    /* no anchor vouches for wrong_client: LEAF, refused without a pin */
    role(0);
    expect_refused(tc->wrong_client.cert, NULL, "no trusted CA vouches");
    pin(tc->wrong_client.cert);
    role(0);
    assert_true(decide_on(tc->wrong_client.cert, NULL));
    assert_int_equal(a.auth_trust, DTLSUDP_TRUST_LEAF);
    assert_int_equal(sk_X509_num(a.auth_chain), 1); /* the leaf alone */
    /* a self-signed server the client pins */
    role(1);
    expect_refused(tc->rogue.cert, NULL, "no trusted CA vouches");
    pin(tc->rogue.cert);
    role(1);
    assert_true(decide_on(tc->rogue.cert, NULL));
    assert_int_equal(a.auth_trust, DTLSUDP_TRUST_LEAF);
}

static void test_no_pin_overrides_none(void **state)
{
    const testcerts *tc = tc_attack();

    (void)state;
    new_engine();
    pin(tc->expired_client.cert);
    pin(tc->client_eku_server.cert);
    pin(tc->server_eku_client.cert);
    role(0);
    expect_refused(tc->expired_client.cert, NULL, "expired");
    role(0);
    expect_refused(tc->client_eku_server.cert, NULL, "purpose");
    role(1);
    expect_refused(tc->server_eku_client.cert, NULL, "purpose");
}

static void test_foreign_certificate_appended(void **state)
{
    const testcerts *tc = tc_attack();
    X509 *foreign = tc->other_ca.cert;

    (void)state;
    /* a valid chain, plus a certificate that does not certify the one
     * before it (RFC 5246 7.4.2): refused though the path verifies */
    role(0);
    expect_refused(tc->client.cert, rest_of(1, &foreign), "certification path");
    /* positive control: the CA itself appended is a path */
    role(0);
    assert_true(decide_on(tc->client.cert, rest_of(1, (X509 *const *)&tc->ca.cert)));
}

static void add_crl(const tc_pair *issuer, X509 *revoked)
{
    char path[] = "/tmp/dtlsudp-test-verify-XXXXXX";
    int fd = mkstemp(path);
    X509_CRL *crl;
    FILE *f;

    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(tc_write_crl(issuer, revoked, path), 0);
    f = fopen(path, "r");
    assert_non_null(f);
    crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
    fclose(f);
    unlink(path);
    assert_non_null(crl);
    assert_int_equal(X509_STORE_add_crl(store, crl), 1);
    X509_CRL_free(crl);
}

static void test_revoked_by_a_loaded_crl(void **state)
{
    const testcerts *tc = tc_attack();
    STACK_OF(X509) *chain;

    (void)state;
    /* CHAIN: the CA's CRL lists the client */
    add_crl(&tc->ca, tc->client.cert);
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    role(0);
    expect_refused(tc->client.cert, NULL, "revoked");
    role(0);
    assert_true(decide_on(tc->client2.cert, NULL)); /* positive control */

    /* LEAF: a CRL of the (untrusted) issuer lists the pinned leaf */
    add_crl(&tc->other_ca, tc->wrong_client.cert);
    pin(tc->wrong_client.cert);
    role(0);
    expect_refused(tc->wrong_client.cert, NULL, "revoked");

    /* the check behind dtlsudp_engine_close_revoked() */
    chain = rest_of(2, (X509 *const[]){tc->client2.cert, tc->ca.cert});
    assert_false(eng_verify_chain_revoked(store, chain));
    sk_X509_pop_free(chain, X509_free);
    chain = rest_of(2, (X509 *const[]){tc->client.cert, tc->ca.cert});
    assert_true(eng_verify_chain_revoked(store, chain));
    sk_X509_pop_free(chain, X509_free);
    assert_false(eng_verify_chain_revoked(NULL, NULL));
}

static char host_name[] = "server.example.com", host_ip[] = "127.0.0.1", other_name[] = "other.example.com",
            other_ip[] = "127.0.0.2";

static void test_client_checks_the_host_name(void **state)
{
    const testcerts *tc = tc_attack();

    (void)state;
    role(1);
    a.hostname = host_name;
    assert_true(decide_on(tc->server.cert, NULL));
    role(1);
    a.hostname = host_ip; /* an address literal: the iPAddress SAN */
    assert_true(decide_on(tc->server.cert, NULL));
    role(1);
    a.hostname = other_name;
    expect_refused(tc->server.cert, NULL, "does not name the expected host");
    role(1);
    a.hostname = other_ip;
    expect_refused(tc->server.cert, NULL, "does not name the expected host");
    /* without a host name a CHAIN server is accepted */
    role(1);
    assert_true(decide_on(tc->server.cert, NULL));
}

static void test_client_pins_name_the_server_only(void **state)
{
    const testcerts *tc = tc_attack();
    dtlsudp_fingerprint fp;

    (void)state;
    /* a per-connect pin of the CA does not accept its servers */
    role(1);
    assert_int_equal(dtlsudp_fingerprint_of(tc->ca.cert, 32, &fp), DTLSUDP_OK);
    a.pins = &fp;
    a.n_pins = 1;
    expect_refused(tc->server.cert, NULL, "does not match the expected fingerprint");
    /* a pin of the server itself does, with any hash length */
    role(1);
    assert_int_equal(dtlsudp_fingerprint_of(tc->server.cert, 20, &fp), DTLSUDP_OK);
    a.pins = &fp;
    a.n_pins = 1;
    assert_true(decide_on(tc->server.cert, NULL));
    assert_int_equal(a.auth_trust, DTLSUDP_TRUST_CHAIN);
    a.pins = NULL;
    a.n_pins = 0;
}

static void test_ca_pin_needs_a_verified_path(void **state)
{
    const testcerts *tc = tc_attack();
    X509 *path[4] = {tc->inter[3].cert, tc->inter[2].cert, tc->inter[1].cert, tc->inter[0].cert};

    (void)state;
    /* no anchor in the store: the chain is LEAF at best, and a pin of a CA
     * the peer merely sent says nothing about the leaf */
    X509_STORE_free(store);
    store = X509_STORE_new();
    assert_non_null(store);
    new_engine();
    pin(tc->inter[1].cert);
    role(0);
    expect_refused(tc->deep4.cert, rest_of(4, path), "no trusted CA vouches");
    /* positive control: a pin of the leaf itself */
    pin(tc->deep4.cert);
    role(0);
    assert_true(decide_on(tc->deep4.cert, rest_of(4, path)));
    assert_int_equal(a.auth_trust, DTLSUDP_TRUST_LEAF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_install_requires_a_peer_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_to_an_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_is_counted_in_cas_below_the_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaf_only_by_a_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_pin_overrides_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_certificate_appended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_by_a_loaded_crl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_checks_the_host_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_pins_name_the_server_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_pin_needs_a_verified_path, setup, teardown),
    };
    int ret = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return ret;
}
