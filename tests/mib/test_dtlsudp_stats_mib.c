/*
 * test_dtlsudp_stats_mib.c - agent-plugin/mib/dtlsudp_stats_mib.c in an
 * in-process agent with two real dtlsudp listeners on loopback (one osnet,
 * one router demux): dtlsudpListenerCount counts them, each
 * dtlsudpListenerTable row shows its own address, demux and counters, and
 * dtlsudpStats sums every engine of the process, closed ones included.
 * The counters are moved by datagrams this test sends (junk: each one
 * counts as received and as malformed), so the expected values are known
 * here, not read back from the transport.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mib_internal.h"
#include "testagent.h"
#include "endpoint.h"

#include <net-snmp/library/cert_util.h>

#define APP "dtlsudp-test-stats-mib"

static const oid stats_base[] = {MIB_DTLSUDP_OID, 1, 1};
static const oid listener_count[] = {MIB_DTLSUDP_OID, 1, 2, 0};
static const oid listener_entry[] = {MIB_DTLSUDP_OID, 1, 3, 1};

/* dtlsudpStats numbers of the fields the junk datagrams move. */
enum { F_ASSOCS_NOW = 9, F_DROPPED_MALFORMED = 19, F_DATAGRAMS_IN = 23, F_BYTES_IN = 25 };

static netsnmp_transport *osnet_t, *router_t;

static void register_module(void)
{
    /* init_agent() has registered the certificate tokens, as in snmpd. */
    dtlsudp_snmp_domain_register();
    dtlsudp_snmp_config_register();
    assert_int_equal(mib_dtlsudp_register(), 0);
}

static netsnmp_transport *open_listener(void)
{
    dtlsudp_addr addr;

    assert_int_equal(dtlsudp_addr_parse("127.0.0.1", 0, &addr), DTLSUDP_OK);
    return dtlsudp_snmp_transport_open(&addr, 1, 0, NULL);
}

static int setup(void **state)
{
    char cmd[1024], demux[] = "dtlsudpDemux router";
    const char *srcdir = getenv("top_srcdir");

    (void)state;
    snprintf(cmd, sizeof(cmd), "sh %s/tests/lib/make-certs.sh -q %s >/dev/null", srcdir != NULL ? srcdir : "..",
             testagent_confdir());
    assert_int_equal(system(cmd), 0);
    testagent_write_conf("snmp.conf", "localCert server\n");
    if (testagent_start(APP, register_module) != 0)
        return -1;
    osnet_t = open_listener();
    netsnmp_config(demux);
    router_t = open_listener();
    return osnet_t != NULL && router_t != NULL ? 0 : -1;
}

static void close_transport(netsnmp_transport **t)
{
    if (*t != NULL) {
        (*t)->f_close(*t);
        netsnmp_transport_free(*t);
        *t = NULL;
    }
}

static int teardown(void **state)
{
    (void)state;
    close_transport(&osnet_t);
    close_transport(&router_t);
    mib_dtlsudp_unregister();
    testagent_stop();
    return 0;
}

static int port_of(netsnmp_transport *t)
{
    return ntohs(endpoint_of(t)->addr.sin.sin_port);
}

static uint64_t datagrams_in(netsnmp_transport *t)
{
    dtlsudp_net_stats st;

    assert_int_equal(dtlsudp_listener_get_stats(endpoint_of(t)->listener, &st), DTLSUDP_OK);
    return st.engine.datagrams_in;
}

/* Sends n junk datagrams of len bytes to t and lets the transport read
 * them through its recv hook, as snmpd's loop would. */
