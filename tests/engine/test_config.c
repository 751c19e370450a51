/*
 * test_config.c - configuration defaults and the shared SSL_CTX
 * (transport/engine/config.c): eng_config_normalize() gives every
 * 0 field the default of dtlsudp_engine_config_init() and clamps what must
 * be clamped; the SSL_CTX carries the protocol policy; a file or cipher
 * list that cannot be used fails with DTLSUDP_ERR_CONFIG and a log line
 * naming it; an identity given as objects is the files' identity, read
 * from no file, checked (key against certificate) and referenced.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine_internal.h"
#include "testcerts.h"

static void test_init_gives_the_documented_defaults(void **state)
{
    dtlsudp_engine_config c;

    (void)state;
    memset(&c, 0x5a, sizeof(c));
    dtlsudp_engine_config_init(&c);
    assert_null(c.cert_file);
    assert_null(c.key_file);
    assert_null(c.ca_file);
    assert_null(c.trust_store);
    assert_null(c.ciphers);
    assert_int_equal(c.allow_dtls10, 0);
    assert_int_equal(c.max_assocs, 10000);
    assert_int_equal(c.max_half_open, 256);
    assert_int_equal(c.max_per_source, 256);
    assert_int_equal(c.evict_idle_when_full, 1);
    assert_int_equal(c.handshake_timeout, 10000);
    assert_int_equal(c.idle_timeout, 300000);
    assert_int_equal(c.cookie_rotation, 60000);
    assert_int_equal(c.mtu_ipv4, 1500);
    assert_int_equal(c.mtu_ipv6, 1280);
    assert_int_equal(c.max_queued_datagrams, 64);
    assert_int_equal(c.max_half_open_per_source, 8);
    assert_int_equal(c.refused_grace, 5000);
    assert_int_equal(c.max_chain_depth, 4);
    assert_int_equal(c.retransmit_initial, 100);
    assert_int_equal(c.retransmit_max, 500);
    assert_int_equal(c.retransmit_max_bytes, 49152);
    assert_int_equal(c.session_tickets, 0);
    assert_int_equal(c.ticket_lifetime, 3600000);
    assert_int_equal(c.keep_ssl, 0);
    assert_int_equal(c.handoff_clients, 1);
    assert_null(c.allocator.alloc);
    assert_null(c.verify);
    assert_null(c.on_event);
}

/* Every numeric field whose 0 means "the default". */
#define DEFAULTED_FIELDS(X)                                                                                  \
    X(max_assocs) X(max_half_open) X(max_per_source) X(handshake_timeout) X(idle_timeout)                  \
    X(cookie_rotation) X(mtu_ipv4) X(mtu_ipv6) X(max_queued_datagrams) X(max_half_open_per_source)          \
    X(refused_grace) X(max_chain_depth) X(retransmit_initial) X(retransmit_max) X(retransmit_max_bytes)    \
    X(ticket_lifetime)

static void test_normalize_fills_every_zero_with_the_default(void **state)
{
    dtlsudp_engine_config zero, d;

    (void)state;
    memset(&zero, 0, sizeof(zero));
    eng_config_normalize(&zero);
    dtlsudp_engine_config_init(&d);
#define CHECK_DEFAULT(f) assert_true(zero.f == d.f);
    DEFAULTED_FIELDS(CHECK_DEFAULT)
#undef CHECK_DEFAULT
    /* flags whose 0 is a choice stay 0 */
    assert_int_equal(zero.evict_idle_when_full, 0);
    assert_int_equal(zero.handoff_clients, 0);
    assert_int_equal(zero.session_tickets, 0);
    assert_int_equal(zero.keep_ssl, 0);
    /* and a usable allocator */
    assert_non_null(zero.allocator.alloc);
    assert_non_null(zero.allocator.free);
    {
        void *p = zero.allocator.alloc(zero.allocator.user, 64);
        assert_non_null(p);
        zero.allocator.free(zero.allocator.user, p);
    }
}

