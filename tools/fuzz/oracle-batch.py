#!/usr/bin/env python3
"""Compares Xen's verify-stream-v2 with our verifier's xen profile over many files (e.g. an AFL queue).

  tools/fuzz/oracle-batch.py [--host DLL] [--limit N] [--show N] [--json OUT] INPUT...

INPUT is a file or a folder (an afl-fuzz output folder is searched for */queue/id:*, */crashes/id:*, */hangs/id:*).
verify-stream-v2 runs in this process: its driver (the xl header skip, then VerifyLibxc / VerifyLibxl from
xen.migration) is reproduced over an in-memory file, with PYTHONPATH from .cache/xen-oracle/env (written by
tools/oracle/setup.sh, which this script runs when the cache is missing). Our verdicts come from one process:
`StreamBench.Fuzz.Targets.dll --verify-batch --profile xen`. The -f format given to verify-stream-v2 is what our
auto-detection sees (xl magic -> xl, LibxlFmt -> libxl, anything else -> libxc).

Every disagreement is classified against docs/VERIFIER.md's "Divergences from verify-stream-v2"; the ones that match
none are printed as UNDOCUMENTED, with both reasons. Exit code: 0 when all disagreements are documented, 1 otherwise,
2 on a usage or setup error.
"""

import io
import json
import os
import subprocess
import sys
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
XL_MAGIC = b"Xen saved domain, xl format\n \x00 \r"


def load_oracle():
    env_file = os.path.join(os.environ.get("XEN_ORACLE_CACHE", os.path.join(ROOT, ".cache", "xen-oracle")), "env")
    if not os.path.exists(env_file):
        subprocess.run(["bash", os.path.join(ROOT, "tools", "oracle", "setup.sh"), "-q"], check=True)
    env = {}
    for line in open(env_file):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            env[k] = v
    sys.path.insert(0, env["XEN_ORACLE_PYTHONPATH"])
    from xen.migration.verify import StreamError, RecordError  # noqa: E402
    from xen.migration.libxc import VerifyLibxc  # noqa: E402
    from xen.migration.libxl import VerifyLibxl  # noqa: E402
    return env, StreamError, RecordError, VerifyLibxc, VerifyLibxl


def detect(data):
    if data[:32] == XL_MAGIC:
        return "xl"
    if data[:8] == b"LibxlFmt":
        return "libxl"
    return "libxc"


def run_verify(data, fmt, oracle):
    """verify-stream-v2's read_stream() over bytes: (rc, reason). rc 0 valid, 1 stream error, 2 script error."""
    _, StreamError, RecordError, VerifyLibxc, VerifyLibxl = oracle
    fin = io.BytesIO(data)

    def stream_read(n=None):
        return fin.read(n)

    def rdexact(n):
        b = stream_read(n)
        if len(b) != n:
            raise IOError("Stream truncated")
        return b

    def info(_msg):
        pass

    try:
        if fmt == "xl":
            if rdexact(32) != XL_MAGIC:
                raise StreamError("No xl header")
            import struct
            _, mflags, _, optlen = struct.unpack("=IIII", rdexact(16))
            rdexact(optlen)
            fmt = "libxl" if mflags & 2 else "libxc"
        if fmt == "libxc":
            VerifyLibxc(info, stream_read).verify()
        else:
            VerifyLibxl(info, stream_read).verify()
    except (IOError, StreamError, RecordError) as e:
        return 1, "%s: %s" % (type(e).__name__, e)
    except Exception as e:  # verify-stream-v2's "Script Error" (rc 2)
        tb = traceback.extract_tb(e.__traceback__)
        where = "%s:%d" % (os.path.basename(tb[-1].filename), tb[-1].lineno) if tb else "?"
        return 2, "%s: %s (%s)" % (type(e).__name__, e, where)
    return 0, ""


def ours(files, host):
    """Our xen-profile verdicts, one process for all files."""
    out = {}
    for i in range(0, len(files), 2000):
        chunk = files[i:i + 2000]
        p = subprocess.run(["dotnet", host, "--verify-batch", "--profile", "xen"] + chunk,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, text=True)
        for line in p.stdout.splitlines():
            if line.startswith("{"):
                d = json.loads(line)
                out[d["file"]] = d
        if p.returncode != 0 and not p.stdout:
            sys.exit("our verifier failed: " + p.stderr[-2000:])
    return out


