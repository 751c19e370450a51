/*
 * Unit tests: server.c, the agent side of the transport, on 127.0.0.1 in
 * one process: a server endpoint (dtlsudp_snmp_transport_open, local = 1)
 * and a client of the socket layer (dtlsudp_conn_connect) with the store's
 * "client" certificate, which "certSecName 10 <CA> --cn" maps to
 * "client".  The test calls server.c's functions itself: server_pump,
 * server_recv, server_send, and the close of a session with messages
 * unread.
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
#include <poll.h>

#include "endpoint.h"
#include "snmpstore.h"

#define APP "test-server"

static netsnmp_transport *agent;
static endpoint *ep;

static void logged(const char *text)
{
    if (strstr(store_log(), text) == NULL)
        fail_msg("not logged: \"%s\"; the log: %s", text, store_log());
}

static int agent_port(void)
{
    return ntohs(ep->addr.sin.sin_port);
}

/* A client of the socket layer with the store's "client" identity. */
static dtlsudp_conn *manager_connect(void)
{
    dtlsudp_conn_config cfg;
    dtlsudp_conn *c = NULL;
    char port[8];

    dtlsudp_conn_config_init(&cfg);
    store_identity_files("client", &cfg.engine);
    cfg.connect.hostname = "server.example.com";
    snprintf(port, sizeof(port), "%d", agent_port());
    assert_int_equal(dtlsudp_conn_connect("127.0.0.1", port, &cfg, 0, dtlsudp_now(), &c), DTLSUDP_OK);
    return c;
}

/* Run both sides (the server through server_pump) until `queued' messages
 * wait in the endpoint's queue; 5 s at most. */
static void pump_until_queued(dtlsudp_conn *c, size_t queued)
{
    dtlsudp_time until = dtlsudp_now() + 5000;

    while (ep->q_len < queued && dtlsudp_now() < until) {
        struct pollfd pfd[2] = {{.fd = agent->sock, .events = POLLIN}, {.fd = -1, .events = POLLIN}};

        if (c != NULL)
            pfd[1].fd = dtlsudp_conn_fd(c);
        (void)poll(pfd, 2, 20);
        if (c != NULL)
            (void)dtlsudp_conn_process(c, dtlsudp_now());
        (void)server_pump(ep, 1);
    }
    assert_true(ep->q_len >= queued);
}

static void write_text(dtlsudp_conn *c, const char *text)
{
    assert_int_equal(dtlsudp_conn_write(c, (const uint8_t *)text, strlen(text)), DTLSUDP_OK);
}

/* Receive one message with server_recv(); its text in buf. */
static netsnmp_tmStateReference *recv_text(char *buf, size_t cap)
{
    netsnmp_tmStateReference *ref = NULL;
    int n = server_recv(ep, buf, cap - 1, &ref);

    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(ref);
    return ref;
}

static void listener_is_open_and_listed(void **state)
{
    dtlsudp_snmp_listener_info info;
    char want[64];

    (void)state;
    assert_true(agent_port() > 0);
    assert_int_equal(agent->sock, ep->poll_fd);
    assert_int_equal(dtlsudp_snmp_listener_count(), 1);
    assert_int_equal(dtlsudp_snmp_listener_get(0, &info), 0);
    snprintf(want, sizeof(want), "127.0.0.1:%d", agent_port());
    assert_string_equal(info.address, want);
    assert_int_equal(dtlsudp_snmp_listener_get(1, &info), -1);
    snprintf(want, sizeof(want), "dtlsudp: listening on 127.0.0.1:%d (osnet demux), IPv4", agent_port());
    logged(want);
}

/* Messages are queued with their association's identity, announced on the
 * eventfd and delivered oldest first, each with what TSM needs. */
