/*
 * net_internal.h - shared internals of the socket layer (transport/net).
 * Not installed.  Everything here is hidden by -fvisibility=hidden.
 *
 * Layout:
 *   sockio.c    addresses (parse, normalise v4-mapped), sockets, recvmsg and
 *               sendmsg with the arrival/source address (IP_PKTINFO,
 *               IPV6_PKTINFO)
 *   listener.c  dtlsudp_listener_*: the listening socket, the router
 *               path, reading and flushing, the accept and ready queues,
 *               the engine event handler
 *   osnet.c     the osnet demultiplexer's per-peer sockets (Linux)
 *   conn.c      dtlsudp_conn_*: client connections and the connection API
 *               shared by client and server connections
 */
#ifndef DTLSUDP_NET_INTERNAL_H
#define DTLSUDP_NET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dtlsudp.h"
#include "../engine/list.h"

/* Largest datagram the layer reads or writes (a UDP payload cannot exceed it). */
#define NET_MAX_DATAGRAM 65536
/* Datagrams read from one socket per pump, so one busy socket cannot starve
 * the others (the fds stay readable and the next pump continues). */
#define NET_READ_BATCH 256
/* Datagrams one recvmmsg() may return (net_recv_batch): a listener's
 * batch, and a client connection's (one answer and room to see whether
 * another follows). */
#define NET_RECV_BATCH 8
#define NET_CONN_RECV_BATCH 2
/* Default socket buffers of a listening socket (dtlsudp_listener_config). */
#define NET_LISTENER_SOCKBUF (1024 * 1024)
/* Longest wait for a full socket buffer in blocking mode. */
#define NET_SEND_WAIT_MS 1000

/* ---- sockio.c ---- */

/* v4-mapped IPv6 (::ffff:a.b.c.d) becomes AF_INET; everything else is
 * copied.  The engine key and everything the API shows use this form. */
void net_addr_normalise(dtlsudp_addr *a);
/* The form a socket of `family' needs for an address in normal form:
 * AF_INET on an AF_INET6 socket becomes v4-mapped. */
void net_addr_for_family(const dtlsudp_addr *in, int family, dtlsudp_addr *out);
int net_addr_is_wildcard(const dtlsudp_addr *a);
socklen_t net_addr_len(const dtlsudp_addr *a);
int net_addr_same(const dtlsudp_addr *a, const dtlsudp_addr *b);
/* "a.b.c.d:p", "[v6]:p", "[v6]", ":p", "p", "a.b.c.d".  Numeric only. */
int net_addr_parse(const char *text, dtlsudp_addr *out);

/* A UDP socket of `family', O_NONBLOCK and FD_CLOEXEC, with the arrival
 * address enabled (IP_PKTINFO / IPV6_RECVPKTINFO); reuse sets SO_REUSEPORT
 * (shared only with sockets of the same effective uid);
 * for AF_INET6, v6only as given.  Returns the fd or -1 (errno set). */
int net_socket(int family, int reuse, int v6only);

typedef struct net_dgram {
    uint8_t *buf;       /* caller memory, NET_MAX_DATAGRAM bytes */
    size_t len;
    dtlsudp_addr peer;  /* normalised */
    dtlsudp_addr local; /* normalised; AF_UNSPEC when the kernel gave none */
} net_dgram;

/* One non-blocking read of up to n (<= NET_RECV_BATCH) datagrams into
 * d[0..n-1], each with its own buf.  Returns how many were read, at least
 * 1, or -1 with errno (EAGAIN when nothing is queued, ECONNREFUSED on a
 * connected socket after ICMP port unreachable...).  Fewer than n means
 * the queue was empty at that moment (or an error is pending for the next
 * call): no need to call again until the fd polls readable.  A truncated
 * datagram counts with len 0. */
int net_recv_batch(int fd, net_dgram *d, unsigned n);
/* net_recv_batch() of one: 0 (d filled) or -1 with errno. */
int net_recv(int fd, net_dgram *d);

/* Send one datagram.  to == NULL: connected socket.  from (may be NULL or
 * AF_UNSPEC): the source address, sent as IP_PKTINFO/IPV6_PKTINFO.
 * family is the socket's.  blocking: wait up to NET_SEND_WAIT_MS for room.
 * Returns 0, or -1 with errno. */
int net_send(int fd, int family, const uint8_t *buf, size_t len, const dtlsudp_addr *to,
             const dtlsudp_addr *from, int blocking);

/* Where net_flush() sends one datagram the engine handed out. */
typedef struct net_route {
    int fd, family;                /* the socket, and its family */
    const dtlsudp_addr *to, *from; /* NULL, NULL on a connected socket */
    dtlsudp_conn *conn;            /* told of ECONNREFUSED (a hint), or NULL: a send error */
} net_route;
/* Fill *r for the datagram of association a (NULL: none, e.g. a
 * HelloVerifyRequest) to peer from local. */
