/*
 * testagent.h - an in-process Net-SNMP master agent for the MIB modules'
 * unit tests: libnetsnmpagent initialised with no listening address, and
 * a manager session attached to it through Net-SNMP's callback transport
 * (the way snmpd queries itself), so requests go through the agent's real
 * request processing (handler chains, SET phases, error mapping).
 */
#ifndef DTLSUDP_TESTS_TESTAGENT_H
#define DTLSUDP_TESTS_TESTAGENT_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

/* Makes a private configuration directory (SNMPCONFPATH and
 * SNMP_PERSISTENT_DIR point to it); returns its path.  Call first, write
 * configuration files into it, then testagent_start(). */
const char *testagent_confdir(void);
/* Writes <confdir>/<name> with text. */
void testagent_write_conf(const char *name, const char *text);
/* Initialises the agent library as application `app' (reads
 * <confdir>/<app>.conf) and opens the manager session; 0 or -1.
 * before_config (may be NULL) runs after the agent library is initialised
 * and before the configuration files are read: where snmpd runs a dlmod's
 * init. */
int testagent_start(const char *app, void (*before_config)(void));
/* Shuts the agent down and removes the configuration directory. */
void testagent_stop(void);

/* A response: its error status and index, and its first varbind. */
typedef struct testagent_reply {
    long errstat, errindex;
    netsnmp_variable_list *vb; /* owned by the reply */
    netsnmp_pdu *pdu;
} testagent_reply;

/* GET / GETNEXT of one OID; SET of one or two varbinds.  0 when a
 * response came back (then testagent_reply_free() it), -1 otherwise. */
int testagent_get(const oid *name, size_t len, testagent_reply *out);
int testagent_getnext(const oid *name, size_t len, testagent_reply *out);
int testagent_set(netsnmp_variable_list *vars, testagent_reply *out);
void testagent_reply_free(testagent_reply *r);

/* The value of a scalar-like object read by GET: its integer value (for
 * INTEGER, Gauge32, Counter32, TimeTicks) and its type through *type. */
long testagent_get_integer(const oid *name, size_t len, u_char *type);
/* Counter64 as one number. */
uint64_t testagent_counter64(const netsnmp_variable_list *vb);

#endif
