#!/usr/bin/env bash
# Runs the ClusterFuzzLite build (.clusterfuzzlite/build.sh) outside Docker, with SRC, OUT and WORK set into a temporary
# folder, once per fuzzing engine (libFuzzer, then AFL++), then every fuzzer it built for a few seconds from its seed
# corpus with its dictionary, as ClusterFuzzLite would (docs/FUZZING.md, "ClusterFuzzLite"): libFuzzer's fuzzers run
# themselves, AFL++'s run under afl-fuzz (without AFL_SKIP_BIN_CHECK, so the build's markers are checked too). Also
# runs the libFuzzer driver's own test (fuzz/libfuzzer-dotnet/test.sh).
#
#   tools/fuzz/cfl-smoke.sh [SECONDS]     default 5 s per fuzzer (CFL_SMOKE_SECONDS)
#   CFL_ENGINES="libfuzzer afl"           the engines (default both; afl needs afl-fuzz, Debian package afl++)
#   CFL_TARGETS="a b"                     only these targets
#   CFL_SMOKE_DIR=DIR                     work here and keep it (default: a temporary folder, removed at the end)
#   CFL_ALLOW_NO_XEN=1                    Debian's Xen source unavailable: skip the xen-native targets, saying so
#
# Exit 0: everything built and every fuzzer ran without a new finding (a crash whose report is a known Xen finding,
# XN-1..4, is reported and allowed); 1: a build or a run failed; 2: usage.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-${CFL_SMOKE_SECONDS:-5}}
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
start=$(date +%s)
if [ -n "${CFL_SMOKE_DIR:-}" ]; then dir=$CFL_SMOKE_DIR; rm -rf "$dir/out" "$dir/runs"; mkdir -p "$dir"
else dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT; fi
say() { echo "[cfl-smoke] $*" >&2; }

failed=0
if ! bash "$root/fuzz/libfuzzer-dotnet/test.sh" >"$dir/driver-test.txt" 2>&1; then
  say "the libFuzzer driver's test failed:"; cat "$dir/driver-test.txt" >&2; failed=1
fi
mkdir -p "$dir/src"
ln -sfn "$root" "$dir/src/streambench"
total=0

