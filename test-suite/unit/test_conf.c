/*
 * test_conf.c -- unit tests of the configuration language (src/conf):
 * units, good snippets and the values they give, bad snippets and their
 * exact "file:line: reason", include with globs, parameters-from-file,
 * the shipped default configuration, the dump, the generated documents
 * and reference counting.
 *
 * Links the real acl module and a mock of the log formats
 * (mock_log_format.c).  Files are made in a temporary directory.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sk_str.h"
#include "conf/conf.h"
#include "conf/conf_int.h"
#include "log/access_log.h"

/* ---- helpers ---- */

static char tmpdir[64];

static void
write_file(const char *rel, const char *text)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static char *
dump_string(const struct conf *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    assert_non_null(fp);
    conf_dump(c, fp);
    fclose(fp);
    return buf;
}

/* Return true if <text> has <line> as one whole line. */
static bool
has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; p != NULL && *p != '\0';) {
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return true;
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return false;
}

static struct conf *
load_ok(const char *text)
{
    char *err = NULL;
    struct conf *c = conf_load_string(text, "t.conf", &err);

    if (c == NULL)
        fail_msg("'%s' failed: %s", text, err);
    assert_null(err);
    return c;
}

/* ---- units ---- */

static void
test_units(void **state)
{
    static const struct {
        const char *a, *b;      /* one or two tokens */
        int64_t ms;             /* -1: not a time */
    } times[] = {
        { "30", "seconds", 30000 }, { "30seconds", NULL, 30000 },
        { "1", "minute", 60000 }, { "2", "MINUTES", 120000 },
        { "1.5", "hours", 5400000 }, { "250", "ms", 250 },
        { "3", "milliseconds", 3 }, { "45", NULL, 45000 },
        { "1", "day", 86400000 }, { "2", "weeks", 1209600000 },
        { "0", NULL, 0 }, { "0.5", "second", 500 },
        { "abc", NULL, -1 }, { "30", "parsecs", -1 }, { "-1", NULL, -1 },
        { "1.", NULL, -1 }, { ".5", NULL, -1 }, { "", NULL, -1 },
        { "30s", NULL, -1 }, { "5seconds", "seconds", -1 },
        { "99999999999999999999", NULL, -1 },
        { "9999999999999999", "weeks", -1 }, { "1", "", -1 },
    };
    static const struct {
        const char *a, *b;
        int64_t bytes;
    } sizes[] = {
        { "64", "KB", 65536 }, { "64KB", NULL, 65536 },
        { "64", "kb", 65536 }, { "1", "M", 1048576 },
        { "2G", NULL, 2147483648 }, { "512", NULL, 512 },
        { "512", "bytes", 512 }, { "1.5", "MB", 1572864 },
        { "0", "KB", 0 }, { "3", "GB", 3221225472 },
        { "64", "XB", -1 }, { "KB", NULL, -1 }, { "", NULL, -1 },
        { "1e3", NULL, -1 }, { "20000000000", "GB", -1 },
    };

    for (size_t i = 0; i < SK_ARRAY_LEN(times); i++) {
        char *argv[2] = { (char *)times[i].a, (char *)times[i].b };
        int argc = times[i].b ? 2 : 1;
        sk_msec_t ms = -7;
        int rc = conf_parse_time(argc, argv, &ms);

        if (times[i].ms == -1) {
            if (rc != -1)
                fail_msg("time '%s %s' accepted", times[i].a,
                         times[i].b ? times[i].b : "");
        } else if (rc != 0 || ms != times[i].ms) {
            fail_msg("time '%s %s': rc %d ms %lld", times[i].a,
                     times[i].b ? times[i].b : "", rc, (long long)ms);
        }
    }
    for (size_t i = 0; i < SK_ARRAY_LEN(sizes); i++) {
        char *argv[2] = { (char *)sizes[i].a, (char *)sizes[i].b };
        int argc = sizes[i].b ? 2 : 1;
        uint64_t v = 7;
        int rc = conf_parse_size(argc, argv, &v);

        if (sizes[i].bytes == -1) {
            if (rc != -1)
                fail_msg("size '%s %s' accepted", sizes[i].a,
                         sizes[i].b ? sizes[i].b : "");
        } else if (rc != 0 || v != (uint64_t)sizes[i].bytes) {
            fail_msg("size '%s %s': rc %d v %llu", sizes[i].a,
                     sizes[i].b ? sizes[i].b : "", rc, (unsigned long long)v);
        }
    }
}

