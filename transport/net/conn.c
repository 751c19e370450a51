/*
 * conn.c - DTLS connections: the client side (dtlsudp_conn_connect(), an engine
 * and a connected UDP socket of its own) and the connection API shared with
 * the server connections a listener hands out.
 */
/* struct in6_pktinfo (IPV6_PKTINFO) needs _GNU_SOURCE with glibc. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../engine/abi.h"
#include "net_internal.h"

static int is_client(const dtlsudp_conn *c)
{
    return c->buf != NULL;
}

/* A server connection whose listener is gone (freed before it). */
static int is_orphan(const dtlsudp_conn *c)
{
    return !is_client(c) && c->listener == NULL;
}

static int has_own_socket(const dtlsudp_conn *c)
{
    return c->fd >= 0 && !c->neutralised;
}

/* ------------------------------------------------------------------------
 * Leftovers
 * ------------------------------------------------------------------------ */

void net_conn_keep_leftovers(dtlsudp_conn *c, dtlsudp_assoc *a)
{
    uint8_t buf[NET_MAX_PLAINTEXT];
    size_t len;
    while (dtlsudp_assoc_read(a, buf, sizeof(buf), &len) == DTLSUDP_OK) {
        net_leftover *l = malloc(sizeof(*l) + len);
        if (l == NULL)
            return; /* lost, as the engine would have lost it */
        memset(&l->link, 0, sizeof(l->link));
        l->len = len;
        memcpy(l->data, buf, len);
        dtlsudp_link_append(&c->leftovers, &l->link);
    }
}

int net_conn_pop_leftover(dtlsudp_conn *c, uint8_t *buf, size_t cap, size_t *len)
{
    dtlsudp_link *first = dtlsudp_link_first(&c->leftovers);
    if (first == NULL)
        return DTLSUDP_ERR_AGAIN;
    net_leftover *l = DTLSUDP_LINK_OWNER(first, net_leftover, link);
    if (l->len > cap)
        return DTLSUDP_ERR_BUFFER;
    memcpy(buf, l->data, l->len);
    *len = l->len;
    dtlsudp_link_remove(first);
    free(l);
    return DTLSUDP_OK;
}

void net_conn_free_leftovers(dtlsudp_conn *c)
{
    dtlsudp_link *l;
    while ((l = dtlsudp_link_shift(&c->leftovers)) != NULL)
        free(DTLSUDP_LINK_OWNER(l, net_leftover, link));
}

/* ------------------------------------------------------------------------
 * ICMP port unreachable as a hint
 * ------------------------------------------------------------------------ */

int net_conn_refused_hint(dtlsudp_conn *c, dtlsudp_time now, dtlsudp_time grace)
{
    if (c == NULL || c->assoc == NULL)
        return 0;
    if (dtlsudp_assoc_state(c->assoc) != DTLSUDP_STATE_ESTABLISHED) {
        /* A handshake may fail fast: nothing authenticated is lost, and a
         * client that retries pays one round trip. */
        dtlsudp_assoc_abort(c->assoc, DTLSUDP_ERR_REFUSED, now);
        return 0;
    }
    if (c->refused_deadline == 0) {
        c->refused_deadline = now + (grace != 0 ? grace : 5000);
        if (c->refused_deadline == 0)
            c->refused_deadline = 1;
    }
    return 1;
}

int net_conn_refused_expire(dtlsudp_conn *c, dtlsudp_time now)
{
    if (c->refused_deadline == 0)
        return 0;
    if (c->assoc == NULL) {
        c->refused_deadline = 0;
        return 0;
    }
    if (c->refused_deadline > now)
        return 1;
    c->refused_deadline = 0;
    dtlsudp_assoc_abort(c->assoc, DTLSUDP_ERR_REFUSED, now);
    return 0;
}

/* ------------------------------------------------------------------------
 * Client I/O
 * ------------------------------------------------------------------------ */

