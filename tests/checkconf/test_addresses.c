/*
 * test_addresses.c - addresses.c: the agent's listeners as snmpd will open
 * them.  What it promises: every agentAddress of ours is reported served
 * by the plugin when a dlmod line loaded it, and an error (Net-SNMP's
 * built-in would take it, silently) when none did; the family is named
 * (IPv4, IPv6 only, dual-stack); an address the transport cannot parse is
 * an error; two listeners that cannot both bind the same UDP port are an
 * error naming both; other transports (tcp, unix) are not its business;
 * a manager's configuration has no listeners.  cc_serves_dtlsudp says
 * whether any agentAddress is ours.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cctest.h"

#define CONF "/etc/snmp/snmpd.conf"

static int reset(void **state)
{
    (void)state;
    cct_reset();
    return 0;
}

/* Run the check; its findings as JSON. */
static char *check(size_t *errors)
{
    cc_check_addresses();
    return cct_report(1, 0, errors);
}

static void served_by_the_plugin(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    cc.plugin_loaded = 1;
    cct_line("agentaddress", "dtlsudp:127.0.0.1:10161,dtlsudp6:[::1]:10161, dtls:[::]:10162", CONF, 4);
    out = check(&errors);
    assert_int_equal(errors, 0);
    assert_non_null(strstr(out, "\"line\":4,\"token\":\"agentAddress\",\"value\":\"dtlsudp:127.0.0.1:10161\","
                                "\"message\":\"served by the dtlsudp plugin on 127.0.0.1:10161, IPv4\""));
    assert_non_null(strstr(out, "\"value\":\"dtlsudp6:[::1]:10161\",\"message\":\"served by the dtlsudp plugin on "
                                "[::1]:10161, IPv6 only\""));
    /* a leading blank after the comma is not part of the spec */
    assert_non_null(strstr(out, "\"value\":\"dtls:[::]:10162\",\"message\":\"served by the dtlsudp plugin on "
                                "[::]:10162, IPv4 and IPv6 (dual-stack)\""));
    assert_int_equal(cct_count(out, "\"served_by\":\"dtlsudp\""), 3);
    free(out);
}

/* The default port of ours is 10161, whatever the prefix's case. */
static void default_port_is_10161(void **state)
{
    char *out;

    (void)state;
    cc.plugin_loaded = 1;
    cct_line("agentaddress", "DTLSUDP:127.0.0.1", CONF, 2);
    out = check(NULL);
    assert_non_null(strstr(out, "\"address\":\"127.0.0.1:10161\""));
    free(out);
}

/* No plugin: each address of ours would go to the built-in, and the
 * message says whether a dlmod line was there and failed. */
static void without_the_plugin_the_builtin_takes_it(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    cct_line("agentaddress", "dtlsudp:10161", CONF, 3);
    out = check(&errors);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(out, "would fall to Net-SNMP's built-in DTLSUDP (0.0.0.0:10161): no dlmod line loads "
                                "dtlsudp.so"));
    assert_non_null(strstr(out, "\"served_by\":\"builtin\""));
    assert_non_null(strstr(out, cc_plugin_fix));
    free(out);

    cct_reset();
    cc.plugin_tried = 1;
    cct_line("agentaddress", "dtlsudp:10161", CONF, 3);
    out = check(&errors);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(out, "the dlmod line for dtlsudp.so does not load"));
    free(out);
}

static void unparsable_address_of_ours(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    cc.plugin_loaded = 1;
    cct_line("agentaddress", "dtlsudp:[::1:10161,udp:[::1:161", CONF, 9);
    out = check(&errors);
    /* ours: an error with the forms that work; udp: Net-SNMP's business */
    assert_int_equal(errors, 1);
    assert_non_null(strstr(out, "\"line\":9,\"token\":\"agentAddress\",\"value\":\"dtlsudp:[::1:10161\","
                                "\"message\":\"not an address the transport can parse\""));
    assert_null(strstr(out, "udp:[::1:161"));
    free(out);
}

