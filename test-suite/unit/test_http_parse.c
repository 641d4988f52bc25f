/*
 * test_http_parse.c -- unit tests for src/proto/http_parse.c.
 *
 * Table-driven: valid requests of every target form, malformed requests
 * and responses that must each produce one specific enum http_perr, the
 * response framing rules of RFC 9112 section 6.3, incremental parsing
 * (every prefix of a valid head needs more bytes), and the chunked decoder
 * fed whole and one byte at a time.  No I/O.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/http_parse.h"

/* Table rows leave trailing members out: they default to zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define MAX_HDRS 64

static const struct http_limits lim_default = { 8192, 1024, 32 };
static struct http_hdr hdrs[MAX_HDRS];
static bool perr_seen[HTTP_PERR_BAD_CHUNK + 1];

static void
msg_init(struct http_msg *m)
{
    memset(m, 0xa5, sizeof(*m));    /* the parser must set every field */
    m->hdrs = hdrs;
    m->max_hdrs_alloc = MAX_HDRS;
}

/* Fail unless <s> of the parsed buffer <buf> equals <want> (NULL: empty). */
static void
span_check(const char *buf, struct sk_span s, const char *want,
           const char *what, const char *in)
{
    size_t wl = want != NULL ? strlen(want) : 0;

    if (s.len != wl || memcmp(buf + s.off, want != NULL ? want : "", wl)) {
        print_error("%s: %s is '%.*s', want '%s'\n", in, what, (int)s.len,
                    buf + s.off, want != NULL ? want : "");
        fail();
    }
}

/* ---- valid requests ---- */

struct req_ok {
    const char *in;
    enum http_method method;
    enum http_form form;
    const char *host;
    uint16_t port;
    const char *path;
    int minor;
    enum http_body body;
    uint64_t cl;
    unsigned flags;
    unsigned n_hdrs;
};

#define H11 "HTTP/1.1\r\n"
#define HA "Host: a\r\n"

static const struct req_ok req_ok[] = {
    /* origin-form; RFC 9112 section 3.2.1 example */
    { "GET /where?q=now " H11 "Host: www.example.org\r\n\r\n", HTTP_M_GET,
      HTTP_FORM_ORIGIN, NULL, 0, "/where?q=now", 1, HTTP_BODY_NONE, 0,
      HTTP_F_HAS_HOST, 1 },
    { "GET / " H11 HA "\r\n", HTTP_M_GET, HTTP_FORM_ORIGIN, NULL, 0, "/", 1,
      HTTP_BODY_NONE, 0, HTTP_F_HAS_HOST, 1 },
    { "GET //double/|{}^`\"<>?a=%20 " H11 HA "\r\n", HTTP_M_GET,
      HTTP_FORM_ORIGIN, NULL, 0, "//double/|{}^`\"<>?a=%20", 1,
      HTTP_BODY_NONE, 0, HTTP_F_HAS_HOST, 1 },
    { "GET /index.html HTTP/1.0\r\n\r\n", HTTP_M_GET, HTTP_FORM_ORIGIN,
      NULL, 0, "/index.html", 0, HTTP_BODY_NONE, 0, 0, 0 },
    { "\r\n\r\nHEAD / " H11 HA "\r\n", HTTP_M_HEAD, HTTP_FORM_ORIGIN, NULL,
      0, "/", 1, HTTP_BODY_NONE, 0, HTTP_F_HAS_HOST, 1 },
    { "PROPFIND /dav " H11 HA "\r\n", HTTP_M_OTHER, HTTP_FORM_ORIGIN, NULL,
      0, "/dav", 1, HTTP_BODY_NONE, 0, HTTP_F_HAS_HOST, 1 },
    /* absolute-form; RFC 9112 section 3.2.2 example */
    { "GET http://www.example.org/pub/WWW/TheProject.html " H11
      "Host: www.example.org\r\n\r\n", HTTP_M_GET, HTTP_FORM_ABSOLUTE,
      "www.example.org", 0, "/pub/WWW/TheProject.html", 1, HTTP_BODY_NONE,
      0, HTTP_F_HAS_HOST, 1 },
    { "GET HTTP://Example.COM:8080?x=1 " H11 "\r\n", HTTP_M_GET,
      HTTP_FORM_ABSOLUTE, "Example.COM", 8080, "?x=1", 1, HTTP_BODY_NONE, 0,
      0, 0 },
    { "GET https://[2001:db8::1]:8443/a " H11 "Host: [2001:db8::1]:8443\r\n"
      "\r\n", HTTP_M_GET, HTTP_FORM_ABSOLUTE, "2001:db8::1", 8443, "/a", 1,
      HTTP_BODY_NONE, 0, HTTP_F_HAS_HOST, 1 },
    { "GET http://example.com HTTP/1.0\r\n\r\n", HTTP_M_GET,
      HTTP_FORM_ABSOLUTE, "example.com", 0, NULL, 0, HTTP_BODY_NONE, 0, 0,
      0 },
    { "GET http://10.0.0.1:80/ " H11 "\r\n", HTTP_M_GET, HTTP_FORM_ABSOLUTE,
      "10.0.0.1", 80, "/", 1, HTTP_BODY_NONE, 0, 0, 0 },
    { "OPTIONS http://www.example.org:8001 " H11 "\r\n", HTTP_M_OPTIONS,
      HTTP_FORM_ABSOLUTE, "www.example.org", 8001, NULL, 1, HTTP_BODY_NONE,
      0, 0, 0 },
    /* authority-form; RFC 9112 section 3.2.3 example */
    { "CONNECT server.example.com:80 " H11 "Host: server.example.com:80\r\n"
      "\r\n", HTTP_M_CONNECT, HTTP_FORM_AUTHORITY, "server.example.com", 80,
      NULL, 1, HTTP_BODY_NONE, 0, HTTP_F_HAS_HOST, 1 },
    { "CONNECT [::1]:443 " H11 "\r\n", HTTP_M_CONNECT, HTTP_FORM_AUTHORITY,
      "::1", 443, NULL, 1, HTTP_BODY_NONE, 0, 0, 0 },
    { "CONNECT 192.0.2.1:65535 HTTP/1.0\r\n\r\n", HTTP_M_CONNECT,
      HTTP_FORM_AUTHORITY, "192.0.2.1", 65535, NULL, 0, HTTP_BODY_NONE, 0,
      0, 0 },
    /* asterisk-form; RFC 9112 section 3.2.4 example */
    { "OPTIONS * " H11 "Host: www.example.org:8001\r\n\r\n",
      HTTP_M_OPTIONS, HTTP_FORM_ASTERISK, NULL, 0, "*", 1, HTTP_BODY_NONE,
      0, HTTP_F_HAS_HOST, 1 },
    /* bodies */
    { "POST /form " H11 HA "Content-Length: 13\r\nContent-Type: text/plain"
      "\r\n\r\n", HTTP_M_POST, HTTP_FORM_ORIGIN, NULL, 0, "/form", 1,
      HTTP_BODY_LENGTH, 13, HTTP_F_HAS_HOST | HTTP_F_HAS_CL, 3 },
    { "POST / " H11 HA "content-length: 0\r\n\r\n", HTTP_M_POST,
      HTTP_FORM_ORIGIN, NULL, 0, "/", 1, HTTP_BODY_NONE, 0,
      HTTP_F_HAS_HOST | HTTP_F_HAS_CL, 2 },
    { "PUT / " H11 HA "Content-Length: 5, 5\r\nContent-Length:5\r\n\r\n",
      HTTP_M_PUT, HTTP_FORM_ORIGIN, NULL, 0, "/", 1, HTTP_BODY_LENGTH, 5,
      HTTP_F_HAS_HOST | HTTP_F_HAS_CL, 3 },
    { "PUT / " H11 HA "Content-Length: 18446744073709551615\r\n\r\n",
      HTTP_M_PUT, HTTP_FORM_ORIGIN, NULL, 0, "/", 1, HTTP_BODY_LENGTH,
      UINT64_MAX, HTTP_F_HAS_HOST | HTTP_F_HAS_CL, 2 },
    { "POST /up " H11 HA "Transfer-Encoding: gzip, chunked\r\n\r\n",
      HTTP_M_POST, HTTP_FORM_ORIGIN, NULL, 0, "/up", 1, HTTP_BODY_CHUNKED,
      0, HTTP_F_HAS_HOST | HTTP_F_HAS_TE, 2 },
    { "PATCH /up " H11 HA "Transfer-Encoding: gzip\r\n"
      "transfer-encoding: , CHUNKED\r\n\r\n", HTTP_M_PATCH,
      HTTP_FORM_ORIGIN, NULL, 0, "/up", 1, HTTP_BODY_CHUNKED, 0,
      HTTP_F_HAS_HOST | HTTP_F_HAS_TE, 3 },
    /* connection management */
    { "GET /chat " H11 HA "Connection: keep-alive, Upgrade\r\n"
      "Upgrade: websocket\r\nProxy-Connection: Keep-Alive\r\n"
      "Expect: 100-Continue\r\n\r\n", HTTP_M_GET, HTTP_FORM_ORIGIN, NULL, 0,
      "/chat", 1, HTTP_BODY_NONE, 0,
      HTTP_F_HAS_HOST | HTTP_F_CONN_KEEPALIVE | HTTP_F_UPGRADE |
      HTTP_F_PROXY_KEEPALIVE | HTTP_F_EXPECT_100, 5 },
    { "DELETE /x " H11 HA "Connection: foo\r\nConnection: CLOSE\r\n"
      "Proxy-Connection: close\r\nConnection: upgrade\r\n\r\n",
      HTTP_M_DELETE, HTTP_FORM_ORIGIN, NULL, 0, "/x", 1, HTTP_BODY_NONE, 0,
      HTTP_F_HAS_HOST | HTTP_F_CONN_CLOSE | HTTP_F_PROXY_CLOSE, 5 },
    /* field values: OWS, empty values, obs-text, odd Host forms */
    { "TRACE / " H11 "X-Empty:\r\nX-Sp: \t a b \t \r\nX-Utf8: caf\xc3\xa9\r\n"
      "Host:  exa%41mple.com:8080  \r\n\r\n", HTTP_M_TRACE,
      HTTP_FORM_ORIGIN, NULL, 0, "/", 1, HTTP_BODY_NONE, 0,
      HTTP_F_HAS_HOST, 4 },
    { "GET / " H11 "Host: [::1]:80\r\n\r\n", HTTP_M_GET, HTTP_FORM_ORIGIN,
      NULL, 0, "/", 1, HTTP_BODY_NONE, 0, HTTP_F_HAS_HOST, 1 },
};

