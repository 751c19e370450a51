/*
 * manager-tdomain-probe.c - which code serves a transport specifier?
 *
 *   manager-tdomain-probe [-l] [-u] SPEC...
 *
 * Runs init_snmp() (so snmp.conf, transportPlugin and SNMP_TRANSPORT_PLUGINS
 * apply, as in any Net-SNMP application), then opens a transport for each
 * SPEC (a client transport, or a listener with -l) and prints one line
 *
 *   SPEC OBJECT
 *
 * where OBJECT is the base name of the shared object that implements the
 * transport's send hook (libnetsnmp.so.40 for the built-in domains,
 * dtlsudp-transport.so for this project's), or "none" when no transport
 * could be opened.  Exit status: 0 if every SPEC opened, 1 otherwise.
 * Opening a DTLS client transport does not send anything.
 *
 * -u first unregisters snmpDTLSUDPDomain through a struct of our own (not
 * the registered one), as a plugin replacing the built-in would: with
 * snmplib-patches/0001 only that domain goes; without it, the domains
 * registered after it are cut from the list too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr */
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

static const char *object_of(const void *fn)
{
    Dl_info info;
    const char *slash;

    if (fn == NULL || dladdr(fn, &info) == 0 || info.dli_fname == NULL)
        return "unknown";
    slash = strrchr(info.dli_fname, '/');
    return slash != NULL ? slash + 1 : info.dli_fname;
}

static void unregister_dtls_domain(void)
{
    static const oid dtls_domain_oid[] = {1, 3, 6, 1, 6, 1, 9};
    netsnmp_tdomain foreign;

    memset(&foreign, 0, sizeof(foreign));
    foreign.name = dtls_domain_oid;
    foreign.name_length = OID_LENGTH(dtls_domain_oid);
    /* Unpatched libnetsnmp frees the caller's prefix array. */
    foreign.prefix = calloc(1, sizeof(*foreign.prefix));
    printf("unregister %d\n", netsnmp_tdomain_unregister(&foreign));
    if (foreign.prefix != NULL)
        free(foreign.prefix);
}

int main(int argc, char **argv)
{
    int local = 0;
    int unregister = 0;
    int first = 1;
    int status = 0;
    union {
        int (*fn)(netsnmp_transport *, const void *, int, void **, int *);
        const void *ptr;
    } send_hook;

    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "-l") == 0)
            local = 1;
        else if (strcmp(argv[first], "-u") == 0)
            unregister = 1;
        else
            break;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: manager-tdomain-probe [-l] [-u] SPEC...\n");
        return 2;
    }
    /* Lines reach the pipe even if a sanitizer ends the process. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    init_snmp("manager-tdomain-probe");
    if (unregister)
        unregister_dtls_domain();
    for (int i = first; i < argc; i++) {
        netsnmp_transport *t = netsnmp_tdomain_transport(argv[i], local, "udp");

        if (t == NULL) {
            printf("%s none\n", argv[i]);
            status = 1;
            continue;
        }
        send_hook.fn = t->f_send;
        printf("%s %s\n", argv[i], object_of(send_hook.ptr));
        netsnmp_transport_free(t);
    }
    snmp_shutdown("manager-tdomain-probe");
    return status;
}
