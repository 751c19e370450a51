/*
 * test_server.c - dtlsudp-proxy's terminate mode (transport/proxy/server.c)
 * on loopback: DTLS peers are the library's own client connections, the
 * service a plain UDP socket, all driven by the proxy's loop (loop.c).
 *
 *   - every authenticated peer gets an upstream socket of its own: the
 *     service sees one source per peer, the log line names that source
 *     with the peer, and each reply goes back to its own peer only;
 *   - a peer that fails authentication gets no session and reaches
 *     nothing; nor does one the proxy cannot give an upstream socket
 *     (closed at once); a peer's close_notify closes its upstream socket;
 *   - a reply too large for a record is dropped, logged and counted, and
 *     the session goes on;
 *   - proxy_server_new() refuses a bad forward address, a busy port and an
 *     unusable certificate; a reload with a broken file changes nothing,
 *     and one with a CRL closes exactly the revoked peer's association.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "proxy.h"
#include "proxytest.h"

enum { MAX_PEERS = 4, MAX_HEARD = 16 };

/* A DTLS client of the proxy: the library's connection, in the loop. */
typedef struct peer {
    proxy_watch watch;
    dtlsudp_conn *conn;
} peer;

/* The UDP service: what it heard, and from which source. */
typedef struct service {
    proxy_watch watch;
    int fd;
    uint16_t port;
    int n;
    char text[MAX_HEARD][64];
    struct sockaddr_in from[MAX_HEARD];
} service;

typedef struct fixture {
    test_certs certs;
    proxy_loop loop;
    service svc;
    proxy_config cfg;
    proxy_server *server;
    peer peers[MAX_PEERS];
} fixture;

static void peer_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    (void)events;
    (void)dtlsudp_conn_process(((peer *)w)->conn, now);
}

static void service_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    service *s = (service *)w;
    char buf[64];
    (void)events;
    (void)now;
    for (;;) {
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(s->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (n < 0)
            return;
        if (s->n < MAX_HEARD) {
            buf[n] = 0;
            snprintf(s->text[s->n], sizeof(s->text[s->n]), "%s", buf);
            s->from[s->n++] = from;
        }
    }
}

/* One wait of at most ms, the events, then the timers due. */
static void turn(fixture *f, int ms)
{
    (void)proxy_loop_run_once(&f->loop, ms);
    dtlsudp_time now = dtlsudp_now();
    proxy_server_timeout(f->server, now);
    for (int i = 0; i < MAX_PEERS; i++)
        if (f->peers[i].conn != NULL)
            (void)dtlsudp_conn_handle_timeout(f->peers[i].conn, now);
}

/* Run the loop for at most ms, until done(f) says so. */
static void run(fixture *f, int ms, int (*done)(fixture *))
{
    dtlsudp_time end = dtlsudp_now() + (dtlsudp_time)ms;
    for (;;) {
        dtlsudp_time now = dtlsudp_now(), next = end;
        if (now >= end || done(f))
            return;
        if (proxy_server_next_timeout(f->server) < next)
            next = proxy_server_next_timeout(f->server);
        for (int i = 0; i < MAX_PEERS; i++)
            if (f->peers[i].conn != NULL && dtlsudp_conn_next_timeout(f->peers[i].conn) < next)
                next = dtlsudp_conn_next_timeout(f->peers[i].conn);
        turn(f, next <= now ? 0 : (int)(next - now));
    }
}

static void peer_open(fixture *f, int i, const char *cert, const char *key)
{
    dtlsudp_conn_config cc;
    char port[16];
    dtlsudp_conn_config_init(&cc);
    cc.engine.cert_file = cert;
    cc.engine.key_file = key;
    cc.engine.ca_file = f->certs.ca;
    cc.connect.hostname = "server.example.com";
    snprintf(port, sizeof(port), "%u", ntohs(proxy_server_local(f->server)->sin.sin_port));
    f->peers[i].watch.ready = peer_ready;
    assert_int_equal(dtlsudp_conn_connect("127.0.0.1", port, &cc, 0, dtlsudp_now(), &f->peers[i].conn), DTLSUDP_OK);
    assert_int_equal(proxy_loop_add(&f->loop, dtlsudp_conn_fd(f->peers[i].conn), &f->peers[i].watch), 0);
}

