/*
 * test_sockio.c - addresses and sockets of the socket layer
 * (transport/net/sockio.c): the numeric address forms net_addr_parse()
 * takes and refuses, v4-mapped normalisation and its inverse, wildcard
 * and equality rules, the options net_socket() sets (SO_REUSEPORT and
 * never SO_REUSEADDR, non-blocking, close-on-exec, arrival address,
 * IPV6_V6ONLY as asked), one datagram through net_send()/net_recv() on
 * 127.0.0.1, ::1 and a dual-stack socket with the arrival address, batches
 * through net_recv_batch(), and
 * net_poll_timeout()'s arithmetic.  Loopback only, ephemeral ports.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "net_internal.h"

static dtlsudp_addr parsed(const char *text)
{
    dtlsudp_addr a;
    assert_int_equal(net_addr_parse(text, &a), 0);
    return a;
}

static void expect_v4(const char *text, const char *host, unsigned port)
{
    dtlsudp_addr a = parsed(text);
    char buf[INET_ADDRSTRLEN];

    assert_int_equal(a.sa.sa_family, AF_INET);
    assert_non_null(inet_ntop(AF_INET, &a.sin.sin_addr, buf, sizeof(buf)));
    assert_string_equal(buf, host);
    assert_int_equal(ntohs(a.sin.sin_port), port);
}

static void expect_v6(const char *text, const char *host, unsigned port)
{
    dtlsudp_addr a = parsed(text);
    char buf[INET6_ADDRSTRLEN];

    assert_int_equal(a.sa.sa_family, AF_INET6);
    assert_non_null(inet_ntop(AF_INET6, &a.sin6.sin6_addr, buf, sizeof(buf)));
    assert_string_equal(buf, host);
    assert_int_equal(ntohs(a.sin6.sin6_port), port);
}

static void test_parse_forms(void **state)
{
    dtlsudp_addr a;

    (void)state;
    expect_v4("192.0.2.1:10161", "192.0.2.1", 10161);
    expect_v4("192.0.2.1", "192.0.2.1", 0);
    expect_v4(":161", "0.0.0.0", 161);
    expect_v4("161", "0.0.0.0", 161);
    expect_v4("0", "0.0.0.0", 0);
    expect_v6("[2001:db8::1]:65535", "2001:db8::1", 65535);
    expect_v6("[::]", "::", 0);
    expect_v6("2001:db8::2", "2001:db8::2", 0);
    expect_v6("[::ffff:192.0.2.1]:1", "::ffff:192.0.2.1", 1);

    assert_int_not_equal(net_addr_parse(NULL, &a), 0);
    assert_int_not_equal(net_addr_parse("", &a), 0);
    assert_int_not_equal(net_addr_parse("192.0.2.1:65536", &a), 0);
    assert_int_not_equal(net_addr_parse("192.0.2.1:-1", &a), 0);
    assert_int_not_equal(net_addr_parse("192.0.2.1:+1", &a), 0);
    assert_int_not_equal(net_addr_parse("192.0.2.1:", &a), 0);
    assert_int_not_equal(net_addr_parse("192.0.2.1:16x", &a), 0);
    assert_int_not_equal(net_addr_parse("192.0.2.256:1", &a), 0);
    assert_int_not_equal(net_addr_parse("localhost:161", &a), 0); /* numeric only */
    assert_int_not_equal(net_addr_parse("[2001:db8::1", &a), 0);
    assert_int_not_equal(net_addr_parse("[2001:db8::1]161", &a), 0);
    assert_int_not_equal(net_addr_parse("[2001:db8::1]:", &a), 0);
    assert_int_not_equal(net_addr_parse("[192.0.2.1]:1", &a), 0);
    assert_int_not_equal(net_addr_parse("2001:db8::zz", &a), 0);
    assert_int_not_equal(net_addr_parse("99999", &a), 0);
}

static void test_normalise_and_for_family(void **state)
{
    dtlsudp_addr mapped = parsed("[::ffff:192.0.2.7]:99"), plain6 = parsed("[2001:db8::7]:99"), v4, back, copy;

    (void)state;
    copy = mapped;
    net_addr_normalise(&copy);
    assert_int_equal(copy.sa.sa_family, AF_INET);
    v4 = parsed("192.0.2.7:99");
    assert_true(net_addr_same(&copy, &v4));
    assert_int_equal(net_addr_len(&copy), sizeof(struct sockaddr_in));
    /* a real IPv6 address is left as it is */
    copy = plain6;
    net_addr_normalise(&copy);
    assert_memory_equal(&copy, &plain6, sizeof(copy));
    assert_int_equal(net_addr_len(&copy), sizeof(struct sockaddr_in6));

    /* the inverse for an IPv6 socket, identity otherwise */
    net_addr_for_family(&v4, AF_INET6, &back);
    assert_true(net_addr_same(&back, &mapped));
    net_addr_for_family(&v4, AF_INET, &back);
    assert_true(net_addr_same(&back, &v4));
    net_addr_for_family(&plain6, AF_INET6, &back);
    assert_true(net_addr_same(&back, &plain6));
}

