/*
 * bench_engine.c - measurements, not a test (no assertions on speed):
 *   1. heap bytes per established idle association, server and client
 *      side, counting every OpenSSL allocation (CRYPTO_set_mem_functions)
 *      plus the engine's own (injected allocator);
 *   2. handshakes per second, P-256 and RSA-2048 identities, CPU time
 *      spent inside each engine (server and client side separately),
 *      full and resumed (session tickets); and the server's CPU per full
 *      handshake against OpenSSL alone (SSL objects on a datagram BIO,
 *      DTLSv1_listen with HMAC-SHA256 cookies, same certificates, suite
 *      and group), batches of each interleaved, medians and the ratio.
 *   3. open/close cycles for a time budget;
 *   4. heap bytes per idle server association with many held (one client
 *      engine reconnects, every association from its own source
 *      address), with the record hand-off on and off (cfg.keep_ssl).
 *
 * Usage: tests/engine/bench_engine [handshakes=500] [assocs=200] [cycle_seconds=20] [held=0]
 * (0 skips a part).  BENCH_COMPARE_ONLY=1 runs the comparison with
 * OpenSSL alone and nothing else (for a profiler: the server's calls are
 * engine_server_call() and openssl_server_call()).
 * Everything runs in one process on the in-memory network: no sockets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "engine_internal.h"
#include "testnet.h"

static tn_net net;

/* The calling thread's CPU clock: what the calls it brackets spent, here
 * and in OpenSSL, whatever else the machine runs. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long engine_bytes(void)
{
    long long b = 0;
    int i;
    for (i = 0; i < net.n; i++)
        b += net.nodes[i].alloc.live_bytes;
    return b;
}

static int all_established(tn_net *n, void *arg)
{
    int i, want = *(int *)arg;
    for (i = 1; i <= want; i++)
        if (n->nodes[i].established < 1)
            return 0;
    return n->nodes[0].established >= (unsigned)want;
}

static int keep_buffers;
static int keep_ssl; /* 1: measure with the record hand-off off */

static void memory_per_assoc(const char *label, const tc_pair *sid, const tc_pair *cid, int n)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;
    long long b0, e0, b1, b2, e2;
    tn_node *s;
    int i;

    tn_init(&net, 5);
    dtlsudp_engine_config_init(&cfg);
    cfg.idle_timeout = DTLSUDP_TIME_NEVER;
    cfg.keep_ssl = keep_ssl;
    s = tn_add(&net, "127.0.0.1:10161", sid, &tc->ca, &cfg);
    for (i = 0; i < n; i++) {
        char addr[40];
        snprintf(addr, sizeof(addr), "127.0.%d.%d:40000", 1 + i / 200, 1 + i % 200);
        if (tn_add(&net, addr, cid, &tc->ca, &cfg) == NULL) {
            fprintf(stderr, "node %d failed\n", i);
            exit(1);
        }
    }
    for (i = 0; i < net.n; i++)
        eng_set_keep_buffers(net.nodes[i].e, keep_buffers);
    /* Warm up the server's listen SSL with one association, then close it. */
    tn_connect(&net, &net.nodes[1], s, NULL);
    while (net.nodes[1].established == 0)
        tn_pump(&net);
    tn_pump(&net);
    dtlsudp_assoc_close(dtlsudp_engine_find(net.nodes[1].e, &s->addr), tn_clock);
    tn_pump(&net);
    tn_pump(&net);
    net.nodes[1].established = 0;
    s->established = 0;

    b0 = tn_ossl_live_bytes() + engine_bytes();
    e0 = s->alloc.live_bytes;
    for (i = 1; i <= n; i++)
        tn_connect(&net, &net.nodes[i], s, NULL);
    if (!tn_run(&net, all_established, &n, 10000)) {
        fprintf(stderr, "not all established\n");
        exit(1);
    }
    for (i = 0; i < 5; i++)
        tn_pump(&net);
    b1 = tn_ossl_live_bytes() + engine_bytes();
    /* Drop the client ends silently: what remains is the server's. */
    for (i = 1; i <= n; i++)
        dtlsudp_assoc_abort(dtlsudp_engine_find(net.nodes[i].e, &s->addr), DTLSUDP_ERR_CLOSED, tn_clock);
    b2 = tn_ossl_live_bytes() + engine_bytes();
    e2 = s->alloc.live_bytes;
    printf("memory %-8s %s%s %d idle associations: server %lld bytes/assoc (engine allocator %lld), "
           "client %lld bytes/assoc\n",
           label, keep_ssl ? "(hand-off off) " : "(hand-off on)  ", keep_buffers ? "(buffers kept)    " : "(buffers released)", n,
           (b2 - b0) / n, (e2 - e0) / n, (b1 - b2) / n);
    tn_free(&net);
}

