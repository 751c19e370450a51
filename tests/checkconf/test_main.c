/*
 * test_main.c - main.c: the command line and the run.  What it promises:
 * each option lands in cc_options (-C, -c, -a, -u, --json, -q); --help
 * and --version print to the output stream and exit 0; -C without -c, an
 * unknown option, an option without its argument and a stray argument are
 * usage errors (exit 2) said on the error stream; parsing twice gives the
 * same answer.  The run reads the files with libnetsnmp's own reader and
 * records each line with its file and line (learnt from Net-SNMP's log),
 * turns Net-SNMP's messages about the files into findings at their line,
 * and exits 1 when there is an error.  init_snmp runs once per process:
 * one run here, with a configuration that exercises each of those.
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

#include "cctest.h"
#include "snmp_internal.h"

static char out_text[8192], err_text[8192];
static char words_buf[1024];
static char *words_argv[32];

/* cc_parse_options on "dtlsudp-checkconf WORDS" (split at blanks; the
 * options point into a buffer kept until the next call), with its output
 * and error streams into out_text and err_text. */
static int parse(const char *words, cc_options *o)
{
    int argc = 0;
    char *w, *save = NULL;
    FILE *out, *err;
    int status;

    memset(out_text, 0, sizeof(out_text));
    memset(err_text, 0, sizeof(err_text));
    snprintf(words_buf, sizeof(words_buf), "dtlsudp-checkconf %s", words);
    for (w = strtok_r(words_buf, " ", &save); w != NULL && argc < 31; w = strtok_r(NULL, " ", &save))
        words_argv[argc++] = w;
    words_argv[argc] = NULL;
    out = fmemopen(out_text, sizeof(out_text) - 1, "w");
    err = fmemopen(err_text, sizeof(err_text) - 1, "w");
    assert_non_null(out);
    assert_non_null(err);
    status = cc_parse_options(argc, words_argv, o, out, err);
    fclose(out);
    fclose(err);
    return status;
}

static void defaults(void **state)
{
    cc_options o;

    (void)state;
    memset(&o, 0x55, sizeof(o));
    assert_int_equal(parse("", &o), CC_RUN);
    assert_string_equal(o.app, "snmpd");
    assert_null(o.files);
    assert_null(o.user);
    assert_int_equal(o.no_defaults, 0);
    assert_int_equal(o.json, 0);
    assert_int_equal(o.quiet, 0);
    assert_string_equal(out_text, "");
    assert_string_equal(err_text, "");
}

static void every_option(void **state)
{
    cc_options o;
    int round;

    (void)state;
    /* twice: getopt starts afresh on each call */
    for (round = 0; round < 2; round++) {
        assert_int_equal(parse("-C -c /a.conf,/b.conf -a snmp -u nobody --json -q", &o), CC_RUN);
        assert_int_equal(o.no_defaults, 1);
        assert_string_equal(o.files, "/a.conf,/b.conf");
        assert_string_equal(o.app, "snmp");
        assert_string_equal(o.user, "nobody");
        assert_int_equal(o.json, 1);
        assert_int_equal(o.quiet, 1);
    }
}

static void help_and_version(void **state)
{
    char expect[128];
    cc_options o;

    (void)state;
    assert_int_equal(parse("--help", &o), 0);
    assert_non_null(strstr(out_text, "usage: dtlsudp-checkconf [-C] [-c FILE[,FILE...]]"));
    assert_non_null(strstr(out_text, "Exit status: 0 no errors, 1 errors found, 2 usage."));
    assert_string_equal(err_text, "");

    assert_int_equal(parse("-V", &o), 0);
    snprintf(expect, sizeof(expect), "dtlsudp-checkconf %s\n", dtlsudp_version());
    assert_string_equal(out_text, expect);
    assert_string_equal(err_text, "");
}

/* Each usage error: exit 2, the reason then the usage on the error
 * stream, nothing on the output stream. */
static void expect_usage_error(const char *words, const char *reason)
{
    cc_options o;

    assert_int_equal(parse(words, &o), 2);
    assert_string_equal(out_text, "");
    assert_non_null(strstr(err_text, reason));
    assert_non_null(strstr(err_text, "usage: dtlsudp-checkconf"));
}

static void usage_errors(void **state)
{
    (void)state;
    expect_usage_error("-C", "dtlsudp-checkconf: -C needs -c FILE\n");
    expect_usage_error("-x", "dtlsudp-checkconf: unknown option -x\n");
    expect_usage_error("--bogus", "dtlsudp-checkconf: unknown option --bogus\n");
    expect_usage_error("-c", "dtlsudp-checkconf: -c needs an argument\n");
    expect_usage_error("-c /a.conf extra", "dtlsudp-checkconf: unexpected argument extra\n");
}

