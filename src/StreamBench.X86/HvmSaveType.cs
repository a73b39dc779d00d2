namespace StreamBench.X86;

/// <summary>
/// HVM save record type codes (xen/include/public/arch-x86/hvm/save.h, HVM_SAVE_CODE_MAX 20).
/// This is Xen's ABI for XEN_DOMCTL_{get,set}hvmcontext, not the migration stream.
/// </summary>
public enum HvmSaveType : ushort
{
    /// <summary>END: the terminating entry (length 0).</summary>
    End = 0,
    /// <summary>HEADER: struct hvm_save_header (magic, version, changeset, cpuid, gtsc_khz).</summary>
    Header = 1,
    /// <summary>CPU: struct hvm_hw_cpu, per vCPU.</summary>
    Cpu = 2,
    /// <summary>PIC: struct hvm_hw_vpic, instance 0 master, 1 slave.</summary>
    Pic = 3,
    /// <summary>IOAPIC: struct hvm_hw_vioapic (48 pins).</summary>
    Ioapic = 4,
    /// <summary>LAPIC: struct hvm_hw_lapic, per vCPU.</summary>
    Lapic = 5,
    /// <summary>LAPIC_REGS: the 1 KiB APIC register page, per vCPU.</summary>
    LapicRegs = 6,
    /// <summary>PCI_IRQ: PCI INTx wire bitmap.</summary>
    PciIrq = 7,
    /// <summary>ISA_IRQ: ISA IRQ wire bitmap.</summary>
    IsaIrq = 8,
    /// <summary>PCI_LINK: PCI-ISA link routing.</summary>
    PciLink = 9,
    /// <summary>PIT: the 8254.</summary>
    Pit = 10,
    /// <summary>RTC: CMOS registers.</summary>
    Rtc = 11,
    /// <summary>HPET.</summary>
    Hpet = 12,
    /// <summary>PMTIMER: ACPI PM timer.</summary>
    PmTimer = 13,
    /// <summary>MTRR: MTRR and PAT MSRs, per vCPU.</summary>
    Mtrr = 14,
    /// <summary>VIRIDIAN_DOMAIN: Hyper-V enlightenment domain state.</summary>
    ViridianDomain = 15,
    /// <summary>CPU_XSAVE: XSAVE state, per vCPU, variable length.</summary>
    CpuXsave = 16,
    /// <summary>VIRIDIAN_VCPU: Hyper-V enlightenment vCPU state.</summary>
    ViridianVcpu = 17,
    /// <summary>VMCE_VCPU: virtual machine-check state, per vCPU.</summary>
    VmceVcpu = 18,
    /// <summary>TSC_ADJUST: IA32_TSC_ADJUST, per vCPU.</summary>
    TscAdjust = 19,
    /// <summary>CPU_MSR: extra MSRs, per vCPU, variable length.</summary>
    CpuMsr = 20,
}

/// <summary>
/// The framing of the HVM save blob (xen/include/public/hvm/save.h: struct hvm_save_descriptor, HVM_FILE_MAGIC,
/// HVM_FILE_VERSION; arch-x86/hvm/save.h: HVM_SAVE_CODE_MAX): what XEN_DOMCTL_{get,set}hvmcontext exchange and what
/// the HVM_CONTEXT record of the migration stream carries.
/// </summary>
public static class HvmSaveFraming
{
    /// <summary>sizeof(struct hvm_save_descriptor): u16 typecode, u16 instance, u32 length.</summary>
    public const int DescriptorSize = 8;

    /// <summary>HVM_FILE_MAGIC of the HEADER record.</summary>
    public const uint FileMagic = 0x5438_1286u;

    /// <summary>HVM_FILE_VERSION.</summary>
    public const uint FileVersion = 1;

    /// <summary>HVM_SAVE_CODE_MAX.</summary>
    public const ushort MaxCode = 20;
}
