/*
 * socks_server.c -- the SOCKS server side: accept, the handshake of
 * SOCKS4, SOCKS4a and SOCKS5 (method selection, RFC 1929 username and
 * password), policy, name resolution, CONNECT, and the hand-over to the
 * relay; one access-log line per session.
 *
 * Every byte is parsed by src/proto/socks_parse.c; this file only moves
 * bytes and decides.  Input is bounded (SOCKS_MAX_PENDING) until the
 * request is complete and while it is being served (early bytes wait for
 * the relay; reading stops at the bound), so a client cannot make skua
 * buffer more.  Not here: BIND
 * (socks_bind.c), UDP ASSOCIATE (socks_udp.c), the password file format
 * (src/auth/).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "sk_log.h"
#include "sk_str.h"
#include "sk_time.h"
#include "acl/acl.h"
#include "comm/comm_connect.h"
#include "comm/relay.h"
#include "comm/worker.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "log/access_log.h"
#include "nat/nat.h"
#include "socks/socks_int.h"

static void socks_process(struct socks_sess *s);
static void socks_dns_cb(const struct dns_result *res, void *arg);

/* ---- life cycle ---- */

void
socks_enter(struct socks_sess *s)
{
    s->busy++;
}

static void
socks_destroy(struct socks_sess *s)
{
    if (s->ev_rd != NULL)
        event_free(s->ev_rd);
    if (s->ev_wr != NULL)
        event_free(s->ev_wr);
    if (s->ev_tm != NULL)
        event_free(s->ev_tm);
    if (s->in != NULL)
        evbuffer_free(s->in);
    if (s->out != NULL)
        evbuffer_free(s->out);
    if (s->fd != -1)
        close(s->fd);
    free(s->host);
    free(s->url);
    free(s->user);
    free(s->addrs);
    worker_conn_del(s->w, &s->link);
    conf_unref(s->conf);
    s->magic = 0;
    free(s);
}

void
socks_leave(struct socks_sess *s)
{
    if (--s->busy == 0 && s->closed)
        socks_destroy(s);
}

void
socks_close(struct socks_sess *s)
{
    if (s->closed)
        return;
    s->closed = true;
    if (!s->logged && s->rec.method != NULL)
        socks_log(s, s->relay ? "TCP_TUNNEL" : "NONE_ABORTED", 0);
    if (s->dq != NULL)
        dns_cancel(s->dq);
    s->dq = NULL;
    if (s->cc != NULL)
        comm_connect_cancel(s->cc);
    s->cc = NULL;
    if (s->relay != NULL)
        relay_abort(s->relay);
    s->relay = NULL;
    socks_bind_free(s->bind);
    s->bind = NULL;
    socks_udp_free(s->udp);
    s->udp = NULL;
    if (s->ev_rd != NULL)
        event_del(s->ev_rd);
    if (s->ev_wr != NULL)
        event_del(s->ev_wr);
    if (s->ev_tm != NULL)
        event_del(s->ev_tm);
    if (s->busy == 0)
        socks_destroy(s);
}

void
socks_log(struct socks_sess *s, const char *result, int status)
{
    if (s->logged)
        return;
    s->logged = true;
    if (s->rec.method == NULL)
        s->rec.method = s->version == 4 ? "SOCKS4" : "SOCKS5";
    if (s->rec.url == NULL)
        s->rec.url = "error:invalid-request";
    s->rec.result = result;
    if (status != 0)
        s->rec.status = status;
    s->rec.duration_ms = sk_now_msec() - s->rec.start_ms;
    access_log_write(s->conf, &s->rec);
}

/* ---- output ---- */

