/*
 * feed.c - one association's traffic: a datagram fed through it (the
 * handshake step, the ESTABLISHED transition, the plaintext records it
 * carried, the hand-off once OpenSSL is done) and the application's
 * writes back (records, or held until a client's handshake completes).
 *
 * An association is `busy' while the engine works on it; a close asked
 * for meanwhile (from inside an event) takes effect in settle().
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "engine_internal.h"

/* SSL_MODE_RELEASE_BUFFERS never releases a DTLS write buffer, and the
 * read buffer only after application data: an idle association would keep
 * ~35 KB of record buffers.  An established association gives them back
 * whenever nothing is pending and takes them again before every SSL call
 * (OpenSSL 3.0's DTLS write path assumes the write buffer exists, so
 * SSL_alloc_buffers() must come first). */
static int acquire_buffers(dtlsudp_assoc *a)
{
    if (a->state != DTLSUDP_STATE_ESTABLISHED || a->ssl == NULL || SSL_alloc_buffers(a->ssl) == 1)
        return DTLSUDP_OK;
    ERR_clear_error();
    return DTLSUDP_ERR_NOMEM;
}

static void release_buffers(dtlsudp_assoc *a)
{
    if (a->state == DTLSUDP_STATE_ESTABLISHED && a->ssl != NULL && !a->e->keep_buffers)
        (void)SSL_free_buffers(a->ssl);
}

static void touch(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    a->last_activity = e->now;
    if (a->state == DTLSUDP_STATE_ESTABLISHED) {
        dtlsudp_link_remove(&a->list);
        dtlsudp_link_append(&e->est_list, &a->list);
    }
}

void eng_assoc_touch(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    touch(e, a);
}

void eng_assoc_send_close_notify(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    /* RFC 6353 5.4: closing a session MUST include sending a close_notify.
     * Sent once; no wait for the peer's reply (no bidirectional shutdown). */
    if (a->state != DTLSUDP_STATE_ESTABLISHED || a->close_sent)
        return;
    a->close_sent = 1;
    if (a->handed_off) {
        if (eng_handoff_send_alert(e, a, 0, 0) == DTLSUDP_OK)
            e->stats.closes_sent++;
        return;
    }
    if (acquire_buffers(a) != DTLSUDP_OK)
        return;
    ERR_clear_error();
    (void)SSL_shutdown(a->ssl);
    ERR_clear_error();
    e->stats.closes_sent++;
}

/* After the engine worked on `a' (busy), apply the outcome: an
 * association-fatal ret or a close requested from inside an event. */
static int settle(dtlsudp_engine *e, dtlsudp_assoc *a, int ret, int *freed)
{
    *freed = 0;
    if (dtlsudp_err_is_assoc_fatal(ret)) {
        eng_assoc_finish(e, a, ret);
        *freed = 1;
        return ret;
    }
    if (a->close_requested != 0 && a->busy == 0) {
        eng_assoc_close_now(e, a, a->close_requested, !a->close_quiet);
        *freed = 1;
    }
    return ret;
}

static int write_record(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *buf, size_t len)
{
    int r;

    if (a->handed_off) {
        r = eng_handoff_write(e, a, buf, len);
        if (r == DTLSUDP_ERR_LIMIT) {
            /* RFC 6347 4.1: the epoch's sequence numbers are used up and
             * there is no rehandshake: the association ends. */
            eng_log(e, DTLSUDP_LOG_NOTICE, "assoc %llu: sequence numbers exhausted, closing",
                        (unsigned long long)a->id);
            if (a->busy > 0)
                a->close_requested = DTLSUDP_ERR_CLOSED;
            else
                eng_assoc_close_now(e, a, DTLSUDP_ERR_CLOSED, 1);
            return DTLSUDP_ERR_CLOSED;
        }
        if (r == DTLSUDP_OK || r == DTLSUDP_ERR_QUEUE_FULL)
            touch(e, a);
        return r == DTLSUDP_OK || r == DTLSUDP_ERR_QUEUE_FULL ? r : DTLSUDP_ERR_STATE;
    }
    a->io.out_dropped = 0;
    if (acquire_buffers(a) != DTLSUDP_OK)
        return DTLSUDP_ERR_NOMEM;
    ERR_clear_error();
    r = SSL_write(a->ssl, buf, (int)len);
    if (r <= 0) {
        ERR_clear_error();
        return DTLSUDP_ERR_STATE;
    }
    touch(e, a);
    if (a->busy == 0) /* inside eng_assoc_feed(), the buffers are still in use */
        release_buffers(a);
    return a->io.out_dropped ? DTLSUDP_ERR_QUEUE_FULL : DTLSUDP_OK;
}

