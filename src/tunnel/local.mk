# src/tunnel/: intercepted TLS and TCP (https_port, tcp_port): peek,
# decide, relay to the original destination.
libskua_a_SOURCES += src/tunnel/tunnel.c
