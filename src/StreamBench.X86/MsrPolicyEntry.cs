using System.Buffers.Binary;

namespace StreamBench.X86;

/// <summary>One MSR policy entry, xen_msr_entry_t (Xen's public/arch-x86/xen.h): <c>u32 idx; u32 flags (MBZ); u64 val</c>.</summary>
/// <param name="Index">The MSR index.</param>
/// <param name="Flags">Reserved flags; Xen requires zero.</param>
/// <param name="Value">The policy value.</param>
public readonly record struct MsrPolicyEntry(uint Index, uint Flags, ulong Value)
{
    /// <summary>Bytes of one entry in a policy (X86_MSR_POLICY's element).</summary>
    public const int Size = 16;

    /// <summary>Decodes <see cref="Size"/> little-endian bytes.</summary>
    public static MsrPolicyEntry Read(ReadOnlySpan<byte> e) => new(BinaryPrimitives.ReadUInt32LittleEndian(e),
        BinaryPrimitives.ReadUInt32LittleEndian(e[4..]), BinaryPrimitives.ReadUInt64LittleEndian(e[8..]));

    /// <summary>Encodes the entry into <see cref="Size"/> little-endian bytes.</summary>
    public void Write(Span<byte> e)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(e, Index);
        BinaryPrimitives.WriteUInt32LittleEndian(e[4..], Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(e[8..], Value);
    }

    /// <inheritdoc/>
    public override string ToString() => $"msr {Index:x8} flags {Flags:x} = {Value:x16}";
}
