/*
 * test_addr.c - address helpers (transport/engine/addr.c).
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine_internal.h"

static void roundtrip(const char *in, const char *want)
{
    dtlsudp_addr a;
    char buf[80];

    assert_int_equal(dtlsudp_addr_parse(in, 10161, &a), DTLSUDP_OK);
    assert_int_equal(dtlsudp_addr_format(&a, buf, sizeof(buf)), DTLSUDP_OK);
    assert_string_equal(buf, want);
}

static void test_parse_format(void **state)
{
    (void)state;
    roundtrip("1.2.3.4", "1.2.3.4:10161");
    roundtrip("1.2.3.4:99", "1.2.3.4:99");
    roundtrip("[::1]", "[::1]:10161");
    roundtrip("[::1]:162", "[::1]:162");
    roundtrip("fe80::1", "[fe80::1]:10161");
    roundtrip("[fe80::1%3]:5", "[fe80::1%3]:5");
    roundtrip(":7", "0.0.0.0:7");
    roundtrip("8", "0.0.0.0:8");
    roundtrip("[::]:9", "[::]:9");
}

static void test_parse_errors(void **state)
{
    static const char *bad[] = {"", "1.2.3", "1.2.3.4:", "1.2.3.4:70000", "[::1", "[::1]x", "[zz::]:1",
                                "host.example.com", "1.2.3.4:-1", ":", "[::1]:abc", "[fe80::1%]:1"};
    dtlsudp_addr a;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(dtlsudp_addr_parse(bad[i], 1, &a), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_addr_parse(NULL, 1, &a), DTLSUDP_ERR_INVALID);
}

static void test_equal_len_hash(void **state)
{
    dtlsudp_addr a, b, c, d;
    char small[4];

    (void)state;
    assert_int_equal(dtlsudp_addr_parse("10.0.0.1:5", 0, &a), DTLSUDP_OK);
    assert_int_equal(dtlsudp_addr_parse("10.0.0.1:6", 0, &b), DTLSUDP_OK);
    assert_int_equal(dtlsudp_addr_parse("[fe80::1%1]:5", 0, &c), DTLSUDP_OK);
    assert_int_equal(dtlsudp_addr_parse("[fe80::1%2]:5", 0, &d), DTLSUDP_OK);
    assert_false(dtlsudp_addr_equal(&a, &b));
    assert_true(eng_addr_same_host(&a, &b));
    assert_true(dtlsudp_addr_equal(&a, &a));
    assert_false(dtlsudp_addr_equal(&c, &d)); /* scope id is part of the key */
    assert_false(eng_addr_same_host(&c, &d));
    assert_false(dtlsudp_addr_equal(&a, &c));
    assert_int_equal(dtlsudp_addr_len(&a), sizeof(struct sockaddr_in));
    assert_int_equal(dtlsudp_addr_len(&c), sizeof(struct sockaddr_in6));
    assert_int_equal(eng_addr_hash(&a, 1, 0), eng_addr_hash(&b, 1, 0));
    assert_int_not_equal(eng_addr_hash(&a, 1, 1), eng_addr_hash(&b, 1, 1));
    assert_int_not_equal(eng_addr_hash(&a, 1, 1), eng_addr_hash(&a, 2, 1));
    assert_int_equal(dtlsudp_addr_format(&a, small, sizeof(small)), DTLSUDP_ERR_BUFFER);
}

static void test_now_monotonic(void **state)
{
    dtlsudp_time t1 = dtlsudp_now(), t2 = dtlsudp_now();
    (void)state;
    assert_true(t1 > 0);
    assert_true(t2 >= t1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_equal_len_hash),
        cmocka_unit_test(test_now_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
