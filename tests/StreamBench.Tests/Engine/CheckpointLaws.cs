using FsCheck.Xunit;
using StreamBench.Domain;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using Xunit;

namespace StreamBench.Tests.Engine;

/// <summary>
/// The checkpoint laws: a Remus or COLO stream cut at any record boundary or byte offset restores to exactly the digest
/// the primary recorded for the last complete checkpoint, or fails cleanly before the first; a live COLO secondary
/// whose primary dies anywhere fails over to its last complete checkpoint and never applies a partial one.
/// </summary>
public sealed class CheckpointLaws
{
    private static readonly Lazy<Recorded> RemusPv = new(() => RecordRemus(GuestType.Pv, SaveFormat.Libxc));
    private static readonly Lazy<Recorded> RemusHvm = new(() => RecordRemus(GuestType.Hvm, SaveFormat.Libxl));
    private static readonly Lazy<Recorded> Colo = new(RecordColo);

    /// <summary>A recorded checkpointed stream, where each checkpoint completes, and the primary's digests.</summary>
    internal sealed record Recorded(byte[] Stream, GuestDomain Like, bool ColoReader, IReadOnlyList<DomainDigest> Digests,
        IReadOnlyList<long> RecordEnds, IReadOnlyList<bool> IsPageData, IReadOnlyList<long> CheckpointEnds)
    {
        public int CompleteAt(long cut) => CheckpointEnds.Count(e => e <= cut);
    }

    private static Recorded RecordRemus(GuestType type, SaveFormat format)
    {
        GuestDomain d = EngineTestSupport.Build(type, 4, seed: 7);
        var options = new SaveOptions
        {
            Live = true,
            Format = format,
            Checkpoints = 3,
            CheckpointEnding = CheckpointEnding.Failover,
            RecordCheckpointDigests = true,
            Workload = new Workload(d, new WorkloadOptions(WorkloadPattern.Uniform, 24, 9)),
        };
        byte[] stream = EngineTestSupport.Save(d, options, out SaveResult saved);
        return Index(stream, d, coloReader: false, saved.CheckpointDigests);
    }

    private static Recorded RecordColo()
    {
        GuestDomain d = ColoTests.Guest();
        ColoReport r = ColoRunner.Run(d, ColoTests.Options(MigrationTransport.Pipe, 3) with { RecordMainStream = true });
        r.Secondary?.Domain.Discard();
        Assert.True(r.Outcome == ColoOutcome.PrimaryStopped, r.Reason);
        return Index(r.MainStream!, d, coloReader: true, r.Primary!.CheckpointDigests);
    }

    internal static Recorded Index(byte[] stream, GuestDomain like, bool coloReader, IReadOnlyList<DomainDigest> digests)
    {
        var ends = new List<long>();
        var pageData = new List<bool>();
        var checkpoints = new List<long>();
        bool embedded = false;
        using var reader = new XenStreamReader(ByteSource.FromMemory(stream), new XenStreamReaderOptions { Colo = coloReader });
        while (reader.Read())
        {
            reader.FinishItem();
            long end = reader.Source.Position;
            ends.Add(end);
            bool isLibxc = reader.Kind == StreamItemKind.Record && reader.Layer == StreamLayer.Libxc;
            bool isLibxl = reader.Kind == StreamItemKind.Record && reader.Layer == StreamLayer.Libxl;
            pageData.Add(isLibxc && reader.RecordType == (uint)LibxcRecordType.PageData);
            embedded |= isLibxl && reader.RecordType == (uint)LibxlRecordType.LibxcContext;
            if ((!embedded && isLibxc && reader.RecordType == (uint)LibxcRecordType.Checkpoint)
                || (isLibxl && reader.RecordType == (uint)LibxlRecordType.CheckpointEnd))
            {
                checkpoints.Add(end);
            }
        }

        Assert.Equal(digests.Count, checkpoints.Count);
        return new Recorded(stream, like, coloReader, digests, ends, pageData, checkpoints);
    }

