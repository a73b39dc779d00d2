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

passed=0; failed=0; lab_flaky=""
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

# Xen's own restore code (fuzz/xen-native): built before the tests so that the good-stream test runs. A registry
# that cannot serve Debian's Xen source skips it, saying so; any other build failure counts.
xen_native=skip
if [ "${STREAMBENCH_SKIP_XEN_NATIVE:-0}" != 1 ]; then
  step "xen-native: Xen 4.17's restore code from Debian's source (fuzz/xen-native/build.sh)"
  bash fuzz/xen-native/build.sh
  case $? in
    0) xen_native=built; export STREAMBENCH_REQUIRE_XEN_NATIVE=1; count "xen-native-build" 0 ;;
    3) echo "SKIP xen-native: Debian's Xen source package could not be fetched (registry unreachable); its tests skip" ;;
    *) count "xen-native-build" 1 ;;
  esac
fi

step "dotnet test"
results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
filter="Category!=Lab"
[ "$lab" = 1 ] && filter=""
# The console logger at normal verbosity prints each test as it finishes ("Passed Name [12 ms]"), so a long run shows
# its progress instead of minutes of silence; the trx files are what the count below reads.
args=(test StreamBench.sln -c Release --logger "trx" --logger "console;verbosity=normal" --results-directory "$results")
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

step "tools/streambench publishes a native (NativeAOT) CLI"
# On a fresh clone this publishes the CLI into artifacts/cli (about a minute on 2 idle cores); later runs rebuild only
# when sources changed. It passes when the result is a native ELF executable, not the ReadyToRun fallback, and that
# executable verifies a corpus stream and refuses a closed standard input (exit 2; the native runtime puts
# /dev/urandom on a closed fd 0, which StandardInput must not mistake for a stream).
( tools/streambench --version >/dev/null \
  && [ "$(cat artifacts/cli/.build-kind)" = aot ] \
  && [ "$(head -c 4 artifacts/cli/streambench | tail -c 3)" = ELF ] \
  && artifacts/cli/streambench verify corpus/synthetic/xl-pv.bin >/dev/null \
  && { closed_err=$(artifacts/cli/streambench verify - <&- 2>&1 >/dev/null); [ $? = 2 ]; } \
  && case "$closed_err" in *"standard input is closed"*) true ;; *) echo "native-cli: verify - with stdin closed: $closed_err"; false ;; esac )
native_rc=$?
[ $native_rc = 0 ] || echo "native-cli: build kind '$(cat artifacts/cli/.build-kind 2>/dev/null)' (see the publish output above)"
count "native-cli" $native_rc

if [ "$lab" = 1 ] && [ -x tools/xenlab/lab.sh ]; then
  # The real Xen lab's CI subset counts in the final line: each scenario is one pass or failure (a lab that cannot be
  # built or booted is one failure). Everything runs under TCG, so a scenario can lose to the host's load; when the
  # first run fails and took less than 25 minutes (and this script less than 50), the lab runs once more and the
  # second run counts. Both runs are
  # printed. STREAMBENCH_LAB_GATING=0 reports the lab without counting it.
  step "real Xen lab (Xen 4.17 under QEMU; tools/test.sh --no-lab skips it)"
  lab_line=""; lab_flaky=""
  rm -f "$root"/artifacts/xenlab-attempt*.json
  for attempt in 1 2; do
    t0=$(date +%s)
    rm -f "$root/artifacts/xenlab/results.json"
    timeout 2700 bash tools/xenlab/lab.sh --quick --out "$root/artifacts/xenlab" > "$root/artifacts/xenlab.log" 2>&1
    lab_rc=$?
    cp "$root/artifacts/xenlab.log" "$root/artifacts/xenlab-attempt$attempt.log"
    cp "$root/artifacts/xenlab/results.json" "$root/artifacts/xenlab-attempt$attempt.json" 2>/dev/null
    grep -E '^  (PASS|FAIL|SKIP) ' "$root/artifacts/xenlab.log" | cut -c1-220 || tail -5 "$root/artifacts/xenlab.log"
    # the counts come from the lab's results.json, not from its text
    lab_line=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["passed"], r["failed"], r["skipped"])' \
      "$root/artifacts/xenlab-attempt$attempt.json" 2>/dev/null)
    lab_said="the lab did not report its scenarios"
    [ -n "$lab_line" ] && lab_said=$(echo "$lab_line" | awk '{print $1" passed, "$2" failed, "$3" skipped"}')
    echo "lab attempt $attempt ($(( $(date +%s) - t0 )) s, rc $lab_rc): $lab_said"
    [ "$lab_rc" = 0 ] && [ -n "$lab_line" ] && break
    [ $(( $(date +%s) - t0 )) -lt 1500 ] && [ "$SECONDS" -lt 3000 ] || break   # keep CI within its 90 minutes
    [ "$attempt" = 1 ] && echo "the lab failed; running it once more (artifacts/xenlab-attempt1.log/.json keep the first run)"
  done
  if [ "$attempt" = 2 ] && [ -f "$root/artifacts/xenlab-attempt1.json" ] && [ -f "$root/artifacts/xenlab-attempt2.json" ]; then
    # a retry is not hidden: scenarios that failed the first time and passed the second are "flaky" in the final line
    lab_flaky=$(python3 - "$root/artifacts/xenlab-attempt1.json" "$root/artifacts/xenlab-attempt2.json" <<'PY2'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ok = lambda s: s["status"] in ("PASS", "XFAIL")
second = {s["scenario"]: ok(s) for s in b["scenarios"]}
print(" ".join(s["scenario"] for s in a["scenarios"] if not ok(s) and second.get(s["scenario"])))
PY2
)
  fi
  if [ "${STREAMBENCH_LAB_GATING:-1}" = 1 ]; then
    if [ -n "$lab_line" ]; then
      set -- $lab_line; passed=$((passed + $1)); failed=$((failed + $2))
    else
      echo "FAIL real Xen lab: no result (see artifacts/xenlab.log)"; failed=$((failed + 1))
    fi
  fi
else
  echo "SKIP real Xen lab (--no-lab or STREAMBENCH_SKIP_LAB=1)"
fi

if [ "$fuzz" = 1 ] && [ -x fuzz/smoke.sh ]; then
  step "fuzz smoke"
  bash fuzz/smoke.sh
  count "fuzz-smoke" $?
  if [ "$xen_native" = built ]; then
    step "xen-native fuzz smoke (libFuzzer and AFL++, a few seconds per target)"
    bash fuzz/xen-native/run.sh --smoke 5
    count "xen-native-smoke" $?
  fi
  # The ClusterFuzzLite build outside Docker, every libFuzzer target for a few seconds (docs/FUZZING.md, "ClusterFuzzLite").
  step "ClusterFuzzLite build.sh for libFuzzer and AFL++ + each built fuzzer for a few seconds (tools/fuzz/cfl-smoke.sh)"
  if [ "$xen_native" = built ]; then bash tools/fuzz/cfl-smoke.sh; else CFL_ALLOW_NO_XEN=1 bash tools/fuzz/cfl-smoke.sh; fi
  count "cfl-smoke" $?
fi

echo
echo "$passed passed, $failed failed${lab_flaky:+ (lab flaky: $lab_flaky failed the first run and passed the second)}"
[ "$failed" -eq 0 ]
