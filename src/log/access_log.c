/*
 * access_log.c -- access log destinations: open, write, rotate, close.
 *
 * Destinations (the first argument of access_log):
 *   stdio:PATH, daemon:PATH, /PATH  a file opened for appending
 *   stdio:-                         standard output
 *   syslog[:facility[.priority]]    syslog(3), default local4.info
 *   none                            nothing
 *
 * Every line goes out with a single write(2) of the line and its newline.
 * Files are opened with O_APPEND, so lines from concurrent worker threads
 * never interleave, and nothing is buffered in the process, so a line is in
 * the file as soon as the request is logged.  A line longer than
 * ACCESS_LOG_LINE_MAX is cut (a JSON line is rendered again with shorter
 * strings instead, so it stays valid JSON).  Rotation reopens each path and
 * dup2()s the new file onto the old descriptor, so writers in other threads
 * never see a closed or reused descriptor.
 *
 * An entry with an acl is written only when acl_check() answers
 * ACL_ALLOWED.  ACL_NEED_DNS counts as not allowed: logging never waits for
 * a lookup, so an acl that needs a destination address does not match.
 *
 * Deliberately not done: Squid's tcp: and udp: modules, the log daemon
 * helper, buffering and log_mime_hdrs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "sk_common.h"
#include "sk_log.h"
#include "acl/acl.h"
#include "comm/record.h"
#include "conf/conf.h"
#include "log/access_log.h"
#include "log/log_int.h"

/* The longest line written, newline included (Squid's limit is 8 KiB). */
#define ACCESS_LOG_LINE_MAX 8192

enum access_log_kind {
    ACCESS_LOG_NONE = 0,
    ACCESS_LOG_FILE,
    ACCESS_LOG_STDOUT,
    ACCESS_LOG_SYSLOG,
    ACCESS_LOG_UNKNOWN
};

/* The kind of <dest>; for a file also its path in *<path>. */
static enum access_log_kind
access_log_kind(const char *dest, const char **path)
{
    *path = NULL;
    if (dest == NULL || strcmp(dest, "none") == 0)
        return ACCESS_LOG_NONE;
    if (strcmp(dest, "stdio:-") == 0)
        return ACCESS_LOG_STDOUT;
    if (strcmp(dest, "syslog") == 0 || strncmp(dest, "syslog:", 7) == 0)
        return ACCESS_LOG_SYSLOG;
    if (strncmp(dest, "stdio:", 6) == 0 && dest[6] != '\0')
        *path = dest + 6;
    else if (strncmp(dest, "daemon:", 7) == 0 && dest[7] != '\0')
        *path = dest + 7;
    else if (dest[0] == '/')
        *path = dest;
    return *path != NULL ? ACCESS_LOG_FILE : ACCESS_LOG_UNKNOWN;
}

struct access_log_sym {
    const char *name;
    int value;
};

static const struct access_log_sym access_log_facilities[] = {
    { "kern", LOG_KERN },         { "user", LOG_USER },
    { "mail", LOG_MAIL },         { "daemon", LOG_DAEMON },
    { "auth", LOG_AUTH },         { "syslog", LOG_SYSLOG },
    { "lpr", LOG_LPR },           { "news", LOG_NEWS },
    { "uucp", LOG_UUCP },         { "cron", LOG_CRON },
    { "authpriv", LOG_AUTHPRIV }, { "ftp", LOG_FTP },
    { "local0", LOG_LOCAL0 },     { "local1", LOG_LOCAL1 },
    { "local2", LOG_LOCAL2 },     { "local3", LOG_LOCAL3 },
    { "local4", LOG_LOCAL4 },     { "local5", LOG_LOCAL5 },
    { "local6", LOG_LOCAL6 },     { "local7", LOG_LOCAL7 },
    { NULL, 0 }
};

