#!/usr/bin/env bash
# Runs every test StreamBench has, installing what the tests need first, and ends with one line
# "N passed, N failed". Usage: tools/test.sh [--no-lab] [--no-oracle] [--no-fuzz] [extra dotnet test args]
# Environment: STREAMBENCH_SKIP_LAB=1, STREAMBENCH_SKIP_ORACLE=1, STREAMBENCH_SKIP_FUZZ=1 do the same as the flags.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

lab=1; oracle=1; fuzz=1; extra=()
for arg in "$@"; do
  case "$arg" in
    --no-lab) lab=0 ;;
    --no-oracle) oracle=0 ;;
    --no-fuzz) fuzz=0 ;;
    *) extra+=("$arg") ;;
  esac
done
[ "${STREAMBENCH_SKIP_LAB:-0}" = 1 ] && lab=0
[ "${STREAMBENCH_SKIP_ORACLE:-0}" = 1 ] && oracle=0
[ "${STREAMBENCH_SKIP_FUZZ:-0}" = 1 ] && fuzz=0

passed=0; failed=0
step() { printf '\n== %s\n' "$*"; }
count() { # name, status
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "PASS $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}

bash tools/setup.sh --tests || { echo "setup failed: see the messages above"; echo "0 passed, 1 failed"; exit 1; }

if [ "$oracle" = 0 ]; then export STREAMBENCH_SKIP_ORACLE=1; fi
if [ "$lab" = 0 ]; then export STREAMBENCH_SKIP_LAB=1; fi

step "generated Kaitai parsers match ksy/"
bash tools/codegen/generate.sh --check
count "codegen-check" $?

step "dotnet test"
results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
filter="Category!=Lab"
[ "$lab" = 1 ] && filter=""
args=(test StreamBench.sln -c Release --logger "trx" --results-directory "$results")
[ -n "$filter" ] && args+=(--filter "$filter")
dotnet "${args[@]}" "${extra[@]}"
test_rc=$?
# Count test cases from the trx files (dotnet's own summary line is not what CI reads).
read -r tp tf < <(python3 - "$results" <<'PY'
import sys, glob, xml.etree.ElementTree as ET
p = f = 0
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    c = ET.parse(path).getroot().find(".//{*}Counters")
    if c is not None:
        p += int(c.get("passed", 0)); f += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
print(p, f)
PY
)
tp=${tp:-0}; tf=${tf:-0}
if [ "$test_rc" -ne 0 ] && [ "$tf" -eq 0 ]; then tf=1; echo "dotnet test exited $test_rc without a failed test: counted as one failure"; fi
passed=$((passed + tp)); failed=$((failed + tf))

step "the CLI packs and installs as a .NET tool"
tooldir=$(mktemp -d)
( dotnet pack src/StreamBench.Cli -c Release -nologo -v q -o "$tooldir/nupkg" >/dev/null \
  && dotnet tool install --tool-path "$tooldir/bin" --add-source "$tooldir/nupkg" StreamBench.Cli >/dev/null \
  && "$tooldir/bin/streambench" verify corpus/synthetic/xl-pv.bin )
count "dotnet-tool" $?
rm -rf "$tooldir"

if [ "$lab" = 1 ] && [ -x tools/xenlab/lab.sh ]; then
  # Not gating yet: under load the PVH guest's boot can overrun the lab's deadlines (docs/XENLAB.md). Its scenarios
  # are reported here (and in artifacts/xenlab/results.tsv) but not counted in the final line. STREAMBENCH_LAB_GATING=1
  # counts them.
  step "real Xen lab (Xen 4.17 under QEMU; tools/test.sh --no-lab skips it)"
  timeout 2700 bash tools/xenlab/lab.sh --quick --out "$root/artifacts/xenlab" > "$root/artifacts/xenlab.log" 2>&1
  grep -E '^  (PASS|FAIL|SKIP) ' "$root/artifacts/xenlab.log" || tail -5 "$root/artifacts/xenlab.log"
  line=$(grep -E '^xenlab: [0-9]+ passed, [0-9]+ failed' "$root/artifacts/xenlab.log" | tail -1)
  echo "lab result: ${line:-the lab did not report its scenarios}" | sed 's/ passed, / ok, /; s/ failed/ not ok/'
  if [ "${STREAMBENCH_LAB_GATING:-0}" = 1 ]; then
    if [ -n "$line" ]; then
      passed=$((passed + $(echo "$line" | sed -E 's/^xenlab: ([0-9]+) passed.*/\1/')))
      failed=$((failed + $(echo "$line" | sed -E 's/^xenlab: [0-9]+ passed, ([0-9]+) failed.*/\1/')))
    else
      failed=$((failed + 1))
    fi
  fi
else
  echo "SKIP real Xen lab (--no-lab or STREAMBENCH_SKIP_LAB=1)"
fi

if [ "$fuzz" = 1 ] && [ -x fuzz/smoke.sh ]; then
  step "fuzz smoke"
  bash fuzz/smoke.sh
  count "fuzz-smoke" $?
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
