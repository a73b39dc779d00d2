#!/usr/bin/env python3
"""Streams FILE to standard output at RATE MB/s (1 MiB steps, sleeping off any lead): the paced sender of the
recorder benchmarks (tools/bench/compare.sh, tools/bench/record-overhead.sh).

    tools/bench/ratelimit.py FILE RATE
"""
import sys
import time


def main() -> None:
    path, rate = sys.argv[1], float(sys.argv[2]) * 1e6
    out = sys.stdout.buffer
    start = time.monotonic()
    sent = 0
    with open(path, 'rb', buffering=0) as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            out.write(b)
            sent += len(b)
            lead = sent / rate - (time.monotonic() - start)
            if lead > 0:
                time.sleep(lead)
    out.flush()


if __name__ == '__main__':
    main()
