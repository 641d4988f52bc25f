#!/bin/bash
# New connection per request: wrk -t2 -c50 with "Connection: close" sends
# absolute-URI GETs of a 1 KiB no-store object through skua and through
# Squid, and straight to nginx for the limit, so every request opens and
# closes one client connection.  Targets alternate; medians and ratios are
# printed.  Target from the issue: skua >= 2x Squid's connections/s.
# Informational only; see doc/performance.md.
set -u
. "$(dirname "$0")/lib.sh"
bench_init "$@"
bench_header "connrate: new connection per request (Connection: close)," \
    "wrk -t2 -c50"

bench_start_nginx || bench_die "nginx did not start"
bench_start_squid || bench_die "squid did not start"
bench_start_skua
targets=$(bench_targets)

declare -A runs
for t in $targets; do
    bench_check_get "$t" || bench_die "$t does not forward"
    bench_wrk "$t" "$BENCH_WARMUP" -H "Connection: close" >/dev/null
done
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    for t in $targets; do
        v=$(bench_wrk "$t" "$BENCH_DURATION" -H "Connection: close") ||
            continue
        echo "    round $r $t: $v conn/s"
        runs[$t]="${runs[$t]:-}${runs[$t]:+,}$v"
    done
done

$BENCH_STAT record --name "connrate (Connection: close)" --unit "conn/s" \
    --better higher --skua "${runs[skua]:-}" --squid "${runs[squid]:-}" \
    --direct "${runs[direct]:-}" --ref squid --op ">=" --target 2
