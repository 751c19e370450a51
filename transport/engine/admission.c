/*
 * admission.c - who gets a slot in the peer table, one rule per function.
 *
 * The cookie gate proves that a peer receives at its address; it proves
 * nothing else.  A peer that answers the HelloVerifyRequest and goes silent
 * costs a half-open association until the handshake deadline, so what such
 * peers may take is bounded, and what they may take it from:
 *
 *   half-open (cookie verified, not authenticated)
 *     - per source (IPv4 address, IPv6 /64) at most
 *       max_half_open_per_source idle handshakes (peer silent for 3 s),
 *       and 8 times as many in all (a burst: many clients behind one
 *       address, on a slow agent, which are not evicted while fewer than
 *       the cap of them are idle).  A newcomer beyond either limit evicts
 *       the source's most silent handshake, so a flooder can only push out
 *       its own handshakes and a legitimate client on the same host is
 *       never locked out.  The evicted peer gets a fatal alert, and a
 *       later copy of its cookie'd ClientHello is answered with one
 *       instead of starting a handshake it could not finish (ended.c);
 *     - in all at most max_half_open; a newcomer evicts the handshake of
 *       anyone that has been silent longest;
 *     - never an established association: max_half_open slots of
 *       max_assocs are headroom that established associations cannot
 *       take, so handshakes start even when the table is "full".
 *   established (handshake done, peer certificate accepted)
 *     - per source at most max_per_source; at the limit the source's own
 *       least recently active association is displaced if it has been
 *       quiet for longer than a handshake may take (its close_notify was
 *       probably lost), otherwise the newcomer is refused: it gets a
 *       close_notify right after its handshake.  Both are counted and
 *       logged (rate limited);
 *     - in all at most max_assocs - max_half_open; at the limit the least
 *       recently active established association is evicted
 *       (evict_idle_when_full) or the newcomer refused.
 *
 * Client associations (dtlsudp_engine_connect) are the application's own:
 * they need a free slot and never evict anything.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>

#include "engine_internal.h"

/* At most one admission log line per this many ms; the rest are counted
 * and reported with the next line. */
#define ADM_LOG_INTERVAL 1000
/* A handshake whose peer has been silent this long is idle and may be
 * evicted: longer than OpenSSL's first two retransmission intervals
 * (1 s, then 2 s), so a live client that lost our flight would have
 * repeated its ClientHello twice.  A peer silent for less may be computing
 * its flight on a loaded host: evicting it would fail its handshake, while
 * refusing the newcomer only costs that one a retransmission. */
#define ADM_IDLE_MS 3000
/* Active (not idle) handshakes a source may hold, in multiples of its cap. */
#define ADM_BURST 8

static void adm_log(dtlsudp_engine *e, const dtlsudp_addr *peer, const char *what, unsigned long long id)
{
    char who[64] = "?", assoc[40] = "";

    if (e->adm_log_at != 0 && e->now < e->adm_log_at) {
        e->adm_log_suppressed++;
        return;
    }
    (void)dtlsudp_addr_format(peer, who, sizeof(who));
    /* id 0: no association exists (a refused ClientHello). */
    if (id != 0)
        snprintf(assoc, sizeof(assoc), "assoc %llu; ", id);
    if (e->adm_log_suppressed != 0)
        eng_log(e, DTLSUDP_LOG_NOTICE, "source %s: %s (%s%lu more admission events not logged)", who, what,
                    assoc, e->adm_log_suppressed);
    else if (id != 0)
        eng_log(e, DTLSUDP_LOG_NOTICE, "source %s: %s (assoc %llu)", who, what, id);
    else
        eng_log(e, DTLSUDP_LOG_NOTICE, "source %s: %s", who, what);
    e->adm_log_suppressed = 0;
    e->adm_log_at = e->now + ADM_LOG_INTERVAL;
}

/* Slots established associations may take: the rest is headroom for
 * handshakes (config normalisation keeps max_half_open <= max_assocs / 2). */
static size_t established_cap(const dtlsudp_engine *e)
{
    return e->cfg.max_assocs - e->cfg.max_half_open;
}

/* Make room for a newcomer: drop a handshake (counted, logged at debug). */
static int evict_half_open(dtlsudp_engine *e, dtlsudp_assoc *victim, const char *why)
{
    e->stats.half_open_evicted++;
    eng_log(e, DTLSUDP_LOG_DEBUG, "assoc %llu: handshake evicted (%s)", (unsigned long long)victim->id, why);
    eng_evict(e, victim);
    return DTLSUDP_OK;
}

/* Rule: a source holds at most max_half_open_per_source idle handshakes
 * (peer silent for ADM_IDLE_MS) and ADM_BURST times as many in all.  A
 * newcomer beyond either limit evicts the source's most silent handshake. */
