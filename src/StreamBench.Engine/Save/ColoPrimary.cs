using System.Buffers.Binary;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Pages;
using StreamBench.Formats;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Engine.Save;

/// <summary>One COLO checkpoint as the primary saw it.</summary>
/// <param name="Index">1-based checkpoint number.</param>
/// <param name="PrimaryDirtyPfns">Pages the primary's own run dirtied since the last checkpoint (its CLEAN).</param>
/// <param name="SecondaryDirtyPfns">pfns the secondary reported in CHECKPOINT_DIRTY_PFN_LIST (0 for the first, live, checkpoint).</param>
/// <param name="PfnsSent">pfns sent in the checkpoint (the union of the two, plus deferred ones).</param>
/// <param name="Digest">The primary's digest at suspend: the state the checkpoint carries.</param>
public sealed record ColoPrimaryCheckpoint(int Index, long PrimaryDirtyPfns, long SecondaryDirtyPfns, long PfnsSent, DomainDigest Digest);

/// <summary>
/// The COLO primary's side of the checkpoint handshake (libxl_colo_save.c, and xg_sr_save.c's COLO hooks), handed to
/// <see cref="SaveEngine"/> through <see cref="SaveOptions.Colo"/>. The primary loop of the libxl CHECKPOINT_STATE
/// spec: suspend (and, once the secondary runs, read SVM_SUSPENDED), checkpoint (libxc CHECKPOINT, the pages, libxl
/// CHECKPOINT_END), resume (read SVM_READY, resume, read SVM_RESUMED), wait for a new checkpoint (the guest runs, then
/// CHECKPOINT_NEW on the main stream). The secondary's CHECKPOINT_DIRTY_PFN_LIST is read after SVM_SUSPENDED and
/// merged into the pages the next checkpoint sends (colo_merge_secondary_dirty_bitmap). When the back channel closes
/// or breaks, the secondary is gone and the primary goes on alone (<see cref="SecondaryLost"/>).
/// </summary>
public sealed class ColoPrimary : IDisposable
{
    private readonly XenStreamReader _reader;
    private readonly List<ColoPrimaryCheckpoint> _checkpoints = [];

    /// <summary>Reads the secondary's records from <paramref name="backChannel"/> (not disposed).</summary>
    public ColoPrimary(Stream backChannel)
    {
        ArgumentNullException.ThrowIfNull(backChannel);
        _reader = new XenStreamReader(ByteSource.FromStream(backChannel),
            new XenStreamReaderOptions { Format = OuterFormat.BackChannel }, ownsSource: true);
    }

    /// <summary>Workload ticks the primary runs between checkpoints (while it waits for the next one).</summary>
    public int TicksBetweenCheckpoints { get; init; } = 1;

    /// <summary>Each checkpoint the primary completed.</summary>
    public IReadOnlyList<ColoPrimaryCheckpoint> Checkpoints => _checkpoints;

    /// <summary>Why the primary went on alone (the secondary's channel closed or broke), or null.</summary>
    public string? SecondaryLost { get; internal set; }

    /// <summary>Complete checkpoints when the secondary was lost (or at the end).</summary>
    public int CheckpointsCompleted => _checkpoints.Count;

    /// <summary>Whether the secondary VM has been resumed once (libxl's svm_running).</summary>
    internal bool SvmRunning { get; set; }

    internal void Add(ColoPrimaryCheckpoint checkpoint) => _checkpoints.Add(checkpoint);

    /// <summary>Reads one CHECKPOINT_STATE from the back channel and requires <paramref name="expected"/>.</summary>
    internal void ReadState(CheckpointControlId expected) => Guard(() => ReadStateCore(expected), Name(expected));

    /// <summary>colo_merge_secondary_dirty_bitmap: one CHECKPOINT_DIRTY_PFN_LIST, every pfn below p2m_size.</summary>
    internal PfnBitmap ReadDirtyPfnList(ulong p2mSize)
    {
        PfnBitmap? dirty = null;
        Guard(() => dirty = ReadDirtyPfnListCore(p2mSize), "CHECKPOINT_DIRTY_PFN_LIST");
        return dirty!;
    }

    private void Guard(Action read, string what)
    {
        try
        {
            read();
        }
        catch (StreamFormatException e) when (e.IsTruncation)
        {
            throw new ColoChannelException($"the back channel broke while waiting for {what}", e);
        }
        catch (StreamFormatException e)
        {
            throw new ColoProtocolException($"back channel: {e.Message}", e);
        }
    }