    /// <summary>The law for one cut: the last complete checkpoint's digest, or a clean refusal before the first.</summary>
    internal static void RestoresToLastCompleteCheckpoint(Recorded rec, long cut)
    {
        int complete = rec.CompleteAt(cut);
        var options = new RestoreOptions
        {
            Config = DomainConfig.FromDomain(rec.Like),
            Checkpoints = Formats.Verification.CheckpointMode.Checkpointed,
            Reader = new XenStreamReaderOptions { Colo = rec.ColoReader },
        };
        if (complete == 0)
        {
            GuestDomain? created = null;
            var e = Assert.Throws<StreamFormatException>(() => RestoreEngine.Restore(ByteSource.FromMemory(rec.Stream.AsMemory(0, (int)cut)),
                options with { DomainCreated = d => created = d }));
            Assert.Contains($"[{RestoreChecks.FailoverBeforeCheckpoint}]", e.Message);
            Assert.True(created is null || created.Lifecycle == DomainLifecycle.Discarded);
            return;
        }

        RestoreResult r = RestoreEngine.Restore(ByteSource.FromMemory(rec.Stream.AsMemory(0, (int)cut)), options);
        using GuestDomain target = r.Domain;
        Assert.True(r.FailedOver, $"cut {cut}");
        Assert.Equal(complete, r.CheckpointsApplied);
        Assert.True(rec.Digests[complete - 1] == target.ComputeDigest(), $"cut {cut}: expected checkpoint {complete}'s digest");
    }

    private static readonly string[] StreamNames = ["remus-pv-libxc", "remus-hvm-libxl", "colo-hvm-xl"];

    public static TheoryData<string> Streams() => new(StreamNames);

    private static Recorded Get(string name) => name switch
    {
        "remus-pv-libxc" => RemusPv.Value,
        "remus-hvm-libxl" => RemusHvm.Value,
        _ => Colo.Value,
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public void Cut_at_every_record_boundary_restores_the_last_complete_checkpoint(string name)
    {
        Recorded rec = Get(name);
        int pageData = 0;
        int checkedCuts = 0;
        for (int i = 0; i < rec.RecordEnds.Count; i++)
        {
            // Every boundary except inside long PAGE_DATA runs, where every 16th is taken (and the run's last).
            bool lastOfRun = i + 1 == rec.RecordEnds.Count || !rec.IsPageData[i + 1];
            if (rec.IsPageData[i] && pageData++ % 16 != 0 && !lastOfRun)
            {
                continue;
            }

            RestoresToLastCompleteCheckpoint(rec, rec.RecordEnds[i]);
            checkedCuts++;
        }

        Assert.True(checkedCuts > 20, $"{checkedCuts} cuts");
    }

    [Property(MaxTest = 40)]
    public void Cut_at_any_byte_offset_restores_the_last_complete_checkpoint(int which, int seed)
    {
        Recorded rec = Get(StreamNames[Math.Abs(which % 3)]);
        long cut = new Random(seed).NextInt64(0, rec.Stream.Length + 1);
        RestoresToLastCompleteCheckpoint(rec, cut);
    }

    [Property(MaxTest = 8)]
    public void A_live_COLO_secondary_whose_primary_dies_anywhere_keeps_its_last_complete_checkpoint(int seed)
    {
        Recorded rec = Colo.Value;
        // Half the cuts land next to a checkpoint's end (the interesting edge), half anywhere.
        var random = new Random(seed);
        long cut = random.Next(2) == 0
            ? Math.Clamp(rec.CheckpointEnds[random.Next(rec.CheckpointEnds.Count)] + random.Next(-1, 2), 1, rec.Stream.Length - 1)
            : random.NextInt64(1, rec.Stream.Length);
        PrimaryDiesAt(rec, cut);
    }

    [Fact]
    public void A_live_COLO_secondary_whose_primary_dies_at_each_checkpoint_edge_keeps_its_last_complete_checkpoint()
    {
        Recorded rec = Colo.Value;
        foreach (long end in rec.CheckpointEnds)
        {
            PrimaryDiesAt(rec, end - 1);
            PrimaryDiesAt(rec, end);
        }
    }

    private static void PrimaryDiesAt(Recorded rec, long cut)
    {
        using GuestDomain source = ColoTests.Guest();
        ColoReport r = ColoRunner.Run(source, ColoTests.Options(MigrationTransport.Pipe, 3) with { PrimaryDiesAfterBytes = cut });
        using GuestDomain? taken = r.Secondary?.Domain;
        int complete = rec.CompleteAt(cut);
        Assert.Equal(cut, r.MainBytes);
        if (complete == 0)
        {
            Assert.True(r.Outcome == ColoOutcome.PrimaryDiedBeforeFirstCheckpoint, $"cut {cut}: {r.Outcome}: {r.Reason}");
            return;
        }

        Assert.True(r.Outcome == ColoOutcome.PrimaryDied, $"cut {cut}: {r.Outcome}: {r.Reason}");
        Assert.Equal(complete, r.SecondaryCheckpointsApplied);
        Assert.True(r.AllAppliedDigestsEqual, $"cut {cut}");
        Assert.True(r.FailoverKeptLastCheckpoint, $"cut {cut}: the failover state is not the last checkpoint's plus the secondary's own run");
        for (int i = 0; i < complete; i++)
        {
            Assert.Equal(rec.Digests[i], r.Checkpoints[i].SecondaryDigest);
        }
    }
}
