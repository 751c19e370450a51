/*
 * dtls-echo-server - echo every datagram of every DTLS client.
 *
 *   dtls-echo-server [-6] [--demux osnet|router] [--port P] [--no-accept]
 *                    [--max-assocs N] [--idle-timeout S] --cert F --key F --ca F
 *
 * One thread, one poll() loop, nothing blocks: the listener's fd and every
 * accepted connection's fd are polled, with the earliest library deadline as
 * the poll timeout.  Clients must present a certificate that chains to --ca.
 * -6 listens on [::] (dual-stack: IPv4 clients too), otherwise on 0.0.0.0.
 *
 * --no-accept serves without accepting connections: every datagram is
 * taken from the listener with dtlsudp_listener_recv() and answered on the
 * connection it came from, so the loop polls one fd however many clients
 * there are.  With --demux router that is the way to hold very many
 * associations (bench/holdmany); --max-assocs raises the engine's cap
 * (default 10000) and --idle-timeout 0 keeps idle associations forever.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtlsudp.h"
#include "echo-common.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: dtls-echo-server [-6] [--demux osnet|router] [--port P] [--no-accept]\n"
               "                        [--max-assocs N] [--idle-timeout S] --cert F --key F --ca F\n");
}

typedef struct conn_set {
    dtlsudp_conn **v;
    size_t n, cap;
} conn_set;

static int conn_set_add(conn_set *s, dtlsudp_conn *c)
{
    if (s->n == s->cap) {
        size_t cap = s->cap != 0 ? s->cap * 2 : 64;
        dtlsudp_conn **v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = c;
    return 0;
}

static void describe(const dtlsudp_conn *c, char *buf, size_t cap)
{
    if (dtlsudp_addr_format(dtlsudp_conn_peer(c), buf, cap) != DTLSUDP_OK)
        snprintf(buf, cap, "?");
}

/* --no-accept: echo every datagram queued on the listener back to the
 * connection it came from. */
static void serve_unaccepted(dtlsudp_listener *l)
{
    uint8_t buf[16384];
    size_t len;
    dtlsudp_conn *from;

    while (dtlsudp_listener_recv(l, buf, sizeof(buf), &len, &from) == DTLSUDP_OK)
        if (from != NULL)
            (void)dtlsudp_conn_write(from, buf, len);
}

/* The listener's next deadline.  Without accept, connections waiting to be
 * accepted are no work and plaintext is drained after every pump: only the
 * timers count. */
static dtlsudp_time listener_deadline(dtlsudp_listener *l, int accepting)
{
    return accepting ? dtlsudp_listener_next_timeout(l) : dtlsudp_listener_next_timer(l);
}

