using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using StreamBench.Domain;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using WirePageType = StreamBench.Formats.Wire.PageType;

namespace StreamBench.Engine.Save;

/// <summary>
/// The common save engine (xg_sr_save.c, plus libxl_stream_write.c's and xl's wrapping): headers, static data,
/// STATIC_DATA_END, the memory passes (non-live, live pre-copy under <see cref="PrecopyPolicy"/>, the suspended final
/// pass, VERIFY), CHECKPOINT for Remus streams, END. Everything that differs between PV and HVM sits in the guest
/// type's <see cref="SaveOps"/>. Pages go out in PAGE_DATA batches of at most 1024 pfns, straight from the domain's
/// page store into the stream writer (page tables through one scratch page each).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Instances live inside Save(); the writer is disposed at the end of Run().")]
public sealed class SaveEngine
{
    private readonly GuestDomain _domain;
    private readonly SaveOptions _options;
    private readonly XenStreamWriter _writer;
    private readonly SaveOps _ops;
    private readonly SaveResult _result;
    private readonly ulong[] _batch = new ulong[LibxcWire.MaxBatchSize];
    private readonly ulong[] _words = new ulong[LibxcWire.MaxBatchSize];
    private readonly bool[] _normalisedSlot = new bool[LibxcWire.MaxBatchSize];
    private readonly byte[] _header = new byte[LibxcBodySizes.PageDataHeader + (LibxcWire.MaxBatchSize * LibxcBodySizes.PfnWord)];
    private readonly PfnBitmap _deferred = new();
    private byte[]? _normalised;
    private int _batchCount;
    private bool _paused;
    private bool _logDirtyEnabled;
    private PassAccumulator _pass;
    private uint _pageRecordType = (uint)LibxcRecordType.PageData;
    private readonly SeverableStream? _coloOutput;
    private int _checkpoint;
    private long _lastPrimaryDirty;
    private long _lastSecondaryDirty;

    private SaveEngine(GuestDomain domain, Stream output, SaveOptions options)
    {
        _domain = domain;
        _options = options;
        if (options.Colo is not null)
        {
            _coloOutput = new SeverableStream(output);
            output = _coloOutput;
        }

        _writer = new XenStreamWriter(output, leaveOpen: true, bufferSize: options.WriterBufferSize);
        _result = new SaveResult(options.Config ?? DomainConfig.FromDomain(domain), options);
        _ops = domain switch
        {
            PvDomain pv => new PvSaveOps(pv, this),
            HvmDomain hvm => new HvmSaveOps(hvm, this),
            _ => throw new ArgumentException($"unknown domain class {domain.GetType().Name}", nameof(domain)),
        };
    }

    internal uint StreamVersion => _options.StreamVersion;

    /// <summary>
    /// Saves <paramref name="domain"/> (which must be Ready) into <paramref name="output"/>, which is flushed but not
    /// closed. A live save runs <see cref="SaveOptions.Workload"/> between passes, so the domain keeps changing
    /// until it is suspended; afterwards it holds the state the stream carries (its digest is what a restore
    /// must reproduce).
    /// </summary>
    public static SaveResult Save(GuestDomain domain, Stream output, SaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(output);
        options ??= new SaveOptions();
        options.Validate();
        if (domain.Lifecycle != DomainLifecycle.Ready)
        {
            throw new ArgumentException($"only a Ready domain can be saved (this one is {domain.Lifecycle})", nameof(domain));
        }

        if (options.Postcopy is not null && domain.Type.IsPv())
        {
            throw new ArgumentException("post-copy here carries HVM and PVH guests", nameof(options));
        }

        if (options.Colo is not null && domain.Type != GuestType.Hvm)
        {
            throw new ArgumentException($"COLO only supports HVM guests (libxl_colo_save.c), not {domain.Type.ToName()}", nameof(options));
        }

        if (options.Workload is { } workload && !ReferenceEquals(workload.Domain, domain))
        {
            throw new ArgumentException("the workload is bound to another domain", nameof(options));
        }

        return new SaveEngine(domain, output, options).Run();
    }

    /// <summary>Saves into a file (created or truncated).</summary>
    public static SaveResult Save(GuestDomain domain, string path, SaveOptions? options = null)
    {
        using var file = OutputFile.Open(path);
        return Save(domain, file, options);
    }

