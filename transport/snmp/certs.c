/*
 * certs.c - identity and trust from Net-SNMP's certificate store and
 * tokens: localCert / -T our_identity, peerCert / -T their_identity,
 * trustCert / -T trust_cert, x509CRLFile; certificates under
 * <confdir>/tls/{certs,ca-certs,private} (netsnmp_certs_load()).
 *
 * Why not sslctx_server_setup()/sslctx_client_setup(): in 5.9.3 they pass
 * the store's issuer X509s to SSL_CTX_add_extra_chain_cert without a
 * reference, so freeing the context frees certificates the store still
 * holds (fixed in 5.9.4, a0d72fb335).  Here the engine loads the identity
 * from the store's files into its one shared SSL_CTX, and peer chains are
 * verified against an X509_STORE of our own in which every certificate
 * holds its own reference (X509_STORE_add_cert).
 *
 * With dtlsudpSessionFile, what each localCert, peerCert and trustCert
 * value resolved to is remembered (certmemo.c) while the certificate
 * directories stay as they were, so that a resumed one-shot manager never
 * asks the store, which reads private keys.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf */
#endif
#include <config.h>

#include "snmp_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <net-snmp/library/cert_util.h>

/* `what' named by `spec', or by the token behind `ds_id' when spec is
 * empty (localCert, peerCert), or Net-SNMP's own default (the file named
 * after the application).  Fingerprints of any hash (certfind.c). */
static netsnmp_cert *find_named(int what, const char *spec, int ds_id)
{
    if (spec == NULL || spec[0] == '\0')
        spec = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, ds_id);
    if (spec != NULL && spec[0] != '\0')
        return dtlsudp_snmp_cert_find(what, spec);
    return netsnmp_cert_find(what, NS_CERTKEY_DEFAULT, NULL);
}

static netsnmp_cert *find_identity(const char *our_identity)
{
    return find_named(NS_CERT_IDENTITY, our_identity, NETSNMP_DS_LIB_TLS_LOCAL_CERT);
}

/* Net-SNMP finds an identity only with its key, so an identity lookup that
 * fails may still have a certificate behind it: that one, found as a peer's,
 * lets the message say that the key is missing rather than the file. */
static netsnmp_cert *find_keyless(const char *our_identity)
{
    netsnmp_cert *c = find_named(NS_CERT_REMOTE_PEER, our_identity, NETSNMP_DS_LIB_TLS_LOCAL_CERT);

    return c != NULL && c->info.dir != NULL && c->info.filename != NULL ? c : NULL;
}

/* ---- the memo of what the store resolved (certmemo.c) ---- */

/* The spec a lookup resolves: `spec', else the token's value; NULL for
 * Net-SNMP's default (named after the application: not remembered). */
static const char *effective_spec(const char *spec, int ds_id)
{
    if (spec == NULL || spec[0] == '\0')
        spec = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, ds_id);
    return spec != NULL && spec[0] != '\0' ? spec : NULL;
}

/* c's file and its certificate's SHA-256, and with issuers those of the
 * issuers the store chains to it (as add_cert() adds them).  0 or -1. */
static int memo_of(netsnmp_cert *c, int issuers, dtlsudp_snmp_cert_memo *m)
{
    unsigned n;

    memset(m, 0, sizeof(*m));
    m->found = 1;
    for (; c != NULL && c->ocert != NULL; c = issuers && c->issuer_cert != c ? c->issuer_cert : NULL) {
        n = sizeof(m->sha256[0]);
        if (m->n_files == DTLSUDP_SNMP_MEMO_MAX_FILES || c->info.dir == NULL || c->info.filename == NULL ||
            snprintf(m->files[m->n_files], sizeof(m->files[0]), "%s/%s", c->info.dir, c->info.filename) >=
                (int)sizeof(m->files[0]) ||
            X509_digest(c->ocert, EVP_sha256(), m->sha256[m->n_files], &n) != 1)
            return -1;
        m->n_files++;
    }
    return m->n_files > 0 ? 0 : -1;
}

