/* Unit tests: transport/snmp/addr.c (target strings, fmtaddr, ostrings). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "snmp_internal.h"

static uint16_t port_of(const dtlsudp_addr *a)
{
    return ntohs(a->sa.sa_family == AF_INET6 ? a->sin6.sin6_port : a->sin.sin_port);
}

static void parse_ipv4_with_port(void **state)
{
    dtlsudp_addr a;

    assert_int_equal(dtlsudp_snmp_addr_parse("127.0.0.1:1234", NULL, AF_UNSPEC, &a), 0);
    assert_int_equal(a.sa.sa_family, AF_INET);
    assert_int_equal(port_of(&a), 1234);
    assert_int_equal(a.sin.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
}

static void parse_default_port_is_10161(void **state)
{
    dtlsudp_addr a;

    assert_int_equal(dtlsudp_snmp_addr_parse("127.0.0.1", NULL, AF_UNSPEC, &a), 0);
    assert_int_equal(port_of(&a), 10161);
    /* the application's default target (":10162" for snmptrap) wins */
    assert_int_equal(dtlsudp_snmp_addr_parse("127.0.0.1", ":10162", AF_UNSPEC, &a), 0);
    assert_int_equal(port_of(&a), 10162);
}

static void parse_port_only_binds_ipv4_wildcard(void **state)
{
    dtlsudp_addr a;

    assert_int_equal(dtlsudp_snmp_addr_parse("10999", NULL, AF_UNSPEC, &a), 0);
    assert_int_equal(a.sa.sa_family, AF_INET);
    assert_int_equal(port_of(&a), 10999);
    assert_int_equal(a.sin.sin_addr.s_addr, htonl(INADDR_ANY));
}

/* net-snmp#239: dtlsudp6: must give IPv6 even for a bare port. */
static void parse_ipv6_hint_never_falls_back_to_ipv4(void **state)
{
    dtlsudp_addr a;

    assert_int_equal(dtlsudp_snmp_addr_parse("10161", NULL, AF_INET6, &a), 0);
    assert_int_equal(a.sa.sa_family, AF_INET6);
    assert_int_equal(port_of(&a), 10161);
    assert_true(IN6_IS_ADDR_UNSPECIFIED(&a.sin6.sin6_addr));
}

static void parse_bracketed_ipv6_under_plain_prefix(void **state)
{
    dtlsudp_addr a;

    assert_int_equal(dtlsudp_snmp_addr_parse("[::]:10161", NULL, AF_UNSPEC, &a), 0);
    assert_int_equal(a.sa.sa_family, AF_INET6);
    assert_int_equal(port_of(&a), 10161);
    assert_int_equal(dtlsudp_snmp_addr_parse("[::1]:2000", NULL, AF_UNSPEC, &a), 0);
    assert_int_equal(a.sa.sa_family, AF_INET6);
    assert_true(IN6_IS_ADDR_LOOPBACK(&a.sin6.sin6_addr));
    assert_int_equal(port_of(&a), 2000);
    assert_int_equal(dtlsudp_snmp_addr_parse("::1", NULL, AF_UNSPEC, &a), 0);
    assert_int_equal(a.sa.sa_family, AF_INET6);
}

static void parse_rejects_null(void **state)
{
    dtlsudp_addr a;

    assert_int_equal(dtlsudp_snmp_addr_parse(NULL, NULL, AF_UNSPEC, &a), -1);
    assert_int_equal(dtlsudp_snmp_addr_parse("1.2.3.4", NULL, AF_UNSPEC, NULL), -1);
}

static void fmt_pair_in_netsnmp_style(void **state)
{
    dtlsudp_addr r, l;
    char *s;

    assert_int_equal(dtlsudp_snmp_addr_parse("127.0.0.1:40000", NULL, AF_UNSPEC, &r), 0);
    assert_int_equal(dtlsudp_snmp_addr_parse("127.0.0.2:10161", NULL, AF_UNSPEC, &l), 0);
    s = dtlsudp_snmp_addr_fmt(&r, &l);
    assert_non_null(s);
    assert_string_equal(s, "DTLSUDP: [127.0.0.1]:40000->[127.0.0.2]:10161");
    free(s);
    s = dtlsudp_snmp_addr_fmt(&r, NULL);
    assert_string_equal(s, "DTLSUDP: [127.0.0.1]:40000");
    free(s);
}