/* Move every datagram of `from' to `to', as sent from `as'. */
static void relay(dtlsudp_engine *from, dtlsudp_engine *to, const dtlsudp_addr *as, const dtlsudp_addr *dest)
{
    static uint8_t buf[TN_MAX_DGRAM];
    size_t len;

    while (dtlsudp_engine_pop(from, buf, sizeof(buf), &len, NULL, NULL, NULL) == DTLSUDP_OK)
        (void)dtlsudp_engine_receive(to, as, dest, buf, len, tn_clock, NULL);
}

/* Server-side bytes per idle association with n held: one client engine
 * makes every handshake and drops its end quietly, each from its own
 * source address (10.x.y.z), so only the server keeps state. */
static void memory_held(int n, int keep)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config scfg, ccfg;
    dtlsudp_addr saddr = tn_addr("127.0.0.1:10161"), src;
    long long b0, b1, e0, e1;
    tn_node *s, *c;
    double t0;
    int i, k;

    tn_init(&net, 11);
    dtlsudp_engine_config_init(&scfg);
    scfg.idle_timeout = DTLSUDP_TIME_NEVER;
    scfg.max_assocs = (size_t)n + 256;
    scfg.keep_ssl = keep;
    dtlsudp_engine_config_init(&ccfg);
    ccfg.idle_timeout = DTLSUDP_TIME_NEVER;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &scfg);
    c = tn_add(&net, "127.0.0.1:40000", &tc->client, &tc->ca, &ccfg);
    b0 = tn_ossl_live_bytes() + s->alloc.live_bytes + c->alloc.live_bytes;
    e0 = s->alloc.live_bytes;
    t0 = mono_now();
    for (i = 0; i < n; i++) {
        dtlsudp_assoc *ca = NULL;
        src = tn_addr("10.0.0.1:40000");
        src.sin.sin_addr.s_addr = htonl(0x0a000000u + 1u + (uint32_t)i);
        if (dtlsudp_engine_connect(c->e, &saddr, NULL, tn_clock, &ca) != DTLSUDP_OK) {
            fprintf(stderr, "connect %d failed\n", i);
            exit(1);
        }
        for (k = 0; k < 20 && dtlsudp_assoc_state(ca) != DTLSUDP_STATE_ESTABLISHED; k++) {
            relay(c->e, s->e, &src, &saddr);
            relay(s->e, c->e, &saddr, &src);
        }
        relay(c->e, s->e, &src, &saddr);
        if (dtlsudp_assoc_state(ca) != DTLSUDP_STATE_ESTABLISHED) {
            fprintf(stderr, "association %d not established\n", i);
            exit(1);
        }
        dtlsudp_assoc_abort(ca, DTLSUDP_ERR_CLOSED, tn_clock);
    }
    b1 = tn_ossl_live_bytes() + s->alloc.live_bytes + c->alloc.live_bytes;
    e1 = s->alloc.live_bytes;
    printf("held      %s %d idle server associations: %lld bytes/assoc (engine allocator %lld), %zu in the "
           "table, %.1f s to open\n",
           keep ? "(hand-off off)    " : "(hand-off on)     ", n, (b1 - b0) / n, (e1 - e0) / n,
           eng_count(s->e), mono_now() - t0);
    tn_free(&net);
}

/* Every server-side engine call the handshake benchmarks time, by one
 * name a profiler can select. */
static __attribute__((noinline)) void engine_server_call(tn_node *s, tn_node *c, const uint8_t *buf, size_t len)
{
    (void)dtlsudp_engine_receive(s->e, &c->addr, &s->addr, buf, len, tn_clock, NULL);
}

typedef struct timed {
    double server_cpu, client_cpu;
} timed;

