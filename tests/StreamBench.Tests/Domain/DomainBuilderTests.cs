using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Hvm.Context;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using Xunit;
using StreamBench.X86;

namespace StreamBench.Tests.Domain;

public sealed class DomainBuilderTests
{
    public static TheoryData<GuestType> AllTypes => new() { GuestType.Pv, GuestType.Pv32, GuestType.Hvm, GuestType.Pvh };

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Builder_produces_a_ready_consistent_domain_of_each_type(GuestType type)
    {
        using GuestDomain d = DomainBuilder.Build(type, 64, 2, seed: 42);

        Assert.Equal(type, d.Type);
        Assert.Equal(DomainLifecycle.Ready, d.Lifecycle);
        Assert.Empty(d.Validate());
        Assert.Equal(2, d.MaxVcpus);
        Assert.True(d.IsVcpuOnline(0));
        Assert.True(d.IsVcpuOnline(1));
        Assert.NotEmpty(d.CpuidPolicy);
        Assert.NotEmpty(d.MsrPolicy);
        Assert.True(d.PopulatedCount >= 64 * 256 - 64);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Same_spec_builds_the_same_domain(GuestType type)
    {
        using GuestDomain a = DomainBuilder.Build(type, 32, 2, seed: 7);
        using GuestDomain b = DomainBuilder.Build(type, 32, 2, seed: 7);
        using GuestDomain c = DomainBuilder.Build(type, 32, 2, seed: 8);

        Assert.Equal(a.ComputeDigest(), b.ComputeDigest());
        Assert.NotEqual(a.ComputeDigest(), c.ComputeDigest());
    }

    [Fact]
    public void Zero_pages_cost_no_memory()
    {
        using GuestDomain allZero = DomainBuilder.Build(new DomainSpec(GuestType.Hvm, 64, 1, 1) { ZeroPageFraction = 1.0 });
        using GuestDomain half = DomainBuilder.Build(new DomainSpec(GuestType.Hvm, 64, 1, 1) { ZeroPageFraction = 0.5 });

        // Only the identity-map page table is non-zero in the all-zero guest.
        Assert.Equal(1, allZero.MaterialisedPages);
        Assert.InRange(half.MaterialisedPages, half.PopulatedCount * 4 / 10, half.PopulatedCount * 6 / 10);
        Assert.True(allZero.AllocatedContentBytes <= 1 << 20);
    }

    [Fact]
    public void Pv64_guest_has_scattered_frames_a_pinned_l4_tree_and_real_context_sizes()
    {
        using PvDomain d = DomainBuilder.BuildPv(new DomainSpec(GuestType.Pv, 64, 2, 3));

        Assert.Equal(PvGeometry.X86_64, d.Geometry);
        Assert.Equal(64ul * 256 - 1, d.MaxPfn);
        Assert.Equal(5168, d.GetVcpu(0).Basic!.Length);
        Assert.Equal(64 * 256 / 512, d.P2mFramePfns.Count);

        // mfns are neither the identity nor contiguous.
        int identity = 0, contiguous = 0;
        for (ulong pfn = 0; pfn < 1000; pfn++)
        {
            identity += d.PfnToMfn(pfn) == pfn ? 1 : 0;
            contiguous += d.PfnToMfn(pfn + 1) == d.PfnToMfn(pfn) + 1 ? 1 : 0;
        }

        Assert.True(identity < 5 && contiguous < 50, $"identity {identity}, contiguous {contiguous}");

        PvVcpuContext ctx = d.GetVcpu(0).Context;
        Assert.True(d.TryMfnToPfn(d.Geometry.Cr3ToFrame(ctx.Cr3), out ulong top));
        Assert.Equal(new PageInfo(PageType.L4Table, true), d.GetPageInfo(top));
        Assert.True(d.TryMfnToPfn(ctx.Cr1 >> 12, out ulong user));
        Assert.Equal(new PageInfo(PageType.L4Table, true), d.GetPageInfo(user));
        Assert.True(ctx.Flags.HasAllFlags(VcpuGuestContextLayout.FlagOnline));

        ulong[] types = [0, 0, 0, 0, 0, 0, 0];
        foreach (ulong pfn in d.PopulatedPfns())
        {
            types[(int)d.GetPageInfo(pfn).Type]++;
        }

        Assert.Equal(2ul, types[(int)PageType.L4Table]);
        Assert.Equal(2ul, types[(int)PageType.L3Table]);
        Assert.Equal(32ul + 1, types[(int)PageType.L1Table]); // 64 MiB direct map + the user L1
    }

    [Fact]
    public void Pv32_guest_is_pae_with_compat_slots_and_32bit_context()
    {
        using PvDomain d = DomainBuilder.BuildPv(new DomainSpec(GuestType.Pv32, 1024, 1, 3));

        Assert.Equal(PvGeometry.X86_32Pae, d.Geometry);
        Assert.Equal(2800, d.GetVcpu(0).Basic!.Length);
        Assert.Equal((int)((1024ul * 256 + 1023) / 1024), d.P2mFramePfns.Count);

        ulong top = d.PopulatedPfns().Single(p => d.GetPageInfo(p) == new PageInfo(PageType.L3Table, true));
        ulong l2top = PteFormat.Frame(PteFormat.ReadEntry(d.ReadPage(top), 3));
        Assert.True(d.TryMfnToPfn(l2top, out ulong l2pfn));
        ulong compat = PteFormat.ReadEntry(d.ReadPage(l2pfn), PvDomain.XenPaeL2FirstSlot);
        Assert.Equal(PvDomain.CompatM2pFrameBase, PteFormat.Frame(compat));

        // 1 GiB is more than the 856 MiB the top L2 maps: highmem goes through L3[0].
        Assert.True(PteFormat.IsPresent(PteFormat.ReadEntry(d.ReadPage(top), 0)));
    }

    [Fact]
    public void Pv_start_info_names_the_rings_as_pfns_and_the_guest_p2m_holds_the_mfns()
    {
        using PvDomain d = DomainBuilder.BuildPv(new DomainSpec(GuestType.Pv, 16, 1, 9) { BalloonedPages = 20 });

        Assert.False(d.StartInfoHoldsMachineFrames);
        Assert.NotNull(d.StartInfoPfn);
        Assert.True(d.IsPopulated(d.StorePfn!.Value));
        Assert.True(d.IsPopulated(d.ConsolePfn!.Value));
        Assert.Equal(d.StorePfn.Value, d.ReadStartInfoWord(d.StartInfoLayout.StoreMfn));
        Assert.Equal(20, (int)(d.MaxPfn + 1 - (ulong)d.PopulatedCount));
        foreach (ulong pfn in new ulong[] { 0, 100, d.MaxPfn })
        {
            Assert.Equal(d.PfnToMfn(pfn), d.ReadGuestP2mEntry(pfn));
        }

        Assert.Equal(d.MaxPfn + 1, d.SharedInfoMaxPfnField);
    }

    [Fact]
    public void Hvm_guest_leaves_the_holes_empty_and_populates_the_magic_pages()
    {
        using HvmDomain d = DomainBuilder.BuildHvm(new DomainSpec(GuestType.Hvm, 64, 1, 5));

        Assert.False(d.IsPopulated(0xA0));
        Assert.False(d.IsPopulated(0xBF));
        Assert.True(d.IsPopulated(0xC0));
        Assert.False(d.IsPopulated(HvmMemoryLayout.DefaultMmioHoleStartPfn));
        Assert.Equal(HvmRegion.MmioHole, d.Layout.Classify(0xF_0000));
        Assert.Equal(0xFEFFCul, d.StorePfn);
        Assert.Equal(0xFEFFFul, d.ConsolePfn);
        Assert.Equal(0xFEFFDul, d.IoreqPfn);
        Assert.Equal(0xFEFFBul, d.BufioreqPfn);
        foreach (ulong pfn in new[] { d.StorePfn, d.ConsolePfn, d.IoreqPfn, d.BufioreqPfn, HvmMemoryLayout.IoreqServerPfn(0) })
        {
            Assert.True(d.IsPopulated(pfn));
            Assert.Equal(HvmRegion.SpecialRegion, d.Layout.Classify(pfn));
        }

        Assert.Equal(0xFEFFEul << 12, d.Params.Get(HvmParamIndex.IdentPt));
        Assert.Equal(0xFEFFFul, d.MaxPfn); // the console page is the highest special pfn
        Assert.NotNull(d.Context.MasterPic);
        Assert.NotNull(d.Context.Pit);
        Assert.True(d.Context.MasterPic!.IsMaster);
        Assert.False(d.Context.SlavePic!.IsMaster);
        Assert.Equal(1032, d.Context.Vcpus[0].Cpu!.Length);
    }

    [Fact]
    public void Pvh_guest_has_no_device_model_state()
    {
        using HvmDomain d = DomainBuilder.BuildHvm(new DomainSpec(GuestType.Pvh, 64, 1, 5));

        Assert.True(d.IsPvh);
        Assert.True(d.IsPopulated(0xA0)); // no VGA hole without a device model
        Assert.False(d.IsPopulated(HvmMemoryLayout.IoreqServerPfn(0)));
        Assert.False(d.Params.Contains(HvmParamIndex.IoreqServerPfn));
        Assert.Null(d.Context.MasterPic);
        Assert.Null(d.Context.Pit);
        Assert.Null(d.Context.IoApic);
        Assert.Null(d.Context.Rtc);
        Assert.Null(d.Context.Hpet);
        Assert.NotNull(d.Context.PciLink);
        Assert.Equal(0x806ul, d.Context.Vcpus[0].Mtrr!.DefaultType);
    }

    [Fact]
    public void Large_hvm_guest_puts_memory_above_4GiB()
    {
        HvmMemoryLayout layout = HvmMemoryLayout.ForMemory(5ul * 1024 * 256, vgaHole: true);

        Assert.Equal(HvmMemoryLayout.DefaultMmioHoleStartPfn, layout.LowMemEndPfn);
        Assert.Equal(HvmMemoryLayout.FourGiBPfn + (5ul * 1024 * 256) - HvmMemoryLayout.DefaultMmioHoleStartPfn, layout.HighMemEndPfn);
        Assert.Equal(HvmRegion.Ram, layout.Classify(HvmMemoryLayout.FourGiBPfn));
        Assert.Equal(HvmRegion.Unbacked, layout.Classify(layout.HighMemEndPfn));
    }

    [Fact]
    public void Spec_validation_names_the_bad_value()
    {
        var tooSmall = Assert.Throws<ArgumentOutOfRangeException>(() => DomainBuilder.Build(GuestType.Pv, 1, 1, 0));
        Assert.Contains("MemoryMiB", tooSmall.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => DomainBuilder.Build(GuestType.Pv32, 4096, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DomainBuilder.Build(GuestType.Hvm, 64, 0, 0));
    }

    [Fact]
    public void Pv_geometry_accepts_only_the_two_valid_pairs()
    {
        Assert.Equal(PvGeometry.X86_64, PvGeometry.Create(8, 4));
        Assert.Equal(PvGeometry.X86_32Pae, PvGeometry.Create(4, 3));
        var e = Assert.Throws<ArgumentException>(() => PvGeometry.Create(4, 4));
        Assert.Contains("width 4, pt_levels 4", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => PvGeometry.Create(8, 3));
        Assert.False(PvGeometry.IsValid(2, 2));
    }

    [Fact]
    public void Pae_cr3_uses_the_extended_format()
    {
        PvGeometry g = PvGeometry.X86_32Pae;
        ulong frame = 0x12_3456; // above 4 GiB of machine memory
        ulong cr3 = g.FrameToCr3(frame);
        Assert.True(cr3 <= uint.MaxValue);
        Assert.Equal(frame, g.Cr3ToFrame(cr3));
        Assert.Equal(frame << 12, PvGeometry.X86_64.FrameToCr3(frame));
    }
}

internal static class FlagExtensions
{
    public static bool HasAllFlags(this ulong value, ulong flags) => (value & flags) == flags;
}
