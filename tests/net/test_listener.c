/*
 * test_listener.c - the listener (transport/net/listener.c) seen from a
 * client that is only an engine on a plain UDP socket, so that nothing of
 * the socket layer's client side is involved: what dtlsudp_listener_new()
 * refuses, the bound address and demultiplexer it reports, and for each
 * demultiplexer one association from handshake to accept, find, data both
 * ways, the per-association socket (osnet) and the counters.  Loopback,
 * ephemeral ports, bounded waits.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "net_internal.h"
#include "certs.h"

static char dir[64], path_ca[128], path_server[128], path_server_key[128], path_client[128], path_client_key[128];

static int make_certs(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/dtlsudp-test-listener-XXXXXX");
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
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void server_config(dtlsudp_listener_config *cfg, int demux)
{
    dtlsudp_listener_config_init(cfg);
    cfg->demux = demux;
    cfg->engine.cert_file = path_server;
    cfg->engine.key_file = path_server_key;
    cfg->engine.ca_file = path_ca;
}

static void test_new_refuses(void **state)
{
    dtlsudp_listener_config cfg;
    dtlsudp_listener *l = NULL, *taken = NULL;
    char addr[64];

    (void)state;
    server_config(&cfg, DTLSUDP_DEMUX_DEFAULT);
    assert_int_equal(dtlsudp_listener_new("localhost:161", &cfg, dtlsudp_now(), &l), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_listener_new("127.0.0.1:99999", &cfg, dtlsudp_now(), &l), DTLSUDP_ERR_INVALID);
    assert_null(l);
    cfg.demux = 7;
    assert_int_equal(dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l), DTLSUDP_ERR_INVALID);
    assert_null(l);
    cfg.demux = DTLSUDP_DEMUX_DEFAULT;
    cfg.engine.cert_file = "/nonexistent.pem";
    assert_int_equal(dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l), DTLSUDP_ERR_CONFIG);
    assert_null(l);

    /* a port in use is never shared */
    server_config(&cfg, DTLSUDP_DEMUX_DEFAULT);
    assert_int_equal(dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &taken), DTLSUDP_OK);
    assert_int_equal(dtlsudp_addr_format(dtlsudp_listener_local_addr(taken), addr, sizeof(addr)), DTLSUDP_OK);
    assert_int_equal(dtlsudp_listener_new(addr, &cfg, dtlsudp_now(), &l), DTLSUDP_ERR_SYSTEM);
    assert_int_equal(errno, EADDRINUSE);
    assert_null(l);
    dtlsudp_listener_free(taken);
    dtlsudp_listener_free(NULL);
}

