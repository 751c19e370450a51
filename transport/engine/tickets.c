/*
 * tickets.c - stateless session resumption, server side (RFC 5077 session
 * tickets for the abbreviated handshake of RFC 5246 7.3, over DTLS as RFC
 * 6347 4.2 allows).
 *
 * The server keeps no per-session state: the session (master secret,
 * cipher suite, the client's certificate) travels in a ticket sealed with
 * AES-256-CBC and HMAC-SHA256 under a key that lives only in memory.  Like
 * the cookie secret, the key rotates every ticket_lifetime on the engine's
 * clock and the previous one still opens tickets for one more period (a
 * ticket it opens is renewed under the current key); a restart forgets
 * both, so every older ticket gets a full handshake.
 *
 * A ticket is also bound to time and to identity, checked once it is
 * opened (decrypt_cb), which is the last moment the server can still
 * choose a full handshake (RFC 5077 3.1: the server "ignores" a ticket it
 * does not accept):
 *   - it carries the engine time of the full handshake that made the
 *     session; a renewed ticket keeps it, so a session is resumed for at
 *     most ticket_lifetime after the peer last authenticated in full;
 *   - it carries the rest of the client's authenticated chain (OpenSSL
 *     keeps only the leaf in a ticket), and the whole decision of verify.c
 *     runs again against the current trust store, CRLs, pins and the
 *     application's hook (eng_verify_stored()).  RFC 6353 5.3.2 makes
 *     the client's certificate the source of the tmSecurityName: a
 *     revocation or a changed mapping must take effect at the next
 *     handshake, abbreviated or not.
 * A ticket that fails any of this is ignored, and the handshake goes on
 * in full (and verifies the certificate the client then sends).
 */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "engine_internal.h"

/* The ClientHello that carries a ticket must fit one datagram: OpenSSL's
 * DTLSv1_listen() drops a fragmented ClientHello, so a client holding a
 * larger ticket could never connect.  What the rest of our ClientHello
 * takes (record and handshake headers, random, cookie, cipher suites,
 * extensions) stays well below this; a session whose ticket would not fit
 * gets no ticket (the client then runs full handshakes, as before). */
#define CLIENT_HELLO_WITHOUT_TICKET 400
#define TICKET_OVERHEAD (DTLSUDP_TICKET_KEY_NAME_LEN + 16 + 16 + 32) /* name, IV, padding, MAC */
#define ISSUED_LEN 8

static int new_key(dtlsudp_engine *e, struct eng_ticket_key *k)
{
    int ret;

    if ((ret = eng_random(e, k->name, sizeof(k->name))) != DTLSUDP_OK ||
        (ret = eng_random(e, k->aes, sizeof(k->aes))) != DTLSUDP_OK ||
        (ret = eng_random(e, k->hmac, sizeof(k->hmac))) != DTLSUDP_OK)
        return ret;
    k->valid = 1;
    return DTLSUDP_OK;
}

int eng_tickets_init(dtlsudp_engine *e)
{
    memset(e->ticket_keys, 0, sizeof(e->ticket_keys));
    e->ticket_rotate_at = DTLSUDP_TIME_NEVER;
    if (!e->cfg.session_tickets)
        return DTLSUDP_OK;
    e->ticket_rotate_at = e->now + e->cfg.ticket_lifetime;
    return new_key(e, &e->ticket_keys[0]);
}

int eng_tickets_rotate(dtlsudp_engine *e)
{
    struct eng_ticket_key fresh;
    int ret;

    if ((ret = new_key(e, &fresh)) != DTLSUDP_OK)
        return ret;
    e->ticket_keys[1] = e->ticket_keys[0];
    e->ticket_keys[0] = fresh;
    OPENSSL_cleanse(&fresh, sizeof(fresh));
    e->ticket_rotate_at = e->now + e->cfg.ticket_lifetime;
    return DTLSUDP_OK;
}

void eng_tickets_dispose(dtlsudp_engine *e)
{
    OPENSSL_cleanse(e->ticket_keys, sizeof(e->ticket_keys));
}

static dtlsudp_engine *engine_of(SSL *ssl, dtlsudp_assoc **a)
{
    eng_io *io = eng_ssl_io(ssl);

    *a = io != NULL ? io->a : NULL;
    return io != NULL ? io->e : NULL;
}

static int set_mac_key(EVP_MAC_CTX *hctx, uint8_t *key)
{
    OSSL_PARAM params[3];

    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key, 32);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    return EVP_MAC_CTX_set_params(hctx, params) == 1;
}

