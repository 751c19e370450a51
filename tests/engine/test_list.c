/*
 * test_list.c - the intrusive list (transport/engine/list.h): FIFO order,
 * removal from anywhere, prepend, zero-filled heads and links, removing a
 * link twice, shifting an empty list.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "list.h"

typedef struct item {
    int value;
    dtlsudp_link link;
} item;

#define ITEM_OF(l) DTLSUDP_LINK_OWNER(l, item, link)

/* The values on head's list, front to back, into out; returns the count. */
static size_t values(const dtlsudp_link *head, int *out, size_t cap)
{
    size_t n = 0;

    for (dtlsudp_link *l = dtlsudp_link_first(head); l != NULL; l = dtlsudp_link_next(head, l)) {
        assert_true(n < cap);
        out[n++] = ITEM_OF(l)->value;
    }
    return n;
}

static void test_fifo(void **state)
{
    dtlsudp_link head;
    item it[5];
    int got[5];

    (void)state;
    dtlsudp_link_init(&head);
    assert_true(dtlsudp_link_empty(&head));
    assert_null(dtlsudp_link_first(&head));
    memset(it, 0, sizeof(it));
    for (int i = 0; i < 5; i++) {
        it[i].value = i;
        dtlsudp_link_append(&head, &it[i].link);
        assert_true(dtlsudp_link_linked(&it[i].link));
    }
    assert_false(dtlsudp_link_empty(&head));
    assert_int_equal(values(&head, got, 5), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(got[i], i);
    for (int i = 0; i < 5; i++) {
        dtlsudp_link *l = dtlsudp_link_shift(&head);
        assert_non_null(l);
        assert_int_equal(ITEM_OF(l)->value, i);
        assert_false(dtlsudp_link_linked(l));
    }
    assert_true(dtlsudp_link_empty(&head));
    assert_null(dtlsudp_link_shift(&head));
}

static void test_remove_anywhere(void **state)
{
    dtlsudp_link head;
    item it[4];
    int got[4];

    (void)state;
    dtlsudp_link_init(&head);
    memset(it, 0, sizeof(it));
    for (int i = 0; i < 4; i++) {
        it[i].value = i;
        dtlsudp_link_append(&head, &it[i].link);
    }
    dtlsudp_link_remove(&it[2].link); /* middle */
    dtlsudp_link_remove(&it[0].link); /* first */
    dtlsudp_link_remove(&it[0].link); /* again: nothing happens */
    assert_false(dtlsudp_link_linked(&it[0].link));
    assert_int_equal(values(&head, got, 4), 2);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 3);
    /* moved to the back, as the engine's LRU list does on activity */
    dtlsudp_link_remove(&it[1].link);
    dtlsudp_link_append(&head, &it[1].link);
    assert_int_equal(values(&head, got, 4), 2);
    assert_int_equal(got[0], 3);
    assert_int_equal(got[1], 1);
    dtlsudp_link_remove(&it[3].link); /* last */
    dtlsudp_link_remove(&it[1].link);
    assert_true(dtlsudp_link_empty(&head));
    assert_ptr_equal(head.next, &head);
    assert_ptr_equal(head.prev, &head);
}

static void test_prepend(void **state)
{
    dtlsudp_link head;
    item it[3];
    int got[3];

    (void)state;
    dtlsudp_link_init(&head);
    memset(it, 0, sizeof(it));
    for (int i = 0; i < 3; i++) {
        it[i].value = i;
        dtlsudp_link_prepend(&head, &it[i].link);
    }
    assert_int_equal(values(&head, got, 3), 3); /* newest first */
    assert_int_equal(got[0], 2);
    assert_int_equal(got[1], 1);
    assert_int_equal(got[2], 0);
    assert_int_equal(ITEM_OF(dtlsudp_link_shift(&head))->value, 2);
}

/* calloc()'d structures hold zero-filled heads and links. */
static void test_zero_filled(void **state)
{
    struct {
        dtlsudp_link queue;
        item it[2];
    } z;
    int got[2];

    (void)state;
    memset(&z, 0, sizeof(z));
    assert_true(dtlsudp_link_empty(&z.queue));
    assert_null(dtlsudp_link_first(&z.queue));
    assert_null(dtlsudp_link_shift(&z.queue));
    assert_false(dtlsudp_link_linked(&z.it[0].link));
    dtlsudp_link_remove(&z.it[0].link); /* on no list: nothing happens */
    z.it[0].value = 7;
    z.it[1].value = 8;
    dtlsudp_link_append(&z.queue, &z.it[0].link);
    dtlsudp_link_append(&z.queue, &z.it[1].link);
    assert_int_equal(values(&z.queue, got, 2), 2);
    assert_int_equal(got[0], 7);
    assert_int_equal(got[1], 8);
    /* a zero-filled head takes a prepend as well */
    memset(&z, 0, sizeof(z));
    dtlsudp_link_prepend(&z.queue, &z.it[1].link);
    assert_ptr_equal(dtlsudp_link_first(&z.queue), &z.it[1].link);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_remove_anywhere),
        cmocka_unit_test(test_prepend),
        cmocka_unit_test(test_zero_filled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
