/*
 * record.h -- the one record that follows a connection (and, for HTTP, each
 * transaction on it) from accept to the log line.
 *
 * Every stage fills in what it learns: the listener the client addresses,
 * origin recovery the destination and how it was learned, the sniffer the
 * protocol metadata, policy the verdict, the forwarder the route, timings and
 * byte counts.  The access log line and the JSON event are both printed from
 * this record and nothing else.  Strings are borrowed: they point into the
 * owning connection's or transaction's arena (or are static) and stay valid
 * until the record is logged.
 */
#ifndef SK_RECORD_H
#define SK_RECORD_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "sk_common.h"

/* How the destination in <dst_host>/<dst> was learned. */
enum rec_dst_source {
    REC_DST_NONE = 0,
    REC_DST_ABSOLUTE_URI,   /* absolute-form request target */
    REC_DST_CONNECT,        /* CONNECT authority */
    REC_DST_HOST_HEADER,    /* Host header (intercepted HTTP) */
    REC_DST_SNI,            /* TLS ClientHello server_name */
    REC_DST_SOCKS,          /* SOCKS request */
    REC_DST_NAT,            /* NAT lookup / TPROXY local address */
    REC_DST_FAKEIP          /* skua's own DNS answer mapped back */
};

/* Squid's hierarchy codes (the "%Sh" field). */
enum rec_hier {
    REC_HIER_NONE = 0,
    REC_HIER_DIRECT,
    REC_HIER_PARENT,
    REC_HIER_ORIGINAL_DST   /* an intercepted connection relayed to its
                               original destination */
};

struct rec {
    /* the connection */
    struct sockaddr_storage client;     /* peer of the accepted socket */
    struct sockaddr_storage local;      /* our address it arrived on */
    const char *listener_name;          /* http_port name= (myportname) */
    uint16_t listener_port;

    /* the destination */
    enum rec_dst_source dst_how;
    const char *dst_host;               /* host name or literal, no [] */
    uint16_t dst_port;
    struct sockaddr_storage server;     /* address actually connected */
    enum rec_hier hier;

    /* sniffed metadata */
    const char *proto;                  /* "http", "https", "tls", ... */
    const char *method;                 /* "GET", "CONNECT", ... */
    const char *url;                    /* as logged: absolute URI, or
                                           host:port for CONNECT */
    const char *urlpath;                /* path and query */
    int http_minor;                     /* client request HTTP/1.x */
    const char *sni;
    const char *alpn;
    int tls_step;                       /* ssl_bump step being checked,
                                           1..3 (at_step); 0: none */
    const char *user;                   /* authenticated user name */
    const char *referer;
    const char *user_agent;

    /* the outcome */
    const char *result;                 /* Squid tag: "TCP_MISS",
                                           "TCP_TUNNEL", "TCP_DENIED",
                                           "NONE_NONE", ... */
    int status;                         /* HTTP status sent to client */
    const char *error;                  /* "ERR_ACCESS_DENIED", ... */
    const char *content_type;           /* of the reply */

    /* timings and counts */
    struct timeval start;               /* wall clock, request start */
    sk_msec_t start_ms;                 /* monotonic, request start */
    sk_msec_t duration_ms;              /* set when logged */
    uint64_t bytes_in;                  /* from the client, all bytes */
    uint64_t bytes_out;                 /* to the client, headers too */
    uint64_t server_bytes_in;           /* from the server */
    uint64_t server_bytes_out;          /* to the server */

    /* request and reply headers, for %{Name}>h and %{Name}<h */
    const struct rec_headers *req_headers;
    const struct rec_headers *rep_headers;
};

/*
 * A read-only view of a header block for logging; <lookup> returns the
 * first value of header <name> (case-insensitive) and its length, or NULL.
 */
struct rec_headers {
    const void *ctx;
    const char *(*lookup)(const void *ctx, const char *name, size_t *len);
};

#endif
