/*
 * test_socks_parse.c -- unit tests for src/proto/socks_parse.c.
 *
 * Table-driven: valid SOCKS5 greetings, RFC 1929 sub-negotiations and
 * requests of every command and address type, SOCKS4 and SOCKS4a requests,
 * each parsed whole, with trailing bytes, and prefix by prefix (every
 * prefix needs more bytes); malformed messages, each with its exact reply
 * code, whose prefixes give SKUA_AGAIN or that same error; a greeting, a
 * sub-negotiation and a request in one buffer; replies and UDP headers
 * encoded byte for byte.  No I/O.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/socks_parse.h"

/* Table rows leave trailing members out: they default to zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* A byte string literal that may hold NULs, and its length. */
#define B(s) (const uint8_t *)(s), sizeof(s) - 1

enum kind { K_GREET, K_USERPASS, K_REQ5, K_REQ4, K_UDP };

static const char *const kind_name[] = {
    "greeting", "userpass", "socks5 request", "socks4 request", "udp"
};

/* Everything any parser can produce. */
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
    memset(o, 0xa5, sizeof(*o));    /* the parser must set what it reports */
    o->rep = -1;
    o->used = (size_t)-1;
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
        return socks5_parse_udp(buf, len, &o->udp, &o->used);
    }
    return 99;
}

/* Render the address in <ss> as "ip:port", "-" for AF_UNSPEC. */
static void
addr_str(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    char a[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
        snprintf(out, outlen, "%s:%u", a, ntohs(sin->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
        snprintf(out, outlen, "[%s]:%u", a, ntohs(sin6->sin6_port));
    } else if (ss->ss_family == AF_UNSPEC) {
        snprintf(out, outlen, "-");
    } else {
        snprintf(out, outlen, "family %d", ss->ss_family);
    }
}

static void
fill_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (strchr(ip, ':') != NULL) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
    } else {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
    }
}

/* ---- valid messages ---- */

struct ok_case {
    const char *name;
    enum kind kind;
    const uint8_t *in;
    size_t len;
    int version;            /* requests */
    int cmd;                /* requests; greeting: nmethods */
    int atyp;
    const char *host;       /* DOMAIN name; userpass: user */
    const char *addr;       /* "ip:port" or "-"; userpass: password */
    int port;
    const char *userid;     /* SOCKS4 */
    int frag;               /* UDP */
};

