/*
 * preload.c - libdtlsudp-preload.so: gives stock, unpatched Net-SNMP
 * programs the dtlsudp transport through LD_PRELOAD (see dtlsudp-run).
 *
 * libnetsnmp resolves a transport specifier to the first registered domain
 * with that prefix and refuses a second domain with the same OID, and
 * Debian's libnetsnmp registers its own DTLSUDP domain in _init_snmp().
 * A domain registered before that wins, so the constructor below loads the
 * transport plugin (dtlsudp-transport.so, the same file a patched
 * libnetsnmp loads through "transportPlugin dtlsudp PATH") and runs its
 * entry point before main(), that is before any init_snmp().
 *
 * This library itself links nothing but libc: LD_PRELOAD puts it into
 * every process of a shell, most of which never link libnetsnmp.  It only
 * acts when libnetsnmp is already part of the process; otherwise it does
 * nothing at all.
 *
 * Environment:
 *   DTLSUDP_TRANSPORT_PLUGIN  path of the plugin (default: the
 *                             dtlsudp-transport.so next to this library)
 *   DTLSUDP_PRELOAD_DEBUG     if set, say what the constructor did
 * Both are read with secure_getenv(): a secure-execution process (AT_SECURE:
 * setuid or setgid, file capabilities) ignores them, so that it only ever
 * loads the plugin next to this library and says nothing extra.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr, RTLD_DEFAULT, RTLD_NODELETE, secure_getenv */
#endif
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN_FILE "dtlsudp-transport.so"
#define PLUGIN_ENTRY "dtlsudp_transport_init"
/* A function every libnetsnmp has and no other library defines. */
#define NETSNMP_PROBE_SYMBOL "netsnmp_tdomain_register"

static int debug_enabled(void)
{
    return secure_getenv("DTLSUDP_PRELOAD_DEBUG") != NULL;
}

/* The plugin lives next to this library, installed (pkglibdir) or in the
 * build tree (.libs/); returns 0 or -1 if the path does not fit. */
static int default_plugin_path(char *buf, size_t cap)
{
    Dl_info self;
    const char *slash;
    int n;

    if (dladdr((void *)default_plugin_path, &self) == 0 || self.dli_fname == NULL)
        return -1;
    slash = strrchr(self.dli_fname, '/');
    if (slash == NULL)
        n = snprintf(buf, cap, "./%s", PLUGIN_FILE);
    else
        n = snprintf(buf, cap, "%.*s/%s", (int)(slash - self.dli_fname), self.dli_fname, PLUGIN_FILE);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

__attribute__((constructor)) static void dtlsudp_preload_init(void)
{
    char path[PATH_MAX];
    /* NULL in a secure-execution process, whatever the environment says. */
    const char *env = secure_getenv("DTLSUDP_TRANSPORT_PLUGIN");
    void *handle;
    union {
        void *ptr;
        int (*fn)(void);
    } entry;
    int rc;

    /* Not a Net-SNMP program: leave it alone. */
    if (dlsym(RTLD_DEFAULT, NETSNMP_PROBE_SYMBOL) == NULL) {
        if (debug_enabled())
            fprintf(stderr, "dtlsudp-preload: no libnetsnmp in this process, nothing to do\n");
        return;
    }

    if (env != NULL && env[0] != '\0') {
        if (strlen(env) >= sizeof(path)) {
            fprintf(stderr, "dtlsudp-preload: DTLSUDP_TRANSPORT_PLUGIN is too long\n");
            return;
        }
        strcpy(path, env);
    } else if (default_plugin_path(path, sizeof(path)) != 0) {
        fprintf(stderr, "dtlsudp-preload: cannot locate %s\n", PLUGIN_FILE);
        return;
    }

    /* RTLD_NODELETE: the plugin hands callbacks to libnetsnmp and OpenSSL
     * that must stay mapped until exit. */
    handle = dlopen(path, RTLD_NOW | RTLD_NODELETE);
    if (handle == NULL) {
        fprintf(stderr, "dtlsudp-preload: cannot load the dtlsudp transport: %s\n", dlerror());
        return;
    }
    entry.ptr = dlsym(handle, PLUGIN_ENTRY);
    if (entry.ptr == NULL) {
        fprintf(stderr, "dtlsudp-preload: %s has no %s()\n", path, PLUGIN_ENTRY);
        return;
    }
    rc = entry.fn();
    if (rc != 0)
        fprintf(stderr, "dtlsudp-preload: %s() failed (%d): dtlsudp: is not available\n", PLUGIN_ENTRY, rc);
    else if (debug_enabled())
        fprintf(stderr, "dtlsudp-preload: registered the dtlsudp transport from %s\n", path);
}
