/*
 * tlstmrows.c - snmpTlstmParams and snmpTlstmAddr rows by a fingerprint of
 * any hash.
 *
 * snmpd sends a notification to an SNMP-TARGET-MIB target over dtlsudp
 * with the certificates those rows name (RFC 6353 section 7,
 * snmpTlstmParamsClientFingerprint and snmpTlstmAddrServerFingerprint).
 * Net-SNMP's notification code (agent/mibgroup/target/target.c) looks each
 * row's fingerprint up in its certificate store and hands the transport
 * the certificate only when the store finds it; the store indexes a
 * certificate by the fingerprint of its signature's hash alone.  A row
 * written with the SHA-1 fingerprint net-snmp-cert prints would therefore
 * name no certificate: the target would go out with the default identity
 * and, worse, without the server pin the operator wrote.
 *
 * So after every configuration read each row's fingerprint is resolved
 * like the other certificate tokens (certfind.c).  A row naming a stored
 * certificate by another hash is rewritten to the store's own fingerprint
 * of it (same certificate, the hash the store indexes), which the
 * notification code then finds.  A row that names no stored certificate
 * is reported with what it means and how to fix it.  The same pass reports
 * the rows (certSecName included) whose fingerprint has no hash's length:
 * lines above the plugin's dlmod line escape fpcheck.c.
 */
#include <config.h>

#include "snmp_internal.h"
#include "snmp_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/library/cert_util.h>

typedef struct row_ref {
    const char *token; /* the configuration token that made the row */
    const char *name;
    char **fingerprint;
    int what; /* NS_CERT_IDENTITY or NS_CERT_REMOTE_PEER */
} row_ref;

/* 1 when text (Net-SNMP keeps it lowercased, colons stripped) is the
 * store's own key of a certificate. */
static int store_has(int what, const char *text)
{
    return netsnmp_cert_find(what, NS_CERTKEY_FINGERPRINT, (void *)text) != NULL;
}

/* 1 when the row's fingerprint has a hash's length.  A line above the
 * plugin's dlmod line was parsed before fpcheck.c could wrap the token, so
 * a mistyped fingerprint reaches the table: report it here (without the
 * line number, which is gone by now). */
static int length_ok(const char *token, const char *name, const char *text)
{
    size_t bytes;

    if (dtlsudp_snmp_fingerprint_word_check(text, strlen(text), &bytes) == 0)
        return 1;
    snmp_log(LOG_ERR,
             "dtlsudp: %s %s: %s is a fingerprint of %zu bytes, which is no hash's length (SHA-1 20, "
             "SHA-224 28, SHA-256 32, SHA-384 48, SHA-512 64); the row matches no certificate (fix the "
             "fingerprint; lines after the dlmod line are checked as they are read)\n",
             token, name, text, bytes);
    return 0;
}

/* What a row whose fingerprint names no stored certificate means for
 * the notifications of its target, and the fix, by the row's kind. */
static const char *unstored_consequence_and_fix(int what)
{
    if (what == NS_CERT_REMOTE_PEER)
        return "snmpd passes a target's server fingerprint to the transport only for a stored "
               "certificate, so notifications to this target are not pinned to it: copy the "
               "server's certificate into tls/certs";
    return "notifications for this target use the default identity: copy the certificate "
           "and its key into tls/certs and tls/private";
}

/* Resolves one row; returns 1 when it was rewritten. */
static int resolve(const row_ref *r, u_char *hash_type)
{
    netsnmp_cert *c;
    char *native;
    dtlsudp_fingerprint fp;

    if (*r->fingerprint == NULL || (*r->fingerprint)[0] == '\0' || store_has(r->what, *r->fingerprint) ||
        !length_ok(r->token, r->name, *r->fingerprint))
        return 0;
    if (dtlsudp_snmp_fingerprint_text(*r->fingerprint, &fp) != 0) {
        snmp_log(LOG_ERR,
                 "dtlsudp: %s %s: '%s' is not a SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512 "
                 "fingerprint; the row names no certificate (fix the fingerprint: net-snmp-cert "
                 "showcerts --fingerprint prints SHA-1)\n",
                 r->token, r->name, *r->fingerprint);
        return 0;
    }
    if ((c = dtlsudp_snmp_cert_find(r->what, *r->fingerprint)) == NULL || c->fingerprint == NULL) {
        snmp_log(LOG_ERR, "dtlsudp: %s %s: no certificate in the store (tls/certs) has fingerprint %s; %s\n",
                 r->token, r->name, *r->fingerprint, unstored_consequence_and_fix(r->what));
        return 0;
    }
    if ((native = strdup(c->fingerprint)) == NULL)
        return 0;
    DEBUGMSGTL(("dtlsudp:cert", "%s %s: %s is the store's %s\n", r->token, r->name, *r->fingerprint, native));
    free(*r->fingerprint);
    *r->fingerprint = native;
    *hash_type = c->hash_type;
    return 1;
}

/* One row of each table: returns 1 when the row was rewritten. */
static int map_row(void *row)
{
    netsnmp_cert_map *m = row;
    char priority[16];

    /* certSecName rows are matched by secname.c with any hash already;
     * only their length needs a look. */
    snprintf(priority, sizeof(priority), "%d", m->priority);
    if (m->fingerprint != NULL)
        (void)length_ok("certSecName", priority, m->fingerprint);
    return 0;
}

static int params_row(void *row)
{
    snmpTlstmParams *p = row;
    row_ref r = {"snmpTlstmParams", p->name, &p->fingerprint, NS_CERT_IDENTITY};
    u_char hash = (u_char)p->hashType;

    if (!resolve(&r, &hash))
        return 0;
    p->hashType = (char)hash;
    p->fingerprint_len = (u_char)strlen(p->fingerprint);
    return 1;
}

static int addr_row(void *row)
{
    snmpTlstmAddr *a = row;
    row_ref r = {"snmpTlstmAddr", a->name, &a->fingerprint, NS_CERT_REMOTE_PEER};

    return resolve(&r, &a->hashType);
}

static int each_row(netsnmp_container *c, int (*visit)(void *row))
{
    netsnmp_iterator *it;
    void *row;
    int n = 0;

    if (c == NULL || (it = CONTAINER_ITERATOR(c)) == NULL)
        return 0;
    for (row = ITERATOR_FIRST(it); row != NULL; row = ITERATOR_NEXT(it))
        n += visit(row);
    ITERATOR_RELEASE(it);
    return n;
}

int dtlsudp_snmp_tlstm_rows_resolve(void)
{
    return each_row(netsnmp_cert_map_container(), map_row) + each_row(netsnmp_tlstmParams_container(), params_row) +
           each_row(netsnmp_tlstmAddr_container(), addr_row);
}

static int after_read_config(int major, int minor, void *server_arg, void *client_arg)
{
    (void)major;
    (void)minor;
    (void)server_arg;
    (void)client_arg;
    /* The store may have been reread (SIGHUP): fingerprints afresh. */
    dtlsudp_snmp_cert_index_reset();
    (void)dtlsudp_snmp_tlstm_rows_resolve();
    return SNMPERR_SUCCESS;
}

void dtlsudp_snmp_tlstm_rows_install(void)
{
    static int registered;

    if (!registered && snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_POST_READ_CONFIG,
                                              after_read_config, NULL) == SNMPERR_SUCCESS)
        registered = 1;
}
