/*
 * test_tlstm_stats.c - agent-plugin/mib/tlstm_stats.c in an in-process
 * agent: the SNMP-TLS-TM-MIB session counters and SNMP-TSM-MIB counters
 * read what libnetsnmp counted, each object its own statistic; the
 * counters refuse writes; snmpTsmConfigurationUsePrefix reads and sets
 * libnetsnmp's tsmUseTransportPrefix flag, refuses bad values, restores
 * the flag when another part of the SET fails, and is persisted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mib_internal.h"
#include "testagent.h"

#define APP "dtlsudp-test-tlstm-stats"

static const oid tlstm_session[] = {MIB_TLSTM_OID, 2, 1};
static const oid tsm_stats[] = {MIB_TSM_OID, 1, 1};
static const oid use_prefix[] = {MIB_TSM_OID, 1, 2, 1, 0};

/* <base>.<column>.0 */
static size_t scalar_oid(const oid *base, size_t base_len, oid column, oid *out)
{
    memcpy(out, base, base_len * sizeof(oid));
    out[base_len] = column;
    out[base_len + 1] = 0;
    return base_len + 2;
}

static long counter(const oid *base, size_t base_len, oid column)
{
    oid name[MAX_OID_LEN];
    size_t len = scalar_oid(base, base_len, column, name);
    u_char type = 0;
    long v = testagent_get_integer(name, len, &type);

    assert_int_equal(type, ASN_COUNTER);
    return v;
}

static int use_prefix_flag(void)
{
    return netsnmp_ds_get_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TSM_USE_PREFIX);
}

static void register_module(void)
{
    assert_int_equal(mib_tlstm_stats_register(), 0);
}

static int setup(void **state)
{
    (void)state;
    /* A value set over SNMP earlier, as the agent stores it: read after
     * the configuration, it overrides the library's default (false). */
    (void)testagent_confdir();
    testagent_write_conf(APP ".conf", "dtlsudpTsmUsePrefix true\n");
    return testagent_start(APP, register_module);
}

static int teardown(void **state)
{
    (void)state;
    mib_tlstm_stats_unregister();
    testagent_stop();
    return 0;
}

/* RFC 6353 snmpTlstmSession.N is STAT_TLSTM_STATS_START + N - 1. */
static void test_tlstm_session_counters(void **state)
{
    int column, i;

    (void)state;
    for (column = 1; column <= 10; column++)
        assert_int_equal(counter(tlstm_session, OID_LENGTH(tlstm_session), (oid)column), 0);
    for (i = 0; i < 3; i++)
        snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONNOSESSIONS);
    snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENS);
    snmp_increment_statistic(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCACHES);
    assert_int_equal(counter(tlstm_session, OID_LENGTH(tlstm_session), 1), 1);  /* Opens */
    assert_int_equal(counter(tlstm_session, OID_LENGTH(tlstm_session), 2), 0);  /* ClientCloses */
    assert_int_equal(counter(tlstm_session, OID_LENGTH(tlstm_session), 6), 3);  /* NoSessions */
    assert_int_equal(counter(tlstm_session, OID_LENGTH(tlstm_session), 10), 1); /* InvalidCaches */
}

static void test_tsm_counters(void **state)
{
    (void)state;
    assert_int_equal(counter(tsm_stats, OID_LENGTH(tsm_stats), 3), 0);
    snmp_increment_statistic(STAT_TSM_SNMPTSMUNKNOWNPREFIXES);
    snmp_increment_statistic(STAT_TSM_SNMPTSMUNKNOWNPREFIXES);
    snmp_increment_statistic(STAT_TSM_SNMPTSMINADEQUATESECURITYLEVELS);
    assert_int_equal(counter(tsm_stats, OID_LENGTH(tsm_stats), 1), 0); /* InvalidCaches */
    assert_int_equal(counter(tsm_stats, OID_LENGTH(tsm_stats), 2), 1); /* InadequateSecurityLevels */
    assert_int_equal(counter(tsm_stats, OID_LENGTH(tsm_stats), 3), 2); /* UnknownPrefixes */
    assert_int_equal(counter(tsm_stats, OID_LENGTH(tsm_stats), 4), 0); /* InvalidPrefixes */
}

/* Past the last object of each group there is nothing. */
static void test_counters_end_where_the_mib_ends(void **state)
{
    oid name[MAX_OID_LEN];
    size_t len;
    testagent_reply r;

    (void)state;
    len = scalar_oid(tlstm_session, OID_LENGTH(tlstm_session), 11, name);
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.vb->type, SNMP_NOSUCHOBJECT);
    testagent_reply_free(&r);
    len = scalar_oid(tsm_stats, OID_LENGTH(tsm_stats), 5, name);
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.vb->type, SNMP_NOSUCHOBJECT);
    testagent_reply_free(&r);
}

