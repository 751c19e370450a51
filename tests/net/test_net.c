/*
 * test_net.c - the socket layer on real UDP sockets (127.0.0.1 and ::1
 * only).  One suite, registered once per variant (IPv4/IPv6 x osnet/router,
 * plus dual-stack "[::]" listeners with IPv4 clients, and clients on
 * dual-stack sockets talking to ::ffff:127.0.0.1) through
 * cmocka_unit_test_prestate: the test functions are shared, the variant is
 * the state.
 *
 * Server and clients run in this one thread on the non-blocking API: every
 * loop polls the fds the library hands out and pumps at its deadlines.
 * Loops are bounded by a deadline (a failure, not a timing assertion: the
 * limits are generous multiples of what the work needs).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "dtlsudp.h"
#include "certs.h"

/* Generous bound for loops that wait for something. */
#define WAIT_MS 30000

typedef struct variant {
    const char *name;
    int family; /* of the client */
    int demux;
    int dual;   /* listener on "[::]" */
    int mapped; /* client on an AF_INET6 socket to ::ffff:127.0.0.1 */
} variant;

static const variant v4_osnet = {"IPv4 osnet", AF_INET, DTLSUDP_DEMUX_OSNET, 0};
static const variant v4_router = {"IPv4 router", AF_INET, DTLSUDP_DEMUX_ROUTER, 0};
static const variant v6_osnet = {"IPv6 osnet", AF_INET6, DTLSUDP_DEMUX_OSNET, 0};
static const variant v6_router = {"IPv6 router", AF_INET6, DTLSUDP_DEMUX_ROUTER, 0};
static const variant dual_osnet = {"dual-stack osnet", AF_INET, DTLSUDP_DEMUX_OSNET, 1};
static const variant dual_router = {"dual-stack router", AF_INET, DTLSUDP_DEMUX_ROUTER, 1};
static const variant mapped_osnet = {"v4-mapped client, osnet", AF_INET, DTLSUDP_DEMUX_OSNET, 0, 1};
static const variant mapped_router = {"v4-mapped client, router", AF_INET, DTLSUDP_DEMUX_ROUTER, 0, 1};

static char certdir[64];
static char path_ca[128], path_server[128], path_server_key[128], path_client[128], path_client_key[128],
    path_rogue[128], path_rogue_key[128];

/* ------------------------------------------------------------------------
 * The world: a listener, the connections it accepted, and the clients
 * ------------------------------------------------------------------------ */

typedef struct conn_list {
    dtlsudp_conn **v;
    size_t n, cap;
} conn_list;

typedef struct world {
    const variant *v;
    dtlsudp_listener *l;
    conn_list srv; /* accepted; NULL entries once freed */
    conn_list cli;
    char port[8];
    int log_lines; /* server log lines at INFO or worse */
    char last_log[256];
} world;

static void list_add(conn_list *list, dtlsudp_conn *c)
{
    if (list->n == list->cap) {
        list->cap = list->cap != 0 ? list->cap * 2 : 64;
        list->v = realloc(list->v, list->cap * sizeof(*list->v));
        assert_non_null(list->v);
    }
    list->v[list->n++] = c;
}

static void server_log(void *user, int level, const char *message)
{
    world *w = user;
    if (level <= DTLSUDP_LOG_INFO) {
        w->log_lines++;
        snprintf(w->last_log, sizeof(w->last_log), "%s", message);
    }
}

static void server_config(world *w, dtlsudp_listener_config *cfg)
{
    dtlsudp_listener_config_init(cfg);
    cfg->demux = w->v->demux;
    cfg->engine.cert_file = path_server;
    cfg->engine.key_file = path_server_key;
    cfg->engine.ca_file = path_ca;
    /* every client comes from one address, many at once */
    cfg->engine.max_per_source = 100000;
    cfg->engine.max_half_open = 4096;
    cfg->engine.max_half_open_per_source = 4096;
    /* ICMP port unreachable ends an established association after this
     * long without an authenticated datagram (test_refused) */
    cfg->engine.refused_grace = 300;
    cfg->engine.log = server_log;
    cfg->engine.user = w;
}

static void world_open(world *w, const variant *v, const dtlsudp_listener_config *custom)
{
    dtlsudp_listener_config cfg;
    memset(w, 0, sizeof(*w));
    w->v = v;
    if (custom != NULL) {
        cfg = *custom;
        cfg.engine.user = w;
    } else {
        server_config(w, &cfg);
    }
    print_message("[ %s ]\n", v->name);
    const char *addr = v->dual ? "[::]:0" : v->family == AF_INET6 ? "[::1]:0" : "127.0.0.1:0";
    int ret = dtlsudp_listener_new(addr, &cfg, dtlsudp_now(), &w->l);
    assert_int_equal(ret, DTLSUDP_OK);
    assert_int_equal(dtlsudp_listener_demux(w->l), v->demux);
    snprintf(w->port, sizeof(w->port), "%u", ntohs(dtlsudp_listener_local_addr(w->l)->sin.sin_port));
}

static void world_close(world *w)
{
    for (size_t i = 0; i < w->cli.n; i++)
        dtlsudp_conn_free(w->cli.v[i]);
    for (size_t i = 0; i < w->srv.n; i++)
        dtlsudp_conn_free(w->srv.v[i]);
    free(w->cli.v);
    free(w->srv.v);
    dtlsudp_listener_free(w->l);
}

static const char *client_host(const world *w)
{
    if (w->v->mapped)
        return "::ffff:127.0.0.1";
    return w->v->family == AF_INET6 ? "::1" : "127.0.0.1";
}

static void client_config(dtlsudp_conn_config *cfg, const char *cert, const char *key)
{
    dtlsudp_conn_config_init(cfg);
    cfg->engine.cert_file = cert;
    cfg->engine.key_file = key;
    cfg->engine.ca_file = path_ca;
}

/* Start a client without waiting (timeout 0): the poll loop drives it. */
static dtlsudp_conn *client_start(world *w, const dtlsudp_conn_config *custom)
{
    dtlsudp_conn_config cfg;
    dtlsudp_conn *c = NULL;
    if (custom != NULL)
        cfg = *custom;
    else
        client_config(&cfg, path_client, path_client_key);
    int ret = dtlsudp_conn_connect(client_host(w), w->port, &cfg, 0, dtlsudp_now(), &c);
    assert_int_equal(ret, DTLSUDP_OK);
    assert_non_null(c);
    list_add(&w->cli, c);
    return c;
}

