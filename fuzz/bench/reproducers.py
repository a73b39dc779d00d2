#!/usr/bin/env python3
"""Writes the planted bugs' reproducers (fuzz/bench/repro/Bnn.bin) from the seed corpora that --make-seeds writes.

  python3 fuzz/bench/reproducers.py SEEDS_DIR [OUT_DIR]

Each reproducer is a seed changed in a few bytes or records, the way a fuzzer would have to change it; tools/fuzz/
bugbench.sh check proves that each one fails with its bug on and is handled with it off. They are committed, so this
script is only needed when the seeds change shape.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "mutators"))
import xen_mutator as xm  # noqa: E402
from xen_mutator import Rec  # noqa: E402


def seed(seeds, family, name):
    with open(os.path.join(seeds, family, name), "rb") as f:
        return f.read()


def first(segs, layer_prefix, rtype, nth=0):
    hits = [i for i, s in enumerate(segs) if isinstance(s, Rec) and s.layer.startswith(layer_prefix) and s.type == rtype]
    if len(hits) <= nth:
        raise SystemExit(f"no record {rtype:#x} (#{nth}) in layer {layer_prefix}")
    return hits[nth]


def set_body(rec, offset, data):
    b = bytearray(rec.body)
    b[offset:offset + len(data)] = data
    rec.body = bytes(b)


def find_chunk(buf, chunk_id, nth=0, after=b"", check=None):
    """Offset of the nth legacy chunk id followed by `after` and passing `check(offset)`."""
    pat = struct.pack("<i", chunk_id) + after
    hits, at = [], 0
    while True:
        at = buf.find(pat, at)
        if at < 0:
            break
        if check is None or check(at):
            hits.append(at)
        at += 1
    if len(hits) <= nth:
        raise SystemExit(f"no legacy chunk {chunk_id} (#{nth})")
    return hits[nth]


def tsc_ok(buf):
    # TSC_INFO chunk: id, mode u32, nsec u64, khz u32, incarnation u32 (khz of the synthetic images: 1-4 GHz)
    return lambda at: 1_000_000 <= struct.unpack_from("<I", buf, at + 16)[0] <= 4_000_000


def capture_chunks(buf):
    at, out = 32, []
    while at + 36 <= len(buf):
        length = struct.unpack_from("<i", buf, at + 8)[0]
        out.append((at, buf[at + 4], length))
        at += 32 + length + 4
    return out


def make(seeds):
    r = {}
    # B01 reader-libxc: image header bytes 21, 22
    b = bytearray(seed(seeds, "libxc", LIBXC_HVM))
    b[21], b[22] = 0x5A, 0x7E
    r[1] = bytes(b)
    # B02 reader-libxc: TSC_INFO length 128 MiB
    segs = xm.parse(seed(seeds, "libxc", LIBXC_HVM))
    segs[first(segs, "libxc", xm.TSC)].length = 0x08000000
    r[2] = xm.serialize(segs)
    # B03 reader-libxl: a 9-byte libxl record (7 padding bytes)
    segs = xm.parse(seed(seeds, "libxl", LIBXL_HVM))
    segs.insert(1, Rec("libxl", xm.L_XS_DATA, b"a\x00b\x00c\x00d\x00\x00"))
    r[3] = xm.serialize(segs)
    # B04 verifier-postcopy: POSTCOPY_COMPLETE then POSTCOPY_PAGE_DATA in the libxc layer
    segs = xm.parse(seed(seeds, "postcopy", POSTCOPY))
    i = first(segs, "libxc", xm.PAGE_DATA)
    segs[i + 1:i + 1] = [Rec(segs[i].layer, 0x16, b""), Rec(segs[i].layer, 0x14, segs[i].body)]
    r[4] = xm.serialize(segs)
    # B05 verifier-strict: TSC_INFO reserved bytes a5 3c
    segs = xm.parse(seed(seeds, "libxc", LIBXC_HVM))
    set_body(segs[first(segs, "libxc", xm.TSC)], 20, b"\xa5\x3c")
    r[5] = xm.serialize(segs)
    # B06 verifier-xen: HVM_PARAMS reserved = 0x54381286
    segs = xm.parse(seed(seeds, "libxc", LIBXC_HVM))
    set_body(segs[first(segs, "libxc", xm.HVM_PARAMS)], 4, struct.pack("<I", 0x54381286))
    r[6] = xm.serialize(segs)
    # B07 verifier-strict: PAGE_DATA count 1025
    segs = xm.parse(seed(seeds, "libxc", LIBXC_HVM))
    set_body(segs[first(segs, "libxc", xm.PAGE_DATA)], 0, struct.pack("<I", 1025))
    r[7] = xm.serialize(segs)
    # B08 verifier-strict: an X86_MSR_POLICY entry for EFER with flags 1
    segs = xm.parse(seed(seeds, "libxc", LIBXC_HVM))
    i = first(segs, "libxc", xm.PAGE_DATA)
    segs.insert(i, Rec(segs[i].layer, xm.MSR, struct.pack("<IIQ", 0xC0000080, 1, 0)))
    r[8] = xm.serialize(segs)
    # B09 verifier-xen: libxl CHECKPOINT_END then CHECKPOINT_STATE(2)
    segs = xm.parse(seed(seeds, "libxl", LIBXL_HVM))
    segs[1:1] = [Rec("libxl", xm.L_CHECKPOINT_END, b""), Rec("libxl", xm.L_CHECKPOINT_STATE, struct.pack("<I", 2))]
    r[9] = xm.serialize(segs)
    # B10 reader-legacy: LAST_CHECKPOINT before TSC_INFO, mode 3
    b = bytearray(seed(seeds, "legacy", "legacy-pv64-guest64.bin"))
    at = find_chunk(b, -7, check=tsc_ok(b))
    b[at + 4:at + 8] = struct.pack("<I", 3)
    b[at:at] = struct.pack("<i", -9)
    r[10] = bytes(b)
    # B11 reader-legacy: a page batch of 1025 at a chunk boundary
    b = bytearray(seed(seeds, "legacy", "legacy-pv64-guest64.bin"))
    at = find_chunk(b, -7, check=tsc_ok(b))
    b[at:at] = struct.pack("<i", 1025)
    r[11] = bytes(b)
    # B12 reader-legacy: xcnt xsave length 256 MiB
    b = bytearray(seed(seeds, "legacy", "legacy-pv64-guest64.bin"))
    at = b.find(b"xcnt")
    b[at + 8:at + 12] = struct.pack("<I", 0x10000000)
    r[12] = bytes(b)
    # B13 legacy-converter: khz 0 in a later checkpoint's TSC_INFO
    b = bytearray(seed(seeds, "legacy", "legacy-hvm64-remus.bin"))
    at = find_chunk(b, -7, check=lambda a: struct.unpack_from("<I", b, a + 16)[0] == 2_000_000)
    b[at + 16:at + 20] = struct.pack("<I", 0)
    r[13] = bytes(b)
    # B14 legacy-converter: an HVM-param chunk (-3, HVM_IDENT_PT) with pad 0x1badb002
    b = bytearray(seed(seeds, "legacy", "legacy-hvm64.bin"))
    at = find_chunk(b, -3, after=b"\x00\x00\x00\x00")
    b[at + 4:at + 8] = struct.pack("<I", 0x1BADB002)
    r[14] = bytes(b)
    # B15 legacy-converter: toolstack chunk of 256 MiB
    b = bytearray(seed(seeds, "legacy", "legacy-hvm64-toolstack.bin"))
    at = find_chunk(b, -18)
    b[at + 4:at + 8] = struct.pack("<I", 0x10000000)
    r[15] = bytes(b)
    # B16 restore-engine: two bare-libxc CHECKPOINTs back to back
    segs = xm.parse(seed(seeds, "engine", ENGINE_LIBXC_CP))
    i = first(segs, "libxc", xm.CHECKPOINT)
    segs.insert(i + 1, Rec(segs[i].layer, xm.CHECKPOINT, b""))
    r[16] = xm.serialize(segs)
    # B17 restore-engine: CHECKPOINT, VERIFY, CHECKPOINT ... END
    segs = xm.parse(seed(seeds, "engine", ENGINE_LIBXC_CP))
    i = first(segs, "libxc", xm.CHECKPOINT)
    segs[i + 1:i + 1] = [Rec(segs[i].layer, xm.VERIFY, b""), Rec(segs[i].layer, xm.CHECKPOINT, b"")]
    r[17] = xm.serialize(segs)
    # B18 restore-engine: PV vCPU record for vcpu_id == max_vcpus (2)
    segs = xm.parse(seed(seeds, "engine", ENGINE_PV))
    set_body(segs[first(segs, "libxc", xm.VCPU_BASIC)], 0, struct.pack("<I", 2))
    r[18] = xm.serialize(segs)
    # B19 capture: an index entry whose offset + length overflows
    b = bytearray(seed(seeds, "capture", CAPTURE))
    at = next(a + 32 + e for a, t, n in capture_chunks(b) if t == 3 for e in range(0, n, 24) if b[a + 32 + e + 20] == 5)  # Kind = Record
    struct.pack_into("<qq", b, at, 0x7000000000000000, 0x7000000000000000)
    r[19] = bytes(b)
    # B20 capture: a metadata chunk cut after its key (no room for the value length)
    b = bytearray(seed(seeds, "capture", CAPTURE))
    at, _, n = capture_chunks(b)[0]
    payload = struct.pack("<H", 6) + b"source" + b"\x01\x00"
    chunk = bytearray(b[at:at + 32]) + payload + b"\x00\x00\x00\x00"
    struct.pack_into("<i", chunk, 8, len(payload))
    r[20] = bytes(b[:at]) + bytes(chunk) + bytes(b[at + 32 + n + 4:])
    return r


LIBXC_HVM = os.environ.get("REPRO_LIBXC", "libxc-hvm-v3.bin")
LIBXL_HVM = os.environ.get("REPRO_LIBXL", "libxl-hvm-v3.bin")
POSTCOPY = os.environ.get("REPRO_POSTCOPY", "")
ENGINE_LIBXC_CP = "save-pv-libxc-checkpointed.bin"
ENGINE_PV = "save-pv-libxc-plain.bin"
CAPTURE = "capture-libxc-hvm.bin"


def main(argv):
    global POSTCOPY
    seeds = argv[0]
    out = argv[1] if len(argv) > 1 else os.path.join(HERE, "repro")
    if not POSTCOPY:
        POSTCOPY = sorted(n for n in os.listdir(os.path.join(seeds, "postcopy")) if "back-channel" not in n)[0]
    os.makedirs(out, exist_ok=True)
    for bug, data in sorted(make(seeds).items()):
        with open(os.path.join(out, f"B{bug:02}.bin"), "wb") as f:
            f.write(data)
        print(f"B{bug:02}: {len(data)} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