static void test_wildcard_and_same(void **state)
{
    dtlsudp_addr a = parsed("[2001:db8::1]:5"), b = a, none;

    (void)state;
    assert_true(net_addr_is_wildcard(&(dtlsudp_addr){.sin = {.sin_family = AF_INET}}));
    assert_true(net_addr_is_wildcard(&(dtlsudp_addr){.sin6 = {.sin6_family = AF_INET6}}));
    memset(&none, 0, sizeof(none));
    assert_true(net_addr_is_wildcard(&none)); /* AF_UNSPEC: any source will do */
    assert_false(net_addr_is_wildcard(&a));
    assert_false(net_addr_is_wildcard(&(dtlsudp_addr){.sin = parsed("127.0.0.1:0").sin}));

    assert_true(net_addr_same(&a, &b));
    b.sin6.sin6_scope_id = 3;
    assert_false(net_addr_same(&a, &b));
    b = a;
    b.sin6.sin6_port = htons(6);
    assert_false(net_addr_same(&a, &b));
    b = parsed("192.0.2.1:5");
    assert_false(net_addr_same(&a, &b));
    assert_false(net_addr_same(&none, &none)); /* nothing is the same as nothing */
}

static int opt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof(v);
    assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
    return v;
}

static void test_socket_options(void **state)
{
    int fd;

    (void)state;
    fd = net_socket(AF_INET, 1, 0);
    assert_true(fd >= 0);
    assert_true(opt(fd, SOL_SOCKET, SO_REUSEPORT) != 0);
    assert_int_equal(opt(fd, SOL_SOCKET, SO_REUSEADDR), 0); /* would let other users share the port */
    assert_true(opt(fd, IPPROTO_IP, IP_PKTINFO) != 0);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(opt(fd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    close(fd);

    fd = net_socket(AF_INET, 0, 0);
    assert_true(fd >= 0);
    assert_int_equal(opt(fd, SOL_SOCKET, SO_REUSEPORT), 0);
    close(fd);

    fd = net_socket(AF_INET6, 0, 1);
    assert_true(fd >= 0);
    assert_true(opt(fd, IPPROTO_IPV6, IPV6_V6ONLY) != 0);
    assert_true(opt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO) != 0);
    close(fd);
    fd = net_socket(AF_INET6, 0, 0);
    assert_true(fd >= 0);
    assert_int_equal(opt(fd, IPPROTO_IPV6, IPV6_V6ONLY), 0);
    close(fd);
}

static int bound(int family, int v6only, const char *addr, dtlsudp_addr *out)
{
    dtlsudp_addr a = parsed(addr);
    socklen_t len = sizeof(*out);
    int fd = net_socket(family, 0, v6only);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, &a.sa, net_addr_len(&a)), 0);
    assert_int_equal(getsockname(fd, &out->sa, &len), 0);
    return fd;
}

static void wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 2000), 1);
}

static uint8_t rxbuf[NET_MAX_DATAGRAM];