static void test_normalize_keeps_what_is_set(void **state)
{
    dtlsudp_engine_config c;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.max_assocs = 100;
    c.max_half_open = 7;
    c.max_per_source = 3;
    c.handshake_timeout = 1234;
    c.idle_timeout = DTLSUDP_TIME_NEVER; /* documented: disables */
    c.cookie_rotation = 10;
    c.mtu_ipv4 = 576;
    c.mtu_ipv6 = 1400;
    c.max_queued_datagrams = 2;
    c.max_half_open_per_source = 1;
    c.refused_grace = 9;
    c.max_chain_depth = 1;
    c.retransmit_initial = 50;
    c.retransmit_max = 60;
    c.retransmit_max_bytes = 1000;
    c.ticket_lifetime = 77;
    eng_config_normalize(&c);
    assert_int_equal(c.max_assocs, 100);
    assert_int_equal(c.max_half_open, 7);
    assert_int_equal(c.max_per_source, 3);
    assert_int_equal(c.handshake_timeout, 1234);
    assert_true(c.idle_timeout == DTLSUDP_TIME_NEVER);
    assert_int_equal(c.cookie_rotation, 10);
    assert_int_equal(c.mtu_ipv4, 576);
    assert_int_equal(c.mtu_ipv6, 1400);
    assert_int_equal(c.max_queued_datagrams, 2);
    assert_int_equal(c.max_half_open_per_source, 1);
    assert_int_equal(c.refused_grace, 9);
    assert_int_equal(c.max_chain_depth, 1);
    assert_int_equal(c.retransmit_initial, 50);
    assert_int_equal(c.retransmit_max, 60);
    assert_int_equal(c.retransmit_max_bytes, 1000);
    assert_int_equal(c.ticket_lifetime, 77);
}

static void test_normalize_clamps(void **state)
{
    dtlsudp_engine_config c;

    (void)state;
    /* the table holds at least two: one handshake slot, one established */
    dtlsudp_engine_config_init(&c);
    c.max_assocs = 1;
    eng_config_normalize(&c);
    assert_int_equal(c.max_assocs, 2);
    assert_int_equal(c.max_half_open, 1);

    /* handshakes never take more than half of the table */
    dtlsudp_engine_config_init(&c);
    c.max_assocs = 100;
    c.max_half_open = 80;
    eng_config_normalize(&c);
    assert_int_equal(c.max_half_open, 50);
    dtlsudp_engine_config_init(&c);
    c.max_assocs = 100;
    c.max_half_open = 50;
    eng_config_normalize(&c);
    assert_int_equal(c.max_half_open, 50);
    /* the default 256 handshakes in a table of 101 */
    dtlsudp_engine_config_init(&c);
    c.max_assocs = 101;
    eng_config_normalize(&c);
    assert_int_equal(c.max_half_open, 50);

    /* the backoff cap is never below the first timeout */
    dtlsudp_engine_config_init(&c);
    c.retransmit_initial = 800;
    eng_config_normalize(&c);
    assert_int_equal(c.retransmit_max, 800);
    dtlsudp_engine_config_init(&c);
    c.retransmit_initial = 800;
    c.retransmit_max = 900;
    eng_config_normalize(&c);
    assert_int_equal(c.retransmit_max, 900);

    /* tickets never live forever */
    dtlsudp_engine_config_init(&c);
    c.ticket_lifetime = DTLSUDP_TIME_NEVER;
    eng_config_normalize(&c);
    assert_int_equal(c.ticket_lifetime, 3600000);
}

static int marker_user;
static void *half_alloc(void *user, size_t n)
{
    (void)user;
    return malloc(n);
}

static void test_normalize_replaces_a_half_allocator(void **state)
{
    dtlsudp_engine_config c;

    (void)state;
    dtlsudp_engine_config_init(&c);
    c.allocator.alloc = half_alloc; /* no free: unusable as a pair */
    c.allocator.user = &marker_user;
    eng_config_normalize(&c);
    assert_true(c.allocator.alloc != half_alloc);
    assert_non_null(c.allocator.free);
    assert_null(c.allocator.user);
}

/* --- the SSL_CTX --- */

static char logged[4096];

static void capture_log(void *user, int level, const char *msg)
{
    (void)user;
    if (level <= DTLSUDP_LOG_ERR)
        snprintf(logged + strlen(logged), sizeof(logged) - strlen(logged), "%s\n", msg);
}

static int try_engine(dtlsudp_engine_config *c, dtlsudp_engine **out)
{
    logged[0] = '\0';
    c->log = capture_log;
    return dtlsudp_engine_new(c, 0, out);
}

