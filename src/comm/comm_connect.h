/*
 * comm_connect.h -- outbound TCP connections: Happy Eyeballs v2 (RFC 8305)
 * over a list of resolved addresses, source address selection and the
 * connect timeout.
 *
 * Attempts start in RFC 8305 section 4 order (address families
 * interleaved, IPv6 first), one every 250 ms (the Connection Attempt
 * Delay), or at once when the previous attempt fails; the first to complete
 * wins and the others are closed.
 */
#ifndef SK_COMM_CONNECT_H
#define SK_COMM_CONNECT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sk_common.h"

struct event_base;
struct comm_connect;

/*
 * Receive the outcome: <fd> is a connected non-blocking socket (the callee
 * owns it from now on) and <peer> the address it reached, or <fd> is -1
 * and <err> the errno of the last failure (ETIMEDOUT for the timeout).
 */
typedef void comm_connect_cb_f(int fd, int err,
                               const struct sockaddr_storage *peer,
                               void *arg);

struct comm_connect_opts {
    sk_msec_t timeout;                      /* whole operation; 0: none */
    const struct sockaddr_storage *src4;    /* bind before connecting to */
    const struct sockaddr_storage *src6;    /*   IPv4 / IPv6; may be NULL */
    sk_msec_t attempt_delay;                /* 0: 250 ms */
    bool transparent;                       /* set IP_TRANSPARENT before
                                               binding, so src4/src6 may
                                               be a foreign address (the
                                               client's, on a tproxy
                                               port); needs CAP_NET_ADMIN */
};

/*
 * Connect to port <port> of one of <n> addresses <addrs> (copied).  The
 * callback is always called later from the event loop, never from inside
 * this call.  Return a handle valid until the callback runs, or NULL if
 * nothing could be started (n == 0 or out of memory; errno set).
 */
struct comm_connect *comm_connect_start(struct event_base *base,
                                        const struct sockaddr_storage *addrs,
                                        unsigned n, uint16_t port,
                                        const struct comm_connect_opts *o,
                                        comm_connect_cb_f *cb, void *arg);

/* Abandon a pending connect: close its sockets, never call back. */
void comm_connect_cancel(struct comm_connect *c);

/*
 * Order <n> addresses in place for Happy Eyeballs: interleave families,
 * starting with the family of the first address, IPv6 preferred.  Pure;
 * exposed for unit tests.
 */
void comm_connect_sort(struct sockaddr_storage *addrs, unsigned n);

#endif
