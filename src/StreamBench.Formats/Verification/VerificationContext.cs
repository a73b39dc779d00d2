using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Verification;

/// <summary>
/// What the rules of every layer share while one stream is verified: the reader, the profile, the findings sink, the
/// summary, and the cross-layer state (guest type, image version, checkpoint and post-copy phases). Its size does not
/// depend on the stream's length.
/// </summary>
internal sealed class VerificationContext
{
    /// <summary>Bodies are scanned in place up to this size; longer ones are streamed through <see cref="Scratch"/>.</summary>
    public const int InPlaceLimit = 64 << 20;

    private readonly ProfileSet _bit;
    private readonly List<Finding> _findings = [];
    private readonly int _maxFindings;
    private byte[]? _scratch;
    private bool _completingCheckpoint;

    public VerificationContext(XenStreamReader reader, VerifierOptions options)
    {
        Reader = reader;
        Options = options;
        Profile = options.Profile;
        _bit = options.Profile.Bit();
        _maxFindings = Math.Max(0, options.MaxFindings);
        Rfc = reader.Dialect == StreamDialect.PostcopyRfc;
        Summary = new StreamSummary(reader.Dialect);
        Window = (int)Math.Min(reader.Source.MaxWindow, InPlaceLimit);
    }

    public XenStreamReader Reader { get; }

    public VerifierOptions Options { get; }

    public VerificationProfile Profile { get; }

    public StreamSummary Summary { get; }

    /// <summary>The post-copy RFC dictionary is in use.</summary>
    public bool Rfc { get; }

    /// <summary>The largest body prefix asked for in place.</summary>
    public int Window { get; }

    /// <summary>A fatal check fired: the rest of the input cannot be framed.</summary>
    public bool Stopped { get; private set; }

    public long Errors { get; private set; }

    public long Warnings { get; private set; }

    public long Infos { get; private set; }

    public long Dropped { get; private set; }

    public IReadOnlyList<Finding> Findings => _findings;

    /// <summary>A reusable 64 KiB buffer for streaming long bodies (never sized by the stream).</summary>
    public byte[] Scratch => _scratch ??= new byte[1 << 16];

    // ---- cross-layer state ----

    /// <summary>The guest type from the domain header, when it is one of the two defined types.</summary>
    public DomainType? Guest { get; set; }

    public bool IsPv => Guest == DomainType.X86Pv;

    public bool IsHvm => Guest == DomainType.X86Hvm;

    /// <summary>Whether the input starts with the xl magic (peeked before the reader consumed the header).</summary>
    public bool XlMagicOk { get; set; }

    /// <summary>The image version (0 before the image header).</summary>
    public uint ImageVersion { get; set; }

    /// <summary>A libxl record of a checkpoint's tail (after libxc CHECKPOINT, up to CHECKPOINT_END).</summary>
    public bool InCheckpointTail { get; set; }

    /// <summary>A libxl record between the RFC's POSTCOPY_TRANSITION and POSTCOPY_TRANSITION_END.</summary>
    public bool InPostcopyTail { get; set; }

    /// <summary>A libxc stream was embedded in a libxl stream.</summary>
    public bool SawEmbeddedLibxc { get; set; }

    public bool SawCheckpoint { get; private set; }

    public bool SawCheckpointEnd { get; private set; }

    public long FirstCheckpointOffset { get; private set; }

    public long FirstCheckpointIndex { get; private set; }

    public int CompleteCheckpoints { get; private set; }

    /// <summary>Offset of the first byte after the item that completed the last checkpoint.</summary>
    public long LastCheckpointEnd { get; private set; }

    /// <summary>Whether the stream counts as checkpointed, per <see cref="CheckpointMode"/> (docs/VERIFIER.md).</summary>
    public bool IsCheckpointed => Options.CheckpointMode switch
    {
        CheckpointMode.Plain => false,
        CheckpointMode.Checkpointed => true,
        _ => SawEmbeddedLibxc ? SawCheckpointEnd : SawCheckpoint,
    };

