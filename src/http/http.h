/*
 * http.h -- the HTTP proxy's internal types: client connections, their
 * transactions, server connections and the idle pool.
 *
 * A client connection (struct http_conn) carries one transaction at a time
 * (struct http_txn); pipelined requests wait in its input buffer and are
 * answered in order.  A transaction borrows one server connection (struct
 * http_srv) from the worker's pool or from a new connect, and gives it back
 * when both messages ended cleanly.  Bytes move between evbuffers without
 * copies where libevent allows (evbuffer_remove_buffer), and each side stops
 * reading when the other side's output backs up, so memory per transfer is
 * bounded by HTTP_HIGH_WATER whatever the body size.  A large response body
 * that skua only has to count (Content-Length or close-delimited, never
 * chunked) leaves user space altogether once the buffers ahead of it are
 * empty: it is spliced server socket -> pipe -> client socket, exactly its
 * length and not a byte more (http_txn_splice_pump()).
 *
 * Lifetime: every event callback brackets its work with http_conn_enter()
 * and http_conn_leave(); closing only marks the connection, and the last
 * leave frees it, so no callback ever touches freed memory.
 */
#ifndef SK_HTTP_H
#define SK_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sk_common.h"
#include "comm/record.h"
#include "comm/relay.h"
#include "dns/dns.h"
#include "comm/worker.h"
#include "proto/http_parse.h"

struct event;
struct evbuffer;
struct worker;
struct worker_listener;
struct conf;
struct conf_http_port;
struct sk_arena;
struct relay;
struct comm_connect;
struct comm_connect_opts;

#define HTTP_CONN_MAGIC 0x48c0a11eu
#define HTTP_SRV_MAGIC 0x48535256u

#define HTTP_MAX_HDRS 256
#define HTTP_HIGH_WATER (256u * 1024u)
#define HTTP_LOW_WATER (64u * 1024u)
#define HTTP_READ_SIZE (128 * 1024)
/* Lingering close: at most this long in all, and this long without a
 * byte from the client (nginx's lingering_time and lingering_timeout). */
#define HTTP_LINGER_MAX_MS 30000
#define HTTP_LINGER_IDLE_MS 5000
/* A response body with at least this much left to come moves by splice
 * (socket -> pipe -> socket) once the buffers ahead of it are empty. */
#define HTTP_SPLICE_MIN (64u * 1024u)

enum http_txn_state {
    TXN_HEAD = 0,       /* request head parsed, deciding */
    TXN_DNS,            /* resolving the destination */
    TXN_CONNECTING,     /* connecting to the server */
    TXN_FORWARD,        /* request going up, response coming down */
    TXN_TUNNEL,         /* CONNECT: the relay owns both sockets */
    TXN_REPLIED         /* answered by skua itself */
};

struct http_srv;

/* Host header verification on intercept ports (http_intercept.c). */
enum http_host_verify {
    HTTP_HV_UNKNOWN = 0,        /* not checked (yet) */
    HTTP_HV_OK,                 /* Host names the original destination */
    HTTP_HV_FORGED              /* it does not: original destination only,
                                   no pooled connection */
};

/* http_conn.icpt flags. */
#define HTTP_ICPT_ON     0x1u   /* intercepted: orig_dst is valid */
#define HTTP_ICPT_TPROXY 0x2u   /* ... on a tproxy port */
#define HTTP_ICPT_LOOP   0x4u   /* orig_dst is one of skua's listeners */

struct http_txn {
    struct http_conn *c;
    struct sk_arena *arena;
    struct rec rec;
    enum http_txn_state state;

    /* the request */
    char *head;                 /* copy of the request head */
    struct http_msg req;
    char *host;                 /* destination host, NUL-terminated */
    uint16_t port;
    bool acl_needs_dns;

    /* the way there */
    struct dns_query *dq;
    struct dns_result *addrs;   /* arena copy once resolved */
    struct comm_connect *cc;
    struct http_srv *srv;
    bool reused;                /* srv came from the idle pool */
    bool retried;
    bool no_pool;               /* never share a pooled connection */
    unsigned char host_verify;  /* enum http_host_verify */
    uint16_t host_port;         /* explicit port of Host, or 0 */

    /* request body */
    uint64_t req_left;
    struct http_chunked req_chunk;
    bool req_done;
    uint64_t req_body_bytes;