/* Send what is queued; close once flushed in SOCKS_S_CLOSING. */
static void
socks_flush(struct socks_sess *s)
{
    int n;

    while (!s->closed && evbuffer_get_length(s->out) > 0) {
        n = evbuffer_write(s->out, s->fd);
        if (n > 0)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EINTR))
            break;
        socks_close(s);
        return;
    }
    if (s->closed)
        return;
    if (evbuffer_get_length(s->out) > 0) {
        event_add(s->ev_wr, NULL);
        return;
    }
    event_del(s->ev_wr);
    if (s->state == SOCKS_S_CLOSING) {
        /* Let the client read the reply before the socket goes: send
         * FIN, and read what it already sent, since closing with unread
         * bytes resets the connection and may destroy the reply. */
        char junk[4096];
        int i;

        shutdown(s->fd, SHUT_WR);
        for (i = 0; i < 16 && read(s->fd, junk, sizeof(junk)) > 0; i++)
            ;
        socks_close(s);
    }
}

static void
socks_write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct socks_sess *s = arg;

    socks_enter(s);
    socks_flush(s);
    socks_leave(s);
}

/* Build the reply of the session's version into <buf>; return its size. */
static size_t
socks_build(struct socks_sess *s, uint8_t *buf, size_t len, int rep,
            const struct sockaddr_storage *bnd)
{
    if (s->version == 4)
        return socks4_build_reply(buf, len, rep == SOCKS5_REP_SUCCEEDED ||
                                  rep == SOCKS4_REP_GRANTED
                                  ? SOCKS4_REP_GRANTED : SOCKS4_REP_REJECTED,
                                  bnd);
    return socks5_build_reply(buf, len, rep, bnd);
}

int
socks_reply(struct socks_sess *s, int rep,
            const struct sockaddr_storage *bnd)
{
    uint8_t buf[32];
    size_t n = socks_build(s, buf, sizeof(buf), rep, bnd);

    if (n == 0)
        n = socks_build(s, buf, sizeof(buf), rep, NULL);
    evbuffer_add(s->out, buf, n);
    s->rec.bytes_out += n;
    socks_flush(s);
    return s->closed ? -1 : 0;
}

void
socks_fail(struct socks_sess *s, int rep, const char *result, int status)
{
    uint8_t buf[32];
    size_t n;

    s->state = SOCKS_S_CLOSING;
    if (rep == SOCKS_REPLY_CLOSE) {
        socks_log(s, result, status);
        socks_close(s);
        return;
    }
    event_del(s->ev_rd);
    n = socks_build(s, buf, sizeof(buf), rep, NULL);
    evbuffer_add(s->out, buf, n);
    s->rec.bytes_out += n;
    socks_log(s, result, status);
    socks_flush(s);
}

/* ---- the relay ---- */

static void
socks_relay_done(const struct relay_stats *st, int err, void *arg)
{
    struct socks_sess *s = arg;
    uint64_t to_client = st->b_to_a - SK_MIN(st->b_to_a,
                                             s->relay_reply_len);

    socks_enter(s);
    s->relay = NULL;
    s->rec.bytes_in += st->a_to_b;
    s->rec.bytes_out += st->b_to_a;
    s->rec.server_bytes_out += st->a_to_b;
    s->rec.server_bytes_in += to_client;
    socks_log(s, "TCP_TUNNEL", 200);
    sk_debug(SK_SEC_COMM, 3, "socks tunnel to %s ended (%s)", s->rec.url,
             err ? strerror(err) : "closed");
    socks_close(s);
    socks_leave(s);
}

/*
 * Queue the success reply behind what s->out still holds and send what
 * the client takes now (nearly always all of it, so the relay has nothing
 * to flush and the client need not wait for a writable report).  Bytes
 * count as they are written: what is left goes through the relay, which
 * counts it in its stats, and s->relay_reply_len says how much of those
 * stats is not the server's.
 */
