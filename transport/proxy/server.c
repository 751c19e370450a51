/*
 * server.c - terminate mode: a DTLS listener whose associations are each
 * relayed to a UDP service through an upstream socket of their own.
 *
 * The service sees one distinct source address (127.0.0.1:EPHEMERAL) per
 * association, so its replies come back on that socket and go to the
 * right peer; the per-association log line maps that source port to the
 * peer's certificate.  Nothing is allocated before the library's cookie
 * gate and caps admit a peer: the session (and its socket) is made at
 * ESTABLISHED and closed at CLOSED (close_notify, idle expiry, eviction...).
 *
 * The listener's connections are never accepted: every plaintext datagram
 * is taken with dtlsudp_listener_recv(), and the listener polls the osnet
 * per-association sockets itself, so one fd covers all associations.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy.h"

#define SESSION_OF(node) ((server_session *)((char *)(node) - offsetof(server_session, by_id)))

typedef struct server_session {
    proxy_watch watch; /* the upstream socket is readable */
    proxy_server *owner;
    uint64_t id; /* dtlsudp_assoc_id() */
    proxy_map_node by_id;
    dtlsudp_addr peer;
    int fd; /* upstream socket, connected to the service; -1 once closed */
    struct server_session *next; /* the list of closed ones */
} server_session;

struct proxy_server {
    proxy_watch watch; /* the listener's fd is readable */
    const proxy_service_config *cfg;
    proxy_loop *loop;
    dtlsudp_listener *listener;
    dtlsudp_addr forward;
    proxy_map by_id;
    server_session *closed; /* freed after the current batch of events */
    proxy_counters counters;
    int failed; /* the listener is unusable (engine-fatal error) */
};

static server_session *session_find(const proxy_server *p, uint64_t id)
{
    proxy_key key;
    proxy_key_id(&key, id);
    proxy_map_node *n = proxy_map_find(&p->by_id, &key);
    return n != NULL ? SESSION_OF(n) : NULL;
}

static void upstream_ready(proxy_watch *w, uint32_t events, dtlsudp_time now);

/* ESTABLISHED: the peer is authenticated; give it its own upstream socket. */
static void session_open(proxy_server *p, dtlsudp_assoc *a)
{
    char peer[64], local[64] = "?", who[512];
    server_session *s = calloc(1, sizeof(*s));
    dtlsudp_addr up;
    socklen_t uplen = sizeof(up);

    (void)dtlsudp_addr_format(dtlsudp_assoc_peer(a), peer, sizeof(peer));
    if (s == NULL)
        goto Refuse;
    s->watch.ready = upstream_ready;
    s->owner = p;
    s->id = dtlsudp_assoc_id(a);
    s->peer = *dtlsudp_assoc_peer(a);
    s->fd = socket(p->forward.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || connect(s->fd, &p->forward.sa, dtlsudp_addr_len(&p->forward)) != 0) {
        proxy_log(DTLSUDP_LOG_ERR, p->cfg->name, "association %s refused: upstream socket: %s", peer,
                  strerror(errno));
        goto Refuse;
    }
    if (proxy_loop_add(p->loop, s->fd, &s->watch) != 0) {
        proxy_log(DTLSUDP_LOG_ERR, p->cfg->name, "association %s refused: epoll: %s", peer, strerror(errno));
        goto Refuse;
    }
    proxy_key key;
    proxy_key_id(&key, s->id);
    proxy_map_insert(&p->by_id, &s->by_id, &key);
    p->counters.sessions_opened++;
    if (getsockname(s->fd, &up.sa, &uplen) == 0)
        (void)dtlsudp_addr_format(&up, local, sizeof(local));
    proxy_describe_peer(a, who, sizeof(who));
    /* The service knows its peer only by this source address: this line is
     * what maps it to the authenticated certificate. */
    proxy_log(DTLSUDP_LOG_NOTICE, p->cfg->name, "association %s via %s: %s %s", peer, local, who,
              dtlsudp_assoc_cipher(a));
    return;

Refuse:
    if (s != NULL && s->fd >= 0)
        close(s->fd);
    free(s);
    p->counters.sessions_refused++;
    dtlsudp_assoc_close(a, dtlsudp_now()); /* deferred until the event returns */
}

static void session_close(proxy_server *p, server_session *s, int reason)
{
    char peer[64];
    (void)dtlsudp_addr_format(&s->peer, peer, sizeof(peer));
    proxy_log(DTLSUDP_LOG_NOTICE, p->cfg->name, "association %s ended: %s", peer, dtlsudp_strerror(reason));
    proxy_map_remove(&p->by_id, &s->by_id);
    proxy_loop_del(p->loop, s->fd);
    close(s->fd);
    s->fd = -1;
    s->next = p->closed;
    p->closed = s;
    p->counters.sessions_closed++;
}

