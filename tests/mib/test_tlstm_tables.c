/*
 * test_tlstm_tables.c - agent-plugin/mib/tlstm_tables.c in an in-process
 * agent: the SNMP-TLS-TM-MIB certificate mapping tables show libnetsnmp's
 * own rows (certSecName, snmpTlstmParams and snmpTlstmAddr lines) with the
 * RFC 6353 columns, indexes and order; the Count objects count the rows a
 * manager can see; LastChanged is 0 until a row changes after the
 * configuration was read, then the agent uptime of that change; every
 * column refuses writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mib_internal.h"
#include "testagent.h"

#include <openssl/ssl.h>
#include <net-snmp/library/cert_util.h>

#define APP "dtlsudp-test-tlstm-tables"

/* snmpTlstmCertificateMapping.<subid> */
#define MAPPING(subid) MIB_TLSTM_OID, 2, 2, 1, subid
static const oid cert_count[] = {MAPPING(1), 0};
static const oid cert_changed[] = {MAPPING(2), 0};
static const oid cert_entry[] = {MAPPING(3), 1};
static const oid params_count[] = {MAPPING(4), 0};
static const oid params_changed[] = {MAPPING(5), 0};
static const oid params_entry[] = {MAPPING(6), 1};
static const oid addr_count[] = {MAPPING(7), 0};
static const oid addr_changed[] = {MAPPING(8), 0};
static const oid addr_entry[] = {MAPPING(9), 1};

/* 32 bytes 00 01 .. 1f (SHA-256 sized) and 20 bytes a0 .. b3 (SHA-1). */
#define FP256 "00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f"
#define FP1 "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"
#define LONG_NAME "a-target-name-longer-than-32-chars"

static void register_module(void)
{
    /* Before the files are read (the plugin's dlmod timing); init_agent()
     * has registered certSecName & co., as in snmpd. */
    assert_int_equal(mib_tlstm_tables_register(), 0);
}

static char late_addr[] = "snmpTlstmAddr late-addr --sha1 " FP1 " late.example";

static int setup(void **state)
{
    (void)state;
    (void)testagent_confdir();
    testagent_write_conf(APP ".conf", "certSecName 20 --sha1 " FP1 " --cn\n"
                                      "certSecName 10 --sha256 " FP256 " --sn alice\n"
                                      "snmpTlstmParams nms --sha1 " FP1 "\n"
                                      "snmpTlstmParams " LONG_NAME " --sha1 " FP1 "\n"
                                      "snmpTlstmAddr nms-addr --sha256 " FP256 " server.example\n");
    if (testagent_start(APP, register_module) != 0)
        return -1;
    /* A row that arrives after the configuration was read and before any
     * request: a change the addr table's LastChanged must show. */
    usleep(30000); /* an uptime above 0 ticks */
    netsnmp_config(late_addr);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mib_tlstm_tables_unregister();
    testagent_stop();
    return 0;
}

/* <entry>.<column>.<index...> */
static size_t column_oid(const oid *entry, size_t entry_len, oid column, const oid *index, size_t index_len,
                         oid *out)
{
    memcpy(out, entry, entry_len * sizeof(oid));
    out[entry_len] = column;
    memcpy(out + entry_len + 1, index, index_len * sizeof(oid));
    return entry_len + 1 + index_len;
}

/* An IMPLIED SnmpAdminString index: its characters, no length. */
static size_t name_index(const char *name, oid *out)
{
    size_t i, n = strlen(name);

    for (i = 0; i < n; i++)
        out[i] = (unsigned char)name[i];
    return n;
}

static void expect_octets(const oid *name, size_t len, const void *value, size_t value_len)
{
    testagent_reply r;

    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOERROR);
    assert_int_equal(r.vb->type, ASN_OCTET_STR);
    assert_int_equal(r.vb->val_len, value_len);
    assert_memory_equal(r.vb->val.string, value, value_len);
    testagent_reply_free(&r);
}

static void fingerprint_bytes(uint8_t hash, uint8_t first, size_t n, uint8_t *out)
{
    size_t i;

    out[0] = hash;
    for (i = 0; i < n; i++)
        out[1 + i] = (uint8_t)(first + i);
}

static void test_cert_to_tsn_rows(void **state)
{
    const oid id10[] = {10};
    const oid sn_map[] = {MIB_TLSTM_OID, 1, 1, TSNM_tlstmCertSpecified};
    oid name[MAX_OID_LEN];
    uint8_t fp[33];
    size_t len;
    testagent_reply r;

    (void)state;
    fingerprint_bytes(NS_HASH_SHA256, 0x00, 32, fp);
    len = column_oid(cert_entry, OID_LENGTH(cert_entry), 2, id10, 1, name);
    expect_octets(name, len, fp, sizeof(fp));

    len = column_oid(cert_entry, OID_LENGTH(cert_entry), 3, id10, 1, name);
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.vb->type, ASN_OBJECT_ID);
    assert_int_equal(r.vb->val_len, sizeof(sn_map));
    assert_memory_equal(r.vb->val.objid, sn_map, sizeof(sn_map));
    testagent_reply_free(&r);

    len = column_oid(cert_entry, OID_LENGTH(cert_entry), 4, id10, 1, name);
    expect_octets(name, len, "alice", 5);
    len = column_oid(cert_entry, OID_LENGTH(cert_entry), 5, id10, 1, name);
    assert_int_equal(testagent_get_integer(name, len, NULL), 4); /* permanent: from the configuration */
    len = column_oid(cert_entry, OID_LENGTH(cert_entry), 6, id10, 1, name);
    assert_int_equal(testagent_get_integer(name, len, NULL), 1); /* active */
}

