/*
 * lossy-relay.c - a UDP relay on loopback that drops datagrams at random.
 *
 *   lossy-relay -l LISTEN_PORT -u UPSTREAM_PORT -p LOSS_PERCENT [-s SEED]
 *               [-d SECONDS] [-P PORTFILE]
 *
 * Listens on 127.0.0.1:LISTEN_PORT (0: any free port; with -P the port is
 * written to PORTFILE once bound, whole, by a rename); every client
 * address gets its own upstream socket connect()ed to
 * 127.0.0.1:UPSTREAM_PORT (-t is the same option), so the server still
 * sees one peer per client.  Each datagram, in either direction, is
 * dropped with probability LOSS_PERCENT/100, decided by a xorshift64*
 * generator seeded with SEED (default 1): the same seed and traffic give
 * the same drops.  Exits after SECONDS (default 600) or on SIGTERM/SIGINT,
 * and prints: up=N up_dropped=N down=N down_dropped=N clients=N
 * Loopback only.  bench/run, bench/proxy and the lossy tests use it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
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
#include <sys/socket.h>

#define MAX_CLIENTS 1024

typedef struct client {
    struct sockaddr_in addr;
    int fd; /* upstream, connected */
} client;

static volatile sig_atomic_t stop;
static uint64_t rng_state;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

/* 1 with probability pct/100. */
static int drop(double pct)
{
    return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0) * 100.0 < pct;
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* PORTFILE gets "PORT\n" all at once: a reader sees nothing or all. */
static int write_port(const char *path, int port)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) || (f = fopen(tmp, "w")) == NULL)
        return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

static void usage(void)
{
    fprintf(stderr, "usage: lossy-relay -l LISTEN_PORT -u UPSTREAM_PORT -p LOSS_PERCENT "
                    "[-s SEED] [-d SECONDS] [-P PORTFILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int lport = -1, uport = 0, opt, lfd, i;
    const char *portfile = NULL;
    socklen_t alen;
    double loss = 0, duration = 600, end;
    uint64_t seed = 1;
    struct sockaddr_in laddr, uaddr;
    static client clients[MAX_CLIENTS];
    static struct pollfd pfd[MAX_CLIENTS + 1];
    int nclients = 0;
    unsigned long up = 0, up_drop = 0, down = 0, down_drop = 0;
    uint8_t buf[65536];
    struct sigaction sa;

    while ((opt = getopt(argc, argv, "l:u:t:p:s:d:P:")) != -1) {
        switch (opt) {
        case 'l': lport = atoi(optarg); break;
        case 'u':
        case 't': uport = atoi(optarg); break;
        case 'P': portfile = optarg; break;
        case 'p': loss = atof(optarg); break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'd': duration = atof(optarg); break;
        default: usage();
        }
    }
    if (lport < 0 || lport > 65535 || uport <= 0 || uport > 65535 || loss < 0 || loss > 100)
        usage();
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    memset(&laddr, 0, sizeof(laddr));
    laddr.sin_family = AF_INET;
    laddr.sin_port = htons((uint16_t)lport);
    laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uaddr = laddr;
    uaddr.sin_port = htons((uint16_t)uport);
    lfd = socket(AF_INET, SOCK_DGRAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&laddr, sizeof(laddr)) != 0) {
        perror("lossy-relay: bind");
        return 2;
    }
    alen = sizeof(laddr);
    if (getsockname(lfd, (struct sockaddr *)&laddr, &alen) != 0) {
        perror("lossy-relay: getsockname");
        return 2;
    }
    lport = ntohs(laddr.sin_port);
    if (portfile != NULL && write_port(portfile, lport) != 0) {
        perror("lossy-relay: -P");
        return 2;
    }
    printf("listening=%d\n", lport);
    fflush(stdout);

    end = mono() + duration;
    while (!stop && mono() < end) {
        pfd[0].fd = lfd;
        pfd[0].events = POLLIN;
        pfd[0].revents = 0;
        for (i = 0; i < nclients; i++) {
            pfd[i + 1].fd = clients[i].fd;
            pfd[i + 1].events = POLLIN;
            pfd[i + 1].revents = 0;
        }
        if (poll(pfd, (nfds_t)nclients + 1, 200) <= 0)
            continue;
        if (pfd[0].revents & POLLIN) {
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t n = recvfrom(lfd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

            if (n >= 0) {
                client *c = NULL;

                for (i = 0; i < nclients; i++)
                    if (clients[i].addr.sin_port == from.sin_port &&
                        clients[i].addr.sin_addr.s_addr == from.sin_addr.s_addr) {
                        c = &clients[i];
                        break;
                    }
                if (c == NULL && nclients < MAX_CLIENTS) {
                    int fd = socket(AF_INET, SOCK_DGRAM, 0);

                    if (fd >= 0 && connect(fd, (struct sockaddr *)&uaddr, sizeof(uaddr)) == 0) {
                        c = &clients[nclients++];
                        c->addr = from;
                        c->fd = fd;
                    } else if (fd >= 0)
                        close(fd);
                }
                up++;
                if (c != NULL && !drop(loss))
                    (void)send(c->fd, buf, (size_t)n, MSG_DONTWAIT);
                else
                    up_drop++;
            }
        }
        for (i = 0; i < nclients; i++) {
            ssize_t n;

            if (!(pfd[i + 1].revents & (POLLIN | POLLERR)))
                continue;
            n = recv(clients[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n < 0)
                continue; /* ECONNREFUSED from an ICMP error: ignore */
            down++;
            if (drop(loss))
                down_drop++;
            else
                (void)sendto(lfd, buf, (size_t)n, MSG_DONTWAIT,
                             (struct sockaddr *)&clients[i].addr, sizeof(clients[i].addr));
        }
    }
    printf("up=%lu up_dropped=%lu down=%lu down_dropped=%lu clients=%d\n", up, up_drop, down,
           down_drop, nclients);
    for (i = 0; i < nclients; i++)
        close(clients[i].fd);
    close(lfd);
    return 0;
}
