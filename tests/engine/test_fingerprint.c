/*
 * test_fingerprint.c - fingerprint parse/format/of/matches
 * (transport/engine/fingerprint.c).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dtlsudp.h"
#include "testcerts.h"

static void test_parse_format(void **state)
{
    dtlsudp_fingerprint fp;
    char buf[200];

    (void)state;
    assert_int_equal(dtlsudp_fingerprint_parse("00:11:22:33:44:55:66:77:88:99:aa:BB:cc:dd:ee:ff:00:11:22:33", &fp),
                     DTLSUDP_OK);
    assert_int_equal(fp.len, 20);
    assert_int_equal(fp.bytes[10], 0xaa);
    assert_int_equal(dtlsudp_fingerprint_format(&fp, buf, sizeof(buf)), DTLSUDP_OK);
    assert_string_equal(buf, "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33");
    assert_int_equal(dtlsudp_fingerprint_format(&fp, buf, 59), DTLSUDP_ERR_BUFFER);
    assert_int_equal(dtlsudp_fingerprint_format(&fp, buf, 60), DTLSUDP_OK);
    assert_int_equal(
        dtlsudp_fingerprint_parse("SHA256:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", &fp),
        DTLSUDP_OK);
    assert_int_equal(fp.len, 32);
    assert_int_equal(fp.bytes[31], 0x1f);
}

static void test_parse_errors(void **state)
{
    static const char *bad[] = {"", "00", "0011223344556677889900112233445566778899aa" /* 21 bytes */,
                                "zz:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33",
                                "0:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:4",
                                ":00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33",
                                "00::11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33"};
    dtlsudp_fingerprint fp;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(dtlsudp_fingerprint_parse(bad[i], &fp), DTLSUDP_ERR_INVALID);
}

static void test_of_and_matches(void **state)
{
    const testcerts *tc = tc_get();
    static const size_t lens[] = {16, 20, 28, 32, 48, 64};
    dtlsudp_fingerprint fp, other;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        assert_int_equal(dtlsudp_fingerprint_of(tc->server.cert, lens[i], &fp), DTLSUDP_OK);
        assert_int_equal(fp.len, lens[i]);
        assert_true(dtlsudp_fingerprint_matches(tc->server.cert, &fp));
        assert_false(dtlsudp_fingerprint_matches(tc->client.cert, &fp));
    }
    assert_int_equal(dtlsudp_fingerprint_of(tc->server.cert, 33, &fp), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_fingerprint_of(tc->server.cert, 32, &fp), DTLSUDP_OK);
    other = fp;
    other.bytes[5] ^= 1;
    assert_false(dtlsudp_fingerprint_matches(tc->server.cert, &other));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_of_and_matches),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return rc;
}
