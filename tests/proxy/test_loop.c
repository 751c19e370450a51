/*
 * test_loop.c - dtlsudp-proxy's event loop and batched read
 * (transport/proxy/loop.c) on loopback sockets:
 *
 *   - a readable fd runs its watch (with EPOLLIN and the time after the
 *     wait), an idle one does not, a removed one no longer does, and
 *     proxy_loop_run_once() says how many ran;
 *   - the wait is bounded by its timeout, a signal ends it with 0, a
 *     closed epoll set with -1, and adding a bad fd is refused;
 *   - proxy_read_datagrams() hands over each datagram with its sender and
 *     its real length (a truncated one too), reads at most 4 batches of 16
 *     per call so one busy socket cannot starve the others, stops when the
 *     callback says the socket is gone, and reads past an ICMP error that
 *     an earlier datagram of a connected socket left pending.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "proxy.h"

/* ---- helpers ---- */

static int udp_socket(struct sockaddr_in *bound)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    if (bound != NULL)
        *bound = a;
    return fd;
}

static void send_to(int from, const struct sockaddr_in *to, const void *buf, size_t len)
{
    assert_int_equal(sendto(from, buf, len, 0, (const struct sockaddr *)to, sizeof(*to)), (ssize_t)len);
}

/* A watch that records how it was called. */
typedef struct counting_watch {
    proxy_watch watch;
    int fd;
    int calls;
    uint32_t events;
    dtlsudp_time now;
} counting_watch;

static void counting_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    counting_watch *c = (counting_watch *)w;
    char buf[64];
    c->calls++;
    c->events = events;
    c->now = now;
    while (recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
        ; /* empty it: the next wait must not see it again */
}

/* What proxy_read_datagrams() handed over. */
typedef struct received {
    int count;
    int stop_after; /* nonzero return at this call (0: never) */
    size_t len[128];
    uint8_t first[128];
    uint16_t src_port[128];
    int prefix_ok; /* the slot holds the datagram's first bytes */
} received;

static int record(void *arg, const dtlsudp_addr *src, const uint8_t *buf, size_t len)
{
    received *r = arg;
    if (r->count < 128) {
        r->len[r->count] = len;
        r->first[r->count] = buf[0];
        r->src_port[r->count] = ntohs(src->sin.sin_port);
    }
    if (len > PROXY_SLOT) {
        r->prefix_ok = 1;
        for (size_t i = 0; i < PROXY_SLOT; i++)
            if (buf[i] != (uint8_t)(i % 251))
                r->prefix_ok = 0;
    }
    r->count++;
    return r->stop_after != 0 && r->count == r->stop_after;
}

static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

/* ---- the loop ---- */

static void test_ready_watch_runs_idle_one_does_not(void **state)
{
    proxy_loop loop;
    struct sockaddr_in a_addr;
    counting_watch a = {.watch.ready = counting_ready}, b = {.watch.ready = counting_ready};
    int sender = udp_socket(NULL);
    (void)state;

    assert_int_equal(proxy_loop_open(&loop), 0);
    a.fd = udp_socket(&a_addr);
    b.fd = udp_socket(NULL);
    assert_int_equal(proxy_loop_add(&loop, a.fd, &a.watch), 0);
    assert_int_equal(proxy_loop_add(&loop, b.fd, &b.watch), 0);

    send_to(sender, &a_addr, "x", 1);
    dtlsudp_time before = dtlsudp_now();
    assert_int_equal(proxy_loop_run_once(&loop, 1000), 1);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 0);
    assert_true(a.events & EPOLLIN);
    assert_true(a.now >= before && a.now <= dtlsudp_now());

    /* nothing readable: the wait times out and runs nothing */
    assert_int_equal(proxy_loop_run_once(&loop, 0), 0);
    assert_int_equal(a.calls, 1);

    /* removed: its datagrams no longer run it (twice is harmless) */
    proxy_loop_del(&loop, a.fd);
    proxy_loop_del(&loop, a.fd);
    send_to(sender, &a_addr, "y", 1);
    assert_int_equal(proxy_loop_run_once(&loop, 50), 0);
    assert_int_equal(a.calls, 1);
    assert_true(readable(a.fd));

    close(a.fd);
    close(b.fd);
    close(sender);
    proxy_loop_close(&loop);
}

