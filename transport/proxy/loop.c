/*
 * loop.c - the proxy's event loop: one epoll set whose events point at a
 * proxy_watch (a socket of a service, the signalfd), dispatched after
 * each wait.  Used by main.c and by the tests, which run the services
 * with their own deadlines.
 */
#include "config.h"

#include <errno.h>
#include <sys/epoll.h>
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
