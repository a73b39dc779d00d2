using System.Buffers.Binary;

namespace StreamBench.Domain.Pv;

/// <summary>
/// Byte layout of vcpu_guest_context for a PV guest of one width (Xen public ABI,
/// xen/include/public/arch-x86/xen{,-x86_64,-x86_32}.h). 64-bit: 5168 bytes; 32-bit: 2800 bytes.
/// Offsets are -1 where the width has no such field.
/// </summary>
public sealed class VcpuGuestContextLayout
{
    /// <summary>vcpu_guest_context_x86_64_t.</summary>
    public static VcpuGuestContextLayout X86_64 { get; } = new()
    {
        Width = 8,
        Size = 5168,
        FpuContext = 0,
        Flags = 512,
        UserRegs = 520,
        UserRegsSize = 200,
        // cpu_user_regs (x86_64): r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi,
        // error_code, entry_vector, rip, cs, saved_upcall_mask, rflags, rsp, ss, es, ds, fs, gs.
        Rax = 520 + 80,
        Rbx = 520 + 40,
        Rcx = 520 + 88,
        Rdx = 520 + 96,
        Rsi = 520 + 104,
        Rdi = 520 + 112,
        Rbp = 520 + 32,
        Rip = 520 + 128,
        Cs = 520 + 136,
        SavedUpcallMask = 520 + 140,
        Rflags = 520 + 144,
        Rsp = 520 + 152,
        Ss = 520 + 160,
        Es = 520 + 168,
        Ds = 520 + 176,
        Fs = 520 + 184,
        Gs = 520 + 192,
        TrapContext = 720,
        TrapEntrySize = 16,
        LdtBase = 4816,
        LdtEntries = 4824,
        GdtFrames = 4832,
        GdtEntries = 4960,
        KernelSs = 4968,
        KernelSp = 4976,
        ControlRegisters = 4984,
        DebugRegisters = 5048,
        EventCallbackCs = -1,
        EventCallbackEip = 5112,
        FailsafeCallbackCs = -1,
        FailsafeCallbackEip = 5120,
        SyscallCallbackEip = 5128,
        VmAssist = 5136,
        FsBase = 5144,
        GsBaseKernel = 5152,
        GsBaseUser = 5160,
    };

    /// <summary>vcpu_guest_context_x86_32_t.</summary>
    public static VcpuGuestContextLayout X86_32 { get; } = new()
    {
        Width = 4,
        Size = 2800,
        FpuContext = 0,
        Flags = 512,
        UserRegs = 516,
        UserRegsSize = 68,
        // cpu_user_regs (x86_32): ebx ecx edx esi edi ebp eax, error_code(16) entry_vector(16),
        // eip, cs(16) saved_upcall_mask(8) pad, eflags, esp, ss, es, ds, fs, gs.
        Rbx = 516 + 0,
        Rcx = 516 + 4,
        Rdx = 516 + 8,
        Rsi = 516 + 12,
        Rdi = 516 + 16,
        Rbp = 516 + 20,
        Rax = 516 + 24,
        Rip = 516 + 32,
        Cs = 516 + 36,
        SavedUpcallMask = 516 + 38,
        Rflags = 516 + 40,
        Rsp = 516 + 44,
        Ss = 516 + 48,
        Es = 516 + 52,
        Ds = 516 + 56,
        Fs = 516 + 60,
        Gs = 516 + 64,
        TrapContext = 584,
        TrapEntrySize = 8,
        LdtBase = 2632,
        LdtEntries = 2636,
        GdtFrames = 2640,
        GdtEntries = 2704,
        KernelSs = 2708,
        KernelSp = 2712,
        ControlRegisters = 2716,
        DebugRegisters = 2748,
        EventCallbackCs = 2780,
        EventCallbackEip = 2784,
        FailsafeCallbackCs = 2788,
        FailsafeCallbackEip = 2792,
        SyscallCallbackEip = -1,
        VmAssist = 2796,
        FsBase = -1,
        GsBaseKernel = -1,
        GsBaseUser = -1,
    };

    /// <summary>The layout for a guest width (8 or 4).</summary>
    public static VcpuGuestContextLayout ForWidth(int width) => width == 8 ? X86_64 : X86_32;

    /// <summary>VGCF_i387_valid.</summary>
    public const ulong FlagI387Valid = 1 << 0;

