/*
 * worker.c -- worker threads, listeners, reload and shutdown (see worker.h).
 *
 * What this file does not do: parse configuration (src/conf/), speak any
 * protocol (src/http/), or decide policy.  It only moves sockets and
 * snapshots between threads.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "sk_log.h"
#include "sk_str.h"
#include "sk_time.h"
#include "conf/conf.h"
#include "dns/dns.h"
#include "log/access_log.h"
#include "nat/nat.h"
#include "comm/worker.h"

static _Thread_local struct worker *current_worker;

static struct worker workers[WORKER_MAX];
static int n_workers;

struct worker *
worker_self(void)
{
    return current_worker;
}

void
worker_conn_add(struct worker *w, struct worker_conn_link *l)
{
    l->next = w->conns.next;
    l->prev = &w->conns;
    w->conns.next->prev = l;
    w->conns.next = l;
    w->n_conns++;
}

void
worker_conn_del(struct worker *w, struct worker_conn_link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->next = l->prev = l;
    w->n_conns--;
    if (w->stopping && w->n_conns == 0)
        event_base_loopexit(w->base, NULL);
}

/*
 * Ask the UDP socket <fd> of <family> for each datagram's original
 * destination (IP_ORIGDSTADDR / IPV6_ORIGDSTADDR control messages): on a
 * tproxy port that is where the client sent it.  A dual-stack [::] socket
 * needs both, IPv4 datagrams carrying the IPv4 message.
 */
static int
listen_udp_origdst(int fd, int family)
{
#if defined(IP_RECVORIGDSTADDR) && defined(IPV6_RECVORIGDSTADDR)
    int on = 1;

    if (setsockopt(fd, SOL_IP, IP_RECVORIGDSTADDR, &on, sizeof(on)) == -1 &&
        family == AF_INET)
        return -1;
    if (family == AF_INET6 &&
        setsockopt(fd, SOL_IPV6, IPV6_RECVORIGDSTADDR, &on, sizeof(on)) ==
        -1)
        return -1;
    return 0;
#else
    (void)fd;
    (void)family;
    errno = ENOPROTOOPT;        /* UDP interception is Linux TPROXY only */
    return -1;
#endif
}

int
worker_listen_open(const struct conf_http_port *p, char *err, size_t errlen)
{
    const struct sockaddr *sa = (const struct sockaddr *)&p->addr;
    bool udp = p->kind == CONF_PORT_UDP;
    char a[SK_ADDRSTRLEN];
    int fd, on = 1;

    fd = socket(sa->sa_family, (udp ? SOCK_DGRAM : SOCK_STREAM) |
                SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1)
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
        goto fail_close;
    if (sa->sa_family == AF_INET6) {
        /* A wildcard [::] listener serves IPv4 too; a specific IPv6
         * address only IPv6. */
        int v6only = !IN6_IS_ADDR_UNSPECIFIED(
            &((const struct sockaddr_in6 *)sa)->sin6_addr);
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    /* A tproxy port accepts connections addressed to any host. */
    if ((p->flags & CONF_PORT_F_TPROXY) &&
        nat_socket_transparent(fd, sa->sa_family) == -1)
        goto fail_close;
    if (udp && listen_udp_origdst(fd, sa->sa_family) == -1)
        goto fail_close;
    if (bind(fd, sa, sk_addr_len(sa)) == -1)
        goto fail_close;
    /* Accepted connections inherit it (worker_accepted_nodelay()); set
     * before listen() so that no connection can complete without it. */
    if (!udp)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    if (!udp && listen(fd, 4096) == -1)
        goto fail_close;
    return fd;

fail_close:
    {
        int e = errno;
        close(fd);
        errno = e;
    }
fail:
    snprintf(err, errlen, "http_port %s: cannot listen on %s: %s",
             p->spec ? p->spec : "?",
             sk_addr_port_str(sa, a, sizeof(a)), strerror(errno));
    return -1;
}

/*
 * The local address of <fd>, accepted on <port>, into <out>.  A listener
 * bound to one address (not TPROXY, not intercepting) accepts on exactly
 * that address and port, so the system call is saved; a wildcard or a
 * link-local (scoped) listener asks the socket.
 */
void
worker_accepted_local(const struct conf_http_port *port, int fd,
                      struct sockaddr_storage *out)
{
    const struct sockaddr *a = (const struct sockaddr *)&port->addr;
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
    socklen_t len = sizeof(*out);

    if (!(port->flags & (CONF_PORT_F_TPROXY | CONF_PORT_F_INTERCEPT)) &&
        !sk_addr_is_any(a) &&
        (a->sa_family == AF_INET ||
         (!IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr) &&
          !IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)))) {
        memset(out, 0, sizeof(*out));
        memcpy(out, a, sk_addr_len(a));
        return;
    }
    if (getsockname(fd, (struct sockaddr *)out, &len) == -1)
        memset(out, 0, sizeof(*out));
}

