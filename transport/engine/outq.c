/*
 * outq.c - the engine's output queue: one preallocated byte ring holding
 * datagrams with their addresses.  No allocation per datagram; when full,
 * the caller drops the datagram and counts it.
 *
 * Entries never straddle the end of the ring.  A writer that cannot fit an
 * entry at the end writes a wrap marker (len == WRAP) there, or nothing if
 * not even a header fits; the reader wraps at the same points.
 */
#include "config.h"

#include <string.h>

#include "engine_internal.h"

#define WRAP UINT32_MAX

typedef struct entry {
    uint32_t len;
    uint32_t reserved;
    dtlsudp_assoc *assoc;
    dtlsudp_addr peer;
    dtlsudp_addr local;
} entry;

#define HDR (sizeof(entry))
#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

int eng_outq_init(dtlsudp_engine *e, eng_outq *q, size_t cap)
{
    memset(q, 0, sizeof(*q));
    cap = ALIGN8(cap);
    if ((q->buf = eng_mem_alloc(e, cap)) == NULL)
        return DTLSUDP_ERR_NOMEM;
    q->cap = cap;
    return DTLSUDP_OK;
}

void eng_outq_dispose(dtlsudp_engine *e, eng_outq *q)
{
    eng_mem_free(e, q->buf);
    memset(q, 0, sizeof(*q));
}

static entry *at(eng_outq *q, size_t off)
{
    return (entry *)(void *)(q->buf + off);
}

int eng_outq_push(eng_outq *q, const uint8_t *data, size_t len, const dtlsudp_addr *peer,
                      const dtlsudp_addr *local, dtlsudp_assoc *a)
{
    size_t need = ALIGN8(HDR + len), off;
    entry *en;

    if (len > UINT32_MAX - 1 || need > q->cap)
        return DTLSUDP_ERR_QUEUE_FULL;
    if (q->count == 0) {
        q->head = q->tail = 0;
    } else if (q->tail == q->head) {
        return DTLSUDP_ERR_QUEUE_FULL;
    }
    if (q->tail >= q->head) {
        if (q->cap - q->tail >= need) {
            off = q->tail;
        } else if (q->count == 0 || need <= q->head) {
            if (q->cap - q->tail >= HDR)
                at(q, q->tail)->len = WRAP;
            off = 0;
        } else {
            return DTLSUDP_ERR_QUEUE_FULL;
        }
    } else {
        if (q->head - q->tail < need)
            return DTLSUDP_ERR_QUEUE_FULL;
        off = q->tail;
    }
    en = at(q, off);
    memset(en, 0, HDR);
    en->len = (uint32_t)len;
    en->assoc = a;
    if (peer != NULL)
        en->peer = *peer;
    if (local != NULL)
        en->local = *local;
    memcpy(q->buf + off + HDR, data, len);
    q->tail = off + need;
    if (q->tail == q->cap)
        q->tail = 0;
    q->count++;
    return DTLSUDP_OK;
}

/* The offset of the entry at `off', following wrap points. */
static size_t resolve(eng_outq *q, size_t off)
{
    if (q->cap - off < HDR || at(q, off)->len == WRAP)
        return 0;
    return off;
}

int eng_outq_pop(eng_outq *q, uint8_t *buf, size_t cap, size_t *len, dtlsudp_addr *peer,
                     dtlsudp_addr *local, dtlsudp_assoc **a)
{
    entry *en;
    size_t off;

    if (q->count == 0)
        return DTLSUDP_ERR_AGAIN;
    off = resolve(q, q->head);
    en = at(q, off);
    if (en->len > cap)
        return DTLSUDP_ERR_BUFFER;
    memcpy(buf, q->buf + off + HDR, en->len);
    *len = en->len;
    if (peer != NULL)
        *peer = en->peer;
    if (local != NULL)
        *local = en->local;
    if (a != NULL)
        *a = en->assoc;
    q->head = off + ALIGN8(HDR + en->len);
    if (q->head == q->cap)
        q->head = 0;
    if (--q->count == 0)
        q->head = q->tail = 0;
    return DTLSUDP_OK;
}

void eng_outq_forget(eng_outq *q, const dtlsudp_assoc *a)
{
    size_t off = q->head, i;

    for (i = 0; i < q->count; i++) {
        entry *en;
        off = resolve(q, off);
        en = at(q, off);
        if (en->assoc == a)
            en->assoc = NULL;
        off += ALIGN8(HDR + en->len);
        if (off == q->cap)
            off = 0;
    }
}
