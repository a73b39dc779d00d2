using System.Buffers.Binary;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using StreamBench.Domain;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pv;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;

namespace StreamBench.Engine.Restore;

/// <summary>
/// The common restore engine (xg_sr_restore.c, with the xl and libxl layers around it): reads a stream of any layer
/// from any <see cref="ByteSource"/> (file, pipe, socket) with <see cref="XenStreamReader"/>, applies it to a fresh
/// simulated domain through the guest type's <see cref="RestoreOps"/>, and completes the domain at END. Every check of
/// the verifier's restore profile is an error here, as are the C restore's own (the domain type, vcpu_id below the
/// domain's vCPUs, pfn ranges, page-table localisation, Xen's refusal of the HVM context). A failed restore throws
/// <see cref="StreamFormatException"/> (offset, layer, record, field; the problem ends with the check id in brackets)
/// and discards the domain. Page data streams straight from the input into guest pages; only small records and a
/// Remus checkpoint's records are buffered.
/// </summary>
public sealed partial class RestoreEngine
{
    private readonly RestoreOptions _options;
    private readonly XenStreamReader _reader;
    private readonly RestoreResult _result = new();
    private readonly ulong[] _words = new ulong[LibxcWire.MaxBatchSize];
    private readonly byte[] _scratch = new byte[LibxcWire.PageSize];
    private ulong[] _streamPfns = [];
    private StreamingDigest? _streamingDigest;
    private GuestDomain? _domain;
    private RestoreOps? _ops;
    private DomainConfig? _xlConfig;
    private IncomingRecord? _last;
    private bool _libxcEmbedded;
    private bool _libxcSeen;
    private bool _libxcEnded;
    private bool _complete;
    private bool _done;
    private bool _seenStaticDataEnd;
    private bool _verify;
    private bool _awaitCheckpointEnd;
    private List<IncomingRecord>? _buffer;
    private long _bufferBytes;
    private byte[]? _pendingEmulatorContext;
    private bool _coloAwaitNew;
    private LibxlRecordType _previousLibxlType = (LibxlRecordType)uint.MaxValue;
    private bool _coloResumed;

    private RestoreEngine(XenStreamReader reader, RestoreOptions options)
    {
        _reader = reader;
        _options = options;
    }

    internal RestoreOptions Options => _options;

    internal RestoreResult Result => _result;

    internal uint StreamVersion { get; private set; }

    internal bool CheckReserved => _options.CheckReservedFields;

    /// <summary>Restores the stream in the file at <paramref name="path"/> ("-" for standard input).</summary>
    public static RestoreResult Restore(string path, RestoreOptions? options = null)
    {
        using ByteSource source = ByteSource.Open(path);
        return Restore(source, options);
    }

    /// <summary>Restores from a stream (a pipe or socket): read through one buffer, never whole.</summary>
    public static RestoreResult Restore(Stream input, RestoreOptions? options = null)
    {
        using ByteSource source = ByteSource.FromStream(input);
        return Restore(source, options);
    }

    /// <summary>Restores from any byte source (not disposed). Stops reading at the outermost END.</summary>
    public static RestoreResult Restore(ByteSource source, RestoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new RestoreOptions();
        if (options.Postcopy is not null && options.Reader.Dialect != StreamDialect.PostcopyRfc)
        {
            options = options with { Reader = options.Reader with { Dialect = StreamDialect.PostcopyRfc } };
        }

        if (options.Colo is not null)
        {
            options = options with { Reader = options.Reader with { Colo = true }, Checkpoints = CheckpointMode.Checkpointed };
        }

        if (options.Target is { } target && (target.Lifecycle != DomainLifecycle.Building || target.PopulatedCount != 0))
        {
            throw new ArgumentException("the restore target must be an empty domain in the Building state", nameof(options));
        }

        using var reader = new XenStreamReader(source, options.Reader);
        var engine = new RestoreEngine(reader, options);
        try
        {
            return engine.Run();
        }
        catch
        {
            engine._domain?.Discard();
            options.Target?.Discard();
            throw;
        }
    }