static void peer_close(fixture *f, int i)
{
    proxy_loop_del(&f->loop, dtlsudp_conn_fd(f->peers[i].conn));
    dtlsudp_conn_free(f->peers[i].conn);
    f->peers[i].conn = NULL;
}

static int peers_settled(fixture *f)
{
    /* each peer established or refused, and the server's side done too */
    int want = 0;
    for (int i = 0; i < MAX_PEERS; i++) {
        if (f->peers[i].conn == NULL)
            continue;
        int st = dtlsudp_conn_state(f->peers[i].conn);
        if (st == DTLSUDP_STATE_HANDSHAKING)
            return 0;
        want += st == DTLSUDP_STATE_ESTABLISHED;
    }
    return log_count(" via ") >= want;
}

static void peer_write(fixture *f, int i, const char *text)
{
    assert_int_equal(dtlsudp_conn_write(f->peers[i].conn, (const uint8_t *)text, strlen(text)), DTLSUDP_OK);
}

/* The next plaintext datagram of peer i within ms ("" when none). */
static void peer_read(fixture *f, int i, int ms, char *out, size_t cap)
{
    uint8_t buf[2048];
    size_t len = 0;
    dtlsudp_time end = dtlsudp_now() + (dtlsudp_time)ms;
    out[0] = 0;
    while (dtlsudp_now() < end) {
        int ret = dtlsudp_conn_read(f->peers[i].conn, buf, sizeof(buf), &len, 0);
        if (ret == DTLSUDP_OK) {
            snprintf(out, cap, "%.*s", (int)len, (const char *)buf);
            return;
        }
        if (ret != DTLSUDP_ERR_AGAIN)
            return;
        turn(f, 10);
    }
}

static int heard_two(fixture *f)
{
    return f->svc.n >= 2;
}

static int heard_one(fixture *f)
{
    return f->svc.n >= 1;
}

static void service_send(fixture *f, const struct sockaddr_in *to, const void *buf, size_t len)
{
    assert_int_equal(sendto(f->svc.fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to)), (ssize_t)len);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char text[2048], err[512];
    assert_non_null(f);
    assert_int_equal(test_certs_make(&f->certs), 0);
    assert_int_equal(proxy_loop_open(&f->loop), 0);
    f->svc.watch.ready = service_ready;
    f->svc.fd = test_udp_socket(&f->svc.port);
    assert_int_equal(proxy_loop_add(&f->loop, f->svc.fd, &f->svc.watch), 0);
    snprintf(text, sizeof(text), "[server s]\nlisten 127.0.0.1:0\nforward 127.0.0.1:%u\ncert %s\nkey %s\nca %s\n",
             f->svc.port, f->certs.server, f->certs.server_key, f->certs.ca);
    assert_int_equal(proxy_config_parse(&f->cfg, text, "server.conf", err, sizeof(err)), 0);
    assert_int_equal(proxy_server_new(&f->cfg.services[0], &f->loop, dtlsudp_now(), &f->server), DTLSUDP_OK);
    log_clear();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < MAX_PEERS; i++)
        if (f->peers[i].conn != NULL)
            peer_close(f, i);
    proxy_server_free(f->server);
    proxy_config_free(&f->cfg);
    close(f->svc.fd);
    proxy_loop_close(&f->loop);
    test_certs_remove(&f->certs);
    free(f);
    return 0;
}

/* ---- the tests ---- */

