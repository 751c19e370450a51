/*
 * engine.c - the DTLS association engine: its lifecycle (the shared
 * SSL_CTX, tables, output queue, cookie and ticket keys), the SSLs on
 * datagram BIOs, and the entry points: dtlsudp_engine_receive() dispatches
 * a datagram to its association (accept.c for a ClientHello without one),
 * dtlsudp_engine_connect() starts a client association, dtlsudp_engine_pop()
 * hands out what to send.
 *
 * Buffer in, buffer out, explicit time.  Datagrams come in through
 * dtlsudp_engine_receive() with their peer address and `now'; datagrams to
 * send wait in a bounded output queue for dtlsudp_engine_pop(); timers run
 * from dtlsudp_engine_handle_timeout(now) (timers.c).  Each association's
 * traffic is feed.c's, its life lifetime.c's.
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

/* ------------------------------------------------------------------------
 * Small helpers: memory, log, events, random, plaintext queues
 * ------------------------------------------------------------------------ */

void *eng_mem_alloc(dtlsudp_engine *e, size_t size)
{
    return e->cfg.allocator.alloc(e->cfg.allocator.user, size);
}

void eng_mem_free(dtlsudp_engine *e, void *p)
{
    if (p != NULL)
        e->cfg.allocator.free(e->cfg.allocator.user, p);
}

void eng_log(dtlsudp_engine *e, int level, const char *fmt, ...)
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

void eng_assoc_fire(dtlsudp_engine *e, dtlsudp_assoc *a, int event, int reason)
{
    fire(e, a, event, reason);
}

int eng_random(dtlsudp_engine *e, void *buf, size_t len)
{
    if (e->cfg.random != NULL)
        return e->cfg.random(e->cfg.user, buf, len) == 0 ? DTLSUDP_OK : DTLSUDP_ERR_FATAL;
    return RAND_bytes(buf, (int)len) == 1 ? DTLSUDP_OK : DTLSUDP_ERR_TLS;
}

int eng_pqueue_push(dtlsudp_engine *e, eng_pqueue *q, const uint8_t *data, size_t len)
{
    eng_pbuf *p;

    if (q->count >= e->cfg.max_queued_datagrams)
        return DTLSUDP_ERR_QUEUE_FULL;
    if ((p = eng_mem_alloc(e, sizeof(*p) + len)) == NULL)
        return DTLSUDP_ERR_NOMEM;
    memset(&p->link, 0, sizeof(p->link));
    p->len = len;
    memcpy(p->data, data, len);
    dtlsudp_link_append(&q->fifo, &p->link);
    q->count++;
    return DTLSUDP_OK;
}

eng_pbuf *eng_pqueue_first(const eng_pqueue *q)
{
    dtlsudp_link *l = dtlsudp_link_first(&q->fifo);

    return l != NULL ? DTLSUDP_LINK_OWNER(l, eng_pbuf, link) : NULL;
}

eng_pbuf *eng_pqueue_shift(eng_pqueue *q)
{
    dtlsudp_link *l = dtlsudp_link_shift(&q->fifo);

    if (l == NULL)
        return NULL;
    q->count--;
    return DTLSUDP_LINK_OWNER(l, eng_pbuf, link);
}

void eng_pqueue_clear(dtlsudp_engine *e, eng_pqueue *q)
{
    eng_pbuf *p;

    while ((p = eng_pqueue_shift(q)) != NULL)
        eng_mem_free(e, p);
}

/* ------------------------------------------------------------------------
 * SSLs on datagram BIOs
 * ------------------------------------------------------------------------ */

unsigned eng_link_mtu_for(const dtlsudp_engine *e, const dtlsudp_addr *peer)
{
    return peer->sa.sa_family == AF_INET6 ? e->cfg.mtu_ipv6 : e->cfg.mtu_ipv4;
}

int eng_set_link_mtu(dtlsudp_engine *e, SSL *ssl, const dtlsudp_addr *peer)
{
    /* The BIO reports the IP+UDP overhead for the peer's family, so OpenSSL
     * keeps whole datagrams within the link MTU. */
    return DTLS_set_link_mtu(ssl, eng_link_mtu_for(e, peer)) == 1 ? DTLSUDP_OK : DTLSUDP_ERR_CONFIG;
}

