/*
 * test_access_log.c -- unit tests of the access log: the built-in formats,
 * compiled logformats, JSON lines and the file destinations.
 *
 * The expected Squid lines below are not hand-made: they are what Squid 5.7
 * wrote to its access logs (formats squid, common, combined and the two
 * logformats CUSTOM1 and CUSTOM2) for seven real transactions, and each
 * struct rec is filled with the values of that transaction.  Times are
 * rendered with TZ=UTC.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "acl/acl.h"
#include "comm/record.h"
#include "conf/conf.h"
#include "log/access_log.h"

/* from mock_acl_check.c */
extern char mock_acl_allow;
extern char mock_acl_deny;
extern char mock_acl_need_dns;
extern unsigned mock_acl_calls;

/* ---- building records ---- */

/* A header block for %{Name}>h: NULL-terminated name/value pairs. */
struct test_hdrs {
    const char *kv[16];
};

static const char *
test_hdr_lookup(const void *ctx, const char *name, size_t *len)
{
    const struct test_hdrs *h = ctx;
    size_t i;

    for (i = 0; h->kv[i] != NULL; i += 2) {
        if (strcasecmp(h->kv[i], name) == 0) {
            *len = strlen(h->kv[i + 1]);
            return h->kv[i + 1];
        }
    }
    return NULL;
}

static void
set_addr(struct sockaddr_storage *ss, const char *ip, unsigned port)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        return;
    }
    assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
}

/* Set the start so that start + <tr> ms is <end_sec>.<end_us>. */
static void
set_times(struct rec *r, long end_sec, long end_us, long tr)
{
    long long us = (long long)end_sec * 1000000 + end_us - tr * 1000;

    r->start.tv_sec = (time_t)(us / 1000000);
    r->start.tv_usec = (suseconds_t)(us % 1000000);
    r->duration_ms = tr;
}

static const struct test_hdrs req_mozilla = { {
    "User-Agent", "Mozilla/5.0 (X11; \"q\" \\x)",
    "Referer", "http://ref.example/x?y=1",
    "X-Weird", "a b\"c\\d%e[f]~g\th",
    NULL } };
static const struct test_hdrs req_curl = { {
    "User-Agent", "curl/7.88.1", NULL } };
static const struct test_hdrs rep_plain = { {
    "Content-Type", "text/plain",
    "Server", "SimpleHTTP/0.6 Python/3.11.2", NULL } };
static const struct test_hdrs rep_html = { {
    "Content-Type", "text/html;charset=utf-8",
    "Server", "SimpleHTTP/0.6 Python/3.11.2", NULL } };
static const struct test_hdrs rep_denied = { {
    "Content-Type", "text/html;charset=utf-8",
    "Server", "squid/5.7", NULL } };

static struct rec_headers hv_req_mozilla = { &req_mozilla, test_hdr_lookup };
static struct rec_headers hv_req_curl = { &req_curl, test_hdr_lookup };
static struct rec_headers hv_rep_plain = { &rep_plain, test_hdr_lookup };
static struct rec_headers hv_rep_html = { &rep_html, test_hdr_lookup };
static struct rec_headers hv_rep_denied = { &rep_denied, test_hdr_lookup };

/* A miss through 127.0.0.1:38128 to the origin 127.0.0.1:38080. */
static void
rec_miss(struct rec *r, const char *url, const char *path)
{
    memset(r, 0, sizeof(*r));
    set_addr(&r->client, "127.0.0.1", 35400);
    set_addr(&r->local, "127.0.0.1", 38128);
    set_addr(&r->server, "127.0.0.1", 38080);
    r->hier = REC_HIER_DIRECT;
    r->proto = "http";
    r->method = "GET";
    r->url = url;
    r->urlpath = path;
    r->http_minor = 1;
    r->result = "TCP_MISS";
    r->status = 200;
    r->content_type = "text/plain";
    r->dst_how = REC_DST_ABSOLUTE_URI;
    r->dst_host = "127.0.0.1";
    r->dst_port = 38080;
    r->req_headers = &hv_req_curl;
    r->rep_headers = &hv_rep_plain;
    r->user_agent = "curl/7.88.1";
}

static void
case_miss_mozilla(struct rec *r)
{
    rec_miss(r, "http://127.0.0.1:38080/a.txt?", "/a.txt?q=1%20x");
    set_times(r, 1795319447, 742080, 18);
    r->bytes_in = 220;
    r->bytes_out = 299;
    r->req_headers = &hv_req_mozilla;
    r->user_agent = "Mozilla/5.0 (X11; \"q\" \\x)";
    r->referer = "http://ref.example/x?y=1";
}

static void
case_denied(struct rec *r)
{
    rec_miss(r, "http://blocked.test/path", "/path");
    set_times(r, 1795319448, 106864, 1);
    set_addr(&r->client, "127.0.0.1", 35414);
    memset(&r->server, 0, sizeof(r->server));
    r->hier = REC_HIER_NONE;
    r->dst_host = "blocked.test";
    r->dst_port = 80;
    r->result = "TCP_DENIED";
    r->status = 403;
    r->error = "ERR_ACCESS_DENIED";
    r->content_type = "text/html;charset=utf-8";
    r->rep_headers = &hv_rep_denied;
    r->bytes_in = 129;
    r->bytes_out = 3417;
}

static void
case_connect(struct rec *r)
{
    rec_miss(r, "127.0.0.1:38080", NULL);
    set_times(r, 1795319448, 429845, 9);
    set_addr(&r->client, "127.0.0.1", 35422);
    r->method = "CONNECT";
    r->dst_how = REC_DST_CONNECT;
    r->result = "TCP_TUNNEL";
    r->content_type = NULL;
    r->rep_headers = NULL;
    r->bytes_in = 631;
    r->bytes_out = 521;
    r->server_bytes_in = 521;
    r->server_bytes_out = 631;
}

static void
case_http10_404(struct rec *r)
{
    rec_miss(r, "http://127.0.0.1:38080/nonexist", "/nonexist");
    set_times(r, 1795319448, 892475, 2);
    set_addr(&r->client, "127.0.0.1", 35432);
    r->http_minor = 0;
    r->status = 404;
    r->content_type = "text/html;charset=utf-8";
    r->rep_headers = &hv_rep_html;
    r->bytes_in = 139;
    r->bytes_out = 604;
}

static void
case_ipv6(struct rec *r)
{
    rec_miss(r, "http://127.0.0.1:38080/a.txt", "/a.txt");
    set_times(r, 1795319449, 231595, 1);
    set_addr(&r->client, "::1", 44918);
    set_addr(&r->local, "::1", 38128);
    r->bytes_in = 136;
    r->bytes_out = 299;
}

