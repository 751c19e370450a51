/*
 * Unit tests: certs.c, identity and trust from Net-SNMP's certificate
 * store (snmpstore.c lays it out; snmp.conf says "trustCert ca").
 *
 *  - the identity's files, and the refusals that name the token, the
 *    value, the directories searched and the fix;
 *  - the identity installed on an engine or on one SSL, with the issuers
 *    the store knows;
 *  - dtlsudp_snmp_certs_check_name(), as each certificate line is read;
 *  - the trust store: trustCert, -T trust_cert, x509CRLFile failing
 *    closed;
 *  - a peerCert / their_identity value as a fingerprint.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "snmp_internal.h"
#include "snmpstore.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#define APP "test-certs"

static void ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);

    assert_true(n >= m);
    assert_string_equal(s + n - m, tail);
}

static void logged(const char *text)
{
    if (strstr(store_log(), text) == NULL)
        fail_msg("not logged: \"%s\"; the log: %s", text, store_log());
}

static void identity_paths_name_the_files(void **state)
{
    char *cert = NULL, *key = NULL;

    (void)state;
    assert_int_equal(dtlsudp_snmp_certs_identity_paths("server", &cert, &key), 0);
    ends_with(cert, "/tls/certs/server.crt");
    ends_with(key, "/tls/private/server.key");
    free(cert);
    free(key);
    /* Without -T our_identity: the localCert token. */
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_LOCAL_CERT, "client");
    assert_int_equal(dtlsudp_snmp_certs_identity_paths(NULL, &cert, &key), 0);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_LOCAL_CERT, NULL);
    ends_with(cert, "/tls/certs/client.crt");
    ends_with(key, "/tls/private/client.key");
    free(cert);
    free(key);
}

static void identity_refusals_say_why_and_what_to_do(void **state)
{
    char *cert = (char *)1, *key = (char *)1;

    (void)state;
    store_log_clear();
    assert_int_equal(dtlsudp_snmp_certs_identity_paths("nosuch", &cert, &key), -1);
    assert_null(cert);
    assert_null(key);
    logged("dtlsudp: -T localCert nosuch: no certificate file nosuch.crt");
    logged("tls/certs and tls/ca-certs (keys: tls/private) under ");
    logged("dtlsudp-checkconf lists what every certificate token resolves to");

    store_log_clear();
    assert_int_equal(dtlsudp_snmp_certs_identity_paths(NULL, &cert, &key), -1);
    logged("dtlsudp: no local certificate: localCert is not set");
}

/* A certificate whose key is missing (or refused by Net-SNMP for its mode)
 * is named as such, not as a file that is not there. */
static void keyless_identity_is_named_as_such(void **state)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;
    dtlsudp_engine *e = NULL;
    char *cert = (char *)1, *key = (char *)1;

    (void)state;
    store_log_clear();
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_LOCAL_CERT, "client2");
    assert_int_equal(dtlsudp_snmp_certs_identity_paths(NULL, &cert, &key), -1);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_LOCAL_CERT, NULL);
    assert_null(cert);
    assert_null(key);
    logged("dtlsudp: localCert client2: certificate ");
    logged("/tls/certs/client2.crt has no private key");
    logged("chmod 600 it");
    assert_null(strstr(store_log(), "no certificate file"));

    assert_int_equal(dtlsudp_engine_config_init(&cfg), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_new(&cfg, 0, &e), DTLSUDP_OK);
    assert_int_equal(dtlsudp_snmp_certs_use_identity(e, "server"), 0);
    store_log_clear();
    assert_int_equal(dtlsudp_snmp_certs_use_identity(e, "client2"), -1);
    logged("dtlsudp: -T localCert client2: certificate ");
    logged("/tls/certs/client2.crt has no private key");
    assert_null(strstr(store_log(), "no certificate file"));
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(dtlsudp_engine_ssl_ctx(e)), tc->server.cert), 0);
    dtlsudp_engine_free(e);
}

/* 1 when x is among the chain certificates. */
static int chain_has(STACK_OF(X509) * chain, X509 *x)
{
    int i;

    for (i = 0; i < sk_X509_num(chain); i++)
        if (X509_cmp(sk_X509_value(chain, i), x) == 0)
            return 1;
    return 0;
}

static void identity_goes_on_the_engine_with_its_issuers(void **state)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;
    dtlsudp_engine *e = NULL;
    STACK_OF(X509) *chain = NULL;
    SSL_CTX *ctx;

    (void)state;
    assert_int_equal(dtlsudp_engine_config_init(&cfg), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_new(&cfg, 0, &e), DTLSUDP_OK);
    ctx = dtlsudp_engine_ssl_ctx(e);
    assert_int_equal(dtlsudp_snmp_certs_use_identity(e, "server"), 0);
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), tc->server.cert), 0);
    assert_int_equal(SSL_CTX_get0_chain_certs(ctx, &chain), 1);
    assert_true(chain_has(chain, tc->ca.cert));

    /* A refused identity leaves the one installed. */
    store_log_clear();
    assert_int_equal(dtlsudp_snmp_certs_use_identity(e, "nosuch"), -1);
    logged("-T localCert nosuch: no certificate file");
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), tc->server.cert), 0);
    dtlsudp_engine_free(e);
}

