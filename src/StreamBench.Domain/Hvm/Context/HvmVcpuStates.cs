using StreamBench.X86;

namespace StreamBench.Domain.Hvm.Context;

/// <summary>Segment registers in hvm_hw_cpu's order.</summary>
public enum HvmSegment
{
    /// <summary>cs.</summary>
    Cs,
    /// <summary>ds.</summary>
    Ds,
    /// <summary>es.</summary>
    Es,
    /// <summary>fs.</summary>
    Fs,
    /// <summary>gs.</summary>
    Gs,
    /// <summary>ss.</summary>
    Ss,
    /// <summary>tr.</summary>
    Tr,
    /// <summary>ldtr.</summary>
    Ldtr,
}

/// <summary>CPU: struct hvm_hw_cpu (1032 bytes): FXSAVE image, GPRs, control/debug registers, segments, MSRs, TSC.</summary>
public sealed class HvmCpuState : HvmSaveEntry
{
    /// <summary>Field offsets (save.h order).</summary>
    public const int FpuRegs = 0, Rax = 512, Rbx = 520, Rcx = 528, Rdx = 536, Rbp = 544, Rsi = 552, Rdi = 560, Rsp = 568,
        R8 = 576, R9 = 584, R10 = 592, R11 = 600, R12 = 608, R13 = 616, R14 = 624, R15 = 632, Rip = 640, Rflags = 648,
        Cr0 = 656, Cr2 = 664, Cr3 = 672, Cr4 = 680, Dr0 = 688, Dr1 = 696, Dr2 = 704, Dr3 = 712, Dr6 = 720, Dr7 = 728,
        Selectors = 736, Limits = 768, IdtrLimit = 800, GdtrLimit = 804, Bases = 808, IdtrBase = 872, GdtrBase = 880,
        Arbytes = 888, SysenterCs = 920, SysenterEsp = 928, SysenterEip = 936, ShadowGs = 944, MsrFlags = 952,
        MsrLstar = 960, MsrStar = 968, MsrCstar = 976, MsrSyscallMask = 984, MsrEfer = 992, MsrTscAux = 1000,
        Tsc = 1008, PendingEvent = 1016, ErrorCode = 1020, Flags = 1024;

    /// <summary>XEN_X86_FPU_INITIALISED.</summary>
    public const uint FpuInitialised = 1;

    /// <summary>A zeroed CPU record.</summary>
    public HvmCpuState() : this(null) { }

    internal HvmCpuState(byte[]? data) : base(HvmSaveType.Cpu, HvmSaveEntryFactory.Fixed(HvmSaveType.Cpu, data)) { }

    /// <summary>The 512-byte FXSAVE image.</summary>
    public Span<byte> FpuImage => Data[..512];

    /// <summary>Reads a 64-bit field at a named offset.</summary>
    public ulong Get(int offset) => U64(offset);

    /// <summary>Writes a 64-bit field at a named offset.</summary>
    public void Set(int offset, ulong value) => SetU64(offset, value);

    /// <summary>rip.</summary>
    public ulong InstructionPointer { get => U64(Rip); set => SetU64(Rip, value); }

    /// <summary>rsp.</summary>
    public ulong StackPointer { get => U64(Rsp); set => SetU64(Rsp, value); }

    /// <summary>rflags.</summary>
    public ulong FlagsRegister { get => U64(Rflags); set => SetU64(Rflags, value); }

    /// <summary>cr0.</summary>
    public ulong ControlRegister0 { get => U64(Cr0); set => SetU64(Cr0, value); }

    /// <summary>cr3 (a guest-physical address: HVM guests see pfns, never mfns).</summary>
    public ulong ControlRegister3 { get => U64(Cr3); set => SetU64(Cr3, value); }

    /// <summary>cr4.</summary>
    public ulong ControlRegister4 { get => U64(Cr4); set => SetU64(Cr4, value); }

    /// <summary>msr_efer.</summary>
    public ulong Efer { get => U64(MsrEfer); set => SetU64(MsrEfer, value); }

    /// <summary>tsc (the guest's idea of rdtsc).</summary>
    public ulong TimeStampCounter { get => U64(Tsc); set => SetU64(Tsc, value); }

    /// <summary>flags (XEN_X86_FPU_INITIALISED).</summary>
    public uint CpuFlags { get => U32(Flags); set => SetU32(Flags, value); }

    /// <summary>pending_event (vector, type, error-valid, valid bit 31).</summary>
    public uint PendingEventWord { get => U32(PendingEvent); set => SetU32(PendingEvent, value); }

    /// <summary>A segment selector.</summary>
    public uint GetSelector(HvmSegment s) => U32(Selectors + ((int)s * 4));

