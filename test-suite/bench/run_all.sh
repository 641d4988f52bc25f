#!/bin/bash
# Runs every skua-vs-Squid benchmark in turn and prints one table: scenario,
# skua, Squid, direct, ratio, target and whether the target was met.  The
# targets are informational: this script exits 0 whatever the figures.
#
# usage: run_all.sh [--quick] [--rounds N] [--duration SECONDS] [BUILD_DIR]
# (see lib.sh for the environment; doc/performance.md for what each
# scenario measures).
set -u
here=$(cd "$(dirname "$0")" && pwd)
case " $* " in
*" -h "*|*" --help "*)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 0 ;;
esac
results=$(mktemp /tmp/skua-bench-results.XXXXXX)
trap 'rm -f "$results"' EXIT
export BENCH_RESULTS=$results

start=$(date +%s)
for b in bench_forward.sh bench_connect.sh bench_connrate.sh \
         bench_idle_mem.py bench_intercept.sh; do
    "$here/$b" "$@" || echo "($b exited with status $?)"
    echo
done

echo "### summary ($(nproc) cores, $(uname -r)," \
     "$(date -u '+%Y-%m-%d %H:%M UTC')," \
     "$(( $(date +%s) - start )) s; medians; targets informational)"
/usr/bin/python3 "$here/benchstat.py" table "$results"
exit 0
