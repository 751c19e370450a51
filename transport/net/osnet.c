/*
 * osnet.c - the osnet demultiplexer's per-peer sockets (Linux): at
 * ESTABLISHED a server association gets a socket bound with SO_REUSEPORT to
 * the handshake's local address and connected to the peer, registered in
 * the listener's epoll set; an older connection to the same peer is taken
 * off the wire first.
 *
 * Per-peer sockets are made when the association reaches ESTABLISHED, not
 * at cookie verification: handshakes that fail or time out never cost a
 * socket (or an fd), and the handshake's own retransmissions all use one
 * path.  What a new socket catches between bind() and connect() (the first
 * osnet race) is read at once and routed by source address
 * (net_listener_read_socket()).
 */
/* struct in6_pktinfo (IPV6_PKTINFO) needs _GNU_SOURCE with glibc. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include "net_internal.h"

void (*net_test_hook)(int stage, int fd, void *arg);
void *net_test_hook_arg;

void net_epoll_remove(dtlsudp_listener *l, dtlsudp_conn *c)
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
    net_epoll_remove(l, c);
    close(c->fd);
    c->fd = -1;
    if (!c->neutralised && l->stats.peer_sockets_now > 0)
        l->stats.peer_sockets_now--;
}

/* An older connection to the same peer (a restarted client, RFC 6347 4.2.8,
 * or one that ended but was not freed yet) still has a socket connected to
 * the same 4-tuple: read what it holds, then take it off the wire so the
 * kernel cannot pick it over the successor's.  An accepted connection's fd
 * number stays valid for the caller (dup2 of an unbound socket over it). */
static void retire_predecessors(dtlsudp_listener *l, dtlsudp_conn *succ)
{
    dtlsudp_link *i;
    DTLSUDP_LINK_FOREACH(i, &l->conns) {
        dtlsudp_conn *c = NET_CONN_OF(i, all);
        if (c == succ || c->fd < 0 || c->neutralised || !net_addr_same(&c->peer, &succ->peer))
            continue;
        (void)net_listener_read_socket(l, c->fd, c);
        if (!c->accepted) {
            close_conn_socket(l, c);
            continue;
        }
        int dummy = socket(c->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (dummy < 0)
            continue;
        net_epoll_remove(l, c);
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
     * of any peer (the first osnet race): net_listener_read_socket() below
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
    return net_listener_read_socket(l, fd, c);

Fail:
    saved = errno;
    if (fd >= 0) {
        /* what it caught before failing is still to be routed */
        (void)net_listener_read_socket(l, fd, NULL);
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

int net_osnet_setup_new_conns(dtlsudp_listener *l)
{
    dtlsudp_link *first;
    while ((first = dtlsudp_link_shift(&l->setup)) != NULL) {
        dtlsudp_conn *c = NET_CONN_OF(first, setup);
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