/* The store's own objects, for a client engine's configuration: no file
 * is read again. */
static void identity_objects_come_from_the_store(void **state)
{
    const testcerts *tc = tc_get();
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    STACK_OF(X509) *issuers = NULL;

    (void)state;
    assert_int_equal(dtlsudp_snmp_certs_identity("client", &cert, &key, &issuers), 0);
    assert_int_equal(X509_cmp(cert, tc->client.cert), 0);
    assert_int_equal(X509_check_private_key(cert, key), 1);
    assert_true(chain_has(issuers, tc->ca.cert));
    sk_X509_free(issuers);
    store_log_clear();
    assert_int_equal(dtlsudp_snmp_certs_identity("nosuch", &cert, &key, &issuers), -1);
    assert_null(cert);
    assert_null(key);
    assert_null(issuers);
    logged("-T localCert nosuch: no certificate file");
}

static void check_name_answers_per_kind(void **state)
{
    char why[2048], fp[200];

    (void)state;
    assert_int_equal(dtlsudp_snmp_certs_check_name(DTLSUDP_SNMP_CERT_IDENTITY, "localCert", "server", why, sizeof(why)),
                     0);
    assert_int_equal(dtlsudp_snmp_certs_check_name(DTLSUDP_SNMP_CERT_IDENTITY, "localCert", "client2", why, sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "dtlsudp: localCert client2: certificate "));
    assert_non_null(strstr(why, "client2.crt has no private key"));
    assert_int_equal(dtlsudp_snmp_certs_check_name(DTLSUDP_SNMP_CERT_IDENTITY, "localCert", "nosuch", why, sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "dtlsudp: localCert nosuch: no certificate file nosuch.crt"));

    /* A peer: a stored certificate, or any fingerprint (a pin). */
    assert_int_equal(dtlsudp_snmp_certs_check_name(DTLSUDP_SNMP_CERT_PEER, "peerCert", "client2", why, sizeof(why)), 0);
    store_fingerprint(tc_get()->wrong_server.cert, 20, fp, sizeof(fp));
    assert_int_equal(dtlsudp_snmp_certs_check_name(DTLSUDP_SNMP_CERT_PEER, "peerCert", fp, why, sizeof(why)), 0);
    assert_int_equal(dtlsudp_snmp_certs_check_name(DTLSUDP_SNMP_CERT_PEER, "peerCert", "nosuch", why, sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "dtlsudp: peerCert nosuch: no certificate file"));

    /* Trust: a CA or a peer's own certificate, not a fingerprint of
     * nothing stored. */
    assert_int_equal(dtlsudp_snmp_certs_check_name(DTLSUDP_SNMP_CERT_TRUST, "trustCert", "ca", why, sizeof(why)), 0);
    assert_int_equal(dtlsudp_snmp_certs_check_name(DTLSUDP_SNMP_CERT_TRUST, "trustCert", "client2", why, sizeof(why)),
                     0);
    assert_int_equal(dtlsudp_snmp_certs_check_name(DTLSUDP_SNMP_CERT_TRUST, "trustCert", fp, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "dtlsudp: trustCert "));

    /* A small buffer is cut, never overrun. */
    memset(why, 'x', sizeof(why));
    assert_int_equal(dtlsudp_snmp_certs_check_name(DTLSUDP_SNMP_CERT_TRUST, "trustCert", "nosuch", why, 16), -1);
    assert_int_equal(strlen(why), 15);
    assert_int_equal(why[16], 'x');
}

/* X509_verify_cert() of x against store: 0, or the X509_V_ERR code. */
static int verify(X509_STORE *store, X509 *x)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc;

    assert_non_null(ctx);
    assert_int_equal(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
    rc = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    return rc;
}

static void trust_store_holds_trustcert_and_trust_cert(void **state)
{
    const testcerts *tc = tc_get();
    X509_STORE *store;

    (void)state;
    store_log_clear();
    store = dtlsudp_snmp_certs_trust_store(NULL);
    assert_non_null(store);
    assert_int_equal(verify(store, tc->client.cert), 0);
    assert_int_not_equal(verify(store, tc->wrong_client.cert), 0);
    /* "trustCert nosuch" is logged and skipped, as Net-SNMP does. */
    logged("dtlsudp: trustCert nosuch: no certificate file nosuch.crt");
    X509_STORE_free(store);

    /* -T trust_cert adds to trustCert. */
    store_log_clear();
    store = dtlsudp_snmp_certs_trust_store("intruder-ca");
    assert_non_null(store);
    assert_int_equal(verify(store, tc->wrong_client.cert), 0);
    assert_int_equal(verify(store, tc->client.cert), 0);
    X509_STORE_free(store);
    store = dtlsudp_snmp_certs_trust_store("nosuch-either");
    assert_non_null(store);
    logged("dtlsudp: -T trustCert nosuch-either: no certificate file");
    X509_STORE_free(store);
}