static void
case_user(struct rec *r)
{
    rec_miss(r, "http://127.0.0.1:38080/a.txt", "/a.txt");
    set_times(r, 1795319449, 572485, 20);
    set_addr(&r->client, "127.0.0.1", 44642);
    set_addr(&r->local, "127.0.0.1", 38129);
    r->listener_name = "authport";
    r->user = "bob [x]%y";
    r->bytes_in = 181;
    r->bytes_out = 299;
}

/* A client that closed before sending a whole request. */
static void
case_no_request(struct rec *r)
{
    memset(r, 0, sizeof(*r));
    set_times(r, 1795319449, 932721, 0);
    set_addr(&r->client, "127.0.0.1", 35446);
    set_addr(&r->local, "127.0.0.1", 38128);
    r->url = "error:transaction-end-before-headers";
    r->error = "ERR_CLIENT_GONE";
    r->bytes_in = 5;
}

#define CUSTOM1 \
    "%ts.%03tu|%tu|%.1tu|%.6tu|%tr|%6tr|%-6tr|%06tr|%>a|%>p|%la|%lp|%>la|" \
    "%>lp|%<a|%<p|%Ss|%Sh|%>Hs|%<Hs|%03>Hs|%st|%>st|%<st|%rm|%ru|%>rp|%rv|" \
    "%un|%ui|%mt|%{User-Agent}>h|%\"{User-Agent}>h|%#{User-Agent}>h|" \
    "%[{User-Agent}>h|%'{User-Agent}>h|%{X-Weird}>h|%\"{X-Weird}>h|" \
    "%#{X-Weird}>h|%[{X-Weird}>h|%'{X-Weird}>h|%{Content-Type}<h|" \
    "%{Missing}>h|%10.3{User-Agent}>h|%-10{Server}<h|%tl|%tg|%{%Y}tl|%%|" \
    "%>rm|%err_code"
#define CUSTOM2 "\"%rm %ru %{X-Weird}>h\" [%{X-Weird}>h %rm] %rm"

struct squid_case {
    const char *what;
    void (*fill)(struct rec *r);
    const char *squid, *common, *combined, *custom1, *custom2;
};

