/*
 * relay_throughput.c -- measure the opaque relay (src/comm/relay.c) on
 * loopback TCP: throughput through the relay (splice and copy paths)
 * against a direct connection, the user-space memory of idle relays, and a
 * forwarding mode to put the relay in front of iperf3.
 *
 *   relay_throughput [-g GiB] [-t max_seconds] [-r rounds]
 *                    [-m direct|splice|copy]...
 *   relay_throughput -i N           idle memory of N relays
 *   relay_throughput -F lport:dport [-t seconds] [-c]
 *                                   relay 127.0.0.1:lport to :dport
 *
 * A sender thread writes 128 KiB blocks (as iperf3 does) and a receiver
 * thread reads and discards; the relay runs in the main thread's loop.
 * Every run is bounded in bytes and in time.  Not part of `make check`.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "comm/relay.h"
#include "sk_time.h"

#define BLOCK (128 * 1024)

struct flow {
    int fd;
    uint64_t limit;
    sk_msec_t deadline;
    uint64_t bytes;
    sk_msec_t t_end;
    double cpu;                 /* this thread's CPU seconds */
};

static double
thread_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
    perror(what);
    exit(1);
}

static int
listen_lo(uint16_t port)
{
    struct sockaddr_in sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (fd == -1)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
        listen(fd, 4096) == -1)
        die("bind/listen");
    return fd;
}

static int
connect_lo(int lfd_or_port, bool is_port)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd == -1)
        die("socket");
    if (is_port) {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)lfd_or_port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (getsockname(lfd_or_port, (struct sockaddr *)&sin, &len)) {
        die("getsockname");
    }
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A connected loopback TCP pair through listener <lfd>. */
static void
tcp_pair(int lfd, int fds[2])
{
    fds[0] = connect_lo(lfd, false);
    fds[1] = accept(lfd, NULL, NULL);
    if (fds[0] == -1 || fds[1] == -1)
        die("tcp pair");
}

