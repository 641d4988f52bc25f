/*
 * test_acl.c -- unit tests for src/acl: parsing of acl and access lines,
 * checks of every acl type against records, the implicit last rule, the
 * ACL_NEED_DNS round trip, exact error messages, the dump, and checks from
 * several threads at once.
 *
 * Configurations are written as text, one directive a line ("acl ..." or
 * "http_access ..."), and fed to the acl parser directly: the conf module
 * is not linked.
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sk_arena.h"
#include "sk_str.h"

#include "acl/acl.h"
#include "comm/record.h"
#include "conf/conf.h"

#define A ACL_ALLOWED
#define D ACL_DENIED
#define N ACL_NEED_DNS

#define TC_MAX_ARGS 64
#define TC_MAX_ADDRS 8

/* ---- fixtures --------------------------------------------------------- */

struct tc {
    struct conf *conf;
    struct acl_access *list;
};

static void
tc_init(struct tc *t)
{
    t->conf = calloc(1, sizeof(*t->conf));
    assert_non_null(t->conf);
    t->conf->magic = CONF_MAGIC;
    t->conf->arena = sk_arena_new(0);
    t->list = NULL;
}

static void
tc_fini(struct tc *t)
{
    acl_conf_free(t->conf);
    sk_arena_free(t->conf->arena);
    free(t->conf);
    t->conf = NULL;
}

