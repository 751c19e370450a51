/*
 * testnet.c - the in-memory network, fake clock and counting allocators
 * shared by the engine tests.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/crypto.h>

#include "engine_internal.h"
#include "testnet.h"

uint64_t tn_clock = 1000000;

/* OpenSSL's DTLS timer reads gettimeofday(); the test program's definition
 * takes precedence over libc's for libssl, so that timer follows tn_clock. */
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    tv->tv_sec = (time_t)(1700000000 + tn_clock / 1000);
    tv->tv_usec = (suseconds_t)((tn_clock % 1000) * 1000);
    return 0;
}

/* ------------------------------------------------------------------------
 * Memory accounting
 * ------------------------------------------------------------------------ */

#define HDR 16

static long long ossl_live;
static unsigned long ossl_count, ossl_fail, ossl_failures;

unsigned long tn_ossl_fail_at(unsigned long k)
{
    unsigned long f = ossl_failures;
    ossl_count = 0;
    ossl_fail = k;
    ossl_failures = 0;
    return f;
}

static int ossl_should_fail(void)
{
    if (ossl_fail == 0 || ++ossl_count != ossl_fail)
        return 0;
    ossl_failures++;
    return 1;
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
    uint8_t *p;
    (void)file;
    (void)line;
    if (ossl_should_fail() || (p = malloc(n + HDR)) == NULL)
        return NULL;
    memcpy(p, &n, sizeof(n));
    ossl_live += (long long)n;
    return p + HDR;
}

static void ossl_free(void *ptr, const char *file, int line)
{
    uint8_t *p = ptr;
    size_t n;
    (void)file;
    (void)line;
    if (p == NULL)
        return;
    p -= HDR;
    memcpy(&n, p, sizeof(n));
    ossl_live -= (long long)n;
    free(p);
}

static void *ossl_realloc(void *ptr, size_t n, const char *file, int line)
{
    uint8_t *p = ptr, *q;
    size_t old;
    if (p == NULL)
        return ossl_malloc(n, file, line);
    if (n == 0) {
        ossl_free(ptr, file, line);
        return NULL;
    }
    p -= HDR;
    memcpy(&old, p, sizeof(old));
    if (ossl_should_fail() || (q = realloc(p, n + HDR)) == NULL)
        return NULL;
    memcpy(q, &n, sizeof(n));
    ossl_live += (long long)n - (long long)old;
    return q + HDR;
}

void tn_mem_init(void)
{
    if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free)) {
        fprintf(stderr, "CRYPTO_set_mem_functions failed (called too late?)\n");
        abort();
    }
}

long long tn_ossl_live_bytes(void)
{
    return ossl_live;
}

static void *alloc_cb(void *user, size_t n)
{
    tn_alloc *a = user;
    uint8_t *p;

    a->total++;
    if (a->fail_at != 0 && a->total == a->fail_at) {
        a->failures++;
        return NULL;
    }
    if ((p = malloc(n + HDR)) == NULL)
        return NULL;
    memcpy(p, &n, sizeof(n));
    a->live_bytes += (long long)n;
    a->live_count++;
    return p + HDR;
}

static void free_cb(void *user, void *ptr)
{
    tn_alloc *a = user;
    uint8_t *p = ptr;
    size_t n;

    if (p == NULL)
        return;
    p -= HDR;
    memcpy(&n, p, sizeof(n));
    a->live_bytes -= (long long)n;
    a->live_count--;
    /* Poisoned: a use after free reads garbage, not the old fields. */
    memset(p, 0xDB, n + HDR);
    free(p);
}

dtlsudp_allocator tn_allocator(tn_alloc *a)
{
    dtlsudp_allocator al;
    al.alloc = alloc_cb;
    al.free = free_cb;
    al.user = a;
    return al;
}

/* ------------------------------------------------------------------------
 * Network
 * ------------------------------------------------------------------------ */

