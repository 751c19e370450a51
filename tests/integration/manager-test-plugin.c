/*
 * manager-test-plugin.c - a stand-in transport plugin for the loader tests.
 *
 * Exports the same entry points as dtlsudp-transport.so and registers a
 * domain with snmpDTLSUDPDomain's OID and prefixes whose transports do
 * nothing, so that manager-tdomain-probe can tell whether the loader put
 * it in charge of "dtlsudp:" (its send hook lives in this object).  It
 * takes the domain over with netsnmp_tdomain_register_override() when
 * libnetsnmp has it (snmplib-patches/0002), and otherwise relies on being
 * registered before libnetsnmp's built-ins (the preload path).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_DEFAULT */
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT int dtlsudp_transport_init(void);
EXPORT void dtlsudp_transport_shutdown(void);

static const oid dtls_domain_oid[] = {1, 3, 6, 1, 6, 1, 9};
static netsnmp_tdomain test_domain;
static int registered;

static int test_send(netsnmp_transport *t, const void *buf, int len, void **opaque, int *olen)
{
    return -1;
}

static int test_recv(netsnmp_transport *t, void *buf, int len, void **opaque, int *olen)
{
    return -1;
}

static int test_close(netsnmp_transport *t)
{
    return 0;
}

static netsnmp_transport *test_create(const char *str, int local, const char *default_target)
{
    netsnmp_transport *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->domain = dtls_domain_oid;
    t->domain_length = OID_LENGTH(dtls_domain_oid);
    t->sock = -1;
    t->f_send = test_send;
    t->f_recv = test_recv;
    t->f_close = test_close;
    return t;
}

int dtlsudp_transport_init(void)
{
    union {
        void *ptr;
        int (*fn)(netsnmp_tdomain *);
    } override;
    static const char *const prefixes[] = {"dtlsudp", "dtls", "dtlsudp6", "dtls6"};
    const char **prefix;

    if (registered)
        return 0;
    /* libnetsnmp frees the prefix array in netsnmp_clear_tdomain_list(). */
    prefix = calloc(5, sizeof(*prefix));
    if (prefix == NULL)
        return -1;
    memcpy(prefix, prefixes, sizeof(prefixes));
    memset(&test_domain, 0, sizeof(test_domain));
    test_domain.name = dtls_domain_oid;
    test_domain.name_length = OID_LENGTH(dtls_domain_oid);
    test_domain.prefix = prefix;
    test_domain.f_create_from_tstring_new = test_create;

    override.ptr = dlsym(RTLD_DEFAULT, "netsnmp_tdomain_register_override");
    if (override.ptr != NULL)
        override.fn(&test_domain);
    else if (netsnmp_tdomain_register(&test_domain) != 1)
        return -1;
    registered = 1;
    return 0;
}

void dtlsudp_transport_shutdown(void)
{
    registered = 0;
}
