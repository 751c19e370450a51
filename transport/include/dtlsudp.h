/*
 * dtlsudp.h - the one installed header of libdtlsudp.
 *
 * libdtlsudp is a DTLS 1.2 over UDP library in two layers:
 *
 *   - the association engine (dtlsudp_engine_*, dtlsudp_assoc_*): OpenSSL
 *     driven through in-memory datagram BIOs, a stateless cookie gate, a
 *     bounded peer table and timers.  Buffer in, buffer out, explicit time:
 *     it never touches a socket and never reads a clock of its own (except
 *     that OpenSSL measures each retransmission timeout the engine chooses
 *     on the real clock, see dtlsudp_engine_next_timeout()).
 *
 *   - the socket layer (dtlsudp_listener_*, dtlsudp_conn_*): the engine on
 *     real UDP sockets, with the osnet (connected socket per association)
 *     and router (one socket, lookup by peer address) demultiplexers.
 *
 * Error model and callback conventions: see "Errors" below.  Struct
 * versioning (the DTLSUDP_CONFIG_VERSION rule): see "Versioned structs".
 *
 * Thread safety: an engine, listener or connection and everything reached
 * from it must be used by one thread at a time.  Distinct objects may be
 * used from distinct threads; OpenSSL's global state is the only shared
 * state.  To use several cores, a server runs one listener per thread on
 * the same address (dtlsudp_listener_config.reuse_port); the model is
 * under "Threads" in the socket layer's section.
 */
#ifndef DTLSUDP_H
#define DTLSUDP_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DTLSUDP_EXTERN __attribute__((visibility("default")))
#else
#define DTLSUDP_EXTERN
#endif

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

/*
 * One rule for every function that can fail: it returns DTLSUDP_OK (0) or a
 * negative DTLSUDP_ERR_* code, and the code's range is its class:
 *
 *   0             DTLSUDP_ERR_CLASS_OK
 *   -1 .. -99     DTLSUDP_ERR_CLASS_TRANSIENT: nothing was done, every state
 *                 is intact (a datagram may have been dropped and counted);
 *                 retry later or ignore.  AGAIN, DROPPED, QUEUE_FULL, LIMIT,
 *                 NOMEM.
 *   -100 .. -199  DTLSUDP_ERR_CLASS_USAGE: the call was wrong (argument,
 *                 state, size); nothing was done.  INVALID, STATE, TOO_BIG,
 *                 NOT_FOUND, BUFFER, EXISTS.
 *   -200 .. -499  DTLSUDP_ERR_CLASS_ASSOC_FATAL: the association is gone (an
 *                 alert or close_notify was queued where the protocol calls
 *                 for one; its CLOSED event has fired); the engine is fine.
 *   <= -500       DTLSUDP_ERR_CLASS_ENGINE_FATAL: the object (engine,
 *                 listener, connection) could not be made or cannot go on:
 *                 free it.  FATAL, TLS, CONFIG, SYSTEM.
 *
 * dtlsudp_err_class(), dtlsudp_err_is_assoc_fatal() and
 * dtlsudp_err_is_fatal() classify by these ranges, so a code added later in
 * a range keeps its class.
 *
 * Callbacks follow the same rule: a callback that can fail (random) returns
 * DTLSUDP_OK or a negative code; a callback that decides (verify) returns a
 * named verdict whose 0 is the safe answer (DTLSUDP_VERIFY_REFUSE), so that
 * a forgotten or zeroed return never accepts anything.
 */
enum {
    DTLSUDP_OK = 0,

    /* transient: nothing done, state intact (drops are counted in the stats) */
    DTLSUDP_ERR_AGAIN = -1,      /* no data or output now; would block */
    DTLSUDP_ERR_DROPPED = -2,    /* datagram dropped: malformed, stale, unknown */
    DTLSUDP_ERR_QUEUE_FULL = -3, /* a bounded queue is full; item dropped */
    DTLSUDP_ERR_LIMIT = -4,      /* an association cap was reached; try later */
    DTLSUDP_ERR_NOMEM = -5,      /* out of memory for this call only; the
                                  * engine and its associations are fine */

    /* usage errors */
    DTLSUDP_ERR_INVALID = -100,   /* bad argument, or unknown struct version */
    DTLSUDP_ERR_STATE = -101,     /* call not allowed in this state */
    DTLSUDP_ERR_TOO_BIG = -102,   /* message larger than the record/MTU limit */
    DTLSUDP_ERR_NOT_FOUND = -103, /* no such association */
    DTLSUDP_ERR_BUFFER = -104,    /* caller buffer too small */
    DTLSUDP_ERR_EXISTS = -105,    /* the peer already has an association */

    /* association fatal */
    DTLSUDP_ERR_CLOSED = -200,     /* closed by close_notify (either side) */
    DTLSUDP_ERR_HANDSHAKE = -201,  /* handshake failed (protocol error) */
    DTLSUDP_ERR_PEER_CERT = -202,  /* peer certificate refused */
    DTLSUDP_ERR_TIMEOUT = -203,    /* handshake deadline passed */
    DTLSUDP_ERR_IDLE = -204,       /* idle expiry */
    DTLSUDP_ERR_PEER_ALERT = -205, /* peer sent a fatal alert */
    DTLSUDP_ERR_EVICTED = -206,    /* evicted to make room for a new peer */
    DTLSUDP_ERR_REFUSED = -207,    /* ICMP port unreachable (socket layer) */
    DTLSUDP_ERR_REPLACED = -208,   /* peer restarted (RFC 6347 4.2.8) */

    /* engine fatal */
    DTLSUDP_ERR_FATAL = -500,  /* internal error, or a failing random callback */
    DTLSUDP_ERR_TLS = -501,    /* OpenSSL failure outside any association */
    DTLSUDP_ERR_CONFIG = -502, /* bad certificate, key, CA, cipher list... */
    DTLSUDP_ERR_SYSTEM = -503, /* system call failed; see errno */
};

enum dtlsudp_err_class {
    DTLSUDP_ERR_CLASS_OK = 0,           /* DTLSUDP_OK (and any value >= 0) */
    DTLSUDP_ERR_CLASS_TRANSIENT = 1,    /* -1 .. -99 */
    DTLSUDP_ERR_CLASS_USAGE = 2,        /* -100 .. -199 */
    DTLSUDP_ERR_CLASS_ASSOC_FATAL = 3,  /* -200 .. -499 */
    DTLSUDP_ERR_CLASS_ENGINE_FATAL = 4, /* <= -500 */
};

/* Short English text for an error code; never NULL. */
DTLSUDP_EXTERN const char *dtlsudp_strerror(int err);
/* enum dtlsudp_err_class of err, by the ranges above. */
DTLSUDP_EXTERN int dtlsudp_err_class(int err);
/* 1 when err is in DTLSUDP_ERR_CLASS_ASSOC_FATAL, else 0. */
DTLSUDP_EXTERN int dtlsudp_err_is_assoc_fatal(int err);
/* 1 when err is in DTLSUDP_ERR_CLASS_ENGINE_FATAL, else 0. */
DTLSUDP_EXTERN int dtlsudp_err_is_fatal(int err);

/* ------------------------------------------------------------------------
 * Versioned structs
 * ------------------------------------------------------------------------
 *
 * Every struct a caller passes in or has filled (dtlsudp_engine_config,
 * dtlsudp_connect_opts, dtlsudp_stats, dtlsudp_listener_config,
 * dtlsudp_net_stats, dtlsudp_conn_config, dtlsudp_conn_stats) belongs to one
 * numbered set, DTLSUDP_CONFIG_VERSION.  The functions that take them are
 * exported as dtlsudp_*_versioned(int version, ...); the names used in
 * source (dtlsudp_engine_config_init(), dtlsudp_engine_new(), ...) are
 * macros that pass the version the caller was compiled with, so the
 * library knows the layout a binary was built against.
 *
 * The rule: fields are only ever appended; every layout change of any
 * struct of the set bumps DTLSUDP_CONFIG_VERSION; the library keeps
 * accepting every older version: for a struct it reads, it copies the
 * fields the caller's version had and uses defaults for the rest; for a
 * struct it fills, it writes only the caller's version's fields, never past
 * the caller's sizeof.  A version it does not know (0, or newer than the
 * library) is refused with DTLSUDP_ERR_INVALID and nothing is written.
 */
#define DTLSUDP_CONFIG_V1 1
/* V2: dtlsudp_listener_config.reuse_port; dtlsudp_engine_config.cert, .key
 * and .chain (so the listener and connection configs, which embed it, grew
 * too). */
