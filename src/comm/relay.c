/*
 * relay.c -- the opaque two-way relay between two connected sockets (see
 * relay.h).
 *
 * Each direction (a -> b is dir[0], b -> a is dir[1]) owns an output queue
 * made of a user-space evbuffer (the caller's pending bytes, leftovers of
 * the copy path) followed by a pipe (the splice path).  The queue is always
 * written out before the source is read again, so bytes keep their order
 * and at most one pipe (or one scratch buffer) of data is in flight per
 * direction.  When the destination would block, the source is simply not
 * read: the kernel's TCP window pushes back on the peer.
 *
 * Events are edge-triggered and persistent, so while bytes flow freely the
 * relay makes no epoll_ctl call.  The read events are registered at start;
 * a write event only once its destination first blocks (a socket is
 * writable until then, and most short connections never block: that
 * saves two epoll_ctl calls and two wakeups per relay).  Readiness is
 * remembered in rd_ready / wr_ready and cleared on EAGAIN; a burst stops
 * after RELAY_BURST reads (fairness) and reschedules itself with
 * event_active(), since no new edge would come for bytes already waiting.
 * The one exception: while a direction waits for its destination, its
 * source's read event is removed, because every segment arriving on the
 * source would otherwise wake the loop for nothing (measured: about 17
 * useless wakeups per blocked period on loopback).
 *
 * A source whose FIN already waits behind its bytes is reported so
 * (EV_CLOSED, EPOLLRDHUP) by the same wakeup that reports the bytes; they
 * are then written with MORE, so the shutdown that follows their EOF puts
 * the FIN on their last segment: a server's last response and its close
 * reach the client as one segment and one wakeup, not two.
 *
 * An idle relay holds no user-space buffer and no pipe: pipes come from a
 * small per-thread pool and go back to it whenever they are empty, and the
 * copy path reads into a per-thread scratch buffer, keeping only what the
 * destination did not accept.  libevent's evbuffer_read() is not used on
 * purpose: in libevent 2.1 it reads at most 4096 bytes per call (and calls
 * FIONREAD first), which costs several times the throughput.
 *
 * splice(2) into a socket whose peer has gone raises SIGPIPE and has no
 * MSG_NOSIGNAL: the program must ignore SIGPIPE (skua's main does).  The
 * copy path uses send(MSG_NOSIGNAL).
 *
 * The relay pointer is invalid inside done() (use its <st> argument, not
 * relay_get_stats()) and after it; relay_abort() is for use from outside
 * the relay's own callbacks.  The sockets must not have events of their
 * own left in the same event_base: libevent 2.1 does not mix edge- and
 * level-triggered events on one descriptor (outside its debug mode it
 * silently keeps the mode already registered, and the relay would run
 * level-triggered).
 * Edge-triggered events need epoll or kqueue; libevent's select and poll
 * backends would make the relay spin.
 *
 * This module does not parse, decrypt, rate-limit or log traffic records;
 * the caller fills the connection record from the stats given to done().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "comm/relay.h"
#include "sk_log.h"
#include "sk_time.h"

#if defined(HAVE_SPLICE) && defined(HAVE_PIPE2) && defined(SPLICE_F_NONBLOCK)
#define RELAY_HAVE_SPLICE 1
#else
#define RELAY_HAVE_SPLICE 0
#endif

#define RELAY_MAGIC 0x52454c59u         /* "RELY" */
#define RELAY_BURST 16                  /* reads per event, then yield */
/*
 * Pipe size asked of F_SETPIPE_SZ.  Measured on loopback (2 cores): 1 MiB
 * costs the relay 0.11-0.16 CPU s per GiB, 256 KiB 0.14-0.19, the 64 KiB
 * default 0.18-0.24.  The pages are only references to the socket's, and
 * an empty pipe holds none.
 */
#ifndef RELAY_PIPE_SIZE
#define RELAY_PIPE_SIZE (1024 * 1024)
#endif
#define RELAY_POOL_MAX 32               /* spare empty pipes per thread */
#ifndef RELAY_SCRATCH_SIZE
#define RELAY_SCRATCH_SIZE (256 * 1024) /* copy path: bytes per read; 64 KiB
                                           cost ~20% more CPU per GiB */
#endif
#define RELAY_IOV_MAX 16