/* A new SSL on a datagram BIO bound to io. */
SSL *eng_ssl_new(dtlsudp_engine *e, eng_io *io)
{
    SSL *ssl = SSL_new(e->ctx);
    BIO *bio;

    if (ssl == NULL)
        return NULL;
    if ((bio = eng_bio_new(e->bio_method, io)) == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    /* Same BIO for both directions: SSL_set_bio() takes one reference. */
    SSL_set_bio(ssl, bio, bio);
    DTLS_set_timer_cb(ssl, e->timer_cb != NULL ? e->timer_cb : eng_rtx_timer_cb);
    if (io == &e->listen_io)
        eng_scache_prepare_server_ssl(e, ssl);
    return ssl;
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

    if (eng_abi_size(version, DTLSUDP_ABI_ENGINE_CONFIG) == 0 || cfg_in == NULL || out == NULL)
        return DTLSUDP_ERR_INVALID;
    *out = NULL;
    dtlsudp_engine_config_init(&cfg);
    eng_abi_read(version, DTLSUDP_ABI_ENGINE_CONFIG, &cfg, cfg_in);
    eng_config_normalize(&cfg);
    if ((e = cfg.allocator.alloc(cfg.allocator.user, sizeof(*e))) == NULL)
        return DTLSUDP_ERR_NOMEM;
    memset(e, 0, sizeof(*e));
    e->cfg = cfg;
    e->now = now;
    e->next_id = 1;
    dtlsudp_link_init(&e->hs_list);
    eng_scache_init(e);
    dtlsudp_link_init(&e->est_list);
    dtlsudp_link_init(&e->last_flight_due);

    nb = table_size_for(cfg.max_assocs);
    ret = DTLSUDP_ERR_NOMEM;
    if ((e->table = eng_mem_alloc(e, nb * sizeof(*e->table))) == NULL)
        goto Fail;
    memset(e->table, 0, nb * sizeof(*e->table));
    if ((e->src_table = eng_mem_alloc(e, nb * sizeof(*e->src_table))) == NULL)
        goto Fail;
    memset(e->src_table, 0, nb * sizeof(*e->src_table));
    e->table_mask = nb - 1;
    if ((ret = eng_outq_init(e, &e->outq, DTLSUDP_OUTQ_BYTES)) != DTLSUDP_OK)
        goto Fail;
    ret = DTLSUDP_ERR_NOMEM;
    if ((e->scratch = eng_mem_alloc(e, DTLSUDP_SCRATCH_BYTES)) == NULL)
        goto Fail;
    if ((ret = eng_random(e, &e->hash_seed, sizeof(e->hash_seed))) != DTLSUDP_OK)
        goto Fail;
    if ((ret = eng_ctx_setup(e)) != DTLSUDP_OK)
        goto Fail;
    ret = DTLSUDP_ERR_NOMEM;
    if ((e->bio_method = eng_bio_method_new()) == NULL)
        goto Fail;
    if ((e->listen_client = BIO_ADDR_new()) == NULL)
        goto Fail;
    if ((ret = eng_cookie_init(e)) != DTLSUDP_OK)
        goto Fail;
    if ((ret = eng_tickets_init(e)) != DTLSUDP_OK)
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

void dtlsudp_engine_free(dtlsudp_engine *e)
{
    if (e == NULL)
        return;
    /* Every association is freed; CLOSED events fire so owners can release
     * what they hang on associations, but nothing is sent. */
    while (!dtlsudp_link_empty(&e->hs_list) || !dtlsudp_link_empty(&e->est_list)) {
        dtlsudp_link *l = !dtlsudp_link_empty(&e->hs_list) ? e->hs_list.next : e->est_list.next;
        dtlsudp_assoc *a = ASSOC_OF(l);
        a->freeing = 1;
        a->state = DTLSUDP_STATE_CLOSED;
        fire(e, a, DTLSUDP_EVENT_CLOSED, DTLSUDP_ERR_CLOSED);
        eng_assoc_destroy(e, a);
    }
    SSL_free(e->listen_ssl);
    eng_scache_dispose(e);
    SSL_CTX_free(e->ctx);
    eng_handoff_engine_free(e);
    BIO_meth_free(e->bio_method);
    BIO_ADDR_free(e->listen_client);
    eng_cookie_dispose(e);
    eng_ended_dispose(e);
    eng_tickets_dispose(e);
    eng_outq_dispose(e, &e->outq);
    eng_mem_free(e, e->scratch);
    eng_mem_free(e, e->table);
    eng_mem_free(e, e->src_table);
    eng_mem_free(e, e->pins);
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
        eng_log(e, DTLSUDP_LOG_ERR, "identity refused: a %s key cannot replace the %s one (new engine needed)",
                    OBJ_nid2sn(EVP_PKEY_get_base_id(key)), OBJ_nid2sn(EVP_PKEY_get_base_id(old)));
        return DTLSUDP_ERR_CONFIG;
    }
    /* SSL_CTX_use_cert_and_key() checks that the key matches and replaces
     * certificate, key and chain together (override = 1), so a refused
     * identity leaves the previous one in place. */
    if (SSL_CTX_use_cert_and_key(e->ctx, cert, key, chain, 1) != 1) {
        const char *why = ERR_reason_error_string(ERR_peek_last_error());
        eng_log(e, DTLSUDP_LOG_ERR, "identity refused: %s", why != NULL ? why : "refused by OpenSSL");
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
        if ((grown = eng_mem_alloc(e, cap * sizeof(*grown))) == NULL)
            return DTLSUDP_ERR_NOMEM;
        if (e->n_pins != 0)
            memcpy(grown, e->pins, e->n_pins * sizeof(*grown));
        eng_mem_free(e, e->pins);
        e->pins = grown;
        e->cap_pins = cap;
    }
    e->pins[e->n_pins++] = *fp;
    return DTLSUDP_OK;
}

void eng_set_timer_cb(dtlsudp_engine *e, DTLS_timer_cb cb)
{
    dtlsudp_link *l;

    e->timer_cb = cb;
    if (cb == NULL)
        cb = eng_rtx_timer_cb;
    if (e->listen_ssl != NULL)
        DTLS_set_timer_cb(e->listen_ssl, cb);
    for (l = e->hs_list.next; l != &e->hs_list; l = l->next)
        DTLS_set_timer_cb(ASSOC_OF(l)->ssl, cb);
    for (l = e->est_list.next; l != &e->est_list; l = l->next)
        if (ASSOC_OF(l)->ssl != NULL) /* none after the hand-off */
            DTLS_set_timer_cb(ASSOC_OF(l)->ssl, cb);
}

void eng_set_keep_buffers(dtlsudp_engine *e, int keep)
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
    return eng_abi_write(version, DTLSUDP_ABI_STATS, out, &now);
}

