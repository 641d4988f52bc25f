#!/bin/bash
# Transparent interception throughput, skua beside Squid, through a real
# gateway.  Three network namespaces joined by veth pairs:
#
#   client 198.51.100.2 -- 198.51.100.1 gateway 203.0.113.1 -- 203.0.113.2
#                                  (skua, Squid)                  server
#
# The gateway routes (ip_forward=1, rp_filter=0); skua and Squid run in
# it.  The server runs iperf3 -s and nginx with a large sparse file
# (BENCH_FILE_MB, default 1024 MiB).  Clients in the client namespace talk
# to 203.0.113.2 as if there were no proxy; the gateway's nftables rules,
# loaded before each measurement for the target being measured, send them
# to a proxy:
#   forward        no rule at all: the kernel forwards (the reference);
#   *-redirect     nat prerouting: iifname c1 tcp dport D redirect to :PORT;
#   *-tproxy       mangle prerouting: socket transparent -> mark 1, and
#                  iifname c1 tcp dport D tproxy ip to :PORT mark 1, with
#                  ip rule fwmark 1 lookup 100, local 0.0.0.0/0 dev lo.
# Scenarios (targets alternate; medians and ratios printed):
#   iperf3 -t D, one stream, port 5201: forwarded, skua tcp_port intercept,
#     skua tcp_port tproxy (target >= 0.7x forwarded each; Squid cannot
#     carry iperf3 on an intercept port, so it is n/a);
#   curl of http://203.0.113.2/big repeated for D seconds: forwarded, skua
#     and Squid on http_port intercept and tproxy (targets: skua >= 0.6x
#     forwarded and >= 4x Squid, for each of REDIRECT and TPROXY).
# A skua whose "skua -k parse" rejects tcp_port gets the iperf3 scenarios
# reported as skipped.  A rule's counter must move during each intercepted
# measurement, else the round is dropped (the traffic was forwarded).
# Needs root (namespaces, nftables).  The namespaces are deleted on exit.
# Informational only; see doc/performance.md.
set -u
. "$(dirname "$0")/lib.sh"
bench_init "$@"
bench_header "intercept: client -- gateway (skua, squid) -- server," \
    "veth, nft REDIRECT / TPROXY"

ICPT_TAG=skb$$
NS_C=${ICPT_TAG}c NS_G=${ICPT_TAG}g NS_S=${ICPT_TAG}s
CLIENT=198.51.100.2 GW_C=198.51.100.1 GW_S=203.0.113.1 SERVER=203.0.113.2
IPERF_PORT=5201
BENCH_FILE_MB=${BENCH_FILE_MB:-1024}
# Ports in the gateway namespace (a fresh one: all free).
SKUA_PORT=3128 SKUA_ICPT=3129 SKUA_TPROXY=3130
SKUA_TCP_ICPT=3131 SKUA_TCP_TPROXY=3132
SQUID_PORT=3138 SQUID_ICPT=3139 SQUID_TPROXY=3140
ICPT_NS_MADE=0

icpt_cleanup()
{
    local ns
    bench_cleanup
    if [ "$ICPT_NS_MADE" = 1 ]; then
        for ns in "$NS_C" "$NS_G" "$NS_S"; do
            ip netns del "$ns" 2>/dev/null
        done
    fi
}
trap icpt_cleanup EXIT

if [ "$(id -u)" != 0 ]; then
    echo "skipped: needs root (network namespaces, nftables)"
    exit 0
fi
for t in ip nft iperf3 curl ss; do
    command -v "$t" >/dev/null ||
        bench_die "$t missing (see test-suite/bench/deps.sh)"
done

