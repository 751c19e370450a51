/*
 * certfind.c - find a certificate of Net-SNMP's store by a fingerprint of
 * any hash.
 *
 * localCert, trustCert, peerCert, -T our_identity / their_identity /
 * trust_cert may name a certificate by fingerprint.  Net-SNMP 5.9.3 indexes
 * each certificate only by the fingerprint of its signature's hash (one
 * signed with sha512 is found only by its SHA-512 fingerprint), while
 * net-snmp-cert prints SHA-1 and operators use SHA-256.  So when Net-SNMP's
 * own lookup (fingerprint, file name) finds nothing and the text is a
 * fingerprint, it is compared with the SHA-1, SHA-224, SHA-256, SHA-384 and
 * SHA-512 fingerprints of every certificate under <confdir>/tls/{certs,
 * ca-certs} (the directories Net-SNMP scans), computed once per certificate
 * and again after dtlsudp_snmp_cert_index_reset() (SIGHUP); the match is
 * then fetched from the store by its native fingerprint, so keys, issuers
 * and allowed uses are Net-SNMP's.
 *
 * A file name is looked up the same way when Net-SNMP's lookup finds
 * nothing: its store keeps one entry per certificate, so a second file
 * holding the same certificate (the agent's certificate copied to a
 * manager's ~/.snmp/tls on the agent's own host, where root's tools also
 * read /etc/snmp/tls) is not in it under its own name.
 */
#include <config.h>

#include "hashalg.h"
#include "snmp_internal.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <net-snmp/library/cert_util.h>

#define INDEX_MAX 512 /* certificates; more are ignored (logged) */

#define N_HASHES DTLSUDP_SNMP_HASH_ALG_COUNT

typedef struct indexed_cert {
    char *native_fp; /* the store's key: the fingerprint in the signature's hash */
    char *stem;      /* the file name without its extension */
    dtlsudp_fingerprint fp[N_HASHES]; /* in the order of hashalg.h's table */
} indexed_cert;

static indexed_cert *index_certs;
static size_t index_len;
static int index_built;

void dtlsudp_snmp_cert_index_reset(void)
{
    size_t i;

    for (i = 0; i < index_len; i++) {
        free(index_certs[i].native_fp);
        free(index_certs[i].stem);
    }
    free(index_certs);
    index_certs = NULL;
    index_len = 0;
    index_built = 0;
}

/* The first certificate of a PEM file (PEM_read_bio_X509_AUX, as
 * Net-SNMP reads PEM), else of a DER file.  Net-SNMP tries DER first for
 * .crt, .cer and .der: for a file that parses both ways the two can differ,
 * so a caller that must have the store's certificate compares digests. */
X509 *dtlsudp_snmp_read_cert_file(const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    X509 *x = NULL;

    if (bio == NULL)
        return NULL;
    x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
    if (x == NULL && BIO_reset(bio) == 0)
        x = d2i_X509_bio(bio, NULL);
    BIO_free(bio);
    ERR_clear_error();
    return x;
}

/* x's fingerprints in every hash of hashalg.h's table but MD5: no
 * certificate is looked up by MD5 (SHA-1 to SHA-512, as this file's head
 * says), so its slot stays empty, of length 0, which no parsed fingerprint
 * has.  Returns 0 or -1. */
static int fingerprint_all(X509 *x, dtlsudp_fingerprint fp[N_HASHES])
{
    size_t i;

    for (i = 0; i < N_HASHES; i++)
        if (dtlsudp_snmp_hash_algs[i].id != DTLSUDP_SNMP_HASH_MD5 &&
            dtlsudp_fingerprint_of(x, dtlsudp_snmp_hash_algs[i].len, &fp[i]) != DTLSUDP_OK)
            return -1;
    return 0;
}

static void index_add(X509 *x, const char *file_name)
{
    const char *dot = strrchr(file_name, '.');
    indexed_cert *c;

    if (index_len == INDEX_MAX) {
        snmp_log(LOG_WARNING, "dtlsudp: more than %d certificates; the rest are found only by Net-SNMP's own "
                              "fingerprint\n", INDEX_MAX);
        return;
    }
    c = &index_certs[index_len];
    memset(c, 0, sizeof(*c));
    if ((c->native_fp = netsnmp_openssl_cert_get_fingerprint(x, -1)) == NULL)
        return;
    c->stem = strndup(file_name, dot != NULL && dot != file_name ? (size_t)(dot - file_name) : strlen(file_name));
    if (c->stem == NULL || fingerprint_all(x, c->fp) != 0) {
        free(c->native_fp);
        free(c->stem);
        return;
    }
    index_len++;
}

static void index_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[4096];
    struct stat st;
    X509 *x;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL && index_len < INDEX_MAX + 1) {
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
            continue;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if ((x = dtlsudp_snmp_read_cert_file(path)) != NULL) {
            index_add(x, de->d_name);
            X509_free(x);
        }
    }
    closedir(d);
}

