/*
 * hostname.c - does a server certificate name the host a manager expected
 * (RFC 6353 5.3.1 step 1b, snmpTlstmAddrServerIdentity / -T their_hostname)?
 *
 * A literal name or address is checked as TLS does (X509_check_host:
 * dNSName subjectAltNames, the CommonName only when there are none,
 * wildcards in the certificate; X509_check_ip_asc for addresses).
 *
 * A configured name "*.rest" is Net-SNMP's wildcard (snmpTLSBaseDomain.c,
 * netsnmp_tlsbase_verify_server_cert): it stands for exactly one label.  A
 * dNSName subjectAltName, and also the CommonName, matches when what follows
 * its first label equals "rest": "*.b.example.com" matches a.b.example.com
 * but neither b.example.com nor x.a.b.example.com.  Unlike Net-SNMP, the
 * comparison ignores case on both sides (DNS names are case-insensitive; it
 * lower-cases only the certificate's side) and the first label must not be
 * empty (".b.example.com" matches nothing).
 */
#include <config.h>

#include "snmp_internal.h"

#include <string.h>
#include <strings.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* "label.rest" with a non-empty label and rest == want (ignoring case). */
static int one_label_then(const char *name, size_t len, const char *want)
{
    const char *dot = memchr(name, '.', len);
    size_t rest_len;

    if (dot == NULL || dot == name)
        return 0;
    rest_len = len - (size_t)(dot + 1 - name);
    return rest_len == strlen(want) && rest_len > 0 && strncasecmp(dot + 1, want, rest_len) == 0;
}

static int wildcard_matches(X509 *cert, const char *rest)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    char cn[256];
    int i, n, found = 0;

    for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names) && !found; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type != GEN_DNS)
            continue;
        /* An embedded NUL would let "a.b.example.com\0.evil" pass: compare
         * the whole length. */
        found = one_label_then((const char *)ASN1_STRING_get0_data(g->d.dNSName),
                               (size_t)ASN1_STRING_length(g->d.dNSName), rest);
    }
    GENERAL_NAMES_free(names);
    if (found)
        return 1;
    n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
    return n > 0 && (size_t)n == strlen(cn) && one_label_then(cn, (size_t)n, rest);
}

int dtlsudp_snmp_host_matches(X509 *cert, const char *expected)
{
    if (cert == NULL || expected == NULL || expected[0] == '\0')
        return 0;
    if (strncmp(expected, "*.", 2) == 0)
        return strchr(expected + 2, '*') == NULL && expected[2] != '\0' && wildcard_matches(cert, expected + 2);
    if (X509_check_ip_asc(cert, expected, 0) == 1)
        return 1;
    return X509_check_host(cert, expected, 0, 0, NULL) == 1;
}
