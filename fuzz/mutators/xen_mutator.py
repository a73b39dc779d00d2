"""Structure-aware AFL++ custom mutator for Xen save/migration streams (docs/FUZZING.md).

Loaded by afl-fuzz with ``PYTHONPATH=fuzz/mutators AFL_PYTHON_MODULE=xen_mutator`` (AFL++ built with Python
support, as Debian's is). It parses the input into the xl header, the libxl header, the libxc image and domain
headers and the 8-octet-aligned records of every layer (following the layer switches: LIBXC_CONTEXT, libxc END,
CHECKPOINT / CHECKPOINT_END), mutates at record level, and writes the stream back with consistent framing unless a
mutation breaks the framing on purpose:

  drop, duplicate, move or swap records; resize a body; retype a record; rewrite a length field alone; bad padding;
  split a checkpoint (insert CHECKPOINT [+ CHECKPOINT_END]) or merge two (remove them); insert a record built from a
  template (PAGE_DATA with chosen page types, X86_PV_INFO, P2M_FRAMES, TSC_INFO, HVM_PARAMS, CPUID/MSR policies,
  HVM_CONTEXT, EMULATOR_*, CHECKPOINT_STATE, END...); change a field inside a known body or header (PAGE_DATA count
  and pfn type nibbles, widths, levels, pfn ranges, versions, options, page_shift, emulator ids, xl flags and optional
  length); splice records from a second queue entry; cut the stream at or inside a record; append trailing bytes or
  xl migrate messages; repeat a record or a whole checkpoint right after itself; and, on the fields of headers and
  records (every byte of a small body, the first 64 of a large one, PAGE_DATA's header and pfn words, never page
  contents): write a compared constant (the instrumenter's --dict, multi-byte and single bytes), set one byte, or write
  a boundary value (a value the stream states elsewhere +-1, 64-bit values near 2^64). Legacy (pre-v2) images get
  chunk-level mutations: template chunks inserted and chunks repeated or dropped at the chunk boundaries the image
  has (at any byte offset; kind first), chunk fields written at their offsets and widths, chunk ids and batch counts
  at 4-octet boundaries, 4/4096-octet aligned copies and cuts.
  Capture files get chunk-level mutations (index entries with offsets and lengths near the limits, entries and chunks
  duplicated, dropped, swapped; chunk header and payload fields; a data chunk's stream bytes), lengths and sequence
  numbers kept consistent.

afl-fuzz runs these mutations in its custom-mutator stage, then its own byte-level havoc as usual (unless
AFL_CUSTOM_MUTATOR_ONLY is set). An entry afl-fuzz kept from a mutant of this mutator is mutated at once, near its
change (queue_new_entry), not when afl-fuzz's schedule comes to it. Run as a script, it is an offline corpus expander instead:

  python3 fuzz/mutators/xen_mutator.py --expand IN_DIR OUT_DIR [-n 20] [--seed 1]
  python3 fuzz/mutators/xen_mutator.py --self-test     (the properties fuzz/StreamBench.Fuzz.Tests checks)
"""

import os
import random
import struct
import sys
import zlib

XL_MAGIC = b"Xen saved domain, xl format\n \x00 \r"
LIBXL_IDENT = b"LibxlFmt"
LIBXC_MARKER = b"\xff" * 8
XENF = b"XENF"

# libxc record types (upstream) and the RFC's; libxl types.
LIBXC_TYPES = list(range(0x00, 0x13)) + [0x13, 0x14, 0x15, 0x16]
LIBXL_TYPES = [0, 1, 2, 3, 4, 5, 6]
END, PAGE_DATA, PV_INFO, P2M, VCPU_BASIC, VCPU_EXT, VCPU_XSAVE, SHARED_INFO, TSC, HVM_CONTEXT, HVM_PARAMS = range(11)
TOOLSTACK, VCPU_MSRS, VERIFY, CHECKPOINT, DIRTY_PFN, STATIC_END, CPUID, MSR = range(0x0B, 0x13)
L_END, L_LIBXC_CONTEXT, L_XS_DATA, L_EMU_CONTEXT, L_CHECKPOINT_END, L_CHECKPOINT_STATE = range(6)

INTERESTING_LENGTHS = [0, 1, 4, 7, 8, 9, 15, 16, 24, 4095, 4096, 4097, 0x7FF, 0x1000000,
                       0x08000000, 0x08000001, 0x00800000, 0x00800001, 0x7FFFFFFF, 0x80000000,
                       0xFFFFFFF8, 0xFFFFFFFF]
INTERESTING_U32 = [0, 1, 2, 3, 4, 5, 7, 8, 0xFF, 0x100, 0x3FF, 0x400, 0x401, 0x7FFF, 0x8000, 0xFFFF,
                   0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]
LEGACY_CHUNK_IDS = [0, 1, 2, 1023, 1024, 1025] + [-i for i in range(1, 22)] + [-0x7FFFFFFF - 1]
MIGRATE_MESSAGES = [b"domain is yours, you are cleared to unpause\x00",
                    b"xl migration receiver ready, send binary domain data.\n",
                    b"domain received, ready to unpause\x00",
                    b"my copy unpause results are as follows\x00\x00"]

_rng = random.Random(0)


class Rec:
    __slots__ = ("layer", "type", "body", "pad", "length")

    def __init__(self, layer, rtype, body, pad=None, length=None):
        self.layer = layer
        self.type = rtype
        self.body = bytes(body)
        self.pad = pad          # None: zero padding of the right size
        self.length = length    # None: len(body)

    def copy(self):
        return Rec(self.layer, self.type, self.body, self.pad, self.length)

    def serialize(self):
        return b"".join(self.parts())

    def parts(self):
        """Header, body and padding, unjoined (serialize() of a whole stream joins every record's parts once)."""
        n = len(self.body)
        length = n if self.length is None else self.length
        pad = _ZERO_PADS[n & 7] if self.pad is None else self.pad
        return (_REC_HEADER.pack(self.type & 0xFFFFFFFF, length & 0xFFFFFFFF), self.body, pad)


class Raw:
    __slots__ = ("kind", "data")

    def __init__(self, kind, data):
        self.kind = kind        # "xl", "libxl", "libxc", "tail", "legacy"
        self.data = bytearray(data)

    def copy(self):
        return Raw(self.kind, self.data)

    def serialize(self):
        return bytes(self.data)

    def parts(self):
        return (self.data,)


_REC_HEADER = struct.Struct("<II")
_ZERO_PADS = [bytes((8 - k) % 8) for k in range(8)]


def parse(buf):
    """Splits a stream into Raw headers and Rec records. Unparseable rest becomes a Raw tail."""
    segs = []
    n = len(buf)
    pos = 0
    if buf[:32] == XL_MAGIC and n >= 48:
        optlen = struct.unpack_from("<I", buf, 44)[0]
        end = min(n, 48 + optlen)
        segs.append(Raw("xl", buf[:end]))
        pos = end
    if buf[pos:pos + 8] == LIBXL_IDENT:
        segs.append(Raw("libxl", buf[pos:pos + 16]))
        pos += 16
        layer = "libxl"
    elif buf[pos:pos + 8] == LIBXC_MARKER and buf[pos + 8:pos + 12] == XENF:
        segs.append(Raw("libxc", buf[pos:pos + 40]))
        pos += 40
        layer = "libxc-bare"
    elif pos == 0 and not looks_like_records(buf):
        return [Raw("legacy", buf)]
    else:
        layer = "libxc-bare" if pos > 0 else "back"
    tail = False
    while pos + 8 <= n and not tail:
        rtype, length = struct.unpack_from("<II", buf, pos)
        end = pos + 8 + length
        padded = end + (8 - length % 8) % 8
        if padded > n:
            break
        segs.append(Rec(layer, rtype, buf[pos + 8:end], None if not any(buf[end:padded]) else bytes(buf[end:padded])))
        pos = padded
        if layer == "libxl":
            if rtype == L_LIBXC_CONTEXT:
                if buf[pos:pos + 8] == LIBXC_MARKER:
                    segs.append(Raw("libxc", buf[pos:pos + 40]))
                    pos += 40
                layer = "libxc"
            elif rtype == L_CHECKPOINT_END:
                layer = "libxc"
            elif rtype == L_END:
                tail = True
        elif layer == "libxc":
            if rtype in (END, CHECKPOINT):
                layer = "libxl"
        elif layer == "libxc-bare" and rtype == END:
            tail = True
    if pos < n:
        segs.append(Raw("tail", buf[pos:]))
    return segs


def looks_like_records(buf):
    """A bare back channel: a plausible record header at offset 0."""
    if len(buf) < 8:
        return False
    rtype, length = struct.unpack_from("<II", buf, 0)
    return rtype in (L_CHECKPOINT_STATE, DIRTY_PFN, 0x15, 0x16) and length <= len(buf)


def serialize(segs):
    return b"".join([p for s in segs for p in s.parts()])


def records(segs):
    return [i for i, s in enumerate(segs) if isinstance(s, Rec)]