static void
check_req_ok(const struct req_ok *t, const char *buf, size_t len)
{
    struct http_msg m;
    enum http_perr e;
    int r;

    msg_init(&m);
    r = http_parse_request(buf, len, &lim_default, &m, &e);
    if (r != SKUA_OK) {
        print_error("%s: r=%d err=%s\n", t->in, r, http_perr_str(e));
        fail();
    }
    assert_int_equal(e, HTTP_PERR_NONE);
    assert_int_equal(m.head_len, strlen(t->in));
    assert_int_equal(m.method, t->method);
    assert_int_equal(m.form, t->form);
    span_check(buf, m.host, t->host, "host", t->in);
    assert_int_equal(m.port, t->port);
    span_check(buf, m.path, t->path, "path", t->in);
    assert_int_equal(m.version_minor, t->minor);
    assert_int_equal(m.body, t->body);
    assert_true(m.content_length == t->cl);
    assert_int_equal(m.flags, t->flags);
    assert_int_equal(m.n_hdrs, t->n_hdrs);
    assert_int_equal(m.host_hdr >= 0, (t->flags & HTTP_F_HAS_HOST) != 0);
    assert_true(m.method_s.off + m.method_s.len <= m.target.off);
    if (t->form == HTTP_FORM_ABSOLUTE)
        assert_true(m.scheme.len == 4 || m.scheme.len == 5);
}

static void
test_request_ok(void **state)
{
    size_t i, len, cut;
    char buf[2048];

    for (i = 0; i < SK_ARRAY_LEN(req_ok); i++) {
        struct http_msg m;
        enum http_perr e;

        len = strlen(req_ok[i].in);
        memcpy(buf, req_ok[i].in, len);
        check_req_ok(&req_ok[i], buf, len);
        /* body bytes after the head change nothing */
        memcpy(buf + len, "XYZ\r\n\r\n", 7);
        check_req_ok(&req_ok[i], buf, len + 7);
        /* every proper prefix is a valid beginning */
        for (cut = 0; cut < len; cut++) {
            msg_init(&m);
            if (http_parse_request(buf, cut, &lim_default, &m, &e) !=
                    SKUA_AGAIN || e != HTTP_PERR_NONE) {
                print_error("%s: prefix %zu: %s\n", req_ok[i].in, cut,
                            http_perr_str(e));
                fail();
            }
        }
    }
}