static void remember(int kind, const char *spec, netsnmp_cert *c, int issuers)
{
    dtlsudp_snmp_cert_memo m;

    if (spec != NULL && memo_of(c, issuers, &m) == 0)
        dtlsudp_snmp_cert_memo_put(kind, spec, &m);
}

/* "TOKEN VALUE: no such certificate, searched ...; fix": the operator
 * learns which line, which directories and what to do, not just that a
 * name is unknown. */
static void missing_text(char *buf, size_t cap, const char *token, const char *value)
{
    char where[1024];

    dtlsudp_snmp_cert_search_text(where, sizeof(where));
    snprintf(buf, cap,
             "dtlsudp: %s %s: no certificate file %s.crt (or .pem, .cer, .der) and no certificate with that "
             "fingerprint in %s; put the file there, or point SNMPCONFPATH at the directory holding tls/ "
             "(snmpd -c FILE does not search FILE's directory); dtlsudp-checkconf lists what every "
             "certificate token resolves to",
             token, value, value, where);
}

void dtlsudp_snmp_certs_log_missing(const char *token, const char *value)
{
    char text[2048];

    missing_text(text, sizeof(text), token, value);
    snmp_log(LOG_ERR, "%s\n", text);
}

/* Which token named our identity, for messages. */
static void identity_token(const char *our_identity, const char **token, const char **value)
{
    const char *ds = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_LOCAL_CERT);

    if (our_identity != NULL && our_identity[0] != '\0') {
        *token = "-T localCert";
        *value = our_identity;
    } else if (ds != NULL && ds[0] != '\0') {
        *token = "localCert";
        *value = ds;
    } else {
        *token = "localCert";
        *value = NULL;
    }
}

static void log_no_identity(const char *our_identity, netsnmp_cert *id)
{
    const char *token, *value;
    char where[1024];

    identity_token(our_identity, &token, &value);
    if (value == NULL) {
        snmp_log(LOG_ERR, "dtlsudp: no local certificate: localCert is not set; add \"[snmp] localCert NAME\" "
                          "(NAME.crt in tls/certs, NAME.key in tls/private)\n");
        return;
    }
    if (id == NULL) {
        dtlsudp_snmp_certs_log_missing(token, value);
        return;
    }
    dtlsudp_snmp_cert_search_text(where, sizeof(where));
    snmp_log(LOG_ERR,
             "dtlsudp: %s %s: certificate %s/%s has no private key: expected a key file of the same name in "
             "tls/private (searched %s), readable by this process and not world-readable or writable "
             "(Net-SNMP refuses such keys: chmod 600 it)\n",
             token, value, id->info.dir, id->info.filename, where);
}

int dtlsudp_snmp_certs_identity_paths(const char *our_identity, char **cert_path, char **key_path)
{
    netsnmp_cert *id;

    *cert_path = *key_path = NULL;
    id = find_identity(our_identity); /* NS_CERTKEY_DEFAULT reads localCert */
    if (id == NULL || id->info.dir == NULL || id->info.filename == NULL) {
        log_no_identity(our_identity, find_keyless(our_identity));
        return -1;
    }
    if (id->key == NULL || id->key->info.dir == NULL || id->key->info.filename == NULL) {
        log_no_identity(our_identity, id);
        return -1;
    }
    remember(DTLSUDP_SNMP_CERT_IDENTITY, effective_spec(our_identity, NETSNMP_DS_LIB_TLS_LOCAL_CERT), id, 0);
    if (asprintf(cert_path, "%s/%s", id->info.dir, id->info.filename) < 0)
        *cert_path = NULL;
    if (asprintf(key_path, "%s/%s", id->key->info.dir, id->key->info.filename) < 0)
        *key_path = NULL;
    if (*cert_path == NULL || *key_path == NULL) {
        free(*cert_path);
        free(*key_path);
        *cert_path = *key_path = NULL;
        return -1;
    }
    DEBUGMSGTL(("dtlsudp:cert", "identity %s, key %s\n", *cert_path, *key_path));
    return 0;
}

