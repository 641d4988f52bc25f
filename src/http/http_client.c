/*
 * http_client.c -- the client side of the HTTP proxy: accept, read and
 * parse requests, decide (policy, loop checks, limits), find the way to the
 * origin, and keep the client connection alive between requests.
 *
 * Not here: rewriting heads (http_forward.c), the server side and the idle
 * pool (http_server.c), error pages (http_error.c), tunnels
 * (http_connect.c).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "sk_arena.h"
#include "sk_log.h"
#include "sk_str.h"
#include "sk_time.h"
#include "acl/acl.h"
#include "comm/comm_connect.h"
#include "comm/relay.h"
#include "comm/worker.h"
#include "conf/conf.h"
#include "http/http.h"
#include "log/access_log.h"

static void conn_process(struct http_conn *c);

/* ---- life cycle ---- */

void
http_conn_enter(struct http_conn *c)
{
    c->busy++;
}

static void
conn_destroy(struct http_conn *c)
{
    if (c->ev_rd != NULL)
        event_free(c->ev_rd);
    if (c->ev_wr != NULL)
        event_free(c->ev_wr);
    if (c->ev_tm != NULL)
        event_free(c->ev_tm);
    if (c->in != NULL)
        evbuffer_free(c->in);
    if (c->out != NULL)
        evbuffer_free(c->out);
    if (c->fd != -1)
        close(c->fd);
    worker_conn_del(c->w, &c->link);
    conf_unref(c->conf);
    c->magic = 0;
    free(c);
}

void
http_conn_leave(struct http_conn *c)
{
    if (--c->busy == 0 && c->closed)
        conn_destroy(c);
}

static void
txn_free(struct http_txn *t)
{
    struct http_conn *c = t->c;

    if (t->dq != NULL)
        dns_cancel(t->dq);
    if (t->cc != NULL)
        comm_connect_cancel(t->cc);
    if (t->relay != NULL)
        relay_abort(t->relay);
    if (t->resp_splice)
        relay_splice_close(&t->resp_pipe);
    if (t->srv != NULL) {
        t->srv->txn = NULL;
        http_srv_close(t->srv);
    }
    sk_arena_free(t->arena);
    if (c->txn == t)
        c->txn = NULL;
    free(t);
}

void
http_conn_close(struct http_conn *c)
{
    struct http_txn *t = c->txn;

    if (c->closed)
        return;
    c->closed = true;
    if (t != NULL && t->state != TXN_TUNNEL && t->rec.method != NULL) {
        /* The client left (or was dropped) mid-transaction: log what was
         * done, as Squid does, with the _ABORTED tag. */
        t->rec.duration_ms = sk_now_msec() - t->rec.start_ms;
        t->rec.result = "TCP_MISS_ABORTED";
        access_log_write(c->conf, &t->rec);
    }
    if (t != NULL)
        txn_free(t);
    if (c->ev_rd != NULL)
        event_del(c->ev_rd);
    if (c->ev_wr != NULL)
        event_del(c->ev_wr);
    if (c->ev_tm != NULL)
        event_del(c->ev_tm);
    if (c->busy == 0)
        conn_destroy(c);
}

/* ---- I/O ---- */

void
http_conn_update_read(struct http_conn *c)
{
    struct http_txn *t = c->txn;
    bool want;

    if (c->closed || c->rd_eof || c->fd == -1)
        want = false;
    else if (c->lingering)
        want = true;
    else if (c->closing)
        want = false;
    else if (t == NULL)
        want = true;
    else if (t->state == TXN_FORWARD && !t->req_done && t->srv != NULL)
        want = evbuffer_get_length(t->srv->out) < HTTP_HIGH_WATER;
    else
        want = evbuffer_get_length(c->in) < HTTP_LOW_WATER;
    if (want == c->rd_on)
        return;
    c->rd_on = want;
    if (want)
        event_add(c->ev_rd, NULL);
    else
        event_del(c->ev_rd);
}

/* (Re-)arm the lingering close's timer: the idle limit, never past the
 * end of the whole linger. */
