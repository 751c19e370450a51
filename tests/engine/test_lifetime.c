/*
 * test_lifetime.c - an association's life (transport/engine/lifetime.c):
 * alloc (a handshaking association, not yet counted), start (id,
 * handshaking list, counters), finish (counted by reason, restart links
 * detached, CLOSED fired once, freed), destroy (every counter and byte
 * back); and the ways it ends from outside: close (close_notify when
 * established, deferred inside an event), abort (never a close_notify),
 * evict (close_notify, or a fatal alert to a server handshake's peer),
 * close_all.
 *
 * The first tests run on a bare engine with associations built by hand;
 * the rest on the in-memory network.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine_internal.h"
#include "record.h"
#include "testnet.h"

/* --- a bare engine that records its events --- */

static struct {
    unsigned closed;
    int reason;
    int state_in_event;
    int freeing_in_event;
    int close_again; /* end the association again from inside CLOSED */
} seen;

static void record_event(void *user, dtlsudp_assoc *a, int event, int reason)
{
    (void)user;
    if (event != DTLSUDP_EVENT_CLOSED)
        return;
    seen.closed++;
    seen.reason = reason;
    seen.state_in_event = a->state;
    seen.freeing_in_event = a->freeing;
    if (seen.close_again) {
        dtlsudp_assoc_close(a, 0);
        dtlsudp_assoc_abort(a, DTLSUDP_ERR_TIMEOUT, 0);
        eng_assoc_finish(a->e, a, DTLSUDP_ERR_TIMEOUT);
    }
}

static dtlsudp_engine *bare;
static tn_alloc bare_alloc;
static long long bare_baseline;

static int bare_setup(void **state)
{
    dtlsudp_engine_config cfg;

    (void)state;
    memset(&seen, 0, sizeof(seen));
    memset(&bare_alloc, 0, sizeof(bare_alloc));
    dtlsudp_engine_config_init(&cfg);
    cfg.on_event = record_event;
    cfg.allocator = tn_allocator(&bare_alloc);
    if (dtlsudp_engine_new(&cfg, 5000, &bare) != DTLSUDP_OK)
        return -1;
    /* The ring of ended hellos is allocated at the first end; have it now. */
    if (eng_ended_reserve(bare) != DTLSUDP_OK)
        return -1;
    bare_baseline = bare_alloc.live_count;
    return 0;
}

static int bare_teardown(void **state)
{
    (void)state;
    dtlsudp_engine_free(bare);
    bare = NULL;
    assert_int_equal(bare_alloc.live_count, 0);
    assert_int_equal(bare_alloc.live_bytes, 0);
    return 0;
}

static dtlsudp_assoc *started(const char *peer, int is_client)
{
    dtlsudp_addr addr = tn_addr(peer);
    dtlsudp_assoc *a = eng_assoc_alloc(bare, &addr, NULL, is_client);

    assert_non_null(a);
    eng_assoc_start(bare, a, !is_client);
    return a;
}

/* alloc builds a handshaking association that nothing counts yet; start
 * numbers it, lists it and counts it; destroy takes all of it back. */
