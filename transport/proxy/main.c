/*
 * main.c - dtlsudp-proxy: DTLS for any UDP daemon.
 *
 *   dtlsudp-proxy [-c FILE] [--check] [-v|-q]
 *                 [--server|--client --listen A (--forward A | --connect H:P) --cert F --key F ...]
 *
 * Every service of the file, plus one from the command line, runs in one
 * epoll loop; signals arrive through a signalfd, so handlers never run in
 * the middle of the library.  SIGHUP reloads certificates, keys, CA and
 * CRL (same paths) without dropping associations; SIGUSR1 logs the
 * counters; SIGTERM/SIGINT send close_notify to every peer and exit.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "proxy.h"

int proxy_verbosity = DTLSUDP_LOG_NOTICE;

void proxy_log(int level, const char *service, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (level > proxy_verbosity)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* "<N>" is the syslog priority prefix journald understands on stderr. */
    fprintf(stderr, "<%d>dtlsudp-proxy[%s]: %s\n", level, service != NULL ? service : "-", line);
}

typedef struct running {
    const proxy_service_config *cfg;
    proxy_server *server;
    proxy_client *client;
} running;

static void signal_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    proxy_signals *sg = (proxy_signals *)w;
    struct signalfd_siginfo si;
    (void)events;
    (void)now;
    while (read(sg->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP)
            sg->reload = 1;
        else if (si.ssi_signo == SIGUSR1)
            sg->report = 1;
        else
            sg->stop = 1;
    }
}

int proxy_signals_open(proxy_signals *sg)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGUSR1);
    *sg = (proxy_signals){.watch.ready = signal_ready, .fd = -1};
    /* Blocked, they wait in the signalfd: no handler ever runs in the
     * middle of the library. */
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
        return -1;
    sg->fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    return sg->fd < 0 ? -1 : 0;
}

void proxy_signals_close(proxy_signals *sg)
{
    if (sg->fd >= 0)
        close(sg->fd);
    sg->fd = -1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: dtlsudp-proxy [-c FILE] [--check] [-v|-q] [--name N]\n"
               "         [--server --listen ADDR:PORT --forward ADDR:PORT | --client --listen ADDR:PORT "
               "--connect HOST:PORT [--hostname NAME]]\n"
               "         --cert FILE --key FILE [--ca FILE] [--crl FILE] [--pin FP]... [--demux osnet|router]\n"
               "         [--max-associations N] [--max-half-open N] [--max-half-open-per-source N]\n"
               "         [--max-per-source N] [--max-sessions N] [--handshake-timeout S] [--idle-timeout S]\n"
               "See dtlsudp-proxy(8).\n");
}

/* Options that are service keys, passed to proxy_service_set() by name. */
static const char *const service_keys[] = {
    "listen",         "forward",       "connect",           "hostname",
    "cert",           "key",           "ca",                "crl",
    "pin",            "demux",         "max-associations",  "max-half-open",
    "max-half-open-per-source", "max-per-source", "max-sessions", "handshake-timeout",
    "idle-timeout",
};
#define N_SERVICE_KEYS (sizeof(service_keys) / sizeof(service_keys[0]))

enum { OPT_SERVER = 1000, OPT_CLIENT, OPT_NAME, OPT_CHECK, OPT_KEY0 };

static void make_options(struct option *options)
{
    size_t n = 0;
    options[n++] = (struct option){"config", required_argument, NULL, 'c'};
    options[n++] = (struct option){"server", no_argument, NULL, OPT_SERVER};
    options[n++] = (struct option){"client", no_argument, NULL, OPT_CLIENT};
    options[n++] = (struct option){"name", required_argument, NULL, OPT_NAME};
    options[n++] = (struct option){"check", no_argument, NULL, OPT_CHECK};
    options[n++] = (struct option){"verbose", no_argument, NULL, 'v'};
    options[n++] = (struct option){"quiet", no_argument, NULL, 'q'};
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    for (size_t k = 0; k < N_SERVICE_KEYS; k++)
        options[n++] = (struct option){service_keys[k], required_argument, NULL, OPT_KEY0 + (int)k};
    options[n] = (struct option){NULL, 0, NULL, 0};
}

/* The command line's service, once a service option is seen: kept in a
 * configuration of its own so every error path frees it the same way. */
static proxy_service_config *line_service(proxy_config *line)
{
    if (line->n_services == 0 && proxy_config_add(line, "main") == NULL)
        return NULL;
    return &line->services[0];
}

/* The command line's service, validated, appended to o->cfg (which
 * takes its strings).  PROXY_OPTIONS_RUN, or the exit status. */
