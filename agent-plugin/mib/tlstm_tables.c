/*
 * tlstm_tables.c - SNMP-TLS-TM-MIB certificate mapping (RFC 6353 section
 * 7, snmpTlstmCertificateMapping, mib-2.198.2.2.1):
 *
 *   .1 snmpTlstmCertToTSNCount    .2 ...LastChanged  .3 snmpTlstmCertToTSNTable
 *   .4 snmpTlstmParamsCount       .5 ...LastChanged  .6 snmpTlstmParamsTable
 *   .7 snmpTlstmAddrCount         .8 ...LastChanged  .9 snmpTlstmAddrTable
 *
 * The rows are libnetsnmp's own: the certSecName, snmpTlstmParams and
 * snmpTlstmAddr configuration lines, kept in netsnmp_cert_map_container(),
 * netsnmp_tlstmParams_container() and netsnmp_tlstmAddr_container().  The
 * tables are served read-only: RFC 6353's compliance statement allows
 * MIN-ACCESS read-only for every column, and configuration stays in
 * snmpd.conf (a SET gets notWritable).
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <net-snmp/library/cert_util.h>

#include <string.h>

#include "mib_internal.h"
#include "mib_table.h"

/* mib_storage_type() hard-codes these flag values. */
#if NSCM_FROM_CONFIG != 0x01 || NSCM_NONVOLATILE != 0x04 || TLSTM_PARAMS_FROM_CONFIG != 0x01 ||              \
    TLSTM_PARAMS_NONVOLATILE != 0x04 || TLSTM_ADDR_FROM_CONFIG != 0x01 || TLSTM_ADDR_NONVOLATILE != 0x04
#error "Net-SNMP row flag values changed: update mib_storage_type()"
#endif

/* SnmpAdminString (SIZE (1..32)) for snmpTargetParamsName/AddrName. */
#define TARGET_NAME_MAX 32
/* RowStatus active(1) */
#define ROW_STATUS_ACTIVE 1

typedef struct table_def table_def;
struct table_def {
    const char *name, *count_name, *changed_name;
    oid base_subid; /* snmpTlstmCertificateMapping.<base_subid> is the Count */
    unsigned min_column, max_column;
    int index_type;
    netsnmp_container *(*container)(void);
    /* Puts the row's index into idx; -1 when the row cannot be indexed. */
    int (*set_index)(netsnmp_variable_list *idx, const void *row);
    /* Sets vb to the value of column; -1 for a column that does not exist. */
    mib_get_column_fn *get_column;
    mib_signature (*sign)(mib_signature sig, const void *row);

    mib_change_tracker changes;
    netsnmp_handler_registration *table_reg, *count_reg, *changed_reg;
};

/* ------------------------------------------------------------------------
 * Column values
 * ------------------------------------------------------------------------ */

static void set_fingerprint(netsnmp_variable_list *vb, int hash_type, const char *hex)
{
    uint8_t buf[SNMPTLSFINGERPRINT_MAX_LEN];
    int len = hex ? mib_fingerprint_encode(hash_type, hex, buf, sizeof(buf)) : -1;

    /* A fingerprint we cannot encode reads as the empty string. */
    snmp_set_var_typed_value(vb, ASN_OCTET_STR, buf, len > 0 ? (size_t)len : 0);
}

static void set_string(netsnmp_variable_list *vb, const char *s)
{
    snmp_set_var_typed_value(vb, ASN_OCTET_STR, s ? s : "", s ? strlen(s) : 0);
}

static int set_name_index(netsnmp_variable_list *idx, const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > TARGET_NAME_MAX)
        return -1;
    snmp_set_var_value(idx, name, len);
    return 0;
}

/* snmpTlstmCertToTSNTable: INDEX { snmpTlstmCertToTSNID } */
static int cert_set_index(netsnmp_variable_list *idx, const void *row)
{
    const netsnmp_cert_map *m = row;
    u_long id;

    if (m->priority <= 0) /* Unsigned32 (1..4294967295) */
        return -1;
    id = (u_long)m->priority;
    snmp_set_var_value(idx, &id, sizeof(id));
    return 0;
}

