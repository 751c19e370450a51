/*
 * manager-preload-secure-plugin.c - a stand-in transport plugin for
 * manager-preload-secure.sh (compiled by that script): its entry point
 * registers nothing and prints "plugin loaded: PATH" with the file it was
 * loaded from, so the script sees which plugin, if any, a process loaded.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr */
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

int dtlsudp_transport_init(void);

int dtlsudp_transport_init(void)
{
    Dl_info self;
    char line[4200];
    int n;

    if (dladdr((void *)dtlsudp_transport_init, &self) == 0 || self.dli_fname == NULL)
        return -1;
    n = snprintf(line, sizeof(line), "plugin loaded: %s\n", self.dli_fname);
    if (n < 0 || (size_t)n >= sizeof(line) || write(STDOUT_FILENO, line, (size_t)n) != n)
        return -1;
    return 0;
}
