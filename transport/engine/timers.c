/*
 * timers.c - the engine's deadlines: cookie and ticket key rotation, the
 * handshake deadline (handshaking list, oldest first), OpenSSL's
 * retransmission timer, the hand-off's last-flight copies and idle expiry
 * (established list, least recently active first), folded into
 * dtlsudp_engine_next_timeout() and run by dtlsudp_engine_handle_timeout().
 *
 * OpenSSL's DTLS timer reads the real clock (gettimeofday): its remaining
 * time is converted into the caller's time base with the `now' of the last
 * call.
 */
#include "config.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "engine_internal.h"

static dtlsudp_time min_time(dtlsudp_time a, dtlsudp_time b)
{
    return a < b ? a : b;
}

static dtlsudp_time add_time(dtlsudp_time t, dtlsudp_time d)
{
    return d >= DTLSUDP_TIME_NEVER - t ? DTLSUDP_TIME_NEVER : t + d;
}

dtlsudp_time dtlsudp_engine_next_timeout(const dtlsudp_engine *e)
{
    dtlsudp_time t;
    const dtlsudp_link *l;

    if (e == NULL)
        return DTLSUDP_TIME_NEVER;
    t = min_time(e->cookie_rotate_at, e->ticket_rotate_at);
    for (l = e->hs_list.next; l != &e->hs_list; l = l->next) {
        dtlsudp_assoc *a = ASSOC_OF(l);
        struct timeval tv;
        t = min_time(t, add_time(a->created, e->cfg.handshake_timeout));
        /* OpenSSL's retransmission timer runs on the real clock: its
         * remaining time, rounded up, counted from our last `now'. */
        if (DTLSv1_get_timeout(a->ssl, &tv) == 1) {
            dtlsudp_time ms = (dtlsudp_time)tv.tv_sec * 1000u + ((dtlsudp_time)tv.tv_usec + 999u) / 1000u;
            t = min_time(t, add_time(e->now, ms));
        }
    }
    if (!dtlsudp_link_empty(&e->est_list) && e->cfg.idle_timeout != DTLSUDP_TIME_NEVER)
        t = min_time(t, add_time(ASSOC_OF(e->est_list.next)->last_activity, e->cfg.idle_timeout));
    return min_time(t, eng_handoff_next_timeout(e));
}

int dtlsudp_engine_handle_timeout(dtlsudp_engine *e, dtlsudp_time now)
{
    dtlsudp_link *l, *next;
    int ret;

    if (e == NULL)
        return DTLSUDP_ERR_INVALID;
    eng_set_now(e, now);
    if (e->now >= e->cookie_rotate_at && (ret = eng_cookie_rotate(e)) != DTLSUDP_OK)
        return ret;
    if (e->now >= e->ticket_rotate_at && (ret = eng_tickets_rotate(e)) != DTLSUDP_OK)
        return ret;
    for (l = e->hs_list.next; l != &e->hs_list; l = next) {
        dtlsudp_assoc *a = ASSOC_OF(l);
        next = l->next;
        if (add_time(a->created, e->cfg.handshake_timeout) <= e->now) {
            eng_log(e, DTLSUDP_LOG_INFO, "assoc %llu: handshake deadline passed", (unsigned long long)a->id);
            eng_assoc_finish(e, a, DTLSUDP_ERR_TIMEOUT);
            continue;
        }
        ERR_clear_error();
        if (DTLSv1_handle_timeout(a->ssl) < 0) {
            /* OpenSSL gave up retransmitting. */
            ERR_clear_error();
            eng_assoc_finish(e, a, DTLSUDP_ERR_TIMEOUT);
        }
    }
    eng_handoff_handle_timeout(e);
    if (e->cfg.idle_timeout != DTLSUDP_TIME_NEVER) {
        while (!dtlsudp_link_empty(&e->est_list)) {
            dtlsudp_assoc *a = ASSOC_OF(e->est_list.next);
            if (add_time(a->last_activity, e->cfg.idle_timeout) > e->now)
                break;
            e->stats.idle_expired++;
            eng_assoc_close_now(e, a, DTLSUDP_ERR_IDLE, 1);
        }
    }
    return DTLSUDP_OK;
}
