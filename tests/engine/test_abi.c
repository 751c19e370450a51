/*
 * test_abi.c - the layouts of the versioned structs (transport/engine/abi.c):
 * one row per DTLSUDP_CONFIG_VERSION naming where each struct ended in that
 * version; reading copies the caller's prefix over the defaults, writing
 * fills the caller's prefix and never a byte past it; an unknown version or
 * struct is refused with INVALID and nothing is touched.  The engine's
 * versioned entry points read and write through it.
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "abi.h"
#include "engine_internal.h"

#define CANARY 0xA5
#define SLACK 64 /* bytes after a struct that must stay untouched */

#define END_OF(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

/* The engine config ended at `user' in V1; V2 appended cert, key and
 * chain.  The listener and connection configs embed it first, so their
 * later fields sat that much earlier in V1. */
#define ENGINE_V1_END END_OF(dtlsudp_engine_config, user)
#define SHIFT_SINCE_V1 (sizeof(dtlsudp_engine_config) - ENGINE_V1_END)
#define V1_OFFSET(type, field) (offsetof(type, field) - SHIFT_SINCE_V1)
#define V1_END_OF(type, last) (END_OF(type, last) - SHIFT_SINCE_V1)
/* V3 appended identity_cb and identity_sha256 to the engine config. */
#define ALIGNED(n) (((n) + _Alignof(dtlsudp_engine_config) - 1) / _Alignof(dtlsudp_engine_config) * _Alignof(dtlsudp_engine_config))
#define ENGINE_V2_END END_OF(dtlsudp_engine_config, chain)
#define SHIFT_SINCE_V2 (sizeof(dtlsudp_engine_config) - ALIGNED(ENGINE_V2_END))
#define V2_END_OF(type, last) (END_OF(type, last) - SHIFT_SINCE_V2)

/* What a V1, V2 and V3 caller were compiled with: these never change.  V2
 * appended dtlsudp_listener_config.reuse_port and the identity objects of
 * dtlsudp_engine_config, V3 the identity on demand. */
static const struct {
    enum eng_abi_struct which;
    size_t v1_end;  /* end of the last V1 field */
    size_t v2_end;  /* end of the last V2 field */
    size_t v3_end;  /* end of the last V3 field */
    size_t current; /* sizeof in this tree */
} structs[] = {
    {DTLSUDP_ABI_ENGINE_CONFIG, ENGINE_V1_END, ENGINE_V2_END, END_OF(dtlsudp_engine_config, identity_sha256),
     sizeof(dtlsudp_engine_config)},
    {DTLSUDP_ABI_CONNECT_OPTS, END_OF(dtlsudp_connect_opts, session_len), END_OF(dtlsudp_connect_opts, session_len),
     END_OF(dtlsudp_connect_opts, session_len), sizeof(dtlsudp_connect_opts)},
    {DTLSUDP_ABI_STATS, END_OF(dtlsudp_stats, tickets_refused), END_OF(dtlsudp_stats, tickets_refused),
     END_OF(dtlsudp_stats, tickets_refused), sizeof(dtlsudp_stats)},
    {DTLSUDP_ABI_LISTENER_CONFIG, V1_END_OF(dtlsudp_listener_config, v6only),
     V2_END_OF(dtlsudp_listener_config, reuse_port), END_OF(dtlsudp_listener_config, reuse_port),
     sizeof(dtlsudp_listener_config)},
    {DTLSUDP_ABI_NET_STATS, END_OF(dtlsudp_net_stats, send_dropped_full),
     END_OF(dtlsudp_net_stats, send_dropped_full), END_OF(dtlsudp_net_stats, send_dropped_full),
     sizeof(dtlsudp_net_stats)},
    {DTLSUDP_ABI_CONN_CONFIG, V1_END_OF(dtlsudp_conn_config, blocking), V2_END_OF(dtlsudp_conn_config, blocking),
     END_OF(dtlsudp_conn_config, blocking), sizeof(dtlsudp_conn_config)},
    {DTLSUDP_ABI_CONN_STATS, END_OF(dtlsudp_conn_stats, net), END_OF(dtlsudp_conn_stats, net),
     END_OF(dtlsudp_conn_stats, net), sizeof(dtlsudp_conn_stats)},
};
#define N_STRUCTS (sizeof(structs) / sizeof(structs[0]))

