# src/socks/: the SOCKS server side (SOCKS4, 4a and 5).
libskua_a_SOURCES += \
	src/socks/socks_int.h \
	src/socks/socks_server.c \
	src/socks/socks_auth.c \
	src/socks/socks_bind.c \
	src/socks/socks_udp.c