/* Parse one directive line; return what the parser returned. */
static int
tc_line(struct tc *t, char *line, char **err)
{
    char *argv[TC_MAX_ARGS], *save = NULL, *w;
    int argc = 0;

    for (w = strtok_r(line, " ", &save); w != NULL && argc < TC_MAX_ARGS;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    if (argc == 0)
        return 0;
    if (strcmp(argv[0], "acl") == 0)
        return acl_parse_line(t->conf, argc - 1, argv + 1, err);
    if (strcmp(argv[0], "http_access") == 0)
        return acl_parse_access(t->conf, &t->list, argc - 1, argv + 1, err);
    fail_msg("test bug: unknown directive '%s'", argv[0]);
    return -1;
}

/* Load <text>; return 0, or -1 with *<err> from the first failing line. */
static int
tc_load(struct tc *t, const char *text, char **err)
{
    char *copy = strdup(text), *line, *save = NULL;
    int rc = 0;

    assert_non_null(copy);
    *err = NULL;
    for (line = strtok_r(copy, "\n", &save); line != NULL && rc == 0;
         line = strtok_r(NULL, "\n", &save))
        rc = tc_line(t, line, err);
    free(copy);
    return rc;
}

static void
tc_load_ok(struct tc *t, const char *text)
{
    char *err = NULL;

    if (tc_load(t, text, &err) != 0)
        fail_msg("config '%s' failed: %s", text, err ? err : "(no error)");
}

/* What a record holds, as text. */
struct rspec {
    const char *client;         /* address, default 10.0.0.1 */
    const char *local;          /* address:port, default 127.0.0.1:3128 */
    uint16_t lport;
    const char *lname;
    const char *host;
    uint16_t port;
    const char *proto;
    const char *method;
    const char *url;
    const char *path;
    const char *sni;
    int step;
};

static void
tc_rec(const struct rspec *s, struct rec *rec)
{
    memset(rec, 0, sizeof(*rec));
    assert_int_equal(sk_addr_parse(s->client ? s->client : "10.0.0.1", NULL,
                                   false, &rec->client), 0);
    assert_int_equal(sk_addr_parse(s->local ? s->local : "127.0.0.1:3128",
                                   NULL, true, &rec->local), 0);
    rec->listener_port = s->lport;
    rec->listener_name = s->lname;
    rec->dst_host = s->host;
    rec->dst_port = s->port;
    rec->proto = s->proto;
    rec->method = s->method;
    rec->url = s->url;
    rec->urlpath = s->path;
    rec->sni = s->sni;
    rec->tls_step = s->step;
}

/* Addresses as "a b c" ("" resolved to nothing); NULL: not resolved. */
struct tc_dst {
    struct sockaddr_storage addrs[TC_MAX_ADDRS];
    struct acl_dst dst;
};

static const struct acl_dst *
tc_dst(const char *spec, struct tc_dst *d)
{
    char buf[256], *w, *save = NULL;

    if (spec == NULL)
        return NULL;
    memset(d, 0, sizeof(*d));
    snprintf(buf, sizeof(buf), "%s", spec);
    for (w = strtok_r(buf, " ", &save); w != NULL;
         w = strtok_r(NULL, " ", &save)) {
        assert_true(d->dst.n < TC_MAX_ADDRS);
        assert_int_equal(sk_addr_parse(w, NULL, false,
                                       &d->addrs[d->dst.n]), 0);
        d->dst.n++;
    }
    d->dst.addrs = d->addrs;
    d->dst.resolved = true;
    return &d->dst;
}

static const char *
tc_answer_name(enum acl_answer a)
{
    return a == A ? "ALLOWED" : a == D ? "DENIED" : "NEED_DNS";
}

/* ---- checks, one table row per (config, record, addresses) ---------- */

struct check_case {
    const char *conf;
    struct rspec r;
    const char *resolved;
    enum acl_answer want;
};

#define SRC10 "acl n src 10.0.0.0/8\nhttp_access allow n"
#define DST10 "acl n dst 10.0.0.0/8\nhttp_access allow n"
#define PORTS "acl p port 80 443 1025-65535\nhttp_access allow p"
#define DOMS "acl d dstdomain .example.com exact.org\nhttp_access allow d"
#define SNI "acl n ssl::server_name --client-requested .bank.example\n" \
    "http_access allow n"
#define SD "acl s src 10.0.0.0/8\nacl d dst 192.0.2.0/24\n"
#define URLRE "acl r url_regex \\.jpg$\nhttp_access allow r"
#define URLREI "acl r url_regex -i \\.jpg$\nhttp_access allow r"
#define URLREPI "acl r url_regex -i a +i B\nhttp_access allow r"

static const struct check_case check_cases[] = {
    /* src: CIDR, IPv4-mapped clients, IPv6, netmask, ranges, keywords */
    { SRC10, { .client = "10.1.2.3" }, NULL, A },
    { SRC10, { .client = "11.0.0.1" }, NULL, D },
    { SRC10, { .client = "::ffff:10.1.2.3" }, NULL, A },
    { SRC10, { .client = "::ffff:11.1.2.3" }, NULL, D },
    { SRC10, { .client = "2001:db8::1" }, NULL, D },
    { "acl n src fc00::/7\nhttp_access allow n",
      { .client = "fd00::1" }, NULL, A },
    { "acl n src fc00::/7\nhttp_access allow n",
      { .client = "fe80::1" }, NULL, D },
    { "acl n src fc00::/7\nhttp_access allow n",
      { .client = "10.0.0.1" }, NULL, D },
    { "acl n src 10.0.0.0/255.0.0.0\nhttp_access allow n",
      { .client = "10.9.9.9" }, NULL, A },
    { "acl n src 10.0.0.0/255.0.0.0\nhttp_access allow n",
      { .client = "12.9.9.9" }, NULL, D },
    { "acl n src 192.168.1.10-192.168.1.20\nhttp_access allow n",
      { .client = "192.168.1.10" }, NULL, A },
    { "acl n src 192.168.1.10-192.168.1.20\nhttp_access allow n",
      { .client = "192.168.1.20" }, NULL, A },
    { "acl n src 192.168.1.10-192.168.1.20\nhttp_access allow n",
      { .client = "192.168.1.21" }, NULL, D },
    { "acl n src 192.168.1.10-192.168.1.20\nhttp_access allow n",
      { .client = "192.168.1.9" }, NULL, D },
    { "acl n src 2001:db8::10-2001:db8::20\nhttp_access allow n",
      { .client = "2001:db8::1a" }, NULL, A },
    { "acl n src 2001:db8::10-2001:db8::20\nhttp_access allow n",
      { .client = "2001:db8::21" }, NULL, D },
    { "acl n src 10.0.0.1\nhttp_access allow n",
      { .client = "10.0.0.1" }, NULL, A },
    { "acl n src 10.0.0.1\nhttp_access allow n",
      { .client = "10.0.0.2" }, NULL, D },
    { "acl n src ::ffff:10.0.0.0/104\nhttp_access allow n",
      { .client = "10.200.0.1" }, NULL, A },
    { "acl n src 0.0.0.0/0\nhttp_access allow n",
      { .client = "2001:db8::1" }, NULL, D },
    { "acl n src all\nhttp_access allow n",
      { .client = "2001:db8::1" }, NULL, A },
    { "acl n src ipv4\nhttp_access allow n",
      { .client = "192.0.2.1" }, NULL, A },
    { "acl n src ipv4\nhttp_access allow n", { .client = "::1" }, NULL, D },
    { "acl n src ipv6\nhttp_access allow n", { .client = "::1" }, NULL, A },
    { "acl n src ipv6\nhttp_access allow n",
      { .client = "ffff::1" }, NULL, A },
    { "acl n src ipv6\nhttp_access allow n",
      { .client = "::ffff:192.0.2.1" }, NULL, D },
    { "acl n src 10.0.0.1\nacl n src 10.0.0.2\nhttp_access allow n",
      { .client = "10.0.0.2" }, NULL, A },
    { "acl n src\nhttp_access allow n", { .client = "10.0.0.2" }, NULL, D },

    /* dst: literals, NEED_DNS until resolved, any address matches */
    { DST10, { .host = "10.1.1.1" }, NULL, A },
    { DST10, { .host = "11.1.1.1" }, NULL, D },
    { DST10, { .host = "::ffff:10.1.1.1" }, NULL, A },
    { DST10, { .host = "[::ffff:10.1.1.1]" }, NULL, A },
    { DST10, { .host = "example.com" }, NULL, N },
    { DST10, { .host = "example.com" }, "10.2.3.4", A },
    { DST10, { .host = "example.com" }, "192.0.2.1 10.2.3.4", A },
    { DST10, { .host = "example.com" }, "192.0.2.1 2001:db8::1", D },
    { DST10, { .host = "example.com" }, "::ffff:10.0.0.9", A },
    { DST10, { .host = "example.com" }, "", D },
    { DST10, { .host = NULL }, NULL, D },
    { DST10, { .host = NULL }, "10.0.0.1", A },
    /* NEED_DNS only where the answer depends on it */
    { SD "http_access allow s d", { .client = "11.0.0.1", .host = "a.b" },
      NULL, D },
    { SD "http_access allow s d", { .client = "10.0.0.1", .host = "a.b" },
      NULL, N },
    { SD "http_access allow d s", { .client = "11.0.0.1", .host = "a.b" },
      NULL, D },
    { SD "http_access allow s d", { .client = "10.0.0.1", .host = "a.b" },
      "192.0.2.7", A },
    { SD "http_access deny d\nhttp_access deny all", { .host = "a.b" },
      NULL, D },
    { SD "http_access deny d\nhttp_access allow all", { .host = "a.b" },
      NULL, N },
    { SD "http_access deny d\nhttp_access allow all", { .host = "a.b" },
      "192.0.2.5", D },
    { SD "http_access deny d\nhttp_access allow all", { .host = "a.b" },
      "198.51.100.1", A },
    { SD "http_access allow s\nhttp_access deny d", { .host = "a.b" },
      NULL, A },
    { SD "http_access allow !d", { .host = "a.b" }, NULL, N },
    { SD "http_access allow !d", { .host = "a.b" }, "10.0.0.1", A },
    { SD "http_access allow d", { .host = "a.b" }, NULL, N },
    { SD "http_access deny d", { .host = "a.b" }, NULL, N },
    { SD "http_access allow d\nhttp_access allow s", { .host = "a.b" },
      NULL, A },

    /* port and localport: numbers and ranges */
    { PORTS, { .port = 80 }, NULL, A },
    { PORTS, { .port = 443 }, NULL, A },
    { PORTS, { .port = 1025 }, NULL, A },
    { PORTS, { .port = 65535 }, NULL, A },
    { PORTS, { .port = 1024 }, NULL, D },
    { PORTS, { .port = 22 }, NULL, D },
    { "acl p localport 3128\nhttp_access allow p", { .lport = 3128 },
      NULL, A },
    { "acl p localport 3128\nhttp_access allow p", { .lport = 8080 },
      NULL, D },
    { "acl p localport 3128\nhttp_access allow p",
      { .local = "127.0.0.1:3128" }, NULL, A },
    { "acl p myport 3000-4000\nhttp_access allow p", { .lport = 3128 },
      NULL, A },
    { "acl l localip 127.0.0.0/8\nhttp_access allow l",
      { .local = "127.0.0.2:80" }, NULL, A },
    { "acl l localip 127.0.0.0/8\nhttp_access allow l",
      { .local = "[::1]:80" }, NULL, D },

    /* method: case-sensitive; proto: case-insensitive */
    { "acl m method GET CONNECT\nhttp_access allow m",
      { .method = "GET" }, NULL, A },
    { "acl m method GET CONNECT\nhttp_access allow m",
      { .method = "CONNECT" }, NULL, A },
    { "acl m method GET CONNECT\nhttp_access allow m",
      { .method = "get" }, NULL, D },
    { "acl m method GET CONNECT\nhttp_access allow m",
      { .method = "POST" }, NULL, D },
    { "acl m method GET CONNECT\nhttp_access allow m", { 0 }, NULL, D },
    { "acl p proto HTTP\nhttp_access allow p", { .proto = "http" }, NULL,
      A },
    { "acl p proto HTTP\nhttp_access allow p", { .proto = "https" }, NULL,
      D },
    { "acl p proto https FTP\nhttp_access allow p", { .proto = "HTTPS" },
      NULL, A },
    { "acl p proto HTTP\nhttp_access allow p", { 0 }, NULL, D },

    /* ssl::server_name: the SNI, else the destination; at_step;
     * app_proto */
    { SNI, { .sni = "www.bank.example", .host = "192.0.2.1" }, NULL, A },
    { SNI, { .sni = "bank.example.org", .host = "x.bank.example" }, NULL,
      D },
    { SNI, { .host = "bank.example" }, NULL, A },
    { SNI, { .sni = "", .host = "bank.example" }, NULL, A },
    { SNI, { 0 }, NULL, D },
    { "acl r ssl::server_name_regex -i ^WWW\\.\nhttp_access allow r",
      { .sni = "www.a.b" }, NULL, A },
    { "acl r ssl::server_name_regex ^www\\.\nhttp_access allow r",
      { .sni = "ftp.a.b", .host = "www.a.b" }, NULL, D },
    { "acl s at_step SslBump2\nhttp_access allow s", { .step = 2 }, NULL,
      A },
    { "acl s at_step sslbump1 SslBump3\nhttp_access allow s",
      { .step = 2 }, NULL, D },
    { "acl s at_step SslBump1\nhttp_access allow s", { 0 }, NULL, D },
    { "acl p app_proto ssh server-first\nhttp_access allow p",
      { .proto = "server-first" }, NULL, A },
    { "acl p app_proto SSH\nhttp_access allow p", { .proto = "tls" }, NULL,
      D },

    /* dstdomain */
    { DOMS, { .host = "example.com" }, NULL, A },
    { DOMS, { .host = "www.example.com" }, NULL, A },
    { DOMS, { .host = "a.b.EXAMPLE.Com" }, NULL, A },
    { DOMS, { .host = "example.com." }, NULL, A },
    { DOMS, { .host = "notexample.com" }, NULL, D },
    { DOMS, { .host = "example.com.evil" }, NULL, D },
    { DOMS, { .host = "com" }, NULL, D },
    { DOMS, { .host = "exact.org" }, NULL, A },
    { DOMS, { .host = "EXACT.ORG." }, NULL, A },
    { DOMS, { .host = "www.exact.org" }, NULL, D },
    { DOMS, { 0 }, NULL, D },
    { "acl d dstdomain -n .a.com\nhttp_access allow d",
      { .host = "x.a.com" }, NULL, A },
    { "acl d dstdomain .Mixed.COM.\nhttp_access allow d",
      { .host = "x.mixed.com" }, NULL, A },
    { "acl d dstdomain sub.example.com .example.com\nhttp_access allow d",
      { .host = "x.example.com" }, NULL, A },
    { "acl d dstdomain a.b\nacl d dstdomain .a.b\nhttp_access allow d",
      { .host = "x.a.b" }, NULL, A },
    { "acl d dstdomain .a.b\nacl d dstdomain a.b\nhttp_access allow d",
      { .host = "x.a.b" }, NULL, A },
    { "acl d dstdomain .a.b\nhttp_access allow d", { .host = "x..a.b" },
      NULL, A },
    { "acl d dstdomain .a.b\nhttp_access allow d", { .host = "" }, NULL,
      D },
    { "acl d dstdomain .a.b\nhttp_access allow d", { .host = "." }, NULL,
      D },
    { "acl d dstdomain .a.b\nhttp_access allow d", { .host = ".a.b" },
      NULL, A },

    /* regular expressions */
    { "acl r dstdom_regex ^www\\.\nhttp_access allow r",
      { .host = "www.x.com" }, NULL, A },
    { "acl r dstdom_regex ^www\\.\nhttp_access allow r",
      { .host = "WWW.x.com" }, NULL, D },
    { "acl r dstdom_regex -i ^www\\.\nhttp_access allow r",
      { .host = "WWW.x.com" }, NULL, A },
    { URLRE, { .url = "http://a/b.jpg" }, NULL, A },
    { URLRE, { .url = "http://a/b.JPG" }, NULL, D },
    { URLRE, { .url = "http://a/b.jpg?x" }, NULL, D },
    { URLRE, { 0 }, NULL, D },
    { URLREI, { .url = "http://a/b.JPG" }, NULL, A },
    { URLREPI, { .url = "xA" }, NULL, A },
    { URLREPI, { .url = "xB" }, NULL, A },
    { URLREPI, { .url = "xb" }, NULL, D },
    { "acl r urlpath_regex ^/admin\nhttp_access deny r\nhttp_access allow "
      "all", { .path = "/admin/x" }, NULL, D },
    { "acl r urlpath_regex ^/admin\nhttp_access deny r\nhttp_access allow "
      "all", { .path = "/x/admin" }, NULL, A },
    { "acl r urlpath_regex ^/admin\nhttp_access deny r\nhttp_access allow "
      "all", { 0 }, NULL, A },
    { "acl r url_regex a\nacl r url_regex b\nhttp_access allow r",
      { .url = "b" }, NULL, A },

    /* myportname */
    { "acl n myportname front\nhttp_access allow n", { .lname = "front" },
      NULL, A },
    { "acl n myportname front\nhttp_access allow n", { .lname = "back" },
      NULL, D },
    { "acl n myportname front\nhttp_access allow n", { 0 }, NULL, D },

    /* all, negation, order, the implicit last rule, the empty list */
    { "http_access allow all", { 0 }, NULL, A },
    { "http_access deny all", { 0 }, NULL, D },
    { "acl all src all\nhttp_access allow all", { 0 }, NULL, A },
    { "acl x all\nhttp_access allow x", { 0 }, NULL, A },
    { "", { 0 }, NULL, D },
    { "acl s src 10.0.0.0/8", { 0 }, NULL, D },
    { "acl s src 10.0.0.0/8\nhttp_access deny !s\nhttp_access allow all",
      { .client = "10.1.1.1" }, NULL, A },
    { "acl s src 10.0.0.0/8\nhttp_access deny !s\nhttp_access allow all",
      { .client = "11.1.1.1" }, NULL, D },
    { "acl s src 10.0.0.0/8\nhttp_access allow ! s",
      { .client = "11.1.1.1" }, NULL, A },
    { "acl s src 10.0.0.0/8\nhttp_access deny s",
      { .client = "11.1.1.1" }, NULL, A },
    { "acl s src 10.0.0.0/8\nhttp_access deny s",
      { .client = "10.1.1.1" }, NULL, D },
    { "acl s src 10.0.0.0/8\nhttp_access allow s",
      { .client = "11.1.1.1" }, NULL, D },
    { "acl s src 10.0.0.0/8\nhttp_access deny s\nhttp_access allow all",
      { .client = "10.0.0.1" }, NULL, D },
    { "acl s src 10.0.0.0/8\nacl m method GET\nhttp_access allow s m",
      { .client = "10.0.0.1", .method = "GET" }, NULL, A },
    { "acl s src 10.0.0.0/8\nacl m method GET\nhttp_access allow s m",
      { .client = "10.0.0.1", .method = "POST" }, NULL, D },
    { "acl s src 10.0.0.0/8\nacl m method GET\nhttp_access allow s m",
      { .client = "11.0.0.1", .method = "GET" }, NULL, D },
    { "acl s src 10.0.0.0/8\nacl m method GET\nhttp_access allow s !m",
      { .client = "10.0.0.1", .method = "POST" }, NULL, A },
};

static void
test_check_table(void **state)
{
    const struct check_case *c;
    struct tc t;
    struct rec rec;
    struct tc_dst d;
    enum acl_answer got;
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(check_cases); i++) {
        c = &check_cases[i];
        tc_init(&t);
        tc_load_ok(&t, c->conf);
        tc_rec(&c->r, &rec);
        got = acl_check(t.list, &rec, tc_dst(c->resolved, &d));
        if (got != c->want)
            fail_msg("case %zu: config '%s' resolved '%s': got %s, want %s",
                     i, c->conf, c->resolved ? c->resolved : "(no)",
                     tc_answer_name(got), tc_answer_name(c->want));
        tc_fini(&t);
    }
}

