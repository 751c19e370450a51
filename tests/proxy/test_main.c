/*
 * test_main.c - the dtlsudp-proxy program's own part (transport/proxy/main.c),
 * in-process, without executing the program:
 *
 *   - proxy_options_parse(): one service from the options (named by
 *     --name wherever it stands), the file's services before it, --check,
 *     -v/-q; every usage or configuration error is exit status 2 with the
 *     reason on the error stream and no service left allocated, --help 0;
 *   - proxy_check_files() names the service whose files do not load;
 *   - proxy_wait_ms() turns a deadline into an epoll timeout;
 *   - the signalfd: SIGHUP asks for a reload, SIGUSR1 for the counters,
 *     SIGTERM and SIGINT to stop;
 *   - proxy_run() starts every service, reloads on SIGHUP, stops on
 *     SIGTERM with the counters logged, and fails when a service cannot
 *     start.
 */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
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

static test_certs certs;
static char conf_ok[160], conf_empty[160], conf_bad_cert[160];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    char text[1024];
    (void)state;
    if (test_certs_make(&certs) != 0)
        return -1;
    snprintf(conf_ok, sizeof(conf_ok), "%s/ok.conf", certs.dir);
    snprintf(conf_empty, sizeof(conf_empty), "%s/empty.conf", certs.dir);
    snprintf(conf_bad_cert, sizeof(conf_bad_cert), "%s/bad-cert.conf", certs.dir);
    snprintf(text, sizeof(text),
             "[client c]\nlisten 127.0.0.1:0\nconnect 127.0.0.1:9\nhostname server.example.com\ncert %s\nkey %s\n"
             "ca %s\n",
             certs.client, certs.client_key, certs.ca);
    write_file(conf_ok, text);
    write_file(conf_empty, "# nothing\n");
    snprintf(text, sizeof(text),
             "[server good]\nlisten 127.0.0.1:0\nforward 127.0.0.1:9\ncert %s\nkey %s\nca %s\n"
             "[server broken]\nlisten 127.0.0.1:0\nforward 127.0.0.1:9\ncert %s\nkey %s\nca %s\n",
             certs.server, certs.server_key, certs.ca, certs.junk, certs.server_key, certs.ca);
    write_file(conf_bad_cert, text);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    (void)unlink(conf_ok);
    (void)unlink(conf_empty);
    (void)unlink(conf_bad_cert);
    test_certs_remove(&certs);
    return 0;
}

/* proxy_options_parse() over a NULL-terminated argument list; what it
 * wrote on its error stream lands in errbuf. */
static int parse(proxy_options *o, char *errbuf, size_t cap, ...)
{
    char *argv[40];
    int argc = 0;
    va_list ap;
    va_start(ap, cap);
    argv[argc++] = (char *)"dtlsudp-proxy";
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 39;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    FILE *err = tmpfile();
    assert_non_null(err);
    int status = proxy_options_parse(argc, argv, err, o);
    rewind(err);
    size_t n = fread(errbuf, 1, cap - 1, err);
    errbuf[n] = 0;
    fclose(err);
    return status;
}

/* ---- options ---- */

static void test_a_service_from_the_options(void **state)
{
    proxy_options o;
    char err[2048];
    (void)state;

    assert_int_equal(parse(&o, err, sizeof(err), "--name", "edge", "--server", "--listen", "127.0.0.1:0",
                           "--forward", "127.0.0.1:161", "--cert", certs.server, "--key", certs.server_key, "--ca",
                           certs.ca, "--max-associations", "50", NULL),
                     PROXY_OPTIONS_RUN);
    assert_string_equal(err, "");
    assert_int_equal(o.check_only, 0);
    assert_int_equal(o.cfg.n_services, 1);
    const proxy_service_config *s = &o.cfg.services[0];
    assert_string_equal(s->name, "edge");
    assert_int_equal(s->mode, PROXY_MODE_SERVER);
    assert_string_equal(s->listen, "127.0.0.1:0");
    assert_string_equal(s->forward, "127.0.0.1:161");
    assert_string_equal(s->cert_file, certs.server);
    assert_int_equal(s->max_assocs, 50);
    assert_string_equal(s->origin, "command line");
    proxy_config_free(&o.cfg);
}

