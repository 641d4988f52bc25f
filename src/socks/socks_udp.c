/*
 * socks_udp.c -- SOCKS5 UDP ASSOCIATE (RFC 1928 section 7): one UDP socket
 * towards the client, bound to the address the client's TCP connection
 * arrived on (or announced as udp_advertise_address), and one per address
 * family towards the destinations.
 *
 * Rules, each for a reason:
 *  - datagrams towards skua are taken only from the client's IP address,
 *    and from one port: the one the request named, else the first one
 *    seen, so no third party can use the association;
 *  - fragments (FRAG != 0) and malformed headers are dropped (fragment
 *    reassembly is optional in the RFC and a well-known attack surface);
 *  - every destination passes the same checks as CONNECT (never 0.0.0.0,
 *    :: or skua's own listeners; socks_access with the destination);
 *  - datagrams from the outside are taken only from addresses the client
 *    has sent to, so the association is no open inbound door;
 *  - the association ends with its TCP connection, or after
 *    socks_udp_timeout without a datagram either way.
 * A name (DOMAINNAME) destination is resolved with one datagram waiting;
 * others for names arriving meanwhile are dropped, as UDP allows.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "sk_log.h"
#include "sk_str.h"
#include "sk_time.h"
#include "acl/acl.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "socks/socks_int.h"

#define SOCKS_UDP_PEERS 16
#define SOCKS_UDP_MAX 65536

struct socks_udp {
    struct socks_sess *s;
    int cfd;                            /* towards the client */
    int rfd[2];                         /* towards destinations: v4, v6 */
    struct event *ev_c, *ev_r[2], *ev_tm;
    struct sockaddr_storage client;     /* IP of the TCP peer; its port
                                           once known */
    bool port_known;
    struct sockaddr_storage peers[SOCKS_UDP_PEERS];
    unsigned npeers, next_peer;
    struct dns_query *dq;
    uint8_t *pending;                   /* a datagram waiting for DNS */
    size_t pending_len;
    uint16_t pending_port;
    char *pending_host;
    sk_msec_t last;
};

static _Thread_local uint8_t socks_udp_buf[SOCKS_UDP_MAX + 300];

void
socks_udp_free(struct socks_udp *u)
{
    if (u == NULL)
        return;
    if (u->dq != NULL)
        dns_cancel(u->dq);
    for (int i = 0; i < 2; i++) {
        if (u->ev_r[i] != NULL)
            event_free(u->ev_r[i]);
        if (u->rfd[i] != -1)
            close(u->rfd[i]);
    }
    if (u->ev_c != NULL)
        event_free(u->ev_c);
    if (u->ev_tm != NULL)
        event_free(u->ev_tm);
    if (u->cfd != -1)
        close(u->cfd);
    free(u->pending);
    free(u->pending_host);
    free(u);
}

static void
socks_udp_end(struct socks_sess *s, const char *why)
{
    sk_debug(SK_SEC_COMM, 3, "socks UDP association %s ended: %s",
             s->rec.url, why);
    socks_log(s, "TCP_TUNNEL", 200);
    socks_close(s);
}

static void
socks_udp_set_port(struct sockaddr_storage *a, uint16_t port)
{
    if (a->ss_family == AF_INET)
        ((struct sockaddr_in *)a)->sin_port = htons(port);
    else if (a->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)a)->sin6_port = htons(port);
}

static bool
socks_udp_same(const struct sockaddr_storage *a,
               const struct sockaddr_storage *b)
{
    return sk_addr_eq((const struct sockaddr *)a,
                      (const struct sockaddr *)b) &&
           sk_addr_port((const struct sockaddr *)a) ==
           sk_addr_port((const struct sockaddr *)b);
}

/* Remember <to> as a destination whose answers may come back. */
static void
socks_udp_add_peer(struct socks_udp *u, const struct sockaddr_storage *to)
{
    unsigned i;

    for (i = 0; i < u->npeers; i++)
        if (socks_udp_same(&u->peers[i], to))
            return;
    if (u->npeers < SOCKS_UDP_PEERS) {
        u->peers[u->npeers++] = *to;
        return;
    }
    u->peers[u->next_peer] = *to;
    u->next_peer = (u->next_peer + 1) % SOCKS_UDP_PEERS;
}

static void socks_udp_remote_cb(evutil_socket_t fd, short what, void *arg);

/* The socket towards family <af>, opened on first use. */
static int
socks_udp_rfd(struct socks_udp *u, int af)
{
    int i = af == AF_INET6;
    int fd;

    if (u->rfd[i] != -1)
        return u->rfd[i];
    fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    u->rfd[i] = fd;
    u->ev_r[i] = event_new(u->s->w->base, fd, EV_READ | EV_PERSIST,
                           socks_udp_remote_cb, u);
    event_add(u->ev_r[i], NULL);
    return fd;
}

