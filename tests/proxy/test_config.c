/*
 * test_config.c - dtlsudp-proxy's configuration: the file format, the
 * checks that make a service complete, and every error naming file:line.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy.h"

/* proxy.h declares these for the running program; config.c needs none. */
int proxy_verbosity = DTLSUDP_LOG_NOTICE;
void proxy_log(int level, const char *service, const char *fmt, ...)
{
    (void)level;
    (void)service;
    (void)fmt;
}

#define FP32 "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

static const char good[] = "# two services\n"
                           "[server syslog]\n"
                           "listen [::]:6514\n"
                           "forward 127.0.0.1:514   # the local rsyslogd\n"
                           "cert /etc/p/server.pem\n"
                           "key /etc/p/server.key\n"
                           "ca /etc/p/ca.pem\n"
                           "crl /etc/p/ca.crl\n"
                           "demux router\n"
                           "idle-timeout 60\n"
                           "handshake-timeout 5\n"
                           "max-associations 500\n"
                           "max-half-open 32\n"
                           "max-half-open-per-source 4\n"
                           "max-per-source 16\n"
                           "\n"
                           "[client snmp]\n"
                           "  listen 127.0.0.1:1161\n"
                           "  connect agent.example.com:10161\n"
                           "  cert /etc/p/client.pem\n"
                           "  key /etc/p/client.key\n"
                           "  pin " FP32 "\n"
                           "  pin sha1:0123456789abcdef0123456789abcdef01234567\n"
                           "  max-sessions 8\n";

