/*
 * sk_common.c -- allocation wrappers and the SK_BUG() reporter.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk_common.h"
#include "sk_log.h"

static void
sk_oom(size_t n)
{
    /* Out of address space: there is nothing sensible left to do. */
    fprintf(stderr, "skua: out of memory allocating %zu bytes\n", n);
    abort();
}

void *
sk_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        sk_oom(n);
    return p;
}

void *
sk_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        sk_oom(n * size);
    return p;
}

void *
sk_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        sk_oom(n);
    return q;
}

char *
sk_strdup(const char *s)
{
    return sk_strndup(s, strlen(s));
}

char *
sk_strndup(const char *s, size_t n)
{
    char *p = sk_malloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void
sk_bug_report(const char *file, int line, const char *cond)
{
    sk_log_write(SK_SEC_MAIN, SK_LOG_CRIT, "BUG: %s:%d: %s", file, line,
                 cond);
}
