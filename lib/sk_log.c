/*
 * sk_log.c -- the cache log (see sk_log.h).
 *
 * Each line is formatted in a stack buffer and written with one write(2)
 * on an O_APPEND descriptor, so lines from several worker threads never
 * interleave and no lock is taken.  Rotation swaps the descriptor with
 * dup2(), which is atomic for concurrent writers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sk_log.h"

_Atomic int sk_log_levels[SK_SEC_MAX] = {
    [0 ... SK_SEC_MAX - 1] = SK_LOG_IMPORTANT
};

static const char *const section_names[SK_SEC_MAX] = {
    "main", "conf", "comm", "dns", "http", "acl", "log", "proto", "relay"
};

static int log_fd = STDERR_FILENO;
static char log_path[1024] = "stderr";
static _Atomic int stderr_level = -1;
static pthread_mutex_t log_open_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local char thread_name[16] = "main";

const char *
sk_log_section_name(enum sk_log_section sec)
{
    return (unsigned)sec < SK_SEC_MAX ? section_names[sec] : "?";
}

void
sk_log_set_thread_name(const char *name)
{
    snprintf(thread_name, sizeof(thread_name), "%s", name);
}

void
sk_log_set_stderr_level(int level)
{
    atomic_store(&stderr_level, level);
    /* A level given with -d must also pass the section filter. */
    for (int i = 0; i < SK_SEC_MAX; i++)
        if (atomic_load(&sk_log_levels[i]) < level)
            atomic_store(&sk_log_levels[i], level);
}

void
sk_log_vwrite(enum sk_log_section sec, int level, const char *fmt,
              va_list ap)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    size_t n;
    int r, fd, se;

    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y/%m/%d %H:%M:%S", &tm);
    r = snprintf(line + n, sizeof(line) - n, ".%03ld %s| %s: ",
                 (long)(tv.tv_usec / 1000), thread_name,
                 sk_log_section_name(sec));
    if (r > 0)
        n += (size_t)r;
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    if (r > 0)
        n = SK_MIN(n + (size_t)r, sizeof(line) - 2);
    line[n++] = '\n';

    fd = log_fd;
    if (fd >= 0)
        (void)!write(fd, line, n);
    se = atomic_load(&stderr_level);
    if (se >= level && fd != STDERR_FILENO)
        (void)!write(STDERR_FILENO, line, n);
}

void
sk_log_write(enum sk_log_section sec, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sk_log_vwrite(sec, level, fmt, ap);
    va_end(ap);
}

static int
log_open_fd(const char *path)
{
    if (strcmp(path, "stderr") == 0 || strcmp(path, "-") == 0)
        return STDERR_FILENO;
    if (strcmp(path, "none") == 0)
        return -1;
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

int
sk_log_open(const char *path)
{
    int fd;

    fd = log_open_fd(path);
    if (fd == -1 && strcmp(path, "none") != 0)
        return -1;
    pthread_mutex_lock(&log_open_lock);
    if (log_fd > STDERR_FILENO && fd > STDERR_FILENO) {
        /* keep the descriptor number writers may be using */
        dup2(fd, log_fd);
        close(fd);
    } else {
        if (log_fd > STDERR_FILENO)
            close(log_fd);
        log_fd = fd;
    }
    snprintf(log_path, sizeof(log_path), "%s", path);
    pthread_mutex_unlock(&log_open_lock);
    return 0;
}

void
sk_log_reopen(void)
{
    char path[sizeof(log_path)];

    pthread_mutex_lock(&log_open_lock);
    snprintf(path, sizeof(path), "%s", log_path);
    pthread_mutex_unlock(&log_open_lock);
    if (sk_log_open(path) == -1)
        sk_err(SK_SEC_MAIN, "cannot reopen cache_log %s: %s", path,
               strerror(errno));
}

static int
section_by_name(const char *s, size_t len)
{
    char *end;
    long n;

    for (int i = 0; i < SK_SEC_MAX; i++)
        if (strlen(section_names[i]) == len &&
            strncasecmp(section_names[i], s, len) == 0)
            return i;
    n = strtol(s, &end, 10);
    if (end == s + len && n >= 0 && n < SK_SEC_MAX)
        return (int)n;
    return -1;
}

int
sk_log_set_options(const char *spec, char *err, size_t errlen)
{
    int levels[SK_SEC_MAX];
    const char *p = spec;

    for (int i = 0; i < SK_SEC_MAX; i++)
        levels[i] = SK_LOG_IMPORTANT;
    while (*p != '\0') {
        const char *tok, *comma;
        size_t len;
        char *end;
        long lvl;
        int sec;

        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        tok = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
        len = (size_t)(p - tok);
        comma = memchr(tok, ',', len);
        if (comma == NULL) {
            snprintf(err, errlen, "debug_options: '%.*s' is not "
                     "SECTION,LEVEL", (int)len, tok);
            return -1;
        }
        lvl = strtol(comma + 1, &end, 10);
        if (end != p || lvl < 0 || lvl > 9) {
            snprintf(err, errlen, "debug_options: bad level in '%.*s' "
                     "(0-9)", (int)len, tok);
            return -1;
        }
        if ((size_t)(comma - tok) == 3 && strncasecmp(tok, "ALL", 3) == 0) {
            for (int i = 0; i < SK_SEC_MAX; i++)
                levels[i] = (int)lvl;
            continue;
        }
        sec = section_by_name(tok, (size_t)(comma - tok));
        if (sec == -1) {
            snprintf(err, errlen, "debug_options: unknown section '%.*s'",
                     (int)(comma - tok), tok);
            return -1;
        }
        levels[sec] = (int)lvl;
    }
    for (int i = 0; i < SK_SEC_MAX; i++) {
        int se = atomic_load(&stderr_level);
        atomic_store(&sk_log_levels[i], SK_MAX(levels[i], se));
    }
    return 0;
}