static const struct ok_case ok_cases[] = {
    { "greet none", K_GREET, B("\x05\x01\x00"), 0, 1 },
    { "greet three", K_GREET, B("\x05\x03\x00\x01\x02"), 0, 3 },
    { "greet dup", K_GREET, B("\x05\x02\x02\x02"), 0, 2 },
    { "userpass", K_USERPASS, B("\x01\x04user\x06secret"), 0, 0, 0,
      "user", "secret" },
    { "userpass empty pass", K_USERPASS, B("\x01\x01u\x00"), 0, 0, 0,
      "u", "" },
    { "userpass binary", K_USERPASS, B("\x01\x02\xff\x01\x03:\x7f "), 0, 0,
      0, "\xff\x01", ":\x7f " },
    { "connect ipv4", K_REQ5, B("\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50"),
      5, SOCKS_CMD_CONNECT, SOCKS_ATYP_IPV4, "", "127.0.0.1:80", 80, "" },
    { "connect domain", K_REQ5,
      B("\x05\x01\x00\x03\x0b" "example.com\x01\xbb"), 5, SOCKS_CMD_CONNECT,
      SOCKS_ATYP_DOMAIN, "example.com", "-", 443, "" },
    { "connect ipv6", K_REQ5,
      B("\x05\x01\x00\x04\x20\x01\x0d\xb8\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x01\x1f\x90"),
      5, SOCKS_CMD_CONNECT, SOCKS_ATYP_IPV6, "", "[2001:db8::1]:8080",
      8080, "" },
    { "connect ipv6 loopback", K_REQ5,
      B("\x05\x01\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x00\x00\x00\x00\x01\xff\xff"),
      5, SOCKS_CMD_CONNECT, SOCKS_ATYP_IPV6, "", "[::1]:65535", 65535, "" },
    { "connect ip literal name", K_REQ5,
      B("\x05\x01\x00\x03\x08" "10.0.0.1" "\x00\x16"), 5,
      SOCKS_CMD_CONNECT, SOCKS_ATYP_DOMAIN, "10.0.0.1", "-", 22, "" },
    { "bind ipv4 port 0", K_REQ5, B("\x05\x02\x00\x01\x00\x00\x00\x00"
      "\x00\x00"), 5, SOCKS_CMD_BIND, SOCKS_ATYP_IPV4, "", "0.0.0.0:0", 0,
      "" },
    { "udp associate zeros", K_REQ5, B("\x05\x03\x00\x01\x00\x00\x00\x00"
      "\x00\x00"), 5, SOCKS_CMD_UDP_ASSOCIATE, SOCKS_ATYP_IPV4, "",
      "0.0.0.0:0", 0, "" },
    { "udp associate domain", K_REQ5, B("\x05\x03\x00\x03\x01x\x13\x88"), 5,
      SOCKS_CMD_UDP_ASSOCIATE, SOCKS_ATYP_DOMAIN, "x", "-", 5000, "" },
    { "socks4 connect", K_REQ4, B("\x04\x01\x00\x50\x7f\x00\x00\x01\x00"),
      4, SOCKS_CMD_CONNECT, SOCKS_ATYP_IPV4, "", "127.0.0.1:80", 80, "" },
    { "socks4 userid", K_REQ4,
      B("\x04\x01\x1f\x90\x0a\x01\x02\x03" "alice\x00"), 4,
      SOCKS_CMD_CONNECT, SOCKS_ATYP_IPV4, "", "10.1.2.3:8080", 8080,
      "alice" },
    { "socks4 bind port 0", K_REQ4, B("\x04\x02\x00\x00\x0a\x00\x00\x01\x00"),
      4, SOCKS_CMD_BIND, SOCKS_ATYP_IPV4, "", "10.0.0.1:0", 0, "" },
    { "socks4 ip 0.0.0.0", K_REQ4, B("\x04\x01\x00\x50\x00\x00\x00\x00\x00"),
      4, SOCKS_CMD_CONNECT, SOCKS_ATYP_IPV4, "", "0.0.0.0:80", 80, "" },
    { "socks4a", K_REQ4,
      B("\x04\x01\x01\xbb\x00\x00\x00\x01\x00" "example.org\x00"), 4,
      SOCKS_CMD_CONNECT, SOCKS_ATYP_DOMAIN, "example.org", "-", 443, "" },
    { "socks4a userid", K_REQ4,
      B("\x04\x01\x00\x50\x00\x00\x00\xff" "bob\x00" "h\x00"), 4,
      SOCKS_CMD_CONNECT, SOCKS_ATYP_DOMAIN, "h", "-", 80, "bob" },
    { "udp ipv4", K_UDP, B("\x00\x00\x00\x01\x08\x08\x08\x08\x00\x35"),
      0, 0, SOCKS_ATYP_IPV4, "", "8.8.8.8:53", 53, 0, 0 },
    { "udp frag", K_UDP, B("\x00\x00\x03\x03\x04test\x00\x35"), 0, 0,
      SOCKS_ATYP_DOMAIN, "test", "-", 53, 0, 3 },
    { "udp frag high", K_UDP, B("\x00\x00\x81\x04\xfe\x80\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x30\x39"), 0, 0,
      SOCKS_ATYP_IPV6, "", "[fe80::2]:12345", 12345, 0, 0x81 },
};