typedef void (*net_route_fn)(void *self, dtlsudp_assoc *a, const dtlsudp_addr *peer, const dtlsudp_addr *local,
                             net_route *r);

/* Pop every datagram e holds into buf (NET_MAX_DATAGRAM bytes) and send it
 * where route says.  A failed send loses that datagram only, counted in
 * stats: send_dropped_full (socket buffer full), refused (ECONNREFUSED
 * with a route conn: net_conn_refused_hint() with grace, and
 * *refused_pending |= its result when not NULL), send_errors (the rest).
 * Returns OK, or the engine's error. */
int net_flush(dtlsudp_engine *e, uint8_t *buf, int blocking, net_route_fn route, void *self, dtlsudp_net_stats *stats,
              dtlsudp_time now, dtlsudp_time grace, int *refused_pending);

/* Milliseconds from now until deadline, for poll(): -1 for never, capped
 * by limit_ms when limit_ms >= 0. */
int net_poll_timeout(dtlsudp_time now, dtlsudp_time deadline, int limit_ms);

/* ---- hooks.c ---- */

/* The engine has one `user' argument for all its callbacks, and the socket
 * layer needs it for its own event handler.  The caller's callbacks and
 * argument are kept here and forwarded.  A net_hooks is the first member of
 * both dtlsudp_listener and dtlsudp_conn, so the engine's `user' (the
 * listener or the client connection) points at one. */
typedef struct net_hooks {
    void (*on_event)(void *user, dtlsudp_assoc *a, int event, int reason);
    void (*log)(void *user, int level, const char *message);
    int (*random)(void *user, uint8_t *buf, size_t len);
    dtlsudp_verify_fn verify;
    void *user;
} net_hooks;

/* Save cfg's callbacks into h and point cfg at the forwarders, with
 * on_event = handler and user = self (whose first member is h). */
void net_hooks_install(net_hooks *h, dtlsudp_engine_config *cfg, void *self,
                       void (*handler)(void *, dtlsudp_assoc *, int, int));
