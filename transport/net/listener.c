/*
 * listener.c - a DTLS listener on a UDP socket: reading (the listening
 * socket and, osnet, the per-peer sockets of osnet.c), flushing, the
 * accept and ready queues, and the engine event handler for server
 * connections.
 *
 * Every datagram, whichever of our sockets it arrived on, is fed to the
 * engine with its real source address, and the engine routes it by that
 * address.  This is what makes the osnet races harmless:
 *   - a per-peer socket, between bind() and connect(), receives datagrams of
 *     other peers (a bound socket matches them better than the wildcard
 *     listener, and connect() has not narrowed it yet): they are read right
 *     after connect() and routed to their own association;
 *   - datagrams of the peer still queued on the listening socket (caveat 2)
 *     are routed to the association just the same.
 * Outgoing datagrams of an association that has its own socket leave
 * through it; everything else (handshakes, HelloVerifyRequests, close_notify
 * after the association is gone) leaves through the listening socket with
 * the arrival address as source (IP_PKTINFO / IPV6_PKTINFO), which is the
 * same address and port the per-peer socket is bound to.
 */
/* struct in6_pktinfo (IPV6_PKTINFO) needs _GNU_SOURCE with glibc. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include "../engine/abi.h"
#include "net_internal.h"


/* ------------------------------------------------------------------------
 * Queues
 * ------------------------------------------------------------------------ */

static void ready_push(dtlsudp_listener *l, dtlsudp_conn *c)
{
    if (c->in_ready)
        return;
    c->in_ready = 1;
    dtlsudp_link_append(&l->ready, &c->ready);
}

static dtlsudp_conn *ready_pop(dtlsudp_listener *l)
{
    dtlsudp_link *first = dtlsudp_link_shift(&l->ready);
    if (first == NULL)
        return NULL;
    dtlsudp_conn *c = NET_CONN_OF(first, ready);
    c->in_ready = 0;
    return c;
}

static void accept_push(dtlsudp_listener *l, dtlsudp_conn *c)
{
    c->in_accept = 1;
    dtlsudp_link_append(&l->accept, &c->accept);
}

static dtlsudp_conn *accept_pop(dtlsudp_listener *l)
{
    dtlsudp_link *first = dtlsudp_link_shift(&l->accept);
    if (first == NULL)
        return NULL;
    dtlsudp_conn *c = NET_CONN_OF(first, accept);
    c->in_accept = 0;
    return c;
}

void net_listener_forget_conn(dtlsudp_listener *l, dtlsudp_conn *c)
{
    dtlsudp_link_remove(&c->ready);
    dtlsudp_link_remove(&c->accept);
    dtlsudp_link_remove(&c->setup);
    c->in_ready = c->in_accept = c->needs_socket = 0;
    net_epoll_remove(l, c);
    if (c->fd >= 0 && !c->neutralised && l->stats.peer_sockets_now > 0)
        l->stats.peer_sockets_now--;
    dtlsudp_link_remove(&c->all);
    if (l->stats.conns_now > 0)
        l->stats.conns_now--;
}

/* Free the connections that ended before anyone accepted them.  Only at the
 * start of the explicit listener calls, so pointers handed out by
 * dtlsudp_listener_recv()/_find() stay valid until then. */
static void reap(dtlsudp_listener *l)
{
    dtlsudp_conn **link = &l->zombies;
    while (*link != NULL) {
        dtlsudp_conn *c = *link;
        if (net_conn_has_leftovers(c) && !c->accepted) {
            /* plaintext that arrived before the end is still to be read
             * (dtlsudp_listener_recv() or accept + read) */
            link = &c->zombie_next;
            continue;
        }
        *link = c->zombie_next;
        net_listener_forget_conn(l, c);
        if (c->fd >= 0)
            close(c->fd);
        net_conn_free_leftovers(c);
        free(c);
    }
}

/* ------------------------------------------------------------------------
 * Engine events
 * ------------------------------------------------------------------------ */