static void
ok_check(const struct ok_case *c, const struct out *o)
{
    char a[128];

    switch (c->kind) {
    case K_GREET:
        assert_int_equal(o->g.nmethods, c->cmd);
        assert_memory_equal(o->g.methods, c->in + 2, c->cmd);
        break;
    case K_USERPASS:
        assert_string_equal(o->up.user, c->host);
        assert_string_equal(o->up.pass, c->addr);
        break;
    case K_REQ5:
    case K_REQ4:
        assert_int_equal(o->req.version, c->version);
        assert_int_equal(o->req.cmd, c->cmd);
        assert_int_equal(o->req.atyp, c->atyp);
        assert_string_equal(o->req.host, c->host);
        addr_str(&o->req.addr, a, sizeof(a));
        assert_string_equal(a, c->addr);
        assert_int_equal(o->req.port, c->port);
        assert_string_equal(o->req.userid, c->userid);
        break;
    case K_UDP:
        assert_int_equal(o->udp.frag, c->frag);
        assert_int_equal(o->udp.atyp, c->atyp);
        assert_string_equal(o->udp.host, c->host);
        addr_str(&o->udp.addr, a, sizeof(a));
        assert_string_equal(a, c->addr);
        assert_int_equal(o->udp.port, c->port);
        break;
    }
}

static void
test_ok(void **state)
{
    uint8_t buf[600];
    struct out o;
    size_t i, n, mlen;
    int r;

    (void)state;
    for (i = 0; i < SK_ARRAY_LEN(ok_cases); i++) {
        const struct ok_case *c = &ok_cases[i];

        print_message("ok: %s (%s)\n", c->name, kind_name[c->kind]);
        mlen = c->len;
        assert_int_equal(run(c->kind, c->in, c->len, &o), SKUA_OK);
        assert_int_equal(o.used, mlen);
        ok_check(c, &o);
        /* trailing bytes are left for the next message */
        memcpy(buf, c->in, c->len);
        memset(buf + c->len, 0x05, 40);
        assert_int_equal(run(c->kind, buf, c->len + 40, &o), SKUA_OK);
        assert_int_equal(o.used, mlen);
        ok_check(c, &o);
        /* prefixes: more bytes needed (a UDP datagram is never partial) */
        for (n = 0; n < mlen; n++) {
            r = run(c->kind, c->in, n, &o);
            if (r != (c->kind == K_UDP ? SKUA_ERROR : SKUA_AGAIN)) {
                print_error("%s: prefix of %zu bytes gave %d\n", c->name,
                            n, r);
                fail();
            }
        }
    }
}

/* Names of exactly SOCKS_MAX_NAME bytes are accepted, longer ones not. */
static void
test_long_names(void **state)
{
    uint8_t buf[1200];
    struct out o;
    size_t n;

    (void)state;
    /* SOCKS5 DOMAIN of 255 bytes */
    memcpy(buf, "\x05\x01\x00\x03\xff", 5);
    memset(buf + 5, 'a', 255);
    memcpy(buf + 260, "\x00\x50", 2);
    assert_int_equal(run(K_REQ5, buf, 262, &o), SKUA_OK);
    assert_int_equal(o.used, 262);
    assert_int_equal(strlen(o.req.host), 255);

    /* RFC 1929 with 255-byte user and password */
    buf[0] = 1;
    buf[1] = 255;
    memset(buf + 2, 'u', 255);
    buf[257] = 255;
    memset(buf + 258, 'p', 255);
    assert_int_equal(run(K_USERPASS, buf, 513, &o), SKUA_OK);
    assert_int_equal(o.used, 513);
    assert_int_equal(strlen(o.up.user), 255);
    assert_int_equal(strlen(o.up.pass), 255);

    /* SOCKS4a: USERID and HOSTNAME of 255 bytes each */
    memcpy(buf, "\x04\x01\x00\x50\x00\x00\x00\x01", 8);
    memset(buf + 8, 'i', 255);
    buf[263] = 0;
    memset(buf + 264, 'h', 255);
    buf[519] = 0;
    for (n = 0; n < 520; n++)
        assert_int_equal(run(K_REQ4, buf, n, &o), SKUA_AGAIN);
    assert_int_equal(run(K_REQ4, buf, 520, &o), SKUA_OK);
    assert_int_equal(o.used, 520);
    assert_int_equal(strlen(o.req.userid), 255);
    assert_int_equal(strlen(o.req.host), 255);

    /* one byte more: HOSTNAME of 256 */
    buf[519] = 'h';
    buf[520] = 0;
    assert_int_equal(run(K_REQ4, buf, 521, &o), SKUA_ERROR);
    assert_int_equal(o.rep, SOCKS4_REP_REJECTED);
    /* and the error is known before the NUL arrives */
    assert_int_equal(run(K_REQ4, buf, 520, &o), SKUA_ERROR);
    assert_int_equal(run(K_REQ4, buf, 519, &o), SKUA_AGAIN);

    /* USERID of 256 bytes */
    memcpy(buf, "\x04\x01\x00\x50\x0a\x00\x00\x01", 8);
    memset(buf + 8, 'i', 256);
    buf[264] = 0;
    assert_int_equal(run(K_REQ4, buf, 265, &o), SKUA_ERROR);
    assert_int_equal(o.rep, SOCKS4_REP_REJECTED);
    assert_int_equal(run(K_REQ4, buf, 263, &o), SKUA_AGAIN);
}

