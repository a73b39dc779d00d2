using System.Collections.Concurrent;

namespace StreamBench.Formats.Streams;

/// <summary>
/// A source over a pipe or socket whose reads run on a thread of their own: while the consumer applies the bytes of
/// one read (a restore copying pages into guest memory), the reader thread already waits in the next
/// <c>read</c>, so the kernel's copy out of the pipe and the consumer's work overlap on two cores instead of taking
/// turns on one (docs/BENCHMARKS.md, "Where the time goes").
/// <para>
/// Every read's bytes are handed over as soon as it returns (never held back to fill a buffer), so a peer that waits
/// for an answer after sending a few bytes (a Remus or COLO checkpoint) is never stalled by the read-ahead. At most
/// <see cref="Chunks"/> reads of <see cref="ChunkSize"/> bytes are in flight: memory stays bounded whatever the
/// stream's length. A read error on the reader thread is raised to the consumer, as an <see cref="IOException"/>, at
/// the position where the bytes stop, after every byte read before it; the end of the input is the end, as for
/// <see cref="BufferedByteSource"/>.
/// </para>
/// </summary>
public sealed class ReadAheadByteSource : ByteSource
{
    /// <summary>Bytes asked for per read (the 1 MiB pipe of <see cref="PipeTuning"/> drains in one).</summary>
    public const int ChunkSize = 1 << 20;

    /// <summary>Reads in flight at most.</summary>
    public const int Chunks = 6;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly int _chunkSize;
    private readonly BlockingCollection<Segment> _filled;
    private readonly BlockingCollection<byte[]> _free;
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stop = new();

    // The consumer's view: _cur[_start.._end) holds the bytes at Position; _curIsChunk says whether _cur goes back to
    // the free list once passed. _pending is the rest of a segment that a stitch took only the front of.
    private byte[] _cur = [];
    private bool _curIsChunk;
    private int _start;
    private int _end;
    private long _curOffset; // absolute offset of _cur[0]
    private Segment? _pending;
    private byte[]? _stitch;
    private bool _eof;
    private Exception? _error;
    private int _disposed;
    private int _left;

