/*
 * engine.c - the DTLS association engine: shared SSL_CTX, stateless cookie
 * gate, bounded peer table, timers, and the datagram pump.
 *
 * Buffer in, buffer out, explicit time.  Datagrams come in through
 * dtlsudp_engine_receive() with their peer address and `now'; datagrams to
 * send wait in a bounded output queue for dtlsudp_engine_pop(); timers run
 * from dtlsudp_engine_handle_timeout(now).  The one clock the engine does
 * not control is OpenSSL's DTLS retransmission timer, which reads the real
 * time (gettimeofday): dtlsudp_engine_next_timeout() converts its
 * remaining time into the caller's time base using the `now' of the last
 * call.
 *
 * No per-peer state exists before a ClientHello carries a valid cookie
 * (RFC 6347 4.2.1): every cookie exchange runs on one shared listen SSL,
 * which becomes the association's SSL once the cookie verifies.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "abi.h"
#include "engine_internal.h"
#include "record.h"

#define ASSOC_OF(l) ((dtlsudp_assoc *)(void *)((char *)(l) - offsetof(dtlsudp_assoc, list)))

/* ------------------------------------------------------------------------
 * Small helpers: lists, memory, log, events
 * ------------------------------------------------------------------------ */

static void link_init(dtlsudp_link *l)
{
    l->prev = l->next = l;
}

static int link_empty(const dtlsudp_link *head)
{
    return head->next == head;
}

static void link_remove(dtlsudp_link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = l;
}

static void link_append(dtlsudp_link *head, dtlsudp_link *l)
{
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}

void *dtlsudp_mem_alloc(dtlsudp_engine *e, size_t size)
{
    return e->cfg.allocator.alloc(e->cfg.allocator.user, size);
}

void dtlsudp_mem_free(dtlsudp_engine *e, void *p)
{
    if (p != NULL)
        e->cfg.allocator.free(e->cfg.allocator.user, p);
}