static void send_and_receive(int tx_family, int tx_fd, int rx_fd, const dtlsudp_addr *to, const dtlsudp_addr *from,
                             const dtlsudp_addr *tx_addr, const char *local_host)
{
    net_dgram d = {.buf = rxbuf};
    dtlsudp_addr want_local = parsed(local_host), want_peer = *tx_addr;

    net_addr_normalise(&want_peer);
    assert_int_equal(net_send(tx_fd, tx_family, (const uint8_t *)"datagram", 8, to, from, 0), 0);
    wait_readable(rx_fd);
    assert_int_equal(net_recv(rx_fd, &d), 0);
    assert_int_equal(d.len, 8);
    assert_memory_equal(d.buf, "datagram", 8);
    assert_true(net_addr_same(&d.peer, &want_peer));
    /* the arrival address, port not part of it */
    assert_int_equal(d.local.sa.sa_family, want_local.sa.sa_family);
    if (want_local.sa.sa_family == AF_INET)
        assert_int_equal(d.local.sin.sin_addr.s_addr, want_local.sin.sin_addr.s_addr);
    else
        assert_memory_equal(&d.local.sin6.sin6_addr, &want_local.sin6.sin6_addr, 16);
    /* empty again: EAGAIN, not a block */
    assert_int_equal(net_recv(rx_fd, &d), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

static void test_datagram_ipv4(void **state)
{
    dtlsudp_addr a, b, from = parsed("127.0.0.1");
    int fa = bound(AF_INET, 0, "127.0.0.1:0", &a), fb = bound(AF_INET, 0, "127.0.0.1:0", &b);

    (void)state;
    send_and_receive(AF_INET, fa, fb, &b, &from, &a, "127.0.0.1");
    send_and_receive(AF_INET, fb, fa, &a, NULL, &b, "127.0.0.1");
    close(fa);
    close(fb);
}

static uint8_t batchbuf[NET_RECV_BATCH][NET_MAX_DATAGRAM];

/* n datagrams "dgram-0".. from tx to rx's address. */
static void send_numbered(int tx_fd, const dtlsudp_addr *to, int n)
{
    for (int i = 0; i < n; i++) {
        char text[16];
        int len = snprintf(text, sizeof(text), "dgram-%d", i);
        assert_int_equal(net_send(tx_fd, AF_INET, (const uint8_t *)text, (size_t)len, to, NULL, 0), 0);
    }
}

/* net_recv_batch(): several datagrams per call, each in its own slot with
 * its own length, source and arrival address, in order; fewer than asked
 * when the queue runs dry (the caller's sign that no EAGAIN read is
 * needed); -1/EAGAIN once empty; bad counts refused. */
static void test_recv_batch(void **state)
{
    dtlsudp_addr a, b;
    int fa = bound(AF_INET, 0, "127.0.0.1:0", &a), fb = bound(AF_INET, 0, "127.0.0.1:0", &b);
    net_dgram d[NET_RECV_BATCH];
    int seen = 0, n;

    (void)state;
    for (int i = 0; i < NET_RECV_BATCH; i++)
        d[i].buf = batchbuf[i];
    assert_int_equal(net_recv_batch(fb, d, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(net_recv_batch(fb, d, NET_RECV_BATCH + 1), -1);
    assert_int_equal(errno, EINVAL);

    send_numbered(fa, &b, 3);
    wait_readable(fb);
    usleep(20000); /* loopback delivers at once; leave no doubt */
    assert_int_equal(net_recv_batch(fb, d, NET_RECV_BATCH), 3);
    for (int i = 0; i < 3; i++) {
        char want[16];
        int len = snprintf(want, sizeof(want), "dgram-%d", i);
        assert_int_equal(d[i].len, (size_t)len);
        assert_memory_equal(d[i].buf, want, (size_t)len);
        assert_true(net_addr_same(&d[i].peer, &a));
        assert_int_equal(d[i].local.sa.sa_family, AF_INET);
        assert_int_equal(d[i].local.sin.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    }
    assert_int_equal(net_recv_batch(fb, d, NET_RECV_BATCH), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);

    /* More than one batch: full batches, then the rest, nothing lost. */
    send_numbered(fa, &b, NET_RECV_BATCH + 2);
    wait_readable(fb);
    usleep(20000);
    while ((n = net_recv_batch(fb, d, NET_RECV_BATCH)) > 0) {
        for (int i = 0; i < n; i++, seen++) {
            char want[16];
            int len = snprintf(want, sizeof(want), "dgram-%d", seen);
            assert_memory_equal(d[i].buf, want, (size_t)len);
        }
        if (n < NET_RECV_BATCH)
            break;
    }
    assert_int_equal(seen, NET_RECV_BATCH + 2);
    close(fa);
    close(fb);
}

static void test_datagram_ipv6(void **state)
{
    dtlsudp_addr a, b, from = parsed("[::1]");
    int fa = bound(AF_INET6, 1, "[::1]:0", &a), fb = bound(AF_INET6, 1, "[::1]:0", &b);

    (void)state;
    send_and_receive(AF_INET6, fa, fb, &b, &from, &a, "[::1]");
    close(fa);
    close(fb);
}

static void test_dual_stack_speaks_ipv4_in_normal_form(void **state)
{
    dtlsudp_addr dual, v4, from = parsed("127.0.0.1");
    int fd6 = bound(AF_INET6, 0, "[::]:0", &dual), fd4 = bound(AF_INET, 0, "127.0.0.1:0", &v4);
    dtlsudp_addr to_dual = parsed("127.0.0.1");

    (void)state;
    to_dual.sin.sin_port = dual.sin6.sin6_port;
    /* IPv4 into the dual-stack socket: peer and arrival come out AF_INET */
    send_and_receive(AF_INET, fd4, fd6, &to_dual, NULL, &v4, "127.0.0.1");
    /* and back: an AF_INET destination and source on an AF_INET6 socket */
    send_and_receive(AF_INET6, fd6, fd4, &v4, &from, &to_dual, "127.0.0.1");
    close(fd6);
    close(fd4);
}

static void test_poll_timeout(void **state)
{
    (void)state;
    assert_int_equal(net_poll_timeout(100, DTLSUDP_TIME_NEVER, -1), -1);
    assert_int_equal(net_poll_timeout(100, DTLSUDP_TIME_NEVER, 250), 250);
    assert_int_equal(net_poll_timeout(100, 50, -1), 0);
    assert_int_equal(net_poll_timeout(100, 100, 10), 0);
    assert_int_equal(net_poll_timeout(100, 130, -1), 30);
    assert_int_equal(net_poll_timeout(100, 130, 20), 20);
    assert_int_equal(net_poll_timeout(100, 130, 40), 30);
    assert_int_equal(net_poll_timeout(0, (dtlsudp_time)INT_MAX + 5000, -1), INT_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_normalise_and_for_family),
        cmocka_unit_test(test_wildcard_and_same),
        cmocka_unit_test(test_socket_options),
        cmocka_unit_test(test_datagram_ipv4),
        cmocka_unit_test(test_datagram_ipv6),
        cmocka_unit_test(test_recv_batch),
        cmocka_unit_test(test_dual_stack_speaks_ipv4_in_normal_form),
        cmocka_unit_test(test_poll_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
