#!/usr/bin/env bash
# Measures every row of the performance table (docs/BENCHMARKS.md, "Side by side") in ONE run, each next to its
# reference, round by round interleaved (ours, then the reference, then the next row), and prints the median of the
# runs, the ratio, and met / not met per goal, with the load average before and after. On a shared machine the
# absolute figures move with the load; the ratios much less.
#
# Rows (SIZE is 1G unless --size says otherwise; the streams are generated into a temporary folder, held out of the
# corpus, and removed at the end unless --keep):
#   restore      cat STREAM | streambench restore -         vs  cat STREAM | cat > /dev/null   (an HVM save of SIZE by
#                                                                 our engine; peak RSS vs the restored domain's pages;
#                                                                 again right after an untimed restore: warm memory)
#   onepage      streambench verify ONEPAGE                  vs  verify-stream-v2 (SIZE/4 KiB one-page PAGE_DATA records)
#   convert      streambench convert-legacy IMAGE -> OUT     vs  cat IMAGE > OUT and Xen's convert-legacy-stream (a PV
#                                                                 legacy image of SIZE; over an existing OUT and to a
#                                                                 fresh one; our output cmp'd with Xen's)
#   verify-file  streambench verify BATCHED                  vs  verify-stream-v2 (a v3 libxc stream of SIZE, 1024-page
#                                                                 batches)
#   verify-pipe  cat BATCHED | streambench verify -          vs  cat BATCHED | cat > /dev/null
#   record       ratelimit STREAM | streambench record --transport -- sh -c 'cat >/dev/null'
#                                                            vs  ratelimit STREAM | sh -c 'cat >/dev/null' (--rate MB/s)
#   kaitai       streambench dump --kaitai SAVE              vs  streambench dump SAVE (corpus/real/save-pv.xl.zst,
#                                                                 134 MB decompressed; not scaled by --size)
#   fuzz         with --fuzz SECONDS only: `streambench fuzz restore-engine --seconds SECONDS -j CORES` after the other
#                rows (an AFL++ campaign, one instance per core: -M main with the custom mutator, -S sec1 plain havoc;
#                execs/s of each and in all), no reference
#
# Usage: tools/bench/compare.sh [--size 1G|256M|...] [--runs N] [--rate MBPS] [--dir DIR] [--keep] [--no-write]
#        [--only ROW[,ROW...]] [--cli EXECUTABLE] [--fuzz SECONDS]
# (--cli: time that streambench executable instead of publishing this checkout's.) The whole output is also written
# verbatim into docs/BENCHMARKS.md between the compare markers (--no-write: not), only when every row ran with this
# checkout's CLI (no --only, no --cli).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
size=1G; runs=3; rate=400; dir=""; keep=0; write=1; only=""; cli=""; fuzz=0; fuzz_jobs=$(nproc)
usage() { echo "usage: $0 [--size 1G|256M|...] [--runs N] [--rate MBPS] [--dir DIR] [--keep] [--no-write] [--only ROWS] [--cli EXE] [--fuzz SECONDS]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=${2:?}; shift 2 ;;
    --runs) runs=${2:?}; shift 2 ;;
    --rate) rate=${2:?}; shift 2 ;;
    --dir) dir=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-write) write=0; shift ;;
    --only) only=${2:?}; write=0; shift 2 ;;
    --cli) cli=${2:?}; write=0; shift 2 ;;
    --fuzz) fuzz=${2:?}; shift 2 ;;
    *) usage ;;
  esac
done
case "$size" in *[0-9][MG]) ;; *) echo "compare.sh: --size takes e.g. 256M or 1G, not '$size'" >&2; exit 2 ;; esac
case "$runs" in ''|*[!0-9]*|0) echo "compare.sh: --runs takes a positive number" >&2; exit 2 ;; esac
case "$fuzz" in ''|*[!0-9]*) echo "compare.sh: --fuzz takes a number of seconds" >&2; exit 2 ;; esac
mib=${size%?}; [ "${size: -1}" = G ] && mib=$((mib * 1024))
pages=$((mib * 256))
want() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

