/*
 * engine_internal.h - the association engine's private structures and the
 * functions its modules share.  Never installed; the unit tests include it
 * to reach internals (they link transport/engine/libengine.la directly).
 */
#ifndef DTLSUDP_ENGINE_INTERNAL_H
#define DTLSUDP_ENGINE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "dtlsudp.h"
#include "list.h"
#include "recordlayer.h"

#if defined(__GNUC__)
#define DTLSUDP_WUR __attribute__((warn_unused_result))
#define DTLSUDP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DTLSUDP_WUR
#define DTLSUDP_PRINTF(f, a)
#endif

/* Engine-wide sizing that is not (yet) configurable. */
#define DTLSUDP_OUTQ_BYTES (256u * 1024u)  /* output queue: preallocated, bounded */
#define DTLSUDP_SCRATCH_BYTES (16u * 1024u + 2048u) /* one plaintext record */
#define DTLSUDP_COOKIE_SECRET_LEN 32
#define DTLSUDP_TICKET_KEY_NAME_LEN 16 /* RFC 5077 4: key_name */
#define DTLSUDP_IPV4_OVERHEAD 28 /* IPv4 header + UDP header */
#define DTLSUDP_IPV6_OVERHEAD 48 /* IPv6 header + UDP header */
/* Handshake retransmission defaults (dtlsudp_engine_config). */
#define DTLSUDP_RETRANSMIT_INITIAL_MS 100
#define DTLSUDP_RETRANSMIT_MAX_MS 500
#define DTLSUDP_RETRANSMIT_MAX_BYTES (48u * 1024u)
#define DTLSUDP_FLIGHT_BYTES (8u * 1024u) /* the copy of our last flight kept for replay */
#define DTLSUDP_ENDED_SLOTS 256 /* ClientHellos of ended server associations remembered (ended.c) */

/* What the datagram BIO of one SSL sees: where its output goes and the one
 * datagram it may read next.  For the listen SSL `a' is NULL. */
typedef struct eng_io {
    dtlsudp_engine *e;
    dtlsudp_assoc *a;
    const dtlsudp_addr *peer;
    const dtlsudp_addr *local;
    const uint8_t *in; /* borrowed from the caller for one receive call */
    size_t in_len;
    int out_dropped; /* set when a write found the output queue full */
} eng_io;

/* One queued plaintext datagram (received data, or data a handshaking
 * client holds until the handshake completes). */
typedef struct eng_pbuf {
    dtlsudp_link link; /* on its eng_pqueue */
    size_t len;
    uint8_t data[];
} eng_pbuf;

typedef struct eng_pqueue {
    dtlsudp_link fifo; /* oldest first; zero-filled = empty */
    size_t count;
} eng_pqueue;

/*
 * Association lifecycle (the calls each state allows):
 *
 *   HANDSHAKING -- handshake done, peer verified --> ESTABLISHED
 *   HANDSHAKING -- failure / deadline / close -----> CLOSED (freed)
 *   ESTABLISHED -- close_notify / alert / idle / evict / close / replaced --> CLOSED (freed)
 *
 * A server association is created only after DTLSv1_listen() verified the
 * cookie.  HANDSHAKING allows receive, close; clients also write (held).
 * ESTABLISHED allows read, write, close.  CLOSED exists only while the
 * CLOSED event runs.
 */
struct dtlsudp_assoc {
    dtlsudp_engine *e;
    uint64_t id;
    int state;
    int is_client;
    dtlsudp_addr peer;
    dtlsudp_addr local;
    SSL *ssl;
    eng_io io;

    struct dtlsudp_assoc *hash_next; /* peer table chain (by address and port) */
    struct dtlsudp_assoc *src_next;  /* source table chain (by address) */
    dtlsudp_link list;               /* handshaking list or established LRU list */
    int in_table;
    int counted_half_open;
    int counted_established; /* counted in e->established */

    dtlsudp_time created;
    dtlsudp_time last_activity;

    /* RFC 6347 4.2.8: a verified new handshake from the same address and
     * port runs in `successor' (not in the table) until it completes. */
    struct dtlsudp_assoc *successor;
    struct dtlsudp_assoc *predecessor;

    eng_pqueue rx;   /* plaintext received, for dtlsudp_assoc_read() */
    eng_pqueue held; /* client writes waiting for the handshake */

