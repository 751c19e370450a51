/*
 * transport.c - the netsnmp_transport hooks of the dtlsudp domain, on the
 * socket layer (transport/net: dtlsudp_listener_*, dtlsudp_conn_*).
 *
 * The transport's fd (what the application's select() watches) is an
 * epoll fd over two fds: the socket layer's pollable fd, and an eventfd
 * that is readable exactly while decrypted messages wait in memory.  So
 * select() wakes for new datagrams and, after f_recv has delivered one
 * message, again for the next one already decrypted: none is left waiting
 * without a wake-up, in snmpd as in any Net-SNMP application (no
 * register_readfd needed).
 *
 * Server (local = 1, agentAddress): one netsnmp_transport per listener,
 * whatever the demux (router: the listening socket; osnet: the listener's
 * epoll fd over its per-association sockets).  f_recv pumps the listener and
 * moves every decrypted message, with what TSM needs to know about its
 * association, into a bounded queue, then delivers one.  One session serves
 * every association: no per-association session scan, no accept stall.
 *
 * Client (local = 0, managers, trap sinks): one dtlsudp_connect()
 * connection per transport, opened in f_open (after the -T settings are
 * applied through f_config); its connected socket joins the epoll fd.
 *
 * Timers: the engine's next deadline arms a snmp_alarm (agent loop) after
 * every pump, recv and send.  Synchronous managers run no alarms while
 * waiting (snmp_synch_response selects with NETSNMP_SELECT_NOALARMS), so a
 * client's epoll fd also holds a timerfd armed at the same deadline: the
 * application's select() wakes when a handshake flight is due for
 * retransmission (RFC 6347 4.2.4) and f_recv runs the timers, whatever the
 * application's own retry timeout.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf */
#endif
#include <config.h>

#include "snmp_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <poll.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <net-snmp/library/cert_util.h>

#define TDATA_MAGIC 0x64746c73u /* "dtls" */
#define QUEUE_MAX 1024          /* decrypted messages waiting for f_recv */
#define SECNAME_CAP 33

/* IP + UDP + the largest DTLS 1.2 record overhead we allow (CBC-SHA384:
 * header 13, IV 16, MAC 48, padding 16). */
#define OVERHEAD_V4 (20 + 8 + 93)
#define OVERHEAD_V6 (40 + 8 + 93)

typedef struct queued_msg {
    struct queued_msg *next;
    uint64_t assoc_id;
    dtlsudp_addr peer, local;
    int level;
    char sec_name[SECNAME_CAP];
    size_t len;
    uint8_t data[];
} queued_msg;

typedef struct endpoint {
    int refs;
    int is_server;
    dtlsudp_addr addr; /* server: bound address; client: the peer */
    int family;
    int v6only; /* server: dtlsudp6:/dtls6: bind IPv6 only */
    dtlsudp_snmp_settings settings;

    /* server */
    dtlsudp_listener *listener;
    int event_fd;   /* readable while decrypted messages wait */
    int event_set;  /* event_fd's counter is non-zero */
    int poll_fd;    /* epoll: event_fd + the socket layer's fd; t->sock */
    int watched_fd; /* the socket layer's fd currently in poll_fd */
    queued_msg *q_head, *q_tail;
    size_t q_len;
    uint64_t q_dropped;
    struct endpoint *next_server; /* the list behind the MIB accessors */
    struct endpoint *next_all;

    /* client */
    dtlsudp_conn *conn;
    char *our_identity, *their_identity, *their_hostname, *trust_cert;
    char sec_name[SECNAME_CAP]; /* the session's, sent back to TSM */
    X509_STORE *trust;          /* chain verification of the server */
    dtlsudp_fingerprint pin;
    int have_pin;
    int counted_open_error;
    int last_alert;             /* the peer's fatal alert that ended the handshake, -1 none */
    const char *last_detail;    /* our side's OpenSSL reason, or NULL */
    int held_writes;         /* messages written while the handshake ran */
    long session_timeout_ms; /* the session's retry timeout (setup_session) */
    int timer_fd;            /* in poll_fd: readable when a timer is due */
    dtlsudp_time timer_at;   /* what timer_fd is armed for */
    uint8_t session_key[DTLSUDP_SNMP_SESSION_KEY_LEN]; /* sesscache.c, with settings.resume */

    unsigned alarm_reg;
    dtlsudp_time alarm_at;
} endpoint;

typedef struct tdata {
    uint32_t magic;
    endpoint *ep;
} tdata;

static endpoint *servers;
static endpoint *all_eps;
static dtlsudp_stats retired;

static int endpoint_pump(endpoint *ep, int announce);
static void endpoint_arm(endpoint *ep);
static void event_signal(endpoint *ep);
static int queue_push(endpoint *ep, dtlsudp_assoc *a, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                      const uint8_t *data, size_t len);
static void queue_leftovers(endpoint *ep, dtlsudp_assoc *a);

/* ---------------------------------------------------------------------
 * Per-association securityName, owned by the association so that it is
 * freed with it whatever ends it (the SSL itself is gone after the
 * engine's hand-off).
 * --------------------------------------------------------------------- */

static const char *assoc_secname(dtlsudp_assoc *a)
{
    return dtlsudp_assoc_get_owned(a);
}

static int assoc_level(dtlsudp_assoc *a)
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

/* ---------------------------------------------------------------------
 * Certificate decisions (engine verify callback)
 * --------------------------------------------------------------------- */

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

