using System.Runtime.InteropServices;

namespace StreamBench.Fuzzing;

/// <summary>The few libc calls the fork server needs (Linux; x86-64 and arm64 share these signatures).</summary>
internal static unsafe partial class Native
{
    private const string Libc = "libc";

    internal const int EINTR = 4;
    internal const int F_GETFD = 1;
    internal const int F_SETFD = 2;
    internal const int FD_CLOEXEC = 1;
    internal const int PR_SET_PDEATHSIG = 1;
    internal const int SIGKILL = 9;
    internal const int O_RDONLY = 0;
    internal const int O_CLOEXEC = 0x80000;

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint shmat(int shmid, nint shmaddr, int shmflg);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint write(int fd, byte* buf, nint count);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial nint pread(int fd, byte* buf, nint count, long offset);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int pipe(int* fds);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int open(byte* path, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    internal static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport(Libc)]
    internal static partial int getppid();

    [LibraryImport(Libc)]
    internal static partial void abort();

    /// <summary>Whether <paramref name="fd"/> is an open descriptor.</summary>
    internal static bool IsOpen(int fd) => fcntl(fd, F_GETFD, 0) != -1;

    internal static void SetCloseOnExec(int fd, bool on)
    {
        var flags = fcntl(fd, F_GETFD, 0);
        if (flags == -1)
        {
            return;
        }
        _ = fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
    }

    /// <summary>Reads exactly 4 bytes. False on end of file or error (the peer is gone).</summary>
    internal static bool ReadInt32(int fd, out int value)
    {
        int v = 0;
        var p = (byte*)&v;
        var done = 0;
        while (done < 4)
        {
            var n = read(fd, p + done, 4 - done);
            if (n > 0)
            {
                done += (int)n;
            }
            else if (n < 0 && Marshal.GetLastPInvokeError() == EINTR)
            {
                continue;
            }
            else
            {
                value = 0;
                return false;
            }
        }
        value = v;
        return true;
    }

    /// <summary>Writes exactly 4 bytes. False when the peer is gone.</summary>
    internal static bool WriteInt32(int fd, int value)
    {
        var p = (byte*)&value;
        var done = 0;
        while (done < 4)
        {
            var n = write(fd, p + done, 4 - done);
            if (n > 0)
            {
                done += (int)n;
            }
            else if (n < 0 && Marshal.GetLastPInvokeError() == EINTR)
            {
                continue;
            }
            else
            {
                return false;
            }
        }
        return true;
    }
}
