/*
 * http_forward.c -- rewriting message heads as they cross the proxy
 * (RFC 9110 section 7.6): hop-by-hop fields out, Via in, Host from the
 * target URI, X-Forwarded-For per policy, Max-Forwards decremented.
 *
 * Pure functions of a parsed head: no sockets, no configuration lookups.
 * Each head is written with one reservation in the output buffer.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "sk_str.h"
#include "conf/conf.h"
#include "http/http.h"

#define FWD_MAX_CONN_TOKENS 16

/* Field names listed in Connection (RFC 9110 section 7.6.1). */
struct conn_tokens {
    struct sk_span tok[FWD_MAX_CONN_TOKENS];
    unsigned n;
};

static void
conn_tokens_collect(const char *head, const struct http_msg *m,
                    struct conn_tokens *ct)
{
    ct->n = 0;
    for (unsigned i = 0; i < m->n_hdrs; i++) {
        const struct http_hdr *h = &m->hdrs[i];
        uint32_t p, end;

        if (h->id != HTTP_H_CONNECTION)
            continue;
        p = h->value.off;
        end = h->value.off + h->value.len;
        while (p < end && ct->n < FWD_MAX_CONN_TOKENS) {
            uint32_t s, e;
            while (p < end && (head[p] == ' ' || head[p] == '\t' ||
                               head[p] == ','))
                p++;
            s = p;
            while (p < end && head[p] != ',')
                p++;
            e = p;
            while (e > s && (head[e - 1] == ' ' || head[e - 1] == '\t'))
                e--;
            if (e > s) {
                ct->tok[ct->n].off = s;
                ct->tok[ct->n].len = e - s;
                ct->n++;
            }
        }
    }
}

static bool
conn_tokens_has(const char *head, const struct conn_tokens *ct,
                const char *name, size_t len)
{
    for (unsigned i = 0; i < ct->n; i++) {
        if (ct->tok[i].len != len)
            continue;
        if (strncasecmp(head + ct->tok[i].off, name, len) == 0)
            return true;
    }
    return false;
}

static bool
is_hop_by_hop(enum http_hdr_id id)
{
    switch (id) {
    case HTTP_H_CONNECTION:
    case HTTP_H_PROXY_CONNECTION:
    case HTTP_H_KEEP_ALIVE:
    case HTTP_H_TE:
    case HTTP_H_TRAILER:
    case HTTP_H_UPGRADE:
    case HTTP_H_PROXY_AUTHORIZATION:
    case HTTP_H_PROXY_AUTHENTICATE:
        return true;
    default:
        return false;
    }
}

/* A bounded writer over one reserved region of an evbuffer. */
struct wr {
    char *p;
    size_t len, cap;
};

