#!/usr/bin/env python3
"""Structure-aware mutants of real Xen streams, as patch specs in mkbad.py's format (issue #16 part 3, the lab's
real-restore scenario): dom0 applies each spec to its one in-RAM copy of the base and feeds it to xl restore or xl
migrate-receive.

usage: mkfuzz.py BASE... --count N --seed S OUTDIR     N specs in all, bases taken in turn (names sort interleaved)
       mkfuzz.py --apply SPEC BASEDIR OUT              write the mutant a spec describes (BASEDIR holds the base by
                                                       its name, or NAME.zst; DIR1:DIR2 searches both in turn)
       mkfuzz.py --reduce SPEC OUTDIR [BASEDIR]        the reduction candidates of a spec: each with one edit dropped,
                                                       and (with BASEDIR) a truncation raised halfway toward the
                                                       base's end (4 steps)
       mkfuzz.py --collect SERIAL_LOG SPECDIR BASEDIR OUT.tsv
                                                       (lab.sh, after a real-restore/findings boot) the runner's
                                                       "LAB: FUZZ" lines as a TSV with each mutant's sha256 prefix; a
                                                       FUZZ-START without its result is a "boot-died" row
       mkfuzz.py --check-findings RESULTS.tsv MANIFEST.tsv XEN
                                                       every MANIFEST row of Xen XEN has the class it names
       mkfuzz.py --triage RESULTS.tsv SPECDIR BASEDIR OUT.tsv [CLI]
                                                       every row that is not a clean refusal (and accepted-dead):
                                                       the mutant verified with `streambench verify --profile restore`
                                                       (CLI, default tools/streambench): our verdict and first error
       mkfuzz.py --triage-all ...                      the same for every row (clean refusals too)
       mkfuzz.py --reduce-all TRIAGE.tsv SPECDIR BASEDIR OUTDIR
                                                       every triaged spec and its reduction candidates (one folder for
                                                       a second lab run: XENLAB_FUZZ_SPECS=OUTDIR)
       mkfuzz.py --minimal RESULTS.tsv SPECDIR         after that run: per original spec, the candidate with the
                                                       fewest edits (then the longest truncation) that keeps its class
       mkfuzz.py --walk BASE                           print the layout walk (headers, records of every layer)
       mkfuzz.py --self-test                           checks on a synthetic stream (no boot, no real capture)

A spec: `base NAME`, then `truncate LENGTH` and/or `poke OFFSET HEX` lines, and one `# edit K: ...` comment per edit
naming the record (layer, index, type, offset) and the field. Pokes never change the size; a truncation comes first
and every poke lies before it. Each spec has 1-3 edits. The same bases, count and seed give the same specs.

Edits (the fuzz bench's field knowledge and interesting values, fuzz/mutators/xen_mutator.py):
  headers: xl (byte order, mandatory/optional flags, optional data length), libxl (version, options), libxc image
           (marker, id, version, options), libxc domain (type, page_shift, xen version);
  any record: type, length (INTERESTING_LENGTHS, length +-1/+-8), a non-zero padding byte;
  bodies: PAGE_DATA count, pfn entries (pfn near limits / a duplicate) and page-type nibbles; X86_PV_INFO; P2M_FRAMES
          start/end/frames; X86_PV_VCPU_* vcpu_id and context words; SHARED_INFO words; TSC_INFO; HVM_CONTEXT entry
          descriptors (typecode/instance/length); HVM_PARAMS count and entries; CPUID/MSR policy entries; libxl
          EMULATOR_XENSTORE_DATA / EMULATOR_CONTEXT emulator id and index;
  truncation at, one byte before and after a record boundary, after a record header, one byte before a record's end.
"""
import hashlib
import os
import random
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fuzz", "mutators"))
import xen_mutator as xm  # noqa: E402  (the fuzz bench's constants and interesting values)

XC_NAMES = {0: "END", 1: "PAGE_DATA", 2: "X86_PV_INFO", 3: "X86_PV_P2M_FRAMES", 4: "X86_PV_VCPU_BASIC",
            5: "X86_PV_VCPU_EXTENDED", 6: "X86_PV_VCPU_XSAVE", 7: "SHARED_INFO", 8: "X86_TSC_INFO",
            9: "HVM_CONTEXT", 10: "HVM_PARAMS", 11: "TOOLSTACK", 12: "X86_PV_VCPU_MSRS", 13: "VERIFY",
            14: "CHECKPOINT", 15: "CHECKPOINT_DIRTY_PFN_LIST", 16: "STATIC_DATA_END", 17: "X86_CPUID_POLICY",
            18: "X86_MSR_POLICY"}
XL_NAMES = {0: "END", 1: "LIBXC_CONTEXT", 2: "EMULATOR_XENSTORE_DATA", 3: "EMULATOR_CONTEXT", 4: "CHECKPOINT_END",
            5: "CHECKPOINT_STATE"}
# page-type nibbles of a PAGE_DATA pfn word (XEN_DOMCTL_PFINFO_* >> 28): valid ones and the holes between them
PAGE_TYPES = [0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0x9, 0xA, 0xC, 0xD, 0xE, 0xF]
PFN_MASK = (1 << 52) - 1
BODY_HEAD = 64   # of a large body (vCPU context, shared info) only the first words are fields


class Item:
    """A header or a record: where it is and what it is."""
    __slots__ = ("kind", "layer", "index", "type", "off", "length", "end")

    def __init__(self, kind, layer, index, rtype, off, length, end):
        self.kind, self.layer, self.index, self.type, self.off, self.length, self.end = kind, layer, index, rtype, off, length, end

    def name(self):
        if self.kind != "rec":
            return "%s header @%d" % (self.kind, self.off)
        names = XL_NAMES if self.layer == "libxl" else XC_NAMES
        return "%s record #%d type 0x%x (%s) @%d len %d" % (self.layer, self.index, self.type,
                                                           names.get(self.type, "?"), self.off, self.length)


