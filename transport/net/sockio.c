/*
 * sockio.c - addresses and datagram I/O for the socket layer.
 *
 * Every datagram is read with its arrival (local) address and sent with an
 * explicit source address, so a listener bound to a wildcard address on a
 * multi-homed host answers from the address the client wrote to, and the
 * osnet demultiplexer can bind a per-peer socket to that same address.
 */
/* struct in6_pktinfo (IPV6_PKTINFO) needs _GNU_SOURCE with glibc. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_internal.h"

void net_addr_normalise(dtlsudp_addr *a)
{
    if (a->sa.sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&a->sin6.sin6_addr))
        return;
    struct sockaddr_in v4;
    memset(&v4, 0, sizeof(v4));
    v4.sin_family = AF_INET;
    v4.sin_port = a->sin6.sin6_port;
    memcpy(&v4.sin_addr, &a->sin6.sin6_addr.s6_addr[12], 4);
    memset(a, 0, sizeof(*a));
    a->sin = v4;
}

void net_addr_for_family(const dtlsudp_addr *in, int family, dtlsudp_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (in->sa.sa_family == AF_INET && family == AF_INET6) {
        out->sin6.sin6_family = AF_INET6;
        out->sin6.sin6_port = in->sin.sin_port;
        out->sin6.sin6_addr.s6_addr[10] = 0xff;
        out->sin6.sin6_addr.s6_addr[11] = 0xff;
        memcpy(&out->sin6.sin6_addr.s6_addr[12], &in->sin.sin_addr, 4);
        return;
    }
    *out = *in;
}

socklen_t net_addr_len(const dtlsudp_addr *a)
{
    return a->sa.sa_family == AF_INET6 ? sizeof(a->sin6) : sizeof(a->sin);
}

int net_addr_is_wildcard(const dtlsudp_addr *a)
{
    if (a->sa.sa_family == AF_INET)
        return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
    if (a->sa.sa_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&a->sin6.sin6_addr);
    return 1;
}

int net_addr_same(const dtlsudp_addr *a, const dtlsudp_addr *b)
{
    if (a->sa.sa_family != b->sa.sa_family)
        return 0;
    if (a->sa.sa_family == AF_INET)
        return a->sin.sin_port == b->sin.sin_port && a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
    if (a->sa.sa_family == AF_INET6)
        return a->sin6.sin6_port == b->sin6.sin6_port &&
               memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, sizeof(a->sin6.sin6_addr)) == 0 &&
               a->sin6.sin6_scope_id == b->sin6.sin6_scope_id;
    return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    if (*s == '\0')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > 65535 || *s == '-' || *s == '+')
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int net_addr_parse(const char *text, dtlsudp_addr *out)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port_text = NULL;
    uint16_t port = 0;
    size_t hlen;

    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return -1;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL)
            return -1;
        hlen = (size_t)(close - text - 1);
        if (hlen >= sizeof(host))
            return -1;
        memcpy(host, text + 1, hlen);
        host[hlen] = '\0';
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0')
            return -1;
        if (port_text != NULL && parse_port(port_text, &port) != 0)
            return -1;
        out->sin6.sin6_family = AF_INET6;
        out->sin6.sin6_port = htons(port);
        return inet_pton(AF_INET6, host, &out->sin6.sin6_addr) == 1 ? 0 : -1;
    }
    const char *colon = strrchr(text, ':');
    if (colon != NULL && strchr(text, ':') != colon) {
        /* several colons, no brackets: a bare IPv6 address */
        out->sin6.sin6_family = AF_INET6;
        return inet_pton(AF_INET6, text, &out->sin6.sin6_addr) == 1 ? 0 : -1;
    }
    if (colon == NULL && strchr(text, '.') == NULL) {
        /* "10161": a port on the IPv4 wildcard */
        if (parse_port(text, &port) != 0)
            return -1;
        out->sin.sin_family = AF_INET;
        out->sin.sin_port = htons(port);
        return 0;
    }
    hlen = colon != NULL ? (size_t)(colon - text) : strlen(text);
    if (hlen >= sizeof(host))
        return -1;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    if (colon != NULL && parse_port(colon + 1, &port) != 0)
        return -1;
    out->sin.sin_family = AF_INET;
    out->sin.sin_port = htons(port);
    if (hlen == 0)
        return 0; /* ":10161" */
    return inet_pton(AF_INET, host, &out->sin.sin_addr) == 1 ? 0 : -1;
}