static void test_file_services_then_the_options(void **state)
{
    proxy_options o;
    char err[2048];
    int verbosity = proxy_verbosity;
    (void)state;

    assert_int_equal(parse(&o, err, sizeof(err), "-c", conf_ok, "--check", "-q", "--server", "--listen",
                           "127.0.0.1:0", "--forward", "127.0.0.1:161", "--cert", certs.server, "--key",
                           certs.server_key, "--ca", certs.ca, NULL),
                     PROXY_OPTIONS_RUN);
    assert_int_equal(o.check_only, 1);
    assert_int_equal(proxy_verbosity, DTLSUDP_LOG_WARNING);
    assert_int_equal(o.cfg.n_services, 2);
    assert_string_equal(o.cfg.services[0].name, "c");
    assert_int_equal(o.cfg.services[0].mode, PROXY_MODE_CLIENT);
    assert_string_equal(o.cfg.services[1].name, "main");
    assert_int_equal(o.cfg.services[1].mode, PROXY_MODE_SERVER);
    proxy_config_free(&o.cfg);

    /* --name alone makes no service; -v */
    assert_int_equal(parse(&o, err, sizeof(err), "--name", "x", "-v", "-c", conf_ok, NULL), PROXY_OPTIONS_RUN);
    assert_int_equal(o.cfg.n_services, 1);
    assert_string_equal(o.cfg.services[0].name, "c");
    assert_int_equal(proxy_verbosity, DTLSUDP_LOG_DEBUG);
    proxy_config_free(&o.cfg);
    proxy_verbosity = verbosity;
}

/* status 2, the reason on the error stream, nothing left allocated */
static void assert_refused(int status, const proxy_options *o, const char *err, const char *reason)
{
    assert_int_equal(status, 2);
    assert_int_equal(o->cfg.n_services, 0);
    assert_null(o->cfg.services);
    if (strstr(err, reason) == NULL)
        fail_msg("'%s' not in: %s", reason, err);
}

static void test_usage_and_configuration_errors(void **state)
{
    proxy_options o;
    char err[2048];
    int st;
    (void)state;

    assert_refused(parse(&o, err, sizeof(err), NULL), &o, err, "usage: dtlsudp-proxy");
    st = parse(&o, err, sizeof(err), "--no-such-option", NULL);
    assert_refused(st, &o, err, "usage: dtlsudp-proxy");
    st = parse(&o, err, sizeof(err), "-c", conf_ok, "stray", NULL);
    assert_refused(st, &o, err, "usage: dtlsudp-proxy");
    st = parse(&o, err, sizeof(err), "--server", "--listen", "nowhere", NULL);
    assert_refused(st, &o, err, "dtlsudp-proxy: command line: listen: 'nowhere' is not a numeric address");
    /* complete keys, incomplete service */
    st = parse(&o, err, sizeof(err), "--name", "half", "--server", "--listen", "127.0.0.1:0", "--cert", certs.server,
               "--key", certs.server_key, "--ca", certs.ca, NULL);
    assert_refused(st, &o, err, "dtlsudp-proxy: command line: server 'half': no forward address");
    st = parse(&o, err, sizeof(err), "--listen", "127.0.0.1:0", NULL);
    assert_refused(st, &o, err, "has no mode");
    /* the file's errors, also with a valid service on the line */
    st = parse(&o, err, sizeof(err), "-c", "/nonexistent/proxy.conf", NULL);
    assert_refused(st, &o, err, "/nonexistent/proxy.conf");
    st = parse(&o, err, sizeof(err), "-c", conf_empty, NULL);
    assert_refused(st, &o, err, "no [server NAME] or [client NAME] section");
    st = parse(&o, err, sizeof(err), "-c", conf_ok, "--server", "--listen", "127.0.0.1:0", NULL);
    assert_refused(st, &o, err, "command line: ");

    /* --help: exit status 0, nothing to run */
    fflush(stdout);
    assert_int_equal(parse(&o, err, sizeof(err), "--help", NULL), 0);
    assert_int_equal(o.cfg.n_services, 0);
    assert_string_equal(err, "");
}

