/*
 * test_certificates.c - certificates.c: each certificate a token names,
 * found as the transport finds it, with its dates, its key and who can
 * read the key, and the x509CRLFile.  What it promises: a certificate
 * found is reported with its file, SHA-256 fingerprint, subject and
 * expiry; expired (or not yet valid) is an error, expiring within 30 days
 * a warning; a name or fingerprint that finds nothing is an error with
 * the directories searched and the fix (a fingerprint for peerCert pins
 * the peer and is fine); an identity without a usable key, with a
 * world-readable key, or with one the run user cannot read is reported;
 * an agent serving dtlsudp without localCert is an error; trapsess -T
 * arguments are checked as well.  The CRL file: unreadable, no PEM CRL,
 * expired, or signed by no trustCert CA are reported, a good one is ok,
 * and the x509CRLFile setting is left as it was.
 *
 * One store (cctest.c) under a temporary SNMPCONFPATH, read once by
 * libnetsnmp with trustCert ca in snmp.conf.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include <cmocka.h>

#include "cctest.h"
#include "snmp_internal.h"

#include <openssl/pem.h>

#include <net-snmp/library/cert_util.h>

#define CONF "/etc/snmp/snmpd.conf"

static char dir[128], elsewhere[128];

static int make_store(void **state)
{
    (void)state;
    cct_tmpdir(dir, sizeof(dir), "certificates");
    cct_tmpdir(elsewhere, sizeof(elsewhere), "certificates-elsewhere");
    cct_store_init(dir, "cctest", "trustCert ca\n", NULL);
    return 0;
}

static void set_ds(int which, const char *value)
{
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, which, value);
}

static int reset(void **state)
{
    (void)state;
    set_ds(NETSNMP_DS_LIB_TLS_LOCAL_CERT, NULL);
    set_ds(NETSNMP_DS_LIB_TLS_PEER_CERT, NULL);
    set_ds(NETSNMP_DS_LIB_X509_CRL_FILE, NULL);
    cct_reset();
    return 0;
}

static int remove_store(void **state)
{
    reset(state);
    snmp_shutdown("cctest");
    cct_rmdir(dir);
    cct_rmdir(elsewhere);
    return 0;
}

/* Run the certificate checks; the findings as JSON. */
static char *check_certificates(size_t *errors)
{
    cc_check_certificates();
    return cct_report(1, 0, errors);
}

