/*
 * tls_parse.c -- the TLS ClientHello read as a pure function of bytes.
 *
 * Two passes over whatever has arrived.  The record pass walks the TLS
 * records, checks their headers and copies the handshake bytes they carry
 * into a buffer on the stack (the ClientHello may be fragmented over
 * several records), stopping once the handshake message is whole.  The
 * message pass then reads the ClientHello field by field in wire order
 * through a cursor that knows both the declared end of the message and
 * how much of it has arrived: a field that overruns the declared length
 * is an error at once, a field that is merely not there yet is
 * SKUA_AGAIN.  Extensions are examined once their body is whole.
 *
 * So that a prefix never gives a different error than the whole input,
 * errors of the message pass win over those of the record pass: the
 * handshake bytes a prefix sees are a prefix of those the whole input
 * sees, so the same check fails first in both.  Bytes that follow the
 * ClientHello inside its last record are reported last, once the message
 * parsed.
 *
 * Deliberately not done: no I/O, no allocation, no policy, no look at
 * cipher suites, key shares or anything after the ClientHello.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "proto/tls_parse.h"

#define REC_HANDSHAKE 22
#define REC_HDR 5
#define REC_MAX 16384           /* 2^14, RFC 8446 section 5.1 */
#define HS_CLIENT_HELLO 1
#define HS_HDR 4
#define RANDOM_LEN 32
#define SESSION_ID_MAX 32

#define EXT_SERVER_NAME 0
#define EXT_ALPN 16
#define EXT_SUPPORTED_VERSIONS 43
#define EXT_ECH 0xfe0d
#define SNI_HOST_NAME 0

/* Propagate anything but SKUA_OK. */
#define TRY(x)                          \
    do {                                \
        int try_r_ = (x);               \
        if (try_r_ != SKUA_OK)          \
            return try_r_;              \
    } while (0)

/* The handshake bytes gathered from the records. */
struct reasm {
    uint8_t hs[TLS_HELLO_MAX];
    size_t have;                /* bytes in hs */
    size_t want;                /* HS_HDR + body length; 0 until known */
    size_t hello_len;           /* end of the last record, once complete */
    bool complete;              /* all of want arrived in whole records */
    bool extra;                 /* the last record carries more bytes */
    uint16_t record_version;
    enum tls_perr rec_err;      /* a record header was wrong */
};

/* A read position in the handshake message. */
struct cur {
    const uint8_t *p;
    size_t pos;
    size_t avail;               /* bytes arrived, <= end */
    size_t end;                 /* declared length */
};

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static int
fail(enum tls_perr *err, enum tls_perr why)
{
    *err = why;
    return SKUA_ERROR;
}

/*
 * Check that <n> bytes at the cursor lie inside the message (else
 * SKUA_ERROR with <why>) and have arrived (else SKUA_AGAIN).
 */
static int
cur_need(const struct cur *c, size_t n, enum tls_perr why,
         enum tls_perr *err)
{
    if (n > c->end - c->pos)
        return fail(err, why);
    if (n > c->avail - c->pos)
        return SKUA_AGAIN;
    return SKUA_OK;
}

/* Read a big-endian field of <n> (1 or 2) bytes into *<v>. */
static int
cur_get(struct cur *c, size_t n, size_t *v, enum tls_perr why,
        enum tls_perr *err)
{
    TRY(cur_need(c, n, why, err));
    *v = n == 1 ? c->p[c->pos] : get16(c->p + c->pos);
    c->pos += n;
    return SKUA_OK;
}

static int
cur_skip(struct cur *c, size_t n, enum tls_perr why, enum tls_perr *err)
{
    TRY(cur_need(c, n, why, err));
    c->pos += n;
    return SKUA_OK;
}

/* Append up to <n> bytes of <p> to the message, no further than <cap>. */
static size_t
reasm_copy(struct reasm *r, const uint8_t *p, size_t n, size_t cap)
{
    size_t k = SK_MIN(n, cap - r->have);

    memcpy(r->hs + r->have, p, k);
    r->have += k;
    return k;
}

/*
 * Take the handshake bytes of one record body (<got> of its <rlen> bytes
 * arrived) into <r>; <rec_end> is where the record ends in the input.
 * Return true when the scan should go on to the next record.
 */
