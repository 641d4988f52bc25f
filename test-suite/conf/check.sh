#!/bin/sh
# check.sh -- run `skua -k parse -f FILE` on every configuration here.
#
# BADNAME.conf must make skua exit non-zero with each line of
# BADNAME.expect (the error as "file:line: reason"; the file name may be
# preceded by its directory) on standard error.  good_*.conf and the
# shipped etc/skua.conf.default must load with exit status 0.
#
# Run from the top build directory (as `make check` does); $srcdir is the
# top source directory and $SKUA the binary (default ./skua).

srcdir=${srcdir:-.}
SKUA=${SKUA:-./skua}
dir=$srcdir/test-suite/conf
pass=0
fail=0

if [ ! -x "$SKUA" ]; then
    echo "SKIP: $SKUA is not built"
    exit 77
fi

ok() { pass=$((pass + 1)); echo "PASS: $1"; }
ko() { fail=$((fail + 1)); echo "FAIL: $1"; }

errfile=${TMPDIR:-/tmp}/skua-conf-check.$$
trap 'rm -f "$errfile"' EXIT INT TERM

for conf in "$dir"/good_*.conf "$srcdir/etc/skua.conf.default"; do
    [ -f "$conf" ] || continue
    name=$(basename "$conf")
    if "$SKUA" -k parse -f "$conf" >/dev/null 2>"$errfile"; then
        ok "$name"
    else
        ko "$name: exit status $?; stderr:"
        sed 's/^/    /' "$errfile"
    fi
done

for conf in "$dir"/*.conf; do
    name=$(basename "$conf" .conf)
    case $name in good_*) continue ;; esac
    expect=$dir/$name.expect
    if [ ! -f "$expect" ]; then
        ko "$name: no $name.expect"
        continue
    fi
    if "$SKUA" -k parse -f "$conf" >/dev/null 2>"$errfile"; then
        ko "$name: exit status 0"
        continue
    fi
    missing=
    while IFS= read -r want; do
        [ -n "$want" ] || continue
        grep -F -q -- "$want" "$errfile" || missing=$want
    done < "$expect"
    if [ -n "$missing" ]; then
        ko "$name: stderr lacks '$missing'; stderr:"
        sed 's/^/    /' "$errfile"
    else
        ok "$name"
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
