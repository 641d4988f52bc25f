/*
 * test_sniff.c -- unit tests for src/proto/sniff.c.
 *
 * Table-driven: first bytes of TLS, HTTP, SSH, SOCKS4, SOCKS4a, SOCKS5 and
 * other protocols, each classified whole and prefix by prefix (a prefix
 * gives SKUA_AGAIN or the same protocol; with <final> set it always
 * decides); the Host of HTTP requests; a ClientHello's server name.  No
 * I/O.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/sniff.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define B(s) (const uint8_t *)(s), sizeof(s) - 1

struct row {
    const char *what;
    const uint8_t *buf;
    size_t len;
    enum sniff_proto proto;     /* whole input, not final */
    bool again;                 /* whole input needs more (not final) */
    enum sniff_proto final_proto;   /* whole input, final */
    const char *host;           /* HTTP Host expected ("" none) */
};

/* A minimal ClientHello for "example.com": one cipher suite, no
 * compression, the server_name extension only. */
static const uint8_t hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x43,       /* record */
    0x01, 0x00, 0x00, 0x3f, 0x03, 0x03, /* ClientHello, TLS 1.2 */
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    0x00,                               /* session id */
    0x00, 0x02, 0x13, 0x01,             /* cipher suites */
    0x01, 0x00,                         /* compression */
    0x00, 0x14,                         /* extensions */
    0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x00, 0x0b,
    'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
};

static const struct row rows[] = {
    { "http get", B("GET / HTTP/1.1\r\nHost: Example.COM\r\n\r\n"),
      SNIFF_HTTP, false, SNIFF_HTTP, "example.com" },
    { "http no host", B("GET /x HTTP/1.0\r\n\r\n"), SNIFF_HTTP, false,
      SNIFF_HTTP, "" },
    { "http part head", B("POST /a HTTP/1.1\r\nHost: a.b:8080\r\n"),
      SNIFF_HTTP, true, SNIFF_HTTP, "a.b:8080" },
    { "http bare lf", B("GET / HTTP/1.1\nhost:x\n\n"), SNIFF_HTTP, false,
      SNIFF_HTTP, "x" },
    { "http search", B("SEARCH / HTTP/1.1\r\n\r\n"), SNIFF_HTTP, false,
      SNIFF_HTTP, "" },
    { "http part line", B("GET /index.ht"), SNIFF_HTTP, true, SNIFF_HTTP,
      "" },
    { "not http version", B("GET / HTTP/2.0\r\n\r\n"), SNIFF_UNKNOWN,
      false, SNIFF_UNKNOWN },
    { "smtp-ish", B("EHLO client.example\r\n"), SNIFF_UNKNOWN, false,
      SNIFF_UNKNOWN },
    { "ssh", B("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), SNIFF_SSH, false,
      SNIFF_SSH },
    { "ssh short", B("SS"), SNIFF_SSH, true, SNIFF_UNKNOWN },
    { "socks5 greeting", B("\x05\x02\x00\x02"), SNIFF_SOCKS, false,
      SNIFF_SOCKS },
    { "socks5 extra", B("\x05\x01\x00\x99"), SNIFF_UNKNOWN, false,
      SNIFF_UNKNOWN },
    { "socks4", B("\x04\x01\x00\x50\x7f\x00\x00\x01user\x00"),
      SNIFF_SOCKS, false, SNIFF_SOCKS },
    { "socks4a", B("\x04\x01\x00\x50\x00\x00\x00\x01\x00host.example\x00"),
      SNIFF_SOCKS, false, SNIFF_SOCKS },
    { "socks4 bad cmd", B("\x04\x09\x00\x50\x7f\x00\x00\x01\x00"),
      SNIFF_UNKNOWN, false, SNIFF_UNKNOWN },
    { "binary", B("\x00\x01\x02\x03"), SNIFF_UNKNOWN, false,
      SNIFF_UNKNOWN },
    { "tls other version byte", B("\x16\x02\x00"), SNIFF_UNKNOWN, false,
      SNIFF_UNKNOWN },
    { "tls record cut", B("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
      SNIFF_TLS, true, SNIFF_TLS },
};

static void
test_rows(void **state)
{
    struct sniff_result r;
    size_t i, n;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *w = &rows[i];

        print_message("  %s\n", w->what);
        rc = sniff_classify(w->buf, w->len, false, &r);
        if (w->again) {
            assert_int_equal(rc, SKUA_AGAIN);
        } else {
            assert_int_equal(rc, SKUA_OK);
            assert_int_equal(r.proto, w->proto);
        }
        assert_int_equal(sniff_classify(w->buf, w->len, true, &r), SKUA_OK);
        assert_int_equal(r.proto, w->final_proto);
        if (w->host != NULL)
            assert_string_equal(r.host, w->host);
        /* Every prefix: more needed, or the same answer as the whole. */
        for (n = 1; n < w->len; n++) {
            rc = sniff_classify(w->buf, n, false, &r);
            if (rc == SKUA_OK && !w->again && w->proto != SNIFF_UNKNOWN)
                assert_int_equal(r.proto, w->proto);
            assert_int_equal(sniff_classify(w->buf, n, true, &r), SKUA_OK);
        }
    }
}

static void
test_nothing(void **state)
{
    struct sniff_result r;

    (void)state;
    assert_int_equal(sniff_classify(NULL, 0, false, &r), SKUA_AGAIN);
    assert_int_equal(sniff_classify(NULL, 0, true, &r), SKUA_OK);
    assert_int_equal(r.proto, SNIFF_NONE);
    assert_string_equal(sniff_proto_name(r.proto), "server-first");
    assert_string_equal(sniff_proto_name(SNIFF_TLS), "tls");
}

static void
test_tls_hello(void **state)
{
    struct sniff_result r;
    uint8_t buf[sizeof(hello)];
    size_t n;

    (void)state;
    n = sizeof(hello);
    memcpy(buf, hello, n);
    assert_int_equal(sniff_classify(buf, n, false, &r), SKUA_OK);
    assert_int_equal(r.proto, SNIFF_TLS);
    assert_true(r.tls_ok);
    assert_true(r.tls.has_sni);
    assert_string_equal(r.tls.sni, "example.com");
    /* Every prefix needs more, unless final: then a cut hello. */
    for (size_t i = 2; i < n; i++) {
        assert_int_equal(sniff_classify(buf, i, false, &r), SKUA_AGAIN);
        assert_int_equal(sniff_classify(buf, i, true, &r), SKUA_OK);
        assert_int_equal(r.proto, SNIFF_TLS);
        assert_false(r.tls_ok);
    }
    /* A malformed one is still TLS, not parsed. */
    buf[8] = 0x3e;                      /* handshake length off by one */
    assert_int_equal(sniff_classify(buf, n, false, &r), SKUA_OK);
    assert_int_equal(r.proto, SNIFF_TLS);
    assert_false(r.tls_ok);
}

static void
test_oversized(void **state)
{
    static uint8_t big[SNIFF_MAX + 100];
    struct sniff_result r;

    (void)state;
    memset(big, 'A', sizeof(big));
    memcpy(big, "GET /", 5);
    assert_int_equal(sniff_classify(big, sizeof(big), false, &r), SKUA_OK);
    assert_int_equal(r.proto, SNIFF_UNKNOWN);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_nothing),
        cmocka_unit_test(test_tls_hello),
        cmocka_unit_test(test_oversized),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
