using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Streams;

/// <summary>Options for <see cref="XenStreamReader"/>.</summary>
public sealed record XenStreamReaderOptions
{
    /// <summary>The outermost layer, or <see cref="OuterFormat.Auto"/>.</summary>
    public OuterFormat Format { get; init; } = OuterFormat.Auto;

    /// <summary>The record dictionary. Never guessed (0x10..0x12 mean different things in the two).</summary>
    public StreamDialect Dialect { get; init; } = StreamDialect.Upstream;

    /// <summary>The largest body <see cref="XenStreamReader.GetBody"/> buffers when it does not fit the source's window.</summary>
    public int MaxBufferedBody { get; init; } = (int)LibxcWire.RecordLengthMax + Framing.Alignment;

    /// <summary>
    /// A COLO primary → secondary stream: after each CHECKPOINT_END the primary sends a libxl CHECKPOINT_STATE
    /// (CHECKPOINT_NEW) before the next checkpoint's libxc records. Its type, 5, is also a libxc record type
    /// (X86_PV_VCPU_EXTENDED), so this is an explicit option, like the dialect.
    /// </summary>
    public bool Colo { get; init; }

    /// <summary>Largest chunk of trailing or legacy bytes handed out as one item.</summary>
    public int ChunkSize { get; init; } = 1 << 16;
}

/// <summary>
/// A pull reader over every layer of a Xen save/migration stream: the xl header, the libxl v2 stream, the libxc
/// v2/v3 stream nested inside it (including the checkpoint phases: libxc records up to CHECKPOINT, libxl records up
/// to CHECKPOINT_END, then libxc records again with no new headers), the post-copy RFC's dialect switch, the
/// <c>xl migrate</c> protocol text, and bare back-channel records.
/// <para>
/// Each <see cref="Read"/> moves to the next item. A record's body is not read unless asked for
/// (<see cref="BodyPrefix"/>, <see cref="GetBody"/>, <see cref="ReadBody"/>); whatever is left is skipped, so
/// page contents nobody wants are never copied, and memory does not grow with the stream.
/// </para>
/// Malformed input raises <see cref="StreamFormatException"/> naming the offset, record and field.
/// </summary>
public sealed class XenStreamReader : IDisposable, IBodyOwner
{
    private enum State
    {
        Start,
        XlBody,
        LibxlHeader,
        LibxlRecords,
        LibxcImageHeader,
        LibxcDomainHeader,
        LibxcRecords,
        Legacy,
        BackChannel,
        MigrateReceiver,
        AfterEnd,
        Done,
    }

    private readonly ByteSource _src;
    private readonly bool _ownsSource;
    private readonly XenStreamReaderOptions _options;
    private readonly byte[] _padding = new byte[Framing.Alignment];
    private State _state = State.Start;
    private bool _libxcEmbedded;
    private bool _inCheckpointTail;
    private bool _inPostcopyTail;
    private bool _expectColoState;
    private bool _itemFinished = true;
    private BodyCursor _body;

    /// <summary>Reads from <paramref name="source"/>.</summary>
    public XenStreamReader(ByteSource source, XenStreamReaderOptions? options = null, bool ownsSource = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        _src = source;
        _ownsSource = ownsSource;
        _options = options ?? new XenStreamReaderOptions();
        Dialect = _options.Dialect;
        _body = new BodyCursor(source, this, _options.MaxBufferedBody, "body_length");
    }

    /// <summary>Opens a path ("-" for standard input).</summary>
    public static XenStreamReader Open(string path, XenStreamReaderOptions? options = null)
        => new(ByteSource.Open(path), options, ownsSource: true);

    /// <summary>Reads bytes in memory.</summary>
    public static XenStreamReader FromMemory(ReadOnlyMemory<byte> bytes, XenStreamReaderOptions? options = null)
        => new(ByteSource.FromMemory(bytes), options, ownsSource: true);

    /// <summary>The underlying source.</summary>
    public ByteSource Source => _src;

    /// <summary>The record dictionary in use.</summary>
    public StreamDialect Dialect { get; }

    /// <summary>The outer format, once detected.</summary>
    public OuterFormat DetectedFormat { get; private set; }

    /// <summary>The current item's kind.</summary>
    public StreamItemKind Kind { get; private set; }

