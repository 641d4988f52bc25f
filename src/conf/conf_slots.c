/*
 * conf_slots.c -- the standard slot parsers (flag, time, size, int,
 * string, enum) that turn a directive's arguments into its struct conf
 * field, and their inverse for conf_dump().
 *
 * The defaults of the table go through these same parsers, so there is
 * one validation path.  Directives with their own parser (CUSTOM) are in
 * conf_custom.c; this file only dispatches to them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sk_arena.h"
#include "sk_str.h"
#include "conf/conf_int.h"

struct conf_unit {
    const char *name;
    uint64_t mult;
};

#define MS_SECOND 1000ull
#define MS_MINUTE (60 * MS_SECOND)
#define MS_HOUR (60 * MS_MINUTE)
#define MS_DAY (24 * MS_HOUR)
#define MS_WEEK (7 * MS_DAY)

static const struct conf_unit conf_time_units[] = {
    { "ms", 1 }, { "millisecond", 1 }, { "milliseconds", 1 },
    { "second", MS_SECOND }, { "seconds", MS_SECOND },
    { "minute", MS_MINUTE }, { "minutes", MS_MINUTE },
    { "hour", MS_HOUR }, { "hours", MS_HOUR },
    { "day", MS_DAY }, { "days", MS_DAY },
    { "week", MS_WEEK }, { "weeks", MS_WEEK },
    { "", MS_SECOND },
};

static const struct conf_unit conf_size_units[] = {
    { "byte", 1 }, { "bytes", 1 }, { "b", 1 },
    { "kb", 1ull << 10 }, { "k", 1ull << 10 },
    { "mb", 1ull << 20 }, { "m", 1ull << 20 },
    { "gb", 1ull << 30 }, { "g", 1ull << 30 },
    { "", 1 },
};

/*
 * Parse "N[.F][UNIT]" or "N[.F]" "UNIT" (<argc> 1 or 2) with the units of
 * <units>; the unit "" is the one a bare number has.  Store N.F * unit,
 * truncated, in *<out>.  Return 0, or -1 when it is not such a value or
 * does not fit in an int64_t.
 */
static int
conf_parse_unit(int argc, char **argv, const struct conf_unit *units,
                size_t nunits, uint64_t *out)
{
    const char *s = argc >= 1 ? argv[0] : NULL, *p, *unit;
    uint64_t whole = 0, frac = 0, scale = 1, mult = 0;

    if (argc < 1 || argc > 2)
        return -1;
    for (p = s; *p >= '0' && *p <= '9'; p++)
        ;
    if (p == s || sk_parse_u64(s, (size_t)(p - s), &whole) == -1)
        return -1;
    if (*p == '.') {
        const char *f = ++p;

        for (; *p >= '0' && *p <= '9'; p++) {
            if (p - f < 9) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
        }
        if (p == f)
            return -1;
    }
    unit = p;
    if (argc == 2) {
        if (*unit != '\0')
            return -1;
        unit = argv[1];
    }
    for (size_t i = 0; i < nunits; i++) {
        if (strcasecmp(unit, units[i].name) == 0) {
            mult = units[i].mult;
            break;
        }
    }
    if (mult == 0 || (argc == 2 && *unit == '\0'))
        return -1;
    if (whole > (uint64_t)INT64_MAX / mult)
        return -1;
    whole *= mult;
    frac = frac * mult / scale;
    if (whole > (uint64_t)INT64_MAX - frac)
        return -1;
    *out = whole + frac;
    return 0;
}

int
conf_parse_time(int argc, char **argv, sk_msec_t *out)
{
    uint64_t v;

    if (conf_parse_unit(argc, argv, conf_time_units,
                        SK_ARRAY_LEN(conf_time_units), &v) == -1)
        return -1;
    *out = (sk_msec_t)v;
    return 0;
}

int
conf_parse_size(int argc, char **argv, uint64_t *out)
{
    return conf_parse_unit(argc, argv, conf_size_units,
                           SK_ARRAY_LEN(conf_size_units), out);
}

