/*
 * checks.c - what snmpd (or a manager) will make of the lines main.c
 * recorded.  Every finding names the token, the value, the file and line,
 * and the fix.  Certificates are resolved by the transport's own lookup
 * (certfind.c: Net-SNMP's store, fingerprints of any hash), so what is
 * reported here is what the transport will load.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <config.h>

#include "checkconf.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "snmp_internal.h"

#include <net-snmp/library/cert_util.h>

/* ------------------------------------------------------------------
 * Shared by the checks
 * ------------------------------------------------------------------ */

/* The last line of `token' (Net-SNMP keeps the last value). */
const cc_line *cc_last_line(const char *token)
{
    const cc_line *found = NULL;
    size_t i;

    for (i = 0; i < cc.n_lines; i++)
        if (strcasecmp(cc.lines[i].token, token) == 0)
            found = &cc.lines[i];
    return found;
}

/* ------------------------------------------------------------------
 * certSecName
 * ------------------------------------------------------------------ */

static const char *map_text(int type)
{
    switch (type) {
    case TSNM_tlstmCertSpecified:
        return "--sn";
    case TSNM_tlstmCertSANRFC822Name:
        return "--rfc822: its rfc822Name (e-mail) subjectAltName";
    case TSNM_tlstmCertSANDNSName:
        return "--dns: its dNSName subjectAltName";
    case TSNM_tlstmCertSANIpAddress:
        return "--ip: its iPAddress subjectAltName";
    case TSNM_tlstmCertSANAny:
        return "--any: its first rfc822Name, dNSName or iPAddress subjectAltName";
    case TSNM_tlstmCertCommonName:
        return "--cn: its subject CommonName";
    default:
        return "an unknown map type";
    }
}

static void check_secname_rows(void)
{
    netsnmp_container *rows = netsnmp_cert_map_container();
    netsnmp_iterator *it;
    netsnmp_cert_map *row;
    size_t i, n = 0;

    if (rows != NULL && (it = CONTAINER_ITERATOR(rows)) != NULL) {
        for (row = ITERATOR_FIRST(it); row != NULL; row = ITERATOR_NEXT(it)) {
            const cc_where *w = NULL;
            char prio[32], word[32], value[600], subject[512] = "", cn[256] = "";
            netsnmp_cert *c;
            int is_ca = 0;
            cc_finding *f;

            n++;
            snprintf(prio, sizeof(prio), "%d", row->priority);
            for (i = 0; i < cc.n_lines; i++) {
                cc_first_word(cc.lines[i].value, word, sizeof(word));
                if (strcasecmp(cc.lines[i].token, "certSecName") == 0 && strcmp(word, prio) == 0)
                    w = &cc.lines[i].where;
            }
            snprintf(value, sizeof(value), "%d %s", row->priority, row->fingerprint != NULL ? row->fingerprint : "");
            c = dtlsudp_snmp_cert_find(NS_CERT_CA, row->fingerprint);
            if (c == NULL)
                c = dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, row->fingerprint);
            if (c == NULL)
                c = dtlsudp_snmp_cert_find(NS_CERT_IDENTITY, row->fingerprint);
            if (c == NULL || c->ocert == NULL) {
                f = cc_add(CC_INFO, "certSecName", w, "certSecName", value, NULL,
                           "no certificate here has this fingerprint: the row maps a client whose certificate "
                           "(or a CA of its verified chain) has it, securityName from %s%s%s",
                           map_text(row->mapType), row->mapType == TSNM_tlstmCertSpecified ? " " : "",
                           row->mapType == TSNM_tlstmCertSpecified && row->data ? row->data : "");
                continue;
            }
            cc_subject_text(c->ocert, subject, sizeof(subject));
            is_ca = X509_check_ca(c->ocert) > 0;
            if (row->mapType == TSNM_tlstmCertSpecified)
                snprintf(cn, sizeof(cn), "'%s'", row->data != NULL ? row->data : "");
            else if (row->mapType == TSNM_tlstmCertCommonName && !is_ca &&
                     X509_NAME_get_text_by_NID(X509_get_subject_name(c->ocert), NID_commonName, cn + 1,
                                               sizeof(cn) - 2) > 0) {
                cn[0] = '\'';
                strcat(cn, "'");
            }
            f = cc_add(CC_OK, "certSecName", w, "certSecName", value, NULL,
                       "%s %s/%s (%s) -> securityName %s", is_ca ? "clients whose verified chain includes CA"
                                                                 : "the client certificate",
                       c->info.dir, c->info.filename, subject, cn[0] ? cn : map_text(row->mapType));
            cc_set(f, "map", map_text(row->mapType));
            if (cn[0])
                cc_set(f, "securityName", cn);
        }
        ITERATOR_RELEASE(it);
    }
    if (n == 0 && cc.is_agent && cc_serves_dtlsudp())
        cc_add(CC_ERROR, "certSecName", NULL, "certSecName", NULL,
               "certSecName 10 FINGERPRINT --cn (or --sn NAME; a CA's fingerprint maps every client it vouches "
               "for)",
               "no rows: every client is refused, since RFC 6353 5.3.2 needs a securityName for each");
}

void cc_check_all(void)
{
    const cc_line *user = cc_last_line("agentuser");

    /* snmpd switches to agentuser (or -u) after opening its listeners. */
    if (cc.run_user == NULL && user != NULL && user->value[0] != '\0' && user->value[0] != '#')
        cc.run_user = user->value;
    if (cc.n_files == 0)
        cc_add(CC_WARNING, "config", NULL, NULL, NULL,
               "check the path and the permissions (snmpd.conf is often readable by root only), or give -c FILE",
               "no configuration file of %s was read", cc.app);
    cc_check_token_order();
    cc_check_addresses();
    cc_check_certificates();
    check_secname_rows();
    cc_check_crl();
}
