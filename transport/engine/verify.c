/*
 * verify.c - the peer-certificate decision, made once per handshake.
 *
 * SSL_CTX_set_cert_verify_callback() hands us the whole store context, so
 * OpenSSL builds and verifies the chain once (trust anchors, CRLs, purpose,
 * depth) and every later rule looks only at what that verification
 * established, never at what the peer merely sent.  The peer controls every
 * certificate in its Certificate message; the only one it proves to hold is
 * the leaf (its key signs the handshake).  So:
 *
 *   R1  trust CHAIN: X509_verify_cert() built a path from the leaf to a
 *       trust anchor and checked it (signatures, validity, CRLs when
 *       loaded, purpose ssl_server/ssl_client, depth).
 *   R2  the certificates sent after the leaf must each certify the one
 *       before (RFC 5246 7.4.2).  A foreign certificate appended to a
 *       chain refuses the handshake.
 *   R3  a pin (fingerprint of any hash) matches the leaf, or on a server a
 *       CA certificate of the verified path (CHAIN only); a client's pins
 *       match the server's own certificate only.
 *   R4  trust LEAF: no anchor vouches for the chain (the only error is an
 *       unknown or self-signed issuer), but the leaf itself is inside its
 *       validity period, allows the role's purpose, and no loaded CRL of
 *       its issuer lists it.  Such a leaf is acceptable only by a pin on
 *       the leaf itself (RFC 6353 5.3.1, 5.3.2: fingerprint-identified
 *       certificates need not chain to a trust anchor).
 *   trust NONE: anything else (expired, revoked, bad signature, wrong
 *       purpose, too deep, foreign certificates).  Always refused.
 *
 * Then cfg->verify decides (default below); it can refuse any peer and
 * accept a LEAF or CHAIN one, never a NONE one.  RFC 6353 5.3.1 / 5.3.2:
 * the certificate must be verified before the association is used; a
 * refusal fails the handshake with an alert.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
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

/* R3: the leaf, or (CHAIN, server side) a CA certificate OpenSSL placed in
 * the path; auth->chain holds exactly those certificates, leaf first.  A
 * client's pins name the server's own certificate only: RFC 6353's
 * snmpTlstmAddrServerFingerprint must match "the presented certificate",
 * and a CA pin would accept every server of that CA without a host check. */
