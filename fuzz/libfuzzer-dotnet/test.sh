#!/usr/bin/env bash
# Tests the libFuzzer driver against fake_target.py (no .NET needed; seconds): coverage from the shared map reaches
# libFuzzer's cov, a reported exception and a dead target both become a crash file, a target that does not start is an
# error. Run by tools/fuzz/cfl-smoke.sh; exit 1 on a failed check.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
drv=$("$here/build.sh" "$tmp/libfuzzer-dotnet") || exit 2
fake=(--target_path="$(command -v python3)" --target_arg="$here/fake_target.py")
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
mkdir -p "$tmp/one" "$tmp/seeds" "$tmp/c0" "$tmp/c1"
printf 'a' >"$tmp/one/a"; printf 'a' >"$tmp/seeds/a"; printf 'b' >"$tmp/seeds/b"; printf 'c' >"$tmp/seeds/c"
cov_of() { sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$1"; }
timeout 60 "$drv" "${fake[@]}" -runs=0 "$tmp/c0" "$tmp/one" >"$tmp/one.log" 2>&1
timeout 60 "$drv" "${fake[@]}" -runs=0 "$tmp/c1" "$tmp/seeds" >"$tmp/run.log" 2>&1; rc=$?
check "three seeds run (exit $rc)" '[ "$rc" = 0 ]'
# Seeds a, b, c mark three different map slots, seed a alone one: libFuzzer's cov must see the two extra edges.
c1=$(cov_of "$tmp/one.log"); c3=$(cov_of "$tmp/run.log")
check "the target's map reaches libFuzzer's cov (one seed: ${c1:-?}, three: ${c3:-?})" '[ -n "$c1" ] && [ -n "$c3" ] && [ $((c3 - c1)) -ge 2 ]'
printf 'CRASH' >"$tmp/crash"
(cd "$tmp" && timeout 60 "$drv" "${fake[@]}" -artifact_prefix="$tmp/a1-" "$tmp/crash" >"$tmp/crash.log" 2>&1); rc=$?
check "a reported exception is a crash (exit $rc)" '[ "$rc" != 0 ] && grep -q "reported a crash" "$tmp/crash.log" && grep -q "planted crash" "$tmp/crash.log"'
mkdir -p "$tmp/c2"; printf 'DIE' >"$tmp/seeds/die"
timeout 60 "$drv" "${fake[@]}" -artifact_prefix="$tmp/a2-" -runs=0 "$tmp/c2" "$tmp/seeds" >"$tmp/die.log" 2>&1; rc=$?
check "a dead target is a crash with its input saved (exit $rc)" '[ "$rc" != 0 ] && grep -q "died with signal 9" "$tmp/die.log" && [ "$(cat "$tmp"/a2-crash-* 2>/dev/null)" = DIE ]'
timeout 60 "$drv" --target_path=/bin/false -runs=1 >"$tmp/nostart.log" 2>&1; rc=$?
check "a target that does not start is an error (exit $rc)" '[ "$rc" = 1 ] && grep -q "did not start" "$tmp/nostart.log"'
timeout 60 "$drv" -runs=1 >"$tmp/none.log" 2>&1; rc=$?
check "no target is an error (exit $rc)" '[ "$rc" = 1 ] && grep -q "no target" "$tmp/none.log"'
[ $fail = 0 ] || { echo "libfuzzer-dotnet test failed; last log:"; tail -n 20 "$tmp"/*.log; }
exit $fail
