using System.Buffers.Binary;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Records;

/// <summary>
/// CHECKPOINT_DIRTY_PFN_LIST (FORMATS.md 4.1; COLO back channel): <c>u64 pfn[]</c>, count = length / 8.
/// </summary>
public readonly ref struct DirtyPfnListBody
{
    private readonly ReadOnlySpan<byte> _bytes;

    /// <summary>Wraps the body (any length; <see cref="IsWellFormed"/> tells whether it is whole pfns).</summary>
    public DirtyPfnListBody(ReadOnlySpan<byte> body) => _bytes = body;

    /// <summary>Whole pfns in the span.</summary>
    public int Count => _bytes.Length / 8;

    /// <summary>A multiple of 8 bytes.</summary>
    public bool IsWellFormed => _bytes.Length % 8 == 0;

    /// <summary>Pfn <paramref name="index"/>.</summary>
    public ulong this[int index] => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.Slice(index * 8, 8));
}

/// <summary>
/// The post-copy RFC's POSTCOPY_PFNS and POSTCOPY_FAULT (FORMATS.md 9): the PAGE_DATA header and pfn words without
/// page contents, <c>u32 count; u32 reserved; u64 pfn[count]</c>, exactly 8 + 8·count bytes. In POSTCOPY_PFNS the
/// words carry a type (as in PAGE_DATA); in POSTCOPY_FAULT they are bare pfns.
/// </summary>
public readonly ref struct PfnListBody
{
    private readonly ReadOnlySpan<byte> _bytes;

    private PfnListBody(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Decodes the header; false when fewer than 8 bytes are given.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out PfnListBody list)
    {
        list = new PfnListBody(body);
        return body.Length >= LibxcBodySizes.PageDataHeader;
    }

    /// <summary>Words the record claims.</summary>
    public uint Count => BinaryPrimitives.ReadUInt32LittleEndian(_bytes);

    /// <summary>Reserved (zero).</summary>
    public uint Reserved => BinaryPrimitives.ReadUInt32LittleEndian(_bytes[4..]);

    /// <summary>Words present in the span.</summary>
    public int AvailableWords => (int)Math.Min(Count, (uint)((_bytes.Length - LibxcBodySizes.PageDataHeader) / 8));

    /// <summary>The pfn words present.</summary>
    public ReadOnlySpan<byte> WordBytes => _bytes.Slice(LibxcBodySizes.PageDataHeader, AvailableWords * 8);

    /// <summary>Word <paramref name="index"/>.</summary>
    public ulong Word(int index) => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.Slice(LibxcBodySizes.PageDataHeader + (index * 8), 8));

    /// <summary>The exact body length for <paramref name="count"/> words.</summary>
    public static long ExpectedLength(uint count) => LibxcBodySizes.PageDataHeader + (8L * count);
}

/// <summary>
/// The optional data of an xl save-file header (FORMATS.md 1): <c>u32 config_size;</c> then the config text (xl.cfg
/// syntax, or JSON when mandatory_flags bit0 is set). xl itself reads exactly this (WITH_OPTDATA in xl_vmcontrol.c).
/// </summary>
public readonly ref struct XlOptionalData
{
    private readonly ReadOnlySpan<byte> _bytes;

    private XlOptionalData(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Wraps the optional data; false when it is non-empty but too short for the size field.</summary>
    public static bool TryParse(ReadOnlySpan<byte> optionalData, out XlOptionalData data)
    {
        data = new XlOptionalData(optionalData);
        return optionalData.Length == 0 || optionalData.Length >= 4;
    }

    /// <summary>Whether there is no optional data at all (then xl needs a config file on its command line).</summary>
    public bool IsEmpty => _bytes.Length == 0;

    /// <summary>The config size field (0 when there is no optional data).</summary>
    public uint ConfigSize => _bytes.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(_bytes) : 0;

    /// <summary>Whether the config fits in the optional data (xl: "Savefile truncated" otherwise).</summary>
    public bool ConfigFits => ConfigFitsIn(ConfigSize, _bytes.Length);

    /// <summary>The config text bytes (clamped to what is there).</summary>
    public ReadOnlySpan<byte> Config => _bytes.Length < 4 ? default : _bytes.Slice(4, (int)Math.Min(ConfigSize, (uint)(_bytes.Length - 4)));

    /// <summary>Whether a config of <paramref name="configSize"/> bytes fits in optional data of <paramref name="optionalLength"/> bytes.</summary>
    public static bool ConfigFitsIn(uint configSize, long optionalLength) => optionalLength == 0 || (optionalLength >= 4 && configSize <= optionalLength - 4);

    /// <summary>Bytes after the config (xl ignores them).</summary>
    public int ExtraBytes => _bytes.Length < 4 ? 0 : _bytes.Length - 4 - Config.Length;
}
