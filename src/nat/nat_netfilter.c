/*
 * nat_netfilter.c -- the Linux netfilter backend: the original destination
 * of a connection that a REDIRECT or DNAT rule sent to skua, read back from
 * conntrack with getsockopt(SO_ORIGINAL_DST) (IPv4) or
 * getsockopt(IP6T_SO_ORIGINAL_DST) (IPv6).
 *
 * Not for TPROXY listeners (nat_tproxy.c): a TPROXY'd connection is not
 * translated, so conntrack holds no NAT mapping for it (HAProxy skips
 * SO_ORIGINAL_DST on transparent sockets for that reason).
 */
#include "config.h"

#include "nat/nat.h"

#ifdef HAVE_NAT_NETFILTER

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>
#include <linux/netfilter_ipv4.h>

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80     /* linux/netfilter_ipv6/ip6_tables.h */
#endif

/* Usable when conntrack's NAT helpers are in the kernel; a failed probe
 * only means "auto" tries the next backend. */
static int
netfilter_probe(const struct nat_backend *b)
{
    return access("/proc/net/nf_conntrack", F_OK) == 0 ||
           access("/proc/sys/net/netfilter", F_OK) == 0 ? 0 : -1;
}

static int
netfilter_lookup(const struct nat_backend *b, int fd,
                 const struct sockaddr_storage *peer,
                 const struct sockaddr_storage *local,
                 struct sockaddr_storage *orig)
{
    socklen_t len = sizeof(*orig);

    /* An IPv4 client of a dual-stack IPv6 listener has a conntrack entry
     * of the IPv4 family: the kernel answers SOL_IP on such a socket. */
    if (local->ss_family == AF_INET)
        return getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, orig, &len);
    if (local->ss_family == AF_INET6)
        return getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, orig, &len);
    errno = EAFNOSUPPORT;
    return -1;
}

const struct nat_backend nat_netfilter = {
    .name = "netfilter",
    .flags = NAT_F_IPV6,
    .probe = netfilter_probe,
    .init = NULL,
    .lookup = netfilter_lookup,
    .fini = NULL,
};

#endif /* HAVE_NAT_NETFILTER */
