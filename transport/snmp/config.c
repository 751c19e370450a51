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
 *   dtlsudpSessionCache N           server: N sessions in memory instead of tickets (0)
 *   dtlsudpResume yes|no            client: resume sessions kept in memory (yes)
 *   dtlsudpSessionFile yes|no       client: also keep them in a file (no)
 *   dtlsudpRecordHandoff 0|1        1: established associations leave OpenSSL (1)
 *   dtlsudpRetransmitInitial MS     a handshake flight's first timeout (100)
 *   dtlsudpRetransmitMax MS         the longest timeout between copies (500)
 *   dtlsudpRetransmitMaxBytes BYTES retransmitted bytes per handshake (49152)
 *
 * Values apply to listeners and client transports opened after the line
 * (snmpd opens agentAddress listeners after reading every file).  A bad
 * value is reported with config_perror (file and line) and ignored.
 */
#include <config.h>

#include "snmp_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
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
    s->resume = 1;
    s->session_file = 0;
    /* The library's defaults are the only ones; the SNMP transport turns
     * on what it wants beyond them. */
    dtlsudp_engine_config_init(&s->engine);
    s->engine.session_tickets = 1;
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

static int parse_demux(const char *value, int *out, const char **why)
{
    char word[16], extra[2];

    if (value != NULL && sscanf(value, " %15s %1s", word, extra) == 1) {
        if (strcasecmp(word, "osnet") == 0) {
            *out = DTLSUDP_SNMP_DEMUX_OSNET;
            return 0;
        }
        if (strcasecmp(word, "router") == 0) {
            *out = DTLSUDP_SNMP_DEMUX_ROUTER;
            return 0;
        }
    }
    *why = "expected osnet or router";
    return -1;
}

/* How a token's value is read and where it is stored. */
typedef enum token_kind {
    TOKEN_DEMUX,        /* int: osnet|router */
    TOKEN_YES_NO,       /* int: 1|0 */
    TOKEN_NOT,          /* int: 1 - the number (dtlsudpRecordHandoff sets keep_ssl) */
    TOKEN_COUNT,        /* size_t or unsigned: the number */
    TOKEN_MTU,          /* unsigned: the number; also the IPv6 MTU, at least 1280 */
    TOKEN_MILLISECONDS, /* dtlsudp_time: the number */
    TOKEN_SECONDS,      /* dtlsudp_time: 1000 x the number */
    TOKEN_SECONDS_OR_0  /* dtlsudp_time: 1000 x the number; 0 is DTLSUDP_TIME_NEVER */
} token_kind;

typedef struct token_def {
    const char *name;
    const char *help;
    token_kind kind;
    size_t offset, size; /* the field in dtlsudp_snmp_settings */
    unsigned long min, max;
} token_def;

#define SETTING(member) offsetof(dtlsudp_snmp_settings, member), sizeof(((dtlsudp_snmp_settings *)0)->member)
#define ENGINE(member) SETTING(engine.member)

/* The order is the order of `snmpd -H'; every one also goes to
 * dtlsudp-checkconf through dtlsudp_snmp_config_token_name(). */
static const token_def tokens[] = {
    {"dtlsudpDemux", "osnet|router", TOKEN_DEMUX, SETTING(demux), 0, 0},
    {"dtlsudpMTU", "BYTES (576..65535)", TOKEN_MTU, ENGINE(mtu_ipv4), 576, 65535},
    {"dtlsudpMTU6", "BYTES (1280..65535)", TOKEN_COUNT, ENGINE(mtu_ipv6), 1280, 65535},
    {"dtlsudpMaxAssociations", "N (1..1000000)", TOKEN_COUNT, ENGINE(max_assocs), 1, 1000000},
    {"dtlsudpMaxHalfOpen", "N (1..100000)", TOKEN_COUNT, ENGINE(max_half_open), 1, 100000},
    {"dtlsudpMaxPerSource", "N (1..1000000)", TOKEN_COUNT, ENGINE(max_per_source), 1, 1000000},
    {"dtlsudpIdleTimeout", "SECONDS (0 = never .. 604800)", TOKEN_SECONDS_OR_0, ENGINE(idle_timeout), 0, 604800},
    {"dtlsudpHandshakeTimeout", "SECONDS (1..600)", TOKEN_SECONDS, ENGINE(handshake_timeout), 1, 600},
    {"dtlsudpCookieRotation", "SECONDS (1..86400)", TOKEN_SECONDS, ENGINE(cookie_rotation), 1, 86400},
    {"dtlsudpMaxHalfOpenPerSource", "N (1..100000)", TOKEN_COUNT, ENGINE(max_half_open_per_source), 1, 100000},
    {"dtlsudpSessionTickets", "yes|no", TOKEN_YES_NO, ENGINE(session_tickets), 0, 0},
    {"dtlsudpTicketLifetime", "SECONDS (1..86400)", TOKEN_SECONDS, ENGINE(ticket_lifetime), 1, 86400},
    {"dtlsudpSessionCache", "N (0 = tickets .. 100000)", TOKEN_COUNT, SETTING(session_cache), 0, 100000},
    {"dtlsudpResume", "yes|no", TOKEN_YES_NO, SETTING(resume), 0, 0},
    {"dtlsudpSessionFile", "yes|no", TOKEN_YES_NO, SETTING(session_file), 0, 0},
    {"dtlsudpRecordHandoff", "0|1", TOKEN_NOT, ENGINE(keep_ssl), 0, 1},
    {"dtlsudpRetransmitInitial", "MILLISECONDS (10..10000)", TOKEN_MILLISECONDS, ENGINE(retransmit_initial), 10,
     10000},
    {"dtlsudpRetransmitMax", "MILLISECONDS (10..60000)", TOKEN_MILLISECONDS, ENGINE(retransmit_max), 10, 60000},
    {"dtlsudpRetransmitMaxBytes", "BYTES (1024..16777216)", TOKEN_COUNT, ENGINE(retransmit_max_bytes), 1024,
     16777216},
};