    /// <summary>Sets a segment selector.</summary>
    public void SetSelector(HvmSegment s, uint value) => SetU32(Selectors + ((int)s * 4), value);

    /// <summary>A segment limit.</summary>
    public uint GetLimit(HvmSegment s) => U32(Limits + ((int)s * 4));

    /// <summary>Sets a segment limit.</summary>
    public void SetLimit(HvmSegment s, uint value) => SetU32(Limits + ((int)s * 4), value);

    /// <summary>A segment base.</summary>
    public ulong GetBase(HvmSegment s) => U64(Bases + ((int)s * 8));

    /// <summary>Sets a segment base.</summary>
    public void SetBase(HvmSegment s, ulong value) => SetU64(Bases + ((int)s * 8), value);

    /// <summary>A segment's access-rights bytes.</summary>
    public uint GetAttributes(HvmSegment s) => U32(Arbytes + ((int)s * 4));

    /// <summary>Sets a segment's access-rights bytes.</summary>
    public void SetAttributes(HvmSegment s, uint value) => SetU32(Arbytes + ((int)s * 4), value);

    /// <summary>Names the field at a body offset, for difference reports.</summary>
    public static string DescribeOffset(int offset)
    {
        string[] gprs = ["rax", "rbx", "rcx", "rdx", "rbp", "rsi", "rdi", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags", "cr0", "cr2", "cr3", "cr4", "dr0", "dr1", "dr2", "dr3", "dr6", "dr7"];
        return offset switch
        {
            < 512 => $"fpu_regs+{offset}",
            < Selectors => gprs[(offset - Rax) / 8],
            < Limits => $"{(HvmSegment)((offset - Selectors) / 4)}_sel".ToLowerInvariant(),
            < Bases => offset >= IdtrLimit ? (offset < GdtrLimit ? "idtr_limit" : "gdtr_limit") : $"{(HvmSegment)((offset - Limits) / 4)}_limit".ToLowerInvariant(),
            < Arbytes => offset >= IdtrBase ? (offset < GdtrBase ? "idtr_base" : "gdtr_base") : $"{(HvmSegment)((offset - Bases) / 8)}_base".ToLowerInvariant(),
            < SysenterCs => $"{(HvmSegment)((offset - Arbytes) / 4)}_arbytes".ToLowerInvariant(),
            < Tsc => $"msr/sysenter area +{offset - SysenterCs}",
            < PendingEvent => "tsc",
            < Flags => offset < ErrorCode ? "pending_event" : "error_code",
            _ => "flags/pad0",
        };
    }
}

/// <summary>
/// LAPIC: struct hvm_hw_lapic: 24 bytes up to Xen 4.19, 32 from Xen 4.20 (x2apic_id, rsvd_zero appended). A new record
/// is the 24-byte form; a parsed one keeps the length it came with, so a stream round-trips as it was written.
/// </summary>
public sealed class HvmLapicState : HvmSaveEntry
{
    /// <summary>Field offsets (X2ApicIdOffset and RsvdZeroOffset only in the 32-byte form).</summary>
    public const int ApicBaseMsr = 0, Disabled = 8, TimerDivisor = 12, TdtMsr = 16, X2ApicIdOffset = 24, RsvdZeroOffset = 28;

    /// <summary>A zeroed LAPIC record.</summary>
    public HvmLapicState() : this(null) { }

    internal HvmLapicState(byte[]? data) : base(HvmSaveType.Lapic, HvmSaveEntryFactory.Fixed(HvmSaveType.Lapic, data)) { }

    /// <summary>apic_base_msr.</summary>
    public ulong BaseMsr { get => U64(ApicBaseMsr); set => SetU64(ApicBaseMsr, value); }

    /// <summary>disabled (VLAPIC_*_DISABLED flags).</summary>
    public uint DisabledFlags { get => U32(Disabled); set => SetU32(Disabled, value); }

    /// <summary>timer_divisor.</summary>
    public uint Divisor { get => U32(TimerDivisor); set => SetU32(TimerDivisor, value); }

    /// <summary>tdt_msr (TSC deadline).</summary>
    public ulong TscDeadline { get => U64(TdtMsr); set => SetU64(TdtMsr, value); }

    /// <summary>True for Xen 4.20's 32-byte form (x2apic_id and rsvd_zero present).</summary>
    public bool HasX2ApicId => Data.Length == HvmSaveTypes.LapicLengthWithX2ApicId;

