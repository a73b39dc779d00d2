using System.Runtime.InteropServices;

namespace StreamBench.Formats.Streams;

/// <summary>
/// Puts a finished file in place of another, atomically. A plain rename over an existing file costs, on ext4 (its
/// default <c>auto_da_alloc</c>), a flush of the new file's delayed-allocation blocks inside the rename: 0.37-0.52 s of
/// 256 MiB in this project's measurements against 0.25-0.40 s for an exchange and an unlink (docs/BENCHMARKS.md,
/// "convert-legacy over an existing output"). So on Linux the two names are swapped with <c>renameat2(RENAME_EXCHANGE)</c>
/// (the path never lacks a complete file) and the old file, now under the temporary name, is deleted. Where exchange
/// is refused (nothing at the destination yet, a filesystem or kernel without it, another OS) it is a plain rename.
/// </summary>
public static partial class FileReplace
{
    private const int AtFdCwd = -100;
    private const uint RenameExchange = 2;

    /// <summary>Moves <paramref name="source"/> to <paramref name="destination"/>, replacing what is there.</summary>
    public static void Move(string source, string destination)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        if (OperatingSystem.IsLinux() && File.Exists(destination)
            && RenameAt2(AtFdCwd, source, AtFdCwd, destination, RenameExchange) == 0)
        {
            try
            {
                File.Delete(source); // the old file, under the temporary name now
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The new file is in place; an old one that cannot be deleted stays under the temporary name.
            }
            return;
        }

        File.Move(source, destination, overwrite: true);
    }

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);
}
