/*
 * udp_tproxy.c -- transparent UDP interception (udp_port PORT tproxy):
 * datagrams that Linux TPROXY rules delivered to skua are relayed, flow by
 * flow, to the destination the client addressed, and the answers are sent
 * back as if that destination had sent them.
 *
 * The listener (opened by src/main/worker.c with IP_TRANSPARENT and
 * IP_RECVORIGDSTADDR) reads each datagram with its original destination
 * in a control message.  The first datagram of a flow (client address and
 * port, original destination address and port) creates it, after the loop
 * check (a destination that is skua's own udp_port is refused) and
 * intercept_access.  A flow owns two sockets:
 *  - towards the server, connected to the original destination and bound,
 *    when spoof_client_ip allows, to the client's own address and port
 *    (IP_TRANSPARENT), else left to the kernel's choice;
 *  - towards the client, bound transparently to the original destination
 *    address and port and connected to the client.  Answers leave it from
 *    the destination's address; and because TPROXY's socket lookup (and
 *    the "socket transparent" rule) finds a connected socket for the exact
 *    address pair first, the client's later datagrams arrive on it rather
 *    than on the listener.  One such socket per flow, not one per
 *    destination shared by its flows: with several workers, sockets of one
 *    address bound in different workers would take each other's datagrams,
 *    while a connected socket receives its own flow's and nothing else.
 *    Whatever still reaches it from another client (in the instant between
 *    bind and connect) is taken as that client's datagram.
 * Flows live in a per-worker hash table (SO_REUSEPORT sends all datagrams
 * of a flow to one listener, hence one worker; no locks).  A flow ends
 * after udp_idle_timeout without a datagram either way (udp_dns_timeout for
 * port 53), or at shutdown, and is logged then: UDP_TUNNEL/200, or
 * UDP_TUNNEL/000 when no answer reached the client (/503 when the only
 * answer was a port unreachable), method "UDP", the URL
 * "address:port", hierarchy ORIGINAL_DST.  A refused flow is logged at
 * once, as UDP_DENIED/403, and kept until its timeout so that its further
 * datagrams are dropped quietly.  A flow keeps the configuration snapshot
 * it started with, and its own sockets: it outlives a reload that closes
 * its listener.
 *
 * A port unreachable that comes back to the server-side socket (when it
 * is skua's own address the server answered) is passed on: skua sends the
 * client the same ICMP error from the destination's address, through a
 * transparent raw socket, so that a resolver or a QUIC stack fails over
 * at once instead of waiting out its timeout (at most one per flow every
 * UDP_ICMP_GAP_MS).  When the server saw the client's own address, its
 * ICMP error goes to the client by itself.
 *
 * What this file deliberately does not do: look inside datagrams (no DNS
 * or QUIC parsing), pass on ICMP errors other than port unreachable (the
 * server side does not ask for IP_RECVERR), reassemble anything, or work
 * without TPROXY (a NAT'd datagram has no original destination to ask
 * for; conf refuses "udp_port ... intercept").
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "sk_log.h"
#include "sk_str.h"
#include "sk_time.h"
#include "acl/acl.h"
#include "comm/record.h"
#include "comm/worker.h"
#include "conf/conf.h"
#include "log/access_log.h"
#include "nat/nat.h"
#include "udp/udp_flow.h"

#define UDP_FLOW_MAGIC 0x0d9f1a0eu
#define UDP_BATCH 64                /* datagrams per socket per wakeup */
#define UDP_DGRAM_MAX 65536
#define UDP_DROP_REPORT_MS 10000    /* udp_max_flows reports, at most */
#define UDP_ICMP_GAP_MS 200         /* port unreachables relayed per flow */

