using System.Buffers.Binary;
using StreamBench.X86;

namespace StreamBench.Domain.Hvm.Context;

/// <summary>
/// A domain's HVM context as typed state: the header, per-vCPU records and platform devices,
/// each held as a typed <see cref="HvmSaveEntry"/>. <see cref="ToBlob"/> produces Xen's
/// XEN_DOMCTL_gethvmcontext layout (descriptor + body per record, HEADER first, then type codes
/// in ascending order, per-vCPU types once per vCPU, END last); <see cref="Parse"/> consumes it with
/// the checks Xen's hvm_load makes plus a few stricter ones, reporting exactly where a blob is wrong.
/// </summary>
public sealed class HvmContext
{
    private readonly SortedDictionary<(HvmSaveType Type, int Instance), HvmSaveEntry> _entries = [];
    private readonly HvmVcpuContext[] _vcpus;

    /// <summary>An empty context (header only) for a domain with <paramref name="vcpuCount"/> vCPUs.</summary>
    public HvmContext(int vcpuCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vcpuCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vcpuCount, ushort.MaxValue);
        VcpuCount = vcpuCount;
        _vcpus = new HvmVcpuContext[vcpuCount];
        for (int i = 0; i < vcpuCount; i++)
        {
            _vcpus[i] = new HvmVcpuContext(this, i);
        }

