/*
 * test_mib_table.c - agent-plugin/mib/mib_table.c: mib_table_register()
 * serves a read-only iterator table as its spec says (index type, column
 * range, each cell from the column getter, the iterator callbacks and
 * their data), and a registration that cannot be made returns NULL with
 * nothing left behind (the valgrind and ASan runs check the "nothing");
 * mib_scalar_register() serves a read-only scalar; mib_unregister()
 * removes a registration and clears the pointer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mib_table.h"
#include "testagent.h"

#define APP "dtlsudp-test-mib-table"

/* A table of three rows, indexed by Unsigned32, columns 2..4. */
static const oid base[] = {1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 7};
static const oid entry[] = {1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 7, 1};

typedef struct row {
    u_long id;
    long value;
} row;

static const row rows[] = {{5, 50}, {7, 70}, {9, 90}};
static const char iterator_tag[] = "iterator data";
static int loops_freed;

static netsnmp_variable_list *next_row(void **loop_ctx, void **data_ctx, netsnmp_variable_list *idx,
                                       netsnmp_iterator_info *iinfo)
{
    size_t *next = *loop_ctx;

    assert_ptr_equal(iinfo->myvoid, iterator_tag);
    if (*next >= sizeof(rows) / sizeof(rows[0]))
        return NULL;
    snmp_set_var_value(idx, &rows[*next].id, sizeof(rows[*next].id));
    *data_ctx = (void *)&rows[*next];
    ++*next;
    return idx;
}

static netsnmp_variable_list *first_row(void **loop_ctx, void **data_ctx, netsnmp_variable_list *idx,
                                        netsnmp_iterator_info *iinfo)
{
    size_t *next = calloc(1, sizeof(*next));

    assert_non_null(next);
    *loop_ctx = next;
    return next_row(loop_ctx, data_ctx, idx, iinfo);
}

static void free_loop(void *loop_ctx, netsnmp_iterator_info *iinfo)
{
    (void)iinfo;
    loops_freed++;
    free(loop_ctx);
}

/* Column c of a row reads value * 10 + c, so a value names its cell. */
static int row_get_column(const void *data, unsigned column, netsnmp_variable_list *vb)
{
    const row *r = data;

    snmp_set_var_typed_integer(vb, ASN_INTEGER, r->value * 10 + (long)column);
    return 0;
}

static mib_table_spec spec(void)
{
    mib_table_spec s = {
        .name = "testTable",
        .get_column = row_get_column,
        .base = base,
        .base_len = OID_LENGTH(base),
        .index_type = ASN_UNSIGNED,
        .min_column = 2,
        .max_column = 4,
        .iterator =
            {
                .get_first_data_point = first_row,
                .get_next_data_point = next_row,
                .free_loop_context_at_end = free_loop,
                .myvoid = (void *)iterator_tag,
            },
    };

    return s;
}

static netsnmp_handler_registration *reg;

static int setup(void **state)
{
    mib_table_spec s = spec();

    (void)state;
    if (testagent_start(APP, NULL) != 0)
        return -1;
    reg = mib_table_register(&s);
    return reg != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mib_unregister(&reg);
    testagent_stop();
    return 0;
}

static size_t cell(oid column, oid id, oid *out)
{
    memcpy(out, entry, sizeof(entry));
    out[OID_LENGTH(entry)] = column;
    out[OID_LENGTH(entry) + 1] = id;
    return OID_LENGTH(entry) + 2;
}

static void test_get(void **state)
{
    oid name[MAX_OID_LEN];
    size_t len;
    int before = loops_freed;

    (void)state;
    len = cell(2, 5, name);
    assert_int_equal(testagent_get_integer(name, len, NULL), 502);
    len = cell(4, 9, name);
    assert_int_equal(testagent_get_integer(name, len, NULL), 904);
    /* The iterator's loop context is freed at the end of each request. */
    assert_true(loops_freed >= before + 2);
}

static void expect_type(oid column, oid id, u_char type)
{
    oid name[MAX_OID_LEN];
    size_t len = cell(column, id, name);
    testagent_reply r;

    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOERROR);
    assert_int_equal(r.vb->type, type);
    testagent_reply_free(&r);
}

/* Columns outside min..max and rows the iterator does not give are not
 * there. */
static void test_bounds(void **state)
{
    (void)state;
    expect_type(1, 5, SNMP_NOSUCHOBJECT);
    expect_type(5, 5, SNMP_NOSUCHOBJECT);
    expect_type(2, 6, SNMP_NOSUCHINSTANCE);
}