# ---- record templates -----------------------------------------------------------------------------------------

def page_word(pfn, ptype):
    return ((ptype & 0xF) << 60) | (pfn & ((1 << 52) - 1))


def make_page_data(rng):
    count = rng.choice([1, 1, 2, 3, 8, 0, 1024, 1025])
    count = min(count, 64) if rng.random() < 0.9 else count
    words = []
    pages = 0
    for i in range(count):
        ptype = rng.choice([0, 0, 0, 1, 2, 3, 4, 5, 8, 9, 0xC, 0xD, 0xE, 0xF, 0xF])
        pfn = rng.choice([i, rng.randrange(1 << 20), (1 << 52) - 1, 0])
        w = page_word(pfn, ptype)
        if rng.random() < 0.05:
            w |= 1 << rng.randrange(52, 60)
        words.append(w)
        if (ptype & 7) <= 4 and not 5 <= ptype <= 8:
            pages += 1
    pages = min(pages, 4) if rng.random() < 0.7 else pages
    body = struct.pack("<II", count, 0) + b"".join(struct.pack("<Q", w) for w in words)
    return body + bytes([rng.randrange(256)]) * (4096 * min(pages, 8))


def make_body(layer, rtype, rng):
    if layer == "libxl":
        if rtype in (L_XS_DATA, L_EMU_CONTEXT):
            hdr = struct.pack("<II", rng.choice([0, 1, 2, 3, 0xFFFFFFFF]), rng.choice([0, 1, 7]))
            if rtype == L_XS_DATA:
                return hdr + rng.choice([b"", b"physmap/1/name\x00vga\x00", b"k\x00", b"a\x00b\x00c\x00"])
            return hdr + b"QEVM" + struct.pack(">I", 3) + bytes(rng.randrange(0, 64))
        if rtype == L_CHECKPOINT_STATE:
            return struct.pack("<I", rng.randrange(5))[:rng.choice([4, 4, 4, 0, 1, 3])]
        return b""
    if rtype == PAGE_DATA or rtype == 0x14:
        return make_page_data(rng)
    if rtype == 0x12 and rng.random() < 0.3 or rtype == 0x15:  # RFC POSTCOPY_PFNS / FAULT: pfn list without pages
        count = rng.choice([0, 1, 2, 5])
        return struct.pack("<II", count, 0) + b"".join(struct.pack("<Q", page_word(rng.randrange(64), 0)) for _ in range(count))
    if rtype == PV_INFO:
        return struct.pack("<BB6x", rng.choice([8, 4, 0, 2, 16]), rng.choice([4, 3, 2, 5]))
    if rtype == P2M:
        start = rng.choice([0, 1, 511, 512, 0xFFFFFFFF])
        end = rng.choice([start, start + 511, start + 512, 0, 0xFFFFFFFF]) & 0xFFFFFFFF
        frames = rng.choice([1, 2, 3, 0])
        return struct.pack("<II", start, end) + b"".join(struct.pack("<Q", rng.randrange(1 << 20)) for _ in range(frames))
    if rtype in (VCPU_BASIC, VCPU_EXT, VCPU_XSAVE, VCPU_MSRS):
        size = {VCPU_BASIC: rng.choice([5168, 2800, 0]), VCPU_EXT: rng.choice([128, 0, 129]),
                VCPU_XSAVE: rng.choice([16, 64, 8]), VCPU_MSRS: rng.choice([16, 32, 17])}[rtype]
        return struct.pack("<II", rng.choice([0, 1, 127, 0xFFFFFFFF]), 0) + bytes(size)
    if rtype == SHARED_INFO:
        return bytes(rng.choice([4096, 4096, 4095, 4097]))
    if rtype == TSC:
        return struct.pack("<IIQII", rng.randrange(4), rng.choice([0, 1000000, 0xFFFFFFFF]), rng.randrange(1 << 40), 1, rng.choice([0, 0, 1]))
    if rtype == HVM_PARAMS:
        count = rng.choice([0, 1, 2, 3])
        body = struct.pack("<II", count, 0)
        for _ in range(count):
            body += struct.pack("<QQ", rng.choice([1, 5, 6, 12, 17, 19, 27, 32, 33, 34, 0xFF]), rng.randrange(1 << 20))
        return body
    if rtype == HVM_CONTEXT:
        hdr = struct.pack("<HHI", 1, 0, 24) + struct.pack("<IIQII", 0x54381286, 1, 0, 0, 0)
        return rng.choice([hdr + struct.pack("<HHI", 0, 0, 0), hdr, b"\x01", hdr[:12]])
    if rtype == CPUID:
        return bytes(24 * rng.choice([1, 2, 0])) + bytes(rng.choice([0, 0, 1]))
    if rtype == MSR:
        return bytes(16 * rng.choice([1, 2, 0])) + bytes(rng.choice([0, 0, 8]))
    if rtype == DIRTY_PFN:
        return b"".join(struct.pack("<Q", rng.randrange(1 << 20)) for _ in range(rng.choice([0, 1, 3])))
    return b""


def libxc_headers(rng):
    ihdr = LIBXC_MARKER + XENF + struct.pack(">IHHI", rng.choice([3, 3, 2, 1, 4]), rng.choice([0, 0, 1, 2]), 0, 0)
    dhdr = struct.pack("<IHHII", rng.choice([1, 2, 2, 0, 3]), rng.choice([12, 12, 13]), 0, rng.choice([4, 0]), rng.choice([17, 1]))
    return ihdr + dhdr


# ---- mutations ------------------------------------------------------------------------------------------------

def m_drop(segs, add, rng):
    idx = records(segs)
    if idx:
        del segs[rng.choice(idx)]
        return True
    return False


def m_duplicate(segs, add, rng):
    idx = records(segs)
    if not idx:
        return False
    i = rng.choice(idx)
    segs.insert(rng.choice([i + 1, rng.choice(idx)]), segs[i].copy())
    return True


def m_move(segs, add, rng):
    idx = records(segs)
    if len(idx) < 2:
        return False
    a, b = rng.sample(idx, 2)
    if rng.random() < 0.5:
        segs[a], segs[b] = segs[b], segs[a]
    else:
        s = segs.pop(a)
        segs.insert(b, s)
    return True


def m_resize(segs, add, rng):
    idx = records(segs)
    if not idx:
        return False
    r = segs[rng.choice(idx)]
    n = len(r.body)
    choice = rng.randrange(5)
    if choice == 0 and n:
        r.body = r.body[:rng.randrange(n)]
    elif choice == 1:
        r.body = r.body[:n & ~7] if n & 7 else r.body[:max(0, n - 8)]
    elif choice == 2:
        r.body += bytes(rng.choice([1, 4, 8, 16, 24, 4096]))
    elif choice == 3:
        r.body += bytes(rng.randrange(256) for _ in range(rng.choice([1, 3, 8])))
    else:
        r.body = r.body + r.body[:rng.choice([8, 16, 4096])]
    return True


def m_retype(segs, add, rng):
    idx = records(segs)
    if not idx:
        return False
    r = segs[rng.choice(idx)]
    choice = rng.randrange(4)
    if choice == 0:
        r.type = rng.choice(LIBXL_TYPES if r.layer == "libxl" else LIBXC_TYPES)
    elif choice == 1:
        r.type = rng.choice(LIBXC_TYPES if r.layer == "libxl" else LIBXL_TYPES)
    elif choice == 2:
        r.type |= 0x80000000
    else:
        r.type = rng.choice(INTERESTING_U32)
    return True


def m_length_field(segs, add, rng):
    idx = records(segs)
    if not idx:
        return False
    r = segs[rng.choice(idx)]
    n = len(r.body)
    r.length = rng.choice(INTERESTING_LENGTHS + [n + 1, n - 1, n + 8, n - 8, n + 4096, n * 2, rng.randrange(1 << 32)]) & 0xFFFFFFFF
    return True


def m_padding(segs, add, rng):
    idx = records(segs)
    if not idx:
        return False
    r = segs[rng.choice(idx)]
    want = (8 - len(r.body) % 8) % 8
    choice = rng.randrange(3)
    if choice == 0 and want:
        p = bytearray(want)
        p[rng.randrange(want)] = rng.randrange(1, 256)
        r.pad = bytes(p)
    elif choice == 1:
        r.pad = b""
    else:
        r.pad = bytes(rng.randrange(1, 8))
    return True


def m_split_checkpoint(segs, add, rng):
    idx = [i for i in records(segs) if segs[i].layer != "libxl"]
    if not idx:
        return False
    at = rng.choice(idx) + 1
    layer = segs[at - 1].layer
    ins = [Rec(layer, CHECKPOINT, b"")]
    if layer == "libxc" or rng.random() < 0.2:
        if rng.random() < 0.5:
            ins.append(Rec("libxl", L_EMU_CONTEXT, make_body("libxl", L_EMU_CONTEXT, rng)))
        ins.append(Rec("libxl", L_CHECKPOINT_END, b""))
        if rng.random() < 0.3:
            ins.append(Rec("libxl", L_CHECKPOINT_STATE, make_body("libxl", L_CHECKPOINT_STATE, rng)))
    segs[at:at] = ins
    return True


