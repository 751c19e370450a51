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

#define EXPIRY_WARN_DAYS 30

#ifndef DTLSUDP_DLMODDIR
#define DTLSUDP_DLMODDIR "/usr/lib/snmp/dlmod"
#endif

static const char plugin_fix[] = "dlmod dtlsudp " DTLSUDP_DLMODDIR "/dtlsudp.so (the absolute path of the "
                                 "installed dtlsudp.so), above every dtlsudp* token";

/* ------------------------------------------------------------------
 * dlmod
 * ------------------------------------------------------------------ */

/* Net-SNMP's default dlmod directory is LIBDIR/snmp/dlmod of its own
 * build: the directory libnetsnmp was loaded from. */
static void default_dlmod_path(char *buf, size_t cap)
{
    Dl_info info;
    char *copy;

    if (dladdr((void *)&init_snmp, &info) != 0 && info.dli_fname != NULL &&
        (copy = strdup(info.dli_fname)) != NULL) {
        snprintf(buf, cap, "%s/snmp/dlmod", dirname(copy));
        free(copy);
    } else {
        snprintf(buf, cap, "/usr/lib/snmp/dlmod");
    }
}

/* snmpd's dlmod.c: an absolute path is opened as it is; otherwise
 * DIR/PATH.so for every DIR of the dlmod path (SNMPDLMODPATH replaces
 * it, ":..." appends), and in 5.9.3 the last directory's result wins. */
static void *load_module(const char *path, char *tried, size_t cap, char *err, size_t errcap)
{
    void *h = NULL;
    char dirs[2048], *dir, *save = NULL;
    const char *env = getenv("SNMPDLMODPATH");

    if (path[0] == '/') {
        snprintf(tried, cap, "%s", path);
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        snprintf(err, errcap, "%s", h == NULL ? dlerror() : "");
        return h;
    }
    default_dlmod_path(dirs, sizeof(dirs));
    if (env != NULL && env[0] == ':')
        snprintf(dirs + strlen(dirs), sizeof(dirs) - strlen(dirs), "%s", env);
    else if (env != NULL)
        snprintf(dirs, sizeof(dirs), "%s", env);
    for (dir = strtok_r(dirs, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
        if (h != NULL)
            dlclose(h);
        snprintf(tried, cap, "%s/%s.so", dir, path);
        h = dlopen(tried, RTLD_NOW | RTLD_LOCAL);
        snprintf(err, errcap, "%s", h == NULL ? dlerror() : "");
    }
    return h;
}

int cc_check_dlmod(const cc_where *w, const char *value, int *is_plugin)
{
    char copy[1024], *name, *path, *save = NULL, tried[1400], err[1024], sym[96];
    void *h;
    int ok;

    *is_plugin = 0;
    snprintf(copy, sizeof(copy), "%s", value);
    copy[strcspn(copy, "#;\r\n")] = '\0';
    name = strtok_r(copy, " \t", &save);
    path = name != NULL ? strtok_r(NULL, " \t", &save) : NULL;
    if (name == NULL) {
        cc_add(CC_ERROR, "dlmod", w, "dlmod", value, "dlmod NAME PATH", "no module name");
        return 0;
    }
    if (path == NULL)
        path = name;
    *is_plugin = strcmp(name, "dtlsudp") == 0;
    h = load_module(path, tried, sizeof(tried), err, sizeof(err));
    if (h == NULL) {
        cc_finding *f = cc_add(CC_ERROR, "dlmod", w, "dlmod", value,
                               *is_plugin ? plugin_fix : "the absolute path of the module",
                               "cannot load %s: %s%s", tried, err,
                               *is_plugin ? "; snmpd logs this once and then serves every dtlsudp: address "
                                            "with Net-SNMP's built-in DTLSUDP, silently"
                                          : "");
        cc_set(f, "path", tried);
        return 0;
    }
    snprintf(sym, sizeof(sym), "init_%s", name);
    ok = dlsym(h, sym) != NULL;
    if (!ok) {
        cc_add(CC_ERROR, "dlmod", w, "dlmod", value,
               *is_plugin ? plugin_fix : "the module's name must match its init_NAME function",
               "%s loads but has no %s(): snmpd unloads it", tried, sym);
    } else if (*is_plugin) {
        cc_finding *f = cc_add(CC_OK, "dlmod", w, "dlmod", value, NULL,
                               "loads %s: snmpd serves dtlsudp:, dtls:, dtlsudp6: and dtls6: addresses with "
                               "this transport, and knows its tokens from this line on",
                               tried);
        cc_set(f, "path", tried);
    } else {
        cc_add(CC_OK, "dlmod", w, "dlmod", value, NULL, "loads %s", tried);
    }
    dlclose(h);
    return ok;
}

/* ------------------------------------------------------------------
 * Order: the plugin's tokens are known to snmpd only after the dlmod
 * ------------------------------------------------------------------ */

int cc_is_plugin_token(const char *token)
{
    size_t i;

    for (i = 0; i < dtlsudp_snmp_config_token_count(); i++)
        if (strcasecmp(token, dtlsudp_snmp_config_token_name(i)) == 0)
            return 1;
    return 0;
}

static void check_token_order(void)
{
    size_t i;
    char fix[1200];

    if (!cc.is_agent)
        return;
    for (i = 0; i < cc.n_lines; i++) {
        const cc_line *l = &cc.lines[i];
        if (!cc_is_plugin_token(l->token) || l->plugin_loaded)
            continue;
        if (cc.plugin_loaded) {
            snprintf(fix, sizeof(fix), "move the dlmod line (%s:%d) above this one", cc.plugin_at.file,
                     cc.plugin_at.line);
            cc_add(CC_ERROR, "token", &l->where, l->token, l->value, fix,
                   "comes before the dlmod line that loads the plugin: snmpd says \"Unknown token: %s\" "
                   "and ignores it",
                   l->token);
        } else {
            cc_add(CC_ERROR, "token", &l->where, l->token, l->value, plugin_fix,
                   "no dlmod line loads the plugin: snmpd says \"Unknown token: %s\" and ignores it", l->token);
        }
    }
}

/* ------------------------------------------------------------------
 * Addresses
 * ------------------------------------------------------------------ */

typedef struct listener {
    const char *spec;
    cc_where where;
    dtlsudp_addr addr;
    int v6only;
    int ours;
} listener;

static int is_wildcard(const dtlsudp_addr *a)
{
    static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

    if (a->sa.sa_family == AF_INET)
        return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
    return memcmp(&a->sin6.sin6_addr, &any6, sizeof(any6)) == 0;
}

static unsigned port_of(const dtlsudp_addr *a)
{
    return ntohs(a->sa.sa_family == AF_INET ? a->sin.sin_port : a->sin6.sin6_port);
}

static int same_host(const dtlsudp_addr *a, const dtlsudp_addr *b)
{
    if (a->sa.sa_family == AF_INET)
        return a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
    return memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, sizeof(a->sin6.sin6_addr)) == 0;
}