/* The caller's loop: check, resolve on ACL_NEED_DNS, check again. */
static void
test_need_dns_flow(void **state)
{
    struct tc t;
    struct rec rec;
    struct tc_dst d;
    struct acl_dst unresolved = { NULL, 0, false };
    const struct rspec r = { .host = "www.example.com", .port = 443 };

    tc_init(&t);
    tc_load_ok(&t, "acl bad dst 203.0.113.0/24\nacl ssl port 443\n"
               "http_access deny bad\nhttp_access allow ssl");
    tc_rec(&r, &rec);
    assert_int_equal(acl_check(t.list, &rec, NULL), ACL_NEED_DNS);
    assert_int_equal(acl_check(t.list, &rec, &unresolved), ACL_NEED_DNS);
    assert_int_equal(acl_check(t.list, &rec, tc_dst("203.0.113.9", &d)),
                     ACL_DENIED);
    assert_int_equal(acl_check(t.list, &rec, tc_dst("198.51.100.9", &d)),
                     ACL_ALLOWED);
    /* a literal destination never needs a lookup */
    rec.dst_host = "203.0.113.1";
    assert_int_equal(acl_check(t.list, &rec, NULL), ACL_DENIED);
    tc_fini(&t);
}

/* ---- errors: exact messages ------------------------------------------ */