static void
set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static double
tv_sec(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void *
sender(void *arg)
{
    struct flow *f = arg;
    char *buf = calloc(1, BLOCK);
    ssize_t n;

    pthread_setname_np(pthread_self(), "bench-send");
    while (f->bytes < f->limit && sk_now_msec() < f->deadline) {
        n = send(f->fd, buf, BLOCK, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        f->bytes += (uint64_t)n;
    }
    shutdown(f->fd, SHUT_WR);
    free(buf);
    f->cpu = thread_cpu();
    return NULL;
}

static void *
receiver(void *arg)
{
    struct flow *f = arg;
    char *buf = malloc(BLOCK);
    ssize_t n;

    pthread_setname_np(pthread_self(), "bench-recv");
    while ((n = recv(f->fd, buf, BLOCK, 0)) > 0)
        f->bytes += (uint64_t)n;
    f->t_end = sk_now_msec();
    shutdown(f->fd, SHUT_WR);
    free(buf);
    f->cpu = thread_cpu();
    return NULL;
}

static void
relay_done(const struct relay_stats *st, int err, void *arg)
{
    int *done = arg;

    *done = 1;
    if (err != 0)
        fprintf(stderr, "relay ended: %s\n", strerror(err));
}

/* One run in <mode>; print and return Gbit/s. */
static double
run_throughput(const char *mode, uint64_t limit, sk_msec_t max_ms)
{
    struct event_base *base = event_base_new();
    struct flow tx = { 0 }, rx = { 0 };
    struct relay_opts o = { 0 };
    pthread_t ts, tr;
    int lfd = listen_lo(0), p1[2], p2[2], done = 0;
    sk_msec_t t0;
    double gbps, cpu, gib, relay_cpu = thread_cpu();
    struct rusage ru0, ru1;

    tcp_pair(lfd, p1);
    if (getenv("BENCH_SOCKBUF") != NULL) {
        int b = atoi(getenv("BENCH_SOCKBUF"));

        setsockopt(p1[0], SOL_SOCKET, SO_SNDBUF, &b, sizeof(b));
        setsockopt(p1[1], SOL_SOCKET, SO_RCVBUF, &b, sizeof(b));
    }
    if (strcmp(mode, "direct") == 0) {
        tx.fd = p1[0];
        rx.fd = p1[1];
    } else {
        tcp_pair(lfd, p2);
        if (getenv("BENCH_SOCKBUF") != NULL) {
            int b = atoi(getenv("BENCH_SOCKBUF"));

            setsockopt(p2[0], SOL_SOCKET, SO_SNDBUF, &b, sizeof(b));
            setsockopt(p2[1], SOL_SOCKET, SO_RCVBUF, &b, sizeof(b));
        }
        tx.fd = p1[0];
        rx.fd = p2[1];
        set_nonblock(p1[1]);
        set_nonblock(p2[0]);
        o.no_splice = strcmp(mode, "copy") == 0;
        if (relay_start(base, p1[1], p2[0], NULL, NULL, &o, relay_done,
                        &done) == NULL)
            die("relay_start");
    }
    getrusage(RUSAGE_SELF, &ru0);
    t0 = sk_now_msec();
    tx.limit = limit;
    tx.deadline = t0 + max_ms;
    pthread_create(&tr, NULL, receiver, &rx);
    pthread_create(&ts, NULL, sender, &tx);
    if (strcmp(mode, "direct") != 0) {
        while (!done)
            event_base_loop(base, EVLOOP_ONCE);
    }
    relay_cpu = thread_cpu() - relay_cpu;
    pthread_join(ts, NULL);
    pthread_join(tr, NULL);
    getrusage(RUSAGE_SELF, &ru1);
    cpu = tv_sec(&ru1.ru_utime) + tv_sec(&ru1.ru_stime) -
          tv_sec(&ru0.ru_utime) - tv_sec(&ru0.ru_stime);
    gbps = (double)rx.bytes * 8 / ((double)(rx.t_end - t0) / 1000) / 1e9;
    /* CPU seconds per GiB shows the cost even on a machine shared with
     * other load, where Gbit/s alone says little. */
    gib = (double)rx.bytes / (1 << 30);
    printf("%-7s %6.2f GiB in %5.2f s: %6.2f Gbit/s, CPU s/GiB %5.3f "
           "(send %5.3f relay %5.3f recv %5.3f)\n", mode, gib,
           (double)(rx.t_end - t0) / 1000, gbps, cpu / gib, tx.cpu / gib,
           relay_cpu / gib, rx.cpu / gib);
    close(tx.fd);
    close(rx.fd);
    close(lfd);
    event_base_free(base);
    return gbps;
}

static long
rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld", &v) == 1)
            break;
    fclose(f);
    return v;
}

static void
count_done(const struct relay_stats *st, int err, void *arg)
{
    (*(int *)arg)++;
}

/*
 * <n> idle relays: a child holds the 2n far ends, this process the 2n
 * relayed sockets.  Print heap and RSS per relay before and after one
 * small exchange on every relay.
 */
static void
run_idle(int n)
{
    struct event_base *base = event_base_new();
    struct relay_opts o = { .idle_timeout = 600000 };
    int lfd = listen_lo(0), ctl[2], i, ended = 0;
    int *fds = calloc((size_t)n * 2, sizeof(int));
    struct mallinfo2 m0, m1, m2;
    long r0, r1, r2;
    pid_t pid;
    char c;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, ctl) == -1)
        die("socketpair");
    pid = fork();
    if (pid == 0) {
        int *cf = calloc((size_t)n * 2, sizeof(int));

        close(ctl[0]);
        for (i = 0; i < 2 * n; i++)
            if ((cf[i] = connect_lo(lfd, false)) == -1)
                die("connect");
        write(ctl[1], "c", 1);
        read(ctl[1], &c, 1);                 /* relays are up */
        for (i = 0; i < n; i++)
            send(cf[2 * i], "0123456789", 10, 0);
        for (i = 0; i < n; i++)
            recv(cf[2 * i + 1], &c, 1, MSG_WAITALL);
        write(ctl[1], "c", 1);
        read(ctl[1], &c, 1);                 /* measured: exit */
        _exit(0);
    }
    close(ctl[1]);
    for (i = 0; i < 2 * n; i++) {
        fds[i] = accept(lfd, NULL, NULL);
        if (fds[i] == -1)
            die("accept");
        set_nonblock(fds[i]);
    }
    read(ctl[0], &c, 1);
    event_base_loop(base, EVLOOP_NONBLOCK);
    m0 = mallinfo2();
    r0 = rss_kib();
    for (i = 0; i < n; i++)
        if (relay_start(base, fds[2 * i], fds[2 * i + 1], NULL, NULL, &o,
                        count_done, &ended) == NULL)
            die("relay_start");
    event_base_loop(base, EVLOOP_NONBLOCK);
    m1 = mallinfo2();
    r1 = rss_kib();
    write(ctl[0], "c", 1);
    {
        sk_msec_t end = sk_now_msec() + 10000;

        /* The child's "got one byte each" answer ends the wait. */
        set_nonblock(ctl[0]);
        while (read(ctl[0], &c, 1) != 1 && sk_now_msec() < end)
            event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    }
    event_base_loop(base, EVLOOP_NONBLOCK);
    m2 = mallinfo2();
    r2 = rss_kib();
    printf("%d relays: heap %.0f B/relay idle, %.0f B/relay after traffic; "
           "RSS %.0f B/relay, %.0f B/relay after traffic; ended %d\n", n,
           (double)(m1.uordblks - m0.uordblks) / n,
           (double)(m2.uordblks - m0.uordblks) / n,
           (double)(r1 - r0) * 1024 / n, (double)(r2 - r0) * 1024 / n,
           ended);
    write(ctl[0], "c", 1);
    waitpid(pid, NULL, 0);
    free(fds);
    event_base_free(base);
}

