/*
 * http_connect.c -- CONNECT tunnels: once the server connection is up,
 * answer "200 Connection established" and hand both sockets to the opaque
 * relay (src/comm/relay.c), then log the tunnel when it ends.
 *
 * The 200 line is given to the relay as bytes pending towards the client,
 * and whatever the client sent after its CONNECT head (often the start of
 * a TLS ClientHello) as bytes pending towards the server, so no byte is
 * lost or reordered at the hand-over.
 */
#include "config.h"

#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "sk_log.h"
#include "sk_time.h"
#include "comm/relay.h"
#include "comm/worker.h"
#include "conf/conf.h"
#include "http/http.h"
#include "log/access_log.h"

static const char established[] =
    "HTTP/1.1 200 Connection established\r\n\r\n";

static void
tunnel_done(const struct relay_stats *st, int err, void *arg)
{
    struct http_txn *t = arg;
    struct http_conn *c = t->c;
    /* b_to_a carries the 200 line, and first whatever was queued before
     * the tunnel: the tail of an earlier pipelined response, counted
     * there already. */
    uint64_t to_client = st->b_to_a > t->tunnel_prefix
                         ? st->b_to_a - t->tunnel_prefix : 0;

    http_conn_enter(c);
    t->relay = NULL;
    t->rec.bytes_out += to_client;
    t->rec.bytes_in += st->a_to_b;
    t->rec.server_bytes_out += st->a_to_b;
    if (to_client > sizeof(established) - 1)
        t->rec.server_bytes_in += to_client - (sizeof(established) - 1);
    t->rec.duration_ms = sk_now_msec() - t->rec.start_ms;
    access_log_write(c->conf, &t->rec);
    sk_debug(SK_SEC_HTTP, 3, "tunnel to %s ended (%s)", t->rec.url,
             err ? strerror(err) : "closed");
    http_conn_close(c);
    http_conn_leave(c);
}

void
http_tunnel_start(struct http_txn *t, int fd,
                  const struct sockaddr_storage *peer)
{
    struct http_conn *c = t->c;
    struct relay_opts o;
    struct evbuffer *to_client = evbuffer_new();

    t->state = TXN_TUNNEL;
    t->rec.status = 200;
    t->rec.result = "TCP_TUNNEL";
    t->rec.server = *peer;
    t->req_done = true;
    /* A response to an earlier pipelined request may still be queued:
     * it goes first, then the 200. */
    t->tunnel_prefix = evbuffer_get_length(c->out);
    evbuffer_add_buffer(to_client, c->out);
    evbuffer_add(to_client, established, sizeof(established) - 1);
    memset(&o, 0, sizeof(o));
    o.idle_timeout = c->conf->read_timeout;

    /* The relay owns the client socket from here on. */
    event_del(c->ev_rd);
    event_del(c->ev_wr);
    event_del(c->ev_tm);
    c->rd_on = c->wr_on = false;
    t->relay = relay_start(c->w->base, c->fd, fd, c->in, to_client, &o,
                           tunnel_done, t);
    c->fd = -1;
    evbuffer_free(to_client);
    if (t->relay == NULL) {
        t->rec.result = "TCP_TUNNEL_ABORTED";
        t->rec.duration_ms = sk_now_msec() - t->rec.start_ms;
        access_log_write(c->conf, &t->rec);
        http_conn_close(c);
        return;
    }
    /* An idle tunnel keeps no buffers of its own. */
    evbuffer_free(c->in);
    evbuffer_free(c->out);
    c->in = c->out = NULL;
    event_free(c->ev_rd);
    event_free(c->ev_wr);
    c->ev_rd = c->ev_wr = NULL;
}
