using System.IO.MemoryMappedFiles;

namespace StreamBench.Formats.Streams;

/// <summary>
/// A forward-only window onto the input with an absolute position. The reader asks for a few bytes at a
/// time (headers, pfn arrays) and skips the rest; page contents nobody asked for are never copied.
/// Regular files are memory-mapped, so skipping is free; pipes and sockets go through one reusable buffer,
/// so memory does not grow with the stream's length.
/// </summary>
public abstract class ByteSource : IDisposable
{
    /// <summary>Absolute offset of the cursor.</summary>
    public abstract long Position { get; }

    /// <summary>Total length when known (files), otherwise null.</summary>
    public abstract long? Length { get; }

    /// <summary>The most bytes <see cref="Ensure"/> can make available at once.</summary>
    public abstract int MaxWindow { get; }

    /// <summary>Makes <paramref name="count"/> bytes available at the cursor. False when the input ends first;
    /// <see cref="Available"/> then tells how many are there.</summary>
    public abstract bool Ensure(int count);

    /// <summary>Bytes available at the cursor without further I/O.</summary>
    public abstract int Available { get; }

    /// <summary>The bytes at the cursor; valid until the next call that moves or refills.</summary>
    public abstract ReadOnlySpan<byte> Peek(int count);

    /// <summary>Moves the cursor over bytes that <see cref="Ensure"/> made available.</summary>
    public abstract void Advance(int count);

    /// <summary>Moves the cursor forward by up to <paramref name="count"/> bytes; returns how many were skipped.</summary>
    public abstract long Skip(long count);

    /// <summary>Copies up to <paramref name="destination"/>.Length bytes; returns the count (0 at the end).</summary>
    public abstract int Read(Span<byte> destination);

    /// <summary>True when no byte is left.</summary>
    public bool AtEnd => !Ensure(1);

    /// <summary>
    /// The regular file this source reads, when the byte at <see cref="Position"/> is the file's byte at that same
    /// offset (a mapped file): a caller may then have the kernel copy a stretch (<see cref="KernelCopy"/>) and
    /// <see cref="Skip"/> it here. Null otherwise (memory, pipes, streams).
    /// </summary>
    public virtual Microsoft.Win32.SafeHandles.SafeFileHandle? FileHandle => null;

    /// <summary>Opens a path ("-" is standard input). Regular non-empty files are memory-mapped.</summary>
    public static ByteSource Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path == "-")
        {
            PipeTuning.Enlarge(0);
            return new BufferedByteSource(StandardInput.Open(), ownsStream: true) { SpliceFd = 0 };
        }
        var info = new FileInfo(path);
        // FIFOs, sockets and /proc files report length 0 and take the buffered path.
        if (info.Exists && info.Length > 0 && (info.Attributes & (FileAttributes.Device | FileAttributes.ReparsePoint)) == 0)
        {
            try
            {
                return new MappedFileSource(path, info.Length);
            }
            catch (IOException)
            {
                // Not mappable (special file): read it as a stream.
            }
            catch (UnauthorizedAccessException)
            {
                // Same.
            }
        }
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        return new BufferedByteSource(stream, ownsStream: true);
    }

    /// <summary>Wraps any stream (pipes, sockets, memory).</summary>
    public static ByteSource FromStream(Stream stream, bool ownsStream = false, int bufferSize = BufferedByteSource.DefaultBufferSize)
        => new BufferedByteSource(stream, ownsStream, bufferSize);

    /// <summary>Wraps bytes already in memory.</summary>
    public static ByteSource FromMemory(ReadOnlyMemory<byte> memory) => new MemoryByteSource(memory);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the input.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>A source over bytes in memory.</summary>
public sealed class MemoryByteSource : ByteSource
{
    private readonly ReadOnlyMemory<byte> _memory;
    private int _pos;

    /// <summary>Wraps <paramref name="memory"/>.</summary>
    public MemoryByteSource(ReadOnlyMemory<byte> memory) => _memory = memory;

    /// <inheritdoc />
    public override long Position => _pos;

    /// <inheritdoc />
    public override long? Length => _memory.Length;

    /// <inheritdoc />
    public override int MaxWindow => int.MaxValue;