static const int unknown_versions[] = {0, -1, INT_MIN, DTLSUDP_CONFIG_VERSION + 1, INT_MAX};
#define N_UNKNOWN (sizeof(unknown_versions) / sizeof(unknown_versions[0]))

static int all_bytes(const void *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (((const unsigned char *)p)[i] != v)
            return 0;
    return 1;
}

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7u);
}

/* Every struct has a row for V1, V2 and V3, ending at its last field of that
 * version; the row
 * of the current version covers the whole struct (only trailing padding
 * may follow), so no field of the caller's is left out. */
static void test_sizes_of_known_versions(void **state)
{
    (void)state;
    assert_int_equal(N_STRUCTS, DTLSUDP_ABI_N_STRUCTS);
    for (size_t i = 0; i < N_STRUCTS; i++) {
        size_t v1 = eng_abi_size(DTLSUDP_CONFIG_V1, structs[i].which);
        size_t v2 = eng_abi_size(DTLSUDP_CONFIG_V2, structs[i].which);
        size_t v3 = eng_abi_size(DTLSUDP_CONFIG_V3, structs[i].which);
        size_t cur = eng_abi_size(DTLSUDP_CONFIG_VERSION, structs[i].which);
        assert_int_equal(v1, structs[i].v1_end);
        assert_int_equal(v2, structs[i].v2_end);
        assert_int_equal(v3, structs[i].v3_end);
        assert_true(cur > 0 && cur <= structs[i].current);
        assert_true(structs[i].current - cur < _Alignof(max_align_t));
    }
#if defined(__x86_64__) && defined(__LP64__)
    /* The sizes 1.0.0 was built with on amd64, independently of any
     * arithmetic on today's header. */
    assert_int_equal(eng_abi_size(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_ENGINE_CONFIG), 272);
    assert_int_equal(eng_abi_size(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_LISTENER_CONFIG), 292);
    assert_int_equal(eng_abi_size(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_CONN_CONFIG), 324);
#endif
}

/* Version 0, negative, newer than the library, and a struct number out
 * of range have no size. */
static void test_sizes_of_unknown_versions_and_structs(void **state)
{
    (void)state;
    for (size_t v = 0; v < N_UNKNOWN; v++)
        for (size_t i = 0; i < N_STRUCTS; i++)
            assert_int_equal(eng_abi_size(unknown_versions[v], structs[i].which), 0);
    assert_int_equal(eng_abi_size(DTLSUDP_CONFIG_VERSION, DTLSUDP_ABI_N_STRUCTS), 0);
    assert_int_equal(eng_abi_size(DTLSUDP_CONFIG_VERSION, (enum eng_abi_struct)-1), 0);
}

/* Reading takes exactly the caller's prefix: the source is a heap block of
 * that size (a read past it shows under valgrind / ASan), and the library's
 * copy keeps its own bytes after the prefix. */
static void test_read_copies_the_callers_prefix(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_STRUCTS; i++) {
        size_t n = eng_abi_size(DTLSUDP_CONFIG_VERSION, structs[i].which);
        uint8_t *in = malloc(n);
        uint8_t cur[sizeof(dtlsudp_engine_config) + sizeof(dtlsudp_stats) + SLACK];

        assert_non_null(in);
        assert_true(structs[i].current + SLACK <= sizeof(cur));
        fill_pattern(in, n, (uint8_t)i);
        memset(cur, CANARY, sizeof(cur));
        assert_int_equal(eng_abi_read(DTLSUDP_CONFIG_VERSION, structs[i].which, cur, in), DTLSUDP_OK);
        assert_memory_equal(cur, in, n);
        assert_true(all_bytes(cur + n, sizeof(cur) - n, CANARY));
        free(in);
    }
}

