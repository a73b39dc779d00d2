using System.Buffers.Binary;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Pages;
using StreamBench.Formats.Wire;
using WirePageType = StreamBench.Formats.Wire.PageType;

namespace StreamBench.Engine.Save;

/// <summary>
/// The x86 HVM save ops (xg_sr_save_x86_hvm.c), for HVM and PVH: the CPU policy as static data, pfns sent as they
/// are (identity pfn_to_gfn, no normalisation), every pfn up to max_gpfn walked (holes go out as XTAB, which is what
/// get_pfn_type_batch reports for them), then TSC_INFO, HVM_CONTEXT and HVM_PARAMS (in the saver's order).
/// </summary>
internal sealed class HvmSaveOps : X86SaveOps
{
    private readonly HvmDomain _hvm;

    public HvmSaveOps(HvmDomain domain, SaveEngine engine) : base(domain, engine) => _hvm = domain;

    public override DomainType StreamType => DomainType.X86Hvm;

    /// <summary>HVM guests with a device model get an EMULATOR_CONTEXT in libxl streams; PVH has none.</summary>
    public bool HasDeviceModel => !_hvm.IsPvh;

    public override void Setup() => P2mSize = _hvm.MaxPfn + 1; // xc_domain_nr_gpfns: max_gpfn + 1

    public override void StaticData() => WriteCpuPolicyRecords();

    public override void EndOfCheckpoint()
    {
        WriteTscInfo();
        Engine.WriteRecord(LibxcRecordType.HvmContext, _hvm.GetContextBlob());
        WriteHvmParams();
    }

    // write_hvm_params: Xen's list, non-zero values only; no record at all when every value is zero.
    private void WriteHvmParams()
    {
        var entries = new List<(uint Index, ulong Value)>();
        foreach (uint index in HvmParamIndex.SavedByXen)
        {
            ulong value = _hvm.Params.Get(index);
            if (value != 0)
            {
                entries.Add((index, value));
            }
        }

        if (entries.Count == 0)
        {
            return;
        }

        var body = new byte[LibxcBodySizes.HvmParamsHeader + (entries.Count * LibxcBodySizes.HvmParamsEntry)];
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            Span<byte> e = body.AsSpan(LibxcBodySizes.HvmParamsHeader + (i * LibxcBodySizes.HvmParamsEntry));
            BinaryPrimitives.WriteUInt64LittleEndian(e, entries[i].Index);
            BinaryPrimitives.WriteUInt64LittleEndian(e[8..], entries[i].Value);
        }

        Engine.WriteRecord(LibxcRecordType.HvmParams, body);
    }

    public override WirePageType PfnType(ulong pfn, out bool deferred)
    {
        deferred = false; // identity pfn_to_gfn: never INVALID_MFN
        return PageTypes.ToWire(_hvm.GetPageInfo(pfn));
    }
}