static const struct access_log_sym access_log_priorities[] = {
    { "emerg", LOG_EMERG },   { "alert", LOG_ALERT },
    { "crit", LOG_CRIT },     { "err", LOG_ERR },
    { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
    { "info", LOG_INFO },     { "debug", LOG_DEBUG },
    { NULL, 0 }
};

/* Find <name> (<len> bytes, "LOG_" prefix optional) in <syms>. */
static int
access_log_sym(const struct access_log_sym *syms, const char *name,
               size_t len, int *out)
{
    if (len > 4 && strncasecmp(name, "LOG_", 4) == 0) {
        name += 4;
        len -= 4;
    }
    for (; syms->name != NULL; syms++) {
        if (strlen(syms->name) == len &&
            strncasecmp(syms->name, name, len) == 0) {
            *out = syms->value;
            return 0;
        }
    }
    return -1;
}

/*
 * Parse "syslog[:facility[.priority]]" in <dest> into a syslog(3)
 * priority.  Return it, or -1 when a name is unknown.
 */
static int
access_log_syslog_prio(const char *dest)
{
    const char *spec = dest[6] == ':' ? dest + 7 : "";
    const char *dot = strchr(spec, '.');
    size_t flen = dot != NULL ? (size_t)(dot - spec) : strlen(spec);
    int facility = LOG_LOCAL4, priority = LOG_INFO;

    if (flen > 0 &&
        access_log_sym(access_log_facilities, spec, flen, &facility) == -1)
        return -1;
    if (dot != NULL && access_log_sym(access_log_priorities, dot + 1,
                                      strlen(dot + 1), &priority) == -1)
        return -1;
    return facility | priority;
}

static int
access_log_open_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
                0640);
}

static void
access_log_set_err(char **err, const char *dest, const char *what)
{
    size_t len = strlen(dest) + strlen(what) + 32;

    *err = sk_malloc(len);
    snprintf(*err, len, "access_log %s: %s", dest, what);
}

/* Open one entry; return 0, or -1 with *<err> set. */
static int
access_log_open_one(struct conf_access_log *e, char **err)
{
    static atomic_bool syslog_opened;
    const char *path;
    char msg[512];

    switch (access_log_kind(e->dest, &path)) {
    case ACCESS_LOG_FILE:
        if (e->fd >= 0)
            return 0;
        e->fd = access_log_open_file(path);
        if (e->fd == -1) {
            snprintf(msg, sizeof(msg), "cannot open %s: %s", path,
                     strerror(errno));
            access_log_set_err(err, e->dest, msg);
            return -1;
        }
        return 0;
    case ACCESS_LOG_STDOUT:
        e->fd = STDOUT_FILENO;
        return 0;
    case ACCESS_LOG_SYSLOG:
        if (access_log_syslog_prio(e->dest) == -1) {
            access_log_set_err(err, e->dest,
                               "unknown syslog facility or priority");
            return -1;
        }
        if (!atomic_exchange(&syslog_opened, true))
            openlog("skua", LOG_PID | LOG_NDELAY, LOG_LOCAL4);
        return 0;
    case ACCESS_LOG_NONE:
        return 0;
    default:
        access_log_set_err(err, e->dest, "unsupported log destination");
        return -1;
    }
}

int
access_log_open(struct conf *conf, char **err)
{
    struct conf_access_log *e;

    *err = NULL;
    for (e = conf->access_logs; e != NULL; e = e->next) {
        if (access_log_open_one(e, err) == -1)
            goto fail_close;
    }
    return 0;

fail_close:
    access_log_close(conf);
    return -1;
}

void
access_log_close(struct conf *conf)
{
    struct conf_access_log *e;
    const char *path;

    for (e = conf->access_logs; e != NULL; e = e->next) {
        if (access_log_kind(e->dest, &path) == ACCESS_LOG_FILE && e->fd >= 0)
            close(e->fd);
        e->fd = -1;
    }
}

