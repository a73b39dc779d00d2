using System.Diagnostics;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Tests.Support;

/// <summary>One stream of corpus/, as its manifest describes it.</summary>
public sealed record CorpusStream(string Name, string Path, OuterFormat Format, StreamDialect Dialect, string What)
{
    /// <summary>Reader options that read this stream as its manifest says.</summary>
    public XenStreamReaderOptions ReaderOptions => new() { Format = Format, Dialect = Dialect };

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>
/// The streams in corpus/ (synthetic, legacy, real captures), read from each folder's MANIFEST.tsv. Compressed real
/// captures (.zst) are decompressed once into a cache folder with the zstd command.
/// </summary>
public static class Corpus
{
    private static readonly Lazy<IReadOnlyList<CorpusStream>> All = new(Load);

    /// <summary>The repository root (the folder holding StreamBench.sln).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Every stream with a manifest line.</summary>
    public static IReadOnlyList<CorpusStream> Streams => All.Value;

    /// <summary>The stream called <paramref name="name"/> ("folder/file").</summary>
    public static CorpusStream Get(string name) => Streams.Single(s => s.Name == name);

    /// <summary>xunit member data: every stream name.</summary>
    public static IEnumerable<object[]> Names(string? folder = null) => Streams
        .Where(s => folder is null || s.Name.StartsWith(folder + "/", StringComparison.Ordinal))
        .Select(s => new object[] { s.Name });

    private static string FindRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir, "StreamBench.sln")))
        {
            dir = System.IO.Path.GetDirectoryName(dir);
        }
        return dir ?? throw new InvalidOperationException("StreamBench.sln not found above " + AppContext.BaseDirectory);
    }

    private static List<CorpusStream> Load()
    {
        var list = new List<CorpusStream>();
        var corpus = System.IO.Path.Combine(Root, "corpus");
        foreach (var manifest in Directory.EnumerateFiles(corpus, "MANIFEST.tsv", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var folder = System.IO.Path.GetDirectoryName(manifest)!;
            var lines = File.ReadAllLines(manifest);
            if (lines.Length == 0)
            {
                continue;
            }
            var header = lines[0].Split('\t');
            int Col(string name) => Array.IndexOf(header, name);
            foreach (var line in lines.Skip(1).Where(l => l.Length > 0 && !l.StartsWith('#')))
            {
                var cells = line.Split('\t');
                string Cell(string name) => Col(name) is var i && i >= 0 && i < cells.Length ? cells[i] : "";
                var file = Cell("file");
                var path = System.IO.Path.Combine(folder, file);
                if (!File.Exists(path))
                {
                    continue;
                }
                var name = System.IO.Path.GetRelativePath(corpus, path).Replace('\\', '/');
                var layer = Cell("layer");
                var format = layer switch
                {
                    "back-channel" => OuterFormat.BackChannel,
                    "legacy" => OuterFormat.Legacy,
                    _ => OuterFormat.Auto,
                };
                var dialect = Cell("dialect") is "postcopy-rfc" ? StreamDialect.PostcopyRfc : StreamDialect.Upstream;
                var what = Cell("what").Length > 0 ? Cell("what") : Cell("notes");
                list.Add(new CorpusStream(name, path.EndsWith(".zst", StringComparison.Ordinal) ? Decompressed(path) : path, format, dialect, what));
            }
        }
        return list;
    }

    private static string Decompressed(string path)
    {
        var cache = System.IO.Path.Combine(Root, ".cache", "corpus");
        Directory.CreateDirectory(cache);
        var target = System.IO.Path.Combine(cache, System.IO.Path.GetFileNameWithoutExtension(path));
        if (File.Exists(target) && File.GetLastWriteTimeUtc(target) >= File.GetLastWriteTimeUtc(path))
        {
            return target;
        }
        var psi = new ProcessStartInfo("zstd", ["-d", "-q", "-f", "-o", target + ".tmp", path]) { RedirectStandardError = true };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("zstd could not be started: install zstd (tools/setup.sh --tests does)");
        var err = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"zstd -d {path} failed: {err}");
        }
        File.Move(target + ".tmp", target, overwrite: true);
        return target;
    }
}