static void test_alloc_start_destroy(void **state)
{
    dtlsudp_addr peer = tn_addr("127.0.0.1:4000");
    dtlsudp_assoc *a, *b;

    (void)state;
    bare_alloc.fail_at = bare_alloc.total + 1;
    assert_null(eng_assoc_alloc(bare, &peer, NULL, 0));
    bare_alloc.fail_at = 0;

    a = eng_assoc_alloc(bare, &peer, NULL, 0);
    assert_non_null(a);
    assert_int_equal(a->state, DTLSUDP_STATE_HANDSHAKING);
    assert_int_equal(a->id, 0);
    assert_int_equal(a->created, 5000);
    assert_int_equal(a->last_activity, 5000);
    assert_int_equal(a->peer_alert, -1);
    assert_int_equal(a->peer_seq_max, -1);
    assert_true(dtlsudp_addr_equal(&a->peer, &peer));
    assert_true(dtlsudp_link_empty(&bare->hs_list));
    assert_int_equal(bare->stats.assocs_now, 0);

    eng_assoc_start(bare, a, 1);
    b = started("127.0.0.1:4001", 1);
    assert_int_equal(a->id, 1);
    assert_int_equal(b->id, 2);
    assert_ptr_equal(ASSOC_OF(bare->hs_list.next), a); /* oldest first */
    assert_ptr_equal(ASSOC_OF(bare->hs_list.next->next), b);
    assert_int_equal(bare->half_open, 1); /* the client's does not count */
    assert_int_equal(bare->stats.handshakes_started, 2);
    assert_int_equal(bare->stats.assocs_now, 2);
    assert_int_equal(bare->stats.assocs_peak, 2);

    eng_table_insert(bare, a);
    eng_assoc_destroy(bare, a);
    eng_assoc_destroy(bare, b);
    assert_null(dtlsudp_engine_find(bare, &peer));
    assert_true(dtlsudp_link_empty(&bare->hs_list));
    assert_int_equal(bare->half_open, 0);
    assert_int_equal(bare->stats.assocs_now, 0);
    assert_int_equal(bare->stats.assocs_peak, 2);
    assert_int_equal(bare_alloc.live_count, bare_baseline);
    assert_int_equal(seen.closed, 0); /* destroy fires nothing */
}

/* finish counts a failed handshake by its reason, an established
 * association's alert as an alert, and fires CLOSED once, in state
 * CLOSED; closing, aborting or finishing it again from inside that
 * event does nothing. */
static void test_finish_counts_by_reason(void **state)
{
    static const struct {
        int reason;
        uint64_t timed_out, cert_refused, alerts, failed;
    } rows[] = {
        {DTLSUDP_ERR_TIMEOUT, 1, 0, 0, 0},   {DTLSUDP_ERR_PEER_CERT, 0, 1, 0, 1},
        {DTLSUDP_ERR_PEER_ALERT, 0, 0, 1, 1}, {DTLSUDP_ERR_HANDSHAKE, 0, 0, 0, 1},
        {DTLSUDP_ERR_CLOSED, 0, 0, 0, 0},    {DTLSUDP_ERR_EVICTED, 0, 0, 0, 0},
    };
    dtlsudp_stats before;
    dtlsudp_assoc *a;

    (void)state;
    seen.close_again = 1;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        before = bare->stats;
        seen.closed = 0;
        eng_assoc_finish(bare, started("127.0.0.1:4000", (int)(i & 1)), rows[i].reason);
        assert_int_equal(seen.closed, 1);
        assert_int_equal(seen.reason, rows[i].reason);
        assert_int_equal(seen.state_in_event, DTLSUDP_STATE_CLOSED);
        assert_true(seen.freeing_in_event);
        assert_int_equal(bare->stats.handshakes_timed_out - before.handshakes_timed_out, rows[i].timed_out);
        assert_int_equal(bare->stats.cert_refused - before.cert_refused, rows[i].cert_refused);
        assert_int_equal(bare->stats.alerts_received - before.alerts_received, rows[i].alerts);
        assert_int_equal(bare->stats.handshakes_failed - before.handshakes_failed, rows[i].failed);
        assert_int_equal(bare->stats.assocs_now, 0);
        assert_int_equal(bare->half_open, 0);
    }

    /* Established: an alert counts as one, nothing else is a failure. */
    before = bare->stats;
    a = started("127.0.0.1:4000", 1);
    a->state = DTLSUDP_STATE_ESTABLISHED;
    eng_assoc_finish(bare, a, DTLSUDP_ERR_PEER_ALERT);
    a = started("127.0.0.1:4000", 1);
    a->state = DTLSUDP_STATE_ESTABLISHED;
    eng_assoc_finish(bare, a, DTLSUDP_ERR_TIMEOUT);
    assert_int_equal(bare->stats.alerts_received - before.alerts_received, 1);
    assert_int_equal(bare->stats.handshakes_failed, before.handshakes_failed);
    assert_int_equal(bare->stats.handshakes_timed_out, before.handshakes_timed_out);
    assert_int_equal(bare_alloc.live_count, bare_baseline);
}