static int pin_matches(const dtlsudp_engine *e, const dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    int i, n = auth->trust == DTLSUDP_TRUST_CHAIN && !a->is_client ? sk_X509_num(auth->chain) : 1;

    for (i = 0; i < n; i++) {
        X509 *c = i == 0 ? auth->leaf : sk_X509_value(auth->chain, i);
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

/* Chain errors that only say "no trust anchor vouches for this chain".
 * Expiry, revocation, signatures, purpose and length are never among them:
 * a pin cannot override those. */
static int only_untrusted(int err)
{
    switch (err) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return 1;
    default:
        return 0;
    }
}

/* The certificates the peer sent, after the leaf (OpenSSL passes the whole
 * Certificate message as the untrusted list; on a server the leaf is its
 * first element too). */
static int sent_after_leaf(STACK_OF(X509) *sent, X509 *leaf, int i)
{
    return !(i == 0 && X509_cmp(sk_X509_value(sent, 0), leaf) == 0);
}

/* R2: each certificate sent certifies the one before it (names, key
 * identifiers and key usage; X509_check_issued).  Only the shape is
 * checked: identity comes from the verified path alone, and a peer's copy
 * of a CA may legitimately differ from the trusted one (a cross-signed or
 * re-issued root), so membership in the path is not required. */
static int sent_is_path(STACK_OF(X509) *sent, X509 *leaf)
{
    X509 *below = leaf;
    int i;

    for (i = 0; i < sk_X509_num(sent); i++) {
        X509 *c = sk_X509_value(sent, i);
        if (!sent_after_leaf(sent, leaf, i))
            continue;
        if (X509_check_issued(c, below) != X509_V_OK)
            return 0;
        below = c;
    }
    return 1;
}

/* R4: a loaded CRL whose issuer name is the leaf's issuer lists the leaf.
 * The CRL comes from the operator's configuration, not from the peer, so
 * trusting its listing without its issuer's key can only refuse more. */
static int revoked_by_loaded_crl(X509_STORE_CTX *xs, X509 *leaf)
{
    STACK_OF(X509_CRL) *crls = X509_STORE_CTX_get1_crls(xs, X509_get_issuer_name(leaf));
    X509_REVOKED *entry;
    int i, revoked = 0;

    for (i = 0; crls != NULL && i < sk_X509_CRL_num(crls) && !revoked; i++)
        revoked = X509_CRL_get0_by_cert(sk_X509_CRL_value(crls, i), &entry, leaf) == 1;
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    ERR_clear_error();
    return revoked;
}

/* What X509_verify_cert() checks on a CHAIN peer with the security level
 * (check_auth_level): the leaf's key bits, for a leaf it never examined. */
static int key_strong_enough(X509_STORE_CTX *xs, X509 *leaf)
{
    static const int bits_for_level[] = {0, 80, 112, 128, 192, 256};
    int level = X509_VERIFY_PARAM_get_auth_level(X509_STORE_CTX_get0_param(xs));
    EVP_PKEY *key = X509_get0_pubkey(leaf);

    if (level <= 0)
        return 1;
    if (level > 5)
        level = 5;
    return key != NULL && EVP_PKEY_get_security_bits(key) >= bits_for_level[level];
}

int eng_verify_chain_revoked(X509_STORE *store, STACK_OF(X509) *chain)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int i, revoked = 0;

    if (ctx == NULL || store == NULL || X509_STORE_CTX_init(ctx, store, NULL, NULL) != 1) {
        X509_STORE_CTX_free(ctx);
        ERR_clear_error();
        return 0;
    }
    for (i = 0; i < sk_X509_num(chain) && !revoked; i++)
        revoked = revoked_by_loaded_crl(ctx, sk_X509_value(chain, i));
    X509_STORE_CTX_free(ctx);
    return revoked;
}

static int leaf_in_validity_period(X509 *leaf)
{
    return X509_cmp_current_time(X509_get0_notBefore(leaf)) < 0 &&
           X509_cmp_current_time(X509_get0_notAfter(leaf)) > 0;
}

/* A stack holding `first' and then (from index `from') the elements of
 * `rest', each with its own reference.  NULL on allocation failure. */
static STACK_OF(X509) *chain_copy(X509 *first, STACK_OF(X509) *rest, int from)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    int i;

    if (sk == NULL || !X509_add_cert(sk, first, X509_ADD_FLAG_UP_REF))
        goto Fail;
    for (i = from; rest != NULL && i < sk_X509_num(rest); i++)
        if (!X509_add_cert(sk, sk_X509_value(rest, i), X509_ADD_FLAG_UP_REF))
            goto Fail;
    return sk;
Fail:
    sk_X509_pop_free(sk, X509_free);
    return NULL;
}

/* Whether xs checks chains with OpenSSL's own function and per-depth
 * callback: then a chain X509_verify_cert() accepted had every signature
 * below its self-signed anchor checked (a failed check ends the
 * verification), which the signature memo below relies on. */
static int openssl_checks(const dtlsudp_engine *e, const X509_STORE_CTX *xs)
{
    return e->x509_verify != NULL && X509_STORE_CTX_get_verify(xs) == e->x509_verify &&
           X509_STORE_CTX_get_verify_cb(xs) == e->x509_verify_cb;
}

/* Fill auth from the store context: R1, R2, R4.  auth->chain is owned by
 * the caller afterwards (NULL only when out of memory).  *sigs_checked: 1
 * when auth->chain is a CHAIN whose signatures OpenSSL itself checked. */