/* Whether binding b after a fails with EADDRINUSE (UDP, Linux; our
 * listeners set SO_REUSEPORT only after their bind). */
static int overlaps(const listener *a, const listener *b)
{
    const listener *v6;

    if (port_of(&a->addr) != port_of(&b->addr))
        return 0;
    if (a->addr.sa.sa_family == b->addr.sa.sa_family)
        return is_wildcard(&a->addr) || is_wildcard(&b->addr) || same_host(&a->addr, &b->addr);
    /* IPv4 against IPv6: only a dual-stack wildcard takes IPv4 too. */
    v6 = a->addr.sa.sa_family == AF_INET6 ? a : b;
    return !v6->v6only && is_wildcard(&v6->addr);
}

/* "prefix:rest" when the text before the first colon is a domain name
 * (letters and digits, not all digits: "161:..." is no prefix). */
static const char *split_prefix(const char *spec, char *prefix, size_t cap)
{
    const char *colon = strchr(spec, ':');
    size_t n = colon != NULL ? (size_t)(colon - spec) : 0;
    size_t alnum = strspn(spec, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

    prefix[0] = '\0';
    if (colon == NULL || n == 0 || n >= cap || alnum != n || strspn(spec, "0123456789") == n)
        return spec;
    memcpy(prefix, spec, n);
    prefix[n] = '\0';
    return colon + 1;
}

static const char *family_text(const listener *l)
{
    if (l->addr.sa.sa_family == AF_INET)
        return "IPv4";
    return l->v6only ? "IPv6 only" : "IPv4 and IPv6 (dual-stack)";
}

static void check_addresses(void)
{
    listener ls[256];
    size_t n = 0, i, j;

    if (!cc.is_agent)
        return;
    for (i = 0; i < cc.n_lines; i++) {
        const cc_line *l = &cc.lines[i];
        char *copy, *spec, *save = NULL;

        if (strcasecmp(l->token, "agentaddress") != 0 || (copy = strdup(l->value)) == NULL)
            continue;
        for (spec = strtok_r(copy, ",", &save); spec != NULL && n < 256; spec = strtok_r(NULL, ",", &save)) {
            const char *rest;
            char prefix[32];
            int family = AF_UNSPEC, ours_prefix = 0, udp = 0, v6only = 0;
            listener *x = &ls[n];

            while (*spec == ' ' || *spec == '\t')
                spec++;
            rest = split_prefix(spec, prefix, sizeof(prefix));
            if (strcasecmp(prefix, "dtlsudp") == 0 || strcasecmp(prefix, "dtls") == 0)
                ours_prefix = 1;
            else if (strcasecmp(prefix, "dtlsudp6") == 0 || strcasecmp(prefix, "dtls6") == 0)
                ours_prefix = 1, family = AF_INET6, v6only = 1;
            else if (prefix[0] == '\0' || strcasecmp(prefix, "udp") == 0)
                udp = 1;
            else if (strcasecmp(prefix, "udp6") == 0 || strcasecmp(prefix, "udpv6") == 0 ||
                     strcasecmp(prefix, "udpipv6") == 0)
                udp = 1, family = AF_INET6, v6only = 1;
            if (!ours_prefix && !udp)
                continue; /* TCP, unix, ...: not our business */
            if (dtlsudp_snmp_addr_parse(rest, ours_prefix ? ":10161" : ":161", family, &x->addr) != 0) {
                if (ours_prefix)
                    cc_add(CC_ERROR, "address", &l->where, "agentAddress", spec,
                           "dtlsudp:PORT, dtlsudp:HOST:PORT, dtlsudp:[IPV6]:PORT (dtlsudp(5) ADDRESSES)",
                           "not an address the transport can parse");
                continue;
            }
            x->spec = cc_intern(spec);
            x->where = l->where;
            x->ours = ours_prefix;
            x->v6only = v6only || x->addr.sa.sa_family == AF_INET;
            if (ours_prefix) {
                char text[80] = "?";
                cc_finding *f;
                (void)dtlsudp_addr_format(&x->addr, text, sizeof(text));
                if (cc.plugin_loaded) {
                    f = cc_add(CC_OK, "address", &l->where, "agentAddress", spec, NULL,
                               "served by the dtlsudp plugin on %s, %s", text, family_text(x));
                    cc_set(f, "served_by", "dtlsudp");
                } else {
                    f = cc_add(CC_ERROR, "address", &l->where, "agentAddress", spec, plugin_fix,
                               "would fall to Net-SNMP's built-in DTLSUDP (%s): %s", text,
                               cc.plugin_tried ? "the dlmod line for dtlsudp.so does not load"
                                               : "no dlmod line loads dtlsudp.so");
                    cc_set(f, "served_by", "builtin");
                }
                cc_set(f, "address", text);
            }
            n++;
        }
        free(copy);
    }
    for (i = 0; i < n; i++)
        for (j = 0; j < i; j++)
            if (overlaps(&ls[j], &ls[i])) {
                char fix[512];
                snprintf(fix, sizeof(fix),
                         "list each address once; dtlsudp:[::]:%u alone serves IPv4 and IPv6, and "
                         "dtlsudp:%u,dtlsudp6:[::]:%u is the same as two listeners",
                         port_of(&ls[i].addr), port_of(&ls[i].addr), port_of(&ls[i].addr));
                cc_add(CC_ERROR, "listener", &ls[i].where, "agentAddress", ls[i].spec, fix,
                       "conflicts with %s (%s:%d): both bind UDP port %u, and the second bind fails with "
                       "\"Address already in use\"",
                       ls[j].spec, ls[j].where.file != NULL ? ls[j].where.file : "?", ls[j].where.line,
                       port_of(&ls[i].addr));
            }
}

static int serves_dtlsudp(void)
{
    size_t i;

    for (i = 0; i < cc.n_lines; i++)
        if (strcasecmp(cc.lines[i].token, "agentaddress") == 0 && strcasestr(cc.lines[i].value, "dtls") != NULL)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------
 * Certificates
 * ------------------------------------------------------------------ */

static void asn1_time_text(const ASN1_TIME *t, char *buf, size_t cap)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        snprintf(buf, cap, "?");
    else
        strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void check_dates(X509 *x, const char *what, const cc_where *w, const char *token, const char *value)
{
    char date[64];
    int days = 0, secs = 0;

    if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
        asn1_time_text(X509_get0_notBefore(x), date, sizeof(date));
        cc_add(CC_ERROR, "certificate", w, token, value, "check the clock, or issue a certificate valid now",
               "%s is not valid before %s: peers refuse it", what, date);
        return;
    }
    asn1_time_text(X509_get0_notAfter(x), date, sizeof(date));
    if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
        cc_add(CC_ERROR, "certificate", w, token, value, "issue a new certificate and replace the file",
               "%s expired on %s: peers refuse it", what, date);
        return;
    }
    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) == 1 && days < EXPIRY_WARN_DAYS)
        cc_add(CC_WARNING, "certificate", w, token, value, "issue a new certificate before then",
               "%s expires on %s, in %d day%s", what, date, days, days == 1 ? "" : "s");
}