static int failure_reason(const dtlsudp_assoc *a)
{
    if (a->cert_refused)
        return DTLSUDP_ERR_PEER_CERT;
    if (a->alert_received)
        return DTLSUDP_ERR_PEER_ALERT;
    return DTLSUDP_ERR_HANDSHAKE;
}

static void on_established(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    eng_pbuf *p;
    /* The peer has authenticated: only now may it take an established
     * slot, and evict for one (admission.c). */
    int admitted = eng_admit_established(e, a);

    dtlsudp_link_remove(&a->list);
    if (a->counted_half_open) {
        a->counted_half_open = 0;
        e->half_open--;
    }
    a->state = DTLSUDP_STATE_ESTABLISHED;
    a->handshake_done = 1;
    dtlsudp_link_append(&e->est_list, &a->list);
    a->counted_established = 1;
    e->established++;
    a->last_activity = e->now;
    e->stats.handshakes_completed++;
    eng_rtx_release(a);
    eng_session_on_established(e, a);
    eng_scache_on_established(e, a);
    if (admitted != DTLSUDP_OK) {
        /* A full handshake refused for load leaves no session; a resumed
         * one keeps its entry (a close_notify, not a fatal alert follows),
         * so that the manager does not pay a full handshake next time,
         * when the agent is still loaded. */
        if (!a->resumed)
            eng_scache_forget(e, a);
        /* Refused: the peer hears a close_notify right after its
         * handshake, which it can act on (unlike a silent drop).  `a' is
         * busy: the close takes effect in settle(). */
        a->close_requested = DTLSUDP_ERR_LIMIT;
        return;
    }
    eng_log(e, DTLSUDP_LOG_DEBUG, "assoc %llu: established (%s, %s)", (unsigned long long)a->id,
                SSL_get_version(a->ssl), SSL_get_cipher_name(a->ssl));

    if (a->predecessor != NULL) {
        /* RFC 6347 4.2.8: the new handshake completed (the client proved
         * reachability with the cookie and its Finished): abandon the old
         * association now, and only now. */
        dtlsudp_assoc *old = a->predecessor;
        old->successor = NULL;
        a->predecessor = NULL;
        e->stats.restarts++;
        eng_assoc_finish(e, old, DTLSUDP_ERR_REPLACED);
        eng_table_insert(e, a);
    }
    /* Established for the application from this event on; a newcomer
     * refused above never was (dtlsudp_assoc_was_established()). */
    a->was_established = 1;
    eng_assoc_fire(e, a, DTLSUDP_EVENT_ESTABLISHED, DTLSUDP_OK);
    /* Data a client wrote while handshaking goes out now. */
    while (a->close_requested == 0 && (p = eng_pqueue_shift(&a->held)) != NULL) {
        if (p->len <= dtlsudp_assoc_max_write(a))
            (void)write_record(e, a, p->data, p->len);
        else
            e->stats.dropped_queue++;
        eng_mem_free(e, p);
    }
}

static int step_handshake(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    int r, err;

    ERR_clear_error();
    r = SSL_do_handshake(a->ssl);
    if (r == 1) {
        on_established(e, a);
        return DTLSUDP_OK;
    }
    err = SSL_get_error(a->ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return DTLSUDP_OK;
    }
    {
        char why[160] = "";
        unsigned long code = ERR_peek_last_error();
        if (code != 0) {
            ERR_error_string_n(code, why, sizeof(why));
            a->failure_detail = ERR_reason_error_string(code);
        }
        eng_log(e, DTLSUDP_LOG_INFO, "assoc %llu: handshake failed: %s (%s)", (unsigned long long)a->id,
                    dtlsudp_strerror(failure_reason(a)), why);
    }
    ERR_clear_error();
    return failure_reason(a);
}

/* Read every plaintext record the fed datagram produced. */
static int read_data(dtlsudp_engine *e, dtlsudp_assoc *a, const eng_record *first, int *got)
{
    int r, err, ret;

    for (;;) {
        ERR_clear_error();
        r = SSL_read(a->ssl, e->scratch, DTLSUDP_SCRATCH_BYTES);
        if (r > 0) {
            (*got)++;
            touch(e, a);
            ret = eng_pqueue_push(e, &a->rx, e->scratch, (size_t)r);
            if (ret != DTLSUDP_OK) {
                e->stats.dropped_queue++;
                continue;
            }
            eng_assoc_fire(e, a, DTLSUDP_EVENT_DATA, DTLSUDP_OK);
            continue;
        }
        err = SSL_get_error(a->ssl, r);
        ERR_clear_error();
        switch (err) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
            if (*got == 0 && first != NULL && first->content_type == DTLSUDP_CT_APPLICATION_DATA) {
                /* OpenSSL dropped it: replayed, bad MAC or wrong epoch. */
                e->stats.dropped_stale++;
                return DTLSUDP_ERR_DROPPED;
            }
            return DTLSUDP_OK;
        case SSL_ERROR_ZERO_RETURN:
            e->stats.closes_received++;
            return DTLSUDP_ERR_CLOSED;
        default:
            return a->alert_received ? DTLSUDP_ERR_PEER_ALERT : DTLSUDP_ERR_HANDSHAKE;
        }
    }
}

