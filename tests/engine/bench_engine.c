/*
 * bench_engine.c - measurements, not a test (no assertions on speed):
 *   1. heap bytes per established idle association, server and client
 *      side, counting every OpenSSL allocation (CRYPTO_set_mem_functions)
 *      plus the engine's own (injected allocator);
 *   2. handshakes per second, P-256 and RSA-2048 identities, CPU time
 *      spent inside each engine (server and client side separately),
 *      full and resumed (session tickets).
 *   3. open/close cycles for a time budget;
 *   4. heap bytes per idle server association with many held (one client
 *      engine reconnects, every association from its own source
 *      address), with the record hand-off on and off (cfg.keep_ssl).
 *
 * Usage: tests/engine/bench_engine [handshakes=500] [assocs=200] [cycle_seconds=20] [held=0]
 * (0 skips a part).
 * Everything runs in one process on the in-memory network: no sockets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "engine_internal.h"
#include "testnet.h"

static tn_net net;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
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
        (void)dtlsudp_engine_receive(s->e, &c->addr, &s->addr, buf, len, tn_clock, NULL);
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

int main(int argc, char **argv)
{
    int m = argc > 1 ? atoi(argv[1]) : 500;
    int n = argc > 2 ? atoi(argv[2]) : 200;
    double budget = argc > 3 ? atof(argv[3]) : 20.0;
    int held = argc > 4 ? atoi(argv[4]) : 0;
    const testcerts *tc;

    tn_mem_init();
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
