/*
 * dns_impl.h -- the resolver's pure parts, private to src/dns/ and its unit
 * tests: host name checks, the hosts file table and the answer cache.
 *
 * Nothing here touches a socket, c-ares or an event loop.  Time is always
 * passed in by the caller (milliseconds on the monotonic clock) so tests can
 * drive expiry with a fake clock.  Not for use outside src/dns/.
 */
#ifndef SK_DNS_IMPL_H
#define SK_DNS_IMPL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "sk_common.h"
#include "dns/dns.h"

/* Longest host name in presentation form, without the trailing dot. */
#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63

/* Entries in the shared cache before the least recently used go. */
#define DNS_CACHE_MAX 10000

/* One address without a port: what the hosts table and cache keep. */
struct dns_addr {
    sa_family_t family;             /* AF_INET or AF_INET6 */
    uint8_t bytes[16];              /* 4 or 16 used, network order */
};

/*
 * Copy <host> into <out> (of <outlen> bytes, at least DNS_NAME_MAX + 1)
 * lowercased and without one trailing dot, checking that it is a host
 * name: at most 253 characters, labels of 1 to 63 characters drawn from
 * [A-Za-z0-9-_].  Return the length of <out>, or -1 if <host> is not a
 * valid host name (then <out> is unspecified).
 */
int dns_name_normalize(const char *host, char *out, size_t outlen);

/*
 * Parse <host> as an IPv4 or IPv6 literal (no brackets, no zone) into a
 * one-address DNS_OK answer in <res>.  Return 0, or -1 if it is not one.
 */
int dns_literal_parse(const char *host, struct dns_result *res);

/* Store <a> into <ss> with port 0; return 0, or -1 for a bad family. */
int dns_addr_to_sa(const struct dns_addr *a, struct sockaddr_storage *ss);

/* Store the address of <sa> into <a>; return 0, or -1 if not inet. */
int dns_addr_from_sa(const struct sockaddr *sa, struct dns_addr *a);

/* Return the static human-readable text for <status>. */
const char *dns_status_str(enum dns_status status);

/* ---- hosts file ---- */

struct dns_hosts;

/*
 * Parse the hosts(5) text <text> of <len> bytes into a new immutable table:
 * "address name [alias...]" per line, '#' starts a comment, IPv4 and IPv6
 * addresses, names matched case-insensitively, several lines for one name
 * add addresses in file order (at most DNS_MAX_ADDRS kept).  Lines whose
 * address does not parse or that carry no valid name are skipped and
 * counted in *<nbad> when <nbad> is not NULL.  Return the table (the caller
 * owns it; free with dns_hosts_free()); never NULL.
 */
struct dns_hosts *dns_hosts_parse(const char *text, size_t len,
                                  unsigned *nbad);

/*
 * Look up the normalized name <name> (see dns_name_normalize()) in <h>.
 * On a match fill <res> with a DNS_OK answer and return true; else return
 * false and leave <res> alone.
 */
bool dns_hosts_lookup(const struct dns_hosts *h, const char *name,
                      struct dns_result *res);

/* Return how many distinct names <h> holds. */
unsigned dns_hosts_count(const struct dns_hosts *h);

/* Free <h> (NULL is fine). */
void dns_hosts_free_(struct dns_hosts *h);
#define dns_hosts_free(h) do { dns_hosts_free_(h); (h) = NULL; } while (0)

/* ---- answer cache ---- */

struct dns_cache;

/*
 * Create a cache holding at most <max> entries (at least 1), safe to use
 * from several threads at once.  The caller owns it; free with
 * dns_cache_free().
 */
struct dns_cache *dns_cache_new(unsigned max);

/* Free <c> and every entry (NULL is fine). */
void dns_cache_free_(struct dns_cache *c);
#define dns_cache_free(c) do { dns_cache_free_(c); (c) = NULL; } while (0)

/* Return the cache shared by every resolver in the process. */
struct dns_cache *dns_cache_global(void);

/*
 * Remember <res> (DNS_OK with at least one address, or DNS_NXDOMAIN; any
 * other status is refused) for the normalized name <name> until
 * <now> + <ttl>.  A previous entry for <name> is replaced.  When the cache
 * is full, drop the least recently used entry (expired entries age to that
 * end since lookups no longer touch them).  Return 0, or -1 if nothing was
 * stored (a status that is not cached, <ttl> <= 0 or a name that is too
 * long).
 */
int dns_cache_store(struct dns_cache *c, const char *name,
                    const struct dns_result *res, sk_msec_t ttl,
                    sk_msec_t now);

/*
 * Find the answer for the normalized name <name> still valid at <now>.
 * On a hit fill <res> and return true; an expired entry is removed and
 * counts as a miss (false, <res> left alone).
 */
bool dns_cache_lookup(struct dns_cache *c, const char *name, sk_msec_t now,
                      struct dns_result *res);

/* Drop every entry of <c>. */
void dns_cache_clear(struct dns_cache *c);

/* Return how many entries <c> holds (expired ones included). */
unsigned dns_cache_count(struct dns_cache *c);

/*
 * Return how long to keep a positive answer whose smallest TTL is
 * <answer_ms>: at least 1 s, at most <cap>; 0 (do not cache) when
 * <cap> <= 0.  When <cap> is below 1 s, <cap> wins.
 */
sk_msec_t dns_ttl_clamp(sk_msec_t answer_ms, sk_msec_t cap);

#endif
