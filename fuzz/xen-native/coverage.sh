#!/usr/bin/env bash
# Line coverage of Xen's restore code reached by a set of inputs, from clang's source-based coverage:
#   fuzz/xen-native/coverage.sh [--checkpointed|--colo] INPUT-OR-DIR...   harness (a)/(c): xg_sr_*.c (inputs as
#                                                                  the fuzzer takes them: run --as-fuzzer)
#   fuzz/xen-native/coverage.sh --libxl INPUT-OR-DIR...            harness (b): libxl_stream_read.c and xg_sr_*.c
#                                                                  (inputs as the fuzzer takes them: run --as-fuzzer)
# (build.sh --coverage first). Prints llvm-cov's per-file table. Profiles go to .cache/xen-native/coverage.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${XEN_NATIVE_BIN:-$root/.cache/xen-native/bin}
cov=$root/.cache/xen-native/coverage
runner=xen-native-run-cov
mode=(--as-fuzzer)
case "${1:-}" in
  --checkpointed) mode=(--checkpointed --as-fuzzer); shift ;;
  --colo) mode=(--colo --as-fuzzer); shift ;;
  --libxl) runner=xen-native-libxl-run-cov; mode=(--as-fuzzer); shift ;;
esac
[ -x "$bin/$runner" ] || { echo "build it first: fuzz/xen-native/build.sh --coverage ($runner)" >&2; exit 2; }
profdata=$(command -v llvm-profdata-14 || command -v llvm-profdata)
llvmcov=$(command -v llvm-cov-14 || command -v llvm-cov)
rm -rf "$cov"; mkdir -p "$cov"
n=0
for a in "$@"; do
  if [ -d "$a" ]; then files=("$a"/*); else files=("$a"); fi
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    LLVM_PROFILE_FILE="$cov/p-$n.profraw" ASAN_OPTIONS=detect_leaks=0:exitcode=0 UBSAN_OPTIONS=halt_on_error=0 \
      timeout 300 "$bin/$runner" run "${mode[@]}" "$f" >/dev/null 2>&1 || true
  done
done
"$profdata" merge -sparse "$cov"/p-*.profraw -o "$cov/merged.profdata"
src=$(cat "$bin/xen-src.path")
sources=("$src"/tools/libs/guest/xg_sr_*.c)
[ "$runner" = xen-native-libxl-run-cov ] && sources=("$src"/tools/libs/light/libxl_stream_read.c "${sources[@]}")
echo "inputs: $n"
"$llvmcov" report "$bin/$runner" -instr-profile="$cov/merged.profdata" "${sources[@]}" 2>/dev/null | sed "s#$src/##"
