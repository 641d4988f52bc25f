/*
 * tunnel.c -- intercepted TLS and TCP connections (https_port and
 * tcp_port): recover where the client was going, look at its first bytes,
 * decide, and relay the untouched bytes to the original destination.
 *
 * A session is one accepted connection.  At accept the original
 * destination comes from the port's NAT backend (src/nat/); a connection
 * addressed to skua itself is refused.  Then, on an https_port, the
 * ssl_bump rules run at step 1; peeking reads the ClientHello through the
 * first-bytes classifier (src/proto/sniff.h, which uses tls_parse.h); on a
 * tcp_port the classifier runs on whatever the client sends within
 * sniff_timeout (nothing at all: a server-speaks-first protocol).  What
 * was learned (protocol, SNI, ALPN, HTTP Host) goes into the record.  TLS
 * goes through ssl_bump at steps 2 and 3; bytes that are not TLS on an
 * https_port through on_unsupported_protocol.  A server name is verified
 * against the original destination as Host is on intercepted HTTP
 * (CVE-2009-0801): it must resolve to that address, or the connection is
 * logged as a forgery and, with host_verify_strict, refused.  Policy is
 * http_access (a CONNECT to the destination, as Squid checks intercepted
 * TLS) on https_port and intercept_access on tcp_port.  The connection
 * goes to the original destination only -- never to what a name resolves
 * to -- from the client's address on tproxy ports when spoof_client_ip
 * allows.  The bytes read so far go first, then the relay
 * (src/comm/relay.c) moves the rest.  A connection that is refused or
 * whose server cannot be reached is reset (RST): these clients never
 * asked a proxy for anything, and no page could be shown to them.
 *
 * Lifetime is as on the HTTP and SOCKS sides: every callback brackets its
 * work with tunnel_enter()/tunnel_leave(); tunnel_close() only marks and
 * the last leave frees.  Not done here: decryption, any change to the
 * bytes, caching.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
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
#include "comm/record.h"
#include "comm/relay.h"
#include "comm/worker.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "log/access_log.h"
#include "nat/nat.h"
#include "proto/http_parse.h"
#include "proto/sniff.h"

#define TUNNEL_MAGIC 0x7e11e1a7u
/* Bytes read per wakeup while sniffing. */
#define TUNNEL_READ_CHUNK 4096

enum tunnel_state {
    TUNNEL_S_SNIFF = 0,         /* reading the first bytes */
    TUNNEL_S_WORKING,           /* DNS, connect */
    TUNNEL_S_RELAY              /* the relay owns both sockets */
};

/* What the session will do once it has decided. */
enum tunnel_verdict {
    TUNNEL_V_PEEK = 0,          /* read (more of) the first bytes */
    TUNNEL_V_SPLICE,            /* connect and relay */
    TUNNEL_V_TERMINATE          /* reset */
};

struct tunnel {
    unsigned magic;
    struct worker_conn_link link;
    struct worker *w;
    struct conf *conf;                  /* a reference */
    const struct conf_http_port *port;  /* the listener's line, in conf */
    int fd;
    struct sockaddr_storage peer;       /* as accepted (may be mapped) */
    struct sockaddr_storage orig_dst;   /* plain AF_INET or AF_INET6 */
    struct event *ev_rd, *ev_tm;
    struct evbuffer *in;                /* first bytes, relayed first */
    enum tunnel_state state;
    sk_msec_t first_byte_ms;            /* when bytes first came; 0 */
    bool rd_eof;
    struct rec rec;

    struct dns_query *dq;
    struct comm_connect *cc;
    struct relay *relay;
    struct sockaddr_storage src;        /* spoofed source, if any */

    unsigned busy;
    bool closed;
    bool logged;

