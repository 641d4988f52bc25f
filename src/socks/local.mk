# src/socks/: the SOCKS server side.
libskua_a_SOURCES += \
	src/socks/socks_server.c
