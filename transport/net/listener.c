/*
 * listener.c - a DTLS listener on a UDP socket: the osnet and router
 * demultiplexers and the engine event handler for server connections.
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
 *
 * Per-peer sockets are made when the association reaches ESTABLISHED, not
 * at cookie verification: handshakes that fail or time out never cost a
 * socket (or an fd), and the handshake's own retransmissions all use one
 * path.
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

struct dtlsudp_listener {
    net_hooks hooks; /* first member: the engine's `user' points here */
    dtlsudp_engine *engine;
    int sock;   /* the listening socket (unconnected) */
    int family; /* of sock */
    int epfd;   /* osnet: epoll set over sock + owned per-peer sockets */
    int demux;
    int blocking;
    dtlsudp_addr local; /* bound address, normalised */

    dtlsudp_conn *conns; /* every connection, owned or accepted */
    dtlsudp_conn *ready_head, *ready_tail;
    dtlsudp_conn *accept_head, *accept_tail;
    dtlsudp_conn *setup_head; /* osnet: waiting for their socket */
    dtlsudp_conn *zombies;    /* owned, ended: freed by reap() */

    dtlsudp_time now; /* of the current call */
    dtlsudp_time refused_grace; /* cfg->engine.refused_grace */
    int refused_any;            /* some connection has a refused_deadline */
    dtlsudp_net_stats stats;
    uint8_t *buf; /* NET_MAX_DATAGRAM */
};

static int read_socket(dtlsudp_listener *l, int fd, dtlsudp_conn *c);

void (*net_test_hook)(int stage, int fd, void *arg);
void *net_test_hook_arg;

/* ------------------------------------------------------------------------
 * Queues
 * ------------------------------------------------------------------------ */

static void ready_push(dtlsudp_listener *l, dtlsudp_conn *c)
{
    if (c->in_ready)
        return;
    c->in_ready = 1;
    c->ready_next = NULL;
    if (l->ready_tail != NULL)
        l->ready_tail->ready_next = c;
    else
        l->ready_head = c;
    l->ready_tail = c;
}

static dtlsudp_conn *ready_pop(dtlsudp_listener *l)
{
    dtlsudp_conn *c = l->ready_head;
    if (c == NULL)
        return NULL;
    l->ready_head = c->ready_next;
    if (l->ready_head == NULL)
        l->ready_tail = NULL;
    c->ready_next = NULL;
    c->in_ready = 0;
    return c;
}

static void accept_push(dtlsudp_listener *l, dtlsudp_conn *c)
{
    c->in_accept = 1;
    c->accept_next = NULL;
    if (l->accept_tail != NULL)
        l->accept_tail->accept_next = c;
    else
        l->accept_head = c;
    l->accept_tail = c;
}

static dtlsudp_conn *accept_pop(dtlsudp_listener *l)
{
    dtlsudp_conn *c = l->accept_head;
    if (c == NULL)
        return NULL;
    l->accept_head = c->accept_next;
    if (l->accept_head == NULL)
        l->accept_tail = NULL;
    c->accept_next = NULL;
    c->in_accept = 0;
    return c;
}

/* Unlink c from a singly linked queue given by head/tail pointers. */
static void unlink_from(dtlsudp_conn **head, dtlsudp_conn **tail, dtlsudp_conn *c,
                        size_t next_offset)
{
    dtlsudp_conn *prev = NULL;
    for (dtlsudp_conn *it = *head; it != NULL;
         prev = it, it = *(dtlsudp_conn **)((char *)it + next_offset)) {
        if (it != c)
            continue;
        dtlsudp_conn *next = *(dtlsudp_conn **)((char *)it + next_offset);
        if (prev != NULL)
            *(dtlsudp_conn **)((char *)prev + next_offset) = next;
        else
            *head = next;
        if (tail != NULL && *tail == c)
            *tail = prev;
        return;
    }
}

