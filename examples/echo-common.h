/*
 * echo-common.h - what the echo server and client share: the options that
 * name their own certificate and the CA, and the library's log on stderr.
 */
#ifndef ECHO_COMMON_H
#define ECHO_COMMON_H

#include <getopt.h>
#include <stdio.h>

#include "dtlsudp.h"

/* getopt_long() entries of the shared options (--cert, --key, --ca, --help;
 * -6 is a short option of both). */
#define ECHO_COMMON_OPTIONS                                                                       \
    {"cert", required_argument, NULL, 'c'}, {"key", required_argument, NULL, 'k'},                  \
        {"ca", required_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}

/* After dtlsudp_*_config_init(): name the program (it prefixes every line
 * on stderr) and send the library's NOTICE and worse lines there. */
void echo_common_init(dtlsudp_engine_config *cfg, const char *program);

#define ECHO_OPTION_TAKEN (-1)

/* Every option a program does not handle itself (opt from getopt_long(),
 * its argument): a shared one is applied to cfg (-6 sets *ipv6) and
 * ECHO_OPTION_TAKEN returned; --help prints usage on stdout and returns 0,
 * anything else prints it on stderr and returns 2 (the exit status). */
int echo_common_option(int opt, const char *arg, dtlsudp_engine_config *cfg, int *ipv6,
                       void (*usage)(FILE *));

#endif
