/*
 * test_nat.c -- unit tests for the NAT backend table (src/nat/): lookup by
 * name, "auto" selection over fake backends the test registers, the
 * choice for tproxy listeners, the pf DIOCNATLOOK request building, the
 * IPv4-mapped address conversion (sk_addr_unmap) and the "is this one of
 * skua's own listening ports" check shared by interception and SOCKS.  No
 * firewall is touched; the real lookups are exercised by
 * test-suite/integration/test_80_intercept.py.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sk_str.h"
#include "conf/conf.h"
#include "nat/nat.h"

/* ---- fake backends ---- */

static int probe_calls[4];
static int init_calls[4];

static int
fake_probe_ok(const struct nat_backend *b)
{
    probe_calls[b->name[4] - '0']++;
    return 0;
}

static int
fake_probe_fail(const struct nat_backend *b)
{
    probe_calls[b->name[4] - '0']++;
    return -1;
}

static int
fake_init(const struct nat_backend *b)
{
    init_calls[b->name[4] - '0']++;
    return 0;
}

/* Answer 192.0.2.80:8080 mapped into IPv6, to check the conversion. */
static int
fake_lookup(const struct nat_backend *b, int fd,
            const struct sockaddr_storage *peer,
            const struct sockaddr_storage *local,
            struct sockaddr_storage *orig)
{
    /* nat_lookup hands backends plain addresses only */
    assert_int_equal(peer->ss_family, AF_INET);
    assert_int_equal(local->ss_family, AF_INET);
    assert_int_equal(sk_addr_parse("[::ffff:192.0.2.80]:8080", NULL, true,
                                   orig), 0);
    return 0;
}

static const struct nat_backend fake0 = {
    "fake0", 0, fake_probe_fail, fake_init, fake_lookup, NULL
};
static const struct nat_backend fake1 = {
    "fake1", NAT_F_IPV6, fake_probe_ok, fake_init, fake_lookup, NULL
};
static const struct nat_backend fake2 = {
    "fake2", 0, fake_probe_ok, NULL, fake_lookup, NULL
};
static const struct nat_backend fake3 = {
    "fake3", NAT_F_TRANSPARENT, fake_probe_ok, NULL, fake_lookup, NULL
};

static const struct nat_backend *const fakes[] = {
    &fake0, &fake1, &fake2, &fake3, NULL
};

static int
setup_fakes(void **state)
{
    memset(probe_calls, 0, sizeof(probe_calls));
    memset(init_calls, 0, sizeof(init_calls));
    nat_set_backends(fakes);
    return 0;
}

static int
teardown_fakes(void **state)
{
    nat_set_backends(NULL);
    return 0;
}

