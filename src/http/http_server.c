/*
 * http_server.c -- the server side of the HTTP proxy: one connection to an
 * origin, the per-worker pool of idle ones, sending the request and
 * relaying the response with its framing checked.
 *
 * Not here: accepting clients and policy (http_client.c), rewriting heads
 * (http_forward.c).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "sk_arena.h"
#include "sk_log.h"
#include "sk_str.h"
#include "sk_time.h"
#include "comm/worker.h"
#include "conf/conf.h"
#include "http/http.h"

#define POOL_BUCKETS 256u
#define POOL_MAX_IDLE 1024u     /* per worker */

/*
 * Idle connections hang off hash buckets by "host:port", newest first, so
 * a reused connection is the one most likely still open.  Finding the
 * oldest scans every bucket, which only happens when the pool is full.
 */
struct http_pool {
    struct worker *w;
    struct http_srv *bucket[POOL_BUCKETS];
    unsigned n_idle;
};

static unsigned
pool_hash(const char *key)
{
    unsigned h = 2166136261u;

    for (; *key != '\0'; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h % POOL_BUCKETS;
}

static void
srv_read_cb(evutil_socket_t fd, short what, void *arg);
static void
srv_write_cb(evutil_socket_t fd, short what, void *arg);
static void
srv_timer_cb(evutil_socket_t fd, short what, void *arg);

struct http_srv *
http_srv_new(struct worker *w, int fd, const char *key,
             const struct sockaddr_storage *peer)
{
    struct http_srv *s = sk_calloc(1, sizeof(*s));

    s->magic = HTTP_SRV_MAGIC;
    s->w = w;
    s->fd = fd;
    s->key = sk_strdup(key);
    s->peer = *peer;
    s->in = evbuffer_new();
    s->out = evbuffer_new();
    s->ev_rd = event_new(w->base, fd, EV_READ | EV_PERSIST, srv_read_cb, s);
    s->ev_wr = event_new(w->base, fd, EV_WRITE | EV_PERSIST, srv_write_cb,
                         s);
    s->ev_tm = event_new(w->base, -1, 0, srv_timer_cb, s);
    s->last_io = sk_now_msec();
    return s;
}

static void
pool_unlink(struct http_pool *p, struct http_srv *s)
{
    if (s->pprev != NULL)
        s->pprev->pnext = s->pnext;
    else
        p->bucket[pool_hash(s->key)] = s->pnext;
    if (s->pnext != NULL)
        s->pnext->pprev = s->pprev;
    s->pnext = s->pprev = NULL;
    p->n_idle--;
}

void
http_srv_close(struct http_srv *s)
{
    if (s == NULL)
        return;
    if (s->txn == NULL && (s->pnext != NULL || s->pprev != NULL ||
                           s->w->pool->bucket[pool_hash(s->key)] == s))
        pool_unlink(s->w->pool, s);
    event_free(s->ev_rd);
    event_free(s->ev_wr);
    event_free(s->ev_tm);
    evbuffer_free(s->in);
    evbuffer_free(s->out);
    close(s->fd);
    free(s->key);
    s->magic = 0;
    free(s);
}

struct http_pool *
http_pool_new(struct worker *w)
{
    struct http_pool *p = sk_calloc(1, sizeof(*p));

    p->w = w;
    return p;
}

void
http_pool_free(struct http_pool *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i < POOL_BUCKETS; i++)
        while (p->bucket[i] != NULL)
            http_srv_close(p->bucket[i]);
    free(p);
}

struct http_srv *
http_pool_get(struct http_pool *p, const char *key)
{
    struct http_srv *s;

    for (s = p->bucket[pool_hash(key)]; s != NULL; s = s->pnext) {
        if (strcmp(s->key, key) != 0)
            continue;
        /* The read event stays on: the transaction wants the answer, and
         * leaving it saves two epoll_ctl calls per reused request. */
        pool_unlink(p, s);
        event_del(s->ev_tm);
        return s;
    }
    return NULL;
}