    dtlsudp_fingerprint *pins; /* per-connect server identity pins */
    size_t n_pins;
    char *hostname;
    STACK_OF(X509) *auth_chain; /* the authenticated chain (verify.c), leaf first */
    int auth_trust;             /* enum dtlsudp_trust of the accepted peer */
    int peer_alert;             /* AlertDescription of a fatal alert received, -1: none */
    SSL_SESSION *session;       /* client with tickets: the session, taken at ESTABLISHED */
    dtlsudp_time ticket_issued; /* server, resumed: when the session's full handshake ran */
    const char *failure_detail; /* OpenSSL's reason a handshake failed (static text) */

    /* Handshake retransmission (retransmit.c).  `flight' holds a copy of
     * the datagrams of our current flight, each as a 2-byte length and
     * the bytes, replayed at once when the peer repeats its previous
     * flight (RFC 6347 4.2.4) or the application repeats a write. */
    uint8_t *flight;
    size_t flight_len;
    dtlsudp_time flight_at;  /* when our current flight first went out, 0 = none */
    dtlsudp_time flight_sent_at; /* when a copy of it last went out */
    dtlsudp_time rtt;        /* the first round trip measured, 0 = none yet */
    dtlsudp_time rto;        /* the current flight's timeout (ms) */
    unsigned flight_timeouts; /* OpenSSL timeouts of the current flight */
    size_t rtx_bytes;        /* retransmitted this handshake */
    int peer_seq_max;        /* highest handshake message_seq received, -1 none */
    int peer_seq_answered;   /* peer_seq_max when our current flight started */
    unsigned flight_next : 1;     /* the next datagram OpenSSL writes starts a flight */
    unsigned rtx_pending : 1;     /* ... which is OpenSSL's retransmission */
    unsigned writing_rtx : 1;     /* the flight being written is a retransmission */
    unsigned flight_overflow : 1; /* the flight did not fit `flight': no replay */
    unsigned flight_rtx : 1;      /* the current flight was retransmitted (Karn) */

    unsigned cert_refused : 1;   /* our verify decision refused the peer */
    unsigned alert_received : 1; /* a fatal alert arrived */
    unsigned fatal_sent : 1;     /* we sent a fatal alert after the hand-off */
    unsigned close_sent : 1;     /* close_notify queued */
    unsigned freeing : 1;
    unsigned close_quiet : 1;    /* deferred close without close_notify (abort) */
    unsigned resumed : 1;        /* abbreviated handshake (session.c, tickets.c) */
    unsigned sigs_checked : 1;   /* auth_chain passed OpenSSL's own signature checks (verify.c) */
    /* Server with a session cache: the id of the session this association
     * established, so a fatal alert can invalidate it (servercache.c). */
    unsigned char sid_len;
    unsigned char sid[SSL_MAX_SSL_SESSION_ID_LENGTH];
    int busy;                    /* > 0 while the engine works on it */
    int close_requested;         /* deferred dtlsudp_assoc_close() reason, 0 = none */

    void *user;
    void *owned;                   /* dtlsudp_assoc_set_owned() */
    void (*owned_release)(void *owned);

    /* Before the hand-off (handoff.c): what OpenSSL's records used. */
    uint64_t hs_next_write_seq; /* after the highest epoch-1 number OpenSSL wrote */
    uint64_t hs_read_seen;      /* epoch-1 application records < 64 fed to OpenSSL */
    /* After it: the SSL is freed, the record layer carries the association. */
    eng_rl rl;
    const SSL_CIPHER *cipher; /* what the getters report without the SSL */
    const char *version;
    size_t data_mtu;
    uint8_t *last_flight; /* CCS + Finished datagrams we ended the handshake with, each
                           * u16 length + bytes; NULL once the peer has them */
    size_t last_flight_len;
    dtlsudp_link last_flight_timer; /* on e->last_flight_due while copies are due */
    dtlsudp_time last_flight_due;   /* when the next timed copy goes out */
    unsigned last_flight_copies;    /* timed copies sent */
    uint8_t client_random[32]; /* server: tells a stale ClientHello copy */
    uint64_t hs0_next_write_seq; /* server: after our highest epoch-0 record (ended.c) */
    uint16_t hs0_version;        /* ... and that record's version */
    struct eng_leaf *leaf;  /* the shared peer certificate (handoff.c) */
    unsigned handed_off : 1;
    unsigned was_established : 1; /* the ESTABLISHED event fired */
    unsigned handshake_done : 1;  /* the peer completed the handshake, even if admission then refused it */
};

