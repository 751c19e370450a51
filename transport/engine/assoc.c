/*
 * assoc.c - one association seen from outside: queued plaintext and
 * accessors.  The lifecycle lives in engine.c.
 */
#include "config.h"

#include <string.h>

#include <openssl/ssl.h>

#include "engine_internal.h"

int dtlsudp_assoc_read(dtlsudp_assoc *a, uint8_t *buf, size_t cap, size_t *len)
{
    eng_pbuf *p;

    if (a == NULL || len == NULL || (buf == NULL && cap != 0))
        return DTLSUDP_ERR_INVALID;
    if ((p = eng_pqueue_first(&a->rx)) == NULL)
        return DTLSUDP_ERR_AGAIN;
    if (p->len > cap)
        return DTLSUDP_ERR_BUFFER;
    memcpy(buf, p->data, p->len);
    *len = p->len;
    eng_pqueue_shift(&a->rx);
    eng_mem_free(a->e, p);
    return DTLSUDP_OK;
}

size_t dtlsudp_assoc_pending(const dtlsudp_assoc *a)
{
    return a != NULL ? a->rx.count : 0;
}

int dtlsudp_assoc_state(const dtlsudp_assoc *a)
{
    return a != NULL ? a->state : DTLSUDP_STATE_CLOSED;
}

int dtlsudp_assoc_is_client(const dtlsudp_assoc *a)
{
    return a != NULL && a->is_client;
}

uint64_t dtlsudp_assoc_id(const dtlsudp_assoc *a)
{
    return a != NULL ? a->id : 0;
}

const dtlsudp_addr *dtlsudp_assoc_peer(const dtlsudp_assoc *a)
{
    return a != NULL ? &a->peer : NULL;
}

const dtlsudp_addr *dtlsudp_assoc_local(const dtlsudp_assoc *a)
{
    return a != NULL ? &a->local : NULL;
}

X509 *dtlsudp_assoc_peer_cert(const dtlsudp_assoc *a)
{
    if (a == NULL)
        return NULL;
    if (a->ssl == NULL) /* handed off: the authenticated chain starts with the leaf */
        return a->auth_chain != NULL && sk_X509_num(a->auth_chain) > 0 ? sk_X509_value(a->auth_chain, 0) : NULL;
    return SSL_get0_peer_certificate(a->ssl);
}

STACK_OF(X509) *dtlsudp_assoc_peer_chain(const dtlsudp_assoc *a)
{
    return a != NULL ? a->auth_chain : NULL;
}

int dtlsudp_assoc_peer_alert(const dtlsudp_assoc *a)
{
    return a != NULL ? a->peer_alert : -1;
}

const char *dtlsudp_assoc_failure_detail(const dtlsudp_assoc *a)
{
    return a != NULL ? a->failure_detail : NULL;
}

int dtlsudp_assoc_peer_trust(const dtlsudp_assoc *a)
{
    return a != NULL && a->auth_chain != NULL ? a->auth_trust : DTLSUDP_TRUST_NONE;
}

int dtlsudp_assoc_resumed(const dtlsudp_assoc *a)
{
    return a != NULL && a->resumed;
}

const char *dtlsudp_assoc_version(const dtlsudp_assoc *a)
{
    if (a == NULL)
        return NULL;
    return a->ssl != NULL ? SSL_get_version(a->ssl) : a->version;
}

const SSL_CIPHER *dtlsudp_assoc_current_cipher(const dtlsudp_assoc *a)
{
    if (a == NULL)
        return NULL;
    return a->ssl != NULL ? SSL_get_current_cipher(a->ssl) : a->cipher;
}

const char *dtlsudp_assoc_cipher(const dtlsudp_assoc *a)
{
    if (a == NULL || (a->ssl == NULL && a->cipher == NULL))
        return NULL;
    return a->ssl != NULL ? SSL_get_cipher_name(a->ssl) : SSL_CIPHER_get_name(a->cipher);
}

int dtlsudp_assoc_was_established(const dtlsudp_assoc *a)
{
    return a != NULL && a->was_established;
}

void dtlsudp_assoc_set_owned(dtlsudp_assoc *a, void *owned, void (*release)(void *owned))
{
    if (a == NULL)
        return;
    if (a->owned_release != NULL && a->owned != owned)
        a->owned_release(a->owned);
    a->owned = owned;
    a->owned_release = release;
}

void *dtlsudp_assoc_get_owned(const dtlsudp_assoc *a)
{
    return a != NULL ? a->owned : NULL;
}

SSL *dtlsudp_assoc_ssl(const dtlsudp_assoc *a)
{
    return a != NULL ? a->ssl : NULL;
}

dtlsudp_engine *dtlsudp_assoc_engine(const dtlsudp_assoc *a)
{
    return a != NULL ? a->e : NULL;
}

void dtlsudp_assoc_set_user(dtlsudp_assoc *a, void *user)
{
    if (a != NULL)
        a->user = user;
}

void *dtlsudp_assoc_get_user(const dtlsudp_assoc *a)
{
    return a != NULL ? a->user : NULL;
}
