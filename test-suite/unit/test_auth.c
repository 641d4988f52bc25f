/*
 * test_auth.c -- unit tests for src/auth/ (htpasswd files and hashes).
 *
 * Table-driven: right and wrong passwords for every hash scheme in the
 * fixture test-suite/unit/auth/good.htpasswd (generated once with
 * htpasswd, openssl passwd and libxcrypt's crypt_gensalt(); the tools are
 * not needed to run this), unknown and differently-cased users, well- and
 * malformed hashes, malformed files and the file:line error each gives, a
 * missing file, and the "passwd" backend with reloads, also while other
 * threads check.  Scratch files go to $TMPDIR.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/auth.h"

#ifndef SK_TEST_SRCDIR
#define SK_TEST_SRCDIR "."
#endif
/* Table rows leave trailing members out: they default to zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define GOOD_FILE SK_TEST_SRCDIR "/test-suite/unit/auth/good.htpasswd"

static const char *const result_name[] = {
    "AUTH_OK", "AUTH_DENIED", "AUTH_PENDING", "AUTH_UNAVAILABLE"
};

/* ---- checks against the fixture ---- */

struct check_case {
    const char *user;
    const char *pass;
    enum auth_result want;
};

#define OK AUTH_OK
#define NO AUTH_DENIED
#define HORSE "correct horse"

static const struct check_case check_cases[] = {
    { "bcrypt_y", HORSE, OK },
    { "bcrypt_y", "correct horsE", NO },
    { "bcrypt_y", "", NO },
    { "bcrypt_y4", "Tr0ub4dor&3", OK },
    { "bcrypt_y4", HORSE, NO },
    { "bcrypt_b", HORSE, OK },
    { "bcrypt_b", "correct horse ", NO },
    { "bcrypt_a", HORSE, OK },
    { "bcrypt_a", "correct", NO },
    { "apr1", HORSE, OK },
    { "apr1", "Correct horse", NO },
    { "apr1_ossl", "p@ss:word with spaces", OK },
    { "apr1_ossl", "p@ss:word with space", NO },
    { "apr1_empty", "", OK },
    { "apr1_empty", " ", NO },
    { "sha", HORSE, OK },
    { "sha", "correct hors", NO },
    { "sha_empty", "", OK },
    { "sha_empty", "x", NO },
    { "des", "password", OK },
    { "des", "passwor", NO },
    /* DES crypt reads only 8 characters: a known weakness of the scheme */
    { "des", "password and more", OK },
    { "sha256_ht", HORSE, OK },
    { "sha256_ht", "", NO },
    { "sha512_ht", HORSE, OK },
    { "sha512_ht", "correct  horse", NO },
    { "md5crypt", HORSE, OK },
    { "md5crypt", "correct-horse", NO },
    { "sha256", HORSE, OK },
    { "sha256", "CORRECT HORSE", NO },
    { "sha512", HORSE, OK },
    { "sha512", "horse", NO },
    { "sha512_rounds", HORSE, OK },
    { "sha512_rounds", "correct horse\n", NO },
    { "sha256_rounds", HORSE, OK },
    { "sha256_rounds", "orrect horse", NO },
    { "yescrypt", HORSE, OK },
    { "yescrypt", "correct horsf", NO },
    { "utf8", "p\xc3\xa4ssw\xc3\xb6rd", OK },
    { "utf8", "passwort", NO },
    { "Bob.Smith@example.com", "x", OK },
    { "Bob.Smith@example.com", "X", NO },
    { "bob.smith@example.com", "x", NO },       /* names are case-sensitive */
    { "Apr1", "", OK },
    { "Apr1", HORSE, NO },
    { "APR1", "", NO },
    { "crlf", HORSE, OK },                      /* CR before LF ignored */
    { "indented", HORSE, OK },
    { "extra", HORSE, OK },                     /* ":Some User" ignored */
    { "nobody", HORSE, NO },
    { "", "", NO },
    { "#", "", NO },
    { "apr1 ", HORSE, NO },
    { " apr1", HORSE, NO },
};

