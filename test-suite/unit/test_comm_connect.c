/*
 * test_comm_connect.c -- unit tests for the Happy Eyeballs address order
 * (comm_connect_sort).  The connect machinery itself needs sockets and an
 * event loop and is checked elsewhere.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_sort_keeps_ports),
        cmocka_unit_test(test_start_rejects_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