/* Forward an event to the caller's on_event, if any. */
void net_hooks_event(const net_hooks *h, dtlsudp_assoc *a, int event, int reason);
/* Log through the caller's log callback, if any (printf-style). */
void net_hooks_log(const net_hooks *h, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- listener.c / conn.c ---- */

/* Plaintext still queued when an association ended (e.g. data followed by
 * close_notify in one burst): moved out of the engine inside the CLOSED
 * event so the application still reads it before the end reason. */
typedef struct net_leftover {
    dtlsudp_link link; /* on its connection's leftovers */
    size_t len;
    uint8_t data[];
} net_leftover;

/* Largest plaintext datagram an association can hold (one record). */
#define NET_MAX_PLAINTEXT (16384 + 2048)

/* Move every datagram still queued in a into c (inside the CLOSED event). */
void net_conn_keep_leftovers(dtlsudp_conn *c, dtlsudp_assoc *a);
/* Pop one leftover into buf: OK, AGAIN (none), BUFFER (cap too small). */
int net_conn_pop_leftover(dtlsudp_conn *c, uint8_t *buf, size_t cap, size_t *len);
void net_conn_free_leftovers(dtlsudp_conn *c);

struct dtlsudp_conn {
    net_hooks hooks;            /* client: the caller's callbacks; first member */
    dtlsudp_listener *listener; /* server connection; NULL for a client */
    dtlsudp_engine *engine;     /* client: owned; server: the listener's */
    dtlsudp_assoc *assoc;       /* NULL once the association ended */
    int fd;                     /* own socket (client, osnet server) or -1 */
    int family;                 /* of fd */
    int blocking;
    dtlsudp_addr peer, local; /* normalised */
    int last_error;           /* why the association ended */
    int accepted;             /* server: handed to the caller */
    int data_pending;         /* DATA event seen, not yet read to AGAIN */
    int local_close;          /* ended by our close_notify */
    int zombie;               /* server, not accepted, ended: freed soon */
    int in_ready;             /* on the listener's ready queue */
    int in_accept;            /* on the listener's accept queue */
    int needs_socket;         /* osnet: per-peer socket still to make */
    int in_epoll;             /* fd registered in the listener's epoll set */
    int neutralised;          /* fd replaced by an unbound socket (successor took the peer) */
    /* ICMP port unreachable is a hint (RFC 8085 5.2; it can be spoofed off
     * path): an established association ends at this deadline unless an
     * authenticated datagram (a DATA event) arrives first.  0: none. */
    dtlsudp_time refused_deadline;
    void *user;
    dtlsudp_link leftovers;     /* net_leftover, oldest first */

    /* the listener's lists */
    dtlsudp_link all;          /* every connection, newest first */
    dtlsudp_link ready, accept; /* on the ready / accept queue (FIFO) */
    dtlsudp_link setup;        /* osnet: on the setup list (newest first) */
    dtlsudp_conn *zombie_next;

    /* client only */
    dtlsudp_time refused_grace; /* cfg->engine.refused_grace */
    dtlsudp_net_stats own_net;
    uint8_t *buf; /* NET_CONN_RECV_BATCH * NET_MAX_DATAGRAM: receive slots, the first also for sending */
    dtlsudp_conn_stats stats;
};

/* The connection whose link `member' (all, ready, accept, setup) is l. */
#define NET_CONN_OF(l, member) DTLSUDP_LINK_OWNER(l, dtlsudp_conn, member)

/* Plaintext kept from c's ended association is still to be read. */
static inline int net_conn_has_leftovers(const dtlsudp_conn *c)
{
    return !dtlsudp_link_empty(&c->leftovers);
}

/* Tests only (tests/net/test_osnet.c links the library's objects): called
 * by the osnet demultiplexer when it makes a per-peer socket, with stage
 * NET_HOOK_BEFORE_SOCKET (fd -1) and NET_HOOK_BOUND (bound, not yet
 * connected), so a test can land datagrams in exactly those windows. */
enum { NET_HOOK_BEFORE_SOCKET = 1, NET_HOOK_BOUND = 2 };
extern void (*net_test_hook)(int stage, int fd, void *arg);
extern void *net_test_hook_arg;

/* ECONNREFUSED seen on c's connected socket at `now': a handshake ends at
 * once (DTLSUDP_ERR_REFUSED); an established association gets
 * refused_deadline = now + grace unless it has one.  Returns 1 when a
 * deadline was set (the caller must check it: net_conn_refused_expire). */
int net_conn_refused_hint(dtlsudp_conn *c, dtlsudp_time now, dtlsudp_time grace);
/* End c (DTLSUDP_ERR_REFUSED) if its deadline passed.  Returns 1 while a
 * deadline is still pending. */
int net_conn_refused_expire(dtlsudp_conn *c, dtlsudp_time now);

/* The listener (listener.c, osnet.c). */
struct dtlsudp_listener {
    net_hooks hooks; /* first member: the engine's `user' points here */
    dtlsudp_engine *engine;
    int sock;   /* the listening socket (unconnected) */
    int family; /* of sock */
    int epfd;   /* osnet: epoll set over sock + owned per-peer sockets */
    int demux;
    int blocking;
    dtlsudp_addr local; /* bound address, normalised */

    dtlsudp_link conns;       /* every connection, owned or accepted */
    dtlsudp_link ready;       /* connections with plaintext to read (FIFO) */
    dtlsudp_link accept;      /* established, waiting for accept (FIFO) */
    dtlsudp_link setup;       /* osnet: waiting for their socket */
    dtlsudp_conn *zombies;    /* owned, ended: freed by reap() */

    dtlsudp_time now; /* of the current call */
    dtlsudp_time refused_grace; /* cfg->engine.refused_grace */
    int refused_any;            /* some connection has a refused_deadline */
    dtlsudp_net_stats stats;
    uint8_t *buf;  /* NET_MAX_DATAGRAM: what the engine sends */
    uint8_t *rbuf; /* NET_RECV_BATCH * NET_MAX_DATAGRAM: what arrives */
};

/* listener.c, for conn.c and osnet.c */
/* Read up to NET_READ_BATCH datagrams from fd and feed them to the engine.
 * c: the connection whose own socket fd is, or NULL for the listening one. */
int net_listener_read_socket(dtlsudp_listener *l, int fd, dtlsudp_conn *c);
int net_listener_pump(dtlsudp_listener *l, dtlsudp_time now);
int net_listener_flush(dtlsudp_listener *l);
int net_listener_timers(dtlsudp_listener *l, dtlsudp_time now);
int net_listener_socket(const dtlsudp_listener *l);
void net_listener_forget_conn(dtlsudp_listener *l, dtlsudp_conn *c);
dtlsudp_net_stats *net_listener_stats(dtlsudp_listener *l);
int net_conn_read_own_socket(dtlsudp_conn *c, dtlsudp_time now);

/* ---- osnet.c ---- */

/* Take c's fd out of the listener's epoll set (if it is in). */
void net_epoll_remove(dtlsudp_listener *l, dtlsudp_conn *c);
/* Give every connection queued at ESTABLISHED its per-peer socket (or
 * leave it on the listening socket when none can be made).  Returns OK or
 * an engine-fatal error of the reads in between. */
int net_osnet_setup_new_conns(dtlsudp_listener *l);

#endif /* DTLSUDP_NET_INTERNAL_H */
