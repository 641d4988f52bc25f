/*
 * acl_types.c -- the acl types: how each parses its values and how it
 * matches a connection record.
 *
 * One parser and one matcher per type, listed in one table (acl_kinds).
 * Matchers are pure functions of the acl and the record: they allocate
 * nothing and touch no shared mutable state; the only per-thread state is
 * the PCRE2 match data, made once per thread.  Types that need data skua
 * does not have (reverse DNS for dstdomain on an IP literal, hostnames in
 * src/dst values resolved at load time, Squid's guessed netmasks for bare
 * addresses) are deliberately left out: a bare address is one host.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sk_arena.h"
#include "sk_str.h"

#include "acl/acl_impl.h"
#include "comm/record.h"

/* ---- helpers */

int
acl_errorf(char **err, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    s = sk_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (err != NULL)
        *err = s;
    else
        free(s);
    return -1;
}

struct acl_item *
acl_item_add(struct sk_arena *arena, struct acl *acl)
{
    struct acl_item *items;
    unsigned cap;

    if (acl->n == acl->cap) {
        /* The old array stays in the arena: at most as much again as the
         * final array, and only while the configuration loads. */
        cap = acl->cap ? acl->cap * 2 : 4;
        items = sk_arena_alloc(arena, cap * sizeof(*items));
        if (acl->n > 0)
            memcpy(items, acl->items, acl->n * sizeof(*items));
        acl->items = items;
        acl->cap = cap;
    }
    items = &acl->items[acl->n++];
    memset(items, 0, sizeof(*items));
    return items;
}

static inline int
acl_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* ---- addresses: src, dst, localip */

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

static void
acl_ip_set(struct acl_item *it, const uint8_t lo[16], const uint8_t hi[16],
           const uint8_t mask[16])
{
    unsigned i;

    for (i = 0; i < 16; i++) {
        it->u.ip.lo[i] = lo[i] & mask[i];
        it->u.ip.hi[i] = hi[i] & mask[i];
        it->u.ip.mask[i] = mask[i];
    }
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
static int
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
acl_ip_has(const struct acl *acl, const uint8_t x[16])
{
    const struct acl_item *it;
    uint8_t m[16];
    unsigned i, j;

    for (i = 0; i < acl->n; i++) {
        it = &acl->items[i];
        for (j = 0; j < 16; j++)
            m[j] = x[j] & it->u.ip.mask[j];
        if (memcmp(m, it->u.ip.lo, 16) >= 0 &&
            memcmp(m, it->u.ip.hi, 16) <= 0)
            return true;
    }
    return false;
}

static enum acl_match
acl_match_src(const struct acl *acl, const struct rec *rec,
              const struct acl_dst *dst)
{
    uint8_t x[16];

    if (!acl_addr16((const struct sockaddr *)&rec->client, x))
        return ACL_M_NO;
    return acl_ip_has(acl, x) ? ACL_M_YES : ACL_M_NO;
}

static enum acl_match
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
static enum acl_match
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

/* ---- ports: port, localport */

static int
acl_parse_port(struct sk_arena *arena, struct acl *acl, const char *value,
               bool icase, char **err)
{
    const char *dash = strchr(value, '-');
    size_t len = strlen(value);
    uint64_t lo, hi;
    struct acl_item *it;

    if (dash == NULL) {
        if (sk_parse_u64(value, len, &lo) == -1 || lo > 65535)
            goto bad;
        hi = lo;
    } else if (sk_parse_u64(value, (size_t)(dash - value), &lo) == -1 ||
               sk_parse_u64(dash + 1, len - (size_t)(dash - value) - 1,
                            &hi) == -1 ||
               hi > 65535 || lo > hi) {
        goto bad;
    }
    it = acl_item_add(arena, acl);
    it->text = sk_arena_strdup(arena, value);
    it->u.port.lo = (uint16_t)lo;
    it->u.port.hi = (uint16_t)hi;
    return 0;
bad:
    return acl_errorf(err, "acl %s: bad port '%s'", acl->name, value);
}

static enum acl_match
acl_port_has(const struct acl *acl, unsigned port)
{
    unsigned i;

    for (i = 0; i < acl->n; i++) {
        if (port >= acl->items[i].u.port.lo &&
            port <= acl->items[i].u.port.hi)
            return ACL_M_YES;
    }
    return ACL_M_NO;
}

static enum acl_match
acl_match_port(const struct acl *acl, const struct rec *rec,
               const struct acl_dst *dst)
{
    return acl_port_has(acl, rec->dst_port);
}

static enum acl_match
acl_match_localport(const struct acl *acl, const struct rec *rec,
                    const struct acl_dst *dst)
{
    unsigned port = rec->listener_port;

    if (port == 0)
        port = sk_addr_port((const struct sockaddr *)&rec->local);
    return acl_port_has(acl, port);
}

/* ---- words: method, proto, myportname */

/* An RFC 9110 token character (method names are tokens). */
static bool
acl_is_tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
                                                          c) != NULL);
}

