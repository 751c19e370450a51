/*
 * dtls-perf - the same echo stream over plain UDP, TCP, TLS (OpenSSL) and
 * DTLS (libdtlsudp) on loopback, one table.
 *
 *   dtls-perf [--size BYTES] [--count N] [--pings N] [--window W] [--demux osnet|router]
 *
 * For each transport an echo server runs in a thread of this process and
 * the main thread is the client:
 *   latency:    --pings round trips, one message at a time (mean, p50, p99);
 *   throughput: --count messages of --size bytes echoed with up to --window
 *               in flight; MB/s counts the echoed payload once.
 * Datagram transports may lose messages under load: a window that sees no
 * echo for LOSS_WAIT_MS is written off (counted as lost) and refilled.
 * Certificates (EC P-256, mutual authentication for TLS and DTLS) are made
 * in a temporary directory and removed at exit.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "dtlsudp.h"
#include "certs.h"

#define LOSS_WAIT_MS 200
#define MAX_SIZE 16000

static struct {
    size_t size;
    long count, pings, window;
    int demux;
    char dir[64];
    char ca[96], server_cert[96], server_key[96], client_cert[96], client_key[96];
} opt = {.size = 1000, .count = 20000, .pings = 2000, .window = 16, .demux = DTLSUDP_DEMUX_DEFAULT};

static atomic_int stop_server;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
    fprintf(stderr, "dtls-perf: %s: %s\n", what, errno != 0 ? strerror(errno) : "failed");
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* ------------------------------------------------------------------------
 * A client endpoint: send one message, receive one (whole) message.
 * ------------------------------------------------------------------------ */

typedef struct endpoint {
    const char *name;
    int stream; /* TCP-like: no loss, read exactly `size' bytes */
    int (*send)(struct endpoint *e, const uint8_t *buf, size_t len);
    /* 1 = got a message, 0 = nothing within timeout_ms, -1 = error */
    int (*recv)(struct endpoint *e, uint8_t *buf, size_t len, int timeout_ms);
    int fd;
    SSL *ssl;
    dtlsudp_conn *conn;
} endpoint;

static int wait_readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    return r > 0 ? 1 : r;
}

static int udp_send(endpoint *e, const uint8_t *buf, size_t len)
{
    return send(e->fd, buf, len, 0) == (ssize_t)len ? 0 : -1;
}

static int udp_recv(endpoint *e, uint8_t *buf, size_t len, int timeout_ms)
{
    int r = wait_readable(e->fd, timeout_ms);
    if (r <= 0)
        return r;
    return recv(e->fd, buf, len, 0) >= 0 ? 1 : -1;
}