def walk(data):
    """The layout of an xl save file or migration sender stream: headers and the records of every layer (libxl, the
    libxc stream inside LIBXC_CONTEXT, libxl again after libxc END or CHECKPOINT), the byte after the last one."""
    items = []
    n = len(data)
    if data[:32] != xm.XL_MAGIC or n < 48:
        raise ValueError("not an xl save file or migration stream (no xl header)")
    optlen = struct.unpack_from("<I", data, 44)[0]
    items.append(Item("xl", "xl", 0, None, 0, 48 + optlen, 48 + optlen))
    pos = 48 + optlen
    if data[pos:pos + 8] != xm.LIBXL_IDENT:
        raise ValueError("no libxl header at %d" % pos)
    items.append(Item("libxl", "libxl", 0, None, pos, 16, pos + 16))
    pos += 16
    layer = "libxl"
    count = {"libxl": 0, "libxc": 0}
    while pos + 8 <= n:
        rtype, length = struct.unpack_from("<II", data, pos)
        end = pos + 8 + length + (8 - length % 8) % 8
        if end > n:
            break
        items.append(Item("rec", layer, count[layer], rtype, pos, length, end))
        count[layer] += 1
        pos = end
        if layer == "libxl":
            if rtype == xm.L_LIBXC_CONTEXT:
                if data[pos:pos + 8] == xm.LIBXC_MARKER and pos + 40 <= n:
                    items.append(Item("libxc-image", "libxc", 0, None, pos, 24, pos + 24))
                    items.append(Item("libxc-domain", "libxc", 0, None, pos + 24, 16, pos + 40))
                    pos += 40
                layer = "libxc"
            elif rtype == xm.L_CHECKPOINT_END:
                layer = "libxc"
            elif rtype == xm.L_END:
                break
        elif rtype in (xm.END, xm.CHECKPOINT):
            layer = "libxl"
    return items, pos


# ---- values ---------------------------------------------------------------------------------------------------

def values(rng, width, old, lengths=False):
    """The interesting values of xen_mutator.py for a field of WIDTH bytes holding OLD."""
    mask = (1 << (8 * width)) - 1
    pool = [0, 1, mask, 1 << (8 * width - 1), old + 1, old - 1, old + 8, old - 8]
    if width == 4:
        pool += [rng.choice(xm.INTERESTING_LENGTHS if lengths else xm.INTERESTING_U32)] * 3
    elif width == 8:
        pool += [rng.choice(xm.INTERESTING_U64)] * 2
    elif width == 2:
        pool += [0x7FFF, 0x8000, 0xFF, 0x100]
    for _ in range(8):
        v = rng.choice(pool) & mask
        if v != old:
            return v
    return (old ^ 1) & mask


def rd(data, off, width, big=False):
    return int.from_bytes(data[off:off + width], "big" if big else "little")


def pk(v, width, big=False):
    return v.to_bytes(width, "big" if big else "little")


# ---- field tables ---------------------------------------------------------------------------------------------
# (offset in the header/body, width, big-endian?, name); bodies' offsets are from the body's first byte.
HEADER_FIELDS = {
    "xl": [(32, 4, False, "byte order mark"), (36, 4, False, "mandatory_flags"), (40, 4, False, "optional_flags"),
           (44, 4, False, "optional_data_len")],
    "libxl": [(0, 4, False, "ident[0:4]"), (8, 4, True, "version"), (12, 4, True, "options")],
    "libxc-image": [(0, 8, False, "marker"), (8, 4, True, "id"), (12, 4, True, "version"), (16, 2, True, "options"),
                    (18, 2, True, "reserved")],
    "libxc-domain": [(0, 4, False, "type"), (4, 2, False, "page_shift"), (6, 2, False, "reserved"),
                     (8, 2, False, "xen_major"), (10, 2, False, "xen_minor")],
}
BODY_FIELDS = {
    ("libxc", xm.PV_INFO): [(0, 1, False, "guest_width"), (1, 1, False, "pt_levels"), (2, 2, False, "reserved1"),
                            (4, 4, False, "reserved2")],
    ("libxc", xm.P2M): [(0, 4, False, "start_pfn"), (4, 4, False, "end_pfn"), (8, 8, False, "p2m_pfns[0]")],
    ("libxc", xm.TSC): [(0, 4, False, "mode"), (4, 4, False, "khz"), (8, 8, False, "nsec"), (16, 4, False, "incarnation"),
                        (20, 4, False, "reserved")],
    ("libxc", xm.HVM_PARAMS): [(0, 4, False, "count"), (4, 4, False, "reserved")],
    ("libxl", xm.L_XS_DATA): [(0, 4, False, "emulator_id"), (4, 4, False, "index")],
    ("libxl", xm.L_EMU_CONTEXT): [(0, 4, False, "emulator_id"), (4, 4, False, "index")],
    ("libxl", xm.L_CHECKPOINT_STATE): [(0, 4, False, "control")],
}
for _t in (xm.VCPU_BASIC, xm.VCPU_EXT, xm.VCPU_XSAVE, xm.VCPU_MSRS):
    BODY_FIELDS[("libxc", _t)] = [(0, 4, False, "vcpu_id"), (4, 4, False, "reserved")]


# ---- edits: each returns (ops, comment) or None; ops are ("poke", off, bytes) or ("truncate", length) ------------

def poke_field(data, base_off, field, rng, what, lengths=False):
    off, width, big, fname = field
    old = rd(data, base_off + off, width, big)
    new = values(rng, width, old, lengths)
    return [("poke", base_off + off, pk(new, width, big))], "%s: %s 0x%x -> 0x%x" % (what, fname, old, new)


def e_header(data, items, rng):
    hs = [i for i in items if i.kind in HEADER_FIELDS]
    h = rng.choice(hs)
    return poke_field(data, h.off, rng.choice(HEADER_FIELDS[h.kind]), rng, h.name())


