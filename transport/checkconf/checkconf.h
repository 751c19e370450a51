/*
 * checkconf.h - dtlsudp-checkconf: what snmpd (or a Net-SNMP application)
 * will make of its configuration, checked before it runs.
 *
 *   main.c    options; reads the files with libnetsnmp's own reader and
 *             records every line that matters with its file and line
 *   program.c main(): cc_main()
 *   checks.c  runs the checks; certSecName rows; helpers they share
 *   dlmod.c   the dlmod line and the plugin's tokens before it
 *   addresses.c  agentAddress: families, listener conflicts
 *   certificates.c  certificates, keys (and who can read them), expiry,
 *             the x509CRLFile
 *   report.c  findings, printed as text or JSON
 */
#ifndef DTLSUDP_CHECKCONF_H
#define DTLSUDP_CHECKCONF_H

#include <stddef.h>
#include <stdio.h>

#include <openssl/x509.h>

typedef enum cc_severity { CC_OK, CC_INFO, CC_WARNING, CC_ERROR } cc_severity;

/* Where a line was read: file (NULL when unknown) and line number. */
typedef struct cc_where {
    const char *file; /* interned: lives until exit */
    int line;
} cc_where;

/* One configuration line that matters, in the order Net-SNMP read it. */
typedef struct cc_line {
    char *token; /* as registered (agentaddress, localCert, ...) */
    char *value; /* the rest of the line */
    cc_where where;
    int plugin_loaded; /* a dlmod line had loaded the plugin before this one */
} cc_line;

typedef struct cc_state {
    const char *app;      /* "snmpd", "snmp", ... */
    int is_agent;         /* app is snmpd: dlmod, agentAddress, trapsess */
    const char *run_user; /* -u, else agentuser, else NULL (this process's user) */
    cc_line *lines;
    size_t n_lines, cap_lines;
    const char **files; /* configuration files read, in order */
    size_t n_files;
    int plugin_loaded;  /* some dlmod line loads dtlsudp.so */
    cc_where plugin_at; /* the first such line */
    int plugin_tried;   /* a dlmod dtlsudp line exists */
    int mute_log;       /* drop Net-SNMP's and the transport's log lines */
} cc_state;

extern cc_state cc;

/* ------------------------------------------------------------ report.c */

typedef struct cc_finding cc_finding;

/* Add a finding: severity, kind ("dlmod", "address", "certificate",
 * "key", "certSecName", "crl", "token", "listener", "config"), where (may
 * be NULL), the token and value it is about (may be NULL), the fix (may be
 * NULL) and the message. */
cc_finding *cc_add(cc_severity sev, const char *kind, const cc_where *where, const char *token, const char *value,
                   const char *fix, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* An extra field for --json (and a "key: value" line in text). */
void cc_set(cc_finding *f, const char *key, const char *value);
/* Print every finding (sorted by file and line), then the summary.
 * Returns the number of errors. */
size_t cc_report(int json, int quiet);
/* Intern a string for cc_where.file. */
const char *cc_intern(const char *s);
/* Forget every finding (reported or not): a second run starts empty. */
void cc_report_clear(void);

/* -------------------------------------------------------------- main.c */

/* The command line. */
typedef struct cc_options {
    const char *app;   /* -a (default "snmpd") */
    const char *files; /* -c FILE[,FILE...], or NULL */
    const char *user;  /* -u, or NULL */
    int no_defaults;   /* -C */
    int json;          /* --json */
    int quiet;         /* -q */
} cc_options;

/* cc_parse_options' result when the checks are to run. */
#define CC_RUN (-1)

/* Parse argv into o; --help and --version print to out, usage errors to
 * err.  Returns CC_RUN, or the exit status (0 after --help or --version,
 * 2 for a usage error). */
int cc_parse_options(int argc, char **argv, cc_options *o, FILE *out, FILE *err);
/* Read the files as o->app will (init_snmp: once per process), run the
 * checks and print the report.  Returns the exit status: 0 no errors,
 * 1 errors found, 2 when the checker itself cannot run. */
int cc_run(const cc_options *o);
/* The program: cc_parse_options, then cc_run. */
int cc_main(int argc, char **argv);

/* ------------------------------------------------------------ checks.c */

/* Run every check over what main.c recorded; findings go to report.c. */
void cc_check_all(void);
/* The last line of `token' (Net-SNMP keeps the last value), or NULL. */
const cc_line *cc_last_line(const char *token);

/* ------------------------------------------------------------- dlmod.c */

/* The fix for a plugin token that no dlmod line precedes. */
extern const char cc_plugin_fix[];
/* 1 when token is one of the plugin's own (the table transport/snmp
 * registers), which snmpd knows only after the dlmod line. */
int cc_is_plugin_token(const char *token);
/* Each plugin token above the dlmod line that loads the plugin (snmpd:
 * "Unknown token"). */
void cc_check_token_order(void);

/* dlmod NAME PATH, as snmpd loads it (absolute path, or NAME.so along
 * SNMPDLMODPATH).  Adds its finding; returns 1 when the module loads and
 * has init_NAME. */
int cc_check_dlmod(const cc_where *w, const char *value, int *is_plugin);

/* --------------------------------------------------------- addresses.c */

/* The agent's dtlsudp listeners: families and conflicting pairs. */
void cc_check_addresses(void);
/* 1 when some agentAddress (or, for a manager, any use) is ours. */
int cc_serves_dtlsudp(void);

/* ------------------------------------------------------ certificates.c */

/* The certificates and keys the tokens name. */
void cc_check_certificates(void);
/* The x509CRLFile: readable, parsed, issuers, next update. */
void cc_check_crl(void);
/* "CN=..., O=..." of x into buf. */
void cc_subject_text(X509 *x, char *buf, size_t cap);
/* The first word of value into out (a token's certificate argument). */
void cc_first_word(const char *value, char *out, size_t cap);

#endif /* DTLSUDP_CHECKCONF_H */
