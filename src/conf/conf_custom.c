/*
 * conf_custom.c -- parsers of the directives that are more than one
 * scalar: http_port, acl, http_access, tcp_outgoing_address, logformat,
 * access_log, dns_nameservers, and the debug_options validator.
 *
 * They build the lists of struct conf in its arena.  The meaning of acls
 * and log formats belongs to src/acl and src/log; this file only hands
 * them the arguments and puts "directive: " in front of their errors.  It
 * opens no socket and no log file: listeners and logs are opened later by
 * their own modules from the snapshot.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sk_arena.h"
#include "sk_log.h"
#include "sk_str.h"
#include "acl/acl.h"
#include "conf/conf_int.h"
#include "log/access_log.h"

/*
 * Report <e>, a malloc'd reason from another module (freed here), as the
 * error of directive <d>, prefixed with its name unless it starts with
 * it already ("acl foo: unknown type 'x'").
 */
static int
conf_foreign_error(struct conf_ctx *ctx, const struct conf_directive *d,
                   char *e)
{
    size_t n = strlen(d->name);
    int rc;

    if (e == NULL)
        rc = conf_error(ctx, "%s: invalid arguments", d->name);
    else if (strncmp(e, d->name, n) == 0 && (e[n] == ':' || e[n] == ' '))
        rc = conf_error(ctx, "%s", e);
    else
        rc = conf_error(ctx, "%s: %s", d->name, e);
    free(e);
    return rc;
}

/* Parse "allow ACL..." for a directive whose trailing arguments are acls
 * (access_log, tcp_outgoing_address) into *<list>. */
static int
conf_parse_acl_list(struct conf_ctx *ctx, const struct conf_directive *d,
                    struct acl_access **list, int argc, char **argv)
{
    char **v = sk_arena_calloc(ctx->scratch,
                               sizeof(char *) * (size_t)(argc + 2));
    char *e = NULL;

    v[0] = "allow";
    memcpy(v + 1, argv, sizeof(char *) * (size_t)argc);
    if (acl_parse_access(ctx->conf, list, argc + 1, v, &e) == -1)
        return conf_foreign_error(ctx, d, e);
    free(e);
    return 0;
}

/*
 * intercept (Squid's older spelling: transparent) or tproxy on <port>.
 * A port gets its connections either NAT'd or TPROXY'd, never both: the
 * two need different listeners and different origin lookups.
 */
static int
conf_intercept_option(struct conf_ctx *ctx, const struct conf_directive *d,
                      struct conf_http_port *port, const char *opt)
{
    unsigned f = strcmp(opt, "tproxy") == 0 ? CONF_PORT_F_TPROXY
                                            : CONF_PORT_F_INTERCEPT;

    if (port->kind == CONF_PORT_SOCKS)
        return conf_error(ctx, "%s: option '%s' is not for socks_port",
                          d->name, opt);
    /* A NAT'd datagram keeps no original destination a socket could ask
     * for (conntrack has it, but no getsockopt hands it out for UDP). */
    if (port->kind == CONF_PORT_UDP && f != CONF_PORT_F_TPROXY)
        return conf_error(ctx, "%s: '%s' is not possible for UDP (a "
                          "NAT'd datagram has no original destination "
                          "skua could look up): use tproxy", d->name, opt);
    if (port->flags & (CONF_PORT_F_INTERCEPT | CONF_PORT_F_TPROXY) & ~f)
        return conf_error(ctx, "%s: intercept and tproxy exclude each "
                          "other: give each its own port", d->name);
    port->flags |= f;
    return 0;
}

/*
 * Parse "none,userpass" (or space-separated <argv>, joined by the caller)
 * into <a>, in the order written.  Return 0 or -1.
 */
static int
conf_socks_auth_list(const char *s, struct conf_socks_auth *a)
{
    memset(a, 0, sizeof(*a));
    while (*s != '\0') {
        size_t len = strcspn(s, ", ");
        unsigned char m;

        if (len == 4 && strncmp(s, "none", 4) == 0)
            m = 0x00;
        else if (len == 8 && strncmp(s, "userpass", 8) == 0)
            m = 0x02;
        else
            return -1;
        for (unsigned i = 0; i < a->n; i++)
            if (a->m[i] == m)
                return -1;
        a->m[a->n++] = m;
        s += len;
        s += strspn(s, ", ");
    }
    return a->n > 0 ? 0 : -1;
}