/* x509CRLFile: revocation applies, and a file that is missing or holds no
 * CRL gives no store at all (never a store without revocation). */
static void crl_file_applies_or_fails_closed(void **state)
{
    const testcerts *tc = tc_get();
    char crl[512], empty[512];
    X509_STORE *store;

    (void)state;
    store_path("revoked.crl", crl, sizeof(crl));
    assert_int_equal(tc_write_crl(&tc->ca, tc->client.cert, crl), 0);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE, crl);
    store = dtlsudp_snmp_certs_trust_store(NULL);
    assert_non_null(store);
    assert_int_equal(verify(store, tc->client.cert), X509_V_ERR_CERT_REVOKED);
    assert_int_equal(verify(store, tc->client2.cert), 0);
    X509_STORE_free(store);

    store_log_clear();
    store_path("missing.crl", crl, sizeof(crl));
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE, crl);
    assert_null(dtlsudp_snmp_certs_trust_store(NULL));
    logged("missing.crl: cannot read it: No such file or directory; no listener or session opens");

    store_log_clear();
    assert_int_equal(store_write("empty.crl", ""), 0);
    store_path("empty.crl", empty, sizeof(empty));
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE, empty);
    assert_null(dtlsudp_snmp_certs_trust_store(NULL));
    logged("empty.crl: no usable PEM CRL in it");
    /* a certificate is not a CRL */
    store_log_clear();
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE,
                          store_path("tls/ca-certs/ca.crt", crl, sizeof(crl)));
    assert_null(dtlsudp_snmp_certs_trust_store(NULL));
    logged("ca.crt: no usable PEM CRL in it");
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE, NULL);
}

static void fingerprint_is(const char *identity, X509 *x, size_t len)
{
    dtlsudp_fingerprint fp, want;

    assert_int_equal(dtlsudp_snmp_certs_peer_fingerprint(identity, &fp), 0);
    assert_int_equal(dtlsudp_fingerprint_of(x, len, &want), DTLSUDP_OK);
    assert_int_equal(fp.len, want.len);
    assert_memory_equal(fp.bytes, want.bytes, want.len);
}

static void peer_fingerprint_of_a_name_or_a_pin(void **state)
{
    const testcerts *tc = tc_get();
    dtlsudp_fingerprint fp;
    char text[200];

    (void)state;
    /* A stored certificate, by name or by any hash: its SHA-256. */
    fingerprint_is("server", tc->server.cert, 32);
    fingerprint_is(store_fingerprint(tc->server.cert, 20, text, sizeof(text)), tc->server.cert, 32);
    /* A fingerprint of nothing stored is a pin as written. */
    fingerprint_is(store_fingerprint(tc->wrong_server.cert, 20, text, sizeof(text)), tc->wrong_server.cert, 20);
    /* The peerCert token when no value is given. */
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_PEER_CERT, "client");
    fingerprint_is(NULL, tc->client.cert, 32);
    fingerprint_is("", tc->client.cert, 32);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_PEER_CERT, NULL);
    assert_int_equal(dtlsudp_snmp_certs_peer_fingerprint("nosuch", &fp), -1);
    assert_int_equal(dtlsudp_snmp_certs_peer_fingerprint(NULL, &fp), -1);
}

static int setup(void **state)
{
    const testcerts *tc = tc_get();
    char path[512];

    (void)state;
    assert_non_null(store_make());
    /* the unrelated CA, trusted only through -T trust_cert */
    assert_int_equal(tc_write_pem(&tc->other_ca, store_path("tls/ca-certs/intruder-ca.crt", path, sizeof(path)), NULL),
                     0);
    assert_int_equal(store_write("snmp.conf", "trustCert ca\ntrustCert nosuch\n"), 0);
    store_init_snmp(APP, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dtlsudp_snmp_cert_index_reset();
    store_remove(APP);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identity_paths_name_the_files),
        cmocka_unit_test(identity_refusals_say_why_and_what_to_do),
        cmocka_unit_test(keyless_identity_is_named_as_such),
        cmocka_unit_test(identity_goes_on_the_engine_with_its_issuers),
        cmocka_unit_test(identity_objects_come_from_the_store),
        cmocka_unit_test(check_name_answers_per_kind),
        cmocka_unit_test(trust_store_holds_trustcert_and_trust_cert),
        cmocka_unit_test(crl_file_applies_or_fails_closed),
        cmocka_unit_test(peer_fingerprint_of_a_name_or_a_pin),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