static void subject_text(X509 *x, char *buf, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n = 0;

    buf[0] = '\0';
    if (b == NULL)
        return;
    if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0)
        n = BIO_read(b, buf, (int)cap - 1);
    buf[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}

static int path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A certificate file named `name' next to a configuration file that was
 * read (DIR/tls/{certs,ca-certs}/NAME.*): the usual reason a file "is
 * there" but not found is that -c FILE does not add FILE's directory. */
static int searched(const char *dir)
{
    const char *env = netsnmp_getenv("SNMPCONFPATH");
    char *copy = strdup(env != NULL ? env : get_configuration_directory()), *d, *save = NULL;
    char a[PATH_MAX], b[PATH_MAX];
    int found = 0;

    if (realpath(dir, a) == NULL)
        snprintf(a, sizeof(a), "%s", dir);
    for (d = copy != NULL ? strtok_r(copy, ":", &save) : NULL; d != NULL && !found; d = strtok_r(NULL, ":", &save))
        found = strcmp(realpath(d, b) != NULL ? b : d, a) == 0;
    free(copy);
    return found;
}

static int beside_config(const char *name, char *found, size_t cap)
{
    static const char *const subs[] = {"certs", "ca-certs"};
    static const char *const exts[] = {"crt", "pem", "cer", "der"};
    size_t f, s, e;

    for (f = 0; f < cc.n_files; f++) {
        char *copy = strdup(cc.files[f]);
        const char *dir = copy != NULL ? dirname(copy) : ".";
        for (s = 0; s < 2 && !searched(dir); s++)
            for (e = 0; e < 4; e++) {
                snprintf(found, cap, "%s/tls/%s/%s.%s", dir, subs[s], name, exts[e]);
                if (path_exists(found)) {
                    free(copy);
                    return 1;
                }
            }
        free(copy);
    }
    return 0;
}

static void report_missing(const cc_where *w, const char *token, const char *value, int pin_is_fine)
{
    char where[1024], found[PATH_MAX + 64], *fix = NULL;
    dtlsudp_fingerprint fp;
    cc_finding *f;

    dtlsudp_snmp_cert_search_text(where, sizeof(where));
    if (dtlsudp_snmp_fingerprint_text(value, &fp) == 0) {
        if (pin_is_fine) {
            cc_add(CC_INFO, "certificate", w, token, value, NULL,
                   "a fingerprint of no certificate here: the peer's certificate is pinned by it");
            return;
        }
        f = cc_add(CC_ERROR, "certificate", w, token, value,
                   "put the certificate in one of those directories, or name a certificate that is there",
                   "no certificate with this fingerprint");
        cc_set(f, "searched", where);
        return;
    }
    if (beside_config(value, found, sizeof(found))) {
        char *copy = strdup(found), *dir = copy, abs[PATH_MAX];
        size_t k;
        /* DIR/tls/certs/NAME.crt -> DIR */
        for (k = 0; dir != NULL && k < 3; k++)
            dir = dirname(dir);
        if (dir != NULL && realpath(dir, abs) != NULL)
            dir = abs;
        if (asprintf(&fix,
                     "%s is there, but Net-SNMP does not search that directory: run the daemon with "
                     "SNMPCONFPATH=%s (or move tls/ into a directory it searches)",
                     found, dir != NULL ? dir : "DIR") < 0)
            fix = NULL;
        free(copy);
    } else if (asprintf(&fix,
                        "put %s.crt in tls/certs (a CA in tls/ca-certs, its key in tls/private/%s.key) under "
                        "one of those directories, or point SNMPCONFPATH at the directory holding tls/",
                        value, value) < 0) {
        fix = NULL;
    }
    f = cc_add(CC_ERROR, "certificate", w, token, value, fix,
               "no certificate file %s.crt (or .pem, .cer, .der) and no certificate with that fingerprint", value);
    cc_set(f, "searched", where);
    free(fix);
}

static netsnmp_cert *find_cert(const char *token, const char *value)
{
    netsnmp_cert *c;

    if (strcasecmp(token, "localCert") == 0 || strcasecmp(token, "-T localCert") == 0)
        return dtlsudp_snmp_cert_find(NS_CERT_IDENTITY, value);
    if (strcasecmp(token, "peerCert") == 0 || strcasecmp(token, "-T peerCert") == 0)
        return dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, value);
    c = dtlsudp_snmp_cert_find(NS_CERT_CA, value); /* trustCert: a CA, or a peer's own */
    return c != NULL ? c : dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, value);
}

/* Whether `user' (NULL: this process) can read a file of this mode and
 * owner. */
