/*
 * mib_table.h - the one way the plugin's MIB modules register a read-only
 * table served by Net-SNMP's table_iterator helper or a read-only scalar,
 * and the one way they unregister what they registered.  Internal to the
 * plugin; needs the agent headers.
 */
#ifndef DTLSUDP_AGENT_MIB_TABLE_H
#define DTLSUDP_AGENT_MIB_TABLE_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

/* Column `column' of `row' (a data context of the table's iterator) into
 * vb; 0, or -1 when the table has no such column. */
typedef int mib_get_column_fn(const void *row, unsigned column, netsnmp_variable_list *vb);

typedef struct mib_table_spec {
    const char *name;
    /* Every GET of a cell: the table's handler (mib_table.c) finds the row
     * and answers noSuchInstance without one, noSuchObject for -1. */
    mib_get_column_fn *get_column;
    const oid *base;
    size_t base_len;
    u_char index_type; /* the single index's ASN type */
    unsigned min_column, max_column;
    /* The iterator callbacks and their myvoid; table_reginfo is set here. */
    netsnmp_iterator_info iterator;
} mib_table_spec;

/* Register spec's table.  On success the returned registration owns the
 * iterator and table info and the handler's own data (unregistering frees
 * them); on failure nothing is left allocated and NULL is returned. */
netsnmp_handler_registration *mib_table_register(const mib_table_spec *spec);

/* A read-only scalar at base (its one instance, base.0), served by
 * handler with handler_data as its myvoid; NULL when it cannot be
 * registered (the failed registration is freed). */
netsnmp_handler_registration *mib_scalar_register(const char *name, Netsnmp_Node_Handler *handler,
                                                  const oid *base, size_t base_len, void *handler_data);

/* Unregister *reg (a table or any other handler) and clear it; nothing
 * when it is NULL, so a module's deinit may run after a failed init. */
void mib_unregister(netsnmp_handler_registration **reg);

#endif