/* ---- defaults ---- */

static void
test_defaults(void **state)
{
    struct conf *c = load_ok("");
    const struct conf_http_port *p = c->http_ports;
    char buf[SK_ADDRSTRLEN];

    assert_int_equal(c->magic, CONF_MAGIC);
    assert_string_equal(c->path, "t.conf");
    assert_int_equal(c->connect_timeout, 60000);
    assert_int_equal(c->read_timeout, 15 * 60000);
    assert_int_equal(c->request_timeout, 5 * 60000);
    assert_int_equal(c->client_lifetime, 86400000);
    assert_int_equal(c->client_idle_pconn_timeout, 120000);
    assert_int_equal(c->server_idle_pconn_timeout, 60000);
    assert_int_equal(c->dns_timeout, 30000);
    assert_int_equal(c->positive_dns_ttl, 6 * 3600000);
    assert_int_equal(c->negative_dns_ttl, 60000);
    assert_int_equal(c->shutdown_lifetime, 30000);
    assert_int_equal(c->request_header_max_size, 65536);
    assert_int_equal(c->reply_header_max_size, 65536);
    assert_int_equal(c->request_body_max_size, 0);
    assert_true(c->via);
    assert_int_equal(c->forwarded_for, CONF_FWD_ON);
    assert_string_equal(c->debug_options, "ALL,1");
    assert_string_equal(c->cache_log, SK_LOCALSTATEDIR "/log/skua/cache.log");
    assert_string_equal(c->pid_filename, SK_LOCALSTATEDIR "/run/skua.pid");
    assert_string_equal(c->hosts_file, "/etc/hosts");
    assert_string_equal(c->error_directory, SK_DATADIR "/errors");
    assert_non_null(c->visible_hostname);
    assert_true(c->visible_hostname[0] != '\0');
    assert_true(c->workers >= 1 && c->workers <= 64);
    assert_int_equal(c->max_filedescriptors, 0);
    assert_null(c->dns_nameservers);
    assert_null(c->http_access);
    assert_null(c->tcp_outgoing);
    assert_null(c->logformats);

    /* http_port 3128: the IPv6 wildcard, opened dual-stack */
    assert_non_null(p);
    assert_null(p->next);
    assert_string_equal(sk_addr_port_str((const struct sockaddr *)&p->addr,
                                         buf, sizeof(buf)), "[::]:3128");
    assert_string_equal(p->spec, "http_port 3128");
    assert_string_equal(p->name, "3128");
    assert_int_equal(p->flags, 0);

    assert_non_null(c->access_logs);
    assert_null(c->access_logs->next);
    assert_string_equal(c->access_logs->dest,
                        "stdio:" SK_LOCALSTATEDIR "/log/skua/access.log");
    assert_string_equal(log_format_name(c->access_logs->format), "squid");
    assert_null(c->access_logs->acl);
    assert_int_equal(c->access_logs->fd, -1);
    conf_unref(c);
}

/* ---- good snippets: what conf_dump() shows afterwards ---- */

