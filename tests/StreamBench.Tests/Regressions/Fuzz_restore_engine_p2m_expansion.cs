using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Pv;
using Xunit;

namespace StreamBench.Tests.Regressions;

/// <summary>
/// Fuzzing regression (restore-engine target, 2026-11-21; four allocation-budget buckets, one cause): an
/// X86_PV_P2M_FRAMES record of 16 bytes with start_pfn = end_pfn = 0xffffffff (one frame, so its length is right) made
/// <see cref="PvDomain.ExpandP2m"/> grow the p2m frame list to 4-8 million entries, 64 MiB and more for a 400-byte
/// stream. A p2m needing more frames than the domain may have pages is now refused (DomainException, which the
/// restore reports as a StreamFormatException on end_pfn).
/// </summary>
public sealed class Fuzz_restore_engine_p2m_expansion
{
    // libxl, LIBXC_CONTEXT, libxc v3 PV headers, X86_PV_INFO (4/3), CPUID and MSR policies, STATIC_DATA_END,
    // X86_PV_P2M_FRAMES start_pfn = end_pfn = 0xffffff30 (afl-tmin output).
    private const string Input =
        "TGlieGxGbXQAAAACAAAAAAEAAAAAAAAA//////////9YRU5GAAAAAwAAAAAAAAAAAQAAAAwAAAAwMDAwMDAwMAIAAAAIAAAABAMA" +
        "AAAAAAARAAAA8AAAADAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw" +
        "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw" +
        "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw" +
        "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMBIAAAAgAAAAMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAQAAAAAAAA" +
        "AAMAAAAQAAAAMP///zD///8wMDAwMDAwMA==";

    [Fact]
    public void A_huge_end_pfn_is_refused_within_the_allocation_budget() =>
        FuzzRegression.AssertHandled("restore-engine", Convert.FromBase64String(Input));

    [Theory]
    [InlineData(GuestType.Pv)]
    [InlineData(GuestType.Pv32)]
    public void ExpandP2m_refuses_more_p2m_frames_than_the_domain_has_pages(GuestType type)
    {
        var domain = (PvDomain)DomainBuilder.CreateEmpty(type, 1, 1024);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<DomainException>(() => domain.ExpandP2m(0xFFFF_FFFF));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        domain.ExpandP2m(4095); // a p2m of a few frames is still fine
        Assert.Equal(4095ul, domain.MaxPfn);
    }
}
