#!/usr/bin/env bash
# Runs the xen-native targets: Xen's own libxenguest restore code (built by build.sh) under libFuzzer or AFL++.
# `streambench fuzz xen-native-libxc ...` and tools/fuzz/campaign.sh come here.
#
#   fuzz/xen-native/run.sh TARGET [--seconds N] [--engine libfuzzer|afl] [--out DIR] [--nice N] [--timeout S]
#                              [--no-build] [--strict]
#   fuzz/xen-native/run.sh --list
#   fuzz/xen-native/run.sh --smoke [SECONDS]     build, replay every seed, run each target SECONDS (default 10)
#   fuzz/xen-native/run.sh --seeds TARGET        write TARGET's seeds (needs the build) and print their folder
#   fuzz/xen-native/run.sh --save-corpus TARGET DIR...   minimise the seeds and a campaign's corpus DIR into
#                                                fuzz/xen-native/corpus/NAME.tar.zst, which later seeds include
#   fuzz/xen-native/run.sh --known-finding LOG   exit 0 (and print its name) if LOG reports a known finding (XN-1..5,
#                                                XL-2..6)
#
#   TARGET   xen-native-libxc (plain libxc streams, PV and HVM), xen-native-checkpoint (Remus streams with the
#            libxl checkpoint records between the libxc checkpoints), xen-native-colo (the same as the COLO
#            secondary restores them: XC_STREAM_COLO, a CHECKPOINT_STATE after each checkpoint; seeds made of the
#            Remus seeds by colo_seed.py) or xen-native-libxl (harness (b): Xen's libxl
#            stream reader over a libxl stream, plain or Remus, its LIBXC_CONTEXT restored by libxc)
#
# Campaign mode (the default; --strict turns it off): the known findings do not stop a libFuzzer job or an AFL++
# run over and over: UBSan's reports of XN-3 are suppressed (known-findings.supp; libFuzzer only: afl-fuzz turns
# symbolization off, which a suppression needs) and a single allocation of
# Xen's restore code over XEN_NATIVE_ALLOC_CAP_MB (16 MiB here; nothing a good input of at most 256 KiB needs comes
# near it) fails as a malloc failure does, so XN-4's bitmap of a huge pfn ends in restore's own error path. Artifacts
# are replayed under the same settings, then classified.
# Seeds: the libxc part (the libxl part for xen-native-libxl) of every synthetic and converted-legacy stream of
# corpus/ (made by the runners' `extract`; the real captures are 130-290 MB and stay out). Dictionary:
# fuzz/dictionaries/xen.dict.
# Exit: 0 ran and found nothing new, 1 a finding (left in OUT/artifacts or OUT/crashes), 2 usage/build error,
# 3 the Xen source could not be fetched (the smoke then skips, saying so, and exits 0).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${XEN_NATIVE_BIN:-$root/.cache/xen-native/bin}
work=${XEN_NATIVE_WORK:-$root/.cache/xen-native}
targets="xen-native-libxc xen-native-checkpoint xen-native-colo xen-native-libxl"
say() { echo "[xen-native] $*" >&2; }
campaign_env=(XEN_NATIVE_ALLOC_CAP_MB=16 "XEN_NATIVE_UBSAN_SUPP=$here/known-findings.supp")
# afl-fuzz sets UBSAN_OPTIONS with symbolize=0, and a suppression names a function: AFL++ runs keep the cap only.
afl_env=(XEN_NATIVE_ALLOC_CAP_MB=16)

