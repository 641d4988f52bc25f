/*
 * socks_auth.c -- checking SOCKS5 user names and passwords (RFC 1929)
 * against the socks_password_file.
 *
 * The file is loaded by src/auth/ and shared by every worker: one loaded
 * copy per process, reference-counted, loaded again when the file's
 * identity (inode, size, modification time) changes, so neither a reload
 * nor an edit of the file needs more than one load.  A check is slow by
 * design (bcrypt: tens of milliseconds), so it runs on a short-lived
 * thread of its own and the answer comes back to the session's worker as
 * an event: the worker's other connections never wait for a hash.  At
 * most SOCKS_AUTH_MAX_JOBS checks run at once; beyond that a check fails
 * at once, which keeps a flood of guesses from exhausting threads.  This
 * is the one place a future Squid-protocol helper would answer instead;
 * the caller already sees a yes/no per user.  Not here: the file format
 * and the hashes (src/auth/), the wire format (src/proto/socks_parse.c).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <unistd.h>
#include <sys/stat.h>

#include "sk_log.h"
#include "sk_str.h"
#include <event2/event.h>

#include "auth/auth.h"
#include "conf/conf.h"
#include "socks/socks_int.h"

struct socks_pw {
    unsigned refs;              /* under socks_pw_lock */
    char *path;
    struct stat st;             /* identity of the file when loaded */
    struct auth_passwd *pw;
};

static pthread_mutex_t socks_pw_lock = PTHREAD_MUTEX_INITIALIZER;
static struct socks_pw *socks_pw_cur;

static void
socks_pw_unref(struct socks_pw *p)
{
    bool last;

    pthread_mutex_lock(&socks_pw_lock);
    last = --p->refs == 0;
    pthread_mutex_unlock(&socks_pw_lock);
    if (!last)
        return;
    auth_passwd_free(p->pw);
    free(p->path);
    free(p);
}

static bool
socks_pw_same(const struct socks_pw *p, const char *path,
              const struct stat *st)
{
    return strcmp(p->path, path) == 0 && p->st.st_ino == st->st_ino &&
           p->st.st_dev == st->st_dev && p->st.st_size == st->st_size &&
           p->st.st_mtim.tv_sec == st->st_mtim.tv_sec &&
           p->st.st_mtim.tv_nsec == st->st_mtim.tv_nsec;
}

/* Return a reference to the loaded file <path>, or NULL. */
static struct socks_pw *
socks_pw_get(const char *path)
{
    struct socks_pw *p, *old = NULL;
    struct stat st;
    char *err = NULL;

    if (stat(path, &st) == -1) {
        sk_err(SK_SEC_COMM, "socks_password_file %s: %s", path,
               strerror(errno));
        return NULL;
    }
    pthread_mutex_lock(&socks_pw_lock);
    p = socks_pw_cur;
    if (p != NULL && socks_pw_same(p, path, &st)) {
        p->refs++;
        pthread_mutex_unlock(&socks_pw_lock);
        return p;
    }
    pthread_mutex_unlock(&socks_pw_lock);

    p = sk_calloc(1, sizeof(*p));
    p->pw = auth_passwd_load(path, &err);
    if (p->pw == NULL) {
        sk_err(SK_SEC_COMM, "socks_password_file %s: %s", path,
               err ? err : "cannot load");
        free(err);
        free(p);
        return NULL;
    }
    free(err);
    p->path = sk_strdup(path);
    p->st = st;
    p->refs = 2;                /* the cache's and the caller's */
    pthread_mutex_lock(&socks_pw_lock);
    old = socks_pw_cur;
    socks_pw_cur = p;
    pthread_mutex_unlock(&socks_pw_lock);
    if (old != NULL)
        socks_pw_unref(old);
    return p;
}

int
socks_auth_check(const struct conf *conf, const char *user,
                 const char *pass)
{
    struct socks_pw *p;
    int rc;

    if (conf->socks_password_file == NULL ||
        strcmp(conf->socks_password_file, "none") == 0)
        return -1;
    p = socks_pw_get(conf->socks_password_file);
    if (p == NULL)
        return -1;
    rc = auth_passwd_check(p->pw, user, pass) == AUTH_OK ? 0 : -1;
    socks_pw_unref(p);
    return rc;
}

/* ---- checks off the event loop ---- */

#define SOCKS_AUTH_MAX_JOBS 64

static _Atomic unsigned socks_auth_jobs;
static _Atomic unsigned socks_auth_threads;     /* still running */

struct socks_auth_job {
    struct socks_sess *s;               /* held busy until the answer */
    int result;
    char user[SOCKS_MAX_NAME + 1];
    char pass[SOCKS_MAX_NAME + 1];
};

static void socks_auth_done_cb(void *arg);

static void *
socks_auth_thread(void *arg)
{
    struct socks_auth_job *j = arg;

    /* The snapshot (and its socks_password_file) lives as long as the
     * session, which the job keeps. */
    j->result = socks_auth_check(j->s->conf, j->user, j->pass);
    memset(j->pass, 0, sizeof(j->pass));
    worker_call(j->s->w, socks_auth_done_cb, j);
    /* Last touch of anything the worker owns: socks_quiesce() waits for
     * this before the event bases are freed. */
    atomic_fetch_sub(&socks_auth_threads, 1);
    return NULL;
}

void
socks_quiesce(void)
{
    /* A check is one hash (milliseconds); the bound is for safety. */
    for (int i = 0; i < 1000 && atomic_load(&socks_auth_threads) > 0; i++)
        usleep(10000);
}

/* In the session's worker again, with the answer. */
static void
socks_auth_done_cb(void *arg)
{
    struct socks_auth_job *j = arg;
    struct socks_sess *s = j->s;

    atomic_fetch_sub(&socks_auth_jobs, 1);
    if (!s->closed)
        socks_auth_done(s, j->user, j->result == 0);
    socks_leave(s);
    free(j);
}

int
socks_auth_start(struct socks_sess *s, const char *user, const char *pass)
{
    struct socks_auth_job *j;
    pthread_attr_t attr;
    pthread_t t;
    int rc;

    if (atomic_fetch_add(&socks_auth_jobs, 1) >= SOCKS_AUTH_MAX_JOBS) {
        atomic_fetch_sub(&socks_auth_jobs, 1);
        sk_notice(SK_SEC_COMM, "socks: %d password checks running; "
                  "refusing '%s'", SOCKS_AUTH_MAX_JOBS, user);
        return -1;
    }
    j = sk_calloc(1, sizeof(*j));
    j->s = s;
    sk_strlcpy(j->user, user, sizeof(j->user));
    sk_strlcpy(j->pass, pass, sizeof(j->pass));
    socks_enter(s);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    atomic_fetch_add(&socks_auth_threads, 1);
    rc = pthread_create(&t, &attr, socks_auth_thread, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        atomic_fetch_sub(&socks_auth_threads, 1);
        sk_err(SK_SEC_COMM, "socks: cannot start a password check: %s",
               strerror(rc));
        memset(j->pass, 0, sizeof(j->pass));
        free(j);
        atomic_fetch_sub(&socks_auth_jobs, 1);
        socks_leave(s);
        return -1;
    }
    return 0;
}