static void
socks_relay_reply(struct socks_sess *s, const struct sockaddr_storage *bnd)
{
    uint8_t buf[32];
    size_t n = socks_build(s, buf, sizeof(buf), SOCKS5_REP_SUCCEEDED, bnd);
    size_t left;
    int w;

    if (n == 0)
        n = socks_build(s, buf, sizeof(buf), SOCKS5_REP_SUCCEEDED, NULL);
    /* Bytes still queued were counted when queued: count them again as
     * written, like the rest. */
    s->rec.bytes_out -= SK_MIN(s->rec.bytes_out,
                               evbuffer_get_length(s->out));
    evbuffer_add(s->out, buf, n);
    w = evbuffer_write(s->out, s->fd);
    if (w > 0)
        s->rec.bytes_out += (uint64_t)w;
    /* A failed write is the relay's to find: its own write fails too. */
    left = evbuffer_get_length(s->out);
    s->relay_reply_len = (uint8_t)SK_MIN(left, 255);
}

void
socks_relay(struct socks_sess *s, int fd, const struct sockaddr_storage *bnd)
{
    struct relay_opts o;

    socks_relay_reply(s, bnd);
    s->rec.status = 200;
    s->rec.result = "TCP_TUNNEL";
    s->state = SOCKS_S_RELAY;
    memset(&o, 0, sizeof(o));
    o.idle_timeout = s->conf->read_timeout;
    event_del(s->ev_rd);
    event_del(s->ev_wr);
    event_del(s->ev_tm);
    /* Early bytes the client sent behind its request go to the server
     * first, so nothing is lost or reordered at the hand-over. */
    s->relay = relay_start(s->w->base, s->fd, fd, s->in, s->out, &o,
                           socks_relay_done, s);
    s->fd = -1;
    if (s->relay == NULL) {
        socks_log(s, "TCP_TUNNEL_ABORTED", 200);
        socks_close(s);
        return;
    }
    /* An idle tunnel keeps no buffers or events of its own. */
    evbuffer_free(s->in);
    evbuffer_free(s->out);
    s->in = s->out = NULL;
    event_free(s->ev_rd);
    event_free(s->ev_wr);
    event_free(s->ev_tm);
    s->ev_rd = s->ev_wr = s->ev_tm = NULL;
    free(s->addrs);
    s->addrs = NULL;
}

/* ---- policy helpers ---- */

bool
socks_dst_forbidden(const struct socks_sess *s,
                    const struct sockaddr_storage *ss, uint16_t port)
{
    struct sockaddr_storage a;

    sk_addr_unmap(ss, &a);
    return sk_addr_is_any((const struct sockaddr *)&a) ||
           nat_is_own_port(s->conf, &a, port, false) ||
           nat_is_own_port(s->conf, &a, port, true);
}

/* ---- CONNECT ---- */

/* The SOCKS5 reply for a failed connect (RFC 1928 section 6). */
static int
socks_connect_rep(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return SOCKS5_REP_REFUSED;
    case ENETUNREACH:
    case ENETDOWN:
        return SOCKS5_REP_NET_UNREACH;
    case EHOSTUNREACH:
    case EHOSTDOWN:
    case ETIMEDOUT:
        /* No answer at all: the host is as good as unreachable (0x06,
         * TTL expired, is about IP hop limits). */
        return SOCKS5_REP_HOST_UNREACH;
    default:
        return SOCKS5_REP_FAILURE;
    }
}

static void
socks_connect_cb(int fd, int err, const struct sockaddr_storage *peer,
                 void *arg)
{
    struct socks_sess *s = arg;
    struct sockaddr_storage bnd;
    socklen_t len = sizeof(bnd);

    socks_enter(s);
    s->cc = NULL;
    if (fd == -1) {
        sk_debug(SK_SEC_COMM, 2, "socks connect to %s failed: %s",
                 s->rec.url, strerror(err));
        socks_fail(s, socks_connect_rep(err), "NONE_NONE", 503);
        goto out;
    }
    s->rec.server = *peer;
    s->rec.hier = REC_HIER_DIRECT;
    memset(&bnd, 0, sizeof(bnd));
    if (getsockname(fd, (struct sockaddr *)&bnd, &len) == -1)
        memset(&bnd, 0, sizeof(bnd));
    socks_relay(s, fd, &bnd);
out:
    socks_leave(s);
}

