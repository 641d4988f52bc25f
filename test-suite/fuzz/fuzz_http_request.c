/*
 * fuzz_http_request.c -- fuzz http_parse_request() and
 * http_parse_authority() (src/proto/http_parse.c).
 *
 * The input is a request head, parsed under a tight and a roomy set of
 * limits.  Invariants: the result is one of OK / AGAIN / ERROR with a
 * matching error code; every span lies inside the head; the framing is
 * consistent with the flags; a complete head stays complete when cut right
 * after it, and every shorter prefix of it needs more bytes.  When the body
 * is chunked, the bytes after the head go through the chunked decoder.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "proto/http_parse.h"

#define FUZZ_MAX_HDRS 128

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
         const struct http_msg *m)
{
    unsigned i;

    FUZZ_CHECK(m->head_len >= 2 && m->head_len <= len);
    FUZZ_CHECK(m->head_len <= lim->max_head);
    FUZZ_CHECK(buf[m->head_len - 2] == '\r' && buf[m->head_len - 1] == '\n');
    FUZZ_CHECK(m->n_hdrs <= lim->max_hdrs && m->n_hdrs <= m->max_hdrs_alloc);
    for (i = 0; i < m->n_hdrs; i++) {
        check_span(m->hdrs[i].name, m->head_len);
        check_span(m->hdrs[i].value, m->head_len);
        FUZZ_CHECK(m->hdrs[i].name.len > 0);
        FUZZ_CHECK(m->hdrs[i].name.len <= lim->max_line);
        FUZZ_CHECK(memchr(buf + m->hdrs[i].value.off, '\r',
                          m->hdrs[i].value.len) == NULL);
    }
    check_span(m->method_s, m->head_len);
    check_span(m->target, m->head_len);
    FUZZ_CHECK(m->method_s.len > 0 && m->target.len > 0);
    FUZZ_CHECK(m->target.len <= lim->max_line);
    if (m->form == HTTP_FORM_ABSOLUTE || m->form == HTTP_FORM_AUTHORITY) {
        check_span(m->host, m->target.off + m->target.len);
        FUZZ_CHECK(m->host.off >= m->target.off);
        FUZZ_CHECK(m->host.len > 0);
    } else {
        FUZZ_CHECK(m->host.len == 0 && m->port == 0);
    }
    check_span(m->path, m->target.off + m->target.len);
    FUZZ_CHECK(m->form != HTTP_FORM_AUTHORITY || m->port != 0);
    FUZZ_CHECK((m->form == HTTP_FORM_AUTHORITY) ==
               (m->method == HTTP_M_CONNECT));
    FUZZ_CHECK(m->form != HTTP_FORM_ASTERISK ||
               m->method == HTTP_M_OPTIONS);
    FUZZ_CHECK(m->version_minor == 0 || m->version_minor == 1);
    FUZZ_CHECK(!((m->flags & HTTP_F_HAS_TE) && (m->flags & HTTP_F_HAS_CL)));
    FUZZ_CHECK(m->version_minor == 1 || !(m->flags & HTTP_F_HAS_TE));
    FUZZ_CHECK((m->body == HTTP_BODY_CHUNKED) ==
               ((m->flags & HTTP_F_HAS_TE) != 0));
    FUZZ_CHECK(m->body != HTTP_BODY_LENGTH || m->content_length > 0);
    FUZZ_CHECK(m->body != HTTP_BODY_CLOSE && m->body != HTTP_BODY_TUNNEL);
    FUZZ_CHECK((m->host_hdr >= 0) == ((m->flags & HTTP_F_HAS_HOST) != 0));
    if (m->host_hdr >= 0) {
        FUZZ_CHECK((unsigned)m->host_hdr < m->n_hdrs);
        FUZZ_CHECK(m->hdrs[m->host_hdr].id == HTTP_H_HOST);
    }
    FUZZ_CHECK(m->host_hdr >= 0 || m->version_minor == 0 ||
               m->form == HTTP_FORM_ABSOLUTE ||
               m->form == HTTP_FORM_AUTHORITY);
}

/* Decode a chunked body that follows the head, piece by piece. */
static void
run_chunked(const char *buf, size_t len)
{
    struct http_chunked c;
    size_t pos = 0, fr, dl;
    int r;

    http_chunked_init(&c, 64, 1024);
    do {
        r = http_chunked_step(&c, buf + pos, len - pos, &fr, &dl);
        FUZZ_CHECK(fr + dl <= len - pos);
        pos += fr + dl;
    } while (r == SKUA_OK && fr + dl > 0);
    FUZZ_CHECK(http_chunked_is_done(&c) == (r == SKUA_DECLINED));
}

static void
parse_with(const char *buf, size_t len, const struct http_limits *lim)
{
    static struct http_hdr hdrs[FUZZ_MAX_HDRS];
    struct http_msg m, m2;
    enum http_perr e;
    size_t cut, step;
    int r;

    memset(&m, 0, sizeof(m));
    m.hdrs = hdrs;
    m.max_hdrs_alloc = FUZZ_MAX_HDRS;
    r = http_parse_request(buf, len, lim, &m, &e);
    if (r == SKUA_AGAIN) {
        FUZZ_CHECK(e == HTTP_PERR_NONE && len <= lim->max_head);
        return;
    }
    if (r == SKUA_ERROR) {
        FUZZ_CHECK(e > HTTP_PERR_NONE && e < HTTP_PERR_BAD_CHUNK &&
                   e != HTTP_PERR_BAD_STATUS);
        return;
    }
    FUZZ_CHECK(r == SKUA_OK && e == HTTP_PERR_NONE);
    check_ok(buf, len, lim, &m);

    /* the head alone gives the same result */
    m2 = m;
    FUZZ_CHECK(http_parse_request(buf, m.head_len, lim, &m2, &e) == SKUA_OK);
    FUZZ_CHECK(m2.head_len == m.head_len && m2.body == m.body &&
               m2.n_hdrs == m.n_hdrs && m2.flags == m.flags &&
               m2.content_length == m.content_length);
    /* and every prefix of it is only incomplete (sampled when long) */
    step = m.head_len <= 512 ? 1 : m.head_len / 97;
    for (cut = 0; cut < m.head_len; cut += step) {
        FUZZ_CHECK(http_parse_request(buf, cut, lim, &m2, &e) ==
                   SKUA_AGAIN);
    }
    FUZZ_CHECK(http_parse_request(buf, m.head_len - 1, lim, &m2, &e) ==
               SKUA_AGAIN);
    if (m.body == HTTP_BODY_CHUNKED)
        run_chunked(buf + m.head_len, len - m.head_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t i, off, hl;
    uint16_t port;

    for (i = 0; i < sizeof(fuzz_lims) / sizeof(fuzz_lims[0]); i++)
        parse_with(buf, size, &fuzz_lims[i]);

    if (http_parse_authority(buf, size, &off, &hl, &port) == 0) {
        FUZZ_CHECK(off <= size && hl > 0 && hl <= size - off);
        FUZZ_CHECK(memchr(buf + off, '\0', hl) == NULL);
    }
    return 0;
}