int dtlsudp_snmp_certs_identity_memo(const char *our_identity, char **cert_path, uint8_t sha256[32])
{
    const char *spec = effective_spec(our_identity, NETSNMP_DS_LIB_TLS_LOCAL_CERT);
    dtlsudp_snmp_cert_memo m;

    *cert_path = NULL;
    if (spec == NULL || dtlsudp_snmp_cert_memo_get(DTLSUDP_SNMP_CERT_IDENTITY, spec, 0, &m) != 0 || !m.found ||
        (*cert_path = strdup(m.files[0])) == NULL)
        return -1;
    memcpy(sha256, m.sha256[0], sizeof(m.sha256[0]));
    return 0;
}

/* The issuers the store knows, in order, leaf's issuer first.  They go out
 * with the certificate, so that a peer trusting only the root (or pinning
 * a CA) can build the path.  The certificates are borrowed: whoever keeps
 * them takes its own references. */
static STACK_OF(X509) *identity_issuers(netsnmp_cert *id)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    netsnmp_cert *issuer;

    for (issuer = id->issuer_cert; chain != NULL && issuer != NULL && issuer != id && issuer->ocert != NULL;
         issuer = issuer->issuer_cert != issuer ? issuer->issuer_cert : NULL) {
        if (!sk_X509_push(chain, issuer->ocert)) {
            snmp_log(LOG_ERR, "dtlsudp: cannot add issuer certificate %s/%s\n", issuer->info.dir,
                     issuer->info.filename);
            sk_X509_free(chain);
            return NULL;
        }
    }
    return chain;
}

/* Our identity with its loaded certificate and key, or NULL (logged). */
static netsnmp_cert *loaded_identity(const char *our_identity)
{
    netsnmp_cert *id = find_identity(our_identity);

    if (id == NULL || id->ocert == NULL || id->key == NULL || id->key->okey == NULL) {
        log_no_identity(our_identity, id != NULL && id->ocert != NULL ? id : find_keyless(our_identity));
        return NULL;
    }
    return id;
}

int dtlsudp_snmp_certs_identity(const char *our_identity, X509 **cert, EVP_PKEY **key, STACK_OF(X509) **issuers)
{
    netsnmp_cert *id = loaded_identity(our_identity);

    *cert = NULL;
    *key = NULL;
    *issuers = NULL;
    if (id == NULL || (*issuers = identity_issuers(id)) == NULL)
        return -1;
    *cert = id->ocert;
    *key = id->key->okey;
    DEBUGMSGTL(("dtlsudp:cert", "identity %s/%s from the certificate store\n", id->info.dir, id->info.filename));
    return 0;
}

int dtlsudp_snmp_certs_use_identity(dtlsudp_engine *e, const char *our_identity)
{
    X509 *cert;
    EVP_PKEY *key;
    STACK_OF(X509) *issuers;
    int rc = 0;

    if (dtlsudp_snmp_certs_identity(our_identity, &cert, &key, &issuers) != 0)
        return -1;
    /* The certificate, its key and the issuers go in together; the engine
     * checks the key and takes its own references. */
    if (dtlsudp_engine_set_identity(e, cert, key, issuers) != DTLSUDP_OK) {
        snmp_log(LOG_ERR, "dtlsudp: %s: the certificate and its key cannot be used together\n",
                 our_identity != NULL ? our_identity : "localCert");
        rc = -1;
    }
    sk_X509_free(issuers);
    ERR_clear_error();
    return rc;
}

/* trustCert semantics: a CA certificate, or a peer's own certificate. */
static netsnmp_cert *find_trusted(const char *spec)
{
    netsnmp_cert *c = dtlsudp_snmp_cert_find(NS_CERT_CA, spec);

    if (c == NULL)
        c = dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, spec);
    return c;
}