/* Move datagrams both ways, timing the CPU spent inside each engine. */
static int pump_timed(tn_node *s, tn_node *c, timed *t)
{
    uint8_t buf[TN_MAX_DGRAM];
    size_t len;
    dtlsudp_addr peer;
    int moved = 0;
    double t0;

    while (dtlsudp_engine_pop(c->e, buf, sizeof(buf), &len, &peer, NULL, NULL) == DTLSUDP_OK) {
        t0 = cpu_now();
        engine_server_call(s, c, buf, len);
        t->server_cpu += cpu_now() - t0;
        moved++;
    }
    while (dtlsudp_engine_pop(s->e, buf, sizeof(buf), &len, &peer, NULL, NULL) == DTLSUDP_OK) {
        t0 = cpu_now();
        (void)dtlsudp_engine_receive(c->e, &s->addr, &c->addr, buf, len, tn_clock, NULL);
        t->client_cpu += cpu_now() - t0;
        moved++;
    }
    return moved;
}

/* resume: engines with session tickets; every handshake after the first
 * offers the session the previous one left (abbreviated handshakes). */
static void handshake_rate(const char *label, const tc_pair *sid, const tc_pair *cid, int m, int resume)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;
    dtlsudp_connect_opts opts;
    uint8_t session[8192];
    size_t session_len = 0;
    tn_node *s, *c;
    timed t = {0, 0};
    double w0, wall;
    int i, resumed = 0;

    tn_init(&net, 6);
    dtlsudp_engine_config_init(&cfg);
    cfg.session_tickets = resume;
    s = tn_add(&net, "127.0.0.1:10161", sid, &tc->ca, &cfg);
    c = tn_add(&net, "127.0.0.1:40000", cid, &tc->ca, &cfg);
    w0 = mono_now();
    for (i = 0; i < m; i++) {
        dtlsudp_assoc *ca = NULL;
        double t0 = cpu_now();
        memset(&opts, 0, sizeof(opts));
        opts.session = session_len > 0 ? session : NULL;
        opts.session_len = session_len;
        if (dtlsudp_engine_connect(c->e, &s->addr, &opts, tn_clock, &ca) != DTLSUDP_OK)
            exit(1);
        t.client_cpu += cpu_now() - t0;
        while (c->established != (unsigned)i + 1 || s->established != (unsigned)i + 1)
            if (pump_timed(s, c, &t) == 0) {
                fprintf(stderr, "handshake %d stalled\n", i);
                exit(1);
            }
        resumed += dtlsudp_assoc_resumed(ca);
        /* the next session (not timed) and close (not timed) */
        if (resume && dtlsudp_assoc_session(ca, session, sizeof(session), &session_len) != DTLSUDP_OK)
            session_len = 0;
        dtlsudp_assoc_close(ca, tn_clock);
        tn_pump(&net);
        tn_pump(&net);
    }
    wall = mono_now() - w0;
    printf("handshake %-8s %s %d handshakes (%d resumed): server %.3f ms CPU each (%.0f/s per core), "
           "client %.3f ms, both %.3f ms; wall %.1f s incl. close\n",
           label, resume ? "tickets" : "full   ", m, resumed, 1e3 * t.server_cpu / m, m / t.server_cpu,
           1e3 * t.client_cpu / m, 1e3 * (t.server_cpu + t.client_cpu) / m, wall);
    tn_free(&net);
}

/* CPU per application datagram: client writes, server echoes from inside
 * the DATA event. */
static void data_path(int msgs)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c;
    dtlsudp_assoc *ca;
    uint8_t payload[200];
    double t0, cpu;
    int i;

    dtlsudp_engine_config cfg;

    tn_init(&net, 9);
    dtlsudp_engine_config_init(&cfg);
    cfg.keep_ssl = keep_ssl;
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, &cfg);
    c = tn_add(&net, "127.0.0.1:40000", &tc->client, &tc->ca, &cfg);
    eng_set_keep_buffers(s->e, keep_buffers);
    eng_set_keep_buffers(c->e, keep_buffers);
    ca = tn_connect(&net, c, s, NULL);
    while (c->established == 0 || s->established == 0)
        tn_pump(&net);
    tn_pump(&net);
    s->echo = 1;
    memset(payload, 'p', sizeof(payload));
    t0 = cpu_now();
    for (i = 0; i < msgs; i++) {
        (void)dtlsudp_assoc_write(ca, payload, sizeof(payload), tn_clock);
        tn_pump(&net);
        tn_pump(&net);
    }
    cpu = cpu_now() - t0;
    printf("data      %s%s %d x 200-byte echo round trips: %.2f us CPU per round trip (4 record "
           "operations), %u echoes\n",
           keep_ssl ? "(hand-off off) " : "(hand-off on)  ", keep_buffers ? "(buffers kept)    " : "(buffers released)",
           msgs, 1e6 * cpu / msgs, c->data);
    tn_free(&net);
}