    /// <summary>x2apic_id (Xen 4.20), or null in the 24-byte form.</summary>
    public uint? X2ApicId => HasX2ApicId ? U32(X2ApicIdOffset) : null;
}

/// <summary>LAPIC_REGS: the 1024-byte APIC register page.</summary>
public sealed class HvmLapicRegsState : HvmSaveEntry
{
    /// <summary>APIC register offsets used by the builder.</summary>
    public const int ApicId = 0x20, Version = 0x30, TaskPriority = 0x80, SpuriousVector = 0xF0,
        LvtTimer = 0x320, LvtThermal = 0x330, LvtPerf = 0x340, LvtLint0 = 0x350, LvtLint1 = 0x360, LvtError = 0x370,
        TimerInitialCount = 0x380, TimerCurrentCount = 0x390, TimerDivide = 0x3E0;

    /// <summary>A zeroed register page.</summary>
    public HvmLapicRegsState() : this(null) { }

    internal HvmLapicRegsState(byte[]? data) : base(HvmSaveType.LapicRegs, HvmSaveEntryFactory.Fixed(HvmSaveType.LapicRegs, data)) { }

    /// <summary>A 32-bit APIC register.</summary>
    public uint GetRegister(int offset) => U32(offset);

    /// <summary>Sets a 32-bit APIC register.</summary>
    public void SetRegister(int offset, uint value) => SetU32(offset, value);
}

/// <summary>MTRR: struct hvm_hw_mtrr (240 bytes).</summary>
public sealed class HvmMtrrState : HvmSaveEntry
{
    /// <summary>Field offsets.</summary>
    public const int PatCr = 0, Variable = 8, Fixed = 136, Cap = 224, DefType = 232;

    /// <summary>MTRR_VCNT * 2 (base/mask pairs).</summary>
    public const int VariableCount = 16;

    /// <summary>NUM_FIXED_MSR.</summary>
    public const int FixedCount = 11;

    /// <summary>A zeroed MTRR record.</summary>
    public HvmMtrrState() : this(null) { }

    internal HvmMtrrState(byte[]? data) : base(HvmSaveType.Mtrr, HvmSaveEntryFactory.Fixed(HvmSaveType.Mtrr, data)) { }

    /// <summary>msr_pat_cr.</summary>
    public ulong Pat { get => U64(PatCr); set => SetU64(PatCr, value); }

    /// <summary>msr_mtrr_cap.</summary>
    public ulong Capabilities { get => U64(Cap); set => SetU64(Cap, value); }

    /// <summary>msr_mtrr_def_type.</summary>
    public ulong DefaultType { get => U64(DefType); set => SetU64(DefType, value); }

    /// <summary>msr_mtrr_var[<paramref name="i"/>].</summary>
    public ulong GetVariable(int i) => U64(Variable + (i * 8));

    /// <summary>Sets msr_mtrr_var[<paramref name="i"/>].</summary>
    public void SetVariable(int i, ulong value) => SetU64(Variable + (i * 8), value);

    /// <summary>msr_mtrr_fixed[<paramref name="i"/>].</summary>
    public ulong GetFixed(int i) => U64(Fixed + (i * 8));

    /// <summary>Sets msr_mtrr_fixed[<paramref name="i"/>].</summary>
    public void SetFixed(int i, ulong value) => SetU64(Fixed + (i * 8), value);
}

/// <summary>CPU_XSAVE: struct hvm_hw_cpu_xsave (24-byte header + a variable XSAVE area, at least 576 bytes).</summary>
public sealed class HvmCpuXsaveState : HvmSaveEntry
{
    /// <summary>Field offsets.</summary>
    public const int XfeatureMask = 0, Xcr0 = 8, Xcr0Accum = 16, SaveArea = 24;

    /// <summary>A record with an XSAVE area of <paramref name="areaLength"/> bytes (≥ 576).</summary>
    public HvmCpuXsaveState(int areaLength) : this(new byte[SaveArea + Math.Max(areaLength, HvmSaveTypes.CpuXsaveMinLength - SaveArea)]) { }

    internal HvmCpuXsaveState(byte[] data) : base(HvmSaveType.CpuXsave, data)
    {
        if (data.Length < HvmSaveTypes.CpuXsaveMinLength)
        {
            throw new ArgumentException($"CPU_XSAVE body must be at least {HvmSaveTypes.CpuXsaveMinLength} bytes, got {data.Length}", nameof(data));
        }
    }

    /// <summary>xfeature_mask (ignored by Xen).</summary>
    public ulong FeatureMask { get => U64(XfeatureMask); set => SetU64(XfeatureMask, value); }

    /// <summary>xcr0.</summary>
    public ulong Xcr0Value { get => U64(Xcr0); set => SetU64(Xcr0, value); }

    /// <summary>xcr0_accum.</summary>
    public ulong Xcr0AccumValue { get => U64(Xcr0Accum); set => SetU64(Xcr0Accum, value); }

    /// <summary>The XSAVE area (legacy region, header, extended components).</summary>
    public Span<byte> Area => Data[SaveArea..];
}

/// <summary>VIRIDIAN_VCPU: struct hvm_viridian_vcpu_context (16 bytes).</summary>
public sealed class HvmViridianVcpuState : HvmSaveEntry
{
    /// <summary>A zeroed record.</summary>
    public HvmViridianVcpuState() : this(null) { }

