#!/usr/bin/env bash
# tools/xenlab/cross.sh - the cross-version replay table (issue #16 part 2): every real capture of one Xen version
# replayed into a lab host of the other version, plus our engine's re-save of its save streams.
#
# usage: tools/xenlab/cross.sh [--out DIR] [--timeout SECONDS] [--only 4.17|4.20] [--table-only | --dry-run]
#   --out DIR      results folder (default <repo>/artifacts/xenlab-cross): DIR/on-<target>-<n>/ is one lab.sh run
#                  (its results.json, adapt reports, boot-2/files/log-*.txt), DIR/cross.tsv and DIR/cross.md the table
#   --timeout S    lab.sh's wall-clock limit per qemu boot (default 3000: HVM under nested TCG is slow)
#   --only T       run only the boots whose TARGET host is T (the table is still joined from every DIR/on-* present)
#   --table-only   run no boot: join the table from the lab results already in DIR
#   --dry-run      prepare DIR/in-<target>-<n>/ (the streams each boot would get) and print the plan; no boot
# What runs: for each target T in 4.20 and 4.17, the corpus/real captures whose MANIFEST.tsv xen_version is the OTHER
# version (saves, live migrations sender side, Remus; not the *.r2s receiver sides, not the aborted XFAIL migrate-pv)
# are handed to `lab.sh --xen T --scenarios replay-streams,engine-roundtrip --streams D` (as copies named without the
# xen-<ver>- prefix, so engine-roundtrip finds save-*.xl; a save-*.xl the folder lacks, lab.sh takes from corpus/real,
# and the table ignores it). dom0 holds its input in RAM (3 GiB), so the streams are
# split over several boots of at most XENLAB_CROSS_BOOT_MB decompressed MB each (default 900; a save counts twice when
# the engine's re-save goes along). Every lab.sh run holds /tmp/xenlab-qemu.lock (env XENLAB_LOCK): one QEMU at a time.
# Each row: source version, target version, stream, kind, guest, result, rc, seconds, Xen's message:
#   alive      restored (xl restore / xl migrate-receive rc 0; Remus: failed over) and the judge says the guest lives
#   not-alive  rc 0 but the judge says the domain does not live
#   refused    rc != 0 and no domain lives: a clean refusal; the message is xl/libxl/libxc's first error line
#   crashed    xl died of a signal (rc >= 128 except 124)
#   hung       xl was killed by the runner's timeout (rc 124)
#   no-result  the boot died or ran out of time before the stream's turn
#   not-handed-in  lab.sh could not adapt its config, or the engine could not restore/re-save it (the reason is given)
#   alive-but-rc-N  the guest lives but xl said N
# Exit: 0 when every row is alive or refused cleanly, 1 otherwise, 2 when a lab run could not start.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$repo/artifacts/xenlab-cross; tmo=3000; only=""; tableonly=0; dry=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --timeout) tmo=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --table-only) tableonly=1; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) awk 'NR>1 && /^#/{sub(/^# ?/,""); print; next} NR>1{exit}' "$0"; exit 0 ;;
    *) echo "cross.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$only" in ""|4.17|4.20) ;; *) echo "cross.sh: --only 4.17 or 4.20" >&2; exit 2 ;; esac
mkdir -p "$out"; out=$(cd "$out" && pwd)
man=$repo/corpus/real/MANIFEST.tsv
lock=${XENLAB_LOCK:-/tmp/xenlab-qemu.lock}
budget=${XENLAB_CROSS_BOOT_MB:-900}
other() { [ "$1" = 4.17 ] && echo 4.20 || echo 4.17; }

# the captures of source version S, one "file<TAB>name-without-prefix<TAB>MB-in-dom0<TAB>kind<TAB>guest" per line
sources() {
  awk -F'\t' -v s="$1" 'NR > 1 && index($2, s) == 1 {
      f = $1; if (f ~ /\.r2s\.zst$/) next
      n = f; sub(/^xen-[0-9]+\.[0-9]+-/, "", n)
      if (n == "migrate-pv.s2r.zst") next          # the aborted PV live migration (XFAIL on 4.17: no logdirty)
      k = "save"; if (n ~ /^remus/) k = "remus"; else if (n ~ /^migrat/ || n ~ /\.s2r\.zst$/) k = "migration"
      mb = $6 / 1048576; if (k == "save") mb *= 2   # the engine re-save goes in beside it
      printf "%s\t%s\t%d\t%s\t%s\n", f, n, mb + 1, k, $3 }' "$man" | sort -t$'\t' -k4,4r -k2,2   # saves first
}

