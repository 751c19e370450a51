/*
 * table.c - the peer table: a chained hash keyed by (family, address,
 * port, scope id) for O(1) lookup, and a second chain by address alone
 * that counts associations per source for max_per_source.  Buckets are
 * sized from max_assocs (load <= 1) and the hash is seeded per engine from
 * the injected random, so remote peers cannot aim at one bucket.
 */
#include "config.h"

#include <string.h>

#include "engine_internal.h"

/* with_port 1: the peer table; 0: the source table, keyed by admission
 * source (IPv4 address, IPv6 /64). */
static size_t bucket(const dtlsudp_engine *e, const dtlsudp_addr *a, int with_port)
{
    return (size_t)(eng_addr_hash(a, e->hash_seed, with_port ? 1 : -1) & e->table_mask);
}

dtlsudp_assoc *eng_table_find(const dtlsudp_engine *e, const dtlsudp_addr *peer)
{
    dtlsudp_assoc *a;

    for (a = e->table[bucket(e, peer, 1)]; a != NULL; a = a->hash_next)
        if (dtlsudp_addr_equal(&a->peer, peer))
            return a;
    return NULL;
}

void eng_table_insert(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    size_t b = bucket(e, &a->peer, 1), s = bucket(e, &a->peer, 0);

    a->hash_next = e->table[b];
    e->table[b] = a;
    a->src_next = e->src_table[s];
    e->src_table[s] = a;
    a->in_table = 1;
}

void eng_table_remove(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    dtlsudp_assoc **pp;

    if (!a->in_table)
        return;
    for (pp = &e->table[bucket(e, &a->peer, 1)]; *pp != NULL; pp = &(*pp)->hash_next)
        if (*pp == a) {
            *pp = a->hash_next;
            break;
        }
    for (pp = &e->src_table[bucket(e, &a->peer, 0)]; *pp != NULL; pp = &(*pp)->src_next)
        if (*pp == a) {
            *pp = a->src_next;
            break;
        }
    a->hash_next = a->src_next = NULL;
    a->in_table = 0;
}

/* Associations from the same IP address (any port).  The walk is bounded
 * by max_per_source plus hash collisions.  With `idlest', also the
 * established association of that source that has been quiet longest and
 * that could be closed now (not busy, no restart pending), or NULL. */
size_t eng_table_source_count(const dtlsudp_engine *e, const dtlsudp_addr *peer, dtlsudp_assoc **idlest)
{
    dtlsudp_assoc *a;
    size_t n = 0;

    if (idlest != NULL)
        *idlest = NULL;
    for (a = e->src_table[bucket(e, peer, 0)]; a != NULL; a = a->src_next) {
        if (!eng_addr_same_source(&a->peer, peer))
            continue;
        n++;
        if (idlest != NULL && a->state == DTLSUDP_STATE_ESTABLISHED && a->busy == 0 && a->successor == NULL &&
            (*idlest == NULL || a->last_activity < (*idlest)->last_activity))
            *idlest = a;
    }
    return n;
}

/* One walk over the source's chain: bounded by what the source holds
 * (max_per_source + max_half_open_per_source) plus hash collisions. */
void eng_table_source_scan(const dtlsudp_engine *e, const dtlsudp_addr *peer, dtlsudp_time idle_before,
                               eng_source_info *out)
{
    dtlsudp_assoc *a;

    memset(out, 0, sizeof(*out));
    for (a = e->src_table[bucket(e, peer, 0)]; a != NULL; a = a->src_next) {
        if (!eng_addr_same_source(&a->peer, peer))
            continue;
        if (a->state == DTLSUDP_STATE_ESTABLISHED) {
            out->established++;
            if (a->busy == 0 && a->successor == NULL && !a->freeing &&
                (out->idlest == NULL || a->last_activity < out->idlest->last_activity))
                out->idlest = a;
        } else if (a->counted_half_open) {
            out->half_open++;
            if (a->last_activity <= idle_before)
                out->half_open_idle++;
            if (a->busy == 0 && !a->freeing &&
                (out->idlest_half_open == NULL || a->last_activity < out->idlest_half_open->last_activity))
                out->idlest_half_open = a;
        }
    }
}

size_t eng_count(const dtlsudp_engine *e)
{
    return (size_t)e->stats.assocs_now;
}

dtlsudp_assoc *dtlsudp_engine_find(dtlsudp_engine *e, const dtlsudp_addr *peer)
{
    if (e == NULL || peer == NULL)
        return NULL;
    return eng_table_find(e, peer);
}
