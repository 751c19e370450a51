/*
 * test_map.c - dtlsudp-proxy's session tables (transport/proxy/map.c):
 * the hash map that finds a session per datagram (client mode by source
 * address, server mode by association id) and the heap that gives the
 * event loop its next deadline, without walking the sessions.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "proxy.h"

typedef struct entry {
    proxy_map_node node;
    proxy_heap_node timer;
    dtlsudp_addr addr;
    int in_map;
} entry;

static void v4(dtlsudp_addr *a, uint32_t host, uint16_t port)
{
    memset(a, 0, sizeof(*a));
    a->sin.sin_family = AF_INET;
    a->sin.sin_addr.s_addr = htonl(host);
    a->sin.sin_port = htons(port);
}

static void v6(dtlsudp_addr *a, const char *text, uint16_t port, uint32_t scope)
{
    memset(a, 0, sizeof(*a));
    a->sin6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, text, &a->sin6.sin6_addr), 1);
    a->sin6.sin6_port = htons(port);
    a->sin6.sin6_scope_id = scope;
}

static int key_same(const dtlsudp_addr *x, const dtlsudp_addr *y)
{
    proxy_key a, b;
    proxy_key_addr(&a, x);
    proxy_key_addr(&b, y);
    return a.len == b.len && memcmp(a.b, b.b, a.len) == 0;
}

/* A key names exactly what dtlsudp_addr_equal() compares. */
static void test_addr_keys(void **state)
{
    dtlsudp_addr a, b;
    (void)state;
    v4(&a, 0x7f000001, 161);
    v4(&b, 0x7f000001, 161);
    b.sin.sin_zero[3] = 7; /* padding is not part of the address */
    assert_true(key_same(&a, &b));
    v4(&b, 0x7f000001, 162);
    assert_false(key_same(&a, &b));
    v4(&b, 0x7f000002, 161);
    assert_false(key_same(&a, &b));

    v6(&a, "fe80::1", 161, 2);
    v6(&b, "fe80::1", 161, 2);
    b.sin6.sin6_flowinfo = 99; /* not part of the peer's identity */
    assert_true(key_same(&a, &b));
    v6(&b, "fe80::1", 161, 3);
    assert_false(key_same(&a, &b));
    v6(&b, "::ffff:127.0.0.1", 161, 0);
    v4(&a, 0x7f000001, 161);
    assert_false(key_same(&a, &b)); /* the library normalises before us */

    proxy_key k1, k2;
    proxy_key_id(&k1, 1);
    proxy_key_id(&k2, 1ull << 40);
    assert_int_equal(k1.len, 8);
    assert_false(memcmp(k1.b, k2.b, 8) == 0);
}

static size_t longest_chain(const proxy_map *m)
{
    size_t longest = 0;
    for (size_t i = 0; i < m->n_buckets; i++) {
        size_t n = 0;
        for (const proxy_map_node *x = m->buckets[i]; x != NULL; x = x->next)
            n++;
        if (n > longest)
            longest = n;
    }
    return longest;
}

/* 10 000 local sources, as one client-mode service at a high max-sessions:
 * every one is found, removals leave the others, and the chains stay short
 * (consecutive ports, the usual shape of local clients, must spread). */
static void test_map_many_sources(void **state)
{
    enum { N = 10000 };
    proxy_map m;
    entry *e = calloc(N, sizeof(*e));
    (void)state;
    assert_non_null(e);
    assert_int_equal(proxy_map_init(&m), 0);
    for (int i = 0; i < N; i++) {
        proxy_key k;
        if (i % 2 == 0)
            v4(&e[i].addr, 0x7f000001, (uint16_t)(20000 + i));
        else
            v6(&e[i].addr, "::1", (uint16_t)(20000 + i), 0);
        proxy_key_addr(&k, &e[i].addr);
        assert_null(proxy_map_find(&m, &k));
        proxy_map_insert(&m, &e[i].node, &k);
        e[i].in_map = 1;
    }
    assert_int_equal(m.count, N);
    assert_true(m.n_buckets >= N / 2);
    assert_true(longest_chain(&m) <= 12);
    for (int i = 0; i < N; i += 3) {
        proxy_map_remove(&m, &e[i].node);
        e[i].in_map = 0;
    }
    for (int i = 0; i < N; i++) {
        proxy_key k;
        proxy_key_addr(&k, &e[i].addr);
        proxy_map_node *n = proxy_map_find(&m, &k);
        if (e[i].in_map)
            assert_ptr_equal(n, &e[i].node);
        else
            assert_null(n);
    }
    assert_int_equal(m.count, N - (N + 2) / 3);
    /* the same port over the other family is another source */
    proxy_key k;
    dtlsudp_addr other;
    v6(&other, "::1", 20000, 0);
    proxy_key_addr(&k, &other);
    assert_null(proxy_map_find(&m, &k));
    proxy_map_free(&m);
    free(e);
}

