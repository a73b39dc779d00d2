namespace StreamBench.Formats.Verification;

/// <summary>The outcome of <see cref="Verifier"/>: the findings (capped), their counts, and the stream's summary.</summary>
public sealed class VerifyResult
{
    /// <summary>A result from its findings and counts (the verifier and legacy verification build one).</summary>
    public VerifyResult(VerificationProfile profile, IReadOnlyList<Finding> findings, long errors, long warnings, long infos,
        long dropped, StreamSummary summary)
    {
        Profile = profile;
        Findings = findings;
        ErrorCount = errors;
        WarningCount = warnings;
        InfoCount = infos;
        FindingsDropped = dropped;
        Summary = summary;
    }

    /// <summary>The profile applied.</summary>
    public VerificationProfile Profile { get; }

    /// <summary>The first findings, in stream order (at most <see cref="VerifierOptions.MaxFindings"/>).</summary>
    public IReadOnlyList<Finding> Findings { get; }

    /// <summary>All error findings, kept or not.</summary>
    public long ErrorCount { get; }

    /// <summary>All warnings.</summary>
    public long WarningCount { get; }

    /// <summary>All infos.</summary>
    public long InfoCount { get; }

    /// <summary>Findings not kept because of the cap.</summary>
    public long FindingsDropped { get; }

    /// <summary>No errors: the profile accepts the stream.</summary>
    public bool IsValid => ErrorCount == 0;

    /// <summary>What the stream contains.</summary>
    public StreamSummary Summary { get; }

    /// <summary>The kept findings of one check.</summary>
    public IEnumerable<Finding> Of(string checkId) => Findings.Where(f => f.CheckId == checkId);

    /// <summary>Whether a kept finding comes from <paramref name="checkId"/>.</summary>
    public bool Has(string checkId) => Findings.Any(f => f.CheckId == checkId);

    /// <summary>The first kept error, or null.</summary>
    public Finding? FirstError => Findings.FirstOrDefault(f => f.Severity == FindingSeverity.Error);
}
