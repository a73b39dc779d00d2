using StreamBench.Domain.Hvm.Context;
using StreamBench.Domain.Pages;

namespace StreamBench.Domain.Hvm;

/// <summary>
/// An HVM-container guest (HVM, or PVH when <see cref="IsPvh"/>): guest-physical memory with the
/// MMIO hole and special pages, HVM params, and the HVM context (vCPU and device state). The guest
/// sees pfns only, so nothing needs normalising; pages go into the stream as they are.
/// </summary>
public sealed class HvmDomain : GuestDomain
{
    private HvmContext _context;

    /// <summary>Creates an empty HVM or PVH domain over <paramref name="layout"/> (nothing populated), as a restore starts.</summary>
    public HvmDomain(bool isPvh, int maxVcpus, HvmMemoryLayout layout, ulong memoryLimitPages)
        : base(isPvh ? GuestType.Pvh : GuestType.Hvm, maxVcpus, memoryLimitPages)
    {
        ArgumentNullException.ThrowIfNull(layout);
        IsPvh = isPvh;
        Layout = layout;
        _context = new HvmContext(maxVcpus);
    }

    /// <summary>True for PVH (no device model: no PIC, PIT, RTC, IOAPIC, HPET, PM timer; no VGA hole).</summary>
    public bool IsPvh { get; }

    /// <summary>The guest-physical memory map.</summary>
    public HvmMemoryLayout Layout { get; }

    /// <summary>HVM params.</summary>
    public HvmParams Params { get; private set; } = new();

    /// <summary>The typed HVM context.</summary>
    public HvmContext Context
    {
        get => _context;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.VcpuCount != MaxVcpus)
            {
                throw new DomainException($"HVM context describes {value.VcpuCount} vCPUs, the domain has {MaxVcpus}");
            }

            _context = value;
        }
    }

    /// <summary>The highest populated pfn (Xen's max_gpfn; 0 when empty).</summary>
    public override ulong MaxPfn => _memory.MaxPopulatedPfn ?? 0;

    /// <inheritdoc/>
    public override bool IsPfnValid(ulong pfn) => pfn < PageGeometry.PfnLimit;

    /// <summary>The xenstore ring pfn (HVM_PARAM_STORE_PFN).</summary>
    public ulong StorePfn => Params.Get(HvmParamIndex.StorePfn);

    /// <summary>The console ring pfn (HVM_PARAM_CONSOLE_PFN).</summary>
    public ulong ConsolePfn => Params.Get(HvmParamIndex.ConsolePfn);

    /// <summary>The synchronous ioreq page (HVM_PARAM_IOREQ_PFN).</summary>
    public ulong IoreqPfn => Params.Get(HvmParamIndex.IoreqPfn);

    /// <summary>The buffered ioreq page (HVM_PARAM_BUFIOREQ_PFN).</summary>
    public ulong BufioreqPfn => Params.Get(HvmParamIndex.BufioreqPfn);

    /// <summary>The context as Xen's blob (XEN_DOMCTL_gethvmcontext).</summary>
    public byte[] GetContextBlob() => _context.ToBlob();

    /// <summary>
    /// Parses and installs a context blob (XEN_DOMCTL_sethvmcontext). Throws
    /// <see cref="HvmContextException"/> with the exact problem; the current context is unchanged then.
    /// </summary>
    public void SetContextBlob(ReadOnlySpan<byte> blob, HvmContextParseOptions? options = null)
    {
        ThrowIfDiscarded();
        _context = HvmContext.Parse(blob, MaxVcpus, options);
    }

    /// <summary>A vCPU is online when the context holds a CPU record for it (Xen saves none for a downed vCPU).</summary>
    public override bool IsVcpuOnline(int vcpu) => (uint)vcpu < (uint)MaxVcpus && _context.Vcpus[vcpu].Cpu is not null;

    /// <summary>A deep copy.</summary>
    public override GuestDomain Clone()
    {
        ThrowIfDiscarded();
        var copy = new HvmDomain(IsPvh, MaxVcpus, Layout, MemoryLimitPages);
        CopyCommonStateTo(copy);
        copy.Params = Params.Clone();
        copy._context = _context.Clone();
        return copy;
    }

    private protected override void AddStructuralPfns(PfnBitmap set)
    {
        for (ulong pfn = HvmMemoryLayout.IoreqServerStartPfn; pfn < HvmMemoryLayout.SpecialRegionEndPfn; pfn++)
        {
            set.Add(pfn);
        }

        foreach (uint index in (ReadOnlySpan<uint>)[HvmParamIndex.StorePfn, HvmParamIndex.ConsolePfn, HvmParamIndex.IoreqPfn,
                     HvmParamIndex.BufioreqPfn, HvmParamIndex.PagingRingPfn, HvmParamIndex.MonitorRingPfn, HvmParamIndex.SharingRingPfn])
        {
            if (Params.TryGet(index, out ulong pfn))
            {
                set.Add(pfn);
            }
        }

        if (Params.TryGet(HvmParamIndex.IdentPt, out ulong identPt))
        {
            set.Add(identPt >> PageGeometry.Shift);
        }
    }

    private protected override bool CanPopulateCore(ulong pfn, out string reason) => Layout.MayPopulate(pfn, out reason);

    private protected override void OnPopulate(ulong pfn)
    {
    }

    private protected override void OnDepopulate(ulong pfn)
    {
    }

    private protected override void ValidateCore(List<string> problems)
    {
        foreach ((string name, uint index) in (ReadOnlySpan<(string, uint)>)[("STORE_PFN", HvmParamIndex.StorePfn), ("CONSOLE_PFN", HvmParamIndex.ConsolePfn)])
        {
            if (!Params.TryGet(index, out ulong pfn))
            {
                problems.Add($"HVM param {name} is not set");
            }
            else if (!IsPopulated(pfn))
            {
                problems.Add($"HVM param {name} names pfn 0x{pfn:x}, which is not populated");
            }
        }

        if (!IsPvh)
        {
            foreach ((string name, uint index) in (ReadOnlySpan<(string, uint)>)[("IOREQ_PFN", HvmParamIndex.IoreqPfn), ("BUFIOREQ_PFN", HvmParamIndex.BufioreqPfn)])
            {
                if (Params.TryGet(index, out ulong pfn) && !IsPopulated(pfn))
                {
                    problems.Add($"HVM param {name} names pfn 0x{pfn:x}, which is not populated");
                }
            }
        }

        if (_context.Header.Magic != HvmSaveTypes.FileMagic)
        {
            problems.Add($"HVM context header magic is 0x{_context.Header.Magic:x8}");
        }

        IReadOnlyList<HvmContextProblem> blobProblems = HvmContext.Check(_context.ToBlob(), MaxVcpus);
        problems.AddRange(blobProblems.Select(p => p.ToString()));

        foreach (ulong pfn in PopulatedPfns())
        {
            if (!Layout.MayPopulate(pfn, out string reason))
            {
                problems.Add(reason);
                break;
            }
        }

        if (IsPvh && (_context.MasterPic is not null || _context.Pit is not null || _context.IoApic is not null))
        {
            problems.Add("a PVH domain has emulated legacy devices (PIC/PIT/IOAPIC) in its context");
        }
    }
}
