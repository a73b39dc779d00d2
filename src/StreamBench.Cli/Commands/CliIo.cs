using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary>Opening inputs and outputs the same way in every command.</summary>
internal static class CliIo
{
    private static readonly AsyncLocal<PendingOutputs?> s_pending = new();

    /// <summary>
    /// A post-copy or COLO back channel: a FIFO (opening blocks until the peer opens its end), /dev/fd/N, or a file (to
    /// read: a recorded back channel; to write: as every output, <see cref="OpenOutput(string)"/>). Never seeks.
    /// </summary>
    public static Stream OpenBackChannel(string path, bool write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return write ? OpenOutput(path) : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
    }

    /// <summary>
    /// A file, or standard output for "-". A file is written under a temporary name beside it and renamed into place
    /// when the command exits 0 (<see cref="CommandGuard"/>), so a failed command never leaves a partial output file
    /// and never clobbers the file that was there. Only what cannot be renamed into is written in place: a FIFO (a
    /// peer process reads it as it comes: a post-copy or COLO main stream or back channel), a character or block
    /// device, a socket, and anything under /dev/ or /proc/ (/dev/stdout, /proc/self/fd/N). Outside a guarded
    /// command the file is written in place.
    /// </summary>
    public static Stream OpenOutput(string path)
    {
        if (path == "-")
        {
            return Console.OpenStandardOutput();
        }
        var kind = FileKinds.Of(path);
        if (!IsRegularTarget(path, kind))
        {
            // A FIFO, device or descriptor is opened as it is; a file under /dev/ or /proc/ (/dev/stdout into a file,
            // /dev/shm) is truncated as a shell's > does.
            var mode = kind is FileKind.Regular or FileKind.Missing ? FileMode.Create : FileMode.Open;
            return new FileStream(path, mode, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
        }
        if (s_pending.Value is not { } pending)
        {
            return OutputFile.Open(path);
        }
        if (Directory.Exists(path))
        {
            throw new IOException($"cannot write {path}: it is a directory");
        }
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(directory))
        {
            throw new IOException($"cannot write {path}: directory {directory} does not exist");
        }
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        FileStream stream;
        try
        {
            stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write {path}: {e.Message.Replace(temp, full, StringComparison.Ordinal)}", e);
        }
        pending.Add(temp, full);
        return stream;
    }

    /// <summary>Starts collecting the outputs of one command run.</summary>
    public static PendingOutputs BeginOutputs()
    {
        var pending = new PendingOutputs(s_pending.Value);
        s_pending.Value = pending;
        return pending;
    }

    /// <summary>
    /// Renames the outputs written so far into place now, for a command whose output is complete although it will
    /// exit non-zero (the report of an invalid stream: the page is the point of the command, the exit code the verdict).
    /// </summary>
    public static void CommitOutputs() => s_pending.Value?.Commit();

    /// <summary>Whether <paramref name="path"/> is written under a temporary name and renamed (a regular file, or nothing yet).</summary>
    private static bool IsRegularTarget(string path, FileKind kind)
    {
        // Devices and descriptors (/dev/null, /dev/stdout, /proc/self/fd/N) are written in place, whatever they point to.
        if (path.StartsWith("/dev/", StringComparison.Ordinal) || path.StartsWith("/proc/", StringComparison.Ordinal))
        {
            return false;
        }
        return kind is FileKind.Missing or FileKind.Regular or FileKind.Directory or FileKind.Unknown;
    }

    /// <summary>Whether progress may be drawn: only when standard error is a terminal.</summary>
    public static bool ShowProgress => !Console.IsErrorRedirected;

    /// <summary>The outputs of one command run: renamed into place by <see cref="Commit"/>, deleted otherwise.</summary>
    internal sealed class PendingOutputs(PendingOutputs? outer) : IDisposable
    {
        private readonly List<(string Temp, string Final)> _files = [];

        public void Add(string temp, string final)
        {
            lock (_files)
            {
                _files.Add((temp, final));
            }
        }

        /// <summary>Renames every output into place.</summary>
        public void Commit()
        {
            lock (_files)
            {
                foreach (var (temp, final) in _files)
                {
                    if (File.Exists(temp))
                    {
                        FileReplace.Move(temp, final);
                    }
                }
                _files.Clear();
            }
        }

        /// <summary>Deletes outputs not committed.</summary>
        public void Dispose()
        {
            lock (_files)
            {
                foreach (var (temp, _) in _files)
                {
                    try
                    {
                        File.Delete(temp);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // Nothing more can be done about a temporary file that cannot be deleted.
                    }
                }
                _files.Clear();
            }
            s_pending.Value = outer;
        }
    }
}
