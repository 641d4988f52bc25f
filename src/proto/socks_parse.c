/*
 * socks_parse.c -- SOCKS4, SOCKS4a and SOCKS5 (RFC 1928, RFC 1929)
 * messages parsed and built as pure functions of bytes.
 *
 * Every parser is stateless: it is handed the whole buffer received so far
 * and either finds a complete message (SKUA_OK and its length), a valid
 * prefix (SKUA_AGAIN) or an error (SKUA_ERROR and a reply code).  Checks
 * are made field by field in wire order, as soon as the field's bytes are
 * there, so an error is reported early and the outcome never depends on
 * how the bytes were split: a prefix of a message gives SKUA_AGAIN or the
 * same error as the whole message.  Output structures are written only on
 * SKUA_OK, *<rep> only on SKUA_ERROR.
 *
 * Deliberately not done here: no I/O, no allocation, no policy (which
 * methods or commands the server accepts, whether an address or a user is
 * allowed), no name resolution, and no recognising of IP literals sent as
 * DOMAIN names (that is the SOCKS server's business).
 *
 * Choices where the RFCs leave room:
 *   - port 0 is an error only for CONNECT: RFC 1928 section 7 says a UDP
 *     ASSOCIATE request carries all zeros when the client does not know
 *     its address yet, and clients send 0.0.0.0:0 for BIND too;
 *   - RFC 1929: an empty UNAME is an error (ULEN is 1..255), an empty
 *     PASSWD is accepted (clients send it; the check then decides), and a
 *     NUL inside either is an error, because both are handed on as C
 *     strings and "admin\0x" must not become "admin";
 *   - a DOMAIN name (SOCKS5) or HOSTNAME (SOCKS4a) may hold any byte but
 *     NUL; its syntax is checked by whoever resolves it;
 *   - UDP datagram headers with RSV != 0 are malformed; FRAG != 0 is
 *     parsed and reported, and the caller drops it (skua does not
 *     reassemble, which RFC 1928 section 7 allows);
 *   - replies built for an IPv4-mapped IPv6 address use ATYP IPv4 (SOCKS4
 *     replies can only carry IPv4 and write 0.0.0.0 for anything else).
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "proto/socks_parse.h"

#define S5_VER 0x05
#define S4_VER 0x04
#define S5_USERPASS_VER 0x01

/* Where a SOCKS5 address (ATYP, DST.ADDR, DST.PORT) was found. */
struct s5_addr {
    enum socks_atyp atyp;
    size_t off;                 /* first byte of the address */
    size_t alen;                /* its length */
    uint16_t port;
    size_t end;                 /* one past DST.PORT */
};

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/*
 * Locate the address that starts with its ATYP byte at <off>.  Return
 * SKUA_OK with <a> filled, SKUA_AGAIN, or SKUA_ERROR with *<rep> set.
 */
static int
s5_addr_scan(const uint8_t *buf, size_t len, size_t off, bool port0_ok,
             struct s5_addr *a, int *rep)
{
    size_t avail;

    if (len <= off)
        return SKUA_AGAIN;
    switch (buf[off]) {
    case SOCKS_ATYP_IPV4:
        a->alen = 4;
        a->off = off + 1;
        break;
    case SOCKS_ATYP_IPV6:
        a->alen = 16;
        a->off = off + 1;
        break;
    case SOCKS_ATYP_DOMAIN:
        if (len <= off + 1)
            return SKUA_AGAIN;
        a->alen = buf[off + 1];
        a->off = off + 2;
        if (a->alen == 0) {
            *rep = SOCKS5_REP_FAILURE;
            return SKUA_ERROR;
        }
        avail = SK_MIN(len - a->off, a->alen);
        if (memchr(buf + a->off, '\0', avail) != NULL) {
            *rep = SOCKS5_REP_FAILURE;
            return SKUA_ERROR;
        }
        break;
    default:
        *rep = SOCKS5_REP_ATYP_UNSUPPORTED;
        return SKUA_ERROR;
    }
    a->atyp = (enum socks_atyp)buf[off];
    a->end = a->off + a->alen + 2;
    if (len < a->end)
        return SKUA_AGAIN;
    a->port = get16(buf + a->off + a->alen);
    if (a->port == 0 && !port0_ok) {
        *rep = SOCKS5_REP_FAILURE;
        return SKUA_ERROR;
    }
    return SKUA_OK;
}

