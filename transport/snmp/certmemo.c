/*
 * certmemo.c - what Net-SNMP's certificate store resolved a certificate
 * token to, remembered across processes for one-shot managers.
 *
 * Net-SNMP 5.9.3 finds a certificate only together with its private key
 * (netsnmp_cert_find() loads both, and tries to read a key from every
 * certificate file that has none), and on OpenSSL 3.0 each key costs about
 * as much as the rest of an abbreviated handshake.  A new snmpget that
 * resumes a stored session needs no private key at all (RFC 5246 7.3: an
 * abbreviated handshake sends no certificate).  So with dtlsudpSessionFile
 * the manager remembers, for each localCert, peerCert and trustCert value,
 * which files it named and their certificates' SHA-256, in the owner-only
 * session file (sesscache.c), and the next process takes that instead of
 * asking the store.
 *
 * A memo answers only while the store would answer the same:
 *  - Its key holds a stamp of everything Net-SNMP's lookup reads: the
 *    configuration path, the process's user and groups (which files it may
 *    read), and the metadata (device, inode, mode, owner, size,
 *    modification and change times in nanoseconds) of every directory the
 *    store scans (tls/{extra,ca-certs,certs,private} under each
 *    configuration directory) and of every entry in them.  Any file added,
 *    removed, renamed, rewritten or chmod-ed changes its change time (which
 *    no one can set), and so the stamp.
 *  - The stamp is taken once per process, just before Net-SNMP loads its
 *    store (a first-priority POST_PREMIB_READ_CONFIG callback; the store
 *    loads in one of the same round and is never reloaded), so a memo
 *    written under it describes the tree the store was loaded from.  A
 *    process whose store was loaded before the callback was installed
 *    (snmpd loads the plugin later) takes no stamp and uses no memo.
 *  - A time stamp within the last RACY_SECONDS (or in the future) could
 *    hide a second write in the same clock tick, so such a tree is not
 *    stamped (as git treats a racily clean index); an unreadable directory
 *    or an overlong name is not stamped either.
 *  - Every file a memo names holds, when it is written and whenever it is
 *    used, the certificate of the SHA-256 remembered for it (hashed from
 *    the file's DER, without parsing the certificate or looking for a key).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <config.h>

#include "snmp_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define MEMO_MAGIC "DCM2\n"
#define RACY_SECONDS 2
#define MAX_ENTRIES 512         /* per directory; more: not stamped */
#define MAX_CERT_FILE (64 * 1024) /* bytes; larger: not remembered */

static uint8_t stamp[32];
static int stamp_state; /* 0: none (memo off), 1: stamped, -1: not stampable */
static int racy_seconds = RACY_SECONDS;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One record of metadata; -1 when it is too recent to trust. */
static int stat_record(EVP_MD_CTX *md, const char *path, time_t now)
{
    struct stat st;
    long long rec[9] = {0};

    if (stat(path, &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR)
            return -1; /* there, but not for us to see: not stampable */
        rec[0] = -1;
    } else {
        if (st.st_mtim.tv_sec > now - racy_seconds || st.st_ctim.tv_sec > now - racy_seconds)
            return -1;
        rec[0] = (long long)st.st_dev;
        rec[1] = (long long)st.st_ino;
        rec[2] = (long long)st.st_mode;
        rec[3] = (long long)st.st_uid;
        rec[4] = (long long)st.st_size;
        rec[5] = (long long)st.st_mtim.tv_sec;
        rec[6] = (long long)st.st_mtim.tv_nsec;
        rec[7] = (long long)st.st_ctim.tv_sec;
        rec[8] = (long long)st.st_ctim.tv_nsec;
    }
    /* The path with its NUL, then the fixed-size record. */
    EVP_DigestUpdate(md, path, strlen(path) + 1);
    EVP_DigestUpdate(md, rec, sizeof(rec));
    return 0;
}

