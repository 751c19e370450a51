/*
 * manager-many-sessions.c - one manager process, many DTLS sessions.
 *
 *   manager-many-sessions [-n SESSIONS] [-r ROUNDS] [-w SECONDS] [-a] [-s] PEER
 *
 * Opens SESSIONS sessions (default 1000) to PEER (e.g.
 * dtlsudp:127.0.0.1:10161) with Net-SNMP's single-session API, keeps them
 * all open, and polls each ROUNDS times (default 2) with asynchronous GETs
 * (snmp_sess_async_send) driven by one select() loop over every session
 * (snmp_sess_select_info2 / snmp_sess_read2 / snmp_sess_timeout, large fd
 * sets: there are more descriptors than FD_SETSIZE allows).  Each session
 * has its own transport, so each is its own DTLS association.
 *
 * Certificates come from snmp.conf (localCert, peerCert), as for snmpget.
 * By default snmp_sess_open() runs the RFC 5343 contextEngineID probe, so
 * each handshake completes inside the open call; with -a the sessions are
 * opened without the probe and the first request of each carries the
 * RFC 5343 localEngineID wildcard, so the handshakes run inside the
 * asynchronous loop instead.
 *
 * An event-loop application runs libnetsnmp's timers itself: the program
 * sets NETSNMP_DS_LIB_ALARM_DONT_USE_SIG and calls run_alarms() from its
 * loop.  With -s it leaves the library default, where snmp_alarm timers
 * fire from a SIGALRM handler, whatever the program is doing.
 *
 * Without -s, a watchdog (SIGALRM) ends a phase stuck far beyond its
 * budget with exit status 3.
 *
 * Prints "opened N/SESSIONS", then "round R: ok N/M" per round, and exits 0
 * only if every session opened and every request of every round was
 * answered within the deadline (-w, default 60 s per round).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fd_set.fds_bits, used by NETSNMP_LARGE_FD_ZERO */
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>

#define DEFAULT_SESSIONS 1000
#define DEFAULT_ROUNDS 2
#define DEFAULT_WAIT_S 60

typedef struct poll_slot {
    void *sess;
    int index;
    int outstanding;
    int answered; /* in this round */
    int failed;   /* in this round: timeout, error status, or bad PDU */
} poll_slot;

static int verbose_errors = 5; /* print the first few failures only */

/* A phase that overruns its budget by far is stuck (e.g. in a transport
 * timer that never stops firing): say so and exit rather than hang. */

static void watchdog_fired(int sig)
{
    static const char msg[] = "watchdog: the manager is stuck; giving up\n";

    (void)sig;
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(3);
}

static void watchdog_arm(unsigned seconds)
{
    alarm(seconds);
}

static const oid sys_uptime_oid[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
static const oid engine_id_oid[] = {1, 3, 6, 1, 6, 3, 10, 2, 1, 1, 0};
static const u_char rfc5343_local_engine_id[] = {0x80, 0, 0, 0, 6};

static int on_response(int op, netsnmp_session *session, int reqid, netsnmp_pdu *pdu,
                       void *magic)
{
    poll_slot *slot = magic;

    slot->outstanding = 0;
    if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE && pdu != NULL &&
        pdu->errstat == SNMP_ERR_NOERROR && pdu->variables != NULL &&
        pdu->variables->type != SNMP_NOSUCHOBJECT && pdu->variables->type != SNMP_NOSUCHINSTANCE) {
        slot->answered = 1;
    } else {
        slot->failed = 1;
        if (verbose_errors > 0) {
            verbose_errors--;
            fprintf(stderr, "session %d: %s\n", slot->index,
                    op == NETSNMP_CALLBACK_OP_TIMED_OUT ? "timeout"
                    : pdu != NULL                       ? snmp_errstring((int)pdu->errstat)
                                                        : "no response");
        }
    }
    return 1;
}

static int send_poll(poll_slot *slot, int wildcard_context)
{
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);

    if (pdu == NULL)
        return -1;
    if (wildcard_context) {
        pdu->contextEngineID = netsnmp_memdup(rfc5343_local_engine_id,
                                              sizeof(rfc5343_local_engine_id));
        pdu->contextEngineIDLen = sizeof(rfc5343_local_engine_id);
        snmp_add_null_var(pdu, engine_id_oid, OID_LENGTH(engine_id_oid));
    } else {
        snmp_add_null_var(pdu, sys_uptime_oid, OID_LENGTH(sys_uptime_oid));
    }
    if (snmp_sess_async_send(slot->sess, pdu, on_response, slot) == 0) {
        if (verbose_errors > 0) {
            char *err = NULL;
            int liberr = 0, syserr = 0;

            verbose_errors--;
            snmp_sess_error(slot->sess, &syserr, &liberr, &err);
            fprintf(stderr, "session %d: send failed: %s\n", slot->index, err ? err : "?");
            free(err);
        }
        snmp_free_pdu(pdu);
        return -1;
    }
    slot->outstanding = 1;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run the select loop until nothing is outstanding or the deadline passes. */
