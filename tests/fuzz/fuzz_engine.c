/*
 * fuzz_engine.c - the byte-program harness for one engine (see
 * fuzz_engine.h for the input format).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "engine_internal.h"
#include "fuzz_engine.h"

static const char *const server_peers[FZ_PEERS] = {"127.0.0.1:20000", "127.0.0.1:20001", "127.0.0.2:20000",
                                                   "[::1]:20000"};
static const char *const client_peers[FZ_PEERS] = {"127.0.0.1:10161", "127.0.0.1:10162", "[::1]:10161",
                                                   "127.0.0.9:10161"};

static int node_random(void *user, uint8_t *buf, size_t len)
{
    fz_node *n = user;

    fz_rand_fill(n->stream + 2, buf, len);
    return 0;
}

static void drain_rx(fz_node *n, dtlsudp_assoc *a)
{
    uint8_t small[8], buf[16384];
    size_t len;

    /* A buffer too small first: the datagram must stay queued. */
    if (dtlsudp_assoc_read(a, small, sizeof(small), &len) == DTLSUDP_ERR_BUFFER)
        FZ_CHECK(eng_pqueue_first(&a->rx) != NULL);
    while (dtlsudp_assoc_read(a, buf, sizeof(buf), &len) == DTLSUDP_OK)
        FZ_CHECK(len <= sizeof(buf));
    (void)n;
}

static void on_event(void *user, dtlsudp_assoc *a, int event, int reason)
{
    fz_node *n = user;

    (void)reason;
    switch (event) {
    case DTLSUDP_EVENT_ESTABLISHED:
        n->established++;
        FZ_CHECK(dtlsudp_assoc_state(a) == DTLSUDP_STATE_ESTABLISHED);
        FZ_CHECK(dtlsudp_assoc_peer_cert(a) != NULL);
        break;
    case DTLSUDP_EVENT_DATA:
        n->data++;
        drain_rx(n, a);
        if (n->flags & FZ_F_CLOSE_ON_DATA)
            dtlsudp_assoc_close(a, fz_clock);
        break;
    case DTLSUDP_EVENT_CLOSED:
        n->closed++;
        FZ_CHECK(dtlsudp_err_is_assoc_fatal(reason));
        if (a == n->client_assoc)
            n->client_assoc = NULL;
        break;
    default:
        FZ_CHECK(!"unknown event");
    }
}

static int refuse_all(void *user, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    (void)user;
    (void)a;
    (void)auth;
    return 0;
}

int fz_node_init(fz_node *n, int is_server, int stream, unsigned flags)
{
    const fz_pki *pki = fz_pki_get();
    dtlsudp_engine_config cfg;
    int i;

    memset(n, 0, sizeof(*n));
    n->is_server = is_server;
    n->stream = stream;
    n->flags = flags;
    n->self = fz_addr(is_server ? "127.0.0.1:10161" : "127.0.0.1:20000");
    for (i = 0; i < FZ_PEERS; i++)
        n->peers[i] = fz_addr(is_server ? server_peers[i] : client_peers[i]);

    dtlsudp_engine_config_init(&cfg);
    cfg.allocator = fz_allocator(&n->alloc);
    cfg.random = node_random;
    cfg.on_event = on_event;
    cfg.user = n;
    if (flags & FZ_F_SMALL_CAPS) {
        cfg.max_assocs = 2;
        cfg.max_half_open = 1;
        cfg.max_per_source = 1;
    }
    if (flags & FZ_F_NO_EVICT)
        cfg.evict_idle_when_full = 0;
    if (flags & FZ_F_DTLS10)
        cfg.allow_dtls10 = 1;
    if (flags & FZ_F_SMALL_MTU)
        cfg.mtu_ipv4 = 576;
    if (flags & FZ_F_REFUSE)
        cfg.verify = refuse_all;

    fz_rand_select(stream);
    if (dtlsudp_engine_new(&cfg, fz_clock, &n->e) != DTLSUDP_OK) {
        FZ_CHECK(n->alloc.live_count == 0);
        n->e = NULL;
        return -1;
    }
    FZ_CHECK(fz_install(dtlsudp_engine_ssl_ctx(n->e), is_server ? pki->server : pki->client,
                        is_server ? pki->server_key : pki->client_key, pki->ca) == 0);
    if (is_server && (flags & FZ_F_PIN)) {
        dtlsudp_fingerprint fp;
        FZ_CHECK(dtlsudp_fingerprint_of(pki->client, 32, &fp) == DTLSUDP_OK);
        FZ_CHECK(dtlsudp_engine_add_peer_fingerprint(n->e, &fp) == DTLSUDP_OK);
    }
    return 0;
}

