/*
 * report.c - findings, as text for people and JSON for scripts.
 *
 * Text: "FILE:LINE: SEVERITY: TOKEN VALUE: message", then "    fix: ..."
 * and the extra fields, sorted by file (in the order they were read) and
 * line; findings without a line come last.  JSON: one object with
 * "app", "files", "errors", "warnings" and "findings" (each with
 * severity, kind, file, line, token, value, message, fix and its extra
 * fields).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <config.h>

#include "checkconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXTRA 6

struct cc_finding {
    cc_severity sev;
    const char *kind;
    cc_where where;
    char *token, *value, *message, *fix;
    const char *extra_key[MAX_EXTRA];
    char *extra_value[MAX_EXTRA];
    size_t n_extra;
    size_t seq;
};

static cc_finding **findings;
static size_t n_findings;

static char **interned;
static size_t n_interned;

const char *cc_intern(const char *s)
{
    size_t i;
    char **n;

    if (s == NULL)
        return NULL;
    for (i = 0; i < n_interned; i++)
        if (strcmp(interned[i], s) == 0)
            return interned[i];
    if ((n = realloc(interned, (n_interned + 1) * sizeof(*n))) == NULL)
        return NULL;
    interned = n;
    if ((interned[n_interned] = strdup(s)) == NULL)
        return NULL;
    return interned[n_interned++];
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

cc_finding *cc_add(cc_severity sev, const char *kind, const cc_where *where, const char *token, const char *value,
                   const char *fix, const char *fmt, ...)
{
    static cc_finding dummy;
    cc_finding *f = calloc(1, sizeof(*f)), **n;
    va_list ap;

    if (f == NULL || (n = realloc(findings, (n_findings + 1) * sizeof(*n))) == NULL) {
        free(f);
        return &dummy;
    }
    findings = n;
    f->sev = sev;
    f->kind = kind;
    if (where != NULL)
        f->where = *where;
    f->token = dup_or_null(token);
    f->value = dup_or_null(value);
    f->fix = dup_or_null(fix);
    va_start(ap, fmt);
    if (vasprintf(&f->message, fmt, ap) < 0)
        f->message = NULL;
    va_end(ap);
    f->seq = n_findings;
    findings[n_findings++] = f;
    return f;
}

void cc_set(cc_finding *f, const char *key, const char *value)
{
    if (f == NULL || f->n_extra == MAX_EXTRA || value == NULL)
        return;
    f->extra_key[f->n_extra] = key;
    f->extra_value[f->n_extra] = strdup(value);
    f->n_extra++;
}

static void finding_free(cc_finding *f)
{
    size_t k;

    free(f->token);
    free(f->value);
    free(f->message);
    free(f->fix);
    for (k = 0; k < f->n_extra; k++)
        free(f->extra_value[k]);
    free(f);
}

void cc_report_clear(void)
{
    size_t i;

    for (i = 0; i < n_findings; i++)
        finding_free(findings[i]);
    free(findings);
    findings = NULL;
    n_findings = 0;
}

static size_t file_rank(const char *file)
{
    size_t i;

    if (file == NULL)
        return (size_t)-1;
    for (i = 0; i < cc.n_files; i++)
        if (cc.files[i] == file)
            return i;
    return cc.n_files; /* read, but not reported by Net-SNMP's debug line */
}

static int by_place(const void *a, const void *b)
{
    const cc_finding *x = *(const cc_finding *const *)a, *y = *(const cc_finding *const *)b;
    size_t rx = file_rank(x->where.file), ry = file_rank(y->where.file);

    if (rx != ry)
        return rx < ry ? -1 : 1;
    if (x->where.file != y->where.file) /* same rank, different files */
        return strcmp(x->where.file, y->where.file);
    if (x->where.line != y->where.line)
        return x->where.line < y->where.line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *severity_name(cc_severity s)
{
    switch (s) {
    case CC_OK:
        return "ok";
    case CC_INFO:
        return "info";
    case CC_WARNING:
        return "warning";
    default:
        return "error";
    }
}

static void json_string(const char *s)
{
    if (s == NULL) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_json(size_t errors, size_t warnings)
{
    size_t i, k;

    printf("{\"app\":");
    json_string(cc.app);
    printf(",\"files\":[");
    for (i = 0; i < cc.n_files; i++) {
        if (i > 0)
            putchar(',');
        json_string(cc.files[i]);
    }
    printf("],\"errors\":%zu,\"warnings\":%zu,\"findings\":[", errors, warnings);
    for (i = 0; i < n_findings; i++) {
        const cc_finding *f = findings[i];
        printf("%s\n{\"severity\":\"%s\",\"kind\":", i > 0 ? "," : "", severity_name(f->sev));
        json_string(f->kind);
        printf(",\"file\":");
        json_string(f->where.file);
        if (f->where.file != NULL)
            printf(",\"line\":%d", f->where.line);
        else
            printf(",\"line\":null");
        printf(",\"token\":");
        json_string(f->token);
        printf(",\"value\":");
        json_string(f->value);
        printf(",\"message\":");
        json_string(f->message);
        printf(",\"fix\":");
        json_string(f->fix);
        for (k = 0; k < f->n_extra; k++) {
            putchar(',');
            json_string(f->extra_key[k]);
            putchar(':');
            json_string(f->extra_value[k]);
        }
        putchar('}');
    }
    printf("\n]}\n");
}

static void print_text(int quiet, size_t errors, size_t warnings)
{
    size_t i, k;

    for (i = 0; i < n_findings; i++) {
        const cc_finding *f = findings[i];
        if (quiet && f->sev < CC_WARNING)
            continue;
        if (f->where.file != NULL)
            printf("%s:%d: ", f->where.file, f->where.line);
        printf("%s: ", severity_name(f->sev));
        if (f->token != NULL)
            printf("%s%s%s: ", f->token, f->value != NULL && f->value[0] ? " " : "",
                   f->value != NULL ? f->value : "");
        printf("%s\n", f->message != NULL ? f->message : "");
        for (k = 0; k < f->n_extra; k++)
            printf("    %s: %s\n", f->extra_key[k], f->extra_value[k]);
        if (f->fix != NULL)
            printf("    fix: %s\n", f->fix);
    }
    if (!quiet) {
        printf("files read (%s):", cc.app);
        for (i = 0; i < cc.n_files; i++)
            printf(" %s", cc.files[i]);
        printf("%s\n", cc.n_files == 0 ? " none" : "");
    }
    printf("%zu error%s, %zu warning%s\n", errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
}

size_t cc_report(int json, int quiet)
{
    size_t i, errors = 0, warnings = 0;

    if (n_findings > 1) /* no findings: no list at all, and qsort(NULL) is undefined */
        qsort(findings, n_findings, sizeof(*findings), by_place);
    for (i = 0; i < n_findings; i++) {
        errors += findings[i]->sev == CC_ERROR;
        warnings += findings[i]->sev == CC_WARNING;
    }
    if (json)
        print_json(errors, warnings);
    else
        print_text(quiet, errors, warnings);
    fflush(stdout);
    return errors;
}