/* GETNEXT walks column 2 over the rows in index order, then column 3. */
static void test_walk(void **state)
{
    static const oid want[][2] = {{2, 5}, {2, 7}, {2, 9}, {3, 5}};
    oid name[MAX_OID_LEN], expect[MAX_OID_LEN];
    size_t len, i;
    testagent_reply r;

    (void)state;
    memcpy(name, base, sizeof(base));
    len = OID_LENGTH(base);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        size_t expect_len = cell(want[i][0], want[i][1], expect);

        assert_int_equal(testagent_getnext(name, len, &r), 0);
        assert_int_equal(snmp_oid_compare(r.vb->name, r.vb->name_length, expect, expect_len), 0);
        assert_int_equal(*r.vb->val.integer, (long)(want[i][1] * 100 + want[i][0]));
        memcpy(name, r.vb->name, r.vb->name_length * sizeof(oid));
        len = r.vb->name_length;
        testagent_reply_free(&r);
    }
}

static void test_read_only(void **state)
{
    oid name[MAX_OID_LEN];
    size_t len = cell(3, 7, name);
    netsnmp_variable_list *vars = NULL;
    long v = 1;
    testagent_reply r;

    (void)state;
    snmp_varlist_add_variable(&vars, name, len, ASN_INTEGER, &v, sizeof(v));
    assert_int_equal(testagent_set(vars, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOTWRITABLE);
    testagent_reply_free(&r);
    snmp_free_varbind(vars);
    assert_int_equal(testagent_get_integer(name, len, NULL), 703);
}

/* The same OID twice: the second registration fails, returns NULL, and
 * the first keeps serving. */
static void test_duplicate_refused(void **state)
{
    mib_table_spec s = spec();
    oid name[MAX_OID_LEN];
    size_t len = cell(2, 7, name);

    (void)state;
    s.name = "testTableAgain";
    assert_null(mib_table_register(&s));
    assert_int_equal(testagent_get_integer(name, len, NULL), 702);
}

/* A scalar: its one instance (.0) reads what the handler makes of its
 * handler data; nothing else is served, nothing can be set; once
 * unregistered it is gone. */
static const oid scalar_base[] = {1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 8};
static const long scalar_value = 4242;

static int scalar_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                          netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
    const long *value = handler->myvoid;
    netsnmp_request_info *r;

    (void)reginfo;
    if (reqinfo->mode != MODE_GET)
        return SNMP_ERR_NOERROR;
    for (r = requests; r != NULL; r = r->next)
        snmp_set_var_typed_integer(r->requestvb, ASN_INTEGER, *value);
    return SNMP_ERR_NOERROR;
}

static void test_scalar(void **state)
{
    netsnmp_handler_registration *scalar;
    oid name[MAX_OID_LEN];
    size_t len = OID_LENGTH(scalar_base) + 1;
    netsnmp_variable_list *vars = NULL;
    testagent_reply r;

    (void)state;
    scalar = mib_scalar_register("testScalar", scalar_handler, scalar_base, OID_LENGTH(scalar_base),
                                 (void *)&scalar_value);
    assert_non_null(scalar);
    memcpy(name, scalar_base, sizeof(scalar_base));
    name[len - 1] = 0;
    assert_int_equal(testagent_get_integer(name, len, NULL), 4242);
    name[len - 1] = 1; /* not the instance */
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.vb->type, SNMP_NOSUCHINSTANCE);
    testagent_reply_free(&r);
    name[len - 1] = 0;
    snmp_varlist_add_variable(&vars, name, len, ASN_INTEGER, &scalar_value, sizeof(scalar_value));
    assert_int_equal(testagent_set(vars, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOTWRITABLE);
    testagent_reply_free(&r);
    snmp_free_varbind(vars);
    assert_int_equal(testagent_get_integer(name, len, NULL), 4242);
    mib_unregister(&scalar);
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.vb->type, SNMP_NOSUCHOBJECT);
    testagent_reply_free(&r);
}

/* Unregistering removes the table (and frees what the registration
 * owns: see the valgrind run) and clears the caller's pointer; again, it
 * does nothing. */
static void test_unregister(void **state)
{
    oid name[MAX_OID_LEN];
    size_t len = cell(2, 5, name);
    testagent_reply r;

    (void)state;
    mib_unregister(&reg);
    assert_null(reg);
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.vb->type, SNMP_NOSUCHOBJECT);
    testagent_reply_free(&r);
    mib_unregister(&reg);
    assert_null(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_duplicate_refused),
        cmocka_unit_test(test_scalar),
        cmocka_unit_test(test_unregister),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
