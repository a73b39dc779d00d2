using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Fuzz.Targets;

/// <summary>
/// The <c>legacy-converter</c> target: <see cref="LegacyConverter"/> to a bare libxc stream (Xen's defaults) and to a
/// checkpointed libxl stream; whatever it writes must read to a clean end with <see cref="XenStreamReader"/> (a
/// conversion that succeeds but writes a stream our own reader cannot frame is a bug, reported as a mismatch). A
/// failover conversion (the input stops inside a Remus checkpoint) must end on a record boundary too.
/// </summary>
internal static class LegacyConverterTarget
{
    [ThreadStatic]
    private static MemoryStream? output;

    private static readonly LegacyConverterOptions Libxc = new();
    private static readonly LegacyConverterOptions Libxl = new() { Format = LegacyOutputFormat.Libxl, Checkpoints = true };

    public static void Run(ReadOnlyMemory<byte> data)
    {
        var xl = data.Length >= XlWire.MagicSize && data.Span[..XlWire.MagicSize].SequenceEqual(XlWire.Magic);
        // Like convert-legacy-stream, the converter reads and rewrites the xl header's fields as little-endian whatever
        // its byteorder word says; the reader honours a big-endian header, so it cannot judge that output.
        var bigEndianXl = xl && data.Length >= XlWire.HeaderSize
            && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data.Span[XlWire.ByteOrderOffset..])
                == System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(XlWire.ByteOrderMarker);
        StreamFormatException? first = null;
        foreach (var options in (ReadOnlySpan<LegacyConverterOptions>)[Libxc, Libxl])
        {
            try
            {
                Convert(data, xl ? options with { XlHeader = true } : options, check: !bigEndianXl);
            }
            catch (StreamFormatException e)
            {
                first ??= e; // try the other output format too, then report the first refusal
            }
        }
        if (first is not null)
        {
            throw first;
        }
    }

    private static void Convert(ReadOnlyMemory<byte> data, LegacyConverterOptions options, bool check)
    {
        output ??= new MemoryStream();
        output.SetLength(0);
        LegacyConversionResult result;
        using (var source = ByteSource.FromMemory(data))
        {
            result = LegacyConverter.Convert(source, output, options);
        }
        if (!check)
        {
            return;
        }
        var written = new ReadOnlyMemory<byte>(output.GetBuffer(), 0, (int)output.Length);
        using var reader = XenStreamReader.FromMemory(written);
        try
        {
            while (reader.Read())
            {
                reader.FinishItem();
            }
        }
        catch (StreamFormatException e)
        {
            // Every conversion, a failover included (the record the input stops in is not written), must frame cleanly.
            throw new DifferentialMismatchException(
                $"the converter ({options.Format}{(options.Checkpoints ? ", checkpoints" : "")}) wrote {written.Length} bytes the reader cannot frame: {e.Message}", e);
        }
        if (!result.Failover && reader.Ending is not (StreamEnding.Complete or StreamEnding.Failover))
        {
            throw new DifferentialMismatchException($"the converter ({options.Format}) wrote a stream that ends with {reader.Ending}");
        }
    }
}