static int ticket_fits(dtlsudp_engine *e, dtlsudp_assoc *a, SSL *ssl)
{
    int session_len = i2d_SSL_SESSION(SSL_get_session(ssl), NULL);
    unsigned mtu = a->peer.sa.sa_family == AF_INET6 ? e->cfg.mtu_ipv6 : e->cfg.mtu_ipv4;
    unsigned overhead = a->peer.sa.sa_family == AF_INET6 ? DTLSUDP_IPV6_OVERHEAD : DTLSUDP_IPV4_OVERHEAD;

    return session_len > 0 && (size_t)session_len + TICKET_OVERHEAD + CLIENT_HELLO_WITHOUT_TICKET + overhead <= mtu;
}

/* OpenSSL's key callback: 1 sealed/opened with the current key, 2 opened
 * with the previous one (renew), 0 no ticket / unknown key (full
 * handshake), -1 error. */
static int key_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx,
                  int enc)
{
    dtlsudp_assoc *a;
    dtlsudp_engine *e = engine_of(ssl, &a);
    int i;

    if (e == NULL || a == NULL)
        return enc ? 0 : -1;
    if (enc) {
        struct eng_ticket_key *k = &e->ticket_keys[0];
        if (!k->valid || !ticket_fits(e, a, ssl))
            return 0;
        if (RAND_bytes(iv, 16) != 1)
            return -1;
        memcpy(name, k->name, sizeof(k->name));
        if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv) != 1 || !set_mac_key(hctx, k->hmac))
            return -1;
        e->stats.tickets_issued++;
        return 1;
    }
    for (i = 0; i < 2; i++) {
        struct eng_ticket_key *k = &e->ticket_keys[i];
        if (!k->valid || CRYPTO_memcmp(name, k->name, sizeof(k->name)) != 0)
            continue;
        if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv) != 1 || !set_mac_key(hctx, k->hmac))
            return -1;
        return i == 0 ? 1 : 2;
    }
    return 0;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

size_t eng_chain_encode(const dtlsudp_assoc *a, uint8_t *buf, size_t cap)
{
    int i, n = sk_X509_num(a->auth_chain);
    size_t used = 2;
    unsigned count = 0;

    if (a->auth_trust == DTLSUDP_TRUST_CHAIN && n > 1)
        n--; /* the trust anchor: the trust store has it, or the peer is refused anyway */
    if (cap < 2)
        return 0;
    for (i = 1; i < n; i++) {
        X509 *c = sk_X509_value(a->auth_chain, i);
        int len = i2d_X509(c, NULL);
        unsigned char *p = buf + used + 2;
        if (len <= 0 || len > 0xffff || used + 2 + (size_t)len > cap || i2d_X509(c, &p) != len)
            return 0;
        buf[used] = (uint8_t)(len >> 8);
        buf[used + 1] = (uint8_t)len;
        used += 2 + (size_t)len;
        count++;
    }
    buf[0] = (uint8_t)(count >> 8);
    buf[1] = (uint8_t)count;
    return used;
}

STACK_OF(X509) *eng_chain_decode(const uint8_t *buf, size_t len, size_t *used)
{
    STACK_OF(X509) *sk;
    size_t off = 2;
    unsigned i, count;

    if (len < 2 || (sk = sk_X509_new_null()) == NULL)
        return NULL;
    count = (unsigned)buf[0] << 8 | buf[1];
    for (i = 0; i < count; i++) {
        const unsigned char *p;
        size_t clen;
        X509 *c;
        if (off + 2 > len)
            goto Fail;
        clen = (size_t)buf[off] << 8 | buf[off + 1];
        off += 2;
        if (clen > len - off)
            goto Fail;
        p = buf + off;
        if ((c = d2i_X509(NULL, &p, (long)clen)) == NULL || p != buf + off + clen || !sk_X509_push(sk, c)) {
            X509_free(c);
            goto Fail;
        }
        off += clen;
    }
    if (used != NULL)
        *used = off;
    return sk;
Fail:
    sk_X509_pop_free(sk, X509_free);
    ERR_clear_error();
    return NULL;
}

/* Runs before each ticket is sealed: the ticket's own data (RFC 5077
 * leaves its content to the server) is the time of the full handshake and
 * the client's chain beyond the leaf. */