struct err_case {
    const char *conf;
    const char *want;
};

static const struct err_case err_cases[] = {
    { "acl n src 10.0.0.0/33", "acl n: bad netmask in '10.0.0.0/33'" },
    { "acl n src ::1/129", "acl n: bad netmask in '::1/129'" },
    { "acl n src ::1/255.0.0.0", "acl n: bad netmask in '::1/255.0.0.0'" },
    { "acl n src 10.0.0.0/", "acl n: bad netmask in '10.0.0.0/'" },
    { "acl n src 10.0.0.300", "acl n: bad address '10.0.0.300'" },
    { "acl n src 10.0.0/8", "acl n: bad address '10.0.0/8'" },
    { "acl n src 10.0.0.5-10.0.0.1",
      "acl n: bad address '10.0.0.5-10.0.0.1'" },
    { "acl n src 10.0.0.1-::1", "acl n: bad address '10.0.0.1-::1'" },
    { "acl n dst example.com", "acl n: bad address 'example.com'" },
    { "acl n port 80-22", "acl n: bad port '80-22'" },
    { "acl n port 65536", "acl n: bad port '65536'" },
    { "acl n port 1-", "acl n: bad port '1-'" },
    { "acl n port http", "acl n: bad port 'http'" },
    { "acl n port 80 -5", "acl n: bad port '-5'" },
    { "acl n foo x", "acl n: unknown type 'foo'" },
    { "acl n src 1.2.3.4\nacl n dst 1.2.3.4",
      "acl n: type dst differs from earlier src" },
    { "acl r url_regex (abc",
      "acl r: bad regex '(abc': missing closing parenthesis at offset 4" },
    { "acl r url_regex -i a[", "acl r: bad regex 'a[': missing terminating ]"
      " for character class at offset 2" },
    { "acl n method G(ET", "acl n: bad method 'G(ET'" },
    { "acl n dstdomain .", "acl n: bad domain '.'" },
    { "acl n dstdomain a/b", "acl n: bad domain 'a/b'" },
    { "acl n src -x 1.2.3.4", "acl n: unknown option '-x' for type src" },
    { "acl n src -i 1.2.3.4", "acl n: unknown option '-i' for type src" },
    { "acl n all 1", "acl n: type all takes no values" },
    { "acl", "acl: missing acl name" },
    { "acl n", "acl n: missing acl type" },
    { "acl b@d src all",
      "acl 'b@d': a name has only letters, digits, '-', '_' and '.'" },
    { "http_access allow nope", "acl 'nope' is not defined" },
    { "acl s src all\nhttp_access allow s !nope",
      "acl 'nope' is not defined" },
    { "http_access permit all",
      "bad action 'permit': expected 'allow' or 'deny'" },
    { "http_access Allow all",
      "bad action 'Allow': expected 'allow' or 'deny'" },
    { "http_access", "missing 'allow' or 'deny'" },
    { "http_access allow", "allow: no acl named (write 'allow all')" },
    { "http_access deny all !", "'!' without an acl name after it" },
};

