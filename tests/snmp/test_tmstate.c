/* Unit tests: transport/snmp/tmstate.c (what TSM receives, RFC 6353 5.1.2). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "snmp_internal.h"

static void fill_sets_everything_tsm_checks(void **state)
{
    static const oid dtls_domain[] = {1, 3, 6, 1, 6, 1, 9};
    netsnmp_tmStateReference ref;
    dtlsudp_snmp_msgsrc src;
    dtlsudp_addr r, l;

    assert_int_equal(dtlsudp_snmp_addr_parse("127.0.0.1:40000", NULL, AF_UNSPEC, &r), 0);
    assert_int_equal(dtlsudp_snmp_addr_parse("127.0.0.1:10161", NULL, AF_UNSPEC, &l), 0);
    memset(&src, 0, sizeof(src));
    src.assoc_id = 0x0102030405060708ull;
    src.sec_name = "alice";
    src.security_level = SNMP_SEC_LEVEL_AUTHPRIV;
    src.remote = &r;
    src.local = &l;
    memset(&ref, 0xa5, sizeof(ref));
    assert_int_equal(dtlsudp_snmp_tmstate_fill(&ref, &src), 0);

    /* tsmUseTransportPrefix derives "dtls:" only from this exact OID */
    assert_int_equal(ref.transportDomainLen, 7);
    assert_memory_equal(ref.transportDomain, dtls_domain, sizeof(dtls_domain));
    assert_string_equal(ref.securityName, "alice");
    assert_int_equal(ref.securityNameLen, 5);
    assert_int_equal(ref.transportSecurityLevel, SNMP_SEC_LEVEL_AUTHPRIV);
    assert_int_equal(ref.have_addresses, 1);
    assert_memory_equal(&ref.addresses.remote_addr, &r, sizeof(struct sockaddr_in));
    assert_memory_equal(&ref.addresses.local_addr, &l, sizeof(struct sockaddr_in));
    /* the session id is the association id, big-endian, never a pointer */
    assert_memory_equal(ref.sessionID, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_true(dtlsudp_snmp_tmstate_assoc_id(&ref) == 0x0102030405060708ull);
    assert_int_equal(ref.sameSecurity, 0);
    assert_null(ref.otherTransportOpaque);
}

static void session_id_round_trips_high_bits(void **state)
{
    netsnmp_tmStateReference ref;
    dtlsudp_snmp_msgsrc src;

    memset(&src, 0, sizeof(src));
    src.sec_name = "x";
    src.assoc_id = 0xff00ee00dd00cc01ull;
    assert_int_equal(dtlsudp_snmp_tmstate_fill(&ref, &src), 0);
    assert_true(dtlsudp_snmp_tmstate_assoc_id(&ref) == 0xff00ee00dd00cc01ull);
    /* no address given: have_addresses stays 0 */
    assert_int_equal(ref.have_addresses, 0);
}

static void empty_name_is_left_for_tsm_to_count(void **state)
{
    netsnmp_tmStateReference ref;
    dtlsudp_snmp_msgsrc src;

    memset(&src, 0, sizeof(src));
    src.sec_name = NULL;
    assert_int_equal(dtlsudp_snmp_tmstate_fill(&ref, &src), 0);
    assert_int_equal(ref.securityName[0], '\0');
    assert_int_equal(ref.securityNameLen, 0);
}

static void overlong_name_is_refused(void **state)
{
    netsnmp_tmStateReference ref;
    dtlsudp_snmp_msgsrc src;
    char name[NETSNMP_TM_MAX_SECNAME + 10];

    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    memset(&src, 0, sizeof(src));
    src.sec_name = name;
    assert_int_equal(dtlsudp_snmp_tmstate_fill(&ref, &src), -1);
    name[NETSNMP_TM_MAX_SECNAME - 1] = '\0'; /* the largest that fits */
    assert_int_equal(dtlsudp_snmp_tmstate_fill(&ref, &src), 0);
    assert_int_equal(ref.securityNameLen, NETSNMP_TM_MAX_SECNAME - 1);
}

/* What f_recv hands libnetsnmp: a malloc()ed, filled reference, or NULL
 * when the name does not fit (nothing leaks: ASan, valgrind). */
static void new_allocates_a_filled_reference(void **state)
{
    netsnmp_tmStateReference *ref;
    dtlsudp_snmp_msgsrc src;
    char name[NETSNMP_TM_MAX_SECNAME + 10];

    (void)state;
    memset(&src, 0, sizeof(src));
    src.sec_name = "bob";
    src.assoc_id = 42;
    ref = dtlsudp_snmp_tmstate_new(&src);
    assert_non_null(ref);
    assert_string_equal(ref->securityName, "bob");
    assert_true(dtlsudp_snmp_tmstate_assoc_id(ref) == 42);
    free(ref);
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    src.sec_name = name;
    assert_null(dtlsudp_snmp_tmstate_new(&src));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fill_sets_everything_tsm_checks),
        cmocka_unit_test(session_id_round_trips_high_bits),
        cmocka_unit_test(empty_name_is_left_for_tsm_to_count),
        cmocka_unit_test(overlong_name_is_refused),
        cmocka_unit_test(new_allocates_a_filled_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