    /// <summary>The current item's layer.</summary>
    public StreamLayer Layer { get; private set; }

    /// <summary>Absolute offset of the current item's first byte.</summary>
    public long Offset { get; private set; }

    /// <summary>Index of the current record in the whole stream (0-based); -1 before the first.</summary>
    public long RecordIndex { get; private set; } = -1;

    /// <summary>The current record's type (records only).</summary>
    public uint RecordType { get; private set; }

    /// <summary>The current item's body length: a record's body_length (without padding), the xl optional data, a message or chunk.</summary>
    public long BodyLength { get; private set; }

    /// <summary>Number of CHECKPOINT records read so far (before the current item, counting the current one once it is read).</summary>
    public int CheckpointCount { get; private set; }

    /// <summary>Whether a CHECKPOINT record has been seen.</summary>
    public bool IsCheckpointed => CheckpointCount > 0;

    /// <summary>Whether the current libxl record is in a checkpoint's libxl tail (after CHECKPOINT, up to CHECKPOINT_END).</summary>
    public bool InCheckpointTail => _inCheckpointTail;

    /// <summary>Whether the current libxl record sits between POSTCOPY_TRANSITION and POSTCOPY_TRANSITION_END.</summary>
    public bool InPostcopyTail => _inPostcopyTail;

    /// <summary>Whether the current libxc record is inside a libxl stream.</summary>
    public bool LibxcEmbedded => _libxcEmbedded;

    /// <summary>The xl header, once read.</summary>
    public XlHeaderFields? XlHeader { get; private set; }

    /// <summary>The libxl header, once read.</summary>
    public LibxlHeaderFields? LibxlHeader { get; private set; }

    /// <summary>The libxc image header, once read.</summary>
    public LibxcImageHeaderFields? ImageHeader { get; private set; }

    /// <summary>The libxc domain header, once read.</summary>
    public LibxcDomainHeaderFields? DomainHeader { get; private set; }

    /// <summary>Which message the current <see cref="StreamItemKind.ProtocolMessage"/> is.</summary>
    public MigrateMessage Message { get; private set; }

    /// <summary>How the stream ended; <see cref="StreamEnding.None"/> while reading.</summary>
    public StreamEnding Ending { get; private set; }

    /// <summary>The name of the current record's type in its layer and dialect.</summary>
    public string RecordTypeName => Kind switch
    {
        StreamItemKind.Record => NameOf(Layer, RecordType),
        StreamItemKind.XlHeader => "XL_HEADER",
        StreamItemKind.LibxlHeader => "LIBXL_HEADER",
        StreamItemKind.LibxcImageHeader => "IMAGE_HEADER",
        StreamItemKind.LibxcDomainHeader => "DOMAIN_HEADER",
        StreamItemKind.ProtocolMessage => Message switch
        {
            MigrateMessage.ReceiverBanner => "MIGRATE_RECEIVER_BANNER",
            MigrateMessage.ReceiverReady => "MIGRATE_RECEIVER_READY",
            MigrateMessage.PermissionToGo => "MIGRATE_PERMISSION_TO_GO",
            _ => "MIGRATE_REPORT",
        },
        StreamItemKind.LegacyImage => "LEGACY_IMAGE",
        StreamItemKind.TrailingData => "TRAILING_DATA",
        _ => "NONE",
    };

    /// <summary>Total bytes the current item occupies (header, body and padding).</summary>
    public long ItemLength => Kind switch
    {
        StreamItemKind.Record => Framing.RecordHeaderSize + BodyLength + Framing.PaddingFor((uint)BodyLength),
        StreamItemKind.XlHeader => XlWire.HeaderSize + BodyLength,
        StreamItemKind.LibxlHeader => LibxlWire.HeaderSize,
        StreamItemKind.LibxcImageHeader => LibxcWire.ImageHeaderSize,
        StreamItemKind.LibxcDomainHeader => LibxcWire.DomainHeaderSize,
        _ => BodyLength,
    };

    /// <summary>The name of a record type of <paramref name="layer"/> in this reader's dialect.</summary>
    public string NameOf(StreamLayer layer, uint type) => RecordDictionary.For(layer, Dialect).Name(type);