static void
conn_linger_arm(struct http_conn *c)
{
    sk_msec_t now = sk_now_msec(), left = c->linger_end - now;
    struct timeval tv;

    if (left <= 0) {
        http_conn_close(c);
        return;
    }
    tv = sk_msec_tv(SK_MIN(left, (sk_msec_t)HTTP_LINGER_IDLE_MS));
    event_add(c->ev_tm, &tv);
}

/*
 * The last response is out: stop sending and let the client read it before
 * the socket goes away (RFC 9112 section 9.6).  Bytes still unread in the
 * receive queue at close() would make the kernel send a reset, which can
 * destroy the response before the client has read it (a request body the
 * answer did not wait for), so when the client may still be sending, what
 * it sends now is read and dropped until its EOF or the linger times out.
 */
static void
conn_linger(struct http_conn *c)
{
    shutdown(c->fd, SHUT_WR);
    if (c->rd_eof || worker_is_stopping(c->w) ||
        (!c->linger_wanted && evbuffer_get_length(c->in) == 0)) {
        /* Nothing more is expected (as nginx's lingering_close on), or
         * the worker is stopping: close now. */
        http_conn_close(c);
        return;
    }
    c->lingering = true;
    c->linger_end = sk_now_msec() + HTTP_LINGER_MAX_MS;
    evbuffer_drain(c->in, evbuffer_get_length(c->in));
    http_conn_update_read(c);
    conn_linger_arm(c);
}

/* Lingering: read and drop what the client sends; close at its EOF. */
static void
conn_linger_read(struct http_conn *c, int fd)
{
    char buf[16384];
    ssize_t n;
    int i;

    for (i = 0; i < 16; i++) {
        n = recv(fd, buf, sizeof(buf), 0);
        if (n > 0)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EINTR))
            break;
        http_conn_close(c);     /* EOF or error: nothing left to protect */
        return;
    }
    conn_linger_arm(c);
}

void
http_conn_flush(struct http_conn *c)
{
    int n;

    if (c->closed || c->fd == -1)
        return;
    while (evbuffer_get_length(c->out) > 0) {
        n = evbuffer_write(c->out, c->fd);
        if (n > 0)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EINTR))
            break;
        /* The client went away: nothing more can be delivered. */
        http_conn_close(c);
        return;
    }
    if (evbuffer_get_length(c->out) == 0) {
        if (c->wr_on) {
            event_del(c->ev_wr);
            c->wr_on = false;
        }
        if (c->closing && c->txn == NULL && !c->lingering)
            conn_linger(c);
        return;
    }
    if (!c->wr_on) {
        event_add(c->ev_wr, NULL);
        c->wr_on = true;
    }
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    struct http_txn *t;

    http_conn_enter(c);
    t = c->txn;
    if (t != NULL && t->resp_splice && t->srv != NULL) {
        /* <out> is empty while the body is spliced */
        t->srv->last_io = sk_now_msec();
        http_txn_splice_pump(t);
        http_conn_leave(c);
        return;
    }
    http_conn_flush(c);
    t = c->txn;
    if (!c->closed && t != NULL && t->srv != NULL) {
        t->srv->last_io = sk_now_msec();
        if (http_txn_splice_start(t)) {
            /* the body moves by splice from here on */
        } else if (evbuffer_get_length(c->out) < HTTP_LOW_WATER) {
            /* Bytes the pump left behind when <out> was full wait in
             * srv->in; the server may have nothing more to send, so no
             * read event would bring them: move them now. */
            if (t->state == TXN_FORWARD && t->resp_head_done &&
                evbuffer_get_length(t->srv->in) > 0)
                http_txn_on_response(t);
            else
                http_srv_update_read(t->srv);
        }
    }
    http_conn_leave(c);
}

/*
 * On an http_port shared with SOCKS, a first byte of 4 or 5 (the SOCKS
 * version; no HTTP method starts with a control character) hands the
 * connection, with what was read, to the SOCKS server.  Return true if it
 * did: <c> is then closed without its socket.
 */
