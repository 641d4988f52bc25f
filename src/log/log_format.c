/*
 * log_format.c -- Squid logformat specifications: compile once into an
 * array of tokens, render a struct rec with them many times.
 *
 * The syntax and the output follow Squid's src/format/ (Token.cc,
 * Format.cc, Quoting.cc) so lines are byte for byte what Squid prints for
 * the same transaction:
 *
 *   %[quote][-][0][width][.max][{arg}]code[{arg}]
 *
 * quote is " (backslash escapes), [ (Squid's log_mime_hdrs escaping),
 * # (URL encoding) or ' (raw).  Without one, a code inherits the quoting of
 * the literal text around it (after an opening " or [ in the text), and a
 * few codes (%rm, %>h, ...) use Squid's "pass-through URL encoding".  An
 * empty value is logged as a single "-", with no padding or quoting.
 *
 * The built-in formats squid, common, combined, referrer and useragent
 * reproduce Squid's hard-wired Log::Format functions (not the looser
 * logformat equivalents printed in its documentation), so they use raw
 * quoting where those print raw.  The json built-in is in log_json.c.
 *
 * Rendering never allocates and never takes a lock; it is called per
 * request from every worker thread.  Deliberately not done: %sn (sequence
 * numbers need shared state), DNS names for %>A, header list members
 * (%{Name:member}>h) and header dumps without a name.
 */
#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "sk_common.h"
#include "sk_str.h"
#include "comm/record.h"
#include "log/access_log.h"
#include "log/log_int.h"

#define LOG_FORMAT_MAGIC 0x10f0a7edu

/* Widths beyond this are configuration mistakes, not layouts. */
#define LOG_WIDTH_MAX 255

enum log_quote {
    LOG_Q_NONE = 0,     /* the code's own default */
    LOG_Q_QUOTES,       /* "  \-escape " and \, CR LF TAB as \r \n \t */
    LOG_Q_MIMEBLOB,     /* [  Squid's custom %-encoding, SP kept */
    LOG_Q_URL,          /* #  RFC 1738 unsafe and controls, % too */
    LOG_Q_RAW,          /* '  as is */
    LOG_Q_PASSTHRU      /* default of some codes: like # but keeps % */
};

enum log_code {
    LF_TEXT = 0, LF_PERCENT, LF_DASH,
    LF_CLIENT_IP, LF_CLIENT_PORT, LF_LOCAL_IP, LF_LOCAL_PORT,
    LF_LISTEN_PORT, LF_SERVER_IP, LF_SERVER_PORT, LF_SERVER_NAME,
    LF_TIME_SEC, LF_TIME_SUB, LF_TIME_LOCAL, LF_TIME_GMT, LF_TIME_RESP,
    LF_TIME_START,
    LF_USER, LF_STATUS, LF_SERVER_STATUS, LF_RESULT, LF_HIER, LF_MIME,
    LF_METHOD, LF_URL, LF_URLPATH, LF_VERSION, LF_PROTO_VERSION,
    LF_DOMAIN, LF_URLPORT,
    LF_BYTES_TOTAL, LF_BYTES_IN, LF_BYTES_OUT, LF_SERVER_BYTES_IN,
    LF_SERVER_BYTES_OUT, LF_SERVER_BODY,
    LF_REQ_HEADER, LF_REP_HEADER, LF_ERR_CODE, LF_SNI, LF_ALPN, LF_PROTO,
    LF_DST_HOW, LF_LISTENER
};

#define LF_F_QUOTE 0x1u     /* pass-through URL encoding by default */
#define LF_F_ARG 0x2u       /* needs an {argument} */
#define LF_F_INTERNAL 0x4u  /* only for the built-in formats */

struct log_code_def {
    const char *name;
    uint8_t code;
    uint8_t flags;
};