static const struct {
    const char *text;
    const char *line;           /* a line the dump must have */
} good_cases[] = {
    { "connect_timeout 30 seconds\n", "connect_timeout 30 seconds" },
    { "connect_timeout 90 seconds", "connect_timeout 90 seconds" },
    { "connect_timeout 2 minutes", "connect_timeout 2 minutes" },
    { "connect_timeout 1minute", "connect_timeout 1 minute" },
    { "connect_timeout 1.5 seconds", "connect_timeout 1500 milliseconds" },
    { "connect_timeout 20", "connect_timeout 20 seconds" },
    { "read_timeout 1 week", "read_timeout 1 week" },
    { "via off", "via off" },
    { "forwarded_for truncate", "forwarded_for truncate" },
    { "forwarded_for transparent", "forwarded_for transparent" },
    { "request_header_max_size 128KB", "request_header_max_size 128 KB" },
    { "request_body_max_size 1 GB", "request_body_max_size 1 GB" },
    { "reply_header_max_size 1000", "reply_header_max_size 1000 bytes" },
    { "debug_options ALL,1 http,3 2,5", "debug_options ALL,1 http,3 2,5" },
    { "pid_filename none", "pid_filename none" },
    { "hosts_file none", "hosts_file none" },
    { "visible_hostname proxy.example", "visible_hostname proxy.example" },
    { "workers 4", "workers 4" },
    { "max_filedescriptors 65536", "max_filedescriptors 65536" },
    { "http_port 127.0.0.1:3128 name=local",
      "http_port 127.0.0.1:3128 name=local" },
    { "http_port [::1]:8080", "http_port [::1]:8080" },
    { "acl a src 10.0.0.0/8\nhttp_access allow a", "http_access allow a" },
    { "acl a src 10.0.0.0/8\nhttp_access deny !a", "http_access deny !a" },
    { "acl a src 10.0.0.0/8\nacl a src 10.1.0.0/16",
      "acl a src 10.1.0.0/16" },
    { "logformat short %ts %>a   %rm", "logformat short %ts %>a   %rm" },
    { "logformat q %>a \"%rm %ru\" # not a comment",
      "logformat q %>a \"%rm %ru\" # not a comment" },
    { "access_log /var/log/x.log", "access_log /var/log/x.log" },
    { "access_log none", "access_log none" },
    { "access_log syslog:local4.info combined",
      "access_log syslog:local4.info combined" },
    { "logformat s %ts\naccess_log stdio:- logformat=s",
      "access_log stdio:- logformat=s" },
    { "cache_log \"/path with space/c.log\"",
      "cache_log \"/path with space/c.log\"" },
    { "cache_log stderr", "cache_log stderr" },
    { "visible_hostname \"a\\\"b\\\\c\"", "visible_hostname a\"b\\c" },
    { "visible_hostname \"a b\"", "visible_hostname \"a b\"" },
    { "dns_nameservers 1.1.1.1 \\\n  8.8.8.8\n",
      "dns_nameservers 1.1.1.1 8.8.8.8" },
    { "dns_nameservers 1.1.1.1\ndns_nameservers ::1",
      "dns_nameservers ::1" },
    { "# c\n\n  via off # trailing\n", "via off" },
    { "via off\r\n", "via off" },
    { "\tvia\toff\t", "via off" },
    { "tcp_outgoing_address 10.0.0.1", "tcp_outgoing_address 10.0.0.1" },
    { "acl a src 10.0.0.0/8\ntcp_outgoing_address ::1 a",
      "tcp_outgoing_address ::1 a" },
};

static void
test_good(void **state)
{
    for (size_t i = 0; i < SK_ARRAY_LEN(good_cases); i++) {
        struct conf *c = load_ok(good_cases[i].text);
        char *dump = dump_string(c);

        if (!has_line(dump, good_cases[i].line))
            fail_msg("'%s': dump lacks '%s':\n%s", good_cases[i].text,
                     good_cases[i].line, dump);
        free(dump);
        conf_unref(c);
    }
}

