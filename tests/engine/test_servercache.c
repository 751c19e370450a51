/*
 * test_servercache.c - the server's session cache
 * (transport/engine/servercache.c): an abbreviated handshake found by
 * session id without a ticket, and every reason it must become a full one
 * instead: a revoked client certificate, a trust store that no longer
 * vouches for it, a changed policy (hook), the time bound, a restarted
 * server, and the cache's own bound.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>

#include "engine_internal.h"
#include "testnet.h"

#define LIFETIME 10000 /* ms */

static tn_net net;
static char last_log[256];

static int setup(void **state)
{
    (void)state;
    tn_init(&net, 11);
    last_log[0] = '\0';
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tn_free(&net);
    assert_int_equal(tn_leaking_nodes(&net), 0);
    return 0;
}

static void keep_log(void *user, int level, const char *msg)
{
    (void)user;
    (void)level;
    if (strstr(msg, "not resumed") != NULL)
        snprintf(last_log, sizeof(last_log), "%s", msg);
}

struct hook_state {
    int calls, resumed_calls, answer, answer_resumed, accept_leaf;
};
static struct hook_state hook;

static int verify_hook(void *user, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    (void)user;
    (void)a;
    hook.calls++;
    if (auth->resumed) {
        hook.resumed_calls++;
        return hook.answer_resumed;
    }
    return hook.answer && (auth->trust == DTLSUDP_TRUST_CHAIN || (hook.accept_leaf && auth->trust == DTLSUDP_TRUST_LEAF));
}

/* What every engine of these tests has: tickets (or the cache) on, the
 * test's lifetime, the log kept. */
static void base_config(dtlsudp_engine_config *cfg)
{
    dtlsudp_engine_config_init(cfg);
    cfg->session_tickets = 1;
    cfg->ticket_lifetime = LIFETIME;
    cfg->log = keep_log;
}

/* The server of base_config() changed by the caller, with a cache of 16. */
static tn_node *server_with(const dtlsudp_engine_config *cfg)
{
    const testcerts *tc = tc_get();
    tn_node *s = tn_add(&net, "127.0.0.1:10161", &tc->server, &tc->ca, cfg);

    assert_non_null(s);
    assert_int_equal(dtlsudp_engine_set_session_cache(s->e, 16), DTLSUDP_OK);
    return s;
}

/* A server that keeps OpenSSL for established associations. */
static tn_node *kept_ssl_server(void)
{
    dtlsudp_engine_config cfg;

    base_config(&cfg);
    cfg.keep_ssl = 1;
    return server_with(&cfg);
}

static tn_node *node(const char *addr, const tc_pair *id, const tc_pair *ca, int tickets, int hooked)
{
    dtlsudp_engine_config cfg;
    tn_node *n;

    base_config(&cfg);
    cfg.session_tickets = tickets;
    if (hooked) {
        cfg.verify = verify_hook;
        memset(&hook, 0, sizeof(hook));
        hook.answer = hook.answer_resumed = 1;
    }
    n = tn_add(&net, addr, id, ca, &cfg);
    assert_non_null(n);
    return n;
}

/* A server with a session cache of `size' sessions. */
static tn_node *server_hooked(size_t size, int hooked)
{
    const testcerts *tc = tc_get();
    tn_node *s = node("127.0.0.1:10161", &tc->server, &tc->ca, 1, hooked);

    assert_int_equal(dtlsudp_engine_set_session_cache(s->e, size), DTLSUDP_OK);
    return s;
}

static tn_node *server(size_t size)
{
    return server_hooked(size, 0);
}

static tn_node *client(const char *addr, const tc_pair *id)
{
    return node(addr, id, &tc_get()->ca, 1, 0);
}

struct pair {
    tn_node *s, *c;
    unsigned s_est, c_est, s_closed, c_closed;
};

static int settled(tn_net *n, void *arg)
{
    struct pair *p = arg;
    (void)n;
    return (p->c->established > p->c_est || p->c->closed > p->c_closed) &&
           (p->s->established > p->s_est || p->s->closed > p->s_closed);
}

