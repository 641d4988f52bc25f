/*
 * conf.c -- loading a configuration: files, lines, tokens, include,
 * parameters-from-file, defaults, the snapshot's life cycle and its dump.
 *
 * The language is Squid's: one directive per line, arguments split on
 * whitespace, "double quoted" arguments with \" and \\ escapes, # comments
 * at the start of a line or after whitespace, a trailing backslash
 * continuing a line.  What each directive means is in conf_directives.def
 * and its parsers (conf_slots.c, conf_custom.c); this file knows none of
 * it.  It does not apply anything to the running process either: the
 * caller does that with the snapshot it gets back.
 */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sk_arena.h"
#include "sk_str.h"
#include "acl/acl.h"
#include "conf/conf_int.h"
#include "log/access_log.h"

#define CONF_MAX_DEPTH 16
#define CONF_MAX_FILE (16u * 1024 * 1024)
#define CONF_DEFAULT_FILE "(default)"

bool conf_file_access = true;

/* The directive table. */
#define CONF_OFF_GEN(n) offsetof(struct conf, n)
#define CONF_OFF_HAND(n) offsetof(struct conf, n)
#define CONF_OFF_NONE(n) 0
#define CONF_ARG_NONE { 0 }
#define CONF_ARG_RANGE(lo, hi) { .min = (lo), .max = (hi) }
#define CONF_ARG_ENUM(v) { .values = (v) }
#define CONF_ARG_CHECK(fn) { .check = (fn) }
#define CONF_ARG_PARSE(fn) { .parse = (fn) }
#define CONF_DIRECTIVE(name, slot, field, arg, dflt, flags, syntax, help) \
    { #name, CONF_SLOT_##slot, CONF_OFF_##field(name), arg, dflt, flags, \
      syntax, help },

const struct conf_directive conf_directives[] = {
#include "conf/conf_directives.def"
};
const size_t conf_ndirectives = SK_ARRAY_LEN(conf_directives);

#undef CONF_DIRECTIVE

void
conf_set_file_access(bool allowed)
{
    conf_file_access = allowed;
}

int
conf_error(struct conf_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    char *reason;

    if (ctx->err != NULL)
        return -1;
    va_start(ap, fmt);
    if (vasprintf(&reason, fmt, ap) == -1)
        abort();
    va_end(ap);
    if (asprintf(&ctx->err, "%s:%d: %s", ctx->file, ctx->line, reason) == -1)
        abort();
    free(reason);
    return -1;
}

void
conf_record(struct conf_ctx *ctx, const struct conf_directive *d, int argc,
            char **argv)
{
    struct sk_arena *a = ctx->conf->arena;
    struct conf_line *l = sk_arena_calloc(a, sizeof(*l));

    l->d = d;
    l->argc = argc;
    l->argv = sk_arena_calloc(a, sizeof(char *) * (size_t)(argc + 1));
    for (int i = 0; i < argc; i++)
        l->argv[i] = sk_arena_strdup(a, argv[i]);
    *ctx->priv->lines_tail = l;
    ctx->priv->lines_tail = &l->next;
    ctx->recorded = true;
}

/*
 * Read the whole file <path> into a malloc'd NUL-terminated buffer and
 * its length into *<len>.  Return NULL with errno set on failure.
 */
static char *
conf_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "r");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (fp == NULL)
        return NULL;
    for (;;) {
        size_t got;

        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            buf = sk_realloc(buf, cap + 1);
        }
        got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
        if (n > CONF_MAX_FILE) {
            errno = EFBIG;
            goto fail;
        }
    }
    if (ferror(fp)) {
        if (errno == 0)
            errno = EIO;
        goto fail;
    }
    fclose(fp);
    buf[n] = '\0';
    *len = n;
    return buf;

fail:
    free(buf);
    fclose(fp);
    return NULL;
}

static bool
conf_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

