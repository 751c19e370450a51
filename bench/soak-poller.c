/*
 * soak-poller.c - N SNMP managers in one process for the soak test
 * (bench/soak): each polls sysUpTime.0 over DTLS about once every
 * INTERVAL_MS, and closes its session and opens a new one (new DTLS
 * association, new source port) after a random 5..20 requests.
 *
 *   soak-poller TARGET N SECONDS [INTERVAL_MS [SEED]]
 *   e.g. soak-poller dtlsudp:127.0.0.1:10161 20 600 1000 7
 *
 * Opening a session (handshake, RFC 5343 engine ID probe) blocks the
 * process, so the soak test runs several pollers processes.
 *
 * The client side is libnetsnmp's own (built-in DTLSUDP), configured by
 * SNMPCONFPATH (localCert/peerCert); requests are asynchronous, timeout 2 s,
 * 3 retries.  Prints one line a minute and a total:
 *   sent, ok, timeouts (no answer after every retry), errors (an answer
 *   with an error status, or a send/open failure), sessions opened.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

typedef struct poller {
    netsnmp_session *ss;
    int outstanding;
    int left; /* requests before the session is replaced */
    double next_send;
} poller;

static poller *pollers;
static int npollers;
static const char *target;
static unsigned long long sent, ok, timeouts, errors, opened, open_failed, send_failed;
static unsigned long long m_sent, m_ok, m_timeouts, m_errors;
static unsigned long long cb_failed, resends;
static unsigned interval_ms = 1000;
static unsigned seed = 12345;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned rnd(unsigned n)
{
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
}

static int on_response(int op, netsnmp_session *ss, int reqid, netsnmp_pdu *pdu, void *magic)
{
    poller *p = magic;

    (void)ss;
    (void)reqid;
    if (op == NETSNMP_CALLBACK_OP_RESEND) {
        /* A retry went out; the request is still outstanding. */
        resends++;
        return 1;
    }
    p->outstanding = 0;
    p->next_send = now_s() + (interval_ms * (0.5 + rnd(1000) / 1000.0)) / 1000.0;
    if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE) {
        if (pdu != NULL && pdu->errstat == SNMP_ERR_NOERROR && pdu->variables != NULL &&
            pdu->variables->type == ASN_TIMETICKS) {
            ok++;
            m_ok++;
        } else {
            errors++;
            m_errors++;
        }
    } else if (op == NETSNMP_CALLBACK_OP_TIMED_OUT) {
        timeouts++;
        m_timeouts++;
    } else {
        /* SEND_FAILED, SEC_ERROR, DISCONNECT */
        errors++;
        m_errors++;
        cb_failed++;
    }
    return 1;
}

static int open_session(poller *p)
{
    netsnmp_session s;

    snmp_sess_init(&s);
    s.peername = (char *)target;
    s.version = SNMP_VERSION_3;
    s.securityModel = SNMP_SEC_MODEL_TSM;
    s.securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
    s.timeout = 2000000;
    s.retries = 3;
    s.callback = on_response;
    s.callback_magic = p;
    p->ss = snmp_open(&s);
    p->left = 5 + (int)rnd(16);
    if (p->ss == NULL) {
        open_failed++;
        return -1;
    }
    opened++;
    return 0;
}

static void send_one(poller *p)
{
    static const oid uptime[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
    netsnmp_pdu *pdu;

    if (p->ss != NULL && p->left <= 0) {
        snmp_close(p->ss);
        p->ss = NULL;
    }
    if (p->ss == NULL && open_session(p) != 0) {
        p->next_send = now_s() + 1.0;
        return;
    }
    pdu = snmp_pdu_create(SNMP_MSG_GET);
    snmp_add_null_var(pdu, uptime, sizeof(uptime) / sizeof(uptime[0]));
    sent++;
    m_sent++;
    p->left--;
    if (snmp_async_send(p->ss, pdu, on_response, p) == 0) {
        /* Not sent (the callback does not run): count it, and start over
         * with a new session next time. */
        snmp_free_pdu(pdu);
        errors++;
        m_errors++;
        send_failed++;
        snmp_close(p->ss);
        p->ss = NULL;
        p->next_send = now_s() + 1.0;
        return;
    }
    p->outstanding = 1;
}

int main(int argc, char **argv)
{
    double start, end, next_report;
    int i, minute = 0;

    if (argc < 4) {
        fprintf(stderr, "usage: %s TARGET N SECONDS [INTERVAL_MS [SEED]]\n", argv[0]);
        return 2;
    }
    target = argv[1];
    npollers = atoi(argv[2]);
    if (argc > 4)
        interval_ms = (unsigned)atoi(argv[4]);
    if (argc > 5)
        seed = (unsigned)atoi(argv[5]);
    /* Alarms (the DTLS client role's timers among them) run from this
     * loop's snmp_timeout(), never from a SIGALRM handler: libnetsnmp's
     * default would run them in signal context, in the middle of malloc
     * (as snmplib-patches/plugin.c also arranges for the shipped loader).
     * SOAK_ALARM_SIGNALS=1 keeps the default (to reproduce that hazard). */
    if (getenv("SOAK_ALARM_SIGNALS") == NULL)
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
    init_snmp("soakpoller");
    if ((pollers = calloc((size_t)npollers, sizeof(*pollers))) == NULL)
        return 1;
    start = now_s();
    end = start + atof(argv[3]);
    next_report = start + 60;
    for (i = 0; i < npollers; i++)
        pollers[i].next_send = start + (interval_ms * (i / (double)npollers)) / 1000.0;

    while (now_s() < end) {
        fd_set fds;
        int nfds = 0, block = 0;
        struct timeval tv = {0, 50000};
        double t = now_s();

        for (i = 0; i < npollers; i++)
            if (!pollers[i].outstanding && t >= pollers[i].next_send)
                send_one(&pollers[i]);
        FD_ZERO(&fds);
        snmp_select_info(&nfds, &fds, &tv, &block);
        if (tv.tv_sec > 0 || tv.tv_usec > 50000) {
            tv.tv_sec = 0;
            tv.tv_usec = 50000;
        }
        if (select(nfds, &fds, NULL, NULL, &tv) > 0)
            snmp_read(&fds);
        else
            snmp_timeout();
        if (now_s() >= next_report) {
            minute++;
            printf("poller: minute %d: sent %llu ok %llu timeouts %llu errors %llu (sessions opened %llu)\n",
                   minute, m_sent, m_ok, m_timeouts, m_errors, opened);
            fflush(stdout);
            m_sent = m_ok = m_timeouts = m_errors = 0;
            next_report += 60;
        }
    }
    /* Let outstanding requests finish (answer or time out). */
    end = now_s() + 10;
    for (;;) {
        fd_set fds;
        int nfds = 0, block = 0, busy = 0;
        struct timeval tv = {0, 100000};
        for (i = 0; i < npollers; i++)
            busy += pollers[i].outstanding;
        if (busy == 0 || now_s() > end)
            break;
        FD_ZERO(&fds);
        snmp_select_info(&nfds, &fds, &tv, &block);
        if (select(nfds, &fds, NULL, NULL, &tv) > 0)
            snmp_read(&fds);
        else
            snmp_timeout();
    }
    for (i = 0; i < npollers; i++)
        if (pollers[i].ss != NULL)
            snmp_close(pollers[i].ss);
    printf("poller: total: sent %llu ok %llu timeouts %llu errors %llu (not sent %llu, failed after send %llu) "
           "sessions opened %llu open failures %llu retries %llu\n",
           sent, ok, timeouts, errors, send_failed, cb_failed, opened, open_failed, resends);
    free(pollers);
    return 0;
}
