/*
 * mibs-testmod.c - a test dlmod for snmpd that serves the plugin's MIB
 * modules (agent-plugin/mib/libdtlsudpmib.la) over a fake statistics
 * provider, so the handlers can be walked over plain udp with a real snmpd
 * independently of the transport.
 *
 * snmpd.conf:  dlmod dtlsudpmibtest /path/to/.libs/mibs-testmod.so
 *
 * The fake provider implements transport/snmp/snmp_transport.h with values
 * the test script can predict (see mibs-walk.sh):
 *   listener l (0, 1), field number n:  1000 * (l + 1) + n
 *   listener 0 "127.0.0.1:10161" osnet, listener 1 "[::1]:10161" router
 *   total: the sum over listeners, except
 *     bytes_in (25)    = 2^33 + 25   (exercises Counter64 high word)
 *     assocs_peak (10) = 2^32 + 10   (Gauge32 reads as 4294967295)
 * and it adds n to libnetsnmp's STAT_TLSTM_* statistic number n (1..10)
 * and 100 + n to STAT_TSM_* number n (1..4) at init.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <stdio.h>
#include <string.h>

#include "mib.h"
#include "mib_internal.h"
#include "snmp_transport.h"

#define EXPORT __attribute__((visibility("default")))
#define N_LISTENERS 2

static uint64_t fake_value(size_t listener, unsigned number)
{
    return 1000u * (listener + 1) + number;
}

static void fill_stats(dtlsudp_stats *s, size_t listener)
{
    size_t i;

    memset(s, 0, sizeof(*s));
    for (i = 0; i < mib_stat_field_count; i++) {
        uint64_t v = fake_value(listener, mib_stat_fields[i].number);

        memcpy((unsigned char *)s + mib_stat_fields[i].offset, &v, sizeof(v));
    }
}

size_t dtlsudp_snmp_listener_count(void)
{
    return N_LISTENERS;
}

int dtlsudp_snmp_listener_get(size_t i, dtlsudp_snmp_listener_info *out)
{
    if (i >= N_LISTENERS)
        return -1;
    memset(out, 0, sizeof(*out));
    snprintf(out->address, sizeof(out->address), "%s", i == 0 ? "127.0.0.1:10161" : "[::1]:10161");
    out->demux = i == 0 ? DTLSUDP_DEMUX_OSNET : DTLSUDP_DEMUX_ROUTER;
    fill_stats(&out->stats, i);
    return 0;
}

void dtlsudp_snmp_stats_total(dtlsudp_stats *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < mib_stat_field_count; i++) {
        const mib_stat_field *f = &mib_stat_fields[i];
        uint64_t v = fake_value(0, f->number) + fake_value(1, f->number);

        if (f->offset == offsetof(dtlsudp_stats, bytes_in))
            v = (UINT64_C(1) << 33) + f->number;
        if (f->offset == offsetof(dtlsudp_stats, assocs_peak))
            v = (UINT64_C(1) << 32) + f->number;
        memcpy((unsigned char *)out + f->offset, &v, sizeof(v));
    }
}

EXPORT void init_dtlsudpmibtest(void);
EXPORT void deinit_dtlsudpmibtest(void);

void init_dtlsudpmibtest(void)
{
    static int counted;
    int n;

    if (!counted) {
        for (n = 0; n <= STAT_TLSTM_STATS_END - STAT_TLSTM_STATS_START; n++)
            snmp_increment_statistic_by(STAT_TLSTM_STATS_START + n, n + 1);
        for (n = 0; n <= STAT_TSM_STATS_END - STAT_TSM_STATS_START; n++)
            snmp_increment_statistic_by(STAT_TSM_STATS_START + n, 100 + n + 1);
        counted = 1;
    }
    /* Twice, as a SIGHUP would: the second call must change nothing. */
    if (dtlsudp_mib_init() != 0 || dtlsudp_mib_init() != 0)
        snmp_log(LOG_ERR, "mibs-testmod: dtlsudp_mib_init failed\n");
    else
        snmp_log(LOG_INFO, "mibs-testmod: MIB modules registered\n");
}

void deinit_dtlsudpmibtest(void)
{
    dtlsudp_mib_shutdown();
}