void
conf_vec_push(struct sk_arena *a, struct conf_vec *v, char *s, bool quoted)
{
    if (v->argc + 1 >= v->cap) {
        int cap = v->cap ? v->cap * 2 : 16;
        char **nargv = sk_arena_calloc(a, sizeof(char *) * (size_t)cap);
        bool *nq = sk_arena_calloc(a, sizeof(bool) * (size_t)cap);

        if (v->argc > 0) {
            memcpy(nargv, v->argv, sizeof(char *) * (size_t)v->argc);
            memcpy(nq, v->quoted, sizeof(bool) * (size_t)v->argc);
        }
        v->argv = nargv;
        v->quoted = nq;
        v->cap = cap;
    }
    v->quoted[v->argc] = quoted;
    v->argv[v->argc++] = s;
    v->argv[v->argc] = NULL;
}

/*
 * Read one quoted string starting at the quote *<pp>; advance *<pp> past
 * the closing quote.  Return the unescaped copy, or NULL after
 * conf_error().
 */
static char *
conf_lex_quoted(struct conf_ctx *ctx, const char **pp)
{
    const char *p = *pp + 1;
    char *out = sk_arena_alloc(ctx->scratch, strlen(p) + 1), *o = out;

    for (;;) {
        if (*p == '\0') {
            conf_error(ctx, "unterminated quoted string");
            return NULL;
        }
        if (*p == '"')
            break;
        if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
            p++;
        *o++ = *p++;
    }
    *o = '\0';
    p++;
    if (*p != '\0' && !conf_is_space(*p)) {
        conf_error(ctx, "missing space after a quoted string");
        return NULL;
    }
    *pp = p;
    return out;
}

/*
 * Split <s> into arguments in <v> (scratch memory).  With <max> > 0, stop
 * after <max> arguments and take the rest of the line, trimmed, verbatim
 * as one more.  Return 0, or -1 after conf_error().
 */
static int
conf_tokenize(struct conf_ctx *ctx, const char *s, int max,
              struct conf_vec *v)
{
    const char *p = s;

    for (;;) {
        const char *start;
        char *tok;

        while (conf_is_space(*p))
            p++;
        if (*p == '\0')
            return 0;
        if (max > 0 && v->argc == max) {
            size_t n = strlen(p);

            while (n > 0 && conf_is_space(p[n - 1]))
                n--;
            conf_vec_push(ctx->scratch, v,
                          sk_arena_strndup(ctx->scratch, p, n), false);
            return 0;
        }
        if (*p == '#')
            return 0;
        if (*p == '"') {
            tok = conf_lex_quoted(ctx, &p);
            if (tok == NULL)
                return -1;
            conf_vec_push(ctx->scratch, v, tok, true);
            continue;
        }
        start = p;
        while (*p != '\0' && !conf_is_space(*p))
            p++;
        tok = sk_arena_strndup(ctx->scratch, start, (size_t)(p - start));
        conf_vec_push(ctx->scratch, v, tok, false);
    }
}

static const struct conf_directive *
conf_find_directive(const char *name, size_t len)
{
    for (size_t i = 0; i < conf_ndirectives; i++) {
        const char *n = conf_directives[i].name;

        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return &conf_directives[i];
    }
    return NULL;
}

/* Mark <d> seen; refuse a second line of a directive that is not
 * repeatable. */
static int
conf_mark_seen(struct conf_ctx *ctx, const struct conf_directive *d)
{
    struct conf_seen *seen = &ctx->seen[d - conf_directives];

    if (ctx->defaults)
        return 0;
    if (seen->file != NULL && !(d->flags & CONF_D_REPEAT))
        return conf_error(ctx, "%s: duplicate directive (first set at "
                          "%s:%d)", d->name, seen->file, seen->line);
    if (seen->file == NULL) {
        seen->file = ctx->file;
        seen->line = ctx->line;
    }
    return 0;
}