# icpt_ns NS CMD...: run CMD in namespace NS.
icpt_ns()
{
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

icpt_topology()
{
    local ns
    ICPT_NS_MADE=1
    for ns in "$NS_C" "$NS_G" "$NS_S"; do
        ip netns add "$ns" || return 1
        icpt_ns "$ns" ip link set lo up || return 1
    done
    ip link add c0 netns "$NS_C" type veth peer name c1 netns "$NS_G" &&
    ip link add s0 netns "$NS_S" type veth peer name s1 netns "$NS_G" &&
    icpt_ns "$NS_C" ip addr add "$CLIENT/24" dev c0 &&
    icpt_ns "$NS_G" ip addr add "$GW_C/24" dev c1 &&
    icpt_ns "$NS_G" ip addr add "$GW_S/24" dev s1 &&
    icpt_ns "$NS_S" ip addr add "$SERVER/24" dev s0 &&
    icpt_ns "$NS_C" ip link set c0 up &&
    icpt_ns "$NS_G" ip link set c1 up &&
    icpt_ns "$NS_G" ip link set s1 up &&
    icpt_ns "$NS_S" ip link set s0 up &&
    icpt_ns "$NS_C" ip route add default via "$GW_C" &&
    icpt_ns "$NS_S" ip route add default via "$GW_S" || return 1
    for key in net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
               net.ipv4.conf.default.rp_filter=0 \
               net.ipv4.conf.c1.rp_filter=0 net.ipv4.conf.s1.rp_filter=0; do
        icpt_ns "$NS_G" sysctl -qw "$key" || return 1
    done
    # TPROXY: marked packets (intercepted ones, and the server's replies to
    # spoofed upstream connections) are delivered locally.
    icpt_ns "$NS_G" ip rule add fwmark 1 lookup 100 &&
    icpt_ns "$NS_G" ip route add local 0.0.0.0/0 dev lo table 100
}

# icpt_mode TARGET: print "kind dport proxy-port" for TARGET; kind is
# none, redirect or tproxy.
icpt_mode()
{
    case $1 in
    forward|http-forward) echo "none 0 0" ;;
    skua-tcp-redirect) echo "redirect $IPERF_PORT $SKUA_TCP_ICPT" ;;
    skua-tcp-tproxy) echo "tproxy $IPERF_PORT $SKUA_TCP_TPROXY" ;;
    skua-redirect) echo "redirect 80 $SKUA_ICPT" ;;
    skua-tproxy) echo "tproxy 80 $SKUA_TPROXY" ;;
    squid-redirect) echo "redirect 80 $SQUID_ICPT" ;;
    squid-tproxy) echo "tproxy 80 $SQUID_TPROXY" ;;
    *) return 1 ;;
    esac
}

# icpt_rules TARGET: load the gateway's rules for TARGET (none for the
# forwarded targets), replacing the previous ones; the counter restarts.
icpt_rules()
{
    local kind dport port
    read -r kind dport port <<<"$(icpt_mode "$1")"
    {
        echo "table inet skua_bench {}"
        echo "delete table inet skua_bench"
        case $kind in
        redirect)
            echo "table inet skua_bench {"
            echo "  chain pre_nat {"
            echo "    type nat hook prerouting priority dstnat;"
            echo "    iifname \"c1\" tcp dport $dport counter" \
                 "redirect to :$port"
            echo "  }"
            echo "}" ;;
        tproxy)
            echo "table inet skua_bench {"
            echo "  chain pre_mangle {"
            echo "    type filter hook prerouting priority mangle;"
            echo "    meta l4proto tcp socket transparent 1" \
                 "meta mark set 1 accept"
            echo "    iifname \"c1\" meta nfproto ipv4 tcp dport $dport" \
                 "counter tproxy ip to :$port meta mark set 1 accept"
            echo "  }"
            echo "}" ;;
        esac
    } | icpt_ns "$NS_G" nft -f -
}

# icpt_counter: packets the interception rule has matched (0 without one).
icpt_counter()
{
    local n
    n=$(icpt_ns "$NS_G" nft list table inet skua_bench 2>/dev/null |
        sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -n 1)
    echo "${n:-0}"
}

