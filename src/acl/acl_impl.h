/*
 * acl_impl.h -- the inside of acls and access rules, shared by acl.c (the
 * definitions, the access lists and their evaluation) and acl_types.c (one
 * parser and one matcher per acl type).
 *
 * Nothing outside src/acl/ includes this file: the rest of skua holds only
 * opaque pointers.  Everything here lives in the configuration's arena,
 * except compiled PCRE2 patterns, which acl_release() frees.
 */
#ifndef SK_ACL_IMPL_H
#define SK_ACL_IMPL_H

#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "acl/acl.h"

#define ACL_MAGIC 0xac15e7a1u
#define ACL_ACCESS_MAGIC 0xac1acce5u

/* The answer of one acl for one record. */
enum acl_match {
    ACL_M_NO = 0,
    ACL_M_YES,
    ACL_M_NEED          /* depends on addresses not resolved yet */
};

/* One value of an acl, in the form its type matches against. */
struct acl_item {
    const char *text;           /* as written, for the dump; NULL for the
                                   second half of a value that needed two
                                   items */
    union {
        struct {                /* src, dst, localip: all addresses in
                                   IPv6 form, IPv4 as ::ffff:a.b.c.d */
            uint8_t lo[16];     /* (addr & mask) in [lo, hi] */
            uint8_t hi[16];
            uint8_t mask[16];
            bool plain;         /* mask all ones: a range the index
                                   sorts */
        } ip;
        struct {
            uint16_t lo, hi;
        } port;
        const char *str;        /* method, proto, myportname (dstdomain
                                   keeps only the text: its index holds
                                   the names) */
        struct {
            pcre2_code *code;   /* outside the arena; NULL once released */
            bool icase;
        } re;
    } u;
};

/*
 * A dstdomain name in the acl's hash index (open addressing, linear
 * probing, at most half full).
 */
struct acl_dom_slot {
    const char *name;           /* lower case, no leading or trailing dot;
                                   NULL: an empty slot */
    size_t len;
    bool sub;                   /* some value was ".name": subdomains match
                                   too */
};

/* An address range, both ends included, in 16-byte form. */
struct acl_iprange {
    uint8_t lo[16];
    uint8_t hi[16];
};

/* The search index of an address acl, built by acl_index_ip(). */
struct acl_ipx {
    struct acl_iprange *ranges; /* sorted by lo, disjoint */
    unsigned n;
    unsigned *odd;              /* items with other masks, scanned */
    unsigned nodd;
};

struct acl;

/*
 * Parse one <value> of <acl> and append the item(s) it makes, allocated
 * from <arena>; <icase> is the -i state for regex types.  Return 0, or -1
 * with *<err> set to a malloc'd reason.
 */
typedef int acl_parse_f(struct sk_arena *arena, struct acl *acl,
                        const char *value, bool icase, char **err);

/* Match <rec> (and, for dst, the resolved <dst>) against <acl>. */
typedef enum acl_match acl_match_f(const struct acl *acl,
                                   const struct rec *rec,
                                   const struct acl_dst *dst);

/*
 * Build or rebuild the search index of <acl> over all its items, in
 * <arena>, and set acl->indexed to acl->n.
 */
typedef void acl_index_f(struct sk_arena *arena, struct acl *acl);

#define ACL_K_REGEX 0x1u        /* takes -i and +i among its values */
#define ACL_K_DOMAIN 0x2u       /* takes -n (no lookups; always so here) */
#define ACL_K_NOVALUES 0x4u     /* takes no values at all */
#define ACL_K_SNI 0x8u          /* takes Squid's --client-requested,
                                   --server-provided, --consensus (one
                                   name is known here: all the same) */

/* One acl type: the table in acl_types.c lists them all. */
struct acl_kind {
    const char *name;           /* the type as written in "acl NAME TYPE" */
    unsigned flags;             /* ACL_K_* */
    acl_parse_f *parse;         /* required unless ACL_K_NOVALUES */
    acl_match_f *match;         /* required */
    acl_index_f *index;         /* optional: run when a rule first refers
                                   to the acl and after values are added;
                                   the matcher scans items[indexed..n) */
};

struct acl {
    unsigned magic;             /* ACL_MAGIC */
    struct acl *next;           /* next definition, in config order */
    const char *name;
    const struct acl_kind *kind;
    struct acl_item *items;     /* in the order written */
    unsigned n;
    unsigned cap;
    struct acl_dom_slot *dom;   /* dstdomain: the index of the names */
    unsigned dom_size;          /* a power of two, or 0 */
    unsigned dom_used;
    struct acl_ipx *ipx;        /* src, dst, localip: NULL until indexed */
    unsigned indexed;           /* items[0..indexed) are in the index */
};

/* One condition of a rule. */
struct acl_term {
    const struct acl *acl;
    bool negate;
};

/* One allow/deny rule; a list is the rules linked in order. */
struct acl_access {
    unsigned magic;             /* ACL_ACCESS_MAGIC */
    struct acl_access *next;
    bool allow;
    unsigned n;
    struct acl_term terms[];
};

/* The predefined acl "all", matching everything. */
extern struct acl acl_all;

/* Return the type called <name> (case-sensitive), or NULL. */
const struct acl_kind *acl_kind_find(const char *name);

/* The address types (acl_ip.c). */
acl_parse_f acl_parse_ip;
acl_match_f acl_match_src;
acl_match_f acl_match_dst;
acl_match_f acl_match_localip;
acl_index_f acl_index_ip;

/* Append a zeroed item to <acl>, growing its array in <arena>. */
struct acl_item *acl_item_add(struct sk_arena *arena, struct acl *acl);

/*
 * Free what <acl> (a struct acl *, as void * to serve as an arena cleanup)
 * holds outside the arena.  Calling it again does nothing.
 */
void acl_release(void *acl);

/* Set *<err> to a malloc'd message made from <fmt>; return -1. */
int acl_errorf(char **err, const char *fmt, ...) SK_PRINTF(2, 3);

#endif
