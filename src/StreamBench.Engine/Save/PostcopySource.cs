using System.Buffers.Binary;
using StreamBench.Domain.Pages;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Engine.Save;

/// <summary>
/// The post-copy source's side (the RFC dialect, FORMATS.md 9; seed 004), handed to <see cref="SaveEngine"/> through
/// <see cref="SaveOptions.Postcopy"/>: after the live pre-copy passes the guest is suspended, its CPU context and the
/// still-dirty pfns (POSTCOPY_PFNS) go out, then POSTCOPY_TRANSITION hands the guest over; afterwards the pages follow
/// in POSTCOPY_PAGE_DATA, the ones the destination faulted on first, the rest as a background push, each exactly
/// once. A thread reads the back channel: POSTCOPY_FAULT (pfns must be announced and below p2m_size; repeats and
/// faults for pages already sent are counted and dropped, so a flood costs no memory) and POSTCOPY_COMPLETE (an error
/// while pages are outstanding).
/// </summary>
public sealed class PostcopySource : IDisposable
{
    private readonly XenStreamReader _reader;
    private readonly object _lock = new();
    private readonly Queue<ulong> _faults = new();
    private readonly PfnBitmap _requested = new();
    private readonly PfnBitmap _announced = new();
    private readonly ManualResetEventSlim _finished = new();
    private readonly ManualResetEventSlim _faultArrived = new();
    private readonly PfnBitmap _sent = new();
    private ulong _p2mSize;
    private Thread? _thread;

    /// <summary>Reads the destination's records from <paramref name="backChannel"/> (not disposed).</summary>
    public PostcopySource(Stream backChannel)
    {
        ArgumentNullException.ThrowIfNull(backChannel);
        _reader = new XenStreamReader(ByteSource.FromStream(backChannel),
            new XenStreamReaderOptions { Format = OuterFormat.BackChannel, Dialect = StreamDialect.PostcopyRfc }, ownsSource: true);
    }

    /// <summary>pfns per background POSTCOPY_PAGE_DATA record (smaller: faults are served sooner).</summary>
    public int BackgroundBatch { get; init; } = 32;

    /// <summary>
    /// The background push's throttle: after each background batch the source waits this long for a fault before the
    /// next batch (a fault ends the wait at once). Unthrottled, the push fills the transport's buffer (a 1 MiB pipe holds
    /// ~256 pages), and every faulted page waits behind it; paced, the buffer stays short and the faulted page goes out
    /// next. It costs at most this much wall time per batch, and nothing once the destination's back channel has ended
    /// (nobody will fault). Zero: no throttle.
    /// </summary>
    public TimeSpan BackgroundPause { get; init; } = DefaultBackgroundPause;

    /// <summary>The default <see cref="BackgroundPause"/>.</summary>
    public static readonly TimeSpan DefaultBackgroundPause = TimeSpan.FromMilliseconds(2);

    /// <summary>Background batches after which the source paused for faults.</summary>
    public long BackgroundPauses { get; private set; }

    /// <summary>pfns announced in POSTCOPY_PFNS (sent after the transition).</summary>
    public long Announced { get; internal set; }

    /// <summary>Pages sent in answer to a fault.</summary>
    public long PagesOnFault { get; internal set; }

    /// <summary>Pages sent by the background push.</summary>
    public long PagesBackground { get; internal set; }

    /// <summary>Faulted pfns received (every pfn of every POSTCOPY_FAULT).</summary>
    public long FaultsReceived { get; private set; }

    /// <summary>Faults for a page already requested or sent: dropped (a page goes out once).</summary>
    public long FaultsDropped { get; private set; }

    /// <summary>Whether the transition went out (the destination runs the guest from then on).</summary>
    public bool Transitioned { get; internal set; }

    /// <summary>Whether the destination confirmed with POSTCOPY_COMPLETE.</summary>
    public bool CompleteReceived { get; private set; }

    /// <summary>What was wrong with the destination's messages (a hostile or broken destination), or null.</summary>
    public string? DestinationError { get; private set; }

    /// <summary>Stream bytes written while the guest was suspended and before the transition (the downtime's share).</summary>
    public long BytesWhileSuspended { get; internal set; }

