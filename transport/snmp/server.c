/*
 * server.c - the agent side of the dtlsudp transport (local = 1,
 * agentAddress): one listener per transport, whatever the demux (router:
 * the listening socket; osnet: the listener's epoll fd over its
 * per-association sockets).  f_recv pumps the listener and moves every
 * decrypted message, with what TSM needs to know about its association,
 * into a bounded queue, then delivers one.  One session serves every
 * association: no per-association session scan, no accept stall.
 */
#include <config.h>

#include "endpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Queue one decrypted message with what TSM needs to know about its
 * association (a).  Returns 0, or -1 when it was dropped (and counted). */
static int queue_push(endpoint *ep, dtlsudp_assoc *a, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                      const uint8_t *data, size_t len)
{
    const char *name = peerauth_secname(a);
    queued_msg *m;
    size_t name_len;

    if (a == NULL || peer == NULL || name == NULL || peerauth_level(a) == 0) {
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
    m->level = peerauth_level(a);
    /* Truncated as snprintf would, without stdio on the message path. */
    name_len = strnlen(name, sizeof(m->sec_name) - 1);
    memcpy(m->sec_name, name, name_len);
    m->len = len;
    memcpy(m->data, data, len);
    dtlsudp_link_append(&ep->queue, &m->link);
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
void server_queue_leftovers(endpoint *ep, dtlsudp_assoc *a)
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
        endpoint_signal(ep);
    }
}

/* Move every decrypted message out of the listener (the conn pointers it
 * hands out are valid only until its next process call).  announce: make
 * the eventfd readable for what was queued (not when the caller, f_recv,
 * delivers at once and settles the eventfd itself). */
int server_pump(endpoint *ep, int announce)
{
    uint8_t buf[65536];
    int rc, moved = 0;

    (void)peerauth_server_trust(); /* after a reload: the new trustCert / CRL lines */
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
        endpoint_signal(ep);
    endpoint_arm(ep);
    return moved;
}


/* dtlsudpSessionCache: repeat managers resume from memory, without a
 * ticket to decode (the engine checks every cached session again). */
static int server_use_session_cache(endpoint *ep)
{
    int rc;

    if (ep->settings.session_cache == 0)
        return 0;
    if (!ep->settings.engine.session_tickets) {
        snmp_log(LOG_WARNING, "dtlsudp: dtlsudpSessionCache %zu has no effect: dtlsudpSessionTickets is no, "
                              "so no session is resumed; set it to yes or remove dtlsudpSessionCache\n",
                 ep->settings.session_cache);
        return 0;
    }
    rc = dtlsudp_engine_set_session_cache(dtlsudp_listener_engine(ep->listener), ep->settings.session_cache);
    if (rc != DTLSUDP_OK) {
        snmp_log(LOG_ERR, "dtlsudp: cannot make the session cache: %s\n", dtlsudp_strerror(rc));
        return -1;
    }
    return 0;
}

int server_open(endpoint *ep)
{
    dtlsudp_listener_config cfg;
    char addr[80];
    int rc;

    if (!peerauth_server_trust_usable()) {
        snmp_log(LOG_ERR, "dtlsudp: not listening: the trust configuration could not be loaded\n");
        return -1;
    }

    dtlsudp_listener_config_init(&cfg);
    endpoint_engine_config(ep, &cfg.engine);
    cfg.engine.trust_store = peerauth_server_trust();
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
    /* The identity from Net-SNMP's store, presented from the first
     * handshake on. */
    if (dtlsudp_snmp_certs_use_identity(dtlsudp_listener_engine(ep->listener), NULL) != 0 ||
        server_use_session_cache(ep) != 0) {
        dtlsudp_listener_free(ep->listener);
        ep->listener = NULL;
        return -1;
    }
    /* The bound address (port 0 asks the kernel for one). */
    ep->addr = *dtlsudp_listener_local_addr(ep->listener);
    (void)dtlsudp_addr_format(&ep->addr, addr, sizeof(addr));
    if (endpoint_poll_open(ep) != 0 || endpoint_poll_watch(ep, dtlsudp_listener_fd(ep->listener)) != 0) {
        snmp_log(LOG_ERR, "dtlsudp: cannot watch the listener's fd: %s\n", strerror(errno));
        endpoint_poll_close(ep);
        dtlsudp_listener_free(ep->listener);
        ep->listener = NULL;
        return -1;
    }
    ep->next_server = endpoint_servers;
    endpoint_servers = ep;
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

void server_close(endpoint *ep)
{
    endpoint **pp;
    dtlsudp_link *l;
    dtlsudp_net_stats st;

    for (pp = &endpoint_servers; *pp != NULL; pp = &(*pp)->next_server)
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
    while ((l = dtlsudp_link_shift(&ep->queue)) != NULL)
        free(DTLSUDP_LINK_OWNER(l, queued_msg, link));
    ep->q_len = 0;
    endpoint_poll_close(ep);
}

/* Deliver the oldest queued message; pump the listener first if there is
 * none. */
int server_recv(endpoint *ep, void *buf, size_t size, netsnmp_tmStateReference **ref)
{
    dtlsudp_link *l = dtlsudp_link_shift(&ep->queue);
    queued_msg *m;
    dtlsudp_snmp_msgsrc src;
    dtlsudp_addr peer, local;
    char name[SECNAME_CAP];
    size_t len;

    if (l == NULL) {
        (void)server_pump(ep, 0);
        l = dtlsudp_link_shift(&ep->queue);
    }
    if (l == NULL)
        return -1;
    m = DTLSUDP_LINK_OWNER(l, queued_msg, link);
    ep->q_len--;
    /* More decrypted messages: select() must wake again for them. */
    if (ep->q_len > 0)
        endpoint_signal(ep);
    if (m->len > size) {
        free(m);
        return -1;
    }
    memcpy(buf, m->data, m->len);
    len = m->len;
    /* Copies: m is freed before the debug line below. */
    peer = m->peer;
    local = m->local;
    memcpy(name, m->sec_name, sizeof(name));
    memset(&src, 0, sizeof(src));
    src.assoc_id = m->assoc_id;
    src.sec_name = name;
    src.security_level = m->level;
    src.remote = &peer;
    src.local = &local;
    free(m);
    if ((*ref = dtlsudp_snmp_tmstate_new(&src)) == NULL)
        return -1;
    DEBUGIF("dtlsudp")
    {
        char *s = dtlsudp_snmp_addr_fmt(src.remote, src.local);
        DEBUGMSGTL(("dtlsudp", "recv %zu bytes from %s, securityName %s (assoc %llu)\n", len, s != NULL ? s : "?",
                    src.sec_name, (unsigned long long)src.assoc_id));
        free(s);
    }
    return (int)len;
}

/* RFC 6353 5.2 step 3: with tmSameSecurity the message goes only over the
 * session it came in on; and a server never opens a session toward a
 * manager.  Either way: drop and count. */
int server_send(endpoint *ep, const netsnmp_tmStateReference *ref, const void *buf, int size)
{
    int rc;

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
