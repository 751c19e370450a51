/*
 * test_cookie.c - the stateless cookie gate (transport/engine/cookie.c,
 * RFC 6347 4.2.1): a cookie made for one address verifies for it and for
 * no other port, address or IPv6 scope; the previous secret still verifies
 * after one rotation and not after two; truncated or altered cookies are
 * refused.  Every ClientHello here is a real one, made by a client engine
 * answering the server's HelloVerifyRequest, captured on its way and fed
 * to the server from chosen addresses.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine_internal.h"
#include "record.h"
#include "testnet.h"

#define HELLO_BODY (DTLSUDP_RECORD_HEADER_LEN + DTLSUDP_HANDSHAKE_HEADER_LEN)

/* The cookie of a ClientHello datagram: its offset and length, 0 if none. */
static size_t hello_cookie(const uint8_t *d, size_t len, size_t *off)
{
    size_t p = HELLO_BODY + 2 + 32; /* client_version, random */

    if (!eng_record_is_client_hello(d, len, NULL) || p + 1 > len)
        return 0;
    p += 1 + d[p]; /* session_id */
    if (p + 1 > len)
        return 0;
    *off = p + 1;
    return d[p];
}

typedef struct captured {
    uint8_t data[TN_MAX_DGRAM];
    size_t len;
} captured;

static int capture_cookie_hello(tn_net *net, tn_packet *p, void *arg)
{
    captured *c = arg;
    size_t off;

    (void)net;
    if (c->len == 0 && hello_cookie(p->data, p->len, &off) > 0) {
        memcpy(c->data, p->data, p->len);
        c->len = p->len;
        return 0; /* the server sees it only from where the test chooses */
    }
    return 1;
}

static tn_net net;
static tn_node *server, *client;
static captured hello;

/* A client at client_addr answers the server's HelloVerifyRequest; its
 * ClientHello with the cookie ends up in `hello', undelivered. */
static void make_cookie_hello(const char *server_addr, const char *client_addr)
{
    const testcerts *tc = tc_get();
    int i;

    memset(&hello, 0, sizeof(hello));
    tn_init(&net, 1);
    server = tn_add(&net, server_addr, &tc->server, &tc->ca, NULL);
    client = tn_add(&net, client_addr, &tc->client, &tc->ca, NULL);
    assert_non_null(server);
    assert_non_null(client);
    net.tap = capture_cookie_hello;
    net.tap_arg = &hello;
    assert_non_null(tn_connect(&net, client, server, NULL));
    for (i = 0; i < 10 && hello.len == 0; i++)
        tn_pump(&net);
    assert_true(hello.len > 0);
    assert_int_equal(eng_count(server->e), 0);
}

static void feed(const dtlsudp_addr *from, const uint8_t *d, size_t len)
{
    (void)tn_inject(&net, server, from, d, len, NULL);
}

static void expect_stats(uint64_t verified, uint64_t bad)
{
    dtlsudp_stats st;

    dtlsudp_engine_get_stats(server->e, &st);
    assert_int_equal(st.cookies_verified, verified);
    assert_int_equal(st.cookies_bad, bad);
    /* an association exists only after a verified cookie */
    assert_int_equal(eng_count(server->e), verified);
}

static void test_cookie_verifies_for_its_address(void **state)
{
    dtlsudp_stats st;

    (void)state;
    make_cookie_hello("127.0.0.1:10161", "127.0.0.1:20000");
    dtlsudp_engine_get_stats(server->e, &st);
    assert_int_equal(st.cookies_sent, 1);
    feed(&client->addr, hello.data, hello.len);
    expect_stats(1, 0);
    tn_free(&net);
}

static void test_cookie_is_bound_to_address_and_port(void **state)
{
    dtlsudp_addr other_port = tn_addr("127.0.0.1:20001");
    dtlsudp_addr other_host = tn_addr("127.0.0.2:20000");

    (void)state;
    make_cookie_hello("127.0.0.1:10161", "127.0.0.1:20000");
    feed(&other_port, hello.data, hello.len);
    expect_stats(0, 1);
    feed(&other_host, hello.data, hello.len);
    expect_stats(0, 2);
    /* positive control: the same bytes from the address they were made for */
    feed(&client->addr, hello.data, hello.len);
    expect_stats(1, 2);
    tn_free(&net);
}

static void test_ipv6_cookie_covers_the_scope(void **state)
{
    dtlsudp_addr scoped;

    (void)state;
    make_cookie_hello("[::1]:10161", "[::1]:20000");
    scoped = client->addr;
    scoped.sin6.sin6_scope_id = 7;
    feed(&scoped, hello.data, hello.len);
    expect_stats(0, 1);
    feed(&client->addr, hello.data, hello.len);
    expect_stats(1, 1);
    tn_free(&net);
}

static void test_previous_secret_lasts_one_rotation(void **state)
{
    (void)state;
    make_cookie_hello("127.0.0.1:10161", "127.0.0.1:20000");
    assert_int_equal(eng_cookie_rotate(server->e), DTLSUDP_OK);
    feed(&client->addr, hello.data, hello.len);
    expect_stats(1, 0);
    tn_free(&net);

    make_cookie_hello("127.0.0.1:10161", "127.0.0.1:20000");
    assert_int_equal(eng_cookie_rotate(server->e), DTLSUDP_OK);
    assert_int_equal(eng_cookie_rotate(server->e), DTLSUDP_OK);
    feed(&client->addr, hello.data, hello.len);
    expect_stats(0, 1);
    tn_free(&net);
}