/* Squid's codes (the "http::" prefix is optional) and skua's own. */
static const struct log_code_def log_codes[] = {
    { ">a", LF_CLIENT_IP, 0 },          { ">A", LF_CLIENT_IP, 0 },
    { ">p", LF_CLIENT_PORT, 0 },        { ">la", LF_LOCAL_IP, 0 },
    { "la", LF_LOCAL_IP, 0 },           { ">lp", LF_LOCAL_PORT, 0 },
    { "lp", LF_LISTEN_PORT, 0 },        { "<a", LF_SERVER_IP, 0 },
    { "<p", LF_SERVER_PORT, 0 },        { "<A", LF_SERVER_NAME, 0 },
    { "ts", LF_TIME_SEC, 0 },           { "tu", LF_TIME_SUB, 0 },
    { "tl", LF_TIME_LOCAL, 0 },         { "tg", LF_TIME_GMT, 0 },
    { "tr", LF_TIME_RESP, 0 },          { "tS", LF_TIME_START, 0 },
    { "un", LF_USER, 0 },               { "ul", LF_USER, 0 },
    { "ui", LF_DASH, 0 },               { "ue", LF_DASH, 0 },
    { ">Hs", LF_STATUS, 0 },            { "Hs", LF_STATUS, 0 },
    { "<Hs", LF_SERVER_STATUS, 0 },     { "Ss", LF_RESULT, 0 },
    { "Sh", LF_HIER, 0 },               { "mt", LF_MIME, 0 },
    { "rm", LF_METHOD, LF_F_QUOTE },    { ">rm", LF_METHOD, LF_F_QUOTE },
    { "<rm", LF_METHOD, LF_F_QUOTE },   { "ru", LF_URL, 0 },
    { ">ru", LF_URL, LF_F_QUOTE },      { "<ru", LF_URL, LF_F_QUOTE },
    { "rp", LF_URLPATH, LF_F_QUOTE },   { ">rp", LF_URLPATH, LF_F_QUOTE },
    { "<rp", LF_URLPATH, LF_F_QUOTE },  { "rv", LF_VERSION, 0 },
    { ">rv", LF_VERSION, 0 },           { "<rv", LF_VERSION, 0 },
    { ">rd", LF_DOMAIN, LF_F_QUOTE },   { "<rd", LF_DOMAIN, LF_F_QUOTE },
    { ">rP", LF_URLPORT, 0 },           { "<rP", LF_URLPORT, 0 },
    { "st", LF_BYTES_TOTAL, 0 },        { ">st", LF_BYTES_IN, 0 },
    { "<st", LF_BYTES_OUT, 0 },         { "<bs", LF_SERVER_BODY, 0 },
    { ">h", LF_REQ_HEADER, LF_F_QUOTE | LF_F_ARG },
    { "<h", LF_REP_HEADER, LF_F_QUOTE | LF_F_ARG },
    { "err_code", LF_ERR_CODE, 0 },     { "ssl::>sni", LF_SNI, 0 },
    { "skua::proto", LF_PROTO, 0 },     { "skua::alpn", LF_ALPN, 0 },
    { "skua::dst_how", LF_DST_HOW, 0 },
    { "skua::listener", LF_LISTENER, 0 },
    { "skua::server_bytes_in", LF_SERVER_BYTES_IN, 0 },
    { "skua::server_bytes_out", LF_SERVER_BYTES_OUT, 0 },
    { "%", LF_PERCENT, 0 },
    { "_pv", LF_PROTO_VERSION, LF_F_INTERNAL },
};

#define LOG_T_LEFT 0x1u
#define LOG_T_ZERO 0x2u

struct log_token {
    uint8_t code;           /* enum log_code */
    uint8_t quote;          /* enum log_quote, default already applied */
    uint8_t flags;          /* LOG_T_* */
    int16_t wmin;           /* -1: none */
    int16_t wmax;           /* -1: none */
    uint32_t divisor;       /* %tu, %tS: microseconds per unit */
    uint16_t field;         /* a plain string of struct rec: its offset
                               + 1; 0 for the other codes */
    char *arg;              /* literal text, header name, strftime spec */
    size_t arglen;
};

enum log_kind { LOG_KIND_TOKENS = 0, LOG_KIND_JSON };

struct log_format {
    unsigned magic;
    struct log_format *next;
    char *name;
    enum log_kind kind;
    bool builtin;           /* static lifetime; log_format_free ignores it */
    size_t ntok;
    struct log_token *tok;
};

/* ---- the output buffer ---- */

void
log_out_init(struct log_out *o, char *buf, size_t len)
{
    o->buf = buf;
    o->len = len;
    o->pos = 0;
}

void
log_out_put(struct log_out *o, const char *s, size_t n)
{
    if (o->pos + 1 < o->len) {
        size_t room = o->len - 1 - o->pos;

        memcpy(o->buf + o->pos, s, n < room ? n : room);
    }
    o->pos += n;
}

void
log_out_putc(struct log_out *o, char c)
{
    if (o->pos + 1 < o->len)
        o->buf[o->pos] = c;
    o->pos++;
}

void
log_out_puts(struct log_out *o, const char *s)
{
    log_out_put(o, s, strlen(s));
}

void
log_out_u64(struct log_out *o, uint64_t v)
{
    char d[24];
    size_t i = sizeof(d);

    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    log_out_put(o, d + i, sizeof(d) - i);
}

size_t
log_out_finish(struct log_out *o)
{
    if (o->len > 0)
        o->buf[o->pos < o->len ? o->pos : o->len - 1] = '\0';
    return o->pos;
}

/* ---- small helpers shared with log_json.c ---- */

size_t
log_addr_ip(const struct sockaddr_storage *ss, char *buf)
{
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &s4->sin_addr, buf, SK_ADDRSTRLEN);
    } else if (ss->ss_family == AF_INET6) {
        /* Squid keeps IPv4 as mapped IPv6 and prints it dotted. */
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
            inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf,
                      SK_ADDRSTRLEN);
        else
            inet_ntop(AF_INET6, &s6->sin6_addr, buf, SK_ADDRSTRLEN);
    } else {
        return 0;
    }
    return strlen(buf);
}

unsigned
log_addr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return 0;
}