struct relay_pipe {
    int rfd;                    /* -1: none held */
    int wfd;
    uint32_t size;              /* capacity in bytes */
};

struct relay_dir {
    struct event ev_rd;         /* source readable (edge) */
    struct event ev_wr;         /* destination writable (edge) */
    struct relay *r;
    struct evbuffer *buf;       /* queued before the pipe; NULL if empty */
    struct relay_pipe pipe;
    uint32_t in_pipe;           /* bytes in <pipe> */
    unsigned rd_ready : 1;      /* source may have bytes or EOF */
    unsigned wr_ready : 1;      /* destination may take bytes */
    unsigned eof : 1;           /* source said EOF */
    unsigned fin : 1;           /* source's FIN is queued behind its bytes
                                   (EV_CLOSED): write them with MORE */
    unsigned shut : 1;          /* destination shut down for writing */
    unsigned copy : 1;          /* splice unusable: copy loop */
    unsigned rd_off : 1;        /* ev_rd removed while blocked or done */
    unsigned wr_on : 1;         /* ev_wr added (once the dest blocked) */
};

struct relay {
    uint32_t magic;
    unsigned moved : 1;         /* bytes moved since last_active was set */
    int fd[2];                  /* a, b */
    struct relay_dir dir[2];    /* a -> b, b -> a */
    struct event ev_idle;       /* lazily re-armed idle timer */
    sk_msec_t idle_timeout;
    sk_msec_t last_active;
    struct relay_stats stats;
    relay_done_f *done;
    void *done_arg;
};

/* Per-thread state: the pipe pool and the copy path's scratch buffer. */
struct relay_tls {
    struct relay_pipe pool[RELAY_POOL_MAX];
    unsigned npool;
    bool registered;
    char *scratch;
};

static _Thread_local struct relay_tls relay_tls;
static pthread_key_t relay_tls_key;
static pthread_once_t relay_tls_once = PTHREAD_ONCE_INIT;

static void
relay_pipe_close(struct relay_pipe *p)
{
    if (p->rfd != -1) {
        close(p->rfd);
        close(p->wfd);
    }
    p->rfd = p->wfd = -1;
}

/* Thread exit: close the spare pipes, free the scratch buffer. */
static void
relay_tls_free(void *arg)
{
    struct relay_tls *t = arg;

    while (t->npool > 0)
        relay_pipe_close(&t->pool[--t->npool]);
    SK_FREE(t->scratch);
    t->registered = false;
}

static void
relay_tls_key_init(void)
{
    if (pthread_key_create(&relay_tls_key, relay_tls_free) != 0)
        sk_err(SK_SEC_RELAY, "relay: pthread_key_create failed");
}

/* Make sure this thread's state is released when the thread exits. */
static struct relay_tls *
relay_tls_get(void)
{
    struct relay_tls *t = &relay_tls;

    if (!t->registered) {
        pthread_once(&relay_tls_once, relay_tls_key_init);
        pthread_setspecific(relay_tls_key, t);
        t->registered = true;
    }
    return t;
}

static char *
relay_scratch(void)
{
    struct relay_tls *t = relay_tls_get();

    if (t->scratch == NULL)
        t->scratch = sk_malloc(RELAY_SCRATCH_SIZE);
    return t->scratch;
}

#if RELAY_HAVE_SPLICE
/* Take an empty pipe from the pool, or make one.  Return 0 or -1. */
static int
relay_pipe_get(struct relay_pipe *p)
{
    struct relay_tls *t = relay_tls_get();
    int fds[2];
    int sz;

    if (t->npool > 0) {
        *p = t->pool[--t->npool];
        return 0;
    }
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1)
        return -1;
    p->rfd = fds[0];
    p->wfd = fds[1];
    /*
     * Refused (EPERM) past fs.pipe-max-size or, without CAP_SYS_RESOURCE,
     * fs.pipe-user-pages-soft; the default size then serves.  Pipes are
     * made rarely (the pool reuses them), so asking each time is cheap.
     */
    sz = fcntl(p->wfd, F_SETPIPE_SZ, RELAY_PIPE_SIZE);
    if (sz == -1)
        sz = fcntl(p->wfd, F_GETPIPE_SZ);
    p->size = sz > 0 ? (uint32_t)sz : 65536;
    return 0;
}