    /// <summary>Back-channel records mix libxl CHECKPOINT_STATE with libxc CHECKPOINT_DIRTY_PFN_LIST (and the RFC's FAULT/COMPLETE).</summary>
    public static StreamLayer BackChannelOwner(uint type, StreamDialect dialect) => RecordDictionary.BackChannel(dialect).OwnerOf(type);

    /// <summary>Moves to the next item. False at the end of the input.</summary>
    public bool Read()
    {
        FinishItem();
        while (true)
        {
            switch (_state)
            {
                case State.Start:
                    Detect();
                    if (Kind == StreamItemKind.XlHeader)
                    {
                        return true;
                    }
                    continue;
                case State.XlBody:
                    // The xl header was the last item; decide what follows it.
                    _state = (XlHeader!.Value.MandatoryFlags & XlMandatoryFlags.StreamV2) != 0
                        ? State.LibxlHeader
                        : (LooksLikeLibxc() ? State.LibxcImageHeader : State.Legacy);
                    continue;
                case State.LibxlHeader:
                    return ReadLibxlHeader();
                case State.LibxcImageHeader:
                    return ReadImageHeader();
                case State.LibxcDomainHeader:
                    return ReadDomainHeader();
                case State.LibxlRecords:
                    return ReadRecord(StreamLayer.Libxl);
                case State.LibxcRecords when _expectColoState:
                    _expectColoState = false;
                    if (_src.Ensure(4) && BinaryPrimitives.ReadUInt32LittleEndian(_src.Peek(4)) == (uint)LibxlRecordType.CheckpointState)
                    {
                        return ReadRecord(StreamLayer.Libxl);
                    }
                    return ReadRecord(StreamLayer.Libxc);
                case State.LibxcRecords:
                    return ReadRecord(StreamLayer.Libxc);
                case State.BackChannel:
                    return ReadRecord(StreamLayer.BackChannel);
                case State.Legacy:
                    return ReadChunk(StreamItemKind.LegacyImage, StreamLayer.Legacy);
                case State.MigrateReceiver:
                    if (TryReadMessage())
                    {
                        return true;
                    }
                    if (_src.AtEnd)
                    {
                        return Finish(StreamEnding.EndOfInput);
                    }
                    _state = State.BackChannel;
                    continue;
                case State.AfterEnd:
                    if (_src.AtEnd)
                    {
                        return Finish(StreamEnding.Complete);
                    }
                    return TryReadMessage() || ReadChunk(StreamItemKind.TrailingData, Layer);
                default:
                    Kind = StreamItemKind.None;
                    return false;
            }
        }
    }

    private bool Finish(StreamEnding ending)
    {
        if (Ending == StreamEnding.None)
        {
            Ending = ending;
        }
        _state = State.Done;
        Kind = StreamItemKind.None;
        return false;
    }

    private void Detect()
    {
        var format = _options.Format;
        if (format == OuterFormat.Auto)
        {
            _src.Ensure(Math.Min(ContainerWire.DetectionBytes, _src.MaxWindow));
            if (DescribeContainer(_src.Peek(Math.Min(ContainerWire.DetectionBytes, _src.Available))) is { } container)
            {
                throw new StreamFormatException($"the input is {container}, not a stream: open it through the input seam (streambench commands do)",
                    _src.Position, ErrorLayer.Input, field: "magic");
            }
            format = DetectFormat(_src);
        }
        DetectedFormat = format;
        switch (format)
        {
            case OuterFormat.Xl:
                ReadXlHeader();
                break;
            case OuterFormat.Libxl:
                _state = State.LibxlHeader;
                break;
            case OuterFormat.Libxc:
                _state = State.LibxcImageHeader;
                break;
            case OuterFormat.BackChannel:
                _state = State.BackChannel;
                break;
            case OuterFormat.MigrateReceiver:
                _state = State.MigrateReceiver;
                break;
            default:
                _state = State.Legacy;
                break;
        }
    }

    /// <summary>Detects the outermost layer from the first bytes without consuming them (FORMATS.md 0, 6).</summary>
    public static OuterFormat DetectFormat(ByteSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var want = Math.Min(ContainerWire.DetectionBytes, source.MaxWindow);
        source.Ensure(want);
        return DetectFormat(source.Peek(Math.Min(want, source.Available)));
    }

