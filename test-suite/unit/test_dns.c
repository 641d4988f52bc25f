/*
 * test_dns.c -- unit tests for the resolver's pure parts: host name checks,
 * address literals, the hosts file table and the answer cache (driven by a
 * fake clock).  No sockets, no c-ares, no event loop.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sk_str.h"
#include "dns/dns_impl.h"

/* Render the addresses of <res> as "a,b,c" into <buf>. */
static const char *
addrs_str(const struct dns_result *res, char *buf, size_t len)
{
    char one[SK_ADDRSTRLEN];
    unsigned i;

    buf[0] = '\0';
    for (i = 0; i < res->n; i++) {
        sk_addr_str((const struct sockaddr *)&res->addrs[i], one,
                    sizeof(one));
        if (i > 0)
            strncat(buf, ",", len - strlen(buf) - 1);
        strncat(buf, one, len - strlen(buf) - 1);
    }
    return buf;
}

/* Fill <res> with a DNS_OK answer holding the addresses in <list>. */
static void
make_result(struct dns_result *res, const char *list)
{
    char copy[512], *tok, *save = NULL;

    memset(res, 0, sizeof(*res));
    res->status = DNS_OK;
    snprintf(copy, sizeof(copy), "%s", list);
    for (tok = strtok_r(copy, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        struct dns_result one;

        assert_int_equal(dns_literal_parse(tok, &one), 0);
        res->addrs[res->n++] = one.addrs[0];
    }
}

static void
test_name_normalize(void **state)
{
    static char l63[64], l64[65], n253[254], n254[255], n253dot[255];
    struct {
        const char *in;
        const char *out;            /* NULL: rejected */
    } cases[] = {
        { "example.com", "example.com" },
        { "WWW.Example.COM", "www.example.com" },
        { "example.com.", "example.com" },
        { "localhost", "localhost" },
        { "a-b_c.d0", "a-b_c.d0" },
        { "_srv._tcp.x", "_srv._tcp.x" },
        { "", NULL },
        { ".", NULL },
        { "example.com..", NULL },
        { ".example.com", NULL },
        { "a..b", NULL },
        { "exa mple.com", NULL },
        { "exa*mple.com", NULL },
        { "ex\xc3\xa4mple.com", NULL },
        { "host:80", NULL },
        { "[::1]", NULL },
        { "a/b", NULL },
        { l63, l63 },
        { l64, NULL },
        { n253, n253 },
        { n253dot, n253 },
        { n254, NULL },
    };
    char out[DNS_NAME_MAX + 1];
    size_t i;

    memset(l63, 'a', 63);
    memset(l64, 'a', 64);
    /* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
    snprintf(n253, sizeof(n253), "%s.%s.%s.%.61s", l63, l63, l63, l63);
    snprintf(n253dot, sizeof(n253dot), "%s.", n253);
    snprintf(n254, sizeof(n254), "%s.%s.%s.%.62s", l63, l63, l63, l63);
    assert_int_equal(strlen(n253), 253);
    assert_int_equal(strlen(n254), 254);
    for (i = 0; i < SK_ARRAY_LEN(cases); i++) {
        int rc = dns_name_normalize(cases[i].in, out, sizeof(out));

        if (cases[i].out == NULL) {
            if (rc != -1)
                fail_msg("case %zu '%s' accepted as '%s'", i, cases[i].in,
                         out);
        } else {
            if (rc == -1)
                fail_msg("case %zu '%s' rejected", i, cases[i].in);
            assert_string_equal(out, cases[i].out);
            assert_int_equal(rc, (int)strlen(cases[i].out));
        }
    }
    assert_int_equal(dns_name_normalize(NULL, out, sizeof(out)), -1);
    assert_int_equal(dns_name_normalize("a", out, 10), -1);
}

static void
test_literal(void **state)
{
    struct {
        const char *in;
        const char *out;            /* NULL: not a literal */
    } cases[] = {
        { "127.0.0.1", "127.0.0.1" },
        { "::1", "::1" },
        { "2001:DB8::1", "2001:db8::1" },
        { "::ffff:10.0.0.1", "::ffff:10.0.0.1" },
        { "[::1]", NULL },
        { "1.2.3", NULL },
        { "1.2.3.256", NULL },
        { "example.com", NULL },
        { "fe80::1%eth0", NULL },
        { "", NULL },
    };
    struct dns_result res;
    char buf[256];
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(cases); i++) {
        int rc = dns_literal_parse(cases[i].in, &res);

        if (cases[i].out == NULL) {
            assert_int_equal(rc, -1);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(res.status, DNS_OK);
        assert_int_equal(res.n, 1);
        assert_string_equal(addrs_str(&res, buf, sizeof(buf)),
                            cases[i].out);
        assert_int_equal(sk_addr_port((struct sockaddr *)&res.addrs[0]), 0);
    }
}