static int rule_source_half_open(dtlsudp_engine *e, const dtlsudp_addr *peer)
{
    eng_source_info src;
    size_t cap = e->cfg.max_half_open_per_source;

    eng_table_source_scan(e, peer, e->now >= ADM_IDLE_MS ? e->now - ADM_IDLE_MS : 0, &src);
    /* A burst of handshakes from one host (snmpget x 50 behind one
     * address, on a slow agent whose own backlog makes its peers look
     * silent) is in progress: evicting one fails its handshake (its peer
     * gets an alert, ended.c), so up to ADM_BURST times the cap they stay
     * unless cap of them are idle.  A silent flooder's handshakes go idle
     * and then make room for anyone of their source; one that keeps
     * starting handshakes reaches the burst limit, where its oldest go:
     * either way it cannot lock a legitimate client of its host out. */
    if (src.half_open_idle < cap && src.half_open < ADM_BURST * cap)
        return DTLSUDP_OK;
    if (src.idlest_half_open == NULL)
        return DTLSUDP_ERR_LIMIT;
    return evict_half_open(e, src.idlest_half_open,
                           src.half_open_idle >= cap ? "idle, of a source at its limit"
                                                     : "most silent of a source at its burst limit");
}

/* Rule: at most max_half_open handshakes in all; the newcomer evicts the
 * one that has been silent longest. */
static int rule_global_half_open(dtlsudp_engine *e)
{
    dtlsudp_assoc *victim = NULL;
    dtlsudp_link *l;

    if (e->half_open < e->cfg.max_half_open)
        return DTLSUDP_OK;
    for (l = e->hs_list.next; l != &e->hs_list; l = l->next) {
        dtlsudp_assoc *a = ASSOC_OF(l);
        if (!a->counted_half_open || a->busy != 0 || a->freeing)
            continue;
        if (victim == NULL || a->last_activity < victim->last_activity)
            victim = a;
    }
    return victim != NULL ? evict_half_open(e, victim, "most silent, half-open limit") : DTLSUDP_ERR_LIMIT;
}

/* Rule: nothing unauthenticated evicts an established association.  The
 * table can only be full here when client handshakes fill the headroom. */
static int rule_free_slot(const dtlsudp_engine *e)
{
    return e->stats.assocs_now < e->cfg.max_assocs ? DTLSUDP_OK : DTLSUDP_ERR_LIMIT;
}

int eng_admit_half_open(dtlsudp_engine *e, const dtlsudp_addr *peer)
{
    int ret;

    if ((ret = rule_source_half_open(e, peer)) != DTLSUDP_OK)
        adm_log(e, peer, "new handshake refused: source at its half-open limit", 0);
    else if ((ret = rule_global_half_open(e)) != DTLSUDP_OK || (ret = rule_free_slot(e)) != DTLSUDP_OK)
        adm_log(e, peer, "new handshake refused: association limit reached", 0);
    return ret;
}

int eng_admit_connect(dtlsudp_engine *e, const dtlsudp_addr *peer)
{
    (void)peer;
    return rule_free_slot(e);
}

/* Rule: a source holds at most max_per_source established associations.
 * At the limit its own least recently active one is displaced if it has
 * been quiet for longer than a handshake may take (a lost close_notify
 * would otherwise lock the source out until the idle timeout); an active
 * one is never displaced, the newcomer is refused instead. */
static int rule_source_established(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    eng_source_info src;

    eng_table_source_scan(e, &a->peer, 0, &src);
    if (src.established < e->cfg.max_per_source)
        return DTLSUDP_OK;
    if (!e->cfg.evict_idle_when_full || src.idlest == NULL ||
        e->now - src.idlest->last_activity < e->cfg.handshake_timeout) {
        e->stats.refused_full++;
        adm_log(e, &a->peer, "new association refused: established associations at max_per_source",
                (unsigned long long)a->id);
        return DTLSUDP_ERR_LIMIT;
    }
    e->stats.evictions++;
    e->stats.source_displaced++;
    adm_log(e, &a->peer, "quiet association displaced: established associations at max_per_source",
            (unsigned long long)src.idlest->id);
    eng_evict(e, src.idlest);
    return DTLSUDP_OK;
}

/* Rule: established associations take at most max_assocs - max_half_open
 * slots.  At the limit the least recently active one is evicted
 * (evict_idle_when_full) -- only ever for a peer that has authenticated. */
static int rule_table_established(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    dtlsudp_link *l;

    if (e->established < established_cap(e))
        return DTLSUDP_OK;
    if (e->cfg.evict_idle_when_full) {
        for (l = e->est_list.next; l != &e->est_list; l = l->next) {
            dtlsudp_assoc *victim = ASSOC_OF(l);
            if (victim->busy != 0 || victim->successor != NULL || victim->freeing)
                continue;
            e->stats.evictions++;
            eng_log(e, DTLSUDP_LOG_DEBUG, "assoc %llu: evicted (least recently active, table full)",
                        (unsigned long long)victim->id);
            eng_evict(e, victim);
            return DTLSUDP_OK;
        }
    }
    e->stats.refused_full++;
    adm_log(e, &a->peer, "new association refused: association limit reached", (unsigned long long)a->id);
    return DTLSUDP_ERR_LIMIT;
}

int eng_admit_established(dtlsudp_engine *e, dtlsudp_assoc *a)
{
    int ret;

    /* The application's own clients hold their slot since connect; a
     * restart takes over its predecessor's. */
    if (a->is_client || a->predecessor != NULL)
        return DTLSUDP_OK;
    if ((ret = rule_source_established(e, a)) != DTLSUDP_OK)
        return ret;
    return rule_table_established(e, a);
}