    /* the record's strings */
    char dst_ip[SK_ADDRSTRLEN];
    char url[TLS_SNI_MAX + 16];
    char sni[TLS_SNI_MAX + 1];
    char alpn[TLS_ALPN_NAME_MAX + 1];
    char host[SNIFF_HOST_MAX + 1];     /* HTTP Host, without a port */
    const char *vname;                  /* the name to verify: sni, host
                                           or NULL */
    enum rec_dst_source vhow;           /* how it was learned */
};

static void tunnel_decide(struct tunnel *t, const struct sniff_result *r);
static void tunnel_connect(struct tunnel *t);

/* ---- life cycle ---- */

static void
tunnel_enter(struct tunnel *t)
{
    t->busy++;
}

static void
tunnel_destroy(struct tunnel *t)
{
    if (t->ev_rd != NULL)
        event_free(t->ev_rd);
    if (t->ev_tm != NULL)
        event_free(t->ev_tm);
    if (t->in != NULL)
        evbuffer_free(t->in);
    if (t->fd != -1)
        close(t->fd);
    worker_conn_del(t->w, &t->link);
    conf_unref(t->conf);
    t->magic = 0;
    free(t);
}

static void
tunnel_leave(struct tunnel *t)
{
    if (--t->busy == 0 && t->closed)
        tunnel_destroy(t);
}

/* Write the access-log line once: <result>/<status>, <error> may be
 * NULL. */
static void
tunnel_log(struct tunnel *t, const char *result, int status,
           const char *error)
{
    if (t->logged)
        return;
    t->logged = true;
    t->rec.result = result;
    t->rec.status = status;
    if (error != NULL)
        t->rec.error = error;
    t->rec.duration_ms = sk_now_msec() - t->rec.start_ms;
    access_log_write(t->conf, &t->rec);
}

static void
tunnel_close(struct tunnel *t)
{
    if (t->closed)
        return;
    t->closed = true;
    tunnel_log(t, "NONE_ABORTED", 0, NULL);
    if (t->dq != NULL)
        dns_cancel(t->dq);
    t->dq = NULL;
    if (t->cc != NULL)
        comm_connect_cancel(t->cc);
    t->cc = NULL;
    if (t->relay != NULL)
        relay_abort(t->relay);
    t->relay = NULL;
    if (t->ev_rd != NULL)
        event_del(t->ev_rd);
    if (t->ev_tm != NULL)
        event_del(t->ev_tm);
    if (t->busy == 0)
        tunnel_destroy(t);
}

/*
 * Refuse <t>: log <result>/<status> (<error>), reset the client (SO_LINGER
 * 0: the close sends RST and drops anything unsent) and close.
 */
static void
tunnel_reset(struct tunnel *t, const char *result, int status,
             const char *error)
{
    struct linger lg = { 1, 0 };

    tunnel_log(t, result, status, error);
    if (t->fd != -1) {
        setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(t->fd);
        t->fd = -1;
    }
    tunnel_close(t);
}

/* ---- the record ---- */

/* Point the record's destination at <host> (a name, or NULL for the
 * original destination's address) and rebuild the logged URL. */
static void
tunnel_set_dst(struct tunnel *t, const char *host, enum rec_dst_source how)
{
    bool v6;

    t->rec.dst_host = host != NULL ? host : t->dst_ip;
    t->rec.dst_how = how;
    v6 = strchr(t->rec.dst_host, ':') != NULL;
    snprintf(t->url, sizeof(t->url), v6 ? "[%s]:%u" : "%s:%u",
             t->rec.dst_host, (unsigned)t->rec.dst_port);
    t->rec.url = t->url;
}

