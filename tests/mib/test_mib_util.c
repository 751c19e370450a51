/*
 * test_mib_util.c - the MIB modules' pure helpers: the DTLSUDP-MIB field
 * table covers struct dtlsudp_stats exactly, values map as the MIB says,
 * SnmpTLSFingerprint encoding, change tracking for *LastChanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mib_internal.h"

/* Every dtlsudp_stats member is a uint64_t with exactly one MIB field:
 * a member added to the struct without a MIB object fails here. */
static void test_fields_cover_stats_struct(void **state)
{
    unsigned char seen[sizeof(dtlsudp_stats) / sizeof(uint64_t)];
    size_t i;

    (void)state;
    assert_int_equal(sizeof(dtlsudp_stats) % sizeof(uint64_t), 0);
    assert_int_equal(mib_stat_field_count, sizeof(dtlsudp_stats) / sizeof(uint64_t));
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < mib_stat_field_count; i++) {
        const mib_stat_field *f = &mib_stat_fields[i];

        assert_int_equal(f->offset % sizeof(uint64_t), 0);
        assert_true(f->offset < sizeof(dtlsudp_stats));
        assert_int_equal(seen[f->offset / sizeof(uint64_t)], 0);
        seen[f->offset / sizeof(uint64_t)] = 1;
        assert_true(f->kind == MIB_COUNTER64 || f->kind == MIB_GAUGE32);
        assert_non_null(f->name);
    }
}

/* MIB numbers are 1..n without gaps or duplicates, and find() agrees. */
static void test_field_numbers(void **state)
{
    unsigned n;

    (void)state;
    for (n = 1; n <= mib_stat_field_count; n++) {
        const mib_stat_field *f = mib_stat_field_find(n);

        assert_non_null(f);
        assert_int_equal(f->number, n);
    }
    assert_null(mib_stat_field_find(0));
    assert_null(mib_stat_field_find((unsigned)mib_stat_field_count + 1));
}

/* The numbering the MIB file publishes, spot-checked by member. */
static void test_field_mapping_matches_mib(void **state)
{
    dtlsudp_stats s;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.cookies_sent = 11;
    s.cookies_bad = 33;
    s.assocs_now = 99;
    s.half_open_now = 111;
    s.bytes_out = UINT64_C(0x123456789a);
    assert_int_equal(mib_stat_value(&s, mib_stat_field_find(1)), 11);
    assert_int_equal(mib_stat_value(&s, mib_stat_field_find(3)), 33);
    assert_int_equal(mib_stat_value(&s, mib_stat_field_find(9)), 99);
    assert_int_equal(mib_stat_field_find(9)->kind, MIB_GAUGE32);
    assert_int_equal(mib_stat_value(&s, mib_stat_field_find(11)), 111);
    assert_int_equal(mib_stat_field_find(11)->kind, MIB_GAUGE32);
    assert_true(mib_stat_value(&s, mib_stat_field_find(26)) == UINT64_C(0x123456789a));
    assert_int_equal(mib_stat_field_find(26)->kind, MIB_COUNTER64);
    assert_string_equal(mib_stat_field_find(5)->name, "handshakes_completed");
}

static void test_gauge32_clamps(void **state)
{
    (void)state;
    assert_int_equal(mib_gauge32(0), 0);
    assert_int_equal(mib_gauge32(UINT32_MAX), UINT32_MAX);
    assert_int_equal(mib_gauge32((uint64_t)UINT32_MAX + 1), UINT32_MAX);
    assert_int_equal(mib_gauge32(UINT64_MAX), UINT32_MAX);
}

static void test_demux_values(void **state)
{
    (void)state;
    assert_int_equal(mib_demux_value(DTLSUDP_DEMUX_OSNET), MIB_DEMUX_OSNET);
    assert_int_equal(mib_demux_value(DTLSUDP_DEMUX_ROUTER), MIB_DEMUX_ROUTER);
    assert_int_equal(mib_demux_value(DTLSUDP_DEMUX_DEFAULT), MIB_DEMUX_OTHER);
    assert_int_equal(mib_demux_value(-7), MIB_DEMUX_OTHER);
}

