/*
 * testnet.h - engines joined by an in-memory network with a settable clock
 * and a pluggable loss / duplicate / reorder policy (seeded PRNG).
 *
 * The clock: tn_clock (ms) is the `now' every engine call gets, and this
 * harness also defines gettimeofday() so OpenSSL's DTLS retransmission
 * timer (which reads the real clock) runs on the same fake time.  Tests
 * additionally shorten OpenSSL's timer through the engine's test hook
 * (eng_set_timer_cb).  No sockets, no sleeps.
 */
#ifndef DTLSUDP_TESTNET_H
#define DTLSUDP_TESTNET_H

#include <stddef.h>
#include <stdint.h>

#include "dtlsudp.h"
#include "testcerts.h"

#define TN_MAX_NODES 256
#define TN_MAX_DGRAM 2048

extern uint64_t tn_clock;

/* --- memory accounting --- */

/* Route OpenSSL's allocations through counting wrappers.  Call first in
 * main(), before any OpenSSL function. */
void tn_mem_init(void);
/* Live bytes allocated through OpenSSL (CRYPTO_malloc & co.). */
long long tn_ossl_live_bytes(void);
/* Make the k-th OpenSSL allocation from now fail (0: never); returns the
 * number of failures injected since the last call. */
unsigned long tn_ossl_fail_at(unsigned long k);

/* A counting allocator for the engine; fail_at = k makes the k-th
 * allocation (counting from the last reset) fail. */
typedef struct tn_alloc {
    long long live_bytes;
    long long live_count;
    unsigned long total;
    unsigned long fail_at;
    unsigned long failures;
} tn_alloc;

dtlsudp_allocator tn_allocator(tn_alloc *a);

/* --- network --- */

typedef struct tn_net tn_net;

typedef struct tn_node {
    tn_net *net;
    int index;
    dtlsudp_engine *e;
    dtlsudp_addr addr;
    tn_alloc alloc;
    unsigned loss_pct; /* datagrams this node sends that the network loses */
    /* events seen */
    unsigned established, closed, data;
    int last_reason;
    int last_was_established; /* dtlsudp_assoc_was_established() in the last CLOSED event */
    dtlsudp_assoc *last_assoc;
    uint8_t last_data[TN_MAX_DGRAM];
    size_t last_data_len;
    unsigned long long data_bytes;
    int close_on_data; /* call dtlsudp_assoc_close() from inside the DATA event */
    int abort_on_data; /* non-zero: dtlsudp_assoc_abort() with it from inside the DATA event */
    int no_read;       /* leave received data queued in the association */
    int echo;          /* write every received datagram back from inside the event */
} tn_node;

typedef struct tn_packet {
    int to; /* node index, -1: nobody there */
    dtlsudp_addr from, dest;
    size_t len;
    uint8_t data[TN_MAX_DGRAM];
} tn_packet;

/* Inspect or modify a packet in flight; return 0 to drop it. */
typedef int (*tn_tap_fn)(tn_net *net, tn_packet *p, void *arg);

struct tn_net {
    tn_node nodes[TN_MAX_NODES];
    int n;
    tn_packet *flight;
    size_t nflight, cap;
    unsigned dup_pct, reorder_pct;
    uint64_t rng;
    unsigned long long delivered, lost, duplicated, unroutable;
    tn_tap_fn tap;
    void *tap_arg;
};

void tn_init(tn_net *net, uint64_t seed);
/* Add an engine at addr ("127.0.0.1:10161") with identity id and trust
 * anchor ca (either may be NULL).  cfg may be NULL (defaults).  Uses the
 * node's counting allocator unless cfg sets one. */
tn_node *tn_add(tn_net *net, const char *addr, const tc_pair *id, const tc_pair *ca,
                const dtlsudp_engine_config *cfg);
void tn_free(tn_net *net);
/* How many nodes' counting allocators still hold memory (a live count or
 * live bytes other than 0).  After tn_free() it must be 0: every engine
 * gave back everything it allocated.  Nodes whose cfg set another
 * allocator never count. */
int tn_leaking_nodes(const tn_net *net);
/* Free one node's engine (its slot stays, unroutable). */
void tn_drop_node(tn_net *net, tn_node *node);

uint64_t tn_rand(tn_net *net);

/* Move every queued datagram into the network, then deliver.  Returns the
 * number of datagrams delivered. */
int tn_pump(tn_net *net);
/* Jump the clock to the earliest engine deadline (capped at limit) and
 * run every engine's timers. */
void tn_advance(tn_net *net, uint64_t limit);
/* Pump (and advance the clock when idle) until done(net, arg) or
 * max_rounds.  Returns 1 when done. */
int tn_run(tn_net *net, int (*done)(tn_net *, void *), void *arg, int max_rounds);

/* Deliver raw bytes to a node as if from `from'. */
int tn_inject(tn_net *net, tn_node *to, const dtlsudp_addr *from, const uint8_t *data, size_t len,
              dtlsudp_assoc **assoc);

/* Connect node c to node s (default opts). */
dtlsudp_assoc *tn_connect(tn_net *net, tn_node *c, tn_node *s, const dtlsudp_connect_opts *opts);

/* Run c's connect to s up to the ClientHello that carries the cookie: c
 * sends its hello, s answers with a HelloVerifyRequest, and c's second
 * hello is returned in out (not delivered).  Nothing else is queued on
 * either node afterwards.  Returns its length; aborts on failure. */
size_t tn_cookie_hello(tn_net *net, tn_node *c, tn_node *s, uint8_t *out, size_t cap);

/* OpenSSL timer test hook: 100 ms first, doubling, capped at 1600 ms. */
unsigned int tn_timer_cb(SSL *ssl, unsigned int timer_us);

dtlsudp_addr tn_addr(const char *text);

#endif