/* Parse "4,4a,5" into CONF_SOCKS_V* bits; 0 if malformed. */
static unsigned
conf_socks_versions(const char *s)
{
    unsigned v = 0;

    while (*s != '\0') {
        size_t len = strcspn(s, ",");

        if (len == 1 && s[0] == '4')
            v |= CONF_SOCKS_V4;
        else if (len == 2 && strncmp(s, "4a", 2) == 0)
            v |= CONF_SOCKS_V4A;
        else if (len == 1 && s[0] == '5')
            v |= CONF_SOCKS_V5;
        else
            return 0;
        s += len;
        if (*s == ',')
            s++;
    }
    return v;
}

/*
 * The SOCKS options of socks_port and http_port: socks (http_port only),
 * versions=, auth=.  Return 0 if <opt> was one, -1 otherwise (after
 * conf_error() if it was one but malformed).
 */
static int
conf_socks_port_option(struct conf_ctx *ctx, const struct conf_directive *d,
                       struct conf_http_port *port, const char *opt)
{
    bool is_socks = port->kind == CONF_PORT_SOCKS;

    if (!is_socks && strcmp(opt, "socks") == 0) {
        port->flags |= CONF_PORT_F_SOCKS;
        return 0;
    }
    if (strncmp(opt, "versions=", 9) == 0) {
        port->socks_versions = conf_socks_versions(opt + 9);
        if (port->socks_versions == 0)
            return conf_error(ctx, "%s: versions= takes 4, 4a and 5 "
                              "separated by commas", d->name);
        return 0;
    }
    if (strncmp(opt, "auth=", 5) == 0) {
        if (conf_socks_auth_list(opt + 5, &port->socks_auth) == -1)
            return conf_error(ctx, "%s: auth= takes none and userpass "
                              "separated by commas", d->name);
        return 0;
    }
    return -1;
}

/*
 * The TLS options of https_port: ssl-bump (implied, accepted for Squid's
 * sake) and the certificate options a Squid https_port carries, which
 * only decryption would use.  Return 0 if <opt> was one, -1 otherwise.
 */
static int
conf_https_port_option(struct conf_http_port *port, const char *opt)
{
    static const char *const tls_opts[] = {
        "cert=", "key=", "tls-cert=", "tls-key=", "cafile=", "tls-cafile=",
        "capath=", "dhparams=", "tls-dh=", "cipher=", "options=",
        "tls-options=", "generate-host-certificates",
        "dynamic_cert_mem_cache_size=", "sslflags=", "sslcontext=",
        "tls-min-version=", NULL
    };

    if (strcmp(opt, "ssl-bump") == 0) {
        port->flags |= CONF_PORT_F_SSL_BUMP;
        return 0;
    }
    for (int i = 0; tls_opts[i] != NULL; i++) {
        if (strncmp(opt, tls_opts[i], strlen(tls_opts[i])) == 0) {
            port->flags |= CONF_PORT_F_TLS_OPTS;
            return 0;
        }
    }
    return -1;
}

static int
conf_http_port_option(struct conf_ctx *ctx, const struct conf_directive *d,
                      struct conf_http_port *port, const char *opt)
{
    if (strncmp(opt, "name=", 5) == 0) {
        if (opt[5] == '\0')
            return conf_error(ctx, "%s: empty name=", d->name);
        port->name = sk_arena_strdup(ctx->conf->arena, opt + 5);
        port->flags |= CONF_PORT_F_NAMED;
        return 0;
    }
    if (port->kind == CONF_PORT_HTTPS &&
        conf_https_port_option(port, opt) == 0)
        return 0;
    if ((port->kind == CONF_PORT_HTTP || port->kind == CONF_PORT_SOCKS) &&
        conf_socks_port_option(ctx, d, port, opt) == 0)
        return 0;
    if (ctx->err != NULL)
        return -1;
    if (strcmp(opt, "intercept") == 0 || strcmp(opt, "tproxy") == 0 ||
        strcmp(opt, "transparent") == 0)
        return conf_intercept_option(ctx, d, port, opt);
    return conf_error(ctx, "%s: unknown option '%s'", d->name, opt);
}

