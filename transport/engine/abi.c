/*
 * abi.c - the layouts of the versioned structs, one row per
 * DTLSUDP_CONFIG_VERSION (the rule is in dtlsudp.h, "Versioned structs").
 *
 * A version's row records where each struct ended in that version.  Fields
 * are only appended, so an older struct is a prefix of the current one:
 * reading copies that prefix over the defaults, writing fills only that
 * prefix.  Structs embedding other versioned structs (the listener and
 * connection configs and stats) shift when an embedded one grows: V2 grew
 * dtlsudp_engine_config, so the listener and connection configs are copied
 * in two parts (copy_fields()); a version that grows dtlsudp_stats must do
 * the same for the net and connection stats.
 */
#include "config.h"

#include <string.h>

#include "abi.h"

/* Where a struct ends: its last field. */
#define END_OF(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

/* dtlsudp_listener_config and dtlsudp_conn_config begin with a
 * dtlsudp_engine_config, so the fields after it sit where the engine
 * config of the caller's version ended (rounded up to its alignment, as
 * the compiler laid it out).  A field of these structs ends, in an older
 * version, as far before its current end as the engine config grew. */
#define ALIGN_UP(n, a) (((n) + (a) - 1) / (a) * (a))
#define ENGINE_EMBEDDED(end) ALIGN_UP((end), _Alignof(dtlsudp_engine_config))
#define END_AFTER_ENGINE(type, last, engine_embedded)                                                     \
    (END_OF(type, last) - sizeof(dtlsudp_engine_config) + (engine_embedded))

/* The engine config's end in each version: these must never change. */
#define ENGINE_V1_END END_OF(dtlsudp_engine_config, user)
#define ENGINE_V2_END END_OF(dtlsudp_engine_config, chain)
#define ENGINE_V3_END END_OF(dtlsudp_engine_config, identity_sha256)

_Static_assert(ENGINE_EMBEDDED(ENGINE_V3_END) == sizeof(dtlsudp_engine_config),
               "a field appended to dtlsudp_engine_config needs a new version row");

static const size_t v1_sizes[DTLSUDP_ABI_N_STRUCTS] = {
    [DTLSUDP_ABI_ENGINE_CONFIG] = ENGINE_V1_END,
    [DTLSUDP_ABI_CONNECT_OPTS] = END_OF(dtlsudp_connect_opts, session_len),
    [DTLSUDP_ABI_STATS] = END_OF(dtlsudp_stats, tickets_refused),
    [DTLSUDP_ABI_LISTENER_CONFIG] =
        END_AFTER_ENGINE(dtlsudp_listener_config, v6only, ENGINE_EMBEDDED(ENGINE_V1_END)),
    [DTLSUDP_ABI_NET_STATS] = END_OF(dtlsudp_net_stats, send_dropped_full),
    [DTLSUDP_ABI_CONN_CONFIG] = END_AFTER_ENGINE(dtlsudp_conn_config, blocking, ENGINE_EMBEDDED(ENGINE_V1_END)),
    [DTLSUDP_ABI_CONN_STATS] = END_OF(dtlsudp_conn_stats, net),
};

/* V2 appended dtlsudp_listener_config.reuse_port and the identity objects
 * of dtlsudp_engine_config (cert, key, chain); the listener and connection
 * configs, which embed the engine config, moved with it. */
static const size_t v2_sizes[DTLSUDP_ABI_N_STRUCTS] = {
    [DTLSUDP_ABI_ENGINE_CONFIG] = ENGINE_V2_END,
    [DTLSUDP_ABI_CONNECT_OPTS] = END_OF(dtlsudp_connect_opts, session_len),
    [DTLSUDP_ABI_STATS] = END_OF(dtlsudp_stats, tickets_refused),
    [DTLSUDP_ABI_LISTENER_CONFIG] =
        END_AFTER_ENGINE(dtlsudp_listener_config, reuse_port, ENGINE_EMBEDDED(ENGINE_V2_END)),
    [DTLSUDP_ABI_NET_STATS] = END_OF(dtlsudp_net_stats, send_dropped_full),
    [DTLSUDP_ABI_CONN_CONFIG] = END_AFTER_ENGINE(dtlsudp_conn_config, blocking, ENGINE_EMBEDDED(ENGINE_V2_END)),
    [DTLSUDP_ABI_CONN_STATS] = END_OF(dtlsudp_conn_stats, net),
};

