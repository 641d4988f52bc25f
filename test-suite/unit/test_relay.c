/*
 * test_relay.c -- component test of the opaque relay (src/comm/relay.c).
 *
 * Unlike the other unit tests this one uses real sockets (loopback TCP
 * pairs and AF_UNIX socket pairs) and a libevent loop, because the relay is
 * nothing but socket I/O.  Each case builds two pairs, (A, a) and (b, B),
 * relays a <-> b and drives the far ends A and B from the same loop: they
 * send pseudo-random streams and check every byte they receive against the
 * same generator.  It does not measure speed (test-suite/bench/ does).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#ifdef __linux__
#include <linux/tcp.h>          /* tcp_info with tcpi_segs_in */
#endif

#include "comm/relay.h"
#include "sk_time.h"

#define MiB (1024 * 1024)
#define EP_BUF (256 * 1024)

enum pair_kind { PAIR_TCP, PAIR_UNIX, PAIR_SEQPACKET };

/* A deterministic byte stream: xorshift64*, eight bytes per step. */
struct gen {
    uint64_t s;
    uint64_t word;
    unsigned off;
};

/* One far end: A (peer of a) or B (peer of b). */
struct ep {
    int fd;
    struct event ev_rd;
    struct event ev_wr;
    bool wr_added;
    /* sending */
    uint64_t to_send;
    uint64_t sent;
    struct gen tx;
    unsigned char *txbuf;
    size_t txoff, txlen;
    bool wait_eof;              /* send only after the peer's EOF */
    bool tx_done;               /* sent all and shut down */
    bool no_shut;               /* keep the write side open when done */
    /* receiving */
    struct gen rx;
    const char *prefix;         /* expected before the stream */
    size_t prefix_len;
    uint64_t received;
    bool rx_eof;
    int rx_err;
    bool mismatch;
};

struct harness {
    struct event_base *base;
    struct ep ep[2];            /* A, B */
    struct relay *relay;
    int done_calls;
    int done_err;
    struct relay_stats stats;
    bool timed_out;
    int listen_fd;
};

static unsigned char ep_rxbuf[EP_BUF];

/*
 * splice(2) seam (-Wl,--wrap=splice): refuse it with EINVAL, as for a
 * socket type that cannot splice, when reading from a socket
 * (REFUSE_READ) or when writing to one (REFUSE_WRITE).
 */
enum { REFUSE_NONE, REFUSE_READ, REFUSE_WRITE };
static int splice_refuse;

ssize_t __real_splice(int fd_in, loff_t *off_in, int fd_out,
                      loff_t *off_out, size_t len, unsigned int flags);
ssize_t __wrap_splice(int fd_in, loff_t *off_in, int fd_out,
                      loff_t *off_out, size_t len, unsigned int flags);

static bool
is_socket(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

ssize_t
__wrap_splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
              size_t len, unsigned int flags)
{
    if ((splice_refuse == REFUSE_READ && is_socket(fd_in)) ||
        (splice_refuse == REFUSE_WRITE && is_socket(fd_out))) {
        errno = EINVAL;
        return -1;
    }
    return __real_splice(fd_in, off_in, fd_out, off_out, len, flags);
}

static void
gen_init(struct gen *g, uint64_t seed)
{
    g->s = seed * 0x9E3779B97F4A7C15ull + 1;
    g->off = 8;
}

static void
gen_next(struct gen *g)
{
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    g->word = g->s * 0x2545F4914F6CDD1Dull;
    g->off = 0;
}

static void
gen_fill(struct gen *g, unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n && g->off < 8)
        p[i++] = (unsigned char)(g->word >> (8 * g->off++));
    /* Whole words at once (little-endian byte order, as above). */
    while (n - i >= 8) {
        unsigned k;

        gen_next(g);
        for (k = 0; k < 8; k++)
            p[i + k] = (unsigned char)(g->word >> (8 * k));
        i += 8;
        g->off = 8;
    }
    while (i < n) {
        if (g->off == 8)
            gen_next(g);
        p[i++] = (unsigned char)(g->word >> (8 * g->off++));
    }
}

static void
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    assert_int_not_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), -1);
}

