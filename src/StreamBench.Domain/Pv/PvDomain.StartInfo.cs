using System.Buffers.Binary;
using StreamBench.Domain.Pages;

namespace StreamBench.Domain.Pv;

public sealed partial class PvDomain
{
    /// <summary>
    /// The pfn of start_info, read from vcpu0's suspend record (edx holds its mfn in the live
    /// domain); null if vcpu0 has no context or the frame is not the guest's.
    /// </summary>
    public ulong? StartInfoPfn
    {
        get
        {
            byte[]? basic = _vcpus.Length > 0 ? _vcpus[0].Basic : null;
            if (basic is null)
            {
                return null;
            }

            ulong mfn = _vcpus[0].Layout.ReadWord(basic, _vcpus[0].Layout.Rdx);
            return MfnInPseudophysmap(mfn) ? _m2p[mfn] : null;
        }
    }

    /// <summary>The xenstore ring's pfn named by start_info (converted if the page holds an mfn); null if unknown.</summary>
    public ulong? StorePfn => ReadStartInfoFrame(StartInfoLayout.StoreMfn);

    /// <summary>The console ring's pfn named by start_info; null if unknown.</summary>
    public ulong? ConsolePfn => ReadStartInfoFrame(StartInfoLayout.ConsoleMfn);

    /// <summary>Reads a guest word of the start_info page.</summary>
    public ulong ReadStartInfoWord(int offset)
    {
        ulong pfn = StartInfoPfn ?? throw new DomainException("the domain has no start_info (vcpu0 has no context)");
        return PvWords.Read(_memory.Contents.Read(pfn), offset, Geometry.GuestWidth);
    }

    /// <summary>
    /// The guest's pre-suspend step: start_info's xenstore and console fields become pfns
    /// (Linux's xen_pre_suspend does this). No-op if they already are.
    /// </summary>
    public void NormaliseStartInfo()
    {
        ThrowIfDiscarded();
        if (!StartInfoHoldsMachineFrames)
        {
            return;
        }

        ulong siPfn = StartInfoPfn ?? throw new DomainException("the domain has no start_info (vcpu0 has no context)");
        Span<byte> page = GetWritablePage(siPfn);
        StartInfoLayout layout = StartInfoLayout;
        foreach (int offset in (int[])[layout.StoreMfn, layout.ConsoleMfn])
        {
            ulong mfn = PvWords.Read(page, offset, layout.Width);
            if (!MfnInPseudophysmap(mfn))
            {
                throw new DomainException($"start_info frame at offset {offset} (mfn 0x{mfn:x}) is not the guest's");
            }

            PvWords.Write(page, offset, layout.Width, _m2p[mfn]);
        }

        StartInfoHoldsMachineFrames = false;
    }

    /// <summary>
    /// Xen's process_start_info: checks the start_info pfn and the xenstore/console pfns it names
    /// (range, pseudophysmap), rewrites them as mfns, installs the new event channels, and
    /// resets nr_pages (max_pfn + 1), shared_info (this host's frame) and flags (0).
    /// </summary>
    public void LocaliseStartInfo(ulong startInfoPfn, uint storeEvtchn, uint consoleEvtchn)
    {
        ThrowIfDiscarded();
        if (StartInfoHoldsMachineFrames)
        {
            throw new DomainException("start_info already holds machine frames");
        }

        _ = CheckedFrameFor(startInfoPfn, PageType.Normal, "Start Info");
        StartInfoLayout layout = StartInfoLayout;
        ReadOnlySpan<byte> current = _memory.Contents.Read(startInfoPfn);

        ulong storePfn = PvWords.Read(current, layout.StoreMfn, layout.Width);
        ulong storeMfn = CheckedStartInfoFrame(storePfn, "XenStore");
        ulong consolePfn = PvWords.Read(current, layout.ConsoleMfn, layout.Width);
        ulong consoleMfn = CheckedStartInfoFrame(consolePfn, "Console");

        Span<byte> page = GetWritablePage(startInfoPfn);
        PvWords.Write(page, layout.StoreMfn, layout.Width, storeMfn);
        BinaryPrimitives.WriteUInt32LittleEndian(page[layout.StoreEvtchn..], storeEvtchn);
        PvWords.Write(page, layout.ConsoleMfn, layout.Width, consoleMfn);
        BinaryPrimitives.WriteUInt32LittleEndian(page[layout.ConsoleEvtchn..], consoleEvtchn);
        PvWords.Write(page, layout.NrPages, layout.Width, _maxPfn + 1);
        PvWords.Write(page, layout.SharedInfo, layout.Width, SharedInfoMfn << PageGeometry.Shift);
        BinaryPrimitives.WriteUInt32LittleEndian(page[layout.Flags..], 0);
        StartInfoHoldsMachineFrames = true;
    }

    private ulong CheckedStartInfoFrame(ulong pfn, string what)
    {
        if (pfn > _maxPfn)
        {
            throw new DomainException($"{what} pfn 0x{pfn:x} out of range (max_pfn 0x{_maxPfn:x})");
        }

        ulong mfn = PfnToMfn(pfn);
        if (!MfnInPseudophysmap(mfn))
        {
            throw new DomainException($"{what} pfn 0x{pfn:x} has bad mfn 0x{mfn:x}");
        }

        return mfn;
    }

    private ulong? ReadStartInfoFrame(int offset)
    {
        ulong? si = StartInfoPfn;
        if (si is null || !IsPopulated(si.Value))
        {
            return null;
        }

        ulong value = PvWords.Read(_memory.Contents.Read(si.Value), offset, Geometry.GuestWidth);
        if (!StartInfoHoldsMachineFrames)
        {
            return value;
        }

        return MfnInPseudophysmap(value) ? _m2p[value] : null;
    }
}
