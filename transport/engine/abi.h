/*
 * abi.h - the versioned structs of dtlsudp.h (DTLSUDP_CONFIG_VERSION): the
 * layout each version had, and the copies between a caller's version and
 * the library's current one.  Shared by the engine and the socket layer.
 */
#ifndef DTLSUDP_ABI_H
#define DTLSUDP_ABI_H

#include <stddef.h>

#include "dtlsudp.h"

enum eng_abi_struct {
    DTLSUDP_ABI_ENGINE_CONFIG,
    DTLSUDP_ABI_CONNECT_OPTS,
    DTLSUDP_ABI_STATS,
    DTLSUDP_ABI_LISTENER_CONFIG,
    DTLSUDP_ABI_NET_STATS,
    DTLSUDP_ABI_CONN_CONFIG,
    DTLSUDP_ABI_CONN_STATS,
    DTLSUDP_ABI_N_STRUCTS
};

/* sizeof(`which') as a caller built against `version' sees it, or 0 when
 * the library does not know that version (0, negative, newer). */
size_t eng_abi_size(int version, enum eng_abi_struct which);

/* A struct the caller passed in: copy the fields its version had over the
 * current-layout `cur', which already holds the defaults.  Returns OK or
 * INVALID (unknown version). */
int eng_abi_read(int version, enum eng_abi_struct which, void *cur, const void *in);

/* A struct the library fills: copy the current-layout `cur' out, only the
 * caller's version's fields, never past its sizeof.  Returns OK or INVALID
 * (unknown version). */
int eng_abi_write(int version, enum eng_abi_struct which, void *out, const void *cur);

#endif