    /// <summary>VGCF_in_kernel.</summary>
    public const ulong FlagInKernel = 1 << 2;

    /// <summary>VGCF_failsafe_disables_events.</summary>
    public const ulong FlagFailsafeDisablesEvents = 1 << 3;

    /// <summary>VGCF_syscall_disables_events.</summary>
    public const ulong FlagSyscallDisablesEvents = 1 << 4;

    /// <summary>VGCF_online: set by Xen on getcontext for online vCPUs and by restore on setcontext.</summary>
    public const ulong FlagOnline = 1 << 5;

    /// <summary>FIRST_RESERVED_GDT_ENTRY: gdt_ents above this are refused (14 pages of 512 entries).</summary>
    public const int FirstReservedGdtEntry = 14 * 4096 / 8;

    /// <summary>Number of gdt_frames slots.</summary>
    public const int GdtFrameSlots = 16;

    /// <summary>Guest word size (unsigned long): 8 or 4.</summary>
    public int Width { get; private init; }

    /// <summary>sizeof(vcpu_guest_context_x86_{64,32}_t).</summary>
    public int Size { get; private init; }

    /// <summary>fpu_ctxt (512 bytes, FXSAVE image).</summary>
    public int FpuContext { get; private init; }

    /// <summary>flags (VGCF_*).</summary>
    public int Flags { get; private init; }

    /// <summary>user_regs.</summary>
    public int UserRegs { get; private init; }

    /// <summary>sizeof(cpu_user_regs).</summary>
    public int UserRegsSize { get; private init; }

    /// <summary>user_regs.rax/eax.</summary>
    public int Rax { get; private init; }

    /// <summary>user_regs.rbx/ebx.</summary>
    public int Rbx { get; private init; }

    /// <summary>user_regs.rcx/ecx.</summary>
    public int Rcx { get; private init; }

    /// <summary>user_regs.rdx/edx: on vcpu0 of a suspended guest, the start_info frame (the "suspend record").</summary>
    public int Rdx { get; private init; }

    /// <summary>user_regs.rsi/esi.</summary>
    public int Rsi { get; private init; }

    /// <summary>user_regs.rdi/edi.</summary>
    public int Rdi { get; private init; }

    /// <summary>user_regs.rbp/ebp.</summary>
    public int Rbp { get; private init; }

    /// <summary>user_regs.rip/eip.</summary>
    public int Rip { get; private init; }

    /// <summary>user_regs.cs (u16).</summary>
    public int Cs { get; private init; }

    /// <summary>user_regs.saved_upcall_mask (u8).</summary>
    public int SavedUpcallMask { get; private init; }

    /// <summary>user_regs.rflags/eflags.</summary>
    public int Rflags { get; private init; }

    /// <summary>user_regs.rsp/esp.</summary>
    public int Rsp { get; private init; }

    /// <summary>user_regs.ss (u16).</summary>
    public int Ss { get; private init; }

    /// <summary>user_regs.es (u16).</summary>
    public int Es { get; private init; }

    /// <summary>user_regs.ds (u16).</summary>
    public int Ds { get; private init; }

    /// <summary>user_regs.fs (u16).</summary>
    public int Fs { get; private init; }

    /// <summary>user_regs.gs (u16).</summary>
    public int Gs { get; private init; }

    /// <summary>trap_ctxt[256].</summary>
    public int TrapContext { get; private init; }

    /// <summary>sizeof(trap_info).</summary>
    public int TrapEntrySize { get; private init; }

    /// <summary>ldt_base.</summary>
    public int LdtBase { get; private init; }

    /// <summary>ldt_ents.</summary>
    public int LdtEntries { get; private init; }

    /// <summary>gdt_frames[16]: machine frames (pfns in the stream).</summary>
    public int GdtFrames { get; private init; }

    /// <summary>gdt_ents.</summary>
    public int GdtEntries { get; private init; }

    /// <summary>kernel_ss.</summary>
    public int KernelSs { get; private init; }

    /// <summary>kernel_sp.</summary>
    public int KernelSp { get; private init; }

    /// <summary>ctrlreg[8]: cr3 holds the top-level table frame; on 64-bit, ctrlreg[1] the user table.</summary>
    public int ControlRegisters { get; private init; }

    /// <summary>debugreg[8].</summary>
    public int DebugRegisters { get; private init; }

    /// <summary>event_callback_cs (32-bit only).</summary>
    public int EventCallbackCs { get; private init; }

