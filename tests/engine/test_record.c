/*
 * test_record.c - the record-header parser (transport/engine/record.c):
 * well-formed records, every truncation, bad fields, ClientHello detection.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"

/* An epoch-0 DTLS 1.0-versioned record carrying a ClientHello header
 * (message_seq 1) with a 4-byte body. */
static const uint8_t client_hello[] = {
    22,   0xfe, 0xff, 0x00, 0x00, 0, 0, 0, 0, 0, 7, 0x00, 16, /* record header, length 16 */
    1,    0,    0,    4,    0x00, 1, 0, 0, 0, 0, 0, 4,       /* handshake header */
    0xfe, 0xfd, 0xaa, 0xbb,                                  /* body */
};

static void test_parse_one(void **state)
{
    const uint8_t *p = client_hello, *end = client_hello + sizeof(client_hello);
    eng_record r;

    (void)state;
    assert_int_equal(eng_record_parse(&p, end, &r), 0);
    assert_int_equal(r.content_type, 22);
    assert_int_equal(r.version, 0xfeff);
    assert_int_equal(r.epoch, 0);
    assert_int_equal(r.seq, 7);
    assert_int_equal(r.length, 16);
    assert_ptr_equal(r.fragment, client_hello + 13);
    assert_ptr_equal(p, end);
}

static void test_every_truncation_fails(void **state)
{
    size_t n;

    (void)state;
    for (n = 0; n < sizeof(client_hello); n++) {
        const uint8_t *p = client_hello;
        eng_record r;
        assert_int_equal(eng_record_parse(&p, client_hello + n, &r), -1);
        assert_ptr_equal(p, client_hello); /* the cursor does not move on failure */
        assert_int_equal(eng_record_scan(client_hello, n, NULL), -1);
        assert_int_equal(eng_record_is_client_hello(client_hello, n, NULL), 0);
    }
}

static void test_bad_fields(void **state)
{
    uint8_t b[sizeof(client_hello)];
    eng_record r;
    const uint8_t *p;

    (void)state;
    memcpy(b, client_hello, sizeof(b));
    b[0] = 24; /* unknown content type */
    p = b;
    assert_int_equal(eng_record_parse(&p, b + sizeof(b), &r), -1);
    memcpy(b, client_hello, sizeof(b));
    b[1] = 0x03; /* TLS, not DTLS */
    p = b;
    assert_int_equal(eng_record_parse(&p, b + sizeof(b), &r), -1);
    memcpy(b, client_hello, sizeof(b));
    b[12] = 17; /* length runs past the datagram */
    p = b;
    assert_int_equal(eng_record_parse(&p, b + sizeof(b), &r), -1);
    /* trailing garbage after a complete record */
    assert_int_equal(eng_record_scan(client_hello, sizeof(client_hello), &r), 1);
    memcpy(b, client_hello, sizeof(b));
    b[12] = 15;
    assert_int_equal(eng_record_scan(b, sizeof(b), &r), -1);
    assert_int_equal(eng_record_scan(NULL, 0, &r), -1);
}

static void test_two_records(void **state)
{
    uint8_t b[2 * sizeof(client_hello)];
    eng_record r;

    (void)state;
    memcpy(b, client_hello, sizeof(client_hello));
    memcpy(b + sizeof(client_hello), client_hello, sizeof(client_hello));
    b[sizeof(client_hello)] = 23;
    assert_int_equal(eng_record_scan(b, sizeof(b), &r), 2);
    assert_int_equal(r.content_type, 22);
}

static void test_client_hello_detection(void **state)
{
    uint8_t b[sizeof(client_hello)];
    uint16_t seq = 0;

    (void)state;
    assert_int_equal(eng_record_is_client_hello(client_hello, sizeof(client_hello), &seq), 1);
    assert_int_equal(seq, 1);
    memcpy(b, client_hello, sizeof(b));
    b[4] = 1; /* epoch 1: not a new handshake (RFC 6347 4.2.8 needs epoch 0) */
    assert_int_equal(eng_record_is_client_hello(b, sizeof(b), NULL), 0);
    memcpy(b, client_hello, sizeof(b));
    b[13] = 3; /* HelloVerifyRequest */
    assert_int_equal(eng_record_is_client_hello(b, sizeof(b), NULL), 0);
    memcpy(b, client_hello, sizeof(b));
    b[0] = 23;
    assert_int_equal(eng_record_is_client_hello(b, sizeof(b), NULL), 0);
    /* a record too short for the handshake header */
    memcpy(b, client_hello, sizeof(b));
    b[12] = 3;
    assert_int_equal(eng_record_is_client_hello(b, 16, NULL), 0);
}

static void test_client_hello_random(void **state)
{
    /* epoch-0 ClientHello, fragment offset 0, client_version + 32-byte random */
    uint8_t b[13 + 12 + 34];
    const uint8_t *random = NULL;
    size_t n;

    (void)state;
    memset(b, 0, sizeof(b));
    b[0] = 22;
    b[1] = 0xfe;
    b[2] = 0xfd;
    b[11] = 0;
    b[12] = 12 + 34;
    b[13] = 1;
    b[16] = 34;
    b[24] = 34; /* fragment_length */
    b[25] = 0xfe;
    b[26] = 0xfd;
    memset(b + 27, 0xab, 32);
    assert_int_equal(eng_record_client_hello_random(b, sizeof(b), &random), 1);
    assert_ptr_equal(random, b + 27);
    for (n = 0; n < sizeof(b); n++)
        assert_int_equal(eng_record_client_hello_random(b, n, &random), 0);
    b[21] = 1; /* fragment_offset != 0: the random is not in this fragment */
    assert_int_equal(eng_record_client_hello_random(b, sizeof(b), &random), 0);
    b[21] = 0;
    b[24] = 33; /* first fragment too short */
    assert_int_equal(eng_record_client_hello_random(b, sizeof(b), &random), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_one),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_two_records),
        cmocka_unit_test(test_client_hello_detection),
        cmocka_unit_test(test_client_hello_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