static void conn_established(dtlsudp_listener *l, dtlsudp_assoc *a)
{
    dtlsudp_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        /* The association lives on without a connection (no accept, no
         * recv) until idle expiry frees it. */
        net_hooks_log(&l->hooks, DTLSUDP_LOG_ERR, "dtlsudp: out of memory for a connection");
        return;
    }
    c->listener = l;
    c->engine = l->engine;
    c->assoc = a;
    c->fd = -1;
    c->family = l->family;
    c->blocking = l->blocking;
    c->peer = *dtlsudp_assoc_peer(a);
    net_addr_normalise(&c->peer);
    const dtlsudp_addr *local = dtlsudp_assoc_local(a);
    if (local != NULL && local->sa.sa_family != AF_UNSPEC)
        c->local = *local;
    else
        c->local = l->local;
    net_addr_normalise(&c->local);
    dtlsudp_assoc_set_user(a, c);

    dtlsudp_link_prepend(&l->conns, &c->all);
    l->stats.conns_now++;
    accept_push(l, c);
    if (l->demux == DTLSUDP_DEMUX_OSNET) {
        c->needs_socket = 1;
        dtlsudp_link_prepend(&l->setup, &c->setup);
    }
}

static void conn_ended(dtlsudp_listener *l, dtlsudp_conn *c, dtlsudp_assoc *a, int reason)
{
    /* An accepted connection still reads what arrived before the end.  For
     * dtlsudp_listener_recv() such datagrams are dropped: the association
     * (its verified certificate, the session a reply would need) is gone. */
    if (c->accepted)
        net_conn_keep_leftovers(c, a);
    c->assoc = NULL;
    c->last_error = reason < 0 ? reason : DTLSUDP_ERR_CLOSED;
    if (c->accepted || c->zombie)
        return;
    c->zombie = 1;
    c->zombie_next = l->zombies;
    l->zombies = c;
}

static void on_event(void *self, dtlsudp_assoc *a, int event, int reason)
{
    dtlsudp_listener *l = self;
    dtlsudp_conn *c = dtlsudp_assoc_get_user(a);

    switch (event) {
    case DTLSUDP_EVENT_ESTABLISHED:
        if (c == NULL && !dtlsudp_assoc_is_client(a))
            conn_established(l, a);
        break;
    case DTLSUDP_EVENT_DATA:
        if (c != NULL) {
            c->data_pending = 1;
            c->refused_deadline = 0; /* authenticated: the peer is there */
            if (!c->accepted && !c->zombie)
                ready_push(l, c);
        }
        break;
    case DTLSUDP_EVENT_CLOSED:
        if (c != NULL) {
            dtlsudp_assoc_set_user(a, NULL);
            conn_ended(l, c, a, reason);
        }
        break;
    default:
        break;
    }
    net_hooks_event(&l->hooks, a, event, reason);
}

/* ------------------------------------------------------------------------
 * I/O
 * ------------------------------------------------------------------------ */

/* An association with its own socket (osnet) sends through it; everything
 * else through the listening socket, from the address it arrived on. */
static void listener_route(void *self, dtlsudp_assoc *a, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                           net_route *r)
{
    dtlsudp_listener *l = self;
    dtlsudp_conn *c = a != NULL ? dtlsudp_assoc_get_user(a) : NULL;
    if (c != NULL && c->fd >= 0 && !c->neutralised) {
        r->fd = c->fd;
        r->family = c->family;
        r->to = r->from = NULL;
    } else {
        r->fd = l->sock;
        r->family = l->family;
        r->to = peer;
        r->from = local;
    }
    r->conn = c != NULL && c->assoc != NULL ? c : NULL;
}

int net_listener_flush(dtlsudp_listener *l)
{
    return net_flush(l->engine, l->buf, l->blocking, listener_route, l, &l->stats, l->now, l->refused_grace,
                     &l->refused_any);
}

/* One datagram read from fd (c's own socket, or NULL: the listening one)
 * into the engine. */
static void receive_one(dtlsudp_listener *l, net_dgram *d, dtlsudp_conn *c)
{
    if (d->len == 0 || d->peer.sa.sa_family == AF_UNSPEC)
        return; /* truncated, or no source: nothing to route */
    if (d->local.sa.sa_family == AF_UNSPEC)
        d->local = c != NULL ? c->local : l->local;
    d->local.sin.sin_port = l->local.sin.sin_port; /* same offset for sin6 */
    if (c != NULL && !net_addr_same(&d->peer, &c->peer))
        l->stats.rerouted++;
    /* Drops (malformed, stale, refused by a cap) are the engine's to
     * count; NOMEM dropped this datagram only. */
    (void)dtlsudp_engine_receive(l->engine, &d->peer, &d->local, d->buf, d->len, l->now, NULL);
}

/* Read up to NET_READ_BATCH datagrams from fd, NET_RECV_BATCH per system
 * call, and feed them to the engine.  c: the connection whose own socket
 * fd is, or NULL for the listening one. */
