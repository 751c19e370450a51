/*
 * holdassoc.c - hold many DTLS associations open to one SNMP agent, then
 * serve an SNMPv3 (TSM) GET over every one of them.
 *
 *   holdassoc -a HOST -p PORT -n N --cert F --key F --ca F --engine-id HEX
 *             [-c CONCURRENT] [-s SRC_BASE] [-S] [-t SECONDS] [-g GIVE_UP]
 *             [-T HANDSHAKE_SECONDS] [-P AGENT_PID]
 *
 * Client side is libdtlsudp (dtlsudp_conn_connect, non-blocking), one UDP socket
 * and one association per simulated manager, each from its own loopback
 * source address SRC_BASE+i (default 127.1.0.1, ...: loopback accepts any
 * 127/8 source), so per-source caps of the agent do not apply; with -S
 * every association uses SRC_BASE itself (distinct ports).  The client
 * implementation does not matter for what is measured here: it is the
 * agent's memory and its ability to keep serving that count, and the same
 * client is used against Net-SNMP's built-in DTLSUDP and this project's.
 *
 * Phases, all bounded by -t (default 120 s) in total (and the open phase
 * stops early after GIVE_UP handshakes in a row failed, when -g is given):
 *   open   start handshakes, at most CONCURRENT (default 32) in flight,
 *          each given HANDSHAKE_SECONDS (default 10);
 *   settle 1 s, then read the agent's VmRSS (-P);
 *   serve  one GET sysUpTime.0 per established association (window of 256,
 *          one resend after 2 s, given up after 5 s); an association counts
 *          as served when the Response PDU with its request-id came back.
 *
 * Output: one key=value line, e.g.
 *   n=1000 established=1000 failed=0 open_secs=3.1 served=1000 serve_secs=0.4
 *   rss0_kb=9000 rss_open_kb=52000 rss_served_kb=52100 per_assoc_b=44032
 * The SNMPv3 message is built by hand (BER): msgSecurityModel 4 (TSM),
 * empty msgSecurityParameters, authPriv (RFC 6353 5.1: the transport
 * provides the security), contextEngineID from --engine-id.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "dtlsudp.h"

#include "ber.h"
#include "proc.h"

enum { S_IDLE = 0, S_HANDSHAKE, S_ESTABLISHED, S_FAILED };

typedef struct slot {
    dtlsudp_conn *c;
    int state;
    int served;
    int sends;
    dtlsudp_time t_sent;
} slot;

static void usage(void)
{
    fprintf(stderr, "usage: holdassoc -a HOST -p PORT -n N --cert F --key F --ca F "
                    "--engine-id HEX [-c CONCURRENT] [-s SRC_BASE] [-S] [-t SECONDS] [-g GIVE_UP] [-T HS_SECONDS] "
                    "[-P PID]\n");
    exit(2);
}

static void raise_nofile(size_t need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < need + 64) {
        rl.rlim_cur = rl.rlim_max < need + 64 ? rl.rlim_max : need + 64;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"cert", required_argument, NULL, 'C'},
        {"key", required_argument, NULL, 'K'},
        {"ca", required_argument, NULL, 'A'},
        {"engine-id", required_argument, NULL, 'E'},
        {NULL, 0, NULL, 0},
    };
    const char *host = NULL, *port = NULL, *cert = NULL, *key = NULL, *ca = NULL;
    const char *engine_hex = NULL, *src_base = "127.1.0.1";
    long n = 0, concurrent = 32, agent_pid = 0;
    int same_source = 0;
    long give_up = 0, fail_run = 0, first_hs = 0, hs_timeout_s = 10;
    double limit = 120;
    uint8_t engine_id[64];
    size_t engine_id_len = 0;
    struct in_addr base;
    slot *slots;
    struct pollfd *pfd;
    long *pidx;
    long started = 0, established = 0, failed = 0, inflight = 0, served = 0, i;
    long rss0, rss_open, rss_served;
    double t0, t_open, t_serve_start, deadline;
    int opt;
    dtlsudp_conn_config cfg;

    while ((opt = getopt_long(argc, argv, "a:p:n:c:s:St:P:g:T:", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a': host = optarg; break;
        case 'p': port = optarg; break;
        case 'n': n = atol(optarg); break;
        case 'c': concurrent = atol(optarg); break;
        case 's': src_base = optarg; break;
        case 'S': same_source = 1; break;
        case 'g': give_up = atol(optarg); break;
        case 'T': hs_timeout_s = atol(optarg); break;
        case 't': limit = atof(optarg); break;
        case 'P': agent_pid = atol(optarg); break;
        case 'C': cert = optarg; break;
        case 'K': key = optarg; break;
        case 'A': ca = optarg; break;
        case 'E': engine_hex = optarg; break;
        default: usage();
        }
    }
    if (host == NULL || port == NULL || n <= 0 || cert == NULL || key == NULL || ca == NULL ||
        engine_hex == NULL || concurrent <= 0 || limit <= 0)
        usage();
    if (ber_parse_hex(engine_hex, engine_id, sizeof(engine_id), &engine_id_len) != 0) {
        fprintf(stderr, "holdassoc: bad --engine-id\n");
        return 2;
    }
    if (inet_pton(AF_INET, src_base, &base) != 1) {
        fprintf(stderr, "holdassoc: bad source base %s\n", src_base);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile((size_t)n);

    slots = calloc((size_t)n, sizeof(*slots));
    pfd = calloc((size_t)n, sizeof(*pfd));
    pidx = calloc((size_t)n, sizeof(*pidx));
    if (slots == NULL || pfd == NULL || pidx == NULL) {
        fprintf(stderr, "holdassoc: out of memory\n");
        return 2;
    }

    dtlsudp_conn_config_init(&cfg);
    cfg.engine.cert_file = cert;
    cfg.engine.key_file = key;
    cfg.engine.ca_file = ca;
    cfg.engine.idle_timeout = DTLSUDP_TIME_NEVER;
    if (hs_timeout_s > 0)
        cfg.engine.handshake_timeout = (dtlsudp_time)hs_timeout_s * 1000;

    rss0 = rss_kb(agent_pid);
    t0 = mono();
    deadline = t0 + limit;

    /* --- open --- */
    while (established + failed < n && mono() < deadline &&
           (give_up <= 0 || fail_run < give_up)) {
        long np = 0;
        int rc;
        dtlsudp_time now, next = DTLSUDP_TIME_NEVER;
        int wait_ms;

        while (inflight < concurrent && started < n) {
            dtlsudp_addr local;
            uint32_t a = ntohl(base.s_addr) + (same_source ? 0 : (uint32_t)started);
            slot *s = &slots[started];

            memset(&local, 0, sizeof(local));
            local.sin.sin_family = AF_INET;
            local.sin.sin_addr.s_addr = htonl(a);
            cfg.connect.local = &local;
            rc = dtlsudp_conn_connect(host, port, &cfg, 0, dtlsudp_now(), &s->c);
            started++;
            if (rc != DTLSUDP_OK) {
                s->state = S_FAILED;
                failed++;
                if (failed <= 3)
                    fprintf(stderr, "holdassoc: connect %ld: %s\n", started - 1,
                            dtlsudp_strerror(rc));
                continue;
            }
            s->state = S_HANDSHAKE;
            inflight++;
        }
        /* Handshakes finish roughly in the order they started: scan from
         * the oldest one still running. */
        while (first_hs < started && slots[first_hs].state != S_HANDSHAKE)
            first_hs++;
        for (i = first_hs; i < started; i++) {
            if (slots[i].state != S_HANDSHAKE)
                continue;
            pfd[np].fd = dtlsudp_conn_fd(slots[i].c);
            pfd[np].events = POLLIN;
            pfd[np].revents = 0;
            pidx[np++] = i;
            dtlsudp_time t = dtlsudp_conn_next_timeout(slots[i].c);
            if (t < next)
                next = t;
        }
        if (np == 0)
            continue;
        now = dtlsudp_now();
        wait_ms = next == DTLSUDP_TIME_NEVER ? 100 : next <= now ? 0 : (int)(next - now);
        if (wait_ms > 100)
            wait_ms = 100;
        (void)poll(pfd, (nfds_t)np, wait_ms);
        now = dtlsudp_now();
        for (i = 0; i < np; i++) {
            slot *s = &slots[pidx[i]];
            int st;

            if (pfd[i].revents == 0 && dtlsudp_conn_next_timeout(s->c) > now)
                continue;
            (void)dtlsudp_conn_process(s->c, now);
            st = dtlsudp_conn_state(s->c);
            if (st == DTLSUDP_STATE_ESTABLISHED) {
                s->state = S_ESTABLISHED;
                established++;
                inflight--;
                fail_run = 0;
            } else if (st == DTLSUDP_STATE_CLOSED) {
                int e = dtlsudp_conn_last_error(s->c);

                s->state = S_FAILED;
                failed++;
                inflight--;
                fail_run++;
                if (failed <= 3)
                    fprintf(stderr, "holdassoc: handshake %ld: %s\n", pidx[i],
                            dtlsudp_strerror(e));
            }
        }
    }
    t_open = mono() - t0;
    /* Handshakes still running at the deadline count as failed. */
    for (i = 0; i < started; i++)
        if (slots[i].state == S_HANDSHAKE) {
            slots[i].state = S_FAILED;
            failed++;
        }
    failed += n - started;

    /* --- settle, measure --- */
    {
        double settle_end = mono() + 1.0;

        while (mono() < settle_end)
            usleep(50000);
    }
    rss_open = rss_kb(agent_pid);

    /* --- serve: one GET per established association --- */
    t_serve_start = mono();
    {
        long next_send = 0, outstanding = 0;
        const long window = 256;
        double serve_deadline = mono() + 30.0;

        if (serve_deadline > deadline + 30.0)
            serve_deadline = deadline + 30.0;
        for (i = 0; i < n; i++)
            if (slots[i].state == S_ESTABLISHED)
                (void)dtlsudp_conn_process(slots[i].c, dtlsudp_now());
        for (;;) {
            long np = 0, j;
            dtlsudp_time now = dtlsudp_now();

            while (outstanding < window && next_send < n) {
                slot *s = &slots[next_send];
                uint8_t msg[256];
                size_t len;

                if (s->state == S_ESTABLISHED) {
                    len = ber_build_get(msg, sizeof(msg), (int32_t)next_send + 1, engine_id,
                                        engine_id_len);
                    if (len > 0 && dtlsudp_conn_write(s->c, msg, len) == DTLSUDP_OK) {
                        s->sends = 1;
                        s->t_sent = now;
                        outstanding++;
                    } else
                        s->sends = -1;
                }
                next_send++;
            }
            if (outstanding == 0 && next_send >= n)
                break;
            if (mono() > serve_deadline)
                break;
            for (j = 0; j < next_send; j++) {
                slot *s = &slots[j];

                if (s->state != S_ESTABLISHED || s->served || s->sends <= 0)
                    continue;
                if (now - s->t_sent > 5000) { /* given up */
                    s->sends = -1;
                    outstanding--;
                    continue;
                }
                if (now - s->t_sent > 2000 && s->sends == 1) {
                    uint8_t msg[256];
                    size_t len = ber_build_get(msg, sizeof(msg), (int32_t)j + 1, engine_id,
                                               engine_id_len);

                    (void)dtlsudp_conn_write(s->c, msg, len);
                    s->sends = 2;
                }
                pfd[np].fd = dtlsudp_conn_fd(s->c);
                pfd[np].events = POLLIN;
                pfd[np].revents = 0;
                pidx[np++] = j;
            }
            if (np == 0)
                continue;
            (void)poll(pfd, (nfds_t)np, 50);
            now = dtlsudp_now();
            for (j = 0; j < np; j++) {
                slot *s = &slots[pidx[j]];
                uint8_t buf[16384];
                size_t len;

                if (pfd[j].revents == 0)
                    continue;
                (void)dtlsudp_conn_process(s->c, now);
                while (dtlsudp_conn_read(s->c, buf, sizeof(buf), &len, 0) == DTLSUDP_OK) {
                    if (!s->served && ber_is_response(buf, len, (int32_t)pidx[j] + 1)) {
                        s->served = 1;
                        served++;
                        outstanding--;
                    }
                }
                if (!s->served && dtlsudp_conn_state(s->c) == DTLSUDP_STATE_CLOSED) {
                    s->sends = -1;
                    outstanding--;
                }
            }
        }
    }
    rss_served = rss_kb(agent_pid);

    printf("n=%ld established=%ld failed=%ld gave_up=%d open_secs=%.2f served=%ld serve_secs=%.2f "
           "rss0_kb=%ld rss_open_kb=%ld rss_served_kb=%ld per_assoc_b=%ld "
           "agent_alive=%d\n",
           n, established, failed, give_up > 0 && fail_run >= give_up, t_open, served, mono() - t_serve_start, rss0, rss_open,
           rss_served,
           established > 0 && rss_open > 0 ? (rss_open - rss0) * 1024 / established : 0,
           agent_pid > 0 ? rss_kb(agent_pid) > 0 : -1);
    fflush(stdout);

    for (i = 0; i < n; i++)
        if (slots[i].c != NULL)
            dtlsudp_conn_free(slots[i].c);
    free(slots);
    free(pfd);
    free(pidx);
    return 0;
}
