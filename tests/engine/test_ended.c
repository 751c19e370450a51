/*
 * test_ended.c - the ClientHellos of server associations that ended
 * (transport/engine/ended.c): the ring remembers (peer, ClientHello
 * random) of the last DTLSUDP_ENDED_SLOTS server associations, oldest
 * evicted first; a repeated hello of an unfinished handshake is answered
 * with a fatal internal_error alert numbered after our last epoch-0
 * record, one of an established association is dropped silently; other
 * randoms, ports and client associations are left alone.
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

static dtlsudp_engine *e;

static int setup(void **state)
{
    dtlsudp_engine_config cfg;

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    return dtlsudp_engine_new(&cfg, 0, &e) == DTLSUDP_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    dtlsudp_engine_free(e);
    e = NULL;
    return 0;
}

static dtlsudp_addr addr(const char *text)
{
    dtlsudp_addr a;
    assert_int_equal(dtlsudp_addr_parse(text, 1, &a), DTLSUDP_OK);
    return a;
}

/* An epoch-0 ClientHello datagram whose random is 32 x `r'. */
static size_t client_hello(uint8_t *out, uint8_t r)
{
    const size_t body = 2 + 32 + 1 + 1 + 2 + 2 + 1 + 1;
    uint8_t *h = out + DTLSUDP_RECORD_HEADER_LEN;
    size_t n = 0;

    eng_record_put_header(out, DTLSUDP_CT_HANDSHAKE, 0xfefd, 0, 1, DTLSUDP_HANDSHAKE_HEADER_LEN + body);
    h[n++] = DTLSUDP_HS_CLIENT_HELLO;
    h[n++] = 0, h[n++] = 0, h[n++] = (uint8_t)body; /* length */
    h[n++] = 0, h[n++] = 1;                          /* message_seq */
    h[n++] = 0, h[n++] = 0, h[n++] = 0;              /* fragment_offset */
    h[n++] = 0, h[n++] = 0, h[n++] = (uint8_t)body; /* fragment_length */
    h[n++] = 0xfe, h[n++] = 0xfd;
    memset(h + n, r, 32);
    n += 32;
    h[n++] = 0;                                    /* session_id */
    h[n++] = 0;                                    /* cookie */
    h[n++] = 0, h[n++] = 2, h[n++] = 0xc0, h[n++] = 0x2b; /* cipher_suites */
    h[n++] = 1, h[n++] = 0;                        /* compression */
    return DTLSUDP_RECORD_HEADER_LEN + n;
}

static void fake_server_assoc(dtlsudp_assoc *a, const char *peer, uint8_t r, int established)
{
    memset(a, 0, sizeof(*a));
    a->e = e;
    a->peer = addr(peer);
    a->state = established ? DTLSUDP_STATE_ESTABLISHED : DTLSUDP_STATE_HANDSHAKING;
    a->was_established = (unsigned)established;
    a->handshake_done = (unsigned)established;
    memset(a->client_random, r, sizeof(a->client_random));
}

static int check(const char *peer, uint8_t r)
{
    uint8_t hello[128];
    size_t len = client_hello(hello, r);
    dtlsudp_addr p = addr(peer);

    return eng_ended_check(e, &p, NULL, hello, len);
}

static size_t queued(void)
{
    return e->outq.count;
}

static void test_nothing_remembered_before_an_end(void **state)
{
    (void)state;
    assert_null(e->ended);
    assert_int_equal(check("192.0.2.1:1000", 0x11), DTLSUDP_OK);
    assert_null(e->ended); /* a pure client never pays for the ring */
}

static void test_established_copy_is_dropped_silently(void **state)
{
    dtlsudp_assoc a;

    (void)state;
    fake_server_assoc(&a, "192.0.2.1:1000", 0x11, 1);
    eng_ended_note(e, &a);
    assert_non_null(e->ended);
    assert_int_equal(check("192.0.2.1:1000", 0x11), DTLSUDP_ERR_DROPPED);
    assert_int_equal(e->stats.dropped_stale, 1);
    assert_int_equal(queued(), 0);
    /* another random (a restart, RFC 6347 4.2.8) or another port is new */
    assert_int_equal(check("192.0.2.1:1000", 0x12), DTLSUDP_OK);
    assert_int_equal(check("192.0.2.1:1001", 0x11), DTLSUDP_OK);
    assert_int_equal(check("192.0.2.2:1000", 0x11), DTLSUDP_OK);
    assert_int_equal(e->stats.dropped_stale, 1);
}

