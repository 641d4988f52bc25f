# Shared shell code for the skua side-by-side benchmarks (sourced, not run).
#
# It parses the common options, makes the scratch directory, starts nginx,
# Squid, skua and iperf3 on loopback as children of the calling script,
# remembers their PIDs and stops exactly those (and their descendants) in an
# EXIT trap.  It runs no load itself and asserts nothing about speed: the
# benchmarks are run by hand and are not part of the test suite.
#
# Environment:
#   SKUA_BIN        skua binary (default: BUILD_DIR/skua, BUILD_DIR = the
#                   script's argument or ".")
#   SKUA_WORKERS    "workers N" for skua (default: skua's own, one per core)
#   SQUID_BIN       default /usr/sbin/squid
#   NGINX_BIN       default /usr/sbin/nginx
#   BENCH_ROUNDS    rounds per target (default 3, --quick 2; minimum 2)
#   BENCH_DURATION  seconds per measured load (default 10, --quick 3)
#   BENCH_KEEP=1    keep the scratch directory (logs, configs)
#   BENCH_RESULTS   file that collects one JSON line per scenario

BENCH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_PIDS=()
BENCH_DIR=
BENCH_STAT="/usr/bin/python3 $BENCH_HERE/benchstat.py"

bench_usage()
{
    cat <<EOF
usage: $(basename "$0") [--quick] [--rounds N] [--duration SECONDS] [BUILD_DIR]

Runs skua (SKUA_BIN, or BUILD_DIR/skua; BUILD_DIR defaults to ".") and
Squid ($SQUID_BIN) side by side on loopback, alternating, and prints
medians and ratios.  Informational only: it asserts nothing.
EOF
}

