namespace StreamBench.Formats.Wire;

/// <summary>The xl save-file header (tools/xl/xl.h <c>struct save_file_header</c>; FORMATS.md 1).</summary>
public static class XlWire
{
    /// <summary>32 bytes, with an embedded NUL: <c>"Xen saved domain, xl format\n \0 \r"</c>.</summary>
    public static ReadOnlySpan<byte> Magic => "Xen saved domain, xl format\n \0 \r"u8;

    /// <summary>Length of <see cref="Magic"/>.</summary>
    public const int MagicSize = 32;

    /// <summary>magic + byteorder + mandatory_flags + optional_flags + optional_data_len.</summary>
    public const int HeaderSize = 48;

    /// <summary>Written in the domain's native byte order; reading it back tells the order.</summary>
    public const uint ByteOrderMarker = 0x01020304u;

    /// <summary>Offsets of the fixed fields.</summary>
    public const int ByteOrderOffset = 32, MandatoryFlagsOffset = 36, OptionalFlagsOffset = 40, OptionalDataLengthOffset = 44;
}

/// <summary>xl header mandatory_flags bits. Unknown bits make xl refuse the restore.</summary>
[Flags]
public enum XlMandatoryFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,
    /// <summary>bit0 (XL_MANDATORY_FLAG_JSON): the config data is JSON rather than xl.cfg text.</summary>
    Json = 1u << 0,
    /// <summary>bit1 (XL_MANDATORY_FLAG_STREAMv2): a libxl v2 stream follows; clear means legacy.</summary>
    StreamV2 = 1u << 1,
    /// <summary>Every bit xl 4.17 knows.</summary>
    Known = Json | StreamV2,
}

/// <summary>
/// The text the two ends of <c>xl migrate</c> exchange around the binary stream (tools/xl/xl.h;
/// FORMATS.md 14). The banner goes without its NUL; the others are sent with <c>sizeof</c>, NUL included.
/// </summary>
public static class XlMigrateProtocol
{
    /// <summary>Receiver → sender, first: the banner (no NUL).</summary>
    public static ReadOnlySpan<byte> ReceiverBanner => "xl migration receiver ready, send binary domain data.\n"u8;

    /// <summary>Receiver → sender, once the stream is in: "domain received, ready to unpause\0".</summary>
    public static ReadOnlySpan<byte> ReceiverReady => "domain received, ready to unpause\0"u8;

    /// <summary>Sender → receiver, after the stream: "domain is yours, you are cleared to unpause\0".</summary>
    public static ReadOnlySpan<byte> PermissionToGo => "domain is yours, you are cleared to unpause\0"u8;

    /// <summary>Receiver → sender, last: "my copy unpause results are as follows\0" then one result byte (0 = success).</summary>
    public static ReadOnlySpan<byte> Report => "my copy unpause results are as follows\0"u8;
}
