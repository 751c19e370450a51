/*
 * test_outq.c - the bounded output queue (transport/engine/outq.c): FIFO
 * order across wrap-around, full queue, forgetting an association.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine_internal.h"

static void *a_alloc(void *u, size_t n)
{
    (void)u;
    return malloc(n);
}

static void a_free(void *u, void *p)
{
    (void)u;
    free(p);
}

static dtlsudp_engine fake;

static void test_fifo_wrap(void **state)
{
    eng_outq q;
    uint8_t in[700], out[700];
    dtlsudp_addr peer, got_peer, got_local;
    dtlsudp_assoc *tag = (dtlsudp_assoc *)&fake, *got;
    size_t len, pushed = 0, popped = 0, i, round;

    (void)state;
    fake.cfg.allocator.alloc = a_alloc;
    fake.cfg.allocator.free = a_free;
    assert_int_equal(eng_outq_init(&fake, &q, 4096), DTLSUDP_OK);
    memset(&peer, 0, sizeof(peer));
    peer.sa.sa_family = AF_INET;
    /* Varying sizes push the write point around the ring many times. */
    for (round = 0; round < 200; round++) {
        size_t n = 1 + (round * 37) % 3;
        for (i = 0; i < n; i++) {
            size_t l = 1 + ((pushed * 131) % sizeof(in));
            memset(in, (int)(pushed & 0xff), l);
            peer.sin.sin_port = (uint16_t)pushed;
            if (eng_outq_push(&q, in, l, &peer, NULL, tag) != DTLSUDP_OK)
                break;
            pushed++;
        }
        n = 1 + (round * 17) % 3;
        for (i = 0; i < n && popped < pushed; i++) {
            size_t want = 1 + ((popped * 131) % sizeof(in));
            assert_int_equal(eng_outq_pop(&q, out, sizeof(out), &len, &got_peer, &got_local, &got), DTLSUDP_OK);
            assert_int_equal(len, want);
            assert_int_equal(out[0], (uint8_t)(popped & 0xff));
            assert_int_equal(out[len - 1], (uint8_t)(popped & 0xff));
            assert_int_equal(got_peer.sin.sin_port, (uint16_t)popped);
            assert_ptr_equal(got, tag);
            popped++;
        }
    }
    assert_true(pushed > 100);
    while (popped < pushed) {
        assert_int_equal(eng_outq_pop(&q, out, sizeof(out), &len, NULL, NULL, NULL), DTLSUDP_OK);
        popped++;
    }
    assert_int_equal(eng_outq_pop(&q, out, sizeof(out), &len, NULL, NULL, NULL), DTLSUDP_ERR_AGAIN);
    eng_outq_dispose(&fake, &q);
}

static void test_full_and_forget(void **state)
{
    eng_outq q;
    uint8_t in[1000], out[1000];
    dtlsudp_assoc *tag = (dtlsudp_assoc *)&fake, *got;
    size_t len, n = 0;

    (void)state;
    fake.cfg.allocator.alloc = a_alloc;
    fake.cfg.allocator.free = a_free;
    assert_int_equal(eng_outq_init(&fake, &q, 4096), DTLSUDP_OK);
    memset(in, 1, sizeof(in));
    while (eng_outq_push(&q, in, sizeof(in), NULL, NULL, tag) == DTLSUDP_OK)
        n++;
    assert_int_equal(n, 3); /* 3 x (1000 + header) fit in 4096, not 4 */
    assert_int_equal(eng_outq_push(&q, in, 5000, NULL, NULL, tag), DTLSUDP_ERR_QUEUE_FULL);
    eng_outq_forget(&q, tag);
    assert_int_equal(eng_outq_pop(&q, out, 10, &len, NULL, NULL, &got), DTLSUDP_ERR_BUFFER);
    assert_int_equal(eng_outq_pop(&q, out, sizeof(out), &len, NULL, NULL, &got), DTLSUDP_OK);
    assert_null(got);
    /* room again after a pop */
    assert_int_equal(eng_outq_push(&q, in, sizeof(in), NULL, NULL, NULL), DTLSUDP_OK);
    eng_outq_dispose(&fake, &q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_wrap),
        cmocka_unit_test(test_full_and_forget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