/* Copy the address <a> found in <buf> into the caller's fields. */
static void
s5_addr_store(const uint8_t *buf, const struct s5_addr *a,
              enum socks_atyp *atyp, char *host,
              struct sockaddr_storage *ss, uint16_t *port)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    *atyp = a->atyp;
    *port = a->port;
    host[0] = '\0';
    memset(ss, 0, sizeof(*ss));
    switch (a->atyp) {
    case SOCKS_ATYP_IPV4:
        sin->sin_family = AF_INET;
        sin->sin_port = htons(a->port);
        memcpy(&sin->sin_addr, buf + a->off, 4);
        break;
    case SOCKS_ATYP_IPV6:
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(a->port);
        memcpy(&sin6->sin6_addr, buf + a->off, 16);
        break;
    case SOCKS_ATYP_DOMAIN:
        memcpy(host, buf + a->off, a->alen);
        host[a->alen] = '\0';
        ss->ss_family = AF_UNSPEC;
        break;
    }
}

/*
 * Write ATYP, address and port of <ss> (NULL or not an IP family:
 * 0.0.0.0:0) at <out>; return the length, or 0 if <outlen> is too small.
 */
static size_t
s5_addr_put(uint8_t *out, size_t outlen, const struct sockaddr_storage *ss)
{
    static const uint8_t v4mapped[12] =
        { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    const uint8_t *a6;

    if (ss != NULL && ss->ss_family == AF_INET6) {
        a6 = sin6->sin6_addr.s6_addr;
        if (memcmp(a6, v4mapped, sizeof(v4mapped)) == 0) {
            if (outlen < 7)
                return 0;
            out[0] = SOCKS_ATYP_IPV4;
            memcpy(out + 1, a6 + 12, 4);
            memcpy(out + 5, &sin6->sin6_port, 2);
            return 7;
        }
        if (outlen < 19)
            return 0;
        out[0] = SOCKS_ATYP_IPV6;
        memcpy(out + 1, a6, 16);
        memcpy(out + 17, &sin6->sin6_port, 2);
        return 19;
    }
    if (outlen < 7)
        return 0;
    out[0] = SOCKS_ATYP_IPV4;
    if (ss != NULL && ss->ss_family == AF_INET) {
        memcpy(out + 1, &sin->sin_addr, 4);
        memcpy(out + 5, &sin->sin_port, 2);
    } else {
        memset(out + 1, 0, 6);
    }
    return 7;
}

int
socks5_parse_greeting(const uint8_t *buf, size_t len,
                      struct socks5_greeting *g, size_t *used)
{
    size_t n;

    if (len < 1)
        return SKUA_AGAIN;
    if (buf[0] != S5_VER)
        return SKUA_ERROR;
    if (len < 2)
        return SKUA_AGAIN;
    n = buf[1];
    if (n == 0)
        return SKUA_ERROR;
    if (len < 2 + n)
        return SKUA_AGAIN;
    g->nmethods = (uint8_t)n;
    memcpy(g->methods, buf + 2, n);
    *used = 2 + n;
    return SKUA_OK;
}

uint8_t
socks5_choose_method(const struct socks5_greeting *g,
                     const uint8_t *prefer, size_t nprefer)
{
    size_t i;

    for (i = 0; i < nprefer; i++) {
        if (prefer[i] != SOCKS5_AUTH_UNACCEPTABLE
            && memchr(g->methods, prefer[i], g->nmethods) != NULL)
            return prefer[i];
    }
    return SOCKS5_AUTH_UNACCEPTABLE;
}

/*
 * Check the length-prefixed string at <off>: SKUA_OK with its length in
 * *<n>, SKUA_AGAIN, or SKUA_ERROR (empty while not <empty_ok>, or a NUL).
 */
static int
lstring_scan(const uint8_t *buf, size_t len, size_t off, bool empty_ok,
             size_t *n)
{
    size_t l;

    if (len <= off)
        return SKUA_AGAIN;
    l = buf[off];
    if (l == 0 && !empty_ok)
        return SKUA_ERROR;
    if (memchr(buf + off + 1, '\0', SK_MIN(len - off - 1, l)) != NULL)
        return SKUA_ERROR;
    if (len < off + 1 + l)
        return SKUA_AGAIN;
    *n = l;
    return SKUA_OK;
}

int
socks5_parse_userpass(const uint8_t *buf, size_t len,
                      struct socks5_userpass *up, size_t *used)
{
    size_t ulen, plen;
    int r;

    if (len < 1)
        return SKUA_AGAIN;
    if (buf[0] != S5_USERPASS_VER)
        return SKUA_ERROR;
    r = lstring_scan(buf, len, 1, false, &ulen);
    if (r != SKUA_OK)
        return r;
    r = lstring_scan(buf, len, 2 + ulen, true, &plen);
    if (r != SKUA_OK)
        return r;
    memcpy(up->user, buf + 2, ulen);
    up->user[ulen] = '\0';
    memcpy(up->pass, buf + 3 + ulen, plen);
    up->pass[plen] = '\0';
    *used = 3 + ulen + plen;
    return SKUA_OK;
}

int
socks5_parse_request(const uint8_t *buf, size_t len,
                     struct socks_request *req, size_t *used, int *rep)
{
    struct s5_addr a;
    uint8_t cmd;
    int r;

    if (len < 1)
        return SKUA_AGAIN;
    if (buf[0] != S5_VER) {
        *rep = SOCKS5_REP_FAILURE;
        return SKUA_ERROR;
    }
    if (len < 2)
        return SKUA_AGAIN;
    cmd = buf[1];
    if (cmd != SOCKS_CMD_CONNECT && cmd != SOCKS_CMD_BIND
        && cmd != SOCKS_CMD_UDP_ASSOCIATE) {
        *rep = SOCKS5_REP_CMD_UNSUPPORTED;
        return SKUA_ERROR;
    }
    if (len < 3)
        return SKUA_AGAIN;
    if (buf[2] != 0) {
        *rep = SOCKS5_REP_FAILURE;
        return SKUA_ERROR;
    }
    r = s5_addr_scan(buf, len, 3, cmd != SOCKS_CMD_CONNECT, &a, rep);
    if (r != SKUA_OK)
        return r;
    req->version = 5;
    req->cmd = (enum socks_cmd)cmd;
    req->userid[0] = '\0';
    s5_addr_store(buf, &a, &req->atyp, req->host, &req->addr, &req->port);
    *used = a.end;
    return SKUA_OK;
}

/*
 * Find the NUL that ends the string starting at <off>: SKUA_OK with its
 * position in *<nul>, SKUA_AGAIN, or SKUA_ERROR when SOCKS_MAX_NAME bytes
 * have come without one.
 */
static int
cstring_scan(const uint8_t *buf, size_t len, size_t off, size_t *nul)
{
    size_t avail = SK_MIN(len - off, (size_t)SOCKS_MAX_NAME + 1);
    const uint8_t *p = memchr(buf + off, '\0', avail);

    if (p != NULL) {
        *nul = (size_t)(p - buf);
        return SKUA_OK;
    }
    return avail > SOCKS_MAX_NAME ? SKUA_ERROR : SKUA_AGAIN;
}

/*
 * Locate the parts of a SOCKS4(a) request: SKUA_OK with the NUL ending
 * USERID at *<uend> and, for 4a, the one ending HOSTNAME at *<hend>;
 * SKUA_AGAIN; or SKUA_ERROR.
 */
static int
s4_scan(const uint8_t *buf, size_t len, bool *is_4a, size_t *uend,
        size_t *hend)
{
    int r;

    if (len < 1)
        return SKUA_AGAIN;
    if (buf[0] != S4_VER)
        return SKUA_ERROR;
    if (len < 2)
        return SKUA_AGAIN;
    if (buf[1] != SOCKS_CMD_CONNECT && buf[1] != SOCKS_CMD_BIND)
        return SKUA_ERROR;
    if (len < 4)
        return SKUA_AGAIN;
    if (get16(buf + 2) == 0 && buf[1] == SOCKS_CMD_CONNECT)
        return SKUA_ERROR;
    if (len < 8)
        return SKUA_AGAIN;
    /* SOCKS4a: DSTIP 0.0.0.x with x != 0 announces a HOSTNAME. */
    *is_4a = buf[4] == 0 && buf[5] == 0 && buf[6] == 0 && buf[7] != 0;
    r = cstring_scan(buf, len, 8, uend);
    if (r != SKUA_OK || !*is_4a)
        return r;
    r = cstring_scan(buf, len, *uend + 1, hend);
    if (r == SKUA_OK && *hend == *uend + 1)
        return SKUA_ERROR;          /* empty HOSTNAME */
    return r;
}

int
socks4_parse_request(const uint8_t *buf, size_t len,
                     struct socks_request *req, size_t *used, int *rep)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&req->addr;
    size_t uend = 0, hend = 0;
    bool is_4a = false;
    int r;

    r = s4_scan(buf, len, &is_4a, &uend, &hend);
    if (r != SKUA_OK) {
        if (r == SKUA_ERROR)
            *rep = SOCKS4_REP_REJECTED;     /* SOCKS4's only error reply */
        return r;
    }
    req->version = 4;
    req->cmd = (enum socks_cmd)buf[1];
    req->port = get16(buf + 2);
    memcpy(req->userid, buf + 8, uend - 8 + 1);
    memset(&req->addr, 0, sizeof(req->addr));
    if (is_4a) {
        req->atyp = SOCKS_ATYP_DOMAIN;
        memcpy(req->host, buf + uend + 1, hend - uend);
        req->addr.ss_family = AF_UNSPEC;
        *used = hend + 1;
    } else {
        req->atyp = SOCKS_ATYP_IPV4;
        req->host[0] = '\0';
        sin->sin_family = AF_INET;
        sin->sin_port = htons(req->port);
        memcpy(&sin->sin_addr, buf + 4, 4);
        *used = uend + 1;
    }
    return SKUA_OK;
}

