#!/usr/bin/env bash
# Runs one fuzzing campaign: builds and instruments what it needs, then afl-fuzz -M main (and -S secN) for N seconds
# with a shared sync folder, seeds from corpus/ (made small) and synthetic streams, the target's dictionaries and the
# structure-aware custom mutator; prints execs/s, paths, edges, crashes and hangs from fuzzer_stats at the end.
#
#   tools/fuzz/campaign.sh TARGET [--seconds N] [--jobs J] [--out DIR] [--resume] [--oop] [--no-mutator] [--cmp|--cmp-dict|--no-cmp-dict]
#                          [--timeout MS] [--no-build] [--nice N] [--quiet]
#
#   TARGET        a target name (tools/fuzz/campaign.sh --list), e.g. reader-libxc
#   --seconds N   how long (default 60)
#   --jobs J      afl-fuzz instances: one -M main and J-1 -S secondaries (default 1)
#   --out DIR     afl-fuzz output (sync) folder (default fuzz/.work/campaigns/TARGET); wiped unless --resume
#   --resume      continue the campaign in --out (afl-fuzz -i -)
#   --oop         run the target out of process (survives hangs and crashes of the runtime; ~20 % slower)
#   --no-mutator  no custom mutator (plain AFL++ havoc + dictionary)
#   --cmp         comparison feedback (instrumenter --cmp: a map slot per equal byte of each multi-byte constant
#                 comparison) and the dictionary of those constants
#   --cmp-dict    only the dictionary of the constants the instrumented code compares against (the default)
#   --no-cmp-dict not even that dictionary (the xen/legacy dictionaries only)
#   --sharpfuzz   SharpFuzz's runtime and instrumenter instead of ours (every target; always out of process)
#   --timeout MS  afl-fuzz -t (default 5000)
#   --nice N      niceness of afl-fuzz and the target (default 15)
#   --no-build    use the last build (tools/fuzz and fuzz/smoke.sh build once, then run many targets)
#
# Exit code: 0 when the campaign ran and found nothing, 1 when it found crashes or hangs (or the in-process fork server
# died on an input), 2 when it could not run. Triage: tools/fuzz/triage.sh DIR.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Xen's own C restore code (fuzz/xen-native) runs under libFuzzer (or AFL++ with FUZZ_ENGINE=afl): run.sh takes over.
case " $* " in
  *" xen-native-"*)
    xn=(); xt=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --seconds|--out|--nice) xn+=("$1" "$2"); shift ;;
        --timeout) xn+=(--timeout $(( ($2 + 999) / 1000 ))); shift ;;   # milliseconds here, seconds for run.sh
        --no-build|--strict) xn+=("$1") ;;
        --jobs) shift ;;                      # one libFuzzer process
        --resume|--oop|--no-mutator|--quiet|--cmp|--cmp-dict|--no-cmp-dict) ;;
        xen-native-*) xt=$1 ;;
        *) fz_die "$1: not an option of the xen-native targets (fuzz/xen-native/run.sh --help)" ;;
      esac
      shift
    done
    exec bash "$fz_root/fuzz/xen-native/run.sh" "$xt" --engine "${FUZZ_ENGINE:-libfuzzer}" "${xn[@]}"
    ;;
esac

target=""; seconds=60; jobs=1; out=""; resume=0; oop=0; mutator=1; cmp=${FUZZ_CMP:-1}; sharpfuzz=0; timeout_ms=5000; build=1; nice_level=${FUZZ_NICE:-15}; quiet=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --out) out=$2; shift ;;
    --resume) resume=1 ;;
    --oop) oop=1 ;;
    --no-mutator) mutator=0 ;;
    --cmp) cmp=2 ;;
    --cmp-dict) cmp=1 ;;
    --no-cmp-dict) cmp=0 ;;
    --sharpfuzz) sharpfuzz=1 ;;
    --timeout) timeout_ms=$2; shift ;;
    --nice) nice_level=$2; shift ;;
    --no-build) build=0 ;;
    --quiet) quiet=1 ;;
    --list) [ -f "$fz_build_dir/stamp" ] || fz_build; fz_targets; bash "$fz_root/fuzz/xen-native/run.sh" --list; exit 0 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) fz_die "unknown option $1" ;;
    *) [ -z "$target" ] || fz_die "one target at a time"; target=$1 ;;
  esac
  shift