/* ---- --check, the wait, the signals ---- */

static void test_check_names_the_service_that_fails(void **state)
{
    proxy_options o;
    char err[2048];
    (void)state;

    assert_int_equal(parse(&o, err, sizeof(err), "-c", conf_ok, NULL), PROXY_OPTIONS_RUN);
    FILE *out = tmpfile();
    assert_int_equal(proxy_check_files(&o.cfg, out), 0);
    assert_int_equal(ftell(out), 0);
    fclose(out);
    proxy_config_free(&o.cfg);

    assert_int_equal(parse(&o, err, sizeof(err), "-c", conf_bad_cert, NULL), PROXY_OPTIONS_RUN);
    out = tmpfile();
    assert_int_equal(proxy_check_files(&o.cfg, out), 1);
    rewind(out);
    size_t n = fread(err, 1, sizeof(err) - 1, out);
    err[n] = 0;
    fclose(out);
    assert_non_null(strstr(err, "bad-cert.conf:"));
    assert_non_null(strstr(err, ": service 'broken': "));
    assert_null(strstr(err, "'good'"));
    proxy_config_free(&o.cfg);
}

static void test_wait_toward_the_deadline(void **state)
{
    (void)state;
    assert_int_equal(proxy_wait_ms(DTLSUDP_TIME_NEVER, 1000), -1);
    assert_int_equal(proxy_wait_ms(1000, 1000), 0);
    assert_int_equal(proxy_wait_ms(900, 1000), 0);
    assert_int_equal(proxy_wait_ms(1250, 1000), 250);
    assert_int_equal(proxy_wait_ms(1000 + 60000, 1000), 60000);
    assert_int_equal(proxy_wait_ms(1000 + 600000, 1000), 60000);
}

static void test_signals_set_their_flags(void **state)
{
    proxy_signals sg;
    sigset_t old;
    (void)state;

    assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &old), 0);
    assert_int_equal(proxy_signals_open(&sg), 0);
    sg.watch.ready(&sg.watch, 0, 0); /* nothing pending: nothing set */
    assert_int_equal(sg.reload + sg.report + sg.stop, 0);

    assert_int_equal(raise(SIGHUP), 0);
    sg.watch.ready(&sg.watch, 0, 0);
    assert_int_equal(sg.reload, 1);
    assert_int_equal(sg.report + sg.stop, 0);

    assert_int_equal(raise(SIGUSR1), 0);
    sg.watch.ready(&sg.watch, 0, 0);
    assert_int_equal(sg.report, 1);
    assert_int_equal(sg.stop, 0);

    assert_int_equal(raise(SIGINT), 0);
    sg.watch.ready(&sg.watch, 0, 0);
    assert_int_equal(sg.stop, 1);
    sg.stop = 0;
    assert_int_equal(raise(SIGTERM), 0);
    sg.watch.ready(&sg.watch, 0, 0);
    assert_int_equal(sg.stop, 1);

    proxy_signals_close(&sg);
    assert_int_equal(sg.fd, -1);
    assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

/* ---- proxy_run() ---- */

/* proxy_run(cfg) with SIGHUP and SIGTERM already pending; its log (stderr)
 * lands in logbuf. */
