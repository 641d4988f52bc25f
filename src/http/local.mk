# src/http/: the HTTP proxy (client side, server side, heads, errors,
# CONNECT).
libskua_a_SOURCES += \
	src/http/http.h \
	src/http/http_client.c \
	src/http/http_connect.c \
	src/http/http_error.c \
	src/http/http_forward.c \
	src/http/http_intercept.c \
	src/http/http_server.c

if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_http_forward
TESTS += test-suite/unit/test_http_forward
test_suite_unit_test_http_forward_SOURCES = \
	test-suite/unit/test_http_forward.c \
	src/http/http_forward.c \
	src/proto/http_parse.c \
	lib/sk_str.c
test_suite_unit_test_http_forward_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_http_forward_LDADD = $(CMOCKA_LIBS) $(SK_LIBS)
endif
