using System.Globalization;
using StreamBench.Capture.Format;
using StreamBench.Capture.Input;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;

namespace StreamBench.Report;

/// <summary>How to read the inputs of a report.</summary>
public sealed record ReportOptions
{
    /// <summary>Reader options for plain streams (captures choose their own per direction).</summary>
    public XenStreamReaderOptions Reader { get; init; } = new();

    /// <summary>Legacy images: word size and guest type.</summary>
    public LegacyStreamReaderOptions Legacy { get; init; } = new();

    /// <summary>Analysis limits.</summary>
    public AnalyzerOptions Analyzer { get; init; } = new();

    /// <summary>Standard input is spooled to a temporary file (two passes read it); at most this many bytes.</summary>
    public long MaxSpoolBytes { get; init; } = 16L << 30;

    /// <summary>Title override.</summary>
    public string? Title { get; init; }
}

/// <summary>
/// Opens report inputs: a stream file (xl, libxl, libxc, back channel, <c>xl migrate</c> receiver side, legacy pre-4.6,
/// converted on the fly as libxl does), a zstd-compressed stream (decompressed with the <c>zstd</c> command into a
/// temporary file), standard input ("-", spooled), or a capture (both directions).
/// </summary>
public static class ReportInputs
{
    /// <summary>
    /// Analyses a stream through the input seam (<see cref="StreamInputs"/>): a stream file of any layer, a .zst, a
    /// capture's sender direction, a legacy image (converted on the fly), or "-" (spooled: two readers run in parallel).
    /// </summary>
    public static StreamAnalysis AnalyzeStream(string path, ReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        using var spooled = path == "-" ? SpoolStandardInput(options.MaxSpoolBytes) : null;
        var file = spooled?.Path ?? path;
        var inputOptions = new StreamInputOptions { Format = options.Reader.Format };
        var vopts = new VerifierOptions { Profile = VerificationProfile.Strict, Reader = options.Reader };
        using var forVerify = StreamInputs.Open(file, inputOptions);
        using var forMap = StreamInputs.Open(file, inputOptions);
        using var v3 = StreamInputs.AsV3(forMap, options.Legacy);
        using var reader = new XenStreamReader(v3.Source, v3.ReaderOptions(options.Reader));
        var notes = new List<string>();
        if (spooled is not null)
        {
            notes.Add("read from standard input");
        }
        if (forMap.Provenance is { } p)
        {
            notes.Add(p);
        }
        if (forMap.CaptureWarning is { } w)
        {
            notes.Add(w);
        }
        if (v3.Converted)
        {
            notes.Add("a legacy (pre-4.6) image, converted on the fly as libxl does; the map's offsets are in the converted libxl stream");
        }
        return StreamAnalyzer.Analyze(reader, () => StreamInputs.Verify(forVerify, options.Legacy, vopts),
            spooled is null ? forMap.Description : "standard input", notes.Count == 0 ? null : string.Join("; ", notes), options.Analyzer);
    }

    internal static LocalFile SpoolStandardInput(long max)
    {
        var tmp = Path.Combine(Path.GetTempPath(), "streambench-report-" + Guid.NewGuid().ToString("n") + ".bin");
        var file = new LocalFile(tmp, temporary: true);
        try
        {
            using var stdin = StandardInput.Open();
            using var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write);
            Spool(stdin, fs, max);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static void Spool(Stream from, Stream to, long max)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = from.Read(buffer)) > 0)
        {
            total += n;
            if (total > max)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture, $"standard input is longer than {max} bytes (the report spools it to a temporary file)"));
            }
            to.Write(buffer, 0, n);
        }
    }

    /// <summary>Whether <paramref name="path"/> is a capture file.</summary>
    public static bool IsCapture(string path) => path != "-" && File.Exists(path) && CaptureFile.IsCapture(path);

    /// <summary>
    /// Opens one input of <c>streambench diff</c> through the input seam: "-" (read once, as it comes), a .zst
    /// (decompressed while read), a capture (the chosen direction), a legacy image (converted to v3 on the fly) or a
    /// stream file. Dispose the result.
    /// </summary>
    public static DiffSource OpenForDiff(string path, CaptureDirection direction, LegacyStreamReaderOptions? legacy = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var opened = StreamInputs.Open(path, new StreamInputOptions { Direction = direction });
        if (!opened.IsLegacy)
        {
            return new DiffSource(opened.Source, opened.Description, opened.Format, opened);
        }
        // A legacy image is compared as the v3 stream it converts to (on the fly, as libxl's helper does), so its
        // records, vCPU state and pages are compared field by field like any other stream's.
        V3Input v3;
        try
        {
            v3 = StreamInputs.AsV3(opened, legacy);
        }
        catch
        {
            opened.Dispose();
            throw;
        }
        return new DiffSource(v3.Source, opened.Description + " (legacy image, converted to v3)", OuterFormat.Libxl, new Owners(v3, opened));
    }

    private sealed class Owners(IDisposable first, IDisposable second) : IDisposable
    {
        public void Dispose()
        {
            first.Dispose();
            second.Dispose();
        }
    }
}

/// <summary>An opened diff input.</summary>
public sealed class DiffSource : IDisposable
{
    private readonly IDisposable? _owner;

    internal DiffSource(ByteSource source, string description, OuterFormat format, IDisposable? owner)
    {
        Source = source;
        Description = description;
        Format = format;
        _owner = owner;
    }

    /// <summary>The bytes.</summary>
    public ByteSource Source { get; }

    /// <summary>The detected outer layer.</summary>
    public OuterFormat Format { get; }

    /// <summary>For the output.</summary>
    public string Description { get; }

    /// <inheritdoc />
    public void Dispose() => _owner?.Dispose();
}

/// <summary>A local file, deleted on dispose when temporary.</summary>
internal sealed class LocalFile(string path, bool temporary) : IDisposable
{
    public string Path { get; } = path;

    public void Dispose()
    {
        if (temporary)
        {
            try
            {
                File.Delete(Path);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }
}