    /// <inheritdoc />
    public override int Available => _memory.Length - _pos;

    /// <inheritdoc />
    public override bool Ensure(int count) => _memory.Length - _pos >= count;

    /// <inheritdoc />
    public override ReadOnlySpan<byte> Peek(int count) => _memory.Span.Slice(_pos, count);

    /// <inheritdoc />
    public override void Advance(int count) => _pos += count;

    /// <inheritdoc />
    public override long Skip(long count)
    {
        var n = (int)Math.Min(count, _memory.Length - _pos);
        _pos += n;
        return n;
    }

    /// <inheritdoc />
    public override int Read(Span<byte> destination)
    {
        var n = Math.Min(destination.Length, _memory.Length - _pos);
        _memory.Span.Slice(_pos, n).CopyTo(destination);
        _pos += n;
        return n;
    }
}

/// <summary>A source over a stream through one reusable buffer (pipes, sockets, stdin).</summary>
public sealed class BufferedByteSource : ByteSource
{
    /// <summary>1 MiB: large enough that a pipe is drained in few reads, small enough for the memory budget.</summary>
    public const int DefaultBufferSize = 1 << 20;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;
    private long _bufferOffset; // absolute offset of _buffer[0]
    private bool _eof;

    /// <summary>Wraps <paramref name="stream"/>.</summary>
    public BufferedByteSource(Stream stream, bool ownsStream = false, int bufferSize = DefaultBufferSize)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 4096);
        _stream = stream;
        _ownsStream = ownsStream;
        _buffer = new byte[bufferSize];
    }

    /// <inheritdoc />
    public override long Position => _bufferOffset + _start;

    /// <inheritdoc />
    public override long? Length => _stream.CanSeek ? _stream.Length : null;

    /// <inheritdoc />
    public override int MaxWindow => _buffer.Length;

    /// <inheritdoc />
    public override int Available => _end - _start;

    /// <inheritdoc />
    public override bool Ensure(int count)
    {
        if (_end - _start >= count)
        {
            return true;
        }
        if (count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "larger than the source's window");
        }
        if (_eof)
        {
            return false;
        }
        if (_start > 0)
        {
            var live = _end - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, live);
            _bufferOffset += _start;
            _start = 0;
            _end = live;
        }
        while (_end < count)
        {
            var n = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n <= 0)
            {
                _eof = true;
                return false;
            }
            _end += n;
        }
        return true;
    }

    /// <inheritdoc />
    public override ReadOnlySpan<byte> Peek(int count) => _buffer.AsSpan(_start, count);

    /// <inheritdoc />
    public override void Advance(int count) => _start += count;

    /// <summary>
    /// The file descriptor behind the stream when it is a pipe (Linux): skipped bytes are then spliced to /dev/null
    /// in the kernel instead of being copied into this process. -1 (the default) reads them.
    /// </summary>
    public int SpliceFd { get; init; } = -1;

    /// <inheritdoc />
    public override long Skip(long count)
    {
        var inBuffer = Math.Min(count, _end - _start);
        _start += (int)inBuffer;
        var left = count - inBuffer;
        if (left == 0)
        {
            return count;
        }
        // The buffer is empty now: restart it at the new position.
        _bufferOffset += _start;
        _start = _end = 0;
        if (SpliceFd >= 0 && !_eof && PipeTuning.TrySpliceToNull(SpliceFd, left, out var spliced, out var eof))
        {
            _bufferOffset += spliced;
            _eof = eof;
            return inBuffer + spliced;
        }
        if (_stream.CanSeek)
        {
            var here = _stream.Position;
            var room = Math.Max(0, _stream.Length - here);
            var step = Math.Min(left, room);
            _stream.Seek(step, SeekOrigin.Current);
            _bufferOffset += step;
            if (step < left)
            {
                _eof = true;
            }
            return inBuffer + step;
        }
        var skipped = inBuffer;
        while (left > 0)
        {
            var n = _stream.Read(_buffer, 0, (int)Math.Min(left, _buffer.Length));
            if (n <= 0)
            {
                _eof = true;
                break;
            }
            _bufferOffset += n;
            left -= n;
            skipped += n;
        }
        return skipped;
    }

    /// <inheritdoc />
    public override int Read(Span<byte> destination)
    {
        var total = 0;
        var buffered = Math.Min(destination.Length, _end - _start);
        if (buffered > 0)
        {
            _buffer.AsSpan(_start, buffered).CopyTo(destination);
            _start += buffered;
            total = buffered;
        }
        if (total == destination.Length || _eof)
        {
            return total;
        }
        _bufferOffset += _start;
        _start = _end = 0;
        while (total < destination.Length)
        {
            int n;
            if (destination.Length - total >= _buffer.Length / 2)
            {
                n = _stream.Read(destination[total..]);
                if (n <= 0)
                {
                    _eof = true;
                    break;
                }
                _bufferOffset += n;
                total += n;
            }
            else
            {
                if (!Ensure(1))
                {
                    break;
                }
                var take = Math.Min(destination.Length - total, _end - _start);
                _buffer.AsSpan(_start, take).CopyTo(destination[total..]);
                _start += take;
                total += take;
            }
        }
        return total;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsStream)
        {
            _stream.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// A memory-mapped regular file: headers and other small requests are read with pread into a window (see
/// <see cref="Ensure"/>), skipped pages are never touched, and large requests are handed out in place from the mapping.
/// When records are dense (many small records, so nearly every page of the file is touched anyway) it asks the kernel
/// to map the next stretch in one call (MADV_POPULATE_READ) instead of taking a page fault per page; when records are
/// large and their bodies skipped, it leaves the pages alone.
/// </summary>
public sealed unsafe class MappedFileSource : ByteSource
{
    /// <summary>How far ahead of the cursor a dense stream is mapped in one call, at most; the window starts small
    /// and doubles while the stream stays dense, so a sparse stream pays for one small window only.</summary>
    private const long MaxPopulateWindow = 8L << 20;

    /// <summary>Pages this far behind the cursor are unmapped from the process (they stay in the page cache), so the
    /// resident set stays bounded whatever the file's size.</summary>
    private const long DropBehind = 4L << 20;

    /// <summary>Linux's MADV_DONTNEED.</summary>
    private const int MadvDontNeed = 4;

    /// <summary>Behind the cursor, mapped pages are dropped in steps of at least this much: each <c>MADV_DONTNEED</c>
    /// walks the page tables and flushes the TLB, which a stream of 4 MiB records paid once per record.</summary>
    private const long DropStep = 32L << 20;

    private long _window = 2L << 20;

    /// <summary>Average skip below which the stream counts as dense.</summary>
    private const long DenseSkip = 256L << 10;

    /// <summary>Where records are sparse, a header is read with a pread of this much (at least what is asked for).</summary>
    private const int SparseRead = 16 << 10;

    /// <summary>Linux's MADV_POPULATE_READ (5.14 and later).</summary>
    private const int MadvPopulateRead = 22;

    private static bool s_populateWorks = OperatingSystem.IsLinux();

    /// <summary>
    /// The read window (see <see cref="Ensure"/>). 256 KiB: small enough that the kernel's copy lands in the core's
    /// L2 cache, where the reader then finds it (a 1 GiB file read with pread in 256 KiB pieces cost 69-71 ms of CPU
    /// against 74-78 ms in 1 MiB pieces, 93-95 ms in 64 KiB ones; docs/BENCHMARKS.md).
    /// </summary>
    private const int WindowBytes = 256 << 10;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle;
    private byte[]? _win;
    private long _winStart = -1;
    private int _winLength;
    private readonly byte* _base;
    private readonly long _length;
    private long _pos;
    private long _populated;
    private long _dropped;
    // The average skip, decaying (each skip weighs 1/8): the recent records decide whether the stream is dense.
    private long _averageSkip;
    private bool _disposed;

    /// <summary>Maps <paramref name="path"/> read-only.</summary>
    public MappedFileSource(string path, long length)
    {
        _length = length;
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
    }

    /// <inheritdoc />
    public override long Position => _pos;

    /// <inheritdoc />
    public override long? Length => _length;

    /// <inheritdoc />
    public override Microsoft.Win32.SafeHandles.SafeFileHandle? FileHandle => _handle;

    /// <inheritdoc />
    public override int MaxWindow => int.MaxValue;

    /// <inheritdoc />
    public override int Available => (int)Math.Min(int.MaxValue, _length - _pos);

    /// <inheritdoc />
    /// <remarks>
    /// Requests up to the window's size are read with pread, not touched in the mapping: the verify profile showed every
    /// first touch of a mapped page stalling (a page-table walk per header, each header on a page of its own), while
    /// the kernel copies a window for a fraction of that (docs/BENCHMARKS.md, "Where the time goes"). Where records are
    /// dense (small records, small skips: one-page PAGE_DATA) a whole window is read; where they are sparse (large
    /// skipped bodies: 1024-page batches) only the request, at least 16 KiB (a header and its pfn words), so the
    /// skipped pages are neither copied nor touched. Larger requests (a body read in place) use the mapping.
    /// </remarks>
    public override bool Ensure(int count)
    {
        if (InWindow(count))
        {
            return true;
        }
        if (count <= WindowBytes && _pos < _length)
        {
            Refill(Dense ? WindowBytes : Math.Max(count, SparseRead));
            return _length - _pos >= count;
        }
        if (_pos + count > _populated)
        {
            MapAhead(_pos + count);
        }
        return _length - _pos >= count;
    }

    private bool Dense => _averageSkip < DenseSkip;

    private bool InWindow(int count) => _pos >= _winStart && _pos + count <= _winStart + _winLength;

    private void Refill(int size)
    {
        _win ??= new byte[WindowBytes];
        var want = (int)Math.Min(size, _length - _pos);
        var got = 0;
        while (got < want)
        {
            var n = RandomAccess.Read(_handle, _win.AsSpan(got, want - got), _pos + got);
            if (n <= 0)
            {
                break; // the file shrank under us: the mapping decides what is left
            }
            got += n;
        }
        _winStart = _pos;
        _winLength = got;
    }

    private void MapAhead(long need)
    {
        var dense = Dense;
        var end = Math.Min(_length, need + _window);
        if (dense && s_populateWorks)
        {
            _window = Math.Min(MaxPopulateWindow, _window * 2);
            var start = Math.Max(_populated, _pos) & ~4095L;
            if (end > start && Madvise((nint)(_base + start) & ~(nint)4095, (nuint)(end - start), MadvPopulateRead) != 0)
            {
                s_populateWorks = false; // An older kernel: page faults it is.
            }
        }
        _populated = end;
        var behind = (_pos - DropBehind) & ~4095L;
        if (OperatingSystem.IsLinux() && behind - _dropped >= DropStep)
        {
            _ = Madvise((nint)(_base + _dropped) & ~(nint)4095, (nuint)(behind - _dropped), MadvDontNeed);
            _dropped = behind;
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);

    /// <inheritdoc />
    public override ReadOnlySpan<byte> Peek(int count) =>
        InWindow(count) ? _win.AsSpan((int)(_pos - _winStart), count) : new(_base + _pos, count);

    /// <inheritdoc />
    public override void Advance(int count) => _pos += count;

    /// <inheritdoc />
    public override long Skip(long count)
    {
        var n = Math.Min(count, _length - _pos);
        _pos += n;
        _averageSkip += (n - _averageSkip) / 8;
        return n;
    }

    /// <inheritdoc />
    public override int Read(Span<byte> destination)
    {
        var n = (int)Math.Min(destination.Length, _length - _pos);
        if (n <= WindowBytes / 2 && n > 0 && !InWindow(n))
        {
            Refill(Dense ? WindowBytes : Math.Max(n, SparseRead));
        }
        if (InWindow(n))
        {
            _win.AsSpan((int)(_pos - _winStart), n).CopyTo(destination);
            _pos += n;
            return n;
        }
        if (_pos + n > _populated)
        {
            MapAhead(_pos + n);
        }
        new ReadOnlySpan<byte>(_base + _pos, n).CopyTo(destination);
        _pos += n;
        return n;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
            _handle.Dispose();
        }
        base.Dispose(disposing);
    }
}
