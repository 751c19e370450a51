/*
 * mib_internal.h - shared pieces of the agent plugin's MIB modules.
 *
 * The pure helpers (field table, value mapping, fingerprint encoding,
 * change signatures) need neither the agent nor a running snmpd, so unit
 * tests link them directly (tests/mib/test_mib_util.c).
 */
#ifndef DTLSUDP_AGENT_MIB_INTERNAL_H
#define DTLSUDP_AGENT_MIB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "dtlsudp.h"

/* ------------------------------------------------------------------------
 * OIDs
 * ------------------------------------------------------------------------ */

/* SNMP-TLS-TM-MIB (RFC 6353, RFC 9456): mib-2.198 */
#define MIB_TLSTM_OID 1, 3, 6, 1, 2, 1, 198
/* SNMP-TSM-MIB (RFC 5591): mib-2.190 */
#define MIB_TSM_OID 1, 3, 6, 1, 2, 1, 190
/* DTLSUDP-MIB: experimental.6353, provisional (see mibs/DTLSUDP-MIB.txt). */
#define MIB_DTLSUDP_OID 1, 3, 6, 1, 3, 6353

/* ------------------------------------------------------------------------
 * DTLSUDP-MIB: one row of the field table per dtlsudp_stats member
 * ------------------------------------------------------------------------ */

enum mib_value_kind {
    MIB_COUNTER64 = 1, /* Counter64, the value as is */
    MIB_GAUGE32 = 2,   /* Gauge32, clamped to 2^32-1 */
};

typedef struct mib_stat_field {
    unsigned number;  /* dtlsudpStats.<number>; listener column number+3 */
    size_t offset;    /* offsetof(dtlsudp_stats, member) */
    int kind;         /* enum mib_value_kind */
    const char *name; /* the struct member, for tests and debugging */
} mib_stat_field;

/* The listener table's first statistics column is this + field number. */
#define MIB_LISTENER_STATS_COLUMN_BASE 3
#define MIB_LISTENER_COLUMN_ADDRESS 2
#define MIB_LISTENER_COLUMN_DEMUX 3

extern const mib_stat_field mib_stat_fields[];
extern const size_t mib_stat_field_count;

/* The field with dtlsudpStats number `number', or NULL. */
const mib_stat_field *mib_stat_field_find(unsigned number);
/* The raw value of a field. */
uint64_t mib_stat_value(const dtlsudp_stats *s, const mib_stat_field *f);
/* Gauge32 semantics: values above 2^32-1 read as 2^32-1 (RFC 2578 7.1.7). */
uint32_t mib_gauge32(uint64_t v);

/* DtlsudpDemux values. */
enum { MIB_DEMUX_OSNET = 1, MIB_DEMUX_ROUTER = 2, MIB_DEMUX_OTHER = 3 };
/* DTLSUDP_DEMUX_* -> DtlsudpDemux. */
long mib_demux_value(int demux);

/* ------------------------------------------------------------------------
 * SNMP-TLS-TM-MIB helpers
 * ------------------------------------------------------------------------ */

/* SnmpTLSFingerprint (RFC 6353 section 7, RFC 9456): one octet naming the
 * hash algorithm (TLS HashAlgorithm registry: 1 md5, 2 sha1, 4 sha256...),
 * then the hash bytes.  hex: hash in hex, any case, colons allowed.  When
 * hash_type's digest length disagrees with the bytes and the length names
 * a registry hash, the length wins.
 * Returns the encoded length, or -1 when hex is not hex or out is short. */
int mib_fingerprint_encode(int hash_type, const char *hex, uint8_t *out, size_t cap);

/* StorageType from Net-SNMP's row flags (NSCM_* / TLSTM_PARAMS_* /
 * TLSTM_ADDR_*, which share their values): config-file rows are
 * permanent(4), rows persisted by the agent nonVolatile(3), others
 * volatile(2). */
long mib_storage_type(unsigned flags);

/* A running FNV-1a signature of a table's content, used to notice that a
 * table changed (the *LastChanged objects). */
typedef uint64_t mib_signature;
#define MIB_SIGNATURE_INIT UINT64_C(0xcbf29ce484222325)
mib_signature mib_signature_add(mib_signature sig, const void *data, size_t len);
mib_signature mib_signature_add_str(mib_signature sig, const char *s);

/* A table's change tracker: last_changed is the agent uptime (TimeTicks)
 * of the last change observed, 0 while the table kept the content it had
 * when first observed (RFC 6353: "If no changes have occurred since the
 * last re-initialization of the local network management subsystem, this
 * object contains a zero value"). */
typedef struct mib_change_tracker {
    int seen;
    mib_signature sig;
    uint32_t last_changed;
} mib_change_tracker;

/* Record an observation of the table with signature sig at time now. */
void mib_change_observe(mib_change_tracker *t, mib_signature sig, uint32_t now);

/* ------------------------------------------------------------------------
 * Module registration (agent side)
 * ------------------------------------------------------------------------ */

/* Each returns 0 or -1; a module that fails leaves nothing registered. */
int mib_tlstm_stats_register(void);
void mib_tlstm_stats_unregister(void);
int mib_tlstm_tables_register(void);
void mib_tlstm_tables_unregister(void);
int mib_dtlsudp_register(void);
void mib_dtlsudp_unregister(void);

#endif