/* Echo everything c has; returns 0 to keep c, -1 once it has ended. */
static int serve(dtlsudp_conn *c)
{
    uint8_t buf[16384];
    char peer[64];
    size_t len;
    for (;;) {
        int ret = dtlsudp_conn_read(c, buf, sizeof(buf), &len, 0);
        if (ret == DTLSUDP_ERR_AGAIN)
            return 0;
        if (ret != DTLSUDP_OK) {
            describe(c, peer, sizeof(peer));
            printf("closed %s: %s\n", peer, dtlsudp_strerror(ret));
            return -1;
        }
        ret = dtlsudp_conn_write(c, buf, len);
        if (ret != DTLSUDP_OK && dtlsudp_err_is_assoc_fatal(ret)) {
            describe(c, peer, sizeof(peer));
            printf("closed %s: %s\n", peer, dtlsudp_strerror(ret));
            return -1;
        }
    }
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        ECHO_COMMON_OPTIONS,
        {"demux", required_argument, NULL, 'd'}, {"port", required_argument, NULL, 'p'},
        {"no-accept", no_argument, NULL, 'N'},   {"max-assocs", required_argument, NULL, 'm'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    dtlsudp_listener_config cfg;
    dtlsudp_listener *l = NULL;
    conn_set conns = {0};
    struct pollfd *pfd = NULL;
    const char *port = "28000";
    char addr[64];
    int ipv6 = 0, accepting = 1, opt, ret, status = 1;
    char *end;
    long v;

    dtlsudp_listener_config_init(&cfg);
    echo_common_init(&cfg.engine, "dtls-echo-server");
    while ((opt = getopt_long(argc, argv, "6h", options, NULL)) != -1) {
        switch (opt) {
        case 'd':
            if (strcmp(optarg, "osnet") == 0)
                cfg.demux = DTLSUDP_DEMUX_OSNET;
            else if (strcmp(optarg, "router") == 0)
                cfg.demux = DTLSUDP_DEMUX_ROUTER;
            else {
                usage(stderr);
                return 2;
            }
            break;
        case 'p':
            port = optarg;
            break;
        case 'N':
            accepting = 0;
            break;
        case 'm':
        case 'i':
            v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 0 || v > 100000000 || (opt == 'm' && v == 0)) {
                usage(stderr);
                return 2;
            }
            if (opt == 'm')
                cfg.engine.max_assocs = (size_t)v;
            else
                cfg.engine.idle_timeout = v == 0 ? DTLSUDP_TIME_NEVER : (dtlsudp_time)v * 1000;
            break;
        default:
            if ((ret = echo_common_option(opt, optarg, &cfg.engine, &ipv6, usage)) != ECHO_OPTION_TAKEN)
                return ret;
        }
    }
    if (optind != argc || cfg.engine.cert_file == NULL || cfg.engine.key_file == NULL ||
        cfg.engine.ca_file == NULL) {
        usage(stderr);
        return 2;
    }
    snprintf(addr, sizeof(addr), ipv6 ? "[::]:%s" : "0.0.0.0:%s", port);

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    ret = dtlsudp_listener_new(addr, &cfg, dtlsudp_now(), &l);
    if (ret != DTLSUDP_OK) {
        fprintf(stderr, "dtls-echo-server: cannot listen on %s: %s%s%s\n", addr, dtlsudp_strerror(ret),
                ret == DTLSUDP_ERR_SYSTEM ? ": " : "", ret == DTLSUDP_ERR_SYSTEM ? strerror(errno) : "");
        return 1;
    }
    printf("listening on %s (%s demux)\n", addr,
           dtlsudp_listener_demux(l) == DTLSUDP_DEMUX_OSNET ? "osnet" : "router");

    while (!stopping) {
        dtlsudp_time now = dtlsudp_now();
        dtlsudp_time next = listener_deadline(l, accepting);
        struct pollfd *npfd = realloc(pfd, (conns.n + 1) * sizeof(*pfd));
        if (npfd == NULL)
            goto Exit;
        pfd = npfd;
        pfd[0] = (struct pollfd){.fd = dtlsudp_listener_fd(l), .events = POLLIN};
        for (size_t i = 0; i < conns.n; i++) {
            dtlsudp_time t = dtlsudp_conn_next_timeout(conns.v[i]);
            if (t < next)
                next = t;
            pfd[i + 1] = (struct pollfd){.fd = dtlsudp_conn_fd(conns.v[i]), .events = POLLIN};
        }
        size_t npolled = conns.n;
        int wait = next == DTLSUDP_TIME_NEVER ? -1 : next <= now ? 0 : (int)(next - now);
        if (poll(pfd, npolled + 1, wait) < 0 && errno != EINTR) {
            perror("poll");
            goto Exit;
        }
        now = dtlsudp_now();
        ret = dtlsudp_listener_process(l, now);
        if (ret != DTLSUDP_OK) {
            fprintf(stderr, "dtls-echo-server: %s\n", dtlsudp_strerror(ret));
            goto Exit;
        }

        if (!accepting) {
            serve_unaccepted(l);
            continue;
        }

        dtlsudp_conn *c;
        while (dtlsudp_listener_accept(l, 0, &c) == DTLSUDP_OK) {
            char peer[64];
            describe(c, peer, sizeof(peer));
            printf("accepted %s (%s, %s)\n", peer, dtlsudp_assoc_version(dtlsudp_conn_assoc(c)),
                   dtlsudp_assoc_cipher(dtlsudp_conn_assoc(c)));
            if (conn_set_add(&conns, c) != 0) {
                dtlsudp_conn_free(c);
                continue;
            }
        }

        size_t kept = 0;
        for (size_t i = 0; i < conns.n; i++) {
            c = conns.v[i];
            if (i < npolled && (pfd[i + 1].revents & POLLIN) != 0)
                (void)dtlsudp_conn_process(c, now);
            else if (dtlsudp_conn_next_timeout(c) <= now)
                (void)dtlsudp_conn_handle_timeout(c, now);
            if (serve(c) != 0) {
                dtlsudp_conn_free(c);
                continue;
            }
            conns.v[kept++] = c;
        }
        conns.n = kept;
    }
    status = 0;

Exit:
    /* close_notify to every client (RFC 6353 5.4) */
    for (size_t i = 0; i < conns.n; i++)
        dtlsudp_conn_free(conns.v[i]);
    free(conns.v);
    free(pfd);
    dtlsudp_listener_free(l);
    return status;
}
