/*
 * snmpstore.c - Net-SNMP's certificate store for the transport/snmp tests
 * (snmpstore.h).
 */
#include <config.h>

#include "snmpstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/cert_util.h>

#include "dtlsudp.h"

static char dir[] = "/tmp/dtlsudp-snmpstore.XXXXXX";
static char logged[16384];

const char *store_path(const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

int store_write(const char *name, const char *text)
{
    char path[512];
    FILE *f = fopen(store_path(name, path, sizeof(path)), "w");

    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -1;
}

int store_add(const tc_pair *p, const char *cert_name, const char *key_name)
{
    char name[256], cert_path[512], key_path[512];

    snprintf(name, sizeof(name), "tls/certs/%s.crt", cert_name);
    store_path(name, cert_path, sizeof(cert_path));
    if (key_name == NULL)
        return tc_write_pem(p, cert_path, NULL);
    snprintf(name, sizeof(name), "tls/private/%s.key", key_name);
    store_path(name, key_path, sizeof(key_path));
    if (tc_write_pem(p, cert_path, key_path) != 0)
        return -1;
    /* Net-SNMP ignores a key others can read. */
    return chmod(key_path, 0600);
}

void store_identity_files(const char *name, dtlsudp_engine_config *cfg)
{
    static char cert[512], key[512], ca[512];
    char rel[256];

    snprintf(rel, sizeof(rel), "tls/certs/%s.crt", name);
    cfg->cert_file = store_path(rel, cert, sizeof(cert));
    snprintf(rel, sizeof(rel), "tls/private/%s.key", name);
    cfg->key_file = store_path(rel, key, sizeof(key));
    cfg->ca_file = store_path("tls/ca-certs/ca.crt", ca, sizeof(ca));
}

static int make_dirs(void)
{
    static const struct {
        const char *name;
        mode_t mode;
    } dirs[] = {{"tls", 0755}, {"tls/certs", 0755}, {"tls/ca-certs", 0755}, {"tls/private", 0700}};
    char path[512];
    size_t i;

    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (mkdir(store_path(dirs[i].name, path, sizeof(path)), dirs[i].mode) != 0)
            return -1;
    return 0;
}

const char *store_make(void)
{
    const testcerts *tc = tc_get();
    char path[512];

    if (mkdtemp(dir) == NULL || make_dirs() != 0 ||
        tc_write_pem(&tc->ca, store_path("tls/ca-certs/ca.crt", path, sizeof(path)), NULL) != 0 ||
        store_add(&tc->server, "server", "server") != 0 || store_add(&tc->client, "client", "client") != 0 ||
        store_add(&tc->client2, "client2", NULL) != 0)
        return NULL;
    setenv("SNMPCONFPATH", dir, 1);
    setenv("SNMP_PERSISTENT_DIR", dir, 1);
    setenv("MIBS", "", 1);
    return dir;
}

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

void store_init_snmp(const char *app, int certs_agent)
{
    snmp_disable_stderrlog();
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, log_callback, NULL);
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
    /* (not NETSNMP_DS_LIB_DONT_PERSIST_STATE: it also stops every
     * configuration file from being read) */
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    /* As snmpd: alarms run from the loop (run_alarms), never from SIGALRM,
     * which would interrupt the tests' poll() and run transport code in a
     * signal handler. */
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
    if (certs_agent) {
        /* certSecName and the snmpTlstm tables, registered as snmpd
         * registers them (init_agent), for this application's file. */
        netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_APPTYPE, app);
        netsnmp_container_init_list();
        netsnmp_certs_agent_init();
    }
    init_snmp(app);
}

void store_remove(const char *app)
{
    char cmd[600];

    snmp_shutdown(app);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void)system(cmd);
    tc_free();
}

const char *store_log(void)
{
    return logged;
}

void store_log_clear(void)
{
    logged[0] = '\0';
}

const char *store_fingerprint(X509 *x, size_t hash_len, char *out, size_t cap)
{
    dtlsudp_fingerprint fp;

    out[0] = '\0';
    if (dtlsudp_fingerprint_of(x, hash_len, &fp) == DTLSUDP_OK)
        (void)dtlsudp_fingerprint_format(&fp, out, cap);
    return out;
}
