/*
 * main.c - dtlsudp-checkconf: read an snmpd.conf / snmp.conf set exactly
 * as snmpd or a Net-SNMP application would, and report what the dtlsudp
 * transport will make of it (see dtlsudp-checkconf(1)).
 *
 * "Exactly" because the files are read by libnetsnmp's own reader,
 * init_snmp(APP): the same search path (SNMPCONFPATH, or Net-SNMP's
 * configuration directories), -C and -c FILE as snmpd takes them, the
 * same "[snmp]" sections and includes, and Net-SNMP's own handlers for
 * the certificate tokens.  The handlers of the tokens that matter are
 * wrapped so that each line is recorded with its file and line; Net-SNMP
 * keeps the current file and line private, so they are learnt from the
 * "FILE: line N:" prefix of a warning issued into our own log handler.
 * The plugin's tokens come from the table transport/snmp/config.c
 * registers, not from a copy.
 *
 * Nothing is written: the persistent directory is a temporary one, and
 * no state is saved.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <config.h>

#include "checkconf.h"

#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "snmp_internal.h"

#include <net-snmp/library/cert_util.h>

cc_state cc;

#define WHERE_MARK "\001dtlsudp-checkconf-where\001"

static int capturing_where;
static cc_where captured_where;
static char log_buf[4096];
static size_t log_len;

/* ------------------------------------------------------------------
 * The log: Net-SNMP's messages come here, not to stderr.
 * ------------------------------------------------------------------ */

/* "FILE: line N: LEVEL: TEXT" (read_config.c config_vlog). */
static int parse_config_message(const char *msg, cc_where *w, const char **level, const char **text)
{
    const char *p = strstr(msg, ": line ");
    char *end;
    long n;

    if (p == NULL)
        return -1;
    n = strtol(p + 7, &end, 10);
    if (end == p + 7 || strncmp(end, ": ", 2) != 0)
        return -1;
    {
        char *file = strndup(msg, (size_t)(p - msg));
        w->file = cc_intern(file);
        free(file);
    }
    w->line = (int)n;
    *level = end + 2;
    *text = strstr(*level, ": ");
    *text = *text != NULL ? *text + 2 : *level;
    return 0;
}

