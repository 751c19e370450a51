/*
 * test_errors.c - the error model (transport/engine/errors.c): every code
 * of dtlsudp.h has its own text, and the class predicates agree with the
 * header's grouping (-1..-99 dropped, -100..-199 usage, -200..-499
 * association fatal, <= -500 engine fatal).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dtlsudp.h"

static const int codes[] = {
    DTLSUDP_OK,
    DTLSUDP_ERR_AGAIN,      DTLSUDP_ERR_DROPPED,   DTLSUDP_ERR_QUEUE_FULL,
    DTLSUDP_ERR_INVALID,    DTLSUDP_ERR_STATE,     DTLSUDP_ERR_TOO_BIG,
    DTLSUDP_ERR_LIMIT,      DTLSUDP_ERR_NOT_FOUND, DTLSUDP_ERR_BUFFER,
    DTLSUDP_ERR_CLOSED,     DTLSUDP_ERR_HANDSHAKE, DTLSUDP_ERR_PEER_CERT,
    DTLSUDP_ERR_TIMEOUT,    DTLSUDP_ERR_IDLE,      DTLSUDP_ERR_PEER_ALERT,
    DTLSUDP_ERR_EVICTED,    DTLSUDP_ERR_REFUSED,   DTLSUDP_ERR_REPLACED,
    DTLSUDP_ERR_FATAL,      DTLSUDP_ERR_NOMEM,     DTLSUDP_ERR_TLS,
    DTLSUDP_ERR_CONFIG,     DTLSUDP_ERR_SYSTEM,    DTLSUDP_ERR_EXISTS,
};
#define N_CODES (sizeof(codes) / sizeof(codes[0]))

static void test_every_code_has_its_own_text(void **state)
{
    const char *unknown = dtlsudp_strerror(-4242);
    size_t i, j;

    (void)state;
    assert_non_null(unknown);
    for (i = 0; i < N_CODES; i++) {
        const char *text = dtlsudp_strerror(codes[i]);
        assert_non_null(text);
        assert_true(strlen(text) > 0);
        /* a code the switch forgot would fall to the default */
        assert_string_not_equal(text, unknown);
        for (j = 0; j < i; j++)
            assert_string_not_equal(text, dtlsudp_strerror(codes[j]));
    }
}

static void test_unknown_codes_share_one_text(void **state)
{
    const char *unknown = dtlsudp_strerror(-4242);

    (void)state;
    /* neighbours of real codes and positive values are not codes */
    assert_string_equal(dtlsudp_strerror(1), unknown);
    assert_string_equal(dtlsudp_strerror(-6), unknown);
    assert_string_equal(dtlsudp_strerror(-99), unknown);
    assert_string_equal(dtlsudp_strerror(-106), unknown);
    assert_string_equal(dtlsudp_strerror(-209), unknown);
    assert_string_equal(dtlsudp_strerror(-504), unknown);
}

/* The class of a code as the header states it. */
enum { C_OK, C_DROPPED, C_USAGE, C_ASSOC, C_ENGINE };

static int header_class(int err)
{
    if (err == 0)
        return C_OK;
    if (err >= -99)
        return C_DROPPED;
    if (err >= -199)
        return C_USAGE;
    if (err >= -499)
        return C_ASSOC;
    return C_ENGINE;
}

static void check_predicates(int err)
{
    int cls = header_class(err);

    assert_int_equal(dtlsudp_err_is_assoc_fatal(err), cls == C_ASSOC);
    assert_int_equal(dtlsudp_err_is_fatal(err), cls == C_ENGINE);
}

static void test_class_predicates_follow_the_header(void **state)
{
    size_t i;
    int err;

    (void)state;
    for (i = 0; i < N_CODES; i++)
        check_predicates(codes[i]);
    /* the boundaries themselves, codes or not */
    for (err = 5; err >= -700; err--)
        check_predicates(err);
    check_predicates(-100000);
}

static void test_named_codes_sit_in_their_class(void **state)
{
    (void)state;
    assert_int_equal(header_class(DTLSUDP_ERR_QUEUE_FULL), C_DROPPED);
    assert_int_equal(header_class(DTLSUDP_ERR_LIMIT), C_DROPPED);
    assert_int_equal(header_class(DTLSUDP_ERR_NOMEM), C_DROPPED); /* transient, not fatal */
    assert_int_equal(header_class(DTLSUDP_ERR_EXISTS), C_USAGE);
    assert_int_equal(header_class(DTLSUDP_ERR_BUFFER), C_USAGE);
    assert_int_equal(header_class(DTLSUDP_ERR_CLOSED), C_ASSOC);
    assert_int_equal(header_class(DTLSUDP_ERR_REPLACED), C_ASSOC);
    assert_int_equal(header_class(DTLSUDP_ERR_FATAL), C_ENGINE);
    assert_true(dtlsudp_err_is_assoc_fatal(DTLSUDP_ERR_REFUSED));
    assert_false(dtlsudp_err_is_assoc_fatal(DTLSUDP_ERR_FATAL));
    assert_true(dtlsudp_err_is_fatal(DTLSUDP_ERR_SYSTEM));
    assert_false(dtlsudp_err_is_fatal(DTLSUDP_ERR_REPLACED));
}

static void test_version_is_the_package_version(void **state)
{
    (void)state;
    assert_string_equal(dtlsudp_version(), PACKAGE_VERSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_its_own_text),
        cmocka_unit_test(test_unknown_codes_share_one_text),
        cmocka_unit_test(test_class_predicates_follow_the_header),
        cmocka_unit_test(test_named_codes_sit_in_their_class),
        cmocka_unit_test(test_version_is_the_package_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
