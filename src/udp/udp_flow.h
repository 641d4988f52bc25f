/*
 * udp_flow.h -- the pure part of UDP interception (udp_port tproxy): a
 * flow's key, its hash and comparison, and which idle timeout applies.
 *
 * A flow is one client address and port talking to one original
 * destination address and port.  Keys are built from plain AF_INET or
 * AF_INET6 addresses (IPv4-mapped ones are converted first), so one flow
 * has one key whichever socket its datagram arrived on.
 *
 * What this file deliberately does not do: touch sockets, events or the
 * configuration snapshot (udp_tproxy.c does), so it is unit-tested alone.
 */
#ifndef SK_UDP_FLOW_H
#define SK_UDP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sk_common.h"

/* A flow's identity: every byte is set (padding too), so keys compare and
 * hash as plain memory. */
struct udp_flow_key {
    uint8_t family;             /* AF_INET or AF_INET6 */
    uint8_t pad[3];
    uint16_t cport, dport;      /* host byte order */
    uint8_t caddr[16];          /* client; IPv4 in the first 4 bytes */
    uint8_t daddr[16];          /* original destination */
};

/*
 * Fill <k> for the datagram from <client> to <dst>.  Either may be an
 * IPv4-mapped IPv6 address.  Return 0, or -1 if an address is of no inet
 * family or the two are of different families (then <k> is unusable).
 */
int udp_flow_key_set(struct udp_flow_key *k,
                     const struct sockaddr_storage *client,
                     const struct sockaddr_storage *dst);

/* Write the client (or, with <dst> set, the destination) of <k> as a
 * socket address into <out>. */
void udp_flow_key_addr(const struct udp_flow_key *k, bool dst,
                       struct sockaddr_storage *out);

/* True if <a> and <b> name the same flow. */
bool udp_flow_key_eq(const struct udp_flow_key *a,
                     const struct udp_flow_key *b);

/*
 * Hash <k> with the secret <seed> (chosen at random per table, so that
 * clients cannot aim their ports at one bucket).  Return the hash.
 */
uint32_t udp_flow_hash(const struct udp_flow_key *k, uint64_t seed);

/*
 * The idle timeout of a flow to destination port <dport>: <dns_ms> for
 * port 53 (one query, one answer), <idle_ms> otherwise.  Return it.
 */
sk_msec_t udp_flow_timeout(uint16_t dport, sk_msec_t idle_ms,
                           sk_msec_t dns_ms);

/*
 * The ICMP "port unreachable" that a host at <k>'s destination would send
 * its client about a <dgram_len>-byte datagram of the flow: ICMP type 3
 * code 3 (IPv4, checksum filled in) or ICMPv6 type 1 code 4 (checksum left
 * 0: a raw ICMPv6 socket computes it), followed by the datagram's IP and
 * UDP headers as the client sent them (RFC 792, RFC 4443 2.4), which is
 * how the client's kernel finds the socket to give ECONNREFUSED.  Written
 * to <out> (at most <cap> bytes; UDP_ICMP_MAX is enough).  Return its
 * length, or 0 if <cap> is too small.  The outer IP header is the
 * sender's (a raw socket bound to the destination address).
 */
#define UDP_ICMP_MAX (8 + 40 + 8)
size_t udp_flow_icmp_unreach(const struct udp_flow_key *k, size_t dgram_len,
                             uint8_t *out, size_t cap);

#endif