static void drain(fz_node *n)
{
    uint8_t buf[2048];
    size_t len;
    dtlsudp_addr peer, local;
    dtlsudp_assoc *a;
    int r;

    while ((r = dtlsudp_engine_pop(n->e, buf, sizeof(buf), &len, &peer, &local, &a)) == DTLSUDP_OK) {
        FZ_CHECK(len <= sizeof(buf));
        FZ_CHECK(peer.sa.sa_family == AF_INET || peer.sa.sa_family == AF_INET6);
        if (n->keep_out && n->nout < FZ_MAX_OUT) {
            if (n->out == NULL)
                FZ_CHECK((n->out = calloc(FZ_MAX_OUT, sizeof(*n->out))) != NULL);
            n->out[n->nout].len = len;
            memcpy(n->out[n->nout].data, buf, len);
            n->nout++;
        }
    }
    FZ_CHECK(r == DTLSUDP_ERR_AGAIN);
}

static void check_invariants(fz_node *n)
{
    dtlsudp_stats st;

    dtlsudp_engine_get_stats(n->e, &st);
    FZ_CHECK(st.assocs_now <= n->e->cfg.max_assocs);
    FZ_CHECK(st.half_open_now <= n->e->cfg.max_half_open);
    FZ_CHECK(st.assocs_now <= st.assocs_peak);
    FZ_CHECK(eng_count(n->e) == st.assocs_now);
}

static dtlsudp_assoc *assoc_of(fz_node *n, unsigned peer)
{
    if (!n->is_server && n->client_assoc != NULL)
        return dtlsudp_assoc_peer(n->client_assoc) != NULL &&
                       dtlsudp_addr_equal(dtlsudp_assoc_peer(n->client_assoc), &n->peers[peer])
                   ? n->client_assoc
                   : NULL;
    return dtlsudp_engine_find(n->e, &n->peers[peer]);
}

static void do_connect(fz_node *n, unsigned peer)
{
    const fz_pki *pki = fz_pki_get();
    dtlsudp_connect_opts opts;
    dtlsudp_fingerprint fp;
    dtlsudp_assoc *a = NULL;
    int r;

    if (n->client_assoc != NULL)
        return;
    memset(&opts, 0, sizeof(opts));
    if (n->flags & FZ_F_PIN) {
        FZ_CHECK(dtlsudp_fingerprint_of(pki->server, 20, &fp) == DTLSUDP_OK);
        opts.peer_fingerprints = &fp;
        opts.n_peer_fingerprints = 1;
    }
    if (n->flags & FZ_F_HOSTNAME)
        opts.hostname = "server.fuzz";
    opts.local = &n->self;
    r = dtlsudp_engine_connect(n->e, &n->peers[peer], &opts, fz_clock, &a);
    if (r == DTLSUDP_OK) {
        FZ_CHECK(a != NULL);
        n->client_assoc = a;
    } else {
        FZ_CHECK(a == NULL);
        FZ_CHECK(r == DTLSUDP_ERR_NOMEM || r == DTLSUDP_ERR_LIMIT || r == DTLSUDP_ERR_INVALID ||
                 dtlsudp_err_is_assoc_fatal(r) || r == DTLSUDP_ERR_CONFIG);
    }
}

