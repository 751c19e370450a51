/*
 * Unit tests: endpoint.c, what the server and client transports share:
 *  - the epoll fd behind t->sock: the eventfd readable exactly while
 *    signalled, the watched fd replaced, not added;
 *  - endpoint_of() and endpoint_find(): only our transports and endpoints;
 *  - lifetime across transport copies: the last close closes the listener;
 *  - the engine callbacks' statistics (Accepts, ServerCloses) and the
 *    process-wide totals, which keep what closed engines counted;
 *  - timers: a listener's alarm at the engine's deadline, and a client's
 *    timerfd waking select() when a handshake flight is due again;
 *  - a client's stored session: kept when its association ends after the
 *    handshake, forgotten when a handshake fails.
 * On 127.0.0.1; the store comes from snmpstore.c.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "endpoint.h"
#include "snmpstore.h"

#define APP "test-endpoint"

static int readable(int fd, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    return poll(&pfd, 1, timeout_ms) == 1;
}

static netsnmp_transport *agent_open(void)
{
    dtlsudp_addr addr;
    netsnmp_transport *t;

    assert_int_equal(dtlsudp_addr_parse("127.0.0.1", 0, &addr), DTLSUDP_OK);
    t = dtlsudp_snmp_transport_open(&addr, 1, 0, NULL);
    assert_non_null(t);
    return t;
}

static void transport_close(netsnmp_transport *t)
{
    t->f_close(t);
    netsnmp_transport_free(t);
}

static void eventfd_readable_exactly_while_signalled(void **state)
{
    endpoint ep;

    (void)state;
    memset(&ep, 0, sizeof(ep));
    ep.watched_fd = ep.timer_fd = -1;
    assert_int_equal(endpoint_poll_open(&ep), 0);
    assert_false(readable(ep.poll_fd, 0));
    endpoint_signal(&ep);
    assert_true(ep.event_set);
    assert_true(readable(ep.poll_fd, 0));
    endpoint_signal(&ep); /* already so */
    endpoint_unsignal(&ep);
    assert_false(ep.event_set);
    assert_false(readable(ep.poll_fd, 0)); /* one read took the whole counter */
    endpoint_unsignal(&ep);
    assert_false(readable(ep.event_fd, 0));
    endpoint_poll_close(&ep);
    assert_int_equal(ep.poll_fd, -1);
    assert_int_equal(ep.event_fd, -1);
    endpoint_signal(&ep); /* closed: nothing to do, no crash */
    assert_false(ep.event_set);
}