/* Make a connected pair of <kind> in <fds>, both non-blocking. */
static void
make_pair(struct harness *h, enum pair_kind kind, int fds[2])
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    if (kind == PAIR_UNIX || kind == PAIR_SEQPACKET) {
        assert_int_equal(socketpair(AF_UNIX, kind == PAIR_UNIX ? SOCK_STREAM
                                    : SOCK_SEQPACKET, 0, fds), 0);
    } else {
        assert_int_equal(getsockname(h->listen_fd, (struct sockaddr *)&sin,
                                     &len), 0);
        fds[0] = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fds[0] >= 0);
        assert_int_equal(connect(fds[0], (struct sockaddr *)&sin,
                                 sizeof(sin)), 0);
        fds[1] = accept(h->listen_fd, NULL, NULL);
        assert_true(fds[1] >= 0);
    }
    set_nonblock(fds[0]);
    set_nonblock(fds[1]);
}

static void
ep_check_bytes(struct ep *e, const unsigned char *p, size_t n)
{
    unsigned char want[4096];
    size_t k;

    while (n > 0 && e->received < e->prefix_len) {
        if (*p != (unsigned char)e->prefix[e->received])
            e->mismatch = true;
        p++;
        n--;
        e->received++;
    }
    while (n > 0) {
        k = SK_MIN(n, sizeof(want));
        gen_fill(&e->rx, want, k);
        if (memcmp(want, p, k) != 0)
            e->mismatch = true;
        p += k;
        n -= k;
        e->received += k;
    }
}

static void ep_start_send(struct ep *e);

static void
ep_rd_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ep *e = arg;
    ssize_t n;
    int i;

    for (i = 0; i < 16; i++) {
        n = recv(fd, ep_rxbuf, sizeof(ep_rxbuf), 0);
        if (n > 0) {
            ep_check_bytes(e, ep_rxbuf, (size_t)n);
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n == 0)
            e->rx_eof = true;
        else
            e->rx_err = errno;
        event_del(&e->ev_rd);
        if (e->wait_eof && e->rx_eof)
            ep_start_send(e);
        return;
    }
}

static void
ep_wr_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ep *e = arg;
    ssize_t n;
    size_t want;
    int i;

    for (i = 0; i < 16; i++) {
        if (e->txoff == e->txlen && e->sent < e->to_send) {
            want = (size_t)SK_MIN(e->to_send - e->sent, 65536u);
            gen_fill(&e->tx, e->txbuf, want);
            e->txoff = 0;
            e->txlen = want;
        }
        if (e->txoff == e->txlen) {
            if (!e->no_shut)
                shutdown(fd, SHUT_WR);
            e->tx_done = true;
            event_del(&e->ev_wr);
            return;
        }
        n = send(fd, e->txbuf + e->txoff, e->txlen - e->txoff, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno != EAGAIN && errno != EINTR) {
                e->tx_done = true;
                event_del(&e->ev_wr);
            }
            return;
        }
        e->txoff += (size_t)n;
        e->sent += (uint64_t)n;
    }
}

static void
ep_start_send(struct ep *e)
{
    if (!e->wr_added) {
        e->wr_added = true;
        event_add(&e->ev_wr, NULL);
    }
}

static void
ep_init(struct harness *h, struct ep *e, int fd, uint64_t seed_tx,
        uint64_t seed_rx)
{
    memset(e, 0, sizeof(*e));
    e->fd = fd;
    e->txbuf = malloc(65536);
    assert_non_null(e->txbuf);
    gen_init(&e->tx, seed_tx);
    gen_init(&e->rx, seed_rx);
    event_assign(&e->ev_rd, h->base, fd, EV_READ | EV_PERSIST, ep_rd_cb, e);
    event_assign(&e->ev_wr, h->base, fd, EV_WRITE | EV_PERSIST, ep_wr_cb, e);
    event_add(&e->ev_rd, NULL);
}

static void
ep_fini(struct ep *e)
{
    if (event_initialized(&e->ev_rd))
        event_del(&e->ev_rd);
    if (event_initialized(&e->ev_wr))
        event_del(&e->ev_wr);
    if (e->fd >= 0)
        close(e->fd);
    e->fd = -1;
    free(e->txbuf);
    e->txbuf = NULL;
}

