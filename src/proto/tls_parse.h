/*
 * tls_parse.h -- the TLS ClientHello (RFC 8446 section 4.1.2, RFC 5246
 * section 7.4.1.2) read as a pure function of bytes, for peeking at a
 * connection before deciding what to do with it: no I/O, no allocation,
 * no globals, no policy.
 *
 * The parser is stateless and incremental like the other parsers in
 * src/proto/: it is handed every byte received so far (without consuming
 * them, so the caller can relay them untouched) and answers SKUA_AGAIN
 * while they are a valid prefix, SKUA_OK once the records that carry the
 * whole ClientHello are there, or SKUA_ERROR with a reason.  A prefix of
 * any input gives SKUA_AGAIN or the same answer as the whole input.  The
 * ClientHello may be fragmented over several handshake records; it is
 * reassembled up to TLS_HELLO_MAX bytes in at most TLS_HELLO_MAX_RECORDS
 * records, in a buffer on the stack (a call uses about 25 KiB of stack).
 *
 * What is reported: the record and legacy versions, the server name
 * (lowercased, trailing dot removed), the ALPN protocols, the highest
 * supported_versions entry, whether encrypted_client_hello is present and
 * how many bytes the hello's records take.  Not done here: no TLS state
 * machine, no look at cipher suites or key shares, no decryption of ECH
 * (with ECH the name seen is the outer, public one), nothing after the
 * ClientHello.
 */
#ifndef SK_TLS_PARSE_H
#define SK_TLS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sk_common.h"

/* Largest ClientHello handshake message accepted (header included). */
#define TLS_HELLO_MAX 16384
/* Most records a ClientHello may be fragmented over. */
#define TLS_HELLO_MAX_RECORDS 64
/* Longest server name (RFC 6066 HostName as a DNS name). */
#define TLS_SNI_MAX 255
/* ALPN protocols kept, and the bytes kept of each name. */
#define TLS_ALPN_KEEP 8
#define TLS_ALPN_NAME_MAX 31

/* TLS versions as they appear on the wire. */
#define TLS_V1_0 0x0301
#define TLS_V1_1 0x0302
#define TLS_V1_2 0x0303
#define TLS_V1_3 0x0304

/* Why tls_parse_client_hello() failed. */
enum tls_perr {
    TLS_PERR_NONE = 0,
    TLS_PERR_NOT_TLS,           /* first byte is not a handshake record
                                 * (plain text, SSLv2 hello, ...) */
    TLS_PERR_VERSION,           /* record or legacy version not 0x03xx */
    TLS_PERR_RECORD,            /* record length 0 or over 2^14, or a
                                 * record of another type amid the hello */
    TLS_PERR_NOT_CLIENT_HELLO,  /* first handshake message of another type */
    TLS_PERR_LENGTH,            /* inconsistent lengths: handshake,
                                 * session id, cipher suites, compression
                                 * methods, extensions, trailing bytes */
    TLS_PERR_SNI,               /* server_name extension malformed */
    TLS_PERR_ALPN,              /* ALPN extension malformed */
    TLS_PERR_EXTENSION,         /* supported_versions malformed */
    TLS_PERR_DUP_EXT,           /* an extension type appears twice */
    TLS_PERR_TOO_BIG            /* over TLS_HELLO_MAX bytes or
                                 * TLS_HELLO_MAX_RECORDS records */
};

/* What a ClientHello says, as far as a proxy cares. */
struct tls_hello {
    uint16_t record_version;    /* of the first record, e.g. 0x0301 */
    uint16_t legacy_version;    /* ClientHello.legacy_version, 0x0303 */
    bool has_sni;               /* a valid DNS host_name was sent */
    bool sni_is_ip;             /* host_name was an IP literal (RFC 6066
                                 * forbids it): has_sni is false, sni
                                 * holds the literal */
    char sni[TLS_SNI_MAX + 1];  /* lowercased, no trailing dot; "" if none */
    unsigned n_alpn;            /* protocols in the ALPN list, 0 if none */
    uint8_t alpn_len[TLS_ALPN_KEEP];    /* wire length of each kept name */
    char alpn[TLS_ALPN_KEEP][TLS_ALPN_NAME_MAX + 1];
                                /* the first TLS_ALPN_KEEP names, raw bytes
                                 * NUL-terminated, cut to
                                 * TLS_ALPN_NAME_MAX bytes (alpn_len[i] is
                                 * larger then); compare with alpn_len */
    bool alpn_truncated;        /* a name was cut or names were dropped */
    bool has_supported_versions;
    uint16_t max_version;       /* highest supported_versions entry, GREASE
                                 * ignored (0 if none); else 0 */
    bool ech;                   /* encrypted_client_hello is present */
    size_t hello_len;           /* bytes of the records carrying the hello,
                                 * headers included */
};

/*
 * Parse the ClientHello at the start of <buf> (<len> bytes received so
 * far).  Return SKUA_OK with *<h> filled (h->hello_len <= <len>; bytes
 * after it are not looked at), SKUA_AGAIN if <buf> is a valid prefix, or
 * SKUA_ERROR with *<err> set (<err> may be NULL).  *<h> is written only on
 * SKUA_OK, *<err> only on SKUA_ERROR.
 *
 * Strictness, per RFC 8446 / RFC 6066 / RFC 7301: records are of type 22,
 * version 0x03xx, length 1..2^14, and carry nothing but the ClientHello;
 * the session id is at most 32 bytes, cipher suites an even non-zero
 * count, compression methods non-empty, the extensions block fills the
 * message exactly, and no extension type repeats.  server_name: the list
 * fills the extension, is non-empty, has at most one host_name (type 0;
 * other types are skipped), of 1..255 bytes from letters, digits, '-',
 * '_' and '.', with no empty label but an optional final dot.  An IP
 * literal is not an error: it is reported with sni_is_ip and no has_sni.
 * ALPN: the list fills the extension, is non-empty, and no name is empty.
 * supported_versions: a list of 1..127 versions filling the extension.
 */
int tls_parse_client_hello(const uint8_t *buf, size_t len,
                           struct tls_hello *h, enum tls_perr *err);

/* Return a short constant text for <err>, e.g. "not TLS". */
const char *tls_perr_str(enum tls_perr err);

#endif