static void classify(const dtlsudp_engine *e, X509_STORE_CTX *xs, const dtlsudp_assoc *a,
                     dtlsudp_peer_auth *auth, int *sigs_checked)
{
    X509 *leaf = auth->leaf;
    STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(xs);
    int purpose = a->is_client ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT;
    int checks_own = openssl_checks(e, xs);

    *sigs_checked = 0;
    if (X509_verify_cert(xs) == 1) {
        auth->error = X509_V_OK;
        if (sent != NULL && !sent_is_path(sent, leaf)) {
            /* NONE: the leaf alone, as for every peer that is not CHAIN
             * (dtlsudp_peer_auth.chain in dtlsudp.h). */
            auth->trust = DTLSUDP_TRUST_NONE;
            auth->reason = "the peer's certificates do not form a certification path (RFC 5246 7.4.2)";
            auth->chain = chain_copy(leaf, NULL, 0);
        } else {
            auth->trust = DTLSUDP_TRUST_CHAIN;
            auth->reason = "verified to a trust anchor";
            auth->chain = chain_copy(leaf, X509_STORE_CTX_get0_chain(xs), 1);
            *sigs_checked = checks_own;
        }
        return;
    }
    auth->error = X509_STORE_CTX_get_error(xs);
    auth->chain = chain_copy(leaf, NULL, 0);
    auth->trust = DTLSUDP_TRUST_NONE;
    if (!only_untrusted(auth->error))
        auth->reason = X509_verify_cert_error_string(auth->error);
    else if (sent != NULL && !sent_is_path(sent, leaf))
        auth->reason = "the peer's certificates do not form a certification path (RFC 5246 7.4.2)";
    else if (!leaf_in_validity_period(leaf))
        auth->reason = "certificate is expired or not yet valid";
    else if (X509_check_purpose(leaf, purpose, 0) != 1)
        auth->reason = a->is_client ? "certificate purpose does not allow a DTLS server (extendedKeyUsage)"
                                    : "certificate purpose does not allow a DTLS client (extendedKeyUsage)";
    else if (revoked_by_loaded_crl(xs, leaf))
        auth->reason = "certificate revoked (listed by a loaded CRL of its issuer)";
    else if ((X509_get_extension_flags(leaf) & EXFLAG_CRITICAL) != 0)
        auth->reason = "unhandled critical extension";
    else if (!key_strong_enough(xs, leaf))
        auth->reason = "the certificate's key is too weak for the security level";
    else {
        auth->trust = DTLSUDP_TRUST_LEAF;
        auth->reason = "no trusted CA vouches for the certificate, and no pin names it";
    }
    ERR_clear_error();
}

/* Without a hook: a client with pins wants one of them (RFC 6353 5.3.1,
 * a configured server fingerprint), otherwise a verified chain; a server
 * takes a verified chain or a pinned peer.  The host name check applies
 * whenever a host name was given. */
static int default_decision(const dtlsudp_engine *e, const dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    if (!auth->host_ok)
        return 0;
    if (a->is_client && e->n_pins + a->n_pins > 0)
        return auth->pin_matched;
    return auth->trust == DTLSUDP_TRUST_CHAIN || auth->pin_matched;
}

static const char *refusal_reason(const dtlsudp_assoc *a, const dtlsudp_peer_auth *auth, int hook_said_no)
{
    if (auth->trust == DTLSUDP_TRUST_NONE)
        return auth->reason;
    if (hook_said_no)
        return "refused by the application's verify policy";
    if (!auth->host_ok)
        return "the certificate does not name the expected host";
    if (a->is_client && auth->pin_matched == 0 && auth->trust == DTLSUDP_TRUST_CHAIN)
        return "the certificate does not match the expected fingerprint";
    return auth->reason;
}