static void test_good_file(void **state)
{
    proxy_config cfg = {0};
    char err[256] = "";
    (void)state;
    assert_int_equal(proxy_config_parse(&cfg, good, "proxy.conf", err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(cfg.n_services, 2);

    const proxy_service_config *s = &cfg.services[0];
    assert_string_equal(s->name, "syslog");
    assert_int_equal(s->mode, PROXY_MODE_SERVER);
    assert_string_equal(s->listen, "[::]:6514");
    assert_string_equal(s->forward, "127.0.0.1:514"); /* comment and blanks stripped */
    assert_string_equal(s->crl_file, "/etc/p/ca.crl");
    assert_int_equal(s->demux, DTLSUDP_DEMUX_ROUTER);
    assert_int_equal(s->idle_timeout, 60000);
    assert_int_equal(s->handshake_timeout, 5000);
    assert_string_equal(s->origin, "proxy.conf:2");

    dtlsudp_engine_config e;
    dtlsudp_engine_config_init(&e);
    proxy_engine_config(s, &e);
    assert_string_equal(e.cert_file, "/etc/p/server.pem");
    assert_string_equal(e.ca_file, "/etc/p/ca.pem");
    assert_int_equal(e.max_assocs, 500);
    assert_int_equal(e.max_half_open, 32);
    assert_int_equal(e.max_half_open_per_source, 4);
    assert_int_equal(e.max_per_source, 16);
    assert_int_equal(e.idle_timeout, 60000);
    assert_int_equal(e.handshake_timeout, 5000);

    s = &cfg.services[1];
    assert_string_equal(s->name, "snmp");
    assert_int_equal(s->mode, PROXY_MODE_CLIENT);
    assert_string_equal(s->connect_host, "agent.example.com");
    assert_string_equal(s->connect_port, "10161");
    assert_int_equal(s->n_pins, 2);
    assert_int_equal(s->pins[0].len, 32);
    assert_int_equal(s->pins[0].bytes[0], 0xAB);
    assert_int_equal(s->pins[1].len, 20);
    assert_int_equal(s->max_sessions, 8);
    assert_string_equal(s->origin, "proxy.conf:17");

    /* Unset caps keep the library's defaults. */
    dtlsudp_engine_config d, mapped;
    dtlsudp_engine_config_init(&d);
    mapped = d;
    proxy_engine_config(s, &mapped);
    assert_int_equal(mapped.max_assocs, d.max_assocs);
    assert_int_equal(mapped.idle_timeout, d.idle_timeout);
    proxy_config_free(&cfg);
}

/* Each bad file gives exactly this message (file:line: reason). */
static void expect_error(const char *text, const char *message)
{
    proxy_config cfg = {0};
    char err[512] = "";
    assert_int_equal(proxy_config_parse(&cfg, text, "p.conf", err, sizeof(err)), -1);
    if (strcmp(err, message) != 0)
        fail_msg("got '%s'\nwanted '%s'", err, message);
    proxy_config_free(&cfg);
}

#define SERVER_OK "listen 127.0.0.1:6514\nforward 127.0.0.1:514\ncert c\nkey k\nca a\n"

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    expect_error("listen 1.2.3.4:5\n", "p.conf:1: 'listen 1.2.3.4:5' outside a [server NAME] or [client NAME] section");
    expect_error("\n[server a]\n" SERVER_OK "colour blue\n", "p.conf:8: unknown key 'colour'");
    expect_error("[proxy a]\n", "p.conf:1: unknown section kind 'proxy' (server or client)");
    expect_error("[server]\n", "p.conf:1: a service needs a name of letters, digits, '-', '_', '.'");
    expect_error("[server a b]\n", "p.conf:1: a service needs a name of letters, digits, '-', '_', '.'");
    expect_error("[server a\n", "p.conf:1: a section is [server NAME] or [client NAME]");
    expect_error("[server a]\n" SERVER_OK "[client a]\n", "p.conf:7: service 'a' is already defined at p.conf:1");
    expect_error("[server a]\nforward 0.0.0.0:514\n",
                 "p.conf:2: forward: '0.0.0.0:514' is a wildcard; name the service's address");
    expect_error("[server a]\nlisten localhost:514\n",
                 "p.conf:2: listen: 'localhost:514' is not a numeric address with a port (1.2.3.4:P, [::1]:P)");
    expect_error("[server a]\nlisten 127.0.0.1\n", "p.conf:2: listen: '127.0.0.1' has no port");
    expect_error("[server a]\nlisten [::1]\n", "p.conf:2: listen: '[::1]' has no port");
    expect_error("[server a]\nforward 127.0.0.1:0\n", "p.conf:2: forward: '127.0.0.1:0': port 0");
    expect_error("[server a]\npin 12:34\n", "p.conf:2: pin: '12:34' is not a fingerprint (hex, SHA-1 to SHA-512)");
    expect_error("[server a]\nidle-timeout 0\n", "p.conf:2: idle-timeout: '0' is not a number from 1 to 604800");
    expect_error("[server a]\nmax-associations -3\n",
                 "p.conf:2: max-associations: '-3' is not a number from 1 to 1000000");
    expect_error("[server a]\nmax-half-open 12x\n", "p.conf:2: max-half-open: '12x' is not a number from 1 to 100000");
    expect_error("[server a]\ndemux epoll\n", "p.conf:2: demux: 'epoll' is neither osnet nor router");
    expect_error("[server a]\ncert\n", "p.conf:2: cert: missing value");
    expect_error("[client a]\nconnect ::1:10161\n",
                 "p.conf:2: connect: '::1:10161' is not HOST:PORT (IPv6 literals in brackets)");
}

/* A section that parses but cannot work is reported at its header line. */
static void test_incomplete_services(void **state)
{
    (void)state;
    expect_error("#\n[server a]\nlisten 127.0.0.1:6514\ncert c\nkey k\nca a\n", "p.conf:2: server 'a': no forward address");
    expect_error("[server a]\nforward 127.0.0.1:514\ncert c\nkey k\nca a\n", "p.conf:1: server 'a': no listen address");
    expect_error("[server a]\nlisten 127.0.0.1:6514\nforward 127.0.0.1:514\ncert c\nca a\n",
                 "p.conf:1: server 'a': cert and key are required (DTLS authenticates both ends)");
    expect_error("[server a]\nlisten 127.0.0.1:6514\nforward 127.0.0.1:514\ncert c\nkey k\n",
                 "p.conf:1: server 'a': no ca and no pin: no client could be authenticated");
    expect_error("[server a]\n" SERVER_OK "hostname x\n",
                 "p.conf:1: server 'a': connect, hostname and max-sessions are client keys");
    expect_error("[server a]\nlisten 127.0.0.1:6514\nforward 127.0.0.1:514\ncert c\nkey k\ncrl r\npin " FP32 "\n",
                 "p.conf:1: server 'a': crl needs ca (a CRL is checked against its issuer)");
    /* RFC 6353 5.3.1: a client authenticates its server by pin, or by a
     * chain and the expected name; a CA alone would accept any server it
     * ever certified. */
    expect_error("[client c]\nlisten 127.0.0.1:1161\nconnect h:1\ncert c\nkey k\nca a\n",
                 "p.conf:1: client 'c': the server is not authenticated: give pin, or ca and hostname");
    expect_error("[client c]\nlisten 127.0.0.1:1161\ncert c\nkey k\npin " FP32 "\n",
                 "p.conf:1: client 'c': no connect address");
    expect_error("[client c]\nlisten 127.0.0.1:1161\nconnect h:1\ncert c\nkey k\npin " FP32 "\ndemux osnet\n",
                 "p.conf:1: client 'c': forward and demux are server keys");

    /* Positive controls: the same services, complete. */
    proxy_config cfg = {0};
    char err[256] = "";
    assert_int_equal(proxy_config_parse(&cfg,
                                        "[client c]\nlisten 127.0.0.1:1161\nconnect h:1\ncert c\nkey k\nca a\n"
                                        "hostname h\n[server s]\n" SERVER_OK,
                                        "p.conf", err, sizeof(err)),
                     0);
    assert_int_equal(cfg.n_services, 2);
    proxy_config_free(&cfg);
}

static void test_host_port(void **state)
{
    char *h, *p;
    (void)state;
    assert_int_equal(proxy_split_host_port("agent.example.com:10161", &h, &p), 0);
    assert_string_equal(h, "agent.example.com");
    assert_string_equal(p, "10161");
    free(h);
    free(p);
    assert_int_equal(proxy_split_host_port("[fe80::1%eth0]:6514", &h, &p), 0);
    assert_string_equal(h, "fe80::1%eth0");
    assert_string_equal(p, "6514");
    free(h);
    free(p);
    static const char *const bad[] = {"host", "host:", ":1", "host:0", "host:65536", "host:1x",
                                      "[::1]", "[::1]1", "::1:1", "[]:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (proxy_split_host_port(bad[i], &h, &p) != -1)
            fail_msg("'%s' accepted", bad[i]);
        assert_null(h);
        assert_null(p);
    }
}

static void test_load_file(void **state)
{
    char path[] = "/tmp/test_proxy_config.XXXXXX", err[512];
    proxy_config cfg = {0};
    (void)state;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, good, sizeof(good) - 1), (ssize_t)(sizeof(good) - 1));
    close(fd);
    assert_int_equal(proxy_config_load(&cfg, path, err, sizeof(err)), 0);
    assert_int_equal(cfg.n_services, 2);
    char origin[300];
    snprintf(origin, sizeof(origin), "%s:17", path);
    assert_string_equal(cfg.services[1].origin, origin);
    proxy_config_free(&cfg);

    /* A binary file is refused, not half-read. */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "[server a]\0x", 12), 12);
    close(fd);
    assert_int_equal(proxy_config_load(&cfg, path, err, sizeof(err)), -1);
    char want[300];
    snprintf(want, sizeof(want), "%s: not a text file", path);
    assert_string_equal(err, want);
    proxy_config_free(&cfg);
    unlink(path);

    assert_int_equal(proxy_config_load(&cfg, "/nonexistent/proxy.conf", err, sizeof(err)), -1);
    assert_string_equal(err, "/nonexistent/proxy.conf: No such file or directory");
}