/* Parse one logical line <s>.  Return 0, or -1 after conf_error(). */
static int
conf_parse_line(struct conf_ctx *ctx, const char *s)
{
    const struct conf_directive *d;
    struct conf_vec v = { 0 };
    const char *name;
    size_t len;

    while (conf_is_space(*s))
        s++;
    if (*s == '\0' || *s == '#')
        return 0;
    name = s;
    while (*s != '\0' && !conf_is_space(*s))
        s++;
    len = (size_t)(s - name);
    d = conf_find_directive(name, len);
    if (d == NULL)
        return conf_error(ctx, "unknown directive '%.*s'", (int)len, name);
    if (conf_mark_seen(ctx, d) == -1 ||
        conf_tokenize(ctx, s, (d->flags & CONF_D_RAW) ? 1 : 0, &v) == -1)
        return -1;
    if (v.argv == NULL) {
        v.argv = sk_arena_calloc(ctx->scratch, sizeof(char *));
        v.quoted = sk_arena_calloc(ctx->scratch, sizeof(bool));
    }
    ctx->cur = d;
    ctx->quoted = v.quoted;
    ctx->recorded = false;
    if (conf_slot_parse(ctx, d, v.argc, v.argv) == -1)
        return -1;
    if (d->slot == CONF_SLOT_CUSTOM && !ctx->recorded)
        conf_record(ctx, d, v.argc, v.argv);
    return 0;
}

/* Find NUL bytes, which a text configuration never has. */
static int
conf_check_nul(struct conf_ctx *ctx, const char *text, size_t len)
{
    const char *z = memchr(text, '\0', len);

    if (z == NULL)
        return 0;
    ctx->line = 1;
    for (const char *p = text; p < z; p++)
        ctx->line += *p == '\n';
    return conf_error(ctx, "NUL byte in the file");
}

/*
 * Parse the configuration text <text> of <len> bytes as the file
 * ctx->file.  Return 0, or -1 after conf_error().
 */
static int
conf_parse_text(struct conf_ctx *ctx, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    struct sk_arena *outer = ctx->scratch;
    char *buf = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;

    if (conf_check_nul(ctx, text, len) == -1)
        return -1;
    ctx->scratch = sk_arena_new(0);
    while (p < end && rc == 0) {
        size_t n = 0;
        int first = lineno + 1;

        /* Gather one logical line: a trailing backslash continues it. */
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t seg = (size_t)((nl ? nl : end) - p);

            lineno++;
            if (seg > 0 && p[seg - 1] == '\r')
                seg--;
            if (n + seg + 1 > cap) {
                cap = (n + seg + 1) * 2;
                buf = sk_realloc(buf, cap);
            }
            memcpy(buf + n, p, seg);
            n += seg;
            p = nl ? nl + 1 : end;
            /* A backslash on the last line continues into nothing. */
            if (n > 0 && buf[n - 1] == '\\') {
                n--;
                if (p < end)
                    continue;
            }
            break;
        }
        buf[n] = '\0';
        ctx->line = first;
        rc = conf_parse_line(ctx, buf);
        sk_arena_reset(ctx->scratch);
    }
    free(buf);
    sk_arena_free(ctx->scratch);
    ctx->scratch = outer;
    return rc;
}

/* Resolve <pattern> against the directory of the current file. */
static char *
conf_resolve(struct conf_ctx *ctx, const char *pattern)
{
    const char *slash = strrchr(ctx->file, '/');

    if (pattern[0] == '/' || slash == NULL)
        return sk_arena_strdup(ctx->conf->arena, pattern);
    return sk_arena_printf(ctx->conf->arena, "%.*s/%s",
                           (int)(slash - ctx->file), ctx->file, pattern);
}

/* Parse the file <path> as an included file. */
static int
conf_include_file(struct conf_ctx *ctx, const char *path)
{
    const char *file = ctx->file;
    int line = ctx->line, rc;
    size_t len;
    char *text = conf_read_file(path, &len);

    if (text == NULL)
        return conf_error(ctx, "include: cannot open '%s': %s", path,
                          strerror(errno));
    ctx->file = sk_arena_strdup(ctx->conf->arena, path);
    ctx->depth++;
    rc = conf_parse_text(ctx, text, len);
    ctx->depth--;
    ctx->file = file;
    ctx->line = line;
    free(text);
    return rc;
}

