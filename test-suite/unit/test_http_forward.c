/*
 * test_http_forward.c -- head rewriting as requests and responses cross
 * the proxy (src/http/http_forward.c), table-driven.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "conf/conf.h"
#include "http/http.h"

struct fwd_case {
    const char *name;
    const char *in;
    int fwd_for;
    const char *via;
    const char *want;
};

static const struct fwd_case req_cases[] = {
    { "absolute-form becomes origin-form, Host from the URI",
      "GET http://Example.test:8080/a?b HTTP/1.1\r\nHost: other\r\n"
      "Accept: */*\r\n\r\n", CONF_FWD_ON, "1.1 px (skua/0.1.0)",
      "GET /a?b HTTP/1.1\r\nHost: Example.test:8080\r\nAccept: */*\r\n"
      "Via: 1.1 px (skua/0.1.0)\r\nX-Forwarded-For: 192.0.2.1\r\n\r\n" },
    { "empty path becomes /",
      "GET http://h.test HTTP/1.1\r\nHost: h.test\r\n\r\n", CONF_FWD_ON,
      NULL, "GET / HTTP/1.1\r\nHost: h.test\r\n"
      "X-Forwarded-For: 192.0.2.1\r\n\r\n" },
    { "hop-by-hop fields and those named by Connection go",
      "GET http://h.test/ HTTP/1.1\r\nHost: h.test\r\n"
      "Connection: keep-alive, X-Secret\r\nKeep-Alive: 300\r\n"
      "Proxy-Connection: keep-alive\r\nX-Secret: 1\r\nTE: trailers\r\n"
      "Proxy-Authorization: Basic eDp5\r\nUpgrade: h2c\r\n"
      "Trailer: X\r\nX-Kept: 2\r\n\r\n", CONF_FWD_DELETE, NULL,
      "GET / HTTP/1.1\r\nHost: h.test\r\nX-Kept: 2\r\n\r\n" },
    { "Via and X-Forwarded-For are appended to",
      "GET http://h.test/ HTTP/1.0\r\nVia: 1.0 a\r\nVia: 1.1 b\r\n"
      "X-Forwarded-For: 198.51.100.7\r\n\r\n", CONF_FWD_ON, "1.0 px",
      "GET / HTTP/1.1\r\nHost: h.test\r\nVia: 1.0 a, 1.1 b, 1.0 px\r\n"
      "X-Forwarded-For: 198.51.100.7, 192.0.2.1\r\n\r\n" },
    { "forwarded_for off says unknown",
      "GET http://h.test/ HTTP/1.1\r\nHost: h.test\r\n\r\n", CONF_FWD_OFF,
      NULL, "GET / HTTP/1.1\r\nHost: h.test\r\n"
      "X-Forwarded-For: unknown\r\n\r\n" },
    { "forwarded_for truncate keeps only the client",
      "GET http://h.test/ HTTP/1.1\r\nHost: h.test\r\n"
      "X-Forwarded-For: 198.51.100.7\r\n\r\n", CONF_FWD_TRUNCATE, NULL,
      "GET / HTTP/1.1\r\nHost: h.test\r\n"
      "X-Forwarded-For: 192.0.2.1\r\n\r\n" },
    { "forwarded_for transparent leaves it alone",
      "GET http://h.test/ HTTP/1.1\r\nHost: h.test\r\n\r\n",
      CONF_FWD_TRANSPARENT, NULL, "GET / HTTP/1.1\r\nHost: h.test\r\n\r\n" },
    { "Max-Forwards decremented for TRACE",
      "TRACE http://h.test/ HTTP/1.1\r\nHost: h.test\r\n"
      "Max-Forwards: 3\r\n\r\n", CONF_FWD_DELETE, NULL,
      "TRACE / HTTP/1.1\r\nHost: h.test\r\nMax-Forwards: 2\r\n\r\n" },
    { "Max-Forwards untouched for GET",
      "GET http://h.test/ HTTP/1.1\r\nHost: h.test\r\n"
      "Max-Forwards: 3\r\n\r\n", CONF_FWD_DELETE, NULL,
      "GET / HTTP/1.1\r\nHost: h.test\r\nMax-Forwards: 3\r\n\r\n" },
    { "Connection cannot remove the framing or the Host",
      "POST http://h.test/ HTTP/1.1\r\nHost: h.test\r\n"
      "Connection: Content-Length, Host, X-A\r\nContent-Length: 3\r\n"
      "X-A: 1\r\n\r\n", CONF_FWD_DELETE, NULL,
      "POST / HTTP/1.1\r\nHost: h.test\r\nContent-Length: 3\r\n\r\n" },
    { "Expect is answered by the proxy, not forwarded",
      "POST http://h.test/ HTTP/1.1\r\nHost: h.test\r\n"
      "Expect: 100-continue\r\nContent-Length: 1\r\n\r\n",
      CONF_FWD_DELETE, NULL,
      "POST / HTTP/1.1\r\nHost: h.test\r\nContent-Length: 1\r\n\r\n" },
    { "IPv6 literal gets brackets in Host",
      "GET http://[2001:db8::1]:81/x HTTP/1.1\r\nHost: [2001:db8::1]:81\r\n"
      "\r\n", CONF_FWD_DELETE, NULL,
      "GET /x HTTP/1.1\r\nHost: [2001:db8::1]:81\r\n\r\n" },
};

