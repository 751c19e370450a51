/*
 * nosession-probe.c - drives a server transport's f_send directly (no
 * traffic leaves the process) to check RFC 6353 5.2 step 3: a response
 * whose session is gone, or that names another session (tmSameSecurity /
 * tmSessionID), is dropped and counted as snmpTlstmSessionNoSessions; one
 * without a usable tmStateReference counts snmpTlstmSessionInvalidCaches.
 * The server never starts a handshake toward a manager.
 * Needs a Net-SNMP config with "localCert" (run through tests/lib's
 * tl_client).  Exit status 0 on success.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "snmp_internal.h"

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "FAIL: %s (line %d)\n", #cond, __LINE__);                                        \
            failures++;                                                                                      \
        }                                                                                                    \
    } while (0)

int main(void)
{
    netsnmp_transport *t;
    netsnmp_tmStateReference ref;
    dtlsudp_snmp_msgsrc src;
    dtlsudp_addr peer;
    void *opaque;
    int olength, failures = 0;
    u_int nosess0, invalid0;
    static const char msg[] = "not really an SNMP message";

    dtlsudp_snmp_domain_register();
    init_snmp("dtlsudp-nosession");
    t = netsnmp_tdomain_transport("dtlsudp:127.0.0.1:0", 1, NULL);
    if (t == NULL) {
        fprintf(stderr, "FAIL: no server transport (localCert configured?)\n");
        return 1;
    }
    nosess0 = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONNOSESSIONS);
    invalid0 = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCACHES);

    /* A response to a manager that has no association (any more). */
    CHECK(dtlsudp_snmp_addr_parse("127.0.0.1:9", NULL, AF_UNSPEC, &peer) == 0);
    memset(&src, 0, sizeof(src));
    src.assoc_id = 42;
    src.sec_name = "alice";
    src.security_level = SNMP_SEC_LEVEL_AUTHPRIV;
    src.remote = &peer;
    CHECK(dtlsudp_snmp_tmstate_fill(&ref, &src) == 0);
    ref.sameSecurity = NETSNMP_TM_USE_SAME_SECURITY;
    opaque = &ref;
    olength = (int)sizeof(ref);
    CHECK(t->f_send(t, msg, (int)sizeof(msg), &opaque, &olength) == -1);
    CHECK(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONNOSESSIONS) == nosess0 + 1);

    /* Not even without tmSameSecurity: a server opens no session. */
    ref.sameSecurity = NETSNMP_TM_SAME_SECURITY_NOT_REQUIRED;
    CHECK(t->f_send(t, msg, (int)sizeof(msg), &opaque, &olength) == -1);
    CHECK(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONNOSESSIONS) == nosess0 + 2);

    /* No addresses, wrong size, none at all: invalid caches. */
    ref.have_addresses = 0;
    CHECK(t->f_send(t, msg, (int)sizeof(msg), &opaque, &olength) == -1);
    olength = 8;
    CHECK(t->f_send(t, msg, (int)sizeof(msg), &opaque, &olength) == -1);
    CHECK(t->f_send(t, msg, (int)sizeof(msg), NULL, NULL) == -1);
    CHECK(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCACHES) == invalid0 + 3);

    /* fmtaddr of a tmStateReference: Net-SNMP's "[ip]:port" style. */
    {
        char *s;
        ref.have_addresses = 1;
        s = t->f_fmtaddr(t, &ref, (int)sizeof(ref));
        CHECK(s != NULL && strcmp(s, "DTLSUDP: [127.0.0.1]:9") == 0);
        free(s);
    }

    t->f_close(t);
    netsnmp_transport_free(t);
    snmp_shutdown("dtlsudp-nosession");
    if (failures == 0)
        printf("PASS: NoSessions and InvalidCaches on the server's send path\n");
    return failures == 0 ? 0 : 1;
}
