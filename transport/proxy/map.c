/*
 * map.c - sessions by key: a chained hash map of nodes embedded in the
 * caller's session (nothing allocated per entry), and a min-heap of
 * sessions by deadline.
 *
 * Client mode keys its sessions by the local source address of every
 * datagram it reads, server mode by association id; both look one up per
 * datagram, so the lookup is O(1) whatever max-sessions says.  The hash is
 * keyed with a random seed: client mode may listen on a LAN, and a fixed
 * hash would let a sender choose source ports that share one chain.
 *
 * Client mode's sessions each own an engine, whose deadline changes only
 * when that engine is called: the heap is updated after each such call,
 * so the loop finds its next deadline, and the sessions due, without
 * walking every session.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "proxy.h"

#define MAP_MIN_BUCKETS 64

void proxy_key_addr(proxy_key *k, const dtlsudp_addr *a)
{
    memset(k, 0, sizeof(*k));
    k->b[0] = (uint8_t)a->sa.sa_family;
    if (a->sa.sa_family == AF_INET6) {
        memcpy(&k->b[1], &a->sin6.sin6_port, 2);
        memcpy(&k->b[3], &a->sin6.sin6_addr, 16);
        memcpy(&k->b[19], &a->sin6.sin6_scope_id, 4);
        k->len = 23;
    } else {
        memcpy(&k->b[1], &a->sin.sin_port, 2);
        memcpy(&k->b[3], &a->sin.sin_addr, 4);
        k->len = 7;
    }
}

void proxy_key_id(proxy_key *k, uint64_t id)
{
    memset(k, 0, sizeof(*k));
    memcpy(k->b, &id, sizeof(id));
    k->len = sizeof(id);
}

static int key_equal(const proxy_key *x, const proxy_key *y)
{
    return x->len == y->len && memcmp(x->b, y->b, x->len) == 0;
}

/* A seeded multiply-xorshift over the key's 8-byte words: cheap, and the
 * seed keeps the chains unpredictable from outside. */
static uint64_t key_hash(const proxy_map *m, const proxy_key *k)
{
    uint64_t h = m->seed ^ ((uint64_t)k->len * 0x9E3779B97F4A7C15ull);
    for (size_t i = 0; i < sizeof(k->b); i += 8) {
        uint64_t w;
        memcpy(&w, &k->b[i], 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    h *= 0x94D049BB133111EBull;
    return h ^ (h >> 29);
}

int proxy_map_init(proxy_map *m)
{
    memset(m, 0, sizeof(*m));
    if (RAND_bytes((unsigned char *)&m->seed, sizeof(m->seed)) != 1)
        return -1;
    m->n_buckets = MAP_MIN_BUCKETS;
    m->buckets = calloc(m->n_buckets, sizeof(*m->buckets));
    return m->buckets != NULL ? 0 : -1;
}

void proxy_map_free(proxy_map *m)
{
    free(m->buckets);
    m->buckets = NULL;
    m->n_buckets = m->count = 0;
}

proxy_map_node *proxy_map_find(const proxy_map *m, const proxy_key *k)
{
    uint64_t h = key_hash(m, k);
    for (proxy_map_node *n = m->buckets[h & (m->n_buckets - 1)]; n != NULL; n = n->next)
        if (n->hash == h && key_equal(&n->key, k))
            return n;
    return NULL;
}

/* Twice the buckets once the chains average two nodes.  Out of memory
 * leaves the map as it was: longer chains, still correct. */
static void grow(proxy_map *m)
{
    size_t n = m->n_buckets * 2;
    proxy_map_node **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i < m->n_buckets; i++)
        for (proxy_map_node *x = m->buckets[i], *next; x != NULL; x = next) {
            next = x->next;
            x->next = b[x->hash & (n - 1)];
            b[x->hash & (n - 1)] = x;
        }
    free(m->buckets);
    m->buckets = b;
    m->n_buckets = n;
}

void proxy_map_insert(proxy_map *m, proxy_map_node *n, const proxy_key *k)
{
    if (m->count >= m->n_buckets * 2)
        grow(m);
    n->key = *k;
    n->hash = key_hash(m, k);
    proxy_map_node **head = &m->buckets[n->hash & (m->n_buckets - 1)];
    n->next = *head;
    *head = n;
    m->count++;
}

void proxy_map_remove(proxy_map *m, proxy_map_node *n)
{
    for (proxy_map_node **pp = &m->buckets[n->hash & (m->n_buckets - 1)]; *pp != NULL; pp = &(*pp)->next)
        if (*pp == n) {
            *pp = n->next;
            n->next = NULL;
            m->count--;
            return;
        }
}

/* ---- the deadline heap ---- */

static void heap_set(proxy_heap *h, size_t i, proxy_heap_node *n)
{
    h->v[i] = n;
    n->index = i;
}

static void sift_up(proxy_heap *h, size_t i)
{
    proxy_heap_node *n = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->v[parent]->deadline <= n->deadline)
            break;
        heap_set(h, i, h->v[parent]);
        i = parent;
    }
    heap_set(h, i, n);
}

static void sift_down(proxy_heap *h, size_t i)
{
    proxy_heap_node *n = h->v[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->count)
            break;
        if (child + 1 < h->count && h->v[child + 1]->deadline < h->v[child]->deadline)
            child++;
        if (n->deadline <= h->v[child]->deadline)
            break;
        heap_set(h, i, h->v[child]);
        i = child;
    }
    heap_set(h, i, n);
}

int proxy_heap_insert(proxy_heap *h, proxy_heap_node *n, dtlsudp_time deadline)
{
    if (h->count == h->cap) {
        size_t cap = h->cap != 0 ? h->cap * 2 : 64;
        proxy_heap_node **v = realloc(h->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    n->deadline = deadline;
    heap_set(h, h->count++, n);
    sift_up(h, n->index);
    return 0;
}

void proxy_heap_update(proxy_heap *h, proxy_heap_node *n, dtlsudp_time deadline)
{
    dtlsudp_time old = n->deadline;
    n->deadline = deadline;
    if (deadline < old)
        sift_up(h, n->index);
    else if (deadline > old)
        sift_down(h, n->index);
}

void proxy_heap_remove(proxy_heap *h, proxy_heap_node *n)
{
    size_t i = n->index;
    proxy_heap_node *last = h->v[--h->count];
    if (last == n)
        return;
    heap_set(h, i, last);
    /* the moved node may belong above or below its new place */
    sift_up(h, i);
    sift_down(h, last->index);
}

proxy_heap_node *proxy_heap_top(const proxy_heap *h)
{
    return h->count != 0 ? h->v[0] : NULL;
}

void proxy_heap_free(proxy_heap *h)
{
    free(h->v);
    memset(h, 0, sizeof(*h));
}
