/*
 * comm_connect.c -- outbound TCP connects with Happy Eyeballs v2
 * (RFC 8305) over an already resolved address list.
 *
 * Addresses are ordered by comm_connect_sort() (families interleaved,
 * IPv6 first when both are present; RFC 8305 section 4 with a First
 * Address Family Count of 1).  One attempt starts, the next after the
 * Connection Attempt Delay or as soon as an attempt fails (section 5);
 * the first socket that becomes writable with SO_ERROR 0 (or that a
 * second connect() finds connected at once, as a local peer usually is)
 * wins and every other attempt is closed.  The result is always
 * delivered from the event loop, never from inside comm_connect_start().
 * The handle is freed just before the callback runs, so
 * comm_connect_cancel() must not be called from inside the callback (or
 * after it); anywhere else it is safe.
 *
 * It does not resolve names (src/dns/ does), pick a source address by
 * policy (the caller passes src4/src6 from tcp_outgoing_address), or read
 * and write the connection.  A handle costs about 350 bytes plus 40 per
 * address; each attempt in flight adds one libevent event.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sk_common.h"
#include "sk_log.h"
#include "sk_str.h"
#include "sk_time.h"
#include "comm/comm_connect.h"

#define COMM_CONNECT_MAGIC 0xc0c0ec71u
#define COMM_CONNECT_DELAY_MS 250

union cc_sa {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
};

struct cc_attempt {
    union cc_sa addr;               /* with the port */
    int fd;                         /* -1: not started or over */
    struct event *ev;               /* writability while connecting */
};

struct comm_connect {
    unsigned magic;
    bool finished;                  /* result stored, delivery pending */
    bool has_src4;
    bool has_src6;
    bool transparent;               /* sources may be foreign addresses */
    struct event_base *base;
    comm_connect_cb_f *cb;
    void *arg;
    struct event timer;             /* attempt delay, then delivery */
    struct event timeout;           /* the whole operation */
    sk_msec_t attempt_delay;
    union cc_sa src4;
    union cc_sa src6;
    int result_fd;
    int err;                        /* errno of the last failure */
    unsigned winner;
    unsigned next;                  /* next attempt to start */
    unsigned active;                /* attempts connecting now */
    unsigned n;
    struct cc_attempt att[];
};

/* ---- ordering ---- */

/* Return the index of the next entry of <family> at or after <from>. */
static unsigned
cc_next_of(const struct sockaddr_storage *a, unsigned n, unsigned from,
           sa_family_t family)
{
    while (from < n && a[from].ss_family != family)
        from++;
    return from;
}

/*
 * Fill <order> with the Happy Eyeballs order of <a>: IPv6 and IPv4
 * alternate, IPv6 first when both are present, each family keeping its
 * own order; other families go last, in their order.
 */
static void
cc_order(const struct sockaddr_storage *a, unsigned n, unsigned *order)
{
    unsigned i6 = cc_next_of(a, n, 0, AF_INET6);
    unsigned i4 = cc_next_of(a, n, 0, AF_INET);
    unsigned k = 0, i;
    bool six = true;

    while (i6 < n || i4 < n) {
        if ((six && i6 < n) || i4 == n) {
            order[k++] = i6;
            i6 = cc_next_of(a, n, i6 + 1, AF_INET6);
        } else {
            order[k++] = i4;
            i4 = cc_next_of(a, n, i4 + 1, AF_INET);
        }
        six = !six;
    }
    for (i = 0; i < n; i++)
        if (a[i].ss_family != AF_INET && a[i].ss_family != AF_INET6)
            order[k++] = i;
}

void
comm_connect_sort(struct sockaddr_storage *addrs, unsigned n)
{
    struct sockaddr_storage *tmp;
    unsigned *order, i;

    if (n < 2)
        return;
    order = sk_malloc(n * sizeof(*order));
    tmp = sk_malloc(n * sizeof(*tmp));
    cc_order(addrs, n, order);
    for (i = 0; i < n; i++)
        tmp[i] = addrs[order[i]];
    memcpy(addrs, tmp, n * sizeof(*tmp));
    free(tmp);
    free(order);
}

/* ---- attempts ---- */

static void
cc_attempt_close(struct comm_connect *c, struct cc_attempt *at)
{
    if (at->ev != NULL) {
        event_free(at->ev);
        at->ev = NULL;
    }
    if (at->fd != -1) {
        close(at->fd);
        at->fd = -1;
        c->active--;
    }
}

static void
cc_free(struct comm_connect *c)
{
    unsigned i;

    for (i = 0; i < c->n; i++)
        cc_attempt_close(c, &c->att[i]);
    event_del(&c->timer);
    event_del(&c->timeout);
    c->magic = 0;
    free(c);
}