    private SaveResult Run()
    {
        _result.StartTimestamp = Stopwatch.GetTimestamp();
        try
        {
            _ops.Setup();
            WriteToolstackHeader();
            _writer.WriteImageHeader(_options.StreamVersion);
            _writer.WriteDomainHeader(_ops.StreamType, _options.XenVersion.Major, _options.XenVersion.Minor);
            _ops.StaticData();
            if (_options.StreamVersion >= 3)
            {
                WriteRecord(LibxcRecordType.StaticDataEnd, default);
            }

            _ops.StartOfStream();
            bool checkpointed = _options.Checkpoints > 0;
            if (_options.Postcopy is { } postcopy)
            {
                _ops.StartOfCheckpoint();
                EnableLogDirty();
                SendMemoryLive(); // the live pre-copy passes; no suspended pass: what is still dirty goes after the transition
                SendPostcopy(postcopy);
                WriteRecord(LibxcRecordType.End, default);
                if (Toolstack)
                {
                    WriteLibxlRecord(LibxlRecordType.End, default);
                }

                _writer.Flush();
                postcopy.WaitComplete();
            }
            else
            {
                ColoPrimary? colo = _options.Colo;
                try
                {
                    while (true)
                    {
                        _ops.StartOfCheckpoint();
                        if (_checkpoint > 0)
                        {
                            SuspendAndSendDirty(); // later checkpoints: synchronous dirty batches (send_domain_memory_checkpointed)
                        }
                        else if (_options.Live)
                        {
                            SendDomainMemoryLive();
                        }
                        else
                        {
                            SendDomainMemoryNonLive(checkpointed);
                        }

                        _ops.EndOfCheckpoint();
                        if (!checkpointed)
                        {
                            break;
                        }

                        WriteRecord(LibxcRecordType.Checkpoint, default);
                        WriteCheckpointTail(); // COLO: the checkpoint callback writes the libxl records
                        _checkpoint++;
                        _result.Checkpoints = _checkpoint;
                        if (_options.RecordCheckpointDigests)
                        {
                            _result.CheckpointDigestList.Add(DomainDigest.Compute(_domain));
                        }

                        if (colo is not null)
                        {
                            colo.Add(new ColoPrimaryCheckpoint(_checkpoint, _lastPrimaryDirty, _lastSecondaryDirty, _result.PassList[^1].Pfns,
                                _options.RecordCheckpointDigests ? _result.CheckpointDigestList[^1] : DomainDigest.Compute(_domain)));
                            _writer.Flush(); // the secondary applies the checkpoint now
                            ColoResume(colo); // postcopy callback: SVM_READY, resume, SVM_RESUMED
                        }

                        if (_checkpoint == _options.Checkpoints)
                        {
                            break;
                        }

                        if (colo is not null)
                        {
                            ColoWaitCheckpoint(colo); // the guest runs, then CHECKPOINT_NEW
                        }
                        else
                        {
                            Resume();
                        }
                    }

                    if (checkpointed && _options.CheckpointEnding != CheckpointEnding.End)
                    {
                        if (_options.CheckpointEnding == CheckpointEnding.PartialCheckpoint)
                        {
                            if (colo is not null)
                            {
                                ColoWaitCheckpoint(colo);
                            }
                            else
                            {
                                Resume();
                            }

                            SuspendAndSendDirty();
                            ((X86SaveOps)_ops).WriteTscInfo(); // the checkpoint breaks off after its pages and TSC_INFO
                        }
                    }
                    else
                    {
                        WriteRecord(LibxcRecordType.End, default);
                        WriteToolstackTail(checkpointed);
                    }
                }
                catch (IOException e) when (colo is not null && _checkpoint > 0)
                {
                    // The secondary is gone (its channel closed or broke): the primary goes on alone (libxl's COLO
                    // teardown resumes it). Nothing more is written.
                    colo.SecondaryLost = $"after {_checkpoint} complete checkpoint(s): {e.Message}";
                    _coloOutput!.Sever();
                    ResumeAlone();
                }
            }

            _writer.Flush();
            _result.Bytes = _writer.Position;
            _result.EndTimestamp = Stopwatch.GetTimestamp();
            _result.Elapsed = Stopwatch.GetElapsedTime(_result.StartTimestamp, _result.EndTimestamp);
            return _result;
        }
        finally
        {
            _ops.Cleanup();
            if (_logDirtyEnabled)
            {
                _domain.DirtyLog.Disable(); // XEN_DOMCTL_SHADOW_OP_OFF
            }

            _writer.Dispose();
        }
    }