#define DTLSUDP_CONFIG_V2 2
/* V3: dtlsudp_engine_config.identity_cb and .identity_sha256 (the listener
 * and connection configs grew with it). */
#define DTLSUDP_CONFIG_V3 3
#define DTLSUDP_CONFIG_VERSION DTLSUDP_CONFIG_V3

/* The library version, "MAJOR.MINOR.PATCH" (from configure.ac). */
DTLSUDP_EXTERN const char *dtlsudp_version(void);

/* ------------------------------------------------------------------------
 * Addresses, time, fingerprints
 * ------------------------------------------------------------------------ */

/* An IPv4 or IPv6 UDP endpoint.  sa.sa_family is AF_INET or AF_INET6;
 * peers are keyed by (family, address, port, scope id). */
typedef union dtlsudp_addr {
    struct sockaddr sa;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
} dtlsudp_addr;

DTLSUDP_EXTERN socklen_t dtlsudp_addr_len(const dtlsudp_addr *a);
DTLSUDP_EXTERN int dtlsudp_addr_equal(const dtlsudp_addr *a, const dtlsudp_addr *b);
/* "127.0.0.1:10161" or "[::1]:10161"; DTLSUDP_ERR_BUFFER if cap is short. */
DTLSUDP_EXTERN int dtlsudp_addr_format(const dtlsudp_addr *a, char *buf, size_t cap);
/* Numeric only: "1.2.3.4", "1.2.3.4:p", "[v6]", "[v6]:p", "v6", ":p", "p".
 * A missing port becomes default_port; a missing host the wildcard of
 * the family implied (IPv4 unless bracketed). */
DTLSUDP_EXTERN int dtlsudp_addr_parse(const char *text, uint16_t default_port, dtlsudp_addr *out);

/* Monotonic milliseconds.  Engine calls take `now' explicitly. */
typedef uint64_t dtlsudp_time;
#define DTLSUDP_TIME_NEVER UINT64_MAX
/* CLOCK_MONOTONIC in milliseconds (for callers without a clock of their own). */
DTLSUDP_EXTERN dtlsudp_time dtlsudp_now(void);

/* A certificate fingerprint: the hash is implied by the length
 * (16 MD5, 20 SHA-1, 28 SHA-224, 32 SHA-256, 48 SHA-384, 64 SHA-512). */
typedef struct dtlsudp_fingerprint {
    uint8_t len;
    uint8_t bytes[64];
} dtlsudp_fingerprint;

/* Accepts "AB:CD:...", "abcd..." (hex, any case), optionally prefixed
 * "sha256:"-style; DTLSUDP_ERR_INVALID otherwise. */
DTLSUDP_EXTERN int dtlsudp_fingerprint_parse(const char *text, dtlsudp_fingerprint *out);
/* Colon-separated upper-case hex ("AB:CD:..."). */
DTLSUDP_EXTERN int dtlsudp_fingerprint_format(const dtlsudp_fingerprint *fp, char *buf, size_t cap);
/* Fingerprint of cert with the hash that has `len' bytes (20, 32, ...). */
DTLSUDP_EXTERN int dtlsudp_fingerprint_of(X509 *cert, size_t len, dtlsudp_fingerprint *out);
/* 1 when cert's fingerprint (with fp's implied hash) equals fp. */
DTLSUDP_EXTERN int dtlsudp_fingerprint_matches(X509 *cert, const dtlsudp_fingerprint *fp);

/* ------------------------------------------------------------------------
 * The association engine
 * ------------------------------------------------------------------------ */

typedef struct dtlsudp_engine dtlsudp_engine;
typedef struct dtlsudp_assoc dtlsudp_assoc;

enum dtlsudp_log_level { /* syslog values */
    DTLSUDP_LOG_ERR = 3,
    DTLSUDP_LOG_WARNING = 4,
    DTLSUDP_LOG_NOTICE = 5,
    DTLSUDP_LOG_INFO = 6,
    DTLSUDP_LOG_DEBUG = 7,
};

enum dtlsudp_event {
    DTLSUDP_EVENT_ESTABLISHED = 1, /* handshake complete, peer verified */
    DTLSUDP_EVENT_DATA = 2,        /* plaintext queued: dtlsudp_assoc_read() */
    DTLSUDP_EVENT_CLOSED = 3,      /* association gone; freed after return */
};

enum dtlsudp_assoc_state {
    DTLSUDP_STATE_HANDSHAKING = 1, /* cookie verified (server) or connect() called */
    DTLSUDP_STATE_ESTABLISHED = 2, /* handshake done, data may flow */
    DTLSUDP_STATE_CLOSED = 3,      /* closing; only inside the CLOSED event */
};

typedef struct dtlsudp_allocator {
    void *(*alloc)(void *user, size_t size); /* NULL on failure */
    void (*free)(void *user, void *ptr);
    void *user;
} dtlsudp_allocator;

/* How a peer's certificate was authenticated, decided once per handshake
 * from what OpenSSL verified, never from what the peer merely sent (the
 * rules are in dtlsudp(5) and transport/engine/verify.c). */
enum dtlsudp_trust {
    DTLSUDP_TRUST_NONE = 0,  /* refused whatever the policy: expired, revoked, bad
                              * signature, wrong purpose, chain too long, or
                              * sent certificates that are not a path */
    DTLSUDP_TRUST_LEAF = 1,  /* no trust anchor vouches for the chain, but the leaf
                              * is valid, has the right purpose and is not revoked
                              * by a loaded CRL: acceptable only by a pin on it */
    DTLSUDP_TRUST_CHAIN = 2, /* verified to a trust anchor */
};

typedef struct dtlsudp_peer_auth {
    X509 *leaf;            /* the certificate whose key signed the handshake */
    STACK_OF(X509) *chain; /* CHAIN: the verified path, leaf first, trust anchor
                            * last; otherwise the leaf alone.  Identity (pins,
                            * mappings) comes from these certificates only. */
    int trust;             /* enum dtlsudp_trust */
    int pin_matched;       /* an engine-wide or per-connect pin names the leaf, or
                            * (server, CHAIN) a CA certificate of the verified path */
    int host_ok;           /* client with a host name: the leaf names it; else 1 */
    int error;             /* X509_V_ERR_* of the chain verification */
    const char *reason;    /* what decided `trust', for log lines */
    int resumed;           /* 1: the certificate of a stored session, re-verified
                            * before an abbreviated handshake (server: a ticket
                            * the client presented; client: a session about to
                            * be offered).  A refusal then means a full
                            * handshake, not a failure: count and log nothing.
                            * Server: the session is only offered so far; the
                            * peer proves it holds the session's master secret
                            * later (Finished), or the handshake fails. */
} dtlsudp_peer_auth;

/* The decision on a peer certificate, made once per handshake.
 * Default (verify == NULL): a client with pins accepts a matching pin,
 * a client without pins a CHAIN peer; a server accepts a CHAIN peer or a
 * pinned one; a host name, when given, must match.  A hook may refuse
 * anything; it cannot accept a TRUST_NONE peer (it is still called, for
 * its logs and counters).  Return DTLSUDP_VERIFY_ACCEPT to accept,
 * DTLSUDP_VERIFY_REFUSE to refuse (the handshake fails with an alert); any
 * other value refuses too.  `auth' and its certificates are borrowed for
 * the call; dtlsudp_assoc_peer_chain() keeps the chain afterwards. */
enum dtlsudp_verify_verdict {
    DTLSUDP_VERIFY_REFUSE = 0, /* the safe answer: a zeroed return refuses */
    DTLSUDP_VERIFY_ACCEPT = 1,
};
typedef int (*dtlsudp_verify_fn)(void *user, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth);

