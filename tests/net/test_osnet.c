/*
 * test_osnet.c - the two osnet races, made to happen every time.
 *
 * The osnet demultiplexer gives an established peer its own socket, bound
 * with SO_REUSEPORT to the listener's address and then connected to the
 * peer.  Two windows exist:
 *   1. between bind() and connect() the new socket may receive datagrams
 *      of *other* peers (it outscores a wildcard listener; beside a
 *      listener on the same address the reuseport group picks by hash);
 *   2. datagrams of the peer that arrived before its socket existed stay
 *      queued on the listening socket.
 * This program links the library's objects to reach the test hook that
 * runs inside those windows (transport/net/net_internal.h), sends a
 * datagram into each, and checks that both are routed to their own
 * association: none lost, none misattributed.
 */
#include "config.h"

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "dtlsudp.h"
#include "certs.h"
#include "../../transport/net/net_internal.h"

#define WAIT_MS 30000

typedef struct variant {
    const char *name;
    int family; /* of the client */
    const char *listen;
} variant;

static const variant v4 = {"IPv4", AF_INET, "127.0.0.1:0"};
static const variant v6 = {"IPv6", AF_INET6, "[::1]:0"};
static const variant dual = {"dual-stack", AF_INET, "[::]:0"};

static char certdir[64];
static char path_ca[128], path_server[128], path_server_key[128], path_client[128], path_client_key[128];

typedef struct race {
    dtlsudp_conn *client;
    int stranger;        /* a socket of another peer: sends a ClientHello */
    dtlsudp_addr server; /* where the stranger sends */
    uint8_t hello[2048];
    size_t hello_len;
    int queued_sent, stranger_sent;
} race;

static size_t make_client_hello(uint8_t *buf, size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
    SSL *ssl = SSL_new(ctx);
    BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, rbio, wbio);
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    DTLS_set_link_mtu(ssl, 1500);
    (void)SSL_connect(ssl);
    int n = BIO_read(wbio, buf, (int)cap);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return n > 0 ? (size_t)n : 0;
}

static void hook(int stage, int fd, void *arg)
{
    race *r = arg;
    (void)fd;
    if (stage == NET_HOOK_BEFORE_SOCKET && !r->queued_sent) {
        /* Window 2: the server has sent its last flight; let the client
         * finish and write before its peer socket exists. */
        dtlsudp_time until = dtlsudp_now() + WAIT_MS;
        while (dtlsudp_conn_state(r->client) != DTLSUDP_STATE_ESTABLISHED && dtlsudp_now() < until) {
            struct pollfd p = {.fd = dtlsudp_conn_fd(r->client), .events = POLLIN};
            (void)poll(&p, 1, 50);
            (void)dtlsudp_conn_process(r->client, dtlsudp_now());
        }
        r->queued_sent = dtlsudp_conn_write(r->client, (const uint8_t *)"queued", 6) == DTLSUDP_OK;
    }
    if (stage == NET_HOOK_BOUND && !r->stranger_sent) {
        /* Window 1: another peer's datagram while bound, not connected. */
        socklen_t len = r->server.sa.sa_family == AF_INET6 ? sizeof(r->server.sin6) : sizeof(r->server.sin);
        r->stranger_sent = sendto(r->stranger, r->hello, r->hello_len, 0, &r->server.sa, len) ==
                           (ssize_t)r->hello_len;
    }
}

static void pump(dtlsudp_listener *l, dtlsudp_conn **server, dtlsudp_conn *client)
{
    struct pollfd p[3] = {{.fd = dtlsudp_listener_fd(l), .events = POLLIN},
                          {.fd = dtlsudp_conn_fd(client), .events = POLLIN},
                          {.fd = *server != NULL ? dtlsudp_conn_fd(*server) : -1, .events = POLLIN}};
    (void)poll(p, 3, 20);
    dtlsudp_time now = dtlsudp_now();
    assert_int_equal(dtlsudp_listener_process(l, now), DTLSUDP_OK);
    assert_int_equal(dtlsudp_conn_process(client, now), DTLSUDP_OK);
    if (*server == NULL)
        (void)dtlsudp_listener_accept(l, 0, server);
    if (*server != NULL) {
        uint8_t buf[64];
        size_t len;
        assert_int_equal(dtlsudp_conn_process(*server, now), DTLSUDP_OK);
        while (dtlsudp_conn_read(*server, buf, sizeof(buf), &len, 0) == DTLSUDP_OK)
            assert_int_equal(dtlsudp_conn_write(*server, buf, len), DTLSUDP_OK);
    }
}

