/*
 * regress_main.c - main() for a fuzz target built without libFuzzer: runs
 * LLVMFuzzerTestOneInput() once on every file given (directories are
 * walked one level, in name order).  Without arguments it replays
 * $top_srcdir/tests/fuzz/corpus/FUZZ_TARGET (`make check' sets top_srcdir).
 * A failing check aborts, so the test fails.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET (the corpus directory name) must be defined"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long runs;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        if (f != NULL)
            fclose(f);
        return -1;
    }
    if ((buf = malloc((size_t)n + 1)) == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    if (getenv("FUZZ_VERBOSE") != NULL)
        fprintf(stderr, "replay %s (%ld bytes)\n", path, n);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    runs++;
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_path(const char *path)
{
    struct stat st;
    struct dirent **names;
    int i, n, ret = 0;

    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    if ((n = scandir(path, &names, NULL, by_name)) < 0) {
        perror(path);
        return -1;
    }
    for (i = 0; i < n; i++) {
        char full[4096];
        if (names[i]->d_name[0] != '.') {
            snprintf(full, sizeof(full), "%s/%s", path, names[i]->d_name);
            if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && run_file(full) != 0)
                ret = -1;
        }
        free(names[i]);
    }
    free(names);
    return ret;
}

int main(int argc, char **argv)
{
    int i, ret = 0;

    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    if (argc > 1) {
        for (i = 1; i < argc; i++)
            if (run_path(argv[i]) != 0)
                ret = 1;
    } else {
        const char *top = getenv("top_srcdir");
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", top != NULL ? top : ".", FUZZ_TARGET);
        if (run_path(dir) != 0)
            ret = 1;
    }
    printf("%s: %lu inputs replayed%s\n", FUZZ_TARGET, runs, ret ? ", some unreadable" : "");
    if (runs == 0)
        ret = 1;
    return ret;
}