const char *
log_hier_name(int hier)
{
    switch (hier) {
    case REC_HIER_DIRECT:
        return "HIER_DIRECT";
    case REC_HIER_PARENT:
        return "FIRSTUP_PARENT";
    case REC_HIER_ORIGINAL_DST:
        return "ORIGINAL_DST";
    default:
        return "HIER_NONE";
    }
}

const char *
log_dst_how_name(int how)
{
    static const char *const names[] = {
        "none", "absolute_uri", "connect", "host_header", "sni", "socks",
        "nat", "fakeip"
    };

    if (how < 0 || (size_t)how >= SK_ARRAY_LEN(names))
        return "none";
    return names[how];
}

/* ---- escaping ---- */

static const char log_hex_lower[] = "0123456789abcdef";
static const char log_hex_upper[] = "0123456789ABCDEF";

/* RFC 1738 "unsafe" characters, as Squid's rfc1738_do_escape() has them. */
static bool
log_is_rfc1738_unsafe(unsigned char c)
{
    return c != '\0' && strchr("<>\"#{}|\\^~[]`'", c) != NULL;
}

/*
 * Write the escaped form of the byte <c> under quoting <q> into <e>;
 * return its length (1 when the byte stays as it is).
 */
static size_t
log_escape_byte(unsigned char c, int q, char *e)
{
    bool pct;

    switch (q) {
    case LOG_Q_QUOTES:
        if (c == '"' || c == '\\' || c == '\r' || c == '\n' || c == '\t') {
            e[0] = '\\';
            e[1] = c == '\r' ? 'r' : c == '\n' ? 'n' : c == '\t' ? 't'
                                                                 : (char)c;
            return 2;
        }
        break;
    case LOG_Q_MIMEBLOB:
        if (c == '\r' || c == '\n' || c == '\\') {
            e[0] = '\\';
            e[1] = c == '\r' ? 'r' : c == '\n' ? 'n' : '\\';
            return 2;
        }
        if (c <= 0x1f || c >= 0x7f || c == '%' || c == '[' || c == ']') {
            e[0] = '%';
            e[1] = log_hex_lower[c >> 4];
            e[2] = log_hex_lower[c & 0xf];
            return 3;
        }
        break;
    case LOG_Q_URL:
    case LOG_Q_PASSTHRU:
        pct = c <= ' ' || c >= 0x7f || log_is_rfc1738_unsafe(c) ||
              (c == '%' && q == LOG_Q_URL);
        if (pct) {
            e[0] = '%';
            e[1] = log_hex_upper[c >> 4];
            e[2] = log_hex_upper[c & 0xf];
            return 3;
        }
        break;
    default:
        /*
         * Raw values: Squid never has a CR or LF here (its parsers reject
         * them), but a line break must never split a log line, so show
         * them as the two-character sequences the other quotings use.
         */
        if (c == '\r' || c == '\n') {
            e[0] = '\\';
            e[1] = c == '\r' ? 'r' : 'n';
            return 2;
        }
        break;
    }
    e[0] = (char)c;
    return 1;
}

/*
 * Append <s>/<n> escaped with <q> to <o> (or only count when <o> is NULL),
 * stopping after <max> output bytes even inside an escape sequence, as
 * Squid's "%.*s" does.  Return the number of output bytes.
 */
static size_t
log_escape(struct log_out *o, const char *s, size_t n, int q, size_t max)
{
    size_t out = 0, i, k;
    char e[4];

    for (i = 0; i < n && out < max; i++) {
        k = log_escape_byte((unsigned char)s[i], q, e);
        if (k > max - out)
            k = max - out;
        if (o != NULL)
            log_out_put(o, e, k);
        out += k;
    }
    return out;
}

static void
log_pad(struct log_out *o, long n)
{
    static const char spaces[] = "                                ";

    while (n > 0) {
        size_t k = n > 32 ? 32 : (size_t)n;

        log_out_put(o, spaces, k);
        n -= (long)k;
    }
}

/* Append one field with Squid's width rules (see Format::assemble). */
static void
log_emit_field(struct log_out *o, const struct log_token *t, const char *s,
               size_t n, bool numeric)
{
    size_t max = SIZE_MAX, cnt;
    int q = numeric ? LOG_Q_RAW : t->quote;

    if (s == NULL || n == 0) {
        log_out_putc(o, '-');
        return;
    }
    if (t->wmax >= 0 && !numeric)
        max = (size_t)t->wmax;
    if (t->wmin <= 0) {
        log_escape(o, s, n, q, max);
        return;
    }
    cnt = log_escape(NULL, s, n, q, max);
    if (!(t->flags & LOG_T_LEFT))
        log_pad(o, (long)t->wmin - (long)cnt);
    log_escape(o, s, n, q, max);
    if (t->flags & LOG_T_LEFT)
        log_pad(o, (long)t->wmin - (long)cnt);
}

/* Format <v> into <buf> (>= LOG_WIDTH_MAX + 24 bytes), zero-padded. */
static size_t
log_fmt_int(char *buf, const struct log_token *t, uint64_t v)
{
    int zw = (t->flags & LOG_T_ZERO) && t->wmin > 0 ? t->wmin : 0;

    return (size_t)snprintf(buf, LOG_WIDTH_MAX + 24, "%0*" PRIu64, zw, v);
}