static void test_ctx_policy(void **state)
{
    dtlsudp_engine_config c;
    dtlsudp_engine *e = NULL;
    SSL_CTX *ctx;
    uint64_t opts;

    (void)state;
    dtlsudp_engine_config_init(&c);
    assert_int_equal(try_engine(&c, &e), DTLSUDP_OK);
    ctx = dtlsudp_engine_ssl_ctx(e);
    assert_int_equal(SSL_CTX_get_min_proto_version(ctx), DTLS1_2_VERSION);
    assert_int_equal(SSL_CTX_get_max_proto_version(ctx), DTLS1_2_VERSION);
    opts = SSL_CTX_get_options(ctx);
    assert_true(opts & SSL_OP_NO_QUERY_MTU);
    assert_true(opts & SSL_OP_NO_RENEGOTIATION);
    assert_true(opts & SSL_OP_NO_TICKET);
    assert_true(opts & SSL_OP_NO_COMPRESSION);
    assert_int_equal(SSL_CTX_get_session_cache_mode(ctx), SSL_SESS_CACHE_OFF);
    /* the default list: ECDHE with an AEAD only */
    {
        STACK_OF(SSL_CIPHER) *list = SSL_CTX_get_ciphers(ctx);
        int i;
        assert_true(sk_SSL_CIPHER_num(list) > 0);
        for (i = 0; i < sk_SSL_CIPHER_num(list); i++) {
            const SSL_CIPHER *ci = sk_SSL_CIPHER_value(list, i);
            if (strcmp(SSL_CIPHER_get_version(ci), "TLSv1.3") == 0)
                continue; /* TLS 1.3 suites are never negotiated over DTLS */
            assert_int_equal(SSL_CIPHER_get_kx_nid(ci), NID_kx_ecdhe);
            assert_true(SSL_CIPHER_is_aead(ci));
        }
    }
    dtlsudp_engine_free(e);

    dtlsudp_engine_config_init(&c);
    c.allow_dtls10 = 1;
    assert_int_equal(try_engine(&c, &e), DTLSUDP_OK);
    assert_int_equal(SSL_CTX_get_min_proto_version(dtlsudp_engine_ssl_ctx(e)), DTLS1_VERSION);
    dtlsudp_engine_free(e);
}

static void test_bad_cipher_list_is_a_config_error(void **state)
{
    dtlsudp_engine_config c;
    dtlsudp_engine *e = NULL;

    (void)state;
    dtlsudp_engine_config_init(&c);
    c.ciphers = "NO-SUCH-SUITE";
    assert_int_equal(try_engine(&c, &e), DTLSUDP_ERR_CONFIG);
    assert_null(e);
    assert_non_null(strstr(logged, "bad cipher list"));
    assert_non_null(strstr(logged, "NO-SUCH-SUITE"));
}

static char dir[64], cert_path[128], key_path[128], other_key[128], crl_path[128], junk_path[128];

static int make_files(void **state)
{
    const testcerts *tc = tc_get();
    char unused[128];
    FILE *f;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/dtlsudp-test-config-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(cert_path, sizeof(cert_path), "%s/server.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/server.key", dir);
    snprintf(unused, sizeof(unused), "%s/client.pem", dir);
    snprintf(other_key, sizeof(other_key), "%s/client.key", dir);
    snprintf(crl_path, sizeof(crl_path), "%s/ca.crl", dir);
    snprintf(junk_path, sizeof(junk_path), "%s/junk.pem", dir);
    if (tc_write_pem(&tc->server, cert_path, key_path) != 0 || tc_write_pem(&tc->client, unused, other_key) != 0 ||
        tc_write_crl(&tc->ca, NULL, crl_path) != 0)
        return -1;
    if ((f = fopen(junk_path, "w")) == NULL)
        return -1;
    fputs("not a certificate\n", f);
    fclose(f);
    unlink(unused);
    return 0;
}

static int remove_files(void **state)
{
    (void)state;
    unlink(cert_path);
    unlink(key_path);
    unlink(other_key);
    unlink(crl_path);
    unlink(junk_path);
    rmdir(dir);
    return 0;
}

static void test_files_load(void **state)
{
    dtlsudp_engine_config c;
    dtlsudp_engine *e = NULL;
    X509 *own;

    (void)state;
    dtlsudp_engine_config_init(&c);
    c.cert_file = cert_path;
    c.key_file = key_path;
    c.ca_file = cert_path;
    c.crl_file = crl_path;
    assert_int_equal(try_engine(&c, &e), DTLSUDP_OK);
    own = SSL_CTX_get0_certificate(dtlsudp_engine_ssl_ctx(e));
    assert_non_null(own);
    assert_int_equal(X509_cmp(own, tc_get()->server.cert), 0);
    /* a CRL turns on revocation checks for the whole chain */
    assert_true(X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(SSL_CTX_get_cert_store(dtlsudp_engine_ssl_ctx(e)))) &
                X509_V_FLAG_CRL_CHECK_ALL);
    dtlsudp_engine_free(e);
}

