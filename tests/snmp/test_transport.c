/*
 * Unit tests: the dtlsudp netsnmp_transport itself (transport/snmp:
 * transport.c, server.c, client.c, endpoint.c, peerauth.c), without snmpd
 * or any SNMP application: an agent-side transport in a child process and
 * a manager-side transport in this one, on loopback, driven through the
 * hooks exactly as libnetsnmp drives them (f_config, f_open, f_send,
 * select() on t->sock, f_recv, f_close).
 *
 * Configuration as an operator writes it, in a temporary SNMPCONFPATH:
 * snmp.conf names the agent's localCert and the trustCert CA;
 * dtlsudp-test.conf maps clients of that CA to their CN (certSecName
 * --cn).  Certificates come from tests/lib/make-certs.sh.
 *
 * The child echoes what it receives as "name=<securityName>
 * level=<transportSecurityLevel> msg=<message>", so the client sees what
 * TSM would have been told.
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
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "endpoint.h"

#include <net-snmp/library/cert_util.h>
#include <openssl/pem.h>

#if defined(__SANITIZE_ADDRESS__)
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:netsnmp_init_mib_internals\nleak:netsnmp_dtlsudp_ctor\n";
}
#endif

static char confdir[] = "/tmp/dtlsudp-test-transport.XXXXXX";
static pid_t agent_pid = -1;
static int agent_port;

static void write_file(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", confdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The CA's SHA-256 fingerprint, from its certificate file. */
static void ca_fingerprint(char *out, size_t cap)
{
    char path[512];
    X509 *ca;
    FILE *f;
    dtlsudp_fingerprint fp;

    snprintf(path, sizeof(path), "%s/tls/ca-certs/ca.crt", confdir);
    f = fopen(path, "r");
    assert_non_null(f);
    ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(ca);
    assert_int_equal(dtlsudp_fingerprint_of(ca, 32, &fp), DTLSUDP_OK);
    assert_int_equal(dtlsudp_fingerprint_format(&fp, out, cap), DTLSUDP_OK);
    X509_free(ca);
}

/* The agent: a server transport on 127.0.0.1 (port picked by the kernel,
 * written to `report'), serving until it reads "quit" or 30 s pass. */
static void agent_main(int report)
{
    dtlsudp_addr addr;
    netsnmp_transport *t;
    endpoint *ep;
    time_t until = time(NULL) + 30;
    int port;

    /* No cmocka assertions in the child: a failure is its exit status. */
    if (dtlsudp_addr_parse("127.0.0.1", 0, &addr) != DTLSUDP_OK ||
        (t = dtlsudp_snmp_transport_open(&addr, 1, 0, NULL)) == NULL)
        _exit(2);
    ep = endpoint_of(t);
    port = ntohs(ep->addr.sin.sin_port);
    if (write(report, &port, sizeof(port)) != (ssize_t)sizeof(port))
        _exit(3);
    close(report);
    while (time(NULL) < until) {
        struct pollfd pfd = {.fd = t->sock, .events = POLLIN};
        char buf[2048], reply[2300];
        void *opaque = NULL;
        int olen = 0, n;

        run_alarms();
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        t->flags &= ~NETSNMP_TRANSPORT_FLAG_EMPTY_PKT;
        n = t->f_recv(t, buf, (int)sizeof(buf) - 1, &opaque, &olen);
        if (n <= 0) {
            free(opaque);
            continue;
        }
        buf[n] = '\0';
        {
            netsnmp_tmStateReference *ref = opaque;
            if (strcmp(buf, "quit") == 0) {
                free(opaque);
                break;
            }
            if (strcmp(buf, "other-session") == 0) {
                /* A reply for a session that is not this one must not
                 * leave (RFC 6353 5.2 step 3): dropped, -1. */
                netsnmp_tmStateReference other = *ref;
                void *po = &other;
                int plen = (int)sizeof(other);

                other.sessionID[0] ^= 0xff;
                n = snprintf(reply, sizeof(reply), "other-session send=%d",
                             t->f_send(t, "x", 1, &po, &plen));
            } else {
                n = snprintf(reply, sizeof(reply), "name=%.*s level=%d msg=%s", (int)ref->securityNameLen,
                             ref->securityName, ref->transportSecurityLevel, buf);
            }
            (void)t->f_send(t, reply, n, &opaque, &olen);
        }
        free(opaque);
    }
    t->f_close(t);
    netsnmp_transport_free(t);
    _exit(0);
}

