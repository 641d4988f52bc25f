/*
 * auth.h -- checking a user name and password: SOCKS5 username/password
 * (RFC 1929) and, later, HTTP proxy Basic authentication.
 *
 * A check goes to a backend through one small ops table (STYLE.md section
 * 3), so that the htpasswd file backend here and, later, external helper
 * programs speaking Squid's protocol ("user password" -> OK / ERR / BH)
 * plug in the same way.  A synchronous backend answers AUTH_OK or
 * AUTH_DENIED at once; an asynchronous one answers AUTH_PENDING and calls
 * the caller's callback later.
 *
 * Deliberately not here: where credentials come from (the SOCKS and HTTP
 * layers decode them), what a verified user may do (ACLs), caching of
 * verified credentials, and the configuration directives that name a
 * backend.
 */
#ifndef SK_AUTH_H
#define SK_AUTH_H

#include <stdbool.h>

#include "sk_common.h"

enum auth_result {
    AUTH_OK = 0,        /* the user exists and the password is right */
    AUTH_DENIED,        /* unknown user or wrong password */
    AUTH_PENDING,       /* asynchronous: the answer comes via the callback */
    AUTH_UNAVAILABLE    /* the backend could not decide (helper said BH,
                           died, timed out): neither grant nor blame */
};

/*
 * Called once by an asynchronous backend with the final answer (never
 * AUTH_PENDING) for a check that returned AUTH_PENDING.  <arg> is the
 * caller's.
 */
typedef void auth_done_f(void *arg, enum auth_result result);

/*
 * Check <user> and <pass> against the backend state <state>.  Return
 * AUTH_OK, AUTH_DENIED or AUTH_UNAVAILABLE, or AUTH_PENDING after arranging
 * for <done>(<arg>, result) to be called later (then <user> and <pass> are
 * copied if needed: they are only borrowed for the call).  A backend that
 * cannot answer later returns AUTH_UNAVAILABLE when <done> is NULL.
 */
typedef enum auth_result auth_check_f(void *state, const char *user,
                                      const char *pass, auth_done_f *done,
                                      void *arg);

/* Re-read the backend's source; return 0, or -1 with *<err> set. */
typedef int auth_reload_f(void *state, char **err);

/* Release <state>. */
typedef void auth_destroy_f(void *state);

/*
 * What a backend is.  <name> (the configuration keyword), <check> and
 * <destroy> are required; <reload> is optional (NULL: nothing to re-read).
 * Every function may be called from any thread at the same time, except
 * <destroy>, which is called once when no check is running.
 */
struct auth_backend_ops {
    const char *name;
    auth_check_f *check;
    auth_reload_f *reload;
    auth_destroy_f *destroy;
};

struct auth_backend;

/*
 * Make a backend of kind <ops> around <state>; take ownership of <state>
 * (<ops>->destroy releases it).  Return the backend (never NULL).
 */
struct auth_backend *auth_backend_new(const struct auth_backend_ops *ops,
                                      void *state);

/*
 * Make an htpasswd file backend (kind "passwd") from the file at <path>;
 * reloading re-reads the file.  Return the backend, or NULL with *<err>
 * set (as for auth_passwd_load()).
 */
struct auth_backend *auth_backend_passwd(const char *path, char **err);

/* Return the configuration keyword of <b>'s kind ("passwd", ...). */
const char *auth_backend_name(const struct auth_backend *b);

/*
 * Check <user> and <pass> (C strings, borrowed for the call) with <b>.
 * Return what the backend's check returns (see auth_check_f).  Safe from
 * any thread.
 */
enum auth_result auth_check(struct auth_backend *b, const char *user,
                            const char *pass, auth_done_f *done, void *arg);

/*
 * Re-read <b>'s source.  Checks running meanwhile use the old data or the
 * new, never a mix.  Return 0 (also when <b> has nothing to re-read), or
 * -1 with *<err> set (the caller frees it) and the old data kept.
 */
int auth_reload(struct auth_backend *b, char **err);

/* Release <b> (NULL is fine) once no check on it is running. */
void auth_backend_free_(struct auth_backend *b);
#define auth_backend_free(b) \
    do { auth_backend_free_(b); (b) = NULL; } while (0)

/* ---- htpasswd files ---- */

/*
 * A loaded htpasswd file: an immutable table of user names (compared
 * case-sensitively) and password hashes, safe to check from many threads.
 */
struct auth_passwd;

/*
 * Load the htpasswd file at <path>: "user:hash" lines; blank lines and
 * lines whose first non-blank character is '#' are skipped; blanks around
 * a line and a CR before its LF are ignored; text after a second ':' is
 * ignored (as Apache does).  Every hash must be of a scheme
 * auth_hash_is_supported() accepts.  A malformed line (no ':', an empty
 * user name, an unsupported or malformed hash, a NUL byte) or a user named
 * twice makes the whole file an error, so that a typo cannot silently lock
 * a user out or leave a stale entry in force.
 * Return the table (free it with auth_passwd_free()), or NULL with *<err>
 * set to "<path>:<line>: <what>" or "<path>: <strerror>" (the caller frees
 * it with free()).
 */
struct auth_passwd *auth_passwd_load(const char *path, char **err);

/*
 * Check <pass> for <user> in <p>.  Return AUTH_OK or AUTH_DENIED (unknown
 * user, wrong password).  Safe from any thread; slow by design for
 * bcrypt, yescrypt and SHA-crypt hashes (milliseconds).
 */
enum auth_result auth_passwd_check(const struct auth_passwd *p,
                                   const char *user, const char *pass);

/* Return the number of users in <p>. */
size_t auth_passwd_count(const struct auth_passwd *p);

/* Release <p> (NULL is fine). */
void auth_passwd_free_(struct auth_passwd *p);
#define auth_passwd_free(p) \
    do { auth_passwd_free_(p); (p) = NULL; } while (0)

/* ---- password hashes ---- */

/*
 * True if <hash> is a well-formed hash of a scheme skua verifies: bcrypt
 * ($2a$, $2b$, $2y$), $1$ md5crypt, $5$ sha256crypt, $6$ sha512crypt,
 * $y$ yescrypt and 13-character DES crypt (where the system's crypt_r()
 * supports them), Apache $apr1$ MD5, and {SHA} (base64 SHA-1).
 */
bool auth_hash_is_supported(const char *hash);

/*
 * Check <pass> against <hash>, comparing the results in constant time.
 * Return AUTH_OK, or AUTH_DENIED for a wrong password or a hash
 * auth_hash_is_supported() rejects.  Safe from any thread.
 */
enum auth_result auth_hash_verify(const char *hash, const char *pass);

#endif
