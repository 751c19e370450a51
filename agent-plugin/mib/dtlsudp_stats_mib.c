/*
 * dtlsudp_stats_mib.c - DTLSUDP-MIB (mibs/DTLSUDP-MIB.txt): the engine
 * statistics RFC 6353 does not cover, summed over the process
 * (dtlsudpStats) and per listening transport (dtlsudpListenerTable).
 *
 * The data come from the transport through the internal contract
 * transport/snmp/snmp_transport.h; every request reads them afresh, so a
 * walk shows the counters as they are at that moment (no cache).
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <string.h>

#include "mib_internal.h"
#include "mib_table.h"
#include "snmp_transport.h"

static netsnmp_handler_registration *stats_reg, *count_reg, *table_reg;

static void set_field(netsnmp_variable_list *vb, const dtlsudp_stats *s, const mib_stat_field *f)
{
    uint64_t v = mib_stat_value(s, f);

    if (f->kind == MIB_GAUGE32) {
        snmp_set_var_typed_integer(vb, ASN_GAUGE, (long)mib_gauge32(v));
    } else {
        struct counter64 c;

        c.high = (u_long)(v >> 32);
        c.low = (u_long)(v & 0xffffffffu);
        snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof(c));
    }
}

/* dtlsudpStats.N.0.  The scalar group helper has checked the instance and
 * passes each request with reginfo->rootoid extended to <root>.N.0. */
static int stats_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                         netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
    netsnmp_request_info *r;
    dtlsudp_stats total;

    if (reqinfo->mode != MODE_GET)
        return SNMP_ERR_NOERROR;
    memset(&total, 0, sizeof(total));
    dtlsudp_snmp_stats_total(&total);
    for (r = requests; r != NULL; r = r->next) {
        const netsnmp_variable_list *vb = r->requestvb;
        const mib_stat_field *f = NULL;

        if (reginfo->rootoid_len >= 2 && vb->name_length >= reginfo->rootoid_len)
            f = mib_stat_field_find((unsigned)vb->name[reginfo->rootoid_len - 2]);
        if (f == NULL) {
            netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
            continue;
        }
        set_field(r->requestvb, &total, f);
    }
    return SNMP_ERR_NOERROR;
}

static int count_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                         netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
    netsnmp_request_info *r;
    size_t n;

    if (reqinfo->mode != MODE_GET)
        return SNMP_ERR_NOERROR;
    n = dtlsudp_snmp_listener_count();
    for (r = requests; r != NULL; r = r->next)
        snmp_set_var_typed_integer(r->requestvb, ASN_GAUGE, (long)mib_gauge32(n));
    return SNMP_ERR_NOERROR;
}

/* ------------------------------------------------------------------------
 * dtlsudpListenerTable: INDEX { dtlsudpListenerIndex } = position + 1
 * ------------------------------------------------------------------------ */

typedef struct listener_loop {
    size_t next; /* the next listener to read */
    dtlsudp_snmp_listener_info info;
} listener_loop;

static netsnmp_variable_list *next_listener(void **loop_ctx, void **data_ctx, netsnmp_variable_list *idx,
                                            netsnmp_iterator_info *iinfo)
{
    listener_loop *l = *loop_ctx;
    long index;

    /* Listeners may close between two requests: stop at the first gap. */
    if (l->next >= (size_t)INT32_MAX || dtlsudp_snmp_listener_get(l->next, &l->info) != 0)
        return NULL;
    l->info.address[sizeof(l->info.address) - 1] = '\0';
    index = (long)++l->next;
    snmp_set_var_typed_integer(idx, ASN_INTEGER, index);
    *data_ctx = NULL; /* made from the loop context when the row is chosen */
    return idx;
}

static netsnmp_variable_list *first_listener(void **loop_ctx, void **data_ctx, netsnmp_variable_list *idx,
                                             netsnmp_iterator_info *iinfo)
{
    listener_loop *l = calloc(1, sizeof(*l));

    *loop_ctx = l;
    if (l == NULL)
        return NULL;
    return next_listener(loop_ctx, data_ctx, idx, iinfo);
}