#define N_TOKENS (sizeof(tokens) / sizeof(tokens[0]))

static const token_def *token_find(const char *name)
{
    size_t i;

    for (i = 0; i < N_TOKENS; i++)
        if (strcasecmp(name, tokens[i].name) == 0)
            return &tokens[i];
    return NULL;
}

/* Store v in an unsigned field of the given size. */
static void store_unsigned(void *field, size_t size, uint64_t v)
{
    if (size == sizeof(uint64_t)) {
        uint64_t w = v;
        memcpy(field, &w, sizeof(w));
    } else {
        uint32_t w = (uint32_t)v;
        memcpy(field, &w, sizeof(w));
    }
}

int dtlsudp_snmp_settings_apply(dtlsudp_snmp_settings *s, const char *token, const char *value,
                                const char **why)
{
    const token_def *def = token_find(token);
    unsigned char *field;
    unsigned long v = 0;
    int flag;

    if (def == NULL) {
        *why = "unknown dtlsudp token";
        return -1;
    }
    field = (unsigned char *)s + def->offset;
    switch (def->kind) {
    case TOKEN_DEMUX:
        return parse_demux(value, (int *)(void *)field, why);
    case TOKEN_YES_NO:
        if (parse_yes_no(value, &flag, why) != 0)
            return -1;
        *(int *)(void *)field = flag;
        return 0;
    default:
        break;
    }
    if (parse_number(value, def->min, def->max, &v, why) != 0)
        return -1;
    switch (def->kind) {
    case TOKEN_NOT:
        *(int *)(void *)field = v == 0;
        break;
    case TOKEN_MTU:
        store_unsigned(field, def->size, v);
        s->engine.mtu_ipv6 = v < 1280 ? 1280 : (unsigned)v;
        break;
    case TOKEN_SECONDS_OR_0:
        store_unsigned(field, def->size, v == 0 ? DTLSUDP_TIME_NEVER : (uint64_t)v * 1000);
        break;
    case TOKEN_SECONDS:
        store_unsigned(field, def->size, (uint64_t)v * 1000);
        break;
    default: /* TOKEN_COUNT, TOKEN_MILLISECONDS */
        store_unsigned(field, def->size, v);
        break;
    }
    return 0;
}

void dtlsudp_snmp_settings_to_engine(const dtlsudp_snmp_settings *s, dtlsudp_engine_config *cfg)
{
    const size_t engine_at = offsetof(dtlsudp_snmp_settings, engine);
    size_t i;

    /* Exactly the fields a token can set (dtlsudpMTU's IPv6 side is
     * dtlsudpMTU6's field): the caller's own choices stay. */
    for (i = 0; i < N_TOKENS; i++) {
        size_t at = tokens[i].offset;
        if (at >= engine_at && at < engine_at + sizeof(s->engine))
            memcpy((unsigned char *)cfg + (at - engine_at), (const unsigned char *)s + at, tokens[i].size);
    }
}

static void parse_token(const char *token, char *line)
{
    const token_def *def = token_find(token);
    const char *why = NULL;
    char msg[256];

    (void)dtlsudp_snmp_settings_get();
    if (dtlsudp_snmp_settings_apply(&current, token, line, &why) == 0) {
        DEBUGMSGTL(("dtlsudp:config", "%s %s\n", token, line));
        return;
    }
    snprintf(msg, sizeof(msg), "%s '%s': %s; expected %s", token, line != NULL ? line : "", why,
             def != NULL ? def->help : "?");
    config_perror(msg);
}

/* SIGHUP: free_config() runs every releaser before the files are read
 * again, so a removed line falls back to its default. */
static void release_tokens(void)
{
    dtlsudp_snmp_settings_reset();
}

void dtlsudp_snmp_config_register(void)
{
    size_t i;
    const char *app;

    (void)dtlsudp_snmp_settings_get();
    app = netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_APPTYPE);
    for (i = 0; i < N_TOKENS; i++) {
        /* Re-registering replaces the handler, so a second call (plugin
         * init after SIGHUP) is harmless. */
        register_config_handler("snmp", tokens[i].name, parse_token, i == 0 ? release_tokens : NULL,
                                tokens[i].help);
        if (app != NULL && strcmp(app, "snmp") != 0)
            register_app_config_handler(tokens[i].name, parse_token, NULL, tokens[i].help);
    }
    dtlsudp_snmp_fingerprint_checks_install();
    registered = 1;
}

/* The tokens above, for dtlsudp-checkconf: it checks the same list snmpd
 * learns from the plugin, not a copy of it. */
size_t dtlsudp_snmp_config_token_count(void)
{
    return N_TOKENS;
}

const char *dtlsudp_snmp_config_token_name(size_t i)
{
    return i < N_TOKENS ? tokens[i].name : NULL;
}