/* ------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------ */

static int is_own_hello(const dtlsudp_assoc *a, const uint8_t *dgram, size_t len)
{
    const uint8_t *random;
    uint8_t own[SSL3_RANDOM_SIZE];

    if (!eng_record_client_hello_random(dgram, len, &random))
        return 0;
    if (a->ssl == NULL) /* handed off: the random was kept */
        memcpy(own, a->client_random, sizeof(own));
    else if (SSL_get_client_random(a->ssl, own, sizeof(own)) != sizeof(own))
        return 0;
    return memcmp(own, random, sizeof(own)) == 0;
}

void eng_set_now(dtlsudp_engine *e, dtlsudp_time now)
{
    if (now > e->now)
        e->now = now;
}

int dtlsudp_engine_receive(dtlsudp_engine *e, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                           const uint8_t *dgram, size_t len, dtlsudp_time now, dtlsudp_assoc **assoc_out)
{
    eng_record first;
    dtlsudp_assoc *a;

    if (assoc_out != NULL)
        *assoc_out = NULL;
    if (e == NULL || peer == NULL || (dgram == NULL && len != 0))
        return DTLSUDP_ERR_INVALID;
    eng_set_now(e, now);
    e->stats.datagrams_in++;
    e->stats.bytes_in += len;
    if ((peer->sa.sa_family != AF_INET && peer->sa.sa_family != AF_INET6) ||
        eng_record_scan(dgram, len, &first) < 0) {
        e->stats.dropped_malformed++;
        return DTLSUDP_ERR_DROPPED;
    }

    if ((a = eng_table_find(e, peer)) != NULL) {
        if (!a->is_client && eng_record_is_client_hello(dgram, len, NULL)) {
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
                return eng_accept_hello(e, peer, local, dgram, len, a, assoc_out);
            if (target->state == DTLSUDP_STATE_ESTABLISHED) {
                e->stats.dropped_stale++;
                return DTLSUDP_ERR_DROPPED;
            }
            return eng_assoc_feed(e, target, dgram, len, &first, assoc_out);
        }
        if (a->successor != NULL &&
            (first.epoch == 0 || first.content_type == DTLSUDP_CT_HANDSHAKE ||
             first.content_type == DTLSUDP_CT_CHANGE_CIPHER_SPEC))
            /* Records of the restart handshake.  The old association has
             * no handshake left (renegotiation is off). */
            return eng_assoc_feed(e, a->successor, dgram, len, &first, assoc_out);
        return eng_assoc_feed(e, a, dgram, len, &first, assoc_out);
    }
    /* Without an identity there is no server role: a pure client (a
     * manager) answers nobody's ClientHello. */
    if (!eng_record_is_client_hello(dgram, len, NULL) || SSL_CTX_get0_certificate(e->ctx) == NULL) {
        e->stats.dropped_unknown++;
        return DTLSUDP_ERR_DROPPED;
    }
    return eng_accept_hello(e, peer, local, dgram, len, NULL, assoc_out);
}