static void
test_request_fields(void **state)
{
    static const char in[] = "GET / " H11 "X-Empty:\r\n"
        "X-Sp: \t a b \t \r\nHost: a\r\nCONTENT-length: 0\r\n"
        "User-Agent: t\r\n\r\n";
    struct http_msg m;
    enum http_perr e;
    const struct http_hdr *h;

    msg_init(&m);
    assert_int_equal(http_parse_request(in, sizeof(in) - 1, &lim_default,
                                        &m, &e), SKUA_OK);
    assert_int_equal(m.n_hdrs, 5);
    span_check(in, m.hdrs[0].name, "X-Empty", "name", in);
    span_check(in, m.hdrs[0].value, NULL, "value", in);
    span_check(in, m.hdrs[1].value, "a b", "value", in);
    assert_int_equal(m.hdrs[1].id, HTTP_H_OTHER);
    assert_int_equal(m.host_hdr, 2);
    assert_int_equal(m.hdrs[3].id, HTTP_H_CONTENT_LENGTH);
    h = http_msg_find(&m, HTTP_H_USER_AGENT);
    assert_ptr_equal(h, &m.hdrs[4]);
    assert_null(http_msg_find(&m, HTTP_H_VIA));
    assert_ptr_equal(http_msg_find_name(&m, in, "x-sp"), &m.hdrs[1]);
    assert_ptr_equal(http_msg_find_name(&m, in, "content-LENGTH"),
                     &m.hdrs[3]);
    assert_null(http_msg_find_name(&m, in, "x-s"));
    assert_null(http_msg_find_name(&m, in, "x-spa"));
}

/*
 * Every id of enum http_hdr_id is recognised in any letter case (in a
 * response, where "Transfer-Encoding: 1" or "Host: 1" are acceptable).
 */
static void
test_header_ids(void **state)
{
    static const struct { const char *name; enum http_hdr_id id; } t[] = {
        { "Host", HTTP_H_HOST },
        { "content-length", HTTP_H_CONTENT_LENGTH },
        { "Transfer-Encoding", HTTP_H_TRANSFER_ENCODING },
        { "CONNECTION", HTTP_H_CONNECTION },
        { "Proxy-Connection", HTTP_H_PROXY_CONNECTION },
        { "Keep-Alive", HTTP_H_KEEP_ALIVE },
        { "TE", HTTP_H_TE },
        { "Trailer", HTTP_H_TRAILER },
        { "Upgrade", HTTP_H_UPGRADE },
        { "Via", HTTP_H_VIA },
        { "Max-Forwards", HTTP_H_MAX_FORWARDS },
        { "X-Forwarded-For", HTTP_H_X_FORWARDED_FOR },
        { "Forwarded", HTTP_H_FORWARDED },
        { "Proxy-Authorization", HTTP_H_PROXY_AUTHORIZATION },
        { "Proxy-Authenticate", HTTP_H_PROXY_AUTHENTICATE },
        { "Expect", HTTP_H_EXPECT },
        { "Content-Type", HTTP_H_CONTENT_TYPE },
        { "Referer", HTTP_H_REFERER },
        { "User-Agent", HTTP_H_USER_AGENT },
        { "Date", HTTP_H_DATE },
        { "Server", HTTP_H_SERVER },
        { "Hosts", HTTP_H_OTHER },
        { "Hos", HTTP_H_OTHER },
        { "Content-Lengt_", HTTP_H_OTHER },
        { "X-Forwarded-Fox", HTTP_H_OTHER },
        { "Servers", HTTP_H_OTHER },
    };
    char buf[256];
    size_t i;
    struct http_msg m;
    enum http_perr e;
    bool seen[HTTP_H__COUNT] = { false };

    for (i = 0; i < SK_ARRAY_LEN(t); i++) {
        int n = snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\n%s: 1\r\n"
                         "\r\n", t[i].name);

        msg_init(&m);
        assert_int_equal(http_parse_response(buf, (size_t)n, &lim_default,
                                             HTTP_M_GET, &m, &e), SKUA_OK);
        assert_int_equal(m.n_hdrs, 1);
        if (m.hdrs[0].id != t[i].id) {
            print_error("%s: id %d want %d\n", t[i].name, m.hdrs[0].id,
                        t[i].id);
            fail();
        }
        seen[t[i].id] = true;
    }
    for (i = 0; i < HTTP_H__COUNT; i++)
        assert_true(seen[i]);
}

/*
 * One odd byte at every position of a long value: the value scanner works
 * eight bytes at a time, so each alignment must see it.
 */
static void
test_value_bytes(void **state)
{
    static const struct { char c; int r; enum http_perr e; } t[] = {
        { '\t', SKUA_OK, HTTP_PERR_NONE },
        { '\x80', SKUA_OK, HTTP_PERR_NONE },
        { '\xff', SKUA_OK, HTTP_PERR_NONE },
        { '~', SKUA_OK, HTTP_PERR_NONE },
        { '\0', SKUA_ERROR, HTTP_PERR_BAD_HEADER },
        { '\x01', SKUA_ERROR, HTTP_PERR_BAD_HEADER },
        { '\x1f', SKUA_ERROR, HTTP_PERR_BAD_HEADER },
        { '\x7f', SKUA_ERROR, HTTP_PERR_BAD_HEADER },
        { '\n', SKUA_ERROR, HTTP_PERR_BAD_HEADER },
        { '\r', SKUA_ERROR, HTTP_PERR_BARE_CR },
    };
    char buf[128];
    size_t i, pos, pre, len;
    struct http_msg m;
    enum http_perr e;

    pre = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.0\r\nX: ");
    for (i = 0; i < SK_ARRAY_LEN(t); i++) {
        for (pos = 1; pos < 39; pos++) {
            memset(buf + pre, 'v', 40);
            buf[pre + pos] = t[i].c;
            memcpy(buf + pre + 40, "\r\n\r\n", 4);
            len = pre + 44;
            msg_init(&m);
            if (http_parse_request(buf, len, &lim_default, &m, &e) !=
                    t[i].r || e != t[i].e) {
                print_error("byte 0x%02x at %zu: %s\n",
                            (unsigned char)t[i].c, pos, http_perr_str(e));
                fail();
            }
            if (t[i].r == SKUA_OK)
                assert_int_equal(m.hdrs[0].value.len, 40);
        }
    }
}

