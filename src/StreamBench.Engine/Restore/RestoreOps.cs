using System.Buffers.Binary;
using StreamBench.Domain;
using StreamBench.Domain.Builders;
using StreamBench.Formats.Records;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using StreamBench.X86;
using WirePageType = StreamBench.Formats.Wire.PageType;

namespace StreamBench.Engine.Restore;

/// <summary>
/// One guest type's part of a restore: Xen's <c>struct xc_sr_restore_ops</c> (pfn_is_valid, set_page_type,
/// localise_page, process_record, static_data_complete, stream_complete). The common loop (<see cref="RestoreEngine"/>)
/// handles END, PAGE_DATA, VERIFY, CHECKPOINT and STATIC_DATA_END and hands every other record to
/// <see cref="ProcessRecord"/>, which answers false for records that are not its guest type's.
/// </summary>
internal abstract class RestoreOps
{
    protected RestoreOps(RestoreEngine engine, GuestDomain domain)
    {
        Engine = engine;
        Domain = domain;
    }

    protected RestoreEngine Engine { get; }

    protected GuestDomain Domain { get; }

    /// <summary>pfn_is_valid: may a PAGE_DATA record name this pfn?</summary>
    public abstract bool PfnIsValid(ulong pfn);

    /// <summary>The highest valid pfn, for messages.</summary>
    public abstract ulong MaxPfn { get; }

    /// <summary>set_page_type, after the batch is populated. <paramref name="index"/> is the word's index in the record.</summary>
    public abstract void SetPageType(IncomingRecord record, ulong pfn, WirePageType type, int index);

    /// <summary>Whether pages of <paramref name="type"/> need localise_page.</summary>
    public virtual bool Localises(WirePageType type) => false;

    /// <summary>localise_page: undoes the saver's normalisation, in place.</summary>
    public virtual void LocalisePage(IncomingRecord record, ulong pfn, WirePageType type, Span<byte> page, int index)
    {
    }

    /// <summary>process_record for the guest type's records; false when the record is not one of them.</summary>
    public abstract bool ProcessRecord(IncomingRecord record);

    /// <summary>static_data_complete: at STATIC_DATA_END (inferred in v2).</summary>
    public abstract void StaticDataComplete();

    /// <summary>stream_complete: install the stashed state (vCPUs, HVM context); the domain is then validated.</summary>
    public abstract void StreamComplete(IncomingRecord? at);
}

/// <summary>What xg_sr_common_x86.c gives both x86 guest types: TSC_INFO and the CPU policy records.</summary>
internal abstract class X86RestoreOps : RestoreOps
{
    private List<CpuidLeaf>? _cpuid;
    private List<MsrPolicyEntry>? _msrs;

    protected X86RestoreOps(RestoreEngine engine, GuestDomain domain) : base(engine, domain)
    {
    }

    /// <summary>TSC_INFO, X86_CPUID_POLICY, X86_MSR_POLICY; false for anything else.</summary>
    protected bool ProcessX86Record(IncomingRecord record)
    {
        switch ((LibxcRecordType)record.Type)
        {
            case LibxcRecordType.X86TscInfo:
                HandleTscInfo(record);
                return true;
            case LibxcRecordType.X86CpuidPolicy:
                HandleCpuidPolicy(record);
                return true;
            case LibxcRecordType.X86MsrPolicy:
                HandleMsrPolicy(record);
                return true;
            default:
                return false;
        }
    }

    // handle_x86_tsc_info: xc_domain_set_tsc_info (Xen stores incarnation + 1).
    private void HandleTscInfo(IncomingRecord record)
    {
        if (record.Length != LibxcBodySizes.TscInfo)
        {
            throw Engine.Fail(record, LibxcChecks.TscLength, $"X86_TSC_INFO record wrong size: length {record.Length}, expected {LibxcBodySizes.TscInfo}", "body_length");
        }

        _ = TscInfoBody.TryParse(record.Body, out TscInfoBody tsc);
        if (tsc.Reserved != 0 && Engine.CheckReserved)
        {
            throw Engine.Fail(record, LibxcChecks.TscReserved, $"reserved field is 0x{tsc.Reserved:x}, expected 0", "reserved", record.At(TscInfoLayout.Reserved));
        }

        Domain.Tsc = new TscInfo(tsc.Mode, tsc.Khz, tsc.Nsec, tsc.Incarnation + 1);
    }

    // handle_x86_cpuid_policy: a non-zero multiple of 24 bytes, stashed until STATIC_DATA_END.
    private void HandleCpuidPolicy(IncomingRecord record)
    {
        RequireV3(record, LibxcChecks.CpuidV2);
        if (record.Length == 0 || record.Length % LibxcBodySizes.CpuidLeaf != 0)
        {
            throw Engine.Fail(record, LibxcChecks.CpuidLength,
                $"X86_CPUID_POLICY size {record.Length} should be a non-zero multiple of {LibxcBodySizes.CpuidLeaf}", "body_length");
        }

        var body = new CpuidPolicyBody(record.Body);
        _cpuid = new List<CpuidLeaf>(body.Count);
        for (int i = 0; i < body.Count; i++)
        {
            _cpuid.Add(body[i]);
        }
    }

    // handle_x86_msr_policy: a non-zero multiple of 16 bytes, stashed until STATIC_DATA_END.
    private void HandleMsrPolicy(IncomingRecord record)
    {
        RequireV3(record, LibxcChecks.MsrV2);
        if (record.Length == 0 || record.Length % LibxcBodySizes.MsrEntry != 0)
        {
            throw Engine.Fail(record, LibxcChecks.MsrLength,
                $"X86_MSR_POLICY size {record.Length} should be a non-zero multiple of {LibxcBodySizes.MsrEntry}", "body_length");
        }

        var body = new MsrPolicyBody(record.Body);
        _msrs = new List<MsrPolicyEntry>(body.Count);
        for (int i = 0; i < body.Count; i++)
        {
            _msrs.Add(body[i]);
        }
    }

    private void RequireV3(IncomingRecord record, VerificationCheck check)
    {
        if (Engine.StreamVersion < 3)
        {
            throw Engine.Fail(record, check, $"{record.TypeName} found in a v{Engine.StreamVersion} stream (it exists from v3)", "type");
        }
    }

    /// <summary>
    /// x86_static_data_complete: apply the CPU policy. When the stream carries none (v2 streams, converted legacy
    /// streams), Xen reports XGR_SDD_MISSING_CPUID/MSR and libxl synthesises a compatible policy: here the host's
    /// default for the guest type (<see cref="PlatformDefaults"/>).
    /// </summary>
    public override void StaticDataComplete()
    {
        if (_cpuid is null || _msrs is null)
        {
            Engine.Result.CpuPolicySynthesised = true;
            Engine.Warn($"the stream carries no {(_cpuid is null ? "X86_CPUID_POLICY" : "X86_MSR_POLICY")}: the host's default policy for {Domain.Type.ToName()} was applied");
        }

        Domain.SetCpuidPolicy(_cpuid ?? PlatformDefaults.CpuidPolicy(Domain.Type));
        Domain.SetMsrPolicy(_msrs ?? PlatformDefaults.MsrPolicy());
    }

    /// <summary>Reads a little-endian u32 of a small body.</summary>
    protected static uint U32(ReadOnlySpan<byte> body, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(body[offset..]);
}
