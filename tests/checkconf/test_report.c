/*
 * test_report.c - report.c: findings printed for people (text) and for
 * scripts (--json).  What it promises: every field of a finding appears,
 * findings are sorted by file (in the order the files were read), then
 * line, then the order they were added, with those of no file last; -q
 * keeps warnings and errors only; JSON strings are escaped; the return
 * value counts errors, not warnings; cc_intern gives one pointer per
 * string; cc_report_clear forgets everything.
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

static int reset(void **state)
{
    (void)state;
    cct_reset();
    return 0;
}

static void intern_gives_one_pointer_per_string(void **state)
{
    char copy[] = "/etc/snmp/snmpd.conf";
    const char *a = cc_intern("/etc/snmp/snmpd.conf"), *b = cc_intern(copy), *c = cc_intern("/etc/snmp/snmp.conf");

    (void)state;
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, copy);
    assert_ptr_not_equal(a, c);
    assert_string_equal(c, "/etc/snmp/snmp.conf");
    assert_null(cc_intern(NULL));
}

/* Every part of one finding, in the documented text layout. */
static void text_has_every_field(void **state)
{
    cc_where w = {cc_intern("/etc/a.conf"), 7};
    cc_finding *f;
    size_t errors = 99;
    char *out;

    (void)state;
    cc.files = calloc(1, sizeof(*cc.files));
    cc.files[cc.n_files++] = w.file;
    f = cc_add(CC_ERROR, "certificate", &w, "localCert", "server", "issue a new one", "expired %d days ago", 3);
    cc_set(f, "path", "/etc/tls/certs/server.crt");
    out = cct_report(0, 0, &errors);
    assert_string_equal(out, "/etc/a.conf:7: error: localCert server: expired 3 days ago\n"
                             "    path: /etc/tls/certs/server.crt\n"
                             "    fix: issue a new one\n"
                             "files read (snmpd): /etc/a.conf\n"
                             "1 error, 0 warnings\n");
    assert_int_equal(errors, 1);
    free(out);
}

/* No file: no "FILE:LINE: " prefix; no token: no "TOKEN VALUE: ";
 * an empty value adds no blank. */
static void text_without_place_or_token(void **state)
{
    char *out;

    (void)state;
    cc_add(CC_WARNING, "config", NULL, NULL, NULL, NULL, "no configuration file of %s was read", "snmpd");
    cc_add(CC_INFO, "certificate", NULL, "localCert", "", NULL, "not set");
    out = cct_report(0, 0, NULL);
    assert_string_equal(out, "warning: no configuration file of snmpd was read\n"
                             "info: localCert: not set\n"
                             "files read (snmpd): none\n"
                             "0 errors, 1 warning\n");
    free(out);
}

/* By file in the order the files were read (not by name), by line, then
 * in the order added; no file last. */
static void sorted_by_file_order_then_line(void **state)
{
    const char *first = cc_intern("/z/read-first.conf"), *second = cc_intern("/a/read-second.conf");
    cc_where f2l9 = {second, 9}, f1l5 = {first, 5}, f1l2 = {first, 2}, f2l1 = {second, 1};
    char *out, *p[6];
    int i;

    (void)state;
    cc.files = calloc(2, sizeof(*cc.files));
    cc.files[cc.n_files++] = first;
    cc.files[cc.n_files++] = second;
    cc_add(CC_OK, "token", NULL, NULL, NULL, NULL, "M-nofile");
    cc_add(CC_OK, "token", &f2l9, NULL, NULL, NULL, "M-second-9");
    cc_add(CC_OK, "token", &f1l5, NULL, NULL, NULL, "M-first-5a");
    cc_add(CC_OK, "token", &f1l2, NULL, NULL, NULL, "M-first-2");
    cc_add(CC_OK, "token", &f2l1, NULL, NULL, NULL, "M-second-1");
    cc_add(CC_OK, "token", &f1l5, NULL, NULL, NULL, "M-first-5b");
    out = cct_report(0, 0, NULL);
    p[0] = strstr(out, "M-first-2");
    p[1] = strstr(out, "M-first-5a");
    p[2] = strstr(out, "M-first-5b");
    p[3] = strstr(out, "M-second-1");
    p[4] = strstr(out, "M-second-9");
    p[5] = strstr(out, "M-nofile");
    for (i = 0; i < 6; i++)
        assert_non_null(p[i]);
    for (i = 1; i < 6; i++)
        assert_true(p[i - 1] < p[i]);
    free(out);
}

/* -q: ok and info lines and the "files read" line go; warnings, errors
 * and the summary stay. */
static void quiet_keeps_warnings_and_errors(void **state)
{
    char *out;
    size_t errors;

    (void)state;
    cc_add(CC_OK, "dlmod", NULL, NULL, NULL, NULL, "the-ok");
    cc_add(CC_INFO, "certificate", NULL, NULL, NULL, NULL, "the-info");
    cc_add(CC_WARNING, "key", NULL, NULL, NULL, NULL, "the-warning");
    cc_add(CC_ERROR, "crl", NULL, NULL, NULL, NULL, "the-error");
    cc_add(CC_ERROR, "crl", NULL, NULL, NULL, NULL, "the-second-error");
    out = cct_report(0, 1, &errors);
    assert_null(strstr(out, "the-ok"));
    assert_null(strstr(out, "the-info"));
    assert_null(strstr(out, "files read"));
    assert_non_null(strstr(out, "warning: the-warning\n"));
    assert_non_null(strstr(out, "error: the-error\n"));
    assert_non_null(strstr(out, "2 errors, 1 warning\n"));
    assert_int_equal(errors, 2);
    free(out);
}

