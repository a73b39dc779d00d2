#!/usr/bin/env bash
# Times, in one run, `streambench convert-legacy` against Xen's convert-legacy-stream and `cp` on a 1 GiB legacy
# image that the CLI writes (`streambench save --guest hvm -m 1G -f legacy`: a simulated HVM guest, half its pages
# zero), file to file, also with --sparse (runs of zero pages left as holes). Each timed run starts with its output
# file removed (not timed); best of 3. Checks that our outputs equal Xen's byte for byte (cmp), prints the ratios, the
# allocated size of the outputs and the load average before and after (the build machine is shared: read the figures
# with it).
# Xen's converter is timed through tools/oracle/convert-legacy-stream (the wrapper, which re-checks the oracle set-up
# on each run) and also run directly with its python3, so its start-up cost is visible.
# Usage: tools/bench/legacy-convert-compare.sh [WORKDIR] [MEMORY]   (default WORKDIR: /dev/shm/... if writable, else
# /tmp/...; MEMORY: 1G). The figures go in docs/LEGACY.md section 5.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${1:-}" ]; then work=$1
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then work=/dev/shm/streambench-legacy-bench
else work=/tmp/streambench-legacy-bench; fi
memory=${2:-1G}
mkdir -p "$work"
cd "$root"
bash tools/setup.sh --tests >/dev/null
"$root/tools/streambench" --help >/dev/null # publishes the Release CLI (NativeAOT by default) into artifacts/cli
sb="$root/artifacts/cli/streambench"
wrapper="$root/tools/oracle/convert-legacy-stream"
bash "$root/tools/oracle/setup.sh" -q
# shellcheck disable=SC1091
. "${XEN_ORACLE_CACHE:-$root/.cache/xen-oracle}/env"

image="$work/hvm-$memory.legacy"
[ -f "$image" ] || $sb save --guest hvm -m "$memory" --seed 3 -f legacy -o "$image" >/dev/null
cat "$image" > /dev/null # warm the page cache
fs=$(df -PT "$work" | awk 'NR==2 {print $2}')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

t() { # label, output file, command...: prints the best of 3 wall-clock times in seconds (last line: the number)
  local label=$1 out=$2; shift 2
  local best=""
  for _ in 1 2 3; do
    rm -f "$out"
    local s e d
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "FAILED: $label" >&2; exit 1; }; e=$(date +%s.%N)
    d=$(echo "$e - $s" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; fi
  done
  printf '%-58s %8.3f s\n' "$label" "$best"
  echo "$best"
}
declare -A r
measure() { local key=$1; shift; local out; out=$(t "$@"); echo "$out" | head -1; r[$key]=$(echo "$out" | tail -1); }

size=$(stat -c %s "$image")
echo "image: $image ($size bytes) on $fs; load average before: $load_before"
echo
measure ours  "streambench convert-legacy -i IMAGE -o OUT"         "$work/ours.out" "$sb" convert-legacy -i "$image" -o "$work/ours.out" -w 64 -g hvm
measure ours_sparse "streambench convert-legacy --sparse -i IMAGE -o OUT" "$work/sparse.out" "$sb" convert-legacy --sparse -i "$image" -o "$work/sparse.out" -w 64 -g hvm
measure xen   "tools/oracle/convert-legacy-stream -i IMAGE -o OUT" "$work/xen.out"  "$wrapper" -i "$image" -o "$work/xen.out" -w 64 -g hvm
measure xen_direct "convert-legacy-stream (python3 directly)"      "$work/xen.out"  env PYTHONPATH="$XEN_ORACLE_PYTHONPATH" "$XEN_ORACLE_PYTHON" "$XEN_ORACLE_CONVERT" -i "$image" -o "$work/xen.out" -w 64 -g hvm
measure cp    "cp IMAGE OUT"                                       "$work/cp.out"   cp "$image" "$work/cp.out"
# CPU time (user + sys) of one more run each: under a heavy load the wall clock mostly measures the scheduler.
cpu() { # label, output file, command...
  local label=$1 out=$2; shift 2
  rm -f "$out"
  /usr/bin/time -f '%U %S' -o "$work/cpu.txt" "$@" >/dev/null 2>&1
  printf '%-58s %8.3f s CPU\n' "$label" "$(awk '{print $1 + $2}' "$work/cpu.txt")"
}
echo
cpu "streambench convert-legacy"          "$work/ours.out"   "$sb" convert-legacy -i "$image" -o "$work/ours.out" -w 64 -g hvm
cpu "streambench convert-legacy --sparse" "$work/sparse.out" "$sb" convert-legacy --sparse -i "$image" -o "$work/sparse.out" -w 64 -g hvm
cpu "tools/oracle/convert-legacy-stream"  "$work/xen.out"    "$wrapper" -i "$image" -o "$work/xen.out" -w 64 -g hvm
cpu "convert-legacy-stream (python3 directly)" "$work/xen.out" env PYTHONPATH="$XEN_ORACLE_PYTHONPATH" "$XEN_ORACLE_PYTHON" "$XEN_ORACLE_CONVERT" -i "$image" -o "$work/xen.out" -w 64 -g hvm
cpu "cp"                                  "$work/cp.out"     cp "$image" "$work/cp.out"
rm -f "$work/cpu.txt"
# The outputs of the last runs stay for the comparison.
"$sb" convert-legacy -i "$image" -o "$work/ours.out" -w 64 -g hvm
echo
if cmp "$work/xen.out" "$work/ours.out" && cmp "$work/xen.out" "$work/sparse.out"; then same="identical"; else same="DIFFERENT"; fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
alloc_ours=$(du -k "$work/sparse.out" | cut -f1); alloc_xen=$(du -k "$work/xen.out" | cut -f1)
out_size=$(stat -c %s "$work/ours.out")
"$sb" convert-legacy --sparse -i "$image" -o "$work/sparse.out" -w 64 -g hvm
python3 - "$size" "$out_size" "${r[ours]}" "${r[xen]}" "${r[xen_direct]}" "${r[cp]}" "$alloc_ours" "$alloc_xen" "$same" "$load_before" "$load_after" "${r[ours_sparse]}" <<'PY'
import sys
size, out_size, ours, xen, xen_direct, cp, alloc_ours, alloc_xen, same, lb, la, sparse = sys.argv[1:]
f = float
print(f"outputs (ours, ours --sparse, Xen's): {same} ({int(out_size)} bytes; allocated: --sparse {int(alloc_ours)/1024:.0f} MiB, Xen's {int(alloc_xen)/1024:.0f} MiB)")
print(f"ours {int(size)/f(ours)/1e9:.2f} GB/s; Xen's converter {f(xen)/f(ours):.2f}x slower through the wrapper "
      f"(target >= 3), {f(xen_direct)/f(ours):.2f}x run directly; cp {f(cp)/f(ours):.2f}x of ours")
print(f"ours --sparse {int(size)/f(sparse)/1e9:.2f} GB/s: Xen's {f(xen)/f(sparse):.2f}x slower through the wrapper, {f(xen_direct)/f(sparse):.2f}x run directly")
print(f"load average: before {lb}, after {la} (2 cores; a shared, busy machine makes every figure noisy)")
PY
rm -f "$work/cp.out" "$work/sparse.out"