    /// <summary>Starts reading <paramref name="stream"/> on a thread of its own.</summary>
    public ReadAheadByteSource(Stream stream, bool ownsStream = false, int chunkSize = ChunkSize, int chunks = Chunks)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunks, 2);
        _stream = stream;
        _ownsStream = ownsStream;
        _chunkSize = chunkSize;
        _free = new BlockingCollection<byte[]>(new ConcurrentQueue<byte[]>(), chunks);
        _filled = new BlockingCollection<Segment>(new ConcurrentQueue<Segment>(), chunks);
        for (var i = 0; i < chunks; i++)
        {
            _free.Add(new byte[chunkSize]);
        }
        _thread = new Thread(ReadLoop) { IsBackground = true, Name = "read-ahead" };
        _thread.Start();
    }

    /// <summary>Standard input (its pipe enlarged as <see cref="ByteSource.Open"/> does), read on a thread of its own.</summary>
    public static ReadAheadByteSource OpenStandardInput()
    {
        PipeTuning.Enlarge(0);
        return new ReadAheadByteSource(StandardInput.Open(), ownsStream: true);
    }

    /// <inheritdoc />
    public override long Position => _curOffset + _start;

    /// <inheritdoc />
    public override long? Length => null;

    /// <inheritdoc />
    public override int MaxWindow => _chunkSize;

    /// <inheritdoc />
    public override int Available => _end - _start;

    /// <inheritdoc />
    public override bool Ensure(int count)
    {
        if (_end - _start >= count)
        {
            return true;
        }
        if (count > _chunkSize)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "larger than the source's window");
        }
        if (_end == _start && !NextSegment())
        {
            return false;
        }
        if (_end - _start >= count)
        {
            return true;
        }
        // The bytes asked for straddle two reads: gather them in the stitch buffer (live part first, then the front of
        // the following reads); what a read has beyond them waits in _pending.
        _stitch ??= new byte[2 * _chunkSize];
        var live = _end - _start;
        Buffer.BlockCopy(_cur, _start, _stitch, 0, live);
        long offset = Position;
        ReleaseCurrent();
        _cur = _stitch;
        _curIsChunk = false;
        _curOffset = offset;
        _start = 0;
        _end = live;
        while (_end < count)
        {
            if (!Take(out var next))
            {
                return false;
            }
            var take = Math.Min(count - _end, next.Length);
            Buffer.BlockCopy(next.Buffer!, next.Start, _stitch, _end, take);
            _end += take;
            if (take < next.Length)
            {
                _pending = next with { Start = next.Start + take, Length = next.Length - take };
            }
            else
            {
                Recycle(next.Buffer!);
            }
        }
        return true;
    }

    /// <inheritdoc />
    public override ReadOnlySpan<byte> Peek(int count) => _cur.AsSpan(_start, count);

    /// <inheritdoc />
    public override void Advance(int count) => _start += count;

    /// <inheritdoc />
    public override long Skip(long count)
    {
        long skipped = 0;
        while (skipped < count)
        {
            if (_end == _start && !NextSegment())
            {
                break;
            }
            var n = (int)Math.Min(count - skipped, _end - _start);
            _start += n;
            skipped += n;
        }
        return skipped;
    }

    /// <inheritdoc />
    public override int Read(Span<byte> destination)
    {
        var total = 0;
        while (total < destination.Length)
        {
            if (_end == _start && !NextSegment())
            {
                break;
            }
            var n = Math.Min(destination.Length - total, _end - _start);
            _cur.AsSpan(_start, n).CopyTo(destination[total..]);
            _start += n;
            total += n;
        }
        return total;
    }

    // The view is used up: move it to the next read's bytes. False at the end of the input.
    private bool NextSegment()
    {
        long offset = Position;
        ReleaseCurrent();
        _curOffset = offset; // the position stays where the bytes stop, also when Take raises a read error
        if (!Take(out var next))
        {
            return false;
        }
        _cur = next.Buffer!;
        _curIsChunk = true;
        _curOffset = offset - next.Start;
        _start = next.Start;
        _end = next.Start + next.Length;
        return true;
    }

    private bool Take(out Segment segment)
    {
        if (_pending is { } p)
        {
            _pending = null;
            segment = p;
            return true;
        }
        segment = default;
        if (_eof)
        {
            return false;
        }
        if (_error is not null)
        {
            throw Raise(_error);
        }
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var s = _filled.Take();
        if (s.Buffer is not null)
        {
            segment = s;
            return true;
        }
        if (s.Error is not null)
        {
            _error = s.Error;
            throw Raise(s.Error);
        }
        _eof = true;
        return false;
    }

    private static IOException Raise(Exception e) =>
        e as IOException ?? new IOException($"reading the input failed: {e.Message}", e);

    private void ReleaseCurrent()
    {
        if (_curIsChunk)
        {
            Recycle(_cur);
            _curIsChunk = false;
        }
        _cur = [];
        _start = _end = 0;
    }

    private void Recycle(byte[] chunk)
    {
        if (_disposed == 0)
        {
            _free.Add(chunk);
        }
    }

    private void ReadLoop()
    {
        try
        {
            while (true)
            {
                byte[] chunk;
                try
                {
                    chunk = _free.Take(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                int n;
                try
                {
                    n = _stream.Read(chunk, 0, chunk.Length);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException or UnauthorizedAccessException)
                {
                    _filled.Add(new Segment(null, 0, 0, e));
                    return;
                }
                if (n <= 0)
                {
                    _filled.Add(new Segment(null, 0, 0, null));
                    return;
                }
                _filled.Add(new Segment(chunk, 0, n, null));
            }
        }
        finally
        {
            Leave();
        }
    }

    /// <inheritdoc />
    /// <remarks>The reader thread stops after the read it is in; a stream it owns is closed then (a read blocked on a
    /// peer that never writes again keeps it open until the process ends: the thread is a background thread).</remarks>
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stop.Cancel();
            Leave();
        }
        base.Dispose(disposing);
    }

    // The reader thread and Dispose each leave once; the second to leave closes an owned stream (the thread may be in a
    // read of it until then).
    private void Leave()
    {
        if (Interlocked.Increment(ref _left) == 2 && _ownsStream)
        {
            _stream.Dispose();
        }
    }

    private readonly record struct Segment(byte[]? Buffer, int Start, int Length, Exception? Error);
}