    internal HvmViridianVcpuState(byte[]? data) : base(HvmSaveType.ViridianVcpu, HvmSaveEntryFactory.Fixed(HvmSaveType.ViridianVcpu, data)) { }

    /// <summary>vp_assist_msr.</summary>
    public ulong VpAssistMsr { get => U64(0); set => SetU64(0, value); }

    /// <summary>vp_assist_vector.</summary>
    public byte VpAssistVector { get => Data[8]; set => Data[8] = value; }
}

/// <summary>VMCE_VCPU: struct hvm_vmce_vcpu (32 bytes).</summary>
public sealed class HvmVmceVcpuState : HvmSaveEntry
{
    /// <summary>Field offsets.</summary>
    public const int Caps = 0, MciCtl2Bank0 = 8, MciCtl2Bank1 = 16, McgExtCtl = 24;

    /// <summary>A zeroed record.</summary>
    public HvmVmceVcpuState() : this(null) { }

    internal HvmVmceVcpuState(byte[]? data) : base(HvmSaveType.VmceVcpu, HvmSaveEntryFactory.Fixed(HvmSaveType.VmceVcpu, data)) { }

    /// <summary>caps (the guest's MCG_CAP).</summary>
    public ulong Capabilities { get => U64(Caps); set => SetU64(Caps, value); }

    /// <summary>mci_ctl2_bank0.</summary>
    public ulong Bank0Ctl2 { get => U64(MciCtl2Bank0); set => SetU64(MciCtl2Bank0, value); }

    /// <summary>mci_ctl2_bank1.</summary>
    public ulong Bank1Ctl2 { get => U64(MciCtl2Bank1); set => SetU64(MciCtl2Bank1, value); }

    /// <summary>mcg_ext_ctl.</summary>
    public ulong ExtendedControl { get => U64(McgExtCtl); set => SetU64(McgExtCtl, value); }
}

/// <summary>TSC_ADJUST: struct hvm_tsc_adjust (8 bytes).</summary>
public sealed class HvmTscAdjustState : HvmSaveEntry
{
    /// <summary>A zeroed record.</summary>
    public HvmTscAdjustState() : this(null) { }

    internal HvmTscAdjustState(byte[]? data) : base(HvmSaveType.TscAdjust, HvmSaveEntryFactory.Fixed(HvmSaveType.TscAdjust, data)) { }

    /// <summary>tsc_adjust.</summary>
    public ulong Value { get => U64(0); set => SetU64(0, value); }
}

/// <summary>CPU_MSR: struct hvm_msr (u32 count, padding, then {u32 index, u32 _rsvd, u64 val}[count]).</summary>
public sealed class HvmCpuMsrState : HvmSaveEntry
{
    /// <summary>A record holding <paramref name="msrs"/>.</summary>
    public HvmCpuMsrState(IReadOnlyList<VcpuMsr> msrs)
        : this(new byte[HvmSaveTypes.CpuMsrHeaderLength + (HvmSaveTypes.CpuMsrEntryLength * (msrs?.Count ?? 0))])
    {
        ArgumentNullException.ThrowIfNull(msrs);
        SetU32(0, (uint)msrs.Count);
        for (int i = 0; i < msrs.Count; i++)
        {
            int at = HvmSaveTypes.CpuMsrHeaderLength + (i * HvmSaveTypes.CpuMsrEntryLength);
            SetU32(at, msrs[i].Index);
            SetU64(at + 8, msrs[i].Value);
        }
    }

    internal HvmCpuMsrState(byte[] data) : base(HvmSaveType.CpuMsr, data)
    {
        if (data.Length < HvmSaveTypes.CpuMsrHeaderLength)
        {
            throw new ArgumentException($"CPU_MSR body must be at least {HvmSaveTypes.CpuMsrHeaderLength} bytes", nameof(data));
        }
    }

    /// <summary>The count field.</summary>
    public uint Count => U32(0);

    /// <summary>The MSRs (index, value); reserved words are not surfaced.</summary>
    public IReadOnlyList<VcpuMsr> Msrs
    {
        get
        {
            int n = (Length - HvmSaveTypes.CpuMsrHeaderLength) / HvmSaveTypes.CpuMsrEntryLength;
            var list = new VcpuMsr[n];
            for (int i = 0; i < n; i++)
            {
                int at = HvmSaveTypes.CpuMsrHeaderLength + (i * HvmSaveTypes.CpuMsrEntryLength);
                list[i] = new VcpuMsr(U32(at), U64(at + 8));
            }

            return list;
        }
    }
}
