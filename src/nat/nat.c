/*
 * nat.c -- the table of original-destination backends and the choice
 * among them (see nat.h).  This is the only file that knows which
 * backends exist; each backend lives in its own nat_*.c file whose body is
 * compiled only where configure found its headers (HAVE_NAT_*).
 *
 * Not here: any backend's mechanism, or what a caller does with the
 * destination.
 */
#include "config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sk_str.h"
#include "comm/comm_connect.h"
#include "conf/conf.h"
#include "nat/nat.h"

static const struct nat_backend *const nat_builtin[] = {
#ifdef HAVE_NAT_NETFILTER
    &nat_netfilter,
#endif
#ifdef HAVE_NAT_PF
    &nat_pf,
#endif
#ifdef HAVE_NAT_IPFW
    &nat_ipfw,
#endif
#ifdef HAVE_NAT_TPROXY
    &nat_tproxy,
#endif
    NULL
};

#define NAT_MAX_BACKENDS 16

/* Per table slot: 0 not probed yet, 1 usable, -1 not usable. */
static pthread_mutex_t nat_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct nat_backend *const *nat_table = nat_builtin;
static int nat_probed[NAT_MAX_BACKENDS];
static bool nat_inited[NAT_MAX_BACKENDS];

void
nat_set_backends(const struct nat_backend *const *list)
{
    nat_table = list != NULL ? list : nat_builtin;
    memset(nat_probed, 0, sizeof(nat_probed));
    memset(nat_inited, 0, sizeof(nat_inited));
}

const struct nat_backend *
nat_backend_by_name(const char *name)
{
    for (size_t i = 0; nat_table[i] != NULL; i++)
        if (strcmp(nat_table[i]->name, name) == 0)
            return nat_table[i];
    return NULL;
}

/* Index of <b> in the table, or -1. */
static int
nat_index(const struct nat_backend *b)
{
    for (int i = 0; nat_table[i] != NULL && i < NAT_MAX_BACKENDS; i++)
        if (nat_table[i] == b)
            return i;
    return -1;
}

/* Probe <b> once; return whether it is usable.  nat_lock held. */
static bool
nat_usable_locked(const struct nat_backend *b)
{
    int i = nat_index(b);

    if (i == -1)
        return false;
    if (nat_probed[i] == 0)
        nat_probed[i] = b->probe(b) == 0 ? 1 : -1;
    return nat_probed[i] == 1;
}

const struct nat_backend *
nat_backend_auto(bool transparent)
{
    const struct nat_backend *found = NULL;

    pthread_mutex_lock(&nat_lock);
    for (size_t i = 0; nat_table[i] != NULL; i++) {
        const struct nat_backend *b = nat_table[i];

        if (((b->flags & NAT_F_TRANSPARENT) != 0) != transparent)
            continue;
        if (nat_usable_locked(b)) {
            found = b;
            break;
        }
    }
    pthread_mutex_unlock(&nat_lock);
    return found;
}

const struct nat_backend *
nat_select(const char *setting, bool transparent, char *err, size_t errlen)
{
    const struct nat_backend *b;
    const char *name = transparent ? "tproxy" : setting;
    char names[128];
    int i, rc = 0;

    if (!transparent && (name == NULL || strcmp(name, "auto") == 0)) {
        b = nat_backend_auto(false);
        if (b == NULL) {
            snprintf(err, errlen, "no NAT lookup backend works on this "
                     "system (built in: %s)",
                     nat_backends_list(names, sizeof(names)));
            return NULL;
        }
    } else {
        b = nat_backend_by_name(name);
        if (b == NULL) {
            snprintf(err, errlen, "the %s backend is not built into this "
                     "skua (built in: %s)", name,
                     nat_backends_list(names, sizeof(names)));
            return NULL;
        }
    }
    pthread_mutex_lock(&nat_lock);
    if (!nat_usable_locked(b)) {
        pthread_mutex_unlock(&nat_lock);
        snprintf(err, errlen, "the %s backend does not work on this system",
                 b->name);
        return NULL;
    }
    i = nat_index(b);
    if (!nat_inited[i]) {
        rc = b->init != NULL ? b->init(b) : 0;
        nat_inited[i] = rc == 0;
    }
    pthread_mutex_unlock(&nat_lock);
    if (rc == -1) {
        snprintf(err, errlen, "the %s backend cannot start: %s", b->name,
                 strerror(errno));
        return NULL;
    }
    return b;
}

