using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Legacy;

/// <summary>
/// The legacy libxl "toolstack" blob carried by XC_SAVE_ID_TOOLSTACK (version 1, QEMU physmap entries; FORMATS.md 6.3)
/// and its translation to EMULATOR_XENSTORE_DATA key/value pairs, as convert-legacy-stream makes it:
/// <c>physmap/&lt;phys&gt;/start_addr</c>, <c>/size</c> (lower-case hex, no padding) and <c>/name</c>, each key and value
/// NUL-terminated. On 64-bit toolstacks 4 bytes of struct padding follow each name's NUL; they are dropped.
/// </summary>
public static class LegacyToolstackBlob
{
    /// <summary>One physmap entry.</summary>
    public readonly record struct PhysmapEntry(ulong PhysOffset, ulong StartAddr, ulong Size, byte[] Name);

    /// <summary>
    /// Parses <paramref name="blob"/> and appends its key/value pairs to <paramref name="output"/>. Returns the number of
    /// entries. Errors carry <paramref name="blobOffset"/> plus the position of the bad field.
    /// </summary>
    public static int AppendXenstoreData(ReadOnlySpan<byte> blob, LegacyWidth width, Stream output, long blobOffset, long itemIndex = -1, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var name = LegacyLayout.ChunkName((int)LegacyChunkId.Toolstack);
        StreamFormatException Fail(string problem, int at, string field) =>
            new(problem, blobOffset + at, ErrorLayer.Legacy, itemIndex, name, field);
        if (blob.Length < LegacyLayout.ToolstackBlobHeaderSize)
        {
            throw Fail("Overly short libxl toolstack data", 0, "version/count");
        }
        var version = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(blob[4..]);
        if (version != LegacyWire.ToolstackBlobVersion)
        {
            throw Fail(string.Create(CultureInfo.InvariantCulture, $"Cannot decode libxl toolstack version {version}"), 0, "version");
        }
        log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    Version {version}, count {count}"));
        var pos = LegacyLayout.ToolstackBlobHeaderSize;
        for (var i = 0u; i < count; i++)
        {
            if (blob.Length - pos < LegacyLayout.PhysmapEntryHeaderSize)
            {
                throw Fail("Remaining data too short for physmap header", pos, "physmap");
            }
            var e = blob[pos..];
            var phys = BinaryPrimitives.ReadUInt64LittleEndian(e);
            var start = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]);
            var size = BinaryPrimitives.ReadUInt64LittleEndian(e[16..]);
            var nameLength = (long)BinaryPrimitives.ReadUInt32LittleEndian(e[24..]);
            if (nameLength == 0)
            {
                throw Fail("No physmap info name", pos + 24, "namelen");
            }
            pos += LegacyLayout.PhysmapEntryHeaderSize;
            var stored = nameLength + (width == LegacyWidth.Bits64 ? LegacyLayout.PhysmapNamePadding64 : 0);
            if (blob.Length - pos < stored)
            {
                throw Fail("Remaining data too short for physmap name", pos, "name");
            }
            var entryName = blob.Slice(pos, (int)nameLength);
            pos += (int)stored;
            if (entryName[^1] != 0)
            {
                throw Fail("physmap name not NUL terminated", pos - (int)stored, "name");
            }
            var root = "physmap/" + phys.ToString("x", CultureInfo.InvariantCulture);
            Put(output, root + "/start_addr");
            Put(output, start.ToString("x", CultureInfo.InvariantCulture));
            Put(output, root + "/size");
            Put(output, size.ToString("x", CultureInfo.InvariantCulture));
            Put(output, root + "/name");
            output.Write(entryName);
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    '{root}/start_addr' = '{start:x}', '{root}/size' = '{size:x}', '{root}/name' = '{Encoding.Latin1.GetString(entryName[..^1])}'"));
        }
        return (int)count;
    }

    private static void Put(Stream output, string text)
    {
        Span<byte> bytes = stackalloc byte[text.Length + 1];
        Encoding.ASCII.GetBytes(text, bytes);
        bytes[^1] = 0;
        output.Write(bytes);
    }
}