static void
test_errors(void **state)
{
    const struct err_case *c;
    struct tc t;
    char *err;
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(err_cases); i++) {
        c = &err_cases[i];
        tc_init(&t);
        if (tc_load(&t, c->conf, &err) != -1)
            fail_msg("case %zu: config '%s' was accepted", i, c->conf);
        if (err == NULL || strcmp(err, c->want) != 0)
            fail_msg("case %zu: config '%s':\n got '%s'\nwant '%s'", i,
                     c->conf, err ? err : "(null)", c->want);
        free(err);
        tc_fini(&t);
    }
}

/* ---- lookups, the dump, threads ------------------------------------- */

#define TC_BIG 20000

/* A big dstdomain list (as from a "/file"): even entries are ".name". */
static void
test_dstdomain_big(void **state)
{
    struct tc t;
    struct rec rec;
    char *argv[3], value[64], host[64];
    char *err = NULL;
    int i;

    tc_init(&t);
    argv[0] = "d";
    argv[1] = "dstdomain";
    argv[2] = value;
    for (i = 0; i < TC_BIG; i++) {
        snprintf(value, sizeof(value), "%sh%d.Example", i % 2 ? "" : ".", i);
        assert_int_equal(acl_parse_line(t.conf, 3, argv, &err), 0);
    }
    tc_load_ok(&t, "http_access allow d");
    memset(&rec, 0, sizeof(rec));
    rec.dst_host = host;
    for (i = 0; i < TC_BIG; i++) {
        snprintf(host, sizeof(host), "h%d.example", i);
        assert_int_equal(acl_check(t.list, &rec, NULL), A);
        snprintf(host, sizeof(host), "www.H%d.example.", i);
        assert_int_equal(acl_check(t.list, &rec, NULL), i % 2 ? D : A);
        snprintf(host, sizeof(host), "h%d.example.com", i);
        assert_int_equal(acl_check(t.list, &rec, NULL), D);
    }
    tc_fini(&t);
}

