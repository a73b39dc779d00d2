using System.Globalization;

namespace StreamBench.Report;

/// <summary>One afl-fuzz instance of a campaign (main, secN) with its plot points (thinned).</summary>
public sealed record FuzzInstance(string Name, IReadOnlyList<(long Seconds, long Execs, long Edges, long Corpus, long Crashes, long Hangs)> Points,
    IReadOnlyDictionary<string, string> Stats, int CrashFiles, int HangFiles);

/// <summary>One triage bucket (<c>triage/summary.tsv</c> row, or a bucket folder's <c>replay.txt</c>).</summary>
public sealed record TriageRow(IReadOnlyDictionary<string, string> Cells);

/// <summary>One campaign: a target's afl-fuzz sync folder.</summary>
public sealed record FuzzCampaign(string Target, string Path, IReadOnlyList<FuzzInstance> Instances, IReadOnlyList<string> TriageColumns,
    IReadOnlyList<TriageRow> Triage, string? Result, IReadOnlyList<string> Unreproduced);

/// <summary>
/// Reads afl-fuzz campaign folders (docs/FUZZING.md): a sync folder holds one folder per instance with
/// <c>fuzzer_stats</c> and <c>plot_data</c>, <c>crashes/</c>, <c>hangs/</c>; triage writes <c>triage/summary.tsv</c>;
/// <c>campaign.sh</c> writes <c>result</c>. A folder of such folders gives one campaign per target.
/// </summary>
public static class CampaignAnalyzer
{
    private const int MaxPoints = 300;
    private const int MaxTriageRows = 500;

    /// <summary>The campaigns under <paramref name="path"/> (itself, or its sub-folders).</summary>
    public static IReadOnlyList<FuzzCampaign> Analyze(string path)
    {
        if (!Directory.Exists(path))
        {
            throw new DirectoryNotFoundException($"no such folder: {path}");
        }
        if (IsCampaign(path))
        {
            return [Read(path)];
        }
        var list = Directory.EnumerateDirectories(path).Order(StringComparer.Ordinal).Where(IsCampaign).Select(Read).ToList();
        if (list.Count == 0)
        {
            throw new IOException($"{path}: no afl-fuzz instance folders (with fuzzer_stats or plot_data) here or one level below");
        }
        return list;
    }

    private static bool IsCampaign(string dir) => Directory.EnumerateDirectories(dir)
        .Any(d => File.Exists(System.IO.Path.Combine(d, "fuzzer_stats")) || File.Exists(System.IO.Path.Combine(d, "plot_data")));

    private static FuzzCampaign Read(string dir)
    {
        var instances = Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal)
            .Where(d => File.Exists(System.IO.Path.Combine(d, "fuzzer_stats")) || File.Exists(System.IO.Path.Combine(d, "plot_data")))
            .Select(ReadInstance).ToList();
        var columns = new List<string>();
        var rows = new List<TriageRow>();
        var summary = System.IO.Path.Combine(dir, "triage", "summary.tsv");
        if (File.Exists(summary))
        {
            var lines = File.ReadLines(summary).Where(l => l.Length > 0).Take(MaxTriageRows + 1).ToList();
            if (lines.Count > 0)
            {
                columns.AddRange(lines[0].TrimStart('#').Split('\t'));
                foreach (var line in lines.Skip(1))
                {
                    var cells = line.Split('\t');
                    var d = new Dictionary<string, string>(StringComparer.Ordinal);
                    for (var i = 0; i < columns.Count && i < cells.Length; i++)
                    {
                        d[columns[i]] = cells[i];
                    }
                    rows.Add(new TriageRow(d));
                }
            }
        }
        var resultFile = System.IO.Path.Combine(dir, "result");
        var unreproduced = System.IO.Path.Combine(dir, "triage", "unreproduced.txt");
        return new FuzzCampaign(System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(dir)), dir, instances, columns, rows,
            File.Exists(resultFile) ? File.ReadAllText(resultFile).Trim() : null,
            File.Exists(unreproduced) ? [.. File.ReadLines(unreproduced).Where(l => l.Length > 0).Take(100)] : []);
    }

    private static FuzzInstance ReadInstance(string dir)
    {
        var stats = new Dictionary<string, string>(StringComparer.Ordinal);
        var statsFile = System.IO.Path.Combine(dir, "fuzzer_stats");
        if (File.Exists(statsFile))
        {
            foreach (var line in File.ReadLines(statsFile))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    stats[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                }
            }
        }
        var points = new List<(long, long, long, long, long, long)>();
        var plot = System.IO.Path.Combine(dir, "plot_data");
        if (File.Exists(plot))
        {
            string[]? header = null;
            foreach (var line in File.ReadLines(plot))
            {
                if (line.StartsWith('#'))
                {
                    header = [.. line.TrimStart('#').Split(',').Select(h => h.Trim())];
                    continue;
                }
                if (header is null || line.Length == 0)
                {
                    continue;
                }
                var cells = line.Split(',');
                long Col(params string[] names)
                {
                    foreach (var n in names)
                    {
                        var i = Array.IndexOf(header, n);
                        if (i >= 0 && i < cells.Length && double.TryParse(cells[i].Trim().TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                        {
                            return (long)v;
                        }
                    }
                    return 0;
                }
                points.Add((Col("relative_time", "unix_time"), Col("total_execs"), Col("edges_found"), Col("corpus_count", "paths_total"),
                    Col("saved_crashes", "unique_crashes"), Col("saved_hangs", "unique_hangs")));
            }
            if (points.Count > 0 && header is not null && Array.IndexOf(header, "relative_time") < 0)
            {
                var t0 = points[0].Item1;
                points = [.. points.Select(p => (p.Item1 - t0, p.Item2, p.Item3, p.Item4, p.Item5, p.Item6))];
            }
        }
        if (points.Count > MaxPoints)
        {
            var thinned = new List<(long, long, long, long, long, long)>(MaxPoints);
            for (var i = 0; i < MaxPoints; i++)
            {
                thinned.Add(points[(int)((long)i * (points.Count - 1) / (MaxPoints - 1))]);
            }
            points = thinned;
        }
        static int Count(string d) => Directory.Exists(d) ? Directory.EnumerateFiles(d, "id:*").Count() : 0;
        return new FuzzInstance(System.IO.Path.GetFileName(dir), points, stats, Count(System.IO.Path.Combine(dir, "crashes")), Count(System.IO.Path.Combine(dir, "hangs")));
    }
}
