/*
 * fuzz_socks.c -- fuzz the SOCKS4/4a/5 parsers and builders
 * (src/proto/socks_parse.c).
 *
 * The whole input is handed to every parser.  For each one:
 *   - the outcome is one of SKUA_OK, SKUA_AGAIN, SKUA_ERROR, with a reply
 *     code from the documented set on error;
 *   - outputs are untouched unless SKUA_OK (*rep unless SKUA_ERROR);
 *   - a message that parses re-encodes to exactly the bytes it used, and
 *     its fields are consistent (names NUL-free and terminated, family
 *     matching ATYP, port 0 only where allowed);
 *   - every prefix agrees: shorter than a message is SKUA_AGAIN, an error
 *     is SKUA_AGAIN or the same error earlier, SKUA_AGAIN stays SKUA_AGAIN
 *     (a UDP datagram is never partial: its prefixes are errors or whole);
 *   - the parsed address goes through the reply and UDP builders, which
 *     must fit the buffer they are given and parse back to that address.
 * Then the input is read as a SOCKS5 conversation, greeting, RFC 1929 and
 * request one after the other from the same buffer.
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "fuzz.h"
#include "proto/socks_parse.h"

#define PREFIX_MAX 600      /* check every prefix of inputs up to this */

enum kind { K_GREET, K_USERPASS, K_REQ5, K_REQ4, K_UDP, K_MAX };

struct out {
    struct socks5_greeting g;
    struct socks5_userpass up;
    struct socks_request req;
    struct socks5_udp_hdr udp;
    size_t used;
    int rep;
};

static int
run(enum kind k, const uint8_t *buf, size_t len, struct out *o)
{
    memset(o, 0xa5, sizeof(*o));
    switch (k) {
    case K_GREET:
        return socks5_parse_greeting(buf, len, &o->g, &o->used);
    case K_USERPASS:
        return socks5_parse_userpass(buf, len, &o->up, &o->used);
    case K_REQ5:
        return socks5_parse_request(buf, len, &o->req, &o->used, &o->rep);
    case K_REQ4:
        return socks4_parse_request(buf, len, &o->req, &o->used, &o->rep);
    case K_UDP:
    case K_MAX:
        break;
    }
    return socks5_parse_udp(buf, len, &o->udp, &o->used);
}

/* Check that the field <s> of <size> bytes holds a C string; return len. */
static size_t
name_len(const char *s, size_t size)
{
    const char *nul = memchr(s, '\0', size);

    FUZZ_CHECK(nul != NULL);
    return (size_t)(nul - s);
}

/* Encode ATYP, address and port as SOCKS5 does; return the length. */
static size_t
encode_addr(uint8_t *p, enum socks_atyp atyp, const char *host,
            const struct sockaddr_storage *ss, uint16_t port)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    size_t n = 1, hl;

    p[0] = (uint8_t)atyp;
    switch (atyp) {
    case SOCKS_ATYP_IPV4:
        FUZZ_CHECK(ss->ss_family == AF_INET && host[0] == '\0');
        FUZZ_CHECK(ntohs(sin->sin_port) == port);
        memcpy(p + 1, &sin->sin_addr, 4);
        n += 4;
        break;
    case SOCKS_ATYP_IPV6:
        FUZZ_CHECK(ss->ss_family == AF_INET6 && host[0] == '\0');
        FUZZ_CHECK(ntohs(sin6->sin6_port) == port);
        memcpy(p + 1, &sin6->sin6_addr, 16);
        n += 16;
        break;
    case SOCKS_ATYP_DOMAIN:
        FUZZ_CHECK(ss->ss_family == AF_UNSPEC);
        hl = name_len(host, SOCKS_MAX_NAME + 1);
        FUZZ_CHECK(hl > 0);
        p[1] = (uint8_t)hl;
        memcpy(p + 2, host, hl);
        n += 1 + hl;
        break;
    default:
        FUZZ_CHECK(!"unknown atyp");
    }
    p[n] = (uint8_t)(port >> 8);
    p[n + 1] = (uint8_t)port;
    return n + 2;
}