size_t
socks5_build_reply(uint8_t *out, size_t outlen, int rep,
                   const struct sockaddr_storage *bnd)
{
    size_t n;

    if (rep < 0 || rep > 0xff || outlen < 3)
        return 0;
    n = s5_addr_put(out + 3, outlen - 3, bnd);
    if (n == 0)
        return 0;
    out[0] = S5_VER;
    out[1] = (uint8_t)rep;
    out[2] = 0;
    return 3 + n;
}

size_t
socks4_build_reply(uint8_t *out, size_t outlen, int rep,
                   const struct sockaddr_storage *bnd)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)bnd;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)bnd;

    if (rep < 0 || rep > 0xff || outlen < 8)
        return 0;
    out[0] = 0;                 /* VN: the reply version is 0 */
    out[1] = (uint8_t)rep;
    memset(out + 2, 0, 6);
    if (bnd != NULL && bnd->ss_family == AF_INET) {
        memcpy(out + 2, &sin->sin_port, 2);
        memcpy(out + 4, &sin->sin_addr, 4);
    } else if (bnd != NULL && bnd->ss_family == AF_INET6
               && IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
        memcpy(out + 2, &sin6->sin6_port, 2);
        memcpy(out + 4, sin6->sin6_addr.s6_addr + 12, 4);
    }
    return 8;
}

int
socks5_parse_udp(const uint8_t *buf, size_t len,
                 struct socks5_udp_hdr *h, size_t *hdrlen)
{
    struct s5_addr a;
    int rep;

    if (len < 3 || buf[0] != 0 || buf[1] != 0)
        return SKUA_ERROR;
    /* A datagram is complete: a header cut short never grows. */
    if (s5_addr_scan(buf, len, 3, false, &a, &rep) != SKUA_OK)
        return SKUA_ERROR;
    h->frag = buf[2];
    s5_addr_store(buf, &a, &h->atyp, h->host, &h->addr, &h->port);
    *hdrlen = a.end;
    return SKUA_OK;
}

size_t
socks5_build_udp(uint8_t *out, size_t outlen,
                 const struct sockaddr_storage *from)
{
    size_t n;

    if (from == NULL
        || (from->ss_family != AF_INET && from->ss_family != AF_INET6)
        || outlen < 3)
        return 0;
    n = s5_addr_put(out + 3, outlen - 3, from);
    if (n == 0)
        return 0;
    out[0] = 0;
    out[1] = 0;
    out[2] = 0;
    return 3 + n;
}
