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
 * which file it named and that certificate's SHA-256, in the owner-only
 * session file (sesscache.c), and the next process takes that instead of
 * asking the store.
 *
 * A memo answers only while the store would answer the same.  Its key holds
 * a stamp of everything Net-SNMP's lookup reads: the configuration path,
 * and the metadata (device, inode, mode, owner, size, modification and
 * change times in nanoseconds) of every directory the store scans
 * (tls/{extra,ca-certs,certs,private} under each configuration directory)
 * and of every file in them.  Any file added, removed, renamed, rewritten
 * or chmod-ed changes its change time, and so the stamp: the memo is not
 * found and the store is asked again.  A time stamp within the last
 * RACY_SECONDS (or in the future) could hide a second write in the same
 * clock tick, so such a tree is not stamped at all (as git does with a
 * racily clean index): the store answers every lookup until it settles.
 * What a memo hands out is checked again where that is cheap: a trust
 * anchor read from its file must have the remembered SHA-256.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <config.h>

#include "snmp_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#define MEMO_MAGIC "DCM1\n"
#define RACY_SECONDS 2
#define MAX_ENTRIES 512 /* per directory; more: not stamped */

static uint8_t stamp[32];
static int stamp_state; /* 0: not computed, 1: stamped, -1: not stampable */
static int racy_seconds = RACY_SECONDS;

void dtlsudp_snmp_cert_memo_reset(void)
{
    stamp_state = 0;
}

void dtlsudp_snmp_cert_memo_set_racy(int seconds)
{
    racy_seconds = seconds >= 0 ? seconds : RACY_SECONDS;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line of metadata; -1 when it is too recent to trust. */
static int stat_line(EVP_MD_CTX *md, const char *name, const char *path, time_t now)
{
    struct stat st;
    char line[256];
    int n;

    if (stat(path, &st) != 0) {
        n = snprintf(line, sizeof(line), "%s absent\n", name);
    } else {
        if (st.st_mtim.tv_sec > now - racy_seconds || st.st_ctim.tv_sec > now - racy_seconds)
            return -1;
        n = snprintf(line, sizeof(line), "%s %llu %llu %o %u %lld %lld.%09ld %lld.%09ld\n", name,
                     (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, (unsigned)st.st_mode,
                     (unsigned)st.st_uid, (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                     (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
    }
    EVP_DigestUpdate(md, path, strlen(path));
    EVP_DigestUpdate(md, line, (size_t)n);
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

    if (stat_line(md, ".", dir, now) != 0)
        return -1;
    if ((d = opendir(dir)) == NULL)
        return 0; /* absent (stamped so) or unreadable: Net-SNMP sees nothing either */
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
                         stat_line(md, names[i], path, now) != 0))
            ret = -1;
        free(names[i]);
    }
    return ret;
}

/* The stamp of the store's inputs, or -1 (not stampable now). */
static int compute_stamp(void)
{
    const char *subdirs[] = {NULL, "ca-certs", "certs", "private"};
    const char *path = netsnmp_getenv("SNMPCONFPATH");
    char *copy, *dir, *save = NULL, certdir[4096];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    time_t now = time(NULL);
    unsigned len = sizeof(stamp);
    size_t i;
    int ret = 0;

    if (path == NULL)
        path = get_configuration_directory();
    subdirs[0] = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_CERT_EXTRA_SUBDIR);
    if (md == NULL || path == NULL || (copy = strdup(path)) == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return -1;
    }
    EVP_DigestUpdate(md, path, strlen(path) + 1);
    EVP_DigestUpdate(md, subdirs[0] != NULL ? subdirs[0] : "", strlen(subdirs[0] != NULL ? subdirs[0] : "") + 1);
    for (dir = strtok_r(copy, ENV_SEPARATOR, &save); ret == 0 && dir != NULL; dir = strtok_r(NULL, ENV_SEPARATOR, &save))
        for (i = 0; ret == 0 && i < sizeof(subdirs) / sizeof(subdirs[0]); i++)
            if (subdirs[i] != NULL) {
                if (snprintf(certdir, sizeof(certdir), "%s/tls/%s", dir, subdirs[i]) >= (int)sizeof(certdir))
                    ret = -1;
                else
                    ret = stamp_dir(md, certdir, now);
            }
    if (ret == 0 && EVP_DigestFinal_ex(md, stamp, &len) != 1)
        ret = -1;
    free(copy);
    EVP_MD_CTX_free(md);
    return ret;
}

static int have_stamp(void)
{
    if (stamp_state == 0)
        stamp_state = compute_stamp() == 0 ? 1 : -1;
    if (stamp_state < 0)
        DEBUGMSGTL(("dtlsudp:cert", "certificate directories changed in the last %d s: no memo\n", racy_seconds));
    return stamp_state > 0;
}

static int memo_key(int kind, const char *spec, uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN])
{
    char hex[2 * sizeof(stamp) + 1], *text = NULL;
    size_t i;

    if (spec == NULL || !have_stamp())
        return -1;
    for (i = 0; i < sizeof(stamp); i++)
        snprintf(hex + 2 * i, 3, "%02x", stamp[i]);
    if (asprintf(&text, "dtlsudp certificate memo 1\n%s\n%d\n%s", hex, kind, spec) < 0)
        return -1;
    dtlsudp_snmp_session_key(text, key);
    free(text);
    return 0;
}

