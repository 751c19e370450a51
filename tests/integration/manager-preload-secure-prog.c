/*
 * manager-preload-secure-prog.c - the program of manager-preload-secure.sh,
 * compiled by that script (not by make) so that its run path can name the
 * script's scratch directory: glibc honours an absolute DT_RUNPATH in a
 * setuid program, but neither LD_PRELOAD of a non-system library nor
 * LD_LIBRARY_PATH nor $ORIGIN.
 *
 * Linked against libnetsnmp and, in the preload case, against
 * libdtlsudp-preload.so itself (DT_NEEDED), so that the preload's
 * constructor runs before main() exactly as under LD_PRELOAD.  Prints
 * "secure N" (getauxval(AT_SECURE)), so the script can tell whether the
 * kernel really ran it in secure-execution mode; with the argument "init"
 * it also runs init_snmp(), where a libnetsnmp carrying
 * snmplib-patches/0003 loads SNMP_TRANSPORT_PLUGINS and transportPlugin.
 */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

/* From libnetsnmp (net-snmp/library/snmp_api.h); no Net-SNMP headers are
 * needed for this one call. */
void init_snmp(const char *type);

int main(int argc, char **argv)
{
    printf("secure %lu\n", getauxval(AT_SECURE));
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "init") == 0)
        init_snmp("dtlsudp-secure-test");
    return 0;
}
