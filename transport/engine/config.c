/*
 * config.c - configuration defaults and the one shared SSL_CTX: protocol
 * versions, options, ciphers, identity, trust anchors, CRL, and the
 * verification and cookie callbacks.  Certificates are loaded once per
 * engine, never per association.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "abi.h"
#include "engine_internal.h"

#define DEFAULT_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"
#define DEFAULT_CIPHERS_DTLS10 "ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES+SHA:!aNULL"

static void *default_alloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void default_free(void *user, void *p)
{
    (void)user;
    free(p);
}

int dtlsudp_engine_config_init_versioned(int version, dtlsudp_engine_config *cfg_out)
{
    dtlsudp_engine_config defaults, *cfg = &defaults;

    if (cfg_out == NULL || eng_abi_size(version, DTLSUDP_ABI_ENGINE_CONFIG) == 0)
        return DTLSUDP_ERR_INVALID;
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_assocs = 10000;
    cfg->max_half_open = 256;
    cfg->max_per_source = 256;
    cfg->evict_idle_when_full = 1;
    cfg->handshake_timeout = 10000;
    cfg->idle_timeout = 300000;
    cfg->cookie_rotation = 60000;
    cfg->mtu_ipv4 = 1500;
    cfg->mtu_ipv6 = 1280;
    cfg->max_queued_datagrams = 64;
    cfg->max_half_open_per_source = 8;
    cfg->refused_grace = 5000;
    cfg->max_chain_depth = 4;
    cfg->retransmit_initial = DTLSUDP_RETRANSMIT_INITIAL_MS;
    cfg->retransmit_max = DTLSUDP_RETRANSMIT_MAX_MS;
    cfg->retransmit_max_bytes = DTLSUDP_RETRANSMIT_MAX_BYTES;
    cfg->ticket_lifetime = 3600000;
    cfg->handoff_clients = 1;
    return eng_abi_write(version, DTLSUDP_ABI_ENGINE_CONFIG, cfg_out, cfg);
}

/* A zero field means "the default": the one set above. */
#define DEFAULT_IF_ZERO(field)                                                                               \
    do {                                                                                                     \
        if (c->field == 0)                                                                                   \
            c->field = d.field;                                                                              \
    } while (0)

void eng_config_normalize(dtlsudp_engine_config *c)
{
    dtlsudp_engine_config d;

    dtlsudp_engine_config_init(&d);
    DEFAULT_IF_ZERO(max_assocs);
    DEFAULT_IF_ZERO(max_half_open);
    DEFAULT_IF_ZERO(max_per_source);
    DEFAULT_IF_ZERO(handshake_timeout);
    DEFAULT_IF_ZERO(idle_timeout);
    DEFAULT_IF_ZERO(cookie_rotation);
    DEFAULT_IF_ZERO(mtu_ipv4);
    DEFAULT_IF_ZERO(mtu_ipv6);
    DEFAULT_IF_ZERO(max_queued_datagrams);
    DEFAULT_IF_ZERO(max_half_open_per_source);
    DEFAULT_IF_ZERO(refused_grace);
    DEFAULT_IF_ZERO(max_chain_depth);
    DEFAULT_IF_ZERO(retransmit_initial);
    DEFAULT_IF_ZERO(retransmit_max);
    DEFAULT_IF_ZERO(retransmit_max_bytes);
    DEFAULT_IF_ZERO(ticket_lifetime);
    if (c->ticket_lifetime == DTLSUDP_TIME_NEVER)
        c->ticket_lifetime = d.ticket_lifetime;
    /* Headroom: handshakes keep max_half_open slots of the table that
     * established associations cannot take, and they never take more than
     * half of it. */
    if (c->max_assocs < 2)
        c->max_assocs = 2;
    if (c->max_half_open > c->max_assocs / 2)
        c->max_half_open = c->max_assocs / 2;
    if (c->retransmit_max < c->retransmit_initial)
        c->retransmit_max = c->retransmit_initial;
    if (c->allocator.alloc == NULL || c->allocator.free == NULL) {
        c->allocator.alloc = default_alloc;
        c->allocator.free = default_free;
        c->allocator.user = NULL;
    }
}

static int config_fail(dtlsudp_engine *e, const char *what, const char *file)
{
    unsigned long err = ERR_peek_last_error();
    char reason[160];

    ERR_error_string_n(err, reason, sizeof(reason));
    eng_log(e, DTLSUDP_LOG_ERR, "%s %s: %s", what, file != NULL ? file : "", err != 0 ? reason : "failed");
    ERR_clear_error();
    return DTLSUDP_ERR_CONFIG;
}

static int load_crl(dtlsudp_engine *e, X509_STORE *store, const char *file)
{
    X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());

    if (lookup == NULL || X509_load_crl_file(lookup, file, X509_FILETYPE_PEM) <= 0)
        return config_fail(e, "cannot load CRL file", file);
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    return DTLSUDP_OK;
}

/* The identity from the caller's objects: nothing is read.  The SSL_CTX
 * takes its own references, so the configuration forgets the caller's
 * (which may be freed as soon as the engine exists). */
