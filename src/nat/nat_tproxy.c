/*
 * nat_tproxy.c -- the Linux TPROXY backend, and the transparent socket
 * option every platform spells differently.
 *
 * A TPROXY rule hands the connection, unaltered, to a listener that has
 * IP_TRANSPARENT set; the accepted socket's local address (getsockname) is
 * the address the client connected to.  The probe, like Squid's
 * ProbeForTproxy, checks that the kernel lets this process set the option
 * on an IPv4 and an IPv6 socket: IPv6 support is reported, IPv4 required.
 *
 * Not here: the firewall rules and policy routing TPROXY needs (see
 * helpers/skua-intercept and doc/interception.md).
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sk_log.h"
#include "nat/nat.h"

int
nat_socket_transparent(int fd, int family)
{
    int on = 1;

#if defined(IP_TRANSPARENT)
    if (family == AF_INET6) {
#ifdef IPV6_TRANSPARENT
        return setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &on, sizeof(on));
#endif
    }
    return setsockopt(fd, SOL_IP, IP_TRANSPARENT, &on, sizeof(on));
#elif defined(IP_BINDANY)
    if (family == AF_INET6)
        return setsockopt(fd, IPPROTO_IPV6, IPV6_BINDANY, &on, sizeof(on));
    return setsockopt(fd, IPPROTO_IP, IP_BINDANY, &on, sizeof(on));
#elif defined(SO_BINDANY)
    return setsockopt(fd, SOL_SOCKET, SO_BINDANY, &on, sizeof(on));
#else
    (void)fd;
    (void)family;
    (void)on;
    errno = ENOPROTOOPT;
    return -1;
#endif
}

#ifdef HAVE_NAT_TPROXY

/* Whether a socket of <family> accepts the transparent option. */
static bool
tproxy_family_ok(int family)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    if (fd == -1)
        return false;
    ok = nat_socket_transparent(fd, family) == 0;
    close(fd);
    return ok;
}

static int
tproxy_probe(const struct nat_backend *b)
{
    bool v4 = tproxy_family_ok(AF_INET), v6 = tproxy_family_ok(AF_INET6);

    sk_info(SK_SEC_COMM, "TPROXY probe: IPv4 %s, IPv6 %s",
            v4 ? "supported" : "unavailable",
            v6 ? "supported" : "unavailable");
    return v4 ? 0 : -1;
}

static int
tproxy_lookup(const struct nat_backend *b, int fd,
              const struct sockaddr_storage *peer,
              const struct sockaddr_storage *local,
              struct sockaddr_storage *orig)
{
    socklen_t len = sizeof(*orig);

    return getsockname(fd, (struct sockaddr *)orig, &len);
}

const struct nat_backend nat_tproxy = {
    .name = "tproxy",
    .flags = NAT_F_IPV6 | NAT_F_NEEDS_ROOT | NAT_F_TRANSPARENT,
    .probe = tproxy_probe,
    .init = NULL,
    .lookup = tproxy_lookup,
    .fini = NULL,
};

#endif /* HAVE_NAT_TPROXY */