/* Field values that the dump alone does not show. */
static void
test_good_fields(void **state)
{
    struct conf *c;
    char buf[SK_ADDRSTRLEN];
    const struct conf_http_port *p;

    c = load_ok("http_port 127.0.0.1:3128 name=local\n"
                "http_port [::1]:3128\n"
                "pid_filename none\nforwarded_for delete\n"
                "dns_nameservers 1.1.1.1 8.8.8.8\ndns_nameservers ::1\n"
                "acl a src 10.0.0.0/8\n"
                "tcp_outgoing_address 192.0.2.1 a\n"
                "tcp_outgoing_address 2001:db8::1\n"
                "logformat s %ts %>a\n"
                "access_log /x/a.log s a\n"
                "access_log syslog\n");
    p = c->http_ports;
    assert_string_equal(sk_addr_port_str((const struct sockaddr *)&p->addr,
                                         buf, sizeof(buf)),
                        "127.0.0.1:3128");
    assert_string_equal(p->name, "local");
    assert_int_equal(p->flags, CONF_PORT_F_NAMED);
    assert_string_equal(p->spec, "http_port 127.0.0.1:3128 name=local");
    assert_string_equal(p->file, "t.conf");
    assert_int_equal(p->line, 1);
    p = p->next;
    assert_string_equal(sk_addr_port_str((const struct sockaddr *)&p->addr,
                                         buf, sizeof(buf)), "[::1]:3128");
    assert_string_equal(p->name, "[::1]:3128");
    assert_int_equal(p->line, 2);
    assert_null(p->next);
    assert_string_equal(c->pid_filename, "none");
    assert_int_equal(c->forwarded_for, CONF_FWD_DELETE);
    assert_string_equal(c->dns_nameservers[0], "1.1.1.1");
    assert_string_equal(c->dns_nameservers[1], "8.8.8.8");
    assert_string_equal(c->dns_nameservers[2], "::1");
    assert_null(c->dns_nameservers[3]);
    assert_non_null(c->tcp_outgoing);
    assert_non_null(c->tcp_outgoing->acl);
    assert_string_equal(sk_addr_str((const struct sockaddr *)
                                    &c->tcp_outgoing->addr, buf, sizeof(buf)),
                        "192.0.2.1");
    assert_null(c->tcp_outgoing->next->acl);
    assert_string_equal(sk_addr_str((const struct sockaddr *)
                                    &c->tcp_outgoing->next->addr, buf,
                                    sizeof(buf)), "2001:db8::1");
    assert_non_null(c->logformats);
    assert_string_equal(log_format_name(c->logformats), "s");
    assert_string_equal(c->access_logs->dest, "stdio:/x/a.log");
    assert_ptr_equal(c->access_logs->format, c->logformats);
    assert_non_null(c->access_logs->acl);
    assert_string_equal(c->access_logs->next->dest, "syslog");
    assert_string_equal(log_format_name(c->access_logs->next->format),
                        "squid");
    assert_null(c->access_logs->next->next);
    conf_unref(c);

    /* access_log none alone: no access logging at all */
    c = load_ok("access_log none\n");
    assert_null(c->access_logs);
    conf_unref(c);
}

/* ---- bad snippets: the exact error ---- */