static void watched_fd_is_replaced(void **state)
{
    endpoint ep;
    int a[2], b[2];

    (void)state;
    memset(&ep, 0, sizeof(ep));
    ep.watched_fd = ep.timer_fd = -1;
    assert_int_equal(endpoint_poll_open(&ep), 0);
    assert_int_equal(pipe(a), 0);
    assert_int_equal(pipe(b), 0);
    assert_int_equal(endpoint_poll_watch(&ep, a[0]), 0);
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_true(readable(ep.poll_fd, 0));
    /* b replaces a: a's data no longer wakes the transport */
    assert_int_equal(endpoint_poll_watch(&ep, b[0]), 0);
    assert_int_equal(ep.watched_fd, b[0]);
    assert_false(readable(ep.poll_fd, 0));
    assert_int_equal(write(b[1], "y", 1), 1);
    assert_true(readable(ep.poll_fd, 0));
    assert_int_equal(endpoint_poll_watch(&ep, b[0]), 0); /* the same again is fine */
    assert_int_equal(endpoint_poll_watch(&ep, -1), 0);
    assert_int_equal(ep.watched_fd, -1);
    assert_int_equal(endpoint_poll_watch(&ep, 12345), -1); /* not an fd */
    endpoint_poll_close(&ep);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

static void only_our_transports_and_endpoints_are_found(void **state)
{
    netsnmp_transport *t = agent_open(), other;
    tdata foreign = {0x12345678u, NULL};
    endpoint *ep = endpoint_of(t);

    (void)state;
    assert_non_null(ep);
    assert_true(endpoint_find(ep, NULL) == ep);
    assert_null(endpoint_find(&other, NULL));
    assert_null(endpoint_of(NULL));
    memset(&other, 0, sizeof(other));
    assert_null(endpoint_of(&other));
    other.data = &foreign;
    other.data_length = (int)sizeof(foreign);
    assert_null(endpoint_of(&other)); /* wrong magic */
    foreign.magic = TDATA_MAGIC;
    foreign.ep = ep; /* would be found, were the length not checked */
    other.data_length = (int)sizeof(foreign) - 1;
    assert_null(endpoint_of(&other)); /* wrong length */
    transport_close(t);
}

/* Copies share the endpoint: the listener lives until the last closes. */
static void copies_share_the_listener(void **state)
{
    netsnmp_transport *t = agent_open(), *copy;
    size_t before = dtlsudp_snmp_listener_count();

    (void)state;
    copy = netsnmp_transport_copy(t);
    assert_non_null(copy);
    assert_true(endpoint_of(copy) == endpoint_of(t));
    assert_int_equal(endpoint_of(t)->refs, 2);
    transport_close(t);
    assert_int_equal(dtlsudp_snmp_listener_count(), before);
    assert_non_null(endpoint_of(copy)->listener);
    transport_close(copy);
    assert_int_equal(dtlsudp_snmp_listener_count(), before - 1);
}

/* The alarm follows the engine's next deadline. */
static void listener_alarm_at_the_engine_deadline(void **state)
{
    netsnmp_transport *t = agent_open();
    endpoint *ep = endpoint_of(t);

    (void)state;
    assert_true(ep->alarm_reg != 0);
    assert_true(ep->alarm_at == dtlsudp_listener_next_timer(ep->listener));
    assert_true(ep->alarm_at != DTLSUDP_TIME_NEVER);
    transport_close(t);
}

/* Accepts when a client's handshake completes, ServerCloses when that
 * session ends; the process-wide totals keep a closed listener's counts. */
static void sessions_are_counted(void **state)
{
    netsnmp_transport *t = agent_open();
    endpoint *ep = endpoint_of(t);
    unsigned accepts = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONACCEPTS);
    unsigned closes = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONSERVERCLOSES);
    dtlsudp_stats before, after;
    dtlsudp_conn_config cfg;
    dtlsudp_conn *c = NULL;
    dtlsudp_time until;
    char port[8];

    (void)state;
    dtlsudp_snmp_stats_total(&before);
    dtlsudp_conn_config_init(&cfg);
    store_identity_files("client", &cfg.engine);
    cfg.connect.hostname = "server.example.com";
    snprintf(port, sizeof(port), "%d", ntohs(ep->addr.sin.sin_port));
    assert_int_equal(dtlsudp_conn_connect("127.0.0.1", port, &cfg, 0, dtlsudp_now(), &c), DTLSUDP_OK);
    for (until = dtlsudp_now() + 5000;
         (snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONACCEPTS) == accepts ||
          dtlsudp_conn_state(c) != DTLSUDP_STATE_ESTABLISHED) &&
         dtlsudp_now() < until;) {
        (void)readable(t->sock, 20);
        (void)dtlsudp_conn_process(c, dtlsudp_now());
        (void)server_pump(ep, 1);
    }
    assert_int_equal(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONACCEPTS), accepts + 1);
    assert_int_equal(dtlsudp_conn_state(c), DTLSUDP_STATE_ESTABLISHED);
    dtlsudp_conn_free(c); /* close_notify */
    for (until = dtlsudp_now() + 5000;
         snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONSERVERCLOSES) == closes && dtlsudp_now() < until;) {
        (void)readable(t->sock, 20);
        (void)server_pump(ep, 1);
    }
    assert_int_equal(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONSERVERCLOSES), closes + 1);
    transport_close(t);
    dtlsudp_snmp_stats_total(&after);
    /* both ends counted one completed handshake, and both engines are gone */
    assert_true(after.handshakes_completed >= before.handshakes_completed + 1);
    assert_int_equal(after.assocs_now, 0);
}

/* A client's handshake flight due again wakes select() through the
 * timerfd, and the next f_recv sends it (RFC 6347 4.2.4), although no
 * datagram arrived: the server here is a socket that never answers. */
static void client_timerfd_wakes_for_retransmission(void **state)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int silent = socket(AF_INET, SOCK_DGRAM, 0);
    dtlsudp_addr addr;
    netsnmp_transport *t;
    endpoint *ep;
    uint8_t buf[2048];
    char target[64];
    void *opaque = NULL;
    dtlsudp_time until;
    int olen = 0;

    (void)state;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(silent, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(silent, (struct sockaddr *)&sin, &len), 0);
    snprintf(target, sizeof(target), "127.0.0.1:%d", ntohs(sin.sin_port));
    assert_int_equal(dtlsudp_addr_parse("127.0.0.1", ntohs(sin.sin_port), &addr), DTLSUDP_OK);
    t = dtlsudp_snmp_transport_open(&addr, 0, 0, target);
    assert_non_null(t);
    assert_int_equal(t->f_config(t, "localCert", "client"), 0);
    assert_int_equal(t->f_config(t, "peerCert", "server"), 0);
    assert_non_null(t->f_open(t));
    ep = endpoint_of(t);
    assert_true(ep->timer_fd >= 0);
    assert_true(readable(silent, 2000)); /* the ClientHello */
    assert_true(recv(silent, buf, sizeof(buf), 0) > 0);
    assert_true(ep->timer_at != DTLSUDP_TIME_NEVER);
    /* Only the timerfd can wake t->sock here; each wake-up's f_recv runs
     * the timers (a slow run may wake a little before OpenSSL's own
     * deadline: a few rounds, bounded). */
    for (until = dtlsudp_now() + 5000; !readable(silent, 0) && dtlsudp_now() < until;) {
        assert_true(readable(t->sock, 3000));
        assert_int_equal(t->f_recv(t, buf, sizeof(buf), &opaque, &olen), 0);
        (void)readable(silent, 50);
    }
    assert_true(readable(silent, 0)); /* sent again */
    transport_close(t);
    close(silent);
}