/* ---- malformed messages ---- */

struct bad_case {
    const char *name;
    enum kind kind;
    const uint8_t *in;
    size_t len;
    int rep;                /* requests only */
};

static const struct bad_case bad_cases[] = {
    { "greet version 4", K_GREET, B("\x04\x01\x00") },
    { "greet version 0", K_GREET, B("\x00") },
    { "greet http", K_GREET, B("GET / HTTP/1.1\r\n") },
    { "greet no methods", K_GREET, B("\x05\x00") },
    { "userpass version 5", K_USERPASS, B("\x05\x01u\x01p") },
    { "userpass empty user", K_USERPASS, B("\x01\x00\x01p") },
    { "userpass NUL in user", K_USERPASS, B("\x01\x03u\x00u\x01p") },
    { "userpass NUL in pass", K_USERPASS, B("\x01\x01u\x03p\x00p") },
    { "req version 4", K_REQ5, B("\x04\x01\x00\x01\x7f\x00\x00\x01\x00\x50"),
      SOCKS5_REP_FAILURE },
    { "req cmd 0", K_REQ5, B("\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50"),
      SOCKS5_REP_CMD_UNSUPPORTED },
    { "req cmd 4", K_REQ5, B("\x05\x04\x00\x01\x7f\x00\x00\x01\x00\x50"),
      SOCKS5_REP_CMD_UNSUPPORTED },
    { "req cmd 0xff", K_REQ5, B("\x05\xff"), SOCKS5_REP_CMD_UNSUPPORTED },
    { "req rsv 1", K_REQ5, B("\x05\x01\x01\x01\x7f\x00\x00\x01\x00\x50"),
      SOCKS5_REP_FAILURE },
    { "req rsv 0x80", K_REQ5, B("\x05\x01\x80"), SOCKS5_REP_FAILURE },
    { "req atyp 0", K_REQ5, B("\x05\x01\x00\x00\x7f\x00\x00\x01\x00\x50"),
      SOCKS5_REP_ATYP_UNSUPPORTED },
    { "req atyp 2", K_REQ5, B("\x05\x01\x00\x02"),
      SOCKS5_REP_ATYP_UNSUPPORTED },
    { "req atyp 5", K_REQ5, B("\x05\x01\x00\x05\x7f\x00\x00\x01\x00\x50"),
      SOCKS5_REP_ATYP_UNSUPPORTED },
    { "req empty name", K_REQ5, B("\x05\x01\x00\x03\x00\x00\x50"),
      SOCKS5_REP_FAILURE },
    { "req NUL in name", K_REQ5, B("\x05\x01\x00\x03\x05" "ab\x00" "cd\x00P"),
      SOCKS5_REP_FAILURE },
    { "req NUL ends name", K_REQ5, B("\x05\x01\x00\x03\x03" "ab\x00\x00P"),
      SOCKS5_REP_FAILURE },
    { "req port 0 ipv4", K_REQ5, B("\x05\x01\x00\x01\x7f\x00\x00\x01\x00"
      "\x00"), SOCKS5_REP_FAILURE },
    { "req port 0 domain", K_REQ5, B("\x05\x01\x00\x03\x01h\x00\x00"),
      SOCKS5_REP_FAILURE },
    { "req port 0 ipv6", K_REQ5, B("\x05\x01\x00\x04\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00"),
      SOCKS5_REP_FAILURE },
    { "req version first", K_REQ5, B("\x06\x09\x01\x09"),
      SOCKS5_REP_FAILURE },
    { "req cmd before rsv", K_REQ5, B("\x05\x09\x01\x09"),
      SOCKS5_REP_CMD_UNSUPPORTED },
    { "req rsv before atyp", K_REQ5, B("\x05\x01\x01\x09"),
      SOCKS5_REP_FAILURE },
    { "s4 version 5", K_REQ4, B("\x05\x01\x00\x50\x7f\x00\x00\x01\x00"),
      SOCKS4_REP_REJECTED },
    { "s4 cmd 3", K_REQ4, B("\x04\x03\x00\x50\x7f\x00\x00\x01\x00"),
      SOCKS4_REP_REJECTED },
    { "s4 cmd 0", K_REQ4, B("\x04\x00\x00\x50\x7f\x00\x00\x01\x00"),
      SOCKS4_REP_REJECTED },
    { "s4 port 0", K_REQ4, B("\x04\x01\x00\x00\x7f\x00\x00\x01\x00"),
      SOCKS4_REP_REJECTED },
    { "s4a empty host", K_REQ4, B("\x04\x01\x00\x50\x00\x00\x00\x01\x00"
      "\x00"), SOCKS4_REP_REJECTED },
    { "s4a empty host userid", K_REQ4, B("\x04\x01\x00\x50\x00\x00\x00\x07"
      "me\x00\x00"), SOCKS4_REP_REJECTED },
    { "udp rsv", K_UDP, B("\x00\x01\x00\x01\x7f\x00\x00\x01\x00\x35") },
    { "udp rsv high", K_UDP, B("\x01\x00\x00\x01\x7f\x00\x00\x01\x00\x35") },
    { "udp atyp 0", K_UDP, B("\x00\x00\x00\x00\x7f\x00\x00\x01\x00\x35") },
    { "udp atyp 2", K_UDP, B("\x00\x00\x00\x02\x7f\x00\x00\x01\x00\x35") },
    { "udp empty name", K_UDP, B("\x00\x00\x00\x03\x00\x00\x35") },
    { "udp NUL in name", K_UDP, B("\x00\x00\x00\x03\x02h\x00\x00\x35") },
    { "udp port 0", K_UDP, B("\x00\x00\x00\x01\x7f\x00\x00\x01\x00\x00") },
    { "udp empty", K_UDP, B("") },
    { "udp short rsv", K_UDP, B("\x00\x00") },
    { "udp no atyp", K_UDP, B("\x00\x00\x00") },
    { "udp short ipv4", K_UDP, B("\x00\x00\x00\x01\x7f\x00\x00\x01\x00") },
    { "udp short ipv6", K_UDP, B("\x00\x00\x00\x04\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00") },
    { "udp short name", K_UDP, B("\x00\x00\x00\x03\x05" "abc") },
    { "udp name no port", K_UDP, B("\x00\x00\x00\x03\x03" "abc\x00") },
};

