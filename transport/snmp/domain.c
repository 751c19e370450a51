/*
 * domain.c - registering the dtlsudp transport domain with libnetsnmp.
 *
 * Two tdomain entries: snmpDTLSUDPDomain (1.3.6.1.6.1.9) with the prefixes
 * "dtlsudp" and "dtls" (IPv4, or IPv6 for bracketed/colon-rich addresses),
 * and "dtlsudp6"/"dtls6" (always IPv6) under a private OID, because
 * libnetsnmp strips the prefix before calling the constructor and refuses
 * a second domain with the same OID.  Transports of both carry the real
 * snmpDTLSUDPDomain OID.
 *
 * Taking over from a built-in DTLSUDP (Debian's libnetsnmp has one):
 * find_tdomain() returns the first prefix match and netsnmp_tdomain_register()
 * appends, refusing a duplicate OID.  So when libnetsnmp's domains are
 * already registered (the agent plugin runs inside read_configs), the list
 * is rebuilt with ours first: netsnmp_clear_tdomain_list(), register ours,
 * netsnmp_tdomain_init() (the built-in DTLSUDP is then refused as a
 * duplicate OID).  When nothing is registered yet (a preload constructor
 * running before init_snmp), a plain register is enough: the built-in's
 * later registration is refused the same way.
 */
#include <config.h>

#include "snmp_internal.h"

#include <stdlib.h>
#include <string.h>

/* Private marker OID for the IPv6-only prefixes, in the style of Net-SNMP's
 * udpshared domain (1.3.6.1.2.1.100.1.999).  Never sent on the wire. */
static const oid domain6_oid[] = {1, 3, 6, 1, 2, 1, 100, 1, 996};

static netsnmp_tdomain domain_any;
static netsnmp_tdomain domain6;

static netsnmp_transport *create_any(const char *text, int local, const char *default_target)
{
    dtlsudp_addr a;

    if (dtlsudp_snmp_addr_parse(text, default_target, AF_UNSPEC, &a) != 0)
        return NULL;
    /* dtlsudp:[::]:p is dual-stack, like the socket layer's "[::]". */
    return dtlsudp_snmp_transport_open(&a, local, 0, text);
}

static netsnmp_transport *create_v6(const char *text, int local, const char *default_target)
{
    dtlsudp_addr a;

    if (dtlsudp_snmp_addr_parse(text, default_target, AF_INET6, &a) != 0)
        return NULL;
    /* dtlsudp6: is IPv6 only, so that "agentAddress dtlsudp:10161,
     * dtlsudp6:[::]:10161" binds both families, as udp/udp6 do. */
    return dtlsudp_snmp_transport_open(&a, local, 1, text);
}

static netsnmp_transport *create_ostring(const void *o, size_t len, int local)
{
    dtlsudp_addr a;

    if (dtlsudp_snmp_addr_from_ostring(o, len, &a) != 0)
        return NULL;
    return dtlsudp_snmp_transport_open(&a, local, 0, NULL);
}

/* netsnmp_clear_tdomain_list() frees each prefix array (not the strings),
 * so the arrays are heap-allocated and rebuilt on every registration. */
static const char **prefix_array(const char *a, const char *b)
{
    const char **p = calloc(3, sizeof(*p));

    if (p != NULL) {
        p[0] = a;
        p[1] = b;
    }
    return p;
}

static int is_registered(const oid *name, size_t len)
{
    return netsnmp_tdomain_support(name, len, NULL, NULL);
}

int dtlsudp_snmp_domain_register(void)
{
    int builtins_present;

    /* The transport keeps its timers with snmp_alarm.  In an application
     * that leaves libnetsnmp's default, those fire from a SIGALRM handler,
     * that is in the middle of whatever the program was doing (malloc,
     * OpenSSL): heap corruption.  Event loops (snmpd, snmptrapd, async
     * managers) run the alarms themselves with this flag set, and
     * synchronous requests never run them (NETSNMP_SELECT_NOALARMS): the
     * transport drives its timers from its send and receive hooks there.
     * Set on every registration, whoever loads the transport. */
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
    /* Certificate lines are resolved as they are read, so that a name
     * that finds nothing is reported with its file and line. */
    dtlsudp_snmp_cert_check_install(dtlsudp_snmp_certs_check_name);
    /* What certificate lines resolved to is remembered under a stamp of
     * the tree the store loads from (certmemo.c). */
    dtlsudp_snmp_cert_memo_install();

    /* Our private IPv6 OID is the marker: present means registered. */
    if (is_registered(domain6_oid, sizeof(domain6_oid) / sizeof(oid)))
        return 0;

    memset(&domain_any, 0, sizeof(domain_any));
    memset(&domain6, 0, sizeof(domain6));
    domain_any.name = dtlsudp_snmp_domain_oid;
    domain_any.name_length = dtlsudp_snmp_domain_oid_len;
    domain_any.prefix = prefix_array("dtlsudp", "dtls");
    domain_any.f_create_from_tstring_new = create_any;
    domain_any.f_create_from_ostring = create_ostring;
    domain6.name = domain6_oid;
    domain6.name_length = sizeof(domain6_oid) / sizeof(oid);
    domain6.prefix = prefix_array("dtlsudp6", "dtls6");
    domain6.f_create_from_tstring_new = create_v6;
    domain6.f_create_from_ostring = create_ostring;
    if (domain_any.prefix == NULL || domain6.prefix == NULL) {
        free(domain_any.prefix);
        free(domain6.prefix);
        domain_any.prefix = domain6.prefix = NULL;
        return -1;
    }

    builtins_present = is_registered(dtlsudp_snmp_domain_oid, dtlsudp_snmp_domain_oid_len) ||
                       is_registered(netsnmpUDPDomain, netsnmpUDPDomain_len);
    if (builtins_present) {
        DEBUGMSGTL(("dtlsudp", "rebuilding the transport domain list with dtlsudp first\n"));
        netsnmp_clear_tdomain_list();
        netsnmp_tdomain_register(&domain_any);
        netsnmp_tdomain_register(&domain6);
        netsnmp_tdomain_init();
    } else {
        netsnmp_tdomain_register(&domain_any);
        netsnmp_tdomain_register(&domain6);
    }

    /* Default ports by prefix[0] (libnetsnmp registers only "dtlsudp"). */
    netsnmp_register_default_target("snmp", "dtlsudp6", ":10161");
    netsnmp_register_default_target("snmptrap", "dtlsudp6", ":10162");
    netsnmp_register_default_target("snmp", "dtlsudp", ":10161");
    netsnmp_register_default_target("snmptrap", "dtlsudp", ":10162");
    DEBUGMSGTL(("dtlsudp", "transport domain registered\n"));
    return 0;
}

void dtlsudp_snmp_domain_unregister(void)
{
    /* netsnmp_tdomain_unregister() unlinks with the caller's struct and
     * frees its prefix (see the facts notes), so it is used only with the
     * exact structs registered above, and only while they are listed. */
    if (!is_registered(domain6_oid, sizeof(domain6_oid) / sizeof(oid)))
        return;
    netsnmp_tdomain_unregister(&domain6);
    netsnmp_tdomain_unregister(&domain_any);
}
