/*
 * test_relay.c - dtlsudp-proxy's two modes in one process: client.c and
 * server.c on loopback sockets, driven by the proxy's loop (loop.c) with
 * the test's own deadlines (main.c's are the program's), in front of an
 * echo socket.  No other process: what runs is the proxy's own code between
 * plain UDP and the library.
 *
 *   - many local sources at once, each sending before its handshake has
 *     finished and again while it runs: every source gets its own
 *     association (the map), held datagrams go out at ESTABLISHED, and
 *     every echo comes back to its own source only;
 *   - with a 1 s idle timeout every client session ends on its own, the
 *     loop waking about once per session: its deadline comes from the
 *     heap of session deadlines, and a deadline the heap did not follow
 *     would make it spin or sleep through the expiry.
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

#include "../net/certs.h"
#include "proxy.h"

/* ---- what main.c provides to server.c and client.c ---- */

int proxy_verbosity = DTLSUDP_LOG_INFO;
static int sessions_established, sessions_ended;

void proxy_log(int level, const char *service, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    (void)level;
    /* client.c: "association for SRC to PEER: ..." when established,
     * "association for SRC: REASON" when it ends */
    if (strcmp(service, "c") == 0 && strncmp(line, "association for ", 16) == 0)
    {
        if (strstr(line, " to ") != NULL)
            sessions_established++;
        else
            sessions_ended++;
    }
}

/* ---- the fixture ---- */

typedef struct echo_watch {
    proxy_watch watch;
    int fd;
} echo_watch;

typedef struct fixture {
    char certdir[64];
    proxy_loop loop;
    echo_watch echo;
    proxy_config server_cfg, client_cfg;
    proxy_server *server;
    proxy_client *client;
} fixture;

static void echo_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    echo_watch *e = (echo_watch *)w;
    uint8_t buf[2048];
    (void)events;
    (void)now;
    for (;;) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(e->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (n < 0)
            return;
        (void)sendto(e->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
    }
}

static int udp_socket(uint16_t *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static unsigned long turns; /* of the loop: wake-ups */

/* Run the loop for ms milliseconds, or until done(arg) says so. */
static void run(fixture *f, int ms, int (*done)(void *), void *arg)
{
    dtlsudp_time end = dtlsudp_now() + (dtlsudp_time)ms;
    for (;;) {
        dtlsudp_time now = dtlsudp_now(), next = end;
        if (now >= end || (done != NULL && done(arg)))
            return;
        if (proxy_server_next_timeout(f->server) < next)
            next = proxy_server_next_timeout(f->server);
        if (proxy_client_next_timeout(f->client) < next)
            next = proxy_client_next_timeout(f->client);
        turns++;
        (void)proxy_loop_run_once(&f->loop, next <= now ? 0 : (int)(next - now));
        now = dtlsudp_now();
        proxy_server_timeout(f->server, now);
        proxy_client_timeout(f->client, now);
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char text[2048], err[512];
    uint16_t eport;
    assert_non_null(f);
    snprintf(f->certdir, sizeof(f->certdir), "/tmp/dtlsudp-proxy-test.XXXXXX");
    assert_non_null(mkdtemp(f->certdir));
    assert_int_equal(testcerts_make(f->certdir), 0);
    assert_int_equal(proxy_loop_open(&f->loop), 0);
    f->echo.watch.ready = echo_ready;
    f->echo.fd = udp_socket(&eport);
    assert_int_equal(proxy_loop_add(&f->loop, f->echo.fd, &f->echo.watch), 0);

    snprintf(text, sizeof(text),
             "[server s]\nlisten 127.0.0.1:0\nforward 127.0.0.1:%u\ncert %s/server.pem\nkey %s/server.key\n"
             "ca %s/ca.pem\n",
             eport, f->certdir, f->certdir, f->certdir);
    assert_int_equal(proxy_config_parse(&f->server_cfg, text, "server.conf", err, sizeof(err)), 0);
    assert_int_equal(proxy_server_new(&f->server_cfg.services[0], &f->loop, dtlsudp_now(), &f->server), DTLSUDP_OK);

    snprintf(text, sizeof(text),
             "[client c]\nlisten 127.0.0.1:0\nconnect 127.0.0.1:%u\nhostname localhost\ncert %s/client.pem\n"
             "key %s/client.key\nca %s/ca.pem\nidle-timeout 1\n",
             ntohs(proxy_server_local(f->server)->sin.sin_port), f->certdir, f->certdir, f->certdir);
    assert_int_equal(proxy_config_parse(&f->client_cfg, text, "client.conf", err, sizeof(err)), 0);
    assert_int_equal(proxy_client_new(&f->client_cfg.services[0], &f->loop, dtlsudp_now(), &f->client), DTLSUDP_OK);
    sessions_established = sessions_ended = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char path[256];
    static const char *const files[] = {"ca.pem", "server.pem", "server.key", "client.pem", "client.key",
                                        "rogue-ca.pem", "rogue.pem", "rogue.key"};
    proxy_client_free(f->client);
    proxy_server_free(f->server);
    proxy_config_free(&f->client_cfg);
    proxy_config_free(&f->server_cfg);
    close(f->echo.fd);
    proxy_loop_close(&f->loop);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", f->certdir, files[i]);
        (void)unlink(path);
    }
    (void)rmdir(f->certdir);
    free(f);
    return 0;
}

/* ---- the tests ---- */

/* Local sources per test: 40, or fewer from PROXY_TEST_SOURCES (under
 * valgrind, whose slowness would outlast the handshake timeout). */
enum { MAX_SOURCES = 40 };
static int SOURCES = MAX_SOURCES;

typedef struct sources {
    int fd[MAX_SOURCES];
    int answered[MAX_SOURCES]; /* replies that carried this source's own text */
    int wrong;             /* replies that carried another source's text */
    int want;              /* replies each source waits for */
} sources;

static void collect(sources *s)
{
    for (int i = 0; i < SOURCES; i++) {
        char buf[64];
        ssize_t n;
        while ((n = recv(s->fd[i], buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
            char want[32];
            buf[n] = 0;
            snprintf(want, sizeof(want), "source %d", i);
            if (strcmp(buf, want) == 0)
                s->answered[i]++;
            else
                s->wrong++;
        }
    }
}

static int all_answered(void *arg)
{
    sources *s = arg;
    collect(s);
    for (int i = 0; i < SOURCES; i++)
        if (s->answered[i] < s->want)
            return 0;
    return 1;
}

static void send_all(fixture *f, sources *s)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = proxy_client_local(f->client)->sin.sin_port};
    for (int i = 0; i < SOURCES; i++) {
        char msg[32];
        int len = snprintf(msg, sizeof(msg), "source %d", i);
        assert_int_equal(sendto(s->fd[i], msg, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)), len);
    }
}

