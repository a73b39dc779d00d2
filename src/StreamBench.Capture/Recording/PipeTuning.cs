using System.IO.Pipes;
using System.Runtime.InteropServices;

namespace StreamBench.Capture.Recording;

/// <summary>
/// Linux pipes hold 64 KiB by default, so a bulk copy through one costs a wake-up per 64 KiB on each side.
/// Asking for a larger pipe (F_SETPIPE_SZ, up to /proc/sys/fs/pipe-max-size, 1 MiB unprivileged) cuts that by 16.
/// Best effort: not a pipe, another OS, or a refusal all leave things as they are.
/// </summary>
internal static partial class PipeTuning
{
    private const int FSetPipeSize = 1031;

    /// <summary>The pipe size the recorder asks for.</summary>
    public const int DesiredSize = 1 << 20;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

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
                Fcntl(fd, FSetPipeSize, 256 << 10);
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
}
