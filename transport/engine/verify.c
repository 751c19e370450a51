/*
 * verify.c - the peer-certificate decision, made once per handshake.
 *
 * OpenSSL's per-certificate verify callback would see each chain element
 * separately; SSL_CTX_set_cert_verify_callback() instead gives us the whole
 * store context, so we run X509_verify_cert() once and decide with every
 * fact at hand:
 *   chain_ok        the chain verifies against the trust anchors (and, for a
 *                   client that named a hostname, the leaf matches it);
 *   fingerprint_ok  the leaf or any certificate the peer sent matches an
 *                   engine-wide or per-connect pin (any hash, by length).
 * Then cfg->verify decides (default: chain_ok || fingerprint_ok).  RFC 6353
 * 5.3.1 / 5.3.2: the certificate must be verified before the association
 * is used; a refusal fails the handshake with an alert.
 */
#include "config.h"

#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "engine_internal.h"

static int pins_match(const dtlsudp_fingerprint *pins, size_t n, X509 *cert)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (dtlsudp_fingerprint_matches(cert, &pins[i]))
            return 1;
    return 0;
}

static int any_pin_matches(dtlsudp_engine *e, dtlsudp_assoc *a, X509 *leaf, STACK_OF(X509) *chain)
{
    int i;

    if (leaf != NULL && (pins_match(e->pins, e->n_pins, leaf) || pins_match(a->pins, a->n_pins, leaf)))
        return 1;
    for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        X509 *c = sk_X509_value(chain, i);
        if (pins_match(e->pins, e->n_pins, c) || pins_match(a->pins, a->n_pins, c))
            return 1;
    }
    return 0;
}

static int host_matches(X509 *leaf, const char *host)
{
    /* An address literal is checked against iPAddress SANs, anything else
     * against dNSName SANs (or the CN when there are none). */
    if (X509_check_ip_asc(leaf, host, 0) == 1)
        return 1;
    return X509_check_host(leaf, host, 0, 0, NULL) == 1;
}

static int verify_cb(X509_STORE_CTX *xs, void *arg)
{
    dtlsudp_engine *e = arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    dtlsudp_io *io = ssl != NULL ? dtlsudp_ssl_io(ssl) : NULL;
    dtlsudp_assoc *a = io != NULL ? io->a : NULL;
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(xs);
    int chain_ok, fingerprint_ok, accept, err;

    if (a == NULL || leaf == NULL)
        return 0;
    chain_ok = X509_verify_cert(xs) == 1;
    err = X509_STORE_CTX_get_error(xs);
    if (chain_ok && a->is_client && a->hostname != NULL && !host_matches(leaf, a->hostname)) {
        chain_ok = 0;
        err = X509_V_ERR_HOSTNAME_MISMATCH;
    }
    fingerprint_ok = any_pin_matches(e, a, leaf, chain);
    if (e->cfg.verify != NULL)
        accept = e->cfg.verify(e->cfg.user, a, leaf, chain, chain_ok, fingerprint_ok) == 1;
    else
        accept = chain_ok || fingerprint_ok;

    if (!accept) {
        a->cert_refused = 1;
        X509_STORE_CTX_set_error(xs, err != X509_V_OK ? err : X509_V_ERR_APPLICATION_VERIFICATION);
        dtlsudp_log(e, DTLSUDP_LOG_NOTICE, "assoc %llu: peer certificate refused (chain %s, pin %s: %s)",
                    (unsigned long long)a->id, chain_ok ? "ok" : "bad", fingerprint_ok ? "match" : "none",
                    X509_verify_cert_error_string(err != X509_V_OK ? err : X509_V_ERR_APPLICATION_VERIFICATION));
        return 0;
    }
    /* SSL_get_verify_result() reports the store's error: a pinned peer
     * whose chain does not verify is still accepted. */
    X509_STORE_CTX_set_error(xs, X509_V_OK);
    return 1;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    dtlsudp_io *io;

    if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT)
        return;
    io = dtlsudp_ssl_io(ssl);
    if (io == NULL || io->a == NULL)
        return;
    /* ret: level in the high byte, description in the low byte. */
    if ((ret >> 8) == SSL3_AL_FATAL)
        io->a->alert_received = 1;
}

void dtlsudp_verify_install(dtlsudp_engine *e)
{
    SSL_CTX_set_verify(e->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_cert_verify_callback(e->ctx, verify_cb, e);
    SSL_CTX_set_info_callback(e->ctx, info_cb);
}
