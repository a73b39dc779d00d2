using System.Runtime.InteropServices;

namespace StreamBench.Formats.Streams;

/// <summary>What a path names, as far as writing to it is concerned.</summary>
public enum FileKind
{
    /// <summary>Nothing exists at the path.</summary>
    Missing,

    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A FIFO (named pipe): a peer process reads what is written as it comes.</summary>
    Fifo,

    /// <summary>A character device (/dev/null, a terminal).</summary>
    CharacterDevice,

    /// <summary>A block device.</summary>
    BlockDevice,

    /// <summary>A Unix socket.</summary>
    Socket,

    /// <summary>Something exists but its kind could not be read (not Linux, or statx refused).</summary>
    Unknown,
}

/// <summary>
/// The kind of file behind a path. .NET's <see cref="FileInfo"/> cannot tell a FIFO from a regular file, so this asks
/// the kernel (statx(2), whose buffer layout is the same on every Linux architecture). Symbolic links are followed.
/// </summary>
public static partial class FileKinds
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const int StatxModeOffset = 28; // struct statx: stx_mask, stx_blksize, stx_attributes, stx_nlink, stx_uid, stx_gid, then stx_mode (u16)
    private const int StatxSize = 256;
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;

    /// <summary>The kind of file at <paramref name="path"/>.</summary>
    public static FileKind Of(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsLinux())
        {
            return File.Exists(path) ? FileKind.Regular : Directory.Exists(path) ? FileKind.Directory : FileKind.Missing;
        }

        var buffer = new byte[StatxSize];
        int rc;
        try
        {
            rc = Statx(AtFdCwd, path, 0, StatxType, buffer);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return File.Exists(path) ? FileKind.Unknown : Directory.Exists(path) ? FileKind.Directory : FileKind.Missing;
        }

        if (rc != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno is ENOENT or ENOTDIR ? FileKind.Missing : FileKind.Unknown;
        }

        int type = BitConverter.ToUInt16(buffer, StatxModeOffset) & 0xF000;
        return type switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            _ => FileKind.Unknown,
        };
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, [Out] byte[] buffer);
}
