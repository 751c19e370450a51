/*
 * test_icmp_refused.c - ICMP port unreachable on an established osnet
 * association is a hint, not a verdict (RFC 8085 5.2).  The client talks
 * to the listener through a relay; the relay's server-side port is closed
 * for a moment (standing in for a spoofed ICMP): the server's write to it
 * draws a real port unreachable, its connected socket reports
 * ECONNREFUSED.  The relay then comes back on the same port and the client
 * keeps talking: the association must survive.  Then the port closes for
 * good: the association ends with DTLSUDP_ERR_REFUSED once refused_grace
 * passed with nothing authenticated.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sec_common.h"

#define GRACE 800

static int front = -1, back = -1;
static struct sockaddr_in client_addr, server_addr, back_addr;
static socklen_t client_len;

static int udp_bound(struct sockaddr_in *a)
{
    int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    socklen_t len = sizeof(*a);
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) != 0 || getsockname(fd, (struct sockaddr *)a, &len) != 0)
        SEC_FAIL("relay socket");
    return fd;
}

static void relay(void)
{
    uint8_t buf[4096];
    ssize_t n;
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    while ((n = recvfrom(front, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen)) > 0) {
        client_addr = from;
        client_len = flen;
        if (back >= 0)
            (void)sendto(back, buf, (size_t)n, 0, (struct sockaddr *)&server_addr, sizeof(server_addr));
        flen = sizeof(from);
    }
    while (back >= 0 && (n = recv(back, buf, sizeof(buf), 0)) != 0) {
        if (n < 0)
            break;
        if (client_len != 0)
            (void)sendto(front, buf, (size_t)n, 0, (struct sockaddr *)&client_addr, client_len);
    }
}

static void pump(dtlsudp_listener *l, dtlsudp_conn *c, dtlsudp_conn **s, long ms, int *got)
{
    dtlsudp_time until = dtlsudp_now() + (dtlsudp_time)ms;
    do {
        struct pollfd p[4] = {{.fd = dtlsudp_listener_fd(l), .events = POLLIN},
                              {.fd = dtlsudp_conn_fd(c), .events = POLLIN},
                              {.fd = front, .events = POLLIN},
                              {.fd = *s != NULL ? dtlsudp_conn_fd(*s) : -1, .events = POLLIN}};
        (void)poll(p, 4, 5);
        dtlsudp_time now = dtlsudp_now();
        relay();
        (void)dtlsudp_listener_process(l, now);
        (void)dtlsudp_listener_handle_timeout(l, now);
        (void)dtlsudp_conn_process(c, now);
        (void)dtlsudp_conn_handle_timeout(c, now);
        if (*s == NULL)
            (void)dtlsudp_listener_accept(l, 0, s);
        if (*s != NULL) {
            uint8_t buf[64];
            size_t len;
            (void)dtlsudp_conn_process(*s, now);
            if (dtlsudp_conn_next_timeout(*s) <= now)
                (void)dtlsudp_conn_handle_timeout(*s, now);
            while (dtlsudp_conn_read(*s, buf, sizeof(buf), &len, 0) == DTLSUDP_OK)
                if (got != NULL)
                    (*got)++;
        }
        relay();
    } while (dtlsudp_now() < until);
}

int main(void)
{
    dtlsudp_listener_config cfg;
    dtlsudp_conn_config ccfg;
    dtlsudp_listener *l = NULL;
    dtlsudp_conn *c = NULL, *s = NULL;
    char port[8];
    int got = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    sec_certs();
    sec_listener_config(&cfg, DTLSUDP_DEMUX_OSNET);
    cfg.engine.refused_grace = GRACE;
    if (dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l) != DTLSUDP_OK)
        SEC_FAIL("listener");
    server_addr = *(const struct sockaddr_in *)&dtlsudp_listener_local_addr(l)->sin;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    front = udp_bound(&a);
    back_addr = (struct sockaddr_in){.sin_family = AF_INET};
    back_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    back = udp_bound(&back_addr);
    snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));
    sec_client_config(&ccfg);
    if (dtlsudp_conn_connect("127.0.0.1", port, &ccfg, 0, dtlsudp_now(), &c) != DTLSUDP_OK)
        SEC_FAIL("connect");
    for (int i = 0; i < 600 && (s == NULL || dtlsudp_conn_state(c) != DTLSUDP_STATE_ESTABLISHED); i++)
        pump(l, c, &s, 5, NULL);
    if (s == NULL || dtlsudp_conn_state(c) != DTLSUDP_STATE_ESTABLISHED)
        SEC_FAIL("no association");

    /* 1. the relay's server-side port closes; the server's write draws ICMP */
    close(back);
    back = -1;
    if (dtlsudp_conn_write(s, (const uint8_t *)"ping", 4) != DTLSUDP_OK)
        SEC_FAIL("server write");
    pump(l, c, &s, 100, NULL);
    dtlsudp_net_stats st;
    dtlsudp_listener_get_stats(l, &st);
    unsigned long long refused = (unsigned long long)st.refused;
    int after_icmp = dtlsudp_conn_state(s);
    /* the relay comes back on the same port; the client talks */
    back = udp_bound(&back_addr);
    if (dtlsudp_conn_write(c, (const uint8_t *)"still here", 10) != DTLSUDP_OK)
        SEC_FAIL("client write");
    pump(l, c, &s, GRACE + 400, &got);
    int survived = dtlsudp_conn_state(s) == DTLSUDP_STATE_ESTABLISHED;
    printf("ICMP refused seen %llu; server association right after: %s; data after it %d; "
           "after the grace: %s\n",
           refused, after_icmp == DTLSUDP_STATE_ESTABLISHED ? "established" : "closed", got,
           survived ? "established" : dtlsudp_strerror(dtlsudp_conn_last_error(s)));
    if (refused == 0)
        SEC_FAIL("no ECONNREFUSED was provoked");
    if (!survived || got == 0)
        SEC_FAIL("an ICMP port unreachable ended an association whose peer is alive");

    /* 2. the port closes for good: the association ends after the grace */
    close(back);
    back = -1;
    if (dtlsudp_conn_write(s, (const uint8_t *)"ping", 4) != DTLSUDP_OK)
        SEC_FAIL("server write");
    dtlsudp_time t0 = dtlsudp_now();
    for (int i = 0; i < 600 && dtlsudp_conn_state(s) == DTLSUDP_STATE_ESTABLISHED; i++)
        pump(l, c, &s, 5, NULL);
    long took = (long)(dtlsudp_now() - t0);
    printf("peer really gone: association ended after %ld ms (%s)\n", took,
           dtlsudp_strerror(dtlsudp_conn_last_error(s)));
    if (dtlsudp_conn_state(s) == DTLSUDP_STATE_ESTABLISHED || dtlsudp_conn_last_error(s) != DTLSUDP_ERR_REFUSED)
        SEC_FAIL("a dead peer's association did not end with REFUSED");
    if (took < GRACE - 50)
        SEC_FAIL("ended before the grace (%ld ms)", took);
    dtlsudp_conn_free(s);
    dtlsudp_conn_free(c);
    dtlsudp_listener_free(l);
    close(front);
    return 0;
}