static void test_sources_each_get_their_own(void **state)
{
    fixture *f = *state;
    sources s = {.want = 2};
    for (int i = 0; i < SOURCES; i++) {
        uint16_t port;
        s.fd[i] = udp_socket(&port);
    }
    /* every source speaks before its handshake can have finished, and
     * again after one turn of the loop (a retry while handshaking) */
    send_all(f, &s);
    run(f, 1, NULL, NULL);
    send_all(f, &s);
    run(f, 15000, all_answered, &s);
    collect(&s);
    for (int i = 0; i < SOURCES; i++)
        assert_int_equal(s.answered[i], 2);
    assert_int_equal(s.wrong, 0);
    assert_int_equal(sessions_established, SOURCES);
    assert_int_equal(sessions_ended, 0);

    /* established sessions: one more round trip each, straight through */
    s.want = 3;
    send_all(f, &s);
    run(f, 5000, all_answered, &s);
    for (int i = 0; i < SOURCES; i++)
        assert_int_equal(s.answered[i], 3);
    assert_int_equal(s.wrong, 0);
    assert_int_equal(sessions_established, SOURCES);
    for (int i = 0; i < SOURCES; i++)
        close(s.fd[i]);
}

static int all_ended(void *arg)
{
    (void)arg;
    return sessions_ended == SOURCES;
}

static void test_idle_sessions_expire(void **state)
{
    fixture *f = *state;
    sources s = {.want = 1};
    for (int i = 0; i < SOURCES; i++) {
        uint16_t port;
        s.fd[i] = udp_socket(&port);
    }
    send_all(f, &s);
    run(f, 15000, all_answered, &s);
    assert_int_equal(sessions_established, SOURCES);
    assert_int_equal(sessions_ended, 0);
    assert_true(proxy_client_next_timeout(f->client) != DTLSUDP_TIME_NEVER);
    /* idle-timeout 1: the loop wakes for the sessions' deadlines only,
     * about once per session (a stale deadline in the heap would make it
     * spin, or sleep through the expiry) */
    turns = 0;
    run(f, 5000, all_ended, NULL);
    assert_int_equal(sessions_ended, SOURCES);
    assert_true(turns <= 4 * (unsigned long)SOURCES);
    assert_int_equal(proxy_client_next_timeout(f->client), DTLSUDP_TIME_NEVER);
    for (int i = 0; i < SOURCES; i++)
        close(s.fd[i]);
}

int main(void)
{
    const char *n = getenv("PROXY_TEST_SOURCES");
    if (n != NULL && atoi(n) > 0 && atoi(n) < MAX_SOURCES)
        SOURCES = atoi(n);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sources_each_get_their_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_sessions_expire, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
