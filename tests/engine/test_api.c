/*
 * test_api.c - the 1.0 API contract: versioned structs (DTLSUDP_CONFIG_VERSION),
 * the error model's classes, dtlsudp_engine_connect() on a peer that already
 * has an association, and dtlsudp_engine_set_identity().
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "dtlsudp.h"
#include "testcerts.h"

#define CANARY 0xA5

static dtlsudp_engine *engine_new(void)
{
    dtlsudp_engine_config cfg;
    dtlsudp_engine *e = NULL;

    assert_int_equal(dtlsudp_engine_config_init(&cfg), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_new(&cfg, 1000, &e), DTLSUDP_OK);
    return e;
}

static int all_bytes(const void *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (((const unsigned char *)p)[i] != v)
            return 0;
    return 1;
}

/* Version 0 and the version after the library's are refused and nothing
 * is written; the current one is accepted. */
static void test_unknown_versions_refused(void **state)
{
    static const int bad[] = {0, -1, DTLSUDP_CONFIG_VERSION + 1};
    dtlsudp_engine_config ecfg;
    dtlsudp_listener_config lcfg;
    dtlsudp_conn_config ccfg;
    dtlsudp_listener *l = NULL;
    dtlsudp_conn *c = NULL;
    dtlsudp_engine *e = engine_new(), *e2 = NULL;
    dtlsudp_addr peer;
    dtlsudp_assoc *a = NULL;
    dtlsudp_stats st;
    dtlsudp_net_stats nst;

    (void)state;
    assert_int_equal(dtlsudp_engine_config_init(&ecfg), DTLSUDP_OK);
    assert_int_equal(dtlsudp_listener_config_init(&lcfg), DTLSUDP_OK);
    assert_int_equal(dtlsudp_conn_config_init(&ccfg), DTLSUDP_OK);
    assert_int_equal(dtlsudp_addr_parse("127.0.0.1:4433", 0, &peer), DTLSUDP_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int v = bad[i];
        memset(&ecfg, CANARY, sizeof(ecfg));
        assert_int_equal(dtlsudp_engine_config_init_versioned(v, &ecfg), DTLSUDP_ERR_INVALID);
        assert_true(all_bytes(&ecfg, sizeof(ecfg), CANARY));
        memset(&lcfg, CANARY, sizeof(lcfg));
        assert_int_equal(dtlsudp_listener_config_init_versioned(v, &lcfg), DTLSUDP_ERR_INVALID);
        assert_true(all_bytes(&lcfg, sizeof(lcfg), CANARY));
        memset(&ccfg, CANARY, sizeof(ccfg));
        assert_int_equal(dtlsudp_conn_config_init_versioned(v, &ccfg), DTLSUDP_ERR_INVALID);
        assert_true(all_bytes(&ccfg, sizeof(ccfg), CANARY));

        assert_int_equal(dtlsudp_engine_config_init(&ecfg), DTLSUDP_OK);
        assert_int_equal(dtlsudp_engine_new_versioned(v, &ecfg, 1000, &e2), DTLSUDP_ERR_INVALID);
        assert_null(e2);
        assert_int_equal(dtlsudp_engine_connect_versioned(v, e, &peer, NULL, 1000, &a), DTLSUDP_ERR_INVALID);
        assert_null(a);
        assert_null(dtlsudp_engine_find(e, &peer));
        memset(&st, CANARY, sizeof(st));
        assert_int_equal(dtlsudp_engine_get_stats_versioned(v, e, &st), DTLSUDP_ERR_INVALID);
        assert_true(all_bytes(&st, sizeof(st), CANARY));

        assert_int_equal(dtlsudp_listener_config_init(&lcfg), DTLSUDP_OK);
        assert_int_equal(dtlsudp_listener_new_versioned(v, "127.0.0.1:0", &lcfg, 1000, &l), DTLSUDP_ERR_INVALID);
        assert_null(l);
        assert_int_equal(dtlsudp_conn_config_init(&ccfg), DTLSUDP_OK);
        assert_int_equal(dtlsudp_conn_connect_versioned(v, "127.0.0.1", "9", &ccfg, 0, 1000, &c),
                         DTLSUDP_ERR_INVALID);
        assert_null(c);
    }

    /* Positive control: V1 by its number. */
    assert_int_equal(dtlsudp_engine_config_init_versioned(DTLSUDP_CONFIG_V1, &ecfg), DTLSUDP_OK);
    assert_int_equal(ecfg.max_assocs, 10000);
    assert_int_equal(dtlsudp_engine_new_versioned(DTLSUDP_CONFIG_V1, &ecfg, 1000, &e2), DTLSUDP_OK);
    assert_non_null(e2);
    assert_int_equal(dtlsudp_engine_connect_versioned(DTLSUDP_CONFIG_V1, e2, &peer, NULL, 1000, &a), DTLSUDP_OK);
    assert_non_null(a);
    assert_int_equal(dtlsudp_listener_config_init_versioned(DTLSUDP_CONFIG_V1, &lcfg), DTLSUDP_OK);
    assert_int_equal(dtlsudp_listener_new_versioned(DTLSUDP_CONFIG_V1, "127.0.0.1:0", &lcfg, 1000, &l), DTLSUDP_OK);
    assert_int_equal(dtlsudp_listener_get_stats_versioned(DTLSUDP_CONFIG_V1, l, &nst), DTLSUDP_OK);
    memset(&nst, CANARY, sizeof(nst));
    assert_int_equal(dtlsudp_listener_get_stats_versioned(DTLSUDP_CONFIG_VERSION + 1, l, &nst), DTLSUDP_ERR_INVALID);
    assert_true(all_bytes(&nst, sizeof(nst), CANARY));
    dtlsudp_listener_free(l);
    dtlsudp_engine_free(e2);
    dtlsudp_engine_free(e);
}

