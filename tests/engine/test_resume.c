/*
 * test_resume.c - session resumption (transport/engine/tickets.c,
 * session.c): an abbreviated handshake with a ticket, and every reason it
 * must become a full one instead: a rotated-out, tampered or expired
 * ticket, a restarted server, a revoked client certificate, a changed
 * policy (hook, pin), and a client whose own certificate changed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* memmem */
#endif
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
    if (strstr(msg, "not accepted") != NULL || strstr(msg, "not offered") != NULL)
        snprintf(last_log, sizeof(last_log), "%s", msg);
}

struct hook_state {
    int calls, resumed_calls, answer, answer_resumed;
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
    return hook.answer && auth->trust == DTLSUDP_TRUST_CHAIN;
}

static tn_node *node(const char *addr, const tc_pair *id, const tc_pair *ca, int tickets, int hooked)
{
    dtlsudp_engine_config cfg;
    tn_node *n;

    dtlsudp_engine_config_init(&cfg);
    cfg.session_tickets = tickets;
    cfg.ticket_lifetime = LIFETIME;
    cfg.log = keep_log;
    if (hooked) {
        cfg.verify = verify_hook;
        memset(&hook, 0, sizeof(hook));
        hook.answer = hook.answer_resumed = 1;
    }
    n = tn_add(&net, addr, id, ca, &cfg);
    assert_non_null(n);
    return n;
}

