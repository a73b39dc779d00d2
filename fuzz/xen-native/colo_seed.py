#!/usr/bin/env python3
"""Makes a COLO primary->secondary stream of a Remus one, for the xen-native-colo target: after each libxl
CHECKPOINT_END that follows a libxc CHECKPOINT, a libxl CHECKPOINT_STATE record saying CHECKPOINT_NEW (what libxl's
COLO primary sends before the next checkpoint, libxl_colo_save.c; the secondary's wait_checkpoint reads it).

usage: colo_seed.py IN OUT    IN: a Remus stream (whatever precedes its libxc image header, xl and libxl headers,
                              is kept); exit 1 if IN is not one (no libxc CHECKPOINT followed by libxl records up
                              to CHECKPOINT_END)
"""
import os, struct, sys

LIBXC_CHECKPOINT, LIBXC_END = 0x0E, 0x00
LIBXL_CHECKPOINT_END, LIBXL_CHECKPOINT_STATE = 0x04, 0x05

def padded(n):
    return (n + 7) & ~7

def main(src, dst):
    try:
        with open(src, "rb") as f:
            data = f.read()
    except OSError as e:
        sys.exit(f"colo_seed.py: {src}: {e.strerror}")
    at = data.find(b"\xff" * 8 + b"XENF")
    if at < 0 or len(data) < at + 40:
        sys.exit(f"colo_seed.py: {src}: no libxc image header")
    out, off, made = bytearray(data[:at + 40]), at + 40, 0
    while off + 8 <= len(data):
        rtype, rlen = struct.unpack_from("<II", data, off)
        end = off + 8 + padded(rlen)
        out += data[off:end]
        off = end
        if rtype == LIBXC_END:
            break
        if rtype != LIBXC_CHECKPOINT:
            continue
        # libxl records up to CHECKPOINT_END
        while off + 8 <= len(data):
            ltype, llen = struct.unpack_from("<II", data, off)
            end = off + 8 + padded(llen)
            out += data[off:end]
            off = end
            if ltype == LIBXL_CHECKPOINT_END:
                out += struct.pack("<IIII", LIBXL_CHECKPOINT_STATE, 4, 0, 0)   # CHECKPOINT_NEW, padding
                made += 1
                break
    out += data[off:]
    if made == 0:
        sys.exit(f"colo_seed.py: {src}: no checkpoint found")
    try:
        with open(dst + ".tmp", "wb") as f:   # whole or nothing
            f.write(out)
        os.replace(dst + ".tmp", dst)
    except OSError as e:
        sys.exit(f"colo_seed.py: {dst}: {e.strerror}")

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