/* Give back pipe <p> if it is <empty>; close it if not. */
static void
relay_pipe_release(struct relay_pipe *p, bool empty)
{
    struct relay_tls *t;

    if (p->rfd == -1)
        return;
    t = relay_tls_get();
    if (empty && t->npool < RELAY_POOL_MAX) {
        t->pool[t->npool++] = *p;
        p->rfd = p->wfd = -1;
        return;
    }
    relay_pipe_close(p);
}
#else
static void
relay_pipe_release(struct relay_pipe *p, bool empty)
{
    (void)empty;
    relay_pipe_close(p);
}
#endif

/* Give back the pipe of <d> if it is empty; close it if not. */
static void
relay_pipe_put(struct relay_dir *d)
{
    relay_pipe_release(&d->pipe, d->in_pipe == 0);
    d->in_pipe = 0;
}

static size_t
relay_queued(const struct relay_dir *d)
{
    return (d->buf != NULL ? evbuffer_get_length(d->buf) : 0) + d->in_pipe;
}

static void
relay_count(struct relay *r, struct relay_dir *d, size_t n)
{
    if (d == &r->dir[0])
        r->stats.a_to_b += n;
    else
        r->stats.b_to_a += n;
    r->moved = 1;
}

/* Queue <n> bytes of <p> in <d>'s user-space buffer. */
static void
relay_buf_add(struct relay_dir *d, const void *p, size_t n)
{
    if (d->buf == NULL)
        d->buf = evbuffer_new();
    if (d->buf == NULL || evbuffer_add(d->buf, p, n) == -1) {
        /* evbuffer_new() only fails when malloc does. */
        sk_err(SK_SEC_RELAY, "relay: out of memory queueing %zu bytes", n);
        abort();
    }
}

/*
 * Write <d>'s user-space buffer to <dst>.  Return SKUA_OK when it is empty,
 * SKUA_AGAIN when <dst> would block, SKUA_ERROR with errno set.
 */
static int
relay_flush_buf(struct relay *r, struct relay_dir *d, int dst)
{
    struct evbuffer_iovec vec[RELAY_IOV_MAX];
    struct msghdr msg;
    ssize_t n;
    int nvec;

    while (d->buf != NULL) {
        nvec = evbuffer_peek(d->buf, -1, NULL, vec, RELAY_IOV_MAX);
        if (nvec <= 0) {
            evbuffer_free(d->buf);
            d->buf = NULL;
            break;
        }
        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = (struct iovec *)vec;
        msg.msg_iovlen = (size_t)SK_MIN(nvec, RELAY_IOV_MAX);
        n = sendmsg(dst, &msg, MSG_NOSIGNAL | (d->fin ? MSG_MORE : 0));
        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                d->wr_ready = 0;
                return SKUA_AGAIN;
            }
            return SKUA_ERROR;
        }
        evbuffer_drain(d->buf, (size_t)n);
        relay_count(r, d, (size_t)n);
        if (evbuffer_get_length(d->buf) == 0) {
            evbuffer_free(d->buf);
            d->buf = NULL;
        }
    }
    return SKUA_OK;
}

/* Read the <*in_pipe> bytes of pipe <rfd> into <buf>.  Return 0, or -1
 * with errno set. */
static int
relay_pipe_drain(int rfd, uint32_t *in_pipe, struct evbuffer *buf)
{
    char *s = relay_scratch();
    ssize_t n;

    while (*in_pipe > 0) {
        n = read(rfd, s, SK_MIN(*in_pipe, RELAY_SCRATCH_SIZE));
        if (n <= 0) {
            if (n == -1 && errno == EINTR)
                continue;
            if (n == 0)
                errno = EIO;
            return -1;
        }
        if (evbuffer_add(buf, s, (size_t)n) == -1) {
            errno = ENOMEM;
            return -1;
        }
        *in_pipe -= (uint32_t)n;
    }
    return 0;
}

#if RELAY_HAVE_SPLICE
/*
 * The destination refused splice: move what sits in the pipe into the
 * user-space buffer and copy from now on.  Return 0, or -1 with errno set.
 */
static int
relay_pipe_to_buf(struct relay_dir *d)
{
    if (d->in_pipe > 0) {
        if (d->buf == NULL && (d->buf = evbuffer_new()) == NULL) {
            errno = ENOMEM;
            return -1;
        }
        if (relay_pipe_drain(d->pipe.rfd, &d->in_pipe, d->buf) == -1)
            return -1;
    }
    d->copy = 1;
    return 0;
}

