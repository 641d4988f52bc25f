/*
 * http_error.c -- Squid-style error pages.
 *
 * Each error has a built-in HTML template; a file of the same name in
 * error_directory replaces it (read when the page is first needed and kept
 * per template).  Templates use Squid's codes: %U URL, %M method, %c error
 * name, %E detail, %i client IP, %H host, %h our visible hostname, %T
 * date, %s skua version, %% a percent sign.  Every page carries an
 * X-Skua-Error header naming the error, so scripts need not parse HTML.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "sk_log.h"
#include "sk_str.h"
#include "conf/conf.h"
#include "http/http.h"

struct err_tmpl {
    const char *name;
    const char *title;
    const char *text;
};

static const struct err_tmpl builtin[] = {
    { "ERR_ACCESS_DENIED", "Access Denied",
      "Access control configuration prevents your request from being "
      "allowed at this time." },
    { "ERR_INVALID_REQ", "Invalid Request",
      "The request could not be parsed: %E." },
    { "ERR_INVALID_URL", "Invalid URL",
      "Some aspect of the requested URL is incorrect: %E." },
    { "ERR_UNSUP_REQ", "Unsupported Request",
      "The request method and protocol are not supported: %E." },
    { "ERR_UNSUP_HTTPVERSION", "Unsupported HTTP version",
      "This proxy does not support the HTTP version of the request." },
    { "ERR_DNS_FAIL", "Unable to determine IP address",
      "Unable to determine the IP address of <b>%H</b>: %E." },
    { "ERR_CONNECT_FAIL", "Connection failed",
      "The system returned: <i>%E</i>. The remote host or network may be "
      "down." },
    { "ERR_READ_TIMEOUT", "Read Timeout",
      "A timeout occurred while waiting to read data from the network: "
      "%E." },
    { "ERR_READ_ERROR", "Read Error",
      "An error condition occurred while reading data from the network: "
      "%E." },
    { "ERR_ZERO_SIZE_OBJECT", "Zero Sized Reply",
      "The server closed the connection without sending any data." },
    { "ERR_INVALID_RESP", "Invalid Response",
      "The HTTP response message received from the contacted server could "
      "not be understood or was otherwise malformed: %E." },
    { "ERR_TOO_BIG", "Request or reply is too large",
      "The request or reply is too large: %E." },
    { "ERR_LOOP_DETECTED", "Forwarding loop detected",
      "This request was already forwarded by this proxy (%h)." },
    { "ERR_CONFLICT_HOST", "URI Host Conflict",
      "The Host header of this intercepted request does not match the "
      "address it was sent to: %E.  Check that the name resolves to the "
      "server you meant to reach." },
    { "ERR_SHUTTING_DOWN", "Proxy shutting down",
      "This proxy is shutting down and cannot serve your request." },
};

static const char page_head[] =
    "<!DOCTYPE html>\n<html><head>"
    "<meta charset=\"utf-8\"><title>ERROR: %t</title>"
    "<style>body{font-family:sans-serif;margin:2em}"
    "#footer{font-size:small;color:#666}</style></head>\n"
    "<body><h1>ERROR</h1><h2>%t</h2>\n<hr>\n"
    "<p>While trying to process the request <b>%M %U</b>:</p>\n<p>";
static const char page_tail[] =
    "</p>\n<p>Error code: <code>%c</code></p>\n<hr>\n"
    "<div id=\"footer\">Generated %T by %h (skua/%s)</div>\n"
    "</body></html>\n";

/* Templates loaded from error_directory, by index into builtin[]. */
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static char *file_text[SK_ARRAY_LEN(builtin)];
static bool file_tried[SK_ARRAY_LEN(builtin)];
static char file_dir[512];

static const char *
tmpl_file(size_t i, const char *dir)
{
    char path[1024], *text = NULL;
    ssize_t n;
    int fd;

    if (dir == NULL)
        return NULL;
    pthread_mutex_lock(&file_lock);
    if (strcmp(file_dir, dir) != 0) {
        /* error_directory changed on reload: forget what was loaded.
         * The old texts are kept: a page may be rendering from one. */
        snprintf(file_dir, sizeof(file_dir), "%s", dir);
        memset(file_tried, 0, sizeof(file_tried));
    }
    if (!file_tried[i]) {
        file_tried[i] = true;
        snprintf(path, sizeof(path), "%s/%s", dir, builtin[i].name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd != -1) {
            text = sk_malloc(65536);
            n = read(fd, text, 65535);
            close(fd);
            if (n > 0) {
                text[n] = '\0';
                file_text[i] = text;
            } else {
                free(text);
            }
        }
    }
    text = file_text[i];
    pthread_mutex_unlock(&file_lock);
    return text;
}

/* Append <s> to <out> with HTML's special characters escaped. */
static void
add_html(struct evbuffer *out, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '<': evbuffer_add(out, "&lt;", 4); break;
        case '>': evbuffer_add(out, "&gt;", 4); break;
        case '&': evbuffer_add(out, "&amp;", 5); break;
        case '"': evbuffer_add(out, "&quot;", 6); break;
        default: evbuffer_add(out, s, 1); break;
        }
    }
}

