/*
 * dns_hosts.c -- host name checks, address literals and the hosts file
 * table for the resolver.
 *
 * The table is built once from the text of a hosts(5) file and is
 * immutable afterwards, so a resolver can swap it on reconfigure without
 * locking.  This file does not read files or talk to the network: dns.c
 * reads the file and hands the text over.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "sk_common.h"
#include "dns/dns_impl.h"

/* One (name, address) pair; pairs of one name are adjacent once sorted. */
struct dns_hosts_pair {
    char *name;
    unsigned seq;                   /* position in the file */
    struct dns_addr addr;
};

struct dns_hosts {
    struct dns_hosts_pair *pairs;   /* sorted by name, then seq */
    size_t n;
    unsigned names;
};

static bool
dns_is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int
dns_name_normalize(const char *host, char *out, size_t outlen)
{
    size_t len, i, label = 0;

    if (host == NULL || outlen < DNS_NAME_MAX + 1)
        return -1;
    len = strnlen(host, DNS_NAME_MAX + 2);
    if (len > 0 && host[len - 1] == '.')
        len--;
    if (len == 0 || len > DNS_NAME_MAX)
        return -1;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)host[i];

        if (c == '.') {
            if (label == 0)
                return -1;          /* empty label: "a..b", ".a" */
            label = 0;
        } else if (dns_is_name_char(c)) {
            if (++label > DNS_LABEL_MAX)
                return -1;
        } else {
            return -1;
        }
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    if (label == 0)
        return -1;                  /* "a.." once the dot is gone */
    out[len] = '\0';
    return (int)len;
}

int
dns_addr_to_sa(const struct dns_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;

        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, a->bytes, 4);
        return 0;
    }
    if (a->family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, a->bytes, 16);
        return 0;
    }
    return -1;
}

int
dns_addr_from_sa(const struct sockaddr *sa, struct dns_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (sa->sa_family == AF_INET) {
        a->family = AF_INET;
        memcpy(a->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        a->family = AF_INET6;
        memcpy(a->bytes, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

/* Parse an address literal of <len> bytes at <s> into <a>. */
static int
dns_addr_parse(const char *s, size_t len, struct dns_addr *a)
{
    char buf[INET6_ADDRSTRLEN];

    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, buf, a->bytes) == 1) {
        a->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, a->bytes) == 1) {
        a->family = AF_INET6;
        return 0;
    }
    return -1;
}

int
dns_literal_parse(const char *host, struct dns_result *res)
{
    struct dns_addr a;

    if (host == NULL || dns_addr_parse(host, strlen(host), &a) == -1)
        return -1;
    res->status = DNS_OK;
    res->error = NULL;
    res->n = 1;
    dns_addr_to_sa(&a, &res->addrs[0]);
    return 0;
}

const char *
dns_status_str(enum dns_status status)
{
    switch (status) {
    case DNS_OK:
        return "no error";
    case DNS_NXDOMAIN:
        return "host name not found";
    case DNS_TIMEOUT:
        return "DNS lookup timed out";
    case DNS_FAIL:
        break;
    }
    return "DNS lookup failed";
}

/* ---- hosts table ---- */

static int
dns_hosts_pair_cmp(const void *a, const void *b)
{
    const struct dns_hosts_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c != 0)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Return the next whitespace-separated token of [*p, end) or NULL. */
static const char *
dns_hosts_token(const char **p, const char *end, size_t *len)
{
    const char *s = *p, *t;

    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++;
    if (s == end)
        return NULL;
    for (t = s; t < end && *t != ' ' && *t != '\t' && *t != '\r'; t++)
        ;
    *p = t;
    *len = (size_t)(t - s);
    return s;
}

/* Add the pairs of one line [p, end) to <h>; return how many. */
static unsigned
dns_hosts_line(struct dns_hosts *h, size_t *cap, const char *p,
               const char *end)
{
    struct dns_addr addr;
    char name[DNS_NAME_MAX + 1], raw[DNS_NAME_MAX + 2];
    const char *tok;
    size_t len;
    unsigned added = 0;

    tok = dns_hosts_token(&p, end, &len);
    if (tok == NULL || dns_addr_parse(tok, len, &addr) == -1)
        return 0;
    while ((tok = dns_hosts_token(&p, end, &len)) != NULL) {
        if (len >= sizeof(raw))
            continue;
        memcpy(raw, tok, len);
        raw[len] = '\0';
        if (dns_name_normalize(raw, name, sizeof(name)) == -1)
            continue;
        if (h->n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            h->pairs = sk_realloc(h->pairs, *cap * sizeof(*h->pairs));
        }
        h->pairs[h->n].name = sk_strdup(name);
        h->pairs[h->n].seq = (unsigned)h->n;
        h->pairs[h->n].addr = addr;
        h->n++;
        added++;
    }
    return added;
}

struct dns_hosts *
dns_hosts_parse(const char *text, size_t len, unsigned *nbad)
{
    struct dns_hosts *h = sk_calloc(1, sizeof(*h));
    const char *p = text, *end = text + len;
    size_t cap = 0, i;
    unsigned bad = 0;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop, *hash;

        if (eol == NULL)
            eol = end;
        hash = memchr(p, '#', (size_t)(eol - p));
        stop = hash ? hash : eol;
        if (dns_hosts_line(h, &cap, p, stop) == 0) {
            const char *q = p;
            size_t tlen;

            /* blank and comment-only lines are not errors */
            if (dns_hosts_token(&q, stop, &tlen) != NULL)
                bad++;
        }
        p = eol + 1;
    }
    if (h->n > 1)
        qsort(h->pairs, h->n, sizeof(*h->pairs), dns_hosts_pair_cmp);
    for (i = 0; i < h->n; i++)
        if (i == 0 || strcmp(h->pairs[i].name, h->pairs[i - 1].name) != 0)
            h->names++;
    if (nbad != NULL)
        *nbad = bad;
    return h;
}

bool
dns_hosts_lookup(const struct dns_hosts *h, const char *name,
                 struct dns_result *res)
{
    struct dns_addr seen[DNS_MAX_ADDRS];
    size_t lo = 0, hi, i;
    unsigned n = 0, k;

    if (h == NULL)
        return false;
    /* binary search for the first pair of <name> */
    hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(h->pairs[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == h->n || strcmp(h->pairs[lo].name, name) != 0)
        return false;
    for (i = lo; i < h->n && n < DNS_MAX_ADDRS &&
                 strcmp(h->pairs[i].name, name) == 0; i++) {
        const struct dns_addr *a = &h->pairs[i].addr;

        for (k = 0; k < n; k++)
            if (memcmp(&seen[k], a, sizeof(*a)) == 0)
                break;
        if (k < n)
            continue;               /* the same address listed twice */
        seen[n] = *a;
        dns_addr_to_sa(a, &res->addrs[n]);
        n++;
    }
    res->status = DNS_OK;
    res->error = NULL;
    res->n = n;
    return true;
}

unsigned
dns_hosts_count(const struct dns_hosts *h)
{
    return h ? h->names : 0;
}

void
dns_hosts_free_(struct dns_hosts *h)
{
    size_t i;

    if (h == NULL)
        return;
    for (i = 0; i < h->n; i++)
        free(h->pairs[i].name);
    free(h->pairs);
    free(h);
}
