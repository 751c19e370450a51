/*
 * Unit tests: client.c, the manager side of the transport, on 127.0.0.1:
 * a client transport here (dtlsudp_snmp_transport_open, local = 0, with
 * -T localCert and peerCert) and, in a child process, an agent of the
 * socket layer alone (a dtlsudp listener with the store's "server"
 * certificate) that answers "echo:<message>", and closes the session on
 * "close".  The test calls client.c's functions itself: client_send,
 * client_recv, client_close.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "endpoint.h"
#include "snmpstore.h"

#define APP "test-client"

static pid_t agent_pid = -1;
static int agent_port;

/* The agent: echoes, closes on "close"; 30 s at most.  No cmocka in the
 * child: a failure is its exit status. */
static void agent_main(int report)
{
    dtlsudp_listener_config cfg;
    dtlsudp_listener *l = NULL;
    dtlsudp_time until = dtlsudp_now() + 30000;
    int port;

    dtlsudp_listener_config_init(&cfg);
    store_identity_files("server", &cfg.engine);
    if (dtlsudp_listener_new("127.0.0.1:0", &cfg, dtlsudp_now(), &l) != DTLSUDP_OK)
        _exit(2);
    port = ntohs(dtlsudp_listener_local_addr(l)->sin.sin_port);
    if (write(report, &port, sizeof(port)) != (ssize_t)sizeof(port))
        _exit(3);
    close(report);
    while (dtlsudp_now() < until) {
        struct pollfd pfd = {.fd = dtlsudp_listener_fd(l), .events = POLLIN};
        uint8_t buf[2048], reply[2100];
        dtlsudp_conn *from = NULL;
        size_t len = 0;

        (void)poll(&pfd, 1, 20);
        (void)dtlsudp_listener_process(l, dtlsudp_now());
        while (dtlsudp_listener_recv(l, buf, sizeof(buf), &len, &from) == DTLSUDP_OK) {
            if (len == 5 && memcmp(buf, "close", 5) == 0) {
                dtlsudp_assoc_close(dtlsudp_conn_assoc(from), dtlsudp_now());
                continue;
            }
            memcpy(reply, "echo:", 5);
            memcpy(reply + 5, buf, len);
            (void)dtlsudp_conn_write(from, reply, len + 5);
        }
        (void)dtlsudp_listener_handle_timeout(l, dtlsudp_now());
    }
    dtlsudp_listener_free(l);
    _exit(0);
}

/* A manager-side transport toward the agent: -T localCert, peerCert. */
static netsnmp_transport *manager_open(const char *peer_cert)
{
    dtlsudp_addr addr;
    netsnmp_transport *t;
    char target[64];

    snprintf(target, sizeof(target), "127.0.0.1:%d", agent_port);
    assert_int_equal(dtlsudp_addr_parse("127.0.0.1", (uint16_t)agent_port, &addr), DTLSUDP_OK);
    t = dtlsudp_snmp_transport_open(&addr, 0, 0, target);
    assert_non_null(t);
    assert_int_equal(t->f_config(t, "localCert", "client"), 0);
    assert_int_equal(t->f_config(t, "peerCert", peer_cert), 0);
    /* The first send waits for the handshake up to the session's timeout
     * (f_setup_session sets it): room for a slow run (valgrind). */
    endpoint_of(t)->session_timeout_ms = 10000;
    return t;
}

static void manager_close(netsnmp_transport *t)
{
    t->f_close(t);
    netsnmp_transport_free(t);
}

/* The next message through client_recv(), after select() (poll on
 * t->sock) announces it; 5 s. */
static netsnmp_tmStateReference *receive(netsnmp_transport *t, char *buf, int cap)
{
    endpoint *ep = endpoint_of(t);
    dtlsudp_time until = dtlsudp_now() + 5000;

    while (dtlsudp_now() < until) {
        struct pollfd pfd = {.fd = t->sock, .events = POLLIN};
        netsnmp_tmStateReference *ref = NULL;
        int n;

        if (poll(&pfd, 1, 50) <= 0)
            continue;
        endpoint_unsignal(ep);
        endpoint_timer_clear(ep);
        n = client_recv(ep, buf, (size_t)cap - 1, &ref);
        if (n > 0) {
            buf[n] = '\0';
            return ref;
        }
    }
    fail_msg("nothing received");
    return NULL;
}

