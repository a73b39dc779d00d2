using System.IO.Pipes;
using System.Runtime.InteropServices;

namespace StreamBench.Formats.Streams;

/// <summary>
/// The one place for Linux pipe plumbing (the readers, the recorder and the CLI all use it). Pipes hold 64 KiB by
/// default, so a bulk copy through one costs a wake-up per 64 KiB on each side; asking for a larger pipe
/// (F_SETPIPE_SZ, up to /proc/sys/fs/pipe-max-size, 1 MiB unprivileged) cuts that by 16. Skipped bytes of a pipe
/// can be spliced to /dev/null without copying them into this process. Everything is best effort: not a pipe,
/// another OS or a refusal leaves things as they are.
/// </summary>
public static partial class PipeTuning
{
    private const int FSetPipeSize = 1031;

    /// <summary>The pipe size asked for first.</summary>
    public const int DesiredSize = 1 << 20;

    /// <summary>The pipe size asked for when <see cref="DesiredSize"/> is refused (beyond pipe-max-size).</summary>
    public const int FallbackSize = 256 << 10;

    private static int s_devNull = -2;

    /// <summary>Enlarges the pipe behind a file descriptor, if it is one.</summary>
    public static void Enlarge(int fd)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        try
        {
            if (Fcntl(fd, FSetPipeSize, DesiredSize) < 0)
            {
                // EPERM past pipe-max-size, EBADF/EINVAL when not a pipe: keep the default.
                _ = Fcntl(fd, FSetPipeSize, FallbackSize);
            }
        }
        catch (DllNotFoundException)
        {
        }
        catch (EntryPointNotFoundException)
        {
        }
    }

    /// <summary>Enlarges the pipe behind a stream, when the stream exposes its handle.</summary>
    public static void Enlarge(Stream stream)
    {
        SafeHandle? handle = stream switch
        {
            PipeStream p => p.SafePipeHandle,
            FileStream f => f.SafeFileHandle,
            _ => null,
        };
        if (handle is null || handle.IsInvalid)
        {
            return;
        }
        var add = false;
        try
        {
            handle.DangerousAddRef(ref add);
            Enlarge((int)handle.DangerousGetHandle());
        }
        finally
        {
            if (add)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Discards <paramref name="count"/> bytes from the pipe <paramref name="fd"/> by splicing them to /dev/null (no
    /// copy into this process). False when splicing is not possible at all (not a pipe, not Linux): read instead.
    /// </summary>
    public static bool TrySpliceToNull(int fd, long count, out long spliced, out bool endOfInput)
    {
        spliced = 0;
        endOfInput = false;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        if (s_devNull == -2)
        {
            s_devNull = Open("/dev/null", 1 /* O_WRONLY */);
        }
        if (s_devNull < 0)
        {
            return false;
        }
        while (spliced < count)
        {
            var n = Splice(fd, IntPtr.Zero, s_devNull, IntPtr.Zero, (nuint)Math.Min(count - spliced, 1 << 20), 1 /* SPLICE_F_MOVE */);
            if (n < 0)
            {
                if (spliced == 0)
                {
                    return false; // EINVAL: not a pipe; the caller reads instead
                }
                break;
            }
            if (n == 0)
            {
                endOfInput = true;
                break;
            }
            spliced += n;
        }
        return true;
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint Splice(int fdIn, IntPtr offIn, int fdOut, IntPtr offOut, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
