/*
 * sesscache.c - the sessions a manager keeps for resumption: one
 * dtlsudp_assoc_session() blob per key (target, our certificate, the
 * expected server identity), in memory for the life of the process, and
 * with dtlsudpSessionFile also in one file for one-shot tools:
 *
 *   <persistent dir>/dtlsudp/sessions   (SNMP_PERSISTENT_DIR, persistentDir)
 *
 * A blob holds a session's master secret, so the directory must be the
 * effective user's and closed to everyone else (0700, created so), the
 * file the same user's with mode 0600 (written through a private temporary
 * file and rename(), never through a symbolic link).  Anything else, or a
 * file that does not parse, is not used (logged once).  Both stores are
 * bounded: SESSCACHE_MAX entries of at most SESSCACHE_MAX_BLOB bytes, the
 * least recently stored dropped first.  A stale or foreign entry can cost
 * a full handshake, never an identity: the engine offers a blob only with
 * the certificate that made it and a server certificate that still passes
 * (transport/engine/session.c).
 */
#include <config.h>

#include "snmp_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define FILE_MAGIC "DUSF"
#define FILE_NAME "sessions"
#define DIR_NAME "dtlsudp"

typedef struct entry {
    uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN];
    size_t len;
    uint8_t *blob;
    uint64_t stamp; /* larger: stored more recently */
} entry;

static entry mem[SESSCACHE_MAX];
static size_t mem_n;
static uint64_t stamp;
static char dir_override[512];
static int warned;

void dtlsudp_snmp_session_key(const char *text, uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN])
{
    unsigned n = DTLSUDP_SNMP_SESSION_KEY_LEN;

    if (EVP_Digest(text, strlen(text), key, &n, EVP_sha256(), NULL) != 1)
        memset(key, 0, DTLSUDP_SNMP_SESSION_KEY_LEN);
}

static void entry_clear(entry *e)
{
    if (e->blob != NULL)
        OPENSSL_clear_free(e->blob, e->len);
    memset(e, 0, sizeof(*e));
}

static void entries_clear(entry *v, size_t *n)
{
    size_t i;

    for (i = 0; i < *n; i++)
        entry_clear(&v[i]);
    *n = 0;
}

/* Insert or replace key in v (capacity SESSCACHE_MAX), dropping the
 * oldest when full.  0 or -1 (out of memory). */
static int entries_put(entry *v, size_t *n, const uint8_t *key, const uint8_t *blob, size_t len, uint64_t when)
{
    uint8_t *copy = OPENSSL_malloc(len);
    size_t i, slot = *n;

    if (copy == NULL)
        return -1;
    memcpy(copy, blob, len);
    for (i = 0; i < *n; i++)
        if (CRYPTO_memcmp(v[i].key, key, DTLSUDP_SNMP_SESSION_KEY_LEN) == 0)
            slot = i;
    if (slot == *n && *n == SESSCACHE_MAX)
        for (slot = 0, i = 1; i < *n; i++)
            if (v[i].stamp < v[slot].stamp)
                slot = i;
    if (slot < *n)
        entry_clear(&v[slot]);
    else
        (*n)++;
    memcpy(v[slot].key, key, DTLSUDP_SNMP_SESSION_KEY_LEN);
    v[slot].blob = copy;
    v[slot].len = len;
    v[slot].stamp = when;
    return 0;
}

static entry *entries_find(entry *v, size_t n, const uint8_t *key)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (CRYPTO_memcmp(v[i].key, key, DTLSUDP_SNMP_SESSION_KEY_LEN) == 0)
            return &v[i];
    return NULL;
}

static int entries_remove(entry *v, size_t *n, const uint8_t *key)
{
    entry *e = entries_find(v, *n, key);

    if (e == NULL)
        return 0;
    entry_clear(e);
    *e = v[--*n];
    memset(&v[*n], 0, sizeof(v[*n]));
    return 1;
}

/* ---- the file ---- */

static void warn_once(const char *path, const char *why)
{
    if (warned)
        return;
    warned = 1;
    snmp_log(LOG_WARNING, "dtlsudp: session file %s not used: %s\n", path, why);
}