typedef struct dtlsudp_engine_config {
    /* Identity and trust, PEM files.  Each may be NULL: the caller may
     * then give the identity as objects (cert, key, chain at the end) or
     * with dtlsudp_engine_set_identity(), and the trust anchors with
     * trust_store or dtlsudp_engine_set_trust_store(). */
    const char *cert_file; /* own certificate (chain) */
    const char *key_file;  /* own private key */
    const char *ca_file;   /* trust anchors */
    const char *ca_path;   /* trust anchors, hashed directory */
    const char *crl_file;  /* optional CRL, checked for the whole chain */
    X509_STORE *trust_store; /* trust anchors and CRLs built by the caller (a
                              * reference is taken); replaces ca_file, ca_path
                              * and crl_file.  See dtlsudp_engine_set_trust_store(). */
    const char *ciphers;   /* OpenSSL cipher list; NULL: ECDHE with AEAD */
    int allow_dtls10;      /* 0: DTLS 1.2 only (RFC 8996).  DTLS 1.0 also needs SHA-1
                            * signatures, which OpenSSL's security level 2 (Debian's
                            * default) forbids: lower it on the SSL_CTX to use it. */

    /* Caps and timers (0 = default shown). */
    size_t max_assocs;              /* 10000: total associations */
    size_t max_half_open;           /* 256: associations still handshaking */
    size_t max_per_source;          /* 256: established per source (any port) */
    int evict_idle_when_full;       /* 1: a peer that completed authentication evicts
                                     * the least recently active established; 0: refuse */
    dtlsudp_time handshake_timeout; /* 10000 ms */
    dtlsudp_time idle_timeout;      /* 300000 ms; DTLSUDP_TIME_NEVER disables */
    dtlsudp_time cookie_rotation;   /* 60000 ms; previous secret valid one more period */
    unsigned mtu_ipv4;              /* 1500: link MTU for IPv4 peers */
    unsigned mtu_ipv6;              /* 1280: link MTU for IPv6 peers */
    size_t max_queued_datagrams;    /* 64: per-association plaintext queue */
    /* Admission (transport/engine/admission.c).  A "source" is an IPv4
     * address or an IPv6 /64 (with its scope id).  max_half_open slots of
     * max_assocs (at most half of it) are reserved for handshakes; only a
     * peer that completed authentication may evict an established
     * association, and a half-open one never does.  max_per_source counts
     * established associations. */
    size_t max_half_open_per_source; /* 8: handshakes in progress per source; the
                                      * source's oldest is evicted for a newcomer */
    dtlsudp_time refused_grace;      /* 5000 ms: socket layer; after ICMP port
                                      * unreachable an established association
                                      * ends unless an authenticated datagram
                                      * arrives within this time */
    unsigned max_chain_depth;       /* 4: CA certificates allowed between the
                                     * leaf and the trust anchor */
    /* Handshake retransmission (transport/engine/retransmit.c).  Each
     * flight's first timeout is retransmit_initial, or 3 x the round trip
     * measured on the first flight when that is longer (a slow link gets
     * no spurious copies); it doubles on every expiry up to
     * retransmit_max.  Retransmitted bytes per handshake stop at
     * retransmit_max_bytes (RFC 8085 3.1.3: no storms on slow links);
     * the handshake deadline then ends it. */
    dtlsudp_time retransmit_initial; /* 100 ms (RFC 9147 5.8.2) */
    dtlsudp_time retransmit_max;     /* 500 ms: two copies per SNMP 1 s retry */
    size_t retransmit_max_bytes;     /* 49152 */
    /* Session resumption (RFC 5246 7.3, RFC 5077 tickets), off by default.
     * Server: issues and accepts tickets sealed with an in-memory key that
     * rotates every ticket_lifetime (the previous key is accepted one more
     * period), never stored; a ticket is accepted for ticket_lifetime after
     * the full handshake that made its session, and only if the
     * certificate it carries still passes verification and the verify
     * hook now (auth->resumed); otherwise the handshake is a full one.
     * Client: keeps the session of each handshake for
     * dtlsudp_assoc_session(). */
    int session_tickets;            /* 0: every handshake is a full one */
    dtlsudp_time ticket_lifetime;   /* 3600000 ms */
    int keep_ssl;                   /* 0: once established with DTLS 1.2 and an AEAD
                                     * suite, an association's record keys are handed
                                     * off from OpenSSL and its SSL is freed (about
                                     * 2.5 KB instead of 45 KB when idle); 1: OpenSSL
                                     * keeps every association */
    int handoff_clients;            /* 1 (default): client associations hand off
                                     * too; 0: a client keeps OpenSSL's record
                                     * layer */

    /* Injection: all optional. */
    dtlsudp_allocator allocator;                             /* malloc/free */
    int (*random)(void *user, uint8_t *buf, size_t len);     /* cookie secrets, table seed,
                                                                ticket keys; NULL: RAND_bytes.
                                                                Returns DTLSUDP_OK, or a negative
                                                                code (the caller then fails with
                                                                DTLSUDP_ERR_FATAL) */
    void (*log)(void *user, int level, const char *message); /* silent */
    dtlsudp_verify_fn verify;                                /* see above */
    /* Called from inside receive/handle_timeout/close.  The callee may call
     * dtlsudp_assoc_* accessors, dtlsudp_assoc_read(), dtlsudp_assoc_write()
     * and dtlsudp_assoc_close()/abort() on the association of the event
     * (a close requested inside an event takes effect when the event
     * returns), not other engine entry points.  CLOSED fires exactly once
     * for every association the engine created (including server
     * associations that never reached ESTABLISHED, and from
     * dtlsudp_engine_free()); `reason' is the DTLSUDP_ERR_* cause. */
    void (*on_event)(void *user, dtlsudp_assoc *a, int event, int reason);
    void *user;

    /* Since DTLSUDP_CONFIG_V2.  Our own identity from memory (e.g. from
     * Net-SNMP's certificate store), installed before any handshake, so a
     * client's first handshake (and the stored session it offers) already
     * has it: the certificate, its private key and the intermediate CA
     * certificates to send after it (chain may be NULL).  When cert is set,
     * cert_file and key_file are not read.  References are taken: the
     * caller may free its own once dtlsudp_engine_new(),
     * dtlsudp_listener_new() or dtlsudp_conn_connect() returned.  cert
     * without key (or key without cert), or a key that does not match the
     * certificate: DTLSUDP_ERR_CONFIG.  Later changes:
     * dtlsudp_engine_set_identity(). */
    X509 *cert;
    EVP_PKEY *key;
    STACK_OF(X509) *chain;

    /* Since DTLSUDP_CONFIG_V3.  Our identity on demand, for a client that
     * offers a stored session: an abbreviated handshake (RFC 5246 7.3)
     * sends no certificate, so loading the private key first is wasted
     * work.  With no identity installed (cert, cert_file and key_file
     * unset) and identity_cb set, the engine calls identity_cb(user, e)
     * only when a handshake needs our certificate (the server sent a
     * CertificateRequest: a full handshake); the callback installs the
     * identity with dtlsudp_engine_set_identity() and returns DTLSUDP_OK,
     * or anything else to fail that handshake.  Later handshakes use the
     * installed identity.  identity_sha256 is the SHA-256 of the
     * certificate identity_cb will install (all zero: not known, and then
     * only a session made without a certificate matches): until an
     * identity is installed, a stored session (dtlsudp_connect_opts.session)
     * is offered only when it was made with that certificate, exactly as
     * with an installed identity. */
    int (*identity_cb)(void *user, struct dtlsudp_engine *e);
    uint8_t identity_sha256[32];
} dtlsudp_engine_config;

/* Fill cfg with defaults (everything above, files NULL).  Returns OK, or
 * INVALID (NULL, unknown version). */
DTLSUDP_EXTERN int dtlsudp_engine_config_init_versioned(int version, dtlsudp_engine_config *cfg);
#define dtlsudp_engine_config_init(cfg) dtlsudp_engine_config_init_versioned(DTLSUDP_CONFIG_VERSION, (cfg))

/* Create an engine.  Installs the identity objects of cfg (cert, key,
 * chain) or else loads the files named in cfg (DTLSUDP_ERR_CONFIG with a
 * log line naming the file or the refusal on failure).  Returns OK, INVALID (NULL,
 * unknown version), CONFIG, NOMEM, TLS, FATAL (random callback failed). */
DTLSUDP_EXTERN int dtlsudp_engine_new_versioned(int version, const dtlsudp_engine_config *cfg, dtlsudp_time now,
                                                dtlsudp_engine **out);
#define dtlsudp_engine_new(cfg, now, out) dtlsudp_engine_new_versioned(DTLSUDP_CONFIG_VERSION, (cfg), (now), (out))
/* Free the engine and every association without sending anything (CLOSED
 * events still fire); call dtlsudp_engine_close_all() and drain the output
 * first for a clean close. */
DTLSUDP_EXTERN void dtlsudp_engine_free(dtlsudp_engine *e);

/* Our own identity from memory (e.g. from Net-SNMP's certificate store or
 * a reload): the certificate, its private key and the intermediate CA
 * certificates to send after it (chain may be NULL).  References are
 * taken; the caller keeps its own.  Every handshake that starts from now on
 * presents it; open associations keep the identity they were made with.
 * Returns OK; INVALID (NULL engine, cert or key); CONFIG (the key does not
 * match the certificate, or OpenSSL refused them: the previous identity
 * stays). */
