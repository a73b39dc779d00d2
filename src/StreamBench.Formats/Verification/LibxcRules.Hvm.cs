using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using static StreamBench.Formats.Verification.LibxcChecks;
using StreamBench.X86;

namespace StreamBench.Formats.Verification;

/// <summary>LibxcRules, part: X86_TSC_INFO and the HVM records: HVM_CONTEXT, HVM_PARAMS (FORMATS.md 4.1, 5.2).</summary>
internal sealed partial class LibxcRules
{
    // ---- x86 common and HVM ----

    private void X86TscInfo()
    {
        var r = _ctx.Reader;
        if (r.BodyLength != LibxcBodySizes.TscInfo)
        {
            _ctx.Report(TscLength, "length", string.Create(CultureInfo.InvariantCulture, $"expected {LibxcBodySizes.TscInfo} bytes, found {r.BodyLength}"));
            return;
        }
        if (!TscInfoBody.TryParse(r.BodyPrefix(LibxcBodySizes.TscInfo), out var tsc))
        {
            return;
        }
        if (tsc.Reserved != 0)
        {
            _ctx.ReportInBody(TscReserved, TscInfoLayout.Reserved, "reserved", string.Create(CultureInfo.InvariantCulture, $"expected 0, found 0x{tsc.Reserved:x8}"));
        }
        if (tsc.Mode > TscInfoBody.MaxKnownMode)
        {
            _ctx.ReportInBody(TscMode, 0, "mode", string.Create(CultureInfo.InvariantCulture,
                $"expected 0 (default), 1 (always emulate) or 2 (never emulate), found {tsc.Mode}"));
        }
        if (tsc.Khz != 0 && tsc.Khz < TscInfoBody.MinPlausibleKhz)
        {
            _ctx.ReportInBody(TscKhz, TscInfoLayout.Khz, "khz", string.Create(CultureInfo.InvariantCulture,
                $"expected 0 (the host's) or at least {TscInfoBody.MinPlausibleKhz} kHz, found {tsc.Khz}"));
        }
    }

    private void HvmOrder()
    {
        if (!_sawPageData && !_hvmOrderReported && (_postcopy is null || !_postcopy.Begun))
        {
            _hvmOrderReported = true;
            _ctx.Report(HvmBeforePageData, null, "expected " + _ctx.Reader.RecordTypeName + " after the guest's PAGE_DATA, found it before any");
        }
    }

    private void HvmContext()
    {
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len == 0)
        {
            _ctx.Report(HvmContextEmpty, "length", "expected a non-empty HVM save blob, found an empty body");
            return;
        }
        _hvmContextSeen = true;
        HvmOrder();
        if (!_ctx.On(HvmContextHeader) || len > LibxcWire.RecordLengthMax)
        {
            return;
        }
        var walker = new HvmContextWalker(r.GetBody());
        var first = true;
        while (walker.TryNext(out var d, out var data))
        {
            if (walker.Status == HvmSaveWalkStatus.DataOutOfBounds)
            {
                _ctx.ReportInBody(HvmContextBounds, d.Offset, "length", string.Create(CultureInfo.InvariantCulture,
                    $"expected the {SaveCode(d.Typecode)} save record's {d.Length} data bytes inside the blob, found only {len - d.DataOffset} left"));
                return;
            }
            if (first)
            {
                first = false;
                if (d.Code != HvmSaveType.Header || d.Length != HvmSaveWire.HeaderBodySize)
                {
                    _ctx.ReportInBody(HvmContextHeader, d.Offset, "typecode", string.Create(CultureInfo.InvariantCulture,
                        $"expected a HEADER save record (typecode 1, length {HvmSaveWire.HeaderBodySize}) first, found typecode {d.Typecode} length {d.Length}"));
                }
                else if (HvmSaveHeader.TryRead(data, out var h) && (h.Magic != HvmSaveWire.FileMagic || h.Version != HvmSaveWire.FileVersion))
                {
                    _ctx.ReportInBody(HvmContextHeader, d.DataOffset + (h.Magic != HvmSaveWire.FileMagic ? 0 : 4), h.Magic != HvmSaveWire.FileMagic ? "magic" : "version",
                        string.Create(CultureInfo.InvariantCulture,
                            $"expected magic 0x{HvmSaveWire.FileMagic:x8} version {HvmSaveWire.FileVersion}, found magic 0x{h.Magic:x8} version {h.Version}"));
                }
            }
            if (walker.Status == HvmSaveWalkStatus.End && d.Length != 0)
            {
                _ctx.ReportInBody(HvmContextEnd, d.Offset, "length", string.Create(CultureInfo.InvariantCulture,
                    $"expected an empty END save record, found length {d.Length}"));
                return;
            }
        }
        switch (walker.Status)
        {
            case HvmSaveWalkStatus.End when walker.TrailingBytes > 0:
                _ctx.ReportInBody(HvmContextEnd, walker.Position, null, string.Create(CultureInfo.InvariantCulture,
                    $"expected nothing after the END save record, found {walker.TrailingBytes} bytes"));
                break;
            case HvmSaveWalkStatus.MissingEnd:
                _ctx.ReportInBody(HvmContextEnd, walker.Position, null, "expected an END save record (typecode 0) last, found the end of the blob");
                break;
            case HvmSaveWalkStatus.DescriptorTruncated:
                _ctx.ReportInBody(HvmContextBounds, walker.Position, null, string.Create(CultureInfo.InvariantCulture,
                    $"expected an 8-byte save descriptor, found {len - walker.Position} bytes left"));
                break;
        }
    }

    private static string SaveCode(ushort code) => Enum.IsDefined((HvmSaveType)code)
        ? ((HvmSaveType)code).ToString().ToUpperInvariant()
        : code.ToString(CultureInfo.InvariantCulture);

    private void HvmParams()
    {
        _hvmParamsSeen = true;
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len < LibxcBodySizes.HvmParamsHeader)
        {
            _ctx.Report(HvmParamsTooShort, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected at least {LibxcBodySizes.HvmParamsHeader} bytes (count, reserved), found {len}"));
            return;
        }
        if (!HvmParamsBody.TryParse(r.BodyPrefix(LibxcBodySizes.HvmParamsHeader), out var hp))
        {
            return;
        }
        if (hp.Reserved != 0)
        {
            _ctx.ReportInBody(HvmParamsReserved, 4, "reserved", string.Create(CultureInfo.InvariantCulture, $"expected 0, found 0x{hp.Reserved:x8}"));
        }
        if (hp.Count == 0)
        {
            _ctx.ReportInBody(HvmParamsEmpty, 0, "count", "HVM_PARAMS with count 0 (Xen 4.6-4.8 errata): accepted and ignored");
        }
        var expected = HvmParamsBody.ExpectedLength(hp.Count);
        if (len != expected)
        {
            _ctx.Report(HvmParamsLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected 8 + 16 × {hp.Count} = {expected} bytes, found {len}"));
        }
        HvmOrder();
    }
}