static X509_STORE *server_trust_get(void)
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
    for (ep = servers; ep != NULL && server_trust != NULL; ep = ep->next_server) {
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

/* The endpoint an engine callback is about.  The socket layer forwards
 * our user pointer; the engine match is the fallback should it not. */
static endpoint *endpoint_for(void *user, dtlsudp_assoc *a)
{
    dtlsudp_engine *e = a != NULL ? dtlsudp_assoc_engine(a) : NULL;
    endpoint *ep;

    for (ep = all_eps; ep != NULL; ep = ep->next_all)
        if (ep == user)
            return ep;
    for (ep = all_eps; ep != NULL && e != NULL; ep = ep->next_all) {
        if (ep->listener != NULL && dtlsudp_listener_engine(ep->listener) == e)
            return ep;
        if (ep->conn != NULL && dtlsudp_conn_assoc(ep->conn) != NULL &&
            dtlsudp_assoc_engine(dtlsudp_conn_assoc(ep->conn)) == e)
            return ep;
    }
    return NULL;
}

static int on_verify(void *user, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    endpoint *ep = endpoint_for(user, a);

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
static void explain_failure(int alert, const char *detail, int we_are_server, char *out, size_t cap)
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
static void log_server_handshake_failure(dtlsudp_assoc *a, int reason)
{
    char why[300], addr[64] = "?";

    if ((reason != DTLSUDP_ERR_PEER_ALERT && reason != DTLSUDP_ERR_HANDSHAKE) || !refusal_log_allowed())
        return;
    if (reason == DTLSUDP_ERR_HANDSHAKE && dtlsudp_assoc_failure_detail(a) == NULL)
        return; /* nothing useful to say (e.g. a datagram OpenSSL rejected) */
    explain_failure(dtlsudp_assoc_peer_alert(a), dtlsudp_assoc_failure_detail(a), 1, why, sizeof(why));
    (void)dtlsudp_addr_format(dtlsudp_assoc_peer(a), addr, sizeof(addr));
    snmp_log(LOG_WARNING, "dtlsudp: handshake with %s failed: %s\n", addr, why);
}

/* After every client handshake (full or abbreviated: the server may have
 * renewed the ticket), the session replaces the stored one. */
static void client_session_store(endpoint *ep, dtlsudp_assoc *a)
{
    uint8_t blob[SESSCACHE_MAX_BLOB];
    size_t len = 0;

    if (dtlsudp_assoc_session(a, blob, sizeof(blob), &len) != DTLSUDP_OK)
        return;
    dtlsudp_snmp_session_put(ep->session_key, ep->settings.session_file, blob, len);
    OPENSSL_cleanse(blob, len);
}

static void on_event(void *user, dtlsudp_assoc *a, int event, int reason)
{
    endpoint *ep = endpoint_for(user, a);

    if (ep == NULL)
        return;
    switch (event) {
    case DTLSUDP_EVENT_ESTABLISHED:
        if (ep->is_server)
            snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONACCEPTS);
        else if (ep->settings.resume)
            client_session_store(ep, a);
        DEBUGMSGTL(("dtlsudp", "association %llu established (%s, %s%s)\n",
                    (unsigned long long)dtlsudp_assoc_id(a), dtlsudp_assoc_version(a),
                    dtlsudp_assoc_cipher(a), dtlsudp_assoc_resumed(a) ? ", resumed" : ""));
        break;
    case DTLSUDP_EVENT_CLOSED:
        DEBUGMSGTL(("dtlsudp", "association %llu closed: %s\n", (unsigned long long)dtlsudp_assoc_id(a),
                    dtlsudp_strerror(reason)));
        /* closeSession as a server: only sessions that were open (the
         * state is already CLOSED here; the handshake tells). */
        if (ep->is_server && dtlsudp_assoc_was_established(a))
            snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONSERVERCLOSES);
        if (ep->is_server)
            queue_leftovers(ep, a);
        if (ep->is_server && !dtlsudp_assoc_was_established(a))
            log_server_handshake_failure(a, reason);
        if (!ep->is_server && (reason == DTLSUDP_ERR_PEER_ALERT || reason == DTLSUDP_ERR_HANDSHAKE)) {
            ep->last_alert = dtlsudp_assoc_peer_alert(a);
            ep->last_detail = dtlsudp_assoc_failure_detail(a);
        }
        /* A failed handshake may have offered the stored session: the
         * next one starts in full. */
        if (!ep->is_server && ep->settings.resume && dtlsudp_assoc_ssl(a) != NULL &&
            !SSL_is_init_finished(dtlsudp_assoc_ssl(a)))
            dtlsudp_snmp_session_forget(ep->session_key, ep->settings.session_file);
        if (!ep->is_server && reason != DTLSUDP_ERR_CLOSED && !ep->counted_open_error &&
            (reason == DTLSUDP_ERR_HANDSHAKE || reason == DTLSUDP_ERR_TIMEOUT ||
             reason == DTLSUDP_ERR_PEER_ALERT || reason == DTLSUDP_ERR_REFUSED)) {
            snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENERRORS);
            ep->counted_open_error = 1;
        }
        break;
    default:
        break;
    }
}

static void engine_log(void *user, int level, const char *message)
{
    if (level <= DTLSUDP_LOG_WARNING)
        snmp_log(level, "dtlsudp: %s\n", message);
    else
        DEBUGMSGTL(("dtlsudp:engine", "%s\n", message));
}

static void engine_config(endpoint *ep, dtlsudp_engine_config *cfg)
{
    dtlsudp_snmp_settings_to_engine(&ep->settings, cfg);
    cfg->ciphers = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_ALGORITMS);
    cfg->verify = on_verify;
    cfg->on_event = on_event;
    cfg->log = engine_log;
    cfg->user = ep;
}

/* ---------------------------------------------------------------------
 * Timers
 * --------------------------------------------------------------------- */

static dtlsudp_time endpoint_deadline(const endpoint *ep)
{
    dtlsudp_time d = DTLSUDP_TIME_NEVER, e;

    if (ep->listener != NULL) {
        d = dtlsudp_listener_next_timeout(ep->listener);
        /* 0 also means "a connection waits to be accepted", which this
         * router-style use never does: fall back to the engine's timers. */
        e = dtlsudp_engine_next_timeout(dtlsudp_listener_engine(ep->listener));
        if (d == 0 || e < d)
            d = e;
    } else if (ep->conn != NULL && dtlsudp_conn_assoc(ep->conn) != NULL) {
        /* The engine's timers only: "0, plaintext waiting" is the eventfd's
         * business, and an ended connection has no timers left. */
        d = dtlsudp_engine_next_timeout(dtlsudp_assoc_engine(dtlsudp_conn_assoc(ep->conn)));
    }
    return d;
}

static void alarm_fired(unsigned reg, void *arg)
{
    endpoint *ep = arg;
    dtlsudp_time now = dtlsudp_now();

    ep->alarm_reg = 0;
    ep->alarm_at = DTLSUDP_TIME_NEVER;
    if (ep->listener != NULL) {
        (void)dtlsudp_listener_handle_timeout(ep->listener, now);
        (void)endpoint_pump(ep, 1);
        return; /* endpoint_pump re-arms */
    }
    if (ep->conn != NULL) {
        (void)dtlsudp_conn_handle_timeout(ep->conn, now);
        if (dtlsudp_conn_state(ep->conn) != DTLSUDP_STATE_CLOSED && dtlsudp_conn_next_timeout(ep->conn) == 0)
            event_signal(ep);
    }
    endpoint_arm(ep);
}

/* Arm the client's timerfd for deadline (disarm for NEVER). */
static void timer_fd_arm(endpoint *ep, dtlsudp_time deadline)
{
    struct itimerspec its;
    dtlsudp_time now, wait;

    if (ep->timer_fd < 0 || deadline == ep->timer_at)
        return;
    memset(&its, 0, sizeof(its));
    if (deadline != DTLSUDP_TIME_NEVER) {
        now = dtlsudp_now();
        wait = deadline > now ? deadline - now : 1;
        its.it_value.tv_sec = (time_t)(wait / 1000);
        its.it_value.tv_nsec = (long)(wait % 1000) * 1000000L;
    }
    if (timerfd_settime(ep->timer_fd, 0, &its, NULL) == 0)
        ep->timer_at = deadline;
}

/* The timerfd fired (or may have): consume it; endpoint_arm re-arms.  Not
 * before its deadline, when it cannot have fired: no read per message. */
static void timer_fd_clear(endpoint *ep)
{
    uint64_t expirations;

    if (ep->timer_fd < 0 || ep->timer_at == DTLSUDP_TIME_NEVER || ep->timer_at > dtlsudp_now())
        return;
    if (read(ep->timer_fd, &expirations, sizeof(expirations)) > 0)
        ep->timer_at = DTLSUDP_TIME_NEVER;
}

static void endpoint_arm(endpoint *ep)
{
    dtlsudp_time deadline = endpoint_deadline(ep), now;
    struct timeval tv;

    timer_fd_arm(ep, deadline);
    if (deadline == ep->alarm_at && ep->alarm_reg != 0)
        return;
    if (ep->alarm_reg != 0) {
        snmp_alarm_unregister(ep->alarm_reg);
        ep->alarm_reg = 0;
    }
    ep->alarm_at = deadline;
    if (deadline == DTLSUDP_TIME_NEVER)
        return;
    now = dtlsudp_now();
    /* A deadline already due still waits 1 ms: the loop gets to run. */
    deadline = deadline > now ? deadline - now : 1;
    tv.tv_sec = (time_t)(deadline / 1000);
    tv.tv_usec = (suseconds_t)((deadline % 1000) * 1000);
    ep->alarm_reg = snmp_alarm_register_hr(tv, 0, alarm_fired, ep);
}

