/*
 * auth_passwd.c -- htpasswd files: loading them into an immutable table,
 * checking a user's password against it, and the "passwd" backend that
 * re-reads the file on reload.
 *
 * The table is a sorted array searched with bsearch(); nothing in it
 * changes after loading, so any number of threads check at once.  The
 * backend swaps whole tables on reload; each check holds a reference to
 * the table it started with, so a slow hash never holds a lock.
 *
 * Deliberately not here: writing or updating htpasswd files, digest
 * (htdigest) files, groups, and hiding from timing whether a user exists
 * (an unknown user is answered without hashing).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"

#define AUTH_PASSWD_MAGIC 0xa7b5a55d

struct auth_entry {
    char *user;
    char *hash;
    unsigned line;
};

struct auth_passwd {
    unsigned magic;
    size_t n;
    size_t cap;
    struct auth_entry *e;       /* sorted by user after loading */
};

/* Set *<err> to a new string made from <fmt>; return NULL. */
static void *
passwd_errorf(char **err, const char *fmt, ...) SK_PRINTF(2, 3);

static void *
passwd_errorf(char **err, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = sk_malloc(n > 0 ? (size_t)n + 1 : 1);
    s[0] = '\0';
    va_start(ap, fmt);
    if (n > 0)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (err != NULL)
        *err = s;
    else
        free(s);
    return NULL;
}

static int
entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct auth_entry *)a)->user,
                  ((const struct auth_entry *)b)->user);
}

/* Trim the blanks and line end around <s> in place; return the start. */
static char *
line_trim(char *s)
{
    size_t n;

    s += strspn(s, " \t");
    n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
        s[--n] = '\0';
    return s;
}

/*
 * Add the line <s> (number <lineno>, NUL-free) to <p>.  Return NULL, or an
 * error message (static) for a malformed line.
 */
static const char *
passwd_add_line(struct auth_passwd *p, char *s, unsigned lineno)
{
    char *colon, *hash, *end;

    s = line_trim(s);
    if (s[0] == '\0' || s[0] == '#')
        return NULL;
    colon = strchr(s, ':');
    if (colon == NULL)
        return "no ':' between user name and password hash";
    if (colon == s)
        return "empty user name";
    *colon = '\0';
    hash = colon + 1;
    end = strchr(hash, ':');
    if (end != NULL)
        *end = '\0';            /* later fields are ignored, as by Apache */
    if (hash[0] == '\0')
        return "empty password hash";
    if (!auth_hash_is_supported(hash))
        return "unsupported or malformed password hash (supported: "
               "bcrypt, $apr1$, {SHA}, $1$, $5$, $6$, $y$, DES crypt)";
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->e = sk_realloc(p->e, p->cap * sizeof(*p->e));
    }
    p->e[p->n].user = sk_strdup(s);
    p->e[p->n].hash = sk_strdup(hash);
    p->e[p->n].line = lineno;
    p->n++;
    return NULL;
}

