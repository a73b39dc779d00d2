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

    /// <summary>
    /// The streams the report judged invalid under the strict profile (the verdict its summary shows): the streams, or
    /// a capture's directions, by description. Empty for a report of fuzz campaigns.
    /// </summary>
    public IReadOnlyList<string> InvalidStreams =>
        Streams.Concat(Capture is null ? [] : Capture.Receiver is null ? [Capture.Sender] : [Capture.Sender, Capture.Receiver])
            .Where(s => !s.Verification.IsValid)
            .Select(s => s.Description)
            .ToList();
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
        // Standard input is read by three readers here: spooled once to a file.
        using var spooled = inputs.Contains("-") ? ReportInputs.SpoolStandardInput(options.MaxSpoolBytes) : null;
        var pa = inputs[0] == "-" ? spooled!.Path : inputs[0];
        var pb = inputs[1] == "-" ? spooled!.Path : inputs[1];
        var a = ReportInputs.AnalyzeStream(pa, options);
        var b = ReportInputs.AnalyzeStream(pb, options);
        SemanticDiffResult diff;
        using (var sa = ReportInputs.OpenForDiff(pa, CaptureDirection.SenderToReceiver, options.Legacy))
        using (var sb = ReportInputs.OpenForDiff(pb, CaptureDirection.SenderToReceiver, options.Legacy))
        {
            diff = SemanticDiff.Compare(sa.Source, sb.Source, inputs[0] == "-" ? "standard input" : sa.Description,
                inputs[1] == "-" ? "standard input" : sb.Description, new SemanticDiffOptions { Reader = options.Reader }, sa.Format, sb.Format);
        }
        return new ReportDocument { Title = options.Title ?? $"Diff {inputs[0]} / {inputs[1]}", Streams = [a, b], Diff = diff };
    }
}
