/*
 * client.c - originate mode: a plain UDP socket whose every local source
 * address gets a DTLS association of its own toward the remote server.
 *
 * The first datagram from a new source starts a non-blocking handshake
 * (dtlsudp_conn_connect() with no wait); the library holds what is written
 * until the association is established.  Replies go back to that source
 * from the plain socket.  The session ends with its association: idle
 * expiry, close_notify from the server, a refused certificate.
 *
 * Per datagram the work is O(1) in the number of sessions: a session is
 * found by its source address in a hash map, and the loop's deadline is
 * the top of a heap of the sessions' deadlines, updated after each call
 * into a session's connection (its own engine: nothing else moves it).
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy.h"

#define DEFAULT_MAX_SESSIONS 1024

#define SESSION_OF(node, member) ((client_session *)((char *)(node) - offsetof(client_session, member)))

typedef struct client_session {
    proxy_watch watch; /* the association's socket is readable */
    proxy_client *owner;
    dtlsudp_addr source; /* the plain UDP client */
    dtlsudp_conn *conn;  /* NULL once ended */
    int established;
    proxy_map_node by_source;
    proxy_heap_node by_deadline;
    struct client_session *next;     /* all sessions, then the list of ended ones */
    struct client_session **prev;
} client_session;

struct proxy_client {
    proxy_watch watch; /* the plain socket is readable */
    const proxy_service_config *cfg;
    proxy_loop *loop;
    int fd;
    dtlsudp_addr local;
    dtlsudp_conn_config conn_cfg;
    proxy_map by_source;
    proxy_heap by_deadline;
    client_session *sessions, *ended;
    size_t n_sessions, max_sessions;
    proxy_counters counters;
};

static void conn_ready(proxy_watch *w, uint32_t events, dtlsudp_time now);

static void session_end(proxy_client *p, client_session *s, int reason)
{
    char src[64];
    (void)dtlsudp_addr_format(&s->source, src, sizeof(src));
    proxy_log(s->established ? DTLSUDP_LOG_NOTICE : DTLSUDP_LOG_WARNING, p->cfg->name, "%s %s: %s",
              s->established ? "association for" : "no association for", src, dtlsudp_strerror(reason));
    proxy_loop_del(p->loop, dtlsudp_conn_fd(s->conn));
    /* close_notify if the association is still alive (RFC 6353 5.4) */
    dtlsudp_conn_free(s->conn);
    s->conn = NULL;
    proxy_map_remove(&p->by_source, &s->by_source);
    proxy_heap_remove(&p->by_deadline, &s->by_deadline);
    *s->prev = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->next = p->ended;
    p->ended = s;
    p->n_sessions--;
    p->counters.sessions_closed++;
}

static client_session *session_find(const proxy_client *p, const proxy_key *source)
{
    proxy_map_node *n = proxy_map_find(&p->by_source, source);
    return n != NULL ? SESSION_OF(n, by_source) : NULL;
}

/* After every call into s->conn: its engine's deadline may have moved. */
static void session_rearm(proxy_client *p, client_session *s)
{
    if (s->conn != NULL)
        proxy_heap_update(&p->by_deadline, &s->by_deadline, dtlsudp_conn_next_timeout(s->conn));
}

static client_session *session_open(proxy_client *p, const dtlsudp_addr *source, const proxy_key *key,
                                    dtlsudp_time now)
{
    char src[64];
    (void)dtlsudp_addr_format(source, src, sizeof(src));
    if (p->n_sessions >= p->max_sessions) {
        p->counters.sessions_refused++;
        proxy_log(DTLSUDP_LOG_WARNING, p->cfg->name, "%s dropped: max-sessions (%zu) reached", src,
                  p->max_sessions);
        return NULL;
    }
    client_session *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->watch.ready = conn_ready;
    s->owner = p;
    s->source = *source;
    int ret = dtlsudp_conn_connect(p->cfg->connect_host, p->cfg->connect_port, &p->conn_cfg, 0, now, &s->conn);
    if (ret != DTLSUDP_OK) {
        proxy_log(DTLSUDP_LOG_ERR, p->cfg->name, "%s: cannot reach %s port %s: %s", src, p->cfg->connect_host,
                  p->cfg->connect_port, dtlsudp_strerror(ret));
        free(s);
        return NULL;
    }
    if (proxy_heap_insert(&p->by_deadline, &s->by_deadline, dtlsudp_conn_next_timeout(s->conn)) != 0) {
        dtlsudp_conn_free(s->conn);
        free(s);
        return NULL;
    }
    if (proxy_loop_add(p->loop, dtlsudp_conn_fd(s->conn), &s->watch) != 0) {
        proxy_heap_remove(&p->by_deadline, &s->by_deadline);
        dtlsudp_conn_free(s->conn);
        free(s);
        return NULL;
    }
    proxy_map_insert(&p->by_source, &s->by_source, key);
    s->next = p->sessions;
    if (s->next != NULL)
        s->next->prev = &s->next;
    s->prev = &p->sessions;
    p->sessions = s;
    p->n_sessions++;
    p->counters.sessions_opened++;
    return s;
}

