/*
 * peerauth.c - who the peer is, for the dtlsudp transport: the engine's
 * verify callback (RFC 6353 5.3.1 for a client, 5.3.2 for a server), the
 * agent's trust store (trustCert, x509CRLFile) rebuilt after a reload, the
 * securityName and level of an association, and the log lines that name a
 * refused certificate or a failed handshake with its cause and fix.
 */
#include <config.h>

#include "endpoint.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

/* The securityName is owned by the association, so that it is freed with
 * it whatever ends it (the SSL itself is gone after the engine's
 * hand-off). */
const char *peerauth_secname(dtlsudp_assoc *a)
{
    return dtlsudp_assoc_get_owned(a);
}

int peerauth_level(dtlsudp_assoc *a)
{
    const SSL_CIPHER *c = dtlsudp_assoc_current_cipher(a);

    /* RFC 6353 5.1.2 step 2: null encryption gives authNoPriv; null
     * authentication is refused by the caller (level 0). */
    if (c == NULL)
        return 0;
    if (!SSL_CIPHER_is_aead(c) && SSL_CIPHER_get_digest_nid(c) == NID_undef)
        return 0;
    if (SSL_CIPHER_get_cipher_nid(c) == NID_undef)
        return SNMP_SEC_LEVEL_AUTHNOPRIV;
    return SNMP_SEC_LEVEL_AUTHPRIV;
}

/* Besides once per (certificate, reason), refusal lines are limited to
 * REFUSAL_LOG_BURST per REFUSAL_LOG_PERIOD ms overall, so peers presenting
 * ever new certificates cannot fill the log; the number left out is logged
 * when the next period opens. */
#define REFUSAL_LOG_BURST 10
#define REFUSAL_LOG_PERIOD 60000

static int refusal_log_allowed(void)
{
    static dtlsudp_time period_start;
    static unsigned logged, suppressed;
    dtlsudp_time now = dtlsudp_now();

    if (period_start == 0 || now - period_start >= REFUSAL_LOG_PERIOD) {
        if (suppressed > 0)
            snmp_log(LOG_WARNING, "dtlsudp: %u more certificate refusals not logged (at most %d a minute)\n",
                     suppressed, REFUSAL_LOG_BURST);
        period_start = now;
        logged = suppressed = 0;
    }
    if (logged >= REFUSAL_LOG_BURST) {
        suppressed++;
        return 0;
    }
    logged++;
    return 1;
}