static void on_event(void *user, dtlsudp_assoc *a, int event, int reason)
{
    proxy_server *p = user;
    server_session *s;
    if (event == DTLSUDP_EVENT_ESTABLISHED)
        session_open(p, a);
    else if (event == DTLSUDP_EVENT_CLOSED && (s = session_find(p, dtlsudp_assoc_id(a))) != NULL)
        session_close(p, s, reason);
}

static void engine_log(void *user, int level, const char *message)
{
    const proxy_server *p = user;
    proxy_log(level, p->cfg->name, "%s", message);
}

/* Every plaintext datagram the listener holds, to its association's
 * upstream socket. */
static void drain_listener(proxy_server *p)
{
    uint8_t buf[16384];
    size_t len;
    dtlsudp_conn *from;
    while (dtlsudp_listener_recv(p->listener, buf, sizeof(buf), &len, &from) == DTLSUDP_OK) {
        dtlsudp_assoc *a = from != NULL ? dtlsudp_conn_assoc(from) : NULL;
        server_session *s = a != NULL ? session_find(p, dtlsudp_assoc_id(a)) : NULL;
        /* send() on a connected UDP socket: ECONNREFUSED only says an
         * earlier datagram met a closed port (RFC 8085 5.2); the service
         * may be back.  EAGAIN: its receive queue is full, as in UDP. */
        if (s == NULL || send(s->fd, buf, len, 0) < 0) {
            p->counters.to_service_dropped++;
            continue;
        }
        p->counters.to_service++;
    }
}

static void pump_result(proxy_server *p, int ret)
{
    if (ret != DTLSUDP_OK && !p->failed) {
        p->failed = 1;
        proxy_log(DTLSUDP_LOG_ERR, p->cfg->name, "listener failed: %s", dtlsudp_strerror(ret));
    }
}

static void listener_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    proxy_server *p = (proxy_server *)w;
    (void)events;
    pump_result(p, dtlsudp_listener_process(p->listener, now));
    drain_listener(p);
}

/* One reply of the service toward s's association. */
static void forward_reply(proxy_server *p, server_session *s, const uint8_t *buf, size_t n)
{
    dtlsudp_conn *c = dtlsudp_listener_find(p->listener, &s->peer);
    dtlsudp_assoc *a = c != NULL ? dtlsudp_conn_assoc(c) : NULL;
    /* After a peer restart (RFC 6347 4.2.8) the address belongs to the
     * successor: the old association's replies are not its business. */
    if (a == NULL || dtlsudp_assoc_id(a) != s->id) {
        p->counters.to_peer_dropped++;
        return;
    }
    int ret = n <= PROXY_SLOT ? dtlsudp_conn_write(c, buf, n) : DTLSUDP_ERR_TOO_BIG;
    if (ret == DTLSUDP_OK) {
        p->counters.to_peer++;
        return;
    }
    p->counters.to_peer_dropped++;
    if (ret == DTLSUDP_ERR_TOO_BIG)
        proxy_log(DTLSUDP_LOG_WARNING, p->cfg->name, "reply of %zu bytes dropped: larger than %zu", n,
                  dtlsudp_conn_max_write(c));
    /* An association-fatal error already closed s (CLOSED fired). */
}

static int upstream_datagram(void *arg, const dtlsudp_addr *src, const uint8_t *buf, size_t len)
{
    server_session *s = arg;

    (void)src;
    forward_reply(s->owner, s, buf, len);
    return s->fd < 0; /* the association ended: its socket is closed */
}

static void upstream_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    (void)events;
    (void)now;
    proxy_read_datagrams(((server_session *)w)->fd, upstream_datagram, w);
}

int proxy_server_new(const proxy_service_config *s, proxy_loop *loop, dtlsudp_time now, proxy_server **out)
{
    dtlsudp_listener_config lc;
    proxy_server *p = calloc(1, sizeof(*p));
    int ret;

    *out = NULL;
    if (p == NULL)
        return DTLSUDP_ERR_NOMEM;
    p->watch.ready = listener_ready;
    p->cfg = s;
    p->loop = loop;
    if (proxy_map_init(&p->by_id) != 0) {
        free(p);
        return DTLSUDP_ERR_NOMEM;
    }
    if (dtlsudp_addr_parse(s->forward, 0, &p->forward) != DTLSUDP_OK) {
        proxy_server_free(p);
        return DTLSUDP_ERR_INVALID;
    }
    dtlsudp_listener_config_init(&lc);
    proxy_engine_config(s, &lc.engine);
    lc.demux = s->demux;
    lc.engine.on_event = on_event;
    lc.engine.log = engine_log;
    lc.engine.user = p;
    if ((ret = dtlsudp_listener_new(s->listen, &lc, now, &p->listener)) != DTLSUDP_OK) {
        int saved = errno;
        proxy_server_free(p);
        errno = saved;
        return ret;
    }
    for (size_t i = 0; i < s->n_pins; i++)
        if ((ret = dtlsudp_engine_add_peer_fingerprint(dtlsudp_listener_engine(p->listener), &s->pins[i])) !=
            DTLSUDP_OK) {
            proxy_server_free(p);
            return ret;
        }
    if (proxy_loop_add(loop, dtlsudp_listener_fd(p->listener), &p->watch) != 0) {
        proxy_server_free(p);
        return DTLSUDP_ERR_SYSTEM;
    }
    *out = p;
    return DTLSUDP_OK;
}

