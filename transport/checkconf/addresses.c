/*
 * addresses.c - the listeners snmpd will open: every agentAddress of ours,
 * its address family, and the pairs that cannot both bind (the same port
 * on overlapping addresses).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <config.h>

#include "checkconf.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "snmp_internal.h"

#include <net-snmp/library/cert_util.h>

typedef struct listener {
    const char *spec;
    cc_where where;
    dtlsudp_addr addr;
    int v6only;
    int ours;
} listener;

static int is_wildcard(const dtlsudp_addr *a)
{
    static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

    if (a->sa.sa_family == AF_INET)
        return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
    return memcmp(&a->sin6.sin6_addr, &any6, sizeof(any6)) == 0;
}

static unsigned port_of(const dtlsudp_addr *a)
{
    return ntohs(a->sa.sa_family == AF_INET ? a->sin.sin_port : a->sin6.sin6_port);
}

static int same_host(const dtlsudp_addr *a, const dtlsudp_addr *b)
{
    if (a->sa.sa_family == AF_INET)
        return a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
    return memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, sizeof(a->sin6.sin6_addr)) == 0;
}

/* Whether binding b after a fails with EADDRINUSE (UDP, Linux; our
 * listeners set SO_REUSEPORT only after their bind). */
static int overlaps(const listener *a, const listener *b)
{
    const listener *v6;

    if (port_of(&a->addr) != port_of(&b->addr))
        return 0;
    if (a->addr.sa.sa_family == b->addr.sa.sa_family)
        return is_wildcard(&a->addr) || is_wildcard(&b->addr) || same_host(&a->addr, &b->addr);
    /* IPv4 against IPv6: only a dual-stack wildcard takes IPv4 too. */
    v6 = a->addr.sa.sa_family == AF_INET6 ? a : b;
    return !v6->v6only && is_wildcard(&v6->addr);
}

/* "prefix:rest" when the text before the first colon is a domain name
 * (letters and digits, not all digits: "161:..." is no prefix). */
