using StreamBench.Domain;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using Xunit;

namespace StreamBench.Tests.Engine;

/// <summary>
/// The digest hashed while a restore's pages arrive (RestoreOptions.StreamingDigest): it is taken only when it is
/// the domain's, and whatever happens the digest equals DomainDigest.Compute of the restored domain.
/// </summary>
public sealed class StreamingDigestTests
{
    private static readonly RestoreOptions Streaming = new() { StreamingDigest = true };

    public static TheoryData<GuestType, SaveFormat> PlainSaves()
    {
        var data = new TheoryData<GuestType, SaveFormat>();
        foreach (GuestType type in (GuestType[])[GuestType.Hvm, GuestType.Pvh])
        {
            foreach (SaveFormat format in (SaveFormat[])[SaveFormat.Libxc, SaveFormat.Libxl, SaveFormat.Xl])
            {
                data.Add(type, format);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PlainSaves))]
    public void A_plain_save_is_hashed_ahead_and_gives_the_save_s_digest(GuestType type, SaveFormat format)
    {
        using GuestDomain source = EngineTestSupport.Build(type, 6);
        DomainDigest expected = source.ComputeDigest();
        byte[] stream = EngineTestSupport.Save(source, new SaveOptions { Format = format });

        RestoreResult r = EngineTestSupport.Restore(stream, source, Streaming);
        using GuestDomain restored = r.Domain;
        Assert.NotNull(r.StreamingDigest);
        DomainDigest digest = restored.ComputeDigest();

        Assert.True(r.StreamingDigest!.Taken, r.StreamingDigest.VoidReason);
        Assert.True(r.StreamingDigest.PagesKept > 0);
        Assert.True(r.StreamingDigest.PagesRehashed <= StreamingDigest.CheckpointPages + 1024,
            $"{r.StreamingDigest.PagesRehashed} pages hashed again (kept {r.StreamingDigest.PagesKept})");
        Assert.Equal(expected, digest);
        Assert.Equal(DomainDigest.Compute(restored), digest);
    }

    [Theory]
    [InlineData(GuestType.Hvm, SaveFormat.Libxc)]
    [InlineData(GuestType.Pvh, SaveFormat.Libxl)]
    public void A_live_save_resends_pages_so_more_is_hashed_again_and_the_digest_is_the_same(GuestType type, SaveFormat format)
    {
        using GuestDomain source = EngineTestSupport.Build(type, 6);
        byte[] stream = EngineTestSupport.Save(source, EngineTestSupport.Live(source, format, rate: 64));
        DomainDigest expected = source.ComputeDigest();

        RestoreResult r = EngineTestSupport.Restore(stream, source, Streaming);
        using GuestDomain restored = r.Domain;
        DomainDigest digest = restored.ComputeDigest();

        Assert.True(r.StreamingDigest!.Taken, r.StreamingDigest.VoidReason);
        Assert.True(r.StreamingDigest.PagesRehashed > 0);
        Assert.Equal(expected, digest);
        Assert.Equal(DomainDigest.Compute(restored), digest);
    }

    [Fact]
    public void A_checkpointed_stream_gives_the_same_digest_as_without_hashing_ahead()
    {
        using GuestDomain source = EngineTestSupport.Build(GuestType.Hvm, 6);
        byte[] stream = EngineTestSupport.Save(source, new SaveOptions
        {
            Live = true, Format = SaveFormat.Libxl, Checkpoints = 3,
            Workload = new Workload(source, new WorkloadOptions(WorkloadPattern.Uniform, 24, 9)),
        });

        RestoreResult withStreaming = EngineTestSupport.Restore(stream, source, Streaming with { Checkpoints = CheckpointMode.Checkpointed });
        RestoreResult without = EngineTestSupport.Restore(stream, source, new RestoreOptions { Checkpoints = CheckpointMode.Checkpointed });
        using GuestDomain a = withStreaming.Domain;
        using GuestDomain b = without.Domain;

        Assert.Null(without.StreamingDigest);
        Assert.Equal(b.ComputeDigest(), a.ComputeDigest());
        Assert.True(withStreaming.StreamingDigest!.Taken, withStreaming.StreamingDigest.VoidReason);
    }

    [Fact]
    public void A_page_changed_after_the_restore_is_hashed_again_from_the_state_before_it()
    {
        using GuestDomain source = EngineTestSupport.Build(GuestType.Hvm, 6);
        byte[] stream = EngineTestSupport.Save(source, new SaveOptions { Format = SaveFormat.Libxc });
        DomainDigest saved = source.ComputeDigest();

        RestoreResult r = EngineTestSupport.Restore(stream, source, Streaming);
        using GuestDomain restored = r.Domain;
        ulong pfn = restored.PopulatedPfns().First(p => restored.IsPageMaterialised(p));
        byte[] page = restored.ReadPage(pfn).ToArray();
        page[100] ^= 0x5a;
        restored.WritePage(pfn, page);
        DomainDigest digest = restored.ComputeDigest();

        Assert.True(r.StreamingDigest!.Taken, r.StreamingDigest.VoidReason);
        Assert.True(r.StreamingDigest.PagesRehashed > 0);
        Assert.NotEqual(saved, digest);
        Assert.Equal(DomainDigest.Compute(restored), digest);
    }

    [Fact]
    public void A_pv_restore_does_not_hash_ahead()
    {
        using GuestDomain source = EngineTestSupport.Build(GuestType.Pv, 6);
        byte[] stream = EngineTestSupport.Save(source, new SaveOptions { Format = SaveFormat.Libxc });

        RestoreResult r = EngineTestSupport.Restore(stream, source, Streaming);
        using GuestDomain restored = r.Domain;

        Assert.Null(r.StreamingDigest);
        Assert.Equal(source.ComputeDigest(), restored.ComputeDigest());
    }

    [Fact]
    public void A_failed_restore_stops_the_hashing_thread_and_discards_the_domain()
    {
        using GuestDomain source = EngineTestSupport.Build(GuestType.Hvm, 6);
        byte[] stream = EngineTestSupport.Save(source, new SaveOptions { Format = SaveFormat.Libxc });
        GuestDomain? created = null;
        var options = Streaming with { Config = DomainConfig.FromDomain(source), DomainCreated = d => created = d };

        Assert.Throws<StreamFormatException>(() => RestoreEngine.Restore(ByteSource.FromMemory(stream.AsMemory(0, stream.Length / 2)), options));

        Assert.NotNull(created);
        Assert.Equal(DomainLifecycle.Discarded, created!.Lifecycle);
    }

    [Fact]
    public void A_domain_discarded_without_its_digest_stops_the_hashing_thread()
    {
        using GuestDomain source = EngineTestSupport.Build(GuestType.Pvh, 6);
        byte[] stream = EngineTestSupport.Save(source, new SaveOptions { Format = SaveFormat.Xl });

        RestoreResult r = EngineTestSupport.Restore(stream, source, Streaming);
        r.Domain.Discard();

        Assert.False(r.StreamingDigest!.Taken);
        Assert.Null(r.StreamingDigest.TryFinish());
        Assert.Equal("the domain was discarded", r.StreamingDigest.VoidReason);
    }
}
