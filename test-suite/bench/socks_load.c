/*
 * socks_load.c -- the sessions/s load of bench_socks.sh: many short SOCKS5
 * sessions at once from one process, cheap enough that the proxy, not the
 * client, is what runs out of CPU.
 *
 *   socks_load --port P --origin-port O --seconds S [--count N]
 *              [--concurrency C] [--threads T]
 *
 * Each of T threads (default 1) keeps C sessions (default 16) in flight
 * on an epoll set of its own.  A session is: connect to 127.0.0.1:P,
 * SOCKS5 greeting (no authentication) and wait for the method, CONNECT
 * 127.0.0.1:O and wait for the reply, one "GET /obj1k" with Connection:
 * close, read to EOF (at least 1024 bytes), close; then the next one
 * starts.  Port 0 goes straight to the origin (no SOCKS), for the limit.
 *
 * It stops after S seconds or N sessions started, whichever comes first;
 * sessions still running at the deadline are dropped, not counted.  A
 * session fails on any error, an unexpected reply, a short response or
 * 10 s without completing; past 1000 failures per thread it gives up.
 * It prints what bench_socks_load.py prints:
 *
 *   sessions=K seconds=T errors=E rate=R
 *
 * (K sessions completed within T seconds, R = K / T).  Only 127.0.0.1 is
 * used; it asserts nothing.  Not part of `make check`: built on demand
 * with `make test-suite/bench/socks_load`.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOAD_SESSION_TIMEOUT 10.0       /* seconds per session */
#define LOAD_MAX_ERRORS 1000            /* per thread, then give up */
#define LOAD_MIN_BODY 1024              /* response bytes, at least */

enum load_phase {
    LOAD_P_CONNECT,             /* connect() in progress */
    LOAD_P_METHOD,              /* greeting sent, method awaited */
    LOAD_P_REPLY,               /* CONNECT sent, reply awaited */
    LOAD_P_BODY                 /* GET sent, reading to EOF */
};

struct load_opts {
    uint16_t port;              /* 0: straight to the origin */
    uint16_t origin_port;
    double seconds;
    long count;                 /* sessions to start, at most */
    int concurrency;            /* per thread */
    int threads;
};

struct load_sess {
    int fd;                     /* -1: slot free */
    enum load_phase phase;
    const char *out;            /* what is left to send */
    size_t out_len;
    uint8_t in[32];             /* method or reply being read */
    size_t have;
    size_t got;                 /* response bytes */
    double t0;
};

struct load_thread {
    pthread_t tid;
    const struct load_opts *o;
    int ep;
    struct load_sess *s;
    int active;
    long done, errors;
    double last_done;           /* time of the last completion */
};

static struct sockaddr_in load_dst;
static uint8_t load_connect_req[10];
static char load_get[128];
static size_t load_get_len;
static const uint8_t load_greeting[3] = { 5, 1, 0 };
static atomic_long load_started;
static double load_deadline;

static double
load_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Start a session in free slot <s>.  Return 0, or -1 (counted). */
static int
load_sess_start(struct load_thread *t, struct load_sess *s, double now)
{
    struct epoll_event ev;
    int fd;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    if (connect(fd, (struct sockaddr *)&load_dst, sizeof(load_dst)) == -1 &&
        errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    /* Edge-triggered, both ways, once: no epoll_ctl per step. */
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = s;
    if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
        close(fd);
        return -1;
    }
    s->fd = fd;
    s->phase = LOAD_P_CONNECT;
    s->have = s->got = 0;
    s->t0 = now;
    if (t->o->port != 0) {
        s->out = (const char *)load_greeting;
        s->out_len = sizeof(load_greeting);
    } else {
        s->out = load_get;
        s->out_len = load_get_len;
    }
    t->active++;
    return 0;
}

/* Send what is queued.  Return 0 when all went, 1 to wait, -1 on error. */
static int
load_send(struct load_sess *s)
{
    ssize_t n;

    while (s->out_len > 0) {
        n = send(s->fd, s->out, s->out_len, MSG_NOSIGNAL);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 1 : -1;
        }
        s->out += n;
        s->out_len -= (size_t)n;
    }
    return 0;
}

/* The whole SOCKS5 reply is in s->in: its length, or 0 if not yet. */
static size_t
load_reply_len(const struct load_sess *s)
{
    if (s->have < 5)
        return 0;
    switch (s->in[3]) {
    case 1:
        return 10;
    case 4:
        return 22;
    case 3:
        return 7 + (size_t)s->in[4];
    default:
        return 1;               /* bad: caught by the caller */
    }
}