static const struct {
    const char *text;
    const char *err;
} bad_cases[] = {
    { "foo bar", "t.conf:1: unknown directive 'foo'" },
    { "Via on", "t.conf:1: unknown directive 'Via'" },
    { "\nhttp_access allow bar",
      "t.conf:2: http_access: acl 'bar' is not defined" },
    { "http_access", "t.conf:1: http_access: missing allow or deny" },
    { "http_access permit all", "t.conf:1: http_access: bad action "
      "'permit': expected 'allow' or 'deny'" },
    { "connect_timeout abc",
      "t.conf:1: connect_timeout: 'abc' is not a time (e.g. 30 seconds)" },
    { "connect_timeout 30 parsecs", "t.conf:1: connect_timeout: "
      "'30 parsecs' is not a time (e.g. 30 seconds)" },
    { "connect_timeout", "t.conf:1: connect_timeout: missing value" },
    { "connect_timeout 1 minute extra",
      "t.conf:1: connect_timeout: too many arguments" },
    { "request_header_max_size 64 XB", "t.conf:1: request_header_max_size: "
      "'64 XB' is not a size (e.g. 64 KB)" },
    { "via maybe", "t.conf:1: via: 'maybe' is not on or off" },
    { "via yes", "t.conf:1: via: 'yes' is not on or off" },
    { "via on off", "t.conf:1: via: too many arguments" },
    { "workers 65", "t.conf:1: workers: 65 is out of range (0-64)" },
    { "workers x", "t.conf:1: workers: 'x' is not a number" },
    { "workers -1", "t.conf:1: workers: '-1' is not a number" },
    { "forwarded_for sometimes", "t.conf:1: forwarded_for: 'sometimes' is "
      "not one of: on off transparent delete truncate" },
    { "via on\n\nvia off",
      "t.conf:3: via: duplicate directive (first set at t.conf:1)" },
    { "http_port 3128 intercept tproxy", "t.conf:1: http_port: intercept "
      "and tproxy exclude each other: give each its own port" },
    { "http_port 3128 tproxy transparent", "t.conf:1: http_port: "
      "intercept and tproxy exclude each other: give each its own port" },
    { "intercept_backend nat", "t.conf:1: intercept_backend: 'nat' is not "
      "one of auto, netfilter, tproxy, pf, ipfw" },
    { "spoof_client_ip allow nosuchacl", "t.conf:1: spoof_client_ip: acl "
      "'nosuchacl' is not defined" },
    { "http_port 3128 foo", "t.conf:1: http_port: unknown option 'foo'" },
    { "http_port abc", "t.conf:1: http_port: 'abc' is not [ADDR:]PORT" },
    { "http_port 127.0.0.1", "t.conf:1: http_port: '127.0.0.1' is not "
      "[ADDR:]PORT" },
    { "http_port 70000", "t.conf:1: http_port: '70000' is not [ADDR:]PORT" },
    { "http_port", "t.conf:1: http_port: missing [ADDR:]PORT" },
    { "http_port 127.0.0.1:3128\nhttp_port 127.0.0.1:3128",
      "t.conf:2: http_port: 127.0.0.1:3128 is already configured at "
      "t.conf:1" },
    { "access_log ftp://x", "t.conf:1: access_log: 'ftp://x' is not a log "
      "destination (stdio:PATH, syslog[:FACILITY[.PRIORITY]] or none)" },
    { "access_log stdio:", "t.conf:1: access_log: 'stdio:' is not a log "
      "destination (stdio:PATH, syslog[:FACILITY[.PRIORITY]] or none)" },
    { "access_log syslog:nofac", "t.conf:1: access_log: 'syslog:nofac' is "
      "not a log destination (stdio:PATH, syslog[:FACILITY[.PRIORITY]] or "
      "none)" },
    { "access_log stdio:/x nosuch",
      "t.conf:1: access_log: logformat 'nosuch' is not defined" },
    { "access_log stdio:/x logformat=nosuch",
      "t.conf:1: access_log: logformat 'nosuch' is not defined" },
    { "access_log stdio:/x foo=bar",
      "t.conf:1: access_log: unknown option 'foo=bar'" },
    { "access_log stdio:/x squid nosuch",
      "t.conf:1: access_log: acl 'nosuch' is not defined" },
    { "access_log none squid",
      "t.conf:1: access_log: none takes no format or acl" },
    { "logformat squid %ts", "t.conf:1: logformat: 'squid' is a built-in "
      "format and cannot be redefined" },
    { "logformat x %!", "t.conf:1: logformat: bad format code '%!'" },
    { "logformat x %a\nlogformat x %b",
      "t.conf:2: logformat: 'x' is already defined" },
    { "logformat x", "t.conf:1: logformat: missing NAME or FORMAT" },
    { "debug_options ALL,10",
      "t.conf:1: debug_options: bad level in 'ALL,10' (0-9)" },
    { "debug_options ALL,1 foo,1",
      "t.conf:1: debug_options: unknown section 'foo'" },
    { "debug_options 1", "t.conf:1: debug_options: '1' is not "
      "SECTION,LEVEL" },
    { "debug_options 99,1", "t.conf:1: debug_options: unknown section '99'" },
    { "cache_log \"unterminated", "t.conf:1: unterminated quoted string" },
    { "cache_log \"a\"b", "t.conf:1: missing space after a quoted string" },
    { "cache_log a b", "t.conf:1: cache_log: too many arguments" },
    { "dns_nameservers 1.2.3.4 nope",
      "t.conf:1: dns_nameservers: 'nope' is not an IP address "
      "(optionally with :port)" },
    { "dns_nameservers 1.2.3.4:0",
      "t.conf:1: dns_nameservers: '1.2.3.4:0' is not an IP address "
      "(optionally with :port)" },
    { "tcp_outgoing_address nope",
      "t.conf:1: tcp_outgoing_address: 'nope' is not an IP address" },
    { "tcp_outgoing_address 10.0.0.1 nosuch",
      "t.conf:1: tcp_outgoing_address: acl 'nosuch' is not defined" },
    { "acl x bogustype 1", "t.conf:1: acl x: unknown type 'bogustype'" },
    { "acl x", "t.conf:1: acl: missing NAME or TYPE" },
    { "include", "t.conf:1: include: missing file name" },
    { "include /nonexistent/skua/file.conf", "t.conf:1: include: cannot "
      "open '/nonexistent/skua/file.conf': No such file or directory" },
    { "acl x src \"/nonexistent/skua/list\"", "t.conf:1: acl: cannot open "
      "'/nonexistent/skua/list': No such file or directory" },
    { "via on \\\n off \nfoo", "t.conf:1: via: too many arguments" },
    { "via on \\\n\nfoo", "t.conf:3: unknown directive 'foo'" },
};

