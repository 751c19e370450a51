/*
 * test_shard.c - several listeners sharing one address, one thread each
 * (dtlsudp_listener_config.reuse_port, the sharding model of dtlsudp.h
 * "Threads"): two shards on 127.0.0.1 both complete handshakes and echo
 * for clients from distinct ports, each peer staying on one shard (no
 * cookie fails); a ticket is refused by a shard that did not issue it
 * (what a peer meets when the set of shards changes); a listener without
 * the option still cannot bind a taken port, nor join a port bound
 * without it; osnet with sharing is refused; a caller built against V1
 * never shares, whatever lies past its struct.
 * Loopback, ephemeral ports, bounded waits.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dtlsudp.h"
#include "certs.h"

#define N_SHARDS 2
/* Clients, each from a new ephemeral port.  The kernel hashes each to one
 * of two shards: all of them on one shard has probability 2^-23. */
#define N_CLIENTS 24
#define CLIENT_WAIT_MS 10000
#define CANARY 0xA5
#define END_OF(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

static char dir[64], path_ca[128], path_server[128], path_server_key[128], path_client[128], path_client_key[128];

static int make_certs(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/dtlsudp-test-shard-XXXXXX");
    if (mkdtemp(dir) == NULL || testcerts_make(dir) != 0)
        return -1;
    snprintf(path_ca, sizeof(path_ca), "%s/ca.pem", dir);
    snprintf(path_server, sizeof(path_server), "%s/server.pem", dir);
    snprintf(path_server_key, sizeof(path_server_key), "%s/server.key", dir);
    snprintf(path_client, sizeof(path_client), "%s/client.pem", dir);
    snprintf(path_client_key, sizeof(path_client_key), "%s/client.key", dir);
    return 0;
}