static netsnmp_tmStateReference as_user(const char *name)
{
    netsnmp_tmStateReference ref;

    memset(&ref, 0, sizeof(ref));
    ref.securityNameLen = strlen(name);
    memcpy(ref.securityName, name, ref.securityNameLen);
    return ref;
}

/* The first send opens the session; the reply carries the session's
 * securityName, authPriv and the association's id. */
static void round_trip_on_a_new_session(void **state)
{
    netsnmp_transport *t = manager_open("server");
    endpoint *ep = endpoint_of(t);
    unsigned opens = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENS);
    unsigned closes = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONCLIENTCLOSES);
    netsnmp_tmStateReference alice = as_user("alice"), *ref;
    char buf[200];

    (void)state;
    assert_int_equal(client_send(ep, t, &alice, "hello", 5), 5);
    assert_non_null(ep->conn);
    assert_int_equal(dtlsudp_conn_state(ep->conn), DTLSUDP_STATE_ESTABLISHED);
    assert_int_equal(t->sock, ep->poll_fd);
    assert_int_equal(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENS), opens + 1);
    ref = receive(t, buf, sizeof(buf));
    assert_string_equal(buf, "echo:hello");
    assert_int_equal(ref->securityNameLen, 5);
    assert_memory_equal(ref->securityName, "alice", 5);
    assert_int_equal(ref->transportSecurityLevel, SNMP_SEC_LEVEL_AUTHPRIV);
    assert_true(dtlsudp_snmp_tmstate_assoc_id(ref) == dtlsudp_assoc_id(dtlsudp_conn_assoc(ep->conn)));
    free(ref);
    /* The same session for the next message. */
    assert_int_equal(client_send(ep, t, NULL, "again", 5), 5);
    free(receive(t, buf, sizeof(buf)));
    assert_string_equal(buf, "echo:again");
    assert_int_equal(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENS), opens + 1);
    manager_close(t);
    assert_int_equal(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONCLIENTCLOSES), closes + 1);
}

/* RFC 6353 5.2: after the agent ends the session, a response (same
 * security) is dropped and counted; a request opens a new session. */
static void ended_session_is_reopened_for_requests_only(void **state)
{
    netsnmp_transport *t = manager_open("server");
    endpoint *ep = endpoint_of(t);
    unsigned nosessions = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONNOSESSIONS);
    unsigned opens = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENS);
    netsnmp_tmStateReference same = as_user("alice"), *ref;
    dtlsudp_time until;
    char buf[200];

    (void)state;
    assert_int_equal(client_send(ep, t, NULL, "close", 5), 5);
    for (until = dtlsudp_now() + 5000;
         dtlsudp_conn_state(ep->conn) != DTLSUDP_STATE_CLOSED && dtlsudp_now() < until;) {
        struct pollfd pfd = {.fd = t->sock, .events = POLLIN};
        (void)poll(&pfd, 1, 50);
        assert_int_equal(client_recv(ep, buf, sizeof(buf), &ref), -1);
    }
    assert_int_equal(dtlsudp_conn_state(ep->conn), DTLSUDP_STATE_CLOSED);

    same.sameSecurity = NETSNMP_TM_USE_SAME_SECURITY;
    assert_int_equal(client_send(ep, t, &same, "response", 8), -1);
    assert_int_equal(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONNOSESSIONS), nosessions + 1);

    assert_int_equal(client_send(ep, t, NULL, "request", 7), 7);
    assert_int_equal(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENS), opens + 2);
    ref = receive(t, buf, sizeof(buf));
    assert_string_equal(buf, "echo:request");
    /* the transport's securityName is the first one it was given */
    assert_int_equal(ref->securityNameLen, 5);
    assert_memory_equal(ref->securityName, "alice", 5);
    free(ref);
    manager_close(t);
}

/* RFC 6353 5.3.1: a server that is not the pinned one fails the first
 * send at once, counted and logged. */
