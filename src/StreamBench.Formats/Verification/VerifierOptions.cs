using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Verification;

/// <summary>Options for <see cref="Verifier"/>.</summary>
public sealed record VerifierOptions
{
    /// <summary>The rule set; <see cref="VerificationProfile.Strict"/> by default.</summary>
    public VerificationProfile Profile { get; init; } = VerificationProfile.Strict;

    /// <summary>The reader's options: the outer format (or auto-detection) and the record dialect.</summary>
    public XenStreamReaderOptions Reader { get; init; } = new();

    /// <summary>Whether the stream is checkpointed (Remus/COLO); see <see cref="Verification.CheckpointMode"/>.</summary>
    public CheckpointMode CheckpointMode { get; init; } = CheckpointMode.Auto;

    /// <summary>At most this many findings are kept (the counts cover all of them).</summary>
    public int MaxFindings { get; init; } = 1000;

    /// <summary>Shorthand for <c>Reader.Format</c>.</summary>
    public OuterFormat Format => Reader.Format;

    /// <summary>Shorthand for <c>Reader.Dialect</c>.</summary>
    public StreamDialect Dialect => Reader.Dialect;

    /// <summary>Options with the given profile, format and dialect.</summary>
    public static VerifierOptions Create(VerificationProfile profile, OuterFormat format = OuterFormat.Auto,
        StreamDialect dialect = StreamDialect.Upstream, CheckpointMode checkpoints = CheckpointMode.Auto) => new()
    {
        Profile = profile,
        Reader = new XenStreamReaderOptions { Format = format, Dialect = dialect },
        CheckpointMode = checkpoints,
    };
}