/* One handshake from c to s, then (if both ends established) the client's
 * session in blob.  Returns the client's association (NULL on failure);
 * *s_assoc the server's. */
/* c connects to s and both ends settle (established or closed); the
 * counters from before, and the client's association in *a. */
static struct pair attempt(tn_node *s, tn_node *c, const dtlsudp_connect_opts *opts, dtlsudp_assoc **a)
{
    struct pair p = {s, c, s->established, c->established, s->closed, c->closed};
    dtlsudp_assoc *ca;

    assert_non_null(ca = tn_connect(&net, c, s, opts));
    tn_run(&net, settled, &p, 300);
    tn_pump(&net);
    if (a != NULL)
        *a = ca;
    return p;
}

static dtlsudp_assoc *handshake(tn_node *s, tn_node *c, const dtlsudp_connect_opts *opts, dtlsudp_assoc **s_assoc)
{
    dtlsudp_assoc *a;
    struct pair p = attempt(s, c, opts, &a);

    if (c->established == p.c_est || s->established == p.s_est)
        return NULL;
    if (s_assoc != NULL)
        *s_assoc = dtlsudp_engine_find(s->e, &c->addr);
    return a;
}

static size_t save_session(dtlsudp_assoc *a, uint8_t *blob, size_t cap)
{
    size_t len = 0;

    assert_int_equal(dtlsudp_assoc_session(a, blob, cap, &len), DTLSUDP_OK);
    assert_true(len > 0);
    return len;
}

static void close_client(tn_node *c, dtlsudp_assoc *a)
{
    dtlsudp_assoc_close(a, tn_clock);
    tn_pump(&net);
}

static uint64_t stat_of(tn_node *n, size_t offset)
{
    dtlsudp_stats st;

    dtlsudp_engine_get_stats(n->e, &st);
    return *(uint64_t *)((char *)&st + offset);
}
#define STAT(n, field) stat_of((n), offsetof(dtlsudp_stats, field))

/* Full handshake, close, and the session it left. */
static size_t first_session(tn_node *s, tn_node *c, const dtlsudp_connect_opts *opts, uint8_t *blob, size_t cap)
{
    dtlsudp_assoc *a = handshake(s, c, opts, NULL);
    size_t len;

    assert_non_null(a);
    assert_false(dtlsudp_assoc_resumed(a));
    len = save_session(a, blob, cap);
    close_client(c, a);
    return len;
}

/* Resume once more, expecting a full handshake; returns the client assoc. */
static dtlsudp_assoc *expect_full(tn_node *s, tn_node *c, const dtlsudp_connect_opts *opts, uint64_t s_refused,
                                  uint64_t c_refused)
{
    dtlsudp_assoc *a, *sa = NULL;
    uint64_t resumed = STAT(s, handshakes_resumed);

    assert_non_null(a = handshake(s, c, opts, &sa));
    assert_false(dtlsudp_assoc_resumed(a));
    assert_false(dtlsudp_assoc_resumed(sa));
    assert_int_equal(STAT(s, tickets_refused), s_refused);
    assert_int_equal(STAT(c, tickets_refused), c_refused);
    assert_int_equal(STAT(s, handshakes_resumed), resumed);
    return a;
}

static void advance_to(tn_node *s, uint64_t t)
{
    tn_clock = t;
    assert_int_equal(dtlsudp_engine_handle_timeout(s->e, tn_clock), DTLSUDP_OK);
}


/* Resume with the session in blob and expect an abbreviated handshake. */
static dtlsudp_assoc *expect_resumed(tn_node *s, tn_node *c, const dtlsudp_connect_opts *opts)
{
    dtlsudp_assoc *a, *sa = NULL;

    assert_non_null(a = handshake(s, c, opts, &sa));
    assert_non_null(sa);
    assert_true(dtlsudp_assoc_resumed(a));
    assert_true(dtlsudp_assoc_resumed(sa));
    return a;
}