cd "$root"
bash tools/setup.sh --tests >/dev/null
if [ -n "$cli" ]; then # another build, e.g. a copy of an earlier one, to compare builds in one run
  sb=$cli; build_kind="$cli"
else
  "$root/tools/streambench" --version >/dev/null || exit 2   # publishes the Release CLI (NativeAOT, or ReadyToRun as the fallback) into artifacts/cli
  sb="$root/artifacts/cli/streambench"
  build_kind=$(cat "$root/artifacts/cli/.build-kind" 2>/dev/null || echo unknown)
fi
bash "$root/tools/oracle/setup.sh" -q || { echo "compare.sh: Xen's stream tools (tools/oracle/setup.sh) are needed" >&2; exit 2; }
# shellcheck disable=SC1091
. "${XEN_ORACLE_CACHE:-$root/.cache/xen-oracle}/env"
xenpy() { PYTHONPATH="$XEN_ORACLE_PYTHONPATH" "$XEN_ORACLE_PYTHON" "$@"; }

work=${dir:-$(mktemp -d /tmp/streambench-compare.XXXXXX)}
mkdir -p "$work"
cleanup() { [ "$keep" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
# Disk: the HVM save, the one-page and batched streams, the legacy image and three outputs of it, a capture (each about
# SIZE), the real save (134 MB) and a margin of 1 GiB.
need=$(( (8 * mib + 160 + 1024) * 1048576 ))
avail=$(df -B1 --output=avail "$work" | tail -1 | tr -d ' ')
if [ "$avail" -lt "$need" ]; then
  echo "compare.sh: $work has $((avail / 1048576)) MiB free, this run needs about $((need / 1048576)) MiB (use --size or --dir)" >&2
  exit 2
fi

echo "== making the held-out inputs in $work (not timed)" >&2
stream="$work/hvm.xl"; onepage="$work/onepage.libxc"; batched="$work/batched.libxc"; legacy="$work/pv.legacy"
realsave="$work/save-pv.xl"
if want restore || want record; then
  [ -s "$stream" ] || "$sb" save --guest hvm --memory "$size" --vcpus 2 --seed 1 -o "$stream" > "$work/save.txt"
fi
if want onepage; then [ -s "$onepage" ] || "$sb" generate --layer libxc --guest hvm --pages "$pages" --batch 1 -o "$onepage"; fi
if want verify-file || want verify-pipe; then
  [ -s "$batched" ] || "$sb" generate --layer libxc --guest hvm --pages "$pages" --batch 1024 -o "$batched"
fi
if want convert; then [ -s "$legacy" ] || "$sb" save --guest pv --memory "$size" --seed 3 -f legacy -o "$legacy" >/dev/null; fi
if want kaitai; then [ -s "$realsave" ] || zstd -q -d -f "$root/corpus/real/save-pv.xl.zst" -o "$realsave"; fi

ratelimit() { python3 "$root/tools/bench/ratelimit.py" "$1" "$rate"; } # paced sender, $rate MB/s
export -f ratelimit
export rate root

results="$work/results.tsv"; : > "$results"
# m NAME PREP COMMAND: runs COMMAND under bash with GNU time (peak RSS of the largest process in KiB) and bash's `time`
# inside (wall seconds);
# PREP (not timed) runs first, e.g. to remove an output. Appends "NAME wall rss exit" to the results.
m() {
  local name=$1 prep=$2 cmd=$3 rc=0
  [ -n "$prep" ] && bash -c "$prep"
  # The wall clock from bash's own `time` around the command inside the timed shell (TIMEFORMAT %4R: 0.1 ms), not
  # GNU time's %e (10 ms, a tenth of the fast rows) nor a clock around GNU time (whose own start-up adds 10-13 ms).
  /usr/bin/time -f '%M' -o "$work/time.txt" bash -c "TIMEFORMAT=%4R; time { $cmd ; } > /dev/null 2> '$work/err.txt'" \
    > /dev/null 2> "$work/wall.txt" || rc=$?
  echo "$name $(tail -1 "$work/wall.txt") $(tail -1 "$work/time.txt") $rc" >> "$results"
  if [ "$rc" != 0 ] && [ "$name" != v2-onepage ] && [ "$name" != v2-batched ]; then
    echo "compare.sh: '$name' exited $rc: $(head -3 "$work/err.txt")" >&2
  fi
}

# The inputs were just written: flush them first (their writeback would otherwise run under the first rounds' timings),
# then read them once so that every round finds them in the page cache.
sync
for f in "$stream" "$onepage" "$batched" "$legacy" "$realsave"; do [ -f "$f" ] && cat "$f" > /dev/null; done
# Before a write to a fresh file: the removed output's pages are written back and, when this runs as root, the clean
# page cache is dropped and the input read back in, so that every such run (ours, cat's, Xen's) starts from the same
# memory state (the other rows' inputs are read back too): without it the time to a fresh file moved 0.17-2.2 s from run to run with whatever the page cache held.
# The programs are run once after the drop as well (our CLI, Xen's tools and their Python): the row after a drop would
# otherwise time the executable's and the interpreter's pages read back from disk (the batched verify row, 6 ms warm,
# took 18-26 ms when it came right after the fresh-file convert runs).
fresh="sync"
if [ -w /proc/sys/vm/drop_caches ]; then
  fresh="sync; echo 1 > /proc/sys/vm/drop_caches; for f in '$stream' '$onepage' '$batched' '$legacy' '$realsave'; do [ -f \"\$f\" ] && cat \"\$f\" > /dev/null; done; '$sb' --version > /dev/null; PYTHONPATH='$XEN_ORACLE_PYTHONPATH' '$XEN_ORACLE_PYTHON' '$XEN_ORACLE_VERIFY' --help > /dev/null 2>&1; PYTHONPATH='$XEN_ORACLE_PYTHONPATH' '$XEN_ORACLE_PYTHON' '$XEN_ORACLE_CONVERT' --help > /dev/null 2>&1; true"
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= runs; round++)); do
  echo "== round $round/$runs" >&2
  if want restore; then
    m restore "" "cat '$stream' | '$sb' restore - > '$work/restore.txt'"
    m restore-ref "" "cat '$stream' | cat > /dev/null"
    # The same right after an untimed restore: the memory the restore needs is then memory the last process has just
    # freed. In this VM (virtio-balloon free page reporting) memory left free for a few seconds goes back to the host,
    # and the guest's first touch of it again costs several times more system time (docs/BENCHMARKS.md).
    m restore-warm "cat '$stream' | '$sb' restore - > /dev/null" "cat '$stream' | '$sb' restore - > /dev/null"
  fi
  if want onepage; then
    m onepage "" "'$sb' verify '$onepage'"
    m v2-onepage "" "PYTHONPATH='$XEN_ORACLE_PYTHONPATH' '$XEN_ORACLE_PYTHON' '$XEN_ORACLE_VERIFY' -f libxc -i '$onepage'"
  fi
  if want convert; then
    conv="'$sb' convert-legacy -i '$legacy' -o '$work/ours.out' -w 64 -g pv -f libxc"
    m convert-over "sync; '$sb' convert-legacy -i '$legacy' -o '$work/ours.out' -w 64 -g pv -f libxc >/dev/null" "$conv"
    m cat-over "sync; cat '$legacy' > '$work/cat.out'" "cat '$legacy' > '$work/cat.out'"
    m convert-fresh "rm -f '$work/ours.out'; $fresh" "$conv"
    m cat-fresh "rm -f '$work/cat.out'; $fresh" "cat '$legacy' > '$work/cat.out'"
    m xen-convert "rm -f '$work/xen.out'; $fresh" \
      "PYTHONPATH='$XEN_ORACLE_PYTHONPATH' '$XEN_ORACLE_PYTHON' '$XEN_ORACLE_CONVERT' -i '$legacy' -o '$work/xen.out' -w 64 -g pv -f libxc"
  fi
  if want verify-file; then
    m verify-file "" "'$sb' verify '$batched'"
    m v2-batched "" "PYTHONPATH='$XEN_ORACLE_PYTHONPATH' '$XEN_ORACLE_PYTHON' '$XEN_ORACLE_VERIFY' -f libxc -i '$batched'"
  fi
  if want verify-pipe; then
    m verify-pipe "" "cat '$batched' | '$sb' verify -"
    m verify-pipe-ref "" "cat '$batched' | cat > /dev/null"
  fi
  if want record; then
    m record "rm -f '$work/cap.sbcap'; sync" "ratelimit '$stream' | '$sb' record --transport -q -o '$work/cap.sbcap' -- sh -c 'cat > /dev/null'"
    m record-ref "rm -f '$work/cap.sbcap'; sync" "ratelimit '$stream' | sh -c 'cat > /dev/null'"
  fi
  if want kaitai; then
    m kaitai "" "'$sb' dump --kaitai '$realsave'"
    m kaitai-ref "" "'$sb' dump '$realsave'"
  fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
