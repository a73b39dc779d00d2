#!/usr/bin/env python3
"""Markdown table of tools/fuzz/bugbench.sh results: per bug and configuration, trials that found the bug and the
median time to find it (a trial that did not find it counts as longer than any that did).

  table.py BUGS RESULTS[:FROM=TO,...]...

BUGS is `plant.py --list`; each RESULTS file is a bugbench.sh results.tsv, its configuration FROM shown as TO (TO "-":
left out), so files measured at different times can share a configuration name and still get columns of their own.
A trial whose `found` is "n/a" (the configuration cannot run the bug's target) makes the cell "n/a"; it counts in no
summary. Under the table: each column's cap(s), its load average range and its executions per second (all its trials'
executions over their time to find, or the cap when not found)."""
import csv
import math
import sys


def median(values):
    v = sorted(values)
    n = len(v)
    if n == 0:
        return math.nan
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def read(spec):
    path, _, renames = spec.partition(":")
    names = dict(r.split("=", 1) for r in renames.split(",") if r)
    rows = []
    for r in csv.DictReader(open(path, encoding="utf-8"), delimiter="\t"):
        r["config"] = names.get(r["config"], r["config"])
        if r["config"] != "-":
            rows.append(r)
    return rows


def fnum(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def main(bugs_path, specs):
    bugs = [line.rstrip("\n").split("\t") for line in open(bugs_path, encoding="utf-8") if line.strip()]
    rows = [r for spec in specs for r in read(spec)]
    configs = []
    for r in rows:
        if r["config"] not in configs:
            configs.append(r["config"])
    caps = {c: sorted({int(r["cap"]) for r in rows if r["config"] == c and r["found"] != "n/a"}) for c in configs}
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
            if any(r["found"] == "n/a" for r in trials):
                cells.append("n/a")
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
    notes = []
    for c in configs:
        ran = [r for r in rows if r["config"] == c and r["found"] != "n/a"]
        loads = [x for x in (fnum(r["load"]) for r in ran) if x is not None]
        execs = sum(int(r["execs"]) for r in ran if r["execs"].isdigit())
        secs = sum(float(r["seconds"]) if r["found"] == "1" else float(r["cap"]) for r in ran)
        note = f"`{c}`: cap {'/'.join(str(x) for x in caps[c])} s, {len(ran)} trials"
        if loads:
            note += f", load {min(loads):.1f}–{max(loads):.1f}"
        if secs > 0:
            note += f", {execs / secs:,.0f} execs/s"
        notes.append(note)
    out.append("Per column: " + "; ".join(notes) + " (load average at the end of each trial; executions per second over "
               "all its trials: executions / (time to find, or the cap)).")
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
