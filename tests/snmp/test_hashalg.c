/*
 * Unit tests: hashalg.c, the one table of fingerprint hashes.
 *  - every number is Net-SNMP's NS_HASH_* for that hash, and every length
 *    the size OpenSSL gives that digest;
 *  - both lookups, and the numbers and lengths no hash has.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/cert_util.h>

#include "hashalg.h"

/* The table against two sources that do not come from it. */
static void numbers_and_lengths_are_the_registry_s(void **state)
{
    const struct {
        int ns_hash;
        const EVP_MD *md;
    } expect[DTLSUDP_SNMP_HASH_ALG_COUNT] = {
        {NS_HASH_MD5, EVP_md5()},       {NS_HASH_SHA1, EVP_sha1()},     {NS_HASH_SHA224, EVP_sha224()},
        {NS_HASH_SHA256, EVP_sha256()}, {NS_HASH_SHA384, EVP_sha384()}, {NS_HASH_SHA512, EVP_sha512()},
    };
    size_t i;

    (void)state;
    for (i = 0; i < DTLSUDP_SNMP_HASH_ALG_COUNT; i++) {
        assert_int_equal(dtlsudp_snmp_hash_algs[i].id, expect[i].ns_hash);
        assert_int_equal(dtlsudp_snmp_hash_algs[i].len, EVP_MD_get_size(expect[i].md));
    }
}

static void length_of_each_number(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < DTLSUDP_SNMP_HASH_ALG_COUNT; i++)
        assert_int_equal(dtlsudp_snmp_hash_length(dtlsudp_snmp_hash_algs[i].id), dtlsudp_snmp_hash_algs[i].len);
    assert_int_equal(dtlsudp_snmp_hash_length(DTLSUDP_SNMP_HASH_SHA256), 32);
    /* NS_HASH_NONE, the next number, and one far off name no hash. */
    assert_int_equal(dtlsudp_snmp_hash_length(0), 0);
    assert_int_equal(dtlsudp_snmp_hash_length(DTLSUDP_SNMP_HASH_SHA512 + 1), 0);
    assert_int_equal(dtlsudp_snmp_hash_length(-4), 0);
    assert_int_equal(dtlsudp_snmp_hash_length(0x104), 0);
}

static void number_of_each_length(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < DTLSUDP_SNMP_HASH_ALG_COUNT; i++)
        assert_int_equal(dtlsudp_snmp_hash_for_length(dtlsudp_snmp_hash_algs[i].len), dtlsudp_snmp_hash_algs[i].id);
    assert_int_equal(dtlsudp_snmp_hash_for_length(20), DTLSUDP_SNMP_HASH_SHA1);
    assert_int_equal(dtlsudp_snmp_hash_for_length(0), -1);
    assert_int_equal(dtlsudp_snmp_hash_for_length(17), -1);
    assert_int_equal(dtlsudp_snmp_hash_for_length(31), -1);
    assert_int_equal(dtlsudp_snmp_hash_for_length(65), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_and_lengths_are_the_registry_s),
        cmocka_unit_test(length_of_each_number),
        cmocka_unit_test(number_of_each_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