static void client_on_event(void *self, dtlsudp_assoc *a, int event, int reason)
{
    dtlsudp_conn *c = self;
    switch (event) {
    case DTLSUDP_EVENT_DATA:
        if (a == c->assoc) {
            c->data_pending = 1;
            c->refused_deadline = 0; /* the peer is there after all */
        }
        break;
    case DTLSUDP_EVENT_CLOSED:
        if (a == c->assoc) {
            net_conn_keep_leftovers(c, a);
            c->assoc = NULL;
            c->last_error = reason < 0 ? reason : DTLSUDP_ERR_CLOSED;
        }
        break;
    default:
        break;
    }
    net_hooks_event(&c->hooks, a, event, reason);
}

/* A client's datagrams all leave through its connected socket. */
static void client_route(void *self, dtlsudp_assoc *a, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                         net_route *r)
{
    dtlsudp_conn *c = self;
    (void)a;
    (void)peer;
    (void)local;
    r->fd = c->fd;
    r->family = c->family;
    r->to = r->from = NULL;
    r->conn = c;
}

static int client_flush(dtlsudp_conn *c, dtlsudp_time now)
{
    return net_flush(c->engine, c->buf, c->blocking, client_route, c, &c->own_net, now, c->refused_grace, NULL);
}

/* Read up to NET_READ_BATCH datagrams, NET_CONN_RECV_BATCH per system
 * call (an answer usually comes alone: one call, not a second one that
 * only says EAGAIN), into the engine. */
static void client_read(dtlsudp_conn *c, dtlsudp_time now)
{
    net_dgram d[NET_CONN_RECV_BATCH];
    int done = 0;

    for (unsigned i = 0; i < NET_CONN_RECV_BATCH; i++)
        d[i].buf = c->buf + (size_t)i * NET_MAX_DATAGRAM;
    for (int calls = 0; calls < NET_READ_BATCH && done < NET_READ_BATCH; calls++) {
        int n = net_recv_batch(c->fd, d, NET_CONN_RECV_BATCH);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == ECONNREFUSED) {
                /* ICMP port unreachable: nobody listens there (any more),
                 * or someone off path says so (a hint only, RFC 8085 5.2). */
                c->own_net.refused++;
                (void)net_conn_refused_hint(c, now, c->refused_grace);
                continue;
            }
            c->own_net.recv_errors++;
            break;
        }
        for (int i = 0; i < n; i++, done++) {
            if (d[i].len == 0)
                continue;
            if (d[i].peer.sa.sa_family == AF_UNSPEC)
                d[i].peer = c->peer;
            /* drops are counted by the engine; NOMEM dropped this one only */
            (void)dtlsudp_engine_receive(c->engine, &d[i].peer, &c->local, d[i].buf, d[i].len, now, NULL);
        }
        if (n < NET_CONN_RECV_BATCH)
            break;
    }
}

static int client_pump(dtlsudp_conn *c, dtlsudp_time now)
{
    int ret;

    client_read(c, now);
    (void)net_conn_refused_expire(c, now);
    if (dtlsudp_engine_next_timeout(c->engine) <= now) {
        ret = dtlsudp_engine_handle_timeout(c->engine, now);
        if (ret != DTLSUDP_OK)
            return ret;
    }
    return client_flush(c, now);
}

/* One non-blocking round for c: read its socket (the listener's when it has
 * none), run due timers, flush. */
static int pump_once(dtlsudp_conn *c, dtlsudp_time now)
{
    if (is_client(c))
        return client_pump(c, now);
    if (is_orphan(c))
        return DTLSUDP_OK;
    if (has_own_socket(c))
        return net_conn_read_own_socket(c, now);
    return net_listener_pump(c->listener, now);
}

static int flush(dtlsudp_conn *c, dtlsudp_time now)
{
    if (is_client(c))
        return client_flush(c, now);
    if (is_orphan(c))
        return DTLSUDP_OK;
    return net_listener_flush(c->listener);
}

