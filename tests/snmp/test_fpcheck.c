/*
 * test_fpcheck.c - a fingerprint of no hash's length is a configuration
 * error (transport/snmp/fpcheck.c): which words count as fingerprints and
 * which lengths are a hash's (with or without the SnmpTLSFingerprint hash
 * octet), and, through Net-SNMP's own reader, that a wrapped token's line
 * with a bad fingerprint is reported with file and line and not handed to
 * the token's handler, in the word each token keeps it (after a
 * "--shaN" option too), while good lines reach the handler.
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

static char logged[8192];

static int log_callback(int major, int minor, void *server_arg, void *client_arg)
{
    const struct snmp_log_message *m = server_arg;

    (void)major;
    (void)minor;
    (void)client_arg;
    if (m != NULL && m->msg != NULL && strlen(logged) + strlen(m->msg) < sizeof(logged))
        strcat(logged, m->msg);
    return 0;
}

/* n bytes of hex, colon-separated when colons is set. */
static const char *hex(size_t n, int colons)
{
    static char buf[512];
    size_t i, p = 0;

    for (i = 0; i < n; i++)
        p += (size_t)snprintf(buf + p, sizeof(buf) - p, colons && i > 0 ? ":%02X" : "%02X", (unsigned)(i * 7 + 0xa1) & 0xff);
    return buf;
}

static int check(const char *word, size_t *bytes)
{
    return dtlsudp_snmp_fingerprint_word_check(word, strlen(word), bytes);
}

static void test_hash_lengths(void **state)
{
    static const size_t good[] = {16, 20, 28, 32, 48, 64};
    size_t i, bytes;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(check(hex(good[i], 1), &bytes), 0);
        assert_int_equal(bytes, good[i]);
        assert_int_equal(check(hex(good[i], 0), &bytes), 0);
    }
    /* one byte short or long of SHA-256 (the first byte, 0xA1, is no hash octet) */
    assert_int_equal(check(hex(31, 1), &bytes), -1);
    assert_int_equal(bytes, 31);
    assert_int_equal(check(hex(33, 0), &bytes), -1);
    assert_int_equal(bytes, 33);
    {
        /* 21 bytes are SHA-1 with a hash octet only if the octet is one */
        char word[600];
        snprintf(word, sizeof(word), "FF:%s", hex(20, 1));
        assert_int_equal(check(word, &bytes), -1);
        assert_int_equal(bytes, 21);
    }
}

static void test_hash_octet_is_allowed(void **state)
{
    char word[600];
    size_t bytes;

    (void)state;
    /* RFC 6353 SnmpTLSFingerprint: hash algorithm octet (4 = SHA-256) first */
    snprintf(word, sizeof(word), "04:%s", hex(32, 1));
    assert_int_equal(check(word, &bytes), 0);
    assert_int_equal(bytes, 33);
    snprintf(word, sizeof(word), "02%s", hex(20, 0));
    assert_int_equal(check(word, &bytes), 0);
    /* an octet that names another hash than the length: an error */
    snprintf(word, sizeof(word), "01:%s", hex(32, 1));
    assert_int_equal(check(word, &bytes), -1);
    snprintf(word, sizeof(word), "03%s", hex(20, 0));
    assert_int_equal(check(word, &bytes), -1);
}

static void test_what_is_not_a_fingerprint(void **state)
{
    size_t bytes = 99;

    (void)state;
    /* file names, subjects, short hex words: not plainly a fingerprint */
    assert_int_equal(check("server.crt", &bytes), 0);
    assert_int_equal(bytes, 0);
    assert_int_equal(check("cafe", &bytes), 0);
    assert_int_equal(check("deadbeefdeadbeefdead:beef.pem", &bytes), 0);
    assert_int_equal(check(hex(9, 1), &bytes), 0); /* 18 digits: below 20 */
    assert_int_equal(bytes, 0);
    assert_int_equal(check("", &bytes), 0);
}

/* --- through Net-SNMP's reader --- */

static char seen[8][512];
static int n_seen;

static void fake_parse(const char *token, char *line)
{
    if (n_seen < 8)
        snprintf(seen[n_seen++], sizeof(seen[0]), "%s %s", token, line);
}

static void read_lines(const char *text, char *path_out, size_t cap)
{
    char path[] = "/tmp/dtlsudp-test-fpcheck-XXXXXX";
    int fd = mkstemp(path);
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    logged[0] = '\0';
    n_seen = 0;
    read_config(path, read_config_get_handlers("snmp"), NORMAL_CONFIG);
    unlink(path);
    snprintf(path_out, cap, "%s", path);
}

static void test_bad_lines_reported_and_ignored(void **state)
{
    char text[4096], path[64], want[1200];
    char fp31[512], fp32[512];

    (void)state;
    snprintf(fp31, sizeof(fp31), "%s", hex(31, 1));
    snprintf(fp32, sizeof(fp32), "%s", hex(32, 1));
    register_config_handler("snmp", "certSecName", fake_parse, NULL, NULL);
    register_config_handler("snmp", "trustCert", fake_parse, NULL, NULL);
    register_config_handler("snmp", "snmpTlstmAddr", fake_parse, NULL, NULL);
    dtlsudp_snmp_fingerprint_checks_install();
    dtlsudp_snmp_fingerprint_checks_install(); /* idempotent */
    dtlsudp_snmp_cert_check_install(NULL);

    snprintf(text, sizeof(text),
             "certSecName 10 %s --sn alice\n"        /* 1: good */
             "certSecName 11 --sha256 %s --sn bob\n" /* 2: bad, after the option */
             "trustCert %s\n"                        /* 3: bad */
             "trustCert ca.crt\n"                    /* 4: a name */
             "snmpTlstmAddr target %s agent\n",      /* 5: bad, second word */
             fp32, fp31, fp31, fp31);
    read_lines(text, path, sizeof(path));

    assert_int_equal(n_seen, 2);
    assert_non_null(strstr(seen[0], "certSecName 10"));
    assert_string_equal(seen[1], "trustCert ca.crt");
    snprintf(want, sizeof(want), "%s: line 2: Error: certSecName: %s is a fingerprint of 31 bytes", path, fp31);
    assert_non_null(strstr(logged, want));
    snprintf(want, sizeof(want), "%s: line 3: Error: trustCert:", path);
    assert_non_null(strstr(logged, want));
    snprintf(want, sizeof(want), "%s: line 5: Error: snmpTlstmAddr:", path);
    assert_non_null(strstr(logged, want));
    assert_null(strstr(logged, "line 1:"));
    assert_null(strstr(logged, "line 4:"));
    assert_non_null(strstr(logged, "line ignored"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_lengths),
        cmocka_unit_test(test_hash_octet_is_allowed),
        cmocka_unit_test(test_what_is_not_a_fingerprint),
        cmocka_unit_test(test_bad_lines_reported_and_ignored),
    };

    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, log_callback, NULL);
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