static void
done_cb(const struct relay_stats *st, int err, void *arg)
{
    struct harness *h = arg;

    h->done_calls++;
    h->done_err = err;
    h->stats = *st;
    h->relay = NULL;
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct harness *h = arg;

    h->timed_out = true;
    event_base_loopbreak(h->base);
}

/* Run the loop until <cond>(h) holds or <ms> pass. */
static void
run_until(struct harness *h, bool (*cond)(struct harness *), sk_msec_t ms)
{
    struct event tmo;
    struct timeval tv = sk_msec_tv(ms);

    h->timed_out = false;
    evtimer_assign(&tmo, h->base, timeout_cb, h);
    evtimer_add(&tmo, &tv);
    while (!cond(h) && !h->timed_out)
        event_base_loop(h->base, EVLOOP_ONCE);
    evtimer_del(&tmo);
}

static int
setup(void **state)
{
    struct harness *h = calloc(1, sizeof(*h));
    struct sockaddr_in sin;

    assert_non_null(h);
    h->base = event_base_new();
    assert_non_null(h->base);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    h->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(h->listen_fd >= 0);
    assert_int_equal(bind(h->listen_fd, (struct sockaddr *)&sin,
                          sizeof(sin)), 0);
    assert_int_equal(listen(h->listen_fd, 16), 0);
    h->ep[0].fd = h->ep[1].fd = -1;
    *state = h;
    return 0;
}

static int
teardown(void **state)
{
    struct harness *h = *state;

    if (h->relay != NULL)
        relay_abort(h->relay);
    ep_fini(&h->ep[0]);
    ep_fini(&h->ep[1]);
    close(h->listen_fd);
    event_base_free(h->base);
    free(h);
    return 0;
}

/*
 * Build A-a and b-B of <kind>, start the relay on a, b with <pend_a> and
 * <pend_b> already "read" from a and b, and set up A and B.
 */
static void
start_relay(struct harness *h, enum pair_kind kind, bool no_splice,
            sk_msec_t idle, const char *pend_a, const char *pend_b)
{
    struct relay_opts o = { .idle_timeout = idle, .no_splice = no_splice };
    struct evbuffer *pa = evbuffer_new(), *pb = evbuffer_new();
    int p1[2], p2[2];

    make_pair(h, kind, p1);
    make_pair(h, kind, p2);
    ep_init(h, &h->ep[0], p1[0], 1, 2);
    ep_init(h, &h->ep[1], p2[1], 2, 1);
    h->ep[0].prefix = pend_b;
    h->ep[0].prefix_len = pend_b != NULL ? strlen(pend_b) : 0;
    h->ep[1].prefix = pend_a;
    h->ep[1].prefix_len = pend_a != NULL ? strlen(pend_a) : 0;
    if (pend_a != NULL)
        evbuffer_add(pa, pend_a, strlen(pend_a));
    if (pend_b != NULL)
        evbuffer_add(pb, pend_b, strlen(pend_b));
    h->relay = relay_start(h->base, p1[1], p2[0], pa, pb, &o, done_cb, h);
    assert_non_null(h->relay);
    /* The contents moved out; the buffers stay ours. */
    assert_int_equal(evbuffer_get_length(pa), 0);
    assert_int_equal(evbuffer_get_length(pb), 0);
    evbuffer_free(pa);
    evbuffer_free(pb);
}

static bool
cond_all_done(struct harness *h)
{
    return h->done_calls > 0 && (h->ep[0].rx_eof || h->ep[0].rx_err) &&
           (h->ep[1].rx_eof || h->ep[1].rx_err) &&
           (h->ep[0].tx_done || h->ep[0].to_send == 0) &&
           (h->ep[1].tx_done || h->ep[1].to_send == 0);
}

/* ---- table: orderly transfers ---------------------------------------- */

struct xfer_case {
    const char *name;
    enum pair_kind kind;
    bool no_splice;
    uint64_t a_bytes, b_bytes;  /* sent by A, by B */
    bool b_waits, a_waits;      /* start sending only after EOF */
    const char *pend_a, *pend_b;
    int refuse;                 /* REFUSE_*: splice refused that way */
};

