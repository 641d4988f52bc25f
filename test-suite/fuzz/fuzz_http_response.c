/*
 * fuzz_http_response.c -- fuzz http_parse_response()
 * (src/proto/http_parse.c).
 *
 * The first input byte picks the method of the request being answered
 * (which decides framing) and the limits; the rest is the response head.
 * Invariants: the result and the error code agree, spans lie inside the
 * head, the framing follows RFC 9112 section 6.3, and a complete head is
 * found again at the same length from its own bytes, while every shorter
 * prefix needs more bytes.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "proto/http_parse.h"

#define FUZZ_MAX_HDRS 128

static const enum http_method fuzz_methods[] = {
    HTTP_M_GET, HTTP_M_HEAD, HTTP_M_CONNECT, HTTP_M_POST
};

static const struct http_limits fuzz_lims[] = {
    { 256, 64, 4 },
    { 65536, 8192, 100 },
};

static void
check_span(struct sk_span s, size_t end)
{
    FUZZ_CHECK(s.off <= end && s.len <= end - s.off);
}

static void
check_ok(const char *buf, size_t len, const struct http_limits *lim,
         enum http_method meth, const struct http_msg *m)
{
    unsigned i;

    FUZZ_CHECK(m->head_len >= 2 && m->head_len <= len);
    FUZZ_CHECK(m->head_len <= lim->max_head);
    FUZZ_CHECK(buf[m->head_len - 2] == '\r' && buf[m->head_len - 1] == '\n');
    FUZZ_CHECK(m->n_hdrs <= lim->max_hdrs);
    for (i = 0; i < m->n_hdrs; i++) {
        check_span(m->hdrs[i].name, m->head_len);
        check_span(m->hdrs[i].value, m->head_len);
        FUZZ_CHECK(m->hdrs[i].name.len > 0);
    }
    check_span(m->reason, m->head_len);
    FUZZ_CHECK(m->status >= 100 && m->status <= 999);
    FUZZ_CHECK(m->version_minor == 0 || m->version_minor == 1);
    FUZZ_CHECK(!((m->flags & HTTP_F_HAS_TE) && (m->flags & HTTP_F_HAS_CL)));
    if (meth == HTTP_M_HEAD || m->status < 200 || m->status == 204 ||
            m->status == 304)
        FUZZ_CHECK(m->body == HTTP_BODY_NONE);
    else if (meth == HTTP_M_CONNECT && m->status < 300)
        FUZZ_CHECK(m->body == HTTP_BODY_TUNNEL);
    else if (m->body == HTTP_BODY_CHUNKED)
        FUZZ_CHECK(m->flags & HTTP_F_HAS_TE);
    else if (m->body == HTTP_BODY_LENGTH)
        FUZZ_CHECK((m->flags & HTTP_F_HAS_CL) && m->content_length > 0);
    else if (m->body == HTTP_BODY_NONE)
        FUZZ_CHECK((m->flags & HTTP_F_HAS_CL) && m->content_length == 0);
    else
        FUZZ_CHECK(m->body == HTTP_BODY_CLOSE &&
                   !(m->flags & HTTP_F_HAS_CL));
}

static void
parse_with(const char *buf, size_t len, const struct http_limits *lim,
           enum http_method meth)
{
    static struct http_hdr hdrs[FUZZ_MAX_HDRS];
    struct http_msg m, m2;
    enum http_perr e;
    size_t cut, step;
    int r;

    memset(&m, 0, sizeof(m));
    m.hdrs = hdrs;
    m.max_hdrs_alloc = FUZZ_MAX_HDRS;
    r = http_parse_response(buf, len, lim, meth, &m, &e);
    if (r == SKUA_AGAIN) {
        FUZZ_CHECK(e == HTTP_PERR_NONE && len <= lim->max_head);
        return;
    }
    if (r == SKUA_ERROR) {
        FUZZ_CHECK(e > HTTP_PERR_NONE && e < HTTP_PERR_BAD_CHUNK &&
                   e != HTTP_PERR_BAD_METHOD && e != HTTP_PERR_BAD_TARGET &&
                   e != HTTP_PERR_BAD_HOST);
        return;
    }
    FUZZ_CHECK(r == SKUA_OK && e == HTTP_PERR_NONE);
    check_ok(buf, len, lim, meth, &m);

    m2 = m;
    FUZZ_CHECK(http_parse_response(buf, m.head_len, lim, meth, &m2, &e) ==
               SKUA_OK);
    FUZZ_CHECK(m2.head_len == m.head_len && m2.body == m.body &&
               m2.status == m.status && m2.flags == m.flags);
    step = m.head_len <= 512 ? 1 : m.head_len / 97;
    for (cut = 0; cut < m.head_len; cut += step) {
        FUZZ_CHECK(http_parse_response(buf, cut, lim, meth, &m2, &e) ==
                   SKUA_AGAIN);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum http_method meth;
    size_t i;

    if (size < 1)
        return 0;
    meth = fuzz_methods[data[0] & 3];
    for (i = 0; i < sizeof(fuzz_lims) / sizeof(fuzz_lims[0]); i++)
        parse_with((const char *)data + 1, size - 1, &fuzz_lims[i], meth);
    return 0;
}