void dtlsudp_log(dtlsudp_engine *e, int level, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    if (e->cfg.log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    e->cfg.log(e->cfg.user, level, buf);
}

static void fire(dtlsudp_engine *e, dtlsudp_assoc *a, int event, int reason)
{
    if (e->cfg.on_event != NULL)
        e->cfg.on_event(e->cfg.user, a, event, reason);
}

void dtlsudp_assoc_fire(dtlsudp_engine *e, dtlsudp_assoc *a, int event, int reason)
{
    fire(e, a, event, reason);
}

int dtlsudp_random(dtlsudp_engine *e, void *buf, size_t len)
{
    if (e->cfg.random != NULL)
        return e->cfg.random(e->cfg.user, buf, len) == 0 ? DTLSUDP_OK : DTLSUDP_ERR_FATAL;
    return RAND_bytes(buf, (int)len) == 1 ? DTLSUDP_OK : DTLSUDP_ERR_TLS;
}

int dtlsudp_pqueue_push(dtlsudp_engine *e, dtlsudp_pqueue *q, const uint8_t *data, size_t len)
{
    dtlsudp_pbuf *p;

    if (q->count >= e->cfg.max_queued_datagrams)
        return DTLSUDP_ERR_QUEUE_FULL;
    if ((p = dtlsudp_mem_alloc(e, sizeof(*p) + len)) == NULL)
        return DTLSUDP_ERR_NOMEM;
    p->next = NULL;
    p->len = len;
    memcpy(p->data, data, len);
    if (q->tail != NULL)
        q->tail->next = p;
    else
        q->head = p;
    q->tail = p;
    q->count++;
    return DTLSUDP_OK;
}

dtlsudp_pbuf *dtlsudp_pqueue_shift(dtlsudp_pqueue *q)
{
    dtlsudp_pbuf *p = q->head;

    if (p == NULL)
        return NULL;
    q->head = p->next;
    if (q->head == NULL)
        q->tail = NULL;
    q->count--;
    return p;
}

void dtlsudp_pqueue_clear(dtlsudp_engine *e, dtlsudp_pqueue *q)
{
    dtlsudp_pbuf *p;

    while ((p = dtlsudp_pqueue_shift(q)) != NULL)
        dtlsudp_mem_free(e, p);
}

/* ------------------------------------------------------------------------
 * SSLs on datagram BIOs
 * ------------------------------------------------------------------------ */

static unsigned link_mtu_for(const dtlsudp_engine *e, const dtlsudp_addr *peer)
{
    return peer->sa.sa_family == AF_INET6 ? e->cfg.mtu_ipv6 : e->cfg.mtu_ipv4;
}

static int set_link_mtu(dtlsudp_engine *e, SSL *ssl, const dtlsudp_addr *peer)
{
    /* The BIO reports the IP+UDP overhead for the peer's family, so OpenSSL
     * keeps whole datagrams within the link MTU. */
    return DTLS_set_link_mtu(ssl, link_mtu_for(e, peer)) == 1 ? DTLSUDP_OK : DTLSUDP_ERR_CONFIG;
}

/* A new SSL on a datagram BIO bound to io. */
static SSL *ssl_new(dtlsudp_engine *e, dtlsudp_io *io)
{
    SSL *ssl = SSL_new(e->ctx);
    BIO *bio;

    if (ssl == NULL)
        return NULL;
    if ((bio = dtlsudp_bio_new(e->bio_method, io)) == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    /* Same BIO for both directions: SSL_set_bio() takes one reference. */
    SSL_set_bio(ssl, bio, bio);
    DTLS_set_timer_cb(ssl, e->timer_cb != NULL ? e->timer_cb : dtlsudp_rtx_timer_cb);
    return ssl;
}

static int ensure_listen(dtlsudp_engine *e)
{
    if (e->listen_ssl != NULL)
        return DTLSUDP_OK;
    e->listen_io.e = e;
    e->listen_io.a = NULL;
    e->listen_io.peer = &e->listen_peer;
    e->listen_io.local = &e->listen_local;
    if ((e->listen_ssl = ssl_new(e, &e->listen_io)) == NULL)
        return DTLSUDP_ERR_NOMEM;
    SSL_set_accept_state(e->listen_ssl);
    return DTLSUDP_OK;
}

/* ------------------------------------------------------------------------
 * Engine lifecycle
 * ------------------------------------------------------------------------ */

static size_t table_size_for(size_t max_assocs)
{
    size_t n = 64;

    while (n < max_assocs && n < ((size_t)1 << 22))
        n <<= 1;
    return n;
}

int dtlsudp_engine_new_versioned(int version, const dtlsudp_engine_config *cfg_in, dtlsudp_time now,
                                 dtlsudp_engine **out)
{
    dtlsudp_engine_config cfg;
    dtlsudp_engine *e;
    size_t nb;
    int ret;

    if (dtlsudp_abi_size(version, DTLSUDP_ABI_ENGINE_CONFIG) == 0 || cfg_in == NULL || out == NULL)
        return DTLSUDP_ERR_INVALID;
    *out = NULL;
    dtlsudp_engine_config_init(&cfg);
    dtlsudp_abi_read(version, DTLSUDP_ABI_ENGINE_CONFIG, &cfg, cfg_in);
    dtlsudp_config_normalize(&cfg);
    if ((e = cfg.allocator.alloc(cfg.allocator.user, sizeof(*e))) == NULL)
        return DTLSUDP_ERR_NOMEM;
    memset(e, 0, sizeof(*e));
    e->cfg = cfg;
    e->now = now;
    e->next_id = 1;
    link_init(&e->hs_list);
    link_init(&e->est_list);
    link_init(&e->last_flight_due);

    nb = table_size_for(cfg.max_assocs);
    ret = DTLSUDP_ERR_NOMEM;
    if ((e->table = dtlsudp_mem_alloc(e, nb * sizeof(*e->table))) == NULL)
        goto Fail;
    memset(e->table, 0, nb * sizeof(*e->table));
    if ((e->src_table = dtlsudp_mem_alloc(e, nb * sizeof(*e->src_table))) == NULL)
        goto Fail;
    memset(e->src_table, 0, nb * sizeof(*e->src_table));
    e->table_mask = nb - 1;
    if ((ret = dtlsudp_outq_init(e, &e->outq, DTLSUDP_OUTQ_BYTES)) != DTLSUDP_OK)
        goto Fail;
    ret = DTLSUDP_ERR_NOMEM;
    if ((e->scratch = dtlsudp_mem_alloc(e, DTLSUDP_SCRATCH_BYTES)) == NULL)
        goto Fail;
    if ((ret = dtlsudp_random(e, &e->hash_seed, sizeof(e->hash_seed))) != DTLSUDP_OK)
        goto Fail;
    if ((ret = dtlsudp_ctx_setup(e)) != DTLSUDP_OK)
        goto Fail;
    ret = DTLSUDP_ERR_NOMEM;
    if ((e->bio_method = dtlsudp_bio_method_new()) == NULL)
        goto Fail;
    if ((e->listen_client = BIO_ADDR_new()) == NULL)
        goto Fail;
    if ((ret = dtlsudp_cookie_init(e)) != DTLSUDP_OK)
        goto Fail;
    if ((ret = dtlsudp_tickets_init(e)) != DTLSUDP_OK)
        goto Fail;
    /* The listen SSL is made on the first ClientHello: SSL_new() copies the
     * certificate from the SSL_CTX, which the caller may still be filling
     * through dtlsudp_engine_ssl_ctx(). */
    *out = e;
    return DTLSUDP_OK;

Fail:
    dtlsudp_engine_free(e);
    ERR_clear_error();
    return ret;
}

static void assoc_destroy(dtlsudp_engine *e, dtlsudp_assoc *a);

void dtlsudp_engine_free(dtlsudp_engine *e)
{
    if (e == NULL)
        return;
    /* Every association is freed; CLOSED events fire so owners can release
     * what they hang on associations, but nothing is sent. */
    while (!link_empty(&e->hs_list) || !link_empty(&e->est_list)) {
        dtlsudp_link *l = !link_empty(&e->hs_list) ? e->hs_list.next : e->est_list.next;
        dtlsudp_assoc *a = ASSOC_OF(l);
        a->freeing = 1;
        a->state = DTLSUDP_STATE_CLOSED;
        fire(e, a, DTLSUDP_EVENT_CLOSED, DTLSUDP_ERR_CLOSED);
        assoc_destroy(e, a);
    }
    SSL_free(e->listen_ssl);
    SSL_CTX_free(e->ctx);
    dtlsudp_handoff_engine_free(e);
    BIO_meth_free(e->bio_method);
    BIO_ADDR_free(e->listen_client);
    OPENSSL_cleanse(e->cookie_secret, sizeof(e->cookie_secret));
    dtlsudp_ended_dispose(e);
    dtlsudp_tickets_dispose(e);
    dtlsudp_outq_dispose(e, &e->outq);
    dtlsudp_mem_free(e, e->scratch);
    dtlsudp_mem_free(e, e->table);
    dtlsudp_mem_free(e, e->src_table);
    dtlsudp_mem_free(e, e->pins);
    e->cfg.allocator.free(e->cfg.allocator.user, e);
}

SSL_CTX *dtlsudp_engine_ssl_ctx(dtlsudp_engine *e)
{
    return e != NULL ? e->ctx : NULL;
}

int dtlsudp_engine_set_trust_store(dtlsudp_engine *e, X509_STORE *store)
{
    if (e == NULL || store == NULL)
        return DTLSUDP_ERR_INVALID;
    /* Handshakes look the store up on the SSL_CTX when they verify, so the
     * new anchors and CRLs apply to every verification from now on. */
    SSL_CTX_set1_cert_store(e->ctx, store);
    return DTLSUDP_OK;
}

int dtlsudp_engine_set_identity(dtlsudp_engine *e, X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain)
{
    EVP_PKEY *old;

    if (e == NULL || cert == NULL || key == NULL)
        return DTLSUDP_ERR_INVALID;
    /* OpenSSL keeps one identity per key type in an SSL_CTX and cannot
     * remove one: a key of another type would sit beside the old identity,
     * which peers preferring that type would still be shown. */
    old = SSL_CTX_get0_privatekey(e->ctx);
    if (old != NULL && EVP_PKEY_get_base_id(old) != EVP_PKEY_get_base_id(key)) {
        dtlsudp_log(e, DTLSUDP_LOG_ERR, "identity refused: a %s key cannot replace the %s one (new engine needed)",
                    OBJ_nid2sn(EVP_PKEY_get_base_id(key)), OBJ_nid2sn(EVP_PKEY_get_base_id(old)));
        return DTLSUDP_ERR_CONFIG;
    }
    /* SSL_CTX_use_cert_and_key() checks that the key matches and replaces
     * certificate, key and chain together (override = 1), so a refused
     * identity leaves the previous one in place. */
    if (SSL_CTX_use_cert_and_key(e->ctx, cert, key, chain, 1) != 1) {
        const char *why = ERR_reason_error_string(ERR_peek_last_error());
        dtlsudp_log(e, DTLSUDP_LOG_ERR, "identity refused: %s", why != NULL ? why : "refused by OpenSSL");
        ERR_clear_error();
        return DTLSUDP_ERR_CONFIG;
    }
    /* The listen SSL copied the identity when it was made, and DTLSv1_listen()
     * keeps nothing between ClientHellos (it clears the SSL first), so it can
     * go: ensure_listen() makes a new one from the SSL_CTX at the next hello. */
    SSL_free(e->listen_ssl);
    e->listen_ssl = NULL;
    return DTLSUDP_OK;
}

int dtlsudp_engine_add_peer_fingerprint(dtlsudp_engine *e, const dtlsudp_fingerprint *fp)
{
    dtlsudp_fingerprint *grown;
    size_t cap;

    if (e == NULL || fp == NULL || fp->len == 0 || fp->len > sizeof(fp->bytes))
        return DTLSUDP_ERR_INVALID;
    if (e->n_pins == e->cap_pins) {
        cap = e->cap_pins != 0 ? e->cap_pins * 2 : 4;
        if ((grown = dtlsudp_mem_alloc(e, cap * sizeof(*grown))) == NULL)
            return DTLSUDP_ERR_NOMEM;
        if (e->n_pins != 0)
            memcpy(grown, e->pins, e->n_pins * sizeof(*grown));
        dtlsudp_mem_free(e, e->pins);
        e->pins = grown;
        e->cap_pins = cap;
    }
    e->pins[e->n_pins++] = *fp;
    return DTLSUDP_OK;
}

void dtlsudp_engine_set_timer_cb(dtlsudp_engine *e, DTLS_timer_cb cb)
{
    dtlsudp_link *l;

    e->timer_cb = cb;
    if (cb == NULL)
        cb = dtlsudp_rtx_timer_cb;
    if (e->listen_ssl != NULL)
        DTLS_set_timer_cb(e->listen_ssl, cb);
    for (l = e->hs_list.next; l != &e->hs_list; l = l->next)
        DTLS_set_timer_cb(ASSOC_OF(l)->ssl, cb);
    for (l = e->est_list.next; l != &e->est_list; l = l->next)
        if (ASSOC_OF(l)->ssl != NULL) /* none after the hand-off */
            DTLS_set_timer_cb(ASSOC_OF(l)->ssl, cb);
}

void dtlsudp_engine_set_keep_buffers(dtlsudp_engine *e, int keep)
{
    e->keep_buffers = keep;
}

int dtlsudp_engine_get_stats_versioned(int version, const dtlsudp_engine *e, dtlsudp_stats *out)
{
    dtlsudp_stats now;

    if (e == NULL || out == NULL)
        return DTLSUDP_ERR_INVALID;
    now = e->stats;
    now.half_open_now = e->half_open;
    return dtlsudp_abi_write(version, DTLSUDP_ABI_STATS, out, &now);
}

/* ------------------------------------------------------------------------
 * Association lifecycle
 * ------------------------------------------------------------------------ */

static dtlsudp_assoc *assoc_alloc(dtlsudp_engine *e, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                                  int is_client)
{
    dtlsudp_assoc *a = dtlsudp_mem_alloc(e, sizeof(*a));

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
    link_init(&a->list);
    return a;
}

/* Account a fully built association: id, handshaking list, counters. */
static void assoc_start(dtlsudp_engine *e, dtlsudp_assoc *a, int half_open)
{
    a->id = e->next_id++;
    link_append(&e->hs_list, &a->list);
    if (half_open) {
        a->counted_half_open = 1;
        e->half_open++;
    }
    e->stats.handshakes_started++;
    e->stats.assocs_now++;
    if (e->stats.assocs_now > e->stats.assocs_peak)
        e->stats.assocs_peak = e->stats.assocs_now;
}

/* Free everything an association owns.  Unlinked from all structures. */
static void assoc_destroy(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    dtlsudp_table_remove(e, a);
    link_remove(&a->list);
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
    dtlsudp_outq_forget(&e->outq, a);
    dtlsudp_pqueue_clear(e, &a->rx);
    dtlsudp_pqueue_clear(e, &a->held);
    dtlsudp_rtx_release(a);
    dtlsudp_mem_free(e, a->pins);
    dtlsudp_mem_free(e, a->hostname);
    sk_X509_pop_free(a->auth_chain, X509_free);
    SSL_SESSION_free(a->session);
    a->session = NULL;
    if (a->owned_release != NULL)
        a->owned_release(a->owned);
    dtlsudp_handoff_dispose(e, a);
    SSL_free(a->ssl);
    dtlsudp_mem_free(e, a);
}

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
        link_remove(&a->list);
        link_append(&e->est_list, &a->list);
    }
}

