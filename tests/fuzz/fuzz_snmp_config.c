/*
 * fuzz_snmp_config.c - the plugin's configuration parsers
 * (transport/snmp): the dtlsudp* tokens (dtlsudpDemux, dtlsudpMTU,
 * dtlsudpMTU6, the caps and timers) both directly
 * (dtlsudp_snmp_settings_apply) and through Net-SNMP's own line dispatcher
 * into the registered handler (which reports errors with config_perror),
 * and the certSecName row fingerprint parser of secname.c (a static
 * function: the file is included, as picotls t/openssl.c includes
 * lib/openssl.c).
 *
 * Input: byte 0 selects the parser, byte 1 the token, the rest is the value.
 */
#include <config.h>

#include "../../transport/snmp/secname.c"

#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

/* Exported by libnetsnmp, no installed prototype. */
int snmp_config_when(char *line, int when);

/* Every token the plugin registers, and one it does not. */
static const char *token_name(uint8_t pick)
{
    size_t n = dtlsudp_snmp_config_token_count();

    return pick % (n + 1) < n ? dtlsudp_snmp_config_token_name(pick % (n + 1)) : "dtlsudpBogus";
}

static int initialised;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (initialised)
        return 0;
    initialised = 1;
    /* config_perror() output goes nowhere (a flood of bad lines is the
     * point); the handler is the one snmpd would call. */
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_NONE, LOG_DEBUG);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_APPTYPE, "fuzz");
    dtlsudp_snmp_config_register();
    return 0;
}

static void check_settings(const dtlsudp_snmp_settings *s)
{
    FZ_CHECK(s->demux == DTLSUDP_SNMP_DEMUX_OSNET || s->demux == DTLSUDP_SNMP_DEMUX_ROUTER);
    FZ_CHECK(s->engine.mtu_ipv4 >= 576 && s->engine.mtu_ipv4 <= 65535);
    FZ_CHECK(s->engine.mtu_ipv6 >= 1280 && s->engine.mtu_ipv6 <= 65535);
    FZ_CHECK(s->engine.max_assocs >= 1 && s->engine.max_assocs <= 1000000);
    FZ_CHECK(s->engine.max_half_open >= 1 && s->engine.max_half_open <= 100000);
    FZ_CHECK(s->engine.max_per_source >= 1 && s->engine.max_per_source <= 1000000);
    FZ_CHECK(s->engine.handshake_timeout >= 1000 && s->engine.handshake_timeout <= 600000);
    FZ_CHECK(s->engine.cookie_rotation >= 1000 && s->engine.cookie_rotation <= 86400000);
    FZ_CHECK(s->engine.retransmit_initial >= 10 && s->engine.retransmit_initial <= 10000);
    FZ_CHECK(s->engine.retransmit_max >= 10 && s->engine.retransmit_max <= 60000);
    FZ_CHECK(s->engine.retransmit_max_bytes >= 1024 && s->engine.retransmit_max_bytes <= 16777216);
    FZ_CHECK(s->engine.ticket_lifetime >= 1000 && s->engine.ticket_lifetime <= 86400000);
    FZ_CHECK(s->engine.keep_ssl == 0 || s->engine.keep_ssl == 1);
    FZ_CHECK(s->engine.idle_timeout == DTLSUDP_TIME_NEVER ||
             (s->engine.idle_timeout >= 1000 && s->engine.idle_timeout <= 604800000));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dtlsudp_snmp_settings s;
    const char *why = NULL;
    char *value, *line;
    const char *token;
    dtlsudp_fingerprint fp;
    size_t n;
    int r;

    if (size < 2 || size > 2048)
        return 0;
    LLVMFuzzerInitialize(NULL, NULL);
    token = token_name(data[1]);
    n = size - 2;
    FZ_CHECK((value = malloc(n + 1)) != NULL);
    memcpy(value, data + 2, n);
    value[n] = '\0';

    switch (data[0] % 3) {
    case 0:
        dtlsudp_snmp_settings_reset();
        s = *dtlsudp_snmp_settings_get();
        r = dtlsudp_snmp_settings_apply(&s, token, value, &why);
        if (r == 0) {
            check_settings(&s);
        } else {
            FZ_CHECK(r == -1 && why != NULL && why[0] != '\0');
        }
        break;
    case 1:
        /* "token value" through Net-SNMP's dispatcher, as a config file
         * line would arrive; the settings stay valid whatever the line. */
        FZ_CHECK((line = malloc(strlen(token) + n + 2)) != NULL);
        strcpy(line, token);
        strcat(line, " ");
        strcat(line, value);
        (void)snmp_config_when(line, NORMAL_CONFIG);
        check_settings(dtlsudp_snmp_settings_get());
        free(line);
        break;
    default:
        if (dtlsudp_snmp_row_fingerprint(value, &fp) == 0)
            FZ_CHECK(fp.len == 16 || fp.len == 20 || fp.len == 28 || fp.len == 32 || fp.len == 48 ||
                     fp.len == 64);
        break;
    }
    free(value);
    return 0;
}