/* Read a handshake answer; advance when complete.  As load_step(). */
static int
load_read_small(struct load_sess *s)
{
    ssize_t n;
    size_t want;

    for (;;) {
        n = recv(s->fd, s->in + s->have, sizeof(s->in) - s->have, 0);
        if (n == 0)
            return -1;
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 1 : -1;
        }
        s->have += (size_t)n;
        if (s->phase == LOAD_P_METHOD) {
            if (s->have < 2)
                continue;
            if (s->have != 2 || s->in[0] != 5 || s->in[1] != 0)
                return -1;
            s->phase = LOAD_P_REPLY;
            s->have = 0;
            s->out = (const char *)load_connect_req;
            s->out_len = sizeof(load_connect_req);
            return 0;
        }
        want = load_reply_len(s);
        if (want == 0)
            continue;
        /* Nothing can follow the reply before the GET is sent. */
        if (s->have != want || s->in[0] != 5 || s->in[1] != 0)
            return -1;
        s->phase = LOAD_P_BODY;
        s->out = load_get;
        s->out_len = load_get_len;
        return 0;
    }
}

/* Read the response to EOF.  As load_step(). */
static int
load_read_body(struct load_sess *s)
{
    char buf[16384];
    ssize_t n;

    for (;;) {
        n = recv(s->fd, buf, sizeof(buf), 0);
        if (n == 0)
            return s->got >= LOAD_MIN_BODY ? 2 : -1;
        if (n == -1) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 1 : -1;
        }
        s->got += (size_t)n;
    }
}

/*
 * Drive <s> after an event <ev>.  Return 1 to wait for the next event, 2
 * when the session completed, -1 when it failed.
 */
static int
load_step(struct load_sess *s, uint32_t ev)
{
    int r;

    if (s->phase == LOAD_P_CONNECT) {
        if (ev & (EPOLLERR | EPOLLHUP))
            return -1;
        if (!(ev & EPOLLOUT))
            return 1;
        s->phase = s->out == load_get ? LOAD_P_BODY : LOAD_P_METHOD;
    }
    for (;;) {
        r = load_send(s);
        if (r != 0)
            return r;
        if (s->phase == LOAD_P_BODY)
            return load_read_body(s);
        r = load_read_small(s);
        if (r != 0)
            return r;
    }
}

static void
load_sess_end(struct load_thread *t, struct load_sess *s)
{
    close(s->fd);               /* also leaves the epoll set */
    s->fd = -1;
    t->active--;
}

/* May another session start?  Takes one from the count if so. */
static bool
load_may_start(struct load_thread *t, double now)
{
    if (now >= load_deadline || t->errors > LOAD_MAX_ERRORS)
        return false;
    if (atomic_fetch_add(&load_started, 1) >= t->o->count)
        return false;
    return true;
}

/* Fill <s> with a new session while allowed; a failed start counts. */
static void
load_refill(struct load_thread *t, struct load_sess *s, double now)
{
    while (load_may_start(t, now)) {
        if (load_sess_start(t, s, now) == 0)
            return;
        t->errors++;
    }
}

/* Sessions older than the session timeout fail. */
static void
load_expire(struct load_thread *t, double now)
{
    int i;

    for (i = 0; i < t->o->concurrency; i++) {
        struct load_sess *s = &t->s[i];

        if (s->fd != -1 && now - s->t0 > LOAD_SESSION_TIMEOUT) {
            load_sess_end(t, s);
            t->errors++;
            load_refill(t, s, now);
        }
    }
}

static void *
load_thread_main(void *arg)
{
    struct load_thread *t = arg;
    struct epoll_event evs[256];
    double now = load_now(), last_scan = now;
    int i, n, r;

    for (i = 0; i < t->o->concurrency; i++)
        load_refill(t, &t->s[i], now);
    while (t->active > 0) {
        n = epoll_wait(t->ep, evs, 256, 100);
        now = load_now();
        if (now >= load_deadline)
            break;              /* running sessions are dropped */
        for (i = 0; i < n; i++) {
            struct load_sess *s = evs[i].data.ptr;

            if (s->fd == -1)
                continue;
            r = load_step(s, evs[i].events);
            if (r == 1)
                continue;
            load_sess_end(t, s);
            if (r == 2) {
                t->done++;
                t->last_done = now;
            } else {
                t->errors++;
            }
            load_refill(t, s, now);
        }
        if (now - last_scan > 0.2) {
            load_expire(t, now);
            last_scan = now;
        }
    }
    for (i = 0; i < t->o->concurrency; i++)
        if (t->s[i].fd != -1)
            load_sess_end(t, &t->s[i]);
    return NULL;
}

