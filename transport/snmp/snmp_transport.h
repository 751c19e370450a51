/*
 * snmp_transport.h - the dtlsudp Net-SNMP transport domain, as seen by the
 * agent plugin (agent-plugin/) and the manager-side loader (snmplib-patches/).
 * Internal to this project; not installed.
 */
#ifndef DTLSUDP_SNMP_TRANSPORT_H
#define DTLSUDP_SNMP_TRANSPORT_H

#include <stddef.h>
#include "dtlsudp.h"

/* Register the transport domain (snmpDTLSUDPDomain, 1.3.6.1.6.1.9, prefixes
 * dtlsudp, dtls, dtlsudp6, dtls6) with libnetsnmp so that it wins prefix
 * look-ups over any built-in DTLSUDP, whether libnetsnmp's own domains are
 * already registered (agent dlmod) or not yet (preload constructor).
 * Idempotent: a second call does nothing and returns 0.  Returns 0 or -1. */
int dtlsudp_snmp_domain_register(void);

/* Forget the registration (plugin unload at exit); open transports stay. */
void dtlsudp_snmp_domain_unregister(void);

/* Register the project's snmp.conf/snmpd.conf tokens (demux, MTU, caps,
 * timers).  Idempotent. */
void dtlsudp_snmp_config_register(void);

/* Forget the trust store built from trustCert/x509CRLFile, so that the
 * next verification uses the configuration read again (SIGHUP). */
void dtlsudp_snmp_trust_reload(void);

/* snmpd's notifications to SNMP-TARGET-MIB targets: after every
 * configuration read, resolve the snmpTlstmParams and snmpTlstmAddr rows'
 * fingerprints of any hash to the certificates of Net-SNMP's store, so
 * that snmpd's target code finds them (tlstmrows.c).  Idempotent. */
void dtlsudp_snmp_tlstm_rows_install(void);
/* The resolution itself; returns the number of rows rewritten. */
int dtlsudp_snmp_tlstm_rows_resolve(void);

/* Statistics for the MIB modules. */
typedef struct dtlsudp_snmp_listener_info {
    char address[64]; /* "127.0.0.1:10161", "[::]:10161" */
    int demux;        /* DTLSUDP_DEMUX_* */
    dtlsudp_stats stats;
} dtlsudp_snmp_listener_info;

/* Number of open listeners (agent side), in a stable order. */
size_t dtlsudp_snmp_listener_count(void);
/* Fill *out for listener i; returns 0, or -1 when i is out of range. */
int dtlsudp_snmp_listener_get(size_t i, dtlsudp_snmp_listener_info *out);
/* Sum of the statistics of every engine in the process (listeners and
 * client transports, open or already closed). */
void dtlsudp_snmp_stats_total(dtlsudp_stats *out);

#endif /* DTLSUDP_SNMP_TRANSPORT_H */