static void
parse_req(const char *in, struct http_msg *m, struct http_hdr *hdrs)
{
    struct http_limits lim = { 65536, 65536, 64 };
    enum http_perr err;

    memset(m, 0, sizeof(*m));
    m->hdrs = hdrs;
    m->max_hdrs_alloc = 64;
    assert_int_equal(http_parse_request(in, strlen(in), &lim, m, &err),
                     SKUA_OK);
}

static char *
drain_str(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);

    evbuffer_remove(b, s, n);
    s[n] = '\0';
    return s;
}

static void
test_requests(void **state)
{
    for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
        const struct fwd_case *c = &req_cases[i];
        struct http_hdr hdrs[64];
        struct http_msg m;
        struct http_fwd f;
        struct evbuffer *out = evbuffer_new();
        char *got;
        size_t n;

        parse_req(c->in, &m, hdrs);
        memset(&f, 0, sizeof(f));
        f.via = c->via;
        f.client_ip = "192.0.2.1";
        f.forwarded_for = c->fwd_for;
        n = http_fwd_request(out, c->in, &m, &f);
        got = drain_str(out);
        if (strcmp(got, c->want) != 0)
            fail_msg("%s:\n got: %s\nwant: %s", c->name, got, c->want);
        assert_int_equal(n, strlen(c->want));
        free(got);
        evbuffer_free(out);
    }
}

struct resp_case {
    const char *name;
    const char *in;
    bool keepalive, http10, dechunk;
    const char *want;
};

static const struct resp_case resp_cases[] = {
    { "kept alive for HTTP/1.1 says nothing",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n"
      "Keep-Alive: timeout=5\r\n\r\n", true, false, false,
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nVia: 1.1 px\r\n\r\n" },
    { "kept alive for HTTP/1.0 says so",
      "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", true, true, false,
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nVia: 1.1 px\r\n"
      "Connection: keep-alive\r\n\r\n" },
    { "closing says close",
      "HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\n", false, false, false,
      "HTTP/1.1 404 Not Found\r\nServer: x\r\nVia: 1.1 px\r\n"
      "Connection: close\r\n\r\n" },
    { "de-chunked drops Transfer-Encoding",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, true,
      true, "HTTP/1.1 200 OK\r\nVia: 1.1 px\r\nConnection: close\r\n\r\n" },
    { "interim keeps no Connection",
      "HTTP/1.1 100 Continue\r\n\r\n", true, false, false,
      "HTTP/1.1 100 Continue\r\nVia: 1.1 px\r\n\r\n" },
};

static void
test_responses(void **state)
{
    for (size_t i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]);
         i++) {
        const struct resp_case *c = &resp_cases[i];
        struct http_limits lim = { 65536, 65536, 64 };
        struct http_hdr hdrs[64];
        struct http_msg m;
        struct http_fwd f;
        enum http_perr err;
        struct evbuffer *out = evbuffer_new();
        char *got;

        memset(&m, 0, sizeof(m));
        m.hdrs = hdrs;
        m.max_hdrs_alloc = 64;
        assert_int_equal(http_parse_response(c->in, strlen(c->in), &lim,
                                             HTTP_M_GET, &m, &err),
                         SKUA_OK);
        memset(&f, 0, sizeof(f));
        f.via = "1.1 px";
        f.keepalive = c->keepalive;
        f.client_http10 = c->http10;
        f.dechunk = c->dechunk;
        http_fwd_response(out, c->in, &m, &f);
        got = drain_str(out);
        if (strcmp(got, c->want) != 0)
            fail_msg("%s:\n got: %s\nwant: %s", c->name, got, c->want);
        free(got);
        evbuffer_free(out);
    }
}

struct loop_case {
    const char *via;
    bool loop;
};

static const struct loop_case loop_cases[] = {
    { "1.1 px", true },
    { "1.1 other, 1.0 px (skua/0.1.0)", true },
    { "1.1 PX:3128", true },
    { "1.1 pxx", false },
    { "1.1 other", false },
    { "px", false },
};

static void
test_loops(void **state)
{
    for (size_t i = 0; i < sizeof(loop_cases) / sizeof(loop_cases[0]);
         i++) {
        char in[256];
        struct http_hdr hdrs[64];
        struct http_msg m;

        snprintf(in, sizeof(in), "GET http://h.test/ HTTP/1.1\r\n"
                 "Host: h.test\r\nVia: %s\r\n\r\n", loop_cases[i].via);
        parse_req(in, &m, hdrs);
        if (http_fwd_is_loop(in, &m, "px") != loop_cases[i].loop)
            fail_msg("Via: %s", loop_cases[i].via);
    }
}

static void
test_via_and_key(void **state)
{
    char buf[64];

    assert_string_equal(http_fwd_via(buf, sizeof(buf), 1, "px"),
                        "1.1 px (skua/" PACKAGE_VERSION ")");
    assert_string_equal(http_fwd_via(buf, sizeof(buf), 0, "a.b"),
                        "1.0 a.b (skua/" PACKAGE_VERSION ")");
    assert_string_equal(http_fwd_via(buf, 10, 0, "a.b"), "");
    assert_string_equal(http_fwd_key(buf, sizeof(buf), "h.test", 8080),
                        "h.test:8080");
    assert_string_equal(http_fwd_key(buf, sizeof(buf), "::1", 1), "::1:1");
    assert_string_equal(http_fwd_key(buf, sizeof(buf), "x", 65535),
                        "x:65535");
    assert_string_equal(http_fwd_key(buf, 4, "host", 80), "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_loops),
        cmocka_unit_test(test_via_and_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