static void send_junk(netsnmp_transport *t, int n, size_t len)
{
    struct sockaddr_in to;
    char junk[64], buf[2048];
    uint64_t want = datagrams_in(t) + (uint64_t)n;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), i;

    assert_true(fd >= 0 && len <= sizeof(junk));
    memset(junk, 'j', sizeof(junk));
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)port_of(t));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < n; i++)
        assert_int_equal(sendto(fd, junk, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
    close(fd);
    for (i = 0; i < 100 && datagrams_in(t) < want; i++) {
        struct pollfd pfd = {.fd = t->sock, .events = POLLIN};
        void *opaque = NULL;
        int olen = 0;

        if (poll(&pfd, 1, 20) > 0 && t->f_recv(t, buf, (int)sizeof(buf), &opaque, &olen) > 0)
            fail_msg("junk delivered as a message");
        free(opaque);
    }
    assert_int_equal(datagrams_in(t), want);
}

static size_t column_oid(oid column, oid index, oid *out)
{
    memcpy(out, listener_entry, sizeof(listener_entry));
    out[OID_LENGTH(listener_entry)] = column;
    out[OID_LENGTH(listener_entry) + 1] = index;
    return OID_LENGTH(listener_entry) + 2;
}

static uint64_t listener_counter(oid index, unsigned field)
{
    oid name[MAX_OID_LEN];
    size_t len = column_oid(MIB_LISTENER_STATS_COLUMN_BASE + field, index, name);
    testagent_reply r;
    uint64_t v;

    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOERROR);
    v = testagent_counter64(r.vb);
    testagent_reply_free(&r);
    return v;
}

static uint64_t total_counter(unsigned field)
{
    oid name[MAX_OID_LEN];
    testagent_reply r;
    uint64_t v;

    memcpy(name, stats_base, sizeof(stats_base));
    name[OID_LENGTH(stats_base)] = field;
    name[OID_LENGTH(stats_base) + 1] = 0;
    assert_int_equal(testagent_get(name, OID_LENGTH(stats_base) + 2, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOERROR);
    v = testagent_counter64(r.vb);
    testagent_reply_free(&r);
    return v;
}

static void test_listener_count(void **state)
{
    u_char type = 0;

    (void)state;
    assert_int_equal(testagent_get_integer(listener_count, OID_LENGTH(listener_count), &type), 2);
    assert_int_equal(type, ASN_GAUGE);
}

/* Rows in the order the listeners opened: address and demux of each. */
static void test_listener_rows(void **state)
{
    oid name[MAX_OID_LEN];
    char want[64];
    size_t len;
    testagent_reply r;

    (void)state;
    len = column_oid(MIB_LISTENER_COLUMN_ADDRESS, 1, name);
    assert_int_equal(testagent_get(name, len, &r), 0);
    snprintf(want, sizeof(want), "127.0.0.1:%d", port_of(osnet_t));
    assert_int_equal(r.vb->type, ASN_OCTET_STR);
    assert_int_equal(r.vb->val_len, strlen(want));
    assert_memory_equal(r.vb->val.string, want, strlen(want));
    testagent_reply_free(&r);
    len = column_oid(MIB_LISTENER_COLUMN_ADDRESS, 2, name);
    assert_int_equal(testagent_get(name, len, &r), 0);
    snprintf(want, sizeof(want), "127.0.0.1:%d", port_of(router_t));
    assert_int_equal(r.vb->val_len, strlen(want));
    assert_memory_equal(r.vb->val.string, want, strlen(want));
    testagent_reply_free(&r);

    len = column_oid(MIB_LISTENER_COLUMN_DEMUX, 1, name);
    assert_int_equal(testagent_get_integer(name, len, NULL), MIB_DEMUX_OSNET);
    len = column_oid(MIB_LISTENER_COLUMN_DEMUX, 2, name);
    assert_int_equal(testagent_get_integer(name, len, NULL), MIB_DEMUX_ROUTER);
}

/* Each row counts its own listener's datagrams; Gauge32 fields are
 * Gauge32. */
static void test_listener_counters(void **state)
{
    oid name[MAX_OID_LEN];
    size_t len;
    u_char type = 0;

    (void)state;
    send_junk(osnet_t, 3, 10);
    send_junk(router_t, 2, 7);
    assert_int_equal(listener_counter(1, F_DATAGRAMS_IN), 3);
    assert_int_equal(listener_counter(1, F_BYTES_IN), 30);
    assert_int_equal(listener_counter(1, F_DROPPED_MALFORMED), 3);
    assert_int_equal(listener_counter(2, F_DATAGRAMS_IN), 2);
    assert_int_equal(listener_counter(2, F_BYTES_IN), 14);
    assert_int_equal(listener_counter(2, F_DROPPED_MALFORMED), 2);
    len = column_oid(MIB_LISTENER_STATS_COLUMN_BASE + F_ASSOCS_NOW, 1, name);
    assert_int_equal(testagent_get_integer(name, len, &type), 0);
    assert_int_equal(type, ASN_GAUGE);
}

/* dtlsudpStats is the sum over the listeners. */
static void test_totals(void **state)
{
    oid name[MAX_OID_LEN];
    u_char type = 0;

    (void)state;
    assert_int_equal(total_counter(F_DATAGRAMS_IN), 5);
    assert_int_equal(total_counter(F_BYTES_IN), 44);
    assert_int_equal(total_counter(F_DROPPED_MALFORMED), 5);
    memcpy(name, stats_base, sizeof(stats_base));
    name[OID_LENGTH(stats_base)] = F_ASSOCS_NOW;
    name[OID_LENGTH(stats_base) + 1] = 0;
    assert_int_equal(testagent_get_integer(name, OID_LENGTH(stats_base) + 2, &type), 0);
    assert_int_equal(type, ASN_GAUGE);
}

/* Each request reads the counters afresh: no cache between requests. */
static void test_values_are_current(void **state)
{
    (void)state;
    send_junk(osnet_t, 1, 5);
    assert_int_equal(listener_counter(1, F_DATAGRAMS_IN), 4);
    assert_int_equal(total_counter(F_BYTES_IN), 49);
}

static void test_nothing_past_the_end(void **state)
{
    oid name[MAX_OID_LEN];
    size_t len;
    testagent_reply r;

    (void)state;
    len = column_oid(MIB_LISTENER_COLUMN_ADDRESS, 3, name);
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.vb->type, SNMP_NOSUCHINSTANCE);
    testagent_reply_free(&r);
    len = column_oid(MIB_LISTENER_STATS_COLUMN_BASE + (oid)mib_stat_field_count + 1, 1, name);
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_true(r.vb->type == SNMP_NOSUCHOBJECT || r.vb->type == SNMP_NOSUCHINSTANCE);
    testagent_reply_free(&r);
    memcpy(name, stats_base, sizeof(stats_base));
    name[OID_LENGTH(stats_base)] = (oid)mib_stat_field_count + 1;
    name[OID_LENGTH(stats_base) + 1] = 0;
    assert_int_equal(testagent_get(name, OID_LENGTH(stats_base) + 2, &r), 0);
    assert_true(r.vb->type == SNMP_NOSUCHOBJECT || r.vb->type == SNMP_NOSUCHINSTANCE);
    testagent_reply_free(&r);
}

