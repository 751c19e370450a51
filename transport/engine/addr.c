/*
 * addr.c - UDP endpoint helpers and the monotonic clock.
 *
 * Numeric addresses only: no name resolution happens in the library.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtlsudp.h"
#include "engine_internal.h"

socklen_t dtlsudp_addr_len(const dtlsudp_addr *a)
{
    if (a == NULL)
        return 0;
    switch (a->sa.sa_family) {
    case AF_INET:
        return sizeof(struct sockaddr_in);
    case AF_INET6:
        return sizeof(struct sockaddr_in6);
    default:
        return 0;
    }
}

int dtlsudp_addr_equal(const dtlsudp_addr *a, const dtlsudp_addr *b)
{
    if (a == NULL || b == NULL || a->sa.sa_family != b->sa.sa_family)
        return 0;
    switch (a->sa.sa_family) {
    case AF_INET:
        return a->sin.sin_port == b->sin.sin_port && a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
    case AF_INET6:
        return a->sin6.sin6_port == b->sin6.sin6_port &&
               a->sin6.sin6_scope_id == b->sin6.sin6_scope_id &&
               memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, sizeof(a->sin6.sin6_addr)) == 0;
    default:
        return 0;
    }
}

/* Same family and address, the first v6_bytes of an IPv6 address only
 * (with its scope). */
static int same_prefix(const dtlsudp_addr *a, const dtlsudp_addr *b, size_t v6_bytes)
{
    if (a->sa.sa_family != b->sa.sa_family)
        return 0;
    switch (a->sa.sa_family) {
    case AF_INET:
        return a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
    case AF_INET6:
        return a->sin6.sin6_scope_id == b->sin6.sin6_scope_id &&
               memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, v6_bytes) == 0;
    default:
        return 0;
    }
}

int eng_addr_same_host(const dtlsudp_addr *a, const dtlsudp_addr *b)
{
    return same_prefix(a, b, sizeof(a->sin6.sin6_addr));
}

/* One admission source: an IPv4 address, or an IPv6 /64 on one link.  A
 * single IPv6 host commonly holds a whole /64, so counting its addresses
 * one by one would give it 2^64 quotas. */
int eng_addr_same_source(const dtlsudp_addr *a, const dtlsudp_addr *b)
{
    return same_prefix(a, b, 8);
}

/* FNV-1a over the key bytes, then a final mix; the table is keyed with a
 * per-engine random seed so remote peers cannot aim at one bucket. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t finish(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

uint64_t eng_addr_hash(const dtlsudp_addr *a, uint64_t seed, int with_port)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    uint16_t family = a->sa.sa_family;

    h = mix(h, &family, sizeof(family));
    if (family == AF_INET) {
        h = mix(h, &a->sin.sin_addr, sizeof(a->sin.sin_addr));
        if (with_port > 0)
            h = mix(h, &a->sin.sin_port, sizeof(a->sin.sin_port));
    } else if (family == AF_INET6) {
        /* with_port < 0: the source (/64) only */
        h = mix(h, &a->sin6.sin6_addr, with_port < 0 ? 8 : sizeof(a->sin6.sin6_addr));
        h = mix(h, &a->sin6.sin6_scope_id, sizeof(a->sin6.sin6_scope_id));
        if (with_port > 0)
            h = mix(h, &a->sin6.sin6_port, sizeof(a->sin6.sin6_port));
    }
    return finish(h);
}

int dtlsudp_addr_format(const dtlsudp_addr *a, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    int n;

    if (a == NULL || buf == NULL)
        return DTLSUDP_ERR_INVALID;
    switch (a->sa.sa_family) {
    case AF_INET:
        if (inet_ntop(AF_INET, &a->sin.sin_addr, host, sizeof(host)) == NULL)
            return DTLSUDP_ERR_INVALID;
        n = snprintf(buf, cap, "%s:%u", host, (unsigned)ntohs(a->sin.sin_port));
        break;
    case AF_INET6:
        if (inet_ntop(AF_INET6, &a->sin6.sin6_addr, host, sizeof(host)) == NULL)
            return DTLSUDP_ERR_INVALID;
        if (a->sin6.sin6_scope_id != 0)
            n = snprintf(buf, cap, "[%s%%%u]:%u", host, (unsigned)a->sin6.sin6_scope_id,
                         (unsigned)ntohs(a->sin6.sin6_port));
        else
            n = snprintf(buf, cap, "[%s]:%u", host, (unsigned)ntohs(a->sin6.sin6_port));
        break;
    default:
        return DTLSUDP_ERR_INVALID;
    }
    if (n < 0 || (size_t)n >= cap)
        return DTLSUDP_ERR_BUFFER;
    return DTLSUDP_OK;
}