typedef struct eng_outq {
    uint8_t *buf;
    size_t cap;
    size_t head, tail; /* byte offsets */
    size_t count;      /* entries */
} eng_outq;

struct dtlsudp_engine {
    dtlsudp_engine_config cfg;
    SSL_CTX *ctx;
    BIO_METHOD *bio_method;

    /* The stateless cookie gate: one reusable listen SSL. */
    SSL *listen_ssl;
    eng_io listen_io;
    dtlsudp_addr listen_peer;
    dtlsudp_addr listen_local;
    BIO_ADDR *listen_client;
    int listen_sent_hvr;
    int listen_cookie_bad;

    uint8_t cookie_secret[2][DTLSUDP_COOKIE_SECRET_LEN]; /* [0] current, [1] previous */
    EVP_MAC_CTX *cookie_mac; /* HMAC-SHA256, keyed per cookie (cookie.c) */
    dtlsudp_time cookie_rotate_at;

    /* Session-ticket keys (tickets.c): [0] seals, [0] and [1] open. */
    struct eng_ticket_key {
        uint8_t name[DTLSUDP_TICKET_KEY_NAME_LEN];
        uint8_t aes[32];  /* AES-256-CBC */
        uint8_t hmac[32]; /* HMAC-SHA256 */
        int valid;
    } ticket_keys[2];
    dtlsudp_time ticket_rotate_at; /* DTLSUDP_TIME_NEVER without tickets */

    /* Server session cache (servercache.c), off while max is 0. */
    struct eng_scache {
        struct eng_cached **buckets;
        size_t mask;
        size_t max;
        size_t count;
        dtlsudp_link lru;
    } scache;

    /* Peer table: chained hash by (family, address, port, scope); a second
     * chain by address alone enforces max_per_source. */
    uint64_t hash_seed;
    dtlsudp_assoc **table;
    dtlsudp_assoc **src_table;
    size_t table_mask;

    dtlsudp_link hs_list;  /* HANDSHAKING, oldest first (deadline order) */
    dtlsudp_link est_list; /* ESTABLISHED, least recently active first */
    size_t half_open;      /* server associations still handshaking */
    size_t established;    /* associations on est_list */
    /* admission log rate limit: one line per second, the rest counted */
    dtlsudp_time adm_log_at;
    unsigned long adm_log_suppressed;
    /* ClientHellos of server associations that ended (ended.c): a ring
     * of DTLSUDP_ENDED_SLOTS, allocated when the first one ends. */
    struct eng_ended *ended;
    size_t ended_next;

    eng_outq outq;
    uint8_t *scratch;

    dtlsudp_fingerprint *pins;
    size_t n_pins, cap_pins;

    /* verify.c: OpenSSL's own chain check and per-depth callback (what a
     * store context gets when nobody replaced them), and the signature
     * memo of the stored session being verified again. */
    X509_STORE_CTX_verify_fn x509_verify;
    X509_STORE_CTX_verify_cb x509_verify_cb;
    STACK_OF(X509) *sig_memo;
    uint64_t sig_memo_hits; /* verifications that reused a memo (tests, bench) */
    int identity_on_demand; /* identity_cb installed as OpenSSL's certificate callback */

    dtlsudp_stats stats;
    uint64_t next_id;
    dtlsudp_time now;
    DTLS_timer_cb timer_cb; /* test hook, see eng_set_timer_cb() */
    int keep_buffers;       /* measurement hook: do not release idle record buffers */

    /* handoff.c */
    EVP_CIPHER *aead_cipher[4]; /* by enum eng_aead, fetched once */
    EVP_KDF *prf;               /* TLS1-PRF */
    dtlsudp_assoc *flight_of;   /* whose datagrams are being captured */
    uint8_t flight[1024];       /* the flight that completed a handshake */
    size_t flight_len;
    int flight_overflow;
    /* Peer certificates shared by handed-off associations, by SHA-256. */
    struct eng_leaf **leaves;
    size_t leaves_mask;
    size_t n_leaves;
    uint64_t handoffs;       /* associations handed off (tests, bench) */
    uint64_t flights_resent; /* last flights sent again after the hand-off */
    dtlsudp_link last_flight_due; /* handed-off associations with timed copies due */
};

