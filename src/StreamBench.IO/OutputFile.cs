using Microsoft.Win32.SafeHandles;

namespace StreamBench.Formats.Streams;

/// <summary>
/// Opens a file for writing as a shell's <c>&gt;</c> does: created when missing, emptied when it holds bytes. Not
/// <see cref="FileMode.Create"/>: .NET opens that without <c>O_TRUNC</c> and then calls <c>ftruncate(fd, 0)</c>, also
/// on a file it has just created, and ext4 (its <c>auto_da_alloc</c> heuristic for files truncated to zero) then writes
/// the whole file back inside the final <c>close</c>: 0.2 s at the end of a 1 GiB recording, most of what the recorder
/// cost (docs/BENCHMARKS.md, "Not done, and the limits seen"). Here only an existing non-empty file is truncated.
/// </summary>
public static class OutputFile
{
    /// <summary>A write handle on <paramref name="path"/>, positioned at 0, the file empty.</summary>
    public static SafeFileHandle OpenHandle(string path, FileShare share = FileShare.Read)
    {
        var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.Write, share);
        try
        {
            if (RandomAccess.GetLength(handle) > 0)
            {
                RandomAccess.SetLength(handle, 0);
            }
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>A write stream on <paramref name="path"/> (see <see cref="OpenHandle"/>).</summary>
    public static FileStream Open(string path, FileShare share = FileShare.Read, int bufferSize = 1 << 16) =>
        new(OpenHandle(path, share), FileAccess.Write, bufferSize);
}