int dtlsudp_snmp_certs_check_name(int kind, const char *token, const char *value, char *why, size_t cap)
{
    netsnmp_cert *c;
    dtlsudp_fingerprint fp;
    dtlsudp_snmp_cert_memo m;

    /* Resolved before, and nothing the store reads changed since: a
     * certificate (an identity with its key), or a peerCert fingerprint. */
    if (dtlsudp_snmp_cert_memo_get(kind, value, 1, &m) == 0 && (m.found || kind == DTLSUDP_SNMP_CERT_PEER))
        return 0;
    switch (kind) {
    case DTLSUDP_SNMP_CERT_IDENTITY:
        if (dtlsudp_snmp_cert_find(NS_CERT_IDENTITY, value) != NULL)
            return 0;
        if ((c = find_keyless(value)) != NULL) {
            snprintf(why, cap,
                     "dtlsudp: %s %s: certificate %s/%s has no private key: expected a key file of the same "
                     "name in tls/private, not world-readable or writable (Net-SNMP refuses such keys: "
                     "chmod 600 it)",
                     token, value, c->info.dir, c->info.filename);
            return -1;
        }
        break;
    case DTLSUDP_SNMP_CERT_PEER:
        /* A fingerprint of no file here is a pin, which is fine. */
        if (dtlsudp_snmp_cert_find(NS_CERT_REMOTE_PEER, value) != NULL ||
            dtlsudp_snmp_fingerprint_text(value, &fp) == 0)
            return 0;
        break;
    default:
        if (find_trusted(value) != NULL)
            return 0;
        break;
    }
    missing_text(why, cap, token, value);
    return -1;
}

static void add_cert(X509_STORE *store, netsnmp_cert *c)
{
    /* The certificate and the issuers the store knows (a CA bundle). */
    for (; c != NULL && c->ocert != NULL; c = c->issuer_cert != c ? c->issuer_cert : NULL) {
        (void)X509_STORE_add_cert(store, c->ocert);
        DEBUGMSGTL(("dtlsudp:cert", "trusting %s/%s\n", c->info.dir, c->info.filename));
    }
    ERR_clear_error(); /* "cert already in hash table" is fine */
}

/* x509CRLFile fails closed: a file that cannot be read or holds no CRL
 * is an error naming the file and the reason, never "no revocation". */
