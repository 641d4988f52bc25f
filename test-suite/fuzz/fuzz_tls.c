/*
 * fuzz_tls.c -- fuzz the TLS ClientHello parser (src/proto/tls_parse.c).
 *
 * The whole input is parsed, and:
 *   - the outcome is SKUA_OK, SKUA_AGAIN or SKUA_ERROR with a reason from
 *     the enum; the hello is untouched unless SKUA_OK, the reason unless
 *     SKUA_ERROR;
 *   - a parsed hello is consistent: hello_len within the input, versions
 *     0x03xx, the server name a NUL-terminated lowercase host name with no
 *     empty label (or an IP literal, flagged), ALPN names terminated,
 *     non-empty and flagged when cut, no max_version without
 *     supported_versions;
 *   - prefixes agree: shorter than hello_len is SKUA_AGAIN, an error is
 *     SKUA_AGAIN or the same error earlier, SKUA_AGAIN stays SKUA_AGAIN,
 *     and the input cut at hello_len parses to the same hello;
 *   - the handshake message of a parsed hello, refragmented into records
 *     of another size, parses to the same hello.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "proto/tls_parse.h"

#define PREFIX_ALL 1024     /* check every prefix of inputs up to this */
#define PREFIX_SAMPLES 256  /* and this many of longer ones */

static uint8_t refrag[TLS_HELLO_MAX * 2];

static int
run(const uint8_t *buf, size_t len, struct tls_hello *h, enum tls_perr *e)
{
    memset(h, 0xa5, sizeof(*h));
    *e = (enum tls_perr)0x5a5a;
    return tls_parse_client_hello(buf, len, h, e);
}

static bool
host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
           || c == '_' || c == '.' || c == ':';
}

static void
check_sni(const struct tls_hello *h)
{
    const char *nul = memchr(h->sni, '\0', sizeof(h->sni));
    size_t n, i;

    FUZZ_CHECK(nul != NULL);
    n = (size_t)(nul - h->sni);
    FUZZ_CHECK(!(h->has_sni && h->sni_is_ip));
    if (!h->has_sni && !h->sni_is_ip) {
        FUZZ_CHECK(n == 0);
        return;
    }
    FUZZ_CHECK(n >= 1 && n <= TLS_SNI_MAX);
    for (i = 0; i < n; i++)
        FUZZ_CHECK(host_char(h->sni[i]));
    FUZZ_CHECK(h->sni[0] != '.' && h->sni[n - 1] != '.');
    FUZZ_CHECK(strstr(h->sni, "..") == NULL);
    if (h->has_sni)
        FUZZ_CHECK(strchr(h->sni, ':') == NULL);
}

static void
check_hello(const struct tls_hello *h, size_t len)
{
    bool cut = h->n_alpn > TLS_ALPN_KEEP;
    unsigned i;

    FUZZ_CHECK(h->hello_len >= 9 && h->hello_len <= len);
    FUZZ_CHECK((h->record_version >> 8) == 3);
    FUZZ_CHECK((h->legacy_version >> 8) == 3);
    FUZZ_CHECK(h->has_supported_versions || h->max_version == 0);
    check_sni(h);
    for (i = 0; i < h->n_alpn && i < TLS_ALPN_KEEP; i++) {
        FUZZ_CHECK(h->alpn_len[i] >= 1);
        FUZZ_CHECK(memchr(h->alpn[i], '\0', sizeof(h->alpn[i])) != NULL);
        if (h->alpn_len[i] > TLS_ALPN_NAME_MAX)
            cut = true;
    }
    FUZZ_CHECK(h->alpn_truncated == cut);
}

/* Is <a> the same hello as <b>, hello_len aside? */
static bool
same_hello(const struct tls_hello *a, const struct tls_hello *b)
{
    struct tls_hello x;

    memcpy(&x, a, sizeof(x));
    x.hello_len = b->hello_len;
    return memcmp(&x, b, sizeof(x)) == 0;
}

/* Refragment the records of the parsed <h> into records of <frag>. */
static void
check_refragment(const uint8_t *buf, const struct tls_hello *h,
                 size_t frag)
{
    static uint8_t hs[TLS_HELLO_MAX];
    struct tls_hello r;
    enum tls_perr e;
    size_t off = 0, have = 0, rlen, n = 0, k;

    while (off < h->hello_len) {
        rlen = (size_t)buf[off + 3] << 8 | buf[off + 4];
        FUZZ_CHECK(have + rlen <= sizeof(hs));
        memcpy(hs + have, buf + off + 5, rlen);
        have += rlen;
        off += 5 + rlen;
    }
    FUZZ_CHECK(off == h->hello_len);
    frag = SK_MAX(frag, (have + TLS_HELLO_MAX_RECORDS - 1)
                        / TLS_HELLO_MAX_RECORDS);
    for (off = 0; off < have; off += k) {
        k = SK_MIN(frag, have - off);
        memcpy(refrag + n, buf, 3);
        refrag[n + 3] = (uint8_t)(k >> 8);
        refrag[n + 4] = (uint8_t)k;
        memcpy(refrag + n + 5, hs + off, k);
        n += 5 + k;
    }
    FUZZ_CHECK(run(refrag, n, &r, &e) == SKUA_OK);
    FUZZ_CHECK(r.hello_len == n && same_hello(&r, h));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tls_hello untouched;
    struct tls_hello h, p;
    enum tls_perr e, pe;
    size_t n, i, steps;
    int r, rp;

    memset(&untouched, 0xa5, sizeof(untouched));
    r = run(data, size, &h, &e);
    FUZZ_CHECK(r == SKUA_OK || r == SKUA_AGAIN || r == SKUA_ERROR);
    if (r == SKUA_ERROR)
        FUZZ_CHECK(e > TLS_PERR_NONE && e <= TLS_PERR_TOO_BIG);
    else
        FUZZ_CHECK(e == (enum tls_perr)0x5a5a);
    if (r == SKUA_OK) {
        check_hello(&h, size);
        FUZZ_CHECK(run(data, h.hello_len, &p, &pe) == SKUA_OK);
        FUZZ_CHECK(memcmp(&p, &h, sizeof(p)) == 0);
        check_refragment(data, &h, 1 + (size_t)data[size - 1] % 97);
    } else {
        FUZZ_CHECK(memcmp(&h, &untouched, sizeof(h)) == 0);
    }

    steps = size <= PREFIX_ALL ? size : PREFIX_SAMPLES;
    for (i = 0; i < steps; i++) {
        n = size <= PREFIX_ALL ? i : i * size / PREFIX_SAMPLES;
        rp = run(data, n, &p, &pe);
        if (r == SKUA_OK && n >= h.hello_len)
            FUZZ_CHECK(rp == SKUA_OK && memcmp(&p, &h, sizeof(p)) == 0);
        else if (r == SKUA_ERROR)
            FUZZ_CHECK(rp == SKUA_AGAIN || (rp == SKUA_ERROR && pe == e));
        else
            FUZZ_CHECK(rp == SKUA_AGAIN);
    }
    return 0;
}
