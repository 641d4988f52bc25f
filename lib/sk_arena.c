/*
 * sk_arena.c -- region allocator (see sk_arena.h).
 *
 * Blocks are singly linked, newest first; allocation bumps a pointer in the
 * newest block.  Nothing is allocated until first use, and reset releases
 * every block, so an idle connection's arena costs only its header.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sk_arena.h"

#define ARENA_ALIGN 16u
#define ARENA_DEFAULT_BLOCK 4096u

struct arena_block {
    struct arena_block *next;
    size_t size;            /* usable bytes after the header */
    size_t used;
};

struct arena_cleanup {
    struct arena_cleanup *next;
    sk_arena_cleanup_f *fn;
    void *arg;
};

struct sk_arena {
    struct arena_block *blocks;
    struct arena_cleanup *cleanups;
    size_t block;
    size_t total;
};

#define BLOCK_HDR \
    ((sizeof(struct arena_block) + ARENA_ALIGN - 1) & \
     ~(size_t)(ARENA_ALIGN - 1))

struct sk_arena *
sk_arena_new(size_t block)
{
    struct sk_arena *a = sk_calloc(1, sizeof(*a));

    a->block = block ? block : ARENA_DEFAULT_BLOCK;
    return a;
}

static struct arena_block *
arena_grow(struct sk_arena *a, size_t n)
{
    size_t size = n > a->block ? n : a->block;
    struct arena_block *b = sk_malloc(BLOCK_HDR + size);

    b->size = size;
    b->used = 0;
    /* An oversized block goes behind the current one so the remaining
     * space of the current block is not wasted. */
    if (n > a->block && a->blocks != NULL) {
        b->next = a->blocks->next;
        a->blocks->next = b;
    } else {
        b->next = a->blocks;
        a->blocks = b;
    }
    a->total += size;
    return b;
}

void *
sk_arena_alloc(struct sk_arena *a, size_t n)
{
    struct arena_block *b = a->blocks;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

    if (need == 0)
        need = ARENA_ALIGN;
    if (b == NULL || b->size - b->used < need)
        b = arena_grow(a, need);
    b->used += need;
    return (char *)b + BLOCK_HDR + b->used - need;
}

void *
sk_arena_calloc(struct sk_arena *a, size_t n)
{
    void *p = sk_arena_alloc(a, n);

    memset(p, 0, n);
    return p;
}

void *
sk_arena_memdup(struct sk_arena *a, const void *p, size_t n)
{
    void *q = sk_arena_alloc(a, n);

    memcpy(q, p, n);
    return q;
}

char *
sk_arena_strndup(struct sk_arena *a, const char *s, size_t n)
{
    char *p = sk_arena_alloc(a, n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
sk_arena_strdup(struct sk_arena *a, const char *s)
{
    return s ? sk_arena_strndup(a, s, strlen(s)) : NULL;
}

char *
sk_arena_printf(struct sk_arena *a, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return sk_arena_strdup(a, "");
    p = sk_arena_alloc(a, (size_t)n + 1);
    if ((size_t)n < sizeof(small)) {
        memcpy(p, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return p;
}

void
sk_arena_cleanup_add(struct sk_arena *a, sk_arena_cleanup_f *fn, void *arg)
{
    struct arena_cleanup *c = sk_arena_alloc(a, sizeof(*c));

    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
}

void
sk_arena_reset(struct sk_arena *a)
{
    struct arena_cleanup *c;
    struct arena_block *b, *next;

    /* Cleanups live in the blocks, so run them all before freeing. */
    for (c = a->cleanups; c != NULL; c = c->next)
        c->fn(c->arg);
    a->cleanups = NULL;
    for (b = a->blocks; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    a->blocks = NULL;
    a->total = 0;
}

size_t
sk_arena_size(const struct sk_arena *a)
{
    return a->total;
}

void
sk_arena_free_(struct sk_arena *a)
{
    if (a == NULL)
        return;
    sk_arena_reset(a);
    free(a);
}