    /// <summary>event_callback_eip.</summary>
    public int EventCallbackEip { get; private init; }

    /// <summary>failsafe_callback_cs (32-bit only).</summary>
    public int FailsafeCallbackCs { get; private init; }

    /// <summary>failsafe_callback_eip.</summary>
    public int FailsafeCallbackEip { get; private init; }

    /// <summary>syscall_callback_eip (64-bit only).</summary>
    public int SyscallCallbackEip { get; private init; }

    /// <summary>vm_assist.</summary>
    public int VmAssist { get; private init; }

    /// <summary>fs_base (64-bit only).</summary>
    public int FsBase { get; private init; }

    /// <summary>gs_base_kernel (64-bit only).</summary>
    public int GsBaseKernel { get; private init; }

    /// <summary>gs_base_user (64-bit only).</summary>
    public int GsBaseUser { get; private init; }

    /// <summary>Offset of ctrlreg[<paramref name="n"/>].</summary>
    public int ControlRegister(int n) => ControlRegisters + (n * Width);

    /// <summary>Offset of debugreg[<paramref name="n"/>].</summary>
    public int DebugRegister(int n) => DebugRegisters + (n * Width);

    /// <summary>Offset of gdt_frames[<paramref name="n"/>].</summary>
    public int GdtFrame(int n) => GdtFrames + (n * Width);

    /// <summary>Reads a guest word (unsigned long) at <paramref name="offset"/>.</summary>
    public ulong ReadWord(ReadOnlySpan<byte> blob, int offset) => PvWords.Read(blob, offset, Width);

    /// <summary>Writes a guest word (unsigned long) at <paramref name="offset"/>.</summary>
    public void WriteWord(Span<byte> blob, int offset, ulong value) => PvWords.Write(blob, offset, Width, value);

    /// <summary>Names the field at <paramref name="offset"/>, for difference reports.</summary>
    public string DescribeOffset(int offset)
    {
        (string Name, int Start, int Length)[] fields =
        [
            ("fpu_ctxt", FpuContext, 512), ("flags", Flags, Width), ("user_regs", UserRegs, UserRegsSize),
            ("trap_ctxt", TrapContext, 256 * TrapEntrySize), ("ldt_base", LdtBase, Width), ("ldt_ents", LdtEntries, Width),
            ("gdt_frames", GdtFrames, 16 * Width), ("gdt_ents", GdtEntries, Width), ("kernel_ss", KernelSs, Width),
            ("kernel_sp", KernelSp, Width), ("ctrlreg", ControlRegisters, 8 * Width), ("debugreg", DebugRegisters, 8 * Width),
            ("event_callback_cs", EventCallbackCs, Width), ("event_callback_eip", EventCallbackEip, Width),
            ("failsafe_callback_cs", FailsafeCallbackCs, Width), ("failsafe_callback_eip", FailsafeCallbackEip, Width),
            ("syscall_callback_eip", SyscallCallbackEip, Width), ("vm_assist", VmAssist, Width),
            ("fs_base", FsBase, 8), ("gs_base_kernel", GsBaseKernel, 8), ("gs_base_user", GsBaseUser, 8),
        ];
        foreach ((string name, int start, int length) in fields)
        {
            if (start >= 0 && offset >= start && offset < start + length)
            {
                int rel = offset - start;
                int elem = name is "ctrlreg" or "debugreg" or "gdt_frames" ? Width : name == "trap_ctxt" ? TrapEntrySize : 0;
                return elem > 0 ? $"{name}[{rel / elem}]+{rel % elem}" : $"{name}+{rel}";
            }
        }

        return $"offset {offset}";
    }
}

/// <summary>
/// Byte layout of shared_info for one PV width (xen/include/public/xen.h + arch-x86/xen.h).
/// vcpu_info is 64 bytes on both widths; the event-channel bitmaps are one xen_ulong_t per bit-word.
/// </summary>
public sealed class SharedInfoLayout
{
    /// <summary>shared_info as seen by a 64-bit guest.</summary>
    public static SharedInfoLayout X86_64 { get; } = new()
    {
        Width = 8,
        EvtchnPending = 2048,
        EvtchnMask = 2560,
        EvtchnBitmapBytes = 512,
        WcVersion = 3072,
        WcSec = 3076,
        WcNsec = 3080,
        WcSecHi = 3084,
        ArchMaxPfn = 3088,
        ArchFrameListList = 3096,
        ArchNmiReason = 3104,
        ArchP2mCr3 = 3112,
        ArchP2mVaddr = 3120,
        ArchP2mGeneration = 3128,
        Size = 3136,
    };

