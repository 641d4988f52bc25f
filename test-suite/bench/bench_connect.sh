#!/bin/bash
# Opaque tunnel throughput: one iperf3 stream (iperf3 -c 127.0.0.1 -t D)
# whose control and data connections go through a CONNECT tunnel, made by
# proxychains4 (strict_chain, "http 127.0.0.1 PORT"), through skua and
# through Squid; and the same stream straight over loopback for the limit.
# Targets alternate; medians and ratios are printed.  Target from the
# issue: skua >= 0.8x direct (the ratio to Squid is printed as well).
# Informational only; see doc/performance.md.
set -u
. "$(dirname "$0")/lib.sh"
bench_init "$@"
bench_header "connect: iperf3 -t $BENCH_DURATION, 1 stream, via" \
    "proxychains4 CONNECT"
command -v iperf3 >/dev/null && command -v proxychains4 >/dev/null ||
    bench_die "iperf3 or proxychains4 missing (see test-suite/bench/deps.sh)"

bench_start_squid || bench_die "squid did not start"
bench_start_skua
IPERF_PORT=$(bench_free_port)
bench_spawn iperf3-server iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT"
IPERF_PID=$BENCH_LAST_PID
bench_wait_port "$IPERF_PORT" "$IPERF_PID" iperf3-server ||
    bench_die "iperf3 server did not start"
sleep 0.2   # the port probe above is a client iperf3 -s must finish with
targets=$(bench_targets)

# bench_pc_conf TARGET: proxychains4 configuration for TARGET's port.
bench_pc_conf()
{
    local f=$BENCH_DIR/proxychains-$1.conf
    # No proxy_dns line: the name is never resolved through the proxy (only
    # IP literals are used).
    cat >"$f" <<EOPC
strict_chain
quiet_mode
tcp_read_time_out 15000
tcp_connect_time_out 8000
[ProxyList]
http 127.0.0.1 $(bench_proxy_port "$1")
EOPC
    echo "$f"
}

# bench_iperf TARGET SECONDS: print Gbit/s received, nothing on failure.
bench_iperf()
{
    local target=$1 secs=$2 wrap=() out
    [ "$target" = direct ] ||
        wrap=(proxychains4 -q -f "$(bench_pc_conf "$target")")
    out=$(timeout $((secs + 30)) "${wrap[@]}" iperf3 -c 127.0.0.1 \
          -p "$IPERF_PORT" -t "$secs" --connect-timeout 5000 -J 2>&1)
    printf '%s' "$out" | /usr/bin/python3 -c '
import json, sys
try:
    j = json.loads(sys.stdin.read())
    bps = j["end"]["sum_received"]["bits_per_second"]
except (ValueError, KeyError) as e:
    print("%s: iperf3 failed (%s)" % (sys.argv[1], e), file=sys.stderr)
    sys.exit(1)
print("%.2f" % (bps / 1e9))' "$target"
}

declare -A runs
for t in $targets; do
    bench_iperf "$t" 1 >/dev/null || bench_die "$t: no tunnel"
done
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    for t in $targets; do
        v=$(bench_iperf "$t" "$BENCH_DURATION") || continue
        echo "    round $r $t: $v Gbit/s"
        runs[$t]="${runs[$t]:-}${runs[$t]:+,}$v"
    done
done

$BENCH_STAT record --name "CONNECT tunnel iperf3" --unit "Gbit/s" \
    --better higher --skua "${runs[skua]:-}" --squid "${runs[squid]:-}" \
    --direct "${runs[direct]:-}" --ref direct --op ">=" --target 0.8