static int
acl_parse_word(struct sk_arena *arena, struct acl *acl, const char *value,
               bool icase, char **err)
{
    const char *p;
    struct acl_item *it;

    for (p = value; *p != '\0'; p++) {
        if (!acl_is_tchar((unsigned char)*p))
            break;
    }
    if (*value == '\0' || *p != '\0')
        return acl_errorf(err, "acl %s: bad %s '%s'", acl->name,
                          acl->kind->name, value);
    it = acl_item_add(arena, acl);
    it->text = sk_arena_strdup(arena, value);
    it->u.str = it->text;
    return 0;
}

static int
acl_parse_name(struct sk_arena *arena, struct acl *acl, const char *value,
               bool icase, char **err)
{
    struct acl_item *it;

    if (*value == '\0')
        return acl_errorf(err, "acl %s: empty %s", acl->name,
                          acl->kind->name);
    it = acl_item_add(arena, acl);
    it->text = sk_arena_strdup(arena, value);
    it->u.str = it->text;
    return 0;
}

static enum acl_match
acl_str_has(const struct acl *acl, const char *s, bool icase)
{
    unsigned i;

    if (s == NULL)
        return ACL_M_NO;
    for (i = 0; i < acl->n; i++) {
        if ((icase ? strcasecmp(s, acl->items[i].u.str)
                   : strcmp(s, acl->items[i].u.str)) == 0)
            return ACL_M_YES;
    }
    return ACL_M_NO;
}

/* Methods are case-sensitive (RFC 9110 section 9.1), as in Squid. */
static enum acl_match
acl_match_method(const struct acl *acl, const struct rec *rec,
                 const struct acl_dst *dst)
{
    return acl_str_has(acl, rec->method, false);
}

static enum acl_match
acl_match_proto(const struct acl *acl, const struct rec *rec,
                const struct acl_dst *dst)
{
    return acl_str_has(acl, rec->proto, true);
}

static enum acl_match
acl_match_myportname(const struct acl *acl, const struct rec *rec,
                     const struct acl_dst *dst)
{
    return acl_str_has(acl, rec->listener_name, false);
}

/* ---- dstdomain */

/* <a,len> equals the lower-case <b> of the same length, ignoring case. */
static bool
acl_ieq(const char *a, const char *b, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (acl_lower((unsigned char)a[i]) != (unsigned char)b[i])
            return false;
    }
    return true;
}