/* ---- worker side ---- */

static void
listener_accept_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker_listener *l = arg;
    struct sockaddr_storage peer;
    socklen_t plen;
    int cfd, i;

    /* Take a bounded batch so one busy listener cannot starve the loop. */
    for (i = 0; i < 64; i++) {
        plen = sizeof(peer);
        cfd = accept4(fd, (struct sockaddr *)&peer, &plen,
                      SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd == -1) {
            if (errno == EAGAIN || errno == EINTR ||
                errno == ECONNABORTED)
                return;
            if (errno == EMFILE || errno == ENFILE)
                sk_err(SK_SEC_COMM, "accept on %s: %s", l->name,
                       strerror(errno));
            return;
        }
        switch (l->conf_port->kind) {
        case CONF_PORT_SOCKS:
            socks_accept(l->w, l->conf_port, cfd, &peer, NULL);
            break;
        case CONF_PORT_HTTPS:
        case CONF_PORT_TCP:
            tunnel_accept(l->w, l->conf_port, cfd, &peer);
            break;
        default:
            http_accept(l->w, l->conf_port, cfd, &peer);
            break;
        }
    }
}

/* A udp_port has datagrams: src/udp/ reads them. */
static void
listener_udp_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker_listener *l = arg;

    udp_tproxy_readable(l->w, l->conf_port, fd);
}

static void
listener_close(struct worker_listener *l)
{
    if (l->ev != NULL)
        event_free(l->ev);
    if (l->fd != -1)
        close(l->fd);
    free(l->spec);
    free(l->name);
    free(l);
}

static void
listener_start(struct worker *w, struct worker_listener *l)
{
    l->w = w;
    if (l->ev != NULL)
        return;
    l->ev = event_new(w->base, l->fd, EV_READ | EV_PERSIST,
                      l->conf_port->kind == CONF_PORT_UDP
                          ? listener_udp_cb : listener_accept_cb, l);
    event_add(l->ev, NULL);
}

/* ---- listener sets ---- */

static bool
lset_has(const struct worker_lset *s, const struct worker_listener *l)
{
    for (unsigned i = 0; s != NULL && i < s->n; i++)
        if (s->l[i] == l)
            return true;
    return false;
}

/*
 * Close the listeners of <s> that are in neither <keep1> nor <keep2>, and
 * free the array <s> (never the kept listeners).  Any argument may be NULL.
 */
static void
lset_release(struct worker_lset *s, const struct worker_lset *keep1,
             const struct worker_lset *keep2)
{
    for (unsigned i = 0; s != NULL && i < s->n; i++)
        if (!lset_has(keep1, s->l[i]) && !lset_has(keep2, s->l[i]))
            listener_close(s->l[i]);
    free(s);
}

static void
worker_stop_now(struct worker *w)
{
    struct worker_conn_link *c, *cn;

    w->stopping = true;
    lset_release(w->lset, NULL, NULL);
    w->lset = NULL;
    /* Idle keep-alive clients are closed now; busy ones finish. */
    for (c = w->conns.next; c != &w->conns; c = cn) {
        cn = c->next;
        c->on_stop(c);
    }
    if (w->n_conns == 0)
        event_base_loopexit(w->base, NULL);
}

static void
worker_apply(struct worker *w, struct worker_msg *m)
{
    /* Close the listeners that are not in the new set; keep the others. */
    lset_release(w->lset, m->lset, NULL);
    w->lset = m->lset;
    for (unsigned i = 0; w->lset != NULL && i < w->lset->n; i++) {
        w->lset->l[i]->conf_port = w->lset->l[i]->next_conf_port;
        listener_start(w, w->lset->l[i]);
    }
    if (w->conf != NULL)
        conf_unref(w->conf);
    w->conf = m->conf;
    dns_resolver_reconfigure(w->dns, w->conf);
}

