/*
 * test_client.c - dtlsudp-proxy's originate mode (transport/proxy/client.c)
 * on loopback: the DTLS server is the library's own listener (an echo),
 * the local clients plain UDP sockets, all driven by the proxy's loop.
 *
 *   - every local source gets an association of its own; what it sends
 *     before the handshake is held and delivered, replies go back to that
 *     source only, and the loop's deadline follows the sessions;
 *   - max-sessions refuses a new source (logged, counted) and leaves the
 *     others alone; a datagram too large for a record is dropped and the
 *     session goes on; an unreachable server is a counted drop;
 *   - a refused server certificate and a close_notify from the server end
 *     the session, and the source's next datagram opens a new one;
 *   - proxy_client_new() refuses a busy port and a bad address; a reload
 *     with a broken file is refused, one with a CRL revoking the server
 *     closes its associations; proxy_client_free() sends close_notify.
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
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "proxy.h"
#include "proxytest.h"

enum { MAX_SOURCES = 4, MAX_HEARD = 8 };

/* A plain UDP client of the proxy, and the replies it got. */
typedef struct source {
    proxy_watch watch;
    int fd;
    uint16_t port;
    int n;
    char heard[MAX_HEARD][64];
} source;

/* The DTLS server: the library's listener, echoing "echo TEXT". */
typedef struct echo_server {
    proxy_watch watch;
    dtlsudp_listener *listener;
    int received;
    dtlsudp_conn *last_from; /* the association of the last datagram */
} echo_server;

typedef struct fixture {
    test_certs certs;
    proxy_loop loop;
    echo_server server;
    proxy_config cfg;
    proxy_client *client;
    source src[MAX_SOURCES];
} fixture;

static void source_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    source *s = (source *)w;
    char buf[64];
    ssize_t n;
    (void)events;
    (void)now;
    while ((n = recv(s->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) >= 0)
        if (s->n < MAX_HEARD) {
            buf[n] = 0;
            snprintf(s->heard[s->n++], sizeof(s->heard[0]), "%s", buf);
        }
}

static void echo_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    echo_server *e = (echo_server *)w;
    uint8_t buf[2048], reply[2100];
    size_t len;
    dtlsudp_conn *from;
    (void)events;
    (void)dtlsudp_listener_process(e->listener, now);
    while (dtlsudp_listener_recv(e->listener, buf, sizeof(buf), &len, &from) == DTLSUDP_OK) {
        int n = snprintf((char *)reply, sizeof(reply), "echo %.*s", (int)len, (const char *)buf);
        e->received++;
        e->last_from = from;
        if (from != NULL)
            (void)dtlsudp_conn_write(from, reply, (size_t)n);
    }
}

static void run(fixture *f, int ms, int (*done)(fixture *))
{
    dtlsudp_time end = dtlsudp_now() + (dtlsudp_time)ms;
    dtlsudp_engine *e = dtlsudp_listener_engine(f->server.listener);
    for (;;) {
        dtlsudp_time now = dtlsudp_now(), next = end;
        if (now >= end || (done != NULL && done(f)))
            return;
        if (dtlsudp_engine_next_timeout(e) < next)
            next = dtlsudp_engine_next_timeout(e);
        if (f->client != NULL && proxy_client_next_timeout(f->client) < next)
            next = proxy_client_next_timeout(f->client);
        (void)proxy_loop_run_once(&f->loop, next <= now ? 0 : (int)(next - now));
        now = dtlsudp_now();
        (void)dtlsudp_listener_handle_timeout(f->server.listener, now);
        if (f->client != NULL)
            proxy_client_timeout(f->client, now);
    }
}

/* The proxy client toward the echo server, with extra "key value" lines. */
static int client_start(fixture *f, const char *hostname, const char *extra)
{
    char text[2048], err[512];
    snprintf(text, sizeof(text),
             "[client c]\nlisten 127.0.0.1:0\nconnect 127.0.0.1:%u\nhostname %s\ncert %s\nkey %s\nca %s\n%s",
             ntohs(dtlsudp_listener_local_addr(f->server.listener)->sin.sin_port), hostname, f->certs.client,
             f->certs.client_key, f->certs.ca, extra);
    assert_int_equal(proxy_config_parse(&f->cfg, text, "client.conf", err, sizeof(err)), 0);
    return proxy_client_new(&f->cfg.services[0], &f->loop, dtlsudp_now(), &f->client);
}