static void fmt_ipv6_and_unknown(void **state)
{
    dtlsudp_addr r, none;
    char *s;

    memset(&none, 0, sizeof(none));
    assert_int_equal(dtlsudp_snmp_addr_parse("[::1]:5", NULL, AF_UNSPEC, &r), 0);
    s = dtlsudp_snmp_addr_fmt(&r, &none);
    assert_string_equal(s, "DTLSUDP: [::1]:5");
    free(s);
    s = dtlsudp_snmp_addr_fmt(NULL, NULL);
    assert_string_equal(s, "DTLSUDP: unknown");
    free(s);
}

/* The hand-written IPv4 text against inet_ntop() and printf, over edge
 * values and a spread of others; a local address alone gets "[unknown]"
 * for the remote. */
static void fmt_matches_reference(void **state)
{
    static const uint32_t ips[] = {0x00000000, 0xffffffff, 0x7f000001, 0x0a00c807, 0xc0a80164, 0x01020304,
                                   0x09630a64, 0xfe000063};
    static const uint16_t ports[] = {0, 1, 9, 10, 99, 100, 161, 10161, 65535};
    dtlsudp_addr r, l, none;
    char want[128], ip[INET6_ADDRSTRLEN], *s;

    (void)state;
    memset(&none, 0, sizeof(none));
    for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
        for (size_t k = 0; k < sizeof(ports) / sizeof(ports[0]); k++) {
            memset(&r, 0, sizeof(r));
            r.sin.sin_family = AF_INET;
            r.sin.sin_addr.s_addr = htonl(ips[i]);
            r.sin.sin_port = htons(ports[k]);
            assert_non_null(inet_ntop(AF_INET, &r.sin.sin_addr, ip, sizeof(ip)));
            snprintf(want, sizeof(want), "DTLSUDP: [%s]:%u", ip, (unsigned)ports[k]);
            s = dtlsudp_snmp_addr_fmt(&r, &none);
            assert_string_equal(s, want);
            free(s);
        }
    }
    assert_int_equal(dtlsudp_snmp_addr_parse("[fe80::1:2]:65535", NULL, AF_UNSPEC, &l), 0);
    s = dtlsudp_snmp_addr_fmt(&none, &l);
    assert_string_equal(s, "DTLSUDP: [unknown]->[fe80::1:2]:65535");
    free(s);
}

static void ostring_round_trip(void **state)
{
    dtlsudp_addr a, b;
    uint8_t buf[18];
    size_t len = 0;

    assert_int_equal(dtlsudp_snmp_addr_parse("10.1.2.3:161", NULL, AF_UNSPEC, &a), 0);
    assert_int_equal(dtlsudp_snmp_addr_to_ostring(&a, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, "\x0a\x01\x02\x03\x00\xa1", 6);
    assert_int_equal(dtlsudp_snmp_addr_from_ostring(buf, len, &b), 0);
    assert_memory_equal(&a.sin, &b.sin, sizeof(a.sin));

    assert_int_equal(dtlsudp_snmp_addr_parse("[::1]:10162", NULL, AF_UNSPEC, &a), 0);
    assert_int_equal(dtlsudp_snmp_addr_to_ostring(&a, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 18);
    assert_int_equal(dtlsudp_snmp_addr_from_ostring(buf, len, &b), 0);
    assert_int_equal(b.sa.sa_family, AF_INET6);
    assert_int_equal(port_of(&b), 10162);

    assert_int_equal(dtlsudp_snmp_addr_to_ostring(&a, buf, 6, &len), -1);
    assert_int_equal(dtlsudp_snmp_addr_from_ostring(buf, 7, &b), -1);
    assert_int_equal(dtlsudp_snmp_addr_from_ostring(NULL, 6, &b), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_ipv4_with_port),
        cmocka_unit_test(parse_default_port_is_10161),
        cmocka_unit_test(parse_port_only_binds_ipv4_wildcard),
        cmocka_unit_test(parse_ipv6_hint_never_falls_back_to_ipv4),
        cmocka_unit_test(parse_bracketed_ipv6_under_plain_prefix),
        cmocka_unit_test(parse_rejects_null),
        cmocka_unit_test(fmt_pair_in_netsnmp_style),
        cmocka_unit_test(fmt_ipv6_and_unknown),
        cmocka_unit_test(fmt_matches_reference),
        cmocka_unit_test(ostring_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