static void expect_config_error(dtlsudp_engine_config *c, const char *what, const char *file)
{
    dtlsudp_engine *e = NULL;

    assert_int_equal(try_engine(c, &e), DTLSUDP_ERR_CONFIG);
    assert_null(e);
    if (strstr(logged, what) == NULL || strstr(logged, file) == NULL)
        print_error("log was: %s\n", logged);
    assert_non_null(strstr(logged, what));
    assert_non_null(strstr(logged, file));
}

static void test_unusable_files_are_named(void **state)
{
    dtlsudp_engine_config c;

    (void)state;
    dtlsudp_engine_config_init(&c);
    c.cert_file = "/nonexistent/cert.pem";
    expect_config_error(&c, "cannot load certificate file", "/nonexistent/cert.pem");

    dtlsudp_engine_config_init(&c);
    c.cert_file = cert_path;
    c.key_file = junk_path;
    expect_config_error(&c, "cannot load private key file", junk_path);

    dtlsudp_engine_config_init(&c);
    c.cert_file = cert_path;
    c.key_file = other_key;
    /* OpenSSL already refuses a key that does not match the certificate
     * loaded before it; the line names the file and OpenSSL's reason */
    expect_config_error(&c, "cannot load private key file", other_key);
    assert_non_null(strstr(logged, "mismatch"));

    dtlsudp_engine_config_init(&c);
    c.ca_file = "/nonexistent/ca.pem";
    expect_config_error(&c, "cannot load trust anchors", "/nonexistent/ca.pem");

    dtlsudp_engine_config_init(&c);
    c.crl_file = junk_path;
    expect_config_error(&c, "cannot load CRL file", junk_path);
}

static void test_trust_store_replaces_the_files(void **state)
{
    dtlsudp_engine_config c;
    dtlsudp_engine *e = NULL;
    X509_STORE *store = X509_STORE_new();

    (void)state;
    assert_non_null(store);
    dtlsudp_engine_config_init(&c);
    c.trust_store = store;
    c.ca_file = "/nonexistent/ca.pem"; /* ignored: the store replaces it */
    c.crl_file = "/nonexistent/ca.crl";
    assert_int_equal(try_engine(&c, &e), DTLSUDP_OK);
    assert_ptr_equal(SSL_CTX_get_cert_store(dtlsudp_engine_ssl_ctx(e)), store);
    dtlsudp_engine_free(e);
    X509_STORE_free(store); /* our reference: the engine took its own */
}

/* --- identity objects (cert, key, chain) --- */

/* The same certificate and key as the files give, and the chain after
 * it; the objects win over the files (which are not read: these do not
 * exist). */
static void test_identity_objects_equal_the_files(void **state)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config files, objects;
    dtlsudp_engine *from_files = NULL, *from_objects = NULL;
    STACK_OF(X509) *chain = sk_X509_new_null(), *sent = NULL;
    SSL_CTX *a, *b;

    (void)state;
    assert_non_null(chain);
    assert_true(sk_X509_push(chain, tc->ca.cert) > 0);
    dtlsudp_engine_config_init(&files);
    files.cert_file = cert_path;
    files.key_file = key_path;
    assert_int_equal(try_engine(&files, &from_files), DTLSUDP_OK);
    dtlsudp_engine_config_init(&objects);
    objects.cert = tc->server.cert;
    objects.key = tc->server.key;
    objects.chain = chain;
    objects.cert_file = "/nonexistent/cert.pem";
    objects.key_file = "/nonexistent/key.pem";
    assert_int_equal(try_engine(&objects, &from_objects), DTLSUDP_OK);
    sk_X509_free(chain); /* the engine keeps its own */

    a = dtlsudp_engine_ssl_ctx(from_files);
    b = dtlsudp_engine_ssl_ctx(from_objects);
    assert_non_null(SSL_CTX_get0_certificate(b));
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(a), SSL_CTX_get0_certificate(b)), 0);
    assert_int_equal(EVP_PKEY_eq(SSL_CTX_get0_privatekey(a), SSL_CTX_get0_privatekey(b)), 1);
    assert_int_equal(SSL_CTX_get0_chain_certs(b, &sent), 1);
    assert_int_equal(sk_X509_num(sent), 1);
    assert_int_equal(X509_cmp(sk_X509_value(sent, 0), tc->ca.cert), 0);
    /* the configuration forgets the caller's pointers: the SSL_CTX holds them */
    assert_null(from_objects->cfg.cert);
    assert_null(from_objects->cfg.key);
    assert_null(from_objects->cfg.chain);
    dtlsudp_engine_free(from_files);
    dtlsudp_engine_free(from_objects);
}

