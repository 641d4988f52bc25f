/*
 * nat_ipfw.c -- the FreeBSD ipfw backend: a "fwd" rule delivers the
 * connection to skua's socket without rewriting it, so the original
 * destination is the accepted socket's own local address (getsockname).
 *
 * Not for ipfw's in-kernel NAT (ipfw nat): that rewrites the packets and
 * offers no lookup; use fwd.
 */
#include "config.h"

#include "nat/nat.h"

#ifdef HAVE_NAT_IPFW

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static int
ipfw_probe(const struct nat_backend *b)
{
    return 0;
}

static int
ipfw_lookup(const struct nat_backend *b, int fd,
            const struct sockaddr_storage *peer,
            const struct sockaddr_storage *local,
            struct sockaddr_storage *orig)
{
    socklen_t len = sizeof(*orig);

    return getsockname(fd, (struct sockaddr *)orig, &len);
}

const struct nat_backend nat_ipfw = {
    .name = "ipfw",
    .flags = NAT_F_IPV6,
    .probe = ipfw_probe,
    .init = NULL,
    .lookup = ipfw_lookup,
    .fini = NULL,
};

#endif /* HAVE_NAT_IPFW */