/* The directory's own metadata and every entry's, in name order. */
static int stamp_dir(EVP_MD_CTX *md, const char *dir, time_t now)
{
    char *names[MAX_ENTRIES], path[4096];
    struct dirent *de;
    size_t n = 0, i;
    int ret = 0;
    DIR *d;

    if (stat_record(md, dir, now) != 0)
        return -1;
    if ((d = opendir(dir)) == NULL)
        /* Absent is stamped so; a directory Net-SNMP may still read files
         * of (through its index) but we cannot list is not stampable. */
        return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    while (ret == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == MAX_ENTRIES || (names[n] = strdup(de->d_name)) == NULL)
            ret = -1;
        else
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_names);
    for (i = 0; i < n; i++) {
        if (ret == 0 && (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path) ||
                         stat_record(md, path, now) != 0))
            ret = -1;
        free(names[i]);
    }
    return ret;
}

/* Who we are decides which files the store can read.  0 or -1. */
static int stamp_credentials(EVP_MD_CTX *md)
{
    gid_t groups[256];
    long long ids[2] = {(long long)geteuid(), (long long)getegid()};
    int n = getgroups((int)(sizeof(groups) / sizeof(groups[0])), groups);

    if (n < 0)
        return -1; /* more groups than we stamp */
    EVP_DigestUpdate(md, ids, sizeof(ids));
    EVP_DigestUpdate(md, groups, (size_t)n * sizeof(groups[0]));
    return 0;
}

typedef struct stamping {
    EVP_MD_CTX *md;
    time_t now;
} stamping;

static int stamp_dir_cb(const char *dir, void *arg)
{
    stamping *st = arg;

    return stamp_dir(st->md, dir, st->now);
}

/* The stamp of the store's inputs, or -1 (not stampable now).  Each
 * directory's path is in its record, so the configuration path and the
 * extra subdirectory are stamped with them. */
static int compute_stamp(void)
{
    stamping st = {EVP_MD_CTX_new(), time(NULL)};
    unsigned len = sizeof(stamp);
    int ret = -1;

    if (st.md != NULL && EVP_DigestInit_ex(st.md, EVP_sha256(), NULL) == 1 && stamp_credentials(st.md) == 0 &&
        dtlsudp_snmp_cert_dirs_each(1, stamp_dir_cb, &st) == 0 && EVP_DigestFinal_ex(st.md, stamp, &len) == 1)
        ret = 0;
    EVP_MD_CTX_free(st.md);
    return ret;
}

void dtlsudp_snmp_cert_memo_reset(void)
{
    stamp_state = compute_stamp() == 0 ? 1 : -1;
    if (stamp_state < 0)
        DEBUGMSGTL(("dtlsudp:cert", "certificate directories changed in the last %d s or unreadable: no memo\n",
                    racy_seconds));
}

void dtlsudp_snmp_cert_memo_set_racy(int seconds)
{
    racy_seconds = seconds >= 0 ? seconds : RACY_SECONDS;
}

static int done; /* stamped once, or shut down: never again in this process */

/* First in the round of callbacks in which Net-SNMP loads its store
 * (tls_bootstrap() -> netsnmp_certs_load()), once. */
static int before_store_loads(int major, int minor, void *server_arg, void *client_arg)
{
    (void)major;
    (void)minor;
    (void)server_arg;
    (void)client_arg;
    if (!done) {
        done = 1;
        dtlsudp_snmp_cert_memo_reset();
    }
    return SNMPERR_SUCCESS;
}

/* snmp_shutdown(): a later init_snmp() may read another tree (its
 * SNMPCONFPATH), but Net-SNMP never loads its store again, so the memo
 * stays off. */
static int at_shutdown(int major, int minor, void *server_arg, void *client_arg)
{
    (void)major;
    (void)minor;
    (void)server_arg;
    (void)client_arg;
    done = 1;
    stamp_state = 0;
    return SNMPERR_SUCCESS;
}