static int generate_cb(SSL *ssl, void *arg)
{
    dtlsudp_engine *e = arg;
    dtlsudp_assoc *a;
    uint8_t data[ISSUED_LEN + 4096];
    size_t chain_len;

    (void)engine_of(ssl, &a);
    if (a == NULL || a->auth_chain == NULL)
        return 1; /* no identity to carry: key_cb finds no room either way */
    /* What OpenSSL decided (a decrypt callback may have accepted a ticket
     * that OpenSSL then did not resume). */
    put_u64(data, SSL_session_reused(ssl) ? a->ticket_issued : e->now);
    if ((chain_len = eng_chain_encode(a, data + ISSUED_LEN, sizeof(data) - ISSUED_LEN)) == 0)
        chain_len = 0; /* too long to carry: the ticket then fails the check below */
    return SSL_SESSION_set1_ticket_appdata(SSL_get_session(ssl), data, ISSUED_LEN + chain_len);
}

static SSL_TICKET_RETURN refuse(dtlsudp_engine *e, dtlsudp_assoc *a, const char *why)
{
    e->stats.tickets_refused++;
    eng_log(e, DTLSUDP_LOG_INFO, "assoc %llu: session ticket not accepted (%s): full handshake",
                (unsigned long long)a->id, why);
    return SSL_TICKET_RETURN_IGNORE_RENEW;
}

static SSL_TICKET_RETURN decrypt_cb(SSL *ssl, SSL_SESSION *ss, const unsigned char *name, size_t name_len,
                                    SSL_TICKET_STATUS status, void *arg)
{
    dtlsudp_engine *e = arg;
    dtlsudp_assoc *a;
    STACK_OF(X509) *rest;
    void *data = NULL;
    size_t len = 0;
    X509 *leaf;
    uint64_t issued;
    int ok;

    (void)name;
    (void)name_len;
    (void)engine_of(ssl, &a);
    if (a == NULL)
        return SSL_TICKET_RETURN_IGNORE;
    switch (status) {
    case SSL_TICKET_SUCCESS:
    case SSL_TICKET_SUCCESS_RENEW:
        break;
    case SSL_TICKET_NO_DECRYPT:
        return refuse(e, a, "unknown key or tampered");
    case SSL_TICKET_NONE:
    case SSL_TICKET_EMPTY:
        return SSL_TICKET_RETURN_IGNORE_RENEW; /* none offered: issue one */
    default:
        return refuse(e, a, "cannot be opened");
    }
    if (ss == NULL || !SSL_SESSION_get0_ticket_appdata(ss, &data, &len) || len < ISSUED_LEN)
        return refuse(e, a, "no identity data");
    issued = get_u64(data);
    if (issued > e->now || e->now - issued >= e->cfg.ticket_lifetime)
        return refuse(e, a, "expired");
    if ((leaf = SSL_SESSION_get0_peer(ss)) == NULL)
        return refuse(e, a, "no client certificate");
    if ((rest = eng_chain_decode((const uint8_t *)data + ISSUED_LEN, len - ISSUED_LEN, NULL)) == NULL)
        return refuse(e, a, "malformed identity data");
    ok = eng_verify_stored(e, a, leaf, rest, NULL);
    sk_X509_pop_free(rest, X509_free);
    if (!ok)
        return refuse(e, a, "the certificate is no longer accepted");
    a->resumed = 1;
    a->ticket_issued = issued;
    return status == SSL_TICKET_SUCCESS_RENEW ? SSL_TICKET_RETURN_USE_RENEW : SSL_TICKET_RETURN_USE;
}

void eng_tickets_install(dtlsudp_engine *e)
{
    unsigned long secs = (unsigned long)(e->cfg.ticket_lifetime / 1000u);

    /* OpenSSL refuses to resume without a session id context when peers
     * are verified; sessions are bound to this engine by its keys. */
    (void)SSL_CTX_set_session_id_context(e->ctx, (const unsigned char *)"dtlsudp", 7);
    if (!e->cfg.session_tickets)
        return;
    SSL_CTX_clear_options(e->ctx, SSL_OP_NO_TICKET);
    /* OpenSSL's own bound (wall clock, and the lifetime hint it sends):
     * never shorter than ours, which the engine's clock enforces. */
    (void)SSL_CTX_set_timeout(e->ctx, (long)(secs + 1));
    SSL_CTX_set_tlsext_ticket_key_evp_cb(e->ctx, key_cb);
    SSL_CTX_set_session_ticket_cb(e->ctx, generate_cb, decrypt_cb, e);
}