fuzz_result=""
if [ "$fuzz" -gt 0 ] && want fuzz; then
  echo "== fuzz restore-engine, $fuzz s (AFL++; builds the fuzz hosts first)" >&2
  # One afl-fuzz instance per core (the machine's limit): -M main with the structure-aware custom mutator, then
  # secondaries, every other one plain havoc (campaign.sh). Each instance's rate is printed as well as the sum.
  "$root/tools/streambench" fuzz restore-engine --seconds "$fuzz" -j "$fuzz_jobs" -o "$work/fuzz" > "$work/fuzz.txt" 2>&1 \
    || echo "compare.sh: the fuzz campaign failed: $(tail -3 "$work/fuzz.txt")" >&2
  fuzz_result=$(grep -h '^FUZZ-RESULT' "$work/fuzz/result" 2>/dev/null | tail -1)
  instances=$(awk '$1 == "restore-engine" && $2 != "total" && $4 ~ /^[0-9]+$/ { printf "%s%s:%s", sep, $2, $4; sep = "/" }' "$work/fuzz.txt")
  [ -z "$fuzz_result" ] || fuzz_result="$fuzz_result instances=${instances:-?}"
fi

same="-"
if want convert; then
  if cmp -s "$work/ours.out" "$work/xen.out"; then same=identical; else same=DIFFERENT; fi
