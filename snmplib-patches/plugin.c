/*
 * plugin.c - dtlsudp-transport.so: the dtlsudp transport domain as a
 * Net-SNMP transport plugin, for managers and for snmptrapd.
 *
 * Loaded two ways, with the same entry point:
 *  - by a libnetsnmp carrying snmplib-patches/0003 (transportPlugin), from
 *    "transportPlugin dtlsudp PATH" in snmp.conf or
 *    SNMP_TRANSPORT_PLUGINS=dtlsudp:PATH, during init_snmp() after the
 *    built-in domains are registered;
 *  - by libdtlsudp-preload.so (stock libnetsnmp), before main().
 *
 * Contract with libnetsnmp (snmplib-patches/0003):
 *   int  dtlsudp_transport_init(void);      0 on success; may run again
 *                                            after dtlsudp_transport_shutdown
 *   void dtlsudp_transport_shutdown(void);  from snmp_shutdown(), after
 *                                            the domain list is cleared
 */
#include "config.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "dtlsudp.h"
#include "snmp_transport.h"

DTLSUDP_EXTERN int dtlsudp_transport_init(void);
DTLSUDP_EXTERN void dtlsudp_transport_shutdown(void);

int dtlsudp_transport_init(void)
{
    /* Tokens first: the domain's constructors read them. */
    dtlsudp_snmp_config_register();
    return dtlsudp_snmp_domain_register() == 0 ? 0 : -1;
}

void dtlsudp_transport_shutdown(void)
{
    /* libnetsnmp has already unlinked the domain and freed its prefix
     * array (netsnmp_clear_tdomain_list); forget it so that the next
     * init_snmp() registers it again. */
    dtlsudp_snmp_domain_unregister();
}
