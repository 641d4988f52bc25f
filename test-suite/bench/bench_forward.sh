#!/bin/bash
# Keep-alive forwarding of a 1 KiB uncacheable GET: wrk -t2 -c50 sends
# absolute-URI requests through skua and through Squid to a local nginx
# (Cache-Control: no-store), and straight to nginx for the limit.  Targets
# alternate (skua squid direct, skua squid direct, ...); the median of the
# rounds and the ratios are printed.  Target from the issue: skua >= 3x
# Squid's requests/s.  Informational only; see doc/performance.md.
set -u
. "$(dirname "$0")/lib.sh"
bench_init "$@"
bench_header "forward: 1 KiB no-store GET, keep-alive, wrk -t2 -c50"

bench_start_nginx || bench_die "nginx did not start"
bench_start_squid || bench_die "squid did not start"
bench_start_skua
targets=$(bench_targets)

declare -A runs
for t in $targets; do
    bench_check_get "$t" || bench_die "$t does not forward"
    bench_wrk "$t" "$BENCH_WARMUP" >/dev/null
done
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    for t in $targets; do
        v=$(bench_wrk "$t" "$BENCH_DURATION") || continue
        echo "    round $r $t: $v req/s"
        runs[$t]="${runs[$t]:-}${runs[$t]:+,}$v"
    done
done

$BENCH_STAT record --name "forward 1KiB GET keep-alive" --unit "req/s" \
    --better higher --skua "${runs[skua]:-}" --squid "${runs[squid]:-}" \
    --direct "${runs[direct]:-}" --ref squid --op ">=" --target 3
