/*
 * plugin.c - the snmpd dlmod: "dlmod dtlsudp /path/dtlsudp.so".
 *
 * Timing: snmpd runs dlmod lines inside read_configs(), before
 * init_master_agent() opens the agentAddress listeners, so the domain
 * registered here serves every "agentAddress dtlsudp:..." whatever the
 * order of the lines.  The plugin's own tokens (dtlsudpDemux, ...) are
 * known from the dlmod line on.
 *
 * SIGHUP: snmpd calls deinit_dtlsudp() and dlclose()s every dlmod, then
 * reloads them, but keeps its open transports, whose hooks and timers live
 * in this object.  So the object pins itself (RTLD_NODELETE) and init is
 * idempotent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* dladdr, RTLD_NODELETE */
#endif
#include <config.h>

#include <dlfcn.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "mib.h"
#include "snmp_transport.h"

#define PLUGIN_EXPORT __attribute__((visibility("default")))

PLUGIN_EXPORT void init_dtlsudp(void);
PLUGIN_EXPORT void deinit_dtlsudp(void);
PLUGIN_EXPORT void shutdown_dtlsudp(void);

static int loaded;
static void *pin;

/* dlopen(self, RTLD_NOLOAD | RTLD_NODELETE) marks the loaded object as
 * never to be unmapped; dlmod's dlclose() then only drops its reference. */
static void pin_self(void)
{
    Dl_info info;

    if (pin != NULL)
        return;
    if (dladdr((void *)&pin_self, &info) == 0 || info.dli_fname == NULL) {
        snmp_log(LOG_WARNING, "dtlsudp: cannot find the plugin's own file; a SIGHUP may "
                              "unload code that open transports use\n");
        return;
    }
    pin = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    if (pin == NULL)
        snmp_log(LOG_WARNING, "dtlsudp: cannot pin %s: %s\n", info.dli_fname, dlerror());
}

void init_dtlsudp(void)
{
    pin_self();
    if (!loaded) {
        if (dtlsudp_snmp_domain_register() != 0) {
            snmp_log(LOG_ERR, "dtlsudp: cannot register the transport domain\n");
            return;
        }
        snmp_log(LOG_INFO, "dtlsudp %s loaded\n", dtlsudp_version());
        loaded = 1;
    } else {
        DEBUGMSGTL(("dtlsudp", "init again (configuration reload)\n"));
        /* After a full snmp_shutdown/init_snmp cycle the list may have been
         * cleared; registering again is a no-op otherwise. */
        (void)dtlsudp_snmp_domain_register();
        dtlsudp_snmp_trust_reload();
    }
    /* Tokens are registered on every init: harmless when present. */
    dtlsudp_snmp_config_register();
    /* Before the MIB modules' own post-configuration callback, so that
     * the tables show the rows as the notification code will use them. */
    dtlsudp_snmp_tlstm_rows_install();
    /* SNMP-TLS-TM-MIB, SNMP-TSM-MIB statistics and the project's counters;
     * idempotent, so a SIGHUP re-init keeps one registration each. */
    if (dtlsudp_mib_init() != 0)
        snmp_log(LOG_WARNING, "dtlsudp: some MIB modules could not be registered\n");
}

void deinit_dtlsudp(void)
{
    /* Nothing to undo: the domain and the open transports stay (snmpd
     * does not reopen listeners on SIGHUP), the code stays mapped, and
     * the MIB handlers stay registered (the init that follows a SIGHUP
     * finds them in place; dtlsudp_mib_shutdown() is for a real unload,
     * which snmpd never does). */
    DEBUGMSGTL(("dtlsudp", "deinit\n"));
}

void shutdown_dtlsudp(void)
{
    deinit_dtlsudp();
}