static int user_can_read(const char *user, const struct stat *st, char *who, size_t cap)
{
    struct passwd *pw = user != NULL ? getpwnam(user) : getpwuid(geteuid());
    gid_t groups[256];
    int n = 256, i;

    if (pw == NULL) {
        snprintf(who, cap, "%s", user != NULL ? user : "?");
        return -1;
    }
    snprintf(who, cap, "%s", pw->pw_name);
    if (pw->pw_uid == 0)
        return 1;
    if (st->st_uid == pw->pw_uid)
        return (st->st_mode & S_IRUSR) != 0;
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
        n = 0;
    for (i = 0; i < n; i++)
        if (groups[i] == st->st_gid)
            return (st->st_mode & S_IRGRP) != 0;
    return (st->st_mode & S_IROTH) != 0;
}

static void check_key_file(const cc_where *w, const char *token, const char *value, const char *path)
{
    struct stat st;
    struct passwd *owner;
    struct group *group;
    char who[64], fix[1024], desc[256];
    int readable;
    cc_finding *f;

    if (stat(path, &st) != 0) {
        cc_add(CC_ERROR, "key", w, token, value, NULL, "key %s: %s", path, strerror(errno));
        return;
    }
    owner = getpwuid(st.st_uid);
    group = getgrgid(st.st_gid);
    snprintf(desc, sizeof(desc), "mode %04o, owner %s:%s", (unsigned)(st.st_mode & 07777),
             owner != NULL ? owner->pw_name : "?", group != NULL ? group->gr_name : "?");
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        f = cc_add(CC_ERROR, "key", w, token, value, "chmod 600 (or 640 with the daemon's group) the key",
                   "private key %s is world-readable or writable (%s): Net-SNMP refuses to load it", path, desc);
        cc_set(f, "path", path);
        return;
    }
    readable = user_can_read(cc.run_user, &st, who, sizeof(who));
    if (readable < 0) {
        cc_add(CC_WARNING, "key", w, token, value, "-u USER: a user that exists", "no user %s to check against",
               who);
        return;
    }
    if (!readable) {
        snprintf(fix, sizeof(fix), "chgrp %s %s && chmod 640 %s (or chown it to %s)", who, path, path, who);
        f = cc_add(cc.run_user != NULL ? CC_WARNING : CC_ERROR, "key", w, token, value, fix,
                   "private key %s (%s) is not readable by %s%s", path, desc, who,
                   cc.run_user != NULL ? ": snmpd reads it as root at start, but a reload (SIGHUP) and trapsess "
                                         "sessions read it as this user"
                                       : "");
        cc_set(f, "path", path);
        return;
    }
    f = cc_add(CC_OK, "key", w, token, value, NULL, "private key %s (%s), readable by %s", path, desc, who);
    cc_set(f, "path", path);
}

