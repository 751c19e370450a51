/*
 * snmpstore.h - Net-SNMP's certificate store for the transport/snmp tests:
 * tests/engine/testcerts.c's certificates written where Net-SNMP reads
 * them (<dir>/tls/{certs,ca-certs,private}), in-process and in
 * milliseconds, and the log lines libnetsnmp would print.
 */
#ifndef DTLSUDP_TESTS_SNMP_SNMPSTORE_H
#define DTLSUDP_TESTS_SNMP_SNMPSTORE_H

#include <stddef.h>

#include "testcerts.h"

/* Make a fresh directory and lay out:
 *   tls/ca-certs/ca.crt                      tc_get()->ca
 *   tls/certs/server.crt, tls/private/server.key   tc_get()->server
 *   tls/certs/client.crt, tls/private/client.key   tc_get()->client
 *   tls/certs/client2.crt                    tc_get()->client2, no key
 * (keys 0600 in a 0700 directory, as Net-SNMP requires), and point
 * SNMPCONFPATH and SNMP_PERSISTENT_DIR at it.  Returns the directory
 * (static storage) or NULL. */
const char *store_make(void);

/* Write text to <store>/name (created or replaced).  Returns 0 or -1. */
int store_write(const char *name, const char *text);

/* Write a certificate (and its key when key_name is not NULL) into the
 * store under tls/certs/NAME.crt and tls/private/NAME.key. */
int store_add(const tc_pair *p, const char *cert_name, const char *key_name);

/* The path of <store>/name, in buf. */
const char *store_path(const char *name, char *buf, size_t cap);

/* cfg's cert_file, key_file and ca_file: the store's NAME.crt, NAME.key
 * and ca.crt (static storage, valid until the next call). */
struct dtlsudp_engine_config;
void store_identity_files(const char *name, struct dtlsudp_engine_config *cfg);

/* init_snmp(app) over the store, with libnetsnmp's log captured and no
 * persistent state written.  certs_agent: register certSecName and the
 * snmpTlstm tables, as snmpd does. */
void store_init_snmp(const char *app, int certs_agent);

/* snmp_shutdown(app) and the directory removed. */
void store_remove(const char *app);

/* Everything libnetsnmp logged since the last store_log_clear(). */
const char *store_log(void);
void store_log_clear(void);

/* x's fingerprint of hash_len bytes as "AB:CD:..", in out. */
const char *store_fingerprint(X509 *x, size_t hash_len, char *out, size_t cap);

#endif