int net_listener_read_socket(dtlsudp_listener *l, int fd, dtlsudp_conn *c)
{
    net_dgram d[NET_RECV_BATCH];
    int done = 0, ret;

    for (unsigned i = 0; i < NET_RECV_BATCH; i++)
        d[i].buf = l->rbuf + (size_t)i * NET_MAX_DATAGRAM;
    for (int calls = 0; calls < NET_READ_BATCH && done < NET_READ_BATCH; calls++) {
        int n = net_recv_batch(fd, d, NET_RECV_BATCH);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == ECONNREFUSED && c != NULL) {
                /* ICMP port unreachable on a connected socket.  Anyone on
                 * the path, or off it, can send one (RFC 8085 5.2): the
                 * association ends only if nothing authenticated arrives
                 * within refused_grace. */
                l->stats.refused++;
                l->refused_any |= net_conn_refused_hint(c, l->now, l->refused_grace);
                continue;
            }
            l->stats.recv_errors++;
            break;
        }
        for (int i = 0; i < n; i++) {
            receive_one(l, &d[i], c);
            if ((++done & 31) == 0) {
                ret = net_listener_flush(l);
                if (ret != DTLSUDP_OK)
                    return ret;
            }
        }
        if (n < NET_RECV_BATCH)
            break; /* the queue ran dry: no recvmsg just to hear EAGAIN */
    }
    return DTLSUDP_OK;
}

/* End the connections whose ICMP grace ran out with nothing authenticated. */
static void expire_refused(dtlsudp_listener *l)
{
    int any = 0;
    if (!l->refused_any)
        return;
    dtlsudp_link *i;
    DTLSUDP_LINK_FOREACH(i, &l->conns)
        any |= net_conn_refused_expire(NET_CONN_OF(i, all), l->now);
    l->refused_any = any;
}

static int after_io(dtlsudp_listener *l)
{
    int ret;
    expire_refused(l);
    if (dtlsudp_engine_next_timeout(l->engine) <= l->now) {
        ret = dtlsudp_engine_handle_timeout(l->engine, l->now);
        if (ret != DTLSUDP_OK)
            return ret;
    }
    ret = net_listener_flush(l);
    if (ret != DTLSUDP_OK)
        return ret;
    ret = net_osnet_setup_new_conns(l);
    if (ret != DTLSUDP_OK)
        return ret;
    return net_listener_flush(l);
}

int net_listener_pump(dtlsudp_listener *l, dtlsudp_time now)
{
    int ret;
    l->now = now;
#ifdef __linux__
    if (l->epfd >= 0) {
        struct epoll_event ev[64];
        int n = epoll_wait(l->epfd, ev, 64, 0);
        for (int i = 0; i < n; i++) {
            dtlsudp_conn *c = ev[i].data.ptr;
            ret = net_listener_read_socket(l, c != NULL ? c->fd : l->sock, c);
            if (ret != DTLSUDP_OK)
                return ret;
        }
        return after_io(l);
    }
#endif
    ret = net_listener_read_socket(l, l->sock, NULL);
    if (ret != DTLSUDP_OK)
        return ret;
    return after_io(l);
}

int net_listener_timers(dtlsudp_listener *l, dtlsudp_time now)
{
    l->now = now;
    return after_io(l);
}

int net_conn_read_own_socket(dtlsudp_conn *c, dtlsudp_time now)
{
    dtlsudp_listener *l = c->listener;
    l->now = now;
    int ret = net_listener_read_socket(l, c->fd, c);
    if (ret != DTLSUDP_OK)
        return ret;
    return after_io(l);
}

int net_listener_socket(const dtlsudp_listener *l)
{
    return l->sock;
}

dtlsudp_net_stats *net_listener_stats(dtlsudp_listener *l)
{
    return &l->stats;
}

/* ------------------------------------------------------------------------
 * API
 * ------------------------------------------------------------------------ */

int dtlsudp_listener_config_init_versioned(int version, dtlsudp_listener_config *cfg_out)
{
    dtlsudp_listener_config defaults, *cfg = &defaults;

    if (cfg_out == NULL || eng_abi_size(version, DTLSUDP_ABI_LISTENER_CONFIG) == 0)
        return DTLSUDP_ERR_INVALID;
    memset(cfg, 0, sizeof(*cfg));
    dtlsudp_engine_config_init(&cfg->engine);
    cfg->demux = DTLSUDP_DEMUX_DEFAULT;
    return eng_abi_write(version, DTLSUDP_ABI_LISTENER_CONFIG, cfg_out, cfg);
}

