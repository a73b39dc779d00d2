#!/usr/bin/env bash
# Measures the save/restore engine against `cat` on one HVM stream (1 GiB by default), in one run:
#   1. cat FILE | cat > /dev/null                       the pipe's own speed (the baseline)
#   2. cat FILE | streambench restore -                 restore from a pipe: wall time, the engine's own time
#                                                       (start to END, from the command's report), peak RSS
#   3. streambench save ... -o - | cat > /dev/null      save into a pipe: the engine's own time (the domain is
#                                                       built first, outside it), wall time, peak RSS
# Each is the best of 3. The machine's load average is printed before and after: on a shared box the figures move.
# Usage: tools/bench/engine-compare.sh [WORKDIR] [MEMORY]      (MEMORY as the CLI takes it: 1G, 256M, ...)
# The figures go in docs/ENGINE.md ("Measured").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/streambench-engine-bench}
mem=${2:-1G}
mkdir -p "$work"
cd "$root"
bash tools/setup.sh >/dev/null
echo "building the CLI (Release, ReadyToRun) into $work/cli ..." >&2
dotnet publish src/StreamBench.Cli/StreamBench.Cli.csproj -c Release -r linux-x64 --self-contained false \
  -p:PublishReadyToRun=true -o "$work/cli" -nologo -v q >&2
sb="$work/cli/streambench"
file="$work/hvm-$mem.xl"
if [ ! -f "$file" ]; then
  "$sb" save --guest hvm --memory "$mem" --vcpus 2 --seed 1 -o "$file" > "$work/save-file.txt"
fi
cat "$file" > /dev/null # warm the page cache
size=$(stat -c %s "$file")
echo "stream: $file ($size bytes)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"

now() { date +%s.%N; }
best() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }

cat_t=(); rs_wall=(); rs_engine=(); rs_rss=(); sv_wall=(); sv_engine=(); sv_rss=()
for round in 1 2 3; do
  s=$(now); cat "$file" | cat > /dev/null; e=$(now)
  cat_t+=("$(python3 -c "print($e - $s)")")

  /usr/bin/time -f '%e %M' -o "$work/time.txt" bash -c "cat '$file' | '$sb' restore - > '$work/restore.txt'"
  read -r wall rss < "$work/time.txt"
  rs_wall+=("$wall"); rs_rss+=("$rss")
  rs_engine+=("$(sed -n 's/^records:.* time: \([0-9.]*\) s.*/\1/p' "$work/restore.txt")")

  /usr/bin/time -f '%e %M' -o "$work/time.txt" bash -c "'$sb' save --guest hvm --memory '$mem' --vcpus 2 --seed 1 -o - 2> '$work/save.txt' | cat > /dev/null"
  read -r wall rss < "$work/time.txt"
  sv_wall+=("$wall"); sv_rss+=("$rss")
  sv_engine+=("$(sed -n 's/^bytes:.* time: \([0-9.]*\) s.*/\1/p' "$work/save.txt")")
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

saved=$(tail -1 "$work/save.txt"); restored=$(tail -1 "$work/restore.txt")
[ "$saved" = "$restored" ] && echo "digests equal ($restored)" || echo "DIGESTS DIFFER: save '$saved', restore '$restored'"

python3 - "$size" "$mem" "$(best "${cat_t[@]}")" "$(best "${rs_wall[@]}")" "$(best "${rs_engine[@]}")" "$(best "${rs_rss[@]}")" \
  "$(best "${sv_wall[@]}")" "$(best "${sv_engine[@]}")" "$(best "${sv_rss[@]}")" <<'PY'
import sys
size = int(sys.argv[1]); mem = sys.argv[2]
cat, rs_wall, rs_engine, rs_rss, sv_wall, sv_engine, sv_rss = map(float, sys.argv[3:])
gb = lambda t: size / t / 1e9
domain_mib = {"K": 1 / 1024, "M": 1, "G": 1024}.get(mem[-1].upper(), 1) * float(mem[:-1] if mem[-1].isalpha() else mem)
print(f"cat FILE | cat > /dev/null          {cat:7.3f} s  {gb(cat):6.2f} GB/s  (baseline)")
print(f"cat FILE | streambench restore -    {rs_wall:7.3f} s wall ({rs_wall / cat:.1f}x the baseline; start-up and the 1-pass SHA-256 digest included)")
print(f"  restore engine (start to END)     {rs_engine:7.3f} s  {gb(rs_engine):6.2f} GB/s  -> {cat / rs_engine:.2f}x of the pipe (target >= 0.7)")
print(f"  peak RSS                          {rs_rss / 1024:7.1f} MiB (domain {domain_mib:.0f} MiB; target <= domain + 64 MiB: {'ok' if rs_rss / 1024 <= domain_mib + 64 else 'OVER'})")
print(f"streambench save -o - | cat         {sv_wall:7.3f} s wall (domain build and digest included)")
print(f"  save engine (start to flush)      {sv_engine:7.3f} s  {gb(sv_engine):6.2f} GB/s  -> {cat / sv_engine:.2f}x of the pipe")
print(f"  peak RSS                          {sv_rss / 1024:7.1f} MiB")
PY
