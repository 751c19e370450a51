/*
 * tmstate.c - the tmStateReference handed to the Transport Security Model
 * with every incoming message (RFC 6353 5.1.2, RFC 5591 5.2).
 */
#include <config.h>

#include "snmp_internal.h"

#include <stdlib.h>
#include <string.h>

/* snmpDTLSUDPDomain, RFC 6353 10.2: TSM derives the "dtls:" prefix
 * (tsmUseTransportPrefix) only from this exact OID. */
const oid dtlsudp_snmp_domain_oid[] = {1, 3, 6, 1, 6, 1, 9};
const size_t dtlsudp_snmp_domain_oid_len = sizeof(dtlsudp_snmp_domain_oid) / sizeof(oid);

int dtlsudp_snmp_tmstate_fill(netsnmp_tmStateReference *ref, const dtlsudp_snmp_msgsrc *src)
{
    size_t name_len;
    uint64_t id;
    int i;

    memset(ref, 0, sizeof(*ref));
    name_len = src->sec_name != NULL ? strlen(src->sec_name) : 0;
    if (name_len >= sizeof(ref->securityName))
        return -1;

    /* RFC 6353 5.1.2 step 1: tmTransportDomain and tmTransportAddress. */
    memcpy(ref->transportDomain, dtlsudp_snmp_domain_oid, sizeof(dtlsudp_snmp_domain_oid));
    ref->transportDomainLen = dtlsudp_snmp_domain_oid_len;

    /* Step 2: tmSecurityName from the certificate mapping; TSM counts an
     * empty one as snmpTsmInvalidCaches. */
    memcpy(ref->securityName, src->sec_name != NULL ? src->sec_name : "", name_len);
    ref->securityName[name_len] = '\0';
    ref->securityNameLen = name_len;
    ref->transportSecurityLevel = src->security_level;
    ref->requestedSecurityLevel = src->security_level;

    /* Step 2: tmSessionID.  The association id is unique per engine and
     * never reused, unlike a pointer (no ABA across free/alloc). */
    id = src->assoc_id;
    for (i = 0; i < 8; i++)
        ref->sessionID[i] = (char)(uint8_t)(id >> (56 - 8 * i));

    if (src->remote != NULL) {
        memcpy(&ref->addresses.remote_addr, src->remote,
               sizeof(ref->addresses.remote_addr) < sizeof(*src->remote) ? sizeof(ref->addresses.remote_addr)
                                                                         : sizeof(*src->remote));
        ref->have_addresses = 1;
    }
    if (src->local != NULL)
        memcpy(&ref->addresses.local_addr, src->local,
               sizeof(ref->addresses.local_addr) < sizeof(*src->local) ? sizeof(ref->addresses.local_addr)
                                                                       : sizeof(*src->local));
    return 0;
}

uint64_t dtlsudp_snmp_tmstate_assoc_id(const netsnmp_tmStateReference *ref)
{
    uint64_t id = 0;
    int i;

    for (i = 0; i < 8; i++)
        id = (id << 8) | (uint8_t)ref->sessionID[i];
    return id;
}

netsnmp_tmStateReference *dtlsudp_snmp_tmstate_new(const dtlsudp_snmp_msgsrc *src)
{
    netsnmp_tmStateReference *ref = malloc(sizeof(*ref));

    if (ref == NULL || dtlsudp_snmp_tmstate_fill(ref, src) != 0) {
        free(ref);
        return NULL;
    }
    return ref;
}
