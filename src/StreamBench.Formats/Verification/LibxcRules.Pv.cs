using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using static StreamBench.Formats.Verification.LibxcChecks;

namespace StreamBench.Formats.Verification;

/// <summary>LibxcRules, part: The x86 PV records: X86_PV_INFO, X86_PV_P2M_FRAMES, the vCPU records, SHARED_INFO (FORMATS.md 4.1, 5.1).</summary>
internal sealed partial class LibxcRules
{
    // ---- PV records ----

    private void X86PvInfo()
    {
        var r = _ctx.Reader;
        if (_pvInfoSeen)
        {
            _ctx.Report(PvInfoDuplicate, null, "expected one X86_PV_INFO, found a second");
        }
        _pvInfoSeen = true;
        if (r.BodyLength != LibxcBodySizes.X86PvInfo)
        {
            _ctx.Report(PvInfoLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected {LibxcBodySizes.X86PvInfo} bytes, found {r.BodyLength}"));
            return;
        }
        if (!X86PvInfoBody.TryParse(r.BodyPrefix(LibxcBodySizes.X86PvInfo), out var info))
        {
            return;
        }
        var widthOk = info.GuestWidth is 4 or 8;
        var levelsOk = info.PtLevels is 3 or 4;
        if (!widthOk)
        {
            _ctx.ReportInBody(PvInfoWidth, 0, "guest_width", string.Create(CultureInfo.InvariantCulture, $"expected 4 or 8, found {info.GuestWidth}"));
        }
        if (!levelsOk)
        {
            _ctx.ReportInBody(PvInfoLevels, 1, "pt_levels", string.Create(CultureInfo.InvariantCulture, $"expected 3 or 4, found {info.PtLevels}"));
        }
        if (info.Reserved1 != 0 || info.Reserved2 != 0)
        {
            _ctx.ReportInBody(PvInfoReserved, info.Reserved1 != 0 ? 2 : 4, "reserved", string.Create(CultureInfo.InvariantCulture,
                $"expected 0x0000 0x00000000, found 0x{info.Reserved1:x4} 0x{info.Reserved2:x8}"));
        }
        if (widthOk && levelsOk && !info.IsValidCombination)
        {
            _ctx.ReportInBody(PvInfoCombination, 0, "guest_width/pt_levels", string.Create(CultureInfo.InvariantCulture,
                $"expected (8, 4) or (4, 3), found ({info.GuestWidth}, {info.PtLevels})"));
        }
        if (widthOk)
        {
            _width = info.GuestWidth;
        }
    }

    private void X86PvP2mFrames()
    {
        var r = _ctx.Reader;
        NeedStaticDataEnd(P2mNoStaticDataEnd);
        if (!_pvInfoSeen)
        {
            _ctx.Report(P2mNoPvInfo, null, "expected X86_PV_INFO before X86_PV_P2M_FRAMES, found none");
        }
        var len = r.BodyLength;
        if (len < LibxcBodySizes.P2mFramesHeader || len % 8 != 0)
        {
            _ctx.Report(P2mLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected at least 8 bytes and a multiple of 8, found {len}"));
            return;
        }
        if (!P2mFramesBody.TryParse(r.BodyPrefix(LibxcBodySizes.P2mFramesHeader), out var p2m))
        {
            return;
        }
        var start = p2m.StartPfn;
        var end = p2m.EndPfn;
        if (start > end)
        {
            _ctx.ReportInBody(P2mRange, 0, "start_pfn", string.Create(CultureInfo.InvariantCulture,
                $"expected start_pfn <= end_pfn, found start 0x{start:x} > end 0x{end:x}"));
            return;
        }
        var expected = P2mFramesBody.ExpectedLength(start, end, _width);
        if (len != expected)
        {
            _ctx.Report(P2mFrameCount, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected {expected} bytes (8 + 8 × {(expected - 8) / 8} frames for pfns 0x{start:x}..0x{end:x}, width {_width}), found {len}"));
        }
        // The C restore grows max_pfn to end_pfn (expand_p2m); it never shrinks.
        _maxPfn = _p2mSeen ? Math.Max(_maxPfn, end) : end;
        _p2mSeen = true;
    }

    private void X86PvVcpuBasic() => Vcpu(LibxcRecordType.X86PvVcpuBasic);

    private void X86PvVcpuExtended() => Vcpu(LibxcRecordType.X86PvVcpuExtended);

    private void X86PvVcpuXsave() => Vcpu(LibxcRecordType.X86PvVcpuXsave);

    private void X86PvVcpuMsrs() => Vcpu(LibxcRecordType.X86PvVcpuMsrs);

    private void Vcpu(LibxcRecordType kind)
    {
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len < LibxcBodySizes.VcpuHeader)
        {
            _ctx.Report(VcpuTooShort, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected at least {LibxcBodySizes.VcpuHeader} bytes (vcpu_id, reserved), found {len}"));
            return;
        }
        if (!PvVcpuBody.TryParse(r.BodyPrefix(LibxcBodySizes.VcpuHeader), out var vcpu))
        {
            return;
        }
        var id = vcpu.VcpuId;
        if (vcpu.Reserved != 0)
        {
            _ctx.ReportInBody(VcpuReserved, 4, "reserved", string.Create(CultureInfo.InvariantCulture, $"expected 0, found 0x{vcpu.Reserved:x8}"));
        }
        var blob = len - LibxcBodySizes.VcpuHeader;
        if (blob == 0)
        {
            _ctx.Report(VcpuEmpty, "length", string.Create(CultureInfo.InvariantCulture,
                $"header-only {r.RecordTypeName} for vcpu{id} (Xen 4.6-4.8 errata): accepted and ignored"));
            return;
        }
        if (_ctx.IsPv && !_sawPageData && !_vcpuOrderReported)
        {
            _vcpuOrderReported = true;
            _ctx.Report(VcpuBeforePageData, null, "expected vCPU records after the guest's PAGE_DATA, found " + r.RecordTypeName + " before any");
        }
        switch (kind)
        {
            case LibxcRecordType.X86PvVcpuBasic:
            {
                var expected = _width == 8 ? LibxcBodySizes.VcpuGuestContext64 : LibxcBodySizes.VcpuGuestContext32;
                if (blob != expected)
                {
                    _ctx.Report(VcpuBasicSize, "length", string.Create(CultureInfo.InvariantCulture,
                        $"expected a {expected}-byte vcpu_guest_context_x86_{(_width == 8 ? 64 : 32)} blob (width {_width}), found {blob}"));
                }
                else if (id == 0)
                {
                    _vcpu0Basic = true;
                }
                break;
            }
            case LibxcRecordType.X86PvVcpuExtended:
                if (blob > LibxcBodySizes.VcpuExtendedMax)
                {
                    _ctx.Report(VcpuExtendedSize, "length", string.Create(CultureInfo.InvariantCulture,
                        $"expected a blob of at most {LibxcBodySizes.VcpuExtendedMax} bytes, found {blob}"));
                }
                break;
            case LibxcRecordType.X86PvVcpuXsave:
                if (blob < LibxcBodySizes.VcpuXsaveMin)
                {
                    _ctx.Report(VcpuXsaveSize, "length", string.Create(CultureInfo.InvariantCulture,
                        $"expected a blob of at least {LibxcBodySizes.VcpuXsaveMin} bytes (xcr0, xcr0_accum), found {blob}"));
                }
                break;
            case LibxcRecordType.X86PvVcpuMsrs:
                if (blob % LibxcBodySizes.VcpuMsr != 0)
                {
                    _ctx.Report(VcpuMsrsSize, "length", string.Create(CultureInfo.InvariantCulture,
                        $"expected a multiple of {LibxcBodySizes.VcpuMsr} bytes (xen_domctl_vcpu_msr_t), found {blob}"));
                }
                else if (_ctx.On(VcpuMsrReserved) && len <= _ctx.Window && PvVcpuBody.TryParse(r.BodyPrefix((int)len), out var msrs))
                {
                    for (var i = 0; i < msrs.MsrCount; i++)
                    {
                        var m = msrs.Msr(i);
                        if (m.Reserved != 0)
                        {
                            _ctx.ReportInBody(VcpuMsrReserved, LibxcBodySizes.VcpuHeader + (i * LibxcBodySizes.VcpuMsr) + 4,
                                string.Create(CultureInfo.InvariantCulture, $"msr[{i}].reserved"),
                                string.Create(CultureInfo.InvariantCulture, $"expected 0 for MSR 0x{m.Index:x}, found 0x{m.Reserved:x}"));
                            break;
                        }
                    }
                }
                break;
        }
    }

    private void SharedInfo()
    {
        var r = _ctx.Reader;
        if (!_pvInfoSeen)
        {
            _ctx.Report(SharedInfoNoPvInfo, null, "expected X86_PV_INFO before SHARED_INFO, found none");
        }
        if (r.BodyLength != LibxcBodySizes.SharedInfo)
        {
            _ctx.Report(SharedInfoLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected {LibxcBodySizes.SharedInfo} bytes, found {r.BodyLength}"));
        }
    }
}