        Header = new HvmSaveHeader();
    }

    /// <summary>vCPUs the context describes (instances of per-vCPU records must be below it).</summary>
    public int VcpuCount { get; }

    /// <summary>HEADER.</summary>
    public HvmSaveHeader Header
    {
        get => (HvmSaveHeader)_entries[(HvmSaveType.Header, 0)];
        set => _entries[(HvmSaveType.Header, 0)] = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Per-vCPU views.</summary>
    public IReadOnlyList<HvmVcpuContext> Vcpus => _vcpus;

    /// <summary>PIC instance 0 (master).</summary>
    public HvmPicState? MasterPic { get => Get<HvmPicState>(HvmSaveType.Pic, 0); set => Set(HvmSaveType.Pic, 0, value); }

    /// <summary>PIC instance 1 (slave).</summary>
    public HvmPicState? SlavePic { get => Get<HvmPicState>(HvmSaveType.Pic, 1); set => Set(HvmSaveType.Pic, 1, value); }

    /// <summary>IOAPIC.</summary>
    public HvmIoApicState? IoApic { get => Get<HvmIoApicState>(HvmSaveType.Ioapic, 0); set => Set(HvmSaveType.Ioapic, 0, value); }

    /// <summary>PCI_IRQ.</summary>
    public HvmPciIrqState? PciIrq { get => Get<HvmPciIrqState>(HvmSaveType.PciIrq, 0); set => Set(HvmSaveType.PciIrq, 0, value); }

    /// <summary>ISA_IRQ.</summary>
    public HvmIsaIrqState? IsaIrq { get => Get<HvmIsaIrqState>(HvmSaveType.IsaIrq, 0); set => Set(HvmSaveType.IsaIrq, 0, value); }

    /// <summary>PCI_LINK.</summary>
    public HvmPciLinkState? PciLink { get => Get<HvmPciLinkState>(HvmSaveType.PciLink, 0); set => Set(HvmSaveType.PciLink, 0, value); }

    /// <summary>PIT.</summary>
    public HvmPitState? Pit { get => Get<HvmPitState>(HvmSaveType.Pit, 0); set => Set(HvmSaveType.Pit, 0, value); }

    /// <summary>RTC.</summary>
    public HvmRtcState? Rtc { get => Get<HvmRtcState>(HvmSaveType.Rtc, 0); set => Set(HvmSaveType.Rtc, 0, value); }

    /// <summary>HPET.</summary>
    public HvmHpetState? Hpet { get => Get<HvmHpetState>(HvmSaveType.Hpet, 0); set => Set(HvmSaveType.Hpet, 0, value); }

    /// <summary>PMTIMER.</summary>
    public HvmPmTimerState? PmTimer { get => Get<HvmPmTimerState>(HvmSaveType.PmTimer, 0); set => Set(HvmSaveType.PmTimer, 0, value); }

    /// <summary>VIRIDIAN_DOMAIN.</summary>
    public HvmViridianDomainState? ViridianDomain { get => Get<HvmViridianDomainState>(HvmSaveType.ViridianDomain, 0); set => Set(HvmSaveType.ViridianDomain, 0, value); }

    /// <summary>Number of records (excluding END).</summary>
    public int EntryCount => _entries.Count;

    /// <summary>The record for (type, instance), or null.</summary>
    public HvmSaveEntry? GetEntry(HvmSaveType type, int instance) => _entries.GetValueOrDefault((type, instance));

    /// <summary>Sets or (with null) removes the record for (type, instance). Instances are range-checked.</summary>
    public void SetEntry(HvmSaveType type, int instance, HvmSaveEntry? entry)
    {
        if (type == HvmSaveType.End)
        {
            throw new ArgumentException("END is implicit", nameof(type));
        }

        int limit = HvmSaveTypes.IsPerVcpu(type) ? VcpuCount : HvmSaveTypes.DomainInstances(type);
        if ((uint)instance >= (uint)limit)
        {
            throw new ArgumentOutOfRangeException(nameof(instance), instance, $"{HvmSaveTypes.Name((ushort)type)} instances must be below {limit}");
        }

        if (entry is not null && entry.TypeCode != type)
        {
            throw new ArgumentException($"entry is {entry.TypeCode}, slot is {type}", nameof(entry));
        }

        if (entry is null)
        {
            if (type == HvmSaveType.Header)
            {
                throw new ArgumentException("the header cannot be removed", nameof(entry));
            }

            _entries.Remove((type, instance));
        }
        else
        {
            _entries[(type, instance)] = entry;
        }
    }

    /// <summary>Every record in canonical (Xen save) order: by type code, then instance.</summary>
    public IEnumerable<(HvmSaveType Type, int Instance, HvmSaveEntry Entry)> Entries()
    {
        foreach (KeyValuePair<(HvmSaveType Type, int Instance), HvmSaveEntry> kv in _entries)
        {
            yield return (kv.Key.Type, kv.Key.Instance, kv.Value);
        }
    }

    /// <summary>Bytes <see cref="ToBlob"/> produces.</summary>
    public int BlobLength
    {
        get
        {
            int length = HvmSaveTypes.DescriptorSize; // END
            foreach (HvmSaveEntry e in _entries.Values)
            {
                length += HvmSaveTypes.DescriptorSize + e.Length;
            }

            return length;
        }
    }

    /// <summary>The context as Xen's save blob.</summary>
    public byte[] ToBlob()
    {
        var blob = new byte[BlobLength];
        WriteTo(blob);
        return blob;
    }

    /// <summary>Writes the blob into <paramref name="destination"/> (at least <see cref="BlobLength"/> bytes); returns bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        int at = 0;
        foreach (KeyValuePair<(HvmSaveType Type, int Instance), HvmSaveEntry> kv in _entries)
        {
            WriteDescriptor(destination[at..], (ushort)kv.Key.Type, (ushort)kv.Key.Instance, (uint)kv.Value.Length);
            at += HvmSaveTypes.DescriptorSize;
            kv.Value.Data.CopyTo(destination[at..]);
            at += kv.Value.Length;
        }

        WriteDescriptor(destination[at..], (ushort)HvmSaveType.End, 0, 0);
        return at + HvmSaveTypes.DescriptorSize;
    }

    /// <summary>A deep copy.</summary>
    public HvmContext Clone()
    {
        var copy = new HvmContext(VcpuCount);
        foreach (KeyValuePair<(HvmSaveType Type, int Instance), HvmSaveEntry> kv in _entries)
        {
            copy._entries[kv.Key] = kv.Value.Clone();
        }

        return copy;
    }

    /// <summary>
    /// Parses and checks a blob. Throws <see cref="HvmContextException"/> at the first problem,
    /// naming the entry index, offset, type code and instance.
    /// </summary>
    public static HvmContext Parse(ReadOnlySpan<byte> blob, int vcpuCount, HvmContextParseOptions? options = null)
    {
        HvmContext context = new(vcpuCount);
        var problems = new List<HvmContextProblem>();
        HvmContextReader.Read(blob, vcpuCount, options ?? HvmContextParseOptions.Strict, context, problems, stopAtFirst: true);
        if (problems.Count > 0)
        {
            throw new HvmContextException(problems[0]);
        }

        return context;
    }

    /// <summary>Checks a blob and returns every problem found (empty if it is well formed).</summary>
    public static IReadOnlyList<HvmContextProblem> Check(ReadOnlySpan<byte> blob, int vcpuCount, HvmContextParseOptions? options = null)
    {
        var problems = new List<HvmContextProblem>();
        HvmContextReader.Read(blob, vcpuCount, options ?? HvmContextParseOptions.Strict, null, problems, stopAtFirst: false);
        return problems;
    }

    internal void SetParsed(HvmSaveType type, int instance, HvmSaveEntry entry) => _entries[(type, instance)] = entry;

    internal bool Has(HvmSaveType type, int instance) => _entries.ContainsKey((type, instance));

    private T? Get<T>(HvmSaveType type, int instance) where T : HvmSaveEntry =>
        _entries.TryGetValue((type, instance), out HvmSaveEntry? e) ? (T)e : null;

    private void Set(HvmSaveType type, int instance, HvmSaveEntry? entry) => SetEntry(type, instance, entry);

    internal T? GetVcpu<T>(HvmSaveType type, int vcpu) where T : HvmSaveEntry => Get<T>(type, vcpu);

    internal void SetVcpu(HvmSaveType type, int vcpu, HvmSaveEntry? entry) => SetEntry(type, vcpu, entry);

    private static void WriteDescriptor(Span<byte> at, ushort type, ushort instance, uint length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(at, type);
        BinaryPrimitives.WriteUInt16LittleEndian(at[2..], instance);
        BinaryPrimitives.WriteUInt32LittleEndian(at[4..], length);
    }
}