static void
load_usage(FILE *f)
{
    fprintf(f, "usage: socks_load --port P --origin-port O --seconds S "
            "[--count N]\n"
            "                  [--concurrency C] [--threads T]\n");
}

static int
load_parse(int argc, char **argv, struct load_opts *o)
{
    static const struct option lo[] = {
        { "port", required_argument, NULL, 'p' },
        { "origin-port", required_argument, NULL, 'o' },
        { "seconds", required_argument, NULL, 's' },
        { "count", required_argument, NULL, 'n' },
        { "concurrency", required_argument, NULL, 'c' },
        { "threads", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->seconds = -1;
    o->count = 10000000;
    o->concurrency = 16;
    o->threads = 1;
    while ((c = getopt_long(argc, argv, "p:o:s:n:c:t:h", lo, NULL)) != -1) {
        switch (c) {
        case 'p': o->port = (uint16_t)atoi(optarg); break;
        case 'o': o->origin_port = (uint16_t)atoi(optarg); break;
        case 's': o->seconds = atof(optarg); break;
        case 'n': o->count = atol(optarg); break;
        case 'c': o->concurrency = atoi(optarg); break;
        case 't': o->threads = atoi(optarg); break;
        case 'h': load_usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (o->origin_port == 0 || o->seconds <= 0 || o->seconds > 3600 ||
        o->count <= 0 || o->concurrency <= 0 || o->concurrency > 10000 ||
        o->threads <= 0 || o->threads > 64)
        return -1;
    return 0;
}

/* The messages every session sends, built once. */
static void
load_prepare(const struct load_opts *o)
{
    memset(&load_dst, 0, sizeof(load_dst));
    load_dst.sin_family = AF_INET;
    load_dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    load_dst.sin_port = htons(o->port != 0 ? o->port : o->origin_port);
    load_connect_req[0] = 5;            /* CONNECT 127.0.0.1:origin */
    load_connect_req[1] = 1;
    load_connect_req[3] = 1;
    load_connect_req[4] = 127;
    load_connect_req[7] = 1;
    load_connect_req[8] = (uint8_t)(o->origin_port >> 8);
    load_connect_req[9] = (uint8_t)o->origin_port;
    load_get_len = (size_t)snprintf(load_get, sizeof(load_get),
                                    "GET /obj1k HTTP/1.1\r\n"
                                    "Host: 127.0.0.1:%u\r\n"
                                    "Connection: close\r\n\r\n",
                                    o->origin_port);
}

/* Room for every session's socket, and some. */
static void
load_raise_nofile(const struct load_opts *o)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)o->concurrency * (rlim_t)o->threads + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int
main(int argc, char **argv)
{
    struct load_opts o;
    struct load_thread *t;
    long done = 0, errors = 0;
    double t0, end = 0, secs;
    int i, j;

    if (load_parse(argc, argv, &o) == -1) {
        load_usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    load_prepare(&o);
    load_raise_nofile(&o);
    t = calloc((size_t)o.threads, sizeof(*t));
    if (t == NULL)
        return 1;
    t0 = load_now();
    load_deadline = t0 + o.seconds;
    for (i = 0; i < o.threads; i++) {
        t[i].o = &o;
        t[i].ep = epoll_create1(EPOLL_CLOEXEC);
        t[i].s = calloc((size_t)o.concurrency, sizeof(*t[i].s));
        if (t[i].ep == -1 || t[i].s == NULL) {
            perror("socks_load");
            return 1;
        }
        for (j = 0; j < o.concurrency; j++)
            t[i].s[j].fd = -1;
        if (pthread_create(&t[i].tid, NULL, load_thread_main, &t[i]) != 0) {
            fprintf(stderr, "socks_load: cannot start a thread\n");
            return 1;
        }
    }
    for (i = 0; i < o.threads; i++) {
        pthread_join(t[i].tid, NULL);
        done += t[i].done;
        errors += t[i].errors;
        if (t[i].last_done > end)
            end = t[i].last_done;
        close(t[i].ep);
        free(t[i].s);
    }
    /* Stopped by the clock: the whole window; by the count: up to the
     * last completion. */
    secs = load_now() >= load_deadline ? o.seconds : end - t0;
    if (secs <= 0)
        secs = 1e-6;
    printf("sessions=%ld seconds=%.2f errors=%ld rate=%.1f\n", done, secs,
           errors, (double)done / secs);
    free(t);
    return 0;
}