# bench_init "$@": options, scratch directory, trap, binaries.
bench_init()
{
    local build_dir=.
    BENCH_QUICK=0
    SQUID_BIN=${SQUID_BIN:-/usr/sbin/squid}
    NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
    while [ $# -gt 0 ]; do
        case $1 in
        --quick) BENCH_QUICK=1 ;;
        --rounds) BENCH_ROUNDS=$2; shift ;;
        --duration) BENCH_DURATION=$2; shift ;;
        -h|--help) bench_usage; exit 0 ;;
        -*) bench_usage >&2; exit 2 ;;
        *) build_dir=$1 ;;
        esac
        shift
    done
    if [ "$BENCH_QUICK" = 1 ]; then
        BENCH_ROUNDS=${BENCH_ROUNDS:-2}
        BENCH_DURATION=${BENCH_DURATION:-3}
        BENCH_WARMUP=1
    else
        BENCH_ROUNDS=${BENCH_ROUNDS:-3}
        BENCH_DURATION=${BENCH_DURATION:-10}
        BENCH_WARMUP=2
    fi
    [ "$BENCH_ROUNDS" -ge 2 ] 2>/dev/null || BENCH_ROUNDS=2
    SKUA_BIN=${SKUA_BIN:-$build_dir/skua}
    case $SKUA_BIN in /*) ;; *) SKUA_BIN=$(pwd)/$SKUA_BIN ;; esac
    export SKUA_BIN SQUID_BIN NGINX_BIN BENCH_ROUNDS BENCH_DURATION

    BENCH_DIR=$(mktemp -d /tmp/skua-bench.XXXXXX)
    chmod 755 "$BENCH_DIR"
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local t
    for t in "$SQUID_BIN" "$NGINX_BIN" /usr/bin/python3; do
        [ -x "$t" ] || bench_die "$t not found (see test-suite/bench/deps.sh)"
    done
    if [ -x "$SKUA_BIN" ]; then
        BENCH_HAVE_SKUA=1
    else
        BENCH_HAVE_SKUA=0
        echo "note: no skua binary at $SKUA_BIN: measuring Squid and" \
             "direct only" >&2
    fi
}

bench_die()
{
    echo "$(basename "$0"): $*" >&2
    exit 1
}

# bench_header TITLE: what runs where, printed once per scenario.
bench_header()
{
    local workers=${SKUA_WORKERS:-"default (one per core)"}
    echo "### $*"
    local mem
    mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
    echo "    $(nproc) cores, $mem, kernel $(uname -r)"
    echo "    rounds $BENCH_ROUNDS x ${BENCH_DURATION}s, alternating;" \
         "skua workers: $workers; squid: 1 worker"
}

# bench_free_port: print a TCP port that is free on 127.0.0.1 right now.
bench_free_port()
{
    /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# bench_render TEMPLATE OUT KEY=VALUE...: replace @KEY@ by VALUE.
bench_render()
{
    local tmpl=$1 out=$2 kv
    shift 2
    cp "$tmpl" "$out"
    for kv in "$@"; do
        sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out"
    done
}

# bench_spawn NAME CMD...: start CMD in the background, output to
# $BENCH_DIR/NAME.out; its PID is left in BENCH_LAST_PID and remembered.
bench_spawn()
{
    local name=$1
    shift
    "$@" >"$BENCH_DIR/$name.out" 2>&1 &
    BENCH_LAST_PID=$!
    BENCH_PIDS+=("$BENCH_LAST_PID")
}

# bench_wait_port PORT PID NAME: wait up to 15 s for a listener on PORT.
bench_wait_port()
{
    local port=$1 pid=$2 name=$3 i
    for ((i = 0; i < 150; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name exited at start-up; its output:" >&2
            tail -n 20 "$BENCH_DIR/$name.out" >&2
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "$name did not listen on 127.0.0.1:$port within 15 s" >&2
    return 1
}

# bench_descendants PID: print PID's descendants, children first.
bench_descendants()
{
    local p c
    for p in /proc/[0-9]*; do
        c=${p#/proc/}
        if [ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$1" ]; then
            echo "$c"
            bench_descendants "$c"
        fi
    done
}

# bench_stop PID: TERM, wait up to 5 s, then KILL; also its descendants.
bench_stop()
{
    local pid=$1 kids i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kids=$(bench_descendants "$pid")
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    for i in $kids; do
        kill -KILL "$i" 2>/dev/null
    done
    return 0
}

bench_cleanup()
{
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        bench_stop "$pid"
    done
    BENCH_PIDS=()
    if [ -n "$BENCH_DIR" ] && [ -d "$BENCH_DIR" ]; then
        if [ "${BENCH_KEEP:-0}" = 1 ]; then
            echo "kept $BENCH_DIR" >&2
        else
            rm -rf "$BENCH_DIR"
        fi
    fi
}

# bench_start_nginx: origin with /obj1k (1 KiB, no-store).
# Sets NGINX_PORT and NGINX_PID.
bench_start_nginx()
{
    local d=$BENCH_DIR/nginx
    mkdir -p "$d/www" "$d/nginx-tmp"
    head -c 1024 /dev/zero | tr '\0' 'x' >"$d/www/obj1k"
    NGINX_PORT=$(bench_free_port)
    bench_render "$BENCH_HERE/conf/nginx.conf.in" "$d/nginx.conf" \
        DIR="$d" PORT="$NGINX_PORT"
    bench_spawn nginx "$NGINX_BIN" -p "$d/" -c "$d/nginx.conf"
    NGINX_PID=$BENCH_LAST_PID
    bench_wait_port "$NGINX_PORT" "$NGINX_PID" nginx
}

# bench_start_squid: Sets SQUID_PORT and SQUID_PID.
bench_start_squid()
{
    local d=$BENCH_DIR/squid user_line=
    mkdir -p "$d"
    if [ "$(id -u)" = 0 ]; then
        # As root Squid drops to cache_effective_user; let it write here.
        user_line="cache_effective_user proxy"
        chown proxy "$d" 2>/dev/null || chmod 777 "$d"
    fi
    SQUID_PORT=$(bench_free_port)
    bench_render "$BENCH_HERE/conf/squid.conf.in" "$d/squid.conf" \
        DIR="$d" PORT="$SQUID_PORT" USER_LINE="$user_line"
    bench_spawn squid "$SQUID_BIN" -N -f "$d/squid.conf"
    SQUID_PID=$BENCH_LAST_PID
    bench_wait_port "$SQUID_PORT" "$SQUID_PID" squid
}

# bench_start_skua: Sets SKUA_PORT and SKUA_PID; fails if skua is absent.
bench_start_skua()
{
    local d=$BENCH_DIR/skua workers_line=
    [ "$BENCH_HAVE_SKUA" = 1 ] || return 1
    mkdir -p "$d"
    [ -n "${SKUA_WORKERS:-}" ] && workers_line="workers $SKUA_WORKERS"
    SKUA_PORT=$(bench_free_port)
    bench_render "$BENCH_HERE/conf/skua.conf.in" "$d/skua.conf" \
        DIR="$d" PORT="$SKUA_PORT" WORKERS_LINE="$workers_line"
    bench_spawn skua "$SKUA_BIN" -N -f "$d/skua.conf"
    SKUA_PID=$BENCH_LAST_PID
    if ! bench_wait_port "$SKUA_PORT" "$SKUA_PID" skua; then
        echo "skua did not start: measuring Squid and direct only" >&2
        BENCH_HAVE_SKUA=0
        return 1
    fi
}

# bench_targets: the targets to alternate between, in a fixed order.
bench_targets()
{
    [ "$BENCH_HAVE_SKUA" = 1 ] && printf 'skua '
    printf 'squid direct\n'
}

# bench_proxy_port TARGET: the proxy port for skua or squid; empty for
# direct.
bench_proxy_port()
{
    case $1 in
    skua) echo "$SKUA_PORT" ;;
    squid) echo "$SQUID_PORT" ;;
    *) echo "" ;;
    esac
}

# bench_check_get TARGET: one GET of /obj1k through TARGET with curl;
# fails unless it answers 200 with 1024 bytes.
bench_check_get()
{
    local port out
    port=$(bench_proxy_port "$1")
    out=$(curl -s -m 5 ${port:+-x "http://127.0.0.1:$port"} \
          -o /dev/null -w '%{http_code} %{size_download}' \
          "http://127.0.0.1:$NGINX_PORT/obj1k")
    if [ "$out" != "200 1024" ]; then
        echo "$1: sanity GET answered '$out', not '200 1024'" >&2
        return 1
    fi
}

# bench_wrk_script TARGET FILE: write wrk's Lua script for TARGET: absolute
# URI and the origin's Host through a proxy, origin-form direct; done()
# prints one BENCH_RESULT line.
bench_wrk_script()
{
    local path
    if [ "$1" = direct ]; then
        path="/obj1k"
    else
        path="http://127.0.0.1:$NGINX_PORT/obj1k"
    fi
    cat >"$2" <<EOF
wrk.path = "$path"
wrk.headers["Host"] = "127.0.0.1:$NGINX_PORT"
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH_RESULT requests=%d duration_us=%d connect=%d read=%d " ..
        "write=%d status=%d timeout=%d p50_us=%d p99_us=%d\n",
        summary.requests, summary.duration, e.connect, e.read, e.write,
        e.status, e.timeout, latency:percentile(50),
        latency:percentile(99)))
end
EOF
}

# bench_wrk TARGET SECONDS [WRK ARGS...]: run wrk -t2 -c50 against TARGET
# for SECONDS; print the completed requests per second, or nothing when
# wrk failed.  Errors go to stderr.
bench_wrk()
{
    local target=$1 secs=$2 port url script out line rate
    shift 2
    port=$(bench_proxy_port "$target")
    url="http://127.0.0.1:${port:-$NGINX_PORT}/"
    script=$BENCH_DIR/wrk-$target.lua
    [ -f "$script" ] || bench_wrk_script "$target" "$script"
    out=$(timeout $((secs + 30)) wrk -t2 -c50 -d"${secs}s" --timeout 5s \
          -s "$script" "$@" "$url" 2>&1)
    line=$(printf '%s\n' "$out" | grep '^BENCH_RESULT' | tail -n 1)
    if [ -z "$line" ]; then
        echo "$target: wrk failed: $out" >&2
        return 1
    fi
    rate=$(printf '%s\n' "$line" | /usr/bin/python3 -c '
import sys
kv = dict(f.split("=") for f in sys.stdin.read().split()[1:])
req, us = int(kv["requests"]), int(kv["duration_us"])
errs = {k: int(kv[k]) for k in ("connect", "read", "write", "status",
                                 "timeout") if int(kv[k])}
if errs:
    print("    %s: wrk errors %s" % (sys.argv[1], errs), file=sys.stderr)
print("%.1f" % (req / (us / 1e6)) if us else "0")' "$target")
    echo "$rate"
}
