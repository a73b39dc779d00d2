#!/usr/bin/env python3
"""Write tiny hand-made Xen migration streams (for checking the oracle tools).

usage: make-tiny-stream.py OUTDIR
Writes:
  tiny-hvm.libxc        bare libxc v3 HVM stream: ihdr, dhdr(HVM, 4.17), STATIC_DATA_END,
                        PAGE_DATA (1 page), X86_TSC_INFO, HVM_CONTEXT, HVM_PARAMS, END
  tiny-hvm.libxl        the same wrapped in a libxl v2 stream (LIBXC_CONTEXT ... END)
  tiny-hvm.xl           the libxl stream behind an `xl save` header (STREAMv2 | JSON)
  tiny-hvm.truncated    tiny-hvm.libxc minus its last 4 bytes (must be rejected)
  tiny-hvm.legacy64     a legacy (pre-v2) 64-bit-toolstack HVM libxc image with no qemu
                        record (for convert-legacy-stream -g hvm -w 64 --skip-qemu)
"""
import os, struct, sys

def rec(rtype, body=b""):
    pad = (8 - len(body) % 8) % 8
    return struct.pack("<II", rtype, len(body)) + body + b"\0" * pad

def libxc_hvm():
    out = struct.pack(">QIIHHI", 0xFFFFFFFFFFFFFFFF, 0x58454E46, 3, 0, 0, 0)   # image header (BE)
    out += struct.pack("<IHHII", 2, 12, 0, 4, 17)                              # domain header: HVM, 4.17
    out += rec(0x10)                                                           # STATIC_DATA_END
    page = bytes((i * 7) & 0xFF for i in range(4096))
    out += rec(0x01, struct.pack("<IIQ", 1, 0, 0x100) + page)                  # PAGE_DATA pfn 0x100, NOTAB
    out += rec(0x08, struct.pack("<IIQII", 0, 1000000, 0, 0, 0))               # X86_TSC_INFO
    # HVM_CONTEXT: HEADER descriptor (code 1) + END descriptor (code 0); Xen parses it, verify does not
    hdr = struct.pack("<IIIIQ", 0x54381286, 1, 0, 0, 1000000)[:24]
    hvmctx = struct.pack("<HHI", 1, 0, len(hdr)) + hdr + struct.pack("<HHI", 0, 0, 0)
    out += rec(0x09, hvmctx)
    out += rec(0x0A, struct.pack("<II", 1, 0) + struct.pack("<QQ", 1, 0xFEFFF))  # HVM_PARAMS STORE_PFN
    out += rec(0x00)                                                           # END
    return out

def libxl_wrap(libxc):
    out = struct.pack(">QII", 0x4C6962786C466D74, 2, 0)                        # "LibxlFmt" v2, LE
    out += rec(1)                                                              # LIBXC_CONTEXT
    out += libxc
    out += rec(0)                                                              # libxl END
    return out

def xl_wrap(libxl):
    cfg = b'{"c_info": {"type": "hvm", "name": "tiny"}}\0'
    opt = struct.pack("<I", len(cfg)) + cfg
    magic = b"Xen saved domain, xl format\n \0 \r"
    assert len(magic) == 32
    return magic + struct.pack("<IIII", 0x01020304, 1 | 2, 0, len(opt)) + opt + libxl

def legacy_hvm64():
    out = struct.pack("<Q", 0x200)                                             # p2m_size (ulong, 64-bit)
    page = bytes((i * 3) & 0xFF for i in range(4096))
    out += struct.pack("<i", 1) + struct.pack("<Q", 0x100) + page              # batch of 1 page
    out += struct.pack("<i", 0)                                                # end of body
    out += struct.pack("<QQQ", 0xFEFF0, 0xFEFF1, 0xFEFFF)                      # ioreq, bufioreq, store pfn
    hdr = struct.pack("<IIIIQ", 0x54381286, 1, 0, 0, 1000000)[:24]
    hvmctx = struct.pack("<HHI", 1, 0, len(hdr)) + hdr + struct.pack("<HHI", 0, 0, 0)
    out += struct.pack("<I", len(hvmctx)) + hvmctx
    return out

def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    xc = libxc_hvm()
    xl = libxl_wrap(xc)
    files = {
        "tiny-hvm.libxc": xc,
        "tiny-hvm.libxl": xl,
        "tiny-hvm.xl": xl_wrap(xl),
        "tiny-hvm.truncated": xc[:-4],
        "tiny-hvm.legacy64": legacy_hvm64(),
    }
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        print("%-20s %6d bytes" % (name, len(data)))

main()