# One engine: build.sh into $dir/ENGINE/{out,work}, then each fuzzer for SECONDS.
smoke_engine() { # engine
  local engine=$1 out=$dir/$1/out work=$dir/$1/work runs=$dir/$1/runs f n run missing rc last cov ft corp eps verdict crash
  rm -rf "$dir/$engine"; mkdir -p "$out" "$work" "$runs"
  say "build.sh, FUZZING_ENGINE=$engine (SRC=$dir/src OUT=$out WORK=$work; load $(cut -d' ' -f1-3 /proc/loadavg))"
  if ! SRC=$dir/src OUT=$out WORK=$work STREAMBENCH_SRC=$root FUZZING_ENGINE=$engine SANITIZER=address \
      nice -n "${CFL_SMOKE_NICE:-10}" bash "$root/.clusterfuzzlite/build.sh" 2>"$dir/$engine/build.txt"; then
    say "build.sh ($engine) failed:"; tail -n 40 "$dir/$engine/build.txt" >&2
    echo "cfl smoke ($engine): BUILD FAILED, $(( $(date +%s) - start )) s"
    failed=1; return
  fi
  grep '^build.sh' "$dir/$engine/build.txt" >&2
  # The fuzzers, found as ClusterFuzzLite finds them: top-level executables in $OUT without an extension that carry the
  # LLVMFuzzerTestOneInput marker.
  local fuzzers=()
  for f in "$out"/*; do
    n=$(basename "$f")
    [ -f "$f" ] && [ -x "$f" ] && [[ "$n" != *.* ]] && grep -q LLVMFuzzerTestOneInput "$f" && fuzzers+=("$n")
  done
  [ ${#fuzzers[@]} -gt 0 ] || { say "build.sh ($engine) produced no fuzzer"; failed=1; return; }
  printf '\n%-10s %-22s %6s %9s %6s %6s %6s  %s\n' engine fuzzer seeds execs/s cov ft corpus verdict
  for n in "${fuzzers[@]}"; do
    run=$runs/$n; mkdir -p "$run/corpus" "$run/seeds"
    missing=""
    [ -f "$out/${n}_seed_corpus.zip" ] && unzip -q -o "$out/${n}_seed_corpus.zip" -d "$run/seeds" || missing="no seed corpus"
    [ -f "$out/$n.dict" ] || missing="${missing:+$missing, }no dictionary"
    cov=; ft=; corp=; eps=
    if [ "$engine" = libfuzzer ]; then
      (cd "$run" && timeout $((seconds + 120)) nice -n "${CFL_SMOKE_NICE:-10}" "$out/$n" -max_total_time="$seconds" \
          -timeout=60 -rss_limit_mb=4096 -dict="$out/$n.dict" -print_final_stats=1 -artifact_prefix="$run/" \
          "$run/corpus" "$run/seeds" >"$run/log.txt" 2>&1)
      rc=$?
      last=$(grep -E '^#[0-9]+' "$run/log.txt" | tail -n 1)
      cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last"); ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
      corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
      eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/log.txt")
    else
      # afl-fuzz as ClusterFuzzLite's runner starts it: -m none (ASan builds), the dictionary, a time budget (-V).
      (cd "$run" && AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_TRY_AFFINITY=1 \
          AFL_FAST_CAL=1 AFL_SKIP_CRASHES=1 timeout $((seconds + 180)) nice -n "${CFL_SMOKE_NICE:-10}" \
          afl-fuzz -i "$run/seeds" -o "$run/afl" -m none -t 10000 -V "$seconds" -x "$out/$n.dict" -- "$out/$n" \
          >"$run/log.txt" 2>&1)
      rc=$?
      local st=$run/afl/default/fuzzer_stats
      if [ -f "$st" ]; then
        eps=$(awk -F' *: *' '$1 == "execs_per_sec" { print $2 }' "$st")
        corp=$(awk -F' *: *' '$1 == "corpus_count" || $1 == "paths_total" { print $2; exit }' "$st")
        cov=$(awk -F' *: *' '$1 == "edges_found" { print $2 }' "$st")   # edges of the map, as libFuzzer's cov
        crash=$(find "$run/afl/default/crashes" -name 'id:*' 2>/dev/null | head -n 1)
        if [ -n "$crash" ]; then
          # a crash: replay it once (the target runs a file given as argument) for a report to match known findings
          timeout 120 "$out/$n" "$crash" >>"$run/log.txt" 2>&1
          rc=1
        fi
      else
        [ $rc = 0 ] && rc=1   # afl-fuzz did not start a campaign
      fi
    fi
    verdict=ok
    if [ $rc != 0 ]; then
      if k=$(bash "$root/fuzz/xen-native/run.sh" --known-finding "$run/log.txt" 2>/dev/null); then verdict="ok (known finding $k)"
      else verdict="FAIL (exit $rc; $run/log.txt)"; failed=1; fi
    fi
    if [ -n "$missing" ]; then verdict="FAIL ($missing)"; failed=1; fi
    printf '%-10s %-22s %6s %9s %6s %6s %6s  %s\n' "$engine" "$n" "$(ls "$run/seeds" | wc -l)" "${eps:--}" "${cov:--}" "${ft:--}" "${corp:--}" "$verdict"
    if [[ "$verdict" == FAIL* ]]; then tail -n 25 "$run/log.txt" >&2; fi
  done
  total=$((total + ${#fuzzers[@]}))
}

for engine in ${CFL_ENGINES:-libfuzzer afl}; do
  if [ "$engine" = afl ] && ! command -v afl-fuzz >/dev/null; then
    say "afl-fuzz not installed (Debian package afl++): the AFL++ build is not checked"; failed=1; continue
  fi
  smoke_engine "$engine"
done
echo "cfl smoke: $total fuzzers (${CFL_ENGINES:-libfuzzer afl}) x ${seconds}s, $([ $failed = 0 ] && echo ok || echo FAILED), $(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
exit $failed