/*
 * Send <len> bytes of payload to <to>, <name> being the destination as
 * the client wrote it (for policy and logs), if policy allows.
 */
static void
socks_udp_send(struct socks_udp *u, const char *name,
               const struct sockaddr_storage *to0, const uint8_t *p,
               size_t len)
{
    struct socks_sess *s = u->s;
    struct sockaddr_storage to;
    struct acl_dst dst;
    struct rec rec;
    uint16_t port = sk_addr_port((const struct sockaddr *)to0);
    int fd;

    sk_addr_unmap(to0, &to);
    if (socks_dst_forbidden(s, &to, port))
        return;
    rec = s->rec;
    rec.dst_host = name;
    rec.dst_port = port;
    dst.addrs = &to;
    dst.n = 1;
    dst.resolved = true;
    if (acl_check(s->conf->socks_access, &rec, &dst) != ACL_ALLOWED) {
        sk_debug(SK_SEC_COMM, 3, "socks UDP to %s denied", name);
        return;
    }
    fd = socks_udp_rfd(u, to.ss_family);
    if (fd == -1)
        return;
    if (sendto(fd, p, len, 0, (struct sockaddr *)&to,
               sk_addr_len((struct sockaddr *)&to)) == -1)
        return;
    socks_udp_add_peer(u, &to);
    s->rec.bytes_in += len;
    s->rec.server_bytes_out += len;
    u->last = sk_now_msec();
}

static void
socks_udp_dns_cb(const struct dns_result *res, void *arg)
{
    struct socks_udp *u = arg;
    struct socks_sess *s = u->s;
    struct sockaddr_storage to;

    socks_enter(s);
    u->dq = NULL;
    if (res->status == DNS_OK && res->n > 0 && u->pending != NULL) {
        to = res->addrs[0];
        socks_udp_set_port(&to, u->pending_port);
        socks_udp_send(u, u->pending_host, &to, u->pending,
                       u->pending_len);
    }
    free(u->pending);
    free(u->pending_host);
    u->pending = NULL;
    u->pending_host = NULL;
    socks_leave(s);
}

/* Take a datagram from the client: check its source, parse, forward. */
static void
socks_udp_from_client(struct socks_udp *u, const struct sockaddr_storage *src,
                      const uint8_t *p, size_t len)
{
    struct socks5_udp_hdr h;
    struct sockaddr_storage from;
    struct dns_query *q = NULL;
    char name[SK_ADDRSTRLEN];
    size_t hl = 0;

    sk_addr_unmap(src, &from);
    if (!sk_addr_eq((const struct sockaddr *)&from,
                    (const struct sockaddr *)&u->client))
        return;
    if (!u->port_known) {
        u->client = from;
        u->port_known = true;
    } else if (!socks_udp_same(&from, &u->client)) {
        return;
    }
    if (socks5_parse_udp(p, len, &h, &hl) != SKUA_OK || h.frag != 0)
        return;
    if (h.atyp != SOCKS_ATYP_DOMAIN) {
        sk_addr_str((const struct sockaddr *)&h.addr, name, sizeof(name));
        socks_udp_send(u, name, &h.addr, p + hl, len - hl);
        return;
    }
    if (u->pending != NULL)
        return;
    u->pending = sk_malloc(len - hl + 1);
    memcpy(u->pending, p + hl, len - hl);
    u->pending_len = len - hl;
    u->pending_port = h.port;
    u->pending_host = sk_strdup(h.host);
    if (dns_resolve(u->s->w->dns, u->pending_host, socks_udp_dns_cb, u,
                    &q) == SKUA_AGAIN)
        u->dq = q;
}

static void
socks_udp_client_cb(evutil_socket_t fd, short what, void *arg)
{
    struct socks_udp *u = arg;
    struct socks_sess *s = u->s;
    struct sockaddr_storage src;
    socklen_t slen;
    ssize_t n;
    int i;

    socks_enter(s);
    for (i = 0; i < 32 && !s->closed && s->udp == u; i++) {
        slen = sizeof(src);
        memset(&src, 0, sizeof(src));
        n = recvfrom(fd, socks_udp_buf, SOCKS_UDP_MAX, 0,
                     (struct sockaddr *)&src, &slen);
        if (n < 0)
            break;
        socks_udp_from_client(u, &src, socks_udp_buf, (size_t)n);
    }
    socks_leave(s);
}