static int install_identity_objects(dtlsudp_engine *e)
{
    dtlsudp_engine_config *c = &e->cfg;
    int ret;

    if (c->cert == NULL || c->key == NULL) {
        eng_log(e, DTLSUDP_LOG_ERR, "identity refused: a %s without its %s", c->cert != NULL ? "certificate" : "key",
                c->cert != NULL ? "key" : "certificate");
        ret = DTLSUDP_ERR_CONFIG;
    } else {
        ret = dtlsudp_engine_set_identity(e, c->cert, c->key, c->chain);
    }
    c->cert = NULL;
    c->key = NULL;
    c->chain = NULL;
    return ret;
}

/* OpenSSL's certificate callback, called in a handshake that is about to
 * send our certificate (on a client: the server sent a CertificateRequest).
 * The identity on demand is installed on the SSL_CTX once, for every later
 * handshake, and copied to this SSL, which took its copy of the SSL_CTX's
 * (empty) identity when it was made.  Returns 1, or 0 to fail the
 * handshake (internal error alert). */
static int identity_on_demand(SSL *ssl, void *arg)
{
    dtlsudp_engine *e = arg;
    STACK_OF(X509) *chain = NULL;
    X509 *cert;

    if (SSL_get_certificate(ssl) != NULL)
        return 1;
    if (SSL_CTX_get0_certificate(e->ctx) == NULL && e->cfg.identity_cb(e->cfg.user, e) != DTLSUDP_OK) {
        eng_log(e, DTLSUDP_LOG_ERR, "no identity for this handshake: the identity callback failed");
        return 0;
    }
    if ((cert = SSL_CTX_get0_certificate(e->ctx)) == NULL) {
        eng_log(e, DTLSUDP_LOG_ERR, "no identity for this handshake: the identity callback installed none");
        return 0;
    }
    (void)SSL_CTX_get0_chain_certs(e->ctx, &chain);
    if (SSL_use_cert_and_key(ssl, cert, SSL_CTX_get0_privatekey(e->ctx), chain, 1) != 1) {
        ERR_clear_error();
        return 0;
    }
    return 1;
}

/* Our identity, before any handshake: the objects when given, else the
 * PEM files (either may be absent: set_identity() can come later), else
 * the identity callback when a handshake first needs it. */
static int install_identity(dtlsudp_engine *e)
{
    const dtlsudp_engine_config *c = &e->cfg;

    if (c->cert != NULL || c->key != NULL)
        return install_identity_objects(e);
    if (c->cert_file == NULL && c->key_file == NULL && c->identity_cb != NULL) {
        SSL_CTX_set_cert_cb(e->ctx, identity_on_demand, e);
        e->identity_on_demand = 1;
        return DTLSUDP_OK;
    }
    if (c->cert_file != NULL && SSL_CTX_use_certificate_chain_file(e->ctx, c->cert_file) != 1)
        return config_fail(e, "cannot load certificate file", c->cert_file);
    if (c->key_file != NULL) {
        if (SSL_CTX_use_PrivateKey_file(e->ctx, c->key_file, SSL_FILETYPE_PEM) != 1)
            return config_fail(e, "cannot load private key file", c->key_file);
        if (SSL_CTX_check_private_key(e->ctx) != 1)
            return config_fail(e, "private key does not match the certificate in", c->key_file);
    }
    return DTLSUDP_OK;
}

int eng_ctx_setup(dtlsudp_engine *e)
{
    const dtlsudp_engine_config *c = &e->cfg;
    const int have_store = c->trust_store != NULL; /* replaces ca_file, ca_path, crl_file */
    const char *ciphers;
    SSL_CTX *ctx;
    int ret;

    ERR_clear_error();
    if ((ctx = SSL_CTX_new(DTLS_method())) == NULL)
        return DTLSUDP_ERR_NOMEM;
    e->ctx = ctx;
    /* RFC 8996: DTLS 1.0 only when asked for. */
    if (!SSL_CTX_set_min_proto_version(ctx, c->allow_dtls10 ? DTLS1_VERSION : DTLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION))
        return DTLSUDP_ERR_TLS;
    /* No MTU discovery through the BIO (there is no socket): the link MTU
     * is set explicitly per association.  No renegotiation and no session
     * cache; tickets only with session_tickets (tickets.c), whose sessions
     * keep the peer certificate and verify it again at every resumption,
     * so it is always available for the securityName. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

    ciphers = c->ciphers != NULL ? c->ciphers : c->allow_dtls10 ? DEFAULT_CIPHERS_DTLS10 : DEFAULT_CIPHERS;
    if (!SSL_CTX_set_cipher_list(ctx, ciphers))
        return config_fail(e, "bad cipher list", ciphers);

    if ((ret = install_identity(e)) != DTLSUDP_OK)
        return ret;
    if (have_store) {
        SSL_CTX_set1_cert_store(ctx, c->trust_store);
        e->cfg.trust_store = NULL; /* the SSL_CTX holds the reference */
    } else if ((c->ca_file != NULL || c->ca_path != NULL) &&
        SSL_CTX_load_verify_locations(ctx, c->ca_file, c->ca_path) != 1)
        return config_fail(e, "cannot load trust anchors from", c->ca_file != NULL ? c->ca_file : c->ca_path);
    if (!have_store && c->crl_file != NULL) {
        ret = load_crl(e, SSL_CTX_get_cert_store(ctx), c->crl_file);
        if (ret != DTLSUDP_OK)
            return ret;
    }
    eng_verify_install(e);
    eng_cookie_install(ctx);
    eng_tickets_install(e);
    return DTLSUDP_OK;
}
