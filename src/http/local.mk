# src/http/: the HTTP proxy (client side, server side, heads, errors,
# CONNECT).
libskua_a_SOURCES += \
	src/http/http.h \
	src/http/http_client.c \
	src/http/http_connect.c \
	src/http/http_error.c \
	src/http/http_forward.c \
	src/http/http_server.c
