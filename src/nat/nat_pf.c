/*
 * nat_pf.c -- the pf backend (FreeBSD, OpenBSD, macOS): ask /dev/pf with
 * DIOCNATLOOK which destination a "rdr" (rdr-to) rule rewrote.
 *
 * The request is built from the accepted socket's addresses: source = the
 * client, destination = skua's listening address, direction PF_OUT.  PF_IN
 * is the classic mistake: the state of a redirected connection is keyed on
 * the translated (outbound-side) addresses, so PF_IN finds nothing and
 * every lookup fails with ENOENT.  The device is opened once and reopened
 * after any error other than ENOENT (pf reloaded, device revoked).  On
 * OpenBSD, divert-to delivers connections untranslated like TPROXY: when
 * the state lookup finds nothing, the socket's own local address is the
 * original destination.
 *
 * The request building (nat_pf_fill, nat_pf_result) works on a mirror of
 * struct pfioc_natlook and is compiled everywhere so the unit tests run on
 * Linux; only the ioctl is under HAVE_NAT_PF.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "nat/nat.h"

/* Copy the address bytes of <sa> into <pfa> (16 bytes, v4 first 4). */
static void
pf_addr_set(unsigned char *pfa, const struct sockaddr_storage *sa,
            uint16_t *port)
{
    memset(pfa, 0, 16);
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

        memcpy(pfa, &s4->sin_addr, 4);
        *port = s4->sin_port;
    } else {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

        memcpy(pfa, &s6->sin6_addr, 16);
        *port = s6->sin6_port;
    }
}

int
nat_pf_fill(struct nat_pf_natlook *nl, const struct sockaddr_storage *peer,
            const struct sockaddr_storage *local)
{
    memset(nl, 0, sizeof(*nl));
    if (peer->ss_family != local->ss_family ||
        (peer->ss_family != AF_INET && peer->ss_family != AF_INET6))
        return -1;
    pf_addr_set(nl->saddr, peer, &nl->sport);
    pf_addr_set(nl->daddr, local, &nl->dport);
    nl->af = peer->ss_family;
    nl->proto = IPPROTO_TCP;
    nl->direction = NAT_PF_OUT;
    return 0;
}

int
nat_pf_result(const struct nat_pf_natlook *nl, struct sockaddr_storage *orig)
{
    memset(orig, 0, sizeof(*orig));
    if (nl->af == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)orig;

        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, nl->rdaddr, 4);
        s4->sin_port = nl->rdport;
        return 0;
    }
    if (nl->af == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)orig;

        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, nl->rdaddr, 16);
        s6->sin6_port = nl->rdport;
        return 0;
    }
    return -1;
}

#ifdef HAVE_NAT_PF

#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#include <net/if.h>
#include <net/pfvar.h>

_Static_assert(NAT_PF_OUT == PF_OUT, "pf direction values differ");

static pthread_mutex_t pf_lock = PTHREAD_MUTEX_INITIALIZER;
static int pf_fd = -1;

static int
pf_open_locked(void)
{
    if (pf_fd == -1)
        pf_fd = open("/dev/pf", O_RDONLY | O_CLOEXEC);
    return pf_fd;
}

static int
pf_probe(const struct nat_backend *b)
{
    return access("/dev/pf", F_OK);
}

static int
pf_init(const struct nat_backend *b)
{
    int fd;

    pthread_mutex_lock(&pf_lock);
    fd = pf_open_locked();
    pthread_mutex_unlock(&pf_lock);
    return fd == -1 ? -1 : 0;
}

/* Copy the mirror <m> into the real request <nl> and back. */
static void
pf_to_ioc(const struct nat_pf_natlook *m, struct pfioc_natlook *nl)
{
    memset(nl, 0, sizeof(*nl));
    memcpy(&nl->saddr, m->saddr, 16);
    memcpy(&nl->daddr, m->daddr, 16);
    nl->sport = m->sport;
    nl->dport = m->dport;
    nl->af = m->af;
    nl->proto = m->proto;
    nl->direction = m->direction;
}

static int
pf_lookup(const struct nat_backend *b, int fd,
          const struct sockaddr_storage *peer,
          const struct sockaddr_storage *local,
          struct sockaddr_storage *orig)
{
    struct nat_pf_natlook m;
    struct pfioc_natlook nl;
    int rc, e;

    if (nat_pf_fill(&m, peer, local) == -1) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    pf_to_ioc(&m, &nl);
    pthread_mutex_lock(&pf_lock);
    rc = pf_open_locked() == -1 ? -1 : ioctl(pf_fd, DIOCNATLOOK, &nl);
    e = errno;
    if (rc == -1 && e != ENOENT && pf_fd != -1) {
        close(pf_fd);
        pf_fd = -1;
    }
    pthread_mutex_unlock(&pf_lock);
    if (rc == -1) {
#ifdef __OpenBSD__
        if (e == ENOENT) {
            socklen_t len = sizeof(*orig);

            return getsockname(fd, (struct sockaddr *)orig, &len);
        }
#endif
        errno = e;
        return -1;
    }
    memcpy(m.rdaddr, &nl.rdaddr, 16);
    m.rdport = nl.rdport;
    return nat_pf_result(&m, orig);
}

static void
pf_fini(const struct nat_backend *b)
{
    pthread_mutex_lock(&pf_lock);
    if (pf_fd != -1)
        close(pf_fd);
    pf_fd = -1;
    pthread_mutex_unlock(&pf_lock);
}

const struct nat_backend nat_pf = {
    .name = "pf",
    .flags = NAT_F_IPV6 | NAT_F_NEEDS_ROOT,
    .probe = pf_probe,
    .init = pf_init,
    .lookup = pf_lookup,
    .fini = pf_fini,
};

#endif /* HAVE_NAT_PF */