/* GETNEXT walks column by column, rows by ascending ID, and the --cn row
 * says so in its map type and has no data. */
static void test_cert_to_tsn_walk_order(void **state)
{
    const oid id20[] = {20};
    const oid cn_map[] = {MIB_TLSTM_OID, 1, 1, TSNM_tlstmCertCommonName};
    oid name[MAX_OID_LEN], expect[MAX_OID_LEN];
    size_t len, expect_len;
    testagent_reply r;

    (void)state;
    assert_int_equal(testagent_getnext(cert_entry, OID_LENGTH(cert_entry), &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOERROR);
    expect_len = column_oid(cert_entry, OID_LENGTH(cert_entry), 2, (const oid[]){10}, 1, expect);
    assert_int_equal(snmp_oid_compare(r.vb->name, r.vb->name_length, expect, expect_len), 0);
    memcpy(name, r.vb->name, r.vb->name_length * sizeof(oid));
    len = r.vb->name_length;
    testagent_reply_free(&r);

    assert_int_equal(testagent_getnext(name, len, &r), 0);
    expect_len = column_oid(cert_entry, OID_LENGTH(cert_entry), 2, id20, 1, expect);
    assert_int_equal(snmp_oid_compare(r.vb->name, r.vb->name_length, expect, expect_len), 0);
    assert_int_equal(r.vb->val_len, 21);
    assert_int_equal(r.vb->val.string[0], NS_HASH_SHA1);
    testagent_reply_free(&r);

    len = column_oid(cert_entry, OID_LENGTH(cert_entry), 3, id20, 1, name);
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_memory_equal(r.vb->val.objid, cn_map, sizeof(cn_map));
    testagent_reply_free(&r);
    len = column_oid(cert_entry, OID_LENGTH(cert_entry), 4, id20, 1, name);
    expect_octets(name, len, "", 0);
}

static void test_missing_rows_and_columns(void **state)
{
    oid name[MAX_OID_LEN];
    size_t len;
    testagent_reply r;

    (void)state;
    len = column_oid(cert_entry, OID_LENGTH(cert_entry), 2, (const oid[]){11}, 1, name);
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.vb->type, SNMP_NOSUCHINSTANCE);
    testagent_reply_free(&r);
    len = column_oid(cert_entry, OID_LENGTH(cert_entry), 7, (const oid[]){10}, 1, name);
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_true(r.vb->type == SNMP_NOSUCHOBJECT || r.vb->type == SNMP_NOSUCHINSTANCE);
    testagent_reply_free(&r);
}

static void test_params_and_addr_rows(void **state)
{
    oid name[MAX_OID_LEN], index[64];
    uint8_t fp1[21], fp256[33];
    size_t len, ilen;

    (void)state;
    fingerprint_bytes(NS_HASH_SHA1, 0xa0, 20, fp1);
    fingerprint_bytes(NS_HASH_SHA256, 0x00, 32, fp256);

    ilen = name_index("nms", index);
    len = column_oid(params_entry, OID_LENGTH(params_entry), 1, index, ilen, name);
    expect_octets(name, len, fp1, sizeof(fp1));
    len = column_oid(params_entry, OID_LENGTH(params_entry), 2, index, ilen, name);
    assert_int_equal(testagent_get_integer(name, len, NULL), 4);
    len = column_oid(params_entry, OID_LENGTH(params_entry), 3, index, ilen, name);
    assert_int_equal(testagent_get_integer(name, len, NULL), 1);

    ilen = name_index("nms-addr", index);
    len = column_oid(addr_entry, OID_LENGTH(addr_entry), 1, index, ilen, name);
    expect_octets(name, len, fp256, sizeof(fp256));
    len = column_oid(addr_entry, OID_LENGTH(addr_entry), 2, index, ilen, name);
    expect_octets(name, len, "server.example", strlen("server.example"));
    len = column_oid(addr_entry, OID_LENGTH(addr_entry), 3, index, ilen, name);
    assert_int_equal(testagent_get_integer(name, len, NULL), 4);
    len = column_oid(addr_entry, OID_LENGTH(addr_entry), 4, index, ilen, name);
    assert_int_equal(testagent_get_integer(name, len, NULL), 1);
}

/* A name longer than SnmpAdminString (SIZE(1..32)) cannot be an index:
 * the row is neither shown nor counted. */
