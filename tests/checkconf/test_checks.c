/*
 * test_checks.c - checks.c: the driver and the certSecName rows.  What it
 * promises: cc_last_line gives the last line of a token (Net-SNMP keeps
 * the last value), whatever its case; cc_check_all takes the run user
 * from agentuser unless -u gave one, warns when no file was read, and
 * runs every check (token order, addresses, certificates, certSecName,
 * CRL); each certSecName row is reported with its line, the certificate
 * its fingerprint names (a CA: every client it vouches for) and the
 * securityName it gives, or as info when no certificate here has that
 * fingerprint; an agent serving dtlsudp with no rows is an error (RFC
 * 6353 5.3.2: every client would be refused).
 *
 * The rows are read by libnetsnmp from cctest.conf in a temporary
 * SNMPCONFPATH holding the store of cctest.c.
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
#include "snmp_internal.h"

#include <net-snmp/library/cert_util.h>

#define CONF "/etc/snmp/cctest.conf"
#define UNKNOWN_FP "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"

static char dir[128], fp_ca[128], fp_server[128];

/* certSecName rows (priority, certificate, map), and the lines main.c
 * would have recorded for them. */
static const struct {
    const char *priority;
    const char *fp_of; /* "ca", "server", or NULL: no certificate here */
    const char *map;
} rows[] = {
    {"10", "ca", "--cn"},           /* the CA: every client it vouches for */
    {"20", "server", "--sn admin"}, /* a client certificate, a fixed name */
    {"25", "server", "--cn"},       /* the same client, its CN */
    {"30", NULL, "--cn"},
};

static void row_text(size_t i, char *buf, size_t cap)
{
    const char *fp = rows[i].fp_of == NULL ? UNKNOWN_FP : strcmp(rows[i].fp_of, "ca") == 0 ? fp_ca : fp_server;

    snprintf(buf, cap, "%s %s %s", rows[i].priority, fp, rows[i].map);
}

static int make_store(void **state)
{
    char conf[2048] = "", row[256];
    size_t i;

    (void)state;
    cct_tmpdir(dir, sizeof(dir), "checks");
    cct_store_write(dir);
    cct_fingerprint(cct_store_pair("ca")->cert, fp_ca, sizeof(fp_ca));
    cct_fingerprint(cct_store_pair("server")->cert, fp_server, sizeof(fp_server));
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        row_text(i, row, sizeof(row));
        snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf), "certSecName %s\n", row);
    }
    cct_store_read(dir, "cctest", NULL, conf);
    return 0;
}

static int reset(void **state)
{
    (void)state;
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_LOCAL_CERT, NULL);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE, NULL);
    cct_reset();
    return 0;
}

static int remove_store(void **state)
{
    reset(state);
    snmp_shutdown("cctest");
    cct_rmdir(dir);
    return 0;
}

static void last_line_of_a_token(void **state)
{
    (void)state;
    assert_null(cc_last_line("localCert"));
    cct_line("localCert", "first", CONF, 1);
    cct_line("trustCert", "ca", CONF, 2);
    cct_line("LOCALCERT", "second", CONF, 3);
    assert_string_equal(cc_last_line("localcert")->value, "second");
    assert_int_equal(cc_last_line("localCert")->where.line, 3);
    assert_string_equal(cc_last_line("trustCert")->value, "ca");
    assert_null(cc_last_line("peerCert"));
}

static void check_all_quietly(void)
{
    char *out = cct_report(0, 0, NULL);
    free(out);
}

/* agentuser gives the run user unless -u did; a comment is no user. */
static void run_user_from_agentuser(void **state)
{
    (void)state;
    cct_line("agentuser", "first", CONF, 1);
    cct_line("agentuser", "snmp", CONF, 2);
    cc_check_all();
    check_all_quietly();
    assert_string_equal(cc.run_user, "snmp");

    cct_reset();
    cc.run_user = "given";
    cct_line("agentuser", "snmp", CONF, 2);
    cc_check_all();
    check_all_quietly();
    assert_string_equal(cc.run_user, "given");

    cct_reset();
    cct_line("agentuser", "# none", CONF, 2);
    cc_check_all();
    check_all_quietly();
    assert_null(cc.run_user);
}

static void no_file_read(void **state)
{
    char *out;

    (void)state;
    cc_check_all();
    out = cct_report(0, 0, NULL);
    assert_non_null(strstr(out, "warning: no configuration file of snmpd was read\n"));
    free(out);

    cc.files = calloc(1, sizeof(*cc.files));
    cc.files[cc.n_files++] = cc_intern(CONF);
    cc_check_all();
    out = cct_report(0, 0, NULL);
    assert_null(strstr(out, "no configuration file"));
    free(out);
}