# icpt_wait_listen NS PORT PID NAME: wait up to 15 s for a TCP listener on
# PORT in NS (looked at with ss: no connection is made).
icpt_wait_listen()
{
    local ns=$1 port=$2 pid=$3 name=$4 i
    for ((i = 0; i < 150; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name exited at start-up; its output:" >&2
            tail -n 20 "$BENCH_DIR/$name.out" >&2
            return 1
        fi
        [ -n "$(icpt_ns "$ns" ss -Hltn "sport = :$port")" ] && return 0
        sleep 0.1
    done
    echo "$name did not listen on port $port within 15 s" >&2
    return 1
}

icpt_start_servers()
{
    local d=$BENCH_DIR/nginx
    mkdir -p "$d/www" "$d/nginx-tmp"
    truncate -s "${BENCH_FILE_MB}M" "$d/www/big" || return 1
    BIG_SIZE=$((BENCH_FILE_MB * 1048576))
    bench_render "$BENCH_HERE/conf/nginx-intercept.conf.in" \
        "$d/nginx.conf" DIR="$d" ADDR="$SERVER"
    bench_spawn nginx ip netns exec "$NS_S" "$NGINX_BIN" -p "$d/" \
        -c "$d/nginx.conf"
    icpt_wait_listen "$NS_S" 80 "$BENCH_LAST_PID" nginx || return 1
    bench_spawn iperf3-server ip netns exec "$NS_S" iperf3 -s -B "$SERVER" \
        -p "$IPERF_PORT"
    icpt_wait_listen "$NS_S" "$IPERF_PORT" "$BENCH_LAST_PID" iperf3-server
}

icpt_start_squid()
{
    local d=$BENCH_DIR/squid user_line= p
    mkdir -p "$d"
    user_line="cache_effective_user proxy"
    chown proxy "$d" 2>/dev/null || chmod 777 "$d"
    bench_render "$BENCH_HERE/conf/squid-intercept.conf.in" \
        "$d/squid.conf" DIR="$d" PORT="$SQUID_PORT" \
        ICPT_PORT="$SQUID_ICPT" TPROXY_PORT="$SQUID_TPROXY" \
        USER_LINE="$user_line"
    bench_spawn squid ip netns exec "$NS_G" "$SQUID_BIN" -N -f "$d/squid.conf"
    for p in "$SQUID_PORT" "$SQUID_ICPT" "$SQUID_TPROXY"; do
        icpt_wait_listen "$NS_G" "$p" "$BENCH_LAST_PID" squid || return 1
    done
}

# icpt_skua_conf FILE WITH_TCP: render skua's configuration, with the
# tcp_port lines when WITH_TCP is 1.
icpt_skua_conf()
{
    local d=$BENCH_DIR/skua icpt= tp= workers_line=
    if [ "$2" = 1 ]; then
        icpt="tcp_port $SKUA_TCP_ICPT intercept"
        tp="tcp_port $SKUA_TCP_TPROXY tproxy"
    fi
    [ -n "${SKUA_WORKERS:-}" ] && workers_line="workers $SKUA_WORKERS"
    bench_render "$BENCH_HERE/conf/skua-intercept.conf.in" "$1" \
        DIR="$d" PORT="$SKUA_PORT" ICPT_PORT="$SKUA_ICPT" \
        TPROXY_PORT="$SKUA_TPROXY" TCP_ICPT_LINE="$icpt" \
        TCP_TPROXY_LINE="$tp" WORKERS_LINE="$workers_line"
}

# icpt_start_skua: sets SKUA_HAVE_TCP (1 when this skua parses tcp_port);
# fails (BENCH_HAVE_SKUA=0) when skua does not start.
icpt_start_skua()
{
    local d=$BENCH_DIR/skua conf out p ports
    SKUA_HAVE_TCP=0
    [ "$BENCH_HAVE_SKUA" = 1 ] || return 1
    mkdir -p "$d"
    conf=$d/skua.conf
    icpt_skua_conf "$conf" 1
    if out=$("$SKUA_BIN" -k parse -f "$conf" 2>&1); then
        SKUA_HAVE_TCP=1
    else
        echo "note: this skua rejects tcp_port, the iperf3 scenarios" \
             "are skipped: $out" >&2
        icpt_skua_conf "$conf" 0
    fi
    bench_spawn skua ip netns exec "$NS_G" "$SKUA_BIN" -N -f "$conf"
    ports="$SKUA_PORT $SKUA_ICPT $SKUA_TPROXY"
    [ "$SKUA_HAVE_TCP" = 1 ] && ports="$ports $SKUA_TCP_ICPT $SKUA_TCP_TPROXY"
    for p in $ports; do
        if ! icpt_wait_listen "$NS_G" "$p" "$BENCH_LAST_PID" skua; then
            echo "skua did not start: measuring Squid and forwarding" \
                 "only" >&2
            BENCH_HAVE_SKUA=0 SKUA_HAVE_TCP=0
            return 1
        fi
    done
}

# icpt_iperf TARGET SECONDS: print Gbit/s received, nothing on failure.
icpt_iperf()
{
    local out
    out=$(timeout $(($2 + 30)) ip netns exec "$NS_C" iperf3 -c "$SERVER" \
          -p "$IPERF_PORT" -t "$2" --connect-timeout 5000 -J 2>&1)
    printf '%s' "$out" | /usr/bin/python3 -c '
import json, sys
try:
    j = json.loads(sys.stdin.read())
    bps = j["end"]["sum_received"]["bits_per_second"]
except (ValueError, KeyError) as e:
    print("%s: iperf3 failed (%s)" % (sys.argv[1], e), file=sys.stderr)
    sys.exit(1)
print("%.2f" % (bps / 1e9))' "$1"
}

# icpt_download TARGET SECONDS: GET /big with curl (a new connection each
# time) until SECONDS have passed, at most 100 times; print the Gbit/s of
# all the bytes over all the transfer times, nothing on failure.
icpt_download()
{
    local target=$1 secs=$2 i out code size t bytes=0 total=0 end
    end=$(($(date +%s) + secs))
    for ((i = 0; i < 100; i++)); do
        out=$(icpt_ns "$NS_C" curl -q -s -m 120 -o /dev/null \
              -w '%{http_code} %{size_download} %{time_total}' \
              "http://$SERVER/big")
        read -r code size t <<<"$out"
        if [ "$code" != 200 ] || [ "$size" != "$BIG_SIZE" ]; then
            echo "$target: GET /big answered '$out'" >&2
            return 1
        fi
        bytes=$((bytes + size))
        total=$(awk -v a="$total" -v b="$t" 'BEGIN { print a + b }')
        [ "$(date +%s)" -ge "$end" ] && break
    done
    awk -v b="$bytes" -v t="$total" \
        'BEGIN { printf "%.2f\n", (t > 0) ? b * 8 / t / 1e9 : 0 }'
}

# icpt_measure KIND TARGET SECONDS: load TARGET's rules, run the iperf3
# or download load; print Gbit/s, nothing when it failed or when an
# interception rule was never matched.
icpt_measure()
{
    local kind=$1 target=$2 secs=$3 v n
    icpt_rules "$target" || { echo "$target: nft failed" >&2; return 1; }
    if [ "$kind" = iperf ]; then
        v=$(icpt_iperf "$target" "$secs") || return 1
    else
        v=$(icpt_download "$target" "$secs") || return 1
    fi
    [ -n "$v" ] || return 1
    n=$(icpt_counter)
    case $target in
    forward|http-forward) ;;
    *)
        if [ "$n" = 0 ]; then
            echo "$target: the interception rule matched nothing;" \
                 "round dropped" >&2
            return 1
        fi ;;
    esac
    echo "$v"
}

