using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using Xunit;

namespace StreamBench.Tests.Domain;

public sealed class PvStateTests
{
    private static PvDomain Build(GuestType type, ulong frameSeed = 1) =>
        DomainBuilder.BuildPv(new DomainSpec(type, 16, 2, 5) { FrameSeed = frameSeed });

    [Theory]
    [InlineData(GuestType.Pv)]
    [InlineData(GuestType.Pv32)]
    public void Normalised_vcpu_context_holds_pfns_in_every_frame_field(GuestType type)
    {
        using PvDomain d = Build(type);
        VcpuGuestContextLayout l = d.GetVcpu(0).Layout;
        PvVcpuContext live = d.GetVcpu(0).Context;
        var norm = new PvVcpuContext(d.NormaliseVcpuBasic(0), l);

        Assert.Equal(d.StartInfoPfn, norm.SuspendRecord);
        Assert.True(d.TryMfnToPfn(live.GetGdtFrame(0), out ulong gdt));
        Assert.Equal(gdt, norm.GetGdtFrame(0));
        Assert.True(d.TryMfnToPfn(d.Geometry.Cr3ToFrame(live.Cr3), out ulong top));
        Assert.Equal(top, d.Geometry.Cr3ToFrame(norm.Cr3));
        if (type == GuestType.Pv)
        {
            Assert.True(d.TryMfnToPfn(live.Cr1 >> 12, out ulong user));
            Assert.Equal(1 | (user << 12), norm.Cr1); // normalised cr1 carries a valid bit
        }

        // Everything else is untouched.
        Assert.Equal(live.InstructionPointer, norm.InstructionPointer);
        Assert.Equal(live.KernelSp, norm.KernelSp);
    }

    [Fact]
    public void Localise_vcpu_checks_types_and_ranges_like_process_vcpu_basic()
    {
        using PvDomain d = Build(GuestType.Pv);
        byte[] good = d.NormaliseVcpuBasic(1);
        VcpuGuestContextLayout l = d.GetVcpu(1).Layout;

        byte[] badCr3 = good.ToArray();
        ulong dataPfn = d.DataPfns().First();
        l.WriteWord(badCr3, l.ControlRegister(3), d.Geometry.FrameToCr3(dataPfn));
        var e = Assert.Throws<DomainException>(() => d.LocaliseVcpuBasic(1, badCr3));
        Assert.Contains($"cr3 (pfn 0x{dataPfn:x}) has bad type Normal, expected L4Table", e.Message, StringComparison.Ordinal);

        byte[] badGdt = good.ToArray();
        l.WriteWord(badGdt, l.GdtFrame(0), d.MaxPfn + 1);
        Assert.Contains("out of range", Assert.Throws<DomainException>(() => d.LocaliseVcpuBasic(1, badGdt)).Message, StringComparison.Ordinal);

        byte[] tooMany = good.ToArray();
        l.WriteWord(tooMany, l.GdtEntries, VcpuGuestContextLayout.FirstReservedGdtEntry + 1);
        Assert.Contains("GDT entry count", Assert.Throws<DomainException>(() => d.LocaliseVcpuBasic(1, tooMany)).Message, StringComparison.Ordinal);

        Assert.Throws<DomainException>(() => d.LocaliseVcpuBasic(1, new byte[100]));

        d.SetVcpuOnline(1, false);
        d.LocaliseVcpuBasic(1, good);
        Assert.True(d.IsVcpuOnline(1));
        using var copy = (PvDomain)d.Clone();
        Assert.Equal(d.GetVcpu(1).Basic, copy.GetVcpu(1).Basic);
    }