# Known upstream findings (docs/FUZZING.md): a crash whose report names this frame is not new (XN-1..5, XL-2..6: docs/FUZZING.md).
known_finding() { # log
  grep -q 'in x86_pv_localise_page' "$1" && grep -q 'in xc_pfn_to_mfn\|in pfn_to_mfn' "$1" && { echo XN-1; return 0; }
  grep -q '#0 .* in handle_x86_pv_p2m_frames .*xg_sr_restore_x86_pv.c:739\|xg_sr_restore_x86_pv.c:739:[0-9]*: runtime error: applying zero offset to null pointer' "$1" && { echo XN-2; return 0; }
  # XN-2 by another path: PAGE_DATA for pfn 0 while the p2m was never allocated (x86_pv_set_gfn stores through NULL).
  grep -q '#0 .* in x86_pv_set_gfn .*xg_sr_restore_x86_pv.c:95[0-9]\|xg_sr_restore_x86_pv.c:95[0-9]:[0-9]*: runtime error: applying zero offset to null pointer' "$1" && { echo XN-2; return 0; }
  # ... and a third: at stream completion process_start_info reads pfn_types[0] through NULL (no P2M_FRAMES, no pages).
  grep -q '#0 .* in process_start_info .*xg_sr_restore_x86_pv.c:149\|xg_sr_restore_x86_pv.c:149:[0-9]*: runtime error: applying zero offset to null pointer' "$1" && { echo XN-2; return 0; }
  grep -q 'xg_sr_restore.c:60:.*shift exponent' "$1" && { echo XN-3; return 0; }
  grep -q 'in pfn_set_populated\|rejected: Failed to realloc populated bitmap' "$1" && { echo XN-4; return 0; }
  grep -q 'xg_sr_restore_x86_hvm.c:29:[0-9]*: runtime error: member access within null pointer' "$1" && { echo XN-5; return 0; }
  grep -q 'out-of-memory (malloc(' "$1" && grep -q 'in record_header_done .*libxl_stream_read.c:515' "$1" && { echo XL-5; return 0; }
  grep -q 'it spins at EOF (finding XL-6)' "$1" && { echo XL-6; return 0; }
  # Harness (b), the COLO back channel: an empty CHECKPOINT_STATE, END while a state is awaited, a record that
  # needs the domain-create state the primary has not got.
  grep -q 'libxl_stream_read.c:642:.*null pointer\|in process_record .*libxl_stream_read.c:642' "$1" && { echo XL-2; return 0; }
  grep -q "stream_complete.*Assertion \`rc' failed" "$1" && { echo XL-3; return 0; }
  grep -q 'libxl_stream_read.c:\(587\|615\):.*null pointer\|in process_record .*libxl_stream_read.c:\(587\|615\)\|fake_libxl.c:[0-9:]* runtime error: member access within null pointer of type .libxl__domain_create_state' "$1" \
    && { echo XL-4; return 0; }
  return 1
}

# libFuzzer's out-of-memory report of a single huge malloc names no frame. For the libxc targets, replay an oom-
# artifact through the runner with allocations over 2 GiB failing instead, so that the log says what restore did
# with the failure (XN-4: "Failed to realloc populated bitmap").
oom_reason() { # target artifact
  case "$(basename "$2")" in oom-*) ;; *) return 0 ;; esac
  known_finding "$2.log" >/dev/null && return 0
  local flag=""
  case "$1" in xen-native-libxc) ;; xen-native-checkpoint) flag=--checkpointed ;; xen-native-colo) flag=--colo ;; *) return 0 ;; esac
  [ -x "$bin/xen-native-run" ] || return 0
  echo "--- replayed by xen-native-run with allocations over 2 GiB failing:" >>"$2.log"
  ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=2048:detect_leaks=0 timeout 120 \
    "$bin/xen-native-run" run $flag "$2" >>"$2.log" 2>&1 || true
}

build() {
  "$here/build.sh" >&2
}