static int remove_certs(void **state)
{
    static const char *files[] = {"ca.pem",     "server.pem", "server.key",   "client.pem",
                                  "client.key", "rogue.pem",  "rogue-ca.pem", "rogue.key"};
    char path[192];
    (void)state;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

static void server_config(dtlsudp_listener_config *cfg, int reuse_port)
{
    assert_int_equal(dtlsudp_listener_config_init(cfg), DTLSUDP_OK);
    cfg->demux = DTLSUDP_DEMUX_ROUTER;
    cfg->reuse_port = reuse_port;
    cfg->engine.cert_file = path_server;
    cfg->engine.key_file = path_server_key;
    cfg->engine.ca_file = path_ca;
}

static uint16_t port_of(const dtlsudp_listener *l)
{
    return ntohs(dtlsudp_listener_local_addr(l)->sin.sin_port);
}

/* errno of a failed dtlsudp_listener_new() on 127.0.0.1:port, or 0 when
 * it succeeded (the listener is freed again). */
static int bind_error(uint16_t port, int reuse_port)
{
    dtlsudp_listener_config cfg;
    dtlsudp_listener *l = NULL;
    char addr[32];

    server_config(&cfg, reuse_port);
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
    errno = 0;
    int ret = dtlsudp_listener_new(addr, &cfg, dtlsudp_now(), &l);
    if (ret == DTLSUDP_OK) {
        dtlsudp_listener_free(l);
        return 0;
    }
    assert_int_equal(ret, DTLSUDP_ERR_SYSTEM);
    assert_null(l);
    return errno;
}

/* ------------------------------------------------------------------------
 * Shards: a listener pumped by its own thread, echoing every datagram
 * ------------------------------------------------------------------------ */

typedef struct shard {
    dtlsudp_listener *l;
    pthread_t thread;
    atomic_int stop;
    unsigned long echoed; /* read after the join */
    int failed;           /* an engine-fatal code from the pump */
} shard;

static void echo_queued(shard *s)
{
    uint8_t buf[2048];
    size_t len;
    dtlsudp_conn *from;

    while (dtlsudp_listener_recv(s->l, buf, sizeof(buf), &len, &from) == DTLSUDP_OK)
        if (from != NULL && dtlsudp_conn_write(from, buf, len) == DTLSUDP_OK)
            s->echoed++;
}

/* The shard's event loop: poll its fd with its own deadline (at most 20 ms,
 * so that `stop' is seen), pump, echo. */
static void *shard_main(void *arg)
{
    shard *s = arg;

    while (!atomic_load(&s->stop)) {
        dtlsudp_time now = dtlsudp_now(), next = dtlsudp_listener_next_timer(s->l);
        int wait = next <= now ? 0 : next - now > 20 ? 20 : (int)(next - now);
        struct pollfd pfd = {.fd = dtlsudp_listener_fd(s->l), .events = POLLIN};
        if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
            break;
        int ret = dtlsudp_listener_process(s->l, dtlsudp_now());
        if (ret != DTLSUDP_OK) {
            s->failed = ret;
            break;
        }
        echo_queued(s);
    }
    return NULL;
}

/* A sharing listener on 127.0.0.1:port (0: a free port, returned in
 * *port), not yet running. */
static void shard_open(shard *s, const dtlsudp_listener_config *cfg, uint16_t *port)
{
    char addr[32];

    memset(s, 0, sizeof(*s));
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", *port);
    assert_int_equal(dtlsudp_listener_new(addr, cfg, dtlsudp_now(), &s->l), DTLSUDP_OK);
    *port = port_of(s->l);
}

static void shard_run(shard *s)
{
    assert_int_equal(pthread_create(&s->thread, NULL, shard_main, s), 0);
}

static void shard_halt(shard *s)
{
    atomic_store(&s->stop, 1);
    assert_int_equal(pthread_join(s->thread, NULL), 0);
    assert_int_equal(s->failed, DTLSUDP_OK);
}

static void shards_start(shard *shards, size_t n, uint16_t *port)
{
    dtlsudp_listener_config cfg;

    server_config(&cfg, 1);
    *port = 0;
    /* the first picks a free port, the others join it; all are bound
     * before any runs, so that none sees a peer the others hash to */
    for (size_t i = 0; i < n; i++)
        shard_open(&shards[i], &cfg, port);
    for (size_t i = 0; i < n; i++)
        shard_run(&shards[i]);
}

static void shards_stop(shard *shards, size_t n)
{
    for (size_t i = 0; i < n; i++)
        atomic_store(&shards[i].stop, 1);
    for (size_t i = 0; i < n; i++)
        shard_halt(&shards[i]);
}

/* A client from a new ephemeral port, handshake done; with tickets on,
 * offering `session' when given. */
static dtlsudp_conn *client_connect(uint16_t port, int tickets, const uint8_t *session, size_t session_len)
{
    dtlsudp_conn_config cfg;
    dtlsudp_conn *c = NULL;
    char portbuf[8];

    assert_int_equal(dtlsudp_conn_config_init(&cfg), DTLSUDP_OK);
    cfg.engine.cert_file = path_client;
    cfg.engine.key_file = path_client_key;
    cfg.engine.ca_file = path_ca;
    cfg.engine.session_tickets = tickets;
    cfg.connect.session = session;
    cfg.connect.session_len = session_len;
    snprintf(portbuf, sizeof(portbuf), "%u", port);
    assert_int_equal(dtlsudp_conn_connect("127.0.0.1", portbuf, &cfg, CLIENT_WAIT_MS, dtlsudp_now(), &c),
                     DTLSUDP_OK);
    return c;
}

/* One client from a new ephemeral port: handshake, one datagram echoed
 * back unchanged, close_notify. */
static void client_echo(uint16_t port, int i)
{
    dtlsudp_conn *c = client_connect(port, 0, NULL, 0);
    char msg[32];
    uint8_t buf[64];
    size_t len = 0;

    int n = snprintf(msg, sizeof(msg), "shard test %d", i);
    assert_int_equal(dtlsudp_conn_write(c, (const uint8_t *)msg, (size_t)n), DTLSUDP_OK);
    assert_int_equal(dtlsudp_conn_read(c, buf, sizeof(buf), &len, CLIENT_WAIT_MS), DTLSUDP_OK);
    assert_int_equal(len, (size_t)n);
    assert_memory_equal(buf, msg, len);
    dtlsudp_conn_free(c);
}

/* Two listeners share 127.0.0.1:P, each on its own thread.  Clients from
 * distinct ports are spread over both: each shard completes handshakes
 * and echoes, every client is served by exactly one shard (the completed
 * handshakes add up to the clients), and no cookie was presented to a
 * shard that did not issue it. */
static void test_two_shards_share_the_load(void **state)
{
    shard shards[N_SHARDS];
    dtlsudp_net_stats st[N_SHARDS];
    uint16_t port;

    (void)state;
    shards_start(shards, N_SHARDS, &port);
    for (int i = 0; i < N_CLIENTS; i++)
        client_echo(port, i);
    shards_stop(shards, N_SHARDS);

    uint64_t completed = 0;
    unsigned long echoed = 0;
    for (size_t i = 0; i < N_SHARDS; i++) {
        assert_int_equal(dtlsudp_listener_get_stats(shards[i].l, &st[i]), DTLSUDP_OK);
        print_message("shard %zu: %llu handshakes, %lu echoed\n", i,
                      (unsigned long long)st[i].engine.handshakes_completed, shards[i].echoed);
        assert_true(st[i].engine.handshakes_completed > 0);
        assert_true(shards[i].echoed > 0);
        assert_int_equal(st[i].engine.cookies_bad, 0);
        assert_int_equal(st[i].engine.handshakes_failed, 0);
        completed += st[i].engine.handshakes_completed;
        echoed += shards[i].echoed;
        dtlsudp_listener_free(shards[i].l);
    }
    assert_int_equal(completed, N_CLIENTS);
    assert_int_equal(echoed, N_CLIENTS);
}

/* The default stays: a listener that did not ask to share cannot bind a
 * port a sharing group holds, nor can a sharing listener join a port bound
 * without the option, nor two plain listeners share one. */
static void test_a_taken_port_stays_taken_without_the_option(void **state)
{
    dtlsudp_listener_config cfg;
    dtlsudp_listener *l = NULL;

    (void)state;
    server_config(&cfg, 1);
    assert_int_equal(dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l), DTLSUDP_OK);
    assert_int_equal(bind_error(port_of(l), 0), EADDRINUSE);
    /* positive control: the group does take a second member */
    assert_int_equal(bind_error(port_of(l), 1), 0);
    dtlsudp_listener_free(l);

    server_config(&cfg, 0);
    assert_int_equal(dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l), DTLSUDP_OK);
    assert_int_equal(bind_error(port_of(l), 1), EADDRINUSE);
    assert_int_equal(bind_error(port_of(l), 0), EADDRINUSE);
    dtlsudp_listener_free(l);
}