/* A small deterministic generator (numbers from Knuth's MMIX LCG). */
static uint64_t tc_seed = 42;

static unsigned
tc_rand(unsigned n)
{
    tc_seed = tc_seed * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(tc_seed >> 33) % n;
}

/* An address in a small space so that values overlap and hit often. */
static void
tc_rand_addr(char *buf, size_t len)
{
    if (tc_rand(4) == 0)
        snprintf(buf, len, "2001:db8::%x:%x", tc_rand(4), tc_rand(65536));
    else
        snprintf(buf, len, "10.%u.%u.%u", tc_rand(4), tc_rand(256),
                 tc_rand(256));
}

static void
tc_rand_value(char *buf, size_t len)
{
    char a[64], b[64];
    bool v6;

    tc_rand_addr(a, sizeof(a));
    v6 = strchr(a, ':') != NULL;
    switch (tc_rand(5)) {
    case 0:
        snprintf(buf, len, "%s", a);
        break;
    case 1:
        snprintf(buf, len, "%s/%u", a, v6 ? 96 + tc_rand(33)
                                          : 8 + tc_rand(25));
        break;
    case 2:
        /* a range: the second end made not below the first */
        if (v6)
            snprintf(b, sizeof(b), "2001:db8::%x:ffff", tc_rand(4));
        else
            snprintf(b, sizeof(b), "10.3.255.%u", tc_rand(256));
        snprintf(buf, len, "%s-%s", v6 ? "2001:db8::" : "10.0.0.0", b);
        if (tc_rand(2) == 0)
            snprintf(buf, len, "%s-%s", a, a);
        break;
    case 3:
        snprintf(buf, len, "%s/255.%u.255.0", v6 ? "10.1.2.3" : a,
                 tc_rand(2) ? 255 : 0);
        break;
    default:
        snprintf(buf, len, "10.%u.%u.0/24", tc_rand(4), tc_rand(256));
        break;
    }
}

