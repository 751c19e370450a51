/*
 * addr.c - transport addresses: Net-SNMP target strings in, Net-SNMP's
 * fmtaddr text and SNMP-TARGET-MIB octet strings out.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <config.h>

#include "snmp_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/library/snmpIPBaseDomain.h>
#include <net-snmp/library/snmpIPv4BaseDomain.h>
#include <net-snmp/library/snmpIPv6BaseDomain.h>

/* RFC 6353 10: 10161 for commands (10162 for notifications comes from
 * Net-SNMP's per-application default target ":10162"). */
static const char default_port_target[] = ":10161";

/* IPv6 when bracketed or with at least two colons ("::1", "fe80::1:161"). */
static int looks_ipv6(const char *text)
{
    const char *first;

    if (text[0] == '[')
        return 1;
    first = strchr(text, ':');
    return first != NULL && strchr(first + 1, ':') != NULL;
}

int dtlsudp_snmp_addr_parse(const char *text, const char *default_target, int family_hint, dtlsudp_addr *out)
{
    struct netsnmp_ep ep;

    if (text == NULL || out == NULL)
        return -1;
    if (default_target == NULL || default_target[0] == '\0')
        default_target = default_port_target;
    memset(&ep, 0, sizeof(ep));
    memset(out, 0, sizeof(*out));

    /* Unlike Net-SNMP's built-in (net-snmp#239), dtlsudp6: never falls back
     * to IPv4 and "[::]:10161" never reaches the IPv4 parser. */
    if (family_hint == AF_INET6 || looks_ipv6(text)) {
        if (!netsnmp_sockaddr_in6_3(&ep, text, default_target))
            return -1;
        out->sin6 = ep.a.sin6;
        out->sin6.sin6_family = AF_INET6;
        return 0;
    }
    if (!netsnmp_sockaddr_in3(&ep, text, default_target))
        return -1;
    out->sin = ep.a.sin;
    out->sin.sin_family = AF_INET;
    return 0;
}

/* Net-SNMP formats the peer's address for every message it receives (its
 * access check and log line), so this is on the message path: no stdio.
 * glibc's inet_ntop() goes through sprintf() for IPv4, so IPv4 is written
 * by hand; IPv6 keeps inet_ntop() for RFC 5952's "::" rules. */

/* The decimal digits of v at p; returns their count. */
static size_t put_decimal(char *p, unsigned v)
{
    char tmp[10];
    size_t n = 0, i;

    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* "[a.b.c.d]:p" / "[v6]:p" into buf (cap >= ADDR_TEXT_MAX); "" for
 * AF_UNSPEC.  Returns the length. */
#define ADDR_TEXT_MAX (INET6_ADDRSTRLEN + 10)
static size_t fmt_one(const dtlsudp_addr *a, char *buf)
{
    size_t n = 0;
    unsigned port;

    buf[0] = '\0';
    if (a == NULL)
        return 0;
    buf[n++] = '[';
    if (a->sa.sa_family == AF_INET) {
        const uint8_t *ip = (const uint8_t *)&a->sin.sin_addr;
        for (int i = 0; i < 4; i++) {
            n += put_decimal(buf + n, ip[i]);
            buf[n++] = i < 3 ? '.' : ']';
        }
        port = ntohs(a->sin.sin_port);
    } else if (a->sa.sa_family == AF_INET6 &&
               inet_ntop(AF_INET6, &a->sin6.sin6_addr, buf + n, INET6_ADDRSTRLEN) != NULL) {
        n += strlen(buf + n);
        buf[n++] = ']';
        port = ntohs(a->sin6.sin6_port);
    } else {
        buf[0] = '\0';
        return 0;
    }
    buf[n++] = ':';
    n += put_decimal(buf + n, port);
    buf[n] = '\0';
    return n;
}

char *dtlsudp_snmp_addr_fmt(const dtlsudp_addr *remote, const dtlsudp_addr *local)
{
    static const char prefix[] = "DTLSUDP: ", unknown[] = "[unknown]";
    char r[ADDR_TEXT_MAX], l[ADDR_TEXT_MAX];
    size_t rn = fmt_one(remote, r), ln = fmt_one(local, l), n = sizeof(prefix) - 1;
    char *out;

    if (rn == 0 && ln == 0)
        return strdup("DTLSUDP: unknown");
    if (rn == 0) {
        memcpy(r, unknown, sizeof(unknown));
        rn = sizeof(unknown) - 1;
    }
    if ((out = malloc(n + rn + 2 + ln + 1)) == NULL)
        return NULL;
    memcpy(out, prefix, n);
    memcpy(out + n, r, rn);
    n += rn;
    if (ln != 0) {
        memcpy(out + n, "->", 2);
        memcpy(out + n + 2, l, ln);
        n += 2 + ln;
    }
    out[n] = '\0';
    return out;
}

int dtlsudp_snmp_addr_to_ostring(const dtlsudp_addr *a, uint8_t *buf, size_t cap, size_t *len)
{
    switch (a->sa.sa_family) {
    case AF_INET:
        if (cap < 6)
            return -1;
        memcpy(buf, &a->sin.sin_addr, 4);
        memcpy(buf + 4, &a->sin.sin_port, 2);
        *len = 6;
        return 0;
    case AF_INET6:
        if (cap < 18)
            return -1;
        memcpy(buf, &a->sin6.sin6_addr, 16);
        memcpy(buf + 16, &a->sin6.sin6_port, 2);
        *len = 18;
        return 0;
    default:
        return -1;
    }
}

int dtlsudp_snmp_addr_from_ostring(const void *o, size_t len, dtlsudp_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (o == NULL)
        return -1;
    if (len == 6) {
        out->sin.sin_family = AF_INET;
        memcpy(&out->sin.sin_addr, o, 4);
        memcpy(&out->sin.sin_port, (const uint8_t *)o + 4, 2);
        return 0;
    }
    if (len == 18) {
        out->sin6.sin6_family = AF_INET6;
        memcpy(&out->sin6.sin6_addr, o, 16);
        memcpy(&out->sin6.sin6_port, (const uint8_t *)o + 16, 2);
        return 0;
    }
    return -1;
}
