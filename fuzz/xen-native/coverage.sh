#!/usr/bin/env bash
# Line coverage of Xen's restore code (xg_sr_*.c) reached by a set of inputs, from clang's source-based coverage:
#   fuzz/xen-native/coverage.sh [--checkpointed] INPUT-OR-DIR...      (build.sh --coverage first)
# Prints llvm-cov's per-file table for xg_sr_*.c. Profiles go to .cache/xen-native/coverage.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${XEN_NATIVE_BIN:-$root/.cache/xen-native/bin}
cov=$root/.cache/xen-native/coverage
[ -x "$bin/xen-native-run-cov" ] || { echo "build it first: fuzz/xen-native/build.sh --coverage" >&2; exit 2; }
profdata=$(command -v llvm-profdata-14 || command -v llvm-profdata)
llvmcov=$(command -v llvm-cov-14 || command -v llvm-cov)
mode=()
[ "${1:-}" = --checkpointed ] && { mode=(--checkpointed); shift; }
rm -rf "$cov"; mkdir -p "$cov"
n=0
for a in "$@"; do
  if [ -d "$a" ]; then files=("$a"/*); else files=("$a"); fi
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    LLVM_PROFILE_FILE="$cov/p-$n.profraw" ASAN_OPTIONS=detect_leaks=0:exitcode=0 UBSAN_OPTIONS=halt_on_error=0 \
      timeout 300 "$bin/xen-native-run-cov" run "${mode[@]}" "$f" >/dev/null 2>&1 || true
  done
done
"$profdata" merge -sparse "$cov"/p-*.profraw -o "$cov/merged.profdata"
src=$(cat "$bin/xen-src.path")
echo "inputs: $n"
"$llvmcov" report "$bin/xen-native-run-cov" -instr-profile="$cov/merged.profdata" \
  "$src"/tools/libs/guest/xg_sr_*.c 2>/dev/null | sed "s#$src/##"