/* The association whose `list' link (handshaking or established list) l is. */
#define ASSOC_OF(l) ((dtlsudp_assoc *)(void *)((char *)(l) - offsetof(dtlsudp_assoc, list)))

/* engine.c */
void eng_assoc_fire(dtlsudp_engine *e, dtlsudp_assoc *a, int event, int reason);
void *eng_mem_alloc(dtlsudp_engine *e, size_t size);
void eng_mem_free(dtlsudp_engine *e, void *p);
void eng_log(dtlsudp_engine *e, int level, const char *fmt, ...) DTLSUDP_PRINTF(3, 4);
/* The engine's clock moves forward only. */
void eng_set_now(dtlsudp_engine *e, dtlsudp_time now);
/* The link MTU for peer's family (cfg mtu_ipv4 / mtu_ipv6), and setting it
 * on ssl (OK or CONFIG). */
unsigned eng_link_mtu_for(const dtlsudp_engine *e, const dtlsudp_addr *peer);
int eng_set_link_mtu(dtlsudp_engine *e, SSL *ssl, const dtlsudp_addr *peer);
/* A new SSL on a datagram BIO bound to io, or NULL. */
SSL *eng_ssl_new(dtlsudp_engine *e, eng_io *io);

/* accept.c */
/* A ClientHello from peer without an association, or (predecessor set) a
 * peer restart: the cookie gate, then, with a verified cookie, the ended
 * and admission checks and a new server association fed its hello.
 * Returns as dtlsudp_engine_receive(). */
int eng_accept_hello(dtlsudp_engine *e, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                         const uint8_t *dgram, size_t len, dtlsudp_assoc *predecessor,
                         dtlsudp_assoc **assoc_out);

/* lifetime.c */
/* A new handshaking association (not yet counted nor listed), or NULL. */
dtlsudp_assoc *eng_assoc_alloc(dtlsudp_engine *e, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                                    int is_client);
/* Account a fully built association: id, handshaking list, counters. */
void eng_assoc_start(dtlsudp_engine *e, dtlsudp_assoc *a, int half_open);
/* Free everything an association owns.  Unlinked from all structures. */
void eng_assoc_destroy(dtlsudp_engine *e, dtlsudp_assoc *a);
/* The association is over: count, detach restart links, fire CLOSED, free. */
void eng_assoc_finish(dtlsudp_engine *e, dtlsudp_assoc *a, int reason);
/* Finish now, after a close_notify when notify (established only). */
void eng_assoc_close_now(dtlsudp_engine *e, dtlsudp_assoc *a, int reason, int notify);

/* feed.c */
/* Run one datagram (NULL: none, just step the handshake) through a; *first
 * is its first record.  Applies the outcome (association-fatal: a is
 * freed).  *assoc_out = a unless freed. */
int eng_assoc_feed(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *dgram, size_t len,
                       const struct eng_record *first, dtlsudp_assoc **assoc_out);
/* Mark activity: moves an established association to the LRU tail. */
void eng_assoc_touch(dtlsudp_engine *e, dtlsudp_assoc *a);
/* RFC 6353 5.4: the close_notify, once, established associations only. */
void eng_assoc_send_close_notify(dtlsudp_engine *e, dtlsudp_assoc *a);
/* Test hook: install cb (NULL: the engine's schedule, retransmit.c) on the
 * listen SSL, every association and every SSL created later.  OpenSSL's
 * DTLS retransmission timer reads the real clock (gettimeofday); tests
 * drive that clock themselves (tests/engine/testnet.c). */
void eng_set_timer_cb(dtlsudp_engine *e, DTLS_timer_cb cb);
/* Measurement hook: keep (1) or release (0, default) the record buffers
 * of idle established associations. */
void eng_set_keep_buffers(dtlsudp_engine *e, int keep);
/* Number of associations in the peer table (tests). */
size_t eng_count(const dtlsudp_engine *e);

/* config.c */
void eng_config_normalize(dtlsudp_engine_config *c);
/* Build e->ctx from e->cfg.  Returns OK, CONFIG (logged with the file
 * name), TLS, NOMEM. */
