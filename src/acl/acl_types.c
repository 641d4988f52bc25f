/*
 * acl_types.c -- the acl types: how each parses its values and how it
 * matches a connection record.
 *
 * One parser and one matcher per type, listed in one table (acl_kinds);
 * the address types live in acl_ip.c.  Matchers are pure functions of the
 * acl and the record: they allocate nothing and touch no shared mutable
 * state; the only per-thread state is the PCRE2 match data, made once per
 * thread.  dstdomain does not fall back to reverse DNS for an IP literal
 * as Squid does: the literal is compared as a name.
 */
#include "config.h"

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

/* ---- proxy_auth, socks_command */

/* REQUIRED (Squid's spelling) matches any authenticated user. */
static enum acl_match
acl_match_proxy_auth(const struct acl *acl, const struct rec *rec,
                     const struct acl_dst *dst)
{
    unsigned i;

    if (rec->user == NULL || rec->user[0] == '\0')
        return ACL_M_NO;
    for (i = 0; i < acl->n; i++) {
        if (strcmp(acl->items[i].u.str, "REQUIRED") == 0 ||
            strcmp(acl->items[i].u.str, rec->user) == 0)
            return ACL_M_YES;
    }
    return ACL_M_NO;
}

static const char *const acl_socks_commands[] = { "connect", "bind", "udp" };

static int
acl_parse_socks_command(struct sk_arena *arena, struct acl *acl,
                        const char *value, bool icase, char **err)
{
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(acl_socks_commands); i++) {
        if (strcasecmp(value, acl_socks_commands[i]) == 0)
            return acl_parse_name(arena, acl, acl_socks_commands[i], icase,
                                  err);
    }
    return acl_errorf(err, "acl %s: bad socks_command '%s' (connect, bind "
                      "or udp)", acl->name, value);
}

/* The SOCKS server names its requests SOCKS4_CONNECT, SOCKS5_UDP, ...:
 * the command is the part after the underscore. */
static enum acl_match
acl_match_socks_command(const struct acl *acl, const struct rec *rec,
                        const struct acl_dst *dst)
{
    const char *us;

    if (rec->method == NULL || strncmp(rec->method, "SOCKS", 5) != 0 ||
        (us = strchr(rec->method, '_')) == NULL)
        return ACL_M_NO;
    return acl_str_has(acl, us + 1, true);
}

/* ---- at_step, app_proto */

/* Squid's step names; item i matches rec->tls_step i + 1. */
static const char *const acl_steps[] = { "SslBump1", "SslBump2", "SslBump3" };

static int
acl_parse_step(struct sk_arena *arena, struct acl *acl, const char *value,
               bool icase, char **err)
{
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(acl_steps); i++) {
        if (strcasecmp(value, acl_steps[i]) == 0)
            return acl_parse_name(arena, acl, acl_steps[i], icase, err);
    }
    return acl_errorf(err, "acl %s: bad at_step '%s' (SslBump1, SslBump2 "
                      "or SslBump3)", acl->name, value);
}

static enum acl_match
acl_match_step(const struct acl *acl, const struct rec *rec,
               const struct acl_dst *dst)
{
    if (rec->tls_step < 1 || rec->tls_step > (int)SK_ARRAY_LEN(acl_steps))
        return ACL_M_NO;
    return acl_str_has(acl, acl_steps[rec->tls_step - 1], false);
}

/* What a tcp_port or https_port sniffed: rec->proto of such a
 * connection is one of these. */
static const char *const acl_app_protos[] = {
    "tls", "http", "ssh", "socks", "unknown", "server-first"
};

static int
acl_parse_app_proto(struct sk_arena *arena, struct acl *acl,
                    const char *value, bool icase, char **err)
{
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(acl_app_protos); i++) {
        if (strcasecmp(value, acl_app_protos[i]) == 0)
            return acl_parse_name(arena, acl, acl_app_protos[i], icase,
                                  err);
    }
    return acl_errorf(err, "acl %s: bad app_proto '%s' (tls, http, ssh, "
                      "socks, unknown or server-first)", acl->name, value);
}

static enum acl_match
acl_match_app_proto(const struct acl *acl, const struct rec *rec,
                    const struct acl_dst *dst)
{
    return acl_str_has(acl, rec->proto, false);
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
acl_dom_has(const struct acl *acl, const char *h)
{
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

static enum acl_match
acl_match_dstdomain(const struct acl *acl, const struct rec *rec,
                    const struct acl_dst *dst)
{
    return acl_dom_has(acl, rec->dst_host);
}

/* The TLS server name; without one (no SNI, or not peeked at yet) the
 * destination as known, as Squid falls back to the CONNECT authority. */
static const char *
acl_server_name(const struct rec *rec)
{
    return rec->sni != NULL && rec->sni[0] != '\0' ? rec->sni
                                                   : rec->dst_host;
}

static enum acl_match
acl_match_server_name(const struct acl *acl, const struct rec *rec,
                      const struct acl_dst *dst)
{
    return acl_dom_has(acl, acl_server_name(rec));
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
acl_match_server_name_regex(const struct acl *acl, const struct rec *rec,
                            const struct acl_dst *dst)
{
    return acl_re_has(acl, acl_server_name(rec));
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
    { "all", ACL_K_NOVALUES, NULL, acl_match_all, NULL },
    { "src", 0, acl_parse_ip, acl_match_src, acl_index_ip },
    { "dst", 0, acl_parse_ip, acl_match_dst, acl_index_ip },
    { "localip", 0, acl_parse_ip, acl_match_localip, acl_index_ip },
    { "port", 0, acl_parse_port, acl_match_port, NULL },
    { "localport", 0, acl_parse_port, acl_match_localport, NULL },
    { "method", 0, acl_parse_word, acl_match_method, NULL },
    { "proto", 0, acl_parse_word, acl_match_proto, NULL },
    { "myportname", 0, acl_parse_name, acl_match_myportname, NULL },
    { "proxy_auth", 0, acl_parse_name, acl_match_proxy_auth, NULL },
    { "socks_command", 0, acl_parse_socks_command, acl_match_socks_command,
      NULL },
    { "dstdomain", ACL_K_DOMAIN, acl_parse_domain, acl_match_dstdomain,
      NULL },
    { "dstdom_regex", ACL_K_REGEX | ACL_K_DOMAIN, acl_parse_regex,
      acl_match_dstdom_regex, NULL },
    { "url_regex", ACL_K_REGEX, acl_parse_regex, acl_match_url_regex,
      NULL },
    { "urlpath_regex", ACL_K_REGEX, acl_parse_regex,
      acl_match_urlpath_regex, NULL },
    { "ssl::server_name", ACL_K_DOMAIN | ACL_K_SNI, acl_parse_domain,
      acl_match_server_name, NULL },
    { "ssl::server_name_regex", ACL_K_REGEX | ACL_K_DOMAIN | ACL_K_SNI,
      acl_parse_regex, acl_match_server_name_regex, NULL },
    { "at_step", 0, acl_parse_step, acl_match_step, NULL },
    { "app_proto", 0, acl_parse_app_proto, acl_match_app_proto, NULL },
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
