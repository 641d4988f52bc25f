/*
 * log_json.c -- the "json" built-in access log format: one JSON object per
 * line with every field of struct rec that is set.
 *
 * Strings are escaped so any byte sequence gives valid JSON: quote and
 * backslash are backslash-escaped, control characters are \u00XX, and every
 * byte that is not part of a well-formed UTF-8 sequence is written as
 * \u00XX too (it reads back as the Latin-1 character of that byte).  Field
 * order is fixed.  "time" is the request start in UTC, RFC 3339 with
 * milliseconds.  Deliberately not here: any configuration of the field set
 * (write a logformat for that) and pretty printing.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sk_common.h"
#include "sk_str.h"
#include "comm/record.h"
#include "log/log_int.h"

/* Return the length of the well-formed UTF-8 sequence at <s>, or 0. */
static size_t
log_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len, i;

    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (len > n)
        return 0;
    /* RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF */
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    }
    return len;
}

/*
 * Write <s>/<n> as a JSON string.  Stop before the escaped content would
 * pass <cap> bytes, at a whole character or escape.
 */
static void
log_json_str(struct log_out *o, const char *s, size_t n, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, used = 0, k;
    char e[6];

    log_out_putc(o, '"');
    while (i < n) {
        k = 1;
        if (u[i] == '"' || u[i] == '\\') {
            e[0] = '\\';
            e[1] = (char)u[i];
            k = 2;
        } else if (u[i] < 0x20 || u[i] == 0x7f ||
                   (u[i] >= 0x80 && log_utf8_len(u + i, n - i) == 0)) {
            memcpy(e, "\\u00", 4);
            e[4] = hex[u[i] >> 4];
            e[5] = hex[u[i] & 0xf];
            k = 6;
        } else if (u[i] >= 0x80) {
            k = log_utf8_len(u + i, n - i);
            if (used + k > cap)
                break;
            log_out_put(o, s + i, k);
            used += k;
            i += k;
            continue;
        } else {
            e[0] = (char)u[i];
        }
        if (used + k > cap)
            break;
        log_out_put(o, e, k);
        used += k;
        i++;
    }
    log_out_putc(o, '"');
}

/* Start the member <key>: a comma unless it is the first one. */
static void
log_json_key(struct log_out *o, bool *first, const char *key)
{
    if (!*first)
        log_out_putc(o, ',');
    *first = false;
    log_out_putc(o, '"');
    log_out_puts(o, key);
    log_out_put(o, "\":", 2);
}

static void
log_json_s(struct log_out *o, bool *first, const char *key, const char *v,
           size_t cap)
{
    if (v == NULL || *v == '\0')
        return;
    log_json_key(o, first, key);
    log_json_str(o, v, strlen(v), cap);
}

static void
log_json_u(struct log_out *o, bool *first, const char *key, uint64_t v)
{
    log_json_key(o, first, key);
    log_out_u64(o, v);
}

/* "<key>":"ip" and "<key>_port":N when <ss> holds an address. */
static void
log_json_addr(struct log_out *o, bool *first, const char *key,
              const char *port_key, const struct sockaddr_storage *ss)
{
    char ip[SK_ADDRSTRLEN];
    size_t n = log_addr_ip(ss, ip);

    if (n == 0)
        return;
    log_json_key(o, first, key);
    log_json_str(o, ip, n, SIZE_MAX);
    log_json_u(o, first, port_key, log_addr_port(ss));
}

static void
log_json_time(struct log_out *o, bool *first, const struct rec *r)
{
    struct tm tm;
    time_t sec = r->start.tv_sec;
    char buf[48];
    int n;

    gmtime_r(&sec, &tm);
    n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int)(r->start.tv_usec / 1000));
    log_json_key(o, first, "time");
    log_json_str(o, buf, (size_t)n, SIZE_MAX);
}

/* The connection, the destination and the request. */
static void
log_json_request(struct log_out *o, bool *first, const struct rec *r,
                 size_t cap)
{
    log_json_addr(o, first, "client", "client_port", &r->client);
    log_json_addr(o, first, "local", "local_port", &r->local);
    log_json_s(o, first, "listener", r->listener_name, cap);
    if (r->listener_port != 0)
        log_json_u(o, first, "listener_port", r->listener_port);
    log_json_s(o, first, "method", r->method, cap);
    log_json_s(o, first, "url", r->url, cap);
    if (r->method != NULL) {
        log_json_key(o, first, "http_version");
        log_out_put(o, "\"1.", 3);
        log_out_u64(o, r->http_minor > 0 ? (uint64_t)r->http_minor : 0);
        log_out_putc(o, '"');
    }
    log_json_s(o, first, "dst_host", r->dst_host, cap);
    if (r->dst_port != 0)
        log_json_u(o, first, "dst_port", r->dst_port);
    if (r->dst_how != REC_DST_NONE)
        log_json_s(o, first, "dst_how", log_dst_how_name(r->dst_how), cap);
    log_json_s(o, first, "proto", r->proto, cap);
    log_json_s(o, first, "sni", r->sni, cap);
    log_json_s(o, first, "alpn", r->alpn, cap);
    log_json_s(o, first, "user", r->user, cap);
    log_json_s(o, first, "referer", r->referer, cap);
    log_json_s(o, first, "user_agent", r->user_agent, cap);
}

void
log_json_render(struct log_out *o, const struct rec *r, size_t cap)
{
    bool first = true;

    log_out_putc(o, '{');
    log_json_time(o, &first, r);
    log_json_u(o, &first, "duration_ms",
               r->duration_ms > 0 ? (uint64_t)r->duration_ms : 0);
    log_json_request(o, &first, r, cap);
    if (r->status > 0)
        log_json_u(o, &first, "status", (uint64_t)r->status);
    log_json_s(o, &first, "result",
               r->result != NULL ? r->result : "NONE_NONE", cap);
    log_json_s(o, &first, "hier", log_hier_name(r->hier), cap);
    log_json_addr(o, &first, "server", "server_port", &r->server);
    log_json_s(o, &first, "error", r->error, cap);
    log_json_s(o, &first, "content_type", r->content_type, cap);
    log_json_u(o, &first, "bytes_in", r->bytes_in);
    log_json_u(o, &first, "bytes_out", r->bytes_out);
    if (r->hier != REC_HIER_NONE || r->server_bytes_in != 0 ||
        r->server_bytes_out != 0) {
        log_json_u(o, &first, "server_bytes_in", r->server_bytes_in);
        log_json_u(o, &first, "server_bytes_out", r->server_bytes_out);
    }
    log_out_putc(o, '}');
}