    /// <summary>
    /// Detects the outermost layer from <paramref name="head"/>, the input's first bytes (fewer than
    /// <see cref="ContainerWire.DetectionBytes"/> only when the input is that short). An input that starts with a
    /// known magic, or is a prefix of one, is never taken for a legacy image: a truncated xl header is a truncated
    /// xl stream (FORMATS.md 0, 6). Containers (zstd, capture files) are named by <see cref="DescribeContainer"/>.
    /// </summary>
    public static OuterFormat DetectFormat(ReadOnlySpan<byte> head)
    {
        if (head.Length >= XlWire.MagicSize && head[..XlWire.MagicSize].SequenceEqual(XlWire.Magic))
        {
            return OuterFormat.Xl;
        }
        if (head.Length >= 8 && BinaryPrimitives.ReadUInt64BigEndian(head) == LibxlWire.Ident)
        {
            return OuterFormat.Libxl;
        }
        if (head.Length >= 12 && BinaryPrimitives.ReadUInt64BigEndian(head) == LibxcWire.Marker
            && BinaryPrimitives.ReadUInt32BigEndian(head[8..]) == LibxcWire.Id)
        {
            return OuterFormat.Libxc;
        }
        var banner = XlMigrateProtocol.ReceiverBanner;
        if (head.Length > 0 && head.Length >= Math.Min(banner.Length, 16) && banner.StartsWith(head[..Math.Min(head.Length, 16)]))
        {
            return OuterFormat.MigrateReceiver;
        }
        if (head.Length > 0 && head.Length < XlWire.MagicSize && XlWire.Magic.StartsWith(head))
        {
            return OuterFormat.Xl; // a truncated xl header
        }
        Span<byte> libxl = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(libxl, LibxlWire.Ident);
        if (head.Length > 0 && head.Length < libxl.Length && libxl.StartsWith(head))
        {
            return OuterFormat.Libxl;
        }
        Span<byte> libxc = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64BigEndian(libxc, LibxcWire.Marker);
        BinaryPrimitives.WriteUInt32BigEndian(libxc[8..], LibxcWire.Id);
        if (head.Length > 0 && head.Length < libxc.Length && libxc.StartsWith(head))
        {
            return OuterFormat.Libxc;
        }
        return OuterFormat.Legacy;
    }

    /// <summary>
    /// "a zstd-compressed file" or "a capture file" when <paramref name="head"/> starts with (or, being the whole
    /// input, is a prefix of) a container magic; otherwise null. Such input is not a stream and never legacy.
    /// </summary>
    public static string? DescribeContainer(ReadOnlySpan<byte> head)
    {
        static bool Matches(ReadOnlySpan<byte> head, ReadOnlySpan<byte> magic) =>
            head.Length > 0 && (head.Length >= magic.Length ? head[..magic.Length].SequenceEqual(magic) : magic.StartsWith(head));
        if (Matches(head, ContainerWire.ZstdMagic))
        {
            return head.Length >= ContainerWire.ZstdMagic.Length ? "a zstd-compressed file" : "a truncated zstd magic";
        }
        if (Matches(head, ContainerWire.CaptureMagic))
        {
            return head.Length >= ContainerWire.CaptureMagic.Length ? "a capture file" : "a truncated capture file magic";
        }
        return null;
    }

    private bool LooksLikeLibxc()
    {
        if (!_src.Ensure(8))
        {
            return true; // Let the image header read report the truncation.
        }
        return BinaryPrimitives.ReadUInt64BigEndian(_src.Peek(8)) == LibxcWire.Marker;
    }

    private void ReadXlHeader()
    {
        var at = _src.Position;
        var h = Need(XlWire.HeaderSize, StreamLayer.Xl, "XL_HEADER", "header");
        var order = BinaryPrimitives.ReadUInt32LittleEndian(h[XlWire.ByteOrderOffset..]);
        var bigEndian = order == BinaryPrimitives.ReverseEndianness(XlWire.ByteOrderMarker);
        var fields = new XlHeaderFields(bigEndian, order, (XlMandatoryFlags)U32(h, XlWire.MandatoryFlagsOffset, bigEndian),
            U32(h, XlWire.OptionalFlagsOffset, bigEndian), U32(h, XlWire.OptionalDataLengthOffset, bigEndian));
        _src.Advance(XlWire.HeaderSize);
        XlHeader = fields;
        BeginItem(StreamItemKind.XlHeader, StreamLayer.Xl, at, fields.OptionalDataLength);
        _state = State.XlBody;
    }