int eng_ctx_setup(dtlsudp_engine *e) DTLSUDP_WUR;

/* table.c */
dtlsudp_assoc *eng_table_find(const dtlsudp_engine *e, const dtlsudp_addr *peer);
void eng_table_insert(dtlsudp_engine *e, dtlsudp_assoc *a);
void eng_table_remove(dtlsudp_engine *e, dtlsudp_assoc *a);
size_t eng_table_source_count(const dtlsudp_engine *e, const dtlsudp_addr *peer, dtlsudp_assoc **idlest);
/* What one source holds (admission.c decides with it). */
typedef struct eng_source_info {
    size_t established;          /* established associations of the source */
    size_t half_open;            /* server handshakes counted in half_open */
    size_t half_open_idle;       /* ... whose peer has been silent since idle_before */
    dtlsudp_assoc *idlest_half_open; /* evictable (not busy), longest without a datagram */
    dtlsudp_assoc *idlest;           /* established, evictable, least recently active */
} eng_source_info;
void eng_table_source_scan(const dtlsudp_engine *e, const dtlsudp_addr *peer, dtlsudp_time idle_before,
                               eng_source_info *out);

/* admission.c: who gets a slot.  Each returns OK or LIMIT; any eviction
 * it made is counted and logged. */
/* A server handshake whose cookie verified (before it is allocated). */
int eng_admit_half_open(dtlsudp_engine *e, const dtlsudp_addr *peer);
/* A client handshake started by the application. */
int eng_admit_connect(dtlsudp_engine *e, const dtlsudp_addr *peer);
/* `a' completed authentication and needs an established slot.  Called
 * while `a' is busy and still HANDSHAKING. */
int eng_admit_established(dtlsudp_engine *e, dtlsudp_assoc *a);
/* Evict one association (close_notify when established), counted by the caller. */
void eng_evict(dtlsudp_engine *e, dtlsudp_assoc *a);

/* addr.c */
int eng_addr_same_host(const dtlsudp_addr *a, const dtlsudp_addr *b);
/* Same admission source: IPv4 address, or IPv6 /64 and scope id. */
int eng_addr_same_source(const dtlsudp_addr *a, const dtlsudp_addr *b);
/* with_port 1: address and port; 0: address; -1: source (IPv6 /64). */
uint64_t eng_addr_hash(const dtlsudp_addr *a, uint64_t seed, int with_port);

/* bio.c */
BIO_METHOD *eng_bio_method_new(void);
/* A datagram BIO bound to io (not owned). */
BIO *eng_bio_new(BIO_METHOD *m, eng_io *io);

/* outq.c */
int eng_outq_init(dtlsudp_engine *e, eng_outq *q, size_t cap) DTLSUDP_WUR;
void eng_outq_dispose(dtlsudp_engine *e, eng_outq *q);
int eng_outq_push(eng_outq *q, const uint8_t *data, size_t len, const dtlsudp_addr *peer,
                      const dtlsudp_addr *local, dtlsudp_assoc *a);
int eng_outq_pop(eng_outq *q, uint8_t *buf, size_t cap, size_t *len, dtlsudp_addr *peer,
                     dtlsudp_addr *local, dtlsudp_assoc **a);
/* Forget `a' in every queued entry (it is being freed; its datagrams still go out). */
void eng_outq_forget(eng_outq *q, const dtlsudp_assoc *a);

/* ended.c: a cookie'd ClientHello that repeats the hello of an ended
 * server association starts nothing (RFC 6347 4.2.1, 4.2.8). */
/* From the BIO: the number and version of our epoch-0 records. */
void eng_ended_note_sent(dtlsudp_assoc *a, const uint8_t *dgram, size_t len);
/* A server association ends: remember its peer and ClientHello random. */
void eng_ended_note(dtlsudp_engine *e, const dtlsudp_assoc *a);
/* Queue a fatal internal_error alert (epoch 0) to a handshaking server
 * association's peer: its handshake is dropped. */
void eng_ended_alert(dtlsudp_engine *e, const dtlsudp_assoc *a);
/* A cookie-verified ClientHello: OK when it may start a handshake, DROPPED
 * (counted, alert queued for an unfinished handshake) when it repeats the
 * hello of an association that ended. */