/* osnet's per-peer sockets cannot live in a shard group: osnet, and the
 * default demux where it means osnet, are refused with the option. */
static void test_osnet_with_sharing_is_refused(void **state)
{
    dtlsudp_listener_config cfg;
    dtlsudp_listener *l = NULL;

    (void)state;
    server_config(&cfg, 1);
    cfg.demux = DTLSUDP_DEMUX_OSNET;
    assert_int_equal(dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l), DTLSUDP_ERR_INVALID);
    assert_null(l);
#ifdef __linux__
    cfg.demux = DTLSUDP_DEMUX_DEFAULT;
    assert_int_equal(dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l), DTLSUDP_ERR_INVALID);
    assert_null(l);
#endif
    /* without the option osnet is as before */
    cfg.demux = DTLSUDP_DEMUX_OSNET;
    cfg.reuse_port = 0;
    assert_int_equal(dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l), DTLSUDP_OK);
    dtlsudp_listener_free(l);
}

/* When the set of shards changes, a peer may reach a shard that did not
 * issue its ticket: each engine has its own ticket key, so the ticket is
 * refused there and the handshake is a full one (dtlsudp.h, "Threads").
 * Shard A issues a ticket (and honours it: the positive control); B joins
 * the port and A leaves; the same ticket at B gives a full handshake. */
static void test_a_ticket_is_refused_by_another_shard(void **state)
{
    dtlsudp_listener_config cfg;
    dtlsudp_net_stats st;
    shard a, b;
    uint16_t port = 0;
    uint8_t session[4096];
    size_t session_len = 0;
    dtlsudp_conn *c;

    (void)state;
    server_config(&cfg, 1);
    cfg.engine.session_tickets = 1;
    shard_open(&a, &cfg, &port);
    shard_run(&a);
    c = client_connect(port, 1, NULL, 0);
    assert_int_equal(dtlsudp_assoc_session(dtlsudp_conn_assoc(c), session, sizeof(session), &session_len),
                     DTLSUDP_OK);
    dtlsudp_conn_free(c);
    c = client_connect(port, 1, session, session_len);
    assert_int_equal(dtlsudp_assoc_resumed(dtlsudp_conn_assoc(c)), 1);
    dtlsudp_conn_free(c);

    shard_open(&b, &cfg, &port);
    shard_run(&b);
    shard_halt(&a);
    dtlsudp_listener_free(a.l);
    c = client_connect(port, 1, session, session_len);
    assert_int_equal(dtlsudp_assoc_resumed(dtlsudp_conn_assoc(c)), 0);
    dtlsudp_conn_free(c);
    shard_halt(&b);
    assert_int_equal(dtlsudp_listener_get_stats(b.l, &st), DTLSUDP_OK);
    assert_int_equal(st.engine.handshakes_completed, 1);
    assert_int_equal(st.engine.handshakes_resumed, 0);
    assert_int_equal(st.engine.tickets_refused, 1);
    dtlsudp_listener_free(b.l);
}