static void
test_bad(void **state)
{
    struct out o;
    size_t i, n;
    int r;

    (void)state;
    for (i = 0; i < SK_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        bool has_rep = c->kind == K_REQ5 || c->kind == K_REQ4;

        print_message("bad: %s (%s)\n", c->name, kind_name[c->kind]);
        assert_int_equal(run(c->kind, c->in, c->len, &o), SKUA_ERROR);
        if (has_rep)
            assert_int_equal(o.rep, c->rep);
        /* a prefix is still a valid start, or the same error */
        for (n = 0; n < c->len; n++) {
            r = run(c->kind, c->in, n, &o);
            if (r == SKUA_AGAIN && c->kind != K_UDP)
                continue;
            if (r != SKUA_ERROR || (has_rep && o.rep != c->rep)) {
                print_error("%s: prefix of %zu bytes gave %d rep %d\n",
                            c->name, n, r, o.rep);
                fail();
            }
        }
    }
}

/* A greeting claiming more methods than it carries waits for them. */
static void
test_greeting_waits(void **state)
{
    struct out o;

    (void)state;
    assert_int_equal(run(K_GREET, B("\x05\x05\x00\x02"), &o), SKUA_AGAIN);
    assert_int_equal(run(K_GREET, B("\x05\xff"), &o), SKUA_AGAIN);
    assert_int_equal(run(K_GREET, B(""), &o), SKUA_AGAIN);
}

