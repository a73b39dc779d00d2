namespace StreamBench.Formats.Wire;

/// <summary>
/// Magic numbers of the files that wrap a stream rather than being one: a zstd frame (RFC 8878 3.1.1) and a
/// StreamBench capture file (docs/CAPTURE.md). Detection must never read them as a legacy image.
/// </summary>
public static class ContainerWire
{
    /// <summary>A zstd frame's magic number, 0xFD2FB528 little-endian.</summary>
    public static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xB5, 0x2F, 0xFD];

    /// <summary>The capture file magic: 0x89 "SBCAP" CR LF (docs/CAPTURE.md).</summary>
    public static ReadOnlySpan<byte> CaptureMagic => [0x89, (byte)'S', (byte)'B', (byte)'C', (byte)'A', (byte)'P', 0x0D, 0x0A];

    /// <summary>The most bytes any detection needs to look at.</summary>
    public const int DetectionBytes = XlWire.MagicSize;
}