    // ------------------------------------------------------------------ memory (send_domain_memory_*)

    // send_domain_memory_nonlive: suspend, then every pfn. A checkpointed stream keeps log-dirty on for the next round.
    private void SendDomainMemoryNonLive(bool checkpointed)
    {
        if (checkpointed)
        {
            EnableLogDirty();
        }

        Suspend();
        SendAllPages(PassKind.NonLive);
    }

    // send_domain_memory_live: enable log-dirty, pre-copy under the policy, suspend and send the rest, then VERIFY.
    private void SendDomainMemoryLive()
    {
        EnableLogDirty();
        SendMemoryLive();
        SuspendAndSendDirty();
        if (_options.VerifyMode)
        {
            WriteRecord(LibxcRecordType.Verify, default);
            SendAllPages(PassKind.Verify);
        }
    }

    // send_memory_live: the loop of xg_sr_save.c, decision for decision. The first pass sends every pfn; each later
    // one the pages the last CLEAN returned. When the policy stops on a dirty count, that set still goes out live.
    private void SendMemoryLive()
    {
        PrecopyPolicy policy = _options.Policy;
        var stats = new PrecopyStats(0, 0, (long)_ops.P2mSize);
        long shadowDirty = (long)_ops.P2mSize;
        PfnBitmap? dirty = null; // null: every pfn
        int x = 0;
        PrecopyDecision decision;
        while (true)
        {
            decision = policy.Decide(stats);
            x++;
            if (shadowDirty > 0 && decision != PrecopyDecision.Abort)
            {
                PassStats pass = dirty is null ? SendAllPages(PassKind.Live) : SendDirtyPages(dirty, PassKind.Live);
                RunWorkloadAfter(pass);
            }

            if (decision != PrecopyDecision.ContinuePrecopy)
            {
                break;
            }

            stats = new PrecopyStats(x, stats.TotalWritten + stats.DirtyCount, -1);
            decision = policy.Decide(stats);
            if (decision != PrecopyDecision.ContinuePrecopy)
            {
                break;
            }

            dirty = _domain.DirtyLog.Clean(); // XEN_DOMCTL_SHADOW_OP_CLEAN
            shadowDirty = dirty.Count;
            stats = stats with { DirtyCount = dirty.Count };
        }

        _result.FinalPrecopyStats = stats;
        if (decision == PrecopyDecision.Abort)
        {
            throw new SaveException($"the pre-copy policy aborted the migration after {stats.Iteration} iteration(s)");
        }
    }

    // suspend_and_send_dirty: the final pass of a live save, and every checkpoint after the first.
    private void SuspendAndSendDirty()
    {
        Suspend();
        if (_options.Colo is { SvmRunning: true } coloSuspend)
        {
            coloSuspend.ReadState(CheckpointControlId.SvmSuspended); // colo_postsuspend_cb: read SVM_SUSPENDED
        }

        PfnBitmap dirty = _logDirtyEnabled ? _domain.DirtyLog.Clean() : new PfnBitmap();
        _lastPrimaryDirty = dirty.Count;
        _lastSecondaryDirty = 0;
        dirty.UnionWith(_deferred);
        if (_options.Colo is { } colo && _checkpoint > 0)
        {
            // colo_merge_secondary_dirty_bitmap (checkpoints after the first, live, one).
            PfnBitmap secondary = colo.ReadDirtyPfnList(_ops.P2mSize);
            _lastSecondaryDirty = secondary.Count;
            dirty.UnionWith(secondary);
        }

        SendDirtyPages(dirty, PassKind.Suspended);
        _deferred.Clear();
    }

    private void EnableLogDirty()
    {
        if (!_logDirtyEnabled)
        {
            _domain.DirtyLog.Enable();
            _logDirtyEnabled = true;
        }
    }

    private void Suspend()
    {
        _ops.Suspend();
        _paused = true;
        _result.SuspendTimestamp = Stopwatch.GetTimestamp();
    }

