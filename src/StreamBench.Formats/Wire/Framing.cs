namespace StreamBench.Formats.Wire;

/// <summary>
/// Record framing shared by the libxl and libxc layers (FORMATS.md 2.2):
/// <c>u32 type; u32 body_length; u8 body[body_length]; u8 pad[(8 - body_length % 8) % 8]</c>.
/// </summary>
public static class Framing
{
    /// <summary>Size of a record header (type + length).</summary>
    public const int RecordHeaderSize = 8;

    /// <summary>Every record starts on this boundary; bodies are zero-padded up to it.</summary>
    public const int Alignment = 8;

    /// <summary>Bit 31 of a record type marks an optional record (FORMATS.md 2.2, 4).</summary>
    public const uint OptionalBit = 0x8000_0000u;

    /// <summary>Number of zero bytes that follow a body of <paramref name="bodyLength"/> bytes.</summary>
    public static int PaddingFor(uint bodyLength) => (int)((Alignment - (bodyLength % Alignment)) % Alignment);

    /// <summary>The body length rounded up to the alignment, as the C code's ROUNDUP(len, 8).</summary>
    public static long PaddedLength(uint bodyLength) => bodyLength + (long)PaddingFor(bodyLength);

    /// <summary>Whether <paramref name="type"/> is in the optional range (bit 31 set).</summary>
    public static bool IsOptional(uint type) => (type & OptionalBit) != 0;
}