static void free_closed(proxy_server *p)
{
    while (p->closed != NULL) {
        server_session *s = p->closed;
        p->closed = s->next;
        free(s);
    }
}

void proxy_server_free(proxy_server *p)
{
    if (p == NULL)
        return;
    if (p->listener != NULL) {
        proxy_loop_del(p->loop, dtlsudp_listener_fd(p->listener));
        /* close_notify to every peer (RFC 6353 5.4); CLOSED closes each
         * upstream socket. */
        dtlsudp_listener_free(p->listener);
    }
    free_closed(p);
    /* CLOSED closed every session above, unless the listener never opened
     * or failed: close what is left. */
    for (size_t i = 0; p->by_id.buckets != NULL && i < p->by_id.n_buckets; i++)
        while (p->by_id.buckets[i] != NULL) {
            server_session *s = SESSION_OF(p->by_id.buckets[i]);
            proxy_map_remove(&p->by_id, &s->by_id);
            close(s->fd);
            free(s);
        }
    proxy_map_free(&p->by_id);
    free(p);
}

dtlsudp_time proxy_server_next_timeout(const proxy_server *p)
{
    if (p->failed)
        return DTLSUDP_TIME_NEVER;
    /* Timers only: this recv-only use never accepts, and plaintext is
     * drained after every pump. */
    return dtlsudp_listener_next_timer(p->listener);
}

void proxy_server_timeout(proxy_server *p, dtlsudp_time now)
{
    if (!p->failed && proxy_server_next_timeout(p) <= now) {
        pump_result(p, dtlsudp_listener_handle_timeout(p->listener, now));
        drain_listener(p);
    }
    free_closed(p);
}

int proxy_server_reload(proxy_server *p, const proxy_service_config *s, dtlsudp_time now)
{
    char err[512];
    X509_STORE *store = NULL;
    dtlsudp_engine *e = dtlsudp_listener_engine(p->listener);

    /* Check everything first: a broken file leaves the running identity
     * and trust alone. */
    if (proxy_identity_check(s->cert_file, s->key_file, err, sizeof(err)) != 0 ||
        proxy_trust_store(s->ca_file, s->crl_file, &store, err, sizeof(err)) != 0) {
        proxy_log(DTLSUDP_LOG_ERR, s->name, "reload refused, still using the previous certificates: %s", err);
        return -1;
    }
    if (proxy_identity_install(e, s->cert_file, s->key_file, err, sizeof(err)) != 0) {
        proxy_log(DTLSUDP_LOG_ERR, s->name, "reload refused, still using the previous certificates: %s", err);
        X509_STORE_free(store);
        return -1;
    }
    (void)dtlsudp_engine_set_trust_store(e, store);
    X509_STORE_free(store); /* the engine holds its own reference */
    size_t revoked = dtlsudp_engine_close_revoked(e, now);
    pump_result(p, dtlsudp_listener_handle_timeout(p->listener, now)); /* send their close_notify */
    proxy_log(DTLSUDP_LOG_NOTICE, s->name, "certificates reloaded; %zu association%s kept, %zu revoked",
              p->by_id.count, p->by_id.count == 1 ? "" : "s", revoked);
    return 0;
}

void proxy_server_report(const proxy_server *p)
{
    dtlsudp_net_stats st;
    if (dtlsudp_listener_get_stats(p->listener, &st) != DTLSUDP_OK)
        return;
    proxy_log(DTLSUDP_LOG_NOTICE, p->cfg->name,
              "associations %llu open, %llu opened; to service %llu (%llu dropped), to peers %llu "
              "(%llu dropped); handshakes %llu completed, %llu failed, %llu timed out; cookies %llu sent, "
              "%llu bad; refused (caps) %llu",
              (unsigned long long)p->by_id.count, (unsigned long long)p->counters.sessions_opened,
              (unsigned long long)p->counters.to_service, (unsigned long long)p->counters.to_service_dropped,
              (unsigned long long)p->counters.to_peer, (unsigned long long)p->counters.to_peer_dropped,
              (unsigned long long)st.engine.handshakes_completed,
              (unsigned long long)st.engine.handshakes_failed,
              (unsigned long long)st.engine.handshakes_timed_out, (unsigned long long)st.engine.cookies_sent,
              (unsigned long long)st.engine.cookies_bad, (unsigned long long)st.engine.refused_full);
}

const dtlsudp_addr *proxy_server_local(const proxy_server *p)
{
    return dtlsudp_listener_local_addr(p->listener);
}