static void log_refusal(dtlsudp_engine *e, const dtlsudp_assoc *a, const dtlsudp_peer_auth *auth,
                        const char *why)
{
    dtlsudp_fingerprint fp;
    char fp_text[3 * 32 + 1] = "(none)", peer[64] = "?";

    if (dtlsudp_fingerprint_of(auth->leaf, 32, &fp) == DTLSUDP_OK)
        (void)dtlsudp_fingerprint_format(&fp, fp_text, sizeof(fp_text));
    (void)dtlsudp_addr_format(&a->peer, peer, sizeof(peer));
    eng_log(e, DTLSUDP_LOG_NOTICE, "assoc %llu: %s certificate SHA256 %s from %s refused: %s",
                (unsigned long long)a->id, a->is_client ? "server" : "client", fp_text, peer, why);
}

/* The decision on one peer from a store context whose verification has
 * not run yet.  `resumed': the certificate of a stored session (no
 * handshake fails on it; a refusal is logged at INFO only). */
static int decide(dtlsudp_engine *e, dtlsudp_assoc *a, X509_STORE_CTX *xs, int resumed)
{
    dtlsudp_peer_auth auth;
    int accept, hook_said_no = 0, sigs_checked;

    memset(&auth, 0, sizeof(auth));
    auth.leaf = X509_STORE_CTX_get0_cert(xs);
    auth.resumed = resumed;
    if (a == NULL || auth.leaf == NULL)
        return 0;
    classify(e, xs, a, &auth, &sigs_checked);
    if (auth.chain == NULL) {
        ERR_clear_error();
        X509_STORE_CTX_set_error(xs, X509_V_ERR_OUT_OF_MEM);
        if (!resumed)
            a->cert_refused = 1;
        return 0;
    }
    auth.pin_matched = auth.trust != DTLSUDP_TRUST_NONE && pin_matches(e, a, &auth);
    auth.host_ok = !(a->is_client && a->hostname != NULL) || host_matches(auth.leaf, a->hostname);

    if (e->cfg.verify != NULL) {
        accept = e->cfg.verify(e->cfg.user, a, &auth) == DTLSUDP_VERIFY_ACCEPT;
        hook_said_no = !accept;
    } else {
        accept = default_decision(e, a, &auth);
    }
    if (auth.trust == DTLSUDP_TRUST_NONE)
        accept = 0; /* no policy may accept what verification refused */

    if (!accept) {
        if (resumed) {
            eng_log(e, DTLSUDP_LOG_INFO, "assoc %llu: stored session not resumed: %s",
                        (unsigned long long)a->id, refusal_reason(a, &auth, hook_said_no));
        } else {
            a->cert_refused = 1;
            log_refusal(e, a, &auth, refusal_reason(a, &auth, hook_said_no));
        }
        /* The error picks the alert the peer gets (RFC 5246 7.2.2): a
         * chain that verified but that our policy refuses (a pin, a host
         * name, the hook) is bad_certificate, so the peer's log points at
         * the certificate rather than at the cipher suites. */
        X509_STORE_CTX_set_error(xs, auth.error != X509_V_OK ? auth.error : X509_V_ERR_CERT_REJECTED);
        sk_X509_pop_free(auth.chain, X509_free);
        return 0;
    }
    sk_X509_pop_free(a->auth_chain, X509_free);
    a->auth_chain = auth.chain;
    a->auth_trust = auth.trust;
    a->sigs_checked = (unsigned)sigs_checked;
    /* SSL_get_verify_result() reports the store's error: a pinned peer
     * whose chain does not verify is still accepted. */
    X509_STORE_CTX_set_error(xs, X509_V_OK);
    return 1;
}

static int verify_cb(X509_STORE_CTX *xs, void *arg)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    eng_io *io = ssl != NULL ? eng_ssl_io(ssl) : NULL;

    return decide(arg, io != NULL ? io->a : NULL, xs, 0);
}