/* The key of an identity: Net-SNMP's, or why it has none. */
static void check_identity_key(const cc_where *w, const char *token, const char *value, netsnmp_cert *c)
{
    char where[1024], stem[256], path[PATH_MAX];
    const char *dot;
    char *conf, *copy, *dir, *save = NULL;
    int found = 0;

    if (c->key != NULL && c->key->info.dir != NULL && c->key->info.filename != NULL) {
        snprintf(path, sizeof(path), "%s/%s", c->key->info.dir, c->key->info.filename);
        check_key_file(w, token, value, path);
        return;
    }
    /* Net-SNMP pairs NAME.crt with private/NAME.key (any extension). */
    dot = strrchr(c->info.filename, '.');
    snprintf(stem, sizeof(stem), "%.*s", (int)(dot != NULL ? (size_t)(dot - c->info.filename) : strlen(c->info.filename)),
             c->info.filename);
    conf = (char *)netsnmp_getenv("SNMPCONFPATH");
    copy = strdup(conf != NULL ? conf : get_configuration_directory());
    for (dir = copy != NULL ? strtok_r(copy, ":", &save) : NULL; dir != NULL && !found;
         dir = strtok_r(NULL, ":", &save)) {
        snprintf(path, sizeof(path), "%s/tls/private/%s.key", dir, stem);
        found = path_exists(path);
    }
    free(copy);
    if (found) {
        check_key_file(w, token, value, path); /* says why Net-SNMP refused it */
        return;
    }
    dtlsudp_snmp_cert_search_text(where, sizeof(where));
    cc_add(CC_ERROR, "key", w, token, value, "put the key in tls/private/NAME.key (mode 600) next to tls/certs",
           "certificate %s/%s has no private key %s.key in tls/private (searched %s)", c->info.dir,
           c->info.filename, stem, where);
}