DTLSUDP_EXTERN int dtlsudp_engine_set_identity(dtlsudp_engine *e, X509 *cert, EVP_PKEY *key,
                                               STACK_OF(X509) *chain);
/* Advanced: the engine's one SSL_CTX, shared by every association.  The
 * engine owns its verification (verify mode and callback, verify depth,
 * cert store parameters), its cookie and ticket callbacks, its protocol
 * versions, options, read-ahead and session cache mode: change none of
 * them.  What a caller may change, before the first handshake that should
 * see it: the security level (SSL_CTX_set_security_level), the cipher list
 * (SSL_CTX_set_cipher_list), the supported groups (SSL_CTX_set1_groups*)
 * and signature algorithms (SSL_CTX_set1_sigalgs*), and keylog or info
 * callbacks for debugging.  The identity is set with
 * dtlsudp_engine_set_identity(), the trust anchors with
 * dtlsudp_engine_set_trust_store(). */
DTLSUDP_EXTERN SSL_CTX *dtlsudp_engine_ssl_ctx(dtlsudp_engine *e);
/* Replace the trust anchors and CRLs for handshakes that verify their peer
 * from now on (a reference is taken; e.g. after a configuration reload). */
DTLSUDP_EXTERN int dtlsudp_engine_set_trust_store(dtlsudp_engine *e, X509_STORE *store);
/* Server with session_tickets: keep up to max_sessions sessions in memory,
 * resumed by session id, instead of issuing tickets (a resumed session
 * then costs a lookup instead of decoding a ticket and the certificate in
 * it).  Only full handshakes with an accepted client certificate add
 * sessions; the least recently used goes when full.  Every resumption
 * checks the session as a ticket is checked: at most ticket_lifetime
 * after its full handshake, and its certificate through the current
 * trust store, CRLs, pins and verify hook (auth->resumed); a session that
 * fails runs in full (an expired one is dropped).  A fatal alert on an
 * established association forgets its session (RFC 5246 7.2.2).  Nothing
 * is stored outside the engine.  Each session holds the client's decoded
 * certificate chain (kilobytes): max_sessions is the caller's memory
 * bound (snmpd's dtlsudpSessionCache allows up to 100000).  0 turns the
 * cache off (tickets again).  Replaces what was cached; call it before
 * handshakes start, never from a callback.  Returns OK, INVALID (NULL),
 * NOMEM. */
DTLSUDP_EXTERN int dtlsudp_engine_set_session_cache(dtlsudp_engine *e, size_t max_sessions);
/* Close (close_notify; CLOSED with DTLSUDP_ERR_PEER_CERT) every established
 * association whose authenticated chain a CRL of the current trust store
 * lists, e.g. after dtlsudp_engine_set_trust_store() with a new CRL.
 * Returns how many were closed. */
DTLSUDP_EXTERN size_t dtlsudp_engine_close_revoked(dtlsudp_engine *e, dtlsudp_time now);
/* Accept peers whose leaf certificate has this fingerprint even if no trust
 * anchor vouches for it, or (server) whose verified chain holds a CA
 * certificate with it.  A client with pins requires one to match its
 * server's own certificate. */
DTLSUDP_EXTERN int dtlsudp_engine_add_peer_fingerprint(dtlsudp_engine *e, const dtlsudp_fingerprint *fp);

/* Feed one received datagram.  local (may be NULL) is the address it
 * arrived on.  *assoc_out (may be NULL) is set to the association the
 * datagram belonged to, or NULL when it was handled statelessly (cookie
 * exchange) or dropped.  Events fire through cfg->on_event.
 * Returns OK; DROPPED (malformed, unknown, stale, or a new peer refused by
 * a cap; counted in the stats); NOMEM (the datagram was dropped, the engine
 * and its associations are fine); an association-fatal code (the
 * association has been closed; its CLOSED event already fired); or an
 * engine-fatal code. */
DTLSUDP_EXTERN int dtlsudp_engine_receive(dtlsudp_engine *e, const dtlsudp_addr *peer,
                                          const dtlsudp_addr *local, const uint8_t *dgram,
                                          size_t len, dtlsudp_time now, dtlsudp_assoc **assoc_out);

typedef struct dtlsudp_connect_opts {
    const dtlsudp_fingerprint *peer_fingerprints; /* server identity pins */
    size_t n_peer_fingerprints;
    const char *hostname; /* with a trusted CA: X509_check_host on the leaf */
    const dtlsudp_addr *local; /* source address, may be NULL */
    /* A session saved by dtlsudp_assoc_session() from an earlier
     * association with this server.  It is offered (abbreviated handshake)
     * only when it was made with the engine's own certificate and the
     * server certificate it holds still passes this connect's pins, host
     * name, trust store and verify hook (auth->resumed); otherwise, or if
     * the server refuses it, the handshake is a full one. */
    const uint8_t *session;
    size_t session_len;
} dtlsudp_connect_opts;

/* Start a client handshake to peer (ClientHello queued for output).  opts
 * may be NULL.  Returns OK, INVALID (bad argument, unknown version), EXISTS
 * (the peer already has an association), LIMIT, NOMEM. */
DTLSUDP_EXTERN int dtlsudp_engine_connect_versioned(int version, dtlsudp_engine *e, const dtlsudp_addr *peer,
                                                    const dtlsudp_connect_opts *opts, dtlsudp_time now,
                                                    dtlsudp_assoc **out);
#define dtlsudp_engine_connect(e, peer, opts, now, out)                                                \
    dtlsudp_engine_connect_versioned(DTLSUDP_CONFIG_VERSION, (e), (peer), (opts), (now), (out))

/* Take the next datagram to send, copied into buf.  *assoc is the
 * association it belongs to, or NULL for stateless replies
 * (HelloVerifyRequest) and for the last words (alert, close_notify) of an
 * association freed since.  *local is the source address to send from
 * (family AF_UNSPEC when any will do).  Returns OK, AGAIN (queue empty),
 * BUFFER (buf too small; the datagram stays queued). */
DTLSUDP_EXTERN int dtlsudp_engine_pop(dtlsudp_engine *e, uint8_t *buf, size_t cap, size_t *len,
                                      dtlsudp_addr *peer, dtlsudp_addr *local, dtlsudp_assoc **assoc);

/* Earliest absolute deadline (handshake deadline, OpenSSL retransmission,
 * idle expiry, cookie-secret rotation), or DTLSUDP_TIME_NEVER.  OpenSSL's
 * retransmission timer reads the real clock (gettimeofday); the engine
 * converts its remaining time to the caller's time base using `now' of the
 * last call.  Every other timer uses the caller's `now' only. */
DTLSUDP_EXTERN dtlsudp_time dtlsudp_engine_next_timeout(const dtlsudp_engine *e);
/* Run every timer due at `now'.  Returns OK or an engine-fatal code. */
DTLSUDP_EXTERN int dtlsudp_engine_handle_timeout(dtlsudp_engine *e, dtlsudp_time now);

/* Send close_notify on every association and free them (CLOSED events fire). */
DTLSUDP_EXTERN void dtlsudp_engine_close_all(dtlsudp_engine *e, dtlsudp_time now);

DTLSUDP_EXTERN dtlsudp_assoc *dtlsudp_engine_find(dtlsudp_engine *e, const dtlsudp_addr *peer);

typedef struct dtlsudp_stats {
    uint64_t cookies_sent;     /* HelloVerifyRequests sent */
    uint64_t cookies_verified; /* ClientHellos with a valid cookie */
    uint64_t cookies_bad;      /* ClientHellos with a wrong or stale cookie */
    uint64_t handshakes_started;
    uint64_t handshakes_completed;
    uint64_t handshakes_failed;    /* protocol or certificate failure */
    uint64_t handshakes_timed_out; /* handshake deadline */
    uint64_t cert_refused;         /* peer certificate refused */
    uint64_t assocs_now;
    uint64_t assocs_peak;
    uint64_t half_open_now;
    uint64_t evictions;
    uint64_t refused_full;      /* new peer refused: a cap was reached */
    uint64_t restarts;          /* RFC 6347 4.2.8 peer restarts completed */
    uint64_t idle_expired;
    uint64_t closes_sent;       /* close_notify sent */
    uint64_t closes_received;   /* close_notify received */
    uint64_t alerts_received;   /* fatal alerts received */
    uint64_t dropped_malformed; /* not a DTLS record / truncated */
    uint64_t dropped_unknown;   /* not a ClientHello, no association */
    uint64_t dropped_queue;     /* a queue was full */
    uint64_t dropped_stale;     /* replayed, wrong epoch, bad MAC (OpenSSL dropped it); a copy
                                 * of the ClientHello of an association that ended */
    uint64_t datagrams_in;
    uint64_t datagrams_out;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t half_open_evicted; /* oldest handshake of a source (or of all) evicted for a newcomer */
    uint64_t source_displaced;  /* established association displaced by max_per_source */
    uint64_t handshakes_resumed; /* completed handshakes that were abbreviated (also in
                                  * handshakes_completed) */
    uint64_t tickets_issued;     /* server: session tickets sent */
    uint64_t tickets_refused;    /* server: tickets presented but not accepted (unknown
                                  * or rotated-out key, tampered, expired, certificate
                                  * no longer accepted); client: stored sessions not
                                  * offered for the same reasons */
} dtlsudp_stats;

