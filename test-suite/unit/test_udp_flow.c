/*
 * test_udp_flow.c -- unit tests for the pure part of udp_port (src/udp/
 * udp_flow.c): flow keys from plain and IPv4-mapped addresses, key
 * comparison, the seeded hash, the choice of idle timeout and the ICMP
 * port unreachable relayed to a client.  No
 * sockets; the relay itself is exercised by
 * test-suite/integration/test_81_intercept_udp.py.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "udp/udp_flow.h"

/* <s> ("1.2.3.4" or "2001:db8::1") and <port> as a socket address. */
static struct sockaddr_storage
addr(const char *s, uint16_t port)
{
    struct sockaddr_storage a;

    memset(&a, 0, sizeof(a));
    if (strchr(s, ':') == NULL) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a;

        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        assert_int_equal(inet_pton(AF_INET, s, &in->sin_addr), 1);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        assert_int_equal(inet_pton(AF_INET6, s, &in6->sin6_addr), 1);
    }
    return a;
}

static void
test_key_set(void **state)
{
    static const struct {
        const char *c; uint16_t cp; const char *d; uint16_t dp;
        int rc; int family;
    } cases[] = {
        { "198.51.100.2", 40000, "203.0.113.10", 53, 0, AF_INET },
        { "::ffff:198.51.100.2", 40000, "203.0.113.10", 53, 0, AF_INET },
        { "2001:db8:1::2", 1, "2001:db8:2::10", 443, 0, AF_INET6 },
        { "198.51.100.2", 1, "2001:db8:2::10", 443, -1, 0 },
        { "2001:db8:1::2", 1, "203.0.113.10", 443, -1, 0 },
    };
    struct udp_flow_key k;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_storage c = addr(cases[i].c, cases[i].cp);
        struct sockaddr_storage d = addr(cases[i].d, cases[i].dp);

        assert_int_equal(udp_flow_key_set(&k, &c, &d), cases[i].rc);
        if (cases[i].rc == 0) {
            assert_int_equal(k.family, cases[i].family);
            assert_int_equal(k.cport, cases[i].cp);
            assert_int_equal(k.dport, cases[i].dp);
        }
    }

    /* Not an inet address at all. */
    struct sockaddr_storage u, d = addr("203.0.113.10", 53);

    memset(&u, 0, sizeof(u));
    u.ss_family = AF_UNIX;
    assert_int_equal(udp_flow_key_set(&k, &u, &d), -1);
}

static void
test_key_roundtrip(void **state)
{
    struct sockaddr_storage c = addr("::ffff:198.51.100.2", 40000);
    struct sockaddr_storage d = addr("203.0.113.10", 53), out;
    struct udp_flow_key k;
    char buf[64];

    assert_int_equal(udp_flow_key_set(&k, &c, &d), 0);
    udp_flow_key_addr(&k, false, &out);
    assert_int_equal(out.ss_family, AF_INET);
    inet_ntop(AF_INET, &((struct sockaddr_in *)&out)->sin_addr, buf,
              sizeof(buf));
    assert_string_equal(buf, "198.51.100.2");
    assert_int_equal(ntohs(((struct sockaddr_in *)&out)->sin_port), 40000);
    udp_flow_key_addr(&k, true, &out);
    assert_memory_equal(&out, &d, sizeof(struct sockaddr_in));

    c = addr("2001:db8:1::2", 5353);
    d = addr("2001:db8:2::10", 443);
    assert_int_equal(udp_flow_key_set(&k, &c, &d), 0);
    udp_flow_key_addr(&k, true, &out);
    assert_memory_equal(&out, &d, sizeof(struct sockaddr_in6));
    udp_flow_key_addr(&k, false, &out);
    assert_memory_equal(&out, &c, sizeof(struct sockaddr_in6));
}

/* Keys differing in any one part differ; a mapped and a plain IPv4
 * client make one flow, with one hash. */
static void
test_key_eq_and_hash(void **state)
{
    static const struct {
        const char *c; uint16_t cp; const char *d; uint16_t dp;
    } other[] = {
        { "198.51.100.3", 40000, "203.0.113.10", 53 },
        { "198.51.100.2", 40001, "203.0.113.10", 53 },
        { "198.51.100.2", 40000, "203.0.113.11", 53 },
        { "198.51.100.2", 40000, "203.0.113.10", 54 },
        { "203.0.113.10", 53, "198.51.100.2", 40000 },   /* reversed */
    };
    struct sockaddr_storage c = addr("198.51.100.2", 40000);
    struct sockaddr_storage cm = addr("::ffff:198.51.100.2", 40000);
    struct sockaddr_storage d = addr("203.0.113.10", 53);
    struct udp_flow_key k, km, ko;
    unsigned same_hash = 0;

    assert_int_equal(udp_flow_key_set(&k, &c, &d), 0);
    assert_int_equal(udp_flow_key_set(&km, &cm, &d), 0);
    assert_true(udp_flow_key_eq(&k, &km));
    assert_int_equal(udp_flow_hash(&k, 42), udp_flow_hash(&km, 42));
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        struct sockaddr_storage oc = addr(other[i].c, other[i].cp);
        struct sockaddr_storage od = addr(other[i].d, other[i].dp);

        assert_int_equal(udp_flow_key_set(&ko, &oc, &od), 0);
        assert_false(udp_flow_key_eq(&k, &ko));
        same_hash += udp_flow_hash(&k, 42) == udp_flow_hash(&ko, 42);
    }
    assert_int_equal(same_hash, 0);
    /* The seed changes the hash. */
    assert_int_not_equal(udp_flow_hash(&k, 1), udp_flow_hash(&k, 2));
}

