namespace StreamBench.Capture.Format;

/// <summary>
/// The capture file layout (docs/CAPTURE.md): a 32-byte file header, then self-validating chunks appended one after
/// another. All integers are little-endian. This file is the one place for the layout's sizes and offsets.
/// </summary>
public static class CaptureWire
{
    /// <summary>8 bytes: 0x89 "SBCAP" CR LF. The high byte and the CR LF catch 7-bit and text-mode mangling, as PNG's do.</summary>
    public static ReadOnlySpan<byte> Magic => Formats.Wire.ContainerWire.CaptureMagic;

    /// <summary>Length of <see cref="Magic"/>.</summary>
    public const int MagicSize = 8;

    /// <summary>Readers refuse another major version.</summary>
    public const ushort VersionMajor = 1;

    /// <summary>Minor versions only add chunk types, event codes or metadata keys; readers skip what they do not know.</summary>
    public const ushort VersionMinor = 0;

    /// <summary>The file header: magic, version, header size, start wall clock, flags, CRC32C.</summary>
    public const int FileHeaderSize = 32;

    /// <summary>File header field offsets.</summary>
    public const int HeaderVersionMajorOffset = 8, HeaderVersionMinorOffset = 10, HeaderSizeOffset = 12,
        HeaderStartOffset = 16, HeaderFlagsOffset = 24, HeaderCrcOffset = 28;

    /// <summary>"CHNK" read as a little-endian u32: the first four bytes of every chunk.</summary>
    public const uint ChunkSync = 0x4B4E_4843u;

    /// <summary>The chunk header: sync, type, direction, flags, payload length, sequence, timestamp, position.</summary>
    public const int ChunkHeaderSize = 32;

    /// <summary>Chunk header field offsets.</summary>
    public const int ChunkTypeOffset = 4, ChunkDirectionOffset = 5, ChunkFlagsOffset = 6, ChunkLengthOffset = 8,
        ChunkSequenceOffset = 12, ChunkTimestampOffset = 16, ChunkPositionOffset = 24;

    /// <summary>The CRC32C that follows every payload; it covers the chunk header and the payload.</summary>
    public const int ChunkCrcSize = 4;

    /// <summary>Bytes a chunk adds around its payload.</summary>
    public const int ChunkOverhead = ChunkHeaderSize + ChunkCrcSize;

    /// <summary>The largest payload a reader accepts: a longer length is damage, never an allocation.</summary>
    public const int MaxChunkPayload = 16 << 20;

    /// <summary>The largest data payload the recorder writes (one slab).</summary>
    public const int MaxDataPayload = 4 << 20;

    /// <summary>The chunk direction of chunks that belong to no direction (metadata, footer, session events).</summary>
    public const byte NoDirection = 0xFF;

    /// <summary>One index entry: offset, length, record type, kind, layer, reserved.</summary>
    public const int IndexEntrySize = 24;

    /// <summary>The footer payload: two byte counts, the chunk count, two index entry counts, flags, reserved.</summary>
    public const int FooterSize = 48;

    /// <summary>Metadata limits: key and value lengths a reader accepts.</summary>
    public const int MaxMetadataKey = 256, MaxMetadataValue = 1 << 20;

    /// <summary>An event payload: u32 code, i64 value, then UTF-8 text.</summary>
    public const int EventFixedSize = 12;
}

/// <summary>What a chunk holds.</summary>
public enum CaptureChunkType : byte
{
    /// <summary>Key/value metadata (source, Xen version, command line, host, start time); later chunks add or override keys.</summary>
    Metadata = 1,
    /// <summary>Bytes of one direction, at <see cref="CaptureChunkHeader.Position"/> in that direction's byte stream.</summary>
    Data = 2,
    /// <summary>Record boundaries of one direction; the position is the ordinal of the first entry.</summary>
    Index = 3,
    /// <summary>Something that happened: a direction ended, a child exited, indexing stopped.</summary>
    Event = 4,
    /// <summary>The last chunk of a capture closed cleanly: totals.</summary>
    Footer = 5,
}

/// <summary>The two directions of a migration session.</summary>
public enum CaptureDirection : byte
{
    /// <summary>Sender → receiver: the stream itself (and <c>xl migrate</c>'s permission message).</summary>
    SenderToReceiver = 0,
    /// <summary>Receiver → sender: the back channel (<c>xl migrate</c> banner and replies, COLO records).</summary>
    ReceiverToSender = 1,
}

/// <summary>Event codes (<see cref="CaptureChunkType.Event"/>).</summary>
public enum CaptureEventCode : uint
{
    /// <summary>The direction reached end of input; value = its length. Absent after a crash or a cut connection.</summary>
    DirectionEnd = 1,
    /// <summary>The on-the-fly indexer stopped (invalid stream, or it fell behind); value = offset; text = why.</summary>
    IndexStopped = 2,
    /// <summary>The recorded command exited; value = exit code.</summary>
    ChildExited = 3,
    /// <summary>Forwarding a direction failed (the peer went away); value = offset; text = error.</summary>
    ForwardFailed = 4,
    /// <summary>A free-form note.</summary>
    Note = 5,
    /// <summary>The recorder stopped on a signal; value = signal number.</summary>
    Signal = 6,
}

/// <summary>Short names of directions, as the command line and docs spell them.</summary>
public static class CaptureDirections
{
    /// <summary>"s2r" or "r2s".</summary>
    public static string Name(CaptureDirection direction) => direction == CaptureDirection.SenderToReceiver ? "s2r" : "r2s";

    /// <summary>The other direction.</summary>
    public static CaptureDirection Other(CaptureDirection direction) => direction == CaptureDirection.SenderToReceiver
        ? CaptureDirection.ReceiverToSender
        : CaptureDirection.SenderToReceiver;
}