/* Returns OK or INVALID (NULL argument, unknown version). */
DTLSUDP_EXTERN int dtlsudp_engine_get_stats_versioned(int version, const dtlsudp_engine *e, dtlsudp_stats *out);
#define dtlsudp_engine_get_stats(e, out) dtlsudp_engine_get_stats_versioned(DTLSUDP_CONFIG_VERSION, (e), (out))

/* --- one association --- */

/* Next queued plaintext datagram.  Returns OK, AGAIN (none queued),
 * BUFFER (cap too small; the datagram stays queued). */
DTLSUDP_EXTERN int dtlsudp_assoc_read(dtlsudp_assoc *a, uint8_t *buf, size_t cap, size_t *len);
/* How many plaintext datagrams wait for dtlsudp_assoc_read() (0 for NULL):
 * an event loop re-announces readiness only while this is non-zero. */
DTLSUDP_EXTERN size_t dtlsudp_assoc_pending(const dtlsudp_assoc *a);
/* Encrypt one datagram (output queued in the engine).  On a client still
 * handshaking, the datagram is held and sent when the handshake completes;
 * a further write while it is held (the application's retry) also sends
 * the current handshake flight again (retransmit_* limits apply).
 * Returns OK, TOO_BIG (larger than the MTU allows), STATE, QUEUE_FULL. */
DTLSUDP_EXTERN int dtlsudp_assoc_write(dtlsudp_assoc *a, const uint8_t *buf, size_t len,
                                       dtlsudp_time now);
/* Largest plaintext dtlsudp_assoc_write() accepts (link MTU minus IP/UDP,
 * record header and cipher overhead).  Before the handshake completes it
 * assumes an AEAD suite; held data is checked again when sent. */
DTLSUDP_EXTERN size_t dtlsudp_assoc_max_write(const dtlsudp_assoc *a);
/* Queue close_notify (once) and free the association; the CLOSED event
 * fires with DTLSUDP_ERR_CLOSED.  `a' is invalid afterwards. */
DTLSUDP_EXTERN void dtlsudp_assoc_close(dtlsudp_assoc *a, dtlsudp_time now);
/* Free without sending anything (e.g. after ICMP unreachable). */
DTLSUDP_EXTERN void dtlsudp_assoc_abort(dtlsudp_assoc *a, int reason, dtlsudp_time now);

DTLSUDP_EXTERN int dtlsudp_assoc_state(const dtlsudp_assoc *a);
DTLSUDP_EXTERN int dtlsudp_assoc_is_client(const dtlsudp_assoc *a);
/* Unique per engine, never reused (safe as a session identifier). */
DTLSUDP_EXTERN uint64_t dtlsudp_assoc_id(const dtlsudp_assoc *a);
DTLSUDP_EXTERN const dtlsudp_addr *dtlsudp_assoc_peer(const dtlsudp_assoc *a);
DTLSUDP_EXTERN const dtlsudp_addr *dtlsudp_assoc_local(const dtlsudp_assoc *a);
DTLSUDP_EXTERN X509 *dtlsudp_assoc_peer_cert(const dtlsudp_assoc *a);
/* The authenticated chain, leaf first: the verified path up to the trust
 * anchor, or the leaf alone for a peer accepted by its pin.  Certificates
 * the peer sent outside that path never appear here.  NULL before the
 * peer is verified. */
DTLSUDP_EXTERN STACK_OF(X509) *dtlsudp_assoc_peer_chain(const dtlsudp_assoc *a);
DTLSUDP_EXTERN const char *dtlsudp_assoc_version(const dtlsudp_assoc *a);
DTLSUDP_EXTERN const char *dtlsudp_assoc_cipher(const dtlsudp_assoc *a);
/* The negotiated suite (OpenSSL's static table entry, valid after the SSL
 * is freed), or NULL before the handshake chose one. */
DTLSUDP_EXTERN const SSL_CIPHER *dtlsudp_assoc_current_cipher(const dtlsudp_assoc *a);
/* 1 once the ESTABLISHED event fired, also inside the CLOSED event. */
DTLSUDP_EXTERN int dtlsudp_assoc_was_established(const dtlsudp_assoc *a);
/* Hang caller data on the association: release(owned) runs when it is
 * freed (after its CLOSED event) or when other data replaces it. */
DTLSUDP_EXTERN void dtlsudp_assoc_set_owned(dtlsudp_assoc *a, void *owned, void (*release)(void *owned));
DTLSUDP_EXTERN void *dtlsudp_assoc_get_owned(const dtlsudp_assoc *a);
/* The TLS AlertDescription (RFC 5246 7.2) of the fatal alert the peer sent
 * (e.g. 48 unknown_ca, 40 handshake_failure), or -1 if none; inside the
 * CLOSED event it tells why a handshake ended.  SSL_alert_desc_string_long()
 * names it. */
DTLSUDP_EXTERN int dtlsudp_assoc_peer_alert(const dtlsudp_assoc *a);
/* OpenSSL's reason when our side failed the handshake ("no shared cipher",
 * ...), static text, or NULL. */
DTLSUDP_EXTERN const char *dtlsudp_assoc_failure_detail(const dtlsudp_assoc *a);
/* enum dtlsudp_trust of the accepted peer (NONE before verification). */
DTLSUDP_EXTERN int dtlsudp_assoc_peer_trust(const dtlsudp_assoc *a);
/* 1 when the handshake was abbreviated (a resumed session), else 0. */
DTLSUDP_EXTERN int dtlsudp_assoc_resumed(const dtlsudp_assoc *a);
/* Client with session_tickets: the session of this established
 * association, with the authenticated server chain and a fingerprint of
 * our own certificate, serialized for dtlsudp_connect_opts.session.  It
 * holds the session's master secret: keep it private (memory, or a file
 * only its owner can read).  Returns OK; AGAIN (no resumable session:
 * server role, not established, tickets off, or the server issued no
 * ticket); BUFFER (*len set to the size needed); NOMEM. */
DTLSUDP_EXTERN int dtlsudp_assoc_session(const dtlsudp_assoc *a, uint8_t *buf, size_t cap, size_t *len);
/* The association's SSL while OpenSSL carries it: during the handshake,
 * and afterwards only if it was not handed off (cfg->keep_ssl, or a
 * suite that is not an AEAD).  NULL after the hand-off. */
DTLSUDP_EXTERN SSL *dtlsudp_assoc_ssl(const dtlsudp_assoc *a);
DTLSUDP_EXTERN dtlsudp_engine *dtlsudp_assoc_engine(const dtlsudp_assoc *a);
DTLSUDP_EXTERN void dtlsudp_assoc_set_user(dtlsudp_assoc *a, void *user);
DTLSUDP_EXTERN void *dtlsudp_assoc_get_user(const dtlsudp_assoc *a);

/* ------------------------------------------------------------------------
 * The socket layer (transport/net)
 * ------------------------------------------------------------------------ */
