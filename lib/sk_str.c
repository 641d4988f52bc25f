/*
 * sk_str.c -- string, number and socket-address helpers (see sk_str.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sk_str.h"

static inline int
lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

bool
sk_str_ieq(const char *a, size_t alen, const char *b)
{
    size_t i;

    for (i = 0; i < alen; i++) {
        if (b[i] == '\0' || lower((unsigned char)a[i]) !=
                                lower((unsigned char)b[i]))
            return false;
    }
    return b[alen] == '\0';
}

bool
sk_str_has_token(const char *list, size_t len, const char *token)
{
    size_t i = 0, start, end;

    while (i < len) {
        while (i < len && (list[i] == ' ' || list[i] == '\t' ||
                           list[i] == ','))
            i++;
        start = i;
        while (i < len && list[i] != ',')
            i++;
        end = i;
        while (end > start && (list[end - 1] == ' ' ||
                               list[end - 1] == '\t'))
            end--;
        if (end > start && sk_str_ieq(list + start, end - start, token))
            return true;
    }
    return false;
}

size_t
sk_strlcpy(char *dst, const char *src, size_t dstlen)
{
    size_t n = strlen(src);

    if (dstlen != 0) {
        size_t c = n < dstlen - 1 ? n : dstlen - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

int
sk_parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (len == 0)
        return -1;
    for (i = 0; i < len; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

const char *
sk_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *src;

    switch (sa->sa_family) {
    case AF_INET:
        src = &((const struct sockaddr_in *)sa)->sin_addr;
        if (len >= INET_ADDRSTRLEN) {
            /* What inet_ntop() writes, without its sprintf (every
             * request formats one or two of these). */
            const unsigned char *b = src;
            char *p = buf;
            unsigned i, v;

            for (i = 0; i < 4; i++) {
                v = b[i];
                if (v >= 100)
                    *p++ = (char)('0' + v / 100);
                if (v >= 10)
                    *p++ = (char)('0' + v / 10 % 10);
                *p++ = (char)('0' + v % 10);
                *p++ = i < 3 ? '.' : '\0';
            }
            return buf;
        }
        break;
    case AF_INET6:
        src = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        break;
    default:
        snprintf(buf, len, "-");
        return buf;
    }
    if (inet_ntop(sa->sa_family, src, buf, (socklen_t)len) == NULL)
        snprintf(buf, len, "-");
    return buf;
}

const char *
sk_addr_port_str(const struct sockaddr *sa, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN];

    sk_addr_str(sa, a, sizeof(a));
    if (sa->sa_family == AF_INET6)
        snprintf(buf, len, "[%s]:%u", a, sk_addr_port(sa));
    else
        snprintf(buf, len, "%s:%u", a, sk_addr_port(sa));
    return buf;
}

uint16_t
sk_addr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return 0;
}

socklen_t
sk_addr_len(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return sizeof(struct sockaddr_in);
    if (sa->sa_family == AF_INET6)
        return sizeof(struct sockaddr_in6);
    return 0;
}

bool
sk_addr_is_any(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
               htonl(INADDR_ANY);
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(
            &((const struct sockaddr_in6 *)sa)->sin6_addr);
    return true;
}

void
sk_addr_unmap(const struct sockaddr_storage *in,
              struct sockaddr_storage *out)
{
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)in;
    struct sockaddr_in s4;

    if (in->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        memset(&s4, 0, sizeof(s4));
        s4.sin_family = AF_INET;
        s4.sin_port = s6->sin6_port;
        memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
        memset(out, 0, sizeof(*out));
        memcpy(out, &s4, sizeof(s4));
        return;
    }
    if (out != in)
        *out = *in;
}

bool
sk_addr_eq(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return false;
}

static int
addr_from_host(const char *host, size_t hlen, uint16_t port,
               struct sockaddr_storage *out)
{
    char tmp[INET6_ADDRSTRLEN];
    struct sockaddr_in *s4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;

    if (hlen == 0 || hlen >= sizeof(tmp))
        return -1;
    memcpy(tmp, host, hlen);
    tmp[hlen] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, tmp, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        return 0;
    }
    if (inet_pton(AF_INET6, tmp, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        return 0;
    }
    return -1;
}

int
sk_addr_parse(const char *s, const char *default_host, bool need_port,
              struct sockaddr_storage *out)
{
    const char *host, *colon, *p;
    size_t hlen;
    uint64_t port = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (p = s; *p >= '0' && *p <= '9'; p++)
        ;
    if (*p == '\0') {
        /* a bare port */
        if (sk_parse_u64(s, strlen(s), &port) == -1 || port == 0 ||
            port > 65535 || default_host == NULL)
            return -1;
        return addr_from_host(default_host, strlen(default_host),
                              (uint16_t)port, out);
    }
    if (*s == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL)
            return -1;
        host = s + 1;
        hlen = (size_t)(end - host);
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] != '\0' && colon == NULL)
            return -1;
    } else {
        colon = strrchr(s, ':');
        if (colon != NULL && strchr(s, ':') != colon)
            colon = NULL;       /* a bare IPv6 literal */
        host = s;
        hlen = colon ? (size_t)(colon - s) : strlen(s);
    }
    if (colon != NULL) {
        if (sk_parse_u64(colon + 1, strlen(colon + 1), &port) == -1 ||
            port == 0 || port > 65535)
            return -1;
    } else if (need_port) {
        return -1;
    }
    return addr_from_host(host, hlen, (uint16_t)port, out);
}