/* RFC 6347 4.2.8 links: a failed restart leaves the old association in
 * place; when the old one goes first, the restart inherits its slot. */
static void test_finish_detaches_restart_links(void **state)
{
    dtlsudp_addr peer = tn_addr("127.0.0.1:4000");
    dtlsudp_assoc *old = started("127.0.0.1:4000", 0), *heir;

    (void)state;
    eng_table_insert(bare, old);
    heir = started("127.0.0.1:4000", 0);
    old->successor = heir, heir->predecessor = old;
    eng_assoc_finish(bare, heir, DTLSUDP_ERR_HANDSHAKE);
    assert_null(old->successor);
    assert_ptr_equal(dtlsudp_engine_find(bare, &peer), old);

    heir = started("127.0.0.1:4000", 0);
    old->successor = heir, heir->predecessor = old;
    eng_assoc_finish(bare, old, DTLSUDP_ERR_REPLACED);
    assert_null(heir->predecessor);
    assert_ptr_equal(dtlsudp_engine_find(bare, &peer), heir);
    assert_int_equal(seen.reason, DTLSUDP_ERR_REPLACED);
    eng_assoc_finish(bare, heir, DTLSUDP_ERR_CLOSED);
    assert_null(dtlsudp_engine_find(bare, &peer));
    assert_int_equal(seen.closed, 3);
    assert_int_equal(bare_alloc.live_count, bare_baseline);
}

/* --- on the in-memory network --- */

static tn_net net;
static tn_node *s, *c;

static int both_established(tn_net *n, void *arg)
{
    (void)arg;
    return n->nodes[0].established >= 1 && n->nodes[1].established >= 1;
}

static int net_setup(void **state)
{
    (void)state;
    tn_init(&net, 3);
    s = tn_add(&net, "127.0.0.1:10161", &tc_get()->server, &tc_get()->ca, NULL);
    c = tn_add(&net, "127.0.0.1:49000", &tc_get()->client, &tc_get()->ca, NULL);
    return s != NULL && c != NULL ? 0 : -1;
}

static int net_teardown(void **state)
{
    (void)state;
    tn_free(&net);
    assert_int_equal(tn_leaking_nodes(&net), 0);
    return 0;
}

/* Connect c to s; returns s's association. */
static dtlsudp_assoc *establish(void)
{
    dtlsudp_assoc *sa;

    assert_non_null(tn_connect(&net, c, s, NULL));
    assert_true(tn_run(&net, both_established, NULL, 200));
    tn_pump(&net);
    sa = dtlsudp_engine_find(s->e, &c->addr);
    assert_non_null(sa);
    return sa;
}

/* What n has queued: the number of datagrams, and the content type and
 * (for a plaintext alert) description of the last one. */
static size_t drain(tn_node *n, int *type, int *alert)
{
    uint8_t buf[TN_MAX_DGRAM];
    size_t len, count = 0;

    *type = *alert = -1;
    while (dtlsudp_engine_pop(n->e, buf, sizeof(buf), &len, NULL, NULL, NULL) == DTLSUDP_OK) {
        count++;
        *type = buf[0];
        *alert = len == DTLSUDP_RECORD_HEADER_LEN + 2 ? buf[DTLSUDP_RECORD_HEADER_LEN + 1] : -1;
    }
    return count;
}

static dtlsudp_stats stats(tn_node *n)
{
    dtlsudp_stats st;
    assert_int_equal(dtlsudp_engine_get_stats(n->e, &st), DTLSUDP_OK);
    return st;
}