/* Hand the result to the callback and free <c>; called from the loop. */
static void
cc_deliver(struct comm_connect *c)
{
    comm_connect_cb_f *cb = c->cb;
    void *arg = c->arg;
    int fd = c->result_fd, err = c->err;
    struct sockaddr_storage peer;

    memset(&peer, 0, sizeof(peer));
    if (fd != -1)
        memcpy(&peer, &c->att[c->winner].addr, sizeof(union cc_sa));
    cc_free(c);
    cb(fd, fd == -1 ? err : 0, fd == -1 ? NULL : &peer, arg);
}

/*
 * Record the outcome (<fd> of attempt <winner>, or -1 and c->err), close
 * every other attempt and schedule delivery from the loop.
 */
static void
cc_finish(struct comm_connect *c, int fd, unsigned winner)
{
    unsigned i;

    if (fd != -1) {
        c->att[winner].fd = -1;     /* keep it out of the closing below */
        c->active--;
        if (c->att[winner].ev != NULL) {
            event_free(c->att[winner].ev);
            c->att[winner].ev = NULL;
        }
    }
    for (i = 0; i < c->n; i++)
        cc_attempt_close(c, &c->att[i]);
    c->finished = true;
    c->result_fd = fd;
    c->winner = winner;
    event_del(&c->timeout);
    event_del(&c->timer);
    event_active(&c->timer, EV_TIMEOUT, 1);
}

/*
 * Let <fd> bind to an address that is not local (a TPROXY gateway's
 * spoofed client source).  Return 0 or -1 with errno set.
 */
static int
cc_set_transparent(int fd, sa_family_t family)
{
    int one = 1;

#if defined(IP_TRANSPARENT)
#ifdef IPV6_TRANSPARENT
    if (family == AF_INET6)
        return setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one,
                          sizeof(one));
#endif
    return setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
#elif defined(IP_BINDANY)
    if (family == AF_INET6)
        return setsockopt(fd, IPPROTO_IPV6, IPV6_BINDANY, &one,
                          sizeof(one));
    return setsockopt(fd, IPPROTO_IP, IP_BINDANY, &one, sizeof(one));
#else
    (void)fd;
    (void)family;
    (void)one;
    errno = ENOPROTOOPT;
    return -1;
#endif
}

/* Create the socket of <at> and bind it to the configured source. */
static int
cc_socket(struct comm_connect *c, struct cc_attempt *at)
{
    const union cc_sa *src = NULL;
    int fd, one = 1;

    if (at->addr.sa.sa_family != AF_INET &&
        at->addr.sa.sa_family != AF_INET6) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    if (at->addr.sa.sa_family == AF_INET && c->has_src4)
        src = &c->src4;
    else if (at->addr.sa.sa_family == AF_INET6 && c->has_src6)
        src = &c->src6;
    fd = socket(at->addr.sa.sa_family,
                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (src != NULL && c->transparent &&
        cc_set_transparent(fd, src->sa.sa_family) == -1) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    if (src != NULL) {
#ifdef IP_BIND_ADDRESS_NO_PORT
        /* pick the port at connect() time, by 4-tuple: saves ports */
        if (sk_addr_port(&src->sa) == 0)
            (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                             sizeof(one));
#endif
        if (bind(fd, &src->sa, sk_addr_len(&src->sa)) == -1) {
            int e = errno;

            close(fd);
            errno = e;
            return -1;
        }
    }
    return fd;
}

static void cc_on_writable(evutil_socket_t fd, short what, void *arg);

enum cc_step { CC_FAILED, CC_PENDING, CC_CONNECTED };

/* Start attempt <i>; on CC_FAILED c->err holds the reason. */
static enum cc_step
cc_attempt_start(struct comm_connect *c, unsigned i)
{
    struct cc_attempt *at = &c->att[i];
    char buf[SK_ADDRSTRLEN];
    int fd;

    fd = cc_socket(c, at);
    if (fd == -1)
        goto fail;
    at->fd = fd;
    c->active++;
    if (connect(fd, &at->addr.sa, sk_addr_len(&at->addr.sa)) == 0)
        return CC_CONNECTED;
    if (errno != EINPROGRESS && errno != EINTR)
        goto fail_close;
    /*
     * A peer on this host has usually answered by the time connect()
     * returns (the handshake runs inside the call on loopback).  Asking
     * again tells without a trip through the event loop: 0 or EISCONN is
     * connected, EALREADY still in progress, anything else the failure
     * (on Linux the pending error is consumed here, so it must not be
     * left to SO_ERROR).  One system call more for a remote peer.  Linux
     * only: elsewhere a second connect() after a failure may start a new
     * attempt.
     */
#ifdef __linux__
    if (connect(fd, &at->addr.sa, sk_addr_len(&at->addr.sa)) == 0 ||
        errno == EISCONN)
        return CC_CONNECTED;
    if (errno != EALREADY && errno != EINPROGRESS && errno != EINTR)
        goto fail_close;
#endif
    at->ev = event_new(c->base, fd, EV_WRITE, cc_on_writable, c);
    if (at->ev == NULL || event_add(at->ev, NULL) == -1) {
        errno = ENOMEM;
        goto fail_close;
    }
    return CC_PENDING;
fail_close:
    c->err = errno;
    cc_attempt_close(c, at);
    errno = c->err;
fail:
    c->err = errno;
    sk_debug(SK_SEC_COMM, SK_LOG_DEBUG, "connect to %s failed: %s",
             sk_addr_port_str(&at->addr.sa, buf, sizeof(buf)),
             strerror(c->err));
    return CC_FAILED;
}

/*
 * Start attempts until one is connecting (then arm the attempt delay for
 * the next), one connected at once, or none is left.
 */
static void
cc_advance(struct comm_connect *c)
{
    event_del(&c->timer);
    while (c->next < c->n) {
        unsigned i = c->next++;
        struct timeval tv;

        switch (cc_attempt_start(c, i)) {
        case CC_CONNECTED:
            cc_finish(c, c->att[i].fd, i);
            return;
        case CC_PENDING:
            if (c->next < c->n) {
                tv = sk_msec_tv(c->attempt_delay);
                event_add(&c->timer, &tv);
            }
            return;
        case CC_FAILED:
            break;
        }
    }
    if (c->active == 0)
        cc_finish(c, -1, 0);
}

static void
cc_on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct comm_connect *c = arg;
    socklen_t len = sizeof(int);
    int soerr = 0;
    unsigned i;

    SK_CHECK_MAGIC(c, COMM_CONNECT_MAGIC);
    for (i = 0; i < c->n; i++)
        if (c->att[i].fd == fd)
            break;
    if (SK_BUG(i == c->n))
        return;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
        soerr = errno;
    if (soerr == 0) {
        cc_finish(c, fd, i);
        return;
    }
    c->err = soerr;
    cc_attempt_close(c, &c->att[i]);
    /* RFC 8305 section 5: a failure starts the next attempt at once */
    cc_advance(c);
}