int
conf_parse_include(struct conf_ctx *ctx, const struct conf_directive *d,
                   int argc, char **argv)
{
    ctx->recorded = true;       /* the included lines are dumped instead */
    if (argc == 0)
        return conf_error(ctx, "include: missing file name");
    if (!conf_file_access)
        return conf_error(ctx, "include: file access is disabled");
    if (ctx->depth >= CONF_MAX_DEPTH)
        return conf_error(ctx, "include: nested more than %d deep",
                          CONF_MAX_DEPTH);
    for (int i = 0; i < argc; i++) {
        char *pattern = conf_resolve(ctx, argv[i]);
        glob_t g;
        int rc = glob(pattern, 0, NULL, &g);

        if (rc == GLOB_NOMATCH) {
            if (strpbrk(argv[i], "*?[") == NULL)
                return conf_error(ctx, "include: cannot open '%s': %s",
                                  pattern, strerror(ENOENT));
            continue;
        }
        if (rc != 0)
            return conf_error(ctx, "include: cannot read '%s'", pattern);
        for (size_t k = 0; k < g.gl_pathc && rc == 0; k++)
            rc = conf_include_file(ctx, g.gl_pathv[k]);
        globfree(&g);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int
conf_read_values(struct conf_ctx *ctx, const char *path, struct conf_vec *v)
{
    size_t len;
    char *text, *p, *next;

    if (!conf_file_access)
        return conf_error(ctx, "%s: file access is disabled", ctx->cur->name);
    text = conf_read_file(path, &len);
    if (text == NULL)
        return conf_error(ctx, "%s: cannot open '%s': %s", ctx->cur->name,
                          path, strerror(errno));
    if (memchr(text, '\0', len) != NULL) {
        free(text);
        return conf_error(ctx, "%s: NUL byte in '%s'", ctx->cur->name, path);
    }
    for (p = text; p != NULL; p = next) {
        char *e;

        next = strchr(p, '\n');
        if (next != NULL)
            *next++ = '\0';
        while (conf_is_space(*p))
            p++;
        e = p + strlen(p);
        while (e > p && conf_is_space(e[-1]))
            e--;
        if (e == p || *p == '#')
            continue;
        conf_vec_push(ctx->scratch, v,
                      sk_arena_strndup(ctx->scratch, p, (size_t)(e - p)),
                      false);
    }
    free(text);
    return 0;
}

/* Parse "NAME DEFAULT" of <d> from the table. */
static int
conf_parse_default(struct conf_ctx *ctx, const struct conf_directive *d)
{
    struct sk_arena *outer = ctx->scratch;
    int rc;

    ctx->scratch = sk_arena_new(0);
    rc = conf_parse_line(ctx, sk_arena_printf(ctx->scratch, "%s %s",
                                              d->name, d->dflt));
    sk_arena_free(ctx->scratch);
    ctx->scratch = outer;
    return rc;
}

/* Resolve the defaults that depend on the host. */
static void
conf_finish(struct conf *c)
{
    if (c->workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        c->workers = n < 1 ? 1 : (int)SK_MIN(n, 64);
    }
    if (c->visible_hostname == NULL) {
        char host[HOST_NAME_MAX + 1];

        if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
            sk_strlcpy(host, "localhost", sizeof(host));
        host[sizeof(host) - 1] = '\0';
        c->visible_hostname = sk_arena_strdup(c->arena, host);
    }
}

/* Apply the table defaults; <custom> selects which kind. */
static int
conf_apply_defaults(struct conf_ctx *ctx, bool custom)
{
    const char *file = ctx->file;
    int rc = 0;

    ctx->defaults = true;
    ctx->file = CONF_DEFAULT_FILE;
    ctx->line = 0;
    for (size_t i = 0; i < conf_ndirectives && rc == 0; i++) {
        const struct conf_directive *d = &conf_directives[i];

        if (d->dflt == NULL || (d->slot == CONF_SLOT_CUSTOM) != custom ||
            ctx->seen[i].file != NULL)
            continue;
        rc = conf_parse_default(ctx, d);
    }
    ctx->defaults = false;
    ctx->file = file;
    return rc;
}

/* Parse <text> of <len> bytes named <name> into a new snapshot. */
static struct conf *
conf_load_text(const char *text, size_t len, const char *name, char **err)
{
    struct conf_priv *priv = sk_calloc(1, sizeof(*priv));
    struct conf *c = &priv->pub;
    struct conf_ctx ctx = { 0 };
    int rc;

    c->magic = CONF_MAGIC;
    atomic_init(&c->refs, 1);
    c->arena = sk_arena_new(0);
    c->path = sk_arena_strdup(c->arena, name);
    priv->lines_tail = &priv->lines;
    ctx.conf = c;
    ctx.priv = priv;
    ctx.seen = sk_calloc(conf_ndirectives, sizeof(*ctx.seen));
    ctx.file = c->path;
    rc = conf_apply_defaults(&ctx, false);
    if (rc == 0)
        rc = conf_parse_text(&ctx, text, len);
    if (rc == 0)
        rc = conf_apply_defaults(&ctx, true);
    free(ctx.seen);
    if (rc != 0) {
        *err = ctx.err;
        conf_unref(c);
        return NULL;
    }
    conf_finish(c);
    return c;
}

struct conf *
conf_load(const char *path, char **err)
{
    struct conf *c;
    size_t len;
    char *text = conf_read_file(path, &len);

    *err = NULL;
    if (text == NULL) {
        if (asprintf(err, "%s: cannot open: %s", path, strerror(errno)) == -1)
            abort();
        return NULL;
    }
    c = conf_load_text(text, len, path, err);
    free(text);
    return c;
}

struct conf *
conf_load_string(const char *text, const char *name, char **err)
{
    *err = NULL;
    return conf_load_text(text, strlen(text), name, err);
}

struct conf *
conf_ref(struct conf *c)
{
    SK_CHECK_MAGIC(c, CONF_MAGIC);
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void
conf_unref(struct conf *c)
{
    struct log_format *f, *next;

    if (c == NULL)
        return;
    SK_CHECK_MAGIC(c, CONF_MAGIC);
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    access_log_close(c);
    acl_conf_free(c);
    for (f = c->logformats; f != NULL; f = next) {
        next = log_format_next(f);
        log_format_free(f);
    }
    c->magic = 0;
    sk_arena_free(c->arena);
    free(c);
}

void
conf_dump(const struct conf *c, FILE *fp)
{
    const struct conf_priv *priv = (const struct conf_priv *)c;

    SK_CHECK_MAGIC(c, CONF_MAGIC);
    for (size_t i = 0; i < conf_ndirectives; i++) {
        const struct conf_directive *d = &conf_directives[i];

        if (d->slot != CONF_SLOT_CUSTOM) {
            fprintf(fp, "%s ", d->name);
            conf_slot_dump(c, d, fp);
            fputc('\n', fp);
            continue;
        }
        for (const struct conf_line *l = priv->lines; l; l = l->next) {
            if (l->d != d)
                continue;
            fputs(d->name, fp);
            for (int k = 0; k < l->argc; k++) {
                fputc(' ', fp);
                if ((d->flags & CONF_D_RAW) && k == l->argc - 1 && k > 0) {
                    size_t len = strlen(l->argv[k]);

                    /* A space keeps a final backslash from continuing
                     * the line; parsing trims it again. */
                    fputs(l->argv[k], fp);
                    if (len > 0 && l->argv[k][len - 1] == '\\')
                        fputc(' ', fp);
                } else
                    conf_write_token(fp, l->argv[k]);
            }
            fputc('\n', fp);
        }
    }
}