static const struct squid_case squid_cases[] = {
    { "miss with odd headers", case_miss_mozilla,
      "1795319447.742     18 127.0.0.1 TCP_MISS/200 299 GET "
      "http://127.0.0.1:38080/a.txt? - HIER_DIRECT/127.0.0.1 text/plain",
      "127.0.0.1 - - [22/Nov/2026:03:50:47 +0000] \"GET "
      "http://127.0.0.1:38080/a.txt? HTTP/1.1\" 200 299 TCP_MISS:HIER_DIRECT",
      "127.0.0.1 - - [22/Nov/2026:03:50:47 +0000] \"GET "
      "http://127.0.0.1:38080/a.txt? HTTP/1.1\" 200 299 "
      "\"http://ref.example/x?y=1\" \"Mozilla/5.0 (X11; \"q\" \\x)\" "
      "TCP_MISS:HIER_DIRECT",
      "1795319447.742|742|7|742080|18|    18|18    |000018|127.0.0.1|35400|"
      "127.0.0.1|38128|127.0.0.1|38128|127.0.0.1|38080|TCP_MISS|HIER_DIRECT|"
      "200|200|200|519|220|299|GET|http://127.0.0.1:38080/a.txt?|"
      "/a.txt?q=1%20x|1.1|-|-|text/plain|"
      "Mozilla/5.0%20(X11;%20%22q%22%20%5Cx)|"
      "Mozilla/5.0 (X11; \\\"q\\\" \\\\x)|"
      "Mozilla/5.0%20(X11;%20%22q%22%20%5Cx)|"
      "Mozilla/5.0 (X11; \"q\" \\\\x)|Mozilla/5.0 (X11; \"q\" \\x)|"
      "a%20b%22c%5Cd%e%5Bf%5D%7Eg%09h|a b\\\"c\\\\d%e[f]~g\\th|"
      "a%20b%22c%5Cd%25e%5Bf%5D%7Eg%09h|a b\"c\\\\d%25e%5bf%5d~g%09h|"
      "a b\"c\\d%e[f]~g\th|text/plain|-|       Moz|"
      "SimpleHTTP/0.6%20Python/3.11.2|22/Nov/2026:03:50:47 +0000|"
      "22/Nov/2026:03:50:47|2026|%|GET|-",
      "\"GET http://127.0.0.1:38080/a.txt? a b\\\"c\\\\d%e[f]~g\\th\" "
      "[a b\"c\\\\d%25e%5bf%5d~g%09h GET] GET" },
    { "denied", case_denied,
      "1795319448.106      1 127.0.0.1 TCP_DENIED/403 3417 GET "
      "http://blocked.test/path - HIER_NONE/- text/html",
      "127.0.0.1 - - [22/Nov/2026:03:50:48 +0000] \"GET "
      "http://blocked.test/path HTTP/1.1\" 403 3417 TCP_DENIED:HIER_NONE",
      "127.0.0.1 - - [22/Nov/2026:03:50:48 +0000] \"GET "
      "http://blocked.test/path HTTP/1.1\" 403 3417 \"-\" \"curl/7.88.1\" "
      "TCP_DENIED:HIER_NONE",
      "1795319448.106|106|1|106864|1|     1|1     |000001|127.0.0.1|35414|"
      "127.0.0.1|38128|127.0.0.1|38128|-|-|TCP_DENIED|HIER_NONE|403|-|403|"
      "3546|129|3417|GET|http://blocked.test/path|/path|1.1|-|-|text/html|"
      "curl/7.88.1|curl/7.88.1|curl/7.88.1|curl/7.88.1|curl/7.88.1|-|-|-|-|"
      "-|text/html;charset=utf-8|-|       cur|squid/5.7 |"
      "22/Nov/2026:03:50:48 +0000|22/Nov/2026:03:50:48|2026|%|GET|"
      "ERR_ACCESS_DENIED",
      "\"GET http://blocked.test/path -\" [- GET] GET" },
    { "CONNECT tunnel", case_connect,
      "1795319448.429      9 127.0.0.1 TCP_TUNNEL/200 521 CONNECT "
      "127.0.0.1:38080 - HIER_DIRECT/127.0.0.1 -",
      "127.0.0.1 - - [22/Nov/2026:03:50:48 +0000] \"CONNECT 127.0.0.1:38080 "
      "HTTP/1.1\" 200 521 TCP_TUNNEL:HIER_DIRECT",
      "127.0.0.1 - - [22/Nov/2026:03:50:48 +0000] \"CONNECT 127.0.0.1:38080 "
      "HTTP/1.1\" 200 521 \"-\" \"curl/7.88.1\" TCP_TUNNEL:HIER_DIRECT",
      "1795319448.429|429|4|429845|9|     9|9     |000009|127.0.0.1|35422|"
      "127.0.0.1|38128|127.0.0.1|38128|127.0.0.1|38080|TCP_TUNNEL|"
      "HIER_DIRECT|200|-|200|1152|631|521|CONNECT|127.0.0.1:38080|-|1.1|-|-|"
      "-|curl/7.88.1|curl/7.88.1|curl/7.88.1|curl/7.88.1|curl/7.88.1|-|-|-|"
      "-|-|-|-|       cur|-|22/Nov/2026:03:50:48 +0000|22/Nov/2026:03:50:48|"
      "2026|%|CONNECT|-",
      "\"CONNECT 127.0.0.1:38080 -\" [- CONNECT] CONNECT" },
    { "HTTP/1.0 not found", case_http10_404,
      "1795319448.892      2 127.0.0.1 TCP_MISS/404 604 GET "
      "http://127.0.0.1:38080/nonexist - HIER_DIRECT/127.0.0.1 text/html",
      "127.0.0.1 - - [22/Nov/2026:03:50:48 +0000] \"GET "
      "http://127.0.0.1:38080/nonexist HTTP/1.0\" 404 604 "
      "TCP_MISS:HIER_DIRECT",
      "127.0.0.1 - - [22/Nov/2026:03:50:48 +0000] \"GET "
      "http://127.0.0.1:38080/nonexist HTTP/1.0\" 404 604 \"-\" "
      "\"curl/7.88.1\" TCP_MISS:HIER_DIRECT",
      "1795319448.892|892|8|892475|2|     2|2     |000002|127.0.0.1|35432|"
      "127.0.0.1|38128|127.0.0.1|38128|127.0.0.1|38080|TCP_MISS|HIER_DIRECT|"
      "404|404|404|743|139|604|GET|http://127.0.0.1:38080/nonexist|"
      "/nonexist|1.0|-|-|text/html|curl/7.88.1|curl/7.88.1|curl/7.88.1|"
      "curl/7.88.1|curl/7.88.1|-|-|-|-|-|text/html;charset=utf-8|-|"
      "       cur|SimpleHTTP/0.6%20Python/3.11.2|22/Nov/2026:03:50:48 +0000|"
      "22/Nov/2026:03:50:48|2026|%|GET|-",
      "\"GET http://127.0.0.1:38080/nonexist -\" [- GET] GET" },
    { "IPv6 client", case_ipv6,
      "1795319449.231      1 ::1 TCP_MISS/200 299 GET "
      "http://127.0.0.1:38080/a.txt - HIER_DIRECT/127.0.0.1 text/plain",
      "::1 - - [22/Nov/2026:03:50:49 +0000] \"GET "
      "http://127.0.0.1:38080/a.txt HTTP/1.1\" 200 299 TCP_MISS:HIER_DIRECT",
      "::1 - - [22/Nov/2026:03:50:49 +0000] \"GET "
      "http://127.0.0.1:38080/a.txt HTTP/1.1\" 200 299 \"-\" "
      "\"curl/7.88.1\" TCP_MISS:HIER_DIRECT",
      "1795319449.231|231|2|231595|1|     1|1     |000001|::1|44918|::1|"
      "38128|::1|38128|127.0.0.1|38080|TCP_MISS|HIER_DIRECT|200|200|200|435|"
      "136|299|GET|http://127.0.0.1:38080/a.txt|/a.txt|1.1|-|-|text/plain|"
      "curl/7.88.1|curl/7.88.1|curl/7.88.1|curl/7.88.1|curl/7.88.1|-|-|-|-|"
      "-|text/plain|-|       cur|SimpleHTTP/0.6%20Python/3.11.2|"
      "22/Nov/2026:03:50:49 +0000|22/Nov/2026:03:50:49|2026|%|GET|-",
      "\"GET http://127.0.0.1:38080/a.txt -\" [- GET] GET" },
    { "authenticated user", case_user,
      "1795319449.572     20 127.0.0.1 TCP_MISS/200 299 GET "
      "http://127.0.0.1:38080/a.txt bob %5bx%5d%25y HIER_DIRECT/127.0.0.1 "
      "text/plain",
      "127.0.0.1 - bob %5bx%5d%25y [22/Nov/2026:03:50:49 +0000] \"GET "
      "http://127.0.0.1:38080/a.txt HTTP/1.1\" 200 299 TCP_MISS:HIER_DIRECT",
      "127.0.0.1 - bob %5bx%5d%25y [22/Nov/2026:03:50:49 +0000] \"GET "
      "http://127.0.0.1:38080/a.txt HTTP/1.1\" 200 299 \"-\" "
      "\"curl/7.88.1\" TCP_MISS:HIER_DIRECT",
      "1795319449.572|572|5|572485|20|    20|20    |000020|127.0.0.1|44642|"
      "127.0.0.1|38129|127.0.0.1|38129|127.0.0.1|38080|TCP_MISS|HIER_DIRECT|"
      "200|200|200|480|181|299|GET|http://127.0.0.1:38080/a.txt|/a.txt|1.1|"
      "bob [x]%y|-|text/plain|curl/7.88.1|curl/7.88.1|curl/7.88.1|"
      "curl/7.88.1|curl/7.88.1|-|-|-|-|-|text/plain|-|       cur|"
      "SimpleHTTP/0.6%20Python/3.11.2|22/Nov/2026:03:50:49 +0000|"
      "22/Nov/2026:03:50:49|2026|%|GET|-",
      "\"GET http://127.0.0.1:38080/a.txt -\" [- GET] GET" },
    { "no request", case_no_request,
      "1795319449.932      0 127.0.0.1 NONE_NONE/000 0 - "
      "error:transaction-end-before-headers - HIER_NONE/- -",
      "127.0.0.1 - - [22/Nov/2026:03:50:49 +0000] \"- "
      "error:transaction-end-before-headers NONE/0.0\" 0 0 "
      "NONE_NONE:HIER_NONE",
      "127.0.0.1 - - [22/Nov/2026:03:50:49 +0000] \"- "
      "error:transaction-end-before-headers NONE/0.0\" 0 0 \"-\" \"-\" "
      "NONE_NONE:HIER_NONE",
      /*
       * Squid prints "-|-" for %la|%lp here (it knows no listening address
       * without a request); skua always knows the address it accepted on.
       */
      "1795319449.932|932|9|932721|0|     0|0     |000000|127.0.0.1|35446|"
      "127.0.0.1|38128|127.0.0.1|38128|-|-|NONE_NONE|HIER_NONE|0|-|000|5|5|"
      "0|-|error:transaction-end-before-headers|-|0.0|-|-|-|-|-|-|-|-|-|-|-|"
      "-|-|-|-|-|-|22/Nov/2026:03:50:49 +0000|22/Nov/2026:03:50:49|2026|%|-|"
      "ERR_CLIENT_GONE",
      "\"- error:transaction-end-before-headers -\" [- -] -" },
};