    private static uint U32(ReadOnlySpan<byte> h, int offset, bool bigEndian) => bigEndian
        ? BinaryPrimitives.ReadUInt32BigEndian(h[offset..])
        : BinaryPrimitives.ReadUInt32LittleEndian(h[offset..]);

    private bool ReadLibxlHeader()
    {
        var at = _src.Position;
        var h = Need(LibxlWire.HeaderSize, StreamLayer.Libxl, "LIBXL_HEADER", "header");
        LibxlHeader = new LibxlHeaderFields(BinaryPrimitives.ReadUInt64BigEndian(h[LibxlHeaderLayout.Ident..]),
            BinaryPrimitives.ReadUInt32BigEndian(h[LibxlHeaderLayout.Version..]), (LibxlOptions)BinaryPrimitives.ReadUInt32BigEndian(h[LibxlHeaderLayout.Options..]));
        _src.Advance(LibxlWire.HeaderSize);
        BeginItem(StreamItemKind.LibxlHeader, StreamLayer.Libxl, at, 0);
        _state = State.LibxlRecords;
        return true;
    }

    private bool ReadImageHeader()
    {
        var at = _src.Position;
        var h = Need(LibxcWire.ImageHeaderSize, StreamLayer.Libxc, "IMAGE_HEADER", "header");
        ImageHeader = new LibxcImageHeaderFields(BinaryPrimitives.ReadUInt64BigEndian(h[LibxcImageHeaderLayout.Marker..]),
            BinaryPrimitives.ReadUInt32BigEndian(h[LibxcImageHeaderLayout.Id..]), BinaryPrimitives.ReadUInt32BigEndian(h[LibxcImageHeaderLayout.Version..]),
            BinaryPrimitives.ReadUInt16BigEndian(h[LibxcImageHeaderLayout.Options..]), BinaryPrimitives.ReadUInt16BigEndian(h[LibxcImageHeaderLayout.Reserved1..]),
            BinaryPrimitives.ReadUInt32BigEndian(h[LibxcImageHeaderLayout.Reserved2..]));
        _src.Advance(LibxcWire.ImageHeaderSize);
        BeginItem(StreamItemKind.LibxcImageHeader, StreamLayer.Libxc, at, 0);
        _state = State.LibxcDomainHeader;
        return true;
    }

    private bool ReadDomainHeader()
    {
        var at = _src.Position;
        var h = Need(LibxcWire.DomainHeaderSize, StreamLayer.Libxc, "DOMAIN_HEADER", "header");
        DomainHeader = new LibxcDomainHeaderFields((DomainType)BinaryPrimitives.ReadUInt32LittleEndian(h[LibxcDomainHeaderLayout.Type..]),
            BinaryPrimitives.ReadUInt16LittleEndian(h[LibxcDomainHeaderLayout.PageShift..]), BinaryPrimitives.ReadUInt16LittleEndian(h[LibxcDomainHeaderLayout.Reserved..]),
            BinaryPrimitives.ReadUInt32LittleEndian(h[LibxcDomainHeaderLayout.XenMajor..]), BinaryPrimitives.ReadUInt32LittleEndian(h[LibxcDomainHeaderLayout.XenMinor..]));
        _src.Advance(LibxcWire.DomainHeaderSize);
        BeginItem(StreamItemKind.LibxcDomainHeader, StreamLayer.Libxc, at, 0);
        _state = State.LibxcRecords;
        return true;
    }