fi
resident=0
if want restore; then
  resident=$(sed -n 's/^memory: \([0-9]*\) pages resident.*/\1/p' "$work/restore.txt")
  digest_saved=$(tail -1 "$work/save.txt"); digest_restored=$(tail -1 "$work/restore.txt")
  [ "$digest_saved" = "$digest_restored" ] || echo "compare.sh: DIGESTS DIFFER: save '$digest_saved', restore '$digest_restored'" >&2
fi
sizes="$(stat -c %s "$stream" 2>/dev/null || echo 0) $(stat -c %s "$onepage" 2>/dev/null || echo 0) $(stat -c %s "$batched" 2>/dev/null || echo 0) $(stat -c %s "$legacy" 2>/dev/null || echo 0) $(stat -c %s "$realsave" 2>/dev/null || echo 0)"
records=$( { "$sb" inspect "$onepage" 2>/dev/null || true; } | sed -n 's/^records: *\([0-9]*\).*/\1/p' | head -1)

out="$work/report.txt"
python3 - "$results" "$size" "$runs" "$rate" "$build_kind" "$load_before" "$load_after" "$(nproc)" "$same" \
  "${resident:-0}" "${records:-0}" "$pages" $sizes "$fuzz_result" > "$out" <<'PY'
import sys, statistics, datetime
(results, size, runs, rate, kind, lb, la, cores, same, resident, records, pages,
 s_stream, s_onepage, s_batched, s_legacy, s_real, fuzz_result) = sys.argv[1:]