    // Between Remus checkpoints the guest runs again for a while.
    private void Resume()
    {
        _paused = false;
        if (_options.Workload is { } workload)
        {
            _result.WorkloadWrites += workload.Step(1).Writes;
        }
    }

    // COLO primary, resume (libxl__colo_save_domain_resume_callback): read SVM_READY, resume, read SVM_RESUMED.
    private void ColoResume(ColoPrimary colo)
    {
        colo.ReadState(CheckpointControlId.SvmReady);
        colo.SvmRunning = true;
        _paused = false;
        colo.ReadState(CheckpointControlId.SvmResumed);
    }

    // COLO primary, wait_checkpoint: the guest runs until a new checkpoint is due, then CHECKPOINT_NEW goes to the
    // secondary on the main stream (libxl CHECKPOINT_STATE right after CHECKPOINT_END).
    private void ColoWaitCheckpoint(ColoPrimary colo)
    {
        if (_options.Workload is { } workload)
        {
            _result.WorkloadWrites += workload.Step(colo.TicksBetweenCheckpoints).Writes;
        }

        Span<byte> body = stackalloc byte[LibxlWire.CheckpointStateSize];
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)CheckpointControlId.CheckpointNew);
        WriteLibxlRecord(LibxlRecordType.CheckpointState, body);
        _writer.Flush();
    }

    // Post-copy (the RFC): suspend, POSTCOPY_BEGIN and the CPU context, the still-dirty pfns, the transition (with the
    // libxl device-model records), then every announced page once: the faulted ones first, a background push of the rest.
    private void SendPostcopy(PostcopySource postcopy)
    {
        Suspend();
        long suspendedAt = _writer.Position;
        PfnBitmap dirty = _domain.DirtyLog.Clean();
        dirty.UnionWith(_deferred);
        var announced = new PfnBitmap();
        foreach (ulong pfn in dirty.Enumerate())
        {
            if (pfn < _ops.P2mSize && PageWord.HasData(_ops.PfnType(pfn, out _)))
            {
                announced.Add(pfn);
            }
        }

        WriteRecord((LibxcRecordType)PostcopyRecordType.PostcopyBegin, default);
        _ops.EndOfCheckpoint(); // TSC_INFO, HVM_CONTEXT, HVM_PARAMS
        WriteRecord((LibxcRecordType)PostcopyRecordType.PostcopyPfnsBegin, default);
        var words = new List<ulong>(LibxcWire.MaxBatchSize);
        foreach (ulong pfn in announced.Enumerate())
        {
            words.Add(PageWord.Make(pfn, _ops.PfnType(pfn, out _)));
            if (words.Count == LibxcWire.MaxBatchSize)
            {
                WritePfnList(words);
            }
        }

        if (words.Count > 0)
        {
            WritePfnList(words);
        }

        WriteRecord((LibxcRecordType)PostcopyRecordType.PostcopyTransition, default);
        if (Toolstack)
        {
            if (HasDeviceModel)
            {
                WriteLibxlRecord(LibxlRecordType.EmulatorContext, EmulatorBody());
            }

            WriteLibxlRecord((LibxlRecordType)LibxlPostcopyRecordType.PostcopyTransitionEnd, default);
        }

        _writer.Flush();
        postcopy.BytesWhileSuspended = _writer.Position - suspendedAt;
        postcopy.Transitioned = true;
        postcopy.Start(_ops.P2mSize, announced);

        // The post-copy phase: faults first, else the next background batch; each page once.
        _pageRecordType = (uint)PostcopyRecordType.PostcopyPageData;
        BeginPass(PassKind.Postcopy);
        var outstanding = announced.Clone();
        using IEnumerator<ulong> background = announced.Enumerate().GetEnumerator();
        while (!outstanding.IsEmpty)
        {
            while (_batchCount < LibxcWire.MaxBatchSize && postcopy.TryTakeFault(out ulong faulted))
            {
                if (outstanding.Remove(faulted))
                {
                    AddToBatch(faulted);
                    postcopy.MarkSent(faulted);
                    postcopy.PagesOnFault++;
                }
            }

            bool pushed = false;
            while (_batchCount < postcopy.BackgroundBatch && background.MoveNext())
            {
                ulong pfn = background.Current;
                if (outstanding.Remove(pfn))
                {
                    AddToBatch(pfn);
                    postcopy.MarkSent(pfn);
                    postcopy.PagesBackground++;
                    pushed = true;
                }
            }

            FlushBatch();
            _writer.Flush();
            if (pushed && !outstanding.IsEmpty)
            {
                postcopy.PauseForFaults(); // the throttle: the next background batch waits briefly for a fault
            }
        }

        EndPass();
        _pageRecordType = (uint)LibxcRecordType.PageData;
    }

    private void WritePfnList(List<ulong> words)
    {
        var body = new byte[LibxcBodySizes.PageDataHeader + (words.Count * LibxcBodySizes.PfnWord)];
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)words.Count);
        for (int i = 0; i < words.Count; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(LibxcBodySizes.PageDataHeader + (i * LibxcBodySizes.PfnWord)), words[i]);
        }

        WriteRecord((LibxcRecordType)PostcopyRecordType.PostcopyPfns, body);
        words.Clear();
    }

    // The secondary is lost: the primary resumes and keeps running alone.
    private void ResumeAlone()
    {
        _paused = false;
        if (_options.Workload is { } workload)
        {
            _result.WorkloadWrites += workload.Step(_options.Colo!.TicksBetweenCheckpoints).Writes;
        }
    }

    private void RunWorkloadAfter(PassStats pass)
    {
        if (_options.Workload is not { } workload)
        {
            return;
        }

        int ticks = (int)Math.Max(1, pass.DataPages / _options.WorkloadTickPages);
        long writes = workload.Step(ticks).Writes;
        _result.WorkloadWrites += writes;
        _result.PassList[^1] = pass with { WorkloadWrites = writes };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private PassStats SendAllPages(PassKind kind)
    {
        BeginPass(kind);
        for (ulong pfn = 0; pfn < _ops.P2mSize; pfn++)
        {
            AddToBatch(pfn);
        }

        return EndPass();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private PassStats SendDirtyPages(PfnBitmap dirty, PassKind kind)
    {
        BeginPass(kind);
        foreach (ulong pfn in dirty.Enumerate())
        {
            if (pfn >= _ops.P2mSize)
            {
                break; // the bitmap is bounded by p2m_size
            }

            AddToBatch(pfn);
        }

        return EndPass();
    }

    private void BeginPass(PassKind kind) =>
        _pass = new PassAccumulator(kind, Stopwatch.GetTimestamp(), _writer.Position);

    private PassStats EndPass()
    {
        FlushBatch();
        var stats = new PassStats(_result.PassList.Count + 1, _pass.Kind, _pass.Pfns, _pass.DataPages, _pass.Records,
            _writer.Position - _pass.StartBytes, Stopwatch.GetElapsedTime(_pass.StartTimestamp), 0);
        _result.PassList.Add(stats);
        return stats;
    }

    private void AddToBatch(ulong pfn)
    {
        if (_batchCount == _batch.Length)
        {
            FlushBatch();
        }

        _batch[_batchCount++] = pfn;
    }

    // write_batch: types for the batch, normalised page tables (a failure while live defers the page as XTAB),
    // then one PAGE_DATA record whose pages come straight from the domain.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FlushBatch()
    {
        int count = _batchCount;
        if (count == 0)
        {
            return;
        }

        int dataPages = 0;
        for (int i = 0; i < count; i++)
        {
            ulong pfn = _batch[i];
            WirePageType type = _ops.PfnType(pfn, out bool deferred);
            if (deferred)
            {
                _deferred.Add(pfn);
            }

            _normalisedSlot[i] = false;
            if (PageWord.HasData(type) && _ops.Normalises(type))
            {
                _normalised ??= new byte[LibxcWire.MaxBatchSize * LibxcWire.PageSize];
                Span<byte> slot = _normalised.AsSpan(i * LibxcWire.PageSize, LibxcWire.PageSize);
                if (_ops.NormalisePage(pfn, type, slot, _paused, out string? error))
                {
                    _normalisedSlot[i] = true;
                }
                else if (_paused)
                {
                    throw new SaveException($"cannot normalise page table {error}");
                }
                else
                {
                    _deferred.Add(pfn); // EAGAIN: resent after pausing
                    type = WirePageType.XTab;
                }
            }

            if (PageWord.HasData(type))
            {
                dataPages++;
            }

            _words[i] = PageWord.Make(pfn, type);
        }

        int headerLength = LibxcBodySizes.PageDataHeader + (count * LibxcBodySizes.PfnWord);
        BinaryPrimitives.WriteUInt32LittleEndian(_header, (uint)count);
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(4), 0);
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_header.AsSpan(LibxcBodySizes.PageDataHeader + (i * LibxcBodySizes.PfnWord)), _words[i]);
        }

        _writer.BeginRecord(_pageRecordType, checked((uint)(headerLength + ((long)dataPages * LibxcWire.PageSize))));
        _writer.WriteBody(_header.AsSpan(0, headerLength));
        for (int i = 0; i < count; i++)
        {
            if (!PageWord.HasData(PageWord.TypeOf(_words[i])))
            {
                continue;
            }

            _writer.WriteBody(_normalisedSlot[i]
                ? _normalised.AsSpan(i * LibxcWire.PageSize, LibxcWire.PageSize)
                : _domain.ReadPage(_batch[i]));
        }

        _writer.EndRecord();
        _result.Records++;
        _pass.Records++;
        _pass.Pfns += count;
        _pass.DataPages += dataPages;
        _batchCount = 0;
    }

    // ------------------------------------------------------------------ records

    internal void WriteRecord(LibxcRecordType type, ReadOnlySpan<byte> body)
    {
        _writer.WriteRecord(type, body);
        _result.Records++;
    }

    private void WriteLibxlRecord(LibxlRecordType type, ReadOnlySpan<byte> body)
    {
        _writer.WriteRecord(type, body);
        _result.Records++;
    }

    private bool Toolstack => _options.Format != SaveFormat.Libxc;

    private bool HasDeviceModel => _ops is HvmSaveOps { HasDeviceModel: true };

    // xl: the save-file header with the JSON config; libxl: its header and LIBXC_CONTEXT (libxl_stream_write.c).
    private void WriteToolstackHeader()
    {
        if (_options.Format == SaveFormat.Xl)
        {
            _writer.WriteXlHeader((_result.Config.XlConfigIsJson ? XlMandatoryFlags.Json : 0) | XlMandatoryFlags.StreamV2, _result.Config.XlHeaderConfig());
        }

        if (Toolstack)
        {
            _writer.WriteLibxlHeader();
            WriteLibxlRecord(LibxlRecordType.LibxcContext, default);
        }
    }

    // After the libxc END: the device model's state (HVM), then libxl's END.
    private void WriteToolstackTail(bool checkpointed)
    {
        if (!Toolstack)
        {
            return;
        }

        if (HasDeviceModel && !checkpointed)
        {
            WriteLibxlRecord(LibxlRecordType.EmulatorContext, EmulatorBody());
        }

        WriteLibxlRecord(LibxlRecordType.End, default);
    }

    // EMULATOR_CONTEXT: the device model's state the caller handed over, else the engine's own minimal QEMU image.
    private byte[] EmulatorBody() => _options.EmulatorContext is { } image
        ? EmulatorState.CreateRecordBody(image)
        : EmulatorState.CreateRecordBody(_domain.MaxVcpus);

    // After a libxc CHECKPOINT in a libxl stream: the device model's state, then CHECKPOINT_END.
    private void WriteCheckpointTail()
    {
        if (!Toolstack)
        {
            return;
        }

        if (HasDeviceModel)
        {
            WriteLibxlRecord(LibxlRecordType.EmulatorContext, EmulatorBody());
        }

        WriteLibxlRecord(LibxlRecordType.CheckpointEnd, default);
    }

    private struct PassAccumulator(PassKind kind, long startTimestamp, long startBytes)
    {
        public readonly PassKind Kind = kind;
        public readonly long StartTimestamp = startTimestamp;
        public readonly long StartBytes = startBytes;
        public long Pfns;
        public long DataPages;
        public long Records;
    }
}

/// <summary>A save could not go on: the domain's state cannot be put into a stream (or the policy aborted).</summary>
public sealed class SaveException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public SaveException() : base("save failed") { }

    /// <summary>Creates the exception with a message.</summary>
    public SaveException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public SaveException(string message, Exception innerException) : base(message, innerException) { }
}
