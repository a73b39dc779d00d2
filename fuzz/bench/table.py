#!/usr/bin/env python3
"""Markdown table of tools/fuzz/bugbench.sh results: per bug and configuration, trials that found the bug and the
median time to find it (a trial that did not find it counts as longer than any that did)."""
import csv
import math
import sys


def median(values):
    v = sorted(values)
    n = len(v)
    if n == 0:
        return math.nan
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def main(results_path, bugs_path):
    bugs = [line.rstrip("\n").split("\t") for line in open(bugs_path, encoding="utf-8") if line.strip()]
    rows = list(csv.DictReader(open(results_path, encoding="utf-8"), delimiter="\t"))
    configs = []
    for r in rows:
        if r["config"] not in configs:
            configs.append(r["config"])
    caps, loads = {}, []
    for r in rows:
        caps.setdefault(r["config"], set()).add(r["cap"])
        try:
            loads.append(float(r["load"]))
        except ValueError:
            pass
    out = ["| bug | target | kind | " + " | ".join(f"`{c}` found, median s" for c in configs) + " |",
           "| --- | --- | --- | " + " | ".join("---" for _ in configs) + " |"]
    summary = {c: [0, 0, []] for c in configs}  # bugs with a run, bugs found in >= 2/3 of trials, medians
    for b in bugs:
        bid, target, _area, kind = b[0], b[1], b[2], b[3]
        cells = []
        for c in configs:
            trials = [r for r in rows if r["bug"] == bid and r["config"] == c]
            if not trials:
                cells.append("—")
                continue
            times = [float(r["seconds"]) if r["found"] == "1" else math.inf for r in trials]
            found = sum(1 for t in times if t != math.inf)
            m = median(times)
            summary[c][0] += 1
            if found * 3 >= 2 * len(trials):
                summary[c][1] += 1
            summary[c][2].append(m)
            cap = max(int(r["cap"]) for r in trials)
            cells.append(f"{found}/{len(trials)}, " + (f"{m:.1f}" if m != math.inf else f"> {cap}"))
        out.append(f"| B{int(bid):02} | `{target}` | {kind} | " + " | ".join(cells) + " |")
    cells = []
    for c in configs:
        ran, good, meds = summary[c]
        mm = median(meds)
        cells.append(f"{good}/{ran} bugs in ≥ 2/3 trials; median of medians " + (f"{mm:.1f} s" if mm != math.inf else "> cap"))
    out.append("| **all** | | | " + " | ".join(cells) + " |")
    out.append("")
    out.append(f"Caps (s): {', '.join(f'`{c}` ' + '/'.join(sorted(caps[c])) for c in configs)}; "
               f"load average at the end of the trials {min(loads):.1f}–{max(loads):.1f}." if loads else "")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
