using System.Buffers.Binary;

namespace StreamBench.Domain.Pv;

/// <summary>
/// One PV vCPU's migratable state, in the domain's live (machine-frame) form:
/// the basic context (vcpu_guest_context), the extended context (≤128 bytes), the xsave
/// state (xcr0, xcr0_accum, area) and the MSR list.
/// </summary>
public sealed class PvVcpuState
{
    private byte[]? _basic;
    private byte[]? _extended;
    private byte[]? _xsave;

    internal PvVcpuState(int id, int width)
    {
        Id = id;
        Layout = VcpuGuestContextLayout.ForWidth(width);
    }

    /// <summary>Largest extended-context blob Xen accepts.</summary>
    public const int MaxExtendedSize = 128;

    /// <summary>Smallest xsave blob: xcr0 and xcr0_accum.</summary>
    public const int MinXsaveSize = 16;

    /// <summary>The vCPU id.</summary>
    public int Id { get; }

    /// <summary>The basic-context layout for the domain's width.</summary>
    public VcpuGuestContextLayout Layout { get; internal set; }

    /// <summary>True if the vCPU is up (the saver sends only online vCPUs).</summary>
    public bool Online { get; set; }

    /// <summary>The basic context (vcpu_guest_context) in live form (frames are mfns), or null if never set.</summary>
    public byte[]? Basic
    {
        get => _basic;
        set
        {
            if (value is not null && value.Length != Layout.Size)
            {
                throw new DomainException(
                    $"vcpu{Id} basic context must be {Layout.Size} bytes for width {Layout.Width}, got {value.Length}");
            }

            _basic = value;
        }
    }

    /// <summary>The extended context blob (≤ 128 bytes), or null if the vCPU has none.</summary>
    public byte[]? Extended
    {
        get => _extended;
        set
        {
            if (value is not null && value.Length > MaxExtendedSize)
            {
                throw new DomainException($"vcpu{Id} extended context is {value.Length} bytes; at most {MaxExtendedSize} allowed");
            }

            _extended = value;
        }
    }

    /// <summary>The xsave blob (u64 xcr0, u64 xcr0_accum, then the XSAVE area), or null if the vCPU has none.</summary>
    public byte[]? Xsave
    {
        get => _xsave;
        set
        {
            if (value is not null && value.Length < MinXsaveSize)
            {
                throw new DomainException($"vcpu{Id} xsave state is {value.Length} bytes; at least {MinXsaveSize} required");
            }

            _xsave = value;
        }
    }

    /// <summary>The per-vCPU MSRs (XEN_DOMCTL_get_vcpu_msrs), in order.</summary>
    public List<VcpuMsr> Msrs { get; } = [];

    /// <summary>xcr0 from the xsave blob (0 if none).</summary>
    public ulong Xcr0 => _xsave is null ? 0 : BinaryPrimitives.ReadUInt64LittleEndian(_xsave);

    /// <summary>xcr0_accum from the xsave blob (0 if none).</summary>
    public ulong Xcr0Accum => _xsave is null ? 0 : BinaryPrimitives.ReadUInt64LittleEndian(_xsave.AsSpan(8));

    /// <summary>A typed view over the basic context (throws if there is none).</summary>
    public PvVcpuContext Context =>
        _basic is null ? throw new DomainException($"vcpu{Id} has no basic context") : new PvVcpuContext(_basic, Layout);

    /// <summary>Builds an xsave blob from its parts.</summary>
    public static byte[] ComposeXsave(ulong xcr0, ulong xcr0Accum, ReadOnlySpan<byte> area)
    {
        var blob = new byte[MinXsaveSize + area.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(blob, xcr0);
        BinaryPrimitives.WriteUInt64LittleEndian(blob.AsSpan(8), xcr0Accum);
        area.CopyTo(blob.AsSpan(MinXsaveSize));
        return blob;
    }

    internal PvVcpuState Clone()
    {
        var copy = new PvVcpuState(Id, Layout.Width)
        {
            Online = Online,
            _basic = (byte[]?)_basic?.Clone(),
            _extended = (byte[]?)_extended?.Clone(),
            _xsave = (byte[]?)_xsave?.Clone(),
        };
        copy.Msrs.AddRange(Msrs);
        return copy;
    }

    internal void Reset(int width)
    {
        Layout = VcpuGuestContextLayout.ForWidth(width);
        Online = false;
        _basic = null;
        _extended = null;
        _xsave = null;
        Msrs.Clear();
    }
}

/// <summary>A typed, width-aware view over a vcpu_guest_context blob. Writes go to the blob.</summary>
public readonly struct PvVcpuContext
{
    private readonly byte[] _blob;

    /// <summary>Wraps <paramref name="blob"/> (which must be <paramref name="layout"/>.Size bytes).</summary>
    public PvVcpuContext(byte[] blob, VcpuGuestContextLayout layout)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(layout);
        if (blob.Length != layout.Size)
        {
            throw new ArgumentException($"context must be {layout.Size} bytes, got {blob.Length}", nameof(blob));
        }

        _blob = blob;
        Layout = layout;
    }