/* ---------------------------------------------------------------------
 * Server: pump, queue, eventfd
 * --------------------------------------------------------------------- */

/* The eventfd's state is mirrored in event_set, so that announcing or
 * withdrawing what is already so costs no system call: on the message
 * path the queue is filled and emptied within one f_recv, and a write
 * there would only wake select() for nothing. */
static void event_signal(endpoint *ep)
{
    uint64_t one = 1;

    if (ep->event_fd < 0 || ep->event_set)
        return;
    if (write(ep->event_fd, &one, sizeof(one)) == (ssize_t)sizeof(one) || errno == EAGAIN)
        ep->event_set = 1;
    else
        DEBUGMSGTL(("dtlsudp", "eventfd write: %s\n", strerror(errno)));
}

static void event_clear(endpoint *ep)
{
    uint64_t v;

    /* One read takes the whole counter (no EFD_SEMAPHORE). */
    if (ep->event_fd >= 0 && ep->event_set) {
        if (read(ep->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
            DEBUGMSGTL(("dtlsudp", "eventfd read: %s\n", strerror(errno)));
        ep->event_set = 0;
    }
}

/* Queue one decrypted message with what TSM needs to know about its
 * association (a).  Returns 0, or -1 when it was dropped (and counted). */
static int queue_push(endpoint *ep, dtlsudp_assoc *a, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                      const uint8_t *data, size_t len)
{
    const char *name = assoc_secname(a);
    queued_msg *m;

    if (a == NULL || peer == NULL || name == NULL || assoc_level(a) == 0) {
        /* No verified identity: RFC 6353 5.3.2 says no SNMP message
         * may be accepted before the certificate is authenticated. */
        snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCACHES);
        return -1;
    }
    if (ep->q_len >= QUEUE_MAX || (m = malloc(sizeof(*m) + len)) == NULL) {
        ep->q_dropped++;
        return -1;
    }
    memset(m, 0, sizeof(*m));
    m->assoc_id = dtlsudp_assoc_id(a);
    m->peer = *peer;
    m->local = local != NULL && local->sa.sa_family != AF_UNSPEC ? *local : ep->addr;
    m->level = assoc_level(a);
    snprintf(m->sec_name, sizeof(m->sec_name), "%s", name);
    m->len = len;
    memcpy(m->data, data, len);
    if (ep->q_tail != NULL)
        ep->q_tail->next = m;
    else
        ep->q_head = m;
    ep->q_tail = m;
    ep->q_len++;
    return 0;
}

/* An association of ours ends (close_notify, alert, expiry) with decrypted
 * messages not read yet: snmptrap sends its message and its close_notify
 * back to back.  Those messages arrived authenticated, before the end (RFC
 * 6353 5.4 closes the session, not what it already carried), so queue them
 * now, with the identity that is about to go with the association: the
 * socket layer's listener_recv no longer can.  A response to one of them
 * finds no session and is dropped and counted (hook_send). */
static void queue_leftovers(endpoint *ep, dtlsudp_assoc *a)
{
    uint8_t buf[65536];
    size_t len = 0;
    int n = 0;

    while (dtlsudp_assoc_read(a, buf, sizeof(buf), &len) == DTLSUDP_OK)
        if (queue_push(ep, a, dtlsudp_assoc_peer(a), dtlsudp_assoc_local(a), buf, len) == 0)
            n++;
    if (n > 0) {
        DEBUGMSGTL(("dtlsudp", "association %llu ended with %d message(s) unread: queued\n",
                    (unsigned long long)dtlsudp_assoc_id(a), n));
        event_signal(ep);
    }
}

/* Move every decrypted message out of the listener (the conn pointers it
 * hands out are valid only until its next process call).  announce: make
 * the eventfd readable for what was queued (not when the caller, f_recv,
 * delivers at once and settles the eventfd itself). */
static int endpoint_pump(endpoint *ep, int announce)
{
    uint8_t buf[65536];
    int rc, moved = 0;

    (void)server_trust_get(); /* after a reload: the new trustCert / CRL lines */
    rc = dtlsudp_listener_process(ep->listener, dtlsudp_now());
    if (rc != DTLSUDP_OK)
        snmp_log(LOG_ERR, "dtlsudp: listener failed: %s\n", dtlsudp_strerror(rc));
    for (;;) {
        dtlsudp_conn *from = NULL;
        dtlsudp_assoc *a;
        size_t len = 0;

        rc = dtlsudp_listener_recv(ep->listener, buf, sizeof(buf), &len, &from);
        if (rc != DTLSUDP_OK)
            break;
        a = from != NULL ? dtlsudp_conn_assoc(from) : NULL;
        if (queue_push(ep, a, a != NULL ? dtlsudp_conn_peer(from) : NULL,
                       a != NULL ? dtlsudp_conn_local(from) : NULL, buf, len) == 0)
            moved++;
    }
    if (announce && ep->q_len > 0)
        event_signal(ep);
    endpoint_arm(ep);
    return moved;
}

/* The epoll fd and eventfd behind t->sock.  Returns 0 or -1. */
static int poll_open(endpoint *ep)
{
    struct epoll_event ev;

    ep->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ep->poll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (ep->event_fd < 0 || ep->poll_fd < 0)
        return -1;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.fd = ep->event_fd;
    return epoll_ctl(ep->poll_fd, EPOLL_CTL_ADD, ep->event_fd, &ev);
}

/* Watch fd (the listener's or the connection's) instead of the previous
 * one.  A closed fd leaves the epoll set by itself. */
static int poll_watch(endpoint *ep, int fd)
{
    struct epoll_event ev;

    if (ep->watched_fd >= 0 && ep->watched_fd != fd)
        (void)epoll_ctl(ep->poll_fd, EPOLL_CTL_DEL, ep->watched_fd, NULL);
    ep->watched_fd = -1;
    if (fd < 0)
        return 0;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(ep->poll_fd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno != EEXIST)
        return -1;
    ep->watched_fd = fd;
    return 0;
}

/* A client's timerfd joins the epoll set (see the top of this file). */
static int poll_add_timer(endpoint *ep)
{
    struct epoll_event ev;

    if (ep->timer_fd >= 0)
        return 0;
    ep->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep->timer_fd < 0)
        return -1;
    ep->timer_at = DTLSUDP_TIME_NEVER;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.fd = ep->timer_fd;
    return epoll_ctl(ep->poll_fd, EPOLL_CTL_ADD, ep->timer_fd, &ev);
}

static void poll_close(endpoint *ep)
{
    if (ep->poll_fd >= 0)
        close(ep->poll_fd);
    if (ep->event_fd >= 0)
        close(ep->event_fd);
    if (ep->timer_fd >= 0)
        close(ep->timer_fd);
    ep->poll_fd = ep->event_fd = ep->watched_fd = ep->timer_fd = -1;
    ep->timer_at = DTLSUDP_TIME_NEVER;
}

