/*
 * dtls-echo-client - send each line of stdin as one DTLS datagram and print
 * each echo; close with close_notify at end of input.
 *
 *   dtls-echo-client [-6] --cert F --key F --ca F [--peer-fingerprint FP] HOST PORT
 *
 * The server is accepted when its certificate chains to --ca, or when it
 * matches --peer-fingerprint (AB:CD:... of any supported hash length).
 * One poll() loop over stdin and the connection's fd; nothing blocks.
 * Empty lines are skipped (DTLS carries no empty application records).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dtlsudp.h"
#include "echo-common.h"

/* After end of input, how long to wait for the last echoes. */
#define DRAIN_MS 2000

static void usage(FILE *f)
{
    fprintf(f, "usage: dtls-echo-client [-6] --cert F --key F --ca F [--peer-fingerprint FP] HOST PORT\n");
}

/* -6: resolve HOST to an IPv6 address ourselves (dtlsudp_conn_connect() takes
 * whatever getaddrinfo() offers first). */
static int resolve_v6(const char *host, char *out, size_t cap)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET6;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
        return -1;
    int r = getnameinfo(res->ai_addr, res->ai_addrlen, out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST);
    freeaddrinfo(res);
    return r == 0 ? 0 : -1;
}

/* Print every echo that is already here; returns how many, or -1 once the
 * association has ended. */
static int print_echoes(dtlsudp_conn *c)
{
    uint8_t buf[16384];
    size_t len;
    int n = 0;
    for (;;) {
        int ret = dtlsudp_conn_read(c, buf, sizeof(buf), &len, 0);
        if (ret == DTLSUDP_ERR_AGAIN)
            return n;
        if (ret != DTLSUDP_OK) {
            fprintf(stderr, "dtls-echo-client: connection ended: %s\n", dtlsudp_strerror(ret));
            return -1;
        }
        fwrite(buf, 1, len, stdout);
        fputc('\n', stdout);
        n++;
    }
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        ECHO_COMMON_OPTIONS,
        {"peer-fingerprint", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    dtlsudp_conn_config cfg;
    dtlsudp_fingerprint fp;
    dtlsudp_conn *c = NULL;
    char host6[128], *line = NULL;
    size_t line_cap = 0;
    const char *host;
    int ipv6 = 0, opt, ret, status = 1;
    long outstanding = 0;

    dtlsudp_conn_config_init(&cfg);
    echo_common_init(&cfg.engine, "dtls-echo-client");
    while ((opt = getopt_long(argc, argv, "6h", options, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (dtlsudp_fingerprint_parse(optarg, &fp) != DTLSUDP_OK) {
                fprintf(stderr, "dtls-echo-client: bad fingerprint %s\n", optarg);
                return 2;
            }
            cfg.connect.peer_fingerprints = &fp;
            cfg.connect.n_peer_fingerprints = 1;
            break;
        default:
            if ((ret = echo_common_option(opt, optarg, &cfg.engine, &ipv6, usage)) != ECHO_OPTION_TAKEN)
                return ret;
        }
    }
    if (argc - optind != 2 || cfg.engine.cert_file == NULL || cfg.engine.key_file == NULL ||
        (cfg.engine.ca_file == NULL && cfg.connect.n_peer_fingerprints == 0)) {
        usage(stderr);
        return 2;
    }
    host = argv[optind];
    if (ipv6) {
        if (resolve_v6(host, host6, sizeof(host6)) != 0) {
            fprintf(stderr, "dtls-echo-client: no IPv6 address for %s\n", host);
            return 1;
        }
        host = host6;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Unbuffered: poll() on stdin must see every line stdio has not read. */
    setvbuf(stdin, NULL, _IONBF, 0);
    setvbuf(stdout, NULL, _IOLBF, 0);

    ret = dtlsudp_conn_connect(host, argv[optind + 1], &cfg, 10000, dtlsudp_now(), &c);
    if (ret != DTLSUDP_OK) {
        fprintf(stderr, "dtls-echo-client: cannot connect to %s port %s: %s\n", host, argv[optind + 1],
                dtlsudp_strerror(ret));
        return 1;
    }

    int input_open = 1;
    dtlsudp_time drain_until = DTLSUDP_TIME_NEVER;
    for (;;) {
        dtlsudp_time now = dtlsudp_now();
        if (!input_open && (outstanding <= 0 || now >= drain_until))
            break;
        dtlsudp_time next = dtlsudp_conn_next_timeout(c);
        if (drain_until < next)
            next = drain_until;
        struct pollfd p[2] = {
            {.fd = dtlsudp_conn_fd(c), .events = POLLIN},
            {.fd = input_open ? STDIN_FILENO : -1, .events = POLLIN},
        };
        int wait = next == DTLSUDP_TIME_NEVER ? -1 : next <= now ? 0 : (int)(next - now);
        if (poll(p, 2, wait) < 0 && errno != EINTR) {
            perror("poll");
            goto Exit;
        }
        now = dtlsudp_now();
        (void)dtlsudp_conn_process(c, now);
        int got = print_echoes(c);
        if (got < 0)
            goto Exit;
        outstanding -= got;
        if (input_open && (p[1].revents & (POLLIN | POLLHUP)) != 0) {
            ssize_t n = getline(&line, &line_cap, stdin);
            if (n < 0) {
                input_open = 0;
                drain_until = dtlsudp_now() + DRAIN_MS;
                continue;
            }
            if (n > 0 && line[n - 1] == '\n')
                n--;
            if (n == 0)
                continue; /* DTLS has no empty application records */
            ret = dtlsudp_conn_write(c, (const uint8_t *)line, (size_t)n);
            if (ret != DTLSUDP_OK) {
                fprintf(stderr, "dtls-echo-client: send: %s\n", dtlsudp_strerror(ret));
                if (dtlsudp_err_is_assoc_fatal(ret))
                    goto Exit;
                continue;
            }
            outstanding++;
        }
    }
    status = outstanding <= 0 ? 0 : 1;
    if (outstanding > 0)
        fprintf(stderr, "dtls-echo-client: %ld echo(es) missing\n", outstanding);

Exit:
    /* close_notify (RFC 6353 5.4), then free */
    (void)dtlsudp_conn_shutdown(c);
    dtlsudp_conn_free(c);
    free(line);
    return status;
}