int
nat_lookup(const struct nat_backend *b, int fd,
           const struct sockaddr_storage *peer,
           const struct sockaddr_storage *local,
           struct sockaddr_storage *orig)
{
    struct sockaddr_storage p, l;

    sk_addr_unmap(peer, &p);
    sk_addr_unmap(local, &l);
    memset(orig, 0, sizeof(*orig));
    if (b->lookup(b, fd, &p, &l, orig) == -1)
        return -1;
    sk_addr_unmap(orig, orig);
    if (orig->ss_family != AF_INET && orig->ss_family != AF_INET6) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    return 0;
}

char *
nat_backends_list(char *buf, size_t len)
{
    size_t n = 0;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; nat_table[i] != NULL; i++) {
        int w = snprintf(buf + n, len - n, "%s%s", n > 0 ? " " : "",
                         nat_table[i]->name);

        if (w < 0 || (size_t)w >= len - n) {
            buf[n] = '\0';     /* whole names only */
            break;
        }
        n += (size_t)w;
    }
    return buf;
}

void
nat_shutdown(void)
{
    pthread_mutex_lock(&nat_lock);
    for (int i = 0; nat_table[i] != NULL && i < NAT_MAX_BACKENDS; i++) {
        if (nat_inited[i] && nat_table[i]->fini != NULL)
            nat_table[i]->fini(nat_table[i]);
        nat_inited[i] = false;
    }
    pthread_mutex_unlock(&nat_lock);
}

/* ---- loops ---- */

/*
 * True if <sa> is an address of this host: loopback (all of 127/8, ::1)
 * or an address of one of its interfaces (compared without the IPv6
 * scope, which a SOCKS request does not carry).  Not a bind() test: with
 * net.ipv4.ip_nonlocal_bind every address binds, and an IPv6 link-local
 * address without its scope binds none.
 */
static bool
nat_addr_is_local(const struct sockaddr *sa)
{
    struct ifaddrs *ifs, *i;
    bool found = false;

    if (sa->sa_family == AF_INET &&
        (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) ==
        127)
        return true;
    if (sa->sa_family == AF_INET6 &&
        IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr))
        return true;
    if (getifaddrs(&ifs) == -1)
        return false;
    for (i = ifs; i != NULL && !found; i = i->ifa_next)
        found = i->ifa_addr != NULL &&
                (i->ifa_addr->sa_family == AF_INET ||
                 i->ifa_addr->sa_family == AF_INET6) &&
                sk_addr_eq(i->ifa_addr, sa);
    freeifaddrs(ifs);
    return found;
}

bool
nat_is_own_port(const struct conf *conf, const struct sockaddr_storage *addr,
                uint16_t port, bool udp)
{
    const struct sockaddr *o;
    const struct conf_http_port *p;
    struct sockaddr_storage a, la;

    sk_addr_unmap(addr, &a);
    o = (const struct sockaddr *)&a;
    for (p = conf->http_ports; p != NULL; p = p->next) {
        if ((p->kind == CONF_PORT_UDP) != udp ||
            sk_addr_port((const struct sockaddr *)&p->addr) != port)
            continue;
        sk_addr_unmap(&p->addr, &la);
        if (sk_addr_is_any((const struct sockaddr *)&la)
                ? nat_addr_is_local(o)
                : sk_addr_eq((const struct sockaddr *)&la, o))
            return true;
    }
    return false;
}

bool
nat_dst_is_listener(const struct conf *conf,
                    const struct sockaddr_storage *dst)
{
    return nat_is_own_port(conf, dst,
                           sk_addr_port((const struct sockaddr *)dst), false);
}

bool
nat_dst_is_udp_listener(const struct conf *conf,
                        const struct sockaddr_storage *dst)
{
    return nat_is_own_port(conf, dst,
                           sk_addr_port((const struct sockaddr *)dst), true);
}

void
nat_spoof_source(const struct sockaddr_storage *client,
                 struct sockaddr_storage *src, struct comm_connect_opts *o)
{
    sk_addr_unmap(client, src);
    if (src->ss_family == AF_INET) {
        ((struct sockaddr_in *)src)->sin_port = 0;
        o->src4 = src;
    } else {
        ((struct sockaddr_in6 *)src)->sin6_port = 0;
        o->src6 = src;
    }
    o->transparent = true;
}
