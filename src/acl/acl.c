/*
 * acl.c -- acl definitions, allow/deny access lists and their evaluation
 * (see acl.h).
 *
 * Parsing builds acls and rules in the configuration's arena; checking
 * walks them without allocating, so one loaded configuration is checked by
 * every worker thread at once.  The types themselves (value syntax and
 * matching) are in acl_types.c.  This file does not read files or resolve
 * names: "/file" values arrive expanded, and dst answers ACL_NEED_DNS
 * until the caller passes resolved addresses.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sk_arena.h"

#include "acl/acl_impl.h"
#include "conf/conf.h"

/* Characters Squid allows in acl names. */
#define ACL_NAME_CHARS \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

/* Values per "acl" line in the dump, so huge lists stay readable. */
#define ACL_DUMP_PER_LINE 16u

/* The user's definitions only, without the predefined "all". */
static struct acl *
acl_find_defined(const struct conf *conf, const char *name)
{
    struct acl *acl;

    for (acl = conf->acls; acl != NULL; acl = acl->next) {
        if (strcmp(acl->name, name) == 0)
            return acl;
    }
    return NULL;
}

struct acl *
acl_find(const struct conf *conf, const char *name)
{
    struct acl *acl = acl_find_defined(conf, name);

    if (acl == NULL && strcmp(name, "all") == 0)
        acl = &acl_all;
    return acl;
}