/* SO_REUSEPORT on the listener's socket (router: dtlsudp_listener_fd()). */
static int socket_reuses_port(const dtlsudp_listener *l)
{
    int on = -1;
    socklen_t len = sizeof(on);
    assert_int_equal(getsockopt(dtlsudp_listener_fd(l), SOL_SOCKET, SO_REUSEPORT, &on, &len), 0);
    return on;
}

/* The current version: reuse_port defaults to 0 and the socket is then
 * not shared; set, it is. */
static void test_current_version_default_and_option(void **state)
{
    dtlsudp_listener_config cfg;
    dtlsudp_listener *l = NULL;

    (void)state;
    memset(&cfg, CANARY, sizeof(cfg));
    assert_int_equal(dtlsudp_listener_config_init_versioned(DTLSUDP_CONFIG_VERSION, &cfg), DTLSUDP_OK);
    assert_int_equal(cfg.reuse_port, 0);
    cfg.demux = DTLSUDP_DEMUX_ROUTER;
    assert_int_equal(dtlsudp_listener_new_versioned(DTLSUDP_CONFIG_VERSION, "127.0.0.1:0", &cfg, dtlsudp_now(), &l),
                     DTLSUDP_OK);
    assert_int_equal(socket_reuses_port(l), 0);
    dtlsudp_listener_free(l);
    cfg.reuse_port = 1;
    assert_int_equal(dtlsudp_listener_new_versioned(DTLSUDP_CONFIG_VERSION, "127.0.0.1:0", &cfg, dtlsudp_now(), &l),
                     DTLSUDP_OK);
    assert_int_not_equal(socket_reuses_port(l), 0);
    dtlsudp_listener_free(l);
}

/* A V1 caller's listener config: the engine config ended at `user' then
 * (V2 appended the identity objects), and demux, blocking, socket_buffer
 * and v6only followed it. */
#define V1_SHIFT (sizeof(dtlsudp_engine_config) - END_OF(dtlsudp_engine_config, user))
#define V1_OFFSET(field) (offsetof(dtlsudp_listener_config, field) - V1_SHIFT)

static void v1_set_demux(uint8_t *cfg, int demux)
{
    memcpy(cfg + V1_OFFSET(demux), &demux, sizeof(demux));
}

/* A caller built against V1 knows no reuse_port: config_init writes
 * nothing past its struct, and dtlsudp_listener_new() reads nothing past
 * it, so whatever follows in memory (here: non-zero bytes where V2 has
 * reuse_port) neither shares the port nor makes osnet refused. */
static void test_v1_callers_never_share(void **state)
{
    const size_t v1_size = END_OF(dtlsudp_listener_config, v6only) - V1_SHIFT;
    uint8_t *cfg = malloc(sizeof(dtlsudp_listener_config));
    dtlsudp_listener *l = NULL;

    (void)state;
    assert_non_null(cfg);
    memset(cfg, CANARY, sizeof(dtlsudp_listener_config));
    assert_int_equal(dtlsudp_listener_config_init_versioned(DTLSUDP_CONFIG_V1, (dtlsudp_listener_config *)cfg),
                     DTLSUDP_OK);
    for (size_t i = v1_size; i < sizeof(dtlsudp_listener_config); i++)
        assert_int_equal(cfg[i], CANARY);

    v1_set_demux(cfg, DTLSUDP_DEMUX_ROUTER);
    assert_int_equal(dtlsudp_listener_new_versioned(DTLSUDP_CONFIG_V1, "127.0.0.1:0", (dtlsudp_listener_config *)cfg,
                                                    dtlsudp_now(), &l),
                     DTLSUDP_OK);
    assert_int_equal(socket_reuses_port(l), 0);
    assert_int_equal(bind_error(port_of(l), 1), EADDRINUSE);
    dtlsudp_listener_free(l);

    v1_set_demux(cfg, DTLSUDP_DEMUX_OSNET);
    assert_int_equal(dtlsudp_listener_new_versioned(DTLSUDP_CONFIG_V1, "127.0.0.1:0", (dtlsudp_listener_config *)cfg,
                                                    dtlsudp_now(), &l),
                     DTLSUDP_OK);
    dtlsudp_listener_free(l);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_shards_share_the_load),
        cmocka_unit_test(test_a_ticket_is_refused_by_another_shard),
        cmocka_unit_test(test_a_taken_port_stays_taken_without_the_option),
        cmocka_unit_test(test_osnet_with_sharing_is_refused),
        cmocka_unit_test(test_current_version_default_and_option),
        cmocka_unit_test(test_v1_callers_never_share),
    };
    return cmocka_run_group_tests_name("transport/net shards", tests, make_certs, remove_certs);
}