    private RestoreResult Run()
    {
        _result.StartTimestamp = Stopwatch.GetTimestamp();
        if (_options.Reader.Format == OuterFormat.Xl && XenStreamReader.DetectFormat(_reader.Source) != OuterFormat.Xl)
        {
            throw new StreamFormatException("the input does not start with the xl magic \"Xen saved domain, xl format\\n \\0 \\r\" [xl.magic]",
                _reader.Source.Position, ErrorLayer.Xl, -1, "XL_HEADER", "magic", check: XlChecks.Magic);
        }

        StreamFormatException? truncation = null;
        bool ended = false;
        while (!_done && !ended)
        {
            try
            {
                if (!_reader.Read())
                {
                    ended = true;
                    break;
                }

                Dispatch();
            }
            catch (StreamFormatException e) when (e.IsTruncation)
            {
                truncation = e; // the input ended inside a header, record or padding
                ended = true;
            }
            catch (Save.ColoChannelException e) when (_options.Colo is not null && _coloResumed)
            {
                _options.Colo.FailoverReason = e.Message; // BROKEN_CHANNEL from a callback: failover
                ended = true;
            }
            catch (IOException e) when (_options.Colo is not null && _coloResumed)
            {
                _options.Colo.FailoverReason = $"the main stream broke: {e.Message}";
                ended = true;
            }
        }

        if (ended)
        {
            EndOfInput(truncation);
        }

        _result.Bytes = _reader.Source.Position;
        _result.Format = _reader.DetectedFormat;
        _result.Elapsed = Stopwatch.GetElapsedTime(_result.StartTimestamp);
        return _result;
    }

    private void Dispatch()
    {
        switch (_reader.Kind)
        {
            case StreamItemKind.XlHeader:
                HandleXlHeader();
                break;
            case StreamItemKind.LibxlHeader:
                HandleLibxlHeader();
                break;
            case StreamItemKind.LibxcImageHeader:
                HandleImageHeader();
                break;
            case StreamItemKind.LibxcDomainHeader:
                HandleDomainHeader();
                break;
            case StreamItemKind.Record when _reader.Layer == StreamLayer.Libxl:
                _result.Records++;
                HandleLibxlRecord(IncomingRecord.Live(_reader));
                break;
            case StreamItemKind.Record when _reader.Layer == StreamLayer.Libxc:
                _result.Records++;
                HandleLibxcRecord(IncomingRecord.Live(_reader));
                break;
            case StreamItemKind.LegacyImage:
                throw new StreamFormatException(
                    "not a v2/v3 stream (no xl magic, no LibxlFmt ident, no XENF image header): a legacy image or garbage; convert legacy images first (streambench convert-legacy) [stream.legacy]",
                    _reader.Offset, ErrorLayer.Legacy, -1, null, null, check: RestoreChecks.Legacy);
            default:
                throw new StreamFormatException($"{_reader.RecordTypeName} is not part of a save stream", _reader.Offset,
                    ErrorLayers.Of(_reader.Layer), _reader.Kind == StreamItemKind.Record ? _reader.RecordIndex : -1, _reader.RecordTypeName, null);
        }
    }

    // ------------------------------------------------------------------ the end of the input

    // The stream may end past its first complete checkpoint (Remus failover); otherwise it must have reached END.
    // One rule with the verifier (CheckpointFailover): a libxc END without the final libxl END fails over too.
    private bool CanFailOver => CheckpointFailover.CanFailOver(_result.CheckpointsApplied);

    // The end of the record that completed the last checkpoint (CHECKPOINT_END, or a bare libxc CHECKPOINT).
    private long _lastCheckpointEnd;

    // Where the input ended: its length when known, else what was read and buffered.
    private long InputEnd => _reader.Source.Length ?? (_reader.Source.Position + _reader.Source.Available);