static void *copy_listener(void *loop_ctx, netsnmp_iterator_info *iinfo)
{
    const listener_loop *l = loop_ctx;
    dtlsudp_snmp_listener_info *copy = malloc(sizeof(*copy));

    if (copy != NULL)
        *copy = l->info;
    return copy;
}

static void free_pointer(void *p, netsnmp_iterator_info *iinfo)
{
    free(p);
}

static int listener_get_column(const void *row, unsigned column, netsnmp_variable_list *vb)
{
    const dtlsudp_snmp_listener_info *info = row;
    const mib_stat_field *f;

    switch (column) {
    case MIB_LISTENER_COLUMN_ADDRESS:
        snmp_set_var_typed_value(vb, ASN_OCTET_STR, info->address, strlen(info->address));
        return 0;
    case MIB_LISTENER_COLUMN_DEMUX:
        snmp_set_var_typed_integer(vb, ASN_INTEGER, mib_demux_value(info->demux));
        return 0;
    default:
        f = column > MIB_LISTENER_STATS_COLUMN_BASE ? mib_stat_field_find(column - MIB_LISTENER_STATS_COLUMN_BASE)
                                                     : NULL;
        if (f == NULL)
            return -1;
        set_field(vb, &info->stats, f);
        return 0;
    }
}

static unsigned max_field_number(void)
{
    unsigned max = 0;
    size_t i;

    for (i = 0; i < mib_stat_field_count; i++)
        if (mib_stat_fields[i].number > max)
            max = mib_stat_fields[i].number;
    return max;
}

static netsnmp_handler_registration *register_stats(void)
{
    static const oid base[] = {MIB_DTLSUDP_OID, 1, 1};
    netsnmp_handler_registration *reg;

    reg = netsnmp_create_handler_registration("dtlsudpStats", stats_handler, base, OID_LENGTH(base),
                                              HANDLER_CAN_RONLY);
    if (reg == NULL)
        return NULL;
    if (netsnmp_register_scalar_group(reg, 1, max_field_number()) != MIB_REGISTERED_OK)
        return NULL; /* freed by the failed register call */
    return reg;
}

static netsnmp_handler_registration *register_count(void)
{
    static const oid base[] = {MIB_DTLSUDP_OID, 1, 2};

    return mib_scalar_register("dtlsudpListenerCount", count_handler, base, OID_LENGTH(base), NULL);
}

static netsnmp_handler_registration *register_listener_table(void)
{
    static const oid base[] = {MIB_DTLSUDP_OID, 1, 3};
    const mib_table_spec spec = {
        .name = "dtlsudpListenerTable",
        .get_column = listener_get_column,
        .base = base,
        .base_len = OID_LENGTH(base),
        .index_type = ASN_INTEGER,
        .min_column = MIB_LISTENER_COLUMN_ADDRESS,
        .max_column = MIB_LISTENER_STATS_COLUMN_BASE + max_field_number(),
        .iterator =
            {
                .get_first_data_point = first_listener,
                .get_next_data_point = next_listener,
                .make_data_context = copy_listener,
                .free_data_context = free_pointer,
                .free_loop_context_at_end = free_pointer,
            },
    };

    return mib_table_register(&spec);
}

int mib_dtlsudp_register(void)
{
    if (stats_reg == NULL)
        stats_reg = register_stats();
    if (count_reg == NULL)
        count_reg = register_count();
    if (table_reg == NULL)
        table_reg = register_listener_table();
    if (stats_reg == NULL || count_reg == NULL || table_reg == NULL) {
        snmp_log(LOG_WARNING, "dtlsudp: could not register all of DTLSUDP-MIB\n");
        return -1;
    }
    return 0;
}

void mib_dtlsudp_unregister(void)
{
    mib_unregister(&stats_reg);
    mib_unregister(&count_reg);
    mib_unregister(&table_reg);
}
