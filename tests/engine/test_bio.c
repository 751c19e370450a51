/*
 * test_bio.c - the in-memory datagram BIO (transport/engine/bio.c): every
 * write is one datagram in the engine's output queue, addressed to the
 * io's peer and counted; a full queue drops and counts but the write
 * still "succeeds" (UDP); a read hands out the one datagram being fed,
 * truncated to the buffer like recvfrom, then asks to retry; the MTU
 * overhead follows the peer's family.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>

#include "engine_internal.h"

static dtlsudp_engine *e;
static eng_io io;
static dtlsudp_addr peer4, peer6, local4;
static BIO *b;

static int setup(void **state)
{
    dtlsudp_engine_config cfg;

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    if (dtlsudp_engine_new(&cfg, 0, &e) != DTLSUDP_OK)
        return -1;
    if (dtlsudp_addr_parse("192.0.2.1:1000", 0, &peer4) != 0 ||
        dtlsudp_addr_parse("[2001:db8::1]:1000", 0, &peer6) != 0 ||
        dtlsudp_addr_parse("192.0.2.200:161", 0, &local4) != 0)
        return -1;
    memset(&io, 0, sizeof(io));
    io.e = e;
    io.peer = &peer4;
    io.local = &local4;
    b = eng_bio_new(e->bio_method, &io);
    return b != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    BIO_free(b);
    dtlsudp_engine_free(e);
    return 0;
}

static void test_each_write_is_one_datagram(void **state)
{
    uint8_t out[64];
    size_t len;
    dtlsudp_addr to, from;
    dtlsudp_assoc *owner = (dtlsudp_assoc *)1;

    (void)state;
    assert_int_equal(BIO_write(b, "first", 5), 5);
    assert_int_equal(BIO_write(b, "second!", 7), 7);
    assert_int_equal(e->stats.datagrams_out, 2);
    assert_int_equal(e->stats.bytes_out, 12);
    /* two writes, two datagrams: no merging as BIO_s_mem would */
    assert_int_equal(dtlsudp_engine_pop(e, out, sizeof(out), &len, &to, &from, &owner), DTLSUDP_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "first", 5);
    assert_true(dtlsudp_addr_equal(&to, &peer4));
    assert_true(dtlsudp_addr_equal(&from, &local4));
    assert_null(owner); /* the listen SSL's io has no association */
    assert_int_equal(dtlsudp_engine_pop(e, out, sizeof(out), &len, &to, &from, &owner), DTLSUDP_OK);
    assert_int_equal(len, 7);
    assert_memory_equal(out, "second!", 7);
    assert_int_equal(dtlsudp_engine_pop(e, out, sizeof(out), &len, &to, &from, &owner), DTLSUDP_ERR_AGAIN);
    assert_false(BIO_should_retry(b));
}

static void test_full_queue_drops_and_counts(void **state)
{
    static uint8_t big[2000];
    unsigned long written = 0;
    int i;

    (void)state;
    memset(big, 0xab, sizeof(big));
    for (i = 0; i < 1000 && !io.out_dropped; i++) {
        /* UDP semantics: the write reports success even when dropped */
        assert_int_equal(BIO_write(b, big, sizeof(big)), (int)sizeof(big));
        if (!io.out_dropped)
            written++;
    }
    assert_true(io.out_dropped);
    assert_int_equal(e->stats.dropped_queue, 1);
    assert_int_equal(e->stats.datagrams_out, written);
    assert_true(written * sizeof(big) <= DTLSUDP_OUTQ_BYTES);
    assert_true(written * sizeof(big) > DTLSUDP_OUTQ_BYTES / 2);
    assert_int_equal(e->outq.count, written);
    assert_false(BIO_should_retry(b)); /* never "try again": the datagram is gone */
}

static void test_read_hands_out_the_fed_datagram_once(void **state)
{
    static const uint8_t dgram[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    char buf[16];

    (void)state;
    /* nothing fed: retry */
    assert_int_equal(BIO_read(b, buf, sizeof(buf)), -1);
    assert_true(BIO_should_retry(b));
    assert_true(BIO_should_read(b));
    assert_int_equal(BIO_pending(b), 0);

    io.in = dgram;
    io.in_len = sizeof(dgram);
    assert_int_equal(BIO_pending(b), 10);
    assert_int_equal(BIO_read(b, buf, sizeof(buf)), 10);
    assert_false(BIO_should_retry(b));
    assert_memory_equal(buf, dgram, 10);
    /* consumed: the next read waits for the next datagram */
    assert_null(io.in);
    assert_int_equal(BIO_pending(b), 0);
    assert_int_equal(BIO_read(b, buf, sizeof(buf)), -1);
    assert_true(BIO_should_retry(b));

    /* a short buffer gets the head of the datagram; the rest is lost */
    io.in = dgram;
    io.in_len = sizeof(dgram);
    assert_int_equal(BIO_read(b, buf, 4), 4);
    assert_memory_equal(buf, dgram, 4);
    assert_int_equal(BIO_read(b, buf, sizeof(buf)), -1);
}

static void test_mtu_overhead_by_family(void **state)
{
    (void)state;
    io.peer = &peer4;
    assert_int_equal(BIO_ctrl(b, BIO_CTRL_DGRAM_GET_MTU_OVERHEAD, 0, NULL), DTLSUDP_IPV4_OVERHEAD);
    assert_int_equal(DTLSUDP_IPV4_OVERHEAD, 20 + 8);
    io.peer = &peer6;
    assert_int_equal(BIO_ctrl(b, BIO_CTRL_DGRAM_GET_MTU_OVERHEAD, 0, NULL), DTLSUDP_IPV6_OVERHEAD);
    assert_int_equal(DTLSUDP_IPV6_OVERHEAD, 40 + 8);
    /* no MTU discovery, no peer known here, nothing pending to write */
    assert_int_equal(BIO_ctrl(b, BIO_CTRL_DGRAM_QUERY_MTU, 0, NULL), 0);
    assert_int_equal(BIO_ctrl(b, BIO_CTRL_DGRAM_GET_PEER, 0, NULL), 0);
    assert_int_equal(BIO_ctrl(b, BIO_CTRL_WPENDING, 0, NULL), 0);
    assert_int_equal(BIO_flush(b), 1);
}

static void test_ssl_io_is_the_read_bio_data(void **state)
{
    SSL *ssl = SSL_new(dtlsudp_engine_ssl_ctx(e));

    (void)state;
    assert_non_null(ssl);
    assert_null(eng_ssl_io(ssl));
    BIO_up_ref(b);
    SSL_set_bio(ssl, b, b);
    assert_ptr_equal(eng_ssl_io(ssl), &io);
    SSL_free(ssl);
}

static void test_bio_without_io_fails(void **state)
{
    BIO *bare = BIO_new(e->bio_method);
    char buf[4];

    (void)state;
    assert_non_null(bare);
    assert_int_equal(BIO_write(bare, "x", 1), -1);
    assert_int_equal(BIO_read(bare, buf, sizeof(buf)), -1);
    assert_false(BIO_should_retry(bare));
    assert_int_equal(e->stats.datagrams_out, 0);
    BIO_free(bare);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_write_is_one_datagram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_drops_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_hands_out_the_fed_datagram_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mtu_overhead_by_family, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ssl_io_is_the_read_bio_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bio_without_io_fails, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
