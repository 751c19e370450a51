/*
 * proxy.h - dtlsudp-proxy: DTLS in front of any UDP service, on the public
 * libdtlsudp API only (dtlsudp.h, libc, OpenSSL).
 *
 *   config.c   the configuration file and command line -> proxy_service list
 *   identity.c certificates, keys, CA and CRL: loading and SIGHUP reloads
 *   server.c   terminate: DTLS listener -> one upstream UDP socket per association
 *   client.c   originate: plain UDP socket -> one DTLS association per local source
 *   map.c      sessions by key (hash map) and by deadline (min-heap)
 *   main.c     options, logging, one epoll loop over every service (signals
 *              through a signalfd), start and stop
 */
#ifndef DTLSUDP_PROXY_H
#define DTLSUDP_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dtlsudp.h"

enum proxy_mode {
    PROXY_MODE_NONE = 0,
    PROXY_MODE_SERVER = 1, /* terminate DTLS, forward plaintext to a UDP service */
    PROXY_MODE_CLIENT = 2, /* take plain UDP, originate DTLS toward a server */
};

#define PROXY_MAX_PINS 16
#define PROXY_NAME_MAX 64

/* One service as configured: everything here is plain data, so config.c
 * can be tested without sockets. */
typedef struct proxy_service_config {
    char name[PROXY_NAME_MAX];
    int mode;               /* enum proxy_mode */
    char *listen;           /* server: DTLS address; client: plain UDP address */
    char *forward;          /* server: the UDP service, numeric "addr:port" */
    char *connect_host;     /* client: the DTLS server (a name or a literal) */
    char *connect_port;
    char *hostname;         /* client: expected name in the server's certificate */
    char *cert_file, *key_file, *ca_file, *crl_file;
    dtlsudp_fingerprint pins[PROXY_MAX_PINS];
    size_t n_pins;
    int demux;              /* enum dtlsudp_demux (server) */
    size_t max_assocs, max_half_open, max_half_open_per_source, max_per_source;
    dtlsudp_time handshake_timeout, idle_timeout; /* ms, 0 = library default */
    size_t max_sessions;    /* client: local sources served at once (0 = 1024) */
    char origin[256];       /* "FILE:LINE" of the section, or "command line" */
} proxy_service_config;

typedef struct proxy_config {
    proxy_service_config *services;
    size_t n_services;
} proxy_config;

/* Parse a configuration file.  On error returns -1 with "FILE:LINE: reason"
 * in err; every service found is checked by proxy_config_validate(). */
int proxy_config_load(proxy_config *cfg, const char *path, char *err, size_t errcap);
/* Same, from a string (`name' stands for the file name in messages). */
int proxy_config_parse(proxy_config *cfg, const char *text, const char *name, char *err, size_t errcap);
/* One "KEY VALUE" setting of a service, as in the file ("cert", "listen"...).
 * Returns 0, or -1 with the reason (no location) in err. */
int proxy_service_set(proxy_service_config *s, const char *key, const char *value, char *err, size_t errcap);
/* Completeness and consistency of one service.  0 or -1 with a reason. */
int proxy_service_validate(const proxy_service_config *s, char *err, size_t errcap);
/* A new, empty service appended to cfg (NULL when out of memory). */
proxy_service_config *proxy_config_add(proxy_config *cfg, const char *name);
void proxy_config_free(proxy_config *cfg);

/* Fill an engine configuration from a service (files, caps, timers). */
void proxy_engine_config(const proxy_service_config *s, dtlsudp_engine_config *out);
/* "host:port", "[v6]:port" -> host and port strings (malloc'd). */
int proxy_split_host_port(const char *text, char **host, char **port);

/* ---- map.c: sessions by key and by deadline (no sockets: unit-tested) ---- */

/* A session's key: a source address (family, port, address, scope id) or
 * an association id, as bytes. */
typedef struct proxy_key {
    uint8_t len;
    uint8_t b[24];
} proxy_key;
void proxy_key_addr(proxy_key *k, const dtlsudp_addr *a);
void proxy_key_id(proxy_key *k, uint64_t id);