static void test_wait_is_bounded_by_its_timeout(void **state)
{
    proxy_loop loop;
    counting_watch w = {.watch.ready = counting_ready};
    (void)state;

    assert_int_equal(proxy_loop_open(&loop), 0);
    w.fd = udp_socket(NULL);
    assert_int_equal(proxy_loop_add(&loop, w.fd, &w.watch), 0);
    dtlsudp_time start = dtlsudp_now();
    assert_int_equal(proxy_loop_run_once(&loop, 100), 0);
    dtlsudp_time waited = dtlsudp_now() - start;
    assert_true(waited >= 90);
    assert_true(waited < 1000);
    assert_int_equal(w.calls, 0);
    close(w.fd);
    proxy_loop_close(&loop);
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void test_signal_ends_the_wait_with_zero(void **state)
{
    proxy_loop loop;
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    struct itimerval in_50ms = {.it_value = {.tv_sec = 0, .tv_usec = 50000}}, off = {{0, 0}, {0, 0}};
    (void)state;

    assert_int_equal(proxy_loop_open(&loop), 0);
    sigemptyset(&sa.sa_mask); /* no SA_RESTART: epoll_wait() sees EINTR */
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    assert_int_equal(setitimer(ITIMER_REAL, &in_50ms, NULL), 0);
    dtlsudp_time start = dtlsudp_now();
    assert_int_equal(proxy_loop_run_once(&loop, 3000), 0);
    assert_true(dtlsudp_now() - start < 2000);
    (void)setitimer(ITIMER_REAL, &off, NULL);
    assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
    proxy_loop_close(&loop);
}

static void test_errors_are_reported(void **state)
{
    proxy_loop loop;
    counting_watch w = {.watch.ready = counting_ready};
    (void)state;

    assert_int_equal(proxy_loop_open(&loop), 0);
    w.fd = udp_socket(NULL);
    assert_int_equal(proxy_loop_add(&loop, w.fd, &w.watch), 0);
    /* the same fd twice, and an fd that is not open */
    assert_int_equal(proxy_loop_add(&loop, w.fd, &w.watch), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(proxy_loop_add(&loop, -1, &w.watch), -1);
    assert_int_equal(errno, EBADF);

    /* a closed loop: run_once fails with errno, close twice is harmless */
    proxy_loop_close(&loop);
    assert_int_equal(loop.epfd, -1);
    assert_int_equal(proxy_loop_run_once(&loop, 0), -1);
    assert_int_equal(errno, EBADF);
    proxy_loop_close(&loop);
    close(w.fd);
}

/* ---- the batched read ---- */

static void test_each_datagram_with_sender_and_length(void **state)
{
    struct sockaddr_in to, from;
    int rx = udp_socket(&to), tx = udp_socket(&from);
    received r = {0};
    uint8_t big[3000];
    (void)state;

    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i % 251);
    send_to(tx, &to, "a", 1);
    send_to(tx, &to, "bc", 2);
    send_to(tx, &to, big, sizeof(big));
    proxy_read_datagrams(rx, record, &r);

    assert_int_equal(r.count, 3);
    assert_int_equal(r.len[0], 1);
    assert_int_equal(r.first[0], 'a');
    assert_int_equal(r.len[1], 2);
    assert_int_equal(r.first[1], 'b');
    for (int i = 0; i < 3; i++)
        assert_int_equal(r.src_port[i], ntohs(from.sin_port));
    /* longer than a slot: its real length, and the slot's worth of it */
    assert_int_equal(r.len[2], sizeof(big));
    assert_true(r.prefix_ok);
    assert_false(readable(rx));

    /* an empty socket: no call, no wait */
    r.count = 0;
    dtlsudp_time start = dtlsudp_now();
    proxy_read_datagrams(rx, record, &r);
    assert_int_equal(r.count, 0);
    assert_true(dtlsudp_now() - start < 100);
    close(rx);
    close(tx);
}

static void test_one_call_reads_at_most_four_batches(void **state)
{
    struct sockaddr_in to;
    int rx = udp_socket(&to), tx = udp_socket(NULL);
    received r = {0};
    (void)state;

    for (int i = 0; i < 100; i++) {
        uint8_t b = (uint8_t)i;
        send_to(tx, &to, &b, 1);
    }
    proxy_read_datagrams(rx, record, &r);
    assert_int_equal(r.count, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(r.first[i], i); /* in order, none skipped */
    assert_true(readable(rx));

    /* the rest at the next wake-up */
    r.count = 0;
    proxy_read_datagrams(rx, record, &r);
    assert_int_equal(r.count, 36);
    assert_int_equal(r.first[0], 64);
    assert_int_equal(r.first[35], 99);
    close(rx);
    close(tx);
}

static void test_callback_stops_the_reading(void **state)
{
    struct sockaddr_in to;
    int rx = udp_socket(&to), tx = udp_socket(NULL);
    received r = {.stop_after = 2};
    (void)state;

    for (int i = 0; i < 20; i++)
        send_to(tx, &to, "z", 1);
    proxy_read_datagrams(rx, record, &r);
    assert_int_equal(r.count, 2);
    close(rx);
    close(tx);
}

/* A connected socket whose earlier datagram met a closed port holds
 * ECONNREFUSED; the datagram that arrived since must still be read. */
static void test_reads_past_a_pending_port_unreachable(void **state)
{
    struct sockaddr_in peer_addr;
    int peer = udp_socket(&peer_addr), rx = udp_socket(NULL);
    received r = {0};
    (void)state;

    assert_int_equal(connect(rx, (struct sockaddr *)&peer_addr, sizeof(peer_addr)), 0);
    close(peer);
    assert_int_equal(send(rx, "lost", 4, 0), 4);
    struct pollfd p = {.fd = rx, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 1000), 1);
    assert_true(p.revents & POLLERR); /* the ICMP error is pending */

    /* the peer comes back on the same port and speaks */
    peer = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_int_equal(bind(peer, (struct sockaddr *)&peer_addr, sizeof(peer_addr)), 0);
    struct sockaddr_in rx_addr;
    socklen_t len = sizeof(rx_addr);
    assert_int_equal(getsockname(rx, (struct sockaddr *)&rx_addr, &len), 0);
    send_to(peer, &rx_addr, "back", 4);
    assert_int_equal(poll(&p, 1, 1000), 1);

    proxy_read_datagrams(rx, record, &r);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.len[0], 4);
    assert_int_equal(r.first[0], 'b');
    close(peer);
    close(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ready_watch_runs_idle_one_does_not),
        cmocka_unit_test(test_wait_is_bounded_by_its_timeout),
        cmocka_unit_test(test_signal_ends_the_wait_with_zero),
        cmocka_unit_test(test_errors_are_reported),
        cmocka_unit_test(test_each_datagram_with_sender_and_length),
        cmocka_unit_test(test_one_call_reads_at_most_four_batches),
        cmocka_unit_test(test_callback_stops_the_reading),
        cmocka_unit_test(test_reads_past_a_pending_port_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
