/*
 * dns.h -- name resolution for the proxy: c-ares driven by a worker's
 * libevent loop, a cache shared by every worker, and the hosts file.
 *
 * One resolver exists per worker (it belongs to that worker's event base and
 * is used from that thread only).  The cache behind it is shared by all
 * workers and respects answer TTLs, capped by positive_dns_ttl; failures
 * are cached for negative_dns_ttl.  A and AAAA are asked in parallel.
 */
#ifndef SK_DNS_H
#define SK_DNS_H

#include <stdint.h>
#include <sys/socket.h>

#include "sk_common.h"

struct event_base;
struct conf;
struct dns_resolver;
struct dns_query;

enum dns_status {
    DNS_OK = 0,
    DNS_NXDOMAIN,       /* the name does not exist / has no address */
    DNS_TIMEOUT,        /* no answer within dns_timeout */
    DNS_FAIL            /* server failure, refused, bad name, ... */
};

#define DNS_MAX_ADDRS 16

struct dns_result {
    enum dns_status status;
    const char *error;              /* human-readable, for error pages */
    unsigned n;                     /* addresses, IPv6 and IPv4 mixed in
                                       the order the answers gave them */
    struct sockaddr_storage addrs[DNS_MAX_ADDRS];   /* port 0 */
};

/*
 * Receive the answer for a query.  <res> is borrowed for the duration of
 * the call.
 */
typedef void dns_cb_f(const struct dns_result *res, void *arg);

/*
 * Create a resolver for <base> configured by <conf> (dns_nameservers,
 * dns_timeout, hosts_file, positive/negative_dns_ttl).  Return NULL and log
 * the reason on failure.
 */
struct dns_resolver *dns_resolver_new(struct event_base *base,
                                      const struct conf *conf);

/* Apply a new configuration snapshot (after reload). Return 0 or -1. */
int dns_resolver_reconfigure(struct dns_resolver *r, const struct conf *conf);

/* Cancel every query (their callbacks are not called) and free. */
void dns_resolver_free_(struct dns_resolver *r);
#define dns_resolver_free(r) do { dns_resolver_free_(r); (r) = NULL; } while (0)

/*
 * Resolve <host> (a name, or an IPv4/IPv6 literal without brackets).
 * When the answer is at hand (a literal, the hosts file or the cache) call
 * <cb> before returning and return SKUA_OK with *<q> = NULL.  Otherwise
 * return SKUA_AGAIN with *<q> set to a handle valid until <cb> is called
 * or dns_cancel() is called on it.
 */
int dns_resolve(struct dns_resolver *r, const char *host, dns_cb_f *cb,
                void *arg, struct dns_query **q);

/* Forget a pending query: its callback will not be called. */
void dns_cancel(struct dns_query *q);

/* Drop every cached answer (all workers). */
void dns_cache_flush(void);

#endif
