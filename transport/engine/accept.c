/*
 * accept.c - the server's accept path: a ClientHello from a peer without
 * an association (or a peer restart, RFC 6347 4.2.8) through the cookie
 * gate, the ended-hello and admission checks, to a new association.
 *
 * No per-peer state exists before a ClientHello carries a valid cookie
 * (RFC 6347 4.2.1): every cookie exchange runs on one shared listen SSL,
 * which becomes the association's SSL once the cookie verifies.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "engine_internal.h"
#include "record.h"

static int ensure_listen(dtlsudp_engine *e)
{
    if (e->listen_ssl != NULL)
        return DTLSUDP_OK;
    e->listen_io.e = e;
    e->listen_io.a = NULL;
    e->listen_io.peer = &e->listen_peer;
    e->listen_io.local = &e->listen_local;
    if ((e->listen_ssl = eng_ssl_new(e, &e->listen_io)) == NULL)
        return DTLSUDP_ERR_NOMEM;
    SSL_set_accept_state(e->listen_ssl);
    return DTLSUDP_OK;
}

int eng_accept_hello(dtlsudp_engine *e, const dtlsudp_addr *peer, const dtlsudp_addr *local,
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
    if (eng_ended_check(e, peer, local, dgram, len) != DTLSUDP_OK)
        return DTLSUDP_ERR_DROPPED;
    /* The peer receives at its address.  Only now may it cost us memory,
     * and only within the caps. */
    if (eng_admit_half_open(e, peer) != DTLSUDP_OK) {
        e->stats.refused_full++; /* logged by admission, rate limited */
        return DTLSUDP_ERR_DROPPED;
    }
    if ((a = eng_assoc_alloc(e, peer, local, 0)) == NULL)
        return DTLSUDP_ERR_NOMEM;
    if ((fresh = eng_ssl_new(e, &e->listen_io)) == NULL) {
        eng_mem_free(e, a);
        ERR_clear_error();
        return DTLSUDP_ERR_NOMEM;
    }
    SSL_set_accept_state(fresh);
    /* The listen SSL becomes the association's; a fresh one listens. */
    a->ssl = e->listen_ssl;
    BIO_set_data(SSL_get_rbio(a->ssl), &a->io);
    e->listen_ssl = fresh;
    if (eng_set_link_mtu(e, a->ssl, peer) != DTLSUDP_OK) {
        SSL_free(a->ssl);
        eng_mem_free(e, a);
        return DTLSUDP_ERR_CONFIG;
    }
    eng_assoc_start(e, a, 1);
    {
        uint16_t seq;
        const uint8_t *random;
        if (eng_record_is_client_hello(dgram, len, &seq))
            a->peer_seq_max = seq; /* the hello our first flight answers */
        if (eng_record_client_hello_random(dgram, len, &random))
            memcpy(a->client_random, random, sizeof(a->client_random)); /* remembered when it ends */
    }
    if (predecessor != NULL) {
        if (predecessor->successor != NULL)
            eng_assoc_finish(e, predecessor->successor, DTLSUDP_ERR_REPLACED);
        predecessor->successor = a;
        a->predecessor = predecessor;
    } else {
        eng_table_insert(e, a);
    }
    eng_log(e, DTLSUDP_LOG_DEBUG, "assoc %llu: cookie verified, handshake started%s",
                (unsigned long long)a->id, predecessor != NULL ? " (peer restart)" : "");
    return eng_assoc_feed(e, a, NULL, 0, NULL, assoc_out);
}
