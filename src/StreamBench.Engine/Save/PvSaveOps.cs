using System.Buffers.Binary;
using StreamBench.Domain;
using StreamBench.Domain.Pages;
using StreamBench.Domain.Pv;
using StreamBench.Formats.Wire;
using WirePageType = StreamBench.Formats.Wire.PageType;

namespace StreamBench.Engine.Save;

/// <summary>
/// The x86 PV save ops (xg_sr_save_x86_pv.c): X86_PV_INFO and the CPU policy as static data, X86_PV_P2M_FRAMES at
/// the start of the stream, page tables normalised (mfn → pfn), pfns without an mfn sent as XTAB and deferred to
/// the final pass, and TSC_INFO, SHARED_INFO and each online vCPU's BASIC/EXTENDED/XSAVE/MSRS at the end.
/// </summary>
internal sealed class PvSaveOps : X86SaveOps
{
    private readonly PvDomain _pv;

    public PvSaveOps(PvDomain domain, SaveEngine engine) : base(domain, engine) => _pv = domain;

    public override DomainType StreamType => DomainType.X86Pv;

    public override void Setup() => P2mSize = _pv.P2mSize; // x86_pv_domain_info: max_pfn + 1

    public override void StaticData()
    {
        Span<byte> info = stackalloc byte[LibxcBodySizes.X86PvInfo];
        info.Clear();
        info[0] = (byte)_pv.Geometry.GuestWidth;
        info[1] = (byte)_pv.Geometry.PageTableLevels;
        Engine.WriteRecord(LibxcRecordType.X86PvInfo, info);
        WriteCpuPolicyRecords();
    }

    public override void StartOfStream()
    {
        // write_x86_pv_p2m_frames: start_pfn 0, end_pfn max_pfn, one u64 pfn per p2m frame.
        IReadOnlyList<ulong> frames = _pv.P2mFramePfns;
        var body = new byte[LibxcBodySizes.P2mFramesHeader + (frames.Count * 8)];
        BinaryPrimitives.WriteUInt32LittleEndian(body, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), checked((uint)_pv.MaxPfn));
        for (int i = 0; i < frames.Count; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(body.AsSpan(LibxcBodySizes.P2mFramesHeader + (i * 8)), frames[i]);
        }

        Engine.WriteRecord(LibxcRecordType.X86PvP2mFrames, body);
    }

    public override void EndOfCheckpoint()
    {
        WriteTscInfo();
        Engine.WriteRecord(LibxcRecordType.SharedInfo, _pv.SharedInfo);
        foreach (int id in _pv.OnlineVcpus())
        {
            WriteVcpu(id);
        }
    }

    // write_one_vcpu_basic/extended/xsave/msrs: BASIC always, the others only when the vCPU has that state.
    private void WriteVcpu(int id)
    {
        PvVcpuState state = _pv.GetVcpu(id);
        byte[] basic = _pv.NormaliseVcpuBasic(id);
        WriteVcpuRecord(LibxcRecordType.X86PvVcpuBasic, id, basic);
        if (state.Extended is { Length: > 0 } extended)
        {
            WriteVcpuRecord(LibxcRecordType.X86PvVcpuExtended, id, extended);
        }

        if (state.Xsave is { Length: > 0 } xsave)
        {
            WriteVcpuRecord(LibxcRecordType.X86PvVcpuXsave, id, xsave);
        }

        if (state.Msrs.Count > 0)
        {
            var msrs = new byte[state.Msrs.Count * LibxcBodySizes.VcpuMsr];
            for (int i = 0; i < state.Msrs.Count; i++)
            {
                Span<byte> e = msrs.AsSpan(i * LibxcBodySizes.VcpuMsr);
                BinaryPrimitives.WriteUInt32LittleEndian(e, state.Msrs[i].Index);
                BinaryPrimitives.WriteUInt32LittleEndian(e[4..], 0);
                BinaryPrimitives.WriteUInt64LittleEndian(e[8..], state.Msrs[i].Value);
            }

            WriteVcpuRecord(LibxcRecordType.X86PvVcpuMsrs, id, msrs);
        }
    }

    private void WriteVcpuRecord(LibxcRecordType type, int id, ReadOnlySpan<byte> blob)
    {
        var body = new byte[LibxcBodySizes.VcpuHeader + blob.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)id);
        blob.CopyTo(body.AsSpan(LibxcBodySizes.VcpuHeader));
        Engine.WriteRecord(type, body);
    }

    // Linux's xen_pre_suspend: start_info's xenstore/console fields go back to pfns before the final pass.
    public override void Suspend() => _pv.NormaliseStartInfo();

    public override WirePageType PfnType(ulong pfn, out bool deferred)
    {
        PageInfo info = _pv.GetPageInfo(pfn);
        deferred = !info.IsPopulated; // pfn_to_gfn gives INVALID_MFN: likely ballooned, resent in the final pass.
        return PageTypes.ToWire(info);
    }

    public override bool Normalises(WirePageType type) => PageTypes.TableLevel(type) != 0;

    public override bool NormalisePage(ulong pfn, WirePageType type, Span<byte> destination, bool paused, out string? error)
    {
        if (_pv.TryNormalisePageTable(pfn, destination, out PageTableError? problem))
        {
            error = null;
            return true;
        }

        error = $"pfn 0x{pfn:x}: {problem!.Message}";
        return false;
    }
}
