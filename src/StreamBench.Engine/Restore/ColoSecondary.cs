using System.Buffers.Binary;
using StreamBench.Domain;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Save;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Engine.Restore;

/// <summary>One COLO checkpoint as the secondary applied it.</summary>
/// <param name="Index">1-based checkpoint number.</param>
/// <param name="Digest">The secondary's digest right after the checkpoint was applied (the primary's at suspend, if all is well).</param>
/// <param name="OwnWrites">Page writes the secondary's own run made after resuming from this checkpoint.</param>
/// <param name="DirtyPfnsSent">pfns it then reported in CHECKPOINT_DIRTY_PFN_LIST (-1: it never suspended again).</param>
public sealed record ColoSecondaryCheckpoint(int Index, DomainDigest Digest, long OwnWrites, long DirtyPfnsSent);

/// <summary>
/// The COLO secondary's callbacks (libxl_colo_restore.c, and xg_sr_restore.c's handle_checkpoint for XC_STREAM_COLO),
/// handed to <see cref="RestoreEngine"/> through <see cref="RestoreOptions.Colo"/>. The secondary loop of the libxl
/// CHECKPOINT_STATE spec: after each checkpoint is applied the guest is resumed (SVM_READY, resume, SVM_RESUMED) and
/// runs its own workload; at CHECKPOINT_NEW it is suspended (SVM_SUSPENDED) and the pages its own run dirtied go to the
/// primary in CHECKPOINT_DIRTY_PFN_LIST, which the primary resends in the next checkpoint. When the primary is gone
/// (the main stream ends or breaks, or the back channel breaks) the secondary fails over: it keeps the state of the
/// last complete checkpoint plus its own run, never a partial checkpoint.
/// </summary>
public sealed class ColoSecondary : IDisposable
{
    private readonly XenStreamWriter _writer;
    private readonly Func<GuestDomain, Workload?>? _workloadFactory;
    private readonly List<ColoSecondaryCheckpoint> _checkpoints = [];
    private Workload? _workload;
    private long _ownWrites;

    /// <summary>
    /// Writes the secondary's records into <paramref name="backChannel"/> (not disposed); <paramref name="workload"/>
    /// makes the secondary guest's workload once its domain exists (null: an idle secondary).
    /// </summary>
    public ColoSecondary(Stream backChannel, Func<GuestDomain, Workload?>? workload = null)
    {
        ArgumentNullException.ThrowIfNull(backChannel);
        _writer = new XenStreamWriter(backChannel, leaveOpen: true, bufferSize: 1 << 12);
        _workloadFactory = workload;
    }

    /// <summary>Workload ticks the secondary runs after each resume (while it waits for CHECKPOINT_NEW).</summary>
    public int TicksBetweenCheckpoints { get; init; } = 1;

    /// <summary>Fault injection: the secondary dies (throws <see cref="ColoSecondaryDiedException"/>) after applying this many checkpoints.</summary>
    public int? DieAfterCheckpoints { get; init; }

    /// <summary>Each checkpoint applied.</summary>
    public IReadOnlyList<ColoSecondaryCheckpoint> Checkpoints => _checkpoints;

    /// <summary>Why the secondary failed over (the primary is gone), or null.</summary>
    public string? FailoverReason { get; internal set; }

    /// <summary>The digest of the state the secondary last left by its own run (resumed from the last checkpoint).</summary>
    public DomainDigest? OwnStateDigest { get; private set; }

    /// <summary>The secondary's digest when it took over (failover), or null.</summary>
    public DomainDigest? FailoverDigest { get; internal set; }

    /// <summary>Stream bytes the secondary wrote on the back channel.</summary>
    public long BackChannelBytes => _writer.Position;

    // handle_checkpoint (COLO), after stream_complete: the checkpoint is the guest's state now.
    internal void Applied(GuestDomain domain)
    {
        DomainDigest digest = domain.ComputeDigest();
        _checkpoints.Add(new ColoSecondaryCheckpoint(_checkpoints.Count + 1, digest, 0, -1));
        OwnStateDigest = digest; // until its own run changes it
        if (DieAfterCheckpoints is { } n && _checkpoints.Count >= n)
        {
            throw new ColoSecondaryDiedException($"the secondary died after applying {n} checkpoint(s) (injected)");
        }
    }

    // The postcopy callback (libxl colo_resume_vm): SVM_READY, resume the guest, SVM_RESUMED; then the guest runs.
    internal void Resume(GuestDomain domain)
    {
        SendState(CheckpointControlId.SvmReady);
        // Log-dirty from here: only the guest's own writes count (the restore's foreign writes are not logged).
        if (domain.DirtyLog.IsEnabled)
        {
            domain.DirtyLog.Clean();
        }
        else
        {
            domain.DirtyLog.Enable();
        }

        SendState(CheckpointControlId.SvmResumed);
        _workload ??= _workloadFactory?.Invoke(domain);
        _ownWrites = _workload?.Step(TicksBetweenCheckpoints).Writes ?? 0;
        OwnStateDigest = domain.ComputeDigest();
    }

    // wait_checkpoint read CHECKPOINT_NEW; the suspend callback: SVM_SUSPENDED; then send_checkpoint_dirty_pfn_list.
    internal void Suspend(GuestDomain domain)
    {
        SendState(CheckpointControlId.SvmSuspended);
        PfnBitmap dirty = domain.DirtyLog.Clean(); // XEN_DOMCTL_SHADOW_OP_CLEAN
        var body = new byte[checked((int)dirty.Count * 8)];
        int i = 0;
        foreach (ulong pfn in dirty.Enumerate())
        {
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(i * 8), pfn);
            i++;
        }

        Write(() => _writer.WriteRecord(LibxcRecordType.CheckpointDirtyPfnList, body));
        if (_checkpoints.Count > 0)
        {
            _checkpoints[^1] = _checkpoints[^1] with { OwnWrites = _ownWrites, DirtyPfnsSent = dirty.Count };
        }
    }

    private void SendState(CheckpointControlId id)
    {
        Span<byte> body = stackalloc byte[LibxlWire.CheckpointStateSize];
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)id);
        byte[] copy = body.ToArray();
        Write(() => _writer.WriteRecord(LibxlRecordType.CheckpointState, copy));
    }

    // A write the primary cannot take any more is a broken channel: failover, not an error.
    private void Write(Action write)
    {
        try
        {
            write();
            _writer.Flush();
        }
        catch (IOException e) when (e is not ColoChannelException)
        {
            throw new ColoChannelException($"the back channel broke: {e.Message}", e);
        }
        catch (ObjectDisposedException e)
        {
            throw new ColoChannelException("the back channel is closed", e);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            _writer.Dispose();
        }
        catch (IOException)
        {
            // the primary is gone
        }
        catch (ObjectDisposedException)
        {
            // closed already
        }
    }
}

/// <summary>The COLO secondary died (fault injection): its restore stops and its channels close.</summary>
public sealed class ColoSecondaryDiedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ColoSecondaryDiedException() : base("the secondary died") { }

    /// <summary>Creates the exception with a message.</summary>
    public ColoSecondaryDiedException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ColoSecondaryDiedException(string message, Exception innerException) : base(message, innerException) { }
}
