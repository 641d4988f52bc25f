#!/bin/bash
# SOCKS5 side by side with Dante (danted, Debian dante-server), on loopback,
# targets alternating, medians and ratios printed:
#   throughput  one iperf3 stream through proxychains4 ("socks5 127.0.0.1
#               PORT"), and straight over loopback for the limit
#               (target: skua >= 0.8x direct);
#   sessions/s  socks_load.c (built on demand next to SKUA_BIN, or with cc
#               into the scratch directory): SOCKS_LOAD_THREADS threads
#               (default 1) keeping SOCKS_LOAD_CONC sessions each (default
#               16) of greeting + CONNECT + a 1 KiB GET from nginx + close
#               going for BENCH_DURATION seconds (target: skua >= 3x
#               Dante); each round also prints the CPU time per session
#               of the proxy's processes and of the whole machine (all
#               CPUs busy, steal excluded: proxy, client and nginx), the
#               latter the steadier figure for comparing two builds;
#   memory      user-space memory per idle SOCKS5 tunnel, 5,000 tunnels
#               (--quick: 2,000), summed over the proxy's processes
#               (target: skua <= 8 KiB).
# SOCKS_PARTS picks scenarios (default "throughput rate memory").
# Dante runs as the current user in the foreground with a generated
# config (no authentication, loopback only).  Informational only; see
# doc/performance.md.  The "squid" column of the summary table holds
# Dante's figures for these scenarios.
set -u
. "$(dirname "$0")/lib.sh"
bench_init "$@"
DANTED_BIN=${DANTED_BIN:-/usr/sbin/danted}
LOAD="/usr/bin/python3 $BENCH_HERE/bench_socks_load.py"
SOCKS_PARTS=${SOCKS_PARTS:-throughput rate memory}
SOCKS_LOAD_THREADS=${SOCKS_LOAD_THREADS:-1}
SOCKS_LOAD_CONC=${SOCKS_LOAD_CONC:-16}
bench_header "socks: SOCKS5 via skua socks_port and Dante $DANTED_BIN"
[ -x "$DANTED_BIN" ] ||
    bench_die "$DANTED_BIN missing (see test-suite/bench/deps.sh)"
command -v iperf3 >/dev/null && command -v proxychains4 >/dev/null ||
    bench_die "iperf3 or proxychains4 missing (see test-suite/bench/deps.sh)"

# bench_socks_load_bin: set RATE_LOAD to a built socks_load: the build
# directory's (made if missing), else compiled here with cc.
bench_socks_load_bin()
{
    local bdir
    bdir=$(dirname "$SKUA_BIN")
    RATE_LOAD=$bdir/test-suite/bench/socks_load
    [ -x "$RATE_LOAD" ] && return 0
    make -s -C "$bdir" test-suite/bench/socks_load >/dev/null 2>&1 &&
        [ -x "$RATE_LOAD" ] && return 0
    RATE_LOAD=$BENCH_DIR/socks_load
    ${CC:-cc} -O2 -o "$RATE_LOAD" "$BENCH_HERE/socks_load.c" -lpthread
}

# bench_part NAME: true if scenario NAME is to run.
bench_part()
{
    case " $SOCKS_PARTS " in *" $1 "*) return 0 ;; esac
    return 1
}

# skua with a socks_port (and an http_port nobody uses, so the default
# 3128 is not taken).
bench_start_skua_socks()
{
    local d=$BENCH_DIR/skua workers_line=
    [ "$BENCH_HAVE_SKUA" = 1 ] || return 1
    mkdir -p "$d"
    [ -n "${SKUA_WORKERS:-}" ] && workers_line="workers $SKUA_WORKERS"
    SKUA_PORT=$(bench_free_port)
    cat >"$d/skua.conf" <<EOC
http_port 127.0.0.1:$(bench_free_port)
socks_port 127.0.0.1:$SKUA_PORT versions=5
$workers_line
socks_access allow all
access_log none
cache_log $d/cache.log
pid_filename $d/skua.pid
hosts_file none
dns_nameservers 127.0.0.1
read_timeout 10 minutes
shutdown_lifetime 1 seconds
EOC
    bench_spawn skua "$SKUA_BIN" -N -f "$d/skua.conf"
    SKUA_PID=$BENCH_LAST_PID
    if ! bench_wait_port "$SKUA_PORT" "$SKUA_PID" skua; then
        BENCH_HAVE_SKUA=0
        return 1
    fi
}