static void
render_expect(const struct log_format *f, const struct rec *r,
              const char *want, const char *what)
{
    char buf[8192];
    size_t n = log_format_render(f, r, buf, sizeof(buf));

    if (strcmp(buf, want) != 0) {
        print_error("%s, format %s:\n got  [%s]\n want [%s]\n", what,
                    log_format_name(f), buf, want);
        fail();
    }
    assert_int_equal(n, strlen(want));
}

static struct log_format *
compile_ok(const char *name, const char *spec)
{
    char *err = NULL;
    struct log_format *f = log_format_compile(name, spec, &err);

    if (f == NULL) {
        print_error("compile %s: %s\n", spec, err);
        free(err);
        fail();
    }
    assert_null(err);
    return f;
}

/* Every built-in and both logformats against what Squid 5.7 wrote. */
static void
test_squid_reference(void **state)
{
    struct log_format *c1 = compile_ok("custom1", CUSTOM1);
    struct log_format *c2 = compile_ok("custom2", CUSTOM2);
    const struct log_format *sq = log_format_builtin("squid");
    const struct log_format *co = log_format_builtin("common");
    const struct log_format *cb = log_format_builtin("combined");
    struct rec r;
    size_t i;

    (void)state;
    assert_non_null(sq);
    assert_non_null(co);
    assert_non_null(cb);
    for (i = 0; i < SK_ARRAY_LEN(squid_cases); i++) {
        const struct squid_case *c = &squid_cases[i];

        c->fill(&r);
        render_expect(sq, &r, c->squid, c->what);
        render_expect(co, &r, c->common, c->what);
        render_expect(cb, &r, c->combined, c->what);
        render_expect(c1, &r, c->custom1, c->what);
        render_expect(c2, &r, c->custom2, c->what);
    }
    log_format_free(c1);
    log_format_free(c2);
}

/* ---- built-ins on records Squid itself never produced ---- */

static void
case_mapped(struct rec *r)
{
    case_ipv6(r);
    set_addr(&r->client, "::ffff:192.0.2.7", 50000);
    set_addr(&r->server, "::ffff:198.51.100.9", 80);
}

static void
case_parent(struct rec *r)
{
    case_ipv6(r);
    set_addr(&r->client, "2001:db8::1", 50000);
    set_addr(&r->server, "2001:db8:1::3128", 3128);
    r->hier = REC_HIER_PARENT;
    r->content_type = "text/html; charset=utf-8";
}

static void
case_zero(struct rec *r)
{
    memset(r, 0, sizeof(*r));
}

static void
case_intercepted_tls(struct rec *r)
{
    case_connect(r);
    r->dst_how = REC_DST_SNI;
    r->sni = "www.example.org";
    r->url = "www.example.org:443";
    r->user = "alice";
    r->duration_ms = 123456;
    r->bytes_out = 1234567890123ULL;
}

struct fmt_case {
    const char *what;
    void (*fill)(struct rec *r);
    const char *format;
    const char *want;
};