/* Choose the source address for this destination (tcp_outgoing_address). */
static void
socks_outgoing(struct socks_sess *s, struct comm_connect_opts *o)
{
    struct acl_dst dst = { s->addrs->addrs, s->addrs->n, true };

    acl_outgoing(s->conf->tcp_outgoing, &s->rec, &dst, &o->src4, &o->src6);
}

static void
socks_connect(struct socks_sess *s)
{
    struct comm_connect_opts o;
    unsigned i, n = 0;

    /* Never to 0.0.0.0, :: or skua's own listeners, whatever policy
     * says: those would loop back into skua or reach local services
     * through a proxy meant for the outside. */
    for (i = 0; i < s->addrs->n; i++)
        if (!socks_dst_forbidden(s, &s->addrs->addrs[i], s->dport))
            s->addrs->addrs[n++] = s->addrs->addrs[i];
    s->addrs->n = n;
    if (n == 0) {
        socks_fail(s, SOCKS5_REP_NOT_ALLOWED, "TCP_DENIED", 403);
        return;
    }
    memset(&o, 0, sizeof(o));
    o.timeout = s->conf->connect_timeout;
    socks_outgoing(s, &o);
    s->cc = comm_connect_start(s->w->base, s->addrs->addrs, s->addrs->n,
                               s->dport, &o, socks_connect_cb, s);
    if (s->cc == NULL)
        socks_fail(s, SOCKS5_REP_FAILURE, "NONE_NONE", 503);
}

/* ---- the request ---- */

static const char *
socks_method_name(int version, enum socks_cmd cmd)
{
    static const char *const v4[] = { "SOCKS4_CONNECT", "SOCKS4_BIND" };
    static const char *const v5[] = { "SOCKS5_CONNECT", "SOCKS5_BIND",
                                      "SOCKS5_UDP" };

    if (version == 4)
        return cmd == SOCKS_CMD_BIND ? v4[1] : v4[0];
    if (cmd == SOCKS_CMD_BIND)
        return v5[1];
    return cmd == SOCKS_CMD_UDP_ASSOCIATE ? v5[2] : v5[0];
}

/* Fill the session and its record from the parsed <req>. */
static void
socks_describe(struct socks_sess *s, const struct socks_request *req)
{
    char buf[SK_ADDRSTRLEN];
    size_t i, len;

    s->cmd = req->cmd;
    s->atyp = req->atyp;
    s->dport = req->port;
    if (req->atyp == SOCKS_ATYP_DOMAIN) {
        /* Names are case-insensitive: one spelling for policy and log. */
        s->host = sk_strdup(req->host);
        len = strlen(s->host);
        for (i = 0; i < len; i++)
            if (s->host[i] >= 'A' && s->host[i] <= 'Z')
                s->host[i] = (char)(s->host[i] + 32);
        if (len > 1 && s->host[len - 1] == '.')
            s->host[len - 1] = '\0';
    } else {
        s->host = sk_strdup(sk_addr_str((const struct sockaddr *)&req->addr,
                                        buf, sizeof(buf)));
    }
    len = strlen(s->host) + 16;
    s->url = sk_malloc(len);
    snprintf(s->url, len, strchr(s->host, ':') ? "[%s]:%u" : "%s:%u",
             s->host, s->dport);
    s->rec.method = socks_method_name(s->version, s->cmd);
    s->rec.url = s->url;
    s->rec.urlpath = "";
    s->rec.dst_how = REC_DST_SOCKS;
    s->rec.dst_host = s->host;
    s->rec.dst_port = s->dport;
    s->rec.user = s->user;
}

/* What the port allows of SOCKS4 and 4a (SOCKS4 has no authentication:
 * a port that does not offer "none" refuses it). */
static bool
socks_v4_allowed(const struct socks_sess *s, bool is_4a)
{
    const struct conf_socks_auth *a = s->port->socks_auth.n > 0
        ? &s->port->socks_auth : &s->conf->socks_auth_methods;
    unsigned i;

    if (!(s->port->socks_versions & (is_4a ? CONF_SOCKS_V4A
                                           : CONF_SOCKS_V4)))
        return false;
    for (i = 0; i < a->n; i++)
        if (a->m[i] == SOCKS5_AUTH_NONE)
            return true;
    return false;
}

