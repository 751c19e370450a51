/*
 * testagent.c - an in-process master agent and a manager session on it
 * (tests/mib/testagent.h).  No sockets: the session and the agent talk
 * through Net-SNMP's callback transport, as snmpd's internal queries do.
 */
#include "testagent.h"

#include <net-snmp/library/snmpCallbackDomain.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static char confdir[] = "/tmp/dtlsudp-test-mib.XXXXXX";
static int have_confdir;
static char *app_name;
static netsnmp_session *agent_side, *manager;

const char *testagent_confdir(void)
{
    if (!have_confdir) {
        assert_non_null(mkdtemp(confdir));
        have_confdir = 1;
        setenv("SNMPCONFPATH", confdir, 1);
        setenv("SNMP_PERSISTENT_DIR", confdir, 1);
        setenv("MIBS", "", 1);
    }
    return confdir;
}

void testagent_write_conf(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", testagent_confdir(), name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The callback transport names the session to attach to by its number. */
static int callback_number(netsnmp_session *s)
{
    const netsnmp_transport *t = snmp_sess_transport(snmp_sess_pointer(s));

    return ((const netsnmp_callback_info *)t->data)->callback_num;
}

int testagent_start(const char *app, void (*before_config)(void))
{
    (void)testagent_confdir();
    snmp_disable_stderrlog();
    /* TESTAGENT_DEBUG=token,token: Net-SNMP's debug output, when a test
     * needs to be understood. */
    if (getenv("TESTAGENT_DEBUG") != NULL) {
        snmp_enable_stderrlog();
        debug_register_tokens(getenv("TESTAGENT_DEBUG"));
        snmp_set_do_debugging(1);
    }
    app_name = strdup(app);
    /* As snmpd: the application type first, so tokens registered before
     * the files are read belong to <app>.conf. */
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_APPTYPE, app);
    /* A master agent that opens no listening address: requests reach it
     * only through the callback session below. */
    netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 0 /* master */);
    netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_NO_ROOT_ACCESS, 1);
    if (init_agent(app) != 0)
        return -1;
    if (before_config != NULL)
        before_config();
    init_snmp(app);
    agent_side = netsnmp_callback_open(0, handle_snmp_packet, netsnmp_agent_check_packet,
                                       netsnmp_agent_check_parse);
    if (agent_side == NULL)
        return -1;
    manager = netsnmp_callback_open(callback_number(agent_side), NULL, NULL, NULL);
    if (manager == NULL)
        return -1;
    /* SNMPv2c error reporting (noSuchObject, notWritable...).  The
     * session's own (empty) community is replaced, not leaked. */
    manager->version = SNMP_VERSION_2c;
    free(manager->community);
    manager->community = (u_char *)strdup("public");
    manager->community_len = strlen("public");
    return 0;
}

void testagent_stop(void)
{
    char cmd[600];

    if (manager != NULL)
        snmp_close(manager);
    if (agent_side != NULL)
        snmp_close(agent_side);
    manager = agent_side = NULL;
    snmp_shutdown(app_name != NULL ? app_name : "test");
    shutdown_agent();
    free(app_name);
    app_name = NULL;
    if (have_confdir) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", confdir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", confdir);
        have_confdir = 0;
    }
}

static int request(netsnmp_pdu *pdu, testagent_reply *out)
{
    netsnmp_pdu *response = NULL;

    memset(out, 0, sizeof(*out));
    /* No access control here: the agent has no VACM configuration, and
     * what is tested is the modules' answers, not access. */
    pdu->flags |= UCD_MSG_FLAG_ALWAYS_IN_VIEW;
    if (manager == NULL || snmp_synch_response(manager, pdu, &response) != STAT_SUCCESS ||
        response == NULL) {
        if (response != NULL)
            snmp_free_pdu(response);
        return -1;
    }
    out->pdu = response;
    out->errstat = response->errstat;
    out->errindex = response->errindex;
    out->vb = response->variables;
    return 0;
}

static int request_one(int command, const oid *name, size_t len, testagent_reply *out)
{
    netsnmp_pdu *pdu = snmp_pdu_create(command);

    assert_non_null(pdu);
    snmp_add_null_var(pdu, name, len);
    return request(pdu, out);
}

int testagent_get(const oid *name, size_t len, testagent_reply *out)
{
    return request_one(SNMP_MSG_GET, name, len, out);
}

int testagent_getnext(const oid *name, size_t len, testagent_reply *out)
{
    return request_one(SNMP_MSG_GETNEXT, name, len, out);
}

int testagent_set(netsnmp_variable_list *vars, testagent_reply *out)
{
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_SET);

    assert_non_null(pdu);
    pdu->variables = snmp_clone_varbind(vars);
    assert_non_null(pdu->variables);
    return request(pdu, out);
}

void testagent_reply_free(testagent_reply *r)
{
    if (r->pdu != NULL)
        snmp_free_pdu(r->pdu);
    memset(r, 0, sizeof(*r));
}

long testagent_get_integer(const oid *name, size_t len, u_char *type)
{
    testagent_reply r;
    long v;

    assert_int_equal(testagent_get(name, len, &r), 0);
    assert_int_equal(r.errstat, SNMP_ERR_NOERROR);
    assert_non_null(r.vb);
    assert_non_null(r.vb->val.integer);
    if (type != NULL)
        *type = r.vb->type;
    v = *r.vb->val.integer;
    testagent_reply_free(&r);
    return v;
}

uint64_t testagent_counter64(const netsnmp_variable_list *vb)
{
    assert_int_equal(vb->type, ASN_COUNTER64);
    return ((uint64_t)vb->val.counter64->high << 32) | (uint64_t)(vb->val.counter64->low & 0xffffffffu);
}