static void messages_arrive_in_order_with_their_identity(void **state)
{
    dtlsudp_conn *c = manager_connect();
    struct pollfd pfd = {.fd = -1, .events = POLLIN};
    netsnmp_tmStateReference *ref;
    const char *texts[] = {"one", "two", "three"};
    dtlsudp_conn *server_side;
    char buf[100];
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++)
        write_text(c, texts[i]);
    pump_until_queued(c, 3);
    pfd.fd = agent->sock;
    assert_int_equal(poll(&pfd, 1, 0), 1); /* select() wakes for them */
    server_side = dtlsudp_listener_find(ep->listener, dtlsudp_conn_local(c));
    assert_non_null(server_side);
    for (i = 0; i < 3; i++) {
        ref = recv_text(buf, sizeof(buf));
        assert_string_equal(buf, texts[i]);
        assert_int_equal(ref->securityNameLen, 6);
        assert_memory_equal(ref->securityName, "client", 6);
        assert_int_equal(ref->transportSecurityLevel, SNMP_SEC_LEVEL_AUTHPRIV);
        assert_int_equal(ref->have_addresses, 1);
        assert_true(dtlsudp_snmp_tmstate_assoc_id(ref) == dtlsudp_assoc_id(dtlsudp_conn_assoc(server_side)));
        assert_true(dtlsudp_addr_equal((const dtlsudp_addr *)&ref->addresses.remote_addr, dtlsudp_conn_local(c)));
        free(ref);
    }
    assert_int_equal(ep->q_len, 0);
    ref = NULL;
    assert_int_equal(server_recv(ep, buf, sizeof(buf), &ref), -1);
    assert_null(ref);
    dtlsudp_conn_free(c);
}

/* A reply goes back over the session its request came on; a reply without
 * a usable reference, or for another session, is dropped and counted. */
static void replies_only_on_the_requests_session(void **state)
{
    dtlsudp_conn *c = manager_connect();
    unsigned caches = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCACHES);
    unsigned nosessions = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONNOSESSIONS);
    netsnmp_tmStateReference *ref, other;
    char buf[100];
    size_t len = 0;

    (void)state;
    write_text(c, "ping");
    pump_until_queued(c, 1);
    ref = recv_text(buf, sizeof(buf));
    assert_string_equal(buf, "ping");

    assert_int_equal(server_send(ep, NULL, "lost", 4), -1);
    other = *ref;
    other.have_addresses = 0;
    assert_int_equal(server_send(ep, &other, "lost", 4), -1);
    assert_int_equal(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDCACHES), caches + 2);
    other = *ref;
    other.sessionID[7] ^= 1;
    assert_int_equal(server_send(ep, &other, "lost", 4), -1);
    assert_int_equal(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONNOSESSIONS), nosessions + 1);

    assert_int_equal(server_send(ep, ref, "pong", 4), 4);
    assert_int_equal(dtlsudp_conn_read(c, (uint8_t *)buf, sizeof(buf), &len, 3000), DTLSUDP_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "pong", 4);
    /* nothing else came: the refused replies never left */
    assert_int_equal(dtlsudp_conn_read(c, (uint8_t *)buf, sizeof(buf), &len, 100), DTLSUDP_ERR_AGAIN);
    free(ref);
    dtlsudp_conn_free(c);
}

/* A client's last message followed at once by close_notify (snmptrap) is
 * still delivered, with the identity of the session that carried it. */
static void last_message_before_close_is_delivered(void **state)
{
    dtlsudp_conn *c = manager_connect();
    netsnmp_tmStateReference *ref;
    dtlsudp_time until;
    char buf[100];

    (void)state;
    /* established first, so that message and close_notify go back to back */
    write_text(c, "first");
    pump_until_queued(c, 1);
    free(recv_text(buf, sizeof(buf)));
    write_text(c, "last");
    assert_int_equal(dtlsudp_conn_shutdown(c), DTLSUDP_OK);
    until = dtlsudp_now() + 300;
    while (dtlsudp_now() < until) /* both datagrams are in the socket */
        (void)poll(NULL, 0, 10);
    pump_until_queued(NULL, 1);
    ref = recv_text(buf, sizeof(buf));
    assert_string_equal(buf, "last");
    assert_memory_equal(ref->securityName, "client", 6);
    free(ref);
    assert_null(dtlsudp_listener_find(ep->listener, dtlsudp_conn_local(c))); /* the session is gone */
    dtlsudp_conn_free(c);
}

/* No listener opens while the trust configuration cannot be loaded: every
 * client would be refused. */
