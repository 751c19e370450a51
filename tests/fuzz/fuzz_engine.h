/*
 * fuzz_engine.h - one engine driven by a byte program: the harness behind
 * the engine_server and engine_client fuzz targets and the corpus
 * generator (gen_corpus.c), which records the programs it runs.
 *
 * Input: one flags byte (FZ_F_*), then operations until the input ends.
 * Each operation is one byte, kind = b & 7, arg = b >> 3:
 *
 *   0 DGRAM     u16 length, bytes: a datagram from peer (arg & 3)
 *   1 TIME      u16 ms: advance the clock (arg & 1: to the engine's next
 *               deadline instead), then handle_timeout
 *   2 WRITE     u8 n: write n bytes to the association with peer (arg & 3)
 *   3 CLOSE     close (arg & 4: abort) the association with peer (arg & 3)
 *   4 CLOSE_ALL
 *   5 ALLOC     u8 k: the k+1-th engine allocation from now fails
 *   6 CONNECT   client: connect to peer (arg & 3) (pins/hostname by flags)
 *   7 POP_SMALL pop with a (arg * 8)-byte buffer (BUFFER path)
 *
 * After each operation the output queue is drained (datagrams a lossy
 * network would lose: the fuzzer decides which inputs arrive, and TIME
 * makes OpenSSL retransmit).  At the end: close_all, drain, free, and the
 * engine's allocator must have nothing live.
 */
#ifndef DTLSUDP_FUZZ_ENGINE_H
#define DTLSUDP_FUZZ_ENGINE_H

#include "fuzz_common.h"

enum {
    FZ_F_SMALL_CAPS = 1 << 0,    /* max_assocs 2, half-open 1, per source 1 */
    FZ_F_NO_EVICT = 1 << 1,      /* evict_idle_when_full = 0 */
    FZ_F_DTLS10 = 1 << 2,        /* allow DTLS 1.0 */
    FZ_F_PIN = 1 << 3,           /* fingerprint pins (engine-wide / per connect) */
    FZ_F_HOSTNAME = 1 << 4,      /* client: expect "server.fuzz" */
    FZ_F_SMALL_MTU = 1 << 5,     /* 576-byte IPv4 link MTU: fragmented flights */
    FZ_F_REFUSE = 1 << 6,        /* verify callback refuses every peer */
    FZ_F_CLOSE_ON_DATA = 1 << 7, /* close from inside the DATA event */
};

enum {
    FZ_OP_DGRAM = 0,
    FZ_OP_TIME = 1,
    FZ_OP_WRITE = 2,
    FZ_OP_CLOSE = 3,
    FZ_OP_CLOSE_ALL = 4,
    FZ_OP_ALLOC = 5,
    FZ_OP_CONNECT = 6,
    FZ_OP_POP_SMALL = 7,
};

#define FZ_PEERS 4
#define FZ_MAX_OUT 256

typedef struct fz_dgram {
    size_t len;
    uint8_t data[2048];
} fz_dgram;

typedef struct fz_node {
    dtlsudp_engine *e;
    fz_alloc alloc;
    int is_server;
    int stream; /* OpenSSL stream; stream + 2 feeds the engine's random */
    unsigned flags;
    dtlsudp_addr self;
    dtlsudp_addr peers[FZ_PEERS];
    dtlsudp_assoc *client_assoc;
    unsigned established, closed, data;
    /* Generator only: popped datagrams are kept here. */
    int keep_out;
    fz_dgram *out;
    size_t nout;
} fz_node;

/* A server at 127.0.0.1:10161 (peers: 127.0.0.1:20000, 127.0.0.1:20001,
 * 127.0.0.2:20000, [::1]:20000) or a client at 127.0.0.1:20000 (peers:
 * the server, 127.0.0.1:10162, [::1]:10161, 127.0.0.9:10161).  Returns 0,
 * or -1 when the engine could not be made (allocation failure). */
int fz_node_init(fz_node *n, int is_server, int stream, unsigned flags);
/* Run one operation from the cursor.  apply_clock = 0: TIME runs the
 * timers without moving the clock (the generator moves it once for all
 * nodes).  Returns 0, or -1 at the end of the input. */
int fz_node_step(fz_node *n, fz_in *in, int apply_clock);
/* close_all, drain, free; checks that nothing is left allocated. */
void fz_node_finish(fz_node *n);

/* The whole program: flags byte, operations, finish.  *established (may
 * be NULL) gets the number of ESTABLISHED events. */
void fz_run_program(int is_server, const uint8_t *data, size_t size, unsigned *established);

#endif
