/*
 * http_parse.c -- HTTP/1.x message heads and chunked bodies (RFC 9112).
 *
 * A strict, stateless, single-pass parser over a byte buffer: it fills a
 * struct http_msg with offsets into that buffer and decides the framing of
 * the body.  It allocates nothing and keeps no state between calls (the
 * chunked decoder keeps its state in the caller's struct http_chunked).
 *
 * Deliberately not done here: no I/O, no header rewriting (hop-by-hop
 * removal, Via, X-Forwarded-For belong to the HTTP layer), no URL
 * normalisation or percent-decoding, no keep-alive defaults by version
 * (flags only report what the fields said), and no comparison of an
 * absolute-form target with the Host field (RFC 9112 section 3.2.2 says the
 * target wins; the forwarding code rewrites Host).
 *
 * Choices where RFC 9112 lets a recipient pick:
 *   - up to HP_MAX_LEADING_CRLF empty lines before the start line are
 *     skipped, for requests and responses (section 2.2);
 *   - a bare LF line ending is an error (HTTP_PERR_BAD_HEADER), and so is a
 *     bare CR anywhere (HTTP_PERR_BARE_CR);
 *   - whitespace at the start of the first field line is HTTP_PERR_BAD_HEADER
 *     (section 2.2); at the start of a later one it is obs-fold
 *     (HTTP_PERR_OBS_FOLD, section 5.2);
 *   - an HTTP/1.1 request in absolute-form or authority-form may omit Host,
 *     because its target carries the authority; in origin-form Host is
 *     required; two Host fields or an invalid or empty one are always
 *     HTTP_PERR_BAD_HOST;
 *   - Content-Length may repeat (as a list or as several fields) only with
 *     identical values (RFC 9110 section 8.6); 0 gives HTTP_BODY_NONE with
 *     content_length 0 and HTTP_F_HAS_CL, in requests and responses;
 *   - transfer codings take no parameters; in a request every coding must be
 *     one we know (chunked, gzip, x-gzip, deflate, compress, x-compress;
 *     "identity" is not one) and chunked must be last; in a response an
 *     unknown coding without a final chunked means HTTP_BODY_CLOSE; chunked
 *     twice or not last is HTTP_PERR_BAD_TE in both;
 *   - Transfer-Encoding in any HTTP/1.0 message is HTTP_PERR_BAD_TE
 *     (section 6.1 says to treat the framing as faulty);
 *   - a status line may end right after the status code, without the SP
 *     that RFC 9112 section 4 requires, because real servers send that;
 *   - in absolute-form the path span holds path-abempty and query, so it
 *     may be empty or start with '?' (the forwarder prepends "/");
 *   - heads: max_line counts a line without its CRLF; chunked bodies:
 *     max_line and max_trailer count every byte, CRLFs included; a chunk
 *     size has at most 16 hex digits, and no whitespace may follow it
 *     unless a chunk-ext follows (BWS only around ';' and '=').
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "proto/http_parse.h"

#define HP_MAX_LEADING_CRLF 4

/* Character classes, one bit each, indexed by byte value. */
#define HP_TCHAR    0x01    /* token character, RFC 9110 section 5.6.2 */
#define HP_FIELD    0x02    /* field-content: VCHAR, obs-text, SP, HTAB */
#define HP_TARGET   0x04    /* request-target: VCHAR except '#' */
#define HP_REG      0x08    /* reg-name: unreserved, sub-delims, '%' */
#define HP_HEX      0x10
#define HP_DIGIT    0x20
#define HP_QDTEXT   0x40    /* quoted-string text, RFC 9110 5.6.4 */
#define HP_OWS      0x80    /* SP, HTAB */

static const uint8_t hp_class[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xc2, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xc2, 0x4f, 0x06, 0x43, 0x4f, 0x4f, 0x4f, 0x4f,
    0x4e, 0x4e, 0x4f, 0x4f, 0x4e, 0x4f, 0x4f, 0x46,
    0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f,
    0x7f, 0x7f, 0x46, 0x4e, 0x46, 0x4e, 0x46, 0x46,
    0x46, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x4f,
    0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
    0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
    0x4f, 0x4f, 0x4f, 0x46, 0x06, 0x46, 0x47, 0x4f,
    0x47, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x4f,
    0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
    0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f, 0x4f,
    0x4f, 0x4f, 0x4f, 0x46, 0x47, 0x46, 0x4f, 0x00,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
    0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
};

#define HP_IS(c, cls) ((hp_class[(unsigned char)(c)] & (cls)) != 0)

/*
 * Return the first position in [<p>, <e>) of <b> whose byte is not in
 * class <cls>, or <e>.  Unrolled: this loop is where heads spend their
 * time (field values, targets).
 */
static inline size_t
hp_scan(const char *b, size_t p, size_t e, unsigned cls)
{
    while (e - p >= 4) {
        if (!HP_IS(b[p], cls))
            return p;
        if (!HP_IS(b[p + 1], cls))
            return p + 1;
        if (!HP_IS(b[p + 2], cls))
            return p + 2;
        if (!HP_IS(b[p + 3], cls))
            return p + 3;
        p += 4;
    }
    while (p < e && HP_IS(b[p], cls))
        p++;
    return p;
}

#define HP_ONES  0x0101010101010101ULL
#define HP_HIGHS 0x8080808080808080ULL

/*
 * Like hp_scan(<b>, <p>, <e>, HP_FIELD), eight bytes at a time: a word
 * without a byte below 0x20 and without 0x7f holds only field-content (the
 * tests are exact for "any such byte", see "Bit Twiddling Hacks",
 * haszero/hasless).  Words with HTAB or a stop byte go byte by byte.
 */