static void pop_alert(const char *peer, uint64_t seq, uint16_t version)
{
    uint8_t buf[64];
    size_t len;
    dtlsudp_addr to, local, want = addr(peer);
    dtlsudp_assoc *owner = (dtlsudp_assoc *)1;
    const uint8_t *p = buf;
    eng_record rec;

    assert_int_equal(dtlsudp_engine_pop(e, buf, sizeof(buf), &len, &to, &local, &owner), DTLSUDP_OK);
    assert_true(dtlsudp_addr_equal(&to, &want));
    assert_null(owner);
    assert_int_equal(len, DTLSUDP_RECORD_HEADER_LEN + 2);
    assert_int_equal(eng_record_parse(&p, buf + len, &rec), 0);
    assert_int_equal(rec.content_type, DTLSUDP_CT_ALERT);
    assert_int_equal(rec.epoch, 0);
    assert_int_equal(rec.seq, seq);
    assert_int_equal(rec.version, version);
    assert_int_equal(rec.fragment[0], 2);  /* fatal */
    assert_int_equal(rec.fragment[1], 80); /* internal_error */
}

static void test_unfinished_copy_gets_an_alert_numbered_after_ours(void **state)
{
    dtlsudp_assoc a;

    (void)state;
    fake_server_assoc(&a, "[2001:db8::1]:1000", 0x21, 0);
    a.hs0_next_write_seq = 5;
    a.hs0_version = 0xfeff;
    eng_ended_note(e, &a);
    assert_int_equal(check("[2001:db8::1]:1000", 0x21), DTLSUDP_ERR_DROPPED);
    pop_alert("[2001:db8::1]:1000", 5, 0xfeff);
    /* the client's next copy gets the next number (its replay window) */
    assert_int_equal(check("[2001:db8::1]:1000", 0x21), DTLSUDP_ERR_DROPPED);
    pop_alert("[2001:db8::1]:1000", 6, 0xfeff);
    assert_int_equal(queued(), 0);
}

static void test_alert_at_eviction(void **state)
{
    dtlsudp_assoc a;

    (void)state;
    fake_server_assoc(&a, "192.0.2.9:9", 0x31, 0);
    /* nothing sent yet: sequence 0, DTLS 1.2 */
    eng_ended_alert(e, &a);
    pop_alert("192.0.2.9:9", 0, 0xfefd);
    a.hs0_next_write_seq = 3;
    a.hs0_version = 0xfefd;
    eng_ended_alert(e, &a);
    pop_alert("192.0.2.9:9", 3, 0xfefd);
}

static void test_note_sent_follows_our_epoch0_records(void **state)
{
    dtlsudp_assoc a;
    uint8_t d[3 * (DTLSUDP_RECORD_HEADER_LEN + 4)];
    size_t n = 0;

    (void)state;
    fake_server_assoc(&a, "192.0.2.1:1000", 0x41, 0);
    /* one datagram: epoch 0 seq 2 (DTLS 1.0 record version), epoch 0 seq 4,
     * then an epoch-1 record that must not count */
    eng_record_put_header(d + n, DTLSUDP_CT_HANDSHAKE, 0xfeff, 0, 2, 4);
    n += DTLSUDP_RECORD_HEADER_LEN + 4;
    eng_record_put_header(d + n, DTLSUDP_CT_HANDSHAKE, 0xfefd, 0, 4, 4);
    n += DTLSUDP_RECORD_HEADER_LEN + 4;
    eng_record_put_header(d + n, DTLSUDP_CT_HANDSHAKE, 0xfefd, 1, 40, 4);
    n += DTLSUDP_RECORD_HEADER_LEN + 4;
    eng_ended_note_sent(&a, d, n);
    assert_int_equal(a.hs0_next_write_seq, 5);
    assert_int_equal(a.hs0_version, 0xfefd);
    /* a lower number later (a retransmission of an older record) does not go back */
    eng_ended_note_sent(&a, d, DTLSUDP_RECORD_HEADER_LEN + 4);
    assert_int_equal(a.hs0_next_write_seq, 5);

    /* clients and established associations are not tracked */
    fake_server_assoc(&a, "192.0.2.1:1000", 0x41, 1);
    eng_ended_note_sent(&a, d, n);
    assert_int_equal(a.hs0_next_write_seq, 0);
    fake_server_assoc(&a, "192.0.2.1:1000", 0x41, 0);
    a.is_client = 1;
    eng_ended_note_sent(&a, d, n);
    assert_int_equal(a.hs0_next_write_seq, 0);
}

