/*
 * tlstm_stats.c - the counters libnetsnmp keeps for the TLS Transport Model
 * and the Transport Security Model, served from snmp_get_statistic():
 *
 *   SNMP-TLS-TM-MIB snmpTlstmSession{Opens..InvalidCaches} (RFC 6353 5.x,
 *       mib-2.198.2.1.1-10, STAT_TLSTM_*)
 *   SNMP-TSM-MIB snmpTsmStats (RFC 5591 5.x, mib-2.190.1.1.1-4, STAT_TSM_*)
 *   SNMP-TSM-MIB snmpTsmConfigurationUsePrefix (mib-2.190.1.2.1.0),
 *       read-write as the MIB says: libnetsnmp's tsmUseTransportPrefix
 *       flag, which TSM reads for every message, so a SET applies at once.
 *       A value set over SNMP is persisted as Net-SNMP persists objects set
 *       over SNMP (sysContact & co.): the line "dtlsudpTsmUsePrefix
 *       true|false" in the application's persistent file, read after the
 *       configuration files, rewritten at every store, so it keeps
 *       overriding tsmUseTransportPrefix until the persistent file is
 *       removed.
 *
 * Debian's snmpd is built without Net-SNMP's tlstm-mib and tsm-mib modules,
 * but libnetsnmp (and the dtlsudp transport) still count into these
 * statistics; this module makes them visible.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/snmp_get_statistic.h>

#include "mib_internal.h"
#include "mib_table.h"

static netsnmp_handler_registration *tlstm_session_reg;
static netsnmp_handler_registration *tsm_stats_reg;
static netsnmp_handler_registration *tsm_use_prefix_reg;

/* TruthValue (SNMPv2-TC) */
enum { TRUTH_TRUE = 1, TRUTH_FALSE = 2 };

static int use_prefix_set_by_snmp; /* persist the flag at every store */
static int use_prefix_token_registered;

static int use_prefix_get(void)
{
    return netsnmp_ds_get_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TSM_USE_PREFIX) ? TRUTH_TRUE : TRUTH_FALSE;
}

static int use_prefix_store(int major, int minor, void *server_arg, void *client_arg)
{
    (void)major;
    (void)minor;
    (void)server_arg;
    (void)client_arg;
    /* read_config_store() appends to <persistent dir>/snmp.conf, which
     * libnetsnmp reads after the configuration files. */
    if (use_prefix_set_by_snmp)
        read_config_store(netsnmp_ds_get_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_APPTYPE),
                          use_prefix_get() == TRUTH_TRUE ? "dtlsudpTsmUsePrefix true\n"
                                                         : "dtlsudpTsmUsePrefix false\n");
    return SNMPERR_SUCCESS;
}

/* The persisted value (a line only this module writes). */
static void use_prefix_parse(const char *token, char *line)
{
    int v = netsnmp_ds_parse_boolean(line);

    if (v < 0) {
        config_perror("expected true or false");
        return;
    }
    (void)token;
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TSM_USE_PREFIX, v);
    use_prefix_set_by_snmp = 1;
}

static int use_prefix_handler(netsnmp_mib_handler *handler, netsnmp_handler_registration *reginfo,
                              netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
    static int before; /* the value to restore on UNDO (one SET at a time) */
    netsnmp_request_info *r;
    long v;

    (void)handler;
    (void)reginfo;
    switch (reqinfo->mode) {
    case MODE_GET:
        for (r = requests; r != NULL; r = r->next)
            snmp_set_var_typed_integer(r->requestvb, ASN_INTEGER, use_prefix_get());
        break;
    case MODE_SET_RESERVE1:
        for (r = requests; r != NULL; r = r->next) {
            int ret = netsnmp_check_vb_type(r->requestvb, ASN_INTEGER);
            if (ret == SNMP_ERR_NOERROR)
                ret = netsnmp_check_vb_int_range(r->requestvb, TRUTH_TRUE, TRUTH_FALSE);
            if (ret != SNMP_ERR_NOERROR)
                netsnmp_set_request_error(reqinfo, r, ret);
        }
        break;
    case MODE_SET_ACTION:
        before = use_prefix_get();
        v = *requests->requestvb->val.integer;
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TSM_USE_PREFIX, v == TRUTH_TRUE);
        break;
    case MODE_SET_UNDO:
        netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_TSM_USE_PREFIX, before == TRUTH_TRUE);
        break;
    case MODE_SET_COMMIT:
        use_prefix_set_by_snmp = 1;
        snmp_store_needed(NULL);
        break;
    default: /* RESERVE2, FREE: nothing held */
        break;
    }
    return SNMP_ERR_NOERROR;
}