/* Writing fills the caller's prefix and not one byte after it. */
static void test_write_fills_only_the_callers_prefix(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_STRUCTS; i++) {
        size_t n = eng_abi_size(DTLSUDP_CONFIG_VERSION, structs[i].which);
        uint8_t cur[sizeof(dtlsudp_engine_config) + sizeof(dtlsudp_stats)];
        uint8_t out[sizeof(cur) + SLACK];

        assert_true(n <= sizeof(cur));
        fill_pattern(cur, sizeof(cur), (uint8_t)(0x40 + i));
        memset(out, CANARY, sizeof(out));
        assert_int_equal(eng_abi_write(DTLSUDP_CONFIG_VERSION, structs[i].which, out, cur), DTLSUDP_OK);
        assert_memory_equal(out, cur, n);
        assert_true(all_bytes(out + n, sizeof(out) - n, CANARY));
    }
}

/* Unknown version or struct, or a NULL on either side: INVALID, and the
 * destination is left as it was. */
static void test_refusals_touch_nothing(void **state)
{
    uint8_t src[sizeof(dtlsudp_stats)], dst[sizeof(dtlsudp_stats)];
    const enum eng_abi_struct st = DTLSUDP_ABI_STATS;

    (void)state;
    fill_pattern(src, sizeof(src), 3);
    for (size_t v = 0; v < N_UNKNOWN; v++) {
        memset(dst, CANARY, sizeof(dst));
        assert_int_equal(eng_abi_read(unknown_versions[v], st, dst, src), DTLSUDP_ERR_INVALID);
        assert_true(all_bytes(dst, sizeof(dst), CANARY));
        assert_int_equal(eng_abi_write(unknown_versions[v], st, dst, src), DTLSUDP_ERR_INVALID);
        assert_true(all_bytes(dst, sizeof(dst), CANARY));
    }
    memset(dst, CANARY, sizeof(dst));
    assert_int_equal(eng_abi_read(DTLSUDP_CONFIG_VERSION, DTLSUDP_ABI_N_STRUCTS, dst, src), DTLSUDP_ERR_INVALID);
    assert_int_equal(eng_abi_write(DTLSUDP_CONFIG_VERSION, DTLSUDP_ABI_N_STRUCTS, dst, src), DTLSUDP_ERR_INVALID);
    assert_true(all_bytes(dst, sizeof(dst), CANARY));
    assert_int_equal(eng_abi_read(DTLSUDP_CONFIG_VERSION, st, NULL, src), DTLSUDP_ERR_INVALID);
    assert_int_equal(eng_abi_read(DTLSUDP_CONFIG_VERSION, st, dst, NULL), DTLSUDP_ERR_INVALID);
    assert_int_equal(eng_abi_write(DTLSUDP_CONFIG_VERSION, st, NULL, src), DTLSUDP_ERR_INVALID);
    assert_int_equal(eng_abi_write(DTLSUDP_CONFIG_VERSION, st, dst, NULL), DTLSUDP_ERR_INVALID);
    assert_true(all_bytes(dst, sizeof(dst), CANARY));
}

/* The entry points go through the rows: a V1 config is taken field for
 * field (zero fields become defaults, the rest are the caller's), a V1
 * config_init writes the defaults, and a V1 connect takes its options. */
