
namespace StreamBench.Formats.Verification;

/// <summary>
/// One check of the verifier: a stable id (<c>layer.record.what</c>), the profiles that make it, the severity of its
/// findings, what it checks, and where the rule comes from (FORMAT.md item, C function or spec).
/// </summary>
public sealed class VerificationCheck
{
    /// <summary>Defines a check.</summary>
    public VerificationCheck(string id, ProfileSet profiles, FindingSeverity severity, string description, string source, bool fatal = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        Id = id;
        Profiles = profiles;
        Severity = severity;
        Description = description;
        Source = source;
        Fatal = fatal;
        var dot = id.IndexOf('.', StringComparison.Ordinal);
        Layer = dot < 0 ? id : id[..dot];
    }

    /// <summary>Stable id, e.g. <c>libxc.page-data.length</c>.</summary>
    public string Id { get; }

    /// <summary>The profiles that make this check.</summary>
    public ProfileSet Profiles { get; }

    /// <summary>Severity of its findings.</summary>
    public FindingSeverity Severity { get; }

    /// <summary>What it checks.</summary>
    public string Description { get; }

    /// <summary>Where the rule comes from (e.g. "verify 27", "C handle_page_data", "FORMAT.md 5.1").</summary>
    public string Source { get; }

    /// <summary>Whether verification stops after it fires (the rest of the input cannot be framed).</summary>
    public bool Fatal { get; }

    /// <summary>The id's first component (xl, libxl, libxc, postcopy, back-channel, stream).</summary>
    public string Layer { get; }

    /// <summary>Whether <paramref name="profile"/> makes this check.</summary>
    public bool AppliesTo(VerificationProfile profile) => (Profiles & profile.Bit()) != 0;

    /// <inheritdoc />
    public override string ToString() => Id;
}

/// <summary>
/// The catalog of every check, per layer, in declaration order: the explicit list in VerificationChecks.g.cs (no
/// reflection, for the native CLI), which the test VerificationCatalogListTests renders from the rule classes and checks.
/// </summary>
public static partial class VerificationChecks
{
    private static readonly Lazy<IReadOnlyList<VerificationCheck>> Catalog = new(Declared);

    /// <summary>Every check.</summary>
    public static IReadOnlyList<VerificationCheck> All => Catalog.Value;

    /// <summary>The checks <paramref name="profile"/> makes.</summary>
    public static IReadOnlyList<VerificationCheck> For(VerificationProfile profile) => [.. All.Where(c => c.AppliesTo(profile))];

    /// <summary>The check with id <paramref name="id"/>, or null.</summary>
    public static VerificationCheck? Find(string id) => All.FirstOrDefault(c => c.Id == id);
}