static const struct fmt_case builtin_cases[] = {
    { "IPv4-mapped shows as IPv4", case_mapped, "squid",
      "1795319449.231      1 192.0.2.7 TCP_MISS/200 299 GET "
      "http://127.0.0.1:38080/a.txt - HIER_DIRECT/198.51.100.9 text/plain" },
    { "parent, media type without parameters", case_parent, "squid",
      "1795319449.231      1 2001:db8::1 TCP_MISS/200 299 GET "
      "http://127.0.0.1:38080/a.txt - FIRSTUP_PARENT/2001:db8:1::3128 "
      "text/html" },
    { "nothing set", case_zero, "squid",
      "        0.000      0 - NONE_NONE/000 0 - - - HIER_NONE/- -" },
    { "nothing set", case_zero, "common",
      "- - - [01/Jan/1970:00:00:00 +0000] \"- - NONE/0.0\" 0 0 "
      "NONE_NONE:HIER_NONE" },
    { "nothing set", case_zero, "combined",
      "- - - [01/Jan/1970:00:00:00 +0000] \"- - NONE/0.0\" 0 0 \"-\" \"-\" "
      "NONE_NONE:HIER_NONE" },
    { "long tunnel", case_intercepted_tls, "squid",
      "1795319571.876 123456 127.0.0.1 TCP_TUNNEL/200 1234567890123 CONNECT "
      "www.example.org:443 alice HIER_DIRECT/127.0.0.1 -" },
    { "referrer", case_miss_mozilla, "referrer",
      "1795319447.742 127.0.0.1 http://ref.example/x?y=1 "
      "http://127.0.0.1:38080/a.txt?" },
    { "useragent", case_miss_mozilla, "useragent",
      "127.0.0.1 [22/Nov/2026:03:50:47 +0000] "
      "\"Mozilla/5.0 (X11; \"q\" \\x)\"" },
    { "useragent without headers view", case_zero, "useragent",
      "- [01/Jan/1970:00:00:00 +0000] \"-\"" },
    { "json", case_miss_mozilla, "json",
      "{\"time\":\"2026-11-22T03:50:47.724Z\",\"duration_ms\":18,"
      "\"client\":\"127.0.0.1\",\"client_port\":35400,"
      "\"local\":\"127.0.0.1\",\"local_port\":38128,\"method\":\"GET\","
      "\"url\":\"http://127.0.0.1:38080/a.txt?\",\"http_version\":\"1.1\","
      "\"dst_host\":\"127.0.0.1\",\"dst_port\":38080,"
      "\"dst_how\":\"absolute_uri\",\"proto\":\"http\","
      "\"referer\":\"http://ref.example/x?y=1\","
      "\"user_agent\":\"Mozilla/5.0 (X11; \\\"q\\\" \\\\x)\","
      "\"status\":200,\"result\":\"TCP_MISS\",\"hier\":\"HIER_DIRECT\","
      "\"server\":\"127.0.0.1\",\"server_port\":38080,"
      "\"content_type\":\"text/plain\",\"bytes_in\":220,\"bytes_out\":299,"
      "\"server_bytes_in\":0,\"server_bytes_out\":0}" },
    { "json tunnel by SNI", case_intercepted_tls, "json",
      "{\"time\":\"2026-11-22T03:50:48.420Z\",\"duration_ms\":123456,"
      "\"client\":\"127.0.0.1\",\"client_port\":35422,"
      "\"local\":\"127.0.0.1\",\"local_port\":38128,"
      "\"method\":\"CONNECT\",\"url\":\"www.example.org:443\","
      "\"http_version\":\"1.1\",\"dst_host\":\"127.0.0.1\","
      "\"dst_port\":38080,\"dst_how\":\"sni\",\"proto\":\"http\","
      "\"sni\":\"www.example.org\",\"user\":\"alice\","
      "\"user_agent\":\"curl/7.88.1\",\"status\":200,"
      "\"result\":\"TCP_TUNNEL\",\"hier\":\"HIER_DIRECT\","
      "\"server\":\"127.0.0.1\",\"server_port\":38080,"
      "\"bytes_in\":631,\"bytes_out\":1234567890123,"
      "\"server_bytes_in\":521,\"server_bytes_out\":631}" },
    { "json with nothing set", case_zero, "json",
      "{\"time\":\"1970-01-01T00:00:00.000Z\",\"duration_ms\":0,"
      "\"result\":\"NONE_NONE\",\"hier\":\"HIER_NONE\",\"bytes_in\":0,"
      "\"bytes_out\":0}" },
    { "json denied", case_denied, "json",
      "{\"time\":\"2026-11-22T03:50:48.105Z\",\"duration_ms\":1,"
      "\"client\":\"127.0.0.1\",\"client_port\":35414,"
      "\"local\":\"127.0.0.1\",\"local_port\":38128,\"method\":\"GET\","
      "\"url\":\"http://blocked.test/path\",\"http_version\":\"1.1\","
      "\"dst_host\":\"blocked.test\",\"dst_port\":80,"
      "\"dst_how\":\"absolute_uri\",\"proto\":\"http\","
      "\"user_agent\":\"curl/7.88.1\",\"status\":403,"
      "\"result\":\"TCP_DENIED\",\"hier\":\"HIER_NONE\","
      "\"error\":\"ERR_ACCESS_DENIED\","
      "\"content_type\":\"text/html;charset=utf-8\",\"bytes_in\":129,"
      "\"bytes_out\":3417}" },
};

static void
test_builtin_cases(void **state)
{
    struct rec r;
    size_t i;

    (void)state;
    for (i = 0; i < SK_ARRAY_LEN(builtin_cases); i++) {
        const struct fmt_case *c = &builtin_cases[i];
        const struct log_format *f = log_format_builtin(c->format);

        assert_non_null(f);
        c->fill(&r);
        render_expect(f, &r, c->want, c->what);
    }
    assert_null(log_format_builtin("nosuch"));
    assert_ptr_equal(log_format_builtin("squid"), log_format_builtin("squid"));
    assert_string_equal(log_format_name(log_format_builtin("json")), "json");
}

/* ---- user logformats ---- */

static const struct fmt_case custom_cases[] = {
    { "left and right", case_miss_mozilla, "[%-10Ss][%10Ss]",
      "[TCP_MISS  ][  TCP_MISS]" },
    { "max width", case_miss_mozilla, "%.3Ss|%-6.3Sh|", "TCP|HIE   |" },
    { "max width cuts inside an escape", case_miss_mozilla,
      "%.4{X-Weird}>h", "a%20" },
    { "zero pad numbers, not strings", case_miss_mozilla,
      "%05>Hs %05Ss %08<st", "00200 TCP_MISS 00000299" },
    { "max width ignored for numbers", case_miss_mozilla, "%.1<st", "299" },
    { "a dot without digits is dropped", case_miss_mozilla, "%.Ss",
      "TCP_MISS" },
    { "dash is never padded", case_denied, "[%10<a][%-5{Missing}>h]",
      "[-][-]" },
    { "argument after the code", case_miss_mozilla,
      "%>h{Referer} %'<h{Server}",
      "http://ref.example/x?y=1 SimpleHTTP/0.6 Python/3.11.2" },
    { "http:: prefix", case_miss_mozilla, "%http::>a %http::rm",
      "127.0.0.1 GET" },
    { "percent and literals", case_miss_mozilla, "100%% of %>a%%",
      "100% of 127.0.0.1%" },
    { "request start", case_miss_mozilla, "%tS %.6tS %.1tS %.0tS %012.3tS",
      "1795319447.724 1795319447.724080 1795319447.7 1795319447.724 "
      "1795319447.724" },
    { "response time with a precision", case_miss_mozilla,
      "%.3tr|%06.2tr|%-06tr|%-6tr|", "18.000|018.00|000018|18    |" },
    { "subseconds of the end", case_miss_mozilla, "%tu %.2tu %.6tu %03tu",
      "742 74 742080 742" },
    { "strftime argument", case_miss_mozilla, "%{%H:%M:%S}tg",
      "03:50:47" },
    { "destination", case_denied, "%>rd:%>rP %<A", "blocked.test:80 -" },
    { "server name", case_connect, "%<A:%<p", "127.0.0.1:38080" },
    { "skua codes", case_intercepted_tls,
      "%skua::proto %skua::dst_how %ssl::>sni %skua::server_bytes_in/"
      "%skua::server_bytes_out %skua::alpn",
      "http sni www.example.org 521/631 -" },
    { "listener", case_user, "%skua::listener %lp", "authport 38129" },
    { "server status and body", case_miss_mozilla, "%<Hs %<bs %<p",
      "200 0 38080" },
    { "tunnels have neither", case_connect, "%<Hs %<bs %<p",
      "- - 38080" },
    { "no server, no body", case_denied, "%<Hs %<bs %<p", "- - -" },
    { "url encoding", case_user, "%#un %\"un %[un %'un",
      "bob%20%5Bx%5D%25y bob [x]%y bob %5bx%5d%25y bob [x]%y" },
    { "path is pass-through encoded", case_miss_mozilla, "%rp %#rp",
      "/a.txt?q=1%20x /a.txt?q=1%2520x" },
    { "reply header falls back to the record", case_connect,
      "%{Content-Type}<h", "-" },
    { "request header falls back to the record", case_zero,
      "%{User-Agent}>h", "-" },
    { "raw values never break the line", case_zero, "%'{X}>h", "-" },
    { "empty spec", case_miss_mozilla, "", "" },
};

