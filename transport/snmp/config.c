/*
 * config.c - the project's own configuration tokens.
 *
 * Each token is registered twice: for the "snmp" file type (snmp.conf, and
 * "[snmp] token ..." in any file) and for the running application's own
 * type, so that a plain line in snmpd.conf works after the dlmod line:
 *
 *   dtlsudpDemux osnet|router       socket demultiplexer (default osnet)
 *   dtlsudpMTU BYTES                link MTU, IPv4 and IPv6 (1500 / 1280)
 *   dtlsudpMTU6 BYTES               link MTU for IPv6 peers only
 *   dtlsudpMaxAssociations N        total associations per listener (10000)
 *   dtlsudpMaxHalfOpen N            handshakes in progress (256)
 *   dtlsudpMaxPerSource N           established associations per source (256)
 *   dtlsudpMaxHalfOpenPerSource N   handshakes in progress per source (8)
 *   dtlsudpIdleTimeout SECONDS      idle expiry, 0 = never (300)
 *   dtlsudpHandshakeTimeout SECONDS handshake deadline (10)
 *   dtlsudpCookieRotation SECONDS   cookie secret lifetime (60)
 *   dtlsudpSessionTickets yes|no    server: session tickets (yes)
 *   dtlsudpTicketLifetime SECONDS   ticket key rotation and ticket lifetime (3600)
 *   dtlsudpResume yes|no            client: resume sessions kept in memory (yes)
 *   dtlsudpSessionFile yes|no       client: also keep them in a file (no)
 *   dtlsudpRecordHandoff 0|1        1: established associations leave OpenSSL (1)
 *
 * Values apply to listeners and client transports opened after the line
 * (snmpd opens agentAddress listeners after reading every file).  A bad
 * value is reported with config_perror (file and line) and ignored.
 */
#include <config.h>

#include "snmp_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static dtlsudp_snmp_settings current;
static int current_valid;
static int registered;

static void defaults(dtlsudp_snmp_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->demux = DTLSUDP_SNMP_DEMUX_OSNET;
    s->mtu_ipv4 = 1500;
    s->mtu_ipv6 = 1280;
    s->max_assocs = 10000;
    s->max_half_open = 256;
    s->max_per_source = 256;
    s->max_half_open_per_source = 8;
    s->idle_timeout = 300000;
    s->handshake_timeout = 10000;
    s->cookie_rotation = 60000;
    s->session_tickets = 1;
    s->ticket_lifetime = 3600000;
    s->resume = 1;
    s->session_file = 0;
}

const dtlsudp_snmp_settings *dtlsudp_snmp_settings_get(void)
{
    if (!current_valid) {
        defaults(&current);
        current_valid = 1;
    }
    return &current;
}

void dtlsudp_snmp_settings_reset(void)
{
    defaults(&current);
    current_valid = 1;
}