/* The kind of port directive <name> opens. */
static int
conf_port_kind(const char *name)
{
    if (strcmp(name, "socks_port") == 0)
        return CONF_PORT_SOCKS;
    if (strcmp(name, "https_port") == 0)
        return CONF_PORT_HTTPS;
    if (strcmp(name, "tcp_port") == 0)
        return CONF_PORT_TCP;
    if (strcmp(name, "udp_port") == 0)
        return CONF_PORT_UDP;
    return CONF_PORT_HTTP;
}

int
conf_parse_http_port(struct conf_ctx *ctx, const struct conf_directive *d,
                     int argc, char **argv)
{
    struct conf *c = ctx->conf;
    struct conf_http_port *port, **tail;
    char buf[SK_ADDRSTRLEN];
    size_t n = 0;

    if (argc == 0)
        return conf_error(ctx, "%s: missing [ADDR:]PORT", d->name);
    port = sk_arena_calloc(c->arena, sizeof(*port));
    /* A bare port listens on [::], which the listener opens dual-stack
     * (IPV6_V6ONLY off) so that IPv4 clients are served too. */
    if (sk_addr_parse(argv[0], "::", true, &port->addr) == -1)
        return conf_error(ctx, "%s: '%s' is not [ADDR:]PORT", d->name,
                          argv[0]);
    port->name = sk_arena_strdup(c->arena, argv[0]);
    port->kind = conf_port_kind(d->name);
    port->socks_versions = CONF_SOCKS_V_ALL;
    for (int i = 1; i < argc; i++)
        if (conf_http_port_option(ctx, d, port, argv[i]) == -1)
            return -1;
    if ((port->kind == CONF_PORT_HTTPS || port->kind == CONF_PORT_TCP) &&
        !(port->flags & (CONF_PORT_F_INTERCEPT | CONF_PORT_F_TPROXY)))
        return conf_error(ctx, "%s: needs intercept or tproxy (skua "
                          "peeks and relays, it does not decrypt)",
                          d->name);
    if (port->kind == CONF_PORT_UDP && !(port->flags & CONF_PORT_F_TPROXY))
        return conf_error(ctx, "%s: needs tproxy (UDP is intercepted "
                          "with TPROXY rules only)", d->name);
    for (tail = &c->http_ports; *tail != NULL; tail = &(*tail)->next) {
        const struct sockaddr *a = (const struct sockaddr *)&(*tail)->addr;
        const struct sockaddr *b = (const struct sockaddr *)&port->addr;

        /* UDP and TCP ports are apart: one number may serve both. */
        if (((*tail)->kind == CONF_PORT_UDP) != (port->kind == CONF_PORT_UDP))
            continue;
        if (sk_addr_eq(a, b) && sk_addr_port(a) == sk_addr_port(b))
            return conf_error(ctx, "%s: %s is already configured at %s:%d",
                              d->name, sk_addr_port_str(b, buf, sizeof(buf)),
                              (*tail)->file, (*tail)->line);
    }
    n = strlen(d->name) + 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    port->spec = sk_arena_alloc(c->arena, n);
    strcpy(port->spec, d->name);
    for (int i = 0; i < argc; i++) {
        strcat(port->spec, " ");
        strcat(port->spec, argv[i]);
    }
    port->file = ctx->file;
    port->line = ctx->line;
    *tail = port;
    return 0;
}