int net_socket(int family, int reuse, int v6only)
{
    int one = 1, saved;
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0)
        return -1;
#ifdef SO_REUSEPORT
    /* SO_REUSEPORT, never SO_REUSEADDR: Linux lets a socket share a
     * SO_REUSEPORT port only with sockets of the same effective uid, so no
     * other user can bind the address beside ours and take its traffic. */
    if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        goto Fail;
#else
    if (reuse) {
        errno = ENOPROTOOPT;
        goto Fail;
    }
#endif
    if (family == AF_INET6) {
        int v6 = v6only ? 1 : 0;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof(v6)) != 0)
            goto Fail;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) != 0)
            goto Fail;
    } else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) != 0) {
        goto Fail;
    }
    return fd;
Fail:
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* Room for the arrival address of one datagram, either family. */
typedef union net_control {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct cmsghdr align;
} net_control;

static void prepare_msg(net_dgram *d, struct iovec *iov, net_control *control, struct msghdr *msg)
{
    iov->iov_base = d->buf;
    iov->iov_len = NET_MAX_DATAGRAM;
    memset(msg, 0, sizeof(*msg));
    memset(&d->peer, 0, sizeof(d->peer));
    memset(&d->local, 0, sizeof(d->local));
    msg->msg_name = &d->peer;
    msg->msg_namelen = sizeof(d->peer);
    msg->msg_iov = iov;
    msg->msg_iovlen = 1;
    msg->msg_control = control->buf;
    msg->msg_controllen = sizeof(control->buf);
}

/* The length and addresses of a datagram the kernel put into d. */
static void finish_dgram(net_dgram *d, struct msghdr *msg, size_t n)
{
    d->len = (msg->msg_flags & MSG_TRUNC) != 0 ? 0 : n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            d->local.sin.sin_family = AF_INET;
            d->local.sin.sin_addr = pi.ipi_addr;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            d->local.sin6.sin6_family = AF_INET6;
            d->local.sin6.sin6_addr = pi.ipi6_addr;
            /* link-local arrival addresses only make sense with their interface */
            if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
                d->local.sin6.sin6_scope_id = pi.ipi6_ifindex;
        }
    }
    net_addr_normalise(&d->peer);
    net_addr_normalise(&d->local);
}

int net_recv_batch(int fd, net_dgram *d, unsigned n)
{
    struct mmsghdr msgs[NET_RECV_BATCH];
    struct iovec iov[NET_RECV_BATCH];
    net_control control[NET_RECV_BATCH];
    int got;

    if (n == 0 || n > NET_RECV_BATCH) {
        errno = EINVAL;
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        prepare_msg(&d[i], &iov[i], &control[i], &msgs[i].msg_hdr);
        msgs[i].msg_len = 0;
    }
    /* One call for up to n datagrams.  Non-blocking, it returns fewer only
     * when the queue ran dry (or an error came after the first, which the
     * kernel keeps for the next call), so a caller that stops then skips
     * the recvmsg that would only have said EAGAIN. */
    do
        got = recvmmsg(fd, msgs, n, MSG_DONTWAIT, NULL);
    while (got < 0 && errno == EINTR);
    for (int i = 0; i < got; i++)
        finish_dgram(&d[i], &msgs[i].msg_hdr, msgs[i].msg_len);
    return got;
}

int net_recv(int fd, net_dgram *d)
{
    return net_recv_batch(fd, d, 1) == 1 ? 0 : -1;
}

