/*
 * sk_log.h -- skua's own diagnostic log (cache_log), with Squid-style debug
 * sections and levels.
 *
 * Level 0 is critical, 1 important, 2..9 ever more verbose, as in Squid's
 * debug_options.  This is not the access log (src/log/) and never sees
 * traffic records.
 */
#ifndef SK_LOG_H
#define SK_LOG_H

#include <stdarg.h>
#include <stdatomic.h>

#include "sk_common.h"

enum sk_log_section {
    SK_SEC_MAIN = 0,
    SK_SEC_CONF,
    SK_SEC_COMM,
    SK_SEC_DNS,
    SK_SEC_HTTP,
    SK_SEC_ACL,
    SK_SEC_LOG,
    SK_SEC_PROTO,
    SK_SEC_RELAY,
    SK_SEC_MAX
};

#define SK_LOG_CRIT 0
#define SK_LOG_IMPORTANT 1
#define SK_LOG_INFO 2
#define SK_LOG_DEBUG 5

extern _Atomic int sk_log_levels[SK_SEC_MAX];

#define sk_log_enabled(sec, lvl) \
    ((lvl) <= atomic_load_explicit(&sk_log_levels[(sec)], \
                                   memory_order_relaxed))

#define sk_debug(sec, lvl, ...) \
    do { \
        if (sk_log_enabled(sec, lvl)) \
            sk_log_write((sec), (lvl), __VA_ARGS__); \
    } while (0)
#define sk_err(sec, ...) sk_debug((sec), SK_LOG_CRIT, __VA_ARGS__)
#define sk_notice(sec, ...) sk_debug((sec), SK_LOG_IMPORTANT, __VA_ARGS__)
#define sk_info(sec, ...) sk_debug((sec), SK_LOG_INFO, __VA_ARGS__)

/* Write one line (a newline is added) to the cache log. */
void sk_log_write(enum sk_log_section sec, int level, const char *fmt, ...)
    SK_PRINTF(3, 4);
void sk_log_vwrite(enum sk_log_section sec, int level, const char *fmt,
                   va_list ap) SK_PRINTF(3, 0);

/*
 * Send the cache log to <path> ("stderr" or "-" for standard error, "none"
 * to drop it).  Return 0, or -1 with errno set and the old target kept.
 */
int sk_log_open(const char *path);

/* Reopen the current cache log file (log rotation). */
void sk_log_reopen(void);

/* Also copy every line to standard error (the -d option). */
void sk_log_set_stderr_level(int level);

/*
 * Apply a Squid debug_options string such as "ALL,1 http,3 2,5" to every
 * section.  Sections are named (main conf comm dns http acl log proto relay)
 * or numbered in the order above.  Return 0, or -1 with a message in <err>
 * (of size <errlen>).
 */
int sk_log_set_options(const char *spec, char *err, size_t errlen);

/* Name the thread in log lines: "kid1", "main", ... (thread-local). */
void sk_log_set_thread_name(const char *name);

/* Return the name of section <sec>. */
const char *sk_log_section_name(enum sk_log_section sec);

#endif
