using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Recording;

/// <summary>
/// A <see cref="ByteSource"/> fed with slab pieces by the capture writer, so that <see cref="XenStreamReader"/> can
/// index the bytes on its own thread while they are recorded. Skipping (page data) drops pieces without copying;
/// only the few bytes of headers that straddle two pieces are copied into a small staging buffer.
/// </summary>
internal sealed class QueueByteSource : ByteSource
{
    /// <summary>The largest window: the reader asks for at most 64 KiB at once (trailing data chunks).</summary>
    private const int StageSize = 128 << 10;

    private readonly object _gate = new();
    private readonly Queue<(byte[] Buffer, Slab? Slab, int Offset, int Length)> _queue = new();
    private readonly byte[] _stage = new byte[StageSize];
    private long _queuedBytes;
    private long _queuedSlabBytes;
    private bool _completed;
    private bool _abandoned;
    private Slab? _current;
    private byte[]? _currentBuffer;
    private int _currentOffset;
    private int _currentEnd;
    private int _stageStart;
    private int _stageEnd;
    private long _position;

    /// <summary>Bytes posted and not yet taken by the reader.</summary>
    public long QueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _queuedBytes;
            }
        }
    }

    /// <summary>Of those, the bytes still in the recorder's slabs (the rest are copies).</summary>
    public long QueuedSlabBytes
    {
        get
        {
            lock (_gate)
            {
                return _queuedSlabBytes;
            }
        }
    }

    /// <summary>
    /// Adds a piece. By reference (a reference on the slab) unless <paramref name="copy"/>: a copy frees the slab for
    /// the pump at once, for when the reader lags. Ignored once abandoned or completed.
    /// </summary>
    public void Post(Slab slab, int offset, int length, bool copy)
    {
        lock (_gate)
        {
            if (_abandoned || _completed)
            {
                return;
            }
            if (copy)
            {
                _queue.Enqueue((slab.Buffer.AsSpan(offset, length).ToArray(), null, 0, length));
            }
            else
            {
                slab.AddReference();
                _queue.Enqueue((slab.Buffer, slab, offset, length));
                _queuedSlabBytes += length;
            }
            _queuedBytes += length;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>No more pieces: the reader sees the end of input after the queued ones.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Drops every queued piece; the reader's next wait throws <see cref="OperationCanceledException"/>.</summary>
    public void Abandon()
    {
        lock (_gate)
        {
            _abandoned = true;
            while (_queue.TryDequeue(out var p))
            {
                p.Slab?.Release();
            }
            _queuedBytes = 0;
            _queuedSlabBytes = 0;
            Monitor.PulseAll(_gate);
        }
    }

    private int Staged => _stageEnd - _stageStart;

    private int CurrentLeft => _currentEnd - _currentOffset;

    /// <inheritdoc />
    public override long Position => _position;

    /// <inheritdoc />
    public override long? Length => null;

    /// <inheritdoc />
    public override int MaxWindow => StageSize;

    /// <inheritdoc />
    public override int Available => Staged > 0 ? Staged : CurrentLeft;

    /// <summary>Moves to the next piece, waiting for one. False at the end of input.</summary>
    private bool NextPiece()
    {
        _current?.Release();
        _current = null;
        _currentBuffer = null;
        _currentOffset = _currentEnd = 0;
        lock (_gate)
        {
            while (true)
            {
                if (_abandoned)
                {
                    throw new OperationCanceledException("indexing abandoned");
                }
                if (_queue.TryDequeue(out var p))
                {
                    _queuedBytes -= p.Length;
                    if (p.Slab is not null)
                    {
                        _queuedSlabBytes -= p.Length;
                    }
                    _current = p.Slab;
                    _currentBuffer = p.Buffer;
                    _currentOffset = p.Offset;
                    _currentEnd = p.Offset + p.Length;
                    return true;
                }
                if (_completed)
                {
                    return false;
                }
                Monitor.Wait(_gate);
            }
        }
    }

    /// <inheritdoc />
    public override bool Ensure(int count)
    {
        if (Staged == 0 && CurrentLeft >= count)
        {
            return true;
        }
        if (Staged >= count)
        {
            return true;
        }
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, StageSize);
        if (_stageStart > 0 && _stageStart + count > StageSize)
        {
            Buffer.BlockCopy(_stage, _stageStart, _stage, 0, Staged);
            _stageEnd = Staged;
            _stageStart = 0;
        }
        if (Staged == 0)
        {
            _stageStart = _stageEnd = 0;
        }
        while (Staged < count)
        {
            if (CurrentLeft == 0 && !NextPiece())
            {
                return false;
            }
            var n = Math.Min(count - Staged, CurrentLeft);
            Buffer.BlockCopy(_currentBuffer!, _currentOffset, _stage, _stageEnd, n);
            _stageEnd += n;
            _currentOffset += n;
        }
        return true;
    }

    /// <inheritdoc />
    public override ReadOnlySpan<byte> Peek(int count) => Staged > 0
        ? _stage.AsSpan(_stageStart, count)
        : _currentBuffer!.AsSpan(_currentOffset, count);

    /// <inheritdoc />
    public override void Advance(int count)
    {
        if (Staged > 0)
        {
            _stageStart += count;
        }
        else
        {
            _currentOffset += count;
        }
        _position += count;
    }

    /// <inheritdoc />
    public override long Skip(long count)
    {
        long skipped = 0;
        var fromStage = (int)Math.Min(count, Staged);
        _stageStart += fromStage;
        skipped += fromStage;
        while (skipped < count)
        {
            if (CurrentLeft == 0 && !NextPiece())
            {
                break;
            }
            var n = (int)Math.Min(count - skipped, CurrentLeft);
            _currentOffset += n;
            skipped += n;
        }
        _position += skipped;
        return skipped;
    }

    /// <inheritdoc />
    public override int Read(Span<byte> destination)
    {
        var total = 0;
        var fromStage = Math.Min(destination.Length, Staged);
        _stage.AsSpan(_stageStart, fromStage).CopyTo(destination);
        _stageStart += fromStage;
        total += fromStage;
        while (total < destination.Length)
        {
            if (CurrentLeft == 0 && !NextPiece())
            {
                break;
            }
            var n = Math.Min(destination.Length - total, CurrentLeft);
            _currentBuffer!.AsSpan(_currentOffset, n).CopyTo(destination[total..]);
            _currentOffset += n;
            total += n;
        }
        _position += total;
        return total;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Abandon();
            _current?.Release();
            _current = null;
        }
        base.Dispose(disposing);
    }
}