static void test_refuses_writes(void **state)
{
    netsnmp_variable_list *vars = NULL;
    long zero = 0;
    testagent_reply r;

    (void)state;
    snmp_varlist_add_variable(&vars, listener_count, OID_LENGTH(listener_count), ASN_GAUGE, &zero, sizeof(zero));
    assert_int_equal(testagent_set(vars, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOTWRITABLE);
    testagent_reply_free(&r);
    snmp_free_varbind(vars);
}

/* A closed listener leaves the table; its counts stay in the totals. */
static void test_closed_listener(void **state)
{
    oid name[MAX_OID_LEN];
    size_t len;
    testagent_reply r;

    (void)state;
    close_transport(&osnet_t);
    assert_int_equal(testagent_get_integer(listener_count, OID_LENGTH(listener_count), NULL), 1);
    len = column_oid(MIB_LISTENER_COLUMN_DEMUX, 1, name);
    assert_int_equal(testagent_get_integer(name, len, NULL), MIB_DEMUX_ROUTER);
    len = column_oid(MIB_LISTENER_COLUMN_DEMUX, 2, name);
    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.vb->type, SNMP_NOSUCHINSTANCE);
    testagent_reply_free(&r);
    assert_int_equal(total_counter(F_DATAGRAMS_IN), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listener_count),
        cmocka_unit_test(test_listener_rows),
        cmocka_unit_test(test_listener_counters),
        cmocka_unit_test(test_totals),
        cmocka_unit_test(test_values_are_current),
        cmocka_unit_test(test_nothing_past_the_end),
        cmocka_unit_test(test_refuses_writes),
        cmocka_unit_test(test_closed_listener),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