/* Everything the association has for the local client; ends the session
 * once the association is gone.  Reads only what is queued: once the
 * queue is empty, dtlsudp_conn_read() would read the socket again, one
 * system call per datagram that the loop's epoll has already answered. */
static void drain_conn(proxy_client *p, client_session *s)
{
    uint8_t buf[16384];
    size_t len;
    if (!s->established && dtlsudp_conn_state(s->conn) == DTLSUDP_STATE_ESTABLISHED) {
        char src[64], peer[64], who[512];
        s->established = 1;
        (void)dtlsudp_addr_format(&s->source, src, sizeof(src));
        (void)dtlsudp_addr_format(dtlsudp_conn_peer(s->conn), peer, sizeof(peer));
        proxy_describe_peer(dtlsudp_conn_assoc(s->conn), who, sizeof(who));
        proxy_log(DTLSUDP_LOG_NOTICE, p->cfg->name, "association for %s to %s: %s %s", src, peer, who,
                  dtlsudp_assoc_cipher(dtlsudp_conn_assoc(s->conn)));
    }
    for (;;) {
        dtlsudp_assoc *a = dtlsudp_conn_assoc(s->conn);
        if (a != NULL && dtlsudp_assoc_pending(a) == 0)
            break; /* alive, nothing queued */
        int ret = dtlsudp_conn_read(s->conn, buf, sizeof(buf), &len, 0);
        if (ret == DTLSUDP_ERR_AGAIN)
            break;
        if (ret != DTLSUDP_OK) {
            session_end(p, s, ret);
            return;
        }
        if (sendto(p->fd, buf, len, 0, &s->source.sa, dtlsudp_addr_len(&s->source)) < 0)
            p->counters.to_service_dropped++;
        else
            p->counters.to_service++;
    }
    session_rearm(p, s);
}

static void conn_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    client_session *s = (client_session *)w;
    (void)events;
    if (s->conn == NULL)
        return; /* ended earlier in this batch of events */
    (void)dtlsudp_conn_process(s->conn, now);
    drain_conn(s->owner, s);
}

/* One datagram from the local client at `source' toward its association. */
static void forward_local(proxy_client *p, const dtlsudp_addr *source, const uint8_t *buf, size_t n,
                          dtlsudp_time now)
{
    proxy_key key;
    proxy_key_addr(&key, source);
    client_session *s = session_find(p, &key);
    if (s == NULL && (s = session_open(p, source, &key, now)) == NULL) {
        p->counters.to_peer_dropped++;
        return;
    }
    /* While the handshake runs the library holds the datagram, and a
     * repeated one (the client's retry timer) sends our flight again. */
    int ret = n <= PROXY_SLOT ? dtlsudp_conn_write(s->conn, buf, n) : DTLSUDP_ERR_TOO_BIG;
    if (ret == DTLSUDP_OK) {
        p->counters.to_peer++;
        session_rearm(p, s);
        return;
    }
    p->counters.to_peer_dropped++;
    if (ret == DTLSUDP_ERR_TOO_BIG)
        proxy_log(DTLSUDP_LOG_WARNING, p->cfg->name, "datagram of %zu bytes dropped: larger than %zu", n,
                  dtlsudp_conn_max_write(s->conn));
    if (dtlsudp_err_is_assoc_fatal(ret))
        session_end(p, s, ret);
    else
        session_rearm(p, s);
}

typedef struct local_read {
    proxy_client *p;
    dtlsudp_time now;
} local_read;

static int local_datagram(void *arg, const dtlsudp_addr *src, const uint8_t *buf, size_t len)
{
    local_read *r = arg;

    forward_local(r->p, src, buf, len, r->now);
    return 0;
}

static void local_ready(proxy_watch *w, uint32_t events, dtlsudp_time now)
{
    local_read r = {(proxy_client *)w, now};

    (void)events;
    proxy_read_datagrams(r.p->fd, local_datagram, &r);
}

static void engine_log(void *user, int level, const char *message)
{
    const proxy_client *p = user;
    proxy_log(level, p->cfg->name, "%s", message);
}

