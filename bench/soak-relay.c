/*
 * soak-relay.c - a lossy UDP relay for the soak test (bench/soak), plus a
 * trickle of unwanted traffic at the agent.
 *
 *   soak-relay LISTEN_PORT AGENT_PORT LOSS_PCT INJECT_PER_SEC [HELLO_FILE]
 *
 * Clients send to 127.0.0.1:LISTEN_PORT.  Each client address gets its own
 * upstream socket connected to 127.0.0.1:AGENT_PORT, so the agent sees one
 * source port per client, as without the relay.  Every datagram, in either
 * direction, is dropped with probability LOSS_PCT percent (seeded PRNG).
 * Mappings idle for 120 s are closed (clients that went away).
 *
 * Unwanted traffic, INJECT_PER_SEC datagrams a second in total, each from a
 * fresh socket bound to 127.0.0.N:random (N in 2..250), never reading the
 * reply, like a spoofed source:
 *   - half: a ClientHello (HELLO_FILE, e.g. a captured one from
 *     tests/fuzz/corpus/record/; a built-in minimal one otherwise), so the
 *     agent answers with a HelloVerifyRequest nobody reads;
 *   - half: garbage of random length (1..1400 bytes).
 * Loopback only.  SIGTERM/SIGINT: print counters and exit.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_MAPS 4096
#define IDLE_MS 120000

typedef struct map {
    struct sockaddr_in client;
    int fd; /* connected to the agent */
    uint64_t last;
} map;

static map maps[MAX_MAPS];
static size_t nmaps;
static volatile sig_atomic_t stop;
static uint64_t rng = 0x243F6A8885A308D3ULL;
static unsigned long long up_fwd, up_drop, down_fwd, down_drop, inj_hello, inj_garbage, map_made,
    map_expired, map_full;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int udp_socket(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int sz = 1 << 20;

    if (fd >= 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    }
    return fd;
}

static struct sockaddr_in loopback(unsigned host, unsigned port)
{
    struct sockaddr_in a;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000000u | host);
    a.sin_port = htons((uint16_t)port);
    return a;
}

static map *find_or_make(const struct sockaddr_in *client, const struct sockaddr_in *agent, uint64_t now)
{
    size_t i;
    int fd;

    for (i = 0; i < nmaps; i++)
        if (maps[i].client.sin_port == client->sin_port &&
            maps[i].client.sin_addr.s_addr == client->sin_addr.s_addr)
            return &maps[i];
    if (nmaps == MAX_MAPS) {
        map_full++;
        return NULL;
    }
    if ((fd = udp_socket()) < 0)
        return NULL;
    if (connect(fd, (const struct sockaddr *)agent, sizeof(*agent)) != 0) {
        close(fd);
        return NULL;
    }
    maps[nmaps].client = *client;
    maps[nmaps].fd = fd;
    maps[nmaps].last = now;
    map_made++;
    return &maps[nmaps++];
}

static void expire(uint64_t now)
{
    size_t i = 0;

    while (i < nmaps) {
        if (now - maps[i].last > IDLE_MS) {
            close(maps[i].fd);
            maps[i] = maps[--nmaps];
            map_expired++;
            continue;
        }
        i++;
    }
}

/* A minimal DTLS 1.2 ClientHello (no cookie) for when no file is given. */
static size_t builtin_hello(uint8_t *b)
{
    static const uint8_t suites[] = {0x00, 0x04, 0xc0, 0x2b, 0xc0, 0x2f};
    size_t n = 0, body, i;

    b[n++] = 22;
    b[n++] = 0xfe;
    b[n++] = 0xff; /* record version DTLS 1.0, as clients send */
    memset(b + n, 0, 8);
    n += 8; /* epoch 0, seq 0 */
    n += 2; /* record length, below */
    b[n++] = 1; /* ClientHello */
    n += 3;     /* length */
    b[n++] = 0;
    b[n++] = 0; /* message_seq */
    b[n++] = 0;
    b[n++] = 0;
    b[n++] = 0; /* fragment_offset */
    n += 3;     /* fragment_length */
    body = n;
    b[n++] = 0xfe;
    b[n++] = 0xfd;
    for (i = 0; i < 32; i++)
        b[n++] = (uint8_t)next_rand();
    b[n++] = 0; /* session id */
    b[n++] = 0; /* cookie */
    memcpy(b + n, suites, sizeof(suites));
    n += sizeof(suites);
    b[n++] = 1;
    b[n++] = 0; /* compression: null */
    body = n - body;
    b[11] = (uint8_t)((n - 13) >> 8);
    b[12] = (uint8_t)(n - 13);
    b[14] = 0;
    b[15] = (uint8_t)(body >> 8);
    b[16] = (uint8_t)body;
    b[22] = 0;
    b[23] = (uint8_t)(body >> 8);
    b[24] = (uint8_t)body;
    return n;
}

