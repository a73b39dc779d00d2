using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Capture.Tools;

/// <summary>Diff settings.</summary>
public sealed record DiffOptions
{
    /// <summary>How to parse both streams.</summary>
    public XenStreamReaderOptions Reader { get; init; } = new();

    /// <summary>How many differing pfns to list.</summary>
    public int ListPfns { get; init; } = 10;
}

/// <summary>Counts of one item type in both streams.</summary>
public sealed record DiffTypeCount(string Layer, string Name, long CountA, long CountB, long BytesA, long BytesB);

/// <summary>The first item where the streams part.</summary>
public sealed record DiffFirstDifference(long ItemIndex, long RecordIndexA, long RecordIndexB, long OffsetA, long OffsetB, string ItemA, string ItemB, string What);

/// <summary>Guest memory compared by pfn: the last image each stream sends for every pfn.</summary>
public sealed record DiffPageSummary(long PagesSentA, long PagesSentB, long PfnsA, long PfnsB, long OnlyInA, long OnlyInB, long Same, long Different, IReadOnlyList<ulong> DifferentPfns);

/// <summary>The comparison.</summary>
public sealed record DiffResult(bool Equal, DiffFirstDifference? First, IReadOnlyList<DiffTypeCount> Types, DiffPageSummary Pages,
    long ItemsA, long ItemsB, string? ErrorA, string? ErrorB);

/// <summary>
/// Compares two streams item by item (docs/CAPTURE.md, "diff"): headers, records (type, length, body bytes, padding) and
/// protocol messages in lockstep until the first difference; per-type counts of both; and, page by page, the final
/// memory image each stream leaves (a pfn's last PAGE_DATA image wins).
/// </summary>
public static class StreamDiff
{
    private sealed class Side : IDisposable
    {
        public Side(Stream s, DiffOptions o) => Reader = new XenStreamReader(ByteSource.FromStream(s), o.Reader, ownsSource: true);

        public XenStreamReader Reader { get; }
        public Dictionary<ulong, UInt128> Pages { get; } = [];
        public Dictionary<(string Layer, string Name), (long Count, long Bytes)> Types { get; } = [];
        public long Items { get; set; }
        public long PagesSent { get; set; }
        public string? Error { get; set; }
        public bool Done { get; set; }

        public void Dispose() => Reader.Dispose();
    }

