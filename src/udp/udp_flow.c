/*
 * udp_flow.c -- flow keys, hashing and timeout choice for udp_port (see
 * udp_flow.h).  No I/O here.
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "udp/udp_flow.h"

/* Copy the address and port of <sa> into <addr>/<port>; IPv4-mapped IPv6
 * becomes IPv4.  Return the resulting family, or 0 if not inet. */
static int
udp_flow_addr_take(const struct sockaddr_storage *sa, uint8_t addr[16],
                   uint16_t *port)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0xff, 0xff };

    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        memcpy(addr, &in->sin_addr, 4);
        *port = ntohs(in->sin_port);
        return AF_INET;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        *port = ntohs(in6->sin6_port);
        if (memcmp(in6->sin6_addr.s6_addr, mapped, 12) == 0) {
            memcpy(addr, in6->sin6_addr.s6_addr + 12, 4);
            return AF_INET;
        }
        memcpy(addr, in6->sin6_addr.s6_addr, 16);
        return AF_INET6;
    }
    return 0;
}

int
udp_flow_key_set(struct udp_flow_key *k,
                 const struct sockaddr_storage *client,
                 const struct sockaddr_storage *dst)
{
    int cf, df;

    memset(k, 0, sizeof(*k));
    cf = udp_flow_addr_take(client, k->caddr, &k->cport);
    df = udp_flow_addr_take(dst, k->daddr, &k->dport);
    if (cf == 0 || cf != df)
        return -1;
    k->family = (uint8_t)cf;
    return 0;
}

void
udp_flow_key_addr(const struct udp_flow_key *k, bool dst,
                  struct sockaddr_storage *out)
{
    const uint8_t *a = dst ? k->daddr : k->caddr;
    uint16_t port = dst ? k->dport : k->cport;

    memset(out, 0, sizeof(*out));
    if (k->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)out;

        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, a, 4);
        in->sin_port = htons(port);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;

        in6->sin6_family = AF_INET6;
        memcpy(in6->sin6_addr.s6_addr, a, 16);
        in6->sin6_port = htons(port);
    }
}

bool
udp_flow_key_eq(const struct udp_flow_key *a, const struct udp_flow_key *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

/* A 64-bit finaliser (splitmix64): every input bit reaches every output
 * bit, and the seed enters each round. */
static uint64_t
udp_flow_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

uint32_t
udp_flow_hash(const struct udp_flow_key *k, uint64_t seed)
{
    uint64_t w[sizeof(*k) / 8], h = seed;

    _Static_assert(sizeof(struct udp_flow_key) % 8 == 0,
                   "udp_flow_key is hashed in 64-bit words");
    memcpy(w, k, sizeof(w));
    for (size_t i = 0; i < SK_ARRAY_LEN(w); i++)
        h = udp_flow_mix(h, w[i]);
    return (uint32_t)(h ^ (h >> 32));
}

sk_msec_t
udp_flow_timeout(uint16_t dport, sk_msec_t idle_ms, sk_msec_t dns_ms)
{
    return dport == 53 ? dns_ms : idle_ms;
}

/* The Internet checksum (RFC 1071) of <len> bytes at <p>. */
static uint16_t
udp_flow_cksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void
udp_flow_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

size_t
udp_flow_icmp_unreach(const struct udp_flow_key *k, size_t dgram_len,
                      uint8_t *out, size_t cap)
{
    bool v4 = k->family == AF_INET;
    size_t iph = v4 ? 20 : 40, len = 8 + iph + 8;
    uint32_t ulen = (uint32_t)SK_MIN(dgram_len + 8, 0xffff);
    uint8_t *ip = out + 8, *udp = out + 8 + iph;

    if (cap < len || (k->family != AF_INET && k->family != AF_INET6))
        return 0;
    memset(out, 0, len);
    out[0] = v4 ? 3 : 1;                /* destination unreachable */
    out[1] = v4 ? 3 : 4;                /* port unreachable */
    if (v4) {
        ip[0] = 0x45;                   /* version 4, 20-byte header */
        udp_flow_put16(ip + 2, SK_MIN(ulen + 20, 0xffff));
        ip[8] = 64;                     /* TTL */
        ip[9] = IPPROTO_UDP;
        memcpy(ip + 12, k->caddr, 4);
        memcpy(ip + 16, k->daddr, 4);
        udp_flow_put16(ip + 10, udp_flow_cksum(ip, 20));
    } else {
        ip[0] = 0x60;                   /* version 6 */
        udp_flow_put16(ip + 4, ulen);   /* payload length */
        ip[6] = IPPROTO_UDP;
        ip[7] = 64;                     /* hop limit */
        memcpy(ip + 8, k->caddr, 16);
        memcpy(ip + 24, k->daddr, 16);
    }
    udp_flow_put16(udp, k->cport);
    udp_flow_put16(udp + 2, k->dport);
    udp_flow_put16(udp + 4, ulen);
    if (v4)
        udp_flow_put16(out + 2, udp_flow_cksum(out, len));
    return len;
}
