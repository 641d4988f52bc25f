/*
 * sniff.c -- the first-bytes protocol classifier (see sniff.h).
 *
 * Each protocol has one recogniser answering "yes" (SKUA_OK), "no"
 * (SKUA_ERROR) or "a valid prefix so far" (SKUA_AGAIN); the first byte
 * picks which recognisers can apply, so at most two run on any input.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "proto/sniff.h"

/* Longest HTTP request line and head looked at. */
#define SNIFF_HTTP_LINE_MAX 8192
#define SNIFF_HTTP_HEAD_MAX 16384
/* Longest SOCKS4 user id (and 4a host name) accepted before giving up. */
#define SNIFF_SOCKS4_MAX 512

const char *
sniff_proto_name(enum sniff_proto p)
{
    static const char *const names[] = {
        "server-first", "tls", "http", "ssh", "socks", "unknown"
    };

    return (unsigned)p < SK_ARRAY_LEN(names) ? names[p] : "unknown";
}

/* ---- TLS ---- */

static int
sniff_tls(const uint8_t *buf, size_t len, bool final, struct sniff_result *r)
{
    int rc;

    if (len < 2)
        return final ? SKUA_ERROR : SKUA_AGAIN;
    if (buf[1] != 0x03)
        return SKUA_ERROR;
    rc = tls_parse_client_hello(buf, len, &r->tls, &r->tls_err);
    if (rc == SKUA_AGAIN && !final)
        return SKUA_AGAIN;
    r->proto = SNIFF_TLS;
    r->tls_ok = rc == SKUA_OK;
    if (rc == SKUA_AGAIN)
        r->tls_err = TLS_PERR_LENGTH;   /* cut short */
    return SKUA_OK;
}

/* ---- SSH (RFC 4253 section 4.2) ---- */

static int
sniff_ssh(const uint8_t *buf, size_t len, bool final)
{
    static const char id[] = "SSH-";
    size_t n = SK_MIN(len, sizeof(id) - 1);

    if (memcmp(buf, id, n) != 0)
        return SKUA_ERROR;
    if (n < sizeof(id) - 1)
        return final ? SKUA_ERROR : SKUA_AGAIN;
    return SKUA_OK;
}

/* ---- SOCKS ---- */

/* Return the offset just past the first NUL at or after <off>, or 0 if
 * there is none yet. */
static size_t
sniff_nul(const uint8_t *buf, size_t len, size_t off)
{
    const uint8_t *z;

    if (off >= len)
        return 0;
    z = memchr(buf + off, 0, len - off);
    return z != NULL ? (size_t)(z - buf) + 1 : 0;
}

static int
sniff_socks4(const uint8_t *buf, size_t len, bool final)
{
    size_t end;

    if (len >= 2 && buf[1] != 1 && buf[1] != 2)
        return SKUA_ERROR;
    end = len >= 8 ? sniff_nul(buf, len, 8) : 0;
    /* SOCKS4a: destination 0.0.0.x (x != 0), then a host name. */
    if (end != 0 && buf[4] == 0 && buf[5] == 0 && buf[6] == 0 &&
        buf[7] != 0)
        end = sniff_nul(buf, len, end);
    if (end == 0)
        return (final || len > SNIFF_SOCKS4_MAX) ? SKUA_ERROR : SKUA_AGAIN;
    /* A client waits for the reply: nothing may follow the request. */
    return end == len ? SKUA_OK : SKUA_ERROR;
}

static int
sniff_socks5(const uint8_t *buf, size_t len, bool final)
{
    size_t want;

    if (len < 2)
        return final ? SKUA_ERROR : SKUA_AGAIN;
    if (buf[1] == 0)
        return SKUA_ERROR;
    want = 2 + (size_t)buf[1];
    if (len < want)
        return final ? SKUA_ERROR : SKUA_AGAIN;
    return len == want ? SKUA_OK : SKUA_ERROR;
}

/* ---- HTTP/1.x ---- */

/* RFC 9110 tchar. */
static bool
sniff_tchar(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~",
                                                         c) != NULL);
}

/*
 * Check the request line in <buf> (<len> bytes, no CRLF; <whole>: the
 * line ended there): "METHOD SP target SP HTTP/1.x".  A part line is
 * checked as a prefix.
 */
static int
sniff_request_line(const uint8_t *buf, size_t len, bool whole)
{
    static const char ver[] = "HTTP/1.";
    size_t i = 0, t, sp2;

    while (i < len && i < 32 && sniff_tchar(buf[i]))
        i++;
    if (i == 0 || (i < len && buf[i] != ' ') || i == 32)
        return SKUA_ERROR;
    if (i == len)
        return whole ? SKUA_ERROR : SKUA_AGAIN;
    for (t = i + 1; t < len; t++)
        if (buf[t] < 0x21 || buf[t] == 0x7f)
            break;
    if (t < len && buf[t] != ' ')
        return SKUA_ERROR;
    if (t == len)
        return whole ? SKUA_ERROR : SKUA_AGAIN;
    if (t == i + 1)
        return SKUA_ERROR;
    sp2 = t + 1;
    if (memcmp(buf + sp2, ver, SK_MIN(len - sp2, sizeof(ver) - 1)) != 0)
        return SKUA_ERROR;
    if (!whole)
        return len - sp2 <= sizeof(ver) ? SKUA_AGAIN : SKUA_ERROR;
    return (len - sp2 == sizeof(ver) && buf[len - 1] >= '0' &&
            buf[len - 1] <= '9') ? SKUA_OK : SKUA_ERROR;
}