static void forget_client(world *w, dtlsudp_conn *c)
{
    for (size_t i = 0; i < w->cli.n; i++)
        if (w->cli.v[i] == c)
            w->cli.v[i] = NULL;
}

/* One round of the event loop: poll everything (at most max_wait ms or
 * until the earliest deadline), pump, accept. */
static void world_pump(world *w, int max_wait)
{
    size_t n = 1 + w->srv.n + w->cli.n, k = 0;
    struct pollfd *p = calloc(n, sizeof(*p));
    dtlsudp_conn **who = calloc(n, sizeof(*who));
    assert_non_null(p);
    assert_non_null(who);
    dtlsudp_time now = dtlsudp_now(), next = dtlsudp_listener_next_timeout(w->l);

    p[k++] = (struct pollfd){.fd = dtlsudp_listener_fd(w->l), .events = POLLIN};
    for (size_t i = 0; i < w->srv.n + w->cli.n; i++) {
        dtlsudp_conn *c = i < w->srv.n ? w->srv.v[i] : w->cli.v[i - w->srv.n];
        if (c == NULL)
            continue;
        dtlsudp_time t = dtlsudp_conn_next_timeout(c);
        if (t < next)
            next = t;
        who[k] = c;
        p[k++] = (struct pollfd){.fd = dtlsudp_conn_fd(c), .events = POLLIN};
    }
    int wait = next <= now ? 0 : next - now < (dtlsudp_time)max_wait ? (int)(next - now) : max_wait;
    assert_true(poll(p, k, wait) >= 0 || errno == EINTR);

    now = dtlsudp_now();
    assert_int_equal(dtlsudp_listener_process(w->l, now), DTLSUDP_OK);
    for (size_t i = 1; i < k; i++) {
        if (p[i].revents != 0) /* POLLERR: an ICMP error is waiting */
            assert_int_equal(dtlsudp_conn_process(who[i], now), DTLSUDP_OK);
        else if (dtlsudp_conn_next_timeout(who[i]) <= now)
            assert_int_equal(dtlsudp_conn_handle_timeout(who[i], now), DTLSUDP_OK);
    }
    dtlsudp_conn *c;
    while (dtlsudp_listener_accept(w->l, 0, &c) == DTLSUDP_OK)
        list_add(&w->srv, c);
    free(p);
    free(who);
}

/* Echo everything the accepted connections hold. */
static void world_echo(world *w)
{
    uint8_t buf[16384];
    size_t len;
    for (size_t i = 0; i < w->srv.n; i++) {
        dtlsudp_conn *c = w->srv.v[i];
        if (c == NULL)
            continue;
        while (dtlsudp_conn_read(c, buf, sizeof(buf), &len, 0) == DTLSUDP_OK)
            assert_int_equal(dtlsudp_conn_write(c, buf, len), DTLSUDP_OK);
    }
}

/* Pump and echo until cond holds (evaluated once per round: it may consume
 * data) or the bound passes. */
#define PUMP_UNTIL(w, cond)                                                                              \
    do {                                                                                                 \
        dtlsudp_time until_ = dtlsudp_now() + WAIT_MS;                                                   \
        int ok_;                                                                                         \
        while (!(ok_ = (cond)) && dtlsudp_now() < until_) {                                              \
            world_pump((w), 50);                                                                         \
            world_echo(w);                                                                               \
        }                                                                                                \
        assert_true(ok_);                                                                                \
    } while (0)

static int established(const dtlsudp_conn *c)
{
    return dtlsudp_conn_state(c) == DTLSUDP_STATE_ESTABLISHED;
}

/* The accepted connection whose peer is the client's local address. */
static dtlsudp_conn *server_side_of(world *w, const dtlsudp_conn *client)
{
    for (size_t i = 0; i < w->srv.n; i++)
        if (w->srv.v[i] != NULL &&
            dtlsudp_addr_equal(dtlsudp_conn_peer(w->srv.v[i]), dtlsudp_conn_local(client)))
            return w->srv.v[i];
    return NULL;
}

static int read_now(dtlsudp_conn *c, char *buf, size_t cap, size_t *len)
{
    return dtlsudp_conn_read(c, (uint8_t *)buf, cap, len, 0);
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

/* The whole life of one connection, non-blocking, from a poll loop. */
static void test_echo_nonblocking(void **state)
{
    const variant *v = *state;
    world w;
    char buf[256];
    size_t len;
    world_open(&w, v, NULL);

    dtlsudp_conn *c = client_start(&w, NULL);
    assert_int_equal(dtlsudp_conn_state(c), DTLSUDP_STATE_HANDSHAKING);
    /* written while handshaking: held until ESTABLISHED */
    assert_int_equal(dtlsudp_conn_write(c, (const uint8_t *)"early", 5), DTLSUDP_OK);
    PUMP_UNTIL(&w, established(c) && w.srv.n == 1);

    dtlsudp_conn *s = w.srv.v[0];
    /* v4-mapped peers are shown as IPv4 on a dual-stack listener */
    assert_int_equal(dtlsudp_conn_peer(s)->sa.sa_family, v->family);
    assert_true(dtlsudp_addr_equal(dtlsudp_conn_peer(s), dtlsudp_conn_local(c)));
    assert_true(dtlsudp_addr_equal(dtlsudp_conn_peer(c), dtlsudp_conn_local(s)));
    assert_ptr_equal(dtlsudp_conn_listener(s), w.l);
    assert_non_null(dtlsudp_conn_assoc(s));
    assert_non_null(dtlsudp_assoc_peer_cert(dtlsudp_conn_assoc(s)));
    assert_non_null(dtlsudp_assoc_peer_cert(dtlsudp_conn_assoc(c)));
    assert_string_equal(dtlsudp_assoc_version(dtlsudp_conn_assoc(c)), "DTLSv1.2");
    assert_true(dtlsudp_conn_max_write(c) > 1000);
    if (v->demux == DTLSUDP_DEMUX_OSNET)
        assert_int_not_equal(dtlsudp_conn_fd(s), dtlsudp_listener_fd(w.l));
    else
        assert_int_equal(dtlsudp_conn_fd(s), dtlsudp_listener_fd(w.l));

    for (int i = 0; i < 3; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "datagram %d", i);
        assert_int_equal(dtlsudp_conn_write(c, (const uint8_t *)msg, strlen(msg)), DTLSUDP_OK);
    }
    const char *expect[] = {"early", "datagram 0", "datagram 1", "datagram 2"};
    for (int i = 0; i < 4; i++) {
        int ret = DTLSUDP_ERR_AGAIN;
        PUMP_UNTIL(&w, (ret = read_now(c, buf, sizeof(buf), &len)) != DTLSUDP_ERR_AGAIN);
        assert_int_equal(ret, DTLSUDP_OK);
        assert_int_equal(len, strlen(expect[i]));
        assert_memory_equal(buf, expect[i], len);
    }
    assert_int_equal(read_now(c, buf, sizeof(buf), &len), DTLSUDP_ERR_AGAIN);

    dtlsudp_conn_stats cs;
    assert_int_equal(dtlsudp_conn_get_stats(s, &cs), DTLSUDP_OK);
    assert_int_equal(cs.datagrams_read, 4);
    assert_int_equal(cs.datagrams_written, 4);
    assert_int_equal(cs.net.conns_accepted, 1);
    assert_int_equal(cs.net.engine.handshakes_completed, 1);
    if (v->demux == DTLSUDP_DEMUX_OSNET)
        assert_int_equal(cs.net.peer_sockets_now, 1);
    else
        assert_int_equal(cs.net.peer_sockets_made, 0);
    world_close(&w);
}