/*
 * The signature memo.  A resumed session's certificate is verified again
 * (eng_verify_stored()), so that a revocation, a new trust store, an
 * expiry or a changed policy applies; but the signatures of a chain cannot
 * change: whether a certificate's signature verifies under its issuer's key
 * depends on the two certificates' bytes alone.  When the chain OpenSSL
 * builds now is, certificate for certificate (X509_cmp: the same DER), the
 * one whose signatures it checked at the full handshake, the check of
 * signatures is skipped and everything else runs as before: the chain is
 * built from the current store, CRLs, purpose, depth and key strength are
 * checked before this step, and the validity periods here, of every
 * certificate of the chain.  Any difference (another anchor, a different
 * intermediate, a store or callback of the application's, the flags that
 * add signature checks) takes OpenSSL's own check.
 */
static int same_cert(X509 *a, X509 *b)
{
    /* X509_cmp() compares the SHA-1 of the whole DER and the DER of the
     * to-be-signed part; without the SHA-1 (EXFLAG_NO_FINGERPRINT) it
     * would compare less, so that is not the same. */
    if (a == b)
        return 1;
    return (X509_get_extension_flags(a) & EXFLAG_NO_FINGERPRINT) == 0 &&
           (X509_get_extension_flags(b) & EXFLAG_NO_FINGERPRINT) == 0 && X509_cmp(a, b) == 0;
}

static int same_chain(STACK_OF(X509) *now, STACK_OF(X509) *memo)
{
    int i, n = sk_X509_num(now);

    if (n <= 0 || n != sk_X509_num(memo))
        return 0;
    for (i = 0; i < n; i++)
        if (!same_cert(sk_X509_value(now, i), sk_X509_value(memo, i)))
            return 0;
    return 1;
}

/* One certificate's validity period, as OpenSSL's own check reports it:
 * the error, depth and certificate set for the per-depth callback. */
static int check_times(X509_STORE_CTX *xs, X509 *x, int depth)
{
    X509_STORE_CTX_verify_cb cb = X509_STORE_CTX_get_verify_cb(xs);
    const X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(xs);
    unsigned long flags = X509_VERIFY_PARAM_get_flags(param);
    time_t at, *when = NULL;
    int before, after, err = X509_V_OK;

    if ((flags & X509_V_FLAG_USE_CHECK_TIME) != 0) {
        at = X509_VERIFY_PARAM_get_time(param);
        when = &at;
    }
    if (when != NULL || (flags & X509_V_FLAG_NO_CHECK_TIME) == 0) {
        before = X509_cmp_time(X509_get0_notBefore(x), when);
        after = X509_cmp_time(X509_get0_notAfter(x), when);
        if (before == 0)
            err = X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD;
        else if (before > 0)
            err = X509_V_ERR_CERT_NOT_YET_VALID;
        else if (after == 0)
            err = X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD;
        else if (after < 0)
            err = X509_V_ERR_CERT_HAS_EXPIRED;
    }
    X509_STORE_CTX_set_current_cert(xs, x);
    X509_STORE_CTX_set_error_depth(xs, depth);
    if (err != X509_V_OK) {
        X509_STORE_CTX_set_error(xs, err);
        if (!cb(0, xs))
            return 0;
    }
    return cb(1, xs);
}

/* X509_STORE_CTX's chain check while e->sig_memo is set. */
static int verify_with_memo(X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    eng_io *io = ssl != NULL ? eng_ssl_io(ssl) : NULL;
    dtlsudp_engine *e = io != NULL ? io->e : NULL;
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(xs);
    unsigned long flags = X509_VERIFY_PARAM_get_flags(X509_STORE_CTX_get0_param(xs));
    int i;

    if (e == NULL || e->x509_verify == NULL)
        return 0;
    /* The memo covers the signatures below a self-signed anchor: the ones
     * OpenSSL checks unless asked to check the anchor's own signature too
     * or to accept a chain that ends below a self-signed certificate. */
    if (e->sig_memo == NULL || X509_STORE_CTX_get_verify_cb(xs) != e->x509_verify_cb ||
        (flags & (X509_V_FLAG_CHECK_SS_SIGNATURE | X509_V_FLAG_PARTIAL_CHAIN)) != 0 ||
        (X509_get_extension_flags(sk_X509_value(chain, sk_X509_num(chain) - 1)) & EXFLAG_SS) == 0 ||
        !same_chain(chain, e->sig_memo))
        return e->x509_verify(xs);
    e->sig_memo_hits++;
    for (i = sk_X509_num(chain) - 1; i >= 0; i--)
        if (!check_times(xs, sk_X509_value(chain, i), i))
            return 0;
    return 1;
}