static int cert_get_column(const void *row, unsigned column, netsnmp_variable_list *vb)
{
    const netsnmp_cert_map *m = row;
    oid map_type[] = {MIB_TLSTM_OID, 1, 1, 0}; /* snmpTlstmCertToTSNMIdentities.N */

    switch (column) {
    case 2: /* snmpTlstmCertToTSNFingerprint */
        set_fingerprint(vb, m->hashType, m->fingerprint);
        return 0;
    case 3: /* snmpTlstmCertToTSNMapType */
        map_type[OID_LENGTH(map_type) - 1] = (oid)m->mapType;
        snmp_set_var_typed_value(vb, ASN_OBJECT_ID, map_type, sizeof(map_type));
        return 0;
    case 4: /* snmpTlstmCertToTSNData: the securityName for --sn rows */
        set_string(vb, m->data);
        return 0;
    case 5:
        snmp_set_var_typed_integer(vb, ASN_INTEGER, mib_storage_type((unsigned char)m->flags));
        return 0;
    case 6:
        snmp_set_var_typed_integer(vb, ASN_INTEGER, ROW_STATUS_ACTIVE);
        return 0;
    default:
        return -1;
    }
}

static mib_signature cert_sign(mib_signature sig, const void *row)
{
    const netsnmp_cert_map *m = row;
    int v[4] = {m->priority, m->mapType, m->hashType, m->flags};

    sig = mib_signature_add(sig, v, sizeof(v));
    sig = mib_signature_add_str(sig, m->fingerprint);
    return mib_signature_add_str(sig, m->data);
}

/* snmpTlstmParamsTable: INDEX { IMPLIED snmpTargetParamsName } */
static int params_set_index(netsnmp_variable_list *idx, const void *row)
{
    return set_name_index(idx, ((const snmpTlstmParams *)row)->name);
}

static int params_get_column(const void *row, unsigned column, netsnmp_variable_list *vb)
{
    const snmpTlstmParams *p = row;

    switch (column) {
    case 1: /* snmpTlstmParamsClientFingerprint */
        set_fingerprint(vb, p->hashType, p->fingerprint);
        return 0;
    case 2:
        snmp_set_var_typed_integer(vb, ASN_INTEGER, mib_storage_type(p->flags));
        return 0;
    case 3:
        snmp_set_var_typed_integer(vb, ASN_INTEGER, ROW_STATUS_ACTIVE);
        return 0;
    default:
        return -1;
    }
}

static mib_signature params_sign(mib_signature sig, const void *row)
{
    const snmpTlstmParams *p = row;
    int v[2] = {p->hashType, p->flags};

    sig = mib_signature_add(sig, v, sizeof(v));
    sig = mib_signature_add_str(sig, p->name);
    return mib_signature_add_str(sig, p->fingerprint);
}

/* snmpTlstmAddrTable: INDEX { IMPLIED snmpTargetAddrName } */
static int addr_set_index(netsnmp_variable_list *idx, const void *row)
{
    return set_name_index(idx, ((const snmpTlstmAddr *)row)->name);
}

static int addr_get_column(const void *row, unsigned column, netsnmp_variable_list *vb)
{
    const snmpTlstmAddr *a = row;

    switch (column) {
    case 1: /* snmpTlstmAddrServerFingerprint */
        set_fingerprint(vb, a->hashType, a->fingerprint);
        return 0;
    case 2: /* snmpTlstmAddrServerIdentity */
        set_string(vb, a->identity);
        return 0;
    case 3:
        snmp_set_var_typed_integer(vb, ASN_INTEGER, mib_storage_type(a->flags));
        return 0;
    case 4:
        snmp_set_var_typed_integer(vb, ASN_INTEGER, ROW_STATUS_ACTIVE);
        return 0;
    default:
        return -1;
    }
}

static mib_signature addr_sign(mib_signature sig, const void *row)
{
    const snmpTlstmAddr *a = row;
    int v[2] = {a->hashType, a->flags};

    sig = mib_signature_add(sig, v, sizeof(v));
    sig = mib_signature_add_str(sig, a->name);
    sig = mib_signature_add_str(sig, a->fingerprint);
    return mib_signature_add_str(sig, a->identity);
}