/* ---- time ---- */

static const char log_months[12][4] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* The end of the transaction: Squid logs the time it writes the line. */
static struct timeval
log_end_time(const struct rec *r)
{
    struct timeval tv;
    sk_msec_t d = r->duration_ms > 0 ? r->duration_ms : 0;
    int64_t us = (int64_t)r->start.tv_usec + (d % 1000) * 1000;

    tv.tv_sec = r->start.tv_sec + (time_t)(d / 1000) + (time_t)(us / 1000000);
    tv.tv_usec = (suseconds_t)(us % 1000000);
    return tv;
}

/*
 * Squid's "%d/%b/%Y:%H:%M:%S %z" (local, with the zone) or without the zone
 * (GMT), written by hand so neither the locale nor strftime is involved.
 */
static size_t
log_fmt_clf(char *buf, size_t len, const struct tm *tm, bool zone)
{
    long off = tm->tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    int n;

    if (off < 0)
        off = -off;
    n = snprintf(buf, len, "%02d/%s/%04d:%02d:%02d:%02d", tm->tm_mday,
                 log_months[tm->tm_mon % 12], tm->tm_year + 1900,
                 tm->tm_hour, tm->tm_min, tm->tm_sec);
    if (zone)
        n += snprintf(buf + n, len - (size_t)n, " %c%02ld%02ld", sign,
                      off / 60, off % 60);
    return (size_t)n;
}

/* One cached rendering of the default %tl / %tg per thread and second. */
struct log_time_cache {
    bool valid;
    time_t sec;
    size_t len;
    char s[48];
};

static _Thread_local struct log_time_cache log_tcache[2];

static size_t
log_fmt_time(char *buf, size_t len, const struct log_token *t, time_t sec)
{
    bool local = t->code == LF_TIME_LOCAL;
    struct log_time_cache *c = &log_tcache[local];
    struct tm tm;

    if (t->arg == NULL && c->valid && c->sec == sec) {
        memcpy(buf, c->s, c->len + 1);
        return c->len;
    }
    if (local)
        localtime_r(&sec, &tm);
    else
        gmtime_r(&sec, &tm);
    if (t->arg != NULL) {
        /* the operator's own strftime format, as Squid takes it */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        return strftime(buf, len, t->arg, &tm);
#pragma GCC diagnostic pop
    }
    c->len = log_fmt_clf(c->s, sizeof(c->s), &tm, local);
    c->sec = sec;
    c->valid = true;
    memcpy(buf, c->s, c->len + 1);
    return c->len;
}

/* %tr and %tS with a precision: "<int>.<fraction>" as Squid prints. */
static size_t
log_fmt_frac(char *buf, const struct log_token *t, int64_t whole, long frac)
{
    int prec = t->wmax;
    int zw = 0;

    if ((t->flags & LOG_T_ZERO) && t->wmin - prec - 1 >= 0)
        zw = t->wmin - prec - 1;
    return (size_t)snprintf(buf, LOG_WIDTH_MAX + 24, "%0*" PRId64 ".%0*ld",
                            zw, whole, prec, frac);
}

/* ---- values ---- */

/* A value to log: a string, a number already formatted, or nothing. */
struct log_val {
    const char *s;
    size_t n;
    bool numeric;
};

static void
log_val_str(struct log_val *v, const char *s)
{
    v->s = s;
    v->n = s != NULL ? strlen(s) : 0;
}

static void
log_val_int(struct log_val *v, char *tmp, const struct log_token *t,
            uint64_t i)
{
    v->n = log_fmt_int(tmp, t, i);
    v->s = tmp;
    v->numeric = true;
}

/* Look up a header of <hv>, with the record's own copies as fallback. */
static void
log_val_header(struct log_val *v, const struct rec *r,
               const struct log_token *t)
{
    const struct rec_headers *hv;
    const char *fallback = NULL;
    size_t len = 0;

    hv = t->code == LF_REQ_HEADER ? r->req_headers : r->rep_headers;
    v->s = NULL;
    if (hv != NULL && hv->lookup != NULL)
        v->s = hv->lookup(hv->ctx, t->arg, &len);
    if (v->s != NULL) {
        v->n = len;
        return;
    }
    if (t->code == LF_REQ_HEADER && sk_str_ieq(t->arg, t->arglen, "referer"))
        fallback = r->referer;
    else if (t->code == LF_REQ_HEADER &&
             sk_str_ieq(t->arg, t->arglen, "user-agent"))
        fallback = r->user_agent;
    else if (t->code == LF_REP_HEADER &&
             sk_str_ieq(t->arg, t->arglen, "content-type"))
        fallback = r->content_type;
    log_val_str(v, fallback);
}

static bool
log_has_addr(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET || ss->ss_family == AF_INET6;
}

