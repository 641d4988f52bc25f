# test-suite/bench/: side-by-side benchmarks (skua vs Squid, Dante and
# direct), run by hand with test-suite/bench/run_all.sh; never part of
# `make check`.  See doc/performance.md.
EXTRA_DIST += test-suite/bench

# The sessions/s load of bench_socks.sh; like relay_throughput, built only
# on demand (make test-suite/bench/socks_load) and never run by `make
# check`.  It needs no skua code.
EXTRA_PROGRAMS += test-suite/bench/socks_load
test_suite_bench_socks_load_SOURCES = test-suite/bench/socks_load.c
test_suite_bench_socks_load_LDADD = -lpthread
CLEANFILES += test-suite/bench/socks_load