static void test_races(void **state)
{
    const variant *v = *state;
    dtlsudp_listener_config lcfg;
    dtlsudp_conn_config ccfg;
    dtlsudp_listener *l = NULL;
    dtlsudp_conn *server = NULL;
    race r;
    char port[8];
    uint8_t buf[2048];
    size_t len;

    print_message("[ %s ]\n", v->name);
    memset(&r, 0, sizeof(r));
    r.hello_len = make_client_hello(r.hello, sizeof(r.hello));
    assert_true(r.hello_len > 13);

    dtlsudp_listener_config_init(&lcfg);
    lcfg.demux = DTLSUDP_DEMUX_OSNET;
    lcfg.engine.cert_file = path_server;
    lcfg.engine.key_file = path_server_key;
    lcfg.engine.ca_file = path_ca;
    assert_int_equal(dtlsudp_listener_new(v->listen, &lcfg, dtlsudp_now(), &l), DTLSUDP_OK);
    uint16_t p = ntohs(dtlsudp_listener_local_addr(l)->sin.sin_port);
    snprintf(port, sizeof(port), "%u", p);

    memset(&r.server, 0, sizeof(r.server));
    if (v->family == AF_INET6) {
        r.server.sin6.sin6_family = AF_INET6;
        r.server.sin6.sin6_addr = in6addr_loopback;
        r.server.sin6.sin6_port = htons(p);
    } else {
        r.server.sin.sin_family = AF_INET;
        r.server.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        r.server.sin.sin_port = htons(p);
    }
    r.stranger = socket(v->family, SOCK_DGRAM, 0);
    assert_true(r.stranger >= 0);

    dtlsudp_conn_config_init(&ccfg);
    ccfg.engine.cert_file = path_client;
    ccfg.engine.key_file = path_client_key;
    ccfg.engine.ca_file = path_ca;
    assert_int_equal(dtlsudp_conn_connect(v->family == AF_INET6 ? "::1" : "127.0.0.1", port, &ccfg, 0,
                                     dtlsudp_now(), &r.client),
                     DTLSUDP_OK);
    net_test_hook = hook;
    net_test_hook_arg = &r;

    /* Window 2: "queued" sat on the listening socket; it must reach the
     * client's association (and be echoed back). */
    int ret = DTLSUDP_ERR_AGAIN;
    dtlsudp_time until = dtlsudp_now() + WAIT_MS;
    while ((ret = dtlsudp_conn_read(r.client, buf, sizeof(buf), &len, 0)) == DTLSUDP_ERR_AGAIN &&
           dtlsudp_now() < until)
        pump(l, &server, r.client);
    net_test_hook = NULL;
    assert_true(r.queued_sent);
    assert_true(r.stranger_sent);
    assert_int_equal(ret, DTLSUDP_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, "queued", 6);

    /* Window 1: the stranger's ClientHello landed on the new socket and
     * was answered statelessly, from the listener's address. */
    struct pollfd pf = {.fd = r.stranger, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, WAIT_MS), 1);
    dtlsudp_addr from;
    socklen_t flen = sizeof(from);
    ssize_t n = recvfrom(r.stranger, buf, sizeof(buf), 0, &from.sa, &flen);
    assert_true(n > 13);
    assert_int_equal(buf[0], 22); /* handshake record */
    assert_int_equal(buf[13], 3); /* HelloVerifyRequest */
    assert_int_equal(ntohs(from.sin.sin_port), p);

    dtlsudp_net_stats st;
    assert_int_equal(dtlsudp_listener_get_stats(l, &st), DTLSUDP_OK);
    /* Both sockets carry SO_REUSEPORT.  On a wildcard listener the new
     * socket, bound to the specific address, outscores it: the stranger's
     * hello lands on it and is rerouted.  On a listener bound to that same
     * address the two form one reuseport group, and the kernel picks one
     * of its unconnected members by hash: either way it is answered. */
    if (v == &dual)
        assert_int_equal(st.rerouted, 1);
    else
        assert_true(st.rerouted <= 1);
    assert_int_equal(st.peer_sockets_now, 1);
    assert_int_equal(st.engine.assocs_now, 1);
    assert_int_equal(st.engine.half_open_now, 0);
    assert_int_equal(st.engine.dropped_stale + st.engine.dropped_unknown, 0);
    /* the client's association saw nothing foreign */
    assert_int_equal(dtlsudp_conn_read(r.client, buf, sizeof(buf), &len, 0), DTLSUDP_ERR_AGAIN);
    assert_int_equal(dtlsudp_conn_state(r.client), DTLSUDP_STATE_ESTABLISHED);

    close(r.stranger);
    dtlsudp_conn_free(r.client);
    dtlsudp_conn_free(server);
    dtlsudp_listener_free(l);
}

static int make_certs(void **state)
{
    (void)state;
    snprintf(certdir, sizeof(certdir), "/tmp/dtlsudp-test-osnet.XXXXXX");
    if (mkdtemp(certdir) == NULL || testcerts_make(certdir) != 0)
        return -1;
    snprintf(path_ca, sizeof(path_ca), "%s/ca.pem", certdir);
    snprintf(path_server, sizeof(path_server), "%s/server.pem", certdir);
    snprintf(path_server_key, sizeof(path_server_key), "%s/server.key", certdir);
    snprintf(path_client, sizeof(path_client), "%s/client.pem", certdir);
    snprintf(path_client_key, sizeof(path_client_key), "%s/client.key", certdir);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_races, (void *)&v4),
        cmocka_unit_test_prestate(test_races, (void *)&v6),
        cmocka_unit_test_prestate(test_races, (void *)&dual),
    };
    return cmocka_run_group_tests_name("transport/net osnet races", tests, make_certs, remove_certs);
}