static int load_crl(X509_STORE *store, const char *path)
{
    X509_LOOKUP *lookup;
    FILE *f = fopen(path, "r");
    unsigned long err;
    char reason[200];
    int n;

    if (f == NULL) {
        snmp_log(LOG_ERR, "dtlsudp: x509CRLFile %s: cannot read it: %s; no listener or session opens "
                          "until the file is readable or the line is removed\n",
                 path, strerror(errno));
        return -1;
    }
    fclose(f);
    lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
    n = lookup != NULL ? X509_load_crl_file(lookup, path, X509_FILETYPE_PEM) : 0;
    if (n < 1) {
        err = ERR_peek_last_error();
        ERR_error_string_n(err, reason, sizeof(reason));
        snmp_log(LOG_ERR, "dtlsudp: x509CRLFile %s: no usable PEM CRL in it (%s); no listener or session "
                              "opens until it holds one (openssl crl -in FILE -noout -text checks it)\n", path,
                 err != 0 ? reason : "empty file");
        ERR_clear_error();
        return -1;
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    DEBUGMSGTL(("dtlsudp:cert", "%d CRL(s) from %s\n", n, path));
    return 0;
}

/* The certificates a trustCert value was resolved to before, read from
 * their files (no private key is looked for), each still the certificate
 * remembered; added only when all are.  0, or -1: ask the store. */
static int trust_from_memo(X509_STORE *store, const char *spec)
{
    X509 *x[DTLSUDP_SNMP_MEMO_MAX_FILES] = {NULL};
    dtlsudp_snmp_cert_memo m;
    uint8_t sha256[32];
    unsigned n;
    size_t i;
    int ok;

    if (dtlsudp_snmp_cert_memo_get(DTLSUDP_SNMP_CERT_TRUST, spec, 0, &m) != 0 || !m.found)
        return -1;
    for (ok = 1, i = 0; ok && i < m.n_files; i++) {
        n = sizeof(sha256);
        ok = (x[i] = dtlsudp_snmp_read_cert_file(m.files[i])) != NULL &&
             X509_digest(x[i], EVP_sha256(), sha256, &n) == 1 && memcmp(sha256, m.sha256[i], sizeof(sha256)) == 0;
    }
    for (i = 0; i < m.n_files; i++) {
        if (ok)
            (void)X509_STORE_add_cert(store, x[i]);
        X509_free(x[i]);
    }
    ERR_clear_error();
    return ok ? 0 : -1;
}

/* A missing trustCert is logged and skipped, as Net-SNMP does. */
static void trust_spec(X509_STORE *store, const char *spec, const char *token)
{
    netsnmp_cert *c;

    if (trust_from_memo(store, spec) == 0)
        return;
    if ((c = find_trusted(spec)) == NULL) {
        dtlsudp_snmp_certs_log_missing(token, spec);
        return;
    }
    add_cert(store, c);
    remember(DTLSUDP_SNMP_CERT_TRUST, spec, c, 1);
}

X509_STORE *dtlsudp_snmp_certs_trust_store(const char *extra_trust)
{
    X509_STORE *store = X509_STORE_new();
    netsnmp_container *list = netsnmp_cert_get_trustlist();
    netsnmp_iterator *it;
    const char *spec, *crl;

    if (store == NULL)
        return NULL;
    if (list != NULL && (it = CONTAINER_ITERATOR(list)) != NULL) {
        for (spec = ITERATOR_FIRST(it); spec != NULL; spec = ITERATOR_NEXT(it))
            trust_spec(store, spec, "trustCert");
        ITERATOR_RELEASE(it);
    }
    if (extra_trust != NULL && extra_trust[0] != '\0')
        trust_spec(store, extra_trust, "-T trustCert");

    crl = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE);
    if (crl != NULL && load_crl(store, crl) != 0) {
        X509_STORE_free(store);
        return NULL;
    }
    return store;
}

int dtlsudp_snmp_certs_peer_fingerprint(const char *identity, dtlsudp_fingerprint *out)
{
    const char *spec = effective_spec(identity, NETSNMP_DS_LIB_TLS_PEER_CERT);
    dtlsudp_snmp_cert_memo m;
    netsnmp_cert *peer;

    if (spec != NULL && dtlsudp_snmp_cert_memo_get(DTLSUDP_SNMP_CERT_PEER, spec, 0, &m) == 0) {
        if (!m.found)
            return dtlsudp_snmp_fingerprint_text(spec, out);
        out->len = sizeof(m.sha256[0]);
        memcpy(out->bytes, m.sha256[0], sizeof(m.sha256[0]));
        return 0;
    }
    peer = find_named(NS_CERT_REMOTE_PEER, identity, NETSNMP_DS_LIB_TLS_PEER_CERT);
    if (peer != NULL && peer->ocert != NULL) {
        remember(DTLSUDP_SNMP_CERT_PEER, spec, peer, 0);
        return dtlsudp_fingerprint_of(peer->ocert, 32, out) == DTLSUDP_OK ? 0 : -1;
    }
    /* A raw fingerprint of any hash ("AB:CD:...", "sha1:...", ...). */
    if (identity == NULL || dtlsudp_snmp_fingerprint_text(identity, out) != 0)
        return -1;
    if (spec != NULL) {
        memset(&m, 0, sizeof(m));
        dtlsudp_snmp_cert_memo_put(DTLSUDP_SNMP_CERT_PEER, spec, &m);
    }
    return 0;
}
