#!/usr/bin/env bash
# Times, in one run, `streambench verify` against Xen's verify-stream-v2 and the `cat` baselines on generated streams:
#   1. a 1 GiB HVM v3 stream in 1024-page batches, as a file and through a pipe;
#   2. a stream of 262,144 one-page PAGE_DATA records.
# Also reports the peak memory (max RSS) of streambench verify. Usage: tools/bench/verify-compare.sh [WORKDIR] [PAGES]
# The figures go in docs/BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/streambench-bench}
pages=${2:-262144}
mkdir -p "$work"
cd "$root"
bash tools/setup.sh --tests >/dev/null
"$root/tools/streambench" --help >/dev/null # publishes the Release CLI (NativeAOT by default) into artifacts/cli
sb="$root/artifacts/cli/streambench"
oracle="$root/tools/oracle/verify-stream-v2"

big="$work/hvm-1g.libxc"; small="$work/onepage.libxc"
[ -f "$big" ] || $sb generate --layer libxc --guest hvm --pages "$pages" --batch 1024 -o "$big"
[ -f "$small" ] || $sb generate --layer libxc --guest hvm --pages "$pages" --batch 1 -o "$small"
cat "$big" "$small" > /dev/null # warm the page cache

t() { # label, command...: prints seconds (best of 3)
  local label=$1; shift
  local best=""
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    local d; d=$(echo "$e - $s" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; fi
  done
  printf '%-48s %8.3f s\n' "$label" "$best"
  echo "$best"
}
size=$(stat -c %s "$big")
echo "stream: $big ($size bytes), $small ($(stat -c %s "$small") bytes)"
echo
declare -A r
measure() { local key=$1; shift; local out; out=$(t "$@"); echo "$out" | head -1; r[$key]=$(echo "$out" | tail -1); }
measure cat_file      "cat FILE > /dev/null"                       bash -c "cat '$big' > /dev/null"
measure cat_pipe      "cat FILE | cat > /dev/null"                 bash -c "cat '$big' | cat > /dev/null"
measure sb_file       "streambench verify FILE"                    bash -c "$sb verify '$big'"
measure sb_pipe       "cat FILE | streambench verify -"            bash -c "cat '$big' | $sb verify -"
measure sb_xen_file   "streambench verify --profile xen FILE"      bash -c "$sb verify --profile xen '$big'"
measure xen_file      "verify-stream-v2 -f libxc -i FILE"          bash -c "'$oracle' -f libxc -i '$big'"
measure sb_small      "streambench verify ONEPAGE (262144 records)" bash -c "$sb verify '$small'"
measure xen_small     "verify-stream-v2 ONEPAGE"                   bash -c "'$oracle' -f libxc -i '$small'"
echo
rss=$( { /usr/bin/time -f '%M' $sb verify "$big" >/dev/null; } 2>&1 | tail -1 )
rss_pipe=$( { cat "$big" | /usr/bin/time -f '%M' $sb verify - >/dev/null; } 2>&1 | tail -1 )
records=$((pages + 8))
python3 - "$size" "${r[cat_pipe]}" "${r[sb_pipe]}" "${r[sb_file]}" "${r[xen_file]}" "${r[sb_small]}" "${r[xen_small]}" "$records" "$rss" "$rss_pipe" <<'PY'
import sys
size, cat_pipe, sb_pipe, sb_file, xen_file, sb_small, xen_small, records, rss, rss_pipe = sys.argv[1:]
size=int(size); f=float
print(f"pipe: streambench {size/f(sb_pipe)/1e9:.2f} GB/s vs cat|cat {size/f(cat_pipe)/1e9:.2f} GB/s -> {f(cat_pipe)/f(sb_pipe):.2f}x of the pipe (target >= 0.8)")
print(f"file: streambench {f(sb_file):.3f} s vs verify-stream-v2 {f(xen_file):.3f} s -> {f(xen_file)/f(sb_file):.1f}x faster (target >= 10)")
print(f"one-page records: streambench {int(records)/f(sb_small)/1e6:.2f} M records/s, verify-stream-v2 {int(records)/f(xen_small)/1e6:.3f} M records/s (target >= 2.5 M/s)")
print(f"peak RSS of verify: file {int(rss)/1024:.1f} MiB, pipe {int(rss_pipe)/1024:.1f} MiB (target <= 64 MiB)")
PY