static void
case_crlf(struct rec *r)
{
    case_miss_mozilla(r);
    r->user = "evil\r\nuser\tx";
}

static const struct fmt_case crlf_cases[] = {
    { "CR LF in raw", case_crlf, "%un|%'un", "evil\\r\\nuser\tx|"
      "evil\\r\\nuser\tx" },
    { "CR LF quoted", case_crlf, "%\"un", "evil\\r\\nuser\\tx" },
    { "CR LF mime", case_crlf, "%[un", "evil\\r\\nuser%09x" },
    { "CR LF url", case_crlf, "%#un", "evil%0D%0Auser%09x" },
};

static void
run_fmt_cases(const struct fmt_case *cases, size_t n)
{
    struct log_format *f;
    struct rec r;
    size_t i;

    for (i = 0; i < n; i++) {
        f = compile_ok("t", cases[i].format);
        cases[i].fill(&r);
        render_expect(f, &r, cases[i].want, cases[i].what);
        log_format_free(f);
    }
}

static void
test_custom_formats(void **state)
{
    (void)state;
    run_fmt_cases(custom_cases, SK_ARRAY_LEN(custom_cases));
    run_fmt_cases(crlf_cases, SK_ARRAY_LEN(crlf_cases));
}

static const struct {
    const char *spec;
    const char *err;
} compile_errors[] = {
    { "%zz", "logformat t: unknown format code '%zz'" },
    { "%ts %6Q-x", "logformat t: unknown format code '%6Q-x'" },
    { "abc %", "logformat t: unknown format code '%'" },
    { "%_pv", "logformat t: unknown format code '%_pv'" },
    { "%{User-Agent>h", "logformat t: unterminated {argument} in "
                        "'%{User-Agent>h'" },
    { "%>h{User-Agent", "logformat t: unterminated {argument} in "
                        "'%>h{User-Agent'" },
    { "%>h", "logformat t: header name required in '%>h'" },
    { "%{}<h", "logformat t: header name required in '%{}<h'" },
    { "%999tr", "logformat t: field width too large in '%999tr'" },
    { "%.9999Ss", "logformat t: field width too large in '%.9999Ss'" },
};

static void
test_compile_errors(void **state)
{
    struct log_format *f;
    char *err;
    size_t i;

    (void)state;
    for (i = 0; i < SK_ARRAY_LEN(compile_errors); i++) {
        err = NULL;
        f = log_format_compile("t", compile_errors[i].spec, &err);
        assert_null(f);
        assert_non_null(err);
        assert_string_equal(err, compile_errors[i].err);
        free(err);
    }
}

static void
test_format_list(void **state)
{
    struct log_format *a = compile_ok("a", "%>a");
    struct log_format *b = compile_ok("b", "%ru");

    (void)state;
    assert_null(log_format_next(a));
    log_format_set_next(a, b);
    assert_ptr_equal(log_format_next(a), b);
    assert_string_equal(log_format_name(b), "b");
    log_format_free(a);
    log_format_free(b);
    log_format_free(NULL);
    /* the built-ins are not the caller's to free */
    log_format_free((struct log_format *)log_format_builtin("common"));
    assert_non_null(log_format_builtin("common"));
}

/* Truncation works like snprintf and never writes past the buffer. */
static void
test_render_truncation(void **state)
{
    const struct log_format *f = log_format_builtin("squid");
    char buf[16];
    struct rec r;
    size_t full;

    (void)state;
    case_miss_mozilla(&r);
    full = strlen(squid_cases[0].squid);
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(log_format_render(f, &r, buf, 10), full);
    assert_string_equal(buf, "179531944");
    assert_int_equal(buf[10], 'X');
    assert_int_equal(log_format_render(f, &r, buf, 1), full);
    assert_string_equal(buf, "");
    assert_int_equal(log_format_render(f, &r, NULL, 0), full);
}

/* ---- JSON escaping ---- */

