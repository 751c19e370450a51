/*
 * getloop.c - SNMP GET load generator on Net-SNMP's own API (libnetsnmp).
 *
 *   getloop MODE [-d SECONDS] [-n COUNT] [-w WARMUP] [-i INTERVAL_MS] [-q] \
 *           -- SNMPGET-ARGUMENTS... AGENT OID
 *
 * Everything after "--" is what snmpget takes (-v3 -T localCert=client
 * dtlsudp:127.0.0.1:10161, -v2c -c public udp:..., -t, -r), parsed by
 * snmp_parse_args(), so the same binary drives plain UDP, Net-SNMP's
 * built-in DTLSUDP and, with LD_PRELOAD=libdtlsudp-preload.so, this
 * project's transport.
 *
 * Modes:
 *   loop      one session (snmp_open, which for TSM runs the handshake and
 *             the RFC 5343 probe), WARMUP GETs, then GETs back to back for
 *             SECONDS or COUNT, whichever ends first: GETs/s and latency.
 *   sessions  repeated open + GET + close (a new transport, hence a new
 *             DTLS handshake, every time) for SECONDS or COUNT; with -i one
 *             attempt starts every INTERVAL_MS (a polling client), else back
 *             to back.  Latency is open+GET; close is timed separately.
 *
 * libnetsnmp's alarms are set not to use SIGALRM (as in snmpd).
 *
 * Output: one line of key=value pairs on stdout, e.g.
 *   mode=loop ok=51234 fail=0 secs=5.000 rate=10246.8 p50_us=95 p99_us=180 max_us=2100
 * Exit status 0 when the harness worked (whatever the numbers), 2 on a
 * usage or setup error.  Never waits longer than SECONDS plus one
 * request's timeout * (retries + 1).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#define MAX_SAMPLES 4000000

typedef struct samples {
    uint32_t *us;
    size_t n, cap;
} samples;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void samples_add(samples *s, double secs)
{
    double us = secs * 1e6;

    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        uint32_t *p;

        if (cap > MAX_SAMPLES)
            return;
        p = realloc(s->us, cap * sizeof(*p));
        if (p == NULL)
            return;
        s->us = p;
        s->cap = cap;
    }
    s->us[s->n++] = us > 4e9 ? 4000000000u : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples; 0 when there are none. */
static uint32_t percentile(const samples *s, double p)
{
    size_t k;

    if (s->n == 0)
        return 0;
    k = (size_t)(p / 100.0 * (double)s->n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > s->n)
        k = s->n;
    return s->us[k - 1];
}

static void print_stats(const char *prefix, samples *s)
{
    qsort(s->us, s->n, sizeof(*s->us), cmp_u32);
    printf(" %sp50_us=%u %sp99_us=%u %smax_us=%u", prefix, percentile(s, 50), prefix,
           percentile(s, 99), prefix, s->n ? s->us[s->n - 1] : 0);
}

static void usage(void)
{
    fprintf(stderr, "usage: getloop loop|sessions [-d SECONDS] [-n COUNT] [-w WARMUP] "
                    "[-i INTERVAL_MS] [-q] -- SNMPGET-ARGS AGENT OID\n");
    exit(2);
}

/* One GET on an open session: 1 answered, 0 failed. */
static int get_once(netsnmp_session *ss, const oid *name, size_t name_len, int quiet)
{
    netsnmp_pdu *pdu, *response = NULL;
    int status, ok = 0;

    pdu = snmp_pdu_create(SNMP_MSG_GET);
    if (pdu == NULL)
        return 0;
    snmp_add_null_var(pdu, name, name_len);
    status = snmp_synch_response(ss, pdu, &response);
    if (status == STAT_SUCCESS && response != NULL && response->errstat == SNMP_ERR_NOERROR &&
        response->variables != NULL && response->variables->type != SNMP_NOSUCHOBJECT &&
        response->variables->type != SNMP_NOSUCHINSTANCE &&
        response->variables->type != SNMP_ENDOFMIBVIEW)
        ok = 1;
    else if (!quiet)
        fprintf(stderr, "getloop: GET failed: %s\n",
                status == STAT_TIMEOUT ? "timeout" : snmp_api_errstring(ss->s_snmp_errno));
    if (response != NULL)
        snmp_free_pdu(response);
    return ok;
}

