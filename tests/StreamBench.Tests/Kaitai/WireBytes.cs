using System.Buffers.Binary;
using System.Text;
using StreamBench.Formats.Wire;

namespace StreamBench.Tests.Kaitai;

/// <summary>Builds test byte arrays field by field (little-endian unless the method says Be).</summary>
internal sealed class WireBytes
{
    private readonly MemoryStream _buffer = new();

    public int Length => (int)_buffer.Length;

    public WireBytes U8(byte value)
    {
        _buffer.WriteByte(value);
        return this;
    }

    public WireBytes U16(ushort value) => Put(2, s => BinaryPrimitives.WriteUInt16LittleEndian(s, value));

    public WireBytes U16Be(ushort value) => Put(2, s => BinaryPrimitives.WriteUInt16BigEndian(s, value));

    public WireBytes U32(uint value) => Put(4, s => BinaryPrimitives.WriteUInt32LittleEndian(s, value));

    public WireBytes S32(int value) => Put(4, s => BinaryPrimitives.WriteInt32LittleEndian(s, value));

    public WireBytes U32Be(uint value) => Put(4, s => BinaryPrimitives.WriteUInt32BigEndian(s, value));

    public WireBytes U64(ulong value) => Put(8, s => BinaryPrimitives.WriteUInt64LittleEndian(s, value));

    public WireBytes U64Be(ulong value) => Put(8, s => BinaryPrimitives.WriteUInt64BigEndian(s, value));

    /// <summary>A toolstack "unsigned long": 4 octets for a 32-bit toolstack, 8 for a 64-bit one.</summary>
    public WireBytes ULong(int toolstackWidth, ulong value) => toolstackWidth == 32 ? U32(checked((uint)value)) : U64(value);

    public WireBytes Raw(ReadOnlySpan<byte> bytes)
    {
        _buffer.Write(bytes);
        return this;
    }

    public WireBytes Ascii(string text) => Raw(Encoding.ASCII.GetBytes(text));

    public WireBytes Fill(byte value, int count)
    {
        for (var i = 0; i < count; i++)
        {
            _buffer.WriteByte(value);
        }

        return this;
    }

    public WireBytes Zeros(int count) => Fill(0, count);

    public byte[] ToArray() => _buffer.ToArray();

    private delegate void SpanWriter(Span<byte> span);

    private WireBytes Put(int size, SpanWriter write)
    {
        Span<byte> tmp = stackalloc byte[8];
        write(tmp[..size]);
        _buffer.Write(tmp[..size]);
        return this;
    }
}

/// <summary>Stream pieces built from the wire constants (FORMATS.md 1-4).</summary>
internal static class StreamPieces
{
    /// <summary>A record: u32 type, u32 length, body, zero padding to 8 (FORMATS.md 2.2).</summary>
    public static byte[] Record(uint type, byte[] body, byte padByte = 0) => new WireBytes()
        .U32(type)
        .U32((uint)body.Length)
        .Raw(body)
        .Fill(padByte, Framing.PaddingFor((uint)body.Length))
        .ToArray();

    public static byte[] Record(LibxcRecordType type, byte[] body) => Record((uint)type, body);

    public static byte[] Record(LibxlRecordType type, byte[] body) => Record((uint)type, body);

    public static byte[] Empty(LibxcRecordType type) => Record((uint)type, []);

    public static byte[] Empty(LibxlRecordType type) => Record((uint)type, []);

    /// <summary>The 24-octet big-endian libxc image header.</summary>
    public static byte[] ImageHeader(uint version = LibxcWire.MaxVersion, ushort options = 0) => new WireBytes()
        .U64Be(LibxcWire.Marker)
        .U32Be(LibxcWire.Id)
        .U32Be(version)
        .U16Be(options)
        .U16Be(0)
        .U32Be(0)
        .ToArray();

    /// <summary>The 16-octet libxc domain header.</summary>
    public static byte[] DomainHeader(DomainType type, uint xenMajor = 4, uint xenMinor = 17) => new WireBytes()
        .U32((uint)type)
        .U16(LibxcWire.PageShift)
        .U16(0)
        .U32(xenMajor)
        .U32(xenMinor)
        .ToArray();

    /// <summary>The 16-octet big-endian libxl header.</summary>
    public static byte[] LibxlHeader(LibxlOptions options = LibxlOptions.None, uint version = LibxlWire.Version) => new WireBytes()
        .U64Be(LibxlWire.Ident)
        .U32Be(version)
        .U32Be((uint)options)
        .ToArray();

    /// <summary>The xl save-file header and optional data: u32 config size, then the config.</summary>
    public static byte[] XlHeader(XlMandatoryFlags flags, byte[] config)
    {
        var optional = new WireBytes().U32((uint)config.Length).Raw(config).ToArray();
        return new WireBytes()
            .Raw(XlWire.Magic)
            .U32(XlWire.ByteOrderMarker)
            .U32((uint)flags)
            .U32(0)
            .U32((uint)optional.Length)
            .Raw(optional)
            .ToArray();
    }

    /// <summary>A PAGE_DATA pfn word (FORMATS.md 4.2).</summary>
    public static ulong Word(ulong pfn, PageType type) => PageWord.Make(pfn, type);

    /// <summary>A PAGE_DATA (or POSTCOPY_PAGE_DATA) body; pages get the fill bytes in <paramref name="pageFill"/>.</summary>
    public static byte[] PageDataBody(ulong[] words, byte[] pageFill)
    {
        var b = new WireBytes().U32((uint)words.Length).U32(0);
        foreach (var w in words)
        {
            b.U64(w);
        }

        foreach (var fill in pageFill)
        {
            b.Fill(fill, LibxcWire.PageSize);
        }

        return b.ToArray();
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