/* Copy what the classifier learned into the record. */
static void
tunnel_learn(struct tunnel *t, const struct sniff_result *r)
{
    t->rec.proto = sniff_proto_name(r->proto);
    if (r->proto == SNIFF_TLS && r->tls_ok) {
        if (r->tls.has_sni) {
            snprintf(t->sni, sizeof(t->sni), "%s", r->tls.sni);
            t->rec.sni = t->sni;
            t->vname = t->sni;
            t->vhow = REC_DST_SNI;
        }
        if (r->tls.n_alpn > 0) {
            snprintf(t->alpn, sizeof(t->alpn), "%s", r->tls.alpn[0]);
            t->rec.alpn = t->alpn;
        }
    } else if (r->proto == SNIFF_HTTP && r->host[0] != '\0') {
        struct sockaddr_storage lit;
        size_t off, len;
        uint16_t port;

        if (http_parse_authority(r->host, strlen(r->host), &off, &len,
                                 &port) == -1)
            return;
        snprintf(t->host, sizeof(t->host), "%.*s", (int)len,
                 r->host + off);
        if (len > 0 && t->host[len - 1] == '.')
            t->host[len - 1] = '\0';
        /* A literal names the address itself: nothing to verify. */
        if (t->host[0] != '\0' &&
            sk_addr_parse(t->host, NULL, false, &lit) == -1) {
            t->vname = t->host;
            t->vhow = REC_DST_HOST_HEADER;
        }
    }
}

/* ---- policy ---- */

/* The original destination as the dst acl sees it. */
static struct acl_dst
tunnel_acl_dst(const struct tunnel *t)
{
    struct acl_dst d = { &t->orig_dst, 1, true };

    return d;
}

/*
 * Run the ssl_bump rules at <step> (1..3).  With no rule at all skua
 * peeks at step 1 and splices after; with rules, no match splices, as in
 * Squid.  Peeking at step 3 (the server's hello, which needs decryption
 * to use) splices.
 */
static enum tunnel_verdict
tunnel_bump(struct tunnel *t, int step)
{
    const struct conf_action_rule *r;
    struct acl_dst d = tunnel_acl_dst(t);
    enum tunnel_verdict v = TUNNEL_V_SPLICE;

    if (t->conf->ssl_bump == NULL)
        return step == 1 ? TUNNEL_V_PEEK : TUNNEL_V_SPLICE;
    t->rec.tls_step = step;
    for (r = t->conf->ssl_bump; r != NULL; r = r->next) {
        if (acl_check(r->acl, &t->rec, &d) != ACL_ALLOWED)
            continue;
        if (r->action == CONF_BUMP_TERMINATE)
            v = TUNNEL_V_TERMINATE;
        else if (r->action == CONF_BUMP_SPLICE || step == 3)
            v = TUNNEL_V_SPLICE;
        else
            v = TUNNEL_V_PEEK;
        break;
    }
    t->rec.tls_step = 0;
    if (v == TUNNEL_V_PEEK && step == 2)
        return tunnel_bump(t, 3);
    return v;
}

/* on_unsupported_protocol: true to tunnel the bytes, false to refuse. */
static bool
tunnel_unsupported_tunnels(struct tunnel *t)
{
    const struct conf_action_rule *r;
    struct acl_dst d = tunnel_acl_dst(t);

    for (r = t->conf->on_unsupported_protocol; r != NULL; r = r->next)
        if (acl_check(r->acl, &t->rec, &d) == ACL_ALLOWED)
            return r->action == CONF_UNSUP_TUNNEL;
    return false;
}

/* http_access on an https_port, intercept_access on a tcp_port (no rule:
 * allowed there). */
static bool
tunnel_allowed(struct tunnel *t)
{
    struct acl_dst d = tunnel_acl_dst(t);

    if (t->port->kind == CONF_PORT_HTTPS)
        return acl_check(t->conf->http_access, &t->rec, &d) == ACL_ALLOWED;
    return t->conf->intercept_access == NULL ||
           acl_check(t->conf->intercept_access, &t->rec, &d) ==
               ACL_ALLOWED;
}

