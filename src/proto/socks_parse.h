/*
 * socks_parse.h -- SOCKS4, SOCKS4a and SOCKS5 (RFC 1928, RFC 1929) messages
 * parsed and built as pure functions of bytes: no I/O, no allocation, no
 * policy.
 *
 * Every parser is incremental in the same way as the HTTP one: it is
 * stateless and is called again on the longer buffer; it returns SKUA_OK
 * with the number of bytes the message used, SKUA_AGAIN while the bytes
 * are a valid prefix, or SKUA_ERROR with the reply code the server should
 * send (or SOCKS_REPLY_CLOSE where the protocol has none).  A greeting and
 * a request that arrive in one packet are parsed one after the other from
 * the same buffer.
 */
#ifndef SK_SOCKS_PARSE_H
#define SK_SOCKS_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sk_common.h"

#define SOCKS_MAX_NAME 255

/* SOCKS5 authentication methods (RFC 1928 section 3). */
#define SOCKS5_AUTH_NONE 0x00
#define SOCKS5_AUTH_USERPASS 0x02
#define SOCKS5_AUTH_UNACCEPTABLE 0xff

enum socks_cmd {
    SOCKS_CMD_CONNECT = 1,
    SOCKS_CMD_BIND = 2,
    SOCKS_CMD_UDP_ASSOCIATE = 3
};

enum socks_atyp {
    SOCKS_ATYP_IPV4 = 1,
    SOCKS_ATYP_DOMAIN = 3,
    SOCKS_ATYP_IPV6 = 4
};

/* SOCKS5 reply codes (RFC 1928 section 6), and the SOCKS4 ones. */
enum socks_reply {
    SOCKS5_REP_SUCCEEDED = 0x00,
    SOCKS5_REP_FAILURE = 0x01,
    SOCKS5_REP_NOT_ALLOWED = 0x02,
    SOCKS5_REP_NET_UNREACH = 0x03,
    SOCKS5_REP_HOST_UNREACH = 0x04,
    SOCKS5_REP_REFUSED = 0x05,
    SOCKS5_REP_TTL_EXPIRED = 0x06,
    SOCKS5_REP_CMD_UNSUPPORTED = 0x07,
    SOCKS5_REP_ATYP_UNSUPPORTED = 0x08,
    SOCKS4_REP_GRANTED = 0x5a,
    SOCKS4_REP_REJECTED = 0x5b,
    SOCKS_REPLY_CLOSE = 0x100   /* no reply exists: close the connection */
};

/* A SOCKS5 greeting: the methods the client offers. */
struct socks5_greeting {
    uint8_t nmethods;
    uint8_t methods[255];
};

/* RFC 1929 username/password sub-negotiation. */
struct socks5_userpass {
    char user[SOCKS_MAX_NAME + 1];      /* NUL-terminated */
    char pass[SOCKS_MAX_NAME + 1];
};

/* A CONNECT / BIND / UDP ASSOCIATE request, of either version. */
struct socks_request {
    int version;                /* 4 or 5; 4a is version 4 with a name */
    enum socks_cmd cmd;
    enum socks_atyp atyp;
    char host[SOCKS_MAX_NAME + 1];      /* DOMAIN: the name; else empty */
    struct sockaddr_storage addr;       /* IPV4/IPV6: address and port */
    uint16_t port;                      /* host order, all types */
    char userid[SOCKS_MAX_NAME + 1];    /* SOCKS4 USERID, may be empty */
};

/* The SOCKS5 UDP request header (RFC 1928 section 7). */
struct socks5_udp_hdr {
    uint8_t frag;
    enum socks_atyp atyp;
    char host[SOCKS_MAX_NAME + 1];
    struct sockaddr_storage addr;
    uint16_t port;
};

/*
 * Parse a SOCKS5 greeting (VER=5, NMETHODS, METHODS).  A NMETHODS of 0 is
 * an error; *<used> is set on SKUA_OK.
 */
int socks5_parse_greeting(const uint8_t *buf, size_t len,
                          struct socks5_greeting *g, size_t *used);

/*
 * Choose the method to answer from those offered: the first of <prefer>
 * (<nprefer> methods in the server's order of preference) that <g> offers,
 * or SOCKS5_AUTH_UNACCEPTABLE.
 */
uint8_t socks5_choose_method(const struct socks5_greeting *g,
                             const uint8_t *prefer, size_t nprefer);

/* Parse an RFC 1929 request (VER=1, ULEN, UNAME, PLEN, PASSWD). */
int socks5_parse_userpass(const uint8_t *buf, size_t len,
                          struct socks5_userpass *up, size_t *used);

/*
 * Parse a SOCKS5 request.  On SKUA_ERROR set *<rep> to the reply code:
 * SOCKS5_REP_CMD_UNSUPPORTED for an unknown command,
 * SOCKS5_REP_ATYP_UNSUPPORTED for an unknown address type,
 * SOCKS5_REP_FAILURE for anything else malformed (wrong version, non-zero
 * RSV, an empty name or one containing NUL, port 0).
 */
int socks5_parse_request(const uint8_t *buf, size_t len,
                         struct socks_request *req, size_t *used, int *rep);

/*
 * Parse a SOCKS4 or SOCKS4a request (VN=4, CD, DSTPORT, DSTIP, USERID NUL,
 * and for 4a, DSTIP 0.0.0.x with x != 0, then HOSTNAME NUL).  Over-long
 * USERID or HOSTNAME, an empty hostname, port 0 or an unknown command is
 * SKUA_ERROR with *<rep> = SOCKS4_REP_REJECTED.
 */
int socks4_parse_request(const uint8_t *buf, size_t len,
                         struct socks_request *req, size_t *used, int *rep);

/*
 * Write a SOCKS5 reply with code <rep> and bound address <bnd> (NULL:
 * 0.0.0.0:0) into <out> of <outlen> bytes.  Return the length, or 0 if it
 * does not fit.
 */
size_t socks5_build_reply(uint8_t *out, size_t outlen, int rep,
                          const struct sockaddr_storage *bnd);

/* Write the 8-byte SOCKS4 reply (VN=0, CD, DSTPORT, DSTIP); return 8. */
size_t socks4_build_reply(uint8_t *out, size_t outlen, int rep,
                          const struct sockaddr_storage *bnd);

/*
 * Parse the header of a SOCKS5 UDP datagram; set *<hdrlen> to the header
 * size (the payload follows).  Truncated or malformed headers are
 * SKUA_ERROR (a datagram is never completed later).
 */
int socks5_parse_udp(const uint8_t *buf, size_t len,
                     struct socks5_udp_hdr *h, size_t *hdrlen);

/*
 * Write the header of a SOCKS5 UDP datagram from <from> (FRAG 0) into
 * <out>; return its length, or 0 if it does not fit.
 */
size_t socks5_build_udp(uint8_t *out, size_t outlen,
                        const struct sockaddr_storage *from);

#endif
