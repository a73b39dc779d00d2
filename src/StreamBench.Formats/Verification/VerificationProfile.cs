namespace StreamBench.Formats.Verification;

/// <summary>Which set of rules the verifier applies (docs/VERIFIER.md).</summary>
public enum VerificationProfile
{
    /// <summary>
    /// Exactly the checks of Xen's verify-stream-v2 (FORMATS.md 10 items 1-39), minus its bugs; each divergence is
    /// listed in docs/VERIFIER.md. Gives verify-stream-v2's accept/reject verdict on every other stream.
    /// </summary>
    Xen,

    /// <summary><see cref="Xen"/> plus what the C restore (libxc, libxl, xl) enforces (FORMATS.md 7, 5, 2 [C] notes).</summary>
    Restore,

    /// <summary><see cref="Restore"/> plus ordering, required records, guest-type and structure rules. The default.</summary>
    Strict,
}

/// <summary>The profiles a check belongs to.</summary>
[Flags]
public enum ProfileSet
{
    /// <summary>No profile.</summary>
    None = 0,
    /// <summary>The <see cref="VerificationProfile.Xen"/> profile.</summary>
    Xen = 1 << 0,
    /// <summary>The <see cref="VerificationProfile.Restore"/> profile.</summary>
    Restore = 1 << 1,
    /// <summary>The <see cref="VerificationProfile.Strict"/> profile.</summary>
    Strict = 1 << 2,
    /// <summary>Introduced by the restore profile (and so also in strict).</summary>
    RestoreAndStrict = Restore | Strict,
    /// <summary>Every profile.</summary>
    All = Xen | Restore | Strict,
}

/// <summary>How bad a finding is. Only <see cref="Error"/> makes a stream invalid.</summary>
public enum FindingSeverity
{
    /// <summary>Worth knowing (failover statistics, ignored optional records, trailing bytes a profile ignores).</summary>
    Info,
    /// <summary>Suspicious but accepted by the profile (verify-stream-v2's own warnings, errata records).</summary>
    Warning,
    /// <summary>The profile rejects the stream.</summary>
    Error,
}

/// <summary>
/// Whether the stream is a checkpointed (Remus/COLO) one. The C restore is told this by its caller (libxl passes the
/// stream type), it never guesses it; a file alone cannot say for sure (docs/VERIFIER.md, "Checkpointed streams").
/// </summary>
public enum CheckpointMode
{
    /// <summary>
    /// Decide from the stream: a bare libxc stream is checkpointed when it contains a CHECKPOINT record; a libxl
    /// stream when a libxc CHECKPOINT is followed by the libxl CHECKPOINT_END that closes its checkpoint.
    /// </summary>
    Auto,
    /// <summary>A plain save/migration stream: CHECKPOINT is an error (restore), a missing END is an error.</summary>
    Plain,
    /// <summary>A Remus/COLO stream: CHECKPOINT is expected, the stream normally ends at failover.</summary>
    Checkpointed,
}

/// <summary>Profile helpers.</summary>
public static class VerificationProfiles
{
    /// <summary>The <see cref="ProfileSet"/> bit of <paramref name="profile"/>.</summary>
    public static ProfileSet Bit(this VerificationProfile profile) => profile switch
    {
        VerificationProfile.Xen => ProfileSet.Xen,
        VerificationProfile.Restore => ProfileSet.Restore,
        _ => ProfileSet.Strict,
    };

    /// <summary>Parses "xen", "restore" or "strict" (any case).</summary>
    public static bool TryParse(string? text, out VerificationProfile profile)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "xen":
                profile = VerificationProfile.Xen;
                return true;
            case "restore":
                profile = VerificationProfile.Restore;
                return true;
            case "strict":
                profile = VerificationProfile.Strict;
                return true;
            default:
                profile = VerificationProfile.Strict;
                return false;
        }
    }

    /// <summary>The lower-case name the CLI uses.</summary>
    public static string Name(this VerificationProfile profile) => profile.ToString().ToLowerInvariant();
}