/* Close the connection that has been idle longest. */
static void
pool_evict_oldest(struct http_pool *p)
{
    struct http_srv *s, *old = NULL;

    for (unsigned i = 0; i < POOL_BUCKETS; i++)
        for (s = p->bucket[i]; s != NULL; s = s->pnext)
            if (old == NULL || s->last_io < old->last_io)
                old = s;
    if (old != NULL)
        http_srv_close(old);
}

void
http_pool_put(struct http_pool *p, struct http_srv *s)
{
    struct timeval tv;
    unsigned b = pool_hash(s->key);
    sk_msec_t idle = s->w->conf->server_idle_pconn_timeout;

    if (idle <= 0) {
        http_srv_close(s);
        return;
    }
    if (p->n_idle >= POOL_MAX_IDLE)
        pool_evict_oldest(p);
    s->txn = NULL;
    s->got_bytes = false;
    s->last_io = sk_now_msec();
    s->pprev = NULL;
    s->pnext = p->bucket[b];
    if (s->pnext != NULL)
        s->pnext->pprev = s;
    p->bucket[b] = s;
    p->n_idle++;
    /* Watch the idle socket: any byte or EOF from the server now means
     * the connection can no longer be reused. */
    if (!s->rd_on) {
        event_add(s->ev_rd, NULL);
        s->rd_on = true;
    }
    if (s->wr_on) {
        event_del(s->ev_wr);
        s->wr_on = false;
    }
    tv = sk_msec_tv(idle);
    event_add(s->ev_tm, &tv);
}

void
http_srv_attach(struct http_srv *s, struct http_txn *t)
{
    s->txn = t;
    s->got_bytes = false;
    s->nreq++;
    t->srv = s;
}

void
http_srv_update_read(struct http_srv *s)
{
    struct http_txn *t = s->txn;
    bool want;

    if (t == NULL)
        want = true;
    else if (s->rd_eof || t->resp_done)
        want = false;
    else if (t->resp_splice)
        /* Bytes left in the pipe mean the client is full: read again
         * once it has taken them (the pump always writes first). */
        want = t->resp_pipe.in_pipe == 0 &&
               (t->resp.body != HTTP_BODY_LENGTH || t->resp_left > 0);
    else
        want = evbuffer_get_length(t->c->out) < HTTP_HIGH_WATER;
    if (want == s->rd_on)
        return;
    s->rd_on = want;
    if (want)
        event_add(s->ev_rd, NULL);
    else
        event_del(s->ev_rd);
}

void
http_srv_check_clean(struct http_srv *s)
{
    char b;
    ssize_t k;

    if (s->rd_eof)
        return;
    k = recv(s->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (k >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
                   errno != EINTR))
        s->rd_eof = true;
}

void
http_srv_flush(struct http_srv *s)
{
    int n;

    while (evbuffer_get_length(s->out) > 0) {
        n = evbuffer_write(s->out, s->fd);
        if (n > 0)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EINTR))
            break;
        /* The write failed; the read side will see the reset or EOF and
         * decide (retry, error page or abort). */
        evbuffer_drain(s->out, evbuffer_get_length(s->out));
        break;
    }
    if (evbuffer_get_length(s->out) == 0) {
        if (s->wr_on) {
            event_del(s->ev_wr);
            s->wr_on = false;
        }
    } else if (!s->wr_on) {
        event_add(s->ev_wr, NULL);
        s->wr_on = true;
    }
}

static void
srv_arm_read_timer(struct http_srv *s, sk_msec_t ms)
{
    struct timeval tv = sk_msec_tv(ms);

    if (ms > 0)
        event_add(s->ev_tm, &tv);
}

