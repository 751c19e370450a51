/* Unit tests: what the operator is told about configuration.
 *  - config.c's token names (dtlsudp-checkconf checks the same list);
 *  - certfind.c's text of the directories Net-SNMP searches;
 *  - fpcheck.c resolving localCert/peerCert/trustCert as each line is read,
 *    reporting a name that finds nothing with the file and line, and
 *    keeping the line. */
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

static void token_names_are_the_registered_ones(void **state)
{
    size_t i, n = dtlsudp_snmp_config_token_count();
    struct config_line *l;

    (void)state;
    dtlsudp_snmp_config_register();
    assert_true(n >= 10);
    assert_null(dtlsudp_snmp_config_token_name(n));
    for (i = 0; i < n; i++) {
        const char *name = dtlsudp_snmp_config_token_name(i);
        int found = 0;
        assert_non_null(name);
        assert_int_equal(strncmp(name, "dtlsudp", 7), 0);
        for (l = read_config_get_handlers("snmp"); l != NULL; l = l->next)
            found |= l->config_token != NULL && strcmp(l->config_token, name) == 0;
        assert_true(found);
    }
}

static void search_text_names_the_directories(void **state)
{
    char text[1024];

    (void)state;
    setenv("SNMPCONFPATH", "/srv/a:/srv/b", 1);
    dtlsudp_snmp_cert_search_text(text, sizeof(text));
    assert_string_equal(text, "tls/certs and tls/ca-certs (keys: tls/private) under /srv/a, /srv/b (SNMPCONFPATH)");
    unsetenv("SNMPCONFPATH");
    set_configuration_directory("/etc/x:/home/y/.snmp");
    dtlsudp_snmp_cert_search_text(text, sizeof(text));
    assert_string_equal(text, "tls/certs and tls/ca-certs (keys: tls/private) under /etc/x, /home/y/.snmp "
                              "(Net-SNMP's default path; SNMPCONFPATH is not set)");
    /* Truncated, still a string. */
    dtlsudp_snmp_cert_search_text(text, 20);
    assert_int_equal(strlen(text), 19);
}

static int parsed;
static int kinds[3];
static void fake_parse(const char *token, char *line)
{
    (void)token;
    (void)line;
    parsed++;
}

static int fake_check(int kind, const char *token, const char *value, char *why, size_t cap)
{
    if (kind >= 1 && kind <= 3)
        kinds[kind - 1]++;
    if (strcmp(value, "nosuch") != 0)
        return 0;
    snprintf(why, cap, "dtlsudp: %s %s: not found", token, value);
    return -1;
}

static void certificate_lines_are_resolved_as_read(void **state)
{
    char path[] = "/tmp/test_certcheck.XXXXXX";
    int fd = mkstemp(path);
    FILE *f;
    char want[600];

    (void)state;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("localCert server\nlocalCert nosuch\npeerCert nosuch\ntrustCert ca\n", f);
    fclose(f);
    register_config_handler("snmp", "localCert", fake_parse, NULL, NULL);
    register_config_handler("snmp", "peerCert", fake_parse, NULL, NULL);
    register_config_handler("snmp", "trustCert", fake_parse, NULL, NULL);
    dtlsudp_snmp_fingerprint_checks_install();
    dtlsudp_snmp_cert_check_install(fake_check);
    logged[0] = '\0';
    read_config(path, read_config_get_handlers("snmp"), NORMAL_CONFIG);
    unlink(path);

    assert_int_equal(parsed, 4); /* a warning, not a refusal: Net-SNMP keeps every line */
    assert_int_equal(kinds[DTLSUDP_SNMP_CERT_IDENTITY - 1], 2);
    assert_int_equal(kinds[DTLSUDP_SNMP_CERT_PEER - 1], 1);
    assert_int_equal(kinds[DTLSUDP_SNMP_CERT_TRUST - 1], 1);
    snprintf(want, sizeof(want), "%s: line 2: Warning: dtlsudp: localCert nosuch: not found", path);
    assert_non_null(strstr(logged, want));
    snprintf(want, sizeof(want), "%s: line 3: Warning: dtlsudp: peerCert nosuch: not found", path);
    assert_non_null(strstr(logged, want));
    assert_null(strstr(logged, "line 1:"));
    assert_null(strstr(logged, "line 4:"));

    /* Without the transport's lookup (libsnmpbase alone), nothing is said. */
    dtlsudp_snmp_cert_check_install(NULL);
    logged[0] = '\0';
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("localCert nosuch\n", f);
    fclose(f);
    read_config(path, read_config_get_handlers("snmp"), NORMAL_CONFIG);
    unlink(path);
    assert_int_equal(parsed, 5);
    assert_null(strstr(logged, "not found"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_names_are_the_registered_ones),
        cmocka_unit_test(search_text_names_the_directories),
        cmocka_unit_test(certificate_lines_are_resolved_as_read),
    };

    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, log_callback, NULL);
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
