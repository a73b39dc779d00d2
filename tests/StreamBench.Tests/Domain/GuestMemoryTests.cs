using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using Xunit;

namespace StreamBench.Tests.Domain;

public sealed class GuestMemoryTests
{
    [Fact]
    public void Populated_pages_read_as_zero_and_cost_nothing_until_written()
    {
        using GuestDomain d = DomainBuilder.CreateEmpty(GuestType.Hvm, 1, 4096);
        d.Populate([1, 2, 3, 2]);

        Assert.Equal(3, d.PopulatedCount);
        Assert.Equal(0, d.MaterialisedPages);
        Assert.False(d.ReadPage(2).ContainsAnyExcept((byte)0));
        Assert.Equal(PageGeometry.Size, d.ReadPageMemory(2).Length);

        d.WritePage(2, new byte[PageGeometry.Size]);
        Assert.Equal(0, d.MaterialisedPages); // zeros never allocate

        d.GetWritablePage(3)[10] = 0x5A;
        Assert.Equal(1, d.MaterialisedPages);
        Assert.Equal(0x5A, d.ReadPage(3)[10]);

        d.ClearPage(3);
        Assert.Equal(0, d.MaterialisedPages);
        Assert.Equal([1ul, 2, 3], d.PopulatedPfns());
    }

    [Fact]
    public void Unpopulated_pages_cannot_be_read_or_written()
    {
        using GuestDomain d = DomainBuilder.CreateEmpty(GuestType.Pvh, 1, 4096);
        var e = Assert.Throws<DomainException>(() => d.ReadPage(9).Length);
        Assert.Contains("pfn 0x9 is not populated", e.Message, StringComparison.Ordinal);
        Assert.Throws<DomainException>(() => d.WritePage(9, new byte[PageGeometry.Size]));
        Assert.Equal(PageInfo.Unpopulated, d.GetPageInfo(9));
    }

    [Fact]
    public void Hvm_refuses_to_populate_the_mmio_and_vga_holes_but_allows_the_special_region()
    {
        using GuestDomain d = DomainBuilder.CreateEmpty(GuestType.Hvm, 1, 4096);

        var mmio = Assert.Throws<DomainException>(() => d.Populate(0xF_8000));
        Assert.Contains("MMIO hole [0xf0000, 0x100000)", mmio.Message, StringComparison.Ordinal);
        var vga = Assert.Throws<DomainException>(() => d.Populate(0xB0));
        Assert.Contains("VGA hole", vga.Message, StringComparison.Ordinal);
        d.Populate(HvmMemoryLayout.SpecialPfn(4));
        d.Populate(0x10_0000 + 5); // above 4 GiB: unbacked but allowed
        Assert.True(d.CanPopulate(0x50, out _));
    }

