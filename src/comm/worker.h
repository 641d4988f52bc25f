/*
 * worker.h -- the event core and process runtime: worker threads, their
 * event loops and listeners, configuration generations, reload and
 * shutdown.
 *
 * Each worker is one thread with one libevent base, its own SO_REUSEPORT
 * listening sockets, its own resolver and its own pool of idle server
 * connections.  A connection stays on the worker that accepted it.  The
 * main thread owns signals and configuration: it builds a new snapshot,
 * opens the listening sockets each worker needs and hands both over with a
 * message; the worker swaps them in between events, so nothing it is
 * serving is disturbed.
 */
#ifndef SK_WORKER_H
#define SK_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "sk_common.h"

struct event;
struct event_base;
struct conf;
struct conf_http_port;
struct dns_resolver;
struct http_pool;

#define WORKER_MAGIC 0x3a11e7a1u
#define WORKER_MAX 64

/* One listening socket of one worker. */
struct worker_listener {
    struct worker *w;
    int fd;
    char *spec;                 /* directive and arguments: identity on
                                   reload */
    char *name;                 /* name= or "addr:port" */
    uint16_t port;
    struct event *ev;
    /* The port's line in the worker's current snapshot (w->conf): valid
     * for as long as a reference to that snapshot is held.  The main
     * thread sets <next_conf_port> for the next generation under the
     * worker's message lock; the worker moves it here when it swaps. */
    const struct conf_http_port *conf_port;
    const struct conf_http_port *next_conf_port;
};

/*
 * A generation's listeners: an array of its own, so that one listener can
 * belong to the running set and to the next one without the two sharing
 * any link (a listener kept across a reload is in both).
 */
struct worker_lset {
    unsigned n;
    struct worker_listener *l[];
};

/* A message from the main thread (config swap, stop, or break the loop). */
struct worker_msg {
    struct conf *conf;                      /* new snapshot (a reference) */
    struct worker_lset *lset;               /* the complete new set */
    bool stop;
    bool brk;                               /* leave the loop now */
};

/* A function to run in a worker's thread (worker_call()). */
struct worker_job {
    struct worker_job *next;
    void (*fn)(void *arg);
    void *arg;
};

/* Intrusive list of live client connections (for shutdown). */
struct worker_conn_link {
    struct worker_conn_link *prev, *next;
    void (*on_stop)(struct worker_conn_link *l);   /* close if idle */
};

struct worker {
    unsigned magic;
    int id;                     /* 1..N, "kidN" in logs */
    pthread_t thread;
    struct event_base *base;
    struct conf *conf;          /* this worker's current snapshot */
    struct dns_resolver *dns;
    struct http_pool *pool;     /* idle server connections */
    struct worker_lset *lset;   /* listening now; NULL: none */
    /* The only ways in from other threads: the message and the jobs
     * below, under msg_lock, and a byte on wake[1].  The event base has no
     * lock of its own (EVENT_BASE_FLAG_NOLOCK): nothing but the worker's
     * thread may touch it once the worker runs. */
    struct event *ev_msg;       /* reads wake[0] */
    int wake[2];                /* pipe: written when work is posted */
    pthread_mutex_t msg_lock;
    struct worker_msg msg;      /* pending, under msg_lock */
    bool has_msg;
    struct worker_job *jobs, **jobs_tail;   /* under msg_lock */
    bool closed;                /* mailbox gone (worker_fini); msg_lock */
    struct worker_conn_link conns;  /* sentinel */
    unsigned n_conns;
    bool stopping;
    _Atomic bool finished;      /* the loop has exited */
};

/*
 * Run fn(arg) in <w>'s thread, from its loop, soon.  Callable from any
 * thread (it is how other threads hand results to a worker).  If the
 * worker has stopped, the job never runs.
 */
void worker_call(struct worker *w, void (*fn)(void *arg), void *arg);

/* Return the worker running the calling thread (NULL in the main thread). */
struct worker *worker_self(void);

/* Count a client connection in and out (shutdown waits for zero). */
void worker_conn_add(struct worker *w, struct worker_conn_link *l);
void worker_conn_del(struct worker *w, struct worker_conn_link *l);

/*
 * Give an accepted TCP socket TCP_NODELAY.  Linux copies it from the
 * listening socket, where worker_listen_open() sets it, so there this
 * costs no system call.
 */
static inline void
worker_accepted_nodelay(int fd)
{
#ifdef __linux__
    (void)fd;
#else
    int on = 1;

    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
#endif
}

/*
 * The local address of <fd>, accepted on <port>, into <out>: the
 * listener's own when it is bound to one address (no system call), else
 * getsockname()'s.
 */
void worker_accepted_local(const struct conf_http_port *port, int fd,
                           struct sockaddr_storage *out);

/* True once the worker is shutting down: finish, do not keep alive. */
static inline bool
worker_is_stopping(const struct worker *w)
{
    return w->stopping;
}

/*
 * Run skua with the loaded configuration <conf> (the reference is taken
 * over) until shutdown; <conf_path> is reread on reconfigure.  Return the
 * process exit status.
 */
int runtime_run(struct conf *conf, const char *conf_path);

/*
 * Open a listening socket for <p> (SO_REUSEPORT, non-blocking).  Return the
 * fd, or -1 with a message in <err> of <errlen> bytes.
 */
int worker_listen_open(const struct conf_http_port *p, char *err,
                       size_t errlen);

/*
 * Hooks the protocol layers provide.  <port> is the listener's line in
 * <w>->conf; <fd> is an accepted non-blocking socket the callee owns.
 */
void http_accept(struct worker *w, const struct conf_http_port *port,
                 int fd, const struct sockaddr_storage *peer);
struct evbuffer;

/*
 * Serve a SOCKS client (src/socks/).  <initial> holds bytes already read
 * from <fd> (an http_port shared with SOCKS reads the first byte to tell
 * the protocols apart); its contents are moved out; it may be NULL.
 */
void socks_accept(struct worker *w, const struct conf_http_port *port,
                  int fd, const struct sockaddr_storage *peer,
                  struct evbuffer *initial);

/*
 * Serve a connection intercepted on an https_port or a tcp_port
 * (src/tunnel/): peek, decide, relay to the original destination.
 */
void tunnel_accept(struct worker *w, const struct conf_http_port *port,
                   int fd, const struct sockaddr_storage *peer);

/*
 * Read the datagrams waiting on the udp_port socket <fd> of <w> (src/udp/):
 * a bounded batch per call, each relayed as part of its flow.  <port> is
 * the listener's line in <w>->conf; <fd> stays the listener's.
 */
void udp_tproxy_readable(struct worker *w, const struct conf_http_port *port,
                         int fd);

/*
 * Wait (for at most 10 s) until no SOCKS password check runs off the event
 * loops any more: called after the workers stopped, before their event
 * bases are freed.
 */
void socks_quiesce(void);
struct http_pool *http_pool_new(struct worker *w);
void http_pool_free(struct http_pool *p);

#endif