/* Join <argv> with single spaces into scratch memory. */
static char *
conf_join(struct conf_ctx *ctx, int argc, char **argv)
{
    size_t n = 1;
    char *s, *p;

    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    p = s = sk_arena_alloc(ctx->scratch, n);
    *s = '\0';
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]);

        if (i > 0)
            *p++ = ' ';
        memcpy(p, argv[i], len + 1);
        p += len;
    }
    return s;
}

/* Find <s> in the space-separated <values>; return its index or -1. */
static int
conf_enum_index(const char *values, const char *s)
{
    size_t len = strlen(s);
    int i = 0;

    for (const char *p = values; *p != '\0'; i++) {
        size_t n = strcspn(p, " ");

        if (n == len && strncmp(p, s, n) == 0)
            return i;
        p += n;
        while (*p == ' ')
            p++;
    }
    return -1;
}

/* Write value <i> of the space-separated <values>. */
static void
conf_enum_write(FILE *fp, const char *values, int i)
{
    const char *p = values;

    for (; i > 0 && *p != '\0'; i--) {
        p += strcspn(p, " ");
        while (*p == ' ')
            p++;
    }
    fprintf(fp, "%.*s", (int)strcspn(p, " "), p);
}

static int
conf_slot_int(struct conf_ctx *ctx, const struct conf_directive *d,
              const char *s, int *out)
{
    uint64_t v;

    if (sk_parse_u64(s, strlen(s), &v) == -1)
        return conf_error(ctx, "%s: '%s' is not a number", d->name, s);
    if (v < (uint64_t)d->arg.min || v > (uint64_t)d->arg.max)
        return conf_error(ctx, "%s: %s is out of range (%d-%d)", d->name, s,
                          d->arg.min, d->arg.max);
    *out = (int)v;
    return 0;
}

static int
conf_slot_string(struct conf_ctx *ctx, const struct conf_directive *d,
                 int argc, char **argv, char **out)
{
    const char *s;

    if (argc > 1 && !(d->flags & CONF_D_JOIN))
        return conf_error(ctx, "%s: too many arguments", d->name);
    s = argc > 1 ? conf_join(ctx, argc, argv) : argv[0];
    if (d->arg.check != NULL && d->arg.check(ctx, s) == -1)
        return -1;
    *out = sk_arena_strdup(ctx->conf->arena, s);
    return 0;
}

int
conf_slot_parse(struct conf_ctx *ctx, const struct conf_directive *d,
                int argc, char **argv)
{
    void *field = (char *)ctx->conf + d->offset;

    if (d->slot == CONF_SLOT_CUSTOM)
        return d->arg.parse(ctx, d, argc, argv);
    if (argc == 0)
        return conf_error(ctx, "%s: missing value", d->name);
    switch (d->slot) {
    case CONF_SLOT_FLAG:
        if (argc > 1)
            return conf_error(ctx, "%s: too many arguments", d->name);
        if (strcmp(argv[0], "on") != 0 && strcmp(argv[0], "off") != 0)
            return conf_error(ctx, "%s: '%s' is not on or off", d->name,
                              argv[0]);
        *(bool *)field = strcmp(argv[0], "on") == 0;
        return 0;
    case CONF_SLOT_TIME:
        if (argc > 2)
            return conf_error(ctx, "%s: too many arguments", d->name);
        if (conf_parse_time(argc, argv, field) == -1)
            return conf_error(ctx, "%s: '%s' is not a time (e.g. 30 "
                              "seconds)", d->name, conf_join(ctx, argc, argv));
        return 0;
    case CONF_SLOT_SIZE:
        if (argc > 2)
            return conf_error(ctx, "%s: too many arguments", d->name);
        if (conf_parse_size(argc, argv, field) == -1)
            return conf_error(ctx, "%s: '%s' is not a size (e.g. 64 KB)",
                              d->name, conf_join(ctx, argc, argv));
        return 0;
    case CONF_SLOT_INT:
        if (argc > 1)
            return conf_error(ctx, "%s: too many arguments", d->name);
        return conf_slot_int(ctx, d, argv[0], field);
    case CONF_SLOT_STRING:
        return conf_slot_string(ctx, d, argc, argv, field);
    case CONF_SLOT_ENUM: {
        int i = argc == 1 ? conf_enum_index(d->arg.values, argv[0]) : -1;

        if (argc > 1)
            return conf_error(ctx, "%s: too many arguments", d->name);
        if (i == -1)
            return conf_error(ctx, "%s: '%s' is not one of: %s", d->name,
                              argv[0], d->arg.values);
        *(int *)field = i;
        return 0;
    }
    case CONF_SLOT_CUSTOM:
        break;
    }
    return conf_error(ctx, "%s: bad slot type", d->name);
}

