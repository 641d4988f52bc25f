# src/proto/: pure protocol parsers (no I/O), each unit-tested and fuzzed.
libskua_a_SOURCES += \
	src/proto/http_parse.c \
	src/proto/http_parse.h

if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_http_parse
TESTS += test-suite/unit/test_http_parse
test_suite_unit_test_http_parse_SOURCES = test-suite/unit/test_http_parse.c \
	src/proto/http_parse.c
test_suite_unit_test_http_parse_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_http_parse_LDADD = $(CMOCKA_LIBS)
endif
