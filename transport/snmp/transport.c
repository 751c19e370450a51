/*
 * transport.c - the netsnmp_transport hooks of the dtlsudp domain, on the
 * socket layer (transport/net: dtlsudp_listener_*, dtlsudp_conn_*): they
 * dispatch to the server side (server.c) or the client side (client.c) of
 * the endpoint behind the transport (endpoint.c).
 *
 * Server and client share one model (endpoint.h): t->sock is an epoll fd
 * that is readable while a datagram, a decrypted message or a due timer
 * waits, so any Net-SNMP application's select() loop drives the transport
 * without knowing it.
 */
#include <config.h>

#include "endpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int hook_recv(netsnmp_transport *t, void *buf, int size, void **opaque, int *olength)
{
    endpoint *ep = endpoint_of(t);
    netsnmp_tmStateReference *ref = NULL;
    int len;

    if (opaque != NULL)
        *opaque = NULL;
    if (olength != NULL)
        *olength = 0;
    if (ep == NULL || buf == NULL || size <= 0 || opaque == NULL || olength == NULL)
        return -1;
    if (!ep->is_server && ep->conn == NULL)
        return -1;
    endpoint_unsignal(ep);
    endpoint_timer_clear(ep);
    len = ep->is_server ? server_recv(ep, buf, (size_t)size, &ref) : client_recv(ep, buf, (size_t)size, &ref);
    if (len < 0) {
        /* Handshake traffic, or nothing (left) to deliver: consumed. */
        t->flags |= NETSNMP_TRANSPORT_FLAG_EMPTY_PKT;
        return 0;
    }
    /* TSM requires the exact size (snmptsm.c tsm_process_in_msg). */
    *opaque = ref;
    *olength = (int)sizeof(*ref);
    return len;
}

static int hook_send(netsnmp_transport *t, const void *buf, int size, void **opaque, int *olength)
{
    endpoint *ep = endpoint_of(t);
    const netsnmp_tmStateReference *ref = NULL;

    if (ep == NULL || buf == NULL || size <= 0)
        return -1;
    if (opaque != NULL && olength != NULL && *opaque != NULL &&
        *olength == (int)sizeof(netsnmp_tmStateReference))
        ref = *opaque;
    return ep->is_server ? server_send(ep, ref, buf, size) : client_send(ep, t, ref, buf, size);
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
    ep->next_all = endpoint_all;
    endpoint_all = ep;

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