/// <summary>One vCPU's records within an <see cref="HvmContext"/>.</summary>
public sealed class HvmVcpuContext
{
    private readonly HvmContext _owner;

    internal HvmVcpuContext(HvmContext owner, int id)
    {
        _owner = owner;
        Id = id;
    }

    /// <summary>The vCPU id (the records' instance number).</summary>
    public int Id { get; }

    /// <summary>CPU (null for a vCPU that is down: Xen saves no CPU record for it).</summary>
    public HvmCpuState? Cpu { get => _owner.GetVcpu<HvmCpuState>(HvmSaveType.Cpu, Id); set => _owner.SetVcpu(HvmSaveType.Cpu, Id, value); }

    /// <summary>LAPIC.</summary>
    public HvmLapicState? Lapic { get => _owner.GetVcpu<HvmLapicState>(HvmSaveType.Lapic, Id); set => _owner.SetVcpu(HvmSaveType.Lapic, Id, value); }

    /// <summary>LAPIC_REGS.</summary>
    public HvmLapicRegsState? LapicRegs { get => _owner.GetVcpu<HvmLapicRegsState>(HvmSaveType.LapicRegs, Id); set => _owner.SetVcpu(HvmSaveType.LapicRegs, Id, value); }

    /// <summary>MTRR.</summary>
    public HvmMtrrState? Mtrr { get => _owner.GetVcpu<HvmMtrrState>(HvmSaveType.Mtrr, Id); set => _owner.SetVcpu(HvmSaveType.Mtrr, Id, value); }

    /// <summary>CPU_XSAVE.</summary>
    public HvmCpuXsaveState? Xsave { get => _owner.GetVcpu<HvmCpuXsaveState>(HvmSaveType.CpuXsave, Id); set => _owner.SetVcpu(HvmSaveType.CpuXsave, Id, value); }

