/*
 * Unit tests: tlstmrows.c, snmpTlstmParams and snmpTlstmAddr rows resolved
 * to the store's own fingerprints after a configuration read.
 *
 * The rows are configuration lines of this application (registered as
 * snmpd registers them), read by init_snmp() with the resolution
 * installed; the store (snmpstore.c) indexes its certificates by SHA-256
 * only, so a row written with SHA-1 or SHA-512 would name nothing for
 * Net-SNMP's target code until it is rewritten.
 */
#include <config.h>

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "snmp_internal.h"
#include "snmpstore.h"

#include <net-snmp/library/cert_util.h>

#define APP "test-tlstmrows"

static snmpTlstmParams *params_row(const char *name)
{
    netsnmp_iterator *it = CONTAINER_ITERATOR(netsnmp_tlstmParams_container());
    snmpTlstmParams *p, *found = NULL;

    assert_non_null(it);
    for (p = ITERATOR_FIRST(it); p != NULL && found == NULL; p = ITERATOR_NEXT(it))
        if (strcmp(p->name, name) == 0)
            found = p;
    ITERATOR_RELEASE(it);
    if (found == NULL)
        fail_msg("no snmpTlstmParams row %s", name);
    return found;
}

static snmpTlstmAddr *addr_row(const char *name)
{
    netsnmp_iterator *it = CONTAINER_ITERATOR(netsnmp_tlstmAddr_container());
    snmpTlstmAddr *a, *found = NULL;

    assert_non_null(it);
    for (a = ITERATOR_FIRST(it); a != NULL && found == NULL; a = ITERATOR_NEXT(it))
        if (strcmp(a->name, name) == 0)
            found = a;
    ITERATOR_RELEASE(it);
    if (found == NULL)
        fail_msg("no snmpTlstmAddr row %s", name);
    return found;
}

/* The store's key of x and its hash type, as Net-SNMP's target code looks
 * it up. */
static char *native(X509 *x, int *hash_type)
{
    char *fp = netsnmp_openssl_cert_get_fingerprint(x, -1);
    netsnmp_cert *c;

    assert_non_null(fp);
    c = netsnmp_cert_find(NS_CERT_REMOTE_PEER, NS_CERTKEY_FINGERPRINT, fp);
    assert_non_null(c);
    *hash_type = c->hash_type;
    return fp;
}

static void logged(const char *text)
{
    if (strstr(store_log(), text) == NULL)
        fail_msg("not logged: \"%s\"; the log: %s", text, store_log());
}

/* Rows of another hash now carry the store's fingerprint and hash type. */
static void rows_of_any_hash_name_the_stored_certificate(void **state)
{
    const testcerts *tc = tc_get();
    snmpTlstmParams *p = params_row("p-sha1");
    snmpTlstmAddr *a = addr_row("a-sha512");
    int hash;
    char *fp;

    (void)state;
    fp = native(tc->server.cert, &hash);
    assert_string_equal(p->fingerprint, fp);
    assert_int_equal(p->fingerprint_len, strlen(fp));
    assert_int_equal((u_char)p->hashType, hash);
    free(fp);
    fp = native(tc->client2.cert, &hash);
    assert_string_equal(a->fingerprint, fp);
    assert_int_equal(a->hashType, hash);
    /* what snmpd's target code asks for */
    assert_non_null(netsnmp_cert_find(NS_CERT_REMOTE_PEER, NS_CERTKEY_FINGERPRINT, a->fingerprint));
    free(fp);
    /* a row already in the store's terms is left as it was */
    fp = native(tc->server.cert, &hash);
    assert_string_equal(params_row("p-native")->fingerprint, fp);
    free(fp);
}

/* Rows that name nothing stay as written and are reported with what the
 * operator loses and how to fix it. */
