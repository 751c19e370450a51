/*
 * udp-pingpong.c - UDP round trips on loopback, for the dtlsudp-proxy bench.
 *
 *   udp-pingpong echo PORT [-6]
 *       echo every datagram back to its sender (127.0.0.1 or ::1);
 *       prints "listening" once bound; runs until SIGTERM
 *   udp-pingpong rtt HOST PORT [-s SIZE] [-n COUNT] [-w WINDOW] [-t TIMEOUT_MS]
 *       one socket; WINDOW datagrams in flight (1: strict ping-pong), COUNT
 *       replies wanted; a datagram not answered within TIMEOUT_MS is sent
 *       again (counted as lost).  Latency percentiles are of each reply's
 *       own round trip.
 *   udp-pingpong relay PORT UPSTREAM_PORT
 *       a plain UDP relay on 127.0.0.1:PORT: every client source gets an
 *       upstream socket of its own connect()ed to 127.0.0.1:UPSTREAM_PORT,
 *       one epoll loop, one datagram per wake-up, no encryption: the shape
 *       of a dtlsudp-proxy without DTLS, so two in a chain give the floor
 *       any pair of relaying processes costs on this machine
 *   udp-pingpong sessions HOST PORT [-n COUNT] [-t TIMEOUT_MS] [-r RETRIES]
 *       COUNT times: a new socket (a new source port), one datagram, wait
 *       for its echo (RETRIES resends every TIMEOUT_MS), close
 *
 * Output: one line of key=value pairs, e.g.
 *   mode=rtt ok=20000 lost=0 secs=1.92 rate=10416.7 p50_us=88 p99_us=160 max_us=900
 * Exit status 0 when the harness worked (whatever the numbers), 2 on a
 * usage or setup error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define MAX_WINDOW 256

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void usage(void)
{
    fprintf(stderr, "usage: udp-pingpong echo PORT [-6]\n"
                    "       udp-pingpong relay PORT UPSTREAM_PORT\n"
                    "       udp-pingpong rtt HOST PORT [-s SIZE] [-n COUNT] [-w WINDOW] [-t TIMEOUT_MS]\n"
                    "       udp-pingpong sessions HOST PORT [-n COUNT] [-t TIMEOUT_MS] [-r RETRIES]\n");
    exit(2);
}

static int resolve(const char *host, const char *port, struct sockaddr_storage *out, socklen_t *len)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *res;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int run_echo(const char *port, int v6)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char buf[65536];
    if (resolve(v6 ? "::1" : "127.0.0.1", port, &ss, &len) != 0)
        usage();
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0) {
        perror("bind");
        return 2;
    }
    printf("listening\n");
    fflush(stdout);
    for (;;) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
        if (n >= 0)
            (void)sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
    }
}

#define RELAY_CLIENTS 1024

static int run_relay(const char *port, const char *upstream)
{
    struct sockaddr_storage ls, us;
    socklen_t llen, ulen;
    struct {
        struct sockaddr_storage addr;
        socklen_t len;
        int fd;
    } *clients = calloc(RELAY_CLIENTS, sizeof(*clients));
    int n_clients = 0;
    char buf[65536];
    if (clients == NULL || resolve("127.0.0.1", port, &ls, &llen) != 0 ||
        resolve("127.0.0.1", upstream, &us, &ulen) != 0)
        usage();
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = RELAY_CLIENTS};
    if (fd < 0 || ep < 0 || bind(fd, (struct sockaddr *)&ls, llen) != 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        perror("relay");
        return 2;
    }
    printf("listening\n");
    fflush(stdout);
    for (;;) {
        struct epoll_event e[16];
        int n = epoll_wait(ep, e, 16, -1);
        for (int i = 0; i < n; i++) {
            uint32_t k = e[i].data.u32;
            if (k < RELAY_CLIENTS) { /* a reply: back to its client */
                ssize_t len = recv(clients[k].fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (len >= 0)
                    (void)sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&clients[k].addr, clients[k].len);
                continue;
            }
            struct sockaddr_storage from;
            socklen_t flen = sizeof(from);
            ssize_t len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
            if (len < 0)
                continue;
            int c = 0;
            while (c < n_clients && (clients[c].len != flen || memcmp(&clients[c].addr, &from, flen) != 0))
                c++;
            if (c == n_clients) {
                if (n_clients == RELAY_CLIENTS)
                    continue;
                clients[c].addr = from;
                clients[c].len = flen;
                clients[c].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
                ev = (struct epoll_event){.events = EPOLLIN, .data.u32 = (uint32_t)c};
                if (clients[c].fd < 0 || connect(clients[c].fd, (struct sockaddr *)&us, ulen) != 0 ||
                    epoll_ctl(ep, EPOLL_CTL_ADD, clients[c].fd, &ev) != 0) {
                    perror("relay upstream");
                    return 2;
                }
                n_clients++;
            }
            (void)send(clients[c].fd, buf, (size_t)len, 0);
        }
    }
}

static void report(const char *mode, uint64_t ok, uint64_t lost, uint64_t t0, uint64_t *lat, size_t nlat)
{
    double secs = (double)(now_us() - t0) / 1e6;
    qsort(lat, nlat, sizeof(*lat), cmp_u64);
    printf("mode=%s ok=%llu lost=%llu secs=%.3f rate=%.1f p50_us=%llu p99_us=%llu max_us=%llu\n", mode,
           (unsigned long long)ok, (unsigned long long)lost, secs, secs > 0 ? (double)ok / secs : 0.0,
           (unsigned long long)(nlat ? lat[nlat / 2] : 0), (unsigned long long)(nlat ? lat[nlat * 99 / 100] : 0),
           (unsigned long long)(nlat ? lat[nlat - 1] : 0));
}

