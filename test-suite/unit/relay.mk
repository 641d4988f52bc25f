# test-suite/unit/relay.mk: the relay's component test and throughput bench.
if HAVE_CMOCKA
check_PROGRAMS += test-suite/unit/test_relay
TESTS += test-suite/unit/test_relay
test_suite_unit_test_relay_SOURCES = test-suite/unit/test_relay.c \
	src/comm/relay.c lib/sk_common.c lib/sk_log.c lib/sk_time.c
test_suite_unit_test_relay_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
test_suite_unit_test_relay_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=splice
test_suite_unit_test_relay_LDADD = $(CMOCKA_LIBS) $(SK_LIBS)
endif

# Built only on demand: make test-suite/bench/relay_throughput
# (EXTRA_PROGRAMS is first set here; a later fragment must use +=.)
EXTRA_PROGRAMS = test-suite/bench/relay_throughput
test_suite_bench_relay_throughput_SOURCES = \
	test-suite/bench/relay_throughput.c \
	src/comm/relay.c lib/sk_common.c lib/sk_log.c lib/sk_time.c
test_suite_bench_relay_throughput_LDADD = $(SK_LIBS)
CLEANFILES += test-suite/bench/relay_throughput
