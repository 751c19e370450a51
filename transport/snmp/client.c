/*
 * client.c - the manager side of the dtlsudp transport (local = 0:
 * managers, trap and inform senders): one dtlsudp_conn_connect() connection per
 * transport, opened in f_open (after the -T settings are applied through
 * f_config) or at the first send after the session ended; its connected
 * socket and a timerfd join the endpoint's epoll fd.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* asprintf */
#endif
#include <config.h>

#include "endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

/* After every client handshake (full or abbreviated: the server may have
 * renewed the ticket), the session replaces the stored one. */
void client_store_session(endpoint *ep, dtlsudp_assoc *a)
{
    uint8_t blob[SESSCACHE_MAX_BLOB];
    size_t len = 0;

    if (dtlsudp_assoc_session(a, blob, sizeof(blob), &len) != DTLSUDP_OK)
        return;
    dtlsudp_snmp_session_put(ep->session_key, ep->settings.session_file, blob, len);
    OPENSSL_cleanse(blob, len);
}

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

/* The stored session of this target and our certificate's file (ep's key
 * set for it): 0 with it in session[] (SESSCACHE_MAX_BLOB bytes), or -1. */
static int client_stored_session(endpoint *ep, const char *cert_path, uint8_t *session, size_t *session_len)
{
    client_session_key(ep, cert_path);
    return dtlsudp_snmp_session_get(ep->session_key, ep->settings.session_file, session, SESSCACHE_MAX_BLOB,
                                    session_len);
}

/* The identity on demand (dtlsudp_engine_config.identity_cb): a full
 * handshake after all (the server refused the stored session) loads it
 * from the store as a connect without a stored session does. */
static int client_load_identity(void *user, dtlsudp_engine *e)
{
    endpoint *ep = user;

    return dtlsudp_snmp_certs_use_identity(e, ep->our_identity) == 0 ? DTLSUDP_OK : DTLSUDP_ERR_CONFIG;
}

/* A stored session for our identity as resolved before (certmemo.c): then
 * the handshake is most likely an abbreviated one, which sends no
 * certificate, so the store (which loads the private key with the
 * certificate) is not asked until a full handshake needs it.  0 with the
 * session in session[], the key of ep, and cfg set for the identity on
 * demand; -1 otherwise. */
static int client_offer_on_demand(endpoint *ep, dtlsudp_conn_config *cfg, uint8_t *session, size_t *session_len)
{
    uint8_t sha256[32];
    char *cert_path = NULL;
    int rc = -1;

    if (!ep->settings.resume || !ep->settings.session_file ||
        dtlsudp_snmp_certs_identity_memo(ep->our_identity, &cert_path, sha256) != 0)
        return -1;
    if (client_stored_session(ep, cert_path, session, session_len) == 0) {
        cfg->engine.identity_cb = client_load_identity;
        memcpy(cfg->engine.identity_sha256, sha256, sizeof(sha256));
        DEBUGMSGTL(("dtlsudp", "offering a stored session (%zu bytes); identity %s loaded only if needed\n",
                    *session_len, cert_path));
        rc = 0;
    }
    free(cert_path);
    return rc;
}