def recs(items, pred=lambda i: True):
    return [i for i in items if i.kind == "rec" and pred(i)]


def pick_rec(items, rng):
    """A record, its (layer, type) first: a stream of 1000 PAGE_DATA records and one TSC_INFO gives both a chance."""
    groups = {}
    for i in recs(items):
        groups.setdefault((i.layer, i.type), []).append(i)
    return rng.choice(groups[rng.choice(sorted(groups))])


def e_type(data, items, rng):
    r = pick_rec(items, rng)
    pool = list(XL_NAMES) if r.layer == "libxl" else list(XC_NAMES)
    new = rng.choice(pool + [0x13, 0x14, 0x15, 0x16, 0x7F, 0x80000000 | r.type, 0xFFFFFFFF, r.type + 1])
    new &= 0xFFFFFFFF
    if new == r.type:
        new = r.type ^ 0x80000000
    return [("poke", r.off, pk(new, 4))], "%s: type 0x%x -> 0x%x" % (r.name(), r.type, new)


def e_length(data, items, rng):
    r = pick_rec(items, rng)
    return poke_field(data, r.off, (4, 4, False, "length"), rng, r.name(), lengths=True)


def e_padding(data, items, rng):
    rs = recs(items, lambda i: i.length % 8)
    if not rs:
        return None
    r = rng.choice(rs)
    at = r.off + 8 + r.length + rng.randrange(8 - r.length % 8)
    v = rng.choice([1, 0x80, 0xFF])
    return [("poke", at, bytes([v]))], "%s: padding byte %d -> 0x%02x" % (r.name(), at - r.off - 8 - r.length, v)


def e_body(data, items, rng):
    rs = recs(items, lambda i: (i.layer, i.type) in BODY_FIELDS and i.length >= 4)
    if not rs:
        return None
    r = rng.choice(rs)
    fields = [f for f in BODY_FIELDS[(r.layer, r.type)] if f[0] + f[1] <= r.length]
    return poke_field(data, r.off + 8, rng.choice(fields), rng, r.name())