/* Consecutive client ports spread over the buckets of a small table. */
static void
test_hash_spread(void **state)
{
    struct sockaddr_storage d = addr("203.0.113.10", 443);
    unsigned buckets[64] = { 0 }, max = 0;
    struct udp_flow_key k;

    for (unsigned p = 1; p <= 6400; p++) {
        struct sockaddr_storage c = addr("198.51.100.2", (uint16_t)p);

        assert_int_equal(udp_flow_key_set(&k, &c, &d), 0);
        buckets[udp_flow_hash(&k, 0x1234) & 63]++;
    }
    for (unsigned i = 0; i < 64; i++)
        max = buckets[i] > max ? buckets[i] : max;
    /* 100 per bucket on average; a poor hash piles them up. */
    assert_true(max < 160);
}

static void
test_timeout(void **state)
{
    static const struct {
        uint16_t port; sk_msec_t want;
    } cases[] = {
        { 53, 5000 }, { 443, 60000 }, { 5353, 60000 }, { 853, 60000 },
        { 1, 60000 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(udp_flow_timeout(cases[i].port, 60000, 5000),
                         cases[i].want);
}

/* The one's-complement sum of <len> bytes folded: 0xffff if a checksum
 * inside them is right. */
static unsigned
sum16(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

static unsigned
get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static void
test_icmp_unreach(void **state)
{
    struct sockaddr_storage c = addr("198.51.100.2", 40000);
    struct sockaddr_storage d = addr("203.0.113.10", 6666);
    struct udp_flow_key k;
    uint8_t b[UDP_ICMP_MAX + 8];
    size_t n;

    /* IPv4: type 3 code 3, valid checksums, the client's datagram
     * (client -> destination, UDP, its ports and length) inside. */
    assert_int_equal(udp_flow_key_set(&k, &c, &d), 0);
    n = udp_flow_icmp_unreach(&k, 13, b, sizeof(b));
    assert_int_equal(n, 8 + 20 + 8);
    assert_int_equal(b[0], 3);
    assert_int_equal(b[1], 3);
    assert_int_equal(sum16(b, n), 0xffff);
    assert_int_equal(b[8], 0x45);
    assert_int_equal(sum16(b + 8, 20), 0xffff);
    assert_int_equal(b[8 + 9], 17);
    assert_memory_equal(b + 8 + 12, "\xc6\x33\x64\x02", 4);
    assert_memory_equal(b + 8 + 16, "\xcb\x00\x71\x0a", 4);
    assert_int_equal(get16(b + 8 + 2), 20 + 8 + 13);
    assert_int_equal(get16(b + 28), 40000);
    assert_int_equal(get16(b + 30), 6666);
    assert_int_equal(get16(b + 32), 8 + 13);

    /* An odd length and an IPv4-mapped client change nothing. */
    c = addr("::ffff:198.51.100.2", 40000);
    assert_int_equal(udp_flow_key_set(&k, &c, &d), 0);
    assert_int_equal(udp_flow_icmp_unreach(&k, 13, b, sizeof(b)), n);

    /* Too small a buffer. */
    assert_int_equal(udp_flow_icmp_unreach(&k, 13, b, n - 1), 0);

    /* IPv6: type 1 code 4, checksum left to the raw socket. */
    c = addr("2001:db8:1::2", 5353);
    d = addr("2001:db8:2::10", 443);
    assert_int_equal(udp_flow_key_set(&k, &c, &d), 0);
    n = udp_flow_icmp_unreach(&k, 1200, b, sizeof(b));
    assert_int_equal(n, 8 + 40 + 8);
    assert_int_equal(b[0], 1);
    assert_int_equal(b[1], 4);
    assert_int_equal(get16(b + 2), 0);
    assert_int_equal(b[8] >> 4, 6);
    assert_int_equal(get16(b + 8 + 4), 1208);
    assert_int_equal(b[8 + 6], 17);
    assert_memory_equal(b + 8 + 8, k.caddr, 16);
    assert_memory_equal(b + 8 + 24, k.daddr, 16);
    assert_int_equal(get16(b + 48), 5353);
    assert_int_equal(get16(b + 50), 443);
    assert_int_equal(get16(b + 52), 1208);

    /* A datagram as large as UDP allows: the lengths saturate. */
    n = udp_flow_icmp_unreach(&k, 70000, b, sizeof(b));
    assert_int_equal(get16(b + 52), 0xffff);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_set),
        cmocka_unit_test(test_key_roundtrip),
        cmocka_unit_test(test_key_eq_and_hash),
        cmocka_unit_test(test_hash_spread),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_icmp_unreach),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
