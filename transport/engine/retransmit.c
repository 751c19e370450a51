/*
 * retransmit.c - the handshake retransmission schedule and flight replays.
 *
 * SNMP managers give a request one second before they repeat it and give
 * up after a few seconds (snmpget: -t 1 -r 5).  A mutually authenticated,
 * cookie-gated DTLS 1.2 handshake is three round trips before the first
 * request, so OpenSSL's schedule (1 s, doubling, RFC 6347 4.2.4.1) loses
 * most sessions on a lossy link.  This module gives every handshake:
 *
 *   - a first timeout of retransmit_initial (100 ms, as RFC 9147 5.8.2
 *     recommends for DTLS 1.3), or 3 x the first round trip measured
 *     (RFC 6298's first RTO from one sample: SRTT + 4 x RTTVAR = 3 x R)
 *     when that is longer, so a slow link gets no spurious copies;
 *   - doubling on every expiry, capped at retransmit_max (or at 3 x the
 *     round trip, when longer); from a flight's 6th expiry on, the rest
 *     spread over the time left to the handshake deadline (OpenSSL gives
 *     up at a flight's 13th expiry);
 *   - at most retransmit_max_bytes of retransmitted datagrams per handshake
 *     (RFC 8085 3.1.3: no storms on slow links); then the handshake waits
 *     for its deadline;
 *   - an immediate replay of our current flight when the peer repeats the
 *     flight ours answers (RFC 6347 4.2.4: the peer lost ours), and when
 *     the application repeats a write while the handshake runs (its own
 *     retry timer says something was lost).  OpenSSL only does the former
 *     for a repeated Finished after the handshake;
 *   - after the hand-off, the wait between timed copies of the last flight
 *     (handoff.c), on the same schedule.
 *
 * The clock.  OpenSSL 3.0 measures each timeout with gettimeofday(); it
 * asks DTLS_set_timer_cb's callback for every duration: previous_us = 0
 * for a new flight, else the timeout that just expired, right before it
 * retransmits.  The engine decides every duration from its own state and
 * its explicit `now' (round trip, flight times); OpenSSL's real clock only
 * measures them out, and dtlsudp_engine_next_timeout() converts what is
 * left into the caller's time.  The callback cannot make OpenSSL expire
 * early (the expiry is checked before the callback runs), so a replay
 * does not go through OpenSSL: the engine keeps a copy of the flight's
 * datagrams as OpenSSL wrote them and queues them again.  A copy that
 * arrives after the original is a duplicate to the peer, which discards
 * it (RFC 6347 4.1.2.6); OpenSSL's own retransmissions keep carrying new
 * record sequence numbers.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "engine_internal.h"
#include "record.h"

/* OpenSSL 3.0 fails the handshake when one flight times out more than
 * this often (DTLS1_TMO_ALERT_COUNT). */
#define DTLSUDP_RTX_OPENSSL_LIMIT 12
/* Timeouts of one flight on the fast schedule before the rest are spread
 * over the time left to the handshake deadline. */
#define DTLSUDP_RTX_SPREAD_AFTER 6

static dtlsudp_time clamp_us(dtlsudp_time ms)
{
    return ms > UINT_MAX / 1000u ? UINT_MAX / 1000u : ms;
}

/* The cap of the doubling: retransmit_max, or 3 x the round trip. */
static dtlsudp_time schedule_cap(const dtlsudp_assoc *a)
{
    dtlsudp_time cap = a->e->cfg.retransmit_max;

    return a->rtt != 0 && 3 * a->rtt > cap ? 3 * a->rtt : cap;
}

/* A new flight's first timeout.  Until a round trip is measured, a
 * flight that had to be repeated passes its backed-off timeout on to the
 * next one (Karn's algorithm, RFC 6298 5.7): on a link slower than
 * retransmit_initial every first copy would be repeated, no round trip
 * could ever be measured, and the timer would never learn. */
static dtlsudp_time first_timeout(const dtlsudp_assoc *a)
{
    dtlsudp_time t = a->e->cfg.retransmit_initial;

    if (a->rtt != 0)
        return 3 * a->rtt > t ? 3 * a->rtt : t;
    if (a->flight_rtx && a->rto > t)
        return a->rto;
    return t;
}

