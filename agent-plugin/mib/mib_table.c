/*
 * mib_table.c - registration of the plugin's read-only iterator tables and
 * scalars (agent-plugin/mib/mib_table.h).
 */
#include "mib_table.h"

#include <stdlib.h>

/* The handler's myvoid: what it needs of the spec after registration. */
typedef struct table_columns {
    mib_get_column_fn *get_column;
} table_columns;

/* Every table's handler.  GET only: the tables are read-only (HANDLER_CAN_RONLY
 * makes the agent refuse a SET before it gets here). */
static int get_cells(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                     netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
    const table_columns *columns = handler->myvoid;
    netsnmp_request_info *r;

    (void)reginfo;
    if (reqinfo->mode != MODE_GET)
        return SNMP_ERR_NOERROR;
    for (r = requests; r != NULL; r = r->next) {
        const void *row = netsnmp_extract_iterator_context(r);
        netsnmp_table_request_info *ti = netsnmp_extract_table_info(r);

        if (r->processed)
            continue;
        if (row == NULL || ti == NULL) {
            netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHINSTANCE);
            continue;
        }
        if (columns->get_column(row, ti->colnum, r->requestvb) != 0)
            netsnmp_set_request_error(reqinfo, r, SNMP_NOSUCHOBJECT);
    }
    return SNMP_ERR_NOERROR;
}

netsnmp_handler_registration *mib_table_register(const mib_table_spec *spec)
{
    netsnmp_handler_registration *reg;
    netsnmp_table_registration_info *tinfo;
    netsnmp_iterator_info *iinfo;
    table_columns *columns;

    reg = netsnmp_create_handler_registration(spec->name, get_cells, spec->base, spec->base_len, HANDLER_CAN_RONLY);
    tinfo = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
    iinfo = SNMP_MALLOC_TYPEDEF(netsnmp_iterator_info);
    columns = malloc(sizeof(*columns));
    if (reg == NULL || tinfo == NULL || iinfo == NULL || columns == NULL) {
        if (reg != NULL)
            netsnmp_handler_registration_free(reg);
        free(tinfo);
        free(iinfo);
        free(columns);
        return NULL;
    }
    columns->get_column = spec->get_column;
    /* From here the handler owns columns: freeing it (unregistering, or a
     * failed register call) frees them. */
    reg->handler->myvoid = columns;
    reg->handler->data_free = free;
    netsnmp_table_helper_add_indexes(tinfo, spec->index_type, 0);
    tinfo->min_column = spec->min_column;
    tinfo->max_column = spec->max_column;
    *iinfo = spec->iterator;
    iinfo->table_reginfo = tinfo;
    /* The handler owns iinfo (and through it tinfo): unregistering frees them. */
    if (netsnmp_register_table_iterator2(reg, iinfo) != MIB_REGISTERED_OK)
        return NULL;
    return reg;
}

netsnmp_handler_registration *mib_scalar_register(const char *name, Netsnmp_Node_Handler *handler,
                                                  const oid *base, size_t base_len, void *handler_data)
{
    netsnmp_handler_registration *reg;

    reg = netsnmp_create_handler_registration(name, handler, base, base_len, HANDLER_CAN_RONLY);
    if (reg == NULL)
        return NULL;
    reg->handler->myvoid = handler_data;
    if (netsnmp_register_read_only_scalar(reg) != MIB_REGISTERED_OK)
        return NULL; /* freed by the failed register call */
    return reg;
}

void mib_unregister(netsnmp_handler_registration **reg)
{
    if (*reg != NULL) {
        netsnmp_unregister_handler(*reg);
        *reg = NULL;
    }
}