static void strip_newline(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static void file_read(const char *file)
{
    size_t i;
    const char *f = cc_intern(file);

    for (i = 0; i < cc.n_files; i++)
        if (cc.files[i] == f)
            return;
    cc.files = realloc(cc.files, (cc.n_files + 1) * sizeof(*cc.files));
    if (cc.files != NULL)
        cc.files[cc.n_files++] = f;
}

static void one_log_line(int priority, char *msg)
{
    cc_where w = {NULL, 0};
    const char *level, *text, *p;

    strip_newline(msg);
    if (cc.mute_log)
        return;
    if (capturing_where && strstr(msg, WHERE_MARK) != NULL) {
        if (parse_config_message(msg, &w, &level, &text) == 0)
            captured_where = w;
        return;
    }
    if ((p = strstr(msg, "Reading configuration ")) != NULL) {
        char *file = strdup(p + strlen("Reading configuration "));
        char *paren = file != NULL ? strrchr(file, ' ') : NULL;
        if (paren != NULL && strcmp(paren, " (0)") == 0) {
            *paren = '\0';
            file_read(file);
        }
        free(file);
        return;
    }
    if (priority >= LOG_DEBUG)
        return;
    if (parse_config_message(msg, &w, &level, &text) == 0) {
        if (strncmp(text, "Unknown token: ", 15) == 0) {
            char token[128];
            size_t n = strcspn(text + 15, ". ");
            snprintf(token, sizeof(token), "%.*s", (int)(n < 127 ? n : 127), text + 15);
            /* snmpd knows tokens of MIB modules this program does not
             * load: only a misspelt token of ours is reported there. */
            if (cc.is_agent && strncasecmp(token, "dtls", 4) != 0)
                return;
            cc_add(CC_WARNING, "token", &w, token, NULL,
                   strncasecmp(token, "dtls", 4) == 0 ? "check the spelling against dtlsudp(5)" : NULL,
                   "unknown token: %s ignores the line", cc.app);
            return;
        }
        cc_add(strncmp(level, "Error", 5) == 0 ? CC_ERROR : CC_WARNING, "config", &w, NULL, NULL, NULL, "%s",
               text);
        return;
    }
    if (priority <= LOG_WARNING)
        cc_add(priority <= LOG_ERR ? CC_ERROR : CC_WARNING, "log", NULL, NULL, NULL, NULL, "%s", msg);
}

static int log_callback(int major, int minor, void *server_arg, void *client_arg)
{
    const struct snmp_log_message *m = server_arg;
    size_t n;
    char *nl;

    (void)major;
    (void)minor;
    (void)client_arg;
    if (m == NULL || m->msg == NULL)
        return 0;
    /* Messages may come in pieces (debug token, then text): one line at
     * a time. */
    n = strlen(m->msg);
    if (log_len + n >= sizeof(log_buf))
        n = sizeof(log_buf) - 1 - log_len;
    memcpy(log_buf + log_len, m->msg, n);
    log_len += n;
    log_buf[log_len] = '\0';
    while ((nl = strchr(log_buf, '\n')) != NULL || log_len == sizeof(log_buf) - 1) {
        char line[sizeof(log_buf)];
        size_t len = nl != NULL ? (size_t)(nl - log_buf) + 1 : log_len;
        memcpy(line, log_buf, len);
        line[len] = '\0';
        memmove(log_buf, log_buf + len, log_len - len + 1);
        log_len -= len;
        one_log_line(m->priority, line);
    }
    return 0;
}

/* The file and line of the configuration line being parsed. */
static cc_where current_where(void)
{
    captured_where.file = NULL;
    captured_where.line = 0;
    capturing_where = 1;
    netsnmp_config_warn("%s", WHERE_MARK);
    capturing_where = 0;
    return captured_where;
}

/* ------------------------------------------------------------------
 * Recording the lines that matter
 * ------------------------------------------------------------------ */

static cc_line *record(const char *token, const char *value)
{
    cc_line *l;

    if (cc.n_lines == cc.cap_lines) {
        size_t cap = cc.cap_lines ? cc.cap_lines * 2 : 64;
        cc_line *n = realloc(cc.lines, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        cc.lines = n;
        cc.cap_lines = cap;
    }
    l = &cc.lines[cc.n_lines++];
    l->token = strdup(token);
    l->value = strdup(value != NULL ? value : "");
    l->where = current_where();
    l->plugin_loaded = cc.plugin_loaded;
    return l;
}

/* Net-SNMP's handlers (and the plugin's), wrapped: one original per
 * token, as fpcheck.c does. */
typedef struct wrapped {
    char *token;
    void (*original)(const char *, char *);
} wrapped;

static wrapped *wraps;
static size_t n_wraps;

static const char *const library_tokens[] = {
    "localCert",   "peerCert",        "trustCert",     "certSecName",    "x509CRLFile",
    "tlsAlgorithms", "extraX509SubDir", "snmpTlstmParams", "snmpTlstmAddr",
};


static int wants_wrap(const char *token)
{
    size_t i;

    if (cc_is_plugin_token(token))
        return 1;
    for (i = 0; i < sizeof(library_tokens) / sizeof(library_tokens[0]); i++)
        if (strcasecmp(token, library_tokens[i]) == 0)
            return 1;
    return 0;
}

static void recording_parse(const char *token, char *line)
{
    size_t i;

    (void)record(token, line);
    for (i = 0; i < n_wraps; i++)
        if (strcasecmp(wraps[i].token, token) == 0 && wraps[i].original != NULL) {
            wraps[i].original(token, line);
            return;
        }
}

static void wrap_type(const char *type)
{
    struct config_line *l;
    size_t i;

    for (l = type != NULL ? read_config_get_handlers(type) : NULL; l != NULL; l = l->next) {
        if (l->config_token == NULL || l->parse_line == NULL || l->parse_line == recording_parse ||
            !wants_wrap(l->config_token))
            continue;
        for (i = 0; i < n_wraps; i++)
            if (strcasecmp(wraps[i].token, l->config_token) == 0)
                break;
        if (i == n_wraps) {
            wrapped *n = realloc(wraps, (n_wraps + 1) * sizeof(*n));
            if (n == NULL)
                return;
            wraps = n;
            wraps[n_wraps].token = strdup(l->config_token);
            wraps[n_wraps].original = l->parse_line;
            n_wraps++;
        } else if (wraps[i].original != l->parse_line) {
            continue; /* another type's own handler: left alone */
        }
        l->parse_line = recording_parse;
    }
}

static int before_read_config(int major, int minor, void *server_arg, void *client_arg)
{
    (void)major;
    (void)minor;
    (void)server_arg;
    (void)client_arg;
    wrap_type("snmp");
    wrap_type(cc.app);
    return SNMPERR_SUCCESS;
}

/* snmpd's own tokens that matter here: recorded, checked in checks.c. */
static void agent_token(const char *token, char *line)
{
    cc_line *l = record(token, line);
    int is_plugin = 0;

    if (l != NULL && strcasecmp(token, "dlmod") == 0 && cc_check_dlmod(&l->where, line, &is_plugin) && is_plugin &&
        !cc.plugin_loaded) {
        cc.plugin_loaded = 1;
        cc.plugin_at = l->where;
    }
    if (is_plugin)
        cc.plugin_tried = 1;
}

/* ------------------------------------------------------------------ */

static char *tmp_persist;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dtlsudp-checkconf [-C] [-c FILE[,FILE...]] [-a APP] [-u USER] [--json] [-q]\n"
            "  -c FILE   read FILE as well (as snmpd -c); with -C, only FILE\n"
            "  -C        do not read the default configuration files (as snmpd -C)\n"
            "  -a APP    the application type: snmpd (default), snmp (a manager's snmp.conf),\n"
            "            snmptrapd, ...\n"
            "  -u USER   the user the daemon runs as (snmpd -u); default: agentuser, else yours\n"
            "  --json    machine-readable output\n"
            "  -q        print only warnings and errors\n"
            "Exit status: 0 no errors, 1 errors found, 2 usage.\n");
}