static void test_each_peer_gets_its_own_upstream_socket(void **state)
{
    fixture *f = *state;
    char want[128], got[64];

    peer_open(f, 0, f->certs.client, f->certs.client_key);
    peer_open(f, 1, f->certs.client2, f->certs.client2_key);
    run(f, 5000, peers_settled);
    assert_int_equal(log_count(" via "), 2);
    peer_write(f, 0, "from 0");
    peer_write(f, 1, "from 1");
    run(f, 5000, heard_two);
    assert_int_equal(f->svc.n, 2);

    /* two sources, each the one the log line names for its peer */
    assert_true(f->svc.from[0].sin_port != f->svc.from[1].sin_port);
    for (int k = 0; k < 2; k++) {
        int i = f->svc.text[k][5] - '0';
        assert_true(i == 0 || i == 1);
        assert_int_equal(f->svc.from[k].sin_addr.s_addr, htonl(INADDR_LOOPBACK));
        snprintf(want, sizeof(want), "association 127.0.0.1:%u via 127.0.0.1:%u: ",
                 ntohs(dtlsudp_conn_local(f->peers[i].conn)->sin.sin_port), ntohs(f->svc.from[k].sin_port));
        assert_non_null(log_find(want));
    }

    /* replies, in the other order, each to its own peer */
    for (int k = 1; k >= 0; k--) {
        char reply[32];
        int len = snprintf(reply, sizeof(reply), "to %c", f->svc.text[k][5]);
        service_send(f, &f->svc.from[k], reply, (size_t)len);
    }
    peer_read(f, 0, 3000, got, sizeof(got));
    assert_string_equal(got, "to 0");
    peer_read(f, 1, 3000, got, sizeof(got));
    assert_string_equal(got, "to 1");
    peer_read(f, 0, 100, got, sizeof(got));
    assert_string_equal(got, "");

    proxy_server_report(f->server);
    assert_non_null(log_find("associations 2 open, 2 opened; to service 2 (0 dropped), to peers 2 (0 dropped)"));
}

static void test_unauthenticated_peer_reaches_nothing(void **state)
{
    fixture *f = *state;

    peer_open(f, 0, f->certs.wrong, f->certs.wrong_key);
    peer_write(f, 0, "from 0"); /* held by the library until ESTABLISHED */
    run(f, 5000, peers_settled);
    assert_int_equal(dtlsudp_conn_state(f->peers[0].conn), DTLSUDP_STATE_CLOSED);
    run(f, 200, heard_one);
    assert_int_equal(f->svc.n, 0);
    assert_int_equal(log_count(" via "), 0);
    proxy_server_report(f->server);
    assert_non_null(log_find("associations 0 open, 0 opened; to service 0"));
}

static int session_ended(fixture *f);

/* No file descriptor left for the upstream socket: the authenticated peer
 * is closed rather than kept with nowhere to send its datagrams. */
static void test_peer_without_upstream_socket_is_closed(void **state)
{
    fixture *f = *state;
    struct rlimit saved, none;

    peer_open(f, 0, f->certs.client, f->certs.client_key);
    peer_write(f, 0, "from 0");
    int lowest_free = dup(0);
    assert_true(lowest_free >= 0);
    close(lowest_free);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    none = saved;
    none.rlim_cur = (rlim_t)lowest_free; /* every fd in use: no new one */
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &none), 0);
    run(f, 5000, peers_settled);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);

    assert_non_null(log_find("refused: upstream socket: "));
    assert_int_equal(log_count(" via "), 0);
    assert_int_equal(dtlsudp_conn_state(f->peers[0].conn), DTLSUDP_STATE_CLOSED);
    run(f, 200, heard_one);
    assert_int_equal(f->svc.n, 0);
    proxy_server_report(f->server);
    assert_non_null(log_find("associations 0 open, 0 opened; to service 0"));
}

static int session_ended(fixture *f)
{
    return log_count(" ended: ") > 0;
}

static void test_close_notify_closes_the_upstream_socket(void **state)
{
    fixture *f = *state;
    struct sockaddr_in upstream;

    peer_open(f, 0, f->certs.client, f->certs.client_key);
    run(f, 5000, peers_settled);
    peer_write(f, 0, "from 0");
    run(f, 5000, heard_one);
    assert_int_equal(f->svc.n, 1);
    upstream = f->svc.from[0];

    assert_int_equal(dtlsudp_conn_shutdown(f->peers[0].conn), DTLSUDP_OK);
    run(f, 5000, session_ended);
    assert_non_null(log_find("association 127.0.0.1:"));
    assert_int_equal(log_count(" ended: "), 1);
    /* the upstream socket is closed: its port is free again */
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&upstream, sizeof(upstream)), 0);
    close(fd);
    proxy_server_report(f->server);
    assert_non_null(log_find("associations 0 open, 1 opened"));
}

