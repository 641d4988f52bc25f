/*
 * mock_log_format.c -- a stand-in for the log format functions of
 * src/log/access_log.h, for unit tests of modules that only name formats
 * (the configuration).  It compiles nothing: a format is its name and its
 * spec, and a spec containing "%!" is refused, so tests can see a compile
 * error travel back.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log/access_log.h"

struct log_format {
    const char *name;
    char *spec;
    struct log_format *next;
    bool builtin;
};

static struct log_format mock_builtins[] = {
    { "squid", NULL, NULL, true },
    { "common", NULL, NULL, true },
    { "combined", NULL, NULL, true },
    { "json", NULL, NULL, true },
};

struct log_format *
log_format_compile(const char *name, const char *spec, char **err)
{
    struct log_format *f;

    if (strstr(spec, "%!") != NULL) {
        *err = sk_strdup("bad format code '%!'");
        return NULL;
    }
    f = sk_calloc(1, sizeof(*f));
    f->name = sk_strdup(name);
    f->spec = sk_strdup(spec);
    return f;
}

void
log_format_free(struct log_format *f)
{
    if (f == NULL || f->builtin)
        return;
    free((char *)f->name);
    free(f->spec);
    free(f);
}

const char *
log_format_name(const struct log_format *f)
{
    return f->name;
}

const struct log_format *
log_format_builtin(const char *name)
{
    for (size_t i = 0; i < SK_ARRAY_LEN(mock_builtins); i++)
        if (strcmp(mock_builtins[i].name, name) == 0)
            return &mock_builtins[i];
    return NULL;
}

struct log_format *
log_format_next(const struct log_format *f)
{
    return f->next;
}

void
log_format_set_next(struct log_format *f, struct log_format *next)
{
    f->next = next;
}

/* What the mock keeps: the spec a format was compiled from. */
const char *mock_log_format_spec(const struct log_format *f);

const char *
mock_log_format_spec(const struct log_format *f)
{
    return f->spec;
}

void
access_log_close(struct conf *conf)
{
    (void)conf;
}