struct udp_flow {
    unsigned magic;
    struct udp_flow *hnext;             /* hash chain */
    struct worker_conn_link link;       /* in the worker's list */
    struct worker *w;
    struct conf *conf;                  /* a reference */
    struct udp_flow_key key;
    int cfd, sfd;                       /* client side, server side */
    struct event *ev_c, *ev_s, *ev_tm;
    sk_msec_t last, timeout;
    sk_msec_t icmp_at;                  /* last port unreachable relayed */
    size_t last_len;                    /* last datagram to the server */
    bool refused, logged;
    bool unreachable;                   /* the server's port is closed */
    char *lname;                        /* listener name (the snapshot of
                                           the listener may go first) */
    char host[SK_ADDRSTRLEN];
    char url[SK_ADDRSTRLEN + 8];
    struct rec rec;
};

/* One worker's flows (a worker is one thread: thread-local, no locks).
 * Allocated with the first flow, freed with the last. */
struct udp_table {
    struct udp_flow **b;
    unsigned nb, n;
    uint64_t seed;
};

/* Where a new flow's datagram came in. */
struct udp_origin {
    const char *name;                   /* listener name */
    uint16_t port;                      /* listener port */
};

static _Thread_local struct udp_table *udp_tbl;
static _Thread_local uint64_t udp_dropped;      /* over udp_max_flows */
static _Thread_local sk_msec_t udp_dropped_at;  /* last reported */
static _Thread_local uint8_t udp_buf[UDP_DGRAM_MAX];

/* ---- the flow table ---- */

static struct udp_table *
udp_table_get(void)
{
    struct udp_table *t = udp_tbl;

    if (t != NULL)
        return t;
    t = sk_calloc(1, sizeof(*t));
    t->nb = 64;
    t->b = sk_calloc(t->nb, sizeof(t->b[0]));
    if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
        (ssize_t)sizeof(t->seed))
        t->seed = (uint64_t)sk_now_msec() * 0x9e3779b97f4a7c15ull ^
                  (uint64_t)(uintptr_t)t;
    udp_tbl = t;
    return t;
}

static struct udp_flow *
udp_table_find(const struct udp_flow_key *k)
{
    struct udp_table *t = udp_tbl;
    struct udp_flow *f;

    if (t == NULL)
        return NULL;
    f = t->b[udp_flow_hash(k, t->seed) & (t->nb - 1)];
    while (f != NULL && !udp_flow_key_eq(&f->key, k))
        f = f->hnext;
    return f;
}

/* Double the buckets of <t> once flows outnumber them. */
static void
udp_table_grow(struct udp_table *t)
{
    struct udp_flow **nb, *f, *next;
    unsigned n = t->nb * 2, i, h;

    nb = sk_calloc(n, sizeof(nb[0]));
    for (i = 0; i < t->nb; i++) {
        for (f = t->b[i]; f != NULL; f = next) {
            next = f->hnext;
            h = udp_flow_hash(&f->key, t->seed) & (n - 1);
            f->hnext = nb[h];
            nb[h] = f;
        }
    }
    free(t->b);
    t->b = nb;
    t->nb = n;
}

static void
udp_table_add(struct udp_flow *f)
{
    struct udp_table *t = udp_table_get();
    unsigned h;

    if (t->n >= t->nb && t->nb < (1u << 24))
        udp_table_grow(t);
    h = udp_flow_hash(&f->key, t->seed) & (t->nb - 1);
    f->hnext = t->b[h];
    t->b[h] = f;
    t->n++;
}

static void
udp_table_del(struct udp_flow *f)
{
    struct udp_table *t = udp_tbl;
    struct udp_flow **pp;

    if (t == NULL)
        return;
    pp = &t->b[udp_flow_hash(&f->key, t->seed) & (t->nb - 1)];
    while (*pp != NULL && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp == NULL)
        return;
    *pp = f->hnext;
    if (--t->n == 0) {
        free(t->b);
        free(t);
        udp_tbl = NULL;
    }
}

/* ---- flow lifetime ---- */

/* Write <f>'s access-log line once, with the result and status in its
 * record. */
static void
udp_flow_log(struct udp_flow *f)
{
    if (f->logged)
        return;
    f->logged = true;
    f->rec.duration_ms = sk_now_msec() - f->rec.start_ms;
    access_log_write(f->conf, &f->rec);
}