static void run_loop(poll_slot *slots, int n, double deadline)
{
    netsnmp_large_fd_set fdset;

    netsnmp_large_fd_set_init(&fdset, 4 * n + 64);
    for (;;) {
        int numfds = 0, block = 1, busy = 0, rc;
        struct timeval tv = {1, 0};

        NETSNMP_LARGE_FD_ZERO(&fdset);
        for (int i = 0; i < n; i++) {
            if (slots[i].sess == NULL || !slots[i].outstanding)
                continue;
            busy++;
            block = 1;
            snmp_sess_select_info2(slots[i].sess, &numfds, &fdset, &tv, &block);
        }
        if (busy == 0 || now_s() > deadline)
            break;
        if (tv.tv_sec > 1 || tv.tv_sec < 0) {
            tv.tv_sec = 1;
            tv.tv_usec = 0;
        }
        rc = netsnmp_large_fd_set_select(numfds, &fdset, NULL, NULL, &tv);
        run_alarms();
        if (rc < 0 && errno != EINTR) {
            perror("select");
            break;
        }
        for (int i = 0; i < n; i++) {
            if (slots[i].sess == NULL || !slots[i].outstanding)
                continue;
            if (rc > 0)
                snmp_sess_read2(slots[i].sess, &fdset);
            if (slots[i].outstanding)
                snmp_sess_timeout(slots[i].sess);
        }
    }
    netsnmp_large_fd_set_cleanup(&fdset);
}

static void raise_fd_limit(int need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    int n = DEFAULT_SESSIONS, rounds = DEFAULT_ROUNDS, wait_s = DEFAULT_WAIT_S;
    int async_handshake = 0, signal_alarms = 0, opened = 0, status = 0, opt;
    poll_slot *slots;
    netsnmp_session templ;
    double t0;

    while ((opt = getopt(argc, argv, "n:r:w:as")) != -1) {
        switch (opt) {
        case 'n': n = atoi(optarg); break;
        case 'r': rounds = atoi(optarg); break;
        case 'w': wait_s = atoi(optarg); break;
        case 'a': async_handshake = 1; break;
        case 's': signal_alarms = 1; break;
        default: goto Usage;
        }
    }
    if (optind != argc - 1 || n <= 0 || rounds <= 0 || wait_s <= 0)
        goto Usage;

    setvbuf(stdout, NULL, _IOLBF, 0);
    raise_fd_limit(4 * n + 64);
    if (!signal_alarms) {
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
        /* SIGALRM is ours then: libnetsnmp's timers run from the loop. */
        signal(SIGALRM, watchdog_fired);
    }
    init_snmp("manager-many-sessions");
    slots = calloc((size_t)n, sizeof(*slots));
    if (slots == NULL)
        return 2;

    snmp_sess_init(&templ);
    templ.peername = argv[optind];
    templ.version = SNMP_VERSION_3;
    templ.retries = 3;
    templ.timeout = 2 * 1000000L;
    if (async_handshake)
        templ.flags |= SNMP_FLAGS_DONT_PROBE;

    if (!signal_alarms)
        watchdog_arm(60 + (unsigned)n / 10);
    t0 = now_s();
    for (int i = 0; i < n; i++) {
        netsnmp_session s = templ;

        slots[i].index = i;
        slots[i].sess = snmp_sess_open(&s);
        if (slots[i].sess == NULL) {
            if (verbose_errors > 0) {
                verbose_errors--;
                fprintf(stderr, "session %d: open failed: %s\n", i,
                        snmp_api_errstring(snmp_errno));
            }
            continue;
        }
        opened++;
    }
    printf("opened %d/%d in %.2f s\n", opened, n, now_s() - t0);
    if (opened != n)
        status = 1;

    for (int r = 1; r <= rounds; r++) {
        int sent = 0, ok = 0;

        if (!signal_alarms)
            watchdog_arm((unsigned)wait_s + 30);
        t0 = now_s();
        for (int i = 0; i < n; i++) {
            slots[i].answered = slots[i].failed = 0;
            if (slots[i].sess != NULL && send_poll(&slots[i], async_handshake && r == 1) == 0)
                sent++;
        }
        run_loop(slots, n, now_s() + wait_s);
        for (int i = 0; i < n; i++)
            ok += slots[i].answered;
        printf("round %d: ok %d/%d (sent %d) in %.2f s\n", r, ok, n, sent, now_s() - t0);
        fflush(stdout);
        if (ok != n)
            status = 1;
    }

    if (!signal_alarms)
        watchdog_arm(60);
    for (int i = 0; i < n; i++)
        if (slots[i].sess != NULL)
            snmp_sess_close(slots[i].sess);
    free(slots);
    snmp_shutdown("manager-many-sessions");
    return status;

Usage:
    fprintf(stderr, "usage: manager-many-sessions [-n SESSIONS] [-r ROUNDS] [-w SECONDS] [-a] [-s] PEER\n");
    return 2;
}
