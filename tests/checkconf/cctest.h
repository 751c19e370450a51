/*
 * cctest.h - what the tests of transport/checkconf share: the checker's
 * state set as main.c would have recorded it, and the report read back as
 * the operator (or a script, with --json) reads it.
 */
#ifndef DTLSUDP_TESTS_CHECKCONF_CCTEST_H
#define DTLSUDP_TESTS_CHECKCONF_CCTEST_H

#include <stddef.h>

#include "checkconf.h"
#include "testcerts.h"

/* cc as before any run (app "snmpd", an agent), with no lines, files or
 * findings. */
void cct_reset(void);

/* Record `token value' read at file:line, as main.c's handlers do. */
cc_line *cct_line(const char *token, const char *value, const char *file, int line);

/* What cc_report(json, quiet) prints; the findings are then forgotten.
 * *errors (may be NULL) gets its return value.  Free the text. */
char *cct_report(int json, int quiet, size_t *errors);

/* How many times needle occurs in text. */
int cct_count(const char *text, const char *needle);

/* Run fn with stdout going to a string (returned; free it). */
char *cct_capture(void (*fn)(void *), void *arg);

/* A fresh directory under /tmp (into buf), and its removal. */
void cct_tmpdir(char *buf, size_t cap, const char *what);
void cct_rmdir(const char *dir);

/* Write text to dir/name (directories are made); returns the path in
 * buf. */
const char *cct_write(const char *dir, const char *name, const char *text, char *buf, size_t cap);

/* A certificate store under dir as Net-SNMP reads it, and libnetsnmp
 * initialised over it as application `app' (SNMPCONFPATH=dir, nothing
 * persistent written; snmp.conf and APP.conf hold the texts given, which
 * may be NULL; certSecName known as in snmpd).  Certificates (testcerts):
 *   tls/ca-certs/ca.crt                         the CA, valid 400 days
 *   tls/certs/server.crt, tls/private/server.key (0600)  by ca, 400 days
 *   tls/certs/soon.crt, tls/private/soon.key (0600)      expires in 10 days
 *   tls/certs/expired.crt, tls/private/expired.key (0600)  expired
 *   tls/certs/loose.crt, tls/private/loose.key (0644)   world-readable key
 *   tls/certs/nokey.crt                          no key */
void cct_store_init(const char *dir, const char *app, const char *snmp_conf, const char *app_conf);
/* The two halves: the certificates (made once per process) written under
 * dir, then the configuration written and read. */
void cct_store_write(const char *dir);
void cct_store_read(const char *dir, const char *app, const char *snmp_conf, const char *app_conf);
/* The certificate (and key) of a store name above ("ca", "server", ...). */
const tc_pair *cct_store_pair(const char *name);
/* SHA-256 fingerprint text ("AB:CD:...") of a certificate. */
void cct_fingerprint(X509 *x, char *out, size_t cap);

#endif
