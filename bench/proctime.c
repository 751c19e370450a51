/*
 * proctime.c - wall time of a whole process, repeated.
 *
 *   proctime [-n RUNS] [-t TIMEOUT_S] [-j PARALLEL] [-v] -- PROGRAM ARGS...
 *
 * Runs PROGRAM RUNS times (default 20), PARALLEL at a time (default 1),
 * stdout and stderr to /dev/null, each killed (SIGKILL, counted as failed)
 * after TIMEOUT_S seconds (default 30).  A run succeeds when it exits 0.
 * Times are fork-to-exit wall time in milliseconds; the median and p90 are
 * over successful runs, and all_p50_ms over every run.
 *
 * Output: runs=N ok=K p50_ms=.. p90_ms=.. min_ms=.. max_ms=.. all_p50_ms=..
 * and with -v also ok_ms=T1,T2,... (every successful run, sorted).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 100000
#define MAX_PAR 64

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p)
{
    int k;

    if (n == 0)
        return 0;
    k = (int)(p / 100.0 * n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

static void usage(void)
{
    fprintf(stderr, "usage: proctime [-n RUNS] [-t TIMEOUT_S] [-j PARALLEL] [-v] -- PROGRAM ARGS...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int runs = 20, par = 1, opt, started = 0, done = 0, ok = 0, i;
    double timeout = 30;
    double *okt, *allt;
    pid_t pids[MAX_PAR];
    double t_start[MAX_PAR];
    int nok = 0, nall = 0, verbose = 0;

    while ((opt = getopt(argc, argv, "+n:t:j:v")) != -1) {
        switch (opt) {
        case 'n': runs = atoi(optarg); break;
        case 't': timeout = atof(optarg); break;
        case 'j': par = atoi(optarg); break;
        case 'v': verbose = 1; break;
        default: usage();
        }
    }
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    if (optind >= argc || runs <= 0 || runs > MAX_RUNS || par <= 0 || par > MAX_PAR ||
        timeout <= 0)
        usage();
    okt = calloc((size_t)runs, sizeof(*okt));
    allt = calloc((size_t)runs, sizeof(*allt));
    if (okt == NULL || allt == NULL)
        return 2;
    for (i = 0; i < MAX_PAR; i++)
        pids[i] = 0;

    while (done < runs) {
        /* Start runs into free slots. */
        for (i = 0; i < par && started < runs; i++) {
            pid_t pid;

            if (pids[i] != 0)
                continue;
            t_start[i] = mono();
            pid = fork();
            if (pid < 0) {
                perror("proctime: fork");
                return 2;
            }
            if (pid == 0) {
                int fd = open("/dev/null", O_RDWR);

                if (fd >= 0) {
                    dup2(fd, 0);
                    dup2(fd, 1);
                    dup2(fd, 2);
                }
                execvp(argv[optind], argv + optind);
                _exit(127);
            }
            pids[i] = pid;
            started++;
        }
        /* Reap, or kill what overran. */
        for (i = 0; i < par; i++) {
            int status;
            pid_t r;

            if (pids[i] == 0)
                continue;
            r = waitpid(pids[i], &status, WNOHANG);
            if (r == pids[i]) {
                double ms = (mono() - t_start[i]) * 1000.0;

                allt[nall++] = ms;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                    okt[nok++] = ms;
                    ok++;
                }
                pids[i] = 0;
                done++;
            } else if (mono() - t_start[i] > timeout) {
                kill(pids[i], SIGKILL);
                (void)waitpid(pids[i], &status, 0);
                allt[nall++] = timeout * 1000.0;
                pids[i] = 0;
                done++;
            }
        }
        usleep(200);
    }
    qsort(okt, (size_t)nok, sizeof(*okt), cmp_double);
    qsort(allt, (size_t)nall, sizeof(*allt), cmp_double);
    printf("runs=%d ok=%d p50_ms=%.1f p90_ms=%.1f min_ms=%.1f max_ms=%.1f all_p50_ms=%.1f", runs,
           ok, pct(okt, nok, 50), pct(okt, nok, 90), nok ? okt[0] : 0.0, nok ? okt[nok - 1] : 0.0,
           pct(allt, nall, 50));
    if (verbose) {
        printf(" ok_ms=");
        for (i = 0; i < nok; i++)
            printf("%s%.1f", i ? "," : "", okt[i]);
    }
    printf("\n");
    free(okt);
    free(allt);
    return 0;
}
