#!/usr/bin/python3
"""Medians, ratios and the results table for the skua benchmarks.

Used by the bench_*.sh scripts, bench_idle_mem.py and run_all.sh. It only
does arithmetic and printing: it starts no process and opens no socket.
Targets are informational; nothing here fails a build.

  benchstat.py median V...
  benchstat.py record --name N --unit U --better higher|lower
                      [--skua V,V,..] [--squid V,..] [--direct V,..]
                      --ref squid|direct|abs --op '>='|'<=' --target X
  benchstat.py table FILE

"record" prints a summary block and, when $BENCH_RESULTS names a file,
appends one JSON line to it; "table" prints those lines as a table.
"""

import argparse
import json
import os
import statistics
import sys


def parse_list(text):
    """Comma list of numbers (empty or None: not measured) to a list."""
    if not text:
        return []
    return [float(v) for v in text.split(",") if v.strip() != ""]


def median(values):
    return statistics.median(values) if values else None


def fmt(value):
    """Short human form: 3 significant figures, thousands as k."""
    if value is None:
        return "-"
    if abs(value) >= 10000:
        return "%.1fk" % (value / 1000.0)
    if abs(value) >= 100:
        return "%.0f" % value
    if abs(value) >= 10:
        return "%.1f" % value
    return "%.2f" % value


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def record(args):
    runs = {
        "skua": parse_list(args.skua),
        "squid": parse_list(args.squid),
        "direct": parse_list(args.direct),
    }
    med = {k: median(v) for k, v in runs.items()}
    vs_squid = ratio(med["skua"], med["squid"])
    vs_direct = ratio(med["skua"], med["direct"])
    target = float(args.target)

    if args.ref == "abs":
        measured = med["skua"]
        target_text = "skua %s %s %s" % (args.op, fmt(target), args.unit)
    else:
        measured = vs_squid if args.ref == "squid" else vs_direct
        target_text = "%s %.2fx %s" % (args.op, target, args.ref)
    if measured is None:
        verdict = "n/a"
    elif args.op == ">=":
        verdict = "PASS" if measured >= target else "FAIL"
    else:
        verdict = "PASS" if measured <= target else "FAIL"

    ratios = []
    if vs_squid is not None:
        ratios.append("%.2fx squid" % vs_squid)
    if vs_direct is not None:
        ratios.append("%.2fx direct" % vs_direct)
    if args.ref == "direct":
        ratios.reverse()
    ratio_text = ", ".join(ratios) if ratios else "-"

    print("== %s (%s, %s is better)" % (args.name, args.unit, args.better))
    for who in ("skua", "squid", "direct"):
        if runs[who]:
            rounds = " ".join(fmt(v) for v in runs[who])
            print("   %-7s median %-9s rounds: %s"
                  % (who, fmt(med[who]), rounds))
    print("   ratio   %s" % ratio_text)
    print("   target  %s: %s (informational)" % (target_text, verdict))

    row = {
        "name": args.name, "unit": args.unit, "better": args.better,
        "runs": runs, "median": med, "ratio": ratio_text,
        "target": target_text, "verdict": verdict,
    }
    out = os.environ.get("BENCH_RESULTS")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps(row) + "\n")


def table(path):
    rows = []
    try:
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    except OSError as e:
        print("no results: %s" % e)
        return 1
    head = ["scenario", "unit", "skua", "squid", "direct", "ratio",
            "target", "result"]
    body = []
    for r in rows:
        m = r["median"]
        body.append([r["name"], r["unit"], fmt(m["skua"]), fmt(m["squid"]),
                     fmt(m["direct"]), r["ratio"], r["target"],
                     r["verdict"]])
    widths = [max(len(x[i]) for x in [head] + body)
              for i in range(len(head))]
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths, head))
    print(line.rstrip())
    print("  ".join("-" * w for w in widths))
    for b in body:
        print("  ".join("%-*s" % (w, c)
                        for w, c in zip(widths, b)).rstrip())
    return 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "median":
        print(fmt(median([float(v) for v in sys.argv[2:]])))
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "table":
        return table(sys.argv[2])
    if len(sys.argv) < 2 or sys.argv[1] != "record":
        print(__doc__, file=sys.stderr)
        return 2
    p = argparse.ArgumentParser(prog="benchstat.py record")
    p.add_argument("--name", required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--better", choices=("higher", "lower"), required=True)
    p.add_argument("--skua", default="")
    p.add_argument("--squid", default="")
    p.add_argument("--direct", default="")
    p.add_argument("--ref", choices=("squid", "direct", "abs"),
                   required=True)
    p.add_argument("--op", choices=(">=", "<="), required=True)
    p.add_argument("--target", required=True)
    record(p.parse_args(sys.argv[2:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