/* Resolve one certificate token: file, fingerprint, dates; and the key
 * of an identity. */
static netsnmp_cert *check_cert(const cc_where *w, const char *token, const char *value, int identity, int pin_ok)
{
    netsnmp_cert *c = find_cert(token, value);
    dtlsudp_fingerprint fp;
    char fptext[200] = "?", subject[512], path[PATH_MAX], date[64];
    netsnmp_cert *i;
    cc_finding *f;

    if (identity && (c == NULL || c->ocert == NULL)) {
        /* Net-SNMP finds an identity only with its key: the certificate
         * may be there with a key it refused. */
        netsnmp_cert *peer = dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, value);
        if (peer != NULL && peer->ocert != NULL && peer->info.dir != NULL && peer->info.filename != NULL) {
            cc_add(CC_ERROR, "certificate", w, token, value, NULL,
                   "%s/%s is there, but Net-SNMP has no usable private key for it (next line)", peer->info.dir,
                   peer->info.filename);
            check_identity_key(w, token, value, peer);
            return NULL;
        }
    }
    if (c == NULL || c->ocert == NULL) {
        report_missing(w, token, value, pin_ok);
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/%s", c->info.dir, c->info.filename);
    if (dtlsudp_fingerprint_of(c->ocert, 32, &fp) == DTLSUDP_OK)
        (void)dtlsudp_fingerprint_format(&fp, fptext, sizeof(fptext));
    subject_text(c->ocert, subject, sizeof(subject));
    asn1_time_text(X509_get0_notAfter(c->ocert), date, sizeof(date));
    f = cc_add(CC_OK, "certificate", w, token, value, NULL, "%s", path);
    cc_set(f, "path", path);
    cc_set(f, "sha256", fptext);
    cc_set(f, "subject", subject);
    cc_set(f, "not_after", date);
    check_dates(c->ocert, path, w, token, value);
    for (i = c->issuer_cert; i != NULL && i != c && i->ocert != NULL;
         i = i->issuer_cert != i ? i->issuer_cert : NULL) {
        snprintf(path, sizeof(path), "issuer %s/%s", i->info.dir, i->info.filename);
        check_dates(i->ocert, path, w, token, value);
    }
    if (identity)
        check_identity_key(w, token, value, c);
    return c;
}