static void epoll_remove(dtlsudp_listener *l, dtlsudp_conn *c)
{
#ifdef __linux__
    if (c->in_epoll && l->epfd >= 0)
        (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
#endif
    c->in_epoll = 0;
}

static void close_conn_socket(dtlsudp_listener *l, dtlsudp_conn *c)
{
    if (c->fd < 0)
        return;
    epoll_remove(l, c);
    close(c->fd);
    c->fd = -1;
    if (!c->neutralised && l->stats.peer_sockets_now > 0)
        l->stats.peer_sockets_now--;
}

void net_listener_forget_conn(dtlsudp_listener *l, dtlsudp_conn *c)
{
    if (c->in_ready)
        unlink_from(&l->ready_head, &l->ready_tail, c, offsetof(dtlsudp_conn, ready_next));
    if (c->in_accept)
        unlink_from(&l->accept_head, &l->accept_tail, c, offsetof(dtlsudp_conn, accept_next));
    if (c->needs_socket)
        unlink_from(&l->setup_head, NULL, c, offsetof(dtlsudp_conn, setup_next));
    c->in_ready = c->in_accept = c->needs_socket = 0;
    epoll_remove(l, c);
    if (c->fd >= 0 && !c->neutralised && l->stats.peer_sockets_now > 0)
        l->stats.peer_sockets_now--;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
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
        if (c->left_head != NULL && !c->accepted) {
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

    c->next = l->conns;
    if (l->conns != NULL)
        l->conns->prev = c;
    l->conns = c;
    l->stats.conns_now++;
    accept_push(l, c);
    if (l->demux == DTLSUDP_DEMUX_OSNET) {
        c->needs_socket = 1;
        c->setup_next = l->setup_head;
        l->setup_head = c;
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
 * osnet: per-peer sockets
 * ------------------------------------------------------------------------ */

/* An older connection to the same peer (a restarted client, RFC 6347 4.2.8,
 * or one that ended but was not freed yet) still has a socket connected to
 * the same 4-tuple: read what it holds, then take it off the wire so the
 * kernel cannot pick it over the successor's.  An accepted connection's fd
 * number stays valid for the caller (dup2 of an unbound socket over it). */
static void retire_predecessors(dtlsudp_listener *l, dtlsudp_conn *succ)
{
    for (dtlsudp_conn *c = l->conns; c != NULL; c = c->next) {
        if (c == succ || c->fd < 0 || c->neutralised || !net_addr_same(&c->peer, &succ->peer))
            continue;
        (void)read_socket(l, c->fd, c);
        if (!c->accepted) {
            close_conn_socket(l, c);
            continue;
        }
        int dummy = socket(c->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (dummy < 0)
            continue;
        epoll_remove(l, c);
        if (dup2(dummy, c->fd) >= 0) {
            c->neutralised = 1;
            if (l->stats.peer_sockets_now > 0)
                l->stats.peer_sockets_now--;
        }
        close(dummy);
    }
}

static int make_peer_socket(dtlsudp_listener *l, dtlsudp_conn *c)
{
#ifdef __linux__
    dtlsudp_addr bind_addr, peer;
    int fd = -1, saved;

    /* Bind to the address the handshake arrived on (never the wildcard when
     * the kernel told us), on the listener's port; both sockets carry
     * SO_REUSEPORT (not SO_REUSEADDR: Linux shares a SO_REUSEPORT port only
     * among sockets of the same effective uid, so another user cannot bind
     * beside us).  Connected, this socket outscores the listener for the
     * peer's datagrams (compute_score: +4 per matching daddr and dport),
     * and the kernel's reuseport selection skips connected sockets, so the
     * listener keeps every other peer.  If the process changed its uid
     * since the listener was bound, bind() fails (EADDRINUSE) and the
     * connection is served through the listening socket. */
    c->local.sin.sin_port = l->local.sin.sin_port; /* same offset for sin6 */
    net_addr_for_family(&c->local, l->family, &bind_addr);
    net_addr_for_family(&c->peer, l->family, &peer);
    int v6only = l->family == AF_INET6 && c->local.sa.sa_family == AF_INET6 &&
                 !net_addr_is_wildcard(&c->local);
    if (net_test_hook != NULL)
        net_test_hook(NET_HOOK_BEFORE_SOCKET, -1, net_test_hook_arg);
    if ((fd = net_socket(l->family, 1, v6only)) < 0)
        goto Fail;
    if (bind(fd, &bind_addr.sa, net_addr_len(&bind_addr)) != 0)
        goto Fail;
    /* From here until connect() the kernel may hand this socket datagrams
     * of any peer (the first osnet race): read_socket() below
     * routes them by source address. */
    if (net_test_hook != NULL)
        net_test_hook(NET_HOOK_BOUND, fd, net_test_hook_arg);
    if (connect(fd, &peer.sa, net_addr_len(&peer)) != 0)
        goto Fail;
    c->fd = fd;
    l->stats.peer_sockets_now++;
    l->stats.peer_sockets_made++;
    if (!c->accepted && l->epfd >= 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
            c->in_epoll = 1;
    }
    return read_socket(l, fd, c);

Fail:
    saved = errno;
    if (fd >= 0) {
        /* what it caught before failing is still to be routed */
        (void)read_socket(l, fd, NULL);
        close(fd);
    }
    errno = saved;
#endif
    /* Without its own socket the connection is served through the
     * listening socket, as in router mode. */
    net_hooks_log(&l->hooks, DTLSUDP_LOG_WARNING,
                  "dtlsudp: no per-peer socket (%s); using the listening socket", strerror(errno));
    return DTLSUDP_OK;
}

static int setup_new_conns(dtlsudp_listener *l)
{
    while (l->setup_head != NULL) {
        dtlsudp_conn *c = l->setup_head;
        l->setup_head = c->setup_next;
        c->setup_next = NULL;
        c->needs_socket = 0;
        if (c->zombie || c->assoc == NULL || c->fd >= 0)
            continue;
        retire_predecessors(l, c);
        int ret = make_peer_socket(l, c);
        if (dtlsudp_err_is_fatal(ret))
            return ret;
    }
    return DTLSUDP_OK;
}

/* ------------------------------------------------------------------------
 * I/O
 * ------------------------------------------------------------------------ */

int net_listener_flush(dtlsudp_listener *l)
{
    for (;;) {
        size_t len;
        dtlsudp_addr peer, local;
        dtlsudp_assoc *a = NULL;
        int ret = dtlsudp_engine_pop(l->engine, l->buf, NET_MAX_DATAGRAM, &len, &peer, &local, &a);
        if (ret == DTLSUDP_ERR_AGAIN)
            return DTLSUDP_OK;
        if (ret != DTLSUDP_OK)
            return ret;
        dtlsudp_conn *c = a != NULL ? dtlsudp_assoc_get_user(a) : NULL;
        int rc;
        if (c != NULL && c->fd >= 0 && !c->neutralised)
            rc = net_send(c->fd, c->family, l->buf, len, NULL, NULL, l->blocking);
        else
            rc = net_send(l->sock, l->family, l->buf, len, &peer, &local, l->blocking);
        if (rc == 0)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            l->stats.send_dropped_full++;
        } else if (errno == ECONNREFUSED && c != NULL && c->assoc != NULL) {
            /* A connected socket reports an earlier ICMP port unreachable
             * on the next send: the peer may be gone (a hint only). */
            l->stats.refused++;
            l->refused_any |= net_conn_refused_hint(c, l->now, l->refused_grace);
        } else {
            l->stats.send_errors++;
        }
    }
}

/* Read up to NET_READ_BATCH datagrams from fd and feed them to the engine.
 * c: the connection whose own socket fd is, or NULL for the listening one. */
static int read_socket(dtlsudp_listener *l, int fd, dtlsudp_conn *c)
{
    net_dgram d = {.buf = l->buf};
    int ret = DTLSUDP_OK;

    for (int i = 0; i < NET_READ_BATCH; i++) {
        if (net_recv(fd, &d) != 0) {
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
        if (d.len == 0 || d.peer.sa.sa_family == AF_UNSPEC)
            continue; /* truncated, or no source: nothing to route */
        if (d.local.sa.sa_family == AF_UNSPEC)
            d.local = c != NULL ? c->local : l->local;
        d.local.sin.sin_port = l->local.sin.sin_port; /* same offset for sin6 */
        if (c != NULL && !net_addr_same(&d.peer, &c->peer))
            l->stats.rerouted++;
        /* Drops (malformed, stale, refused by a cap) are the engine's to
         * count; NOMEM dropped this datagram only. */
        (void)dtlsudp_engine_receive(l->engine, &d.peer, &d.local, d.buf, d.len, l->now, NULL);
        if ((i & 31) == 31) {
            ret = net_listener_flush(l);
            if (ret != DTLSUDP_OK)
                return ret;
        }
    }
    return DTLSUDP_OK;
}

/* End the connections whose ICMP grace ran out with nothing authenticated. */
static void expire_refused(dtlsudp_listener *l)
{
    int any = 0;
    if (!l->refused_any)
        return;
    for (dtlsudp_conn *c = l->conns; c != NULL; c = c->next)
        any |= net_conn_refused_expire(c, l->now);
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
    ret = setup_new_conns(l);
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
            ret = read_socket(l, c != NULL ? c->fd : l->sock, c);
            if (ret != DTLSUDP_OK)
                return ret;
        }
        return after_io(l);
    }
#endif
    ret = read_socket(l, l->sock, NULL);
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
    int ret = read_socket(l, c->fd, c);
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

    if (cfg_out == NULL || dtlsudp_abi_size(version, DTLSUDP_ABI_LISTENER_CONFIG) == 0)
        return DTLSUDP_ERR_INVALID;
    memset(cfg, 0, sizeof(*cfg));
    dtlsudp_engine_config_init(&cfg->engine);
    cfg->demux = DTLSUDP_DEMUX_DEFAULT;
    return dtlsudp_abi_write(version, DTLSUDP_ABI_LISTENER_CONFIG, cfg_out, cfg);
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

    if (out == NULL || cfg_in == NULL || dtlsudp_abi_size(version, DTLSUDP_ABI_LISTENER_CONFIG) == 0)
        return DTLSUDP_ERR_INVALID;
    *out = NULL;
    dtlsudp_listener_config_init(cfg);
    dtlsudp_abi_read(version, DTLSUDP_ABI_LISTENER_CONFIG, cfg, cfg_in);
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

    if ((l = calloc(1, sizeof(*l))) == NULL)
        return DTLSUDP_ERR_NOMEM;
    l->sock = l->epfd = -1;
    l->demux = demux;
    l->blocking = cfg->blocking;
    l->family = bind_addr.sa.sa_family;
    l->now = now;
    if ((l->buf = malloc(NET_MAX_DATAGRAM)) == NULL) {
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
     * neither. */
    l->sock = net_socket(l->family, 0,
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
    while (l->conns != NULL) {
        dtlsudp_conn *c = l->conns;
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
    if (l->refused_any)
        for (const dtlsudp_conn *c = l->conns; c != NULL; c = c->next)
            if (c->refused_deadline != 0 && c->assoc != NULL && c->refused_deadline < t)
                t = c->refused_deadline;
    return t;
}

dtlsudp_time dtlsudp_listener_next_timeout(const dtlsudp_listener *l)
{
    for (const dtlsudp_conn *c = l->accept_head; c != NULL; c = c->accept_next)
        if (!c->zombie)
            return 0;
    for (const dtlsudp_conn *c = l->ready_head; c != NULL; c = c->ready_next)
        if (!c->accepted && (c->assoc != NULL || c->left_head != NULL))
            return 0;
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
        epoll_remove(l, c);
        if (c->in_ready)
            unlink_from(&l->ready_head, &l->ready_tail, c, offsetof(dtlsudp_conn, ready_next));
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
    while ((c = l->ready_head) != NULL) {
        if (c->accepted || (c->assoc == NULL && c->left_head == NULL)) {
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
    for (c = l->conns; c != NULL; c = c->next)
        if (c->assoc != NULL && net_addr_same(&c->peer, &key))
            return c;
    return NULL;
}

int dtlsudp_listener_get_stats_versioned(int version, const dtlsudp_listener *l, dtlsudp_net_stats *out)
{
    dtlsudp_net_stats now;

    if (l == NULL || out == NULL)
        return DTLSUDP_ERR_INVALID;
    now = l->stats;
    dtlsudp_engine_get_stats(l->engine, &now.engine);
    return dtlsudp_abi_write(version, DTLSUDP_ABI_NET_STATS, out, &now);
}