/* ---- errors ---- */

struct perr_case {
    const char *in;
    enum http_perr err;
    size_t len;                 /* 0: strlen(in) */
    struct http_limits lim;     /* zero: lim_default */
    enum http_method req_method;    /* responses only */
};

#define LIM(h, l, n) .lim = { (h), (l), (n) }

static const struct perr_case req_err[] = {
    /* sizes */
    { "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa " H11 HA "\r\n",
      HTTP_PERR_LINE_TOO_LONG, 0, LIM(8192, 32, 10) },
    { "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      HTTP_PERR_LINE_TOO_LONG, 0, LIM(8192, 32, 10) },
    { "GET / " H11 HA "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
      HTTP_PERR_LINE_TOO_LONG, 0, LIM(8192, 32, 10) },
    { "GET / " H11 HA "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      HTTP_PERR_LINE_TOO_LONG, 0, LIM(8192, 32, 10) },
    { "GET / " H11 HA "A: 1\r\nB: 2\r\n\r\n", HTTP_PERR_TOO_MANY_HEADERS, 0,
      LIM(8192, 1024, 2) },
    { "GET / " H11 HA "A: 1\r\nB", HTTP_PERR_TOO_MANY_HEADERS, 0,
      LIM(8192, 1024, 2) },
    { "GET / " H11 HA "A: 1\r\nB: 2\r\n\r\n", HTTP_PERR_TOO_BIG, 0,
      LIM(30, 1024, 10) },
    { "GET / " H11 HA "A: 1\r\nB: 2", HTTP_PERR_TOO_BIG, 0,
      LIM(30, 1024, 10) },
    { "GET / " H11 HA "A: 1\r\nB:2\r\n\r\n", HTTP_PERR_TOO_BIG, 0,
      LIM(35, 1024, 10) },
    /* request line */
    { " GET / " H11 HA "\r\n", HTTP_PERR_BAD_METHOD },
    { "GET\t/ " H11 HA "\r\n", HTTP_PERR_BAD_METHOD },
    { "G@T / " H11 HA "\r\n", HTTP_PERR_BAD_METHOD },
    { "GET\r\n\r\n", HTTP_PERR_BAD_METHOD },
    { "\r\n\r\n\r\n\r\n\r\nGET / " H11 HA "\r\n", HTTP_PERR_BAD_METHOD },
    { "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", HTTP_PERR_BAD_METHOD },
    { "GET  / " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET /\t" H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET /a b " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET /a#frag " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET /caf\xc3\xa9 " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET /a\x01 " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET /a\x7f " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET example.com:80 " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET * " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "OPTIONS ** " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "CONNECT / " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "CONNECT example.com " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "CONNECT example.com: " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "CONNECT example.com:0 " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "CONNECT example.com:65536 " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "CONNECT example.com:44x " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "CONNECT http://example.com:80/ " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "CONNECT [::1 " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "CONNECT [::1]x:80 " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "CONNECT u@example.com:80 " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET ftp://example.com/ " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET http:/example.com/ " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET http " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET http:// " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET http://:80/ " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET http://u:p@example.com/ " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET http://a:0/ " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET http://a:99999/ " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET http://[::g]/ " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET http://[v1.x]/ " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET http://a%4/ " H11 HA "\r\n", HTTP_PERR_BAD_TARGET },
    { "GET / HTTP/2.0\r\n" HA "\r\n", HTTP_PERR_BAD_VERSION },
    { "GET / HTTP/1.2\r\n" HA "\r\n", HTTP_PERR_BAD_VERSION },
    { "GET / HTTP/1.10\r\n" HA "\r\n", HTTP_PERR_BAD_VERSION },
    { "GET / http/1.1\r\n" HA "\r\n", HTTP_PERR_BAD_VERSION },
    { "GET / HTTP/1.1 \r\n" HA "\r\n", HTTP_PERR_BAD_VERSION },
    { "GET / HTTP/1.1\t\r\n" HA "\r\n", HTTP_PERR_BAD_VERSION },
    { "GET /  HTTP/1.1\r\n" HA "\r\n", HTTP_PERR_BAD_VERSION },
    { "GET /\r\n\r\n", HTTP_PERR_BAD_VERSION },
    { "GET / HTTP/1.\r\n" HA "\r\n", HTTP_PERR_BAD_VERSION },
    /* line endings */
    { "GET / HTTP/1.1\rHost: a\r\n\r\n", HTTP_PERR_BARE_CR },
    { "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PERR_BARE_CR },
    { "\rGET / " H11 HA "\r\n", HTTP_PERR_BARE_CR },
    { "GET / " H11 "Host: a\rb\r\n\r\n", HTTP_PERR_BARE_CR },
    { "GET / " H11 HA "\r\r\n", HTTP_PERR_BARE_CR },
    { "GET / " H11 HA "X\r: 1\r\n\r\n", HTTP_PERR_BARE_CR },
    { "GET / HTTP/1.1\nHost: a\n\n", HTTP_PERR_BAD_HEADER },
    { "GET / " H11 "Host: a\n\r\n", HTTP_PERR_BAD_HEADER },
    { "GET / " H11 HA "\n", HTTP_PERR_BAD_HEADER },
    { "\nGET / " H11 HA "\r\n", HTTP_PERR_BAD_HEADER },
    /* field lines */
    { "GET / " H11 HA "  folded\r\n\r\n", HTTP_PERR_OBS_FOLD },
    { "GET / " H11 HA "X: a\r\n\tb\r\n\r\n", HTTP_PERR_OBS_FOLD },
    { "GET / " H11 " X: a\r\n" HA "\r\n", HTTP_PERR_BAD_HEADER },
    { "GET / " H11 "Host : a\r\n\r\n", HTTP_PERR_BAD_HEADER },
    { "GET / " H11 "Host\t: a\r\n\r\n", HTTP_PERR_BAD_HEADER },
    { "GET / " H11 HA ": a\r\n\r\n", HTTP_PERR_BAD_HEADER },
    { "GET / " H11 HA "NoColon\r\n\r\n", HTTP_PERR_BAD_HEADER },
    { "GET / " H11 HA "Ho(st: a\r\n\r\n", HTTP_PERR_BAD_HEADER },
    { "GET / " H11 HA "X: a\x01\r\n\r\n", HTTP_PERR_BAD_HEADER },
    { "GET / " H11 HA "X: a\x7f\r\n\r\n", HTTP_PERR_BAD_HEADER },
    { "GET / " H11 HA "X: a\0b\r\n\r\n", HTTP_PERR_BAD_HEADER, 32 },
    { "GET / " H11 HA "X\0: a\r\n\r\n", HTTP_PERR_BAD_HEADER, 29 },
    /* Content-Length */
    { "POST / " H11 HA "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
      HTTP_PERR_BAD_CL },
    { "POST / " H11 HA "Content-Length: 5, 6\r\n\r\n", HTTP_PERR_BAD_CL },
    { "POST / " H11 HA "Content-Length: 5,\r\n\r\n", HTTP_PERR_BAD_CL },
    { "POST / " H11 HA "Content-Length: +5\r\n\r\n", HTTP_PERR_BAD_CL },
    { "POST / " H11 HA "Content-Length: -1\r\n\r\n", HTTP_PERR_BAD_CL },
    { "POST / " H11 HA "Content-Length: 5 5\r\n\r\n", HTTP_PERR_BAD_CL },
    { "POST / " H11 HA "Content-Length: 0x10\r\n\r\n", HTTP_PERR_BAD_CL },
    { "POST / " H11 HA "Content-Length:\r\n\r\n", HTTP_PERR_BAD_CL },
    { "POST / " H11 HA "Content-Length: 18446744073709551616\r\n\r\n",
      HTTP_PERR_BAD_CL },
    { "POST / " H11 HA "Content-Length: 99999999999999999999999\r\n\r\n",
      HTTP_PERR_BAD_CL },
    /* Transfer-Encoding */
    { "POST / " H11 HA "Transfer-Encoding: gzip\r\n\r\n", HTTP_PERR_BAD_TE },
    { "POST / " H11 HA "Transfer-Encoding: chunked, chunked\r\n\r\n",
      HTTP_PERR_BAD_TE },
    { "POST / " H11 HA "Transfer-Encoding: chunked\r\n"
      "Transfer-Encoding: chunked\r\n\r\n", HTTP_PERR_BAD_TE },
    { "POST / " H11 HA "Transfer-Encoding: chunked, gzip\r\n\r\n",
      HTTP_PERR_BAD_TE },
    { "POST / " H11 HA "Transfer-Encoding: identity\r\n\r\n",
      HTTP_PERR_BAD_TE },
    { "POST / " H11 HA "Transfer-Encoding: foo, chunked\r\n\r\n",
      HTTP_PERR_BAD_TE },
    { "POST / " H11 HA "Transfer-Encoding: chunked;q=1\r\n\r\n",
      HTTP_PERR_BAD_TE },
    { "POST / " H11 HA "Transfer-Encoding: \"chunked\"\r\n\r\n",
      HTTP_PERR_BAD_TE },
    { "POST / " H11 HA "Transfer-Encoding: chunkedx\r\n\r\n",
      HTTP_PERR_BAD_TE },
    { "POST / " H11 HA "Transfer-Encoding:\r\n\r\n", HTTP_PERR_BAD_TE },
    { "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
      HTTP_PERR_BAD_TE },
    { "POST / " H11 HA "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"
      "\r\n", HTTP_PERR_TE_AND_CL },
    { "POST / " H11 HA "Content-Length: 0\r\nTransfer-Encoding: gzip\r\n"
      "\r\n", HTTP_PERR_TE_AND_CL },
    { "POST / " H11 HA "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n"
      "\r\n", HTTP_PERR_TE_AND_CL },
    /* Host */
    { "GET / " H11 "\r\n", HTTP_PERR_BAD_HOST },
    { "OPTIONS * " H11 "\r\n", HTTP_PERR_BAD_HOST },
    { "GET / " H11 HA HA "\r\n", HTTP_PERR_BAD_HOST },
    { "GET / HTTP/1.0\r\n" HA "Host: b\r\n\r\n", HTTP_PERR_BAD_HOST },
    { "GET / " H11 "Host:\r\n\r\n", HTTP_PERR_BAD_HOST },
    { "GET / " H11 "Host: a b\r\n\r\n", HTTP_PERR_BAD_HOST },
    { "GET / " H11 "Host: a:0\r\n\r\n", HTTP_PERR_BAD_HOST },
    { "GET / " H11 "Host: a:\r\n\r\n", HTTP_PERR_BAD_HOST },
    { "GET / " H11 "Host: u@a\r\n\r\n", HTTP_PERR_BAD_HOST },
    { "GET / " H11 "Host: [::1\r\n\r\n", HTTP_PERR_BAD_HOST },
    { "GET / " H11 "Host: a/b\r\n\r\n", HTTP_PERR_BAD_HOST },
    { "GET http://a/ " H11 HA HA "\r\n", HTTP_PERR_BAD_HOST },
};

static const struct perr_case resp_err[] = {
    { "HTTP/2.0 200 OK\r\n\r\n", HTTP_PERR_BAD_VERSION },
    { "HTTP/1.2 200 OK\r\n\r\n", HTTP_PERR_BAD_VERSION },
    { "http/1.1 200 OK\r\n\r\n", HTTP_PERR_BAD_VERSION },
    { "ICY 200 OK\r\n\r\n", HTTP_PERR_BAD_VERSION },
    { "HTTP/1.1\t200 OK\r\n\r\n", HTTP_PERR_BAD_STATUS },
    { "HTTP/1.1 099 Low\r\n\r\n", HTTP_PERR_BAD_STATUS },
    { "HTTP/1.1 20 OK\r\n\r\n", HTTP_PERR_BAD_STATUS },
    { "HTTP/1.1 2000 OK\r\n\r\n", HTTP_PERR_BAD_STATUS },
    { "HTTP/1.1 abc OK\r\n\r\n", HTTP_PERR_BAD_STATUS },
    { "HTTP/1.1  200 OK\r\n\r\n", HTTP_PERR_BAD_STATUS },
    { "HTTP/1.1\r\n\r\n", HTTP_PERR_BAD_STATUS },
    { "HTTP/1.1 200 O\x01K\r\n\r\n", HTTP_PERR_BAD_STATUS },
    { "HTTP/1.1 200 OK\rX: y\r\n\r\n", HTTP_PERR_BARE_CR },
    { "HTTP/1.1 200 OK\nX: y\r\n\r\n", HTTP_PERR_BAD_HEADER },
    { "HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", HTTP_PERR_OBS_FOLD },
    { "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      HTTP_PERR_BAD_CL },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 2\r\n\r\n", HTTP_PERR_TE_AND_CL },
    { "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 2\r\n\r\n", HTTP_PERR_TE_AND_CL },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
      HTTP_PERR_BAD_TE },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
      HTTP_PERR_BAD_TE },
    { "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      HTTP_PERR_BAD_TE },
    { "HTTP/1.1 200 OK\r\nX: 1\r\nY: 2\r\n\r\n", HTTP_PERR_TOO_MANY_HEADERS,
      0, LIM(8192, 1024, 1) },
    { "HTTP/1.1 200 OKOKOKOKOKOKOKOKOKOK\r\n\r\n", HTTP_PERR_LINE_TOO_LONG,
      0, LIM(8192, 20, 10) },
    { "HTTP/1.1 200 OK\r\nX: 1\r\n", HTTP_PERR_TOO_BIG, 0,
      LIM(20, 1024, 10) },
};

static const struct http_limits *
case_lim(const struct perr_case *t)
{
    return t->lim.max_head != 0 ? &t->lim : &lim_default;
}

static void
test_request_errors(void **state)
{
    size_t i, len;
    struct http_msg m;
    enum http_perr e;
    int r;

    for (i = 0; i < SK_ARRAY_LEN(req_err); i++) {
        len = req_err[i].len != 0 ? req_err[i].len : strlen(req_err[i].in);
        msg_init(&m);
        r = http_parse_request(req_err[i].in, len, case_lim(&req_err[i]), &m,
                               &e);
        if (r != SKUA_ERROR || e != req_err[i].err) {
            print_error("case %zu '%s': r=%d err=%s, want %s\n", i,
                        req_err[i].in, r, http_perr_str(e),
                        http_perr_str(req_err[i].err));
            fail();
        }
        perr_seen[e] = true;
    }
}

/* A header array smaller than lim->max_hdrs is a limit too. */
static void
test_request_hdrs_alloc(void **state)
{
    static const char in[] = "GET / " H11 HA "X: 1\r\n\r\n";
    struct http_hdr two[2];
    struct http_msg m;
    enum http_perr e;

    msg_init(&m);
    m.hdrs = two;
    m.max_hdrs_alloc = 1;
    assert_int_equal(http_parse_request(in, sizeof(in) - 1, &lim_default,
                                        &m, &e), SKUA_ERROR);
    assert_int_equal(e, HTTP_PERR_TOO_MANY_HEADERS);
    m.max_hdrs_alloc = 2;
    assert_int_equal(http_parse_request(in, sizeof(in) - 1, &lim_default,
                                        &m, &e), SKUA_OK);
    /* no fields at all and no array */
    msg_init(&m);
    m.hdrs = NULL;
    m.max_hdrs_alloc = 0;
    assert_int_equal(http_parse_request("GET / HTTP/1.0\r\n\r\n", 18,
                                        &lim_default, &m, &e), SKUA_OK);
}

/* ---- responses ---- */

struct resp_ok {
    const char *in;
    enum http_method req_method;
    int status;
    const char *reason;
    int minor;
    enum http_body body;
    uint64_t cl;
    unsigned flags;
};

static const struct resp_ok resp_ok[] = {
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", HTTP_M_GET, 200, "OK",
      1, HTTP_BODY_LENGTH, 5, HTTP_F_HAS_CL },
    { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", HTTP_M_HEAD, 200,
      "OK", 1, HTTP_BODY_NONE, 5, HTTP_F_HAS_CL },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_M_HEAD,
      200, "OK", 1, HTTP_BODY_NONE, 0, HTTP_F_HAS_TE },
    { "HTTP/1.1 204 No Content\r\n\r\n", HTTP_M_POST, 204, "No Content", 1,
      HTTP_BODY_NONE, 0, 0 },
    { "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", HTTP_M_GET,
      304, "Not Modified", 1, HTTP_BODY_NONE, 100, HTTP_F_HAS_CL },
    { "HTTP/1.1 100 Continue\r\n\r\n", HTTP_M_PUT, 100, "Continue", 1,
      HTTP_BODY_NONE, 0, 0 },
    { "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
      "Upgrade: websocket\r\n\r\n", HTTP_M_GET, 101, "Switching Protocols",
      1, HTTP_BODY_NONE, 0, HTTP_F_UPGRADE },
    { "HTTP/1.1 200 Connection established\r\n\r\n", HTTP_M_CONNECT, 200,
      "Connection established", 1, HTTP_BODY_TUNNEL, 0, 0 },
    { "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", HTTP_M_CONNECT, 200,
      "OK", 0, HTTP_BODY_TUNNEL, 3, HTTP_F_HAS_CL },
    { "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 3\r\n\r\n",
      HTTP_M_CONNECT, 407, "Proxy Auth", 1, HTTP_BODY_LENGTH, 3,
      HTTP_F_HAS_CL },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_M_GET,
      200, "OK", 1, HTTP_BODY_CHUNKED, 0, HTTP_F_HAS_TE },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
      "Transfer-Encoding: Chunked\r\n\r\n", HTTP_M_GET, 200, "OK", 1,
      HTTP_BODY_CHUNKED, 0, HTTP_F_HAS_TE },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP_M_GET, 200,
      "OK", 1, HTTP_BODY_CLOSE, 0, HTTP_F_HAS_TE },
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo\r\n\r\n", HTTP_M_GET, 200,
      "OK", 1, HTTP_BODY_CLOSE, 0, HTTP_F_HAS_TE },
    { "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", HTTP_M_GET, 200, "OK",
      1, HTTP_BODY_CLOSE, 0, HTTP_F_CONN_CLOSE },
    { "HTTP/1.0 200 OK\r\n\r\n", HTTP_M_GET, 200, "OK", 0, HTTP_BODY_CLOSE,
      0, 0 },
    { "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", HTTP_M_GET, 200, "OK",
      1, HTTP_BODY_NONE, 0, HTTP_F_HAS_CL },
    { "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n", HTTP_M_GET, 200, NULL, 1,
      HTTP_BODY_LENGTH, 1, HTTP_F_HAS_CL },
    { "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\n", HTTP_M_GET, 200, NULL,
      1, HTTP_BODY_LENGTH, 1, HTTP_F_HAS_CL },
    { "HTTP/1.1 999 Odd \tbut\x80 fine\r\nContent-Length: 1\r\n\r\n",
      HTTP_M_OTHER, 999, "Odd \tbut\x80 fine", 1, HTTP_BODY_LENGTH, 1,
      HTTP_F_HAS_CL },
    { "\r\nHTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\n"
      "Connection: keep-alive\r\nContent-Length: 2\r\n\r\n", HTTP_M_GET,
      200, "OK", 1, HTTP_BODY_LENGTH, 2,
      HTTP_F_HAS_CL | HTTP_F_CONN_KEEPALIVE },
};

