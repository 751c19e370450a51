/*
 * secname.c - certificate to securityName mapping (RFC 6353 5.3.2 and the
 * DESCRIPTION of snmpTlstmCertToTSNTable), over Net-SNMP's certSecName
 * rows (netsnmp_cert_map_container()).
 *
 * Beyond Net-SNMP 5.9.3: a row's fingerprint may use any hash, whatever the
 * certificate's signature algorithm (net-snmp#75, #232): the number of hex
 * digits implies the hash, and every certificate of the presented chain is
 * hashed with it.  The CommonName map type reads the presented (leaf)
 * certificate, as the MIB says.
 */
#include <config.h>

#include "snmp_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <net-snmp/library/cert_util.h>

/* RFC 6353: "tmSecurityName ... SnmpAdminString (SIZE(1..32))". */
#define SECNAME_MAX 32
#define MAX_CANDIDATES 64
#define MAX_CHAIN 16

/* The digest implied by a binary fingerprint length. */
static const EVP_MD *md_for_len(size_t len)
{
    switch (len) {
    case 16:
        return EVP_md5();
    case 20:
        return EVP_sha1();
    case 28:
        return EVP_sha224();
    case 32:
        return EVP_sha256();
    case 48:
        return EVP_sha384();
    case 64:
        return EVP_sha512();
    default:
        return NULL;
    }
}

/* Parse a row's hex fingerprint (colons allowed).  A leading hash octet
 * (the SnmpTLSFingerprint encoding, RFC 6353 10) is dropped when it names
 * the hash the remaining length implies.  Returns 0 or -1. */
static int row_fingerprint(const char *text, uint8_t *out, size_t *len)
{
    size_t n = 0;
    int hi = -1;

    for (; text != NULL && *text != '\0'; text++) {
        int v;
        if (*text == ':' || *text == ' ')
            continue;
        if (!isxdigit((unsigned char)*text))
            return -1;
        v = isdigit((unsigned char)*text) ? *text - '0' : tolower((unsigned char)*text) - 'a' + 10;
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n == 65)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    if (hi >= 0 || n == 0)
        return -1;
    if (md_for_len(n) == NULL && n > 1 && md_for_len(n - 1) != NULL && out[0] >= NS_HASH_MD5 &&
        out[0] <= NS_HASH_SHA512) {
        memmove(out, out + 1, n - 1);
        n--;
    }
    if (md_for_len(n) == NULL)
        return -1;
    *len = n;
    return 0;
}

static int cert_matches(X509 *cert, const uint8_t *fp, size_t len)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    const EVP_MD *type = md_for_len(len);

    if (type == NULL || !X509_digest(cert, type, md, &md_len))
        return 0;
    return md_len == len && memcmp(md, fp, len) == 0;
}

void dtlsudp_snmp_cert_fp_text(X509 *cert, char *buf, size_t cap)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0, i;
    size_t pos = 0;

    if (cap == 0)
        return;
    buf[0] = '\0';
    if (cert == NULL || !X509_digest(cert, EVP_sha256(), md, &md_len))
        return;
    for (i = 0; i < md_len && pos + 4 <= cap; i++)
        pos += (size_t)snprintf(buf + pos, cap - pos, "%s%02X", i ? ":" : "", md[i]);
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

    /* The presented certificate first, then the rest of the chain (on a
     * server, OpenSSL's peer chain omits the leaf; on a client it has it). */
    certs[ncerts++] = leaf;
    for (i = 0; chain != NULL && i < (size_t)sk_X509_num(chain) && ncerts < MAX_CHAIN; i++) {
        X509 *c = sk_X509_value(chain, (int)i);
        if (X509_cmp(c, leaf) != 0)
            certs[ncerts++] = c;
    }

    it = CONTAINER_ITERATOR(rows);
    if (it == NULL) {
        *why = "out of memory";
        return -1;
    }
    for (row = ITERATOR_FIRST(it); row != NULL && ncand < MAX_CANDIDATES; row = ITERATOR_NEXT(it)) {
        uint8_t fp[66];
        size_t fp_len, k;

        if (row_fingerprint(row->fingerprint, fp, &fp_len) != 0)
            continue;
        for (k = 0; k < ncerts; k++) {
            if (cert_matches(certs[k], fp, fp_len)) {
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

int dtlsudp_snmp_secname_leaf_known(X509 *leaf)
{
    netsnmp_container *rows = netsnmp_cert_map_container();
    netsnmp_iterator *it;
    netsnmp_cert_map *row;
    char *fp;
    int known = 0;

    if (leaf == NULL)
        return 0;
    if (rows != NULL && (it = CONTAINER_ITERATOR(rows)) != NULL) {
        for (row = ITERATOR_FIRST(it); row != NULL && !known; row = ITERATOR_NEXT(it)) {
            uint8_t bin[66];
            size_t len;
            if (row_fingerprint(row->fingerprint, bin, &len) == 0 && cert_matches(leaf, bin, len))
                known = 1;
        }
        ITERATOR_RELEASE(it);
    }
    if (!known && (fp = netsnmp_openssl_cert_get_fingerprint(leaf, -1)) != NULL) {
        known = netsnmp_cert_find(NS_CERT_REMOTE_PEER, NS_CERTKEY_FINGERPRINT, fp) != NULL;
        free(fp);
    }
    return known;
}
