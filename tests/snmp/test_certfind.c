/*
 * Unit tests: certfind.c, certificates of Net-SNMP's store found by a
 * fingerprint of any hash and by file name.
 *
 * The store is tests/engine/testcerts.c's certificates laid out as
 * Net-SNMP reads them (snmpstore.c).  They are signed with SHA-256, so
 * Net-SNMP's own index knows them only by their SHA-256 fingerprint: every
 * other hash, and a second file of the same certificate, is certfind.c's.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "snmp_internal.h"
#include "snmpstore.h"

#include <net-snmp/library/cert_util.h>

#define APP "test-certfind"

static const size_t hash_lengths[] = {20, 28, 32, 48, 64};

/* 1 when c is the certificate x. */
static int is_cert(const netsnmp_cert *c, X509 *x)
{
    return c != NULL && c->ocert != NULL && X509_cmp(c->ocert, x) == 0;
}

static void text_is(const char *text, const dtlsudp_fingerprint *want)
{
    dtlsudp_fingerprint fp;

    memset(&fp, 0xa5, sizeof(fp));
    if (dtlsudp_snmp_fingerprint_text(text, &fp) != 0)
        fail_msg("\"%s\" is not read as a fingerprint", text);
    assert_int_equal(fp.len, want->len);
    assert_memory_equal(fp.bytes, want->bytes, want->len);
}

/* Every way the certificate tokens write a fingerprint reads as the same
 * bytes; the option of certSecName's style is only skipped. */
static void fingerprint_text_reads_every_spelling(void **state)
{
    X509 *x = tc_get()->server.cert;
    dtlsudp_fingerprint sha1, sha256;
    char colons[200], text[300];
    size_t i, j;

    (void)state;
    assert_int_equal(dtlsudp_fingerprint_of(x, 20, &sha1), DTLSUDP_OK);
    assert_int_equal(dtlsudp_fingerprint_of(x, 32, &sha256), DTLSUDP_OK);
    store_fingerprint(x, 20, colons, sizeof(colons));
    text_is(colons, &sha1);
    /* bare lowercase hex */
    for (i = j = 0; colons[i] != '\0'; i++)
        if (colons[i] != ':')
            text[j++] = (char)(colons[i] >= 'A' && colons[i] <= 'F' ? colons[i] + 32 : colons[i]);
    text[j] = '\0';
    text_is(text, &sha1);
    snprintf(text, sizeof(text), "--sha1 %s", colons);
    text_is(text, &sha1);
    snprintf(text, sizeof(text), "--SHA1=%s", colons);
    text_is(text, &sha1);
    snprintf(text, sizeof(text), "sha1:%s", colons);
    text_is(text, &sha1);
    store_fingerprint(x, 32, colons, sizeof(colons));
    snprintf(text, sizeof(text), "--sha256 \t %s", colons);
    text_is(text, &sha256);
    /* The option names no hash: the length decides it. */
    snprintf(text, sizeof(text), "--md5 %s", colons);
    text_is(text, &sha256);
}

static void fingerprint_text_refuses_what_is_no_fingerprint(void **state)
{
    char fp[200], text[300];
    dtlsudp_fingerprint out;

    (void)state;
    store_fingerprint(tc_get()->server.cert, 20, fp, sizeof(fp));
    memset(&out, 0, sizeof(out));
    assert_int_equal(dtlsudp_snmp_fingerprint_text(NULL, &out), -1);
    assert_int_equal(dtlsudp_snmp_fingerprint_text("", &out), -1);
    assert_int_equal(dtlsudp_snmp_fingerprint_text("server", &out), -1);
    assert_int_equal(dtlsudp_snmp_fingerprint_text("--sha256", &out), -1);
    /* 21 bytes: no hash has that length. */
    snprintf(text, sizeof(text), "%s:00", fp);
    assert_int_equal(dtlsudp_snmp_fingerprint_text(text, &out), -1);
    /* 19 bytes */
    fp[strlen(fp) - 3] = '\0';
    assert_int_equal(dtlsudp_snmp_fingerprint_text(fp, &out), -1);
    /* An option glued to the value is not an option. */
    store_fingerprint(tc_get()->server.cert, 20, fp, sizeof(fp));
    snprintf(text, sizeof(text), "--sha1%s", fp);
    assert_int_equal(dtlsudp_snmp_fingerprint_text(text, &out), -1);
    assert_int_equal(out.len, 0); /* nothing written on refusal */
}

/* The point of certfind.c: SHA-1 (what net-snmp-cert prints), SHA-224,
 * SHA-384 and SHA-512 find a certificate Net-SNMP indexes by SHA-256. */