/* Re-encode the message in <o> (<k> parsed OK) into <p>; return length. */
static size_t
encode(enum kind k, const struct out *o, const uint8_t *in, uint8_t *p)
{
    size_t n, l;

    switch (k) {
    case K_GREET:
        FUZZ_CHECK(o->g.nmethods > 0);
        p[0] = 5;
        p[1] = o->g.nmethods;
        memcpy(p + 2, o->g.methods, o->g.nmethods);
        return 2 + (size_t)o->g.nmethods;
    case K_USERPASS:
        p[0] = 1;
        l = name_len(o->up.user, sizeof(o->up.user));
        FUZZ_CHECK(l > 0);
        p[1] = (uint8_t)l;
        memcpy(p + 2, o->up.user, l);
        n = 2 + l;
        l = name_len(o->up.pass, sizeof(o->up.pass));
        p[n] = (uint8_t)l;
        memcpy(p + n + 1, o->up.pass, l);
        return n + 1 + l;
    case K_REQ5:
        FUZZ_CHECK(o->req.version == 5);
        FUZZ_CHECK(o->req.userid[0] == '\0');
        FUZZ_CHECK(o->req.port != 0 || o->req.cmd != SOCKS_CMD_CONNECT);
        p[0] = 5;
        p[1] = (uint8_t)o->req.cmd;
        p[2] = 0;
        return 3 + encode_addr(p + 3, o->req.atyp, o->req.host,
                               &o->req.addr, o->req.port);
    case K_REQ4:
        FUZZ_CHECK(o->req.version == 4);
        FUZZ_CHECK(o->req.cmd == SOCKS_CMD_CONNECT
                   || o->req.cmd == SOCKS_CMD_BIND);
        FUZZ_CHECK(o->req.port != 0 || o->req.cmd != SOCKS_CMD_CONNECT);
        p[0] = 4;
        p[1] = (uint8_t)o->req.cmd;
        p[2] = (uint8_t)(o->req.port >> 8);
        p[3] = (uint8_t)o->req.port;
        if (o->req.atyp == SOCKS_ATYP_DOMAIN) {
            /* the 0.0.0.x marker is not kept: take it from the input */
            FUZZ_CHECK(in[4] == 0 && in[5] == 0 && in[6] == 0 && in[7]);
            FUZZ_CHECK(o->req.addr.ss_family == AF_UNSPEC);
            memcpy(p + 4, in + 4, 4);
        } else {
            FUZZ_CHECK(o->req.atyp == SOCKS_ATYP_IPV4);
            FUZZ_CHECK(o->req.host[0] == '\0');
            FUZZ_CHECK(o->req.addr.ss_family == AF_INET);
            memcpy(p + 4,
                   &((const struct sockaddr_in *)&o->req.addr)->sin_addr, 4);
        }
        l = name_len(o->req.userid, sizeof(o->req.userid));
        memcpy(p + 8, o->req.userid, l + 1);
        n = 8 + l + 1;
        if (o->req.atyp == SOCKS_ATYP_DOMAIN) {
            l = name_len(o->req.host, sizeof(o->req.host));
            FUZZ_CHECK(l > 0);
            memcpy(p + n, o->req.host, l + 1);
            n += l + 1;
        }
        return n;
    case K_UDP:
    case K_MAX:
        break;
    }
    FUZZ_CHECK(o->udp.port != 0);
    p[0] = 0;
    p[1] = 0;
    p[2] = o->udp.frag;
    return 3 + encode_addr(p + 3, o->udp.atyp, o->udp.host, &o->udp.addr,
                           o->udp.port);
}