int eng_ended_check(dtlsudp_engine *e, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                        const uint8_t *dgram, size_t len);
void eng_ended_dispose(dtlsudp_engine *e);
/* The ring, allocated once for the engine's life (done at the first end;
 * tests that count allocations per run reserve it first). */
int eng_ended_reserve(dtlsudp_engine *e);

/* cookie.c */
int eng_cookie_init(dtlsudp_engine *e) DTLSUDP_WUR;
int eng_cookie_rotate(dtlsudp_engine *e) DTLSUDP_WUR;
void eng_cookie_dispose(dtlsudp_engine *e);
void eng_cookie_install(SSL_CTX *ctx);

/* verify.c */
void eng_verify_install(dtlsudp_engine *e);
/* The peer decision of verify.c applied again to the certificate of a
 * stored session (leaf, and the rest of its authenticated chain) against
 * the current trust store, pins and hook (auth->resumed = 1).  On accept
 * `a' takes the new authenticated chain and 1 is returned; 0 refuses
 * quietly (logged at INFO only): the caller falls back to a full
 * handshake.  sig_memo (may be NULL): what eng_verify_sig_memo() returned
 * for the full handshake of that session. */
int eng_verify_stored(dtlsudp_engine *e, dtlsudp_assoc *a, X509 *leaf, STACK_OF(X509) *rest,
                      STACK_OF(X509) *sig_memo);
/* The chain whose signatures OpenSSL checked when it accepted a's peer
 * (a new reference for the caller), or NULL when that is not known. */
STACK_OF(X509) *eng_verify_sig_memo(const dtlsudp_assoc *a);

/* tickets.c: RFC 5077 session tickets, server side. */
int eng_tickets_init(dtlsudp_engine *e) DTLSUDP_WUR;
int eng_tickets_rotate(dtlsudp_engine *e) DTLSUDP_WUR;
void eng_tickets_install(dtlsudp_engine *e);
void eng_tickets_dispose(dtlsudp_engine *e);
/* Certificates of the authenticated chain worth carrying with a session:
 * those after the leaf, without the trust anchor of a CHAIN peer (the
 * trust store has it), as u16 count + (u16 length + DER) each.  Returns
 * the encoded length, 0 on failure. */
size_t eng_chain_encode(const dtlsudp_assoc *a, uint8_t *buf, size_t cap);
/* The inverse: a new stack (possibly empty), or NULL when malformed. */
STACK_OF(X509) *eng_chain_decode(const uint8_t *buf, size_t len, size_t *used);

/* servercache.c: sessions kept in memory by id, server side. */
void eng_scache_init(dtlsudp_engine *e);
void eng_scache_dispose(dtlsudp_engine *e);
/* A new server (listen) SSL: no tickets while the cache is on. */
void eng_scache_prepare_server_ssl(dtlsudp_engine *e, SSL *ssl);
/* At ESTABLISHED (server): remember the session's id; a resumed one
 * becomes the most recently used. */
void eng_scache_on_established(dtlsudp_engine *e, dtlsudp_assoc *a);
/* RFC 5246 7.2.2: after a fatal alert, sent or received, the session of
 * an established association is forgotten. */
void eng_scache_forget(dtlsudp_engine *e, dtlsudp_assoc *a);
/* At destroy: forget the session if OpenSSL marked it not resumable (a
 * fatal alert while OpenSSL kept the connection). */
void eng_scache_on_destroy(dtlsudp_engine *e, dtlsudp_assoc *a);

/* session.c: client side. */
/* At ESTABLISHED: keep the session (tickets on) and count a resumption. */
void eng_session_on_established(dtlsudp_engine *e, dtlsudp_assoc *a);
/* In connect, before the first flight: offer opts->session if it still
 * passes (see dtlsudp_connect_opts.session). */
void eng_session_offer(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *blob, size_t len);
/* Shared: a random source honouring cfg->random. */
int eng_random(dtlsudp_engine *e, void *buf, size_t len) DTLSUDP_WUR;
/* 1 when a CRL in store (by issuer name) lists a certificate of chain. */
int eng_verify_chain_revoked(X509_STORE *store, STACK_OF(X509) *chain);

/* retransmit.c: the handshake retransmission schedule and replays. */
/* OpenSSL's DTLS timer callback: every SSL of the engine gets it unless a
 * test installs its own (eng_set_timer_cb). */