void dtlsudp_snmp_session_set_dir(const char *dir)
{
    snprintf(dir_override, sizeof(dir_override), "%s", dir != NULL ? dir : "");
    warned = 0;
}

/* Where DIR_NAME is: the persistent directory, or the tests' own. */
static const char *base_dir(void)
{
    return dir_override[0] != '\0' ? dir_override : get_persistent_directory();
}

/* The owner-only directory (created 0700 if missing), or -1. */
static int session_dir(char *out, size_t cap)
{
    const char *base = base_dir();
    struct stat st;

    if (base == NULL || snprintf(out, cap, "%s/%s", base, DIR_NAME) >= (int)cap)
        return -1;
    if (mkdir(base, 0700) != 0 && errno != EEXIST) {
        warn_once(out, strerror(errno));
        return -1;
    }
    if (mkdir(out, 0700) != 0 && errno != EEXIST) {
        warn_once(out, strerror(errno));
        return -1;
    }
    if (lstat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
        warn_once(out, "not a directory");
        return -1;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        warn_once(out, "the directory must belong to this user and be closed to group and others (0700)");
        return -1;
    }
    return 0;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#define FILE_MAX (8 + SESSCACHE_MAX * (DTLSUDP_SNMP_SESSION_KEY_LEN + 4 + SESSCACHE_MAX_BLOB))

/* Read every entry of the file into v (empty when there is none). */
static int file_read(const char *path, entry *v, size_t *n)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t off = 8, count, i, got = 0;
    ssize_t r;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    *n = 0;
    if (fd < 0)
        return errno == ENOENT ? 0 : (warn_once(path, strerror(errno)), -1);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        close(fd);
        warn_once(path, "the file must be a regular file of this user with mode 0600");
        return -1;
    }
    if (st.st_size < 8 || st.st_size > (off_t)FILE_MAX || (buf = OPENSSL_malloc((size_t)st.st_size)) == NULL) {
        close(fd);
        return 0; /* empty or oversized: start again */
    }
    while (got < (size_t)st.st_size && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
        got += (size_t)r;
    close(fd);
    if (got != (size_t)st.st_size || memcmp(buf, FILE_MAGIC, 4) != 0 || (count = get_u32(buf + 4)) > SESSCACHE_MAX)
        goto Done;
    for (i = 0; i < count; i++) {
        size_t len;
        if (got - off < DTLSUDP_SNMP_SESSION_KEY_LEN + 4)
            break;
        len = get_u32(buf + off + DTLSUDP_SNMP_SESSION_KEY_LEN);
        if (len == 0 || len > SESSCACHE_MAX_BLOB || len > got - off - DTLSUDP_SNMP_SESSION_KEY_LEN - 4)
            break;
        /* the file lists the most recent first */
        if (entries_put(v, n, buf + off, buf + off + DTLSUDP_SNMP_SESSION_KEY_LEN + 4, len, count - i) != 0)
            break;
        off += DTLSUDP_SNMP_SESSION_KEY_LEN + 4 + len;
    }
Done:
    OPENSSL_clear_free(buf, (size_t)st.st_size);
    return 0;
}

static int file_write(const char *dir, const char *path, entry *v, size_t n)
{
    char tmp[600];
    uint8_t head[8 + DTLSUDP_SNMP_SESSION_KEY_LEN + 4];
    size_t i, done = 0;
    int fd, ok = 1;

    if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, FILE_NAME) >= (int)sizeof(tmp))
        return -1;
    if ((fd = mkstemp(tmp)) < 0) { /* mode 0600 */
        warn_once(path, strerror(errno));
        return -1;
    }
    memcpy(head, FILE_MAGIC, 4);
    put_u32(head + 4, (uint32_t)n);
    ok = write(fd, head, 8) == 8;
    /* most recent first */
    while (ok && done < n) {
        size_t best = n;
        for (i = 0; i < n; i++)
            if (v[i].stamp != 0 && (best == n || v[i].stamp > v[best].stamp))
                best = i;
        memcpy(head, v[best].key, DTLSUDP_SNMP_SESSION_KEY_LEN);
        put_u32(head + DTLSUDP_SNMP_SESSION_KEY_LEN, (uint32_t)v[best].len);
        ok = write(fd, head, DTLSUDP_SNMP_SESSION_KEY_LEN + 4) == DTLSUDP_SNMP_SESSION_KEY_LEN + 4 &&
             write(fd, v[best].blob, v[best].len) == (ssize_t)v[best].len;
        v[best].stamp = 0; /* written */
        done++;
    }
    if (close(fd) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        warn_once(path, "cannot be written");
        return -1;
    }
    return 0;
}