/* Embedded in the session; the map allocates only its bucket array. */
typedef struct proxy_map_node {
    struct proxy_map_node *next;
    uint64_t hash;
    proxy_key key;
} proxy_map_node;

typedef struct proxy_map {
    proxy_map_node **buckets;
    size_t n_buckets, count;
    uint64_t seed;
} proxy_map;

/* 0, or -1 (out of memory, no random seed). */
int proxy_map_init(proxy_map *m);
void proxy_map_free(proxy_map *m); /* the bucket array only */
proxy_map_node *proxy_map_find(const proxy_map *m, const proxy_key *k);
/* k must not be in the map yet. */
void proxy_map_insert(proxy_map *m, proxy_map_node *n, const proxy_key *k);
void proxy_map_remove(proxy_map *m, proxy_map_node *n);

/* A min-heap of sessions by deadline (dtlsudp_now() base). */
typedef struct proxy_heap_node {
    dtlsudp_time deadline;
    size_t index;
} proxy_heap_node;

typedef struct proxy_heap {
    proxy_heap_node **v;
    size_t count, cap;
} proxy_heap;

int proxy_heap_insert(proxy_heap *h, proxy_heap_node *n, dtlsudp_time deadline); /* 0 or -1 */
void proxy_heap_update(proxy_heap *h, proxy_heap_node *n, dtlsudp_time deadline);
void proxy_heap_remove(proxy_heap *h, proxy_heap_node *n);
proxy_heap_node *proxy_heap_top(const proxy_heap *h); /* earliest deadline, or NULL */
void proxy_heap_free(proxy_heap *h);

/* ---- running services (server.c, client.c) and their loop (loop.c) ---- */

typedef struct proxy_loop {
    int epfd;
} proxy_loop;
typedef struct proxy_server proxy_server;
typedef struct proxy_client proxy_client;

/* What an epoll event points at. */
typedef struct proxy_watch {
    void (*ready)(struct proxy_watch *w, uint32_t events, dtlsudp_time now);
} proxy_watch;

int proxy_loop_open(proxy_loop *loop); /* 0 or -1 (errno) */
void proxy_loop_close(proxy_loop *loop);
int proxy_loop_add(proxy_loop *loop, int fd, proxy_watch *w);
void proxy_loop_del(proxy_loop *loop, int fd);
/* Wait at most timeout_ms (-1: no limit) and run every watch that is ready.
 * Returns how many ran (0 also for a signal), or -1 (errno). */
int proxy_loop_run_once(proxy_loop *loop, int timeout_ms);

/* A slot holds any datagram an association can carry: the proxy leaves the
 * library's MTU (1500 / 1280) alone, so a record's plaintext is below 1500
 * bytes; longer ones are reported with their real length (MSG_TRUNC) and
 * dropped, as dtlsudp_conn_write() would. */
#define PROXY_SLOT 2048

/* Called for each datagram read from a socket, with its sender; len may
 * exceed PROXY_SLOT (the datagram was truncated).  Nonzero stops the
 * reading (the socket was closed meanwhile). */
typedef int (*proxy_datagram_fn)(void *arg, const dtlsudp_addr *src, const uint8_t *buf, size_t len);

/* Read what fd holds, with one recvmmsg() of up to 16 datagrams at a time
 * and at most 4 of them per wake-up, so one busy peer cannot starve the
 * others (the loop comes back for the rest). */
void proxy_read_datagrams(int fd, proxy_datagram_fn each, void *arg);

/* ---- main.c: the command line, the signals, the running services ---- */

/* What the command line asks for. */
typedef struct proxy_options {
    proxy_config cfg; /* the file's services, then the command line's */
    int check_only;   /* --check */
} proxy_options;

#define PROXY_OPTIONS_RUN (-1)
/* Read the options (-v and -q set proxy_verbosity), the file given by -c
 * and the service the options describe; errors and usage go to err.
 * Returns PROXY_OPTIONS_RUN with o->cfg holding every service (free it),
 * or the exit status with o->cfg empty: 0 after --help, 2 for a usage or
 * configuration error, 1 when out of memory. */
