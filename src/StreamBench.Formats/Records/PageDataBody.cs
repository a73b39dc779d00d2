using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using StreamBench.Formats.Wire;

namespace StreamBench.Formats.Records;

/// <summary>
/// A PAGE_DATA body (FORMATS.md 4.1, 4.2): <c>u32 count; u32 reserved; u64 pfn[count];</c> then one 4096-byte page
/// for every pfn whose type carries data. The same layout is used by the post-copy RFC's POSTCOPY_PAGE_DATA, and,
/// without the pages, by POSTCOPY_PFNS (FORMATS.md 9).
/// <para>
/// The view works on a <em>prefix</em> of the body: the header and the pfn words are enough, so a caller can hand
/// it <c>BodyPrefix(8 + 8 * count)</c> and never touch the pages. <see cref="AvailableWords"/> says how many words
/// the span actually holds.
/// </para>
/// </summary>
public readonly ref struct PageDataBody
{
    private readonly ReadOnlySpan<byte> _bytes;

    /// <summary>The header: count and reserved.</summary>
    public const int HeaderSize = LibxcBodySizes.PageDataHeader;

    private PageDataBody(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Decodes the header; false when fewer than <see cref="HeaderSize"/> bytes are given.</summary>
    public static bool TryParse(ReadOnlySpan<byte> bodyPrefix, out PageDataBody body)
    {
        body = new PageDataBody(bodyPrefix);
        return bodyPrefix.Length >= HeaderSize;
    }

    /// <summary>Number of pfn words the record claims.</summary>
    public uint Count => BinaryPrimitives.ReadUInt32LittleEndian(_bytes);

    /// <summary>The reserved u32 after the count (zero on save).</summary>
    public uint Reserved => BinaryPrimitives.ReadUInt32LittleEndian(_bytes[4..]);

    /// <summary>How many of the <see cref="Count"/> words the given span holds.</summary>
    public int AvailableWords => (int)Math.Min(Count, (uint)((_bytes.Length - HeaderSize) / LibxcBodySizes.PfnWord));

    /// <summary>The pfn words present in the span.</summary>
    public ReadOnlySpan<byte> WordBytes => _bytes.Slice(HeaderSize, AvailableWords * LibxcBodySizes.PfnWord);

    /// <summary>The raw word <paramref name="index"/> (type in bits 63..60, reserved 59..52, pfn 51..0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Word(int index) => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.Slice(HeaderSize + (index * LibxcBodySizes.PfnWord), 8));

    /// <summary>The pfn of word <paramref name="index"/>.</summary>
    public ulong Pfn(int index) => PageWord.PfnOf(Word(index));

    /// <summary>The page type of word <paramref name="index"/>.</summary>
    public PageType Type(int index) => PageWord.TypeOf(Word(index));

    /// <summary>Offset of word <paramref name="index"/> from the start of the body.</summary>
    public static long WordOffset(long index) => HeaderSize + (index * LibxcBodySizes.PfnWord);

    /// <summary>The only valid body length for <paramref name="count"/> words of which <paramref name="dataPages"/> carry a page.</summary>
    public static long ExpectedLength(uint count, long dataPages)
        => HeaderSize + ((long)count * LibxcBodySizes.PfnWord) + (dataPages * LibxcWire.PageSize);

    /// <summary>The prefix length that holds the header and every pfn word (what a caller asks the reader for).</summary>
    public static long PrefixLength(uint count) => HeaderSize + ((long)count * LibxcBodySizes.PfnWord);

    /// <summary>Scans the available words once.</summary>
    public PageWordStats Scan()
    {
        var stats = default(PageWordStats);
        stats.Add(WordBytes);
        return stats;
    }
}

/// <summary>Per-type counts of page words (the 16 values of bits 63..60).</summary>
[InlineArray(16)]
public struct PageTypeCounts
{
    private int _element;
}

/// <summary>What one pass over pfn words finds: counts per type, data pages, pfn range, reserved bits.</summary>
public struct PageWordStats
{
    /// <summary>Words scanned.</summary>
    public long Words;

    /// <summary>Words whose type carries a 4 KiB page.</summary>
    public long DataPages;

    /// <summary>Words with a type in 5..8.</summary>
    public long InvalidTypes;

    /// <summary>Words with bits 59..52 set.</summary>
    public long ReservedBitsSet;

    /// <summary>Index of the first word with an invalid type (valid when <see cref="InvalidTypes"/> &gt; 0).</summary>
    public long FirstInvalidTypeIndex;

    /// <summary>That word.</summary>
    public ulong FirstInvalidTypeWord;

    /// <summary>Index of the first word with reserved bits set (valid when <see cref="ReservedBitsSet"/> &gt; 0).</summary>
    public long FirstReservedIndex;

    /// <summary>That word.</summary>
    public ulong FirstReservedWord;

    /// <summary>Smallest pfn seen (ulong.MaxValue when none).</summary>
    public ulong MinPfn;

    /// <summary>Largest pfn seen.</summary>
    public ulong MaxPfn;

    /// <summary>The last pfn seen.</summary>
    public ulong LastPfn;

    /// <summary>Whether the pfns are strictly increasing (then they are also free of duplicates).</summary>
    public bool StrictlyIncreasing;

    /// <summary>Counts per type.</summary>
    public PageTypeCounts Types;

    /// <summary>Adds little-endian words (a multiple of 8 bytes).</summary>
    public void Add(ReadOnlySpan<byte> words)
    {
        if (Words == 0)
        {
            MinPfn = ulong.MaxValue;
            MaxPfn = 0;
            StrictlyIncreasing = true;
        }
        var n = words.Length / LibxcBodySizes.PfnWord;
        var first = Words == 0;
        var previous = LastPfn;
        for (var i = 0; i < n; i++)
        {
            var w = BinaryPrimitives.ReadUInt64LittleEndian(words.Slice(i * LibxcBodySizes.PfnWord, 8));
            var type = (int)(w >> PageWord.TypeShift);
            var pfn = w & PageWord.PfnMask;
            Types[type]++;
            // (type & 7) <= 4 excluding 5..8, i.e. 0-4 and 9-12.
            if (type <= 4 || (type >= 9 && type <= 12))
            {
                DataPages++;
            }
            else if (type is >= 5 and <= 8)
            {
                if (InvalidTypes++ == 0)
                {
                    FirstInvalidTypeIndex = Words + i;
                    FirstInvalidTypeWord = w;
                }
            }
            if ((w & PageWord.ReservedMask) != 0 && ReservedBitsSet++ == 0)
            {
                FirstReservedIndex = Words + i;
                FirstReservedWord = w;
            }
            if (!first && pfn <= previous)
            {
                StrictlyIncreasing = false;
            }
            first = false;
            previous = pfn;
            if (pfn < MinPfn)
            {
                MinPfn = pfn;
            }
            if (pfn > MaxPfn)
            {
                MaxPfn = pfn;
            }
        }
        LastPfn = previous;
        Words += n;
    }
}