/* A connection announces itself ready (next_timeout 0) exactly while
 * plaintext waits: after the read that takes the last datagram it must
 * not, or every event loop built on it wakes once for nothing per
 * message. */
static void test_ready_only_while_data(void **state)
{
    const variant *v = *state;
    world w;
    char buf[256];
    size_t len;
    world_open(&w, v, NULL);

    dtlsudp_conn *c = client_start(&w, NULL);
    PUMP_UNTIL(&w, established(c) && w.srv.n == 1);
    dtlsudp_conn *s = w.srv.v[0];
    assert_int_equal(dtlsudp_conn_write(c, (const uint8_t *)"one", 3), DTLSUDP_OK);
    assert_int_equal(dtlsudp_conn_write(c, (const uint8_t *)"two", 3), DTLSUDP_OK);
    dtlsudp_conn_stats cs;
    PUMP_UNTIL(&w, dtlsudp_conn_get_stats(s, &cs) == DTLSUDP_OK && cs.datagrams_written == 2);
    /* Both echoes are on their way over loopback; let them land. */
    struct pollfd p = {.fd = dtlsudp_conn_fd(c), .events = POLLIN};
    assert_int_equal(poll(&p, 1, WAIT_MS), 1);
    usleep(20000);

    assert_int_equal(read_now(c, buf, sizeof(buf), &len), DTLSUDP_OK);
    assert_memory_equal(buf, "one", 3);
    if (dtlsudp_assoc_pending(dtlsudp_conn_assoc(c)) > 0)
        assert_int_equal(dtlsudp_conn_next_timeout(c), 0); /* "two" waits */
    else
        PUMP_UNTIL(&w, dtlsudp_assoc_pending(dtlsudp_conn_assoc(c)) > 0 ||
                           dtlsudp_conn_next_timeout(c) == 0);
    assert_int_equal(read_now(c, buf, sizeof(buf), &len), DTLSUDP_OK);
    assert_memory_equal(buf, "two", 3);
    assert_int_equal(dtlsudp_assoc_pending(dtlsudp_conn_assoc(c)), 0);
    assert_true(dtlsudp_conn_next_timeout(c) > 0);
    assert_int_equal(read_now(c, buf, sizeof(buf), &len), DTLSUDP_ERR_AGAIN);
    assert_true(dtlsudp_conn_next_timeout(c) > 0);
    world_close(&w);
}

/* Many clients at once; each gets exactly its own echoes. */
static void test_many_clients(void **state)
{
    const variant *v = *state;
    const char *env = getenv("DTLSUDP_TEST_CLIENTS");
    size_t n = env != NULL ? strtoul(env, NULL, 10) : 500;
    enum { MSGS = 2 };
    dtlsudp_listener_config lcfg;
    dtlsudp_conn_config ccfg;
    world w;

    /* A burst of handshakes on 2 shared cores (slower still under ASan):
     * datagrams the kernel drops cost retransmission rounds (1 s, 2 s, ...),
     * so allow more than the default 10 s per handshake. */
    memset(&w, 0, sizeof(w));
    w.v = v;
    server_config(&w, &lcfg);
    lcfg.engine.handshake_timeout = 4 * WAIT_MS;
    world_open(&w, v, &lcfg);
    client_config(&ccfg, path_client, path_client_key);
    ccfg.engine.handshake_timeout = 4 * WAIT_MS;

    int *sent = calloc(n, sizeof(int)), *got = calloc(n, sizeof(int));
    assert_non_null(sent);
    assert_non_null(got);
    for (size_t i = 0; i < n; i++)
        (void)client_start(&w, &ccfg);

    size_t done = 0, ended = 0;
    dtlsudp_time t0 = dtlsudp_now();
    dtlsudp_time until = dtlsudp_now() + 4 * WAIT_MS;
    while (done < n && ended == 0 && dtlsudp_now() < until) {
        world_pump(&w, 50);
        world_echo(&w);
        done = 0;
        for (size_t i = 0; i < n; i++) {
            dtlsudp_conn *c = w.cli.v[i];
            char buf[64], expect[64];
            size_t len;
            while (sent[i] < MSGS && established(c)) {
                snprintf(buf, sizeof(buf), "client %zu message %d", i, sent[i]);
                assert_int_equal(dtlsudp_conn_write(c, (const uint8_t *)buf, strlen(buf)), DTLSUDP_OK);
                sent[i]++;
            }
            int ret;
            while ((ret = read_now(c, buf, sizeof(buf) - 1, &len)) == DTLSUDP_OK) {
                buf[len] = '\0';
                snprintf(expect, sizeof(expect), "client %zu message %d", i, got[i]);
                assert_string_equal(buf, expect); /* only its own, in order */
                got[i]++;
            }
            if (ret != DTLSUDP_ERR_AGAIN) {
                ended++; /* reported below */
                break;
            }
            if (got[i] == MSGS)
                done++;
        }
    }
    if (done != n) {
        size_t closed = 0;
        for (size_t i = 0; i < n; i++)
            if (dtlsudp_conn_state(w.cli.v[i]) == DTLSUDP_STATE_CLOSED && closed++ < 5)
                print_message("client %zu: %s\n", i, dtlsudp_strerror(dtlsudp_conn_last_error(w.cli.v[i])));
        print_message("%zu of %zu done, %zu closed, %zu accepted\n", done, n, closed, w.srv.n);
    }
    assert_int_equal(done, n);
    assert_int_equal(w.srv.n, n);
    print_message("%zu clients connected and echoed in %llu ms\n", n, (unsigned long long)(dtlsudp_now() - t0));

    dtlsudp_net_stats st;
    assert_int_equal(dtlsudp_listener_get_stats(w.l, &st), DTLSUDP_OK);
    assert_int_equal(st.engine.assocs_now, n);
    assert_int_equal(st.conns_now, n);
    if (v->demux == DTLSUDP_DEMUX_OSNET) {
        assert_int_equal(st.peer_sockets_now, n);
        print_message("datagrams routed from a socket not their peer's: %llu\n",
                      (unsigned long long)st.rerouted);
    }
    free(sent);
    free(got);
    world_close(&w);
}