def m_merge_checkpoints(segs, add, rng):
    idx = [i for i in records(segs) if segs[i].type == CHECKPOINT and segs[i].layer != "libxl"]
    if not idx:
        return False
    i = rng.choice(idx)
    del segs[i]
    # The CHECKPOINT_END closing it, if any.
    for j in range(i, min(len(segs), i + 4)):
        if isinstance(segs[j], Rec) and segs[j].layer == "libxl" and segs[j].type == L_CHECKPOINT_END:
            del segs[j]
            break
    return True


def m_insert(segs, add, rng):
    idx = records(segs)
    at = rng.choice(idx) + rng.randrange(2) if idx else len(segs)
    layer = segs[at - 1].layer if 0 < at <= len(segs) and isinstance(segs[at - 1], Rec) else "libxc"
    if rng.random() < 0.15:
        layer = "libxl" if layer != "libxl" else "libxc"
    if layer == "libxl":
        rtype = rng.choice(LIBXL_TYPES)
        segs.insert(at, Rec(layer, rtype, make_body(layer, rtype, rng)))
        if rtype == L_LIBXC_CONTEXT and rng.random() < 0.8:
            segs.insert(at + 1, Raw("libxc", libxc_headers(rng)))
    else:
        rtype = rng.choice(LIBXC_TYPES + [PAGE_DATA] * 3)
        segs.insert(at, Rec(layer, rtype, make_body(layer, rtype, rng)))
    return True