    /// <summary>VIRIDIAN_VCPU.</summary>
    public HvmViridianVcpuState? Viridian { get => _owner.GetVcpu<HvmViridianVcpuState>(HvmSaveType.ViridianVcpu, Id); set => _owner.SetVcpu(HvmSaveType.ViridianVcpu, Id, value); }

    /// <summary>VMCE_VCPU.</summary>
    public HvmVmceVcpuState? Vmce { get => _owner.GetVcpu<HvmVmceVcpuState>(HvmSaveType.VmceVcpu, Id); set => _owner.SetVcpu(HvmSaveType.VmceVcpu, Id, value); }

    /// <summary>TSC_ADJUST.</summary>
    public HvmTscAdjustState? TscAdjust { get => _owner.GetVcpu<HvmTscAdjustState>(HvmSaveType.TscAdjust, Id); set => _owner.SetVcpu(HvmSaveType.TscAdjust, Id, value); }

    /// <summary>CPU_MSR.</summary>
    public HvmCpuMsrState? Msrs { get => _owner.GetVcpu<HvmCpuMsrState>(HvmSaveType.CpuMsr, Id); set => _owner.SetVcpu(HvmSaveType.CpuMsr, Id, value); }
}

/// <summary>How strict <see cref="HvmContext.Parse"/> is beyond what Xen's hvm_load checks.</summary>
public sealed record HvmContextParseOptions
{
    /// <summary>Everything checked; nothing tolerated.</summary>
    public static HvmContextParseOptions Strict { get; } = new();

    /// <summary>Only what Xen itself rejects: trailing bytes after END, END's length and duplicates are tolerated.</summary>
    public static HvmContextParseOptions XenCompatible { get; } = new()
    {
        AllowTrailingData = true,
        AllowNonEmptyEnd = true,
        AllowDuplicates = true,
    };

    /// <summary>Bytes after the END entry are ignored (Xen ignores them) rather than reported.</summary>
    public bool AllowTrailingData { get; init; }

    /// <summary>An END descriptor with a non-zero length is accepted (Xen never looks at it).</summary>
    public bool AllowNonEmptyEnd { get; init; }

    /// <summary>A repeated (type, instance) replaces the earlier one (Xen loads both in turn).</summary>
    public bool AllowDuplicates { get; init; }
}

/// <summary>One problem in an HVM context blob.</summary>
/// <param name="EntryIndex">Index of the entry (0 = the first descriptor), or -1 for whole-blob problems.</param>
/// <param name="Offset">Byte offset of the entry's descriptor (or of the problem).</param>
/// <param name="TypeCode">The entry's type code (0 if unknown).</param>
/// <param name="Instance">The entry's instance.</param>
/// <param name="Message">What was expected and what was found.</param>
public sealed record HvmContextProblem(int EntryIndex, int Offset, ushort TypeCode, ushort Instance, string Message)
{
    /// <inheritdoc/>
    public override string ToString() => EntryIndex < 0
        ? $"HVM context at offset 0x{Offset:x}: {Message}"
        : $"HVM context entry {EntryIndex} at offset 0x{Offset:x} ({HvmSaveTypes.Name(TypeCode)} instance {Instance}): {Message}";
}

/// <summary>An HVM context blob is malformed; <see cref="Problem"/> says where and how.</summary>
public sealed class HvmContextException : DomainException
{
    /// <summary>Creates an exception for <paramref name="problem"/>.</summary>
    public HvmContextException(HvmContextProblem problem) : base(problem?.ToString() ?? "malformed HVM context") => Problem = problem;

    /// <summary>Creates an exception with a generic message.</summary>
    public HvmContextException() : base("malformed HVM context") { }

    /// <summary>Creates an exception with a message.</summary>
    public HvmContextException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and cause.</summary>
    public HvmContextException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The problem, if known.</summary>
    public HvmContextProblem? Problem { get; }
}
