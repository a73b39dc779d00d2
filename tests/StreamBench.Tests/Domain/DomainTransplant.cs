using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;

namespace StreamBench.Tests.Domain;

/// <summary>
/// Save and restore through the domain API alone, in the order Xen's engine works
/// (xg_sr_save_x86_*.c / xg_sr_restore_x86_*.c): it is both a test fixture and a worked example
/// for the engine. The target is a new domain (other frames, for PV) that is completed at the end.
/// </summary>
internal static class DomainTransplant
{
    public static GuestDomain SaveRestore(GuestDomain source, MachineFrameAllocator? host = null)
    {
        GuestDomain target = DomainBuilder.CreateEmptyLike(source, host);
        try
        {
            switch (source)
            {
                case PvDomain pv:
                    RestorePv(pv, (PvDomain)target);
                    break;
                case HvmDomain hvm:
                    RestoreHvm(hvm, (HvmDomain)target);
                    break;
            }

            target.SetCpuidPolicy(source.CpuidPolicy);
            target.SetMsrPolicy(source.MsrPolicy);
            target.Tsc = source.Tsc with { Incarnation = source.Tsc.Incarnation + 1 };
            target.Complete();
            return target;
        }
        catch
        {
            target.Discard();
            throw;
        }
    }

    private static void RestorePv(PvDomain s, PvDomain t)
    {
        // X86_PV_P2M_FRAMES.
        t.ExpandP2m(s.MaxPfn);
        for (int i = 0; i < s.P2mFramePfns.Count; i++)
        {
            t.SetP2mFramePfn(i, s.P2mFramePfns[i]);
        }

        // PAGE_DATA: saver normalises page tables, restorer populates, sets types, localises.
        var page = new byte[PageGeometry.Size];
        foreach (ulong pfn in s.PopulatedPfns())
        {
            PageInfo info = s.GetPageInfo(pfn);
            if (!info.HasContents)
            {
                continue;
            }

            t.Populate(pfn);
            t.SetPageType(pfn, info.Type);
            if (info.IsPageTable)
            {
                s.NormalisePageTable(pfn, page);
                t.LocalisePageTable(info.Type, page);
                t.WritePage(pfn, page);
            }
            else
            {
                t.WritePage(pfn, s.ReadPage(pfn));
            }
        }

        // SHARED_INFO.
        t.LoadSharedInfo(s.SharedInfo);

        // VCPU records, then stream_complete: vCPU context (with start_info), pins, guest p2m.
        ulong startInfoPfn = 0;
        for (int id = 0; id < s.MaxVcpus; id++)
        {
            PvVcpuState sv = s.GetVcpu(id);
            if (!sv.Online)
            {
                continue;
            }

            byte[] basic = s.NormaliseVcpuBasic(id);
            if (id == 0)
            {
                startInfoPfn = sv.Layout.ReadWord(basic, sv.Layout.Rdx);
                t.LocaliseStartInfo(startInfoPfn, storeEvtchn: 11, consoleEvtchn: 12);
            }

            t.LocaliseVcpuBasic(id, basic);
            PvVcpuState tv = t.GetVcpu(id);
            tv.Extended = (byte[]?)sv.Extended?.Clone();
            tv.Xsave = (byte[]?)sv.Xsave?.Clone();
            tv.Msrs.AddRange(sv.Msrs);
        }

        foreach (ulong pfn in s.PopulatedPfns())
        {
            if (s.GetPageInfo(pfn).Pinned)
            {
                t.Pin(pfn);
            }
        }

        t.WriteGuestP2m();
    }

    private static void RestoreHvm(HvmDomain s, HvmDomain t)
    {
        foreach (ulong pfn in s.PopulatedPfns())
        {
            t.Populate(pfn);
            t.WritePage(pfn, s.ReadPage(pfn));
        }

        foreach (uint index in HvmParamIndex.SavedByXen)
        {
            if (s.Params.TryGet(index, out ulong value) && value != 0)
            {
                t.Params.Set(index, value);
            }
        }

        t.SetContextBlob(s.GetContextBlob());
    }
}