static void
cc_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct comm_connect *c = arg;

    SK_CHECK_MAGIC(c, COMM_CONNECT_MAGIC);
    if (c->finished)
        cc_deliver(c);
    else
        cc_advance(c);
}

static void
cc_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct comm_connect *c = arg;

    SK_CHECK_MAGIC(c, COMM_CONNECT_MAGIC);
    c->err = ETIMEDOUT;
    c->result_fd = -1;
    cc_deliver(c);
}

/* Copy an optional source address; return whether there is one. */
static bool
cc_copy_src(union cc_sa *dst, const struct sockaddr_storage *src,
            sa_family_t family)
{
    if (src == NULL || src->ss_family != family)
        return false;
    memcpy(dst, src, sk_addr_len((const struct sockaddr *)src));
    return true;
}

struct comm_connect *
comm_connect_start(struct event_base *base,
                   const struct sockaddr_storage *addrs, unsigned n,
                   uint16_t port, const struct comm_connect_opts *o,
                   comm_connect_cb_f *cb, void *arg)
{
    struct comm_connect *c;
    unsigned *order, i;

    if (n == 0 || n > 1024) {
        errno = EINVAL;
        return NULL;
    }
    c = sk_calloc(1, sizeof(*c) + n * sizeof(c->att[0]));
    c->magic = COMM_CONNECT_MAGIC;
    c->base = base;
    c->cb = cb;
    c->arg = arg;
    c->n = n;
    c->result_fd = -1;
    c->err = ECONNREFUSED;
    c->attempt_delay = o && o->attempt_delay > 0 ? o->attempt_delay
                                                 : COMM_CONNECT_DELAY_MS;
    c->has_src4 = cc_copy_src(&c->src4, o ? o->src4 : NULL, AF_INET);
    c->has_src6 = cc_copy_src(&c->src6, o ? o->src6 : NULL, AF_INET6);
    c->transparent = o != NULL && o->transparent;
    order = sk_malloc(n * sizeof(*order));
    cc_order(addrs, n, order);
    for (i = 0; i < n; i++) {
        const struct sockaddr_storage *a = &addrs[order[i]];
        struct cc_attempt *at = &c->att[i];

        at->fd = -1;
        at->addr.sa.sa_family = a->ss_family;
        if (a->ss_family == AF_INET) {
            at->addr.in = *(const struct sockaddr_in *)a;
            at->addr.in.sin_port = htons(port);
        } else if (a->ss_family == AF_INET6) {
            at->addr.in6 = *(const struct sockaddr_in6 *)a;
            at->addr.in6.sin6_port = htons(port);
        }
    }
    free(order);
    evtimer_assign(&c->timer, base, cc_on_timer, c);
    evtimer_assign(&c->timeout, base, cc_on_timeout, c);
    if (o != NULL && o->timeout > 0) {
        struct timeval tv = sk_msec_tv(o->timeout);

        evtimer_add(&c->timeout, &tv);
    }
    cc_advance(c);
    return c;
}

void
comm_connect_cancel(struct comm_connect *c)
{
    if (c == NULL)
        return;
    SK_CHECK_MAGIC(c, COMM_CONNECT_MAGIC);
    if (c->finished && c->result_fd != -1)
        close(c->result_fd);
    cc_free(c);
}
