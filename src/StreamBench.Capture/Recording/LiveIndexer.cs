using System.Collections.Concurrent;
using System.Globalization;
using StreamBench.Capture.Format;
using StreamBench.Formats;
using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Recording;

/// <summary>
/// Indexes one direction while it is recorded: <see cref="XenStreamReader"/> runs on its own thread over a
/// <see cref="QueueByteSource"/>. It can only fall behind or stop, never hold up the forwarding: past
/// <see cref="MaxLagBytes"/> of unread bytes it gives up, and a malformed stream stops it with the reader's message.
/// </summary>
internal sealed class LiveIndexer : IDisposable
{
    private readonly QueueByteSource _source = new();
    private readonly XenStreamReaderOptions _options;
    private readonly Thread _thread;
    private readonly long _maxLag;
    private volatile bool _stopped;

    public LiveIndexer(CaptureDirection direction, XenStreamReaderOptions options, long maxLagBytes)
    {
        Direction = direction;
        _options = options;
        _maxLag = maxLagBytes;
        _thread = new Thread(Run) { IsBackground = true, Name = "index " + CaptureDirections.Name(direction) };
        _thread.Start();
    }

    public CaptureDirection Direction { get; }

    public long MaxLagBytes => _maxLag;

    /// <summary>Entries found and not yet written.</summary>
    public ConcurrentQueue<CaptureIndexEntry> Entries { get; } = new();

    /// <summary>Why indexing stopped before the end of input, once it has.</summary>
    public string? StopReason { get; private set; }

    /// <summary>Where it stopped.</summary>
    public long StopOffset { get; private set; }

    /// <summary>Metadata learnt from the stream (format, guest type, Xen version), once known.</summary>
    public CaptureMetadata? Discovered { get; private set; }

    /// <summary>Whether the thread has finished.</summary>
    public bool Finished => !_thread.IsAlive;

    /// <summary>
    /// Hands the indexer a piece. By reference while it keeps up; copied when it holds more than
    /// <see cref="SlabBudget"/> bytes of the recorder's buffers (so the pumps never wait for it); given up past
    /// <see cref="MaxLagBytes"/> in all.
    /// </summary>
    public void Post(Slab slab, int offset, int length)
    {
        if (_stopped)
        {
            return;
        }
        if (_source.QueuedBytes + length > _maxLag)
        {
            Stop(string.Create(CultureInfo.InvariantCulture, $"indexer fell behind by more than {_maxLag} bytes; rebuild the index from the data"), _source.Position);
            _source.Abandon();
            return;
        }
        _source.Post(slab, offset, length, copy: _source.QueuedSlabBytes + length > SlabBudget);
    }

    /// <summary>The most bytes of the recorder's buffers the indexer may hold.</summary>
    public long SlabBudget { get; init; } = 8 << 20;

    public void Complete() => _source.Complete();

    public bool Join(TimeSpan timeout) => _thread.Join(timeout);

    private void Stop(string reason, long offset)
    {
        if (_stopped)
        {
            return;
        }
        StopReason = reason;
        StopOffset = offset;
        _stopped = true;
    }

    /// <summary>A one-page xl migrate stream: parsing it first compiles the reader before real data waits on it.</summary>
    private static readonly byte[] WarmUp = Formats.Synthesis.SyntheticStreams.Generate(new Formats.Synthesis.SyntheticStreamOptions
    {
        Layer = Formats.Synthesis.SyntheticLayer.XlMigrateSender,
        Pages = 1,
    });

    private void Run()
    {
        try
        {
            using (var warm = XenStreamReader.FromMemory(WarmUp, _options with { Format = OuterFormat.Auto }))
            {
                while (warm.Read())
                {
                }
            }

            using var reader = new XenStreamReader(_source, _options);
            // An entry is published once the next item starts (or the input ends cleanly): only whole items are indexed.
            CaptureIndexEntry? pending = null;
            while (reader.Read())
            {
                if (pending is { } done)
                {
                    Entries.Enqueue(done);
                }
                pending = StreamIndexing.EntryOf(reader);
                if (reader.Kind == StreamItemKind.LibxcDomainHeader && reader.DomainHeader is { } dh)
                {
                    var m = new CaptureMetadata
                    {
                        [CaptureMetadata.StreamFormat] = reader.DetectedFormat.ToString().ToLowerInvariant(),
                        [CaptureMetadata.StreamGuest] = dh.Type.ToString(),
                        [CaptureMetadata.XenVersion] = string.Create(CultureInfo.InvariantCulture, $"{dh.XenMajor}.{dh.XenMinor}"),
                    };
                    Discovered = m;
                }
            }
            reader.FinishItem();
            if (pending is { } last)
            {
                Entries.Enqueue(last);
            }
        }
        catch (StreamFormatException e)
        {
            Stop("not a valid stream from here on: " + e.Message, e.Offset);
        }
        catch (OperationCanceledException)
        {
            // Abandoned: the reason is already set.
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            Stop("indexer error: " + e.Message, _source.Position);
        }
        finally
        {
            _stopped = true;
            _source.Abandon();
        }
    }

    public void Dispose()
    {
        _source.Abandon();
        _thread.Join(TimeSpan.FromSeconds(5));
        _source.Dispose();
    }
}