static const char *split_prefix(const char *spec, char *prefix, size_t cap)
{
    const char *colon = strchr(spec, ':');
    size_t n = colon != NULL ? (size_t)(colon - spec) : 0;
    size_t alnum = strspn(spec, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

    prefix[0] = '\0';
    if (colon == NULL || n == 0 || n >= cap || alnum != n || strspn(spec, "0123456789") == n)
        return spec;
    memcpy(prefix, spec, n);
    prefix[n] = '\0';
    return colon + 1;
}

static const char *family_text(const listener *l)
{
    if (l->addr.sa.sa_family == AF_INET)
        return "IPv4";
    return l->v6only ? "IPv6 only" : "IPv4 and IPv6 (dual-stack)";
}

void cc_check_addresses(void)
{
    listener ls[256];
    size_t n = 0, i, j;

    if (!cc.is_agent)
        return;
    for (i = 0; i < cc.n_lines; i++) {
        const cc_line *l = &cc.lines[i];
        char *copy, *spec, *save = NULL;

        if (strcasecmp(l->token, "agentaddress") != 0 || (copy = strdup(l->value)) == NULL)
            continue;
        for (spec = strtok_r(copy, ",", &save); spec != NULL && n < 256; spec = strtok_r(NULL, ",", &save)) {
            const char *rest;
            char prefix[32];
            int family = AF_UNSPEC, ours_prefix = 0, udp = 0, v6only = 0;
            listener *x = &ls[n];

            while (*spec == ' ' || *spec == '\t')
                spec++;
            rest = split_prefix(spec, prefix, sizeof(prefix));
            if (strcasecmp(prefix, "dtlsudp") == 0 || strcasecmp(prefix, "dtls") == 0)
                ours_prefix = 1;
            else if (strcasecmp(prefix, "dtlsudp6") == 0 || strcasecmp(prefix, "dtls6") == 0)
                ours_prefix = 1, family = AF_INET6, v6only = 1;
            else if (prefix[0] == '\0' || strcasecmp(prefix, "udp") == 0)
                udp = 1;
            else if (strcasecmp(prefix, "udp6") == 0 || strcasecmp(prefix, "udpv6") == 0 ||
                     strcasecmp(prefix, "udpipv6") == 0)
                udp = 1, family = AF_INET6, v6only = 1;
            if (!ours_prefix && !udp)
                continue; /* TCP, unix, ...: not our business */
            if (dtlsudp_snmp_addr_parse(rest, ours_prefix ? ":10161" : ":161", family, &x->addr) != 0) {
                if (ours_prefix)
                    cc_add(CC_ERROR, "address", &l->where, "agentAddress", spec,
                           "dtlsudp:PORT, dtlsudp:HOST:PORT, dtlsudp:[IPV6]:PORT (dtlsudp(5) ADDRESSES)",
                           "not an address the transport can parse");
                continue;
            }
            x->spec = cc_intern(spec);
            x->where = l->where;
            x->ours = ours_prefix;
            x->v6only = v6only || x->addr.sa.sa_family == AF_INET;
            if (ours_prefix) {
                char text[80] = "?";
                cc_finding *f;
                (void)dtlsudp_addr_format(&x->addr, text, sizeof(text));
                if (cc.plugin_loaded) {
                    f = cc_add(CC_OK, "address", &l->where, "agentAddress", spec, NULL,
                               "served by the dtlsudp plugin on %s, %s", text, family_text(x));
                    cc_set(f, "served_by", "dtlsudp");
                } else {
                    f = cc_add(CC_ERROR, "address", &l->where, "agentAddress", spec, cc_plugin_fix,
                               "would fall to Net-SNMP's built-in DTLSUDP (%s): %s", text,
                               cc.plugin_tried ? "the dlmod line for dtlsudp.so does not load"
                                               : "no dlmod line loads dtlsudp.so");
                    cc_set(f, "served_by", "builtin");
                }
                cc_set(f, "address", text);
            }
            n++;
        }
        free(copy);
    }
    for (i = 0; i < n; i++)
        for (j = 0; j < i; j++)
            if (overlaps(&ls[j], &ls[i])) {
                char fix[512];
                snprintf(fix, sizeof(fix),
                         "list each address once; dtlsudp:[::]:%u alone serves IPv4 and IPv6, and "
                         "dtlsudp:%u,dtlsudp6:[::]:%u is the same as two listeners",
                         port_of(&ls[i].addr), port_of(&ls[i].addr), port_of(&ls[i].addr));
                cc_add(CC_ERROR, "listener", &ls[i].where, "agentAddress", ls[i].spec, fix,
                       "conflicts with %s (%s:%d): both bind UDP port %u, and the second bind fails with "
                       "\"Address already in use\"",
                       ls[j].spec, ls[j].where.file != NULL ? ls[j].where.file : "?", ls[j].where.line,
                       port_of(&ls[i].addr));
            }
}

/* One spec of an agentAddress line ("dtlsudp:...", "udp:...", "161"):
 * whether its prefix names this transport. */
static int spec_is_ours(const char *spec)
{
    char prefix[32];

    while (*spec == ' ' || *spec == '\t')
        spec++;
    (void)split_prefix(spec, prefix, sizeof(prefix));
    return strcasecmp(prefix, "dtlsudp") == 0 || strcasecmp(prefix, "dtls") == 0 ||
           strcasecmp(prefix, "dtlsudp6") == 0 || strcasecmp(prefix, "dtls6") == 0;
}

/* By prefix, not by the letters "dtls" anywhere on the line: a host
 * named dtls-gw behind udp: is not ours. */
int cc_serves_dtlsudp(void)
{
    size_t i;
    int ours = 0;

    for (i = 0; i < cc.n_lines && !ours; i++) {
        char *copy, *spec, *save = NULL;

        if (strcasecmp(cc.lines[i].token, "agentaddress") != 0 || (copy = strdup(cc.lines[i].value)) == NULL)
            continue;
        for (spec = strtok_r(copy, ",", &save); spec != NULL && !ours; spec = strtok_r(NULL, ",", &save))
            ours = spec_is_ours(spec);
        free(copy);
    }
    return ours;
}