/* One line for each check: each reports. */
static void every_check_runs(void **state)
{
    char *out;

    (void)state;
    cct_line(dtlsudp_snmp_config_token_name(0), "1", CONF, 1);
    cct_line("agentaddress", "dtlsudp:10161", CONF, 2);
    cct_line("x509CRLFile", "/nonexistent/dtlsudp.crl", CONF, 3);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE, "/nonexistent/dtlsudp.crl");
    cc_check_all();
    out = cct_report(1, 0, NULL);
    assert_non_null(strstr(out, "\"kind\":\"token\",\"file\":\"" CONF "\",\"line\":1,"));
    assert_non_null(strstr(out, "\"kind\":\"address\",\"file\":\"" CONF "\",\"line\":2,"));
    assert_non_null(strstr(out, "\"kind\":\"certificate\",\"file\":null,\"line\":null,\"token\":\"localCert\""));
    assert_non_null(strstr(out, "\"kind\":\"crl\",\"file\":\"" CONF "\",\"line\":3,"));
    assert_non_null(strstr(out, "\"kind\":\"certSecName\""));
    free(out);
}

/* A fingerprint as Net-SNMP keeps it in a row: lower-case hex, no
 * colons. */
static void stored_fingerprint(const char *fp, char *out, size_t cap)
{
    size_t n = 0;

    for (; *fp != '\0' && n + 1 < cap; fp++)
        if (*fp != ':')
            out[n++] = (char)(*fp >= 'A' && *fp <= 'F' ? *fp + 32 : *fp);
    out[n] = '\0';
}

static void expect_row(const char *out, size_t i, const char *severity, const char *message)
{
    char row[256], fp[200], needle[1024];

    row_text(i, row, sizeof(row));
    *strrchr(row, ' ') = '\0';
    if (strchr(rows[i].map, ' ') != NULL) /* "--sn admin" */
        *strrchr(row, ' ') = '\0';
    stored_fingerprint(strchr(row, ' ') + 1, fp, sizeof(fp));
    snprintf(needle, sizeof(needle),
             "{\"severity\":\"%s\",\"kind\":\"certSecName\",\"file\":\"" CONF "\",\"line\":%zu,"
             "\"token\":\"certSecName\",\"value\":\"%s %s\",\"message\":\"%s",
             severity, i + 1, rows[i].priority, fp, message);
    if (strstr(out, needle) == NULL)
        fail_msg("not in the report: %s", needle);
}

static void certsecname_rows(void **state)
{
    char row[256], msg[512], *out;
    size_t i, errors;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        row_text(i, row, sizeof(row));
        cct_line("certSecName", row, CONF, (int)i + 1);
    }
    cct_line("agentaddress", "dtlsudp:10161", CONF, 9);
    cc.plugin_loaded = 1;
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_LOCAL_CERT, "server");
    cc.files = calloc(1, sizeof(*cc.files));
    cc.files[cc.n_files++] = cc_intern(CONF);
    cc_check_all();
    out = cct_report(1, 0, &errors);
    assert_int_equal(errors, 0);
    snprintf(msg, sizeof(msg),
             "clients whose verified chain includes CA %s/tls/ca-certs/ca.crt (CN = dtlsudp test CA) -> securityName "
             "--cn: its subject CommonName",
             dir);
    expect_row(out, 0, "ok", msg);
    snprintf(msg, sizeof(msg),
             "the client certificate %s/tls/certs/server.crt (CN = server.example.com) -> securityName 'admin'",
             dir);
    expect_row(out, 1, "ok", msg);
    snprintf(msg, sizeof(msg),
             "the client certificate %s/tls/certs/server.crt (CN = server.example.com) -> securityName "
             "'server.example.com'",
             dir);
    expect_row(out, 2, "ok", msg);
    expect_row(out, 3, "info", "no certificate here has this fingerprint");
    assert_non_null(strstr(out, "\"securityName\":\"'admin'\""));
    assert_null(strstr(out, "no rows"));
    free(out);
}

static void free_row(void *data, void *context)
{
    (void)context;
    netsnmp_cert_map_free(data);
}

/* Last: the rows are dropped.  An agent serving dtlsudp refuses every
 * client; a manager, or an agent without our addresses, does not care. */
static void no_rows(void **state)
{
    size_t errors;
    char *out;

    (void)state;
    CONTAINER_CLEAR(netsnmp_cert_map_container(), free_row, NULL);
    cct_line("agentaddress", "udp:161", CONF, 2);
    cc_check_all();
    out = cct_report(0, 0, &errors);
    assert_null(strstr(out, "no rows"));
    free(out);

    cct_line("agentaddress", "dtlsudp:10161", CONF, 3);
    cc_check_all();
    out = cct_report(1, 0, &errors);
    assert_non_null(strstr(out, "\"severity\":\"error\",\"kind\":\"certSecName\",\"file\":null,\"line\":null,"));
    assert_non_null(strstr(out, "no rows: every client is refused, since RFC 6353 5.3.2 needs a securityName"));
    free(out);

    cc.is_agent = 0;
    cc_check_all();
    out = cct_report(0, 0, &errors);
    assert_null(strstr(out, "no rows"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(last_line_of_a_token, reset),
        cmocka_unit_test_setup(run_user_from_agentuser, reset),
        cmocka_unit_test_setup(no_file_read, reset),
        cmocka_unit_test_setup(every_check_runs, reset),
        cmocka_unit_test_setup(certsecname_rows, reset),
        cmocka_unit_test_setup(no_rows, reset),
    };
    return cmocka_run_group_tests(tests, make_store, remove_store);
}
