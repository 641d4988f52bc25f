/*
 * http_intercept.c -- intercepted HTTP: requests that reached an intercept
 * or tproxy port because the firewall redirected them, not because the
 * client chose a proxy.
 *
 * At accept the original destination is looked up through the port's NAT
 * backend (src/nat/) and kept in the connection.  Such clients send
 * origin-form requests ("GET /path" with a Host header); the URL is built
 * from Host, or from the original destination when there is no Host.
 * Because Host is whatever the client wrote, it is verified as Squid does
 * against CVE-2009-0801: the name must resolve to the original destination
 * address and an explicit port must match.  Whatever the outcome, skua
 * connects to the original destination only, never to what Host names; a
 * request that failed the check never shares a pooled server connection,
 * is logged as a security alert, and with host_verify_strict is answered
 * 409.  A connection whose original destination is skua's own listening
 * address (someone connected to the intercept port directly, or a rule
 * loops) is refused.  On tproxy ports upstream connections leave from the
 * client's address when spoof_client_ip allows.
 *
 * What this file does not do: find original destinations itself (that is
 * the NAT backends' job), parse requests, or forward them; http_client.c
 * calls the hooks below at accept, describe, precheck and route.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sk_arena.h"
#include "sk_log.h"
#include "sk_str.h"
#include "acl/acl.h"
#include "comm/comm_connect.h"
#include "conf/conf.h"
#include "http/http.h"
#include "nat/nat.h"

#define ICPT_PORTS (CONF_PORT_F_INTERCEPT | CONF_PORT_F_TPROXY)

int
http_intercept_accept(struct http_conn *c)
{
    const struct nat_backend *b;
    bool tproxy = (c->port->flags & CONF_PORT_F_TPROXY) != 0;
    char why[200], a[SK_ADDRSTRLEN];

    if (!(c->port->flags & ICPT_PORTS))
        return 0;
    b = nat_select(c->conf->intercept_backend, tproxy, why, sizeof(why));
    if (b == NULL) {
        sk_err(SK_SEC_HTTP, "%s: %s", c->port->spec, why);
        return -1;
    }
    if (nat_lookup(b, c->fd, &c->peer, &c->local, &c->orig_dst) == -1) {
        sk_notice(SK_SEC_HTTP, "%s: no original destination for the "
                  "connection from %s (%s backend): %s", c->port->spec,
                  sk_addr_port_str((const struct sockaddr *)&c->peer, a,
                                   sizeof(a)), b->name, strerror(errno));
        return -1;
    }
    c->icpt = HTTP_ICPT_ON | (tproxy ? HTTP_ICPT_TPROXY : 0);
    if (nat_dst_is_listener(c->conf, &c->orig_dst))
        c->icpt |= HTTP_ICPT_LOOP;
    sk_debug(SK_SEC_HTTP, 3, "intercepted connection from %s to %s",
             sk_addr_port_str((const struct sockaddr *)&c->peer, a,
                              sizeof(a)),
             sk_addr_port_str((const struct sockaddr *)&c->orig_dst, why,
                              sizeof(why)));
    return 0;
}

int
http_intercept_precheck(struct http_txn *t)
{
    char a[SK_ADDRSTRLEN];

    if (!(t->c->icpt & HTTP_ICPT_LOOP))
        return 0;
    sk_notice(SK_SEC_HTTP, "refusing an intercepted connection from %s to "
              "skua's own listening address %s",
              sk_addr_str((const struct sockaddr *)&t->c->peer, a,
                          sizeof(a)),
              t->rec.url != NULL ? t->rec.url : "-");
    http_error_reply(t, 403, "ERR_LOOP_DETECTED",
                     "the original destination is this proxy", true);
    return -1;
}

/* Lower-case <h> in place and drop one trailing dot. */
static void
icpt_host_normalize(char *h)
{
    size_t i;

    for (i = 0; h[i] != '\0'; i++)
        if (h[i] >= 'A' && h[i] <= 'Z')
            h[i] = (char)(h[i] + 32);
    if (i > 0 && h[i - 1] == '.')
        h[i - 1] = '\0';
}

