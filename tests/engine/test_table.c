/*
 * test_table.c - the peer table (transport/engine/table.c): lookup by
 * (family, address, port, scope id) under forced collisions, removal from
 * the middle of a chain, per-source counting.
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

#define N 64

static dtlsudp_engine e;
static dtlsudp_assoc *buckets[4], *src_buckets[4];
static dtlsudp_assoc assocs[N];

static dtlsudp_addr addr(const char *text)
{
    dtlsudp_addr a;
    assert_int_equal(dtlsudp_addr_parse(text, 1, &a), DTLSUDP_OK);
    return a;
}

static void setup_table(void)
{
    memset(&e, 0, sizeof(e));
    memset(buckets, 0, sizeof(buckets));
    memset(src_buckets, 0, sizeof(src_buckets));
    memset(assocs, 0, sizeof(assocs));
    e.table = buckets;
    e.src_table = src_buckets;
    e.table_mask = 3; /* 4 buckets for 64 entries: long chains */
    e.hash_seed = 12345;
}

static void test_insert_find_remove(void **state)
{
    char text[64];
    int i;

    (void)state;
    setup_table();
    for (i = 0; i < N; i++) {
        /* 8 hosts x 8 ports */
        snprintf(text, sizeof(text), "192.0.2.%d:%d", i / 8, 1000 + i % 8);
        assocs[i].peer = addr(text);
        eng_table_insert(&e, &assocs[i]);
    }
    for (i = 0; i < N; i++)
        assert_ptr_equal(eng_table_find(&e, &assocs[i].peer), &assocs[i]);
    assert_int_equal(eng_table_source_count(&e, &assocs[9].peer, NULL), 8);
    assert_null(eng_table_find(&e, &(dtlsudp_addr){0}));
    {
        dtlsudp_addr other = addr("192.0.2.1:999");
        assert_null(eng_table_find(&e, &other));
        assert_int_equal(eng_table_source_count(&e, &other, NULL), 8);
    }
    /* remove every third, from anywhere in the chains */
    for (i = 0; i < N; i += 3)
        eng_table_remove(&e, &assocs[i]);
    for (i = 0; i < N; i++) {
        if (i % 3 == 0)
            assert_null(eng_table_find(&e, &assocs[i].peer));
        else
            assert_ptr_equal(eng_table_find(&e, &assocs[i].peer), &assocs[i]);
    }
    /* host 0 had ports 0..7; 0, 3, 6 removed */
    assert_int_equal(eng_table_source_count(&e, &assocs[1].peer, NULL), 5);
    /* removing twice is harmless */
    eng_table_remove(&e, &assocs[0]);
    assert_int_equal(eng_table_source_count(&e, &assocs[1].peer, NULL), 5);
}

static void test_ipv6_scope(void **state)
{
    (void)state;
    setup_table();
    assocs[0].peer = addr("[fe80::1%1]:5");
    assocs[1].peer = addr("[fe80::1%2]:5");
    assocs[2].peer = addr("[fe80::1%1]:6");
    eng_table_insert(&e, &assocs[0]);
    eng_table_insert(&e, &assocs[1]);
    eng_table_insert(&e, &assocs[2]);
    assert_ptr_equal(eng_table_find(&e, &assocs[0].peer), &assocs[0]);
    assert_ptr_equal(eng_table_find(&e, &assocs[1].peer), &assocs[1]);
    /* the same address on another link is another source */
    assert_int_equal(eng_table_source_count(&e, &assocs[0].peer, NULL), 2);
    assert_int_equal(eng_table_source_count(&e, &assocs[1].peer, NULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_find_remove),
        cmocka_unit_test(test_ipv6_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
