/*
 * access_log.h -- the access log: Squid's log formats, user-defined
 * logformats, JSON events, and their destinations.
 *
 * Formatting is a pure function of a struct rec and a compiled format.
 * Built-in formats: "squid" (Squid's native format, byte for byte),
 * "common", "combined" (Apache), "json" (one object per line).
 */
#ifndef SK_ACCESS_LOG_H
#define SK_ACCESS_LOG_H

#include <stddef.h>

#include "sk_common.h"

struct rec;
struct conf;
struct log_format;

/*
 * Compile the Squid logformat <spec> (e.g. "%ts.%03tu %6tr %>a ...") named
 * <name>.  Return a new format, or NULL with *<err> set to a malloc'd
 * reason.  The format is freed with log_format_free().
 */
struct log_format *log_format_compile(const char *name, const char *spec,
                                      char **err);
void log_format_free(struct log_format *f);

/* Return the name of <f>. */
const char *log_format_name(const struct log_format *f);

/* Return the built-in format <name>, or NULL. */
const struct log_format *log_format_builtin(const char *name);

/* Link <f> into a list (the conf keeps user formats in one). */
struct log_format *log_format_next(const struct log_format *f);
void log_format_set_next(struct log_format *f, struct log_format *next);

/*
 * Render <rec> with <f> into <buf> of <len> bytes, NUL-terminated, without
 * a newline.  Return the length the full line needs (like snprintf), so a
 * result >= <len> means it was truncated.
 */
size_t log_format_render(const struct log_format *f, const struct rec *rec,
                         char *buf, size_t len);

/*
 * Open every access_log destination of <conf> (files are opened for
 * appending, "stdio:-" is standard output, syslog is opened once).  Return
 * 0, or -1 with *<err> set.
 */
int access_log_open(struct conf *conf, char **err);

/* Close what access_log_open() opened for <conf>. */
void access_log_close(struct conf *conf);

/* Reopen the files of <conf> in place (log rotation); thread-safe. */
void access_log_reopen(struct conf *conf);

/* Write <rec> to every access log of <conf> whose acl allows it. */
void access_log_write(const struct conf *conf, const struct rec *rec);

#endif
