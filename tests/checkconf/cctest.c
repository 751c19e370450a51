/*
 * cctest.c - helpers of the transport/checkconf tests (cctest.h).
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

#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "snmp_internal.h"

#include <net-snmp/library/cert_util.h>

void cct_reset(void)
{
    size_t i;

    cc_report_clear();
    for (i = 0; i < cc.n_lines; i++) {
        free(cc.lines[i].token);
        free(cc.lines[i].value);
    }
    free(cc.lines);
    free(cc.files);
    memset(&cc, 0, sizeof(cc));
    cc.app = "snmpd";
    cc.is_agent = 1;
}

cc_line *cct_line(const char *token, const char *value, const char *file, int line)
{
    cc_line *n = realloc(cc.lines, (cc.n_lines + 1) * sizeof(*n)), *l;

    assert_non_null(n);
    cc.lines = n;
    cc.cap_lines = cc.n_lines + 1;
    l = &cc.lines[cc.n_lines++];
    l->token = strdup(token);
    l->value = strdup(value);
    l->where.file = cc_intern(file);
    l->where.line = line;
    l->plugin_loaded = cc.plugin_loaded;
    return l;
}

char *cct_capture(void (*fn)(void *), void *arg)
{
    FILE *tmp = tmpfile();
    int saved;
    long len;
    char *text;

    assert_non_null(tmp);
    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
    fn(arg);
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    len = ftell(tmp);
    assert_true(len >= 0);
    text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    rewind(tmp);
    assert_int_equal(fread(text, 1, (size_t)len, tmp), (size_t)len);
    fclose(tmp);
    return text;
}

struct report_call {
    int json, quiet;
    size_t errors;
};

static void call_report(void *arg)
{
    struct report_call *c = arg;
    c->errors = cc_report(c->json, c->quiet);
}

char *cct_report(int json, int quiet, size_t *errors)
{
    struct report_call c = {json, quiet, 0};
    char *text = cct_capture(call_report, &c);

    cc_report_clear();
    if (errors != NULL)
        *errors = c.errors;
    return text;
}

int cct_count(const char *text, const char *needle)
{
    int n = 0;

    for (text = strstr(text, needle); text != NULL; text = strstr(text + 1, needle))
        n++;
    return n;
}

void cct_tmpdir(char *buf, size_t cap, const char *what)
{
    snprintf(buf, cap, "/tmp/dtlsudp-test-%s-XXXXXX", what);
    assert_non_null(mkdtemp(buf));
}

void cct_rmdir(const char *dir)
{
    char cmd[1024];

    if (dir == NULL || strncmp(dir, "/tmp/dtlsudp-test-", 18) != 0)
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

const char *cct_write(const char *dir, const char *name, const char *text, char *buf, size_t cap)
{
    char cmd[1200];
    const char *slash = strrchr(name, '/');
    FILE *f;

    if (slash != NULL) {
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%.*s'", dir, (int)(slash - name), name);
        assert_int_equal(system(cmd), 0);
    }
    snprintf(buf, cap, "%s/%s", dir, name);
    f = fopen(buf, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* ------------------------------------------------------------------
 * The certificate store
 * ------------------------------------------------------------------ */

#define DAY (24L * 3600L)

static struct {
    const char *name;
    tc_pair pair;
} store[6];

/* p with a notAfter `days' from now, issued again by issuer (itself when
 * NULL). */
static tc_pair renewed(const tc_pair *p, const tc_pair *issuer, long days)
{
    tc_pair r = {X509_dup(p->cert), p->key};

    assert_non_null(r.cert);
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(r.cert), days * DAY));
    if (issuer != NULL)
        assert_true(X509_set_issuer_name(r.cert, X509_get_subject_name(issuer->cert)));
    assert_true(X509_sign(r.cert, issuer != NULL ? issuer->key : p->key, EVP_sha256()) > 0);
    return r;
}

static void store_write(const char *dir, const char *name, const tc_pair *p, const char *sub, int key_mode)
{
    char crt[512], key[512];

    snprintf(crt, sizeof(crt), "%s/tls/%s/%s.crt", dir, sub, name);
    snprintf(key, sizeof(key), "%s/tls/private/%s.key", dir, name);
    assert_int_equal(tc_write_pem(p, crt, key_mode != 0 ? key : NULL), 0);
    if (key_mode != 0)
        assert_int_equal(chmod(key, (mode_t)key_mode), 0);
}

void cct_store_write(const char *dir)
{
    const testcerts *tc = tc_get();
    char cmd[600];

    if (store[0].name == NULL) {
        store[0].name = "ca";
        store[0].pair = renewed(&tc->ca, NULL, 400);
        store[1].name = "server";
        store[1].pair = renewed(&tc->server, &store[0].pair, 400);
        store[2].name = "soon";
        store[2].pair = renewed(&tc->client, &store[0].pair, 10);
        store[3].name = "expired";
        store[3].pair = tc->expired_client;
        store[4].name = "loose";
        store[4].pair = renewed(&tc->client2, &store[0].pair, 400);
        store[5].name = "nokey";
        store[5].pair = renewed(&tc->wrong_client, &store[0].pair, 400);
    }
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s/tls/certs' '%s/tls/ca-certs' '%s/tls/private'", dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    store_write(dir, "ca", &store[0].pair, "ca-certs", 0);
    store_write(dir, "server", &store[1].pair, "certs", 0600);
    store_write(dir, "soon", &store[2].pair, "certs", 0600);
    store_write(dir, "expired", &store[3].pair, "certs", 0600);
    store_write(dir, "loose", &store[4].pair, "certs", 0644);
    store_write(dir, "nokey", &store[5].pair, "certs", 0);
}

void cct_store_read(const char *dir, const char *app, const char *snmp_conf, const char *app_conf)
{
    char path[512], name[128];

    if (snmp_conf != NULL)
        cct_write(dir, "snmp.conf", snmp_conf, path, sizeof(path));
    if (app_conf != NULL) {
        snprintf(name, sizeof(name), "%s.conf", app);
        cct_write(dir, name, app_conf, path, sizeof(path));
    }
    setenv("SNMPCONFPATH", dir, 1);
    setenv("SNMP_PERSISTENT_DIR", dir, 1);
    setenv("MIBS", "", 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    snmp_disable_stderrlog();
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_APPTYPE, app);
    netsnmp_container_init_list();
    netsnmp_certs_agent_init();
    init_snmp(app);
}

void cct_store_init(const char *dir, const char *app, const char *snmp_conf, const char *app_conf)
{
    cct_store_write(dir);
    cct_store_read(dir, app, snmp_conf, app_conf);
}

const tc_pair *cct_store_pair(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(store) / sizeof(store[0]); i++)
        if (store[i].name != NULL && strcmp(store[i].name, name) == 0)
            return &store[i].pair;
    fail_msg("no store certificate %s", name);
    return NULL;
}

void cct_fingerprint(X509 *x, char *out, size_t cap)
{
    dtlsudp_fingerprint fp;

    assert_int_equal(dtlsudp_fingerprint_of(x, 32, &fp), DTLSUDP_OK);
    assert_int_equal(dtlsudp_fingerprint_format(&fp, out, cap), DTLSUDP_OK);
}