/* Connection codes: addresses and ports. */
static void
log_val_conn(struct log_val *v, const struct rec *r,
             const struct log_token *t, char *tmp)
{
    const struct sockaddr_storage *ss;
    unsigned port;

    switch (t->code) {
    case LF_CLIENT_IP:
    case LF_LOCAL_IP:
    case LF_SERVER_IP:
        ss = t->code == LF_CLIENT_IP ? &r->client
             : t->code == LF_LOCAL_IP ? &r->local : &r->server;
        v->n = log_addr_ip(ss, tmp);
        v->s = tmp;
        return;
    case LF_CLIENT_PORT:
    case LF_LOCAL_PORT:
    case LF_SERVER_PORT:
        ss = t->code == LF_CLIENT_PORT ? &r->client
             : t->code == LF_LOCAL_PORT ? &r->local : &r->server;
        if (log_has_addr(ss))
            log_val_int(v, tmp, t, log_addr_port(ss));
        return;
    case LF_LISTEN_PORT:
        port = r->listener_port != 0 ? r->listener_port
                                     : log_addr_port(&r->local);
        if (port != 0)
            log_val_int(v, tmp, t, port);
        return;
    default:
        return;
    }
}

/* Time codes. */
static void
log_val_time(struct log_val *v, const struct rec *r,
             const struct log_token *t, char *tmp)
{
    struct timeval end = log_end_time(r);
    sk_msec_t d = r->duration_ms > 0 ? r->duration_ms : 0;

    v->s = tmp;
    v->numeric = true;
    switch (t->code) {
    case LF_TIME_SEC:
        v->n = log_fmt_int(tmp, t, (uint64_t)end.tv_sec);
        return;
    case LF_TIME_SUB:
        v->n = log_fmt_int(tmp, t, (uint64_t)end.tv_usec / t->divisor);
        return;
    case LF_TIME_RESP:
        if (t->wmax < 0)
            v->n = log_fmt_int(tmp, t, (uint64_t)d);
        else
            v->n = log_fmt_frac(tmp, t, d, 0);
        return;
    case LF_TIME_START:
        v->n = log_fmt_frac(tmp, t, (int64_t)r->start.tv_sec,
                            (long)(r->start.tv_usec / (long)t->divisor));
        return;
    default:
        v->numeric = false;
        v->n = log_fmt_time(tmp, 256, t, end.tv_sec);
        return;
    }
}

/* Length of the media type of <ct>: Squid logs it without parameters. */
static size_t
log_mime_len(const char *ct)
{
    return ct != NULL ? strcspn(ct, ";\t ") : 0;
}

static bool
log_is_connect(const struct rec *r)
{
    return r->method != NULL && strcmp(r->method, "CONNECT") == 0;
}

/* HTTP transaction codes. */
static void
log_val_http(struct log_val *v, const struct rec *r,
             const struct log_token *t, char *tmp)
{
    switch (t->code) {
    case LF_STATUS:
        log_val_int(v, tmp, t, r->status > 0 ? (uint64_t)r->status : 0);
        return;
    case LF_SERVER_STATUS:
        /* Only a reply from a server has one; tunnels have none. */
        if (r->hier != REC_HIER_NONE && r->status > 0 && !log_is_connect(r))
            log_val_int(v, tmp, t, (uint64_t)r->status);
        return;
    case LF_RESULT:
        log_val_str(v, r->result != NULL ? r->result : "NONE_NONE");
        return;
    case LF_HIER:
        log_val_str(v, log_hier_name(r->hier));
        return;
    case LF_MIME:
        v->s = r->content_type;
        v->n = log_mime_len(r->content_type);
        return;
    case LF_VERSION:
        v->n = (size_t)snprintf(tmp, 32, r->method != NULL ? "1.%d" : "0.0",
                                r->http_minor);
        v->s = tmp;
        return;
    case LF_PROTO_VERSION:
        v->n = (size_t)snprintf(tmp, 32, r->method != NULL ? "HTTP/1.%d"
                                                          : "NONE/0.0",
                                r->http_minor);
        v->s = tmp;
        return;
    default:
        return;
    }
}

/* Byte counters. */
static void
log_val_bytes(struct log_val *v, const struct rec *r,
              const struct log_token *t, char *tmp)
{
    uint64_t n;

    switch (t->code) {
    case LF_BYTES_TOTAL:
        n = r->bytes_in + r->bytes_out;
        break;
    case LF_BYTES_IN:
        n = r->bytes_in;
        break;
    case LF_BYTES_OUT:
        n = r->bytes_out;
        break;
    case LF_SERVER_BYTES_IN:
        n = r->server_bytes_in;
        break;
    case LF_SERVER_BYTES_OUT:
        n = r->server_bytes_out;
        break;
    default:
        /*
         * %<bs: "-" when no server sent an HTTP reply (nothing was
         * forwarded, or a tunnel), as in Squid.  skua counts all bytes
         * from the server, headers too, where Squid counts the body.
         */
        if (r->hier == REC_HIER_NONE || log_is_connect(r))
            return;
        n = r->server_bytes_in;
        break;
    }
    log_val_int(v, tmp, t, n);
}