/* Make <w>'s loop run worker_msg_cb() (msg_lock held or not). */
static void
worker_wake(struct worker *w)
{
    static const char one = 1;

    /* A full pipe already says "wake up": EAGAIN is fine. */
    while (write(w->wake[1], &one, 1) == -1 && errno == EINTR)
        ;
}

void
worker_call(struct worker *w, void (*fn)(void *arg), void *arg)
{
    struct worker_job *j = sk_calloc(1, sizeof(*j));

    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&w->msg_lock);
    if (w->closed) {
        /* Too late (a check outlived shutdown): never to run. */
        pthread_mutex_unlock(&w->msg_lock);
        free(j);
        return;
    }
    *w->jobs_tail = j;
    w->jobs_tail = &j->next;
    worker_wake(w);         /* under the lock: the pipe cannot close */
    pthread_mutex_unlock(&w->msg_lock);
}

static void
worker_msg_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    struct worker_job *jobs, *j;
    struct worker_msg m = { 0 };
    char buf[64];

    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    /* Applied under the lock: the main thread reads w->lset to build
     * the next generation and must never see a half-applied one. */
    pthread_mutex_lock(&w->msg_lock);
    jobs = w->jobs;
    w->jobs = NULL;
    w->jobs_tail = &w->jobs;
    if (w->has_msg) {
        m = w->msg;
        w->has_msg = false;
        memset(&w->msg, 0, sizeof(w->msg));
        if (m.conf != NULL)
            worker_apply(w, &m);
    }
    pthread_mutex_unlock(&w->msg_lock);
    if (m.stop && !w->stopping)
        worker_stop_now(w);
    while ((j = jobs) != NULL) {
        jobs = j->next;
        j->fn(j->arg);
        free(j);
    }
    if (m.brk)
        event_base_loopbreak(w->base);
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    char name[16];

    current_worker = w;
    snprintf(name, sizeof(name), "kid%d", w->id);
    sk_log_set_thread_name(name);
    sk_info(SK_SEC_MAIN, "worker %d started", w->id);
    event_base_dispatch(w->base);
    sk_info(SK_SEC_MAIN, "worker %d stopped", w->id);
    atomic_store(&w->finished, true);
    return NULL;
}

/* Post <m> to <w> (its msg_lock held); the worker takes ownership of
 * its contents. */
static void
worker_post_locked(struct worker *w, const struct worker_msg *m)
{
    if (w->has_msg && w->msg.conf != NULL && m->conf != NULL) {
        /* An unapplied generation is superseded: drop it and close the
         * listeners only it introduced. */
        lset_release(w->msg.lset, m->lset, w->lset);
        w->msg.lset = NULL;
        conf_unref(w->msg.conf);
    }
    if (m->conf != NULL) {
        w->msg.conf = m->conf;
        w->msg.lset = m->lset;
    }
    w->msg.stop = w->msg.stop || m->stop;
    w->msg.brk = w->msg.brk || m->brk;
    w->has_msg = true;
}

static void
worker_post(struct worker *w, const struct worker_msg *m)
{
    pthread_mutex_lock(&w->msg_lock);
    worker_post_locked(w, m);
    pthread_mutex_unlock(&w->msg_lock);
    worker_wake(w);
}

/* ---- main thread side ---- */

/*
 * The listener set of worker <w> for <conf>: sockets whose spec is
 * unchanged are reused (connections queued on them survive a reload), the
 * others are opened.  Return the list, or NULL with <err> set on failure
 * (then nothing new stays open).
 */