int fz_node_step(fz_node *n, fz_in *in, int apply_clock)
{
    uint8_t b, wbuf[256];
    unsigned kind, arg, peer;
    size_t len;
    const uint8_t *p;
    dtlsudp_assoc *a, *got;
    int r;

    if (!fz_left(in))
        return -1;
    b = fz_u8(in);
    kind = b & 7u;
    arg = b >> 3;
    peer = arg & 3u;
    fz_rand_select(n->stream);
    switch (kind) {
    case FZ_OP_DGRAM:
        len = fz_u16(in);
        p = fz_bytes(in, len, &len);
        got = NULL;
        r = dtlsudp_engine_receive(n->e, &n->peers[peer],
                                   n->peers[peer].sa.sa_family == AF_INET ? &n->self : NULL, p, len,
                                   fz_clock, &got);
        FZ_CHECK(r == DTLSUDP_OK || r == DTLSUDP_ERR_DROPPED || dtlsudp_err_is_assoc_fatal(r) ||
                 r == DTLSUDP_ERR_NOMEM || r == DTLSUDP_ERR_CONFIG);
        if (got != NULL)
            FZ_CHECK(dtlsudp_addr_equal(dtlsudp_assoc_peer(got), &n->peers[peer]));
        break;
    case FZ_OP_TIME: {
        uint16_t ms = fz_u16(in);
        if (apply_clock) {
            if (arg & 1u) {
                dtlsudp_time t = dtlsudp_engine_next_timeout(n->e);
                if (t != DTLSUDP_TIME_NEVER && t > fz_clock && t - fz_clock < 3600u * 1000u)
                    fz_clock = t;
            } else {
                fz_clock += ms;
            }
        }
        r = dtlsudp_engine_handle_timeout(n->e, fz_clock);
        FZ_CHECK(r == DTLSUDP_OK || dtlsudp_err_is_fatal(r));
        break;
    }
    case FZ_OP_WRITE:
        len = fz_u8(in);
        if ((a = assoc_of(n, peer)) != NULL && len > 0) {
            memset(wbuf, (int)len, len);
            r = dtlsudp_assoc_write(a, wbuf, len, fz_clock);
            FZ_CHECK(r == DTLSUDP_OK || r == DTLSUDP_ERR_STATE || r == DTLSUDP_ERR_TOO_BIG ||
                     r == DTLSUDP_ERR_QUEUE_FULL || r == DTLSUDP_ERR_NOMEM);
        }
        break;
    case FZ_OP_CLOSE:
        if ((a = assoc_of(n, peer)) != NULL) {
            if (arg & 4u)
                dtlsudp_assoc_abort(a, DTLSUDP_ERR_REFUSED, fz_clock);
            else
                dtlsudp_assoc_close(a, fz_clock);
            /* Gone (a restart handshake may inherit the address). */
            FZ_CHECK(assoc_of(n, peer) != a);
        }
        break;
    case FZ_OP_CLOSE_ALL:
        dtlsudp_engine_close_all(n->e, fz_clock);
        FZ_CHECK(eng_count(n->e) == 0);
        break;
    case FZ_OP_ALLOC:
        n->alloc.fail_at = n->alloc.total + 1 + fz_u8(in);
        break;
    case FZ_OP_CONNECT:
        if (!n->is_server)
            do_connect(n, peer);
        break;
    case FZ_OP_POP_SMALL: {
        uint8_t small[256];
        size_t cap = arg * 8u;
        dtlsudp_addr pa, la;
        r = dtlsudp_engine_pop(n->e, small, cap, &len, &pa, &la, &a);
        FZ_CHECK(r == DTLSUDP_OK || r == DTLSUDP_ERR_AGAIN || r == DTLSUDP_ERR_BUFFER);
        if (r == DTLSUDP_OK)
            FZ_CHECK(len <= cap);
        break;
    }
    default:
        break;
    }
    drain(n);
    check_invariants(n);
    return 0;
}

void fz_node_finish(fz_node *n)
{
    if (n->e != NULL) {
        fz_rand_select(n->stream);
        dtlsudp_engine_close_all(n->e, fz_clock);
        FZ_CHECK(eng_count(n->e) == 0);
        drain(n);
        dtlsudp_engine_free(n->e);
        n->e = NULL;
    }
    /* Every engine allocation came back, whatever failed on the way. */
    FZ_CHECK(n->alloc.live_count == 0);
    FZ_CHECK(n->alloc.live_bytes == 0);
    free(n->out);
    n->out = NULL;
    n->nout = 0;
    ERR_clear_error();
}

void fz_run_program(int is_server, const uint8_t *data, size_t size, unsigned *established)
{
    fz_in in = {data, data + size};
    fz_node n;
    unsigned flags = fz_u8(&in);
    int stream = is_server ? 0 : 1;

    (void)fz_pki_get(); /* parsed before the streams start */
    fz_clock = 1000000;
    fz_rand_reset(stream);
    fz_rand_reset(stream + 2);
    if (fz_node_init(&n, is_server, stream, flags) == 0)
        while (fz_node_step(&n, &in, 1) == 0)
            ;
    if (established != NULL)
        *established = n.established;
    fz_node_finish(&n);
}
