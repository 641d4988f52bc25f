/*
 * auth_hash.c -- verifying a password against a stored hash, for the
 * schemes htpasswd files hold.
 *
 * The crypt(3) schemes (bcrypt, md5crypt, SHA-crypt, yescrypt, DES) go to
 * the system's crypt_r(); Apache's $apr1$ MD5 and {SHA} are computed here
 * with OpenSSL, because libcrypt does not know them.  Every result is
 * compared with the stored hash in constant time.
 *
 * Deliberately not here: making hashes (htpasswd and openssl passwd do
 * that), plaintext passwords (htpasswd -p is refused, as Apache does on
 * Unix), and salted {SSHA} (not written by htpasswd).
 */
#include "config.h"

#include <crypt.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sk_log.h"

#include "auth/auth.h"

#define APR1_MAGIC "$apr1$"
#define APR1_SALT_MAX 8
#define APR1_LEN (sizeof(APR1_MAGIC) - 1 + APR1_SALT_MAX + 1 + 22)
#define SHA_PREFIX "{SHA}"
#define SHA_B64_LEN 28          /* base64 of a 20-byte SHA-1 */

/* The alphabet of crypt(3) hashes, in its to64 order. */
static const char b64crypt[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/*
 * crypt(3) schemes by prefix, with the length of the final '$'-separated
 * part (for bcrypt: 22 salt and 31 hash characters).
 */
static const struct crypt_scheme {
    const char *prefix;
    size_t tail;
} crypt_schemes[] = {
    { "$2a$", 53 },
    { "$2b$", 53 },
    { "$2y$", 53 },
    { "$1$", 22 },
    { "$5$", 43 },
    { "$6$", 86 },
    { "$y$", 43 },
};

static bool
is_b64crypt(const char *s, size_t n)
{
    return strspn(s, b64crypt) >= n;
}

/* True if <s> is only printable ASCII other than ':' (the field end). */
static bool
is_field(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s <= ' ' || *s > '~' || *s == ':')
            return false;
    }
    return true;
}

/* True if the bcrypt <hash> has a cost of 04 to 31 before <tail>. */
static bool
bcrypt_cost_ok(const char *hash, const char *tail)
{
    int cost;

    if (tail - hash != 7 || hash[4] < '0' || hash[4] > '3' || hash[5] < '0'
        || hash[5] > '9')
        return false;
    cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    return cost >= 4 && cost <= 31;
}

/* True if <hash> is a crypt(3) hash this system's libcrypt verifies. */
static bool
crypt_is_supported(const char *hash)
{
    const struct crypt_scheme *cs = NULL;
    const char *tail;
    size_t i, len = strlen(hash);

    if (len == 13 && is_b64crypt(hash, 13)) {
        /* traditional DES crypt: 2 salt and 11 hash characters */
    } else {
        for (i = 0; i < SK_ARRAY_LEN(crypt_schemes); i++) {
            if (strncmp(hash, crypt_schemes[i].prefix,
                        strlen(crypt_schemes[i].prefix)) == 0)
                cs = &crypt_schemes[i];
        }
        if (cs == NULL)
            return false;
        tail = strrchr(hash, '$') + 1;
        if (strlen(tail) != cs->tail || !is_b64crypt(tail, cs->tail)
            || tail - hash <= (ptrdiff_t)strlen(cs->prefix))
            return false;
        if (cs->prefix[1] == '2' && !bcrypt_cost_ok(hash, tail))
            return false;
    }
#ifdef CRYPT_CHECKSALT_AVAILABLE
    /* libxcrypt may be built without some schemes */
    i = (size_t)crypt_checksalt(hash);
    if (i != CRYPT_SALT_OK && i != CRYPT_SALT_METHOD_LEGACY)
        return false;
#endif
    return true;
}

static bool
apr1_is_supported(const char *hash)
{
    const char *salt = hash + sizeof(APR1_MAGIC) - 1;
    const char *end = strchr(salt, '$');

    return end != NULL && end > salt && end - salt <= APR1_SALT_MAX
           && strlen(end + 1) == 22 && is_b64crypt(end + 1, 22);
}

static bool
sha_is_supported(const char *hash)
{
    unsigned char raw[3 * SHA_B64_LEN / 4];
    const char *b = hash + sizeof(SHA_PREFIX) - 1;

    /* 20 bytes: 27 base64 characters and one '=' of padding */
    return strlen(b) == SHA_B64_LEN && b[SHA_B64_LEN - 1] == '='
           && b[SHA_B64_LEN - 2] != '='
           && EVP_DecodeBlock(raw, (const unsigned char *)b,
                              SHA_B64_LEN) == (int)sizeof(raw);
}

bool
auth_hash_is_supported(const char *hash)
{
    if (!is_field(hash))
        return false;
    if (strncmp(hash, APR1_MAGIC, sizeof(APR1_MAGIC) - 1) == 0)
        return apr1_is_supported(hash);
    if (strncmp(hash, SHA_PREFIX, sizeof(SHA_PREFIX) - 1) == 0)
        return sha_is_supported(hash);
    return crypt_is_supported(hash);
}