static void
test_by_name(void **state)
{
    static const struct {
        const char *name;
        const struct nat_backend *expect;
    } cases[] = {
        { "fake0", &fake0 }, { "fake2", &fake2 }, { "fake3", &fake3 },
        { "auto", NULL }, { "", NULL }, { "fake", NULL }, { "FAKE1", NULL },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_ptr_equal(nat_backend_by_name(cases[i].name),
                         cases[i].expect);
}

static void
test_auto(void **state)
{
    /* fake0's probe fails, fake1 is next; transparent listeners get only
     * NAT_F_TRANSPARENT backends. */
    assert_ptr_equal(nat_backend_auto(false), &fake1);
    assert_ptr_equal(nat_backend_auto(false), &fake1);
    assert_int_equal(probe_calls[0], 1);        /* cached */
    assert_int_equal(probe_calls[1], 1);
    assert_int_equal(probe_calls[2], 0);
    assert_ptr_equal(nat_backend_auto(true), &fake3);
}

static void
test_select(void **state)
{
    static const struct {
        const char *setting;
        bool transparent;
        const char *expect;             /* backend name or error text */
    } cases[] = {
        { "auto", false, "fake1" },
        { "fake2", false, "fake2" },
        { "fake0", false, "does not work" },
        { "pf-none", false, "not built" },
        { "fake2", true, "not built" },     /* tproxy ports: "tproxy" */
    };
    char err[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct nat_backend *b;

        err[0] = '\0';
        b = nat_select(cases[i].setting, cases[i].transparent, err,
                       sizeof(err));
        if (b != NULL)
            assert_string_equal(b->name, cases[i].expect);
        else
            assert_non_null(strstr(err, cases[i].expect));
    }
    /* init runs once however often a backend is selected */
    assert_non_null(nat_select("fake1", false, err, sizeof(err)));
    assert_int_equal(init_calls[1], 1);
}

static void
test_lookup_unmaps(void **state)
{
    struct sockaddr_storage peer, local, orig;
    char buf[SK_ADDRSTRLEN];

    assert_int_equal(sk_addr_parse("[::ffff:198.51.100.2]:40000", NULL, true,
                                   &peer), 0);
    assert_int_equal(sk_addr_parse("[::ffff:198.51.100.1]:3129", NULL, true,
                                   &local), 0);
    assert_int_equal(nat_lookup(&fake1, -1, &peer, &local, &orig), 0);
    assert_string_equal(sk_addr_port_str((struct sockaddr *)&orig, buf,
                                         sizeof(buf)), "192.0.2.80:8080");
}

static void
test_backends_list(void **state)
{
    char buf[64], tiny[8];

    assert_string_equal(nat_backends_list(buf, sizeof(buf)),
                        "fake0 fake1 fake2 fake3");
    assert_string_equal(nat_backends_list(tiny, sizeof(tiny)), "fake0");
}

/* ---- without fakes ---- */

static void
test_builtin_table(void **state)
{
    char buf[128];

    nat_backends_list(buf, sizeof(buf));
#ifdef HAVE_NAT_NETFILTER
    assert_non_null(strstr(buf, "netfilter"));
    assert_non_null(nat_backend_by_name("netfilter"));
#endif
#ifdef HAVE_NAT_TPROXY
    assert_non_null(strstr(buf, "tproxy"));
    assert_true(nat_backend_by_name("tproxy")->flags & NAT_F_TRANSPARENT);
#endif
#ifndef HAVE_NAT_PF
    assert_null(nat_backend_by_name("pf"));
#endif
    for (const char *p = buf; *p != '\0'; p++)
        assert_true(*p == ' ' || (*p >= 'a' && *p <= 'z'));
}

static void
test_unmap(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "[::ffff:203.0.113.9]:80", "203.0.113.9:80" },
        { "[::ffff:0.0.0.0]:1", "0.0.0.0:1" },
        { "[2001:db8::1]:443", "[2001:db8::1]:443" },
        { "[::1]:3128", "[::1]:3128" },
        { "[::203.0.113.9]:80", "[::203.0.113.9]:80" },  /* compat, not
                                                            mapped */
        { "198.51.100.7:8080", "198.51.100.7:8080" },
    };
    struct sockaddr_storage a;
    char buf[SK_ADDRSTRLEN];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(sk_addr_parse(cases[i].in, NULL, true, &a), 0);
        sk_addr_unmap(&a, &a);
        assert_string_equal(sk_addr_port_str((struct sockaddr *)&a, buf,
                                             sizeof(buf)), cases[i].out);
    }
}

/* One wildcard SOCKS listener, one HTTP listener on 127.0.0.1, one UDP
 * listener given as an IPv4-mapped address. */
static void
test_own_port(void **state)
{
    static const struct {
        const char *addr;
        bool udp, own;
    } cases[] = {
        { "127.0.0.1:61001", false, true },     /* wildcard: any local */
        { "127.0.0.2:61001", false, true },     /* all of 127/8 is local */
        { "[::ffff:127.0.0.1]:61001", false, true },
        { "198.51.100.1:61001", false, false }, /* not this host's */
        { "127.0.0.1:61001", true, false },     /* a TCP port, asked UDP */
        { "127.0.0.1:61002", false, true },
        { "127.0.0.2:61002", false, false },    /* bound to .1 only */
        { "127.0.0.1:61003", true, true },
        { "[::ffff:127.0.0.1]:61003", true, true },
        { "127.0.0.1:61003", false, false },
        { "127.0.0.1:61004", false, false },    /* no listener there */
    };
    struct conf_http_port p[3];
    struct conf conf;
    struct sockaddr_storage a;
    struct ifaddrs *ifs, *i;

    memset(p, 0, sizeof(p));
    memset(&conf, 0, sizeof(conf));
    p[0].kind = CONF_PORT_SOCKS;
    assert_int_equal(sk_addr_parse("0.0.0.0:61001", NULL, true, &p[0].addr),
                     0);
    p[1].kind = CONF_PORT_HTTP;
    assert_int_equal(sk_addr_parse("127.0.0.1:61002", NULL, true,
                                   &p[1].addr), 0);
    p[2].kind = CONF_PORT_UDP;
    assert_int_equal(sk_addr_parse("[::ffff:127.0.0.1]:61003", NULL, true,
                                   &p[2].addr), 0);
    p[0].next = &p[1];
    p[1].next = &p[2];
    conf.http_ports = &p[0];
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        assert_int_equal(sk_addr_parse(cases[k].addr, NULL, true, &a), 0);
        if (nat_is_own_port(&conf, &a,
                            sk_addr_port((const struct sockaddr *)&a),
                            cases[k].udp) != cases[k].own)
            fail_msg("%s (%s): expected %s", cases[k].addr,
                     cases[k].udp ? "udp" : "tcp",
                     cases[k].own ? "own" : "not own");
        assert_int_equal(cases[k].udp ? nat_dst_is_udp_listener(&conf, &a)
                                      : nat_dst_is_listener(&conf, &a),
                         cases[k].own);
    }
    /* Every address of this host is one, IPv6 ones without their scope
     * (a SOCKS request carries none). */
    if (getifaddrs(&ifs) == 0) {
        for (i = ifs; i != NULL; i = i->ifa_next) {
            if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET &&
                                        i->ifa_addr->sa_family != AF_INET6))
                continue;
            memset(&a, 0, sizeof(a));
            memcpy(&a, i->ifa_addr, sk_addr_len(i->ifa_addr));
            if (a.ss_family == AF_INET) {
                ((struct sockaddr_in *)&a)->sin_port = htons(61001);
            } else {
                ((struct sockaddr_in6 *)&a)->sin6_port = htons(61001);
                ((struct sockaddr_in6 *)&a)->sin6_scope_id = 0;
            }
            assert_true(nat_dst_is_listener(&conf, &a));
        }
        freeifaddrs(ifs);
    }
}