/*
 * The same values indexed (all defined before the rule) and scanned
 * (added after the rule): the answers must agree, address by address.
 */
static void
test_ip_index(void **state)
{
    struct tc ix, scan;
    struct rec rec;
    struct rspec r = { 0 };
    char value[128], addr[64], *argv[3], *err = NULL;
    int i, round, hits = 0;

    argv[0] = "n";
    argv[1] = "src";
    argv[2] = value;
    for (round = 0; round < 20; round++) {
        tc_init(&ix);
        tc_init(&scan);
        tc_load_ok(&scan, "acl n src 192.0.2.1\nhttp_access allow n");
        for (i = 0; i < 1 + round * round * 5; i++) {
            tc_rand_value(value, sizeof(value));
            if (acl_parse_line(ix.conf, 3, argv, &err) != 0 ||
                acl_parse_line(scan.conf, 3, argv, &err) != 0)
                fail_msg("value '%s': %s", value, err);
        }
        tc_load_ok(&ix, "acl n src 192.0.2.1\nhttp_access allow n");
        for (i = 0; i < 2000; i++) {
            tc_rand_addr(addr, sizeof(addr));
            r.client = addr;
            tc_rec(&r, &rec);
            if (acl_check(ix.list, &rec, NULL) !=
                acl_check(scan.list, &rec, NULL))
                fail_msg("round %d: %s answers differ", round, addr);
            hits += acl_check(ix.list, &rec, NULL) == A;
        }
        tc_fini(&scan);
        tc_fini(&ix);
    }
    /* the generator must exercise both answers */
    assert_true(hits > 1000 && hits < 39000);
}