int dtlsudp_listener_new_versioned(int version, const char *addr, const dtlsudp_listener_config *cfg_in,
                                   dtlsudp_time now, dtlsudp_listener **out)
{
    dtlsudp_listener_config cfg_cur, *cfg = &cfg_cur;
    dtlsudp_listener *l = NULL;
    dtlsudp_engine_config ecfg;
    dtlsudp_addr bind_addr;
    socklen_t alen;
    int ret, saved;

    if (out == NULL || cfg_in == NULL || eng_abi_size(version, DTLSUDP_ABI_LISTENER_CONFIG) == 0)
        return DTLSUDP_ERR_INVALID;
    *out = NULL;
    dtlsudp_listener_config_init(cfg);
    eng_abi_read(version, DTLSUDP_ABI_LISTENER_CONFIG, cfg, cfg_in);
    if (net_addr_parse(addr, &bind_addr) != 0)
        return DTLSUDP_ERR_INVALID;
    int demux = cfg->demux;
    if (demux == DTLSUDP_DEMUX_DEFAULT) {
#ifdef __linux__
        demux = DTLSUDP_DEMUX_OSNET;
#else
        demux = DTLSUDP_DEMUX_ROUTER;
#endif
    }
#ifndef __linux__
    if (demux == DTLSUDP_DEMUX_OSNET)
        return DTLSUDP_ERR_INVALID;
#endif
    if (demux != DTLSUDP_DEMUX_OSNET && demux != DTLSUDP_DEMUX_ROUTER)
        return DTLSUDP_ERR_INVALID;
    /* osnet's per-peer connected sockets would join the shard group, and
     * the kernel's choice among a group's sockets is then no longer by
     * peer: a peer's datagrams could reach another shard's engine. */
    if (cfg->reuse_port && demux != DTLSUDP_DEMUX_ROUTER)
        return DTLSUDP_ERR_INVALID;

    if ((l = calloc(1, sizeof(*l))) == NULL)
        return DTLSUDP_ERR_NOMEM;
    l->sock = l->epfd = -1;
    l->demux = demux;
    l->blocking = cfg->blocking;
    l->family = bind_addr.sa.sa_family;
    l->now = now;
    /* The receive slots are touched only as far as datagrams fill them. */
    if ((l->buf = malloc(NET_MAX_DATAGRAM)) == NULL ||
        (l->rbuf = malloc((size_t)NET_RECV_BATCH * NET_MAX_DATAGRAM)) == NULL) {
        ret = DTLSUDP_ERR_NOMEM;
        goto Fail;
    }

    /* "[::]" is dual-stack unless the caller asked for IPv6 only: IPv4
     * clients then arrive as v4-mapped peers. */
    /* Bound without SO_REUSEADDR/SO_REUSEPORT, so the port must be free
     * (no silent sharing with another socket that set them); osnet sets
     * SO_REUSEPORT after bind(), which is enough for its per-peer sockets
     * to bind the same address and, unlike
     * SO_REUSEADDR, lets no socket of another effective uid bind the port
     * (a wildcard listener's 127.0.0.1:P included).  Router mode sets
     * neither, unless the caller asked to share the port (reuse_port):
     * then SO_REUSEPORT goes on before bind(), which is what lets the
     * kernel spread peers over the listeners of the group. */
    l->sock = net_socket(l->family, cfg->reuse_port ? 1 : 0,
                         l->family == AF_INET6 && (cfg->v6only || !net_addr_is_wildcard(&bind_addr)));
    if (l->sock < 0 || bind(l->sock, &bind_addr.sa, net_addr_len(&bind_addr)) != 0) {
        ret = DTLSUDP_ERR_SYSTEM;
        goto Fail;
    }
    int one = 1;
    if (demux == DTLSUDP_DEMUX_OSNET &&
        setsockopt(l->sock, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
        ret = DTLSUDP_ERR_SYSTEM;
        goto Fail;
    }
    int sockbuf = cfg->socket_buffer == 0 ? NET_LISTENER_SOCKBUF
                  : cfg->socket_buffer > INT_MAX ? INT_MAX : (int)cfg->socket_buffer;
    /* best effort: the kernel caps it, and a smaller buffer still works */
    (void)setsockopt(l->sock, SOL_SOCKET, SO_RCVBUF, &sockbuf, sizeof(sockbuf));
    (void)setsockopt(l->sock, SOL_SOCKET, SO_SNDBUF, &sockbuf, sizeof(sockbuf));
    alen = sizeof(l->local);
    if (getsockname(l->sock, &l->local.sa, &alen) != 0) {
        ret = DTLSUDP_ERR_SYSTEM;
        goto Fail;
    }
    net_addr_normalise(&l->local);
#ifdef __linux__
    if (demux == DTLSUDP_DEMUX_OSNET) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epfd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sock, &ev) != 0) {
            ret = DTLSUDP_ERR_SYSTEM;
            goto Fail;
        }
    }