static bool
reasm_take(struct reasm *r, const uint8_t *body, size_t got, size_t rlen,
           size_t rec_end)
{
    size_t used = 0, hslen;

    if (r->want == 0 && r->have < HS_HDR)
        used = reasm_copy(r, body, got, HS_HDR);
    if (r->want == 0 && r->have == HS_HDR) {
        hslen = ((size_t)r->hs[1] << 16) | ((size_t)r->hs[2] << 8)
                | r->hs[3];
        if (hslen > TLS_HELLO_MAX - HS_HDR)
            return false;           /* the message pass says TOO_BIG */
        r->want = HS_HDR + hslen;
    }
    if (r->want != 0)
        used += reasm_copy(r, body + used, got - used, r->want);
    if (got < rlen)
        return false;
    if (r->want != 0 && r->have == r->want) {
        r->complete = true;
        r->hello_len = rec_end;
        r->extra = used < rlen;
        return false;
    }
    return true;
}

/* The record pass: gather the handshake bytes of <buf> into <r>. */
static void
reasm_scan(const uint8_t *buf, size_t len, struct reasm *r)
{
    size_t off = 0, rlen, got;
    unsigned nrec = 0;

    for (;;) {
        if (len - off < 1)
            return;
        if (buf[off] != REC_HANDSHAKE) {
            r->rec_err = nrec == 0 ? TLS_PERR_NOT_TLS : TLS_PERR_RECORD;
            return;
        }
        if (len - off < 2)
            return;
        if (buf[off + 1] != 3) {
            r->rec_err = TLS_PERR_VERSION;
            return;
        }
        if (len - off < REC_HDR)
            return;
        if (nrec == 0)
            r->record_version = get16(buf + 1);
        rlen = get16(buf + off + 3);
        if (rlen == 0 || rlen > REC_MAX) {
            r->rec_err = TLS_PERR_RECORD;
            return;
        }
        if (++nrec > TLS_HELLO_MAX_RECORDS) {
            r->rec_err = TLS_PERR_TOO_BIG;
            return;
        }
        got = SK_MIN(rlen, len - off - REC_HDR);
        if (!reasm_take(r, buf + off + REC_HDR, got, rlen,
                        off + REC_HDR + rlen))
            return;
        off += REC_HDR + rlen;
    }
}

/* Is <c> allowed in a host name (letters lowercased already)? */
static bool
host_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
           || c == '_' || c == '.';
}