/* Resume with a refused session: the full handshake is refused too. */
static void expect_refused(tn_node *s, tn_node *c, const dtlsudp_connect_opts *opts)
{
    uint64_t refused = STAT(s, tickets_refused), cert_refused = STAT(s, cert_refused);
    uint64_t resumed = STAT(s, handshakes_resumed);
    struct pair p = attempt(s, c, opts, NULL);

    assert_int_equal(c->established, p.c_est);
    assert_int_equal(s->established, p.s_est);
    assert_int_equal(STAT(s, tickets_refused), refused + 1);
    assert_int_equal(STAT(s, cert_refused), cert_refused + 1);
    assert_int_equal(STAT(s, handshakes_resumed), resumed);
}

static void test_cached_resume(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(16), *c = client("127.0.0.1:50001", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    dtlsudp_assoc *a, *sa = NULL;
    uint64_t out_full, out_resumed;

    (void)state;
    out_full = STAT(s, datagrams_out);
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    out_full = STAT(s, datagrams_out) - out_full;
    assert_int_equal(STAT(s, tickets_issued), 0); /* a session id, not a ticket */
    assert_int_equal(s->e->scache.count, 1);

    out_resumed = STAT(s, datagrams_out);
    assert_non_null(a = handshake(s, c, &opts, &sa));
    out_resumed = STAT(s, datagrams_out) - out_resumed;
    assert_true(dtlsudp_assoc_resumed(a));
    assert_true(dtlsudp_assoc_resumed(sa));
    assert_true(out_resumed < out_full);
    assert_int_equal(STAT(s, handshakes_resumed), 1);
    assert_int_equal(STAT(s, tickets_refused), 0);
    assert_int_equal(s->e->scache.count, 1); /* resuming adds nothing */
    /* the identity is the full handshake's, verified again */
    assert_int_equal(dtlsudp_assoc_peer_trust(sa), DTLSUDP_TRUST_CHAIN);
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(sa), tc->client.cert), 0);
    assert_int_equal(sk_X509_num(dtlsudp_assoc_peer_chain(sa)), 2);
    assert_int_equal(X509_cmp(sk_X509_value(dtlsudp_assoc_peer_chain(sa), 1), tc->ca.cert), 0);
    assert_int_equal(dtlsudp_assoc_write(a, (const uint8_t *)"ping", 4, tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(s->last_data_len, 4);
    close_client(c, a);
    /* the same session again */
    a = expect_resumed(s, c, &opts);
    assert_int_equal(STAT(s, handshakes_resumed), 2);
}

/* A store replaced with a CRL that lists the client: the cached session is
 * dropped and the full handshake refuses the client. */
static void test_revoked_client(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(16), *c = client("127.0.0.1:50002", &tc->client);
    char dir[] = "/tmp/dtlsudp-scache-XXXXXX", crl[128];
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    X509_STORE *store = X509_STORE_new();
    X509_LOOKUP *lookup;

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    close_client(c, expect_resumed(s, c, &opts)); /* positive control */
    assert_non_null(mkdtemp(dir));
    snprintf(crl, sizeof(crl), "%s/ca.crl", dir);
    assert_int_equal(tc_write_crl(&tc->ca, tc->client.cert, crl), 0);
    assert_non_null(store);
    assert_int_equal(X509_STORE_add_cert(store, tc->ca.cert), 1);
    assert_non_null(lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file()));
    assert_int_equal(X509_load_crl_file(lookup, crl, X509_FILETYPE_PEM), 1);
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    assert_int_equal(dtlsudp_engine_set_trust_store(s->e, store), DTLSUDP_OK);
    X509_STORE_free(store);

    expect_refused(s, c, &opts);
    assert_non_null(strstr(last_log, "no longer accepted"));
    /* the entry stays (an offer cannot drop it), and is refused each time */
    assert_int_equal(s->e->scache.count, 1);
    expect_refused(s, c, &opts);
    unlink(crl);
    rmdir(dir);
}