    /// <summary>shared_info as seen by a 32-bit guest (wc_sec_hi sits at the end of arch_shared_info).</summary>
    public static SharedInfoLayout X86_32 { get; } = new()
    {
        Width = 4,
        EvtchnPending = 2048,
        EvtchnMask = 2176,
        EvtchnBitmapBytes = 128,
        WcVersion = 2304,
        WcSec = 2308,
        WcNsec = 2312,
        ArchMaxPfn = 2316,
        ArchFrameListList = 2320,
        ArchNmiReason = 2324,
        ArchP2mCr3 = 2328,
        ArchP2mVaddr = 2332,
        ArchP2mGeneration = 2336,
        WcSecHi = 2340,
        Size = 2344,
    };

    /// <summary>The layout for a guest width.</summary>
    public static SharedInfoLayout ForWidth(int width) => width == 8 ? X86_64 : X86_32;

    /// <summary>XEN_LEGACY_MAX_VCPUS: vcpu_info slots in shared_info.</summary>
    public const int LegacyMaxVcpus = 32;

    /// <summary>sizeof(vcpu_info): 64 on both widths.</summary>
    public const int VcpuInfoSize = 64;

    /// <summary>vcpu_info.evtchn_upcall_pending (u8).</summary>
    public const int VcpuInfoUpcallPending = 0;

    /// <summary>vcpu_info.evtchn_upcall_mask (u8).</summary>
    public const int VcpuInfoUpcallMask = 1;

    /// <summary>Guest word size.</summary>
    public int Width { get; private init; }

    /// <summary>Bytes of shared_info actually defined (the rest of the page is unused).</summary>
    public int Size { get; private init; }

    /// <summary>Offset of vcpu_info[<paramref name="vcpu"/>].</summary>
    public static int VcpuInfo(int vcpu) => vcpu * VcpuInfoSize;

    /// <summary>vcpu_info.evtchn_pending_sel (a guest word, at offset 8 on 64-bit and 4 on 32-bit).</summary>
    public int VcpuInfoPendingSel(int vcpu) => VcpuInfo(vcpu) + Width;

    /// <summary>vcpu_info.time (struct vcpu_time_info, 32 bytes, at the end of vcpu_info).</summary>
    public static int VcpuInfoTime(int vcpu) => VcpuInfo(vcpu) + 32;

    /// <summary>evtchn_pending[].</summary>
    public int EvtchnPending { get; private init; }

    /// <summary>evtchn_mask[].</summary>
    public int EvtchnMask { get; private init; }

    /// <summary>Bytes in each event-channel bitmap.</summary>
    public int EvtchnBitmapBytes { get; private init; }

    /// <summary>wc_version.</summary>
    public int WcVersion { get; private init; }

    /// <summary>wc_sec.</summary>
    public int WcSec { get; private init; }

    /// <summary>wc_nsec.</summary>
    public int WcNsec { get; private init; }

    /// <summary>wc_sec_hi.</summary>
    public int WcSecHi { get; private init; }

    /// <summary>arch.max_pfn (the p2m size: max_pfn + 1).</summary>
    public int ArchMaxPfn { get; private init; }

    /// <summary>arch.pfn_to_mfn_frame_list_list (an mfn).</summary>
    public int ArchFrameListList { get; private init; }

    /// <summary>arch.nmi_reason.</summary>
    public int ArchNmiReason { get; private init; }

    /// <summary>arch.p2m_cr3.</summary>
    public int ArchP2mCr3 { get; private init; }

    /// <summary>arch.p2m_vaddr.</summary>
    public int ArchP2mVaddr { get; private init; }

    /// <summary>arch.p2m_generation.</summary>
    public int ArchP2mGeneration { get; private init; }
}