/* Greeting, sub-negotiation and request, all in one packet. */
static void
test_one_packet(void **state)
{
    static const uint8_t pkt[] =
        "\x05\x02\x00\x02"
        "\x01\x03" "bob" "\x02" "pw"
        "\x05\x01\x00\x03\x09localhost\x00\x50"
        "GET / HTTP/1.1\r\n";
    static const uint8_t pref[] = { SOCKS5_AUTH_USERPASS, SOCKS5_AUTH_NONE };
    struct out o;
    size_t off = 0;

    (void)state;
    assert_int_equal(run(K_GREET, pkt, sizeof(pkt) - 1, &o), SKUA_OK);
    assert_int_equal(o.used, 4);
    assert_int_equal(socks5_choose_method(&o.g, pref, 2),
                     SOCKS5_AUTH_USERPASS);
    off += o.used;
    assert_int_equal(run(K_USERPASS, pkt + off, sizeof(pkt) - 1 - off, &o),
                     SKUA_OK);
    assert_string_equal(o.up.user, "bob");
    assert_string_equal(o.up.pass, "pw");
    off += o.used;
    assert_int_equal(run(K_REQ5, pkt + off, sizeof(pkt) - 1 - off, &o),
                     SKUA_OK);
    assert_string_equal(o.req.host, "localhost");
    assert_int_equal(o.req.port, 80);
    off += o.used;
    assert_memory_equal(pkt + off, "GET ", 4);
}

/* ---- method choice ---- */

struct method_case {
    const uint8_t *offer;
    size_t noffer;
    const uint8_t *prefer;
    size_t nprefer;
    int want;
};

static const struct method_case method_cases[] = {
    { B("\x00"), B("\x00"), SOCKS5_AUTH_NONE },
    { B("\x00\x02"), B("\x02\x00"), SOCKS5_AUTH_USERPASS },
    { B("\x02\x00"), B("\x00\x02"), SOCKS5_AUTH_NONE },
    { B("\x00"), B("\x02"), SOCKS5_AUTH_UNACCEPTABLE },
    { B("\x01\x03\x80"), B("\x00\x02"), SOCKS5_AUTH_UNACCEPTABLE },
    { B("\xff"), B("\xff"), SOCKS5_AUTH_UNACCEPTABLE },
    { B("\x02"), B(""), SOCKS5_AUTH_UNACCEPTABLE },
};

static void
test_choose_method(void **state)
{
    struct socks5_greeting g;
    size_t i;

    (void)state;
    for (i = 0; i < SK_ARRAY_LEN(method_cases); i++) {
        const struct method_case *c = &method_cases[i];

        memset(&g, 0, sizeof(g));
        g.nmethods = (uint8_t)c->noffer;
        memcpy(g.methods, c->offer, c->noffer);
        assert_int_equal(socks5_choose_method(&g, c->prefer, c->nprefer),
                         c->want);
    }
}

/* ---- builders ---- */

struct build_case {
    enum { B5, B4, BUDP } what;
    int rep;
    const char *ip;         /* NULL: no address */
    int port;
    const uint8_t *want;
    size_t wantlen;         /* 0: must not build */
};

