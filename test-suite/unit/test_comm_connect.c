/*
 * test_comm_connect.c -- unit tests for the Happy Eyeballs address order
 * (comm_connect_sort) and for the connect machinery against listeners on
 * loopback: a peer that answers at once, a refused port, a refusal
 * followed by the next address, and an attempt that stays pending (a
 * listener whose accept queue is full) until the timeout; also the IPv4
 * form of sk_addr_str().
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "sk_str.h"
#include "comm/comm_connect.h"

#define MAX_ADDRS 16

/* Parse "a b c" (addresses, or "unix" for an AF_UNIX entry) into <out>. */
static unsigned
parse_list(const char *list, struct sockaddr_storage *out)
{
    char copy[512], *tok, *save = NULL;
    unsigned n = 0;

    snprintf(copy, sizeof(copy), "%s", list);
    for (tok = strtok_r(copy, " ", &save); tok != NULL;
         tok = strtok_r(NULL, " ", &save)) {
        assert_true(n < MAX_ADDRS);
        memset(&out[n], 0, sizeof(out[n]));
        if (strcmp(tok, "unix") == 0)
            out[n].ss_family = AF_UNIX;
        else
            assert_int_equal(sk_addr_parse(tok, NULL, false, &out[n]), 0);
        n++;
    }
    return n;
}

static void
render_list(const struct sockaddr_storage *a, unsigned n, char *buf,
            size_t len)
{
    char one[SK_ADDRSTRLEN];
    unsigned i;

    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        if (a[i].ss_family == AF_UNIX)
            snprintf(one, sizeof(one), "unix");
        else
            sk_addr_str((const struct sockaddr *)&a[i], one, sizeof(one));
        if (i > 0)
            strncat(buf, " ", len - strlen(buf) - 1);
        strncat(buf, one, len - strlen(buf) - 1);
    }
}

static void
test_sort(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "", "" },
        { "10.0.0.1", "10.0.0.1" },
        { "::1", "::1" },
        /* one family: order kept */
        { "10.0.0.1 10.0.0.2 10.0.0.3", "10.0.0.1 10.0.0.2 10.0.0.3" },
        { "::3 ::1 ::2", "::3 ::1 ::2" },
        /* both: interleaved, IPv6 first, each family in its order */
        { "::1 ::2 10.0.0.1 10.0.0.2", "::1 10.0.0.1 ::2 10.0.0.2" },
        { "10.0.0.1 10.0.0.2 ::1 ::2", "::1 10.0.0.1 ::2 10.0.0.2" },
        { "10.0.0.1 ::1", "::1 10.0.0.1" },
        { "::1 10.0.0.1", "::1 10.0.0.1" },
        /* uneven: the longer family's tail goes last */
        { "10.0.0.1 10.0.0.2 10.0.0.3 ::1",
          "::1 10.0.0.1 10.0.0.2 10.0.0.3" },
        { "::1 ::2 ::3 10.0.0.1", "::1 10.0.0.1 ::2 ::3" },
        { "10.0.0.1 ::1 10.0.0.2 ::2 10.0.0.3",
          "::1 10.0.0.1 ::2 10.0.0.2 10.0.0.3" },
        /* other families are kept, last */
        { "unix 10.0.0.1 ::1", "::1 10.0.0.1 unix" },
    };
    struct sockaddr_storage a[MAX_ADDRS];
    char buf[1024];
    size_t i;

    for (i = 0; i < SK_ARRAY_LEN(cases); i++) {
        unsigned n = parse_list(cases[i].in, a);

        comm_connect_sort(a, n);
        render_list(a, n, buf, sizeof(buf));
        if (strcmp(buf, cases[i].out) != 0)
            fail_msg("case %zu: '%s' sorted to '%s', want '%s'", i,
                     cases[i].in, buf, cases[i].out);
    }
}

static void
test_sort_keeps_ports(void **state)
{
    struct sockaddr_storage a[MAX_ADDRS];
    char buf[256];
    unsigned n = parse_list("10.0.0.1:81 [::1]:82", a);

    comm_connect_sort(a, n);
    sk_addr_port_str((struct sockaddr *)&a[0], buf, sizeof(buf));
    assert_string_equal(buf, "[::1]:82");
    sk_addr_port_str((struct sockaddr *)&a[1], buf, sizeof(buf));
    assert_string_equal(buf, "10.0.0.1:81");
}

static void
test_start_rejects_empty(void **state)
{
    struct sockaddr_storage a;

    memset(&a, 0, sizeof(a));
    assert_null(comm_connect_start(NULL, &a, 0, 80, NULL, NULL, NULL));
    comm_connect_cancel(NULL);
}