static const char hosts_text[] =
    "# a comment line\n"
    "127.0.0.1\tlocalhost\n"
    "::1     localhost ip6-localhost ip6-loopback   # trailing comment\n"
    "\n"
    "   \t  \n"
    "10.0.0.1 Alpha.Example alpha   # two names, one entry\n"
    "10.0.0.2 alpha.example.\n"
    "2001:db8::5 alpha.example\n"
    "10.0.0.1 alpha.example\n"
    "not-an-ip bogus.example\n"
    "10.0.0.9\n"
    "10.0.0.10 bad*name\n"
    "10.0.0.11 bad*name good.example\n"
    "1.2.3.4.5 toolong.example\n"
    "fe80::1%eth0 zoned.example\n"
    "192.0.2.7 last.example"; /* no final newline */

static void
test_hosts_parse(void **state)
{
    struct {
        const char *name;
        const char *addrs;          /* NULL: not found */
    } cases[] = {
        { "localhost", "127.0.0.1,::1" },
        { "ip6-localhost", "::1" },
        { "ip6-loopback", "::1" },
        { "alpha.example", "10.0.0.1,10.0.0.2,2001:db8::5" },
        { "alpha", "10.0.0.1" },
        { "good.example", "10.0.0.11" },
        { "last.example", "192.0.2.7" },
        { "bogus.example", NULL },
        { "toolong.example", NULL },
        { "zoned.example", NULL },
        { "bad*name", NULL },
        { "missing.example", NULL },
        { "a", NULL },
        { "zzzz", NULL },
    };
    struct dns_result res;
    struct dns_hosts *h;
    unsigned bad = 99;
    char buf[256];
    size_t i;

    h = dns_hosts_parse(hosts_text, strlen(hosts_text), &bad);
    assert_non_null(h);
    /* not-an-ip, bare address, only a bad name, 1.2.3.4.5, zoned */
    assert_int_equal(bad, 5);
    assert_int_equal(dns_hosts_count(h), 7);
    for (i = 0; i < SK_ARRAY_LEN(cases); i++) {
        memset(&res, 0, sizeof(res));
        if (cases[i].addrs == NULL) {
            if (dns_hosts_lookup(h, cases[i].name, &res))
                fail_msg("'%s' found", cases[i].name);
            continue;
        }
        if (!dns_hosts_lookup(h, cases[i].name, &res))
            fail_msg("'%s' not found", cases[i].name);
        assert_int_equal(res.status, DNS_OK);
        assert_string_equal(addrs_str(&res, buf, sizeof(buf)),
                            cases[i].addrs);
    }
    dns_hosts_free(h);
    assert_null(h);

    /* empty text, and the NULL table */
    h = dns_hosts_parse("", 0, NULL);
    assert_int_equal(dns_hosts_count(h), 0);
    assert_false(dns_hosts_lookup(h, "localhost", &res));
    dns_hosts_free(h);
    assert_false(dns_hosts_lookup(NULL, "localhost", &res));
}

static void
test_hosts_many_addrs(void **state)
{
    char text[4096];
    struct dns_result res;
    struct dns_hosts *h;
    size_t off = 0;
    int i;

    for (i = 1; i <= DNS_MAX_ADDRS + 4; i++)
        off += (size_t)snprintf(text + off, sizeof(text) - off,
                                "10.1.0.%d many\n", i);
    h = dns_hosts_parse(text, off, NULL);
    assert_true(dns_hosts_lookup(h, "many", &res));
    assert_int_equal(res.n, DNS_MAX_ADDRS);
    dns_hosts_free(h);
}

static void
test_ttl_clamp(void **state)
{
    struct {
        sk_msec_t answer, cap, want;
    } cases[] = {
        { 300000, 21600000, 300000 },   /* TTL below the cap */
        { 86400000, 21600000, 21600000 },   /* capped */
        { 0, 21600000, 1000 },          /* TTL 0: at least 1 s */
        { 500, 21600000, 1000 },
        { 5000, 0, 0 },                 /* cap 0: do not cache */
        { 5000, -1, 0 },
        { 5000, 200, 200 },             /* a cap below 1 s wins */
    };
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(cases); i++)
        assert_int_equal(dns_ttl_clamp(cases[i].answer, cases[i].cap),
                         cases[i].want);
}

static void
test_cache_basic(void **state)
{
    struct dns_cache *c = dns_cache_new(100);
    struct dns_result res, out;
    char buf[512];

    make_result(&res, "192.0.2.1,2001:db8::1,192.0.2.2");
    assert_false(dns_cache_lookup(c, "a.example", 0, &out));
    assert_int_equal(dns_cache_store(c, "a.example", &res, 1000, 5000), 0);
    assert_int_equal(dns_cache_count(c), 1);

    /* hit until just before expiry, with the answer order kept */
    memset(&out, 0, sizeof(out));
    assert_true(dns_cache_lookup(c, "a.example", 5999, &out));
    assert_int_equal(out.status, DNS_OK);
    assert_null(out.error);
    assert_string_equal(addrs_str(&out, buf, sizeof(buf)),
                        "192.0.2.1,2001:db8::1,192.0.2.2");
    assert_false(dns_cache_lookup(c, "b.example", 5999, &out));

    /* expired: a miss, and the entry is gone */
    assert_false(dns_cache_lookup(c, "a.example", 6000, &out));
    assert_int_equal(dns_cache_count(c), 0);

    /* replace */
    assert_int_equal(dns_cache_store(c, "a.example", &res, 1000, 0), 0);
    make_result(&res, "198.51.100.9");
    assert_int_equal(dns_cache_store(c, "a.example", &res, 1000, 0), 0);
    assert_int_equal(dns_cache_count(c), 1);
    assert_true(dns_cache_lookup(c, "a.example", 10, &out));
    assert_string_equal(addrs_str(&out, buf, sizeof(buf)), "198.51.100.9");

    dns_cache_clear(c);
    assert_int_equal(dns_cache_count(c), 0);
    assert_false(dns_cache_lookup(c, "a.example", 10, &out));
    dns_cache_free(c);
    assert_null(c);
}

