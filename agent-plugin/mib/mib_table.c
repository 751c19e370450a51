/*
 * mib_table.c - registration of the plugin's read-only iterator tables and
 * scalars (agent-plugin/mib/mib_table.h).
 */
#include "mib_table.h"

#include <stdlib.h>

netsnmp_handler_registration *mib_table_register(const mib_table_spec *spec)
{
    netsnmp_handler_registration *reg;
    netsnmp_table_registration_info *tinfo;
    netsnmp_iterator_info *iinfo;

    reg = netsnmp_create_handler_registration(spec->name, spec->handler, spec->base, spec->base_len,
                                              HANDLER_CAN_RONLY);
    tinfo = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
    iinfo = SNMP_MALLOC_TYPEDEF(netsnmp_iterator_info);
    if (reg == NULL || tinfo == NULL || iinfo == NULL) {
        if (reg != NULL)
            netsnmp_handler_registration_free(reg);
        free(tinfo);
        free(iinfo);
        return NULL;
    }
    reg->handler->myvoid = spec->handler_data;
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