static const struct xfer_case xfer_cases[] = {
    { "bulk both ways, splice", PAIR_TCP, false, 64 * MiB, 64 * MiB,
      false, false, NULL, NULL, REFUSE_NONE },
    { "bulk both ways, copy", PAIR_TCP, true, 64 * MiB, 64 * MiB,
      false, false, NULL, NULL, REFUSE_NONE },
    { "half-close a first, splice", PAIR_TCP, false, 1 * MiB, 3 * MiB,
      true, false, NULL, NULL, REFUSE_NONE },
    { "half-close b first, splice", PAIR_TCP, false, 3 * MiB, 1 * MiB,
      false, true, NULL, NULL, REFUSE_NONE },
    { "half-close a first, copy", PAIR_TCP, true, 1 * MiB, 3 * MiB,
      true, false, NULL, NULL, REFUSE_NONE },
    { "half-close b first, copy", PAIR_TCP, true, 3 * MiB, 1 * MiB,
      false, true, NULL, NULL, REFUSE_NONE },
    { "pending both, splice", PAIR_TCP, false, 2 * MiB, 2 * MiB,
      false, false, "\x16\x03\x01\x02\x00 ClientHello start",
      "early server bytes", REFUSE_NONE },
    { "pending both, copy", PAIR_TCP, true, 2 * MiB, 2 * MiB,
      false, false, "\x16\x03\x01\x02\x00 ClientHello start",
      "early server bytes", REFUSE_NONE },
    { "pending only, nothing else", PAIR_TCP, false, 0, 0,
      false, false, "only-a", "only-b", REFUSE_NONE },
    { "empty both ways", PAIR_TCP, false, 0, 0, false, false, NULL, NULL,
      REFUSE_NONE },
    { "unix stream, splice", PAIR_UNIX, false, 8 * MiB, 8 * MiB,
      false, false, "pa", "pb", REFUSE_NONE },
    { "unix stream, copy", PAIR_UNIX, true, 8 * MiB, 8 * MiB,
      true, false, NULL, NULL, REFUSE_NONE },
    { "seqpacket", PAIR_SEQPACKET, false, 4 * MiB, 4 * MiB,
      false, false, NULL, NULL, REFUSE_NONE },
    { "splice refused reading", PAIR_TCP, false, 8 * MiB, 8 * MiB,
      false, false, "pend-a", "pend-b", REFUSE_READ },
    { "splice refused writing", PAIR_TCP, false, 8 * MiB, 8 * MiB,
      false, false, "pend-a", "pend-b", REFUSE_WRITE },
};

static void
run_xfer(struct harness *h, const struct xfer_case *c)
{
    uint64_t pa = c->pend_a != NULL ? strlen(c->pend_a) : 0;
    uint64_t pb = c->pend_b != NULL ? strlen(c->pend_b) : 0;
    struct ep *A = &h->ep[0], *B = &h->ep[1];

    print_message("  case: %s\n", c->name);
    splice_refuse = c->refuse;
    start_relay(h, c->kind, c->no_splice, 0, c->pend_a, c->pend_b);
    A->to_send = c->a_bytes;
    A->wait_eof = c->a_waits;
    B->to_send = c->b_bytes;
    B->wait_eof = c->b_waits;
    if (!A->wait_eof)
        ep_start_send(A);
    if (!B->wait_eof)
        ep_start_send(B);
    run_until(h, cond_all_done, 20000);
    splice_refuse = REFUSE_NONE;
    assert_false(h->timed_out);
    assert_int_equal(h->done_calls, 1);
    assert_int_equal(h->done_err, 0);
    assert_int_equal(A->rx_err, 0);
    assert_int_equal(B->rx_err, 0);
    assert_true(A->rx_eof && B->rx_eof);
    assert_false(A->mismatch);
    assert_false(B->mismatch);
    assert_int_equal(B->received, pa + c->a_bytes);
    assert_int_equal(A->received, pb + c->b_bytes);
    assert_int_equal(h->stats.a_to_b, pa + c->a_bytes);
    assert_int_equal(h->stats.b_to_a, pb + c->b_bytes);
}

