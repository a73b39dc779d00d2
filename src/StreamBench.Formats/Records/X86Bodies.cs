using System.Buffers.Binary;
using StreamBench.Formats.Wire;
using StreamBench.X86;

namespace StreamBench.Formats.Records;

/// <summary>
/// X86_TSC_INFO (FORMATS.md 4.1): <c>u32 mode; u32 khz; u64 nsec; u32 incarnation; u32 reserved</c>, exactly 24 bytes.
/// </summary>
public readonly struct TscInfoBody
{
    /// <summary>TSC_MODE_*: 0 default, 1 always emulate, 2 never emulate (3, PVRDTSCP, was removed).</summary>
    public uint Mode { get; }

    /// <summary>Guest TSC frequency in kHz.</summary>
    public uint Khz { get; }

    /// <summary>Elapsed nanoseconds (the TSC offset).</summary>
    public ulong Nsec { get; }

    /// <summary>The TSC incarnation.</summary>
    public uint Incarnation { get; }

    /// <summary>Reserved (zero on save).</summary>
    public uint Reserved { get; }

    /// <summary>The highest TSC mode current Xen accepts.</summary>
    public const uint MaxKnownMode = 2;

    /// <summary>The slowest plausible guest TSC in kHz (1 MHz). Khz 0 means "the host's"; Xen's tsc_set_info takes any
    /// other value, and a lab guest restored with 1 kHz did not tick again (docs/XENLAB.md, "Fuzzing the real restore path").</summary>
    public const uint MinPlausibleKhz = 1000;

    private TscInfoBody(uint mode, uint khz, ulong nsec, uint incarnation, uint reserved)
    {
        Mode = mode;
        Khz = khz;
        Nsec = nsec;
        Incarnation = incarnation;
        Reserved = reserved;
    }

    /// <summary>Decodes the first 24 bytes; false when fewer are given.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out TscInfoBody tsc)
    {
        if (body.Length < LibxcBodySizes.TscInfo)
        {
            tsc = default;
            return false;
        }
        tsc = new TscInfoBody(BinaryPrimitives.ReadUInt32LittleEndian(body[TscInfoLayout.Mode..]), BinaryPrimitives.ReadUInt32LittleEndian(body[TscInfoLayout.Khz..]),
            BinaryPrimitives.ReadUInt64LittleEndian(body[TscInfoLayout.Nsec..]), BinaryPrimitives.ReadUInt32LittleEndian(body[TscInfoLayout.Incarnation..]),
            BinaryPrimitives.ReadUInt32LittleEndian(body[TscInfoLayout.Reserved..]));
        return true;
    }

    /// <summary>Encodes a body (reserved 0, as write_x86_tsc_info does) into the first 24 bytes of <paramref name="body"/>.</summary>
    public static void Write(Span<byte> body, uint mode, uint khz, ulong nsec, uint incarnation)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(body[TscInfoLayout.Mode..], mode);
        BinaryPrimitives.WriteUInt32LittleEndian(body[TscInfoLayout.Khz..], khz);
        BinaryPrimitives.WriteUInt64LittleEndian(body[TscInfoLayout.Nsec..], nsec);
        BinaryPrimitives.WriteUInt32LittleEndian(body[TscInfoLayout.Incarnation..], incarnation);
        BinaryPrimitives.WriteUInt32LittleEndian(body[TscInfoLayout.Reserved..], 0);
    }
}

/// <summary>X86_CPUID_POLICY (FORMATS.md 4.1, v3): <c>xen_cpuid_leaf_t[]</c>, a non-zero multiple of 24 bytes.</summary>
public readonly ref struct CpuidPolicyBody
{
    private readonly ReadOnlySpan<byte> _bytes;

    /// <summary>Wraps the body (any length; <see cref="IsWellFormed"/> tells whether it is a whole number of leaves).</summary>
    public CpuidPolicyBody(ReadOnlySpan<byte> body) => _bytes = body;

    /// <summary>Whole leaves in the span.</summary>
    public int Count => _bytes.Length / LibxcBodySizes.CpuidLeaf;

    /// <summary>Non-empty and a multiple of 24.</summary>
    public bool IsWellFormed => _bytes.Length > 0 && _bytes.Length % LibxcBodySizes.CpuidLeaf == 0;

    /// <summary>Leaf <paramref name="index"/>.</summary>
    public CpuidLeaf this[int index] => CpuidLeaf.Read(_bytes.Slice(index * LibxcBodySizes.CpuidLeaf, LibxcBodySizes.CpuidLeaf));
}

/// <summary>X86_MSR_POLICY (FORMATS.md 4.1, v3): <c>xen_msr_entry_t[]</c>, a non-zero multiple of 16 bytes.</summary>
public readonly ref struct MsrPolicyBody
{
    private readonly ReadOnlySpan<byte> _bytes;

    /// <summary>Wraps the body.</summary>
    public MsrPolicyBody(ReadOnlySpan<byte> body) => _bytes = body;

    /// <summary>Whole entries in the span.</summary>
    public int Count => _bytes.Length / LibxcBodySizes.MsrEntry;

    /// <summary>Non-empty and a multiple of 16.</summary>
    public bool IsWellFormed => _bytes.Length > 0 && _bytes.Length % LibxcBodySizes.MsrEntry == 0;

    /// <summary>Entry <paramref name="index"/>.</summary>
    public MsrPolicyEntry this[int index] => MsrPolicyEntry.Read(_bytes.Slice(index * LibxcBodySizes.MsrEntry, LibxcBodySizes.MsrEntry));
}