/* The stateless path: cookie-less ClientHellos from distinct addresses,
 * each answered with a HelloVerifyRequest. */
static void cookie_gate(int hellos)
{
    const testcerts *tc = tc_get();
    tn_node *s, *g;
    uint8_t hello[TN_MAX_DGRAM], out[TN_MAX_DGRAM];
    size_t hlen, len;
    dtlsudp_stats st;
    long long ossl0, eng0;
    double t0, cpu;
    int i;

    tn_init(&net, 10);
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    g = tn_add(&net, "127.0.0.1:40000", &tc->client, &tc->ca, NULL);
    tn_connect(&net, g, s, NULL);
    dtlsudp_engine_pop(g->e, hello, sizeof(hello), &hlen, NULL, NULL, NULL);
    tn_inject(&net, s, &g->addr, hello, hlen, NULL); /* warm up the listen SSL */
    dtlsudp_engine_pop(s->e, out, sizeof(out), &len, NULL, NULL, NULL);
    ossl0 = tn_ossl_live_bytes();
    eng0 = s->alloc.live_bytes;
    t0 = cpu_now();
    for (i = 0; i < hellos; i++) {
        dtlsudp_addr from;
        memset(&from, 0, sizeof(from));
        from.sin.sin_family = AF_INET;
        from.sin.sin_addr.s_addr = htonl(0x0a000000u + (unsigned)i);
        from.sin.sin_port = htons((uint16_t)(1024 + i % 60000));
        dtlsudp_engine_receive(s->e, &from, NULL, hello, hlen, tn_clock, NULL);
        dtlsudp_engine_pop(s->e, out, sizeof(out), &len, NULL, NULL, NULL);
    }
    cpu = cpu_now() - t0;
    dtlsudp_engine_get_stats(s->e, &st);
    printf("cookies   %d cookie-less ClientHellos from distinct addresses: %.1f us CPU each (%.0f/s per core), "
           "%llu HelloVerifyRequests, heap change %lld bytes (OpenSSL) + %lld (engine)\n",
           hellos, 1e6 * cpu / hellos, hellos / cpu, (unsigned long long)st.cookies_sent,
           tn_ossl_live_bytes() - ossl0, s->alloc.live_bytes - eng0);
    tn_free(&net);
}

static void cycles(double budget)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c;
    unsigned long n = 0;
    double t0;

    tn_init(&net, 8);
    s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, NULL);
    c = tn_add(&net, "127.0.0.1:40000", &tc->client, &tc->ca, NULL);
    t0 = mono_now();
    while (n < 100000 && mono_now() - t0 < budget) {
        dtlsudp_assoc *ca = tn_connect(&net, c, s, NULL);
        unsigned closed = s->closed;
        if (ca == NULL)
            exit(1);
        while (c->established == n)
            tn_pump(&net);
        dtlsudp_assoc_close(ca, tn_clock);
        while (s->closed == closed)
            tn_pump(&net);
        n++;
    }
    printf("cycles    P-256    %lu open/close cycles in %.1f s (%.0f/s), engine live bytes after: %lld\n", n,
           mono_now() - t0, n / (mono_now() - t0), s->alloc.live_bytes + c->alloc.live_bytes);
    tn_free(&net);
}

/* ------------------------------------------------------------------------
 * OpenSSL alone: the baseline for the server's CPU per handshake
 * ------------------------------------------------------------------------ */

/* One direction of the in-memory link: whole datagrams, first in first
 * out (BIO_s_mem would merge the datagrams of a flight). */
#define OB_QUEUE_LEN 32
typedef struct ob_queue {
    size_t len[OB_QUEUE_LEN];
    uint8_t data[OB_QUEUE_LEN][TN_MAX_DGRAM];
    int head, count;
} ob_queue;

/* A side's datagram BIO reads from `in' and writes to `out'. */
typedef struct ob_link {
    ob_queue *in, *out;
} ob_link;