    private void EndOfInput(StreamFormatException? truncation)
    {
        if (_done)
        {
            return;
        }

        PostcopyEndOfInput(truncation);
        if (_options.Colo is { } colo && _coloResumed)
        {
            // remus_failover with COLO: stream_complete already ran at the last checkpoint and the guest has been
            // running since; what arrived of the next checkpoint is dropped.
            _result.FailedOver = true;
            DropBuffer();
            _pendingEmulatorContext = null;
            colo.FailoverReason ??= truncation is not null
                ? $"the main stream broke inside checkpoint {_result.CheckpointsApplied + 1}: {truncation.Problem}"
                : _coloAwaitNew
                    ? $"the main stream ended while waiting for CHECKPOINT_NEW after checkpoint {_result.CheckpointsApplied}"
                    : $"the main stream ended inside checkpoint {_result.CheckpointsApplied + 1}";
            colo.FailoverDigest = _domain!.ComputeDigest();
            _complete = true;
            _done = true;
            return;
        }

        if (CanFailOver)
        {
            // remus_failover: keep the last complete checkpoint, drop the partial one. After a libxc END the domain is
            // already complete (END dropped what was buffered): only the libxl END is missing.
            _result.FailedOver = true;
            DropBuffer();
            _pendingEmulatorContext = null;
            if (!_complete)
            {
                StreamComplete(_last);
            }
            _result.DiscardedBytes = CheckpointFailover.DiscardedBytes(_result.CheckpointsApplied, _lastCheckpointEnd, InputEnd);
            _done = true;
            return;
        }

        if (truncation is not null)
        {
            throw Checkpointed
                ? new StreamFormatException($"{truncation.Problem}: the stream broke before its first checkpoint was complete, so there is no consistent state (We don't have a consistent state) [{RestoreChecks.FailoverBeforeCheckpoint}]",
                    truncation.Offset, truncation.Layer, truncation.RecordIndex, truncation.RecordType, truncation.Field, truncated: true, inner: truncation,
                    check: RestoreChecks.FailoverBeforeCheckpoint)
                : new StreamFormatException($"{truncation.Problem} [{RestoreChecks.Truncated}]", truncation.Offset, truncation.Layer,
                    truncation.RecordIndex, truncation.RecordType, truncation.Field, truncated: true, inner: truncation,
                    check: RestoreChecks.Truncated);
        }

        var layer = ErrorLayers.Of(_reader.Layer == StreamLayer.None ? StreamLayer.Libxc : _reader.Layer);
        if (Checkpointed)
        {
            throw new StreamFormatException($"the stream ended before its first checkpoint was complete: there is no consistent state to fail over to [{RestoreChecks.FailoverBeforeCheckpoint}]",
                _reader.Source.Position, layer, -1, null, null, truncated: true, check: RestoreChecks.FailoverBeforeCheckpoint);
        }

        if (_domain is null && !_libxcSeen)
        {
            throw new StreamFormatException($"the stream ended without a libxc stream: there is no guest to restore [{RestoreChecks.NoLibxcStream}]",
                _reader.Source.Position, layer, -1, null, null, truncated: true, check: RestoreChecks.NoLibxcStream);
        }

        string what = _complete ? "libxl END" : "END";
        throw new StreamFormatException($"the stream ended without {what} (Stream truncated) [{RestoreChecks.MissingEnd}]",
            _reader.Source.Position, layer, -1, null, null, truncated: true, check: RestoreChecks.MissingEnd);
    }

    // A Remus stream: told so by the caller (libxl passes the stream type), or seen from a CHECKPOINT.
    private bool Checkpointed => _result.Checkpointed || _options.Checkpoints == CheckpointMode.Checkpointed;

    // ------------------------------------------------------------------ headers