rows = {}
for line in open(results):
    name, wall, rss, rc = line.split()
    rows.setdefault(name, []).append((float(wall), int(rss), int(rc)))
def med(name): return statistics.median(w for w, _, _ in rows[name])
def peak(name): return max(r for _, r, _ in rows[name]) / 1024
def ok(name): return all(rc == 0 for _, _, rc in rows[name])
have = lambda *names: all(n in rows for n in names)
verdict = lambda good: "met" if good else "NOT met"
records = int(records) or int(pages) + 8
print(f"tools/bench/compare.sh --size {size} --runs {runs}: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
      f"{cores} cores, load average before {lb}, after {la}; CLI build: {kind}; medians of {runs} runs, wall clock of whole "
      f"processes (start-up included), peak = max RSS")
print()
print("| work | ours | reference in the same run | ratio | goal | |")
print("|---|---|---|---|---|---|")
if have("restore", "restore-ref"):
    gb = int(s_stream) / 1e9
    t, ref = med("restore"), med("restore-ref")
    limit = int(resident) * 4096 / 2**20 + 64
    good = ok("restore") and ref / t >= 0.7 and peak("restore") <= limit
    print(f"| `cat f \\| streambench restore -` ({gb:.2f} GB HVM save of our engine) | {t:.3f} s, peak {peak('restore'):.0f} MiB "
          f"| `cat f \\| cat` {ref:.3f} s | {ref / t:.2f}x of the pipe; peak limit {limit:.0f} MiB ({int(resident)} resident pages + 64 MiB) "
          f"| >= 0.7x; peak <= resident + 64 MiB | {verdict(good)} |")
if have("restore-warm", "restore-ref"):
    t, ref = med("restore-warm"), med("restore-ref")
    print(f"| the same right after an untimed restore (its memory freed just before: host-backed) | {t:.3f} s, peak {peak('restore-warm'):.0f} MiB "
          f"| `cat f \\| cat` {ref:.3f} s | {ref / t:.2f}x of the pipe | (the goal's row is the one above) | {'at 0.7x' if ref / t >= 0.7 else 'under 0.7x'} |")
if have("onepage", "v2-onepage"):
    t, ref = med("onepage"), med("v2-onepage")
    print(f"| verify {records} records ({int(pages)} one-page PAGE_DATA) | {t:.3f} s = {records / t / 1e6:.2f} M records/s "
          f"| verify-stream-v2 {ref:.2f} s ({records / ref / 1e6:.3f} M/s) | {ref / t:.1f}x | >= 2.5 M records/s "
          f"| {verdict(ok('onepage') and records / t >= 2.5e6)} |")
if have("convert-over", "convert-fresh", "cat-over", "cat-fresh", "xen-convert"):
    o, f, co, cf, x = med("convert-over"), med("convert-fresh"), med("cat-over"), med("cat-fresh"), med("xen-convert")
    good = ok("convert-over") and ok("convert-fresh") and co / o >= 0.8 and cf / f >= 0.8 and same == "identical"
    print(f"| `convert-legacy` {int(s_legacy) / 1e9:.2f} GB PV legacy -> libxc | {o:.3f} s over an existing output; {f:.3f} s to a fresh file "
          f"| Xen's converter {x:.2f} s; `cat in > out` {co:.3f} s / {cf:.3f} s | {co / o:.2f}x / {cf / f:.2f}x of the copy; output {same} to Xen's "
          f"| >= 0.8x of the copy, byte-identical | {verdict(good)} |")