int main(int argc, char **argv)
{
    const char *mode;
    double duration = 5.0, interval_ms = 0;
    long count = -1, warmup = 0;
    int quiet = 0, i, sep = -1, arg;
    netsnmp_session session, *ss = NULL;
    oid name[MAX_OID_LEN];
    size_t name_len = MAX_OID_LEN;
    samples lat = {0}, close_lat = {0};
    long ok = 0, fail = 0;
    double t0, t_end, elapsed;
    int is_loop;

    if (argc < 2)
        usage();
    mode = argv[1];
    if (strcmp(mode, "loop") == 0)
        is_loop = 1;
    else if (strcmp(mode, "sessions") == 0)
        is_loop = 0;
    else
        usage();
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            sep = i;
            break;
        }
        if (strcmp(argv[i], "-q") == 0) {
            quiet = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "-d") == 0)
            duration = atof(argv[++i]);
        else if (strcmp(argv[i], "-n") == 0)
            count = atol(argv[++i]);
        else if (strcmp(argv[i], "-w") == 0)
            warmup = atol(argv[++i]);
        else if (strcmp(argv[i], "-i") == 0)
            interval_ms = atof(argv[++i]);
        else
            usage();
    }
    if (sep < 0 || duration <= 0)
        usage();

    /* Timers run from our loop, never from SIGALRM: libnetsnmp's
     * signal-driven alarms call malloc() inside the signal handler, which
     * corrupts the heap when a transport registers snmp_alarms in a
     * synchronous application (what snmpd does, too). */
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);

    /* snmp_parse_args wants argv[0] first: reuse the "--" slot. */
    argv[sep] = argv[0];
    arg = snmp_parse_args(argc - sep, argv + sep, &session, NULL, NULL);
    if (arg < 0) {
        fprintf(stderr, "getloop: bad snmpget arguments\n");
        return 2;
    }
    if (arg >= argc - sep) {
        fprintf(stderr, "getloop: no OID given\n");
        return 2;
    }
    if (snmp_parse_oid(argv[sep + arg], name, &name_len) == NULL) {
        fprintf(stderr, "getloop: bad OID %s\n", argv[sep + arg]);
        return 2;
    }
    netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DEFAULT_PORT, 161);

    if (is_loop) {
        double t;

        ss = snmp_open(&session);
        if (ss == NULL) {
            snmp_sess_perror("getloop: snmp_open", &session);
            printf("mode=loop ok=0 fail=1 secs=0 rate=0 p50_us=0 p99_us=0 max_us=0 "
                   "error=open\n");
            return 0;
        }
        for (i = 0; i < warmup; i++)
            if (!get_once(ss, name, name_len, quiet))
                fail++;
        t0 = now_s();
        t_end = t0 + duration;
        for (t = t0; t < t_end && (count < 0 || ok + fail < count);) {
            double t1;
            int r = get_once(ss, name, name_len, quiet);

            t1 = now_s();
            if (r) {
                ok++;
                samples_add(&lat, t1 - t);
            } else
                fail++;
            t = t1;
        }
        elapsed = now_s() - t0;
        snmp_close(ss);
        printf("mode=loop ok=%ld fail=%ld secs=%.3f rate=%.1f", ok, fail, elapsed,
               elapsed > 0 ? (double)ok / elapsed : 0.0);
        print_stats("", &lat);
        printf("\n");
    } else {
        long attempt = 0;

        t0 = now_s();
        t_end = t0 + duration;
        for (;;) {
            double start, t1, t2;
            int r = 0;

            if (count >= 0 && attempt >= count)
                break;
            if (interval_ms > 0) {
                double due = t0 + (double)attempt * interval_ms / 1000.0;
                double wait = due - now_s();

                /* Attempts start only inside the window. */
                if (due >= t_end || now_s() >= t_end)
                    break;
                if (wait > 0)
                    usleep((useconds_t)(wait * 1e6));
            } else if (now_s() >= t_end)
                break;
            attempt++;
            start = now_s();
            ss = snmp_open(&session);
            if (ss != NULL)
                r = get_once(ss, name, name_len, quiet);
            else if (!quiet)
                snmp_sess_perror("getloop: snmp_open", &session);
            t1 = now_s();
            if (ss != NULL)
                snmp_close(ss);
            t2 = now_s();
            if (r) {
                ok++;
                samples_add(&lat, t1 - start);
            } else
                fail++;
            samples_add(&close_lat, t2 - t1);
        }
        elapsed = now_s() - t0;
        printf("mode=sessions ok=%ld fail=%ld secs=%.3f rate=%.2f", ok, fail, elapsed,
               elapsed > 0 ? (double)ok / elapsed : 0.0);
        print_stats("", &lat);
        print_stats("close_", &close_lat);
        printf("\n");
    }
    free(lat.us);
    free(close_lat.us);
    snmp_shutdown("getloop");
    return 0;
}