static void test_counts_skip_unindexable_rows(void **state)
{
    u_char type = 0;
    testagent_reply r;

    (void)state;
    assert_int_equal(testagent_get_integer(cert_count, OID_LENGTH(cert_count), &type), 2);
    assert_int_equal(type, ASN_GAUGE);
    assert_int_equal(CONTAINER_SIZE(netsnmp_tlstmParams_container()), 2);
    assert_int_equal(testagent_get_integer(params_count, OID_LENGTH(params_count), NULL), 1);
    assert_int_equal(testagent_get_integer(addr_count, OID_LENGTH(addr_count), NULL), 2);

    /* The long name sorts before "nms", yet the first row of the first
     * column is "nms": the long name never shows. */
    {
        oid first[MAX_OID_LEN], index[8];
        size_t ilen = name_index("nms", index);
        size_t len = column_oid(params_entry, OID_LENGTH(params_entry), 1, index, ilen, first);

        assert_int_equal(testagent_getnext(params_entry, OID_LENGTH(params_entry), &r), 0);
        assert_int_equal(snmp_oid_compare(r.vb->name, r.vb->name_length, first, len), 0);
    }
    testagent_reply_free(&r);
}

static void test_columns_refuse_writes(void **state)
{
    oid name[MAX_OID_LEN];
    size_t len = column_oid(cert_entry, OID_LENGTH(cert_entry), 4, (const oid[]){10}, 1, name);
    netsnmp_variable_list *vars = NULL;
    long two = 2;
    testagent_reply r;

    (void)state;
    snmp_varlist_add_variable(&vars, name, len, ASN_OCTET_STR, "mallory", 7);
    assert_int_equal(testagent_set(vars, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOTWRITABLE);
    testagent_reply_free(&r);
    snmp_free_varbind(vars);
    vars = NULL;
    snmp_varlist_add_variable(&vars, params_count, OID_LENGTH(params_count), ASN_GAUGE, &two, sizeof(two));
    assert_int_equal(testagent_set(vars, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOTWRITABLE);
    testagent_reply_free(&r);
    snmp_free_varbind(vars);
    len = column_oid(cert_entry, OID_LENGTH(cert_entry), 4, (const oid[]){10}, 1, name);
    expect_octets(name, len, "alice", 5);
}

/* RFC 6353: zero until a change after the (re)initialisation; then the
 * uptime of the change, in that table only (the addr table changed after
 * the configuration was read, in setup). */
static void test_last_changed(void **state)
{
    char line[] = "certSecName 30 --sha1 " FP1 " --sn bob";
    u_char type = 0;
    long changed;

    (void)state;
    assert_int_equal(testagent_get_integer(cert_changed, OID_LENGTH(cert_changed), &type), 0);
    assert_int_equal(type, ASN_TIMETICKS);
    assert_int_equal(testagent_get_integer(params_changed, OID_LENGTH(params_changed), NULL), 0);
    assert_true(testagent_get_integer(addr_changed, OID_LENGTH(addr_changed), NULL) > 0);

    netsnmp_config(line);
    assert_int_equal(testagent_get_integer(cert_count, OID_LENGTH(cert_count), NULL), 3);
    changed = testagent_get_integer(cert_changed, OID_LENGTH(cert_changed), NULL);
    assert_true(changed > 0);
    assert_true(changed <= (long)netsnmp_get_agent_uptime());
    assert_int_equal(testagent_get_integer(params_changed, OID_LENGTH(params_changed), NULL), 0);

    /* Reading again without a change keeps the time of the change. */
    usleep(30000);
    assert_int_equal(testagent_get_integer(cert_changed, OID_LENGTH(cert_changed), NULL), changed);
}

/* A second registration changes nothing (SIGHUP re-runs the plugin's
 * init); after unregistering nothing is served. */
static void test_registration(void **state)
{
    testagent_reply r;

    (void)state;
    assert_int_equal(mib_tlstm_tables_register(), 0);
    assert_int_equal(testagent_get_integer(addr_count, OID_LENGTH(addr_count), NULL), 2);
    mib_tlstm_tables_unregister();
    assert_int_equal(testagent_get(addr_count, OID_LENGTH(addr_count), &r), 0);
    assert_int_equal(r.vb->type, SNMP_NOSUCHOBJECT);
    testagent_reply_free(&r);
    assert_int_equal(mib_tlstm_tables_register(), 0);
    assert_int_equal(testagent_get_integer(addr_count, OID_LENGTH(addr_count), NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cert_to_tsn_rows),
        cmocka_unit_test(test_cert_to_tsn_walk_order),
        cmocka_unit_test(test_missing_rows_and_columns),
        cmocka_unit_test(test_params_and_addr_rows),
        cmocka_unit_test(test_counts_skip_unindexable_rows),
        cmocka_unit_test(test_columns_refuse_writes),
        cmocka_unit_test(test_last_changed),
        cmocka_unit_test(test_registration),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
