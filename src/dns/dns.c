/*
 * dns.c -- the per-worker resolver: c-ares driven by the worker's libevent
 * loop, in front of the hosts file table and the shared answer cache.
 *
 * Each resolver owns one c-ares channel ("chan" below).  c-ares tells us
 * through ARES_OPT_SOCK_STATE_CB which sockets it wants watched; each gets
 * one struct event, and one timer per channel is re-armed from
 * ares_timeout() after every call into c-ares.  A and AAAA are asked in
 * parallel with ares_getaddrinfo(AF_UNSPEC).  Identical names asked while
 * a lookup is in flight join it (one query, several waiters).
 *
 * A reconfigure builds a new channel and retires the old one, which lives
 * until its last lookup ends: c-ares cannot change timeouts of a live
 * channel.  Freeing a resolver from inside one of its own callbacks is
 * deferred until c-ares has returned.
 *
 * This file does not sort addresses (comm_connect_sort() does Happy
 * Eyeballs ordering), does not serve DNS, and does not search domains:
 * single-label names are asked as they are (Squid's dns_defnames off).
 */
#include "config.h"

#include <ares.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sk_common.h"
#include "sk_log.h"
#include "sk_str.h"
#include "sk_time.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "dns/dns_impl.h"

#define DNS_RESOLVER_MAGIC 0xd45e0a01u
#define DNS_QUERY_MAGIC 0xd45e0a02u
#define DNS_PENDING_BUCKETS 256
#define DNS_HOSTS_MAX_BYTES (64u << 20)
#define DNS_TRIES 2
#define DNS_MIN_TRY_MS 50

struct dns_chan;

/* A socket c-ares asked us to watch. */
struct dns_sock {
    struct dns_sock *next;
    struct dns_chan *ch;
    ares_socket_t fd;
    short what;                     /* EV_READ | EV_WRITE currently armed */
    struct event *ev;
};

/* One c-ares channel and what drives it. */
struct dns_chan {
    struct dns_chan *next;          /* on the retired list */
    struct dns_resolver *r;
    ares_channel ares;
    struct event *timer;
    struct dns_sock *socks;
    unsigned lookups;               /* ares_getaddrinfo() not yet back */
};

/* One name being asked; the waiters share its answer. */
struct dns_lookup {
    struct dns_lookup *hnext;       /* pending table chain */
    struct dns_chan *ch;
    struct dns_query *waiters;      /* in arrival order */
    struct dns_query **tail;        /* where the next waiter goes */
    bool *sync_done;                /* set while ares_getaddrinfo() runs */
    uint32_t hash;
    char name[];
};

struct dns_query {
    unsigned magic;
    struct dns_lookup *lk;
    struct dns_query *next;
    struct dns_query **pprev;
    dns_cb_f *cb;
    void *arg;
};

struct dns_resolver {
    unsigned magic;
    struct event_base *base;
    struct dns_chan *chan;          /* where new lookups go */
    struct dns_chan *retired;       /* older channels still answering */
    struct dns_hosts *hosts;        /* NULL: hosts_file none */
    sk_msec_t pos_ttl;
    sk_msec_t neg_ttl;
    unsigned busy;                  /* nesting of calls into c-ares */
    bool closing;                   /* free once busy drops to 0 */
    struct dns_lookup *pending[DNS_PENDING_BUCKETS];
};

static pthread_once_t dns_ares_once = PTHREAD_ONCE_INIT;
static int dns_ares_init_status;

static void dns_chan_free(struct dns_chan *ch);

static void
dns_ares_library_init(void)
{
    dns_ares_init_status = ares_library_init(ARES_LIB_INIT_ALL);
}