static void source_send(fixture *f, int i, const char *text, size_t len)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = proxy_client_local(f->client)->sin.sin_port};
    assert_int_equal(sendto(f->src[i].fd, text, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
}

static void source_say(fixture *f, int i, const char *text)
{
    source_send(f, i, text, strlen(text));
}

static int target_heard; /* how many replies each active source waits for */
static int n_active;

static int all_heard(fixture *f)
{
    for (int i = 0; i < n_active; i++)
        if (f->src[i].n < target_heard)
            return 0;
    return 1;
}

/* Run until sources 0..n-1 each hold `heard' replies (at most ms). */
static void run_until_heard(fixture *f, int n, int heard, int ms)
{
    n_active = n;
    target_heard = heard;
    run(f, ms, all_heard);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    dtlsudp_listener_config lc;
    assert_non_null(f);
    assert_int_equal(test_certs_make(&f->certs), 0);
    assert_int_equal(proxy_loop_open(&f->loop), 0);
    dtlsudp_listener_config_init(&lc);
    lc.engine.cert_file = f->certs.server;
    lc.engine.key_file = f->certs.server_key;
    lc.engine.ca_file = f->certs.ca;
    assert_int_equal(dtlsudp_listener_new("127.0.0.1:0", &lc, dtlsudp_now(), &f->server.listener), DTLSUDP_OK);
    f->server.watch.ready = echo_ready;
    assert_int_equal(proxy_loop_add(&f->loop, dtlsudp_listener_fd(f->server.listener), &f->server.watch), 0);
    for (int i = 0; i < MAX_SOURCES; i++) {
        f->src[i].watch.ready = source_ready;
        f->src[i].fd = test_udp_socket(&f->src[i].port);
        assert_int_equal(proxy_loop_add(&f->loop, f->src[i].fd, &f->src[i].watch), 0);
    }
    log_clear();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    proxy_client_free(f->client);
    proxy_config_free(&f->cfg);
    dtlsudp_listener_free(f->server.listener);
    for (int i = 0; i < MAX_SOURCES; i++)
        close(f->src[i].fd);
    proxy_loop_close(&f->loop);
    test_certs_remove(&f->certs);
    free(f);
    return 0;
}

static uint64_t server_assocs_now(fixture *f)
{
    dtlsudp_net_stats st;
    assert_int_equal(dtlsudp_listener_get_stats(f->server.listener, &st), DTLSUDP_OK);
    return st.conns_now;
}

/* ---- the tests ---- */

static void test_each_source_gets_its_own_association(void **state)
{
    fixture *f = *state;
    char want[96];

    assert_int_equal(client_start(f, "server.example.com", ""), DTLSUDP_OK);
    assert_int_equal(proxy_client_next_timeout(f->client), DTLSUDP_TIME_NEVER);
    /* each speaks before its handshake can have finished, and again */
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 3; i++) {
            char msg[16];
            snprintf(msg, sizeof(msg), "%d.%d", i, round);
            source_say(f, i, msg);
        }
    run(f, 20, NULL);
    /* the sessions' deadlines (handshake, then idle) */
    assert_true(proxy_client_next_timeout(f->client) != DTLSUDP_TIME_NEVER);
    run_until_heard(f, 3, 2, 5000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->src[i].n, 2);
        for (int round = 0; round < 2; round++) {
            snprintf(want, sizeof(want), "echo %d.%d", i, round);
            assert_string_equal(f->src[i].heard[round], want);
        }
        snprintf(want, sizeof(want), "association for 127.0.0.1:%u to 127.0.0.1:%u: ", f->src[i].port,
                 ntohs(dtlsudp_listener_local_addr(f->server.listener)->sin.sin_port));
        assert_non_null(log_find(want));
    }
    assert_int_equal(f->src[3].n, 0);
    assert_int_equal(server_assocs_now(f), 3);
    proxy_client_report(f->client);
    assert_non_null(log_find("sessions 3 open, 3 opened, 0 refused; to server 6 (0 dropped), to clients 6 (0 dropped)"));
}