static const struct {
    const char *what;
    const char *in;
    const char *want;       /* the "user" member as rendered */
} json_strings[] = {
    { "plain", "bob", "\"user\":\"bob\"" },
    { "quote and backslash", "a\"b\\c", "\"user\":\"a\\\"b\\\\c\"" },
    { "controls", "a\tb\nc\x01\x1f\x7f", "\"user\":\"a\\u0009b\\u000ac"
      "\\u0001\\u001f\\u007f\"" },
    { "valid UTF-8", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
      "\"user\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"" },
    { "lone continuation", "a\x80z", "\"user\":\"a\\u0080z\"" },
    { "overlong slash", "\xc0\xaf", "\"user\":\"\\u00c0\\u00af\"" },
    { "surrogate", "\xed\xa0\x80", "\"user\":\"\\u00ed\\u00a0\\u0080\"" },
    { "past U+10FFFF", "\xf4\x90\x80\x80",
      "\"user\":\"\\u00f4\\u0090\\u0080\\u0080\"" },
    { "cut sequence", "x\xe2\x82", "\"user\":\"x\\u00e2\\u0082\"" },
    { "latin-1", "caf\xe9!", "\"user\":\"caf\\u00e9!\"" },
};

static void
test_json_escaping(void **state)
{
    const struct log_format *f = log_format_builtin("json");
    char buf[1024];
    struct rec r;
    size_t i;

    (void)state;
    for (i = 0; i < SK_ARRAY_LEN(json_strings); i++) {
        case_zero(&r);
        r.user = json_strings[i].in;
        log_format_render(f, &r, buf, sizeof(buf));
        if (strstr(buf, json_strings[i].want) == NULL) {
            print_error("%s: %s lacks %s\n", json_strings[i].what, buf,
                        json_strings[i].want);
            fail();
        }
    }
}

/* %tl in zones with half-hour offsets on both sides of UTC. */
static void
test_local_time_zones(void **state)
{
    struct log_format *f = compile_ok("t", "%tl");
    struct rec r;

    (void)state;
    case_zero(&r);
    setenv("TZ", "IST-5:30", 1);
    tzset();
    r.start.tv_sec = 1000000000;
    render_expect(f, &r, "09/Sep/2001:07:16:40 +0530", "TZ +5:30");
    setenv("TZ", "NST+3:30", 1);
    tzset();
    r.start.tv_sec = 1000000001;
    render_expect(f, &r, "08/Sep/2001:22:16:41 -0330", "TZ -3:30");
    setenv("TZ", "UTC", 1);
    tzset();
    r.start.tv_sec = 1000000002;
    render_expect(f, &r, "09/Sep/2001:01:46:42 +0000", "UTC");
    log_format_free(f);
}

/* ---- destinations ---- */

static char tmpdir[64];

static int
setup_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_access_log.XXXXXX");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown_tmpdir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Read the file <name> of the test directory into a malloc'd string. */
static char *
slurp(const char *name)
{
    char path[256], *buf;
    FILE *fp;
    long n;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fp = fopen(path, "r");
    if (fp == NULL)
        return strdup("");
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    return buf;
}

static void
entry_init(struct conf_access_log *e, const char *dest, const char *format,
           void *acl, struct conf_access_log *next)
{
    memset(e, 0, sizeof(*e));
    e->dest = strdup(dest);
    e->format = log_format_builtin(format);
    e->acl = acl;
    e->fd = -1;
    e->next = next;
}

static char *
tmp_dest(const char *prefix, const char *name)
{
    static char buf[4][256];
    static int k;

    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s%s/%s", prefix, tmpdir, name);
    return buf[k];
}

static void
test_write_files_and_acls(void **state)
{
    struct conf_access_log e[5];
    struct conf conf;
    char *err = NULL, *s, want[2048];
    struct rec r;
    size_t i;

    (void)state;
    memset(&conf, 0, sizeof(conf));
    entry_init(&e[4], tmp_dest("stdio:", "dns.log"), "squid",
               &mock_acl_need_dns, NULL);
    entry_init(&e[3], tmp_dest("stdio:", "deny.log"), "squid",
               &mock_acl_deny, &e[4]);
    entry_init(&e[2], tmp_dest("", "allow.log"), "common", &mock_acl_allow,
               &e[3]);
    entry_init(&e[1], "none", "squid", NULL, &e[2]);
    entry_init(&e[0], tmp_dest("daemon:", "all.log"), "squid", NULL, &e[1]);
    conf.access_logs = &e[0];
    assert_int_equal(access_log_open(&conf, &err), 0);
    assert_null(err);
    for (i = 0; i < 5; i++)
        assert_true(i == 1 ? e[i].fd == -1 : e[i].fd > 2);

    mock_acl_calls = 0;
    case_miss_mozilla(&r);
    access_log_write(&conf, &r);
    case_denied(&r);
    access_log_write(&conf, &r);
    assert_int_equal(mock_acl_calls, 6);    /* never for a NULL acl */

    snprintf(want, sizeof(want), "%s\n%s\n", squid_cases[0].squid,
             squid_cases[1].squid);
    s = slurp("all.log");
    assert_string_equal(s, want);
    free(s);
    snprintf(want, sizeof(want), "%s\n%s\n", squid_cases[0].common,
             squid_cases[1].common);
    s = slurp("allow.log");
    assert_string_equal(s, want);
    free(s);
    s = slurp("deny.log");
    assert_string_equal(s, "");
    free(s);
    s = slurp("dns.log");
    assert_string_equal(s, "");
    free(s);

    access_log_close(&conf);
    for (i = 0; i < 5; i++) {
        assert_int_equal(e[i].fd, -1);
        free(e[i].dest);
    }
}

/* Rotation: rename the file, reopen, and the next line is in a new file. */
static void
test_reopen(void **state)
{
    struct conf_access_log e;
    struct conf conf;
    char *err = NULL, *s, old[256], cur[256], want[1024];
    struct rec r;
    int fd;

    (void)state;
    memset(&conf, 0, sizeof(conf));
    entry_init(&e, tmp_dest("stdio:", "rot.log"), "squid", NULL, NULL);
    conf.access_logs = &e;
    assert_int_equal(access_log_open(&conf, &err), 0);
    fd = e.fd;
    case_miss_mozilla(&r);
    access_log_write(&conf, &r);
    snprintf(cur, sizeof(cur), "%s/rot.log", tmpdir);
    snprintf(old, sizeof(old), "%s/rot.log.0", tmpdir);
    assert_int_equal(rename(cur, old), 0);
    access_log_reopen(&conf);
    assert_int_equal(e.fd, fd);             /* same descriptor, new file */
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    case_denied(&r);
    access_log_write(&conf, &r);

    snprintf(want, sizeof(want), "%s\n", squid_cases[0].squid);
    s = slurp("rot.log.0");
    assert_string_equal(s, want);
    free(s);
    snprintf(want, sizeof(want), "%s\n", squid_cases[1].squid);
    s = slurp("rot.log");
    assert_string_equal(s, want);
    free(s);
    access_log_close(&conf);
    free(e.dest);
}

/* A line longer than the limit is cut, and written with its newline. */
static void
test_long_lines(void **state)
{
    struct conf_access_log e[2];
    struct conf conf;
    char *err = NULL, *s, *url, *p;
    struct rec r;
    size_t len;

    (void)state;
    memset(&conf, 0, sizeof(conf));
    entry_init(&e[1], tmp_dest("stdio:", "long.json"), "json", NULL, NULL);
    entry_init(&e[0], tmp_dest("stdio:", "long.log"), "squid", NULL, &e[1]);
    conf.access_logs = &e[0];
    assert_int_equal(access_log_open(&conf, &err), 0);
    url = malloc(20001);
    memset(url, 'u', 20000);
    url[20000] = '\0';
    memcpy(url, "http://x/", 9);
    case_miss_mozilla(&r);
    r.url = url;
    r.user_agent = url;
    access_log_write(&conf, &r);
    access_log_write(&conf, &r);

    s = slurp("long.log");
    len = strlen(s);
    assert_int_equal(len, 2 * 8192);
    assert_int_equal(s[8191], '\n');
    assert_int_equal(s[8192 + 8191], '\n');
    assert_null(memchr(s, '\n', 8191));
    free(s);

    /* JSON is rendered again with short strings: still one valid object */
    s = slurp("long.json");
    p = strchr(s, '\n');
    assert_non_null(p);
    assert_true(p - s < 8192);
    assert_int_equal(p[-1], '}');
    assert_non_null(strstr(s, "\"url\":\"http://x/uuu"));
    assert_non_null(strstr(s, "\"bytes_out\":299"));
    free(s);
    free(url);
    access_log_close(&conf);
    free(e[0].dest);
    free(e[1].dest);
}

/* ---- concurrent writers and rotation ---- */

#define CONC_THREADS 4
#define CONC_ROTATIONS 5
#define CONC_PHASE_LINES 100    /* per gated writer and phase */
#define CONC_FREE_LINES 2000    /* the free writer, across rotations */

static struct conf conc_conf;
static atomic_uint conc_arrived;    /* gated writers done with a phase */
static atomic_uint conc_rotated;    /* rotations done by the main thread */

/* Wait (bounded) until *<v> reaches <n>. */
static void
conc_wait(atomic_uint *v, unsigned n)
{
    int spins;

    for (spins = 0; spins < 100000 && atomic_load(v) < n; spins++)
        usleep(100);
}

/*
 * Writer 0 writes without pause, right through every reopen.  The others
 * write one phase per file and wait for the rotation, so each file is
 * sure to get lines.
 */
static void *
conc_writer(void *arg)
{
    bool gated = (intptr_t)arg != 0;
    struct rec r;
    int i, phase;

    case_miss_mozilla(&r);
    if (!gated) {
        for (i = 0; i < CONC_FREE_LINES; i++)
            access_log_write(&conc_conf, &r);
        return NULL;
    }
    for (phase = 0; phase <= CONC_ROTATIONS; phase++) {
        for (i = 0; i < CONC_PHASE_LINES; i++)
            access_log_write(&conc_conf, &r);
        atomic_fetch_add(&conc_arrived, 1);
        conc_wait(&conc_rotated, (unsigned)phase + 1);
    }
    return NULL;
}

/* Count the lines of the file <name>, each of which must be whole. */
static size_t
conc_count(const char *name)
{
    size_t want_len = strlen(squid_cases[0].squid), n = 0;
    char *s = slurp(name), *p, *nl;

    for (p = s; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        assert_int_equal((size_t)(nl - p), want_len);
        assert_memory_equal(p, squid_cases[0].squid, want_len);
        n++;
    }
    assert_int_equal(*p, '\0');
    free(s);
    return n;
}

/*
 * Threads write while the file is rotated under them: every line must
 * arrive whole, once, in one of the files.
 */
static void
test_concurrent_rotation(void **state)
{
    pthread_t th[CONC_THREADS];
    struct conf_access_log e;
    char *err = NULL, from[256], to[256];
    size_t lines = 0, n;
    intptr_t i;

    (void)state;
    memset(&conc_conf, 0, sizeof(conc_conf));
    atomic_store(&conc_arrived, 0);
    atomic_store(&conc_rotated, 0);
    entry_init(&e, tmp_dest("stdio:", "conc.log"), "squid", NULL, NULL);
    conc_conf.access_logs = &e;
    assert_int_equal(access_log_open(&conc_conf, &err), 0);
    for (i = 0; i < CONC_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, conc_writer,
                                        (void *)i), 0);
    for (i = 0; i < CONC_ROTATIONS; i++) {
        conc_wait(&conc_arrived, (unsigned)((CONC_THREADS - 1) * (i + 1)));
        snprintf(from, sizeof(from), "%s/conc.log", tmpdir);
        snprintf(to, sizeof(to), "%s/conc.log.%d", tmpdir, (int)i);
        assert_int_equal(rename(from, to), 0);
        access_log_reopen(&conc_conf);
        atomic_fetch_add(&conc_rotated, 1);
    }
    atomic_fetch_add(&conc_rotated, 1);
    for (i = 0; i < CONC_THREADS; i++)
        pthread_join(th[i], NULL);
    access_log_close(&conc_conf);
    free(e.dest);

    for (i = -1; i < CONC_ROTATIONS; i++) {
        snprintf(from, sizeof(from), i < 0 ? "conc.log" : "conc.log.%d",
                 (int)i);
        n = conc_count(from);
        assert_true(n >= (CONC_THREADS - 1) * CONC_PHASE_LINES);
        lines += n;
    }
    assert_int_equal(lines, (CONC_THREADS - 1) * CONC_PHASE_LINES *
                            (CONC_ROTATIONS + 1) + CONC_FREE_LINES);
}

