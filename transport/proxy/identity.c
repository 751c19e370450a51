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

int proxy_identity_install(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *err, size_t errcap)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        ssl_err(err, errcap, "cannot load certificate", cert_file);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        ssl_err(err, errcap, "cannot load key", key_file);
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_err(err, errcap, "key does not match certificate", cert_file);
        return -1;
    }
    return 0;
}

int proxy_identity_check(const char *cert_file, const char *key_file, char *err, size_t errcap)
{
    SSL_CTX *scratch = SSL_CTX_new(DTLS_method());
    if (scratch == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    int ret = proxy_identity_install(scratch, cert_file, key_file, err, errcap);
    SSL_CTX_free(scratch);
    return ret;
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