/* Access, then the connection; or a reset. */
static void
tunnel_go(struct tunnel *t)
{
    if (!tunnel_allowed(t)) {
        sk_debug(SK_SEC_COMM, 2, "intercepted %s to %s denied",
                 t->rec.proto != NULL ? t->rec.proto : "-", t->rec.url);
        tunnel_reset(t, "TCP_DENIED", 403, "ERR_ACCESS_DENIED");
        return;
    }
    tunnel_connect(t);
}

/* ---- the server name against the original destination ---- */

static void
tunnel_alert(struct tunnel *t, const char *reason)
{
    char o[SK_ADDRSTRLEN], p[SK_ADDRSTRLEN];
    struct sockaddr_storage peer;

    sk_addr_unmap(&t->peer, &peer);
    sk_err(SK_SEC_COMM, "SECURITY ALERT: %s forgery detected on local=%s "
           "remote=%s (%s); %s: %s; %s",
           t->vhow == REC_DST_SNI ? "TLS server name" : "Host header",
           sk_addr_port_str((const struct sockaddr *)&t->orig_dst, o,
                            sizeof(o)),
           sk_addr_port_str((const struct sockaddr *)&peer, p, sizeof(p)),
           reason, t->vhow == REC_DST_SNI ? "SNI" : "Host", t->vname,
           t->conf->host_verify_strict
               ? "reset (host_verify_strict)"
               : "relayed to the original destination only");
}

static void
tunnel_sni_verdict(struct tunnel *t, const struct dns_result *res)
{
    struct sockaddr_storage a;
    const char *reason = "SNI does not resolve";

    if (res != NULL && res->status == DNS_OK) {
        reason = "local IP does not match any domain IP";
        for (unsigned i = 0; i < res->n; i++) {
            sk_addr_unmap(&res->addrs[i], &a);
            if (sk_addr_eq((const struct sockaddr *)&a,
                           (const struct sockaddr *)&t->orig_dst)) {
                reason = NULL;
                break;
            }
        }
    }
    if (reason == NULL) {
        tunnel_set_dst(t, t->vname, t->vhow);
        tunnel_go(t);
        return;
    }
    tunnel_alert(t, reason);
    if (t->conf->host_verify_strict) {
        tunnel_reset(t, "TCP_DENIED", 409, "ERR_CONFLICT_HOST");
        return;
    }
    tunnel_go(t);
}

static void
tunnel_dns_cb(const struct dns_result *res, void *arg)
{
    struct tunnel *t = arg;

    tunnel_enter(t);
    t->dq = NULL;
    if (!t->closed)
        tunnel_sni_verdict(t, res);
    tunnel_leave(t);
}

/* Verify the SNI (if any), then go. */
static void
tunnel_verify(struct tunnel *t)
{
    struct dns_query *q = NULL;

    t->state = TUNNEL_S_WORKING;
    if (t->ev_rd != NULL)
        event_del(t->ev_rd);
    if (t->ev_tm != NULL)
        event_del(t->ev_tm);
    if (t->vname == NULL) {
        tunnel_go(t);
        return;
    }
    /* The callback may run before dns_resolve() returns. */
    if (dns_resolve(t->w->dns, t->vname, tunnel_dns_cb, t, &q) == SKUA_AGAIN)
        t->dq = q;
}

/* ---- connect and relay ---- */

static void
tunnel_relay_done(const struct relay_stats *st, int err, void *arg)
{
    struct tunnel *t = arg;

    tunnel_enter(t);
    t->relay = NULL;
    t->rec.bytes_in += st->a_to_b;
    t->rec.bytes_out += st->b_to_a;
    t->rec.server_bytes_out += st->a_to_b;
    t->rec.server_bytes_in += st->b_to_a;
    tunnel_log(t, "TCP_TUNNEL", 200, NULL);
    sk_debug(SK_SEC_COMM, 3, "intercepted tunnel to %s ended (%s)",
             t->rec.url, err ? strerror(err) : "closed");
    tunnel_close(t);
    tunnel_leave(t);
}

