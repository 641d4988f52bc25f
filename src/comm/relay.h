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

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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

/*
 * One-way splicing for callers that frame the bytes themselves (an HTTP
 * body of known length): socket -> pipe -> socket, the pipe taken from the
 * relay's per-thread pool.  The caller owns the events and decides how
 * many bytes to take; the bytes never enter user space.
 */
struct relay_splice {
    int rfd;                    /* -1: no pipe held */
    int wfd;
    uint32_t size;              /* the pipe's capacity */
    uint32_t in_pipe;           /* bytes read and not yet written */
};

/* True if <err> from splice(2) means the descriptor refuses splicing
 * (copy instead), not a failure of the connection. */
static inline bool
relay_splice_refused(int err)
{
    return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP;
}

/* Take a pipe for <sp>.  Return 0, or -1 when splice cannot be used here
 * (no splice(2), out of descriptors). */
int relay_splice_open(struct relay_splice *sp);

/*
 * Move at most <max> bytes (and never more than the pipe has room for)
 * from socket <src> into the pipe.  Return the bytes moved, 0 at end of
 * stream, or -1 with errno: EAGAIN when <src> has nothing now; EINVAL,
 * ENOSYS or EOPNOTSUPP when the socket refuses splice.
 */
ssize_t relay_splice_in(struct relay_splice *sp, int src, size_t max);

/*
 * Write what the pipe holds to socket <dst>.  Return the bytes written (0
 * when the pipe was empty; fewer than it held when <dst> filled up or
 * failed, a failure then reported by the next call), or -1 with errno
 * (EAGAIN: <dst> is full; EPIPE or ECONNRESET: its peer has gone; EINVAL:
 * it refuses splice, see relay_splice_to_buf()).
 */
ssize_t relay_splice_out(struct relay_splice *sp, int dst);

/* Move what the pipe holds into <buf> (when the destination refuses
 * splice).  Return 0, or -1 with errno. */
int relay_splice_to_buf(struct relay_splice *sp, struct evbuffer *buf);

/* Give the pipe back (to the pool when empty); <sp> holds none after. */
void relay_splice_close(struct relay_splice *sp);

#endif