/* FNV-1a of the lower-cased <s,len>. */
static uint32_t
acl_dom_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (uint32_t)acl_lower((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h;
}

/*
 * Return the index in <tab> (of <size> slots, a power of two, never full)
 * of the name <s,len>, or of the empty slot where it would go.
 */
static unsigned
acl_dom_slot(const struct acl_dom_slot *tab, unsigned size, const char *s,
             size_t len)
{
    unsigned i = acl_dom_hash(s, len) & (size - 1);

    while (tab[i].name != NULL &&
           !(tab[i].len == len && acl_ieq(s, tab[i].name, len)))
        i = (i + 1) & (size - 1);
    return i;
}

/* Add <name,len> to the index of <acl>, doubling it when half full. */
static void
acl_dom_insert(struct sk_arena *arena, struct acl *acl, const char *name,
               size_t len, bool sub)
{
    struct acl_dom_slot *old = acl->dom, *slot;
    unsigned oldsize = acl->dom_size, i;

    if ((acl->dom_used + 1) * 2 > acl->dom_size) {
        acl->dom_size = oldsize ? oldsize * 2 : 16;
        acl->dom = sk_arena_calloc(arena, acl->dom_size * sizeof(*old));
        for (i = 0; i < oldsize; i++) {
            if (old[i].name != NULL)
                acl->dom[acl_dom_slot(acl->dom, acl->dom_size, old[i].name,
                                      old[i].len)] = old[i];
        }
    }
    slot = &acl->dom[acl_dom_slot(acl->dom, acl->dom_size, name, len)];
    if (slot->name == NULL) {
        slot->name = name;
        slot->len = len;
        acl->dom_used++;
    }
    /* "example.com" and ".example.com" both listed: the wider wins. */
    slot->sub = slot->sub || sub;
}

static int
acl_parse_domain(struct sk_arena *arena, struct acl *acl, const char *value,
                 bool icase, char **err)
{
    const char *p = value;
    size_t len, i;
    bool sub = false;
    char *name;
    struct acl_item *it;

    if (*p == '.') {
        sub = true;
        p++;
    }
    len = strlen(p);
    if (len > 0 && p[len - 1] == '.')
        len--;
    if (len == 0 || strchr(value, '/') != NULL || strchr(value, ':') != NULL)
        goto bad;
    name = sk_arena_strndup(arena, p, len);
    for (i = 0; i < len; i++) {
        if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f)
            goto bad;
        name[i] = (char)acl_lower((unsigned char)name[i]);
    }
    acl_dom_insert(arena, acl, name, len, sub);
    it = acl_item_add(arena, acl);
    it->text = sk_arena_strdup(arena, value);
    return 0;
bad:
    return acl_errorf(err, "acl %s: bad domain '%s'", acl->name, value);
}

/*
 * The host itself is looked up, then each parent domain for a ".name"
 * value: as many lookups as the host has labels, whatever the list size.
 */
static enum acl_match
acl_match_dstdomain(const struct acl *acl, const struct rec *rec,
                    const struct acl_dst *dst)
{
    const char *h = rec->dst_host;
    const struct acl_dom_slot *slot;
    size_t hl, i;

    if (h == NULL || acl->dom_size == 0)
        return ACL_M_NO;
    hl = strlen(h);
    if (hl > 0 && h[hl - 1] == '.')
        hl--;
    slot = &acl->dom[acl_dom_slot(acl->dom, acl->dom_size, h, hl)];
    if (slot->name != NULL)
        return ACL_M_YES;
    for (i = 0; i < hl; i++) {
        if (h[i] != '.')
            continue;
        slot = &acl->dom[acl_dom_slot(acl->dom, acl->dom_size, h + i + 1,
                                      hl - i - 1)];
        if (slot->name != NULL && slot->sub)
            return ACL_M_YES;
    }
    return ACL_M_NO;
}

/* ---- regular expressions: dstdom_regex, url_regex, urlpath_regex */

/*
 * Match data for the current thread, made on first use; a thread-exit
 * destructor frees it.  Only whether a pattern matches is wanted, so one
 * ovector pair is enough for any pattern.
 */
static _Thread_local pcre2_match_data *acl_tls_md;
static pthread_once_t acl_md_once = PTHREAD_ONCE_INIT;
static pthread_key_t acl_md_key;
static bool acl_md_key_ok;

static void
acl_md_destroy(void *md)
{
    pcre2_match_data_free(md);
}

static void
acl_md_key_make(void)
{
    acl_md_key_ok = pthread_key_create(&acl_md_key, acl_md_destroy) == 0;
}

static pcre2_match_data *
acl_md_get(void)
{
    if (SK_LIKELY(acl_tls_md != NULL))
        return acl_tls_md;
    acl_tls_md = pcre2_match_data_create(1, NULL);
    if (acl_tls_md == NULL) {
        fprintf(stderr, "skua: out of memory for regex match data\n");
        abort();
    }
    pthread_once(&acl_md_once, acl_md_key_make);
    if (acl_md_key_ok)
        pthread_setspecific(acl_md_key, acl_tls_md);
    return acl_tls_md;
}