    /// <summary>Compares <paramref name="a"/> with <paramref name="b"/>.</summary>
    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "One walk over two readers in step: each branch is one way two items can differ (kind, layer, type, length, body, padding) or one stream ending first.")]
    public static DiffResult Compare(Stream a, Stream b, DiffOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= new DiffOptions();
        using var sa = new Side(a, options);
        using var sb = new Side(b, options);
        DiffFirstDifference? first = null;
        long item = 0;
        while (!sa.Done || !sb.Done)
        {
            var hasA = Next(sa);
            var hasB = Next(sb);
            if (!hasA && !hasB)
            {
                break;
            }
            ReadOnlySpan<byte> bodyA = default, bodyB = default;
            if (hasA && !Load(sa, out bodyA))
            {
                hasA = false;
            }
            if (hasB && !Load(sb, out bodyB))
            {
                hasB = false;
            }
            // Bodies are compared before the padding is read: reading on may reuse the buffer they lie in.
            string? what = null;
            if (first is null)
            {
                what = !hasA && !hasB ? null
                    : !hasA ? (sa.Error is null ? "A ends here" : "A is malformed here: " + sa.Error)
                    : !hasB ? (sb.Error is null ? "B ends here" : "B is malformed here: " + sb.Error)
                    : Differ(sa.Reader, sb.Reader, bodyA, bodyB);
            }
            var padA = hasA ? Finish(sa) : null;
            var padB = hasB ? Finish(sb) : null;
            if (first is null && what is null && hasA && hasB)
            {
                what = padA is null ? "A is malformed here: " + sa.Error
                    : padB is null ? "B is malformed here: " + sb.Error
                    : !padA.AsSpan().SequenceEqual(padB) ? "padding bytes differ" : null;
            }
            if (first is null && what is not null)
            {
                first = new DiffFirstDifference(item,
                    hasA && sa.Reader.Kind == StreamItemKind.Record ? sa.Reader.RecordIndex : -1,
                    hasB && sb.Reader.Kind == StreamItemKind.Record ? sb.Reader.RecordIndex : -1,
                    hasA ? sa.Reader.Offset : -1, hasB ? sb.Reader.Offset : -1,
                    hasA ? Describe(sa.Reader) : "(none)", hasB ? Describe(sb.Reader) : "(none)", what);
            }
            item++;
        }
        if (first is null && (sa.Error is not null || sb.Error is not null))
        {
            first = new DiffFirstDifference(item, -1, -1, -1, -1, "(end)", "(end)", "malformed: " + (sa.Error ?? sb.Error));
        }
        return new DiffResult(first is null, first, TypeCounts(sa, sb), PageSummary(sa, sb, options.ListPfns), sa.Items, sb.Items, sa.Error, sb.Error);
    }

    private static bool Next(Side s)
    {
        if (s.Done)
        {
            return false;
        }
        try
        {
            if (s.Reader.Read())
            {
                s.Items++;
                return true;
            }
        }
        catch (StreamFormatException e)
        {
            s.Error = e.Message;
        }
        s.Done = true;
        return false;
    }

    /// <summary>Reads the current item's body and counts it; false when the item turns out malformed.</summary>
    private static bool Load(Side s, out ReadOnlySpan<byte> body)
    {
        var r = s.Reader;
        try
        {
            body = r.GetBody();
            var key = (XenStreamReader.LayerName(r.Layer), r.RecordTypeName);
            s.Types.TryGetValue(key, out var c);
            s.Types[key] = (c.Count + 1, c.Bytes + r.ItemLength);
            if (r.Kind == StreamItemKind.Record && r.Layer == StreamLayer.Libxc
                && (r.RecordType == (uint)LibxcRecordType.PageData || (r.Dialect == StreamDialect.PostcopyRfc && r.RecordType == (uint)PostcopyRecordType.PostcopyPageData)))
            {
                Pages(s, body);
            }
            return true;
        }
        catch (StreamFormatException e)
        {
            s.Error = e.Message;
            s.Done = true;
            body = default;
            return false;
        }
    }

    /// <summary>Reads the padding (a copy); null when the stream ends inside it.</summary>
    private static byte[]? Finish(Side s)
    {
        try
        {
            return s.Reader.FinishItem().ToArray();
        }
        catch (StreamFormatException e)
        {
            s.Error = e.Message;
            s.Done = true;
            return null;
        }
    }

    private static void Pages(Side s, ReadOnlySpan<byte> body)
    {
        if (body.Length < LibxcBodySizes.PageDataHeader)
        {
            return;
        }
        var count = BinaryPrimitives.ReadUInt32LittleEndian(body);
        var data = LibxcBodySizes.PageDataHeader + (count * (long)LibxcBodySizes.PfnWord);
        if (data > body.Length)
        {
            return;
        }
        var at = (int)data;
        for (var i = 0; i < count; i++)
        {
            var word = BinaryPrimitives.ReadUInt64LittleEndian(body[(LibxcBodySizes.PageDataHeader + (i * 8))..]);
            if (!PageWord.HasData(PageWord.TypeOf(word)))
            {
                continue;
            }
            if (at + LibxcWire.PageSize > body.Length)
            {
                return;
            }
            s.Pages[PageWord.PfnOf(word)] = Digest(body.Slice(at, LibxcWire.PageSize));
            s.PagesSent++;
            at += LibxcWire.PageSize;
        }
    }

    private static string? Differ(XenStreamReader a, XenStreamReader b, ReadOnlySpan<byte> bodyA, ReadOnlySpan<byte> bodyB)
    {
        if (a.Kind != b.Kind || a.Layer != b.Layer)
        {
            return "different items";
        }
        if (a.Kind == StreamItemKind.Record && a.RecordType != b.RecordType)
        {
            return "different record types";
        }
        if (a.Kind == StreamItemKind.ProtocolMessage && a.Message != b.Message)
        {
            return "different protocol messages";
        }
        if (!HeaderBytesEqual(a, b))
        {
            return "header fields differ";
        }
        if (bodyA.Length != bodyB.Length)
        {
            return string.Create(CultureInfo.InvariantCulture, $"body length {bodyA.Length} vs {bodyB.Length}");
        }
        var at = bodyA.CommonPrefixLength(bodyB);
        if (at < bodyA.Length)
        {
            var what = string.Create(CultureInfo.InvariantCulture, $"body differs from byte {at} (0x{bodyA[at]:x2} vs 0x{bodyB[at]:x2})");
            if (a.Kind == StreamItemKind.Record && a.Layer == StreamLayer.Libxc && a.RecordType == (uint)LibxcRecordType.PageData && bodyA.Length >= 8)
            {
                var count = BinaryPrimitives.ReadUInt32LittleEndian(bodyA);
                var dataStart = 8 + (count * 8L);
                what += at < dataStart
                    ? " (in the pfn list)"
                    : string.Create(CultureInfo.InvariantCulture, $" (in data page {(at - dataStart) / LibxcWire.PageSize})");
            }
            return what;
        }
        return null;
    }

    private static bool HeaderBytesEqual(XenStreamReader a, XenStreamReader b) => a.Kind switch
    {
        StreamItemKind.XlHeader => a.XlHeader == b.XlHeader,
        StreamItemKind.LibxlHeader => a.LibxlHeader == b.LibxlHeader,
        StreamItemKind.LibxcImageHeader => a.ImageHeader == b.ImageHeader,
        StreamItemKind.LibxcDomainHeader => a.DomainHeader == b.DomainHeader,
        _ => true,
    };

    private static string Describe(XenStreamReader r) => r.Kind == StreamItemKind.Record
        ? string.Create(CultureInfo.InvariantCulture, $"{XenStreamReader.LayerName(r.Layer)} record #{r.RecordIndex} {r.RecordTypeName} at offset {r.Offset}, {r.BodyLength} body bytes")
        : string.Create(CultureInfo.InvariantCulture, $"{XenStreamReader.LayerName(r.Layer)} {r.RecordTypeName} at offset {r.Offset}, {r.ItemLength} bytes");

    private static List<DiffTypeCount> TypeCounts(Side a, Side b)
    {
        var keys = a.Types.Keys.Concat(b.Types.Keys).Distinct().OrderBy(k => k.Layer, StringComparer.Ordinal).ThenBy(k => k.Name, StringComparer.Ordinal);
        return [.. keys.Select(k =>
        {
            a.Types.TryGetValue(k, out var x);
            b.Types.TryGetValue(k, out var y);
            return new DiffTypeCount(k.Layer, k.Name, x.Count, y.Count, x.Bytes, y.Bytes);
        })];
    }

    private static DiffPageSummary PageSummary(Side a, Side b, int list)
    {
        long onlyA = 0, same = 0, different = 0;
        var pfns = new List<ulong>();
        foreach (var (pfn, digest) in a.Pages)
        {
            if (!b.Pages.TryGetValue(pfn, out var other))
            {
                onlyA++;
            }
            else if (other == digest)
            {
                same++;
            }
            else
            {
                different++;
                pfns.Add(pfn);
            }
        }
        var onlyB = b.Pages.Keys.LongCount(p => !a.Pages.ContainsKey(p));
        pfns.Sort();
        return new DiffPageSummary(a.PagesSent, b.PagesSent, a.Pages.Count, b.Pages.Count, onlyA, onlyB, same, different, [.. pfns.Take(list)]);
    }

    /// <summary>A 128-bit digest of a page: two independent multiply-rotate lanes per word pair (fast, not cryptographic).</summary>
    internal static UInt128 Digest(ReadOnlySpan<byte> page)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(page);
        ulong h1 = 0x9E37_79B9_7F4A_7C15ul, h2 = 0xC2B2_AE3D_27D4_EB4Ful, h3 = 0x1656_67B1_9E37_79F9ul, h4 = 0x85EB_CA77_C2B2_AE63ul;
        for (var i = 0; i + 1 < words.Length; i += 2)
        {
            h1 = BitOperations.RotateLeft(h1 ^ (words[i] * 0x87C3_7B91_1142_53D5ul), 31) * 0x4CF5_AD43_2745_937Ful;
            h2 = BitOperations.RotateLeft(h2 ^ (words[i + 1] * 0x4CF5_AD43_2745_937Ful), 29) * 0x87C3_7B91_1142_53D5ul;
            h3 = BitOperations.RotateLeft(h3 + words[i], 23) * 0x9E37_79B9_7F4A_7C15ul;
            h4 = BitOperations.RotateLeft(h4 + words[i + 1], 37) * 0xC2B2_AE3D_27D4_EB4Ful;
        }
        return new UInt128(h1 ^ BitOperations.RotateLeft(h3, 17), h2 ^ BitOperations.RotateLeft(h4, 41));
    }
}