/* A DTLS 1.2 ClientHello without cookie, as a real client sends it first. */
static size_t make_client_hello(uint8_t *buf, size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
    assert_non_null(ctx);
    SSL *ssl = SSL_new(ctx);
    BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, rbio, wbio);
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    DTLS_set_link_mtu(ssl, 1500);
    assert_true(SSL_connect(ssl) <= 0); /* wants to read: the hello is out */
    int n = BIO_read(wbio, buf, (int)cap);
    assert_true(n > 13);
    assert_int_equal(buf[0], 22); /* handshake record */
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return (size_t)n;
}

/* Real clients get in while many sources send ClientHellos that never
 * answer the HelloVerifyRequest; the spoofers cost no state. */
static void test_spoofed_flood(void **state)
{
    const variant *v = *state;
    enum { SPOOFERS = 200, ROUNDS = 5, CLIENTS = 20 };
    uint8_t hello[2048];
    size_t hello_len = make_client_hello(hello, sizeof(hello));
    int spoof[SPOOFERS];
    dtlsudp_addr to;
    world w;
    world_open(&w, v, NULL);

    memset(&to, 0, sizeof(to));
    if (v->family == AF_INET6) {
        to.sin6.sin6_family = AF_INET6;
        to.sin6.sin6_addr = in6addr_loopback;
        to.sin6.sin6_port = htons((uint16_t)atoi(w.port));
    } else {
        to.sin.sin_family = AF_INET;
        to.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        to.sin.sin_port = htons((uint16_t)atoi(w.port));
    }
    for (int i = 0; i < SPOOFERS; i++) {
        spoof[i] = socket(v->family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        assert_true(spoof[i] >= 0);
    }
    for (int i = 0; i < CLIENTS; i++)
        (void)client_start(&w, NULL);

    int rounds = 0, all_in = 0;
    dtlsudp_time until = dtlsudp_now() + WAIT_MS;
    while (!all_in && dtlsudp_now() < until) {
        if (rounds < ROUNDS) {
            for (int i = 0; i < SPOOFERS; i++)
                (void)sendto(spoof[i], hello, hello_len, 0, &to.sa, v->family == AF_INET6 ? sizeof(to.sin6)
                                                                                            : sizeof(to.sin));
            rounds++;
        }
        world_pump(&w, 20);
        world_echo(&w);
        all_in = 1;
        for (int i = 0; i < CLIENTS; i++)
            all_in &= established(w.cli.v[i]);
    }
    assert_true(all_in);
    /* each client echoes once */
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(dtlsudp_conn_write(w.cli.v[i], (const uint8_t *)"x", 1), DTLSUDP_OK);
    for (int i = 0; i < CLIENTS; i++) {
        char buf[8];
        size_t len;
        int ret = DTLSUDP_ERR_AGAIN;
        PUMP_UNTIL(&w, (ret = read_now(w.cli.v[i], buf, sizeof(buf), &len)) != DTLSUDP_ERR_AGAIN);
        assert_int_equal(ret, DTLSUDP_OK);
    }
    /* let the last spoofed hellos arrive */
    for (int i = 0; i < 10; i++)
        world_pump(&w, 10);

    dtlsudp_net_stats st;
    assert_int_equal(dtlsudp_listener_get_stats(w.l, &st), DTLSUDP_OK);
    /* the kernel may drop some of the flood; most of it was answered */
    print_message("HelloVerifyRequests sent: %llu\n", (unsigned long long)st.engine.cookies_sent);
    assert_true(st.engine.cookies_sent >= (uint64_t)SPOOFERS);
    assert_int_equal(st.engine.assocs_now, CLIENTS);
    assert_int_equal(st.engine.half_open_now, 0);
    for (int i = 0; i < SPOOFERS; i++)
        close(spoof[i]);
    world_close(&w);
}

/* Make a client's socket fail every send, then free it: the peer sees
 * nothing (no close_notify), as when a process dies. */
static void vanish(world *w, dtlsudp_conn *c)
{
    assert_int_equal(shutdown(dtlsudp_conn_fd(c), SHUT_WR), 0);
    forget_client(w, c);
    dtlsudp_conn_free(c);
}

/* RFC 6347 4.2.8: a client restarts on the same address and port. */
static void test_restart_same_port(void **state)
{
    const variant *v = *state;
    world w;
    char buf[64];
    size_t len;
    dtlsudp_addr local;
    dtlsudp_conn_config cfg;
    world_open(&w, v, NULL);

    dtlsudp_conn *c1 = client_start(&w, NULL);
    PUMP_UNTIL(&w, established(c1) && w.srv.n == 1);
    dtlsudp_conn *s1 = w.srv.v[0];
    local = *dtlsudp_conn_local(c1);
    vanish(&w, c1);

    client_config(&cfg, path_client, path_client_key);
    cfg.connect.local = &local;
    dtlsudp_conn *c2 = client_start(&w, &cfg);
    assert_true(dtlsudp_addr_equal(dtlsudp_conn_local(c2), &local));
    PUMP_UNTIL(&w, established(c2) && w.srv.n == 2);
    /* the old association was dropped once the new one completed */
    PUMP_UNTIL(&w, dtlsudp_conn_state(s1) == DTLSUDP_STATE_CLOSED);
    assert_int_equal(read_now(s1, buf, sizeof(buf), &len), DTLSUDP_ERR_REPLACED);
    assert_int_equal(dtlsudp_conn_last_error(s1), DTLSUDP_ERR_REPLACED);

    assert_int_equal(dtlsudp_conn_write(c2, (const uint8_t *)"again", 5), DTLSUDP_OK);
    int ret = DTLSUDP_ERR_AGAIN;
    PUMP_UNTIL(&w, (ret = read_now(c2, buf, sizeof(buf), &len)) != DTLSUDP_ERR_AGAIN);
    assert_int_equal(ret, DTLSUDP_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "again", 5);

    dtlsudp_net_stats st;
    assert_int_equal(dtlsudp_listener_get_stats(w.l, &st), DTLSUDP_OK);
    assert_int_equal(st.engine.restarts, 1);
    assert_int_equal(st.engine.assocs_now, 1);
    world_close(&w);
}

/* A client that vanishes is freed by idle expiry. */
static void test_vanish_idle(void **state)
{
    const variant *v = *state;
    dtlsudp_listener_config cfg;
    world w;
    char buf[64];
    size_t len;

    memset(&w, 0, sizeof(w));
    w.v = v;
    server_config(&w, &cfg);
    cfg.engine.idle_timeout = 300;
    world_open(&w, v, &cfg);

    dtlsudp_conn *c = client_start(&w, NULL);
    PUMP_UNTIL(&w, established(c) && w.srv.n == 1);
    dtlsudp_conn *s = w.srv.v[0];
    vanish(&w, c);
    PUMP_UNTIL(&w, dtlsudp_conn_state(s) == DTLSUDP_STATE_CLOSED);
    assert_int_equal(read_now(s, buf, sizeof(buf), &len), DTLSUDP_ERR_IDLE);

    dtlsudp_net_stats st;
    assert_int_equal(dtlsudp_listener_get_stats(w.l, &st), DTLSUDP_OK);
    assert_int_equal(st.engine.idle_expired, 1);
    assert_int_equal(st.engine.assocs_now, 0);
    world_close(&w);
}

/* A peer whose port is closed: osnet's connected socket hears the ICMP
 * port unreachable and ends the association when nothing authenticated
 * arrived within refused_grace (the ICMP could be spoofed); router mode
 * cannot tell and keeps it until idle expiry. */
static void test_refused(void **state)
{
    const variant *v = *state;
    world w;
    char buf[64];
    size_t len;
    world_open(&w, v, NULL);

    dtlsudp_conn *c = client_start(&w, NULL);
    PUMP_UNTIL(&w, established(c) && w.srv.n == 1);
    dtlsudp_conn *s = w.srv.v[0];
    vanish(&w, c);

    assert_int_equal(dtlsudp_conn_write(s, (const uint8_t *)"anyone?", 7), DTLSUDP_OK);
    if (v->demux == DTLSUDP_DEMUX_OSNET) {
        PUMP_UNTIL(&w, dtlsudp_conn_state(s) == DTLSUDP_STATE_CLOSED);
        assert_int_equal(read_now(s, buf, sizeof(buf), &len), DTLSUDP_ERR_REFUSED);
        dtlsudp_net_stats st;
        assert_int_equal(dtlsudp_listener_get_stats(w.l, &st), DTLSUDP_OK);
        assert_true(st.refused >= 1);
    } else {
        for (int i = 0; i < 5; i++)
            world_pump(&w, 10);
        assert_int_equal(dtlsudp_conn_state(s), DTLSUDP_STATE_ESTABLISHED);
    }
    world_close(&w);
}

/* close_notify from the client, then from the server (RFC 6353 5.4). */
static void test_close_notify(void **state)
{
    const variant *v = *state;
    world w;
    char buf[64];
    size_t len;
    world_open(&w, v, NULL);

    dtlsudp_conn *c1 = client_start(&w, NULL);
    dtlsudp_conn *c2 = client_start(&w, NULL);
    PUMP_UNTIL(&w, established(c1) && established(c2) && w.srv.n == 2);
    dtlsudp_conn *s1 = server_side_of(&w, c1), *s2 = server_side_of(&w, c2);
    assert_non_null(s1);
    assert_non_null(s2);

    /* client writes and closes at once: the server reads the data first
     * (it arrives in the same burst as the close_notify), then the end */
    assert_int_equal(dtlsudp_conn_write(c1, (const uint8_t *)"last 1", 6), DTLSUDP_OK);
    assert_int_equal(dtlsudp_conn_write(c1, (const uint8_t *)"last 2", 6), DTLSUDP_OK);
    assert_int_equal(dtlsudp_conn_shutdown(c1), DTLSUDP_OK);
    assert_int_equal(dtlsudp_conn_shutdown(c1), DTLSUDP_ERR_STATE);
    assert_int_equal(read_now(c1, buf, sizeof(buf), &len), DTLSUDP_ERR_CLOSED);
    assert_int_equal(dtlsudp_conn_write(c1, (const uint8_t *)"x", 1), DTLSUDP_ERR_CLOSED);
    dtlsudp_time until = dtlsudp_now() + WAIT_MS;
    while (dtlsudp_conn_state(s1) != DTLSUDP_STATE_CLOSED && dtlsudp_now() < until)
        world_pump(&w, 50); /* no echo: the data stays queued */
    assert_int_equal(dtlsudp_conn_state(s1), DTLSUDP_STATE_CLOSED);
    assert_int_equal(dtlsudp_conn_next_timeout(s1), 0); /* something to read */
    assert_int_equal(read_now(s1, buf, sizeof(buf), &len), DTLSUDP_OK);
    assert_memory_equal(buf, "last 1", 6);
    assert_int_equal(read_now(s1, buf, sizeof(buf), &len), DTLSUDP_OK);
    assert_memory_equal(buf, "last 2", 6);
    assert_int_equal(read_now(s1, buf, sizeof(buf), &len), DTLSUDP_ERR_CLOSED);
    assert_int_equal(read_now(s1, buf, sizeof(buf), &len), DTLSUDP_ERR_CLOSED);

    /* server closes */
    assert_int_equal(dtlsudp_conn_shutdown(s2), DTLSUDP_OK);
    PUMP_UNTIL(&w, dtlsudp_conn_state(c2) == DTLSUDP_STATE_CLOSED);
    assert_int_equal(read_now(c2, buf, sizeof(buf), &len), DTLSUDP_ERR_CLOSED);

    dtlsudp_net_stats st;
    assert_int_equal(dtlsudp_listener_get_stats(w.l, &st), DTLSUDP_OK);
    assert_int_equal(st.engine.closes_received, 1);
    assert_int_equal(st.engine.closes_sent, 1);
    assert_int_equal(st.engine.assocs_now, 0);
    world_close(&w);
}

/* After close_notify both sockets go back to plain UDP. */
static void test_unwrap(void **state)
{
    const variant *v = *state;
    world w;
    char buf[64];
    size_t len;
    int cfd, sfd;
    world_open(&w, v, NULL);

    dtlsudp_conn *c = client_start(&w, NULL);
    PUMP_UNTIL(&w, established(c) && w.srv.n == 1);
    dtlsudp_conn *s = w.srv.v[0];
    assert_int_equal(dtlsudp_conn_shutdown(c), DTLSUDP_OK);
    PUMP_UNTIL(&w, dtlsudp_conn_state(s) == DTLSUDP_STATE_CLOSED);
    forget_client(&w, c);
    assert_int_equal(dtlsudp_conn_unwrap(c, &cfd), DTLSUDP_OK);

    if (v->demux == DTLSUDP_DEMUX_ROUTER) {
        /* the socket is the listener's: nothing to give back */
        assert_int_equal(dtlsudp_conn_unwrap(s, &sfd), DTLSUDP_ERR_STATE);
        close(cfd);
        world_close(&w);
        return;
    }
    assert_int_equal(dtlsudp_conn_unwrap(s, &sfd), DTLSUDP_OK);
    w.srv.v[0] = NULL;

    struct pollfd p = {.fd = sfd, .events = POLLIN};
    assert_int_equal(send(cfd, "plain hello", 11, 0), 11);
    assert_int_equal(poll(&p, 1, WAIT_MS), 1);
    assert_int_equal(recv(sfd, buf, sizeof(buf), 0), 11);
    assert_memory_equal(buf, "plain hello", 11);
    assert_int_equal(send(sfd, "plain reply", 11, 0), 11);
    p.fd = cfd;
    assert_int_equal(poll(&p, 1, WAIT_MS), 1);
    len = (size_t)recv(cfd, buf, sizeof(buf), 0);
    assert_int_equal(len, 11);
    assert_memory_equal(buf, "plain reply", 11);
    close(cfd);
    close(sfd);
    world_close(&w);
}

/* Certificates that do not verify fail the handshake with a clear error on
 * both ends, in both directions. */
static void test_wrong_certificate(void **state)
{
    const variant *v = *state;
    dtlsudp_conn_config cfg;
    world w;
    world_open(&w, v, NULL);

    /* a client certificate from an unknown CA: the server refuses it */
    client_config(&cfg, path_rogue, path_rogue_key);
    dtlsudp_conn *c = client_start(&w, &cfg);
    PUMP_UNTIL(&w, dtlsudp_conn_state(c) == DTLSUDP_STATE_CLOSED);
    int err = dtlsudp_conn_last_error(c);
    assert_true(err == DTLSUDP_ERR_PEER_ALERT || err == DTLSUDP_ERR_HANDSHAKE);
    assert_int_equal(w.srv.n, 0);
    dtlsudp_net_stats st;
    assert_int_equal(dtlsudp_listener_get_stats(w.l, &st), DTLSUDP_OK);
    assert_true(st.engine.cert_refused + st.engine.handshakes_failed >= 1);
    assert_int_equal(st.engine.assocs_now, 0);
    /* the server says why */
    assert_true(w.log_lines >= 1);
    print_message("server log: %s\n", w.last_log);
    world_close(&w);

    /* a server certificate the client does not trust */
    dtlsudp_listener_config lcfg;
    memset(&w, 0, sizeof(w));
    w.v = v;
    server_config(&w, &lcfg);
    lcfg.engine.cert_file = path_rogue;
    lcfg.engine.key_file = path_rogue_key;
    world_open(&w, v, &lcfg);
    c = client_start(&w, NULL);
    PUMP_UNTIL(&w, dtlsudp_conn_state(c) == DTLSUDP_STATE_CLOSED);
    assert_int_equal(dtlsudp_conn_last_error(c), DTLSUDP_ERR_PEER_CERT);
    assert_int_equal(w.srv.n, 0);
    assert_int_equal(dtlsudp_listener_get_stats(w.l, &st), DTLSUDP_OK);
    assert_true(st.engine.alerts_received + st.engine.handshakes_failed >= 1);
    assert_int_equal(st.engine.assocs_now, 0);
    world_close(&w);
}

/* The blocking forms: a client thread connects, writes and reads with
 * timeouts while this thread accepts and reads with timeouts. */
typedef struct blocking_client {
    const world *w;
    int connect_ret, write_ret, read_ret;
    char echo[64];
    size_t echo_len;
} blocking_client;

static void *blocking_client_main(void *arg)
{
    blocking_client *b = arg;
    dtlsudp_conn_config cfg;
    dtlsudp_conn *c = NULL;
    client_config(&cfg, path_client, path_client_key);
    b->connect_ret = dtlsudp_conn_connect(client_host(b->w), b->w->port, &cfg, WAIT_MS, dtlsudp_now(), &c);
    if (b->connect_ret != DTLSUDP_OK)
        return NULL;
    b->write_ret = dtlsudp_conn_write(c, (const uint8_t *)"blocking", 8);
    b->read_ret = dtlsudp_conn_read(c, (uint8_t *)b->echo, sizeof(b->echo), &b->echo_len, WAIT_MS);
    dtlsudp_conn_free(c); /* close_notify */
    return NULL;
}

static void test_blocking(void **state)
{
    const variant *v = *state;
    world w;
    blocking_client b = {.w = &w};
    pthread_t th;
    uint8_t buf[64];
    size_t len;
    dtlsudp_conn *s = NULL;
    world_open(&w, v, NULL);

    assert_int_equal(pthread_create(&th, NULL, blocking_client_main, &b), 0);
    int ret = dtlsudp_listener_accept(w.l, WAIT_MS, &s);
    if (ret == DTLSUDP_OK) {
        ret = dtlsudp_conn_read(s, buf, sizeof(buf), &len, WAIT_MS);
        if (ret == DTLSUDP_OK)
            ret = dtlsudp_conn_write(s, buf, len);
    }
    int end = ret == DTLSUDP_OK ? dtlsudp_conn_read(s, buf, sizeof(buf), &len, WAIT_MS) : ret;
    pthread_join(th, NULL);
    assert_int_equal(b.connect_ret, DTLSUDP_OK);
    assert_int_equal(ret, DTLSUDP_OK);
    assert_int_equal(b.write_ret, DTLSUDP_OK);
    assert_int_equal(b.read_ret, DTLSUDP_OK);
    assert_int_equal(b.echo_len, 8);
    assert_memory_equal(b.echo, "blocking", 8);
    assert_int_equal(end, DTLSUDP_ERR_CLOSED); /* the client's close_notify */
    dtlsudp_conn *none = NULL;
    assert_int_equal(dtlsudp_listener_accept(w.l, 0, &none), DTLSUDP_ERR_AGAIN);
    assert_null(none);
    dtlsudp_conn_free(s);
    world_close(&w);

    /* nobody listening: ICMP port unreachable ends the attempt at once */
    int fd = socket(v->family, SOCK_DGRAM, 0);
    dtlsudp_addr a;
    socklen_t alen = sizeof(a);
    char port[8];
    dtlsudp_conn_config cfg;
    dtlsudp_conn *c = NULL;
    memset(&a, 0, sizeof(a));
    a.sa.sa_family = (sa_family_t)v->family;
    if (v->family == AF_INET6)
        a.sin6.sin6_addr = in6addr_loopback;
    else
        a.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, &a.sa, v->family == AF_INET6 ? sizeof(a.sin6) : sizeof(a.sin)), 0);
    assert_int_equal(getsockname(fd, &a.sa, &alen), 0);
    snprintf(port, sizeof(port), "%u", ntohs(a.sin.sin_port));
    close(fd);
    client_config(&cfg, path_client, path_client_key);
    ret = dtlsudp_conn_connect(client_host(&w), port, &cfg, WAIT_MS, dtlsudp_now(), &c);
    assert_int_equal(ret, DTLSUDP_ERR_REFUSED);
    assert_null(c);

    /* a socket that never answers: the timeout ends the attempt */
    fd = socket(v->family, SOCK_DGRAM, 0);
    alen = sizeof(a);
    a.sin.sin_port = 0; /* same offset for sin6 */
    assert_int_equal(bind(fd, &a.sa, v->family == AF_INET6 ? sizeof(a.sin6) : sizeof(a.sin)), 0);
    assert_int_equal(getsockname(fd, &a.sa, &alen), 0);
    snprintf(port, sizeof(port), "%u", ntohs(a.sin.sin_port));
    ret = dtlsudp_conn_connect(client_host(&w), port, &cfg, 300, dtlsudp_now(), &c);
    assert_int_equal(ret, DTLSUDP_ERR_TIMEOUT);
    assert_null(c);
    close(fd);
}

