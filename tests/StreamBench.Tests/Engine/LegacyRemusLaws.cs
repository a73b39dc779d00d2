using System.Text;
using FsCheck.Xunit;
using StreamBench.Domain;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Pv;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Tests.Capture;
using Xunit;

namespace StreamBench.Tests.Engine;

/// <summary>
/// The legacy Remus law (issue #12 §4): a legacy checkpointed image (pre-Xen-4.6 Remus: the body and tail repeated per
/// checkpoint, no XC_SAVE_ID_LAST_CHECKPOINT), written by <see cref="LegacySave"/> from the engine's own domain under a
/// workload, cut at every chunk boundary and at sampled byte offsets, converted with its checkpoints as libxl runs Xen's
/// converter with --remus and restored, ends at exactly the digest of the last complete image, or fails cleanly before
/// the first; never a partial checkpoint.
/// </summary>
public sealed class LegacyRemusLaws
{
    private static readonly Lazy<Recorded> Pv = new(() => Record(GuestType.Pv, LegacyWidth.Bits64));
    private static readonly Lazy<Recorded> Hvm = new(() => Record(GuestType.Hvm, LegacyWidth.Bits64));

    /// <summary>A legacy Remus image, the offset where each image ends, the digest at each, and every item's offset.</summary>
    internal sealed record Recorded(byte[] Image, GuestDomain Like, IReadOnlyList<long> ImageEnds, IReadOnlyList<DomainDigest> Digests,
        IReadOnlyList<long> ItemOffsets)
    {
        public int CompleteAt(long cut) => ImageEnds.Count(e => e <= cut);
    }

    internal const int Checkpoints = 3;

    internal static Recorded Record(GuestType type, LegacyWidth width)
    {
        GuestDomain d = EngineTestSupport.Build(type, 4, vcpus: 2, seed: 11);
        if (d is PvDomain pv)
        {
            foreach (int id in pv.OnlineVcpus())
            {
                pv.GetVcpu(id).Msrs.Clear(); // the one thing a legacy image cannot carry (LegacySaveTests)
            }
        }

        var digests = new List<DomainDigest>();
        var load = new Workload(d, new WorkloadOptions(WorkloadPattern.Uniform, 24, 9));
        using var ms = new MemoryStream();
        LegacySaveResult saved = LegacySave.Save(d, ms, new LegacySaveOptions
        {
            Width = width,
            Checkpoints = Checkpoints,
            BetweenCheckpoints = _ =>
            {
                digests.Add(d.ComputeDigest()); // the state the image just written carries
                load.Step(4);
            },
        });
        digests.Add(d.ComputeDigest());
        byte[] image = ms.ToArray();
        Assert.Equal(Checkpoints + 1, saved.ImageEnds.Count);
        Assert.Equal(image.Length, saved.ImageEnds[^1]);
        Assert.Equal(Checkpoints + 1, digests.Distinct().Count()); // the guest really ran between checkpoints

        var offsets = new List<long>();
        using (var reader = new LegacyStreamReader(ByteSource.FromMemory(image), new LegacyStreamReaderOptions()))
        {
            while (reader.Read())
            {
                offsets.Add(reader.Offset);
            }

            Assert.Equal(Checkpoints + 1, reader.CompleteImages);
            Assert.False(reader.LastCheckpointSeen, "a Remus image never says it is the last");
        }

        offsets.Add(image.Length);
        return new Recorded(image, d, saved.ImageEnds, digests, offsets);
    }

    /// <summary>Restores the first <paramref name="cut"/> bytes as <c>streambench restore</c> does legacy input (converted on the fly, with checkpoints).</summary>
    internal static RestoreResult RestoreCut(Recorded rec, long cut, Action<GuestDomain>? created = null)
    {
        using var source = ByteSource.FromMemory(rec.Image.AsMemory(0, (int)cut));
        using var conversion = LegacyOnTheFly.Start(source, checkpoints: true);
        try
        {
            return RestoreEngine.Restore(conversion.Converted, new RestoreOptions
            {
                Config = DomainConfig.FromDomain(rec.Like),
                Checkpoints = CheckpointMode.Checkpointed,
                Reader = new XenStreamReaderOptions { Format = OuterFormat.Libxl },
                DomainCreated = created,
            });
        }
        catch (StreamFormatException) when (conversion.Finish() is { } legacyError)
        {
            throw legacyError;
        }
    }