int dtlsudp_snmp_cert_dirs_each(int with_keys, int (*fn)(const char *dir, void *arg), void *arg)
{
    const char *subdirs[] = {NULL, "ca-certs", "certs", "private"};
    const size_t n_subdirs = with_keys ? 4 : 3;
    const char *path = netsnmp_getenv("SNMPCONFPATH");
    char *copy, *dir, *save = NULL, certdir[4096];
    size_t i;
    int ret = 0, r;

    if (path == NULL)
        path = get_configuration_directory();
    if (path == NULL || (copy = strdup(path)) == NULL)
        return -1;
    subdirs[0] = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_CERT_EXTRA_SUBDIR);
    for (dir = strtok_r(copy, ENV_SEPARATOR, &save); dir != NULL; dir = strtok_r(NULL, ENV_SEPARATOR, &save))
        for (i = 0; i < n_subdirs; i++) {
            if (subdirs[i] == NULL)
                continue;
            if (snprintf(certdir, sizeof(certdir), "%s/tls/%s", dir, subdirs[i]) >= (int)sizeof(certdir)) {
                ret = -1; /* not visited: the caller learns of it */
                continue;
            }
            if ((r = fn(certdir, arg)) != 0) {
                ret = r;
                goto Done;
            }
        }
Done:
    free(copy);
    return ret;
}

static int index_dir_cb(const char *dir, void *arg)
{
    (void)arg;
    index_dir(dir);
    return 0;
}

static void index_build(void)
{
    index_built = 1;
    if ((index_certs = calloc(INDEX_MAX, sizeof(*index_certs))) == NULL)
        return;
    (void)dtlsudp_snmp_cert_dirs_each(0, index_dir_cb, NULL);
    DEBUGMSGTL(("dtlsudp:cert", "%zu certificates indexed by fingerprint\n", index_len));
}

void dtlsudp_snmp_cert_search_text(char *buf, size_t cap)
{
    const char *env = netsnmp_getenv("SNMPCONFPATH");
    const char *path = env != NULL ? env : get_configuration_directory();
    const char *extra = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_CERT_EXTRA_SUBDIR);
    size_t n = 0, i;
    int w;

    if (cap == 0)
        return;
    w = snprintf(buf, cap, "tls/certs%s%s and tls/ca-certs (keys: tls/private) under ", extra != NULL ? ", tls/" : "",
                 extra != NULL ? extra : "");
    n = w > 0 && (size_t)w < cap ? (size_t)w : cap - 1;
    /* The path's separators become ", " so that the text reads as a list. */
    for (i = 0; path != NULL && path[i] != '\0' && n + 3 < cap; i++) {
        if (path[i] == ENV_SEPARATOR_CHAR) {
            buf[n++] = ',';
            buf[n++] = ' ';
        } else {
            buf[n++] = path[i];
        }
    }
    buf[n] = '\0';
    snprintf(buf + n, cap - n, " (%s)",
             env != NULL ? "SNMPCONFPATH" : "Net-SNMP's default path; SNMPCONFPATH is not set");
}

int dtlsudp_snmp_fingerprint_text(const char *text, dtlsudp_fingerprint *out)
{
    static const char *const options[] = {"--sha1", "--sha224", "--sha256", "--sha384", "--sha512", "--md5"};
    size_t i, n;

    if (text == NULL)
        return -1;
    /* certSecName-style "--sha256 AB:CD...": the length decides the hash
     * anyway, so the option is only skipped. */
    for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        n = strlen(options[i]);
        if (strncasecmp(text, options[i], n) == 0 && (text[n] == ' ' || text[n] == '=' || text[n] == '\t')) {
            text += n + 1;
            while (*text == ' ' || *text == '\t')
                text++;
            break;
        }
    }
    /* The parser takes only a hash's length (MD5, as Net-SNMP still accepts
     * it, to SHA-512). */
    return dtlsudp_fingerprint_parse(text, out) == DTLSUDP_OK ? 0 : -1;
}

netsnmp_cert *dtlsudp_snmp_cert_find(int what, const char *spec)
{
    netsnmp_cert *c;
    dtlsudp_fingerprint fp;
    size_t i, h;

    if (spec == NULL || spec[0] == '\0')
        return NULL;
    if ((c = netsnmp_cert_find(what, NS_CERTKEY_MULTIPLE, (void *)spec)) != NULL)
        return c;
    if (!index_built)
        index_build();
    if (dtlsudp_snmp_fingerprint_text(spec, &fp) != 0) {
        /* A file the store holds under another file's name. */
        for (i = 0; i < index_len; i++)
            if (strcmp(index_certs[i].stem, spec) == 0)
                return netsnmp_cert_find(what, NS_CERTKEY_FINGERPRINT, index_certs[i].native_fp);
        return NULL;
    }
    for (i = 0; i < index_len; i++)
        for (h = 0; h < N_HASHES; h++)
            if (index_certs[i].fp[h].len == fp.len && memcmp(index_certs[i].fp[h].bytes, fp.bytes, fp.len) == 0)
                return netsnmp_cert_find(what, NS_CERTKEY_FINGERPRINT, index_certs[i].native_fp);
    return NULL;
}
