#!/bin/sh
# The mechanical part of STYLE.md: no tabs, no trailing blanks, 80 columns
# in C sources and headers; files under 3000 lines and functions under 100
# lines unless listed in test-suite/check/size-exceptions; every magic
# number unique; each src/ directory includes only what its .may_include
# lists.
srcdir=${srcdir:-.}
cd "$srcdir" || exit 1
status=0
files=$(find include lib src test-suite/unit test-suite/fuzz \
        -name '*.[ch]' 2>/dev/null | sort)

bad=$(grep -n "$(printf '\t')" $files /dev/null)
[ -z "$bad" ] || { echo "tabs:"; echo "$bad"; status=1; }
bad=$(grep -nE ' +$' $files /dev/null)
[ -z "$bad" ] || { echo "trailing blanks:"; echo "$bad"; status=1; }
bad=$(awk 'length > 80 { print FILENAME ":" FNR ": " length " columns" }' \
      $files)
[ -z "$bad" ] || { echo "over 80 columns:"; echo "$bad"; status=1; }

exc=test-suite/check/size-exceptions
for f in $(find include lib src -name '*.[ch]' | sort); do
    grep -qx "$f" "$exc" 2>/dev/null && continue
    n=$(wc -l < "$f")
    [ "$n" -le 3000 ] || { echo "$f: $n lines (limit 3000)"; status=1; }
    awk -v F="$f" '
        /^[a-zA-Z_].*\(/ { name = $0 }
        /^\{/ { start = NR }
        /^\}/ { if (start && NR - start > 100) {
                    printf "%s: %s: %d lines (limit 100)\n", F,
                           substr(name, 1, 50), NR - start; bad = 1 }
                start = 0 }
        END { exit bad }' "$f" || status=1
done

dups=$(grep -rhoE '#define [A-Z0-9_]+_MAGIC +0x[0-9a-fA-F]+' include lib src |
       awk '{ print tolower($3) }' | sort | uniq -d)
[ -z "$dups" ] || { echo "magic numbers used twice: $dups"; status=1; }

# Layering: lib <- proto <- comm, nat, dns <- http, socks, ... <- main.
for d in src/*/; do
    d=${d%/}
    allow="$d/.may_include"
    [ -f "$allow" ] || continue
    for inc in $(grep -hoE '^#include "[^"]+"' "$d"/*.[ch] 2>/dev/null |
                 sed 's/#include "\(.*\)"/\1/' | sort -u); do
        case "$inc" in
        config.h|sk_*.h) continue ;;
        esac
        grep -qxF "$inc" "$allow" || grep -qxF "${inc%%/*}/*" "$allow" || {
            echo "$d includes $inc, which $allow does not list"; status=1; }
    done
done

[ $status -eq 0 ] && echo "style, size, magic and include checks passed"
exit $status