static void any_hash_finds_the_certificate(void **state)
{
    const testcerts *tc = tc_get();
    char fp[200], text[300];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(hash_lengths) / sizeof(hash_lengths[0]); i++) {
        store_fingerprint(tc->server.cert, hash_lengths[i], fp, sizeof(fp));
        assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, fp), tc->server.cert));
        assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_IDENTITY, fp), tc->server.cert));
        store_fingerprint(tc->ca.cert, hash_lengths[i], fp, sizeof(fp));
        assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_CA, fp), tc->ca.cert));
    }
    store_fingerprint(tc->client.cert, 20, fp, sizeof(fp));
    snprintf(text, sizeof(text), "--sha1 %s", fp);
    assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, text), tc->client.cert));
    snprintf(text, sizeof(text), "sha1:%s", fp);
    assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, text), tc->client.cert));
}

/* What is found keeps Net-SNMP's meaning: an identity needs its key. */
static void the_store_decides_what_a_certificate_is_for(void **state)
{
    const testcerts *tc = tc_get();
    char fp[200];

    (void)state;
    assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_IDENTITY, "server"), tc->server.cert));
    assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, "client2"), tc->client2.cert));
    assert_null(dtlsudp_snmp_cert_find(NS_CERT_IDENTITY, "client2"));
    store_fingerprint(tc->client2.cert, 20, fp, sizeof(fp));
    assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, fp), tc->client2.cert));
    assert_null(dtlsudp_snmp_cert_find(NS_CERT_IDENTITY, fp));
}

/* A second file of a stored certificate (the agent's certificate copied
 * beside a manager's own) is found under its own name. */
static void a_copy_is_found_by_its_own_name(void **state)
{
    (void)state;
    assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, "agent-copy"), tc_get()->server.cert));
    assert_null(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, "agent-cop"));
    assert_null(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, "agent-copy.crt.bak"));
}

static void unknown_names_find_nothing(void **state)
{
    const testcerts *tc = tc_get();
    char fp[200];

    (void)state;
    assert_null(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, NULL));
    assert_null(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, ""));
    assert_null(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, "nosuch"));
    /* a certificate that is not in the store, by SHA-1 and SHA-256 */
    store_fingerprint(tc->other_ca.cert, 20, fp, sizeof(fp));
    assert_null(dtlsudp_snmp_cert_find(NS_CERT_CA, fp));
    store_fingerprint(tc->other_ca.cert, 32, fp, sizeof(fp));
    assert_null(dtlsudp_snmp_cert_find(NS_CERT_CA, fp));
    /* a stored certificate's SHA-1, one byte short */
    store_fingerprint(tc->server.cert, 20, fp, sizeof(fp));
    fp[strlen(fp) - 3] = '\0';
    assert_null(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, fp));
}

/* The fingerprints are computed once and again after a reset (SIGHUP):
 * a file removed is still found until then, and not after. */
static void reset_recomputes_the_index(void **state)
{
    X509 *x = tc_get()->wrong_client.cert;
    char fp[200], path[512];

    (void)state;
    store_fingerprint(x, 20, fp, sizeof(fp));
    assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, fp), x));
    assert_int_equal(unlink(store_path("tls/certs/intruder.crt", path, sizeof(path))), 0);
    assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, fp), x));
    dtlsudp_snmp_cert_index_reset();
    assert_null(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, fp));
    /* the others are indexed again */
    store_fingerprint(tc_get()->client.cert, 20, fp, sizeof(fp));
    assert_true(is_cert(dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, fp), tc_get()->client.cert));
}

/* The directories named in messages include the extra subdirectory. */
static void search_text_names_the_extra_subdir(void **state)
{
    char text[1024];

    (void)state;
    setenv("SNMPCONFPATH", "/srv/a", 1);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_CERT_EXTRA_SUBDIR, "extra");
    dtlsudp_snmp_cert_search_text(text, sizeof(text));
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_CERT_EXTRA_SUBDIR, NULL);
    assert_string_equal(text, "tls/certs, tls/extra and tls/ca-certs (keys: tls/private) under /srv/a (SNMPCONFPATH)");
    /* No room: nothing written; room for the terminator only: "". */
    text[0] = 'x';
    dtlsudp_snmp_cert_search_text(text, 0);
    assert_int_equal(text[0], 'x');
    dtlsudp_snmp_cert_search_text(text, 1);
    assert_string_equal(text, "");
}

static int setup(void **state)
{
    const testcerts *tc = tc_get();

    (void)state;
    assert_non_null(store_make());
    assert_int_equal(store_add(&tc->server, "agent-copy", NULL), 0);
    assert_int_equal(store_add(&tc->wrong_client, "intruder", NULL), 0);
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
        cmocka_unit_test(fingerprint_text_reads_every_spelling),
        cmocka_unit_test(fingerprint_text_refuses_what_is_no_fingerprint),
        cmocka_unit_test(any_hash_finds_the_certificate),
        cmocka_unit_test(the_store_decides_what_a_certificate_is_for),
        cmocka_unit_test(a_copy_is_found_by_its_own_name),
        cmocka_unit_test(unknown_names_find_nothing),
        cmocka_unit_test(reset_recomputes_the_index),
        cmocka_unit_test(search_text_names_the_extra_subdir),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
