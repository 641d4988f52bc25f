/*
 * http_parse.h -- HTTP/1.1 message heads and chunked bodies (RFC 9112),
 * parsed as pure functions of bytes: no I/O, no allocation, no globals.
 *
 * The parser is strict on purpose: anything that two implementations could
 * read differently (obs-fold, bare CR, whitespace before a colon, conflicting
 * framing) is an error, because a proxy that forwards an ambiguous message
 * enables request smuggling.  Framing policy (RFC 9112 section 6.1): a
 * request carrying both Transfer-Encoding and Content-Length is rejected
 * with 400 rather than forwarded; so is a response (502 at the caller).
 *
 * Every position in a parsed message is an offset from the start of the
 * buffer that was parsed (struct sk_span), so the caller may copy the head
 * block elsewhere and keep using the spans.
 */
#ifndef SK_HTTP_PARSE_H
#define SK_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "sk_common.h"

/* A run of bytes inside a parsed buffer. */
struct sk_span {
    uint32_t off;
    uint32_t len;
};

enum http_method {
    HTTP_M_OTHER = 0,   /* a valid token that is none of the below */
    HTTP_M_GET,
    HTTP_M_HEAD,
    HTTP_M_POST,
    HTTP_M_PUT,
    HTTP_M_DELETE,
    HTTP_M_CONNECT,
    HTTP_M_OPTIONS,
    HTTP_M_TRACE,
    HTTP_M_PATCH
};

/* Request-target forms, RFC 9112 section 3.2. */
enum http_form {
    HTTP_FORM_ORIGIN = 0,   /* /path?query */
    HTTP_FORM_ABSOLUTE,     /* http://host:port/path?query */
    HTTP_FORM_AUTHORITY,    /* host:port, CONNECT only */
    HTTP_FORM_ASTERISK      /* *, OPTIONS only */
};

/* Headers the proxy acts on; everything else is HTTP_H_OTHER. */
enum http_hdr_id {
    HTTP_H_OTHER = 0,
    HTTP_H_HOST,
    HTTP_H_CONTENT_LENGTH,
    HTTP_H_TRANSFER_ENCODING,
    HTTP_H_CONNECTION,
    HTTP_H_PROXY_CONNECTION,
    HTTP_H_KEEP_ALIVE,
    HTTP_H_TE,
    HTTP_H_TRAILER,
    HTTP_H_UPGRADE,
    HTTP_H_VIA,
    HTTP_H_MAX_FORWARDS,
    HTTP_H_X_FORWARDED_FOR,
    HTTP_H_FORWARDED,
    HTTP_H_PROXY_AUTHORIZATION,
    HTTP_H_PROXY_AUTHENTICATE,
    HTTP_H_EXPECT,
    HTTP_H_CONTENT_TYPE,
    HTTP_H_REFERER,
    HTTP_H_USER_AGENT,
    HTTP_H_DATE,
    HTTP_H_SERVER,
    HTTP_H__COUNT
};

struct http_hdr {
    struct sk_span name;
    struct sk_span value;       /* leading and trailing OWS removed */
    enum http_hdr_id id;
};

/* How the message body is delimited (RFC 9112 section 6.3). */
enum http_body {
    HTTP_BODY_NONE = 0,         /* no body at all */
    HTTP_BODY_LENGTH,           /* exactly <content_length> bytes */
    HTTP_BODY_CHUNKED,          /* chunked transfer coding, last */
    HTTP_BODY_CLOSE,            /* until the server closes (responses) */
    HTTP_BODY_TUNNEL            /* 2xx to CONNECT: the connection becomes
                                   a tunnel */
};

/* Message flags. */
#define HTTP_F_CONN_CLOSE       0x0001u /* Connection: close */
#define HTTP_F_CONN_KEEPALIVE   0x0002u /* Connection: keep-alive */
#define HTTP_F_EXPECT_100       0x0004u /* Expect: 100-continue */
#define HTTP_F_UPGRADE          0x0008u /* Connection: upgrade + Upgrade */
#define HTTP_F_HAS_HOST         0x0010u /* a Host header is present */
#define HTTP_F_HAS_TE           0x0020u /* Transfer-Encoding present */
#define HTTP_F_HAS_CL           0x0040u /* Content-Length present */
#define HTTP_F_PROXY_KEEPALIVE  0x0080u /* Proxy-Connection: keep-alive */
#define HTTP_F_PROXY_CLOSE      0x0100u /* Proxy-Connection: close */

/* Why a message was rejected. */
enum http_perr {
    HTTP_PERR_NONE = 0,
    HTTP_PERR_TOO_BIG,          /* head larger than max_head: 431 / 502 */
    HTTP_PERR_TOO_MANY_HEADERS, /* more than max_hdrs fields: 431 / 502 */
    HTTP_PERR_LINE_TOO_LONG,    /* a line over max_line: 414 for the
                                   request line, else 431 / 502 */
    HTTP_PERR_BAD_METHOD,
    HTTP_PERR_BAD_TARGET,       /* malformed request-target: 400 */
    HTTP_PERR_BAD_VERSION,      /* not HTTP/1.0 or HTTP/1.1: 505 */
    HTTP_PERR_BAD_STATUS,
    HTTP_PERR_BAD_HEADER,       /* syntax of a field line */
    HTTP_PERR_OBS_FOLD,
    HTTP_PERR_BARE_CR,
    HTTP_PERR_BAD_CL,           /* invalid or conflicting Content-Length */
    HTTP_PERR_BAD_TE,           /* unknown coding, or chunked not last */
    HTTP_PERR_TE_AND_CL,        /* both present */
    HTTP_PERR_BAD_HOST,         /* missing (HTTP/1.1), repeated, invalid */
    HTTP_PERR_BAD_CHUNK         /* chunked body framing */
};