/* A V1 stats call writes the whole V1 struct and not one byte after it. */
static void test_stats_fill_exactly_v1(void **state)
{
    struct {
        dtlsudp_stats s;
        unsigned char after[64];
    } buf;
    dtlsudp_engine *e = engine_new();
    dtlsudp_addr peer;
    dtlsudp_assoc *a;
    dtlsudp_stats direct;

    (void)state;
    assert_int_equal(dtlsudp_addr_parse("127.0.0.1:4433", 0, &peer), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_connect(e, &peer, NULL, 1000, &a), DTLSUDP_OK);
    memset(&buf, CANARY, sizeof(buf));
    assert_int_equal(dtlsudp_engine_get_stats_versioned(DTLSUDP_CONFIG_V1, e, &buf.s), DTLSUDP_OK);
    assert_true(all_bytes(buf.after, sizeof(buf.after), CANARY));
    memset(&direct, 0, sizeof(direct));
    assert_int_equal(dtlsudp_engine_get_stats(e, &direct), DTLSUDP_OK);
    assert_memory_equal(&buf.s, &direct, sizeof(direct)); /* every V1 byte written */
    assert_int_equal(buf.s.assocs_now, 1);
    assert_int_equal(buf.s.handshakes_started, 1);
    assert_int_equal(dtlsudp_engine_get_stats(NULL, &direct), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_engine_get_stats(e, NULL), DTLSUDP_ERR_INVALID);
    dtlsudp_engine_free(e);
}

