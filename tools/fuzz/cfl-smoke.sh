#!/usr/bin/env bash
# Runs the ClusterFuzzLite build (.clusterfuzzlite/build.sh) outside Docker, with SRC, OUT and WORK set into a temporary
# folder, then every fuzzer it built for a few seconds from its seed corpus with its dictionary, as ClusterFuzzLite
# would (docs/FUZZING.md, "ClusterFuzzLite"). Also runs the libFuzzer driver's own test (fuzz/libfuzzer-dotnet/test.sh).
#
#   tools/fuzz/cfl-smoke.sh [SECONDS]     default 5 s per fuzzer (CFL_SMOKE_SECONDS)
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

mkdir -p "$dir/src" "$dir/out" "$dir/work" "$dir/runs"
ln -sfn "$root" "$dir/src/streambench"
say "build.sh (SRC=$dir/src OUT=$dir/out WORK=$dir/work; load $(cut -d' ' -f1-3 /proc/loadavg))"
if ! SRC=$dir/src OUT=$dir/out WORK=$dir/work STREAMBENCH_SRC=$root FUZZING_ENGINE=libfuzzer SANITIZER=address \
    nice -n "${CFL_SMOKE_NICE:-10}" bash "$root/.clusterfuzzlite/build.sh" 2>"$dir/build.txt"; then
  say "build.sh failed:"; tail -n 40 "$dir/build.txt" >&2
  echo "cfl smoke: BUILD FAILED, $(( $(date +%s) - start )) s"
  exit 1
fi
grep '^build.sh' "$dir/build.txt" >&2

# The fuzzers, found as ClusterFuzzLite finds them: top-level executables in $OUT without an extension that carry the
# LLVMFuzzerTestOneInput marker.
fuzzers=()
for f in "$dir"/out/*; do
  n=$(basename "$f")
  [ -f "$f" ] && [ -x "$f" ] && [[ "$n" != *.* ]] && grep -q LLVMFuzzerTestOneInput "$f" && fuzzers+=("$n")
done
[ ${#fuzzers[@]} -gt 0 ] || { say "build.sh produced no fuzzer"; exit 1; }
printf '\n%-22s %6s %9s %6s %6s %6s  %s\n' fuzzer seeds execs/s cov ft corpus verdict
for n in "${fuzzers[@]}"; do
  run=$dir/runs/$n; mkdir -p "$run/corpus" "$run/seeds"
  missing=""
  [ -f "$dir/out/${n}_seed_corpus.zip" ] && unzip -q -o "$dir/out/${n}_seed_corpus.zip" -d "$run/seeds" || missing="no seed corpus"
  [ -f "$dir/out/$n.dict" ] || missing="${missing:+$missing, }no dictionary"
  (cd "$run" && timeout $((seconds + 120)) nice -n "${CFL_SMOKE_NICE:-10}" "$dir/out/$n" -max_total_time="$seconds" \
      -timeout=60 -rss_limit_mb=4096 -dict="$dir/out/$n.dict" -print_final_stats=1 -artifact_prefix="$run/" \
      "$run/corpus" "$run/seeds" >"$run/log.txt" 2>&1)
  rc=$?
  last=$(grep -E '^#[0-9]+' "$run/log.txt" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last"); ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/log.txt")
  verdict=ok
  if [ $rc != 0 ]; then
    if k=$(bash "$root/fuzz/xen-native/run.sh" --known-finding "$run/log.txt" 2>/dev/null); then verdict="ok (known finding $k)"
    else verdict="FAIL (exit $rc; $run/log.txt)"; failed=1; fi
  fi
  if [ -n "$missing" ]; then verdict="FAIL ($missing)"; failed=1; fi
  printf '%-22s %6s %9s %6s %6s %6s  %s\n' "$n" "$(ls "$run/seeds" | wc -l)" "${eps:--}" "${cov:--}" "${ft:--}" "${corp:--}" "$verdict"
  if [[ "$verdict" == FAIL* ]]; then tail -n 25 "$run/log.txt" >&2; fi
done
echo "cfl smoke: ${#fuzzers[@]} fuzzers x ${seconds}s, $([ $failed = 0 ] && echo ok || echo FAILED), $(( $(date +%s) - start )) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
exit $failed
