#!/usr/bin/env bash
# CI fuzz smoke (tools/test.sh runs it as one pass/fail): builds and instruments the target hosts, then fuzzes every
# target for a short while, two at a time, and fails on any crash, hang or fork-server death. Works on a fresh machine
# (installs afl++ with apt when missing and running as root). Prints per target: execs/s, paths, edges, crashes, hangs.
#
#   fuzz/smoke.sh [SECONDS]          default 20 s per target (FUZZ_SMOKE_SECONDS)
#   FUZZ_SMOKE_TARGETS="a b"         only these targets (default: every target --list prints)
#   FUZZ_SMOKE_PARALLEL=2            targets fuzzed at the same time (default 2: one per core)
#   FUZZ_SMOKE_SYNC=0                skip the AFL++ -M/-S sync test (tools/fuzz/sync-test.sh, about 2 minutes)
#   FUZZ_SMOKE_SHORT="a b"           targets fuzzed FUZZ_SMOKE_SHORT_SECONDS (default 5) only: the COLO and post-copy
#                                    targets (default), whose inputs run two engine sides each, so the smoke's wall time
#                                    stays about what it was before they joined
#   FUZZ_SMOKE_BUGS="3 4 20"         planted bugs (fuzz/bench/bugs.py) that must be found, each within
#                                    FUZZ_SMOKE_BUG_SECONDS (default 90) by the default campaign; "none" skips them
#
# Work files: fuzz/.work/smoke-ci (FUZZ_WORK). A finding is left there for tools/fuzz/triage.sh DIR.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export FUZZ_WORK=${FUZZ_WORK:-$here/.work/smoke-ci}
. "$here/../tools/fuzz/lib.sh"
seconds=${1:-${FUZZ_SMOKE_SECONDS:-20}}
parallel=${FUZZ_SMOKE_PARALLEL:-2}
start=$(date +%s)

fz_need_afl
fz_build
fz_seeds
targets=${FUZZ_SMOKE_TARGETS:-$(fz_targets | tr '\n' ' ')}
short_targets=${FUZZ_SMOKE_SHORT-colo-secondary colo-primary postcopy-destination postcopy-source}
short_seconds=${FUZZ_SMOKE_SHORT_SECONDS:-5}
runs=$FUZZ_WORK/runs
rm -rf "$runs"; mkdir -p "$runs"
# Instrument sequentially first (cheap, and keeps two instrumenter runs from competing with two fuzzers), and replay
# every seed without AFL: campaigns skip crashing seeds (AFL_SKIP_CRASHES), the smoke must not.
seedfail=0
for t in $targets; do
  dll=$(fz_prepare "$t") || exit 2
  family=$(fz_target_line "$t" | cut -f4)
  if ! env -u __AFL_SHM_ID "$(fz_dotnet)" "$dll" --target "$t" "$FUZZ_WORK/seeds/$family" >"$runs/$t.seeds.txt" 2>&1; then
    fz_say "$t: a seed fails without AFL:"; grep -A3 CRASH "$runs/$t.seeds.txt" | head -n 8 >&2
    seedfail=$((seedfail + 1))
  fi
done
fz_say "smoke: $(wc -w <<<"$targets") targets x ${seconds}s (${short_seconds}s: ${short_targets:-none}), $parallel at a time (load $(cut -d' ' -f1-3 /proc/loadavg))"

running=()
for t in $targets; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do sleep 1; done
  s=$seconds; case " $short_targets " in *" $t "*) s=$short_seconds ;; esac
  "$here/../tools/fuzz/campaign.sh" "$t" --seconds "$s" --no-build --quiet --out "$runs/$t" >"$runs/$t.txt" 2>&1 &
done
wait

failed=0
printf '\n%-20s %9s %7s %7s %8s %6s  %s\n' target execs/s paths edges crashes hangs verdict
for t in $targets; do
  r=$(cat "$runs/$t/result" 2>/dev/null || true)
  if [ -z "$r" ]; then
    printf '%-20s %9s %7s %7s %8s %6s  %s\n' "$t" - - - - - "FAIL (did not run; see $runs/$t.txt)"
    failed=$((failed + 1)); continue
  fi
  get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$r"; }
  verdict=ok
  if [ "$(get crashes)" != 0 ] || [ "$(get hangs)" != 0 ] || [ "$(get died)" != 0 ]; then
    verdict="FAIL (tools/fuzz/triage.sh $runs/$t)"; failed=$((failed + 1))
  fi
  printf '%-20s %9s %7s %7s %8s %6s  %s\n' "$t" "$(get execs_per_sec)" "$(get paths)" "$(get edges)" "$(get crashes)" "$(get hangs)" "$verdict"
done
failed=$((failed + seedfail))

# Fuzzing power: planted bugs (docs/FUZZING.md, "Planted bugs") in a scratch copy of the tree, one campaign each, two at
# a time; the smoke fails if one is not found within the cap, so fuzzing power cannot silently regress.
bugs=${FUZZ_SMOKE_BUGS:-3 4 20}
if [ "$bugs" != none ]; then
  bench=$FUZZ_WORK/bench
  export BUGBENCH_DIR=$bench BUGBENCH_RESULTS=$bench/smoke-results.tsv
  rm -f "$BUGBENCH_RESULTS"
  if "$here/../tools/fuzz/bugbench.sh" build >"$FUZZ_WORK/bench-build.txt" 2>&1; then
    for b in $bugs; do
      while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do sleep 1; done
      BUGBENCH_RESULTS=$bench/smoke-B$b.tsv "$here/../tools/fuzz/bugbench.sh" run --bugs "$b" --trials 1 --cap "${FUZZ_SMOKE_BUG_SECONDS:-90}" >"$FUZZ_WORK/bench-B$b.txt" 2>&1 &
    done
    wait
    for b in $bugs; do
      line=$(awk -F'\t' -v b="$b" '$1 == b' "$bench/smoke-B$b.tsv" 2>/dev/null | tail -n 1)
      if [ "$(cut -f5 <<<"$line")" = 1 ]; then
        printf 'planted bug B%02d (%s): found after %s s\n' "$b" "$(cut -f2 <<<"$line")" "$(cut -f6 <<<"$line")"
      else
        printf 'planted bug B%02d (%s): FAIL, not found within %s s (see %s)\n' "$b" "$(cut -f2 <<<"$line")" "${FUZZ_SMOKE_BUG_SECONDS:-90}" "$FUZZ_WORK/bench-B$b.txt"
        failed=$((failed + 1))
      fi
    done
  else
    fz_say "the planted-bug tree does not build (see $FUZZ_WORK/bench-build.txt)"; failed=$((failed + 1))
  fi
fi
# AFL++ -M/-S across machines (docs/FUZZING.md, "Several machines"): a secondary imports the main's queue.
if [ "${FUZZ_SMOKE_SYNC:-1}" = 1 ]; then
  if "$here/../tools/fuzz/sync-test.sh" >"$FUZZ_WORK/sync-test.txt" 2>&1; then
    grep '^SYNC-RESULT' "$FUZZ_WORK/sync-test.txt"
  else
    fz_say "sync test failed:"; tail -n 15 "$FUZZ_WORK/sync-test.txt" >&2; failed=$((failed + 1))
  fi
fi
echo "fuzz smoke: $(wc -w <<<"$targets") targets, $failed failed ($seedfail with a failing seed), $(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$failed" = 0 ]