static struct worker_lset *
listeners_for(struct worker *w, const struct worker_lset *cur,
              const struct conf *conf, char *err, size_t errlen)
{
    const struct conf_http_port *p;
    struct worker_lset *set;
    struct worker_listener *l;
    char a[SK_ADDRSTRLEN];
    unsigned n = 0, i;

    for (p = conf->http_ports; p != NULL; p = p->next)
        n++;
    set = sk_calloc(1, sizeof(*set) + n * sizeof(set->l[0]));
    for (p = conf->http_ports; p != NULL; p = p->next) {
        l = NULL;
        for (i = 0; cur != NULL && i < cur->n; i++)
            if (strcmp(cur->l[i]->spec, p->spec) == 0)
                l = cur->l[i];
        if (l == NULL) {
            l = sk_calloc(1, sizeof(*l));
            l->fd = worker_listen_open(p, err, errlen);
            if (l->fd == -1) {
                free(l);
                /* Close what was opened for this attempt only. */
                lset_release(set, cur, NULL);
                return NULL;
            }
            l->spec = sk_strdup(p->spec);
            l->name = sk_strdup(p->name ? p->name :
                                sk_addr_port_str((const struct sockaddr *)
                                                 &p->addr, a, sizeof(a)));
            l->port = sk_addr_port((const struct sockaddr *)&p->addr);
            l->w = w;
        }
        set->l[set->n++] = l;
    }
    return set;
}

/*
 * The listeners a worker will have after all posted messages: what it runs
 * now, or what it has been sent and not applied yet.  Called with
 * w->msg_lock held.
 */
static const struct worker_lset *
worker_future_listeners(struct worker *w)
{
    return (w->has_msg && w->msg.conf != NULL) ? w->msg.lset : w->lset;
}

/*
 * Choose (and log) the original-destination backend of every intercept
 * and tproxy port of <conf>, so a port whose backend cannot work fails
 * the start or the reload instead of every connection.
 */
static int
runtime_check_intercept(const struct conf *conf, char *err, size_t errlen)
{
    const struct conf_http_port *p;
    const struct nat_backend *b;
    char why[200];

    for (p = conf->http_ports; p != NULL; p = p->next) {
        if (!(p->flags & (CONF_PORT_F_INTERCEPT | CONF_PORT_F_TPROXY)))
            continue;
        b = nat_select(conf->intercept_backend,
                       (p->flags & CONF_PORT_F_TPROXY) != 0, why,
                       sizeof(why));
        if (b == NULL) {
            snprintf(err, errlen, "%s:%d: %s: %s", p->file, p->line,
                     p->spec, why);
            return -1;
        }
        sk_notice(SK_SEC_MAIN, "%s: original destinations from the %s "
                  "backend", p->spec, b->name);
    }
    return 0;
}

static int
runtime_activate(struct conf *conf, char *err, size_t errlen)
{
    struct worker_lset *sets[WORKER_MAX];
    int i, j;

    if (runtime_check_intercept(conf, err, errlen) == -1)
        return -1;
    for (i = 0; i < n_workers; i++)
        pthread_mutex_lock(&workers[i].msg_lock);
    for (i = 0; i < n_workers; i++) {
        sets[i] = listeners_for(&workers[i],
                                worker_future_listeners(&workers[i]), conf,
                                err, errlen);
        if (sets[i] == NULL)
            break;
    }
    if (i < n_workers) {
        /* Undo the sets already built for earlier workers. */
        for (j = 0; j < i; j++)
            lset_release(sets[j], worker_future_listeners(&workers[j]),
                         NULL);
        for (j = 0; j < n_workers; j++)
            pthread_mutex_unlock(&workers[j].msg_lock);
        return -1;
    }
    for (i = 0; i < n_workers; i++) {
        struct worker_msg m = { .conf = conf_ref(conf), .lset = sets[i] };
        const struct conf_http_port *p = conf->http_ports;

        /* The sets follow the port list in order; only now that every
         * worker's set exists may they point into the new snapshot. */
        for (unsigned k = 0; k < sets[i]->n; k++, p = p->next)
            sets[i]->l[k]->next_conf_port = p;
        worker_post_locked(&workers[i], &m);
    }
    for (i = 0; i < n_workers; i++) {
        pthread_mutex_unlock(&workers[i].msg_lock);
        worker_wake(&workers[i]);
    }
    return 0;
}

struct runtime {
    struct event_base *base;
    struct conf *conf;
    const char *conf_path;
    bool stopping;
    struct event *ev_check;
    sk_msec_t deadline;
};

static struct runtime rt;