static void
test_response_ok(void **state)
{
    size_t i, len, cut;
    struct http_msg m;
    enum http_perr e;
    int r;

    for (i = 0; i < SK_ARRAY_LEN(resp_ok); i++) {
        const struct resp_ok *t = &resp_ok[i];

        len = strlen(t->in);
        msg_init(&m);
        r = http_parse_response(t->in, len, &lim_default, t->req_method, &m,
                                &e);
        if (r != SKUA_OK) {
            print_error("%s: r=%d err=%s\n", t->in, r, http_perr_str(e));
            fail();
        }
        assert_int_equal(m.head_len, len);
        assert_int_equal(m.status, t->status);
        span_check(t->in, m.reason, t->reason, "reason", t->in);
        assert_int_equal(m.version_minor, t->minor);
        if (m.body != t->body) {
            print_error("%s: body %d want %d\n", t->in, m.body, t->body);
            fail();
        }
        assert_true(m.content_length == t->cl);
        assert_int_equal(m.flags, t->flags);
        for (cut = 0; cut < len; cut++) {
            msg_init(&m);
            r = http_parse_response(t->in, cut, &lim_default, t->req_method,
                                    &m, &e);
            if (r != SKUA_AGAIN) {
                print_error("%s: prefix %zu: %s\n", t->in, cut,
                            http_perr_str(e));
                fail();
            }
        }
    }
}