/* Registers a contiguous range of libnetsnmp statistics below `base'.
 * netsnmp_register_statistic_handler frees the registration on failure. */
static netsnmp_handler_registration *register_statistics(const char *name, const oid *base, size_t base_len,
                                                         int first, int last)
{
    netsnmp_handler_registration *reg;
    int rc;

    reg = netsnmp_create_handler_registration(name, NULL, base, base_len, HANDLER_CAN_RONLY);
    if (reg == NULL)
        return NULL;
    rc = netsnmp_register_statistic_handler(reg, 1, first, last);
    if (rc != MIB_REGISTERED_OK) {
        snmp_log(LOG_WARNING, "dtlsudp: could not register %s (%d); already served?\n", name, rc);
        return NULL;
    }
    return reg;
}

int mib_tlstm_stats_register(void)
{
    static const oid tlstm_session[] = {MIB_TLSTM_OID, 2, 1};
    static const oid tsm_stats[] = {MIB_TSM_OID, 1, 1};
    static const oid tsm_use_prefix[] = {MIB_TSM_OID, 1, 2, 1};
    int rc = 0;

    if (tlstm_session_reg == NULL)
        tlstm_session_reg = register_statistics("snmpTlstmSession", tlstm_session, OID_LENGTH(tlstm_session),
                                                STAT_TLSTM_STATS_START, STAT_TLSTM_STATS_END);
    if (tsm_stats_reg == NULL)
        tsm_stats_reg = register_statistics("snmpTsmStats", tsm_stats, OID_LENGTH(tsm_stats),
                                            STAT_TSM_STATS_START, STAT_TSM_STATS_END);
    if (tsm_use_prefix_reg == NULL) {
        tsm_use_prefix_reg = netsnmp_create_handler_registration(
            "snmpTsmConfigurationUsePrefix", use_prefix_handler, tsm_use_prefix, OID_LENGTH(tsm_use_prefix),
            HANDLER_CAN_RWRITE);
        if (tsm_use_prefix_reg != NULL && netsnmp_register_scalar(tsm_use_prefix_reg) != MIB_REGISTERED_OK) {
            /* the registration was freed by the failed register call */
            snmp_log(LOG_WARNING, "dtlsudp: could not register snmpTsmConfigurationUsePrefix\n");
            tsm_use_prefix_reg = NULL;
        }
        if (tsm_use_prefix_reg != NULL)
            snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_STORE_DATA, use_prefix_store, NULL);
        if (!use_prefix_token_registered) {
            /* registered from dlmod, before the persistent file is read */
            register_app_config_handler("dtlsudpTsmUsePrefix", use_prefix_parse, NULL, "true|false");
            use_prefix_token_registered = 1;
        }
    }
    if (tlstm_session_reg == NULL || tsm_stats_reg == NULL || tsm_use_prefix_reg == NULL)
        rc = -1;
    return rc;
}

void mib_tlstm_stats_unregister(void)
{
    mib_unregister(&tlstm_session_reg);
    mib_unregister(&tsm_stats_reg);
    if (tsm_use_prefix_reg != NULL)
        snmp_unregister_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_STORE_DATA, use_prefix_store, NULL, 1);
    mib_unregister(&tsm_use_prefix_reg);
}