STACK_OF(X509) *eng_verify_sig_memo(const dtlsudp_assoc *a)
{
    if (a == NULL || !a->sigs_checked || a->auth_trust != DTLSUDP_TRUST_CHAIN || a->auth_chain == NULL)
        return NULL;
    return X509_chain_up_ref(a->auth_chain);
}

/* RFC 6353 5.3.1 / 5.3.2 tie the session's identity to a certificate that
 * passes verification; an abbreviated handshake carries no certificate,
 * so the stored one is verified again, now, exactly as a handshake would
 * (the store context is set up as OpenSSL's ssl_verify_cert_chain() does:
 * the role's purpose, the SSL's depth and security level). */
int eng_verify_stored(dtlsudp_engine *e, dtlsudp_assoc *a, X509 *leaf, STACK_OF(X509) *rest,
                      STACK_OF(X509) *sig_memo)
{
    X509_STORE_CTX *xs = X509_STORE_CTX_new();
    X509_VERIFY_PARAM *param;
    int ok = 0;

    if (xs == NULL || a->ssl == NULL ||
        X509_STORE_CTX_init(xs, SSL_CTX_get_cert_store(e->ctx), leaf, rest) != 1 ||
        !X509_STORE_CTX_set_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx(), a->ssl) ||
        !X509_STORE_CTX_set_default(xs, a->is_client ? "ssl_server" : "ssl_client"))
        goto Done;
    param = X509_STORE_CTX_get0_param(xs);
    X509_VERIFY_PARAM_set_auth_level(param, SSL_get_security_level(a->ssl));
    if (!X509_VERIFY_PARAM_set1(param, SSL_get0_param(a->ssl)))
        goto Done;
    if (sig_memo != NULL && openssl_checks(e, xs)) {
        X509_STORE_CTX_set_verify(xs, verify_with_memo);
        e->sig_memo = sig_memo;
    }
    ok = decide(e, a, xs, 1);
    e->sig_memo = NULL;
Done:
    X509_STORE_CTX_free(xs);
    ERR_clear_error();
    return ok;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    eng_io *io;

    if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT)
        return;
    io = eng_ssl_io(ssl);
    if (io == NULL || io->a == NULL)
        return;
    /* ret: level in the high byte, description in the low byte. */
    if ((ret >> 8) == SSL3_AL_FATAL) {
        io->a->alert_received = 1;
        io->a->peer_alert = ret & 0xff;
    }
}

/* What X509_STORE_CTX_init() gives a context of a store that sets neither
 * a chain check nor a callback: OpenSSL's own. */
static void find_openssl_checks(dtlsudp_engine *e)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *xs = X509_STORE_CTX_new();

    e->x509_verify = NULL;
    e->x509_verify_cb = NULL;
    if (store != NULL && xs != NULL && X509_STORE_CTX_init(xs, store, NULL, NULL) == 1) {
        e->x509_verify = X509_STORE_CTX_get_verify(xs);
        e->x509_verify_cb = X509_STORE_CTX_get_verify_cb(xs);
    }
    X509_STORE_CTX_free(xs);
    X509_STORE_free(store);
    ERR_clear_error();
}

void eng_verify_install(dtlsudp_engine *e)
{
    find_openssl_checks(e);
    SSL_CTX_set_verify(e->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    /* OpenSSL's depth counts the CA certificates between the leaf and the
     * trust anchor. */
    SSL_CTX_set_verify_depth(e->ctx, (int)e->cfg.max_chain_depth);
    SSL_CTX_set_cert_verify_callback(e->ctx, verify_cb, e);
    SSL_CTX_set_info_callback(e->ctx, info_cb);
}