# The corpus a campaign left, minimised (libFuzzer -merge=1) and kept in the repository so that the next campaign, on
# a fresh machine as often as not, starts where the last one stopped: fuzz/xen-native/corpus/NAME.tar.zst, written by
# `run.sh --save-corpus TARGET DIR`. Unpacked into the seed folder beside the seeds made from corpus/.
saved_corpus() { # target seed-folder
  local z=$here/corpus/${1#xen-native-}.tar.zst
  [ -f "$z" ] || return 0
  if ! command -v zstd >/dev/null; then say "zstd missing: the saved corpus $z is not used"; return 0; fi
  zstd -dc -q "$z" | tar -x -C "$2" --no-same-owner || say "could not unpack $z (ignored)"
}

seeds() { # target -> seed folder
  local t=$1 d=$work/seeds/${1#xen-native-}
  rm -rf "$d"; mkdir -p "$d"
  saved_corpus "$t" "$d"
  local f
  if [ "$t" = xen-native-libxl ]; then
    # Every stream with a libxl part (xl files: from the libxl header on), plain and Remus.
    for f in "$root"/corpus/synthetic/*.bin "$root"/corpus/legacy/*.libxl; do
      [ -f "$f" ] || continue
      case $(basename "$f") in *r2s*|postcopy-back-channel*) continue ;; esac
      case $(basename "$f") in
        colo-back-channel*) cp "$f" "$d/" ;;   # a COLO back channel, read as the primary reads it
        *) "$bin/xen-native-libxl-run" extract "$f" "$d/$(basename "$f")" 2>/dev/null || true ;;
      esac
    done
    echo "$d"
    return
  fi
  for f in "$root"/corpus/synthetic/*.bin "$root"/corpus/legacy/*.libxc "$root"/corpus/legacy/*.libxl; do
    [ -f "$f" ] || continue
    case $(basename "$f") in *back-channel*|*r2s*) continue ;; esac
    case $t:$f in
      xen-native-checkpoint:*remus*|xen-native-colo:*remus*|xen-native-libxc:*) ;;
      *) continue ;;
    esac
    case $t:$f in xen-native-libxc:*remus*) continue ;; esac
    "$bin/xen-native-run" extract "$f" "$d/$(basename "$f")" 2>/dev/null || true
    if [ "$t" = xen-native-colo ] && [ -f "$d/$(basename "$f")" ]; then
      python3 "$here/colo_seed.py" "$d/$(basename "$f")" "$d/colo-$(basename "$f")" 2>/dev/null || true
      rm -f "$d/$(basename "$f")"
    fi
  done
  # The seed that reproduces XN-1 stays out of campaign seeds (it would stop libFuzzer at once).
  rm -f "$d/pv32-guest64.libxc"
  echo "$d"
}

# libFuzzer's fork mode waits for each job; a job that hangs while it dies (seen: a timeout's report deadlocked in a
# futex, the campaign then stood still for 20 minutes) stops the campaign. Every 60 s: a job process that used no
# CPU in its main thread since the last look, twice in a row, is killed (a live job always burns CPU, even at nice
# 19; libFuzzer's timer thread ticks on in a hung one).
job_watchdog() { # libFuzzer parent pid
  local top=$1 pid cpu; declare -A seen=() idle=()
  trap 'kill $! 2>/dev/null; exit 0' TERM   # a sleep in the background: the signal ends the wait at once
  while kill -0 "$top" 2>/dev/null; do
    sleep 60 & wait $!
    for pid in $(pgrep -P "$top" | xargs -r -n1 pgrep -P); do
      cpu=$(awk '{ print $14 + $15 }' "/proc/$pid/task/$pid/stat" 2>/dev/null) || continue   # the main thread: libFuzzer's timer thread ticks on
      if [ "${seen[$pid]:-}" = "$cpu" ]; then
        idle[$pid]=$(( ${idle[$pid]:-0} + 1 ))
        if [ "${idle[$pid]}" -ge 2 ]; then say "job process $pid used no CPU for 2 minutes: killed"; kill -9 "$pid" 2>/dev/null; fi
      else idle[$pid]=0; fi
      seen[$pid]=$cpu
    done
  done
}

run_libfuzzer() { # target seconds out nice
  local t=$1 s=$2 out=$3 n=$4 seedd
  seedd=$(seeds "$t")
  mkdir -p "$out/corpus" "$out/artifacts"
  local start_cpu; start_cpu=$(awk '{ print $16 + $17 }' /proc/$$/stat); local t0=$SECONDS
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} env "${campaign_env[@]}" nice -n "$n" "$bin/$t" -fork=1 -ignore_crashes=1 -ignore_ooms=1 \
    -ignore_timeouts=1 -max_total_time="$s" -max_len=262144 -rss_limit_mb=2048 -timeout="$unit_timeout" \
    -dict="$root/fuzz/dictionaries/xen.dict" -artifact_prefix="$out/artifacts/" "$out/corpus" "$seedd" \
    >"$out/fuzz.log" 2>&1 &
  local fz=$!
  job_watchdog "$fz" & local wd=$!
  wait "$fz"
  kill "$wd" 2>/dev/null; wait "$wd" 2>/dev/null
  local cpu; cpu=$(( ($(awk '{ print $16 + $17 }' /proc/$$/stat) - start_cpu) / $(getconf CLK_TCK) ))
  local last; last=$(grep -E '^#[0-9]+' "$out/fuzz.log" | tail -n1)
  local execs; execs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last")
  say "$t: $((SECONDS - t0)) s wall (of $s), $cpu CPU-s, ${execs:-0} execs ($( [ "${cpu:-0}" -gt 0 ] && echo $(( ${execs:-0} / cpu )) || echo '?') per CPU-s), last line: $last"
  local new=0 f
  for f in "$out"/artifacts/crash-* "$out"/artifacts/leak-* "$out"/artifacts/timeout-* "$out"/artifacts/oom-*; do
    [ -f "$f" ] && [ "${f%.log}" = "$f" ] || continue
    ASAN_OPTIONS=detect_leaks=1 env "${campaign_env[@]}" "$bin/$t" -rss_limit_mb=2048 -timeout=60 "$f" >"$f.log" 2>&1
    oom_reason "$t" "$f"
    if k=$(known_finding "$f.log"); then say "$(basename "$f"): known finding $k"
    elif grep -q '^Executed ' "$f.log"; then say "$(basename "$f"): does not reproduce alone (a timeout of the loaded machine?)"
    else say "$(basename "$f"): NEW finding (see $f.log)"; new=1; fi
  done
  return $new
}

run_afl() { # target seconds out nice
  local t=$1 s=$2 out=$3 n=$4 seedd
  command -v afl-fuzz >/dev/null && [ -x "$bin/$t.afl" ] || { say "AFL++ build missing (install afl++, rerun build.sh)"; return 2; }
  seedd=$(seeds "$t")
  rm -rf "$out/afl"; mkdir -p "$out"
  AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CRASHES=1 env "${afl_env[@]}" \
    nice -n "$n" timeout $((s + 30)) afl-fuzz -V "$s" -m none -t 10000 -x "$root/fuzz/dictionaries/xen.dict" \
    -i "$seedd" -o "$out/afl" -- "$bin/$t.afl" >"$out/afl.log" 2>&1
  local st=$out/afl/default/fuzzer_stats
  [ -f "$st" ] || { say "afl-fuzz did not start (see $out/afl.log)"; tail -n 5 "$out/afl.log" >&2; return 2; }
  say "$t (AFL++): $(grep -E '^(execs_done|execs_per_sec|corpus_count|edges_found|saved_crashes|saved_hangs)' "$st" | awk '{ printf "%s=%s ", $1, $3 }')"
  local new=0 f
  for f in "$out"/afl/default/crashes/id:*; do
    [ -f "$f" ] && [ "${f%.log}" = "$f" ] || continue
    ASAN_OPTIONS=detect_leaks=1 env "${afl_env[@]}" "$bin/${t}" "$f" >"$f.log" 2>&1
    if k=$(known_finding "$f.log"); then say "$(basename "$f"): known finding $k"; else say "$(basename "$f"): NEW finding"; new=1; fi
  done
  return $new
}

smoke() { # seconds
  local s=${1:-10} rc
  build; rc=$?
  if [ $rc = 3 ]; then
    say "SKIPPED: Debian's Xen source package could not be fetched (registry or network unavailable); the xen-native smoke did not run"
    return 0
  fi
  [ $rc = 0 ] || { say "build failed ($rc)"; return 2; }
  # Good streams restore (the full comparison with the engine is tests/.../XenNativeRestoreTests).
  local fail=0 f
  for f in "$root"/corpus/synthetic/libxc-hvm-v3.bin "$root"/corpus/synthetic/libxl-pvh.bin "$root"/corpus/synthetic/libxc-xtab.bin; do
    "$bin/xen-native-run" run "$f" >&2 || fail=1
  done
  "$bin/xen-native-run" run --checkpointed "$root"/corpus/synthetic/libxl-remus-failover.bin >&2 || fail=1
  # The COLO secondary: the same stream with a CHECKPOINT_STATE (CHECKPOINT_NEW) after each checkpoint.
  python3 "$here/colo_seed.py" "$root"/corpus/synthetic/libxl-remus-failover.bin "$work/colo-good.bin" \
    && "$bin/xen-native-run" run --colo "$work/colo-good.bin" >&2 || fail=1
  # Harness (b): emulator records (libxl-hvm), Remus checkpoints with emulator records and failover.
  "$bin/xen-native-libxl-run" run "$root"/corpus/synthetic/libxl-hvm.bin "$root"/corpus/synthetic/xl-hvm.bin \
    "$root"/corpus/synthetic/libxl-remus-failover.bin >&2 || fail=1
  [ $fail = 0 ] || { say "a good stream was refused by Xen's restore code"; return 1; }
  local t
  for t in $targets; do
    rm -rf "$work/smoke/$t"   # this run's artifacts only
    run_libfuzzer "$t" "$s" "$work/smoke/$t" 0 || fail=1
    if [ -x "$bin/$t.afl" ] && command -v afl-fuzz >/dev/null; then run_afl "$t" "$s" "$work/smoke/$t" 0 || fail=1; fi
  done
  return $fail
}

# --save-corpus TARGET DIR...: the seeds and DIRs (a campaign's OUT/corpus) minimised by libFuzzer's -merge=1,
# kept as fuzz/xen-native/corpus/NAME.tar.zst (the files sorted, no owners or times: the same inputs give the same
# archive). The merge runs strict (no cap, no suppression): an input that reaches a known finding there (XN-3's
# report, XN-4's or XL-5's huge allocation) crashes and is left out, so that a strict run (ClusterFuzzLite, the
# reproducers' settings) does not stop at its first seed.
save_corpus() { # target dir...
  local t=${1:-}; shift || true
  case " $targets " in *" $t "*) ;; *) say "--save-corpus TARGET DIR... (--list)"; return 2 ;; esac
  [ $# -gt 0 ] || { say "--save-corpus $t: name the campaign corpus folder(s)"; return 2; }
  command -v zstd >/dev/null || { say "--save-corpus needs zstd"; return 2; }
  [ -x "$bin/$t" ] || { say "--save-corpus needs the build ($bin/$t)"; return 2; }
  local seedd m; seedd=$(seeds "$t"); m=$(mktemp -d); mkdir -p "$m.left-out"
  # The inputs the strict merge leaves out crash: their artifacts go to a scratch folder, not the working directory.
  ASAN_OPTIONS=detect_leaks=0 "$bin/$t" -merge=1 -artifact_prefix="$m.left-out/" \
    -max_len=262144 -rss_limit_mb=2048 -timeout=60 "$m" "$seedd" "$@" > "$m.log" 2>&1 \
    || { say "merge failed (see $m.log)"; rm -rf "$m" "$m.left-out"; return 1; }
  mkdir -p "$here/corpus"
  local z=$here/corpus/${t#xen-native-}.tar.zst
  ( cd "$m" && ls | LC_ALL=C sort | tar -c --owner=0 --group=0 --numeric-owner --mtime=@0 -T - ) \
    | zstd -q -19 -f -o "$z" || { rm -rf "$m"; return 1; }
  say "$t: $(ls "$m" | wc -l) inputs ($(du -sk "$m" | cut -f1) KiB) -> $z ($(( $(stat -c %s "$z") / 1024 )) KiB); $(grep -E '^MERGE-OUTER: [0-9]+ new files' "$m.log" | tail -1)"
  rm -rf "$m" "$m.log" "$m.left-out"
}

target=""; seconds=60; engine=libfuzzer; out=""; nice_level=${FUZZ_NICE:-15}; do_build=1
# libFuzzer's -timeout is wall time: a campaign at nice 19 on a busy machine wants more than 10 s (--timeout).
unit_timeout=10
while [ $# -gt 0 ]; do
  case $1 in
    --list) for t in $targets; do echo "$t"; done; exit 0 ;;
    --smoke) shift; smoke "${1:-10}"; exit $? ;;
    --known-finding) known_finding "$2"; exit $? ;;
    --seeds) r=xen-native-run; [ "${2:-}" = xen-native-libxl ] && r=xen-native-libxl-run
             [ -x "$bin/$r" ] || { say "--seeds needs the build ($bin/$r)"; exit 2; }; seeds "$2"; exit 0 ;;
    --save-corpus) shift; save_corpus "$@"; exit $? ;;
    --seconds) seconds=$2; shift ;;
    --engine) engine=$2; shift ;;
    --out) out=$2; shift ;;
    --nice) nice_level=$2; shift ;;
    --timeout) unit_timeout=$2; shift ;;
    --no-build) do_build=0 ;;
    --strict) campaign_env=(); afl_env=() ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) say "unknown option $1"; exit 2 ;;
    *) target=$1 ;;
  esac
  shift
done
case " $targets " in *" $target "*) ;; *) say "unknown target '$target' (--list)"; exit 2 ;; esac
if [ $do_build = 1 ] || [ ! -x "$bin/$target" ]; then build; rc=$?; [ $rc = 0 ] || exit $rc; fi
out=${out:-$work/campaigns/$target}
mkdir -p "$out"
case $engine in
  libfuzzer) run_libfuzzer "$target" "$seconds" "$out" "$nice_level" ;;
  afl) run_afl "$target" "$seconds" "$out" "$nice_level" ;;
  *) say "--engine libfuzzer|afl"; exit 2 ;;
esac