static bool
conn_maybe_socks(struct http_conn *c)
{
    unsigned char first;
    int fd = c->fd;

    if (!(c->port->flags & CONF_PORT_F_SOCKS) || c->nreq > 0 ||
        c->txn != NULL || evbuffer_copyout(c->in, &first, 1) != 1 ||
        (first != 4 && first != 5))
        return false;
    c->fd = -1;
    socks_accept(c->w, c->port, fd, &c->peer, c->in);
    http_conn_close(c);
    return true;
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    int n;

    http_conn_enter(c);
    if (c->lingering) {
        conn_linger_read(c, fd);
        goto out;
    }
    n = http_read(c->in, fd, HTTP_READ_SIZE);
    if (n > 0 && conn_maybe_socks(c))
        goto out;
    if (n == 0) {
        c->rd_eof = true;
    } else if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            http_conn_close(c);
            goto out;
        }
    }
    conn_process(c);
    if (!c->closed)
        http_conn_update_read(c);
out:
    http_conn_leave(c);
}

static void
conn_arm_timer(struct http_conn *c, sk_msec_t ms)
{
    struct timeval tv = sk_msec_tv(ms);

    if (ms > 0)
        event_add(c->ev_tm, &tv);
    else
        event_del(c->ev_tm);
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    struct http_txn *t = c->txn;

    http_conn_enter(c);
    if (c->lingering) {
        /* Each read re-arms the timer: the client was idle too long, or
         * the whole linger is over. */
        http_conn_close(c);
    } else if (t == NULL) {
        sk_debug(SK_SEC_HTTP, 3, "client idle timeout");
        http_conn_close(c);
    } else if (t->state != TXN_TUNNEL) {
        sk_notice(SK_SEC_HTTP, "client_lifetime exceeded for %s",
                  t->rec.url ? t->rec.url : "-");
        http_txn_abort(t);
    }
    http_conn_leave(c);
}

static void
conn_on_stop(struct worker_conn_link *l)
{
    struct http_conn *c = (struct http_conn *)
        ((char *)l - offsetof(struct http_conn, link));

    if (c->txn == NULL && (c->out == NULL ||
                           evbuffer_get_length(c->out) == 0)) {
        http_conn_enter(c);
        http_conn_close(c);
        http_conn_leave(c);
    }
}

