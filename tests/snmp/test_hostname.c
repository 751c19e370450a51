/*
 * test_hostname.c - transport/snmp/hostname.c: the expected server name
 * (-T their_hostname, snmpTlstmAddrServerIdentity) against certificates
 * made in memory.  The wildcard cases follow Net-SNMP 5.9.3's rule
 * (netsnmp_tlsbase_verify_server_cert: "*.rest" stands for one label, and
 * is checked against dNSName subjectAltNames and the CommonName).
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "snmp_internal.h"

static EVP_PKEY *key;

/* A self-signed certificate with CommonName cn (may be NULL) and the
 * dNSName subjectAltNames in dns[] (NULL-terminated, may be NULL), each
 * given with its length so that one can hold a NUL; ip (may be NULL) as an
 * iPAddress subjectAltName. */
typedef struct name {
    const char *text;
    size_t len;
} name;

static X509 *make_cert(const char *cn, const name *dns, const char *ip)
{
    X509 *x = X509_new();
    GENERAL_NAMES *sans = GENERAL_NAMES_new();
    int i;

    assert_non_null(x);
    assert_true(X509_set_version(x, 2));
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    assert_true(X509_set_pubkey(x, key));
    if (cn != NULL)
        assert_true(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                               (const unsigned char *)cn, -1, -1, 0));
    assert_true(X509_set_issuer_name(x, X509_get_subject_name(x)));
    for (i = 0; dns != NULL && dns[i].text != NULL; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        assert_true(ASN1_STRING_set(s, dns[i].text, (int)dns[i].len));
        GENERAL_NAME_set0_value(g, GEN_DNS, s);
        assert_true(sk_GENERAL_NAME_push(sans, g));
    }
    if (ip != NULL) {
        GENERAL_NAME *g = a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_IPADD, ip, 0);
        assert_non_null(g);
        assert_true(sk_GENERAL_NAME_push(sans, g));
    }
    if (sk_GENERAL_NAME_num(sans) > 0)
        assert_true(X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT));
    GENERAL_NAMES_free(sans);
    assert_true(X509_sign(x, key, EVP_sha256()));
    return x;
}

#define N(s) {s, sizeof(s) - 1}

static void wildcard_is_one_label(void **state)
{
    name dns[] = {N("a.b.example.com"), {NULL, 0}};
    X509 *x = make_cert("unrelated", dns, NULL);

    (void)state;
    assert_true(dtlsudp_snmp_host_matches(x, "*.b.example.com"));
    assert_false(dtlsudp_snmp_host_matches(x, "*.example.com"));   /* two labels */
    assert_false(dtlsudp_snmp_host_matches(x, "*.a.b.example.com")); /* zero labels */
    assert_false(dtlsudp_snmp_host_matches(x, "*.c.example.com"));
    assert_false(dtlsudp_snmp_host_matches(x, "*."));
    assert_false(dtlsudp_snmp_host_matches(x, "*.*.example.com"));
    assert_true(dtlsudp_snmp_host_matches(x, "a.b.example.com")); /* literal */
    assert_false(dtlsudp_snmp_host_matches(x, "b.example.com"));
    X509_free(x);
}

static void wildcard_checks_every_dns_name_and_the_common_name(void **state)
{
    name dns[] = {N("other.example.org"), N("localhost"), N("x.b.example.com"), {NULL, 0}};
    X509 *x = make_cert("node.c.example.com", dns, NULL);

    (void)state;
    assert_true(dtlsudp_snmp_host_matches(x, "*.b.example.com"));
    /* Net-SNMP compares the CommonName too, even when subjectAltNames exist. */
    assert_true(dtlsudp_snmp_host_matches(x, "*.c.example.com"));
    /* a name without a dot matches no wildcard (and does not crash) */
    assert_false(dtlsudp_snmp_host_matches(x, "*.localhost"));
    X509_free(x);
}

static void wildcard_ignores_case(void **state)
{
    name dns[] = {N("A.B.Example.COM"), {NULL, 0}};
    X509 *x = make_cert(NULL, dns, NULL);

    (void)state;
    assert_true(dtlsudp_snmp_host_matches(x, "*.b.example.com"));
    assert_true(dtlsudp_snmp_host_matches(x, "*.B.EXAMPLE.com"));
    X509_free(x);
}

static void wildcard_refuses_tricks(void **state)
{
    name dns[] = {N(".b.example.com"), N("a.b.example.com\0.evil.example.net"), {NULL, 0}};
    X509 *x = make_cert("b.example.com", dns, NULL);

    (void)state;
    assert_false(dtlsudp_snmp_host_matches(x, "*.b.example.com")); /* empty label; NUL; CN has zero labels */
    assert_false(dtlsudp_snmp_host_matches(x, "*.evil.example.net"));
    X509_free(x);
}

static void common_name_only(void **state)
{
    X509 *x = make_cert("agent1.b.example.com", NULL, NULL);

    (void)state;
    assert_true(dtlsudp_snmp_host_matches(x, "*.b.example.com"));
    assert_true(dtlsudp_snmp_host_matches(x, "agent1.b.example.com"));
    assert_false(dtlsudp_snmp_host_matches(x, "agent2.b.example.com"));
    X509_free(x);
}

static void addresses_and_bad_input(void **state)
{
    name dns[] = {N("agent.example.com"), {NULL, 0}};
    X509 *x = make_cert(NULL, dns, "127.0.0.1");

    (void)state;
    assert_true(dtlsudp_snmp_host_matches(x, "127.0.0.1"));
    assert_false(dtlsudp_snmp_host_matches(x, "127.0.0.2"));
    assert_false(dtlsudp_snmp_host_matches(x, ""));
    assert_false(dtlsudp_snmp_host_matches(x, NULL));
    assert_false(dtlsudp_snmp_host_matches(NULL, "agent.example.com"));
    X509_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wildcard_is_one_label),
        cmocka_unit_test(wildcard_checks_every_dns_name_and_the_common_name),
        cmocka_unit_test(wildcard_ignores_case),
        cmocka_unit_test(wildcard_refuses_tricks),
        cmocka_unit_test(common_name_only),
        cmocka_unit_test(addresses_and_bad_input),
    };
    int rc;

    key = EVP_EC_gen("P-256");
    if (key == NULL)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    EVP_PKEY_free(key);
    return rc;
}
