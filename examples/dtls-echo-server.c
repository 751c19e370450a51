/*
 * dtls-echo-server - echo every datagram of every DTLS client.
 *
 *   dtls-echo-server [-6] [--demux osnet|router] [--port P] [--no-accept]
 *                    [--max-assocs N] [--idle-timeout S] [--threads N]
 *                    --cert F --key F --ca F
 *
 * One poll() loop per thread, nothing blocks: the listener's fd and every
 * accepted connection's fd are polled, with the earliest library deadline as
 * the poll timeout.  Clients must present a certificate that chains to --ca.
 * -6 listens on [::] (dual-stack: IPv4 clients too), otherwise on 0.0.0.0.
 *
 * --threads N (default 1) runs N such loops, each on its own thread with
 * its own listener on the same port and the same identity (reuse_port:
 * the kernel spreads clients over them, each client always to the same
 * one; see "Threads" in dtlsudp.h).  Router demux only: with N > 1 the
 * default demux is router and --demux osnet is refused.  --max-assocs is
 * per thread.  SIGINT or SIGTERM stops every loop: each sends close_notify
 * to its clients and frees its listener.
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
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtlsudp.h"
#include "echo-common.h"

/* Upper bound of --threads: far more than cores, which is what it is for. */
#define MAX_THREADS 256

/* Set by the signal handler on one thread, read by every loop: a
 * lock-free atomic, which C11 allows a handler to write (sig_atomic_t is
 * only safe within one thread). */
static atomic_int stopping;
/* Written once by the signal handler and never read: every loop polls the
 * read end, which then stays readable, so one signal wakes all threads. */
static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stopping, 1);
    if (stop_pipe[1] >= 0) {
        int saved = errno;
        (void)!write(stop_pipe[1], "x", 1);
        errno = saved;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: dtls-echo-server [-6] [--demux osnet|router] [--port P] [--no-accept]\n"
               "                        [--max-assocs N] [--idle-timeout S] [--threads N]\n"
               "                        --cert F --key F --ca F\n");
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

