/*
 * cctest.c - helpers of the transport/checkconf tests (cctest.h).
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cctest.h"

void cct_reset(void)
{
    size_t i;

    cc_report_clear();
    for (i = 0; i < cc.n_lines; i++) {
        free(cc.lines[i].token);
        free(cc.lines[i].value);
    }
    free(cc.lines);
    free(cc.files);
    memset(&cc, 0, sizeof(cc));
    cc.app = "snmpd";
    cc.is_agent = 1;
}

cc_line *cct_line(const char *token, const char *value, const char *file, int line)
{
    cc_line *n = realloc(cc.lines, (cc.n_lines + 1) * sizeof(*n)), *l;

    assert_non_null(n);
    cc.lines = n;
    cc.cap_lines = cc.n_lines + 1;
    l = &cc.lines[cc.n_lines++];
    l->token = strdup(token);
    l->value = strdup(value);
    l->where.file = cc_intern(file);
    l->where.line = line;
    l->plugin_loaded = cc.plugin_loaded;
    return l;
}

char *cct_capture(void (*fn)(void *), void *arg)
{
    FILE *tmp = tmpfile();
    int saved;
    long len;
    char *text;

    assert_non_null(tmp);
    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
    fn(arg);
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    len = ftell(tmp);
    assert_true(len >= 0);
    text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    rewind(tmp);
    assert_int_equal(fread(text, 1, (size_t)len, tmp), (size_t)len);
    fclose(tmp);
    return text;
}

struct report_call {
    int json, quiet;
    size_t errors;
};

static void call_report(void *arg)
{
    struct report_call *c = arg;
    c->errors = cc_report(c->json, c->quiet);
}

char *cct_report(int json, int quiet, size_t *errors)
{
    struct report_call c = {json, quiet, 0};
    char *text = cct_capture(call_report, &c);

    cc_report_clear();
    if (errors != NULL)
        *errors = c.errors;
    return text;
}

int cct_count(const char *text, const char *needle)
{
    int n = 0;

    for (text = strstr(text, needle); text != NULL; text = strstr(text + 1, needle))
        n++;
    return n;
}

void cct_tmpdir(char *buf, size_t cap, const char *what)
{
    snprintf(buf, cap, "/tmp/dtlsudp-test-%s-XXXXXX", what);
    assert_non_null(mkdtemp(buf));
}

void cct_rmdir(const char *dir)
{
    char cmd[1024];

    if (dir == NULL || strncmp(dir, "/tmp/dtlsudp-test-", 18) != 0)
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

const char *cct_write(const char *dir, const char *name, const char *text, char *buf, size_t cap)
{
    char cmd[1200];
    const char *slash = strrchr(name, '/');
    FILE *f;

    if (slash != NULL) {
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%.*s'", dir, (int)(slash - name), name);
        assert_int_equal(system(cmd), 0);
    }
    snprintf(buf, cap, "%s/%s", dir, name);
    f = fopen(buf, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return buf;
}