int eng_assoc_feed(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *dgram, size_t len,
                       const eng_record *first, dtlsudp_assoc **assoc_out)
{
    int ret = DTLSUDP_OK, got = 0, freed;

    a->busy++;
    a->io.in = dgram;
    a->io.in_len = len;
    if (dgram != NULL && a->state == DTLSUDP_STATE_HANDSHAKING) {
        a->last_activity = e->now; /* admission evicts the most silent handshake */
        /* The peer repeated the flight ours answers: it lost ours. */
        if (eng_rtx_on_input(a, dgram, len))
            (void)eng_rtx_replay(a);
        /* What OpenSSL writes in answer is a new flight. */
        a->flight_next = 1;
        a->rtx_pending = 0;
    }
    if (a->handed_off) {
        ret = dgram != NULL ? eng_handoff_receive(e, a, dgram, len, &got) : DTLSUDP_OK;
        goto Done;
    }
    if (dgram != NULL)
        eng_handoff_note_received(a, dgram, len);
    ret = acquire_buffers(a);
    if (ret == DTLSUDP_OK && a->state == DTLSUDP_STATE_HANDSHAKING) {
        /* The step that completes the handshake may write the last
         * flight (the server's after a full handshake, the client's after
         * an abbreviated one), which the hand-off keeps (RFC 6347 4.2.4). */
        eng_handoff_capture_begin(e, a);
        ret = step_handshake(e, a);
    }
    if (ret == DTLSUDP_OK && a->state == DTLSUDP_STATE_ESTABLISHED && !a->freeing &&
        a->close_requested != DTLSUDP_ERR_LIMIT) /* refused by admission: no data */
        ret = read_data(e, a, first, &got);
    /* Everything OpenSSL had buffered is read: its part is done. */
    if (ret == DTLSUDP_OK && a->state == DTLSUDP_STATE_ESTABLISHED && !a->freeing)
        (void)eng_handoff(e, a);
    eng_handoff_capture_end(e);
Done:
    a->io.in = NULL;
    a->io.in_len = 0;
    if (!a->freeing)
        release_buffers(a);
    a->busy--;
    ret = settle(e, a, ret, &freed);
    if (assoc_out != NULL && !freed)
        *assoc_out = a;
    return ret;
}

size_t dtlsudp_assoc_max_write(const dtlsudp_assoc *a)
{
    size_t link, overhead;

    if (a == NULL || (a->ssl == NULL && !a->handed_off))
        return 0;
    if (a->handed_off)
        return a->data_mtu;
    if (a->state == DTLSUDP_STATE_ESTABLISHED)
        return DTLS_get_data_mtu(a->ssl);
    /* Before the cipher is known: assume an AEAD suite (explicit nonce 8,
     * tag 16) on a 13-byte record header; re-checked when sent. */
    link = eng_link_mtu_for(a->e, &a->peer);
    overhead = (a->peer.sa.sa_family == AF_INET6 ? DTLSUDP_IPV6_OVERHEAD : DTLSUDP_IPV4_OVERHEAD) + 13 + 8 + 16;
    return link > overhead ? link - overhead : 0;
}

int dtlsudp_assoc_write(dtlsudp_assoc *a, const uint8_t *buf, size_t len, dtlsudp_time now)
{
    dtlsudp_engine *e;
    int ret;

    if (a == NULL || buf == NULL || len == 0)
        return DTLSUDP_ERR_INVALID;
    e = a->e;
    eng_set_now(e, now);
    if (a->freeing || a->state == DTLSUDP_STATE_CLOSED || a->close_requested != 0)
        return DTLSUDP_ERR_STATE;
    /* OpenSSL does not split application data to the MTU: one datagram is
     * one record, and it must fit. */
    if (len > dtlsudp_assoc_max_write(a))
        return DTLSUDP_ERR_TOO_BIG;
    if (a->state == DTLSUDP_STATE_HANDSHAKING) {
        if (!a->is_client)
            return DTLSUDP_ERR_STATE;
        /* A write repeated while the handshake runs is the application's
         * retry timer speaking: our flight (or the answer) was lost. */
        if (a->held.count > 0)
            (void)eng_rtx_replay(a);
        ret = eng_pqueue_push(e, &a->held, buf, len);
        if (ret == DTLSUDP_ERR_NOMEM)
            return ret;
        return ret == DTLSUDP_OK ? DTLSUDP_OK : DTLSUDP_ERR_QUEUE_FULL;
    }
    return write_record(e, a, buf, len);
}