/* Write <d>'s pipe to <dst>; results as for relay_flush_buf(). */
static int
relay_flush_pipe(struct relay *r, struct relay_dir *d, int dst)
{
    ssize_t n;

    while (d->in_pipe > 0) {
        n = splice(d->pipe.rfd, NULL, dst, NULL, d->in_pipe,
                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK |
                   (d->fin ? SPLICE_F_MORE : 0));
        if (n > 0) {
            d->in_pipe -= (uint32_t)n;
            relay_count(r, d, (size_t)n);
            continue;
        }
        if (n == 0) {
            errno = EIO;
            return SKUA_ERROR;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            d->wr_ready = 0;
            return SKUA_AGAIN;
        }
        if (relay_splice_refused(errno)) {
            if (relay_pipe_to_buf(d) == -1)
                return SKUA_ERROR;
            return relay_flush_buf(r, d, dst);
        }
        return SKUA_ERROR;
    }
    return SKUA_OK;
}
#endif

/* Write <d>'s whole queue to <dst>; results as for relay_flush_buf(). */
static int
relay_flush(struct relay *r, struct relay_dir *d, int dst)
{
    int rc = relay_flush_buf(r, d, dst);

#if RELAY_HAVE_SPLICE
    if (rc == SKUA_OK)
        rc = relay_flush_pipe(r, d, dst);
#endif
    return rc;
}

/*
 * Copy path: read once from <src> into the scratch buffer and send it to
 * <dst> at once, queueing what <dst> does not take.  The queue is empty on
 * entry.  Return SKUA_OK, SKUA_AGAIN (nothing to read) or SKUA_ERROR.
 */
static int
relay_fill_copy(struct relay *r, struct relay_dir *d, int src, int dst)
{
    char *s = relay_scratch();
    ssize_t n, w;

    n = recv(src, s, RELAY_SCRATCH_SIZE, 0);
    if (n == 0) {
        d->eof = 1;
        return SKUA_OK;
    }
    if (n == -1) {
        if (errno == EINTR)
            return SKUA_OK;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            d->rd_ready = 0;
            return SKUA_AGAIN;
        }
        return SKUA_ERROR;
    }
    r->moved = 1;
    w = 0;
    while (d->wr_ready && w < n) {
        ssize_t k = send(dst, s + w, (size_t)(n - w),
                         MSG_NOSIGNAL | (d->fin ? MSG_MORE : 0));

        if (k == -1) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return SKUA_ERROR;
            d->wr_ready = 0;
            break;
        }
        w += k;
        relay_count(r, d, (size_t)k);
    }
    if (w < n)
        relay_buf_add(d, s + w, (size_t)(n - w));
    return SKUA_OK;
}

/*
 * Read once from <src> into <d>'s queue (the pipe, or the copy path when
 * splice cannot be used).  Return as relay_fill_copy().
 */
static int
relay_fill(struct relay *r, struct relay_dir *d, int src, int dst)
{
#if RELAY_HAVE_SPLICE
    ssize_t n;

    if (d->copy)
        return relay_fill_copy(r, d, src, dst);
    if (d->pipe.rfd == -1 && relay_pipe_get(&d->pipe) == -1) {
        /* Out of descriptors: this read goes through user space. */
        return relay_fill_copy(r, d, src, dst);
    }
    n = splice(src, NULL, d->pipe.wfd, NULL, d->pipe.size - d->in_pipe,
               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
        d->in_pipe += (uint32_t)n;
        r->moved = 1;
        return SKUA_OK;
    }
    if (n == 0) {
        d->eof = 1;
        return SKUA_OK;
    }
    if (errno == EINTR)
        return SKUA_OK;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        /* The pipe is empty here, so it is the socket that is. */
        d->rd_ready = 0;
        return SKUA_AGAIN;
    }
    if (relay_splice_refused(errno) &&
        d->in_pipe == 0) {
        sk_debug(SK_SEC_RELAY, SK_LOG_DEBUG,
                 "relay: splice refused on fd %d, copying", src);
        d->copy = 1;
        return relay_fill_copy(r, d, src, dst);
    }
    return SKUA_ERROR;
