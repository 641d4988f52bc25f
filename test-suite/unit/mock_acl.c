/*
 * mock_acl.c -- a stand-in for the acl module (src/acl/acl.h) in unit
 * tests of modules that only define and name acls (the configuration).
 *
 * It keeps names, types and rules, checks that rules name defined acls
 * and answers errors worded as the real module's, but matches nothing:
 * acl_check() denies.  Everything lives in the configuration's arena.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sk_arena.h"
#include "acl/acl.h"
#include "conf/conf.h"

struct acl {
    struct acl *next;
    const char *name;
    const char *type;
};

struct acl_access {
    struct acl_access *next;
    bool allow;
};

static struct acl mock_acl_all = { NULL, "all", "all" };

static const char *const mock_acl_types[] = {
    "src", "dst", "port", "method", "dstdomain", "url_regex", "myportname",
    NULL
};

int mock_acl_frees;

static int mock_acl_error(char **err, const char *fmt, ...) SK_PRINTF(2, 3);

static int
mock_acl_error(char **err, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    *err = sk_strdup(buf);
    return -1;
}

struct acl *
acl_find(const struct conf *conf, const char *name)
{
    for (struct acl *a = conf->acls; a != NULL; a = a->next)
        if (strcmp(a->name, name) == 0)
            return a;
    return strcmp(name, "all") == 0 ? &mock_acl_all : NULL;
}

int
acl_parse_line(struct conf *conf, int argc, char **argv, char **err)
{
    struct acl *a;
    size_t i;

    if (argc < 2)
        return mock_acl_error(err, "acl %s: missing acl type", argv[0]);
    for (i = 0; mock_acl_types[i] != NULL; i++)
        if (strcmp(mock_acl_types[i], argv[1]) == 0)
            break;
    if (mock_acl_types[i] == NULL)
        return mock_acl_error(err, "acl %s: unknown type '%s'", argv[0],
                              argv[1]);
    a = acl_find(conf, argv[0]);
    if (a != NULL && a != &mock_acl_all) {
        if (strcmp(a->type, argv[1]) != 0)
            return mock_acl_error(err, "acl %s: type %s differs", argv[0],
                                  argv[1]);
        return 0;
    }
    a = sk_arena_calloc(conf->arena, sizeof(*a));
    a->name = sk_arena_strdup(conf->arena, argv[0]);
    a->type = sk_arena_strdup(conf->arena, argv[1]);
    a->next = conf->acls;
    conf->acls = a;
    return 0;
}

int
acl_parse_access(struct conf *conf, struct acl_access **list, int argc,
                 char **argv, char **err)
{
    struct acl_access *r, **tail;

    if (argc < 1)
        return mock_acl_error(err, "missing 'allow' or 'deny'");
    if (strcmp(argv[0], "allow") != 0 && strcmp(argv[0], "deny") != 0)
        return mock_acl_error(err, "bad action '%s': expected 'allow' or "
                              "'deny'", argv[0]);
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i][0] == '!' ? argv[i] + 1 : argv[i];

        if (acl_find(conf, name) == NULL)
            return mock_acl_error(err, "acl '%s' is not defined", name);
    }
    r = sk_arena_calloc(conf->arena, sizeof(*r));
    r->allow = strcmp(argv[0], "allow") == 0;
    for (tail = list; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = r;
    return 0;
}

enum acl_answer
acl_check(const struct acl_access *list, const struct rec *rec,
          const struct acl_dst *dst)
{
    return ACL_DENIED;
}

void
acl_conf_free(struct conf *conf)
{
    mock_acl_frees++;
}
