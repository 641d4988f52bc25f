# src/proto/: pure protocol parsers (no I/O), each unit-tested and fuzzed.
libskua_a_SOURCES += \
	src/proto/http_parse.c \
	src/proto/http_parse.h \
	src/proto/socks_parse.c \
	src/proto/socks_parse.h

if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_http_parse
TESTS += test-suite/unit/test_http_parse
test_suite_unit_test_http_parse_SOURCES = test-suite/unit/test_http_parse.c \
	src/proto/http_parse.c
test_suite_unit_test_http_parse_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_http_parse_LDADD = $(CMOCKA_LIBS)
endif

# SOCKS4, SOCKS4a and SOCKS5 messages (src/proto/socks_parse.c)
if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_socks_parse
TESTS += test-suite/unit/test_socks_parse
test_suite_unit_test_socks_parse_SOURCES = \
	test-suite/unit/test_socks_parse.c src/proto/socks_parse.c
test_suite_unit_test_socks_parse_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_socks_parse_LDADD = $(CMOCKA_LIBS)
endif

# Fuzzing the SOCKS parsers (pattern: top of test-suite/fuzz/local.mk).
if ENABLE_FUZZING
noinst_PROGRAMS += test-suite/fuzz/fuzz_socks
else
check_PROGRAMS += test-suite/fuzz/fuzz_socks
endif
test_suite_fuzz_fuzz_socks_SOURCES = test-suite/fuzz/fuzz_socks.c \
	src/proto/socks_parse.c $(FUZZ_DRIVER)
test_suite_fuzz_fuzz_socks_CPPFLAGS = $(FUZZ_CPPDEFS)
test_suite_fuzz_fuzz_socks_LDFLAGS = $(FUZZ_LINKFLAGS)
EXTRA_DIST += test-suite/fuzz/corpus/fuzz_socks

# TLS ClientHello (src/proto/tls_parse.c)
libskua_a_SOURCES += src/proto/tls_parse.c src/proto/tls_parse.h
if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_tls_parse
TESTS += test-suite/unit/test_tls_parse
test_suite_unit_test_tls_parse_SOURCES = \
	test-suite/unit/test_tls_parse.c src/proto/tls_parse.c
test_suite_unit_test_tls_parse_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_tls_parse_LDADD = $(CMOCKA_LIBS)
endif
if ENABLE_FUZZING
noinst_PROGRAMS += test-suite/fuzz/fuzz_tls
else
check_PROGRAMS += test-suite/fuzz/fuzz_tls
endif
test_suite_fuzz_fuzz_tls_SOURCES = test-suite/fuzz/fuzz_tls.c \
	src/proto/tls_parse.c $(FUZZ_DRIVER)
test_suite_fuzz_fuzz_tls_CPPFLAGS = $(FUZZ_CPPDEFS)
test_suite_fuzz_fuzz_tls_LDFLAGS = $(FUZZ_LINKFLAGS)
EXTRA_DIST += test-suite/fuzz/corpus/fuzz_tls

# First-bytes protocol classifier (src/proto/sniff.c)
libskua_a_SOURCES += src/proto/sniff.c src/proto/sniff.h
if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_sniff
TESTS += test-suite/unit/test_sniff
test_suite_unit_test_sniff_SOURCES = test-suite/unit/test_sniff.c \
	src/proto/sniff.c src/proto/tls_parse.c
test_suite_unit_test_sniff_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_sniff_LDADD = $(CMOCKA_LIBS)
endif
if ENABLE_FUZZING
noinst_PROGRAMS += test-suite/fuzz/fuzz_sniff
else
check_PROGRAMS += test-suite/fuzz/fuzz_sniff
endif
test_suite_fuzz_fuzz_sniff_SOURCES = test-suite/fuzz/fuzz_sniff.c \
	src/proto/sniff.c src/proto/tls_parse.c $(FUZZ_DRIVER)
test_suite_fuzz_fuzz_sniff_CPPFLAGS = $(FUZZ_CPPDEFS)
test_suite_fuzz_fuzz_sniff_LDFLAGS = $(FUZZ_LINKFLAGS)
EXTRA_DIST += test-suite/fuzz/corpus/fuzz_sniff