bench_start_dante()
{
    local d=$BENCH_DIR/dante
    mkdir -p "$d"
    DANTE_PORT=$(bench_free_port)
    cat >"$d/danted.conf" <<EOC
logoutput: $d/danted.log
errorlog: stderr
internal: 127.0.0.1 port = $DANTE_PORT
external: 127.0.0.1
clientmethod: none
socksmethod: none
timeout.io: 600
client pass {
    from: 127.0.0.0/8 to: 0.0.0.0/0
}
socks pass {
    from: 127.0.0.0/8 to: 0.0.0.0/0
    command: connect
}
EOC
    bench_spawn dante "$DANTED_BIN" -f "$d/danted.conf" -p "$d/danted.pid"
    DANTE_PID=$BENCH_LAST_PID
    bench_wait_port "$DANTE_PORT" "$DANTE_PID" dante
}

bench_socks_port()
{
    case $1 in
    skua) echo "$SKUA_PORT" ;;
    dante) echo "$DANTE_PORT" ;;
    *) echo 0 ;;
    esac
}

bench_start_nginx || bench_die "nginx did not start"
bench_start_dante || bench_die "dante did not start"
bench_start_skua_socks
IPERF_PORT=$(bench_free_port)
bench_spawn iperf3-server iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT"
IPERF_PID=$BENCH_LAST_PID
bench_wait_port "$IPERF_PORT" "$IPERF_PID" iperf3-server ||
    bench_die "iperf3 server did not start"
sleep 0.2
targets="dante direct"
[ "$BENCH_HAVE_SKUA" = 1 ] && targets="skua $targets"

bench_pc_conf()
{
    local f=$BENCH_DIR/proxychains-$1.conf
    cat >"$f" <<EOPC
strict_chain
quiet_mode
tcp_read_time_out 15000
tcp_connect_time_out 8000
[ProxyList]
socks5 127.0.0.1 $(bench_socks_port "$1")
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

# bench_cpu_ticks PID: CPU clock ticks (user + system, with reaped
# children) used so far by PID and its descendants.
bench_cpu_ticks()
{
    local p sum=0
    for p in "$1" $(bench_descendants "$1"); do
        sum=$((sum + $(awk '{print $14 + $15 + $16 + $17}' \
                       "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$sum"
}

bench_target_pid()
{
    case $1 in
    skua) echo "$SKUA_PID" ;;
    dante) echo "$DANTE_PID" ;;
    esac
}

# bench_machine_ticks: CPU clock ticks all CPUs spent busy so far (user,
# nice, system, irq, softirq; not idle, iowait or steal).
bench_machine_ticks()
{
    awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat
}

# bench_rate TARGET SECONDS: print "sessions/s machine-CPU-us/session
# proxy-CPU-us/session" (the last field missing for direct), nothing on
# failure.  The machine's figure (proxy, client and nginx together) does
# not depend on which process the kernel charges the loopback's receive
# work to, which the proxy's own figure does.
bench_rate()
{
    local out pid c0 c1 m0 m1 n hz
    pid=$(bench_target_pid "$1")
    [ -n "$pid" ] && c0=$(bench_cpu_ticks "$pid")
    m0=$(bench_machine_ticks)
    out=$(timeout $(($2 + 60)) "$RATE_LOAD" \
          --port "$(bench_socks_port "$1")" --origin-port "$NGINX_PORT" \
          --seconds "$2" --threads "$SOCKS_LOAD_THREADS" \
          --concurrency "$SOCKS_LOAD_CONC") || return 1
    m1=$(bench_machine_ticks)
    case $out in *" errors=0 "*) ;; *) echo "    $1: $out" >&2 ;; esac
    n=$(printf '%s\n' "$out" | sed -n 's/^sessions=\([0-9]*\).*/\1/p')
    [ "${n:-0}" -gt 0 ] || return 1
    hz=$(getconf CLK_TCK)
    printf '%s %s' "$(printf '%s\n' "$out" |
                      sed -n 's/.*rate=\([0-9.]*\).*/\1/p')" \
        $(((m1 - m0) * 1000000 / hz / n))
    if [ -n "$pid" ]; then
        c1=$(bench_cpu_ticks "$pid")
        printf ' %s' $(((c1 - c0) * 1000000 / hz / n))
    fi
    echo
}