/* DTLSUDP_NET_API_BEGIN: owned by transport/net */
/*
 * The engine on real UDP sockets, with a socket-like API (in the spirit of
 * PyDTLS): a listener accepts associations as connections; a client
 * connects; connections read and write whole datagrams.
 *
 * Demultiplexing (dtlsudp_listener_config.demux):
 *   DTLSUDP_DEMUX_OSNET  (Linux default) the listener socket stays
 *       unconnected and carries every handshake (stateless cookie gate).
 *       When an association reaches ESTABLISHED it gets its own UDP socket,
 *       bound with SO_REUSEPORT to the address the handshake arrived on
 *       (IP_PKTINFO / IPV6_PKTINFO, so wildcard and multi-homed listeners
 *       work) and connect()ed to the peer; Linux then delivers the peer's
 *       datagrams to that socket.  Datagrams that reach a socket that is not
 *       their peer's (between bind() and connect(), or still queued on the
 *       listener) are routed by source address through the engine: none is
 *       lost or misattributed.  ICMP port unreachable on a per-peer socket
 *       (ECONNREFUSED) ends that association with DTLSUDP_ERR_REFUSED.
 *   DTLSUDP_DEMUX_ROUTER (portable) one socket; every datagram is routed by
 *       its source address through the engine's peer table.
 * Both pass the same test suite, on IPv4, IPv6 and dual-stack ("[::]:p"
 * with IPv4 clients; v4-mapped peers are normalised to AF_INET everywhere,
 * so the engine key, dtlsudp_conn_peer() and the engine's assoc accessors
 * all show 1.2.3.4, never ::ffff:1.2.3.4).
 *
 * Time: the socket layer's time base is dtlsudp_now() (CLOCK_MONOTONIC
 * milliseconds).  Calls that take `now' expect a value of that clock; calls
 * that can wait (accept, read, connect with a timeout) read it themselves.
 *
 * Event-loop use (nothing blocks when every timeout argument is 0):
 *   poll() the fds from dtlsudp_listener_fd()/dtlsudp_conn_fd() for
 *   reading, with the earliest dtlsudp_*_next_timeout() as deadline; on
 *   readability or deadline call dtlsudp_listener_process() /
 *   dtlsudp_conn_process(), then drain dtlsudp_listener_accept(..., 0, ..),
 *   dtlsudp_listener_recv() and dtlsudp_conn_read(..., 0) until AGAIN.
 *   next_timeout() returns a deadline in the past (0) while something is
 *   already waiting in memory (queued plaintext, a connection to accept), so
 *   a loop that honours it never stalls.
 *
 * Ownership: a listener owns its engine, its socket(s) and every connection
 * it has not handed out through dtlsudp_listener_accept().  Those are freed
 * by the listener when their association ends; a pointer obtained from
 * dtlsudp_listener_recv() or dtlsudp_listener_find() stays valid until the
 * next dtlsudp_listener_process(), _handle_timeout(), _accept() or _free()
 * on that listener.  An accepted connection belongs to the caller, who must
 * dtlsudp_conn_free() (or _unwrap()) it before dtlsudp_listener_free().
 * A client connection (dtlsudp_conn_connect()) owns an engine and a socket of
 * its own.
 *
 * Threads.  The rule is per object: a listener, its engine and all of
 * its connections (accepted or not) share state (the engine, and in
 * router mode the socket), so they form one unit to be used by one thread
 * at a time; so does a client connection with its engine.  The library
 * takes no locks and starts no threads.  Distinct listeners and distinct
 * client connections may be used from distinct threads concurrently.
 *
 * What they share: OpenSSL's global state (its error queue is per thread;
 * its initialisation, providers, method and cipher tables are made
 * thread-safe by OpenSSL itself, 1.1.0 and later), the process's file
 * descriptors, and whatever the caller hands to several of them: the same
 * X509_STORE as trust_store, or the same X509 and EVP_PKEY given to
 * dtlsudp_engine_set_identity(), are shared through OpenSSL's reference
 * counts, which OpenSSL allows for concurrent use as long as nobody
 * modifies them meanwhile (replace a store, never add to one in use).
 * What each has of its own: its SSL_CTX (files named in the config are
 * loaded by each engine), cookie secrets, ticket keys, peer table, caps
 * (max_assocs, max_half_open, max_per_source count per listener), timers,
 * statistics and buffers.  Callbacks of one listener always run on the
 * thread that pumps it, but callbacks of different listeners may run at
 * the same time: `user' data shared between them needs the caller's own
 * locking.
 *
 * Sharding (a server that uses several cores): N threads, each with its
 * own listener made with the same address, the same identity and trust,
 * demux ROUTER and reuse_port = 1, each pumping its listener in its own
 * event loop; nothing is handed between threads.  Linux picks the socket
 * of the group for each datagram by a hash of its 4-tuple (source and
 * destination address and port), so a given peer always reaches the same
 * listener: its stateless cookie exchange, its handshake and its
 * association all stay on one engine, and the handshake CPU (signature,
 * ECDHE, chain verification) of different peers runs in parallel.  Each
 * engine has its own cookie secret and ticket key: a cookie or a ticket is
 * only valid at the shard that issued it, which is where the peer returns
 * while the group is unchanged.  When a listener joins or leaves the group
 * (a thread added, or one freed or crashed), the hash is taken over the new
 * set and some peers move to another shard: a handshake in progress there
 * fails its cookie (the client's retransmitted ClientHello gets a new
 * HelloVerifyRequest and starts over), an established association is
 * unknown to its new shard (its datagrams are dropped as unknown until the
 * client handshakes again, e.g. SNMP's retry after a timeout; the old
 * shard's association ends at its idle timeout or is freed with that
 * listener), and a presented ticket is refused (a full handshake instead).
 * So change the set of shards only at start and stop.  Statistics are per
 * listener: sum them for the server.  Per-source caps hold per shard, so
 * the server as a whole admits up to N times max_per_source from one
 * source (datagrams of one source address from different ports hash to
 * different shards).
 *
 * Associations: the socket layer keeps its connection in
 * dtlsudp_assoc_set_user() of every association it manages; callers use
 * dtlsudp_conn_set_user() instead.
 *
 * Engine callbacks: the listener and the client install their own
 * on_event handler on the engine and call cfg->engine.on_event after their
 * own bookkeeping, so a caller may still observe every event; log, random,
 * verify and on_event all still receive cfg->engine.user.  The restrictions
 * on what the callbacks may call are the engine's (dtlsudp_engine_config),
 * and they must not call the dtlsudp_listener_* / dtlsudp_conn_* functions
 * that pump, accept, read, write, shut down or free (they run inside them);
 * the accessors (peer, user, state...) are fine.
 *
 * osnet details: the per-association socket is made at ESTABLISHED (not at
 * cookie verification: failed handshakes never cost an fd); if it cannot be
 * made (EMFILE...) the connection falls back to the listening socket.  When
 * a peer restarts on the same address and port (RFC 6347 4.2.8), the old
 * connection's socket is drained and replaced (dup2) by an unbound socket,
 * so the fd number stays valid for the caller but the kernel routes the
 * peer to the new connection.  The per-association sockets share the
 * listener's port through SO_REUSEPORT, set after bind(): Linux shares such
 * a port only among sockets of the same effective uid, so another local
 * user cannot bind beside the listener.
 */

enum dtlsudp_demux {
    DTLSUDP_DEMUX_DEFAULT = 0, /* OSNET on Linux, ROUTER elsewhere */
    DTLSUDP_DEMUX_OSNET = 1,   /* connected UDP socket per association (Linux) */
    DTLSUDP_DEMUX_ROUTER = 2,  /* one socket, lookup by peer address */
};

typedef struct dtlsudp_listener dtlsudp_listener;
typedef struct dtlsudp_conn dtlsudp_conn;

typedef struct dtlsudp_listener_config {
    dtlsudp_engine_config engine; /* certificates, caps, timers, log, events */
    int demux;                    /* enum dtlsudp_demux */
    /* 0 (default): a datagram that cannot be sent right now (socket buffer
     * full) is dropped and counted, as UDP would; DTLS retransmission and
     * the application recover.  1: sending waits for the socket to drain
     * (poll POLLOUT, at most 1 s per datagram).  The fds handed out are
     * O_NONBLOCK in both modes; waits happen only where a timeout says so. */
    int blocking;
    /* SO_RCVBUF and SO_SNDBUF of the listening socket, so a burst of
     * handshakes is queued rather than dropped; 0 = 1 MiB.  The kernel caps
     * it at net.core.rmem_max / wmem_max (208 KiB by default on Linux). */
    size_t socket_buffer;
    /* IPv6 listeners: 0 (default) lets the wildcard "[::]" take IPv4 too
     * (v4-mapped peers, dual-stack); 1 sets IPV6_V6ONLY, so "[::]:p" and
     * "0.0.0.0:p" can both be bound, as with Net-SNMP's udp6 domain. */
    int v6only;
    /* Since DTLSUDP_CONFIG_V2.  0 (default): the port must be free, as
     * below.  1: share the address with other listeners that set it too,
     * one listener (and thread) per shard: SO_REUSEPORT is set before
     * bind(), and Linux then spreads peers over the group's sockets by a
     * hash of the 4-tuple, so each peer always reaches the same listener
     * while the group is unchanged (see "Threads" above).  Linux lets only
     * sockets of the same effective uid join the group.  Router demux only:
     * osnet's per-peer connected sockets would join the group too and make
     * the kernel's choice among its sockets no longer one per peer, so a
     * peer could reach another shard's engine; OSNET (and DEFAULT on
     * Linux, which is OSNET) with reuse_port is refused with
     * DTLSUDP_ERR_INVALID.  A caller built against V1 gets 0. */
    int reuse_port;
} dtlsudp_listener_config;