done
[ -n "$target" ] || { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
case "$seconds$jobs$timeout_ms" in *[!0-9]*) fz_die "--seconds, --jobs and --timeout take numbers" ;; esac
[ "$jobs" -ge 1 ] || jobs=1

fz_need_afl
if [ "$build" = 1 ] || [ ! -f "$fz_build_dir/stamp" ]; then fz_build; fi
variant=""; [ "$cmp" = 2 ] && variant=cmp
if [ "$sharpfuzz" = 1 ]; then
  [ "$cmp" = 2 ] && fz_die "--cmp needs our instrumenter; with --sharpfuzz use --cmp-dict"
  (cd "$fz_root" && dotnet tool restore >/dev/null 2>&1) || fz_die "dotnet tool restore failed (the sharpfuzz tool)"
  variant=sharpfuzz
fi
dll=$(fz_prepare "$target" $variant) || exit 2
fz_seeds
line=$(fz_target_line "$target")
family=$(cut -f4 <<<"$line"); dicts=$(cut -f5 <<<"$line"); mode=$(cut -f6 <<<"$line")
[ "$mode" = oop ] && oop=1
out=${out:-$fz_work/campaigns/$target}
if [ "$resume" = 1 ] && [ -d "$out" ]; then input="-"; else rm -rf "$out"; input="$fz_work/seeds/$family"; fi
mkdir -p "$out"
printf '%s\n%s\n' "$target" "$dll" >"$out/target"

dictargs=()
IFS=, read -ra ds <<<"$dicts"
for d in "${ds[@]}"; do [ -f "$fz_root/fuzz/dictionaries/$d.dict" ] && dictargs+=(-x "$fz_root/fuzz/dictionaries/$d.dict"); done
cmpdict=$fz_work/targets/$target/cmp.dict
[ -f "$cmpdict" ] || fz_prepare "$target" >/dev/null
mutenv=()
if [ "$cmp" != 0 ] && [ -s "$cmpdict" ]; then
  # afl-fuzz inserts the multi-byte tokens anywhere; the custom mutator writes every token, single bytes of one-byte
  # comparisons included, into header and record fields (m_constant, m_byte).
  grep -v '^[^=]*="\\x[0-9a-f][0-9a-f]"$' "$cmpdict" >"$out/cmp-afl.dict" || true
  [ -s "$out/cmp-afl.dict" ] && dictargs+=(-x "$out/cmp-afl.dict")
  dicts="$dicts,cmp($(wc -l <"$cmpdict"))"; mutenv=(XEN_MUTATOR_DICT="$cmpdict")
fi

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_TRY_AFFINITY=1
export AFL_FAST_CAL=1 AFL_SKIP_CRASHES=1 FUZZ_TARGET="$target" PYTHONDONTWRITEBYTECODE=1
unset AFL_PYTHON_MODULE AFL_CUSTOM_MUTATOR_ONLY
if [ "$oop" = 1 ]; then export STREAMBENCH_FUZZ_OUT_OF_PROCESS=1; else unset STREAMBENCH_FUZZ_OUT_OF_PROCESS; fi
use_mutator=0
if [ "$mutator" = 1 ]; then
  if fz_python_mutator_ok; then use_mutator=1; else fz_say "afl-fuzz has no Python support: no custom mutator (expand the seeds with fuzz/mutators/xen_mutator.py --expand instead)"; fi
fi
dotnet_bin=$(fz_dotnet)