    /* response */
    char *resp_head;
    struct http_msg resp;
    bool resp_head_done;        /* final head sent to the client */
    bool resp_done;
    bool resp_dechunk;          /* chunked upstream, HTTP/1.0 client */
    uint64_t resp_left;
    struct http_chunked resp_chunk;
    bool keepalive;             /* client connection persists after */
    bool client_persist;        /* ... as the client's request asked */
    bool resp_splice;           /* body moving by splice: <resp_pipe> */
    bool resp_no_splice;        /* splice refused: copy to the end */
    struct relay_splice resp_pipe;

    struct relay *relay;
    size_t tunnel_prefix;       /* bytes of an earlier response queued
                                   ahead of the CONNECT's 200 */
};

struct http_conn {
    unsigned magic;
    struct worker_conn_link link;     /* in the worker's list */
    struct worker *w;
    struct conf *conf;          /* a reference, for this connection */
    int fd;
    struct event *ev_rd, *ev_wr, *ev_tm;
    struct evbuffer *in, *out;
    struct http_txn *txn;
    struct sockaddr_storage peer, local;
    struct sockaddr_storage orig_dst;   /* intercepted: where the client
                                           was going (plain v4 or v6) */
    unsigned icpt;                      /* HTTP_ICPT_* */
    const struct conf_http_port *port;  /* the listener's line, in
                                           <conf> */
    sk_msec_t born;
    unsigned nreq;
    unsigned busy;              /* callbacks in progress */
    bool closed;                /* close requested: free at last leave */
    bool closing;               /* close once <out> is flushed */
    bool rd_eof;
    bool rd_on, wr_on;
    bool in_process;
    bool linger_wanted;         /* the client may still be sending (a
                                   request body not read to its end, a
                                   request not understood, a connection
                                   it meant to keep) */
    bool lingering;             /* answered and shut for writing: reading
                                   and dropping until EOF or linger_end */
    sk_msec_t linger_end;
};

struct http_srv {
    unsigned magic;
    struct worker *w;
    int fd;
    struct event *ev_rd, *ev_wr, *ev_tm;
    struct evbuffer *in, *out;
    struct http_txn *txn;       /* NULL while idle in the pool */
    char *key;                  /* "host:port" */
    struct sockaddr_storage peer;
    struct http_srv *pnext, *pprev;     /* idle pool chain */
    unsigned nreq;
    sk_msec_t last_io;
    bool rd_eof;
    bool got_bytes;             /* response bytes for the current txn */
    bool rd_on, wr_on;
};

/* ---- http_client.c ---- */
void http_conn_enter(struct http_conn *c);
void http_conn_leave(struct http_conn *c);
void http_conn_close(struct http_conn *c);
void http_conn_flush(struct http_conn *c);
void http_conn_update_read(struct http_conn *c);
/* Read up to <max> bytes from <fd> onto <in>; as evbuffer_read(): bytes
 * read, 0 at end of stream, -1 with errno. */
int http_read(struct evbuffer *in, int fd, size_t max);
void http_txn_finish(struct http_txn *t);
void http_txn_abort(struct http_txn *t);
void http_txn_retry(struct http_txn *t);
/* Find the way to the destination: the idle pool, else DNS and connect. */
void http_txn_route(struct http_txn *t);

/* ---- http_server.c ---- */
struct http_srv *http_srv_new(struct worker *w, int fd, const char *key,
                              const struct sockaddr_storage *peer);
void http_srv_close(struct http_srv *s);
void http_srv_attach(struct http_srv *s, struct http_txn *t);
void http_srv_flush(struct http_srv *s);
/*
 * Before <s> is reused at once: whatever the server sent past the end of
 * its response (or its close) may still be in the socket, where s->in does
 * not show it -- always so after a spliced body, which is read to its exact
 * length.  Any byte or EOF there sets s->rd_eof (never reuse).
 */
void http_srv_check_clean(struct http_srv *s);
void http_srv_update_read(struct http_srv *s);
struct http_srv *http_pool_get(struct http_pool *p, const char *key);
void http_pool_put(struct http_pool *p, struct http_srv *s);
void http_txn_send_request(struct http_txn *t);
/* Move request body bytes up; return SKUA_ERROR when <t> has ended. */
int http_txn_pump_request(struct http_txn *t);
void http_txn_on_response(struct http_txn *t);
/*
 * Switch <t>'s response body to splicing if it qualifies and nothing is
 * buffered ahead of it, and move what can be moved.  Return false when
 * the body stays on the buffered path (nothing was done).
 */