static void
test_bad(void **state)
{
    for (size_t i = 0; i < SK_ARRAY_LEN(bad_cases); i++) {
        char *err = NULL;
        struct conf *c = conf_load_string(bad_cases[i].text, "t.conf", &err);

        if (c != NULL)
            fail_msg("'%s' was accepted", bad_cases[i].text);
        assert_non_null(err);
        if (strcmp(err, bad_cases[i].err) != 0)
            fail_msg("'%s':\n  got    '%s'\n  wanted '%s'", bad_cases[i].text,
                     err, bad_cases[i].err);
        free(err);
    }
}

/* ---- files: include, parameters-from-file, conf_load ---- */

static int
setup_tmp(void **state)
{
    char path[512];

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_conf.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/conf.d", tmpdir);
    return mkdir(path, 0700);
}

static int
teardown_tmp(void **state)
{
    char cmd[600];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
test_include(void **state)
{
    char main_path[512], want[1024], *err = NULL, *dump;
    struct conf *c;

    snprintf(main_path, sizeof(main_path), "%s/main.conf", tmpdir);
    /* 10-a defines the acl that 20-b uses: glob order is sorted */
    write_file("conf.d/20-b.conf", "http_access allow a\n");
    write_file("conf.d/10-a.conf", "# first\nacl a src 10.0.0.0/8\n");
    write_file("conf.d/skip.txt", "bogus\n");
    write_file("main.conf", "include conf.d/*.conf\n"
               "include conf.d/nothing-*.conf\nvia off\n");
    c = conf_load(main_path, &err);
    if (c == NULL)
        fail_msg("%s", err);
    assert_false(c->via);
    assert_non_null(c->http_access);
    dump = dump_string(c);
    assert_true(has_line(dump, "acl a src 10.0.0.0/8"));
    assert_false(has_line(dump, "include conf.d/*.conf"));
    free(dump);
    conf_unref(c);

    /* an error in an included file names that file and line */
    write_file("conf.d/20-b.conf", "http_access allow a\n\nbogus x\n");
    c = conf_load(main_path, &err);
    assert_null(c);
    snprintf(want, sizeof(want),
             "%s/conf.d/20-b.conf:3: unknown directive 'bogus'", tmpdir);
    assert_string_equal(err, want);
    free(err);
    write_file("conf.d/20-b.conf", "http_access allow a\n");

    /* a missing literal file is an error at the including line */
    write_file("main.conf", "via off\ninclude conf.d/missing.conf\n");
    c = conf_load(main_path, &err);
    assert_null(c);
    snprintf(want, sizeof(want), "%s/main.conf:2: include: cannot open "
             "'%s/conf.d/missing.conf': No such file or directory", tmpdir,
             tmpdir);
    assert_string_equal(err, want);
    free(err);

    /* a loop stops at the depth limit */
    write_file("loop.conf", "\ninclude loop.conf\n");
    snprintf(main_path, sizeof(main_path), "%s/loop.conf", tmpdir);
    c = conf_load(main_path, &err);
    assert_null(c);
    snprintf(want, sizeof(want), "%s/loop.conf:2: include: nested more than "
             "16 deep", tmpdir);
    assert_string_equal(err, want);
    free(err);

    /* a duplicate across files names the first place */
    write_file("dup.conf", "via on\ninclude conf.d/via.conf\n");
    write_file("conf.d/via.conf", "via off\n");
    snprintf(main_path, sizeof(main_path), "%s/dup.conf", tmpdir);
    c = conf_load(main_path, &err);
    assert_null(c);
    snprintf(want, sizeof(want), "%s/conf.d/via.conf:1: via: duplicate "
             "directive (first set at %s/dup.conf:1)", tmpdir, tmpdir);
    assert_string_equal(err, want);
    free(err);

    /* the main file itself missing */
    c = conf_load("/nonexistent/skua.conf", &err);
    assert_null(c);
    assert_string_equal(err, "/nonexistent/skua.conf: cannot open: No such "
                        "file or directory");
    free(err);
}

static void
test_values_file(void **state)
{
    char text[512], *err = NULL, *dump;
    struct conf *c;

    write_file("nets", "# local nets\n10.0.0.0/8\n\n  192.168.0.0/16  \n"
               "\t# indented comment\nfc00::/7");
    snprintf(text, sizeof(text), "acl a src 127.0.0.1 \"%s/nets\" ::1\n"
             "http_access allow a\n", tmpdir);
    c = conf_load_string(text, "t.conf", &err);
    if (c == NULL)
        fail_msg("%s", err);
    dump = dump_string(c);
    if (!has_line(dump, "acl a src 127.0.0.1 10.0.0.0/8 192.168.0.0/16 "
                  "fc00::/7 ::1"))
        fail_msg("dump:\n%s", dump);
    free(dump);
    conf_unref(c);

    /* a quoted value that is not a path stays a value */
    c = load_ok("acl m method \"GET\"\n");
    dump = dump_string(c);
    assert_true(has_line(dump, "acl m method GET"));
    free(dump);
    conf_unref(c);
}

static void
test_file_access_off(void **state)
{
    char *err = NULL;
    struct conf *c;

    conf_set_file_access(false);
    c = conf_load_string("include /etc/hosts\n", "t.conf", &err);
    assert_null(c);
    assert_string_equal(err, "t.conf:1: include: file access is disabled");
    free(err);
    c = conf_load_string("acl a src \"/etc/hosts\"\n", "t.conf", &err);
    assert_null(c);
    assert_string_equal(err, "t.conf:1: acl: file access is disabled");
    free(err);
    conf_set_file_access(true);
}

/* ---- the shipped default configuration ---- */

static void
test_default_config(void **state)
{
    char *err = NULL, *dump, *dump2;
    struct conf *c, *c2;
    char buf[SK_ADDRSTRLEN];

    c = conf_load(SK_TEST_SRCDIR "/etc/skua.conf.default", &err);
    if (c == NULL)
        fail_msg("%s", err);
    assert_string_equal(sk_addr_port_str(
        (const struct sockaddr *)&c->http_ports->addr, buf, sizeof(buf)),
        "127.0.0.1:3128");
    assert_string_equal(sk_addr_port_str(
        (const struct sockaddr *)&c->http_ports->next->addr, buf,
        sizeof(buf)), "[::1]:3128");
    assert_int_equal(c->http_ports->next->next->kind, CONF_PORT_SOCKS);
    assert_string_equal(sk_addr_port_str(
        (const struct sockaddr *)&c->http_ports->next->next->addr, buf,
        sizeof(buf)), "127.0.0.1:1080");
    assert_null(c->http_ports->next->next->next);
    assert_non_null(c->socks_access);
    assert_string_equal(c->access_logs->dest, "stdio:-");
    assert_null(c->access_logs->next);
    assert_string_equal(c->cache_log, "stderr");
    assert_string_equal(c->pid_filename, "none");
    assert_non_null(c->http_access);

    /* the dump parses back to the same dump */
    dump = dump_string(c);
    c2 = conf_load_string(dump, "dump.conf", &err);
    if (c2 == NULL)
        fail_msg("%s\n%s", err, dump);
    dump2 = dump_string(c2);
    assert_string_equal(dump, dump2);
    free(dump);
    free(dump2);
    conf_unref(c2);
    conf_unref(c);
}

/* ---- generated documents ---- */

static void
test_doc(void **state)
{
    static const struct {
        const char *format, *needle;
    } cases[] = {
        { "text", "#  TAG: connect_timeout\n" },
        { "text", "#Default:\n# connect_timeout 1 minute\n" },
        { "man", ".SS connect_timeout\n" },
        { "man", "\\fBforwarded_for on|off|transparent|delete|truncate\\fR" },
        { "default", "# request_header_max_size 64 KB\n" },
    };

    for (size_t i = 0; i < SK_ARRAY_LEN(cases); i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&buf, &len);

        assert_int_equal(conf_write_doc(fp, cases[i].format), 0);
        fclose(fp);
        if (strstr(buf, cases[i].needle) == NULL)
            fail_msg("%s lacks '%s'", cases[i].format, cases[i].needle);
        /* every directive is documented */
        for (size_t k = 0; k < conf_ndirectives &&
             strcmp(cases[i].format, "default") != 0; k++)
            assert_non_null(strstr(buf, conf_directives[k].name));
        free(buf);
    }
    assert_int_equal(conf_write_doc(stdout, "pdf"), -1);
}