/* Server mode: association ids, including ones that differ only in high
 * bits (the hash must use all of them). */
static void test_map_ids(void **state)
{
    enum { N = 4096 };
    proxy_map m;
    entry *e = calloc(N, sizeof(*e));
    (void)state;
    assert_non_null(e);
    assert_int_equal(proxy_map_init(&m), 0);
    for (uint64_t i = 0; i < N; i++) {
        proxy_key k;
        proxy_key_id(&k, i << 48);
        proxy_map_insert(&m, &e[i].node, &k);
    }
    assert_true(longest_chain(&m) <= 12);
    for (uint64_t i = 0; i < N; i++) {
        proxy_key k;
        proxy_key_id(&k, i << 48);
        assert_ptr_equal(proxy_map_find(&m, &k), &e[i].node);
    }
    proxy_key k;
    proxy_key_id(&k, 1);
    assert_null(proxy_map_find(&m, &k));
    proxy_map_free(&m);
    free(e);
}

static void check_heap(const proxy_heap *h)
{
    for (size_t i = 0; i < h->count; i++) {
        assert_int_equal(h->v[i]->index, i);
        if (i > 0)
            assert_true(h->v[(i - 1) / 2]->deadline <= h->v[i]->deadline);
    }
}

/* The loop's deadline is the heap's top, through inserts, deadlines moved
 * either way (a timer armed, a retransmission backed off) and removals
 * from anywhere (a session ending). */
static void test_heap_order(void **state)
{
    enum { N = 2000 };
    proxy_heap h = {0};
    entry *e = calloc(N, sizeof(*e));
    int *alive = calloc(N, sizeof(*alive));
    uint32_t x = 12345;
    (void)state;
    assert_non_null(e);
    assert_non_null(alive);
    assert_null(proxy_heap_top(&h));
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        assert_int_equal(proxy_heap_insert(&h, &e[i].timer, 1000 + (x >> 8) % 100000), 0);
        alive[i] = 1;
    }
    check_heap(&h);
    for (int i = 0; i < N; i += 2) {
        x = x * 1103515245u + 12345u;
        proxy_heap_update(&h, &e[i].timer, (x >> 8) % 200000);
    }
    proxy_heap_update(&h, &e[7].timer, 0); /* plaintext waiting: due at once */
    check_heap(&h);
    assert_ptr_equal(proxy_heap_top(&h), &e[7].timer);
    for (int i = 0; i < N; i += 5) {
        proxy_heap_remove(&h, &e[i].timer);
        alive[i] = 0;
        check_heap(&h);
    }
    proxy_heap_update(&h, &e[7].timer, DTLSUDP_TIME_NEVER);
    check_heap(&h);
    /* taking the top until empty gives every live deadline in order */
    dtlsudp_time last = 0;
    size_t taken = 0, want = 0;
    for (int i = 0; i < N; i++)
        want += alive[i];
    while (proxy_heap_top(&h) != NULL) {
        proxy_heap_node *t = proxy_heap_top(&h);
        assert_true(t->deadline >= last);
        last = t->deadline;
        proxy_heap_remove(&h, t);
        taken++;
    }
    assert_int_equal(taken, want);
    assert_int_equal(last, DTLSUDP_TIME_NEVER); /* e[7] last */
    proxy_heap_free(&h);
    free(alive);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_keys),
        cmocka_unit_test(test_map_many_sources),
        cmocka_unit_test(test_map_ids),
        cmocka_unit_test(test_heap_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
