using StreamBench.Domain.Determinism;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;

namespace StreamBench.Domain.Builders;

/// <summary>
/// Makes domains: realistic ones from a <see cref="DomainSpec"/> (for saving, workloads, tests),
/// and empty ones in the Building state for a restore to fill.
/// </summary>
public static class DomainBuilder
{
    /// <summary>Builds a complete, validated (Ready) domain for <paramref name="spec"/>.</summary>
    public static GuestDomain Build(DomainSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        return spec.Type.IsPv() ? PvDomainBuilder.Build(spec) : HvmDomainBuilder.Build(spec);
    }

    /// <summary>Builds a domain of <paramref name="type"/> with <paramref name="memoryMiB"/> MiB and <paramref name="vcpus"/> vCPUs.</summary>
    public static GuestDomain Build(GuestType type, ulong memoryMiB, int vcpus, ulong seed) =>
        Build(new DomainSpec(type, memoryMiB, vcpus, seed));

    /// <summary>Builds a PV domain (pv or pv32).</summary>
    public static PvDomain BuildPv(DomainSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!spec.Type.IsPv())
        {
            throw new ArgumentException($"{spec.Type} is not a PV type", nameof(spec));
        }

        return (PvDomain)Build(spec);
    }

    /// <summary>Builds an HVM or PVH domain.</summary>
    public static HvmDomain BuildHvm(DomainSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!spec.Type.IsHvmContainer())
        {
            throw new ArgumentException($"{spec.Type} is not an HVM type", nameof(spec));
        }

        return (HvmDomain)Build(spec);
    }

    /// <summary>
    /// An empty domain for a restore: nothing populated, Building state. PV domains start at the
    /// given width (64-bit by default, as Xen's PV domains do until set_address_size); HVM/PVH
    /// domains get the memory map for <paramref name="memoryPages"/>.
    /// </summary>
    public static GuestDomain CreateEmpty(GuestType type, int vcpus, ulong memoryPages, MachineFrameAllocator? host = null,
        ulong memoryLimitSlackPages = 256, ulong seed = 0)
    {
        ulong limit = memoryPages + HvmMemoryLayout.SpecialPageCount + HvmMemoryLayout.IoreqServerPageCount + memoryLimitSlackPages;
        return type switch
        {
            GuestType.Pv or GuestType.Pv32 => new PvDomain(
                type == GuestType.Pv ? PvGeometry.X86_64 : PvGeometry.X86_32Pae,
                vcpus,
                host ?? new MachineFrameAllocator(SplitMix64.Derive(seed, 0x5245_5354)), // "REST"
                limit),
            GuestType.Hvm or GuestType.Pvh => new HvmDomain(type == GuestType.Pvh, vcpus,
                HvmMemoryLayout.ForMemory(memoryPages, vgaHole: type == GuestType.Hvm), limit),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };
    }

    /// <summary>
    /// An empty domain configured like <paramref name="source"/> (type, vCPUs, memory map, limit):
    /// the target of a local save/restore or migration. PV targets draw frames from
    /// <paramref name="host"/> (a fresh host with another seed if null), so their mfns differ.
    /// </summary>
    public static GuestDomain CreateEmptyLike(GuestDomain source, MachineFrameAllocator? host = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source switch
        {
            PvDomain pv => new PvDomain(pv.Geometry, pv.MaxVcpus,
                host ?? new MachineFrameAllocator(SplitMix64.Derive(pv.Frames.Seed, 0x4E45_5854)), // "NEXT"
                pv.MemoryLimitPages),
            HvmDomain hvm => new HvmDomain(hvm.IsPvh, hvm.MaxVcpus, hvm.Layout, hvm.MemoryLimitPages),
            _ => throw new ArgumentException($"unknown domain class {source.GetType().Name}", nameof(source)),
        };
    }

    /// <summary>Pages a spec's domain will populate (RAM plus special pages), for sizing limits.</summary>
    public static ulong PopulatedPagesFor(DomainSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Type.IsPv()
            ? spec.MemoryPages - (ulong)spec.BalloonedPages
            : HvmMemoryLayout.ForMemory(spec.MemoryPages, spec.Type == GuestType.Hvm).RamPages
              + HvmMemoryLayout.SpecialPageCount + (spec.Type == GuestType.Hvm ? (ulong)HvmMemoryLayout.IoreqServerPageCount : 0);
    }
}
