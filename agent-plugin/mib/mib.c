/*
 * mib.c - entry points of the MIB modules served by the agent plugin
 * (agent-plugin/mib/mib.h): SNMP-TLS-TM-MIB, SNMP-TSM-MIB statistics and
 * DTLSUDP-MIB.
 *
 * snmpd's SIGHUP re-runs the plugin's init: every module keeps its
 * registrations and registers only what is missing, so a second call
 * changes nothing.
 */
#include "mib.h"
#include "mib_internal.h"

int dtlsudp_mib_init(void)
{
    int rc = 0;

    /* Register everything we can even when one module fails (say another
     * module already serves snmpTsmStats): the others stay useful. */
    if (mib_tlstm_stats_register() != 0)
        rc = -1;
    if (mib_tlstm_tables_register() != 0)
        rc = -1;
    if (mib_dtlsudp_register() != 0)
        rc = -1;
    return rc;
}

void dtlsudp_mib_shutdown(void)
{
    mib_dtlsudp_unregister();
    mib_tlstm_tables_unregister();
    mib_tlstm_stats_unregister();
}
