/*
 * secname.c - certificate to securityName mapping (RFC 6353 5.3.2 and the
 * DESCRIPTION of snmpTlstmCertToTSNTable), over Net-SNMP's certSecName
 * rows (netsnmp_cert_map_container()).
 *
 * Beyond Net-SNMP 5.9.3: a row's fingerprint may use any hash, whatever the
 * certificate's signature algorithm (net-snmp#75, #232): the number of hex
 * digits implies the hash, and every certificate of the authenticated chain
 * (the path OpenSSL verified, or the pinned leaf alone; never a certificate
 * the peer merely appended) is hashed with it.  The CommonName map type
 * reads the presented (leaf) certificate, as the MIB says.
 */
#include <config.h>

#include "hashalg.h"
#include "snmp_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <net-snmp/library/cert_util.h>

/* RFC 6353: "tmSecurityName ... SnmpAdminString (SIZE(1..32))". */
#define SECNAME_MAX 32
#define MAX_CANDIDATES 64
#define MAX_CHAIN 16

int dtlsudp_snmp_row_fingerprint(const char *text, dtlsudp_fingerprint *out)
{
    char octet[3];
    long hash;

    if (text == NULL)
        return -1;
    if (dtlsudp_fingerprint_parse(text, out) == DTLSUDP_OK)
        return 0;
    if (!isxdigit((unsigned char)text[0]) || !isxdigit((unsigned char)text[1]))
        return -1;
    octet[0] = text[0];
    octet[1] = text[1];
    octet[2] = '\0';
    hash = strtol(octet, NULL, 16);
    text += text[2] == ':' ? 3 : 2;
    if (dtlsudp_snmp_hash_length(hash) == 0)
        return -1;
    if (dtlsudp_fingerprint_parse(text, out) != DTLSUDP_OK)
        return -1;
    /* The octet must name the hash the digest's length implies (RFC 6353
     * 10, SnmpTLSFingerprint): "01" before 32 octets is no fingerprint. */
    return out->len == dtlsudp_snmp_hash_length(hash) ? 0 : -1;
}

typedef struct candidate {
    int priority;
    netsnmp_cert_map *row;
    X509 *matched; /* the chain certificate the row's fingerprint names */
} candidate;

static int by_priority(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    return (x->priority > y->priority) - (x->priority < y->priority);
}

/* The name one row yields for this leaf, malloc()ed, or NULL. */
static char *row_name(const candidate *c, X509 *leaf)
{
    char cn[256];
    netsnmp_cert_map row, peer;

    switch (c->row->mapType) {
    case TSNM_tlstmCertSpecified:
        return c->row->data != NULL ? strdup(c->row->data) : NULL;
    case TSNM_tlstmCertCommonName:
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof(cn)) <= 0)
            return NULL;
        return strdup(cn);
    case TSNM_tlstmCertSANRFC822Name:
    case TSNM_tlstmCertSANDNSName:
    case TSNM_tlstmCertSANIpAddress:
    case TSNM_tlstmCertSANAny:
        /* Net-SNMP's own SAN extraction (lower-casing, IP text form). */
        memset(&row, 0, sizeof(row));
        memset(&peer, 0, sizeof(peer));
        row.priority = c->row->priority;
        row.mapType = c->row->mapType;
        row.data = c->row->data;
        row.ocert = c->matched;
        peer.ocert = leaf;
        peer.fingerprint = (char *)"";
        return netsnmp_openssl_extract_secname(&row, &peer);
    default:
        return NULL;
    }
}

int dtlsudp_snmp_secname_map(X509 *leaf, STACK_OF(X509) * chain, char *out, size_t cap, const char **why)
{
    netsnmp_container *rows = netsnmp_cert_map_container();
    netsnmp_iterator *it = NULL;
    netsnmp_cert_map *row;
    candidate cand[MAX_CANDIDATES];
    X509 *certs[MAX_CHAIN];
    dtlsudp_fingerprint have[MAX_CHAIN]; /* certs[k]'s digest of the length last asked, len 0 = none */
    size_t ncand = 0, ncerts = 0, i;
    int ret = -1;

    *why = "no certSecName row matches the certificate or its chain";
    if (leaf == NULL) {
        *why = "the peer sent no certificate";
        return -1;
    }
    if (rows == NULL || CONTAINER_SIZE(rows) == 0) {
        *why = "no certSecName rows are configured";
        return -1;
    }

    /* The leaf first, then the rest of the authenticated chain (which
     * holds the leaf too: it is skipped). */
    certs[ncerts++] = leaf;
    for (i = 0; chain != NULL && i < (size_t)sk_X509_num(chain) && ncerts < MAX_CHAIN; i++) {
        X509 *c = sk_X509_value(chain, (int)i);
        if (X509_cmp(c, leaf) != 0)
            certs[ncerts++] = c;
    }

    memset(have, 0, sizeof(have));
    it = CONTAINER_ITERATOR(rows);
    if (it == NULL) {
        *why = "out of memory";
        return -1;
    }
    for (row = ITERATOR_FIRST(it); row != NULL && ncand < MAX_CANDIDATES; row = ITERATOR_NEXT(it)) {
        dtlsudp_fingerprint fp;
        size_t k;

        if (dtlsudp_snmp_row_fingerprint(row->fingerprint, &fp) != 0)
            continue;
        for (k = 0; k < ncerts; k++) {
            /* Rows mostly share one hash: each certificate is digested
             * once per mapping, not once per row. */
            if (have[k].len != fp.len && dtlsudp_fingerprint_of(certs[k], fp.len, &have[k]) != DTLSUDP_OK)
                continue;
            if (CRYPTO_memcmp(have[k].bytes, fp.bytes, fp.len) == 0) {
                cand[ncand].priority = row->priority;
                cand[ncand].row = row;
                cand[ncand].matched = certs[k];
                ncand++;
                break;
            }
        }
    }
    ITERATOR_RELEASE(it);

    /* Rows are considered in ascending snmpTlstmCertToTSNID order; a row
     * whose map type yields nothing passes to the next one (MIB text). */
    qsort(cand, ncand, sizeof(cand[0]), by_priority);
    for (i = 0; i < ncand; i++) {
        char *name = row_name(&cand[i], leaf);
        size_t len;

        if (name == NULL) {
            *why = "a certSecName row matched but its map type yields no name";
            continue;
        }
        len = strlen(name);
        if (len == 0 || len > SECNAME_MAX || len >= cap) {
            *why = "the mapped securityName is empty or longer than 32 characters";
            free(name);
            continue;
        }
        memcpy(out, name, len + 1);
        free(name);
        ret = 0;
        break;
    }
    return ret;
}