static void
tunnel_relay(struct tunnel *t, int fd)
{
    struct relay_opts o;

    memset(&o, 0, sizeof(o));
    o.idle_timeout = t->conf->read_timeout;
    t->state = TUNNEL_S_RELAY;
    t->rec.status = 200;
    t->rec.result = "TCP_TUNNEL";
    /* The first bytes go to the server before anything else. */
    t->relay = relay_start(t->w->base, t->fd, fd, t->in, NULL, &o,
                           tunnel_relay_done, t);
    t->fd = -1;
    if (t->relay == NULL) {
        tunnel_log(t, "TCP_TUNNEL_ABORTED", 200, NULL);
        tunnel_close(t);
        return;
    }
    /* An idle tunnel keeps no buffers or events of its own. */
    if (t->in != NULL)
        evbuffer_free(t->in);
    if (t->ev_rd != NULL)
        event_free(t->ev_rd);
    if (t->ev_tm != NULL)
        event_free(t->ev_tm);
    t->in = NULL;
    t->ev_rd = t->ev_tm = NULL;
}

static void
tunnel_connect_cb(int fd, int err, const struct sockaddr_storage *peer,
                  void *arg)
{
    struct tunnel *t = arg;

    tunnel_enter(t);
    t->cc = NULL;
    if (fd == -1) {
        sk_debug(SK_SEC_COMM, 2, "intercepted connection to %s failed: %s",
                 t->rec.url, strerror(err));
        tunnel_reset(t, "NONE_NONE", err == ETIMEDOUT ? 504 : 503,
                     "ERR_CONNECT_FAIL");
    } else {
        t->rec.server = *peer;
        tunnel_relay(t, fd);
    }
    tunnel_leave(t);
}

/* Source address: the client's on a tproxy port (spoof_client_ip), else
 * tcp_outgoing_address. */
static void
tunnel_outgoing(struct tunnel *t, struct comm_connect_opts *o)
{
    struct acl_dst d = tunnel_acl_dst(t);

    if ((t->port->flags & CONF_PORT_F_TPROXY) &&
        (t->conf->spoof_client_ip == NULL ||
         acl_check(t->conf->spoof_client_ip, &t->rec, &d) == ACL_ALLOWED)) {
        nat_spoof_source(&t->peer, &t->src, o);
        return;
    }
    acl_outgoing(t->conf->tcp_outgoing, &t->rec, &d, &o->src4, &o->src6);
}

static void
tunnel_connect(struct tunnel *t)
{
    struct comm_connect_opts o;

    memset(&o, 0, sizeof(o));
    o.timeout = t->conf->connect_timeout;
    tunnel_outgoing(t, &o);
    t->rec.hier = REC_HIER_ORIGINAL_DST;
    t->state = TUNNEL_S_WORKING;
    t->cc = comm_connect_start(t->w->base, &t->orig_dst, 1,
                               sk_addr_port((const struct sockaddr *)
                                            &t->orig_dst),
                               &o, tunnel_connect_cb, t);
    if (t->cc == NULL)
        tunnel_reset(t, "NONE_NONE", 503, "ERR_CONNECT_FAIL");
}

/* ---- deciding ---- */

/* Act on the verdict <v> of ssl_bump. */
static void
tunnel_act(struct tunnel *t, enum tunnel_verdict v)
{
    if (v == TUNNEL_V_TERMINATE)
        tunnel_reset(t, "TCP_DENIED", 403, "ERR_ACCESS_DENIED");
    else
        tunnel_verify(t);
}