bool http_txn_splice_start(struct http_txn *t);
/* Move spliced body bytes (the server is readable or the client
 * writable); <t> may be gone on return. */
void http_txn_splice_pump(struct http_txn *t);

/* ---- http_forward.c ---- */

/* What the forwarder needs to rewrite a head. */
struct http_fwd {
    const char *via;            /* "1.1 host (skua/x.y)" or NULL: no Via */
    const char *client_ip;      /* for X-Forwarded-For */
    int forwarded_for;          /* enum conf_fwd_for */
    const char *host;           /* Host value to send (authority) */
    bool keepalive;             /* responses: client connection persists */
    bool dechunk;               /* responses: drop Transfer-Encoding */
    bool client_http10;
};

/*
 * Append to <out> the request head to send to the origin for <req> (parsed
 * from <head>): origin-form request line, hop-by-hop fields removed, Host
 * set, Via and X-Forwarded-For per <f>, Max-Forwards decremented for TRACE
 * and OPTIONS.  Return the number of bytes appended.
 */
size_t http_fwd_request(struct evbuffer *out, const char *head,
                        const struct http_msg *req, const struct http_fwd *f);

/* Append the response head for the client; return the bytes appended. */
size_t http_fwd_response(struct evbuffer *out, const char *head,
                         const struct http_msg *resp,
                         const struct http_fwd *f);

/*
 * Write "1.<minor> <hostname> (skua/VERSION)" into <buf> of <len> bytes
 * (the per-request path avoids printf).  Return <buf>.
 */
const char *http_fwd_via(char *buf, size_t len, int minor,
                         const char *hostname);

/* Write "<host>:<port>" into <buf> of <len> bytes; return <buf>. */
const char *http_fwd_key(char *buf, size_t len, const char *host,
                         uint16_t port);

/* True if a Via field of <m> names <hostname> (a forwarding loop). */
bool http_fwd_is_loop(const char *head, const struct http_msg *m,
                      const char *hostname);

/* ---- http_error.c ---- */

/*
 * Answer transaction <t> with the error page <name> (e.g.
 * "ERR_ACCESS_DENIED") and <status>; <detail> fills %E.  The transaction
 * ends; the connection closes afterwards when <close> is set or the request
 * body was not read completely.
 */
void http_error_reply(struct http_txn *t, int status, const char *name,
                      const char *detail, bool close);

/* Answer a request that could not be parsed (no transaction yet). */
void http_error_reply_raw(struct http_conn *c, int status,
                          const char *name, const char *detail);

/* ---- http_intercept.c ---- */

/*
 * On an intercept or tproxy port, look up the original destination of the
 * new connection <c> (c->orig_dst, c->icpt).  Return 0 (also on other
 * ports: nothing to do), or -1 if it cannot be served (logged): the caller
 * closes it.
 */
int http_intercept_accept(struct http_conn *c);

/*
 * Fill host, port, URL and record of <t>, an origin-form request on an
 * intercepted connection: from Host, or from the original destination
 * when there is none.  Return 0, or -1 after an error reply.
 */
int http_intercept_describe(struct http_txn *t);

/* Refuse <t> if its connection loops back to skua: -1 after the reply,
 * else 0. */
int http_intercept_precheck(struct http_txn *t);

/*
 * Before routing <t>: verify its Host against the original destination
 * (resolving it if needed) and aim <t> at the original destination only.
 * Return SKUA_OK to route now, SKUA_AGAIN when a lookup will call
 * http_txn_route() later (<t> may be gone already), SKUA_ERROR after an
 * error reply (409 with host_verify_strict).  Other transactions: SKUA_OK.
 */
int http_intercept_route(struct http_txn *t);

/*
 * On a tproxy port, make the connect options <o> bind to the client's own
 * address (kept in <src>, which must outlive the connect start) when
 * spoof_client_ip allows.  <t>->addrs must be set.
 */
void http_intercept_outgoing(struct http_txn *t, struct comm_connect_opts *o,
                             struct sockaddr_storage *src);

/* The Host value to send for <t> when the client sent none (the original
 * destination), else NULL: keep the client's. */
const char *http_intercept_fwd_host(struct http_txn *t);

/* ---- http_connect.c ---- */
void http_tunnel_start(struct http_txn *t, int fd,
                       const struct sockaddr_storage *peer);

#endif