static void rows_naming_nothing_are_reported(void **state)
{
    char fp[200], want[400];
    size_t i, j;

    (void)state;
    logged("dtlsudp: snmpTlstmAddr a-unknown: no certificate in the store (tls/certs) has fingerprint ");
    logged("notifications to this target are not pinned to it: copy the server's certificate into tls/certs");
    /* an identity needs its key: client2 has none */
    logged("dtlsudp: snmpTlstmParams p-keyless: no certificate in the store (tls/certs) has fingerprint ");
    logged("notifications for this target use the default identity");
    /* no hash's length: reported with the byte count */
    logged("dtlsudp: snmpTlstmAddr a-short: ");
    logged("is a fingerprint of 19 bytes, which is no hash's length");
    logged("dtlsudp: certSecName 20: ");
    /* the unknown row is unchanged (Net-SNMP keeps it lowercased, without
     * colons) */
    store_fingerprint(tc_get()->wrong_server.cert, 20, fp, sizeof(fp));
    for (i = j = 0; fp[i] != '\0'; i++)
        if (fp[i] != ':')
            want[j++] = (char)tolower((unsigned char)fp[i]);
    want[j] = '\0';
    assert_string_equal(addr_row("a-unknown")->fingerprint, want);
    assert_null(strstr(store_log(), "a-sha512"));
    assert_null(strstr(store_log(), "p-sha1"));
    assert_null(strstr(store_log(), "p-native"));
}

/* A second pass rewrites nothing; a row added later is resolved by the
 * next pass, and counted. */
static void resolution_counts_rewrites_and_is_idempotent(void **state)
{
    const testcerts *tc = tc_get();
    char fp[200];
    snmpTlstmParams *p;
    int hash;
    char *want;

    (void)state;
    assert_int_equal(dtlsudp_snmp_tlstm_rows_resolve(), 0);
    store_fingerprint(tc->client.cert, 20, fp, sizeof(fp));
    p = netsnmp_tlstmParams_create("p-later", 0, fp, (int)strlen(fp));
    assert_non_null(p);
    assert_int_equal(netsnmp_tlstmParams_add(p), 0);
    assert_int_equal(dtlsudp_snmp_tlstm_rows_resolve(), 1);
    want = native(tc->client.cert, &hash);
    assert_string_equal(params_row("p-later")->fingerprint, want);
    free(want);
    assert_int_equal(dtlsudp_snmp_tlstm_rows_resolve(), 0);
}

static int setup(void **state)
{
    const testcerts *tc = tc_get();
    char conf[4096], f_sha1[200], f_sha256[200], f_sha512[200], f_unknown[200], f_keyless[200];
    char f_short[200];

    (void)state;
    assert_non_null(store_make());
    store_fingerprint(tc->server.cert, 20, f_sha1, sizeof(f_sha1));
    store_fingerprint(tc->server.cert, 32, f_sha256, sizeof(f_sha256));
    store_fingerprint(tc->client2.cert, 64, f_sha512, sizeof(f_sha512));
    store_fingerprint(tc->wrong_server.cert, 20, f_unknown, sizeof(f_unknown));
    store_fingerprint(tc->client2.cert, 20, f_keyless, sizeof(f_keyless));
    store_fingerprint(tc->client.cert, 20, f_short, sizeof(f_short));
    f_short[strlen(f_short) - 3] = '\0'; /* 19 bytes */
    snprintf(conf, sizeof(conf),
             "snmpTlstmParams p-sha1 --sha1 %s\n"
             "snmpTlstmParams p-native %s\n"
             "snmpTlstmParams p-keyless %s\n"
             /* (with the server identity: libnetsnmp 5.9.3 copies an
              * uninitialised buffer when it is left out) */
             "snmpTlstmAddr a-sha512 --sha512 %s server.example.com\n"
             "snmpTlstmAddr a-unknown --sha1 %s server.example.com\n"
             "snmpTlstmAddr a-short --sha1 %s server.example.com\n"
             "certSecName 20 %s --cn\n",
             f_sha1, f_sha256, f_keyless, f_sha512, f_unknown, f_short, f_short);
    assert_int_equal(store_write(APP ".conf", conf), 0);
    dtlsudp_snmp_tlstm_rows_install();
    dtlsudp_snmp_tlstm_rows_install(); /* idempotent */
    store_init_snmp(APP, 1);
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
        cmocka_unit_test(rows_of_any_hash_name_the_stored_certificate),
        cmocka_unit_test(rows_naming_nothing_are_reported),
        cmocka_unit_test(resolution_counts_rewrites_and_is_idempotent),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