/* A listener never shares its port silently, with another listener or any
 * other socket; osnet still makes its per-peer sockets on it. */
static void test_port_in_use(void **state)
{
    const variant *v = *state;
    dtlsudp_listener_config cfg;
    dtlsudp_listener *other = NULL;
    char addr[64];
    world w;
    world_open(&w, v, NULL);

    memset(&cfg, 0, sizeof(cfg));
    server_config(&w, &cfg);
    snprintf(addr, sizeof(addr), v->dual ? "[::]:%s" : v->family == AF_INET6 ? "[::1]:%s" : "127.0.0.1:%s",
             w.port);
    for (int demux = DTLSUDP_DEMUX_OSNET; demux <= DTLSUDP_DEMUX_ROUTER; demux++) {
        cfg.demux = demux;
        errno = 0;
        assert_int_equal(dtlsudp_listener_new(addr, &cfg, dtlsudp_now(), &other), DTLSUDP_ERR_SYSTEM);
        assert_int_equal(errno, EADDRINUSE);
        assert_null(other);
    }
    /* and the first one still works */
    dtlsudp_conn *c = client_start(&w, NULL);
    PUMP_UNTIL(&w, established(c) && w.srv.n == 1);
    world_close(&w);
}

/* Router-style use without accept: dtlsudp_listener_recv/find. */
static void test_listener_recv(void **state)
{
    const variant *v = *state;
    world w;
    uint8_t buf[64];
    size_t len;
    dtlsudp_conn *from;
    world_open(&w, v, NULL);

    dtlsudp_conn *c = client_start(&w, NULL);
    dtlsudp_time until = dtlsudp_now() + WAIT_MS;
    /* pump by hand, without accept */
    while (!established(c) && dtlsudp_now() < until) {
        struct pollfd p[2] = {{.fd = dtlsudp_listener_fd(w.l), .events = POLLIN},
                              {.fd = dtlsudp_conn_fd(c), .events = POLLIN}};
        (void)poll(p, 2, 20);
        assert_int_equal(dtlsudp_listener_process(w.l, dtlsudp_now()), DTLSUDP_OK);
        assert_int_equal(dtlsudp_conn_process(c, dtlsudp_now()), DTLSUDP_OK);
    }
    assert_true(established(c));
    assert_int_equal(dtlsudp_conn_write(c, (const uint8_t *)"via recv", 8), DTLSUDP_OK);
    int ret = DTLSUDP_ERR_AGAIN;
    until = dtlsudp_now() + WAIT_MS;
    while ((ret = dtlsudp_listener_recv(w.l, buf, sizeof(buf), &len, &from)) == DTLSUDP_ERR_AGAIN &&
           dtlsudp_now() < until) {
        struct pollfd p = {.fd = dtlsudp_listener_fd(w.l), .events = POLLIN};
        (void)poll(&p, 1, 20);
        assert_int_equal(dtlsudp_listener_process(w.l, dtlsudp_now()), DTLSUDP_OK);
    }
    assert_int_equal(ret, DTLSUDP_OK);
    assert_int_equal(len, 8);
    assert_memory_equal(buf, "via recv", 8);
    assert_non_null(from);
    assert_true(dtlsudp_addr_equal(dtlsudp_conn_peer(from), dtlsudp_conn_local(c)));
    assert_ptr_equal(dtlsudp_listener_find(w.l, dtlsudp_conn_local(c)), from);
    /* reply through the connection found */
    assert_int_equal(dtlsudp_conn_write(from, (const uint8_t *)"back", 4), DTLSUDP_OK);
    ret = dtlsudp_conn_read(c, buf, sizeof(buf), &len, WAIT_MS);
    assert_int_equal(ret, DTLSUDP_OK);
    assert_int_equal(len, 4);
    assert_int_equal(dtlsudp_listener_recv(w.l, buf, sizeof(buf), &len, &from), DTLSUDP_ERR_AGAIN);

    /* data then close_notify in one burst: for listener_recv the data goes
     * with the association (no identity left to deliver it under) */
    assert_int_equal(dtlsudp_conn_write(c, (const uint8_t *)"bye", 3), DTLSUDP_OK);
    assert_int_equal(dtlsudp_conn_shutdown(c), DTLSUDP_OK);
    until = dtlsudp_now() + WAIT_MS;
    while (dtlsudp_listener_find(w.l, dtlsudp_conn_local(c)) != NULL && dtlsudp_now() < until) {
        struct pollfd p = {.fd = dtlsudp_listener_fd(w.l), .events = POLLIN};
        (void)poll(&p, 1, 20);
        assert_int_equal(dtlsudp_listener_process(w.l, dtlsudp_now()), DTLSUDP_OK);
    }
    assert_null(dtlsudp_listener_find(w.l, dtlsudp_conn_local(c)));
    while (dtlsudp_listener_recv(w.l, buf, sizeof(buf), &len, &from) == DTLSUDP_OK)
        assert_non_null(dtlsudp_conn_assoc(from)); /* never from an ended one */
    assert_int_equal(dtlsudp_listener_recv(w.l, buf, sizeof(buf), &len, &from), DTLSUDP_ERR_AGAIN);
    assert_int_equal(dtlsudp_listener_process(w.l, dtlsudp_now()), DTLSUDP_OK); /* frees it */
    dtlsudp_net_stats st;
    assert_int_equal(dtlsudp_listener_get_stats(w.l, &st), DTLSUDP_OK);
    assert_int_equal(st.conns_now, 0);
    world_close(&w);
}