/* Write <v> in the largest unit of <units> that divides it evenly. */
static void
conf_unit_write(FILE *fp, uint64_t v, const struct conf_unit *units,
                size_t nunits)
{
    const struct conf_unit *best = NULL;

    for (size_t i = 0; i < nunits; i++) {
        const struct conf_unit *u = &units[i];

        if (v % u->mult == 0 && (best == NULL || u->mult > best->mult))
            best = u;
    }
    if (best == NULL)
        best = &units[0];
    fprintf(fp, "%llu %s", (unsigned long long)(v / best->mult), best->name);
}

void
conf_slot_dump(const struct conf *c, const struct conf_directive *d,
               FILE *fp)
{
    const void *field = (const char *)c + d->offset;

    switch (d->slot) {
    case CONF_SLOT_FLAG:
        fputs(*(const bool *)field ? "on" : "off", fp);
        break;
    case CONF_SLOT_TIME: {
        sk_msec_t ms = *(const sk_msec_t *)field;
        static const struct conf_unit t[] = {
            { "milliseconds", 1 }, { "seconds", MS_SECOND },
            { "minutes", MS_MINUTE }, { "hours", MS_HOUR },
            { "days", MS_DAY }, { "weeks", MS_WEEK },
        };
        static const struct conf_unit one[] = {
            { "millisecond", 1 }, { "second", MS_SECOND },
            { "minute", MS_MINUTE }, { "hour", MS_HOUR },
            { "day", MS_DAY }, { "week", MS_WEEK },
        };

        if (ms == 0) {
            fputs("0 seconds", fp);
            break;
        }
        for (size_t i = 0; i < SK_ARRAY_LEN(one); i++) {
            if ((uint64_t)ms == one[i].mult) {
                fprintf(fp, "1 %s", one[i].name);
                return;
            }
        }
        conf_unit_write(fp, (uint64_t)ms, t, SK_ARRAY_LEN(t));
        break;
    }
    case CONF_SLOT_SIZE: {
        static const struct conf_unit s[] = {
            { "bytes", 1 }, { "KB", 1ull << 10 }, { "MB", 1ull << 20 },
            { "GB", 1ull << 30 },
        };
        uint64_t v = *(const uint64_t *)field;

        if (v == 0)
            fputs("0 bytes", fp);
        else
            conf_unit_write(fp, v, s, SK_ARRAY_LEN(s));
        break;
    }
    case CONF_SLOT_INT:
        fprintf(fp, "%d", *(const int *)field);
        break;
    case CONF_SLOT_STRING: {
        const char *s = *(char *const *)field;

        if (s == NULL)
            fputs("none", fp);
        else if (d->flags & CONF_D_JOIN)
            fputs(s, fp);
        else
            conf_write_token(fp, s);
        break;
    }
    case CONF_SLOT_ENUM:
        conf_enum_write(fp, d->arg.values, *(const int *)field);
        break;
    case CONF_SLOT_CUSTOM:
        break;
    }
}

void
conf_write_token(FILE *fp, const char *s)
{
    size_t len = strlen(s);
    bool quote = len == 0 || *s == '"' || *s == '#' || s[len - 1] == '\\';

    for (const char *p = s; *p != '\0' && !quote; p++)
        quote = *p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' ||
                *p == '\v' || *p == '\n';
    if (!quote) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', fp);
        fputc(*p, fp);
    }
    fputc('"', fp);
}
