#!/usr/bin/env bash
# Triage of a campaign's findings: replays every crash and hang without AFL, buckets crashes by exception type + the top
# frames of our code, keeps the smallest input per bucket, minimizes it with afl-tmin (kept only if it still lands in
# the same bucket), confirms hangs with a timeout, and turns each unique finding into a regression test under
# tests/StreamBench.Tests/Regressions/ (input embedded as base64, or a file under Regressions/inputs/ when large).
#
#   tools/fuzz/triage.sh OUTDIR [--no-tmin] [--no-tests] [--target NAME] [--force]
#
#   OUTDIR       an afl-fuzz output folder made by tools/fuzz/campaign.sh (or fuzz/smoke.sh: fuzz/.work/smoke-ci/runs/T)
#   --no-tmin    do not minimize
#   --no-tests   only report (OUTDIR/triage/), write no test
#   --target     the target, when OUTDIR has no 'target' file (a campaign not started by campaign.sh)
#   --force      overwrite an existing regression test of the same bucket
#
# Output: OUTDIR/triage/BUCKET/{input.bin,min.bin,replay.txt}, OUTDIR/triage/summary.tsv, and the tests. Exit 0.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out=""; tmin=1; tests=1; target=""; force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-tmin) tmin=0 ;;
    --no-tests) tests=0 ;;
    --target) target=$2; shift ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) out=$1 ;;
  esac
  shift
done
[ -n "$out" ] && [ -d "$out" ] || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$(cd "$out" && pwd)
if [ -z "$target" ]; then
  [ -f "$out/target" ] || fz_die "$out/target is missing: pass --target NAME"
  target=$(sed -n 1p "$out/target")
fi
dll=$(sed -n 2p "$out/target" 2>/dev/null || true)
if [ -z "$dll" ] || [ ! -f "$dll" ]; then
  [ -f "$fz_build_dir/stamp" ] || fz_build
  dll=$(fz_prepare "$target")
fi
dotnet_bin=$(fz_dotnet)
mode=$("$dotnet_bin" "$dll" --list | awk -F'\t' -v t="$target" '$1 == t { print $6 }')
tri=$out/triage
rm -rf "$tri"; mkdir -p "$tri"

mapfile -t crashes < <(find "$out" -path '*/crashes/id:*' -type f 2>/dev/null | sort)
mapfile -t hangs < <(find "$out" \( -path '*/hangs/id:*' -o -path '*/hangs-inprocess/id:*' \) -type f 2>/dev/null | sort)
fz_say "$target: ${#crashes[@]} crash input(s), ${#hangs[@]} hang input(s) in $out"

# Crashes: one replay process for all of them; JSON lines with the bucket of each. Optimized JIT from the start
# (DOTNET_TieredCompilation=0) is closer to the fork server's steady state than tier-0 code; dynamic PGO can still
# inline differently there, which is why no expected-exception rule may depend on Exception.TargetSite's exact type.
export DOTNET_TieredCompilation=0
: >"$tri/replay.jsonl"
if [ "${#crashes[@]}" -gt 0 ]; then
  env -u __AFL_SHM_ID "$dotnet_bin" "$dll" --target "$target" --json "${crashes[@]}" >"$tri/replay.jsonl" 2>/dev/null || true
fi
# Hangs: each with a timeout (15 s, generous for a loaded machine).
for h in "${hangs[@]}"; do
  n=$(stat -c %s "$h")
  set +e
  timeout 15 env -u __AFL_SHM_ID "$dotnet_bin" "$dll" --target "$target" --json "$h" >>"$tri/replay.jsonl" 2>/dev/null
  rc=$?
  set -e
  if [ "$rc" = 124 ]; then
    printf '{"file": "%s", "target": "%s", "outcome": "Hang", "failure": true, "exception": null, "message": "no answer within 15 s", "frames": [], "bucket": "hang", "bucket_id": "hang", "allocated": 0, "length": %s}\n' \
      "$h" "$target" "$n" >>"$tri/replay.jsonl"
  fi
done

# Group: smallest input per bucket.
python3 - "$tri" <<'PY'
import json, os, shutil, sys
tri = sys.argv[1]
buckets = {}
unreproduced = []
for line in open(os.path.join(tri, "replay.jsonl")):
    line = line.strip()
    if not line.startswith("{"):
        continue
    d = json.loads(line)
    if not d.get("failure"):
        if "/crashes/" in d["file"] or "/hangs" in d["file"]:
            unreproduced.append(d["file"])
        continue
    b = buckets.setdefault(d["bucket_id"], {"key": d["bucket"], "count": 0, "best": None})
    b["count"] += 1
    if b["best"] is None or d["length"] < b["best"]["length"]:
        b["best"] = d
with open(os.path.join(tri, "summary.tsv"), "w") as f:
    for bid, b in sorted(buckets.items(), key=lambda kv: -kv[1]["count"]):
        d = b["best"]
        os.makedirs(os.path.join(tri, bid), exist_ok=True)
        shutil.copyfile(d["file"], os.path.join(tri, bid, "input.bin"))
        with open(os.path.join(tri, bid, "replay.json"), "w") as r:
            json.dump(d, r, indent=1)
        msg = (d.get("message") or "").replace("\t", " ").replace("\n", " ")[:300]
        f.write("\t".join([bid, str(b["count"]), d.get("exception") or d["outcome"], b["key"], msg, d["file"]]) + "\n")
with open(os.path.join(tri, "unreproduced.txt"), "w") as f:
    f.write("".join(u + "\n" for u in unreproduced))