uint64_t tn_rand(tn_net *net)
{
    /* xorshift64*: deterministic per seed. */
    uint64_t x = net->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    net->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int chance(tn_net *net, unsigned pct)
{
    return pct != 0 && tn_rand(net) % 100 < pct;
}

dtlsudp_addr tn_addr(const char *text)
{
    dtlsudp_addr a;
    if (dtlsudp_addr_parse(text, 10161, &a) != DTLSUDP_OK) {
        fprintf(stderr, "bad test address %s\n", text);
        abort();
    }
    return a;
}

static void on_event(void *user, dtlsudp_assoc *a, int event, int reason)
{
    tn_node *n = user;
    size_t len;

    switch (event) {
    case DTLSUDP_EVENT_ESTABLISHED:
        n->established++;
        n->last_assoc = a;
        break;
    case DTLSUDP_EVENT_DATA:
        n->data++;
        while (!n->no_read && dtlsudp_assoc_read(a, n->last_data, sizeof(n->last_data), &len) == DTLSUDP_OK) {
            n->last_data_len = len;
            n->data_bytes += len;
            if (n->echo)
                (void)dtlsudp_assoc_write(a, n->last_data, len, tn_clock);
        }
        if (n->close_on_data)
            dtlsudp_assoc_close(a, tn_clock);
        if (n->abort_on_data != 0)
            dtlsudp_assoc_abort(a, n->abort_on_data, tn_clock);
        break;
    case DTLSUDP_EVENT_CLOSED:
        n->closed++;
        n->last_reason = reason;
        n->last_was_established = dtlsudp_assoc_was_established(a);
        if (n->last_assoc == a)
            n->last_assoc = NULL;
        break;
    default:
        break;
    }
}

static void on_log(void *user, int level, const char *msg)
{
    tn_node *n = user;
    if (getenv("TN_DEBUG") != NULL)
        fprintf(stderr, "[node %d t=%llu] <%d> %s\n", n->index, (unsigned long long)tn_clock, level, msg);
}

void tn_init(tn_net *net, uint64_t seed)
{
    memset(net, 0, sizeof(*net));
    net->rng = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
}

tn_node *tn_add(tn_net *net, const char *addr, const tc_pair *id, const tc_pair *ca,
                const dtlsudp_engine_config *cfg_in)
{
    dtlsudp_engine_config cfg;
    tn_node *n;

    if (net->n >= TN_MAX_NODES)
        abort();
    n = &net->nodes[net->n];
    memset(n, 0, sizeof(*n));
    n->net = net;
    n->index = net->n;
    n->addr = tn_addr(addr);
    if (cfg_in != NULL)
        cfg = *cfg_in;
    else
        dtlsudp_engine_config_init(&cfg);
    if (cfg.allocator.alloc == NULL)
        cfg.allocator = tn_allocator(&n->alloc);
    cfg.on_event = on_event;
    if (cfg.log == NULL)
        cfg.log = on_log;
    cfg.user = n;
    if (dtlsudp_engine_new(&cfg, tn_clock, &n->e) != DTLSUDP_OK)
        return NULL;
    if (tc_install(dtlsudp_engine_ssl_ctx(n->e), id, ca) != 0) {
        dtlsudp_engine_free(n->e);
        return NULL;
    }
    eng_set_timer_cb(n->e, tn_timer_cb);
    net->n++;
    return n;
}

void tn_drop_node(tn_net *net, tn_node *node)
{
    (void)net;
    dtlsudp_engine_free(node->e);
    node->e = NULL;
}

void tn_free(tn_net *net)
{
    int i;
    for (i = 0; i < net->n; i++)
        if (net->nodes[i].e != NULL)
            tn_drop_node(net, &net->nodes[i]);
    free(net->flight);
    net->flight = NULL;
}

int tn_leaking_nodes(const tn_net *net)
{
    int i, leaking = 0;

    for (i = 0; i < net->n; i++)
        if (net->nodes[i].alloc.live_count != 0 || net->nodes[i].alloc.live_bytes != 0)
            leaking++;
    return leaking;
}

static int route(tn_net *net, const dtlsudp_addr *dest)
{
    int i;
    for (i = 0; i < net->n; i++)
        if (net->nodes[i].e != NULL && dtlsudp_addr_equal(&net->nodes[i].addr, dest))
            return i;
    return -1;
}

static tn_packet *flight_add(tn_net *net)
{
    if (net->nflight == net->cap) {
        size_t cap = net->cap ? net->cap * 2 : 64;
        tn_packet *f = realloc(net->flight, cap * sizeof(*f));
        if (f == NULL)
            abort();
        net->flight = f;
        net->cap = cap;
    }
    return &net->flight[net->nflight++];
}

static void collect(tn_net *net)
{
    int i;
    for (i = 0; i < net->n; i++) {
        tn_node *n = &net->nodes[i];
        uint8_t buf[TN_MAX_DGRAM];
        size_t len;
        dtlsudp_addr peer, local;
        dtlsudp_assoc *a;

        while (n->e != NULL && dtlsudp_engine_pop(n->e, buf, sizeof(buf), &len, &peer, &local, &a) == DTLSUDP_OK) {
            tn_packet *p;
            int lose = chance(net, n->loss_pct);
            if (getenv("TN_DEBUG") != NULL)
                fprintf(stderr, "sent %zu bytes from %d (type %u)%s\n", len, i, buf[0], lose ? " LOST" : "");
            if (lose) {
                net->lost++;
                continue;
            }
            p = flight_add(net);
            p->to = route(net, &peer);
            p->from = n->addr;
            p->dest = peer;
            p->len = len;
            memcpy(p->data, buf, len);
            if (chance(net, net->dup_pct)) {
                tn_packet *d = flight_add(net);
                *d = net->flight[net->nflight - 2];
                net->duplicated++;
            }
        }
    }
    if (net->reorder_pct != 0 && net->nflight > 1) {
        size_t k;
        for (k = 0; k < net->nflight; k++) {
            if (chance(net, net->reorder_pct)) {
                size_t j = (size_t)(tn_rand(net) % net->nflight);
                tn_packet tmp = net->flight[k];
                net->flight[k] = net->flight[j];
                net->flight[j] = tmp;
            }
        }
    }
}

int tn_pump(tn_net *net)
{
    size_t k, n;
    int delivered = 0;
    tn_packet *batch;

    collect(net);
    n = net->nflight;
    if (n == 0)
        return 0;
    /* Deliver this batch; replies produced meanwhile wait for the next round. */
    batch = net->flight;
    net->flight = NULL;
    net->nflight = net->cap = 0;
    for (k = 0; k < n; k++) {
        tn_packet *p = &batch[k];
        if (net->tap != NULL && !net->tap(net, p, net->tap_arg)) {
            net->lost++;
            continue;
        }
        if (p->to < 0 || net->nodes[p->to].e == NULL) {
            net->unroutable++;
            continue;
        }
        {
            int r = dtlsudp_engine_receive(net->nodes[p->to].e, &p->from, &p->dest, p->data, p->len, tn_clock, NULL);
            if (getenv("TN_DEBUG") != NULL)
                fprintf(stderr, "deliver %zu bytes %d -> %d: %d (type %u)\n", p->len, route(net, &p->from), p->to, r,
                        p->data[0]);
        }
        delivered++;
        net->delivered++;
    }
    free(batch);
    return delivered;
}

void tn_advance(tn_net *net, uint64_t limit)
{
    uint64_t t = DTLSUDP_TIME_NEVER;
    int i;

    for (i = 0; i < net->n; i++)
        if (net->nodes[i].e != NULL) {
            uint64_t d = dtlsudp_engine_next_timeout(net->nodes[i].e);
            if (d < t)
                t = d;
        }
    if (t > limit)
        t = limit;
    if (t > tn_clock)
        tn_clock = t;
    for (i = 0; i < net->n; i++)
        if (net->nodes[i].e != NULL)
            (void)dtlsudp_engine_handle_timeout(net->nodes[i].e, tn_clock);
}

int tn_run(tn_net *net, int (*done)(tn_net *, void *), void *arg, int max_rounds)
{
    int r;

    for (r = 0; r < max_rounds; r++) {
        if (done != NULL && done(net, arg))
            return 1;
        if (tn_pump(net) == 0)
            tn_advance(net, tn_clock + 60000);
    }
    return done != NULL && done(net, arg);
}

int tn_inject(tn_net *net, tn_node *to, const dtlsudp_addr *from, const uint8_t *data, size_t len,
              dtlsudp_assoc **assoc)
{
    (void)net;
    return dtlsudp_engine_receive(to->e, from, &to->addr, data, len, tn_clock, assoc);
}

dtlsudp_assoc *tn_connect(tn_net *net, tn_node *c, tn_node *s, const dtlsudp_connect_opts *opts)
{
    dtlsudp_assoc *a = NULL;
    (void)net;
    if (dtlsudp_engine_connect(c->e, &s->addr, opts, tn_clock, &a) != DTLSUDP_OK)
        return NULL;
    return a;
}

/* Take the one datagram `from' has queued and deliver it to `to'. */
static void hand_over(tn_net *net, tn_node *from, tn_node *to)
{
    uint8_t buf[TN_MAX_DGRAM];
    size_t len;

    if (dtlsudp_engine_pop(from->e, buf, sizeof(buf), &len, NULL, NULL, NULL) != DTLSUDP_OK ||
        tn_inject(net, to, &from->addr, buf, len, NULL) != DTLSUDP_OK)
        abort();
}

size_t tn_cookie_hello(tn_net *net, tn_node *c, tn_node *s, uint8_t *out, size_t cap)
{
    size_t len;

    if (tn_connect(net, c, s, NULL) == NULL)
        abort();
    hand_over(net, c, s); /* ClientHello */
    hand_over(net, s, c); /* HelloVerifyRequest */
    if (dtlsudp_engine_pop(c->e, out, cap, &len, NULL, NULL, NULL) != DTLSUDP_OK)
        abort();
    return len;
}

unsigned int tn_timer_cb(SSL *ssl, unsigned int timer_us)
{
    (void)ssl;
    if (timer_us == 0)
        return 100000;
    return timer_us >= 1600000 ? 1600000 : timer_us * 2;
}
