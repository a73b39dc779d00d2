using System.Collections.Concurrent;
using StreamBench.Capture.Format;
using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Recording;

/// <summary>How a <see cref="RecordingSession"/> records.</summary>
public sealed record RecordingOptions
{
    /// <summary>Index record boundaries on the fly.</summary>
    public bool Index { get; init; } = true;

    /// <summary>How to parse the s2r direction.</summary>
    public XenStreamReaderOptions SenderReader { get; init; } = new();

    /// <summary>How to parse the r2s direction; null guesses from its first bytes (migrate banner or back channel).</summary>
    public XenStreamReaderOptions? ReceiverReader { get; init; }

    /// <summary>Size of the buffers a pump reads into; also the largest data chunk.</summary>
    public int SlabSize { get; init; } = CaptureWire.MaxDataPayload;

    /// <summary>Buffers per direction: the most data in flight between a pump and the capture file.</summary>
    public int SlabsPerDirection { get; init; } = 16;

    /// <summary>A pump starts a new buffer when less than this is left in the current one.</summary>
    public int MinReadSpace { get; init; } = 256 << 10;

    /// <summary>How often index entries found so far are appended.</summary>
    public TimeSpan IndexFlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The most bytes an indexer may be behind (in copies beyond its share of the buffers) before it gives up.</summary>
    public long MaxIndexerLag { get; init; } = 256L << 20;

    /// <summary>fsync the capture at most this often (null: never; kill -9 safety does not need it, power loss does).</summary>
    public TimeSpan? SyncInterval { get; init; }
}

/// <summary>What a recording produced.</summary>
public sealed record RecordingSummary(long SenderBytes, long ReceiverBytes, long Chunks, long CaptureBytes,
    long SenderIndexEntries, long ReceiverIndexEntries, IReadOnlyList<string> Warnings, Exception? CaptureError)
{
    /// <summary>Why the capture does not hold the whole session (a capture write error, a read or forward error on a
    /// direction, a signal); empty when it does.</summary>
    public IReadOnlyList<string> Incomplete { get; init; } = [];

    /// <summary>Whether the capture holds the whole session.</summary>
    public bool IsComplete => Incomplete.Count == 0;
}

/// <summary>
/// Records one session: a pump thread per direction reads its source into large buffers, forwards each read at once
/// to its sink, and hands the same buffer (no copy) to one writer thread, which appends data chunks with a hardware
/// CRC32C and feeds the live indexers. Forwarding never waits for the capture file except when every buffer of a
/// direction is still queued for writing. A capture write error stops the recording, never the forwarding.
/// </summary>
public sealed class RecordingSession : IDisposable
{
    private readonly List<string> _incomplete = [];
    private readonly CaptureWriter _writer;
    private readonly RecordingOptions _options;
    private readonly SlabPool[] _pools;
    private readonly BlockingCollection<Piece> _queue = new();
    private readonly LiveIndexer?[] _indexers = new LiveIndexer?[2];
    private readonly List<Thread> _pumps = [];
    private readonly List<string> _warnings = [];
    private readonly Thread _writerThread;
    private readonly bool[] _reportedIndexStop = new bool[2];
    private bool _metadataDiscovered;
    private Exception? _captureError;
    private RecordingSummary? _summary;

    /// <summary>Starts the writer thread; the metadata chunk is written first.</summary>
    public RecordingSession(CaptureWriter writer, CaptureMetadata metadata, RecordingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(metadata);
        _writer = writer;
        _options = options ?? new RecordingOptions();
        _pools = [new SlabPool(_options.SlabSize, _options.SlabsPerDirection), new SlabPool(_options.SlabSize, _options.SlabsPerDirection)];
        _writer.WriteMetadata(metadata);
        // The s2r indexer starts now, so that it is warmed up before the first bytes arrive.
        IndexerFor(CaptureDirection.SenderToReceiver, default);
        _writerThread = new Thread(WriterLoop) { IsBackground = true, Name = "capture writer" };
        _writerThread.Start();
    }

    /// <summary>The clock of the capture.</summary>
    public CaptureClock Clock => _writer.Clock;

    /// <summary>
    /// Starts pumping <paramref name="source"/> into <paramref name="sink"/> (may be null) and the capture as
    /// <paramref name="direction"/>. At the end of the source (or a read error) <paramref name="sourceEnded"/> runs
    /// (close or half-close the sink there). A sink write error stops the pump: <paramref name="sinkFailed"/> runs.
    /// </summary>
    public Thread StartPump(CaptureDirection direction, Stream source, Stream? sink, Action? sourceEnded = null, Action? sinkFailed = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var thread = new Thread(() => Pump(direction, source, sink, sourceEnded, sinkFailed))
        {
            IsBackground = true,
            Name = "pump " + CaptureDirections.Name(direction),
        };
        lock (_pumps)
        {
            _pumps.Add(thread);
        }
        thread.Start();
        return thread;
    }