/* Defaults: dtlsudp_engine_config_init(), DEMUX_DEFAULT, non-blocking, no
 * port sharing (reuse_port 0).
 * Returns OK or INVALID (NULL, unknown version). */
DTLSUDP_EXTERN int dtlsudp_listener_config_init_versioned(int version, dtlsudp_listener_config *cfg);
#define dtlsudp_listener_config_init(cfg) dtlsudp_listener_config_init_versioned(DTLSUDP_CONFIG_VERSION, (cfg))

/* Open a listener on addr: "127.0.0.1:10161", "0.0.0.0:10161", "[::1]:10161",
 * "[::]:10161" (dual-stack: IPv4 clients too), ":10161" or "10161" (IPv4
 * wildcard).  Numeric only; port 0 picks a free port (see
 * dtlsudp_listener_local_addr()).  The port must be free: the socket is
 * bound without SO_REUSEADDR or SO_REUSEPORT, so it never silently shares
 * a port; osnet sets SO_REUSEPORT right after bind() for its per-peer
 * sockets (shared only among sockets of the same effective uid); router
 * mode sets it, before bind(), only when cfg->reuse_port asks to share the
 * address with other listeners that asked the same.  Also IP_PKTINFO /
 * IPV6_RECVPKTINFO, O_NONBLOCK and FD_CLOEXEC.
 * Returns OK; INVALID (bad address text, bad demux, unknown version; OSNET
 * is Linux-only; reuse_port with a demux other than ROUTER); CONFIG /
 * NOMEM / TLS from dtlsudp_engine_new(); SYSTEM (socket, bind: errno is
 * preserved, EADDRINUSE when the port is taken, also when it is taken by a
 * reuse_port group and this listener did not ask to share it). */
DTLSUDP_EXTERN int dtlsudp_listener_new_versioned(int version, const char *addr, const dtlsudp_listener_config *cfg,
                                                  dtlsudp_time now, dtlsudp_listener **out);
#define dtlsudp_listener_new(addr, cfg, now, out)                                                      \
    dtlsudp_listener_new_versioned(DTLSUDP_CONFIG_VERSION, (addr), (cfg), (now), (out))

/* Send close_notify to every association still in the listener's engine,
 * flush, then free the engine, every connection the listener still owns and
 * its sockets.  Accepted connections must have been freed before.  NULL is
 * a no-op. */
DTLSUDP_EXTERN void dtlsudp_listener_free(dtlsudp_listener *l);

/* A pollable fd (POLLIN) that becomes readable when the listener has work:
 * a datagram on the listening socket or on the socket of a connection the
 * listener still owns (osnet).  In osnet mode it is an epoll fd over those
 * sockets, in router mode the listening socket itself.  Never read from it:
 * call dtlsudp_listener_process(). */
DTLSUDP_EXTERN int dtlsudp_listener_fd(const dtlsudp_listener *l);
DTLSUDP_EXTERN dtlsudp_engine *dtlsudp_listener_engine(dtlsudp_listener *l);
/* The bound address (with the real port when 0 was asked for). */
DTLSUDP_EXTERN const dtlsudp_addr *dtlsudp_listener_local_addr(const dtlsudp_listener *l);
/* DTLSUDP_DEMUX_OSNET or DTLSUDP_DEMUX_ROUTER (DEFAULT resolved). */
DTLSUDP_EXTERN int dtlsudp_listener_demux(const dtlsudp_listener *l);

/* The non-blocking pump: read every datagram queued on the listener's
 * sockets (recvmmsg with the arrival address) and feed it to the engine, run
 * the timers due at `now', give newly established associations their
 * connection (and, osnet, their socket), and send everything the engine has
 * queued (sendmsg from the arrival address, so a wildcard listener replies
 * from the address the client used).  Never blocks.
 * Returns OK (also when nothing was read; per-datagram drops are only
 * counted), or an engine-fatal code (the listener is unusable: free it). */
DTLSUDP_EXTERN int dtlsudp_listener_process(dtlsudp_listener *l, dtlsudp_time now);
/* Run the timers due at `now' and flush, without reading.  Returns as
 * dtlsudp_listener_process(). */
DTLSUDP_EXTERN int dtlsudp_listener_handle_timeout(dtlsudp_listener *l, dtlsudp_time now);
/* Absolute deadline (dtlsudp_now() base) for the next
 * dtlsudp_listener_handle_timeout(), 0 when work is already waiting in
 * memory (a connection to accept, plaintext for dtlsudp_listener_recv()),
 * DTLSUDP_TIME_NEVER when there is none. */
DTLSUDP_EXTERN dtlsudp_time dtlsudp_listener_next_timeout(const dtlsudp_listener *l);
/* The listener's timers only: the engine's (retransmission, idle expiry,
 * key rotation) and the ICMP grace deadlines, DTLSUDP_TIME_NEVER when none;
 * never 0 for work waiting in memory.  For a loop that serves every
 * association through dtlsudp_listener_recv(), drains it after each
 * process/handle_timeout and never calls dtlsudp_listener_accept(): for it
 * established connections waiting to be accepted are no work, yet they keep
 * dtlsudp_listener_next_timeout() at 0. */
DTLSUDP_EXTERN dtlsudp_time dtlsudp_listener_next_timer(const dtlsudp_listener *l);

/* Hand out the next newly established association as a connection (FIFO),
 * pumping the listener while waiting.  timeout_ms: 0 = do not wait,
 * -1 = wait forever, > 0 = wait up to that many ms.  The connection belongs
 * to the caller from now on (dtlsudp_conn_free()).  osnet: it has its own
 * connected socket (dtlsudp_conn_fd()); router: it shares the listener's.
 * Returns OK; AGAIN (nothing within the timeout); or an engine-fatal code. */
DTLSUDP_EXTERN int dtlsudp_listener_accept(dtlsudp_listener *l, int timeout_ms, dtlsudp_conn **out);

/* Router-style receive, no accept needed: the next plaintext datagram from
 * any association of this listener whose connection has not been accepted
 * (round-robin over associations with data).  Datagrams still queued when
 * an association ends are dropped here (its certificate and session are
 * gone); an accepted connection still reads them with dtlsudp_conn_read().  Does not pump: call
 * dtlsudp_listener_process() first.  *from is that association's
 * connection, owned by the listener (see Ownership above); it may be NULL.
 * Returns OK; AGAIN (nothing queued); BUFFER (cap too small, the datagram
 * stays queued: a buffer of 16384 bytes, the record limit, always does). */
DTLSUDP_EXTERN int dtlsudp_listener_recv(dtlsudp_listener *l, uint8_t *buf, size_t cap, size_t *len,
                                         dtlsudp_conn **from);
/* The established association with this peer address (v4-mapped
 * addresses are normalised first), accepted or not, or NULL. */
DTLSUDP_EXTERN dtlsudp_conn *dtlsudp_listener_find(dtlsudp_listener *l, const dtlsudp_addr *peer);

/* Counters of the socket layer plus the engine's. */
typedef struct dtlsudp_net_stats {
    dtlsudp_stats engine;
    uint64_t conns_now;         /* connections alive (owned or accepted) */
    uint64_t conns_accepted;    /* handed out by dtlsudp_listener_accept() */
    uint64_t peer_sockets_now;  /* osnet per-association sockets open */
    uint64_t peer_sockets_made; /* osnet per-association sockets created */
    uint64_t rerouted;          /* datagrams read on a socket not their peer's */
    uint64_t refused;           /* ICMP port unreachable (ECONNREFUSED) */
    uint64_t recv_errors;       /* recvmsg failures other than AGAIN/REFUSED */
    uint64_t send_errors;       /* sendmsg failures (datagram dropped) */
    uint64_t send_dropped_full; /* non-blocking send found the buffer full */
} dtlsudp_net_stats;

/* Returns OK or INVALID (NULL argument, unknown version). */
DTLSUDP_EXTERN int dtlsudp_listener_get_stats_versioned(int version, const dtlsudp_listener *l,
                                                        dtlsudp_net_stats *out);
