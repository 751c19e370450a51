/*
 * echo-common.c - the options and the log line the echo programs share.
 */
#include "config.h"

#include <stdio.h>

#include "echo-common.h"

static const char *program = "dtls-echo";

static void log_line(void *user, int level, const char *message)
{
    (void)user;
    if (level <= DTLSUDP_LOG_NOTICE)
        fprintf(stderr, "%s: %s\n", program, message);
}

void echo_common_init(dtlsudp_engine_config *cfg, const char *name)
{
    program = name;
    cfg->log = log_line;
}

int echo_common_option(int opt, const char *arg, dtlsudp_engine_config *cfg, int *ipv6,
                       void (*usage)(FILE *))
{
    switch (opt) {
    case '6':
        *ipv6 = 1;
        return ECHO_OPTION_TAKEN;
    case 'c':
        cfg->cert_file = arg;
        return ECHO_OPTION_TAKEN;
    case 'k':
        cfg->key_file = arg;
        return ECHO_OPTION_TAKEN;
    case 'a':
        cfg->ca_file = arg;
        return ECHO_OPTION_TAKEN;
    default:
        /* --help is an answer, anything else a mistake */
        usage(opt == 'h' ? stdout : stderr);
        return opt == 'h' ? 0 : 2;
    }
}