void
access_log_reopen(struct conf *conf)
{
    struct conf_access_log *e;
    const char *path;
    int fd;

    for (e = conf->access_logs; e != NULL; e = e->next) {
        if (access_log_kind(e->dest, &path) != ACCESS_LOG_FILE || e->fd < 0)
            continue;
        fd = access_log_open_file(path);
        if (fd == -1) {
            sk_err(SK_SEC_LOG, "access_log %s: cannot reopen %s: %s; "
                   "still writing to the old file", e->dest, path,
                   strerror(errno));
            continue;
        }
        /*
         * dup2() swaps the file behind e->fd atomically: a concurrent
         * write() goes to the old or the new file, never to a closed
         * descriptor.  dup2() clears FD_CLOEXEC, so set it again.
         */
        if (dup2(fd, e->fd) == -1)
            sk_err(SK_SEC_LOG, "access_log %s: dup2: %s", e->dest,
                   strerror(errno));
        else
            (void)fcntl(e->fd, F_SETFD, FD_CLOEXEC);
        close(fd);
    }
}

/* Write <line>/<n> with one write(2); report a failure once per burst. */
static void
access_log_write_fd(const struct conf_access_log *e, const char *line,
                    size_t n)
{
    static atomic_bool failing;
    ssize_t w;
    size_t off = 0;

    while (off < n) {
        w = write(e->fd, line + off, n - off);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1) {
            if (!atomic_exchange(&failing, true))
                sk_err(SK_SEC_LOG, "access_log %s: write failed: %s",
                       e->dest, strerror(errno));
            return;
        }
        /* only a full disk or a pipe makes a short write; finish it */
        off += (size_t)w;
    }
    atomic_store_explicit(&failing, false, memory_order_relaxed);
}

/*
 * Render <rec> with <f> into <line> (ACCESS_LOG_LINE_MAX bytes) and add
 * the newline.  Return the length with the newline.
 */
static size_t
access_log_render(const struct log_format *f, const struct rec *rec,
                  char *line)
{
    const size_t room = ACCESS_LOG_LINE_MAX;
    struct log_out o;
    size_t n;

    /* a cut line keeps room - 1 bytes; its NUL makes way for the \n */
    n = log_format_render(f, rec, line, room);
    if (n >= room && log_format_is_json(f)) {
        log_out_init(&o, line, room);
        log_json_render(&o, rec, LOG_JSON_SMALL_CAP);
        n = log_out_finish(&o);
    }
    if (n >= room)
        n = room - 1;
    line[n++] = '\n';
    return n;
}

void
access_log_write(const struct conf *conf, const struct rec *rec)
{
    const struct conf_access_log *e;
    const struct log_format *have = NULL;
    char line[ACCESS_LOG_LINE_MAX];
    char url[ACCESS_LOG_LINE_MAX / 2];
    struct rec stripped;
    enum access_log_kind kind;
    const char *path, *q;
    size_t n = 0;
    int prio;

    /* strip_query_terms (Squid's default): query strings often carry
     * credentials and personal data; the log gets the URL up to '?'.
     * Policy still saw the whole URL. */
    if (conf->strip_query_terms && rec->url != NULL &&
        (q = strchr(rec->url, '?')) != NULL) {
        size_t len = SK_MIN((size_t)(q - rec->url) + 1, sizeof(url) - 1);
        memcpy(url, rec->url, len);
        url[len] = '\0';
        stripped = *rec;
        stripped.url = url;
        rec = &stripped;
    }

    for (e = conf->access_logs; e != NULL; e = e->next) {
        kind = access_log_kind(e->dest, &path);
        if (kind == ACCESS_LOG_NONE || kind == ACCESS_LOG_UNKNOWN)
            continue;
        if (kind != ACCESS_LOG_SYSLOG && e->fd < 0)
            continue;
        if (e->acl != NULL && acl_check(e->acl, rec, NULL) != ACL_ALLOWED)
            continue;
        if (SK_BUG(e->format == NULL))
            continue;
        /* consecutive entries with one format share the rendering */
        if (e->format != have) {
            n = access_log_render(e->format, rec, line);
            have = e->format;
        }
        if (kind != ACCESS_LOG_SYSLOG) {
            access_log_write_fd(e, line, n);
            continue;
        }
        prio = access_log_syslog_prio(e->dest);
        syslog(prio != -1 ? prio : LOG_LOCAL4 | LOG_INFO, "%.*s",
               (int)(n - 1), line);
    }
}
