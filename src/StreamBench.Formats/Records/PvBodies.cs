using System.Buffers.Binary;
using StreamBench.Formats.Wire;
using StreamBench.X86;

namespace StreamBench.Formats.Records;

/// <summary>X86_PV_INFO (FORMATS.md 4.1): <c>u8 guest_width; u8 pt_levels; u8 reserved[6]</c>, exactly 8 bytes.</summary>
public readonly struct X86PvInfoBody
{
    /// <summary>Bytes per guest word: 8 (64-bit) or 4 (32-bit).</summary>
    public byte GuestWidth { get; }

    /// <summary>Page-table levels: 4 or 3.</summary>
    public byte PtLevels { get; }

    /// <summary>The u16 after pt_levels (verify-stream-v2 reads the 6 reserved bytes as u16 + u32).</summary>
    public ushort Reserved1 { get; }

    /// <summary>The u32 after <see cref="Reserved1"/>.</summary>
    public uint Reserved2 { get; }

    private X86PvInfoBody(byte width, byte levels, ushort r1, uint r2)
    {
        GuestWidth = width;
        PtLevels = levels;
        Reserved1 = r1;
        Reserved2 = r2;
    }

    /// <summary>Decodes the first 8 bytes; false when fewer are given.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out X86PvInfoBody info)
    {
        if (body.Length < LibxcBodySizes.X86PvInfo)
        {
            info = default;
            return false;
        }
        info = new X86PvInfoBody(body[0], body[1], BinaryPrimitives.ReadUInt16LittleEndian(body[2..]), BinaryPrimitives.ReadUInt32LittleEndian(body[4..]));
        return true;
    }

    /// <summary>Whether (width, levels) is one of the two combinations the C restore accepts.</summary>
    public bool IsValidCombination => PvPaging.IsValidGeometry(GuestWidth, PtLevels);
}

/// <summary>
/// X86_PV_P2M_FRAMES (FORMATS.md 4.1): <c>u32 start_pfn; u32 end_pfn; u64 p2m_pfn[]</c>, one frame per
/// <c>4096 / width</c> pfns covering start..end inclusive.
/// </summary>
public readonly ref struct P2mFramesBody
{
    private readonly ReadOnlySpan<byte> _bytes;

    private P2mFramesBody(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Decodes the header; false when fewer than 8 bytes are given.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out P2mFramesBody frames)
    {
        frames = new P2mFramesBody(body);
        return body.Length >= LibxcBodySizes.P2mFramesHeader;
    }

    /// <summary>First pfn covered.</summary>
    public uint StartPfn => BinaryPrimitives.ReadUInt32LittleEndian(_bytes);

    /// <summary>Last pfn covered (inclusive).</summary>
    public uint EndPfn => BinaryPrimitives.ReadUInt32LittleEndian(_bytes[4..]);

    /// <summary>Frames present in the span.</summary>
    public int FrameCount => (_bytes.Length - LibxcBodySizes.P2mFramesHeader) / 8;

    /// <summary>The pfn of p2m frame <paramref name="index"/>.</summary>
    public ulong Frame(int index) => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.Slice(LibxcBodySizes.P2mFramesHeader + (index * 8), 8));

    /// <summary>
    /// The exact body length the C restore requires: <c>8 + 8 * ((end / fpp) - (start / fpp) + 1)</c> with
    /// <c>fpp = 4096 / width</c>. Only meaningful when start &lt;= end.
    /// </summary>
    public static long ExpectedLength(uint startPfn, uint endPfn, byte guestWidth)
    {
        var fpp = PvPaging.FramesPerPage(guestWidth);
        return LibxcBodySizes.P2mFramesHeader + (8L * ((endPfn / fpp) - (startPfn / fpp) + 1));
    }
}

/// <summary>
/// The X86_PV_VCPU_{BASIC,EXTENDED,XSAVE,MSRS} records (FORMATS.md 4.1): <c>u32 vcpu_id; u32 reserved;</c> then an
/// opaque blob (vcpu_guest_context, extended context, xsave area, or xen_domctl_vcpu_msr_t[]).
/// </summary>
public readonly ref struct PvVcpuBody
{
    private readonly ReadOnlySpan<byte> _bytes;

    private PvVcpuBody(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Decodes the header; false when fewer than 8 bytes are given.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out PvVcpuBody vcpu)
    {
        vcpu = new PvVcpuBody(body);
        return body.Length >= LibxcBodySizes.VcpuHeader;
    }

    /// <summary>The vCPU.</summary>
    public uint VcpuId => BinaryPrimitives.ReadUInt32LittleEndian(_bytes);

    /// <summary>Reserved (zero on save).</summary>
    public uint Reserved => BinaryPrimitives.ReadUInt32LittleEndian(_bytes[4..]);

    /// <summary>The blob bytes present in the span.</summary>
    public ReadOnlySpan<byte> Blob => _bytes[LibxcBodySizes.VcpuHeader..];

    /// <summary>The xsave blob's leading xcr0 (needs 8 blob bytes).</summary>
    public ulong XsaveXcr0 => BinaryPrimitives.ReadUInt64LittleEndian(Blob);

    /// <summary>The xsave blob's xcr0_accum (needs 16 blob bytes).</summary>
    public ulong XsaveXcr0Accum => BinaryPrimitives.ReadUInt64LittleEndian(Blob[8..]);

    /// <summary>Number of whole xen_domctl_vcpu_msr_t entries in an MSRS blob.</summary>
    public int MsrCount => Blob.Length / LibxcBodySizes.VcpuMsr;

    /// <summary>MSR entry <paramref name="index"/> of an MSRS blob.</summary>
    public VcpuMsrEntry Msr(int index) => VcpuMsrEntry.Read(Blob.Slice(index * LibxcBodySizes.VcpuMsr, LibxcBodySizes.VcpuMsr));
}

/// <summary>xen_domctl_vcpu_msr_t: <c>u32 index; u32 reserved; u64 value</c>.</summary>
/// <param name="Index">The MSR index.</param>
/// <param name="Reserved">Must be zero (Xen rejects the entry otherwise).</param>
/// <param name="Value">The MSR value.</param>
public readonly record struct VcpuMsrEntry(uint Index, uint Reserved, ulong Value)
{
    /// <summary>Decodes 16 bytes.</summary>
    public static VcpuMsrEntry Read(ReadOnlySpan<byte> entry) => new(BinaryPrimitives.ReadUInt32LittleEndian(entry),
        BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]), BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]));
}

/// <summary>SHARED_INFO (FORMATS.md 4.1): the guest's 4096-byte shared_info page, opaque to the stream.</summary>
public readonly ref struct SharedInfoBody
{
    private readonly ReadOnlySpan<byte> _bytes;

    private SharedInfoBody(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Wraps the page; false unless exactly 4096 bytes are given.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out SharedInfoBody info)
    {
        info = new SharedInfoBody(body);
        return body.Length == LibxcBodySizes.SharedInfo;
    }

    /// <summary>The page.</summary>
    public ReadOnlySpan<byte> Page => _bytes;
}
