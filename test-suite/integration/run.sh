#!/bin/sh
# Run the integration suite (pytest) against the skua built here.
# automake runs TESTS in the build directory with $srcdir exported; the
# binary under test is ./skua unless SKUA_BIN says otherwise.
# Exit 77 (skipped) only when nginx or curl is missing; pytest's "no tests
# collected" (5) counts as a failure.

srcdir=${srcdir:-.}
SKUA_BIN=${SKUA_BIN:-$(pwd)/skua}
export SKUA_BIN srcdir

PATH=$PATH:/usr/sbin:/sbin
export PATH

if ! command -v nginx >/dev/null 2>&1; then
    echo "SKIP: nginx not installed (Debian: apt-get install nginx-light)"
    exit 77
fi
if ! command -v curl >/dev/null 2>&1; then
    echo "SKIP: curl not installed (Debian: apt-get install curl)"
    exit 77
fi
if [ ! -x "$SKUA_BIN" ]; then
    echo "FAIL: no skua binary at $SKUA_BIN"
    exit 1
fi

PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
/usr/bin/python3 -m pytest -q -p no:cacheprovider \
    --rootdir "$srcdir/test-suite/integration" \
    "$srcdir/test-suite/integration" "$@"
rc=$?
if [ $rc -eq 5 ]; then
    echo "FAIL: pytest collected no tests"
    exit 1
fi
exit $rc
