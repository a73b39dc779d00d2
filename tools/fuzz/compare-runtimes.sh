#!/usr/bin/env bash
# SharpFuzz's runtime and instrumenter vs ours, side by side in one run: for each target, one campaign of N seconds
# with each (one afl-fuzz instance, no custom mutator, same seeds and dictionaries), then a Markdown table of execs/s,
# paths and edges (edges count each instrumenter's own probes, so compare them within a runtime over time rather than
# across runtimes).
#
#   tools/fuzz/compare-runtimes.sh [--seconds 30] [--targets "reader-libxc verifier-strict"] [--no-build]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib.sh"
seconds=30; targets=""; build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;; --targets) targets=$2; shift ;; --no-build) build=0 ;;
    *) fz_die "unknown option $1" ;;
  esac; shift
done
fz_need_afl
[ "$build" = 1 ] && fz_build
fz_seeds
[ -d "$fz_build_dir/host-sharpfuzz" ] || fz_die "the SharpFuzz host did not build"
targets=${targets:-$(fz_targets | tr '\n' ' ')}   # every target, the engine host's included
out=$fz_work/runtimes; mkdir -p "$out"
get() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" 2>/dev/null; }
rows=()
for t in $targets; do
  for rt in own sharpfuzz; do
    opts=(--no-mutator --no-build --quiet --seconds "$seconds" --out "$out/$t-$rt")
    [ "$rt" = sharpfuzz ] && opts+=(--sharpfuzz)
    "$here/campaign.sh" "$t" "${opts[@]}" >"$out/$t-$rt.log" 2>&1
  done
  o=$out/$t-own/result; s=$out/$t-sharpfuzz/result
  rows+=("| \`$t\` | $(get "$o" execs_per_sec) | $(get "$s" execs_per_sec) | $(get "$o" paths) | $(get "$s" paths) | $(get "$o" edges) | $(get "$s" edges) | $(get "$o" load) / $(get "$s" load) |")
done
echo "| target | execs/s own | execs/s SharpFuzz | paths own | paths SharpFuzz | edges own | edges SharpFuzz | load (1/5/15 min) at the end, own / SharpFuzz |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
