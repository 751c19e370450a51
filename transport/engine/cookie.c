/*
 * cookie.c - stateless DTLS cookies (RFC 6347 4.2.1).
 *
 * cookie = HMAC-SHA256(secret, family || address || port || scope id).
 * The secret comes from the injected random source and rotates every
 * cookie_rotation ms; the previous secret stays valid for one more period
 * so a HelloVerifyRequest sent just before a rotation still works.  The
 * peer address is the engine's (listen_peer): DTLSv1_listen() on a memory
 * BIO cannot tell us who sent the ClientHello.
 */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "engine_internal.h"

int eng_cookie_init(dtlsudp_engine *e)
{
    int ret;

    if ((ret = eng_random(e, e->cookie_secret[0], DTLSUDP_COOKIE_SECRET_LEN)) != DTLSUDP_OK)
        return ret;
    memcpy(e->cookie_secret[1], e->cookie_secret[0], DTLSUDP_COOKIE_SECRET_LEN);
    e->cookie_rotate_at = e->now + e->cfg.cookie_rotation;
    return DTLSUDP_OK;
}

int eng_cookie_rotate(dtlsudp_engine *e)
{
    uint8_t fresh[DTLSUDP_COOKIE_SECRET_LEN];
    int ret;

    if ((ret = eng_random(e, fresh, sizeof(fresh))) != DTLSUDP_OK)
        return ret;
    memcpy(e->cookie_secret[1], e->cookie_secret[0], DTLSUDP_COOKIE_SECRET_LEN);
    memcpy(e->cookie_secret[0], fresh, DTLSUDP_COOKIE_SECRET_LEN);
    OPENSSL_cleanse(fresh, sizeof(fresh));
    e->cookie_rotate_at = e->now + e->cfg.cookie_rotation;
    return DTLSUDP_OK;
}

static int compute(const uint8_t *secret, const dtlsudp_addr *peer, uint8_t *out, unsigned *outlen)
{
    uint8_t msg[2 + 16 + 2 + 4];
    size_t n = 0;

    memset(msg, 0, sizeof(msg));
    msg[n++] = (uint8_t)(peer->sa.sa_family >> 8);
    msg[n++] = (uint8_t)peer->sa.sa_family;
    if (peer->sa.sa_family == AF_INET6) {
        memcpy(msg + n, &peer->sin6.sin6_addr, 16);
        n += 16;
        memcpy(msg + n, &peer->sin6.sin6_port, 2);
        n += 2;
        memcpy(msg + n, &peer->sin6.sin6_scope_id, 4);
        n += 4;
    } else {
        memcpy(msg + n, &peer->sin.sin_addr, 4);
        n += 4;
        memcpy(msg + n, &peer->sin.sin_port, 2);
        n += 2;
    }
    if (HMAC(EVP_sha256(), secret, DTLSUDP_COOKIE_SECRET_LEN, msg, n, out, outlen) == NULL)
        return -1;
    return 0;
}

static int generate_cb(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    eng_io *io = eng_ssl_io(ssl);
    dtlsudp_engine *e = io != NULL ? io->e : NULL;

    if (e == NULL || compute(e->cookie_secret[0], io->peer, cookie, len) != 0)
        return 0;
    /* Called once per HelloVerifyRequest built. */
    e->listen_sent_hvr = 1;
    e->stats.cookies_sent++;
    return 1;
}

/* Called by DTLSv1_listen() on the listen SSL, and once more by the
 * association's SSL_accept() on the buffered ClientHello; only the first
 * is counted.  The association's own peer address is used for the second. */
static int verify_cb(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
    eng_io *io = eng_ssl_io(ssl);
    dtlsudp_engine *e = io != NULL ? io->e : NULL;
    int listening = io != NULL && io->a == NULL;
    uint8_t want[EVP_MAX_MD_SIZE];
    unsigned wlen = 0;
    int i;

    if (e == NULL)
        return 0;
    for (i = 0; i < 2; i++) {
        if (compute(e->cookie_secret[i], io->peer, want, &wlen) != 0)
            return 0;
        if (len == wlen && CRYPTO_memcmp(want, cookie, wlen) == 0) {
            if (listening)
                e->stats.cookies_verified++;
            return 1;
        }
    }
    if (listening) {
        e->stats.cookies_bad++;
        e->listen_cookie_bad = 1;
    }
    return 0;
}

void eng_cookie_install(SSL_CTX *ctx)
{
    SSL_CTX_set_cookie_generate_cb(ctx, generate_cb);
    SSL_CTX_set_cookie_verify_cb(ctx, verify_cb);
}