    private void HandleXlHeader()
    {
        XlHeaderFields h = _reader.XlHeader!.Value;
        long at = _reader.Offset;
        if (h.BigEndian)
        {
            throw Header(ErrorLayer.Xl, "XL_HEADER", "byteorder", at + XlWire.ByteOrderOffset, "the xl header is big-endian (File has wrong byte order)", XlChecks.BigEndian);
        }

        if (h.ByteOrder != XlWire.ByteOrderMarker)
        {
            throw Header(ErrorLayer.Xl, "XL_HEADER", "byteorder", at + XlWire.ByteOrderOffset, $"byteorder is 0x{h.ByteOrder:x8}, expected 0x01020304 (File has wrong byte order)", XlChecks.ByteOrder);
        }

        if ((h.MandatoryFlags & ~XlMandatoryFlags.Known) != 0)
        {
            throw Header(ErrorLayer.Xl, "XL_HEADER", "mandatory_flags", at + XlWire.MandatoryFlagsOffset,
                $"mandatory_flags 0x{(uint)h.MandatoryFlags:x} has unknown bits 0x{(uint)(h.MandatoryFlags & ~XlMandatoryFlags.Known):x} (Savefile has mandatory flag(s) ... need newer xl)", XlChecks.MandatoryFlags);
        }

        try
        {
            _xlConfig = DomainConfig.ParseXlOptionalData(_reader.GetBody(), (h.MandatoryFlags & XlMandatoryFlags.Json) != 0);
        }
        catch (FormatException e)
        {
            throw Header(ErrorLayer.Xl, "XL_HEADER", "optional_data", at + XlWire.HeaderSize, e.Message, XlChecks.OptionalData);
        }

        if ((h.MandatoryFlags & XlMandatoryFlags.StreamV2) == 0)
        {
            throw Header(ErrorLayer.Xl, "XL_HEADER", "mandatory_flags", at + XlWire.MandatoryFlagsOffset,
                "STREAMv2 is clear: libxl would convert the rest as a legacy stream (convert-legacy-stream); convert it first", XlChecks.LegacyFlag);
        }
    }

    private void HandleLibxlHeader()
    {
        LibxlHeaderFields h = _reader.LibxlHeader!.Value;
        long at = _reader.Offset;
        if (h.Ident != LibxlWire.Ident)
        {
            throw Header(ErrorLayer.Libxl, "LIBXL_HEADER", "ident", at, $"ident is 0x{h.Ident:x16}, expected 0x{LibxlWire.Ident:x16} (\"LibxlFmt\")", LibxlChecks.Ident);
        }

        if (h.Version != LibxlWire.Version)
        {
            throw Header(ErrorLayer.Libxl, "LIBXL_HEADER", "version", at + LibxlHeaderLayout.Version, $"version is {h.Version}, expected {LibxlWire.Version}", LibxlChecks.Version);
        }

        if ((h.Options & LibxlOptions.BigEndian) != 0)
        {
            throw Header(ErrorLayer.Libxl, "LIBXL_HEADER", "options", at + LibxlHeaderLayout.Options, "the stream is big-endian, libxl can only restore little-endian streams", LibxlChecks.BigEndian);
        }

        if ((h.Options & ~LibxlOptions.Known) != 0 && CheckReserved)
        {
            throw Header(ErrorLayer.Libxl, "LIBXL_HEADER", "options", at + LibxlHeaderLayout.Options, $"reserved option bits 0x{(uint)(h.Options & ~LibxlOptions.Known):x} are set", LibxlChecks.Options);
        }
    }