static int append_line_service(proxy_config *line, const char *name, proxy_options *o, FILE *err)
{
    char why[512];
    snprintf(line->services[0].name, sizeof(line->services[0].name), "%s", name);
    if (proxy_service_validate(&line->services[0], why, sizeof(why)) != 0) {
        fprintf(err, "dtlsudp-proxy: command line: %s\n", why);
        return 2;
    }
    proxy_service_config *s = proxy_config_add(&o->cfg, line->services[0].name);
    if (s == NULL) {
        fprintf(err, "dtlsudp-proxy: out of memory\n");
        return 1;
    }
    *s = line->services[0];
    line->n_services = 0; /* the strings belong to o->cfg now */
    return PROXY_OPTIONS_RUN;
}

int proxy_options_parse(int argc, char **argv, FILE *err, proxy_options *o)
{
    struct option options[N_SERVICE_KEYS + 9];
    proxy_config line = {0};
    proxy_service_config *cli;
    const char *config_file = NULL;
    /* --name alone makes no service: it names the one the other options make */
    char name[PROXY_NAME_MAX] = "main";
    int opt, status = PROXY_OPTIONS_RUN;
    char why[512];

    memset(o, 0, sizeof(*o));
    make_options(options);
    optind = 0; /* getopt starts afresh on each call (GNU: 0 also reinitialises) */
    while (status == PROXY_OPTIONS_RUN && (opt = getopt_long(argc, argv, "c:vqh", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_file = optarg;
            break;
        case OPT_NAME:
            snprintf(name, sizeof(name), "%s", optarg);
            break;
        case OPT_CHECK:
            o->check_only = 1;
            break;
        case 'v':
            proxy_verbosity = DTLSUDP_LOG_DEBUG;
            break;
        case 'q':
            proxy_verbosity = DTLSUDP_LOG_WARNING;
            break;
        case 'h':
            usage(stdout);
            status = 0;
            break;
        default:
            if (opt != OPT_SERVER && opt != OPT_CLIENT &&
                (opt < OPT_KEY0 || opt >= OPT_KEY0 + (int)N_SERVICE_KEYS)) {
                usage(err);
                status = 2;
            } else if ((cli = line_service(&line)) == NULL) {
                fprintf(err, "dtlsudp-proxy: out of memory\n");
                status = 1;
            } else if (opt == OPT_SERVER || opt == OPT_CLIENT) {
                cli->mode = opt == OPT_SERVER ? PROXY_MODE_SERVER : PROXY_MODE_CLIENT;
            } else if (proxy_service_set(cli, service_keys[opt - OPT_KEY0], optarg, why, sizeof(why)) != 0) {
                fprintf(err, "dtlsudp-proxy: command line: %s\n", why);
                status = 2;
            }
        }
    }
    if (status == PROXY_OPTIONS_RUN && (optind != argc || (config_file == NULL && line.n_services == 0))) {
        usage(err);
        status = 2;
    }
    if (status == PROXY_OPTIONS_RUN && config_file != NULL &&
        proxy_config_load(&o->cfg, config_file, why, sizeof(why)) != 0) {
        fprintf(err, "dtlsudp-proxy: %s\n", why);
        status = 2;
    }
    if (status == PROXY_OPTIONS_RUN && line.n_services != 0)
        status = append_line_service(&line, name, o, err);
    if (status == PROXY_OPTIONS_RUN && o->cfg.n_services == 0) {
        fprintf(err, "dtlsudp-proxy: %s: no [server NAME] or [client NAME] section\n", config_file);
        status = 2;
    }
    proxy_config_free(&line);
    if (status != PROXY_OPTIONS_RUN)
        proxy_config_free(&o->cfg);
    return status;
}

static int start_service(running *r, proxy_loop *loop, dtlsudp_time now)
{
    const proxy_service_config *s = r->cfg;
    const dtlsudp_addr *local;
    char addr[64];
    int ret;
    if (s->mode == PROXY_MODE_SERVER)
        ret = proxy_server_new(s, loop, now, &r->server);
    else
        ret = proxy_client_new(s, loop, now, &r->client);
    if (ret != DTLSUDP_OK) {
        proxy_log(DTLSUDP_LOG_ERR, s->name, "%s: cannot start on %s: %s%s%s", s->origin, s->listen,
                  dtlsudp_strerror(ret), ret == DTLSUDP_ERR_SYSTEM ? ": " : "",
                  ret == DTLSUDP_ERR_SYSTEM ? strerror(errno) : "");
        return -1;
    }
    local = s->mode == PROXY_MODE_SERVER ? proxy_server_local(r->server) : proxy_client_local(r->client);
    (void)dtlsudp_addr_format(local, addr, sizeof(addr));
    if (s->mode == PROXY_MODE_SERVER)
        proxy_log(DTLSUDP_LOG_NOTICE, s->name, "listening on %s (DTLS), forwarding to %s", addr, s->forward);
    else
        proxy_log(DTLSUDP_LOG_NOTICE, s->name, "listening on %s (UDP), connecting to %s port %s", addr,
                  s->connect_host, s->connect_port);
    return 0;
}

int proxy_check_files(const proxy_config *cfg, FILE *err)
{
    int bad = 0;
    for (size_t i = 0; i < cfg->n_services; i++) {
        const proxy_service_config *s = &cfg->services[i];
        char why[512];
        X509_STORE *store = NULL;
        if (proxy_identity_check(s->cert_file, s->key_file, why, sizeof(why)) != 0 ||
            proxy_trust_store(s->ca_file, s->crl_file, &store, why, sizeof(why)) != 0) {
            fprintf(err, "dtlsudp-proxy: %s: service '%s': %s\n", s->origin, s->name, why);
            bad = 1;
        }
        X509_STORE_free(store);
    }
    return bad;
}

int proxy_wait_ms(dtlsudp_time next, dtlsudp_time now)
{
    if (next == DTLSUDP_TIME_NEVER)
        return -1;
    if (next <= now)
        return 0;
    /* wake at least once a minute: a clock jump cannot put the loop to
     * sleep for longer */
    return next - now > 60000 ? 60000 : (int)(next - now);
}

static dtlsudp_time next_deadline(const running *run, size_t n)
{
    dtlsudp_time next = DTLSUDP_TIME_NEVER;
    for (size_t i = 0; i < n; i++) {
        dtlsudp_time t = run[i].server != NULL ? proxy_server_next_timeout(run[i].server)
                                               : proxy_client_next_timeout(run[i].client);
        if (t < next)
            next = t;
    }
    return next;
}

/* Timers, and the sessions that ended during the last batch are freed
 * only now: a later event of the batch may still point at one. */
static void run_timers(running *run, size_t n, dtlsudp_time now)
{
    for (size_t i = 0; i < n; i++) {
        if (run[i].server != NULL)
            proxy_server_timeout(run[i].server, now);
        else
            proxy_client_timeout(run[i].client, now);
    }
}

static void reload_all(running *run, size_t n, dtlsudp_time now)
{
    for (size_t i = 0; i < n; i++) {
        if (run[i].server != NULL)
            (void)proxy_server_reload(run[i].server, run[i].cfg, now);
        else
            (void)proxy_client_reload(run[i].client, run[i].cfg, now);
    }
}

static void report_all(const running *run, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (run[i].server != NULL)
            proxy_server_report(run[i].server);
        else if (run[i].client != NULL)
            proxy_client_report(run[i].client);
    }
}

