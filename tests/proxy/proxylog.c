/*
 * proxylog.c - the log main.c would print, kept for the assertions of the
 * unit tests of server.c and client.c (see proxytest.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "proxytest.h"

int proxy_verbosity = DTLSUDP_LOG_DEBUG;

enum { LOG_LINES = 512, LOG_LINE = 600 };
static char log_lines[LOG_LINES][LOG_LINE];
static int log_n;

void proxy_log(int level, const char *service, const char *fmt, ...)
{
    char text[LOG_LINE - 80];
    va_list ap;
    (void)level;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (getenv("PROXY_TEST_LOG") != NULL)
        fprintf(stderr, "log: %s: %s\n", service, text);
    if (log_n < LOG_LINES)
        snprintf(log_lines[log_n++], LOG_LINE, "%s: %s", service, text);
}

void log_clear(void)
{
    log_n = 0;
}

int log_count(const char *text)
{
    int n = 0;
    for (int i = 0; i < log_n; i++)
        n += strstr(log_lines[i], text) != NULL;
    return n;
}

const char *log_find(const char *text)
{
    for (int i = log_n - 1; i >= 0; i--)
        if (strstr(log_lines[i], text) != NULL)
            return log_lines[i];
    return NULL;
}

