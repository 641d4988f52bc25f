/*
 * log_int.h -- what the files of src/log share and nobody else sees: the
 * bounded output buffer every renderer writes into, the compiled format,
 * and the JSON renderer used by the "json" built-in format.
 *
 * It deliberately holds no I/O: destinations live in access_log.c only.
 */
#ifndef SK_LOG_INT_H
#define SK_LOG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sk_common.h"

struct rec;

/*
 * A bounded output buffer with snprintf semantics: <pos> counts every byte
 * the full line needs, only the first <len> - 1 are stored.
 */
struct log_out {
    char *buf;
    size_t len;
    size_t pos;
};

/* Start writing into <buf> of <len> bytes (<len> may be 0). */
void log_out_init(struct log_out *o, char *buf, size_t len);

/* Append <n> bytes of <s> (as many as fit; all are counted). */
void log_out_put(struct log_out *o, const char *s, size_t n);

/* Append the single byte <c>. */
void log_out_putc(struct log_out *o, char c);

/* Append the C string <s>. */
void log_out_puts(struct log_out *o, const char *s);

/* Append <v> in decimal. */
void log_out_u64(struct log_out *o, uint64_t v);

/* NUL-terminate the stored part and return the full length. */
size_t log_out_finish(struct log_out *o);

/*
 * Render the IP of <ss> (an IPv4-mapped IPv6 address as plain IPv4) into
 * <buf> of SK_ADDRSTRLEN bytes.  Return its length, or 0 when <ss> holds
 * no inet address (nothing is written then).
 */
size_t log_addr_ip(const struct sockaddr_storage *ss, char *buf);

/* Return the port of <ss> in host order, 0 when it has none. */
unsigned log_addr_port(const struct sockaddr_storage *ss);

/* Squid's hierarchy code for <hier>: "HIER_NONE", "HIER_DIRECT", ... */
const char *log_hier_name(int hier);

/* The name of the rec_dst_source <how> as logged: "connect", "sni", ... */
const char *log_dst_how_name(int how);

/*
 * Render <rec> as one JSON object into <o>.  Each string value is cut to
 * at most <cap> output bytes (SIZE_MAX: no limit) so a capped line always
 * stays valid JSON.
 */
void log_json_render(struct log_out *o, const struct rec *rec, size_t cap);

/* Per-string output cap that keeps a JSON line far below 8 KiB. */
#define LOG_JSON_SMALL_CAP 256

/* True if <f> is the "json" built-in. */
struct log_format;
bool log_format_is_json(const struct log_format *f);

#endif
