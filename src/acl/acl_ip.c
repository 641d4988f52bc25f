/*
 * acl_ip.c -- the address acl types: src, dst and localip.
 *
 * Every address is kept in IPv6 form, IPv4 as ::ffff:a.b.c.d, so an
 * IPv4-mapped client matches IPv4 values and "all" covers both families.
 * Values become ranges; once an access rule refers to the acl they are
 * sorted and merged into disjoint ranges searched in O(log n), so big lists
 * from a "/file" cost little per check.  Hostnames as values (Squid
 * resolves them at load time) and Squid's netmask guessing for bare
 * addresses are left out: a bare address is one host.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "sk_arena.h"
#include "sk_str.h"

#include "acl/acl_impl.h"
#include "comm/record.h"

/* Put <sa> in 16-byte form, IPv4 as ::ffff:a.b.c.d; false if not inet. */
static bool
acl_addr16(const struct sockaddr *sa, uint8_t out[16])
{
    if (sa->sa_family == AF_INET) {
        memset(out, 0, 10);
        out[10] = 0xff;
        out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

/*
 * Parse the literal <s> of length <len> into 16-byte form; set *<v4> when
 * it was written as IPv4 (dotted quad).  Return 0 or -1.
 */
static int
acl_parse_addr(const char *s, size_t len, uint8_t out[16], bool *v4)
{
    char tmp[INET6_ADDRSTRLEN];
    struct in_addr a4;

    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (inet_pton(AF_INET, tmp, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = 0xff;
        out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        *v4 = true;
        return 0;
    }
    if (inet_pton(AF_INET6, tmp, out) == 1) {
        *v4 = false;
        return 0;
    }
    return -1;
}

/* Make the 16-byte mask of prefix length <bits> (0..128). */
static void
acl_prefix_mask(unsigned bits, uint8_t mask[16])
{
    unsigned i;

    for (i = 0; i < 16; i++) {
        if (bits >= 8) {
            mask[i] = 0xff;
            bits -= 8;
        } else {
            mask[i] = (uint8_t)(0xff00u >> bits);
            bits = 0;
        }
    }
}

/*
 * Parse the "/N" or "/a.b.c.d" mask <m> of an address written as IPv4
 * (<v4>) or IPv6 into <mask>.  Return 0 or -1.
 */
static int
acl_parse_mask(const char *m, bool v4, uint8_t mask[16])
{
    uint64_t bits;
    uint8_t dotted[16];
    bool mv4;

    if (sk_parse_u64(m, strlen(m), &bits) == 0) {
        if (bits > (v4 ? 32u : 128u))
            return -1;
        acl_prefix_mask((unsigned)bits + (v4 ? 96u : 0u), mask);
        return 0;
    }
    /* A dotted netmask (Squid allows it for IPv4), applied as written. */
    if (!v4 || acl_parse_addr(m, strlen(m), dotted, &mv4) == -1 || !mv4)
        return -1;
    memset(mask, 0xff, 12);
    memcpy(mask + 12, dotted + 12, 4);
    return 0;
}

/* True if <mask> is ones then zeros (a prefix length). */
static bool
acl_mask_is_prefix(const uint8_t mask[16])
{
    unsigned i = 0, inv;

    while (i < 16 && mask[i] == 0xff)
        i++;
    if (i == 16)
        return true;
    /* The partial byte is ones then zeros when its complement is 2^k-1. */
    inv = (uint8_t)~mask[i];
    if ((inv & (inv + 1)) != 0)
        return false;
    for (i++; i < 16; i++) {
        if (mask[i] != 0)
            return false;
    }
    return true;
}

/*
 * Set <it> to match (addr & <mask>) in [<lo> & mask, <hi> & mask].  With a
 * prefix mask that is the plain range [lo & mask, hi | ~mask], which the
 * index can sort; other masks (Squid allows any dotted netmask) are kept.
 */
static void
acl_ip_set(struct acl_item *it, const uint8_t lo[16], const uint8_t hi[16],
           const uint8_t mask[16])
{
    bool plain = acl_mask_is_prefix(mask);
    unsigned i;

    for (i = 0; i < 16; i++) {
        it->u.ip.lo[i] = lo[i] & mask[i];
        it->u.ip.hi[i] = plain ? (uint8_t)(hi[i] | ~mask[i]) : hi[i] & mask[i];
        it->u.ip.mask[i] = plain ? 0xff : mask[i];
    }
    it->u.ip.plain = plain;
}

/* The keywords Squid knows in place of an address. */
static int
acl_parse_ip_keyword(struct sk_arena *arena, struct acl *acl,
                     const char *value, const char *text)
{
    static const uint8_t zero[16], ones[16] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t v4lo[16] = { [10] = 0xff, [11] = 0xff };
    static const uint8_t v4hi[16] = { [10] = 0xff, [11] = 0xff, [12] = 0xff,
                                      [13] = 0xff, [14] = 0xff, [15] = 0xff };
    static const uint8_t belowv4[16] = { [10] = 0xff, [11] = 0xfe,
                                         [12] = 0xff, [13] = 0xff,
                                         [14] = 0xff, [15] = 0xff };
    static const uint8_t abovev4[16] = { [9] = 0x01 };
    struct acl_item *it;

    if (strcmp(value, "all") == 0) {
        it = acl_item_add(arena, acl);
        acl_ip_set(it, zero, zero, zero);
    } else if (strcmp(value, "ipv4") == 0) {
        it = acl_item_add(arena, acl);
        acl_ip_set(it, v4lo, v4hi, ones);
    } else if (strcmp(value, "ipv6") == 0) {
        /* Everything but ::ffff:0:0/96, in two ranges. */
        it = acl_item_add(arena, acl);
        acl_ip_set(it, zero, belowv4, ones);
        it->text = text;
        it = acl_item_add(arena, acl);
        acl_ip_set(it, abovev4, ones, ones);
        return 0;
    } else {
        return -1;
    }
    it->text = text;
    return 0;
}

/*
 * Parse an address value: "all", "ipv4", "ipv6", ADDR, ADDR/PREFIX,
 * ADDR/NETMASK, ADDR-ADDR or ADDR-ADDR/MASK.
 */
int
acl_parse_ip(struct sk_arena *arena, struct acl *acl, const char *value,
             bool icase, char **err)
{
    const char *slash, *dash, *end;
    uint8_t lo[16], hi[16], mask[16];
    bool v4, v4hi;
    const char *text = sk_arena_strdup(arena, value);

    if (acl_parse_ip_keyword(arena, acl, value, text) == 0)
        return 0;
    slash = strchr(value, '/');
    end = slash ? slash : value + strlen(value);
    dash = memchr(value, '-', (size_t)(end - value));
    if (acl_parse_addr(value, (size_t)((dash ? dash : end) - value), lo,
                       &v4) == -1)
        goto bad;
    memcpy(hi, lo, 16);
    if (dash != NULL) {
        if (acl_parse_addr(dash + 1, (size_t)(end - dash - 1), hi,
                           &v4hi) == -1 || v4hi != v4 ||
            memcmp(lo, hi, 16) > 0)
            goto bad;
    }
    if (slash != NULL) {
        if (acl_parse_mask(slash + 1, v4, mask) == -1)
            return acl_errorf(err, "acl %s: bad netmask in '%s'", acl->name,
                              value);
    } else {
        memset(mask, 0xff, 16);
    }
    acl_ip_set(acl_item_add(arena, acl), lo, hi, mask);
    acl->items[acl->n - 1].text = text;
    return 0;
bad:
    return acl_errorf(err, "acl %s: bad address '%s'", acl->name, value);
}

static bool
acl_ip_item_has(const struct acl_item *it, const uint8_t x[16])
{
    uint8_t m[16];
    unsigned j;

    for (j = 0; j < 16; j++)
        m[j] = x[j] & it->u.ip.mask[j];
    return memcmp(m, it->u.ip.lo, 16) >= 0 && memcmp(m, it->u.ip.hi, 16) <= 0;
}

/*
 * The sorted ranges first (binary search), then the items the index keeps
 * aside (odd masks), then values appended after the index was built.
 */
static bool
acl_ip_has(const struct acl *acl, const uint8_t x[16])
{
    const struct acl_ipx *ix = acl->ipx;
    unsigned lo = 0, hi, mid, i;

    if (ix != NULL) {
        hi = ix->n;
        while (lo < hi) {
            mid = lo + (hi - lo) / 2;
            if (memcmp(ix->ranges[mid].lo, x, 16) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0 && memcmp(x, ix->ranges[lo - 1].hi, 16) <= 0)
            return true;
        for (i = 0; i < ix->nodd; i++) {
            if (acl_ip_item_has(&acl->items[ix->odd[i]], x))
                return true;
        }
    }
    for (i = acl->indexed; i < acl->n; i++) {
        if (acl_ip_item_has(&acl->items[i], x))
            return true;
    }
    return false;
}

static int
acl_range_cmp(const void *a, const void *b)
{
    return memcmp(((const struct acl_iprange *)a)->lo,
                  ((const struct acl_iprange *)b)->lo, 16);
}

void
acl_index_ip(struct sk_arena *arena, struct acl *acl)
{
    struct acl_ipx *ix = sk_arena_calloc(arena, sizeof(*ix));
    struct acl_iprange *r;
    const struct acl_item *it;
    unsigned i, nplain = 0, out = 0;

    for (i = 0; i < acl->n; i++)
        nplain += acl->items[i].u.ip.plain;
    ix->ranges = sk_arena_alloc(arena, (nplain + 1) * sizeof(*ix->ranges));
    ix->odd = sk_arena_alloc(arena, (acl->n - nplain + 1) *
                             sizeof(*ix->odd));
    for (i = 0; i < acl->n; i++) {
        it = &acl->items[i];
        if (!it->u.ip.plain) {
            ix->odd[ix->nodd++] = i;
            continue;
        }
        memcpy(ix->ranges[out].lo, it->u.ip.lo, 16);
        memcpy(ix->ranges[out].hi, it->u.ip.hi, 16);
        out++;
    }
    qsort(ix->ranges, out, sizeof(*ix->ranges), acl_range_cmp);
    /* Merge overlaps so the ranges are disjoint: then only the last range
     * starting at or below an address can hold it. */
    for (i = 1, ix->n = out ? 1 : 0; i < out; i++) {
        r = &ix->ranges[ix->n - 1];
        if (memcmp(ix->ranges[i].lo, r->hi, 16) <= 0) {
            if (memcmp(ix->ranges[i].hi, r->hi, 16) > 0)
                memcpy(r->hi, ix->ranges[i].hi, 16);
        } else {
            ix->ranges[ix->n++] = ix->ranges[i];
        }
    }
    acl->ipx = ix;
    acl->indexed = acl->n;
}

enum acl_match
acl_match_src(const struct acl *acl, const struct rec *rec,
              const struct acl_dst *dst)
{
    uint8_t x[16];

    if (!acl_addr16((const struct sockaddr *)&rec->client, x))
        return ACL_M_NO;
    return acl_ip_has(acl, x) ? ACL_M_YES : ACL_M_NO;
}

enum acl_match
acl_match_localip(const struct acl *acl, const struct rec *rec,
                  const struct acl_dst *dst)
{
    uint8_t x[16];

    if (!acl_addr16((const struct sockaddr *)&rec->local, x))
        return ACL_M_NO;
    return acl_ip_has(acl, x) ? ACL_M_YES : ACL_M_NO;
}

/*
 * dst: an IP literal destination is used as it is; a name needs its
 * resolved addresses, and any of them matching is a match (as in Squid).
 */
enum acl_match
acl_match_dst(const struct acl *acl, const struct rec *rec,
              const struct acl_dst *dst)
{
    const char *h = rec->dst_host;
    size_t len;
    uint8_t x[16];
    bool v4;
    unsigned i;

    if (h != NULL && *h != '\0') {
        len = strlen(h);
        if (h[0] == '[' && h[len - 1] == ']') {
            h++;
            len -= 2;
        }
        if (acl_parse_addr(h, len, x, &v4) == 0)
            return acl_ip_has(acl, x) ? ACL_M_YES : ACL_M_NO;
    } else if (dst == NULL || !dst->resolved) {
        return ACL_M_NO;        /* no name to resolve */
    }
    if (dst == NULL || !dst->resolved)
        return ACL_M_NEED;
    for (i = 0; i < dst->n; i++) {
        if (acl_addr16((const struct sockaddr *)&dst->addrs[i], x) &&
            acl_ip_has(acl, x))
            return ACL_M_YES;
    }
    return ACL_M_NO;
}
