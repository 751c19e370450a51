/*
 * lifetime.c - an association's life in the engine: allocated, started
 * (id, handshaking list, counters), finished (counted, restart links
 * detached, CLOSED fired) and destroyed; the ways it ends from outside:
 * close, abort, eviction, close_all, close_revoked.
 */
#include "config.h"

#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "engine_internal.h"

dtlsudp_assoc *eng_assoc_alloc(dtlsudp_engine *e, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                                    int is_client)
{
    dtlsudp_assoc *a = eng_mem_alloc(e, sizeof(*a));

    if (a == NULL)
        return NULL;
    memset(a, 0, sizeof(*a));
    a->e = e;
    a->is_client = is_client;
    a->peer = *peer;
    if (local != NULL)
        a->local = *local;
    a->io.e = e;
    a->io.a = a;
    a->io.peer = &a->peer;
    a->io.local = &a->local;
    a->state = DTLSUDP_STATE_HANDSHAKING;
    a->peer_alert = -1;
    a->created = e->now;
    a->last_activity = e->now;
    a->peer_seq_max = -1;
    a->peer_seq_answered = -1;
    a->flight_next = 1;
    dtlsudp_link_init(&a->list);
    return a;
}

/* Account a fully built association: id, handshaking list, counters. */
void eng_assoc_start(dtlsudp_engine *e, dtlsudp_assoc *a, int half_open)
{
    a->id = e->next_id++;
    dtlsudp_link_append(&e->hs_list, &a->list);
    if (half_open) {
        a->counted_half_open = 1;
        e->half_open++;
    }
    e->stats.handshakes_started++;
    e->stats.assocs_now++;
    if (e->stats.assocs_now > e->stats.assocs_peak)
        e->stats.assocs_peak = e->stats.assocs_now;
}

/* SSL_free() of a connection that did not shut down itself has OpenSSL
 * mark its session bad (ssl_clear_bad_session): an association ended by
 * the peer's close_notify, idle expiry or eviction would lose a session
 * the server cache or the client still holds.  The handshake completed
 * and no fatal alert was seen, so the session is as good as after the
 * hand-off, which does the same.  A fatal alert, sent or received, has
 * OpenSSL drop the session when it happens, whatever is set here. */