static tn_node *server(int tickets)
{
    const testcerts *tc = tc_get();
    return node("127.0.0.1:10161", &tc->server, &tc->ca, tickets, 0);
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
static dtlsudp_assoc *handshake(tn_node *s, tn_node *c, const dtlsudp_connect_opts *opts, dtlsudp_assoc **s_assoc)
{
    struct pair p = {s, c, s->established, c->established, s->closed, c->closed};
    dtlsudp_assoc *a;

    assert_non_null(a = tn_connect(&net, c, s, opts));
    tn_run(&net, settled, &p, 300);
    tn_pump(&net);
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

static void test_resumed_handshake(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(1), *c = client("127.0.0.1:50001", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {0};
    dtlsudp_assoc *a, *sa = NULL;
    uint64_t out_full, out_resumed;

    (void)state;
    out_full = STAT(s, datagrams_out);
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    out_full = STAT(s, datagrams_out) - out_full;
    assert_int_equal(STAT(s, tickets_issued), 1);
    opts.session = blob;

    out_resumed = STAT(s, datagrams_out);
    assert_non_null(a = handshake(s, c, &opts, &sa));
    out_resumed = STAT(s, datagrams_out) - out_resumed;
    assert_non_null(sa);
    assert_true(dtlsudp_assoc_resumed(a));
    assert_true(dtlsudp_assoc_resumed(sa));
    assert_int_equal(STAT(s, handshakes_resumed), 1);
    assert_int_equal(STAT(c, handshakes_resumed), 1);
    assert_int_equal(STAT(s, tickets_refused), 0);
    /* The identity is the full handshake's: the client's certificate and
     * its verified path on the server, the server's on the client. */
    assert_int_equal(dtlsudp_assoc_peer_trust(sa), DTLSUDP_TRUST_CHAIN);
    assert_int_equal(X509_cmp(sk_X509_value(dtlsudp_assoc_peer_chain(sa), 0), tc->client.cert), 0);
    assert_int_equal(sk_X509_num(dtlsudp_assoc_peer_chain(sa)), 2);
    assert_int_equal(X509_cmp(sk_X509_value(dtlsudp_assoc_peer_chain(sa), 1), tc->ca.cert), 0);
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(sa), tc->client.cert), 0);
    assert_int_equal(dtlsudp_assoc_peer_trust(a), DTLSUDP_TRUST_CHAIN);
    assert_int_equal(X509_cmp(sk_X509_value(dtlsudp_assoc_peer_chain(a), 0), tc->server.cert), 0);
    /* no certificates, no signatures: fewer datagrams from the server */
    assert_true(out_resumed < out_full);
    /* data flows */
    assert_int_equal(dtlsudp_assoc_write(a, (const uint8_t *)"ping", 4, tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(s->last_data_len, 4);
    /* and the resumed association yields a session again */
    assert_true(save_session(a, blob, sizeof(blob)) > 0);
}

/* A server without tickets issues none; a client without tickets keeps no
 * session. */
static void test_tickets_off(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(0), *c = client("127.0.0.1:50002", &tc->client);
    tn_node *c_off = node("127.0.0.1:50003", &tc->client, &tc->ca, 0, 0);
    tn_node *s_on = node("127.0.0.1:10162", &tc->server, &tc->ca, 1, 0);
    uint8_t blob[8192];
    size_t len;
    dtlsudp_assoc *a;

    (void)state;
    assert_non_null(a = handshake(s, c, NULL, NULL));
    assert_int_equal(dtlsudp_assoc_session(a, blob, sizeof(blob), &len), DTLSUDP_ERR_AGAIN);
    assert_int_equal(STAT(s, tickets_issued), 0);
    assert_non_null(a = handshake(s_on, c_off, NULL, NULL));
    assert_int_equal(dtlsudp_assoc_session(a, blob, sizeof(blob), &len), DTLSUDP_ERR_AGAIN);
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

/* The previous key still opens tickets (and the ticket is renewed under
 * the current key); two rotations later the key is gone. */
static void test_key_rotation(void **state)
{
    const testcerts *tc = tc_get();
    uint64_t t0 = tn_clock;
    tn_node *s = server(1), *c = client("127.0.0.1:50004", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    dtlsudp_assoc *a;

    (void)state;
    advance_to(s, t0 + LIFETIME - 1000); /* just before the first rotation */
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    advance_to(s, t0 + LIFETIME + 100);  /* rotated: the ticket's key is the previous one */
    assert_non_null(a = handshake(s, c, &opts, NULL));
    assert_true(dtlsudp_assoc_resumed(a));
    assert_int_equal(STAT(s, tickets_issued), 2); /* renewed */
    close_client(c, a);
    advance_to(s, t0 + 3 * LIFETIME + 200); /* two more rotations: the key is gone */
    expect_full(s, c, &opts, 1, 0);
    assert_non_null(strstr(last_log, "unknown key"));
}

/* A ticket is good for LIFETIME after the full handshake, even while its
 * key still opens it. */
static void test_expired_ticket(void **state)
{
    const testcerts *tc = tc_get();
    uint64_t t0 = tn_clock;
    tn_node *s = server(1), *c = client("127.0.0.1:50005", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    advance_to(s, t0 + LIFETIME + 500); /* key: previous, still valid; age > LIFETIME */
    expect_full(s, c, &opts, 1, 0);
    assert_non_null(strstr(last_log, "expired"));
}

static void test_tampered_ticket(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(1), *c = client("127.0.0.1:50006", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    const unsigned char *p = blob;
    const unsigned char *tick;
    size_t tick_len, i;
    SSL_SESSION *sess;
    uint8_t *at = NULL;

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    /* find the ticket inside the saved session and flip one bit of its
     * encrypted body */
    for (i = 0; i + 4 < opts.session_len && at == NULL; i++) {
        p = blob + i;
        if ((sess = d2i_SSL_SESSION(NULL, &p, (long)(opts.session_len - i))) == NULL)
            continue;
        SSL_SESSION_get0_ticket(sess, &tick, &tick_len);
        assert_true(tick_len > 64);
        at = memmem(blob, opts.session_len, tick, tick_len);
        SSL_SESSION_free(sess);
    }
    ERR_clear_error();
    assert_non_null(at);
    at[tick_len / 2] ^= 0x01;
    expect_full(s, c, &opts, 1, 0);
    assert_non_null(strstr(last_log, "tampered"));
}

/* A restarted server has new keys: the old ticket gets a full handshake. */
static void test_server_restart(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(1), *c = client("127.0.0.1:50007", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    tn_drop_node(&net, s);
    s = server(1);
    expect_full(s, c, &opts, 1, 0);
}

/* A CRL loaded after the full handshake: the ticket is refused, and the
 * full handshake refuses the client. */
static void test_revoked_client(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(1), *c = client("127.0.0.1:50008", &tc->client);
    char dir[] = "/tmp/dtlsudp-resume-XXXXXX", crl[128];
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    X509_STORE *store = X509_STORE_new();
    X509_LOOKUP *lookup;
    struct pair p;

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
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

    p = (struct pair){s, c, s->established, c->established, s->closed, c->closed};
    assert_non_null(tn_connect(&net, c, s, &opts));
    tn_run(&net, settled, &p, 300);
    tn_pump(&net);
    assert_int_equal(c->established, p.c_est);
    assert_int_equal(c->last_reason, DTLSUDP_ERR_PEER_ALERT);
    assert_int_equal(STAT(s, tickets_refused), 1);
    assert_int_equal(STAT(s, cert_refused), 1);
    assert_int_equal(STAT(s, handshakes_resumed), 0);
    unlink(crl);
    rmdir(dir);
}

/* The server's policy is asked again at resumption (auth->resumed): a
 * refusal there (a changed certSecName mapping) means a full handshake,
 * where the policy decides again. */
static void test_server_policy_rechecked(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = node("127.0.0.1:10161", &tc->server, &tc->ca, 1, 1);
    tn_node *c = client("127.0.0.1:50009", &tc->client);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    dtlsudp_assoc *a;
    struct pair p;

    (void)state;
    opts.session_len = first_session(s, c, NULL, blob, sizeof(blob));
    assert_int_equal(hook.calls, 1);
    assert_int_equal(hook.resumed_calls, 0);
    /* positive control: the hook accepts again, the session resumes */
    assert_non_null(a = handshake(s, c, &opts, NULL));
    assert_true(dtlsudp_assoc_resumed(a));
    assert_int_equal(hook.resumed_calls, 1);
    close_client(c, a);
    /* the policy changed: no resumption, and the full handshake is refused */
    hook.answer = hook.answer_resumed = 0;
    p = (struct pair){s, c, s->established, c->established, s->closed, c->closed};
    assert_non_null(tn_connect(&net, c, s, &opts));
    tn_run(&net, settled, &p, 300);
    tn_pump(&net);
    assert_int_equal(hook.resumed_calls, 2);
    assert_int_equal(c->established, p.c_est);
    assert_int_equal(STAT(s, tickets_refused), 1);
    assert_int_equal(STAT(s, cert_refused), 1);
    assert_non_null(strstr(last_log, "no longer accepted"));
}

/* A client whose pin changed does not offer the session, and the full
 * handshake checks the new pin. */
static void test_client_pin_changed(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(1), *c = client("127.0.0.1:50010", &tc->client);
    uint8_t blob[8192];
    dtlsudp_fingerprint good, bad;
    dtlsudp_connect_opts opts = {.peer_fingerprints = &good, .n_peer_fingerprints = 1, .session = blob};
    dtlsudp_assoc *a;
    struct pair p;

    (void)state;
    assert_int_equal(dtlsudp_fingerprint_of(tc->server.cert, 32, &good), DTLSUDP_OK);
    assert_int_equal(dtlsudp_fingerprint_of(tc->wrong_server.cert, 32, &bad), DTLSUDP_OK);
    opts.session_len = first_session(s, c, &opts, blob, sizeof(blob));
    /* positive control: same pin, resumed */
    assert_non_null(a = handshake(s, c, &opts, NULL));
    assert_true(dtlsudp_assoc_resumed(a));
    close_client(c, a);
    opts.peer_fingerprints = &bad;
    p = (struct pair){s, c, s->established, c->established, s->closed, c->closed};
    assert_non_null(tn_connect(&net, c, s, &opts));
    tn_run(&net, settled, &p, 300);
    tn_pump(&net);
    assert_int_equal(c->established, p.c_est);
    assert_int_equal(c->last_reason, DTLSUDP_ERR_PEER_CERT);
    assert_int_equal(STAT(c, tickets_refused), 1);
    assert_int_equal(STAT(c, handshakes_resumed), 1); /* the control only */
    assert_non_null(strstr(last_log, "not offered"));
}

/* A session made with one certificate of ours is never offered by an
 * engine with another: the server sees the new identity. */
static void test_client_identity_changed(void **state)
{
    const testcerts *tc = tc_get();
    tn_node *s = server(1), *c1 = client("127.0.0.1:50011", &tc->client);
    tn_node *c2 = client("127.0.0.1:50012", &tc->client2);
    uint8_t blob[8192];
    dtlsudp_connect_opts opts = {.session = blob};
    dtlsudp_assoc *a, *sa = NULL;

    (void)state;
    opts.session_len = first_session(s, c1, NULL, blob, sizeof(blob));
    assert_non_null(a = handshake(s, c2, &opts, &sa));
    assert_false(dtlsudp_assoc_resumed(a));
    assert_int_equal(STAT(c2, tickets_refused), 1);
    assert_non_null(strstr(last_log, "different certificate"));
    assert_int_equal(X509_cmp(dtlsudp_assoc_peer_cert(sa), tc->client2.cert), 0);
    /* a malformed session is not offered either */
    blob[opts.session_len / 2] ^= 0xff;
    blob[0] = 'X';
    close_client(c2, a);
    assert_non_null(a = handshake(s, c1, &opts, NULL));
    assert_false(dtlsudp_assoc_resumed(a));
    assert_int_equal(STAT(c1, tickets_refused), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resumed_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tickets_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_ticket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_ticket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoked_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_policy_rechecked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_pin_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_identity_changed, setup, teardown),
    };
    int rc;

    tn_mem_init();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return rc;
}
