/*
 * nat.h -- pluggable original-destination backends for intercepted
 * connections.
 *
 * A connection the kernel's firewall sent to skua (REDIRECT / DNAT, TPROXY,
 * pf rdr-to / divert-to, ipfw fwd) was addressed to somewhere else; a
 * backend recovers that original destination from the accepted socket.
 * One struct nat_backend per mechanism, one file per backend
 * (nat_netfilter.c, nat_tproxy.c, nat_pf.c, nat_ipfw.c), one table in
 * nat.c, chosen at run time by name or by probing ("auto").  Backends for
 * other platforms compile to nothing, so callers never need an #ifdef.
 *
 * What this module deliberately does not do: open listening sockets beyond
 * setting the transparent option, speak any protocol, or decide whether a
 * destination is allowed.  It knows nothing of HTTP or of the
 * configuration snapshot: callers pass the intercept_backend keyword.
 */
#ifndef SK_NAT_H
#define SK_NAT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "sk_common.h"

struct nat_backend;
struct conf;

/* Backend flags. */
#define NAT_F_IPV6        0x1u  /* can recover IPv6 destinations */
#define NAT_F_NEEDS_ROOT  0x2u  /* needs privileges (a device, a socket
                                   option only root may set) */
#define NAT_F_TRANSPARENT 0x4u  /* the listener must be transparent
                                   (IP_TRANSPARENT): the original
                                   destination is the socket's own local
                                   address; never picked by "auto" for a
                                   plain intercept port */

/* Is the backend usable on this host?  Return 0 or -1; never fatal. */
typedef int nat_probe_f(const struct nat_backend *b);

/* Prepare the backend (open /dev/pf...).  Return 0 or -1 (errno set). */
typedef int nat_init_f(const struct nat_backend *b);

/*
 * Recover the original destination of the accepted socket <fd> whose
 * peer is <peer> and local address <local> (both plain AF_INET or AF_INET6,
 * never IPv4-mapped) into <orig>.  Return 0, or -1 with errno set
 * (ENOENT: the connection was not translated).
 */
typedef int nat_lookup_f(const struct nat_backend *b, int fd,
                         const struct sockaddr_storage *peer,
                         const struct sockaddr_storage *local,
                         struct sockaddr_storage *orig);

/* Release what init took. */
typedef void nat_fini_f(const struct nat_backend *b);

/*
 * One backend.  Required members: name, probe, lookup.  Optional (may be
 * NULL): init, fini.
 */
struct nat_backend {
    const char *name;           /* the intercept_backend keyword */
    unsigned flags;             /* NAT_F_* */
    nat_probe_f *probe;
    nat_init_f *init;
    nat_lookup_f *lookup;
    nat_fini_f *fini;
};

/*
 * Return the backend called <name> if it is built in, else NULL.  "auto"
 * is not a backend name (use nat_backend_auto()).
 */
const struct nat_backend *nat_backend_by_name(const char *name);

/*
 * Return the first built-in backend, in table order (netfilter, pf, ipfw,
 * tproxy), whose probe succeeds and that suits a listener that is
 * transparent when <transparent> is set (only NAT_F_TRANSPARENT backends)
 * or not (only the others).  Probe results are cached.  Return NULL if
 * none is usable.
 */
const struct nat_backend *nat_backend_auto(bool transparent);

/*
 * Choose the backend for a listener: <setting> is the intercept_backend
 * keyword ("auto" or a backend name), <transparent> whether the listener
 * is a tproxy port (which always gets the "tproxy" backend).  The chosen
 * backend is probed and initialised once (thread-safe).  Return it, or
 * NULL with a reason in <err> of <errlen> bytes.
 */
const struct nat_backend *nat_select(const char *setting, bool transparent,
                                     char *err, size_t errlen);

/*
 * Look up the original destination of the accepted socket <fd> through
 * <b>.  <peer> and <local> may be IPv4-mapped IPv6 addresses (a dual-stack
 * listener); they are converted before the backend sees them, and <orig>
 * is always a plain AF_INET or AF_INET6 address with its port.  Return 0,
 * or -1 with errno set.
 */