/* Every default of the table parses (one validation path). */
static void
test_table(void **state)
{
    for (size_t i = 0; i < conf_ndirectives; i++) {
        const struct conf_directive *d = &conf_directives[i];

        assert_non_null(d->syntax);
        assert_non_null(d->help);
        assert_int_equal(strncmp(d->syntax, d->name, strlen(d->name)), 0);
        if (d->slot == CONF_SLOT_CUSTOM)
            assert_non_null(d->arg.parse);
    }
}

/* ---- reference counting ---- */

static void
test_refcount(void **state)
{
    struct conf *c = load_ok("via off\n");

    assert_int_equal(atomic_load(&c->refs), 1);
    assert_ptr_equal(conf_ref(c), c);
    assert_ptr_equal(conf_ref(c), c);
    assert_int_equal(atomic_load(&c->refs), 3);
    conf_unref(c);
    conf_unref(c);
    assert_int_equal(atomic_load(&c->refs), 1);
    assert_false(c->via);
    conf_unref(c);              /* freed: ASan checks the rest */
    conf_unref(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_good_fields),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_include),
        cmocka_unit_test(test_values_file),
        cmocka_unit_test(test_file_access_off),
        cmocka_unit_test(test_default_config),
        cmocka_unit_test(test_doc),
        cmocka_unit_test(test_refcount),
    };

    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