void
http_accept(struct worker *w, const struct conf_http_port *port, int fd,
            const struct sockaddr_storage *peer)
{
    struct http_conn *c = sk_calloc(1, sizeof(*c));

    c->magic = HTTP_CONN_MAGIC;
    c->w = w;
    c->conf = conf_ref(w->conf);
    c->fd = fd;
    c->peer = *peer;
    worker_accepted_local(port, fd, &c->local);
    worker_accepted_nodelay(fd);
    c->port = port;
    c->born = sk_now_msec();
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    c->ev_rd = event_new(w->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    c->ev_wr = event_new(w->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb,
                         c);
    c->ev_tm = event_new(w->base, -1, 0, conn_timer_cb, c);
    c->link.on_stop = conn_on_stop;
    worker_conn_add(w, &c->link);
    c->rd_on = true;
    event_add(c->ev_rd, NULL);
    conn_arm_timer(c, c->conf->request_timeout);
    if (http_intercept_accept(c) == -1) {
        http_conn_close(c);
        return;
    }
    /* The client speaks first and has usually sent its request by the
     * time the connection is accepted: read it now rather than after a
     * trip through the event loop. */
    conn_read_cb(fd, EV_READ, c);
}

/* ---- transactions ---- */

static const char *
rec_hdr_lookup(const void *ctx, const char *name, size_t *len)
{
    const struct http_txn *t = ctx;
    const struct http_hdr *h = http_msg_find_name(&t->req, t->head, name);

    if (h == NULL)
        return NULL;
    *len = h->value.len;
    return t->head + h->value.off;
}

static const char *
rec_rep_lookup(const void *ctx, const char *name, size_t *len)
{
    const struct http_txn *t = ctx;
    const struct http_hdr *h;

    if (t->resp_head == NULL)
        return NULL;
    h = http_msg_find_name(&t->resp, t->resp_head, name);
    if (h == NULL)
        return NULL;
    *len = h->value.len;
    return t->resp_head + h->value.off;
}

static struct http_txn *
txn_new(struct http_conn *c)
{
    struct http_txn *t = sk_calloc(1, sizeof(*t) + 2 * sizeof(struct
                                                              rec_headers));
    struct rec_headers *rh = (struct rec_headers *)(t + 1);

    t->c = c;
    t->arena = sk_arena_new(2048);
    t->resp_pipe.rfd = t->resp_pipe.wfd = -1;
    t->rec.client = c->peer;
    t->rec.local = c->local;
    t->rec.listener_name = c->port->name;
    t->rec.listener_port = sk_addr_port((const struct sockaddr *)
                                        &c->port->addr);
    sk_wallclock(&t->rec.start);
    t->rec.start_ms = sk_now_msec();
    t->rec.proto = "http";
    rh[0].ctx = t;
    rh[0].lookup = rec_hdr_lookup;
    rh[1].ctx = t;
    rh[1].lookup = rec_rep_lookup;
    t->rec.req_headers = &rh[0];
    t->rec.rep_headers = &rh[1];
    c->txn = t;
    c->nreq++;
    return t;
}

/* Log <t>, release it and get the connection ready for the next request. */
void
http_txn_finish(struct http_txn *t)
{
    struct http_conn *c = t->c;
    struct http_srv *s = t->srv;

    t->rec.duration_ms = sk_now_msec() - t->rec.start_ms;
    if (t->rec.result == NULL)
        t->rec.result = "TCP_MISS";
    access_log_write(c->conf, &t->rec);

    if (s != NULL) {
        t->srv = NULL;
        s->txn = NULL;
        /* A pipelined request is about to take a pooled connection in
         * this very call: make sure this one is clean first. */
        if (evbuffer_get_length(c->in) > 0)
            http_srv_check_clean(s);
        if (t->resp_done && t->req_done && !s->rd_eof &&
            t->resp.body != HTTP_BODY_CLOSE &&
            !(t->resp.flags & HTTP_F_CONN_CLOSE) &&
            t->resp.version_minor == 1 &&
            evbuffer_get_length(s->in) == 0 && !t->no_pool &&
            !worker_is_stopping(c->w))
            http_pool_put(c->w->pool, s);
        else
            http_srv_close(s);
    }
    if (!t->keepalive || !t->req_done || worker_is_stopping(c->w))
        c->closing = true;
    /* Closing a connection the client meant to keep (it may pipeline
     * the next request any moment), or with a request body unread: the
     * client may still be sending. */
    if (!t->req_done || t->client_persist)
        c->linger_wanted = true;
    txn_free(t);
    if (c->closed)
        return;
    conn_arm_timer(c, c->conf->client_idle_pconn_timeout);
    http_conn_flush(c);
    if (c->closed)
        return;
    if (!c->in_process)
        conn_process(c);
    if (!c->closed)
        http_conn_update_read(c);
}

/* Give up on <t> after its response has started: close the client. */
void
http_txn_abort(struct http_txn *t)
{
    struct http_conn *c = t->c;

    if (!t->resp_head_done) {
        http_error_reply(t, 502, "ERR_READ_ERROR", "transfer aborted",
                         true);
        return;
    }
    t->rec.duration_ms = sk_now_msec() - t->rec.start_ms;
    if (t->rec.result == NULL)
        t->rec.result = "TCP_MISS_ABORTED";
    access_log_write(c->conf, &t->rec);
    /* Hand over what already arrived, then close: the client sees the
     * message end early, never a message that looks complete. */
    c->closing = true;
    if (!t->req_done || t->client_persist)
        c->linger_wanted = true;
    txn_free(t);
    http_conn_flush(c);
}

/* Map a parse error to the status and error page Squid would use. */
static void
parse_error_status(enum http_perr e, int *status, const char **name)
{
    *name = "ERR_INVALID_REQ";
    switch (e) {
    case HTTP_PERR_TOO_BIG:
    case HTTP_PERR_TOO_MANY_HEADERS:
        *status = 431;
        *name = "ERR_TOO_BIG";
        break;
    case HTTP_PERR_LINE_TOO_LONG:
        *status = 414;
        *name = "ERR_TOO_BIG";
        break;
    case HTTP_PERR_BAD_VERSION:
        *status = 505;
        *name = "ERR_UNSUP_HTTPVERSION";
        break;
    case HTTP_PERR_BAD_TARGET:
        *status = 400;
        *name = "ERR_INVALID_URL";
        break;
    default:
        *status = 400;
        break;
    }
}

/*
 * Tell apart what the parser reports together: a field line that is too
 * long is 431, only an over-long request line is 414 (RFC 9112 section
 * 3); a version that is not "HTTP/" DIGIT "." DIGIT at all is a malformed
 * request (400), a well-formed one we do not speak is 505.
 */
static int
refine_status(const char *p, size_t len, enum http_perr e, size_t max_line,
              int status)
{
    const char *nl = memchr(p, '\n', SK_MIN(len, max_line + 2));
    const char *v;

    if (e == HTTP_PERR_LINE_TOO_LONG && nl != NULL)
        return 431;
    if (e == HTTP_PERR_BAD_VERSION && nl != NULL) {
        v = nl;
        while (v > p && v[-1] != ' ')
            v--;
        if (nl - v < 8 || memcmp(v, "HTTP/", 5) != 0 ||
            v[5] < '0' || v[5] > '9' || v[6] != '.' ||
            v[7] < '0' || v[7] > '9')
            return 400;
    }
    return status;
}

/*
 * Parse a request head from the start of <c->in>.  Return SKUA_OK with a
 * new transaction, SKUA_AGAIN for more bytes, SKUA_ERROR when an error
 * reply has been queued.
 */
static int
conn_parse_request(struct http_conn *c)
{
    struct http_hdr hdrs[HTTP_MAX_HDRS];
    struct http_limits lim;
    struct http_msg msg;
    enum http_perr perr = HTTP_PERR_NONE;
    struct evbuffer_iovec v;
    size_t len = evbuffer_get_length(c->in);
    const char *p;
    struct http_txn *t;
    int r, status;
    const char *name;

    lim.max_head = c->conf->request_header_max_size;
    lim.max_line = lim.max_head;
    lim.max_hdrs = HTTP_MAX_HDRS;
    memset(&msg, 0, sizeof(msg));
    msg.hdrs = hdrs;
    msg.max_hdrs_alloc = HTTP_MAX_HDRS;

    /* Parse in place when the first chain holds everything received (the
     * usual case); otherwise make a bounded contiguous copy. */
    if (evbuffer_peek(c->in, -1, NULL, &v, 1) >= 1 && v.iov_len == len) {
        p = v.iov_base;
    } else {
        size_t n = SK_MIN(len, lim.max_head + 1);
        p = (const char *)evbuffer_pullup(c->in, (ev_ssize_t)n);
        len = n;
    }
    r = http_parse_request(p, len, &lim, &msg, &perr);
    if (r == SKUA_AGAIN)
        return SKUA_AGAIN;

    t = txn_new(c);
    if (r != SKUA_OK) {
        parse_error_status(perr, &status, &name);
        status = refine_status(p, len, perr, lim.max_line, status);
        if (status == 400 && perr == HTTP_PERR_BAD_VERSION)
            name = "ERR_INVALID_REQ";
        t->rec.method = "NONE";
        t->rec.url = "error:invalid-request";
        t->rec.result = "TAG_NONE";
        evbuffer_drain(c->in, evbuffer_get_length(c->in));
        http_error_reply(t, status, name, http_perr_str(perr), true);
        return SKUA_ERROR;
    }
    t->head = sk_arena_memdup(t->arena, p, msg.head_len);
    t->req = msg;
    t->req.hdrs = sk_arena_memdup(t->arena, hdrs,
                                  msg.n_hdrs * sizeof(hdrs[0]));
    t->rec.bytes_in = msg.head_len;
    evbuffer_drain(c->in, msg.head_len);
    return SKUA_OK;
}

static char *
span_dup(struct http_txn *t, struct sk_span s)
{
    return sk_arena_strndup(t->arena, t->head + s.off, s.len);
}

static const char *
hdr_value(struct http_txn *t, enum http_hdr_id id)
{
    const struct http_hdr *h = http_msg_find(&t->req, id);

    return h ? span_dup(t, h->value) : NULL;
}

/* Fill the record from the parsed request; return -1 after replying. */
static int
txn_describe(struct http_txn *t)
{
    const struct http_msg *m = &t->req;
    char *host;
    size_t i;

    t->rec.method = span_dup(t, m->method_s);
    t->rec.http_minor = m->version_minor;
    t->rec.referer = hdr_value(t, HTTP_H_REFERER);
    t->rec.user_agent = hdr_value(t, HTTP_H_USER_AGENT);

    switch (m->form) {
    case HTTP_FORM_AUTHORITY:
        t->rec.dst_how = REC_DST_CONNECT;
        t->port = m->port;
        t->rec.url = span_dup(t, m->target);
        t->rec.urlpath = "";
        break;
    case HTTP_FORM_ABSOLUTE:
        t->rec.dst_how = REC_DST_ABSOLUTE_URI;
        t->rec.url = span_dup(t, m->target);
        t->rec.urlpath = m->path.len ? span_dup(t, m->path) : "/";
        if (sk_str_ieq(t->head + m->scheme.off, m->scheme.len, "https")) {
            t->rec.proto = "https";
            t->port = m->port ? m->port : 443;
        } else {
            t->port = m->port ? m->port : 80;
        }
        break;
    default:
        if (t->c->icpt & HTTP_ICPT_ON)
            return http_intercept_describe(t);
        t->rec.url = span_dup(t, m->target);
        t->rec.urlpath = t->rec.url;
        http_error_reply(t, 400, "ERR_INVALID_URL",
                         "a proxy request needs an absolute URI", false);
        return -1;
    }
    /* Host names are case-insensitive; keep one spelling for the pool
     * key, policy and the log. */
    host = span_dup(t, m->host);
    for (i = 0; host[i] != '\0'; i++)
        if (host[i] >= 'A' && host[i] <= 'Z')
            host[i] = (char)(host[i] + 32);
    if (i > 0 && host[i - 1] == '.')
        host[i - 1] = '\0';
    t->host = host;
    t->rec.dst_host = host;
    t->rec.dst_port = t->port;
    return 0;
}

/* Checks that need no policy: limits, loops, methods we answer. */
static int
txn_precheck(struct http_txn *t)
{
    struct conf *conf = t->c->conf;
    const struct http_msg *m = &t->req;

    if (http_intercept_precheck(t) == -1)
        return -1;
    if (m->form != HTTP_FORM_AUTHORITY &&
        strcmp(t->rec.proto, "https") == 0) {
        http_error_reply(t, 501, "ERR_UNSUP_REQ",
                         "https:// URLs need a CONNECT tunnel", false);
        return -1;
    }
    if (conf->request_body_max_size > 0 && m->body == HTTP_BODY_LENGTH &&
        m->content_length > conf->request_body_max_size) {
        http_error_reply(t, 413, "ERR_TOO_BIG",
                         "request body larger than request_body_max_size",
                         true);
        return -1;
    }
    if (conf->visible_hostname != NULL &&
        http_fwd_is_loop(t->head, m, conf->visible_hostname)) {
        sk_notice(SK_SEC_HTTP, "forwarding loop detected for %s",
                  t->rec.url);
        http_error_reply(t, 403, "ERR_LOOP_DETECTED",
                         "forwarding loop detected", false);
        return -1;
    }
    return 0;
}

static void
txn_deny(struct http_txn *t)
{
    t->rec.result = "TCP_DENIED";
    http_error_reply(t, 403, "ERR_ACCESS_DENIED", "access denied by policy",
                     false);
}

static void
txn_dns_cb(const struct dns_result *res, void *arg)
{
    struct http_txn *t = arg;
    struct http_conn *c = t->c;
    struct acl_dst dst;

    http_conn_enter(c);
    t->dq = NULL;
    if (res->status != DNS_OK || res->n == 0) {
        http_error_reply(t, 503, "ERR_DNS_FAIL",
                         res->error ? res->error : "no address", false);
        goto out;
    }
    t->addrs = sk_arena_memdup(t->arena, res, sizeof(*res));
    if (t->acl_needs_dns) {
        dst.addrs = t->addrs->addrs;
        dst.n = t->addrs->n;
        dst.resolved = true;
        if (acl_check(c->conf->http_access, &t->rec, &dst) != ACL_ALLOWED) {
            txn_deny(t);
            goto out;
        }
        t->acl_needs_dns = false;
    }
    http_txn_route(t);
out:
    http_conn_leave(c);
}

static void
txn_connect_cb(int fd, int err, const struct sockaddr_storage *peer,
               void *arg)
{
    struct http_txn *t = arg;
    struct http_conn *c = t->c;
    char key[300];

    http_conn_enter(c);
    t->cc = NULL;
    if (fd == -1) {
        http_error_reply(t, err == ETIMEDOUT ? 504 : 503, "ERR_CONNECT_FAIL",
                         strerror(err), false);
        goto out;
    }
    t->rec.server = *peer;
    t->rec.hier = REC_HIER_DIRECT;
    if (t->state == TXN_CONNECTING && t->req.method == HTTP_M_CONNECT) {
        http_tunnel_start(t, fd, peer);
        goto out;
    }
    http_fwd_key(key, sizeof(key), t->host, t->port);
    http_srv_attach(http_srv_new(c->w, fd, key, peer), t);
    t->reused = false;
    http_txn_send_request(t);
out:
    http_conn_leave(c);
}

/*
 * Resolve the destination; txn_dns_cb() continues, possibly before this
 * returns, in which case <t> may be gone: touch nothing after.
 */
static void
txn_resolve(struct http_txn *t)
{
    struct dns_query *q = NULL;

    t->state = TXN_DNS;
    if (dns_resolve(t->c->w->dns, t->host, txn_dns_cb, t, &q) == SKUA_AGAIN)
        t->dq = q;
}

/* Choose the source address for this destination (tcp_outgoing_address). */
static void
txn_outgoing(struct http_txn *t, struct comm_connect_opts *o)
{
    struct acl_dst dst = { t->addrs->addrs, t->addrs->n, true };

    acl_outgoing(t->c->conf->tcp_outgoing, &t->rec, &dst, &o->src4, &o->src6);
}

void
http_txn_route(struct http_txn *t)
{
    struct http_conn *c = t->c;
    struct comm_connect_opts o;
    struct sockaddr_storage spoof;
    struct http_srv *s;
    char key[300];

    if (http_intercept_route(t) != SKUA_OK)
        return;
    if (t->req.method != HTTP_M_CONNECT && !t->retried && !t->no_pool) {
        http_fwd_key(key, sizeof(key), t->host, t->port);
        s = http_pool_get(c->w->pool, key);
        if (s != NULL) {
            t->rec.server = s->peer;
            t->rec.hier = REC_HIER_DIRECT;
            http_srv_attach(s, t);
            t->reused = true;
            http_txn_send_request(t);
            return;
        }
    }
    if (t->addrs == NULL) {
        txn_resolve(t);
        return;
    }
    t->state = TXN_CONNECTING;
    memset(&o, 0, sizeof(o));
    o.timeout = c->conf->connect_timeout;
    txn_outgoing(t, &o);
    http_intercept_outgoing(t, &o, &spoof);
    t->cc = comm_connect_start(c->w->base, t->addrs->addrs, t->addrs->n,
                               t->port, &o, txn_connect_cb, t);
    if (t->cc == NULL)
        http_error_reply(t, 503, "ERR_CONNECT_FAIL", strerror(errno), false);
}

/* A reused server connection died before answering: try a fresh one. */
void
http_txn_retry(struct http_txn *t)
{
    t->retried = true;
    t->resp_head_done = false;
    t->state = TXN_HEAD;
    http_txn_route(t);
}

/* Answer TRACE / OPTIONS with Max-Forwards: 0 ourselves (RFC 9110 7.6.2). */
static int
txn_max_forwards(struct http_txn *t)
{
    const struct http_hdr *h;
    struct evbuffer *out = t->c->out;
    uint64_t v;

    if (t->req.method != HTTP_M_TRACE && t->req.method != HTTP_M_OPTIONS)
        return 0;
    h = http_msg_find(&t->req, HTTP_H_MAX_FORWARDS);
    if (h == NULL || sk_parse_u64(t->head + h->value.off, h->value.len,
                                  &v) == -1 || v != 0)
        return 0;
    t->state = TXN_REPLIED;
    t->rec.result = "TCP_MISS";
    t->rec.status = 200;
    t->req_done = t->req.body == HTTP_BODY_NONE;
    t->keepalive = t->req_done;
    if (t->req.method == HTTP_M_TRACE) {
        t->rec.content_type = "message/http";
        evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nContent-Type: "
                            "message/http\r\nContent-Length: %zu\r\n\r\n",
                            t->req.head_len);
        evbuffer_add(out, t->head, t->req.head_len);
    } else {
        evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nAllow: GET, HEAD, POST, "
                            "PUT, DELETE, OPTIONS, TRACE, CONNECT\r\n"
                            "Content-Length: 0\r\n\r\n");
    }
    t->resp_head_done = true;
    t->resp_done = true;
    http_txn_finish(t);
    return -1;
}

