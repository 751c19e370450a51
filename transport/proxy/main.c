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


typedef struct signal_watch {
    proxy_watch watch;
    int fd;
    int stop, reload, report;
} signal_watch;

static void signal_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    signal_watch *sw = (signal_watch *)w;
    struct signalfd_siginfo si;
    (void)events;
    (void)now;
    while (read(sw->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP)
            sw->reload = 1;
        else if (si.ssi_signo == SIGUSR1)
            sw->report = 1;
        else
            sw->stop = 1;
    }
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

/* --check: the files of every service load (identity, CA, CRL). */
static int check_files(const proxy_config *cfg)
{
    int bad = 0;
    for (size_t i = 0; i < cfg->n_services; i++) {
        const proxy_service_config *s = &cfg->services[i];
        char err[512];
        X509_STORE *store = NULL;
        if (proxy_identity_check(s->cert_file, s->key_file, err, sizeof(err)) != 0 ||
            proxy_trust_store(s->ca_file, s->crl_file, &store, err, sizeof(err)) != 0) {
            fprintf(stderr, "dtlsudp-proxy: %s: service '%s': %s\n", s->origin, s->name, err);
            bad = 1;
        }
        X509_STORE_free(store);
    }
    return bad;
}

int main(int argc, char **argv)
{
    struct option options[N_SERVICE_KEYS + 9];
    proxy_config cfg = {0};
    proxy_service_config cli = {0};
    const char *config_file = NULL;
    int cli_used = 0, check_only = 0, opt, status = 1;
    char err[512];

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

    snprintf(cli.name, sizeof(cli.name), "main");
    snprintf(cli.origin, sizeof(cli.origin), "command line");
    while ((opt = getopt_long(argc, argv, "c:vqh", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_file = optarg;
            break;
        case OPT_SERVER:
        case OPT_CLIENT:
            cli.mode = opt == OPT_SERVER ? PROXY_MODE_SERVER : PROXY_MODE_CLIENT;
            cli_used = 1;
            break;
        case OPT_NAME:
            snprintf(cli.name, sizeof(cli.name), "%s", optarg);
            break;
        case OPT_CHECK:
            check_only = 1;
            break;
        case 'v':
            proxy_verbosity = DTLSUDP_LOG_DEBUG;
            break;
        case 'q':
            proxy_verbosity = DTLSUDP_LOG_WARNING;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            if (opt >= OPT_KEY0 && opt < OPT_KEY0 + (int)N_SERVICE_KEYS) {
                if (proxy_service_set(&cli, service_keys[opt - OPT_KEY0], optarg, err, sizeof(err)) != 0) {
                    fprintf(stderr, "dtlsudp-proxy: command line: %s\n", err);
                    return 2;
                }
                cli_used = 1;
                break;
            }
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || (config_file == NULL && !cli_used)) {
        usage(stderr);
        return 2;
    }
    if (config_file != NULL && proxy_config_load(&cfg, config_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "dtlsudp-proxy: %s\n", err);
        proxy_config_free(&cfg);
        return 2;
    }
    if (cli_used) {
        if (proxy_service_validate(&cli, err, sizeof(err)) != 0) {
            fprintf(stderr, "dtlsudp-proxy: command line: %s\n", err);
            proxy_config_free(&cfg);
            return 2;
        }
        proxy_service_config *s = proxy_config_add(&cfg, cli.name);
        if (s == NULL)
            return 1;
        *s = cli; /* the strings move to cfg */
        memset(&cli, 0, sizeof(cli));
    }
    if (cfg.n_services == 0) {
        fprintf(stderr, "dtlsudp-proxy: %s: no [server NAME] or [client NAME] section\n", config_file);
        proxy_config_free(&cfg);
        return 2;
    }
    if (check_only) {
        status = check_files(&cfg) != 0 ? 1 : 0;
        if (status == 0)
            printf("dtlsudp-proxy: %zu service%s ok\n", cfg.n_services, cfg.n_services == 1 ? "" : "s");
        proxy_config_free(&cfg);
        return status;
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGUSR1);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGUSR2, SIG_IGN);
    signal_watch sw = {.watch.ready = signal_ready};
    proxy_loop loop;
    running *run = calloc(cfg.n_services, sizeof(*run));
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0 || proxy_loop_open(&loop) != 0 || run == NULL ||
        (sw.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 || proxy_loop_add(&loop, sw.fd, &sw.watch) != 0) {
        fprintf(stderr, "dtlsudp-proxy: setup: %s\n", strerror(errno));
        return 1;
    }

    dtlsudp_time now = dtlsudp_now();
    for (size_t i = 0; i < cfg.n_services; i++) {
        run[i].cfg = &cfg.services[i];
        if (start_service(&run[i], &loop, now) != 0)
            goto Exit;
    }

    while (!sw.stop) {
        dtlsudp_time next = DTLSUDP_TIME_NEVER;
        now = dtlsudp_now();
        for (size_t i = 0; i < cfg.n_services; i++) {
            dtlsudp_time t = run[i].server != NULL ? proxy_server_next_timeout(run[i].server)
                                                   : proxy_client_next_timeout(run[i].client);
            if (t < next)
                next = t;
        }
        int wait = next == DTLSUDP_TIME_NEVER ? -1 : next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
        if (proxy_loop_run_once(&loop, wait) < 0) {
            fprintf(stderr, "dtlsudp-proxy: epoll_wait: %s\n", strerror(errno));
            goto Exit;
        }
        now = dtlsudp_now();
        /* Timers, and the sessions that ended during this batch are freed
         * only now: a later event of the batch may still point at one. */
        for (size_t i = 0; i < cfg.n_services; i++) {
            if (run[i].server != NULL)
                proxy_server_timeout(run[i].server, now);
            else
                proxy_client_timeout(run[i].client, now);
        }
        if (sw.reload) {
            sw.reload = 0;
            for (size_t i = 0; i < cfg.n_services; i++) {
                if (run[i].server != NULL)
                    (void)proxy_server_reload(run[i].server, run[i].cfg, now);
                else
                    (void)proxy_client_reload(run[i].client, run[i].cfg, now);
            }
        }
        if (sw.report) {
            sw.report = 0;
            for (size_t i = 0; i < cfg.n_services; i++) {
                if (run[i].server != NULL)
                    proxy_server_report(run[i].server);
                else
                    proxy_client_report(run[i].client);
            }
        }
    }
    status = 0;

Exit:
    for (size_t i = 0; i < cfg.n_services; i++) {
        if (run[i].server != NULL) {
            proxy_server_report(run[i].server);
            proxy_server_free(run[i].server);
        } else if (run[i].client != NULL) {
            proxy_client_report(run[i].client);
            proxy_client_free(run[i].client);
        }
    }
    free(run);
    close(sw.fd);
    proxy_loop_close(&loop);
    proxy_config_free(&cfg);
    return status;
}
