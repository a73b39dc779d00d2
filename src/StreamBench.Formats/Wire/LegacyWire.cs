namespace StreamBench.Formats.Wire;

/// <summary>The legacy (pre-4.6) libxc format as convert-legacy-stream reads it (FORMATS.md 6).</summary>
public static class LegacyWire
{
    /// <summary>The converter's largest page batch (MAX_BATCH).</summary>
    public const int MaxBatch = 1024;

    /// <summary>The PV extended-info marker (~0 as a ulong).</summary>
    public const ulong ExtendedInfoMarker64 = 0xFFFF_FFFF_FFFF_FFFFul;

    /// <summary>The PV extended-info marker on a 32-bit toolstack.</summary>
    public const uint ExtendedInfoMarker32 = 0xFFFF_FFFFu;

    /// <summary>Legacy pfn words: type in bits 31..28, pfn in 27..0.</summary>
    public const int TypeShift = 28;

    /// <summary>Bits holding the pfn in a legacy pfn word.</summary>
    public const uint PfnMask = 0x0FFF_FFFFu;

    /// <summary>The "vcpu" block size of a 64-bit, 4-level guest (sizeof vcpu_guest_context_x86_64).</summary>
    public const uint VcpuBlockSize64 = 0x1430;

    /// <summary>The "vcpu" block size of a 32-bit, 3-level guest (sizeof vcpu_guest_context_x86_32).</summary>
    public const uint VcpuBlockSize32 = 0xAF0;

    /// <summary>Extended vCPU context size in the PV tail when "extv" is present.</summary>
    public const int ExtendedVcpuContextSize = 128;

    /// <summary>The largest max_vcpu_id a VCPU_INFO chunk may carry.</summary>
    public const int MaxVcpuId = 4095;

    /// <summary>Length of a QEMU record signature.</summary>
    public const int QemuSignatureSize = 21;

    /// <summary>QEMU record signatures.</summary>
    public static ReadOnlySpan<byte> DeviceModelRecord0002 => "DeviceModelRecord0002"u8;
    /// <summary>qemu-traditional: the data runs to EOF.</summary>
    public static ReadOnlySpan<byte> QemuDeviceModelRecord => "QemuDeviceModelRecord"u8;
    /// <summary>Remus: laid out as DeviceModelRecord0002.</summary>
    public static ReadOnlySpan<byte> RemusDeviceModelState => "RemusDeviceModelState"u8;

    /// <summary>The version of the legacy libxl toolstack (physmap) blob.</summary>
    public const uint ToolstackBlobVersion = 1;

    /// <summary>xen_minor written by the converter (its own version).</summary>
    public const uint ConverterVersion = 1;
}

/// <summary>XC_SAVE_ID_* chunk ids (negative int32 chunk ids in a legacy body; FORMATS.md 6.2).</summary>
public enum LegacyChunkId
{
    /// <summary>Debug verify mode.</summary>
    EnableVerifyMode = -1,
    /// <summary>int max_vcpu_id; u64 bitmap[].</summary>
    VcpuInfo = -2,
    /// <summary>HVM IDENT_PT.</summary>
    HvmIdentPt = -3,
    /// <summary>HVM VM86_TSS.</summary>
    HvmVm86Tss = -4,
    /// <summary>TMEM.</summary>
    Tmem = -5,
    /// <summary>TMEM extra.</summary>
    TmemExtra = -6,
    /// <summary>u32 mode; u64 nsec; u32 khz; u32 incarnation.</summary>
    TscInfo = -7,
    /// <summary>HVM CONSOLE_PFN.</summary>
    HvmConsolePfn = -8,
    /// <summary>Remus: the last checkpoint.</summary>
    LastCheckpoint = -9,
    /// <summary>HVM ACPI_IOPORTS_LOCATION.</summary>
    HvmAcpiIoportsLocation = -10,
    /// <summary>HVM VIRIDIAN.</summary>
    HvmViridian = -11,
    /// <summary>Remus delta-compressed pages: u32 size; data.</summary>
    CompressedData = -12,
    /// <summary>Remus: switch to compressed batches.</summary>
    EnableCompression = -13,
    /// <summary>HVM VM_GENERATION_ID_ADDR.</summary>
    HvmGenerationIdAddr = -14,
    /// <summary>HVM PAGING_RING_PFN.</summary>
    HvmPagingRingPfn = -15,
    /// <summary>HVM MONITOR_RING_PFN.</summary>
    HvmMonitorRingPfn = -16,
    /// <summary>HVM SHARING_RING_PFN.</summary>
    HvmSharingRingPfn = -17,
    /// <summary>u32 size; toolstack blob.</summary>
    Toolstack = -18,
    /// <summary>HVM IOREQ_SERVER_PFN.</summary>
    HvmIoreqServerPfn = -19,
    /// <summary>HVM NR_IOREQ_SERVER_PAGES.</summary>
    HvmNrIoreqServerPages = -20,
}