/* The URL authority for <host> and <port>: [v6] and :port unless 80. */
static char *
icpt_authority(struct http_txn *t, const char *host, uint16_t port)
{
    bool v6 = strchr(host, ':') != NULL;

    if (port == 80)
        return sk_arena_printf(t->arena, v6 ? "[%s]" : "%s", host);
    return sk_arena_printf(t->arena, v6 ? "[%s]:%u" : "%s:%u", host,
                           (unsigned)port);
}

int
http_intercept_describe(struct http_txn *t)
{
    struct http_conn *c = t->c;
    const struct http_msg *m = &t->req;
    const struct sockaddr *od = (const struct sockaddr *)&c->orig_dst;
    uint16_t oport = sk_addr_port(od);
    const char *path = sk_arena_strndup(t->arena, t->head + m->target.off,
                                        m->target.len);
    char ip[SK_ADDRSTRLEN];
    char *host;

    t->rec.urlpath = path;
    if (m->host_hdr >= 0 && m->hdrs[m->host_hdr].value.len > 0) {
        const struct sk_span *v = &m->hdrs[m->host_hdr].value;
        size_t hoff, hlen;

        if (http_parse_authority(t->head + v->off, v->len, &hoff, &hlen,
                                 &t->host_port) == -1) {
            t->rec.url = path;
            http_error_reply(t, 400, "ERR_INVALID_REQ",
                             "malformed Host header", false);
            return -1;
        }
        host = sk_arena_strndup(t->arena, t->head + v->off + hoff, hlen);
        icpt_host_normalize(host);
        t->rec.dst_how = REC_DST_HOST_HEADER;
    } else {
        /* No Host (HTTP/1.0): the original destination is all there is,
         * and it needs no verification. */
        host = sk_arena_strdup(t->arena, sk_addr_str(od, ip, sizeof(ip)));
        t->rec.dst_how = REC_DST_NAT;
        t->host_verify = HTTP_HV_OK;
    }
    t->host = host;
    t->port = oport;            /* where skua connects, whatever Host says */
    t->rec.dst_host = host;
    t->rec.dst_port = oport;
    t->rec.url = sk_arena_printf(t->arena, "http://%s%s",
                                 icpt_authority(t, host, t->host_port
                                                ? t->host_port : oport),
                                 path);
    return 0;
}

/* True if one of <n> addresses <addrs> is the original destination's. */
static bool
icpt_addrs_match(const struct http_conn *c,
                 const struct sockaddr_storage *addrs, unsigned n)
{
    struct sockaddr_storage a;

    for (unsigned i = 0; i < n; i++) {
        sk_addr_unmap(&addrs[i], &a);
        if (sk_addr_eq((const struct sockaddr *)&a,
                       (const struct sockaddr *)&c->orig_dst))
            return true;
    }
    return false;
}

/* Log the forgery of <t> (why: <reason>) as Squid does. */
static void
icpt_alert(struct http_txn *t, const char *reason)
{
    struct http_conn *c = t->c;
    char o[SK_ADDRSTRLEN], p[SK_ADDRSTRLEN];
    struct sockaddr_storage peer;

    sk_addr_unmap(&c->peer, &peer);
    sk_err(SK_SEC_HTTP, "SECURITY ALERT: Host header forgery detected on "
           "local=%s remote=%s (%s); Host: %s%s%s; %s",
           sk_addr_port_str((const struct sockaddr *)&c->orig_dst, o,
                            sizeof(o)),
           sk_addr_port_str((const struct sockaddr *)&peer, p, sizeof(p)),
           reason, t->host, t->host_port ? ":" : "",
           t->host_port ? sk_arena_printf(t->arena, "%u",
                                          (unsigned)t->host_port) : "",
           c->conf->host_verify_strict
               ? "answered 409 (host_verify_strict)"
               : "forwarded to the original destination only");
}

/* Point <t> at the original destination alone. */
static void
icpt_use_orig(struct http_txn *t)
{
    struct dns_result *r = sk_arena_calloc(t->arena, sizeof(*r));

    r->status = DNS_OK;
    r->n = 1;
    r->addrs[0] = t->c->orig_dst;
    t->addrs = r;
}