/* A store that no longer holds the client's CA. */
static void test_store_without_ca(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(16), *c = client("127.0.0.1:50003", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    X509_STORE *store = X509_STORE_new();

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    close_client(c, expect_resumed(s, c, &opts));
    assert_non_null(store);
    assert_int_equal(X509_STORE_add_cert(store, tc->other_ca.cert), 1);
    assert_int_equal(dtlsudp_engine_set_trust_store(s->e, store), DTLSUDP_OK);
    X509_STORE_free(store);
    expect_refused(s, c, &opts);
    assert_non_null(strstr(last_log, "no longer accepted"));
}

/* The server's verification parameters from now on are its SSL_CTX's and
 * the cookie gate's SSL's, made before (it becomes the next association's):
 * both in p, the count returned. */
static int server_params(tn_node *s, X509_VERIFY_PARAM *p[2])
{
    p[0] = SSL_CTX_get0_param(dtlsudp_engine_ssl_ctx(s->e));
    if (s->e->listen_ssl == NULL)
        return 1;
    p[1] = SSL_get0_param(s->e->listen_ssl);
    return 2;
}

/* The server's verification time from now on. */
static void set_check_time(tn_node *s, time_t t)
{
    X509_VERIFY_PARAM *p[2];
    int i, n = server_params(s, p);

    for (i = 0; i < n; i++)
        X509_VERIFY_PARAM_set_time(p[i], t);
}

/* The server's verification flags from now on: `on' set, `off' cleared. */
static void verify_flags(tn_node *s, unsigned long on, unsigned long off)
{
    X509_VERIFY_PARAM *p[2];
    int i, n = server_params(s, p);

    for (i = 0; i < n; i++) {
        X509_VERIFY_PARAM_clear_flags(p[i], off);
        X509_VERIFY_PARAM_set_flags(p[i], on);
    }
}

static int store_callback(int ok, X509_STORE_CTX *xs)
{
    (void)xs;
    return ok;
}

/* Where the memo must not apply: a session accepted without OpenSSL's
 * signature checks (a LEAF peer the policy took) records none; flags
 * that add signature checks, and a store with its own per-depth
 * callback, take OpenSSL's own step at every resumption. */
static void test_memo_not_used(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server_hooked(16, 1), *leaf = client("127.0.0.1:50013", &tc->wrong_client);
    tn_node *c = client("127.0.0.1:50014", &tc->client);
    uint8_t blob[8192], leaf_blob[8192];
    dtlsudp_connect_opts opts = {.session = blob}, leaf_opts = {.session = leaf_blob};
    X509_STORE *store;

    (void)state;
    hook.accept_leaf = 1;
    leaf_opts.session_len = first_session(s, leaf, NULL, leaf_blob, sizeof(leaf_blob));
    close_client(leaf, expect_resumed(s, leaf, &leaf_opts));
    assert_int_equal(s->e->sig_memo_hits, 0);

    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    close_client(c, expect_resumed(s, c, &opts)); /* positive control */
    assert_int_equal(s->e->sig_memo_hits, 1);
    verify_flags(s, X509_V_FLAG_CHECK_SS_SIGNATURE, 0);
    close_client(c, expect_resumed(s, c, &opts));
    assert_int_equal(s->e->sig_memo_hits, 1);
    verify_flags(s, X509_V_FLAG_PARTIAL_CHAIN, X509_V_FLAG_CHECK_SS_SIGNATURE);
    close_client(c, expect_resumed(s, c, &opts));
    assert_int_equal(s->e->sig_memo_hits, 1);

    verify_flags(s, 0, X509_V_FLAG_PARTIAL_CHAIN);
    assert_non_null(store = X509_STORE_new());
    assert_int_equal(X509_STORE_add_cert(store, tc->ca.cert), 1);
    X509_STORE_set_verify_cb(store, store_callback);
    assert_int_equal(dtlsudp_engine_set_trust_store(s->e, store), DTLSUDP_OK);
    X509_STORE_free(store);
    close_client(c, expect_resumed(s, c, &opts));
    assert_int_equal(s->e->sig_memo_hits, 1);
}

/* The signature memo (verify.c): a resumed session whose chain is the one
 * checked at its full handshake skips the signature checks, and nothing
 * else: the identity is the same, and the validity periods are checked at
 * the verification time (here the store's check time, moved forward). */
static void test_memo_checks_times(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(16), *c = client("127.0.0.1:50011", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    dtlsudp_assoc *a, *sa = NULL;

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    assert_int_equal(s->e->sig_memo_hits, 0);
    assert_non_null(a = handshake(s, c, &opts, &sa));
    assert_true(dtlsudp_assoc_resumed(sa));
    assert_int_equal(s->e->sig_memo_hits, 1);
    assert_int_equal(dtlsudp_assoc_peer_trust(sa), DTLSUDP_TRUST_CHAIN);
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(sa), tc->client.cert), 0);
    assert_int_equal(sk_X509_num(dtlsudp_assoc_peer_chain(sa)), 2);
    close_client(c, a);

    /* A day later: still valid, resumed with the memo (positive control). */
    set_check_time(s, time(NULL) + 24 * 3600);
    close_client(c, expect_resumed(s, c, &opts));
    assert_int_equal(s->e->sig_memo_hits, 2);
    /* Sixty days later the client's certificate has expired: the memo
     * applies (same chain) and its validity check refuses. */
    set_check_time(s, time(NULL) + 60L * 24 * 3600);
    expect_refused(s, c, &opts);
    assert_int_equal(s->e->sig_memo_hits, 3);
    assert_non_null(strstr(last_log, "no longer accepted"));
}