static void
udp_flow_free(struct udp_flow *f)
{
    if (f->ev_c != NULL)
        event_free(f->ev_c);
    if (f->ev_s != NULL)
        event_free(f->ev_s);
    if (f->ev_tm != NULL)
        event_free(f->ev_tm);
    if (f->cfd != -1)
        close(f->cfd);
    if (f->sfd != -1)
        close(f->sfd);
    conf_unref(f->conf);
    free(f->lname);
    f->magic = 0;
    free(f);
}

static void
udp_flow_end(struct udp_flow *f, const char *why)
{
    char a[SK_ADDRSTRLEN];

    sk_debug(SK_SEC_COMM, 3, "UDP flow %s -> %s ended: %s",
             sk_addr_port_str((const struct sockaddr *)&f->rec.client, a,
                              sizeof(a)), f->url, why);
    if (!f->refused) {
        /* 000 as in Squid: no answer reached the client. */
        f->rec.result = "UDP_TUNNEL";
        f->rec.status = f->rec.bytes_out > 0 ? 200 :
                        f->unreachable ? 503 : 0;
    }
    udp_flow_log(f);
    udp_table_del(f);
    worker_conn_del(f->w, &f->link);
    udp_flow_free(f);
}

static struct udp_flow *
udp_flow_of_link(struct worker_conn_link *l)
{
    struct udp_flow *f = (struct udp_flow *)(void *)
        ((char *)l - offsetof(struct udp_flow, link));

    SK_CHECK_MAGIC(f, UDP_FLOW_MAGIC);
    return f;
}

/* Shutdown: an idle UDP flow holds nothing worth waiting for. */
static void
udp_flow_on_stop(struct worker_conn_link *l)
{
    udp_flow_end(udp_flow_of_link(l), "shutdown");
}

static void
udp_flow_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct udp_flow *f = arg;
    sk_msec_t idle = sk_now_msec() - f->last;
    struct timeval tv;

    if (idle >= f->timeout) {
        udp_flow_end(f, "idle timeout");
        return;
    }
    /* Re-armed lazily: one timer event per timeout, not per datagram. */
    tv = sk_msec_tv(f->timeout - idle);
    event_add(f->ev_tm, &tv);
}

/* ---- datagrams ---- */

static void udp_from_client(struct worker *w, const struct udp_origin *o,
                            const struct sockaddr_storage *client,
                            const struct sockaddr_storage *dst,
                            const uint8_t *p, size_t len);

static void udp_flow_unreachable(struct udp_flow *f);

/* Relay <len> bytes from <f>'s client to its server. */
static void
udp_flow_forward(struct udp_flow *f, const uint8_t *p, size_t len)
{
    f->rec.bytes_in += len;
    f->last = sk_now_msec();
    if (f->refused)
        return;
    f->last_len = len;
    if (send(f->sfd, p, len, 0) == -1) {
        /* A port unreachable is reported to whichever call comes first:
         * this send, or the server side's next recv. */
        if (errno == ECONNREFUSED)
            udp_flow_unreachable(f);
        else
            sk_debug(SK_SEC_COMM, 5, "UDP to %s: %s", f->url,
                     strerror(errno));
        return;
    }
    f->rec.server_bytes_out += len;
}

/* The client-side socket of a flow: its client's datagrams, normally. */
static void
udp_flow_client_cb(evutil_socket_t fd, short what, void *arg)
{
    struct udp_flow *f = arg;
    struct sockaddr_storage src, dst;
    struct udp_flow_key k;
    struct udp_origin o = { f->lname, f->rec.listener_port };
    struct worker *w = f->w;
    socklen_t slen;
    ssize_t n;

    udp_flow_key_addr(&f->key, true, &dst);
    for (int i = 0; i < UDP_BATCH; i++) {
        slen = sizeof(src);
        n = recvfrom(fd, udp_buf, sizeof(udp_buf), 0,
                     (struct sockaddr *)&src, &slen);
        if (n == -1)
            return;
        if (udp_flow_key_set(&k, &src, &dst) == 0 &&
            udp_flow_key_eq(&k, &f->key)) {
            udp_flow_forward(f, udp_buf, (size_t)n);
            continue;
        }
        /* Another client's datagram, queued before connect() narrowed
         * the socket: start or feed its own flow.  That never ends <f>
         * (flows end only by their timer or at shutdown). */
        udp_from_client(w, &o, &src, &dst, udp_buf, (size_t)n);
    }
}

