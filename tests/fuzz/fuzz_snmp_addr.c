/*
 * fuzz_snmp_addr.c - dtlsudp_snmp_addr_parse() (transport/snmp/addr.c): the
 * target text after "dtlsudp:" / "dtlsudp6:", from the command line or
 * snmpd.conf (agentAddress, trap sinks), with an optional default target.
 * An accepted address is IPv4 or IPv6 (IPv6 whenever the dtlsudp6: hint is
 * given), formats as Net-SNMP's "DTLSUDP: [ip]:port", and survives the
 * SNMP-TARGET-MIB octet-string form unchanged.
 *
 * Input: byte 0 picks the family hint (bit 0: dtlsudp6:) and whether a
 * default target applies (bit 1: ":10162"); the rest is the text.
 *
 * Host names would go to the resolver (slow, and not deterministic): this
 * file interposes getaddrinfo() so that libnetsnmp's lookups accept
 * numeric hosts only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* RTLD_NEXT */
#endif
#include <config.h>

#include "snmp_internal.h"

#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    static getaddrinfo_fn real;
    struct addrinfo h;

    if (real == NULL && (real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo")) == NULL)
        return EAI_FAIL;
    memset(&h, 0, sizeof(h));
    if (hints != NULL)
        h = *hints;
    h.ai_flags |= AI_NUMERICHOST;
    return real(node, service, &h, res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dtlsudp_addr a, b;
    uint8_t os[32];
    size_t os_len = 0;
    char *text, *shown;
    int v6_hint;

    if (size < 1 || size > 512)
        return 0;
    v6_hint = data[0] & 1;
    FZ_CHECK((text = malloc(size)) != NULL);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (dtlsudp_snmp_addr_parse(text, (data[0] & 2) ? ":10162" : NULL, v6_hint ? AF_INET6 : AF_UNSPEC, &a) == 0) {
        FZ_CHECK(a.sa.sa_family == AF_INET || a.sa.sa_family == AF_INET6);
        /* net-snmp#239: the IPv6 prefixes never yield IPv4. */
        FZ_CHECK(!v6_hint || a.sa.sa_family == AF_INET6);
        FZ_CHECK((shown = dtlsudp_snmp_addr_fmt(&a, NULL)) != NULL);
        FZ_CHECK(strncmp(shown, "DTLSUDP: [", 10) == 0);
        free(shown);
        FZ_CHECK(dtlsudp_snmp_addr_to_ostring(&a, os, sizeof(os), &os_len) == 0);
        FZ_CHECK(os_len == (a.sa.sa_family == AF_INET ? 6u : 18u));
        FZ_CHECK(dtlsudp_snmp_addr_from_ostring(os, os_len, &b) == 0);
        FZ_CHECK(b.sa.sa_family == a.sa.sa_family);
        if (a.sa.sa_family == AF_INET)
            FZ_CHECK(a.sin.sin_port == b.sin.sin_port &&
                     a.sin.sin_addr.s_addr == b.sin.sin_addr.s_addr);
        else
            FZ_CHECK(a.sin6.sin6_port == b.sin6.sin6_port &&
                     memcmp(&a.sin6.sin6_addr, &b.sin6.sin6_addr, sizeof(a.sin6.sin6_addr)) == 0);
    }
    free(text);
    return 0;
}
