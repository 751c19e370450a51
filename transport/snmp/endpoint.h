/*
 * endpoint.h - the state behind one dtlsudp netsnmp_transport, shared by
 * the modules of the transport (internal to transport/snmp).
 *
 *   transport.c  the netsnmp_transport hooks; they dispatch by role
 *   server.c     agent side: listener, queue of decrypted messages
 *   client.c     manager side: one connection, opened on demand
 *   endpoint.c   lifetime, engine callbacks, timers, the epoll fd and its
 *                eventfd, statistics for the MIB modules
 *   peerauth.c   the verify callback, the agent's trust store, refusal and
 *                failure log lines
 *
 * The transport's fd (what the application's select() watches) is an
 * epoll fd over two fds: the socket layer's pollable fd, and an eventfd
 * that is readable exactly while decrypted messages wait in memory.  So
 * select() wakes for new datagrams and, after f_recv has delivered one
 * message, again for the next one already decrypted: none is left waiting
 * without a wake-up, in snmpd as in any Net-SNMP application (no
 * register_readfd needed).
 *
 * Timers: the engine's next deadline arms a snmp_alarm (agent loop) after
 * every pump, recv and send.  Synchronous managers run no alarms while
 * waiting (snmp_synch_response selects with NETSNMP_SELECT_NOALARMS), so a
 * client's epoll fd also holds a timerfd armed at the same deadline: the
 * application's select() wakes when a handshake flight is due for
 * retransmission (RFC 6347 4.2.4) and f_recv runs the timers, whatever the
 * application's own retry timeout.
 */
#ifndef DTLSUDP_SNMP_ENDPOINT_H
#define DTLSUDP_SNMP_ENDPOINT_H

#include "snmp_internal.h"
#include "../engine/list.h"

#include <openssl/x509.h>

#define TDATA_MAGIC 0x64746c73u /* "dtls" */
#define QUEUE_MAX 1024          /* decrypted messages waiting for f_recv */
#define SECNAME_CAP 33

/* IP + UDP + the largest DTLS 1.2 record overhead we allow (CBC-SHA384:
 * header 13, IV 16, MAC 48, padding 16). */
#define OVERHEAD_V4 (20 + 8 + 93)
#define OVERHEAD_V6 (40 + 8 + 93)

typedef struct queued_msg {
    dtlsudp_link link; /* on the endpoint's queue */
    uint64_t assoc_id;
    dtlsudp_addr peer, local;
    int level;
    char sec_name[SECNAME_CAP];
    size_t len;
    uint8_t data[];
} queued_msg;

typedef struct endpoint {
    int refs;
    int is_server;
    dtlsudp_addr addr; /* server: bound address; client: the peer */
    int family;
    int v6only; /* server: dtlsudp6:/dtls6: bind IPv6 only */
    dtlsudp_snmp_settings settings;

    /* server */
    dtlsudp_listener *listener;
    int event_fd;   /* readable while decrypted messages wait */
    int event_set;  /* event_fd's counter is non-zero */
    int poll_fd;    /* epoll: event_fd + the socket layer's fd; t->sock */
    int watched_fd; /* the socket layer's fd currently in poll_fd */
    dtlsudp_link queue; /* queued_msg, oldest first */
    size_t q_len;
    uint64_t q_dropped;
    struct endpoint *next_server; /* the list behind the MIB accessors */
    struct endpoint *next_all;

    /* client */
    dtlsudp_conn *conn;
    char *our_identity, *their_identity, *their_hostname, *trust_cert;
    char sec_name[SECNAME_CAP]; /* the session's, sent back to TSM */
    X509_STORE *trust;          /* chain verification of the server */
    dtlsudp_fingerprint pin;
    int have_pin;
    int counted_open_error;
    int last_alert;             /* the peer's fatal alert that ended the handshake, -1 none */
    const char *last_detail;    /* our side's OpenSSL reason, or NULL */
    int held_writes;         /* messages written while the handshake ran */
    long session_timeout_ms; /* the session's retry timeout (setup_session) */
    int timer_fd;            /* in poll_fd: readable when a timer is due */
    dtlsudp_time timer_at;   /* what timer_fd is armed for */
    uint8_t session_key[DTLSUDP_SNMP_SESSION_KEY_LEN]; /* sesscache.c, with settings.resume */

    unsigned alarm_reg;
    dtlsudp_time alarm_at;
} endpoint;