/* ------------------------------------------------------------------------ */

static int make_certs(void **state)
{
    (void)state;
    snprintf(certdir, sizeof(certdir), "/tmp/dtlsudp-test-net.XXXXXX");
    if (mkdtemp(certdir) == NULL || testcerts_make(certdir) != 0)
        return -1;
    snprintf(path_ca, sizeof(path_ca), "%s/ca.pem", certdir);
    snprintf(path_server, sizeof(path_server), "%s/server.pem", certdir);
    snprintf(path_server_key, sizeof(path_server_key), "%s/server.key", certdir);
    snprintf(path_client, sizeof(path_client), "%s/client.pem", certdir);
    snprintf(path_client_key, sizeof(path_client_key), "%s/client.key", certdir);
    snprintf(path_rogue, sizeof(path_rogue), "%s/rogue.pem", certdir);
    snprintf(path_rogue_key, sizeof(path_rogue_key), "%s/rogue.key", certdir);
    return 0;
}

static int remove_certs(void **state)
{
    static const char *files[] = {"ca.pem",     "server.pem", "server.key",   "client.pem",
                                  "client.key", "rogue.pem",  "rogue-ca.pem", "rogue.key"};
    char path[192];
    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", certdir, files[i]);
        unlink(path);
    }
    rmdir(certdir);
    return 0;
}

