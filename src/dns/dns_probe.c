/*
 * dns_probe.c -- a hand-run check of the real resolver and connect paths:
 * c-ares on a libevent loop, the hosts file, the shared cache, Happy
 * Eyeballs connects to loopback listeners.  Built by `make check`, never
 * run by it; it only talks to loopback.
 *
 *   dns_probe                      built-in loopback checks
 *   dns_probe SERVER NAME...       resolve NAMEs through the DNS server
 *                                  SERVER ("ip", "ip:port", "[v6]:port")
 *
 * Not a test of record: the unit tests and the integration suite are.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sk_common.h"
#include "sk_log.h"
#include "sk_str.h"
#include "sk_time.h"
#include "conf/conf.h"
#include "comm/comm_connect.h"
#include "dns/dns.h"

static struct event_base *base;
static int outstanding;
static int failures;
static void *cancelled_ctx;         /* the arg of the last operation */

static const char *const status_names[] = {
    "OK", "NXDOMAIN", "TIMEOUT", "FAIL"
};

struct probe_ctx {
    char label[64];
    sk_msec_t started;
    int expect;                     /* dns: status; connect: errno */
};

static void
probe_done(void)
{
    if (--outstanding == 0)
        event_base_loopbreak(base);
}

static void
on_dns(const struct dns_result *res, void *arg)
{
    struct probe_ctx *p = arg;
    char buf[SK_ADDRSTRLEN];
    unsigned i;

    printf("dns %-22s %-8s %4lld ms  n=%u", p->label,
           status_names[res->status],
           (long long)(sk_now_msec() - p->started), res->n);
    for (i = 0; i < res->n; i++)
        printf(" %s", sk_addr_str((const struct sockaddr *)&res->addrs[i],
                                  buf, sizeof(buf)));
    if (res->error != NULL)
        printf("  (%s)", res->error);
    if (p->expect >= 0 && (int)res->status != p->expect) {
        printf("  UNEXPECTED, want %s", status_names[p->expect]);
        failures++;
    }
    printf("\n");
    free(p);
    probe_done();
}

static void
on_dns_never(const struct dns_result *res, void *arg)
{
    printf("dns callback after cancel/free: BUG\n");
    failures++;
}

static struct dns_resolver *free_me;

static void
on_dns_free(const struct dns_result *res, void *arg)
{
    printf("dns callback %s: freeing the resolver from inside it\n",
           status_names[res->status]);
    dns_resolver_free(free_me);
    probe_done();
}

static struct dns_query *
resolve(struct dns_resolver *r, const char *name, int expect)
{
    struct probe_ctx *p = sk_calloc(1, sizeof(*p));
    struct dns_query *q;
    int rc;

    snprintf(p->label, sizeof(p->label), "%s", name);
    p->started = sk_now_msec();
    p->expect = expect;
    outstanding++;
    cancelled_ctx = p;
    rc = dns_resolve(r, name, on_dns, p, &q);
    if (rc == SKUA_OK && q != NULL) {
        printf("SKUA_OK with a handle: BUG\n");
        failures++;
    }
    if (rc == SKUA_OK)
        printf("    (%s answered synchronously)\n", name);
    return q;
}

static void
on_connect(int fd, int err, const struct sockaddr_storage *peer, void *arg)
{
    struct probe_ctx *p = arg;
    char buf[SK_ADDRSTRLEN];

    printf("connect %-30s fd=%d err=%d (%s) %4lld ms peer=%s", p->label,
           fd, err, err ? strerror(err) : "ok",
           (long long)(sk_now_msec() - p->started),
           peer ? sk_addr_port_str((const struct sockaddr *)peer, buf,
                                   sizeof(buf)) : "-");
    if (err != p->expect) {
        printf("  UNEXPECTED, want %d", p->expect);
        failures++;
    }
    printf("\n");
    if (fd != -1)
        close(fd);
    free(p);
    probe_done();
}

static void
on_connect_never(int fd, int err, const struct sockaddr_storage *peer,
                 void *arg)
{
    printf("connect callback after cancel: BUG\n");
    failures++;
}