    /// <summary>Records an event, ordered with the data already queued.</summary>
    public void AddEvent(CaptureEventCode code, CaptureDirection? direction, long value, string text = "")
        => TryQueue(new Piece(null, 0, 0, Clock.Now, direction ?? CaptureDirection.SenderToReceiver, new CaptureEvent(code, direction, value, text, Clock.Now)));

    /// <summary>Waits for every pump to finish (false on timeout).</summary>
    public bool WaitForPumps(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Thread[] pumps;
        lock (_pumps)
        {
            pumps = [.. _pumps];
        }
        foreach (var p in pumps)
        {
            var left = deadline - DateTime.UtcNow;
            if (left < TimeSpan.Zero || !p.Join(left))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Ends the recording: stops accepting data (pumps still running lose what they read from now on), writes what is
    /// queued, the rest of the index and the footer.
    /// </summary>
    public RecordingSummary Complete()
    {
        if (_summary is not null)
        {
            return _summary;
        }
        lock (_incomplete)
        {
            if (_incomplete.Count > 0)
            {
                AddEvent(CaptureEventCode.Note, null, _incomplete.Count, IncompleteNote + string.Join("; ", _incomplete));
            }
        }
        _queue.CompleteAdding();
        _writerThread.Join();
        for (var d = 0; d < 2; d++)
        {
            if (_indexers[d] is { } ix)
            {
                ix.Complete();
                if (!ix.Join(TimeSpan.FromSeconds(10)))
                {
                    _warnings.Add($"the {CaptureDirections.Name((CaptureDirection)d)} indexer did not finish in time");
                }
            }
        }
        Guard(() =>
        {
            FlushIndexes(final: true);
            _writer.Complete();
        });
        _summary = new RecordingSummary(_writer.PositionOf(CaptureDirection.SenderToReceiver), _writer.PositionOf(CaptureDirection.ReceiverToSender),
            _writer.ChunkCount, _writer.Length, _writer.IndexEntriesOf(CaptureDirection.SenderToReceiver),
            _writer.IndexEntriesOf(CaptureDirection.ReceiverToSender), _warnings, _captureError);
        var incomplete = new List<string>();
        lock (_incomplete)
        {
            incomplete.AddRange(_incomplete);
        }
        if (_captureError is not null)
        {
            incomplete.Insert(0, "the capture file could not be written: " + _captureError.Message);
        }
        _summary = _summary with { Incomplete = incomplete };
        return _summary;
    }

    private void Pump(CaptureDirection direction, Stream source, Stream? sink, Action? sourceEnded, Action? sinkFailed)
    {
        var pool = _pools[(int)direction];
        var slab = pool.Rent();
        var used = 0;
        long total = 0;
        string? readError = null;
        try
        {
            while (true)
            {
                if (pool.SlabSize - used < _options.MinReadSpace)
                {
                    slab.Release();
                    slab = pool.Rent();
                    used = 0;
                }
                int n;
                try
                {
                    n = source.Read(slab.Buffer, used, pool.SlabSize - used);
                }
                catch (IOException e)
                {
                    readError = e.Message;
                    break;
                }
                catch (ObjectDisposedException e)
                {
                    readError = e.Message;
                    break;
                }
                if (n <= 0)
                {
                    break;
                }
                var ts = Clock.Now;
                // Queue before forwarding: the file order then never puts a reply ahead of what it answered.
                slab.AddReference();
                if (!TryQueue(new Piece(slab, used, n, ts, direction, null)))
                {
                    slab.Release();
                }
                if (sink is not null)
                {
                    try
                    {
                        sink.Write(slab.Buffer, used, n);
                    }
                    catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
                    {
                        AddEvent(CaptureEventCode.ForwardFailed, direction, total, e.Message);
                        MarkIncomplete($"{CaptureDirections.Name(direction)}: forwarding failed after {total} bytes ({e.Message})");
                        sinkFailed?.Invoke();
                        total += n;
                        return;
                    }
                }
                used += n;
                total += n;
            }
            if (readError is not null)
            {
                AddEvent(CaptureEventCode.Note, direction, total, "read error: " + readError);
                MarkIncomplete($"{CaptureDirections.Name(direction)}: read error after {total} bytes ({readError})");
            }
            else
            {
                AddEvent(CaptureEventCode.DirectionEnd, direction, total);
            }
            try
            {
                sink?.Flush();
            }
            catch (IOException)
            {
                // The peer is gone; ending the source is all that is left to do.
            }
            sourceEnded?.Invoke();
        }
        finally
        {
            slab.Release();
        }
    }

    /// <summary>The text that starts the note a recording with missing data ends with (export --info shows it).</summary>
    public const string IncompleteNote = "capture incomplete: ";

    /// <summary>Notes that the capture will not hold the whole session.</summary>
    public void MarkIncomplete(string why)
    {
        lock (_incomplete)
        {
            _incomplete.Add(why);
        }
    }

    private bool TryQueue(Piece piece)
    {
        try
        {
            return _queue.TryAdd(piece);
        }
        catch (InvalidOperationException)
        {
            return false; // Completed: the recording is over.
        }
    }

    private void WriterLoop()
    {
        var lastIndexFlush = Clock.Now;
        var lastSync = Clock.Now;
        var dirty = false;
        var flushEvery = (long)_options.IndexFlushInterval.TotalMilliseconds * 1_000_000;
        // The data run being gathered: consecutive pieces of one direction, contiguous in one slab.
        Slab? runSlab = null;
        var runOffset = 0;
        var runLength = 0;
        var runPieces = 0;
        var runTimestamp = 0L;
        var runDirection = CaptureDirection.SenderToReceiver;

        void FlushRun()
        {
            if (runSlab is null)
            {
                return;
            }
            var slab = runSlab;
            var (offset, length) = (runOffset, runLength);
            Guard(() => _writer.WriteData(runDirection, slab.Buffer.AsMemory(offset, length), runTimestamp));
            IndexerFor(runDirection, slab.Buffer.AsSpan(offset, length))?.Post(slab, offset, length);
            for (var i = 0; i < runPieces; i++)
            {
                slab.Release();
            }
            runSlab = null;
            dirty = true;
        }

        while (true)
        {
            if (!_queue.TryTake(out var piece, 200))
            {
                if (_queue.IsCompleted)
                {
                    break;
                }
                FlushRun();
                MaybeFlushIndex(ref lastIndexFlush, flushEvery);
                continue;
            }
            if (piece.Event is { } ev)
            {
                FlushRun();
                Guard(() => _writer.WriteEvent(ev));
                if (ev.Code == CaptureEventCode.DirectionEnd && ev.Direction is { } d)
                {
                    _indexers[(int)d]?.Complete();
                }
            }
            else if (runSlab == piece.Slab && runDirection == piece.Direction && runOffset + runLength == piece.Offset
                && runLength + piece.Length <= CaptureWire.MaxDataPayload)
            {
                runLength += piece.Length;
                runPieces++;
            }
            else
            {
                FlushRun();
                (runSlab, runOffset, runLength, runPieces, runTimestamp, runDirection) = (piece.Slab, piece.Offset, piece.Length, 1, piece.Timestamp, piece.Direction);
            }
            if (_queue.Count == 0)
            {
                // Nothing else waiting: write now so that a kill -9 loses as little as possible.
                FlushRun();
                MaybeFlushIndex(ref lastIndexFlush, flushEvery);
                if (_options.SyncInterval is { } every && dirty && Clock.Now - lastSync >= (long)every.TotalMilliseconds * 1_000_000)
                {
                    Guard(_writer.Sync);
                    lastSync = Clock.Now;
                    dirty = false;
                }
            }
        }
        FlushRun();
    }

    private LiveIndexer? IndexerFor(CaptureDirection direction, ReadOnlySpan<byte> firstBytes)
    {
        if (!_options.Index)
        {
            return null;
        }
        var d = (int)direction;
        if (_indexers[d] is null)
        {
            var options = direction == CaptureDirection.SenderToReceiver
                ? _options.SenderReader
                : _options.ReceiverReader ?? new XenStreamReaderOptions
                {
                    Format = StreamIndexing.GuessBackFormat(firstBytes[..Math.Min(16, firstBytes.Length)]),
                    Dialect = _options.SenderReader.Dialect,
                };
            _indexers[d] = new LiveIndexer(direction, options, _options.MaxIndexerLag) { SlabBudget = _options.SlabSize * (long)_options.SlabsPerDirection / 4 };
        }
        return _indexers[d];
    }

    private void MaybeFlushIndex(ref long last, long every)
    {
        if (Clock.Now - last < every)
        {
            return;
        }
        last = Clock.Now;
        Guard(() => FlushIndexes(final: false));
    }

    private void FlushIndexes(bool final)
    {
        for (var d = 0; d < 2; d++)
        {
            if (_indexers[d] is not { } ix)
            {
                continue;
            }
            var batch = new List<CaptureIndexEntry>();
            while (ix.Entries.TryDequeue(out var e))
            {
                batch.Add(e);
            }
            if (batch.Count > 0)
            {
                _writer.WriteIndex(ix.Direction, batch.ToArray());
            }
            if (ix.StopReason is { } why && !_reportedIndexStop[d] && (final || ix.Finished))
            {
                _reportedIndexStop[d] = true;
                _writer.WriteEvent(CaptureEventCode.IndexStopped, ix.Direction, ix.StopOffset, why);
            }
            if (!_metadataDiscovered && ix.Discovered is { } m && ix.Direction == CaptureDirection.SenderToReceiver)
            {
                _metadataDiscovered = true;
                _writer.WriteMetadata(m);
            }
        }
    }

    private void Guard(Action write)
    {
        if (_captureError is not null)
        {
            return;
        }
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            _captureError = e;
            _warnings.Add("recording stopped, forwarding goes on: " + e.Message);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Complete();
        foreach (var ix in _indexers)
        {
            ix?.Dispose();
        }
        // The queue and the pools stay: a pump still blocked on its source may touch them until the process exits.
    }
}