#else
    return relay_fill_copy(r, d, src, dst);
#endif
}

/* Close <fd>; with <reset>, make the peer see a TCP reset. */
static void
relay_close_fd(int fd, bool reset)
{
    if (reset) {
        struct linger l = { .l_onoff = 1, .l_linger = 0 };

        /* Fails harmlessly on sockets that have no linger (AF_UNIX). */
        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    close(fd);
}

/* Remove the events, release queues and pipes, close both sockets. */
static void
relay_teardown(struct relay *r, bool reset)
{
    unsigned i;

    for (i = 0; i < 2; i++) {
        struct relay_dir *d = &r->dir[i];

        if (event_initialized(&d->ev_rd))
            event_del(&d->ev_rd);
        if (event_initialized(&d->ev_wr))
            event_del(&d->ev_wr);
        if (d->buf != NULL) {
            evbuffer_free(d->buf);
            d->buf = NULL;
        }
        relay_pipe_put(d);
    }
    if (event_initialized(&r->ev_idle))
        event_del(&r->ev_idle);
    relay_close_fd(r->fd[0], reset);
    relay_close_fd(r->fd[1], reset);
    r->fd[0] = r->fd[1] = -1;
}

/*
 * End the relay with <err> (0, ETIMEDOUT or an errno), call done once and
 * free.  On a failure both sides are reset, as the peer of a transparent
 * relay would see it had the other peer reset.
 */
static void
relay_finish(struct relay *r, int err)
{
    relay_teardown(r, err != 0 && err != ETIMEDOUT);
    sk_debug(SK_SEC_RELAY, SK_LOG_DEBUG,
             "relay: end err=%d a_to_b=%llu b_to_a=%llu", err,
             (unsigned long long)r->stats.a_to_b,
             (unsigned long long)r->stats.b_to_a);
    r->magic = 0;
    r->done(&r->stats, err, r->done_arg);
    free(r);
}

/*
 * The source of <d> said EOF and its queue is empty: pass the EOF on.
 * Return 0, or -1 with errno set.
 */
static int
relay_shut(struct relay *r, struct relay_dir *d, int dst)
{
    d->shut = 1;
    relay_pipe_put(d);
    /* The last direction to end: the relay closes <dst> next, and since
     * <dst> was read to its EOF that close sends the FIN itself (a
     * system call less per relay). */
    if (r->dir[0].shut && r->dir[1].shut)
        return 0;
    if (shutdown(dst, SHUT_WR) == -1 && errno != ENOTCONN)
        return -1;
    return 0;
}

/*
 * Listen for <d>'s source only while its bytes could go somewhere: not
 * while the destination is blocked, and no more after EOF.
 */
static void
relay_rd_update(struct relay_dir *d)
{
    bool want = !d->eof && !(d->wr_ready == 0 && relay_queued(d) > 0);

    if (want && d->rd_off) {
        /* Re-adding an edge-triggered event reports data already there. */
        event_add(&d->ev_rd, NULL);
        d->rd_off = 0;
    } else if (!want && !d->rd_off) {
        event_del(&d->ev_rd);
        d->rd_off = 1;
    }
}

/*
 * Move bytes along direction <d> until both ends would block, the burst
 * is spent, or the source is finished.  Return 0, or -1 once the relay has
 * ended (it is freed: the caller must not touch it).
 */
static int
relay_pump(struct relay *r, struct relay_dir *d)
{
    unsigned di = (unsigned)(d - r->dir);
    int src = r->fd[di], dst = r->fd[!di];
    unsigned reads = 0;
    int rc;

    while (!d->shut) {
        if (relay_queued(d) > 0) {
            if (!d->wr_ready)
                break;
            rc = relay_flush(r, d, dst);
            if (rc == SKUA_ERROR)
                goto fail;
            if (rc == SKUA_AGAIN)
                break;
        }
        if (d->eof) {
            if (relay_shut(r, d, dst) == -1)
                goto fail;
            break;
        }
        if (!d->rd_ready)
            break;
        if (reads++ == RELAY_BURST) {
            /*
             * Let other connections run; bytes are still waiting.  The
             * event must be added first: event_add() ignores an event
             * that is already active.
             */
            relay_rd_update(d);
            event_active(&d->ev_rd, EV_READ, 1);
            break;
        }
        if (relay_fill(r, d, src, dst) == SKUA_ERROR)
            goto fail;
    }
    if (d->in_pipe == 0)
        relay_pipe_put(d);
    if (!d->wr_ready && !d->wr_on) {
        /* Added now, the edge-triggered event reports the destination's
         * state as it is, so a space freed meanwhile is not missed. */
        event_add(&d->ev_wr, NULL);
        d->wr_on = 1;
    }
    relay_rd_update(d);
    if (r->moved && r->idle_timeout > 0) {
        r->last_active = sk_now_msec();
        r->moved = 0;
    }
    if (r->dir[0].shut && r->dir[1].shut) {
        relay_finish(r, 0);
        return -1;
    }
    return 0;

fail:
    rc = errno != 0 ? errno : EIO;
    sk_debug(SK_SEC_RELAY, SK_LOG_DEBUG, "relay: fd %d -> fd %d: %s", src,
             dst, strerror(rc));
    relay_finish(r, rc);
    return -1;
}

static void
relay_rd_cb(evutil_socket_t fd, short what, void *arg)
{
    struct relay_dir *d = arg;

    SK_CHECK_MAGIC(d->r, RELAY_MAGIC);
    d->rd_ready = 1;
    if (what & EV_CLOSED)
        d->fin = 1;
    (void)relay_pump(d->r, d);
}

static void
relay_wr_cb(evutil_socket_t fd, short what, void *arg)
{
    struct relay_dir *d = arg;

    SK_CHECK_MAGIC(d->r, RELAY_MAGIC);
    d->wr_ready = 1;
    if (relay_queued(d) > 0)
        (void)relay_pump(d->r, d);
}

static void
relay_idle_cb(evutil_socket_t fd, short what, void *arg)
{
    struct relay *r = arg;
    sk_msec_t left;
    struct timeval tv;

    SK_CHECK_MAGIC(r, RELAY_MAGIC);
    left = r->last_active + r->idle_timeout - sk_now_msec();
    if (left > 0) {
        tv = sk_msec_tv(left);
        event_add(&r->ev_idle, &tv);
        return;
    }
    relay_finish(r, ETIMEDOUT);
}

/* Set up direction <i> of <r>: events and the caller's pending bytes. */
static int
relay_dir_init(struct relay *r, struct event_base *base, unsigned i,
               struct evbuffer *pending, bool copy)
{
    struct relay_dir *d = &r->dir[i];

    d->r = r;
    d->pipe.rfd = d->pipe.wfd = -1;
    d->wr_ready = 1;
    d->copy = copy || !RELAY_HAVE_SPLICE;
    if (pending != NULL && evbuffer_get_length(pending) > 0) {
        d->buf = evbuffer_new();
        if (d->buf == NULL || evbuffer_add_buffer(d->buf, pending) == -1)
            return -1;
    }
    if (event_assign(&d->ev_rd, base, r->fd[i],
                     EV_READ | EV_ET | EV_PERSIST |
                     ((event_base_get_features(base) &
                       EV_FEATURE_EARLY_CLOSE) ? EV_CLOSED : 0),
                     relay_rd_cb, d) == -1 ||
        event_assign(&d->ev_wr, base, r->fd[!i],
                     EV_WRITE | EV_ET | EV_PERSIST, relay_wr_cb, d) == -1)
        return -1;
    return 0;
}

struct relay *
relay_start(struct event_base *base, int fd_a, int fd_b,
            struct evbuffer *pending_a, struct evbuffer *pending_b,
            const struct relay_opts *o, relay_done_f *done, void *arg)
{
    struct relay *r;
    struct timeval tv;
    bool copy = o != NULL && o->no_splice;
    unsigned i;

    if (base == NULL || fd_a < 0 || fd_b < 0 || fd_a == fd_b ||
        done == NULL)
        goto fail_fds;
    r = sk_calloc(1, sizeof(*r));
    r->magic = RELAY_MAGIC;
    r->fd[0] = fd_a;
    r->fd[1] = fd_b;
    r->done = done;
    r->done_arg = arg;
    r->idle_timeout = o != NULL && o->idle_timeout > 0 ? o->idle_timeout : 0;
    if (relay_dir_init(r, base, 0, pending_a, copy) == -1 ||
        relay_dir_init(r, base, 1, pending_b, copy) == -1)
        goto fail_free;
    /*
     * Adding an edge-triggered event reports the state it finds, so bytes
     * already waiting on either socket start flowing from the loop, never
     * from inside this call; so do the pending ones, through an
     * activated write event.
     */
    if (event_add(&r->dir[0].ev_rd, NULL) == -1 ||
        event_add(&r->dir[1].ev_rd, NULL) == -1)
        goto fail_free;
    for (i = 0; i < 2; i++)
        if (r->dir[i].buf != NULL)
            event_active(&r->dir[i].ev_wr, EV_WRITE, 1);
    if (r->idle_timeout > 0) {
        r->last_active = sk_now_msec();
        tv = sk_msec_tv(r->idle_timeout);
        if (event_assign(&r->ev_idle, base, -1, 0, relay_idle_cb, r) == -1 ||
            event_add(&r->ev_idle, &tv) == -1)
            goto fail_free;
    }
    return r;

fail_free:
    sk_err(SK_SEC_RELAY, "relay: cannot start relay for fds %d, %d", fd_a,
           fd_b);
    relay_teardown(r, false);
    free(r);
    return NULL;

fail_fds:
    if (fd_a >= 0)
        close(fd_a);
    if (fd_b >= 0 && fd_b != fd_a)
        close(fd_b);
    errno = EINVAL;
    return NULL;
}

void
relay_abort(struct relay *r)
{
    if (r == NULL)
        return;
    SK_CHECK_MAGIC(r, RELAY_MAGIC);
    relay_teardown(r, false);
    r->magic = 0;
    free(r);
}

const struct relay_stats *
relay_get_stats(const struct relay *r)
{
    SK_CHECK_MAGIC(r, RELAY_MAGIC);
    return &r->stats;
}

/* ---- one-way splicing (see relay.h) ---- */

int
relay_splice_open(struct relay_splice *sp)
{
#if RELAY_HAVE_SPLICE
    struct relay_pipe p;

    if (relay_pipe_get(&p) == -1)
        return -1;
    sp->rfd = p.rfd;
    sp->wfd = p.wfd;
    sp->size = p.size;
    sp->in_pipe = 0;
    return 0;
#else
    sp->rfd = sp->wfd = -1;
    errno = ENOSYS;
    return -1;
#endif
}

ssize_t
relay_splice_in(struct relay_splice *sp, int src, size_t max)
{
#if RELAY_HAVE_SPLICE
    ssize_t n;

    if (max > sp->size - sp->in_pipe)
        max = sp->size - sp->in_pipe;
    if (max == 0) {
        errno = ENOBUFS;
        return -1;
    }
    do {
        n = splice(src, NULL, sp->wfd, NULL, max,
                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    } while (n == -1 && errno == EINTR);
    if (n > 0)
        sp->in_pipe += (uint32_t)n;
    else if (n == -1 && errno == EWOULDBLOCK)
        errno = EAGAIN;
    return n;
#else
    (void)sp, (void)src, (void)max;
    errno = ENOSYS;
    return -1;
#endif
}

ssize_t
relay_splice_out(struct relay_splice *sp, int dst)
{
#if RELAY_HAVE_SPLICE
    size_t done = 0;
    ssize_t n;

    while (sp->in_pipe > 0) {
        n = splice(sp->rfd, NULL, dst, NULL, sp->in_pipe,
                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            sp->in_pipe -= (uint32_t)n;
            done += (size_t)n;
            continue;
        }
        if (n == 0)
            errno = EIO;
        else if (errno == EINTR)
            continue;
        else if (errno == EWOULDBLOCK)
            errno = EAGAIN;
        /* Report what was written; an error other than EAGAIN comes
         * back on the next call. */
        if (done > 0)
            break;
        return -1;
    }
    return (ssize_t)done;
#else
    (void)sp, (void)dst;
    errno = ENOSYS;
    return -1;
#endif
}

int
relay_splice_to_buf(struct relay_splice *sp, struct evbuffer *buf)
{
    return relay_pipe_drain(sp->rfd, &sp->in_pipe, buf);
}

void
relay_splice_close(struct relay_splice *sp)
{
    struct relay_pipe p = { sp->rfd, sp->wfd, sp->size };

    relay_pipe_release(&p, sp->in_pipe == 0);
    sp->rfd = sp->wfd = -1;
    sp->in_pipe = 0;
}