/* "Logged once per peer": a small ring of (certificate, reason) pairs. */
static void log_refusal_once(X509 *leaf, const dtlsudp_addr *peer, const char *role, const char *reason)
{
    static struct {
        uint8_t fp[8];
        uint32_t reason;
    } seen[128];
    static unsigned next;
    dtlsudp_fingerprint fp; /* SHA-256 of the leaf: the ring's key and the log's text */
    unsigned i;
    uint32_t h = 2166136261u; /* FNV-1a of the reason text */
    const char *p;
    char fp_text[3 * 32 + 1] = "", addr[64] = "?";

    memset(&fp, 0, sizeof(fp));
    if (leaf != NULL && dtlsudp_fingerprint_of(leaf, 32, &fp) == DTLSUDP_OK)
        (void)dtlsudp_fingerprint_format(&fp, fp_text, sizeof(fp_text));
    for (p = reason != NULL ? reason : ""; *p != '\0'; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    for (i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
        if (seen[i].reason == h && memcmp(seen[i].fp, fp.bytes, 8) == 0)
            return;
    /* Remembered only once logged: a flood of other refusals that uses up
     * the minute's lines must not silence this one for good. */
    if (!refusal_log_allowed())
        return;
    memcpy(seen[next].fp, fp.bytes, 8);
    seen[next].reason = h;
    next = (next + 1) % (sizeof(seen) / sizeof(seen[0]));

    if (peer != NULL)
        (void)dtlsudp_addr_format(peer, addr, sizeof(addr));
    snmp_log(LOG_WARNING, "dtlsudp: refused %s certificate SHA256 %s from %s: %s\n", role,
             fp_text[0] ? fp_text : "(none)", addr, reason);
}

/* The trust anchors and CRLs every listener verifies clients with:
 * trustCert and x509CRLFile, built on first use and again after a reload
 * (SIGHUP re-reads the lines after the plugin's init, so the store is
 * rebuilt lazily, at the next pump).  A store that cannot be built (an
 * unusable CRL file) fails closed: every client is refused until a reload
 * fixes it. */
static X509_STORE *server_trust;
static int server_trust_stale = 1;
static int server_trust_broken;

X509_STORE *peerauth_server_trust(void)
{
    endpoint *ep;

    if (!server_trust_stale)
        return server_trust;
    server_trust_stale = 0;
    if (server_trust != NULL)
        X509_STORE_free(server_trust);
    server_trust = dtlsudp_snmp_certs_trust_store(NULL);
    server_trust_broken = server_trust == NULL;
    if (server_trust_broken) {
        snmp_log(LOG_ERR, "dtlsudp: refusing every client until the trust configuration loads\n");
        server_trust = X509_STORE_new();
    }
    for (ep = endpoint_servers; ep != NULL && server_trust != NULL; ep = ep->next_server) {
        dtlsudp_engine *e = dtlsudp_listener_engine(ep->listener);
        size_t closed;

        (void)dtlsudp_engine_set_trust_store(e, server_trust);
        /* A reload's CRL applies to the sessions already open too: an
         * operator who revokes a certificate expects it to stop working. */
        if (!server_trust_broken && (closed = dtlsudp_engine_close_revoked(e, dtlsudp_now())) > 0)
            snmp_log(LOG_WARNING, "dtlsudp: closed %zu session%s whose certificate x509CRLFile now revokes\n",
                     closed, closed == 1 ? "" : "s");
    }
    return server_trust;
}

int peerauth_server_trust_usable(void)
{
    return peerauth_server_trust() != NULL && !server_trust_broken;
}

void peerauth_server_trust_expire(void)
{
    server_trust_stale = 1;
}

static const char *trust_name(int trust)
{
    return trust == DTLSUDP_TRUST_CHAIN ? "verified chain" : "pinned certificate";
}

/* RFC 6353 5.3.2: the server accepts a client it can verify by path
 * validation or by a configured fingerprint, derives the securityName from
 * snmpTlstmCertToTSNTable, and MUST fail the session (counting
 * InvalidClientCertificates and OpenErrors) when either step fails.  The
 * engine hands over only what OpenSSL verified: a CHAIN client's path to
 * a trustCert anchor, or the leaf alone; certSecName rows are matched
 * against those certificates, so a row naming a CA maps only clients that
 * CA really vouches for, and nothing the client merely appended counts. */
static int verify_client(endpoint *ep, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    char name[SECNAME_CAP], reason[256];
    const char *why = NULL;
    char *copy;

    (void)ep;
    if (server_trust_broken) {
        why = "the trust configuration (trustCert, x509CRLFile) could not be loaded";
        goto Refuse;
    }
    if (auth->trust == DTLSUDP_TRUST_NONE) {
        why = auth->reason;
        goto Refuse;
    }
    if (dtlsudp_snmp_secname_map(auth->leaf, auth->chain, name, sizeof(name), &why) != 0) {
        if (auth->trust == DTLSUDP_TRUST_LEAF) {
            /* Not vouched for by a trustCert CA: only a row naming the
             * certificate itself may admit it. */
            snprintf(reason, sizeof(reason),
                     "the chain does not verify (%s) and no certSecName row names the certificate itself",
                     X509_verify_cert_error_string(auth->error));
            why = reason;
        }
        goto Refuse;
    }
    copy = strdup(name);
    if (copy == NULL) {
        why = "out of memory";
        goto Refuse;
    }
    dtlsudp_assoc_set_owned(a, copy, free);
    DEBUGMSGTL(("dtlsudp", "client certificate (%s) mapped to securityName %s\n", trust_name(auth->trust), name));
    return 1;

Refuse:
    if (auth->resumed) {
        /* a ticket whose certificate no longer maps: the full handshake
         * that follows decides, counts and logs */
        DEBUGMSGTL(("dtlsudp", "session ticket refused: %s\n", why));
        return 0;
    }
    snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCLIENTCERTIFICATES);
    snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENERRORS);
    log_refusal_once(auth->leaf, dtlsudp_assoc_peer(a), "client", why);
    return 0;
}

/* RFC 6353 5.3.1 step 1: the client verifies that the server presented
 * the expected certificate: a configured fingerprint (peerCert /
 * their_identity) naming the server's own certificate, or a chain to a
 * trusted CA plus the expected host name (their_hostname, by default the
 * host part of the target). */
static int verify_server(endpoint *ep, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    char reason[300];
    const char *why = NULL;
    int stat = STAT_TLSTM_SNMPTLSTMSESSIONINVALIDSERVERCERTIFICATES;

    if (auth->trust == DTLSUDP_TRUST_NONE) {
        why = auth->reason;
        goto Refuse;
    }
    if (ep->have_pin) {
        if (auth->pin_matched)
            return 1;
        why = "the certificate does not match the expected fingerprint (peerCert)";
        goto Refuse;
    }
    if (ep->their_hostname == NULL || ep->their_hostname[0] == '\0') {
        why = "no peerCert fingerprint and no host name to verify the server with";
        stat = STAT_TLSTM_SNMPTLSTMSESSIONUNKNOWNSERVERCERTIFICATE;
        goto Refuse;
    }
    if (auth->trust != DTLSUDP_TRUST_CHAIN) {
        why = X509_verify_cert_error_string(auth->error);
        goto Refuse;
    }
    if (!dtlsudp_snmp_host_matches(auth->leaf, ep->their_hostname)) {
        snprintf(reason, sizeof(reason), "the certificate does not name the expected host %s (their_hostname)",
                 ep->their_hostname);
        why = reason;
        goto Refuse;
    }
    return 1;

Refuse:
    if (auth->resumed) {
        /* a stored session checked before it is offered: not offering it
         * means a full handshake, which counts and logs on its own */
        DEBUGMSGTL(("dtlsudp", "stored session not offered: %s\n", why));
        return 0;
    }
    snmp_increment_statistic(stat);
    snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENERRORS);
    ep->counted_open_error = 1;
    log_refusal_once(auth->leaf, dtlsudp_assoc_peer(a), "server", why);
    return 0;
}

