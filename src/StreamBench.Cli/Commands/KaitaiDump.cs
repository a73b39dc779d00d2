using StreamBench.Formats.KaitaiView;
using StreamBench.Formats.Streams;

namespace StreamBench.Cli.Commands;

/// <summary><c>dump --kaitai</c>: the generated parser's whole tree (the input is read into memory, up to a cap).</summary>
internal static class KaitaiDump
{
    public static int Run(string path, XenStreamReaderOptions options, TextWriter output, int maxItems)
    {
        byte[] bytes;
        using (var input = path == "-" ? StandardInput.Open() : File.OpenRead(path))
        {
            bytes = ReadCapped(input, KaitaiParsers.MaxInput);
        }
        try
        {
            var tree = KaitaiParsers.Parse(bytes, options.Format, options.Dialect);
            KaitaiTreePrinter.Print(tree, output, Math.Max(maxItems, 1));
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is EndOfStreamException or Kaitai.KaitaiStructError or ArgumentOutOfRangeException or InvalidDataException)
        {
            Console.Error.WriteLine($"dump --kaitai: the generated parser rejected the input: {e.Message}");
            return ExitCodes.InvalidStream;
        }
    }

    private static byte[] ReadCapped(Stream input, int cap)
    {
        using var ms = new MemoryStream();
        var buffer = new byte[1 << 16];
        int n;
        while ((n = input.Read(buffer)) > 0)
        {
            if (ms.Length + n > cap)
            {
                throw new ArgumentException($"--kaitai reads the whole stream into memory and stops at {cap >> 20} MiB; dump it without --kaitai");
            }
            ms.Write(buffer, 0, n);
        }
        return ms.ToArray();
    }
}