def m_field(segs, add, rng):
    """A field inside a known body, or a header field."""
    idx = records(segs)
    heads = [s for s in segs if isinstance(s, Raw) and s.kind in ("xl", "libxl", "libxc")]
    if heads and (not idx or rng.random() < 0.25):
        h = rng.choice(heads)
        d = h.data
        if h.kind == "xl" and len(d) >= 48:
            off = rng.choice([32, 36, 40, 44])
            val = rng.choice([0, 1, 2, 3, 4, 0x01020304, 0x04030201, 0xFFFFFFFF, len(d) - 48 + rng.choice([-1, 1, 8, 4096])])
            struct.pack_into("<I", d, off, val & 0xFFFFFFFF)
        elif h.kind == "libxl" and len(d) >= 16:
            off = rng.choice([8, 12])
            struct.pack_into(">I", d, off, rng.choice([0, 1, 2, 3, 0x10000, 0xFFFC, 0xFFFFFFFF]))
        elif h.kind == "libxc" and len(d) >= 40:
            which = rng.randrange(7)
            if which == 0:
                struct.pack_into(">I", d, 12, rng.choice([0, 1, 2, 3, 4, 0xFFFFFFFF]))
            elif which == 1:
                struct.pack_into(">H", d, 16, rng.choice([0, 1, 2, 0x8000]))
            elif which == 2:
                struct.pack_into(">H", d, 18, rng.choice([0, 1]))
            elif which == 3:
                struct.pack_into("<I", d, 24, rng.choice([0, 1, 2, 3, 4, 0xFFFFFFFF]))
            elif which == 4:
                struct.pack_into("<H", d, 28, rng.choice([0, 11, 12, 13, 21, 0xFFFF]))
            elif which == 5:
                struct.pack_into("<H", d, 30, rng.choice([0, 1]))
            else:
                struct.pack_into("<II", d, 32, rng.choice([0, 4, 0xFFFFFFFF]), rng.choice([0, 1, 17]))
        return True
    if not idx:
        return False
    r = segs[rng.choice(idx)]
    b = bytearray(r.body)
    t = r.type
    if r.layer != "libxl" and t in (PAGE_DATA, 0x14, 0x12, 0x15) and len(b) >= 8:
        if rng.random() < 0.4:
            struct.pack_into("<I", b, 0, rng.choice([0, 1, 2, 1024, 1025, 0xFFFFFFFF, struct.unpack_from("<I", b, 0)[0] + rng.choice([-1, 1])]) & 0xFFFFFFFF)
        elif len(b) >= 16:
            k = rng.randrange((len(b) - 8) // 8 if len(b) < 8 + 8 * 1024 else 1024)
            off = 8 + 8 * k
            if off + 8 <= len(b):
                w = struct.unpack_from("<Q", b, off)[0]
                choice = rng.randrange(3)
                if choice == 0:
                    w = (w & ((1 << 60) - 1)) | (rng.randrange(16) << 60)
                elif choice == 1:
                    w |= 1 << rng.randrange(52, 60)
                else:
                    w = (w & ~((1 << 52) - 1)) | rng.choice([0, 1, 511, 512, (1 << 52) - 1, rng.randrange(1 << 32)])
                struct.pack_into("<Q", b, off, w & 0xFFFFFFFFFFFFFFFF)
            else:
                struct.pack_into("<I", b, 4, 1)
    elif r.layer != "libxl" and t == PV_INFO and len(b) >= 2:
        b[rng.randrange(2)] = rng.choice([0, 2, 3, 4, 5, 8, 16, 0xFF])
    elif r.layer != "libxl" and t == P2M and len(b) >= 8:
        struct.pack_into("<I", b, rng.choice([0, 4]), rng.choice(INTERESTING_U32))
    elif len(b) >= 4:
        span = min(len(b), 16) if rng.random() < 0.5 else min(len(b), SMALL_BODY)
        off = rng.randrange(0, span - 3) & ~3
        struct.pack_into("<I", b, off, rng.choice(INTERESTING_U32))
    else:
        return False
    r.body = bytes(b)
    return True


def m_splice(segs, add, rng):
    if not add:
        return False
    other = parse(bytes(add))
    idx = records(other)
    if not idx:
        return False
    a = rng.choice(idx)
    b = min(len(other), a + rng.choice([1, 1, 2, 4]))
    piece = [s.copy() for s in other[a:b]]
    mine = records(segs)
    at = rng.choice(mine) + 1 if mine else len(segs)
    segs[at:at] = piece
    return True


def m_cut(segs, add, rng):
    """Ends the stream at a record boundary (returned as a marker) or inside a record."""
    idx = records(segs)
    if not idx:
        return False
    i = rng.choice(idx)
    data = segs[i].serialize()
    keep = rng.choice([0, 0, 4, 8, 12, len(data) - 1, rng.randrange(len(data))])
    del segs[i + 1:]
    if keep == 0:
        del segs[i]
    else:
        segs[i] = Raw("tail", data[:keep])
    return True


def m_trailer(segs, add, rng):
    choice = rng.randrange(3)
    if choice == 0:
        segs.append(Raw("tail", rng.choice(MIGRATE_MESSAGES)))
    elif choice == 1:
        segs.append(Raw("tail", bytes(rng.randrange(256) for _ in range(rng.choice([1, 7, 8, 16])))))
    else:
        segs.append(Raw("tail", struct.pack("<II", rng.choice([0, 4, 5]), 0)))
    return True


def load_tokens(path):
    """The tokens of an AFL dictionary file (name="bytes" lines, \\xNN escapes), e.g. the compared-constants one."""
    tokens = []
    try:
        lines = open(path, encoding="ascii", errors="replace").read().splitlines()
    except OSError:
        return tokens
    for line in lines:
        line = line.strip()
        if "=" not in line or line.startswith("#"):
            continue
        value = line.split("=", 1)[1].strip()
        if len(value) < 2 or value[0] != '"' or value[-1] != '"':
            continue
        value, out, i = value[1:-1], bytearray(), 0
        while i < len(value):
            if value[i] == "\\" and i + 3 < len(value) and value[i + 1] == "x":
                out.append(int(value[i + 2:i + 4], 16))
                i += 4
            elif value[i] == "\\" and i + 1 < len(value):
                out.append(ord(value[i + 1]))
                i += 2
            else:
                out.append(ord(value[i]) & 0xFF)
                i += 1
        if 1 <= len(out) <= 8:
            tokens.append(bytes(out))
    return tokens


# The constants the instrumented code compares against (campaign.sh; the instrumenter's --dict): multi-byte ones
# (TOKENS) and the single bytes of one-byte comparisons (BYTE_TOKENS).
_ALL_TOKENS = load_tokens(os.environ["XEN_MUTATOR_DICT"]) if os.environ.get("XEN_MUTATOR_DICT") else []
TOKENS = [t for t in _ALL_TOKENS if len(t) >= 2]
BYTE_TOKENS = [t[0] for t in _ALL_TOKENS if len(t) == 1]

# Bodies up to this size are "small": every offset of them is a field worth writing (headers, policies, TSC_INFO,
# HVM_PARAMS, vCPU ids...); in a larger body only the first FIELD_HEAD bytes are (its header, its first entries).
SMALL_BODY = 256
FIELD_HEAD = 64

# Boundary values of 64-bit fields (offsets, lengths, pfns, counters): an offset + length near 2^64 overflows.
INTERESTING_U64 = [0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFF8, 0xFFFFFFFFFFFFF000, 0x8000000000000000, 0x7FFFFFFFFFFFFFFF,
                   0x100000000, 0xFFFFFFFF, 0x80000000]


def field_targets(segs):
    """The segments whose bytes are fields: the headers and every record, a small record or header twice as likely
    as a record with a large body (page data, vCPU blobs), so that field mutations land on fields."""
    out = []
    for i, s in enumerate(segs):
        if isinstance(s, Raw) and s.kind in ("xl", "libxl", "libxc"):
            out += [i, i]
        elif isinstance(s, Rec):
            out += [i, i] if len(s.body) <= SMALL_BODY else [i]
    return out


def field_span(seg):
    """How many leading bytes of a segment are fields (PAGE_DATA: its 8-byte header and pfn words, never the pages)."""
    data = seg.body if isinstance(seg, Rec) else seg.data
    if isinstance(seg, Rec) and seg.layer != "libxl" and seg.type in (PAGE_DATA, 0x14) and len(data) >= 8:
        count = struct.unpack_from("<I", data, 0)[0]
        return min(len(data), 8 + 8 * min(count, 64))
    return len(data) if len(data) <= SMALL_BODY else FIELD_HEAD


def pick_field(segs, rng):
    """A random header or record with fields: (segment, a mutable copy of its bytes, how many leading bytes are fields),
    or None when the input has none."""
    choices = field_targets(segs)
    if not choices:
        return None
    seg = segs[rng.choice(choices)]
    return seg, bytearray(seg.body if isinstance(seg, Rec) else seg.data), field_span(seg)


def store(seg, data):
    if isinstance(seg, Rec):
        seg.body = bytes(data)
    else:
        seg.data = bytearray(data)


def m_constant(segs, add, rng):
    """Writes a compared constant into a field: at an aligned offset of a header or of a record's fields (every offset
    of a small body, the first 64 bytes of a large one; PAGE_DATA: its header and pfn words, never the pages).
    Far likelier to land on the field than a byte-level dictionary insertion anywhere in the stream."""
    if not TOKENS and not BYTE_TOKENS:
        return False
    picked = pick_field(segs, rng)
    if picked is None:
        return False
    seg, data, limit = picked
    if BYTE_TOKENS and (not TOKENS or rng.random() < 0.3):
        if not limit:
            return False
        data[rng.randrange(limit)] = rng.choice(BYTE_TOKENS)
    else:
        tok = rng.choice(TOKENS)
        if limit < len(tok):
            return False
        align = 4 if len(tok) >= 4 else 2
        # Half the writes go to the first 16 bytes, where a body's ids, counts, flags and reserved words live.
        span = min(limit, 16) if rng.random() < 0.5 else limit
        off = (rng.randrange(max(1, span - len(tok) + 1)) // align) * align
        data[off:off + len(tok)] = tok
        if len(tok) == 4 and rng.random() < 0.2:
            # Entry-wise: the neighbouring field of the same entry too (an MSR policy entry's flags next to its index,
            # a param's value next to its id): a small value, since a check on a pair wants both.
            nb = off + rng.choice([4, 4, -4])
            if 0 <= nb and nb + 4 <= limit:
                struct.pack_into("<I", data, nb, rng.choice([0, 1, 1, 2, 3, 0xFFFFFFFF]))
    store(seg, data)
    return True


def m_byte(segs, add, rng):
    """One byte of a header or of a record's fields set to a compared byte, a neighbour value or any byte: the step a
    nested one-byte comparison (reserved bytes, flags, a version byte) rewards with a new edge, one byte at a time."""
    picked = pick_field(segs, rng)
    if picked is None:
        return False
    seg, data, limit = picked
    if not limit:
        return False
    off = rng.randrange(limit)
    x = rng.random()
    if BYTE_TOKENS and x < 0.4:
        data[off] = rng.choice(BYTE_TOKENS)
    elif x < 0.6:
        data[off] = (data[off] + rng.choice([1, -1, 2, -2])) & 0xFF
    else:
        data[off] = rng.randrange(256)
    store(seg, data)
    return True


def m_boundary(segs, add, rng):
    """A boundary value in an aligned field of a header or a record's fields: a count or an id at a limit the stream
    itself states (another field's value, +-1: count = max, id = max_vcpus), a 64-bit value near 2^64 (offset +
    length overflows), or an interesting 32-bit value. Offsets favour the first 16 bytes, where ids and counts live."""
    picked = pick_field(segs, rng)
    if picked is None:
        return False
    seg, data, limit = picked
    wide = rng.random() < 0.3
    size = 8 if wide else 4
    if limit < size:
        return False
    head = min(limit, 16) if rng.random() < 0.5 else limit
    off = (rng.randrange(max(1, head - size + 1)) // size) * size
    fmt = "<Q" if wide else "<I"
    mask = (1 << (8 * size)) - 1
    x = rng.random()
    if x < 0.4:
        # A value the stream states elsewhere (this or another field, record or header), then +-1.
        others = [t for t in field_targets(segs)]
        src = segs[rng.choice(others)]
        sd = src.body if isinstance(src, Rec) else src.data
        span = field_span(src)
        if span >= size:
            o = (rng.randrange(span - size + 1) // size) * size
            v = struct.unpack_from(fmt, sd, o)[0]
        else:
            v = rng.randrange(16)
        v += rng.choice([0, 0, 1, -1])
    elif wide:
        v = rng.choice(INTERESTING_U64) - rng.choice([0, 0, 1, 8, 24, 4096])
    else:
        v = rng.choice(INTERESTING_U32) + rng.choice([0, 0, 0, 1, -1])
    struct.pack_into(fmt, data, off, v & mask)
    store(seg, data)
    return True


def m_repeat(segs, add, rng):
    """Repeats a run of records right after itself: a record twice in a row (an empty checkpoint, a second END), or a
    whole checkpoint (from one CHECKPOINT to the next) once or twice more, so that later-checkpoint paths are reached."""
    idx = records(segs)
    if not idx:
        return False
    cps = [i for i in idx if segs[i].layer != "libxl" and segs[i].type == CHECKPOINT]
    if cps and rng.random() < 0.5:
        a = rng.choice(cps)
        b = next((i for i in cps if i > a), None)
        if b is None:
            b = a + 1
        run = segs[a:b]
    else:
        a = rng.choice(idx)
        run = segs[a:a + rng.choice([1, 1, 1, 2, 3])]
    copies = [s.copy() for s in run] * rng.choice([1, 1, 2])
    at = a + len(run)
    segs[at:at] = copies
    return True


def m_handshake(segs, add, rng):
    """The COLO and post-copy handshakes: give a CHECKPOINT_STATE another control_id (SVM_RESUMED twice, CHECKPOINT_NEW
    on the back channel), swap two handshake records (DIRTY_PFN_LIST before SVM_SUSPENDED, a page before its
    announcement), or repeat one (a POSTCOPY_FAULT flood, a second COMPLETE)."""
    hs = [i for i, r in enumerate(segs) if isinstance(r, Rec) and (
        (r.type == L_CHECKPOINT_STATE and r.layer in ("libxl", "back")) or r.type in (DIRTY_PFN, 0x12, 0x14, 0x15, 0x16)
        or (r.layer == "libxl" and r.type == 6))]
    if not hs:
        return False
    i = rng.choice(hs)
    r = segs[i]
    choice = rng.randrange(3)
    if choice == 0 and r.type == L_CHECKPOINT_STATE and len(r.body) >= 4:
        r.body = struct.pack("<I", rng.randrange(5)) + r.body[4:]
    elif choice == 1 and len(hs) > 1:
        j = rng.choice(hs)
        segs[i], segs[j] = segs[j], segs[i]
    else:
        for _ in range(rng.choice([1, 2, 64])):
            segs.insert(i, r.copy())
    return True


# Arrays of fixed-size entries in libxc records: (offset of the first entry, entry size, fields as (offset, width)); the
# first field is the entry's key (an MSR index, a CPUID leaf, an HVM param index).
ENTRY_LAYOUTS = {
    CPUID: (0, 24, [(0, 4), (4, 4), (8, 4), (12, 4), (16, 4), (20, 4)]),    # leaf, subleaf, eax, ebx, ecx, edx
    MSR: (0, 16, [(0, 4), (4, 4), (8, 8)]),                                 # index, flags, value
    HVM_PARAMS: (8, 16, [(0, 8), (8, 8)]),                                  # index, value (after count, reserved)
    VCPU_MSRS: (8, 16, [(0, 4), (4, 4), (8, 8)]),                           # index, reserved, value (after vcpu_id)
}


def _key_range(rtype, v):
    """Whether a compared constant is plausible as the key of an entry of this record: an MSR index (0-0x1fff,
    0x40000000-0x400000ff, 0xc0000000-0xc0011fff), a CPUID leaf (0-0xff, 0x40000000-0x400000ff,
    0x80000000-0x800000ff), an HVM param index (0-0xff)."""
    if rtype in (MSR, VCPU_MSRS):
        return v < 0x2000 or 0x40000000 <= v <= 0x400000FF or 0xC0000000 <= v <= 0xC0011FFF
    if rtype == CPUID:
        return v <= 0xFF or 0x40000000 <= v <= 0x400000FF or 0x80000000 <= v <= 0x800000FF
    return v <= 0xFF


_key_tokens = {}


def key_tokens(rtype):
    """The 4-byte compared constants plausible as the key of an entry of this record (computed once)."""
    if rtype not in _key_tokens:
        _key_tokens[rtype] = [t for t in TOKENS if len(t) == 4 and _key_range(rtype, struct.unpack("<I", t)[0])]
    return _key_tokens[rtype]


def m_entry(segs, add, rng):
    """Entry-wise: one entry of a fixed-size array (CPUID and MSR policies, HVM params, vCPU MSRs) gets its key set to a
    compared constant that is plausible as such a key (an MSR index for an MSR entry), another field of the same entry
    set (zero, one, small values, +-1, ~0, a constant), or both at once: a check on an entry wants its key and a
    neighbouring field right together (B08: EFER's index with flags 1)."""
    recs = [r for r in (segs[i] for i in records(segs)) if r.layer == "libxc" and r.type in ENTRY_LAYOUTS
            and len(r.body) >= ENTRY_LAYOUTS[r.type][0] + ENTRY_LAYOUTS[r.type][1]]
    if not recs:
        return False
    r = rng.choice(recs)
    first, size, fields = ENTRY_LAYOUTS[r.type]
    body = bytearray(r.body)
    count = (len(body) - first) // size
    at = first + size * rng.randrange(count)
    if rng.random() < 0.15:
        # A copy of the entry appended (a second entry with the same key, or one more to change).
        body[first + size * count:first + size * count] = body[at:at + size]
        at = first + size * count
    mode = rng.random()
    if mode < 0.7:
        off, width = fields[0]
        keys = key_tokens(r.type)
        if keys and rng.random() < 0.8:
            body[at + off:at + off + 4] = rng.choice(keys)
            if width > 4:
                body[at + off + 4:at + off + width] = bytes(width - 4)
        else:
            old = int.from_bytes(body[at + off:at + off + width], "little")
            body[at + off:at + off + width] = ((old + rng.choice([1, -1])) & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    if mode >= 0.35:
        off, width = rng.choice(fields[1:])
        old = int.from_bytes(body[at + off:at + off + width], "little")
        x = rng.random()
        if TOKENS and x < 0.15:
            tok = rng.choice(TOKENS)
            v = (tok + bytes(width))[:width]
        else:
            n = rng.choice([0, 1, 1, 2, 3, 4, old + 1, old - 1, (1 << (8 * width)) - 1, 1 << (8 * width - 1)])
            v = (n & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
        body[at + off:at + off + width] = v
    r.body = bytes(body)
    return True


RECORD_MUTATIONS = [
    (m_drop, 8), (m_duplicate, 6), (m_move, 6), (m_resize, 8), (m_retype, 6), (m_length_field, 8), (m_padding, 3),
    (m_split_checkpoint, 4), (m_merge_checkpoints, 3), (m_insert, 10), (m_field, 16), (m_splice, 6), (m_cut, 4),
    (m_trailer, 2), (m_handshake, 5), (m_byte, 16), (m_boundary, 12), (m_repeat, 5), (m_entry, 12),
] + ([(m_constant, 24)] if TOKENS or BYTE_TOKENS else [])
_TOTAL = sum(w for _, w in RECORD_MUTATIONS)


def pick(rng):
    x = rng.randrange(_TOTAL)
    for fn, w in RECORD_MUTATIONS:
        if x < w:
            return fn
        x -= w
    return RECORD_MUTATIONS[0][0]


# Payload sizes of the legacy chunks (after the int32 id), for chunks built from a template: TSC_INFO (u32 mode, u64
# nsec, u32 khz, u32 incarnation), the HVM-param chunks (u32 pad, u64 value), VCPU_INFO (int max_vcpu_id, u64 bitmap),
# the sized ones (u32 size, data), the markers (nothing).
LEGACY_PAYLOAD = {-7: 20, -2: 12, -12: 4, -18: 4, -1: 0, -9: 0, -13: 0, -5: 0, -6: 0}
LEGACY_HVM_PARAM_IDS = [-3, -4, -8, -10, -11, -14, -15, -16, -17, -19, -20]


def legacy_chunk_starts(d):
    """Where chunks probably start in a legacy image: int32 values that are XC_SAVE_ID_* chunk ids (-1..-21), at any
    byte offset, not only at multiples of 4: the QEMU record that ends an HVM image has any length, so the chunks of a
    later Remus checkpoint are usually not 4-aligned in the file (a 4-aligned scan missed every one of them). A heuristic
    (a run of 0xff bytes is taken for one -1, not one per offset), good enough on seeds whose page data is a page or
    two."""
    starts = []
    i = d.find(b"\xff\xff\xff", 1)
    last = -4
    while i >= 0:
        at = i - 1
        if d[at] >= 0xEB and at >= last + 4:
            starts.append(at)
            last = at
        i = d.find(b"\xff\xff\xff", i + 1)
    return starts


# The fields of the chunks with a layout (offset after the chunk id's start, width): TSC_INFO's mode, nsec, khz and
# incarnation; an HVM-param chunk's pad and value; VCPU_INFO's max_vcpu_id and first bitmap word; a sized chunk's size.
LEGACY_FIELDS = {-7: [(4, 4), (8, 8), (16, 4), (20, 4)], -2: [(4, 4), (8, 8)], -12: [(4, 4)], -18: [(4, 4)]}
LEGACY_FIELDS.update({cid: [(4, 4), (8, 8)] for cid in LEGACY_HVM_PARAM_IDS})


def legacy_kind(cid):
    """The kind a chunk id belongs to: the eleven HVM-param chunks are one kind, every other id its own."""
    return "hvm-param" if cid in LEGACY_HVM_PARAM_IDS else cid


def pick_chunk(d, starts, rng, with_fields=False):
    """A chunk start, kind first: every kind of chunk the image has is as likely as another (an image has eleven
    HVM-param chunks per body and one TSC_INFO), then one of its chunks, so that the rare kinds, and a chunk of a later
    Remus checkpoint, get their share."""
    by_kind = {}
    for at in starts:
        cid = struct.unpack_from("<i", d, at)[0]
        if with_fields and cid not in LEGACY_FIELDS:
            continue
        by_kind.setdefault(legacy_kind(cid), []).append(at)
    if not by_kind:
        return None
    return rng.choice(by_kind[rng.choice(list(by_kind))])


def legacy_value(width, old, rng):
    """A value for a chunk field: zero most often (a zero frequency, size or id is where divisions and bounds go
    wrong), small values, the old value +-1, interesting and compared constants."""
    x = rng.random()
    if x < 0.25:
        v = 0
    elif x < 0.45:
        v = rng.choice([1, 2, 3, 4, 5, 7, 8])
    elif x < 0.55:
        v = old + rng.choice([1, -1])
    elif TOKENS and x < 0.75:
        tok = rng.choice(TOKENS)
        return (tok + bytes(width))[:width] if len(tok) <= width else tok[:width]
    elif width == 8 and x < 0.85:
        v = rng.choice([1 << 63, (1 << 64) - 1, (1 << 64) - 2, 1 << 32, (1 << 32) - 1])
    else:
        v = rng.choice(INTERESTING_U32)
    return (v & ((1 << (8 * width)) - 1)).to_bytes(width, "little")


def legacy_chunk(rng):
    """A chunk from a template, kind first (TSC_INFO, an HVM param, VCPU_INFO, a sized chunk, a marker), fields small
    values or compared constants."""
    kind = rng.randrange(5)
    if kind == 0:
        cid = -7
    elif kind == 1:
        cid = rng.choice(LEGACY_HVM_PARAM_IDS)
    elif kind == 2:
        cid = -2
    elif kind == 3:
        cid = rng.choice([-12, -18])
    else:
        cid = rng.choice([-1, -9, -13, -5, -6])
    size = LEGACY_PAYLOAD.get(cid, 12)
    words = []
    for _ in range(size // 4):
        x = rng.random()
        if TOKENS and x < 0.2:
            tok = rng.choice(TOKENS)
            words.append((tok + bytes(4))[:4])
        else:
            words.append(struct.pack("<I", rng.choice([0, 0, 1, 2, 3, 4, 1000000, 0xFFFFFFFF])))
    return struct.pack("<i", cid) + b"".join(words)


def mutate_legacy(data, add, rng):
    """Chunk-level mutations for pre-v2 images (int32 chunk ids, ulong pfn arrays, 4 KiB pages): at the chunk starts
    the image already has, insert a chunk built from a template, repeat or drop a chunk (the bytes up to the next chunk
    start), or write a field of a chunk (a compared constant, a boundary value); and, anywhere, chunk ids and batch
    counts at 4-octet boundaries, 4/4096-octet aligned region copies and cuts."""
    d = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        n = len(d)
        starts = legacy_chunk_starts(d) if n < (1 << 20) else []
        choice = rng.randrange(10)
        if choice == 0 and n >= 4:
            off = rng.randrange(n - 3) & ~3
            struct.pack_into("<i", d, off, rng.choice(LEGACY_CHUNK_IDS))
        elif choice == 1:
            off = rng.randrange(n + 1) & ~3
            chunk = struct.pack("<i", rng.choice(LEGACY_CHUNK_IDS)) + bytes(rng.choice([0, 4, 12, 16]))
            d[off:off] = chunk
        elif choice == 2 and n >= 8:
            size = rng.choice([4, 8, 16, 4096, 4100])
            off = rng.randrange(max(1, n - size)) & ~3
            del d[off:off + size]
        elif choice == 3 and n >= 8:
            size = rng.choice([4, 8, 16, 4096])
            src = rng.randrange(max(1, n - size)) & ~3
            dst = rng.randrange(n) & ~3
            d[dst:dst] = d[src:src + size]
        elif choice == 4 and starts:
            # A template chunk at a chunk boundary: before a chunk the image has, or right after one whose size is
            # known (after LAST_CHECKPOINT, after a TSC_INFO...).
            at = pick_chunk(d, starts, rng)
            if rng.random() < 0.5:
                cid = struct.unpack_from("<i", d, at)[0]
                at = min(n, at + 4 + LEGACY_PAYLOAD.get(cid, 12 if cid in LEGACY_HVM_PARAM_IDS else 0))
            d[at:at] = legacy_chunk(rng)
        elif choice == 5 and starts:
            # Repeat a chunk (up to the next chunk start) at another chunk boundary, or right after itself; or drop it.
            a = pick_chunk(d, starts, rng)
            k = starts.index(a)
            b = starts[k + 1] if k + 1 < len(starts) and starts[k + 1] - a <= 8192 else min(n, a + 24)
            piece = bytes(d[a:b])
            if rng.random() < 0.2:
                del d[a:b]
            else:
                dst = rng.choice([b, b, rng.choice(starts)])
                d[dst:dst] = piece
        elif choice in (6, 7, 8) and starts and (a := pick_chunk(d, starts, rng, with_fields=True)) is not None \
                and rng.random() < 0.7:
            # A field of a chunk with a layout, at its offset and width: the mode or the frequency of a TSC_INFO of a
            # later checkpoint, an HVM param's pad, a VCPU_INFO's id, a size.
            cid = struct.unpack_from("<i", d, a)[0]
            off, width = rng.choice(LEGACY_FIELDS[cid])
            if a + off + width <= n:
                old = int.from_bytes(d[a + off:a + off + width], "little")
                d[a + off:a + off + width] = legacy_value(width, old, rng)
        elif choice in (6, 7, 8) and starts:
            # A field of any chunk: the 4-aligned words of its first 24 bytes.
            a = rng.choice(starts)
            off = a + 4 * rng.randrange(1, 6)
            if off + 4 <= n:
                x = rng.random()
                if TOKENS and x < 0.35:
                    tok = rng.choice(TOKENS)
                    d[off:off + min(len(tok), n - off)] = tok[:n - off]
                elif BYTE_TOKENS and x < 0.5:
                    d[off + rng.randrange(4)] = rng.choice(BYTE_TOKENS)
                else:
                    struct.pack_into("<I", d, off, rng.choice(INTERESTING_U32) & 0xFFFFFFFF)
        elif add:
            cut = rng.randrange(len(d) + 1) & ~3
            other = bytes(add)
            d = d[:cut] + other[rng.randrange(len(other) + 1) & ~3:]
    return bytes(d)


# ---- capture files (docs/CAPTURE.md): a 32-byte header, then chunks: u32 sync "CHNK", u8 type, u8 direction,
# u16 flags, i32 payload length, u32 sequence, i64 timestamp, i64 position, payload, u32 CRC32C. The capture target
# rewrites the CRCs itself; the mutator keeps lengths and sequence numbers consistent unless a mutation breaks them.
CAPTURE_MAGIC = b"\x89SBCAP\r\n"
CAPTURE_INDEX, CAPTURE_ENTRY = 3, 24


def parse_capture(buf):
    """(header, [[head(32), payload] ...], tail) or None."""
    if len(buf) < 32 or buf[:8] != CAPTURE_MAGIC:
        return None
    chunks = []
    at = 32
    while at + 32 <= len(buf):
        if buf[at:at + 4] != b"CHNK":
            break
        length = struct.unpack_from("<i", buf, at + 8)[0]
        if length < 0 or at + 36 + length > len(buf):
            break
        chunks.append([bytearray(buf[at:at + 32]), bytearray(buf[at + 32:at + 32 + length])])
        at += 36 + length
    return bytes(buf[:32]), chunks, bytes(buf[at:])


def mutate_capture(parsed, add, rng):
    header, chunks, tail = parsed
    chunks = [[bytearray(h), bytearray(p)] for h, p in chunks]
    renumber = rng.random() < 0.9
    for _ in range(rng.choice([1, 1, 2, 3])):
        if not chunks:
            break
        k = rng.randrange(len(chunks))
        h, p = chunks[k]
        choice = rng.randrange(7)
        index = [c for c in chunks if c[0][4] == CAPTURE_INDEX and len(c[1]) >= CAPTURE_ENTRY]
        if choice <= 1 and index:
            # An index entry: offset and length near the limits (offset + length overflows), type, kind, layer.
            p = rng.choice(index)[1]
            e = CAPTURE_ENTRY * rng.randrange(len(p) // CAPTURE_ENTRY)
            which = rng.randrange(4)
            if which < 2:
                v = rng.choice(INTERESTING_U64) - rng.choice([0, 0, 1, 8, 4096])
                struct.pack_into("<Q", p, e + 8 * which, v & 0xFFFFFFFFFFFFFFFF)
            elif which == 2:
                struct.pack_into("<I", p, e + 16, rng.choice(INTERESTING_U32))
            else:
                p[e + 20 + rng.randrange(4)] = rng.randrange(8)
        elif choice == 2 and index:
            # Duplicate, drop or swap index entries.
            p = rng.choice(index)[1]
            count = len(p) // CAPTURE_ENTRY
            e = CAPTURE_ENTRY * rng.randrange(count)
            entry = p[e:e + CAPTURE_ENTRY]
            x = rng.randrange(3)
            if x == 0:
                p[e:e] = entry
            elif x == 1 and count > 1:
                del p[e:e + CAPTURE_ENTRY]
            else:
                f = CAPTURE_ENTRY * rng.randrange(count)
                p[e:e + CAPTURE_ENTRY], p[f:f + CAPTURE_ENTRY] = p[f:f + CAPTURE_ENTRY], entry
        elif choice == 3:
            # A chunk header field: type, direction, flags, position.
            which = rng.randrange(4)
            if which == 0:
                h[4] = rng.randrange(7)
            elif which == 1:
                h[5] = rng.choice([0, 1, 2, 0xFF])
            elif which == 2:
                struct.pack_into("<H", h, 6, rng.choice([0, 1, 2, 0xFFFF]))
            else:
                struct.pack_into("<Q", h, 24, (rng.choice(INTERESTING_U64 + [0, 1, len(p)]) - rng.choice([0, 1])) & 0xFFFFFFFFFFFFFFFF)
        elif choice == 4:
            # A field of the payload (metadata lengths, event code and value, footer counts).
            if len(p) >= 4:
                off = rng.randrange(min(len(p), 64) - 3)
                x = rng.random()
                if x < 0.3:
                    struct.pack_into("<I", p, off, rng.choice(INTERESTING_U32))
                elif x < 0.5 and len(p) - off >= 8:
                    struct.pack_into("<Q", p, off, rng.choice(INTERESTING_U64))
                elif x < 0.7:
                    struct.pack_into("<H", p, off, rng.choice([0, 1, 2, 3, 4, 255, 256, 257, 0xFFFF]))
                else:
                    p[off] = rng.randrange(256)
            elif p:
                p[rng.randrange(len(p))] = rng.randrange(256)
        elif choice == 5:
            # Duplicate, drop, swap or cut chunks.
            x = rng.randrange(4)
            if x == 0:
                chunks.insert(rng.randrange(len(chunks) + 1), [bytearray(h), bytearray(p)])
            elif x == 1 and len(chunks) > 1:
                del chunks[k]
            elif x == 2 and len(chunks) > 1:
                j = rng.randrange(len(chunks))
                chunks[k], chunks[j] = chunks[j], chunks[k]
            elif p:
                chunks[k][1] = p[:rng.randrange(len(p))]
        else:
            # The payload of a data chunk through the stream mutator (a record-level mutation of the stream bytes).
            if h[4] == 2 and p:
                chunks[k][1] = bytearray(mutate_stream(bytes(p), add, rng))
    out = bytearray(header)
    for seq, (h, p) in enumerate(chunks):
        h = bytearray(h)
        struct.pack_into("<i", h, 8, len(p))
        if renumber:
            struct.pack_into("<I", h, 12, seq)
        out += h + p + bytes(4)
    return bytes(out + tail)


# ---- AFL++ custom mutator API -----------------------------------------------------------------------------------

_cache_key = None
_cache_segs = None
_last = ""


def init(seed):
    global _rng
    _rng = random.Random(seed)


def deinit():
    pass


def fuzz_count(buf):
    # Record-level mutants per queue entry; havoc and splicing still follow with their own budget. Small inputs (the
    # seeds have next to no page data) get the most: there, most of AFL++'s byte-level havoc lands on framing that a
    # record-level mutation keeps intact.
    n = len(buf)
    count = 256 if n < 64 << 10 else 64 if n < 256 << 10 else 16
    # An entry this mutator produced and afl-fuzz kept (new coverage) gets four times as many: half of them go near
    # the change that made it new (mutate_focused), where the next comparison of a nested check usually is.
    if (n, zlib.crc32(bytes(buf))) in _focus:
        count *= 4
    return count


def describe(max_description_length):
    # AFL++ 4.04c reads the description with PyBytes_AsString: bytes, not str.
    return ("xenrec-" + _last).encode("ascii")[:max_description_length]


# Where the mutant that became a queue entry was changed: a nested comparison checks the next byte or field near the
# one that just passed, so an entry the fuzzer kept is mutated near its last change (half of its mutants, and it gets
# four times as many mutants: fuzz_count).
# Keyed by the mutant's CRC32 and length; bounded.
_focus = {}
FOCUS_MAX = 1 << 17


_END_BLOCK = 2048


def _common_end(a, b, n, from_end):
    """The length of the longest common prefix (or suffix, from_end) of a and b within their first (last) n bytes:
    blocks of 2, 4, 8 KiB... compared in turn (C-speed slice compares that copy at most twice as far as the first
    difference), then a binary search inside the block that differs."""
    la, lb = len(a), len(b)

    def same(i, j):   # a and b agree on [i, j) counted from their start (or from their end)
        if from_end:
            return a[la - j:la - i] == b[lb - j:lb - i]
        return a[i:j] == b[i:j]

    i, blk = 0, _END_BLOCK
    while i < n and same(i, min(i + blk, n)):
        i += blk
        blk *= 2
    if i >= n:
        return n
    lo, hi = i, min(i + blk, n)             # they agree on [0, lo) and differ somewhere in [lo, hi)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if same(lo, mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def changed_ends(a, b):
    """In a's coordinates: the first index where a differs from b's start, and the last where it differs from b's end.
    Empty when a == b."""
    if a == b:
        return []
    n = min(len(a), len(b))
    first = min(_common_end(a, b, n, False), len(a) - 1)
    last = len(a) - _common_end(a, b, n, True) - 1
    return [first] if last <= first or last < 0 else [first, last]


def mutate_focused(data, at, rng):
    """One byte (or an aligned word) at most 8 bytes from the last change: a compared byte, a neighbour value, any."""
    d = bytearray(data)
    off = at + rng.choice([1, 1, 1, 1, -1, -1, 2, 2, -2, 3, 4, -4, 5, 6, 7, 8, -8, 0])
    if not 0 <= off < len(d):
        off = min(max(at, 0), len(d) - 1)
    x = rng.random()
    if BYTE_TOKENS and x < 0.5:
        d[off] = rng.choice(BYTE_TOKENS)
    elif TOKENS and x < 0.65:
        tok = rng.choice(TOKENS)
        off &= ~3
        d[off:off + len(tok)] = tok[:len(d) - off]
    elif x < 0.8:
        d[off] = (d[off] + rng.choice([1, -1])) & 0xFF
    else:
        d[off] = rng.randrange(256)
    return bytes(d)


INTERESTING_8 = [0, 1, 0x10, 0x20, 0x40, 0x64, 0x7F, 0x80, 0xFF]


def mutate_bytes(data, add, rng):
    """AFL-style byte-level havoc anywhere in the input (campaign.sh runs afl-fuzz with AFL_CUSTOM_MUTATOR_ONLY, so this
    mutator also provides what afl-fuzz's havoc stage would): 1-8 of bit flips, random or interesting bytes, words and
    dwords, small additions, block deletion, duplication and overwrite, dictionary tokens, and a splice with the second
    input."""
    d = bytearray(data)
    for _ in range(1 << rng.randrange(4)):
        n = len(d)
        if n == 0:
            d.append(rng.randrange(256))
            continue
        op = rng.randrange(11)
        off = rng.randrange(n)
        if op == 0:
            d[off] ^= 1 << rng.randrange(8)
        elif op == 1:
            d[off] = rng.randrange(256)
        elif op == 2:
            d[off] = rng.choice(INTERESTING_8)
        elif op == 3 and n >= 2:
            off = min(off, n - 2)
            struct.pack_into(rng.choice("<>") + "H", d, off, rng.choice([0, 0x80, 0xFF, 0x100, 0x3FF, 0x400, 0x1000, 0x7FFF, 0x8000, 0xFFFF]))
        elif op == 4 and n >= 4:
            off = min(off, n - 4)
            struct.pack_into(rng.choice("<>") + "I", d, off, rng.choice(INTERESTING_U32))
        elif op == 5:
            d[off] = (d[off] + rng.choice([-1, 1]) * rng.randrange(1, 36)) & 0xFF
        elif op == 6 and n > 1:
            size = min(n - off, rng.choice([1, 2, 4, 8, 16, 32, 128]))
            del d[off:off + size]
        elif op == 7:
            src = rng.randrange(n)
            size = min(n - src, rng.choice([1, 2, 4, 8, 16, 32, 128]))
            d[off:off] = d[src:src + size]
        elif op == 8:
            src = rng.randrange(n)
            size = min(n - src, n - off, rng.choice([1, 2, 4, 8, 16]))
            d[off:off + size] = d[src:src + size]
        elif op == 9 and (TOKENS or BYTE_TOKENS):
            tok = rng.choice(TOKENS) if TOKENS and (not BYTE_TOKENS or rng.random() < 0.7) else bytes([rng.choice(BYTE_TOKENS)])
            d[off:off + len(tok)] = tok
        elif add:
            other = bytes(add)
            d = d[:off] + other[rng.randrange(len(other) + 1):]
    return bytes(d)


# Fresh queue entries first: a queue entry this mutator produced and afl-fuzz just kept (queue_new_entry) is mutated
# at once, for FRESH_BUDGET mutants taken from the entries afl-fuzz hands over (FRESH_SHARE of them), instead of
# waiting until afl-fuzz's queue schedule picks it (minutes on a queue of hundreds of entries at a few hundred execs/s).
# A nested check rewards its first half with a new entry; the second half is a field next to the change that made it
# (an MSR policy entry's flags after its index), so most of those mutants go there (mutate_focused).
_fresh = []
FRESH_BUDGET = 512
FRESH_MAX = 32
FRESH_SHARE = 0.5
_parent = b""


def queue_new_entry(filename_new_queue, filename_orig_queue):
    """AFL++ calls this for every entry added to the queue (an initial seed has no original)."""
    if filename_orig_queue is None:
        return False
    try:
        name = os.fsdecode(filename_new_queue)
        if os.path.getsize(name) > (1 << 20):
            return False
        with open(name, "rb") as f:
            data = f.read()
    except (OSError, TypeError, ValueError):
        return False
    at = _focus.get((len(data), zlib.crc32(data)))
    if at:
        _fresh.append([data, at, FRESH_BUDGET])
        if len(_fresh) > FRESH_MAX:
            del _fresh[0]
    return False


def mutate(buf, add_buf, rng):
    global _cache_key, _cache_segs, _last, _parent
    data = bytes(buf)
    if _fresh and rng.random() < FRESH_SHARE:
        entry = rng.choice(_fresh)
        entry[2] -= 1
        if entry[2] <= 0:
            _fresh.remove(entry)
        _parent = entry[0]
        if rng.random() < 0.6:
            _last = "fresh-focus"
            return mutate_focused(entry[0], rng.choice(entry[1]), rng)
        data = entry[0]
        out = _mutate(data, add_buf, rng)
        _last = "fresh-" + _last
        return out
    _parent = data
    return _mutate(data, add_buf, rng)


_key_data = None
_key_value = None


def _key(data):
    """(length, CRC32) of an input: afl-fuzz hands the same queue entry in fuzz_count times in a row, and comparing
    with the last one is cheaper than its CRC."""
    global _key_data, _key_value
    if data != _key_data:
        _key_data, _key_value = data, (len(data), zlib.crc32(data))
    return _key_value


def _mutate(data, add_buf, rng):
    global _cache_key, _cache_segs, _last
    key = _key(data)
    at = _focus.get(key)
    if at and data and rng.random() < 0.5:
        _last = "focus"
        return mutate_focused(data, rng.choice(at), rng)
    if rng.random() < 0.2:
        _last = "bytes"
        return mutate_bytes(data, add_buf, rng)
    if key != _cache_key:
        _cache_key = key
        _cache_segs = parse_capture(data) or parse(data)
    if isinstance(_cache_segs, tuple):
        _last = "capture"
        return mutate_capture(_cache_segs, add_buf, rng)
    if len(_cache_segs) == 1 and isinstance(_cache_segs[0], Raw) and _cache_segs[0].kind == "legacy":
        _last = "legacy"
        return mutate_legacy(data, add_buf, rng)
    return mutate_segs([s.copy() for s in _cache_segs], add_buf, rng)


def mutate_stream(data, add_buf, rng):
    """Record-level mutations of a stream given as bytes (no cache; the payload of a capture's data chunk)."""
    segs = parse(data)
    if len(segs) == 1 and isinstance(segs[0], Raw) and segs[0].kind == "legacy":
        return mutate_legacy(data, add_buf, rng)
    return mutate_segs(segs, add_buf, rng)


def mutate_segs(segs, add_buf, rng):
    global _last
    names = []
    want = rng.choice([1, 1, 1, 2, 3])
    for _ in range(4 * want):
        # A mutation that does not apply (nothing to merge, no second input) is replaced: an unchanged mutant is a
        # wasted execution.
        fn = pick(rng)
        if fn(segs, add_buf, rng):
            names.append(fn.__name__[2:])
            if len(names) == want:
                break
    _last = "+".join(names) or "none"
    return serialize(segs)


def fuzz(buf, add_buf, max_size):
    out = mutate(buf, add_buf, _rng)
    if len(out) > max_size:
        out = out[:max_size]
    at = changed_ends(out, _parent) if out else None
    if at:
        if len(_focus) >= FOCUS_MAX:
            _focus.clear()
        _focus[(len(out), zlib.crc32(out))] = at
    if not out:
        # afl-fuzz aborts on an empty mutant ("Size returned: 0"): keep one byte.
        out = bytes(buf[:1]) or b"\x00"
    return bytearray(out)


# ---- offline corpus expander ------------------------------------------------------------------------------------

def expand(src, dst, count, seed):
    rng = random.Random(seed)
    os.makedirs(dst, exist_ok=True)
    files = sorted(f for f in os.listdir(src) if not f.startswith(".") and os.path.isfile(os.path.join(src, f)))
    inputs = [open(os.path.join(src, f), "rb").read() for f in files]
    written = 0
    for name, data in zip(files, inputs):
        seen = set()
        for i in range(count):
            add = rng.choice(inputs) if inputs else b""
            out = mutate(data, add, rng)
            h = zlib.crc32(out)
            if h in seen or out == data:
                continue
            seen.add(h)
            with open(os.path.join(dst, "%s.%s.%03d" % (name, _last.replace("+", "_"), i)), "wb") as f:
                f.write(out)
            written += 1
    return written


def self_test():
    """Properties the fuzz tests check (python3 xen_mutator.py --self-test): exits non-zero with a message on failure."""
    global TOKENS, BYTE_TOKENS
    rng = random.Random(1)
    a = bytes(range(200))
    assert changed_ends(a, a) == [], "no change, no position"
    assert changed_ends(a[:50] + b"XY" + a[50:], a) == [50, 51], "an insertion"
    b = bytearray(a)
    b[7] = b[150] = 0xEE
    assert changed_ends(bytes(b), a) == [7, 150], "two changed bytes"
    # A kept mutant gets four times the mutants, and half of them change a byte within 8 of its change.
    TOKENS, BYTE_TOKENS = [b"\x86\x12\x38\x54"], [0x5A]
    base = bytes(64)
    mutant = bytearray(base)
    mutant[20] = 0x5A
    _focus[(len(mutant), zlib.crc32(bytes(mutant)))] = changed_ends(bytes(mutant), base)
    assert fuzz_count(mutant) == 4 * fuzz_count(bytearray(base)), "a kept mutant gets more mutants"
    near = sum(1 for _ in range(400) if _last_near(mutant, rng))
    assert near > 100, "focused mutants: %d of 400" % near
    # Capture files: chunk framing (lengths, sequence numbers) stays consistent.
    chunk = lambda t, seq, payload: b"CHNK" + bytes([t, 0]) + struct.pack("<HiIqq", 0, len(payload), seq, 0, 0) + payload + bytes(4)
    cap = CAPTURE_MAGIC + bytes(24) + chunk(1, 0, b"\x03\x00key\x01\x00\x00\x00v") + chunk(3, 1, bytes(48)) + chunk(2, 2, bytes(16))
    framed = 0
    for _ in range(300):
        out = mutate(bytearray(cap), bytearray(cap), rng)
        if _last == "capture":      # (a fifth are byte-level havoc, which breaks what it likes)
            parsed = parse_capture(out)
            assert parsed is not None and parsed[2] == b"", "capture framing kept"
            framed += 1
    assert framed > 150, "capture mutations: %d of 300" % framed
    # Legacy images: a template chunk lands right after a marker chunk (LAST_CHECKPOINT) at times.
    img = bytes(16) + struct.pack("<i", -7) + bytes(20) + struct.pack("<ii", -9, 0)
    after = b"".join([struct.pack("<i", -9), struct.pack("<i", -7)])
    hits = sum(1 for _ in range(3000) if after in mutate_legacy(img, b"", rng))
    assert hits > 0, "no TSC_INFO chunk inserted after LAST_CHECKPOINT in 3000 mutants"
    # Entry-wise: an MSR policy entry gets EFER's index and flags 1 together (the other entry and records unchanged).
    TOKENS = [b"\x80\x00\x00\xc0", b"\x86\x12\x38\x54", b"\x00\x00\x01\x00"]
    _key_tokens.clear()
    msr = Rec("libxc", MSR, struct.pack("<IIQ", 0xCE, 0, 5) + struct.pack("<IIQ", 0x10A, 0, 7))
    other = Rec("libxc", TSC, bytes(24))
    pair = 0
    for _ in range(2000):
        segs = [other.copy(), msr.copy()]
        if m_entry(segs, b"", rng):
            pair += struct.unpack_from("<II", segs[1].body, 0) == (0xC0000080, 1) or struct.unpack_from("<II", segs[1].body, 16) == (0xC0000080, 1)
    assert pair > 0, "no MSR entry with EFER's index and flags 1 in 2000 entry mutations"
    _key_tokens.clear()
    # A field of a chunk of a later checkpoint: the second TSC_INFO's khz set to 0 (eleven HVM-param chunks around),
    # behind a QEMU record of odd length (so that it is not 4-aligned in the file).
    tsc = lambda khz: struct.pack("<iIQII", -7, 0, 5, khz, 1)
    params = b"".join(struct.pack("<iIQ", cid, 0, 0xFE000) for cid in LEGACY_HVM_PARAM_IDS)
    body0 = bytes(16) + tsc(2_000_000) + params + bytes(8) + b"QEMU\x05\x00\x00\x00" + bytes(5)
    img = body0 + bytes(8) + tsc(2_000_000) + params + bytes(8)
    want = body0 + bytes(8) + tsc(0) + params + bytes(8)
    assert len(legacy_chunk_starts(img)) == 24, "chunk starts: %r" % legacy_chunk_starts(img)
    khz = sum(1 for _ in range(10000) if mutate_legacy(img, b"", rng) == want)
    assert khz > 0, "the second TSC_INFO's khz never set to 0 in 10000 mutants"
    # A fresh queue entry this mutator produced is mutated at once, near its change, whatever entry afl-fuzz hands over.
    import tempfile
    fresh = bytearray(bytes(64))
    fresh[40] = 0x5A
    _focus[(len(fresh), zlib.crc32(bytes(fresh)))] = [40]
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(bytes(fresh))
    try:
        assert queue_new_entry(f.name, "orig") is False
    finally:
        os.unlink(f.name)
    other = bytearray(b"\x11" * 64)
    near_fresh = 0
    for _ in range(400):
        out = fuzz(other, b"", 1 << 20)
        if _last == "fresh-focus" and len(out) == 64 and out[:32] == fresh[:32] and out[49:] == fresh[49:]:
            near_fresh += 1
    assert near_fresh > 50, "mutants of the fresh entry near its change: %d of 400" % near_fresh
    _fresh.clear()
    print("xen_mutator self-test: ok (focused %d/400, chunk after marker %d/3000, MSR entry EFER + flags 1 %d/2000, "
          "later checkpoint's khz 0 %d/10000, fresh entry %d/400)" % (near, hits, pair, khz, near_fresh))


def _last_near(mutant, rng):
    out = mutate(mutant, b"", rng)
    return _last == "focus" and len(out) == len(mutant) and all(out[i] == mutant[i] for i in range(len(out)) if not 12 <= i <= 28)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["--self-test"]:
        self_test()
        sys.exit(0)
    if len(args) >= 3 and args[0] == "--expand":
        n = 20
        seed = 1
        if "-n" in args:
            n = int(args[args.index("-n") + 1])
        if "--seed" in args:
            seed = int(args[args.index("--seed") + 1])
        print("xen_mutator: %d files written to %s" % (expand(args[1], args[2], n, seed), args[2]))
    else:
        print(__doc__)
        sys.exit(2)