/*
 * The server's port is closed (a port unreachable came back to <f>'s
 * server-side socket): tell the client as that server would have, with an
 * ICMP error from the destination's address.
 */
static void
udp_flow_unreachable(struct udp_flow *f)
{
    static _Atomic bool reported;
    struct sockaddr_storage dst, client;
    uint8_t msg[UDP_ICMP_MAX];
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    } cm;
    union {
        struct in_pktinfo v4;
        struct in6_pktinfo v6;
    } pi;
    size_t pilen;
    struct iovec iov;
    struct msghdr mh;
    struct cmsghdr *c;
    sk_msec_t now = sk_now_msec();
    int fd, fam;

    f->unreachable = true;
    if (f->icmp_at != 0 && now - f->icmp_at < UDP_ICMP_GAP_MS)
        return;
    f->icmp_at = now;
    iov.iov_base = msg;
    iov.iov_len = udp_flow_icmp_unreach(&f->key, f->last_len, msg,
                                        sizeof(msg));
    udp_flow_key_addr(&f->key, true, &dst);
    udp_flow_key_addr(&f->key, false, &client);
    fam = dst.ss_family;
    /* The source is the destination's address, given per message (no
     * bind: raw sockets bind to foreign addresses only on recent
     * kernels); a raw socket takes no port. */
    memset(&cm, 0, sizeof(cm));
    memset(&mh, 0, sizeof(mh));
    mh.msg_name = &client;
    mh.msg_namelen = sk_addr_len((struct sockaddr *)&client);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cm.b;
    c = (struct cmsghdr *)cm.b;
    memset(&pi, 0, sizeof(pi));
    if (fam == AF_INET) {
        ((struct sockaddr_in *)&client)->sin_port = 0;
        pi.v4.ipi_spec_dst = ((struct sockaddr_in *)&dst)->sin_addr;
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        pilen = sizeof(pi.v4);
    } else {
        ((struct sockaddr_in6 *)&client)->sin6_port = 0;
        pi.v6.ipi6_addr = ((struct sockaddr_in6 *)&dst)->sin6_addr;
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        pilen = sizeof(pi.v6);
    }
    c->cmsg_len = CMSG_LEN(pilen);
    memcpy(CMSG_DATA(c), &pi, pilen);
    mh.msg_controllen = CMSG_SPACE(pilen);
    fd = socket(fam, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                fam == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
    if (fd == -1 || nat_socket_transparent(fd, fam) == -1 ||
        sendmsg(fd, &mh, 0) == -1) {
        /* Most likely no CAP_NET_RAW: said once, loudly. */
        if (!atomic_exchange(&reported, true))
            sk_notice(SK_SEC_COMM, "UDP %s: cannot pass a port "
                      "unreachable on to the client (%s); clients of "
                      "closed ports will wait for their timeout", f->url,
                      strerror(errno));
        else
            sk_debug(SK_SEC_COMM, 3, "UDP %s: cannot pass the port "
                     "unreachable on: %s", f->url, strerror(errno));
    }
    if (fd != -1)
        close(fd);
}

/* The server-side socket: answers, sent on to the client. */
static void
udp_flow_server_cb(evutil_socket_t fd, short what, void *arg)
{
    struct udp_flow *f = arg;
    ssize_t n;

    for (int i = 0; i < UDP_BATCH; i++) {
        n = recv(fd, udp_buf, sizeof(udp_buf), 0);
        if (n == -1) {
            if (errno == ECONNREFUSED) {
                udp_flow_unreachable(f);
                continue;
            }
            if (errno != EAGAIN && errno != EINTR)
                sk_debug(SK_SEC_COMM, 5, "UDP from %s: %s", f->url,
                         strerror(errno));
            return;
        }
        f->rec.server_bytes_in += (uint64_t)n;
        f->last = sk_now_msec();
        if (send(f->cfd, udp_buf, (size_t)n, 0) == -1)
            continue;
        f->rec.bytes_out += (uint64_t)n;
    }
}