static void wrong_server_fails_the_first_send(void **state)
{
    netsnmp_transport *t = manager_open("client2");
    endpoint *ep = endpoint_of(t);
    unsigned errors = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENERRORS);
    unsigned invalid = snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDSERVERCERTIFICATES);
    char want[100];

    (void)state;
    store_log_clear();
    errno = 0;
    assert_int_equal(client_send(ep, t, NULL, "hello", 5), -1);
    assert_int_equal(errno, EPROTO);
    assert_int_equal(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONOPENERRORS), errors + 1);
    assert_int_equal(snmp_get_statistic(STAT_TLSTM_SNMPTLSTMSESSIONINVALIDSERVERCERTIFICATES), invalid + 1);
    assert_non_null(strstr(store_log(), "does not match the expected fingerprint (peerCert)"));
    snprintf(want, sizeof(want), "dtlsudp: no session with 127.0.0.1:%d: ", agent_port);
    assert_non_null(strstr(store_log(), want));
    manager_close(t);
}

/* A peerCert that names nothing opens no session, and says so. */
static void unknown_peer_cert_opens_nothing(void **state)
{
    netsnmp_transport *t = manager_open("nosuch");
    endpoint *ep = endpoint_of(t);

    (void)state;
    store_log_clear();
    assert_int_equal(client_send(ep, t, NULL, "hello", 5), -1);
    assert_null(ep->conn);
    assert_non_null(strstr(store_log(), "dtlsudp: -T peerCert nosuch: no certificate file nosuch.crt"));
    manager_close(t);
}

/* The contents of <store>/name in buf (at most cap - 1 bytes); its length. */
static size_t read_store_file(const char *name, char *buf, size_t cap)
{
    char path[512];
    FILE *f = fopen(store_path(name, path, sizeof(path)), "rb");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

/* The session takes the certificate, key and issuers Net-SNMP loaded at
 * start-up: with the files on disk garbled since, the handshake still
 * completes (an engine reading the files would refuse them). */
static void session_uses_the_loaded_identity_not_the_files(void **state)
{
    static const char *const files[] = {"tls/certs/client.crt", "tls/private/client.key"};
    char saved[2][8192], buf[200];
    netsnmp_transport *t;
    endpoint *ep;

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        assert_true(read_store_file(files[i], saved[i], sizeof(saved[i])) > 0);
        assert_int_equal(store_write(files[i], "-----BEGIN GARBAGE-----\nnot PEM\n"), 0);
    }
    t = manager_open("server");
    ep = endpoint_of(t);
    assert_int_equal(client_send(ep, t, NULL, "hello", 5), 5);
    assert_int_equal(dtlsudp_conn_state(ep->conn), DTLSUDP_STATE_ESTABLISHED);
    free(receive(t, buf, sizeof(buf)));
    assert_string_equal(buf, "echo:hello");
    manager_close(t);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(store_write(files[i], saved[i]), 0);
}

static int setup(void **state)
{
    int fds[2];

    (void)state;
    assert_non_null(store_make());
    assert_int_equal(store_write("snmp.conf", "trustCert ca\n"), 0);
    assert_int_equal(pipe(fds), 0);
    agent_pid = fork();
    assert_true(agent_pid >= 0);
    if (agent_pid == 0) {
        close(fds[0]);
        agent_main(fds[1]);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &agent_port, sizeof(agent_port)), (ssize_t)sizeof(agent_port));
    close(fds[0]);
    store_init_snmp(APP, 0);
    return 0;
}

static int teardown(void **state)
{
    int status;

    (void)state;
    if (agent_pid > 0) {
        kill(agent_pid, SIGTERM);
        (void)waitpid(agent_pid, &status, 0);
    }
    dtlsudp_snmp_sessions_clear();
    dtlsudp_snmp_cert_index_reset();
    store_remove(APP);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_on_a_new_session),
        cmocka_unit_test(ended_session_is_reopened_for_requests_only),
        cmocka_unit_test(wrong_server_fails_the_first_send),
        cmocka_unit_test(unknown_peer_cert_opens_nothing),
        cmocka_unit_test(session_uses_the_loaded_identity_not_the_files),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
