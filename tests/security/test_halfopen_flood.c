/*
 * test_halfopen_flood.c - admission under attack, on real sockets
 * (127.0.0.1), for both demultiplexers:
 *   1. one address passes the cookie gate 300 times from different ports
 *      and goes silent, and keeps doing so; legitimate handshakes from the
 *      same address are measured alongside: every one completes, without
 *      waiting for a retransmission (the first one comes after 1 s);
 *   2. the table is full of established associations; peers that answer
 *      the cookie and go silent evict none of them.
 */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "sec_common.h"

#define LEGIT 20
#define FLOOD 300
#define LIMIT_MS 600 /* well under OpenSSL's first retransmission (1 s) */

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static void flood_with_legit(int demux, const char *name)
{
    dtlsudp_listener_config cfg;
    dtlsudp_listener *l = NULL;
    long quiet[LEGIT], flood[LEGIT];
    int fds[FLOOD + LEGIT * 10], nfd = 0, ok = 0;
    char port[8];

    sec_listener_config(&cfg, demux);
    if (dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l) != DTLSUDP_OK)
        SEC_FAIL("listener");
    unsigned p = ntohs(dtlsudp_listener_local_addr(l)->sin.sin_port);
    snprintf(port, sizeof(port), "%u", p);

    for (int i = 0; i < LEGIT; i++)
        quiet[i] = sec_handshake(l, port, 3000);
    for (int i = 0; i < FLOOD; i++)
        if ((fds[nfd] = sec_silent_client(l, p)) >= 0)
            nfd++;
    for (int i = 0; i < LEGIT; i++) {
        for (int k = 0; k < 10; k++) /* the flood goes on */
            if ((fds[nfd] = sec_silent_client(l, p)) >= 0)
                nfd++;
        flood[i] = sec_handshake(l, port, LIMIT_MS);
        if (flood[i] >= 0)
            ok++;
    }
    dtlsudp_net_stats st;
    dtlsudp_listener_get_stats(l, &st);
    qsort(quiet, LEGIT, sizeof(long), cmp_long);
    qsort(flood, LEGIT, sizeof(long), cmp_long);
    printf("%s: silent clients %d; quiet p50 %ld ms max %ld ms; during the flood %d/%d within %d ms, "
           "p50 %ld ms max %ld ms; half-open evicted %llu, refused %llu\n",
           name, nfd, quiet[LEGIT / 2], quiet[LEGIT - 1], ok, LEGIT, LIMIT_MS, flood[LEGIT / 2], flood[LEGIT - 1],
           (unsigned long long)st.engine.half_open_evicted, (unsigned long long)st.engine.refused_full);
    for (int i = 0; i < nfd; i++)
        close(fds[i]);
    dtlsudp_listener_free(l);
    if (nfd < FLOOD)
        SEC_FAIL("%s: only %d silent clients passed the cookie gate", name, nfd);
    if (ok != LEGIT)
        SEC_FAIL("%s: %d of %d legitimate handshakes completed within %d ms during the flood", name, ok, LEGIT,
                 LIMIT_MS);
}

static dtlsudp_conn *kept[8];
static int nkept;

/* Pump the listener and the clients; accepted connections are kept open. */
static void pump_keep(dtlsudp_listener *l, dtlsudp_conn **c, int n, long ms)
{
    dtlsudp_time until = dtlsudp_now() + (dtlsudp_time)ms;
    do {
        struct pollfd p = {.fd = dtlsudp_listener_fd(l), .events = POLLIN};
        (void)poll(&p, 1, 5);
        dtlsudp_time now = dtlsudp_now();
        (void)dtlsudp_listener_process(l, now);
        (void)dtlsudp_listener_handle_timeout(l, now);
        dtlsudp_conn *a;
        while (dtlsudp_listener_accept(l, 0, &a) == DTLSUDP_OK)
            if (nkept < 8)
                kept[nkept++] = a;
            else
                dtlsudp_conn_free(a);
        for (int i = 0; i < nkept; i++)
            (void)dtlsudp_conn_process(kept[i], now);
        for (int i = 0; i < n; i++)
            if (c[i] != NULL) {
                (void)dtlsudp_conn_process(c[i], now);
                (void)dtlsudp_conn_handle_timeout(c[i], now);
            }
    } while (dtlsudp_now() < until);
}

static void full_table(int demux, const char *name)
{
    dtlsudp_listener_config cfg;
    dtlsudp_conn_config ccfg;
    dtlsudp_listener *l = NULL;
    dtlsudp_conn *c[2] = {NULL, NULL};
    int fds[10], nfd = 0;
    char port[8];

    sec_listener_config(&cfg, demux);
    cfg.engine.max_assocs = 3;
    cfg.engine.max_half_open = 2;
    if (dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l) != DTLSUDP_OK)
        SEC_FAIL("listener");
    unsigned p = ntohs(dtlsudp_listener_local_addr(l)->sin.sin_port);
    snprintf(port, sizeof(port), "%u", p);
    sec_client_config(&ccfg);
    for (int i = 0; i < 2; i++) {
        if (dtlsudp_conn_connect("127.0.0.1", port, &ccfg, 0, dtlsudp_now(), &c[i]) != DTLSUDP_OK)
            SEC_FAIL("connect");
        dtlsudp_time until = dtlsudp_now() + 3000;
        while (dtlsudp_conn_state(c[i]) != DTLSUDP_STATE_ESTABLISHED && dtlsudp_now() < until)
            pump_keep(l, c, 2, 5);
        if (dtlsudp_conn_state(c[i]) != DTLSUDP_STATE_ESTABLISHED)
            SEC_FAIL("%s: client %d did not connect", name, i);
    }
    for (int i = 0; i < 10; i++)
        if ((fds[nfd] = sec_silent_client(l, p)) >= 0)
            nfd++;
    pump_keep(l, c, 2, 200);
    dtlsudp_net_stats st;
    dtlsudp_listener_get_stats(l, &st);
    int alive = (dtlsudp_conn_state(c[0]) == DTLSUDP_STATE_ESTABLISHED) +
                (dtlsudp_conn_state(c[1]) == DTLSUDP_STATE_ESTABLISHED);
    printf("%s: full table, %d silent cookie-answering peers: %d of 2 established associations left, "
           "evictions %llu\n",
           name, nfd, alive, (unsigned long long)st.engine.evictions);
    for (int i = 0; i < nfd; i++)
        close(fds[i]);
    dtlsudp_conn_free(c[0]);
    dtlsudp_conn_free(c[1]);
    for (int i = 0; i < nkept; i++)
        dtlsudp_conn_free(kept[i]);
    nkept = 0;
    dtlsudp_listener_free(l);
    if (nfd == 0)
        SEC_FAIL("%s: no silent peer passed the cookie gate", name);
    if (alive != 2 || st.engine.evictions != 0)
        SEC_FAIL("%s: an unauthenticated peer evicted an established association", name);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    sec_certs();
    full_table(DTLSUDP_DEMUX_ROUTER, "router");
    full_table(DTLSUDP_DEMUX_OSNET, "osnet");
    flood_with_legit(DTLSUDP_DEMUX_ROUTER, "router");
    flood_with_legit(DTLSUDP_DEMUX_OSNET, "osnet");
    return 0;
}