    private bool ReadRecord(StreamLayer layer)
    {
        var at = _src.Position;
        if (!_src.Ensure(Framing.RecordHeaderSize))
        {
            if (_src.Available == 0)
            {
                return Finish(layer == StreamLayer.BackChannel ? StreamEnding.EndOfInput
                    : IsCheckpointed ? StreamEnding.Failover : StreamEnding.MissingEnd);
            }
            throw new StreamFormatException(
                string.Create(CultureInfo.InvariantCulture, $"stream truncated inside a record header ({_src.Available} of {Framing.RecordHeaderSize} bytes)"),
                at, ErrorLayers.Of(layer), RecordIndex + 1, null, "type/length", truncated: true);
        }
        var h = _src.Peek(Framing.RecordHeaderSize);
        var type = BinaryPrimitives.ReadUInt32LittleEndian(h[RecordHeaderLayout.Type..]);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(h[RecordHeaderLayout.Length..]);
        _src.Advance(Framing.RecordHeaderSize);
        RecordIndex++;
        RecordType = type;
        BeginItem(StreamItemKind.Record, layer, at, length);
        Advance(layer, type);
        return true;
    }

    /// <summary>The layer state machine: where the next record comes from, decided by this record's type alone.</summary>
    private void Advance(StreamLayer layer, uint type)
    {
        var rfc = Dialect == StreamDialect.PostcopyRfc;
        if (layer == StreamLayer.Libxl)
        {
            switch (type)
            {
                case (uint)LibxlRecordType.End:
                    _state = State.AfterEnd;
                    Ending = StreamEnding.Complete;
                    break;
                case (uint)LibxlRecordType.LibxcContext:
                    _libxcEmbedded = true;
                    _state = State.LibxcImageHeader;
                    break;
                case (uint)LibxlRecordType.CheckpointEnd when _inCheckpointTail:
                    _inCheckpointTail = false;
                    _expectColoState = _options.Colo;
                    _state = State.LibxcRecords;
                    break;
                case (uint)LibxlPostcopyRecordType.PostcopyTransitionEnd when rfc && _inPostcopyTail:
                    _inPostcopyTail = false;
                    _state = State.LibxcRecords;
                    break;
            }
            return;
        }
        if (layer != StreamLayer.Libxc)
        {
            return;
        }
        switch (type)
        {
            case (uint)LibxcRecordType.End:
                _state = _libxcEmbedded ? State.LibxlRecords : State.AfterEnd;
                if (!_libxcEmbedded)
                {
                    Ending = StreamEnding.Complete;
                }
                break;
            case (uint)LibxcRecordType.Checkpoint:
                CheckpointCount++;
                if (_libxcEmbedded)
                {
                    _inCheckpointTail = true;
                    _state = State.LibxlRecords;
                }
                break;
            case (uint)PostcopyRecordType.PostcopyTransition when rfc:
                if (_libxcEmbedded)
                {
                    _inPostcopyTail = true;
                    _state = State.LibxlRecords;
                }
                break;
        }
    }

    private bool TryReadMessage()
    {
        var at = _src.Position;
        foreach (var (message, text) in Messages)
        {
            var bytes = text();
            var need = message == MigrateMessage.Report ? bytes.Length + 1 : bytes.Length;
            if (_src.Ensure(need) && _src.Peek(bytes.Length).SequenceEqual(bytes))
            {
                Message = message;
                BeginItem(StreamItemKind.ProtocolMessage, StreamLayer.Migrate, at, need);
                return true;
            }
        }
        return false;
    }

    private delegate ReadOnlySpan<byte> Text();

    private static readonly (MigrateMessage Message, Text Bytes)[] Messages =
    [
        (MigrateMessage.ReceiverBanner, () => XlMigrateProtocol.ReceiverBanner),
        (MigrateMessage.ReceiverReady, () => XlMigrateProtocol.ReceiverReady),
        (MigrateMessage.PermissionToGo, () => XlMigrateProtocol.PermissionToGo),
        (MigrateMessage.Report, () => XlMigrateProtocol.Report),
    ];

    /// <summary>The result byte of the current <see cref="MigrateMessage.Report"/>.</summary>
    public byte ReportResult => Kind == StreamItemKind.ProtocolMessage && Message == MigrateMessage.Report
        ? GetBody()[^1]
        : throw new InvalidOperationException("not on a report message");

    private bool ReadChunk(StreamItemKind kind, StreamLayer layer)
    {
        var at = _src.Position;
        var want = Math.Min(_options.ChunkSize, _src.MaxWindow);
        _src.Ensure(want);
        var n = Math.Min(want, _src.Available);
        if (n == 0)
        {
            return Finish(StreamEnding.EndOfInput);
        }
        Message = MigrateMessage.None;
        BeginItem(kind, layer == StreamLayer.None ? StreamLayer.Migrate : layer, at, n);
        return true;
    }

