/* Unit tests: transport/snmp/config.c (the dtlsudp* tokens). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "snmp_internal.h"

static int setup(void **state)
{
    dtlsudp_snmp_settings_reset();
    return 0;
}

static void defaults_match_the_documentation(void **state)
{
    const dtlsudp_snmp_settings *s = dtlsudp_snmp_settings_get();

    assert_int_equal(s->demux, DTLSUDP_SNMP_DEMUX_OSNET);
    assert_int_equal(s->engine.mtu_ipv4, 1500);
    assert_int_equal(s->engine.mtu_ipv6, 1280);
    assert_int_equal(s->engine.max_assocs, 10000);
    assert_int_equal(s->engine.max_half_open, 256);
    assert_true(s->engine.idle_timeout == 300000);
    assert_true(s->engine.handshake_timeout == 10000);
    assert_true(s->engine.cookie_rotation == 60000);
}

static void demux_words(void **state)
{
    dtlsudp_snmp_settings s = *dtlsudp_snmp_settings_get();
    const char *why = NULL;

    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpDemux", "router", &why), 0);
    assert_int_equal(s.demux, DTLSUDP_SNMP_DEMUX_ROUTER);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpdemux", " OSNET ", &why), 0);
    assert_int_equal(s.demux, DTLSUDP_SNMP_DEMUX_OSNET);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpDemux", "epoll", &why), -1);
    assert_string_equal(why, "expected osnet or router");
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpDemux", "", &why), -1);
    assert_int_equal(s.demux, DTLSUDP_SNMP_DEMUX_OSNET); /* unchanged */
}

static void resumption_tokens(void **state)
{
    dtlsudp_snmp_settings s = *dtlsudp_snmp_settings_get();
    dtlsudp_engine_config cfg;
    const char *why = NULL;

    assert_int_equal(s.engine.session_tickets, 1);
    assert_int_equal(s.resume, 1);
    assert_int_equal(s.session_file, 0);
    assert_true(s.engine.ticket_lifetime == 3600000);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpSessionTickets", "no", &why), 0);
    assert_int_equal(s.engine.session_tickets, 0);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpResume", " Off", &why), 0);
    assert_int_equal(s.resume, 0);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpSessionFile", "yes", &why), 0);
    assert_int_equal(s.session_file, 1);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpSessionFile", "maybe", &why), -1);
    assert_string_equal(why, "expected yes or no");
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpSessionFile", "yes please", &why), -1);
    assert_int_equal(s.session_file, 1); /* unchanged */
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpTicketLifetime", "600", &why), 0);
    assert_true(s.engine.ticket_lifetime == 600000);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpTicketLifetime", "0", &why), -1);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpTicketLifetime", "86401", &why), -1);
    assert_true(s.session_cache == 0); /* tickets by default */
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpSessionCache", "4096", &why), 0);
    assert_true(s.session_cache == 4096);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpSessionCache", "100001", &why), -1);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpSessionCache", "100000", &why), 0);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpSessionCache", "0", &why), 0);
    assert_true(s.session_cache == 0);
    dtlsudp_engine_config_init(&cfg);
    dtlsudp_snmp_settings_to_engine(&s, &cfg);
    assert_int_equal(cfg.session_tickets, 0);
    assert_true(cfg.ticket_lifetime == 600000);
}

static void numbers_and_ranges(void **state)
{
    dtlsudp_snmp_settings s = *dtlsudp_snmp_settings_get();
    const char *why = NULL;

    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMTU", "1400", &why), 0);
    assert_int_equal(s.engine.mtu_ipv4, 1400);
    assert_int_equal(s.engine.mtu_ipv6, 1400);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMTU", "1000", &why), 0);
    assert_int_equal(s.engine.mtu_ipv6, 1280); /* IPv6 minimum link MTU */
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMTU6", "9000", &why), 0);
    assert_int_equal(s.engine.mtu_ipv6, 9000);

    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMTU", "100", &why), -1);
    assert_string_equal(why, "value out of range");
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMTU", "12abc", &why), -1);
    assert_string_equal(why, "not an unsigned decimal number");
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMaxHalfOpen", "-5", &why), -1);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMaxHalfOpen", "", &why), -1);
    assert_string_equal(why, "a number is missing");
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMaxHalfOpen", "99999999999999999999", &why), -1);
    assert_int_equal(s.engine.max_half_open, 256); /* unchanged by the failures */

    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMaxAssociations", "50\n", &why), 0);
    assert_int_equal(s.engine.max_assocs, 50);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMaxPerSource", "3", &why), 0);
    assert_int_equal(s.engine.max_per_source, 3);
    assert_int_equal(s.engine.max_half_open_per_source, 8);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMaxHalfOpenPerSource", "2000", &why), 0);
    assert_int_equal(s.engine.max_half_open_per_source, 2000);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMaxHalfOpenPerSource", "0", &why), -1);

    /* the record hand-off is on unless turned off */
    assert_int_equal(s.engine.keep_ssl, 0);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpRecordHandoff", "0", &why), 0);
    assert_int_equal(s.engine.keep_ssl, 1);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpRecordHandoff", "2", &why), -1);
    assert_int_equal(s.engine.keep_ssl, 1);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpRecordHandoff", "1", &why), 0);
    assert_int_equal(s.engine.keep_ssl, 0);
}

static void timers_in_seconds(void **state)
{
    dtlsudp_snmp_settings s = *dtlsudp_snmp_settings_get();
    const char *why = NULL;

    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpIdleTimeout", "0", &why), 0);
    assert_true(s.engine.idle_timeout == DTLSUDP_TIME_NEVER);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpIdleTimeout", "30", &why), 0);
    assert_true(s.engine.idle_timeout == 30000);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpHandshakeTimeout", "0", &why), -1);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpHandshakeTimeout", "5", &why), 0);
    assert_true(s.engine.handshake_timeout == 5000);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpCookieRotation", "86401", &why), -1);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpCookieRotation", "120", &why), 0);
    assert_true(s.engine.cookie_rotation == 120000);
}