int peerauth_on_verify(void *user, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    endpoint *ep = endpoint_find(user, a);

    if (ep == NULL)
        return 0;
    return ep->is_server ? verify_client(ep, a, auth) : verify_server(ep, a, auth);
}

/* The configured cipher list, as the operator wrote it, for messages. */
static const char *cipher_list(void)
{
    const char *c = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_ALGORITMS);
    return c != NULL ? c : "the default, ECDHE with AES-GCM or ChaCha20-Poly1305";
}

/* What a failed handshake means and what to do about it, for the log line
 * that reports it: the peer's alert (RFC 5246 7.2) or our own reason. */
void peerauth_explain_failure(int alert, const char *detail, int we_are_server, char *out, size_t cap)
{
    const char *peer = we_are_server ? "the manager" : "the agent";

    switch (alert) {
    case SSL_AD_UNKNOWN_CA:
    case SSL_AD_BAD_CERTIFICATE:
    case SSL_AD_UNSUPPORTED_CERTIFICATE:
    case SSL_AD_CERTIFICATE_REVOKED:
    case SSL_AD_CERTIFICATE_EXPIRED:
    case SSL_AD_CERTIFICATE_UNKNOWN:
    case SSL_AD_ACCESS_DENIED:
        snprintf(out, cap,
                 "%s sent alert %s: it refused our certificate (localCert); %s needs a trustCert "
                 "for our CA%s, and its log names the reason",
                 peer, SSL_alert_desc_string_long(alert), peer,
                 we_are_server ? " or a peerCert naming our certificate" : " or a certSecName row for our certificate");
        return;
    case SSL_AD_HANDSHAKE_FAILURE:
    case SSL_AD_INSUFFICIENT_SECURITY:
        snprintf(out, cap,
                 "%s sent alert %s: most often no cipher suite in common; ours (tlsAlgorithms) is %s, "
                 "and %s's list must share one",
                 peer, SSL_alert_desc_string_long(alert), cipher_list(), peer);
        return;
    case SSL_AD_PROTOCOL_VERSION:
        snprintf(out, cap, "%s sent alert %s: it does not accept DTLS 1.2", peer, SSL_alert_desc_string_long(alert));
        return;
    case SSL_AD_INTERNAL_ERROR:
        if (we_are_server)
            break;
        /* Our agent sends this when admission control drops a handshake in
         * progress (the source had too many at once). */
        snprintf(out, cap,
                 "the agent sent alert %s: it may have dropped the handshake because too many from this address "
                 "were in progress; retry, or raise dtlsudpMaxHalfOpenPerSource on the agent",
                 SSL_alert_desc_string_long(alert));
        return;
    default:
        break;
    }
    if (alert >= 0)
        snprintf(out, cap, "%s sent alert %s", peer, SSL_alert_desc_string_long(alert));
    else if (detail != NULL && strstr(detail, "no shared cipher") != NULL)
        snprintf(out, cap, "no cipher suite in common with %s; ours (tlsAlgorithms) is %s", peer, cipher_list());
    else if (detail != NULL)
        snprintf(out, cap, "%s", detail);
    else
        snprintf(out, cap, "the handshake failed");
}

/* A server's handshake that failed for a reason other than our own
 * refusal of the client's certificate (that one is logged already). */
void peerauth_log_server_failure(dtlsudp_assoc *a, int reason)
{
    char why[300], addr[64] = "?";

    if ((reason != DTLSUDP_ERR_PEER_ALERT && reason != DTLSUDP_ERR_HANDSHAKE) || !refusal_log_allowed())
        return;
    if (reason == DTLSUDP_ERR_HANDSHAKE && dtlsudp_assoc_failure_detail(a) == NULL)
        return; /* nothing useful to say (e.g. a datagram OpenSSL rejected) */
    peerauth_explain_failure(dtlsudp_assoc_peer_alert(a), dtlsudp_assoc_failure_detail(a), 1, why, sizeof(why));
    (void)dtlsudp_addr_format(dtlsudp_assoc_peer(a), addr, sizeof(addr));
    snmp_log(LOG_WARNING, "dtlsudp: handshake with %s failed: %s\n", addr, why);
}

void dtlsudp_snmp_trust_reload(void)
{
    /* trustCert / x509CRLFile may have changed (SIGHUP): the store is
     * rebuilt from the new lines at the next pump, before any handshake
     * verifies a client against it; certificates are looked up by
     * fingerprint afresh. */
    peerauth_server_trust_expire();
    dtlsudp_snmp_cert_index_reset();
    /* Client endpoints (trapsess, informs) build theirs again at their
     * next connection; an open one keeps its own reference meanwhile. */
    for (endpoint *ep = endpoint_all; ep != NULL; ep = ep->next_all)
        if (!ep->is_server && ep->trust != NULL) {
            X509_STORE_free(ep->trust);
            ep->trust = NULL;
        }
}