void
http_txn_send_request(struct http_txn *t)
{
    struct http_conn *c = t->c;
    struct http_srv *s = t->srv;
    struct conf *conf = c->conf;
    char ip[SK_ADDRSTRLEN];
    char via[300];
    struct http_fwd f;

    memset(&f, 0, sizeof(f));
    if (conf->via) {
        f.via = http_fwd_via(via, sizeof(via), t->req.version_minor,
                             conf->visible_hostname);
    }
    f.client_ip = sk_addr_str((const struct sockaddr *)&c->peer, ip,
                              sizeof(ip));
    f.forwarded_for = conf->forwarded_for;
    f.host = http_intercept_fwd_host(t);
    t->rec.server_bytes_out += http_fwd_request(s->out, t->head, &t->req, &f);
    t->state = TXN_FORWARD;
    if ((t->req.flags & HTTP_F_EXPECT_100) && t->req.version_minor == 1 &&
        !t->req_done && !t->resp_head_done) {
        /* The request is allowed and its server is ready: ask for the
         * body ourselves (as nginx does) rather than rely on an origin
         * that may not know Expect; the field is not forwarded. */
        evbuffer_add(c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        http_conn_flush(c);
        if (c->closed)
            return;             /* <t> went with the connection */
    }
    if (http_txn_pump_request(t) != SKUA_OK)
        return;                 /* <t> is gone */
    http_srv_flush(s);
    s->last_io = sk_now_msec();
    srv_arm_read_timer(s, conf->read_timeout);
    http_srv_update_read(s);
}

/* Move up to <n> bytes of request body from the client to the server. */
static void
move_up(struct http_txn *t, size_t n)
{
    evbuffer_remove_buffer(t->c->in, t->srv->out, n);
    t->rec.bytes_in += n;
    t->rec.server_bytes_out += n;
}

int
http_txn_pump_request(struct http_txn *t)
{
    struct http_conn *c = t->c;
    struct http_srv *s = t->srv;
    struct evbuffer_iovec v;
    size_t avail, framing, data;
    int r;

    while (!t->req_done && (avail = evbuffer_get_length(c->in)) > 0 &&
           evbuffer_get_length(s->out) < HTTP_HIGH_WATER) {
        if (t->req.body == HTTP_BODY_LENGTH) {
            size_t n = (size_t)SK_MIN((uint64_t)avail, t->req_left);
            move_up(t, n);
            t->req_left -= n;
            t->req_done = t->req_left == 0;
            continue;
        }
        /* chunked: validate the framing as it passes, forward it as is */
        evbuffer_peek(c->in, -1, NULL, &v, 1);
        r = http_chunked_step(&t->req_chunk, v.iov_base, v.iov_len,
                              &framing, &data);
        if (r == SKUA_ERROR) {
            sk_notice(SK_SEC_HTTP, "bad chunked request body from client");
            s->rd_eof = true;   /* the server saw a partial body */
            http_error_reply(t, 400, "ERR_INVALID_REQ",
                             "malformed chunked request body", true);
            return SKUA_ERROR;
        }
        move_up(t, framing + data);
        t->req_body_bytes += data;
        if (c->conf->request_body_max_size > 0 &&
            t->req_body_bytes > c->conf->request_body_max_size) {
            s->rd_eof = true;
            http_error_reply(t, 413, "ERR_TOO_BIG",
                             "request body larger than "
                             "request_body_max_size", true);
            return SKUA_ERROR;
        }
        if (r == SKUA_DECLINED)
            t->req_done = true;
    }
    http_srv_flush(s);
    http_conn_update_read(c);
    return SKUA_OK;
}

/* ---- response ---- */

/* Parse the response head; return SKUA_OK, SKUA_AGAIN or SKUA_ERROR. */
static int
srv_parse_head(struct http_txn *t)
{
    struct http_srv *s = t->srv;
    struct http_hdr hdrs[HTTP_MAX_HDRS];
    struct http_limits lim;
    struct http_msg msg;
    enum http_perr perr;
    struct evbuffer_iovec v;
    size_t len = evbuffer_get_length(s->in);
    const char *p;
    int r;

    lim.max_head = t->c->conf->reply_header_max_size;
    lim.max_line = lim.max_head;
    lim.max_hdrs = HTTP_MAX_HDRS;
    memset(&msg, 0, sizeof(msg));
    msg.hdrs = hdrs;
    msg.max_hdrs_alloc = HTTP_MAX_HDRS;
    if (evbuffer_peek(s->in, -1, NULL, &v, 1) >= 1 && v.iov_len == len) {
        p = v.iov_base;
    } else {
        len = SK_MIN(len, lim.max_head + 1);
        p = (const char *)evbuffer_pullup(s->in, (ev_ssize_t)len);
    }
    r = http_parse_response(p, len, &lim, t->req.method, &msg, &perr);
    if (r != SKUA_OK) {
        if (r == SKUA_ERROR)
            sk_notice(SK_SEC_HTTP, "invalid response from %s: %s", s->key,
                      http_perr_str(perr));
        return r;
    }
    t->resp_head = sk_arena_memdup(t->arena, p, msg.head_len);
    t->resp = msg;
    t->resp.hdrs = sk_arena_memdup(t->arena, hdrs,
                                   msg.n_hdrs * sizeof(hdrs[0]));
    t->rec.server_bytes_in += msg.head_len;
    evbuffer_drain(s->in, msg.head_len);
    return SKUA_OK;
}

/* Queue the response head for the client; decide the client's framing. */
static void
txn_send_response_head(struct http_txn *t, bool interim)
{
    struct http_conn *c = t->c;
    struct conf *conf = c->conf;
    const struct http_hdr *h;
    struct http_fwd f;
    char via[300];

    memset(&f, 0, sizeof(f));
    if (conf->via) {
        f.via = http_fwd_via(via, sizeof(via), t->resp.version_minor,
                             conf->visible_hostname);
    }
    f.client_http10 = t->req.version_minor == 0;
    if (!interim) {
        if (t->resp.body == HTTP_BODY_CLOSE)
            t->keepalive = false;
        if (t->resp.body == HTTP_BODY_CHUNKED && f.client_http10) {
            t->resp_dechunk = true;
            t->keepalive = false;
        }
        if (!t->req_done)
            t->keepalive = false;
        f.keepalive = t->keepalive;
        f.dechunk = t->resp_dechunk;
        t->rec.status = t->resp.status;
        h = http_msg_find(&t->resp, HTTP_H_CONTENT_TYPE);
        if (h != NULL)
            t->rec.content_type = sk_arena_strndup(
                t->arena, t->resp_head + h->value.off, h->value.len);
    } else {
        f.keepalive = true;
    }
    t->rec.bytes_out += http_fwd_response(c->out, t->resp_head, &t->resp,
                                          &f);
}

/*
 * Move response body bytes to the client per the response framing.
 * Return SKUA_ERROR when <t> has ended (bad framing): touch it no more.
 */
static int
txn_pump_response(struct http_txn *t)
{
    struct http_srv *s = t->srv;
    struct evbuffer *out = t->c->out;
    struct evbuffer_iovec v;
    size_t avail, framing, data, n;
    int r;

    while (!t->resp_done && (avail = evbuffer_get_length(s->in)) > 0 &&
           evbuffer_get_length(out) < HTTP_HIGH_WATER) {
        switch (t->resp.body) {
        case HTTP_BODY_LENGTH:
            n = (size_t)SK_MIN((uint64_t)avail, t->resp_left);
            evbuffer_remove_buffer(s->in, out, n);
            t->rec.bytes_out += n;
            t->rec.server_bytes_in += n;
            t->resp_left -= n;
            t->resp_done = t->resp_left == 0;
            break;
        case HTTP_BODY_CHUNKED:
            evbuffer_peek(s->in, -1, NULL, &v, 1);
            r = http_chunked_step(&t->resp_chunk, v.iov_base, v.iov_len,
                                  &framing, &data);
            if (r == SKUA_ERROR) {
                sk_notice(SK_SEC_HTTP, "bad chunked response from %s",
                          s->key);
                s->rd_eof = true;
                http_txn_abort(t);
                return SKUA_ERROR;
            }
            t->rec.server_bytes_in += framing + data;
            if (t->resp_dechunk) {
                evbuffer_drain(s->in, framing);
                evbuffer_remove_buffer(s->in, out, data);
                t->rec.bytes_out += data;
            } else {
                evbuffer_remove_buffer(s->in, out, framing + data);
                t->rec.bytes_out += framing + data;
            }
            if (r == SKUA_DECLINED)
                t->resp_done = true;
            break;
        default:        /* close-delimited */
            t->rec.server_bytes_in += avail;
            t->rec.bytes_out += avail;
            evbuffer_add_buffer(out, s->in);
            break;
        }
    }
    return SKUA_OK;
}

static void
txn_response_started(struct http_txn *t)
{
    t->resp_head_done = true;
    switch (t->resp.body) {
    case HTTP_BODY_LENGTH:
        t->resp_left = t->resp.content_length;
        t->resp_done = t->resp_left == 0;
        break;
    case HTTP_BODY_CHUNKED:
        http_chunked_init(&t->resp_chunk,
                          t->c->conf->reply_header_max_size,
                          t->c->conf->reply_header_max_size);
        break;
    case HTTP_BODY_CLOSE:
        break;
    default:
        t->resp_done = true;
        break;
    }
}

/* Handle what the server sent (or its EOF) for transaction <t>. */
void
http_txn_on_response(struct http_txn *t)
{
    struct http_conn *c = t->c;
    struct http_srv *s = t->srv;
    int r;

    while (!t->resp_head_done) {
        r = srv_parse_head(t);
        if (r == SKUA_AGAIN) {
            if (!s->rd_eof)
                return;
            if (!s->got_bytes && t->reused && !t->retried &&
                t->req.body == HTTP_BODY_NONE) {
                /* A kept-alive connection closed under us before any
                 * answer: the request can safely go again. */
                t->srv = NULL;
                s->txn = NULL;
                http_srv_close(s);
                http_txn_retry(t);
                return;
            }
            http_error_reply(t, 502, s->got_bytes ? "ERR_INVALID_RESP"
                                                  : "ERR_ZERO_SIZE_OBJECT",
                             "the server closed the connection", true);
            return;
        }
        if (r == SKUA_ERROR) {
            s->rd_eof = true;   /* never reuse it */
            http_error_reply(t, 502, "ERR_INVALID_RESP",
                             "invalid response from the server", false);
            return;
        }
        if (t->resp.status >= 100 && t->resp.status < 200) {
            /* Interim responses go to HTTP/1.1 clients only; 101 needs
             * an Upgrade we never forward. */
            if (t->resp.status == 101) {
                s->rd_eof = true;
                http_error_reply(t, 502, "ERR_INVALID_RESP",
                                 "unexpected 101 Switching Protocols",
                                 false);
                return;
            }
            if (t->req.version_minor == 1)
                txn_send_response_head(t, true);
            continue;
        }
        txn_send_response_head(t, false);
        txn_response_started(t);
    }
    if (txn_pump_response(t) != SKUA_OK)
        return;                 /* <t> is gone */
    if (!t->resp_done && s->rd_eof && evbuffer_get_length(s->in) == 0) {
        if (t->resp.body == HTTP_BODY_CLOSE) {
            t->resp_done = true;
        } else {
            sk_notice(SK_SEC_HTTP, "response from %s cut short", s->key);
            http_txn_abort(t);  /* flushes what arrived, then closes */
            return;
        }
    }
    /* A failed write closes the connection and frees <t> with it. */
    http_conn_flush(c);
    if (c->closed)
        return;
    if (t->resp_done) {
        http_txn_finish(t);
        return;
    }
    if (http_txn_splice_start(t))
        return;
    http_srv_update_read(s);
}

/* ---- spliced response bodies ---- */

/*
 * A body qualifies for splicing when skua only counts its bytes: framed by
 * Content-Length (with enough left to be worth a pipe) or by the close,
 * never chunked (the framing is checked as it passes) and not yet ended.
 */
static bool
txn_splice_eligible(const struct http_txn *t)
{
    if (!t->resp_head_done || t->resp_done || t->resp_splice ||
        t->resp_no_splice || t->srv == NULL || t->srv->rd_eof)
        return false;
    switch (t->resp.body) {
    case HTTP_BODY_LENGTH:
        return t->resp_left >= HTTP_SPLICE_MIN;
    case HTTP_BODY_CLOSE:
        return true;
    default:
        return false;
    }
}

/* Back to the buffered path: the pipe goes back to the pool (closed if
 * not empty); <refused> keeps this body from splicing again. */
static void
txn_splice_end(struct http_txn *t, bool refused)
{
    relay_splice_close(&t->resp_pipe);
    t->resp_splice = false;
    t->resp_no_splice = refused;
}

bool
http_txn_splice_start(struct http_txn *t)
{
    /* Bytes buffered ahead of the body go first, by the buffered path. */
    if (!txn_splice_eligible(t) || evbuffer_get_length(t->srv->in) > 0 ||
        evbuffer_get_length(t->c->out) > 0)
        return false;
    if (relay_splice_open(&t->resp_pipe) == -1) {
        t->resp_no_splice = true;
        return false;
    }
    t->resp_splice = true;
    http_txn_splice_pump(t);
    return true;
}

/*
 * The client socket refused splice: what the pipe holds goes to the
 * client's buffer and the rest of the body takes the buffered path.
 */
static int
txn_splice_fallback(struct http_txn *t)
{
    struct http_conn *c = t->c;
    size_t n = t->resp_pipe.in_pipe;

    sk_debug(SK_SEC_HTTP, 3, "splice refused on the client socket; copying");
    if (relay_splice_to_buf(&t->resp_pipe, c->out) == -1) {
        http_txn_abort(t);
        return SKUA_ERROR;
    }
    t->rec.bytes_out += n;
    txn_splice_end(t, true);
    if (t->resp.body == HTTP_BODY_LENGTH && t->resp_left == 0) {
        t->resp_done = true;    /* all of it is in c->out now */
        http_srv_check_clean(t->srv);
    }
    return SKUA_OK;
}

void
http_txn_splice_pump(struct http_txn *t)
{
    struct http_conn *c = t->c;
    struct http_srv *s = t->srv;
    struct relay_splice *sp = &t->resp_pipe;
    size_t want;
    ssize_t n;
    int i;

    for (i = 0; i < 16; i++) {
        if (sp->in_pipe > 0) {
            n = relay_splice_out(sp, c->fd);
            if (n > 0)
                t->rec.bytes_out += (uint64_t)n;
            if (n == -1 && errno != EAGAIN) {
                if (relay_splice_refused(errno)) {
                    if (txn_splice_fallback(t) != SKUA_OK)
                        return;
                    http_txn_on_response(t);
                    return;
                }
                http_conn_close(c);     /* the client has gone */
                return;
            }
            if (sp->in_pipe > 0)
                break;                  /* the client's window is full */
        }
        want = sp->size;
        if (t->resp.body == HTTP_BODY_LENGTH)
            want = (size_t)SK_MIN((uint64_t)want, t->resp_left);
        if (want == 0 || s->rd_eof)
            break;
        n = relay_splice_in(sp, s->fd, want);
        if (n > 0) {
            if (t->resp.body == HTTP_BODY_LENGTH)
                t->resp_left -= (uint64_t)n;
            t->rec.server_bytes_in += (uint64_t)n;
            s->got_bytes = true;
            s->last_io = sk_now_msec();
            continue;
        }
        if (n == -1 && errno == EAGAIN)
            break;
        if (n == -1 && relay_splice_refused(errno) && sp->in_pipe == 0) {
            /* The server socket refused: back to reading it. */
            txn_splice_end(t, true);
            http_srv_update_read(s);
            return;
        }
        /* End of stream, or a read error: the server is done. */
        s->rd_eof = true;
    }
    if (sp->in_pipe == 0) {
        if (t->resp.body == HTTP_BODY_LENGTH && t->resp_left == 0)
            t->resp_done = true;
        else if (s->rd_eof && t->resp.body == HTTP_BODY_CLOSE)
            t->resp_done = true;
        else if (s->rd_eof) {
            sk_notice(SK_SEC_HTTP, "response from %s cut short", s->key);
            http_txn_abort(t);
            return;
        }
        if (t->resp_done) {
            txn_splice_end(t, false);
            http_srv_check_clean(s);
            http_txn_finish(t);
            return;
        }
    }
    /* Wait for the client while the pipe holds bytes (or a burst ended
     * with bytes in it: the level-triggered event fires again at once). */
    if ((sp->in_pipe > 0) != c->wr_on) {
        c->wr_on = sp->in_pipe > 0;
        if (c->wr_on)
            event_add(c->ev_wr, NULL);
        else
            event_del(c->ev_wr);
    }
    http_srv_update_read(s);
}

/*
 * One read of up to <max> bytes, sized by what the socket holds: libevent
 * 2.1's evbuffer_read() stops at 4096 bytes per call, which makes a large
 * body cost four system calls per 4 KiB.
 */
int
http_read(struct evbuffer *in, int fd, size_t max)
{
    struct evbuffer_iovec v[2];
    size_t want = 4096, first;
    int avail = 0, nv;
    ssize_t n;

    if (ioctl(fd, FIONREAD, &avail) == 0 && (size_t)avail > want)
        want = (size_t)avail;
    if (want > max)
        want = max;
    nv = evbuffer_reserve_space(in, (ev_ssize_t)want, v, 2);
    if (nv < 1) {
        errno = ENOMEM;
        return -1;
    }
    /* The reservation may be larger than asked for. */
    v[0].iov_len = SK_MIN(v[0].iov_len, want);
    if (nv > 1)
        v[1].iov_len = SK_MIN(v[1].iov_len, want - v[0].iov_len);
    n = readv(fd, (struct iovec *)v, nv);
    if (n <= 0)
        return (int)n;
    first = SK_MIN((size_t)n, v[0].iov_len);
    v[0].iov_len = first;
    if (nv > 1)
        v[1].iov_len = (size_t)n - first;
    evbuffer_commit_space(in, v, (size_t)n > first ? 2 : 1);
    return (int)n;
}

/* ---- events ---- */

static void
srv_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_srv *s = arg;
    struct http_txn *t = s->txn;
    struct http_conn *c;
    int n;

    if (t == NULL) {
        /* Idle in the pool: the server closed or sent junk. */
        http_srv_close(s);
        return;
    }
    c = t->c;
    http_conn_enter(c);
    if (t->resp_splice) {
        http_txn_splice_pump(t);
        goto out;
    }
    n = http_read(s->in, fd, HTTP_READ_SIZE);
    if (n > 0) {
        s->got_bytes = true;
        s->last_io = sk_now_msec();
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        s->rd_eof = true;
        s->rd_on = false;
        event_del(s->ev_rd);
    } else {
        goto out;
    }
    http_txn_on_response(t);
out:
    http_conn_leave(c);
}

static void
srv_write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_srv *s = arg;
    struct http_txn *t = s->txn;
    struct http_conn *c;

    if (t == NULL) {
        http_srv_flush(s);
        return;
    }
    c = t->c;
    http_conn_enter(c);
    http_srv_flush(s);
    s->last_io = sk_now_msec();
    if (!t->req_done)
        http_txn_pump_request(t);
    http_conn_leave(c);
}

static void
srv_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_srv *s = arg;
    struct http_txn *t = s->txn;
    struct http_conn *c;
    sk_msec_t rt, idle;

    if (t == NULL) {
        http_srv_close(s);      /* server_idle_pconn_timeout */
        return;
    }
    c = t->c;
    rt = c->conf->read_timeout;
    idle = sk_now_msec() - s->last_io;
    if (idle < rt) {
        srv_arm_read_timer(s, rt - idle);
        return;
    }
    http_conn_enter(c);
    s->rd_eof = true;
    if (!t->resp_head_done)
        http_error_reply(t, 504, "ERR_READ_TIMEOUT",
                         "no answer from the server within read_timeout",
                         false);
    else
        http_txn_abort(t);
    http_conn_leave(c);
}