static void test_counters_refuse_writes(void **state)
{
    oid name[MAX_OID_LEN];
    size_t len = scalar_oid(tlstm_session, OID_LENGTH(tlstm_session), 6, name);
    netsnmp_variable_list *vars = NULL;
    u_long zero = 0;
    testagent_reply r;

    (void)state;
    snmp_varlist_add_variable(&vars, name, len, ASN_COUNTER, &zero, sizeof(zero));
    assert_int_equal(testagent_set(vars, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOTWRITABLE);
    testagent_reply_free(&r);
    snmp_free_varbind(vars);
    assert_int_equal(counter(tlstm_session, OID_LENGTH(tlstm_session), 6), 3);
}

static long set_use_prefix(u_char type, const void *value, size_t value_len)
{
    netsnmp_variable_list *vars = NULL;
    testagent_reply r;
    long errstat;

    snmp_varlist_add_variable(&vars, use_prefix, OID_LENGTH(use_prefix), type, value, value_len);
    assert_int_equal(testagent_set(vars, &r), 0);
    errstat = r.errstat;
    testagent_reply_free(&r);
    snmp_free_varbind(vars);
    return errstat;
}

static long set_use_prefix_int(long v)
{
    return set_use_prefix(ASN_INTEGER, &v, sizeof(v));
}

/* The persisted line read at startup set the flag; GET follows the flag
 * whoever changes it. */
static void test_use_prefix_reads_the_flag(void **state)
{
    (void)state;
    assert_true(use_prefix_flag());
    assert_int_equal(testagent_get_integer(use_prefix, OID_LENGTH(use_prefix), NULL), 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TSM_USE_PREFIX, 0);
    assert_int_equal(testagent_get_integer(use_prefix, OID_LENGTH(use_prefix), NULL), 2);
}

static void test_use_prefix_set(void **state)
{
    (void)state;
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TSM_USE_PREFIX, 0);
    assert_int_equal(set_use_prefix_int(1), SNMP_ERR_NOERROR);
    assert_true(use_prefix_flag());
    assert_int_equal(testagent_get_integer(use_prefix, OID_LENGTH(use_prefix), NULL), 1);
    assert_int_equal(set_use_prefix_int(2), SNMP_ERR_NOERROR);
    assert_false(use_prefix_flag());
}

/* TruthValue is 1 or 2, an INTEGER; anything else changes nothing. */
static void test_use_prefix_refusals(void **state)
{
    (void)state;
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TSM_USE_PREFIX, 1);
    assert_int_equal(set_use_prefix_int(0), SNMP_ERR_WRONGVALUE);
    assert_int_equal(set_use_prefix_int(3), SNMP_ERR_WRONGVALUE);
    assert_int_equal(set_use_prefix(ASN_OCTET_STR, "false", 5), SNMP_ERR_WRONGTYPE);
    assert_true(use_prefix_flag());
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TSM_USE_PREFIX, 0);
    assert_int_equal(set_use_prefix_int(-1), SNMP_ERR_WRONGVALUE);
    assert_false(use_prefix_flag());
}

/* A writable object that fails every SET in its ACTION phase, so the
 * agent undoes the other varbinds of the request. */
static const oid failing[] = {1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 1};

static int failing_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                           netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
    (void)handler;
    (void)reginfo;
    if (reqinfo->mode == MODE_SET_ACTION)
        netsnmp_set_request_error(reqinfo, requests, SNMP_ERR_RESOURCEUNAVAILABLE);
    else if (reqinfo->mode == MODE_GET)
        snmp_set_var_typed_integer(requests->requestvb, ASN_INTEGER, 0);
    return SNMP_ERR_NOERROR;
}