static void test_rotation_on_the_engine_clock(void **state)
{
    dtlsudp_engine *e;
    uint8_t before[DTLSUDP_COOKIE_SECRET_LEN];

    (void)state;
    make_cookie_hello("127.0.0.1:10161", "127.0.0.1:20000");
    e = server->e;
    memcpy(before, e->cookie_secret[0], sizeof(before));
    assert_int_equal(e->cookie_rotate_at, tn_clock + e->cfg.cookie_rotation);
    /* the engine's timer rotates at the deadline and moves it one period */
    tn_clock = e->cookie_rotate_at;
    assert_int_equal(dtlsudp_engine_handle_timeout(e, tn_clock), DTLSUDP_OK);
    assert_memory_equal(e->cookie_secret[1], before, sizeof(before));
    assert_memory_not_equal(e->cookie_secret[0], before, sizeof(before));
    assert_int_equal(e->cookie_rotate_at, tn_clock + e->cfg.cookie_rotation);
    /* one rotation: the hello made before it still verifies */
    feed(&client->addr, hello.data, hello.len);
    expect_stats(1, 0);
    tn_free(&net);
}

/* The hello with its cookie one byte shorter, every length fixed up. */
static size_t truncate_cookie(uint8_t *d, size_t len)
{
    size_t off = 0, clen = hello_cookie(d, len, &off);
    size_t rec_len, hs_len, frag_len;

    assert_true(clen > 1);
    memmove(d + off + clen - 1, d + off + clen, len - (off + clen));
    d[off - 1] = (uint8_t)(clen - 1);
    rec_len = ((size_t)d[11] << 8 | d[12]) - 1;
    d[11] = (uint8_t)(rec_len >> 8);
    d[12] = (uint8_t)rec_len;
    hs_len = ((size_t)d[14] << 16 | (size_t)d[15] << 8 | d[16]) - 1;
    d[14] = (uint8_t)(hs_len >> 16);
    d[15] = (uint8_t)(hs_len >> 8);
    d[16] = (uint8_t)hs_len;
    frag_len = ((size_t)d[22] << 16 | (size_t)d[23] << 8 | d[24]) - 1;
    d[22] = (uint8_t)(frag_len >> 16);
    d[23] = (uint8_t)(frag_len >> 8);
    d[24] = (uint8_t)frag_len;
    return len - 1;
}

static void test_truncated_or_altered_cookie_is_refused(void **state)
{
    uint8_t copy[TN_MAX_DGRAM];
    size_t off = 0, clen, len;

    (void)state;
    make_cookie_hello("127.0.0.1:10161", "127.0.0.1:20000");
    clen = hello_cookie(hello.data, hello.len, &off);
    assert_int_equal(clen, 32); /* HMAC-SHA256 */

    memcpy(copy, hello.data, hello.len);
    len = truncate_cookie(copy, hello.len);
    assert_int_equal(hello_cookie(copy, len, &off), 31);
    feed(&client->addr, copy, len);
    expect_stats(0, 1);

    memcpy(copy, hello.data, hello.len);
    copy[off + 5] ^= 0x01;
    feed(&client->addr, copy, hello.len);
    expect_stats(0, 2);

    feed(&client->addr, hello.data, hello.len);
    expect_stats(1, 2);
    tn_free(&net);
}

/* --- the secrets come from the injected random source --- */

static int rng_calls, rng_fail;

static int counting_random(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    rng_calls++;
    if (rng_fail)
        return -1;
    memset(buf, 0x40 + rng_calls, len);
    return 0;
}

static void test_secrets_from_the_random_source(void **state)
{
    dtlsudp_engine_config cfg;
    dtlsudp_engine *e = NULL;
    uint8_t want[DTLSUDP_COOKIE_SECRET_LEN], prev[DTLSUDP_COOKIE_SECRET_LEN];

    (void)state;
    dtlsudp_engine_config_init(&cfg);
    cfg.random = counting_random;
    rng_calls = rng_fail = 0;
    assert_int_equal(dtlsudp_engine_new(&cfg, 1000, &e), DTLSUDP_OK);
    /* at start both slots hold the one secret */
    assert_memory_equal(e->cookie_secret[0], e->cookie_secret[1], DTLSUDP_COOKIE_SECRET_LEN);
    assert_int_equal(e->cookie_rotate_at, 1000 + cfg.cookie_rotation);

    memcpy(prev, e->cookie_secret[0], sizeof(prev));
    assert_int_equal(eng_cookie_rotate(e), DTLSUDP_OK);
    memset(want, 0x40 + rng_calls, sizeof(want));
    assert_memory_equal(e->cookie_secret[0], want, sizeof(want));
    assert_memory_equal(e->cookie_secret[1], prev, sizeof(prev));

    /* a failing source leaves both secrets as they were */
    rng_fail = 1;
    assert_int_equal(eng_cookie_rotate(e), DTLSUDP_ERR_FATAL);
    assert_memory_equal(e->cookie_secret[0], want, sizeof(want));
    assert_memory_equal(e->cookie_secret[1], prev, sizeof(prev));
    dtlsudp_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_verifies_for_its_address),
        cmocka_unit_test(test_cookie_is_bound_to_address_and_port),
        cmocka_unit_test(test_ipv6_cookie_covers_the_scope),
        cmocka_unit_test(test_previous_secret_lasts_one_rotation),
        cmocka_unit_test(test_rotation_on_the_engine_clock),
        cmocka_unit_test(test_truncated_or_altered_cookie_is_refused),
        cmocka_unit_test(test_secrets_from_the_random_source),
    };
    int ret;

    tn_mem_init();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    tc_free();
    return ret;
}
