/*
 * test_identity.c - certificates of dtlsudp-proxy (transport/proxy/identity.c):
 * the trust store from a CA file and a CRL (revocation checked for the
 * whole chain), the identity checked before it replaces the running one
 * (each unusable file named with the reason), and the SIGHUP rule that a
 * key of another type is refused and leaves the running identity in place.
 * Certificates come from tests/engine/testcerts.c, written to a
 * temporary directory.
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

#include "proxy.h"
#include "testcerts.h"

static char dir[64];
static char ca_pem[128], ca_key[128], srv_pem[128], srv_key[128], cli_pem[128], cli_key[128], rsa_pem[128],
    rsa_key[128], crl[128], junk[128], chain_pem[128];

static int setup(void **state)
{
    const testcerts *tc = tc_rsa();
    FILE *f;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/dtlsudp-test-identity-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
#define P(var, name) snprintf(var, sizeof(var), "%s/%s", dir, name)
    P(ca_pem, "ca.pem");
    P(ca_key, "ca.key");
    P(srv_pem, "server.pem");
    P(srv_key, "server.key");
    P(cli_pem, "client.pem");
    P(cli_key, "client.key");
    P(rsa_pem, "rsa.pem");
    P(rsa_key, "rsa.key");
    P(crl, "ca.crl");
    P(junk, "junk.pem");
    P(chain_pem, "chain.pem");
#undef P
    if (tc_write_pem(&tc->ca, ca_pem, ca_key) != 0 || tc_write_pem(&tc->server, srv_pem, srv_key) != 0 ||
        tc_write_pem(&tc->client, cli_pem, cli_key) != 0 || tc_write_pem(&tc->rsa_server, rsa_pem, rsa_key) != 0 ||
        tc_write_crl(&tc->ca, tc->client.cert, crl) != 0)
        return -1;
    if ((f = fopen(junk, "w")) == NULL)
        return -1;
    fputs("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    /* leaf then its CA in one file */
    if ((f = fopen(chain_pem, "w")) == NULL || !PEM_write_X509(f, tc->server.cert) || !PEM_write_X509(f, tc->ca.cert))
        return -1;
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    tc_free();
    return system(cmd) == 0 ? 0 : -1;
}

static void test_trust_store(void **state)
{
    X509_STORE *store = (X509_STORE *)1;
    char err[512] = "";

    (void)state;
    assert_int_equal(proxy_trust_store(ca_pem, NULL, &store, err, sizeof(err)), 0);
    assert_non_null(store);
    assert_int_equal(sk_X509_OBJECT_num(X509_STORE_get0_objects(store)), 1);
    assert_false(X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(store)) & X509_V_FLAG_CRL_CHECK);
    X509_STORE_free(store);

    assert_int_equal(proxy_trust_store(ca_pem, crl, &store, err, sizeof(err)), 0);
    assert_true(X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(store)) & X509_V_FLAG_CRL_CHECK_ALL);
    assert_int_equal(sk_X509_OBJECT_num(X509_STORE_get0_objects(store)), 2); /* the CA and its CRL */
    X509_STORE_free(store);

    /* neither: an empty store (pins only) */
    assert_int_equal(proxy_trust_store(NULL, NULL, &store, err, sizeof(err)), 0);
    assert_int_equal(sk_X509_OBJECT_num(X509_STORE_get0_objects(store)), 0);
    X509_STORE_free(store);
}

static void expect_store_error(const char *ca, const char *crl_file, const char *what, const char *file)
{
    X509_STORE *store = (X509_STORE *)1;
    char err[512] = "";

    assert_int_equal(proxy_trust_store(ca, crl_file, &store, err, sizeof(err)), -1);
    assert_null(store);
    assert_non_null(strstr(err, what));
    assert_non_null(strstr(err, file));
}

static void test_trust_store_errors_name_the_file(void **state)
{
    (void)state;
    expect_store_error("/nonexistent/ca.pem", NULL, "cannot load CA file", "/nonexistent/ca.pem");
    expect_store_error(junk, NULL, "cannot load CA file", junk);
    expect_store_error(ca_pem, junk, "cannot load CRL file", junk);
    expect_store_error(ca_pem, "/nonexistent/ca.crl", "cannot load CRL file", "/nonexistent/ca.crl");
}

static void expect_check_error(const char *cert, const char *key, const char *what, const char *file)
{
    char err[512] = "";

    assert_int_equal(proxy_identity_check(cert, key, err, sizeof(err)), -1);
    if (strstr(err, what) == NULL)
        print_error("err: %s\n", err);
    assert_non_null(strstr(err, what));
    assert_non_null(strstr(err, file));
}

static void test_identity_check(void **state)
{
    char err[512] = "x";

    (void)state;
    assert_int_equal(proxy_identity_check(srv_pem, srv_key, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(proxy_identity_check(chain_pem, srv_key, err, sizeof(err)), 0);
    expect_check_error("/nonexistent/cert.pem", srv_key, "cannot load certificate", "/nonexistent/cert.pem");
    expect_check_error(junk, srv_key, "cannot load certificate", junk);
    expect_check_error(srv_pem, "/nonexistent/key.pem", "cannot load key", "/nonexistent/key.pem");
    expect_check_error(srv_pem, cli_key, "does not match certificate", cli_key);
}

static void test_install_and_replace(void **state)
{
    const testcerts *tc = tc_rsa();
    dtlsudp_engine_config cfg;
    dtlsudp_engine *e = NULL;
    SSL_CTX *ctx;
    STACK_OF(X509) *chain = NULL;
    char err[512] = "";

    (void)state;
    assert_int_equal(dtlsudp_engine_config_init(&cfg), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_new(&cfg, 0, &e), DTLSUDP_OK);
    ctx = dtlsudp_engine_ssl_ctx(e); /* the identity is installed on the engine's */
    assert_int_equal(proxy_identity_install(e, chain_pem, srv_key, err, sizeof(err)), 0);
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), tc->server.cert), 0);
    assert_int_equal(SSL_CTX_get0_chain_certs(ctx, &chain), 1);
    assert_int_equal(sk_X509_num(chain), 1); /* the CA sent after the leaf */
    assert_int_equal(X509_cmp(sk_X509_value(chain, 0), tc->ca.cert), 0);

    /* a reload with another certificate of the same key type replaces it */
    assert_int_equal(proxy_identity_install(e, cli_pem, cli_key, err, sizeof(err)), 0);
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), tc->client.cert), 0);
    assert_int_equal(SSL_CTX_check_private_key(ctx), 1);
    assert_int_equal(SSL_CTX_get0_chain_certs(ctx, &chain), 1);
    assert_int_equal(sk_X509_num(chain), 0);

    /* another key type would sit beside the running one: refused, kept */
    assert_int_equal(proxy_identity_install(e, rsa_pem, rsa_key, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "another type"));
    assert_non_null(strstr(err, rsa_key));
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), tc->client.cert), 0);

    /* an unusable file changes nothing either */
    assert_int_equal(proxy_identity_install(e, srv_pem, cli_key, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "does not match"));
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), tc->client.cert), 0);
    dtlsudp_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trust_store),
        cmocka_unit_test(test_trust_store_errors_name_the_file),
        cmocka_unit_test(test_identity_check),
        cmocka_unit_test(test_install_and_replace),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