static int server_open(endpoint *ep)
{
    dtlsudp_listener_config cfg;
    char addr[80];
    int rc;

    if (server_trust_get() == NULL || server_trust_broken) {
        snmp_log(LOG_ERR, "dtlsudp: not listening: the trust configuration could not be loaded\n");
        return -1;
    }

    dtlsudp_listener_config_init(&cfg);
    engine_config(ep, &cfg.engine);
    cfg.engine.trust_store = server_trust;
    cfg.demux = ep->settings.demux == DTLSUDP_SNMP_DEMUX_ROUTER ? DTLSUDP_DEMUX_ROUTER : DTLSUDP_DEMUX_OSNET;
    cfg.v6only = ep->v6only;
    rc = dtlsudp_addr_format(&ep->addr, addr, sizeof(addr));
    if (rc == DTLSUDP_OK)
        rc = dtlsudp_listener_new(addr, &cfg, dtlsudp_now(), &ep->listener);
    if (rc != DTLSUDP_OK) {
        snmp_log(LOG_ERR, "dtlsudp: cannot listen on %s: %s%s%s\n", addr, dtlsudp_strerror(rc),
                 rc == DTLSUDP_ERR_SYSTEM ? ": " : "", rc == DTLSUDP_ERR_SYSTEM ? strerror(errno) : "");
        ep->listener = NULL;
        return -1;
    }
    /* The engine makes its first SSL at the first ClientHello, so the
     * identity from Net-SNMP's store goes straight into its SSL_CTX. */
    if (dtlsudp_snmp_certs_use_identity(dtlsudp_engine_ssl_ctx(dtlsudp_listener_engine(ep->listener)), NULL,
                                        NULL, 0) != 0) {
        dtlsudp_listener_free(ep->listener);
        ep->listener = NULL;
        return -1;
    }
    ep->addr = *dtlsudp_listener_local_addr(ep->listener);
    if (poll_open(ep) != 0 || poll_watch(ep, dtlsudp_listener_fd(ep->listener)) != 0) {
        snmp_log(LOG_ERR, "dtlsudp: cannot watch the listener's fd: %s\n", strerror(errno));
        poll_close(ep);
        dtlsudp_listener_free(ep->listener);
        ep->listener = NULL;
        return -1;
    }
    ep->next_server = servers;
    servers = ep;
    /* At startup the operator sees which addresses this transport (not
     * Net-SNMP's built-in DTLSUDP) serves. */
    snmp_log(LOG_INFO, "dtlsudp: listening on %s (%s demux), %s\n", addr,
             dtlsudp_listener_demux(ep->listener) == DTLSUDP_DEMUX_ROUTER ? "router" : "osnet",
             ep->addr.sa.sa_family == AF_INET ? "IPv4"
             : ep->v6only                     ? "IPv6 only"
                                              : "IPv4 and IPv6");
    endpoint_arm(ep);
    return 0;
}

static void server_close(endpoint *ep)
{
    endpoint **pp;
    queued_msg *m;
    dtlsudp_net_stats st;

    for (pp = &servers; *pp != NULL; pp = &(*pp)->next_server)
        if (*pp == ep) {
            *pp = ep->next_server;
            break;
        }
    if (ep->listener != NULL) {
        if (dtlsudp_listener_get_stats(ep->listener, &st) == DTLSUDP_OK)
            dtlsudp_snmp_stats_retire(&st.engine);
        /* RFC 6353 5.4: close_notify to every association. */
        dtlsudp_listener_free(ep->listener);
        ep->listener = NULL;
    }
    while ((m = ep->q_head) != NULL) {
        ep->q_head = m->next;
        free(m);
    }
    ep->q_tail = NULL;
    ep->q_len = 0;
    poll_close(ep);
}

/* ---------------------------------------------------------------------
 * Client
 * --------------------------------------------------------------------- */

/* The stored session of this target: the key names the target, our
 * certificate and every setting the server is verified with, so a session
 * is looked up only for the same identities (the engine checks both
 * again before it offers one). */
static void client_session_key(endpoint *ep, const char *cert_path)
{
    char target[64] = "", pin[3 * 64 + 1] = "-", *text = NULL;

    (void)dtlsudp_addr_format(&ep->addr, target, sizeof(target));
    if (ep->have_pin)
        (void)dtlsudp_fingerprint_format(&ep->pin, pin, sizeof(pin));
    if (asprintf(&text, "dtlsudp session 1\n%s\n%s\n%s\n%s\n%s", target, cert_path != NULL ? cert_path : "-",
                 pin, ep->their_hostname != NULL ? ep->their_hostname : "-",
                 ep->trust_cert != NULL ? ep->trust_cert : "-") < 0) {
        memset(ep->session_key, 0, sizeof(ep->session_key));
        return;
    }
    dtlsudp_snmp_session_key(text, ep->session_key);
    free(text);
}

static int client_connect(endpoint *ep)
{
    uint8_t session[SESSCACHE_MAX_BLOB];
    size_t session_len = 0;
    dtlsudp_conn_config cfg;
    char host[64], port[8], *cert_path = NULL, *key_path = NULL;
    const char *their = ep->their_identity;
    int rc;

    if (their == NULL)
        their = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_PEER_CERT);
    ep->have_pin = 0;
    if (their != NULL && their[0] != '\0') {
        if (dtlsudp_snmp_certs_peer_fingerprint(their, &ep->pin) != 0) {
            /* The application then says only "Unknown host". */
            dtlsudp_snmp_certs_log_missing(ep->their_identity != NULL ? "-T peerCert" : "peerCert", their);
            return -1;
        }
        ep->have_pin = 1;
    }
    if (ep->trust == NULL)
        ep->trust = dtlsudp_snmp_certs_trust_store(ep->trust_cert);
    if (ep->trust == NULL) {
        snmp_log(LOG_ERR, "dtlsudp: session not opened: the trust configuration could not be loaded\n");
        return -1;
    }
    if (dtlsudp_snmp_certs_identity_paths(ep->our_identity, &cert_path, &key_path) != 0)
        return -1;

    dtlsudp_conn_config_init(&cfg);
    engine_config(ep, &cfg.engine);
    cfg.engine.cert_file = cert_path;
    cfg.engine.key_file = key_path;
    cfg.engine.trust_store = ep->trust;
    if (ep->have_pin) {
        cfg.connect.peer_fingerprints = &ep->pin;
        cfg.connect.n_peer_fingerprints = 1;
    }
    /* Client role: keep the session and offer the stored one. */
    cfg.engine.session_tickets = ep->settings.resume;
    if (ep->settings.resume) {
        client_session_key(ep, cert_path);
        if (dtlsudp_snmp_session_get(ep->session_key, ep->settings.session_file, session, sizeof(session),
                                     &session_len) == 0) {
            cfg.connect.session = session;
            cfg.connect.session_len = session_len;
            DEBUGMSGTL(("dtlsudp", "offering a stored session (%zu bytes)\n", session_len));
        }
    }
    if (ep->addr.sa.sa_family == AF_INET6)
        inet_ntop(AF_INET6, &ep->addr.sin6.sin6_addr, host, sizeof(host));
    else
        inet_ntop(AF_INET, &ep->addr.sin.sin_addr, host, sizeof(host));
    snprintf(
        port, sizeof(port), "%u",
        (unsigned)ntohs(ep->addr.sa.sa_family == AF_INET6 ? ep->addr.sin6.sin6_port : ep->addr.sin.sin_port));
    /* RFC 6353 snmpTlstmSessionOpens: every openSession() as a client. */
    snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENS);
    ep->counted_open_error = 0;
    ep->last_alert = -1;
    ep->last_detail = NULL;
    rc = dtlsudp_connect(host, port, &cfg, 0, dtlsudp_now(), &ep->conn);
    OPENSSL_cleanse(session, session_len);
    free(cert_path);
    free(key_path);
    if (rc == DTLSUDP_OK &&
        ((ep->poll_fd < 0 && poll_open(ep) != 0) || poll_add_timer(ep) != 0 ||
         poll_watch(ep, dtlsudp_conn_fd(ep->conn)) != 0)) {
        snmp_log(LOG_ERR, "dtlsudp: cannot watch the connection's fd: %s\n", strerror(errno));
        dtlsudp_conn_free(ep->conn);
        ep->conn = NULL;
        rc = DTLSUDP_ERR_SYSTEM;
    }
    if (rc == DTLSUDP_OK && dtlsudp_conn_assoc(ep->conn) != NULL) {
        /* Our Certificate goes out in the third flight: the issuers can
         * still join the association's own SSL. */
        (void)dtlsudp_snmp_certs_use_identity(NULL, dtlsudp_assoc_ssl(dtlsudp_conn_assoc(ep->conn)),
                                              ep->our_identity, 1);
    }
    if (rc != DTLSUDP_OK) {
        snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENERRORS);
        snmp_log(LOG_ERR, "dtlsudp: cannot connect to %s:%s: %s\n", host, port, dtlsudp_strerror(rc));
        ep->conn = NULL;
        return -1;
    }
    return 0;
}