unsigned int eng_rtx_timer_cb(SSL *ssl, unsigned int previous_us)
{
    eng_io *io = eng_ssl_io(ssl);
    dtlsudp_assoc *a;
    dtlsudp_engine *e;
    dtlsudp_time ms;

    if (io == NULL)
        return DTLSUDP_RETRANSMIT_INITIAL_MS * 1000u;
    e = io->e;
    if ((a = io->a) == NULL) /* the listen SSL sends no timed flight */
        return (unsigned int)(clamp_us(e->cfg.retransmit_initial) * 1000u);
    if (previous_us == 0) {
        /* OpenSSL wrote a new flight and starts its timer. */
        a->rto = first_timeout(a);
        a->flight_timeouts = 0;
        a->flight_at = e->now;
        a->flight_rtx = 0;
        a->peer_seq_answered = a->peer_seq_max;
        return (unsigned int)(clamp_us(a->rto) * 1000u);
    }
    /* Expired: OpenSSL retransmits the flight right after this returns. */
    a->flight_rtx = 1;
    a->flight_next = 1;
    a->rtx_pending = 1;
    a->flight_timeouts++;
    if (a->rtx_bytes >= e->cfg.retransmit_max_bytes)
        /* Budget spent: no more timed copies; the deadline ends it. */
        return (unsigned int)(clamp_us(e->cfg.handshake_timeout) * 1000u);
    ms = (dtlsudp_time)previous_us / 1000u * 2u;
    if (ms > schedule_cap(a))
        ms = schedule_cap(a);
    if (ms < e->cfg.retransmit_initial)
        ms = e->cfg.retransmit_initial;
    /* OpenSSL fails a handshake at its 13th timeout of one flight
     * (DTLS1_TMO_ALERT_COUNT): from the 6th on, the rest is spread over
     * the time left to the handshake deadline, so an overloaded peer gets
     * until the deadline (as with OpenSSL's own 1 s doubling) and hears
     * fewer copies meanwhile. */
    if (a->flight_timeouts >= DTLSUDP_RTX_SPREAD_AFTER && a->flight_timeouts <= DTLSUDP_RTX_OPENSSL_LIMIT) {
        dtlsudp_time deadline = a->created + e->cfg.handshake_timeout;
        dtlsudp_time spread = deadline > e->now ? (deadline - e->now) / (DTLSUDP_RTX_OPENSSL_LIMIT -
                                                                         a->flight_timeouts + 1) : 0;
        if (spread > ms)
            ms = spread;
    }
    a->rto = ms;
    return (unsigned int)(clamp_us(ms) * 1000u);
}

/* Append one datagram to the flight copy, or give the copy up. */
static void keep_copy(dtlsudp_assoc *a, const uint8_t *data, size_t len)
{
    if (a->flight_overflow)
        return;
    if (a->flight == NULL && (a->flight = eng_mem_alloc(a->e, DTLSUDP_FLIGHT_BYTES)) == NULL) {
        a->flight_overflow = 1;
        return;
    }
    if (len > 0xffff || a->flight_len + 2 + len > DTLSUDP_FLIGHT_BYTES) {
        a->flight_overflow = 1;
        return;
    }
    a->flight[a->flight_len] = (uint8_t)(len >> 8);
    a->flight[a->flight_len + 1] = (uint8_t)len;
    memcpy(a->flight + a->flight_len + 2, data, len);
    a->flight_len += 2 + len;
}

int eng_rtx_on_write(dtlsudp_assoc *a, const uint8_t *data, size_t len)
{
    if (a->state != DTLSUDP_STATE_HANDSHAKING)
        return 1;
    if (a->flight_next) {
        a->flight_next = 0;
        a->flight_len = 0;
        a->flight_overflow = 0;
        a->writing_rtx = a->rtx_pending;
        a->rtx_pending = 0;
    }
    if (a->writing_rtx) {
        if (a->rtx_bytes + len > a->e->cfg.retransmit_max_bytes)
            return 0;
        a->rtx_bytes += len;
    }
    a->flight_sent_at = a->e->now;
    keep_copy(a, data, len);
    return 1;
}

int eng_rtx_on_input(dtlsudp_assoc *a, const uint8_t *dgram, size_t len)
{
    uint16_t seq;

    if (eng_record_handshake_seq(dgram, len, &seq)) {
        /* A message of the peer flight that our current flight answers:
         * the peer did not get ours (RFC 6347 4.2.4). */
        if (a->flight_at != 0 && (int)seq <= a->peer_seq_answered)
            return 1;
        if ((int)seq > a->peer_seq_max)
            a->peer_seq_max = seq;
    }
    /* The first round trip, unless a copy could be what was answered
     * (Karn's rule). */
    if (a->rtt == 0 && a->flight_at != 0 && !a->flight_rtx)
        a->rtt = a->e->now > a->flight_at ? a->e->now - a->flight_at : 1;
    return 0;
}

int eng_rtx_replay(dtlsudp_assoc *a)
{
    dtlsudp_engine *e = a->e;
    size_t off;

    if (a->state != DTLSUDP_STATE_HANDSHAKING || a->flight_len == 0 || a->flight_overflow)
        return 0;
    /* Once per half initial timeout: a repeated peer flight of several
     * datagrams, or copies crossing ours, ask for one replay. */
    if (e->now < a->flight_sent_at + e->cfg.retransmit_initial / 2)
        return 0;
    if (a->rtx_bytes + a->flight_len > e->cfg.retransmit_max_bytes)
        return 0;
    for (off = 0; off + 2 <= a->flight_len;) {
        size_t n = ((size_t)a->flight[off] << 8) | a->flight[off + 1];
        if (eng_outq_push(&e->outq, a->flight + off + 2, n, &a->peer, &a->local, a) == DTLSUDP_OK) {
            e->stats.datagrams_out++;
            e->stats.bytes_out += n;
        } else {
            e->stats.dropped_queue++;
        }
        a->rtx_bytes += n;
        off += 2 + n;
    }
    a->flight_rtx = 1;
    a->flight_sent_at = e->now;
    eng_log(e, DTLSUDP_LOG_DEBUG, "assoc %llu: handshake flight replayed", (unsigned long long)a->id);
    return 1;
}

dtlsudp_time eng_rtx_last_flight_wait(const dtlsudp_assoc *a, unsigned copies)
{
    dtlsudp_time t = first_timeout(a), cap = schedule_cap(a);

    while (copies-- > 0 && t < cap)
        t *= 2;
    return t < cap ? t : cap;
}

void eng_rtx_release(dtlsudp_assoc *a)
{
    eng_mem_free(a->e, a->flight);
    a->flight = NULL;
    a->flight_len = 0;
}