static void inject(const struct sockaddr_in *agent, const uint8_t *hello, size_t hello_len)
{
    uint8_t buf[1500];
    size_t len, i;
    struct sockaddr_in src = loopback(2 + (unsigned)(next_rand() % 249), 20000 + (unsigned)(next_rand() % 40000));
    int fd = udp_socket();

    if (fd < 0)
        return;
    if (bind(fd, (const struct sockaddr *)&src, sizeof(src)) != 0) {
        close(fd);
        return;
    }
    if (next_rand() & 1) {
        if (hello_len > 0) {
            memcpy(buf, hello, hello_len);
            len = hello_len;
            /* A different client random each time (offset 27 in a DTLS
             * ClientHello: 13 record + 12 handshake + 2 version). */
            for (i = 27; i < 59 && i < len; i++)
                buf[i] = (uint8_t)next_rand();
        } else {
            len = builtin_hello(buf);
        }
        inj_hello++;
    } else {
        len = 1 + (size_t)(next_rand() % 1400);
        for (i = 0; i < len; i++)
            buf[i] = (uint8_t)next_rand();
        inj_garbage++;
    }
    (void)sendto(fd, buf, len, 0, (const struct sockaddr *)agent, sizeof(*agent));
    close(fd);
}

int main(int argc, char **argv)
{
    struct sockaddr_in listen_addr, agent;
    struct pollfd *pfd;
    unsigned loss, inject_rate;
    uint8_t hello[2048], buf[65536];
    size_t hello_len = 0;
    uint64_t next_inject, next_expire;
    int lfd;

    if (argc < 5) {
        fprintf(stderr, "usage: %s LISTEN_PORT AGENT_PORT LOSS_PCT INJECT_PER_SEC [HELLO_FILE]\n", argv[0]);
        return 2;
    }
    listen_addr = loopback(1, (unsigned)atoi(argv[1]));
    agent = loopback(1, (unsigned)atoi(argv[2]));
    loss = (unsigned)atoi(argv[3]);
    inject_rate = (unsigned)atoi(argv[4]);
    if (argc > 5) {
        FILE *f = fopen(argv[5], "rb");
        if (f == NULL) {
            perror(argv[5]);
            return 1;
        }
        hello_len = fread(hello, 1, sizeof(hello), f);
        fclose(f);
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    if ((lfd = udp_socket()) < 0 || bind(lfd, (const struct sockaddr *)&listen_addr, sizeof(listen_addr)) != 0) {
        perror("relay: bind");
        return 1;
    }
    if ((pfd = calloc(MAX_MAPS + 1, sizeof(*pfd))) == NULL)
        return 1;
    next_inject = now_ms();
    next_expire = now_ms() + 10000;
    fprintf(stderr, "soak-relay: 127.0.0.1:%s -> 127.0.0.1:%s, loss %u%%, %u unwanted datagrams/s\n", argv[1],
            argv[2], loss, inject_rate);

    while (!stop) {
        size_t i, n = nmaps;
        uint64_t now;
        int timeout = 100;

        pfd[0].fd = lfd;
        pfd[0].events = POLLIN;
        for (i = 0; i < n; i++) {
            pfd[i + 1].fd = maps[i].fd;
            pfd[i + 1].events = POLLIN;
        }
        if (inject_rate > 0)
            timeout = (int)(1000 / inject_rate) > 0 ? (int)(1000 / inject_rate) : 1;
        if (poll(pfd, n + 1, timeout) < 0 && errno != EINTR)
            break;
        now = now_ms();

        if (pfd[0].revents & POLLIN) {
            for (;;) {
                struct sockaddr_in from;
                socklen_t fl = sizeof(from);
                ssize_t r = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
                map *m;
                if (r < 0)
                    break;
                if ((m = find_or_make(&from, &agent, now)) == NULL)
                    continue;
                m->last = now;
                if (next_rand() % 100 < loss) {
                    up_drop++;
                    continue;
                }
                if (send(m->fd, buf, (size_t)r, 0) >= 0)
                    up_fwd++;
            }
        }
        for (i = 0; i < n && i < nmaps; i++) {
            if (!(pfd[i + 1].revents & (POLLIN | POLLERR)))
                continue;
            for (;;) {
                ssize_t r = recv(maps[i].fd, buf, sizeof(buf), 0);
                if (r < 0)
                    break;
                maps[i].last = now;
                if (next_rand() % 100 < loss) {
                    down_drop++;
                    continue;
                }
                if (sendto(lfd, buf, (size_t)r, 0, (const struct sockaddr *)&maps[i].client,
                           sizeof(maps[i].client)) >= 0)
                    down_fwd++;
            }
        }
        if (inject_rate > 0 && now >= next_inject) {
            /* At most one second of backlog after a stall, never a burst. */
            if (now - next_inject > 1000)
                next_inject = now;
            while (now >= next_inject) {
                inject(&agent, hello, hello_len);
                next_inject += 1000 / inject_rate > 0 ? 1000 / inject_rate : 1;
            }
        }
        if (now >= next_expire) {
            expire(now);
            next_expire = now + 10000;
        }
    }
    printf("relay: up forwarded %llu dropped %llu; down forwarded %llu dropped %llu; injected %llu "
           "ClientHellos %llu garbage; mappings made %llu expired %llu refused %llu\n",
           up_fwd, up_drop, down_fwd, down_drop, inj_hello, inj_garbage, map_made, map_expired, map_full);
    return 0;
}