static int setup(void **state)
{
    char cmd[1024], fp[3 * 32 + 1], conf[512];
    const char *srcdir = getenv("top_srcdir");
    int fds[2];

    (void)state;
    assert_non_null(mkdtemp(confdir));
    snprintf(cmd, sizeof(cmd), "sh %s/tests/lib/make-certs.sh -q %s >/dev/null", srcdir != NULL ? srcdir : "../..",
             confdir);
    assert_int_equal(system(cmd), 0);
    ca_fingerprint(fp, sizeof(fp));
    write_file("snmp.conf", "localCert server\ntrustCert ca\n");
    snprintf(conf, sizeof(conf), "certSecName 10 %s --cn\n", fp);
    write_file("dtlsudp-test.conf", conf);

    setenv("SNMPCONFPATH", confdir, 1);
    setenv("SNMP_PERSISTENT_DIR", confdir, 1);
    setenv("MIBS", "", 1);
    /* (not NETSNMP_DS_LIB_DONT_PERSIST_STATE: it also stops every
     * configuration file from being read) */
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    snmp_disable_stderrlog();
    /* certSecName, registered as snmpd registers it (init_agent), for
     * this application's own file. */
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_APPTYPE, "dtlsudp-test");
    netsnmp_container_init_list();
    netsnmp_certs_agent_init();
    dtlsudp_snmp_domain_register();
    dtlsudp_snmp_config_register();
    init_snmp("dtlsudp-test");

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
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];
    int status;

    (void)state;
    if (agent_pid > 0) {
        kill(agent_pid, SIGTERM);
        (void)waitpid(agent_pid, &status, 0);
    }
    snmp_shutdown("dtlsudp-test");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", confdir);
    (void)system(cmd);
    return 0;
}

/* A manager-side transport toward the agent, with -T settings. */
static netsnmp_transport *client_open(const char *local_cert, const char *peer_cert)
{
    dtlsudp_addr addr;
    netsnmp_transport *t;
    char target[64];

    snprintf(target, sizeof(target), "127.0.0.1:%d", agent_port);
    assert_int_equal(dtlsudp_addr_parse("127.0.0.1", (uint16_t)agent_port, &addr), DTLSUDP_OK);
    t = dtlsudp_snmp_transport_open(&addr, 0, 0, target);
    assert_non_null(t);
    assert_int_equal(t->f_config(t, "localCert", local_cert), 0);
    assert_int_equal(t->f_config(t, "peerCert", peer_cert), 0);
    return t->f_open(t);
}

/* Wait (select() on t->sock, as libnetsnmp does) for one message; 5 s. */
static int client_receive(netsnmp_transport *t, char *buf, int cap, netsnmp_tmStateReference **ref)
{
    time_t until = time(NULL) + 5;

    while (time(NULL) < until) {
        struct pollfd pfd = {.fd = t->sock, .events = POLLIN};
        void *opaque = NULL;
        int olen = 0, n;

        if (poll(&pfd, 1, 100) <= 0)
            continue;
        t->flags &= ~NETSNMP_TRANSPORT_FLAG_EMPTY_PKT;
        n = t->f_recv(t, buf, cap - 1, &opaque, &olen);
        if (n > 0) {
            buf[n] = '\0';
            *ref = opaque;
            return n;
        }
        free(opaque);
    }
    return -1;
}

static void close_transport(netsnmp_transport *t)
{
    t->f_close(t);
    netsnmp_transport_free(t);
}

