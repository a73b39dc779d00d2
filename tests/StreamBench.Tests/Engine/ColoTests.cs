using StreamBench.Domain;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using Xunit;

namespace StreamBench.Tests.Engine;

/// <summary>
/// COLO: the primary (SaveEngine + ColoPrimary) and the secondary (RestoreEngine + ColoSecondary) on two threads over one
/// bidirectional channel, both guests running seeded workloads; the secondary's digest equals the primary's at every
/// checkpoint; failover both ways.
/// </summary>
public sealed class ColoTests
{
    internal static ColoOptions Options(MigrationTransport transport = MigrationTransport.Tcp, int checkpoints = 4) => new()
    {
        Transport = transport,
        Checkpoints = checkpoints,
        PrimaryWorkload = new WorkloadOptions(WorkloadPattern.HotSet, 24, 11),
        SecondaryWorkload = new WorkloadOptions(WorkloadPattern.Uniform, 16, 12),
    };

    internal static GuestDomain Guest() => EngineTestSupport.Build(GuestType.Hvm, 6, vcpus: 2, seed: 3);

    [Theory]
    [InlineData(MigrationTransport.Tcp)]
    [InlineData(MigrationTransport.Pipe)]
    public void The_secondary_matches_the_primary_at_every_checkpoint_and_takes_over_when_the_primary_stops(MigrationTransport transport)
    {
        using GuestDomain source = Guest();
        ColoReport r = ColoRunner.Run(source, Options(transport) with { RecordMainStream = true, RecordBackChannel = true });
        using GuestDomain? taken = r.Secondary?.Domain;

        Assert.True(r.Outcome == ColoOutcome.PrimaryStopped, r.Reason);
        Assert.Equal(4, r.Checkpoints.Count);
        Assert.Equal(4, r.SecondaryCheckpointsApplied);
        Assert.All(r.Checkpoints, c => Assert.True(c.DigestsEqual, $"checkpoint {c.Index}"));
        Assert.True(r.AllAppliedDigestsEqual);
        // The secondary's own run dirtied pages; they were reported and resent by the primary in the next checkpoint.
        Assert.All(r.Checkpoints.Skip(1), c => Assert.True(c.SecondaryDirty > 0, $"checkpoint {c.Index}"));
        Assert.All(r.Checkpoints.Take(3), c => Assert.True(c.SecondaryOwnWrites > 0));
        Assert.True(r.FailoverKeptLastCheckpoint);
        Assert.NotEqual(r.Checkpoints[^1].PrimaryDigest, r.SecondaryFailoverDigest); // it ran on after the last checkpoint
        Assert.True(r.Secondary!.FailedOver);
        Assert.Equal(3, r.Secondary.ColoCheckpointNewRecords);

        // Both directions verify strictly (the main stream read as COLO; the back channel in the seed's order).
        VerifyResult main = Verifier.Verify(r.MainStream!, VerifierOptions.Create(VerificationProfile.Strict) with
        {
            CheckpointMode = CheckpointMode.Checkpointed,
            Reader = new XenStreamReaderOptions { Colo = true },
        });
        Assert.True(main.IsValid, string.Join("\n", main.Findings));
        VerifyResult back = Verifier.Verify(r.BackChannel!, VerifierOptions.Create(VerificationProfile.Strict) with
        {
            Reader = new XenStreamReaderOptions { Format = OuterFormat.BackChannel },
        });
        Assert.True(back.IsValid, string.Join("\n", back.Findings));
    }
}