#define dtlsudp_listener_get_stats(l, out) dtlsudp_listener_get_stats_versioned(DTLSUDP_CONFIG_VERSION, (l), (out))

/* --- connections --- */

typedef struct dtlsudp_conn_config {
    dtlsudp_engine_config engine; /* certificates, trust, timers, log */
    /* Server identity pins, expected host name, source address (the
     * socket is bound to connect.local when set). */
    dtlsudp_connect_opts connect;
    int blocking; /* as in dtlsudp_listener_config */
} dtlsudp_conn_config;

/* Defaults: dtlsudp_engine_config_init(), no pins, non-blocking.
 * Returns OK or INVALID (NULL, unknown version). */
DTLSUDP_EXTERN int dtlsudp_conn_config_init_versioned(int version, dtlsudp_conn_config *cfg);
#define dtlsudp_conn_config_init(cfg) dtlsudp_conn_config_init_versioned(DTLSUDP_CONFIG_VERSION, (cfg))

/* Client: resolve host/port (getaddrinfo, numeric or names, AF_UNSPEC;
 * IPv6 literals without brackets), open a UDP socket connect()ed to the
 * peer and start the handshake.  timeout_ms: 0 = return at once in
 * HANDSHAKING state (drive it with dtlsudp_conn_process() on POLLIN and at
 * dtlsudp_conn_next_timeout(); dtlsudp_conn_write() already works and holds
 * the data until ESTABLISHED); -1 = wait for the handshake as long as the
 * engine's handshake_timeout allows; > 0 = wait up to that many ms.  When
 * waiting, every resolved address is tried in turn.
 * Returns OK (*out set); INVALID (bad argument, unknown version, host not
 * resolvable);
 * TIMEOUT (no handshake in time); PEER_CERT (the server's certificate was
 * refused), HANDSHAKE, PEER_ALERT (the server refused us, e.g. our
 * certificate), REFUSED (ICMP port unreachable); CONFIG/NOMEM/TLS from
 * the engine; SYSTEM.  On error nothing is left allocated. */
DTLSUDP_EXTERN int dtlsudp_conn_connect_versioned(int version, const char *host, const char *port,
                                                  const dtlsudp_conn_config *cfg, int timeout_ms, dtlsudp_time now,
                                                  dtlsudp_conn **out);
#define dtlsudp_conn_connect(host, port, cfg, timeout_ms, now, out)                                    \
    dtlsudp_conn_connect_versioned(DTLSUDP_CONFIG_VERSION, (host), (port), (cfg), (timeout_ms), (now), (out))

/* Pollable fd (POLLIN).  Client and osnet server connections: the
 * connection's own connected UDP socket; router server connections: the
 * listener's fd.  Never read from it: call dtlsudp_conn_process(). */
DTLSUDP_EXTERN int dtlsudp_conn_fd(const dtlsudp_conn *c);

/* The non-blocking pump: read every datagram queued on the connection's
 * socket (router: the listener's), run the timers due at `now', flush.
 * Returns OK (also when the association ended in the meantime: see
 * dtlsudp_conn_state()/_last_error()), or an engine-fatal code. */
DTLSUDP_EXTERN int dtlsudp_conn_process(dtlsudp_conn *c, dtlsudp_time now);
/* Absolute deadline as dtlsudp_listener_next_timeout(); 0 when plaintext is
 * already queued for dtlsudp_conn_read().  A server connection shares its
 * listener's timers. */
DTLSUDP_EXTERN dtlsudp_time dtlsudp_conn_next_timeout(const dtlsudp_conn *c);
/* Run due timers and flush.  Returns as dtlsudp_conn_process(). */
DTLSUDP_EXTERN int dtlsudp_conn_handle_timeout(dtlsudp_conn *c, dtlsudp_time now);

/* Next plaintext datagram, pumping while waiting.  timeout_ms: 0 = do not
 * wait, -1 = forever, > 0 = up to that many ms.
 * Returns OK; AGAIN (nothing within the timeout); BUFFER (cap too small;
 * the datagram stays queued; 16384 bytes always do); once the
 * association has ended and every queued datagram was read: the reason it
 * ended (CLOSED for close_notify either way, IDLE, TIMEOUT, REFUSED,
 * REPLACED, EVICTED, PEER_CERT, PEER_ALERT, HANDSHAKE); engine-fatal codes. */
DTLSUDP_EXTERN int dtlsudp_conn_read(dtlsudp_conn *c, uint8_t *buf, size_t cap, size_t *len,
                                     int timeout_ms);
/* Encrypt and send one datagram (a client still handshaking holds it until
 * ESTABLISHED).  Returns OK; TOO_BIG (larger than dtlsudp_conn_max_write());
 * QUEUE_FULL; STATE (server connection not established); the reason the
 * association ended if it has; engine-fatal codes. */
DTLSUDP_EXTERN int dtlsudp_conn_write(dtlsudp_conn *c, const uint8_t *buf, size_t len);
/* Largest datagram dtlsudp_conn_write() accepts; 0 once closed. */
DTLSUDP_EXTERN size_t dtlsudp_conn_max_write(const dtlsudp_conn *c);

/* DTLSUDP_STATE_HANDSHAKING, _ESTABLISHED or _CLOSED. */
DTLSUDP_EXTERN int dtlsudp_conn_state(const dtlsudp_conn *c);
/* Why the association ended (a negative DTLSUDP_ERR_*), or OK while alive. */
DTLSUDP_EXTERN int dtlsudp_conn_last_error(const dtlsudp_conn *c);

/* Send close_notify once (RFC 6353 5.4) and free the DTLS state; the socket
 * stays open (see dtlsudp_conn_unwrap()).  Later reads return CLOSED.
 * Returns OK, or STATE when the association had already ended. */
DTLSUDP_EXTERN int dtlsudp_conn_shutdown(dtlsudp_conn *c);
/* Give back the plain UDP socket (O_NONBLOCK, connected to the peer) and free the
 * connection (close_notify is sent first if dtlsudp_conn_shutdown() was
 * not called).  *fd belongs to the caller.  Returns OK (c freed); STATE
 * for a router server connection (its socket is the listener's; c is left
 * untouched). */
DTLSUDP_EXTERN int dtlsudp_conn_unwrap(dtlsudp_conn *c, int *fd);
/* Close (close_notify if still alive), close the connection's own socket
 * and free it; a client also frees its engine.  NULL is a no-op. */
DTLSUDP_EXTERN void dtlsudp_conn_free(dtlsudp_conn *c);

/* The association (peer certificate, chain, version, cipher, id through
 * the dtlsudp_assoc_* accessors), or NULL once it has ended. */
DTLSUDP_EXTERN dtlsudp_assoc *dtlsudp_conn_assoc(const dtlsudp_conn *c);
/* Peer and local address (normalised), valid for the connection's life. */
DTLSUDP_EXTERN const dtlsudp_addr *dtlsudp_conn_peer(const dtlsudp_conn *c);
DTLSUDP_EXTERN const dtlsudp_addr *dtlsudp_conn_local(const dtlsudp_conn *c);
/* The listener a server connection came from; NULL for a client. */
DTLSUDP_EXTERN dtlsudp_listener *dtlsudp_conn_listener(const dtlsudp_conn *c);
DTLSUDP_EXTERN void dtlsudp_conn_set_user(dtlsudp_conn *c, void *user);
DTLSUDP_EXTERN void *dtlsudp_conn_get_user(const dtlsudp_conn *c);

typedef struct dtlsudp_conn_stats {
    uint64_t datagrams_read; /* plaintext, by dtlsudp_conn_read()/listener_recv() */
    uint64_t bytes_read;
    uint64_t datagrams_written; /* plaintext, by dtlsudp_conn_write() */
    uint64_t bytes_written;
    /* The engine and sockets behind the connection: its own for a client,
     * the listener's (shared with its other connections) for a server. */
    dtlsudp_net_stats net;
} dtlsudp_conn_stats;

/* Returns OK or INVALID (NULL argument, unknown version). */
DTLSUDP_EXTERN int dtlsudp_conn_get_stats_versioned(int version, const dtlsudp_conn *c, dtlsudp_conn_stats *out);
#define dtlsudp_conn_get_stats(c, out) dtlsudp_conn_get_stats_versioned(DTLSUDP_CONFIG_VERSION, (c), (out))
/* DTLSUDP_NET_API_END */

#ifdef __cplusplus
}
#endif
#endif /* DTLSUDP_H */