static void test_clients_and_unknown_randoms_are_not_noted(void **state)
{
    dtlsudp_assoc a;

    (void)state;
    fake_server_assoc(&a, "192.0.2.1:1000", 0x51, 0);
    a.is_client = 1;
    eng_ended_note(e, &a);
    assert_null(e->ended);
    fake_server_assoc(&a, "192.0.2.1:1000", 0x00, 0); /* never saw a ClientHello */
    eng_ended_note(e, &a);
    assert_null(e->ended);
    assert_int_equal(check("192.0.2.1:1000", 0x00), DTLSUDP_OK);
}

static void test_ring_evicts_the_oldest(void **state)
{
    dtlsudp_assoc a;
    char peer[64];
    int i;

    (void)state;
    /* DTLSUDP_ENDED_SLOTS + 1 associations end, each from its own port */
    for (i = 0; i <= DTLSUDP_ENDED_SLOTS; i++) {
        snprintf(peer, sizeof(peer), "192.0.2.7:%d", 2000 + i);
        fake_server_assoc(&a, peer, 0x61, 1);
        eng_ended_note(e, &a);
    }
    /* the first one made room for the last */
    assert_int_equal(check("192.0.2.7:2000", 0x61), DTLSUDP_OK);
    for (i = 1; i <= DTLSUDP_ENDED_SLOTS; i++) {
        snprintf(peer, sizeof(peer), "192.0.2.7:%d", 2000 + i);
        assert_int_equal(check(peer, 0x61), DTLSUDP_ERR_DROPPED);
    }
    /* one more end evicts the second */
    fake_server_assoc(&a, "192.0.2.8:1", 0x62, 1);
    eng_ended_note(e, &a);
    assert_int_equal(check("192.0.2.7:2001", 0x61), DTLSUDP_OK);
    assert_int_equal(check("192.0.2.7:2002", 0x61), DTLSUDP_ERR_DROPPED);
    assert_int_equal(check("192.0.2.8:1", 0x62), DTLSUDP_ERR_DROPPED);
}

static void test_not_a_client_hello_passes(void **state)
{
    dtlsudp_assoc a;
    uint8_t hello[128];
    size_t len = client_hello(hello, 0x71);
    dtlsudp_addr p = addr("192.0.2.1:1000");

    (void)state;
    fake_server_assoc(&a, "192.0.2.1:1000", 0x71, 0);
    eng_ended_note(e, &a);
    /* the same bytes cut before the random, or as epoch 1: not a hello */
    assert_int_equal(eng_ended_check(e, &p, NULL, hello, 40), DTLSUDP_OK);
    hello[4] = 1;
    assert_int_equal(eng_ended_check(e, &p, NULL, hello, len), DTLSUDP_OK);
    hello[4] = 0;
    assert_int_equal(eng_ended_check(e, &p, NULL, hello, len), DTLSUDP_ERR_DROPPED);
    (void)dtlsudp_engine_pop(e, hello, sizeof(hello), &len, &p, &p, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nothing_remembered_before_an_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_established_copy_is_dropped_silently, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unfinished_copy_gets_an_alert_numbered_after_ours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_at_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_note_sent_follows_our_epoch0_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clients_and_unknown_randoms_are_not_noted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_evicts_the_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_client_hello_passes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