static int ob_write(BIO *b, const char *data, int len)
{
    ob_link *l = BIO_get_data(b);
    ob_queue *q = l->out;
    int slot;

    BIO_clear_retry_flags(b);
    if (len < 0 || (size_t)len > TN_MAX_DGRAM || q->count == OB_QUEUE_LEN)
        return len; /* lost, as UDP would lose it */
    slot = (q->head + q->count) % OB_QUEUE_LEN;
    memcpy(q->data[slot], data, (size_t)len);
    q->len[slot] = (size_t)len;
    q->count++;
    return len;
}

static int ob_read(BIO *b, char *buf, int cap)
{
    ob_link *l = BIO_get_data(b);
    ob_queue *q = l->in;
    size_t n;

    BIO_clear_retry_flags(b);
    if (q->count == 0 || cap < 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    n = q->len[q->head] < (size_t)cap ? q->len[q->head] : (size_t)cap;
    memcpy(buf, q->data[q->head], n);
    q->head = (q->head + 1) % OB_QUEUE_LEN;
    q->count--;
    return (int)n;
}

static long ob_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    ob_link *l = BIO_get_data(b);

    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
        return 1;
    case BIO_CTRL_PENDING:
        return l->in->count > 0 ? (long)l->in->len[l->in->head] : 0;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        return DTLSUDP_IPV4_OVERHEAD; /* as the engine's BIO reports for IPv4 */
    default:
        return 0;
    }
}

static int ob_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

typedef struct ob_bench {
    SSL_CTX *sctx, *cctx; /* made once per side */
    BIO_METHOD *method;
    ob_queue to_server, to_client;
    ob_link server_link, client_link;
    BIO_ADDR *listen_client;
    uint8_t cookie_secret[DTLSUDP_COOKIE_SECRET_LEN];
    dtlsudp_addr client_addr; /* what the cookie binds, as the engine's does */
} ob_bench;

static ob_bench *ob_current; /* the cookie callbacks' context */

/* HMAC-SHA256 over (family, address, port), one HMAC() call per cookie. */
static int ob_cookie(uint8_t *out, unsigned *outlen)
{
    const dtlsudp_addr *peer = &ob_current->client_addr;
    uint8_t msg[2 + 4 + 2];

    msg[0] = (uint8_t)(peer->sa.sa_family >> 8);
    msg[1] = (uint8_t)peer->sa.sa_family;
    memcpy(msg + 2, &peer->sin.sin_addr, 4);
    memcpy(msg + 6, &peer->sin.sin_port, 2);
    return HMAC(EVP_sha256(), ob_current->cookie_secret, sizeof(ob_current->cookie_secret), msg, sizeof(msg),
                out, outlen) != NULL;
}

static int ob_cookie_generate(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    (void)ssl;
    return ob_cookie(cookie, len);
}

static int ob_cookie_verify(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    uint8_t want[EVP_MAX_MD_SIZE];
    unsigned wlen = 0;

    (void)ssl;
    return ob_cookie(want, &wlen) && wlen == len && CRYPTO_memcmp(want, cookie, len) == 0;
}

/* The engine's protocol settings (config.c), nothing of its machinery:
 * DTLS 1.2, its default suites with the server's preference, no
 * tickets, no session cache, no MTU query; mutual authentication
 * verified to the same CA with the same depth. */
static SSL_CTX *ob_ctx_new(const tc_pair *id, const tc_pair *ca, int server)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());

    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL") || tc_install(ctx, id, ca) != 0) {
        fprintf(stderr, "baseline SSL_CTX failed\n");
        exit(1);
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);
    if (server) {
        SSL_CTX_set_cookie_generate_cb(ctx, ob_cookie_generate);
        SSL_CTX_set_cookie_verify_cb(ctx, ob_cookie_verify);
    }
    return ctx;
}

static void ob_init(ob_bench *ob, const tc_pair *sid, const tc_pair *cid)
{
    const testcerts *tc = tc_get();

    memset(ob, 0, sizeof(*ob));
    ob->sctx = ob_ctx_new(sid, &tc->ca, 1);
    ob->cctx = ob_ctx_new(cid, &tc->ca, 0);
    ob->method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "baseline datagram");
    if (ob->method == NULL || !BIO_meth_set_write(ob->method, ob_write) ||
        !BIO_meth_set_read(ob->method, ob_read) || !BIO_meth_set_ctrl(ob->method, ob_ctrl) ||
        !BIO_meth_set_create(ob->method, ob_create) || (ob->listen_client = BIO_ADDR_new()) == NULL ||
        RAND_bytes(ob->cookie_secret, sizeof(ob->cookie_secret)) != 1) {
        fprintf(stderr, "baseline setup failed\n");
        exit(1);
    }
    ob->server_link.in = &ob->to_server;
    ob->server_link.out = &ob->to_client;
    ob->client_link.in = &ob->to_client;
    ob->client_link.out = &ob->to_server;
    ob->client_addr = tn_addr("127.0.0.1:40000");
}