def e_words(data, items, rng):
    """A word in the first BODY_HEAD bytes of a vCPU context or shared-info page."""
    rs = recs(items, lambda i: i.layer == "libxc" and i.type in (xm.VCPU_BASIC, xm.VCPU_EXT, xm.VCPU_XSAVE,
                                                                    xm.VCPU_MSRS, xm.SHARED_INFO) and i.length >= 16)
    if not rs:
        return None
    r = rng.choice(rs)
    first = 0 if r.type == xm.SHARED_INFO else 8
    span = min(r.length, BODY_HEAD)
    off = first + 8 * rng.randrange(max(1, (span - first) // 8))
    return poke_field(data, r.off + 8, (off, 8, False, "word at body+%d" % off), rng, r.name())


def e_page_data(data, items, rng):
    rs = recs(items, lambda i: i.layer == "libxc" and i.type == xm.PAGE_DATA and i.length >= 16)
    if not rs:
        return None
    r = rng.choice(rs)
    b = r.off + 8
    count = rd(data, b, 4)
    x = rng.random()
    if x < 0.3 or count == 0:
        new = rng.choice([0, 1, count - 1, count + 1, 1024, 1025, 0xFFFFFFFF, 0x80000000, (r.length - 8) // 8]) & 0xFFFFFFFF
        if new == count:
            new = count + 1
        return [("poke", b, pk(new, 4))], "%s: count %d -> %d" % (r.name(), count, new)
    i = rng.randrange(min(count, (r.length - 8) // 8))
    w = rd(data, b + 8 + 8 * i, 8)
    if x < 0.65:
        t = rng.choice([t for t in PAGE_TYPES if t != w >> 60])
        nw = (w & ~(0xF << 60)) | (t << 60)
        what = "pfn[%d] type nibble 0x%x -> 0x%x" % (i, w >> 60, t)
    else:
        pfn = w & PFN_MASK
        other = rd(data, b + 8 + 8 * rng.randrange(min(count, (r.length - 8) // 8)), 8) & PFN_MASK
        np = rng.choice([PFN_MASK, PFN_MASK - 1, pfn + 1, 0, other, 1 << 32, 0x100000, 0x7FFFFFFF, pfn ^ (1 << 40)])
        nw = (w & ~PFN_MASK) | (np & PFN_MASK)
        if rng.random() < 0.15:
            nw |= 1 << rng.randrange(52, 60)   # a reserved bit between the pfn and the type
        what = "pfn[%d] 0x%x -> word 0x%x" % (i, pfn, nw)
    if nw == w:
        nw ^= 1
    return [("poke", b + 8 + 8 * i, pk(nw, 8))], "%s: %s" % (r.name(), what)


def hvm_entries(data, r):
    """(offset, typecode, instance, length) of the HVM save entries in an HVM_CONTEXT body (bounded walk)."""
    out = []
    p, end = r.off + 8, r.off + 8 + r.length
    while p + 8 <= end and len(out) < 256:
        tc, inst, ln = struct.unpack_from("<HHI", data, p)
        out.append((p, tc, inst, ln))
        if tc == 0:
            break
        p += 8 + ln
    return out


def e_hvm_context(data, items, rng):
    rs = recs(items, lambda i: i.layer == "libxc" and i.type == xm.HVM_CONTEXT and i.length >= 8)
    if not rs:
        return None
    r = rng.choice(rs)
    es = hvm_entries(data, r)
    k = rng.randrange(len(es))
    p, tc, inst, ln = es[k]
    f = rng.choice([(0, 2, False, "typecode"), (2, 2, False, "instance"), (4, 4, False, "length")])
    if f[3] == "typecode" and rng.random() < 0.6:
        new = rng.choice([0, 1, 2, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C,
                          0x20, 0x21, 0x3F, 0x40, 0xFFFF, tc + 1])
        if new == tc:
            new ^= 1
        return [("poke", p, pk(new, 2))], "%s: entry %d (typecode %d instance %d) typecode -> %d" % (r.name(), k, tc, inst, new)
    return poke_field(data, p, f, rng, "%s: entry %d (typecode %d instance %d)" % (r.name(), k, tc, inst),
                      lengths=f[3] == "length")


def e_entries(data, items, rng):
    """An entry of HVM_PARAMS, X86_CPUID_POLICY, X86_MSR_POLICY or X86_PV_VCPU_MSRS: its key or another field."""
    rs = recs(items, lambda i: i.layer == "libxc" and i.type in xm.ENTRY_LAYOUTS
              and i.length >= xm.ENTRY_LAYOUTS[i.type][0] + xm.ENTRY_LAYOUTS[i.type][1])
    if not rs:
        return None
    r = rng.choice(rs)
    first, size, fields = xm.ENTRY_LAYOUTS[r.type]
    k = rng.randrange((r.length - first) // size)
    fo, fw = rng.choice(fields)
    at = r.off + 8 + first + size * k
    what = "%s: entry %d field +%d/%d" % (r.name(), k, fo, fw)
    if fo == 0 and rng.random() < 0.5:   # a key at a limit or a neighbour's key
        old = rd(data, at, fw)
        other = rd(data, r.off + 8 + first + size * rng.randrange((r.length - first) // size), fw)
        new = rng.choice([other, 0, 0xFF, 0x100, 0x40000000, 0x80000000, 0xC0000080, 0xFFFFFFFF, old + 1])
        new &= (1 << (8 * fw)) - 1
        if new == old:
            new ^= 1
        return [("poke", at, pk(new, fw))], "%s (key) 0x%x -> 0x%x" % (what, old, new)
    return poke_field(data, at, (fo, fw, False, "value"), rng, what.rsplit(" field", 1)[0] + " field +%d" % fo)


def e_truncate(data, items, rng):
    r = pick_rec(items, rng)
    cuts = [("at the start of", r.off), ("1 byte before", r.off - 1), ("1 byte into", r.off + 1),
            ("after the 8-byte header of", r.off + 8), ("1 byte before the end of", r.end - 1), ("right after", r.end)]
    why, n = rng.choice(cuts)
    if not 0 < n < len(data):
        return None
    return [("truncate", n)], "truncate to %d (%s %s)" % (n, why, r.name())


EDITS = [(e_header, 6), (e_type, 8), (e_length, 10), (e_padding, 3), (e_body, 12), (e_words, 4), (e_page_data, 12),
         (e_hvm_context, 8), (e_entries, 8), (e_truncate, 8)]


def pick_edit(rng):
    x = rng.randrange(sum(w for _, w in EDITS))
    for f, w in EDITS:
        if x < w:
            return f
        x -= w
    return EDITS[-1][0]


def make_spec(data, items, rng):
    """1-3 edits: [(ops, comment)] with at most one truncation, every poke before it, no two pokes on one byte."""
    want = rng.choice([1, 1, 1, 2, 2, 3])
    edits, used, cut = [], set(), None
    for _ in range(want * 6):
        if len(edits) == want:
            break
        got = pick_edit(rng)(data, items, rng)
        if got is None:
            continue
        ops, comment = got
        if ops[0][0] == "truncate":
            if cut is not None:
                continue
            n = ops[0][1]
            if any(o + len(b) > n for e in edits for _, o, b in e[0]):
                continue
            cut = n
        else:
            _, o, b = ops[0]
            span = set(range(o, o + len(b)))
            if span & used or (cut is not None and o + len(b) > cut) or o + len(b) > len(data):
                continue
            used |= span
        edits.append((ops, comment))
    return edits


def spec_text(base_name, edits):
    lines = ["# mkfuzz: %d edit(s) of %s" % (len(edits), base_name)]
    lines += ["# edit %d: %s" % (k + 1, c) for k, (_, c) in enumerate(edits)]
    lines.append("base %s" % base_name)
    ops = [op for e in edits for op in e[0]]
    for op in sorted(ops, key=lambda op: op[0] != "truncate"):
        lines.append("truncate %d" % op[1] if op[0] == "truncate" else "poke %d %s" % (op[1], op[2].hex()))
    return "\n".join(lines) + "\n"


def generate(bases, count, seed, outdir):
    os.makedirs(outdir, exist_ok=True)
    loaded = []
    for path in bases:
        data = read_stream(path)
        items, _ = walk(data)
        loaded.append((stream_name(path), data, items))
    rng = random.Random("mkfuzz:%d" % seed)
    names = []
    for k in range(count):
        bn, data, items = loaded[k % len(loaded)]
        edits = make_spec(data, items, rng)
        if not edits:
            continue
        short = bn.replace(".xl", "").replace(".s2r", "")
        name = "f%05d-%s" % (k, short)
        with open(os.path.join(outdir, name + ".bad"), "w") as f:
            f.write(spec_text(bn, edits))
        names.append(name)
    return names


# ---- spec I/O -------------------------------------------------------------------------------------------------

def stream_name(path):
    b = os.path.basename(path)
    return b[:-4] if b.endswith(".zst") else b


def read_stream(path):
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-q", "-d", "-c", path], check=True, stdout=subprocess.PIPE).stdout
    with open(path, "rb") as f:
        return f.read()


def parse_spec(path):
    base, ops, comments = None, [], []
    for line in open(path):
        w = line.split()
        if not w:
            continue
        if line.startswith("#"):
            comments.append(line.rstrip("\n"))
        elif w[0] == "base":
            base = w[1]
        elif w[0] == "truncate":
            ops.append(("truncate", int(w[1])))
        elif w[0] == "poke":
            ops.append(("poke", int(w[1]), bytes.fromhex(w[2])))
    return base, ops, comments


def apply_ops(data, ops):
    """As runner.sh's apply_bad: the ops in order (truncate cuts; a poke past the end extends with zeros)."""
    out = bytearray(data)
    for op in ops:
        if op[0] == "truncate":
            del out[op[1]:]
        else:
            _, o, b = op
            if o > len(out):
                out.extend(bytes(o - len(out)))
            out[o:o + len(b)] = b
    return bytes(out)


def find_base(basedir, name):
    """BASEDIR may list several folders, separated by ':' (say OUT/fuzz-bases:corpus/real); the first that holds
    NAME or NAME.zst wins."""
    for d in basedir.split(os.pathsep):
        for cand in (os.path.join(d, name), os.path.join(d, name + ".zst")):
            if os.path.exists(cand):
                return cand
    raise FileNotFoundError("base %s not in %s (nor %s.zst)" % (name, basedir, name))


def reduce_candidates(spec_path, outdir, base_len=None):
    """Each candidate drops one edit (the spec's `# edit K:` comments group its ops in order); a truncation is also
    raised halfway toward the base's end (the caller gives base_len), 4 steps at most."""
    base, ops, comments = parse_spec(spec_path)
    edits = [c for c in comments if c.startswith("# edit ")]
    stem = os.path.basename(spec_path)[:-4]
    os.makedirs(outdir, exist_ok=True)
    out = []
    # ops are in spec order: a truncation first, then pokes; match them to edits by the comment text
    cut = [op for op in ops if op[0] == "truncate"]
    pokes = [op for op in ops if op[0] == "poke"]
    if len(edits) > 1 and len(edits) == len(cut) + len(pokes):
        tagged = []   # (comment, op) in edit order: a truncate comment starts with "truncate to"
        pi = iter(pokes)
        for c in edits:
            tagged.append((c, cut[0] if ": truncate to " in c else next(pi)))
        subsets = [(tagged[:k] + tagged[k + 1:], "r%d" % (k + 1), "edit %d dropped" % (k + 1)) for k in range(len(tagged))]
        if len(tagged) == 3:   # two rounds at once: each edit alone too
            subsets += [([tagged[k]], "s%d" % (k + 1), "edit %d alone" % (k + 1)) for k in range(3)]
        for keep, tag, why in subsets:
            name = "%s-%s" % (stem, tag)
            text = ["# reduction of %s: %s" % (stem, why)] + [c for c, _ in keep] + ["base %s" % base]
            text += ["truncate %d" % op[1] for _, op in keep if op[0] == "truncate"]
            text += ["poke %d %s" % (op[1], op[2].hex()) for _, op in keep if op[0] == "poke"]
            with open(os.path.join(outdir, name + ".bad"), "w") as f:
                f.write("\n".join(text) + "\n")
            out.append(name)
    if cut and base_len:
        n = cut[0][1]
        for s in range(1, 5):
            n = (n + base_len) // 2
            if n >= base_len:
                break
            name = "%s-t%d" % (stem, s)
            text = ["# reduction of %s: truncation raised to %d" % (stem, n)] + edits + ["base %s" % base, "truncate %d" % n]
            text += ["poke %d %s" % (op[1], op[2].hex()) for op in pokes if op[1] + len(op[2]) <= n]
            with open(os.path.join(outdir, name + ".bad"), "w") as f:
                f.write("\n".join(text) + "\n")
            out.append(name)
    return out


# ---- self-test ------------------------------------------------------------------------------------------------

def rec(rtype, body):
    return struct.pack("<II", rtype, len(body)) + body + bytes((8 - len(body) % 8) % 8)


def synthetic():
    cfg = b'{"c_info": {"type": "pv", "name": "t"}}\n\x00'
    xl = xm.XL_MAGIC + struct.pack("<IIII", 0x01020304, 0, 0, len(cfg)) + cfg
    libxl = xm.LIBXL_IDENT + struct.pack(">II", 2, 0)
    image = xm.LIBXC_MARKER + b"XENF" + struct.pack(">IHHI", 3, 1, 0, 0)
    domain = struct.pack("<IHHHH", 1, 12, 0, 4, 17) + bytes(4)
    pd = struct.pack("<II", 2, 0) + struct.pack("<QQ", 0, (1 << 60) | 1) + bytes(8192)
    hvm = struct.pack("<HHI", 1, 0, 4) + b"abcd" + struct.pack("<HHI", 2, 0, 4) + b"efgh" + struct.pack("<HHI", 0, 0, 0)
    libxc = (rec(xm.PV_INFO, struct.pack("<BB6x", 8, 4)) + rec(xm.P2M, struct.pack("<IIQ", 0, 511, 77))
             + rec(xm.TSC, struct.pack("<IIQII", 0, 1000000, 5, 1, 0)) + rec(xm.PAGE_DATA, pd)
             + rec(xm.HVM_CONTEXT, hvm) + rec(xm.HVM_PARAMS, struct.pack("<IIQQ", 1, 0, 12, 34))
             + rec(xm.CPUID, bytes(48)) + rec(xm.MSR, bytes(32)) + rec(xm.VCPU_BASIC, struct.pack("<II", 0, 0) + bytes(64))
             + rec(xm.SHARED_INFO, bytes(4096)) + rec(0x10, b"") + rec(xm.END, b""))
    tail = rec(xm.L_XS_DATA, struct.pack("<II", 0, 0) + b"k\x00v\x00x") + rec(xm.L_END, b"")
    return xl + libxl + rec(xm.L_LIBXC_CONTEXT, b"") + image + domain + libxc + tail


def self_test():
    import tempfile
    data = synthetic()
    items, end = walk(data)
    assert end == len(data), (end, len(data))
    kinds = [i.kind for i in items]
    assert kinds[:2] == ["xl", "libxl"] and "libxc-image" in kinds and "libxc-domain" in kinds, kinds
    xc = [i.type for i in items if i.kind == "rec" and i.layer == "libxc"]
    assert xc == [2, 3, 8, 1, 9, 10, 17, 18, 4, 7, 16, 0], xc
    lx = [i.type for i in items if i.kind == "rec" and i.layer == "libxl"]
    assert lx == [1, 2, 0], lx
    with tempfile.TemporaryDirectory() as d:
        base = os.path.join(d, "syn.xl")
        open(base, "wb").write(data)
        a = generate([base], 300, 7, os.path.join(d, "a"))
        b = generate([base], 300, 7, os.path.join(d, "b"))
        c = generate([base], 300, 8, os.path.join(d, "c"))
        ta = [open(os.path.join(d, "a", n + ".bad")).read() for n in a]
        tb = [open(os.path.join(d, "b", n + ".bad")).read() for n in b]
        tc = [open(os.path.join(d, "c", n + ".bad")).read() for n in c]
        assert a == b and ta == tb, "not deterministic for a seed"
        assert ta != tc, "another seed gave the same specs"
        fields = set()
        for n, t in zip(a, ta):
            sb, ops, comments = parse_spec(os.path.join(d, "a", n + ".bad"))
            assert sb == "syn.xl"
            edits = [c for c in comments if c.startswith("# edit ")]
            assert 1 <= len(edits) <= 3 and len(edits) == len(ops), t
            cuts = [op for op in ops if op[0] == "truncate"]
            assert len(cuts) <= 1 and (not cuts or ops[0][0] == "truncate"), t
            lim = cuts[0][1] if cuts else len(data)
            for op in ops:
                if op[0] == "poke":
                    assert op[1] + len(op[2]) <= lim, t
                    assert data[op[1]:op[1] + len(op[2])] != op[2], "a poke that changes nothing: " + t
            m = apply_ops(data, ops)
            assert len(m) == lim and m != data, t
            for c in edits:
                fields.add(c.split(": ")[-1].split(" ")[0])
                assert "@" in c or "truncate" in c, c
        # the field kinds the generator reaches on this stream
        for want in ("type", "length", "count", "typecode", "vcpu_id", "truncate", "version", "instance"):
            assert any(f.startswith(want) for f in fields) or any(want in t for t in ta), (want, sorted(fields))
        for want in ("HVM_CONTEXT", "PAGE_DATA", "X86_CPUID_POLICY", "HVM_PARAMS", "EMULATOR_XENSTORE_DATA",
                     "libxc-domain header", "xl header", "SHARED_INFO", "padding byte"):
            assert any(want in t for t in ta), want
        for n in a[:60]:
            sp = os.path.join(d, "a", n + ".bad")
            assert mutant_sha(sp, d, {}) == hashlib.sha256(apply_ops(data, parse_spec(sp)[1])).hexdigest()[:16], n
        # a serial log: two results, then a mutant whose result never came (the boot died)
        serial = os.path.join(d, "serial.log")
        with open(serial, "w") as f:
            f.write("LAB: scenario findings start uptime=1\nLAB: FUZZ-START x\nLAB: FUZZ\tx\tsyn.xl\trestore\trefused\t1\t1\t-\t-\n")
            f.write("LAB: scenario real-restore start uptime=2\n")
            f.write("LAB: FUZZ-START %s\r\nLAB: FUZZ\t%s\tsyn.xl\trestore\trefused\t1\t0.5\t-\txc: error: x\r\n" % (a[0], a[0]))
            f.write("LAB: FUZZ-START %s\nLAB: FUZZ\t%s\tsyn.xl\trestore\txl-crash\t139\t0.7\tpv1,\tsegfault\n" % (a[1], a[1]))
            f.write("LAB: FUZZ-START %s\n(XEN) something\n" % a[2])
        rows, died, done = collect(serial, os.path.join(d, "a"), d, os.path.join(d, "real-restore.tsv"))
        os.rename(os.path.join(d, "real-restore.tsv"), os.path.join(d, "res.tsv"))
        assert [r[3] for r in rows] == ["refused", "xl-crash", "boot-died"] and died == a[2] and not done, rows
        res = open(os.path.join(d, "res.tsv")).read().splitlines()
        assert res[1].split("\t")[-1] == mutant_sha(os.path.join(d, "a", a[0] + ".bad"), d, {}), res
        man = os.path.join(d, "MANIFEST.tsv")
        open(man, "w").write("name\tbase\txen\tcommand\tclass\n%s\tsyn.xl\t4.17\trestore\trefused\n"
                             "%s\tsyn.xl\t4.17\trestore\txl-crash\n%s\tsyn.xl\t4.20\trestore\trefused\n" % (a[0], a[1], a[5]))
        assert check_findings(os.path.join(d, "res.tsv"), man, "4.17") == 0
        open(man, "a").write("%s\tsyn.xl\t4.17\trestore\taccepted-dead|boot-died\n" % a[2])
        assert check_findings(os.path.join(d, "res.tsv"), man, "4.17") == 0
        open(man, "a").write("%s\tsyn.xl\t4.17\trestore\trefused\n" % a[2])
        assert check_findings(os.path.join(d, "res.tsv"), man, "4.17") == 1
        # --apply writes what apply_ops computes; --reduce drops one edit at a time
        multi = next(n for n, t in zip(a, ta) if t.count("# edit ") == 3 and "truncate to" not in t)
        sp = os.path.join(d, "a", multi + ".bad")
        out = os.path.join(d, "m.bin")
        assert main(["--apply", sp, d, out]) == 0
        assert open(out, "rb").read() == apply_ops(data, parse_spec(sp)[1])
        red = reduce_candidates(sp, os.path.join(d, "r"))
        assert len(red) == 6, red
        for k, n in enumerate(red):
            _, rops, rcom = parse_spec(os.path.join(d, "r", n + ".bad"))
            want = 2 if k < 3 else 1
            assert len(rops) == want and len([c for c in rcom if c.startswith("# edit ")]) == want
        import shutil, io, contextlib
        shutil.copy(sp, os.path.join(d, "r", multi + ".bad"))
        classes = {multi: "xl-crash", multi + "-r1": "xl-crash", multi + "-s2": "xl-crash"}
        with open(os.path.join(d, "red.tsv"), "w") as f:
            f.write("\t".join(FUZZ_COLUMNS) + "\n")
            for n in [multi] + red:
                f.write("%s\tsyn.xl\trestore\t%s\t1\t1\t-\t-\n" % (n, classes.get(n, "refused")))
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            minimal(os.path.join(d, "red.tsv"), os.path.join(d, "r"))
        assert buf.getvalue() == "%s\txl-crash\t%s-s2\n" % (multi, multi), buf.getvalue()
        cutspec = next(n for n, t in zip(a, ta) if "truncate to" in t)
        red = reduce_candidates(os.path.join(d, "a", cutspec + ".bad"), os.path.join(d, "rt"), len(data))
        lens = [parse_spec(os.path.join(d, "rt", n + ".bad"))[1][0][1] for n in red if "-t" in n]
        assert lens == sorted(lens) and all(x < len(data) for x in lens), lens
    print("mkfuzz self-test: ok (%d specs per seed, %d field kinds)" % (len(a), len(fields)))
    return 0


FUZZ_COLUMNS = ["spec", "base", "command", "class", "rc", "seconds", "leftover", "xen_message"]


def mutant_sha(spec_path, basedir, cache):
    base, ops, _ = parse_spec(spec_path)
    if base not in cache:   # every base stays loaded (a run has a few, ~140 MB each)
        cache[base] = read_stream(find_base(basedir, base))
    data = cache[base]
    h = hashlib.sha256()
    cut = next((op[1] for op in ops if op[0] == "truncate"), len(data))
    pokes = sorted((op[1], op[2]) for op in ops if op[0] == "poke")
    mv, pos = memoryview(data), 0
    for o, b in pokes:   # a spec's pokes do not overlap and lie before its truncation (mkfuzz writes them so)
        h.update(mv[pos:o])
        h.update(b)
        pos = o + len(b)
    if pos < cut:
        h.update(mv[pos:cut])
    return h.hexdigest()[:16]


def collect(serial, specdir, basedir, out):
    """The runner's per-mutant console lines -> OUT (TSV with the mutant's sha256 prefix); returns (rows, died)."""
    rows, started, summary, done = [], None, "", False
    # one boot may run both fuzz scenarios: only the lines of OUT's scenario (OUT is named SCENARIO.tsv by lab.sh)
    scen = os.path.basename(out)[:-4] if out.endswith(".tsv") else None
    lines = [raw.decode("utf-8", "replace").rstrip("\r\n").replace("\r", "") for raw in open(serial, "rb")]
    if not any(l == "LAB: scenario %s start" % scen or l.startswith("LAB: scenario %s start " % scen) for l in lines):
        scen = None
    current = None
    for line in lines:
        if line.startswith("LAB: scenario "):
            current = line.split()[2]
            continue
        if scen is not None and current != scen:
            if line.startswith("LAB: runner done"):
                done = True
            continue
        if line.startswith("LAB: FUZZ-START "):
            started = line.split()[2]
        elif line.startswith("LAB: FUZZ\t"):
            f = line.split("\t")[1:]
            if len(f) >= len(FUZZ_COLUMNS):
                rows.append(f[:len(FUZZ_COLUMNS)])
                started = None
        elif line.startswith("LAB: FUZZ-SUMMARY "):
            summary = line[len("LAB: FUZZ-SUMMARY "):]
        elif line.startswith("LAB: runner done"):
            done = True
    died = None
    if started is not None:
        base = parse_spec(os.path.join(specdir, started + ".bad"))[0]
        died = started
        rows.append([started, base, "-", "boot-died", "-", "-", "-",
                     "the boot ended during this mutant (no result line): dom0 or hypervisor crash, or the boot's time limit"])
    cache = {}
    with open(out, "w") as f:
        f.write("\t".join(FUZZ_COLUMNS + ["sha256"]) + "\n")
        for r in rows:
            try:
                sha = mutant_sha(os.path.join(specdir, r[0] + ".bad"), basedir, cache)
            except (OSError, ValueError):
                sha = "-"
            f.write("\t".join(r + [sha]) + "\n")
    counts = {}
    for r in rows:
        counts[r[3]] = counts.get(r[3], 0) + 1
    print("mkfuzz collect: %d mutants; %s; %s%s" % (len(rows), " ".join("%s=%d" % kv for kv in sorted(counts.items())),
                                                    summary or "no summary line",
                                                    "" if done else "; the runner did not finish"))
    if died:
        print("mkfuzz collect: the boot died during %s" % died)
    return rows, died, done


def check_findings(results, manifest, xen):
    got = {}
    for line in open(results):
        f = line.rstrip("\n").split("\t")
        if f[0] != "spec":
            got[f[0]] = f[3]
    bad, n = [], 0
    for line in open(manifest):
        f = line.rstrip("\n").split("\t")
        if not f or f[0] in ("", "name") or f[0].startswith("#") or len(f) < 5 or f[2] != xen:
            continue
        n += 1
        if got.get(f[0]) not in f[4].split("|"):   # "a|b": either class (a finding whose outcome varies between runs)
            bad.append("%s: expected %s, got %s" % (f[0], f[4], got.get(f[0], "no result")))
    print("%s\t%d findings of Xen %s replayed; %s" % ("PASS" if not bad and n else "FAIL", n, xen,
                                                    "; ".join(bad) if bad else "all match the manifest"))
    return 0 if not bad and n else 1


INTERESTING = ("xl-crash", "half-built", "hang", "xen-crash", "boot-died", "accepted-alive", "accepted-dead")


def verify(cli, path, command="restore"):
    """(verdict, first error line) of `verify --profile restore`: rc 0 VALID, 1 INVALID. A mutant fed to a Remus
    receiver (xl migrate-receive -r) is verified as the checkpointed stream that receiver expects (--checkpointed yes:
    a stream cut before its first CHECKPOINT_END is then judged as a Remus stream, not as a plain one)."""
    extra = ["--checkpointed", "yes"] if command == "remus-receive" else []
    p = subprocess.run([cli, "verify", "--profile", "restore"] + extra + [path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=600)
    out = p.stdout.decode("utf-8", "replace").splitlines()
    first = next((l for l in out if l.startswith("error ")), "")
    last = out[-1] if out else ""
    verdict = "VALID" if " VALID " in last else "INVALID" if " INVALID " in last else "rc=%d" % p.returncode
    return verdict, first or last


def triage(results, specdir, basedir, out, cli=None, every=False):
    cli = cli or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "streambench")
    cache = {}
    rows = [l.rstrip("\n").split("\t") for l in open(results)][1:]
    tmp = out + ".mutant"
    n = 0
    with open(out, "w") as f:
        f.write("spec\tbase\tcommand\tclass\trc\txen_message\tverify\tverify_first_error\n")
        for r in rows:
            if r[3] not in INTERESTING and not every:
                continue
            base, ops, _ = parse_spec(os.path.join(specdir, r[0] + ".bad"))
            if base not in cache:
                cache[base] = read_stream(find_base(basedir, base))
            with open(tmp, "wb") as m:
                m.write(apply_ops(cache[base], ops))
            v, first = verify(cli, tmp, r[2])
            f.write("\t".join([r[0], r[1], r[2], r[3], r[4], r[7], v, first]) + "\n")
            print("%s %s %s -> verify %s: %s" % (r[0], r[2], r[3], v, first))
            n += 1
    if os.path.exists(tmp):
        os.remove(tmp)
    print("mkfuzz triage: %d finding candidates verified" % n)
    return 0


def reduce_all(triage_tsv, specdir, basedir, outdir):
    """The reduction candidates of every triaged spec (plus the spec itself, to see its class again in the same boot)."""
    import shutil
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for line in list(open(triage_tsv))[1:]:
        name = line.rstrip("\n").split("\t")[0]
        sp = os.path.join(specdir, name + ".bad")
        shutil.copy(sp, os.path.join(outdir, name + ".bad"))
        base = parse_spec(sp)[0]
        n += 1 + len(reduce_candidates(sp, outdir, len(read_stream(find_base(basedir, base)))))
    print("mkfuzz reduce-all: %d specs (originals and candidates) in %s" % (n, outdir))
    return 0


def minimal(results_tsv, specdir):
    """For each original spec of a reduction run: the candidate with the fewest ops (then the longest truncation) whose
    class is the original's; prints ORIGINAL<TAB>CLASS<TAB>MINIMAL."""
    got = {}
    for line in list(open(results_tsv))[1:]:
        f = line.rstrip("\n").split("\t")
        got[f[0]] = f[3]
    import re
    for name in sorted(n for n in got if not re.search(r"-[rst][0-9]+$", n)):
        cl = got[name]
        best, key = name, None
        for cand in [name] + [c for c in got if re.fullmatch(re.escape(name) + r"-[rst][0-9]+", c)]:
            if got[cand] != cl:
                continue
            _, ops, _ = parse_spec(os.path.join(specdir, cand + ".bad"))
            cut = next((op[1] for op in ops if op[0] == "truncate"), 1 << 62)
            k = (len(ops), -cut)
            if key is None or k < key:
                best, key = cand, k
        print("%s\t%s\t%s" % (name, cl, best))
    return 0


def main(argv):
    if argv[:1] == ["--self-test"]:
        return self_test()
    if argv[:1] == ["--collect"] and len(argv) == 5:
        collect(*argv[1:])
        return 0
    if argv[:1] == ["--check-findings"] and len(argv) == 4:
        return check_findings(*argv[1:])
    if argv[:1] == ["--triage"] and len(argv) in (5, 6):
        return triage(*argv[1:])
    if argv[:1] == ["--triage-all"] and len(argv) in (5, 6):
        return triage(*argv[1:5], cli=argv[5] if len(argv) == 6 else None, every=True)
    if argv[:1] == ["--reduce-all"] and len(argv) == 5:
        return reduce_all(*argv[1:])
    if argv[:1] == ["--minimal"] and len(argv) == 3:
        return minimal(*argv[1:])
    if argv[:1] == ["--walk"] and len(argv) == 2:
        items, end = walk(read_stream(argv[1]))
        for i in items:
            print(i.name())
        print("end of records at %d" % end)
        return 0
    if argv[:1] == ["--apply"] and len(argv) == 4:
        base, ops, _ = parse_spec(argv[1])
        data = apply_ops(read_stream(find_base(argv[2], base)), ops)
        with open(argv[3], "wb") as f:
            f.write(data)
        print("%s: %s + %d op(s) -> %s (%d bytes, sha256 %s)" % (argv[1], base, len(ops), argv[3], len(data),
                                                                   hashlib.sha256(data).hexdigest()[:16]))
        return 0
    if argv[:1] == ["--reduce"] and len(argv) in (3, 4):
        base_len = None
        if len(argv) == 4:
            base, _, _ = parse_spec(argv[1])
            base_len = len(read_stream(find_base(argv[3], base)))
        for n in reduce_candidates(argv[1], argv[2], base_len):
            print(n)
        return 0
    bases, count, seed, rest = [], None, 0, list(argv)
    while rest:
        a = rest.pop(0)
        if a == "--count":
            count = int(rest.pop(0))
        elif a == "--seed":
            seed = int(rest.pop(0))
        else:
            bases.append(a)
    if count is None or len(bases) < 2:
        sys.stderr.write(__doc__)
        return 2
    outdir = bases.pop()
    names = generate(bases, count, seed, outdir)
    print("mkfuzz: %d specs from %s (seed %d) in %s" % (len(names), " ".join(stream_name(b) for b in bases), seed, outdir))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (OSError, ValueError) as e:   # a missing or unreadable path, a malformed spec: one line, exit 1
        sys.exit("mkfuzz.py: %s" % e)
