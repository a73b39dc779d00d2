using StreamBench.Domain.Pv;

namespace StreamBench.Domain.Builders;

/// <summary>
/// What to build: guest kind, memory, vCPUs and a seed. The same spec (and seed) always builds
/// the same guest-visible state. <see cref="FrameSeed"/> only moves the machine frames around
/// (PV), so two specs differing only there give domains with equal digests.
/// </summary>
/// <param name="Type">pv, pv32, hvm or pvh.</param>
/// <param name="MemoryMiB">Guest RAM in MiB (at least 4).</param>
/// <param name="Vcpus">vCPU count (1..128).</param>
/// <param name="Seed">Seed for every guest-visible byte.</param>
public sealed record DomainSpec(GuestType Type, ulong MemoryMiB, int Vcpus, ulong Seed)
{
    /// <summary>The smallest guest the builder makes.</summary>
    public const ulong MinMemoryMiB = 4;

    /// <summary>The largest guest the simulation builds: 1 TiB (beyond it the per-page tables alone outgrow a host).</summary>
    public const ulong MaxMemoryMiB = 1024 * 1024;

    /// <summary>
    /// The smallest guest in pages: an HVM or PVH guest given in <see cref="Pages"/> (tiny domains for fuzz seeds and
    /// laws, whose whole save stream is a few KiB); also the smallest domain a restore makes.
    /// </summary>
    public const ulong MinPages = 16;

    /// <summary>
    /// The smallest PV (and 32-bit PV) guest given in <see cref="Pages"/>: room for its p2m, start_info, rings, GDTs,
    /// page tables and 64 user pages (the builder's layout needs about 100 pages for one vCPU).
    /// </summary>
    public const ulong MinPvPages = 128;

    /// <summary>The largest 32-bit PV guest (its page tables map at most 3 GiB).</summary>
    public const ulong MaxPv32MemoryMiB = 3 * 1024;

    /// <summary>Seed for the PV mfn layout (default: derived from <see cref="Seed"/>).</summary>
    public ulong? FrameSeed { get; init; }

    /// <summary>An existing host to take frames from (PV); overrides <see cref="FrameSeed"/>.</summary>
    public MachineFrameAllocator? Host { get; init; }

    /// <summary>Fraction of data pages left all-zero (they cost no memory).</summary>
    public double ZeroPageFraction { get; init; } = 0.5;

    /// <summary>PV: pfns left unpopulated (ballooned out) inside the p2m, to exercise XTAB.</summary>
    public int BalloonedPages { get; init; }

    /// <summary>HVM/PVH: include CPU_XSAVE records (a host with XSAVE). Off matches the Debian/QEMU-TCG captures.</summary>
    public bool HvmXsave { get; init; } = true;

    /// <summary>Pages beyond the initial population the domain may grow by (Xen's max_pages slack).</summary>
    public ulong MemoryLimitSlackPages { get; init; } = 256;

    /// <summary>
    /// Guest RAM in pages when set (at least <see cref="MinPages"/> for HVM and PVH, <see cref="MinPvPages"/> for PV);
    /// it replaces <see cref="MemoryMiB"/>, which may then be 0. See <see cref="Tiny"/>.
    /// </summary>
    public ulong? Pages { get; init; }

    /// <summary>Guest RAM in pages.</summary>
    public ulong MemoryPages => Pages ?? MemoryMiB * 256;

    /// <summary>A tiny guest of <paramref name="pages"/> pages of RAM (below <see cref="MinMemoryMiB"/>).</summary>
    public static DomainSpec Tiny(GuestType type, ulong pages, int vcpus, ulong seed) => new(type, 0, vcpus, seed) { Pages = pages };

    /// <summary>Throws if the spec cannot be built.</summary>
    public void Validate()
    {
        if (Pages is { } pages)
        {
            ulong min = Type.IsHvmContainer() ? MinPages : MinPvPages;
            if (pages < min || pages > MinMemoryMiB * 256)
            {
                throw new ArgumentOutOfRangeException(nameof(Pages), pages,
                    $"a {Type.ToName()} guest given in pages has {min}..{MinMemoryMiB * 256} pages (larger ones: MemoryMiB)");
            }
        }
        else if (MemoryMiB < MinMemoryMiB)
        {
            throw new ArgumentOutOfRangeException(nameof(MemoryMiB), MemoryMiB, $"guests need at least {MinMemoryMiB} MiB");
        }

        if (MemoryMiB > MaxMemoryMiB)
        {
            throw new ArgumentOutOfRangeException(nameof(MemoryMiB), MemoryMiB, $"guests are limited to {MaxMemoryMiB} MiB (1 TiB) here");
        }

        if (Type == GuestType.Pv32 && MemoryMiB > MaxPv32MemoryMiB)
        {
            throw new ArgumentOutOfRangeException(nameof(MemoryMiB), MemoryMiB, $"32-bit PV guests are limited to {MaxPv32MemoryMiB} MiB here");
        }

        if (Vcpus is < 1 or > GuestDomain.MaxVcpuLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(Vcpus), Vcpus, $"vCPU count must be 1..{GuestDomain.MaxVcpuLimit}");
        }

        if (ZeroPageFraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ZeroPageFraction), ZeroPageFraction, "must be within [0, 1]");
        }

        if (BalloonedPages < 0 || (ulong)BalloonedPages > MemoryPages / 4)
        {
            throw new ArgumentOutOfRangeException(nameof(BalloonedPages), BalloonedPages, "must be within [0, memory/4]");
        }
    }
}
