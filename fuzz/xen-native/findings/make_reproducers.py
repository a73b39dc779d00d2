"""Writes the minimal reproducers of the findings in Xen's restore code (docs/FUZZING.md, "Findings in Xen's restore
code"). Usage: make_reproducers.py [--xl BASE] NAME OUT, or make_reproducers.py --list. NAME is one of:

xn1: a libxc v2 stream of a 64-bit PV guest (pfns 0..1) whose only page is an L1 page table with one present PTE
     naming pfn 0xfffffffff, far beyond max_pfn. Xen's x86_pv_localise_page() looks that pfn up in its p2m without a
     bounds check (only an assert, compiled out in release builds): an out-of-bounds read.
xn2: the same stream with X86_PV_P2M_FRAMES end_pfn 0: max_pfn stays 0, expand_p2m() is never called, and
     handle_x86_pv_p2m_frames() stores the frame into the NULL p2m_pfns array.
xn2-start-info: XN-2's third path: a 64-bit PV stream of X86_PV_INFO and vcpu0's X86_PV_VCPU_BASIC (all zero: start
     info in pfn 0), then END: no X86_PV_P2M_FRAMES, no page, so at completion process_start_info() reads
     pfn_types[0] through NULL.
xn3: an image and domain header with page_shift 38: read_headers() computes 1U << 38 (undefined behaviour).
xn4: a libxc v2 HVM stream whose one PAGE_DATA pfn is 2^36: pfn_set_populated() grows its bitmap to 16 GiB (2^37 bits).
xn5: a libxc v2 HVM stream with an empty HVM_PARAMS record: handle_hvm_params() computes hdr->param on the NULL body
     before its length check (undefined behaviour, no access).
xl1-end, xl1-body: corpus/synthetic/libxl-hvm.bin without its last 8 bytes (the libxl END record) and without its
     last 108 (inside the EMULATOR_CONTEXT body): libxl's reader takes end-of-file as the record's end.
xl2, xl3, xl4: a COLO back channel of one record: CHECKPOINT_STATE with length 0 (a NULL body dereferenced), END
     (stream_complete's assert), EMULATOR_XENSTORE_DATA (the absent domain-create state).
xl5: a libxl stream whose first record is EMULATOR_CONTEXT with a length of 0xfffffff0: libxl allocates it whole.
xl6: corpus/synthetic/libxl-remus-failover.bin cut right after its last libxc CHECKPOINT record: libxl spins at EOF.

--xl BASE (an `xl save` file, e.g. a decompressed corpus/real/save-pv.xl.zst): the reproducer framed for a real
`xl restore` (the lab's replay-streams scenario): a libxc reproducer (xn1..xn5) goes inside BASE's xl header, libxl
header and LIBXC_CONTEXT record, followed by a libxl END record; a libxl one (xl5) follows BASE's xl header. BASE
gives the xl config (its guest type should match: save-pv for xn1/xn2, save-hvm for xn3..xn5). The back-channel
reproducers (xl2..xl4) and the synthetic-stream ones (xl1-*, xl6) have no such framing."""
import os, struct, sys

NAMES = ["xn1", "xn2", "xn2-start-info", "xn3", "xn4", "xn5", "xl1-end", "xl1-body", "xl2", "xl3", "xl4", "xl5", "xl6"]
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))

def record(rtype, body):
    pad = (8 - len(body) % 8) % 8
    return struct.pack("<II", rtype, len(body)) + body + b"\0" * pad

if len(sys.argv) == 2 and sys.argv[1] == "--list":
    print("\n".join(NAMES))
    sys.exit(0)
xl_base = None
if len(sys.argv) == 5 and sys.argv[1] == "--xl":
    xl_base = sys.argv[2]
    del sys.argv[1:3]
if len(sys.argv) != 3 or sys.argv[1] not in NAMES:
    sys.exit("usage: make_reproducers.py [--xl BASE] NAME OUT (NAME: " + " | ".join(NAMES) + "), or make_reproducers.py --list")
name, path = sys.argv[1], sys.argv[2]
if xl_base is not None and name not in ("xn1", "xn2", "xn2-start-info", "xn3", "xn4", "xn5", "xl5"):
    sys.exit("make_reproducers.py: --xl frames xn1..xn5 and xl5 only")

def corpus(rel):
    with open(os.path.join(ROOT, "corpus", rel), "rb") as f:
        return f.read()