/* One event loop: a listener, the connections it accepted, its poll set. */
typedef struct worker {
    dtlsudp_listener *l;
    int accepting;
    pthread_t thread;
    int status; /* 0 when stopped by a signal, 1 on a fatal error */
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    dtlsudp_listener *l = w->l;
    conn_set conns = {0};
    struct pollfd *pfd = NULL;
    int ret;

    w->status = 1;
    while (!atomic_load(&stopping)) {
        dtlsudp_time now = dtlsudp_now();
        dtlsudp_time next = listener_deadline(l, w->accepting);
        struct pollfd *npfd = realloc(pfd, (conns.n + 2) * sizeof(*pfd));
        if (npfd == NULL)
            goto Exit;
        pfd = npfd;
        pfd[0] = (struct pollfd){.fd = stop_pipe[0], .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = dtlsudp_listener_fd(l), .events = POLLIN};
        for (size_t i = 0; i < conns.n; i++) {
            dtlsudp_time t = dtlsudp_conn_next_timeout(conns.v[i]);
            if (t < next)
                next = t;
            pfd[i + 2] = (struct pollfd){.fd = dtlsudp_conn_fd(conns.v[i]), .events = POLLIN};
        }
        size_t npolled = conns.n;
        int wait = next == DTLSUDP_TIME_NEVER ? -1 : next <= now ? 0 : (int)(next - now);
        if (poll(pfd, npolled + 2, wait) < 0 && errno != EINTR) {
            perror("poll");
            goto Exit;
        }
        if (atomic_load(&stopping))
            break;
        now = dtlsudp_now();
        ret = dtlsudp_listener_process(l, now);
        if (ret != DTLSUDP_OK) {
            fprintf(stderr, "dtls-echo-server: %s\n", dtlsudp_strerror(ret));
            goto Exit;
        }

        if (!w->accepting) {
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
            if (i < npolled && (pfd[i + 2].revents & POLLIN) != 0)
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
    w->status = 0;

Exit:
    if (w->status != 0)
        on_signal(SIGTERM); /* a loop that failed stops the others */
    /* close_notify to every client (RFC 6353 5.4) */
    for (size_t i = 0; i < conns.n; i++)
        dtlsudp_conn_free(conns.v[i]);
    free(conns.v);
    free(pfd);
    dtlsudp_listener_free(l);
    w->l = NULL;
    return NULL;
}

/* Make the stop pipe and route SIGINT/SIGTERM to it. */
static int install_signals(void)
{
    if (pipe(stop_pipe) != 0) {
        perror("pipe");
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        (void)fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC);
        (void)fcntl(stop_pipe[i], F_SETFL, O_NONBLOCK); /* the handler never blocks */
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* Open the listeners (all before any thread starts, so that a port that
 * cannot be had is reported once and nothing runs). */
static int open_listeners(const char *addr, const dtlsudp_listener_config *cfg, worker *workers, long n)
{
    for (long i = 0; i < n; i++) {
        int ret = dtlsudp_listener_new(addr, cfg, dtlsudp_now(), &workers[i].l);
        if (ret != DTLSUDP_OK) {
            fprintf(stderr, "dtls-echo-server: cannot listen on %s: %s%s%s\n", addr, dtlsudp_strerror(ret),
                    ret == DTLSUDP_ERR_SYSTEM ? ": " : "", ret == DTLSUDP_ERR_SYSTEM ? strerror(errno) : "");
            while (i-- > 0)
                dtlsudp_listener_free(workers[i].l);
            return -1;
        }
    }
    return 0;
}

/* The first loop runs on the main thread, the others on threads of their
 * own; returns 0 when every loop stopped on a signal. */
static int run_workers(worker *workers, long n)
{
    long started = 1;
    int status = 0;

    /* The loops' threads leave the signals to the main thread, so a
     * signal never interrupts a thread in the middle of a library call. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (; started < n; started++)
        if (pthread_create(&workers[started].thread, NULL, run_worker, &workers[started]) != 0) {
            fprintf(stderr, "dtls-echo-server: cannot start thread %ld\n", started);
            on_signal(SIGTERM);
            status = 1;
            break;
        }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    run_worker(&workers[0]);
    for (long i = 1; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    for (long i = 0; i < n; i++) {
        if (i >= started)
            dtlsudp_listener_free(workers[i].l);
        else if (workers[i].status != 0)
            status = 1;
    }
    return status;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        ECHO_COMMON_OPTIONS,
        {"demux", required_argument, NULL, 'd'}, {"port", required_argument, NULL, 'p'},
        {"no-accept", no_argument, NULL, 'N'},   {"max-assocs", required_argument, NULL, 'm'},
        {"idle-timeout", required_argument, NULL, 'i'}, {"threads", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    dtlsudp_listener_config cfg;
    worker *workers;
    const char *port = "28000";
    char addr[64];
    int ipv6 = 0, accepting = 1, opt, ret, status;
    long threads = 1;
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
        case 't':
            v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 0 || v > 100000000 || (opt != 'i' && v == 0) ||
                (opt == 't' && v > MAX_THREADS)) {
                usage(stderr);
                return 2;
            }
            if (opt == 'm')
                cfg.engine.max_assocs = (size_t)v;
            else if (opt == 't')
                threads = v;
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
    if (threads > 1) {
        /* osnet's per-peer sockets cannot share a port between listeners
         * (the library refuses it): threads mean router. */
        if (cfg.demux == DTLSUDP_DEMUX_OSNET) {
            fprintf(stderr, "dtls-echo-server: --threads needs --demux router\n");
            return 2;
        }
        cfg.demux = DTLSUDP_DEMUX_ROUTER;
        cfg.reuse_port = 1;
    }
    snprintf(addr, sizeof(addr), ipv6 ? "[::]:%s" : "0.0.0.0:%s", port);

    if (install_signals() != 0)
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);

    if ((workers = calloc((size_t)threads, sizeof(*workers))) == NULL) {
        perror("calloc");
        return 1;
    }
    if (open_listeners(addr, &cfg, workers, threads) != 0) {
        free(workers);
        return 1;
    }
    for (long i = 0; i < threads; i++)
        workers[i].accepting = accepting;
    if (threads == 1)
        printf("listening on %s (%s demux)\n", addr,
               dtlsudp_listener_demux(workers[0].l) == DTLSUDP_DEMUX_OSNET ? "osnet" : "router");
    else
        printf("listening on %s (router demux, %ld threads)\n", addr, threads);

    status = run_workers(workers, threads);
    free(workers);
    return status;
}
