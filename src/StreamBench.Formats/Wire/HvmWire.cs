using StreamBench.X86;

namespace StreamBench.Formats.Wire;

/// <summary>Xen's HVM save blob carried by HVM_CONTEXT (xen/include/public/hvm/save.h, arch-x86/hvm/save.h).</summary>
public static class HvmSaveWire
{
    /// <summary>Each save record starts with u16 typecode, u16 instance, u32 length.</summary>
    public const int DescriptorSize = HvmSaveFraming.DescriptorSize;

    /// <summary>HVM_FILE_MAGIC of the HEADER record.</summary>
    public const uint FileMagic = HvmSaveFraming.FileMagic;

    /// <summary>HVM_FILE_VERSION.</summary>
    public const uint FileVersion = HvmSaveFraming.FileVersion;

    /// <summary>The HEADER record's body: magic, version, changeset, cpuid, gtsc_khz.</summary>
    public const int HeaderBodySize = 24;

    /// <summary>The CPU record's body: sizeof(struct hvm_hw_cpu).</summary>
    public const int CpuBodySize = 1032;
}

/// <summary>HVM param indexes (xen/include/public/hvm/params.h) as carried by HVM_PARAMS.</summary>
public enum HvmParam : ulong
{
    /// <summary>HVM_PARAM_CALLBACK_IRQ.</summary>
    CallbackIrq = 0,
    /// <summary>HVM_PARAM_STORE_PFN.</summary>
    StorePfn = 1,
    /// <summary>HVM_PARAM_STORE_EVTCHN.</summary>
    StoreEvtchn = 2,
    /// <summary>HVM_PARAM_PAE_ENABLED (dropped on restore).</summary>
    PaeEnabled = 4,
    /// <summary>HVM_PARAM_IOREQ_PFN.</summary>
    IoreqPfn = 5,
    /// <summary>HVM_PARAM_BUFIOREQ_PFN.</summary>
    BufioreqPfn = 6,
    /// <summary>HVM_PARAM_VIRIDIAN.</summary>
    Viridian = 9,
    /// <summary>HVM_PARAM_TIMER_MODE.</summary>
    TimerMode = 10,
    /// <summary>HVM_PARAM_HPET_ENABLED.</summary>
    HpetEnabled = 11,
    /// <summary>HVM_PARAM_IDENT_PT.</summary>
    IdentPt = 12,
    /// <summary>HVM_PARAM_DM_DOMAIN.</summary>
    DmDomain = 13,
    /// <summary>HVM_PARAM_ACPI_S_STATE.</summary>
    AcpiSState = 14,
    /// <summary>HVM_PARAM_VM86_TSS.</summary>
    Vm86Tss = 15,
    /// <summary>HVM_PARAM_VPT_ALIGN.</summary>
    VptAlign = 16,
    /// <summary>HVM_PARAM_CONSOLE_PFN.</summary>
    ConsolePfn = 17,
    /// <summary>HVM_PARAM_CONSOLE_EVTCHN.</summary>
    ConsoleEvtchn = 18,
    /// <summary>HVM_PARAM_ACPI_IOPORTS_LOCATION.</summary>
    AcpiIoportsLocation = 19,
    /// <summary>HVM_PARAM_NESTEDHVM.</summary>
    NestedHvm = 24,
    /// <summary>HVM_PARAM_BUFIOREQ_EVTCHN.</summary>
    BufioreqEvtchn = 26,
    /// <summary>HVM_PARAM_PAGING_RING_PFN.</summary>
    PagingRingPfn = 27,
    /// <summary>HVM_PARAM_MONITOR_RING_PFN.</summary>
    MonitorRingPfn = 28,
    /// <summary>HVM_PARAM_SHARING_RING_PFN.</summary>
    SharingRingPfn = 29,
    /// <summary>HVM_PARAM_TRIPLE_FAULT_REASON.</summary>
    TripleFaultReason = 31,
    /// <summary>HVM_PARAM_IOREQ_SERVER_PFN.</summary>
    IoreqServerPfn = 32,
    /// <summary>HVM_PARAM_NR_IOREQ_SERVER_PAGES.</summary>
    NrIoreqServerPages = 33,
    /// <summary>HVM_PARAM_VM_GENERATION_ID_ADDR.</summary>
    VmGenerationIdAddr = 34,
    /// <summary>HVM_PARAM_ALTP2M.</summary>
    Altp2m = 35,
    /// <summary>HVM_PARAM_X87_FIP_WIDTH.</summary>
    X87FipWidth = 36,
    /// <summary>HVM_PARAM_VM86_TSS_SIZED.</summary>
    Vm86TssSized = 37,
    /// <summary>HVM_PARAM_MCA_CAP.</summary>
    McaCap = 38,
}