static inline size_t
hp_scan_field(const char *b, size_t p, size_t e)
{
    uint64_t w, del;

    while (e - p >= 8) {
        memcpy(&w, b + p, 8);
        del = w ^ (HP_ONES * 0x7f);
        if ((((w - HP_ONES * 0x20) & ~w) |
                ((del - HP_ONES) & ~del)) & HP_HIGHS)
            break;
        p += 8;
    }
    return hp_scan(b, p, e, HP_FIELD);
}

static inline int
hp_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* True if <a> of <n> bytes equals the lower-case literal <lit> of <n>. */
static bool
hp_ieq(const char *a, size_t n, const char *lit, size_t litlen)
{
    size_t i;

    if (n != litlen)
        return false;
    for (i = 0; i < n; i++) {
        if (hp_lower((unsigned char)a[i]) != lit[i])
            return false;
    }
    return true;
}

#define HP_IEQ(a, n, lit) hp_ieq((a), (n), (lit), sizeof(lit) - 1)

static inline struct sk_span
hp_span(size_t off, size_t len)
{
    struct sk_span s = { (uint32_t)off, (uint32_t)len };

    return s;
}

/* Everything one call of the head parser needs, on the stack. */
struct hp_ctx {
    const char *buf;
    size_t len;
    size_t max_head;
    size_t max_line;
    unsigned max_hdrs;
    struct http_msg *msg;
    enum http_perr *err;
    bool is_req;
    unsigned n_host;
    bool conn_upgrade;          /* Connection lists "upgrade" */
    bool has_upgrade;           /* an Upgrade field is present */
    unsigned te_codings;        /* transfer codings seen so far */
    bool te_chunked;            /* chunked seen (it must be the last) */
};

static int
hp_fail(struct hp_ctx *x, enum http_perr e)
{
    *x->err = e;
    return SKUA_ERROR;
}

/* The buffer ended inside the head: wait for more unless it is too big. */
static int
hp_more(struct hp_ctx *x)
{
    if (x->len > x->max_head)
        return hp_fail(x, HTTP_PERR_TOO_BIG);
    return SKUA_AGAIN;
}

/* Where a scan of the line starting at <ls> must stop looking. */
static inline size_t
hp_scan_end(const struct hp_ctx *x, size_t ls)
{
    return x->len - ls > x->max_line ? ls + x->max_line + 1 : x->len;
}

/*
 * Classify the position <q> where a scan of the line starting at <ls>
 * stopped.  Return SKUA_OK with *<next> after the CRLF if <q> is the line
 * end, SKUA_AGAIN if the buffer ends there, SKUA_ERROR (with the error set)
 * for an overlong line, a bare CR or a bare LF, and SKUA_DECLINED if <q>
 * holds some other byte, which the caller reports in its own terms.
 */
static int
hp_eol(struct hp_ctx *x, size_t q, size_t ls, size_t *next)
{
    if (q - ls > x->max_line)
        return hp_fail(x, HTTP_PERR_LINE_TOO_LONG);
    if (q == x->len)
        return hp_more(x);
    if (x->buf[q] == '\r') {
        if (q + 1 == x->len)
            return hp_more(x);
        if (x->buf[q + 1] != '\n')
            return hp_fail(x, HTTP_PERR_BARE_CR);
        if (q + 2 > x->max_head)
            return hp_fail(x, HTTP_PERR_TOO_BIG);
        *next = q + 2;
        return SKUA_OK;
    }
    if (x->buf[q] == '\n')
        return hp_fail(x, HTTP_PERR_BAD_HEADER);
    return SKUA_DECLINED;
}

/* Map a line end or a stray byte after a failed scan to error <e>. */
static int
hp_stop(struct hp_ctx *x, int r, enum http_perr e)
{
    if (r == SKUA_OK || r == SKUA_DECLINED)
        return hp_fail(x, e);
    return r;
}

/* ---- small public helpers ---- */

enum http_method
http_method_id(const char *s, size_t len)
{
    /* Methods are case-sensitive (RFC 9110 section 9.1). */
    switch (len) {
    case 3:
        if (memcmp(s, "GET", 3) == 0)
            return HTTP_M_GET;
        if (memcmp(s, "PUT", 3) == 0)
            return HTTP_M_PUT;
        break;
    case 4:
        if (memcmp(s, "POST", 4) == 0)
            return HTTP_M_POST;
        if (memcmp(s, "HEAD", 4) == 0)
            return HTTP_M_HEAD;
        break;
    case 5:
        if (memcmp(s, "TRACE", 5) == 0)
            return HTTP_M_TRACE;
        if (memcmp(s, "PATCH", 5) == 0)
            return HTTP_M_PATCH;
        break;
    case 6:
        if (memcmp(s, "DELETE", 6) == 0)
            return HTTP_M_DELETE;
        break;
    case 7:
        if (memcmp(s, "CONNECT", 7) == 0)
            return HTTP_M_CONNECT;
        if (memcmp(s, "OPTIONS", 7) == 0)
            return HTTP_M_OPTIONS;
        break;
    default:
        break;
    }
    return HTTP_M_OTHER;
}

const char *
http_perr_str(enum http_perr err)
{
    switch (err) {
    case HTTP_PERR_NONE:             return "no error";
    case HTTP_PERR_TOO_BIG:          return "header section too large";
    case HTTP_PERR_TOO_MANY_HEADERS: return "too many header fields";
    case HTTP_PERR_LINE_TOO_LONG:    return "line too long";
    case HTTP_PERR_BAD_METHOD:       return "invalid method";
    case HTTP_PERR_BAD_TARGET:       return "invalid request-target";
    case HTTP_PERR_BAD_VERSION:      return "unsupported HTTP version";
    case HTTP_PERR_BAD_STATUS:       return "invalid status line";
    case HTTP_PERR_BAD_HEADER:       return "invalid header field line";
    case HTTP_PERR_OBS_FOLD:         return "obsolete line folding";
    case HTTP_PERR_BARE_CR:          return "bare CR";
    case HTTP_PERR_BAD_CL:           return "invalid Content-Length";
    case HTTP_PERR_BAD_TE:           return "invalid Transfer-Encoding";
    case HTTP_PERR_TE_AND_CL:
        return "both Transfer-Encoding and Content-Length";
    case HTTP_PERR_BAD_HOST:         return "missing or invalid Host";
    case HTTP_PERR_BAD_CHUNK:        return "invalid chunked encoding";
    }
    return "unknown error";
}