static void test_oversized_reply_is_dropped(void **state)
{
    fixture *f = *state;
    static uint8_t big[3000];
    char got[64];

    peer_open(f, 0, f->certs.client, f->certs.client_key);
    run(f, 5000, peers_settled);
    peer_write(f, 0, "from 0");
    run(f, 5000, heard_one);
    assert_int_equal(f->svc.n, 1);
    memset(big, 'b', sizeof(big));
    service_send(f, &f->svc.from[0], big, sizeof(big)); /* larger than a slot */
    service_send(f, &f->svc.from[0], big, 1800);        /* larger than a record */
    service_send(f, &f->svc.from[0], "fits", 4);
    peer_read(f, 0, 3000, got, sizeof(got));
    assert_string_equal(got, "fits");
    assert_non_null(log_find("reply of 3000 bytes dropped: larger than "));
    assert_non_null(log_find("reply of 1800 bytes dropped: larger than "));
    proxy_server_report(f->server);
    assert_non_null(log_find("associations 1 open, 1 opened; to service 1 (0 dropped), to peers 1 (2 dropped)"));
}

static void test_new_refuses_bad_settings(void **state)
{
    fixture *f = *state;
    proxy_service_config s = f->cfg.services[0]; /* a copy: the strings stay f's */
    proxy_server *p = (proxy_server *)&p;
    char bad_forward[] = "not-an-address:9", busy[32];

    s.forward = bad_forward;
    assert_int_equal(proxy_server_new(&s, &f->loop, dtlsudp_now(), &p), DTLSUDP_ERR_INVALID);
    assert_null(p);

    /* the running server's own port */
    snprintf(busy, sizeof(busy), "127.0.0.1:%u", ntohs(proxy_server_local(f->server)->sin.sin_port));
    s = f->cfg.services[0];
    s.listen = busy;
    p = (proxy_server *)&p;
    assert_int_equal(proxy_server_new(&s, &f->loop, dtlsudp_now(), &p), DTLSUDP_ERR_SYSTEM);
    assert_int_equal(errno, EADDRINUSE);
    assert_null(p);

    s = f->cfg.services[0];
    s.cert_file = f->certs.junk;
    p = (proxy_server *)&p;
    assert_int_not_equal(proxy_server_new(&s, &f->loop, dtlsudp_now(), &p), DTLSUDP_OK);
    assert_null(p);
}

static int peer0_closed(fixture *f)
{
    return dtlsudp_conn_state(f->peers[0].conn) == DTLSUDP_STATE_CLOSED;
}

static void test_reload(void **state)
{
    fixture *f = *state;
    proxy_service_config s = f->cfg.services[0];
    char got[64];

    peer_open(f, 0, f->certs.client, f->certs.client_key);
    peer_open(f, 1, f->certs.client2, f->certs.client2_key);
    run(f, 5000, peers_settled);
    peer_write(f, 0, "from 0");
    peer_write(f, 1, "from 1");
    run(f, 5000, heard_two);
    assert_int_equal(f->svc.n, 2);

    /* a broken file: refused, both associations untouched */
    s.cert_file = f->certs.junk;
    assert_int_equal(proxy_server_reload(f->server, &s, dtlsudp_now()), -1);
    assert_non_null(log_find("reload refused, still using the previous certificates"));
    run(f, 100, session_ended);
    assert_int_equal(log_count(" ended: "), 0);
    assert_int_equal(dtlsudp_conn_state(f->peers[0].conn), DTLSUDP_STATE_ESTABLISHED);

    /* a CRL revoking client.pem: its association ends, client2's stays */
    s = f->cfg.services[0];
    s.crl_file = f->certs.crl;
    assert_int_equal(proxy_server_reload(f->server, &s, dtlsudp_now()), 0);
    assert_non_null(log_find("certificates reloaded; 1 association kept, 1 revoked"));
    run(f, 3000, peer0_closed);
    assert_int_equal(dtlsudp_conn_state(f->peers[0].conn), DTLSUDP_STATE_CLOSED);
    assert_int_equal(log_count(" ended: "), 1);
    for (int k = 0; k < 2; k++)
        if (f->svc.text[k][5] == '1')
            service_send(f, &f->svc.from[k], "still", 5);
    peer_read(f, 1, 3000, got, sizeof(got));
    assert_string_equal(got, "still");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_peer_gets_its_own_upstream_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unauthenticated_peer_reaches_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_without_upstream_socket_is_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_notify_closes_the_upstream_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_reply_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_refuses_bad_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
