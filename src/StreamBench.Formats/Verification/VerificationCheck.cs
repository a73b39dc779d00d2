namespace StreamBench.Formats.Verification;

/// <summary>
/// One check of the verifier: a stable id (<c>layer.record.what</c>), the profiles that make it, the severity of its
/// findings, what it checks, and where the rule comes from (FORMATS.md item, C function or spec).
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
        Layer = CheckLayers.Parse(dot < 0 ? id : id[..dot]);
    }

    /// <summary>Stable id, e.g. <c>libxc.page-data.length</c>.</summary>
    public string Id { get; }

    /// <summary>The profiles that make this check.</summary>
    public ProfileSet Profiles { get; }

    /// <summary>Severity of its findings.</summary>
    public FindingSeverity Severity { get; }

    /// <summary>What it checks.</summary>
    public string Description { get; }

    /// <summary>Where the rule comes from (e.g. "verify 27", "C handle_page_data", "FORMATS.md 5.1").</summary>
    public string Source { get; }

    /// <summary>Whether verification stops after it fires (the rest of the input cannot be framed).</summary>
    public bool Fatal { get; }

    /// <summary>The id's first component (xl, libxl, libxc, postcopy, back-channel, stream, restore, legacy).</summary>
    public CheckLayer Layer { get; }

    /// <summary>Whether <paramref name="profile"/> makes this check.</summary>
    public bool AppliesTo(VerificationProfile profile) => (Profiles & profile.Bit()) != 0;

    /// <inheritdoc />
    public override string ToString() => Id;
}

/// <summary>The layer a check belongs to: the first component of its id.</summary>
public enum CheckLayer
{
    /// <summary>The stream as a whole (<c>stream.</c>).</summary>
    Stream,
    /// <summary>The xl header (<c>xl.</c>).</summary>
    Xl,
    /// <summary>The libxl stream (<c>libxl.</c>).</summary>
    Libxl,
    /// <summary>The libxc stream (<c>libxc.</c>).</summary>
    Libxc,
    /// <summary>The post-copy RFC dialect (<c>postcopy.</c>).</summary>
    Postcopy,
    /// <summary>The back channel (<c>back-channel.</c>).</summary>
    BackChannel,
    /// <summary>What only a restore into a domain can check (<c>restore.</c>, the engine's checks).</summary>
    Restore,
    /// <summary>Legacy (pre-4.6) images (<c>legacy.</c>).</summary>
    Legacy,
}

/// <summary>Names of <see cref="CheckLayer"/> as check ids spell them.</summary>
public static class CheckLayers
{
    /// <summary>The id prefix of <paramref name="layer"/>.</summary>
    public static string Name(this CheckLayer layer) => layer switch
    {
        CheckLayer.Stream => "stream",
        CheckLayer.Xl => "xl",
        CheckLayer.Libxl => "libxl",
        CheckLayer.Libxc => "libxc",
        CheckLayer.Postcopy => "postcopy",
        CheckLayer.BackChannel => "back-channel",
        CheckLayer.Restore => "restore",
        _ => "legacy",
    };

    /// <summary>The layer an id prefix names; a prefix no layer has is a bug in a check's definition.</summary>
    public static CheckLayer Parse(string prefix) => prefix switch
    {
        "stream" => CheckLayer.Stream,
        "xl" => CheckLayer.Xl,
        "libxl" => CheckLayer.Libxl,
        "libxc" => CheckLayer.Libxc,
        "postcopy" => CheckLayer.Postcopy,
        "back-channel" => CheckLayer.BackChannel,
        "restore" => CheckLayer.Restore,
        "legacy" => CheckLayer.Legacy,
        _ => throw new ArgumentException($"check id prefix '{prefix}' names no layer", nameof(prefix)),
    };
}

/// <summary>
/// The catalog of every verifier check, per layer, in declaration order (<see cref="StreamChecks"/>,
/// <see cref="XlChecks"/>, <see cref="LibxlChecks"/>, <see cref="LibxcChecks"/>, <see cref="PostcopyChecks"/>,
/// <see cref="BackChannelChecks"/>): the explicit list in VerificationChecks.g.cs (no reflection, for the native
/// CLI), which the test VerificationCatalogListTests renders from those classes and checks.
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
