#!/usr/bin/env bash
# What does recording through the xl migrate pipe transport cost in throughput? (docs/CAPTURE.md, "Overhead")
#
# Makes a 1 GiB xl stream (streambench generate --layer xl --guest hvm --pages 262144), then times, in the same run and
# interleaved round by round:
#   base        cat big | cat > /dev/null
#   record      cat big | streambench record --transport -o cap -- cat > /dev/null      (both directions recorded: 2 GiB)
#   tee         cat big | tee c1 | cat | tee c2 > /dev/null    (the same 2 GiB written to disk with no recorder at all)
#   base/quiet  cat big | sh -c 'cat > /dev/null'      (a receiver that answers nothing, as xl migrate-receive does)
#   record/quiet cat big | streambench record --transport -o cap -- sh -c 'cat > /dev/null'   (1 GiB recorded)
# and, at a migration-like link rate (--rate MB/s, a receiver that answers nothing, as xl migrate-receive does):
#   base@rate   ratelimit big | sh -c 'cat > /dev/null'
#   record@rate ratelimit big | streambench record --transport -o cap -- sh -c 'cat > /dev/null'
# Prints the median of each and the overhead of recording. Usage:
#   tools/bench/record-overhead.sh [--rounds N] [--rate MBPS] [--dir DIR] [--keep]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=5; rate=400; dir=""; keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--rounds N] [--rate MBPS] [--dir DIR] [--keep]" >&2; exit 2 ;;
  esac
done

"$root/tools/streambench" --version >/dev/null || exit 2   # the published Release CLI (NativeAOT by default), as users run it
sb=("$root/artifacts/cli/streambench")
work=${dir:-$(mktemp -d)}
mkdir -p "$work"
cleanup() { [ "$keep" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
big="$work/big.bin"
[ -s "$big" ] || "${sb[@]}" generate --layer xl --guest hvm --pages 262144 -o "$big"
bytes=$(stat -c %s "$big")
cat "$big" > /dev/null   # into the page cache

ratelimit() { python3 "$root/tools/bench/ratelimit.py" "$1" "$rate"; } # paced sender, $rate MB/s

now() { date +%s.%N; }
declare -A times
run() { # name, command...
  local name=$1; shift
  local t0 t1
  sync   # the previous case's files are written back first: writeback of earlier rounds must not land on this one
  t0=$(now); "$@"; t1=$(now)
  rm -f "$work/cap.cap" "$work/c1" "$work/c2"   # not timed: unlinking a fresh 1 GiB file on ext4 (discard) takes ~1 s
  times[$name]="${times[$name]:-} $(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')"
}
base() { cat "$big" | cat > /dev/null; }
record() { cat "$big" | "${sb[@]}" record --transport -q -o "$work/cap.cap" -- cat > /dev/null; }
teeref() { cat "$big" | tee "$work/c1" | cat | tee "$work/c2" > /dev/null; }
base_quiet() { cat "$big" | sh -c 'cat > /dev/null'; }
record_quiet() { cat "$big" | "${sb[@]}" record --transport -q -o "$work/cap.cap" -- sh -c 'cat > /dev/null'; }
base_rate() { ratelimit "$big" | sh -c 'cat > /dev/null'; }
record_rate() { ratelimit "$big" | "${sb[@]}" record --transport -q -o "$work/cap.cap" -- sh -c 'cat > /dev/null'; }

for ((i = 1; i <= rounds; i++)); do
  run base base; run record record; run tee teeref
  run base/quiet base_quiet; run record/quiet record_quiet
  run base@rate base_rate; run record@rate record_rate
  echo "round $i/$rounds done" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mbps() { awk -v b="$bytes" -v t="$1" 'BEGIN {print b / t / 1e6}'; }
printf '%-12s %10s %12s\n' case "median s" "MB/s"
for name in base record tee base/quiet record/quiet base@rate record@rate; do
  m=$(echo "${times[$name]}" | median)
  printf '%-12s %10.3f %12.0f\n' "$name" "$m" "$(mbps "$m")"
  v=${name//@/_}; eval "m_${v//\//_}=$m"
done
overhead() { awk -v a="$1" -v b="$2" 'BEGIN {print (b / a - 1) * 100}'; }
printf 'recording overhead vs cat|cat:              %6.1f %%\n' "$(overhead "$m_base" "$m_record")"
printf 'recording overhead vs tee to disk (no recorder): %6.1f %%\n' "$(overhead "$m_tee" "$m_record")"
printf 'recording overhead, quiet receiver, full speed: %6.1f %%\n' "$(overhead "$m_base_quiet" "$m_record_quiet")"
printf 'recording overhead at %s MB/s:              %6.1f %%\n' "$rate" "$(overhead "$m_base_rate" "$m_record_rate")"
echo "($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $rounds rounds, $bytes bytes)"