struct err_ctx {
    const struct err_tmpl *t;
    const struct rec *rec;
    const char *detail;
    const char *hostname;
};

static void
expand(struct evbuffer *out, const char *s, const struct err_ctx *x)
{
    char buf[SK_ADDRSTRLEN + 64];
    const char *p;

    for (; *s != '\0'; s++) {
        if (*s != '%' || s[1] == '\0') {
            p = strchr(s, '%');
            size_t n = p ? (size_t)(p - s) : strlen(s);
            if (n == 0)
                n = 1;
            evbuffer_add(out, s, n);
            s += n - 1;
            continue;
        }
        s++;
        switch (*s) {
        case 'U': add_html(out, x->rec->url ? x->rec->url : "-"); break;
        case 'M': add_html(out, x->rec->method ? x->rec->method : "-");
            break;
        case 'c': add_html(out, x->t->name); break;
        case 't': add_html(out, x->t->title); break;
        case 'E': add_html(out, x->detail ? x->detail : "-"); break;
        case 'H': add_html(out, x->rec->dst_host ? x->rec->dst_host : "-");
            break;
        case 'h': add_html(out, x->hostname); break;
        case 's': add_html(out, PACKAGE_VERSION); break;
        case 'i':
            add_html(out, sk_addr_str((const struct sockaddr *)
                                      &x->rec->client, buf, sizeof(buf)));
            break;
        case 'T': {
            time_t now = time(NULL);
            struct tm tm;
            gmtime_r(&now, &tm);
            strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
            add_html(out, buf);
            break;
        }
        case '%': evbuffer_add(out, "%", 1); break;
        default: evbuffer_add(out, s - 1, 2); break;
        }
    }
}

static const char *
reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

/* Queue the whole error response on <c->out>; return its size. */
static size_t
render(struct http_conn *c, const struct rec *rec, int status,
       const char *name, const char *detail, bool close)
{
    struct evbuffer *body = evbuffer_new();
    struct err_ctx x;
    const char *file = NULL;
    size_t i, before = evbuffer_get_length(c->out);
    bool head_only = rec->method != NULL && strcmp(rec->method, "HEAD") == 0;

    for (i = 0; i < SK_ARRAY_LEN(builtin); i++)
        if (strcmp(builtin[i].name, name) == 0)
            break;
    if (SK_BUG(i == SK_ARRAY_LEN(builtin)))
        i = 0;
    x.t = &builtin[i];
    x.rec = rec;
    x.detail = detail;
    x.hostname = c->conf->visible_hostname ? c->conf->visible_hostname
                                           : "skua";
    file = tmpl_file(i, c->conf->error_directory);
    if (file != NULL) {
        expand(body, file, &x);
    } else {
        expand(body, page_head, &x);
        expand(body, x.t->text, &x);
        expand(body, page_tail, &x);
    }
    evbuffer_add_printf(c->out,
        "HTTP/1.1 %d %s\r\nServer: skua/%s\r\nX-Skua-Error: %s\r\n"
        "Content-Type: text/html;charset=utf-8\r\nContent-Length: %zu\r\n"
        "Cache-Control: no-store\r\n%s\r\n",
        status, reason_phrase(status), PACKAGE_VERSION, name,
        evbuffer_get_length(body),
        close ? "Connection: close\r\n" : "");
    if (!head_only)
        evbuffer_add_buffer(c->out, body);
    evbuffer_free(body);
    return evbuffer_get_length(c->out) - before;
}

void
http_error_reply(struct http_txn *t, int status, const char *name,
                 const char *detail, bool close)
{
    struct http_conn *c = t->c;

    if (t->resp_head_done) {
        /* Too late for a page: the client already has a status. */
        http_txn_abort(t);
        return;
    }
    if (!t->req_done || !t->keepalive)
        close = true;
    t->state = TXN_REPLIED;
    t->rec.status = status;
    t->rec.error = name;
    t->rec.content_type = "text/html";
    if (t->rec.result == NULL)
        t->rec.result = status == 403 ? "TCP_DENIED" : "TCP_MISS";
    if (t->rec.hier == REC_HIER_NONE)
        memset(&t->rec.server, 0, sizeof(t->rec.server));
    if (t->srv != NULL) {
        /* whatever the server was doing, it is no longer reusable */
        t->srv->rd_eof = true;
    }
    t->rec.bytes_out += render(c, &t->rec, status, name, detail, close);
    t->resp_head_done = true;
    t->resp_done = true;
    t->keepalive = !close;
    sk_debug(SK_SEC_HTTP, 2, "%d %s for %s: %s", status, name,
             t->rec.url ? t->rec.url : "-", detail ? detail : "-");
    http_txn_finish(t);
}

void
http_error_reply_raw(struct http_conn *c, int status, const char *name,
                     const char *detail)
{
    struct rec rec;

    memset(&rec, 0, sizeof(rec));
    rec.client = c->peer;
    render(c, &rec, status, name, detail, true);
    c->closing = true;
    c->linger_wanted = true;    /* the rest of what it sent is unread */
    http_conn_flush(c);
}
