/*
 * relay.h -- the opaque two-way relay between two connected sockets
 * (CONNECT tunnels, later SOCKS and intercepted TCP).
 *
 * On Linux the bytes move with splice(2) through one pipe pair per
 * direction and never enter user space; elsewhere, or when splice is
 * refused, a bounded copy loop is used.  Half-close is propagated: EOF from
 * one side becomes shutdown(SHUT_WR) on the other once everything read has
 * been written, and the relay ends when both directions are finished.
 * An idle relay holds no user-space buffers.
 */
#ifndef SK_RELAY_H
#define SK_RELAY_H

#include <stdint.h>

#include "sk_common.h"

struct event_base;
struct evbuffer;
struct relay;

struct relay_stats {
    uint64_t a_to_b;            /* bytes written to b */
    uint64_t b_to_a;            /* bytes written to a */
};

/*
 * Receive the end of a relay: both sockets are already closed.  <err> is 0
 * after an orderly end in both directions, ETIMEDOUT after the idle
 * timeout, or the errno of the failure.
 */
typedef void relay_done_f(const struct relay_stats *st, int err, void *arg);

struct relay_opts {
    sk_msec_t idle_timeout;     /* no byte either way for this long: end;
                                   0: no timeout */
    bool no_splice;             /* force the copy loop */
};

/*
 * Relay between connected non-blocking sockets <fd_a> and <fd_b>, taking
 * ownership of both.  Bytes already read from a (resp. b) are in
 * <pending_a> (<pending_b>) and are written to b (a) first; their contents
 * are moved out, the buffers stay the caller's; either may be NULL.
 * Return the relay, or NULL if it could not start (both fds are closed).
 */
struct relay *relay_start(struct event_base *base, int fd_a, int fd_b,
                          struct evbuffer *pending_a,
                          struct evbuffer *pending_b,
                          const struct relay_opts *o, relay_done_f *done,
                          void *arg);

/* Stop now: close both sockets, free, never call <done>. */
void relay_abort(struct relay *r);

/* Bytes relayed so far. */
const struct relay_stats *relay_get_stats(const struct relay *r);

#endif