if have("verify-file", "v2-batched"):
    t, ref = med("verify-file"), med("v2-batched")
    print(f"| verify {int(s_batched) / 1e9:.2f} GB v3, 1024-page batches, file | {t:.3f} s, peak {peak('verify-file'):.0f} MiB "
          f"| verify-stream-v2 {ref:.3f} s | {ref / t:.1f}x | >= 10x | {verdict(ok('verify-file') and ref / t >= 10)} |")
if have("verify-pipe", "verify-pipe-ref"):
    t, ref = med("verify-pipe"), med("verify-pipe-ref")
    print(f"| verify the same through a pipe | {t:.3f} s, peak {peak('verify-pipe'):.0f} MiB | `cat f \\| cat` {ref:.3f} s "
          f"| {ref / t:.2f}x | >= 0.8x | {verdict(ok('verify-pipe') and ref / t >= 0.8)} |")
if have("record", "record-ref"):
    t, ref = med("record"), med("record-ref")
    over = (t / ref - 1) * 100
    print(f"| record at {rate} MB/s ({int(s_stream) / 1e9:.2f} GB, rate-limited sender, quiet receiver) | {t:.3f} s "
          f"| no recorder {ref:.3f} s | {over:+.1f} % | <= 5 % | {verdict(ok('record') and over <= 5)} |")
if have("kaitai", "kaitai-ref"):
    t, ref = med("kaitai"), med("kaitai-ref")
    rate_k = int(s_real) / t / 1e9
    print(f"| `dump --kaitai` of a {int(s_real) / 1e6:.0f} MB real save (corpus save-pv) | {t:.2f} s, peak {peak('kaitai'):.0f} MiB, {rate_k:.2f} GB/s "
          f"| plain `dump` {ref:.2f} s, peak {peak('kaitai-ref'):.0f} MiB | {t / ref:.1f}x the time of `dump` "
          f"| peak <= 64 MiB, >= 1 GB/s | {verdict(ok('kaitai') and peak('kaitai') <= 64 and rate_k >= 1)} |")
fz = dict(kv.split("=", 1) for kv in fuzz_result.split()[1:] if "=" in kv)
if fz.get("execs_per_sec"):
    eps = int(fz["execs_per_sec"])
    def role(name):  # campaign.sh: the custom mutator on main and every other secondary, plain havoc on the rest
        n = 0 if name == "main" else int(name[3:]) if name[3:].isdigit() else 0
        return f"{name} ({'havoc' if n % 2 else 'custom mutator'})"
    parts = ", ".join(f"{role(n)} {int(r):,}" for n, r in (p.split(":") for p in fz.get("instances", "").split("/") if ":" in p))
    jobs = int(fz.get("jobs", "1"))
    print(f"| fuzz restore-engine target ({fz['seconds']} s, {jobs} job{'s' if jobs > 1 else ''}, one per core; load at the end {fz.get('load', '?')}) "
          f"| {eps:,} execs/s in all{': ' + parts if parts else ''}; {int(fz['execs']):,} execs "
          f"| | | >= 10k exec/s | {verdict(eps >= 10000)} |")
else:
    print("| fuzz restore-engine target | not measured (--fuzz SECONDS runs it) | | | >= 10k exec/s | not measured |")
PY
cat "$out"
if [ "$write" = 1 ]; then
  doc="$root/docs/BENCHMARKS.md"
  python3 - "$doc" "$out" <<'PY'
import sys, re
doc, out = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
text = open(doc).read()
begin, end = "<!-- compare:begin -->", "<!-- compare:end -->"
if begin not in text:
    sys.exit("docs/BENCHMARKS.md has no compare markers")
text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: f"{begin}\n{out}\n{end}", text, flags=re.S)
open(doc, "w").write(text)
PY
  echo "(written into docs/BENCHMARKS.md)" >&2
fi
