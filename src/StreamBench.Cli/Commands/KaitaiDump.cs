using Kaitai;
using StreamBench.Formats.KaitaiView;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary>
/// <c>dump --kaitai</c>: the generated parser's whole tree. The upstream xl, libxl and libxc layers stream
/// (<see cref="KaitaiStreamingDump"/>: one record at a time through a 1 MiB window, from a file or a pipe); legacy images
/// and the post-copy RFC dialect are parsed whole, in memory, up to a cap.
/// </summary>
internal static class KaitaiDump
{
    public static int Run(string path, XenStreamReaderOptions options, TextWriter output, int maxItems)
    {
        using var input = path == "-" ? StandardInput.Open() : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        var io = KaitaiStream.Windowed(input);
        var format = options.Format;
        if (format == OuterFormat.Auto)
        {
            format = XenStreamReader.DetectFormat(io.Peek(ContainerWire.DetectionBytes));
        }
        try
        {
            if (KaitaiStreamingDump.CanStream(format, options.Dialect))
            {
                KaitaiStreamingDump.Print(io, format, output, Math.Max(maxItems, 1));
                return ExitCodes.Ok;
            }
            var bytes = ReadCapped(io, KaitaiParsers.MaxInput);
            var tree = KaitaiParsers.Parse(bytes, format, options.Dialect);
            KaitaiTreePrinter.Print(tree, output, Math.Max(maxItems, 1));
            return ExitCodes.Ok;
        }
        catch (Formats.StreamFormatException e)
        {
            Console.Error.WriteLine($"dump --kaitai: the generated parser rejected the input at {e.Message}");
            return ExitCodes.InvalidStream;
        }
        catch (Exception e) when (e is EndOfStreamException or KaitaiStructError or ArgumentOutOfRangeException or InvalidDataException)
        {
            Console.Error.WriteLine($"dump --kaitai: the generated parser rejected the input: {e.Message}");
            return ExitCodes.InvalidStream;
        }
    }

    /// <summary>The eager path: the whole input in memory (legacy, post-copy RFC).</summary>
    private static byte[] ReadCapped(KaitaiStream io, int cap)
    {
        using var ms = new MemoryStream();
        while (true)
        {
            var chunk = io.Peek(1 << 16);
            if (chunk.IsEmpty)
            {
                return ms.ToArray();
            }
            if (ms.Length + chunk.Length > cap)
            {
                throw new ArgumentException($"--kaitai parses legacy images and post-copy RFC streams whole, in memory, and stops at {cap >> 20} MiB; dump it without --kaitai");
            }
            ms.Write(chunk);
            io.Seek(io.Pos + chunk.Length);
        }
    }
}
