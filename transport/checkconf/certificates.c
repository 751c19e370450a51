/*
 * certificates.c - the certificates and keys every token names, found by
 * the transport's own lookup (certfind.c: Net-SNMP's store, fingerprints
 * of any hash), their dates, the private keys and who can read them, and
 * the x509CRLFile with the issuers it covers.
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

void cc_subject_text(X509 *x, char *buf, size_t cap)
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
    cc_subject_text(c->ocert, subject, sizeof(subject));
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

void cc_first_word(const char *value, char *out, size_t cap)
{
    size_t n;

    while (*value == ' ' || *value == '\t')
        value++;
    n = strcspn(value, " \t");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), value);
}

void cc_check_certificates(void)
{
    const cc_line *l;
    const char *ds;
    size_t i;

    ds = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_LOCAL_CERT);
    l = cc_last_line("localCert");
    if (ds != NULL && ds[0] != '\0')
        (void)check_cert(l != NULL ? &l->where : NULL, "localCert", ds, 1, 0);
    else if (cc.is_agent && cc_serves_dtlsudp())
        cc_add(CC_ERROR, "certificate", NULL, "localCert", NULL,
               "[snmp] localCert NAME (NAME.crt in tls/certs, NAME.key in tls/private)",
               "not set: the agent has no certificate to present, and its dtlsudp listeners do not open");
    else if (!cc.is_agent)
        cc_add(CC_INFO, "certificate", NULL, "localCert", NULL, NULL,
               "not set: give -T localCert=NAME on the command line");

    ds = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_PEER_CERT);
    l = cc_last_line("peerCert");
    if (ds != NULL && ds[0] != '\0')
        (void)check_cert(l != NULL ? &l->where : NULL, "peerCert", ds, 0, 1);

    for (i = 0; i < cc.n_lines; i++) {
        char word[512];
        l = &cc.lines[i];
        if (strcasecmp(l->token, "trustCert") != 0)
            continue;
        cc_first_word(l->value, word, sizeof(word));
        if (strncmp(word, "--", 2) == 0) /* trustCert --sha256 FP */
            cc_first_word(l->value + strcspn(l->value, " \t"), word, sizeof(word));
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

void cc_check_crl(void)
{
    const char *path = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE);
    const cc_line *l = cc_last_line("x509CRLFile");
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