/* V3 appended the identity on demand of dtlsudp_engine_config
 * (identity_cb, identity_sha256); the listener and connection configs moved
 * with it. */
static const size_t v3_sizes[DTLSUDP_ABI_N_STRUCTS] = {
    [DTLSUDP_ABI_ENGINE_CONFIG] = ENGINE_V3_END,
    [DTLSUDP_ABI_CONNECT_OPTS] = END_OF(dtlsudp_connect_opts, session_len),
    [DTLSUDP_ABI_STATS] = END_OF(dtlsudp_stats, tickets_refused),
    [DTLSUDP_ABI_LISTENER_CONFIG] =
        END_AFTER_ENGINE(dtlsudp_listener_config, reuse_port, ENGINE_EMBEDDED(ENGINE_V3_END)),
    [DTLSUDP_ABI_NET_STATS] = END_OF(dtlsudp_net_stats, send_dropped_full),
    [DTLSUDP_ABI_CONN_CONFIG] = END_AFTER_ENGINE(dtlsudp_conn_config, blocking, ENGINE_EMBEDDED(ENGINE_V3_END)),
    [DTLSUDP_ABI_CONN_STATS] = END_OF(dtlsudp_conn_stats, net),
};

/* Rows indexed by version; row 0 (no such version) stays empty.  A field
 * appended without a new row is caught by the ABI baseline (make
 * check-abi), not here. */
static const size_t *const layouts[] = {NULL, v1_sizes, v2_sizes, v3_sizes};
#define N_VERSIONS (sizeof(layouts) / sizeof(layouts[0]))

_Static_assert(N_VERSIONS == DTLSUDP_CONFIG_VERSION + 1, "one layout row per DTLSUDP_CONFIG_VERSION");

size_t eng_abi_size(int version, enum eng_abi_struct which)
{
    if (version <= 0 || (size_t)version >= N_VERSIONS || (unsigned)which >= DTLSUDP_ABI_N_STRUCTS)
        return 0;
    return layouts[version][which];
}

static int embeds_engine_config(enum eng_abi_struct which)
{
    return which == DTLSUDP_ABI_LISTENER_CONFIG || which == DTLSUDP_ABI_CONN_CONFIG;
}

/* Copy the fields `version' had from src to dst, one of them the caller's
 * struct and the other the library's current one (dst_is_current says
 * which).  A struct without an embedded engine config is a prefix of the
 * current one; one with it is copied in two parts: the engine config's
 * fields of that version, then the fields after it, which in the caller's
 * struct start where that version's engine config ended.  The caller's
 * padding is never copied into ours. */
static void copy_fields(int version, enum eng_abi_struct which, void *dst, const void *src, int dst_is_current)
{
    const size_t n = layouts[version][which];
    size_t head = n, their_tail_at = n, our_tail_at = n;

    if (embeds_engine_config(which)) {
        head = layouts[version][DTLSUDP_ABI_ENGINE_CONFIG];
        their_tail_at = ENGINE_EMBEDDED(head);
        our_tail_at = sizeof(dtlsudp_engine_config);
    }
    memcpy(dst, src, head);
    memcpy((unsigned char *)dst + (dst_is_current ? our_tail_at : their_tail_at),
           (const unsigned char *)src + (dst_is_current ? their_tail_at : our_tail_at), n - their_tail_at);
}

int eng_abi_read(int version, enum eng_abi_struct which, void *cur, const void *in)
{
    if (eng_abi_size(version, which) == 0 || cur == NULL || in == NULL)
        return DTLSUDP_ERR_INVALID;
    copy_fields(version, which, cur, in, 1);
    return DTLSUDP_OK;
}

int eng_abi_write(int version, enum eng_abi_struct which, void *out, const void *cur)
{
    if (eng_abi_size(version, which) == 0 || out == NULL || cur == NULL)
        return DTLSUDP_ERR_INVALID;
    copy_fields(version, which, out, cur, 0);
    return DTLSUDP_OK;
}