/* The JSON document: app, files, counts, and each finding's fields;
 * a finding of no file has "file":null and "line":null. */
static void json_document(void **state)
{
    cc_where w = {cc_intern("/etc/b.conf"), 12};
    cc_finding *f;
    size_t errors;
    char *out;

    (void)state;
    cc.app = "snmp";
    cc.files = calloc(1, sizeof(*cc.files));
    cc.files[cc.n_files++] = w.file;
    f = cc_add(CC_WARNING, "address", &w, "agentAddress", "dtlsudp:161", "the fix", "a message");
    cc_set(f, "served_by", "builtin");
    cc_add(CC_ERROR, "certSecName", NULL, "certSecName", NULL, NULL, "no rows");
    out = cct_report(1, 0, &errors);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(out, "{\"app\":\"snmp\",\"files\":[\"/etc/b.conf\"],\"errors\":1,\"warnings\":1,"
                                "\"findings\":["));
    assert_non_null(strstr(out, "{\"severity\":\"warning\",\"kind\":\"address\",\"file\":\"/etc/b.conf\","
                                "\"line\":12,\"token\":\"agentAddress\",\"value\":\"dtlsudp:161\","
                                "\"message\":\"a message\",\"fix\":\"the fix\",\"served_by\":\"builtin\"}"));
    assert_non_null(strstr(out, "{\"severity\":\"error\",\"kind\":\"certSecName\",\"file\":null,\"line\":null,"
                                "\"token\":\"certSecName\",\"value\":null,\"message\":\"no rows\",\"fix\":null}"));
    assert_non_null(strstr(out, "\n]}\n"));
    free(out);
}

/* Quotes, backslashes, newlines, tabs and other control characters
 * cannot break the document. */
static void json_escapes_strings(void **state)
{
    char *out;

    (void)state;
    cc_add(CC_OK, "token", NULL, "t\"q", "a\\b", "x\ty", "line1\nline2\001end");
    out = cct_report(1, 0, NULL);
    assert_non_null(strstr(out, "\"token\":\"t\\\"q\""));
    assert_non_null(strstr(out, "\"value\":\"a\\\\b\""));
    assert_non_null(strstr(out, "\"fix\":\"x\\ty\""));
    assert_non_null(strstr(out, "\"message\":\"line1\\nline2\\u0001end\""));
    assert_null(strchr(out, '\001'));
    assert_null(strchr(out, '\t'));
    free(out);
}

/* cc_set: a NULL value adds nothing; at most six extra fields. */
static void extra_fields_are_bounded(void **state)
{
    cc_finding *f = cc_add(CC_OK, "token", NULL, NULL, NULL, NULL, "m");
    char key[8][8], *out;
    int i;

    (void)state;
    cc_set(f, "absent", NULL);
    for (i = 0; i < 8; i++) {
        snprintf(key[i], sizeof(key[i]), "k%d", i);
        cc_set(f, key[i], "v");
    }
    out = cct_report(0, 0, NULL);
    assert_null(strstr(out, "absent"));
    assert_non_null(strstr(out, "    k0: v\n"));
    assert_non_null(strstr(out, "    k5: v\n"));
    assert_null(strstr(out, "k6"));
    assert_null(strstr(out, "k7"));
    free(out);
}

/* Nothing to report (an agent's file with no line of ours): the
 * summary alone, and no sort of an empty, never allocated list (UBSan's
 * "null pointer passed as argument 1" to qsort). */
static void empty_report(void **state)
{
    size_t errors = 99;
    char *out;

    (void)state;
    cc.files = calloc(1, sizeof(*cc.files));
    cc.files[cc.n_files++] = cc_intern("/etc/snmp/snmpd.conf");
    out = cct_report(1, 0, &errors);
    assert_int_equal(errors, 0);
    assert_string_equal(out, "{\"app\":\"snmpd\",\"files\":[\"/etc/snmp/snmpd.conf\"],\"errors\":0,\"warnings\":0,"
                             "\"findings\":[\n]}\n");
    free(out);
}

/* After cc_report_clear nothing is reported and nothing is counted. */
static void clear_forgets_findings(void **state)
{
    size_t errors = 99;
    char *out;

    (void)state;
    cc_add(CC_ERROR, "crl", NULL, NULL, NULL, NULL, "gone");
    cc_report_clear();
    out = cct_report(0, 0, &errors);
    assert_int_equal(errors, 0);
    assert_null(strstr(out, "gone"));
    assert_non_null(strstr(out, "0 errors, 0 warnings\n"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(empty_report, reset),
        cmocka_unit_test_setup(intern_gives_one_pointer_per_string, reset),
        cmocka_unit_test_setup(text_has_every_field, reset),
        cmocka_unit_test_setup(text_without_place_or_token, reset),
        cmocka_unit_test_setup(sorted_by_file_order_then_line, reset),
        cmocka_unit_test_setup(quiet_keeps_warnings_and_errors, reset),
        cmocka_unit_test_setup(json_document, reset),
        cmocka_unit_test_setup(json_escapes_strings, reset),
        cmocka_unit_test_setup(extra_fields_are_bounded, reset),
        cmocka_unit_test_setup(clear_forgets_findings, reset),
    };
    return cmocka_run_group_tests(tests, NULL, reset);
}
