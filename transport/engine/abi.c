/*
 * abi.c - the layouts of the versioned structs, one row per
 * DTLSUDP_CONFIG_VERSION (the rule is in dtlsudp.h, "Versioned structs").
 *
 * A version's row records where each struct ended in that version.  Fields
 * are only appended, so an older struct is a prefix of the current one:
 * reading copies that prefix over the defaults, writing fills only that
 * prefix.  Structs embedding other versioned structs (the listener and
 * connection configs and stats) shift when an embedded one grows; a
 * version bump that grows dtlsudp_engine_config or dtlsudp_stats must
 * therefore convert those field by field in eng_abi_read()/_write()
 * instead of copying a prefix.
 */
#include "config.h"

#include <string.h>

#include "abi.h"

/* Where a V1 struct ends: its last V1 field.  Later versions add a row
 * naming their own last fields; these must never change. */
#define END_OF(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

static const size_t v1_sizes[DTLSUDP_ABI_N_STRUCTS] = {
    [DTLSUDP_ABI_ENGINE_CONFIG] = END_OF(dtlsudp_engine_config, user),
    [DTLSUDP_ABI_CONNECT_OPTS] = END_OF(dtlsudp_connect_opts, session_len),
    [DTLSUDP_ABI_STATS] = END_OF(dtlsudp_stats, tickets_refused),
    [DTLSUDP_ABI_LISTENER_CONFIG] = END_OF(dtlsudp_listener_config, v6only),
    [DTLSUDP_ABI_NET_STATS] = END_OF(dtlsudp_net_stats, send_dropped_full),
    [DTLSUDP_ABI_CONN_CONFIG] = END_OF(dtlsudp_conn_config, blocking),
    [DTLSUDP_ABI_CONN_STATS] = END_OF(dtlsudp_conn_stats, net),
};

/* V2 appended dtlsudp_listener_config.reuse_port; the listener config is
 * embedded in no other struct, so nothing else moved. */
static const size_t v2_sizes[DTLSUDP_ABI_N_STRUCTS] = {
    [DTLSUDP_ABI_ENGINE_CONFIG] = END_OF(dtlsudp_engine_config, user),
    [DTLSUDP_ABI_CONNECT_OPTS] = END_OF(dtlsudp_connect_opts, session_len),
    [DTLSUDP_ABI_STATS] = END_OF(dtlsudp_stats, tickets_refused),
    [DTLSUDP_ABI_LISTENER_CONFIG] = END_OF(dtlsudp_listener_config, reuse_port),
    [DTLSUDP_ABI_NET_STATS] = END_OF(dtlsudp_net_stats, send_dropped_full),
    [DTLSUDP_ABI_CONN_CONFIG] = END_OF(dtlsudp_conn_config, blocking),
    [DTLSUDP_ABI_CONN_STATS] = END_OF(dtlsudp_conn_stats, net),
};

/* Rows indexed by version; row 0 (no such version) stays empty.  A field
 * appended without a new row is caught by the ABI baseline (make
 * check-abi), not here. */
static const size_t *const layouts[] = {NULL, v1_sizes, v2_sizes};
#define N_VERSIONS (sizeof(layouts) / sizeof(layouts[0]))

_Static_assert(N_VERSIONS == DTLSUDP_CONFIG_VERSION + 1, "one layout row per DTLSUDP_CONFIG_VERSION");

size_t eng_abi_size(int version, enum eng_abi_struct which)
{
    if (version <= 0 || (size_t)version >= N_VERSIONS || (unsigned)which >= DTLSUDP_ABI_N_STRUCTS)
        return 0;
    return layouts[version][which];
}

int eng_abi_read(int version, enum eng_abi_struct which, void *cur, const void *in)
{
    size_t n = eng_abi_size(version, which);

    if (n == 0 || cur == NULL || in == NULL)
        return DTLSUDP_ERR_INVALID;
    memcpy(cur, in, n);
    return DTLSUDP_OK;
}

int eng_abi_write(int version, enum eng_abi_struct which, void *out, const void *cur)
{
    size_t n = eng_abi_size(version, which);

    if (n == 0 || out == NULL || cur == NULL)
        return DTLSUDP_ERR_INVALID;
    memcpy(out, cur, n);
    return DTLSUDP_OK;
}
