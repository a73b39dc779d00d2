using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Hvm.Context;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using Xunit;

namespace StreamBench.Tests.Domain;

public sealed class DigestTests
{
    public static TheoryData<GuestType> AllTypes => new() { GuestType.Pv, GuestType.Pv32, GuestType.Hvm, GuestType.Pvh };

    private static GuestDomain Build(GuestType type, ulong frameSeed = 1, ulong seed = 21) =>
        DomainBuilder.Build(new DomainSpec(type, 16, 2, seed) { FrameSeed = frameSeed, BalloonedPages = type.IsPv() ? 10 : 0 });

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Digest_is_lowercase_hex_sha256_and_stable(GuestType type)
    {
        using GuestDomain d = Build(type);
        string hex = d.ComputeDigest().ToString();

        Assert.Matches("^[0-9a-f]{64}$", hex);
        Assert.Equal(hex, d.ComputeDigest().ToString());
        Assert.Equal(d.ComputeDigest(), DomainDigest.Parse(hex));
    }

    [Theory]
    [InlineData(GuestType.Pv)]
    [InlineData(GuestType.Pv32)]
    public void Equal_guest_state_over_different_mfn_layouts_has_equal_digests(GuestType type)
    {
        using var a = (PvDomain)Build(type, frameSeed: 100);
        using var b = (PvDomain)Build(type, frameSeed: 200);

        Assert.NotEqual(a.PfnToMfn(1000), b.PfnToMfn(1000));
        Assert.NotEqual(a.GetVcpu(0).Basic, b.GetVcpu(0).Basic); // cr3, gdt frames and edx hold mfns
        Assert.Equal(a.ComputeDigest(), b.ComputeDigest());
        Assert.Null(DomainComparison.FirstDifference(a, b));
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Save_restore_through_the_domain_api_preserves_the_digest(GuestType type)
    {
        using GuestDomain source = Build(type, frameSeed: 5);
        using GuestDomain target = DomainTransplant.SaveRestore(source);

        Assert.Equal(DomainLifecycle.Ready, target.Lifecycle);
        Assert.Null(DomainComparison.FirstDifference(source, target));
        Assert.Equal(source.ComputeDigest(), target.ComputeDigest());
        if (source is PvDomain pv)
        {
            var restored = (PvDomain)target;
            Assert.True(restored.StartInfoHoldsMachineFrames);
            Assert.NotEqual(pv.PfnToMfn(pv.StartInfoPfn!.Value), restored.PfnToMfn(restored.StartInfoPfn!.Value));
            Assert.Equal(pv.StorePfn, restored.StorePfn);
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void One_changed_page_byte_changes_the_digest_and_is_located(GuestType type)
    {
        using GuestDomain a = Build(type);
        using GuestDomain b = Build(type);
        ulong pfn = a.DataPfns().Skip(100).First();

        b.GetWritablePage(pfn)[0x123] ^= 0x40;

        Assert.NotEqual(a.ComputeDigest(), b.ComputeDigest());
        string? diff = DomainComparison.FirstDifference(a, b);
        Assert.NotNull(diff);
        Assert.Contains($"page 0x{pfn:x}", diff, StringComparison.Ordinal);
        Assert.Contains("byte 0x123", diff, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Writing_zeros_over_a_zero_page_does_not_change_the_digest(GuestType type)
    {
        using GuestDomain d = Build(type);
        DomainDigest before = d.ComputeDigest();
        ulong zero = d.DataPfns().First(p => !d.IsPageMaterialised(p));

        d.GetWritablePage(zero).Clear(); // materialised, still zero

        Assert.True(d.IsPageMaterialised(zero));
        Assert.Equal(before, d.ComputeDigest());
    }

    [Theory]
    [InlineData(GuestType.Hvm)]
    [InlineData(GuestType.Pvh)]
    public void One_changed_hvm_param_or_context_byte_changes_the_digest(GuestType type)
    {
        using var a = (HvmDomain)Build(type);
        using var b = (HvmDomain)Build(type);
        b.Params.Set(HvmParamIndex.ConsolePfn, b.ConsolePfn + 1);
        Assert.NotEqual(a.ComputeDigest(), b.ComputeDigest());
        Assert.Contains("HVM params", DomainComparison.FirstDifference(a, b), StringComparison.Ordinal);

        using var c = (HvmDomain)Build(type);
        c.Context.Vcpus[1].Cpu!.InstructionPointer ^= 1;
        Assert.NotEqual(a.ComputeDigest(), c.ComputeDigest());
        string? diff = DomainComparison.FirstDifference(a, c);
        Assert.Contains("CPU instance 1, rip", diff, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GuestType.Pv)]
    [InlineData(GuestType.Pv32)]
    public void One_changed_vcpu_byte_changes_the_digest_and_names_the_field(GuestType type)
    {
        using var a = (PvDomain)Build(type);
        using var b = (PvDomain)Build(type);
        PvVcpuState v = b.GetVcpu(1);
        v.Basic![v.Layout.KernelSp] ^= 0x10;

        Assert.NotEqual(a.ComputeDigest(), b.ComputeDigest());
        string? diff = DomainComparison.FirstDifference(a, b);
        Assert.Contains("vcpu 1 basic context", diff, StringComparison.Ordinal);
        Assert.Contains("kernel_sp", diff, StringComparison.Ordinal);

        using var c = (PvDomain)Build(type);
        c.GetVcpu(0).Xsave![40] ^= 1;
        Assert.NotEqual(a.ComputeDigest(), c.ComputeDigest());
    }

    [Fact]
    public void Policy_tsc_type_pin_and_online_changes_all_change_the_digest()
    {
        using var reference = (PvDomain)Build(GuestType.Pv);
        DomainDigest baseline = reference.ComputeDigest();

        var changes = new List<Action<PvDomain>>
        {
            d => d.SetCpuidPolicy(d.CpuidPolicy.Select((l, i) => i == 1 ? l with { C = l.C ^ 1 } : l).ToArray()),
            d => d.SetMsrPolicy(d.MsrPolicy.Select(e => e with { Value = e.Value + 1 }).ToArray()),
            d => d.Tsc = d.Tsc with { KHz = d.Tsc.KHz + 1 },
            d => d.SetVcpuOnline(1, false),
            d => d.Unpin(d.PopulatedPfns().First(p => d.GetPageInfo(p).Pinned)),
            d => d.SetPageType(d.DataPfns().First(), PageType.L1Table),
            d => d.Depopulate(d.DataPfns().Last()),
            d => d.SharedInfo[SharedInfoLayout.VcpuInfoTime(0) + 8] ^= 1,
            d => d.GetVcpu(1).Msrs.Add(new VcpuMsr(0x48, 1)),
        };

        foreach ((Action<PvDomain> change, int i) in changes.Select((c, i) => (c, i)))
        {
            using var d = (PvDomain)Build(GuestType.Pv);
            change(d);
            Assert.True(baseline != d.ComputeDigest(), $"change {i} did not change the digest");
            Assert.NotNull(DomainComparison.FirstDifference(reference, d));
        }
    }

    [Fact]
    public void Fields_a_restore_rewrites_do_not_change_the_digest()
    {
        using var reference = (PvDomain)Build(GuestType.Pv);
        DomainDigest baseline = reference.ComputeDigest();
        using var d = (PvDomain)Build(GuestType.Pv);

        SharedInfoLayout l = d.SharedInfoLayout;
        d.SharedInfo[l.WcSec] ^= 0xFF; // wallclock: the new host's
        d.SharedInfo[l.EvtchnPending] = 0; // cleared by the restore
        d.Tsc = d.Tsc with { ElapsedNanoseconds = 5, Incarnation = 9 };

        Assert.Equal(baseline, d.ComputeDigest());
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Clone_is_equal_and_independent(GuestType type)
    {
        using GuestDomain d = Build(type);
        using GuestDomain copy = d.Clone();

        Assert.Equal(d.ComputeDigest(), copy.ComputeDigest());
        copy.GetWritablePage(copy.DataPfns().First())[0] ^= 1;
        Assert.NotEqual(d.ComputeDigest(), copy.ComputeDigest());
        Assert.Empty(d.Validate());
    }

    [Fact]
    public void Different_guest_types_never_compare_equal()
    {
        using GuestDomain hvm = Build(GuestType.Hvm);
        using GuestDomain pvh = Build(GuestType.Pvh);
        Assert.NotEqual(hvm.ComputeDigest(), pvh.ComputeDigest());
        Assert.Contains("domain header", DomainComparison.FirstDifference(hvm, pvh), StringComparison.Ordinal);
    }
}