typedef struct tdata {
    uint32_t magic;
    endpoint *ep;
} tdata;

/* Every endpoint (endpoint_all, through next_all) and the servers among
 * them (endpoint_servers, through next_server), newest first. */
extern endpoint *endpoint_servers;
extern endpoint *endpoint_all;

/* ------------------------------------------------------------ endpoint.c */

/* The endpoint behind a transport (NULL if t is not ours). */
endpoint *endpoint_of(netsnmp_transport *t);
/* The endpoint an engine callback is about. */
endpoint *endpoint_find(void *user, dtlsudp_assoc *a);
/* Drop one reference; the last closes the listener or connection. */
void endpoint_release(endpoint *ep);
/* The engine settings every association of ep's gets, callbacks included. */
void endpoint_engine_config(endpoint *ep, dtlsudp_engine_config *cfg);
/* Arm the alarm (and a client's timerfd) for the engine's next deadline. */
void endpoint_arm(endpoint *ep);
/* Consume the timerfd once its deadline has passed. */
void endpoint_timer_clear(endpoint *ep);
/* Make the eventfd readable / not readable (no system call when it is so). */
void endpoint_signal(endpoint *ep);
void endpoint_unsignal(endpoint *ep);
/* The epoll fd and eventfd behind t->sock; the fd it watches; a client's
 * timerfd.  Each returns 0 or -1 (errno set). */
int endpoint_poll_open(endpoint *ep);
int endpoint_poll_watch(endpoint *ep, int fd);
int endpoint_poll_add_timer(endpoint *ep);
void endpoint_poll_close(endpoint *ep);

/* -------------------------------------------------------------- server.c */

int server_open(endpoint *ep);
void server_close(endpoint *ep);
/* Pump the listener; announce: signal the eventfd for what was queued.
 * Returns the number of messages queued. */
int server_pump(endpoint *ep, int announce);
/* Queue what an ending association still holds, undelivered. */
void server_queue_leftovers(endpoint *ep, dtlsudp_assoc *a);
/* f_recv: one queued message into buf, *ref describing it for TSM.
 * Returns its length, or -1 when there is none to deliver. */
int server_recv(endpoint *ep, void *buf, size_t size, netsnmp_tmStateReference **ref);
/* f_send: over the association the request came in on, or dropped and
 * counted.  Returns size or -1. */
int server_send(endpoint *ep, const netsnmp_tmStateReference *ref, const void *buf, int size);

/* -------------------------------------------------------------- client.c */

int client_connect(endpoint *ep);
void client_close(endpoint *ep);
/* Keep the session of an established association for the next connection. */
void client_store_session(endpoint *ep, dtlsudp_assoc *a);
/* f_recv: like server_recv, from the connection. */
int client_recv(endpoint *ep, void *buf, size_t size, netsnmp_tmStateReference **ref);
/* f_send: (re)connect as needed, then write.  Returns size or -1. */
int client_send(endpoint *ep, netsnmp_transport *t, const netsnmp_tmStateReference *ref, const void *buf,
                int size);

/* ------------------------------------------------------------ peerauth.c */

int peerauth_on_verify(void *user, dtlsudp_assoc *a, const dtlsudp_peer_auth *auth);
/* The securityName the verify callback gave the association, or NULL. */
const char *peerauth_secname(dtlsudp_assoc *a);
/* The SNMP security level of the association's cipher (0: refused). */
int peerauth_level(dtlsudp_assoc *a);
/* The agent's trust store, rebuilt after a reload (set on every
 * listener's engine); usable: it loaded (an unusable CRL fails closed). */
X509_STORE *peerauth_server_trust(void);
int peerauth_server_trust_usable(void);
void peerauth_server_trust_expire(void);
/* What a failed handshake means and what to do about it. */
void peerauth_explain_failure(int alert, const char *detail, int we_are_server, char *out, size_t cap);
void peerauth_log_server_failure(dtlsudp_assoc *a, int reason);

#endif