struct fwd {
    struct event_base *base;
    uint16_t dport;
    bool copy;
};

static void
fwd_done(const struct relay_stats *st, int err, void *arg)
{
    fprintf(stderr, "relay: %llu / %llu bytes, err %d\n",
            (unsigned long long)st->a_to_b, (unsigned long long)st->b_to_a,
            err);
}

static void
fwd_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct fwd *f = arg;
    struct relay_opts o = { .no_splice = f->copy };
    int a = accept(lfd, NULL, NULL), b;

    if (a == -1)
        return;
    b = connect_lo(f->dport, true);
    if (b == -1) {
        close(a);
        return;
    }
    set_nonblock(a);
    set_nonblock(b);
    relay_start(f->base, a, b, NULL, NULL, &o, fwd_done, NULL);
}

static void
run_forward(const char *spec, sk_msec_t ms, bool copy)
{
    struct fwd f = { .base = event_base_new(), .copy = copy };
    struct timeval tv = sk_msec_tv(ms);
    unsigned lport, dport;
    struct event *ev;
    int lfd;

    if (sscanf(spec, "%u:%u", &lport, &dport) != 2)
        die("-F lport:dport");
    f.dport = (uint16_t)dport;
    lfd = listen_lo((uint16_t)lport);
    ev = event_new(f.base, lfd, EV_READ | EV_PERSIST, fwd_accept, &f);
    event_add(ev, NULL);
    event_base_loopexit(f.base, &tv);
    event_base_dispatch(f.base);
    event_free(ev);
    close(lfd);
    event_base_free(f.base);
}

int
main(int argc, char **argv)
{
    const char *modes[8], *fwd = NULL;
    uint64_t limit = 4ull << 30;
    sk_msec_t max_ms = 5000;
    int nmodes = 0, opt, idle = 0, rounds = 1, k;
    bool copy = false;

    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((opt = getopt(argc, argv, "g:t:m:i:F:cr:")) != -1) {
        switch (opt) {
        case 'g':
            limit = (uint64_t)(atof(optarg) * (1 << 30));
            break;
        case 't':
            max_ms = (sk_msec_t)(atof(optarg) * 1000);
            break;
        case 'm':
            if (nmodes < 8)
                modes[nmodes++] = optarg;
            break;
        case 'i':
            idle = atoi(optarg);
            break;
        case 'F':
            fwd = optarg;
            break;
        case 'c':
            copy = true;
            break;
        case 'r':
            rounds = SK_MAX(1, SK_MIN(atoi(optarg), 20));
            break;
        default:
            fprintf(stderr, "usage: see the file comment\n");
            return 2;
        }
    }
    if (max_ms > 60000)
        max_ms = 60000;
    if (idle > 0) {
        run_idle(idle);
        return 0;
    }
    if (fwd != NULL) {
        run_forward(fwd, max_ms, copy);
        return 0;
    }
    if (nmodes == 0) {
        modes[nmodes++] = "direct";
        modes[nmodes++] = "splice";
        modes[nmodes++] = "copy";
    }
    {
        double best[8] = { 0 }, sum[8] = { 0 }, g;

        /* Rounds interleave the modes so that load from elsewhere on the
         * machine spreads evenly over them. */
        for (k = 0; k < rounds; k++) {
            for (opt = 0; opt < nmodes; opt++) {
                g = run_throughput(modes[opt], limit, max_ms);
                best[opt] = SK_MAX(best[opt], g);
                sum[opt] += g;
            }
        }
        for (opt = 0; opt < nmodes; opt++)
            printf("%-7s best %6.2f mean %6.2f Gbit/s (%.2fx of %s best)\n",
                   modes[opt], best[opt], sum[opt] / rounds,
                   best[opt] / best[0], modes[0]);
    }
    return 0;
}