    /// <summary>The layout in use.</summary>
    public VcpuGuestContextLayout Layout { get; }

    /// <summary>The raw blob.</summary>
    public Span<byte> Bytes => _blob;

    /// <summary>flags (VGCF_*).</summary>
    public ulong Flags { get => Word(Layout.Flags); set => SetWord(Layout.Flags, value); }

    /// <summary>user_regs.rdx/edx. On vcpu0 of a suspended guest: the start_info frame.</summary>
    public ulong SuspendRecord { get => Word(Layout.Rdx); set => SetWord(Layout.Rdx, value); }

    /// <summary>user_regs.rip/eip.</summary>
    public ulong InstructionPointer { get => Word(Layout.Rip); set => SetWord(Layout.Rip, value); }

    /// <summary>user_regs.rsp/esp.</summary>
    public ulong StackPointer { get => Word(Layout.Rsp); set => SetWord(Layout.Rsp, value); }

    /// <summary>user_regs.rflags/eflags.</summary>
    public ulong FlagsRegister { get => Word(Layout.Rflags); set => SetWord(Layout.Rflags, value); }

    /// <summary>gdt_ents.</summary>
    public ulong GdtEntries { get => Word(Layout.GdtEntries); set => SetWord(Layout.GdtEntries, value); }

    /// <summary>Frames the GDT occupies: ceil(gdt_ents / 512).</summary>
    public int GdtFrameCount => (int)((Math.Min(GdtEntries, (ulong)int.MaxValue) + 511) / 512);

    /// <summary>ctrlreg[3] (raw cr3 encoding; see <see cref="PvGeometry.Cr3ToFrame"/>).</summary>
    public ulong Cr3 { get => Word(Layout.ControlRegister(3)); set => SetWord(Layout.ControlRegister(3), value); }

    /// <summary>ctrlreg[1]: on 64-bit guests, the user page-table base (mfn &lt;&lt; 12; normalised: 1 | pfn &lt;&lt; 12).</summary>
    public ulong Cr1 { get => Word(Layout.ControlRegister(1)); set => SetWord(Layout.ControlRegister(1), value); }

    /// <summary>kernel_ss.</summary>
    public ulong KernelSs { get => Word(Layout.KernelSs); set => SetWord(Layout.KernelSs, value); }

    /// <summary>kernel_sp.</summary>
    public ulong KernelSp { get => Word(Layout.KernelSp); set => SetWord(Layout.KernelSp, value); }

    /// <summary>gdt_frames[<paramref name="index"/>].</summary>
    public ulong GetGdtFrame(int index) => Word(Layout.GdtFrame(index));

    /// <summary>Sets gdt_frames[<paramref name="index"/>].</summary>
    public void SetGdtFrame(int index, ulong frame) => SetWord(Layout.GdtFrame(index), frame);

    /// <summary>ctrlreg[<paramref name="n"/>].</summary>
    public ulong GetControlRegister(int n) => Word(Layout.ControlRegister(n));

    /// <summary>Sets ctrlreg[<paramref name="n"/>].</summary>
    public void SetControlRegister(int n, ulong value) => SetWord(Layout.ControlRegister(n), value);

    /// <summary>Reads a guest word at a layout offset.</summary>
    public ulong Word(int offset) => Layout.ReadWord(_blob, offset);

    /// <summary>Writes a guest word at a layout offset.</summary>
    public void SetWord(int offset, ulong value) => Layout.WriteWord(_blob, offset, value);
}