static int wait_writable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int r;
    do
        r = poll(&p, 1, NET_SEND_WAIT_MS);
    while (r < 0 && errno == EINTR);
    return r > 0 ? 0 : -1;
}

int net_send(int fd, int family, const uint8_t *buf, size_t len, const dtlsudp_addr *to,
             const dtlsudp_addr *from, int blocking)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
        struct cmsghdr align;
    } control;
    dtlsudp_addr dest;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    memset(&control, 0, sizeof(control));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;

    if (to != NULL) {
        net_addr_for_family(to, family, &dest);
        msg.msg_name = &dest;
        msg.msg_namelen = net_addr_len(&dest);
    }
    if (to != NULL && from != NULL && from->sa.sa_family != AF_UNSPEC && !net_addr_is_wildcard(from)) {
        struct cmsghdr *c = (struct cmsghdr *)control.buf;
        if (family == AF_INET6) {
            /* A dual-stack socket takes a v4-mapped source in IPV6_PKTINFO
             * for IPv4 destinations as well. */
            dtlsudp_addr src;
            struct in6_pktinfo pi;
            net_addr_for_family(from, AF_INET6, &src);
            memset(&pi, 0, sizeof(pi));
            pi.ipi6_addr = src.sin6.sin6_addr;
            pi.ipi6_ifindex = src.sin6.sin6_scope_id;
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
            msg.msg_controllen = CMSG_SPACE(sizeof(pi));
        } else if (from->sa.sa_family == AF_INET) {
            struct in_pktinfo pi;
            memset(&pi, 0, sizeof(pi));
            pi.ipi_spec_dst = from->sin.sin_addr;
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
            msg.msg_controllen = CMSG_SPACE(sizeof(pi));
        }
        if (msg.msg_controllen != 0)
            msg.msg_control = control.buf;
    }

    for (;;) {
        ssize_t n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0)
            return 0;
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && blocking && wait_writable(fd) == 0) {
            blocking = 0; /* one wait per datagram */
            continue;
        }
        return -1;
    }
}

int net_poll_timeout(dtlsudp_time now, dtlsudp_time deadline, int limit_ms)
{
    int ms;
    if (deadline == DTLSUDP_TIME_NEVER)
        ms = -1;
    else if (deadline <= now)
        ms = 0;
    else if (deadline - now > INT_MAX)
        ms = INT_MAX;
    else
        ms = (int)(deadline - now);
    if (limit_ms >= 0 && (ms < 0 || ms > limit_ms))
        ms = limit_ms;
    return ms;
}

int net_flush(dtlsudp_engine *e, uint8_t *buf, int blocking, net_route_fn route, void *self, dtlsudp_net_stats *stats,
              dtlsudp_time now, dtlsudp_time grace, int *refused_pending)
{
    for (;;) {
        size_t len;
        dtlsudp_addr peer, local;
        dtlsudp_assoc *a = NULL;
        net_route r;
        int ret = dtlsudp_engine_pop(e, buf, NET_MAX_DATAGRAM, &len, &peer, &local, &a);
        if (ret == DTLSUDP_ERR_AGAIN)
            return DTLSUDP_OK;
        if (ret != DTLSUDP_OK)
            return ret;
        route(self, a, &peer, &local, &r);
        if (net_send(r.fd, r.family, buf, len, r.to, r.from, blocking) == 0)
            continue;
        /* A lost datagram is the peer's retransmission (or ours) to cover:
         * count it and go on with the rest. */
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            stats->send_dropped_full++;
        } else if (errno == ECONNREFUSED && r.conn != NULL) {
            /* A connected socket reports an earlier ICMP port unreachable
             * on the next send: the peer may be gone (a hint only,
             * RFC 8085 5.2). */
            stats->refused++;
            int pending = net_conn_refused_hint(r.conn, now, grace);
            if (refused_pending != NULL)
                *refused_pending |= pending;
        } else {
            stats->send_errors++;
        }
    }
}