static void test_use_prefix_undone_when_the_set_fails(void **state)
{
    netsnmp_handler_registration *reg;
    netsnmp_variable_list *vars = NULL;
    oid failing_instance[OID_LENGTH(failing) + 1];
    long one = 1;
    testagent_reply r;

    (void)state;
    reg = netsnmp_create_handler_registration("failing", failing_handler, failing, OID_LENGTH(failing),
                                              HANDLER_CAN_RWRITE);
    assert_int_equal(netsnmp_register_scalar(reg), MIB_REGISTERED_OK);
    memcpy(failing_instance, failing, sizeof(failing));
    failing_instance[OID_LENGTH(failing)] = 0;

    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TSM_USE_PREFIX, 0);
    snmp_varlist_add_variable(&vars, use_prefix, OID_LENGTH(use_prefix), ASN_INTEGER, &one, sizeof(one));
    snmp_varlist_add_variable(&vars, failing_instance, OID_LENGTH(failing_instance), ASN_INTEGER, &one,
                              sizeof(one));
    assert_int_equal(testagent_set(vars, &r), 0);
    assert_int_not_equal(r.errstat, SNMP_ERR_NOERROR);
    testagent_reply_free(&r);
    snmp_free_varbind(vars);
    assert_false(use_prefix_flag());
    netsnmp_unregister_handler(reg);
}

static int persistent_file_has(const char *line)
{
    char path[512], buf[256];
    FILE *f;
    int found = 0;

    snprintf(path, sizeof(path), "%s/%s.conf", testagent_confdir(), APP);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(buf, sizeof(buf), f) != NULL)
        if (strncmp(buf, line, strlen(line)) == 0 && (buf[strlen(line)] == '\n' || buf[strlen(line)] == '\0'))
            found = 1;
    fclose(f);
    return found;
}

/* A value set over SNMP survives a restart: the store writes it. */
static void test_use_prefix_persisted(void **state)
{
    (void)state;
    assert_int_equal(set_use_prefix_int(2), SNMP_ERR_NOERROR);
    snmp_store(APP);
    assert_true(persistent_file_has("dtlsudpTsmUsePrefix false"));
    assert_false(persistent_file_has("dtlsudpTsmUsePrefix true"));
    assert_int_equal(set_use_prefix_int(1), SNMP_ERR_NOERROR);
    snmp_store(APP);
    assert_true(persistent_file_has("dtlsudpTsmUsePrefix true"));
    assert_false(persistent_file_has("dtlsudpTsmUsePrefix false"));
}

/* The persisted line takes true or false; anything else is reported and
 * changes nothing. */
static void test_persisted_line_parsed(void **state)
{
    char bad[] = "dtlsudpTsmUsePrefix maybe", no[] = "dtlsudpTsmUsePrefix false";

    (void)state;
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TSM_USE_PREFIX, 1);
    netsnmp_config(bad);
    assert_true(use_prefix_flag());
    netsnmp_config(no);
    assert_false(use_prefix_flag());
}

/* A second registration changes nothing; when another module already
 * serves a group, the others are still registered and -1 says so. */
static void test_registration(void **state)
{
    netsnmp_handler_registration *squatter;
    oid name[MAX_OID_LEN];
    size_t len = scalar_oid(tlstm_session, OID_LENGTH(tlstm_session), 6, name);
    testagent_reply r;

    (void)state;
    assert_int_equal(mib_tlstm_stats_register(), 0);
    assert_int_equal(counter(tlstm_session, OID_LENGTH(tlstm_session), 6), 3);

    mib_tlstm_stats_unregister();
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.vb->type, SNMP_NOSUCHOBJECT);
    testagent_reply_free(&r);

    squatter = netsnmp_create_handler_registration("squatter", failing_handler, tsm_stats, OID_LENGTH(tsm_stats),
                                                   HANDLER_CAN_RONLY);
    assert_int_equal(netsnmp_register_handler(squatter), MIB_REGISTERED_OK);
    assert_int_equal(mib_tlstm_stats_register(), -1);
    assert_int_equal(counter(tlstm_session, OID_LENGTH(tlstm_session), 6), 3);
    assert_int_equal(testagent_get_integer(use_prefix, OID_LENGTH(use_prefix), NULL), use_prefix_flag() ? 1 : 2);
    netsnmp_unregister_handler(squatter);
    assert_int_equal(mib_tlstm_stats_register(), 0);
    assert_int_equal(counter(tsm_stats, OID_LENGTH(tsm_stats), 3), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_use_prefix_reads_the_flag),
        cmocka_unit_test(test_tlstm_session_counters),
        cmocka_unit_test(test_tsm_counters),
        cmocka_unit_test(test_counters_end_where_the_mib_ends),
        cmocka_unit_test(test_counters_refuse_writes),
        cmocka_unit_test(test_use_prefix_set),
        cmocka_unit_test(test_use_prefix_refusals),
        cmocka_unit_test(test_use_prefix_undone_when_the_set_fails),
        cmocka_unit_test(test_use_prefix_persisted),
        cmocka_unit_test(test_persisted_line_parsed),
        cmocka_unit_test(test_registration),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