[ "$quiet" = 1 ] || fz_say "$target: ${seconds}s x $jobs job(s), seeds $family ($(ls "$fz_work/seeds/$family" | wc -l) files), dictionaries: ${dicts:-none}, $([ "$oop" = 1 ] && echo out-of-process || echo in-process), custom mutator: $([ $use_mutator = 1 ] && echo on || echo off), comparison feedback: $([ "$cmp" = 2 ] && echo on || echo off), out $out"
# CPU time of the campaign: this shell's reaped children (afl-fuzz, which reaps its fork server, which reaps every
# forked run), in clock ticks, before and after.
cpu_ticks() { awk '{ print $16 + $17 }' "/proc/$$/stat"; }
cpu_before=$(cpu_ticks)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap 'cleanup; exit 130' INT TERM
for ((j = 0; j < jobs; j++)); do
  if [ "$j" = 0 ]; then role=(-M main); name=main; else role=(-S "sec$j"); name=sec$j; fi
  env=()
  # The custom mutator on the main instance and every other secondary; the rest run plain havoc for diversity.
  # With it, afl-fuzz runs only the custom mutator (AFL_CUSTOM_MUTATOR_ONLY; it has a byte-level havoc of its own): an
  # entry then costs ~256 executions instead of ~12,000 (its havoc stage), so new queue entries are mutated within
  # seconds rather than after a queue cycle that a loaded machine does not finish in minutes (issue 20).
  if [ "$use_mutator" = 1 ] && [ $((j % 2)) = 0 ]; then env=(PYTHONPATH="$fz_root/fuzz/mutators" AFL_PYTHON_MODULE=xen_mutator AFL_CUSTOM_MUTATOR_ONLY=1 "${mutenv[@]}"); fi
  env "${env[@]}" nice -n "$nice_level" afl-fuzz "${role[@]}" -i "$input" -o "$out" -t "$timeout_ms" -V "$seconds" "${dictargs[@]}" \
    -- "$dotnet_bin" "$dll" >"$out/$name.log" 2>&1 &
  pids+=($!)
  echo "$!" >>"$out/pids"
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=$?; done
trap - INT TERM
cpu_seconds=$(( ($(cpu_ticks) - cpu_before) / $(getconf CLK_TCK) ))

# Summary from every instance's fuzzer_stats.
total_execs=0; total_time=0; crashes=0; hangs=0; died=0; paths=0; edges=0; rate=0
printf '%-20s %-6s %10s %9s %7s %7s %8s %6s %9s\n' target inst execs execs/s paths edges crashes hangs stability
for ((j = 0; j < jobs; j++)); do
  name=main; [ "$j" = 0 ] || name=sec$j
  s="$out/$name/fuzzer_stats"
  if [ ! -f "$s" ]; then
    fz_say "$name: afl-fuzz did not start; last lines of $out/$name.log:"
    tail -n 15 "$out/$name.log" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' >&2
    died=$((died + 1)); continue
  fi
  e=$(fz_stat "$s" execs_done); t=$(( $(fz_stat "$s" last_update) - $(fz_stat "$s" start_time) ))
  [ "$t" -gt 0 ] || t=1
  c=$(fz_stat "$s" saved_crashes); h=$(fz_stat "$s" saved_hangs); p=$(fz_stat "$s" corpus_count); ed=$(fz_stat "$s" edges_found)
  printf '%-20s %-6s %10s %9s %7s %7s %8s %6s %9s\n' "$target" "$name" "$e" "$((e / t))" "$p" "$ed" "$c" "$h" "$(fz_stat "$s" stability)"
  total_execs=$((total_execs + e)); rate=$((rate + e / t)); crashes=$((crashes + c)); hangs=$((hangs + h))
  [ "$p" -gt "$paths" ] && paths=$p; [ "$ed" -gt "$edges" ] && edges=$ed
  if grep -q 'Unable to communicate with fork server\|Fork server crashed\|fork server is crashed' "$out/$name.log"; then
    # In-process: a hang or an uncatchable death took the fork server down; the input is afl-fuzz's current one.
    mkdir -p "$out/$name/hangs-inprocess"
    cp "$out/$name/.cur_input" "$out/$name/hangs-inprocess/id:000000,fork-server-died" 2>/dev/null || true
    fz_say "$name: the in-process fork server died (a hang or a fatal error); input kept in $out/$name/hangs-inprocess/"
    died=$((died + 1))
  fi
done
printf '%-20s %-6s %10s %9s %7s %7s %8s %6s\n' "$target" total "$total_execs" "$rate" "$paths" "$edges" "$crashes" "$hangs"
printf 'FUZZ-RESULT target=%s seconds=%s jobs=%s cpu_seconds=%s execs=%s execs_per_sec=%s paths=%s edges=%s crashes=%s hangs=%s died=%s load=%s\n' \
  "$target" "$seconds" "$jobs" "$cpu_seconds" "$total_execs" "$rate" "$paths" "$edges" "$crashes" "$hangs" "$died" "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')" >"$out/result"
cat "$out/result"
if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ] || [ "$died" -gt 0 ]; then
  [ "$quiet" = 1 ] || fz_say "findings: tools/fuzz/triage.sh $out"
  exit 1
fi
exit 0
