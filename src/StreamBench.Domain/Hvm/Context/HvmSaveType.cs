using StreamBench.X86;

namespace StreamBench.Domain.Hvm.Context;

/// <summary>Static facts about each HVM save type: name, size rule, per-vCPU or per-domain.</summary>
public static class HvmSaveTypes
{
    /// <summary>sizeof(struct hvm_save_descriptor): u16 typecode, u16 instance, u32 length.</summary>
    public const int DescriptorSize = HvmSaveFraming.DescriptorSize;

    /// <summary>HVM_FILE_MAGIC.</summary>
    public const uint FileMagic = HvmSaveFraming.FileMagic;

    /// <summary>HVM_FILE_VERSION.</summary>
    public const uint FileVersion = HvmSaveFraming.FileVersion;

    /// <summary>HVM_SAVE_CODE_MAX.</summary>
    public const ushort MaxCode = HvmSaveFraming.MaxCode;

    /// <summary>Minimum CPU_XSAVE length: offsetof(save_area) (24) + the legacy area and header (576).</summary>
    public const int CpuXsaveMinLength = 24 + 512 + 64;

    /// <summary>CPU_MSR header: u32 count + u32 padding before the entries.</summary>
    public const int CpuMsrHeaderLength = 8;

    /// <summary>Bytes per CPU_MSR entry (u32 index, u32 reserved, u64 value).</summary>
    public const int CpuMsrEntryLength = 16;

    /// <summary>
    /// LAPIC (struct hvm_hw_lapic) as Xen up to 4.19 writes it: apic_base_msr, disabled, timer_divisor, tdt_msr. The
    /// <see cref="FixedLength"/> of LAPIC.
    /// </summary>
    public const int LapicLength = 24;

    /// <summary>
    /// LAPIC as Xen 4.20 writes it: <see cref="LapicLength"/> + u32 x2apic_id + u32 rsvd_zero (seen in the lab's real
    /// 4.20 captures; Xen 4.20 zero-extends a 24-byte entry when it loads one, so both lengths are valid on the wire).
    /// </summary>
    public const int LapicLengthWithX2ApicId = 32;

    /// <summary>Save.h's name for a type code ("CPU", "LAPIC_REGS", ...), or "#n" if unknown.</summary>
    public static string Name(ushort code) => code switch
    {
        0 => "END",
        1 => "HEADER",
        2 => "CPU",
        3 => "PIC",
        4 => "IOAPIC",
        5 => "LAPIC",
        6 => "LAPIC_REGS",
        7 => "PCI_IRQ",
        8 => "ISA_IRQ",
        9 => "PCI_LINK",
        10 => "PIT",
        11 => "RTC",
        12 => "HPET",
        13 => "PMTIMER",
        14 => "MTRR",
        15 => "VIRIDIAN_DOMAIN",
        16 => "CPU_XSAVE",
        17 => "VIRIDIAN_VCPU",
        18 => "VMCE_VCPU",
        19 => "TSC_ADJUST",
        20 => "CPU_MSR",
        _ => $"#{code}",
    };

    /// <summary>The exact body length of a fixed-size type, or -1 for variable-length types (CPU_XSAVE, CPU_MSR).</summary>
    public static int FixedLength(HvmSaveType type) => type switch
    {
        HvmSaveType.End => 0,
        HvmSaveType.Header => 24,
        HvmSaveType.Cpu => 1032,
        HvmSaveType.Pic => 8,
        HvmSaveType.Ioapic => 16 + (48 * 8),
        HvmSaveType.Lapic => LapicLength,
        HvmSaveType.LapicRegs => 1024,
        HvmSaveType.PciIrq => 16,
        HvmSaveType.IsaIrq => 8,
        HvmSaveType.PciLink => 8,
        HvmSaveType.Pit => (3 * 16) + 8,
        HvmSaveType.Rtc => 24,
        HvmSaveType.Hpet => 1048,
        HvmSaveType.PmTimer => 8,
        HvmSaveType.Mtrr => 240,
        HvmSaveType.ViridianDomain => 32,
        HvmSaveType.ViridianVcpu => 16,
        HvmSaveType.VmceVcpu => 32,
        HvmSaveType.TscAdjust => 8,
        HvmSaveType.CpuXsave or HvmSaveType.CpuMsr => -1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown HVM save type"),
    };

    /// <summary>True for types saved once per vCPU (instance = vCPU id).</summary>
    public static bool IsPerVcpu(HvmSaveType type) => type is HvmSaveType.Cpu or HvmSaveType.Lapic or HvmSaveType.LapicRegs
        or HvmSaveType.Mtrr or HvmSaveType.CpuXsave or HvmSaveType.ViridianVcpu or HvmSaveType.VmceVcpu
        or HvmSaveType.TscAdjust or HvmSaveType.CpuMsr;

    /// <summary>Instances a per-domain type may have (PIC: 2, others: 1).</summary>
    public static int DomainInstances(HvmSaveType type) => type == HvmSaveType.Pic ? 2 : 1;
}