/* The first bytes are classified: decide what to do with them. */
static void
tunnel_decide(struct tunnel *t, const struct sniff_result *r)
{
    tunnel_learn(t, r);
    if (r->proto == SNIFF_TLS && r->tls_ok) {
        tunnel_act(t, tunnel_bump(t, 2));
        return;
    }
    if (t->port->kind == CONF_PORT_HTTPS) {
        /* Not a ClientHello skua can read. */
        if (!tunnel_unsupported_tunnels(t)) {
            sk_debug(SK_SEC_COMM, 2, "https_port %s: not TLS from the "
                     "client (%s), reset", t->port->name,
                     r->proto == SNIFF_TLS ? tls_perr_str(r->tls_err)
                                           : t->rec.proto);
            tunnel_reset(t, "NONE_NONE", 400, "ERR_PROTOCOL_UNKNOWN");
            return;
        }
    }
    tunnel_verify(t);
}

/* Classify what has been read; <final>: no more is coming or waited
 * for. */
static void
tunnel_sniff(struct tunnel *t, bool final)
{
    struct sniff_result *r = malloc(sizeof(*r));
    size_t len = evbuffer_get_length(t->in);
    const uint8_t *p;

    if (r == NULL) {
        tunnel_reset(t, "NONE_NONE", 500, NULL);
        return;
    }
    if (len >= SNIFF_MAX)
        final = true;
    p = evbuffer_pullup(t->in, (ev_ssize_t)SK_MIN(len, SNIFF_MAX));
    if (sniff_classify(p, SK_MIN(len, SNIFF_MAX), final, r) == SKUA_OK)
        tunnel_decide(t, r);
    free(r);
}

/* ---- reading the first bytes ---- */

/* Arm the timer for the next wait while sniffing. */
static void
tunnel_sniff_timer(struct tunnel *t)
{
    sk_msec_t wait;
    struct timeval tv;

    if (t->port->kind == CONF_PORT_HTTPS) {
        /* A TLS client speaks first: wait for its whole hello. */
        wait = t->conf->request_timeout;
    } else {
        /* Silence, or a message that never completes, for sniff_timeout
         * from the first byte: take what is there. */
        wait = t->conf->sniff_timeout;
        if (t->first_byte_ms != 0) {
            sk_msec_t spent = sk_now_msec() - t->first_byte_ms;

            wait = spent < wait ? wait - spent : 0;
        }
    }
    tv = sk_msec_tv(wait);
    event_add(t->ev_tm, &tv);
}

static void
tunnel_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct tunnel *t = arg;
    int n;

    tunnel_enter(t);
    n = evbuffer_read(t->in, fd, TUNNEL_READ_CHUNK);
    if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
        /* The client finished (or failed) before skua decided: what it
         * sent is all there is; a client that sent nothing is gone. */
        t->rd_eof = true;
        event_del(t->ev_rd);
        if (n == 0 && evbuffer_get_length(t->in) > 0)
            tunnel_sniff(t, true);
        else
            tunnel_close(t);
    } else if (n > 0) {
        if (t->first_byte_ms == 0) {
            t->first_byte_ms = sk_now_msec();
            tunnel_sniff_timer(t);
        }
        tunnel_sniff(t, false);
    }
    tunnel_leave(t);
}

static void
tunnel_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct tunnel *t = arg;

    tunnel_enter(t);
    if (t->state != TUNNEL_S_SNIFF) {
        /* nothing: the timer belongs to sniffing */
    } else if (t->port->kind == CONF_PORT_HTTPS) {
        sk_debug(SK_SEC_COMM, 3, "https_port %s: no ClientHello in time",
                 t->port->name);
        if (evbuffer_get_length(t->in) > 0)
            tunnel_sniff(t, true);
        else
            tunnel_close(t);
    } else {
        tunnel_sniff(t, true);
    }
    tunnel_leave(t);
}

/* Start reading the client's first bytes. */
static void
tunnel_peek(struct tunnel *t)
{
    t->in = evbuffer_new();
    t->ev_rd = event_new(t->w->base, t->fd, EV_READ | EV_PERSIST,
                         tunnel_read_cb, t);
    t->ev_tm = event_new(t->w->base, -1, 0, tunnel_timer_cb, t);
    if (t->in == NULL || t->ev_rd == NULL || t->ev_tm == NULL) {
        tunnel_reset(t, "NONE_NONE", 500, NULL);
        return;
    }
    event_add(t->ev_rd, NULL);
    tunnel_sniff_timer(t);
}