/* Every code, its class as dtlsudp.h groups it, and the predicates agree. */
static void test_error_classes(void **state)
{
    static const struct {
        int code, cls;
    } codes[] = {
        {DTLSUDP_OK, DTLSUDP_ERR_CLASS_OK},
        {DTLSUDP_ERR_AGAIN, DTLSUDP_ERR_CLASS_TRANSIENT},
        {DTLSUDP_ERR_DROPPED, DTLSUDP_ERR_CLASS_TRANSIENT},
        {DTLSUDP_ERR_QUEUE_FULL, DTLSUDP_ERR_CLASS_TRANSIENT},
        {DTLSUDP_ERR_LIMIT, DTLSUDP_ERR_CLASS_TRANSIENT},
        {DTLSUDP_ERR_NOMEM, DTLSUDP_ERR_CLASS_TRANSIENT},
        {DTLSUDP_ERR_INVALID, DTLSUDP_ERR_CLASS_USAGE},
        {DTLSUDP_ERR_STATE, DTLSUDP_ERR_CLASS_USAGE},
        {DTLSUDP_ERR_TOO_BIG, DTLSUDP_ERR_CLASS_USAGE},
        {DTLSUDP_ERR_NOT_FOUND, DTLSUDP_ERR_CLASS_USAGE},
        {DTLSUDP_ERR_BUFFER, DTLSUDP_ERR_CLASS_USAGE},
        {DTLSUDP_ERR_EXISTS, DTLSUDP_ERR_CLASS_USAGE},
        {DTLSUDP_ERR_CLOSED, DTLSUDP_ERR_CLASS_ASSOC_FATAL},
        {DTLSUDP_ERR_HANDSHAKE, DTLSUDP_ERR_CLASS_ASSOC_FATAL},
        {DTLSUDP_ERR_PEER_CERT, DTLSUDP_ERR_CLASS_ASSOC_FATAL},
        {DTLSUDP_ERR_TIMEOUT, DTLSUDP_ERR_CLASS_ASSOC_FATAL},
        {DTLSUDP_ERR_IDLE, DTLSUDP_ERR_CLASS_ASSOC_FATAL},
        {DTLSUDP_ERR_PEER_ALERT, DTLSUDP_ERR_CLASS_ASSOC_FATAL},
        {DTLSUDP_ERR_EVICTED, DTLSUDP_ERR_CLASS_ASSOC_FATAL},
        {DTLSUDP_ERR_REFUSED, DTLSUDP_ERR_CLASS_ASSOC_FATAL},
        {DTLSUDP_ERR_REPLACED, DTLSUDP_ERR_CLASS_ASSOC_FATAL},
        {DTLSUDP_ERR_FATAL, DTLSUDP_ERR_CLASS_ENGINE_FATAL},
        {DTLSUDP_ERR_TLS, DTLSUDP_ERR_CLASS_ENGINE_FATAL},
        {DTLSUDP_ERR_CONFIG, DTLSUDP_ERR_CLASS_ENGINE_FATAL},
        {DTLSUDP_ERR_SYSTEM, DTLSUDP_ERR_CLASS_ENGINE_FATAL},
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        int code = codes[i].code;
        assert_int_equal(dtlsudp_err_class(code), codes[i].cls);
        assert_int_equal(dtlsudp_err_is_fatal(code), codes[i].cls == DTLSUDP_ERR_CLASS_ENGINE_FATAL);
        assert_int_equal(dtlsudp_err_is_assoc_fatal(code), codes[i].cls == DTLSUDP_ERR_CLASS_ASSOC_FATAL);
        assert_string_not_equal(dtlsudp_strerror(code), dtlsudp_strerror(-12345)); /* has its own text */
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(codes[j].code, code);
    }
    assert_string_equal(dtlsudp_strerror(-12345), "unknown error");
    /* The verdict a zeroed return gives is a refusal. */
    assert_int_equal(DTLSUDP_VERIFY_REFUSE, 0);
    assert_int_equal(DTLSUDP_VERIFY_ACCEPT, 1);
}

/* A second connect to the same peer is EXISTS, not a bad argument, and the
 * first association is left alone. */
static void test_connect_exists(void **state)
{
    dtlsudp_engine *e = engine_new();
    dtlsudp_addr peer;
    dtlsudp_assoc *a = NULL, *b = (dtlsudp_assoc *)&peer;

    (void)state;
    assert_int_equal(dtlsudp_addr_parse("127.0.0.1:4433", 0, &peer), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_connect(e, &peer, NULL, 1000, &a), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_connect(e, &peer, NULL, 1000, &b), DTLSUDP_ERR_EXISTS);
    assert_null(b);
    assert_ptr_equal(dtlsudp_engine_find(e, &peer), a);
    dtlsudp_engine_free(e);
}

/* set_identity: a key that does not match, or of another type than the
 * running one, is refused and the running identity stays. */
static void test_set_identity(void **state)
{
    const testcerts *tc = tc_rsa();
    dtlsudp_engine *e = engine_new();
    SSL_CTX *ctx = dtlsudp_engine_ssl_ctx(e);
    STACK_OF(X509) *chain = sk_X509_new_null();

    (void)state;
    assert_non_null(chain);
    assert_int_equal(sk_X509_push(chain, tc->ca.cert), 1);
    assert_int_equal(dtlsudp_engine_set_identity(e, tc->client.cert, tc->client.key, chain), DTLSUDP_OK);
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), tc->client.cert), 0);
    assert_int_equal(dtlsudp_engine_set_identity(e, tc->client2.cert, tc->client.key, NULL), DTLSUDP_ERR_CONFIG);
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), tc->client.cert), 0);
    assert_int_equal(dtlsudp_engine_set_identity(e, tc->rsa_client.cert, tc->rsa_client.key, NULL),
                     DTLSUDP_ERR_CONFIG);
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), tc->client.cert), 0);
    assert_int_equal(dtlsudp_engine_set_identity(e, tc->client2.cert, tc->client2.key, NULL), DTLSUDP_OK);
    assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), tc->client2.cert), 0);
    assert_int_equal(dtlsudp_engine_set_identity(e, NULL, tc->client2.key, NULL), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_engine_set_identity(e, tc->client2.cert, NULL, NULL), DTLSUDP_ERR_INVALID);
    sk_X509_free(chain);
    dtlsudp_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_versions_refused),
        cmocka_unit_test(test_stats_fill_exactly_v1),
        cmocka_unit_test(test_error_classes),
        cmocka_unit_test(test_connect_exists),
        cmocka_unit_test(test_set_identity),
    };
    int ret = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return ret;
}