/* The round trip: the agent maps the client through certSecName to its CN
 * and reports authPriv; the manager gets the reply on its session. */
static void message_both_ways(void **state)
{
    netsnmp_transport *t = client_open("client", "server");
    netsnmp_tmStateReference *ref = NULL;
    char buf[2048];

    (void)state;
    assert_non_null(t);
    assert_true(t->sock >= 0);
    assert_int_equal(t->f_send(t, "hello", 5, NULL, NULL), 5);
    assert_true(client_receive(t, buf, sizeof(buf), &ref) > 0);
    assert_string_equal(buf, "name=client level=3 msg=hello");
    assert_non_null(ref);
    assert_int_equal(ref->transportSecurityLevel, SNMP_SEC_LEVEL_AUTHPRIV);
    assert_int_equal(ref->have_addresses, 1);
    free(ref);

    /* Another message on the same session: no new handshake. */
    assert_int_equal(t->f_send(t, "again", 5, NULL, NULL), 5);
    assert_true(client_receive(t, buf, sizeof(buf), &ref) > 0);
    assert_string_equal(buf, "name=client level=3 msg=again");
    free(ref);
    close_transport(t);
}

/* A reply addressed to another session is dropped by the agent. */
static void reply_to_other_session_dropped(void **state)
{
    netsnmp_transport *t = client_open("client", "server");
    netsnmp_tmStateReference *ref = NULL;
    char buf[2048];

    (void)state;
    assert_non_null(t);
    assert_int_equal(t->f_send(t, "other-session", 13, NULL, NULL), 13);
    assert_true(client_receive(t, buf, sizeof(buf), &ref) > 0);
    assert_string_equal(buf, "other-session send=-1");
    free(ref);
    close_transport(t);
}

/* RFC 6353 5.3.1: a server that is not the expected one (peerCert names
 * another certificate) fails the first send at once. */
static void wrong_server_fails_the_send(void **state)
{
    netsnmp_transport *t = client_open("client", "client-ec");

    (void)state;
    assert_non_null(t);
    errno = 0;
    assert_int_equal(t->f_send(t, "hello", 5, NULL, NULL), -1);
    assert_int_equal(errno, EPROTO);
    close_transport(t);
}

/* What a failed handshake is called in the log: the cause and the fix. */
static void failures_name_cause_and_fix(void **state)
{
    char out[400];

    (void)state;
    peerauth_explain_failure(SSL_AD_INTERNAL_ERROR, NULL, 0, out, sizeof(out));
    assert_non_null(strstr(out, "the agent sent alert internal error"));
    assert_non_null(strstr(out, "dtlsudpMaxHalfOpenPerSource"));
    peerauth_explain_failure(SSL_AD_INTERNAL_ERROR, NULL, 1, out, sizeof(out));
    assert_string_equal(out, "the manager sent alert internal error");
    peerauth_explain_failure(SSL_AD_BAD_CERTIFICATE, NULL, 1, out, sizeof(out));
    assert_non_null(strstr(out, "the manager sent alert bad certificate: it refused our certificate (localCert)"));
    peerauth_explain_failure(-1, "no shared cipher", 0, out, sizeof(out));
    assert_non_null(strstr(out, "no cipher suite in common with the agent"));
}

/* Last: the agent stops on "quit". */
static void agent_stops(void **state)
{
    netsnmp_transport *t = client_open("client", "server");
    int status = -1;

    (void)state;
    assert_non_null(t);
    assert_int_equal(t->f_send(t, "quit", 4, NULL, NULL), 4);
    close_transport(t);
    assert_int_equal(waitpid(agent_pid, &status, 0), agent_pid);
    agent_pid = -1;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_both_ways),
        cmocka_unit_test(reply_to_other_session_dropped),
        cmocka_unit_test(wrong_server_fails_the_send),
        cmocka_unit_test(failures_name_cause_and_fix),
        cmocka_unit_test(agent_stops),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
