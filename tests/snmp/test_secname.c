/*
 * test_secname.c - the certSecName row fingerprint reader of
 * transport/snmp/secname.c (a static function: the file is included, as
 * picotls t/openssl.c includes lib/openssl.c).  The mapping itself runs
 * against real certificates in tests/integration/agent-certs.sh.
 */
#include "../../transport/snmp/secname.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define SHA256_HEX "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20"

static void plain_hex_any_case_and_colons(void **state)
{
    dtlsudp_fingerprint fp;

    (void)state;
    assert_int_equal(dtlsudp_snmp_row_fingerprint(SHA256_HEX, &fp), 0);
    assert_int_equal(fp.len, 32);
    assert_int_equal(fp.bytes[0], 0x01);
    assert_int_equal(fp.bytes[31], 0x20);
    assert_int_equal(dtlsudp_snmp_row_fingerprint("0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d", &fp), 0);
    assert_int_equal(fp.len, 20); /* SHA-1 */
    assert_int_equal(fp.bytes[0], 0x0a);
}

/* RFC 6353 10 SnmpTLSFingerprint: one octet naming the hash, then the
 * digest.  The octet is dropped when it names a hash and the rest is a
 * fingerprint. */
static void leading_hash_octet_dropped(void **state)
{
    dtlsudp_fingerprint fp;
    char text[200];

    (void)state;
    snprintf(text, sizeof(text), "04%s", SHA256_HEX);
    assert_int_equal(dtlsudp_snmp_row_fingerprint(text, &fp), 0);
    assert_int_equal(fp.len, 32);
    assert_int_equal(fp.bytes[0], 0x01);
    snprintf(text, sizeof(text), "04:%s", SHA256_HEX);
    assert_int_equal(dtlsudp_snmp_row_fingerprint(text, &fp), 0);
    assert_int_equal(fp.len, 32);
    /* SHA-512 with its octet: 65 octets in all. */
    snprintf(text, sizeof(text), "06%s%s", SHA256_HEX, SHA256_HEX);
    assert_int_equal(dtlsudp_snmp_row_fingerprint(text, &fp), 0);
    assert_int_equal(fp.len, 64);
}

static void refused(void **state)
{
    dtlsudp_fingerprint fp;
    char text[200];

    (void)state;
    assert_int_equal(dtlsudp_snmp_row_fingerprint(NULL, &fp), -1);
    assert_int_equal(dtlsudp_snmp_row_fingerprint("", &fp), -1);
    assert_int_equal(dtlsudp_snmp_row_fingerprint("zz", &fp), -1);
    assert_int_equal(dtlsudp_snmp_row_fingerprint("0102030405", &fp), -1); /* no hash has 5 octets */
    snprintf(text, sizeof(text), "07%s", SHA256_HEX);       /* 7 names no hash */
    assert_int_equal(dtlsudp_snmp_row_fingerprint(text, &fp), -1);
    snprintf(text, sizeof(text), "04%s0", SHA256_HEX); /* odd digit count */
    assert_int_equal(dtlsudp_snmp_row_fingerprint(text, &fp), -1);
    /* an octet naming another hash than the digest's length implies */
    snprintf(text, sizeof(text), "01%s", SHA256_HEX); /* MD5 octet, 32 octets */
    assert_int_equal(dtlsudp_snmp_row_fingerprint(text, &fp), -1);
    snprintf(text, sizeof(text), "02:%s", SHA256_HEX); /* SHA-1 octet, 32 octets */
    assert_int_equal(dtlsudp_snmp_row_fingerprint(text, &fp), -1);
    snprintf(text, sizeof(text), "06%s", SHA256_HEX); /* SHA-512 octet, 32 octets */
    assert_int_equal(dtlsudp_snmp_row_fingerprint(text, &fp), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_hex_any_case_and_colons),
        cmocka_unit_test(leading_hash_octet_dropped),
        cmocka_unit_test(refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