/* The same port on overlapping addresses: the second bind fails. */
static void conflicting_listeners(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    cc.plugin_loaded = 1;
    cct_line("agentaddress", "dtlsudp:[::]:10161", CONF, 5);
    cct_line("agentaddress", "dtlsudp:127.0.0.1:10161", CONF, 6);
    out = check(&errors);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(out, "\"kind\":\"listener\",\"file\":\"" CONF "\",\"line\":6,"));
    assert_non_null(strstr(out, "conflicts with dtlsudp:[::]:10161 (" CONF ":5): both bind UDP port 10161"));
    free(out);
}

/* udp: and dtlsudp: share the port space; the same host twice conflicts. */
static void conflicts_across_transports_and_hosts(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    cc.plugin_loaded = 1;
    cct_line("agentaddress", "udp:127.0.0.1:1161,dtlsudp:127.0.0.1:1161", CONF, 2);
    cct_line("agentaddress", "161,dtlsudp:0.0.0.0:161", CONF, 3);
    out = check(&errors);
    assert_int_equal(errors, 2);
    assert_non_null(strstr(out, "conflicts with udp:127.0.0.1:1161 (" CONF ":2): both bind UDP port 1161"));
    /* "161" alone is a udp port, not a prefix */
    assert_non_null(strstr(out, "conflicts with 161 (" CONF ":3): both bind UDP port 161"));
    free(out);
}

/* Different ports, different hosts, an IPv6-only wildcard beside an IPv4
 * one, another transport: all bind. */
static void listeners_that_all_bind(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    cc.plugin_loaded = 1;
    cct_line("agentaddress", "dtlsudp:127.0.0.1:10161,dtlsudp:127.0.0.2:10161,dtlsudp:10162", CONF, 2);
    cct_line("agentaddress", "dtlsudp:0.0.0.0:10163,dtlsudp6:[::]:10163,udp6:[::1]:161", CONF, 3);
    cct_line("agentaddress", "tcp:10161,unix:/var/agentx", CONF, 4);
    out = check(&errors);
    assert_int_equal(errors, 0);
    assert_null(strstr(out, "conflicts"));
    assert_null(strstr(out, "tcp:"));
    assert_int_equal(cct_count(out, "served by the dtlsudp plugin"), 5);
    free(out);
}

/* A manager's configuration opens no listeners. */
static void manager_has_no_listeners(void **state)
{
    char *out;

    (void)state;
    cc.app = "snmp";
    cc.is_agent = 0;
    cct_line("agentaddress", "dtlsudp:10161,dtlsudp:10161", CONF, 2);
    out = check(NULL);
    assert_non_null(strstr(out, "\"findings\":[\n]}"));
    free(out);
}

static void serves_dtlsudp(void **state)
{
    (void)state;
    assert_false(cc_serves_dtlsudp());
    cct_line("agentaddress", "udp:161", CONF, 1);
    cct_line("localCert", "dtls-server", CONF, 2);
    assert_false(cc_serves_dtlsudp());
    /* "dtls" in a host name, or a prefix that only starts with it, is
     * not our transport */
    cct_line("agentaddress", "udp:dtls-gw.example.com:161,dtls-gw.example.com:162", CONF, 3);
    cct_line("agentaddress", "tcp:dtlsudp.example.com:161,dtlsudpx:10161", CONF, 4);
    assert_false(cc_serves_dtlsudp());
    cct_line("agentAddress", "udp:162,DTLS:10161", CONF, 3);
    assert_true(cc_serves_dtlsudp());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(served_by_the_plugin, reset),
        cmocka_unit_test_setup(default_port_is_10161, reset),
        cmocka_unit_test_setup(without_the_plugin_the_builtin_takes_it, reset),
        cmocka_unit_test_setup(unparsable_address_of_ours, reset),
        cmocka_unit_test_setup(conflicting_listeners, reset),
        cmocka_unit_test_setup(conflicts_across_transports_and_hosts, reset),
        cmocka_unit_test_setup(listeners_that_all_bind, reset),
        cmocka_unit_test_setup(manager_has_no_listeners, reset),
        cmocka_unit_test_setup(serves_dtlsudp, reset),
    };
    return cmocka_run_group_tests(tests, NULL, reset);
}
