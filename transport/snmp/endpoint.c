/*
 * endpoint.c - what every dtlsudp transport shares, server or client: the
 * list of endpoints, their lifetime across transport copies, the engine's
 * event callback and configuration, the timers (a snmp_alarm, and for a
 * client a timerfd too), the epoll fd behind t->sock with its eventfd, and
 * the statistics the MIB modules read.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <config.h>

#include "endpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <openssl/x509.h>

endpoint *endpoint_servers;
endpoint *endpoint_all;
static dtlsudp_stats retired;

/* ---------------------------------------------------------------------
 * Engine callbacks
 * --------------------------------------------------------------------- */

/* The endpoint an engine callback is about.  The socket layer forwards
 * our user pointer; the engine match is the fallback should it not. */
endpoint *endpoint_find(void *user, dtlsudp_assoc *a)
{
    dtlsudp_engine *e = a != NULL ? dtlsudp_assoc_engine(a) : NULL;
    endpoint *ep;

    for (ep = endpoint_all; ep != NULL; ep = ep->next_all)
        if (ep == user)
            return ep;
    for (ep = endpoint_all; ep != NULL && e != NULL; ep = ep->next_all) {
        if (ep->listener != NULL && dtlsudp_listener_engine(ep->listener) == e)
            return ep;
        if (ep->conn != NULL && dtlsudp_conn_assoc(ep->conn) != NULL &&
            dtlsudp_assoc_engine(dtlsudp_conn_assoc(ep->conn)) == e)
            return ep;
    }
    return NULL;
}

static void on_event(void *user, dtlsudp_assoc *a, int event, int reason)
{
    endpoint *ep = endpoint_find(user, a);

    if (ep == NULL)
        return;
    switch (event) {
    case DTLSUDP_EVENT_ESTABLISHED:
        if (ep->is_server)
            snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONACCEPTS);
        else if (ep->settings.resume)
            client_store_session(ep, a);
        DEBUGMSGTL(("dtlsudp", "association %llu established (%s, %s%s)\n",
                    (unsigned long long)dtlsudp_assoc_id(a), dtlsudp_assoc_version(a),
                    dtlsudp_assoc_cipher(a), dtlsudp_assoc_resumed(a) ? ", resumed" : ""));
        break;
    case DTLSUDP_EVENT_CLOSED:
        DEBUGMSGTL(("dtlsudp", "association %llu closed: %s\n", (unsigned long long)dtlsudp_assoc_id(a),
                    dtlsudp_strerror(reason)));
        /* closeSession as a server: only sessions that were open (the
         * state is already CLOSED here; the handshake tells). */
        if (ep->is_server && dtlsudp_assoc_was_established(a))
            snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONSERVERCLOSES);
        if (ep->is_server)
            server_queue_leftovers(ep, a);
        if (ep->is_server && !dtlsudp_assoc_was_established(a))
            peerauth_log_server_failure(a, reason);
        if (!ep->is_server && (reason == DTLSUDP_ERR_PEER_ALERT || reason == DTLSUDP_ERR_HANDSHAKE)) {
            ep->last_alert = dtlsudp_assoc_peer_alert(a);
            ep->last_detail = dtlsudp_assoc_failure_detail(a);
        }
        /* A failed handshake may have offered the stored session: the
         * next one starts in full.  (A client is never refused by
         * admission, so "not established" is "the handshake failed".) */
        if (!ep->is_server && ep->settings.resume && !dtlsudp_assoc_was_established(a))
            dtlsudp_snmp_session_forget(ep->session_key, ep->settings.session_file);
        if (!ep->is_server && reason != DTLSUDP_ERR_CLOSED && !ep->counted_open_error &&
            (reason == DTLSUDP_ERR_HANDSHAKE || reason == DTLSUDP_ERR_TIMEOUT ||
             reason == DTLSUDP_ERR_PEER_ALERT || reason == DTLSUDP_ERR_REFUSED)) {
            snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENERRORS);
            ep->counted_open_error = 1;
        }
        break;
    default:
        break;
    }
}

static void engine_log(void *user, int level, const char *message)
{
    if (level <= DTLSUDP_LOG_WARNING)
        snmp_log(level, "dtlsudp: %s\n", message);
    else
        DEBUGMSGTL(("dtlsudp:engine", "%s\n", message));
}

