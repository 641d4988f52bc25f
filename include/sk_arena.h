/*
 * sk_arena.h -- a region allocator for data that lives exactly as long as
 * one transaction or one configuration load.
 *
 * Everything allocated from an arena is released together by
 * sk_arena_reset() or sk_arena_free().  Cleanup hooks run first, in reverse
 * order of registration, so an arena can also own file descriptors or
 * library objects.  An arena holds no memory until its first allocation,
 * which keeps idle connections small.
 */
#ifndef SK_ARENA_H
#define SK_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "sk_common.h"

struct sk_arena;

typedef void sk_arena_cleanup_f(void *arg);

/*
 * Create an arena that takes memory in blocks of <block> bytes (0 for the
 * default, 4 KiB).  Allocations larger than a block get their own block.
 */
struct sk_arena *sk_arena_new(size_t block);

/* Return <n> bytes aligned for any type; never NULL (aborts on OOM). */
void *sk_arena_alloc(struct sk_arena *a, size_t n);
void *sk_arena_calloc(struct sk_arena *a, size_t n);
char *sk_arena_strdup(struct sk_arena *a, const char *s);
char *sk_arena_strndup(struct sk_arena *a, const char *s, size_t n);
void *sk_arena_memdup(struct sk_arena *a, const void *p, size_t n);
char *sk_arena_printf(struct sk_arena *a, const char *fmt, ...)
    SK_PRINTF(2, 3);

/* Run <fn>(<arg>) when the arena is next reset or freed. */
void sk_arena_cleanup_add(struct sk_arena *a, sk_arena_cleanup_f *fn,
                          void *arg);

/* Run the cleanups and release every block; the arena stays usable. */
void sk_arena_reset(struct sk_arena *a);

/* Bytes currently held by <a> (for statistics and tests). */
size_t sk_arena_size(const struct sk_arena *a);

void sk_arena_free_(struct sk_arena *a);
#define sk_arena_free(a) do { sk_arena_free_(a); (a) = NULL; } while (0)

#endif