static void
txn_start(struct http_txn *t)
{
    struct http_conn *c = t->c;
    const struct http_msg *m = &t->req;
    enum acl_answer a;

    /* A connection already past client_lifetime gets 1 ms: the timer
     * then ends it, rather than no timer at all. */
    conn_arm_timer(c, SK_MAX(1, c->conf->client_lifetime -
                                (sk_now_msec() - c->born)));
    t->keepalive = m->version_minor == 1
        ? !(m->flags & (HTTP_F_CONN_CLOSE | HTTP_F_PROXY_CLOSE))
        : (m->flags & (HTTP_F_CONN_KEEPALIVE | HTTP_F_PROXY_KEEPALIVE)) != 0;
    t->client_persist = t->keepalive;
    if (m->body == HTTP_BODY_LENGTH) {
        t->req_left = m->content_length;
        t->req_done = m->content_length == 0;
    } else if (m->body == HTTP_BODY_CHUNKED) {
        http_chunked_init(&t->req_chunk, c->conf->request_header_max_size,
                          c->conf->request_header_max_size);
    } else {
        t->req_done = true;
    }
    if (txn_describe(t) == -1 || txn_precheck(t) == -1)
        return;
    a = acl_check(c->conf->http_access, &t->rec, NULL);
    if (a == ACL_DENIED) {
        txn_deny(t);
        return;
    }
    if (txn_max_forwards(t) == -1)
        return;
    t->acl_needs_dns = a == ACL_NEED_DNS;
    if (t->acl_needs_dns) {
        txn_resolve(t);
        return;
    }
    http_txn_route(t);
}