void dtlsudp_snmp_cert_memo_install(void)
{
    static int installed;

    if (installed)
        return;
    installed = 1;
    /* Too late: the store may be loaded already, from another tree. */
    if (netsnmp_ds_get_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_HAVE_READ_PREMIB_CONFIG))
        return;
    (void)netsnmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_POST_PREMIB_READ_CONFIG, before_store_loads,
                                    NULL, NETSNMP_CALLBACK_HIGHEST_PRIORITY);
    (void)snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_SHUTDOWN, at_shutdown, NULL);
}

/* The first DER object of buf (a SEQUENCE), or 0. */
static size_t der_object(const uint8_t *buf, size_t got)
{
    const unsigned char *p = buf;
    long body = 0;
    int tag, cls;

    if (got == 0 || buf[0] != 0x30 || (ASN1_get_object(&p, &body, &tag, &cls, (long)got) & 0x80) ||
        (size_t)(p - buf) + (size_t)body > got)
        return 0;
    return (size_t)(p - buf) + (size_t)body;
}

/* The first CERTIFICATE block of PEM text: its DER (OPENSSL_free it). */
static unsigned char *pem_certificate(const uint8_t *buf, size_t got, long *len)
{
    unsigned char *der = NULL;
    char *name = NULL, *header = NULL;
    BIO *bio = BIO_new_mem_buf(buf, (int)got);

    if (bio != NULL && PEM_read_bio(bio, &name, &header, &der, len) == 1 &&
        strcmp(name, PEM_STRING_X509) != 0 && strcmp(name, PEM_STRING_X509_OLD) != 0) {
        OPENSSL_free(der);
        der = NULL;
    }
    BIO_free(bio);
    OPENSSL_free(name);
    OPENSSL_free(header);
    return der;
}