void endpoint_engine_config(endpoint *ep, dtlsudp_engine_config *cfg)
{
    dtlsudp_snmp_settings_to_engine(&ep->settings, cfg);
    cfg->ciphers = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TLS_ALGORITMS);
    cfg->verify = peerauth_on_verify;
    cfg->on_event = on_event;
    cfg->log = engine_log;
    cfg->user = ep;
}

/* ---------------------------------------------------------------------
 * Timers
 * --------------------------------------------------------------------- */

static dtlsudp_time endpoint_deadline(const endpoint *ep)
{
    dtlsudp_time d = DTLSUDP_TIME_NEVER;

    if (ep->listener != NULL) {
        /* Timers only: this use never accepts, and waiting plaintext is
         * the eventfd's business. */
        d = dtlsudp_listener_next_timer(ep->listener);
    } else if (ep->conn != NULL && dtlsudp_conn_assoc(ep->conn) != NULL) {
        /* The engine's timers only: "0, plaintext waiting" is the eventfd's
         * business, and an ended connection has no timers left. */
        d = dtlsudp_engine_next_timeout(dtlsudp_assoc_engine(dtlsudp_conn_assoc(ep->conn)));
    }
    return d;
}

static void alarm_fired(unsigned reg, void *arg)
{
    endpoint *ep = arg;
    dtlsudp_time now = dtlsudp_now();

    ep->alarm_reg = 0;
    ep->alarm_at = DTLSUDP_TIME_NEVER;
    if (ep->listener != NULL) {
        (void)dtlsudp_listener_handle_timeout(ep->listener, now);
        (void)server_pump(ep, 1);
        return; /* server_pump re-arms */
    }
    if (ep->conn != NULL) {
        (void)dtlsudp_conn_handle_timeout(ep->conn, now);
        if (dtlsudp_conn_state(ep->conn) != DTLSUDP_STATE_CLOSED && dtlsudp_conn_next_timeout(ep->conn) == 0)
            endpoint_signal(ep);
    }
    endpoint_arm(ep);
}

/* Arm the client's timerfd for deadline (disarm for NEVER). */
static void timer_fd_arm(endpoint *ep, dtlsudp_time deadline)
{
    struct itimerspec its;
    dtlsudp_time now, wait;

    if (ep->timer_fd < 0 || deadline == ep->timer_at)
        return;
    memset(&its, 0, sizeof(its));
    if (deadline != DTLSUDP_TIME_NEVER) {
        now = dtlsudp_now();
        wait = deadline > now ? deadline - now : 1;
        its.it_value.tv_sec = (time_t)(wait / 1000);
        its.it_value.tv_nsec = (long)(wait % 1000) * 1000000L;
    }
    if (timerfd_settime(ep->timer_fd, 0, &its, NULL) == 0)
        ep->timer_at = deadline;
}

/* The timerfd fired (or may have): consume it; endpoint_arm re-arms.  Not
 * before its deadline, when it cannot have fired: no read per message. */
void endpoint_timer_clear(endpoint *ep)
{
    uint64_t expirations;

    if (ep->timer_fd < 0 || ep->timer_at == DTLSUDP_TIME_NEVER || ep->timer_at > dtlsudp_now())
        return;
    if (read(ep->timer_fd, &expirations, sizeof(expirations)) > 0)
        ep->timer_at = DTLSUDP_TIME_NEVER;
}

void endpoint_arm(endpoint *ep)
{
    dtlsudp_time deadline = endpoint_deadline(ep), now;
    struct timeval tv;

    timer_fd_arm(ep, deadline);
    if (deadline == ep->alarm_at && ep->alarm_reg != 0)
        return;
    if (ep->alarm_reg != 0) {
        snmp_alarm_unregister(ep->alarm_reg);
        ep->alarm_reg = 0;
    }
    ep->alarm_at = deadline;
    if (deadline == DTLSUDP_TIME_NEVER)
        return;
    now = dtlsudp_now();
    /* A deadline already due still waits 1 ms: the loop gets to run. */
    deadline = deadline > now ? deadline - now : 1;
    tv.tv_sec = (time_t)(deadline / 1000);
    tv.tv_usec = (suseconds_t)((deadline % 1000) * 1000);
    ep->alarm_reg = snmp_alarm_register_hr(tv, 0, alarm_fired, ep);
}


