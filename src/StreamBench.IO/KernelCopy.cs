using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace StreamBench.Formats.Streams;

/// <summary>
/// Moves bytes from one file to another inside the kernel, without passing them through this process: Linux's
/// <c>copy_file_range</c> when the output is a regular file (written at an explicit offset), <c>sendfile</c> when it is
/// a pipe or socket. Used where bytes pass unchanged from a regular input file to the output (the legacy converter's
/// page data). Every call may copy less than asked, or nothing at all (another OS, a filesystem or kernel that refuses
/// the call): the caller writes the rest itself, so the bytes are the same either way.
/// </summary>
public static partial class KernelCopy
{
    private const int EIntr = 4;
    private const int EAgain = 11;

    // Set once a call is refused for a reason that will not change in this process (ENOSYS, EXDEV...).
    private static bool s_rangeRefused = !OperatingSystem.IsLinux();
    private static bool s_sendfileRefused = !OperatingSystem.IsLinux();

    /// <summary>Whether an earlier refusal (or the OS) rules both calls out; the caller then need not prepare for one.</summary>
    public static bool Unavailable => s_rangeRefused && s_sendfileRefused;

    /// <summary>
    /// Copies up to <paramref name="count"/> bytes of <paramref name="input"/> from <paramref name="inputOffset"/> to
    /// <paramref name="output"/>: at <paramref name="outputOffset"/> with copy_file_range when that is not null (a
    /// regular file; the file's own offset is left alone), else at the output's current position with sendfile (a pipe).
    /// Returns the bytes copied (0 when the call is unavailable or refused); stops early at the input's end.
    /// </summary>
    public static long Copy(SafeFileHandle input, long inputOffset, SafeFileHandle output, long? outputOffset, long count)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(inputOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count == 0)
        {
            return 0;
        }
        var done = 0L;
        var inOff = inputOffset;
        var outOff = outputOffset ?? 0;
        var useRange = outputOffset is not null;
        if (useRange ? s_rangeRefused : s_sendfileRefused)
        {
            return 0;
        }
        var addRefIn = false;
        var addRefOut = false;
        try
        {
            input.DangerousAddRef(ref addRefIn);
            output.DangerousAddRef(ref addRefOut);
            var inFd = (int)input.DangerousGetHandle();
            var outFd = (int)output.DangerousGetHandle();
            while (done < count)
            {
                // Kernels copy at most about 2 GiB per call; ask for 1 GiB at a time.
                var want = (nuint)Math.Min(count - done, 1L << 30);
                nint n;
                unsafe
                {
                    n = useRange
                        ? CopyFileRange(inFd, &inOff, outFd, &outOff, want, 0)
                        : SendFile(outFd, inFd, &inOff, want);
                }
                if (n > 0)
                {
                    done += n; // the kernel moved inOff and outOff
                    continue;
                }
                if (n == 0)
                {
                    break; // the input ended
                }
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr)
                {
                    continue;
                }
                if (errno == EAgain)
                {
                    break; // a non-blocking output that is full: the ordinary write path deals with it, no busy loop here
                }
                if (done == 0)
                {
                    // ENOSYS, EXDEV, EINVAL, EOPNOTSUPP, EBADF...: this pair of files (or this system) will not do it; an
                    // I/O error (EIO, ENOSPC) is met again, and reported, by the ordinary write that follows.
                    if (useRange)
                    {
                        s_rangeRefused = errno is 38 /* ENOSYS */ or 1 /* EPERM (seccomp) */ || s_rangeRefused;
                    }
                    else
                    {
                        s_sendfileRefused = errno is 38 or 1 || s_sendfileRefused;
                    }
                }
                break;
            }
        }
        finally
        {
            if (addRefOut)
            {
                output.DangerousRelease();
            }
            if (addRefIn)
            {
                input.DangerousRelease();
            }
        }
        return done;
    }

    [LibraryImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
    private static unsafe partial nint CopyFileRange(int fdIn, long* offIn, int fdOut, long* offOut, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "sendfile", SetLastError = true)]
    private static unsafe partial nint SendFile(int outFd, int inFd, long* offset, nuint count);
}