const struct http_hdr *
http_msg_find(const struct http_msg *msg, enum http_hdr_id id)
{
    unsigned i;

    for (i = 0; i < msg->n_hdrs; i++) {
        if (msg->hdrs[i].id == id)
            return &msg->hdrs[i];
    }
    return NULL;
}

const struct http_hdr *
http_msg_find_name(const struct http_msg *msg, const char *buf,
                   const char *name)
{
    size_t n = strlen(name), j;
    unsigned i;

    for (i = 0; i < msg->n_hdrs; i++) {
        const struct http_hdr *h = &msg->hdrs[i];
        const char *p = buf + h->name.off;

        if (h->name.len != n)
            continue;
        for (j = 0; j < n; j++) {
            if (hp_lower((unsigned char)p[j]) !=
                    hp_lower((unsigned char)name[j]))
                break;
        }
        if (j == n)
            return h;
    }
    return NULL;
}

/* Check "[v6]" contents <s,len>: hex, ':' and '.', then inet_pton(). */
static bool
hp_is_ipv6(const char *s, size_t len)
{
    char tmp[INET6_ADDRSTRLEN];
    struct in6_addr a6;
    size_t i;

    if (len == 0 || len >= sizeof(tmp))
        return false;
    for (i = 0; i < len; i++) {
        if (!HP_IS(s[i], HP_HEX) && s[i] != ':' && s[i] != '.')
            return false;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return inet_pton(AF_INET6, tmp, &a6) == 1;
}

/* Check a reg-name or IPv4 address: unreserved, sub-delims, %XX. */
static bool
hp_is_reg_name(const char *s, size_t len)
{
    size_t i;

    if (len == 0)
        return false;
    for (i = 0; i < len; i++) {
        if (!HP_IS(s[i], HP_REG))
            return false;
        if (s[i] == '%') {
            if (len - i < 3 || !HP_IS(s[i + 1], HP_HEX) ||
                    !HP_IS(s[i + 2], HP_HEX))
                return false;
            i += 2;
        }
    }
    return true;
}

int
http_parse_authority(const char *s, size_t len, size_t *host_off,
                     size_t *host_len, uint16_t *port)
{
    size_t i, hl;
    uint32_t v = 0;

    if (len == 0)
        return -1;
    if (s[0] == '[') {
        const char *rb = memchr(s, ']', len);

        if (rb == NULL || !hp_is_ipv6(s + 1, (size_t)(rb - s) - 1))
            return -1;
        *host_off = 1;
        hl = (size_t)(rb - s) - 1;
        i = hl + 2;
    } else {
        const char *colon = memchr(s, ':', len);

        hl = colon != NULL ? (size_t)(colon - s) : len;
        if (!hp_is_reg_name(s, hl))
            return -1;
        *host_off = 0;
        i = hl;
    }
    *host_len = hl;
    *port = 0;
    if (i == len)
        return 0;
    /* After the host only ":" port may follow; an empty port is refused. */
    if (s[i] != ':' || i + 1 == len)
        return -1;
    for (i++; i < len; i++) {
        if (!HP_IS(s[i], HP_DIGIT))
            return -1;
        v = v * 10 + (uint32_t)(s[i] - '0');
        if (v > 65535)
            return -1;
    }
    if (v == 0)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

/* ---- field names ---- */

#define HP_TRY(lit, hid) \
    do { if (HP_IEQ(n, len, lit)) return (hid); } while (0)

/*
 * Recognise a field name: the length picks at most three candidates and
 * the first differing byte ends each comparison.
 */
static enum http_hdr_id
hp_hdr_id(const char *n, size_t len)
{
    switch (len) {
    case 2:  HP_TRY("te", HTTP_H_TE); break;
    case 3:  HP_TRY("via", HTTP_H_VIA); break;
    case 4:
        HP_TRY("host", HTTP_H_HOST);
        HP_TRY("date", HTTP_H_DATE);
        break;
    case 6:
        HP_TRY("expect", HTTP_H_EXPECT);
        HP_TRY("server", HTTP_H_SERVER);
        break;
    case 7:
        HP_TRY("upgrade", HTTP_H_UPGRADE);
        HP_TRY("trailer", HTTP_H_TRAILER);
        HP_TRY("referer", HTTP_H_REFERER);
        break;
    case 9:  HP_TRY("forwarded", HTTP_H_FORWARDED); break;
    case 10:
        HP_TRY("connection", HTTP_H_CONNECTION);
        HP_TRY("user-agent", HTTP_H_USER_AGENT);
        HP_TRY("keep-alive", HTTP_H_KEEP_ALIVE);
        break;
    case 12:
        HP_TRY("content-type", HTTP_H_CONTENT_TYPE);
        HP_TRY("max-forwards", HTTP_H_MAX_FORWARDS);
        break;
    case 14: HP_TRY("content-length", HTTP_H_CONTENT_LENGTH); break;
    case 15: HP_TRY("x-forwarded-for", HTTP_H_X_FORWARDED_FOR); break;
    case 16: HP_TRY("proxy-connection", HTTP_H_PROXY_CONNECTION); break;
    case 17: HP_TRY("transfer-encoding", HTTP_H_TRANSFER_ENCODING); break;
    case 18: HP_TRY("proxy-authenticate", HTTP_H_PROXY_AUTHENTICATE); break;
    case 19:
        HP_TRY("proxy-authorization", HTTP_H_PROXY_AUTHORIZATION);
        break;
    default:
        break;
    }
    return HTTP_H_OTHER;
}

/*
 * Step through a comma-separated list in <b> ending at <end>: store the
 * next element, OWS trimmed, in *<s> and *<l> and advance *<pos>.  Return
 * false when the list is exhausted.  An empty value is one empty element.
 */
static bool
hp_list_next(const char *b, size_t end, size_t *pos, size_t *s, size_t *l)
{
    size_t p = *pos, q, e;

    if (p > end)
        return false;
    while (p < end && HP_IS(b[p], HP_OWS))
        p++;
    q = p;
    while (q < end && b[q] != ',')
        q++;
    e = q;
    while (e > p && HP_IS(b[e - 1], HP_OWS))
        e--;
    *s = p;
    *l = e - p;
    *pos = q + 1;
    return true;
}

/* ---- start lines ---- */

/*
 * Check that <s,n> is a prefix of "HTTP/1.0" or "HTTP/1.1"; when it is all
 * eight bytes store the minor version in *<minor>.
 */
static bool
hp_version_prefix(const char *s, size_t n, int *minor)
{
    if (n > 8 || memcmp(s, "HTTP/1.", n < 7 ? n : 7) != 0)
        return false;
    if (n == 8) {
        if (s[7] != '0' && s[7] != '1')
            return false;
        *minor = s[7] - '0';
    }
    return true;
}

/* Fill host/port/path of an absolute-form target <t,tl> at <off>. */
static int
hp_target_absolute(struct hp_ctx *x, const char *t, size_t tl, size_t off)
{
    struct http_msg *m = x->msg;
    size_t i, a, ho, hl;

    for (i = 0; i < tl && t[i] != ':'; i++)
        ;
    if (!(HP_IEQ(t, i, "http") || HP_IEQ(t, i, "https")))
        return hp_fail(x, HTTP_PERR_BAD_TARGET);
    if (tl - i < 3 || t[i + 1] != '/' || t[i + 2] != '/')
        return hp_fail(x, HTTP_PERR_BAD_TARGET);
    for (a = i + 3; a < tl && t[a] != '/' && t[a] != '?'; a++)
        ;
    if (http_parse_authority(t + i + 3, a - i - 3, &ho, &hl, &m->port) != 0)
        return hp_fail(x, HTTP_PERR_BAD_TARGET);
    m->form = HTTP_FORM_ABSOLUTE;
    m->scheme = hp_span(off, i);
    m->host = hp_span(off + i + 3 + ho, hl);
    m->path = hp_span(off + a, tl - a);
    return SKUA_OK;
}

/* Decide the form of the request-target (RFC 9112 section 3.2). */
static int
hp_target(struct hp_ctx *x)
{
    struct http_msg *m = x->msg;
    const char *t = x->buf + m->target.off;
    size_t tl = m->target.len, ho, hl;

    if (m->method == HTTP_M_CONNECT) {
        /* authority-form, and the port is not optional here */
        if (http_parse_authority(t, tl, &ho, &hl, &m->port) != 0 ||
                m->port == 0)
            return hp_fail(x, HTTP_PERR_BAD_TARGET);
        m->form = HTTP_FORM_AUTHORITY;
        m->host = hp_span(m->target.off + ho, hl);
        m->path = hp_span(m->target.off + tl, 0);
        return SKUA_OK;
    }
    if (t[0] == '/') {
        m->form = HTTP_FORM_ORIGIN;
        m->path = m->target;
        return SKUA_OK;
    }
    if (tl == 1 && t[0] == '*') {
        if (m->method != HTTP_M_OPTIONS)
            return hp_fail(x, HTTP_PERR_BAD_TARGET);
        m->form = HTTP_FORM_ASTERISK;
        m->path = m->target;
        return SKUA_OK;
    }
    return hp_target_absolute(x, t, tl, m->target.off);
}

/*
 * Parse the request line starting at <ls>: method SP target SP version
 * CRLF, each part checked as soon as its bytes are there so that garbage
 * is refused before the line is complete.
 */
static int
hp_request_line(struct hp_ctx *x, size_t ls, size_t *next)
{
    const char *b = x->buf;
    struct http_msg *m = x->msg;
    size_t e = hp_scan_end(x, ls), p = ls, t0, v0;
    bool sp;
    int r;

    p = hp_scan(b, p, e, HP_TCHAR);
    if (p == e || b[p] != ' ')
        return hp_stop(x, hp_eol(x, p, ls, next), HTTP_PERR_BAD_METHOD);
    if (p == ls)
        return hp_fail(x, HTTP_PERR_BAD_METHOD);
    m->method_s = hp_span(ls, p - ls);
    m->method = http_method_id(b + ls, p - ls);

    t0 = ++p;
    p = hp_scan(b, p, e, HP_TARGET);
    if (p == e || b[p] != ' ') {
        r = hp_eol(x, p, ls, next);
        if (r == SKUA_OK && p > t0)
            return hp_fail(x, HTTP_PERR_BAD_VERSION);   /* HTTP/0.9 */
        return hp_stop(x, r, HTTP_PERR_BAD_TARGET);
    }
    if (p == t0)
        return hp_fail(x, HTTP_PERR_BAD_TARGET);
    m->target = hp_span(t0, p - t0);

    v0 = ++p;
    p = hp_scan(b, p, e, HP_TARGET);
    /* A space after a non-version word means the target had a space. */
    sp = p < e && b[p] == ' ';
    if (!hp_version_prefix(b + v0, p - v0, &m->version_minor))
        return hp_fail(x, sp ? HTTP_PERR_BAD_TARGET : HTTP_PERR_BAD_VERSION);
    r = hp_eol(x, p, ls, next);
    if (r == SKUA_AGAIN || r == SKUA_ERROR)
        return r;
    if (r == SKUA_DECLINED || p - v0 != 8)
        return hp_fail(x, HTTP_PERR_BAD_VERSION);
    return hp_target(x);
}

/* Parse "HTTP/1.x SP 3DIGIT [SP reason] CRLF" starting at <ls>. */
static int
hp_status_line(struct hp_ctx *x, size_t ls, size_t *next)
{
    const char *b = x->buf;
    struct http_msg *m = x->msg;
    size_t e = hp_scan_end(x, ls), p = ls, r0;
    int r, i;

    p = hp_scan(b, p, e, HP_TARGET);
    if (!hp_version_prefix(b + ls, p - ls, &m->version_minor))
        return hp_fail(x, HTTP_PERR_BAD_VERSION);
    if (p == e || b[p] != ' ' || p - ls != 8)
        return hp_stop(x, hp_eol(x, p, ls, next), p - ls == 8
                       ? HTTP_PERR_BAD_STATUS : HTTP_PERR_BAD_VERSION);
    p++;
    m->status = 0;
    for (i = 0; i < 3; i++, p++) {
        if (p == e || !HP_IS(b[p], HP_DIGIT))
            return hp_stop(x, hp_eol(x, p, ls, next), HTTP_PERR_BAD_STATUS);
        m->status = m->status * 10 + (b[p] - '0');
    }
    if (m->status < 100)
        return hp_fail(x, HTTP_PERR_BAD_STATUS);
    r0 = p;
    if (p < e && b[p] == ' ') {
        r0 = ++p;
        p = hp_scan_field(b, p, e);
    }
    m->reason = hp_span(r0, p - r0);
    r = hp_eol(x, p, ls, next);
    return r == SKUA_DECLINED ? hp_fail(x, HTTP_PERR_BAD_STATUS) : r;
}

/* ---- field semantics ---- */

static int
hp_content_length(struct hp_ctx *x, const struct http_hdr *h)
{
    struct http_msg *m = x->msg;
    size_t pos = h->value.off, end = h->value.off + h->value.len, s, l, i;
    uint64_t v;

    while (hp_list_next(x->buf, end, &pos, &s, &l)) {
        if (l == 0)
            return hp_fail(x, HTTP_PERR_BAD_CL);
        v = 0;
        for (i = s; i < s + l; i++) {
            unsigned d = (unsigned)(x->buf[i] - '0');

            if (!HP_IS(x->buf[i], HP_DIGIT) || v > (UINT64_MAX - d) / 10)
                return hp_fail(x, HTTP_PERR_BAD_CL);
            v = v * 10 + d;
        }
        /* RFC 9110 section 8.6: repeats must all carry the same value. */
        if ((m->flags & HTTP_F_HAS_CL) && v != m->content_length)
            return hp_fail(x, HTTP_PERR_BAD_CL);
        m->flags |= HTTP_F_HAS_CL;
        m->content_length = v;
    }
    return SKUA_OK;
}

/* True for the transfer codings a request may carry besides chunked. */
static bool
hp_known_coding(const char *s, size_t l)
{
    return HP_IEQ(s, l, "gzip") || HP_IEQ(s, l, "x-gzip") ||
           HP_IEQ(s, l, "deflate") || HP_IEQ(s, l, "compress") ||
           HP_IEQ(s, l, "x-compress");
}

/*
 * Transfer-Encoding, RFC 9112 section 6.1: codings accumulate over all
 * fields in order; chunked may appear once and only last.
 */
static int
hp_transfer_encoding(struct hp_ctx *x, const struct http_hdr *h)
{
    size_t pos = h->value.off, end = h->value.off + h->value.len, s, l, i;

    x->msg->flags |= HTTP_F_HAS_TE;
    while (hp_list_next(x->buf, end, &pos, &s, &l)) {
        if (l == 0)
            continue;
        for (i = s; i < s + l; i++) {
            if (!HP_IS(x->buf[i], HP_TCHAR))
                return hp_fail(x, HTTP_PERR_BAD_TE);
        }
        if (x->te_chunked)
            return hp_fail(x, HTTP_PERR_BAD_TE);
        if (HP_IEQ(x->buf + s, l, "chunked"))
            x->te_chunked = true;
        else if (x->is_req && !hp_known_coding(x->buf + s, l))
            return hp_fail(x, HTTP_PERR_BAD_TE);
        x->te_codings++;
    }
    return SKUA_OK;
}

/* Connection, Proxy-Connection and Expect: set flags from list tokens. */
static void
hp_tokens(struct hp_ctx *x, const struct http_hdr *h)
{
    struct http_msg *m = x->msg;
    size_t pos = h->value.off, end = h->value.off + h->value.len, s, l;
    const char *b = x->buf;

    while (hp_list_next(b, end, &pos, &s, &l)) {
        switch (h->id) {
        case HTTP_H_CONNECTION:
            if (HP_IEQ(b + s, l, "close"))
                m->flags |= HTTP_F_CONN_CLOSE;
            else if (HP_IEQ(b + s, l, "keep-alive"))
                m->flags |= HTTP_F_CONN_KEEPALIVE;
            else if (HP_IEQ(b + s, l, "upgrade"))
                x->conn_upgrade = true;
            break;
        case HTTP_H_PROXY_CONNECTION:
            if (HP_IEQ(b + s, l, "close"))
                m->flags |= HTTP_F_PROXY_CLOSE;
            else if (HP_IEQ(b + s, l, "keep-alive"))
                m->flags |= HTTP_F_PROXY_KEEPALIVE;
            break;
        default:
            if (HP_IEQ(b + s, l, "100-continue"))
                m->flags |= HTTP_F_EXPECT_100;
            break;
        }
    }
}

static int
hp_host(struct hp_ctx *x, const struct http_hdr *h)
{
    struct http_msg *m = x->msg;
    size_t ho, hl;
    uint16_t port;

    m->flags |= HTTP_F_HAS_HOST;
    if (m->host_hdr < 0)
        m->host_hdr = (int)(h - m->hdrs);
    if (!x->is_req)
        return SKUA_OK;
    if (++x->n_host > 1 ||
            http_parse_authority(x->buf + h->value.off, h->value.len,
                                 &ho, &hl, &port) != 0)
        return hp_fail(x, HTTP_PERR_BAD_HOST);
    return SKUA_OK;
}

/* Act on a recognised field. */
static int
hp_field_semantics(struct hp_ctx *x, const struct http_hdr *h)
{
    switch (h->id) {
    case HTTP_H_HOST:
        return hp_host(x, h);
    case HTTP_H_CONTENT_LENGTH:
        return hp_content_length(x, h);
    case HTTP_H_TRANSFER_ENCODING:
        return hp_transfer_encoding(x, h);
    case HTTP_H_CONNECTION:
    case HTTP_H_PROXY_CONNECTION:
    case HTTP_H_EXPECT:
        hp_tokens(x, h);
        return SKUA_OK;
    case HTTP_H_UPGRADE:
        x->has_upgrade = true;
        return SKUA_OK;
    default:
        return SKUA_OK;
    }
}

/*
 * Parse one field line starting at <ls> (its first byte is neither CR, LF
 * nor whitespace) into the next slot of msg->hdrs.
 */
static int
hp_field_line(struct hp_ctx *x, size_t ls, size_t *next)
{
    const char *b = x->buf;
    struct http_msg *m = x->msg;
    size_t e = hp_scan_end(x, ls), p = ls, v0, v1;
    struct http_hdr *h;
    int r;

    p = hp_scan(b, p, e, HP_TCHAR);
    if (p == e || b[p] != ':') {
        /* RFC 9112 section 5.1: no whitespace before the colon */
        if (p < e && HP_IS(b[p], HP_OWS))
            return hp_fail(x, HTTP_PERR_BAD_HEADER);
        return hp_stop(x, hp_eol(x, p, ls, next), HTTP_PERR_BAD_HEADER);
    }
    if (p == ls)
        return hp_fail(x, HTTP_PERR_BAD_HEADER);
    v1 = p++;
    p = hp_scan(b, p, e, HP_OWS);
    v0 = p;
    p = hp_scan_field(b, p, e);
    r = hp_eol(x, p, ls, next);
    if (r != SKUA_OK)
        return hp_stop(x, r, HTTP_PERR_BAD_HEADER);

    h = &m->hdrs[m->n_hdrs++];
    h->name = hp_span(ls, v1 - ls);
    while (p > v0 && HP_IS(b[p - 1], HP_OWS))
        p--;
    h->value = hp_span(v0, p - v0);
    h->id = hp_hdr_id(b + ls, v1 - ls);
    return h->id == HTTP_H_OTHER ? SKUA_OK : hp_field_semantics(x, h);
}

/* Parse field lines from <pos> up to and including the empty line. */
static int
hp_fields(struct hp_ctx *x, size_t pos)
{
    const char *b = x->buf;
    struct http_msg *m = x->msg;
    bool first = true;
    int r;

    for (;;) {
        if (pos == x->len)
            return hp_more(x);
        if (b[pos] == '\r') {
            if (pos + 1 == x->len)
                return hp_more(x);
            if (b[pos + 1] != '\n')
                return hp_fail(x, HTTP_PERR_BARE_CR);
            if (pos + 2 > x->max_head)
                return hp_fail(x, HTTP_PERR_TOO_BIG);
            m->head_len = pos + 2;
            return SKUA_OK;
        }
        if (b[pos] == '\n')
            return hp_fail(x, HTTP_PERR_BAD_HEADER);
        if (HP_IS(b[pos], HP_OWS))
            return hp_fail(x, first ? HTTP_PERR_BAD_HEADER
                                    : HTTP_PERR_OBS_FOLD);
        if (m->n_hdrs >= x->max_hdrs || m->n_hdrs >= m->max_hdrs_alloc)
            return hp_fail(x, HTTP_PERR_TOO_MANY_HEADERS);
        r = hp_field_line(x, pos, &pos);
        if (r != SKUA_OK)
            return r;
        first = false;
    }
}

/* ---- whole heads ---- */

static void
hp_init(struct hp_ctx *x, const char *buf, size_t len,
        const struct http_limits *lim, struct http_msg *msg,
        enum http_perr *err, bool is_req)
{
    memset(x, 0, sizeof(*x));
    x->buf = buf;
    x->len = len;
    /* Offsets are 32-bit (struct sk_span), so no head may pass 4 GiB. */
    x->max_head = lim->max_head < UINT32_MAX ? lim->max_head : UINT32_MAX;
    x->max_line = lim->max_line < UINT32_MAX ? lim->max_line : UINT32_MAX;
    x->max_hdrs = lim->max_hdrs;
    x->msg = msg;
    x->err = err;
    x->is_req = is_req;
    *err = HTTP_PERR_NONE;

    msg->method = HTTP_M_OTHER;
    msg->method_s = msg->target = msg->scheme = hp_span(0, 0);
    msg->host = msg->path = msg->reason = hp_span(0, 0);
    msg->form = HTTP_FORM_ORIGIN;
    msg->port = 0;
    msg->status = 0;
    msg->version_minor = 0;
    msg->n_hdrs = 0;
    msg->body = HTTP_BODY_NONE;
    msg->content_length = 0;
    msg->flags = 0;
    msg->host_hdr = -1;
    msg->head_len = 0;
}

/* Skip up to HP_MAX_LEADING_CRLF empty lines (RFC 9112 section 2.2). */
static int
hp_leading_crlf(struct hp_ctx *x, size_t *pos)
{
    int i;

    for (i = 0; i < HP_MAX_LEADING_CRLF; i++) {
        if (*pos == x->len)
            return hp_more(x);
        if (x->buf[*pos] != '\r')
            break;
        if (*pos + 1 == x->len)
            return hp_more(x);
        if (x->buf[*pos + 1] != '\n')
            return hp_fail(x, HTTP_PERR_BARE_CR);
        *pos += 2;
    }
    return SKUA_OK;
}

/* Framing checks shared by requests and responses, after the head. */
static int
hp_finish_common(struct hp_ctx *x)
{
    struct http_msg *m = x->msg;

    if (x->conn_upgrade && x->has_upgrade)
        m->flags |= HTTP_F_UPGRADE;
    if (!(m->flags & HTTP_F_HAS_TE))
        return SKUA_OK;
    /* RFC 9112 section 6.1: TE with CL is smuggling bait; refuse it. */
    if (m->flags & HTTP_F_HAS_CL)
        return hp_fail(x, HTTP_PERR_TE_AND_CL);
    if (x->te_codings == 0 || m->version_minor == 0)
        return hp_fail(x, HTTP_PERR_BAD_TE);
    return SKUA_OK;
}

static int
hp_finish_request(struct hp_ctx *x)
{
    struct http_msg *m = x->msg;

    if (hp_finish_common(x) != SKUA_OK)
        return SKUA_ERROR;
    if (x->n_host == 0 && m->version_minor == 1 &&
            m->form != HTTP_FORM_ABSOLUTE && m->form != HTTP_FORM_AUTHORITY)
        return hp_fail(x, HTTP_PERR_BAD_HOST);
    if (m->flags & HTTP_F_HAS_TE) {
        if (!x->te_chunked)
            return hp_fail(x, HTTP_PERR_BAD_TE);
        m->body = HTTP_BODY_CHUNKED;
    } else if (m->content_length > 0) {
        m->body = HTTP_BODY_LENGTH;
    } else {
        m->body = HTTP_BODY_NONE;
    }
    return SKUA_OK;
}

/* RFC 9112 section 6.3, in the order the rules are given there. */
static int
hp_finish_response(struct hp_ctx *x, enum http_method req_method)
{
    struct http_msg *m = x->msg;

    if (hp_finish_common(x) != SKUA_OK)
        return SKUA_ERROR;
    if (req_method == HTTP_M_HEAD || m->status < 200 || m->status == 204 ||
            m->status == 304)
        m->body = HTTP_BODY_NONE;
    else if (req_method == HTTP_M_CONNECT && m->status < 300)
        m->body = HTTP_BODY_TUNNEL;
    else if (m->flags & HTTP_F_HAS_TE)
        m->body = x->te_chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_CLOSE;
    else if (m->flags & HTTP_F_HAS_CL)
        m->body = m->content_length > 0 ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
    else
        m->body = HTTP_BODY_CLOSE;
    return SKUA_OK;
}

int
http_parse_request(const char *buf, size_t len,
                   const struct http_limits *lim, struct http_msg *msg,
                   enum http_perr *err)
{
    struct hp_ctx x;
    size_t pos = 0;
    int r;

    hp_init(&x, buf, len, lim, msg, err, true);
    r = hp_leading_crlf(&x, &pos);
    if (r == SKUA_OK)
        r = hp_request_line(&x, pos, &pos);
    if (r == SKUA_OK)
        r = hp_fields(&x, pos);
    if (r == SKUA_OK)
        r = hp_finish_request(&x);
    return r;
}

int
http_parse_response(const char *buf, size_t len,
                    const struct http_limits *lim,
                    enum http_method req_method, struct http_msg *msg,
                    enum http_perr *err)
{
    struct hp_ctx x;
    size_t pos = 0;
    int r;

    hp_init(&x, buf, len, lim, msg, err, false);
    r = hp_leading_crlf(&x, &pos);
    if (r == SKUA_OK)
        r = hp_status_line(&x, pos, &pos);
    if (r == SKUA_OK)
        r = hp_fields(&x, pos);
    if (r == SKUA_OK)
        r = hp_finish_response(&x, req_method);
    return r;
}

/* ---- chunked transfer coding, RFC 9112 section 7.1 ---- */

enum {
    CK_SIZE0 = 0,       /* first hex digit of chunk-size */
    CK_SIZE,            /* further hex digits */
    CK_EXT_BWS,         /* BWS after the size or a value, before ';' */
    CK_EXT_SEMI,        /* after ';': BWS, then an extension name */
    CK_EXT_NAME,
    CK_EXT_NAME_BWS,    /* BWS after a name: '=' or ';' next */
    CK_EXT_EQ,          /* after '=': BWS, then a value */
    CK_EXT_TOKEN,
    CK_EXT_QUOTED,
    CK_EXT_QPAIR,
    CK_EXT_END,         /* after a closing quote */
    CK_SIZE_LF,
    CK_DATA,
    CK_DATA_CR,
    CK_DATA_LF,
    CK_TR_START,        /* start of a trailer line or the final CRLF */
    CK_TR_NAME,
    CK_TR_VALUE,
    CK_TR_LF,
    CK_END_LF,
    CK_DONE,
    CK_ERROR
};

void
http_chunked_init(struct http_chunked *c, size_t max_line,
                  size_t max_trailer)
{
    memset(c, 0, sizeof(*c));
    c->state = CK_SIZE0;
    c->max_line = max_line;
    c->max_trailer = max_trailer;
}

bool
http_chunked_is_done(const struct http_chunked *c)
{
    return c->state == CK_DONE;
}

static int
ck_hexval(int ch)
{
    if (ch <= '9')
        return ch - '0';
    return hp_lower(ch) - 'a' + 10;
}

/* After the size line's LF: payload, or the trailer for the last chunk. */
static int
ck_size_done(struct http_chunked *c)
{
    c->line_len = 0;
    if (c->remaining == 0)
        return CK_TR_START;
    if (c->total + c->remaining < c->total)
        return CK_ERROR;
    return CK_DATA;
}

/*
 * One byte of a chunk-size line: chunk-size [ chunk-ext ] CRLF with
 * chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ).
 * Return the next state.
 */
static int
ck_size_byte(struct http_chunked *c, int ch)
{
    bool ows = HP_IS(ch, HP_OWS);

    switch (c->state) {
    case CK_SIZE0:
    case CK_SIZE:
        if (HP_IS(ch, HP_HEX)) {
            /* line_len counts the digits so far: 16 fill a uint64_t */
            if (c->line_len > 16)
                return CK_ERROR;
            c->remaining = (c->remaining << 4) | (uint64_t)ck_hexval(ch);
            return CK_SIZE;
        }
        if (c->state == CK_SIZE0)
            return CK_ERROR;
        return ch == ';' ? CK_EXT_SEMI : ch == '\r' ? CK_SIZE_LF
             : ows ? CK_EXT_BWS : CK_ERROR;
    case CK_EXT_BWS:
        return ows ? CK_EXT_BWS : ch == ';' ? CK_EXT_SEMI : CK_ERROR;
    case CK_EXT_SEMI:
        return ows ? CK_EXT_SEMI : HP_IS(ch, HP_TCHAR) ? CK_EXT_NAME
             : CK_ERROR;
    case CK_EXT_NAME:
        if (HP_IS(ch, HP_TCHAR))
            return CK_EXT_NAME;
        /* FALLTHROUGH */
    case CK_EXT_NAME_BWS:
        return ows ? CK_EXT_NAME_BWS : ch == '=' ? CK_EXT_EQ
             : ch == ';' ? CK_EXT_SEMI
             : (ch == '\r' && c->state == CK_EXT_NAME) ? CK_SIZE_LF
             : CK_ERROR;
    case CK_EXT_EQ:
        return ows ? CK_EXT_EQ : HP_IS(ch, HP_TCHAR) ? CK_EXT_TOKEN
             : ch == '"' ? CK_EXT_QUOTED : CK_ERROR;
    case CK_EXT_TOKEN:
        if (HP_IS(ch, HP_TCHAR))
            return CK_EXT_TOKEN;
        /* FALLTHROUGH */
    case CK_EXT_END:
        return ows ? CK_EXT_BWS : ch == ';' ? CK_EXT_SEMI
             : ch == '\r' ? CK_SIZE_LF : CK_ERROR;
    case CK_EXT_QUOTED:
        return ch == '"' ? CK_EXT_END : ch == '\\' ? CK_EXT_QPAIR
             : HP_IS(ch, HP_QDTEXT) ? CK_EXT_QUOTED : CK_ERROR;
    case CK_EXT_QPAIR:
        return HP_IS(ch, HP_FIELD) ? CK_EXT_QUOTED : CK_ERROR;
    case CK_SIZE_LF:
        return ch == '\n' ? ck_size_done(c) : CK_ERROR;
    default:
        return CK_ERROR;
    }
}

/* One byte after a chunk's data, or of the trailer section. */
static int
ck_other_byte(struct http_chunked *c, int ch)
{
    switch (c->state) {
    case CK_DATA_CR:
        return ch == '\r' ? CK_DATA_LF : CK_ERROR;
    case CK_DATA_LF:
        c->line_len = 0;
        c->remaining = 0;
        return ch == '\n' ? CK_SIZE0 : CK_ERROR;
    case CK_TR_START:
        /* whitespace here would be obs-fold: refused like in heads */
        return ch == '\r' ? CK_END_LF : HP_IS(ch, HP_TCHAR) ? CK_TR_NAME
             : CK_ERROR;
    case CK_TR_NAME:
        return HP_IS(ch, HP_TCHAR) ? CK_TR_NAME : ch == ':' ? CK_TR_VALUE
             : CK_ERROR;
    case CK_TR_VALUE:
        return HP_IS(ch, HP_FIELD) ? CK_TR_VALUE : ch == '\r' ? CK_TR_LF
             : CK_ERROR;
    case CK_TR_LF:
        c->line_len = 0;
        return ch == '\n' ? CK_TR_START : CK_ERROR;
    case CK_END_LF:
        return ch == '\n' ? CK_DONE : CK_ERROR;
    default:
        return CK_ERROR;
    }
}

/* Feed one framing byte; return the new state (CK_ERROR on bad input). */
static int
ck_byte(struct http_chunked *c, int ch)
{
    bool in_trailer = c->state >= CK_TR_START;

    if (++c->line_len > c->max_line)
        return CK_ERROR;
    if (in_trailer && ++c->trailer_len > c->max_trailer)
        return CK_ERROR;
    if (c->state <= CK_SIZE_LF)
        return ck_size_byte(c, ch);
    return ck_other_byte(c, ch);
}

int
http_chunked_step(struct http_chunked *c, const char *buf, size_t len,
                  size_t *framing, size_t *data)
{
    size_t i = 0, n;

    *framing = 0;
    *data = 0;
    while (c->state != CK_DONE && c->state != CK_ERROR) {
        if (c->state == CK_DATA) {
            n = len - i < c->remaining ? len - i : (size_t)c->remaining;
            c->remaining -= n;
            c->total += n;
            if (c->remaining == 0)
                c->state = CK_DATA_CR;
            *framing = i;
            *data = n;
            return SKUA_OK;
        }
        if (i == len)
            break;
        c->state = ck_byte(c, (unsigned char)buf[i++]);
    }
    *framing = i;
    if (c->state == CK_ERROR)
        return SKUA_ERROR;
    return c->state == CK_DONE ? SKUA_DECLINED : SKUA_OK;
}