unsigned int eng_rtx_timer_cb(SSL *ssl, unsigned int previous_us);
/* OpenSSL writes one datagram of `a': keep the flight copy and count
 * retransmitted bytes.  Returns 0 when it is a retransmission beyond the
 * handshake's byte budget (not to be sent), else 1. */
int eng_rtx_on_write(dtlsudp_assoc *a, const uint8_t *data, size_t len);
/* A datagram from the peer is about to be fed to a handshaking `a'.
 * Samples the round trip; returns 1 when it repeats the peer flight that
 * our current flight answers (the caller then replays ours). */
int eng_rtx_on_input(dtlsudp_assoc *a, const uint8_t *dgram, size_t len);
/* Queue the copy of our current flight again, at most once per half
 * retransmit_initial and within retransmit_max_bytes.  Returns 1 if sent. */
int eng_rtx_replay(dtlsudp_assoc *a);
/* The handshake is over (established or freed): drop the flight copy. */
void eng_rtx_release(dtlsudp_assoc *a);
/* The wait before timed copy number `copies' (0, 1, ...) of the last
 * flight: the handshake's schedule, doubling from the first timeout. */
dtlsudp_time eng_rtx_last_flight_wait(const dtlsudp_assoc *a, unsigned copies);
/* handoff.c */
/* Hand an established association's record keys off from OpenSSL and
 * free its SSL.  Returns OK; STATE when it keeps its SSL (cfg->keep_ssl,
 * not DTLS 1.2 with an AEAD suite, a close pending, ...); NOMEM, TLS. */
int eng_handoff(dtlsudp_engine *e, dtlsudp_assoc *a);
void eng_handoff_dispose(dtlsudp_engine *e, dtlsudp_assoc *a);
void eng_handoff_engine_free(dtlsudp_engine *e);
/* RFC 5246 6.3 key block of an SSL whose handshake is done. */
int eng_handoff_key_block(dtlsudp_engine *e, SSL *ssl, uint8_t *out, size_t len);
/* The BIO reports every datagram OpenSSL writes for `a', and feed()
 * every datagram it gives OpenSSL. */
void eng_handoff_note_sent(dtlsudp_assoc *a, const uint8_t *dgram, size_t len);
void eng_handoff_note_received(dtlsudp_assoc *a, const uint8_t *dgram, size_t len);
/* Capture what `a' writes between begin and end (its last flight). */
void eng_handoff_capture_begin(dtlsudp_engine *e, dtlsudp_assoc *a);
void eng_handoff_capture(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *dgram, size_t len);
void eng_handoff_capture_end(dtlsudp_engine *e);
/* One datagram for a handed-off association: *got counts the application
 * records queued.  Returns OK, DROPPED (nothing authenticated) or an
 * association-fatal code (CLOSED, PEER_ALERT, HANDSHAKE). */
int eng_handoff_receive(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *dgram, size_t len, int *got);
/* Seal and queue.  Returns OK, QUEUE_FULL, LIMIT (sequence numbers used
 * up: end the association), TOO_BIG, TLS. */
int eng_handoff_write(dtlsudp_engine *e, dtlsudp_assoc *a, const uint8_t *buf, size_t len);
int eng_handoff_send_alert(dtlsudp_engine *e, dtlsudp_assoc *a, int fatal, uint8_t description);
/* Timed copies of kept last flights: the earliest due (DTLSUDP_TIME_NEVER:
 * none), and sending those due at e->now. */
dtlsudp_time eng_handoff_next_timeout(const dtlsudp_engine *e);
void eng_handoff_handle_timeout(dtlsudp_engine *e);

/* SSL -> its io (through the BIO). */
eng_io *eng_ssl_io(const SSL *ssl);

/* pqueue helpers (engine.c) */
int eng_pqueue_push(dtlsudp_engine *e, eng_pqueue *q, const uint8_t *data, size_t len) DTLSUDP_WUR;
void eng_pqueue_clear(dtlsudp_engine *e, eng_pqueue *q);
/* The oldest datagram, left on the queue / taken off it; NULL when empty. */
eng_pbuf *eng_pqueue_first(const eng_pqueue *q);
eng_pbuf *eng_pqueue_shift(eng_pqueue *q);

#endif
