/*
 * socks_bind.c -- the BIND command of SOCKS4 and SOCKS5 (RFC 1928 section
 * 4): listen on a fresh port, tell the client where (first reply), accept
 * one connection from the address the request named (second reply), and
 * relay between the two.
 *
 * The listening address is the local address skua would use towards the
 * expected peer (so the application server can reach it); the listener
 * takes one connection and is closed.  Connections from any other address
 * are closed and the wait goes on, so a stranger cannot take the place of
 * the expected peer.  A wait longer than connect_timeout ends with a
 * failure reply.  Not here: the handshake and policy (socks_server.c).
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
#include "conf/conf.h"
#include "dns/dns.h"
#include "socks/socks_int.h"

struct socks_bind {
    struct socks_sess *s;
    int lfd;
    struct event *ev_acc;
    struct sockaddr_storage expect;     /* unspecified: any peer */
};

void
socks_bind_free(struct socks_bind *b)
{
    if (b == NULL)
        return;
    if (b->ev_acc != NULL)
        event_free(b->ev_acc);
    if (b->lfd != -1)
        close(b->lfd);
    free(b);
}

static bool
socks_bind_any(const struct sockaddr_storage *a)
{
    static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr == 0;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &any6,
                  sizeof(any6)) == 0;
}

static void
socks_bind_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
    struct socks_bind *b = arg;
    struct socks_sess *s = b->s;
    struct sockaddr_storage peer, np;
    socklen_t len;
    char a[SK_ADDRSTRLEN];
    int fd;

    socks_enter(s);
    for (;;) {
        len = sizeof(peer);
        memset(&peer, 0, sizeof(peer));
        fd = accept4(lfd, (struct sockaddr *)&peer, &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd == -1)
            goto out;
        sk_addr_unmap(&peer, &np);
        if (socks_bind_any(&b->expect) ||
            sk_addr_eq((const struct sockaddr *)&np,
                       (const struct sockaddr *)&b->expect))
            break;
        sk_notice(SK_SEC_COMM, "socks BIND for %s: refused a connection "
                  "from %s", s->rec.url,
                  sk_addr_port_str((const struct sockaddr *)&np, a,
                                   sizeof(a)));
        close(fd);
    }
    s->bind = NULL;
    socks_bind_free(b);
    s->rec.server = np;
    s->rec.hier = REC_HIER_DIRECT;
    /* The second reply names the host that connected (RFC 1928). */
    socks_relay(s, fd, &np);
out:
    socks_leave(s);
}

/* The local address skua would use to reach <to> (the kernel's route
 * choice, learned from a connected UDP socket; nothing is sent). */
static int
socks_bind_local(const struct sockaddr_storage *to,
                 struct sockaddr_storage *out)
{
    struct sockaddr_storage t = *to;
    socklen_t len = sizeof(*out);
    int fd, rc = -1;

    if (t.ss_family == AF_INET)
        ((struct sockaddr_in *)&t)->sin_port = htons(9);
    else
        ((struct sockaddr_in6 *)&t)->sin6_port = htons(9);
    fd = socket(t.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    if (connect(fd, (struct sockaddr *)&t,
                sk_addr_len((struct sockaddr *)&t)) == 0 &&
        getsockname(fd, (struct sockaddr *)out, &len) == 0)
        rc = 0;
    close(fd);
    return rc;
}

/* Open the listener on <local> (port 0); return the fd or -1. */
static int
socks_bind_listen(struct sockaddr_storage *local)
{
    socklen_t len = sizeof(*local);
    int fd;

    if (local->ss_family == AF_INET)
        ((struct sockaddr_in *)local)->sin_port = 0;
    else
        ((struct sockaddr_in6 *)local)->sin6_port = 0;
    fd = socket(local->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
                SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    if (bind(fd, (struct sockaddr *)local,
             sk_addr_len((struct sockaddr *)local)) == -1 ||
        listen(fd, 4) == -1 ||
        getsockname(fd, (struct sockaddr *)local, &len) == -1) {
        close(fd);
        return -1;
    }
    return fd;
}

void
socks_bind_start(struct socks_sess *s)
{
    struct socks_bind *b = sk_calloc(1, sizeof(*b));
    struct sockaddr_storage local;
    struct timeval tv;

    b->s = s;
    b->lfd = -1;
    sk_addr_unmap(&s->addrs->addrs[0], &b->expect);
    sk_addr_unmap(&s->rec.local, &local);
    if (!socks_bind_any(&b->expect) &&
        socks_bind_local(&b->expect, &local) == -1)
        sk_addr_unmap(&s->rec.local, &local);
    b->lfd = socks_bind_listen(&local);
    if (b->lfd == -1) {
        sk_notice(SK_SEC_COMM, "socks BIND for %s: %s", s->rec.url,
                  strerror(errno));
        socks_bind_free(b);
        socks_fail(s, SOCKS5_REP_FAILURE, "NONE_NONE", 503);
        return;
    }
    b->ev_acc = event_new(s->w->base, b->lfd, EV_READ | EV_PERSIST,
                          socks_bind_accept_cb, b);
    s->bind = b;
    event_add(b->ev_acc, NULL);
    tv = sk_msec_tv(s->conf->connect_timeout);
    event_add(s->ev_tm, &tv);
    /* First reply: where the application server is to connect. */
    if (socks_reply(s, SOCKS5_REP_SUCCEEDED, &local) == 0)
        event_add(s->ev_rd, NULL);  /* notice the client leaving */
}
