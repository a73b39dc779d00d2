using System.Runtime.InteropServices;

namespace StreamBench.Fuzz.Tests;

/// <summary>libc calls for the fake AFL driver (what afl-fuzz itself does: SysV shm, FIFOs, poll, kill).</summary>
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    public const int IPC_PRIVATE = 0;
    public const int IPC_CREAT = 0x200;
    public const int IPC_RMID = 0;
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_CLOEXEC = 0x80000;
    public const short POLLIN = 1;
    public const int SIGKILL = 9;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int shmget(int key, nuint size, int shmflg);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint shmat(int shmid, nint shmaddr, int shmflg);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int shmdt(nint shmaddr);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int shmctl(int shmid, int cmd, nint buf);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkfifo(string path, int mode);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int kill(int pid, int sig);
}