    private void BeginItem(StreamItemKind kind, StreamLayer layer, long offset, long bodyLength)
    {
        Kind = kind;
        Layer = layer;
        Offset = offset;
        BodyLength = bodyLength;
        _body.Begin(bodyLength);
        _itemFinished = false;
        if (kind != StreamItemKind.ProtocolMessage)
        {
            Message = MigrateMessage.None;
        }
    }

    private ReadOnlySpan<byte> Need(int count, StreamLayer layer, string what, string field)
    {
        if (!_src.Ensure(count))
        {
            throw new StreamFormatException(
                string.Create(CultureInfo.InvariantCulture, $"stream truncated: {what} needs {count} bytes, {_src.Available} left"),
                _src.Position, ErrorLayers.Of(layer), -1, what, field, truncated: true);
        }
        return _src.Peek(count);
    }

    /// <summary>The lower-case name of a layer, as findings and errors print it.</summary>
    public static string LayerName(StreamLayer layer) => layer switch
    {
        StreamLayer.BackChannel => "back-channel",
        _ => layer.ToString().ToLowerInvariant(),
    };

    /// <inheritdoc />
    BodyItem IBodyOwner.DescribeBody() => new(ErrorLayers.Of(Layer), Offset, Kind == StreamItemKind.Record ? RecordIndex : -1, RecordTypeName);

    /// <summary>
    /// The first <paramref name="count"/> bytes of the current body, in place (no copy). Only before any
    /// <see cref="ReadBody"/>/<see cref="SkipBody"/>. <paramref name="count"/> is clamped to the body length.
    /// </summary>
    public ReadOnlySpan<byte> BodyPrefix(int count) => _body.Prefix(count);

    /// <summary>
    /// The whole current body. In place when it fits the source's window; otherwise it is copied into a buffer
    /// that grows only as bytes actually arrive, so a lying length cannot make it allocate up front
    /// (see <see cref="BodyCursor.GetBody"/>).
    /// </summary>
    public ReadOnlySpan<byte> GetBody() => _body.GetBody();

    /// <summary>Copies the next body bytes into <paramref name="destination"/> (reading until it is full or the body ends); returns the count (0 at the body's end).</summary>
    public int ReadBody(Span<byte> destination) => _body.Read(destination);

    /// <summary>The next <paramref name="count"/> body bytes in place, or empty (see <see cref="BodyCursor.PeekNext"/>); the body does not move.</summary>
    public ReadOnlySpan<byte> PeekBody(int count) => _body.PeekNext(count);

    /// <summary>Skips <paramref name="count"/> body bytes (by seeking or mapping when the input allows).</summary>
    public void SkipBody(long count) => _body.Skip(count);

    /// <summary>Bytes of the current body not yet read or skipped.</summary>
    public long BodyRemaining => _body.Remaining;

    /// <summary>
    /// Completes the current item: skips what is left of the body and reads a record's padding.
    /// Returns the padding bytes (empty for non-records). <see cref="Read"/> calls it when the caller did not.
    /// </summary>
    public ReadOnlySpan<byte> FinishItem()
    {
        if (_itemFinished)
        {
            return Kind == StreamItemKind.Record ? _padding.AsSpan(0, Framing.PaddingFor((uint)BodyLength)) : default;
        }
        _body.Finish();
        _itemFinished = true;
        if (Kind != StreamItemKind.Record)
        {
            return default;
        }
        var pad = Framing.PaddingFor((uint)BodyLength);
        if (pad == 0)
        {
            return default;
        }
        if (!_src.Ensure(pad))
        {
            throw new StreamFormatException(
                string.Create(CultureInfo.InvariantCulture, $"stream truncated inside the padding ({_src.Available} of {pad} bytes)"),
                _src.Position, ErrorLayers.Of(Layer), RecordIndex, RecordTypeName, "padding", truncated: true);
        }
        _src.Peek(pad).CopyTo(_padding);
        _src.Advance(pad);
        return _padding.AsSpan(0, pad);
    }

    /// <summary>Absolute offset of the current body's first byte.</summary>
    public long BodyOffset => _body.Start;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsSource)
        {
            _src.Dispose();
        }
    }
}
