/*
 * auth.c -- the generic side of authentication backends: one instance
 * type that forwards to its kind's ops table (STYLE.md section 3).
 *
 * Deliberately not here: any backend's own logic (auth_passwd.c holds the
 * htpasswd one) and any choice of backend from the configuration.
 */
#include "config.h"

#include <stdlib.h>

#include "auth/auth.h"

#define AUTH_BACKEND_MAGIC 0xa7b5ba4d

struct auth_backend {
    unsigned magic;
    const struct auth_backend_ops *ops;
    void *state;
};

struct auth_backend *
auth_backend_new(const struct auth_backend_ops *ops, void *state)
{
    struct auth_backend *b = sk_calloc(1, sizeof(*b));

    assert(ops->name != NULL && ops->check != NULL && ops->destroy != NULL);
    b->magic = AUTH_BACKEND_MAGIC;
    b->ops = ops;
    b->state = state;
    return b;
}

const char *
auth_backend_name(const struct auth_backend *b)
{
    SK_CHECK_MAGIC(b, AUTH_BACKEND_MAGIC);
    return b->ops->name;
}

enum auth_result
auth_check(struct auth_backend *b, const char *user, const char *pass,
           auth_done_f *done, void *arg)
{
    enum auth_result r;

    SK_CHECK_MAGIC(b, AUTH_BACKEND_MAGIC);
    r = b->ops->check(b->state, user, pass, done, arg);
    if (SK_BUG(r == AUTH_PENDING && done == NULL))
        r = AUTH_UNAVAILABLE;
    return r;
}

int
auth_reload(struct auth_backend *b, char **err)
{
    SK_CHECK_MAGIC(b, AUTH_BACKEND_MAGIC);
    if (b->ops->reload == NULL)
        return 0;
    return b->ops->reload(b->state, err);
}

void
auth_backend_free_(struct auth_backend *b)
{
    if (b == NULL)
        return;
    SK_CHECK_MAGIC(b, AUTH_BACKEND_MAGIC);
    b->ops->destroy(b->state);
    b->magic = 0;
    free(b);
}