/* ---- flow creation ---- */

/*
 * A UDP socket of <family> (transparent if <transparent>), bound to
 * <local> when it is not NULL, connected to <peer>.  With <any_port> a
 * bind that fails for the port is retried with port 0.  Return the fd or
 * -1 with errno set.
 */
static int
udp_socket(int family, bool transparent, const struct sockaddr_storage *local,
           bool any_port, const struct sockaddr_storage *peer)
{
    struct sockaddr_storage a;
    int fd, on = 1, e;

    fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    if (transparent && nat_socket_transparent(fd, family) == -1)
        goto fail;
    /* Many flows share a local address: the destination's for every
     * client of it, the client's for each destination it talks to.
     * Connected, each still gets only its own datagrams. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
        goto fail;
    if (local != NULL &&
        bind(fd, (const struct sockaddr *)local,
             sk_addr_len((const struct sockaddr *)local)) == -1) {
        if (!any_port || errno != EADDRINUSE)
            goto fail;
        a = *local;
        if (a.ss_family == AF_INET)
            ((struct sockaddr_in *)&a)->sin_port = 0;
        else
            ((struct sockaddr_in6 *)&a)->sin6_port = 0;
        if (bind(fd, (struct sockaddr *)&a,
                 sk_addr_len((struct sockaddr *)&a)) == -1)
            goto fail;
    }
    if (connect(fd, (const struct sockaddr *)peer,
                sk_addr_len((const struct sockaddr *)peer)) == -1)
        goto fail;
    return fd;

fail:
    e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* Whether <f>'s datagrams may leave from its client's address. */
static bool
udp_flow_spoofs(const struct udp_flow *f, const struct sockaddr_storage *dst)
{
    struct acl_dst d = { dst, 1, true };

    return f->conf->spoof_client_ip == NULL ||
           acl_check(f->conf->spoof_client_ip, &f->rec, &d) == ACL_ALLOWED;
}

/* Open <f>'s two sockets and start reading them.  Return 0 or -1. */
static int
udp_flow_open(struct udp_flow *f)
{
    struct sockaddr_storage client, dst;
    bool spoof;

    const struct sockaddr_storage *src = NULL, *src4 = NULL, *src6 = NULL;
    struct acl_dst d;

    udp_flow_key_addr(&f->key, false, &client);
    udp_flow_key_addr(&f->key, true, &dst);
    spoof = udp_flow_spoofs(f, &dst);
    if (spoof) {
        src = &client;
    } else {
        /* As for TCP: tcp_outgoing_address, port left to the kernel. */
        d = (struct acl_dst){ &dst, 1, true };
        acl_outgoing(f->conf->tcp_outgoing, &f->rec, &d, &src4, &src6);
        src = f->key.family == AF_INET ? src4 : src6;
    }
    f->cfd = udp_socket(f->key.family, true, &dst, false, &client);
    if (f->cfd == -1)
        return -1;
    f->sfd = udp_socket(f->key.family, spoof, src, true, &dst);
    if (f->sfd == -1)
        return -1;
    f->ev_c = event_new(f->w->base, f->cfd, EV_READ | EV_PERSIST,
                        udp_flow_client_cb, f);
    f->ev_s = event_new(f->w->base, f->sfd, EV_READ | EV_PERSIST,
                        udp_flow_server_cb, f);
    event_add(f->ev_c, NULL);
    event_add(f->ev_s, NULL);
    return 0;
}

/* Fill the record of the new flow <f> from its key and origin <o>. */
static void
udp_flow_rec_init(struct udp_flow *f, const struct udp_origin *o)
{
    struct rec *r = &f->rec;
    struct sockaddr_storage dst;

    udp_flow_key_addr(&f->key, false, &r->client);
    udp_flow_key_addr(&f->key, true, &dst);
    r->local = dst;         /* as getsockname() on a tproxy TCP socket */
    r->server = dst;
    f->lname = sk_strdup(o->name != NULL ? o->name : "-");
    r->listener_name = f->lname;
    r->listener_port = o->port;
    r->dst_how = REC_DST_NAT;
    sk_addr_str((const struct sockaddr *)&dst, f->host, sizeof(f->host));
    r->dst_host = f->host;
    r->dst_port = f->key.dport;
    sk_addr_port_str((const struct sockaddr *)&dst, f->url, sizeof(f->url));
    r->url = f->url;
    r->proto = "udp";
    r->method = "UDP";
    r->hier = REC_HIER_ORIGINAL_DST;
    sk_wallclock(&r->start);
    r->start_ms = sk_now_msec();
}

/*
 * Refuse <f> with <result>/<status> and the Squid error <error>: it is
 * logged with its first datagram and kept until its timeout, so that what
 * follows is dropped without a line each.
 */
static void
udp_flow_refuse(struct udp_flow *f, const char *result, int status,
                const char *error)
{
    char a[SK_ADDRSTRLEN];

    f->refused = true;
    f->rec.hier = REC_HIER_NONE;
    memset(&f->rec.server, 0, sizeof(f->rec.server));  /* none reached */
    f->rec.result = result;
    f->rec.status = status;
    f->rec.error = error;
    sk_debug(SK_SEC_COMM, 2, "UDP flow from %s to %s refused: %s",
             sk_addr_port_str((const struct sockaddr *)&f->rec.client, a,
                              sizeof(a)), f->url, error);
}

/* Count (and now and then report) a flow dropped over udp_max_flows. */
static void
udp_drop_over_limit(struct worker *w)
{
    sk_msec_t now = sk_now_msec();

    udp_dropped++;
    if (udp_dropped_at != 0 && now - udp_dropped_at < UDP_DROP_REPORT_MS)
        return;
    sk_notice(SK_SEC_COMM, "udp_max_flows (%d) reached: %llu new UDP "
              "flows dropped so far by worker %d", w->conf->udp_max_flows,
              (unsigned long long)udp_dropped, w->id);
    udp_dropped_at = now;
}

/* Create the flow of key <k>; NULL if there are too many already. */
static struct udp_flow *
udp_flow_new(struct worker *w, const struct udp_origin *o,
             const struct udp_flow_key *k)
{
    struct udp_flow *f;
    struct sockaddr_storage dst;
    struct acl_dst d;
    struct timeval tv;
    char a[SK_ADDRSTRLEN];

    if (udp_tbl != NULL && udp_tbl->n >= (unsigned)w->conf->udp_max_flows) {
        udp_drop_over_limit(w);
        return NULL;
    }
    f = sk_calloc(1, sizeof(*f));
    f->magic = UDP_FLOW_MAGIC;
    f->w = w;
    f->conf = conf_ref(w->conf);
    f->key = *k;
    f->cfd = f->sfd = -1;
    udp_flow_rec_init(f, o);
    f->last = f->rec.start_ms;
    f->timeout = udp_flow_timeout(k->dport, f->conf->udp_idle_timeout,
                                  f->conf->udp_dns_timeout);
    f->ev_tm = event_new(w->base, -1, 0, udp_flow_timer_cb, f);
    f->link.on_stop = udp_flow_on_stop;
    worker_conn_add(w, &f->link);
    udp_table_add(f);
    tv = sk_msec_tv(f->timeout);
    event_add(f->ev_tm, &tv);

    udp_flow_key_addr(k, true, &dst);
    d.addrs = &dst;
    d.n = 1;
    d.resolved = true;
    if (nat_dst_is_udp_listener(f->conf, &dst)) {
        sk_notice(SK_SEC_COMM, "refusing an intercepted UDP flow from %s "
                  "to skua's own udp_port %s",
                  sk_addr_port_str((const struct sockaddr *)&f->rec.client,
                                   a, sizeof(a)), f->url);
        udp_flow_refuse(f, "UDP_DENIED", 403, "ERR_LOOP_DETECTED");
    } else if (f->conf->intercept_access != NULL &&
               acl_check(f->conf->intercept_access, &f->rec, &d) !=
               ACL_ALLOWED) {
        udp_flow_refuse(f, "UDP_DENIED", 403, "ERR_ACCESS_DENIED");
    } else if (udp_flow_open(f) == -1) {
        sk_notice(SK_SEC_COMM, "UDP flow from %s to %s: %s",
                  sk_addr_port_str((const struct sockaddr *)&f->rec.client,
                                   a, sizeof(a)), f->url, strerror(errno));
        udp_flow_refuse(f, "NONE_NONE", 503, "ERR_CONNECT_FAIL");
    }
    return f;
}

/* A datagram from <client> to <dst>: find or start its flow, relay it. */
static void
udp_from_client(struct worker *w, const struct udp_origin *o,
                const struct sockaddr_storage *client,
                const struct sockaddr_storage *dst, const uint8_t *p,
                size_t len)
{
    struct udp_flow_key k;
    struct udp_flow *f;

    if (udp_flow_key_set(&k, client, dst) == -1 || k.cport == 0 ||
        k.dport == 0)
        return;
    f = udp_table_find(&k);
    if (f == NULL) {
        if (worker_is_stopping(w))
            return;
        f = udp_flow_new(w, o, &k);
        if (f == NULL)
            return;
    }
    udp_flow_forward(f, p, len);
    if (f->refused)
        udp_flow_log(f);        /* once, with the first datagram */
}

/* The original destination in the control messages of <mh> into <dst>.
 * Return 0, or -1 if there was none. */
static int
udp_origdst(struct msghdr *mh, struct sockaddr_storage *dst)
{
    struct cmsghdr *cm;

    for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
#ifdef IP_ORIGDSTADDR
        if (cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_ORIGDSTADDR &&
            cm->cmsg_len >= CMSG_LEN(sizeof(struct sockaddr_in))) {
            memset(dst, 0, sizeof(*dst));
            memcpy(dst, CMSG_DATA(cm), sizeof(struct sockaddr_in));
            return 0;
        }
#endif
#ifdef IPV6_ORIGDSTADDR
        if (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_ORIGDSTADDR &&
            cm->cmsg_len >= CMSG_LEN(sizeof(struct sockaddr_in6))) {
            memset(dst, 0, sizeof(*dst));
            memcpy(dst, CMSG_DATA(cm), sizeof(struct sockaddr_in6));
            return 0;
        }
#endif
    }
    return -1;
}