int
conf_parse_acl(struct conf_ctx *ctx, const struct conf_directive *d,
               int argc, char **argv)
{
    struct conf_vec v = { 0 };
    char *e = NULL;

    if (argc < 2)
        return conf_error(ctx, "%s: missing NAME or TYPE", d->name);
    /* Squid's parameters-from-file: a quoted "/path" stands for the
     * values listed in that file. */
    for (int i = 0; i < argc; i++) {
        if (i >= 2 && ctx->quoted[i] && argv[i][0] == '/') {
            if (conf_read_values(ctx, argv[i], &v) == -1)
                return -1;
        } else {
            conf_vec_push(ctx->scratch, &v, argv[i], ctx->quoted[i]);
        }
    }
    if (acl_parse_line(ctx->conf, v.argc, v.argv, &e) == -1)
        return conf_foreign_error(ctx, d, e);
    free(e);
    conf_record(ctx, d, v.argc, v.argv);
    return 0;
}

int
conf_parse_http_access(struct conf_ctx *ctx, const struct conf_directive *d,
                       int argc, char **argv)
{
    char *e = NULL;

    if (argc == 0)
        return conf_error(ctx, "%s: missing allow or deny", d->name);
    if (acl_parse_access(ctx->conf, &ctx->conf->http_access, argc, argv,
                         &e) == -1)
        return conf_foreign_error(ctx, d, e);
    free(e);
    return 0;
}

int
conf_parse_spoof_client_ip(struct conf_ctx *ctx,
                           const struct conf_directive *d, int argc,
                           char **argv)
{
    char *e = NULL;

    if (argc == 0)
        return conf_error(ctx, "%s: missing allow or deny", d->name);
    if (acl_parse_access(ctx->conf, &ctx->conf->spoof_client_ip, argc, argv,
                         &e) == -1)
        return conf_foreign_error(ctx, d, e);
    free(e);
    return 0;
}

int
conf_check_intercept_backend(struct conf_ctx *ctx, const char *value)
{
    static const char *const names[] = {
        "auto", "netfilter", "tproxy", "pf", "ipfw", NULL
    };

    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], value) == 0)
            return 0;
    return conf_error(ctx, "intercept_backend: '%s' is not one of auto, "
                      "netfilter, tproxy, pf, ipfw", value);
}

int
conf_parse_socks_access(struct conf_ctx *ctx, const struct conf_directive *d,
                        int argc, char **argv)
{
    char *e = NULL;

    if (argc == 0)
        return conf_error(ctx, "%s: missing allow or deny", d->name);
    if (acl_parse_access(ctx->conf, &ctx->conf->socks_access, argc, argv,
                         &e) == -1)
        return conf_foreign_error(ctx, d, e);
    free(e);
    return 0;
}

int
conf_parse_intercept_access(struct conf_ctx *ctx,
                            const struct conf_directive *d, int argc,
                            char **argv)
{
    char *e = NULL;

    if (argc == 0)
        return conf_error(ctx, "%s: missing allow or deny", d->name);
    if (acl_parse_access(ctx->conf, &ctx->conf->intercept_access, argc,
                         argv, &e) == -1)
        return conf_foreign_error(ctx, d, e);
    free(e);
    return 0;
}

/*
 * Parse "ACTION [!]ACL..." (<argv>, <argc>) into a rule appended to
 * *<list>; <actions> is the NULL-terminated list of action names, the
 * index of a name being its value.  Return 0 or -1.
 */