/* Read-modify-write of the file under the directory's checks. */
static void file_update(const uint8_t *key, const uint8_t *blob, size_t len)
{
    char dir[520], path[600];
    entry v[SESSCACHE_MAX];
    size_t n = 0;

    memset(v, 0, sizeof(v));
    if (session_dir(dir, sizeof(dir)) != 0 || snprintf(path, sizeof(path), "%s/%s", dir, FILE_NAME) >= (int)sizeof(path))
        return;
    if (file_read(path, v, &n) != 0)
        return;
    if (blob != NULL) {
        if (entries_put(v, &n, key, blob, len, SESSCACHE_MAX + 1) != 0)
            goto Done;
    } else if (!entries_remove(v, &n, key)) {
        goto Done; /* nothing to forget */
    }
    (void)file_write(dir, path, v, n);
Done:
    entries_clear(v, &n);
}

static int file_lookup(const uint8_t *key, uint8_t *buf, size_t cap, size_t *len)
{
    char dir[520], path[600];
    entry v[SESSCACHE_MAX], *e;
    size_t n = 0;
    int ret = -1;

    memset(v, 0, sizeof(v));
    if (session_dir(dir, sizeof(dir)) != 0 || snprintf(path, sizeof(path), "%s/%s", dir, FILE_NAME) >= (int)sizeof(path))
        return -1;
    if (file_read(path, v, &n) == 0 && (e = entries_find(v, n, key)) != NULL && e->len <= cap) {
        memcpy(buf, e->blob, e->len);
        *len = e->len;
        ret = 0;
    }
    entries_clear(v, &n);
    return ret;
}

/* ---- the interface ---- */

int dtlsudp_snmp_session_file_exists(void)
{
    const char *base = base_dir();
    char path[600];
    struct stat st;

    return base != NULL && snprintf(path, sizeof(path), "%s/%s/%s", base, DIR_NAME, FILE_NAME) < (int)sizeof(path) &&
           lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int dtlsudp_snmp_session_get(const uint8_t *key, int use_file, uint8_t *buf, size_t cap, size_t *len)
{
    entry *e = entries_find(mem, mem_n, key);

    if (e != NULL && e->len <= cap) {
        memcpy(buf, e->blob, e->len);
        *len = e->len;
        return 0;
    }
    if (!use_file || file_lookup(key, buf, cap, len) != 0)
        return -1;
    (void)entries_put(mem, &mem_n, key, buf, *len, ++stamp);
    return 0;
}

void dtlsudp_snmp_session_put(const uint8_t *key, int use_file, const uint8_t *blob, size_t len)
{
    entry *e = entries_find(mem, mem_n, key);

    if (blob == NULL || len == 0 || len > SESSCACHE_MAX_BLOB)
        return;
    /* A resumption the server did not renew leaves the same session: the
     * file already has it. */
    if (e != NULL && e->len == len && CRYPTO_memcmp(e->blob, blob, len) == 0) {
        e->stamp = ++stamp;
        return;
    }
    (void)entries_put(mem, &mem_n, key, blob, len, ++stamp);
    if (use_file)
        file_update(key, blob, len);
}

void dtlsudp_snmp_session_forget(const uint8_t *key, int use_file)
{
    (void)entries_remove(mem, &mem_n, key);
    if (use_file)
        file_update(key, NULL, 0);
}

void dtlsudp_snmp_sessions_clear(void)
{
    entries_clear(mem, &mem_n);
}
