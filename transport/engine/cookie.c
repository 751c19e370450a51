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

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "engine_internal.h"

/* One HMAC-SHA256 context per engine, keyed again for every cookie: the
 * MAC and the digest are fetched once here instead of at each cookie
 * (HMAC() fetches both every time), which is most of a cookie's cost. */
static EVP_MAC_CTX *new_cookie_mac(void)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[2];

    EVP_MAC_free(mac); /* the context holds its own reference */
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (ctx != NULL && EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

int eng_cookie_init(dtlsudp_engine *e)
{
    int ret;

    if ((e->cookie_mac = new_cookie_mac()) == NULL) {
        ERR_clear_error();
        return DTLSUDP_ERR_NOMEM;
    }
    if ((ret = eng_random(e, e->cookie_secret[0], DTLSUDP_COOKIE_SECRET_LEN)) != DTLSUDP_OK)
        return ret;
    memcpy(e->cookie_secret[1], e->cookie_secret[0], DTLSUDP_COOKIE_SECRET_LEN);
    e->cookie_rotate_at = e->now + e->cfg.cookie_rotation;
    return DTLSUDP_OK;
}

void eng_cookie_dispose(dtlsudp_engine *e)
{
    EVP_MAC_CTX_free(e->cookie_mac);
    e->cookie_mac = NULL;
    OPENSSL_cleanse(e->cookie_secret, sizeof(e->cookie_secret));
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

static int compute(dtlsudp_engine *e, const uint8_t *secret, const dtlsudp_addr *peer, uint8_t *out,
                   unsigned *outlen)
{
    uint8_t msg[2 + 16 + 2 + 4];
    size_t n = 0, len = 0;

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
    if (EVP_MAC_init(e->cookie_mac, secret, DTLSUDP_COOKIE_SECRET_LEN, NULL) != 1 ||
        EVP_MAC_update(e->cookie_mac, msg, n) != 1 || EVP_MAC_final(e->cookie_mac, out, &len, EVP_MAX_MD_SIZE) != 1) {
        ERR_clear_error();
        return -1;
    }
    *outlen = (unsigned)len;
    return 0;
}

static int generate_cb(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
    eng_io *io = eng_ssl_io(ssl);
    dtlsudp_engine *e = io != NULL ? io->e : NULL;

    if (e == NULL || compute(e, e->cookie_secret[0], io->peer, cookie, len) != 0)
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
        if (compute(e, e->cookie_secret[i], io->peer, want, &wlen) != 0)
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