/* A datagram from a destination: wrap it with its origin for the client. */
static void
socks_udp_remote_cb(evutil_socket_t fd, short what, void *arg)
{
    struct socks_udp *u = arg;
    struct socks_sess *s = u->s;
    struct sockaddr_storage src, from;
    socklen_t slen;
    size_t hl;
    ssize_t n;
    unsigned j;
    int i;

    socks_enter(s);
    for (i = 0; i < 32 && !s->closed && s->udp == u; i++) {
        slen = sizeof(src);
        memset(&src, 0, sizeof(src));
        /* Leave room in front for the SOCKS header. */
        n = recvfrom(fd, socks_udp_buf + 300, SOCKS_UDP_MAX - 300, 0,
                     (struct sockaddr *)&src, &slen);
        if (n < 0)
            break;
        sk_addr_unmap(&src, &from);
        for (j = 0; j < u->npeers; j++)
            if (socks_udp_same(&u->peers[j], &from))
                break;
        if (j == u->npeers || !u->port_known)
            continue;
        hl = socks5_build_udp(socks_udp_buf, 300, &from);
        if (hl == 0)
            continue;
        memmove(socks_udp_buf + hl, socks_udp_buf + 300, (size_t)n);
        if (sendto(u->cfd, socks_udp_buf, hl + (size_t)n, 0,
                   (struct sockaddr *)&u->client,
                   sk_addr_len((struct sockaddr *)&u->client)) == -1)
            continue;
        s->rec.bytes_out += (uint64_t)n;
        s->rec.server_bytes_in += (uint64_t)n;
        u->last = sk_now_msec();
    }
    socks_leave(s);
}

static void
socks_udp_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct socks_udp *u = arg;
    struct socks_sess *s = u->s;
    sk_msec_t idle = sk_now_msec() - u->last;
    sk_msec_t limit = s->conf->socks_udp_timeout;
    struct timeval tv;

    socks_enter(s);
    if (idle >= limit) {
        socks_udp_end(s, "idle timeout");
    } else {
        /* Re-armed lazily: one timer event per timeout, not per
         * datagram. */
        tv = sk_msec_tv(limit - idle);
        event_add(u->ev_tm, &tv);
    }
    socks_leave(s);
}

/* Open the client-facing socket on the address of <s>'s TCP connection. */
static int
socks_udp_open(struct socks_udp *u, struct sockaddr_storage *bnd)
{
    struct socks_sess *s = u->s;
    struct sockaddr_storage adv;
    socklen_t len = sizeof(*bnd);
    uint16_t port;

    sk_addr_unmap(&s->rec.local, bnd);
    socks_udp_set_port(bnd, 0);
    u->cfd = socket(bnd->ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
                    SOCK_CLOEXEC, 0);
    if (u->cfd == -1)
        return -1;
    if (bind(u->cfd, (struct sockaddr *)bnd,
             sk_addr_len((struct sockaddr *)bnd)) == -1 ||
        getsockname(u->cfd, (struct sockaddr *)bnd, &len) == -1)
        return -1;
    if (s->conf->udp_advertise_address != NULL &&
        sk_addr_parse(s->conf->udp_advertise_address, NULL, false,
                      &adv) == 0) {
        port = sk_addr_port((struct sockaddr *)bnd);
        *bnd = adv;
        socks_udp_set_port(bnd, port);
    }
    return 0;
}

void
socks_udp_start(struct socks_sess *s)
{
    struct socks_udp *u = sk_calloc(1, sizeof(*u));
    struct sockaddr_storage bnd;
    struct timeval tv;

    u->s = s;
    u->cfd = u->rfd[0] = u->rfd[1] = -1;
    s->udp = u;
    /* Datagrams come from the TCP peer's address; from the port the
     * request named, if it named one (RFC 1928 section 6). */
    sk_addr_unmap(&s->rec.client, &u->client);
    socks_udp_set_port(&u->client, s->dport);
    u->port_known = s->dport != 0;
    if (socks_udp_open(u, &bnd) == -1) {
        sk_notice(SK_SEC_COMM, "socks UDP ASSOCIATE: %s", strerror(errno));
        socks_fail(s, SOCKS5_REP_FAILURE, "NONE_NONE", 503);
        return;
    }
    u->ev_c = event_new(s->w->base, u->cfd, EV_READ | EV_PERSIST,
                        socks_udp_client_cb, u);
    u->ev_tm = event_new(s->w->base, -1, 0, socks_udp_timer_cb, u);
    event_add(u->ev_c, NULL);
    u->last = sk_now_msec();
    tv = sk_msec_tv(s->conf->socks_udp_timeout);
    event_add(u->ev_tm, &tv);
    s->state = SOCKS_S_UDP;
    s->rec.status = 200;
    s->rec.result = "TCP_TUNNEL";
    free(s->addrs);
    s->addrs = NULL;
    if (socks_reply(s, SOCKS5_REP_SUCCEEDED, &bnd) == -1)
        return;
    /* Watch the TCP connection: the association ends with it. */
    event_add(s->ev_rd, NULL);
}

void
socks_udp_on_tcp(struct socks_sess *s, bool eof)
{
    if (eof)
        socks_udp_end(s, "TCP connection closed");
}
