#!/usr/bin/env python3
"""Make an operator-style copy of a real xl stream for the lab's foreign test set (issue #19): the xl header's JSON
config is edited to name what an operator's host has and the lab has not (another domain name, a serial log under
/root/out, CPU pinning to pCPUs the lab lacks, a disk on an LVM volume); the rest of the stream is copied byte for byte.
The copy is named as such by its caller (e.g. op-hvm-prod.xl). usage: foreignize.py IN OUT NAME [--serial PATH]
[--pin CPU] [--disk PDEV]"""
import json, shutil, struct, sys

def main():
    a = sys.argv[1:]
    src, dst, name = a[0], a[1], a[2]
    opts = dict(zip(a[3::2], a[4::2]))
    with open(src, "rb") as f, open(dst, "wb") as o:
        head = f.read(48)
        assert head[:32] == b"Xen saved domain, xl format\n \0 \r", "no xl header"
        order, mand, optf, olen = struct.unpack("<IIII", head[32:48])
        opt = f.read(olen)
        clen = struct.unpack("<I", opt[:4])[0]
        cfg = json.loads(opt[4:4 + clen].rstrip(b"\0"))
        rest = opt[4 + clen:]
        cfg["c_info"]["name"] = name
        b = cfg["b_info"]
        if "--serial" in opts:
            b.setdefault("type.hvm", {})["serial"] = "file:" + opts["--serial"]
        if "--pin" in opts:
            b["vcpu_hard_affinity"] = [[int(opts["--pin"])] for _ in range(b.get("max_vcpus", 1))]
        if "--disk" in opts:
            cfg["disks"] = [{"backend_domid": 0, "pdev_path": opts["--disk"], "vdev": "xvda", "backend": "phy",
                             "format": "raw", "script": "/etc/xen/scripts/block", "readwrite": 1}]
        text = json.dumps(cfg, indent=4).encode() + b"\0"
        newopt = struct.pack("<I", len(text)) + text + rest
        o.write(head[:32] + struct.pack("<IIII", order, mand, optf, len(newopt)) + newopt)
        shutil.copyfileobj(f, o, 1 << 20)

if __name__ == "__main__":
    main()