int nat_lookup(const struct nat_backend *b, int fd,
               const struct sockaddr_storage *peer,
               const struct sockaddr_storage *local,
               struct sockaddr_storage *orig);

/*
 * Write the names of the built-in backends, separated by spaces, into
 * <buf> of <len> bytes ("" when there are none).  Return <buf>.
 */
char *nat_backends_list(char *buf, size_t len);

/* Call fini of every backend that was initialised (at exit). */
void nat_shutdown(void);

/*
 * Make <fd>, a socket of address family <family>, transparent: it may
 * accept connections addressed elsewhere (a tproxy listener) or bind to
 * an address that is not local (a spoofed source).  Return 0, or -1 with
 * errno set (ENOPROTOOPT where no transparent option is built in, EPERM
 * without CAP_NET_ADMIN).
 */
int nat_socket_transparent(int fd, int family);

/*
 * True if <dst> (plain AF_INET or AF_INET6 with its port) is the address
 * of one of the TCP listening ports of <conf> (a wildcard listener counts
 * for every local address): a connection intercepted towards it would make
 * skua connect to itself, again and again.
 */
bool nat_dst_is_listener(const struct conf *conf,
                         const struct sockaddr_storage *dst);

/* The same for the udp_ports of <conf>: a UDP flow towards one would feed
 * skua its own datagrams. */
bool nat_dst_is_udp_listener(const struct conf *conf,
                             const struct sockaddr_storage *dst);

/* The check behind both: <addr> (port ignored; IPv4-mapped or not) with
 * port <port> is one of the UDP listening ports of <conf> (<udp>) or one
 * of the TCP ones. */
bool nat_is_own_port(const struct conf *conf,
                     const struct sockaddr_storage *addr, uint16_t port,
                     bool udp);

/*
 * Make the connection described by <o> leave from <client>'s address (any
 * port): copy it, unmapped, into <src>, point o->src4 or o->src6 at <src>
 * and set o->transparent (a tproxy port's spoof_client_ip).  <src> must
 * live until the connect starts.
 */
struct comm_connect_opts;
void nat_spoof_source(const struct sockaddr_storage *client,
                      struct sockaddr_storage *src,
                      struct comm_connect_opts *o);

/*
 * Replace the table of backends by the NULL-terminated <list> (for tests;
 * NULL restores the built-in table) and forget cached probe and init
 * results.  Not thread-safe.
 */
void nat_set_backends(const struct nat_backend *const *list);

/* The built-in backends (defined only where built; see nat.c). */
extern const struct nat_backend nat_netfilter;
extern const struct nat_backend nat_tproxy;
extern const struct nat_backend nat_pf;
extern const struct nat_backend nat_ipfw;

/* ---- pf request building (nat_pf.c), compiled on every platform ---- */

/* pf's direction values (enum { PF_INOUT, PF_IN, PF_OUT } in pfvar.h). */
#define NAT_PF_IN  1
#define NAT_PF_OUT 2

/* A mirror of struct pfioc_natlook's fields that skua fills and reads. */
struct nat_pf_natlook {
    unsigned char saddr[16], daddr[16];     /* pf_addr: v4 in the first 4 */
    unsigned char rsaddr[16], rdaddr[16];
    uint16_t sport, dport, rsport, rdport;  /* network byte order */
    sa_family_t af;
    uint8_t proto;
    uint8_t direction;
};

/*
 * Fill <nl> for the DIOCNATLOOK of a TCP connection from <peer> to
 * <local> (skua's address after the rdr): source = the client, destination
 * = skua, direction PF_OUT (the state pf keeps for a rdr is looked up
 * from the outbound side; PF_IN finds nothing).  Return 0, or -1 if the
 * addresses are not of one inet family.
 */
int nat_pf_fill(struct nat_pf_natlook *nl, const struct sockaddr_storage *peer,
                const struct sockaddr_storage *local);

/* Read the answer (rdaddr, rdport) of <nl> into <orig>.  Return 0 or -1. */
int nat_pf_result(const struct nat_pf_natlook *nl,
                  struct sockaddr_storage *orig);

#endif