static void ob_free(ob_bench *ob)
{
    SSL_CTX_free(ob->sctx);
    SSL_CTX_free(ob->cctx);
    BIO_meth_free(ob->method);
    BIO_ADDR_free(ob->listen_client);
}

static SSL *ob_ssl_new(ob_bench *ob, SSL_CTX *ctx, ob_link *link)
{
    SSL *ssl = SSL_new(ctx);
    BIO *bio = BIO_new(ob->method);

    if (ssl == NULL || bio == NULL) {
        fprintf(stderr, "baseline SSL failed\n");
        exit(1);
    }
    BIO_set_data(bio, link);
    SSL_set_bio(ssl, bio, bio);
    DTLS_set_link_mtu(ssl, 1500);
    return ssl;
}

/* The server's side of one step, by one name a profiler can select:
 * make its SSL (*ssl NULL), run the cookie exchange until a cookie
 * verifies, then the handshake; free the SSL (done).  Returns 1 once
 * the handshake is complete. */
static __attribute__((noinline)) int openssl_server_call(ob_bench *ob, SSL **ssl, int *listened, int done)
{
    int r;

    if (done) {
        /* The client's close_notify, then the SSL goes, as the engine's
         * association does when it reads one. */
        while (ob->to_server.count > 0) {
            char buf[64];
            r = SSL_read(*ssl, buf, sizeof(buf));
            if (r > 0 || SSL_get_error(*ssl, r) != SSL_ERROR_ZERO_RETURN) {
                fprintf(stderr, "baseline server: no close_notify\n");
                exit(1);
            }
        }
        SSL_free(*ssl);
        *ssl = NULL;
        return 1;
    }
    if (*ssl == NULL) {
        *ssl = ob_ssl_new(ob, ob->sctx, &ob->server_link);
        SSL_set_accept_state(*ssl);
        *listened = 0;
        return 0;
    }
    if (!*listened) {
        r = DTLSv1_listen(*ssl, ob->listen_client);
        if (r < 0) {
            fprintf(stderr, "baseline DTLSv1_listen failed\n");
            exit(1);
        }
        *listened = r == 1;
        if (r == 0)
            return 0;
    }
    r = SSL_do_handshake(*ssl);
    if (r != 1 && SSL_get_error(*ssl, r) != SSL_ERROR_WANT_READ) {
        fprintf(stderr, "baseline server handshake failed: %s\n", ERR_reason_error_string(ERR_get_error()));
        exit(1);
    }
    return r == 1;
}

/* One full handshake, closed by the client; returns the server's CPU
 * seconds.  With `keep', the server's SSL is handed back instead. */
static double ob_handshake(ob_bench *ob, SSL **keep)
{
    SSL *server = NULL, *client;
    int listened = 0, server_done = 0, client_done = 0, rounds, r;
    double t0, cpu = 0;

    ob_current = ob;
    client = ob_ssl_new(ob, ob->cctx, &ob->client_link);
    SSL_set_connect_state(client);
    t0 = cpu_now();
    (void)openssl_server_call(ob, &server, &listened, 0);
    cpu += cpu_now() - t0;
    for (rounds = 0; rounds < 50 && !(server_done && client_done); rounds++) {
        if (!client_done) {
            r = SSL_do_handshake(client);
            client_done = r == 1;
            if (r != 1 && SSL_get_error(client, r) != SSL_ERROR_WANT_READ) {
                fprintf(stderr, "baseline client handshake failed: %s\n",
                        ERR_reason_error_string(ERR_get_error()));
                exit(1);
            }
        }
        while (ob->to_server.count > 0) {
            t0 = cpu_now();
            server_done = openssl_server_call(ob, &server, &listened, 0);
            cpu += cpu_now() - t0;
        }
    }
    if (!server_done || !client_done || ob->to_client.count != 0) {
        fprintf(stderr, "baseline handshake stalled\n");
        exit(1);
    }
    if (SSL_get_verify_result(server) != X509_V_OK || SSL_get_verify_result(client) != X509_V_OK ||
        SSL_get0_peer_certificate(server) == NULL || SSL_session_reused(server)) {
        fprintf(stderr, "baseline handshake not a full, mutually verified one\n");
        exit(1);
    }
    if (keep != NULL) {
        SSL_free(client);
        *keep = server;
        return cpu;
    }
    (void)SSL_shutdown(client);
    SSL_free(client);
    t0 = cpu_now();
    (void)openssl_server_call(ob, &server, &listened, 1);
    cpu += cpu_now() - t0;
    return cpu;
}