/*
 * Drive the connection: start transactions from buffered requests (one at
 * a time, in order), feed request bodies, notice the client's EOF.
 */
static void
conn_process(struct http_conn *c)
{
    c->in_process = true;
    while (!c->closed) {
        struct http_txn *t = c->txn;

        if (t != NULL) {
            if (t->state == TXN_FORWARD && !t->req_done)
                http_txn_pump_request(t);
            else if (c->rd_eof && !t->req_done && t->state != TXN_TUNNEL)
                http_txn_abort(t);  /* body cut short */
            break;
        }
        if (c->closing)
            break;
        if (evbuffer_get_length(c->in) == 0) {
            if (c->rd_eof) {
                /* Deliver what is queued, then close. */
                c->closing = true;
                http_conn_flush(c);
            }
            break;
        }
        if (conn_parse_request(c) == SKUA_AGAIN) {
            if (c->rd_eof) {
                c->closing = true;      /* a partial request, then EOF */
                http_conn_flush(c);
            } else if (c->nreq > 0)
                conn_arm_timer(c, c->conf->request_timeout);
            break;
        }
        if (c->txn != NULL && c->txn->state == TXN_HEAD &&
            c->txn->rec.status == 0)
            txn_start(c->txn);
    }
    if (!c->closed)
        c->in_process = false;
}