static int parse_port(const char *s, uint16_t *port)
{
    char *endp;
    unsigned long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &endp, 10);
    if (errno != 0 || *endp != '\0' || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

/* IPv6 text with an optional "%<number>" scope suffix. */
static int parse_v6(const char *s, size_t n, dtlsudp_addr *out)
{
    char host[INET6_ADDRSTRLEN + 16];
    char *pct;

    if (n == 0 || n >= sizeof(host))
        return -1;
    memcpy(host, s, n);
    host[n] = '\0';
    if ((pct = strchr(host, '%')) != NULL) {
        char *endp;
        unsigned long scope;
        *pct = '\0';
        errno = 0;
        scope = strtoul(pct + 1, &endp, 10);
        if (pct[1] == '\0' || *endp != '\0' || errno != 0 || scope > UINT32_MAX)
            return -1;
        out->sin6.sin6_scope_id = (uint32_t)scope;
    }
    if (inet_pton(AF_INET6, host, &out->sin6.sin6_addr) != 1)
        return -1;
    out->sin6.sin6_family = AF_INET6;
    return 0;
}

int dtlsudp_addr_parse(const char *text, uint16_t default_port, dtlsudp_addr *out)
{
    dtlsudp_addr a;
    uint16_t port = default_port;
    const char *colon;
    char host[INET_ADDRSTRLEN];

    if (text == NULL || out == NULL)
        return DTLSUDP_ERR_INVALID;
    memset(&a, 0, sizeof(a));

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || parse_v6(text + 1, (size_t)(close - text - 1), &a) != 0)
            return DTLSUDP_ERR_INVALID;
        if (close[1] == ':') {
            if (parse_port(close + 2, &port) != 0)
                return DTLSUDP_ERR_INVALID;
        } else if (close[1] != '\0') {
            return DTLSUDP_ERR_INVALID;
        }
        a.sin6.sin6_port = htons(port);
        goto Done;
    }
    if (text[0] == '\0')
        return DTLSUDP_ERR_INVALID;
    /* Two or more colons without brackets: a bare IPv6 address, no port. */
    colon = strchr(text, ':');
    if (colon != NULL && strchr(colon + 1, ':') != NULL) {
        if (parse_v6(text, strlen(text), &a) != 0)
            return DTLSUDP_ERR_INVALID;
        a.sin6.sin6_port = htons(port);
        goto Done;
    }
    a.sin.sin_family = AF_INET;
    if (colon == NULL && strchr(text, '.') == NULL) {
        /* "p": port only, IPv4 wildcard. */
        if (parse_port(text, &port) != 0)
            return DTLSUDP_ERR_INVALID;
        a.sin.sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (colon == text) {
        /* ":p" */
        if (parse_port(text + 1, &port) != 0)
            return DTLSUDP_ERR_INVALID;
        a.sin.sin_addr.s_addr = htonl(INADDR_ANY);
    } else {
        size_t n = colon != NULL ? (size_t)(colon - text) : strlen(text);
        if (n >= sizeof(host))
            return DTLSUDP_ERR_INVALID;
        memcpy(host, text, n);
        host[n] = '\0';
        if (inet_pton(AF_INET, host, &a.sin.sin_addr) != 1)
            return DTLSUDP_ERR_INVALID;
        if (colon != NULL && parse_port(colon + 1, &port) != 0)
            return DTLSUDP_ERR_INVALID;
    }
    a.sin.sin_port = htons(port);
Done:
    *out = a;
    return DTLSUDP_OK;
}

dtlsudp_time dtlsudp_now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (dtlsudp_time)ts.tv_sec * 1000u + (dtlsudp_time)ts.tv_nsec / 1000000u;
}