static void
wr_add(struct wr *w, const char *s, size_t n)
{
    if (w->len + n > w->cap)
        n = w->cap - w->len;    /* cannot happen: the reserve is sized */
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void
wr_str(struct wr *w, const char *s)
{
    wr_add(w, s, strlen(s));
}

static void
wr_span(struct wr *w, const char *head, struct sk_span s)
{
    wr_add(w, head + s.off, s.len);
}

static void
wr_field(struct wr *w, const char *head, const struct http_hdr *h)
{
    wr_span(w, head, h->name);
    wr_add(w, ": ", 2);
    wr_span(w, head, h->value);
    wr_add(w, "\r\n", 2);
}

static bool
wr_begin(struct evbuffer *out, struct wr *w, size_t cap,
         struct evbuffer_iovec *v)
{
    if (evbuffer_reserve_space(out, (ev_ssize_t)cap, v, 1) < 1)
        return false;
    w->p = v->iov_base;
    w->len = 0;
    w->cap = cap;
    return true;
}

static size_t
wr_end(struct evbuffer *out, struct wr *w, struct evbuffer_iovec *v)
{
    v->iov_len = w->len;
    evbuffer_commit_space(out, v, 1);
    return w->len;
}

/*
 * Copy the end-to-end fields of <m> to <w>.  The fields with ids in
 * <special> are left out for the caller to write.
 */
static void
copy_fields(struct wr *w, const char *head, const struct http_msg *m,
            const struct conn_tokens *ct, unsigned long special)
{
    for (unsigned i = 0; i < m->n_hdrs; i++) {
        const struct http_hdr *h = &m->hdrs[i];

        if (is_hop_by_hop(h->id) || (special & (1ul << h->id)))
            continue;
        /* Connection may not remove what frames the message or names
         * its target: skua frames the body by Content-Length or
         * Transfer-Encoding, so the next hop must see the same field, or
         * "Connection: Content-Length" would smuggle the body through as
         * a second request. */
        if (ct->n > 0 && h->id != HTTP_H_CONTENT_LENGTH &&
            h->id != HTTP_H_TRANSFER_ENCODING && h->id != HTTP_H_HOST &&
            conn_tokens_has(head, ct, head + h->name.off, h->name.len))
            continue;
        wr_field(w, head, h);
    }
}

/* Write all values of field <id> joined by ", ", or nothing; return if
 * any existed. */
static bool
wr_joined(struct wr *w, const char *head, const struct http_msg *m,
          enum http_hdr_id id)
{
    bool any = false;

    for (unsigned i = 0; i < m->n_hdrs; i++) {
        if (m->hdrs[i].id != id)
            continue;
        if (any)
            wr_add(w, ", ", 2);
        wr_span(w, head, m->hdrs[i].value);
        any = true;
    }
    return any;
}

static void
wr_via(struct wr *w, const char *head, const struct http_msg *m,
       const char *via)
{
    if (via == NULL) {
        if (http_msg_find(m, HTTP_H_VIA) != NULL) {
            wr_str(w, "Via: ");
            wr_joined(w, head, m, HTTP_H_VIA);
            wr_add(w, "\r\n", 2);
        }
        return;
    }
    wr_str(w, "Via: ");
    if (wr_joined(w, head, m, HTTP_H_VIA))
        wr_add(w, ", ", 2);
    wr_str(w, via);
    wr_add(w, "\r\n", 2);
}

static void
wr_xff(struct wr *w, const char *head, const struct http_msg *m,
       const struct http_fwd *f)
{
    bool had;

    switch (f->forwarded_for) {
    case CONF_FWD_DELETE:
        return;
    case CONF_FWD_TRUNCATE:
        wr_str(w, "X-Forwarded-For: ");
        wr_str(w, f->client_ip);
        wr_add(w, "\r\n", 2);
        return;
    case CONF_FWD_TRANSPARENT:
        if (http_msg_find(m, HTTP_H_X_FORWARDED_FOR) == NULL)
            return;
        wr_str(w, "X-Forwarded-For: ");
        wr_joined(w, head, m, HTTP_H_X_FORWARDED_FOR);
        wr_add(w, "\r\n", 2);
        return;
    default:
        wr_str(w, "X-Forwarded-For: ");
        had = wr_joined(w, head, m, HTTP_H_X_FORWARDED_FOR);
        if (had)
            wr_add(w, ", ", 2);
        wr_str(w, f->forwarded_for == CONF_FWD_OFF ? "unknown"
                                                   : f->client_ip);
        wr_add(w, "\r\n", 2);
    }
}

static void
wr_max_forwards(struct wr *w, const char *head, const struct http_msg *m)
{
    const struct http_hdr *h = http_msg_find(m, HTTP_H_MAX_FORWARDS);
    char num[32];
    uint64_t v;

    if (h == NULL)
        return;
    if ((m->method == HTTP_M_TRACE || m->method == HTTP_M_OPTIONS) &&
        sk_parse_u64(head + h->value.off, h->value.len, &v) == 0 && v > 0) {
        snprintf(num, sizeof(num), "%llu", (unsigned long long)(v - 1));
        /* (TRACE and OPTIONS only: printf is fine here) */
        wr_str(w, "Max-Forwards: ");
        wr_str(w, num);
        wr_add(w, "\r\n", 2);
        return;
    }
    wr_field(w, head, h);
}

#define BIT(id) (1ul << (id))

size_t
http_fwd_request(struct evbuffer *out, const char *head,
                 const struct http_msg *req, const struct http_fwd *f)
{
    struct evbuffer_iovec v;
    struct conn_tokens ct;
    struct wr w;
    size_t cap = req->head_len + 512 + (f->via ? strlen(f->via) : 0);

    if (!wr_begin(out, &w, cap, &v))
        return 0;
    conn_tokens_collect(head, req, &ct);
    wr_span(&w, head, req->method_s);
    wr_add(&w, " ", 1);
    if (req->form == HTTP_FORM_ABSOLUTE && req->path.len == 0)
        wr_add(&w, "/", 1);
    else if (req->form == HTTP_FORM_ABSOLUTE)
        wr_span(&w, head, req->path);
    else
        wr_span(&w, head, req->target);
    wr_str(&w, " HTTP/1.1\r\n");

    /* RFC 9112 section 3.2.2: the authority of an absolute target
     * replaces any Host field. */
    wr_str(&w, "Host: ");
    if (f->host != NULL) {
        wr_str(&w, f->host);
    } else if (req->form == HTTP_FORM_ABSOLUTE) {
        bool v6 = memchr(head + req->host.off, ':', req->host.len) != NULL;
        if (v6)
            wr_add(&w, "[", 1);
        wr_span(&w, head, req->host);
        if (v6)
            wr_add(&w, "]", 1);
        if (req->port != 0) {
            char port[8];
            snprintf(port, sizeof(port), ":%u", req->port);
            wr_str(&w, port);
        }
    } else if (req->host_hdr >= 0) {
        wr_span(&w, head, req->hdrs[req->host_hdr].value);
    }
    wr_add(&w, "\r\n", 2);
    copy_fields(&w, head, req, &ct,
                BIT(HTTP_H_HOST) | BIT(HTTP_H_VIA) | BIT(HTTP_H_EXPECT) |
                BIT(HTTP_H_X_FORWARDED_FOR) | BIT(HTTP_H_MAX_FORWARDS));
    wr_via(&w, head, req, f->via);
    wr_xff(&w, head, req, f);
    wr_max_forwards(&w, head, req);
    wr_add(&w, "\r\n", 2);
    return wr_end(out, &w, &v);
}

size_t
http_fwd_response(struct evbuffer *out, const char *head,
                  const struct http_msg *resp, const struct http_fwd *f)
{
    struct evbuffer_iovec v;
    struct conn_tokens ct;
    struct wr w;
    char status[8];
    size_t cap = resp->head_len + 256 + (f->via ? strlen(f->via) : 0);

    if (!wr_begin(out, &w, cap, &v))
        return 0;
    conn_tokens_collect(head, resp, &ct);
    status[0] = (char)('0' + resp->status / 100 % 10);
    status[1] = (char)('0' + resp->status / 10 % 10);
    status[2] = (char)('0' + resp->status % 10);
    status[3] = ' ';
    status[4] = '\0';
    wr_str(&w, "HTTP/1.1 ");
    wr_str(&w, status);
    wr_span(&w, head, resp->reason);
    wr_add(&w, "\r\n", 2);
    copy_fields(&w, head, resp, &ct,
                BIT(HTTP_H_VIA) |
                (f->dechunk ? BIT(HTTP_H_TRANSFER_ENCODING) : 0));
    wr_via(&w, head, resp, f->via);
    if (resp->status >= 200) {
        if (!f->keepalive)
            wr_str(&w, "Connection: close\r\n");
        else if (f->client_http10)
            wr_str(&w, "Connection: keep-alive\r\n");
    }
    wr_add(&w, "\r\n", 2);
    return wr_end(out, &w, &v);
}

bool
http_fwd_is_loop(const char *head, const struct http_msg *m,
                 const char *hostname)
{
    size_t hl = strlen(hostname);

    for (unsigned i = 0; i < m->n_hdrs; i++) {
        const struct http_hdr *h = &m->hdrs[i];
        const char *p = head + h->value.off;
        const char *end = p + h->value.len;

        if (h->id != HTTP_H_VIA)
            continue;
        /* Each entry is "protocol SP received-by [SP comment]"; compare
         * the received-by token of each comma-separated entry. */
        while (p < end) {
            const char *e = memchr(p, ',', (size_t)(end - p));
            const char *sp, *tok;
            if (e == NULL)
                e = end;
            while (p < e && (*p == ' ' || *p == '\t'))
                p++;
            sp = memchr(p, ' ', (size_t)(e - p));
            if (sp != NULL) {
                tok = sp + 1;
                while (tok < e && *tok == ' ')
                    tok++;
                if ((size_t)(e - tok) >= hl &&
                    strncasecmp(tok, hostname, hl) == 0 &&
                    (tok + hl == e || tok[hl] == ' ' || tok[hl] == ':'))
                    return true;
            }
            p = e + 1;
        }
    }
    return false;
}

/* Append decimal <v> at <p>; return the end. */
static char *
put_u(char *p, unsigned v)
{
    char tmp[12];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

const char *
http_fwd_via(char *buf, size_t len, int minor, const char *hostname)
{
    static const char product[] = " (skua/" PACKAGE_VERSION ")";
    size_t hl = strlen(hostname);
    char *p = buf;

    if (len < hl + sizeof(product) + 8) {
        buf[0] = '\0';
        return buf;
    }
    *p++ = '1';
    *p++ = '.';
    *p++ = (char)('0' + (minor & 1));
    *p++ = ' ';
    memcpy(p, hostname, hl);
    p += hl;
    memcpy(p, product, sizeof(product));
    return buf;
}

const char *
http_fwd_key(char *buf, size_t len, const char *host, uint16_t port)
{
    size_t hl = strlen(host);
    char *p;

    if (len < hl + 8) {
        buf[0] = '\0';
        return buf;
    }
    memcpy(buf, host, hl);
    p = buf + hl;
    *p++ = ':';
    p = put_u(p, port);
    *p = '\0';
    return buf;
}
