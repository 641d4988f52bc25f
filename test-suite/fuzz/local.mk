# test-suite/fuzz/: libFuzzer harnesses for the pure parsers.
#
# A harness is test-suite/fuzz/fuzz_<name>.c defining
# LLVMFuzzerTestOneInput() (prototype and FUZZ_CHECK() are in fuzz.h), with
# a committed seed corpus in test-suite/fuzz/corpus/fuzz_<name>/.
#
#  - configure --enable-fuzzing CC=clang: every harness is a libFuzzer
#    binary in noinst_PROGRAMS; script/fuzz [SECONDS] builds and runs them.
#  - otherwise: every harness is linked with replay.c into check_PROGRAMS,
#    and replay.sh (in TESTS) runs each built test-suite/fuzz/fuzz_* binary
#    over $(srcdir)/test-suite/fuzz/corpus/<binary name>/.
#
# To add a harness, put these lines in your own fragment (example: the
# configuration parser, in src/conf/local.mk) and commit the corpus; both
# replay.sh and script/fuzz find it by its fuzz_ name, nothing else changes:
#
#   if ENABLE_FUZZING
#   noinst_PROGRAMS += test-suite/fuzz/fuzz_conf
#   else
#   check_PROGRAMS += test-suite/fuzz/fuzz_conf
#   endif
#   test_suite_fuzz_fuzz_conf_SOURCES = test-suite/fuzz/fuzz_conf.c \
#   	src/conf/conf.c $(FUZZ_DRIVER)
#   test_suite_fuzz_fuzz_conf_CPPFLAGS = $(FUZZ_CPPDEFS)
#   test_suite_fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LINKFLAGS)
#   test_suite_fuzz_fuzz_conf_LDADD = libskua.a $(SK_LIBS)   # if needed
#   EXTRA_DIST += test-suite/fuzz/corpus/fuzz_conf

if ENABLE_FUZZING
FUZZ_DRIVER =
FUZZ_LINKFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
FUZZ_DRIVER = test-suite/fuzz/replay.c
FUZZ_LINKFLAGS = $(AM_LDFLAGS)
TESTS += test-suite/fuzz/replay.sh
endif
FUZZ_CPPDEFS = $(AM_CPPFLAGS) \
	-DSK_FUZZ_CORPUS_ROOT='"$(abs_top_srcdir)/test-suite/fuzz/corpus"'

EXTRA_DIST += \
	test-suite/fuzz/fuzz.h \
	test-suite/fuzz/replay.c \
	test-suite/fuzz/replay.sh

# HTTP/1.1 heads and chunked bodies (src/proto/http_parse.c)
if ENABLE_FUZZING
noinst_PROGRAMS += \
	test-suite/fuzz/fuzz_http_request \
	test-suite/fuzz/fuzz_http_response \
	test-suite/fuzz/fuzz_http_chunked
else
check_PROGRAMS += \
	test-suite/fuzz/fuzz_http_request \
	test-suite/fuzz/fuzz_http_response \
	test-suite/fuzz/fuzz_http_chunked
endif
test_suite_fuzz_fuzz_http_request_SOURCES = \
	test-suite/fuzz/fuzz_http_request.c src/proto/http_parse.c \
	$(FUZZ_DRIVER)
test_suite_fuzz_fuzz_http_request_CPPFLAGS = $(FUZZ_CPPDEFS)
test_suite_fuzz_fuzz_http_request_LDFLAGS = $(FUZZ_LINKFLAGS)
test_suite_fuzz_fuzz_http_response_SOURCES = \
	test-suite/fuzz/fuzz_http_response.c src/proto/http_parse.c \
	$(FUZZ_DRIVER)
test_suite_fuzz_fuzz_http_response_CPPFLAGS = $(FUZZ_CPPDEFS)
test_suite_fuzz_fuzz_http_response_LDFLAGS = $(FUZZ_LINKFLAGS)
test_suite_fuzz_fuzz_http_chunked_SOURCES = \
	test-suite/fuzz/fuzz_http_chunked.c src/proto/http_parse.c \
	$(FUZZ_DRIVER)
test_suite_fuzz_fuzz_http_chunked_CPPFLAGS = $(FUZZ_CPPDEFS)
test_suite_fuzz_fuzz_http_chunked_LDFLAGS = $(FUZZ_LINKFLAGS)
EXTRA_DIST += \
	test-suite/fuzz/corpus/fuzz_http_request \
	test-suite/fuzz/corpus/fuzz_http_response \
	test-suite/fuzz/corpus/fuzz_http_chunked
