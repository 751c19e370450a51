/*
 * ended.c - the ClientHellos of server associations that ended.
 *
 * RFC 6347 4.2.1: the ClientHello that carries the cookie repeats the
 * random of the first one, and a client sends it again until our first
 * flight arrives; the network may also duplicate it.  While its
 * association lives, such a copy is recognised by its random and treated
 * as a retransmission (engine.c).  A copy that arrives after the
 * association ended -- evicted by admission, past its deadline, failed, or
 * closed after the handshake -- still carries a valid cookie (the cookie
 * covers address and port only) and would start a fresh handshake with a
 * new ServerHello.  A client that already holds our first ServerHello
 * ignores the new one, so its Finished fails at the new association with
 * decrypt_error after a wait; and the stale handshake holds a half-open
 * slot of its source.  A genuinely new handshake has a new random
 * (RFC 6347 4.2.8: a restarting client sends a new ClientHello).
 *
 * So the engine remembers (peer address and port, ClientHello random) of
 * the last DTLSUDP_ENDED_SLOTS server associations that ended, and a
 * cookie'd ClientHello that repeats one of them starts nothing:
 *   - the hello of a handshake that ended unfinished is answered with a
 *     fatal internal_error alert, so the client fails at once with a clear
 *     reason (and may start over with a new ClientHello) instead of waiting
 *     for a handshake that can no longer complete;
 *   - the hello of an association that was established is a stale copy and
 *     is dropped.
 * Both are counted in dropped_stale.  An eviction sends the same alert at
 * once (eng_ended_alert), for the same reason.
 *
 * The alert is an epoch-0 record written here (there is no SSL left): it
 * uses the record version of our last epoch-0 record to that peer and the
 * sequence number after it, so that the client's replay window
 * (RFC 6347 4.1.2.6) accepts it.  The memory is a ring allocated at the
 * first server association that ends (a pure client never has one), and
 * best effort: under churn the oldest entries go first.
 */
#include "config.h"

#include <string.h>

#include "engine_internal.h"
#include "record.h"

#define CT_ALERT 21
#define ALERT_FATAL 2
#define AD_INTERNAL_ERROR 80
#define DTLS12_VERSION_WIRE 0xfefd

struct eng_ended {
    dtlsudp_addr peer;
    uint8_t random[32];
    uint64_t next_seq; /* after our last epoch-0 record to the peer */
    uint16_t version;  /* of that record */
    uint8_t established;
    uint8_t used;
};

void eng_ended_note_sent(dtlsudp_assoc *a, const uint8_t *dgram, size_t len)
{
    const uint8_t *p = dgram, *end = dgram + len;
    eng_record rec;

    if (a->is_client || a->state != DTLSUDP_STATE_HANDSHAKING)
        return;
    while (p != end && eng_record_parse(&p, end, &rec) == 0) {
        if (rec.epoch != 0 || rec.seq < a->hs0_next_write_seq)
            continue;
        a->hs0_next_write_seq = rec.seq + 1;
        a->hs0_version = rec.version;
    }
}

static void queue_alert(dtlsudp_engine *e, const dtlsudp_addr *peer, const dtlsudp_addr *local, uint64_t seq,
                        uint16_t version)
{
    uint8_t rec[DTLSUDP_RECORD_HEADER_LEN + 2];

    eng_record_put_header(rec, CT_ALERT, version, 0, seq, 2);
    rec[DTLSUDP_RECORD_HEADER_LEN] = ALERT_FATAL;
    rec[DTLSUDP_RECORD_HEADER_LEN + 1] = AD_INTERNAL_ERROR;
    if (eng_outq_push(&e->outq, rec, sizeof(rec), peer, local, NULL) != DTLSUDP_OK) {
        e->stats.dropped_queue++;
        return;
    }
    e->stats.datagrams_out++;
    e->stats.bytes_out += sizeof(rec);
}

void eng_ended_alert(dtlsudp_engine *e, const dtlsudp_assoc *a)
{
    queue_alert(e, &a->peer, &a->local, a->hs0_next_write_seq,
                a->hs0_version != 0 ? a->hs0_version : DTLS12_VERSION_WIRE);
}

int eng_ended_reserve(dtlsudp_engine *e)
{
    if (e->ended != NULL)
        return DTLSUDP_OK;
    if ((e->ended = eng_mem_alloc(e, DTLSUDP_ENDED_SLOTS * sizeof(*e->ended))) == NULL)
        return DTLSUDP_ERR_NOMEM;
    memset(e->ended, 0, DTLSUDP_ENDED_SLOTS * sizeof(*e->ended));
    return DTLSUDP_OK;
}

void eng_ended_note(dtlsudp_engine *e, const dtlsudp_assoc *a)
{
    struct eng_ended *slot;
    static const uint8_t zero[32];

    if (a->is_client || memcmp(a->client_random, zero, sizeof(zero)) == 0)
        return;
    if (eng_ended_reserve(e) != DTLSUDP_OK)
        return; /* best effort: a stale copy then starts a handshake */
    slot = &e->ended[e->ended_next];
    e->ended_next = (e->ended_next + 1) % DTLSUDP_ENDED_SLOTS;
    slot->peer = a->peer;
    memcpy(slot->random, a->client_random, sizeof(slot->random));
    slot->next_seq = a->hs0_next_write_seq;
    slot->version = a->hs0_version != 0 ? a->hs0_version : DTLS12_VERSION_WIRE;
    slot->established = a->handshake_done; /* the peer holds our Finished */
    slot->used = 1;
}

int eng_ended_check(dtlsudp_engine *e, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                        const uint8_t *dgram, size_t len)
{
    const uint8_t *random;
    struct eng_ended *slot;
    size_t i;

    if (e->ended == NULL || !eng_record_client_hello_random(dgram, len, &random))
        return DTLSUDP_OK;
    for (i = 0; i < DTLSUDP_ENDED_SLOTS; i++) {
        slot = &e->ended[i];
        if (!slot->used || memcmp(slot->random, random, sizeof(slot->random)) != 0 ||
            !dtlsudp_addr_equal(&slot->peer, peer))
            continue;
        e->stats.dropped_stale++;
        if (!slot->established) {
            queue_alert(e, peer, local, slot->next_seq, slot->version);
            /* One alert per repeated hello would follow the client's
             * retransmissions; the next one also needs a higher number. */
            slot->next_seq++;
        }
        return DTLSUDP_ERR_DROPPED;
    }
    return DTLSUDP_OK;
}

void eng_ended_dispose(dtlsudp_engine *e)
{
    eng_mem_free(e, e->ended);
    e->ended = NULL;
}
