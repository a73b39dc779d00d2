#!/usr/bin/env python3
"""Summarise a captured xl save file or migration sender stream (xl header, libxl v2, libxc v3,
checkpointed streams included): record counts per layer/type, checkpoints, trailing bytes.

usage: streamsum.py FILE [FILE ...]      (reads .zst too, via the zstd command)
"""
import collections, struct, subprocess, sys

XC = {0: "END", 1: "PAGE_DATA", 2: "X86_PV_INFO", 3: "X86_PV_P2M_FRAMES", 4: "X86_PV_VCPU_BASIC",
      5: "X86_PV_VCPU_EXTENDED", 6: "X86_PV_VCPU_XSAVE", 7: "SHARED_INFO", 8: "X86_TSC_INFO",
      9: "HVM_CONTEXT", 10: "HVM_PARAMS", 11: "TOOLSTACK", 12: "X86_PV_VCPU_MSRS", 13: "VERIFY",
      14: "CHECKPOINT", 15: "CHECKPOINT_DIRTY_PFN_LIST", 16: "STATIC_DATA_END",
      17: "X86_CPUID_POLICY", 18: "X86_MSR_POLICY"}
XL = {0: "END", 1: "LIBXC_CONTEXT", 2: "EMULATOR_XENSTORE_DATA", 3: "EMULATOR_CONTEXT",
      4: "CHECKPOINT_END", 5: "CHECKPOINT_STATE"}

def summarise(data):
    out = collections.OrderedDict()
    off = 0
    if data[:32] == b"Xen saved domain, xl format\n \0 \r":
        optlen = struct.unpack_from("<I", data, 44)[0]
        out["xl_header"] = 48 + optlen
        off = 48 + optlen
    if data[off:off + 8] != b"LibxlFmt":
        out["error"] = "no libxl header at %d" % off
        return out
    off += 16
    counts = collections.Counter()
    layer = "libxl"; complete_cp = 0; dtype = None; ended = False
    while off + 8 <= len(data):
        t, l = struct.unpack_from("<II", data, off)
        nxt = off + 8 + l + ((8 - l % 8) % 8)
        if nxt > len(data):
            out["truncated_record_at"] = off
            break
        if layer == "libxl":
            counts["libxl." + XL.get(t, hex(t))] += 1
            off = nxt
            if t == 1:   # LIBXC_CONTEXT: libxc headers follow
                dtype = struct.unpack_from("<I", data, off + 24)[0]
                out["libxc_version"] = struct.unpack_from(">I", data, off + 12)[0]
                out["domain_type"] = {1: "x86 PV", 2: "x86 HVM"}.get(dtype, dtype)
                out["xen"] = "%d.%d" % struct.unpack_from("<II", data, off + 32)
                off += 40; layer = "libxc"
            elif t == 4:
                complete_cp += 1; layer = "libxc"
            elif t == 0:
                ended = True; break
        else:
            counts["libxc." + XC.get(t, hex(t))] += 1
            off = nxt
            if t in (0, 14):
                layer = "libxl"
    out["records"] = dict(counts)
    out["checkpoints_complete"] = complete_cp
    out["libxl_end_seen"] = ended
    out["bytes_parsed"] = off
    out["trailing_bytes"] = len(data) - off
    if len(data) > off:
        out["trailing_text"] = data[off:off + 80].decode("latin-1")
    return out

for fn in sys.argv[1:]:
    if fn.endswith(".zst"):
        data = subprocess.run(["zstd", "-q", "-d", "-c", fn], check=True, stdout=subprocess.PIPE).stdout
    else:
        data = open(fn, "rb").read()
    s = summarise(data)
    print("%s (%d bytes)" % (fn, len(data)))
    for k, v in s.items():
        if k == "records":
            for rk, rv in sorted(v.items()):
                print("  %-36s %d" % (rk, rv))
        else:
            print("  %-20s %r" % (k, v))