int proxy_options_parse(int argc, char **argv, FILE *err, proxy_options *o);
/* --check: whether the files of every service load (identity, CA, CRL).
 * 0, or 1 with a line on err per service that would not start. */
int proxy_check_files(const proxy_config *cfg, FILE *err);
/* The epoll_wait() timeout toward the deadline `next': -1 for none,
 * 0 when due, at most a minute. */
int proxy_wait_ms(dtlsudp_time next, dtlsudp_time now);

/* SIGHUP, SIGTERM, SIGINT and SIGUSR1, blocked and read from a signalfd
 * whose watch sets the flags: reload, stop, report. */
typedef struct proxy_signals {
    proxy_watch watch;
    int fd;
    int stop, reload, report;
} proxy_signals;
int proxy_signals_open(proxy_signals *sg); /* 0 or -1 (errno) */
void proxy_signals_close(proxy_signals *sg);

/* Start every service of cfg and run them until SIGTERM or SIGINT; the
 * counters are logged at the end.  Returns 0, or 1 when a service could
 * not start or the loop failed. */
int proxy_run(const proxy_config *cfg);

/* Log a line: "dtlsudp-proxy[SERVICE]: ..." on stderr (journald keeps it). */
void proxy_log(int level, const char *service, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
extern int proxy_verbosity; /* highest level printed (DTLSUDP_LOG_*) */

/* Counters of one service, printed at exit and on SIGUSR1. */
typedef struct proxy_counters {
    uint64_t sessions_opened, sessions_closed;
    uint64_t to_service, to_service_dropped;   /* plaintext datagrams toward the UDP side */
    uint64_t to_peer, to_peer_dropped;         /* datagrams toward the DTLS side */
    uint64_t sessions_refused;                 /* client: max_sessions reached */
} proxy_counters;

int proxy_server_new(const proxy_service_config *s, proxy_loop *loop, dtlsudp_time now, proxy_server **out);
void proxy_server_free(proxy_server *p);
dtlsudp_time proxy_server_next_timeout(const proxy_server *p);
void proxy_server_timeout(proxy_server *p, dtlsudp_time now);
/* SIGHUP: new identity, trust anchors and CRL for later handshakes; open
 * associations stay (those a new CRL revokes are closed). */
int proxy_server_reload(proxy_server *p, const proxy_service_config *s, dtlsudp_time now);
void proxy_server_report(const proxy_server *p);
const dtlsudp_addr *proxy_server_local(const proxy_server *p);

int proxy_client_new(const proxy_service_config *s, proxy_loop *loop, dtlsudp_time now, proxy_client **out);
void proxy_client_free(proxy_client *p);
dtlsudp_time proxy_client_next_timeout(const proxy_client *p);
void proxy_client_timeout(proxy_client *p, dtlsudp_time now);
int proxy_client_reload(proxy_client *p, const proxy_service_config *s, dtlsudp_time now);
void proxy_client_report(const proxy_client *p);
const dtlsudp_addr *proxy_client_local(const proxy_client *p);

/* identity.c: a trust store from the CA file and CRL (either may be NULL;
 * NULL store and -1 on a file that cannot be read or parsed). */
int proxy_trust_store(const char *ca_file, const char *crl_file, X509_STORE **out, char *err, size_t errcap);
/* Check that cert_file and key_file load and match, without using them. */
int proxy_identity_check(const char *cert_file, const char *key_file, char *err, size_t errcap);
/* Install cert_file/key_file as e's identity (after proxy_identity_check()). */
int proxy_identity_install(dtlsudp_engine *e, const char *cert_file, const char *key_file, char *err, size_t errcap);

/* Describe an authenticated peer for the per-association log line:
 * subject, SHA-256 fingerprint, trust. */
void proxy_describe_peer(dtlsudp_assoc *a, char *buf, size_t cap);

#endif