/// <summary>Byte layout of start_info for one PV width (xen/include/public/xen.h).</summary>
public sealed class StartInfoLayout
{
    /// <summary>start_info as seen by a 64-bit guest.</summary>
    public static StartInfoLayout X86_64 { get; } = new()
    {
        Width = 8,
        NrPages = 32,
        SharedInfo = 40,
        Flags = 48,
        StoreMfn = 56,
        StoreEvtchn = 64,
        ConsoleMfn = 72,
        ConsoleEvtchn = 80,
        PtBase = 88,
        NrPtFrames = 96,
        MfnList = 104,
        ModStart = 112,
        ModLen = 120,
        CmdLine = 128,
        FirstP2mPfn = 1152,
        NrP2mFrames = 1160,
        Size = 1168,
        MagicText = "xen-3.0-x86_64",
    };

    /// <summary>start_info as seen by a 32-bit PAE guest.</summary>
    public static StartInfoLayout X86_32 { get; } = new()
    {
        Width = 4,
        NrPages = 32,
        SharedInfo = 36,
        Flags = 40,
        StoreMfn = 44,
        StoreEvtchn = 48,
        ConsoleMfn = 52,
        ConsoleEvtchn = 56,
        PtBase = 60,
        NrPtFrames = 64,
        MfnList = 68,
        ModStart = 72,
        ModLen = 76,
        CmdLine = 80,
        FirstP2mPfn = 1104,
        NrP2mFrames = 1108,
        Size = 1112,
        MagicText = "xen-3.0-x86_32p",
    };

    /// <summary>The layout for a guest width.</summary>
    public static StartInfoLayout ForWidth(int width) => width == 8 ? X86_64 : X86_32;

    /// <summary>magic[32] at offset 0.</summary>
    public const int Magic = 0;

    /// <summary>Bytes of magic.</summary>
    public const int MagicSize = 32;

    /// <summary>MAX_GUEST_CMDLINE.</summary>
    public const int CmdLineSize = 1024;

    /// <summary>Guest word size.</summary>
    public int Width { get; private init; }

    /// <summary>Bytes of start_info.</summary>
    public int Size { get; private init; }

    /// <summary>The magic string for this width ("xen-3.0-x86_64" / "xen-3.0-x86_32p").</summary>
    public string MagicText { get; private init; } = "";

    /// <summary>nr_pages.</summary>
    public int NrPages { get; private init; }

    /// <summary>shared_info (a machine address).</summary>
    public int SharedInfo { get; private init; }

    /// <summary>flags (u32, SIF_*).</summary>
    public int Flags { get; private init; }

    /// <summary>store_mfn.</summary>
    public int StoreMfn { get; private init; }

    /// <summary>store_evtchn (u32).</summary>
    public int StoreEvtchn { get; private init; }

    /// <summary>console.domU.mfn.</summary>
    public int ConsoleMfn { get; private init; }

    /// <summary>console.domU.evtchn (u32).</summary>
    public int ConsoleEvtchn { get; private init; }

    /// <summary>pt_base (virtual).</summary>
    public int PtBase { get; private init; }

    /// <summary>nr_pt_frames.</summary>
    public int NrPtFrames { get; private init; }

    /// <summary>mfn_list (virtual).</summary>
    public int MfnList { get; private init; }

    /// <summary>mod_start.</summary>
    public int ModStart { get; private init; }

    /// <summary>mod_len.</summary>
    public int ModLen { get; private init; }

    /// <summary>cmd_line[1024].</summary>
    public int CmdLine { get; private init; }

    /// <summary>first_p2m_pfn.</summary>
    public int FirstP2mPfn { get; private init; }

    /// <summary>nr_p2m_frames.</summary>
    public int NrP2mFrames { get; private init; }
}

/// <summary>Reads and writes guest words of width 4 or 8, little-endian.</summary>
public static class PvWords
{
    /// <summary>Reads a width-sized little-endian word.</summary>
    public static ulong Read(ReadOnlySpan<byte> data, int offset, int width) =>
        width == 8
            ? BinaryPrimitives.ReadUInt64LittleEndian(data[offset..])
            : BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);

    /// <summary>Writes a width-sized little-endian word (truncating to 32 bits for width 4).</summary>
    public static void Write(Span<byte> data, int offset, int width, ulong value)
    {
        if (width == 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data[offset..], value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(data[offset..], (uint)value);
        }
    }

    /// <summary>Reads a frame number from a width-sized p2m/frame slot, expanding a 32-bit ~0 to INVALID.</summary>
    public static ulong ReadFrame(ReadOnlySpan<byte> data, int offset, int width)
    {
        ulong v = Read(data, offset, width);
        return width == 4 && v == uint.MaxValue ? ulong.MaxValue : v;
    }
}