/* Longest f_close waits for a handshake that still holds messages. */
#define CLOSE_FLUSH_MAX_MS 5000

/* Drive the client's handshake until it completes or fails, for at most
 * limit ms (and never beyond the engine's handshake timeout). */
static void client_drive_handshake(endpoint *ep, dtlsudp_time limit)
{
    dtlsudp_time now = dtlsudp_now(), deadline, next;
    struct pollfd pfd;

    if (ep->settings.engine.handshake_timeout != 0 && limit > ep->settings.engine.handshake_timeout)
        limit = ep->settings.engine.handshake_timeout;
    deadline = now + limit;
    while (dtlsudp_conn_state(ep->conn) == DTLSUDP_STATE_HANDSHAKING && now < deadline) {
        next = dtlsudp_conn_next_timeout(ep->conn);
        if (next > deadline)
            next = deadline;
        memset(&pfd, 0, sizeof(pfd));
        pfd.fd = dtlsudp_conn_fd(ep->conn);
        pfd.events = POLLIN;
        if (poll(&pfd, 1, next > now ? (int)(next - now) : 0) < 0 && errno != EINTR)
            break;
        now = dtlsudp_now();
        if (dtlsudp_conn_process(ep->conn, now) != DTLSUDP_OK)
            break;
    }
}

/* A client that wrote while the handshake ran (snmptrap exits right after
 * its send) holds the messages in the engine until the handshake
 * completes: finish it, bounded by the handshake timeout (at most
 * CLOSE_FLUSH_MAX_MS), so that they leave before close_notify (RFC 6353
 * 5.4).  Blocking here is fine: f_close is the application's last word. */
static void client_finish_handshake(endpoint *ep)
{
    client_drive_handshake(ep, CLOSE_FLUSH_MAX_MS);
    /* Established: the held messages go out with this flush. */
    (void)dtlsudp_conn_handle_timeout(ep->conn, dtlsudp_now());
    DEBUGMSGTL(("dtlsudp", "close: handshake %s before close_notify\n",
                dtlsudp_conn_state(ep->conn) == DTLSUDP_STATE_ESTABLISHED ? "completed" : "did not complete"));
}

static void client_close(endpoint *ep)
{
    if (ep->conn != NULL) {
        if (ep->held_writes && dtlsudp_conn_state(ep->conn) == DTLSUDP_STATE_HANDSHAKING)
            client_finish_handshake(ep);
        ep->held_writes = 0;
        if (dtlsudp_conn_state(ep->conn) != DTLSUDP_STATE_CLOSED)
            snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONCLIENTCLOSES);
        {
            dtlsudp_conn_stats st;
            if (dtlsudp_conn_get_stats(ep->conn, &st) == DTLSUDP_OK)
                dtlsudp_snmp_stats_retire(&st.net.engine);
        }
        dtlsudp_conn_free(ep->conn); /* close_notify (RFC 6353 5.4) */
        ep->conn = NULL;
        ep->watched_fd = -1; /* its fd is closed: gone from the epoll set */
    }
}

/* ---------------------------------------------------------------------
 * Endpoint lifetime (shared by transport copies)
 * --------------------------------------------------------------------- */

static endpoint *endpoint_of(netsnmp_transport *t)
{
    tdata *d = t != NULL ? t->data : NULL;

    if (d == NULL || t->data_length != (int)sizeof(*d) || d->magic != TDATA_MAGIC)
        return NULL;
    return d->ep;
}

static void endpoint_release(endpoint *ep)
{
    endpoint **pp;

    if (ep == NULL || --ep->refs > 0)
        return;
    if (ep->alarm_reg != 0)
        snmp_alarm_unregister(ep->alarm_reg);
    ep->alarm_reg = 0;
    /* Still in all_eps while closing: a client may finish its handshake
     * here, and the engine's callbacks find the endpoint through it. */
    if (ep->is_server)
        server_close(ep);
    else
        client_close(ep);
    for (pp = &all_eps; *pp != NULL; pp = &(*pp)->next_all)
        if (*pp == ep) {
            *pp = ep->next_all;
            break;
        }
    poll_close(ep);
    if (ep->trust != NULL)
        X509_STORE_free(ep->trust);
    free(ep->our_identity);
    free(ep->their_identity);
    free(ep->their_hostname);
    free(ep->trust_cert);
    free(ep);
}

/* ---------------------------------------------------------------------
 * The hooks
 * --------------------------------------------------------------------- */