/* The group the server chose, from the ServerKeyExchange a client reads
 * (named_curve after the 12-byte DTLS handshake header). */
static int probed_group;

static void probe_group_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
                           void *arg)
{
    const uint8_t *p = buf;

    (void)version;
    (void)ssl;
    (void)arg;
    if (!write_p && content_type == SSL3_RT_HANDSHAKE && len > 15 && p[0] == 12 && p[12] == 3)
        probed_group = (p[13] << 8) | p[14];
}

static const char *group_name(int id)
{
    switch (id) {
    case 0x17:
        return "P-256";
    case 0x18:
        return "P-384";
    case 0x19:
        return "P-521";
    case 0x1d:
        return "X25519";
    case 0x1e:
        return "X448";
    default:
        return "?";
    }
}

/* k full handshakes through the engines, each closed by the client;
 * returns the server's CPU seconds (the client's are not counted). */
static double engine_batch(tn_node *s, tn_node *c, int k)
{
    timed t = {0, 0};
    int i;

    for (i = 0; i < k; i++) {
        dtlsudp_assoc *ca = NULL;
        unsigned want = c->established + 1;
        if (dtlsudp_engine_connect(c->e, &s->addr, NULL, tn_clock, &ca) != DTLSUDP_OK)
            exit(1);
        while (c->established != want || s->established != want)
            if (pump_timed(s, c, &t) == 0) {
                fprintf(stderr, "handshake %d stalled\n", i);
                exit(1);
            }
        /* The server reads the close_notify and frees the association:
         * counted, as the baseline's server counts freeing its SSL. */
        dtlsudp_assoc_close(ca, tn_clock);
        while (pump_timed(s, c, &t) > 0)
            ;
        if (s->closed != want) {
            fprintf(stderr, "association %d not closed\n", i);
            exit(1);
        }
    }
    return t.server_cpu;
}