static void keep_session_good(dtlsudp_assoc *a)
{
    if (a->ssl != NULL && SSL_is_init_finished(a->ssl) && !a->alert_received && !a->cert_refused)
        SSL_set_shutdown(a->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

/* Free everything an association owns.  Unlinked from all structures. */
void eng_assoc_destroy(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    eng_table_remove(e, a);
    dtlsudp_link_remove(&a->list);
    if (a->counted_half_open) {
        a->counted_half_open = 0;
        e->half_open--;
    }
    if (a->counted_established) {
        a->counted_established = 0;
        e->established--;
    }
    if (a->id != 0)
        e->stats.assocs_now--;
    eng_outq_forget(&e->outq, a);
    eng_pqueue_clear(e, &a->rx);
    eng_pqueue_clear(e, &a->held);
    eng_rtx_release(a);
    eng_mem_free(e, a->pins);
    eng_mem_free(e, a->hostname);
    sk_X509_pop_free(a->auth_chain, X509_free);
    SSL_SESSION_free(a->session);
    a->session = NULL;
    if (a->owned_release != NULL)
        a->owned_release(a->owned);
    eng_handoff_dispose(e, a);
    eng_scache_on_destroy(e, a);
    keep_session_good(a);
    SSL_free(a->ssl);
    eng_mem_free(e, a);
}

/* The association is over: count, detach restart links, fire CLOSED, free. */
void eng_assoc_finish(dtlsudp_engine *e, dtlsudp_assoc *a, int reason)
{
    dtlsudp_assoc *heir = NULL;

    if (a->freeing)
        return;
    a->freeing = 1;
    if (a->state == DTLSUDP_STATE_HANDSHAKING) {
        switch (reason) {
        case DTLSUDP_ERR_TIMEOUT:
            e->stats.handshakes_timed_out++;
            break;
        case DTLSUDP_ERR_PEER_CERT:
            e->stats.cert_refused++;
            e->stats.handshakes_failed++;
            break;
        case DTLSUDP_ERR_PEER_ALERT:
            e->stats.alerts_received++;
            e->stats.handshakes_failed++;
            break;
        case DTLSUDP_ERR_HANDSHAKE:
            e->stats.handshakes_failed++;
            break;
        default:
            break;
        }
    } else if (reason == DTLSUDP_ERR_PEER_ALERT) {
        e->stats.alerts_received++;
    }
    if (a->predecessor != NULL) {
        /* A restart handshake failed: the old association stays. */
        a->predecessor->successor = NULL;
        a->predecessor = NULL;
    }
    if (a->successor != NULL) {
        /* The old association goes first: the restart handshake inherits
         * its table slot. */
        heir = a->successor;
        heir->predecessor = NULL;
        a->successor = NULL;
    }
    eng_table_remove(e, a);
    if (heir != NULL)
        eng_table_insert(e, heir);
    eng_ended_note(e, a);
    a->state = DTLSUDP_STATE_CLOSED;
    eng_assoc_fire(e, a, DTLSUDP_EVENT_CLOSED, reason);
    eng_assoc_destroy(e, a);
}

void eng_assoc_close_now(dtlsudp_engine *e, dtlsudp_assoc *a, int reason, int notify)
{
    if (notify)
        eng_assoc_send_close_notify(e, a);
    eng_assoc_finish(e, a, reason);
}

void eng_evict(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    /* An established association gets its close_notify.  A handshake's
     * peer gets a fatal alert: it cannot recover by repeating its
     * ClientHello (ended.c answers the copy, which a fresh handshake could
     * not serve once the client holds our ServerHello), so it fails now,
     * with a reason, instead of at its own deadline. */
    if (a->state == DTLSUDP_STATE_HANDSHAKING && !a->is_client)
        eng_ended_alert(e, a);
    eng_assoc_close_now(e, a, DTLSUDP_ERR_EVICTED, a->state == DTLSUDP_STATE_ESTABLISHED);
}

void dtlsudp_engine_close_all(dtlsudp_engine *e, dtlsudp_time now)
{
    if (e == NULL)
        return;
    eng_set_now(e, now);
    while (!dtlsudp_link_empty(&e->hs_list))
        eng_assoc_close_now(e, ASSOC_OF(e->hs_list.next), DTLSUDP_ERR_CLOSED, 1);
    while (!dtlsudp_link_empty(&e->est_list))
        eng_assoc_close_now(e, ASSOC_OF(e->est_list.next), DTLSUDP_ERR_CLOSED, 1);
}

size_t dtlsudp_engine_close_revoked(dtlsudp_engine *e, dtlsudp_time now)
{
    X509_STORE *store;
    dtlsudp_link *l, *next;
    size_t closed = 0;

    if (e == NULL)
        return 0;
    eng_set_now(e, now);
    store = SSL_CTX_get_cert_store(e->ctx);
    /* Only established associations: a handshake in progress is verified
     * against the current store anyway.  Closing one never frees another
     * established association (a restart's heir is still handshaking). */
    for (l = e->est_list.next; l != &e->est_list; l = next) {
        dtlsudp_assoc *a = ASSOC_OF(l);
        next = l->next;
        if (a->busy != 0 || a->auth_chain == NULL || !eng_verify_chain_revoked(store, a->auth_chain))
            continue;
        eng_log(e, DTLSUDP_LOG_NOTICE, "assoc %llu: closed: a loaded CRL now revokes its peer's certificate",
                    (unsigned long long)a->id);
        eng_assoc_close_now(e, a, DTLSUDP_ERR_PEER_CERT, 1);
        closed++;
    }
    return closed;
}

void dtlsudp_assoc_close(dtlsudp_assoc *a, dtlsudp_time now)
{
    if (a == NULL || a->freeing)
        return;
    eng_set_now(a->e, now);
    if (a->busy > 0) {
        /* Called from inside an event: close once the engine is done. */
        a->close_requested = DTLSUDP_ERR_CLOSED;
        return;
    }
    eng_assoc_close_now(a->e, a, DTLSUDP_ERR_CLOSED, 1);
}

void dtlsudp_assoc_abort(dtlsudp_assoc *a, int reason, dtlsudp_time now)
{
    if (a == NULL || a->freeing)
        return;
    eng_set_now(a->e, now);
    if (!dtlsudp_err_is_assoc_fatal(reason))
        reason = DTLSUDP_ERR_CLOSED;
    if (a->busy > 0) {
        a->close_requested = reason;
        a->close_quiet = 1;
        return;
    }
    eng_assoc_finish(a->e, a, reason);
}