static void test_entry_points_read_the_callers_struct(void **state)
{
    size_t n = eng_abi_size(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_ENGINE_CONFIG);
    dtlsudp_engine_config *cfg = malloc(n), defaults;
    dtlsudp_connect_opts *opts = malloc(eng_abi_size(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_CONNECT_OPTS));
    dtlsudp_fingerprint pin;
    dtlsudp_engine *e = NULL;
    dtlsudp_assoc *a = NULL;
    dtlsudp_addr peer;

    (void)state;
    assert_non_null(cfg);
    assert_non_null(opts);
    memset(cfg, CANARY, n);
    assert_int_equal(dtlsudp_engine_config_init_versioned(DTLSUDP_CONFIG_V1, cfg), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_config_init(&defaults), DTLSUDP_OK);
    assert_memory_equal(cfg, &defaults, n);
    assert_int_equal(dtlsudp_engine_config_init_versioned(DTLSUDP_CONFIG_V1, NULL), DTLSUDP_ERR_INVALID);

    cfg->max_assocs = 100;
    cfg->max_half_open = 10;
    cfg->idle_timeout = 1234;
    cfg->cookie_rotation = 0; /* zero: the default */
    assert_int_equal(dtlsudp_engine_new_versioned(DTLSUDP_CONFIG_V1, NULL, 1000, &e), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_engine_new_versioned(DTLSUDP_CONFIG_V1, cfg, 1000, NULL), DTLSUDP_ERR_INVALID);
    assert_int_equal(dtlsudp_engine_new_versioned(DTLSUDP_CONFIG_V1, cfg, 1000, &e), DTLSUDP_OK);
    assert_int_equal(e->cfg.max_assocs, 100);
    assert_int_equal(e->cfg.max_half_open, 10);
    assert_int_equal(e->cfg.idle_timeout, 1234);
    assert_int_equal(e->cfg.cookie_rotation, defaults.cookie_rotation);

    memset(&pin, 0, sizeof(pin));
    pin.len = 32;
    memset(pin.bytes, 0x5c, pin.len);
    memset(opts, 0, sizeof(*opts));
    opts->peer_fingerprints = &pin;
    opts->n_peer_fingerprints = 1;
    opts->hostname = "server.example.com";
    assert_int_equal(dtlsudp_addr_parse("127.0.0.1:4433", 0, &peer), DTLSUDP_OK);
    assert_int_equal(dtlsudp_engine_connect_versioned(DTLSUDP_CONFIG_V1, e, &peer, opts, 1000, &a), DTLSUDP_OK);
    assert_non_null(a);
    assert_int_equal(a->n_pins, 1);
    assert_memory_equal(a->pins[0].bytes, pin.bytes, pin.len);
    assert_string_equal(a->hostname, "server.example.com");
    dtlsudp_engine_free(e);
    free(opts);
    free(cfg);
}

/* A V1 listener config (a heap block of the V1 size: a read or write past
 * it shows under valgrind / ASan): writing puts the engine fields and
 * demux where V1 had them and nothing past the block; reading takes V1's
 * engine fields and the fields after them from where V1 had them, and
 * leaves the identity objects and reuse_port at their defaults. */
static void test_v1_listener_config_fields_after_the_engine(void **state)
{
    size_t n = eng_abi_size(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_LISTENER_CONFIG);
    uint8_t *v1 = malloc(n + SLACK);
    dtlsudp_listener_config defaults, cur;
    int demux = DTLSUDP_DEMUX_ROUTER, on = 1;
    size_t buffer = 123456;

    (void)state;
    assert_non_null(v1);
    memset(v1, CANARY, n + SLACK);
    memset(&defaults, 0, sizeof(defaults));
    assert_int_equal(dtlsudp_engine_config_init(&defaults.engine), DTLSUDP_OK);
    defaults.demux = DTLSUDP_DEMUX_OSNET;
    assert_int_equal(eng_abi_write(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_LISTENER_CONFIG, v1, &defaults), DTLSUDP_OK);
    assert_memory_equal(v1, &defaults.engine, ENGINE_V1_END);
    assert_memory_equal(v1 + V1_OFFSET(dtlsudp_listener_config, demux), &defaults.demux, sizeof(int));
    assert_true(all_bytes(v1 + n, SLACK, CANARY));

    ((dtlsudp_engine_config *)v1)->max_assocs = 77;
    memcpy(v1 + V1_OFFSET(dtlsudp_listener_config, demux), &demux, sizeof(int));
    memcpy(v1 + V1_OFFSET(dtlsudp_listener_config, blocking), &on, sizeof(int));
    memcpy(v1 + V1_OFFSET(dtlsudp_listener_config, socket_buffer), &buffer, sizeof(size_t));
    memcpy(v1 + V1_OFFSET(dtlsudp_listener_config, v6only), &on, sizeof(int));
    cur = defaults;
    assert_int_equal(eng_abi_read(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_LISTENER_CONFIG, &cur, v1), DTLSUDP_OK);
    assert_int_equal(cur.engine.max_assocs, 77);
    assert_null(cur.engine.cert);
    assert_null(cur.engine.key);
    assert_null(cur.engine.chain);
    assert_int_equal(cur.demux, DTLSUDP_DEMUX_ROUTER);
    assert_int_equal(cur.blocking, 1);
    assert_int_equal(cur.socket_buffer, 123456);
    assert_int_equal(cur.v6only, 1);
    assert_int_equal(cur.reuse_port, 0);
    free(v1);
}