static const struct build_case build_cases[] = {
    { B5, SOCKS5_REP_SUCCEEDED, NULL, 0,
      B("\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00") },
    { B5, SOCKS5_REP_SUCCEEDED, "192.0.2.7", 4660,
      B("\x05\x00\x00\x01\xc0\x00\x02\x07\x12\x34") },
    { B5, SOCKS5_REP_REFUSED, "2001:db8::ff", 443,
      B("\x05\x05\x00\x04\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\xff\x01\xbb") },
    { B5, SOCKS5_REP_HOST_UNREACH, "::ffff:10.0.0.1", 80,
      B("\x05\x04\x00\x01\x0a\x00\x00\x01\x00\x50") },
    { B5, SOCKS5_REP_CMD_UNSUPPORTED, NULL, 0,
      B("\x05\x07\x00\x01\x00\x00\x00\x00\x00\x00") },
    { B5, SOCKS5_REP_ATYP_UNSUPPORTED, NULL, 0,
      B("\x05\x08\x00\x01\x00\x00\x00\x00\x00\x00") },
    { B5, SOCKS_REPLY_CLOSE, NULL, 0, NULL, 0 },
    { B5, -1, NULL, 0, NULL, 0 },
    { B4, SOCKS4_REP_GRANTED, "10.1.2.3", 8080,
      B("\x00\x5a\x1f\x90\x0a\x01\x02\x03") },
    { B4, SOCKS4_REP_REJECTED, NULL, 0,
      B("\x00\x5b\x00\x00\x00\x00\x00\x00") },
    { B4, SOCKS4_REP_GRANTED, "::1", 80,
      B("\x00\x5a\x00\x00\x00\x00\x00\x00") },
    { B4, SOCKS4_REP_GRANTED, "::ffff:127.0.0.1", 443,
      B("\x00\x5a\x01\xbb\x7f\x00\x00\x01") },
    { B4, SOCKS_REPLY_CLOSE, NULL, 0, NULL, 0 },
    { BUDP, 0, "8.8.4.4", 53, B("\x00\x00\x00\x01\x08\x08\x04\x04\x00\x35") },
    { BUDP, 0, "::1", 5353,
      B("\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        "\x00\x00\x00\x01\x14\xe9") },
    { BUDP, 0, NULL, 0, NULL, 0 },
};

static size_t
build(const struct build_case *c, uint8_t *out, size_t outlen)
{
    struct sockaddr_storage ss, *p = NULL;

    if (c->ip != NULL) {
        fill_addr(&ss, c->ip, (uint16_t)c->port);
        p = &ss;
    }
    switch (c->what) {
    case B5:
        return socks5_build_reply(out, outlen, c->rep, p);
    case B4:
        return socks4_build_reply(out, outlen, c->rep, p);
    case BUDP:
        return socks5_build_udp(out, outlen, p);
    }
    return 0;
}

static void
test_build(void **state)
{
    uint8_t out[64];
    struct out o;
    size_t i, n, k;

    (void)state;
    for (i = 0; i < SK_ARRAY_LEN(build_cases); i++) {
        const struct build_case *c = &build_cases[i];

        print_message("build %zu\n", i);
        memset(out, 0xee, sizeof(out));
        n = build(c, out, sizeof(out));
        assert_int_equal(n, c->wantlen);
        if (n == 0)
            continue;
        assert_memory_equal(out, c->want, n);
        assert_int_equal(out[n], 0xee);
        /* every buffer too small is refused without writing past it */
        for (k = 0; k < n; k++) {
            memset(out, 0xee, sizeof(out));
            assert_int_equal(build(c, out, k), 0);
            assert_int_equal(out[k], 0xee);
        }
        /* a built UDP header parses back */
        if (c->what == BUDP) {
            assert_int_equal(run(K_UDP, c->want, c->wantlen, &o), SKUA_OK);
            assert_int_equal(o.used, c->wantlen);
            assert_int_equal(o.udp.port, c->port);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_greeting_waits),
        cmocka_unit_test(test_one_packet),
        cmocka_unit_test(test_choose_method),
        cmocka_unit_test(test_build),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