void
udp_tproxy_readable(struct worker *w, const struct conf_http_port *port,
                    int fd)
{
    struct udp_origin o = {
        port->name, sk_addr_port((const struct sockaddr *)&port->addr)
    };
    struct sockaddr_storage src, dst;
    union {
        struct cmsghdr align;
        char buf[2 * CMSG_SPACE(sizeof(struct sockaddr_in6))];
    } ctl;
    struct iovec iov;
    struct msghdr mh;
    ssize_t n;

    for (int i = 0; i < UDP_BATCH; i++) {
        iov.iov_base = udp_buf;
        iov.iov_len = sizeof(udp_buf);
        memset(&mh, 0, sizeof(mh));
        mh.msg_name = &src;
        mh.msg_namelen = sizeof(src);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof(ctl.buf);
        n = recvmsg(fd, &mh, 0);
        if (n == -1) {
            if (errno != EAGAIN && errno != EINTR)
                sk_debug(SK_SEC_COMM, 3, "%s: recvmsg: %s", port->spec,
                         strerror(errno));
            return;
        }
        if (udp_origdst(&mh, &dst) == -1) {
            sk_debug(SK_SEC_COMM, 3, "%s: a datagram without its original "
                     "destination", port->spec);
            continue;
        }
        udp_from_client(w, &o, &src, &dst, udp_buf, (size_t)n);
    }
}