void dtlsudp_assoc_touch(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    touch(e, a);
}

static void send_close_notify(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    /* RFC 6353 5.4: closing a session MUST include sending a close_notify.
     * Sent once; no wait for the peer's reply (no bidirectional shutdown). */
    if (a->state != DTLSUDP_STATE_ESTABLISHED || a->close_sent)
        return;
    a->close_sent = 1;
    if (a->handed_off) {
        if (dtlsudp_handoff_send_alert(e, a, 0, 0) == DTLSUDP_OK)
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

/* The association is over: count, detach restart links, fire CLOSED, free. */
static void assoc_finish(dtlsudp_engine *e, dtlsudp_assoc *a, int reason)
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
    dtlsudp_table_remove(e, a);
    if (heir != NULL)
        dtlsudp_table_insert(e, heir);
    dtlsudp_ended_note(e, a);
    a->state = DTLSUDP_STATE_CLOSED;
    fire(e, a, DTLSUDP_EVENT_CLOSED, reason);
    assoc_destroy(e, a);
}

static void close_now(dtlsudp_engine *e, dtlsudp_assoc *a, int reason, int notify)
{
    if (notify)
        send_close_notify(e, a);
    assoc_finish(e, a, reason);
}

void dtlsudp_engine_evict(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    /* An established association gets its close_notify.  A handshake's
     * peer gets a fatal alert: it cannot recover by repeating its
     * ClientHello (ended.c answers the copy, which a fresh handshake could
     * not serve once the client holds our ServerHello), so it fails now,
     * with a reason, instead of at its own deadline. */
    if (a->state == DTLSUDP_STATE_HANDSHAKING && !a->is_client)
        dtlsudp_ended_alert(e, a);
    close_now(e, a, DTLSUDP_ERR_EVICTED, a->state == DTLSUDP_STATE_ESTABLISHED);
}

/* After the engine worked on `a' (busy), apply the outcome: an
 * association-fatal ret or a close requested from inside an event. */
static int settle(dtlsudp_engine *e, dtlsudp_assoc *a, int ret, int *freed)
{
    *freed = 0;
    if (dtlsudp_err_is_assoc_fatal(ret)) {
        assoc_finish(e, a, ret);
        *freed = 1;
        return ret;
    }
    if (a->close_requested != 0 && a->busy == 0) {
        close_now(e, a, a->close_requested, !a->close_quiet);
        *freed = 1;
    }
    return ret;
}

static int write_record(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *buf, size_t len)
{
    int r;

    if (a->handed_off) {
        r = dtlsudp_handoff_write(e, a, buf, len);
        if (r == DTLSUDP_ERR_LIMIT) {
            /* RFC 6347 4.1: the epoch's sequence numbers are used up and
             * there is no rehandshake: the association ends. */
            dtlsudp_log(e, DTLSUDP_LOG_NOTICE, "assoc %llu: sequence numbers exhausted, closing",
                        (unsigned long long)a->id);
            if (a->busy > 0)
                a->close_requested = DTLSUDP_ERR_CLOSED;
            else
                close_now(e, a, DTLSUDP_ERR_CLOSED, 1);
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
    if (a->busy == 0) /* inside feed(), the buffers are still in use */
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
    dtlsudp_pbuf *p;
    /* The peer has authenticated: only now may it take an established
     * slot, and evict for one (admission.c). */
    int admitted = dtlsudp_admit_established(e, a);

    link_remove(&a->list);
    if (a->counted_half_open) {
        a->counted_half_open = 0;
        e->half_open--;
    }
    a->state = DTLSUDP_STATE_ESTABLISHED;
    a->was_established = 1;
    link_append(&e->est_list, &a->list);
    a->counted_established = 1;
    e->established++;
    a->last_activity = e->now;
    e->stats.handshakes_completed++;
    dtlsudp_rtx_release(a);
    dtlsudp_session_on_established(e, a);
    if (admitted != DTLSUDP_OK) {
        /* Refused: the peer hears a close_notify right after its
         * handshake, which it can act on (unlike a silent drop).  `a' is
         * busy: the close takes effect in settle(). */
        a->close_requested = DTLSUDP_ERR_LIMIT;
        return;
    }
    dtlsudp_log(e, DTLSUDP_LOG_DEBUG, "assoc %llu: established (%s, %s)", (unsigned long long)a->id,
                SSL_get_version(a->ssl), SSL_get_cipher_name(a->ssl));

    if (a->predecessor != NULL) {
        /* RFC 6347 4.2.8: the new handshake completed (the client proved
         * reachability with the cookie and its Finished): abandon the old
         * association now, and only now. */
        dtlsudp_assoc *old = a->predecessor;
        old->successor = NULL;
        a->predecessor = NULL;
        e->stats.restarts++;
        assoc_finish(e, old, DTLSUDP_ERR_REPLACED);
        dtlsudp_table_insert(e, a);
    }
    fire(e, a, DTLSUDP_EVENT_ESTABLISHED, DTLSUDP_OK);
    /* Data a client wrote while handshaking goes out now. */
    while (a->close_requested == 0 && (p = dtlsudp_pqueue_shift(&a->held)) != NULL) {
        if (p->len <= dtlsudp_assoc_max_write(a))
            (void)write_record(e, a, p->data, p->len);
        else
            e->stats.dropped_queue++;
        dtlsudp_mem_free(e, p);
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
        dtlsudp_log(e, DTLSUDP_LOG_INFO, "assoc %llu: handshake failed: %s (%s)", (unsigned long long)a->id,
                    dtlsudp_strerror(failure_reason(a)), why);
    }
    ERR_clear_error();
    return failure_reason(a);
}

/* Read every plaintext record the fed datagram produced. */
static int read_data(dtlsudp_engine *e, dtlsudp_assoc *a, const dtlsudp_record *first, int *got)
{
    int r, err, ret;

    for (;;) {
        ERR_clear_error();
        r = SSL_read(a->ssl, e->scratch, DTLSUDP_SCRATCH_BYTES);
        if (r > 0) {
            (*got)++;
            touch(e, a);
            ret = dtlsudp_pqueue_push(e, &a->rx, e->scratch, (size_t)r);
            if (ret != DTLSUDP_OK) {
                e->stats.dropped_queue++;
                continue;
            }
            fire(e, a, DTLSUDP_EVENT_DATA, DTLSUDP_OK);
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

static int feed(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *dgram, size_t len,
                const dtlsudp_record *first, dtlsudp_assoc **assoc_out)
{
    int ret = DTLSUDP_OK, got = 0, freed;

    a->busy++;
    a->io.in = dgram;
    a->io.in_len = len;
    if (dgram != NULL && a->state == DTLSUDP_STATE_HANDSHAKING) {
        a->last_activity = e->now; /* admission evicts the most silent handshake */
        /* The peer repeated the flight ours answers: it lost ours. */
        if (dtlsudp_rtx_on_input(a, dgram, len))
            (void)dtlsudp_rtx_replay(a);
        /* What OpenSSL writes in answer is a new flight. */
        a->flight_next = 1;
        a->rtx_pending = 0;
    }
    if (a->handed_off) {
        ret = dgram != NULL ? dtlsudp_handoff_receive(e, a, dgram, len, &got) : DTLSUDP_OK;
        goto Done;
    }
    if (dgram != NULL)
        dtlsudp_handoff_note_received(a, dgram, len);
    ret = acquire_buffers(a);
    if (ret == DTLSUDP_OK && a->state == DTLSUDP_STATE_HANDSHAKING) {
        /* The step that completes the handshake may write the last
         * flight (the server's after a full handshake, the client's after
         * an abbreviated one), which the hand-off keeps (RFC 6347 4.2.4). */
        dtlsudp_handoff_capture_begin(e, a);
        ret = step_handshake(e, a);
    }
    if (ret == DTLSUDP_OK && a->state == DTLSUDP_STATE_ESTABLISHED && !a->freeing &&
        a->close_requested != DTLSUDP_ERR_LIMIT) /* refused by admission: no data */
        ret = read_data(e, a, first, &got);
    /* Everything OpenSSL had buffered is read: its part is done. */
    if (ret == DTLSUDP_OK && a->state == DTLSUDP_STATE_ESTABLISHED && !a->freeing)
        (void)dtlsudp_handoff(e, a);
    dtlsudp_handoff_capture_end(e);
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

/* ------------------------------------------------------------------------
 * The cookie gate (server side)
 * ------------------------------------------------------------------------ */

static int listen_path(dtlsudp_engine *e, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                       const uint8_t *dgram, size_t len, dtlsudp_assoc *predecessor,
                       dtlsudp_assoc **assoc_out)
{
    dtlsudp_assoc *a;
    SSL *fresh;
    int r, ret;

    if ((ret = ensure_listen(e)) != DTLSUDP_OK)
        return ret;
    e->listen_peer = *peer;
    if (local != NULL)
        e->listen_local = *local;
    else
        memset(&e->listen_local, 0, sizeof(e->listen_local));
    e->listen_sent_hvr = 0;
    e->listen_cookie_bad = 0;
    e->listen_io.in = dgram;
    e->listen_io.in_len = len;
    /* DTLSv1_listen() clears the SSL first, so this one object serves every
     * unverified ClientHello; nothing is kept per peer. */
    ERR_clear_error();
    r = DTLSv1_listen(e->listen_ssl, e->listen_client);
    e->listen_io.in = NULL;
    e->listen_io.in_len = 0;
    ERR_clear_error();
    if (r <= 0) {
        if (r < 0) {
            /* Start over with a clean listen SSL next time. */
            SSL_free(e->listen_ssl);
            e->listen_ssl = NULL;
        }
        if (e->listen_sent_hvr)
            return DTLSUDP_OK;
        e->stats.dropped_malformed++;
        return DTLSUDP_ERR_DROPPED;
    }

    /* Cookie verified.  A copy of the hello of an association that ended
     * (evicted, failed, closed) starts nothing: the client already holds
     * that association's ServerHello (ended.c). */
    if (dtlsudp_ended_check(e, peer, local, dgram, len) != DTLSUDP_OK)
        return DTLSUDP_ERR_DROPPED;
    /* The peer receives at its address.  Only now may it cost us memory,
     * and only within the caps. */
    if (dtlsudp_admit_half_open(e, peer) != DTLSUDP_OK) {
        e->stats.refused_full++; /* logged by admission, rate limited */
        return DTLSUDP_ERR_DROPPED;
    }
    if ((a = assoc_alloc(e, peer, local, 0)) == NULL)
        return DTLSUDP_ERR_NOMEM;
    if ((fresh = ssl_new(e, &e->listen_io)) == NULL) {
        dtlsudp_mem_free(e, a);
        ERR_clear_error();
        return DTLSUDP_ERR_NOMEM;
    }
    SSL_set_accept_state(fresh);
    /* The listen SSL becomes the association's; a fresh one listens. */
    a->ssl = e->listen_ssl;
    BIO_set_data(SSL_get_rbio(a->ssl), &a->io);
    e->listen_ssl = fresh;
    if (set_link_mtu(e, a->ssl, peer) != DTLSUDP_OK) {
        SSL_free(a->ssl);
        dtlsudp_mem_free(e, a);
        return DTLSUDP_ERR_CONFIG;
    }
    assoc_start(e, a, 1);
    {
        uint16_t seq;
        const uint8_t *random;
        if (dtlsudp_record_is_client_hello(dgram, len, &seq))
            a->peer_seq_max = seq; /* the hello our first flight answers */
        if (dtlsudp_record_client_hello_random(dgram, len, &random))
            memcpy(a->client_random, random, sizeof(a->client_random)); /* remembered when it ends */
    }
    if (predecessor != NULL) {
        if (predecessor->successor != NULL)
            assoc_finish(e, predecessor->successor, DTLSUDP_ERR_REPLACED);
        predecessor->successor = a;
        a->predecessor = predecessor;
    } else {
        dtlsudp_table_insert(e, a);
    }
    dtlsudp_log(e, DTLSUDP_LOG_DEBUG, "assoc %llu: cookie verified, handshake started%s",
                (unsigned long long)a->id, predecessor != NULL ? " (peer restart)" : "");
    return feed(e, a, NULL, 0, NULL, assoc_out);
}

/* ------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------ */

static int is_own_hello(const dtlsudp_assoc *a, const uint8_t *dgram, size_t len)
{
    const uint8_t *random;
    uint8_t own[SSL3_RANDOM_SIZE];

    if (!dtlsudp_record_client_hello_random(dgram, len, &random))
        return 0;
    if (a->ssl == NULL) /* handed off: the random was kept */
        memcpy(own, a->client_random, sizeof(own));
    else if (SSL_get_client_random(a->ssl, own, sizeof(own)) != sizeof(own))
        return 0;
    return memcmp(own, random, sizeof(own)) == 0;
}

static void set_now(dtlsudp_engine *e, dtlsudp_time now)
{
    if (now > e->now)
        e->now = now;
}

int dtlsudp_engine_receive(dtlsudp_engine *e, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                           const uint8_t *dgram, size_t len, dtlsudp_time now, dtlsudp_assoc **assoc_out)
{
    dtlsudp_record first;
    dtlsudp_assoc *a;

    if (assoc_out != NULL)
        *assoc_out = NULL;
    if (e == NULL || peer == NULL || (dgram == NULL && len != 0))
        return DTLSUDP_ERR_INVALID;
    set_now(e, now);
    e->stats.datagrams_in++;
    e->stats.bytes_in += len;
    if ((peer->sa.sa_family != AF_INET && peer->sa.sa_family != AF_INET6) ||
        dtlsudp_record_scan(dgram, len, &first) < 0) {
        e->stats.dropped_malformed++;
        return DTLSUDP_ERR_DROPPED;
    }

    if ((a = dtlsudp_table_find(e, peer)) != NULL) {
        if (!a->is_client && dtlsudp_record_is_client_hello(dgram, len, NULL)) {
            /* RFC 6347 4.2.8: an epoch-0 ClientHello from a known address
             * and port.  A copy of the hello the (pending restart or
             * current) association is built on -- same random: the hello
             * with the cookie repeats it, 4.2.1 -- is a retransmission for a
             * handshake, and stale for an established association.  Any
             * other is a new handshake: OpenSSL would drop it inside the old
             * SSL, so it goes through the cookie gate, and the old
             * association stays until the new handshake completes. */
            dtlsudp_assoc *target = a->successor != NULL ? a->successor : a;
            if (!is_own_hello(target, dgram, len))
                return listen_path(e, peer, local, dgram, len, a, assoc_out);
            if (target->state == DTLSUDP_STATE_ESTABLISHED) {
                e->stats.dropped_stale++;
                return DTLSUDP_ERR_DROPPED;
            }
            return feed(e, target, dgram, len, &first, assoc_out);
        }
        if (a->successor != NULL &&
            (first.epoch == 0 || first.content_type == DTLSUDP_CT_HANDSHAKE ||
             first.content_type == DTLSUDP_CT_CHANGE_CIPHER_SPEC))
            /* Records of the restart handshake.  The old association has
             * no handshake left (renegotiation is off). */
            return feed(e, a->successor, dgram, len, &first, assoc_out);
        return feed(e, a, dgram, len, &first, assoc_out);
    }
    /* Without an identity there is no server role: a pure client (a
     * manager) answers nobody's ClientHello. */
    if (!dtlsudp_record_is_client_hello(dgram, len, NULL) || SSL_CTX_get0_certificate(e->ctx) == NULL) {
        e->stats.dropped_unknown++;
        return DTLSUDP_ERR_DROPPED;
    }
    return listen_path(e, peer, local, dgram, len, NULL, assoc_out);
}

static int copy_opts(dtlsudp_engine *e, dtlsudp_assoc *a, const dtlsudp_connect_opts *opts)
{
    if (opts == NULL)
        return DTLSUDP_OK;
    if (opts->n_peer_fingerprints > 0) {
        if (opts->peer_fingerprints == NULL || opts->n_peer_fingerprints > 1024)
            return DTLSUDP_ERR_INVALID;
        if ((a->pins = dtlsudp_mem_alloc(e, opts->n_peer_fingerprints * sizeof(*a->pins))) == NULL)
            return DTLSUDP_ERR_NOMEM;
        memcpy(a->pins, opts->peer_fingerprints, opts->n_peer_fingerprints * sizeof(*a->pins));
        a->n_pins = opts->n_peer_fingerprints;
    }
    if (opts->hostname != NULL) {
        size_t n = strlen(opts->hostname) + 1;
        if ((a->hostname = dtlsudp_mem_alloc(e, n)) == NULL)
            return DTLSUDP_ERR_NOMEM;
        memcpy(a->hostname, opts->hostname, n);
    }
    return DTLSUDP_OK;
}

static int is_ip_literal(const char *host)
{
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);

    if (ip == NULL)
        return 0;
    ASN1_OCTET_STRING_free(ip);
    return 1;
}

int dtlsudp_engine_connect_versioned(int version, dtlsudp_engine *e, const dtlsudp_addr *peer,
                                     const dtlsudp_connect_opts *opts_in, dtlsudp_time now, dtlsudp_assoc **out)
{
    dtlsudp_connect_opts opts_cur, *opts = NULL;
    dtlsudp_assoc *a;
    int ret;

    if (out != NULL)
        *out = NULL;
    if (e == NULL || peer == NULL || (peer->sa.sa_family != AF_INET && peer->sa.sa_family != AF_INET6))
        return DTLSUDP_ERR_INVALID;
    if (dtlsudp_abi_size(version, DTLSUDP_ABI_CONNECT_OPTS) == 0)
        return DTLSUDP_ERR_INVALID;
    if (opts_in != NULL) {
        memset(&opts_cur, 0, sizeof(opts_cur));
        dtlsudp_abi_read(version, DTLSUDP_ABI_CONNECT_OPTS, &opts_cur, opts_in);
        opts = &opts_cur;
    }
    set_now(e, now);
    if (dtlsudp_table_find(e, peer) != NULL)
        return DTLSUDP_ERR_EXISTS;
    if (dtlsudp_admit_connect(e, peer) != DTLSUDP_OK) {
        e->stats.refused_full++;
        return DTLSUDP_ERR_LIMIT;
    }
    if ((a = assoc_alloc(e, peer, opts != NULL ? opts->local : NULL, 1)) == NULL)
        return DTLSUDP_ERR_NOMEM;
    if ((ret = copy_opts(e, a, opts)) != DTLSUDP_OK)
        goto Fail;
    ret = DTLSUDP_ERR_NOMEM;
    if ((a->ssl = ssl_new(e, &a->io)) == NULL)
        goto Fail;
    SSL_set_connect_state(a->ssl);
    if ((ret = set_link_mtu(e, a->ssl, peer)) != DTLSUDP_OK)
        goto Fail;
    /* SNI for name-based servers; never for address literals (RFC 6066 3). */
    if (a->hostname != NULL && !is_ip_literal(a->hostname) && !SSL_set_tlsext_host_name(a->ssl, a->hostname)) {
        ret = DTLSUDP_ERR_NOMEM;
        goto Fail;
    }
    assoc_start(e, a, 0);
    dtlsudp_table_insert(e, a);
    if (opts != NULL)
        dtlsudp_session_offer(e, a, opts->session, opts->session_len);
    ret = feed(e, a, NULL, 0, NULL, NULL);
    if (dtlsudp_err_is_assoc_fatal(ret))
        return ret;
    if (out != NULL)
        *out = a;
    return DTLSUDP_OK;

Fail:
    ERR_clear_error();
    dtlsudp_mem_free(e, a->pins);
    dtlsudp_mem_free(e, a->hostname);
    SSL_free(a->ssl);
    dtlsudp_mem_free(e, a);
    return ret;
}

int dtlsudp_engine_pop(dtlsudp_engine *e, uint8_t *buf, size_t cap, size_t *len, dtlsudp_addr *peer,
                       dtlsudp_addr *local, dtlsudp_assoc **assoc)
{
    if (e == NULL || buf == NULL || len == NULL)
        return DTLSUDP_ERR_INVALID;
    return dtlsudp_outq_pop(&e->outq, buf, cap, len, peer, local, assoc);
}

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
    if (!link_empty(&e->est_list) && e->cfg.idle_timeout != DTLSUDP_TIME_NEVER)
        t = min_time(t, add_time(ASSOC_OF(e->est_list.next)->last_activity, e->cfg.idle_timeout));
    return min_time(t, dtlsudp_handoff_next_timeout(e));
}

int dtlsudp_engine_handle_timeout(dtlsudp_engine *e, dtlsudp_time now)
{
    dtlsudp_link *l, *next;
    int ret;

    if (e == NULL)
        return DTLSUDP_ERR_INVALID;
    set_now(e, now);
    if (e->now >= e->cookie_rotate_at && (ret = dtlsudp_cookie_rotate(e)) != DTLSUDP_OK)
        return ret;
    if (e->now >= e->ticket_rotate_at && (ret = dtlsudp_tickets_rotate(e)) != DTLSUDP_OK)
        return ret;
    for (l = e->hs_list.next; l != &e->hs_list; l = next) {
        dtlsudp_assoc *a = ASSOC_OF(l);
        next = l->next;
        if (add_time(a->created, e->cfg.handshake_timeout) <= e->now) {
            dtlsudp_log(e, DTLSUDP_LOG_INFO, "assoc %llu: handshake deadline passed", (unsigned long long)a->id);
            assoc_finish(e, a, DTLSUDP_ERR_TIMEOUT);
            continue;
        }
        ERR_clear_error();
        if (DTLSv1_handle_timeout(a->ssl) < 0) {
            /* OpenSSL gave up retransmitting. */
            ERR_clear_error();
            assoc_finish(e, a, DTLSUDP_ERR_TIMEOUT);
        }
    }
    dtlsudp_handoff_handle_timeout(e);
    if (e->cfg.idle_timeout != DTLSUDP_TIME_NEVER) {
        while (!link_empty(&e->est_list)) {
            dtlsudp_assoc *a = ASSOC_OF(e->est_list.next);
            if (add_time(a->last_activity, e->cfg.idle_timeout) > e->now)
                break;
            e->stats.idle_expired++;
            close_now(e, a, DTLSUDP_ERR_IDLE, 1);
        }
    }
    return DTLSUDP_OK;
}

void dtlsudp_engine_close_all(dtlsudp_engine *e, dtlsudp_time now)
{
    if (e == NULL)
        return;
    set_now(e, now);
    while (!link_empty(&e->hs_list))
        close_now(e, ASSOC_OF(e->hs_list.next), DTLSUDP_ERR_CLOSED, 1);
    while (!link_empty(&e->est_list))
        close_now(e, ASSOC_OF(e->est_list.next), DTLSUDP_ERR_CLOSED, 1);
}

size_t dtlsudp_engine_close_revoked(dtlsudp_engine *e, dtlsudp_time now)
{
    X509_STORE *store;
    dtlsudp_link *l, *next;
    size_t closed = 0;

    if (e == NULL)
        return 0;
    set_now(e, now);
    store = SSL_CTX_get_cert_store(e->ctx);
    /* Only established associations: a handshake in progress is verified
     * against the current store anyway.  Closing one never frees another
     * established association (a restart's heir is still handshaking). */
    for (l = e->est_list.next; l != &e->est_list; l = next) {
        dtlsudp_assoc *a = ASSOC_OF(l);
        next = l->next;
        if (a->busy != 0 || a->auth_chain == NULL || !dtlsudp_verify_chain_revoked(store, a->auth_chain))
            continue;
        dtlsudp_log(e, DTLSUDP_LOG_NOTICE, "assoc %llu: closed: a loaded CRL now revokes its peer's certificate",
                    (unsigned long long)a->id);
        close_now(e, a, DTLSUDP_ERR_PEER_CERT, 1);
        closed++;
    }
    return closed;
}

/* ------------------------------------------------------------------------
 * One association
 * ------------------------------------------------------------------------ */

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
    link = link_mtu_for(a->e, &a->peer);
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
    set_now(e, now);
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
            (void)dtlsudp_rtx_replay(a);
        ret = dtlsudp_pqueue_push(e, &a->held, buf, len);
        if (ret == DTLSUDP_ERR_NOMEM)
            return ret;
        return ret == DTLSUDP_OK ? DTLSUDP_OK : DTLSUDP_ERR_QUEUE_FULL;
    }
    return write_record(e, a, buf, len);
}

void dtlsudp_assoc_close(dtlsudp_assoc *a, dtlsudp_time now)
{
    if (a == NULL || a->freeing)
        return;
    set_now(a->e, now);
    if (a->busy > 0) {
        /* Called from inside an event: close once the engine is done. */
        a->close_requested = DTLSUDP_ERR_CLOSED;
        return;
    }
    close_now(a->e, a, DTLSUDP_ERR_CLOSED, 1);
}

void dtlsudp_assoc_abort(dtlsudp_assoc *a, int reason, dtlsudp_time now)
{
    if (a == NULL || a->freeing)
        return;
    set_now(a->e, now);
    if (!dtlsudp_err_is_assoc_fatal(reason))
        reason = DTLSUDP_ERR_CLOSED;
    if (a->busy > 0) {
        a->close_requested = reason;
        a->close_quiet = 1;
        return;
    }
    assoc_finish(a->e, a, reason);
}