    private void ReadStateCore(CheckpointControlId expected)
    {
        ReadRecord(expected.ToString());
        if (_reader.RecordType != (uint)LibxlRecordType.CheckpointState)
        {
            throw Protocol($"expected CHECKPOINT_STATE {Name(expected)}, found {_reader.RecordTypeName}");
        }

        ReadOnlySpan<byte> body = _reader.GetBody();
        if (!CheckpointStateBody.TryParse(body, out CheckpointStateBody state))
        {
            throw Protocol($"CHECKPOINT_STATE is {body.Length} bytes, the control_id needs {LibxlWire.CheckpointStateSize}");
        }

        if (state.ControlId != (uint)expected)
        {
            throw Protocol($"invalid section: {state.ControlId}, expected: {(uint)expected} ({Name(expected)})");
        }

        _reader.FinishItem();
    }

    private PfnBitmap ReadDirtyPfnListCore(ulong p2mSize)
    {
        ReadRecord("CHECKPOINT_DIRTY_PFN_LIST");
        if (_reader.RecordType != (uint)LibxcRecordType.CheckpointDirtyPfnList)
        {
            throw Protocol($"expected CHECKPOINT_DIRTY_PFN_LIST, found {_reader.RecordTypeName}");
        }

        long length = _reader.BodyLength;
        if (length % 8 != 0)
        {
            throw Protocol($"CHECKPOINT_DIRTY_PFN_LIST is {length} bytes, not a multiple of 8");
        }

        // Never more pfns than the guest has: a longer list is refused before any of it is buffered.
        if ((ulong)(length / 8) > p2mSize)
        {
            throw Protocol($"CHECKPOINT_DIRTY_PFN_LIST names {length / 8} pfns, more than the guest's p2m_size {p2mSize}");
        }

        var dirty = new PfnBitmap();
        Span<byte> word = stackalloc byte[8];
        for (long i = 0; i < length / 8; i++)
        {
            if (_reader.ReadBody(word) != 8)
            {
                throw new ColoChannelException("the back channel ended inside CHECKPOINT_DIRTY_PFN_LIST");
            }

            ulong pfn = BinaryPrimitives.ReadUInt64LittleEndian(word);
            if (pfn >= p2mSize)
            {
                throw Protocol($"Invalid pfn 0x{pfn:x} from secondary (p2m_size {p2mSize})");
            }

            dirty.Add(pfn);
        }

        _reader.FinishItem();
        return dirty;
    }

    private void ReadRecord(string what)
    {
        if (!_reader.Read())
        {
            throw new ColoChannelException($"the back channel closed while waiting for {what}");
        }
    }

    private ColoProtocolException Protocol(string problem) =>
        new($"back channel offset {_reader.Offset}, record #{_reader.RecordIndex}: {problem}");

    internal static string Name(CheckpointControlId id) => id switch
    {
        CheckpointControlId.CheckpointNew => "CHECKPOINT_NEW",
        CheckpointControlId.SvmSuspended => "SVM_SUSPENDED",
        CheckpointControlId.SvmReady => "SVM_READY",
        CheckpointControlId.SvmResumed => "SVM_RESUMED",
        _ => $"{(uint)id}",
    };

    /// <inheritdoc />
    public void Dispose() => _reader.Dispose();
}

/// <summary>The other side of a COLO pair is gone: its channel closed or broke (failover, not an error).</summary>
public sealed class ColoChannelException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ColoChannelException() : base("the COLO channel closed") { }

    /// <summary>Creates the exception with a message.</summary>
    public ColoChannelException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ColoChannelException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>The other side of a COLO pair broke the handshake (libxl's "invalid section"): an error, not a failover.</summary>
public sealed class ColoProtocolException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public ColoProtocolException() : base("COLO protocol error") { }

    /// <summary>Creates the exception with a message.</summary>
    public ColoProtocolException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ColoProtocolException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>The primary's main stream: once the secondary is lost it is severed and further writes go nowhere.</summary>
internal sealed class SeverableStream(Stream inner) : Stream
{
    private bool _severed;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public void Sever() => _severed = true;

    public override void Flush()
    {
        if (!_severed)
        {
            inner.Flush();
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (!_severed)
        {
            inner.Write(buffer);
        }
    }
}