static void stop_all(running *run, size_t n)
{
    report_all(run, n);
    for (size_t i = 0; i < n; i++) {
        proxy_server_free(run[i].server);
        proxy_client_free(run[i].client);
    }
}

int proxy_run(const proxy_config *cfg)
{
    proxy_signals sg = {.fd = -1};
    proxy_loop loop = {.epfd = -1};
    running *run = calloc(cfg->n_services, sizeof(*run));
    dtlsudp_time now;
    int status = 1;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGUSR2, SIG_IGN);
    if (run == NULL || proxy_signals_open(&sg) != 0 || proxy_loop_open(&loop) != 0 ||
        proxy_loop_add(&loop, sg.fd, &sg.watch) != 0) {
        fprintf(stderr, "dtlsudp-proxy: setup: %s\n", strerror(errno));
        goto Exit;
    }
    now = dtlsudp_now();
    for (size_t i = 0; i < cfg->n_services; i++) {
        run[i].cfg = &cfg->services[i];
        if (start_service(&run[i], &loop, now) != 0)
            goto Exit;
    }
    while (!sg.stop) {
        if (proxy_loop_run_once(&loop, proxy_wait_ms(next_deadline(run, cfg->n_services), dtlsudp_now())) < 0) {
            fprintf(stderr, "dtlsudp-proxy: epoll_wait: %s\n", strerror(errno));
            goto Exit;
        }
        now = dtlsudp_now();
        run_timers(run, cfg->n_services, now);
        if (sg.reload) {
            sg.reload = 0;
            reload_all(run, cfg->n_services, now);
        }
        if (sg.report) {
            sg.report = 0;
            report_all(run, cfg->n_services);
        }
    }
    status = 0;

Exit:
    if (run != NULL)
        stop_all(run, cfg->n_services);
    free(run);
    proxy_signals_close(&sg);
    proxy_loop_close(&loop);
    return status;
}

/* The unit test of this file (tests/proxy/test_main.c) links it with a
 * main() of its own. */
#ifndef PROXY_NO_MAIN
int main(int argc, char **argv)
{
    proxy_options o;
    int status = proxy_options_parse(argc, argv, stderr, &o);
    if (status != PROXY_OPTIONS_RUN)
        return status;
    if (o.check_only) {
        status = proxy_check_files(&o.cfg, stderr);
        if (status == 0)
            printf("dtlsudp-proxy: %zu service%s ok\n", o.cfg.n_services, o.cfg.n_services == 1 ? "" : "s");
    } else {
        status = proxy_run(&o.cfg);
    }
    proxy_config_free(&o.cfg);
    return status;
}
#endif