/* Closing an established association sends one close_notify, which the
 * peer takes as the end; a handshake being closed sends nothing. */
static void test_close_sends_close_notify_when_established(void **state)
{
    dtlsudp_addr nobody = tn_addr("127.0.0.1:9");
    dtlsudp_assoc *pending = NULL, *owner = (dtlsudp_assoc *)&owner;
    uint8_t buf[TN_MAX_DGRAM];
    size_t len;
    int type, alert;

    (void)state;
    dtlsudp_assoc_close(establish(), tn_clock);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_CLOSED);
    assert_int_equal(stats(s).closes_sent, 1);
    /* The close_notify outlives its association, which it no longer names. */
    assert_int_equal(dtlsudp_engine_pop(s->e, buf, sizeof(buf), &len, NULL, NULL, &owner), DTLSUDP_OK);
    assert_null(owner);
    assert_int_equal(tn_inject(&net, c, &s->addr, buf, len, NULL), DTLSUDP_ERR_CLOSED);
    assert_int_equal(c->closed, 1);
    assert_int_equal(c->last_reason, DTLSUDP_ERR_CLOSED);
    assert_int_equal(stats(c).closes_received, 1);

    assert_int_equal(dtlsudp_engine_connect(c->e, &nobody, NULL, tn_clock, &pending), DTLSUDP_OK);
    (void)drain(c, &type, &alert);
    dtlsudp_assoc_close(pending, tn_clock);
    assert_int_equal(c->closed, 2);
    assert_int_equal(drain(c, &type, &alert), 0);
    assert_int_equal(stats(c).closes_sent, 0);
    dtlsudp_assoc_close(NULL, tn_clock); /* nothing to close */
}

/* Abort ends an association at once and quietly: no close_notify; a
 * reason that is not association-fatal becomes CLOSED. */
static void test_abort_is_quiet(void **state)
{
    int type, alert;

    (void)state;
    dtlsudp_assoc_abort(establish(), DTLSUDP_ERR_PEER_CERT, tn_clock);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_PEER_CERT);
    assert_int_equal(drain(s, &type, &alert), 0);
    assert_int_equal(stats(s).closes_sent, 0);

    tn_pump(&net);
    tn_clock += 1000;
    dtlsudp_engine_close_all(c->e, tn_clock); /* the client forgets too */
    c->established = 0;
    dtlsudp_assoc_abort(establish(), DTLSUDP_ERR_LIMIT, tn_clock);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_CLOSED);
    dtlsudp_assoc_abort(NULL, DTLSUDP_ERR_CLOSED, tn_clock);
}

/* From inside an event, close and abort wait until the engine is done
 * with the association; then close sends its close_notify, abort not. */
static void test_close_and_abort_inside_event_deferred(void **state)
{
    static const uint8_t msg[] = "bye";
    dtlsudp_assoc *ca;
    int type, alert;

    (void)state;
    (void)establish();
    ca = dtlsudp_engine_find(c->e, &s->addr);
    s->close_on_data = 1;
    assert_int_equal(dtlsudp_assoc_write(ca, msg, sizeof(msg), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(s->data, 1);
    assert_int_equal(s->closed, 1);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_CLOSED);
    assert_int_equal(drain(s, &type, &alert), 1);
    assert_int_equal(type, DTLSUDP_CT_ALERT);
    assert_int_equal(stats(s).closes_sent, 1);

    s->close_on_data = 0;
    s->abort_on_data = DTLSUDP_ERR_PEER_CERT;
    dtlsudp_engine_close_all(c->e, tn_clock);
    c->established = 0;
    tn_clock += 1000;
    (void)establish();
    ca = dtlsudp_engine_find(c->e, &s->addr);
    assert_int_equal(dtlsudp_assoc_write(ca, msg, sizeof(msg), tn_clock), DTLSUDP_OK);
    tn_pump(&net);
    assert_int_equal(s->data, 2);
    assert_int_equal(s->closed, 2);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_PEER_CERT);
    assert_int_equal(drain(s, &type, &alert), 0);
    assert_int_equal(stats(s).closes_sent, 1);
}

