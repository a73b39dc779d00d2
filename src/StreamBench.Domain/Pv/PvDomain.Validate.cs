using StreamBench.Domain.Pages;

namespace StreamBench.Domain.Pv;

public sealed partial class PvDomain
{
    private const int MaxReportedProblems = 32;

    private protected override void ValidateCore(List<string> problems)
    {
        void Add(string problem)
        {
            if (problems.Count < MaxReportedProblems)
            {
                problems.Add(problem);
            }
        }

        PageType top = PageTypeExtensions.ForTableLevel(Geometry.PageTableLevels);

        // vCPUs: what process_vcpu_basic and Xen's setcontext would check.
        for (int id = 0; id < MaxVcpus; id++)
        {
            ValidateVcpu(id, top, Add);
        }

        ValidateStartInfo(Add);

        // shared_info must advertise the p2m size.
        if (SharedInfoMaxPfnField != _maxPfn + 1)
        {
            Add($"shared_info.arch.max_pfn is 0x{SharedInfoMaxPfnField:x}, expected 0x{_maxPfn + 1:x}");
        }

        // The guest's p2m frames must hold the p2m.
        for (int i = 0; i < _p2mFramePfns.Count; i++)
        {
            ulong framePfn = _p2mFramePfns[i];
            if (framePfn > _maxPfn || GetPageInfo(framePfn).Type != PageType.Normal)
            {
                Add($"p2m_frame_list[{i}] = 0x{framePfn:x} is not an ordinary populated page");
            }
        }

        if (problems.Count == 0)
        {
            foreach (ulong pfn in PopulatedPfns())
            {
                ulong guest = ReadGuestP2mEntry(pfn);
                if (guest != PfnToMfn(pfn))
                {
                    Add($"guest p2m[0x{pfn:x}] = 0x{guest:x} but the p2m says 0x{PfnToMfn(pfn):x} (call WriteGuestP2m)");
                    break;
                }
            }
        }

        // Page tables: every present entry must be migratable.
        Span<byte> scratch = stackalloc byte[PageGeometry.Size];
        foreach (ulong pfn in PopulatedPfns())
        {
            PageInfo info = GetPageInfo(pfn);
            if (info.Pinned && !info.IsPageTable)
            {
                Add($"pfn 0x{pfn:x} is pinned but has type {info.Type}");
            }

            if (info.IsPageTable && !NormaliseCore(info.Type, _memory.Contents.Read(pfn), scratch, lenient: false, out PageTableError? error))
            {
                Add($"page table pfn 0x{pfn:x}: {error!.Message}");
            }

            if (problems.Count >= MaxReportedProblems)
            {
                break;
            }
        }
    }

    // One online vCPU: what process_vcpu_basic and Xen's setcontext would check.
    private void ValidateVcpu(int id, PageType top, Action<string> add)
    {
        PvVcpuState v = _vcpus[id];
        if (!v.Online)
        {
            return;
        }

        if (v.Basic is null)
        {
            add(id == 0 ? "vcpu0 has no basic context (Sender didn't send vcpu0's basic state)" : $"vcpu{id} is online without a basic context");
            return;
        }

        PvVcpuContext ctx = v.Context;
        CheckTopTable(Geometry.Cr3ToFrame(ctx.Cr3), $"vcpu{id} cr3", top, add);
        if (Geometry.Is64Bit && ctx.Cr1 != 0)
        {
            CheckTopTable(ctx.Cr1 >> PageGeometry.Shift, $"vcpu{id} cr1", top, add);
        }

        if (ctx.GdtEntries > VcpuGuestContextLayout.FirstReservedGdtEntry)
        {
            add($"vcpu{id} gdt_ents {ctx.GdtEntries} exceeds {VcpuGuestContextLayout.FirstReservedGdtEntry}");
        }
        else
        {
            for (int i = 0; i < ctx.GdtFrameCount; i++)
            {
                ulong mfn = ctx.GetGdtFrame(i);
                if (!MfnInPseudophysmap(mfn))
                {
                    add($"vcpu{id} GDT frame {i} (mfn 0x{mfn:x}) is not in the pseudophysmap");
                }
                else if (GetPageInfo(_m2p[mfn]).Type != PageType.Normal)
                {
                    add($"vcpu{id} GDT frame {i} (pfn 0x{_m2p[mfn]:x}) is {GetPageInfo(_m2p[mfn]).Type}, expected Normal");
                }
            }
        }
    }

    // start_info and the rings it names.
    private void ValidateStartInfo(Action<string> add)
    {
        if (_vcpus[0].Basic is not null)
        {
            ulong? si = StartInfoPfn;
            if (si is null)
            {
                add("vcpu0's suspend record (edx) does not name a guest frame for start_info");
            }
            else
            {
                if (GetPageInfo(si.Value).Type != PageType.Normal)
                {
                    add($"start_info pfn 0x{si.Value:x} has type {GetPageInfo(si.Value).Type}");
                }

                foreach ((string name, ulong? pfn) in (ReadOnlySpan<(string, ulong?)>)[("xenstore", StorePfn), ("console", ConsolePfn)])
                {
                    if (pfn is null || pfn.Value > _maxPfn || !IsPopulated(pfn.Value))
                    {
                        add($"start_info's {name} frame does not name a populated pfn");
                    }
                }
            }
        }
    }

    private void CheckTopTable(ulong mfn, string what, PageType top, Action<string> add)
    {
        if (!MfnInPseudophysmap(mfn))
        {
            add($"{what} (mfn 0x{mfn:x}) is not in the pseudophysmap");
            return;
        }

        PageInfo info = GetPageInfo(_m2p[mfn]);
        if (info.Type != top || !info.Pinned)
        {
            add($"{what} (pfn 0x{_m2p[mfn]:x}) is {info}, expected a pinned {top}");
        }
    }
}
