namespace StreamBench.Formats.Streams;

/// <summary>
/// Standard input, refused when it is closed. When a program starts with fd 0 closed, the .NET runtime takes fd 0
/// for one of its own pipes, and a read from "standard input" then waits forever on that pipe. A closed stdin is
/// therefore detected the only way that still works afterwards: fd 0 missing, an anonymous inode, a descriptor with
/// close-on-exec (opened by this process: the NativeAOT runtime puts /dev/urandom there), or a pipe whose other end
/// this very process holds.
/// </summary>
public static class StandardInput
{
    /// <summary>Whether fd 0 is closed (or was taken over by the runtime because it was closed at start).</summary>
    public static bool IsClosed()
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc/self/fd"))
        {
            return false;
        }
        string? target;
        try
        {
            target = new FileInfo("/proc/self/fd/0").LinkTarget;
        }
        catch (IOException)
        {
            return true;
        }
        if (target is null)
        {
            return !File.Exists("/proc/self/fd/0");
        }
        // An inherited descriptor never carries close-on-exec (exec closes those), so an fd 0 that does was opened by
        // this process itself: the NativeAOT runtime, started with fd 0 closed, keeps /dev/urandom there.
        if (HasCloseOnExec("0"))
        {
            return true;
        }
        if (target.StartsWith("anon_inode:", StringComparison.Ordinal))
        {
            return true;
        }
        if (!target.StartsWith("pipe:", StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var fd in Directory.EnumerateFiles("/proc/self/fd"))
        {
            if (Path.GetFileName(fd) == "0")
            {
                continue;
            }
            try
            {
                // The runtime keeps duplicates of the standard handles, so a second read end is normal; a *write* end
                // of the same pipe means both ends are ours: the runtime's own pipe, not a caller's.
                if (new FileInfo(fd).LinkTarget == target && IsWritable(Path.GetFileName(fd)))
                {
                    return true;
                }
            }
            catch (IOException)
            {
                // The descriptor went away while we looked.
            }
        }
        return false;
    }

    // /proc/self/fdinfo/N: "flags:" is octal; O_CLOEXEC is 02000000.
    private static bool HasCloseOnExec(string fd)
    {
        try
        {
            return (FdFlags(fd) & 0x80000) != 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static long FdFlags(string fd)
    {
        foreach (var line in File.ReadLines("/proc/self/fdinfo/" + fd))
        {
            if (line.StartsWith("flags:", StringComparison.Ordinal))
            {
                return Convert.ToInt64(line["flags:".Length..].Trim(), 8);
            }
        }
        return 0;
    }

    // /proc/self/fdinfo/N: "flags:" is octal; its access mode bits are O_WRONLY (1) or O_RDWR (2) for a write end.
    private static bool IsWritable(string fd) => (FdFlags(fd) & 3) is 1 or 2;

    /// <summary>What <see cref="Open"/> says when standard input is closed.</summary>
    public const string ClosedMessage = "standard input is closed: give a file, or redirect the stream into standard input";

    /// <summary>Opens standard input; an <see cref="IOException"/> when it is closed.</summary>
    public static Stream Open()
    {
        if (IsClosed())
        {
            throw new IOException(ClosedMessage);
        }
        return Console.OpenStandardInput();
    }
}