#endif

    ecfg = cfg->engine;
    l->refused_grace = cfg->engine.refused_grace;
    net_hooks_install(&l->hooks, &ecfg, l, on_event);
    ret = dtlsudp_engine_new(&ecfg, now, &l->engine);
    if (ret != DTLSUDP_OK)
        goto Fail;
    *out = l;
    return DTLSUDP_OK;

Fail:
    saved = errno;
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->sock >= 0)
        close(l->sock);
    free(l->buf);
    free(l->rbuf);
    free(l);
    errno = saved;
    return ret;
}

void dtlsudp_listener_free(dtlsudp_listener *l)
{
    if (l == NULL)
        return;
    l->now = dtlsudp_now();
    /* RFC 6353 5.4: closing a session sends close_notify. */
    dtlsudp_engine_close_all(l->engine, l->now);
    (void)net_listener_flush(l);
    reap(l);
    l->zombies = NULL; /* all on l->conns as well */
    dtlsudp_link *first;
    while ((first = dtlsudp_link_first(&l->conns)) != NULL) {
        dtlsudp_conn *c = NET_CONN_OF(first, all);
        net_listener_forget_conn(l, c);
        if (!c->accepted) {
            if (c->fd >= 0)
                close(c->fd);
            net_conn_free_leftovers(c);
            free(c);
            continue;
        }
        /* Accepted but not freed (a caller bug): leave an orphan that only
         * reports its end; its fd stays the caller's to close. */
        c->listener = NULL;
        c->engine = NULL;
        c->assoc = NULL;
        if (c->last_error == DTLSUDP_OK)
            c->last_error = DTLSUDP_ERR_CLOSED;
    }
    dtlsudp_engine_free(l->engine);
    if (l->epfd >= 0)
        close(l->epfd);
    close(l->sock);
    free(l->buf);
    free(l->rbuf);
    free(l);
}

int dtlsudp_listener_fd(const dtlsudp_listener *l)
{
    return l->epfd >= 0 ? l->epfd : l->sock;
}

dtlsudp_engine *dtlsudp_listener_engine(dtlsudp_listener *l)
{
    return l->engine;
}

const dtlsudp_addr *dtlsudp_listener_local_addr(const dtlsudp_listener *l)
{
    return &l->local;
}

int dtlsudp_listener_demux(const dtlsudp_listener *l)
{
    return l->demux;
}

int dtlsudp_listener_process(dtlsudp_listener *l, dtlsudp_time now)
{
    reap(l);
    return net_listener_pump(l, now);
}

int dtlsudp_listener_handle_timeout(dtlsudp_listener *l, dtlsudp_time now)
{
    reap(l);
    return net_listener_timers(l, now);
}

/* The engine's next deadline or an earlier ICMP grace deadline. */
static dtlsudp_time timers_next(const dtlsudp_listener *l)
{
    dtlsudp_time t = dtlsudp_engine_next_timeout(l->engine);
    const dtlsudp_link *i;
    if (l->refused_any)
        DTLSUDP_LINK_FOREACH(i, &l->conns) {
            const dtlsudp_conn *c = NET_CONN_OF(i, all);
            if (c->refused_deadline != 0 && c->assoc != NULL && c->refused_deadline < t)
                t = c->refused_deadline;
        }
    return t;
}

dtlsudp_time dtlsudp_listener_next_timer(const dtlsudp_listener *l)
{
    return timers_next(l);
}

dtlsudp_time dtlsudp_listener_next_timeout(const dtlsudp_listener *l)
{
    const dtlsudp_link *i;
    DTLSUDP_LINK_FOREACH(i, &l->accept)
        if (!NET_CONN_OF(i, accept)->zombie)
            return 0;
    DTLSUDP_LINK_FOREACH(i, &l->ready) {
        const dtlsudp_conn *c = NET_CONN_OF(i, ready);
        if (!c->accepted && (c->assoc != NULL || net_conn_has_leftovers(c)))
            return 0;
    }
    return timers_next(l);
}