static const struct {
    const char *dest;
    const char *err;        /* NULL: opens */
} open_cases[] = {
    { "stdio:/nonexistent-dir/x.log", "access_log stdio:/nonexistent-dir/"
      "x.log: cannot open /nonexistent-dir/x.log: No such file or "
      "directory" },
    { "tcp://192.0.2.1:514", "access_log tcp://192.0.2.1:514: unsupported "
      "log destination" },
    { "stdio:", "access_log stdio:: unsupported log destination" },
    { "syslog:local9.info", "access_log syslog:local9.info: unknown syslog "
      "facility or priority" },
    { "syslog:daemon.loud", "access_log syslog:daemon.loud: unknown syslog "
      "facility or priority" },
    { "syslog", NULL },
    { "syslog:daemon", NULL },
    { "syslog:LOG_LOCAL3.LOG_NOTICE", NULL },
    { "syslog:user.debug", NULL },
    { "syslog:mail.crit", NULL },
    { "syslog:kern.emerg", NULL },
    { "stdio:-", NULL },
    { "none", NULL },
};

static void
test_open_errors(void **state)
{
    struct conf_access_log e[2];
    struct conf conf;
    char *err;
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < SK_ARRAY_LEN(open_cases); i++) {
        memset(&conf, 0, sizeof(conf));
        /* a good file first: a failure must close it again */
        entry_init(&e[1], open_cases[i].dest, "squid", NULL, NULL);
        entry_init(&e[0], tmp_dest("stdio:", "ok.log"), "squid", NULL,
                   &e[1]);
        conf.access_logs = &e[0];
        err = NULL;
        rc = access_log_open(&conf, &err);
        if (open_cases[i].err == NULL) {
            assert_int_equal(rc, 0);
            assert_null(err);
            access_log_close(&conf);
        } else {
            assert_int_equal(rc, -1);
            assert_non_null(err);
            assert_string_equal(err, open_cases[i].err);
            free(err);
        }
        assert_int_equal(e[0].fd, -1);
        assert_int_equal(e[1].fd, -1);
        free(e[0].dest);
        free(e[1].dest);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_squid_reference),
        cmocka_unit_test(test_builtin_cases),
        cmocka_unit_test(test_custom_formats),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_format_list),
        cmocka_unit_test(test_render_truncation),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_local_time_zones),
        cmocka_unit_test(test_write_files_and_acls),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_concurrent_rotation),
        cmocka_unit_test(test_open_errors),
    };

    setenv("TZ", "UTC", 1);
    tzset();
    return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
