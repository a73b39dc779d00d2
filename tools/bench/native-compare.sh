#!/usr/bin/env bash
# The native (NativeAOT) CLI against the ReadyToRun build and Xen's verify-stream-v2, in one run:
#   1. start-up: `streambench --version`, 20 runs each, mean wall time;
#   2. `verify` of a generated 1 GiB HVM v3 libxc stream (1024-page batches), best of 5, and its peak RSS.
# Usage: tools/bench/native-compare.sh [WORKDIR]. Prints the load average before and after, because on a shared
# machine it moves the figures. The figures go in docs/BENCHMARKS.md ("Native CLI").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/streambench-native-bench}
mkdir -p "$work"
cd "$root"
STREAMBENCH_CLI_BUILD=aot "$root/tools/streambench" --version >/dev/null   # NativeAOT publish into artifacts/cli
native="$root/artifacts/cli/streambench"
[ "$(cat "$root/artifacts/cli/.build-kind")" = aot ] || { echo "native-compare: artifacts/cli is not a NativeAOT build" >&2; exit 2; }
r2rdir="$work/r2r"
if [ ! -x "$r2rdir/streambench" ] || [ -n "$(find "$root/src" -name '*.cs' -newer "$r2rdir/streambench" -not -path '*/obj/*' -print -quit)" ]; then
  dotnet publish src/StreamBench.Cli/StreamBench.Cli.csproj -c Release -r linux-x64 --self-contained false \
    -p:PublishReadyToRun=true -o "$r2rdir" -nologo -v q >/dev/null
fi
r2r="$r2rdir/streambench"
oracle="$root/tools/oracle/verify-stream-v2"
big="$work/hvm-1g-v3.libxc"
[ -f "$big" ] || "$native" generate --layer libxc --guest hvm --pages 262144 --batch 1024 -o "$big"
cat "$big" > /dev/null   # warm the page cache

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "native: $(stat -c %s "$native") bytes; stream: $big ($(stat -c %s "$big") bytes, $("$native" inspect "$big" | grep -m1 -i version || true))"
python3 - "$native" "$r2r" "$oracle" "$big" <<'PY'
import subprocess, sys, time, os
native, r2r, oracle, big = sys.argv[1:]
def run(cmd):
    t = time.perf_counter(); p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); return time.perf_counter() - t, p.returncode
def mean(cmd, n):
    run(cmd); return sum(run(cmd)[0] for _ in range(n)) / n
def best(cmd, n):
    run(cmd); return min(run(cmd)[0] for _ in range(n))
def peak_rss_mib(cmd):  # GNU time's maximum resident set size, KiB -> MiB
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(p.stderr.strip().splitlines()[-1]) / 1024
rows = []
n, r = mean([native, "--version"], 20), mean([r2r, "--version"], 20)
print(f"start-up (--version, mean of 20): native {n*1000:.1f} ms, ReadyToRun {r*1000:.1f} ms ({r/n:.1f}x)")
for name, cmd in (("native", [native, "verify", big]), ("ReadyToRun", [r2r, "verify", big])):
    rc = run(cmd)[1]
    rows.append((name, best(cmd, 5), rc))
if os.path.exists(oracle):
    rows.append(("verify-stream-v2", best([oracle, "-f", "libxc", "-i", big], 5), run([oracle, "-f", "libxc", "-i", big])[1]))
base = rows[0][1]
for name, t, rc in rows:
    print(f"verify 1 GiB (best of 5): {name:17} {t:.3f} s  exit {rc}  ({t/base:.1f}x the native time)")
print(f"peak RSS of verify: native {peak_rss_mib([native, 'verify', big]):.1f} MiB, ReadyToRun {peak_rss_mib([r2r, 'verify', big]):.1f} MiB")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