/*
 * Resolve s->host; socks_dns_cb() continues, possibly before this
 * returns, in which case <s> may be closed: touch nothing after.
 */
static void
socks_resolve(struct socks_sess *s)
{
    struct dns_query *q = NULL;

    if (dns_resolve(s->w->dns, s->host, socks_dns_cb, s, &q) == SKUA_AGAIN)
        s->dq = q;
}

static void
socks_dispatch(struct socks_sess *s)
{
    switch (s->cmd) {
    case SOCKS_CMD_CONNECT:
        socks_connect(s);
        break;
    case SOCKS_CMD_BIND:
        socks_bind_start(s);
        break;
    case SOCKS_CMD_UDP_ASSOCIATE:
        socks_udp_start(s);
        break;
    }
}

static void
socks_dns_cb(const struct dns_result *res, void *arg)
{
    struct socks_sess *s = arg;
    struct acl_dst dst;

    socks_enter(s);
    s->dq = NULL;
    if (res->status != DNS_OK || res->n == 0) {
        sk_debug(SK_SEC_COMM, 2, "socks: cannot resolve %s: %s", s->host,
                 res->error ? res->error : "no address");
        socks_fail(s, SOCKS5_REP_HOST_UNREACH, "NONE_NONE", 503);
        goto out;
    }
    s->addrs = sk_malloc(sizeof(*res));
    memcpy(s->addrs, res, sizeof(*res));
    if (s->acl_needs_dns) {
        dst.addrs = s->addrs->addrs;
        dst.n = s->addrs->n;
        dst.resolved = true;
        if (acl_check(s->conf->socks_access, &s->rec, &dst) !=
            ACL_ALLOWED) {
            socks_fail(s, SOCKS5_REP_NOT_ALLOWED, "TCP_DENIED", 403);
            goto out;
        }
        s->acl_needs_dns = false;
    }
    socks_dispatch(s);
out:
    socks_leave(s);
}

/* A complete request is in <req>: decide and start serving it. */
static void
socks_request(struct socks_sess *s, const struct socks_request *req)
{
    enum acl_answer a;
    struct sockaddr_storage lit;

    s->state = SOCKS_S_WORKING;
    /* The read event stays while the request is served: what the client
     * sends early is kept for the relay (bounded), and a client that
     * resets or leaves during a slow lookup or connect is noticed. */
    event_del(s->ev_tm);
    socks_describe(s, req);
    if (s->version == 4 &&
        !socks_v4_allowed(s, req->atyp == SOCKS_ATYP_DOMAIN)) {
        socks_fail(s, SOCKS4_REP_REJECTED, "TCP_DENIED", 403);
        return;
    }
    if (s->cmd == SOCKS_CMD_CONNECT && req->atyp != SOCKS_ATYP_DOMAIN) {
        sk_addr_unmap(&req->addr, &lit);
        if (socks_dst_forbidden(s, &lit, s->dport)) {
            socks_fail(s, SOCKS5_REP_NOT_ALLOWED, "TCP_DENIED", 403);
            return;
        }
    }
    a = acl_check(s->conf->socks_access, &s->rec, NULL);
    if (a == ACL_DENIED) {
        socks_fail(s, SOCKS5_REP_NOT_ALLOWED, "TCP_DENIED", 403);
        return;
    }
    s->acl_needs_dns = a == ACL_NEED_DNS;
    sk_debug(SK_SEC_COMM, 3, "socks: %s %s", s->rec.method, s->rec.url);
    socks_resolve(s);
}

/* ---- the handshake ---- */

/* The methods this port offers, in order of preference. */
static const struct conf_socks_auth *
socks_methods(const struct socks_sess *s)
{
    return s->port->socks_auth.n > 0 ? &s->port->socks_auth
                                     : &s->conf->socks_auth_methods;
}