def xl_frame(data):
    """BASE's xl header (and, for a libxc stream, its libxl header and LIBXC_CONTEXT record) around DATA."""
    try:
        with open(xl_base, "rb") as f:
            head = f.read(1 << 20)
    except OSError as e:
        sys.exit(f"make_reproducers.py: --xl {xl_base}: {e.strerror}")
    if head[:32] != b"Xen saved domain, xl format\n \0 \r":
        sys.exit("make_reproducers.py: --xl " + xl_base + " is not an xl save file")
    lx = 48 + struct.unpack_from("<I", head, 44)[0]
    if data[:8] == b"LibxlFmt":
        return head[:lx] + data
    if head[lx:lx + 8] != b"LibxlFmt" or struct.unpack_from("<II", head, lx + 16) != (1, 0):
        sys.exit("make_reproducers.py: --xl " + xl_base + ": no libxl header and LIBXC_CONTEXT record after the xl header")
    return head[:lx + 24] + data + struct.pack("<II", 0, 0)

def write(data):
    if xl_base is not None:
        data = xl_frame(bytes(data))
    with open(path, "wb") as f:
        f.write(data)
    sys.exit(0)

if name in ("xl1-end", "xl1-body"):
    whole = corpus("synthetic/libxl-hvm.bin")
    write(whole[:len(whole) - (8 if name == "xl1-end" else 108)])
if name in ("xl2", "xl3", "xl4"):
    write(bytes.fromhex({"xl2": "0500000000000000", "xl3": "0000000000000000", "xl4": "02000000080000000000000000000000"}[name]))
if name == "xl5":
    write(corpus("synthetic/libxl-hvm.bin")[:16] + struct.pack("<II", 3, 0xFFFFFFF0) + bytes(64))
if name == "xl6":
    whole = corpus("synthetic/libxl-remus-failover.bin")
    write(whole[:whole.rindex(struct.pack("<II", 14, 0)) + 8])

out = bytearray()
if name == "xn4":
    out += struct.pack(">QIIHHI", 0xFFFFFFFFFFFFFFFF, 0x58454E46, 2, 0, 0, 0)
    out += struct.pack("<IHHII", 2, 12, 0, 4, 17)                            # x86 HVM, 4 KiB pages
    out += record(1, struct.pack("<II", 1, 0) + struct.pack("<Q", 1 << 36) + bytes(4096))  # PAGE_DATA: pfn 2^36
    out += record(0, b"")
    write(out)
if name == "xn5":
    out += struct.pack(">QIIHHI", 0xFFFFFFFFFFFFFFFF, 0x58454E46, 2, 0, 0, 0)
    out += struct.pack("<IHHII", 2, 12, 0, 4, 17)                            # x86 HVM, 4 KiB pages
    out += record(0x0A, b"")                                                 # HVM_PARAMS, length 0
    out += record(0, b"")
    write(out)
if name == "xn2-start-info":
    out += struct.pack(">QIIHHI", 0xFFFFFFFFFFFFFFFF, 0x58454E46, 2, 0, 0, 0)
    out += struct.pack("<IHHII", 1, 12, 0, 4, 17)                            # x86 PV, 4 KiB pages
    out += record(2, struct.pack("<BB6x", 8, 4))                             # X86_PV_INFO: 64-bit, 4 levels
    out += record(4, struct.pack("<II", 0, 0) + bytes(5168))                 # X86_PV_VCPU_BASIC vcpu 0: a zero x86_64 context
    out += record(0, b"")
    write(out)
if name == "xn3":
    out += struct.pack(">QIIHHI", 0xFFFFFFFFFFFFFFFF, 0x58454E46, 3, 0, 0, 0)
    out += struct.pack("<IHHII", 2, 38, 0, 4, 17)                            # x86 HVM, page_shift 38
    out += record(0, b"")
    write(out)
out += struct.pack(">QIIHHI", 0xFFFFFFFFFFFFFFFF, 0x58454E46, 2, 0, 0, 0)   # image header, v2, little-endian
out += struct.pack("<IHHII", 1, 12, 0, 4, 17)                                # domain header: x86 PV, 4 KiB pages, Xen 4.17
out += record(2, struct.pack("<BB6x", 8, 4))                                 # X86_PV_INFO: 64-bit, 4 levels
end_pfn = 0 if name == "xn2" else 1
out += record(3, struct.pack("<IIQ", 0, end_pfn, 0))                         # X86_PV_P2M_FRAMES: pfns 0..end_pfn, p2m in pfn 0
page = bytearray(4096)
struct.pack_into("<Q", page, 0, (0xFFFFFFFFF << 12) | 1)                      # PTE 0: present, pfn 0xfffffffff
out += record(1, struct.pack("<II", 1, 0) + struct.pack("<Q", (1 << 60) | 0) + bytes(page))  # PAGE_DATA: pfn 0, L1TAB
out += record(0, b"")                                                        # END
write(out)