static table_def tables[] = {
    {"snmpTlstmCertToTSNTable",
     "snmpTlstmCertToTSNCount",
     "snmpTlstmCertToTSNTableLastChanged",
     1,
     2,
     6,
     ASN_UNSIGNED,
     netsnmp_cert_map_container,
     cert_set_index,
     cert_get_column,
     cert_sign,
     {0, 0, 0},
     NULL,
     NULL,
     NULL},
    {"snmpTlstmParamsTable",
     "snmpTlstmParamsCount",
     "snmpTlstmParamsTableLastChanged",
     4,
     1,
     3,
     ASN_PRIV_IMPLIED_OCTET_STR,
     netsnmp_tlstmParams_container,
     params_set_index,
     params_get_column,
     params_sign,
     {0, 0, 0},
     NULL,
     NULL,
     NULL},
    {"snmpTlstmAddrTable",
     "snmpTlstmAddrCount",
     "snmpTlstmAddrTableLastChanged",
     7,
     1,
     4,
     ASN_PRIV_IMPLIED_OCTET_STR,
     netsnmp_tlstmAddr_container,
     addr_set_index,
     addr_get_column,
     addr_sign,
     {0, 0, 0},
     NULL,
     NULL,
     NULL},
};
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

/* ------------------------------------------------------------------------
 * Row snapshots: the iterator walks an array copied from the container
 * at the start of each request (the container cannot change during one).
 * ------------------------------------------------------------------------ */

typedef struct snapshot {
    const table_def *def;
    void **rows;
    size_t n, cap, next;
    int oom;
} snapshot;

static void collect_row(void *row, void *ctx)
{
    snapshot *s = ctx;
    void **grown;

    if (s->oom)
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        grown = realloc(s->rows, s->cap * sizeof(*grown));
        if (grown == NULL) {
            s->oom = 1;
            return;
        }
        s->rows = grown;
    }
    s->rows[s->n++] = row;
}

/* Fills s with the rows of def's container; 0 or -1 (out of memory). */
static int snapshot_take(snapshot *s, const table_def *def)
{
    netsnmp_container *c = def->container();

    memset(s, 0, sizeof(*s));
    s->def = def;
    if (c != NULL)
        CONTAINER_FOR_EACH(c, collect_row, s);
    if (s->oom) {
        free(s->rows);
        s->rows = NULL;
        s->n = 0;
        return -1;
    }
    return 0;
}

static void snapshot_free(snapshot *s)
{
    if (s != NULL) {
        free(s->rows);
        free(s);
    }
}

/* Signature and number of indexable rows; records the observation. */
static size_t observe(table_def *def)
{
    netsnmp_variable_list idx;
    snapshot s;
    mib_signature sig = MIB_SIGNATURE_INIT;
    size_t i, count = 0;

    if (snapshot_take(&s, def) != 0)
        return 0;
    memset(&idx, 0, sizeof(idx));
    idx.type = (u_char)def->index_type;
    for (i = 0; i < s.n; i++) {
        if (def->set_index(&idx, s.rows[i]) != 0)
            continue;
        count++;
        sig = def->sign(sig, s.rows[i]);
    }
    snmp_free_var_internals(&idx);
    free(s.rows);
    /* The containers keep their rows sorted by index, so the plain
     * sequence of rows signs the table's content. */
    mib_change_observe(&def->changes, sig, (uint32_t)netsnmp_get_agent_uptime());
    return count;
}

/* ------------------------------------------------------------------------
 * Iterator callbacks
 * ------------------------------------------------------------------------ */

static netsnmp_variable_list *next_row(void **loop_ctx, void **data_ctx, netsnmp_variable_list *idx,
                                       netsnmp_iterator_info *iinfo)
{
    snapshot *s = *loop_ctx;

    while (s->next < s->n) {
        void *row = s->rows[s->next++];

        if (s->def->set_index(idx, row) == 0) {
            *data_ctx = row;
            return idx;
        }
    }
    return NULL;
}

