/*
 * test_hooks.c - forwarding the engine's callbacks (transport/net/hooks.c):
 * net_hooks_install() keeps the caller's callbacks and argument, points
 * the engine's config at the forwarders (unset ones stay unset, so the
 * engine's defaults apply) with the socket layer's own handler and
 * argument; every forwarder hands the caller's own argument and passes
 * results back; the event and log helpers do nothing without a callback.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net_internal.h"

static int caller_user, layer_self;
static void *seen_user;
static int seen_level, seen_event, seen_reason;
static char seen_message[512];
static dtlsudp_assoc *seen_assoc;

static void caller_log(void *user, int level, const char *message)
{
    seen_user = user;
    seen_level = level;
    snprintf(seen_message, sizeof(seen_message), "%s", message);
}

static int caller_random(void *user, uint8_t *buf, size_t len)
{
    seen_user = user;
    memset(buf, 0x5c, len);
    return 42;
}

static int caller_verify(void *user, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth)
{
    seen_user = user;
    seen_assoc = a;
    return auth->trust + 7;
}

static void caller_event(void *user, dtlsudp_assoc *a, int event, int reason)
{
    seen_user = user;
    seen_assoc = a;
    seen_event = event;
    seen_reason = reason;
}

static void layer_handler(void *self, dtlsudp_assoc *a, int event, int reason)
{
    (void)self;
    (void)a;
    (void)event;
    (void)reason;
}

static void reset(void)
{
    seen_user = NULL;
    seen_assoc = NULL;
    seen_level = seen_event = seen_reason = 0;
    seen_message[0] = '\0';
}

static void test_install_and_forward(void **state)
{
    dtlsudp_engine_config cfg;
    net_hooks h;
    dtlsudp_peer_auth auth;
    dtlsudp_assoc *fake = (dtlsudp_assoc *)&auth;
    uint8_t buf[8];

    (void)state;
    reset();
    dtlsudp_engine_config_init(&cfg);
    cfg.log = caller_log;
    cfg.random = caller_random;
    cfg.verify = caller_verify;
    cfg.on_event = caller_event;
    cfg.user = &caller_user;
    net_hooks_install(&h, &cfg, &layer_self, layer_handler);

    /* the engine now calls the layer, with the layer's argument */
    assert_ptr_equal(cfg.on_event, layer_handler);
    assert_ptr_equal(cfg.user, &layer_self);
    /* and the forwarders, which find the caller's through `self' */
    assert_non_null(cfg.log);
    assert_true(cfg.log != caller_log);
    cfg.log(&h, DTLSUDP_LOG_NOTICE, "hello");
    assert_ptr_equal(seen_user, &caller_user);
    assert_int_equal(seen_level, DTLSUDP_LOG_NOTICE);
    assert_string_equal(seen_message, "hello");

    reset();
    assert_int_equal(cfg.random(&h, buf, sizeof(buf)), 42);
    assert_ptr_equal(seen_user, &caller_user);
    assert_int_equal(buf[7], 0x5c);

    reset();
    memset(&auth, 0, sizeof(auth));
    auth.trust = DTLSUDP_TRUST_LEAF;
    assert_int_equal(cfg.verify(&h, fake, &auth), DTLSUDP_TRUST_LEAF + 7);
    assert_ptr_equal(seen_user, &caller_user);
    assert_ptr_equal(seen_assoc, fake);

    reset();
    net_hooks_event(&h, fake, DTLSUDP_EVENT_CLOSED, DTLSUDP_ERR_IDLE);
    assert_ptr_equal(seen_user, &caller_user);
    assert_ptr_equal(seen_assoc, fake);
    assert_int_equal(seen_event, DTLSUDP_EVENT_CLOSED);
    assert_int_equal(seen_reason, DTLSUDP_ERR_IDLE);
}

static void test_unset_callbacks_stay_unset(void **state)
{
    dtlsudp_engine_config cfg;
    net_hooks h;

    (void)state;
    reset();
    dtlsudp_engine_config_init(&cfg);
    cfg.user = &caller_user;
    net_hooks_install(&h, &cfg, &layer_self, layer_handler);
    assert_null(cfg.log);
    assert_null(cfg.random);
    assert_null(cfg.verify);
    assert_ptr_equal(cfg.on_event, layer_handler);
    assert_ptr_equal(cfg.user, &layer_self);
    /* nothing to forward to: no call, no crash */
    net_hooks_event(&h, NULL, DTLSUDP_EVENT_DATA, 0);
    net_hooks_log(&h, DTLSUDP_LOG_ERR, "dropped %d", 1);
    assert_null(seen_user);
}

static void test_log_formats_and_bounds_the_line(void **state)
{
    dtlsudp_engine_config cfg;
    net_hooks h;
    char longer[600];

    (void)state;
    reset();
    dtlsudp_engine_config_init(&cfg);
    cfg.log = caller_log;
    cfg.user = &caller_user;
    net_hooks_install(&h, &cfg, &layer_self, layer_handler);
    net_hooks_log(&h, DTLSUDP_LOG_WARNING, "listener %s: %d sockets", "[::]:161", 3);
    assert_ptr_equal(seen_user, &caller_user);
    assert_int_equal(seen_level, DTLSUDP_LOG_WARNING);
    assert_string_equal(seen_message, "listener [::]:161: 3 sockets");
    /* a long line is cut, never overflows */
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    net_hooks_log(&h, DTLSUDP_LOG_INFO, "%s", longer);
    assert_int_equal(strlen(seen_message), 255);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_and_forward),
        cmocka_unit_test(test_unset_callbacks_stay_unset),
        cmocka_unit_test(test_log_formats_and_bounds_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