/* Compute the value of token <t> for <r>; <tmp> holds >= 320 bytes. */
static void
log_value(struct log_val *v, const struct rec *r, const struct log_token *t,
          char *tmp)
{
    memset(v, 0, sizeof(*v));
    if (t->field != 0) {
        log_val_str(v, *(const char *const *)((const char *)r +
                                               t->field - 1));
        return;
    }
    switch (t->code) {
    case LF_PERCENT:
        log_val_str(v, "%");
        return;
    case LF_SERVER_NAME:
        /* the host a server connection went to; none without one */
        if (r->hier != REC_HIER_NONE)
            log_val_str(v, r->dst_host);
        return;
    case LF_URLPORT:
        if (r->dst_port != 0)
            log_val_int(v, tmp, t, r->dst_port);
        return;
    case LF_REQ_HEADER:
    case LF_REP_HEADER:
        log_val_header(v, r, t);
        return;
    case LF_DST_HOW:
        if (r->dst_how != REC_DST_NONE)
            log_val_str(v, log_dst_how_name(r->dst_how));
        return;
    case LF_DASH:
        return;
    case LF_CLIENT_IP: case LF_CLIENT_PORT: case LF_LOCAL_IP:
    case LF_LOCAL_PORT: case LF_LISTEN_PORT: case LF_SERVER_IP:
    case LF_SERVER_PORT:
        log_val_conn(v, r, t, tmp);
        return;
    case LF_TIME_SEC: case LF_TIME_SUB: case LF_TIME_LOCAL:
    case LF_TIME_GMT: case LF_TIME_RESP: case LF_TIME_START:
        log_val_time(v, r, t, tmp);
        return;
    case LF_BYTES_TOTAL: case LF_BYTES_IN: case LF_BYTES_OUT:
    case LF_SERVER_BYTES_IN: case LF_SERVER_BYTES_OUT: case LF_SERVER_BODY:
        log_val_bytes(v, r, t, tmp);
        return;
    default:
        log_val_http(v, r, t, tmp);
        return;
    }
}

bool
log_format_is_json(const struct log_format *f)
{
    return f->kind == LOG_KIND_JSON;
}

size_t
log_format_render(const struct log_format *f, const struct rec *rec,
                  char *buf, size_t len)
{
    struct log_out o;
    struct log_val v;
    char tmp[LOG_WIDTH_MAX + 64];
    size_t i;

    SK_CHECK_MAGIC(f, LOG_FORMAT_MAGIC);
    log_out_init(&o, buf, len);
    if (f->kind == LOG_KIND_JSON) {
        log_json_render(&o, rec, SIZE_MAX);
        return log_out_finish(&o);
    }
    for (i = 0; i < f->ntok; i++) {
        const struct log_token *t = &f->tok[i];

        if (t->code == LF_TEXT) {
            log_out_put(&o, t->arg, t->arglen);
            continue;
        }
        log_value(&v, rec, t, tmp);
        log_emit_field(&o, t, v.s, v.n, v.numeric);
    }
    return log_out_finish(&o);
}

/* ---- compiling ---- */

/* Set *<err> to "logformat NAME: <what> '<tok>'" for the token at <p>. */
static void
log_compile_error(char **err, const char *name, const char *what,
                  const char *p)
{
    size_t n = 1 + strcspn(p + 1, " \t%");
    size_t len = strlen(name) + strlen(what) + n + 32;

    *err = sk_malloc(len);
    snprintf(*err, len, "logformat %s: %s '%.*s'", name, what, (int)n, p);
}

static struct log_token *
log_add_token(struct log_format *f, size_t *cap)
{
    struct log_token *t;

    if (f->ntok == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        f->tok = sk_realloc(f->tok, *cap * sizeof(*f->tok));
    }
    t = &f->tok[f->ntok++];
    memset(t, 0, sizeof(*t));
    t->wmin = -1;
    t->wmax = -1;
    return t;
}

/*
 * Add the literal text <s>/<n> and track the quoting it opens or closes
 * for the codes that follow (Squid's Token::parse does the same).
 */
static void
log_add_text(struct log_format *f, size_t *cap, const char *s, size_t n,
             int *quoting)
{
    struct log_token *t = log_add_token(f, cap);
    size_t i;

    t->code = LF_TEXT;
    t->arg = sk_strndup(s, n);
    t->arglen = n;
    for (i = 0; i < n; i++) {
        if (s[i] == '"' && *quoting == LOG_Q_NONE)
            *quoting = LOG_Q_QUOTES;
        else if (s[i] == '"' && *quoting == LOG_Q_QUOTES)
            *quoting = LOG_Q_NONE;
        else if (s[i] == '[' && *quoting == LOG_Q_NONE)
            *quoting = LOG_Q_MIMEBLOB;
        else if (s[i] == ']' && *quoting == LOG_Q_MIMEBLOB)
            *quoting = LOG_Q_NONE;
    }
}

