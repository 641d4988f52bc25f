/*
 * sniff.h -- tell which protocol a TCP client speaks from its first bytes,
 * as a pure function of those bytes: no I/O, no allocation, no globals.
 *
 * An intercepted connection on a tcp_port (or an https_port) may carry
 * anything.  Before relaying it opaquely, skua looks at what the client
 * sent first: a TLS ClientHello (with its server name and ALPN, through
 * tls_parse.h), an HTTP/1.x request line (with its Host), an SSH
 * identification string, a SOCKS4 or SOCKS5 greeting, or something else.
 * The bytes are never consumed: the caller relays them unchanged.
 *
 * Like the other parsers of src/proto/, the classifier is handed every
 * byte received so far and answers SKUA_AGAIN while more bytes could
 * change the answer, SKUA_OK once it has decided.  The caller decides how
 * long to wait; when it stops waiting (timeout, end of stream, buffer
 * full) it calls again with <final> set and always gets SKUA_OK with the
 * best answer for what is there.  Not done here: no look beyond the first
 * message, no policy, no verification of what the client claims.
 */
#ifndef SK_SNIFF_H
#define SK_SNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sk_common.h"
#include "proto/tls_parse.h"

/* Bytes after which the classifier always decides (an HTTP head or a
 * ClientHello larger than this is taken as it is). */
#define SNIFF_MAX (TLS_HELLO_MAX + 5 * TLS_HELLO_MAX_RECORDS)
/* Longest Host kept from an HTTP request. */
#define SNIFF_HOST_MAX 255

enum sniff_proto {
    SNIFF_NONE = 0,             /* nothing received (server speaks first) */
    SNIFF_TLS,                  /* a TLS handshake record */
    SNIFF_HTTP,                 /* an HTTP/1.x request line */
    SNIFF_SSH,                  /* "SSH-" identification string */
    SNIFF_SOCKS,                /* a SOCKS4 request or SOCKS5 greeting */
    SNIFF_UNKNOWN               /* anything else */
};

struct sniff_result {
    enum sniff_proto proto;
    /* SNIFF_TLS */
    bool tls_ok;                /* the ClientHello parsed: <tls> is valid */
    enum tls_perr tls_err;      /* else why it did not */
    struct tls_hello tls;
    /* SNIFF_HTTP */
    bool http_head;             /* the whole head was there */
    char host[SNIFF_HOST_MAX + 1];  /* the Host field value, lowercased,
                                       "" if none (or not seen yet) */
};

/*
 * Classify the <len> bytes <buf> a client sent first.  Return SKUA_AGAIN
 * if more bytes could change the answer (never when <final> is set), or
 * SKUA_OK with *<r> filled.  <len> 0 with <final> gives SNIFF_NONE.
 * Only the first SNIFF_MAX bytes are looked at.
 */
int sniff_classify(const uint8_t *buf, size_t len, bool final,
                   struct sniff_result *r);

/* The protocol's name as logged and as the app_proto acl knows it:
 * "server-first", "tls", "http", "ssh", "socks", "unknown". */
const char *sniff_proto_name(enum sniff_proto p);

#endif
