/*
 * loop.c - the proxy's event loop: one epoll set whose events point at a
 * proxy_watch (a socket of a service, the signalfd), dispatched after
 * each wait.  Used by main.c and by the tests, which run the services
 * with their own deadlines.  Also the batched read of a socket that both
 * modes use.
 */
/* recvmmsg() needs _GNU_SOURCE with glibc. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "config.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy.h"

int proxy_loop_open(proxy_loop *loop)
{
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    return loop->epfd < 0 ? -1 : 0;
}

void proxy_loop_close(proxy_loop *loop)
{
    if (loop->epfd >= 0)
        close(loop->epfd);
    loop->epfd = -1;
}

int proxy_loop_add(proxy_loop *loop, int fd, proxy_watch *w)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
    return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void proxy_loop_del(proxy_loop *loop, int fd)
{
    (void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int proxy_loop_run_once(proxy_loop *loop, int timeout_ms)
{
    struct epoll_event ev[64];
    dtlsudp_time now;
    int k = epoll_wait(loop->epfd, ev, 64, timeout_ms);

    if (k < 0)
        return errno == EINTR ? 0 : -1;
    now = dtlsudp_now();
    for (int i = 0; i < k; i++) {
        proxy_watch *w = ev[i].data.ptr;
        w->ready(w, ev[i].events, now);
    }
    return k;
}

#define READ_BATCH 16
#define READ_BURST 4

void proxy_read_datagrams(int fd, proxy_datagram_fn each, void *arg)
{
    static uint8_t bufs[READ_BATCH][PROXY_SLOT];
    struct mmsghdr msgs[READ_BATCH];
    struct iovec iov[READ_BATCH];
    dtlsudp_addr src[READ_BATCH];

    for (int round = 0; round < READ_BURST; round++) {
        for (int i = 0; i < READ_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = PROXY_SLOT};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &src[i], .msg_namelen = sizeof(src[i]),
                                              .msg_iov = &iov[i], .msg_iovlen = 1};
        }
        /* MSG_TRUNC: msg_len is the datagram's real length */
        int n = recvmmsg(fd, msgs, READ_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
        if (n < 0 && errno == ECONNREFUSED)
            continue; /* a connected socket's peer port was closed for an earlier datagram */
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++)
            if (each(arg, &src[i], bufs[i], msgs[i].msg_len) != 0)
                return;
        if (n < READ_BATCH)
            return; /* the socket was empty: no need to ask again */
    }
}