/* RFC 1928 section 3: answer the greeting with the chosen method. */
static int
socks_on_greeting(struct socks_sess *s, const uint8_t *p, size_t len)
{
    const struct conf_socks_auth *a = socks_methods(s);
    struct socks5_greeting g;
    size_t used = 0;
    uint8_t rep[2] = { 5, SOCKS5_AUTH_UNACCEPTABLE };
    int r;

    s->version = 5;
    if (!(s->port->socks_versions & CONF_SOCKS_V5)) {
        socks_fail(s, SOCKS_REPLY_CLOSE, "TAG_NONE", 400);
        return SKUA_ERROR;
    }
    r = socks5_parse_greeting(p, len, &g, &used);
    if (r == SKUA_AGAIN)
        return r;
    if (r == SKUA_OK) {
        evbuffer_drain(s->in, used);
        s->rec.bytes_in += used;
        rep[1] = socks5_choose_method(&g, a->m, a->n);
    }
    evbuffer_add(s->out, rep, sizeof(rep));
    s->rec.bytes_out += sizeof(rep);
    if (rep[1] == SOCKS5_AUTH_UNACCEPTABLE) {
        /* No acceptable method: the client must close (RFC 1928). */
        s->state = SOCKS_S_CLOSING;
        event_del(s->ev_rd);
        s->rec.url = "error:no-acceptable-method";
        socks_log(s, "TCP_DENIED", r == SKUA_OK ? 407 : 400);
        socks_flush(s);
        return SKUA_ERROR;
    }
    s->state = rep[1] == SOCKS5_AUTH_USERPASS ? SOCKS_S_AUTH
                                              : SOCKS_S_REQUEST;
    socks_flush(s);
    return s->closed ? SKUA_ERROR : SKUA_OK;
}

/* RFC 1929: start checking the user name and password. */
static int
socks_on_userpass(struct socks_sess *s, const uint8_t *p, size_t len)
{
    struct socks5_userpass up;
    size_t used = 0;
    int r = socks5_parse_userpass(p, len, &up, &used);

    if (r == SKUA_AGAIN)
        return r;
    if (r == SKUA_ERROR) {
        socks_fail(s, SOCKS_REPLY_CLOSE, "TAG_NONE", 400);
        return SKUA_ERROR;
    }
    evbuffer_drain(s->in, used);
    s->rec.bytes_in += used;
    /* Nothing more is read until the answer; a request that came with
     * the credentials waits in <in>. */
    event_del(s->ev_rd);
    if (socks_auth_start(s, up.user, up.pass) == -1)
        socks_auth_done(s, up.user, false);
    memset(up.pass, 0, sizeof(up.pass));
    return SKUA_ERROR;      /* stop parsing until the answer */
}

void
socks_auth_done(struct socks_sess *s, const char *user, bool ok)
{
    uint8_t rep[2] = { 1, ok ? 0 : 1 };

    s->user = sk_strdup(user);
    s->rec.user = s->user;
    evbuffer_add(s->out, rep, sizeof(rep));
    s->rec.bytes_out += sizeof(rep);
    if (!ok) {
        /* RFC 1929 section 2: a failure status closes the connection. */
        sk_debug(SK_SEC_COMM, 2, "socks: authentication failed for '%s'",
                 user);
        s->rec.url = "error:authentication-failed";
        s->state = SOCKS_S_CLOSING;
        socks_log(s, "TCP_DENIED", 407);
        socks_flush(s);
        return;
    }
    s->state = SOCKS_S_REQUEST;
    socks_flush(s);
    if (s->closed)
        return;
    if (!s->rd_eof)
        event_add(s->ev_rd, NULL);
    socks_process(s);
}

