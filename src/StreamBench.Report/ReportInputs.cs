using System.Diagnostics;
using System.Globalization;
using StreamBench.Capture.Format;
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
    /// <summary>Analyses a stream file (or "-", or .zst).</summary>
    public static StreamAnalysis AnalyzeStream(string path, ReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        using var local = Materialize(path, options, out var note);
        return AnalyzeFile(local.Path, path, options, note);
    }

    /// <summary>Analyses a plain stream file at <paramref name="file"/>, described as <paramref name="description"/>.</summary>
    public static StreamAnalysis AnalyzeFile(string file, string description, ReportOptions options, string? note = null, CaptureFile? capture = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var vopts = new VerifierOptions { Profile = VerificationProfile.Strict, Reader = options.Reader };
        if (capture is not null)
        {
            VerifyResult cr;
            using (var s = capture.OpenDirection(CaptureDirection.SenderToReceiver))
            {
                cr = Verifier.Verify(ByteSource.FromStream(s), vopts);
            }
            using var cs = capture.OpenDirection(CaptureDirection.SenderToReceiver);
            using var creader = new XenStreamReader(ByteSource.FromStream(cs), options.Reader, ownsSource: true);
            return StreamAnalyzer.Analyze(creader, cr, description, note, options.Analyzer);
        }
        bool legacy;
        VerifyResult result;
        using (var source = ByteSource.Open(file))
        {
            legacy = options.Reader.Format == OuterFormat.Legacy
                || (options.Reader.Format == OuterFormat.Auto && XenStreamReader.DetectFormat(source) == OuterFormat.Legacy);
            result = legacy ? LegacyVerification.Verify(source, options.Legacy, vopts) : Verifier.Verify(source, vopts);
        }
        if (!legacy)
        {
            using var reader = new XenStreamReader(ByteSource.Open(file), options.Reader, ownsSource: true);
            return StreamAnalyzer.Analyze(reader, result, description, note, options.Analyzer);
        }
        using var legacySource = ByteSource.Open(file);
        using var conversion = LegacyOnTheFly.Start(legacySource, options.Legacy);
        using var converted = new XenStreamReader(ByteSource.FromStream(conversion.Converted), options.Reader with { Format = OuterFormat.Auto }, ownsSource: true);
        var legacyNote = "a legacy (pre-4.6) image, converted on the fly as libxl does; offsets below are in the converted libxl stream";
        return StreamAnalyzer.Analyze(converted, result, description, note is null ? legacyNote : note + "; " + legacyNote, options.Analyzer);
    }

    /// <summary>A local regular file for <paramref name="path"/>: the file itself, or a temporary copy (stdin, .zst).</summary>
    internal static LocalFile Materialize(string path, ReportOptions options, out string? note)
    {
        note = null;
        if (path == "-")
        {
            var tmp = Path.Combine(Path.GetTempPath(), "streambench-report-" + Guid.NewGuid().ToString("n") + ".bin");
            using (var stdin = StreamBench.Formats.Streams.StandardInput.Open())
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                Spool(stdin, fs, options.MaxSpoolBytes);
            }
            note = "read from standard input";
            return new LocalFile(tmp, temporary: true);
        }
        if (path.EndsWith(".zst", StringComparison.Ordinal))
        {
            var tmp = Path.Combine(Path.GetTempPath(), "streambench-report-" + Guid.NewGuid().ToString("n") + ".bin");
            Unzstd(path, tmp);
            note = "decompressed from zstd";
            return new LocalFile(tmp, temporary: true);
        }
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"no such file: {path}", path);
        }
        return new LocalFile(path, temporary: false);
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

    private static void Unzstd(string path, string target)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"no such file: {path}", path);
        }
        var psi = new ProcessStartInfo("zstd", ["-d", "-q", "-f", "-o", target, path]) { RedirectStandardError = true, UseShellExecute = false };
        Process? process;
        try
        {
            process = Process.Start(psi);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new IOException($"{path}: the zstd command is needed to read .zst inputs ({e.Message}); install zstd or decompress it first", e);
        }
        using (process)
        {
            if (process is null)
            {
                throw new IOException("zstd could not be started");
            }
            var err = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                File.Delete(target);
                throw new IOException($"zstd -d {path} failed: {err.Trim()}");
            }
        }
    }

    /// <summary>Whether <paramref name="path"/> is a capture file.</summary>
    public static bool IsCapture(string path) => path != "-" && File.Exists(path) && CaptureFile.IsCapture(path);

    /// <summary>
    /// Opens one input of <c>streambench diff</c>: "-" (read once, as it comes), a .zst (decompressed to a temporary
    /// file), a capture (the chosen direction) or a stream file. Dispose the result.
    /// </summary>
    public static DiffSource OpenForDiff(string path, CaptureDirection direction, Stream? standardInput = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path == "-")
        {
            return new DiffSource(standardInput ?? StreamBench.Formats.Streams.StandardInput.Open(), "standard input", null);
        }
        if (IsCapture(path))
        {
            var capture = CaptureFile.Open(path);
            try
            {
                return new DiffSource(capture.OpenDirection(direction), $"{path} ({CaptureDirections.Name(direction)})", capture);
            }
            catch
            {
                capture.Dispose();
                throw;
            }
        }
        var local = Materialize(path, new ReportOptions(), out _);
        try
        {
            return new DiffSource(new FileStream(local.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16), path, local);
        }
        catch
        {
            local.Dispose();
            throw;
        }
    }
}

/// <summary>An opened diff input.</summary>
public sealed class DiffSource : IDisposable
{
    private readonly IDisposable? _owner;

    internal DiffSource(Stream stream, string description, IDisposable? owner)
    {
        Stream = stream;
        Description = description;
        _owner = owner;
    }

    /// <summary>The bytes.</summary>
    public Stream Stream { get; }

    /// <summary>For the output.</summary>
    public string Description { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        Stream.Dispose();
        _owner?.Dispose();
    }
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
