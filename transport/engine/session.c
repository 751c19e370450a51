/*
 * session.c - session resumption, client side.
 *
 * At ESTABLISHED a client with session_tickets keeps its SSL_SESSION (the
 * NewSessionTicket of DTLS 1.2 arrives before the server's Finished, so
 * the ticket is there; a server with a session cache names the session
 * with a session id instead), so it survives whatever later happens to
 * the SSL.
 * dtlsudp_assoc_session() serializes it with what a later connect needs to
 * decide whether it may be offered at all:
 *
 *   "DUS1" | SHA-256 of our own certificate (32) |
 *   chain (eng_chain_encode: the server's authenticated chain after
 *   the leaf) | u32 length | i2d_SSL_SESSION (holds the server's leaf)
 *
 * A session is offered only by the engine whose certificate made it (an
 * abbreviated handshake authenticates us by the certificate of the
 * original one: a different localCert must run in full), and only when
 * the server certificate it holds still passes this connect's pins, host
 * name, trust store and hook (eng_verify_stored(), RFC 6353 5.3.1).
 * The server cannot swap identities in an abbreviated handshake: only the
 * holder of the session's master secret completes it.
 */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "engine_internal.h"

#define MAGIC "DUS1"
#define MAGIC_LEN 4
#define OWN_LEN 32
#define MAX_SESSION_BLOB (16u * 1024u)

void eng_session_on_established(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    /* What OpenSSL did, not what a lookup callback expected: it may still
     * have chosen a full handshake after accepting a ticket or id. */
    a->resumed = SSL_session_reused(a->ssl) ? 1 : 0;
    if (a->resumed)
        e->stats.handshakes_resumed++;
    if (!a->is_client || !e->cfg.session_tickets)
        return;
    SSL_SESSION_free(a->session);
    a->session = SSL_get1_session(a->ssl);
}

/* The server can find the session again: it issued a ticket, or (a
 * server with a session cache) it named the session with an id. */
static int resumable_by_server(const SSL_SESSION *sess)
{
    unsigned id_len = 0;

    (void)SSL_SESSION_get_id(sess, &id_len);
    return SSL_SESSION_has_ticket(sess) || id_len > 0;
}

/* SHA-256 of the engine's own certificate: the installed one, or, before
 * the identity on demand is installed, the one its caller declared
 * (identity_sha256); zeros without either. */
static void own_identity(dtlsudp_engine *e, uint8_t out[OWN_LEN])
{
    X509 *own = SSL_CTX_get0_certificate(e->ctx);
    unsigned n = OWN_LEN;

    _Static_assert(sizeof(e->cfg.identity_sha256) == OWN_LEN, "own identity: SHA-256");
    memset(out, 0, OWN_LEN);
    if (own == NULL && e->identity_on_demand)
        memcpy(out, e->cfg.identity_sha256, OWN_LEN);
    else if (own != NULL && X509_digest(own, EVP_sha256(), out, &n) != 1)
        memset(out, 0, OWN_LEN);
}

int dtlsudp_assoc_session(const dtlsudp_assoc *a, uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t tmp[MAX_SESSION_BLOB], *p;
    size_t used = MAGIC_LEN + OWN_LEN, chain_len;
    int slen;

    if (a == NULL || len == NULL || (buf == NULL && cap > 0))
        return DTLSUDP_ERR_INVALID;
    if (!a->is_client || a->session == NULL || a->auth_chain == NULL || !resumable_by_server(a->session) ||
        !SSL_SESSION_is_resumable(a->session))
        return DTLSUDP_ERR_AGAIN;
    memcpy(tmp, MAGIC, MAGIC_LEN);
    own_identity(a->e, tmp + MAGIC_LEN);
    if ((chain_len = eng_chain_encode(a, tmp + used, sizeof(tmp) - used - 4)) == 0)
        return DTLSUDP_ERR_NOMEM;
    used += chain_len;
    slen = i2d_SSL_SESSION(a->session, NULL);
    if (slen <= 0 || (size_t)slen > sizeof(tmp) - used - 4)
        return DTLSUDP_ERR_NOMEM;
    tmp[used++] = (uint8_t)(slen >> 24);
    tmp[used++] = (uint8_t)(slen >> 16);
    tmp[used++] = (uint8_t)(slen >> 8);
    tmp[used++] = (uint8_t)slen;
    p = tmp + used;
    if (i2d_SSL_SESSION(a->session, &p) != slen) {
        OPENSSL_cleanse(tmp, sizeof(tmp));
        return DTLSUDP_ERR_NOMEM;
    }
    used += (size_t)slen;
    *len = used;
    if (cap < used) {
        OPENSSL_cleanse(tmp, sizeof(tmp));
        return DTLSUDP_ERR_BUFFER;
    }
    memcpy(buf, tmp, used);
    OPENSSL_cleanse(tmp, sizeof(tmp)); /* the master secret */
    return DTLSUDP_OK;
}

static const char *try_offer(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *blob, size_t len)
{
    uint8_t own[OWN_LEN];
    STACK_OF(X509) *rest = NULL;
    SSL_SESSION *sess = NULL;
    const unsigned char *p;
    const char *why = NULL;
    size_t off = MAGIC_LEN + OWN_LEN, used = 0, slen;

    if (len < off + 2 + 4 || len > MAX_SESSION_BLOB || memcmp(blob, MAGIC, MAGIC_LEN) != 0)
        return "malformed";
    own_identity(e, own);
    if (memcmp(blob + MAGIC_LEN, own, OWN_LEN) != 0)
        return "made with a different certificate of ours";
    if ((rest = eng_chain_decode(blob + off, len - off, &used)) == NULL)
        return "malformed";
    off += used;
    if (len - off < 4) {
        why = "malformed";
        goto Done;
    }
    slen = (size_t)blob[off] << 24 | (size_t)blob[off + 1] << 16 | (size_t)blob[off + 2] << 8 | blob[off + 3];
    off += 4;
    p = blob + off;
    if (slen != len - off || (sess = d2i_SSL_SESSION(NULL, &p, (long)slen)) == NULL || p != blob + len) {
        why = "malformed";
        goto Done;
    }
    if (SSL_SESSION_get_protocol_version(sess) != DTLS1_2_VERSION || !resumable_by_server(sess) ||
        SSL_SESSION_get0_peer(sess) == NULL) {
        why = "not a DTLS 1.2 session with a ticket or a session id";
        goto Done;
    }
    if (!eng_verify_stored(e, a, SSL_SESSION_get0_peer(sess), rest, NULL)) {
        why = "the server certificate is no longer accepted";
        goto Done;
    }
    if (SSL_set_session(a->ssl, sess) != 1)
        why = "refused by OpenSSL";
Done:
    sk_X509_pop_free(rest, X509_free);
    SSL_SESSION_free(sess);
    ERR_clear_error();
    return why;
}

void eng_session_offer(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *blob, size_t len)
{
    const char *why;

    if (blob == NULL || len == 0 || !e->cfg.session_tickets)
        return; /* SSL_OP_NO_TICKET: OpenSSL would not send it */
    if ((why = try_offer(e, a, blob, len)) == NULL)
        return;
    /* Not offered: the handshake verifies the server in full. */
    sk_X509_pop_free(a->auth_chain, X509_free);
    a->auth_chain = NULL;
    a->auth_trust = DTLSUDP_TRUST_NONE;
    e->stats.tickets_refused++;
    eng_log(e, DTLSUDP_LOG_INFO, "assoc %llu: stored session not offered (%s): full handshake",
                (unsigned long long)a->id, why);
}