static int hook_recv(netsnmp_transport *t, void *buf, int size, void **opaque, int *olength)
{
    endpoint *ep = endpoint_of(t);
    netsnmp_tmStateReference *ref;
    dtlsudp_snmp_msgsrc src;
    dtlsudp_addr peer, local;
    char name[SECNAME_CAP];
    size_t len = 0;
    int rc;

    if (opaque != NULL)
        *opaque = NULL;
    if (olength != NULL)
        *olength = 0;
    if (ep == NULL || buf == NULL || size <= 0 || opaque == NULL || olength == NULL)
        return -1;

    memset(&src, 0, sizeof(src));
    event_clear(ep);
    timer_fd_clear(ep);
    if (ep->is_server) {
        queued_msg *m = ep->q_head;

        if (m == NULL) {
            (void)endpoint_pump(ep, 0);
            m = ep->q_head;
        }
        if (m == NULL) {
            t->flags |= NETSNMP_TRANSPORT_FLAG_EMPTY_PKT;
            return 0;
        }
        ep->q_head = m->next;
        if (ep->q_head == NULL)
            ep->q_tail = NULL;
        ep->q_len--;
        /* More decrypted messages: select() must wake again for them. */
        if (ep->q_len > 0)
            event_signal(ep);
        if (m->len > (size_t)size) {
            free(m);
            t->flags |= NETSNMP_TRANSPORT_FLAG_EMPTY_PKT;
            return 0;
        }
        memcpy(buf, m->data, m->len);
        len = m->len;
        /* Copies: m is freed before the debug line below. */
        peer = m->peer;
        local = m->local;
        memcpy(name, m->sec_name, sizeof(name));
        src.assoc_id = m->assoc_id;
        src.sec_name = name;
        src.security_level = m->level;
        src.remote = &peer;
        src.local = &local;
        ref = malloc(sizeof(*ref));
        if (ref == NULL || dtlsudp_snmp_tmstate_fill(ref, &src) != 0) {
            free(ref);
            free(m);
            t->flags |= NETSNMP_TRANSPORT_FLAG_EMPTY_PKT;
            return 0;
        }
        free(m);
    } else {
        dtlsudp_assoc *a;

        if (ep->conn == NULL)
            return -1;
        /* Plaintext already in memory first: reading the socket again
         * could queue a second message that no readable fd announces. */
        rc = dtlsudp_conn_read(ep->conn, buf, (size_t)size, &len, 0);
        if (rc == DTLSUDP_ERR_AGAIN) {
            (void)dtlsudp_conn_process(ep->conn, dtlsudp_now());
            rc = dtlsudp_conn_read(ep->conn, buf, (size_t)size, &len, 0);
        }
        /* Delivered one and another is already decrypted: wake select()
         * for it.  (Only after a delivery: a connection that has ended may
         * report work "due now" for ever.) */
        if (rc == DTLSUDP_OK && dtlsudp_conn_next_timeout(ep->conn) == 0)
            event_signal(ep);
        endpoint_arm(ep);
        if (rc != DTLSUDP_OK) {
            /* Handshake traffic or nothing yet: consumed, nothing to
             * deliver.  A dead association is replaced at the next send. */
            t->flags |= NETSNMP_TRANSPORT_FLAG_EMPTY_PKT;
            return 0;
        }
        a = dtlsudp_conn_assoc(ep->conn);
        if (a == NULL || assoc_level(a) == 0) {
            t->flags |= NETSNMP_TRANSPORT_FLAG_EMPTY_PKT;
            return 0;
        }
        src.assoc_id = dtlsudp_assoc_id(a);
        /* RFC 6353 5.3.1: a client's tmSecurityName is the one the session
         * was opened with (Net-SNMP sends "__BOGUS__" when none). */
        src.sec_name = ep->sec_name[0] ? ep->sec_name : "__BOGUS__";
        src.security_level = assoc_level(a);
        src.remote = dtlsudp_conn_peer(ep->conn);
        src.local = dtlsudp_conn_local(ep->conn);
        ref = malloc(sizeof(*ref));
        if (ref == NULL || dtlsudp_snmp_tmstate_fill(ref, &src) != 0) {
            free(ref);
            t->flags |= NETSNMP_TRANSPORT_FLAG_EMPTY_PKT;
            return 0;
        }
    }
    DEBUGIF("dtlsudp")
    {
        char *s = dtlsudp_snmp_addr_fmt(src.remote, src.local);
        if (ep->is_server)
            DEBUGMSGTL(("dtlsudp", "recv %zu bytes from %s, securityName %s (assoc %llu)\n", len,
                        s != NULL ? s : "?", src.sec_name, (unsigned long long)src.assoc_id));
        else
            DEBUGMSGTL(("dtlsudp", "recv %zu bytes from the agent %s (assoc %llu)\n", len, s != NULL ? s : "?",
                        (unsigned long long)src.assoc_id));
        free(s);
    }
    /* TSM requires the exact size (snmptsm.c tsm_process_in_msg). */
    *opaque = ref;
    *olength = (int)sizeof(*ref);
    return (int)len;
}

static int hook_send(netsnmp_transport *t, const void *buf, int size, void **opaque, int *olength)
{
    endpoint *ep = endpoint_of(t);
    const netsnmp_tmStateReference *ref = NULL;
    int rc;

    if (ep == NULL || buf == NULL || size <= 0)
        return -1;
    if (opaque != NULL && olength != NULL && *opaque != NULL &&
        *olength == (int)sizeof(netsnmp_tmStateReference))
        ref = *opaque;

    if (ep->is_server) {
        dtlsudp_conn *c;
        dtlsudp_assoc *a;

        if (ref == NULL || !ref->have_addresses) {
            snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCACHES);
            return -1;
        }
        c = dtlsudp_listener_find(ep->listener, (const dtlsudp_addr *)&ref->addresses.remote_addr);
        a = c != NULL ? dtlsudp_conn_assoc(c) : NULL;
        /* RFC 6353 5.2 step 3: with tmSameSecurity the message goes only
         * over the session it came in on; and a server never opens a
         * session toward a manager.  Either way: drop and count. */
        if (a == NULL || dtlsudp_assoc_id(a) != dtlsudp_snmp_tmstate_assoc_id(ref)) {
            snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONNOSESSIONS);
            DEBUGMSGTL(("dtlsudp", "send: the session is gone; dropped %d bytes\n", size));
            return -1;
        }
        rc = dtlsudp_conn_write(c, buf, (size_t)size);
        endpoint_arm(ep);
        if (rc != DTLSUDP_OK) {
            DEBUGMSGTL(("dtlsudp", "send: %s\n", dtlsudp_strerror(rc)));
            return -1;
        }
        return size;
    }

    /* Client. */
    if (ref != NULL && ref->securityNameLen > 0 && ep->sec_name[0] == '\0')
        snprintf(ep->sec_name, sizeof(ep->sec_name), "%.*s", (int)ref->securityNameLen, ref->securityName);
    if (ep->conn != NULL && dtlsudp_conn_state(ep->conn) == DTLSUDP_STATE_CLOSED) {
        if (ref != NULL && ref->sameSecurity == NETSNMP_TM_USE_SAME_SECURITY) {
            snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONNOSESSIONS);
            return -1;
        }
        client_close(ep); /* reopened below: RFC 6353 5.2 step 4 */
    }
    if (ep->conn == NULL) {
        if (client_connect(ep) != 0)
            return -1;
        t->sock = ep->poll_fd;
    }
    if (dtlsudp_conn_state(ep->conn) == DTLSUDP_STATE_HANDSHAKING && !ep->held_writes) {
        /* The first message of a session: finish the handshake here, up
         * to the session's timeout, so that a refused certificate (RFC
         * 6353 5.3.1) fails this send at once instead of leaving the
         * request to time out: Net-SNMP reports a failed send to the
         * application, while a datagram transport has no way to fail a
         * request from f_recv.  Nothing but handshake records can arrive
         * before our first message, so no response is read here.  Should
         * the handshake need longer (loss), the message waits in the
         * engine and the timerfd keeps the retransmissions going. */
        client_drive_handshake(ep, (dtlsudp_time)ep->session_timeout_ms);
        if (dtlsudp_conn_state(ep->conn) == DTLSUDP_STATE_CLOSED) {
            int why = dtlsudp_conn_last_error(ep->conn);
            char addr[64] = "?";

            (void)dtlsudp_addr_format(&ep->addr, addr, sizeof(addr));
            if (why == DTLSUDP_ERR_PEER_ALERT || why == DTLSUDP_ERR_HANDSHAKE) {
                char detail[300];
                explain_failure(ep->last_alert, ep->last_detail, 0, detail, sizeof(detail));
                snmp_log(LOG_ERR, "dtlsudp: no session with %s: %s\n", addr, detail);
            } else {
                snmp_log(LOG_ERR, "dtlsudp: no session with %s: %s\n", addr, dtlsudp_strerror(why));
            }
            endpoint_arm(ep);
            errno = why == DTLSUDP_ERR_REFUSED ? ECONNREFUSED : EPROTO;
            return -1;
        }
    }
    /* Timers and flushing only: reading here would take the response off
     * the socket before select() can announce it (f_recv reads). */
    (void)dtlsudp_conn_handle_timeout(ep->conn, dtlsudp_now());
    if (dtlsudp_conn_state(ep->conn) == DTLSUDP_STATE_HANDSHAKING)
        ep->held_writes = 1;
    rc = dtlsudp_conn_write(ep->conn, buf, (size_t)size);
    DEBUGMSGTL(("dtlsudp", "send %d bytes: %s\n", size, dtlsudp_strerror(rc)));
    (void)dtlsudp_conn_handle_timeout(ep->conn, dtlsudp_now());
    endpoint_arm(ep);
    return rc == DTLSUDP_OK ? size : -1;
}