int client_connect(endpoint *ep)
{
    uint8_t session[SESSCACHE_MAX_BLOB];
    size_t session_len = 0;
    dtlsudp_conn_config cfg;
    char host[64], port[8], *cert_path = NULL, *key_path = NULL;
    const char *their = ep->their_identity;
    STACK_OF(X509) *issuers = NULL;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
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
    dtlsudp_conn_config_init(&cfg);
    endpoint_engine_config(ep, &cfg.engine);
    cfg.engine.trust_store = ep->trust;
    if (ep->have_pin) {
        cfg.connect.peer_fingerprints = &ep->pin;
        cfg.connect.n_peer_fingerprints = 1;
    }
    /* Client role: keep the session and offer the stored one. */
    cfg.engine.session_tickets = ep->settings.resume;
    if (client_offer_on_demand(ep, &cfg, session, &session_len) != 0) {
        /* The paths only name the identity in the session key; the engine
         * takes the certificate, key and issuers Net-SNMP already loaded,
         * so no file is read again and the identity is the engine's before
         * the handshake starts (a stored session is only offered under
         * it). */
        if (dtlsudp_snmp_certs_identity_paths(ep->our_identity, &cert_path, &key_path) != 0 ||
            dtlsudp_snmp_certs_identity(ep->our_identity, &cert, &key, &issuers) != 0) {
            free(cert_path);
            free(key_path);
            return -1;
        }
        cfg.engine.cert = cert;
        cfg.engine.key = key;
        cfg.engine.chain = issuers;
        if (ep->settings.resume && client_stored_session(ep, cert_path, session, &session_len) == 0)
            DEBUGMSGTL(("dtlsudp", "offering a stored session (%zu bytes)\n", session_len));
    }
    if (session_len > 0) {
        cfg.connect.session = session;
        cfg.connect.session_len = session_len;
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
    rc = dtlsudp_conn_connect(host, port, &cfg, 0, dtlsudp_now(), &ep->conn);
    OPENSSL_cleanse(session, session_len);
    sk_X509_free(issuers); /* the engine took its own references */
    free(cert_path);
    free(key_path);
    if (rc == DTLSUDP_OK &&
        ((ep->poll_fd < 0 && endpoint_poll_open(ep) != 0) || endpoint_poll_add_timer(ep) != 0 ||
         endpoint_poll_watch(ep, dtlsudp_conn_fd(ep->conn)) != 0)) {
        snmp_log(LOG_ERR, "dtlsudp: cannot watch the connection's fd: %s\n", strerror(errno));
        dtlsudp_conn_free(ep->conn);
        ep->conn = NULL;
        rc = DTLSUDP_ERR_SYSTEM;
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

void client_close(endpoint *ep)
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

int client_recv(endpoint *ep, void *buf, size_t size, netsnmp_tmStateReference **ref)
{
    dtlsudp_snmp_msgsrc src;
    dtlsudp_assoc *a;
    size_t len = 0;
    int rc;

    /* Plaintext already in memory first: reading the socket again could
     * queue a second message that no readable fd announces. */
    rc = dtlsudp_conn_read(ep->conn, buf, size, &len, 0);
    if (rc == DTLSUDP_ERR_AGAIN) {
        (void)dtlsudp_conn_process(ep->conn, dtlsudp_now());
        rc = dtlsudp_conn_read(ep->conn, buf, size, &len, 0);
    }
    /* Delivered one and another is already decrypted: wake select() for
     * it.  (Only after a delivery: a connection that has ended may report
     * work "due now" for ever.) */
    if (rc == DTLSUDP_OK && dtlsudp_conn_next_timeout(ep->conn) == 0)
        endpoint_signal(ep);
    endpoint_arm(ep);
    /* Handshake traffic or nothing yet: nothing to deliver.  A dead
     * association is replaced at the next send. */
    if (rc != DTLSUDP_OK)
        return -1;
    a = dtlsudp_conn_assoc(ep->conn);
    if (a == NULL || peerauth_level(a) == 0)
        return -1;
    memset(&src, 0, sizeof(src));
    src.assoc_id = dtlsudp_assoc_id(a);
    /* RFC 6353 5.3.1: a client's tmSecurityName is the one the session
     * was opened with (Net-SNMP sends "__BOGUS__" when none). */
    src.sec_name = ep->sec_name[0] ? ep->sec_name : "__BOGUS__";
    src.security_level = peerauth_level(a);
    src.remote = dtlsudp_conn_peer(ep->conn);
    src.local = dtlsudp_conn_local(ep->conn);
    if ((*ref = dtlsudp_snmp_tmstate_new(&src)) == NULL)
        return -1;
    DEBUGIF("dtlsudp")
    {
        char *s = dtlsudp_snmp_addr_fmt(src.remote, src.local);
        DEBUGMSGTL(("dtlsudp", "recv %zu bytes from the agent %s (assoc %llu)\n", len, s != NULL ? s : "?",
                    (unsigned long long)src.assoc_id));
        free(s);
    }
    return (int)len;
}

int client_send(endpoint *ep, netsnmp_transport *t, const netsnmp_tmStateReference *ref, const void *buf,
                int size)
{
    int rc;

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
                peerauth_explain_failure(ep->last_alert, ep->last_detail, 0, detail, sizeof(detail));
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