/* Read every line of <f> (named <path>) into <p>; return 0 or -1. */
static int
passwd_read(struct auth_passwd *p, FILE *f, const char *path, char **err)
{
    char *line = NULL;
    const char *what = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;

    while (what == NULL && (len = getline(&line, &cap, f)) != -1) {
        lineno++;
        if (memchr(line, '\0', (size_t)len) != NULL)
            what = "NUL byte in line";
        else
            what = passwd_add_line(p, line, lineno);
    }
    if (line != NULL) {
        memset(line, 0, cap);
        free(line);
    }
    if (what != NULL) {
        passwd_errorf(err, "%s:%u: %s", path, lineno, what);
        return -1;
    }
    if (ferror(f)) {
        passwd_errorf(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

struct auth_passwd *
auth_passwd_load(const char *path, char **err)
{
    struct auth_passwd *p;
    FILE *f;
    size_t i;

    f = fopen(path, "re");
    if (f == NULL)
        return passwd_errorf(err, "%s: %s", path, strerror(errno));
    p = sk_calloc(1, sizeof(*p));
    p->magic = AUTH_PASSWD_MAGIC;
    if (passwd_read(p, f, path, err) == -1)
        goto fail;
    if (p->n > 0)
        qsort(p->e, p->n, sizeof(*p->e), entry_cmp);
    for (i = 1; i < p->n; i++) {
        if (strcmp(p->e[i - 1].user, p->e[i].user) == 0) {
            passwd_errorf(err, "%s:%u: user \"%s\" is already on line %u",
                          path, SK_MAX(p->e[i - 1].line, p->e[i].line),
                          p->e[i].user,
                          SK_MIN(p->e[i - 1].line, p->e[i].line));
            goto fail;
        }
    }
    fclose(f);
    return p;

fail:
    auth_passwd_free(p);
    fclose(f);
    return NULL;
}

enum auth_result
auth_passwd_check(const struct auth_passwd *p, const char *user,
                  const char *pass)
{
    struct auth_entry key = { (char *)user, NULL, 0 };
    const struct auth_entry *e;

    SK_CHECK_MAGIC(p, AUTH_PASSWD_MAGIC);
    if (p->n == 0)
        return AUTH_DENIED;
    e = bsearch(&key, p->e, p->n, sizeof(*p->e), entry_cmp);
    if (e == NULL)
        return AUTH_DENIED;
    return auth_hash_verify(e->hash, pass);
}

size_t
auth_passwd_count(const struct auth_passwd *p)
{
    SK_CHECK_MAGIC(p, AUTH_PASSWD_MAGIC);
    return p->n;
}

void
auth_passwd_free_(struct auth_passwd *p)
{
    size_t i;

    if (p == NULL)
        return;
    SK_CHECK_MAGIC(p, AUTH_PASSWD_MAGIC);
    for (i = 0; i < p->n; i++) {
        free(p->e[i].user);
        free(p->e[i].hash);
    }
    free(p->e);
    p->magic = 0;
    free(p);
}

/* ---- the "passwd" backend ---- */

/* One loaded table and the checks that still use it. */
struct passwd_gen {
    atomic_uint refs;
    struct auth_passwd *p;
};

struct passwd_backend {
    char *path;
    pthread_mutex_t lock;       /* guards cur */
    struct passwd_gen *cur;
};

static void
gen_unref(struct passwd_gen *g)
{
    if (atomic_fetch_sub(&g->refs, 1) == 1) {
        auth_passwd_free(g->p);
        free(g);
    }
}

static enum auth_result
passwd_backend_check(void *state, const char *user, const char *pass,
                     auth_done_f *done, void *arg)
{
    struct passwd_backend *pb = state;
    struct passwd_gen *g;
    enum auth_result r;

    (void)done;
    (void)arg;
    pthread_mutex_lock(&pb->lock);
    g = pb->cur;
    atomic_fetch_add(&g->refs, 1);
    pthread_mutex_unlock(&pb->lock);
    r = auth_passwd_check(g->p, user, pass);
    gen_unref(g);
    return r;
}

static int
passwd_backend_reload(void *state, char **err)
{
    struct passwd_backend *pb = state;
    struct passwd_gen *g, *old;
    struct auth_passwd *p;

    p = auth_passwd_load(pb->path, err);
    if (p == NULL)
        return -1;
    g = sk_malloc(sizeof(*g));
    atomic_init(&g->refs, 1);
    g->p = p;
    pthread_mutex_lock(&pb->lock);
    old = pb->cur;
    pb->cur = g;
    pthread_mutex_unlock(&pb->lock);
    gen_unref(old);
    return 0;
}

static void
passwd_backend_destroy(void *state)
{
    struct passwd_backend *pb = state;

    gen_unref(pb->cur);
    pthread_mutex_destroy(&pb->lock);
    free(pb->path);
    free(pb);
}

static const struct auth_backend_ops auth_passwd_ops = {
    .name = "passwd",
    .check = passwd_backend_check,
    .reload = passwd_backend_reload,
    .destroy = passwd_backend_destroy,
};

struct auth_backend *
auth_backend_passwd(const char *path, char **err)
{
    struct passwd_backend *pb;
    struct auth_passwd *p;

    p = auth_passwd_load(path, err);
    if (p == NULL)
        return NULL;
    pb = sk_calloc(1, sizeof(*pb));
    pb->path = sk_strdup(path);
    pthread_mutex_init(&pb->lock, NULL);
    pb->cur = sk_malloc(sizeof(*pb->cur));
    atomic_init(&pb->cur->refs, 1);
    pb->cur->p = p;
    return auth_backend_new(&auth_passwd_ops, pb);
}