int proxy_client_new(const proxy_service_config *s, proxy_loop *loop, dtlsudp_time now, proxy_client **out)
{
    proxy_client *p = calloc(1, sizeof(*p));
    (void)now;
    *out = NULL;
    if (p == NULL)
        return DTLSUDP_ERR_NOMEM;
    p->watch.ready = local_ready;
    p->cfg = s;
    p->loop = loop;
    p->max_sessions = s->max_sessions != 0 ? s->max_sessions : DEFAULT_MAX_SESSIONS;
    dtlsudp_conn_config_init(&p->conn_cfg);
    proxy_engine_config(s, &p->conn_cfg.engine);
    p->conn_cfg.engine.log = engine_log;
    p->conn_cfg.engine.user = p;
    p->conn_cfg.connect.peer_fingerprints = s->n_pins != 0 ? s->pins : NULL;
    p->conn_cfg.connect.n_peer_fingerprints = s->n_pins;
    p->conn_cfg.connect.hostname = s->hostname;
    if (proxy_map_init(&p->by_source) != 0) {
        free(p);
        return DTLSUDP_ERR_NOMEM;
    }

    if (dtlsudp_addr_parse(s->listen, 0, &p->local) != DTLSUDP_OK) {
        proxy_map_free(&p->by_source);
        free(p);
        return DTLSUDP_ERR_INVALID;
    }
    p->fd = socket(p->local.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    socklen_t len = dtlsudp_addr_len(&p->local);
    if (p->fd < 0 || bind(p->fd, &p->local.sa, len) != 0 || getsockname(p->fd, &p->local.sa, &len) != 0 ||
        proxy_loop_add(loop, p->fd, &p->watch) != 0) {
        int saved = errno;
        if (p->fd >= 0)
            close(p->fd);
        proxy_map_free(&p->by_source);
        free(p);
        errno = saved;
        return DTLSUDP_ERR_SYSTEM;
    }
    *out = p;
    return DTLSUDP_OK;
}

static void free_ended(proxy_client *p)
{
    while (p->ended != NULL) {
        client_session *s = p->ended;
        p->ended = s->next;
        free(s);
    }
}

void proxy_client_free(proxy_client *p)
{
    if (p == NULL)
        return;
    while (p->sessions != NULL)
        session_end(p, p->sessions, DTLSUDP_ERR_CLOSED);
    free_ended(p);
    proxy_loop_del(p->loop, p->fd);
    close(p->fd);
    proxy_map_free(&p->by_source);
    proxy_heap_free(&p->by_deadline);
    free(p);
}

dtlsudp_time proxy_client_next_timeout(const proxy_client *p)
{
    const proxy_heap_node *top = proxy_heap_top(&p->by_deadline);
    return top != NULL ? top->deadline : DTLSUDP_TIME_NEVER;
}

void proxy_client_timeout(proxy_client *p, dtlsudp_time now)
{
    /* Each session due at most once per call (its deadline may still be
     * `now' after its timers ran): the budget bounds the loop. */
    for (size_t budget = p->by_deadline.count; budget > 0; budget--) {
        proxy_heap_node *top = proxy_heap_top(&p->by_deadline);
        if (top == NULL || top->deadline > now)
            break;
        client_session *s = SESSION_OF(top, by_deadline);
        (void)dtlsudp_conn_handle_timeout(s->conn, now);
        drain_conn(p, s); /* rearms, or ends s */
    }
    free_ended(p);
}

int proxy_client_reload(proxy_client *p, const proxy_service_config *s, dtlsudp_time now)
{
    char err[512];
    X509_STORE *store = NULL;
    size_t revoked = 0;
    /* Every new association loads the files again (dtlsudp_conn_connect() makes
     * its engine), so new handshakes need nothing more; open associations
     * keep their identity, but a new CRL applies to them at once. */
    if (proxy_identity_check(s->cert_file, s->key_file, err, sizeof(err)) != 0 ||
        proxy_trust_store(s->ca_file, s->crl_file, &store, err, sizeof(err)) != 0) {
        proxy_log(DTLSUDP_LOG_ERR, s->name, "reload: new associations will fail: %s", err);
        return -1;
    }
    for (client_session *c = p->sessions, *next; c != NULL; c = next) {
        next = c->next; /* c may end */
        dtlsudp_assoc *a = dtlsudp_conn_assoc(c->conn);
        if (a == NULL || dtlsudp_assoc_state(a) != DTLSUDP_STATE_ESTABLISHED)
            continue;
        dtlsudp_engine *e = dtlsudp_assoc_engine(a);
        (void)dtlsudp_engine_set_trust_store(e, store);
        size_t n = dtlsudp_engine_close_revoked(e, now);
        if (n != 0) {
            revoked += n;
            (void)dtlsudp_conn_handle_timeout(c->conn, now); /* send the close_notify */
            drain_conn(p, c);
        }
    }
    X509_STORE_free(store);
    proxy_log(DTLSUDP_LOG_NOTICE, s->name, "certificates reloaded; %zu association%s kept, %zu revoked",
              p->n_sessions, p->n_sessions == 1 ? "" : "s", revoked);
    return 0;
}

void proxy_client_report(const proxy_client *p)
{
    proxy_log(DTLSUDP_LOG_NOTICE, p->cfg->name,
              "sessions %zu open, %llu opened, %llu refused; to server %llu (%llu dropped), to clients %llu "
              "(%llu dropped)",
              p->n_sessions, (unsigned long long)p->counters.sessions_opened,
              (unsigned long long)p->counters.sessions_refused, (unsigned long long)p->counters.to_peer,
              (unsigned long long)p->counters.to_peer_dropped, (unsigned long long)p->counters.to_service,
              (unsigned long long)p->counters.to_service_dropped);
}

const dtlsudp_addr *proxy_client_local(const proxy_client *p)
{
    return &p->local;
}
