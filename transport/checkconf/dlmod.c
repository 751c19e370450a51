/*
 * dlmod.c - the plugin as snmpd will load it: each `dlmod dtlsudp' line
 * (absolute path, or NAME.so along the dlmod path), and the plugin's
 * tokens, which snmpd knows only from the dlmod line on.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <config.h>

#include "checkconf.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "snmp_internal.h"

#include <net-snmp/library/cert_util.h>

#ifndef DTLSUDP_DLMODDIR
#define DTLSUDP_DLMODDIR "/usr/lib/snmp/dlmod"
#endif

const char cc_plugin_fix[] = "dlmod dtlsudp " DTLSUDP_DLMODDIR "/dtlsudp.so (the absolute path of the "
                              "installed dtlsudp.so), above every dtlsudp* token";

/* Net-SNMP's default dlmod directory is LIBDIR/snmp/dlmod of its own
 * build: the directory libnetsnmp was loaded from. */
static void default_dlmod_path(char *buf, size_t cap)
{
    Dl_info info;
    char *copy;

    if (dladdr((void *)&init_snmp, &info) != 0 && info.dli_fname != NULL &&
        (copy = strdup(info.dli_fname)) != NULL) {
        snprintf(buf, cap, "%s/snmp/dlmod", dirname(copy));
        free(copy);
    } else {
        snprintf(buf, cap, "/usr/lib/snmp/dlmod");
    }
}

/* snmpd's dlmod.c: an absolute path is opened as it is; otherwise
 * DIR/PATH.so for every DIR of the dlmod path (SNMPDLMODPATH replaces
 * it, ":..." appends), and in 5.9.3 the last directory's result wins. */
static void *load_module(const char *path, char *tried, size_t cap, char *err, size_t errcap)
{
    void *h = NULL;
    char dirs[2048], *dir, *save = NULL;
    const char *env = getenv("SNMPDLMODPATH");

    if (path[0] == '/') {
        snprintf(tried, cap, "%s", path);
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        snprintf(err, errcap, "%s", h == NULL ? dlerror() : "");
        return h;
    }
    default_dlmod_path(dirs, sizeof(dirs));
    if (env != NULL && env[0] == ':')
        snprintf(dirs + strlen(dirs), sizeof(dirs) - strlen(dirs), "%s", env);
    else if (env != NULL)
        snprintf(dirs, sizeof(dirs), "%s", env);
    for (dir = strtok_r(dirs, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
        if (h != NULL)
            dlclose(h);
        snprintf(tried, cap, "%s/%s.so", dir, path);
        h = dlopen(tried, RTLD_NOW | RTLD_LOCAL);
        snprintf(err, errcap, "%s", h == NULL ? dlerror() : "");
    }
    return h;
}

int cc_check_dlmod(const cc_where *w, const char *value, int *is_plugin)
{
    char copy[1024], *name, *path, *save = NULL, tried[1400], err[1024], sym[96];
    void *h;
    int ok;

    *is_plugin = 0;
    snprintf(copy, sizeof(copy), "%s", value);
    copy[strcspn(copy, "#;\r\n")] = '\0';
    name = strtok_r(copy, " \t", &save);
    path = name != NULL ? strtok_r(NULL, " \t", &save) : NULL;
    if (name == NULL) {
        cc_add(CC_ERROR, "dlmod", w, "dlmod", value, "dlmod NAME PATH", "no module name");
        return 0;
    }
    if (path == NULL)
        path = name;
    *is_plugin = strcmp(name, "dtlsudp") == 0;
    h = load_module(path, tried, sizeof(tried), err, sizeof(err));
    if (h == NULL) {
        cc_finding *f = cc_add(CC_ERROR, "dlmod", w, "dlmod", value,
                               *is_plugin ? cc_plugin_fix : "the absolute path of the module",
                               "cannot load %s: %s%s", tried, err,
                               *is_plugin ? "; snmpd logs this once and then serves every dtlsudp: address "
                                            "with Net-SNMP's built-in DTLSUDP, silently"
                                          : "");
        cc_set(f, "path", tried);
        return 0;
    }
    snprintf(sym, sizeof(sym), "init_%s", name);
    ok = dlsym(h, sym) != NULL;
    if (!ok) {
        cc_add(CC_ERROR, "dlmod", w, "dlmod", value,
               *is_plugin ? cc_plugin_fix : "the module's name must match its init_NAME function",
               "%s loads but has no %s(): snmpd unloads it", tried, sym);
    } else if (*is_plugin) {
        cc_finding *f = cc_add(CC_OK, "dlmod", w, "dlmod", value, NULL,
                               "loads %s: snmpd serves dtlsudp:, dtls:, dtlsudp6: and dtls6: addresses with "
                               "this transport, and knows its tokens from this line on",
                               tried);
        cc_set(f, "path", tried);
    } else {
        cc_add(CC_OK, "dlmod", w, "dlmod", value, NULL, "loads %s", tried);
    }
    dlclose(h);
    return ok;
}

/* ------------------------------------------------------------------
 * Order: the plugin's tokens are known to snmpd only after the dlmod
 * ------------------------------------------------------------------ */

int cc_is_plugin_token(const char *token)
{
    size_t i;

    for (i = 0; i < dtlsudp_snmp_config_token_count(); i++)
        if (strcasecmp(token, dtlsudp_snmp_config_token_name(i)) == 0)
            return 1;
    return 0;
}

void cc_check_token_order(void)
{
    size_t i;
    char fix[1200];

    if (!cc.is_agent)
        return;
    for (i = 0; i < cc.n_lines; i++) {
        const cc_line *l = &cc.lines[i];
        if (!cc_is_plugin_token(l->token) || l->plugin_loaded)
            continue;
        if (cc.plugin_loaded) {
            snprintf(fix, sizeof(fix), "move the dlmod line (%s:%d) above this one", cc.plugin_at.file,
                     cc.plugin_at.line);
            cc_add(CC_ERROR, "token", &l->where, l->token, l->value, fix,
                   "comes before the dlmod line that loads the plugin: snmpd says \"Unknown token: %s\" "
                   "and ignores it",
                   l->token);
        } else {
            cc_add(CC_ERROR, "token", &l->where, l->token, l->value, cc_plugin_fix,
                   "no dlmod line loads the plugin: snmpd says \"Unknown token: %s\" and ignores it", l->token);
        }
    }
}