static void unknown_token(void **state)
{
    dtlsudp_snmp_settings s = *dtlsudp_snmp_settings_get();
    const char *why = NULL;

    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpColour", "blue", &why), -1);
    assert_string_equal(why, "unknown dtlsudp token");
}

static void settings_reach_the_engine_config(void **state)
{
    dtlsudp_snmp_settings s = *dtlsudp_snmp_settings_get();
    dtlsudp_engine_config cfg;
    const char *why = NULL;

    memset(&cfg, 0, sizeof(cfg));
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMaxAssociations", "7", &why), 0);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpMTU", "1300", &why), 0);
    dtlsudp_snmp_settings_to_engine(&s, &cfg);
    assert_int_equal(cfg.max_assocs, 7);
    assert_int_equal(cfg.mtu_ipv4, 1300);
    assert_int_equal(cfg.mtu_ipv6, 1300);
    assert_true(cfg.handshake_timeout == 10000);
    assert_true(cfg.idle_timeout == 300000);
    assert_true(cfg.retransmit_initial == 100);
    assert_int_equal(cfg.session_tickets, 1);
    /* What no token sets stays the caller's. */
    assert_int_equal(cfg.max_queued_datagrams, 0);
    assert_null(cfg.cert_file);
}

/* The library's defaults are the transport's: one table of defaults. */
static void defaults_are_the_engine_defaults(void **state)
{
    const dtlsudp_snmp_settings *s = dtlsudp_snmp_settings_get();
    dtlsudp_engine_config lib;

    (void)state;
    dtlsudp_engine_config_init(&lib);
    assert_int_equal(s->engine.max_assocs, lib.max_assocs);
    assert_int_equal(s->engine.max_half_open_per_source, lib.max_half_open_per_source);
    assert_true(s->engine.retransmit_initial == lib.retransmit_initial);
    assert_true(s->engine.retransmit_max == lib.retransmit_max);
    assert_int_equal(s->engine.retransmit_max_bytes, lib.retransmit_max_bytes);
    assert_true(s->engine.ticket_lifetime == lib.ticket_lifetime);
    assert_int_equal(s->engine.keep_ssl, 0);
}

static void retransmission_tokens(void **state)
{
    dtlsudp_snmp_settings s = *dtlsudp_snmp_settings_get();
    dtlsudp_engine_config cfg;
    const char *why = NULL;

    (void)state;
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpRetransmitInitial", "250", &why), 0);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpRetransmitMax", "2000", &why), 0);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpRetransmitMaxBytes", "8192", &why), 0);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpRetransmitInitial", "5", &why), -1);
    assert_string_equal(why, "value out of range");
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpRetransmitMax", "1s", &why), -1);
    assert_int_equal(dtlsudp_snmp_settings_apply(&s, "dtlsudpRetransmitMaxBytes", "100", &why), -1);
    memset(&cfg, 0, sizeof(cfg));
    dtlsudp_snmp_settings_to_engine(&s, &cfg);
    assert_true(cfg.retransmit_initial == 250);
    assert_true(cfg.retransmit_max == 2000);
    assert_int_equal(cfg.retransmit_max_bytes, 8192);
}

/* fpcheck.c: a word that is plainly a fingerprint must have a hash's
 * length; anything else (a file name, a subject) is not judged. */
static void fingerprint_words(void **state)
{
    const char *sha256 = "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF";
    const char *short31 = "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEE";
    const char *sha1 = "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67";
    char octet[80];
    size_t bytes;

    (void)state;
    assert_int_equal(dtlsudp_snmp_fingerprint_word_check(sha256, strlen(sha256), &bytes), 0);
    assert_int_equal(dtlsudp_snmp_fingerprint_word_check(sha1, strlen(sha1), &bytes), 0);
    assert_int_equal(dtlsudp_snmp_fingerprint_word_check(short31, strlen(short31), &bytes), -1);
    assert_int_equal(bytes, 31);
    /* SnmpTLSFingerprint: hash octet 04 (SHA-256) + 32 bytes */
    snprintf(octet, sizeof(octet), "04%s", sha256);
    assert_int_equal(dtlsudp_snmp_fingerprint_word_check(octet, strlen(octet), &bytes), 0);
    /* an odd number of digits is no fingerprint of any length */
    assert_int_equal(dtlsudp_snmp_fingerprint_word_check(sha256, strlen(sha256) - 1, &bytes), -1);
    /* not fingerprints: names, short hex */
    assert_int_equal(dtlsudp_snmp_fingerprint_word_check("server", 6, &bytes), 0);
    assert_int_equal(dtlsudp_snmp_fingerprint_word_check("deadbeef", 8, &bytes), 0);
    assert_int_equal(dtlsudp_snmp_fingerprint_word_check("client-2026.crt", 15, &bytes), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fingerprint_words),
        cmocka_unit_test_setup(defaults_match_the_documentation, setup),
        cmocka_unit_test_setup(demux_words, setup),
        cmocka_unit_test_setup(numbers_and_ranges, setup),
        cmocka_unit_test_setup(resumption_tokens, setup),
        cmocka_unit_test_setup(timers_in_seconds, setup),
        cmocka_unit_test_setup(unknown_token, setup),
        cmocka_unit_test_setup(settings_reach_the_engine_config, setup),
        cmocka_unit_test_setup(defaults_are_the_engine_defaults, setup),
        cmocka_unit_test_setup(retransmission_tokens, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
