/*
 * test_dlmod.c - dlmod.c: the plugin as snmpd loads it, and its tokens.
 * What it promises: `dlmod NAME PATH' loads PATH as it is when absolute,
 * else NAME.so (or PATH.so) along the dlmod path (SNMPDLMODPATH replaces
 * it, ":DIR" appends, the last directory's result wins as in snmpd); a
 * module that does not load, or has no init_NAME(), is an error that
 * names the file tried; a line with no name is an error; the plugin
 * (NAME dtlsudp) is flagged.  The plugin's tokens are those of
 * transport/snmp's table, and each one above the dlmod line that loads
 * the plugin (or with no such line) is an error with the fix.
 *
 * The module loaded is tests/checkconf/ccmod.la (init_ccmod and
 * init_dtlsudp), found through $top_builddir.
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

#define CONF "/etc/snmp/snmpd.conf"

static char libs[1024], module[1100], empty_dir[128];

static int locate_module(void **state)
{
    const char *builddir = getenv("top_builddir");

    (void)state;
    snprintf(libs, sizeof(libs), "%s/tests/checkconf/.libs", builddir != NULL ? builddir : "../..");
    snprintf(module, sizeof(module), "%s/ccmod.so", libs);
    if (access(module, R_OK) != 0) {
        fprintf(stderr, "no %s\n", module);
        return -1;
    }
    cct_tmpdir(empty_dir, sizeof(empty_dir), "dlmod");
    return 0;
}

static int reset(void **state)
{
    (void)state;
    unsetenv("SNMPDLMODPATH");
    cct_reset();
    return 0;
}

static int finish(void **state)
{
    reset(state);
    cct_rmdir(empty_dir);
    return 0;
}

static const cc_where here = {CONF, 3};

/* `dlmod dtlsudp /abs/path': loads, init_dtlsudp found: the plugin. */
static void plugin_by_absolute_path(void **state)
{
    char value[1200];
    int is_plugin = -1;
    size_t errors;
    char *out;

    (void)state;
    snprintf(value, sizeof(value), "dtlsudp %s", module);
    assert_int_equal(cc_check_dlmod(&here, value, &is_plugin), 1);
    assert_int_equal(is_plugin, 1);
    out = cct_report(0, 0, &errors);
    assert_int_equal(errors, 0);
    assert_non_null(strstr(out, "ok: dlmod dtlsudp "));
    assert_non_null(strstr(out, ": loads "));
    assert_non_null(strstr(out, "snmpd serves dtlsudp:, dtls:, dtlsudp6: and dtls6: addresses"));
    assert_non_null(strstr(out, "    path: "));
    assert_non_null(strstr(out, module));
    free(out);
}

/* A trailing comment is not part of the path; another module is not the
 * plugin. */
static void other_module_with_comment(void **state)
{
    char value[1200];
    int is_plugin = -1;
    char *out;

    (void)state;
    snprintf(value, sizeof(value), "ccmod\t%s # the test module", module);
    assert_int_equal(cc_check_dlmod(&here, value, &is_plugin), 1);
    assert_int_equal(is_plugin, 0);
    out = cct_report(0, 0, NULL);
    assert_non_null(strstr(out, "ok: dlmod ccmod"));
    assert_null(strstr(out, "snmpd serves"));
    free(out);
}

/* Loads, but init_NAME is missing: snmpd unloads it. */
static void module_without_init_function(void **state)
{
    char value[1200];
    int is_plugin = -1;
    size_t errors;
    char *out;

    (void)state;
    snprintf(value, sizeof(value), "other %s", module);
    assert_int_equal(cc_check_dlmod(&here, value, &is_plugin), 0);
    assert_int_equal(is_plugin, 0);
    out = cct_report(0, 0, &errors);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(out, "loads but has no init_other(): snmpd unloads it"));
    assert_non_null(strstr(out, "fix: the module's name must match its init_NAME function"));
    free(out);
}

/* A plugin path that does not load: the error says what was tried and
 * that the built-in would serve the addresses. */
static void plugin_that_does_not_load(void **state)
{
    int is_plugin = -1;
    size_t errors;
    char *out;

    (void)state;
    assert_int_equal(cc_check_dlmod(&here, "dtlsudp /nonexistent/dtlsudp.so", &is_plugin), 0);
    assert_int_equal(is_plugin, 1);
    out = cct_report(1, 0, &errors);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(out, "\"message\":\"cannot load /nonexistent/dtlsudp.so: "));
    assert_non_null(strstr(out, "serves every dtlsudp: address with Net-SNMP's built-in DTLSUDP, silently"));
    assert_non_null(strstr(out, "\"path\":\"/nonexistent/dtlsudp.so\""));
    assert_non_null(strstr(out, "\"fix\":\"dlmod dtlsudp "));
    free(out);
}

static void line_without_a_name(void **state)
{
    int is_plugin = -1;
    size_t errors;
    char *out;

    (void)state;
    assert_int_equal(cc_check_dlmod(&here, "  # nothing", &is_plugin), 0);
    assert_int_equal(is_plugin, 0);
    out = cct_report(0, 0, &errors);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(out, "error: dlmod   # nothing: no module name"));
    assert_non_null(strstr(out, "fix: dlmod NAME PATH"));
    free(out);
}

