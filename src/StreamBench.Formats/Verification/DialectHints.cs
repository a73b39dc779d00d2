namespace StreamBench.Formats.Verification;

/// <summary>
/// The post-copy RFC reuses libxc record numbers 0x10-0x12 (POSTCOPY_BEGIN, POSTCOPY_PFNS_BEGIN, POSTCOPY_PFNS), which
/// upstream v3 gave to STATIC_DATA_END, X86_CPUID_POLICY and X86_MSR_POLICY, so the dialect is never guessed
/// (docs/FORMATS.md). A post-copy stream read as upstream shows one sign: those records in a v2 stream (the RFC is v2;
/// the upstream records exist from v3). This says so, once, where an error is reported.
/// </summary>
public static class DialectHints
{
    /// <summary>The hint, worded for the CLI.</summary>
    public const string Postcopy =
        "records 0x10-0x12 in a v2 stream are the post-copy RFC's (POSTCOPY_BEGIN, POSTCOPY_PFNS_BEGIN, POSTCOPY_PFNS): if this is a post-copy stream, pass --dialect postcopy-rfc";

    /// <summary>Whether a failed check is the sign of a post-copy stream read as upstream.</summary>
    public static bool SuggestsPostcopy(string? checkId) =>
        checkId == LibxcChecks.StaticDataEndV2.Id || checkId == LibxcChecks.CpuidV2.Id || checkId == LibxcChecks.MsrV2.Id;

    /// <summary>The hint for a verification result, or null.</summary>
    public static string? For(VerifyResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Findings.Any(f => SuggestsPostcopy(f.CheckId)) ? Postcopy : null;
    }

    /// <summary>The hint for a refusal (the reader's, the restore engine's), or null.</summary>
    public static string? For(StreamFormatException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is StreamFormatException s && SuggestsPostcopy(s.Check?.Id))
            {
                return Postcopy;
            }
        }
        return null;
    }
}