static void
test_response_errors(void **state)
{
    size_t i, len;
    struct http_msg m;
    enum http_perr e;
    int r;

    for (i = 0; i < SK_ARRAY_LEN(resp_err); i++) {
        len = resp_err[i].len != 0 ? resp_err[i].len
                                   : strlen(resp_err[i].in);
        msg_init(&m);
        r = http_parse_response(resp_err[i].in, len, case_lim(&resp_err[i]),
                                resp_err[i].req_method, &m, &e);
        if (r != SKUA_ERROR || e != resp_err[i].err) {
            print_error("case %zu '%s': r=%d err=%s, want %s\n", i,
                        resp_err[i].in, r, http_perr_str(e),
                        http_perr_str(resp_err[i].err));
            fail();
        }
        perr_seen[e] = true;
    }
}

/* ---- chunked ---- */

struct chunk_case {
    const char *in;
    int result;                 /* SKUA_DECLINED, SKUA_ERROR or SKUA_OK */
    const char *payload;        /* decoded bytes (up to the error) */
    size_t consumed;            /* for SKUA_DECLINED; 0: strlen(in) */
    size_t max_line;            /* 0: 64 */
    size_t max_trailer;         /* 0: 256 */
};

static const struct chunk_case chunk_cases[] = {
    { "5\r\nhello\r\n0\r\n\r\n", SKUA_DECLINED, "hello" },
    { "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n",
      SKUA_DECLINED, "Wikipedia in\r\n\r\nchunks." },
    { "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n", SKUA_DECLINED,
      "0123456789abcdefghij" },
    { "0000000000000005\r\nhello\r\n0\r\n\r\n", SKUA_DECLINED, "hello" },
    { "5;foo=bar\r\nhello\r\n0;last\r\n\r\n", SKUA_DECLINED, "hello" },
    { "5 ; a = \"q\\\"x;y\" ;\tb;c=d\r\nhello\r\n0\r\n\r\n", SKUA_DECLINED,
      "hello" },
    { "5;a=\"\"\r\nhello\r\n0\r\n\r\n", SKUA_DECLINED, "hello" },
    { "0\r\nExpires: never\r\nX-T: a b\r\n\r\n", SKUA_DECLINED, "" },
    { "0\r\n\r\nGET / HTTP/1.1\r\n", SKUA_DECLINED, "", 5 },
    { "5\r\nhel", SKUA_OK, "hel" },
    { "5\r\nhello\r\n", SKUA_OK, "hello" },
    { "", SKUA_OK, "" },
    /* errors */
    { "g\r\n", SKUA_ERROR, "" },
    { "\r\n", SKUA_ERROR, "" },
    { "-5\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "0x5\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5\rhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5\r\nhelloX\r\n0\r\n\r\n", SKUA_ERROR, "hello" },
    { "5\r\nhello\n0\r\n\r\n", SKUA_ERROR, "hello" },
    { "5 \r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5\t\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "00000000000000005\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "FFFFFFFFFFFFFFFFF\r\n", SKUA_ERROR, "" },
    { "5;\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5;=b\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5;a=\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5;a \r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5;a b\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5;a=b c\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5;a=b \r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5;a@b\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5;a=\"x\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n", SKUA_ERROR, "" },
    { "0\r\n x: y\r\n\r\n", SKUA_ERROR, "" },
    { "0\r\nX : y\r\n\r\n", SKUA_ERROR, "" },
    { "0\r\nX\r\n\r\n", SKUA_ERROR, "" },
    { "0\r\nX: \x01\r\n\r\n", SKUA_ERROR, "" },
    { "0\r\nX: a\n\r\n", SKUA_ERROR, "" },
    { "0\r\nX: a\r\r\n", SKUA_ERROR, "" },
    { "0\r\n\r\r", SKUA_ERROR, "" },
    { "0\r\n\n", SKUA_ERROR, "" },
    /* limits */
    { "5;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nhello\r\n0\r\n\r\n",
      SKUA_ERROR, "", 0, 16, 256 },
    { "5;aaaaaaaaa\r\nhello\r\n0\r\n\r\n", SKUA_DECLINED, "hello", 0, 16,
      256 },
    { "0\r\nX-Trailer: aaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n", SKUA_ERROR, "",
      0, 16, 256 },
    { "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", SKUA_ERROR, "", 0, 64, 16 },
    { "0\r\nA: 1\r\nB: 2\r\n\r\n", SKUA_DECLINED, "", 0, 64, 16 },
};

/*
 * Decode <in,len> fed in pieces of <piece> bytes; append the payload to
 * <out> and return the last result, with *<consumed> the body bytes used.
 */
static int
chunk_run(const struct chunk_case *t, const char *in, size_t len,
          size_t piece, char *out, size_t *outlen, size_t *consumed)
{
    struct http_chunked c;
    size_t pos = 0, avail = 0, fr, dl;
    int r = SKUA_OK;

    http_chunked_init(&c, t->max_line ? t->max_line : 64,
                      t->max_trailer ? t->max_trailer : 256);
    *outlen = 0;
    for (;;) {
        if (avail - pos == 0) {
            if (avail == len)
                break;
            avail = avail + piece < len ? avail + piece : len;
        }
        r = http_chunked_step(&c, in + pos, avail - pos, &fr, &dl);
        assert_true(fr + dl <= avail - pos);
        memcpy(out + *outlen, in + pos + fr, dl);
        *outlen += dl;
        pos += fr + dl;
        if (r != SKUA_OK)
            break;
    }
    *consumed = pos;
    assert_int_equal(http_chunked_is_done(&c), r == SKUA_DECLINED);
    if (r == SKUA_DECLINED) {
        /* once done, it stays done and takes nothing more */
        assert_int_equal(http_chunked_step(&c, "5\r\n", 3, &fr, &dl),
                         SKUA_DECLINED);
        assert_int_equal(fr + dl, 0);
        assert_true(c.total == *outlen);
    }
    return r;
}

static void
test_chunked(void **state)
{
    static const size_t pieces[] = { 1, 2, 3, 7, 100000 };
    char out[256];
    size_t i, k, outlen, consumed, len;
    int r;

    for (i = 0; i < SK_ARRAY_LEN(chunk_cases); i++) {
        const struct chunk_case *t = &chunk_cases[i];

        len = strlen(t->in);
        for (k = 0; k < SK_ARRAY_LEN(pieces); k++) {
            r = chunk_run(t, t->in, len, pieces[k], out, &outlen, &consumed);
            if (r != t->result || outlen != strlen(t->payload) ||
                    memcmp(out, t->payload, outlen) != 0) {
                print_error("case %zu '%s' piece %zu: r=%d payload '%.*s'\n",
                            i, t->in, pieces[k], r, (int)outlen, out);
                fail();
            }
            if (r == SKUA_DECLINED)
                assert_int_equal(consumed, t->consumed ? t->consumed : len);
            if (r == SKUA_ERROR)
                perr_seen[HTTP_PERR_BAD_CHUNK] = true;
        }
    }
}

/* ---- small helpers ---- */

static void
test_authority(void **state)
{
    static const struct {
        const char *in;
        int ret;
        const char *host;
        uint16_t port;
    } t[] = {
        { "example.com", 0, "example.com", 0 },
        { "example.com:443", 0, "example.com", 443 },
        { "EXAMPLE.com:00080", 0, "EXAMPLE.com", 80 },
        { "192.0.2.1:8080", 0, "192.0.2.1", 8080 },
        { "[::1]", 0, "::1", 0 },
        { "[2001:db8::1]:65535", 0, "2001:db8::1", 65535 },
        { "[::ffff:192.0.2.1]:1", 0, "::ffff:192.0.2.1", 1 },
        { "a%20b!$&'()*+,;=-._~:1", 0, "a%20b!$&'()*+,;=-._~", 1 },
        { "", -1, NULL, 0 },
        { ":80", -1, NULL, 0 },
        { "a:", -1, NULL, 0 },
        { "a:0", -1, NULL, 0 },
        { "a:65536", -1, NULL, 0 },
        { "a:123456789012", -1, NULL, 0 },
        { "a:-1", -1, NULL, 0 },
        { "a:1:2", -1, NULL, 0 },
        { "u@a", -1, NULL, 0 },
        { "a b", -1, NULL, 0 },
        { "a%2", -1, NULL, 0 },
        { "a%zz", -1, NULL, 0 },
        { "[::1", -1, NULL, 0 },
        { "[]", -1, NULL, 0 },
        { "[::1]80", -1, NULL, 0 },
        { "[::1]:", -1, NULL, 0 },
        { "[1.2.3.4]", -1, NULL, 0 },
        { "[fe80::1%25eth0]", -1, NULL, 0 },
        { "[v1.a]", -1, NULL, 0 },
        { "::1", -1, NULL, 0 },
    };
    size_t i, off, hl;
    uint16_t port;

    for (i = 0; i < SK_ARRAY_LEN(t); i++) {
        int r = http_parse_authority(t[i].in, strlen(t[i].in), &off, &hl,
                                     &port);

        if (r != t[i].ret) {
            print_error("'%s': %d\n", t[i].in, r);
            fail();
        }
        if (r == 0) {
            assert_int_equal(hl, strlen(t[i].host));
            assert_memory_equal(t[i].in + off, t[i].host, hl);
            assert_int_equal(port, t[i].port);
        }
    }
}

static void
test_method_id(void **state)
{
    static const struct { const char *s; enum http_method m; } t[] = {
        { "GET", HTTP_M_GET }, { "HEAD", HTTP_M_HEAD },
        { "POST", HTTP_M_POST }, { "PUT", HTTP_M_PUT },
        { "DELETE", HTTP_M_DELETE }, { "CONNECT", HTTP_M_CONNECT },
        { "OPTIONS", HTTP_M_OPTIONS }, { "TRACE", HTTP_M_TRACE },
        { "PATCH", HTTP_M_PATCH }, { "get", HTTP_M_OTHER },
        { "GETS", HTTP_M_OTHER }, { "", HTTP_M_OTHER },
        { "CONNECTS", HTTP_M_OTHER }, { "PURGE", HTTP_M_OTHER },
    };
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(t); i++)
        assert_int_equal(http_method_id(t[i].s, strlen(t[i].s)), t[i].m);
}

/* Runs last: every error value has a case and a text. */
static void
test_perr_coverage(void **state)
{
    int e;

    for (e = HTTP_PERR_NONE; e <= HTTP_PERR_BAD_CHUNK; e++) {
        assert_non_null(http_perr_str((enum http_perr)e));
        assert_string_not_equal(http_perr_str((enum http_perr)e),
                                "unknown error");
        if (e != HTTP_PERR_NONE && !perr_seen[e]) {
            print_error("no test case yields %s\n",
                        http_perr_str((enum http_perr)e));
            fail();
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_ok),
        cmocka_unit_test(test_request_fields),
        cmocka_unit_test(test_header_ids),
        cmocka_unit_test(test_value_bytes),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_request_hdrs_alloc),
        cmocka_unit_test(test_response_ok),
        cmocka_unit_test(test_response_errors),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_authority),
        cmocka_unit_test(test_method_id),
        cmocka_unit_test(test_perr_coverage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
