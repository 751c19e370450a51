/*
 * gen_corpus.c - records the seed corpora of the engine fuzz targets.
 *
 * A server and one or more clients run real handshakes through the
 * fuzz_engine.h harness; every operation applied to the server (the client)
 * is appended to its program, which becomes a seed of engine_server
 * (engine_client).  The single datagrams go to the record target's corpus.
 * Randomness is deterministic per node and the PKI fixed, so each program
 * replays exactly: the generator checks that by running every program it
 * wrote through fz_run_program() and requiring the handshake to complete.
 *
 * usage: gen_corpus OUTDIR   (writes OUTDIR/{engine_server,engine_client,record}/)
 * Re-run it (and commit the result) when the engine's wire behaviour changes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_engine.h"

typedef struct rec {
    uint8_t *buf;
    size_t len, cap;
} rec;

typedef struct gnode {
    fz_node n;
    rec r;
} gnode;

static const char *outdir;

static void rec_append(rec *r, const uint8_t *p, size_t n)
{
    if (r->len + n > r->cap) {
        size_t cap = (r->cap + n) * 2;
        FZ_CHECK((r->buf = realloc(r->buf, cap)) != NULL);
        r->cap = cap;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}

static void write_file(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", outdir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        fz_fail(__FILE__, __LINE__, path);
    snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
    FZ_CHECK((f = fopen(path, "wb")) != NULL);
    FZ_CHECK(fwrite(p, 1, n, f) == n);
    FZ_CHECK(fclose(f) == 0);
}

static void start(gnode *g, int is_server, int stream, unsigned flags)
{
    uint8_t fl = (uint8_t)flags;

    memset(g, 0, sizeof(*g));
    FZ_CHECK(fz_node_init(&g->n, is_server, stream, flags) == 0);
    g->n.keep_out = 1;
    rec_append(&g->r, &fl, 1);
}

static void op(gnode *g, const uint8_t *bytes, size_t len, int apply_clock)
{
    fz_in in = {bytes, bytes + len};

    rec_append(&g->r, bytes, len);
    FZ_CHECK(fz_node_step(&g->n, &in, apply_clock) == 0);
    FZ_CHECK(in.p == in.end);
}

static void op_dgram(gnode *g, unsigned peer, const uint8_t *d, size_t len)
{
    uint8_t *b = malloc(len + 3);

    FZ_CHECK(b != NULL);
    b[0] = (uint8_t)(FZ_OP_DGRAM | peer << 3);
    b[1] = (uint8_t)(len >> 8);
    b[2] = (uint8_t)len;
    memcpy(b + 3, d, len);
    op(g, b, len + 3, 1);
    free(b);
}

static void op_simple(gnode *g, unsigned kind, unsigned arg)
{
    uint8_t b = (uint8_t)(kind | arg << 3);
    op(g, &b, 1, 1);
}

static void op_byte(gnode *g, unsigned kind, unsigned arg, uint8_t v)
{
    uint8_t b[2] = {(uint8_t)(kind | arg << 3), v};
    op(g, b, 2, 1);
}

/* Move the clock once; every node runs its timers (and records it). */
static void advance(gnode **all, int n, uint16_t ms)
{
    uint8_t b[3] = {FZ_OP_TIME, (uint8_t)(ms >> 8), (uint8_t)ms};
    int i;

    fz_clock += ms;
    for (i = 0; i < n; i++)
        op(all[i], b, sizeof(b), 0);
}

static int nrecord;

/* Deliver what `from' sent to `to' (as its peer `peer'); drop the i-th
 * datagram of this batch when bit i of drop is set.  Returns the count. */
static size_t deliver(gnode *from, gnode *to, unsigned peer, unsigned drop)
{
    size_t i, n = from->n.nout;
    fz_dgram *batch;

    if (n == 0)
        return 0;
    batch = malloc(n * sizeof(*batch));
    FZ_CHECK(batch != NULL);
    memcpy(batch, from->n.out, n * sizeof(*batch));
    from->n.nout = 0;
    for (i = 0; i < n; i++) {
        if (nrecord < 24) {
            char name[32];
            snprintf(name, sizeof(name), "dgram-%02d", nrecord++);
            write_file("record", name, batch[i].data, batch[i].len);
        }
        if (i < 32 && (drop & (1u << i)))
            continue;
        op_dgram(to, peer, batch[i].data, batch[i].len);
    }
    free(batch);
    return n;
}

/* Exchange until both sides are quiet. */
static void exchange(gnode *c, gnode *s, unsigned s_peer)
{
    int round;

    for (round = 0; round < 40; round++)
        if (deliver(c, s, s_peer, 0) + deliver(s, c, 0, 0) == 0)
            return;
    fz_fail(__FILE__, __LINE__, "exchange did not settle");
}

static void finish_and_save(gnode *g, const char *target, const char *name, int must_establish)
{
    unsigned established = 0, replayed = 0;

    established = g->n.established;
    fz_node_finish(&g->n);
    write_file(target, name, g->r.buf, g->r.len);
    /* The program must replay to the same outcome in a fresh process state. */
    fz_run_program(g->n.is_server, g->r.buf, g->r.len, &replayed);
    if (replayed != established || (must_establish && established == 0)) {
        fprintf(stderr, "%s/%s: %u established when recorded, %u on replay\n", target, name, established,
                replayed);
        exit(1);
    }
    printf("%s/%s: %zu bytes, %u established\n", target, name, g->r.len, established);
    free(g->r.buf);
}