static int run_until_term(const proxy_config *cfg, char *logbuf, size_t cap)
{
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    assert_int_equal(sigprocmask(SIG_BLOCK, &mask, &old), 0);
    assert_int_equal(raise(SIGHUP), 0);
    assert_int_equal(raise(SIGTERM), 0);

    FILE *log = tmpfile();
    int saved = dup(STDERR_FILENO);
    fflush(stderr);
    assert_int_equal(dup2(fileno(log), STDERR_FILENO), STDERR_FILENO);
    int status = proxy_run(cfg);
    fflush(stderr);
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    rewind(log);
    size_t n = fread(logbuf, 1, cap - 1, log);
    logbuf[n] = 0;
    fclose(log);

    /* a signal proxy_run() did not take (it failed early) is dropped */
    sigset_t pending;
    struct timespec zero = {0, 0};
    while (sigpending(&pending) == 0 && (sigismember(&pending, SIGHUP) || sigismember(&pending, SIGTERM)))
        (void)sigtimedwait(&mask, NULL, &zero);
    assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
    return status;
}

static void test_run_starts_reloads_and_stops(void **state)
{
    proxy_options o;
    char err[2048], log[8192];
    (void)state;

    assert_int_equal(parse(&o, err, sizeof(err), "-c", conf_ok, "--name", "s", "--server", "--listen",
                           "127.0.0.1:0", "--forward", "127.0.0.1:161", "--cert", certs.server, "--key",
                           certs.server_key, "--ca", certs.ca, NULL),
                     PROXY_OPTIONS_RUN);
    assert_int_equal(run_until_term(&o.cfg, log, sizeof(log)), 0);
    if (strstr(log, "dtlsudp-proxy[c]: listening on 127.0.0.1:") == NULL ||
        strstr(log, "(UDP), connecting to 127.0.0.1 port 9") == NULL ||
        strstr(log, "dtlsudp-proxy[s]: listening on 127.0.0.1:") == NULL ||
        strstr(log, "(DTLS), forwarding to 127.0.0.1:161") == NULL ||
        strstr(log, "dtlsudp-proxy[s]: certificates reloaded; 0 associations kept, 0 revoked") == NULL ||
        strstr(log, "dtlsudp-proxy[c]: certificates reloaded") == NULL ||
        strstr(log, "dtlsudp-proxy[s]: associations 0 open, 0 opened") == NULL ||
        strstr(log, "dtlsudp-proxy[c]: sessions 0 open, 0 opened") == NULL)
        fail_msg("unexpected log:\n%s", log);
    proxy_config_free(&o.cfg);
}

static void test_run_fails_when_a_service_cannot_start(void **state)
{
    proxy_options o;
    char err[2048], log[8192], busy[32];
    uint16_t port;
    int fd = test_udp_socket(&port);
    (void)state;

    snprintf(busy, sizeof(busy), "127.0.0.1:%u", port);
    assert_int_equal(parse(&o, err, sizeof(err), "-c", conf_ok, "--name", "s", "--server", "--listen", busy,
                           "--forward", "127.0.0.1:161", "--cert", certs.server, "--key", certs.server_key, "--ca",
                           certs.ca, NULL),
                     PROXY_OPTIONS_RUN);
    assert_int_equal(run_until_term(&o.cfg, log, sizeof(log)), 1);
    if (strstr(log, "dtlsudp-proxy[s]: command line: cannot start on 127.0.0.1:") == NULL ||
        strstr(log, "Address already in use") == NULL)
        fail_msg("unexpected log:\n%s", log);
    /* the service that had started is stopped, with its counters */
    assert_non_null(strstr(log, "dtlsudp-proxy[c]: sessions 0 open"));
    proxy_config_free(&o.cfg);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_service_from_the_options),
        cmocka_unit_test(test_file_services_then_the_options),
        cmocka_unit_test(test_usage_and_configuration_errors),
        cmocka_unit_test(test_check_names_the_service_that_fails),
        cmocka_unit_test(test_wait_toward_the_deadline),
        cmocka_unit_test(test_signals_set_their_flags),
        cmocka_unit_test(test_run_starts_reloads_and_stops),
        cmocka_unit_test(test_run_fails_when_a_service_cannot_start),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