if unreproduced:
    print("[fuzz] %d finding(s) did not fail when replayed without AFL (listed in %s): nondeterminism or state "
          "carried between executions; replay them in one process with FUZZ_TARGET=T dotnet HOST queue/ crashes/"
          % (len(unreproduced), os.path.join(tri, "unreproduced.txt")), file=sys.stderr)
PY
nb=$(wc -l <"$tri/summary.tsv")
fz_say "$target: $nb unique finding(s)"

# Minimize (crashes only; a hang is kept as it is).
if [ "$tmin" = 1 ] && [ "$nb" -gt 0 ]; then
  while IFS=$'\t' read -r bid count kind key msg file; do
    [ "$bid" = hang ] && continue
    d=$tri/$bid
    oop=(); [ "$mode" = oop ] && oop=(STREAMBENCH_FUZZ_OUT_OF_PROCESS=1)
    if env "${oop[@]}" FUZZ_TARGET="$target" AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_TRY_AFFINITY=1 \
         nice -n "${FUZZ_NICE:-15}" timeout 600 afl-tmin -i "$d/input.bin" -o "$d/min.bin" -t 5000 -- "$dotnet_bin" "$dll" >"$d/tmin.log" 2>&1; then
      again=$(env -u __AFL_SHM_ID "$dotnet_bin" "$dll" --target "$target" --json "$d/min.bin" 2>/dev/null \
        | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline()).get("bucket_id") or "")' || true)
      if [ "$again" = "$bid" ]; then
        fz_say "$bid: minimized $(stat -c %s "$d/input.bin") -> $(stat -c %s "$d/min.bin") bytes"
      else
        fz_say "$bid: the minimized input lands elsewhere ($again); keeping the original"
        rm -f "$d/min.bin"
      fi
    else
      fz_say "$bid: afl-tmin failed (see $d/tmin.log); keeping the original"
      rm -f "$d/min.bin"
    fi
  done <"$tri/summary.tsv"
fi

# Replay text for the report, and the regression tests.
while IFS=$'\t' read -r bid count kind key msg file; do
  d=$tri/$bid
  best=$d/input.bin; [ -f "$d/min.bin" ] && best=$d/min.bin
  timeout 30 env -u __AFL_SHM_ID "$dotnet_bin" "$dll" --target "$target" "$best" >"$d/replay.txt" 2>&1 || true
done <"$tri/summary.tsv"

if [ "$tests" = 1 ] && [ "$nb" -gt 0 ]; then
  python3 - "$tri" "$target" "$fz_root" "$force" <<'PY'
import base64, datetime, json, os, re, sys
tri, target, root, force = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
reg = os.path.join(root, "tests", "StreamBench.Tests", "Regressions")
os.makedirs(os.path.join(reg, "inputs"), exist_ok=True)
ident = re.sub(r"[^A-Za-z0-9]", "_", target)
for line in open(os.path.join(tri, "summary.tsv")):
    bid, count, kind, key, msg, file = line.rstrip("\n").split("\t")
    d = os.path.join(tri, bid)
    best = os.path.join(d, "min.bin") if os.path.exists(os.path.join(d, "min.bin")) else os.path.join(d, "input.bin")
    data = open(best, "rb").read()
    cls = "Fuzz_%s_%s" % (ident, re.sub(r"[^A-Za-z0-9]", "_", bid))
    path = os.path.join(reg, cls + ".cs")
    if os.path.exists(path) and not force:
        print("[fuzz] %s exists (use --force to overwrite)" % os.path.relpath(path, root), file=sys.stderr)
        continue
    if len(data) <= 16384:
        b64 = base64.b64encode(data).decode()
        chunks = [b64[i:i + 100] for i in range(0, len(b64), 100)]
        literal = "\n".join('        "%s" +' % c for c in chunks)[:-2] + ";"
        load = "Convert.FromBase64String(Input)"
        field = "    private const string Input =\n%s\n" % literal
    else:
        name = "fuzz-%s-%s.bin" % (target, bid)
        open(os.path.join(reg, "inputs", name), "wb").write(data)
        load = 'FuzzRegression.Input("%s")' % name
        field = ""
    def xml(s):
        return s.replace("\n", " ").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = """using Xunit;

namespace StreamBench.Tests.Regressions;

/// <summary>
/// Fuzzing regression (tools/fuzz/triage.sh, {date}): target <c>{target}</c>, bucket {bid} ({count} crash input(s)).
/// Failure found: {kind}: {msg}
/// Bucket key: {key}
/// The entry point must now return or throw only the target's expected exceptions (FuzzRegression).
/// </summary>
public sealed class {cls}
{{
{field}
    [Fact]
    public void Input_is_handled() => FuzzRegression.AssertHandled("{target}", {load});
}}
""".format(date=datetime.date.today().isoformat(), target=target, bid=bid, count=count, kind=xml(kind),
           msg=xml(msg), key=xml(key), cls=cls, field=field, load=load)
    open(path, "w").write(text)
    print("[fuzz] wrote %s (%d-byte input)" % (os.path.relpath(path, root), len(data)), file=sys.stderr)
PY
fi

printf '%-12s %6s  %-45s %s\n' bucket inputs failure message
while IFS=$'\t' read -r bid count kind key msg file; do
  printf '%-12s %6s  %-45s %s\n' "$bid" "$count" "$kind" "${msg:0:120}"
  printf '%-12s %6s  %s\n' "" "" "$key"
done <"$tri/summary.tsv"
exit 0