static int hook_close(netsnmp_transport *t)
{
    tdata *d = t->data;
    endpoint *ep = endpoint_of(t);

    if (ep != NULL) {
        endpoint_release(ep);
        d->ep = NULL;
        d->magic = 0;
    }
    /* The fds belong to the listener / connection / endpoint. */
    t->sock = -1;
    return 0;
}

static int hook_copy(const netsnmp_transport *from, netsnmp_transport *to)
{
    endpoint *ep = endpoint_of((netsnmp_transport *)to);

    if (ep != NULL)
        ep->refs++;
    return 0;
}

static int set_string(char **slot, const char *value)
{
    char *copy = strdup(value != NULL ? value : "");

    if (copy == NULL)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

/* -T key=value (netsnmp_tlsbase_config's keys). */
static int hook_config(netsnmp_transport *t, const char *token, const char *value)
{
    endpoint *ep = endpoint_of(t);

    if (ep == NULL || token == NULL)
        return -1;
    if (strcmp(token, "localCert") == 0 || strcmp(token, "our_identity") == 0)
        return set_string(&ep->our_identity, value);
    if (strcmp(token, "peerCert") == 0 || strcmp(token, "their_identity") == 0)
        return set_string(&ep->their_identity, value);
    if (strcmp(token, "peerHostname") == 0 || strcmp(token, "their_hostname") == 0)
        return set_string(&ep->their_hostname, value);
    if (strcmp(token, "trustCert") == 0 || strcmp(token, "trust_cert") == 0)
        return set_string(&ep->trust_cert, value);
    DEBUGMSGTL(("dtlsudp", "ignoring transport setting %s\n", token));
    return 0;
}

static netsnmp_transport *hook_open(netsnmp_transport *t)
{
    endpoint *ep = endpoint_of(t);

    if (ep == NULL)
        return NULL;
    if (ep->is_server)
        return t;
    /* Start the handshake now so that the RFC 5343 engineID probe in
     * snmp_open finds it under way; failures surface at send. */
    if (ep->conn == NULL && client_connect(ep) == 0)
        t->sock = ep->poll_fd;
    if (ep->conn == NULL)
        return NULL;
    endpoint_arm(ep);
    return t;
}

/* As netsnmp_tlsbase_session_init: (D)TLS means TSM, SNMPv3, authPriv. */
static int hook_setup_session(netsnmp_transport *t, netsnmp_session *sess)
{
    endpoint *ep = endpoint_of(t);

    if (ep == NULL || ep->is_server)
        return SNMPERR_SUCCESS;
    if (sess->securityModel != SNMP_DEFAULT_SECMODEL && sess->securityModel != SNMP_SEC_MODEL_TSM)
        snmp_log(LOG_ERR, "dtlsudp: (D)TLS needs the TSM security model; using TSM\n");
    sess->securityModel = SNMP_SEC_MODEL_TSM;
    if (sess->securityName == NULL) {
        sess->securityName = strdup("__BOGUS__");
        sess->securityNameLen = sess->securityName != NULL ? strlen(sess->securityName) : 0;
    }
    if (sess->version != SNMP_VERSION_3) {
        snmp_log(LOG_ERR, "dtlsudp: (D)TLS needs SNMPv3; using it\n");
        sess->version = SNMP_VERSION_3;
    }
    if (sess->securityLevel <= 0)
        sess->securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
    /* How long the first send may wait for the handshake (sess->timeout is
     * in microseconds; Net-SNMP's default is one second). */
    ep->session_timeout_ms = sess->timeout > 0 ? sess->timeout / 1000 : 1000;
    return SNMPERR_SUCCESS;
}

static char *hook_fmtaddr(netsnmp_transport *t, const void *data, int len)
{
    endpoint *ep = endpoint_of(t);

    if (data != NULL && len == (int)sizeof(netsnmp_tmStateReference)) {
        const netsnmp_tmStateReference *ref = data;
        if (ref->have_addresses)
            return dtlsudp_snmp_addr_fmt((const dtlsudp_addr *)&ref->addresses.remote_addr,
                                         (const dtlsudp_addr *)&ref->addresses.local_addr);
    }
    if (data != NULL && len == (int)sizeof(netsnmp_indexed_addr_pair)) {
        const netsnmp_indexed_addr_pair *p = data;
        return dtlsudp_snmp_addr_fmt((const dtlsudp_addr *)&p->remote_addr,
                                     (const dtlsudp_addr *)&p->local_addr);
    }
    if (ep == NULL)
        return strdup("DTLSUDP: unknown");
    if (ep->is_server)
        return dtlsudp_snmp_addr_fmt(&ep->addr, NULL);
    return dtlsudp_snmp_addr_fmt(&ep->addr, ep->conn != NULL ? dtlsudp_conn_local(ep->conn) : NULL);
}

static void hook_get_taddr(netsnmp_transport *t, void **addr, size_t *addr_len)
{
    endpoint *ep = endpoint_of(t);
    uint8_t buf[18];
    size_t len = 0;

    *addr = NULL;
    *addr_len = 0;
    if (ep == NULL || dtlsudp_snmp_addr_to_ostring(&ep->addr, buf, sizeof(buf), &len) != 0)
        return;
    *addr = netsnmp_memdup(buf, len);
    if (*addr != NULL)
        *addr_len = len;
}

netsnmp_transport *dtlsudp_snmp_transport_open(const dtlsudp_addr *addr, int local, int v6only,
                                               const char *target_text)
{
    netsnmp_transport *t = NULL;
    endpoint *ep = NULL;
    tdata *d = NULL;
    uint8_t os[18];
    size_t os_len = 0;

    /* Before any message of ours reaches TSM (tsmrefs.c). */
    dtlsudp_snmp_tsm_refs_install();
    t = calloc(1, sizeof(*t));
    ep = calloc(1, sizeof(*ep));
    d = calloc(1, sizeof(*d));
    if (t == NULL || ep == NULL || d == NULL)
        goto Fail;
    ep->refs = 1;
    ep->is_server = local != 0;
    ep->addr = *addr;
    ep->family = addr->sa.sa_family;
    ep->v6only = v6only;
    ep->event_fd = ep->poll_fd = ep->watched_fd = ep->timer_fd = -1;
    ep->timer_at = ep->alarm_at = DTLSUDP_TIME_NEVER;
    ep->session_timeout_ms = 1000;
    ep->settings = *dtlsudp_snmp_settings_get();
    d->magic = TDATA_MAGIC;
    d->ep = ep;
    ep->next_all = all_eps;
    all_eps = ep;

    t->domain = dtlsudp_snmp_domain_oid;
    t->domain_length = (int)dtlsudp_snmp_domain_oid_len;
    t->data = d;
    t->data_length = (int)sizeof(*d);
    t->sock = -1;
    /* TSM accepts only messages flagged as tunneled (snmptsm.c). */
    t->flags |= NETSNMP_TRANSPORT_FLAG_TUNNELED;
    t->msgMaxSize = addr->sa.sa_family == AF_INET6 ? ep->settings.engine.mtu_ipv6 - OVERHEAD_V6
                                                   : ep->settings.engine.mtu_ipv4 - OVERHEAD_V4;
    t->f_recv = hook_recv;
    t->f_send = hook_send;
    t->f_close = hook_close;
    t->f_copy = hook_copy;
    t->f_config = hook_config;
    t->f_open = hook_open;
    t->f_setup_session = hook_setup_session;
    t->f_fmtaddr = hook_fmtaddr;
    t->f_get_taddr = hook_get_taddr;

    if (dtlsudp_snmp_addr_to_ostring(addr, os, sizeof(os), &os_len) == 0) {
        void *copy = netsnmp_memdup(os, os_len);
        if (copy == NULL)
            goto Fail;
        if (local) {
            t->local = copy;
            t->local_length = (int)os_len;
        } else {
            t->remote = copy;
            t->remote_length = (int)os_len;
        }
    }

    if (local) {
        if (server_open(ep) != 0)
            goto Fail;
        t->sock = ep->poll_fd;
    } else if (target_text != NULL) {
        /* As Net-SNMP's client: the expected server host name defaults to
         * the host part of the target (used with trustCert). */
        char host[256];
        const char *colon = strrchr(target_text, ':');
        size_t n = colon != NULL ? (size_t)(colon - target_text) : strlen(target_text);
        if (target_text[0] == '[') {
            const char *close_br = strchr(target_text, ']');
            if (close_br != NULL) {
                target_text++;
                n = (size_t)(close_br - target_text);
            }
        } else if (colon != NULL && strchr(target_text, ':') != colon) {
            n = strlen(target_text); /* bare IPv6 literal */
        }
        if (n >= sizeof(host))
            n = sizeof(host) - 1;
        memcpy(host, target_text, n);
        host[n] = '\0';
        if (host[0] != '\0' && strspn(host, "0123456789") != n)
            ep->their_hostname = strdup(host);
    }
    DEBUGIF("dtlsudp")
    {
        char *s = dtlsudp_snmp_addr_fmt(addr, NULL);
        DEBUGMSGTL(("dtlsudp", "opened %s transport %s\n", local ? "server" : "client", s != NULL ? s : "?"));
        free(s);
    }
    return t;

Fail:
    if (ep != NULL && t != NULL && t->data == d) {
        t->data = NULL;
        endpoint_release(ep);
        ep = NULL;
    }
    free(ep);
    free(d);
    if (t != NULL) {
        free(t->local);
        free(t->remote);
        free(t);
    }
    return NULL;
}

/* ---------------------------------------------------------------------
 * Statistics for the MIB modules
 * --------------------------------------------------------------------- */

static void stats_add(dtlsudp_stats *to, const dtlsudp_stats *from, int include_gauges)
{
    to->cookies_sent += from->cookies_sent;
    to->cookies_verified += from->cookies_verified;
    to->cookies_bad += from->cookies_bad;
    to->handshakes_started += from->handshakes_started;
    to->handshakes_completed += from->handshakes_completed;
    to->handshakes_failed += from->handshakes_failed;
    to->handshakes_timed_out += from->handshakes_timed_out;
    to->cert_refused += from->cert_refused;
    if (include_gauges) {
        to->assocs_now += from->assocs_now;
        to->half_open_now += from->half_open_now;
    }
    if (from->assocs_peak > to->assocs_peak)
        to->assocs_peak = from->assocs_peak;
    to->evictions += from->evictions;
    to->refused_full += from->refused_full;
    to->restarts += from->restarts;
    to->idle_expired += from->idle_expired;
    to->closes_sent += from->closes_sent;
    to->closes_received += from->closes_received;
    to->alerts_received += from->alerts_received;
    to->dropped_malformed += from->dropped_malformed;
    to->dropped_unknown += from->dropped_unknown;
    to->dropped_queue += from->dropped_queue;
    to->dropped_stale += from->dropped_stale;
    to->datagrams_in += from->datagrams_in;
    to->datagrams_out += from->datagrams_out;
    to->bytes_in += from->bytes_in;
    to->bytes_out += from->bytes_out;
    to->half_open_evicted += from->half_open_evicted;
    to->source_displaced += from->source_displaced;
    to->handshakes_resumed += from->handshakes_resumed;
    to->tickets_issued += from->tickets_issued;
    to->tickets_refused += from->tickets_refused;
}

void dtlsudp_snmp_stats_retire(const dtlsudp_stats *st)
{
    stats_add(&retired, st, 0);
}

size_t dtlsudp_snmp_listener_count(void)
{
    size_t n = 0;
    const endpoint *ep;

    for (ep = servers; ep != NULL; ep = ep->next_server)
        n++;
    return n;
}

int dtlsudp_snmp_listener_get(size_t i, dtlsudp_snmp_listener_info *out)
{
    endpoint *ep;
    dtlsudp_net_stats st;
    size_t n;

    /* The list is newest first; the MIB wants a stable order: oldest first. */
    n = dtlsudp_snmp_listener_count();
    if (i >= n)
        return -1;
    for (ep = servers; ep != NULL && n - 1 > i; ep = ep->next_server)
        n--;
    if (ep == NULL || ep->listener == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    (void)dtlsudp_addr_format(&ep->addr, out->address, sizeof(out->address));
    out->demux = dtlsudp_listener_demux(ep->listener);
    if (dtlsudp_listener_get_stats(ep->listener, &st) == DTLSUDP_OK)
        out->stats = st.engine;
    return 0;
}

void dtlsudp_snmp_stats_total(dtlsudp_stats *out)
{
    const endpoint *ep;
    dtlsudp_net_stats st;
    dtlsudp_conn_stats cst;

    memset(out, 0, sizeof(*out));
    stats_add(out, &retired, 0);
    for (ep = all_eps; ep != NULL; ep = ep->next_all) {
        if (ep->listener != NULL && dtlsudp_listener_get_stats(ep->listener, &st) == DTLSUDP_OK)
            stats_add(out, &st.engine, 1);
        else if (ep->conn != NULL && dtlsudp_conn_get_stats(ep->conn, &cst) == DTLSUDP_OK)
            stats_add(out, &cst.net.engine, 1);
    }
}

void dtlsudp_snmp_trust_reload(void)
{
    /* trustCert / x509CRLFile may have changed (SIGHUP): the store is
     * rebuilt from the new lines at the next pump, before any handshake
     * verifies a client against it; certificates are looked up by
     * fingerprint afresh. */
    server_trust_stale = 1;
    dtlsudp_snmp_cert_index_reset();
    /* Client endpoints (trapsess, informs) build theirs again at their
     * next connection; an open one keeps its own reference meanwhile. */
    for (endpoint *ep = all_eps; ep != NULL; ep = ep->next_all)
        if (!ep->is_server && ep->trust != NULL) {
            X509_STORE_free(ep->trust);
            ep->trust = NULL;
        }
}