/* The last line of `token' (Net-SNMP keeps the last value). */
static const cc_line *last_line(const char *token)
{
    const cc_line *found = NULL;
    size_t i;

    for (i = 0; i < cc.n_lines; i++)
        if (strcasecmp(cc.lines[i].token, token) == 0)
            found = &cc.lines[i];
    return found;
}

static void first_word(const char *value, char *out, size_t cap)
{
    size_t n;

    while (*value == ' ' || *value == '\t')
        value++;
    n = strcspn(value, " \t");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), value);
}

static void check_certificates(void)
{
    const cc_line *l;
    const char *ds;
    size_t i;

    ds = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_LOCAL_CERT);
    l = last_line("localCert");
    if (ds != NULL && ds[0] != '\0')
        (void)check_cert(l != NULL ? &l->where : NULL, "localCert", ds, 1, 0);
    else if (cc.is_agent && serves_dtlsudp())
        cc_add(CC_ERROR, "certificate", NULL, "localCert", NULL,
               "[snmp] localCert NAME (NAME.crt in tls/certs, NAME.key in tls/private)",
               "not set: the agent has no certificate to present, and its dtlsudp listeners do not open");
    else if (!cc.is_agent)
        cc_add(CC_INFO, "certificate", NULL, "localCert", NULL, NULL,
               "not set: give -T localCert=NAME on the command line");

    ds = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_PEER_CERT);
    l = last_line("peerCert");
    if (ds != NULL && ds[0] != '\0')
        (void)check_cert(l != NULL ? &l->where : NULL, "peerCert", ds, 0, 1);

    for (i = 0; i < cc.n_lines; i++) {
        char word[512];
        l = &cc.lines[i];
        if (strcasecmp(l->token, "trustCert") != 0)
            continue;
        first_word(l->value, word, sizeof(word));
        if (strncmp(word, "--", 2) == 0) /* trustCert --sha256 FP */
            first_word(l->value + strcspn(l->value, " \t"), word, sizeof(word));
        (void)check_cert(&l->where, "trustCert", word, 0, 0);
    }

    /* trapsess -T localCert=... -T peerCert=... -T trustCert=... HOST */
    for (i = 0; cc.is_agent && i < cc.n_lines; i++) {
        char *copy, *w, *save = NULL;
        int next_is_t = 0;
        l = &cc.lines[i];
        if (strcasecmp(l->token, "trapsess") != 0 || (copy = strdup(l->value)) == NULL)
            continue;
        for (w = strtok_r(copy, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
            const char *kv = NULL;
            if (strcmp(w, "-T") == 0) {
                next_is_t = 1;
                continue;
            }
            if (next_is_t)
                kv = w;
            else if (strncmp(w, "-T", 2) == 0)
                kv = w + 2;
            next_is_t = 0;
            if (kv == NULL)
                continue;
            if (strncasecmp(kv, "localCert=", 10) == 0 || strncasecmp(kv, "our_identity=", 13) == 0)
                (void)check_cert(&l->where, "-T localCert", strchr(kv, '=') + 1, 1, 0);
            else if (strncasecmp(kv, "peerCert=", 9) == 0 || strncasecmp(kv, "their_identity=", 15) == 0)
                (void)check_cert(&l->where, "-T peerCert", strchr(kv, '=') + 1, 0, 1);
            else if (strncasecmp(kv, "trustCert=", 10) == 0 || strncasecmp(kv, "trust_cert=", 11) == 0)
                (void)check_cert(&l->where, "-T trustCert", strchr(kv, '=') + 1, 0, 0);
        }
        free(copy);
    }
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
                first_word(cc.lines[i].value, word, sizeof(word));
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
            subject_text(c->ocert, subject, sizeof(subject));
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
    if (n == 0 && cc.is_agent && serves_dtlsudp())
        cc_add(CC_ERROR, "certSecName", NULL, "certSecName", NULL,
               "certSecName 10 FINGERPRINT --cn (or --sn NAME; a CA's fingerprint maps every client it vouches "
               "for)",
               "no rows: every client is refused, since RFC 6353 5.3.2 needs a securityName for each");
}

/* ------------------------------------------------------------------
 * CRL
 * ------------------------------------------------------------------ */