    /// <summary>The libxc CHECKPOINT record: bare libxc completes a checkpoint; embedded libxc opens the libxl tail.</summary>
    public void OnCheckpoint()
    {
        if (!SawCheckpoint)
        {
            SawCheckpoint = true;
            FirstCheckpointOffset = Reader.Offset;
            FirstCheckpointIndex = Reader.RecordIndex;
        }
        if (Reader.LibxcEmbedded)
        {
            InCheckpointTail = true;
        }
        else
        {
            CompleteCheckpoint();
        }
    }

    /// <summary>The libxl CHECKPOINT_END that closes a checkpoint's tail.</summary>
    public void OnCheckpointEnd()
    {
        InCheckpointTail = false;
        SawCheckpointEnd = true;
        CompleteCheckpoint();
    }

    // A checkpoint counts as complete only once the record that completes it has been read to its last padding byte.
    private void CompleteCheckpoint() => _completingCheckpoint = true;

    /// <summary>Called after each record has been read completely (body skipped, padding read).</summary>
    public void AfterRecord()
    {
        if (_completingCheckpoint)
        {
            _completingCheckpoint = false;
            CompleteCheckpoints++;
            LastCheckpointEnd = Reader.Offset + Reader.ItemLength;
        }
    }

    // ---- reporting ----

    /// <summary>Whether the profile makes <paramref name="check"/>.</summary>
    public bool On(VerificationCheck check) => (check.Profiles & _bit) != 0;

    /// <summary>A finding about the current item as a whole (offset = the item's first byte).</summary>
    public void Report(VerificationCheck check, string? field, string message) => ReportAtItem(check, 0, field, message);

    /// <summary>A finding about a field of the current body, <paramref name="bodyDelta"/> bytes into the body.</summary>
    public void ReportInBody(VerificationCheck check, long bodyDelta, string? field, string message)
    {
        if (On(check))
        {
            Add(check, Reader.BodyOffset + bodyDelta, ItemIndex, Reader.RecordTypeName, ErrorLayers.Of(Reader.Layer), field, message);
        }
    }

    /// <summary>A finding about a field <paramref name="itemDelta"/> bytes from the current item's first byte (headers).</summary>
    public void ReportAtItem(VerificationCheck check, long itemDelta, string? field, string message)
    {
        if (On(check))
        {
            Add(check, Reader.Offset + itemDelta, ItemIndex, Reader.RecordTypeName, ErrorLayers.Of(Reader.Layer), field, message);
        }
    }

    /// <summary>A finding anywhere.</summary>
    public void ReportAt(VerificationCheck check, long offset, long recordIndex, string? recordType, ErrorLayer layer, string? field, string message)
    {
        if (On(check))
        {
            Add(check, offset, recordIndex, recordType, layer, field, message);
        }
    }

    private long ItemIndex => Reader.Kind == StreamItemKind.Record ? Reader.RecordIndex : -1;

    private void Add(VerificationCheck check, long offset, long index, string? type, ErrorLayer layer, string? field, string message)
    {
        switch (check.Severity)
        {
            case FindingSeverity.Error:
                Errors++;
                break;
            case FindingSeverity.Warning:
                Warnings++;
                break;
            default:
                Infos++;
                break;
        }
        if (_findings.Count < _maxFindings)
        {
            _findings.Add(new Finding(check.Severity, offset, index, type, layer, field, message, check.Id));
        }
        else
        {
            Dropped++;
        }
        if (check.Fatal)
        {
            Stopped = true;
        }
    }

    /// <summary>The total input length as far as it is known (files: their length; pipes: what has arrived).</summary>
    public long InputLength
    {
        get
        {
            var src = Reader.Source;
            if (src.Length is { } length)
            {
                return length;
            }
            return src.Position + src.Available;
        }
    }
}
