using StreamBench.Domain;
using StreamBench.Formats.Wire;
using StreamBench.X86;
using WirePageType = StreamBench.Formats.Wire.PageType;
using TscInfoBody = StreamBench.Formats.Records.TscInfoBody;

namespace StreamBench.Engine.Save;

/// <summary>
/// One guest type's part of a save: Xen's <c>struct xc_sr_save_ops</c>. The common engine (<see cref="SaveEngine"/>)
/// calls, in order: <see cref="Setup"/>, <see cref="StaticData"/>, (STATIC_DATA_END), <see cref="StartOfStream"/>,
/// then per checkpoint <see cref="StartOfCheckpoint"/>, the memory passes (<see cref="PfnType"/> and
/// <see cref="NormalisePage"/> for every pfn), <see cref="EndOfCheckpoint"/>; and <see cref="Cleanup"/> at the end.
/// </summary>
internal abstract class SaveOps
{
    protected SaveOps(GuestDomain domain, SaveEngine engine)
    {
        Domain = domain;
        Engine = engine;
    }

    protected GuestDomain Domain { get; }

    protected SaveEngine Engine { get; }

    /// <summary>The domain header's type.</summary>
    public abstract DomainType StreamType { get; }

    /// <summary>pfns the passes walk: 0 .. P2mSize-1 (PV: max_pfn + 1; HVM: max_gpfn + 1).</summary>
    public ulong P2mSize { get; protected set; }

    /// <summary>setup: checks the domain and sizes the p2m.</summary>
    public abstract void Setup();

    /// <summary>static_data: the records before STATIC_DATA_END.</summary>
    public abstract void StaticData();

    /// <summary>start_of_stream: records sent once, before any memory.</summary>
    public virtual void StartOfStream()
    {
    }

    /// <summary>start_of_checkpoint.</summary>
    public virtual void StartOfCheckpoint()
    {
    }

    /// <summary>end_of_checkpoint: the CPU state records after the memory.</summary>
    public abstract void EndOfCheckpoint();

    /// <summary>The guest's own suspend step (the domain is paused from here on).</summary>
    public virtual void Suspend()
    {
    }

    /// <summary>
    /// get_pfn_type_batch for one pfn, with pfn_to_gfn: the wire type, and whether the pfn is deferred to the final
    /// pass (PV: a pfn with no mfn behind it, likely ballooned).
    /// </summary>
    public abstract WirePageType PfnType(ulong pfn, out bool deferred);

    /// <summary>Whether a page of <paramref name="type"/> is rewritten for the stream (normalise_page).</summary>
    public virtual bool Normalises(WirePageType type) => false;

    /// <summary>
    /// normalise_page: the stream form of the page into <paramref name="destination"/>. False when the page cannot be
    /// normalised now; <paramref name="paused"/> false means Xen retries it later (EAGAIN, deferred as XTAB), true
    /// means the save fails with <paramref name="error"/>.
    /// </summary>
    public virtual bool NormalisePage(ulong pfn, WirePageType type, Span<byte> destination, bool paused, out string? error)
    {
        error = null;
        return true;
    }

    /// <summary>cleanup.</summary>
    public virtual void Cleanup()
    {
    }
}

/// <summary>What xg_sr_common_x86.c gives both x86 guest types: TSC and CPU policy records.</summary>
internal abstract class X86SaveOps : SaveOps
{
    protected X86SaveOps(GuestDomain domain, SaveEngine engine) : base(domain, engine)
    {
    }

    /// <summary>write_x86_tsc_info.</summary>
    internal void WriteTscInfo()
    {
        Span<byte> body = stackalloc byte[LibxcBodySizes.TscInfo];
        TscInfo tsc = Domain.Tsc;
        TscInfoBody.Write(body, tsc.Mode, tsc.KHz, tsc.ElapsedNanoseconds, tsc.Incarnation);
        Engine.WriteRecord(LibxcRecordType.X86TscInfo, body);
    }

    /// <summary>
    /// write_x86_cpu_policy_records: X86_CPUID_POLICY and X86_MSR_POLICY, each only when non-empty. They exist from
    /// stream version 3; a v2 stream carries none (the restorer then synthesises a policy).
    /// </summary>
    protected void WriteCpuPolicyRecords()
    {
        if (Engine.StreamVersion < 3)
        {
            return;
        }

        IReadOnlyList<CpuidLeaf> leaves = Domain.CpuidPolicy;
        if (leaves.Count > 0)
        {
            var body = new byte[leaves.Count * LibxcBodySizes.CpuidLeaf];
            for (int i = 0; i < leaves.Count; i++)
            {
                leaves[i].Write(body.AsSpan(i * LibxcBodySizes.CpuidLeaf, LibxcBodySizes.CpuidLeaf));
            }

            Engine.WriteRecord(LibxcRecordType.X86CpuidPolicy, body);
        }

        IReadOnlyList<MsrPolicyEntry> msrs = Domain.MsrPolicy;
        if (msrs.Count > 0)
        {
            var body = new byte[msrs.Count * LibxcBodySizes.MsrEntry];
            for (int i = 0; i < msrs.Count; i++)
            {
                msrs[i].Write(body.AsSpan(i * LibxcBodySizes.MsrEntry, LibxcBodySizes.MsrEntry));
            }

            Engine.WriteRecord(LibxcRecordType.X86MsrPolicy, body);
        }
    }
}