static bool
is_v4mapped(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET6
           && IN6_IS_ADDR_V4MAPPED(
                  &((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* Build replies and a UDP header for <ss> into buffers of every size. */
static void
check_builders(const struct sockaddr_storage *ss, int rep)
{
    uint8_t out[64];
    struct socks5_udp_hdr h;
    size_t n, full5, full4, fullu, hl, k;

    full5 = socks5_build_reply(out, sizeof(out), rep, ss);
    FUZZ_CHECK(full5 == 10 || full5 == 22);
    FUZZ_CHECK(out[0] == 5 && out[1] == rep && out[2] == 0);
    full4 = socks4_build_reply(out, sizeof(out), rep, ss);
    FUZZ_CHECK(full4 == 8 && out[0] == 0 && out[1] == rep);
    fullu = socks5_build_udp(out, sizeof(out), ss);
    FUZZ_CHECK(fullu == 10 || fullu == 22);
    FUZZ_CHECK(socks5_parse_udp(out, fullu, &h, &hl) == SKUA_OK
               || ((const struct sockaddr_in *)ss)->sin_port == 0);
    if (((const struct sockaddr_in *)ss)->sin_port != 0) {
        FUZZ_CHECK(hl == fullu && h.frag == 0);
        FUZZ_CHECK(h.atyp == (fullu == 10 ? SOCKS_ATYP_IPV4
                                          : SOCKS_ATYP_IPV6));
        if (!is_v4mapped(ss))
            FUZZ_CHECK(memcmp(&h.addr, ss, sizeof(h.addr)) == 0);
    }
    for (k = 0; k < 23; k++) {
        memset(out, 0xee, sizeof(out));
        n = socks5_build_reply(out, k, rep, ss);
        FUZZ_CHECK(n == (k >= full5 ? full5 : 0) && out[k] == 0xee);
        n = socks4_build_reply(out, k, rep, ss);
        FUZZ_CHECK(n == (k >= 8 ? 8 : 0) && out[k] == 0xee);
        n = socks5_build_udp(out, k, ss);
        FUZZ_CHECK(n == (k >= fullu ? fullu : 0) && out[k] == 0xee);
    }
}

static void
check_rep(enum kind k, int rep)
{
    if (k == K_REQ5)
        FUZZ_CHECK(rep == SOCKS5_REP_FAILURE
                   || rep == SOCKS5_REP_CMD_UNSUPPORTED
                   || rep == SOCKS5_REP_ATYP_UNSUPPORTED);
    else if (k == K_REQ4)
        FUZZ_CHECK(rep == SOCKS4_REP_REJECTED);
}

static void
check_kind(enum kind k, const uint8_t *buf, size_t len)
{
    static struct out untouched;
    struct out o, p;
    uint8_t enc[600];
    size_t n, elen, top;
    int r, rp;

    memset(&untouched, 0xa5, sizeof(untouched));
    r = run(k, buf, len, &o);
    FUZZ_CHECK(r == SKUA_OK || r == SKUA_AGAIN || r == SKUA_ERROR);
    FUZZ_CHECK(k != K_UDP || r != SKUA_AGAIN);
    if (r == SKUA_OK) {
        FUZZ_CHECK(o.used > 0 && o.used <= len);
        elen = encode(k, &o, buf, enc);
        FUZZ_CHECK(elen == o.used && memcmp(enc, buf, elen) == 0);
        /* rep is written only on error */
        FUZZ_CHECK(o.rep == untouched.rep);
        if ((k == K_REQ5 || k == K_REQ4)
            && o.req.atyp != SOCKS_ATYP_DOMAIN)
            check_builders(&o.req.addr, o.used & 0xff);
        if (k == K_UDP && o.udp.atyp != SOCKS_ATYP_DOMAIN)
            check_builders(&o.udp.addr, o.udp.frag);
    } else {
        if (r == SKUA_ERROR)
            check_rep(k, o.rep);
        else
            FUZZ_CHECK(o.rep == untouched.rep);
        memcpy(&p, &o, sizeof(p));
        p.rep = untouched.rep;
        FUZZ_CHECK(memcmp(&p, &untouched, sizeof(p)) == 0);
    }

    top = SK_MIN(len, (size_t)PREFIX_MAX);
    for (n = 0; n < top; n++) {
        rp = run(k, buf, n, &p);
        if (r == SKUA_OK && n >= o.used) {
            FUZZ_CHECK(rp == SKUA_OK && p.used == o.used);
            FUZZ_CHECK(memcmp(&p, &o, sizeof(p)) == 0);
        } else if (k == K_UDP) {
            FUZZ_CHECK(rp == SKUA_ERROR);
        } else if (r == SKUA_ERROR) {
            FUZZ_CHECK(rp == SKUA_AGAIN
                       || (rp == SKUA_ERROR && p.rep == o.rep));
        } else {
            FUZZ_CHECK(rp == SKUA_AGAIN);
        }
    }
}

/* A SOCKS5 conversation: greeting, maybe RFC 1929, request. */
static void
check_conversation(const uint8_t *buf, size_t len)
{
    static const uint8_t pref[] = { SOCKS5_AUTH_USERPASS, SOCKS5_AUTH_NONE };
    struct socks5_greeting g;
    struct socks5_userpass up;
    struct socks_request req;
    size_t used, off = 0;
    uint8_t m;
    int rep;

    if (socks5_parse_greeting(buf, len, &g, &used) != SKUA_OK)
        return;
    off = used;
    m = socks5_choose_method(&g, pref, sizeof(pref));
    FUZZ_CHECK(m == SOCKS5_AUTH_UNACCEPTABLE
               || memchr(g.methods, m, g.nmethods) != NULL);
    if (m == SOCKS5_AUTH_USERPASS) {
        if (socks5_parse_userpass(buf + off, len - off, &up, &used)
            != SKUA_OK)
            return;
        off += used;
    } else if (m != SOCKS5_AUTH_NONE) {
        return;
    }
    if (socks5_parse_request(buf + off, len - off, &req, &used, &rep)
        == SKUA_OK)
        FUZZ_CHECK(off + used <= len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int k;

    for (k = 0; k < K_MAX; k++)
        check_kind((enum kind)k, data, size);
    check_conversation(data, size);
    return 0;
}
