/*
 * acl.h -- Squid-style access control lists and access rules.
 *
 * An acl is a named set of values of one type (src, dst, port, ...); an
 * access list is an ordered list of allow/deny rules whose conditions are
 * acls, each optionally negated.  Checking is a pure function of the
 * connection record and the configuration; it never does I/O.  When a rule
 * needs the destination's addresses (dst) and the caller has not resolved
 * them yet, the check says so and the caller resolves and checks again, as
 * Squid's slow ACLs do.
 */
#ifndef SK_ACL_H
#define SK_ACL_H

#include <stdio.h>
#include <sys/socket.h>

#include "sk_common.h"

struct rec;
struct conf;
struct sk_arena;
struct acl;
struct acl_access;

enum acl_answer {
    ACL_ALLOWED = 0,
    ACL_DENIED,
    ACL_NEED_DNS        /* resolve rec->dst_host and check again */
};

/* Resolved destination addresses passed to a check (may be empty). */
struct acl_dst {
    const struct sockaddr_storage *addrs;
    unsigned n;
    bool resolved;      /* false: not looked up yet */
};

/*
 * Check <rec> against the access list <list>: the first rule whose acls all
 * match decides.  With no rule matching, the answer is the opposite of the
 * last rule's action (Squid's implicit last rule); an empty list denies.
 * <dst> may be NULL when nothing has been resolved.
 */
enum acl_answer acl_check(const struct acl_access *list,
                          const struct rec *rec, const struct acl_dst *dst);

/*
 * tcp_outgoing_address: the first IPv4 and the first IPv6 address of
 * <list> whose acl (if any) allows <rec> going to <dst>, into *<src4> and
 * *<src6> unless already set (each left as it was when none matches).
 */
struct conf_outgoing;
void acl_outgoing(const struct conf_outgoing *list, const struct rec *rec,
                  const struct acl_dst *dst,
                  const struct sockaddr_storage **src4,
                  const struct sockaddr_storage **src6);

/*
 * Parse an "acl NAME TYPE [-i] VALUE..." line (the arguments after "acl"
 * as <argv>/<argc>) into <conf>.  Repeated lines with one name append
 * values; a type change is an error.  Return 0, or -1 with *<err> set to a
 * malloc'd reason (without file:line, which the caller adds).
 */
int acl_parse_line(struct conf *conf, int argc, char **argv, char **err);

/*
 * Parse "allow|deny [!]ACL..." into a new rule appended to *<list>.
 * Return 0, or -1 with *<err> set (e.g. an undefined acl name).
 */
int acl_parse_access(struct conf *conf, struct acl_access **list, int argc,
                     char **argv, char **err);

/*
 * Find an acl by name, or NULL.  The predefined "all" (matching
 * everything) is found without being defined, unless <conf> defines its own.
 */
struct acl *acl_find(const struct conf *conf, const char *name);

/* Release what the acls of <conf> hold outside its arena (PCRE2 codes). */
void acl_conf_free(struct conf *conf);

/*
 * Write every acl defined in <conf> to <fp> as "acl NAME TYPE VALUE..."
 * lines that parse back to the same acls (the predefined "all" is left
 * out).
 */
void acl_dump(const struct conf *conf, FILE *fp);

/*
 * Write the rules of <list> to <fp> as "<directive> allow|deny [!]NAME..."
 * lines, one per rule; nothing for an empty list.
 */
void acl_access_dump(const struct acl_access *list, const char *directive,
                     FILE *fp);

#endif