static void test_bound_address_and_demux(void **state)
{
    dtlsudp_listener_config cfg;
    dtlsudp_listener *l = NULL;
    const dtlsudp_addr *a;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    (void)state;
    server_config(&cfg, DTLSUDP_DEMUX_DEFAULT);
    assert_int_equal(dtlsudp_listener_new("[::1]:0", &cfg, dtlsudp_now(), &l), DTLSUDP_OK);
    a = dtlsudp_listener_local_addr(l);
    assert_int_equal(a->sa.sa_family, AF_INET6);
    assert_int_not_equal(a->sin6.sin6_port, 0); /* the real port of port 0 */
    assert_int_equal(dtlsudp_listener_demux(l), DTLSUDP_DEMUX_OSNET); /* Linux default */
    /* osnet: the pollable fd is an epoll set, not a socket */
    assert_int_not_equal(getsockname(dtlsudp_listener_fd(l), (struct sockaddr *)&ss, &len), 0);
    assert_non_null(dtlsudp_listener_engine(l));
    dtlsudp_listener_free(l);

    server_config(&cfg, DTLSUDP_DEMUX_ROUTER);
    assert_int_equal(dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l), DTLSUDP_OK);
    assert_int_equal(dtlsudp_listener_demux(l), DTLSUDP_DEMUX_ROUTER);
    /* router: the listening socket itself */
    len = sizeof(ss);
    assert_int_equal(getsockname(dtlsudp_listener_fd(l), (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(dtlsudp_listener_fd(l), net_listener_socket(l));
    dtlsudp_listener_free(l);
}

/* --- a client that is an engine on a plain socket --- */

typedef struct raw_client {
    dtlsudp_engine *e;
    dtlsudp_assoc *a;
    int fd;
    dtlsudp_addr addr;
    int established;
    uint8_t got[256];
    size_t got_len;
} raw_client;

static void client_event(void *user, dtlsudp_assoc *a, int event, int reason)
{
    raw_client *rc = user;
    (void)reason;
    if (event == DTLSUDP_EVENT_ESTABLISHED)
        rc->established = 1;
    else if (event == DTLSUDP_EVENT_DATA)
        (void)dtlsudp_assoc_read(a, rc->got, sizeof(rc->got), &rc->got_len);
}

static void client_flush(raw_client *rc)
{
    uint8_t buf[2048];
    size_t len;
    dtlsudp_addr to;

    while (dtlsudp_engine_pop(rc->e, buf, sizeof(buf), &len, &to, NULL, NULL) == DTLSUDP_OK)
        assert_true(sendto(rc->fd, buf, len, 0, &to.sa, net_addr_len(&to)) == (ssize_t)len);
}

static void client_read(raw_client *rc)
{
    uint8_t buf[2048];
    dtlsudp_addr from;
    socklen_t alen = sizeof(from);
    ssize_t n;

    while ((n = recvfrom(rc->fd, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &alen)) > 0) {
        (void)dtlsudp_engine_receive(rc->e, &from, NULL, buf, (size_t)n, dtlsudp_now(), NULL);
        alen = sizeof(from);
    }
}

/* Run both sides until done(rc) or 3 s. */
static int run(dtlsudp_listener *l, raw_client *rc, int (*done)(dtlsudp_listener *, raw_client *))
{
    dtlsudp_time end = dtlsudp_now() + 3000;

    while (!done(l, rc) && dtlsudp_now() < end) {
        struct pollfd p[2] = {{.fd = dtlsudp_listener_fd(l), .events = POLLIN}, {.fd = rc->fd, .events = POLLIN}};
        client_flush(rc);
        (void)poll(p, 2, 20);
        assert_int_equal(dtlsudp_listener_process(l, dtlsudp_now()), DTLSUDP_OK);
        client_read(rc);
        (void)dtlsudp_engine_handle_timeout(rc->e, dtlsudp_now());
    }
    return done(l, rc);
}

static void client_start(raw_client *rc, const dtlsudp_addr *server)
{
    dtlsudp_engine_config cfg;
    dtlsudp_addr any;
    socklen_t len = sizeof(rc->addr);

    memset(rc, 0, sizeof(*rc));
    dtlsudp_engine_config_init(&cfg);
    cfg.cert_file = path_client;
    cfg.key_file = path_client_key;
    cfg.ca_file = path_ca;
    cfg.on_event = client_event;
    cfg.user = rc;
    assert_int_equal(dtlsudp_engine_new(&cfg, dtlsudp_now(), &rc->e), DTLSUDP_OK);
    rc->fd = socket(server->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(rc->fd >= 0);
    memset(&any, 0, sizeof(any));
    any.sa.sa_family = server->sa.sa_family;
    if (any.sa.sa_family == AF_INET)
        any.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else
        any.sin6.sin6_addr = in6addr_loopback;
    assert_int_equal(bind(rc->fd, &any.sa, net_addr_len(&any)), 0);
    assert_int_equal(getsockname(rc->fd, &rc->addr.sa, &len), 0);
    assert_int_equal(dtlsudp_engine_connect(rc->e, server, NULL, dtlsudp_now(), &rc->a), DTLSUDP_OK);
}

static void client_stop(raw_client *rc)
{
    dtlsudp_engine_free(rc->e);
    close(rc->fd);
}

static int client_established(dtlsudp_listener *l, raw_client *rc)
{
    (void)l;
    return rc->established;
}

static int waiting_for_accept(dtlsudp_listener *l, raw_client *rc)
{
    return rc->established && dtlsudp_listener_next_timeout(l) == 0;
}

static int client_got_reply(dtlsudp_listener *l, raw_client *rc)
{
    (void)l;
    return rc->got_len > 0;
}

static void one_association(int demux, const char *addr)
{
    dtlsudp_listener_config cfg;
    dtlsudp_listener *l = NULL;
    dtlsudp_conn *c = NULL;
    raw_client rc;
    dtlsudp_net_stats st;
    uint8_t buf[64];
    size_t len = 0;

    server_config(&cfg, demux);
    assert_int_equal(dtlsudp_listener_new(addr, &cfg, dtlsudp_now(), &l), DTLSUDP_OK);
    /* nothing yet: accept does not wait with timeout 0 */
    assert_int_equal(dtlsudp_listener_accept(l, 0, &c), DTLSUDP_ERR_AGAIN);
    assert_null(dtlsudp_listener_find(l, dtlsudp_listener_local_addr(l)));

    client_start(&rc, dtlsudp_listener_local_addr(l));
    assert_true(run(l, &rc, client_established));
    /* the connection waits to be accepted: the deadline says "now" */
    assert_true(run(l, &rc, waiting_for_accept));
    {
        /* ... but not for a loop that never accepts: its deadline is the
         * timers' (here the association's idle expiry), in the future */
        dtlsudp_time timer = dtlsudp_listener_next_timer(l);
        assert_true(timer > dtlsudp_now());
        assert_true(timer != DTLSUDP_TIME_NEVER);
        assert_true(timer == dtlsudp_engine_next_timeout(dtlsudp_listener_engine(l)));
        assert_true(dtlsudp_listener_next_timeout(l) == 0);
    }
    assert_non_null(dtlsudp_listener_find(l, &rc.addr));
    assert_int_equal(dtlsudp_listener_accept(l, 0, &c), DTLSUDP_OK);
    assert_non_null(c);
    assert_ptr_equal(dtlsudp_listener_find(l, &rc.addr), c);
    assert_ptr_equal(dtlsudp_conn_listener(c), l);
    assert_true(dtlsudp_addr_equal(dtlsudp_conn_peer(c), &rc.addr));
    assert_int_equal(dtlsudp_conn_state(c), DTLSUDP_STATE_ESTABLISHED);
    {
        dtlsudp_conn *none = NULL;
        assert_int_equal(dtlsudp_listener_accept(l, 0, &none), DTLSUDP_ERR_AGAIN);
        assert_null(none);
    }

    assert_int_equal(dtlsudp_listener_get_stats(l, &st), DTLSUDP_OK);
    assert_int_equal(st.conns_now, 1);
    assert_int_equal(st.conns_accepted, 1);
    assert_int_equal(st.engine.handshakes_completed, 1);
    if (demux == DTLSUDP_DEMUX_OSNET) {
        /* its own socket, connected to the peer */
        assert_int_equal(st.peer_sockets_now, 1);
        assert_true(dtlsudp_conn_fd(c) >= 0);
        assert_int_not_equal(dtlsudp_conn_fd(c), net_listener_socket(l));
    } else {
        assert_int_equal(st.peer_sockets_now, 0);
    }

    /* data both ways */
    assert_int_equal(dtlsudp_assoc_write(rc.a, (const uint8_t *)"ping", 4, dtlsudp_now()), DTLSUDP_OK);
    client_flush(&rc);
    assert_int_equal(dtlsudp_conn_read(c, buf, sizeof(buf), &len, 2000), DTLSUDP_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(dtlsudp_conn_write(c, (const uint8_t *)"pong", 4), DTLSUDP_OK);
    assert_true(run(l, &rc, client_got_reply));
    assert_int_equal(rc.got_len, 4);
    assert_memory_equal(rc.got, "pong", 4);

    dtlsudp_conn_free(c);
    assert_int_equal(dtlsudp_listener_get_stats(l, &st), DTLSUDP_OK);
    assert_int_equal(st.conns_now, 0);
    dtlsudp_listener_free(l);
    client_stop(&rc);
}

static void test_osnet_ipv4(void **state)
{
    (void)state;
    one_association(DTLSUDP_DEMUX_OSNET, "127.0.0.1:0");
}

static void test_router_ipv4(void **state)
{
    (void)state;
    one_association(DTLSUDP_DEMUX_ROUTER, "127.0.0.1:0");
}

static void test_osnet_ipv6(void **state)
{
    (void)state;
    one_association(DTLSUDP_DEMUX_OSNET, "[::1]:0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_refuses),
        cmocka_unit_test(test_bound_address_and_demux),
        cmocka_unit_test(test_osnet_ipv4),
        cmocka_unit_test(test_router_ipv4),
        cmocka_unit_test(test_osnet_ipv6),
    };
    return cmocka_run_group_tests(tests, make_certs, remove_certs);
}
