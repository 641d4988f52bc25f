/*
 * socks_server.c -- the SOCKS server side (SOCKS4, 4a and 5).
 *
 * Until the SOCKS protocol lands, a connection handed here is refused by
 * closing it, which every SOCKS client reports as a failure.
 */
#include "config.h"

#include <unistd.h>

#include <event2/buffer.h>

#include "comm/worker.h"

void
socks_accept(struct worker *w, const struct conf_http_port *port, int fd,
             const struct sockaddr_storage *peer, struct evbuffer *initial)
{
    (void)w;
    (void)port;
    (void)peer;
    (void)initial;
    close(fd);
}
