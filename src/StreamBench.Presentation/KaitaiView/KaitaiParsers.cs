using System.Buffers.Binary;
using Kaitai;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.KaitaiView;

/// <summary>Picks the generated parser for a stream's outer layer and dialect, and runs it over bytes in memory.</summary>
public static class KaitaiParsers
{
    /// <summary>The most bytes <see cref="Parse"/> reads into memory (Kaitai parsers need the whole input).</summary>
    public const int MaxInput = 512 << 20;

    /// <summary>Parses <paramref name="bytes"/> with the generated parser for <paramref name="format"/> (detected when Auto).</summary>
    public static KaitaiStruct Parse(ReadOnlyMemory<byte> bytes, OuterFormat format, StreamDialect dialect)
    {
        if (format == OuterFormat.Auto)
        {
            format = XenStreamReader.DetectFormat(ByteSource.FromMemory(bytes));
        }
        var io = new KaitaiStream(bytes);
        var rfc = dialect == StreamDialect.PostcopyRfc;
        return format switch
        {
            // xl_save_file.ksy embeds the upstream libxl stream; in the RFC dialect the part after the xl header is
            // parsed with postcopy_rfc.ksy instead.
            OuterFormat.Xl when rfc => new PostcopyRfc(new KaitaiStream(bytes[XlPayloadOffset(bytes.Span)..])),
            OuterFormat.Xl => new XlSaveFile(io),
            OuterFormat.Libxl => rfc ? new PostcopyRfc(io) : new LibxlStream(io),
            OuterFormat.Libxc => rfc ? new PostcopyRfc.RfcLibxcStream(io) : new LibxcStream(io),
            OuterFormat.Legacy => ParseLegacy(bytes.Span, io),
            _ => throw new ArgumentException($"no Kaitai description for a {format} input as a whole; dump it without --kaitai"),
        };
    }

    private static int XlPayloadOffset(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < XlWire.HeaderSize)
        {
            throw new EndOfStreamException("the xl header needs 48 bytes");
        }
        var optional = BinaryPrimitives.ReadUInt32LittleEndian(bytes[XlWire.OptionalDataLengthOffset..]);
        return (int)Math.Min(bytes.Length, XlWire.HeaderSize + (long)optional);
    }

    /// <summary>
    /// Legacy images carry neither the toolstack width nor the guest type (FORMATS.md 6): octets 4-7 are zero on a
    /// 64-bit toolstack, ~0 on a 32-bit PV one, a chunk id otherwise (32-bit HVM); a PV image then has the ~0
    /// extended-info marker after p2m_size.
    /// </summary>
    public static (byte Width, bool Pv) GuessLegacyShape(ReadOnlySpan<byte> head)
    {
        if (head.Length < 8)
        {
            return (8, false);
        }
        var high = BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
        if (high == 0)
        {
            var pv = head.Length >= 16 && BinaryPrimitives.ReadUInt64LittleEndian(head[8..]) == LegacyWire.ExtendedInfoMarker64;
            return (8, pv);
        }
        return high == LegacyWire.ExtendedInfoMarker32 ? ((byte)4, true) : ((byte)4, false);
    }

    private static LegacyStream ParseLegacy(ReadOnlySpan<byte> head, KaitaiStream io)
    {
        var (width, pv) = GuessLegacyShape(head);
        return new LegacyStream((byte)(width * 8), pv ? LegacyStream.GuestType.Pv : LegacyStream.GuestType.Hvm, io);
    }
}
