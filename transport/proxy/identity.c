/*
 * identity.c - certificates for dtlsudp-proxy: the trust store (CA + CRL)
 * handed to the engine, the own identity checked before it replaces the
 * running one (SIGHUP), and the peer's identity for the log.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "proxy.h"

static void ssl_err(char *err, size_t errcap, const char *what, const char *file)
{
    unsigned long e = ERR_peek_last_error();
    char reason[160] = "unknown reason";
    if (e != 0)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    snprintf(err, errcap, "%s %s: %s", what, file, reason);
}

int proxy_trust_store(const char *ca_file, const char *crl_file, X509_STORE **out, char *err, size_t errcap)
{
    X509_STORE *store = X509_STORE_new();
    *out = NULL;
    if (store == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    if (ca_file != NULL && X509_STORE_load_file(store, ca_file) != 1) {
        ssl_err(err, errcap, "cannot load CA file", ca_file);
        goto Fail;
    }
    if (crl_file != NULL) {
        X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
        if (lookup == NULL || X509_load_crl_file(lookup, crl_file, X509_FILETYPE_PEM) <= 0) {
            ssl_err(err, errcap, "cannot load CRL file", crl_file);
            goto Fail;
        }
        /* As the engine does for cfg->crl_file: every certificate of the
         * chain, not only the leaf. */
        X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    *out = store;
    return 0;
Fail:
    X509_STORE_free(store);
    return -1;
}

/* Read the certificate chain and key into memory once, so that what is
 * checked is exactly what gets installed (a file replaced in between
 * cannot leave the running SSL_CTX half-updated). */
typedef struct identity {
    X509 *cert;
    STACK_OF(X509) *chain;
    EVP_PKEY *key;
} identity;

static void identity_free(identity *id)
{
    X509_free(id->cert);
    sk_X509_pop_free(id->chain, X509_free);
    EVP_PKEY_free(id->key);
}

static int identity_load(identity *id, const char *cert_file, const char *key_file, char *err, size_t errcap)
{
    BIO *b = NULL;
    X509 *extra;
    memset(id, 0, sizeof(*id));
    if ((b = BIO_new_file(cert_file, "r")) == NULL || (id->cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
        ssl_err(err, errcap, "cannot load certificate", cert_file);
        goto Fail;
    }
    if ((id->chain = sk_X509_new_null()) == NULL)
        goto Fail;
    while ((extra = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(id->chain, extra)) {
            X509_free(extra);
            goto Fail;
        }
    ERR_clear_error(); /* the end of the file */
    BIO_free(b);
    if ((b = BIO_new_file(key_file, "r")) == NULL ||
        (id->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL) {
        ssl_err(err, errcap, "cannot load key", key_file);
        goto Fail;
    }
    BIO_free(b);
    b = NULL;
    if (X509_check_private_key(id->cert, id->key) != 1) {
        ERR_clear_error();
        snprintf(err, errcap, "key %s does not match certificate %s", key_file, cert_file);
        goto Fail;
    }
    return 0;
Fail:
    if (err[0] == '\0')
        snprintf(err, errcap, "out of memory");
    BIO_free(b);
    identity_free(id);
    return -1;
}

int proxy_identity_install(dtlsudp_engine *e, const char *cert_file, const char *key_file, char *err, size_t errcap)
{
    identity id;
    err[0] = '\0';
    if (identity_load(&id, cert_file, key_file, err, errcap) != 0)
        return -1;
    /* OpenSSL keeps one certificate per key type in an SSL_CTX and offers
     * no way to remove one: an RSA certificate installed over an EC one
     * would sit beside it, and clients preferring ECDSA would still get
     * the old certificate.  A key type change needs a restart (the engine
     * refuses it too; the running key is read here to say which). */
    EVP_PKEY *old = SSL_CTX_get0_privatekey(dtlsudp_engine_ssl_ctx(e));
    if (old != NULL && EVP_PKEY_get_base_id(old) != EVP_PKEY_get_base_id(id.key)) {
        snprintf(err, errcap, "key %s is of another type (%s) than the running one (%s): restart to change it",
                 key_file, OBJ_nid2sn(EVP_PKEY_get_base_id(id.key)), OBJ_nid2sn(EVP_PKEY_get_base_id(old)));
        identity_free(&id);
        return -1;
    }
    /* Certificate, key and chain together; the very next handshake presents them. */
    int ret = dtlsudp_engine_set_identity(e, id.cert, id.key, id.chain);
    if (ret != DTLSUDP_OK)
        snprintf(err, errcap, "cannot install certificate %s: %s", cert_file, dtlsudp_strerror(ret));
    identity_free(&id);
    return ret == DTLSUDP_OK ? 0 : -1;
}

int proxy_identity_check(const char *cert_file, const char *key_file, char *err, size_t errcap)
{
    identity id;
    err[0] = '\0';
    if (identity_load(&id, cert_file, key_file, err, errcap) != 0)
        return -1;
    identity_free(&id);
    return 0;
}

void proxy_describe_peer(dtlsudp_assoc *a, char *buf, size_t cap)
{
    X509 *leaf = dtlsudp_assoc_peer_cert(a);
    char subject[256] = "?", fp[200] = "?";
    dtlsudp_fingerprint f;
    int trust = dtlsudp_assoc_peer_trust(a);
    if (leaf != NULL) {
        X509_NAME_oneline(X509_get_subject_name(leaf), subject, sizeof(subject));
        if (dtlsudp_fingerprint_of(leaf, 32, &f) == DTLSUDP_OK)
            (void)dtlsudp_fingerprint_format(&f, fp, sizeof(fp));
    }
    snprintf(buf, cap, "subject=%s sha256=%s trust=%s", subject, fp,
             trust == DTLSUDP_TRUST_CHAIN ? "chain" : trust == DTLSUDP_TRUST_LEAF ? "pinned" : "none");
}