static void has(const char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void has(const char *out, const char *fmt, ...)
{
    char needle[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(needle, sizeof(needle), fmt, ap);
    va_end(ap);
    if (strstr(out, needle) == NULL)
        fail_msg("not in the report: %s\n--- report:\n%s", needle, out);
}

static void identity_found_with_its_key(void **state)
{
    char fp[128], *out;
    size_t errors;

    (void)state;
    set_ds(NETSNMP_DS_LIB_TLS_LOCAL_CERT, "server");
    cct_line("localCert", "server", CONF, 4);
    out = check_certificates(&errors);
    assert_int_equal(errors, 0);
    assert_int_equal(cct_count(out, "\"severity\":\"warning\""), 0);
    cct_fingerprint(cct_store_pair("server")->cert, fp, sizeof(fp));
    has(out, "\"line\":4,\"token\":\"localCert\",\"value\":\"server\",\"message\":\"%s/tls/certs/server.crt\"", dir);
    has(out, "\"sha256\":\"%s\"", fp);
    has(out, "\"subject\":\"CN = server.example.com\"");
    has(out, "\"not_after\":\"");
    has(out, "\"kind\":\"key\"");
    has(out, "private key %s/tls/private/server.key (mode 0600, owner ", dir);
    free(out);
}

/* An agent serving dtlsudp needs localCert; a manager is told how to
 * give one. */
static void identity_not_set(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    cct_line("agentaddress", "dtlsudp:10161", CONF, 2);
    out = check_certificates(&errors);
    assert_int_equal(errors, 1);
    has(out, "not set: the agent has no certificate to present, and its dtlsudp listeners do not open");
    free(out);

    cct_reset();
    cc.is_agent = 0;
    out = check_certificates(&errors);
    assert_int_equal(errors, 0);
    has(out, "\"severity\":\"info\",\"kind\":\"certificate\"");
    has(out, "not set: give -T localCert=NAME on the command line");
    free(out);
}

static void name_that_finds_nothing(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    set_ds(NETSNMP_DS_LIB_TLS_LOCAL_CERT, "nosuch");
    cct_line("localCert", "nosuch", CONF, 4);
    out = check_certificates(&errors);
    assert_int_equal(errors, 1);
    has(out, "no certificate file nosuch.crt (or .pem, .cer, .der) and no certificate with that fingerprint");
    has(out, "put nosuch.crt in tls/certs");
    has(out, "\"searched\":\"tls/certs and tls/ca-certs (keys: tls/private) under %s", dir);
    free(out);
}

/* The file is beside a configuration file that was read, in a directory
 * Net-SNMP does not search: the fix says so. */
static void name_beside_an_unsearched_config(void **state)
{
    char path[512], conf[512], *out;
    size_t errors;

    (void)state;
    cct_write(elsewhere, "snmpd.conf", "trustCert beside\n", conf, sizeof(conf));
    cct_write(elsewhere, "tls/certs/beside.crt", "not read\n", path, sizeof(path));
    cc.files = calloc(1, sizeof(*cc.files));
    cc.files[cc.n_files++] = cc_intern(conf);
    cct_line("trustCert", "beside", conf, 1);
    out = check_certificates(&errors);
    assert_int_equal(errors, 1);
    has(out, "%s is there, but Net-SNMP does not search that directory: run the daemon with SNMPCONFPATH=%s", path,
        elsewhere);
    free(out);
}

static void fingerprints(void **state)
{
    char fp[128], value[200], *out;
    size_t errors;

    (void)state;
    /* trustCert by the CA's fingerprint, in the --sha256 form */
    cct_fingerprint(cct_store_pair("ca")->cert, fp, sizeof(fp));
    snprintf(value, sizeof(value), "--sha256 %s", fp);
    cct_line("trustCert", value, CONF, 3);
    /* a fingerprint of no certificate: an error for trustCert ... */
    cct_fingerprint(cct_store_pair("soon")->cert, fp, sizeof(fp));
    memcpy(fp, "00:00:00", 8);
    cct_line("trustCert", fp, CONF, 5);
    /* ... but a pin for peerCert */
    set_ds(NETSNMP_DS_LIB_TLS_PEER_CERT, fp);
    cct_line("peerCert", fp, CONF, 6);
    out = check_certificates(&errors);
    assert_int_equal(errors, 1);
    has(out, "\"line\":3,\"token\":\"trustCert\",\"value\":\"%s\",\"message\":\"%s/tls/ca-certs/ca.crt\"", value + 9,
        dir);
    has(out, "\"line\":5,\"token\":\"trustCert\",\"value\":\"%s\",\"message\":\"no certificate with this fingerprint\"",
        fp);
    has(out, "\"severity\":\"info\",\"kind\":\"certificate\",\"file\":\"" CONF "\",\"line\":6,\"token\":\"peerCert\"");
    has(out, "the peer's certificate is pinned by it");
    free(out);
}

/* Expired: an error; within 30 days: a warning. */
static void dates(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    cct_line("trustCert", "expired", CONF, 3);
    cct_line("trustCert", "soon", CONF, 4);
    out = check_certificates(&errors);
    assert_int_equal(errors, 1);
    has(out, "\"line\":3,\"token\":\"trustCert\",\"value\":\"expired\",\"message\":\"%s/tls/certs/expired.crt "
             "expired on ",
        dir);
    has(out, "\"severity\":\"warning\",\"kind\":\"certificate\",\"file\":\"" CONF "\",\"line\":4,");
    has(out, "%s/tls/certs/soon.crt expires on ", dir);
    assert_int_equal(cct_count(out, "\"severity\":\"warning\""), 1);
    free(out);
}

/* A world-readable key: Net-SNMP refuses it, and the error says why. */
static void identity_with_a_loose_key(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    set_ds(NETSNMP_DS_LIB_TLS_LOCAL_CERT, "loose");
    cct_line("localCert", "loose", CONF, 4);
    out = check_certificates(&errors);
    assert_true(errors >= 1);
    has(out, "private key %s/tls/private/loose.key is world-readable or writable (mode 0644", dir);
    has(out, "\"fix\":\"chmod 600 (or 640 with the daemon's group) the key\"");
    free(out);
}

static void identity_without_a_key(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    set_ds(NETSNMP_DS_LIB_TLS_LOCAL_CERT, "nokey");
    cct_line("localCert", "nokey", CONF, 4);
    out = check_certificates(&errors);
    assert_true(errors >= 1);
    has(out, "has no private key nokey.key in tls/private");
    free(out);
}

/* -u USER: a key that user cannot read is a warning (snmpd opens it as
 * root); a user that does not exist cannot be checked. */
static void key_and_the_run_user(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    if (getpwnam("nobody") == NULL)
        skip();
    set_ds(NETSNMP_DS_LIB_TLS_LOCAL_CERT, "server");
    cct_line("localCert", "server", CONF, 4);
    cc.run_user = "nobody";
    out = check_certificates(&errors);
    assert_int_equal(errors, 0);
    has(out, "private key %s/tls/private/server.key (mode 0600, owner ", dir);
    has(out, "is not readable by nobody: snmpd reads it as root at start");
    has(out, "\"fix\":\"chgrp nobody %s/tls/private/server.key && chmod 640 ", dir);
    free(out);

    cc.run_user = "no-such-user-dtlsudp";
    out = check_certificates(&errors);
    has(out, "no user no-such-user-dtlsudp to check against");
    free(out);
}

/* trapsess -T NAME=VALUE and -TNAME=VALUE, with the old names too. */
static void trapsess_arguments(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    set_ds(NETSNMP_DS_LIB_TLS_LOCAL_CERT, "server");
    cct_line("trapsess", "-v3 -T localCert=server -Ttrust_cert=ca -T their_identity=nosuch dtlsudp:10162", CONF,
             8);
    out = check_certificates(&errors);
    assert_int_equal(errors, 1);
    has(out, "\"line\":8,\"token\":\"-T localCert\",\"value\":\"server\",\"message\":\"%s/tls/certs/server.crt\"",
        dir);
    has(out, "\"line\":8,\"token\":\"-T trustCert\",\"value\":\"ca\",\"message\":\"%s/tls/ca-certs/ca.crt\"", dir);
    has(out, "\"line\":8,\"token\":\"-T peerCert\",\"value\":\"nosuch\",\"message\":\"no certificate file nosuch.crt");
    free(out);
}

static void first_word_and_subject(void **state)
{
    char word[8];

    (void)state;
    cc_first_word("  \tserver extra", word, sizeof(word));
    assert_string_equal(word, "server");
    cc_first_word("longer-than-the-buffer", word, sizeof(word));
    assert_string_equal(word, "longer-");
    cc_first_word("", word, sizeof(word));
    assert_string_equal(word, "");
    {
        char subject[64];
        cc_subject_text(cct_store_pair("ca")->cert, subject, sizeof(subject));
        assert_string_equal(subject, "CN = dtlsudp test CA");
        cc_subject_text(cct_store_pair("ca")->cert, subject, 8);
        assert_string_equal(subject, "CN = dt");
    }
}

/* ------------------------------------------------------------------
 * x509CRLFile
 * ------------------------------------------------------------------ */

static char *check_crl(const char *path, size_t *errors)
{
    set_ds(NETSNMP_DS_LIB_X509_CRL_FILE, path);
    cct_line("x509CRLFile", path, CONF, 9);
    cc_check_crl();
    /* the setting is what it was */
    assert_string_equal(netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE), path);
    return cct_report(1, 0, errors);
}

static void crl_of_a_trusted_ca(void **state)
{
    char path[512], *out;
    size_t errors;

    (void)state;
    snprintf(path, sizeof(path), "%s/good.crl", dir);
    assert_int_equal(tc_write_crl(cct_store_pair("ca"), cct_store_pair("loose")->cert, path), 0);
    out = check_crl(path, &errors);
    assert_int_equal(errors, 0);
    has(out, "\"severity\":\"ok\",\"kind\":\"crl\",\"file\":\"" CONF "\",\"line\":9,");
    has(out, "CRL of CN = dtlsudp test CA, 1 revoked, next update ");
    has(out, "\"issuer\":\"CN = dtlsudp test CA\"");
    free(out);
}

static void crl_of_an_untrusted_ca(void **state)
{
    char path[512], *out;
    size_t errors;

    (void)state;
    snprintf(path, sizeof(path), "%s/other.crl", dir);
    assert_int_equal(tc_write_crl(&tc_get()->other_ca, NULL, path), 0);
    out = check_crl(path, &errors);
    assert_int_equal(errors, 0);
    has(out, "\"severity\":\"warning\",\"kind\":\"crl\"");
    has(out, "the CRL of CN = unrelated CA is signed by no trustCert CA: it revokes nothing here");
    free(out);
}

/* A CRL past its nextUpdate refuses every certificate of its CA. */
static void crl_expired(void **state)
{
    char path[512], *out;
    X509_CRL *crl;
    ASN1_TIME *past;
    FILE *f;
    size_t errors;

    (void)state;
    snprintf(path, sizeof(path), "%s/expired.crl", dir);
    assert_int_equal(tc_write_crl(cct_store_pair("ca"), NULL, path), 0);
    assert_non_null(f = fopen(path, "r"));
    assert_non_null(crl = PEM_read_X509_CRL(f, NULL, NULL, NULL));
    fclose(f);
    assert_non_null(past = X509_gmtime_adj(NULL, -60));
    assert_true(X509_CRL_set1_nextUpdate(crl, past));
    assert_true(X509_CRL_sign(crl, cct_store_pair("ca")->key, EVP_sha256()) > 0);
    assert_non_null(f = fopen(path, "w"));
    assert_true(PEM_write_X509_CRL(f, crl));
    fclose(f);
    ASN1_TIME_free(past);
    X509_CRL_free(crl);
    out = check_crl(path, &errors);
    assert_int_equal(errors, 1);
    has(out, "the CRL of CN = dtlsudp test CA expired on ");
    free(out);
}

static void crl_unusable(void **state)
{
    char path[512], *out;
    size_t errors;

    (void)state;
    out = check_crl("/nonexistent/dtlsudp.crl", &errors);
    assert_int_equal(errors, 1);
    has(out, "cannot read it (No such file or directory): no listener or session opens");
    free(out);

    cct_write(dir, "garbage.crl", "not a CRL\n", path, sizeof(path));
    out = check_crl(path, &errors);
    assert_int_equal(errors, 1);
    has(out, "no PEM CRL in it: no listener or session opens while the file is unusable");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(identity_found_with_its_key, reset),
        cmocka_unit_test_setup(identity_not_set, reset),
        cmocka_unit_test_setup(name_that_finds_nothing, reset),
        cmocka_unit_test_setup(name_beside_an_unsearched_config, reset),
        cmocka_unit_test_setup(fingerprints, reset),
        cmocka_unit_test_setup(dates, reset),
        cmocka_unit_test_setup(identity_with_a_loose_key, reset),
        cmocka_unit_test_setup(identity_without_a_key, reset),
        cmocka_unit_test_setup(key_and_the_run_user, reset),
        cmocka_unit_test_setup(trapsess_arguments, reset),
        cmocka_unit_test_setup(first_word_and_subject, reset),
        cmocka_unit_test_setup(crl_of_a_trusted_ca, reset),
        cmocka_unit_test_setup(crl_of_an_untrusted_ca, reset),
        cmocka_unit_test_setup(crl_expired, reset),
        cmocka_unit_test_setup(crl_unusable, reset),
    };
    return cmocka_run_group_tests(tests, make_store, remove_store);
}