# bench_idle TARGET PID COUNT: print KiB per idle tunnel.
bench_idle()
{
    local out
    out=$(timeout 300 $LOAD idle --port "$(bench_socks_port "$1")" \
          --pid "$2" --count "$3") || { echo "    $1: $out" >&2; return 1; }
    echo "    ($1: $out)" >&2
    printf '%s\n' "$out" |
        sed -n 's/.*kib_per_tunnel=\(-\{0,1\}[0-9.]*\).*/\1/p'
}

declare -A thr rate mem
for t in $targets; do
    bench_iperf "$t" 1 >/dev/null || bench_die "$t: no tunnel"
done
bench_part throughput &&
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    for t in $targets; do
        v=$(bench_iperf "$t" "$BENCH_DURATION") || continue
        echo "    round $r $t: $v Gbit/s"
        thr[$t]="${thr[$t]:-}${thr[$t]:+,}$v"
    done
done
bench_part throughput &&
$BENCH_STAT record --name "SOCKS5 iperf3 (Dante as peer)" \
    --unit "Gbit/s" --better higher --skua "${thr[skua]:-}" \
    --squid "${thr[dante]:-}" --direct "${thr[direct]:-}" --ref direct \
    --op ">=" --target 0.8

# The client shares the machine with the proxy, so sessions/s is bounded
# by its CPU as well (hence C, not Python); the proxy's own CPU time per
# session is printed too (ticks of 1/CLK_TCK s: coarse, but over
# thousands of sessions).
declare -A cpu mcpu
if bench_part rate; then
bench_socks_load_bin || bench_die "cannot build socks_load"
echo "    sessions/s: socks_load, $SOCKS_LOAD_THREADS thread(s) x" \
     "$SOCKS_LOAD_CONC sessions in flight"
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    for t in $targets; do
        v=$(bench_rate "$t" "$BENCH_DURATION") || continue
        set -- $v
        echo "    round $r $t: $1 sessions/s, machine CPU $2" \
             "us/session${3:+, proxy CPU $3 us/session}"
        rate[$t]="${rate[$t]:-}${rate[$t]:+,}$1"
        mcpu[$t]="${mcpu[$t]:-}${mcpu[$t]:+ }$2"
        [ -n "${3:-}" ] && cpu[$t]="${cpu[$t]:-}${cpu[$t]:+,}$3"
    done
done
for t in $targets; do
    [ -n "${mcpu[$t]:-}" ] &&
        echo "    machine CPU per $t session (median): $($BENCH_STAT median \
             ${mcpu[$t]}) us"
done
$BENCH_STAT record --name "SOCKS5 sessions/s (Dante as peer)" \
    --unit "sess/s" --better higher --skua "${rate[skua]:-}" \
    --squid "${rate[dante]:-}" --direct "${rate[direct]:-}" --ref squid \
    --op ">=" --target 3
$BENCH_STAT record --name "SOCKS5 proxy CPU/session (Dante as peer)" \
    --unit "us/sess" --better lower --skua "${cpu[skua]:-}" \
    --squid "${cpu[dante]:-}" --ref squid --op "<=" --target 0.34
fi

# Memory: a fresh proxy per round, so every round starts from the same
# heap (a warmed allocator would reuse what the last round freed).
count=5000
[ "$BENCH_QUICK" = 1 ] && count=2000
bench_part memory || exit 0
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    for t in skua dante; do
        case $t in
        skua)
            [ "$BENCH_HAVE_SKUA" = 1 ] || continue
            bench_stop "$SKUA_PID"
            bench_start_skua_socks || continue
            pid=$SKUA_PID ;;
        dante)
            bench_stop "$DANTE_PID"
            bench_start_dante || continue
            pid=$DANTE_PID ;;
        esac
        v=$(bench_idle "$t" "$pid" "$count") || continue
        echo "    round $r $t: $v KiB/tunnel"
        mem[$t]="${mem[$t]:-}${mem[$t]:+,}$v"
    done
done
$BENCH_STAT record --name "idle SOCKS5 tunnel memory (Dante as peer)" \
    --unit "KiB/conn" --better lower --skua "${mem[skua]:-}" \
    --squid "${mem[dante]:-}" --ref abs --op "<=" --target 8