static void
test_cache_negative(void **state)
{
    struct dns_cache *c = dns_cache_new(100);
    struct dns_result res, out;
    struct {
        enum dns_status status;
        unsigned n;
        int want;                   /* dns_cache_store() result */
    } cases[] = {
        { DNS_NXDOMAIN, 0, 0 },
        { DNS_TIMEOUT, 0, -1 },
        { DNS_FAIL, 0, -1 },
        { DNS_OK, 0, -1 },          /* no address: nothing to keep */
    };
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(cases); i++) {
        memset(&res, 0, sizeof(res));
        res.status = cases[i].status;
        res.n = cases[i].n;
        assert_int_equal(dns_cache_store(c, "neg.example", &res, 60000, 0),
                         cases[i].want);
        dns_cache_clear(c);
    }
    memset(&res, 0, sizeof(res));
    res.status = DNS_NXDOMAIN;
    assert_int_equal(dns_cache_store(c, "neg.example", &res, 60000, 100), 0);
    assert_true(dns_cache_lookup(c, "neg.example", 60099, &out));
    assert_int_equal(out.status, DNS_NXDOMAIN);
    assert_int_equal(out.n, 0);
    assert_non_null(out.error);
    assert_false(dns_cache_lookup(c, "neg.example", 60100, &out));

    /* zero or negative TTL: not stored */
    make_result(&res, "192.0.2.1");
    assert_int_equal(dns_cache_store(c, "z.example", &res, 0, 0), -1);
    assert_int_equal(dns_cache_store(c, "z.example", &res, -5, 0), -1);
    assert_int_equal(dns_cache_count(c), 0);
    dns_cache_free(c);
}

static void
test_cache_eviction(void **state)
{
    struct dns_cache *c = dns_cache_new(3);
    struct dns_result res, out;
    const char *names[] = { "n1", "n2", "n3", "n4", "n5" };
    struct {
        const char *name;
        bool present;
    } after[] = {
        { "n1", true },             /* touched, so kept */
        { "n2", false },            /* least recently used: evicted */
        { "n3", false },            /* evicted by n5 */
        { "n4", true },
        { "n5", true },
    };
    size_t i;

    make_result(&res, "192.0.2.1");
    for (i = 0; i < 3; i++)
        assert_int_equal(dns_cache_store(c, names[i], &res, 1000, 0), 0);
    assert_true(dns_cache_lookup(c, "n1", 1, &out));
    assert_int_equal(dns_cache_store(c, "n4", &res, 1000, 2), 0);
    assert_int_equal(dns_cache_count(c), 3);
    assert_int_equal(dns_cache_store(c, "n5", &res, 1000, 3), 0);
    assert_int_equal(dns_cache_count(c), 3);
    for (i = 0; i < SK_ARRAY_LEN(after); i++)
        assert_int_equal(dns_cache_lookup(c, after[i].name, 4, &out),
                         after[i].present);
    dns_cache_free(c);

    /* many names through a small cache: bounded, no leak */
    c = dns_cache_new(50);
    for (i = 0; i < 1000; i++) {
        char name[32];

        snprintf(name, sizeof(name), "host%zu.example", i);
        assert_int_equal(dns_cache_store(c, name, &res, 1000, 0), 0);
        assert_true(dns_cache_count(c) <= 50);
    }
    assert_true(dns_cache_lookup(c, "host999.example", 0, &out));
    assert_false(dns_cache_lookup(c, "host0.example", 0, &out));
    dns_cache_free(c);
}

static void
test_cache_global(void **state)
{
    struct dns_cache *g = dns_cache_global();
    struct dns_result res, out;

    assert_ptr_equal(g, dns_cache_global());
    make_result(&res, "192.0.2.1");
    assert_int_equal(dns_cache_store(g, "g.example", &res, 1000, 0), 0);
    assert_true(dns_cache_lookup(g, "g.example", 1, &out));
    dns_cache_flush();
    assert_false(dns_cache_lookup(g, "g.example", 1, &out));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_normalize),
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_hosts_parse),
        cmocka_unit_test(test_hosts_many_addrs),
        cmocka_unit_test(test_ttl_clamp),
        cmocka_unit_test(test_cache_basic),
        cmocka_unit_test(test_cache_negative),
        cmocka_unit_test(test_cache_eviction),
        cmocka_unit_test(test_cache_global),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