/* Keep the value of the header line <p> (<n> bytes) in r->host if it is
 * the first Host field. */
static void
sniff_host_line(const uint8_t *p, size_t n, struct sniff_result *r)
{
    size_t i, j, k = 0;

    if (r->host[0] != '\0' || n < 5 || strncasecmp((const char *)p,
                                                   "host:", 5) != 0)
        return;
    for (i = 5; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
        ;
    for (j = n; j > i && (p[j - 1] == ' ' || p[j - 1] == '\t'); j--)
        ;
    for (; i < j && k < SNIFF_HOST_MAX; i++) {
        uint8_t c = p[i];

        if (c < 0x21 || c == 0x7f)
            break;
        r->host[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    r->host[k] = '\0';
}

static int
sniff_http(const uint8_t *buf, size_t len, bool final,
           struct sniff_result *r)
{
    const uint8_t *eol = memchr(buf, '\n', SK_MIN(len,
                                                  SNIFF_HTTP_LINE_MAX));
    size_t off, n;
    int rc;

    if (eol == NULL) {
        n = SK_MIN(len, SNIFF_HTTP_LINE_MAX);
        if (buf[n - 1] == '\r')
            n--;                /* the CR of a CRLF still on its way */
        rc = sniff_request_line(buf, n, false);
        if (rc == SKUA_AGAIN && len >= SNIFF_HTTP_LINE_MAX)
            return SKUA_ERROR;
        if (rc != SKUA_AGAIN || !final)
            return rc;
        /* A part line that is still a valid one: a method and a space
         * make it HTTP enough. */
        return memchr(buf, ' ', len) != NULL ? SKUA_OK : SKUA_ERROR;
    }
    n = (size_t)(eol - buf);
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (sniff_request_line(buf, n, true) != SKUA_OK)
        return SKUA_ERROR;
    /* The header lines, up to the empty one. */
    for (off = (size_t)(eol - buf) + 1; off < len; off += n + 1) {
        eol = memchr(buf + off, '\n', len - off);
        if (eol == NULL)
            break;
        n = (size_t)(eol - (buf + off));
        if (n > 0 && buf[off + n - 1] == '\r')
            n--;
        if (n == 0) {
            r->http_head = true;
            return SKUA_OK;
        }
        sniff_host_line(buf + off, n, r);
        n = (size_t)(eol - (buf + off));
    }
    return (final || len >= SNIFF_HTTP_HEAD_MAX) ? SKUA_OK : SKUA_AGAIN;
}

/* ---- the classifier ---- */

/* Run recogniser <rc>'s answer into the result: SKUA_OK sets <p>. */
static int
sniff_take(int rc, enum sniff_proto p, struct sniff_result *r)
{
    if (rc == SKUA_OK)
        r->proto = p;
    return rc;
}

int
sniff_classify(const uint8_t *buf, size_t len, bool final,
               struct sniff_result *r)
{
    int rc = SKUA_ERROR, rc2;

    memset(r, 0, sizeof(*r));
    if (len > SNIFF_MAX) {
        len = SNIFF_MAX;
        final = true;
    }
    if (len == 0) {
        if (!final)
            return SKUA_AGAIN;
        r->proto = SNIFF_NONE;
        return SKUA_OK;
    }
    switch (buf[0]) {
    case 0x16:
        rc = sniff_tls(buf, len, final, r);
        break;
    case 0x04:
        rc = sniff_take(sniff_socks4(buf, len, final), SNIFF_SOCKS, r);
        break;
    case 0x05:
        rc = sniff_take(sniff_socks5(buf, len, final), SNIFF_SOCKS, r);
        break;
    case 'S':
        rc = sniff_take(sniff_ssh(buf, len, final), SNIFF_SSH, r);
        if (rc == SKUA_OK)
            break;
        /* "S..." may be SEARCH or SUBSCRIBE as well. */
        rc2 = sniff_take(sniff_http(buf, len, final, r), SNIFF_HTTP, r);
        if (rc2 == SKUA_OK || rc == SKUA_ERROR)
            rc = rc2;
        break;
    default:
        rc = sniff_take(sniff_http(buf, len, final, r), SNIFF_HTTP, r);
        break;
    }
    if (rc == SKUA_AGAIN)
        return SKUA_AGAIN;
    if (rc == SKUA_ERROR) {
        memset(r, 0, sizeof(*r));
        r->proto = SNIFF_UNKNOWN;
    }
    return SKUA_OK;
}