/* Each datagram carries its slot and sequence number; the rest is filler. */
typedef struct slot {
    uint64_t seq, sent_us;
} slot;

static int run_rtt(struct sockaddr_storage *to, socklen_t tolen, size_t size, uint64_t count, int window,
                   int timeout_ms)
{
    int fd = socket(to->ss_family, SOCK_DGRAM, 0);
    uint8_t buf[65536];
    slot slots[MAX_WINDOW];
    uint64_t *lat = calloc(count, sizeof(*lat)), ok = 0, lost = 0, seq = 0;
    if (fd < 0 || lat == NULL || connect(fd, (struct sockaddr *)to, tolen) != 0 || size < 16) {
        perror("rtt");
        return 2;
    }
    memset(buf, 0xA5, sizeof(buf));
    uint64_t t0 = now_us();
    for (int i = 0; i < window; i++) {
        slots[i] = (slot){++seq, now_us()};
        memcpy(buf, &i, sizeof(int));
        memcpy(buf + 8, &slots[i].seq, 8);
        (void)send(fd, buf, size, 0);
    }
    while (ok < count) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        uint64_t t = now_us();
        if (r == 0) { /* resend every overdue slot */
            for (int i = 0; i < window; i++)
                if (t - slots[i].sent_us >= (uint64_t)timeout_ms * 1000) {
                    lost++;
                    slots[i] = (slot){++seq, t};
                    memcpy(buf, &i, sizeof(int));
                    memcpy(buf + 8, &slots[i].seq, 8);
                    (void)send(fd, buf, size, 0);
                }
            if (lost > count)
                break;
            continue;
        }
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        int i;
        uint64_t s;
        if (n < 16)
            continue;
        memcpy(&i, buf, sizeof(int));
        memcpy(&s, buf + 8, 8);
        if (i < 0 || i >= window || slots[i].seq != s)
            continue; /* a late echo of a resent datagram */
        lat[ok++] = t - slots[i].sent_us;
        slots[i] = (slot){++seq, now_us()};
        memcpy(buf + 8, &slots[i].seq, 8);
        (void)send(fd, buf, size, 0);
    }
    report("rtt", ok, lost, t0, lat, ok);
    return 0;
}

static int run_sessions(struct sockaddr_storage *to, socklen_t tolen, uint64_t count, int timeout_ms, int retries)
{
    uint64_t *lat = calloc(count, sizeof(*lat)), ok = 0, fail = 0;
    char buf[64], in[64];
    uint64_t t0 = now_us();
    for (uint64_t k = 0; k < count; k++) {
        int fd = socket(to->ss_family, SOCK_DGRAM, 0), done = 0;
        uint64_t start = now_us();
        int len = snprintf(buf, sizeof(buf), "session %llu", (unsigned long long)k);
        if (fd < 0 || connect(fd, (struct sockaddr *)to, tolen) != 0) {
            perror("sessions");
            return 2;
        }
        for (int attempt = 0; attempt <= retries && !done; attempt++) {
            (void)send(fd, buf, (size_t)len, 0);
            uint64_t deadline = now_us() + (uint64_t)timeout_ms * 1000;
            for (uint64_t t = now_us(); t < deadline && !done; t = now_us()) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, (int)((deadline - t) / 1000) + 1) <= 0)
                    continue;
                ssize_t n = recv(fd, in, sizeof(in), 0);
                done = n == len && memcmp(in, buf, (size_t)len) == 0;
            }
        }
        close(fd);
        if (done)
            lat[ok++] = now_us() - start;
        else
            fail++;
    }
    report("sessions", ok, fail, t0, lat, ok);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(argv[1], "echo") == 0)
        return run_echo(argv[2], argc > 3 && strcmp(argv[3], "-6") == 0);
    if (argc == 4 && strcmp(argv[1], "relay") == 0)
        return run_relay(argv[2], argv[3]);
    if (argc < 4)
        usage();
    const char *mode = argv[1];
    struct sockaddr_storage to;
    socklen_t tolen;
    if (resolve(argv[2], argv[3], &to, &tolen) != 0)
        usage();
    size_t size = 64;
    uint64_t count = 10000;
    int window = 1, timeout_ms = 1000, retries = 5, opt;
    optind = 4;
    while ((opt = getopt(argc, argv, "s:n:w:t:r:")) != -1) {
        switch (opt) {
        case 's': size = strtoul(optarg, NULL, 10); break;
        case 'n': count = strtoull(optarg, NULL, 10); break;
        case 'w': window = atoi(optarg); break;
        case 't': timeout_ms = atoi(optarg); break;
        case 'r': retries = atoi(optarg); break;
        default: usage();
        }
    }
    if (size < 16 || size > 65000 || count == 0 || window < 1 || window > MAX_WINDOW || timeout_ms < 1)
        usage();
    if (strcmp(mode, "rtt") == 0)
        return run_rtt(&to, tolen, size, count, window, timeout_ms);
    if (strcmp(mode, "sessions") == 0)
        return run_sessions(&to, tolen, count, timeout_ms, retries);
    usage();
}