/* A relative name: NAME.so along SNMPDLMODPATH. */
static void name_along_the_dlmod_path(void **state)
{
    char path[2200], expect[1200];
    int is_plugin;
    char *out;

    (void)state;
    setenv("SNMPDLMODPATH", libs, 1);
    assert_int_equal(cc_check_dlmod(&here, "ccmod", &is_plugin), 1);
    out = cct_report(0, 0, NULL);
    snprintf(expect, sizeof(expect), "loads %s", module);
    assert_non_null(strstr(out, expect));
    free(out);

    /* As snmpd 5.9.3 does: the last directory's result wins, so a module
     * found only in an earlier directory is not loaded. */
    snprintf(path, sizeof(path), "%s:%s", libs, empty_dir);
    setenv("SNMPDLMODPATH", path, 1);
    assert_int_equal(cc_check_dlmod(&here, "ccmod", &is_plugin), 0);
    out = cct_report(0, 0, NULL);
    snprintf(expect, sizeof(expect), "cannot load %s/ccmod.so", empty_dir);
    assert_non_null(strstr(out, expect));
    free(out);

    /* ":DIR" appends DIR to the default path, where the module is. */
    snprintf(path, sizeof(path), ":%s", libs);
    setenv("SNMPDLMODPATH", path, 1);
    assert_int_equal(cc_check_dlmod(&here, "x ccmod", &is_plugin), 0); /* found, but no init_x */
    out = cct_report(0, 0, NULL);
    snprintf(expect, sizeof(expect), "%s loads but has no init_x()", module);
    assert_non_null(strstr(out, expect));
    free(out);
}

static void plugin_tokens_come_from_the_table(void **state)
{
    const char *name;
    char upper[128];
    size_t i;

    (void)state;
    assert_true(dtlsudp_snmp_config_token_count() > 0);
    for (i = 0; i < dtlsudp_snmp_config_token_count(); i++) {
        name = dtlsudp_snmp_config_token_name(i);
        assert_true(cc_is_plugin_token(name));
    }
    name = dtlsudp_snmp_config_token_name(0);
    for (i = 0; name[i] != '\0' && i + 1 < sizeof(upper); i++)
        upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    upper[i] = '\0';
    assert_true(cc_is_plugin_token(upper));
    assert_false(cc_is_plugin_token("localCert"));
    assert_false(cc_is_plugin_token("agentaddress"));
    assert_false(cc_is_plugin_token("dtlsudp"));
}

/* Tokens above the dlmod line that loads the plugin are errors that say
 * where to move it; tokens below are fine. */
static void tokens_before_the_dlmod_line(void **state)
{
    const char *token = dtlsudp_snmp_config_token_name(0);
    char expect[256];
    size_t errors;
    char *out;

    (void)state;
    cct_line(token, "1", CONF, 2);
    cc.plugin_loaded = 1;
    cc.plugin_at.file = cc_intern(CONF);
    cc.plugin_at.line = 5;
    cct_line(token, "2", CONF, 7); /* recorded with plugin_loaded set */
    cct_line("localCert", "server", CONF, 1);
    cc_check_token_order();
    out = cct_report(1, 0, &errors);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(out, "\"line\":2,"));
    assert_null(strstr(out, "\"line\":7,"));
    assert_non_null(strstr(out, "\"fix\":\"move the dlmod line (" CONF ":5) above this one\""));
    snprintf(expect, sizeof(expect), "snmpd says \\\"Unknown token: %s\\\" and ignores it", token);
    assert_non_null(strstr(out, expect));
    free(out);
}

static void tokens_without_a_dlmod_line(void **state)
{
    const char *token = dtlsudp_snmp_config_token_name(0);
    size_t errors;
    char *out;

    (void)state;
    cct_line(token, "1", CONF, 2);
    cc_check_token_order();
    out = cct_report(0, 0, &errors);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(out, "no dlmod line loads the plugin"));
    assert_non_null(strstr(out, cc_plugin_fix));
    free(out);

    /* A manager has no dlmod: its tokens are known from the start. */
    cct_reset();
    cc.is_agent = 0;
    cct_line(token, "1", CONF, 2);
    cc_check_token_order();
    out = cct_report(0, 0, &errors);
    assert_int_equal(errors, 0);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(plugin_by_absolute_path, reset),
        cmocka_unit_test_setup(other_module_with_comment, reset),
        cmocka_unit_test_setup(module_without_init_function, reset),
        cmocka_unit_test_setup(plugin_that_does_not_load, reset),
        cmocka_unit_test_setup(line_without_a_name, reset),
        cmocka_unit_test_setup(name_along_the_dlmod_path, reset),
        cmocka_unit_test_setup(plugin_tokens_come_from_the_table, reset),
        cmocka_unit_test_setup(tokens_before_the_dlmod_line, reset),
        cmocka_unit_test_setup(tokens_without_a_dlmod_line, reset),
    };
    return cmocka_run_group_tests(tests, locate_module, finish);
}
