using StreamBench.Domain;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using Xunit;
using static StreamBench.Tests.Engine.StreamEdit;

namespace StreamBench.Tests.Engine;

/// <summary>
/// Checkpointed (Remus) streams: the first checkpoint is applied as it arrives, each later one is buffered and applied
/// at its CHECKPOINT (bare libxc) or CHECKPOINT_END (libxl); at failover the last complete checkpoint is kept.
/// </summary>
public sealed class CheckpointRestoreTests
{
    private static (GuestDomain Source, byte[] Stream, SaveResult Saved) Remus(GuestType type, SaveFormat format, CheckpointEnding ending, int checkpoints = 3)
    {
        GuestDomain d = EngineTestSupport.Build(type, 6);
        var options = new SaveOptions
        {
            Live = true,
            Format = format,
            Checkpoints = checkpoints,
            CheckpointEnding = ending,
            RecordCheckpointDigests = true,
            Workload = new Workload(d, new WorkloadOptions(WorkloadPattern.Uniform, 24, 9)),
        };
        byte[] stream = EngineTestSupport.Save(d, options, out SaveResult saved);
        return (d, stream, saved);
    }

    public static TheoryData<GuestType, SaveFormat, CheckpointEnding> Endings()
    {
        var data = new TheoryData<GuestType, SaveFormat, CheckpointEnding>();
        foreach (CheckpointEnding ending in Enum.GetValues<CheckpointEnding>())
        {
            data.Add(GuestType.Pv, SaveFormat.Libxc, ending);
            data.Add(GuestType.Hvm, SaveFormat.Libxl, ending);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Endings))]
    public void The_restored_domain_is_the_last_complete_checkpoint(GuestType type, SaveFormat format, CheckpointEnding ending)
    {
        (GuestDomain source, byte[] stream, SaveResult saved) = Remus(type, format, ending);
        using (source)
        {
            Assert.Equal(3, saved.Checkpoints);
            Assert.True(Verifier.Verify(stream).IsValid);
            RestoreResult r = EngineTestSupport.Restore(stream, source);
            using GuestDomain target = r.Domain;

            Assert.True(r.Checkpointed);
            Assert.Equal(3, r.CheckpointsApplied);
            Assert.Equal(ending != CheckpointEnding.End, r.FailedOver);
            Assert.Equal(ending == CheckpointEnding.PartialCheckpoint, r.DiscardedRecords > 0);
            Assert.Equal(saved.CheckpointDigests[^1], target.ComputeDigest());
            Assert.NotEqual(saved.CheckpointDigests[0], saved.CheckpointDigests[^1]); // the guest ran between checkpoints
            if (format == SaveFormat.Libxl)
            {
                Assert.NotNull(r.EmulatorContext);
            }
        }
    }

    [Fact]
    public void A_stream_broken_inside_a_checkpoint_fails_over_to_the_previous_one()
    {
        (GuestDomain source, byte[] stream, SaveResult saved) = Remus(GuestType.Pv, SaveFormat.Libxc, CheckpointEnding.Failover);
        using (source)
        {
            StreamEdit e = Parse(stream);
            int second = e.IndexOf(i => i.Is(LibxcRecordType.Checkpoint), nth: 1);
            int pages = e.Items.FindIndex(second, i => i.Is(LibxcRecordType.PageData));
            int cut = e.Items.Take(pages).Sum(i => i.Raw.Length) + 100; // inside the third checkpoint's first PAGE_DATA
            RestoreResult r = EngineTestSupport.Restore(stream[..cut], source);
            Assert.True(r.FailedOver);
            Assert.Equal(2, r.CheckpointsApplied);
            Assert.Equal(saved.CheckpointDigests[1], r.Domain.ComputeDigest());
            r.Domain.Dispose();
        }
    }

    [Fact]
    public void A_libxl_checkpoint_counts_only_once_its_checkpoint_end_arrived()
    {
        (GuestDomain source, byte[] stream, SaveResult saved) = Remus(GuestType.Hvm, SaveFormat.Libxl, CheckpointEnding.Failover);
        using (source)
        {
            StreamEdit e = Parse(stream);
            int lastEnd = e.IndexOf(i => i.Is(LibxlRecordType.CheckpointEnd), nth: 2);
            byte[] cut = e.Items.Take(lastEnd).SelectMany(i => i.Raw).ToArray(); // ends after the third CHECKPOINT's EMULATOR_CONTEXT
            RestoreResult r = EngineTestSupport.Restore(cut, source);
            Assert.Equal(2, r.CheckpointsApplied);
            Assert.Equal(saved.CheckpointDigests[1], r.Domain.ComputeDigest());
            r.Domain.Dispose();
        }
    }
}