int dtlsudp_snmp_cert_file_sha256(const char *path, uint8_t out[32])
{
    const char *dot = strrchr(path, '.');
    uint8_t *buf = malloc(MAX_CERT_FILE);
    unsigned char *der;
    size_t got = 0, n;
    ssize_t r;
    long len = 0;
    int fd, ret = -1;

    if (buf == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        free(buf);
        return -1;
    }
    while (got < MAX_CERT_FILE && (r = read(fd, buf + got, MAX_CERT_FILE - got)) > 0)
        got += (size_t)r;
    close(fd);
    /* As Net-SNMP reads it (cert_util.c netsnmp_ocert_get): a .pem file
     * as PEM only, any other as DER first, then as PEM. */
    if (got > 0 && got < MAX_CERT_FILE) {
        if ((dot == NULL || strcmp(dot, ".pem") != 0) && (n = der_object(buf, got)) > 0)
            ret = EVP_Digest(buf, n, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
        else if ((der = pem_certificate(buf, got, &len)) != NULL) {
            ret = EVP_Digest(der, (size_t)len, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
            OPENSSL_free(der);
        }
    }
    free(buf);
    ERR_clear_error();
    return ret;
}

/* Every file still holds the certificate remembered for it. */
static int files_unchanged(const dtlsudp_snmp_cert_memo *m)
{
    uint8_t sha[32];
    size_t i;

    for (i = 0; i < m->n_files; i++)
        if (dtlsudp_snmp_cert_file_sha256(m->files[i], sha) != 0 || CRYPTO_memcmp(sha, m->sha256[i], 32) != 0)
            return 0;
    return 1;
}

static int memo_key(int kind, const char *spec, uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN])
{
    char hex[2 * sizeof(stamp) + 1], *text = NULL;
    size_t i;

    if (spec == NULL || stamp_state <= 0)
        return -1;
    for (i = 0; i < sizeof(stamp); i++)
        snprintf(hex + 2 * i, 3, "%02x", stamp[i]);
    if (asprintf(&text, "dtlsudp certificate memo 2\n%s\n%d\n%s", hex, kind, spec) < 0)
        return -1;
    dtlsudp_snmp_session_key(text, key);
    free(text);
    return 0;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Exactly 64 lower-case hex digits, as memo_put writes them. */
static int hex_to_sha(const char *hex, uint8_t out[32])
{
    size_t i;
    int hi, lo;

    for (i = 0; i < 32; i++) {
        if ((hi = hex_digit(hex[2 * i])) < 0 || (lo = hex_digit(hex[2 * i + 1])) < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* "DCM2\n" found "\n" (sha256-hex " " path "\n")*: the certificate's
 * file, then the files of the issuers the store added with it. */
int dtlsudp_snmp_cert_memo_get(int kind, const char *spec, int line_check, dtlsudp_snmp_cert_memo *out)
{
    uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN], blob[SESSCACHE_MAX_BLOB + 1];
    char *p, *line, *save = NULL;
    size_t len = 0, i;

    memset(out, 0, sizeof(*out));
    /* Without the setting, only a line check (maybe before the
     * dtlsudpSessionFile line) reads a file that exists (nothing is
     * created). */
    if (!dtlsudp_snmp_settings_get()->session_file && !(line_check && dtlsudp_snmp_session_file_exists()))
        return -1;
    if (memo_key(kind, spec, key) != 0 || dtlsudp_snmp_session_get(key, 1, blob, SESSCACHE_MAX_BLOB, &len) != 0 ||
        len < sizeof(MEMO_MAGIC) - 1 || memcmp(blob, MEMO_MAGIC, sizeof(MEMO_MAGIC) - 1) != 0)
        return -1;
    blob[len] = '\0';
    p = (char *)blob + sizeof(MEMO_MAGIC) - 1;
    if ((line = strtok_r(p, "\n", &save)) == NULL || (line[0] != '0' && line[0] != '1') || line[1] != '\0')
        return -1;
    out->found = line[0] == '1';
    for (i = 0; (line = strtok_r(NULL, "\n", &save)) != NULL; i++) {
        if (i == DTLSUDP_SNMP_MEMO_MAX_FILES || strlen(line) < 2 * 32 + 2 || line[2 * 32] != ' ' ||
            strlen(line + 2 * 32 + 1) >= sizeof(out->files[0]) || hex_to_sha(line, out->sha256[i]) != 0)
            return -1;
        memcpy(out->files[i], line + 2 * 32 + 1, strlen(line + 2 * 32 + 1) + 1);
    }
    out->n_files = i;
    if (out->found != (out->n_files > 0) || !files_unchanged(out))
        return -1;
    DEBUGMSGTL(("dtlsudp:cert", "%s: as resolved before (%zu file(s))\n", spec, out->n_files));
    return 0;
}

void dtlsudp_snmp_cert_memo_put(int kind, const char *spec, const dtlsudp_snmp_cert_memo *m)
{
    uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN];
    char blob[SESSCACHE_MAX_BLOB];
    size_t used, i, j;
    int n;

    /* Only what the files hold now: the store may have read a file before
     * it was replaced. */
    if (!dtlsudp_snmp_settings_get()->session_file || m->found != (m->n_files > 0) || !files_unchanged(m) ||
        memo_key(kind, spec, key) != 0)
        return;
    used = (size_t)snprintf(blob, sizeof(blob), "%s%d\n", MEMO_MAGIC, m->found ? 1 : 0);
    for (i = 0; i < m->n_files; i++) {
        if (strchr(m->files[i], '\n') != NULL || sizeof(blob) - used < 2 * 32 + 1)
            return;
        for (j = 0; j < 32; j++)
            used += (size_t)snprintf(blob + used, sizeof(blob) - used, "%02x", m->sha256[i][j]);
        n = snprintf(blob + used, sizeof(blob) - used, " %s\n", m->files[i]);
        if (n < 0 || (size_t)n >= sizeof(blob) - used)
            return;
        used += (size_t)n;
    }
    dtlsudp_snmp_session_put(key, 1, (const uint8_t *)blob, used);
}

void dtlsudp_snmp_cert_memo_forget(int kind, const char *spec)
{
    uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN];

    if (dtlsudp_snmp_settings_get()->session_file && memo_key(kind, spec, key) == 0)
        dtlsudp_snmp_session_forget(key, 1);
}