    [Fact]
    public void Pvh_has_no_vga_hole()
    {
        using GuestDomain d = DomainBuilder.CreateEmpty(GuestType.Pvh, 1, 4096);
        d.Populate(0xB0);
        Assert.False(d.CanPopulate(0xF_0001, out string reason));
        Assert.Contains("MMIO hole", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Population_stops_at_the_memory_limit()
    {
        using GuestDomain d = DomainBuilder.CreateEmpty(GuestType.Hvm, 1, 16, memoryLimitSlackPages: 0);
        d.MemoryLimitPages = 4;
        d.Populate([0, 1, 2, 3]);
        var e = Assert.Throws<DomainException>(() => d.Populate(4));
        Assert.Contains("limit of 4 pages", e.Message, StringComparison.Ordinal);
        d.Depopulate(0);
        d.Populate(4);
    }

    [Fact]
    public void Pv_population_is_bounded_by_max_pfn_and_frees_frames_on_depopulate()
    {
        var host = new MachineFrameAllocator(seed: 3, frameBits: 12);
        using var d = (PvDomain)DomainBuilder.CreateEmpty(GuestType.Pv, 1, 64, host);
        var e = Assert.Throws<DomainException>(() => d.Populate(1));
        Assert.Contains("beyond max_pfn 0x0", e.Message, StringComparison.Ordinal);

        d.ExpandP2m(63);
        d.Populate(5);
        ulong mfn = d.PfnToMfn(5);
        Assert.True(d.MfnInPseudophysmap(mfn));
        Assert.True(d.TryMfnToPfn(mfn, out ulong back) && back == 5);
        ulong allocated = host.Allocated;

        d.Depopulate(5);
        Assert.Equal(PageGeometry.InvalidFrame, d.PfnToMfn(5));
        Assert.False(d.MfnInPseudophysmap(mfn));
        Assert.Equal(allocated - 1, host.Allocated);
    }

    [Fact]
    public void Frame_allocator_is_a_deterministic_scattered_permutation()
    {
        var a = new MachineFrameAllocator(seed: 1, frameBits: 10);
        var b = new MachineFrameAllocator(seed: 1, frameBits: 10);
        var c = new MachineFrameAllocator(seed: 2, frameBits: 10);
        ulong[] fa = Enumerable.Range(0, 1024).Select(_ => a.Allocate()).ToArray();
        ulong[] fb = Enumerable.Range(0, 1024).Select(_ => b.Allocate()).ToArray();
        ulong[] fc = Enumerable.Range(0, 1024).Select(_ => c.Allocate()).ToArray();

        Assert.Equal(fa, fb);
        Assert.NotEqual(fa, fc);
        Assert.Equal(1024, fa.Distinct().Count());
        Assert.All(fa, m => Assert.InRange(m, MachineFrameAllocator.FirstFrame, a.MaxMfn));
        Assert.Throws<DomainException>(() => a.Allocate());
        a.Free(fa[17]);
        Assert.Equal(fa[17], a.Allocate());
    }

    [Fact]
    public void Broken_pages_keep_their_frame_but_lose_their_contents()
    {
        using GuestDomain d = DomainBuilder.Build(GuestType.Pv, 8, 1, 4);
        ulong pfn = d.DataPfns().First(p => d.IsPageMaterialised(p));
        d.MarkBroken(pfn);

        Assert.Equal(PageType.Broken, d.GetPageInfo(pfn).Type);
        Assert.False(d.GetPageInfo(pfn).HasContents);
        Assert.False(d.IsPageMaterialised(pfn));
        Assert.Throws<DomainException>(() => d.GetWritablePage(pfn));
    }
}

public sealed class LifecycleTests
{
    [Fact]
    public void A_discarded_domain_refuses_everything_and_returns_its_frames()
    {
        var host = new MachineFrameAllocator(seed: 9);
        GuestDomain d = DomainBuilder.Build(new DomainSpec(GuestType.Pv, 8, 1, 1) { Host = host });
        Assert.True(host.Allocated > 2000);

        d.Discard();

        Assert.Equal(DomainLifecycle.Discarded, d.Lifecycle);
        Assert.Equal(0ul, host.Allocated);
        Assert.Throws<ObjectDisposedException>(() => d.Populate(1));
        Assert.Throws<ObjectDisposedException>(() => d.ReadPage(1).Length);
        Assert.Throws<ObjectDisposedException>(() => d.Validate());
        d.Dispose(); // idempotent
    }

    [Fact]
    public void An_incomplete_restore_target_cannot_be_completed()
    {
        using GuestDomain empty = DomainBuilder.CreateEmpty(GuestType.Pv, 2, 1024);
        Assert.Equal(DomainLifecycle.Building, empty.Lifecycle);

        var e = Assert.Throws<DomainException>(() => empty.Complete());
        Assert.Contains("vcpu0", e.Message, StringComparison.Ordinal);
        Assert.Equal(DomainLifecycle.Building, empty.Lifecycle);
    }

    [Fact]
    public void Two_domains_on_one_host_get_disjoint_frames()
    {
        var host = new MachineFrameAllocator(seed: 4);
        using PvDomain a = DomainBuilder.BuildPv(new DomainSpec(GuestType.Pv, 8, 1, 1) { Host = host });
        using PvDomain b = DomainBuilder.BuildPv(new DomainSpec(GuestType.Pv, 8, 1, 1) { Host = host });

        var framesA = a.PopulatedPfns().Select(a.PfnToMfn).ToHashSet();
        Assert.DoesNotContain(b.PopulatedPfns().Select(b.PfnToMfn), framesA.Contains);
        Assert.False(b.MfnInPseudophysmap(a.PfnToMfn(100)));
        Assert.Equal(a.ComputeDigest(), b.ComputeDigest());
    }

    [Fact]
    public void Guest_width_changes_only_while_empty()
    {
        using var d = (PvDomain)DomainBuilder.CreateEmpty(GuestType.Pv, 1, 64);
        d.SetGeometry(PvGeometry.X86_32Pae);
        Assert.Equal(GuestType.Pv32, d.Geometry.GuestType);
        Assert.Equal(2800, d.GetVcpu(0).Layout.Size);

        d.ExpandP2m(3);
        d.Populate(0);
        Assert.Throws<DomainException>(() => d.SetGeometry(PvGeometry.X86_64));
    }
}
