using StreamBench.Domain.Pages;

namespace StreamBench.Domain.Pv;

public sealed partial class PvDomain
{
    /// <summary>
    /// Installs a saved shared_info page as Xen's restore does (handle_shared_info): vcpu_info and
    /// arch are copied from <paramref name="saved"/>; arch.pfn_to_mfn_frame_list_list, the pending
    /// event bitmaps and every vcpu_info's evtchn_pending_sel are cleared; every event channel is
    /// masked. Everything else on this domain's page (wallclock) is kept.
    /// </summary>
    public void LoadSharedInfo(ReadOnlySpan<byte> saved)
    {
        ThrowIfDiscarded();
        if (saved.Length != PageGeometry.Size)
        {
            throw new DomainException($"shared_info must be {PageGeometry.Size} bytes, got {saved.Length}");
        }

        SharedInfoLayout l = SharedInfoLayout;
        int vcpuInfoBytes = SharedInfoLayout.LegacyMaxVcpus * SharedInfoLayout.VcpuInfoSize;
        saved[..vcpuInfoBytes].CopyTo(_sharedInfo);
        saved[l.ArchMaxPfn..l.Size].CopyTo(_sharedInfo.AsSpan(l.ArchMaxPfn));
        PvWords.Write(_sharedInfo, l.ArchFrameListList, l.Width, 0);
        _sharedInfo.AsSpan(l.EvtchnPending, l.EvtchnBitmapBytes).Clear();
        for (int v = 0; v < SharedInfoLayout.LegacyMaxVcpus; v++)
        {
            PvWords.Write(_sharedInfo, l.VcpuInfoPendingSel(v), l.Width, 0);
        }

        _sharedInfo.AsSpan(l.EvtchnMask, l.EvtchnBitmapBytes).Fill(0xFF);
    }
}
