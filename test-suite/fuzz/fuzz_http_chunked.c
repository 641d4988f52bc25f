/*
 * fuzz_http_chunked.c -- fuzz the chunked decoder http_chunked_step()
 * (src/proto/http_parse.c).
 *
 * The first input byte picks the limits and the size of the pieces the
 * body is fed in; the rest is the chunked body.  The body is decoded twice,
 * all at once and in pieces, and both runs must agree on the outcome, the
 * payload bytes and where the body ended.  Each step must stay inside its
 * input and never hand out more payload than the chunk has left.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "proto/http_parse.h"

struct run {
    int result;
    size_t consumed;
    size_t payload;
    uint64_t hash;          /* FNV-1a over the payload bytes */
    uint64_t total;
};

static uint64_t
fnv(uint64_t h, const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static void
decode(const char *buf, size_t len, size_t piece, size_t max_line,
       size_t max_trailer, struct run *out)
{
    struct http_chunked c;
    size_t pos = 0, avail = 0, fr, dl;
    uint64_t before;
    int r = SKUA_OK;

    http_chunked_init(&c, max_line, max_trailer);
    memset(out, 0, sizeof(*out));
    out->hash = 14695981039346656037ULL;
    for (;;) {
        if (pos == avail) {
            if (avail == len)
                break;
            avail = len - avail > piece ? avail + piece : len;
        }
        before = c.remaining;
        r = http_chunked_step(&c, buf + pos, avail - pos, &fr, &dl);
        FUZZ_CHECK(fr + dl <= avail - pos);
        FUZZ_CHECK(dl == 0 || r == SKUA_OK);
        FUZZ_CHECK(fr > 0 || dl <= before);
        out->hash = fnv(out->hash, buf + pos + fr, dl);
        out->payload += dl;
        pos += fr + dl;
        if (r != SKUA_OK)
            break;
        /* no progress is only allowed when this piece is used up */
        FUZZ_CHECK(fr + dl > 0 || pos == avail);
    }
    FUZZ_CHECK(r == SKUA_OK || r == SKUA_ERROR || r == SKUA_DECLINED);
    FUZZ_CHECK(http_chunked_is_done(&c) == (r == SKUA_DECLINED));
    if (r != SKUA_OK) {
        /* the outcome is final */
        FUZZ_CHECK(http_chunked_step(&c, "0\r\n\r\n", 5, &fr, &dl) == r);
        FUZZ_CHECK(fr == 0 && dl == 0);
    }
    out->result = r;
    out->consumed = pos;
    out->total = c.total;
    FUZZ_CHECK(c.total == out->payload);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data + 1;
    size_t len, piece, max_line, max_trailer;
    struct run whole, pieces;

    if (size < 1)
        return 0;
    len = size - 1;
    piece = 1 + (data[0] & 7);
    max_line = (data[0] & 8) ? 16 : 4096;
    max_trailer = (data[0] & 16) ? 32 : 8192;
    decode(buf, len, len > 0 ? len : 1, max_line, max_trailer, &whole);
    decode(buf, len, piece, max_line, max_trailer, &pieces);
    FUZZ_CHECK(whole.result == pieces.result);
    FUZZ_CHECK(whole.consumed == pieces.consumed);
    FUZZ_CHECK(whole.payload == pieces.payload);
    FUZZ_CHECK(whole.hash == pieces.hash);
    FUZZ_CHECK(whole.total == pieces.total);
    return 0;
}
