/*
 * fpcheck.c - a fingerprint of no hash's length is a configuration error.
 *
 * certSecName, trustCert, localCert, peerCert, snmpTlstmParams and
 * snmpTlstmAddr may name a certificate by fingerprint; Net-SNMP 5.9.3
 * takes any hex string there, so a mistyped fingerprint (31 bytes, say)
 * loads silently and matches nothing.  These tokens' handlers are
 * Net-SNMP's; each is wrapped once its handler exists (the plugin's init
 * inside snmpd's read_configs, or libnetsnmp's pre-read-config callback in
 * a manager), so a word that is plainly a fingerprint (hex digits and
 * colons only, at least 20 digits) but of no hash's length (MD5 16,
 * SHA-1 20, SHA-224 28, SHA-256 32, SHA-384 48, SHA-512 64 bytes, with or
 * without the SnmpTLSFingerprint hash octet) is reported with the file and
 * line (config_perror) and the line is ignored.
 *
 * localCert, peerCert and trustCert are also resolved right away, when the
 * transport has installed its lookup (dtlsudp_snmp_cert_check_install):
 * Net-SNMP loads its certificate store before it reads the main
 * configuration, so a name that finds nothing is reported here with the
 * file and line (a warning: Net-SNMP keeps the line), not only later,
 * when the certificate is needed and no line is current any more.
 */
#include <config.h>

#include "snmp_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct wrapped_token {
    const char *token;
    int word;            /* which word of the line holds the certificate (0-based) */
    int skip_hash_option; /* a "--sha256"-style word may come before it */
    int kind;            /* DTLSUDP_SNMP_CERT_*: resolved at once; 0: not */
    void (*original)(const char *, char *);
} wrapped_token;

static wrapped_token wrapped[] = {
    {"certSecName", 1, 1, 0, NULL}, /* PRIORITY [--shaN] FP|NAME MAP */
    {"trustCert", 0, 1, DTLSUDP_SNMP_CERT_TRUST, NULL}, /* FP|NAME */
    {"localCert", 0, 1, DTLSUDP_SNMP_CERT_IDENTITY, NULL},
    {"peerCert", 0, 1, DTLSUDP_SNMP_CERT_PEER, NULL},
    {"snmpTlstmParams", 1, 1, 0, NULL}, /* NAME [--shaN] FP */
    {"snmpTlstmAddr", 1, 1, 0, NULL},   /* NAME [--shaN] FP IDENTITY */
};

static dtlsudp_snmp_cert_check_fn *cert_check;

void dtlsudp_snmp_cert_check_install(dtlsudp_snmp_cert_check_fn *fn)
{
    cert_check = fn;
}
#define N_WRAPPED (sizeof(wrapped) / sizeof(wrapped[0]))

int dtlsudp_snmp_fingerprint_word_check(const char *word, size_t len, size_t *bytes)
{
    char text[200];
    dtlsudp_fingerprint fp;
    size_t i, digits = 0;

    *bytes = 0;
    for (i = 0; i < len; i++) {
        if (isxdigit((unsigned char)word[i]))
            digits++;
        else if (word[i] != ':')
            return 0; /* not a fingerprint: a file name or a subject */
    }
    if (digits < 20)
        return 0;
    *bytes = digits / 2;
    if (len >= sizeof(text))
        return -1;
    memcpy(text, word, len);
    text[len] = '\0';
    /* A hash's length, with or without the SnmpTLSFingerprint hash octet:
     * the reader certSecName rows are matched with (secname.c). */
    return dtlsudp_snmp_row_fingerprint(text, &fp) == 0 ? 0 : -1;
}

/* The n-th blank-separated word of line (with its length), or NULL. */
static const char *nth_word(const char *line, int n, size_t *len)
{
    const char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '\n')
            return NULL;
        *len = strcspn(p, " \t\n");
        if (n-- == 0)
            return p;
        p += *len;
    }
}

static void checked_parse(const char *token, char *line)
{
    wrapped_token *w = NULL;
    const char *word;
    size_t i, len = 0, bytes;
    int n;

    for (i = 0; i < N_WRAPPED; i++)
        if (strcasecmp(token, wrapped[i].token) == 0)
            w = &wrapped[i];
    if (w == NULL || w->original == NULL)
        return;
    n = w->word;
    word = nth_word(line, n, &len);
    if (word != NULL && w->skip_hash_option && strncmp(word, "--", 2) == 0)
        word = nth_word(line, n + 1, &len);
    if (word != NULL && dtlsudp_snmp_fingerprint_word_check(word, len, &bytes) != 0) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "%s: %.*s is a fingerprint of %zu bytes, which is no hash's length "
                 "(SHA-1 20, SHA-224 28, SHA-256 32, SHA-384 48, SHA-512 64); line ignored",
                 token, (int)(len > 100 ? 100 : len), word, bytes);
        config_perror(msg);
        return;
    }
    if (word != NULL && w->kind != 0 && cert_check != NULL && len < 512) {
        char name[512], why[1536];
        memcpy(name, word, len);
        name[len] = '\0';
        if (cert_check(w->kind, token, name, why, sizeof(why)) != 0)
            config_pwarn(why);
    }
    w->original(token, line);
}

static void wrap_type(const char *type)
{
    struct config_line *l;
    size_t i;

    for (l = type != NULL ? read_config_get_handlers(type) : NULL; l != NULL; l = l->next)
        for (i = 0; i < N_WRAPPED; i++)
            /* One original per token: a token that two file types parse
             * with different functions is wrapped in the first only. */
            if (l->config_token != NULL && strcasecmp(l->config_token, wrapped[i].token) == 0 &&
                l->parse_line != checked_parse && l->parse_line != NULL &&
                (wrapped[i].original == NULL || wrapped[i].original == l->parse_line)) {
                wrapped[i].original = l->parse_line;
                l->parse_line = checked_parse;
            }
}

static int before_read_config(int major, int minor, void *server_arg, void *client_arg)
{
    (void)major;
    (void)minor;
    (void)server_arg;
    (void)client_arg;
    dtlsudp_snmp_fingerprint_checks_install();
    return SNMPERR_SUCCESS;
}

void dtlsudp_snmp_fingerprint_checks_install(void)
{
    static int callback_registered;

    wrap_type("snmp");
    wrap_type(netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_APPTYPE));
    /* A manager registers before init_snmp() registers Net-SNMP's own
     * tokens: wrap them again just before the files are read. */
    if (!callback_registered &&
        snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_PRE_READ_CONFIG, before_read_config, NULL) ==
            SNMPERR_SUCCESS)
        callback_registered = 1;
}