/* Find the longest code that starts <p>; return it, or NULL. */
static const struct log_code_def *
log_find_code(const char *p, bool internal)
{
    const struct log_code_def *best = NULL;
    size_t i, n, bestlen = 0;

    if (strncmp(p, "http::", 6) == 0 && p[6] != '%')
        p += 6;
    for (i = 0; i < SK_ARRAY_LEN(log_codes); i++) {
        if ((log_codes[i].flags & LF_F_INTERNAL) && !internal)
            continue;
        n = strlen(log_codes[i].name);
        if (n > bestlen && strncmp(p, log_codes[i].name, n) == 0) {
            best = &log_codes[i];
            bestlen = n;
        }
    }
    return best;
}

/* Parse "{...}" at *<pp> into <t>'s argument; return -1 if unterminated. */
static int
log_parse_arg(const char **pp, struct log_token *t)
{
    const char *p = *pp + 1;
    const char *end = strchr(p, '}');

    if (end == NULL)
        return -1;
    free(t->arg);
    t->arg = sk_strndup(p, (size_t)(end - p));
    t->arglen = (size_t)(end - p);
    *pp = end + 1;
    return 0;
}

/* Parse a number of at most LOG_WIDTH_MAX; return -1 if larger. */
static int
log_parse_width(const char **pp)
{
    long v = 0;
    const char *p = *pp;

    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > LOG_WIDTH_MAX)
            return -1;
    }
    *pp = p;
    return (int)v;
}

/* Codes that log one string member of struct rec as it is. */
static const struct {
    uint8_t code;
    uint16_t offset;
} log_str_fields[] = {
    { LF_USER, offsetof(struct rec, user) },
    { LF_DOMAIN, offsetof(struct rec, dst_host) },
    { LF_METHOD, offsetof(struct rec, method) },
    { LF_URL, offsetof(struct rec, url) },
    { LF_URLPATH, offsetof(struct rec, urlpath) },
    { LF_ERR_CODE, offsetof(struct rec, error) },
    { LF_SNI, offsetof(struct rec, sni) },
    { LF_ALPN, offsetof(struct rec, alpn) },
    { LF_PROTO, offsetof(struct rec, proto) },
    { LF_LISTENER, offsetof(struct rec, listener_name) },
};

/* Set the quoting, field and divisors that depend on the code of <t>. */
static void
log_finish_token(struct log_token *t, const struct log_code_def *def,
                 int quote)
{
    size_t k;
    int prec, i;

    t->code = def->code;
    for (k = 0; k < SK_ARRAY_LEN(log_str_fields); k++) {
        if (log_str_fields[k].code == t->code)
            t->field = (uint16_t)(log_str_fields[k].offset + 1);
    }
    t->quote = (uint8_t)quote;
    if (quote == LOG_Q_NONE && (def->flags & LF_F_QUOTE))
        t->quote = LOG_Q_PASSTHRU;
    if (t->code == LF_TIME_SUB || t->code == LF_TIME_START) {
        /* .N keeps N digits of the microseconds; %tu is ms by default */
        prec = t->wmax > 0 ? t->wmax : 3;
        if (t->code == LF_TIME_SUB && t->wmax <= 0)
            prec = 3;
        if (prec > 6)
            prec = 6;
        t->divisor = 1;
        for (i = prec; i < 6; i++)
            t->divisor *= 10;
        if (t->code == LF_TIME_START && t->wmax < 0)
            t->wmax = 3;
    }
}

/*
 * Parse the modifiers "[quote][-][0][width][.max]" at *<pp> into <t> and
 * *<quote>.  Return 0, or -1 when a width is too large.
 */
static int
log_parse_modifiers(const char **pp, struct log_token *t, int *quote)
{
    const char *p = *pp;
    int w;

    switch (*p) {
    case '"': *quote = LOG_Q_QUOTES; p++; break;
    case '\'': *quote = LOG_Q_RAW; p++; break;
    case '[': *quote = LOG_Q_MIMEBLOB; p++; break;
    case '#': *quote = LOG_Q_URL; p++; break;
    default: break;
    }
    if (*p == '-') {
        t->flags |= LOG_T_LEFT;
        p++;
    }
    if (*p == '0') {
        t->flags |= LOG_T_ZERO;
        p++;
    }
    if ((w = log_parse_width(&p)) < 0)
        return -1;
    if (w > 0 || (t->flags & LOG_T_ZERO))
        t->wmin = (int16_t)w;
    /* as in Squid, a '.' without digits is dropped */
    if (*p == '.' && *++p >= '0' && *p <= '9') {
        if ((w = log_parse_width(&p)) < 0)
            return -1;
        t->wmax = (int16_t)w;
    }
    *pp = p;
    return 0;
}

/*
 * Parse one %-code at *<pp> (which points at the '%') into a new token.
 * Return 0, or -1 with *<err> set.
 */
