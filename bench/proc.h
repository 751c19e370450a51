/*
 * proc.h - the clock and the process memory reading shared by the bench
 * clients.
 */
#ifndef DTLSUDP_BENCH_PROC_H
#define DTLSUDP_BENCH_PROC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Monotonic seconds. */
static inline double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* VmRSS of pid in kB, 0 if unknown. */
static inline long rss_kb(long pid)
{
    char path[64], line[256];
    FILE *f;
    long kb = 0;

    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

#endif