/* sk_addr_str()'s own IPv4 formatting says what inet_ntop() says. */
static void
test_addr_str_ipv4(void **state)
{
    static const unsigned char oct[] = { 0, 1, 9, 10, 42, 99, 100, 109,
                                         110, 199, 200, 249, 250, 255 };
    const size_t n = sizeof(oct);
    struct sockaddr_in sin;
    char got[SK_ADDRSTRLEN], want[INET_ADDRSTRLEN], small[8];
    size_t i, j;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    for (i = 0; i < n * n; i++) {
        for (j = 0; j < 4; j++) {
            unsigned char *b = (unsigned char *)&sin.sin_addr;

            b[j] = oct[(i + j * (i / n + 1)) % n];
        }
        assert_non_null(inet_ntop(AF_INET, &sin.sin_addr, want,
                                  sizeof(want)));
        assert_string_equal(sk_addr_str((const struct sockaddr *)&sin, got,
                                        sizeof(got)), want);
    }
    sin.sin_addr.s_addr = htonl(0xffffffffu);
    assert_string_equal(sk_addr_str((const struct sockaddr *)&sin, got,
                                    INET_ADDRSTRLEN), "255.255.255.255");
    /* A buffer too small for the address gets "-", as before. */
    assert_string_equal(sk_addr_str((const struct sockaddr *)&sin, small,
                                    sizeof(small)), "-");
}

/* ---- connecting, on loopback ---- */

struct outcome {
    bool called;
    int fd;
    int err;
    struct sockaddr_storage peer;
};

static void
on_result(int fd, int err, const struct sockaddr_storage *peer, void *arg)
{
    struct outcome *o = arg;

    assert_false(o->called);
    o->called = true;
    o->fd = fd;
    o->err = err;
    if (peer != NULL)
        o->peer = *peer;
}

/* A listener on <ip>, port 0 or <port>, with <backlog>; its port in *port. */
static int
listener(const char *ip, uint16_t *port, int backlog)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    assert_true(fd >= 0);
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(*port);
    assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

/* A port on 127.0.0.1 that nothing listens on (bound, so not reused). */
static int
closed_port(uint16_t *port)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

/* Start a connect to <list> port <port>, run the loop until it answers. */
static void
run_connect(const char *list, uint16_t port, sk_msec_t timeout,
            struct outcome *o)
{
    struct sockaddr_storage a[MAX_ADDRS];
    struct comm_connect_opts opts;
    struct event_base *base = event_base_new();
    unsigned n = parse_list(list, a);

    assert_non_null(base);
    memset(o, 0, sizeof(*o));
    o->fd = -2;
    memset(&opts, 0, sizeof(opts));
    opts.timeout = timeout;
    assert_non_null(comm_connect_start(base, a, n, port, &opts, on_result,
                                       o));
    /* Never from inside the call, even when connected at once. */
    assert_false(o->called);
    assert_int_not_equal(event_base_dispatch(base), -1);
    assert_true(o->called);
    event_base_free(base);
}

static void
assert_peer(const struct outcome *o, const char *ip, uint16_t port)
{
    char buf[SK_ADDRSTRLEN];
    struct sockaddr_storage got;
    socklen_t len = sizeof(got);

    assert_string_equal(sk_addr_str((const struct sockaddr *)&o->peer, buf,
                                    sizeof(buf)), ip);
    assert_int_equal(sk_addr_port((const struct sockaddr *)&o->peer), port);
    /* The socket really is connected, to that peer. */
    assert_int_equal(getpeername(o->fd, (struct sockaddr *)&got, &len), 0);
    assert_int_equal(sk_addr_port((const struct sockaddr *)&got), port);
}

/*
 * A listener on 127.0.0.1: reached at once, and after a refusal from
 * 127.0.0.2 (nothing listens there at that port), the next address being
 * tried at once.
 */
static void
test_connect_local(void **state)
{
    static const char *const lists[] = { "127.0.0.1", "127.0.0.2 127.0.0.1" };
    uint16_t port = 0;
    int lfd = listener("127.0.0.1", &port, 8);
    struct outcome o;
    size_t i;

    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        run_connect(lists[i], port, 5000, &o);
        assert_int_equal(o.err, 0);
        assert_true(o.fd >= 0);
        assert_peer(&o, "127.0.0.1", port);
        close(o.fd);
    }
    close(lfd);
}

static void
test_connect_refused(void **state)
{
    uint16_t port = 0;
    int bfd = closed_port(&port);
    struct outcome o;

    run_connect("127.0.0.1", port, 5000, &o);
    assert_int_equal(o.fd, -1);
    assert_int_equal(o.err, ECONNREFUSED);
    close(bfd);
}

static void
test_connect_pending_times_out(void **state)
{
    uint16_t port = 0;
    int lfd = listener("127.0.0.1", &port, 0), fill[4], i;
    struct sockaddr_in sin;
    struct outcome o;

    /* Fill the accept queue (never accepted): later SYNs are dropped, so
     * the attempt stays in progress. */
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(fill[i] >= 0);
        (void)connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
    }
    /* The queue holds a connection (the listener is readable) before
     * the attempt starts, however late the handshakes were processed. */
    {
        struct pollfd p = { .fd = lfd, .events = POLLIN };

        assert_int_equal(poll(&p, 1, 5000), 1);
    }
    run_connect("127.0.0.1", port, 300, &o);
    assert_int_equal(o.fd, -1);
    assert_int_equal(o.err, ETIMEDOUT);
    for (i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_sort_keeps_ports),
        cmocka_unit_test(test_start_rejects_empty),
        cmocka_unit_test(test_addr_str_ipv4),
        cmocka_unit_test(test_connect_local),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_connect_pending_times_out),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
