/*
 * mib.h - the MIB modules the agent plugin serves (SNMP-TLS-TM-MIB,
 * SNMP-TSM-MIB statistics, DTLSUDP-MIB).  Internal to the plugin.
 */
#ifndef DTLSUDP_AGENT_MIB_H
#define DTLSUDP_AGENT_MIB_H

/* Register every MIB handler with the agent.  Idempotent (SIGHUP re-runs
 * the plugin's init).  Returns 0 or -1. */
int dtlsudp_mib_init(void);
/* Unregister the handlers (plugin shutdown). */
void dtlsudp_mib_shutdown(void);

#endif