static int tcp_send(endpoint *e, const uint8_t *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = send(e->fd, buf + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

static int tcp_recv(endpoint *e, uint8_t *buf, size_t len, int timeout_ms)
{
    for (size_t off = 0; off < len;) {
        int r = wait_readable(e->fd, timeout_ms);
        if (r <= 0)
            return off == 0 ? r : -1;
        ssize_t n = recv(e->fd, buf + off, len - off, 0);
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 1;
}

static int tls_send(endpoint *e, const uint8_t *buf, size_t len)
{
    return SSL_write(e->ssl, buf, (int)len) == (int)len ? 0 : -1;
}

static int tls_recv(endpoint *e, uint8_t *buf, size_t len, int timeout_ms)
{
    for (size_t off = 0; off < len;) {
        if (SSL_pending(e->ssl) == 0) {
            int r = wait_readable(e->fd, timeout_ms);
            if (r <= 0)
                return off == 0 ? r : -1;
        }
        int n = SSL_read(e->ssl, buf + off, (int)(len - off));
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 1;
}

static int dtls_send(endpoint *e, const uint8_t *buf, size_t len)
{
    return dtlsudp_conn_write(e->conn, buf, len) == DTLSUDP_OK ? 0 : -1;
}

static int dtls_recv(endpoint *e, uint8_t *buf, size_t len, int timeout_ms)
{
    size_t got;
    int ret = dtlsudp_conn_read(e->conn, buf, MAX_SIZE, &got, timeout_ms);
    (void)len;
    if (ret == DTLSUDP_ERR_AGAIN)
        return 0;
    return ret == DTLSUDP_OK ? 1 : -1;
}

/* ------------------------------------------------------------------------
 * Echo servers (one thread each)
 * ------------------------------------------------------------------------ */

typedef struct server {
    int fd; /* UDP socket or TCP listening socket */
    SSL_CTX *tls;
    dtlsudp_listener *listener;
    uint16_t port;
} server;

static void *udp_server(void *arg)
{
    server *s = arg;
    uint8_t buf[65536];
    while (!atomic_load(&stop_server)) {
        if (wait_readable(s->fd, 50) <= 0)
            continue;
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (n >= 0)
            (void)sendto(s->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
    }
    return NULL;
}

static void *tcp_server(void *arg)
{
    server *s = arg;
    uint8_t buf[65536];
    SSL *ssl = NULL;
    int one = 1;
    while (wait_readable(s->fd, 50) <= 0)
        if (atomic_load(&stop_server))
            return NULL;
    int fd = accept(s->fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (s->tls != NULL) {
        ssl = SSL_new(s->tls);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1)
            goto Exit;
    }
    while (!atomic_load(&stop_server)) {
        if ((ssl == NULL || SSL_pending(ssl) == 0) && wait_readable(fd, 50) <= 0)
            continue;
        if (ssl != NULL) {
            int n = SSL_read(ssl, buf, sizeof(buf));
            if (n <= 0 || SSL_write(ssl, buf, n) != n)
                break;
        } else {
            ssize_t n = recv(fd, buf, sizeof(buf), 0);
            if (n <= 0 || send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
                break;
        }
    }
Exit:
    if (ssl != NULL) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    close(fd);
    return NULL;
}

static void *dtls_server(void *arg)
{
    server *s = arg;
    dtlsudp_conn *c = NULL;
    uint8_t buf[MAX_SIZE];
    size_t len;
    while (!atomic_load(&stop_server)) {
        struct pollfd p[2] = {{.fd = dtlsudp_listener_fd(s->listener), .events = POLLIN},
                              {.fd = c != NULL ? dtlsudp_conn_fd(c) : -1, .events = POLLIN}};
        dtlsudp_time now = dtlsudp_now(), next = dtlsudp_listener_next_timeout(s->listener);
        if (c != NULL && dtlsudp_conn_next_timeout(c) < next)
            next = dtlsudp_conn_next_timeout(c);
        int wait = next <= now ? 0 : next - now < 50 ? (int)(next - now) : 50;
        (void)poll(p, 2, wait);
        now = dtlsudp_now();
        (void)dtlsudp_listener_process(s->listener, now);
        if (c == NULL)
            (void)dtlsudp_listener_accept(s->listener, 0, &c);
        if (c == NULL)
            continue;
        if (p[1].revents != 0)
            (void)dtlsudp_conn_process(c, now);
        while (dtlsudp_conn_read(c, buf, sizeof(buf), &len, 0) == DTLSUDP_OK)
            (void)dtlsudp_conn_write(c, buf, len);
    }
    dtlsudp_conn_free(c);
    return NULL;
}

/* ------------------------------------------------------------------------
 * Setup
 * ------------------------------------------------------------------------ */

static uint16_t bound_port(int fd)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    if (getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
        die("getsockname");
    return ntohs(a.sin_port);
}

static int loopback_socket(int type, struct sockaddr_in *a)
{
    int fd = socket(AF_INET, type, 0), one = 1;
    if (fd < 0)
        die("socket");
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (type == SOCK_DGRAM) {
        int big = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    }
    return fd;
}

static SSL_CTX *tls_ctx(int server_side)
{
    SSL_CTX *ctx = SSL_CTX_new(server_side ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL ||
        SSL_CTX_use_certificate_chain_file(ctx, server_side ? opt.server_cert : opt.client_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, server_side ? opt.server_key : opt.client_key, SSL_FILETYPE_PEM) !=
            1 ||
        SSL_CTX_load_verify_locations(ctx, opt.ca, NULL) != 1)
        die("TLS context");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
}

static void start(const char *proto, server *s, endpoint *e, pthread_t *th)
{
    struct sockaddr_in a;
    char port[16];
    int one = 1;
    memset(s, 0, sizeof(*s));
    memset(e, 0, sizeof(*e));
    e->name = proto;
    e->fd = -1;
    atomic_store(&stop_server, 0);

    if (strcmp(proto, "DTLS") == 0) {
        dtlsudp_listener_config lc;
        dtlsudp_conn_config cc;
        dtlsudp_listener_config_init(&lc);
        lc.engine.cert_file = opt.server_cert;
        lc.engine.key_file = opt.server_key;
        lc.engine.ca_file = opt.ca;
        lc.demux = opt.demux;
        if (dtlsudp_listener_new("127.0.0.1:0", &lc, dtlsudp_now(), &s->listener) != DTLSUDP_OK)
            die("DTLS listener");
        snprintf(port, sizeof(port), "%u", ntohs(dtlsudp_listener_local_addr(s->listener)->sin.sin_port));
        pthread_create(th, NULL, dtls_server, s);
        dtlsudp_conn_config_init(&cc);
        cc.engine.cert_file = opt.client_cert;
        cc.engine.key_file = opt.client_key;
        cc.engine.ca_file = opt.ca;
        int ret = dtlsudp_conn_connect("127.0.0.1", port, &cc, 5000, dtlsudp_now(), &e->conn);
        if (ret != DTLSUDP_OK) {
            fprintf(stderr, "dtls-perf: DTLS connect: %s\n", dtlsudp_strerror(ret));
            exit(1);
        }
        e->send = dtls_send;
        e->recv = dtls_recv;
        return;
    }

    int stream = strcmp(proto, "UDP") != 0;
    s->fd = loopback_socket(stream ? SOCK_STREAM : SOCK_DGRAM, &a);
    if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || (stream && listen(s->fd, 4) != 0))
        die("bind");
    a.sin_port = htons(bound_port(s->fd));
    if (strcmp(proto, "TLS") == 0)
        s->tls = tls_ctx(1);
    pthread_create(th, NULL, stream ? tcp_server : udp_server, s);

    e->stream = stream;
    e->fd = loopback_socket(stream ? SOCK_STREAM : SOCK_DGRAM, &(struct sockaddr_in){0});
    if (connect(e->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        die("connect");
    if (!stream) {
        e->send = udp_send;
        e->recv = udp_recv;
        return;
    }
    setsockopt(e->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    e->send = tcp_send;
    e->recv = tcp_recv;
    if (s->tls == NULL)
        return;
    SSL_CTX *ctx = tls_ctx(0);
    e->ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);
    SSL_set_fd(e->ssl, e->fd);
    if (SSL_connect(e->ssl) != 1)
        die("TLS handshake");
    e->send = tls_send;
    e->recv = tls_recv;
}

static char notes[4][160];

static void note_params(const char *proto, endpoint *e, server *s, size_t i)
{
    if (e->conn != NULL) {
        dtlsudp_assoc *a = dtlsudp_conn_assoc(e->conn);
        snprintf(notes[i], sizeof(notes[i]), "%s: %s %s, %s demux", proto, dtlsudp_assoc_version(a),
                 dtlsudp_assoc_cipher(a),
                 dtlsudp_listener_demux(s->listener) == DTLSUDP_DEMUX_OSNET ? "osnet" : "router");
    } else if (e->ssl != NULL) {
        snprintf(notes[i], sizeof(notes[i]), "%s: %s %s", proto, SSL_get_version(e->ssl),
                 SSL_get_cipher_name(e->ssl));
    }
}

static void finish(server *s, endpoint *e, pthread_t th)
{
    if (e->conn != NULL) {
        (void)dtlsudp_conn_shutdown(e->conn);
        dtlsudp_conn_free(e->conn);
    }
    if (e->ssl != NULL) {
        SSL_shutdown(e->ssl);
        SSL_free(e->ssl);
    }
    if (e->fd >= 0)
        close(e->fd);
    atomic_store(&stop_server, 1);
    pthread_join(th, NULL);
    dtlsudp_listener_free(s->listener);
    SSL_CTX_free(s->tls);
    if (s->fd > 0)
        close(s->fd);
}

/* ------------------------------------------------------------------------
 * Measurements
 * ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct result {
    double mbps, msgs_per_s, rtt_mean, rtt_p50, rtt_p99;
    long lost_pings, lost_msgs;
} result;

static void measure(endpoint *e, result *r)
{
    uint8_t *out = malloc(opt.size), *in = malloc(MAX_SIZE);
    double *rtt = calloc((size_t)opt.pings, sizeof(double));
    long n_rtt = 0;
    if (out == NULL || in == NULL || rtt == NULL)
        die("malloc");
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < opt.size; i++)
        out[i] = (uint8_t)i;

    /* latency: one at a time */
    for (long i = 0; i < opt.pings; i++) {
        double t0 = now_us();
        if (e->send(e, out, opt.size) != 0)
            die("send");
        int got = e->recv(e, in, opt.size, 1000);
        if (got < 0)
            die("recv");
        if (got == 0) {
            r->lost_pings++;
            continue;
        }
        rtt[n_rtt++] = now_us() - t0;
    }
    qsort(rtt, (size_t)n_rtt, sizeof(double), cmp_double);
    for (long i = 0; i < n_rtt; i++)
        r->rtt_mean += rtt[i] / (double)n_rtt;
    r->rtt_p50 = n_rtt > 0 ? rtt[n_rtt / 2] : 0;
    r->rtt_p99 = n_rtt > 0 ? rtt[(n_rtt * 99) / 100] : 0;

    /* throughput: a window of messages in flight */
    long sent = 0, received = 0, in_flight = 0;
    double t0 = now_us();
    while (received + r->lost_msgs < opt.count) {
        while (in_flight < opt.window && sent < opt.count) {
            if (e->send(e, out, opt.size) != 0)
                die("send");
            sent++;
            in_flight++;
        }
        int got = e->recv(e, in, opt.size, LOSS_WAIT_MS);
        if (got < 0)
            die("recv");
        if (got == 0) {
            /* datagram loss: write the window off */
            r->lost_msgs += in_flight;
            in_flight = 0;
            continue;
        }
        received++;
        in_flight--;
    }
    double secs = (now_us() - t0) / 1e6;
    r->mbps = (double)received * (double)opt.size / secs / 1e6;
    r->msgs_per_s = (double)received / secs;
    free(out);
    free(in);
    free(rtt);
}

static void make_certs(void)
{
    snprintf(opt.dir, sizeof(opt.dir), "/tmp/dtls-perf.XXXXXX");
    if (mkdtemp(opt.dir) == NULL || testcerts_make(opt.dir) != 0)
        die("certificates");
    snprintf(opt.ca, sizeof(opt.ca), "%s/ca.pem", opt.dir);
    snprintf(opt.server_cert, sizeof(opt.server_cert), "%s/server.pem", opt.dir);
    snprintf(opt.server_key, sizeof(opt.server_key), "%s/server.key", opt.dir);
    snprintf(opt.client_cert, sizeof(opt.client_cert), "%s/client.pem", opt.dir);
    snprintf(opt.client_key, sizeof(opt.client_key), "%s/client.key", opt.dir);
}

static void remove_certs(void)
{
    static const char *files[] = {"ca.pem",     "server.pem", "server.key",   "client.pem",
                                  "client.key", "rogue.pem",  "rogue-ca.pem", "rogue.key"};
    char path[160];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", opt.dir, files[i]);
        unlink(path);
    }
    rmdir(opt.dir);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"size", required_argument, NULL, 's'},  {"count", required_argument, NULL, 'n'},
        {"pings", required_argument, NULL, 'p'}, {"window", required_argument, NULL, 'w'},
        {"demux", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0},
    };
    static const char *protos[] = {"UDP", "TCP", "TLS", "DTLS"};
    int o;
    while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (o) {
        case 's':
            opt.size = strtoul(optarg, NULL, 10);
            break;
        case 'n':
            opt.count = strtol(optarg, NULL, 10);
            break;
        case 'p':
            opt.pings = strtol(optarg, NULL, 10);
            break;
        case 'w':
            opt.window = strtol(optarg, NULL, 10);
            break;
        case 'd':
            opt.demux = strcmp(optarg, "router") == 0 ? DTLSUDP_DEMUX_ROUTER : DTLSUDP_DEMUX_OSNET;
            break;
        default:
            fprintf(stderr, "usage: dtls-perf [--size B] [--count N] [--pings N] [--window W] "
                            "[--demux osnet|router]\n");
            return 2;
        }
    }
    if (opt.size == 0 || opt.size > 1200 || opt.count <= 0 || opt.pings <= 0 || opt.window <= 0) {
        fprintf(stderr, "dtls-perf: --size 1..1200 (one DTLS record within the IPv4 MTU), counts > 0\n");
        return 2;
    }
    make_certs();
    printf("loopback echo, %zu-byte messages, %ld pings, %ld messages with window %ld\n", opt.size,
           opt.pings, opt.count, opt.window);
    printf("%-5s %10s %10s %10s %10s %10s %8s\n", "proto", "MB/s", "msg/s", "rtt_us", "p50_us", "p99_us",
           "lost");
    for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
        server s;
        endpoint e;
        pthread_t th;
        result r;
        start(protos[i], &s, &e, &th);
        note_params(protos[i], &e, &s, i);
        measure(&e, &r);
        finish(&s, &e, th);
        printf("%-5s %10.1f %10.0f %10.1f %10.1f %10.1f %8ld\n", protos[i], r.mbps, r.msgs_per_s, r.rtt_mean,
               r.rtt_p50, r.rtt_p99, r.lost_pings + r.lost_msgs);
    }
    for (size_t i = 0; i < 4; i++)
        if (notes[i][0] != '\0')
            printf("  %s\n", notes[i]);
    remove_certs();
    return 0;
}
