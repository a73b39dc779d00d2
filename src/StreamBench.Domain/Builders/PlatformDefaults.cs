using StreamBench.X86;

namespace StreamBench.Domain.Builders;

/// <summary>Realistic CPU policy, MSR policy and TSC settings for built domains.</summary>
public static class PlatformDefaults
{
    /// <summary>CPUID[1].eax of the simulated host (family 6, model 0x9e, stepping 0xa: Coffee Lake).</summary>
    public const uint HostSignature = 0x0009_06EA;

    /// <summary>Guest TSC frequency: 2.4 GHz.</summary>
    public const uint TscKHz = 2_400_000;

    /// <summary>xcr0 the simulated guests use: x87 | SSE | AVX.</summary>
    public const ulong Xcr0 = 0x7;

    /// <summary>XSAVE area size for <see cref="Xcr0"/>: 512 legacy + 64 header + 256 AVX.</summary>
    public const int XsaveAreaSize = 512 + 64 + 256;

    /// <summary>Xen's changeset field: the commit FORMATS.md was written against.</summary>
    public const ulong XenChangeset = 0xC447_B730_8B13;

    /// <summary>A plausible Xen-levelled CPUID policy ("GenuineIntel", max leaf 0xd, hypervisor bit set).</summary>
    public static IReadOnlyList<CpuidLeaf> CpuidPolicy(GuestType type)
    {
        const uint none = CpuidLeaf.NoSubleaf;
        uint ecx1 = 0xF7FA_3203u | (1u << 31); // ..., hypervisor
        uint edx1 = 0x1789_FBFFu;
        if (type.IsPv())
        {
            ecx1 &= ~(1u << 5); // no VMX for PV guests
        }

        return
        [
            new(0x0000_0000, none, 0x0000_000D, 0x756E_6547, 0x6C65_746E, 0x4965_6E69),
            new(0x0000_0001, none, HostSignature, 0x0000_0800, ecx1, edx1),
            new(0x0000_0007, 0, 0x0000_0000, 0x0000_02A9, 0x0000_0000, 0xBC00_0400),
            new(0x0000_000D, 0, (uint)Xcr0, XsaveAreaSize, XsaveAreaSize, 0),
            new(0x0000_000D, 1, 0x0000_0001, 0, 0, 0),
            new(0x0000_000D, 2, 256, 576, 0, 0),
            new(0x8000_0000, none, 0x8000_0008, 0, 0, 0),
            new(0x8000_0001, none, 0, 0, 0x0000_0121, 0x2C10_0800),
            new(0x8000_0007, none, 0, 0, 0, 0x0000_0100),
            new(0x8000_0008, none, 0x0000_3027, 0, 0, 0),
        ];
    }

    /// <summary>The MSR policy Xen exports (MSR_INTEL_PLATFORM_INFO, MSR_ARCH_CAPABILITIES).</summary>
    public static IReadOnlyList<MsrPolicyEntry> MsrPolicy() =>
    [
        new(0x0000_00CE, 0, 0x0000_0000_8000_0000),
        new(0x0000_010A, 0, 0x0000_0000_0000_006B),
    ];

    /// <summary>TSC settings: default mode, 2.4 GHz, some elapsed time.</summary>
    public static TscInfo Tsc(ulong seed) => new(0, TscKHz, 1_000_000_000ul + (seed % 1_000_000_000ul), 0);
}