/* Wait (poll) until c's sockets are readable or until deadline / the next
 * engine timer. */
static void wait_io(dtlsudp_conn *c, dtlsudp_time deadline)
{
    struct pollfd p[2];
    nfds_t n = 0;
    if (is_orphan(c))
        return;
    if (has_own_socket(c))
        p[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
    if (!is_client(c)) /* stragglers and timers of the listener's engine */
        p[n++] = (struct pollfd){.fd = dtlsudp_listener_fd(c->listener), .events = POLLIN};
    dtlsudp_time next = dtlsudp_engine_next_timeout(c->engine);
    if (c->refused_deadline != 0 && c->refused_deadline < next)
        next = c->refused_deadline;
    dtlsudp_time now = dtlsudp_now();
    (void)poll(p, n, net_poll_timeout(now, next < deadline ? next : deadline, -1));
}

/* ------------------------------------------------------------------------
 * Client connect
 * ------------------------------------------------------------------------ */

static void client_drop_attempt(dtlsudp_conn *c, int reason, dtlsudp_time now)
{
    if (c->assoc != NULL)
        dtlsudp_assoc_abort(c->assoc, reason, now);
    c->assoc = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int client_start(dtlsudp_conn *c, const dtlsudp_conn_config *cfg, const struct addrinfo *ai,
                        dtlsudp_time now)
{
    dtlsudp_addr peer, local;
    dtlsudp_connect_opts opts;
    socklen_t alen = sizeof(c->local);

    if (ai->ai_addrlen > sizeof(peer))
        return DTLSUDP_ERR_INVALID;
    memset(&peer, 0, sizeof(peer));
    memcpy(&peer, ai->ai_addr, ai->ai_addrlen);
    c->family = ai->ai_family;
    c->last_error = DTLSUDP_OK;
    c->fd = net_socket(c->family, 0, 0);
    if (c->fd < 0)
        return DTLSUDP_ERR_SYSTEM;
    if (cfg->connect.local != NULL) {
        net_addr_for_family(cfg->connect.local, c->family, &local);
        if (bind(c->fd, &local.sa, net_addr_len(&local)) != 0)
            return DTLSUDP_ERR_SYSTEM;
    }
    /* Connected: the kernel filters other sources, and ICMP errors surface
     * as ECONNREFUSED. */
    if (connect(c->fd, &peer.sa, net_addr_len(&peer)) != 0)
        return DTLSUDP_ERR_SYSTEM;
    if (getsockname(c->fd, &c->local.sa, &alen) != 0)
        return DTLSUDP_ERR_SYSTEM;
    net_addr_normalise(&c->local);
    c->peer = peer;
    net_addr_normalise(&c->peer);

    opts = cfg->connect;
    opts.local = &c->local;
    int ret = dtlsudp_engine_connect(c->engine, &c->peer, &opts, now, &c->assoc);
    if (ret != DTLSUDP_OK) {
        c->assoc = NULL;
        return ret;
    }
    dtlsudp_assoc_set_user(c->assoc, c);
    return client_flush(c, now);
}

static int client_wait(dtlsudp_conn *c, dtlsudp_time deadline)
{
    for (;;) {
        if (c->assoc == NULL)
            return c->last_error != DTLSUDP_OK ? c->last_error : DTLSUDP_ERR_HANDSHAKE;
        if (dtlsudp_assoc_state(c->assoc) == DTLSUDP_STATE_ESTABLISHED)
            return DTLSUDP_OK;
        if (dtlsudp_now() >= deadline)
            return DTLSUDP_ERR_TIMEOUT;
        wait_io(c, deadline);
        int ret = client_pump(c, dtlsudp_now());
        if (ret != DTLSUDP_OK)
            return ret;
    }
}

int dtlsudp_conn_config_init_versioned(int version, dtlsudp_conn_config *cfg_out)
{
    dtlsudp_conn_config defaults, *cfg = &defaults;

    if (cfg_out == NULL || eng_abi_size(version, DTLSUDP_ABI_CONN_CONFIG) == 0)
        return DTLSUDP_ERR_INVALID;
    memset(cfg, 0, sizeof(*cfg));
    dtlsudp_engine_config_init(&cfg->engine);
    return eng_abi_write(version, DTLSUDP_ABI_CONN_CONFIG, cfg_out, cfg);
}

int dtlsudp_conn_connect_versioned(int version, const char *host, const char *port, const dtlsudp_conn_config *cfg_in,
                                   int timeout_ms, dtlsudp_time now, dtlsudp_conn **out)
{
    dtlsudp_conn_config cfg_cur, *cfg = &cfg_cur;
    struct addrinfo hints, *res = NULL;
    dtlsudp_engine_config ecfg;
    dtlsudp_conn *c = NULL;
    int ret;

    if (out == NULL || host == NULL || port == NULL || cfg_in == NULL ||
        eng_abi_size(version, DTLSUDP_ABI_CONN_CONFIG) == 0)
        return DTLSUDP_ERR_INVALID;
    *out = NULL;
    dtlsudp_conn_config_init(cfg);
    eng_abi_read(version, DTLSUDP_ABI_CONN_CONFIG, cfg, cfg_in);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
        return DTLSUDP_ERR_INVALID;

    if ((c = calloc(1, sizeof(*c))) == NULL ||
        (c->buf = malloc((size_t)NET_CONN_RECV_BATCH * NET_MAX_DATAGRAM)) == NULL) {
        ret = DTLSUDP_ERR_NOMEM;
        goto Exit;
    }
    c->fd = -1;
    c->blocking = cfg->blocking;
    ecfg = cfg->engine;
    c->refused_grace = cfg->engine.refused_grace;
    net_hooks_install(&c->hooks, &ecfg, c, client_on_event);
    ret = dtlsudp_engine_new(&ecfg, now, &c->engine);
    if (ret != DTLSUDP_OK)
        goto Exit;

    dtlsudp_time deadline =
        timeout_ms < 0 ? DTLSUDP_TIME_NEVER : dtlsudp_now() + (dtlsudp_time)timeout_ms;
    ret = DTLSUDP_ERR_INVALID;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        ret = client_start(c, cfg, ai, now);
        if (ret == DTLSUDP_OK && timeout_ms != 0)
            ret = client_wait(c, deadline);
        if (ret == DTLSUDP_OK)
            break;
        client_drop_attempt(c, ret, dtlsudp_now());
        if (dtlsudp_err_is_fatal(ret) || ret == DTLSUDP_ERR_NOMEM || dtlsudp_now() >= deadline)
            break;
    }

Exit:
    freeaddrinfo(res);
    if (ret != DTLSUDP_OK) {
        int saved = errno;
        if (c != NULL) {
            if (c->fd >= 0)
                close(c->fd);
            dtlsudp_engine_free(c->engine);
            free(c->buf);
            free(c);
        }
        errno = saved;
        return ret;
    }
    *out = c;
    return DTLSUDP_OK;
}

/* ------------------------------------------------------------------------
 * Connection API
 * ------------------------------------------------------------------------ */

int dtlsudp_conn_fd(const dtlsudp_conn *c)
{
    if (c->fd >= 0 || is_client(c) || is_orphan(c))
        return c->fd;
    return dtlsudp_listener_fd(c->listener);
}

int dtlsudp_conn_process(dtlsudp_conn *c, dtlsudp_time now)
{
    int ret = pump_once(c, now);
    if (ret != DTLSUDP_OK || is_client(c) || is_orphan(c) || !has_own_socket(c))
        return ret;
    /* A server connection's stragglers may wait on the listening socket. */
    return net_listener_pump(c->listener, now);
}

dtlsudp_time dtlsudp_conn_next_timeout(const dtlsudp_conn *c)
{
    if ((c->data_pending && c->assoc != NULL) || net_conn_has_leftovers(c))
        return 0;
    if (c->engine == NULL)
        return DTLSUDP_TIME_NEVER;
    dtlsudp_time t = dtlsudp_engine_next_timeout(c->engine);
    if (c->refused_deadline != 0 && c->assoc != NULL && c->refused_deadline < t)
        t = c->refused_deadline;
    return t;
}

int dtlsudp_conn_handle_timeout(dtlsudp_conn *c, dtlsudp_time now)
{
    if (is_orphan(c))
        return DTLSUDP_OK;
    if (!is_client(c))
        return net_listener_timers(c->listener, now);
    (void)net_conn_refused_expire(c, now);
    int ret = dtlsudp_engine_handle_timeout(c->engine, now);
    if (ret != DTLSUDP_OK)
        return ret;
    return client_flush(c, now);
}

int dtlsudp_conn_read(dtlsudp_conn *c, uint8_t *buf, size_t cap, size_t *len, int timeout_ms)
{
    dtlsudp_time now = dtlsudp_now();
    dtlsudp_time deadline = timeout_ms < 0 ? DTLSUDP_TIME_NEVER : now + (dtlsudp_time)timeout_ms;
    int pumped = 0;

    if (buf == NULL || len == NULL)
        return DTLSUDP_ERR_INVALID;
    for (;;) {
        int ret = net_conn_pop_leftover(c, buf, cap, len);
        if (ret == DTLSUDP_ERR_AGAIN && c->assoc == NULL)
            return c->last_error != DTLSUDP_OK ? c->last_error : DTLSUDP_ERR_CLOSED;
        if (ret == DTLSUDP_ERR_AGAIN)
            ret = dtlsudp_assoc_read(c->assoc, buf, cap, len);
        if (ret == DTLSUDP_OK) {
            c->stats.datagrams_read++;
            c->stats.bytes_read += *len;
            /* Ready again only while more plaintext waits: a stale flag
             * would make an event loop wake for nothing after every read. */
            c->data_pending = dtlsudp_assoc_pending(c->assoc) > 0;
            return DTLSUDP_OK;
        }
        if (ret != DTLSUDP_ERR_AGAIN)
            return ret;
        c->data_pending = 0;
        if (pumped) {
            if (now >= deadline)
                return DTLSUDP_ERR_AGAIN;
            wait_io(c, deadline);
            now = dtlsudp_now();
            /* woken by either socket: a server connection's datagram may
             * also wait on the listening socket */
            ret = dtlsudp_conn_process(c, now);
        } else {
            ret = pump_once(c, now);
        }
        if (ret != DTLSUDP_OK)
            return ret;
        pumped = 1;
    }
}

int dtlsudp_conn_write(dtlsudp_conn *c, const uint8_t *buf, size_t len)
{
    dtlsudp_time now = dtlsudp_now();
    if (buf == NULL && len != 0)
        return DTLSUDP_ERR_INVALID;
    if (c->assoc == NULL)
        return c->last_error != DTLSUDP_OK ? c->last_error : DTLSUDP_ERR_STATE;
    int ret = dtlsudp_assoc_write(c->assoc, buf, len, now);
    if (ret != DTLSUDP_OK)
        return ret;
    c->stats.datagrams_written++;
    c->stats.bytes_written += len;
    return flush(c, now);
}

size_t dtlsudp_conn_max_write(const dtlsudp_conn *c)
{
    return c->assoc != NULL ? dtlsudp_assoc_max_write(c->assoc) : 0;
}

int dtlsudp_conn_state(const dtlsudp_conn *c)
{
    return c->assoc != NULL ? dtlsudp_assoc_state(c->assoc) : DTLSUDP_STATE_CLOSED;
}

int dtlsudp_conn_last_error(const dtlsudp_conn *c)
{
    return c->assoc != NULL ? DTLSUDP_OK : c->last_error;
}

int dtlsudp_conn_shutdown(dtlsudp_conn *c)
{
    dtlsudp_time now = dtlsudp_now();
    if (c->assoc == NULL)
        return DTLSUDP_ERR_STATE;
    dtlsudp_assoc *a = c->assoc;
    c->local_close = 1;
    /* RFC 6353 5.4: closing the session sends close_notify (once: the
     * engine frees the association with it). */
    dtlsudp_assoc_close(a, now);
    c->assoc = NULL;
    if (c->last_error == DTLSUDP_OK)
        c->last_error = DTLSUDP_ERR_CLOSED;
    (void)flush(c, now);
    return DTLSUDP_OK;
}

static void conn_destroy(dtlsudp_conn *c)
{
    net_conn_free_leftovers(c);
    if (is_client(c)) {
        dtlsudp_engine_free(c->engine);
        free(c->buf);
    } else if (!is_orphan(c)) {
        net_listener_forget_conn(c->listener, c);
    }
    free(c);
}

int dtlsudp_conn_unwrap(dtlsudp_conn *c, int *fd)
{
    if (fd == NULL)
        return DTLSUDP_ERR_INVALID;
    if (!has_own_socket(c) || (!is_client(c) && !c->accepted))
        return DTLSUDP_ERR_STATE;
    if (c->assoc != NULL)
        (void)dtlsudp_conn_shutdown(c);
    if (!is_client(c) && !is_orphan(c))
        net_listener_forget_conn(c->listener, c); /* the socket is no longer ours */
    *fd = c->fd;
    c->fd = -1;
    if (!is_client(c)) {
        net_conn_free_leftovers(c);
        free(c);
        return DTLSUDP_OK;
    }
    conn_destroy(c);
    return DTLSUDP_OK;
}

void dtlsudp_conn_free(dtlsudp_conn *c)
{
    if (c == NULL)
        return;
    if (c->assoc != NULL)
        (void)dtlsudp_conn_shutdown(c);
    if (!is_client(c) && !is_orphan(c) && !c->accepted)
        return; /* still the listener's: it frees it (it has ended now) */
    int fd = c->fd;
    conn_destroy(c);
    if (fd >= 0)
        close(fd);
}

dtlsudp_assoc *dtlsudp_conn_assoc(const dtlsudp_conn *c)
{
    return c->assoc;
}

const dtlsudp_addr *dtlsudp_conn_peer(const dtlsudp_conn *c)
{
    return &c->peer;
}

const dtlsudp_addr *dtlsudp_conn_local(const dtlsudp_conn *c)
{
    return &c->local;
}

dtlsudp_listener *dtlsudp_conn_listener(const dtlsudp_conn *c)
{
    return c->listener;
}

void dtlsudp_conn_set_user(dtlsudp_conn *c, void *user)
{
    c->user = user;
}

void *dtlsudp_conn_get_user(const dtlsudp_conn *c)
{
    return c->user;
}

int dtlsudp_conn_get_stats_versioned(int version, const dtlsudp_conn *c, dtlsudp_conn_stats *out_user)
{
    dtlsudp_conn_stats now, *out = &now;

    if (c == NULL || out_user == NULL)
        return DTLSUDP_ERR_INVALID;
    *out = c->stats;
    memset(&out->net, 0, sizeof(out->net));
    if (is_client(c)) {
        out->net = c->own_net;
        out->net.conns_now = 1;
        dtlsudp_engine_get_stats(c->engine, &out->net.engine);
    } else if (!is_orphan(c)) {
        (void)dtlsudp_listener_get_stats(c->listener, &out->net);
    }
    return eng_abi_write(version, DTLSUDP_ABI_CONN_STATS, out_user, out);
}