/* Parse a request of the session's version; serve it when complete. */
static int
socks_on_request(struct socks_sess *s, const uint8_t *p, size_t len)
{
    struct socks_request req;
    size_t used = 0;
    int rep = SOCKS5_REP_FAILURE, r;

    if (s->version == 4)
        r = socks4_parse_request(p, len, &req, &used, &rep);
    else
        r = socks5_parse_request(p, len, &req, &used, &rep);
    if (r == SKUA_AGAIN)
        return r;
    if (r == SKUA_ERROR) {
        socks_fail(s, rep, "TAG_NONE", 400);
        return SKUA_ERROR;
    }
    evbuffer_drain(s->in, used);
    s->rec.bytes_in += used;
    socks_request(s, &req);
    return SKUA_ERROR;      /* stop parsing: the request is being served */
}

/* Parse what is buffered, as far as it goes. */
static void
socks_process(struct socks_sess *s)
{
    size_t len;
    const uint8_t *p;
    int r = SKUA_OK;

    while (!s->closed && r == SKUA_OK) {
        len = evbuffer_get_length(s->in);
        if (len == 0)
            break;
        p = evbuffer_pullup(s->in, (ev_ssize_t)len);
        switch (s->state) {
        case SOCKS_S_START:
            if (p[0] == 5) {
                r = socks_on_greeting(s, p, len);
            } else if (p[0] == 4 &&
                       (s->port->socks_versions &
                        (CONF_SOCKS_V4 | CONF_SOCKS_V4A))) {
                s->version = 4;
                s->state = SOCKS_S_REQUEST;
            } else {
                socks_fail(s, SOCKS_REPLY_CLOSE, "TAG_NONE", 400);
                r = SKUA_ERROR;
            }
            break;
        case SOCKS_S_AUTH:
            r = socks_on_userpass(s, p, len);
            break;
        case SOCKS_S_REQUEST:
            r = socks_on_request(s, p, len);
            break;
        default:
            r = SKUA_ERROR;
            break;
        }
    }
    if (s->closed || r != SKUA_AGAIN)
        return;
    if (s->rd_eof) {
        socks_close(s);         /* a partial message, then EOF */
        return;
    }
    if (evbuffer_get_length(s->in) >= SOCKS_MAX_PENDING) {
        /* Every valid message fits; more is not a SOCKS client. */
        socks_fail(s, SOCKS_REPLY_CLOSE, "TAG_NONE", 400);
    }
}

/* ---- input ---- */

/*
 * Read at most <max> bytes from <fd> into s->in; return as recv(2).
 * Plain recv(): evbuffer_read() asks FIONREAD first, a system call more
 * for the few bytes of a handshake.
 */
static int
socks_read_in(struct socks_sess *s, int fd, size_t max)
{
    char buf[4096];
    ssize_t n;

    n = recv(fd, buf, SK_MIN(max, sizeof(buf)), 0);
    if (n > 0 && evbuffer_add(s->in, buf, (size_t)n) == -1) {
        errno = ENOMEM;
        return -1;
    }
    return (int)n;
}

static void
socks_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct socks_sess *s = arg;
    size_t room;
    int n;

    socks_enter(s);
    if (s->state == SOCKS_S_UDP) {
        /* Nothing is expected on an association's TCP connection but
         * its end; whatever comes is read and dropped. */
        n = socks_read_in(s, fd, 4096);
        evbuffer_drain(s->in, evbuffer_get_length(s->in));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            socks_udp_on_tcp(s, true);
        goto out;
    }
    room = SOCKS_MAX_PENDING - SK_MIN(SOCKS_MAX_PENDING,
                                      evbuffer_get_length(s->in));
    if (s->state == SOCKS_S_WORKING) {
        /* Resolving, connecting or waiting for the BIND peer: what the
         * client sends meanwhile waits for the relay (bounded).  Its EOF
         * ends a BIND's wait; a CONNECT's relay reads it again and passes
         * it on (a client may half-close after its request). */
        if (room == 0) {
            event_del(s->ev_rd);
            goto out;
        }
        n = socks_read_in(s, fd, room);
        if (n == 0 && s->cmd == SOCKS_CMD_CONNECT)
            event_del(s->ev_rd);
        else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            socks_close(s);
        else if (n > 0 && (size_t)n >= room)
            event_del(s->ev_rd);
        goto out;
    }
    n = socks_read_in(s, fd, SK_MAX(room, 1));
    if (n == 0) {
        s->rd_eof = true;
        event_del(s->ev_rd);
    } else if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            socks_close(s);
        goto out;
    }
    socks_process(s);
    if (!s->closed && s->rd_eof && s->state < SOCKS_S_WORKING)
        socks_close(s);