static struct comm_connect *
connect_to(const char *label, const char *list, uint16_t port,
           sk_msec_t timeout, int expect)
{
    struct sockaddr_storage a[8];
    struct comm_connect_opts o = { .timeout = timeout };
    struct probe_ctx *p = sk_calloc(1, sizeof(*p));
    char copy[256], *tok, *save = NULL;
    struct comm_connect *c;
    unsigned n = 0;

    snprintf(copy, sizeof(copy), "%s", list);
    for (tok = strtok_r(copy, " ", &save); tok && n < 8;
         tok = strtok_r(NULL, " ", &save))
        if (sk_addr_parse(tok, NULL, false, &a[n]) == 0)
            n++;
    snprintf(p->label, sizeof(p->label), "%s", label);
    p->started = sk_now_msec();
    p->expect = expect;
    outstanding++;
    cancelled_ctx = p;
    c = comm_connect_start(base, a, n, port, &o, on_connect, p);
    if (c == NULL) {
        printf("connect %s: start failed: %s\n", label, strerror(errno));
        failures++;
        free(p);
        outstanding--;
    }
    return c;
}

/* A TCP listener on <ip>:<port> (0: any) with <backlog>; return fd. */
static int
listener(const char *ip, uint16_t *port, int backlog)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(*port);
    inet_pton(AF_INET, ip, &sin.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
        listen(fd, backlog) == -1) {
        perror("listener");
        exit(2);
    }
    getsockname(fd, (struct sockaddr *)&sin, &len);
    *port = ntohs(sin.sin_port);
    return fd;
}

/* Fill the accept queue of a backlog-0 listener so SYNs are dropped. */
static void
fill_backlog(uint16_t port, const char *ip, int *fds, int n)
{
    struct sockaddr_in sin;
    int i;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    inet_pton(AF_INET, ip, &sin.sin_addr);
    for (i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        (void)connect(fds[i], (struct sockaddr *)&sin, sizeof(sin));
    }
}

