/*
 * conf.h -- the configuration snapshot and its life cycle.
 *
 * A loaded configuration is immutable and reference-counted.  Reload parses
 * a new snapshot and swaps it in; connections keep a reference to the one
 * they started on until they finish.  The directive table
 * (conf_directives.def) is the only definition of a directive: it generates
 * the scalar fields below, the parser dispatch, the defaults, the dump that
 * `skua -k parse` prints and doc/skua.conf.documented.
 *
 * Field naming rule: each simple directive becomes a field with the
 * directive's own name and a type given by its slot:
 *   FLAG -> bool, TIME -> sk_msec_t (ms), SIZE -> uint64_t (bytes),
 *   INT -> int, STRING -> char * (NULL when unset), ENUM -> int.
 * STRING directives that accept "none" (pid_filename, hosts_file) hold
 * the string "none" for it.
 */
#ifndef SK_CONF_H
#define SK_CONF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "sk_common.h"

struct acl_access;
struct acl;
struct log_format;
struct sk_arena;

#define CONF_MAGIC 0x5c0f1a7eu

/* What a listening port speaks. */
enum conf_port_kind {
    CONF_PORT_HTTP = 0,         /* http_port */
    CONF_PORT_SOCKS,            /* socks_port */
    CONF_PORT_HTTPS,            /* https_port intercept|tproxy: TLS peeked
                                   at and spliced, never decrypted */
    CONF_PORT_TCP,              /* tcp_port: any TCP, sniffed, relayed */
    CONF_PORT_UDP               /* udp_port tproxy: UDP flows */
};

/* Listener options. */
#define CONF_PORT_F_NAMED 0x1u
#define CONF_PORT_F_SOCKS 0x2u  /* http_port that also serves SOCKS, told
                                   apart by the first byte */
#define CONF_PORT_F_INTERCEPT 0x4u  /* NAT'd connections (REDIRECT, DNAT,
                                       rdr-to, fwd): intercept_backend */
#define CONF_PORT_F_TPROXY 0x8u     /* TPROXY'd: transparent listener */
#define CONF_PORT_F_SSL_BUMP 0x10u  /* https_port ssl-bump (implied: a
                                       TLS port always peeks) */
#define CONF_PORT_F_TLS_OPTS 0x20u  /* https_port had certificate options,
                                       unused without decryption */

/* ssl_bump actions (no decryption: bump is refused at parse time). */
enum conf_bump_action {
    CONF_BUMP_PEEK = 0,         /* read the ClientHello, decide later */
    CONF_BUMP_STARE,            /* the same without decryption */
    CONF_BUMP_SPLICE,           /* relay the bytes untouched */
    CONF_BUMP_TERMINATE         /* close the connection */
};

/* on_unsupported_protocol actions. */
enum conf_unsup_action {
    CONF_UNSUP_RESPOND = 0,     /* answer an error (a reset on a TLS
                                   port) */
    CONF_UNSUP_TUNNEL           /* relay the bytes to the original
                                   destination */
};

/* One "DIRECTIVE ACTION [!]ACL..." rule: ssl_bump,
 * on_unsupported_protocol. */
struct conf_action_rule {
    struct conf_action_rule *next;
    int action;                         /* enum conf_bump_action, ... */
    struct acl_access *acl;             /* one "allow ACL..." rule: does
                                           this rule match? */
    const char *file;
    int line;
};

/* SOCKS versions a port accepts (versions=). */
#define CONF_SOCKS_V4 0x1u
#define CONF_SOCKS_V4A 0x2u
#define CONF_SOCKS_V5 0x4u
#define CONF_SOCKS_V_ALL 0x7u

/* SOCKS5 authentication methods in order of preference: RFC 1928 method
 * codes (0x00 none, 0x02 username/password). */
struct conf_socks_auth {
    unsigned char m[4];
    unsigned n;
};

/* One listening port: an http_port or socks_port line (one list, in
 * configuration order, so two lines can never claim one address). */