out:
    socks_leave(s);
}

static void
socks_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct socks_sess *s = arg;

    socks_enter(s);
    if (s->bind != NULL) {
        /* Nobody connected to the BIND port in time. */
        socks_fail(s, SOCKS5_REP_TTL_EXPIRED, "NONE_NONE", 504);
    } else {
        sk_debug(SK_SEC_COMM, 3, "socks: handshake timeout");
        socks_close(s);
    }
    socks_leave(s);
}

static void
socks_on_stop(struct worker_conn_link *l)
{
    struct socks_sess *s = (struct socks_sess *)
        ((char *)l - offsetof(struct socks_sess, link));

    /* Close sessions still in the handshake; tunnels finish. */
    if (s->state < SOCKS_S_WORKING) {
        socks_enter(s);
        socks_close(s);
        socks_leave(s);
    }
}

/*
 * The line of <port> in the worker's current snapshot.  An http_port
 * shared with SOCKS hands over a connection accepted under the snapshot
 * its HTTP side holds, which may be older than w->conf after a reload;
 * the session takes a reference to w->conf, so it must use that
 * snapshot's line (same spec), or none if the port is gone.
 */
static const struct conf_http_port *
socks_port_current(struct worker *w, const struct conf_http_port *port)
{
    const struct conf_http_port *p;

    for (p = w->conf->http_ports; p != NULL; p = p->next)
        if (p == port || strcmp(p->spec, port->spec) == 0)
            return p;
    return NULL;
}

void
socks_accept(struct worker *w, const struct conf_http_port *port, int fd,
             const struct sockaddr_storage *peer, struct evbuffer *initial)
{
    struct socks_sess *s;
    struct timeval tv;

    if (initial != NULL && (port = socks_port_current(w, port)) == NULL) {
        close(fd);          /* the port went away in a reload */
        return;
    }
    s = sk_calloc(1, sizeof(*s));
    s->magic = SOCKS_SESS_MAGIC;
    s->w = w;
    s->conf = conf_ref(w->conf);
    s->port = port;
    s->fd = fd;
    s->rec.client = *peer;
    worker_accepted_local(port, fd, &s->rec.local);
    worker_accepted_nodelay(fd);
    s->rec.listener_name = port->name;
    s->rec.listener_port = sk_addr_port((const struct sockaddr *)
                                       &port->addr);
    s->rec.proto = "socks";
    sk_wallclock(&s->rec.start);
    s->rec.start_ms = sk_now_msec();
    s->in = evbuffer_new();
    s->out = evbuffer_new();
    s->ev_rd = event_new(w->base, fd, EV_READ | EV_PERSIST, socks_read_cb,
                         s);
    s->ev_wr = event_new(w->base, fd, EV_WRITE | EV_PERSIST, socks_write_cb,
                         s);
    s->ev_tm = event_new(w->base, -1, 0, socks_timer_cb, s);
    s->link.on_stop = socks_on_stop;
    worker_conn_add(w, &s->link);
    tv = sk_msec_tv(s->conf->request_timeout);
    event_add(s->ev_tm, &tv);
    event_add(s->ev_rd, NULL);
    if (initial == NULL) {
        /* A client speaks first, and has usually sent its greeting by
         * the time the connection is accepted: read it now rather than
         * after a trip through the event loop (a recv() that finds
         * nothing costs less than that trip). */
        socks_read_cb(fd, EV_READ, s);
    } else if (evbuffer_get_length(initial) > 0) {
        socks_enter(s);
        evbuffer_add_buffer(s->in, initial);
        socks_process(s);
        socks_leave(s);
    }
}