/* Create the acl <name> of type <kind> at the end of <conf>'s list. */
static struct acl *
acl_new(struct conf *conf, const char *name, const struct acl_kind *kind)
{
    struct acl *acl, **tail;

    acl = sk_arena_calloc(conf->arena, sizeof(*acl));
    acl->magic = ACL_MAGIC;
    acl->name = sk_arena_strdup(conf->arena, name);
    acl->kind = kind;
    if (kind->flags & ACL_K_REGEX)
        sk_arena_cleanup_add(conf->arena, acl_release, acl);
    for (tail = &conf->acls; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = acl;
    return acl;
}

/* Parse the options and values of one line, argv[2..], into <acl>. */
static int
acl_parse_values(struct conf *conf, struct acl *acl, int argc, char **argv,
                 char **err)
{
    const struct acl_kind *kind = acl->kind;
    bool icase = false, opts = true;
    const char *v;
    int i;

    for (i = 2; i < argc; i++) {
        v = argv[i];
        if ((kind->flags & ACL_K_REGEX) &&
            (strcmp(v, "-i") == 0 || strcmp(v, "+i") == 0)) {
            /* Squid: -i makes the patterns after it caseless, +i undoes
             * it, anywhere on the line. */
            icase = v[0] == '-';
            continue;
        }
        if (opts && strcmp(v, "--") == 0) {
            opts = false;
            continue;
        }
        if (opts && (kind->flags & ACL_K_DOMAIN) && strcmp(v, "-n") == 0)
            continue;           /* no lookups: never done here anyway */
        if (opts && (kind->flags & ACL_K_SNI) &&
            (strcmp(v, "--client-requested") == 0 ||
             strcmp(v, "--server-provided") == 0 ||
             strcmp(v, "--consensus") == 0))
            continue;
        if (opts && v[0] == '-' && ((v[1] >= 'a' && v[1] <= 'z') ||
                                    (v[1] >= 'A' && v[1] <= 'Z')))
            return acl_errorf(err, "acl %s: unknown option '%s' for type "
                              "%s", acl->name, v, kind->name);
        opts = false;
        if (kind->flags & ACL_K_NOVALUES)
            return acl_errorf(err, "acl %s: type %s takes no values",
                              acl->name, kind->name);
        if (kind->parse(conf->arena, acl, v, icase, err) == -1)
            return -1;
    }
    return 0;
}

int
acl_parse_line(struct conf *conf, int argc, char **argv, char **err)
{
    const struct acl_kind *kind;
    struct acl *acl;
    const char *name;

    if (argc < 1)
        return acl_errorf(err, "acl: missing acl name");
    name = argv[0];
    if (name[0] == '\0' || strspn(name, ACL_NAME_CHARS) != strlen(name))
        return acl_errorf(err, "acl '%s': a name has only letters, digits, "
                          "'-', '_' and '.'", name);
    if (argc < 2)
        return acl_errorf(err, "acl %s: missing acl type", name);
    kind = acl_kind_find(argv[1]);
    if (kind == NULL)
        return acl_errorf(err, "acl %s: unknown type '%s'", name, argv[1]);
    acl = acl_find_defined(conf, name);
    if (acl != NULL && acl->kind != kind)
        return acl_errorf(err, "acl %s: type %s differs from earlier %s",
                          name, kind->name, acl->kind->name);
    if (acl == NULL)
        acl = acl_new(conf, name, kind);
    return acl_parse_values(conf, acl, argc, argv, err);
}

int
acl_parse_access(struct conf *conf, struct acl_access **list, int argc,
                 char **argv, char **err)
{
    struct acl_access *rule, **tail;
    struct acl *acl;
    const char *name;
    bool allow, negate = false;
    int i;

    if (argc < 1)
        return acl_errorf(err, "missing 'allow' or 'deny'");
    if (strcmp(argv[0], "allow") == 0)
        allow = true;
    else if (strcmp(argv[0], "deny") == 0)
        allow = false;
    else
        return acl_errorf(err, "bad action '%s': expected 'allow' or "
                          "'deny'", argv[0]);
    if (argc < 2)
        return acl_errorf(err, "%s: no acl named (write '%s all')", argv[0],
                          argv[0]);
    rule = sk_arena_calloc(conf->arena, sizeof(*rule) +
                           (size_t)(argc - 1) * sizeof(rule->terms[0]));
    rule->magic = ACL_ACCESS_MAGIC;
    rule->allow = allow;
    for (i = 1; i < argc; i++) {
        name = argv[i];
        if (name[0] == '!') {
            negate = !negate;
            name++;
            if (name[0] == '\0')
                continue;       /* "! name" written apart */
        }
        acl = acl_find(conf, name);
        if (acl == NULL)
            return acl_errorf(err, "acl '%s' is not defined", name);
        /* Values are all in by the time a rule uses an acl (almost
         * always): index them now, once, and not on the checking path. */
        if (acl->kind->index != NULL && acl->indexed != acl->n)
            acl->kind->index(conf->arena, acl);
        rule->terms[rule->n].acl = acl;
        rule->terms[rule->n].negate = negate;
        rule->n++;
        negate = false;
    }
    if (negate)
        return acl_errorf(err, "'!' without an acl name after it");
    for (tail = list; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = rule;
    return 0;
}

/*
 * One rule: YES when every term holds, NO as soon as one term fails (even
 * after a term that needs DNS: then the answer does not depend on it),
 * NEED when no term fails but one needs the destination's addresses.
 */
static enum acl_match
acl_rule_eval(const struct acl_access *rule, const struct rec *rec,
              const struct acl_dst *dst)
{
    enum acl_match res = ACL_M_YES, m;
    const struct acl_term *t;
    unsigned i;

    for (i = 0; i < rule->n; i++) {
        t = &rule->terms[i];
        m = t->acl->kind->match(t->acl, rec, dst);
        if (m == ACL_M_NEED)
            res = ACL_M_NEED;
        else if ((m == ACL_M_YES) == t->negate)
            return ACL_M_NO;
    }
    return res;
}

enum acl_answer
acl_check(const struct acl_access *list, const struct rec *rec,
          const struct acl_dst *dst)
{
    const struct acl_access *rule, *last = NULL;
    enum acl_answer ans;
    unsigned maybe = 0;     /* actions of rules that might match */

    for (rule = list; rule != NULL; rule = rule->next) {
        SK_CHECK_MAGIC(rule, ACL_ACCESS_MAGIC);
        last = rule;
        switch (acl_rule_eval(rule, rec, dst)) {
        case ACL_M_YES:
            ans = rule->allow ? ACL_ALLOWED : ACL_DENIED;
            goto decide;
        case ACL_M_NEED:
            maybe |= 1u << (rule->allow ? ACL_ALLOWED : ACL_DENIED);
            break;
        case ACL_M_NO:
            break;
        }
    }
    if (last == NULL)
        return ACL_DENIED;
    /* Squid's implicit last rule: the opposite of the last action. */
    ans = last->allow ? ACL_DENIED : ACL_ALLOWED;
decide:
    /* Rules skipped for want of DNS matter only if one of them, had it
     * matched, would have answered differently. */
    if (maybe & ~(1u << ans))
        return ACL_NEED_DNS;
    return ans;
}

void
acl_outgoing(const struct conf_outgoing *list, const struct rec *rec,
             const struct acl_dst *dst, const struct sockaddr_storage **src4,
             const struct sockaddr_storage **src6)
{
    const struct conf_outgoing *g;

    for (g = list; g != NULL; g = g->next) {
        if (g->acl != NULL && acl_check(g->acl, rec, dst) != ACL_ALLOWED)
            continue;
        if (g->addr.ss_family == AF_INET && *src4 == NULL)
            *src4 = &g->addr;
        else if (g->addr.ss_family == AF_INET6 && *src6 == NULL)
            *src6 = &g->addr;
    }
}

void
acl_conf_free(struct conf *conf)
{
    struct acl *acl;

    if (conf == NULL)
        return;
    for (acl = conf->acls; acl != NULL; acl = acl->next)
        acl_release(acl);
}

/* Start a new "acl NAME TYPE" line of the dump. */
static void
acl_dump_head(const struct acl *acl, FILE *fp)
{
    fprintf(fp, "acl %s %s", acl->name, acl->kind->name);
}

void
acl_dump(const struct conf *conf, FILE *fp)
{
    const struct acl *acl;
    const struct acl_item *it;
    unsigned i, on_line;
    bool icase;

    for (acl = conf->acls; acl != NULL; acl = acl->next) {
        acl_dump_head(acl, fp);
        on_line = 0;
        icase = false;
        for (i = 0; i < acl->n; i++) {
            it = &acl->items[i];
            if (it->text == NULL)
                continue;
            if (on_line == ACL_DUMP_PER_LINE) {
                fputc('\n', fp);
                acl_dump_head(acl, fp);
                on_line = 0;
                icase = false;
            }
            if ((acl->kind->flags & ACL_K_REGEX) && it->u.re.icase != icase) {
                icase = it->u.re.icase;
                fputs(icase ? " -i" : " +i", fp);
            }
            /* A value that looks like an option needs "--" first. */
            if (on_line == 0 && it->text[0] == '-')
                fputs(" --", fp);
            fprintf(fp, " %s", it->text);
            on_line++;
        }
        fputc('\n', fp);
    }
}

void
acl_access_dump(const struct acl_access *list, const char *directive,
                FILE *fp)
{
    const struct acl_access *rule;
    unsigned i;

    for (rule = list; rule != NULL; rule = rule->next) {
        fprintf(fp, "%s %s", directive, rule->allow ? "allow" : "deny");
        for (i = 0; i < rule->n; i++)
            fprintf(fp, " %s%s", rule->terms[i].negate ? "!" : "",
                    rule->terms[i].acl->name);
        fputc('\n', fp);
    }
}
