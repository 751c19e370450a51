/*
 * test_plugin.c - agent-plugin/plugin.c, the snmpd dlmod, loaded with
 * dlopen() into an in-process agent at the point snmpd loads a dlmod
 * (while the configuration is read): it exports its three entry points
 * and nothing else; init takes the dtlsudp prefixes over, registers its
 * configuration tokens and serves the MIB modules, and says it loaded
 * once; a second init (SIGHUP) changes nothing; deinit keeps the domain
 * and the handlers; after the dlclose() of a SIGHUP the object stays
 * mapped (the handlers and transport hooks live in it) and a reload works.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* dladdr */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dlfcn.h>

#include "testagent.h"

#define APP "dtlsudp-test-plugin"

static char plugin_path[1024];
static void *plugin;
static void (*plugin_init)(void), (*plugin_deinit)(void), (*plugin_shutdown)(void);

/* What the agent logged, one message at a time, for the checks below. */
static char log_text[16384];
static int loaded_lines;

static int capture_log(int major, int minor, void *server_arg, void *client_arg)
{
    const struct snmp_log_message *m = server_arg;

    (void)major;
    (void)minor;
    (void)client_arg;
    if (m == NULL || m->msg == NULL)
        return 0;
    if (strncmp(m->msg, "dtlsudp ", 8) == 0 && strstr(m->msg, " loaded") != NULL)
        loaded_lines++;
    if (strlen(log_text) + strlen(m->msg) < sizeof(log_text))
        strcat(log_text, m->msg);
    return 0;
}

static void *open_plugin(int flags)
{
    return dlopen(plugin_path, flags);
}

static void load_plugin(void)
{
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, capture_log, NULL);
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
    plugin = open_plugin(RTLD_NOW);
    if (plugin == NULL)
        fail_msg("dlopen %s: %s", plugin_path, dlerror());
    *(void **)&plugin_init = dlsym(plugin, "init_dtlsudp");
    *(void **)&plugin_deinit = dlsym(plugin, "deinit_dtlsudp");
    *(void **)&plugin_shutdown = dlsym(plugin, "shutdown_dtlsudp");
    assert_non_null(plugin_init);
    plugin_init();
}

static int setup(void **state)
{
    const char *builddir = getenv("top_builddir");

    (void)state;
    snprintf(plugin_path, sizeof(plugin_path), "%s/agent-plugin/.libs/dtlsudp.so",
             builddir != NULL ? builddir : ".");
    return testagent_start(APP, load_plugin);
}

static int teardown(void **state)
{
    (void)state;
    testagent_stop();
    return 0;
}

static void test_exports_only_entry_points(void **state)
{
    static const char *const internal[] = {"dtlsudp_mib_init", "dtlsudp_snmp_domain_register",
                                           "dtlsudp_engine_new", "dtlsudp_listener_new", "pin_self"};
    size_t i;

    (void)state;
    assert_non_null(plugin_deinit);
    assert_non_null(plugin_shutdown);
    for (i = 0; i < sizeof(internal) / sizeof(internal[0]); i++)
        assert_null(dlsym(plugin, internal[i]));
}

/* A transport made for a dtlsudp address is the plugin's: its hooks are
 * code of the plugin's file. */
static void assert_domain_is_the_plugins(const char *address)
{
    netsnmp_transport *t = netsnmp_tdomain_transport(address, 0, NULL);
    Dl_info info;

    assert_non_null(t);
    assert_int_not_equal(dladdr(*(void **)&t->f_send, &info), 0);
    assert_non_null(info.dli_fname);
    assert_non_null(strstr(info.dli_fname, "agent-plugin/.libs/dtlsudp.so"));
    t->f_close(t);
    netsnmp_transport_free(t);
}

static void assert_mib_served(void)
{
    static const oid listener_count[] = {1, 3, 6, 1, 3, 6353, 1, 2, 0};
    u_char type = 0;

    assert_int_equal(testagent_get_integer(listener_count, OID_LENGTH(listener_count), &type), 0);
    assert_int_equal(type, ASN_GAUGE);
}

static void test_init_takes_the_domain_and_serves_the_mib(void **state)
{
    (void)state;
    assert_domain_is_the_plugins("dtlsudp:127.0.0.1:10161");
    assert_domain_is_the_plugins("dtls:127.0.0.1:10161");
    assert_domain_is_the_plugins("dtlsudp6:[::1]:10161");
    assert_mib_served();
    assert_int_equal(loaded_lines, 1);
}

/* The plugin's tokens are known after init: a bad value is reported by
 * the token's own check, not as an unknown token. */
static void test_tokens_registered(void **state)
{
    char bad[] = "dtlsudpMTU 100";

    (void)state;
    log_text[0] = '\0';
    netsnmp_config(bad);
    assert_non_null(strstr(log_text, "out of range"));
    assert_null(strstr(log_text, "Unknown token"));
}

static void test_init_again_changes_nothing(void **state)
{
    (void)state;
    log_text[0] = '\0';
    plugin_init();
    assert_int_equal(loaded_lines, 1);
    assert_null(strstr(log_text, "could not"));
    assert_null(strstr(log_text, "duplicate"));
    assert_domain_is_the_plugins("dtlsudp:127.0.0.1:10161");
    assert_mib_served();
}

static void test_deinit_keeps_domain_and_handlers(void **state)
{
    (void)state;
    plugin_deinit();
    plugin_shutdown();
    assert_domain_is_the_plugins("dtlsudp:127.0.0.1:10161");
    assert_mib_served();
}

/* snmpd's SIGHUP: dlclose() then dlopen() and init again.  The object
 * must never be unmapped in between. */
static void test_pinned_across_reload(void **state)
{
    void *still;

    (void)state;
    assert_int_equal(dlclose(plugin), 0);
    plugin = NULL;
    still = open_plugin(RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(still); /* still mapped */
    assert_int_equal(dlclose(still), 0);
    assert_mib_served(); /* handler code still there */

    plugin = open_plugin(RTLD_NOW);
    assert_non_null(plugin);
    *(void **)&plugin_init = dlsym(plugin, "init_dtlsudp");
    assert_non_null(plugin_init);
    plugin_init();
    assert_int_equal(loaded_lines, 1);
    assert_domain_is_the_plugins("dtlsudp:127.0.0.1:10161");
    assert_mib_served();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exports_only_entry_points),
        cmocka_unit_test(test_init_takes_the_domain_and_serves_the_mib),
        cmocka_unit_test(test_tokens_registered),
        cmocka_unit_test(test_init_again_changes_nothing),
        cmocka_unit_test(test_deinit_keeps_domain_and_handlers),
        cmocka_unit_test(test_pinned_across_reload),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
