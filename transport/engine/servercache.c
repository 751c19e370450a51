/*
 * servercache.c - stateful session resumption, server side: a bounded
 * in-memory cache of sessions, found by the session id of RFC 5246 7.3,
 * as an alternative to the tickets of tickets.c.
 *
 * Why: a ticket carries the session, and OpenSSL decodes it, the client's
 * certificate included, for every resumed handshake before any callback
 * of ours runs.  A cached session is kept decoded: the abbreviated
 * handshake costs a hash lookup instead.
 *
 * What is cached: only what a full handshake that ended with an accepted
 * client certificate made (OpenSSL's new-session callback runs for full
 * handshakes only, after the server's Finished), with the rest of the
 * client's authenticated chain and the engine time of that handshake.
 * Nothing is written anywhere: a restart forgets every session, and the
 * client then runs a full handshake.
 *
 * Identity is never weaker than a full handshake's now: the lookup
 * callback is the last point where the server can still choose a full
 * handshake (RFC 5246 7.3: the server may always start a new session),
 * and it applies to the cached certificate what tickets.c applies to a
 * ticket's: the time bound (ticket_lifetime since the full handshake) and
 * eng_verify_stored() (current trust store and CRLs, pins, the hook with
 * auth->resumed).  A session that fails either is not resumed: the
 * handshake goes on in full.  That verification skips only the signature
 * checks of a chain identical to the one checked at the full handshake
 * (the signature memo of verify.c); it builds the chain from the current
 * store and checks CRLs, purpose and validity as a full handshake does.
 * An expired session is dropped; a refused one stays until it expires or
 * is evicted (see below: an offer alone must not remove anything).
 *
 * The lookup hands OpenSSL a copy (SSL_SESSION_dup), never the cached
 * object: a session id travels in clear, and whoever offers it without
 * the master secret fails the handshake, which has OpenSSL mark its
 * session not resumable.  That must not cost the real owner its session.
 * Only an association that reached ESTABLISHED, so proved the master
 * secret, can invalidate the cached entry: a fatal alert it sends or
 * receives (RFC 5246 7.2.2: the session id MUST be forgotten), or its
 * admission being refused.
 *
 * The OpenSSL cache itself stays off (SSL_SESS_CACHE_NO_INTERNAL): its
 * lookup would resume before we could check anything.  Server SSLs of an
 * engine with a cache send no tickets (with a ticket OpenSSL sends an
 * empty session id, and there would be nothing to find).
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "engine_internal.h"

#define MAX_BUCKETS ((size_t)1 << 17)

typedef struct eng_cached {
    dtlsudp_link lru;        /* e->scache.lru, least recently used first */
    struct eng_cached *next; /* bucket chain */
    SSL_SESSION *sess;       /* holds the client's leaf */
    STACK_OF(X509) *rest;    /* authenticated chain after the leaf, no anchor */
    STACK_OF(X509) *sig_memo; /* the chain whose signatures were checked, or NULL (verify.c) */
    dtlsudp_time authenticated; /* engine time of the full handshake */
    unsigned id_len;
    unsigned char id[SSL_MAX_SSL_SESSION_ID_LENGTH];
} eng_cached;

#define CACHED_OF(l) DTLSUDP_LINK_OWNER(l, eng_cached, lru)

static size_t bucket_of(const dtlsudp_engine *e, const unsigned char *id, unsigned len)
{
    uint64_t h = e->hash_seed;
    unsigned i;

    /* Ids are OpenSSL's random bytes; the seed keeps a peer's chosen ids
     * from all landing in one chain of the lookup. */
    for (i = 0; i < len; i++)
        h = (h ^ id[i]) * 0x100000001b3ull;
    return (size_t)(h ^ (h >> 29)) & e->scache.mask;
}

static eng_cached **slot_of(dtlsudp_engine *e, const unsigned char *id, unsigned len)
{
    eng_cached **p = &e->scache.buckets[bucket_of(e, id, len)];

    while (*p != NULL && ((*p)->id_len != len || memcmp((*p)->id, id, len) != 0))
        p = &(*p)->next;
    return p;
}

static void entry_free(dtlsudp_engine *e, eng_cached *c)
{
    SSL_SESSION_free(c->sess);
    sk_X509_pop_free(c->rest, X509_free);
    sk_X509_pop_free(c->sig_memo, X509_free);
    eng_mem_free(e, c);
}

/* Unlink from its bucket and the LRU list, and free. */
static void entry_drop(dtlsudp_engine *e, eng_cached *c)
{
    eng_cached **p = slot_of(e, c->id, c->id_len);

    if (*p == c)
        *p = c->next;
    dtlsudp_link_remove(&c->lru);
    e->scache.count--;
    entry_free(e, c);
}