/* A store whose CA has the old CA's name and key identifier but another
 * key: the chain built now ends at another anchor, so the memo does not
 * apply, the signature is checked, and the session is refused. */
static void test_memo_forged_anchor(void **state)
{
    const testcerts *tc = tc_attack();
    tn_node *s = server(16), *c = client("127.0.0.1:50012", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    X509_STORE *store = X509_STORE_new();
    uint64_t hits;

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    close_client(c, expect_resumed(s, c, &opts)); /* positive control */
    hits = s->e->sig_memo_hits;
    assert_int_equal(hits, 1);
    assert_non_null(store);
    assert_int_equal(X509_STORE_add_cert(store, tc->ca_forged.cert), 1);
    assert_int_equal(dtlsudp_engine_set_trust_store(s->e, store), DTLSUDP_OK);
    X509_STORE_free(store);
    expect_refused(s, c, &opts);
    assert_int_equal(s->e->sig_memo_hits, hits);
    assert_non_null(strstr(last_log, "no longer accepted"));
}

/* The application's policy is asked again (auth->resumed). */
static void test_policy_rechecked(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server_hooked(16, 1), *c = client("127.0.0.1:50004", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    assert_int_equal(hook.resumed_calls, 0);
    close_client(c, expect_resumed(s, c, &opts));
    assert_int_equal(hook.resumed_calls, 1);
    hook.answer = hook.answer_resumed = 0;
    expect_refused(s, c, &opts);
    assert_int_equal(hook.resumed_calls, 2);
}

/* A session lives ticket_lifetime after its full handshake, however often
 * it is resumed. */
static void test_expired(void **state)
{
    const testcerts *tc = tc_get();
    uint64_t t0 = tn_clock;
    tn_node *s = server(16), *c = client("127.0.0.1:50005", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    advance_to(s, t0 + LIFETIME - 500);
    close_client(c, expect_resumed(s, c, &opts));
    advance_to(s, t0 + LIFETIME + 500);
    expect_full(s, c, &opts, 1, 0);
    assert_non_null(strstr(last_log, "expired"));
}

/* Nothing survives the engine: after a restart the session id is unknown
 * and the handshake runs in full (and leaves a new session). */
static void test_server_restart(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(16), *c = client("127.0.0.1:50006", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    dtlsudp_assoc *a;

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    tn_drop_node(&net, s);
    s = server(16);
    a = expect_full(s, c, &opts, 1, 0);
    assert_non_null(strstr(last_log, "unknown session id"));
    assert_int_equal(s->e->scache.count, 1);
    opts.session_len = save_session(a, blob, sizeof(blob));
    close_client(c, a);
    expect_resumed(s, c, &opts);
}

/* The cache holds at most its size; the least recently used goes. */
static void test_bound(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(1), *c1 = client("127.0.0.1:50007", &tc->client);
    tn_node *c2 = client("127.0.0.1:50008", &tc->client2);
    uint8_t blob1[8192], blob2[8192];
    dtlsudp_connect_opts opts1 = {.session = blob1}, opts2 = {.session = blob2};

    (void)state;
    opts1.session_len = first_session(s, c1, NULL, blob1, sizeof(blob1));
    opts2.session_len = first_session(s, c2, NULL, blob2, sizeof(blob2));
    assert_int_equal(s->e->scache.count, 1);
    close_client(c2, expect_resumed(s, c2, &opts2)); /* the newer stays */
    expect_full(s, c1, &opts1, 1, 0);                /* the older went */
    assert_non_null(strstr(last_log, "unknown session id"));
}

/* An association that keeps OpenSSL (no record hand-off) and ends with the
 * client's close_notify leaves its session resumable: OpenSSL marks the
 * session of a connection freed without a shutdown of its own as bad. */
static void test_kept_ssl_closed_by_peer(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c = client("127.0.0.1:50010", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    uint64_t closed;

    (void)state;
    s = kept_ssl_server();
    closed = s->closed;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    assert_int_equal(s->closed, closed + 1); /* the server's association is gone */
    close_client(c, expect_resumed(s, c, &opts));
    expect_resumed(s, c, &opts);
}

/* RFC 5246 7.2.2: a fatal alert on an established association forgets its
 * session, whichever side sends it; the records are ours (hand-off). */
static void test_fatal_alert_forgets(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(16), *c = client("127.0.0.1:50011", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    dtlsudp_assoc *a, *sa = NULL;
    uint64_t alerts;

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    close_client(c, expect_resumed(s, c, &opts)); /* positive control */
    assert_int_equal(s->e->scache.count, 1);

    /* the client's fatal alert */
    assert_non_null(a = expect_resumed(s, c, &opts));
    alerts = STAT(s, alerts_received);
    assert_int_equal(eng_handoff_send_alert(c->e, a, 1, 40 /* handshake_failure */), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(STAT(s, alerts_received), alerts + 1);
    assert_int_equal(s->e->scache.count, 0);
    dtlsudp_assoc_abort(a, DTLSUDP_ERR_CLOSED, tn_clock);
    tn_pump(&net);
    a = expect_full(s, c, &opts, 1, 0);
    assert_non_null(strstr(last_log, "unknown session id"));

    /* the server's fatal alert, on the new session */
    assert_int_equal(s->e->scache.count, 1);
    opts.session_len = save_session(a, blob, sizeof(blob));
    assert_non_null(sa = dtlsudp_engine_find(s->e, &c->addr));
    assert_int_equal(eng_handoff_send_alert(s->e, sa, 1, 80 /* internal_error */), DTLSUDP_OK);
    assert_int_equal(s->e->scache.count, 0);
    tn_pump(&net);
}

/* The same with OpenSSL keeping the server's connection: OpenSSL reads the
 * alert, and the session is forgotten when the association ends. */
static void test_fatal_alert_forgets_kept_ssl(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s, *c = client("127.0.0.1:50014", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    dtlsudp_assoc *a;

    (void)state;
    s = kept_ssl_server();
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    assert_non_null(a = expect_resumed(s, c, &opts));
    assert_int_equal(eng_handoff_send_alert(c->e, a, 1, 40 /* handshake_failure */), DTLSUDP_OK);
    tn_pump(&net);
    dtlsudp_assoc_abort(a, DTLSUDP_ERR_CLOSED, tn_clock);
    tn_pump(&net);
    assert_null(dtlsudp_engine_find(s->e, &c->addr));
    assert_int_equal(s->e->scache.count, 0);
    expect_full(s, c, &opts, 1, 0);
}

/* A session id travels in clear.  Whoever offers it without the master
 * secret, here with a cipher list that cannot resume it so that OpenSSL
 * fails the handshake after our lookup, must not cost its owner the
 * session. */
static void test_known_id_cannot_invalidate(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(16), *c = client("127.0.0.1:50012", &tc->client), *x;
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    dtlsudp_engine_config cfg;
    struct pair p;
    uint64_t resumed;

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    base_config(&cfg);
    cfg.ciphers = "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
    assert_non_null(x = tn_add(&net, "127.0.0.1:50013", &tc->client, &tc->ca, &cfg));
    resumed = STAT(s, handshakes_resumed);
    p = attempt(s, x, &opts, NULL);
    assert_int_equal(x->established, p.c_est); /* OpenSSL refused it */
    assert_int_equal(STAT(s, handshakes_resumed), resumed);
    assert_int_equal(s->e->scache.count, 1);
    expect_resumed(s, c, &opts); /* the owner still resumes */
}

/* A close_notify sent at the fatal level is a fatal alert. */
static void test_fatal_close_notify_forgets(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(16), *c = client("127.0.0.1:50015", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    dtlsudp_assoc *a;

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    assert_non_null(a = expect_resumed(s, c, &opts));
    assert_int_equal(eng_handoff_send_alert(c->e, a, 1, 0 /* close_notify */), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(s->e->scache.count, 0);
    dtlsudp_assoc_abort(a, DTLSUDP_ERR_CLOSED, tn_clock);
    tn_pump(&net);
}

/* Admission refused for load (max_per_source, no eviction): a full
 * handshake leaves no session; a resumed one keeps its entry, since it
 * ends with close_notify and the manager should not pay a full handshake
 * next time. */
static void test_refused_admission(void **state)
{
    const testcerts *tc = tc_get();
    dtlsudp_engine_config cfg;
    tn_node *s, *c1 = client("127.0.0.1:50016", &tc->client), *c2 = client("127.0.0.1:50017", &tc->client);
    tn_node *c3 = client("127.0.0.1:50018", &tc->client2);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    uint64_t refused;

    (void)state;
    base_config(&cfg);
    cfg.max_per_source = 1;
    cfg.evict_idle_when_full = 0;
    s = server_with(&cfg);
    opts.session_len = first_session(s, c2, NULL, blob, sizeof(blob));
    assert_non_null(handshake(s, c1, NULL, NULL)); /* holds the source's one slot */
    assert_int_equal(s->e->scache.count, 2);

    /* c2 resumes, authenticates, and is refused: its entry stays */
    refused = STAT(s, refused_full);
    (void)attempt(s, c2, &opts, NULL);
    assert_int_equal(STAT(s, refused_full), refused + 1);
    assert_int_equal(STAT(s, handshakes_resumed), 1);
    assert_int_equal(s->e->scache.count, 2);

    /* c3's full handshake is refused: it leaves nothing */
    (void)attempt(s, c3, NULL, NULL);
    assert_int_equal(STAT(s, refused_full), refused + 2);
    assert_int_equal(s->e->scache.count, 2);
}

/* Off again: tickets. */
static void test_off_means_tickets(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(16), *c = client("127.0.0.1:50009", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};

    (void)state;
    assert_int_equal(dtlsudp_engine_set_session_cache(s->e, 0), DTLSUDP_OK);
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    assert_int_equal(STAT(s, tickets_issued), 1);
    assert_int_equal(s->e->scache.count, 0);
    expect_resumed(s, c, &opts);
    assert_int_equal(dtlsudp_engine_set_session_cache(NULL, 1), DTLSUDP_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cached_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_without_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_checks_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_forged_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_not_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_rechecked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kept_ssl_closed_by_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_off_means_tickets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fatal_alert_forgets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fatal_alert_forgets_kept_ssl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_known_id_cannot_invalidate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fatal_close_notify_forgets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_admission, setup, teardown),
    };
    int rc;

    tn_mem_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return rc;
}
