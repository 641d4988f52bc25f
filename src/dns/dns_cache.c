/*
 * dns_cache.c -- the answer cache shared by every worker's resolver.
 *
 * A chained hash table keyed by the normalized (lowercase, no trailing dot)
 * name, with an LRU list that bounds its size.  One mutex guards it: an
 * operation is a hash probe and a copy of at most DNS_MAX_ADDRS addresses,
 * far shorter than the DNS round trip it saves, so sharding is not worth
 * its code yet.  Entries hold compact addresses (18 bytes each) rather than
 * sockaddr_storage so 10k entries stay around a few MiB.
 *
 * It does not decide what deserves caching or for how long (dns.c does,
 * with dns_ttl_clamp()), and it does not read the clock: callers pass
 * <now>.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "sk_common.h"
#include "dns/dns_impl.h"

struct dns_centry {
    struct dns_centry *hnext;       /* hash chain */
    struct dns_centry *prev;        /* LRU list: toward the hot end */
    struct dns_centry *next;        /*   toward the cold end */
    sk_msec_t expires;
    uint32_t hash;
    uint8_t status;                 /* enum dns_status */
    uint8_t n;
    char *name;                     /* points past addrs[] */
    struct dns_addr addrs[];
};

struct dns_cache {
    pthread_mutex_t lock;
    struct dns_centry **buckets;
    uint32_t mask;                  /* buckets - 1, a power of two less 1 */
    struct dns_centry *hot;         /* most recently used */
    struct dns_centry *cold;        /* least recently used */
    unsigned count;
    unsigned max;
};

static struct dns_cache *dns_cache_shared;
static pthread_once_t dns_cache_once = PTHREAD_ONCE_INIT;

static uint32_t
dns_cache_hash(const char *s)
{
    uint32_t h = 2166136261u;       /* FNV-1a */

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

struct dns_cache *
dns_cache_new(unsigned max)
{
    struct dns_cache *c = sk_calloc(1, sizeof(*c));
    uint32_t nb = 16;

    if (max == 0)
        max = 1;
    while (nb < max && nb < (1u << 20))
        nb <<= 1;
    c->buckets = sk_calloc(nb, sizeof(*c->buckets));
    c->mask = nb - 1;
    c->max = max;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void
dns_cache_lru_unlink(struct dns_cache *c, struct dns_centry *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        c->hot = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        c->cold = e->prev;
    e->prev = e->next = NULL;
}

static void
dns_cache_lru_push(struct dns_cache *c, struct dns_centry *e)
{
    e->prev = NULL;
    e->next = c->hot;
    if (c->hot != NULL)
        c->hot->prev = e;
    else
        c->cold = e;
    c->hot = e;
}

/* Unlink <e> from its chain and the LRU list and free it (lock held). */
static void
dns_cache_remove(struct dns_cache *c, struct dns_centry *e)
{
    struct dns_centry **pp = &c->buckets[e->hash & c->mask];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    dns_cache_lru_unlink(c, e);
    c->count--;
    free(e);
}

static struct dns_centry *
dns_cache_find(struct dns_cache *c, const char *name, uint32_t hash)
{
    struct dns_centry *e;

    for (e = c->buckets[hash & c->mask]; e != NULL; e = e->hnext)
        if (e->hash == hash && strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static void
dns_cache_clear_locked(struct dns_cache *c)
{
    while (c->cold != NULL)
        dns_cache_remove(c, c->cold);
}

void
dns_cache_free_(struct dns_cache *c)
{
    if (c == NULL)
        return;
    dns_cache_clear_locked(c);
    pthread_mutex_destroy(&c->lock);
    free(c->buckets);
    free(c);
}

static void
dns_cache_global_init(void)
{
    dns_cache_shared = dns_cache_new(DNS_CACHE_MAX);
}

struct dns_cache *
dns_cache_global(void)
{
    pthread_once(&dns_cache_once, dns_cache_global_init);
    return dns_cache_shared;
}

/* Build an entry for <name> holding the answer <res>. */
static struct dns_centry *
dns_centry_new(const char *name, size_t len, const struct dns_result *res)
{
    unsigned i, n = 0, want = res->status == DNS_OK ? res->n : 0;
    struct dns_centry *e;

    if (want > DNS_MAX_ADDRS)
        want = DNS_MAX_ADDRS;
    e = sk_malloc(sizeof(*e) + want * sizeof(struct dns_addr) + len + 1);
    for (i = 0; i < want; i++)
        if (dns_addr_from_sa((const struct sockaddr *)&res->addrs[i],
                             &e->addrs[n]) == 0)
            n++;
    e->n = (uint8_t)n;
    e->status = (uint8_t)res->status;
    e->name = (char *)&e->addrs[want];
    memcpy(e->name, name, len + 1);
    e->hnext = e->prev = e->next = NULL;
    return e;
}

int
dns_cache_store(struct dns_cache *c, const char *name,
                const struct dns_result *res, sk_msec_t ttl, sk_msec_t now)
{
    struct dns_centry *e, *old;
    size_t len = strlen(name);

    if (ttl <= 0 || len > DNS_NAME_MAX)
        return -1;
    if (!(res->status == DNS_OK && res->n > 0) &&
        res->status != DNS_NXDOMAIN)
        return -1;
    e = dns_centry_new(name, len, res);
    if (e->status == DNS_OK && e->n == 0) {
        free(e);                    /* no inet address among them */
        return -1;
    }
    e->hash = dns_cache_hash(name);
    e->expires = now + ttl;
    pthread_mutex_lock(&c->lock);
    old = dns_cache_find(c, name, e->hash);
    if (old != NULL)
        dns_cache_remove(c, old);
    while (c->count >= c->max && c->cold != NULL)
        dns_cache_remove(c, c->cold);
    e->hnext = c->buckets[e->hash & c->mask];
    c->buckets[e->hash & c->mask] = e;
    dns_cache_lru_push(c, e);
    c->count++;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

bool
dns_cache_lookup(struct dns_cache *c, const char *name, sk_msec_t now,
                 struct dns_result *res)
{
    struct dns_centry *e;
    uint32_t hash = dns_cache_hash(name);
    unsigned i;
    bool hit = false;

    pthread_mutex_lock(&c->lock);
    e = dns_cache_find(c, name, hash);
    if (e != NULL && now >= e->expires) {
        dns_cache_remove(c, e);
        e = NULL;
    }
    if (e != NULL) {
        dns_cache_lru_unlink(c, e);
        dns_cache_lru_push(c, e);
        res->status = (enum dns_status)e->status;
        res->error = e->status == DNS_OK ? NULL : dns_status_str(res->status);
        res->n = e->n;
        for (i = 0; i < e->n; i++)
            dns_addr_to_sa(&e->addrs[i], &res->addrs[i]);
        hit = true;
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void
dns_cache_clear(struct dns_cache *c)
{
    pthread_mutex_lock(&c->lock);
    dns_cache_clear_locked(c);
    pthread_mutex_unlock(&c->lock);
}

unsigned
dns_cache_count(struct dns_cache *c)
{
    unsigned n;

    pthread_mutex_lock(&c->lock);
    n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}

void
dns_cache_flush(void)
{
    dns_cache_clear(dns_cache_global());
}

sk_msec_t
dns_ttl_clamp(sk_msec_t answer_ms, sk_msec_t cap)
{
    if (cap <= 0)
        return 0;
    if (answer_ms < 1000)
        answer_ms = 1000;
    return answer_ms > cap ? cap : answer_ms;
}
