using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using static StreamBench.Formats.Verification.LibxcChecks;

namespace StreamBench.Formats.Verification;

/// <summary>LibxcRules, part: STATIC_DATA_END and the static (CPU policy) records (FORMATS.md 5.3).</summary>
internal sealed partial class LibxcRules
{
    // ---- STATIC_DATA_END and the static records ----

    /// <summary>C: PAGE_DATA / P2M_FRAMES need STATIC_DATA_END; a v2 stream infers it at the first of them.</summary>
    private void NeedStaticDataEnd(VerificationCheck check)
    {
        if (_staticDataEnd)
        {
            return;
        }
        if (_ctx.ImageVersion < 3 || _ctx.Rfc)
        {
            _staticDataEnd = true; // inferred
            return;
        }
        if (!_staticDataEndReported)
        {
            _staticDataEndReported = true;
            _ctx.Report(check, null, "expected STATIC_DATA_END before the first " + _ctx.Reader.RecordTypeName + " of a v3 stream, found none");
        }
    }

    private void StaticDataEnd()
    {
        EmptyBody(StaticDataEndLength);
        if (_ctx.ImageVersion < 3)
        {
            _ctx.Report(StaticDataEndV2, null, string.Create(CultureInfo.InvariantCulture,
                $"expected STATIC_DATA_END only in a v3 stream, found it in a v{_ctx.ImageVersion} stream"));
        }
        if (_staticDataEnd)
        {
            _ctx.Report(StaticDataEndDuplicate, null, _staticDataEndExplicit
                ? "expected one STATIC_DATA_END, found a second"
                : "expected no STATIC_DATA_END after the first PAGE_DATA/P2M_FRAMES of a v2 stream (it was inferred there), found one");
        }
        _staticDataEnd = true;
        _staticDataEndExplicit = true;
    }

    private void X86CpuidPolicy()
    {
        PolicyVersion(CpuidV2);
        var len = _ctx.Reader.BodyLength;
        if (len == 0 || len % LibxcBodySizes.CpuidLeaf != 0)
        {
            _ctx.Report(CpuidLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected a non-zero multiple of {LibxcBodySizes.CpuidLeaf} bytes (xen_cpuid_leaf_t), found {len}"));
        }
        PolicyPosition();
    }

    private void X86MsrPolicy()
    {
        PolicyVersion(MsrV2);
        var r = _ctx.Reader;
        var len = r.BodyLength;
        if (len == 0 || len % LibxcBodySizes.MsrEntry != 0)
        {
            _ctx.Report(MsrLength, "length", string.Create(CultureInfo.InvariantCulture,
                $"expected a non-zero multiple of {LibxcBodySizes.MsrEntry} bytes (xen_msr_entry_t), found {len}"));
        }
        else if (_ctx.On(MsrFlags) && len <= _ctx.Window)
        {
            var policy = new MsrPolicyBody(r.BodyPrefix((int)len));
            for (var i = 0; i < policy.Count; i++)
            {
                var e = policy[i];
                if (e.Flags != 0)
                {
                    _ctx.ReportInBody(MsrFlags, (i * LibxcBodySizes.MsrEntry) + 4, string.Create(CultureInfo.InvariantCulture, $"msr[{i}].flags"),
                        string.Create(CultureInfo.InvariantCulture, $"expected flags 0 (MBZ) for MSR 0x{e.Index:x}, found 0x{e.Flags:x}"));
                    break;
                }
            }
        }
        PolicyPosition();
    }

    private void PolicyVersion(VerificationCheck check)
    {
        if (_ctx.ImageVersion < 3)
        {
            _ctx.Report(check, null, string.Create(CultureInfo.InvariantCulture,
                $"expected {_ctx.Reader.RecordTypeName} only in a v3 stream, found it in a v{_ctx.ImageVersion} stream"));
        }
    }

    private void PolicyPosition()
    {
        if (_staticDataEnd)
        {
            _ctx.Report(PolicyAfterStaticDataEnd, null, "expected " + _ctx.Reader.RecordTypeName + " before STATIC_DATA_END (a later one is never applied), found it after");
        }
    }
}