/* Decide <t>'s verdict from the addresses <addrs> Host resolved to (NULL
 * when the lookup failed); return SKUA_OK to go on, SKUA_ERROR after an
 * answer. */
static int
icpt_verdict(struct http_txn *t, const struct sockaddr_storage *addrs,
             unsigned n)
{
    const char *reason = NULL;
    uint16_t oport = sk_addr_port((const struct sockaddr *)
                                  &t->c->orig_dst);

    if (t->host_verify == HTTP_HV_UNKNOWN) {
        if (t->host_port != 0 && t->host_port != oport)
            reason = "intercepted port does not match Host";
        else if (addrs == NULL)
            reason = "Host does not resolve";
        else if (!icpt_addrs_match(t->c, addrs, n))
            reason = "local IP does not match any domain IP";
        t->host_verify = reason == NULL ? HTTP_HV_OK : HTTP_HV_FORGED;
        if (reason != NULL)
            icpt_alert(t, reason);
    }
    if (t->host_verify == HTTP_HV_FORGED) {
        if (t->c->conf->host_verify_strict) {
            http_error_reply(t, 409, "ERR_CONFLICT_HOST",
                             "the Host header does not match the "
                             "destination", false);
            return SKUA_ERROR;
        }
        t->no_pool = true;
    }
    icpt_use_orig(t);
    return SKUA_OK;
}

static void
icpt_dns_cb(const struct dns_result *res, void *arg)
{
    struct http_txn *t = arg;
    struct http_conn *c = t->c;
    bool ok = res->status == DNS_OK && res->n > 0;

    http_conn_enter(c);
    t->dq = NULL;
    if (icpt_verdict(t, ok ? res->addrs : NULL, ok ? res->n : 0) ==
        SKUA_OK)
        http_txn_route(t);
    http_conn_leave(c);
}

int
http_intercept_route(struct http_txn *t)
{
    struct http_conn *c = t->c;
    struct sockaddr_storage lit;
    struct dns_query *q = NULL;

    /* An absolute-form request on an intercept port is an ordinary proxy
     * request (Squid serves it too); only origin-form ones are ours. */
    if (!(c->icpt & HTTP_ICPT_ON) || t->req.form != HTTP_FORM_ORIGIN)
        return SKUA_OK;
    if (t->host_verify != HTTP_HV_UNKNOWN)
        return icpt_verdict(t, NULL, 0);
    if ((t->host_port != 0 &&
         t->host_port != sk_addr_port((const struct sockaddr *)
                                      &c->orig_dst)) ||
        t->addrs != NULL)
        return icpt_verdict(t, t->addrs ? t->addrs->addrs : NULL,
                            t->addrs ? t->addrs->n : 0);
    if (sk_addr_parse(t->host, NULL, false, &lit) == 0)
        return icpt_verdict(t, &lit, 1);
    /* icpt_dns_cb() may run before dns_resolve() returns, and <t> may be
     * gone then: touch nothing after. */
    t->state = TXN_DNS;
    if (dns_resolve(c->w->dns, t->host, icpt_dns_cb, t, &q) == SKUA_AGAIN)
        t->dq = q;
    return SKUA_AGAIN;
}

void
http_intercept_outgoing(struct http_txn *t, struct comm_connect_opts *o,
                        struct sockaddr_storage *src)
{
    struct http_conn *c = t->c;
    struct acl_dst dst;

    if (!(c->icpt & HTTP_ICPT_TPROXY))
        return;
    if (c->conf->spoof_client_ip != NULL) {
        dst.addrs = t->addrs->addrs;
        dst.n = t->addrs->n;
        dst.resolved = true;
        if (acl_check(c->conf->spoof_client_ip, &t->rec, &dst) !=
            ACL_ALLOWED)
            return;
    }
    nat_spoof_source(&c->peer, src, o);
}

const char *
http_intercept_fwd_host(struct http_txn *t)
{
    if (!(t->c->icpt & HTTP_ICPT_ON) || t->req.form != HTTP_FORM_ORIGIN ||
        t->rec.dst_how != REC_DST_NAT)
        return NULL;
    return icpt_authority(t, t->host, t->port);
}