static int
log_parse_code(struct log_format *f, size_t *cap, const char **pp,
               int quoting, bool internal, char **err)
{
    const char *start = *pp, *p = *pp + 1;
    const struct log_code_def *def;
    struct log_token *t = log_add_token(f, cap);
    int quote = quoting;

    if (log_parse_modifiers(&p, t, &quote) == -1) {
        log_compile_error(err, f->name, "field width too large in", start);
        return -1;
    }
    if (*p == '{' && log_parse_arg(&p, t) == -1)
        goto unterminated;
    if ((def = log_find_code(p, internal)) == NULL) {
        log_compile_error(err, f->name, "unknown format code", start);
        return -1;
    }
    if (strncmp(p, "http::", 6) == 0)
        p += 6;
    p += strlen(def->name);
    if (t->arg == NULL && *p == '{' && log_parse_arg(&p, t) == -1)
        goto unterminated;
    if ((def->flags & LF_F_ARG) && (t->arg == NULL || t->arglen == 0)) {
        log_compile_error(err, f->name, "header name required in", start);
        return -1;
    }
    log_finish_token(t, def, quote);
    *pp = p;
    return 0;

unterminated:
    log_compile_error(err, f->name, "unterminated {argument} in", start);
    return -1;
}

static struct log_format *
log_format_compile_(const char *name, const char *spec, bool internal,
                    char **err)
{
    struct log_format *f = sk_calloc(1, sizeof(*f));
    const char *p = spec;
    size_t cap = 0, n;
    int quoting = LOG_Q_NONE;

    f->magic = LOG_FORMAT_MAGIC;
    f->name = sk_strdup(name);
    *err = NULL;
    while (*p != '\0') {
        n = strcspn(p, "%");
        if (n > 0) {
            log_add_text(f, &cap, p, n, &quoting);
            p += n;
            continue;
        }
        if (log_parse_code(f, &cap, &p, quoting, internal, err) == -1) {
            log_format_free(f);
            return NULL;
        }
    }
    return f;
}

struct log_format *
log_format_compile(const char *name, const char *spec, char **err)
{
    return log_format_compile_(name, spec, false, err);
}

void
log_format_free(struct log_format *f)
{
    size_t i;

    if (f == NULL || f->builtin)
        return;
    SK_CHECK_MAGIC(f, LOG_FORMAT_MAGIC);
    for (i = 0; i < f->ntok; i++)
        free(f->tok[i].arg);
    free(f->tok);
    free(f->name);
    f->magic = 0;
    free(f);
}

const char *
log_format_name(const struct log_format *f)
{
    return f->name;
}

struct log_format *
log_format_next(const struct log_format *f)
{
    return f->next;
}

void
log_format_set_next(struct log_format *f, struct log_format *next)
{
    f->next = next;
}

/* ---- built-in formats ---- */

/*
 * Squid's hard-wired formats (src/log/FormatSquidNative.cc,
 * FormatHttpdCommon.cc, FormatHttpdCombined.cc, FormatSquidReferer.cc,
 * FormatSquidUseragent.cc) written as logformat specifications.  They
 * differ from the logformat lines in Squid's documentation where the
 * hard-wired code prints a value raw ("%'rm") or with a fixed width
 * ("%9ts", from "%9ld"), and %_pv is "HTTP/1.1", or "NONE/0.0" when no
 * request was parsed.
 */
static const struct {
    const char *name;
    const char *spec;
} log_builtin_specs[] = {
    { "squid", "%9ts.%03tu %6tr %>a %Ss/%03>Hs %<st %'rm %ru %[un "
               "%Sh/%<a %mt" },
    { "common", "%>a %[ui %[un [%'tl] \"%'rm %'ru %_pv\" %>Hs %<st "
                "%Ss:%Sh" },
    { "combined", "%>a %[ui %[un [%'tl] \"%'rm %'ru %_pv\" %>Hs %<st "
                  "\"%'{Referer}>h\" \"%'{User-Agent}>h\" %Ss:%Sh" },
    { "referrer", "%9ts.%03tu %>a %'{Referer}>h %'ru" },
    { "useragent", "%>a [%'tl] \"%'{User-Agent}>h\"" },
    { "json", NULL },
};

static _Atomic(struct log_format *) log_builtins[SK_ARRAY_LEN(
    log_builtin_specs)];

const struct log_format *
log_format_builtin(const char *name)
{
    struct log_format *f, *expected = NULL;
    char *err = NULL;
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(log_builtin_specs); i++) {
        if (strcmp(name, log_builtin_specs[i].name) == 0)
            break;
    }
    if (i == SK_ARRAY_LEN(log_builtin_specs))
        return NULL;
    if ((f = atomic_load(&log_builtins[i])) != NULL)
        return f;
    if (log_builtin_specs[i].spec == NULL) {
        f = sk_calloc(1, sizeof(*f));
        f->magic = LOG_FORMAT_MAGIC;
        f->name = sk_strdup(name);
        f->kind = LOG_KIND_JSON;
    } else {
        f = log_format_compile_(name, log_builtin_specs[i].spec, true, &err);
        if (SK_BUG(f == NULL)) {
            free(err);
            return NULL;
        }
    }
    /* First caller wins; a thread that lost the race drops its copy. */
    f->builtin = true;
    if (!atomic_compare_exchange_strong(&log_builtins[i], &expected, f)) {
        f->builtin = false;
        log_format_free(f);
        return expected;
    }
    return f;
}
