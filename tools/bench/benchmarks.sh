#!/usr/bin/env bash
# Runs the BenchmarkDotNet suite (tools/bench/StreamBench.Benchmarks) and writes its results into docs/BENCHMARKS.md,
# between the markers "<!-- benchmarks:begin -->" and "<!-- benchmarks:end -->": a table per run with the hardware
# line BenchmarkDotNet reports and the load average before and after, so the figures there are regenerated, never
# retyped.
#
#   tools/bench/benchmarks.sh [--job short|medium|long|dry|default] [--filter GLOB] [--no-docs]
#
# Defaults: --job short (BenchmarkDotNet's ShortRun: 1 launch, 3 warm-up and 3 measured iterations), --filter '*'.
# The benchmarks run in-process (BenchmarkDotNet's in-process toolchain): no per-benchmark project is generated and
# built, which on a shared, loaded machine takes longer than the measurements. Results also stay in
# artifacts/benchmarks/results/ (JSON, GitHub markdown).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

job=short; filter='*'; docs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --job) job=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --no-docs) docs=0; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "benchmarks.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

art="$root/artifacts/benchmarks"
rm -rf "$art"; mkdir -p "$art"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
dotnet run -c Release --project tools/bench/StreamBench.Benchmarks -- \
  --filter "$filter" --job "$job" --inProcess --exporters json github --artifacts "$art"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

[ "$docs" = 1 ] || exit 0
python3 - "$art/results" "$root/docs/BENCHMARKS.md" "$job" "$load_before" "$load_after" <<'PY'
import glob, json, sys, datetime
results, doc, job, before, after = sys.argv[1:6]
files = sorted(glob.glob(results + "/*-report-full-compressed.json")) or sorted(glob.glob(results + "/*.json"))
if not files:
    sys.exit("benchmarks.sh: BenchmarkDotNet wrote no JSON report")

def time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:,.3f} {unit}"
    return f"{ns:,.1f} ns"

def size(b):
    if b is None:
        return "—"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= scale:
            return f"{b / scale:,.2f} {unit}"
    return f"{b:,} B"

rows, host = [], None
for path in files:
    report = json.load(open(path, encoding="utf-8"))
    host = host or report.get("HostEnvironmentInfo", {})
    for b in report.get("Benchmarks", []):
        st = b.get("Statistics") or {}
        mem = b.get("Memory") or {}
        params = b.get("Parameters") or ""
        if not st:
            rows.append((b["Type"], b["Method"], params, "failed", "", ""))
            continue
        rows.append((b["Type"], b["Method"], params, time(st["Mean"]), time(st.get("StandardDeviation", 0)),
                     size(mem.get("BytesAllocatedPerOperation"))))

h = host or {}
hardware = (f"{h.get('ProcessorName', '?').strip()}, {h.get('PhysicalCoreCount', '?')} physical / "
            f"{h.get('LogicalCoreCount', '?')} logical cores; {h.get('OsVersion', '?')}; {h.get('RuntimeVersion', '?')}; "
            f"{h.get('BenchmarkDotNetCaption', 'BenchmarkDotNet')} {h.get('BenchmarkDotNetVersion', '')}")
stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
out = [f"Run of {stamp}, job `{job}`, in-process, by `tools/bench/benchmarks.sh`. **Load average before / after: "
       f"{before} / {after}** (the machine was shared; figures at a load above the core count are slower and noisier "
       f"than on an idle machine).", "", f"Hardware: {hardware}.", "",
       "| class | benchmark | parameters | mean | std dev | allocated / op |", "|---|---|---|---:|---:|---:|"]
out += [f"| {t} | {m} | {p or '—'} | {mean} | {sd} | {alloc} |" for t, m, p, mean, sd, alloc in rows]
text = open(doc, encoding="utf-8").read()
begin, end = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"
if begin not in text or end not in text:
    sys.exit(f"benchmarks.sh: {doc} has no {begin} ... {end} markers")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w", encoding="utf-8").write(head + begin + "\n" + "\n".join(out) + "\n" + end + tail)
print(f"benchmarks.sh: {len(rows)} results written into {doc}")
PY