static void
test_xfer(void **state)
{
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(xfer_cases); i++) {
        struct harness *h = *state;

        run_xfer(h, &xfer_cases[i]);
        teardown(state);
        setup(state);
    }
}

/* ---- table: a reset on one side becomes a reset on the other ---------- */

struct reset_case {
    const char *name;
    bool no_splice;
    int resetter;               /* 0: A resets, 1: B resets */
};

static const struct reset_case reset_cases[] = {
    { "A resets, splice", false, 0 },
    { "B resets, splice", false, 1 },
    { "A resets, copy", true, 0 },
    { "B resets, copy", true, 1 },
};

static bool
cond_other_got(struct harness *h)
{
    return h->ep[0].received > 0 && h->ep[1].received > 0;
}

static bool
cond_reset_seen(struct harness *h)
{
    return h->done_calls > 0 && (h->ep[0].rx_err || h->ep[0].rx_eof ||
                                 h->ep[1].rx_err || h->ep[1].rx_eof);
}

static void
test_reset(void **state)
{
    struct linger l = { .l_onoff = 1, .l_linger = 0 };
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(reset_cases); i++) {
        const struct reset_case *c = &reset_cases[i];
        struct harness *h = *state;
        struct ep *rs, *other;

        print_message("  case: %s\n", c->name);
        start_relay(h, PAIR_TCP, c->no_splice, 0, NULL, NULL);
        rs = &h->ep[c->resetter];
        other = &h->ep[!c->resetter];
        h->ep[0].to_send = h->ep[1].to_send = 1000;
        h->ep[0].no_shut = h->ep[1].no_shut = true;
        ep_start_send(&h->ep[0]);
        ep_start_send(&h->ep[1]);
        run_until(h, cond_other_got, 5000);
        assert_false(h->timed_out);
        event_del(&rs->ev_rd);
        event_del(&rs->ev_wr);
        setsockopt(rs->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        close(rs->fd);
        rs->fd = -1;
        run_until(h, cond_reset_seen, 5000);
        assert_false(h->timed_out);
        assert_int_equal(h->done_calls, 1);
        assert_int_equal(h->done_err, ECONNRESET);
        assert_int_equal(other->rx_err, ECONNRESET);
        teardown(state);
        setup(state);
    }
}

/* ---- idle timeout ----------------------------------------------------- */

static bool
cond_done(struct harness *h)
{
    return h->done_calls > 0;
}

static bool
cond_eofs(struct harness *h)
{
    return h->ep[0].rx_eof && h->ep[1].rx_eof;
}

static void
test_idle_timeout(void **state)
{
    struct harness *h = *state;
    sk_msec_t t0 = sk_now_msec(), t1;

    start_relay(h, PAIR_TCP, false, 200, NULL, NULL);
    run_until(h, cond_done, 3000);
    t1 = sk_now_msec();
    assert_false(h->timed_out);
    assert_int_equal(h->done_calls, 1);
    assert_int_equal(h->done_err, ETIMEDOUT);
    assert_true(t1 - t0 >= 195 && t1 - t0 < 1000);
    /* An idle timeout is an orderly close, not a reset. */
    run_until(h, cond_eofs, 3000);
    assert_false(h->timed_out);
}

static bool
cond_never(struct harness *h)
{
    return h->done_calls > 0;
}

/* Traffic at 200 ms pushes a 1 s timeout out to about 1.2 s (wide
 * margins: a loaded machine may stall the loop for a while). */
static void
test_idle_timeout_activity(void **state)
{
    struct harness *h = *state;
    sk_msec_t t0 = sk_now_msec(), t1;

    start_relay(h, PAIR_TCP, true, 1000, NULL, NULL);
    run_until(h, cond_never, 200);
    assert_int_equal(h->done_calls, 0);
    h->ep[0].to_send = 100;
    ep_start_send(&h->ep[0]);
    run_until(h, cond_done, 5000);
    t1 = sk_now_msec();
    assert_int_equal(h->done_err, ETIMEDOUT);
    assert_int_equal(h->stats.a_to_b, 100);
    assert_true(t1 - t0 >= 1150 && t1 - t0 < 5000);
}