/* ---------------------------------------------------------------------
 * The eventfd: readable exactly while decrypted messages wait
 * --------------------------------------------------------------------- */

/* The eventfd's state is mirrored in event_set, so that announcing or
 * withdrawing what is already so costs no system call: on the message
 * path the queue is filled and emptied within one f_recv, and a write
 * there would only wake select() for nothing. */
void endpoint_signal(endpoint *ep)
{
    uint64_t one = 1;

    if (ep->event_fd < 0 || ep->event_set)
        return;
    if (write(ep->event_fd, &one, sizeof(one)) == (ssize_t)sizeof(one) || errno == EAGAIN)
        ep->event_set = 1;
    else
        DEBUGMSGTL(("dtlsudp", "eventfd write: %s\n", strerror(errno)));
}

void endpoint_unsignal(endpoint *ep)
{
    uint64_t v;

    /* One read takes the whole counter (no EFD_SEMAPHORE). */
    if (ep->event_fd >= 0 && ep->event_set) {
        if (read(ep->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
            DEBUGMSGTL(("dtlsudp", "eventfd read: %s\n", strerror(errno)));
        ep->event_set = 0;
    }
}


/* ---------------------------------------------------------------------
 * The epoll fd behind t->sock
 * --------------------------------------------------------------------- */

/* The epoll fd and eventfd behind t->sock.  Returns 0 or -1. */
int endpoint_poll_open(endpoint *ep)
{
    struct epoll_event ev;

    ep->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ep->poll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (ep->event_fd < 0 || ep->poll_fd < 0)
        return -1;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.fd = ep->event_fd;
    return epoll_ctl(ep->poll_fd, EPOLL_CTL_ADD, ep->event_fd, &ev);
}

/* Watch fd (the listener's or the connection's) instead of the previous
 * one.  A closed fd leaves the epoll set by itself. */
int endpoint_poll_watch(endpoint *ep, int fd)
{
    struct epoll_event ev;

    if (ep->watched_fd >= 0 && ep->watched_fd != fd)
        (void)epoll_ctl(ep->poll_fd, EPOLL_CTL_DEL, ep->watched_fd, NULL);
    ep->watched_fd = -1;
    if (fd < 0)
        return 0;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(ep->poll_fd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno != EEXIST)
        return -1;
    ep->watched_fd = fd;
    return 0;
}

/* A client's timerfd joins the epoll set (see endpoint.h: timers). */
int endpoint_poll_add_timer(endpoint *ep)
{
    struct epoll_event ev;

    if (ep->timer_fd >= 0)
        return 0;
    ep->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep->timer_fd < 0)
        return -1;
    ep->timer_at = DTLSUDP_TIME_NEVER;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.fd = ep->timer_fd;
    return epoll_ctl(ep->poll_fd, EPOLL_CTL_ADD, ep->timer_fd, &ev);
}

void endpoint_poll_close(endpoint *ep)
{
    if (ep->poll_fd >= 0)
        close(ep->poll_fd);
    if (ep->event_fd >= 0)
        close(ep->event_fd);
    if (ep->timer_fd >= 0)
        close(ep->timer_fd);
    ep->poll_fd = ep->event_fd = ep->watched_fd = ep->timer_fd = -1;
    ep->timer_at = DTLSUDP_TIME_NEVER;
}

/* ---------------------------------------------------------------------
 * Endpoint lifetime (shared by transport copies)
 * --------------------------------------------------------------------- */

endpoint *endpoint_of(netsnmp_transport *t)
{
    tdata *d = t != NULL ? t->data : NULL;

    if (d == NULL || t->data_length != (int)sizeof(*d) || d->magic != TDATA_MAGIC)
        return NULL;
    return d->ep;
}

void endpoint_release(endpoint *ep)
{
    endpoint **pp;

    if (ep == NULL || --ep->refs > 0)
        return;
    if (ep->alarm_reg != 0)
        snmp_alarm_unregister(ep->alarm_reg);
    ep->alarm_reg = 0;
    /* Still in endpoint_all while closing: a client may finish its handshake
     * here, and the engine's callbacks find the endpoint through it. */
    if (ep->is_server)
        server_close(ep);
    else
        client_close(ep);
    for (pp = &endpoint_all; *pp != NULL; pp = &(*pp)->next_all)
        if (*pp == ep) {
            *pp = ep->next_all;
            break;
        }
    endpoint_poll_close(ep);
    if (ep->trust != NULL)
        X509_STORE_free(ep->trust);
    free(ep->our_identity);
    free(ep->their_identity);
    free(ep->their_hostname);
    free(ep->trust_cert);
    free(ep);
}

/* ---------------------------------------------------------------------
 * Statistics for the MIB modules
 * --------------------------------------------------------------------- */

static void stats_add(dtlsudp_stats *to, const dtlsudp_stats *from, int include_gauges)
{
    to->cookies_sent += from->cookies_sent;
    to->cookies_verified += from->cookies_verified;
    to->cookies_bad += from->cookies_bad;
    to->handshakes_started += from->handshakes_started;
    to->handshakes_completed += from->handshakes_completed;
    to->handshakes_failed += from->handshakes_failed;
    to->handshakes_timed_out += from->handshakes_timed_out;
    to->cert_refused += from->cert_refused;
    if (include_gauges) {
        to->assocs_now += from->assocs_now;
        to->half_open_now += from->half_open_now;
    }
    if (from->assocs_peak > to->assocs_peak)
        to->assocs_peak = from->assocs_peak;
    to->evictions += from->evictions;
    to->refused_full += from->refused_full;
    to->restarts += from->restarts;
    to->idle_expired += from->idle_expired;
    to->closes_sent += from->closes_sent;
    to->closes_received += from->closes_received;
    to->alerts_received += from->alerts_received;
    to->dropped_malformed += from->dropped_malformed;
    to->dropped_unknown += from->dropped_unknown;
    to->dropped_queue += from->dropped_queue;
    to->dropped_stale += from->dropped_stale;
    to->datagrams_in += from->datagrams_in;
    to->datagrams_out += from->datagrams_out;
    to->bytes_in += from->bytes_in;
    to->bytes_out += from->bytes_out;
    to->half_open_evicted += from->half_open_evicted;
    to->source_displaced += from->source_displaced;
    to->handshakes_resumed += from->handshakes_resumed;
    to->tickets_issued += from->tickets_issued;
    to->tickets_refused += from->tickets_refused;
}

void dtlsudp_snmp_stats_retire(const dtlsudp_stats *st)
{
    stats_add(&retired, st, 0);
}

size_t dtlsudp_snmp_listener_count(void)
{
    size_t n = 0;
    const endpoint *ep;

    for (ep = endpoint_servers; ep != NULL; ep = ep->next_server)
        n++;
    return n;
}

int dtlsudp_snmp_listener_get(size_t i, dtlsudp_snmp_listener_info *out)
{
    endpoint *ep;
    dtlsudp_net_stats st;
    size_t n;

    /* The list is newest first; the MIB wants a stable order: oldest first. */
    n = dtlsudp_snmp_listener_count();
    if (i >= n)
        return -1;
    for (ep = endpoint_servers; ep != NULL && n - 1 > i; ep = ep->next_server)
        n--;
    if (ep == NULL || ep->listener == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    (void)dtlsudp_addr_format(&ep->addr, out->address, sizeof(out->address));
    out->demux = dtlsudp_listener_demux(ep->listener);
    if (dtlsudp_listener_get_stats(ep->listener, &st) == DTLSUDP_OK)
        out->stats = st.engine;
    return 0;
}

void dtlsudp_snmp_stats_total(dtlsudp_stats *out)
{
    const endpoint *ep;
    dtlsudp_net_stats st;
    dtlsudp_conn_stats cst;

    memset(out, 0, sizeof(*out));
    stats_add(out, &retired, 0);
    for (ep = endpoint_all; ep != NULL; ep = ep->next_all) {
        if (ep->listener != NULL && dtlsudp_listener_get_stats(ep->listener, &st) == DTLSUDP_OK)
            stats_add(out, &st.engine, 1);
        else if (ep->conn != NULL && dtlsudp_conn_get_stats(ep->conn, &cst) == DTLSUDP_OK)
            stats_add(out, &cst.net.engine, 1);
    }
}