static void test_fingerprint_encode(void **state)
{
    uint8_t out[8];
    const uint8_t want[] = {4, 0xab, 0xcd, 0x01, 0xef};

    (void)state;
    assert_int_equal(mib_fingerprint_encode(4, "abcd01EF", out, sizeof(out)), 5);
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(mib_fingerprint_encode(4, "AB:CD:01:ef", out, sizeof(out)), 5);
    assert_memory_equal(out, want, sizeof(want));
    /* not hex, odd length, empty, too long, bad hash id */
    assert_int_equal(mib_fingerprint_encode(2, "abzz", out, sizeof(out)), -1);
    assert_int_equal(mib_fingerprint_encode(2, "abc", out, sizeof(out)), -1);
    assert_int_equal(mib_fingerprint_encode(2, "", out, sizeof(out)), -1);
    assert_int_equal(mib_fingerprint_encode(2, "0011223344556677", out, sizeof(out)), -1);
    assert_int_equal(mib_fingerprint_encode(256, "00", out, sizeof(out)), -1);
    assert_int_equal(mib_fingerprint_encode(2, NULL, out, sizeof(out)), -1);
    /* exactly fitting; 7 bytes is no registry hash, so the id stays */
    assert_int_equal(mib_fingerprint_encode(2, "00112233445566", out, sizeof(out)), 8);
    assert_int_equal(out[0], 2);
}

/* The hash octet follows the digest length when the recorded hash
 * disagrees (Net-SNMP says SHA-1 for any certSecName without --shaNN). */
static void test_fingerprint_hash_from_length(void **state)
{
    uint8_t out[70];
    char hex[129];
    size_t i;
    static const struct {
        size_t len;
        int id;
    } cases[] = {{16, 1}, {20, 2}, {28, 3}, {32, 4}, {48, 5}, {64, 6}};

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(hex, 'a', cases[i].len * 2);
        hex[cases[i].len * 2] = '\0';
        assert_int_equal(mib_fingerprint_encode(2, hex, out, sizeof(out)), (int)cases[i].len + 1);
        assert_int_equal(out[0], cases[i].id);
        assert_int_equal(mib_fingerprint_encode(cases[i].id, hex, out, sizeof(out)), (int)cases[i].len + 1);
        assert_int_equal(out[0], cases[i].id);
    }
}

static void test_storage_type(void **state)
{
    (void)state;
    assert_int_equal(mib_storage_type(0x01), 4);        /* config: permanent */
    assert_int_equal(mib_storage_type(0x01 | 0x04), 4); /* config wins */
    assert_int_equal(mib_storage_type(0x02 | 0x04), 3); /* nonVolatile */
    assert_int_equal(mib_storage_type(0x02), 2);        /* volatile */
    assert_int_equal(mib_storage_type(0), 2);
}

static void test_signature(void **state)
{
    mib_signature a = mib_signature_add_str(mib_signature_add_str(MIB_SIGNATURE_INIT, "ab"), "c");
    mib_signature b = mib_signature_add_str(mib_signature_add_str(MIB_SIGNATURE_INIT, "a"), "bc");
    mib_signature c = mib_signature_add_str(mib_signature_add_str(MIB_SIGNATURE_INIT, "ab"), "c");

    (void)state;
    assert_true(a != b);
    assert_true(a == c);
    assert_true(mib_signature_add_str(MIB_SIGNATURE_INIT, NULL) !=
                mib_signature_add_str(MIB_SIGNATURE_INIT, ""));
}

/* RFC 6353: LastChanged is 0 until the table changes after initialization,
 * then the uptime of the change; an unchanged table keeps its value. */
static void test_change_tracker(void **state)
{
    mib_change_tracker t;

    (void)state;
    memset(&t, 0, sizeof(t));
    mib_change_observe(&t, 100, 50);
    assert_int_equal(t.last_changed, 0);
    mib_change_observe(&t, 100, 70);
    assert_int_equal(t.last_changed, 0);
    mib_change_observe(&t, 200, 90);
    assert_int_equal(t.last_changed, 90);
    mib_change_observe(&t, 200, 120);
    assert_int_equal(t.last_changed, 90);
    mib_change_observe(&t, 100, 0); /* a change at uptime 0 still reads as one */
    assert_int_equal(t.last_changed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_cover_stats_struct),
        cmocka_unit_test(test_field_numbers),
        cmocka_unit_test(test_field_mapping_matches_mib),
        cmocka_unit_test(test_gauge32_clamps),
        cmocka_unit_test(test_demux_values),
        cmocka_unit_test(test_fingerprint_encode),
        cmocka_unit_test(test_fingerprint_hash_from_length),
        cmocka_unit_test(test_storage_type),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_change_tracker),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