def classify(data, fmt, rc, reason, us):
    """The docs/VERIFIER.md divergence that explains a disagreement, or None."""
    checks = set(us.get("checks") or [])
    ours_valid = us["valid"]
    theirs_valid = rc == 0
    if ours_valid == theirs_valid:
        return "agree"
    if not ours_valid and theirs_valid:
        # 1. libxl options bits 16..31: verify masks only 2..15.
        if checks and checks <= {"libxl.header.options"}:
            return "documented-1 (libxl options bits 16..31)"
        # 9. a big-endian xl header: verify reads its fields as little-endian; when they still frame, it accepts, while
        # we honour the byteorder word (and then misframe the rest: more errors follow xl.big-endian).
        if "xl.big-endian" in checks:
            return "documented-9 (big-endian xl header; verify accepts)"
        # 5. a libxc CHECKPOINT inside a libxl stream: verify reads the libxl tail as libxc records.
        if fmt in ("xl", "libxl") and us.get("libxl_checkpoint"):
            return "documented-5 (checkpointed libxl stream)"
    if ours_valid and not theirs_valid:
        # 2. EMULATOR_XENSTORE_DATA with data: verify under Python 3 rejects every one.
        if "NUL terminated" in reason:
            return "documented-2 (xenstore data under Python 3)"
        # 5. verify reads a checkpoint's libxl records as libxc records.
        if fmt in ("xl", "libxl") and us.get("libxl_checkpoint"):
            return "documented-5 (checkpointed libxl stream)"
        # 12. formats verify-stream-v2 does not know (migrate receiver side, bare back channel).
        if us.get("format") in ("MigrateReceiver", "BackChannel"):
            return "documented-12 (format unknown to verify-stream-v2)"
    return None


def main(argv):
    host = None
    limit = None
    show = 20
    json_out = None
    inputs = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--host":
            host = argv[i + 1]
            i += 1
        elif a == "--limit":
            limit = int(argv[i + 1])
            i += 1
        elif a == "--show":
            show = int(argv[i + 1])
            i += 1
        elif a == "--json":
            json_out = argv[i + 1]
            i += 1
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            inputs.append(a)
        i += 1
    if not inputs:
        print(__doc__, file=sys.stderr)
        return 2
    files = []
    for p in inputs:
        if not os.path.isdir(p):
            files.append(p)
            continue
        for dirpath, dirs, names in os.walk(p):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "triage"]
            base = os.path.basename(dirpath)
            afl = base in ("queue", "crashes", "hangs")
            for n in sorted(names):
                if (afl and n.startswith("id:")) or (not afl and not os.path.exists(os.path.join(dirpath, "fuzzer_stats"))
                                                     and not n.startswith((".", "README"))):
                    files.append(os.path.join(dirpath, n))
    files = sorted(set(files))
    if limit:
        files = files[:limit]
    if host is None:
        for cand in (os.path.join(ROOT, "fuzz", ".work", "build", "host", "StreamBench.Fuzz.Targets.dll"),
                     os.path.join(ROOT, "fuzz", "StreamBench.Fuzz.Targets", "bin", "Release", "net10.0", "StreamBench.Fuzz.Targets.dll")):
            if os.path.exists(cand):
                host = cand
                break
    if host is None:
        sys.exit("build fuzz/StreamBench.Fuzz.Targets first (or pass --host)")
    oracle = load_oracle()
    verdicts = ours(files, host)
    counts = {}
    undocumented = []
    rows = []
    for f in files:
        data = open(f, "rb").read()
        fmt = detect(data)
        rc, reason = run_verify(data, fmt, oracle)
        us = verdicts.get(f)
        if us is None:
            continue
        kind = classify(data, fmt, rc, reason, us) or "UNDOCUMENTED"
        counts[kind] = counts.get(kind, 0) + 1
        row = {"file": f, "format": fmt, "verify_rc": rc, "verify": reason, "ours_valid": us["valid"],
               "ours": us.get("first"), "checks": us.get("checks"), "class": kind}
        rows.append(row)
        if kind == "UNDOCUMENTED":
            undocumented.append(row)
    print("oracle-batch: %d files compared with verify-stream-v2 (%s)" % (len(rows), oracle[0].get("XEN_ORACLE_VERSION", "?")))
    for k in sorted(counts):
        print("  %-48s %6d" % (k, counts[k]))
    for row in undocumented[:show]:
        print("UNDOCUMENTED %s (-f %s)\n  verify-stream-v2: rc %d %s\n  xen profile     : %s %s" % (
            row["file"], row["format"], row["verify_rc"], row["verify"] or "valid",
            "valid" if row["ours_valid"] else "invalid", row["ours"] or ""))
    if json_out:
        with open(json_out, "w") as j:
            for row in rows:
                j.write(json.dumps(row) + "\n")
    return 1 if undocumented else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