static void
test_find(void **state)
{
    struct tc t;

    tc_init(&t);
    assert_non_null(acl_find(t.conf, "all"));
    assert_null(acl_find(t.conf, "nope"));
    tc_load_ok(&t, "acl nope src 10.0.0.1");
    assert_non_null(acl_find(t.conf, "nope"));
    assert_null(acl_find(t.conf, "NOPE"));
    tc_fini(&t);
}

static char *
tc_dump(struct tc *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    assert_non_null(fp);
    acl_dump(t->conf, fp);
    acl_access_dump(t->list, "http_access", fp);
    fclose(fp);
    return buf;
}

static void
test_dump_roundtrip(void **state)
{
    static const char conf[] =
        "acl net src 10.0.0.0/8 fc00::/7 192.168.1.1-192.168.1.9 ipv6\n"
        "acl ports port 80 1025-65535\n"
        "acl doms dstdomain .example.com exact.org\n"
        "acl re url_regex a -i b +i c\n"
        "acl re url_regex -i d\n"
        "acl m method GET\n"
        "acl big port 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n"
        "http_access deny !net ports\n"
        "http_access allow doms re m big\n"
        "http_access deny all\n";
    static const char want[] =
        "acl net src 10.0.0.0/8 fc00::/7 192.168.1.1-192.168.1.9 ipv6\n"
        "acl ports port 80 1025-65535\n"
        "acl doms dstdomain .example.com exact.org\n"
        "acl re url_regex a -i b +i c -i d\n"
        "acl m method GET\n"
        "acl big port 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
        "acl big port 17 18\n"
        "http_access deny !net ports\n"
        "http_access allow doms re m big\n"
        "http_access deny all\n";
    struct tc t, u;
    char *first, *second;

    tc_init(&t);
    tc_load_ok(&t, conf);
    first = tc_dump(&t);
    assert_string_equal(first, want);
    tc_init(&u);
    tc_load_ok(&u, first);
    second = tc_dump(&u);
    assert_string_equal(second, first);
    free(first);
    free(second);
    tc_fini(&u);
    tc_fini(&t);
}

#define TC_THREADS 4
#define TC_THREAD_CHECKS 20000

struct tc_thread {
    const struct acl_access *list;
    int failures;
};

static void *
tc_thread_run(void *arg)
{
    struct tc_thread *th = arg;
    struct rec rec;
    const struct rspec yes = { .url = "http://x/a.JPG", .host = "x" };
    const struct rspec no = { .url = "http://x/a.png", .host = "x" };
    struct rec rec_no;
    int i;

    tc_rec(&yes, &rec);
    tc_rec(&no, &rec_no);
    for (i = 0; i < TC_THREAD_CHECKS; i++) {
        if (acl_check(th->list, &rec, NULL) != ACL_DENIED ||
            acl_check(th->list, &rec_no, NULL) != ACL_ALLOWED)
            th->failures++;
    }
    return NULL;
}

/* One configuration checked from several threads at once. */
static void
test_threads(void **state)
{
    struct tc t;
    struct tc_thread th[TC_THREADS];
    pthread_t tid[TC_THREADS];
    int i;

    tc_init(&t);
    tc_load_ok(&t, "acl p urlpath_regex ^/admin\n"
               "acl d dstdomain .blocked.example\n"
               "acl img url_regex -i \\.(jpe?g|gif)$\n"
               "http_access deny p\nhttp_access deny d\n"
               "http_access deny img\nhttp_access allow all");
    for (i = 0; i < TC_THREADS; i++) {
        th[i].list = t.list;
        th[i].failures = 0;
        assert_int_equal(pthread_create(&tid[i], NULL, tc_thread_run,
                                        &th[i]), 0);
    }
    for (i = 0; i < TC_THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        assert_int_equal(th[i].failures, 0);
    }
    tc_fini(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_table),
        cmocka_unit_test(test_need_dns_flow),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_dstdomain_big),
        cmocka_unit_test(test_ip_index),
        cmocka_unit_test(test_dump_roundtrip),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
