using StreamBench.Domain;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Verification;
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

    [Theory]
    [InlineData(MigrationTransport.Tcp, 1)]
    [InlineData(MigrationTransport.Pipe, 2)]
    [InlineData(MigrationTransport.Tcp, 3)]
    public void When_the_secondary_dies_the_primary_goes_on_alone(MigrationTransport transport, int after)
    {
        using GuestDomain source = Guest();
        ColoReport r = ColoRunner.Run(source, Options(transport, 5) with { SecondaryDiesAfterCheckpoints = after });

        Assert.True(r.Outcome == ColoOutcome.SecondaryDied, r.Reason);
        Assert.NotNull(r.SecondaryLost);
        Assert.Null(r.PrimaryError);
        Assert.Equal(after, r.SecondaryCheckpointsApplied);
        Assert.True(r.AllAppliedDigestsEqual);
        Assert.Equal(DomainLifecycle.Ready, source.Lifecycle);
        Assert.NotEqual(r.Checkpoints[^1].PrimaryDigest, r.PrimaryFinalDigest); // it resumed and ran on alone
        Assert.Contains("went on alone", r.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void COLO_is_refused_for_PV_guests_and_bare_libxc_streams()
    {
        using GuestDomain pv = EngineTestSupport.Build(GuestType.Pv, 4);
        using var back = new MemoryStream();
        using var primary = new ColoPrimary(back);
        Assert.Throws<ArgumentException>(() => SaveEngine.Save(pv, Stream.Null, new SaveOptions { Checkpoints = 2, Format = SaveFormat.Xl, Colo = primary }));
        using GuestDomain hvm = Guest();
        Assert.Throws<ArgumentException>(() => SaveEngine.Save(hvm, Stream.Null, new SaveOptions { Checkpoints = 2, Format = SaveFormat.Libxc, Colo = primary }));
    }

    [Fact]
    public void A_secondary_that_answers_out_of_order_is_a_protocol_error_not_a_failover()
    {
        using GuestDomain source = Guest();
        // A back channel that starts with SVM_RESUMED instead of SVM_READY.
        byte[] wrong = TestStream.BackChannel(StreamDialect.Upstream, (5, Bodies.U32(3)), (5, Bodies.U32(3))).Build();
        using var primary = new ColoPrimary(new MemoryStream(wrong));
        var e = Assert.Throws<ColoProtocolException>(() => SaveEngine.Save(source, Stream.Null, new SaveOptions
        {
            Live = true, Checkpoints = 2, Format = SaveFormat.Xl, Colo = primary,
        }));
        Assert.Contains("invalid section: 3, expected: 2 (SVM_READY)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dirty_pfn_list_beyond_p2m_size_is_refused_by_the_primary()
    {
        using GuestDomain source = Guest();
        byte[] back = TestStream.BackChannel(StreamDialect.Upstream, (5, Bodies.U32(2)), (5, Bodies.U32(3)), (5, Bodies.U32(1)),
            (0xF, BitConverter.GetBytes(ulong.MaxValue - 1))).Build();
        using var primary = new ColoPrimary(new MemoryStream(back));
        var e = Assert.Throws<ColoProtocolException>(() => SaveEngine.Save(source, Stream.Null, new SaveOptions
        {
            Live = true, Checkpoints = 2, Format = SaveFormat.Xl, Colo = primary,
        }));
        Assert.Contains("Invalid pfn", e.Message, StringComparison.Ordinal);
    }
}