    // The transition went out: start reading the destination's faults.
    internal void Start(ulong p2mSize, PfnBitmap announced)
    {
        _p2mSize = p2mSize;
        _announced.CopyFrom(announced);
        Announced = announced.Count;
        _thread = new Thread(ReadBackChannel) { IsBackground = true, Name = "postcopy back channel" };
        _thread.Start();
    }

    internal void MarkSent(ulong pfn)
    {
        lock (_lock)
        {
            _sent.Add(pfn);
        }
    }

    internal bool TryTakeFault(out ulong pfn)
    {
        lock (_lock)
        {
            return _faults.TryDequeue(out pfn);
        }
    }

    // After a background batch: wait (up to BackgroundPause) for a fault, unless one is queued or none can come.
    internal void PauseForFaults()
    {
        if (BackgroundPause <= TimeSpan.Zero || _finished.IsSet)
        {
            return;
        }

        lock (_lock)
        {
            _faultArrived.Reset();
            if (_faults.Count > 0)
            {
                return;
            }
        }

        BackgroundPauses++;
        WaitHandle.WaitAny([_faultArrived.WaitHandle, _finished.WaitHandle], BackgroundPause);
    }

    // After the last page: wait for COMPLETE (or the back channel's end).
    internal void WaitComplete() => _finished.Wait();

    private void ReadBackChannel()
    {
        try
        {
            while (_reader.Read())
            {
                switch (_reader.RecordType)
                {
                    case (uint)PostcopyRecordType.PostcopyFault:
                        Fault();
                        break;
                    case (uint)PostcopyRecordType.PostcopyComplete:
                        long outstanding;
                        lock (_lock)
                        {
                            outstanding = Announced - _sent.Count;
                        }

                        if (outstanding > 0)
                        {
                            DestinationError = $"POSTCOPY_COMPLETE with {outstanding} page(s) outstanding";
                            return;
                        }

                        CompleteReceived = true;
                        return;
                    default:
                        DestinationError = $"back channel record #{_reader.RecordIndex}: {_reader.RecordTypeName} is not a post-copy message";
                        return;
                }

                _reader.FinishItem();
            }
        }
        catch (StreamFormatException e)
        {
            DestinationError ??= $"back channel: {e.Message}";
        }
        catch (IOException)
        {
            // the destination is gone: no COMPLETE
        }
        catch (ObjectDisposedException)
        {
            // closed
        }
        finally
        {
            _finished.Set();
        }
    }

    // POSTCOPY_FAULT: the POSTCOPY_PFNS layout (u32 count, u32 reserved, u64 pfn[count]) without type bits.
    private void Fault()
    {
        long length = _reader.BodyLength;
        Span<byte> word = stackalloc byte[8];
        if (length < 8 || _reader.ReadBody(word) != 8)
        {
            throw Hostile($"POSTCOPY_FAULT is {length} bytes, shorter than its header");
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(word);
        if (length != 8 + (8L * count))
        {
            throw Hostile($"POSTCOPY_FAULT length {length}, expected 8 + 8 x {count}");
        }

        for (uint i = 0; i < count; i++)
        {
            _reader.ReadBody(word);
            ulong pfn = BinaryPrimitives.ReadUInt64LittleEndian(word);
            FaultsReceived++;
            if (pfn >= _p2mSize || !_announced.Contains(pfn))
            {
                throw Hostile($"POSTCOPY_FAULT for pfn 0x{pfn:x}, which is {(pfn >= _p2mSize ? $"beyond p2m_size 0x{_p2mSize:x}" : "not announced")}");
            }

            lock (_lock)
            {
                if (_sent.Contains(pfn) || !_requested.Add(pfn))
                {
                    FaultsDropped++;
                    continue;
                }

                _faults.Enqueue(pfn); // at most one entry per announced pfn
                _faultArrived.Set();
            }
        }
    }

    private StreamFormatException Hostile(string problem)
    {
        DestinationError = problem;
        return new StreamFormatException(problem, _reader.Offset, ErrorLayer.BackChannel, _reader.RecordIndex, _reader.RecordTypeName, "pfn");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _reader.Dispose();
        _finished.Dispose();
        _faultArrived.Dispose();
    }
}