static STACK_OF(X509) *rest_of_chain(const dtlsudp_assoc *a)
{
    STACK_OF(X509) *rest = sk_X509_new_null();
    int i, n = sk_X509_num(a->auth_chain);

    if (rest == NULL)
        return NULL;
    if (a->auth_trust == DTLSUDP_TRUST_CHAIN && n > 1)
        n--; /* the anchor: the trust store has it, or the peer is refused anyway */
    for (i = 1; i < n; i++) {
        X509 *c = sk_X509_value(a->auth_chain, i);
        if (!sk_X509_push(rest, c)) {
            sk_X509_pop_free(rest, X509_free);
            return NULL;
        }
        X509_up_ref(c);
    }
    return rest;
}

static int expired(const dtlsudp_engine *e, const eng_cached *c)
{
    return c->authenticated > e->now || e->now - c->authenticated >= e->cfg.ticket_lifetime;
}

/* Expired entries at the cold end of the LRU list go before anything is
 * evicted for space.  (One still in use further on is dropped when it is
 * looked up.) */
static void drop_expired_head(dtlsudp_engine *e)
{
    while (!dtlsudp_link_empty(&e->scache.lru)) {
        eng_cached *c = CACHED_OF(dtlsudp_link_first(&e->scache.lru));
        if (!expired(e, c))
            break;
        entry_drop(e, c);
    }
}

/* OpenSSL's new-session callback: a full handshake of a server SSL has
 * completed.  Returns 1 when the reference is kept. */
static int new_cb(SSL *ssl, SSL_SESSION *sess)
{
    eng_io *io = eng_ssl_io(ssl);
    dtlsudp_engine *e = io != NULL ? io->e : NULL;
    dtlsudp_assoc *a = io != NULL ? io->a : NULL;
    unsigned len = 0;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);
    eng_cached *c, **slot;

    if (e == NULL || a == NULL || a->is_client || e->scache.max == 0 || a->auth_chain == NULL ||
        SSL_SESSION_get0_peer(sess) == NULL || len == 0 || len > sizeof(c->id))
        return 0;
    if (*(slot = slot_of(e, id, len)) != NULL)
        return 0; /* OpenSSL's ids are random: a repeat is not worth keeping */
    if ((c = eng_mem_alloc(e, sizeof(*c))) == NULL)
        return 0;
    memset(c, 0, sizeof(*c));
    if ((c->rest = rest_of_chain(a)) == NULL) {
        eng_mem_free(e, c);
        ERR_clear_error();
        return 0;
    }
    c->sig_memo = eng_verify_sig_memo(a); /* NULL: the resumption checks signatures again */
    c->sess = sess;
    c->authenticated = e->now;
    c->id_len = len;
    memcpy(c->id, id, len);
    drop_expired_head(e);
    if (e->scache.count >= e->scache.max) /* the least recently used goes */
        entry_drop(e, CACHED_OF(dtlsudp_link_first(&e->scache.lru)));
    slot = slot_of(e, id, len);
    *slot = c;
    dtlsudp_link_append(&e->scache.lru, &c->lru);
    e->scache.count++;
    return 1;
}

static SSL_SESSION *refuse(dtlsudp_engine *e, dtlsudp_assoc *a, eng_cached *c, const char *why)
{
    if (c != NULL)
        entry_drop(e, c);
    e->stats.tickets_refused++;
    eng_log(e, DTLSUDP_LOG_INFO, "assoc %llu: cached session not resumed (%s): full handshake",
            (unsigned long long)a->id, why);
    return NULL;
}

/* OpenSSL's lookup callback, for a ClientHello offering a session id: the
 * session to resume (a reference for OpenSSL: *copy), or NULL for a full
 * handshake. */
static SSL_SESSION *get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    eng_io *io = eng_ssl_io(ssl);
    dtlsudp_engine *e = io != NULL ? io->e : NULL;
    dtlsudp_assoc *a = io != NULL ? io->a : NULL;
    eng_cached *c;
    SSL_SESSION *copy_of;

    *copy = 0;
    if (e == NULL || a == NULL || e->scache.max == 0 || len <= 0 || len > SSL_MAX_SSL_SESSION_ID_LENGTH)
        return NULL;
    if ((c = *slot_of(e, id, (unsigned)len)) == NULL)
        return refuse(e, a, NULL, "unknown session id");
    if (!SSL_SESSION_is_resumable(c->sess))
        return refuse(e, a, c, "no longer resumable");
    if (expired(e, c))
        return refuse(e, a, c, "expired");
    /* A refusal here is about this offer (the hook sees this association,
     * and verification can fail for want of memory): whoever offered a
     * copied id must not get the entry dropped.  A session that stays
     * refused is checked again at each offer until it expires or is
     * evicted. */
    if (!eng_verify_stored(e, a, SSL_SESSION_get0_peer(c->sess), c->rest, c->sig_memo))
        return refuse(e, a, NULL, "the certificate is no longer accepted");
    /* Whether it was resumed is known at ESTABLISHED (session.c); the
     * entry is kept as it is until then (see the top of this file). */
    a->ticket_issued = c->authenticated;
    if ((copy_of = SSL_SESSION_dup(c->sess)) == NULL) {
        ERR_clear_error();
        return refuse(e, a, NULL, "out of memory");
    }
    return copy_of; /* OpenSSL takes this reference: *copy stays 0 */
}