/* One unsigned decimal number in [min, max], nothing after it. */
static int parse_number(const char *value, unsigned long min, unsigned long max, unsigned long *out,
                        const char **why)
{
    char *end = NULL;
    unsigned long v;

    while (value != NULL && (*value == ' ' || *value == '\t'))
        value++;
    if (value == NULL || *value == '\0') {
        *why = "a number is missing";
        return -1;
    }
    if (*value == '-' || *value == '+') {
        *why = "not an unsigned decimal number";
        return -1;
    }
    errno = 0;
    v = strtoul(value, &end, 10);
    while (end != NULL && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (errno != 0 || end == value || (end != NULL && *end != '\0')) {
        *why = "not an unsigned decimal number";
        return -1;
    }
    if (v < min || v > max) {
        *why = "value out of range";
        return -1;
    }
    *out = v;
    return 0;
}

typedef struct token_def {
    const char *name;
    const char *help;
    unsigned long min, max;
} token_def;

static const token_def tokens[] = {
    {"dtlsudpDemux", "osnet|router", 0, 0},
    {"dtlsudpMTU", "BYTES (576..65535)", 576, 65535},
    {"dtlsudpMTU6", "BYTES (1280..65535)", 1280, 65535},
    {"dtlsudpMaxAssociations", "N (1..1000000)", 1, 1000000},
    {"dtlsudpMaxHalfOpen", "N (1..100000)", 1, 100000},
    {"dtlsudpMaxPerSource", "N (1..1000000)", 1, 1000000},
    {"dtlsudpIdleTimeout", "SECONDS (0 = never .. 604800)", 0, 604800},
    {"dtlsudpHandshakeTimeout", "SECONDS (1..600)", 1, 600},
    {"dtlsudpCookieRotation", "SECONDS (1..86400)", 1, 86400},
    {"dtlsudpMaxHalfOpenPerSource", "N (1..100000)", 1, 100000},
    {"dtlsudpSessionTickets", "yes|no", 0, 0},
    {"dtlsudpTicketLifetime", "SECONDS (1..86400)", 1, 86400},
    {"dtlsudpResume", "yes|no", 0, 0},
    {"dtlsudpSessionFile", "yes|no", 0, 0},
    {"dtlsudpRecordHandoff", "0|1", 0, 1},
};

/* yes|no (also true/false, on/off, 1/0), one word. */
static int parse_yes_no(const char *value, int *out, const char **why)
{
    static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
    char word[16], extra[2];
    size_t i;

    if (value == NULL || sscanf(value, " %15s %1s", word, extra) != 1) {
        *why = "expected yes or no";
        return -1;
    }
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(word, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(word, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    *why = "expected yes or no";
    return -1;
}

int dtlsudp_snmp_settings_apply(dtlsudp_snmp_settings *s, const char *token, const char *value,
                                const char **why)
{
    unsigned long v = 0;
    size_t i;
    const token_def *def = NULL;

    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
        if (strcasecmp(token, tokens[i].name) == 0)
            def = &tokens[i];
    if (def == NULL) {
        *why = "unknown dtlsudp token";
        return -1;
    }
    if (def == &tokens[0]) {
        char word[16];
        if (value == NULL || sscanf(value, " %15s", word) != 1) {
            *why = "expected osnet or router";
            return -1;
        }
        if (strcasecmp(word, "osnet") == 0)
            s->demux = DTLSUDP_SNMP_DEMUX_OSNET;
        else if (strcasecmp(word, "router") == 0)
            s->demux = DTLSUDP_SNMP_DEMUX_ROUTER;
        else {
            *why = "expected osnet or router";
            return -1;
        }
        return 0;
    }
    switch (def - tokens) {
    case 10:
        return parse_yes_no(value, &s->session_tickets, why);
    case 12:
        return parse_yes_no(value, &s->resume, why);
    case 13:
        return parse_yes_no(value, &s->session_file, why);
    default:
        break;
    }
    if (parse_number(value, def->min, def->max, &v, why) != 0)
        return -1;
    switch (def - tokens) {
    case 1:
        s->mtu_ipv4 = (unsigned)v;
        s->mtu_ipv6 = v < 1280 ? 1280 : (unsigned)v;
        break;
    case 2:
        s->mtu_ipv6 = (unsigned)v;
        break;
    case 3:
        s->max_assocs = v;
        break;
    case 4:
        s->max_half_open = v;
        break;
    case 5:
        s->max_per_source = v;
        break;
    case 6:
        s->idle_timeout = v == 0 ? DTLSUDP_TIME_NEVER : (dtlsudp_time)v * 1000;
        break;
    case 7:
        s->handshake_timeout = (dtlsudp_time)v * 1000;
        break;
    case 8:
        s->cookie_rotation = (dtlsudp_time)v * 1000;
        break;
    case 9:
        s->max_half_open_per_source = v;
        break;
    case 11:
        s->ticket_lifetime = (dtlsudp_time)v * 1000;
        break;
    case 14:
        s->keep_ssl = v == 0;
        break;
    default:
        *why = "internal error";
        return -1;
    }
    return 0;
}

void dtlsudp_snmp_settings_to_engine(const dtlsudp_snmp_settings *s, dtlsudp_engine_config *cfg)
{
    cfg->mtu_ipv4 = s->mtu_ipv4;
    cfg->mtu_ipv6 = s->mtu_ipv6;
    cfg->max_assocs = s->max_assocs;
    cfg->max_half_open = s->max_half_open;
    cfg->max_per_source = s->max_per_source;
    cfg->max_half_open_per_source = s->max_half_open_per_source;
    cfg->idle_timeout = s->idle_timeout;
    cfg->handshake_timeout = s->handshake_timeout;
    cfg->cookie_rotation = s->cookie_rotation;
    cfg->session_tickets = s->session_tickets;
    cfg->ticket_lifetime = s->ticket_lifetime;
    cfg->keep_ssl = s->keep_ssl;
}

static void parse_token(const char *token, char *line)
{
    const char *why = NULL;
    char msg[256];
    size_t i;

    (void)dtlsudp_snmp_settings_get();
    if (dtlsudp_snmp_settings_apply(&current, token, line, &why) == 0) {
        DEBUGMSGTL(("dtlsudp:config", "%s %s\n", token, line));
        return;
    }
    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
        if (strcasecmp(token, tokens[i].name) == 0)
            break;
    snprintf(msg, sizeof(msg), "%s '%s': %s; expected %s", token, line != NULL ? line : "", why,
             i < sizeof(tokens) / sizeof(tokens[0]) ? tokens[i].help : "?");
    config_perror(msg);
}

/* SIGHUP: free_config() runs every releaser before the files are read
 * again, so a removed line falls back to its default. */
static void release_tokens(void)
{
    dtlsudp_snmp_settings_reset();
}

/* The same for Net-SNMP's x509CRLFile, whose CRL the trust store loads
 * (certs.c).  libnetsnmp registers it with netsnmp_ds_register_config(),
 * which has no releaser: the old file name survived a re-read, so a removed
 * line kept its CRL -- a revoked client stayed refused, and after a broken
 * file every client did.  The name is cleared before every read after the
 * first (not the first: an application may set it before init_snmp()),
 * so the store is built from the lines as they are now. */
static int configuration_read;

static int crl_before_read(int major, int minor, void *server_arg, void *client_arg)
{
    (void)major;
    (void)minor;
    (void)server_arg;
    (void)client_arg;
    if (configuration_read)
        (void)netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE, NULL);
    return SNMPERR_SUCCESS;
}

static int crl_after_read(int major, int minor, void *server_arg, void *client_arg)
{
    (void)major;
    (void)minor;
    (void)server_arg;
    (void)client_arg;
    configuration_read = 1;
    return SNMPERR_SUCCESS;
}

static void crl_reread_install(void)
{
    static int installed;

    if (installed)
        return;
    if (snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_PRE_READ_CONFIG, crl_before_read, NULL) !=
            SNMPERR_SUCCESS ||
        snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_POST_READ_CONFIG, crl_after_read, NULL) !=
            SNMPERR_SUCCESS)
        return;
    installed = 1;
}

void dtlsudp_snmp_config_register(void)
{
    size_t i;
    const char *app;

    (void)dtlsudp_snmp_settings_get();
    app = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_APPTYPE);
    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        /* Re-registering replaces the handler, so a second call (plugin
         * init after SIGHUP) is harmless. */
        register_config_handler("snmp", tokens[i].name, parse_token, i == 0 ? release_tokens : NULL,
                                tokens[i].help);
        if (app != NULL && strcmp(app, "snmp") != 0)
            register_app_config_handler(tokens[i].name, parse_token, NULL, tokens[i].help);
    }
    dtlsudp_snmp_fingerprint_checks_install();
    crl_reread_install();
    registered = 1;
}

/* The tokens above, for dtlsudp-checkconf: it checks the same list snmpd
 * learns from the plugin, not a copy of it. */
size_t dtlsudp_snmp_config_token_count(void)
{
    return sizeof(tokens) / sizeof(tokens[0]);
}

const char *dtlsudp_snmp_config_token_name(size_t i)
{
    return i < sizeof(tokens) / sizeof(tokens[0]) ? tokens[i].name : NULL;
}