/* ---- accept ---- */

static void
tunnel_on_stop(struct worker_conn_link *l)
{
    struct tunnel *t = (struct tunnel *)
        ((char *)l - offsetof(struct tunnel, link));

    /* Connections still being looked at are closed; tunnels finish. */
    if (t->state == TUNNEL_S_SNIFF) {
        tunnel_enter(t);
        tunnel_close(t);
        tunnel_leave(t);
    }
}

/* Fill the record of a new session on <port>; return 0, or -1 if the
 * original destination cannot be found (logged). */
static int
tunnel_origin(struct tunnel *t)
{
    const struct nat_backend *b;
    struct sockaddr_storage local;
    socklen_t len = sizeof(local);
    char why[200], a[SK_ADDRSTRLEN];

    getsockname(t->fd, (struct sockaddr *)&local, &len);
    t->rec.local = local;
    b = nat_select(t->conf->intercept_backend,
                   (t->port->flags & CONF_PORT_F_TPROXY) != 0, why,
                   sizeof(why));
    if (b == NULL) {
        sk_err(SK_SEC_COMM, "%s: %s", t->port->spec, why);
        return -1;
    }
    if (nat_lookup(b, t->fd, &t->peer, &local, &t->orig_dst) == -1) {
        sk_notice(SK_SEC_COMM, "%s: no original destination for the "
                  "connection from %s (%s backend): %s", t->port->spec,
                  sk_addr_port_str((const struct sockaddr *)&t->peer, a,
                                   sizeof(a)), b->name, strerror(errno));
        return -1;
    }
    sk_addr_str((const struct sockaddr *)&t->orig_dst, t->dst_ip,
                sizeof(t->dst_ip));
    t->rec.dst_port = sk_addr_port((const struct sockaddr *)&t->orig_dst);
    tunnel_set_dst(t, NULL, REC_DST_NAT);
    return 0;
}

void
tunnel_accept(struct worker *w, const struct conf_http_port *port, int fd,
              const struct sockaddr_storage *peer)
{
    struct tunnel *t = sk_calloc(1, sizeof(*t));

    t->magic = TUNNEL_MAGIC;
    t->w = w;
    t->conf = conf_ref(w->conf);
    t->port = port;
    t->fd = fd;
    t->peer = *peer;
    t->rec.client = *peer;
    t->rec.listener_name = port->name;
    t->rec.listener_port = sk_addr_port((const struct sockaddr *)
                                       &port->addr);
    t->rec.method = "CONNECT";
    sk_wallclock(&t->rec.start);
    t->rec.start_ms = sk_now_msec();
    t->link.on_stop = tunnel_on_stop;
    worker_conn_add(w, &t->link);
    worker_accepted_nodelay(fd);
    tunnel_enter(t);
    if (tunnel_origin(t) == -1) {
        t->rec.url = "error:no-original-destination";
        tunnel_reset(t, "NONE_NONE", 400, "ERR_INVALID_REQ");
    } else if (nat_dst_is_listener(t->conf, &t->orig_dst)) {
        sk_notice(SK_SEC_COMM, "refusing an intercepted connection to "
                  "skua's own listening address %s", t->url);
        tunnel_reset(t, "TCP_DENIED", 403, "ERR_LOOP_DETECTED");
    } else if (port->kind == CONF_PORT_HTTPS) {
        enum tunnel_verdict v = tunnel_bump(t, 1);

        t->rec.proto = "tls";
        if (v == TUNNEL_V_PEEK)
            tunnel_peek(t);
        else if (v == TUNNEL_V_SPLICE)
            tunnel_verify(t);
        else
            tunnel_act(t, v);
    } else {
        tunnel_peek(t);
    }
    tunnel_leave(t);
}