static void test_max_sessions_refuses_a_new_source(void **state)
{
    fixture *f = *state;
    char want[96];

    assert_int_equal(client_start(f, "server.example.com", "max-sessions 2\n"), DTLSUDP_OK);
    source_say(f, 0, "a");
    source_say(f, 1, "b");
    source_say(f, 2, "c");
    run_until_heard(f, 2, 1, 5000);
    run(f, 100, NULL);
    assert_int_equal(f->src[0].n, 1);
    assert_int_equal(f->src[1].n, 1);
    assert_int_equal(f->src[2].n, 0);
    assert_int_equal(server_assocs_now(f), 2);
    snprintf(want, sizeof(want), "127.0.0.1:%u dropped: max-sessions (2) reached", f->src[2].port);
    assert_non_null(log_find(want));
    /* the sessions it has go on */
    source_say(f, 0, "a2");
    run_until_heard(f, 1, 2, 3000);
    assert_string_equal(f->src[0].heard[1], "echo a2");
    proxy_client_report(f->client);
    assert_non_null(log_find("sessions 2 open, 2 opened, 1 refused; to server 3 (1 dropped)"));
}

static void test_oversized_datagram_is_dropped(void **state)
{
    fixture *f = *state;
    static char big[3000];

    assert_int_equal(client_start(f, "server.example.com", ""), DTLSUDP_OK);
    source_say(f, 0, "first");
    run_until_heard(f, 1, 1, 5000);
    memset(big, 'b', sizeof(big));
    source_send(f, 0, big, sizeof(big)); /* larger than a slot */
    source_send(f, 0, big, 1800);        /* larger than a record */
    source_say(f, 0, "fits");
    run_until_heard(f, 1, 2, 3000);
    assert_int_equal(f->src[0].n, 2);
    assert_string_equal(f->src[0].heard[1], "echo fits");
    assert_int_equal(f->server.received, 2);
    assert_non_null(log_find("datagram of 3000 bytes dropped: larger than "));
    assert_non_null(log_find("datagram of 1800 bytes dropped: larger than "));
    proxy_client_report(f->client);
    assert_non_null(log_find("sessions 1 open, 1 opened, 0 refused; to server 2 (2 dropped)"));
}

static int session_ended(fixture *f)
{
    (void)f;
    return log_count("association for 127.0.0.1:") > log_count(" to 127.0.0.1:");
}

static int ended_twice(fixture *f)
{
    (void)f;
    return log_count("no association for 127.0.0.1:") >= 2;
}

static void test_refused_server_certificate_ends_the_session(void **state)
{
    fixture *f = *state;
    char want[96];

    /* the server's certificate does not name this host */
    assert_int_equal(client_start(f, "elsewhere.example.com", ""), DTLSUDP_OK);
    source_say(f, 0, "x");
    run(f, 5000, session_ended);
    snprintf(want, sizeof(want), "no association for 127.0.0.1:%u: ", f->src[0].port);
    assert_non_null(log_find(want));
    run(f, 100, NULL);
    assert_int_equal(f->src[0].n, 0);
    assert_int_equal(f->server.received, 0);
    assert_int_equal(proxy_client_next_timeout(f->client), DTLSUDP_TIME_NEVER);
    /* the source is forgotten: its next datagram tries again */
    source_say(f, 0, "y");
    run(f, 5000, ended_twice);
    assert_int_equal(log_count(want), 2);
    proxy_client_report(f->client);
    assert_non_null(log_find("sessions 0 open, 2 opened, 0 refused; to server 2 (0 dropped)"));
}

static void test_close_notify_from_server_ends_the_session(void **state)
{
    fixture *f = *state;
    char want[96];

    assert_int_equal(client_start(f, "server.example.com", ""), DTLSUDP_OK);
    source_say(f, 0, "one");
    run_until_heard(f, 1, 1, 5000);
    assert_non_null(f->server.last_from);
    dtlsudp_assoc_close(dtlsudp_conn_assoc(f->server.last_from), dtlsudp_now());
    f->server.last_from = NULL;
    (void)dtlsudp_listener_handle_timeout(f->server.listener, dtlsudp_now()); /* send the close_notify */
    run(f, 3000, session_ended);
    snprintf(want, sizeof(want), "association for 127.0.0.1:%u: ", f->src[0].port);
    assert_non_null(log_find(want));
    assert_int_equal(proxy_client_next_timeout(f->client), DTLSUDP_TIME_NEVER);

    /* the source's next datagram opens a new session */
    source_say(f, 0, "two");
    run_until_heard(f, 1, 2, 5000);
    assert_string_equal(f->src[0].heard[1], "echo two");
    proxy_client_report(f->client);
    assert_non_null(log_find("sessions 1 open, 2 opened, 0 refused; to server 2 (0 dropped)"));
}