rc=0
if [ "$tableonly" = 0 ]; then
  for T in 4.20 4.17; do
    [ -z "$only" ] || [ "$only" = "$T" ] || continue
    S=$(other "$T"); rm -rf "$out"/on-"$T"-* "$out"/in-"$T"-*
    n=0; used=$budget
    while IFS=$'\t' read -r f name mb kind guest; do   # pack the streams into boots
      if [ $((used + mb)) -gt "$budget" ]; then n=$((n + 1)); used=0; mkdir -p "$out/in-$T-$n"; rm -f "$out/in-$T-$n"/*; fi
      used=$((used + mb)); cp "$repo/corpus/real/$f" "$out/in-$T-$n/$name"   # a copy: zstd -d skips symlinks
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$f" "$S" "$T" "$kind" "$guest" >> "$out/in-$T-$n/SOURCES.txt"
    done < <(sources "$S")
    [ "$n" = 0 ] && { echo "cross.sh: corpus/real has no capture of Xen $S"; continue; }
    for i in $(seq 1 "$n"); do
      d=$out/on-$T-$i; mkdir -p "$d"; cp "$out/in-$T-$i/SOURCES.txt" "$d/"
      echo "cross.sh: Xen $S captures -> Xen $T host, boot $i/$n: $(cut -f1 "$out/in-$T-$i/SOURCES.txt" | tr '\n' ' ')"
      [ "$dry" = 1 ] && { rm -rf "$d"; continue; }
      { date -u +%FT%TZ; cat /proc/loadavg; } > "$d/start.txt"
      sc=replay-streams; grep -q $'\tsave\t' "$d/SOURCES.txt" && sc=$sc,engine-roundtrip   # the engine re-saves the saves
      flock "$lock" "$here/lab.sh" --xen "$T" --scenarios "$sc" --streams "$out/in-$T-$i" \
        --out "$d" --timeout "$tmo" > "$d/lab.log" 2>&1; lrc=$?
      { date -u +%FT%TZ; cat /proc/loadavg; } > "$d/end.txt"
      echo "cross.sh: lab.sh rc=$lrc ($(tail -1 "$d/lab.log"))"
      [ $lrc = 2 ] && rc=2
    done
  done
fi

[ "$dry" = 1 ] && exit 0
# ---- the table -----------------------------------------------------------------------------------------------------
python3 - "$out" <<'PY' || { [ $rc = 0 ] && rc=1; }
import glob, json, os, re, sys
out = sys.argv[1]
rows, boots = [], []
def read(path):
    try: return open(path, errors="replace").read()
    except OSError: return ""
def xen_message(path):
    """The first error line xl/libxl/libxc printed (what a refusal says)."""
    lines = read(path).splitlines()
    # a Remus receiver always logs "Failed to read Record Header" when the stream ends (its cue to fail over): the
    # reason is the error after it, when there is one
    errs = [l for l in lines if re.search(r"\b(xc|libxl)\b[^:]*: error", l)]
    pick = [l for l in errs if "Failed to read Record Header" not in l] or errs or \
           [l for l in lines if re.search(r"error|fail|refus|denied|unsupported|invalid|incompatible", l, re.I)]
    return pick[0].strip() if pick else ""
def entries(detail):   # runner.sh's per-stream detail: " LABEL:[KIND,]rc=N,Ts,key=value,...,judge=EVIDENCE[,raw_rc=...]"
    got = {}
    for m in re.finditer(r"(?:^| )([A-Za-z0-9_.-]+):((?:[a-z]+,)?rc=\S*)", detail):
        body, f = m.group(2), {}
        j = re.search(r"judge=(.*?)(?:,raw_rc=(.*))?$", body)
        if j: f["judge"], f["raw_rc"] = j.group(1), j.group(2); body = body[:j.start()]
        for part in body.split(","):
            if "=" in part: k, v = part.split("=", 1); f[k] = v
            elif re.match(r"^[0-9.]+s$", part): f["seconds"] = part[:-1]
        got[m.group(1)] = f
    return got
def classify(kind, rc, alive):
    if rc == "124": return "hung"
    if rc.isdigit() and int(rc) >= 128: return "crashed"
    if alive == "yes": return "alive" if (rc == "0" or kind == "remus") else "alive-but-rc-%s" % rc
    return "not-alive" if rc == "0" else "refused"
def hypervisor_says(serial, log):
    """The hypervisor's own console lines about the failed restore of the domain the xl log names (HVM<id> restore)."""
    m = re.search(r"Domain (\d+):", read(log))
    if not m: return ""
    lines, said = serial.splitlines(), []
    for i, l in enumerate(lines):
        if re.search(r"\(XEN\) HVM%s restore: failed" % m.group(1), l):
            said += [x.strip() for x in lines[max(0, i - 1):i] if "mismatch" in x] + [l.strip()]
    return " ".join(dict.fromkeys(said))
for d in sorted(glob.glob(os.path.join(out, "on-*"))):
    srcs = [l.rstrip("\n").split("\t") for l in read(os.path.join(d, "SOURCES.txt")).splitlines() if l.strip()]
    if not srcs: continue
    S, T = srcs[0][2], srcs[0][3]
    try: res = {r["scenario"]: r for r in json.load(open(os.path.join(d, "results.json")))["scenarios"]}
    except (OSError, ValueError, KeyError): res = {}
    st, en = read(os.path.join(d, "start.txt")).split("\n"), read(os.path.join(d, "end.txt")).split("\n")
    boots.append("%s: Xen %s captures into a Xen %s host, %s -> %s, load average %s -> %s; lab: %s" % (
        os.path.basename(d), S, T, st[0], en[0] if en[0] else "?", " ".join(st[1].split()[:3]) if len(st) > 1 else "?",
        " ".join(en[1].split()[:3]) if len(en) > 1 and en[1] else "?",
        ", ".join("%s %s %ss" % (k, v["status"], v["seconds"]) for k, v in res.items()) or "no results.json"))
    files = os.path.join(d, "boot-2", "files")
    serial = read(os.path.join(d, "boot-2", "serial.log"))
    rs = entries(res.get("replay-streams", {}).get("detail", ""))
    er = entries(res.get("engine-roundtrip", {}).get("detail", ""))
    refused = {p[0]: p[2] for p in (l.split("\t") for l in read(os.path.join(d, "adapt", "refused.tsv")).splitlines()) if len(p) > 2}
    for name, f, _, _, kind, guest in srcs:
        label = re.sub(r"[^A-Za-z0-9_.-]", "_", re.sub(r"\.[^.]*$", "", re.sub(r"\.zst$", "", name)))
        runs = [(label, f, rs.get(label), kind, "log-replay-streams-%s.txt" % label, refused.get(label))]
        if kind == "save":   # lab.sh says on the host when the engine could not restore or re-save the stream
            said = "xenlab: engine-roundtrip: the engine could not restore/save %s.xl:" % label
            eng = [l[len(said):].strip() for l in read(os.path.join(d, "lab.log")).splitlines() if l.startswith(said)]
            runs.append(("engine-" + label, "engine re-save of " + f, er.get("engine-" + label), "save",
                         "log-engine-roundtrip-engine-%s.txt" % label, ("the engine could not restore/save it: " + eng[0]) if eng else None))
        for lab, what, e, k, log, notin in runs:
            row = {"source": S, "target": T, "stream": what, "kind": k, "guest": guest, "boot": os.path.basename(d)}
            if e is None:
                row.update(result="not-handed-in" if notin else "no-result", rc="-", seconds="-",
                           message=notin or "no result (the boot died or ran out of time before this stream)")
            else:
                rcv = e.get("rc", "?")
                msg = xen_message(os.path.join(files, log)) if rcv != "0" else ("judge: " + e.get("judge", "").replace(",", " "))
                if rcv != "0":
                    hv = hypervisor_says(serial, os.path.join(files, log))
                    if hv: msg += "; Xen's console: " + hv
                if e.get("raw_rc"): msg += " (as it came, without the adapted config: xl restore rc=%s)" % e["raw_rc"].split("(")[0]
                row.update(result=classify(k, rcv, e.get("alive", "no")), rc=rcv, seconds=e.get("seconds", "-"), message=msg)
            rows.append(row)
cols = ["source", "target", "stream", "kind", "guest", "result", "rc", "seconds", "message", "boot"]
with open(os.path.join(out, "cross.tsv"), "w") as t:
    t.write("\t".join(cols) + "\n")
    for r in rows: t.write("\t".join(str(r[c]).replace("\t", " ") for c in cols) + "\n")
with open(os.path.join(out, "cross.md"), "w") as m:
    m.write("".join("* %s\n" % b for b in boots) + "\n")
    m.write("| from | into | stream | kind | guest | result | rc | s | Xen's message (refused) / the judge's evidence (alive) |\n")
    m.write("|---|---|---|---|---|---|---|---|---|\n")
    for r in rows:
        m.write("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" % (r["source"], r["target"], r["stream"], r["kind"],
                r["guest"], r["result"], r["rc"], r["seconds"], r["message"].replace("|", "\\|")))
print(open(os.path.join(out, "cross.md")).read(), end="")
kinds = sorted({r["result"] for r in rows})
print("cross.sh: %d rows (%s); %s, %s" % (len(rows), ", ".join("%d %s" % (sum(1 for r in rows if r["result"] == k), k)
      for k in kinds), os.path.join(out, "cross.tsv"), os.path.join(out, "cross.md")))
sys.exit(0 if rows and all(r["result"] in ("alive", "refused") for r in rows) else 1)
PY
exit $rc