/* Apply the process-wide settings of <conf>: logs and debug levels. */
static int
runtime_apply_globals(struct conf *conf, char **errp)
{
    char err[256];

    if (sk_log_set_options(conf->debug_options, err, sizeof(err)) == -1) {
        *errp = sk_strdup(err);
        return -1;
    }
    if (conf->cache_log != NULL && sk_log_open(conf->cache_log) == -1) {
        snprintf(err, sizeof(err), "cache_log %s: %s", conf->cache_log,
                 strerror(errno));
        *errp = sk_strdup(err);
        return -1;
    }
    return access_log_open(conf, errp);
}

static void
runtime_reconfigure(void)
{
    struct conf *nc;
    char *err = NULL;
    char lerr[256];

    sk_notice(SK_SEC_MAIN, "reconfiguring from %s", rt.conf_path);
    nc = conf_load(rt.conf_path, &err);
    if (nc == NULL) {
        sk_err(SK_SEC_MAIN, "reconfigure rejected, keeping the running "
               "configuration: %s", err);
        free(err);
        return;
    }
    if (access_log_open(nc, &err) == -1) {
        sk_err(SK_SEC_MAIN, "reconfigure rejected: %s", err);
        free(err);
        conf_unref(nc);
        return;
    }
    if (runtime_activate(nc, lerr, sizeof(lerr)) == -1) {
        sk_err(SK_SEC_MAIN, "reconfigure rejected: %s", lerr);
        conf_unref(nc);
        return;
    }
    if (sk_log_set_options(nc->debug_options, lerr, sizeof(lerr)) == 0 &&
        nc->cache_log != NULL)
        sk_log_open(nc->cache_log);
    conf_unref(rt.conf);
    rt.conf = nc;
    sk_notice(SK_SEC_MAIN, "reconfigured");
}

static bool
runtime_all_finished(void)
{
    for (int i = 0; i < n_workers; i++)
        if (!atomic_load(&workers[i].finished))
            return false;
    return true;
}

static void
runtime_check_cb(evutil_socket_t fd, short what, void *arg)
{
    if (runtime_all_finished()) {
        event_base_loopexit(rt.base, NULL);
        return;
    }
    if (sk_now_msec() >= rt.deadline) {
        sk_notice(SK_SEC_MAIN, "shutdown_lifetime over; closing the "
                  "remaining connections");
        for (int i = 0; i < n_workers; i++) {
            struct worker_msg m = { .brk = true };

            worker_post(&workers[i], &m);
        }
    }
}

static void
runtime_shutdown(sk_msec_t lifetime)
{
    struct timeval tv = { 0, 50000 };

    if (rt.stopping) {
        rt.deadline = sk_now_msec();    /* a second signal: hurry */
        return;
    }
    rt.stopping = true;
    sk_notice(SK_SEC_MAIN, "shutting down (up to %lld ms for open "
              "transfers)", (long long)lifetime);
    rt.deadline = sk_now_msec() + lifetime;
    for (int i = 0; i < n_workers; i++) {
        struct worker_msg m = { .stop = true };
        worker_post(&workers[i], &m);
    }
    rt.ev_check = event_new(rt.base, -1, EV_PERSIST, runtime_check_cb, NULL);
    event_add(rt.ev_check, &tv);
}

static void
runtime_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    switch (sig) {
    case SIGHUP:
        if (!rt.stopping)
            runtime_reconfigure();
        break;
    case SIGUSR1:
        sk_notice(SK_SEC_MAIN, "rotating logs");
        sk_log_reopen();
        access_log_reopen(rt.conf);
        break;
    case SIGTERM:
        runtime_shutdown(rt.conf->shutdown_lifetime);
        break;
    case SIGINT:
        runtime_shutdown(0);
        break;
    }
}

