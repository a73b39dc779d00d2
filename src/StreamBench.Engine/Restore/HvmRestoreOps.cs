using StreamBench.Domain;
using StreamBench.Domain.Hvm;
using StreamBench.Domain.Hvm.Context;
using StreamBench.Formats.Records;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using WirePageType = StreamBench.Formats.Wire.PageType;

namespace StreamBench.Engine.Restore;

/// <summary>
/// The x86 HVM restore ops (xg_sr_restore_x86_hvm.c), for HVM and PVH: every pfn is valid (population may still
/// refuse a hole), no page types, no localisation; HVM_PARAMS applied as they arrive (STORE, IOREQ and BUFIOREQ pages
/// cleared, the console page initialised, PAE_ENABLED dropped); HVM_CONTEXT stashed and loaded last, in
/// stream_complete, after every param.
/// </summary>
internal sealed class HvmRestoreOps : X86RestoreOps
{
    private readonly HvmDomain _hvm;
    private byte[]? _context;

    /// <summary>The VM86 TSS size Xen assumes for HVM_PARAM_VM86_TSS (old hvmloaders hard-code 128 bytes).</summary>
    private const ulong Vm86TssLegacySize = 128;

    public HvmRestoreOps(RestoreEngine engine, HvmDomain domain) : base(engine, domain) => _hvm = domain;

    public override bool PfnIsValid(ulong pfn) => true;

    public override ulong MaxPfn => ulong.MaxValue;

    public override void SetPageType(IncomingRecord record, ulong pfn, WirePageType type, int index)
    {
        // x86_hvm_set_page_type: no-op.
    }

    public override bool ProcessRecord(IncomingRecord record)
    {
        switch ((LibxcRecordType)record.Type)
        {
            case LibxcRecordType.HvmContext:
                // handle_hvm_context: update_blob refuses an empty blob.
                if (record.Length == 0)
                {
                    throw Engine.Fail(record, LibxcChecks.HvmContextEmpty, "HVM_CONTEXT record is empty", "body_length");
                }

                _context = record.Body.ToArray();
                return true;
            case LibxcRecordType.HvmParams:
                HandleHvmParams(record);
                return true;
            default:
                return ProcessX86Record(record);
        }
    }

    // handle_hvm_params.
    private void HandleHvmParams(IncomingRecord record)
    {
        if (record.Length < LibxcBodySizes.HvmParamsHeader)
        {
            throw Engine.Fail(record, LibxcChecks.HvmParamsTooShort,
                $"HVM_PARAMS record truncated: length {record.Length}, header size {LibxcBodySizes.HvmParamsHeader}", "body_length");
        }

        ReadOnlySpan<byte> body = record.Body;
        _ = HvmParamsBody.TryParse(body, out HvmParamsBody @params);
        if (@params.Reserved != 0 && Engine.CheckReserved)
        {
            throw Engine.Fail(record, LibxcChecks.HvmParamsReserved, $"reserved field is 0x{@params.Reserved:x}, expected 0", "reserved", record.At(4));
        }

        if (record.Length != HvmParamsBody.ExpectedLength(@params.Count))
        {
            throw Engine.Fail(record, LibxcChecks.HvmParamsLength,
                $"HVM_PARAMS record wrong size: count {@params.Count}, expected length {HvmParamsBody.ExpectedLength(@params.Count)}, got {record.Length}", "body_length");
        }

        if (@params.Count == 0)
        {
            Engine.Warn("skipped an empty HVM_PARAMS record (Xen 4.6-4.8 errata)");
            return;
        }

        for (int i = 0; i < (int)@params.Count; i++)
        {
            HvmParamEntry entry = @params[i];
            switch (entry.Index)
            {
                case HvmParamIndex.ConsolePfn:
                case HvmParamIndex.StorePfn:
                case HvmParamIndex.IoreqPfn:
                case HvmParamIndex.BufioreqPfn:
                    // xc_dom_console_init / xc_clear_domain_page (failures ignored, as in Xen).
                    if (_hvm.IsPopulated(entry.Value))
                    {
                        _hvm.ClearPage(entry.Value);
                    }

                    break;
                case HvmParamIndex.PaeEnabled:
                    continue; // obsolete: silently dropped
            }

            uint index = checked((uint)Math.Min(entry.Index, uint.MaxValue));
            ulong value = entry.Value;
            if (index == HvmParamIndex.Vm86Tss)
            {
                // hvm_set_param (Xen >= 4.9): HVM_PARAM_VM86_TSS, which 4.6-4.8 savers and converted legacy images send,
                // sets VM86_TSS_SIZED with the 128-byte size old hvmloaders hard-code; above 32 bits it is -EINVAL.
                if (value > uint.MaxValue)
                {
                    throw Engine.Fail(record, RestoreChecks.HvmParam,
                        $"set HVM param {entry.Index} = 0x{entry.Value:x16}: the VM86 TSS address must fit 32 bits", $"param[{i}]", record.At(8 + (16L * i)));
                }

                index = HvmParamIndex.Vm86TssSized;
                value = value == 0 ? 0 : value | (Vm86TssLegacySize << 32);
            }

            try
            {
                _hvm.Params.Set(index, value);
            }
            catch (DomainException e)
            {
                throw Engine.Fail(record, RestoreChecks.HvmParam,
                    $"set HVM param {entry.Index} = 0x{entry.Value:x16}: {e.Message}", $"param[{i}]", record.At(8 + (16L * i)));
            }
        }
    }

    // x86_hvm_stream_complete: event channel params, then the stashed context (after every param).
    public override void StreamComplete(IncomingRecord? at)
    {
        if (Engine.Options.SetHvmEventChannels)
        {
            _hvm.Params.Set(HvmParamIndex.StoreEvtchn, Engine.Options.StoreEventChannel);
            _hvm.Params.Set(HvmParamIndex.ConsoleEvtchn, Engine.Options.ConsoleEventChannel);
        }

        if (_context is null)
        {
            throw Engine.FailAt(at, RestoreChecks.HvmContextMissing, "the stream carried no HVM_CONTEXT: there is no vCPU or device state to load");
        }

        try
        {
            _hvm.SetContextBlob(_context, HvmContextParseOptions.XenCompatible);
        }
        catch (HvmContextException e)
        {
            throw Engine.FailAt(at, RestoreChecks.HvmContextLoad, $"Unable to restore HVM context: {e.Message}");
        }
        catch (DomainException e)
        {
            throw Engine.FailAt(at, RestoreChecks.HvmContextLoad, $"Unable to restore HVM context: {e.Message}");
        }
    }
}