static void reset_all(void)
{
    int i;

    (void)fz_pki_get();
    fz_clock = 1000000;
    for (i = 0; i < FZ_STREAMS; i++)
        fz_rand_reset(i);
}

/* Handshake, data both ways, client close. */
static void scenario_basic(const char *name, unsigned flags, unsigned drop_first_flight)
{
    gnode s, c;
    gnode *all[2] = {&s, &c};

    reset_all();
    start(&s, 1, 0, flags);
    start(&c, 0, 1, flags);
    op_simple(&c, FZ_OP_CONNECT, 0);
    if (drop_first_flight) {
        /* ClientHello, HelloVerifyRequest, ClientHello with cookie; the
         * server's flight is lost, the client retransmits on its timer. */
        deliver(&c, &s, 0, 0);
        deliver(&s, &c, 0, 0);
        deliver(&c, &s, 0, 0);
        deliver(&s, &c, 0, drop_first_flight);
        advance(all, 2, 1100);
    }
    exchange(&c, &s, 0);
    FZ_CHECK(s.n.established == 1 && c.n.established == 1);
    op_byte(&c, FZ_OP_WRITE, 0, 40);
    exchange(&c, &s, 0);
    op_byte(&s, FZ_OP_WRITE, 0, 60);
    exchange(&c, &s, 0);
    op_simple(&c, FZ_OP_CLOSE, 0);
    exchange(&c, &s, 0);
    finish_and_save(&s, "engine_server", name, 1);
    finish_and_save(&c, "engine_client", name, 1);
}

/* Server only: a second handshake from the same address and port after
 * the first completed (RFC 6347 4.2.8 peer restart), then idle expiry. */
static void scenario_restart(void)
{
    gnode s, c, c2;
    gnode *srv[1] = {&s};

    reset_all();
    start(&s, 1, 0, 0);
    start(&c, 0, 1, 0);
    op_simple(&c, FZ_OP_CONNECT, 0);
    exchange(&c, &s, 0);
    FZ_CHECK(s.n.established == 1);
    start(&c2, 0, 1, 0);
    op_simple(&c2, FZ_OP_CONNECT, 0);
    exchange(&c2, &s, 0);
    FZ_CHECK(s.n.established == 2);
    op_byte(&c2, FZ_OP_WRITE, 0, 20);
    exchange(&c2, &s, 0);
    advance(srv, 1, 60000);
    advance(srv, 1, 60000);
    advance(srv, 1, 60000);
    advance(srv, 1, 60000);
    advance(srv, 1, 60000);
    advance(srv, 1, 2000);
    fz_node_finish(&c.n);
    fz_node_finish(&c2.n);
    free(c.r.buf);
    free(c2.r.buf);
    finish_and_save(&s, "engine_server", "restart-idle", 1);
}

/* Server only: two clients (two ports of one address) interleaved. */
static void scenario_two_peers(void)
{
    gnode s, c, d;
    int round;

    reset_all();
    start(&s, 1, 0, 0);
    start(&c, 0, 1, 0);
    start(&d, 0, 1, 0);
    op_simple(&c, FZ_OP_CONNECT, 0);
    op_simple(&d, FZ_OP_CONNECT, 0);
    for (round = 0; round < 40; round++) {
        size_t moved = deliver(&c, &s, 0, 0) + deliver(&d, &s, 1, 0);
        /* Server output goes to whichever peer it is for. */
        size_t i, n = s.n.nout;
        fz_dgram *batch = malloc((n + 1) * sizeof(*batch));
        FZ_CHECK(batch != NULL);
        memcpy(batch, s.n.out, n * sizeof(*batch));
        s.n.nout = 0;
        moved += n;
        (void)i;
        for (i = 0; i < n; i++) {
            /* The harness does not keep the destination: replay each
             * datagram to both; the wrong one drops it (bad MAC/cookie
             * state), which is also worth having in a seed. */
            op_dgram(&c, 0, batch[i].data, batch[i].len);
            op_dgram(&d, 0, batch[i].data, batch[i].len);
        }
        free(batch);
        if (moved == 0)
            break;
    }
    op_byte(&c, FZ_OP_WRITE, 0, 10);
    op_byte(&d, FZ_OP_WRITE, 0, 11);
    deliver(&c, &s, 0, 0);
    deliver(&d, &s, 1, 0);
    op_simple(&s, FZ_OP_CLOSE_ALL, 0);
    fz_node_finish(&c.n);
    fz_node_finish(&d.n);
    free(c.r.buf);
    free(d.r.buf);
    finish_and_save(&s, "engine_server", "two-peers", 0);
}

/* Server refusing every client certificate (verify callback). */
static void scenario_refused(void)
{
    gnode s, c;

    reset_all();
    start(&s, 1, 0, FZ_F_REFUSE);
    start(&c, 0, 1, 0);
    op_simple(&c, FZ_OP_CONNECT, 0);
    exchange(&c, &s, 0);
    FZ_CHECK(s.n.established == 0);
    finish_and_save(&s, "engine_server", "refused", 0);
    finish_and_save(&c, "engine_client", "refused", 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
        perror(outdir);
        return 1;
    }
    scenario_basic("basic", 0, 0);
    scenario_basic("pinned-hostname", FZ_F_PIN | FZ_F_HOSTNAME, 0);
    scenario_basic("lost-flight", 0, 0x3);
    scenario_basic("small-mtu", FZ_F_SMALL_MTU, 0);
    scenario_basic("close-on-data", FZ_F_CLOSE_ON_DATA, 0);
    scenario_restart();
    scenario_two_peers();
    scenario_refused();
    return 0;
}