static int
worker_init(struct worker *w, int id)
{
    struct event_config *cfg;

    memset(w, 0, sizeof(*w));
    w->wake[0] = w->wake[1] = -1;
    w->magic = WORKER_MAGIC;
    w->id = id;
    w->conns.next = w->conns.prev = &w->conns;
    pthread_mutex_init(&w->msg_lock, NULL);
    /*
     * Not with libevent's epoll changelist (EVENT_BASE_FLAG_EPOLL_USE_
     * CHANGELIST): a pending delete keeps the edge-triggered flag of the
     * relay's events, and a socket reusing a just-closed relay descriptor's
     * number in the same loop iteration would be registered edge-triggered
     * by mistake (seen: a level-triggered handshake read missed wakeups).
     */
    cfg = event_config_new();
    if (cfg == NULL)
        return -1;
    /* Other threads reach a worker only through worker_post() and
     * worker_call() (the mailbox and its pipe), never through its base:
     * the base needs no lock, and every event_add/del saves one. */
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    w->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (w->base == NULL)
        return -1;
    w->jobs_tail = &w->jobs;
    if (pipe2(w->wake, O_NONBLOCK | O_CLOEXEC) == -1)
        return -1;
    w->ev_msg = event_new(w->base, w->wake[0], EV_PERSIST | EV_READ,
                          worker_msg_cb, w);
    event_add(w->ev_msg, NULL);
    w->dns = dns_resolver_new(w->base, rt.conf);
    if (w->dns == NULL)
        return -1;
    w->pool = http_pool_new(w);
    return 0;
}

static void
worker_fini(struct worker *w)
{
    if (w->has_msg && w->msg.conf != NULL)
        lset_release(w->msg.lset, w->lset, NULL);
    lset_release(w->lset, NULL, NULL);
    w->lset = NULL;
    http_pool_free(w->pool);
    dns_resolver_free(w->dns);
    event_free(w->ev_msg);
    /* A password-check thread may still post (socks_quiesce() waits only
     * so long): from now on worker_call() drops its job. */
    pthread_mutex_lock(&w->msg_lock);
    w->closed = true;
    close(w->wake[0]);
    close(w->wake[1]);
    w->wake[0] = w->wake[1] = -1;
    while (w->jobs != NULL) {
        /* Posted after the loop ended: never to run. */
        struct worker_job *j = w->jobs;

        w->jobs = j->next;
        free(j);
    }
    w->jobs_tail = &w->jobs;
    pthread_mutex_unlock(&w->msg_lock);
    if (w->has_msg && w->msg.conf != NULL)
        conf_unref(w->msg.conf);
    if (w->conf != NULL)
        conf_unref(w->conf);
    event_base_free(w->base);
}

int
runtime_run(struct conf *conf, const char *conf_path)
{
    static const int sigs[] = { SIGHUP, SIGUSR1, SIGTERM, SIGINT };
    struct event *sev[SK_ARRAY_LEN(sigs)];
    sigset_t block, old;
    char err[256];
    char *errp = NULL;
    int i, status = 0;

    evthread_use_pthreads();
    rt.conf = conf;
    rt.conf_path = conf_path;
    rt.base = event_base_new();
    if (runtime_apply_globals(conf, &errp) == -1) {
        fprintf(stderr, "skua: %s\n", errp);
        free(errp);
        return 1;
    }
    n_workers = conf->workers > 0 ? SK_MIN(conf->workers, WORKER_MAX) : 1;

    /* Signals go to the main thread only: workers block them. */
    sigfillset(&block);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (i = 0; i < n_workers; i++) {
        if (worker_init(&workers[i], i + 1) == -1) {
            fprintf(stderr, "skua: cannot start worker %d\n", i + 1);
            return 1;
        }
    }
    if (runtime_activate(conf, err, sizeof(err)) == -1) {
        fprintf(stderr, "skua: %s\n", err);
        return 1;
    }
    for (i = 0; i < n_workers; i++)
        pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    for (i = 0; i < (int)SK_ARRAY_LEN(sigs); i++) {
        sev[i] = evsignal_new(rt.base, sigs[i], runtime_signal_cb, NULL);
        evsignal_add(sev[i], NULL);
    }
    sk_notice(SK_SEC_MAIN, "skua %s started, %d worker%s", PACKAGE_VERSION,
              n_workers, n_workers == 1 ? "" : "s");
    event_base_dispatch(rt.base);

    for (i = 0; i < n_workers; i++)
        pthread_join(workers[i].thread, NULL);
    socks_quiesce();
    for (i = 0; i < n_workers; i++)
        worker_fini(&workers[i]);
    for (i = 0; i < (int)SK_ARRAY_LEN(sigs); i++)
        event_free(sev[i]);
    if (rt.ev_check != NULL)
        event_free(rt.ev_check);
    event_base_free(rt.base);
    conf_unref(rt.conf);
    nat_shutdown();
    sk_notice(SK_SEC_MAIN, "skua stopped");
    return status;
}