static eng_cached *entry_of(dtlsudp_engine *e, const dtlsudp_assoc *a)
{
    return a->sid_len == 0 || e->scache.buckets == NULL ? NULL : *slot_of(e, a->sid, a->sid_len);
}

void eng_scache_on_established(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    const SSL_SESSION *sess;
    const unsigned char *id;
    unsigned len = 0;
    eng_cached *c;

    if (a->is_client || e->scache.max == 0 || a->ssl == NULL || (sess = SSL_get_session(a->ssl)) == NULL)
        return;
    id = SSL_SESSION_get_id(sess, &len);
    if (len == 0 || len > sizeof(a->sid))
        return;
    memcpy(a->sid, id, len);
    a->sid_len = (unsigned char)len;
    if (a->resumed && (c = entry_of(e, a)) != NULL) {
        dtlsudp_link_remove(&c->lru);
        dtlsudp_link_append(&e->scache.lru, &c->lru);
    }
}

void eng_scache_forget(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    eng_cached *c = entry_of(e, a);

    a->sid_len = 0;
    if (c == NULL)
        return;
    entry_drop(e, c);
    eng_log(e, DTLSUDP_LOG_INFO, "assoc %llu: its cached session is forgotten (fatal alert or refusal)",
            (unsigned long long)a->id);
}

void eng_scache_on_destroy(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    const SSL_SESSION *sess;

    if (a->sid_len == 0)
        return;
    sess = a->ssl != NULL ? SSL_get_session(a->ssl) : NULL;
    if (a->alert_received || a->fatal_sent || (sess != NULL && !SSL_SESSION_is_resumable(sess)))
        eng_scache_forget(e, a);
}

void eng_scache_init(dtlsudp_engine *e)
{
    memset(&e->scache, 0, sizeof(e->scache));
    dtlsudp_link_init(&e->scache.lru);
}

void eng_scache_dispose(dtlsudp_engine *e)
{
    while (!dtlsudp_link_empty(&e->scache.lru))
        entry_drop(e, CACHED_OF(dtlsudp_link_first(&e->scache.lru)));
    eng_mem_free(e, e->scache.buckets);
    e->scache.buckets = NULL;
    e->scache.max = 0;
    e->scache.mask = 0;
}

void eng_scache_prepare_server_ssl(dtlsudp_engine *e, SSL *ssl)
{
    if (e->scache.max > 0)
        SSL_set_options(ssl, SSL_OP_NO_TICKET);
}

int dtlsudp_engine_set_session_cache(dtlsudp_engine *e, size_t max_sessions)
{
    size_t n = 64;

    if (e == NULL)
        return DTLSUDP_ERR_INVALID;
    eng_scache_dispose(e);
    if (e->listen_ssl != NULL) { /* made before: it must follow the new mode */
        SSL_free(e->listen_ssl);
        e->listen_ssl = NULL;
    }
    if (max_sessions == 0 || !e->cfg.session_tickets) {
        SSL_CTX_set_session_cache_mode(e->ctx, SSL_SESS_CACHE_OFF);
        return DTLSUDP_OK;
    }
    while (n < max_sessions && n < MAX_BUCKETS)
        n <<= 1;
    if ((e->scache.buckets = eng_mem_alloc(e, n * sizeof(*e->scache.buckets))) == NULL)
        return DTLSUDP_ERR_NOMEM;
    memset(e->scache.buckets, 0, n * sizeof(*e->scache.buckets));
    e->scache.mask = n - 1;
    e->scache.max = max_sessions;
    SSL_CTX_set_session_cache_mode(e->ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL |
                                               SSL_SESS_CACHE_NO_AUTO_CLEAR);
    SSL_CTX_sess_set_new_cb(e->ctx, new_cb);
    SSL_CTX_sess_set_get_cb(e->ctx, get_cb);
    return DTLSUDP_OK;
}