static void
test_pf_fill(void **state)
{
    static const struct {
        const char *peer, *local;
        int af, rc;
        unsigned char s0, d0;           /* first address bytes */
        uint16_t sport, dport;          /* host order */
    } cases[] = {
        { "198.51.100.2:40000", "198.51.100.1:3129", AF_INET, 0,
          198, 198, 40000, 3129 },
        { "[2001:db8:1::2]:5555", "[2001:db8:1::1]:3129", AF_INET6, 0,
          0x20, 0x20, 5555, 3129 },
        { "198.51.100.2:40000", "[2001:db8:1::1]:3129", 0, -1, 0, 0, 0, 0 },
    };
    struct sockaddr_storage p, l;
    struct nat_pf_natlook nl;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(sk_addr_parse(cases[i].peer, NULL, true, &p), 0);
        assert_int_equal(sk_addr_parse(cases[i].local, NULL, true, &l), 0);
        assert_int_equal(nat_pf_fill(&nl, &p, &l), cases[i].rc);
        if (cases[i].rc == -1)
            continue;
        assert_int_equal(nl.af, cases[i].af);
        assert_int_equal(nl.proto, IPPROTO_TCP);
        /* the rdr state is found from the outbound side only */
        assert_int_equal(nl.direction, NAT_PF_OUT);
        assert_int_equal(nl.saddr[0], cases[i].s0);
        assert_int_equal(nl.daddr[0], cases[i].d0);
        assert_int_equal(ntohs(nl.sport), cases[i].sport);
        assert_int_equal(ntohs(nl.dport), cases[i].dport);
        if (cases[i].af == AF_INET) {
            assert_int_equal(nl.saddr[3], 2);
            assert_int_equal(nl.daddr[3], 1);
            assert_int_equal(nl.saddr[4], 0);   /* v4: rest is zero */
        } else {
            assert_int_equal(nl.saddr[15], 2);
            assert_int_equal(nl.daddr[15], 1);
        }
    }
}

static void
test_pf_result(void **state)
{
    static const struct {
        int af;
        unsigned char addr[16];
        uint16_t port;
        const char *expect;
    } cases[] = {
        { AF_INET, { 203, 0, 113, 10 }, 80, "203.0.113.10:80" },
        { AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x10 }, 8080,
          "[2001:db8:2::10]:8080" },
        { 0, { 0 }, 80, NULL },
    };
    struct nat_pf_natlook nl;
    struct sockaddr_storage o;
    char buf[SK_ADDRSTRLEN];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&nl, 0, sizeof(nl));
        nl.af = (sa_family_t)cases[i].af;
        memcpy(nl.rdaddr, cases[i].addr, 16);
        nl.rdport = htons(cases[i].port);
        if (cases[i].expect == NULL) {
            assert_int_equal(nat_pf_result(&nl, &o), -1);
            continue;
        }
        assert_int_equal(nat_pf_result(&nl, &o), 0);
        assert_string_equal(sk_addr_port_str((struct sockaddr *)&o, buf,
                                             sizeof(buf)), cases[i].expect);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_by_name, setup_fakes,
                                        teardown_fakes),
        cmocka_unit_test_setup_teardown(test_auto, setup_fakes,
                                        teardown_fakes),
        cmocka_unit_test_setup_teardown(test_select, setup_fakes,
                                        teardown_fakes),
        cmocka_unit_test_setup_teardown(test_lookup_unmaps, setup_fakes,
                                        teardown_fakes),
        cmocka_unit_test_setup_teardown(test_backends_list, setup_fakes,
                                        teardown_fakes),
        cmocka_unit_test(test_builtin_table),
        cmocka_unit_test(test_unmap),
        cmocka_unit_test(test_own_port),
        cmocka_unit_test(test_pf_fill),
        cmocka_unit_test(test_pf_result),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
