#!/usr/bin/env python3
"""A stand-in for a .NET target in libFuzzer mode (test.sh): speaks SharpFuzz's Fuzzer.LibFuzzer.Run protocol
(docs/FUZZING.md, "libFuzzer mode") without .NET. Marks map slot 1 + byte value for the first byte of each input (so
coverage grows with distinct first bytes), reports a crash (status 2) for an input starting with b"CRASH", and dies
(SIGKILL) for an input starting with b"DIE"."""
import ctypes, os, signal, struct, sys

MAP_SIZE = 65536
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
shm = libc.shmat(int(os.environ["__LIBFUZZER_SHM_ID"]), None, 0)
if shm in (None, ctypes.c_void_p(-1).value):
    sys.exit("shmat failed")
ctl = int(os.environ["__LIBFUZZER_CONTROL_PIPE_ID"])
st = int(os.environ["__LIBFUZZER_STATUS_PIPE_ID"])


def read_exact(fd, n):
    b = b""
    while len(b) < n:
        chunk = os.read(fd, n - len(b))
        if not chunk:
            sys.exit(0)
        b += chunk
    return b


os.write(st, struct.pack("<i", 0))
while True:
    (size,) = struct.unpack("<i", read_exact(ctl, 4))
    data = ctypes.string_at(shm + MAP_SIZE, size)
    if data:
        ctypes.memset(shm + 1 + data[0], 1, 1)
    if data.startswith(b"DIE"):
        os.kill(os.getpid(), signal.SIGKILL)
    if data.startswith(b"CRASH"):
        print("fake_target: planted crash", file=sys.stderr)
        os.write(st, struct.pack("<i", 2))
        sys.exit(0)
    os.write(st, struct.pack("<i", 0))
