/*
 * mib_util.c - pure helpers of the MIB modules: the DTLSUDP-MIB field
 * table, value mapping, SnmpTLSFingerprint encoding, change tracking.
 * Nothing here needs the agent, so unit tests can exercise all of it;
 * the only Net-SNMP call is libnetsnmp's hex reader, and the hash numbers
 * and digest lengths come from transport/snmp's one table (hashalg.h).
 */
#include "mib_internal.h"
#include "hashalg.h"

#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#define FIELD(n, member, kind)                                                                               \
    {                                                                                                        \
        n, offsetof(dtlsudp_stats, member), kind, #member                                                    \
    }

/* DTLSUDP-MIB dtlsudpStats.<n> and dtlsudpListenerEntry.<n+3>.  Numbers
 * are part of the MIB: never renumber, only append. */
const mib_stat_field mib_stat_fields[] = {
    FIELD(1, cookies_sent, MIB_COUNTER64),
    FIELD(2, cookies_verified, MIB_COUNTER64),
    FIELD(3, cookies_bad, MIB_COUNTER64),
    FIELD(4, handshakes_started, MIB_COUNTER64),
    FIELD(5, handshakes_completed, MIB_COUNTER64),
    FIELD(6, handshakes_failed, MIB_COUNTER64),
    FIELD(7, handshakes_timed_out, MIB_COUNTER64),
    FIELD(8, cert_refused, MIB_COUNTER64),
    FIELD(9, assocs_now, MIB_GAUGE32),
    FIELD(10, assocs_peak, MIB_GAUGE32),
    FIELD(11, half_open_now, MIB_GAUGE32),
    FIELD(12, evictions, MIB_COUNTER64),
    FIELD(13, refused_full, MIB_COUNTER64),
    FIELD(14, restarts, MIB_COUNTER64),
    FIELD(15, idle_expired, MIB_COUNTER64),
    FIELD(16, closes_sent, MIB_COUNTER64),
    FIELD(17, closes_received, MIB_COUNTER64),
    FIELD(18, alerts_received, MIB_COUNTER64),
    FIELD(19, dropped_malformed, MIB_COUNTER64),
    FIELD(20, dropped_unknown, MIB_COUNTER64),
    FIELD(21, dropped_queue, MIB_COUNTER64),
    FIELD(22, dropped_stale, MIB_COUNTER64),
    FIELD(23, datagrams_in, MIB_COUNTER64),
    FIELD(24, datagrams_out, MIB_COUNTER64),
    FIELD(25, bytes_in, MIB_COUNTER64),
    FIELD(26, bytes_out, MIB_COUNTER64),
    FIELD(27, half_open_evicted, MIB_COUNTER64),
    FIELD(28, source_displaced, MIB_COUNTER64),
    FIELD(29, handshakes_resumed, MIB_COUNTER64),
    FIELD(30, tickets_issued, MIB_COUNTER64),
    FIELD(31, tickets_refused, MIB_COUNTER64),
};
const size_t mib_stat_field_count = sizeof(mib_stat_fields) / sizeof(mib_stat_fields[0]);

const mib_stat_field *mib_stat_field_find(unsigned number)
{
    size_t i;

    for (i = 0; i < mib_stat_field_count; i++)
        if (mib_stat_fields[i].number == number)
            return &mib_stat_fields[i];
    return NULL;
}

uint64_t mib_stat_value(const dtlsudp_stats *s, const mib_stat_field *f)
{
    uint64_t v;

    memcpy(&v, (const unsigned char *)s + f->offset, sizeof(v));
    return v;
}

uint32_t mib_gauge32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

long mib_demux_value(int demux)
{
    switch (demux) {
    case DTLSUDP_DEMUX_OSNET:
        return MIB_DEMUX_OSNET;
    case DTLSUDP_DEMUX_ROUTER:
        return MIB_DEMUX_ROUTER;
    default:
        return MIB_DEMUX_OTHER;
    }
}

int mib_fingerprint_encode(int hash_type, const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 1;
    u_char *p = out;

    if (hex == NULL || out == NULL || cap < 1 || hash_type < 0 || hash_type > 255)
        return -1;
    out[0] = (uint8_t)hash_type;
    /* Net-SNMP stores the digest as hex, optionally with ':' between
     * octets; its own reader parses it (and refuses an odd count). */
    if (!netsnmp_hex_to_binary(&p, &cap, &n, 0, hex, ":"))
        return -1;
    /* No digest at all is not a fingerprint. */
    if (n == 1)
        return -1;
    /* Net-SNMP records SHA-1 for a certSecName line without --shaNN even
     * when the fingerprint it stores is longer (e.g. SHA-256 of a
     * certificate it found by name): name the hash the bytes really are. */
    if (dtlsudp_snmp_hash_length(hash_type) != n - 1 && dtlsudp_snmp_hash_for_length(n - 1) > 0)
        out[0] = (uint8_t)dtlsudp_snmp_hash_for_length(n - 1);
    return (int)n;
}

long mib_storage_type(unsigned flags)
{
    if (flags & 0x01) /* *_FROM_CONFIG */
        return 4;     /* permanent */
    if (flags & 0x04) /* *_NONVOLATILE */
        return 3;     /* nonVolatile */
    return 2;         /* volatile */
}

mib_signature mib_signature_add(mib_signature sig, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++) {
        sig ^= p[i];
        sig *= UINT64_C(0x100000001b3);
    }
    return sig;
}

mib_signature mib_signature_add_str(mib_signature sig, const char *s)
{
    /* Length first, so ("ab","c") and ("a","bc") differ; NULL differs from "". */
    size_t len = s ? strlen(s) + 1 : 0;

    sig = mib_signature_add(sig, &len, sizeof(len));
    return s ? mib_signature_add(sig, s, len) : sig;
}

void mib_change_observe(mib_change_tracker *t, mib_signature sig, uint32_t now)
{
    if (!t->seen) {
        t->seen = 1;
        t->sig = sig;
        return;
    }
    if (t->sig != sig) {
        t->sig = sig;
        /* TimeStamp 0 means "no change since re-initialization"; a change
         * in the first centisecond still has to read as a change. */
        t->last_changed = now ? now : 1;
    }
}