struct conf_http_port {
    struct conf_http_port *next;
    int kind;                           /* enum conf_port_kind */
    struct sockaddr_storage addr;       /* wildcard addr when none given */
    char *name;                         /* name=, default "ADDR:PORT" as
                                           written */
    char *spec;                         /* directive and arguments,
                                           verbatim: identical specs
                                           across reloads keep the
                                           listening sockets */
    unsigned flags;
    unsigned socks_versions;            /* CONF_SOCKS_V*: socks_port, or
                                           http_port with socks */
    struct conf_socks_auth socks_auth;  /* n == 0: socks_auth_methods */
    const char *file;                   /* where it was defined */
    int line;
};

/* forwarded_for values. */
enum conf_fwd_for {
    CONF_FWD_ON = 0,
    CONF_FWD_OFF,           /* "unknown" instead of the address */
    CONF_FWD_TRANSPARENT,   /* leave the header as it came */
    CONF_FWD_DELETE,        /* remove the header */
    CONF_FWD_TRUNCATE       /* replace with just the client address */
};

/* One access_log line. */
struct conf_access_log {
    struct conf_access_log *next;
    char *dest;                         /* "stdio:/path", "stdio:-",
                                           "syslog[:facility.priority]",
                                           "none" (then no entry exists) */
    const struct log_format *format;    /* never NULL; owned by the conf */
    struct acl_access *acl;             /* log only when this allows; may
                                           be NULL (log everything) */
    int fd;                             /* set by access_log_open(); -1 */
};

/* One tcp_outgoing_address line. */
struct conf_outgoing {
    struct conf_outgoing *next;
    struct sockaddr_storage addr;
    struct acl_access *acl;             /* may be NULL: always */
};

struct conf {
    unsigned magic;
    _Atomic unsigned refs;
    struct sk_arena *arena;             /* everything below lives here */
    char *path;                         /* the main file */

    /* scalar directives: one field each, generated from the table */
#define CONF_FIELD(name, ctype) ctype name;
#include "conf/conf_fields.h"
#undef CONF_FIELD

    /* list directives */
    struct conf_http_port *http_ports;
    struct acl *acls;                   /* all acl definitions, by name */
    struct acl_access *http_access;     /* NULL: no rules (deny all) */
    struct conf_access_log *access_logs;
    struct log_format *logformats;      /* defined with logformat */
    struct conf_outgoing *tcp_outgoing;
    struct acl_access *spoof_client_ip; /* NULL: allow (tproxy ports) */
    char **dns_nameservers;             /* NULL-terminated; NULL: use
                                           /etc/resolv.conf */
    int forwarded_for;                  /* enum conf_fwd_for */
    /* SOCKS (src/socks/) */
    struct acl_access *socks_access;    /* NULL: no rules (deny all) */
    struct conf_socks_auth socks_auth_methods;
    /* intercepted TLS and TCP (src/tunnel/) */
    struct conf_action_rule *ssl_bump;  /* NULL: peek, then splice */
    struct conf_action_rule *on_unsupported_protocol;   /* NULL: respond */
    struct acl_access *intercept_access;    /* NULL: allow */
};

/*
 * Parse the configuration file <path> (and what it includes) into a new
 * snapshot with one reference.  On error return NULL and set *<err> to a
 * malloc'd "file:line: reason" message that the caller frees.
 */
struct conf *conf_load(const char *path, char **err);

/* Parse a configuration held in memory; <name> stands for the file name. */
struct conf *conf_load_string(const char *text, const char *name, char **err);

/*
 * Allow or forbid reading files other than the one passed to conf_load():
 * include and "/path" parameters fail with an error while <allowed> is
 * false (the fuzzing harness sets this).  Process-wide; default true.
 */
void conf_set_file_access(bool allowed);

/* Take and drop references; the last unref frees the snapshot. */
struct conf *conf_ref(struct conf *c);
void conf_unref(struct conf *c);

/*
 * Write every directive with its effective value, in configuration syntax,
 * to <fp> (what `skua -k parse` prints with -d 2 and above).
 */
void conf_dump(const struct conf *c, FILE *fp);

/*
 * Write the documented reference of every directive (name, syntax, default
 * and help text) to <fp>: <format> is "text" (doc/skua.conf.documented),
 * "man" (the DIRECTIVES section of skua.conf(5)) or "default" (the
 * commented default config).
 */
int conf_write_doc(FILE *fp, const char *format);

#endif