static void check_crl(void)
{
    const char *path = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE);
    const cc_line *l = last_line("x509CRLFile");
    const cc_where *w = l != NULL ? &l->where : NULL;
    const char *broken = "no listener or session opens while the file is unusable (revocation never silently "
                         "turns off)";
    X509_STORE *trust;
    STACK_OF(X509_OBJECT) *objs;
    X509_CRL *crl;
    BIO *bio;
    int n = 0, k;

    if (path == NULL)
        return;
    if ((bio = BIO_new_file(path, "r")) == NULL) {
        cc_add(CC_ERROR, "crl", w, "x509CRLFile", path, "make the file readable, or remove the line",
               "cannot read it (%s): %s", strerror(errno), broken);
        ERR_clear_error();
        return;
    }
    {
        /* The trust anchors alone (what signs the CRLs), without the
         * transport's own messages about them: reported above. */
        char *saved = strdup(path);
        netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE, NULL);
        cc.mute_log = 1;
        trust = dtlsudp_snmp_certs_trust_store(NULL);
        cc.mute_log = 0;
        netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE, saved);
        path = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE);
        free(saved);
        if (path == NULL)
            return;
    }
    objs = trust != NULL ? X509_STORE_get0_objects(trust) : NULL;
    while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
        char issuer[512] = "", last[64], next[64];
        BIO *b = BIO_new(BIO_s_mem());
        int len = 0, signed_by_trusted = 0;
        const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
        cc_finding *f;

        n++;
        if (b != NULL && X509_NAME_print_ex(b, X509_CRL_get_issuer(crl), 0, XN_FLAG_ONELINE) >= 0)
            len = BIO_read(b, issuer, sizeof(issuer) - 1);
        issuer[len > 0 ? len : 0] = '\0';
        BIO_free(b);
        asn1_time_text(X509_CRL_get0_lastUpdate(crl), last, sizeof(last));
        asn1_time_text(nu, next, sizeof(next));
        for (k = 0; objs != NULL && k < sk_X509_OBJECT_num(objs); k++) {
            X509 *ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, k));
            if (ca != NULL && X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) == 0 &&
                X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
                signed_by_trusted = 1;
        }
        if (nu != NULL && X509_cmp_current_time(nu) < 0)
            f = cc_add(CC_ERROR, "crl", w, "x509CRLFile", path, "fetch a current CRL from the CA",
                       "the CRL of %s expired on %s: every certificate that CA issued is refused (\"CRL has "
                       "expired\")",
                       issuer, next);
        else if (X509_cmp_current_time(X509_CRL_get0_lastUpdate(crl)) > 0)
            f = cc_add(CC_ERROR, "crl", w, "x509CRLFile", path, "check the clock",
                       "the CRL of %s is not valid before %s", issuer, last);
        else if (!signed_by_trusted)
            f = cc_add(CC_WARNING, "crl", w, "x509CRLFile", path,
                       "add the CA that issued it as trustCert, or remove it from the file",
                       "the CRL of %s is signed by no trustCert CA: it revokes nothing here", issuer);
        else
            f = cc_add(CC_OK, "crl", w, "x509CRLFile", path, NULL, "CRL of %s, %d revoked, next update %s",
                       issuer, sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), next);
        cc_set(f, "issuer", issuer);
        cc_set(f, "next_update", next);
        X509_CRL_free(crl);
    }
    ERR_clear_error();
    BIO_free(bio);
    if (n == 0)
        cc_add(CC_ERROR, "crl", w, "x509CRLFile", path, "openssl crl -in FILE -noout -text shows what is wrong",
               "no PEM CRL in it: %s", broken);
    X509_STORE_free(trust);
}

void cc_check_all(void)
{
    const cc_line *user = last_line("agentuser");

    /* snmpd switches to agentuser (or -u) after opening its listeners. */
    if (cc.run_user == NULL && user != NULL && user->value[0] != '\0' && user->value[0] != '#')
        cc.run_user = user->value;
    if (cc.n_files == 0)
        cc_add(CC_WARNING, "config", NULL, NULL, NULL,
               "check the path and the permissions (snmpd.conf is often readable by root only), or give -c FILE",
               "no configuration file of %s was read", cc.app);
    check_token_order();
    check_addresses();
    check_certificates();
    check_secname_rows();
    check_crl();
}