#define VARIANT_TESTS(v)                                                                                 \
    cmocka_unit_test_prestate(test_echo_nonblocking, (void *)&(v)),                                      \
        cmocka_unit_test_prestate(test_ready_only_while_data, (void *)&(v)),                             \
        cmocka_unit_test_prestate(test_many_clients, (void *)&(v)),                                      \
        cmocka_unit_test_prestate(test_spoofed_flood, (void *)&(v)),                                     \
        cmocka_unit_test_prestate(test_restart_same_port, (void *)&(v)),                                 \
        cmocka_unit_test_prestate(test_vanish_idle, (void *)&(v)),                                       \
        cmocka_unit_test_prestate(test_refused, (void *)&(v)),                                           \
        cmocka_unit_test_prestate(test_close_notify, (void *)&(v)),                                      \
        cmocka_unit_test_prestate(test_unwrap, (void *)&(v)),                                            \
        cmocka_unit_test_prestate(test_wrong_certificate, (void *)&(v)),                                 \
        cmocka_unit_test_prestate(test_blocking, (void *)&(v)),                                          \
        cmocka_unit_test_prestate(test_port_in_use, (void *)&(v)),                                       \
        cmocka_unit_test_prestate(test_listener_recv, (void *)&(v))

#define DUAL_TESTS(v)                                                                                    \
    cmocka_unit_test_prestate(test_echo_nonblocking, (void *)&(v)),                                      \
        cmocka_unit_test_prestate(test_restart_same_port, (void *)&(v)),                                 \
        cmocka_unit_test_prestate(test_close_notify, (void *)&(v)),                                      \
        cmocka_unit_test_prestate(test_unwrap, (void *)&(v)),                                            \
        cmocka_unit_test_prestate(test_blocking, (void *)&(v)),                                          \
        cmocka_unit_test_prestate(test_listener_recv, (void *)&(v))

int main(void)
{
    const struct CMUnitTest tests[] = {
        VARIANT_TESTS(v4_osnet), VARIANT_TESTS(v4_router), VARIANT_TESTS(v6_osnet),
        VARIANT_TESTS(v6_router), DUAL_TESTS(dual_osnet), DUAL_TESTS(dual_router),
        DUAL_TESTS(mapped_osnet), DUAL_TESTS(mapped_router),
    };
    /* many clients: a client socket and (osnet) a server socket each */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* DTLSUDP_TEST_FILTER=test_unwrap runs only the matching tests */
    if (getenv("DTLSUDP_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DTLSUDP_TEST_FILTER"));
    return cmocka_run_group_tests_name("transport/net", tests, make_certs, remove_certs);
}
