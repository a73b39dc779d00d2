#!/usr/bin/env bash
# AFL++ multi-instance fuzzing across machines, tested on one (docs/FUZZING.md, "Several machines: AFL++ -M/-S"):
# "machine A" runs `afl-fuzz -M main` with its own sync folder; its queue is then copied into "machine B"'s sync folder
# the way the documented rsync does (queue/, fuzzer_stats, is_main_node of every instance that is not B's own); B
# starts `afl-fuzz -S b1` on its folder, which must import main's new entries (queue files named `sync:main`). About
# 1.5 minutes (AFL++ syncs a secondary once a minute at the shortest), for CI (fuzz/smoke.sh runs it after the targets).
#
#   tools/fuzz/sync-test.sh [TARGET] [--seconds N]   default reader-libxc, 20 s for main, then b1 until it imported (<= 100 s)
#
# Exit 0: b1 imported main's entries; 1: it did not (or an instance did not run); 2: could not build/prepare.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
target=reader-libxc; seconds=20
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) fz_die "unknown option $1" ;;
    *) target=$1 ;;
  esac
  shift
done
fz_need_afl
[ -f "$fz_build_dir/stamp" ] || fz_build
dll=$(fz_prepare "$target") || exit 2
fz_seeds
family=$(fz_target_line "$target" | cut -f4)
seeds=$fz_work/seeds/$family
dir=$fz_work/sync-test; rm -rf "$dir"; mkdir -p "$dir/machine-a" "$dir/machine-b"
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_TRY_AFFINITY=1
export AFL_FAST_CAL=1 AFL_SKIP_CRASHES=1 FUZZ_TARGET="$target"
unset AFL_PYTHON_MODULE STREAMBENCH_FUZZ_OUT_OF_PROCESS
dotnet_bin=$(fz_dotnet)
nseeds=$(ls "$seeds" | wc -l)

# Machine A: the main instance, until its queue holds entries beyond the seeds (or its time is up).
nice -n 10 afl-fuzz -M main -i "$seeds" -o "$dir/machine-a" -t 5000 -V "$seconds" -- "$dotnet_bin" "$dll" >"$dir/main.log" 2>&1 &
main_pid=$!
wait "$main_pid"
q=$dir/machine-a/main/queue
found=$(find "$q" -maxdepth 1 -name 'id:*' ! -name '*orig:*' 2>/dev/null | wc -l)
[ -d "$q" ] || { fz_say "main did not run:"; tail -n 15 "$dir/main.log" >&2; exit 1; }
fz_say "machine A: main ran ${seconds}s, queue $(ls "$q" | grep -c '^id:') entries ($nseeds seeds, $found found)"
[ "$found" -gt 0 ] || { fz_say "main found nothing new in ${seconds}s (loaded machine? --seconds more)"; exit 1; }

# The copy between machines (rsync -a in docs/FUZZING.md; cp here): every instance of A that B does not own.
mkdir -p "$dir/machine-b/main"
cp -a "$q" "$dir/machine-b/main/"
cp -a "$dir/machine-a/main/fuzzer_stats" "$dir/machine-b/main/" 2>/dev/null || true
cp -a "$dir/machine-a/main/is_main_node" "$dir/machine-b/main/" 2>/dev/null || true

# Machine B: a secondary with a one-minute sync interval (AFL_SYNC_TIME=1; AFL++ 4.04c's AFL_IMPORT_FIRST alone did not
# import here), stopped as soon as it has imported main's entries, at most 100 s.
AFL_SYNC_TIME=1 AFL_IMPORT_FIRST=1 nice -n 10 afl-fuzz -S b1 -i "$seeds" -o "$dir/machine-b" -t 5000 -V 100 -- "$dotnet_bin" "$dll" >"$dir/b1.log" 2>&1 &
b1_pid=$!
for _ in $(seq 1 110); do
  sleep 1
  kill -0 "$b1_pid" 2>/dev/null || break
  if ls "$dir/machine-b/b1/queue" 2>/dev/null | grep -q 'sync:main'; then sleep 2; break; fi
done
kill "$b1_pid" 2>/dev/null; wait "$b1_pid" 2>/dev/null
bq=$dir/machine-b/b1/queue
[ -d "$bq" ] || { fz_say "b1 did not run:"; tail -n 15 "$dir/b1.log" >&2; exit 1; }
imported=$(find "$bq" -maxdepth 1 -name 'id:*sync:main*' | wc -l)
stat_imported=$(fz_stat "$dir/machine-b/b1/fuzzer_stats" corpus_imported)  # written at b1's last stats update
synced=$(cat "$dir/machine-b/b1/.synced/main" 2>/dev/null | od -An -tu4 | tr -d ' ')
printf 'SYNC-RESULT target=%s main_queue=%s main_found=%s b1_queue=%s b1_imported_files=%s b1_corpus_imported=%s b1_synced_main_upto=%s load=%s\n' \
  "$target" "$(ls "$q" | grep -c '^id:')" "$found" "$(ls "$bq" | grep -c '^id:')" "$imported" "${stat_imported:-?}" "${synced:-?}" \
  "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')" | tee "$dir/result"
ls "$bq" | grep 'sync:main' | head -n 3 >&2
[ "$imported" -gt 0 ] || { fz_say "b1 imported nothing from main"; exit 1; }
exit 0