static int copy_opts(dtlsudp_engine *e, dtlsudp_assoc *a, const dtlsudp_connect_opts *opts)
{
    if (opts == NULL)
        return DTLSUDP_OK;
    if (opts->n_peer_fingerprints > 0) {
        if (opts->peer_fingerprints == NULL || opts->n_peer_fingerprints > 1024)
            return DTLSUDP_ERR_INVALID;
        if ((a->pins = eng_mem_alloc(e, opts->n_peer_fingerprints * sizeof(*a->pins))) == NULL)
            return DTLSUDP_ERR_NOMEM;
        memcpy(a->pins, opts->peer_fingerprints, opts->n_peer_fingerprints * sizeof(*a->pins));
        a->n_pins = opts->n_peer_fingerprints;
    }
    if (opts->hostname != NULL) {
        size_t n = strlen(opts->hostname) + 1;
        if ((a->hostname = eng_mem_alloc(e, n)) == NULL)
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
    if (eng_abi_size(version, DTLSUDP_ABI_CONNECT_OPTS) == 0)
        return DTLSUDP_ERR_INVALID;
    if (opts_in != NULL) {
        memset(&opts_cur, 0, sizeof(opts_cur));
        eng_abi_read(version, DTLSUDP_ABI_CONNECT_OPTS, &opts_cur, opts_in);
        opts = &opts_cur;
    }
    eng_set_now(e, now);
    if (eng_table_find(e, peer) != NULL)
        return DTLSUDP_ERR_EXISTS;
    if (eng_admit_connect(e, peer) != DTLSUDP_OK) {
        e->stats.refused_full++;
        return DTLSUDP_ERR_LIMIT;
    }
    if ((a = eng_assoc_alloc(e, peer, opts != NULL ? opts->local : NULL, 1)) == NULL)
        return DTLSUDP_ERR_NOMEM;
    if ((ret = copy_opts(e, a, opts)) != DTLSUDP_OK)
        goto Fail;
    ret = DTLSUDP_ERR_NOMEM;
    if ((a->ssl = eng_ssl_new(e, &a->io)) == NULL)
        goto Fail;
    SSL_set_connect_state(a->ssl);
    if ((ret = eng_set_link_mtu(e, a->ssl, peer)) != DTLSUDP_OK)
        goto Fail;
    /* SNI for name-based servers; never for address literals (RFC 6066 3). */
    if (a->hostname != NULL && !is_ip_literal(a->hostname) && !SSL_set_tlsext_host_name(a->ssl, a->hostname)) {
        ret = DTLSUDP_ERR_NOMEM;
        goto Fail;
    }
    eng_assoc_start(e, a, 0);
    eng_table_insert(e, a);
    if (opts != NULL)
        eng_session_offer(e, a, opts->session, opts->session_len);
    ret = eng_assoc_feed(e, a, NULL, 0, NULL, NULL);
    if (dtlsudp_err_is_assoc_fatal(ret))
        return ret;
    if (out != NULL)
        *out = a;
    return DTLSUDP_OK;

Fail:
    ERR_clear_error();
    eng_mem_free(e, a->pins);
    eng_mem_free(e, a->hostname);
    SSL_free(a->ssl);
    eng_mem_free(e, a);
    return ret;
}

int dtlsudp_engine_pop(dtlsudp_engine *e, uint8_t *buf, size_t cap, size_t *len, dtlsudp_addr *peer,
                       dtlsudp_addr *local, dtlsudp_assoc **assoc)
{
    if (e == NULL || buf == NULL || len == NULL)
        return DTLSUDP_ERR_INVALID;
    return eng_outq_pop(&e->outq, buf, cap, len, peer, local, assoc);
}
