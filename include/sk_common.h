/*
 * sk_common.h -- result codes, checks and small macros shared by all of skua.
 *
 * Holds nothing that knows about proxies: only the conventions every module
 * follows (STYLE.md section 4): 0 / -1 for plain calls, SKUA_* for
 * incremental parsers and I/O steps, SK_BUG() for recoverable internal bugs,
 * magic numbers on long-lived structs.
 */
#ifndef SK_COMMON_H
#define SK_COMMON_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Outcomes of an incremental parser or an I/O step. */
enum {
    SKUA_OK = 0,        /* done; the result is complete */
    SKUA_ERROR = -1,    /* failed; the error is described elsewhere */
    SKUA_AGAIN = -2,    /* needs more bytes or a later retry */
    SKUA_DECLINED = -3  /* not for this handler; try the next one */
};

/* Milliseconds: every duration in skua's configuration and timers. */
typedef int64_t sk_msec_t;

#define SK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SK_MAX(a, b) ((a) > (b) ? (a) : (b))
#define SK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SK_UNUSED __attribute__((unused))
#define SK_LIKELY(x) __builtin_expect(!!(x), 1)
#define SK_UNLIKELY(x) __builtin_expect(!!(x), 0)

/*
 * Report a skua bug that can be survived: log it with the source position
 * and evaluate to true so the caller can take its recovery path.  Never use
 * it for bad input or exhausted resources; those are handled, not reported.
 */
void sk_bug_report(const char *file, int line, const char *cond);
#define SK_BUG(cond) \
    (SK_UNLIKELY(cond) ? (sk_bug_report(__FILE__, __LINE__, #cond), 1) : 0)

/* Check that <p> is a live object of the kind whose magic is <m>. */
#define SK_CHECK_MAGIC(p, m) assert((p) != NULL && (p)->magic == (m))

/* Free <p> and set it to NULL so no reachable pointer dangles (not
 * sk_free: OpenSSL owns the sk_ prefix for its stacks). */
#define SK_FREE(p) do { free(p); (p) = NULL; } while (0)

/* malloc/calloc/strdup that abort on exhaustion of the address space. */
void *sk_malloc(size_t n);
void *sk_calloc(size_t n, size_t size);
void *sk_realloc(void *p, size_t n);
char *sk_strdup(const char *s);
char *sk_strndup(const char *s, size_t n);

#endif
