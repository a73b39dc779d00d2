using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Streams;

/// <summary>The layer an item belongs to.</summary>
public enum StreamLayer : byte
{
    /// <summary>Nothing read yet.</summary>
    None,
    /// <summary>The xl save-file / migrate header.</summary>
    Xl,
    /// <summary>The libxl v2 stream.</summary>
    Libxl,
    /// <summary>The libxc v2/v3 stream.</summary>
    Libxc,
    /// <summary>A legacy (pre-4.6) libxc image.</summary>
    Legacy,
    /// <summary>Bare records of the back channel (receiver → sender), no header.</summary>
    BackChannel,
    /// <summary>The text that <c>xl migrate</c>'s two ends exchange around the binary stream.</summary>
    Migrate,
}

/// <summary>What the outermost layer is; <see cref="Auto"/> detects it (FORMATS.md 0, 6).</summary>
public enum OuterFormat
{
    /// <summary>xl magic → xl; "LibxlFmt" → libxl; all-ones marker + "XENF" → libxc; the receiver banner → migrate receiver; otherwise legacy.</summary>
    Auto,
    /// <summary>An xl save file or the sender side of <c>xl migrate</c>.</summary>
    Xl,
    /// <summary>A libxl v2 stream.</summary>
    Libxl,
    /// <summary>A bare libxc stream.</summary>
    Libxc,
    /// <summary>A legacy image.</summary>
    Legacy,
    /// <summary>Bare back-channel records (COLO, post-copy faults).</summary>
    BackChannel,
    /// <summary>The receiver → sender side of <c>xl migrate</c>: protocol text, then back-channel records if any.</summary>
    MigrateReceiver,
}

/// <summary>The kind of item the reader stands on.</summary>
public enum StreamItemKind
{
    /// <summary>Before the first Read.</summary>
    None,
    /// <summary>The 48-byte xl header; its body is the optional data.</summary>
    XlHeader,
    /// <summary>The 16-byte libxl header.</summary>
    LibxlHeader,
    /// <summary>The 24-byte libxc image header.</summary>
    LibxcImageHeader,
    /// <summary>The 16-byte libxc domain header.</summary>
    LibxcDomainHeader,
    /// <summary>A framed record (libxl, libxc or back channel).</summary>
    Record,
    /// <summary>One <c>xl migrate</c> protocol message; its body is the message bytes.</summary>
    ProtocolMessage,
    /// <summary>A legacy image: the reader hands it over whole; its body is the rest of the input.</summary>
    LegacyImage,
    /// <summary>Bytes after the end of the stream that are not a protocol message; the body is the bytes.</summary>
    TrailingData,
}

/// <summary>Which <c>xl migrate</c> message a <see cref="StreamItemKind.ProtocolMessage"/> is.</summary>
public enum MigrateMessage
{
    /// <summary>Not a message.</summary>
    None,
    /// <summary>Receiver: "xl migration receiver ready, send binary domain data.\n".</summary>
    ReceiverBanner,
    /// <summary>Receiver: "domain received, ready to unpause\0".</summary>
    ReceiverReady,
    /// <summary>Sender: "domain is yours, you are cleared to unpause\0".</summary>
    PermissionToGo,
    /// <summary>Receiver: "my copy unpause results are as follows\0" and one result byte.</summary>
    Report,
}

/// <summary>The xl header fields (FORMATS.md 1).</summary>
public readonly record struct XlHeaderFields(bool BigEndian, uint ByteOrder, XlMandatoryFlags MandatoryFlags, uint OptionalFlags, uint OptionalDataLength);

/// <summary>The libxl header fields (FORMATS.md 2.1).</summary>
public readonly record struct LibxlHeaderFields(ulong Ident, uint Version, LibxlOptions Options);

/// <summary>The libxc image header fields (FORMATS.md 3.1).</summary>
public readonly record struct LibxcImageHeaderFields(ulong Marker, uint Id, uint Version, ushort Options, ushort Reserved1, uint Reserved2)
{
    /// <summary>Whether the endianness bit says big-endian.</summary>
    public bool BigEndian => (Options & (ushort)LibxcImageOptions.BigEndian) != 0;
}

/// <summary>The libxc domain header fields (FORMATS.md 3.2).</summary>
public readonly record struct LibxcDomainHeaderFields(DomainType Type, ushort PageShift, ushort Reserved, uint XenMajor, uint XenMinor);

/// <summary>How the stream ended.</summary>
public enum StreamEnding
{
    /// <summary>Still reading.</summary>
    None,
    /// <summary>The outermost layer's END record was read.</summary>
    Complete,
    /// <summary>A checkpointed stream stopped on a record boundary (failover).</summary>
    Failover,
    /// <summary>The input ended on a record boundary without END in a plain stream.</summary>
    MissingEnd,
    /// <summary>A legacy image or back channel ran to the end of the input.</summary>
    EndOfInput,
}