static int
conf_action_rule_parse(struct conf_ctx *ctx, const struct conf_directive *d,
                       struct conf_action_rule **list,
                       const char *const *actions, const char *action,
                       int argc, char **argv)
{
    struct conf_action_rule *r, **tail;
    char *e = NULL, **v;
    int a;

    if (argc == 0)
        return conf_error(ctx, "%s: missing action", d->name);
    for (a = 0; actions[a] != NULL; a++)
        if (strcmp(actions[a], action) == 0)
            break;
    if (actions[a] == NULL)
        return -1;
    r = sk_arena_calloc(ctx->conf->arena, sizeof(*r));
    r->action = a;
    r->file = ctx->file;
    r->line = ctx->line;
    if (argc == 1)
        return conf_error(ctx, "%s %s: missing ACL (use all to match "
                          "every connection)", d->name, argv[0]);
    v = sk_arena_alloc(ctx->conf->arena, sizeof(*v) * (size_t)argc);
    memcpy(v, argv, sizeof(*v) * (size_t)argc);
    v[0] = (char *)"allow";
    if (acl_parse_access(ctx->conf, &r->acl, argc, v, &e) == -1)
        return conf_foreign_error(ctx, d, e);
    free(e);
    for (tail = list; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = r;
    return 0;
}

int
conf_parse_ssl_bump(struct conf_ctx *ctx, const struct conf_directive *d,
                    int argc, char **argv)
{
    /* In enum conf_bump_action order. */
    static const char *const actions[] = {
        "peek", "stare", "splice", "terminate", NULL
    };
    const char *action = argc > 0 ? argv[0] : "";

    if (argc > 0 && (strcmp(argv[0], "bump") == 0 ||
                     strcmp(argv[0], "client-first") == 0 ||
                     strcmp(argv[0], "server-first") == 0))
        return conf_error(ctx, "%s %s: skua does not decrypt; use peek, "
                          "splice or terminate", d->name, argv[0]);
    if (strcmp(action, "none") == 0)
        action = "splice";              /* Squid 3.4's name for it */
    if (conf_action_rule_parse(ctx, d, &ctx->conf->ssl_bump, actions,
                               action, argc, argv) == -1 &&
        ctx->err == NULL)
        return conf_error(ctx, "%s: '%s' is not one of peek, stare, "
                          "splice, terminate", d->name, argv[0]);
    return ctx->err == NULL ? 0 : -1;
}

int
conf_parse_on_unsupported_protocol(struct conf_ctx *ctx,
                                   const struct conf_directive *d, int argc,
                                   char **argv)
{
    /* In enum conf_unsup_action order. */
    static const char *const actions[] = { "respond", "tunnel", NULL };

    if (conf_action_rule_parse(ctx, d, &ctx->conf->on_unsupported_protocol,
                               actions, argc > 0 ? argv[0] : "", argc,
                               argv) == -1 &&
        ctx->err == NULL)
        return conf_error(ctx, "%s: '%s' is not tunnel or respond",
                          d->name, argv[0]);
    return ctx->err == NULL ? 0 : -1;
}

int
conf_parse_socks_auth_methods(struct conf_ctx *ctx,
                              const struct conf_directive *d, int argc,
                              char **argv)
{
    struct conf_socks_auth *a = &ctx->conf->socks_auth_methods;
    char *joined;
    size_t n = 1;

    if (argc == 0)
        return conf_error(ctx, "%s: missing method", d->name);
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    joined = sk_arena_calloc(ctx->scratch, n);
    for (int i = 0; i < argc; i++) {
        strcat(joined, argv[i]);
        strcat(joined, " ");
    }
    if (conf_socks_auth_list(joined, a) == -1)
        return conf_error(ctx, "%s: methods are none and userpass, each "
                          "at most once", d->name);
    return 0;
}

int
conf_check_udp_advertise(struct conf_ctx *ctx, const char *value)
{
    struct sockaddr_storage ss;

    if (strcmp(value, "none") == 0)
        return 0;               /* what conf_dump() writes for unset */
    if (strchr(value, '[') != NULL ||
        sk_addr_parse(value, NULL, false, &ss) == -1 ||
        sk_addr_port((struct sockaddr *)&ss) != 0)
        return conf_error(ctx, "udp_advertise_address: '%s' is not an IP "
                          "address", value);
    return 0;
}

/* Parse the IP address <s> (no port) into <out>. */
static int
conf_parse_ip(const char *s, struct sockaddr_storage *out)
{
    if (strchr(s, '[') != NULL || sk_addr_parse(s, NULL, false, out) == -1)
        return -1;
    return sk_addr_port((struct sockaddr *)out) == 0 ? 0 : -1;
}

int
conf_parse_outgoing(struct conf_ctx *ctx, const struct conf_directive *d,
                    int argc, char **argv)
{
    struct conf_outgoing *o, **tail;

    if (argc == 0)
        return conf_error(ctx, "%s: missing ADDR", d->name);
    o = sk_arena_calloc(ctx->conf->arena, sizeof(*o));
    if (conf_parse_ip(argv[0], &o->addr) == -1)
        return conf_error(ctx, "%s: '%s' is not an IP address", d->name,
                          argv[0]);
    if (argc > 1 &&
        conf_parse_acl_list(ctx, d, &o->acl, argc - 1, argv + 1) == -1)
        return -1;
    for (tail = &ctx->conf->tcp_outgoing; *tail; tail = &(*tail)->next)
        ;
    *tail = o;
    return 0;
}

/* Find the format <name>: built-in first, then those of logformat. */
static const struct log_format *
conf_find_format(const struct conf *c, const char *name)
{
    const struct log_format *f = log_format_builtin(name);

    if (f != NULL)
        return f;
    for (f = c->logformats; f != NULL; f = log_format_next(f))
        if (strcmp(log_format_name(f), name) == 0)
            return f;
    return NULL;
}

int
conf_parse_logformat(struct conf_ctx *ctx, const struct conf_directive *d,
                     int argc, char **argv)
{
    struct log_format *f, *last;
    char *e = NULL;

    if (argc < 2)
        return conf_error(ctx, "%s: missing NAME or FORMAT", d->name);
    if (log_format_builtin(argv[0]) != NULL)
        return conf_error(ctx, "%s: '%s' is a built-in format and cannot be "
                          "redefined", d->name, argv[0]);
    if (conf_find_format(ctx->conf, argv[0]) != NULL)
        return conf_error(ctx, "%s: '%s' is already defined", d->name,
                          argv[0]);
    f = log_format_compile(argv[0], argv[1], &e);
    if (f == NULL)
        return conf_foreign_error(ctx, d, e);
    free(e);
    last = ctx->conf->logformats;
    if (last == NULL) {
        ctx->conf->logformats = f;
        return 0;
    }
    while (log_format_next(last) != NULL)
        last = log_format_next(last);
    log_format_set_next(last, f);
    return 0;
}

static const char *const conf_syslog_facilities[] = {
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
    "uucp", "cron", "authpriv", "ftp", "local0", "local1", "local2",
    "local3", "local4", "local5", "local6", "local7", NULL
};

static const char *const conf_syslog_priorities[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    NULL
};

static bool
conf_in_list(const char *const *list, const char *s, size_t len)
{
    for (; *list != NULL; list++)
        if (strlen(*list) == len && strncasecmp(*list, s, len) == 0)
            return true;
    return false;
}

/* Check "syslog[:facility[.priority]]". */
static bool
conf_is_syslog(const char *dest)
{
    const char *p, *dot;

    if (strcmp(dest, "syslog") == 0)
        return true;
    if (strncmp(dest, "syslog:", 7) != 0)
        return false;
    p = dest + 7;
    dot = strchr(p, '.');
    if (!conf_in_list(conf_syslog_facilities, p,
                      dot ? (size_t)(dot - p) : strlen(p)))
        return false;
    return dot == NULL ||
           conf_in_list(conf_syslog_priorities, dot + 1, strlen(dot + 1));
}

/* Normalize the access_log destination <dest>; NULL if it is none. */
static char *
conf_log_dest(struct conf_ctx *ctx, const char *dest)
{
    if (dest[0] == '/')
        return sk_arena_printf(ctx->conf->arena, "stdio:%s", dest);
    if (strncmp(dest, "stdio:", 6) == 0 && dest[6] != '\0')
        return sk_arena_strdup(ctx->conf->arena, dest);
    if (conf_is_syslog(dest))
        return sk_arena_strdup(ctx->conf->arena, dest);
    return NULL;
}

int
conf_parse_access_log(struct conf_ctx *ctx, const struct conf_directive *d,
                      int argc, char **argv)
{
    struct conf_access_log *log, **tail;
    const char *fname = "squid";
    int i = 1;

    if (argc == 0)
        return conf_error(ctx, "%s: missing destination", d->name);
    if (strcmp(argv[0], "none") == 0) {
        if (argc > 1)
            return conf_error(ctx, "%s: none takes no format or acl",
                              d->name);
        return 0;
    }
    log = sk_arena_calloc(ctx->conf->arena, sizeof(*log));
    log->fd = -1;
    log->dest = conf_log_dest(ctx, argv[0]);
    if (log->dest == NULL)
        return conf_error(ctx, "%s: '%s' is not a log destination "
                          "(stdio:PATH, syslog[:FACILITY[.PRIORITY]] or "
                          "none)", d->name, argv[0]);
    if (argc > 1) {
        fname = argv[1];
        if (strncmp(fname, "logformat=", 10) == 0)
            fname += 10;
        else if (strchr(fname, '=') != NULL)
            return conf_error(ctx, "%s: unknown option '%s'", d->name,
                              fname);
        i = 2;
    }
    log->format = conf_find_format(ctx->conf, fname);
    if (log->format == NULL)
        return conf_error(ctx, "%s: logformat '%s' is not defined", d->name,
                          fname);
    if (argc > i &&
        conf_parse_acl_list(ctx, d, &log->acl, argc - i, argv + i) == -1)
        return -1;
    for (tail = &ctx->conf->access_logs; *tail; tail = &(*tail)->next)
        ;
    *tail = log;
    return 0;
}

int
conf_parse_nameservers(struct conf_ctx *ctx, const struct conf_directive *d,
                       int argc, char **argv)
{
    struct conf *c = ctx->conf;
    char **list;
    int n = 0;

    if (argc == 0)
        return conf_error(ctx, "%s: missing address", d->name);
    for (int i = 0; i < argc; i++) {
        struct sockaddr_storage ss;

        /* "ip", "ip:port", "[v6]" or "[v6]:port": the resolver takes a
         * port so a test or a local stub can listen on a high one. */
        if (sk_addr_parse(argv[i], NULL, false, &ss) == -1)
            return conf_error(ctx, "%s: '%s' is not an IP address "
                              "(optionally with :port)", d->name, argv[i]);
    }
    while (c->dns_nameservers != NULL && c->dns_nameservers[n] != NULL)
        n++;
    list = sk_arena_calloc(c->arena, sizeof(char *) * (size_t)(n + argc + 1));
    if (n > 0)
        memcpy(list, c->dns_nameservers, sizeof(char *) * (size_t)n);
    for (int i = 0; i < argc; i++)
        list[n + i] = sk_arena_strdup(c->arena, argv[i]);
    c->dns_nameservers = list;
    return 0;
}

/* Find the section named or numbered <s> of <len> bytes; -1 if none. */
static int
conf_log_section(const char *s, size_t len)
{
    uint64_t num;

    if (sk_parse_u64(s, len, &num) == 0)
        return num < SK_SEC_MAX ? (int)num : -1;
    for (int i = 0; i < SK_SEC_MAX; i++) {
        const char *name = sk_log_section_name((enum sk_log_section)i);

        if (strlen(name) == len && strncasecmp(name, s, len) == 0)
            return i;
    }
    return -1;
}

int
conf_check_debug_options(struct conf_ctx *ctx, const char *value)
{
    const char *p = value;

    while (*p != '\0') {
        const char *tok, *comma;
        size_t len;
        uint64_t lvl;

        while (*p == ' ')
            p++;
        tok = p;
        p += strcspn(p, " ");
        len = (size_t)(p - tok);
        if (len == 0)
            break;
        comma = memchr(tok, ',', len);
        if (comma == NULL)
            return conf_error(ctx, "debug_options: '%.*s' is not "
                              "SECTION,LEVEL", (int)len, tok);
        if (sk_parse_u64(comma + 1, (size_t)(tok + len - comma - 1),
                         &lvl) == -1 || lvl > 9)
            return conf_error(ctx, "debug_options: bad level in '%.*s' "
                              "(0-9)", (int)len, tok);
        if (!((comma - tok) == 3 && strncasecmp(tok, "ALL", 3) == 0) &&
            conf_log_section(tok, (size_t)(comma - tok)) == -1)
            return conf_error(ctx, "debug_options: unknown section '%.*s'",
                              (int)(comma - tok), tok);
    }
    return 0;
}