/* cc_main stops before the run on --help (no init_snmp). */
static void call_main_help(void *arg)
{
    char name[] = "dtlsudp-checkconf", help[] = "-h";
    char *argv[] = {name, help, NULL};

    *(int *)arg = cc_main(2, argv);
}

static void main_without_a_run(void **state)
{
    int status = -1;
    char *out = cct_capture(call_main_help, &status);

    (void)state;
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "usage: dtlsudp-checkconf"));
    assert_int_equal(cc.n_lines, 0);
    free(out);
}

/* ------------------------------------------------------------------
 * The run
 * ------------------------------------------------------------------ */

static char dir[128];

struct run_call {
    cc_options o;
    int status;
};

static void call_run(void *arg)
{
    struct run_call *c = arg;
    c->status = cc_run(&c->o);
}

/* One configuration: a misspelt token of ours, a plugin token above the
 * dlmod line, the dlmod line (the test module stands for the plugin), a
 * plugin token with a value out of range, our address and a token of
 * snmpd's that this program does not load. */
static void one_run(void **state)
{
    const char *builddir = getenv("top_builddir");
    char conf[256], text[2048], expect[512];
    struct run_call c;
    char *out;
    const cc_line *l;

    (void)state;
    cct_tmpdir(dir, sizeof(dir), "main");
    snprintf(text, sizeof(text),
             "dtlsudpIdelTimeout 60\n"
             "dtlsudpIdleTimeout 60\n"
             "dlmod dtlsudp %s/tests/checkconf/.libs/ccmod.so\n"
             "dtlsudpMTU 5\n"
             "agentAddress dtlsudp:127.0.0.1:10161\n"
             "rocommunity public\n",
             builddir != NULL ? builddir : "../..");
    cct_write(dir, "snmpd.conf", text, conf, sizeof(conf));
    setenv("SNMPCONFPATH", dir, 1); /* certificates: none */

    memset(&c, 0, sizeof(c));
    c.o.app = "snmpd";
    c.o.files = conf;
    c.o.no_defaults = 1;
    c.o.json = 1;
    out = cct_capture(call_run, &c);

    /* errors: the token above dlmod, the MTU, no localCert, no certSecName */
    assert_int_equal(c.status, 1);
    snprintf(expect, sizeof(expect), "{\"app\":\"snmpd\",\"files\":[\"%s\"],", conf);
    assert_non_null(strstr(out, expect));

    /* the file and line of each recorded line */
    l = cc_last_line("dlmod");
    assert_non_null(l);
    assert_string_equal(l->where.file, conf);
    assert_int_equal(l->where.line, 3);
    assert_true(cc.plugin_loaded);
    assert_int_equal(cc.plugin_at.line, 3);
    l = cc_last_line("agentaddress");
    assert_non_null(l);
    assert_int_equal(l->where.line, 5);
    assert_string_equal(l->value, "dtlsudp:127.0.0.1:10161");
    assert_true(l->plugin_loaded);

    /* Net-SNMP's "Unknown token" for ours: a warning at its line */
    snprintf(expect, sizeof(expect),
             "\"severity\":\"warning\",\"kind\":\"token\",\"file\":\"%s\",\"line\":1,\"token\":"
             "\"dtlsudpIdelTimeout\"",
             conf);
    assert_non_null(strstr(out, expect));
    /* the plugin token recorded before the dlmod line */
    snprintf(expect, sizeof(expect), "\"line\":2,\"token\":\"dtlsudpIdleTimeout\",\"value\":\"60\"");
    assert_non_null(strstr(out, expect));
    snprintf(expect, sizeof(expect), "move the dlmod line (%s:3) above this one", conf);
    assert_non_null(strstr(out, expect));
    /* the transport's own complaint about a value: an error at its line */
    snprintf(expect, sizeof(expect), "\"severity\":\"error\",\"kind\":\"config\",\"file\":\"%s\",\"line\":4,", conf);
    assert_non_null(strstr(out, expect));
    /* snmpd's own tokens are not this program's to judge */
    assert_null(strstr(out, "rocommunity"));
    assert_non_null(strstr(out, "served by the dtlsudp plugin on 127.0.0.1:10161"));
    free(out);
}

static int finish(void **state)
{
    (void)state;
    snmp_shutdown("snmpd");
    cct_reset();
    cct_rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(every_option),
        cmocka_unit_test(help_and_version),
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(main_without_a_run),
        cmocka_unit_test(one_run),
    };
    return cmocka_run_group_tests(tests, NULL, finish);
}