struct http_limits {
    size_t max_head;            /* whole head, start line to empty line */
    size_t max_line;            /* any one line */
    unsigned max_hdrs;          /* number of field lines */
};

struct http_msg {
    /* request line (requests only) */
    enum http_method method;
    struct sk_span method_s;
    struct sk_span target;      /* request-target as sent */
    enum http_form form;
    struct sk_span scheme;      /* absolute-form only, e.g. "http" */
    struct sk_span host;        /* absolute-form / authority-form; no
                                   brackets around an IPv6 literal */
    uint16_t port;              /* explicit port, or 0 if none given */
    struct sk_span path;        /* path and query; "*" for asterisk-form;
                                   empty for authority-form; in
                                   absolute-form it may be empty or start
                                   with '?': forward "/" before it */

    /* status line (responses only) */
    int status;
    struct sk_span reason;

    int version_minor;          /* 0 or 1 (major is always 1) */

    /* fields, in order; <hdrs> is provided by the caller */
    struct http_hdr *hdrs;
    unsigned n_hdrs;
    unsigned max_hdrs_alloc;    /* capacity of <hdrs> */

    /* framing and connection management */
    enum http_body body;
    uint64_t content_length;    /* when body == HTTP_BODY_LENGTH */
    unsigned flags;             /* HTTP_F_* */
    int host_hdr;               /* index of the Host field, or -1 */

    size_t head_len;            /* bytes from start line to the empty
                                   line inclusive */
};

/*
 * Parse a request head from <buf> of <len> bytes into <msg>, whose <hdrs>
 * array (capacity <max_hdrs_alloc>) the caller provides.  Leading empty
 * lines before the request line are skipped (RFC 9112 section 2.2) and
 * counted in head_len.
 *
 * Return SKUA_OK when the head is complete (msg->head_len set), SKUA_AGAIN
 * when <buf> holds only a valid prefix of a head that is still within
 * <lim>, and SKUA_ERROR with *<err> set when the bytes can never become a
 * valid head.  The call is stateless: call it again on the longer buffer.
 */
int http_parse_request(const char *buf, size_t len,
                       const struct http_limits *lim, struct http_msg *msg,
                       enum http_perr *err);

/*
 * Parse a response head as http_parse_request() does.  <req_method> is the
 * method of the request it answers, which decides framing: HEAD, 1xx, 204
 * and 304 have no body, a 2xx to CONNECT is HTTP_BODY_TUNNEL.
 */
int http_parse_response(const char *buf, size_t len,
                        const struct http_limits *lim,
                        enum http_method req_method, struct http_msg *msg,
                        enum http_perr *err);

/* Return the first field with id <id>, or NULL. */
const struct http_hdr *http_msg_find(const struct http_msg *msg,
                                     enum http_hdr_id id);

/* Return the first field named <name> (case-insensitive), or NULL. */
const struct http_hdr *http_msg_find_name(const struct http_msg *msg,
                                          const char *buf, const char *name);

/* Return the method for a token, or HTTP_M_OTHER. */
enum http_method http_method_id(const char *s, size_t len);

/* Return a short English text for <err>, for logs and error pages. */
const char *http_perr_str(enum http_perr err);

/*
 * Parse an authority "host", "host:port", "[v6]", "[v6]:port" of <len>
 * bytes.  Set *<host_off> and *<host_len> to the host without brackets and
 * *<port> to the port or 0.  Return 0, or -1 if it is not a valid
 * authority (RFC 3986 section 3.2, no userinfo allowed).
 */
int http_parse_authority(const char *s, size_t len, size_t *host_off,
                         size_t *host_len, uint16_t *port);

/* ---- chunked transfer coding (RFC 9112 section 7.1) ---- */

struct http_chunked {
    int state;                  /* private */
    uint64_t remaining;         /* payload bytes left in this chunk */
    size_t line_len;            /* private: bytes of the current line */
    size_t trailer_len;         /* private: bytes of trailer section */
    size_t max_line;            /* limit for size and trailer lines */
    size_t max_trailer;         /* limit for the whole trailer section */
    uint64_t total;             /* payload bytes seen so far */
};

/* Start decoding a chunked body with the given limits. */
void http_chunked_init(struct http_chunked *c, size_t max_line,
                       size_t max_trailer);

/*
 * Advance over <len> bytes of chunked body at <buf>.  The decoder first
 * consumes framing (size lines, extensions, CRLFs, trailers) and stops at
 * the first payload byte or at the end of input.  On return:
 *   *<framing> = framing bytes consumed from the start of <buf>;
 *   *<data>    = payload bytes that follow them, at buf + *framing (at most
 *                what <buf> holds and what the chunk has left).
 * The caller treats framing + data bytes as consumed and calls again with
 * the rest.
 *
 * Return SKUA_OK when more of the body follows (call again, possibly after
 * reading more), SKUA_DECLINED (meaning "done") when the last chunk and the
 * trailer section have been consumed -- nothing after *<framing> belongs to
 * the body -- or SKUA_ERROR on malformed framing.
 */
int http_chunked_step(struct http_chunked *c, const char *buf, size_t len,
                      size_t *framing, size_t *data);

/* True once the whole chunked body has been consumed. */
bool http_chunked_is_done(const struct http_chunked *c);

#endif
