/*
 * preload-shim.c - test-only LD_PRELOAD object: registers the dtlsudp
 * domain from a constructor, before the application's init_snmp(), so
 * stock Net-SNMP apps (snmpget, snmpwalk, ...) use this project's client
 * role.  The shipped loader lives in snmplib-patches/; this shim only lets
 * the agent tests exercise the client role on its own.
 */
#include <config.h>

#include "snmp_transport.h"

__attribute__((constructor)) static void shim_init(void)
{
    (void)dtlsudp_snmp_domain_register();
    dtlsudp_snmp_config_register();
}