static uint32_t
dns_name_hash(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

/* ---- c-ares <-> libevent ---- */

static void
dns_timer_rearm(struct dns_chan *ch)
{
    struct timeval tv, *tvp;

    tvp = ares_timeout(ch->ares, NULL, &tv);
    if (tvp != NULL)
        event_add(ch->timer, tvp);
    else
        event_del(ch->timer);
}

/* Leave a call into c-ares; run the deferred frees when outermost. */
static void
dns_leave(struct dns_resolver *r)
{
    struct dns_chan **pp;

    if (--r->busy > 0)
        return;
    if (r->closing) {
        r->closing = false;
        dns_resolver_free_(r);
        return;
    }
    pp = &r->retired;
    while (*pp != NULL) {
        struct dns_chan *ch = *pp;

        if (ch->lookups == 0) {
            *pp = ch->next;
            dns_chan_free(ch);
        } else {
            pp = &ch->next;
        }
    }
}

static void
dns_on_sock(evutil_socket_t fd, short what, void *arg)
{
    struct dns_sock *s = arg;
    struct dns_chan *ch = s->ch;    /* <s> may be freed by c-ares below */
    struct dns_resolver *r = ch->r;

    r->busy++;
    ares_process_fd(ch->ares,
                    (what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
                    (what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
    dns_timer_rearm(ch);
    dns_leave(r);
}

static void
dns_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct dns_chan *ch = arg;
    struct dns_resolver *r = ch->r;

    r->busy++;
    ares_process_fd(ch->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    dns_timer_rearm(ch);
    dns_leave(r);
}

/* c-ares opens, changes interest in, or closes socket <fd>. */
static void
dns_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dns_chan *ch = data;
    struct dns_sock *s, **pp;
    short what = (short)((readable ? EV_READ : 0) |
                         (writable ? EV_WRITE : 0));

    for (pp = &ch->socks; (s = *pp) != NULL; pp = &s->next)
        if (s->fd == fd)
            break;
    if (s != NULL && (what == 0 || what != s->what)) {
        event_free(s->ev);
        s->ev = NULL;
        if (what == 0) {
            *pp = s->next;
            free(s);
            return;
        }
    }
    if (what == 0 || (s != NULL && s->ev != NULL))
        return;
    if (s == NULL) {
        s = sk_calloc(1, sizeof(*s));
        s->ch = ch;
        s->fd = fd;
        s->next = ch->socks;
        ch->socks = s;
    }
    s->what = what;
    s->ev = event_new(ch->r->base, (evutil_socket_t)fd, what | EV_PERSIST,
                      dns_on_sock, s);
    if (s->ev == NULL || event_add(s->ev, NULL) == -1)
        sk_err(SK_SEC_DNS, "cannot watch c-ares socket %d", (int)fd);
}

/* ---- channels ---- */

static int
dns_count_servers(ares_channel ares)
{
    struct ares_addr_port_node *list = NULL, *p;
    int n = 0;

    if (ares_get_servers_ports(ares, &list) != ARES_SUCCESS)
        return 1;
    for (p = list; p != NULL; p = p->next)
        n++;
    ares_free_data(list);
    return n > 0 ? n : 1;
}

/*
 * Render dns_nameservers ("ip", "ip:port", "[v6]:port", bare "v6") as the
 * canonical "ip:port,[v6]:port" list c-ares reads.  Return a malloc'd
 * string and the count in *<n>, or NULL on a bad entry.
 */
static char *
dns_servers_csv(char *const *servers, int *n)
{
    size_t cap = 64, len = 0;
    char *csv = sk_malloc(cap);
    char buf[SK_ADDRSTRLEN + 8];

    *n = 0;
    csv[0] = '\0';
    for (; *servers != NULL; servers++) {
        struct sockaddr_storage ss;
        size_t blen;

        if (sk_addr_parse(*servers, NULL, false, &ss) == -1) {
            sk_err(SK_SEC_DNS, "bad dns_nameservers entry '%s'",
                   *servers);
            free(csv);
            return NULL;
        }
        if (sk_addr_port((struct sockaddr *)&ss) == 0 &&
            ss.ss_family == AF_INET)
            ((struct sockaddr_in *)&ss)->sin_port = htons(53);
        else if (sk_addr_port((struct sockaddr *)&ss) == 0)
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons(53);
        sk_addr_port_str((struct sockaddr *)&ss, buf, sizeof(buf));
        blen = strlen(buf);
        if (len + blen + 2 > cap) {
            cap = (len + blen + 2) * 2;
            csv = sk_realloc(csv, cap);
        }
        if (len > 0)
            csv[len++] = ',';
        memcpy(csv + len, buf, blen + 1);
        len += blen;
        (*n)++;
    }
    return csv;
}

/* Initialise <ch>->ares with a per-try timeout of <try_ms>. */
static int
dns_chan_init(struct dns_chan *ch, const char *csv, sk_msec_t try_ms)
{
    struct ares_options o;
    int rc, mask;

    memset(&o, 0, sizeof(o));
    o.flags = ARES_FLAG_NOSEARCH;
    o.timeout = (int)try_ms;
    o.tries = DNS_TRIES;
    o.lookups = (char *)"b";        /* skua reads the hosts file itself */
    o.sock_state_cb = dns_sock_state;
    o.sock_state_cb_data = ch;
    mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
           ARES_OPT_LOOKUPS | ARES_OPT_SOCK_STATE_CB;
    rc = ares_init_options(&ch->ares, &o, mask);
    if (rc != ARES_SUCCESS) {
        sk_err(SK_SEC_DNS, "c-ares init failed: %s", ares_strerror(rc));
        return -1;
    }
    if (csv != NULL &&
        (rc = ares_set_servers_ports_csv(ch->ares, csv)) != ARES_SUCCESS) {
        sk_err(SK_SEC_DNS, "cannot use dns_nameservers '%s': %s", csv,
               ares_strerror(rc));
        ares_destroy(ch->ares);
        return -1;
    }
    return 0;
}

/*
 * Per-try timeout so the whole lookup takes about <total>: c-ares tries
 * each of <nservers> in turn and doubles the timeout on each later round,
 * so DNS_TRIES = 2 rounds cost 3 * nservers * try.
 */
static sk_msec_t
dns_try_ms(sk_msec_t total, int nservers)
{
    sk_msec_t t;

    if (total <= 0)
        total = 30000;
    t = total / (3 * (sk_msec_t)nservers);
    return t < DNS_MIN_TRY_MS ? DNS_MIN_TRY_MS : t;
}

static struct dns_chan *
dns_chan_new(struct dns_resolver *r, const struct conf *conf)
{
    struct dns_chan *ch = sk_calloc(1, sizeof(*ch));
    char *csv = NULL;
    int n = 1, have;

    ch->r = r;
    if (conf->dns_nameservers != NULL && conf->dns_nameservers[0] != NULL &&
        (csv = dns_servers_csv(conf->dns_nameservers, &n)) == NULL)
        goto fail;
    if (dns_chan_init(ch, csv, dns_try_ms(conf->dns_timeout, n)) == -1)
        goto fail;
    have = dns_count_servers(ch->ares);
    if (have != n) {
        /* resolv.conf listed <have> servers: redo with the right timeout */
        ares_destroy(ch->ares);
        if (dns_chan_init(ch, csv, dns_try_ms(conf->dns_timeout, have)) == -1)
            goto fail;
    }
    ch->timer = evtimer_new(r->base, dns_on_timer, ch);
    if (ch->timer == NULL) {
        ares_destroy(ch->ares);
        goto fail;
    }
    free(csv);
    return ch;
fail:
    free(csv);
    free(ch);
    return NULL;
}

/* Destroy <ch>: pending lookups end silently (ARES_EDESTRUCTION). */
static void
dns_chan_free(struct dns_chan *ch)
{
    ares_destroy(ch->ares);
    while (ch->socks != NULL) {
        struct dns_sock *s = ch->socks;

        ch->socks = s->next;
        if (s->ev != NULL)
            event_free(s->ev);
        free(s);
    }
    event_free(ch->timer);
    free(ch);
}

/* ---- hosts file ---- */

/* Read <path> whole; return a malloc'd buffer and its size, or NULL. */
static char *
dns_read_file(const char *path, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    ssize_t rd;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd == -1)
        return NULL;
    if (fstat(fd, &st) == -1)
        goto out;
    if (st.st_size < 0 || (uint64_t)st.st_size > DNS_HOSTS_MAX_BYTES) {
        errno = EFBIG;
        goto out;
    }
    buf = sk_malloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size) {
        rd = read(fd, buf + got, (size_t)st.st_size - got);
        if (rd == -1 && errno == EINTR)
            continue;
        if (rd <= 0)
            break;
        got += (size_t)rd;
    }
    *len = got;
out:
    if (buf == NULL) {
        int e = errno;

        close(fd);
        errno = e;
        return NULL;
    }
    close(fd);
    return buf;
}

/* Build the hosts table <conf> names; NULL for "none" or no file. */
static struct dns_hosts *
dns_hosts_load(const struct conf *conf)
{
    const char *path = conf->hosts_file ? conf->hosts_file : "/etc/hosts";
    struct dns_hosts *h;
    size_t len = 0;
    unsigned bad = 0;
    char *text;

    if (strcmp(path, "none") == 0)
        return NULL;
    text = dns_read_file(path, &len);
    if (text == NULL) {
        sk_notice(SK_SEC_DNS, "cannot read hosts_file %s: %s", path,
                  strerror(errno));
        return NULL;
    }
    h = dns_hosts_parse(text, len, &bad);
    free(text);
    if (bad > 0)
        sk_notice(SK_SEC_DNS, "%s: skipped %u malformed lines", path,
                  bad);
    sk_info(SK_SEC_DNS, "%u names from %s", dns_hosts_count(h), path);
    return h;
}

/* ---- resolver life cycle ---- */

struct dns_resolver *
dns_resolver_new(struct event_base *base, const struct conf *conf)
{
    struct dns_resolver *r;

    pthread_once(&dns_ares_once, dns_ares_library_init);
    if (dns_ares_init_status != ARES_SUCCESS) {
        sk_err(SK_SEC_DNS, "c-ares library init failed: %s",
               ares_strerror(dns_ares_init_status));
        return NULL;
    }
    r = sk_calloc(1, sizeof(*r));
    r->magic = DNS_RESOLVER_MAGIC;
    r->base = base;
    r->chan = dns_chan_new(r, conf);
    if (r->chan == NULL) {
        free(r);
        return NULL;
    }
    r->hosts = dns_hosts_load(conf);
    r->pos_ttl = conf->positive_dns_ttl;
    r->neg_ttl = conf->negative_dns_ttl;
    (void)dns_cache_global();
    return r;
}

int
dns_resolver_reconfigure(struct dns_resolver *r, const struct conf *conf)
{
    struct dns_chan *ch;

    SK_CHECK_MAGIC(r, DNS_RESOLVER_MAGIC);
    ch = dns_chan_new(r, conf);
    if (ch == NULL)
        return -1;
    r->chan->next = r->retired;
    r->retired = r->chan;
    r->chan = ch;
    dns_hosts_free(r->hosts);
    r->hosts = dns_hosts_load(conf);
    r->pos_ttl = conf->positive_dns_ttl;
    r->neg_ttl = conf->negative_dns_ttl;
    /* free the old channel now if nothing runs on it */
    r->busy++;
    dns_leave(r);
    return 0;
}

void
dns_resolver_free_(struct dns_resolver *r)
{
    if (r == NULL)
        return;
    SK_CHECK_MAGIC(r, DNS_RESOLVER_MAGIC);
    if (r->busy > 0) {
        r->closing = true;          /* dns_leave() finishes the job */
        return;
    }
    r->closing = true;              /* silence callbacks during destroy */
    while (r->retired != NULL) {
        struct dns_chan *ch = r->retired;

        r->retired = ch->next;
        dns_chan_free(ch);
    }
    dns_chan_free(r->chan);
    dns_hosts_free(r->hosts);
    r->magic = 0;
    free(r);
}

/* ---- answers ---- */

static void
dns_pending_remove(struct dns_resolver *r, struct dns_lookup *lk)
{
    struct dns_lookup **pp = &r->pending[lk->hash % DNS_PENDING_BUCKETS];

    for (; *pp != NULL; pp = &(*pp)->hnext)
        if (*pp == lk) {
            *pp = lk->hnext;
            return;
        }
}

static void
dns_query_unlink(struct dns_query *q)
{
    if (q->next != NULL)
        q->next->pprev = q->pprev;
    else
        q->lk->tail = q->pprev;
    *q->pprev = q->next;
    q->magic = 0;
}

/*
 * Turn a c-ares answer into <res>; return the smallest TTL (ms) of the
 * records used.
 */
static sk_msec_t
dns_result_from_ares(struct dns_result *res, int status,
                     const struct ares_addrinfo *ai)
{
    const struct ares_addrinfo_node *nd;
    const struct ares_addrinfo_cname *cn;
    sk_msec_t ttl = INT64_MAX;
    unsigned i;

    res->n = 0;
    res->error = NULL;
    if (status == ARES_SUCCESS && ai != NULL) {
        for (nd = ai->nodes; nd != NULL && res->n < DNS_MAX_ADDRS;
             nd = nd->ai_next) {
            struct sockaddr_storage *ss = &res->addrs[res->n];
            struct dns_addr a;

            if (nd->ai_addr == NULL || dns_addr_from_sa(nd->ai_addr, &a))
                continue;
            dns_addr_to_sa(&a, ss);
            for (i = 0; i < res->n; i++)
                if (sk_addr_eq((struct sockaddr *)&res->addrs[i],
                               (struct sockaddr *)ss))
                    break;
            if (i < res->n)
                continue;           /* duplicate (CNAME chains) */
            res->n++;
            ttl = SK_MIN(ttl, (sk_msec_t)SK_MAX(nd->ai_ttl, 0) * 1000);
        }
        for (cn = ai->cnames; cn != NULL; cn = cn->next)
            ttl = SK_MIN(ttl, (sk_msec_t)SK_MAX(cn->ttl, 0) * 1000);
    }
    if (res->n > 0) {
        res->status = DNS_OK;
        return ttl;
    }
    switch (status) {
    case ARES_SUCCESS:
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
        res->status = DNS_NXDOMAIN;
        res->error = dns_status_str(DNS_NXDOMAIN);
        break;
    case ARES_ETIMEOUT:
        res->status = DNS_TIMEOUT;
        res->error = dns_status_str(DNS_TIMEOUT);
        break;
    default:
        res->status = DNS_FAIL;
        res->error = ares_strerror(status);
        break;
    }
    return 0;
}

/* Remember <res> for <name> as dns.h promises (timeouts/failures not). */
static void
dns_cache_answer(struct dns_resolver *r, const char *name,
                 const struct dns_result *res, sk_msec_t ttl)
{
    sk_msec_t keep;

    if (res->status == DNS_OK)
        keep = dns_ttl_clamp(ttl, r->pos_ttl);
    else if (res->status == DNS_NXDOMAIN)
        keep = r->neg_ttl;
    else
        return;
    if (keep > 0)
        dns_cache_store(dns_cache_global(), name, res, keep, sk_now_msec());
}

static void
dns_on_addrinfo(void *arg, int status, int timeouts,
                struct ares_addrinfo *ai)
{
    struct dns_lookup *lk = arg;
    struct dns_resolver *r = lk->ch->r;
    struct dns_result res;
    struct dns_query *q;
    sk_msec_t ttl;

    lk->ch->lookups--;
    dns_pending_remove(r, lk);
    if (status != ARES_EDESTRUCTION && status != ARES_ECANCELLED) {
        ttl = dns_result_from_ares(&res, status, ai);
        sk_debug(SK_SEC_DNS, SK_LOG_DEBUG, "%s: %s, %u addresses",
                 lk->name, ares_strerror(status), res.n);
        dns_cache_answer(r, lk->name, &res, ttl);
        if (lk->sync_done != NULL)
            *lk->sync_done = true;
        /* a callback may cancel later waiters or free the resolver */
        while ((q = lk->waiters) != NULL && !r->closing) {
            dns_cb_f *cb = q->cb;
            void *cbarg = q->arg;

            dns_query_unlink(q);
            free(q);
            cb(&res, cbarg);
        }
    }
    while ((q = lk->waiters) != NULL) {
        dns_query_unlink(q);
        free(q);
    }
    if (ai != NULL)
        ares_freeaddrinfo(ai);
    free(lk);
}

/* Answer "localhost" and "*.localhost" with loopback (RFC 6761 6.3). */
static bool
dns_localhost(const char *name, size_t len, struct dns_result *res)
{
    static const char suffix[] = ".localhost";
    struct sockaddr_in *sin = (struct sockaddr_in *)&res->addrs[0];
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&res->addrs[1];

    if (strcmp(name, "localhost") != 0 &&
        (len < sizeof(suffix) ||
         strcmp(name + len - (sizeof(suffix) - 1), suffix) != 0))
        return false;
    memset(&res->addrs[0], 0, 2 * sizeof(res->addrs[0]));
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    res->status = DNS_OK;
    res->error = NULL;
    res->n = 2;
    return true;
}

/* Ask c-ares about <name> (or join the lookup already asking). */
static int
dns_start(struct dns_resolver *r, const char *name, size_t len,
          dns_cb_f *cb, void *arg, struct dns_query **qp)
{
    struct ares_addrinfo_hints hints;
    struct dns_lookup *lk;
    struct dns_query *q = sk_calloc(1, sizeof(*q));
    uint32_t hash = dns_name_hash(name);
    struct dns_lookup **bucket = &r->pending[hash % DNS_PENDING_BUCKETS];
    struct dns_chan *ch = r->chan;
    bool done = false;

    q->magic = DNS_QUERY_MAGIC;
    q->cb = cb;
    q->arg = arg;
    for (lk = *bucket; lk != NULL; lk = lk->hnext)
        if (lk->hash == hash && strcmp(lk->name, name) == 0)
            break;
    if (lk == NULL) {
        lk = sk_calloc(1, sizeof(*lk) + len + 1);
        memcpy(lk->name, name, len + 1);
        lk->hash = hash;
        lk->ch = ch;
        lk->tail = &lk->waiters;
        lk->hnext = *bucket;
        *bucket = lk;
        ch->lookups++;
    } else {
        ch = NULL;                  /* joined: nothing to start */
    }
    q->lk = lk;
    q->pprev = lk->tail;
    *lk->tail = q;
    lk->tail = &q->next;
    if (ch == NULL) {
        *qp = q;
        return SKUA_AGAIN;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = ARES_AI_NOSORT;
    r->busy++;
    lk->sync_done = &done;
    /* may answer at once (.onion, no servers): then <lk>, <q> are gone */
    ares_getaddrinfo(ch->ares, lk->name, NULL, &hints, dns_on_addrinfo, lk);
    if (!done) {
        lk->sync_done = NULL;
        *qp = q;
    }
    dns_timer_rearm(ch);
    dns_leave(r);
    return done ? SKUA_OK : SKUA_AGAIN;
}

int
dns_resolve(struct dns_resolver *r, const char *host, dns_cb_f *cb,
            void *arg, struct dns_query **q)
{
    struct dns_result res;
    char name[DNS_NAME_MAX + 1];
    int len;

    SK_CHECK_MAGIC(r, DNS_RESOLVER_MAGIC);
    *q = NULL;
    if (dns_literal_parse(host, &res) == 0)
        goto answer;
    len = dns_name_normalize(host, name, sizeof(name));
    if (len == -1) {
        res.status = DNS_FAIL;
        res.error = "invalid host name";
        res.n = 0;
        goto answer;
    }
    if (SK_BUG(r->closing)) {
        res.status = DNS_FAIL;
        res.error = "resolver is shutting down";
        res.n = 0;
        goto answer;
    }
    if (dns_hosts_lookup(r->hosts, name, &res) ||
        dns_localhost(name, (size_t)len, &res) ||
        dns_cache_lookup(dns_cache_global(), name, sk_now_msec(), &res))
        goto answer;
    return dns_start(r, name, (size_t)len, cb, arg, q);
answer:
    cb(&res, arg);
    return SKUA_OK;
}

void
dns_cancel(struct dns_query *q)
{
    if (q == NULL)
        return;
    SK_CHECK_MAGIC(q, DNS_QUERY_MAGIC);
    dns_query_unlink(q);
    free(q);
}