/* A key that is not the certificate's, or half an identity: CONFIG, said
 * in the log, and no engine. */
static void test_identity_objects_must_match(void **state)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config c;
    dtlsudp_engine *e = NULL;

    (void)state;
    dtlsudp_engine_config_init(&c);
    c.cert = tc->server.cert;
    c.key = tc->client.key;
    assert_int_equal(try_engine(&c, &e), DTLSUDP_ERR_CONFIG);
    assert_null(e);
    assert_non_null(strstr(logged, "identity refused"));

    dtlsudp_engine_config_init(&c);
    c.cert = tc->server.cert;
    assert_int_equal(try_engine(&c, &e), DTLSUDP_ERR_CONFIG);
    assert_non_null(strstr(logged, "a certificate without its key"));

    dtlsudp_engine_config_init(&c);
    c.key = tc->server.key;
    c.cert_file = cert_path; /* the key alone does not fall back to the files */
    assert_int_equal(try_engine(&c, &e), DTLSUDP_ERR_CONFIG);
    assert_non_null(strstr(logged, "a key without its certificate"));
    assert_null(e);
}

/* Frees of tagged objects, seen through an ex_data free callback. */
static int tag_x509 = -1, tag_pkey = -1, frees;

static void count_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (ptr != NULL)
        frees++;
}

/* References are taken: the caller frees its certificate, key and chain
 * right after dtlsudp_engine_new() and the engine still has them; they
 * go when the engine does. */
static void test_identity_objects_are_referenced(void **state)
{
    const testcerts *tc = tc_get();
    X509 *cert = X509_dup(tc->server.cert), *issuer = X509_dup(tc->ca.cert);
    EVP_PKEY *key = EVP_PKEY_dup(tc->server.key);
    STACK_OF(X509) *chain = sk_X509_new_null();
    dtlsudp_engine_config c;
    dtlsudp_engine *e = NULL;

    (void)state;
    if (tag_x509 < 0) {
        tag_x509 = X509_get_ex_new_index(0, NULL, NULL, NULL, count_free);
        tag_pkey = EVP_PKEY_get_ex_new_index(0, NULL, NULL, NULL, count_free);
    }
    assert_true(tag_x509 >= 0 && tag_pkey >= 0);
    assert_true(cert != NULL && issuer != NULL && key != NULL && chain != NULL);
    assert_int_equal(X509_set_ex_data(cert, tag_x509, &frees), 1);
    assert_int_equal(X509_set_ex_data(issuer, tag_x509, &frees), 1);
    assert_int_equal(EVP_PKEY_set_ex_data(key, tag_pkey, &frees), 1);
    assert_true(sk_X509_push(chain, issuer) > 0);
    frees = 0;
    dtlsudp_engine_config_init(&c);
    c.cert = cert;
    c.key = key;
    c.chain = chain;
    assert_int_equal(try_engine(&c, &e), DTLSUDP_OK);
    X509_free(cert);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    assert_int_equal(frees, 0);
    assert_ptr_equal(SSL_CTX_get0_certificate(dtlsudp_engine_ssl_ctx(e)), cert);
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(dtlsudp_engine_ssl_ctx(e)), tc->server.cert), 0);
    dtlsudp_engine_free(e);
    assert_int_equal(frees, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_gives_the_documented_defaults),
        cmocka_unit_test(test_normalize_fills_every_zero_with_the_default),
        cmocka_unit_test(test_normalize_keeps_what_is_set),
        cmocka_unit_test(test_normalize_clamps),
        cmocka_unit_test(test_normalize_replaces_a_half_allocator),
        cmocka_unit_test(test_ctx_policy),
        cmocka_unit_test(test_bad_cipher_list_is_a_config_error),
        cmocka_unit_test(test_files_load),
        cmocka_unit_test(test_unusable_files_are_named),
        cmocka_unit_test(test_trust_store_replaces_the_files),
        cmocka_unit_test(test_identity_objects_equal_the_files),
        cmocka_unit_test(test_identity_objects_must_match),
        cmocka_unit_test(test_identity_objects_are_referenced),
    };
    int ret = cmocka_run_group_tests(tests, make_files, remove_files);
    tc_free();
    return ret;
}