static void
run_loop(sk_msec_t limit)
{
    struct timeval tv = sk_msec_tv(limit);

    if (outstanding > 0) {
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    if (outstanding != 0) {
        printf("%d operations never finished\n", outstanding);
        failures++;
        outstanding = 0;
    }
}

static void
on_connect_src(int fd, int err, const struct sockaddr_storage *peer,
               void *arg)
{
    struct sockaddr_storage me;
    socklen_t len = sizeof(me);
    char buf[SK_ADDRSTRLEN];

    getsockname(fd, (struct sockaddr *)&me, &len);
    printf("connect with src4 127.0.0.2    err=%d local=%s\n", err,
           fd == -1 ? "-" : sk_addr_port_str((struct sockaddr *)&me, buf,
                                             sizeof(buf)));
    if (fd == -1 || ((struct sockaddr_in *)&me)->sin_addr.s_addr !=
                    htonl(0x7f000002))
        failures++;
    if (fd != -1)
        close(fd);
    probe_done();
}

/* Bind the source to 127.0.0.2 (port 0: IP_BIND_ADDRESS_NO_PORT). */
static void
src_checks(uint16_t port)
{
    struct sockaddr_storage dst, src;
    struct comm_connect_opts o = { .timeout = 2000 };

    sk_addr_parse("127.0.0.1", NULL, false, &dst);
    sk_addr_parse("127.0.0.2", NULL, false, &src);
    o.src4 = &src;
    o.src6 = NULL;
    outstanding++;
    if (comm_connect_start(base, &dst, 1, port, &o, on_connect_src, NULL)
        == NULL)
        failures++;
    run_loop(5000);
}

static void
connect_checks(void)
{
    uint16_t port = 0, closed = 0, hport = 0;
    int lfd = listener("127.0.0.1", &port, 16), cfd, hfd, hfd2, clogs[4];
    int i;
    struct comm_connect *c;

    cfd = listener("127.0.0.1", &closed, 1);
    close(cfd);                     /* nothing listens there now */
    connect_to("127.0.0.1 listening", "127.0.0.1", port, 2000, 0);
    connect_to("127.0.0.1 closed port", "127.0.0.1", closed, 2000,
               ECONNREFUSED);
    connect_to("::1 closed, 127.0.0.1 open", "::1 127.0.0.1", port, 2000, 0);
    connect_to("all closed", "::1 127.0.0.1 127.0.0.2", closed, 2000,
               ECONNREFUSED);
    c = connect_to("cancelled", "127.0.0.1", port, 2000, 0);
    free(cancelled_ctx);
    comm_connect_cancel(c);
    outstanding--;
    run_loop(5000);
    src_checks(port);

    /*
     * A listener whose accept queue is full drops SYNs: a connect there
     * hangs.  127.0.0.2 hangs, 127.0.0.1 on the same port answers.
     */
    hfd = listener("127.0.0.2", &hport, 0);
    hfd2 = listener("127.0.0.1", &hport, 16);
    fill_backlog(hport, "127.0.0.2", clogs, 4);
    usleep(100000);
    connect_to("hang then ok (expect ~250ms)", "127.0.0.2 127.0.0.1", hport,
               3000, 0);
    connect_to("hang, timeout 300 ms", "127.0.0.2", hport, 300, ETIMEDOUT);
    run_loop(5000);
    for (i = 0; i < 4; i++)
        close(clogs[i]);
    close(hfd);
    close(hfd2);
    close(lfd);
    (void)on_connect_never;
}

static void
dns_checks(struct dns_resolver *r)
{
    struct dns_query *q;

    resolve(r, "localhost", DNS_OK);
    resolve(r, "LocalHost.", DNS_OK);
    resolve(r, "127.0.0.1", DNS_OK);
    resolve(r, "::1", DNS_OK);
    resolve(r, "foo.localhost", DNS_OK);
    resolve(r, "bad name!", DNS_FAIL);
    resolve(r, "x.onion", DNS_NXDOMAIN);
    q = resolve(r, "cancelled.invalid", -1);
    if (q != NULL) {
        free(cancelled_ctx);
        dns_cancel(q);
        outstanding--;
    }
    run_loop(5000);
}

int
main(int argc, char **argv)
{
    struct conf conf;
    struct dns_resolver *r;
    char *servers[8] = { NULL };
    const char *lvl = getenv("PROBE_DEBUG");
    int i;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (lvl != NULL)
        sk_log_set_stderr_level(atoi(lvl));
    base = event_base_new();
    memset(&conf, 0, sizeof(conf));
    conf.dns_timeout = getenv("PROBE_TIMEOUT") ?
                       atoi(getenv("PROBE_TIMEOUT")) : 3000;
    conf.positive_dns_ttl = 6 * 3600 * 1000;
    conf.negative_dns_ttl = 60 * 1000;
    conf.hosts_file = (char *)"/etc/hosts";
    /* the built-in checks must not reach the machine's real resolver */
    servers[0] = argc > 1 ? argv[1] : (char *)"127.0.0.1:9";
    conf.dns_nameservers = servers;
    r = dns_resolver_new(base, &conf);
    if (r == NULL) {
        printf("dns_resolver_new failed\n");
        return 1;
    }
    if (argc <= 1) {
        dns_checks(r);
        connect_checks();
    } else {
        struct dns_query *q;

        /* each name twice at once (coalesced), then again (cache) */
        for (i = 2; i < argc; i++) {
            resolve(r, argv[i], -1);
            resolve(r, argv[i], -1);
        }
        run_loop(conf.dns_timeout * 2 + 1000);
        if (getenv("PROBE_AGAIN_AFTER") != NULL)
            usleep((useconds_t)atoi(getenv("PROBE_AGAIN_AFTER")) * 1000);
        printf("-- again, from the cache:\n");
        for (i = 2; i < argc; i++)
            resolve(r, argv[i], -1);
        run_loop(conf.dns_timeout * 2 + 1000);
        printf("-- reconfigure, then free with a query pending:\n");
        if (dns_resolver_reconfigure(r, &conf) == -1) {
            printf("reconfigure failed\n");
            failures++;
        }
        dns_cache_flush();
        if (dns_resolve(r, argv[argc - 1], on_dns_never, NULL, &q) ==
            SKUA_AGAIN)
            printf("    pending %s: freeing the resolver\n", argv[argc - 1]);
        dns_resolver_free(r);
        event_base_loop(base, EVLOOP_NONBLOCK);

        printf("-- two waiters, the first frees the resolver:\n");
        free_me = dns_resolver_new(base, &conf);
        dns_cache_flush();
        if (dns_resolve(free_me, argv[2], on_dns_free, NULL, &q) ==
            SKUA_AGAIN) {
            dns_resolve(free_me, argv[2], on_dns_never, NULL, &q);
            outstanding++;
            run_loop(conf.dns_timeout * 2 + 1000);
        } else {
            dns_resolver_free(free_me);
        }
    }
    dns_resolver_free(r);
    /* let libevent run whatever is left: nothing must call back */
    event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
    printf("%s (%d failures)\n", failures ? "FAILED" : "OK", failures);
    return failures ? 1 : 0;
}
