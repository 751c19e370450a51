/*
 * cctest.h - what the tests of transport/checkconf share: the checker's
 * state set as main.c would have recorded it, and the report read back as
 * the operator (or a script, with --json) reads it.
 */
#ifndef DTLSUDP_TESTS_CHECKCONF_CCTEST_H
#define DTLSUDP_TESTS_CHECKCONF_CCTEST_H

#include <stddef.h>

#include "checkconf.h"

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

#endif