/* Is the NUL-terminated <s> an IPv4 or IPv6 literal? */
static bool
is_ip_literal(const char *s)
{
    uint8_t a[16];

    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/*
 * Check the host_name <p> of <n> bytes and store it in <h>, lowercased and
 * without its final dot.  Return SKUA_OK or SKUA_ERROR.
 */
static int
sni_store(const uint8_t *p, size_t n, struct tls_hello *h,
          enum tls_perr *err)
{
    char name[TLS_SNI_MAX + 1];
    bool ip6 = true;
    size_t i;
    uint8_t c;

    if (n == 0 || n > TLS_SNI_MAX)
        return fail(err, TLS_PERR_SNI);
    for (i = 0; i < n; i++) {
        c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        if (!host_char(c) && c != ':')
            return fail(err, TLS_PERR_SNI);
        if (!(c == ':' || c == '.' || (c >= '0' && c <= '9')
              || (c >= 'a' && c <= 'f')))
            ip6 = false;
        name[i] = (char)c;
    }
    name[n] = '\0';
    if (n > 1 && name[n - 1] == '.' && name[n - 2] != '.')
        name[--n] = '\0';
    if (memchr(name, ':', n) != NULL && (!ip6 || !is_ip_literal(name)))
        return fail(err, TLS_PERR_SNI);
    if (name[0] == '.' || name[n - 1] == '.' || strstr(name, "..") != NULL)
        return fail(err, TLS_PERR_SNI);
    memcpy(h->sni, name, n + 1);
    h->sni_is_ip = is_ip_literal(name);
    h->has_sni = !h->sni_is_ip;
    return SKUA_OK;
}

/* server_name (RFC 6066 section 3): a ServerNameList filling <n> bytes. */
static int
ext_sni(const uint8_t *p, size_t n, struct tls_hello *h, enum tls_perr *err)
{
    size_t off = 2, nlen;
    bool seen = false;

    if (n < 2 || get16(p) != n - 2 || n == 2)
        return fail(err, TLS_PERR_SNI);
    while (off < n) {
        if (n - off < 3)
            return fail(err, TLS_PERR_SNI);
        nlen = get16(p + off + 1);
        if (nlen == 0 || nlen > n - off - 3)
            return fail(err, TLS_PERR_SNI);
        if (p[off] == SNI_HOST_NAME) {
            if (seen)
                return fail(err, TLS_PERR_SNI);
            seen = true;
            TRY(sni_store(p + off + 3, nlen, h, err));
        }
        off += 3 + nlen;
    }
    return SKUA_OK;
}

/* ALPN (RFC 7301 section 3.1): a ProtocolNameList filling <n> bytes. */
static int
ext_alpn(const uint8_t *p, size_t n, struct tls_hello *h,
         enum tls_perr *err)
{
    size_t off = 2, plen, keep;
    unsigned i;

    if (n < 2 || get16(p) != n - 2 || n == 2)
        return fail(err, TLS_PERR_ALPN);
    while (off < n) {
        plen = p[off];
        if (plen == 0 || plen > n - off - 1)
            return fail(err, TLS_PERR_ALPN);
        i = h->n_alpn++;
        if (i < TLS_ALPN_KEEP) {
            keep = SK_MIN(plen, (size_t)TLS_ALPN_NAME_MAX);
            memcpy(h->alpn[i], p + off + 1, keep);
            h->alpn[i][keep] = '\0';
            h->alpn_len[i] = (uint8_t)plen;
            if (keep < plen)
                h->alpn_truncated = true;
        } else {
            h->alpn_truncated = true;
        }
        off += 1 + plen;
    }
    return SKUA_OK;
}

/* Is <v> a GREASE value (RFC 8701), 0x?a?a with both bytes equal? */
static bool
is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* supported_versions in a ClientHello (RFC 8446 section 4.2.1). */
static int
ext_versions(const uint8_t *p, size_t n, struct tls_hello *h,
             enum tls_perr *err)
{
    size_t i;
    uint16_t v;

    if (n < 3 || p[0] != n - 1 || (p[0] & 1) != 0)
        return fail(err, TLS_PERR_EXTENSION);
    h->has_supported_versions = true;
    for (i = 1; i < n; i += 2) {
        v = get16(p + i);
        if (!is_grease(v) && v > h->max_version)
            h->max_version = v;
    }
    return SKUA_OK;
}

/* Examine the extension <type> whose body <p> of <n> bytes is whole. */
static int
ext_one(unsigned type, const uint8_t *p, size_t n, struct tls_hello *h,
        enum tls_perr *err)
{
    switch (type) {
    case EXT_SERVER_NAME:
        return ext_sni(p, n, h, err);
    case EXT_ALPN:
        return ext_alpn(p, n, h, err);
    case EXT_SUPPORTED_VERSIONS:
        return ext_versions(p, n, h, err);
    case EXT_ECH:
        h->ech = true;
        return SKUA_OK;
    default:
        return SKUA_OK;
    }
}

/* The extensions block at the cursor, which must end the message. */
static int
parse_exts(struct cur *c, struct tls_hello *h, enum tls_perr *err)
{
    uint64_t seen[65536 / 64];
    size_t total, type, elen;

    if (c->pos == c->end)
        return SKUA_OK;             /* no extensions: allowed before 1.3 */
    TRY(cur_get(c, 2, &total, TLS_PERR_LENGTH, err));
    if (total != c->end - c->pos)
        return fail(err, TLS_PERR_LENGTH);
    memset(seen, 0, sizeof(seen));
    while (c->pos < c->end) {
        TRY(cur_get(c, 2, &type, TLS_PERR_LENGTH, err));
        if (seen[type / 64] & ((uint64_t)1 << (type % 64)))
            return fail(err, TLS_PERR_DUP_EXT);
        seen[type / 64] |= (uint64_t)1 << (type % 64);
        TRY(cur_get(c, 2, &elen, TLS_PERR_LENGTH, err));
        TRY(cur_need(c, elen, TLS_PERR_LENGTH, err));
        TRY(ext_one((unsigned)type, c->p + c->pos, elen, h, err));
        c->pos += elen;
    }
    return SKUA_OK;
}

/* The message pass over the gathered bytes of <r>. */
static int
parse_message(const struct reasm *r, struct tls_hello *h,
              enum tls_perr *err)
{
    struct cur c;
    size_t v;

    if (r->have < 1)
        return SKUA_AGAIN;
    if (r->hs[0] != HS_CLIENT_HELLO)
        return fail(err, TLS_PERR_NOT_CLIENT_HELLO);
    if (r->have < HS_HDR)
        return SKUA_AGAIN;
    if (r->want == 0)
        return fail(err, TLS_PERR_TOO_BIG);
    c.p = r->hs + HS_HDR;
    c.pos = 0;
    c.avail = r->have - HS_HDR;
    c.end = r->want - HS_HDR;
    TRY(cur_get(&c, 2, &v, TLS_PERR_LENGTH, err));
    if ((v >> 8) != 3)
        return fail(err, TLS_PERR_VERSION);
    h->legacy_version = (uint16_t)v;
    TRY(cur_skip(&c, RANDOM_LEN, TLS_PERR_LENGTH, err));
    TRY(cur_get(&c, 1, &v, TLS_PERR_LENGTH, err));
    if (v > SESSION_ID_MAX)
        return fail(err, TLS_PERR_LENGTH);
    TRY(cur_skip(&c, v, TLS_PERR_LENGTH, err));
    TRY(cur_get(&c, 2, &v, TLS_PERR_LENGTH, err));
    if (v == 0 || (v & 1) != 0)
        return fail(err, TLS_PERR_LENGTH);
    TRY(cur_skip(&c, v, TLS_PERR_LENGTH, err));
    TRY(cur_get(&c, 1, &v, TLS_PERR_LENGTH, err));
    if (v == 0)
        return fail(err, TLS_PERR_LENGTH);
    TRY(cur_skip(&c, v, TLS_PERR_LENGTH, err));
    return parse_exts(&c, h, err);
}

int
tls_parse_client_hello(const uint8_t *buf, size_t len,
                       struct tls_hello *h, enum tls_perr *err)
{
    struct reasm r;
    struct tls_hello out;
    enum tls_perr e = TLS_PERR_NONE;
    int rc;

    r.have = 0;
    r.want = 0;
    r.hello_len = 0;
    r.complete = false;
    r.extra = false;
    r.record_version = 0;
    r.rec_err = TLS_PERR_NONE;
    reasm_scan(buf, len, &r);
    memset(&out, 0, sizeof(out));
    rc = parse_message(&r, &out, &e);
    if (rc == SKUA_OK && r.complete && r.extra)
        rc = fail(&e, TLS_PERR_LENGTH);
    else if (rc != SKUA_ERROR && r.rec_err != TLS_PERR_NONE)
        rc = fail(&e, r.rec_err);
    else if (rc == SKUA_OK && !r.complete)
        rc = SKUA_AGAIN;
    if (rc == SKUA_ERROR) {
        if (err != NULL)
            *err = e;
        return SKUA_ERROR;
    }
    if (rc == SKUA_OK) {
        out.record_version = r.record_version;
        out.hello_len = r.hello_len;
        *h = out;
    }
    return rc;
}

const char *
tls_perr_str(enum tls_perr err)
{
    switch (err) {
    case TLS_PERR_NONE:
        return "no error";
    case TLS_PERR_NOT_TLS:
        return "not TLS";
    case TLS_PERR_VERSION:
        return "bad TLS version";
    case TLS_PERR_RECORD:
        return "bad TLS record";
    case TLS_PERR_NOT_CLIENT_HELLO:
        return "not a ClientHello";
    case TLS_PERR_LENGTH:
        return "inconsistent ClientHello lengths";
    case TLS_PERR_SNI:
        return "malformed server_name";
    case TLS_PERR_ALPN:
        return "malformed ALPN";
    case TLS_PERR_EXTENSION:
        return "malformed extension";
    case TLS_PERR_DUP_EXT:
        return "duplicate extension";
    case TLS_PERR_TOO_BIG:
        return "ClientHello too big";
    }
    return "unknown error";
}