    private void HandleImageHeader()
    {
        if (_libxcSeen)
        {
            throw Header(ErrorLayer.Libxc, "IMAGE_HEADER", null, _reader.Offset, $"a second libxc stream ", RestoreChecks.SecondLibxcStream);
        }

        _libxcSeen = true;
        _libxcEmbedded = _reader.LibxcEmbedded;
        LibxcImageHeaderFields h = _reader.ImageHeader!.Value;
        long at = _reader.Offset;
        if (h.Marker != LibxcWire.Marker)
        {
            throw Header(ErrorLayer.Libxc, "IMAGE_HEADER", "marker", at, $"Invalid marker: Got 0x{h.Marker:x16}", LibxcChecks.ImageMarker);
        }

        if (h.Id != LibxcWire.Id)
        {
            throw Header(ErrorLayer.Libxc, "IMAGE_HEADER", "id", at + LibxcImageHeaderLayout.Id, $"Invalid ID: Expected 0x{LibxcWire.Id:x8}, Got 0x{h.Id:x8}", LibxcChecks.ImageId);
        }

        if (h.Version is < LibxcWire.MinVersion or > LibxcWire.MaxVersion)
        {
            throw Header(ErrorLayer.Libxc, "IMAGE_HEADER", "version", at + LibxcImageHeaderLayout.Version, $"Invalid Version: Expected 2 <= ver <= 3, Got {h.Version}", LibxcChecks.ImageVersion);
        }

        if (h.BigEndian)
        {
            throw Header(ErrorLayer.Libxc, "IMAGE_HEADER", "options", at + LibxcImageHeaderLayout.Options, "Unable to handle big endian streams", LibxcChecks.ImageBigEndian);
        }

        if (CheckReserved)
        {
            if ((h.Options & ~(ushort)LibxcImageOptions.BigEndian) != 0)
            {
                throw Header(ErrorLayer.Libxc, "IMAGE_HEADER", "options", at + LibxcImageHeaderLayout.Options, $"reserved option bits 0x{h.Options & ~1:x} are set", LibxcChecks.ImageOptions);
            }

            if (h.Reserved1 != 0 || h.Reserved2 != 0)
            {
                throw Header(ErrorLayer.Libxc, "IMAGE_HEADER", "reserved", at + LibxcImageHeaderLayout.Reserved1, "reserved fields are not zero", LibxcChecks.ImageReserved);
            }
        }

        StreamVersion = h.Version;
        _result.StreamVersion = h.Version;
    }