static void
test_check(void **state)
{
    struct auth_passwd *p;
    enum auth_result r;
    char *err = NULL;
    size_t i;

    (void)state;
    p = auth_passwd_load(GOOD_FILE, &err);
    if (p == NULL) {
        print_error("%s\n", err);
        fail();
    }
    assert_int_equal(auth_passwd_count(p), 24);
    for (i = 0; i < SK_ARRAY_LEN(check_cases); i++) {
        const struct check_case *c = &check_cases[i];

        r = auth_passwd_check(p, c->user, c->pass);
        if (r != c->want) {
            print_error("user '%s' password '%s': %s, want %s\n", c->user,
                        c->pass, result_name[r], result_name[c->want]);
            fail();
        }
    }
    auth_passwd_free(p);
    assert_null(p);
}

/* ---- hashes on their own ---- */

struct hash_case {
    const char *hash;
    bool supported;
    const char *pass;       /* NULL: not verified */
    enum auth_result want;
};

#define H53 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"
#define H22 "abcdefghijklmnopqrstuv"
#define H43 H22 "abcdefghijklmnopqrstu"
#define H86 H43 H43

static const struct hash_case hash_cases[] = {
    /* known vectors */
    { "$apr1$12345678$XUgawe9rI.Q.pC4iat45x/", true,
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", OK },
    { "$apr1$12345678$XUgawe9rI.Q.pC4iat45x/", true, "a", NO },
    { "$apr1$x$n3KC.RJYHZhK50zaCOGff0", true, "x", OK },
    { "$apr1$x$n3KC.RJYHZhK50zaCOGff0", true, "y", NO },
    { "$1$ab$sstJ9HUkMZJmyargd7ozB1", true,
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", OK },
    { "{SHA}lKdZ/TdzVDB1PHtrgGhDBtgOoW4=", true, "\xc3\xbc", OK },
    { "{SHA}lKdZ/TdzVDB1PHtrgGhDBtgOoW4=", true, "u", NO },
    /* well formed (wrong passwords, but the shape is right) */
    { "$2y$10$" H53, true, "x", NO },
    { "$2b$31$" H53, true },
    { "$5$salt$" H43, true },
    { "$5$rounds=1000$salt$" H43, true },
    { "$6$salt$" H86, true },
    { "$y$j9T$salt$" H43, true },
    { "abcdefghijklm", true },
    /* malformed or unknown: never verified */
    { "", false, "", NO },
    { "plaintext", false, "plaintext", NO },
    { "secret", false, "secret", NO },
    { "*", false, "", NO },
    { "!", false, "", NO },
    { "!$1$ab$sstJ9HUkMZJmyargd7ozB1", false },
    { "$2y$05$" H53 "x", false },
    { "$2y$05$" "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", false },
    { "$2y$03$" H53, false },
    { "$2y$32$" H53, false },
    { "$2y$5$" H53, false },
    { "$2x$05$" H53, false },
    { "$2y$05$" "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:",
      false },
    { "$1$" H22, false },
    { "$1$ab$" "abcdefghijklmnopqrstu", false },
    { "$5$salt$" H22, false },
    { "$6$salt$" H22 H22, false },
    { "$6$sa lt$" H86, false },
    { "$7$CU..../....salt$" H43, false },
    { "$5$salt$" H43 "a", false },
    { "$apr1$$" H22, false },
    { "$apr1$123456789$" H22, false },
    { "$apr1$abc$" "abcdefghijklmnopqrstu", false },
    { "$apr1$abc" H22, false },
    { "{SHA}", false, "", NO },
    { "{SHA}lKdZ/TdzVDB1PHtrgGhDBtgOoW4", false },
    { "{SHA}lKdZ/TdzVDB1PHtrgGhDBtgOoW==", false },
    { "{SHA}lKdZ/Tdz*DB1PHtrgGhDBtgOoW4=", false },
    { "{SSHA}lKdZ/TdzVDB1PHtrgGhDBtgOoW4=", false },
    { "abcdefghijkl", false },
    { "abcdefghijk$m", false },
};

static void
test_hash(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < SK_ARRAY_LEN(hash_cases); i++) {
        const struct hash_case *c = &hash_cases[i];

        if (auth_hash_is_supported(c->hash) != c->supported) {
            print_error("'%s': supported is %d\n", c->hash, !c->supported);
            fail();
        }
        if (c->pass != NULL && auth_hash_verify(c->hash, c->pass) != c->want) {
            print_error("'%s' with '%s': want %s\n", c->hash, c->pass,
                        result_name[c->want]);
            fail();
        }
    }
}

/* ---- files ---- */

/* Write <content> (<len> bytes) to a new scratch file; return its path. */
static char *
scratch_file(const char *content, size_t len)
{
    const char *dir = getenv("TMPDIR");
    char *path;
    int fd;

    if (dir == NULL || dir[0] == '\0')
        dir = "/tmp";
    path = malloc(strlen(dir) + 32);
    assert_non_null(path);
    sprintf(path, "%s/test_auth.XXXXXX", dir);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

static void
rewrite(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

#define SHA_HORSE "{SHA}L55TUjtiq8FBorTWAZ0jy6g129A="
#define STR(s) s, sizeof(s) - 1

struct file_case {
    const char *content;
    size_t len;
    const char *err;        /* after "<path>:"; NULL: loads */
    size_t users;
};

static const struct file_case file_cases[] = {
    { STR(""), NULL, 0 },
    { STR("# only a comment\n\n   \n"), NULL, 0 },
    { STR("a:" SHA_HORSE), NULL, 1 },             /* no final newline */
    { STR("a:" SHA_HORSE "\nb:" SHA_HORSE "\r\n"), NULL, 2 },
    { STR("a:" SHA_HORSE "\nA:" SHA_HORSE "\n"), NULL, 2 },
    { STR("# users\nalice\n"),
      "2: no ':' between user name and password hash" },
    { STR("a:" SHA_HORSE "\n:" SHA_HORSE "\n"), "2: empty user name" },
    { STR("a:\n"), "1: empty password hash" },
    { STR("a::x\n"), "1: empty password hash" },
    { STR("\n\n\na:secret\n"), "4: unsupported or malformed password hash" },
    { STR("a:{SHA}L55TUjtiq8FBorTWAZ0jy6g129A\n"),
      "1: unsupported or malformed password hash" },
    { STR("a:$2y$05$short\n"), "1: unsupported or malformed password hash" },
    { STR("a:" SHA_HORSE " x\n"),
      "1: unsupported or malformed password hash" },
    { STR("a:" SHA_HORSE "\na\0b:" SHA_HORSE "\n"), "2: NUL byte in line" },
    { STR("a:" SHA_HORSE "\nb:" SHA_HORSE "\n#\na:" SHA_HORSE "\n"),
      "4: user \"a\" is already on line 1" },
};

static void
test_files(void **state)
{
    struct auth_passwd *p;
    char *path, *err, want[512];
    size_t i;

    (void)state;
    for (i = 0; i < SK_ARRAY_LEN(file_cases); i++) {
        const struct file_case *c = &file_cases[i];

        path = scratch_file(c->content, c->len);
        err = NULL;
        p = auth_passwd_load(path, &err);
        if (c->err == NULL) {
            if (p == NULL) {
                print_error("case %zu: %s\n", i, err);
                fail();
            }
            assert_int_equal(auth_passwd_count(p), c->users);
            if (c->users > 0)
                assert_int_equal(auth_passwd_check(p, "a", HORSE), OK);
            assert_int_equal(auth_passwd_check(p, "a", "x"), NO);
        } else {
            assert_null(p);
            assert_non_null(err);
            snprintf(want, sizeof(want), "%s:%s", path, c->err);
            if (strncmp(err, want, strlen(want)) != 0) {
                print_error("case %zu: '%s', want '%s'\n", i, err, want);
                fail();
            }
        }
        free(err);
        auth_passwd_free(p);
        unlink(path);
        free(path);
    }
}

static void
test_missing_file(void **state)
{
    char *err = NULL;

    (void)state;
    assert_null(auth_passwd_load("/nonexistent/skua.htpasswd", &err));
    assert_string_equal(err, "/nonexistent/skua.htpasswd: "
                             "No such file or directory");
    free(err);
    err = NULL;
    assert_null(auth_backend_passwd("/nonexistent/skua.htpasswd", &err));
    assert_non_null(err);
    free(err);
}

/* ---- the backend ---- */

static void
test_backend_reload(void **state)
{
    struct auth_backend *b;
    char *path, *err = NULL;

    (void)state;
    path = scratch_file(STR("old:" SHA_HORSE "\n"));
    b = auth_backend_passwd(path, &err);
    assert_non_null(b);
    assert_string_equal(auth_backend_name(b), "passwd");
    assert_int_equal(auth_check(b, "old", HORSE, NULL, NULL), OK);
    assert_int_equal(auth_check(b, "old", "x", NULL, NULL), NO);
    assert_int_equal(auth_check(b, "new", HORSE, NULL, NULL), NO);

    rewrite(path, "new:" SHA_HORSE "\n");
    assert_int_equal(auth_reload(b, &err), 0);
    assert_int_equal(auth_check(b, "old", HORSE, NULL, NULL), NO);
    assert_int_equal(auth_check(b, "new", HORSE, NULL, NULL), OK);

    /* a broken file is refused and the loaded one stays */
    rewrite(path, "new:" SHA_HORSE "\nbroken\n");
    assert_int_equal(auth_reload(b, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, ":2: no ':'"));
    free(err);
    assert_int_equal(auth_check(b, "new", HORSE, NULL, NULL), OK);

    auth_backend_free(b);
    assert_null(b);
    unlink(path);
    free(path);
}

/* A backend of our own through the generic ops. */
static int fake_destroyed;

static enum auth_result
fake_check(void *st, const char *user, const char *pass, auth_done_f *done,
           void *arg)
{
    (void)st;
    (void)pass;
    if (strcmp(user, "later") == 0) {
        if (done == NULL)
            return AUTH_UNAVAILABLE;
        done(arg, AUTH_OK);     /* a real helper answers from its loop */
        return AUTH_PENDING;
    }
    return strcmp(user, "bh") == 0 ? AUTH_UNAVAILABLE : AUTH_DENIED;
}

static void
fake_destroy(void *st)
{
    fake_destroyed = *(int *)st;
}

static void
fake_done(void *arg, enum auth_result r)
{
    *(enum auth_result *)arg = r;
}

static void
test_backend_ops(void **state)
{
    static const struct auth_backend_ops fake_ops = {
        .name = "fake", .check = fake_check, .destroy = fake_destroy,
    };
    static int token = 42;
    struct auth_backend *b = auth_backend_new(&fake_ops, &token);
    enum auth_result got = AUTH_PENDING;
    char *err = NULL;

    (void)state;
    assert_string_equal(auth_backend_name(b), "fake");
    assert_int_equal(auth_check(b, "x", "y", NULL, NULL), AUTH_DENIED);
    assert_int_equal(auth_check(b, "bh", "y", NULL, NULL), AUTH_UNAVAILABLE);
    assert_int_equal(auth_check(b, "later", "y", NULL, NULL),
                     AUTH_UNAVAILABLE);
    assert_int_equal(auth_check(b, "later", "y", fake_done, &got),
                     AUTH_PENDING);
    assert_int_equal(got, AUTH_OK);
    assert_int_equal(auth_reload(b, &err), 0);      /* no reload op */
    auth_backend_free(b);
    assert_int_equal(fake_destroyed, 42);
    auth_backend_free(b);                           /* NULL is fine */
}

/* Checks from several threads while the file is reloaded. */
#define THREADS 4
#define CHECKS 40
#define RELOADS 20

static void *
checker(void *arg)
{
    struct auth_backend *b = arg;
    long bad = 0;
    int i;

    for (i = 0; i < CHECKS; i++) {
        /* "a" is in every generation, with the same password */
        if (auth_check(b, "a", HORSE, NULL, NULL) != AUTH_OK)
            bad++;
        if (auth_check(b, "a", "wrong", NULL, NULL) != AUTH_DENIED)
            bad++;
    }
    return (void *)bad;
}

static void
test_backend_threads(void **state)
{
    static const char gen0[] = "a:$apr1$VxEpvWlg$CTsTUoEjVT3bBs/FK90mM/\n";
    static const char gen1[] = "b:" SHA_HORSE "\n"
                               "a:$1$Orn57XDp$HTImQuobog2EImYFbdkm20\n";
    pthread_t t[THREADS];
    struct auth_backend *b;
    char *path, *err = NULL;
    void *bad;
    int i;

    (void)state;
    path = scratch_file(STR(gen0));
    b = auth_backend_passwd(path, &err);
    assert_non_null(b);
    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, checker, b), 0);
    for (i = 0; i < RELOADS; i++) {
        rewrite(path, (i & 1) ? gen0 : gen1);
        assert_int_equal(auth_reload(b, &err), 0);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], &bad), 0);
        assert_int_equal((long)bad, 0);
    }
    auth_backend_free(b);
    unlink(path);
    free(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_backend_reload),
        cmocka_unit_test(test_backend_ops),
        cmocka_unit_test(test_backend_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
