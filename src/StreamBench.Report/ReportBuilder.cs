using StreamBench.Capture.Format;

namespace StreamBench.Report;

/// <summary>What one report shows.</summary>
public sealed class ReportDocument
{
    /// <summary>The page title.</summary>
    public required string Title { get; init; }

    /// <summary>Streams analysed (one, or two for a diff; a capture's two directions are in <see cref="Capture"/>).</summary>
    public IReadOnlyList<StreamAnalysis> Streams { get; init; } = [];

    /// <summary>The capture, when the input is one.</summary>
    public CaptureAnalysis? Capture { get; init; }

    /// <summary>The semantic diff of two inputs.</summary>
    public SemanticDiffResult? Diff { get; init; }

    /// <summary>Fuzz campaigns.</summary>
    public IReadOnlyList<FuzzCampaign> Campaigns { get; init; } = [];
}

/// <summary>
/// Builds a report from the command line's inputs: a stream (any layer, legacy, .zst, "-"), a capture, a fuzz campaign
/// folder, or two streams (each shown, then their semantic diff).
/// </summary>
public static class ReportBuilder
{
    /// <summary>Builds the report of <paramref name="inputs"/> (one or two).</summary>
    public static ReportDocument Build(IReadOnlyList<string> inputs, ReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        if (inputs.Count is < 1 or > 2)
        {
            throw new ArgumentException("report takes one input, or two to compare");
        }
        if (inputs.Count == 1)
        {
            var path = inputs[0];
            if (path != "-" && Directory.Exists(path))
            {
                var campaigns = CampaignAnalyzer.Analyze(path);
                return new ReportDocument { Title = options.Title ?? "Fuzz campaign " + path, Campaigns = campaigns };
            }
            if (ReportInputs.IsCapture(path))
            {
                var capture = CaptureAnalyzer.Analyze(path, options);
                return new ReportDocument { Title = options.Title ?? "Capture " + path, Capture = capture };
            }
            return new ReportDocument { Title = options.Title ?? "Stream " + path, Streams = [ReportInputs.AnalyzeStream(path, options)] };
        }
        if (inputs[0] == "-" && inputs[1] == "-")
        {
            throw new ArgumentException("only one input can be standard input");
        }
        using var la = Local(inputs[0], options, out var noteA);
        using var lb = Local(inputs[1], options, out var noteB);
        var a = ReportInputs.AnalyzeFile(la.Stream, inputs[0], options, noteA, la.Capture);
        var b = ReportInputs.AnalyzeFile(lb.Stream, inputs[1], options, noteB, lb.Capture);
        SemanticDiffResult diff;
        using (var sa = la.Open())
        using (var sb = lb.Open())
        {
            diff = SemanticDiff.Compare(sa, sb, inputs[0], inputs[1], new SemanticDiffOptions { Reader = options.Reader });
        }
        return new ReportDocument { Title = options.Title ?? $"Diff {inputs[0]} / {inputs[1]}", Streams = [a, b], Diff = diff };
    }

    private static DiffInput Local(string path, ReportOptions options, out string? note)
    {
        if (ReportInputs.IsCapture(path))
        {
            note = "sender → receiver direction of a capture";
            return new DiffInput(null, CaptureFile.Open(path));
        }
        return new DiffInput(ReportInputs.Materialize(path, options, out note), null);
    }

    /// <summary>One side of a two-input report: a local file, or a capture's sender direction.</summary>
    internal sealed class DiffInput(LocalFile? file, CaptureFile? capture) : IDisposable
    {
        public string Stream => file?.Path ?? capture!.Path;

        public CaptureFile? Capture => capture;

        public Stream Open() => file is not null
            ? new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16)
            : capture!.OpenDirection(CaptureDirection.SenderToReceiver);

        public void Dispose()
        {
            file?.Dispose();
            capture?.Dispose();
        }
    }
}
