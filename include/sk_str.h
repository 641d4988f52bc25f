/*
 * sk_str.h -- string and number helpers with explicit lengths.
 *
 * Pure functions over (pointer, length); none allocates.
 */
#ifndef SK_STR_H
#define SK_STR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sk_common.h"

/* A borrowed view of bytes that are not NUL-terminated. */
struct sk_str {
    const char *p;
    size_t len;
};

#define SK_STR(lit) ((struct sk_str){ (lit), sizeof(lit) - 1 })

/* Case-insensitive ASCII comparison of <a,alen> with the C string <b>. */
bool sk_str_ieq(const char *a, size_t alen, const char *b);

/* Find <needle> (case-insensitive) as a comma-separated token in a list. */
bool sk_str_has_token(const char *list, size_t len, const char *token);

/* Copy at most <dstlen>-1 bytes and always NUL-terminate; return length. */
size_t sk_strlcpy(char *dst, const char *src, size_t dstlen);

/*
 * Parse a decimal unsigned number of exactly <len> digits into <out>.
 * Return 0, or -1 on an empty string, a non-digit or overflow.
 */
int sk_parse_u64(const char *s, size_t len, uint64_t *out);

/* Render <sa> as "1.2.3.4" or "2001:db8::1" into <buf>; return <buf>. */
const char *sk_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* Render <sa> as "1.2.3.4:80" or "[2001:db8::1]:80" into <buf>. */
const char *sk_addr_port_str(const struct sockaddr *sa, char *buf,
                             size_t len);

/* Return the port of <sa> in host order (0 if not an inet address). */
uint16_t sk_addr_port(const struct sockaddr *sa);

/* Return the length of the sockaddr for its family (0 if unknown). */
socklen_t sk_addr_len(const struct sockaddr *sa);

/* True unless <sa> is one specific inet address: the wildcard of its
 * family (0.0.0.0, ::) or no inet address at all. */
bool sk_addr_is_any(const struct sockaddr *sa);

/*
 * Copy <in> to <out>, an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * becoming the AF_INET address with the same port.  <in> and <out> may be
 * the same.
 */
void sk_addr_unmap(const struct sockaddr_storage *in,
                   struct sockaddr_storage *out);

/* True if <a> and <b> are the same address (port ignored). */
bool sk_addr_eq(const struct sockaddr *a, const struct sockaddr *b);

/*
 * Parse "1.2.3.4", "::1", "[::1]" with optional ":port" (required when
 * <need_port>), or a bare port "3128" (then <default_host> is used) into
 * <out>.  Return 0, or -1 if it is not such an address.
 */
int sk_addr_parse(const char *s, const char *default_host, bool need_port,
                  struct sockaddr_storage *out);

#define SK_ADDRSTRLEN 64

#endif
