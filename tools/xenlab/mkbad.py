#!/usr/bin/env python3
"""Describe hand-corrupted variants of a real `xl save` stream, as patch specs that dom0 applies
(so only one corrupted 128 MiB copy exists in dom0's RAM at a time).

usage: mkbad.py BASE.xl OUTDIR [BASE2.xl ...]
Each spec OUTDIR/<name>.bad has lines:
  base <file name in /in/streams>
  truncate <length>            (optional)
  poke <offset> <hex bytes>    (zero or more)
  # comment lines describe the corruption
Also prints a TSV: name, base, description.
"""
import os, struct, sys

def walk(data):
    """Return (layout dict, list of libxc records (type, offset, length))."""
    assert data[:32] == b"Xen saved domain, xl format\n \0 \r", "not an xl save file"
    optlen = struct.unpack_from("<I", data, 44)[0]
    lx = 48 + optlen
    assert data[lx:lx + 8] == b"LibxlFmt", "no libxl header"
    off = lx + 16
    rtype, rlen = struct.unpack_from("<II", data, off)
    assert rtype == 1, "first libxl record is not LIBXC_CONTEXT"
    ih = off + 8
    dh = ih + 24
    off = dh + 16
    recs = []
    while off + 8 <= len(data):
        t, l = struct.unpack_from("<II", data, off)
        recs.append((t, off, l))
        off += 8 + l + ((8 - l % 8) % 8)
        if t == 0:
            break
    return dict(libxl=lx, ihdr=ih, dhdr=dh, libxc_end=off), recs

def specs(base_name, data):
    lay, recs = walk(data)
    first = {}
    for t, o, l in recs:
        first.setdefault(t, (o, l))
    out = []
    n = len(data)
    pre = base_name.rsplit(".", 1)[0]
    out.append((pre + "-trunc-half", "truncated to half its length", [("truncate", n // 2)]))
    out.append((pre + "-trunc-hdr", "truncated inside the libxc domain header", [("truncate", lay["dhdr"] + 8)]))
    out.append((pre + "-trunc-end", "last 8 bytes (libxl END record) missing", [("truncate", n - 8)]))
    out.append((pre + "-libxc-version", "libxc image header version 3 -> 9", [("poke", lay["ihdr"] + 12, struct.pack(">I", 9))]))
    out.append((pre + "-libxc-marker", "libxc image marker first byte 0xFF -> 0x00", [("poke", lay["ihdr"], b"\0")]))
    out.append((pre + "-libxl-version", "libxl header version 2 -> 3", [("poke", lay["libxl"] + 8, struct.pack(">I", 3))]))
    dtype = struct.unpack_from("<I", data, lay["dhdr"])[0]
    out.append((pre + "-dtype-swap", "domain header type %d -> %d (PV/HVM mismatch)" % (dtype, 3 - dtype),
                [("poke", lay["dhdr"], struct.pack("<I", 3 - dtype))]))
    out.append((pre + "-page-shift", "domain header page_shift 12 -> 13", [("poke", lay["dhdr"] + 4, struct.pack("<H", 13))]))
    if 0x08 in first:
        o, l = first[0x08]
        out.append((pre + "-unknown-mandatory", "X86_TSC_INFO record type 0x08 -> 0x7f (unknown mandatory record)",
                    [("poke", o, struct.pack("<I", 0x7F))]))
    if 0x01 in first:
        o, l = first[0x01]
        out.append((pre + "-reclen-huge", "first PAGE_DATA length -> 0x08000008 (> REC_LENGTH_MAX 128 MiB)",
                    [("poke", o + 4, struct.pack("<I", 0x08000008))]))
        word = struct.unpack_from("<Q", data, o + 16)[0]
        out.append((pre + "-pfn-type5", "first PAGE_DATA pfn word type -> 5 (invalid)",
                    [("poke", o + 16, struct.pack("<Q", (word & ((1 << 60) - 1)) | (5 << 60)))]))
    if 0x10 in first:
        o, l = first[0x10]
        out.append((pre + "-no-static-end", "STATIC_DATA_END record type 0x10 -> 0x8000ffff (skipped optional)",
                    [("poke", o, struct.pack("<I", 0x8000FFFF))]))
    return out

def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    for base in [sys.argv[1]] + sys.argv[3:]:
        data = open(base, "rb").read()
        bn = os.path.basename(base)
        for name, desc, ops in specs(bn, data):
            with open(os.path.join(outdir, name + ".bad"), "w") as f:
                f.write("# %s\nbase %s\n" % (desc, bn))
                for op in ops:
                    if op[0] == "truncate":
                        f.write("truncate %d\n" % op[1])
                    else:
                        f.write("poke %d %s\n" % (op[1], op[2].hex()))
            print("%s\t%s\t%s" % (name, bn, desc))

main()