    internal static void RestoresToLastCompleteImage(Recorded rec, long cut)
    {
        int complete = rec.CompleteAt(cut);
        if (complete == 0)
        {
            GuestDomain? created = null;
            Assert.Throws<StreamFormatException>(() => RestoreCut(rec, cut, d => created = d));
            Assert.True(created is null || created.Lifecycle == DomainLifecycle.Discarded, $"cut {cut}: the domain of a failed restore is discarded");
            return;
        }

        RestoreResult r = RestoreCut(rec, cut);
        using GuestDomain target = r.Domain;
        Assert.Equal(complete, r.CheckpointsApplied);
        Assert.True(rec.Digests[complete - 1] == target.ComputeDigest(),
            $"cut {cut} of {rec.Image.Length}: expected image {complete}'s digest");
    }

    private static readonly string[] Names = ["legacy-remus-pv64", "legacy-remus-hvm"];

    public static TheoryData<string> Images() => new(Names);

    private static Recorded Get(string name) => name == Names[0] ? Pv.Value : Hvm.Value;

    [Theory]
    [MemberData(nameof(Images))]
    public void Cut_at_every_chunk_boundary_restores_the_last_complete_image(string name)
    {
        Recorded rec = Get(name);
        foreach (long cut in rec.ItemOffsets)
        {
            RestoresToLastCompleteImage(rec, cut);
        }

        Assert.True(rec.ItemOffsets.Count > 20, $"{rec.ItemOffsets.Count} cuts");
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Cut_next_to_each_image_end_restores_the_last_complete_image(string name)
    {
        Recorded rec = Get(name);
        foreach (long end in rec.ImageEnds)
        {
            for (long cut = Math.Max(0, end - 2); cut <= Math.Min(rec.Image.Length, end + 2); cut++)
            {
                RestoresToLastCompleteImage(rec, cut);
            }
        }
    }

    [Property(MaxTest = 40)]
    public void Cut_at_any_byte_offset_restores_the_last_complete_image(int which, int seed)
    {
        Recorded rec = Get(Names[Math.Abs(which % Names.Length)]);
        long cut = new Random(seed).NextInt64(0, rec.Image.Length + 1);
        RestoresToLastCompleteImage(rec, cut);
    }

    [Fact]
    public void Cli_restore_of_a_legacy_remus_image_applies_every_checkpoint()
    {
        Recorded rec = Hvm.Value;
        using var dir = new TempDir();
        string file = dir.File("remus.legacy");
        File.WriteAllBytes(file, rec.Image);

        var (code, stdout, err) = CaptureTestSupport.RunCli(null, "restore", file, "--guest", "hvm", "--memory", "4M", "--vcpus", "2");
        string text = Encoding.UTF8.GetString(stdout);
        Assert.True(code == 0, text + err);
        Assert.Contains($"checkpoints applied: {Checkpoints + 1}", text, StringComparison.Ordinal);
        Assert.EndsWith($"digest: {rec.Digests[^1]}", text.TrimEnd(), StringComparison.Ordinal);

        // --checkpointed no: the first image only, as Xen's converter without --remus.
        var (plainCode, plainOut, plainErr) = CaptureTestSupport.RunCli(null, "restore", file, "--guest", "hvm", "--memory", "4M", "--vcpus", "2",
            "--checkpointed", "no");
        string plain = Encoding.UTF8.GetString(plainOut);
        Assert.True(plainCode == 0, plain + plainErr);
        Assert.DoesNotContain("checkpoints applied", plain, StringComparison.Ordinal);
        Assert.EndsWith($"digest: {rec.Digests[0]}", plain.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Cli_restore_of_a_plain_legacy_save_is_not_taken_for_remus()
    {
        using var dir = new TempDir();
        string file = dir.File("plain.legacy");
        var (saveCode, saveOut, saveErr) = CaptureTestSupport.RunCli(null, "save", "--guest", "hvm", "--memory", "4M", "-f", "legacy", "-o", file);
        string saved = Encoding.UTF8.GetString(saveOut);
        Assert.True(saveCode == 0, saved + saveErr);

        var (code, stdout, err) = CaptureTestSupport.RunCli(null, "restore", file, "--guest", "hvm", "--memory", "4M");
        string text = Encoding.UTF8.GetString(stdout);
        Assert.True(code == 0, text + err);
        Assert.DoesNotContain("checkpoints applied", text, StringComparison.Ordinal); // XC_SAVE_ID_LAST_CHECKPOINT: END, not CHECKPOINT
        Assert.Equal(saved.TrimEnd().Split('\n')[^1], text.TrimEnd().Split('\n')[^1]);
    }
}
