/*
 * manager-lossy-relay.c - a UDP relay on loopback that drops datagrams.
 *
 *   manager-lossy-relay -l LISTEN_PORT -t TARGET_PORT [-p PERCENT] [-s SEED]
 *                       [-d SECONDS] [-P PORTFILE]
 *
 * Listens on 127.0.0.1:LISTEN_PORT (0: any free port, written to PORTFILE
 * once bound), and relays every datagram to 127.0.0.1:TARGET_PORT and back.
 * Each client address gets its own upstream socket, so the target sees one
 * peer per client, as without the relay.  PERCENT of the datagrams in each
 * direction (default 5) are dropped, chosen by a seeded generator so a run
 * can be repeated.  Exits after SECONDS (default 120) or on SIGTERM/SIGINT,
 * printing how many datagrams it relayed and dropped.  Loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
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

#define MAX_CLIENTS 256
#define MAX_DATAGRAM 65536

typedef struct client {
    struct sockaddr_in addr; /* the client, as seen by the listener */
    int upstream;            /* connected to the target */
} client;

static volatile sig_atomic_t stop_requested;
static uint64_t rng_state;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* xorshift64*: small, seedable, good enough to pick datagrams to drop. */
static unsigned rand_percent(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (unsigned)((rng_state * 2685821657736338717ULL) >> 33) % 100;
}

static int udp_socket_bound(uint16_t port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int upstream_socket(uint16_t target_port)
{
    struct sockaddr_in sa;
    int fd = udp_socket_bound(0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(target_port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    unsigned listen_port = 0, target_port = 0, percent = 5, duration = 120;
    unsigned long long seed = 1;
    const char *portfile = NULL;
    client clients[MAX_CLIENTS];
    size_t nclients = 0;
    unsigned long relayed = 0, dropped = 0;
    static unsigned char buf[MAX_DATAGRAM];
    struct pollfd pfds[MAX_CLIENTS + 1];
    time_t end;
    int listener, opt;

    while ((opt = getopt(argc, argv, "l:t:p:s:d:P:")) != -1) {
        switch (opt) {
        case 'l': listen_port = (unsigned)atoi(optarg); break;
        case 't': target_port = (unsigned)atoi(optarg); break;
        case 'p': percent = (unsigned)atoi(optarg); break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'd': duration = (unsigned)atoi(optarg); break;
        case 'P': portfile = optarg; break;
        default: goto Usage;
        }
    }
    if (target_port == 0 || target_port > 65535 || listen_port > 65535 || percent > 100)
        goto Usage;
    rng_state = seed != 0 ? seed : 1;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    listener = udp_socket_bound((uint16_t)listen_port);
    if (listener < 0) {
        perror("manager-lossy-relay: bind");
        return 1;
    }
    if (portfile != NULL) {
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);
        FILE *f;

        if (getsockname(listener, (struct sockaddr *)&sa, &len) != 0 ||
            (f = fopen(portfile, "w")) == NULL) {
            perror("manager-lossy-relay: port file");
            return 1;
        }
        fprintf(f, "%u\n", ntohs(sa.sin_port));
        fclose(f);
    }

    end = time(NULL) + (time_t)duration;
    while (!stop_requested && time(NULL) < end) {
        int rc;

        pfds[0].fd = listener;
        pfds[0].events = POLLIN;
        for (size_t i = 0; i < nclients; i++) {
            pfds[i + 1].fd = clients[i].upstream;
            pfds[i + 1].events = POLLIN;
        }
        rc = poll(pfds, nclients + 1, 200);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            perror("manager-lossy-relay: poll");
            break;
        }
        if (pfds[0].revents & POLLIN) {
            struct sockaddr_in from;
            socklen_t fromlen = sizeof(from);
            ssize_t n = recvfrom(listener, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
            size_t i;

            if (n >= 0) {
                for (i = 0; i < nclients; i++)
                    if (clients[i].addr.sin_port == from.sin_port &&
                        clients[i].addr.sin_addr.s_addr == from.sin_addr.s_addr)
                        break;
                if (i == nclients && nclients < MAX_CLIENTS) {
                    clients[i].addr = from;
                    clients[i].upstream = upstream_socket((uint16_t)target_port);
                    if (clients[i].upstream >= 0)
                        nclients++;
                }
                if (i < nclients) {
                    if (rand_percent() < percent)
                        dropped++;
                    else if (send(clients[i].upstream, buf, (size_t)n, 0) >= 0)
                        relayed++;
                }
            }
        }
        for (size_t i = 0; i < nclients; i++) {
            ssize_t n;

            if (!(pfds[i + 1].revents & (POLLIN | POLLERR)))
                continue;
            n = recv(clients[i].upstream, buf, sizeof(buf), 0);
            if (n < 0)
                continue; /* ICMP port unreachable and the like */
            if (rand_percent() < percent)
                dropped++;
            else if (sendto(listener, buf, (size_t)n, 0, (struct sockaddr *)&clients[i].addr,
                            sizeof(clients[i].addr)) >= 0)
                relayed++;
        }
    }
    printf("relayed %lu dropped %lu clients %zu\n", relayed, dropped, nclients);
    for (size_t i = 0; i < nclients; i++)
        close(clients[i].upstream);
    close(listener);
    return 0;

Usage:
    fprintf(stderr, "usage: manager-lossy-relay -l LISTEN_PORT -t TARGET_PORT [-p PERCENT] "
                    "[-s SEED] [-d SECONDS] [-P PORTFILE]\n");
    return 2;
}
