#!/usr/bin/env python3
"""capflow.py CAP...: when the s2r bytes of a streambench capture arrived (from the data chunks' timestamps):
first/last chunk, average rate, and the time at each 10 % of the stream; the r2s chunk times (docs/CAPTURE.md 1.2)."""
import struct, sys

for path in sys.argv[1:]:
    ev = []
    with open(path, 'rb') as f:
        f.seek(32)
        while True:
            h = f.read(32)
            if len(h) < 32:
                break
            _sync, typ, d, _fl, ln, _seq, ts, pos = struct.unpack('<IBBHiIqq', h)
            f.seek(ln + 4, 1)
            if typ == 2:
                ev.append((ts / 1e9, d, ln, pos))
    s = [e for e in ev if e[1] == 0]
    r = [e for e in ev if e[1] == 1]
    if not s:
        print(f"{path}: no s2r data"); continue
    t0, t1 = s[0][0], s[-1][0]; tot = s[-1][3] + s[-1][2]
    print(f"{path}: s2r {tot} bytes in {len(s)} chunks, first at {t0:.1f} s, last at {t1:.1f} s: "
          f"{t1 - t0:.1f} s, {tot / max(t1 - t0, 1e-9) / 1e6:.2f} MB/s; r2s chunks at " + ' '.join(f"{e[0]:.1f}" for e in r))
    marks = [i / 10 for i in range(1, 11)]; out = []
    for e in s:
        while marks and e[3] + e[2] >= marks[0] * tot:
            out.append(f"{int(round(marks.pop(0) * 100))}%@{e[0] - t0:.0f}s")
    print('  ' + ' '.join(out))
