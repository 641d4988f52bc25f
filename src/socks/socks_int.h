/*
 * socks_int.h -- what the files of src/socks share: the SOCKS session and
 * the hooks between the handshake (socks_server.c), BIND (socks_bind.c)
 * and UDP ASSOCIATE (socks_udp.c).
 *
 * A session is one client TCP connection.  It reads and parses the
 * handshake through src/proto/socks_parse.h (never by hand), asks policy,
 * resolves, connects, answers and hands both sockets to the relay, or
 * keeps a BIND listener or a UDP association alive.  Lifetime follows the
 * HTTP side: every callback brackets its work with socks_enter() and
 * socks_leave(); socks_close() only marks the session and the last leave
 * frees it.  Nothing here is visible outside src/socks.
 */
#ifndef SK_SOCKS_INT_H
#define SK_SOCKS_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sk_common.h"
#include "comm/record.h"
#include "comm/worker.h"
#include "proto/socks_parse.h"

struct event;
struct evbuffer;
struct dns_query;
struct dns_result;
struct comm_connect;
struct relay;
struct socks_bind;
struct socks_udp;
struct conf;

#define SOCKS_SESS_MAGIC 0x50c55e55u

/* Bytes buffered before the request is complete: a greeting (257), an
 * RFC 1929 request (513) and a SOCKS5 request (262) all fit, and so does
 * a SOCKS4a request (8 + 2 * 256). */
#define SOCKS_MAX_PENDING 1100

enum socks_state {
    SOCKS_S_START = 0,      /* the first byte tells the version */
    SOCKS_S_AUTH,           /* RFC 1929 sub-negotiation */
    SOCKS_S_REQUEST,        /* SOCKS5 request after the method */
    SOCKS_S_WORKING,        /* policy, DNS, connect, BIND wait */
    SOCKS_S_UDP,            /* a UDP association is live */
    SOCKS_S_RELAY,          /* the relay owns both sockets */
    SOCKS_S_CLOSING         /* flushing a final reply, then close */
};

struct socks_sess {
    unsigned magic;
    struct worker_conn_link link;
    struct worker *w;
    struct conf *conf;                  /* a reference */
    const struct conf_http_port *port;  /* the listener's line, in conf */
    int fd;
    struct event *ev_rd, *ev_wr, *ev_tm;
    struct evbuffer *in, *out;          /* NULL once the relay runs */
    enum socks_state state;

    /* the request */
    int version;                        /* 4 or 5 */
    enum socks_cmd cmd;
    enum socks_atyp atyp;
    uint16_t dport;
    char *host;                         /* malloc'd: name or literal */
    char *url;                          /* malloc'd: host:port */
    char *user;                         /* malloc'd: RFC 1929 user */
    struct rec rec;

    /* the way there */
    struct dns_query *dq;
    struct dns_result *addrs;           /* malloc'd while needed */
    bool acl_needs_dns;
    struct comm_connect *cc;
    struct relay *relay;
    struct socks_bind *bind;
    struct socks_udp *udp;

    uint8_t relay_reply_len;            /* reply bytes left to the relay */
    unsigned busy;                      /* callbacks in progress */
    bool closed;
    bool logged;
    bool rd_eof;
};

/* ---- socks_server.c ---- */
void socks_enter(struct socks_sess *s);
void socks_leave(struct socks_sess *s);

/* Mark <s> closed (logging it if it was not), free at the last leave. */
void socks_close(struct socks_sess *s);

/* Write the access-log line of <s> once, with <result> and <status>. */
void socks_log(struct socks_sess *s, const char *result, int status);

/*
 * Queue the reply <rep> (a SOCKS5 code; mapped to 0x5a/0x5b for SOCKS4)
 * with bound address <bnd> (NULL: zeros) and try to send it.  Return 0,
 * or -1 if the client is gone (<s> is then closed).
 */
int socks_reply(struct socks_sess *s, int rep,
                const struct sockaddr_storage *bnd);

/* Answer failure <rep>, log <result>/<status>, close after the flush. */
void socks_fail(struct socks_sess *s, int rep, const char *result,
                int status);

/*
 * Hand <s>'s client socket and the connected <fd> (owned from now on) to
 * the relay; the reply <rep>/<bnd> goes to the client first.  <s> is
 * logged and closed when the relay ends.
 */
void socks_relay(struct socks_sess *s, int fd,
                 const struct sockaddr_storage *bnd);

/*
 * True if <ss> is an address skua must never connect to or send to on
 * port <port>: unspecified (0.0.0.0, ::) or one of its own listening
 * sockets.
 */
bool socks_dst_forbidden(const struct socks_sess *s,
                         const struct sockaddr_storage *ss, uint16_t port);

/* ---- socks_auth.c ---- */

/*
 * Check <user> and <pass> against the socks_password_file of <conf>.
 * Return 0 if they match, -1 otherwise (no file, unknown user, wrong
 * password, file unreadable: logged).
 */
int socks_auth_check(const struct conf *conf, const char *user,
                     const char *pass);

/*
 * Check <user> and <pass> (copied) for <s> on a thread of its own; call
 * socks_auth_done() from <s>'s worker with the answer, unless <s> closed
 * meanwhile (it stays allocated until then).  Return 0 if the check
 * started, -1 if it could not (too many running, no thread): the caller
 * answers failure itself.
 */
int socks_auth_start(struct socks_sess *s, const char *user,
                     const char *pass);

/* ---- socks_server.c, called back ---- */

/* The password check for <user> answered <ok>: reply, go on or close. */
void socks_auth_done(struct socks_sess *s, const char *user, bool ok);

/* ---- socks_bind.c ---- */

/* Start BIND for <s> (policy passed, s->addrs resolved). */
void socks_bind_start(struct socks_sess *s);
void socks_bind_free(struct socks_bind *b);

/* ---- socks_udp.c ---- */

/* Start UDP ASSOCIATE for <s> (policy passed, s->addrs resolved). */
void socks_udp_start(struct socks_sess *s);
void socks_udp_free(struct socks_udp *u);

/* The TCP connection of an association saw input (<eof>: it ended). */
void socks_udp_on_tcp(struct socks_sess *s, bool eof);

#endif