static netsnmp_variable_list *first_row(void **loop_ctx, void **data_ctx, netsnmp_variable_list *idx,
                                        netsnmp_iterator_info *iinfo)
{
    table_def *def = iinfo->myvoid;
    snapshot *s = malloc(sizeof(*s));

    *loop_ctx = NULL;
    if (s == NULL)
        return NULL;
    observe(def);
    if (snapshot_take(s, def) != 0) {
        free(s);
        return NULL;
    }
    *loop_ctx = s;
    return next_row(loop_ctx, data_ctx, idx, iinfo);
}

static void free_loop(void *loop_ctx, netsnmp_iterator_info *iinfo)
{
    snapshot_free(loop_ctx);
}

/* Count (Gauge32) and LastChanged (TimeStamp) scalars. */
static int count_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                         netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
    table_def *def = handler->myvoid;
    netsnmp_request_info *r;
    size_t n;

    if (reqinfo->mode != MODE_GET)
        return SNMP_ERR_NOERROR;
    n = observe(def);
    for (r = requests; r != NULL; r = r->next)
        snmp_set_var_typed_integer(r->requestvb, ASN_GAUGE, (long)mib_gauge32(n));
    return SNMP_ERR_NOERROR;
}

static int changed_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                           netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
    table_def *def = handler->myvoid;
    netsnmp_request_info *r;

    if (reqinfo->mode != MODE_GET)
        return SNMP_ERR_NOERROR;
    observe(def);
    for (r = requests; r != NULL; r = r->next)
        snmp_set_var_typed_integer(r->requestvb, ASN_TIMETICKS, (long)def->changes.last_changed);
    return SNMP_ERR_NOERROR;
}

/* ------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------ */

static netsnmp_handler_registration *register_scalar(const char *name, Netsnmp_Node_Handler *fn, oid subid,
                                                     table_def *def)
{
    oid base[] = {MIB_TLSTM_OID, 2, 2, 1, subid};

    return mib_scalar_register(name, fn, base, OID_LENGTH(base), def);
}

static netsnmp_handler_registration *register_table(table_def *def)
{
    oid base[] = {MIB_TLSTM_OID, 2, 2, 1, def->base_subid + 2};
    const mib_table_spec spec = {
        .name = def->name,
        .get_column = def->get_column,
        .base = base,
        .base_len = OID_LENGTH(base),
        .index_type = def->index_type,
        .min_column = def->min_column,
        .max_column = def->max_column,
        .iterator =
            {
                .get_first_data_point = first_row,
                .get_next_data_point = next_row,
                .free_loop_context_at_end = free_loop,
                .myvoid = def,
            },
    };

    return mib_table_register(&spec);
}

/* Net-SNMP re-reads its configuration at startup and on SIGHUP; observe
 * the tables right after, so LastChanged moves exactly when a reload
 * changed them. */
static int after_config(int major, int minor, void *server_arg, void *client_arg)
{
    size_t i;

    for (i = 0; i < N_TABLES; i++)
        observe(&tables[i]);
    return SNMPERR_SUCCESS;
}

static int callback_registered;

int mib_tlstm_tables_register(void)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < N_TABLES; i++) {
        table_def *def = &tables[i];

        if (def->count_reg == NULL)
            def->count_reg = register_scalar(def->count_name, count_handler, def->base_subid, def);
        if (def->changed_reg == NULL)
            def->changed_reg = register_scalar(def->changed_name, changed_handler, def->base_subid + 1, def);
        if (def->table_reg == NULL)
            def->table_reg = register_table(def);
        if (def->count_reg == NULL || def->changed_reg == NULL || def->table_reg == NULL) {
            snmp_log(LOG_WARNING, "dtlsudp: could not register all of %s\n", def->name);
            rc = -1;
        }
    }
    if (!callback_registered && snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_POST_READ_CONFIG,
                                                       after_config, NULL) == SNMPERR_SUCCESS)
        callback_registered = 1;
    return rc;
}

void mib_tlstm_tables_unregister(void)
{
    size_t i;

    if (callback_registered) {
        snmp_unregister_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_POST_READ_CONFIG, after_config, NULL,
                                 1);
        callback_registered = 0;
    }
    for (i = 0; i < N_TABLES; i++) {
        mib_unregister(&tables[i].table_reg);
        mib_unregister(&tables[i].count_reg);
        mib_unregister(&tables[i].changed_reg);
    }
}