/* Command-line settings go through the same setter. */
static void test_service_set(void **state)
{
    proxy_config cfg = {0};
    proxy_service_config *sp = proxy_config_add(&cfg, "main");
    char err[256];
    (void)state;
    assert_non_null(sp);
#define s (*sp)
    assert_string_equal(s.origin, "command line");
    s.mode = PROXY_MODE_CLIENT;
    assert_int_equal(proxy_service_set(&s, "listen", "[::1]:1161", err, sizeof(err)), 0);
    assert_int_equal(proxy_service_set(&s, "connect", "[::1]:10161", err, sizeof(err)), 0);
    assert_int_equal(proxy_service_set(&s, "connect", "127.0.0.1:10162", err, sizeof(err)), 0); /* last wins */
    assert_string_equal(s.connect_port, "10162");
    assert_int_equal(proxy_service_set(&s, "cert", "c", err, sizeof(err)), 0);
    assert_int_equal(proxy_service_set(&s, "key", "k", err, sizeof(err)), 0);
    assert_int_equal(proxy_service_validate(&s, err, sizeof(err)), -1);
    assert_string_equal(err, "client 'main': the server is not authenticated: give pin, or ca and hostname");
    for (int i = 0; i < PROXY_MAX_PINS; i++)
        assert_int_equal(proxy_service_set(&s, "pin", FP32, err, sizeof(err)), 0);
    assert_int_equal(proxy_service_set(&s, "pin", FP32, err, sizeof(err)), -1);
    assert_string_equal(err, "pin: at most 16 pins per service");
    assert_int_equal(proxy_service_validate(&s, err, sizeof(err)), 0);
#undef s
    proxy_config_free(&cfg);
}

/* The example shipped with the package (examples/dtlsudp-proxy.conf) is a
 * valid configuration. */
static void test_example_file(void **state)
{
    const char *top = getenv("top_srcdir");
    char path[4096], err[512] = "";
    proxy_config cfg = {0};
    (void)state;
    snprintf(path, sizeof(path), "%s/examples/dtlsudp-proxy.conf", top != NULL ? top : "../..");
    if (proxy_config_load(&cfg, path, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(cfg.n_services, 2);
    assert_int_equal(cfg.services[0].mode, PROXY_MODE_SERVER);
    assert_int_equal(cfg.services[1].mode, PROXY_MODE_CLIENT);
    assert_int_equal(cfg.services[1].n_pins, 1);
    proxy_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_incomplete_services),
        cmocka_unit_test(test_host_port),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_service_set),
        cmocka_unit_test(test_example_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