static int
acl_parse_regex(struct sk_arena *arena, struct acl *acl, const char *value,
                bool icase, char **err)
{
    pcre2_code *code;
    int errcode;
    PCRE2_SIZE erroff;
    PCRE2_UCHAR msg[256];
    struct acl_item *it;

    code = pcre2_compile((PCRE2_SPTR)value, PCRE2_ZERO_TERMINATED,
                         icase ? PCRE2_CASELESS : 0, &errcode, &erroff,
                         NULL);
    if (code == NULL) {
        if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", errcode);
        return acl_errorf(err, "acl %s: bad regex '%s': %s at offset %zu",
                          acl->name, value, (char *)msg, (size_t)erroff);
    }
    /* Without JIT support (or memory for it) the interpreter runs. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    it = acl_item_add(arena, acl);
    it->text = sk_arena_strdup(arena, value);
    it->u.re.code = code;
    it->u.re.icase = icase;
    return 0;
}

static enum acl_match
acl_re_has(const struct acl *acl, const char *s)
{
    pcre2_match_data *md;
    size_t len;
    unsigned i;
    int rc;

    if (s == NULL || acl->n == 0)
        return ACL_M_NO;
    md = acl_md_get();
    len = strlen(s);
    for (i = 0; i < acl->n; i++) {
        if (acl->items[i].u.re.code == NULL)
            continue;
        /* rc 0 means a match with the ovector too small: still a match.
         * Errors (match limit, JIT stack) count as no match. */
        rc = pcre2_match(acl->items[i].u.re.code, (PCRE2_SPTR)s, len, 0, 0,
                         md, NULL);
        if (rc >= 0)
            return ACL_M_YES;
    }
    return ACL_M_NO;
}

static enum acl_match
acl_match_dstdom_regex(const struct acl *acl, const struct rec *rec,
                       const struct acl_dst *dst)
{
    return acl_re_has(acl, rec->dst_host);
}

static enum acl_match
acl_match_url_regex(const struct acl *acl, const struct rec *rec,
                    const struct acl_dst *dst)
{
    return acl_re_has(acl, rec->url);
}

static enum acl_match
acl_match_urlpath_regex(const struct acl *acl, const struct rec *rec,
                        const struct acl_dst *dst)
{
    return acl_re_has(acl, rec->urlpath);
}

void
acl_release(void *arg)
{
    struct acl *acl = arg;
    unsigned i;

    SK_CHECK_MAGIC(acl, ACL_MAGIC);
    if (!(acl->kind->flags & ACL_K_REGEX))
        return;
    for (i = 0; i < acl->n; i++) {
        pcre2_code_free(acl->items[i].u.re.code);
        acl->items[i].u.re.code = NULL;
    }
}

/* ---- all, and the table */

static enum acl_match
acl_match_all(const struct acl *acl, const struct rec *rec,
              const struct acl_dst *dst)
{
    return ACL_M_YES;
}

static const struct acl_kind acl_kinds[] = {
    { "all", ACL_K_NOVALUES, NULL, acl_match_all },
    { "src", 0, acl_parse_ip, acl_match_src },
    { "dst", 0, acl_parse_ip, acl_match_dst },
    { "localip", 0, acl_parse_ip, acl_match_localip },
    { "port", 0, acl_parse_port, acl_match_port },
    { "localport", 0, acl_parse_port, acl_match_localport },
    { "method", 0, acl_parse_word, acl_match_method },
    { "proto", 0, acl_parse_word, acl_match_proto },
    { "myportname", 0, acl_parse_name, acl_match_myportname },
    { "dstdomain", ACL_K_DOMAIN, acl_parse_domain, acl_match_dstdomain },
    { "dstdom_regex", ACL_K_REGEX | ACL_K_DOMAIN, acl_parse_regex,
      acl_match_dstdom_regex },
    { "url_regex", ACL_K_REGEX, acl_parse_regex, acl_match_url_regex },
    { "urlpath_regex", ACL_K_REGEX, acl_parse_regex,
      acl_match_urlpath_regex },
};

/* Older Squid names of the same types. */
static const struct {
    const char *alias;
    const char *name;
} acl_kind_aliases[] = {
    { "myip", "localip" },
    { "myport", "localport" },
};

const struct acl_kind *
acl_kind_find(const char *name)
{
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(acl_kind_aliases); i++) {
        if (strcmp(name, acl_kind_aliases[i].alias) == 0)
            name = acl_kind_aliases[i].name;
    }
    for (i = 0; i < SK_ARRAY_LEN(acl_kinds); i++) {
        if (strcmp(name, acl_kinds[i].name) == 0)
            return &acl_kinds[i];
    }
    return NULL;
}

struct acl acl_all = {
    .magic = ACL_MAGIC,
    .name = "all",
    .kind = &acl_kinds[0],
};