declare -A runs
# icpt_rounds KIND TARGET...: warm-up, then BENCH_ROUNDS alternating
# rounds; the figures are collected in runs[TARGET].
icpt_rounds()
{
    local kind=$1 r t v ok=()
    shift
    for t in "$@"; do
        if icpt_measure "$kind" "$t" 1 >/dev/null; then
            ok+=("$t")
        else
            echo "    $t: does not work, left out" >&2
        fi
    done
    for ((r = 1; r <= BENCH_ROUNDS; r++)); do
        for t in "${ok[@]}"; do
            v=$(icpt_measure "$kind" "$t" "$BENCH_DURATION") || continue
            echo "    round $r $t: $v Gbit/s"
            runs[$t]="${runs[$t]:-}${runs[$t]:+,}$v"
        done
    done
    icpt_rules forward
}

icpt_topology || bench_die "could not build the namespaces"
icpt_start_servers || bench_die "nginx or iperf3 did not start"
icpt_start_squid || bench_die "squid did not start"
icpt_start_skua
echo "    large file ${BENCH_FILE_MB} MiB; skua tcp_port:" \
     "$([ "$SKUA_HAVE_TCP" = 1 ] && echo yes || echo "no (skipped)")"

tcp_targets=forward
[ "$SKUA_HAVE_TCP" = 1 ] &&
    tcp_targets="skua-tcp-redirect skua-tcp-tproxy forward"
icpt_rounds iperf $tcp_targets
http_targets="squid-redirect squid-tproxy http-forward"
[ "$BENCH_HAVE_SKUA" = 1 ] &&
    http_targets="skua-redirect skua-tproxy $http_targets"
icpt_rounds download $http_targets

skipped=
[ "$SKUA_HAVE_TCP" = 1 ] || skipped=" (skipped: no tcp_port)"
for m in redirect tproxy; do
    M=$(echo "$m" | tr a-z A-Z)
    $BENCH_STAT record --name "intercept $M iperf3 tcp_port$skipped" \
        --unit "Gbit/s" --better higher --skua "${runs[skua-tcp-$m]:-}" \
        --direct "${runs[forward]:-}" --ref direct --op ">=" --target 0.7
done
for m in redirect tproxy; do
    M=$(echo "$m" | tr a-z A-Z)
    $BENCH_STAT record --name "intercept $M ${BENCH_FILE_MB}MiB GET" \
        --unit "Gbit/s" --better higher --skua "${runs[skua-$m]:-}" \
        --squid "${runs[squid-$m]:-}" --direct "${runs[http-forward]:-}" \
        --ref direct --op ">=" --target 0.6
    $BENCH_STAT record --name "intercept $M ${BENCH_FILE_MB}MiB GET" \
        --unit "Gbit/s" --better higher --skua "${runs[skua-$m]:-}" \
        --squid "${runs[squid-$m]:-}" --direct "${runs[http-forward]:-}" \
        --ref squid --op ">=" --target 4
done