/* ---- abort ------------------------------------------------------------ */

static void
test_abort(void **state)
{
    struct harness *h = *state;

    start_relay(h, PAIR_TCP, false, 1000, "x", NULL);
    relay_abort(h->relay);
    h->relay = NULL;
    run_until(h, cond_eofs, 3000);
    assert_false(h->timed_out);
    assert_int_equal(h->done_calls, 0);
    assert_int_equal(h->ep[1].received, 0);
}

static void
test_bad_args(void **state)
{
    struct harness *h = *state;
    int p[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
    assert_null(relay_start(h->base, p[0], -1, NULL, NULL, NULL, done_cb,
                            h));
    /* Ownership was taken: the descriptor is closed. */
    assert_int_equal(fcntl(p[0], F_GETFD), -1);
    close(p[1]);
}

/* Wait until <fd> is ready for <events>. */
static void
wait_fd(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };

    assert_int_equal(poll(&p, 1, 5000), 1);
}

/*
 * One-way splice of a framed body: exactly <len> bytes go from a to b in
 * order through a pooled pipe while the writer sends more than that; the
 * rest stays unread in a's socket.  A pipe's bytes can also be taken into
 * a buffer, and an empty pipe goes back to the pool.
 */
static void
test_splice_oneway(void **state)
{
    struct harness *h = *state;
    const size_t len = 5 * MiB + 3, extra = 777, total = len + extra;
    unsigned char *src = malloc(total), *dst = malloc(total);
    unsigned char buf[64];
    int a[2], b[2];
    struct relay_splice sp;
    struct gen g;
    size_t sent = 0, left = len, got = 0;
    struct evbuffer *eb;
    ssize_t n;
    int rfd;

    assert_non_null(src);
    assert_non_null(dst);
    gen_init(&g, 42);
    gen_fill(&g, src, total);
    make_pair(h, PAIR_TCP, a);
    make_pair(h, PAIR_TCP, b);
    if (relay_splice_open(&sp) == -1) {
        free(src);
        free(dst);
        skip();                 /* no splice(2) on this system */
    }
    assert_true(sp.size >= 4096);
    while (got < len) {
        if (sent < total) {
            n = send(a[0], src + sent, total - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
        }
        if (left > 0) {
            n = relay_splice_in(&sp, a[1], left);
            if (n > 0)
                left -= (size_t)n;
            else
                assert_true(n == -1 && (errno == EAGAIN || errno == ENOBUFS));
        }
        n = relay_splice_out(&sp, b[0]);
        assert_true(n >= 0 || errno == EAGAIN);
        n = recv(b[1], dst + got, len - got, 0);
        if (n > 0)
            got += (size_t)n;
        else
            assert_true(n == -1 && errno == EAGAIN);
    }
    assert_int_equal(got, len);
    assert_int_equal(sp.in_pipe, 0);
    assert_memory_equal(dst, src, len);
    /* the bytes past the body are still a's, in order */
    while (sent < total || got < total) {
        if (sent < total) {
            n = send(a[0], src + sent, total - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
        }
        wait_fd(a[1], POLLIN);
        n = recv(a[1], dst + got, total - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(dst + len, src + len, extra);

    /* a pipe's bytes into a buffer (the destination refused splice) */
    assert_int_equal(send(a[0], "tail bytes", 10, 0), 10);
    wait_fd(a[1], POLLIN);
    assert_int_equal(relay_splice_in(&sp, a[1], 1000), 10);
    eb = evbuffer_new();
    assert_int_equal(relay_splice_to_buf(&sp, eb), 0);
    assert_int_equal(sp.in_pipe, 0);
    assert_int_equal(evbuffer_get_length(eb), 10);
    assert_memory_equal(evbuffer_pullup(eb, -1), "tail bytes", 10);
    evbuffer_free(eb);

    /* splice_in never exceeds its limit; end of stream reads 0 */
    assert_int_equal(send(a[0], "0123456789", 10, 0), 10);
    shutdown(a[0], SHUT_WR);
    wait_fd(a[1], POLLIN);
    assert_int_equal(relay_splice_in(&sp, a[1], 4), 4);
    assert_int_equal(sp.in_pipe, 4);
    assert_int_equal(relay_splice_in(&sp, a[1], 100), 6);
    assert_int_equal(relay_splice_in(&sp, a[1], 100), 0);
    assert_int_equal(relay_splice_out(&sp, b[0]), 10);
    wait_fd(b[1], POLLIN);
    assert_int_equal(recv(b[1], buf, sizeof(buf), 0), 10);
    assert_memory_equal(buf, "0123456789", 10);

    /* an empty pipe goes back to the pool and comes out again */
    rfd = sp.rfd;
    relay_splice_close(&sp);
    assert_int_equal(sp.rfd, -1);
    assert_int_equal(relay_splice_open(&sp), 0);
    assert_int_equal(sp.rfd, rfd);
    relay_splice_close(&sp);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    free(src);
    free(dst);
}

/* ---- a FIN right behind the last bytes -------------------------------- */

static int fin_fd = -1;         /* A's socket */
static char fin_buf[64];
static size_t fin_got;
static bool fin_eof;

static bool
cond_fin_eof(struct harness *h)
{
    ssize_t n;

    (void)h;
    while ((n = recv(fin_fd, fin_buf + fin_got, sizeof(fin_buf) - fin_got,
                     MSG_DONTWAIT)) > 0)
        fin_got += (size_t)n;
    if (n == 0)
        fin_eof = true;
    return fin_eof;
}

/* Segments <fd> received so far; 0 where TCP_INFO does not say. */
/* Keeps the loop waking up for A's socket, which the relay does not watch. */
static void
fin_noop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static uint32_t
segs_in(int fd)
{
#ifdef __linux__
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    memset(&ti, 0, sizeof(ti));
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    return ti.tcpi_segs_in;
#else
    (void)fd;
    return 0;
#endif
}

/*
 * A server that answers and closes at once (its bytes and its FIN both
 * wait on b when the relay wakes up): A gets the bytes and the FIN in
 * one segment, on both the splice and the copy path.
 */
static void
test_fin_with_last_bytes(void **state)
{
    struct harness *h = *state;
    bool copy;

    for (copy = false; ; copy = true) {
        struct relay_opts o = { .no_splice = copy };
        struct event watch;
        int p1[2], p2[2];
        uint32_t before;

        make_pair(h, PAIR_TCP, p1);
        make_pair(h, PAIR_TCP, p2);
        assert_int_equal(send(p2[1], "last words", 10, 0), 10);
        assert_int_equal(shutdown(p2[1], SHUT_WR), 0);
        wait_fd(p2[0], POLLRDHUP);
        fin_fd = p1[0];
        fin_got = 0;
        fin_eof = false;
        /* The FIN may reach A after the relay's last callback (receive
         * processing deferred on a busy machine): watch A as well. */
        assert_int_equal(event_assign(&watch, h->base, p1[0],
                                      EV_READ | EV_PERSIST, fin_noop_cb,
                                      NULL), 0);
        assert_int_equal(event_add(&watch, NULL), 0);
        before = segs_in(p1[0]);
        h->done_calls = 0;
        h->relay = relay_start(h->base, p1[1], p2[0], NULL, NULL, &o,
                               done_cb, h);
        assert_non_null(h->relay);
        run_until(h, cond_fin_eof, 3000);
        event_del(&watch);
        assert_false(h->timed_out);
        assert_int_equal(fin_got, 10);
        assert_memory_equal(fin_buf, "last words", 10);
#ifdef __linux__
        assert_int_equal(segs_in(p1[0]) - before, 1);
#endif
        /* A's own EOF ends the relay. */
        assert_int_equal(shutdown(p1[0], SHUT_WR), 0);
        run_until(h, cond_done, 3000);
        assert_int_equal(h->done_calls, 1);
        assert_int_equal(h->done_err, 0);
        h->relay = NULL;
        close(p1[0]);
        close(p2[1]);
        if (copy)
            break;
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_xfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout_activity, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_splice_oneway, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fin_with_last_bytes, setup,
                                        teardown),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