    [Fact]
    public void Normalise_vcpu_rejects_a_foreign_cr3()
    {
        using PvDomain d = Build(GuestType.Pv);
        PvVcpuContext ctx = d.GetVcpu(1).Context;
        ctx.Cr3 = d.Geometry.FrameToCr3(0x0800); // a Xen frame, not the guest's
        var e = Assert.Throws<DomainException>(() => d.NormaliseVcpuBasic(1));
        Assert.Contains("vcpu1's cr3", e.Message, StringComparison.Ordinal);
        Assert.Contains(d.Validate(), p => p.Contains("vcpu1 cr3", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(GuestType.Pv)]
    [InlineData(GuestType.Pv32)]
    public void Start_info_localise_and_normalise_are_inverses(GuestType type)
    {
        using PvDomain d = Build(type);
        ulong si = d.StartInfoPfn!.Value;
        ulong store = d.StorePfn!.Value;
        byte[] suspended = d.ReadPage(si).ToArray();

        d.LocaliseStartInfo(si, storeEvtchn: 1, consoleEvtchn: 2);
        Assert.True(d.StartInfoHoldsMachineFrames);
        Assert.Equal(d.PfnToMfn(store), d.ReadStartInfoWord(d.StartInfoLayout.StoreMfn));
        Assert.Equal(store, d.StorePfn);
        Assert.Equal(d.SharedInfoMfn << 12, d.ReadStartInfoWord(d.StartInfoLayout.SharedInfo));

        d.NormaliseStartInfo();
        Assert.False(d.StartInfoHoldsMachineFrames);
        Assert.Equal(suspended, d.ReadPage(si).ToArray());
    }

    [Fact]
    public void Start_info_localise_rejects_a_ring_beyond_max_pfn()
    {
        using PvDomain d = Build(GuestType.Pv);
        ulong si = d.StartInfoPfn!.Value;
        PvWords.Write(d.GetWritablePage(si), d.StartInfoLayout.ConsoleMfn, 8, d.MaxPfn + 7);
        var e = Assert.Throws<DomainException>(() => d.LocaliseStartInfo(si, 1, 2));
        Assert.Contains("Console pfn", e.Message, StringComparison.Ordinal);
        Assert.False(d.StartInfoHoldsMachineFrames);
    }

    [Fact]
    public void Guest_p2m_write_checks_the_frame_list()
    {
        using PvDomain d = Build(GuestType.Pv);
        ulong pt = d.PopulatedPfns().First(p => d.GetPageInfo(p).IsPageTable);
        d.SetP2mFramePfn(0, pt);
        var e = Assert.Throws<DomainException>(() => d.WriteGuestP2m());
        Assert.Contains("p2m_frame_list[0] has bad type", e.Message, StringComparison.Ordinal);
        Assert.Throws<DomainException>(() => d.SetP2mFramePfn(d.P2mFramePfns.Count, 1));
    }

    [Fact]
    public void Shared_info_load_keeps_vcpu_info_and_arch_and_resets_event_state()
    {
        using PvDomain source = Build(GuestType.Pv);
        using var target = (PvDomain)DomainBuilder.CreateEmptyLike(source);
        SharedInfoLayout l = source.SharedInfoLayout;
        byte[] saved = source.SharedInfo.ToArray();
        PvWords.Write(saved, l.ArchFrameListList, 8, 0x1234);
        PvWords.Write(saved, l.VcpuInfoPendingSel(0), 8, 0xFF);

        target.LoadSharedInfo(saved);

        Assert.Equal(saved.AsSpan(SharedInfoLayout.VcpuInfoTime(0), 32).ToArray(), target.SharedInfo.Slice(SharedInfoLayout.VcpuInfoTime(0), 32).ToArray());
        Assert.Equal(source.SharedInfoMaxPfnField, target.SharedInfoMaxPfnField);
        Assert.Equal(0ul, PvWords.Read(target.SharedInfo, l.ArchFrameListList, 8));
        Assert.Equal(0ul, PvWords.Read(target.SharedInfo, l.VcpuInfoPendingSel(0), 8));
        Assert.False(target.SharedInfo.Slice(l.EvtchnPending, l.EvtchnBitmapBytes).ContainsAnyExcept((byte)0));
        Assert.False(target.SharedInfo.Slice(l.EvtchnMask, l.EvtchnBitmapBytes).ContainsAnyExcept((byte)0xFF));
    }

    [Fact]
    public void Vcpu_blob_sizes_follow_the_restore_rules()
    {
        using PvDomain d = Build(GuestType.Pv);
        PvVcpuState v = d.GetVcpu(0);
        Assert.Throws<DomainException>(() => v.Basic = new byte[2800]);
        Assert.Throws<DomainException>(() => v.Extended = new byte[129]);
        Assert.Throws<DomainException>(() => v.Xsave = new byte[15]);
        Assert.Equal(64, v.Extended!.Length);
        Assert.Equal(7ul, v.Xcr0);
        Assert.Equal(16 + 832, v.Xsave!.Length);
        Assert.Empty(v.Msrs); // vcpu0's TSC_AUX is 0: Xen reports nothing
        Assert.Single(d.GetVcpu(1).Msrs);
    }
}