/* The same for a V1 connection config: the connect options and blocking
 * sat right after V1's engine config. */
static void test_v1_conn_config_fields_after_the_engine(void **state)
{
    size_t n = eng_abi_size(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_CONN_CONFIG);
    uint8_t *v1 = malloc(n + SLACK);
    dtlsudp_conn_config defaults, cur, back;
    dtlsudp_connect_opts opts;
    int on = 1;

    (void)state;
    assert_non_null(v1);
    memset(v1, CANARY, n + SLACK);
    memset(&defaults, 0, sizeof(defaults));
    assert_int_equal(dtlsudp_engine_config_init(&defaults.engine), DTLSUDP_OK);
    assert_int_equal(eng_abi_write(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_CONN_CONFIG, v1, &defaults), DTLSUDP_OK);
    assert_memory_equal(v1, &defaults.engine, ENGINE_V1_END);
    assert_true(all_bytes(v1 + n, SLACK, CANARY));

    memset(&opts, 0, sizeof(opts));
    opts.hostname = "agent.example.com";
    memcpy(v1 + V1_OFFSET(dtlsudp_conn_config, connect), &opts, sizeof(opts));
    memcpy(v1 + V1_OFFSET(dtlsudp_conn_config, blocking), &on, sizeof(int));
    cur = defaults;
    assert_int_equal(eng_abi_read(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_CONN_CONFIG, &cur, v1), DTLSUDP_OK);
    assert_null(cur.engine.cert);
    assert_string_equal(cur.connect.hostname, "agent.example.com");
    assert_int_equal(cur.blocking, 1);

    /* Written back to a V1 caller: the same bytes where V1 has them. */
    memset(v1, CANARY, n + SLACK);
    back = cur;
    assert_int_equal(eng_abi_write(DTLSUDP_CONFIG_V1, DTLSUDP_ABI_CONN_CONFIG, v1, &back), DTLSUDP_OK);
    assert_memory_equal(v1 + V1_OFFSET(dtlsudp_conn_config, connect), &cur.connect, sizeof(cur.connect));
    assert_memory_equal(v1 + V1_OFFSET(dtlsudp_conn_config, blocking), &on, sizeof(int));
    assert_true(all_bytes(v1 + n, SLACK, CANARY));
    free(v1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_of_known_versions),
        cmocka_unit_test(test_sizes_of_unknown_versions_and_structs),
        cmocka_unit_test(test_read_copies_the_callers_prefix),
        cmocka_unit_test(test_write_fills_only_the_callers_prefix),
        cmocka_unit_test(test_refusals_touch_nothing),
        cmocka_unit_test(test_entry_points_read_the_callers_struct),
        cmocka_unit_test(test_v1_listener_config_fields_after_the_engine),
        cmocka_unit_test(test_v1_conn_config_fields_after_the_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