    // read_headers' domain header, then setup(): the target domain, and the guest type's ops.
    private void HandleDomainHeader()
    {
        LibxcDomainHeaderFields h = _reader.DomainHeader!.Value;
        long at = _reader.Offset;
        if (h.Type is not (DomainType.X86Pv or DomainType.X86Hvm))
        {
            throw Header(ErrorLayer.Libxc, "DOMAIN_HEADER", "type", at, $"domain type is {(uint)h.Type}, expected 1 (x86 PV) or 2 (x86 HVM)", LibxcChecks.DomainHeaderType);
        }

        if (h.PageShift != LibxcWire.PageShift)
        {
            throw Header(ErrorLayer.Libxc, "DOMAIN_HEADER", "page_shift", at + LibxcDomainHeaderLayout.PageShift, $"Invalid page size {1L << Math.Min((int)h.PageShift, 62)} (page_shift {h.PageShift}) for x86 domains", LibxcChecks.DomainPageShift);
        }

        if (h.Reserved != 0 && CheckReserved)
        {
            throw Header(ErrorLayer.Libxc, "DOMAIN_HEADER", "reserved", at + LibxcDomainHeaderLayout.Reserved, $"reserved field is 0x{h.Reserved:x}, expected 0", LibxcChecks.DomainReserved);
        }

        _result.XenVersion = (h.XenMajor, h.XenMinor);
        bool pvStream = h.Type == DomainType.X86Pv;
        GuestDomain domain = _options.Target ?? CreateDomain(pvStream);
        _domain = domain;
        _result.Domain = domain;
        if (domain.Type.IsPv() != pvStream)
        {
            throw Header(ErrorLayer.Libxc, "DOMAIN_HEADER", "type", at,
                $"Unable to restore {(pvStream ? "x86 PV" : "x86 HVM")} domain into an {(domain.Type.IsPv() ? "x86_pv" : "x86 HVM")} domain", RestoreChecks.DomainTypeMismatch);
        }

        if (_options.StreamingDigest && _options.Colo is null && _options.Postcopy is null)
        {
            _streamingDigest = StreamingDigest.Start(domain);
            _result.StreamingDigest = _streamingDigest;
        }

        _ops = domain switch
        {
            PvDomain pv => new PvRestoreOps(this, pv),
            HvmDomain hvm => new HvmRestoreOps(this, hvm),
            _ => throw new ArgumentException($"unknown domain class {domain.GetType().Name}"),
        };
    }

    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "Where the restored domain's guest type, memory and vCPUs come from (the xl config, the command-line options, the stream's own records) and the refusals when they disagree: one branch per property and source.")]
    private GuestDomain CreateDomain(bool pvStream)
    {
        DomainConfig? config = _options.Config ?? _xlConfig;
        GuestType? type = _options.Guest ?? config?.Type;
        int vcpus = _options.Vcpus ?? config?.Vcpus ?? 1; // xl.cfg's default
        ulong? pages = _options.MemoryPages ?? config?.MemoryPages;
        if (pages is null)
        {
            throw new ArgumentException(
                "the stream carries no domain configuration (no xl header with a config) and none was given: name the guest's memory " +
                "(restore --memory SIZE [--vcpus N] [--guest TYPE]), as xl restore needs a config file for such a stream");
        }

        type ??= pvStream ? GuestType.Pv : GuestType.Hvm;
        if (vcpus is < 1 or > GuestDomain.MaxVcpuLimit || pages < DomainConfig.MinPages(type.Value))
        {
            throw new ArgumentException($"cannot make a domain with {vcpus} vCPUs and {pages} pages (1..{GuestDomain.MaxVcpuLimit} vCPUs, at least {DomainConfig.MinPages(type.Value)} pages for {type.Value.ToName()})");
        }

        if (type.Value.IsPv() && !pvStream || !type.Value.IsPv() && pvStream)
        {
            // The domain the toolstack built is of the wrong kind: setup() refuses the stream.
            throw Header(ErrorLayer.Libxc, "DOMAIN_HEADER", "type", _reader.Offset,
                $"Unable to restore {(pvStream ? "x86 PV" : "x86 HVM")} domain into an {(type.Value.IsPv() ? "x86_pv" : "x86 HVM")} domain (the configuration says {type.Value.ToName()})", RestoreChecks.DomainTypeMismatch);
        }

        var resolved = new DomainConfig(type.Value, vcpus, pages.Value)
        {
            Name = config?.Name ?? "restored",
            MaxPages = config?.MaxPages,
            OpenMemoryMap = _options.OpenMemoryMap ?? config?.OpenMemoryMap ?? false,
        };
        if (config is not null && config.Type == resolved.Type && config.Vcpus == resolved.Vcpus && config.MemoryPages == resolved.MemoryPages)
        {
            // Nothing overridden: keep the save file's own config text, so that a save of this domain carries it again.
            resolved = resolved with { XlConfigText = config.XlConfigText, XlConfigIsJson = config.XlConfigIsJson };
        }

        _result.Config = resolved;
        GuestDomain domain = resolved.CreateEmpty(_options.Host);
        _options.DomainCreated?.Invoke(domain);
        return domain;
    }

    private static StreamFormatException Header(ErrorLayer layer, string item, string? field, long offset, string problem,
        VerificationCheck check) =>
        new($"{problem} [{check.Id}]", offset, layer, -1, item, field, check: check);

    // ------------------------------------------------------------------ errors (used by the ops too)

    /// <summary>A stream error at <paramref name="record"/>, naming the check.</summary>
    internal StreamFormatException Fail(IncomingRecord record, VerificationCheck check, string problem, string? field, long? offset = null) =>
        record.Error($"{problem} [{check.Id}]", field, offset: offset, check: check);

    /// <summary>A stream error at a record if there is one, else at the current position.</summary>
    internal StreamFormatException FailAt(IncomingRecord? record, VerificationCheck check, string problem) => record is not null
        ? Fail(record, check, problem, null)
        : new StreamFormatException($"{problem} [{check.Id}]", _reader.Source.Position, ErrorLayer.Libxc, -1, null, null, check: check);

    internal void Warn(string message) => _result.WarningList.Add(message);

    // ------------------------------------------------------------------ completion

    // stream_complete, then the domain's own consistency check; the domain is then Ready.
    private void StreamComplete(IncomingRecord? at)
    {
        if (_complete)
        {
            return;
        }

        if (_ops is null || _domain is null)
        {
            throw FailAt(at, RestoreChecks.NoLibxcStream, "the stream ended before the libxc domain header: there is no guest to restore");
        }

        _ops.StreamComplete(at);
        try
        {
            _domain.Complete();
        }
        catch (DomainException e)
        {
            throw FailAt(at, RestoreChecks.StreamComplete, e.Message);
        }

        if (_pendingEmulatorContext is not null)
        {
            _result.EmulatorContext = _pendingEmulatorContext;
        }

        _complete = true;
        _result.StreamCompleteTimestamp = Stopwatch.GetTimestamp();
    }

    // ------------------------------------------------------------------ checkpoint buffering

    private bool Buffering => _result.CheckpointsApplied > 0;

    private void BufferRecord(IncomingRecord record)
    {
        _buffer ??= [];
        if (_bufferBytes + record.Length > _options.MaxCheckpointBufferBytes)
        {
            throw Fail(record, RestoreChecks.CheckpointBuffer,
                $"the checkpoint's buffered records exceed {_options.MaxCheckpointBufferBytes} bytes", "body_length");
        }

        _buffer.Add(record.Detach());
        _bufferBytes += record.Length;
    }

    private void DropBuffer()
    {
        if (_buffer is { Count: > 0 })
        {
            _result.DiscardedRecords += _buffer.Count;
            _result.DiscardedBytes += _bufferBytes;
        }

        _buffer?.Clear();
        _bufferBytes = 0;
    }

    // A checkpoint is complete (bare libxc: at CHECKPOINT; libxl: at CHECKPOINT_END): apply what was buffered.
    private void CompleteCheckpoint()
    {
        if (_buffer is { Count: > 0 })
        {
            List<IncomingRecord> records = _buffer;
            _buffer = [];
            _bufferBytes = 0;
            foreach (IncomingRecord record in records)
            {
                if (record.Layer == StreamLayer.Libxl)
                {
                    ApplyLibxlRecord(record);
                }
                else
                {
                    ProcessLibxcRecord(record);
                }
            }
        }

        _result.CheckpointsApplied++;
        _lastCheckpointEnd = _reader.Offset + _reader.ItemLength;
        if (_pendingEmulatorContext is not null)
        {
            _result.EmulatorContext = _pendingEmulatorContext;
        }
    }

    // ------------------------------------------------------------------ COLO (handle_checkpoint, XC_STREAM_COLO)

    // After a checkpoint is applied: stream_complete (the guest resumes from it), restore_results, then the postcopy
    // callback (SVM_READY, resume, SVM_RESUMED) and the guest runs; wait_checkpoint then reads CHECKPOINT_NEW.
    private void ColoCheckpointComplete(IncomingRecord record)
    {
        if (_options.Colo is not { } colo)
        {
            return;
        }

        _ops!.StreamComplete(record);
        if (!_coloResumed)
        {
            try
            {
                _domain!.Complete();
            }
            catch (DomainException e)
            {
                throw FailAt(record, RestoreChecks.StreamComplete, e.Message);
            }
        }

        _result.StreamCompleteTimestamp = Stopwatch.GetTimestamp();
        colo.Applied(_domain!);
        _coloResumed = true;
        colo.Resume(_domain!);
        _coloAwaitNew = true;
    }

    // wait_checkpoint got CHECKPOINT_NEW: the suspend callback (SVM_SUSPENDED), then send_checkpoint_dirty_pfn_list.
    private void ColoCheckpointNew()
    {
        _coloAwaitNew = false;
        _options.Colo?.Suspend(_domain!);
    }

    // ------------------------------------------------------------------ padding

    private void FinishRecord(IncomingRecord record)
    {
        ReadOnlySpan<byte> padding = _reader.FinishItem();
        if (CheckReserved && padding.ContainsAnyExcept((byte)0))
        {
            throw Fail(record, record.Layer == StreamLayer.Libxl ? LibxlChecks.Padding : LibxcChecks.Padding, "padding bytes are not zero", "padding", record.At(record.Length));
        }
    }

    // ------------------------------------------------------------------ helpers

    private static void FixEndianness(Span<ulong> words)
    {
        if (!BitConverter.IsLittleEndian)
        {
            for (int i = 0; i < words.Length; i++)
            {
                words[i] = BinaryPrimitives.ReverseEndianness(words[i]);
            }
        }
    }

    private static Span<byte> AsBytes(Span<ulong> words) => MemoryMarshal.AsBytes(words);
}
