/*
 * test_mib.c - agent-plugin/mib/mib.c, the MIB modules' entry points, in
 * an in-process agent: dtlsudp_mib_init() registers SNMP-TLS-TM-MIB,
 * SNMP-TSM-MIB statistics and DTLSUDP-MIB; a second call (snmpd's SIGHUP
 * re-runs the plugin's init) succeeds and changes nothing; when one module
 * cannot register, the others still do and -1 says so; shutdown removes
 * every handler and a later init brings them back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mib.h"
#include "mib_internal.h"
#include "testagent.h"

#define APP "dtlsudp-test-mib"

/* One object of each module. */
static const oid tlstm_opens[] = {MIB_TLSTM_OID, 2, 1, 1, 0};          /* tlstm_stats.c */
static const oid tsm_prefix[] = {MIB_TSM_OID, 1, 2, 1, 0};             /* tlstm_stats.c */
static const oid cert_count[] = {MIB_TLSTM_OID, 2, 2, 1, 1, 0};        /* tlstm_tables.c */
static const oid listener_count[] = {MIB_DTLSUDP_OID, 1, 2, 0};        /* dtlsudp_stats_mib.c */
static const oid datagrams_in[] = {MIB_DTLSUDP_OID, 1, 1, 23, 0};      /* dtlsudp_stats_mib.c */

static int setup(void **state)
{
    (void)state;
    return testagent_start(APP, NULL);
}

static int teardown(void **state)
{
    (void)state;
    dtlsudp_mib_shutdown();
    testagent_stop();
    return 0;
}

static u_char type_of(const oid *name, size_t len)
{
    testagent_reply r;
    u_char type;

    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOERROR);
    type = r.vb->type;
    testagent_reply_free(&r);
    return type;
}

static void assert_all_served(void)
{
    assert_int_equal(type_of(tlstm_opens, OID_LENGTH(tlstm_opens)), ASN_COUNTER);
    assert_int_equal(type_of(tsm_prefix, OID_LENGTH(tsm_prefix)), ASN_INTEGER);
    assert_int_equal(type_of(cert_count, OID_LENGTH(cert_count)), ASN_GAUGE);
    assert_int_equal(type_of(listener_count, OID_LENGTH(listener_count)), ASN_GAUGE);
    assert_int_equal(type_of(datagrams_in, OID_LENGTH(datagrams_in)), ASN_COUNTER64);
}

static void assert_none_served(void)
{
    assert_int_equal(type_of(tlstm_opens, OID_LENGTH(tlstm_opens)), SNMP_NOSUCHOBJECT);
    assert_int_equal(type_of(tsm_prefix, OID_LENGTH(tsm_prefix)), SNMP_NOSUCHOBJECT);
    assert_int_equal(type_of(cert_count, OID_LENGTH(cert_count)), SNMP_NOSUCHOBJECT);
    assert_int_equal(type_of(listener_count, OID_LENGTH(listener_count)), SNMP_NOSUCHOBJECT);
    assert_int_equal(type_of(datagrams_in, OID_LENGTH(datagrams_in)), SNMP_NOSUCHOBJECT);
}

static void test_init_registers_every_module(void **state)
{
    (void)state;
    assert_none_served();
    assert_int_equal(dtlsudp_mib_init(), 0);
    assert_all_served();
}

/* The second init finds everything in place: no duplicate registration
 * (which the agent would refuse, making init return -1). */
static void test_init_again_changes_nothing(void **state)
{
    (void)state;
    assert_int_equal(dtlsudp_mib_init(), 0);
    assert_int_equal(dtlsudp_mib_init(), 0);
    assert_all_served();
}

static void test_shutdown_then_init(void **state)
{
    (void)state;
    dtlsudp_mib_shutdown();
    assert_none_served();
    dtlsudp_mib_shutdown(); /* nothing left to remove: harmless */
    assert_int_equal(dtlsudp_mib_init(), 0);
    assert_all_served();
}

static int squatter_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                            netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
    netsnmp_request_info *r;

    (void)handler;
    (void)reginfo;
    if (reqinfo->mode == MODE_GET)
        for (r = requests; r != NULL; r = r->next)
            snmp_set_var_typed_value(r->requestvb, ASN_OCTET_STR, "squatter", 8);
    return SNMP_ERR_NOERROR;
}

/* Another module already serves snmpTsmStats: init says -1, and every
 * other object is still served. */
static void test_one_module_failing_leaves_the_others(void **state)
{
    static const oid tsm_stats[] = {MIB_TSM_OID, 1, 1};
    netsnmp_handler_registration *squatter;

    (void)state;
    dtlsudp_mib_shutdown();
    squatter = netsnmp_create_handler_registration("squatter", squatter_handler, tsm_stats,
                                                   OID_LENGTH(tsm_stats), HANDLER_CAN_RONLY);
    assert_int_equal(netsnmp_register_handler(squatter), MIB_REGISTERED_OK);
    assert_int_equal(dtlsudp_mib_init(), -1);
    assert_all_served();
    netsnmp_unregister_handler(squatter);
    /* The next init (a SIGHUP) completes what was missing. */
    assert_int_equal(dtlsudp_mib_init(), 0);
    assert_all_served();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_registers_every_module),
        cmocka_unit_test(test_init_again_changes_nothing),
        cmocka_unit_test(test_shutdown_then_init),
        cmocka_unit_test(test_one_module_failing_leaves_the_others),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