static double ob_batch(ob_bench *ob, int k)
{
    double cpu = 0;
    int i;

    for (i = 0; i < k; i++)
        cpu += ob_handshake(ob, NULL);
    return cpu;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One handshake each, not timed, learning what each negotiated. */
static void compare_probe(const char *label, tn_node *s, tn_node *c, ob_bench *ob)
{
    SSL_CTX *cctx = dtlsudp_engine_ssl_ctx(c->e);
    const char *engine_cipher;
    dtlsudp_assoc *ca;
    int engine_group, ob_group;
    SSL *server = NULL;

    SSL_CTX_set_msg_callback(cctx, probe_group_cb);
    probed_group = 0;
    ca = tn_connect(&net, c, s, NULL);
    while (c->established == 0 || s->established == 0)
        if (tn_pump(&net) == 0) {
            fprintf(stderr, "probe handshake stalled\n");
            exit(1);
        }
    engine_cipher = dtlsudp_assoc_cipher(ca);
    engine_group = probed_group;
    dtlsudp_assoc_close(ca, tn_clock);
    tn_pump(&net);
    tn_pump(&net);
    SSL_CTX_set_msg_callback(cctx, NULL);

    /* The baseline's probe: the same handshake, its client listening. */
    SSL_CTX_set_msg_callback(ob->cctx, probe_group_cb);
    probed_group = 0;
    (void)ob_handshake(ob, &server);
    ob_group = probed_group;
    printf("compare   %-8s negotiated: engine %s, %s; OpenSSL alone %s, %s\n", label,
           engine_cipher != NULL ? engine_cipher : "?", group_name(engine_group), SSL_get_cipher_name(server),
           group_name(ob_group));
    if (engine_cipher == NULL || strcmp(engine_cipher, SSL_get_cipher_name(server)) != 0 ||
        engine_group != ob_group) {
        fprintf(stderr, "the baseline negotiated something else than the engine\n");
        exit(1);
    }
    SSL_free(server);
    SSL_CTX_set_msg_callback(ob->cctx, NULL);
}

#define COMPARE_MAX_BATCHES 64

/* The server's CPU per full handshake, engine against OpenSSL alone:
 * batches of `per_batch' handshakes, engine then OpenSSL, `batches'
 * times, so that a busy machine weighs on both alike. */
static void compare_with_openssl(const char *label, const tc_pair *sid, const tc_pair *cid, int batches,
                                 int per_batch)
{
    const testcerts *tc = tc_get();
    double eng[COMPARE_MAX_BATCHES], ossl[COMPARE_MAX_BATCHES], ratio[COMPARE_MAX_BATCHES];
    double eng_med, ossl_med;
    dtlsudp_engine_config cfg;
    ob_bench ob;
    tn_node *s, *c;
    int b;

    if (batches > COMPARE_MAX_BATCHES)
        batches = COMPARE_MAX_BATCHES;
    tn_init(&net, 12);
    dtlsudp_engine_config_init(&cfg);
    cfg.session_tickets = 0;
    s = tn_add(&net, "127.0.0.1:10161", sid, &tc->ca, &cfg);
    c = tn_add(&net, "127.0.0.1:40000", cid, &tc->ca, &cfg);
    ob_init(&ob, sid, cid);
    compare_probe(label, s, c, &ob);
    for (b = 0; b < batches; b++) {
        eng[b] = engine_batch(s, c, per_batch) / per_batch;
        ossl[b] = ob_batch(&ob, per_batch) / per_batch;
        ratio[b] = eng[b] / ossl[b];
    }
    eng_med = median(eng, batches);
    ossl_med = median(ossl, batches);
    printf("compare   %-8s full, server CPU per handshake, median of %d interleaved batches of %d: engine "
           "%.3f ms, OpenSSL alone %.3f ms, ratio %.3f (median of batch ratios %.3f)\n",
           label, batches, per_batch, 1e3 * eng_med, 1e3 * ossl_med, eng_med / ossl_med, median(ratio, batches));
    ob_free(&ob);
    tn_free(&net);
}

int main(int argc, char **argv)
{
    int m = argc > 1 ? atoi(argv[1]) : 500;
    int n = argc > 2 ? atoi(argv[2]) : 200;
    double budget = argc > 3 ? atof(argv[3]) : 20.0;
    int held = argc > 4 ? atoi(argv[4]) : 0;
    const int compare_only = getenv("BENCH_COMPARE_ONLY") != NULL;
    const testcerts *tc;

    tn_mem_init();
    if (compare_only) {
        n = 0;
        budget = 0;
        held = 0;
    }
    if (n > TN_MAX_NODES - 2)
        n = TN_MAX_NODES - 2;
    tc = tc_rsa();
    if (n > 0) {
        memory_per_assoc("P-256", &tc->server, &tc->client, n);
        memory_per_assoc("RSA-2048", &tc->rsa_server, &tc->rsa_client, n);
        data_path(20000);
        keep_buffers = 1;
        memory_per_assoc("P-256", &tc->server, &tc->client, n);
        data_path(20000);
        keep_buffers = 0;
        keep_ssl = 1;
        memory_per_assoc("P-256", &tc->server, &tc->client, n);
        data_path(20000);
        keep_ssl = 0;
    }
    if (m > 0) {
        int per_batch = m < 100 ? m : 100, batches = m / per_batch < 3 ? 3 : m / per_batch;
        compare_with_openssl("P-256", &tc->server, &tc->client, batches, per_batch);
        compare_with_openssl("RSA-2048", &tc->rsa_server, &tc->rsa_client, batches, per_batch);
    }
    if (m > 0 && !compare_only) {
        cookie_gate(100 * m);
        handshake_rate("P-256", &tc->server, &tc->client, m, 0);
        handshake_rate("RSA-2048", &tc->rsa_server, &tc->rsa_client, m, 0);
        handshake_rate("P-256", &tc->server, &tc->client, m, 1);
        handshake_rate("RSA-2048", &tc->rsa_server, &tc->rsa_client, m, 1);
    }
    if (budget > 0)
        cycles(budget);
    if (held > 0) {
        memory_held(held, 0);
        memory_held(held, 1);
    }
    tc_free();
    return 0;
}