/* A client transport to the agent at `port', pinned to the agent's
 * certificate (so every such transport has the same session key). */
static netsnmp_transport *client_open(int port)
{
    dtlsudp_addr addr;
    netsnmp_transport *t;
    char target[32];

    snprintf(target, sizeof(target), "127.0.0.1:%d", port);
    assert_int_equal(dtlsudp_addr_parse("127.0.0.1", (uint16_t)port, &addr), DTLSUDP_OK);
    t = dtlsudp_snmp_transport_open(&addr, 0, 0, target);
    assert_non_null(t);
    assert_int_equal(t->f_config(t, "localCert", "client"), 0);
    assert_int_equal(t->f_config(t, "peerCert", "server"), 0);
    assert_non_null(t->f_open(t)); /* sends the ClientHello */
    return t;
}

static int session_stored(const uint8_t *key)
{
    uint8_t blob[SESSCACHE_MAX_BLOB];
    size_t len = 0;

    return dtlsudp_snmp_session_get(key, 0, blob, sizeof(blob), &len) == 0 && len > 0;
}

/* Drive client and agent (bounded) until the client's connection leaves
 * the handshake. */
static int client_handshake(netsnmp_transport *client, endpoint *agent)
{
    endpoint *ep = endpoint_of(client);
    dtlsudp_time until;

    for (until = dtlsudp_now() + 5000;
         dtlsudp_conn_state(ep->conn) == DTLSUDP_STATE_HANDSHAKING && dtlsudp_now() < until;) {
        (void)readable(client->sock, 20);
        (void)dtlsudp_conn_process(ep->conn, dtlsudp_now());
        if (agent != NULL)
            (void)server_pump(agent, 1);
    }
    return dtlsudp_conn_state(ep->conn);
}

/* The session a client keeps (dtlsudpResume, on by default) outlives the
 * association it came from; a handshake that fails forgets it, so that
 * the next connection starts in full instead of offering it again. */
static void failed_handshake_forgets_the_stored_session(void **state)
{
    netsnmp_transport *agent = agent_open(), *client;
    int port = ntohs(endpoint_of(agent)->addr.sin.sin_port);
    uint8_t key[DTLSUDP_SNMP_SESSION_KEY_LEN];

    (void)state;
    dtlsudp_snmp_sessions_clear();
    client = client_open(port);
    assert_true(endpoint_of(client)->settings.resume);
    assert_int_equal(client_handshake(client, endpoint_of(agent)), DTLSUDP_STATE_ESTABLISHED);
    memcpy(key, endpoint_of(client)->session_key, sizeof(key));
    assert_true(session_stored(key)); /* kept at ESTABLISHED */
    transport_close(client); /* CLOSED after the handshake */
    assert_true(session_stored(key));

    /* The agent gone, the next handshake (which offers the session) ends
     * with the port unreachable. */
    transport_close(agent);
    client = client_open(port);
    assert_memory_equal(endpoint_of(client)->session_key, key, sizeof(key));
    assert_int_equal(client_handshake(client, NULL), DTLSUDP_STATE_CLOSED);
    assert_false(session_stored(key));
    transport_close(client);
}

static int setup(void **state)
{
    char conf[300], fp[200];

    (void)state;
    assert_non_null(store_make());
    assert_int_equal(store_write("snmp.conf", "localCert server\ntrustCert ca\n"), 0);
    snprintf(conf, sizeof(conf), "certSecName 10 %s --cn\n", store_fingerprint(tc_get()->ca.cert, 32, fp, sizeof(fp)));
    assert_int_equal(store_write(APP ".conf", conf), 0);
    store_init_snmp(APP, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    peerauth_server_trust_expire();
    (void)peerauth_server_trust();
    dtlsudp_snmp_cert_index_reset();
    store_remove(APP);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eventfd_readable_exactly_while_signalled),
        cmocka_unit_test(watched_fd_is_replaced),
        cmocka_unit_test(only_our_transports_and_endpoints_are_found),
        cmocka_unit_test(copies_share_the_listener),
        cmocka_unit_test(listener_alarm_at_the_engine_deadline),
        cmocka_unit_test(sessions_are_counted),
        cmocka_unit_test(client_timerfd_wakes_for_retransmission),
        cmocka_unit_test(failed_handshake_forgets_the_stored_session),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