/* Eviction: an established association gets a close_notify; a server
 * handshake's peer a fatal internal_error alert; a client handshake
 * sends nothing.  Each ends with EVICTED. */
static void test_evict(void **state)
{
    dtlsudp_addr nobody = tn_addr("127.0.0.1:9");
    uint8_t hello[TN_MAX_DGRAM];
    size_t len;
    dtlsudp_assoc *a = NULL;
    tn_node *c2;
    int type, alert;

    (void)state;
    eng_evict(s->e, establish());
    assert_int_equal(s->last_reason, DTLSUDP_ERR_EVICTED);
    assert_int_equal(drain(s, &type, &alert), 1);
    assert_int_equal(stats(s).closes_sent, 1);

    c2 = tn_add(&net, "127.0.0.1:49002", &tc_get()->client, &tc_get()->ca, NULL);
    assert_non_null(c2);
    len = tn_cookie_hello(&net, c2, s, hello, sizeof(hello));
    assert_int_equal(tn_inject(&net, s, &c2->addr, hello, len, &a), DTLSUDP_OK);
    assert_non_null(a);
    (void)drain(s, &type, &alert);
    eng_evict(s->e, a);
    assert_int_equal(s->closed, 2);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_EVICTED);
    assert_int_equal(drain(s, &type, &alert), 1);
    assert_int_equal(type, DTLSUDP_CT_ALERT);
    assert_int_equal(alert, 80); /* internal_error */
    assert_int_equal(stats(s).closes_sent, 1);

    assert_int_equal(dtlsudp_engine_connect(c2->e, &nobody, NULL, tn_clock, &a), DTLSUDP_OK);
    (void)drain(c2, &type, &alert);
    eng_evict(c2->e, a);
    assert_int_equal(c2->last_reason, DTLSUDP_ERR_EVICTED);
    assert_int_equal(drain(c2, &type, &alert), 0);
}

/* close_all ends every association, established ones with a close_notify. */
static void test_close_all(void **state)
{
    dtlsudp_addr nobody = tn_addr("127.0.0.1:9");
    int type, alert;

    (void)state;
    (void)establish();
    assert_int_equal(dtlsudp_engine_connect(s->e, &nobody, NULL, tn_clock, NULL), DTLSUDP_OK);
    (void)drain(s, &type, &alert);
    dtlsudp_engine_close_all(s->e, tn_clock);
    assert_int_equal(s->closed, 2);
    assert_int_equal(s->last_reason, DTLSUDP_ERR_CLOSED);
    assert_int_equal(drain(s, &type, &alert), 1);
    assert_int_equal(type, DTLSUDP_CT_ALERT);
    assert_int_equal(stats(s).closes_sent, 1);
    assert_int_equal(stats(s).assocs_now, 0);
    assert_int_equal(eng_count(s->e), 0);
    dtlsudp_engine_close_all(NULL, tn_clock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alloc_start_destroy, bare_setup, bare_teardown),
        cmocka_unit_test_setup_teardown(test_finish_counts_by_reason, bare_setup, bare_teardown),
        cmocka_unit_test_setup_teardown(test_finish_detaches_restart_links, bare_setup, bare_teardown),
        cmocka_unit_test_setup_teardown(test_close_sends_close_notify_when_established, net_setup, net_teardown),
        cmocka_unit_test_setup_teardown(test_abort_is_quiet, net_setup, net_teardown),
        cmocka_unit_test_setup_teardown(test_close_and_abort_inside_event_deferred, net_setup, net_teardown),
        cmocka_unit_test_setup_teardown(test_evict, net_setup, net_teardown),
        cmocka_unit_test_setup_teardown(test_close_all, net_setup, net_teardown),
    };
    int ret = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return ret;
}