static void test_new_refuses_bad_settings(void **state)
{
    fixture *f = *state;
    proxy_client *p = (proxy_client *)&p;
    char busy[32], bad[] = "not-an-address:1";

    assert_int_equal(client_start(f, "server.example.com", ""), DTLSUDP_OK);
    proxy_service_config s = f->cfg.services[0]; /* a copy: the strings stay f's */
    snprintf(busy, sizeof(busy), "127.0.0.1:%u", ntohs(proxy_client_local(f->client)->sin.sin_port));
    s.listen = busy;
    assert_int_equal(proxy_client_new(&s, &f->loop, dtlsudp_now(), &p), DTLSUDP_ERR_SYSTEM);
    assert_int_equal(errno, EADDRINUSE);
    assert_null(p);
    s.listen = bad;
    p = (proxy_client *)&p;
    assert_int_equal(proxy_client_new(&s, &f->loop, dtlsudp_now(), &p), DTLSUDP_ERR_INVALID);
    assert_null(p);
}

static void test_unreachable_server_is_a_counted_drop(void **state)
{
    fixture *f = *state;
    char bad_port[] = "no-such-service";

    assert_int_equal(client_start(f, "server.example.com", ""), DTLSUDP_OK);
    char *port = f->cfg.services[0].connect_port;
    f->cfg.services[0].connect_port = bad_port; /* resolves to nothing */
    source_say(f, 0, "x");
    run(f, 100, NULL);
    f->cfg.services[0].connect_port = port;
    assert_non_null(log_find(": cannot reach 127.0.0.1 port no-such-service: "));
    assert_int_equal(proxy_client_next_timeout(f->client), DTLSUDP_TIME_NEVER);
    proxy_client_report(f->client);
    assert_non_null(log_find("sessions 0 open, 0 opened, 0 refused; to server 0 (1 dropped)"));
}

static int server_has_none(fixture *f)
{
    return server_assocs_now(f) == 0;
}

static void test_reload_and_free(void **state)
{
    fixture *f = *state;
    proxy_service_config s;

    assert_int_equal(client_start(f, "server.example.com", ""), DTLSUDP_OK);
    source_say(f, 0, "a");
    source_say(f, 1, "b");
    run_until_heard(f, 2, 1, 5000);
    assert_int_equal(server_assocs_now(f), 2);

    /* a broken file: refused, the sessions stay */
    s = f->cfg.services[0];
    s.key_file = f->certs.junk;
    assert_int_equal(proxy_client_reload(f->client, &s, dtlsudp_now()), -1);
    assert_non_null(log_find("reload: new associations will fail: "));
    source_say(f, 0, "a2");
    run_until_heard(f, 1, 2, 3000);
    assert_string_equal(f->src[0].heard[1], "echo a2");

    /* a CRL revoking the server's certificate: both sessions end, with
     * close_notify (the server forgets them) */
    s = f->cfg.services[0];
    s.crl_file = f->certs.crl_server;
    assert_int_equal(proxy_client_reload(f->client, &s, dtlsudp_now()), 0);
    assert_non_null(log_find("certificates reloaded; 0 associations kept, 2 revoked"));
    run(f, 3000, server_has_none);
    assert_int_equal(server_assocs_now(f), 0);

    /* a new session, then free: close_notify to the server */
    source_say(f, 2, "c");
    run_until_heard(f, 3, 1, 5000);
    assert_int_equal(server_assocs_now(f), 1);
    proxy_client_free(f->client);
    f->client = NULL;
    run(f, 3000, server_has_none);
    assert_int_equal(server_assocs_now(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_source_gets_its_own_association, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_sessions_refuses_a_new_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_datagram_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_server_certificate_ends_the_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_notify_from_server_ends_the_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_refuses_bad_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_server_is_a_counted_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_and_free, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