static bool
ct_equal(const char *a, const char *b)
{
    size_t n = strlen(a);

    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

static void
to64(char *s, unsigned long v, int n)
{
    while (n-- > 0) {
        *s++ = b64crypt[v & 0x3f];
        v >>= 6;
    }
}

static bool
md5_update(EVP_MD_CTX *c, const void *p, size_t n)
{
    return EVP_DigestUpdate(c, p, n) == 1;
}

/*
 * Compute Apache's $apr1$ hash of <pw> with <salt> (<slen> bytes) into
 * <out> (APR1_LEN + 1 bytes): md5crypt (Poul-Henning Kamp's FreeBSD
 * algorithm) with the magic "$apr1$".  Return 0, or -1 if OpenSSL fails.
 */
static int
apr1_hash(const char *pw, const char *salt, size_t slen, char *out)
{
    static const unsigned char perm[5][3] = {
        { 0, 6, 12 }, { 1, 7, 13 }, { 2, 8, 14 }, { 3, 9, 15 }, { 4, 10, 5 }
    };
    EVP_MD_CTX *c = EVP_MD_CTX_new(), *alt = EVP_MD_CTX_new();
    unsigned char fin[16];
    size_t pl = strlen(pw), i;
    bool ok = c != NULL && alt != NULL;
    char *p;

    ok = ok && EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1
         && md5_update(c, pw, pl)
         && md5_update(c, APR1_MAGIC, sizeof(APR1_MAGIC) - 1)
         && md5_update(c, salt, slen);
    ok = ok && EVP_DigestInit_ex(alt, EVP_md5(), NULL) == 1
         && md5_update(alt, pw, pl) && md5_update(alt, salt, slen)
         && md5_update(alt, pw, pl)
         && EVP_DigestFinal_ex(alt, fin, NULL) == 1;
    for (i = pl; ok && i > 0; i -= SK_MIN(i, 16))
        ok = md5_update(c, fin, SK_MIN(i, 16));
    /* one byte per bit of the length: a zero byte or pw[0] */
    memset(fin, 0, sizeof(fin));
    for (i = pl; ok && i != 0; i >>= 1)
        ok = md5_update(c, (i & 1) ? (const char *)fin : pw, 1);
    ok = ok && EVP_DigestFinal_ex(c, fin, NULL) == 1;
    /* 1000 rounds, to slow down guessing */
    for (i = 0; ok && i < 1000; i++) {
        ok = EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1
             && ((i & 1) ? md5_update(c, pw, pl) : md5_update(c, fin, 16))
             && (i % 3 == 0 || md5_update(c, salt, slen))
             && (i % 7 == 0 || md5_update(c, pw, pl))
             && ((i & 1) ? md5_update(c, fin, 16) : md5_update(c, pw, pl))
             && EVP_DigestFinal_ex(c, fin, NULL) == 1;
    }
    EVP_MD_CTX_free(c);
    EVP_MD_CTX_free(alt);
    if (!ok)
        return -1;
    p = out;
    memcpy(p, APR1_MAGIC, sizeof(APR1_MAGIC) - 1);
    p += sizeof(APR1_MAGIC) - 1;
    memcpy(p, salt, slen);
    p += slen;
    *p++ = '$';
    for (i = 0; i < 5; i++, p += 4)
        to64(p, ((unsigned long)fin[perm[i][0]] << 16)
                | ((unsigned long)fin[perm[i][1]] << 8) | fin[perm[i][2]],
             4);
    to64(p, fin[11], 2);
    p[2] = '\0';
    OPENSSL_cleanse(fin, sizeof(fin));
    return 0;
}

static enum auth_result
apr1_verify(const char *hash, const char *pass)
{
    const char *salt = hash + sizeof(APR1_MAGIC) - 1;
    char out[APR1_LEN + 1];
    bool ok;

    if (apr1_hash(pass, salt, (size_t)(strchr(salt, '$') - salt), out)
        == -1) {
        sk_err(SK_SEC_ACL, "auth: MD5 is not available from OpenSSL");
        return AUTH_DENIED;
    }
    ok = ct_equal(out, hash);
    OPENSSL_cleanse(out, sizeof(out));
    return ok ? AUTH_OK : AUTH_DENIED;
}

static enum auth_result
sha_verify(const char *hash, const char *pass)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned char b64[SHA_B64_LEN + 1];
    unsigned int mdlen = 0;
    bool ok;

    if (EVP_Digest(pass, strlen(pass), md, &mdlen, EVP_sha1(), NULL) != 1
        || mdlen != 20) {
        sk_err(SK_SEC_ACL, "auth: SHA-1 is not available from OpenSSL");
        return AUTH_DENIED;
    }
    EVP_EncodeBlock(b64, md, 20);
    ok = CRYPTO_memcmp(b64, hash + sizeof(SHA_PREFIX) - 1, SHA_B64_LEN)
         == 0;
    OPENSSL_cleanse(md, sizeof(md));
    return ok ? AUTH_OK : AUTH_DENIED;
}

/*
 * struct crypt_data is 32 KiB.  Worker threads have 8 MiB stacks, so it
 * would fit there, but a check may one day run on a thread with a small
 * stack (a helper or resolver callback); a heap block costs nothing next
 * to the hash itself and is wiped before it is freed, since it holds the
 * password and the result.
 */
static enum auth_result
crypt_verify(const char *hash, const char *pass)
{
    struct crypt_data *cd = sk_calloc(1, sizeof(*cd));
    const char *r;
    bool ok;

    r = crypt_r(pass, hash, cd);
    if (r == NULL || r[0] == '*') {
        sk_err(SK_SEC_ACL, "auth: crypt_r() cannot verify a %.4s hash",
               hash);
        ok = false;
    } else {
        ok = ct_equal(r, hash);
    }
    OPENSSL_clear_free(cd, sizeof(*cd));
    return ok ? AUTH_OK : AUTH_DENIED;
}

enum auth_result
auth_hash_verify(const char *hash, const char *pass)
{
    if (!auth_hash_is_supported(hash))
        return AUTH_DENIED;
    if (strncmp(hash, APR1_MAGIC, sizeof(APR1_MAGIC) - 1) == 0)
        return apr1_verify(hash, pass);
    if (strncmp(hash, SHA_PREFIX, sizeof(SHA_PREFIX) - 1) == 0)
        return sha_verify(hash, pass);
    return crypt_verify(hash, pass);
}