static void no_listener_without_trust(void **state)
{
    dtlsudp_addr addr;
    char crl[512];

    (void)state;
    store_log_clear();
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE,
                          store_path("missing.crl", crl, sizeof(crl)));
    dtlsudp_snmp_trust_reload();
    assert_int_equal(dtlsudp_addr_parse("127.0.0.1", 0, &addr), DTLSUDP_OK);
    assert_null(dtlsudp_snmp_transport_open(&addr, 1, 0, NULL));
    logged("dtlsudp: not listening: the trust configuration could not be loaded");
    assert_int_equal(dtlsudp_snmp_listener_count(), 1);
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_X509_CRL_FILE, NULL);
    dtlsudp_snmp_trust_reload();
    assert_true(peerauth_server_trust_usable());
}

/* dtlsudpSessionCache needs tickets on (resumption): without them the
 * operator is told that the token does nothing. */
static void session_cache_without_tickets_is_reported(void **state)
{
    /* The settings the config handlers fill in, changed here as a
     * snmpd.conf would. */
    dtlsudp_snmp_settings *s = (dtlsudp_snmp_settings *)dtlsudp_snmp_settings_get();
    const char *why = NULL;
    const char *warning = "dtlsudp: dtlsudpSessionCache 64 has no effect: dtlsudpSessionTickets is no";
    netsnmp_transport *t;
    dtlsudp_addr addr;
    int tickets;

    (void)state;
    assert_int_equal(dtlsudp_addr_parse("127.0.0.1", 0, &addr), DTLSUDP_OK);
    assert_int_equal(dtlsudp_snmp_settings_apply(s, "dtlsudpSessionCache", "64", &why), 0);
    for (tickets = 1; tickets >= 0; tickets--) {
        assert_int_equal(dtlsudp_snmp_settings_apply(s, "dtlsudpSessionTickets", tickets ? "yes" : "no", &why), 0);
        store_log_clear();
        assert_non_null(t = dtlsudp_snmp_transport_open(&addr, 1, 0, NULL));
        if (tickets)
            assert_null(strstr(store_log(), warning)); /* the cache is made */
        else
            logged(warning);
        t->f_close(t);
        netsnmp_transport_free(t);
    }
    dtlsudp_snmp_settings_reset();
    assert_int_equal(dtlsudp_snmp_listener_count(), 1);
}

/* Closing the transport closes the listener and frees what is queued. */
static void close_frees_listener_and_queue(void **state)
{
    dtlsudp_conn *c = manager_connect();

    (void)state;
    write_text(c, "never read");
    pump_until_queued(c, 1);
    agent->f_close(agent);
    netsnmp_transport_free(agent);
    agent = NULL;
    ep = NULL;
    assert_int_equal(dtlsudp_snmp_listener_count(), 0);
    dtlsudp_conn_free(c);
}

static int setup(void **state)
{
    char conf[300], fp[200];
    dtlsudp_addr addr;

    (void)state;
    assert_non_null(store_make());
    assert_int_equal(store_write("snmp.conf", "localCert server\ntrustCert ca\n"), 0);
    snprintf(conf, sizeof(conf), "certSecName 10 %s --cn\n", store_fingerprint(tc_get()->ca.cert, 32, fp, sizeof(fp)));
    assert_int_equal(store_write(APP ".conf", conf), 0);
    store_init_snmp(APP, 1);
    assert_int_equal(dtlsudp_addr_parse("127.0.0.1", 0, &addr), DTLSUDP_OK);
    agent = dtlsudp_snmp_transport_open(&addr, 1, 0, NULL);
    assert_non_null(agent);
    ep = endpoint_of(agent);
    assert_non_null(ep);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (agent != NULL) {
        agent->f_close(agent);
        netsnmp_transport_free(agent);
    }
    peerauth_server_trust_expire();
    (void)peerauth_server_trust(); /* rebuilt, then freed with the store's certificates below */
    dtlsudp_snmp_cert_index_reset();
    store_remove(APP);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(listener_is_open_and_listed),
        cmocka_unit_test(messages_arrive_in_order_with_their_identity),
        cmocka_unit_test(replies_only_on_the_requests_session),
        cmocka_unit_test(last_message_before_close_is_delivered),
        cmocka_unit_test(no_listener_without_trust),
        cmocka_unit_test(session_cache_without_tickets_is_reported),
        cmocka_unit_test(close_frees_listener_and_queue),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
