#!/usr/bin/env bash
# The planted-bug benchmark (docs/FUZZING.md, "Planted bugs"): how long each fuzzer configuration takes to find each
# bug of fuzz/bench/bugs.py. The bugs are planted into a scratch copy of the tree (src/ is never touched), all in one
# build; STREAMBENCH_PLANTED_BUG=<id> turns one on.
#
#   tools/fuzz/bugbench.sh build                 plant every bug into $BENCH/tree and build + instrument its hosts
#   tools/fuzz/bugbench.sh check                 every reproducer (fuzz/bench/repro/Bnn.*): fails with its bug on,
#                                                is handled with it off; no seed of the bug's target triggers it
#   tools/fuzz/bugbench.sh run [--bugs "1 5"] [--configs "own own-nomut own-cmp own-nocmpdict sharpfuzz libfuzzer"]
#                              [--trials 3] [--cap 600]
#                                                campaigns until the first crash or the cap; one line per trial
#                                                appended to $BENCH/results.tsv (BUGBENCH_RESULTS)
#   tools/fuzz/bugbench.sh table [--write] [FILE[:FROM=TO,...]]...
#                                                medians per bug x configuration (Markdown) of $BENCH/results.tsv, or
#                                                of the FILEs together, their configuration FROM shown as TO (TO "-":
#                                                left out); --write puts the table into docs/FUZZING.md between its
#                                                markers
#
# Configurations (--configs):
#   own         the default `streambench fuzz` campaign: own runtime, structure-aware mutator, dictionaries (xen/legacy
#               and the constants the instrumented code compares against)
#   own-nomut   the same without the custom mutator (AFL++ havoc + dictionaries)
#   own-cmp     the default plus comparison feedback (instrumenter --cmp)
#   own-nocmpdict the default without the compared-constants dictionary (the default before issue 20's work)
#   own-cmpdict the same as own (kept for the rows measured before the dictionary became the default)
#   sharpfuzz   campaign.sh --sharpfuzz: the planted SharpFuzz host instrumented by `dotnet sharpfuzz`, out of process,
#               with the custom mutator and the dictionaries of own
#   libfuzzer   the planted SharpFuzz host under fuzz/libfuzzer-dotnet's driver (FUZZ_LIBFUZZER=1, SharpFuzz's
#               LibFuzzer.Run): libFuzzer's own mutations, the same seeds, the target's dictionaries and the
#               compared-constants dictionary as one -dict, -max_total_time=cap; time to find = the driver's wall time
# Each afl trial is one afl-fuzz instance (-M main) under nice (FUZZ_NICE, default 15), one core, AFL_BENCH_UNTIL_CRASH=1;
# a libFuzzer trial is one driver process (and its .NET target) under the same nice.
# A crash counts only if replaying it fails with the bug on and is handled with the bug off (so a real bug found on
# the way is not counted as the planted one). $BENCH is fuzz/.work/bench (BUGBENCH_DIR).
set -uo pipefail
{ # One compound command, parsed whole before it runs: editing this file while a long `run` uses it cannot change that run.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench=${BUGBENCH_DIR:-$root/fuzz/.work/bench}
tree=$bench/tree
export FUZZ_WORK=$bench/work
export FUZZ_CORPUS_CACHE=${FUZZ_CORPUS_CACHE:-$root/fuzz/.work/corpus-real}
export FUZZ_BUILD_ARGS="-p:TreatWarningsAsErrors=false"
results=${BUGBENCH_RESULTS:-$bench/results.tsv}
say() { echo "[bugbench] $*" >&2; }
die() { echo "[bugbench] ERROR: $*" >&2; exit 2; }
bugs_list() { python3 "$root/fuzz/bench/plant.py" --list; }
bug_target() { bugs_list | awk -F'\t' -v b="$1" '$1 == b { print $2 }'; }

host_of() { # target -> the instrumented host dll of the planted tree
  ( . "$tree/tools/fuzz/lib.sh"; fz_prepare "$1" )
}

libfuzzer_driver() { # the libFuzzer driver of fuzz/libfuzzer-dotnet, built once into $BENCH (needs clang)
  local d=$bench/libfuzzer-dotnet
  [ -x "$d" ] || bash "$tree/fuzz/libfuzzer-dotnet/build.sh" "$d" >"$bench/libfuzzer-dotnet.log" 2>&1 || return 1
  echo "$d"
}

# One libFuzzer trial (configuration libfuzzer): SharpFuzz's LibFuzzer.Run in the planted SharpFuzz host under the
# libfuzzer-dotnet driver, the afl configurations' seeds, the target's dictionaries and compared-constants dictionary
# in one -dict, -max_total_time=cap. Sets first (the crash-* or timeout-* file), ms (wall time from the driver's start to
# its exit) and execs (libFuzzer's stat::number_of_executed_units).
libfuzzer_trial() {
  local driver sf line family dicts d t0 t1 rc
  driver=$(libfuzzer_driver) || { say "cannot build the libFuzzer driver (see $bench/libfuzzer-dotnet.log)"; return; }
  sf=$( . "$tree/tools/fuzz/lib.sh"; fz_prepare "$target" sharpfuzz ) || { say "cannot prepare the SharpFuzz host of $target"; return; }
  line=$( . "$tree/tools/fuzz/lib.sh"; fz_target_line "$target" )
  family=$(cut -f4 <<<"$line"); dicts=$(cut -f5 <<<"$line")
  mkdir -p "$out/corpus" "$out/artifacts"; : >"$out/all.dict"
  IFS=, read -ra ds <<<"$dicts"
  for d in "${ds[@]}"; do [ -f "$tree/fuzz/dictionaries/$d.dict" ] && cat "$tree/fuzz/dictionaries/$d.dict" >>"$out/all.dict"; done
  [ -f "$FUZZ_WORK/targets/$target/cmp.dict" ] && cat "$FUZZ_WORK/targets/$target/cmp.dict" >>"$out/all.dict"
  t0=$(date +%s%N)
  STREAMBENCH_PLANTED_BUG="$id" FUZZ_TARGET="$target" FUZZ_LIBFUZZER=1 timeout -k 10 $((cap + 120)) nice -n "${FUZZ_NICE:-15}" \
    "$driver" --target_path="$(readlink -f "$dotnet")" --target_arg="$sf" -dict="$out/all.dict" -max_total_time="$cap" \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$out/artifacts/" "$out/corpus" "$FUZZ_WORK/seeds/$family" >"$out.log" 2>&1
  rc=$?; t1=$(date +%s%N)
  first=$(ls "$out"/artifacts/crash-* "$out"/artifacts/timeout-* 2>/dev/null | head -n 1)
  [ -n "$first" ] && ms=$(( (t1 - t0) / 1000000 ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out.log" | tail -n 1)
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$out.log" | tail -n 1)
  echo "rc=$rc ms=${ms:-} first=${first:-}" >"$out/result"
}

cmd=${1:-}; shift || true
case "$cmd" in
  build)
    python3 "$root/fuzz/bench/plant.py" "$tree" || die "planting failed"
    ( . "$tree/tools/fuzz/lib.sh"; fz_build; fz_seeds ) || die "the planted tree does not build (see $FUZZ_WORK/build/*.log)"
    for t in $(bugs_list | cut -f2 | sort -u); do host_of "$t" >/dev/null || die "cannot instrument $t"; done
    say "built $tree (hosts and instrumented targets in $FUZZ_WORK)"
    ;;
  check)
    [ -d "$FUZZ_WORK/build" ] || die "run: tools/fuzz/bugbench.sh build"
    dotnet=$(command -v dotnet); failed=0
    while IFS=$'\t' read -r id target _ kind _; do
      dll=$(host_of "$target") || die "cannot prepare $target"
      r=$(ls "$root"/fuzz/bench/repro/B$(printf %02d "$id").* 2>/dev/null | head -n 1)
      if [ -z "$r" ]; then echo "B$id $target: no reproducer"; failed=$((failed + 1)); continue; fi
      STREAMBENCH_PLANTED_BUG=$id env -u __AFL_SHM_ID "$dotnet" "$dll" --target "$target" "$r" >"$bench/check-B$id-on.txt" 2>&1; on=$?
      STREAMBENCH_PLANTED_BUG=0 env -u __AFL_SHM_ID "$dotnet" "$dll" --target "$target" "$r" >"$bench/check-B$id-off.txt" 2>&1; off=$?
      family=$( . "$tree/tools/fuzz/lib.sh"; fz_target_line "$target" | cut -f4 )
      STREAMBENCH_PLANTED_BUG=$id env -u __AFL_SHM_ID "$dotnet" "$dll" --target "$target" "$FUZZ_WORK/seeds/$family" >"$bench/check-B$id-seeds.txt" 2>&1; seeds=$?
      verdict=ok
      [ "$on" != 0 ] || verdict="FAIL (the reproducer does not trigger it)"
      [ "$off" = 0 ] || verdict="FAIL (the reproducer fails with the bug off)"
      [ "$seeds" = 0 ] || verdict="FAIL (a seed triggers it: see $bench/check-B$id-seeds.txt)"
      [ "$verdict" = ok ] || failed=$((failed + 1))
      printf 'B%02d %-18s %-45s on:%s off:%s seeds:%s %s\n' "$id" "$target" "$kind" "$on" "$off" "$seeds" "$verdict"
    done < <(bugs_list)
    [ "$failed" = 0 ] && say "every reproducer proves its bug reachable" || say "$failed failed"
    [ "$failed" = 0 ]
    ;;
  run)
    sel=""; configs="own"; trials=3; cap=600
    while [ $# -gt 0 ]; do
      case "$1" in
        --bugs) sel=$2; shift ;; --configs) configs=$2; shift ;; --trials) trials=$2; shift ;; --cap) cap=$2; shift ;;
        *) die "unknown option $1" ;;
      esac; shift
    done
    [ -d "$FUZZ_WORK/build" ] || die "run: tools/fuzz/bugbench.sh build"
    sel=${sel:-$(bugs_list | cut -f1 | tr '\n' ' ')}
    dotnet=$(command -v dotnet)
    [ -f "$results" ] || printf 'bug\ttarget\tconfig\ttrial\tfound\tseconds\texecs\tcap\tload\tdate\n' >"$results"
    for trial in $(seq 1 "$trials"); do
      for id in $sel; do
        target=$(bug_target "$id"); [ -n "$target" ] || die "no bug $id"
        dll=$(host_of "$target")
        for config in $configs; do
          opts=(); extra=()
          case "$config" in
            own) ;;
            own-nomut) opts+=(--no-mutator) ;;
            own-cmp) opts+=(--cmp) ;;
            own-cmpdict) opts+=(--cmp-dict) ;;
            own-nocmpdict) opts+=(--no-cmp-dict) ;;
            sharpfuzz) opts+=(--sharpfuzz) ;;
            libfuzzer) ;;
            *) die "unknown configuration $config" ;;
          esac
          out=$bench/runs/B$id-$config-t$trial
          rm -rf "$out"; mkdir -p "$bench/runs"
          found=0; secs=""; ms=""; execs=""; first=""
          if [ "$config" = libfuzzer ]; then
            libfuzzer_trial
          else
            env "${extra[@]}" STREAMBENCH_PLANTED_BUG="$id" AFL_BENCH_UNTIL_CRASH=1 \
              "$tree/tools/fuzz/campaign.sh" "$target" --seconds "$cap" --no-build --quiet --out "$out" "${opts[@]}" >"$out.log" 2>&1
            first=$(ls "$out"/main/crashes/id:* 2>/dev/null | head -n 1)
            execs=$(awk -F' *: *' '$1 == "execs_done" { print $2 }' "$out/main/fuzzer_stats" 2>/dev/null)
          fi
          if [ -z "$first" ] && [ -f "$out/main/hangs-inprocess/id:000000,fork-server-died" ]; then
            # In process, an input that runs past -t (e.g. a huge allocation on a loaded machine) ends the campaign:
            # it counts if it is the bug, at the time of afl-fuzz's last status update.
            first=$out/main/hangs-inprocess/id:000000,fork-server-died
            ms=$(( ($(awk -F' *: *' '$1 == "last_update" { print $2 }' "$out/main/fuzzer_stats") - $(awk -F' *: *' '$1 == "start_time" { print $2 }' "$out/main/fuzzer_stats")) * 1000 ))
          fi
          if [ -n "$first" ]; then
            [ -n "$ms" ] || ms=$(sed -n 's/.*,time:\([0-9]*\).*/\1/p' <<<"$first")
            STREAMBENCH_PLANTED_BUG=$id env -u __AFL_SHM_ID "$dotnet" "$dll" --target "$target" "$first" >/dev/null 2>&1; on=$?
            STREAMBENCH_PLANTED_BUG=0 env -u __AFL_SHM_ID "$dotnet" "$dll" --target "$target" "$first" >/dev/null 2>&1; off=$?
            if [ "$on" != 0 ] && [ "$off" = 0 ]; then found=1; secs=$(awk -v m="${ms:-0}" 'BEGIN { printf "%.1f", m / 1000 }'); else found=other; fi
          fi
          printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$target" "$config" "$trial" "$found" "${secs:--}" "${execs:-0}" "$cap" \
            "$(cut -d' ' -f1 /proc/loadavg)" "$(date -u +%FT%TZ)" >>"$results"
          say "B$id $target $config trial $trial: found=$found ${secs:+after ${secs}s} (execs ${execs:-0}, load $(cut -d' ' -f1 /proc/loadavg))"
        done
      done
    done
    ;;
  table)
    write=0; [ "${1:-}" = --write ] && { write=1; shift; }
    [ $# -gt 0 ] || set -- "$results"
    for f in "$@"; do [ -f "${f%%:*}" ] || die "no results yet (${f%%:*})"; done
    table=$(python3 "$root/fuzz/bench/table.py" <(bugs_list) "$@") || die "table failed"
    if [ "$write" = 1 ]; then
      python3 - "$root/docs/FUZZING.md" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
start, end = "<!-- bugbench-table:start -->", "<!-- bugbench-table:end -->"
if start not in text or end not in text:
    sys.exit("docs/FUZZING.md has no bugbench-table markers")
head, rest = text.split(start, 1)
_, tail = rest.split(end, 1)
open(path, "w", encoding="utf-8").write(head + start + "\n" + table + "\n" + end + tail)
PY
      say "table written into docs/FUZZING.md"
    else
      echo "$table"
    fi
    ;;
  *) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
exit
}
