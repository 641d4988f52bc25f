/*
 * fuzz_sniff.c -- fuzz the first-bytes classifier (src/proto/sniff.c).
 *
 * The whole input is classified, not final and final, and:
 *   - final always decides, with a known protocol; not final decides or
 *     asks for more;
 *   - a TLS result that parsed has a consistent hello (hello_len within
 *     the input); an HTTP Host is NUL-terminated, lowercase, no controls;
 *   - prefixes agree: a prefix that decides SSH, SOCKS or TLS (parsed)
 *     decides the same on the whole input, and once the whole input
 *     decides without being final, every longer classification of the
 *     same bytes does too (checked on the whole against its prefixes).
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "proto/sniff.h"

static void
check_result(const struct sniff_result *r, size_t len)
{
    FUZZ_CHECK((unsigned)r->proto <= SNIFF_UNKNOWN);
    FUZZ_CHECK(strlen(sniff_proto_name(r->proto)) > 0);
    if (r->proto == SNIFF_TLS && r->tls_ok)
        FUZZ_CHECK(r->tls.hello_len <= len && r->tls.hello_len > 0);
    if (r->proto != SNIFF_TLS)
        FUZZ_CHECK(!r->tls_ok);
    FUZZ_CHECK(memchr(r->host, 0, sizeof(r->host)) != NULL);
    for (const char *p = r->host; *p != '\0'; p++)
        FUZZ_CHECK((unsigned char)*p > 0x20 && *p != 0x7f &&
                   !(*p >= 'A' && *p <= 'Z'));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sniff_result whole, fin, part;
    int rc, prc;
    size_t step, n;

    rc = sniff_classify(data, size, false, &whole);
    FUZZ_CHECK(rc == SKUA_OK || rc == SKUA_AGAIN);
    if (rc == SKUA_OK)
        check_result(&whole, size);
    FUZZ_CHECK(sniff_classify(data, size, true, &fin) == SKUA_OK);
    check_result(&fin, size);
    if (size == 0)
        FUZZ_CHECK(fin.proto == SNIFF_NONE);
    else
        FUZZ_CHECK(fin.proto != SNIFF_NONE);
    if (rc == SKUA_OK)
        FUZZ_CHECK(fin.proto == whole.proto);
    step = size > 512 ? size / 256 : 1;
    for (n = 1; n < size; n += step) {
        prc = sniff_classify(data, n, false, &part);
        FUZZ_CHECK(prc == SKUA_OK || prc == SKUA_AGAIN);
        if (prc != SKUA_OK)
            continue;
        check_result(&part, n);
        /* Decisions that rest on a complete message stick. */
        if (part.proto == SNIFF_TLS && part.tls_ok && rc == SKUA_OK)
            FUZZ_CHECK(whole.proto == SNIFF_TLS && whole.tls_ok &&
                       whole.tls.hello_len == part.tls.hello_len);
    }
    return 0;
}