int cc_parse_options(int argc, char **argv, cc_options *o, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    int opt;

    memset(o, 0, sizeof(*o));
    o->app = "snmpd";
    optind = 0; /* getopt starts afresh on every call */
    opterr = 0; /* an unknown option is reported below, to err */
    while ((opt = getopt_long(argc, argv, "Cc:a:u:qhV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'C':
            o->no_defaults = 1;
            break;
        case 'c':
            o->files = optarg;
            break;
        case 'a':
            o->app = optarg;
            break;
        case 'u':
            o->user = optarg;
            break;
        case 'j':
            o->json = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'V':
            fprintf(out, "dtlsudp-checkconf %s\n", dtlsudp_version());
            return 0;
        case 'h':
            usage(out);
            return 0;
        default:
            if (optopt != 0 && strchr("cau", optopt) != NULL)
                fprintf(err, "dtlsudp-checkconf: -%c needs an argument\n", optopt);
            else if (optopt != 0)
                fprintf(err, "dtlsudp-checkconf: unknown option -%c\n", optopt);
            else
                fprintf(err, "dtlsudp-checkconf: unknown option %s\n", argv[optind - 1]);
            usage(err);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(err, "dtlsudp-checkconf: unexpected argument %s\n", argv[optind]);
        usage(err);
        return 2;
    }
    if (o->no_defaults && o->files == NULL) {
        fprintf(err, "dtlsudp-checkconf: -C needs -c FILE\n");
        usage(err);
        return 2;
    }
    return CC_RUN;
}

/* Our log handler only: nothing of Net-SNMP's goes to stderr. */
static void take_the_log(void)
{
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, log_callback, NULL);
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);
    debug_register_tokens("read_config:file");
    snmp_set_do_debugging(1);
}

/* What snmpd registers before it reads its files; dtlsudp's own tokens
 * too (the order check in dlmod.c reports those that come before the
 * dlmod line, which snmpd does not know yet). */
static void register_handlers(void)
{
    if (cc.is_agent) {
        register_app_config_handler("dlmod", agent_token, NULL, "module-name module-path");
        register_app_config_handler("agentaddress", agent_token, NULL, "SNMP bind address");
        register_app_config_handler("trapsess", agent_token, NULL, "[snmpcmdargs] host");
        register_app_config_handler("agentuser", agent_token, NULL, "userid");
    }
    /* Daemons (init_agent) also know certSecName, snmpTlstmParams and
     * snmpTlstmAddr; a manager's snmp.conf does not. */
    if (strcmp(cc.app, "snmp") != 0) {
        netsnmp_container_init_list();
        netsnmp_certs_agent_init();
    }
    dtlsudp_snmp_config_register();
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_PRE_READ_CONFIG, before_read_config, NULL);
}

int cc_run(const cc_options *o)
{
    char tmpl[] = "/tmp/dtlsudp-checkconf.XXXXXX";
    size_t errors;

    cc.app = o->app;
    cc.is_agent = strcmp(cc.app, "snmpd") == 0;
    cc.run_user = o->user;
    take_the_log();

    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_APPTYPE, cc.app);
    if (o->no_defaults)
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    if (o->files != NULL)
        netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_OPTIONALCONFIG, o->files);
    /* Read, never write: a persistent directory of our own. */
    if (mkdtemp(tmpl) == NULL) {
        perror("dtlsudp-checkconf: mkdtemp");
        return 2;
    }
    tmp_persist = tmpl;
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, tmp_persist);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    setenv("MIBS", "", 1); /* no MIB is needed, nor its parse errors */

    register_handlers();
    init_snmp(cc.app);
    snmp_set_do_debugging(0);

    cc_check_all();
    errors = cc_report(o->json, o->quiet);
    nftw(tmp_persist, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    tmp_persist = NULL;
    return errors > 0 ? 1 : 0;
}

int cc_main(int argc, char **argv)
{
    cc_options o;
    int status = cc_parse_options(argc, argv, &o, stdout, stderr);

    return status == CC_RUN ? cc_run(&o) : status;
}
