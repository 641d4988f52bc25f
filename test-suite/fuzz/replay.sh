#!/bin/sh
# replay.sh -- run every fuzz harness built in this tree (test-suite/fuzz/
# fuzz_*, linked with replay.c) over its seed corpus in
# $srcdir/test-suite/fuzz/corpus/<harness>/.  Run by `make check` from the
# top of the build tree; automake exports $srcdir.
srcdir=${srcdir:-.}
status=0
ran=0
for bin in test-suite/fuzz/fuzz_*; do
    case $bin in
    *.*) continue ;;
    esac
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=${bin##*/}
    corpus=$srcdir/test-suite/fuzz/corpus/$name
    if [ ! -d "$corpus" ]; then
        echo "FAIL: $name: no seed corpus at $corpus" >&2
        status=1
        continue
    fi
    if "./$bin" "$corpus"; then
        ran=$((ran + 1))
    else
        echo "FAIL: $name over $corpus" >&2
        status=1
    fi
done
if [ "$ran" -eq 0 ] && [ "$status" -eq 0 ]; then
    echo "no fuzz harness built in test-suite/fuzz/" >&2
    exit 1
fi
exit $status
