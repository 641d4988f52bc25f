# test-suite/bench/: side-by-side benchmarks (skua vs Squid, Dante and
# direct), run by hand with test-suite/bench/run_all.sh; never part of
# `make check`.  See doc/performance.md.
EXTRA_DIST += test-suite/bench
