using System.Buffers.Binary;

namespace StreamBench.X86;

/// <summary>One CPUID policy leaf, xen_cpuid_leaf_t (Xen's public/arch-x86/xen.h): <c>u32 leaf, subleaf, a, b, c, d</c>.</summary>
/// <param name="Leaf">The CPUID leaf (eax input).</param>
/// <param name="Subleaf">The subleaf (ecx input), or <see cref="NoSubleaf"/>.</param>
/// <param name="A">eax output.</param>
/// <param name="B">ebx output.</param>
/// <param name="C">ecx output.</param>
/// <param name="D">edx output.</param>
public readonly record struct CpuidLeaf(uint Leaf, uint Subleaf, uint A, uint B, uint C, uint D)
{
    /// <summary>Bytes of one leaf in a policy (X86_CPUID_POLICY's element).</summary>
    public const int Size = 24;

    /// <summary>XEN_CPUID_NO_SUBLEAF: the leaf has no subleaves.</summary>
    public const uint NoSubleaf = 0xFFFF_FFFFu;

    /// <summary>Whether the leaf has no subleaf.</summary>
    public bool HasNoSubleaf => Subleaf == NoSubleaf;

    /// <summary>Decodes <see cref="Size"/> little-endian bytes.</summary>
    public static CpuidLeaf Read(ReadOnlySpan<byte> e) => new(BinaryPrimitives.ReadUInt32LittleEndian(e),
        BinaryPrimitives.ReadUInt32LittleEndian(e[4..]), BinaryPrimitives.ReadUInt32LittleEndian(e[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(e[12..]), BinaryPrimitives.ReadUInt32LittleEndian(e[16..]),
        BinaryPrimitives.ReadUInt32LittleEndian(e[20..]));

    /// <summary>Encodes the leaf into <see cref="Size"/> little-endian bytes.</summary>
    public void Write(Span<byte> e)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(e, Leaf);
        BinaryPrimitives.WriteUInt32LittleEndian(e[4..], Subleaf);
        BinaryPrimitives.WriteUInt32LittleEndian(e[8..], A);
        BinaryPrimitives.WriteUInt32LittleEndian(e[12..], B);
        BinaryPrimitives.WriteUInt32LittleEndian(e[16..], C);
        BinaryPrimitives.WriteUInt32LittleEndian(e[20..], D);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"cpuid {Leaf:x8}/{(Subleaf == NoSubleaf ? "-" : Subleaf.ToString("x"))}: {A:x8} {B:x8} {C:x8} {D:x8}";
}