static dtlsudp_conn *take_acceptable(dtlsudp_listener *l)
{
    dtlsudp_conn *c;
    while ((c = accept_pop(l)) != NULL) {
        if (c->zombie || c->assoc == NULL)
            continue;
        c->accepted = 1;
        /* From now on the caller polls its fd. */
        net_epoll_remove(l, c);
        dtlsudp_link_remove(&c->ready);
        c->in_ready = 0;
        l->stats.conns_accepted++;
        return c;
    }
    return NULL;
}

int dtlsudp_listener_accept(dtlsudp_listener *l, int timeout_ms, dtlsudp_conn **out)
{
    dtlsudp_time now = dtlsudp_now();
    dtlsudp_time deadline = timeout_ms < 0 ? DTLSUDP_TIME_NEVER : now + (dtlsudp_time)timeout_ms;
    int ret;

    if (out == NULL)
        return DTLSUDP_ERR_INVALID;
    *out = NULL;
    reap(l);
    for (;;) {
        ret = net_listener_pump(l, now);
        if (ret != DTLSUDP_OK)
            return ret;
        if ((*out = take_acceptable(l)) != NULL)
            return DTLSUDP_OK;
        if (now >= deadline)
            return DTLSUDP_ERR_AGAIN;
        struct pollfd p = {.fd = dtlsudp_listener_fd(l), .events = POLLIN};
        dtlsudp_time next = timers_next(l);
        (void)poll(&p, 1, net_poll_timeout(now, next < deadline ? next : deadline, -1));
        now = dtlsudp_now();
    }
}

int dtlsudp_listener_recv(dtlsudp_listener *l, uint8_t *buf, size_t cap, size_t *len,
                          dtlsudp_conn **from)
{
    dtlsudp_conn *c;
    if (buf == NULL || len == NULL)
        return DTLSUDP_ERR_INVALID;
    if (from != NULL)
        *from = NULL;
    dtlsudp_link *first;
    while ((first = dtlsudp_link_first(&l->ready)) != NULL) {
        c = NET_CONN_OF(first, ready);
        if (c->accepted || (c->assoc == NULL && !net_conn_has_leftovers(c))) {
            (void)ready_pop(l);
            continue;
        }
        int ret = net_conn_pop_leftover(c, buf, cap, len);
        if (ret == DTLSUDP_ERR_AGAIN && c->assoc != NULL)
            ret = dtlsudp_assoc_read(c->assoc, buf, cap, len);
        if (ret == DTLSUDP_ERR_AGAIN) {
            (void)ready_pop(l);
            c->data_pending = 0;
            continue;
        }
        if (ret != DTLSUDP_OK)
            return ret;
        /* Round robin: one busy peer cannot starve the others. */
        (void)ready_pop(l);
        ready_push(l, c);
        c->stats.datagrams_read++;
        c->stats.bytes_read += *len;
        if (from != NULL)
            *from = c;
        return DTLSUDP_OK;
    }
    return DTLSUDP_ERR_AGAIN;
}

dtlsudp_conn *dtlsudp_listener_find(dtlsudp_listener *l, const dtlsudp_addr *peer)
{
    dtlsudp_addr key;
    if (peer == NULL)
        return NULL;
    key = *peer;
    net_addr_normalise(&key);
    dtlsudp_assoc *a = dtlsudp_engine_find(l->engine, &key);
    dtlsudp_conn *c = a != NULL ? dtlsudp_assoc_get_user(a) : NULL;
    if (c != NULL)
        return c;
    /* During a peer restart the engine may know the new, still handshaking
     * association; the established one is still ours. */
    dtlsudp_link *i;
    DTLSUDP_LINK_FOREACH(i, &l->conns) {
        c = NET_CONN_OF(i, all);
        if (c->assoc != NULL && net_addr_same(&c->peer, &key))
            return c;
    }
    return NULL;
}

int dtlsudp_listener_get_stats_versioned(int version, const dtlsudp_listener *l, dtlsudp_net_stats *out)
{
    dtlsudp_net_stats now;

    if (l == NULL || out == NULL)
        return DTLSUDP_ERR_INVALID;
    now = l->stats;
    dtlsudp_engine_get_stats(l->engine, &now.engine);
    return eng_abi_write(version, DTLSUDP_ABI_NET_STATS, out, &now);
}