/* "DCM1\n" found "\n" sha256-hex "\n" (path "\n")*: the certificate, then
 * the issuers the store added with it. */
int dtlsudp_snmp_cert_memo_get(int kind, const char *spec, dtlsudp_snmp_cert_memo *out)
{
    uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN], blob[SESSCACHE_MAX_BLOB + 1];
    char *p, *line, *save = NULL;
    size_t len = 0, i;
    unsigned v;

    memset(out, 0, sizeof(*out));
    /* Without the setting, only a file that exists is read (nothing is
     * created): certificate lines are checked as they are read, maybe
     * before the dtlsudpSessionFile line. */
    if ((!dtlsudp_snmp_settings_get()->session_file && !dtlsudp_snmp_session_file_exists()) ||
        memo_key(kind, spec, key) != 0 || dtlsudp_snmp_session_get(key, 1, blob, SESSCACHE_MAX_BLOB, &len) != 0 ||
        len < sizeof(MEMO_MAGIC) - 1 || memcmp(blob, MEMO_MAGIC, sizeof(MEMO_MAGIC) - 1) != 0)
        return -1;
    blob[len] = '\0';
    p = (char *)blob + sizeof(MEMO_MAGIC) - 1;
    if ((line = strtok_r(p, "\n", &save)) == NULL || (line[0] != '0' && line[0] != '1') || line[1] != '\0')
        return -1;
    out->found = line[0] == '1';
    if ((line = strtok_r(NULL, "\n", &save)) == NULL || strlen(line) != 2 * sizeof(out->sha256))
        return -1;
    for (i = 0; i < sizeof(out->sha256); i++) {
        if (sscanf(line + 2 * i, "%2x", &v) != 1)
            return -1;
        out->sha256[i] = (uint8_t)v;
    }
    for (i = 0; (line = strtok_r(NULL, "\n", &save)) != NULL; i++) {
        if (i == DTLSUDP_SNMP_MEMO_MAX_FILES || strlen(line) >= sizeof(out->files[0]))
            return -1;
        memcpy(out->files[i], line, strlen(line) + 1);
    }
    out->n_files = i;
    if (out->found && out->n_files == 0)
        return -1;
    DEBUGMSGTL(("dtlsudp:cert", "%s: as resolved before (%zu file(s))\n", spec, out->n_files));
    return 0;
}

void dtlsudp_snmp_cert_memo_put(int kind, const char *spec, const dtlsudp_snmp_cert_memo *m)
{
    uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN];
    char blob[SESSCACHE_MAX_BLOB];
    size_t used, i;
    int n;

    if (!dtlsudp_snmp_settings_get()->session_file || memo_key(kind, spec, key) != 0)
        return;
    used = (size_t)snprintf(blob, sizeof(blob), "%s%d\n", MEMO_MAGIC, m->found ? 1 : 0);
    for (i = 0; i < sizeof(m->sha256); i++)
        used += (size_t)snprintf(blob + used, sizeof(blob) - used, "%02x", m->sha256[i]);
    blob[used++] = '\n';
    for (i = 0; i < m->n_files; i++) {
        if (strchr(m->files[i], '\n') != NULL)
            return;
        n = snprintf(blob + used, sizeof(blob) - used, "%s\n", m->files[i]);
        if (n < 0 || (size_t)n >= sizeof(blob) - used)
            return;
        used += (size_t)n;
    }
    dtlsudp_snmp_session_put(key, 1, (const uint8_t *)blob, used);
}
