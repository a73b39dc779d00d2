using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using StreamBench.Formats;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using StreamBench.X86;

namespace StreamBench.Report;

/// <summary>Limits of the semantic diff: memory stays bounded whatever the inputs.</summary>
public sealed record SemanticDiffOptions
{
    /// <summary>How to read both streams.</summary>
    public XenStreamReaderOptions Reader { get; init; } = new();

    /// <summary>Bytes read from each input at most (endless inputs stop here, with a note).</summary>
    public long MaxBytes { get; init; } = 64L << 30;

    /// <summary>Distinct pfns tracked per stream (a 16 GiB guest); beyond, pages are counted but not compared.</summary>
    public int MaxPfns { get; init; } = 4 << 20;

    /// <summary>Record bodies kept per stream for field comparison (bytes); beyond, only digests are compared.</summary>
    public long MaxBodyBytes { get; init; } = 256L << 20;

    /// <summary>Non-page records kept per stream.</summary>
    public int MaxRecords { get; init; } = 200_000;

    /// <summary>Differences listed (every one is counted).</summary>
    public int MaxEntries { get; init; } = 5000;

    /// <summary>Differing page ranges listed.</summary>
    public int MaxRanges { get; init; } = 500;
}

/// <summary>One decoded difference.</summary>
/// <param name="Kind">header, xl-config, record, field, vcpu-register, hvm-entry, hvm-param, cpuid, msr, qevm-section, xenstore, count, pages.</param>
/// <param name="Where">The record (layer, type, occurrence) and where it is in each stream.</param>
/// <param name="Name">The field, register, entry, param or key.</param>
/// <param name="A">Value in A (null: absent).</param>
/// <param name="B">Value in B (null: absent).</param>
/// <param name="RecordA">Record index in A, or -1.</param>
/// <param name="RecordB">Record index in B, or -1.</param>
/// <param name="OffsetA">Offset in A, or -1.</param>
/// <param name="OffsetB">Offset in B, or -1.</param>
public sealed record DiffEntry(string Kind, string Where, string Name, string? A, string? B, long RecordA, long RecordB, long OffsetA, long OffsetB);

/// <summary>A run of consecutive pfns that differ (or exist on one side only).</summary>
public sealed record PageRange(ulong First, ulong Last, string Kind)
{
    /// <summary>Pages in the range.</summary>
    public ulong Count => Last - First + 1;
}

/// <summary>Records of one type in both streams.</summary>
public sealed record DiffTypeRow(string Layer, string Name, long CountA, long CountB, long BytesA, long BytesB);

/// <summary>The semantic diff of two streams.</summary>
public sealed class SemanticDiffResult
{
    /// <summary>Descriptions of A and B.</summary>
    public required string NameA { get; init; }

    /// <summary>Description of B.</summary>
    public required string NameB { get; init; }

    /// <summary>Whether nothing differs (records, fields and pages).</summary>
    public bool Equal => TotalDifferences == 0 && ErrorA is null && ErrorB is null;

    /// <summary>Every difference found, up to the listing cap.</summary>
    public required IReadOnlyList<DiffEntry> Entries { get; init; }

    /// <summary>All differences, listed or not (page ranges count once each).</summary>
    public required long TotalDifferences { get; init; }

    /// <summary>Differing page ranges (final memory image: the last page each stream sends for a pfn).</summary>
    public required IReadOnlyList<PageRange> PageRanges { get; init; }

    /// <summary>Pages that differ, only in A, only in B, the same.</summary>
    public required long PagesDifferent { get; init; }

    /// <summary>pfns only A sends.</summary>
    public required long PagesOnlyA { get; init; }

    /// <summary>pfns only B sends.</summary>
    public required long PagesOnlyB { get; init; }

    /// <summary>Same pages.</summary>
    public required long PagesSame { get; init; }

    /// <summary>Page ranges beyond the listed ones.</summary>
    public required long RangesNotListed { get; init; }

    /// <summary>Per-type record counts.</summary>
    public required IReadOnlyList<DiffTypeRow> Types { get; init; }

    /// <summary>Items read.</summary>
    public required long ItemsA { get; init; }

    /// <summary>Items read from B.</summary>
    public required long ItemsB { get; init; }

    /// <summary>A's error, when it is malformed.</summary>
    public string? ErrorA { get; init; }

    /// <summary>B's error.</summary>
    public string? ErrorB { get; init; }

    /// <summary>Limits that were hit (the comparison is then partial).</summary>
    public required IReadOnlyList<string> Notes { get; init; }
}

/// <summary>
/// Compares two streams by meaning, not only by bytes: headers field by field, the xl config JSON key by key, each
/// record type's k-th occurrence in A against its k-th in B (fields, vCPU registers, HVM save entries, HVM params,
/// CPUID leaves, MSRs, QEVM sections, xenstore keys), and guest memory pfn by pfn as ranges. Every difference is
/// listed up to a cap, not only the first. Each stream is read once, in full, with bounded memory.
/// </summary>
public static class SemanticDiff
{
    private sealed class Copy
    {
        public required long Index { get; init; }
        public required long Offset { get; init; }
        public required long Length { get; init; }
        public byte[]? Body { get; init; }
        public UInt128 Digest { get; init; }
        public IReadOnlyList<RecordField> Fields { get; init; } = [];
    }

    private sealed class Side
    {
        public List<(string Kind, long Offset, IReadOnlyList<RecordField> Fields)> Headers { get; } = [];
        public Dictionary<(string Layer, string Type), List<Copy>> Records { get; } = [];
        public List<(string Layer, string Type)> Order { get; } = [];
        public Dictionary<(string Layer, string Type), (long Count, long Bytes)> Types { get; } = [];
        public Dictionary<ulong, UInt128> Pages { get; } = [];
        public byte[]? XlConfig { get; set; }
        public bool XlConfigJson { get; set; }
        public long Items { get; set; }
        public long BodyBytes { get; set; }
        public long KeptRecords { get; set; }
        public string? Error { get; set; }
        public List<string> Notes { get; } = [];
        public bool PfnCapHit { get; set; }
        public bool Stop { get; set; }
        public int PvGuestWidth { get; set; }
    }

    /// <summary>Compares the streams <paramref name="a"/> and <paramref name="b"/>.</summary>
    public static SemanticDiffResult Compare(Stream a, Stream b, string nameA, string nameB, SemanticDiffOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= new SemanticDiffOptions();
        using var sa = ByteSource.FromStream(new BoundedStream(a, options.MaxBytes));
        using var sb = ByteSource.FromStream(new BoundedStream(b, options.MaxBytes));
        return Compare(sa, sb, nameA, nameB, options);
    }

    /// <summary>
    /// Compares two byte sources (the input seam's); <paramref name="formatA"/> and <paramref name="formatB"/> override
    /// the options' outer format per side (the seam's detected format).
    /// </summary>
    public static SemanticDiffResult Compare(ByteSource a, ByteSource b, string nameA, string nameB, SemanticDiffOptions? options = null,
        OuterFormat? formatA = null, OuterFormat? formatB = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= new SemanticDiffOptions();
        var sa = Read(a, options, "A", formatA);
        var sb = Read(b, options, "B", formatB);
        var entries = new List<DiffEntry>();
        long total = 0;
        void Add(DiffEntry e)
        {
            total++;
            if (entries.Count < options.MaxEntries)
            {
                entries.Add(e);
            }
        }
        CompareHeaders(sa, sb, Add);
        CompareConfig(sa, sb, Add);
        CompareRecords(sa, sb, Add);
        var ranges = new List<PageRange>();
        var (diff, onlyA, onlyB, same, rangeCount) = ComparePages(sa, sb, ranges, options.MaxRanges);
        total += rangeCount;
        var notes = sa.Notes.Concat(sb.Notes).ToList();
        if (total > entries.Count + rangeCount)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{total - rangeCount - entries.Count} more differences not listed (cap {options.MaxEntries})"));
        }
        return new SemanticDiffResult
        {
            NameA = nameA,
            NameB = nameB,
            Entries = entries,
            TotalDifferences = total,
            PageRanges = ranges,
            PagesDifferent = diff,
            PagesOnlyA = onlyA,
            PagesOnlyB = onlyB,
            PagesSame = same,
            RangesNotListed = rangeCount - ranges.Count,
            Types = TypeRows(sa, sb),
            ItemsA = sa.Items,
            ItemsB = sb.Items,
            ErrorA = sa.Error,
            ErrorB = sb.Error,
            Notes = notes,
        };
    }

    private static Side Read(ByteSource source, SemanticDiffOptions o, string label, OuterFormat? format)
    {
        var side = new Side();
        using var reader = new XenStreamReader(source, format is { } f ? o.Reader with { Format = f } : o.Reader, ownsSource: false);
        var capped = false;
        var occurrences = new Dictionary<(string, string), int>();
        try
        {
            while (reader.Read())
            {
                if (reader.Offset >= o.MaxBytes)
                {
                    capped = true;
                    break;
                }
                side.Items++;
                Item(side, reader, o, label);
                if (side.Stop)
                {
                    break;
                }
                reader.FinishItem();
            }
        }
        catch (StreamFormatException e)
        {
            side.Error = e.Message;
        }
        if (capped || (source.Length is null && source.Position >= o.MaxBytes))
        {
            side.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{label}: stopped after {o.MaxBytes} bytes (--max-bytes); the rest is not compared"));
        }
        return side;
    }

    private static void Item(Side s, XenStreamReader r, SemanticDiffOptions o, string label)
    {
        var layer = XenStreamReader.LayerName(r.Layer);
        var type = r.RecordTypeName;
        var key = (layer, type);
        s.Types.TryGetValue(key, out var t);
        s.Types[key] = (t.Count + 1, t.Bytes + r.ItemLength);
        switch (r.Kind)
        {
            case StreamItemKind.XlHeader:
            {
                s.Headers.Add((type, r.Offset, RecordDescriber.Describe(r, 64)));
                var h = r.XlHeader!.Value;
                if (h.OptionalDataLength > 0 && h.OptionalDataLength <= o.MaxBodyBytes)
                {
                    var opt = r.GetBody();
                    if (XlOptionalData.TryParse(opt, out var data))
                    {
                        s.XlConfig = data.Config.ToArray();
                        s.XlConfigJson = (h.MandatoryFlags & XlMandatoryFlags.Json) != 0;
                    }
                }
                return;
            }
            case StreamItemKind.LibxlHeader or StreamItemKind.LibxcImageHeader or StreamItemKind.LibxcDomainHeader:
                s.Headers.Add((type, r.Offset, RecordDescriber.Describe(r, 64)));
                return;
            case StreamItemKind.Record:
                break;
            case StreamItemKind.LegacyImage or StreamItemKind.TrailingData:
            {
                // The rest of the input, of unknown length (maybe endless): its first MiB is compared, then this side stops.
                var head = r.BodyPrefix((int)Math.Min(Math.Min(r.BodyLength < 0 ? long.MaxValue : r.BodyLength, 1 << 20), r.Source.MaxWindow));
                AddCopy(s, key, new Copy { Index = -1, Offset = r.Offset, Length = head.Length, Digest = Digest(head), Fields = [] }, o, label);
                s.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{label}: {type} at offset {r.Offset}: its first {head.Length} bytes are compared as bytes; the rest is not read{(r.Kind == StreamItemKind.LegacyImage ? " (convert a legacy image first: streambench convert-legacy)" : "")}"));
                s.Stop = true;
                return;
            }
            default:
            {
                // xl migrate protocol messages: compared as bytes.
                var body = r.BodyLength <= 1 << 20 ? r.GetBody() : default;
                AddCopy(s, key, new Copy { Index = -1, Offset = r.Offset, Length = r.BodyLength, Digest = Digest(body), Fields = [] }, o, label);
                return;
            }
        }
        var rfc = r.Dialect == StreamDialect.PostcopyRfc;
        var owner = r.Layer == StreamLayer.BackChannel ? XenStreamReader.BackChannelOwner(r.RecordType, r.Dialect) : r.Layer;
        if (owner != StreamLayer.Libxl && r.Layer != StreamLayer.BackChannel
            && (r.RecordType == (uint)LibxcRecordType.PageData || (rfc && r.RecordType == (uint)PostcopyRecordType.PostcopyPageData)))
        {
            Pages(s, r.GetBody(), o, label);
            return;
        }
        var fields = RecordDescriber.Describe(r, 64);
        byte[]? kept = null;
        UInt128 digest;
        if (r.BodyLength <= int.MaxValue && s.BodyBytes + r.BodyLength <= o.MaxBodyBytes && s.KeptRecords < o.MaxRecords)
        {
            var body = r.GetBody();
            kept = body.ToArray();
            digest = Digest(body);
            s.BodyBytes += body.Length;
            if (owner == StreamLayer.Libxc && r.RecordType == (uint)LibxcRecordType.X86PvInfo && body.Length >= 1)
            {
                s.PvGuestWidth = body[0];
            }
        }
        else
        {
            digest = Digest(r.GetBody());
            if (s.Notes.Count < 20)
            {
                s.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{label}: record #{r.RecordIndex} {type} compared by digest only (body budget reached)"));
            }
        }
        AddCopy(s, key, new Copy { Index = r.RecordIndex, Offset = r.Offset, Length = r.BodyLength, Body = kept, Digest = digest, Fields = fields }, o, label);
    }

    private static void AddCopy(Side s, (string, string) key, Copy c, SemanticDiffOptions o, string label)
    {
        if (s.KeptRecords >= o.MaxRecords)
        {
            if (s.KeptRecords == o.MaxRecords)
            {
                s.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{label}: more than {o.MaxRecords} non-page records; later ones are counted, not compared"));
                s.KeptRecords++;
            }
            return;
        }
        s.KeptRecords++;
        if (!s.Records.TryGetValue(key, out var list))
        {
            s.Records[key] = list = [];
            s.Order.Add(key);
        }
        list.Add(c);
    }

    private static void Pages(Side s, ReadOnlySpan<byte> body, SemanticDiffOptions o, string label)
    {
        if (!PageDataBody.TryParse(body, out var pd))
        {
            return;
        }
        var count = pd.Count;
        var dataStart = PageDataBody.HeaderSize + (count * (long)LibxcBodySizes.PfnWord);
        if (dataStart > body.Length)
        {
            return;
        }
        var at = (int)dataStart;
        for (var i = 0; i < count; i++)
        {
            var word = pd.Word(i);
            if (!PageWord.HasData(PageWord.TypeOf(word)))
            {
                continue;
            }
            if (at + LibxcWire.PageSize > body.Length)
            {
                return;
            }
            var pfn = PageWord.PfnOf(word);
            if (s.Pages.Count < o.MaxPfns || s.Pages.ContainsKey(pfn))
            {
                s.Pages[pfn] = Digest(body.Slice(at, LibxcWire.PageSize));
            }
            else if (!s.PfnCapHit)
            {
                s.PfnCapHit = true;
                s.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{label}: more than {o.MaxPfns} distinct pfns; pages beyond are not compared"));
            }
            at += LibxcWire.PageSize;
        }
    }

    private static void CompareHeaders(Side a, Side b, Action<DiffEntry> add)
    {
        var kinds = a.Headers.Select(h => h.Kind).Concat(b.Headers.Select(h => h.Kind)).Distinct().ToList();
        foreach (var kind in kinds)
        {
            var ha = a.Headers.FirstOrDefault(h => h.Kind == kind);
            var hb = b.Headers.FirstOrDefault(h => h.Kind == kind);
            if (ha.Kind is null || hb.Kind is null)
            {
                add(new DiffEntry("header", kind, "(present)", ha.Kind is null ? null : "yes", hb.Kind is null ? null : "yes", -1, -1, ha.Kind is null ? -1 : ha.Offset, hb.Kind is null ? -1 : hb.Offset));
                continue;
            }
            CompareFields("header", kind, ha.Fields, hb.Fields, -1, -1, ha.Offset, hb.Offset, add);
        }
    }

    private static void CompareFields(string kind, string where, IReadOnlyList<RecordField> fa, IReadOnlyList<RecordField> fb, long ra, long rb, long oa, long ob, Action<DiffEntry> add)
    {
        var names = fa.Select(f => f.Name).Concat(fb.Select(f => f.Name)).Distinct().ToList();
        foreach (var n in names)
        {
            var va = fa.FirstOrDefault(f => f.Name == n).Value;
            var vb = fb.FirstOrDefault(f => f.Name == n).Value;
            if (va != vb)
            {
                add(new DiffEntry(kind, where, n, va, vb, ra, rb, oa, ob));
            }
        }
    }

    private static void CompareConfig(Side a, Side b, Action<DiffEntry> add)
    {
        if (a.XlConfig is null && b.XlConfig is null)
        {
            return;
        }
        if (a.XlConfig is not null && b.XlConfig is not null && a.XlConfig.AsSpan().SequenceEqual(b.XlConfig))
        {
            return;
        }
        var fa = Flatten(a.XlConfig, a.XlConfigJson);
        var fb = Flatten(b.XlConfig, b.XlConfigJson);
        var keys = fa.Keys.Concat(fb.Keys).Distinct().Order(StringComparer.Ordinal);
        var any = false;
        foreach (var k in keys)
        {
            fa.TryGetValue(k, out var va);
            fb.TryGetValue(k, out var vb);
            if (va != vb)
            {
                any = true;
                add(new DiffEntry("xl-config", "xl header config", k, va, vb, -1, -1, -1, -1));
            }
        }
        if (!any)
        {
            add(new DiffEntry("xl-config", "xl header config", "(bytes)", "formatting differs", "same keys and values", -1, -1, -1, -1));
        }
    }

    /// <summary>JSON config → "a.b[0].c" = value; xl.cfg text → "key" = value; unparsable → one key.</summary>
    internal static Dictionary<string, string> Flatten(byte[]? config, bool json)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        if (config is null)
        {
            return d;
        }
        var text = Encoding.UTF8.GetString(config).TrimEnd('\0');
        if (json)
        {
            try
            {
                using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
                Walk(doc.RootElement, "", d);
                return d;
            }
            catch (JsonException)
            {
                // fall through: compared as text
            }
        }
        foreach (var line in text.Split('\n'))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && !line.TrimStart().StartsWith('#'))
            {
                d[line[..eq].Trim()] = line[(eq + 1)..].Trim();
            }
        }
        if (d.Count == 0)
        {
            d["(text)"] = text;
        }
        return d;
    }

    private static void Walk(JsonElement e, string path, Dictionary<string, string> d)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    Walk(p.Value, path.Length == 0 ? p.Name : path + "." + p.Name, d);
                }
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    Walk(item, string.Create(CultureInfo.InvariantCulture, $"{path}[{i++}]"), d);
                }
                if (i == 0)
                {
                    d[path] = "[]";
                }
                break;
            default:
                d[path.Length == 0 ? "(root)" : path] = e.GetRawText();
                break;
        }
    }

    private static void CompareRecords(Side a, Side b, Action<DiffEntry> add)
    {
        var keys = a.Order.Concat(b.Order.Where(k => !a.Records.ContainsKey(k))).ToList();
        foreach (var key in keys)
        {
            a.Records.TryGetValue(key, out var la);
            b.Records.TryGetValue(key, out var lb);
            la ??= [];
            lb ??= [];
            var name = key.Layer + " " + key.Type;
            if (la.Count != lb.Count)
            {
                add(new DiffEntry("count", name, "records", la.Count.ToString(CultureInfo.InvariantCulture), lb.Count.ToString(CultureInfo.InvariantCulture),
                    -1, -1, -1, -1));
            }
            for (var i = 0; i < Math.Max(la.Count, lb.Count); i++)
            {
                var ca = i < la.Count ? la[i] : null;
                var cb = i < lb.Count ? lb[i] : null;
                var where = string.Create(CultureInfo.InvariantCulture, $"{name} ({Ordinal(i + 1)})");
                if (ca is null || cb is null)
                {
                    var c = ca ?? cb!;
                    add(new DiffEntry("record", where, "(present)", ca is null ? null : "yes", cb is null ? null : "yes",
                        ca?.Index ?? -1, cb?.Index ?? -1, ca?.Offset ?? -1, cb?.Offset ?? -1));
                    continue;
                }
                if (ca.Length == cb.Length && ca.Digest == cb.Digest)
                {
                    continue;
                }
                RecordDiff(key, where, ca, cb, a, b, add);
            }
        }
    }

    private static string Ordinal(int n) => n switch
    {
        1 => "1st",
        2 => "2nd",
        3 => "3rd",
        _ => string.Create(CultureInfo.InvariantCulture, $"{n}th"),
    };

    private static void RecordDiff((string Layer, string Type) key, string where, Copy a, Copy b, Side sa, Side sb, Action<DiffEntry> add)
    {
        var before = 0;
        void Emit(string kind, string name, string? va, string? vb)
        {
            before++;
            add(new DiffEntry(kind, where, name, va, vb, a.Index, b.Index, a.Offset, b.Offset));
        }
        if (a.Body is { } ba && b.Body is { } bb)
        {
            switch (key.Type)
            {
                case "HVM_CONTEXT":
                    HvmContext(ba, bb, Emit);
                    break;
                case "HVM_PARAMS":
                    HvmParams(ba, bb, Emit);
                    break;
                case "X86_PV_VCPU_BASIC":
                    PvVcpu(ba, bb, sa.PvGuestWidth == 8 && sb.PvGuestWidth == 8, Emit);
                    break;
                case "X86_CPUID_POLICY":
                    Keyed(ba, bb, LibxcBodySizes.CpuidLeaf, 8, "leaf", "cpuid", Emit);
                    break;
                case "X86_MSR_POLICY":
                    Keyed(ba, bb, LibxcBodySizes.MsrEntry, 4, "msr", "msr", Emit);
                    break;
                case "EMULATOR_CONTEXT":
                    Qevm(ba, bb, Emit);
                    break;
                case "EMULATOR_XENSTORE_DATA":
                    Xenstore(ba, bb, Emit);
                    break;
            }
        }
        if (before == 0)
        {
            CompareFields("field", where, a.Fields, b.Fields, a.Index, b.Index, a.Offset, b.Offset, (e) => { before++; add(e); });
        }
        if (before == 0)
        {
            Emit("record", "body", Bytes(a), Bytes(b));
        }
    }

    private static string Bytes(Copy c) => c.Body is null
        ? string.Create(CultureInfo.InvariantCulture, $"{c.Length} bytes (digest {c.Digest:x})")
        : string.Create(CultureInfo.InvariantCulture, $"{c.Length} bytes");

    private static readonly string[] HvmCpuRegs =
    [
        "rax", "rbx", "rcx", "rdx", "rbp", "rsi", "rdi", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags",
        "cr0", "cr2", "cr3", "cr4", "dr0", "dr1", "dr2", "dr3", "dr6", "dr7",
    ];

    private static readonly string[] HvmSegs = ["cs", "ds", "es", "fs", "gs", "ss", "tr", "ldtr"];

    private static readonly string[] HvmTail =
    [
        "sysenter_cs", "sysenter_esp", "sysenter_eip", "shadow_gs", "msr_flags", "msr_lstar", "msr_star", "msr_cstar",
        "msr_syscall_mask", "msr_efer", "msr_tsc_aux", "tsc",
    ];

    /// <summary>Named fields of Xen's <c>struct hvm_hw_cpu</c> (xen/include/public/arch-x86/hvm/save.h): (offset, size, name).</summary>
    internal static IReadOnlyList<(int Offset, int Size, string Name)> HvmCpuLayout { get; } = BuildHvmCpuLayout();

    private static List<(int, int, string)> BuildHvmCpuLayout()
    {
        var l = new List<(int, int, string)> { (0, 512, "fpu_regs") };
        var at = 512;
        foreach (var r in HvmCpuRegs)
        {
            l.Add((at, 8, r));
            at += 8;
        }
        foreach (var s in HvmSegs)
        {
            l.Add((at, 4, s + "_sel"));
            at += 4;
        }
        foreach (var s in HvmSegs.Append("idtr").Append("gdtr"))
        {
            l.Add((at, 4, s + "_limit"));
            at += 4;
        }
        foreach (var s in HvmSegs.Append("idtr").Append("gdtr"))
        {
            l.Add((at, 8, s + "_base"));
            at += 8;
        }
        foreach (var s in HvmSegs)
        {
            l.Add((at, 4, s + "_arbytes"));
            at += 4;
        }
        foreach (var s in HvmTail)
        {
            l.Add((at, 8, s));
            at += 8;
        }
        l.Add((at, 4, "pending_event"));
        l.Add((at + 4, 4, "error_code"));
        l.Add((at + 8, 4, "flags"));
        return l;
    }

    /// <summary>Named fields of the 64-bit <c>vcpu_guest_context</c> (xen/include/public/arch-x86/xen-x86_64.h, xen.h).</summary>
    internal static IReadOnlyList<(int Offset, int Size, string Name)> PvVcpu64Layout { get; } = BuildPvLayout();

    private static List<(int, int, string)> BuildPvLayout()
    {
        var l = new List<(int, int, string)> { (0, 512, "fpu_ctxt"), (512, 8, "flags") };
        string[] regs = ["r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi"];
        var at = 520;
        foreach (var r in regs)
        {
            l.Add((at, 8, r));
            at += 8;
        }
        l.Add((at, 4, "error_code"));
        l.Add((at + 4, 4, "entry_vector"));
        at += 8;
        foreach (var r in new[] { "rip", "cs", "rflags", "rsp", "ss", "es", "ds", "fs", "gs" })
        {
            l.Add((at, 8, r));
            at += 8;
        }
        l.Add((at, 4096, "trap_ctxt"));
        at += 4096;
        l.Add((at, 8, "ldt_base"));
        l.Add((at + 8, 8, "ldt_ents"));
        at += 16;
        l.Add((at, 128, "gdt_frames"));
        at += 128;
        foreach (var r in new[] { "gdt_ents", "kernel_ss", "kernel_sp" })
        {
            l.Add((at, 8, r));
            at += 8;
        }
        for (var i = 0; i < 8; i++)
        {
            l.Add((at, 8, string.Create(CultureInfo.InvariantCulture, $"ctrlreg[{i}]")));
            at += 8;
        }
        for (var i = 0; i < 8; i++)
        {
            l.Add((at, 8, string.Create(CultureInfo.InvariantCulture, $"debugreg[{i}]")));
            at += 8;
        }
        foreach (var r in new[] { "event_callback_eip", "failsafe_callback_eip", "syscall_callback_eip", "vm_assist", "fs_base", "gs_base_kernel", "gs_base_user" })
        {
            l.Add((at, 8, r));
            at += 8;
        }
        return l;
    }

    private static void Structured(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, IReadOnlyList<(int Offset, int Size, string Name)> layout, string kind, string prefix,
        Action<string, string, string?, string?> emit)
    {
        var covered = 0;
        foreach (var (off, size, name) in layout)
        {
            if (off + size > a.Length || off + size > b.Length)
            {
                break;
            }
            covered = off + size;
            var fa = a.Slice(off, size);
            var fb = b.Slice(off, size);
            if (fa.SequenceEqual(fb))
            {
                continue;
            }
            emit(kind, prefix + name, Value(fa), Value(fb));
        }
        if (a.Length != b.Length)
        {
            emit(kind, prefix + "(length)", a.Length.ToString(CultureInfo.InvariantCulture), b.Length.ToString(CultureInfo.InvariantCulture));
        }
        var n = Math.Min(a.Length, b.Length);
        if (covered < n && !a[covered..n].SequenceEqual(b[covered..n]))
        {
            emit(kind, prefix + ByteRange(a[covered..n], b[covered..n], covered), null, null);
        }
    }

    private static string Value(ReadOnlySpan<byte> v) => v.Length switch
    {
        8 => "0x" + BinaryPrimitives.ReadUInt64LittleEndian(v).ToString("x", CultureInfo.InvariantCulture),
        4 => "0x" + BinaryPrimitives.ReadUInt32LittleEndian(v).ToString("x", CultureInfo.InvariantCulture),
        2 => "0x" + BinaryPrimitives.ReadUInt16LittleEndian(v).ToString("x", CultureInfo.InvariantCulture),
        _ => string.Create(CultureInfo.InvariantCulture, $"{v.Length} bytes, digest {Digest(v).ToString("x", CultureInfo.InvariantCulture)[..12]}"),
    };

    /// <summary>"bytes +12..+40 (7 differ)" relative to <paramref name="baseOffset"/>.</summary>
    private static string ByteRange(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int baseOffset)
    {
        var n = Math.Min(a.Length, b.Length);
        int first = -1, last = -1, count = 0;
        for (var i = 0; i < n; i++)
        {
            if (a[i] != b[i])
            {
                if (first < 0)
                {
                    first = i;
                }
                last = i;
                count++;
            }
        }
        return first < 0 ? "(no byte differs)" : string.Create(CultureInfo.InvariantCulture, $"bytes +{baseOffset + first}..+{baseOffset + last} ({count} differ)");
    }

    private static void HvmContext(byte[] a, byte[] b, Action<string, string, string?, string?> emit)
    {
        var ea = HvmEntries(a);
        var eb = HvmEntries(b);
        foreach (var k in ea.Keys.Concat(eb.Keys).Distinct().Order())
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{CodeName(k.Code)}[{k.Instance}]");
            var hasA = ea.TryGetValue(k, out var ra);
            var hasB = eb.TryGetValue(k, out var rb);
            if (!hasA || !hasB)
            {
                emit("hvm-entry", name, hasA ? Len(ra.Length) : null, hasB ? Len(rb.Length) : null);
                continue;
            }
            var da = a.AsSpan(ra.Start, ra.Length);
            var db = b.AsSpan(rb.Start, rb.Length);
            if (da.SequenceEqual(db))
            {
                continue;
            }
            if (k.Code == (ushort)HvmSaveType.Cpu)
            {
                Structured(da, db, HvmCpuLayout, "vcpu-register", $"vCPU {k.Instance} ", emit);
            }
            else
            {
                emit("hvm-entry", name + " " + ByteRange(da, db, 0), Len(ra.Length), Len(rb.Length));
            }
        }
    }

    private static string Len(int n) => n.ToString(CultureInfo.InvariantCulture) + " bytes";

    private static string CodeName(ushort code) => Enum.IsDefined((HvmSaveType)code)
        ? Snake(((HvmSaveType)code).ToString())
        : string.Create(CultureInfo.InvariantCulture, $"TYPE_{code}");

    /// <summary>"LapicRegs" → "LAPIC_REGS", as Xen's HVM_SAVE_CODE names are spelled.</summary>
    private static string Snake(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]) && char.IsLower(pascal[i - 1]))
            {
                sb.Append('_');
            }
            sb.Append(char.ToUpperInvariant(pascal[i]));
        }
        return sb.ToString();
    }

    private static Dictionary<(ushort Code, ushort Instance), (int Start, int Length)> HvmEntries(byte[] blob)
    {
        var d = new Dictionary<(ushort, ushort), (int, int)>();
        var w = new HvmContextWalker(blob);
        while (w.TryNext(out var desc, out var data))
        {
            d[(desc.Typecode, desc.Instance)] = ((int)desc.DataOffset, data.Length);
        }
        return d;
    }

    private static void HvmParams(byte[] a, byte[] b, Action<string, string, string?, string?> emit)
    {
        static Dictionary<ulong, ulong> Read(byte[] body)
        {
            var d = new Dictionary<ulong, ulong>();
            if (HvmParamsBody.TryParse(body, out var p))
            {
                for (var i = 0; i < p.AvailableEntries; i++)
                {
                    d[p[i].Index] = p[i].Value;
                }
            }
            return d;
        }
        var pa = Read(a);
        var pb = Read(b);
        foreach (var k in pa.Keys.Concat(pb.Keys).Distinct().Order())
        {
            var hasA = pa.TryGetValue(k, out var va);
            var hasB = pb.TryGetValue(k, out var vb);
            if (hasA && hasB && va == vb)
            {
                continue;
            }
            var name = Enum.IsDefined((HvmParam)k) ? ((HvmParam)k).ToString() : string.Create(CultureInfo.InvariantCulture, $"param {k}");
            emit("hvm-param", string.Create(CultureInfo.InvariantCulture, $"{name} ({k})"), hasA ? Hex(va) : null, hasB ? Hex(vb) : null);
        }
    }

    private static void PvVcpu(byte[] a, byte[] b, bool width64, Action<string, string, string?, string?> emit)
    {
        if (!PvVcpuBody.TryParse(a, out var va) || !PvVcpuBody.TryParse(b, out var vb))
        {
            return;
        }
        var prefix = string.Create(CultureInfo.InvariantCulture, $"vCPU {va.VcpuId} ");
        if (va.VcpuId != vb.VcpuId)
        {
            emit("field", "vcpu_id", va.VcpuId.ToString(CultureInfo.InvariantCulture), vb.VcpuId.ToString(CultureInfo.InvariantCulture));
        }
        if (width64)
        {
            Structured(va.Blob, vb.Blob, PvVcpu64Layout, "vcpu-register", prefix, emit);
        }
        else
        {
            Structured(va.Blob, vb.Blob, [], "vcpu-register", prefix + "context ", emit);
        }
    }

    /// <summary>Fixed-size entries keyed by their first <paramref name="keyBytes"/> bytes (CPUID leaf+subleaf, MSR index).</summary>
    private static void Keyed(byte[] a, byte[] b, int size, int keyBytes, string label, string kind, Action<string, string, string?, string?> emit)
    {
        static Dictionary<ulong, byte[]> Read(byte[] body, int size, int keyBytes)
        {
            var d = new Dictionary<ulong, byte[]>();
            for (var at = 0; at + size <= body.Length; at += size)
            {
                var e = body.AsSpan(at, size);
                var k = keyBytes == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(e) : BinaryPrimitives.ReadUInt32LittleEndian(e);
                d[k] = e.ToArray();
            }
            return d;
        }
        var da = Read(a, size, keyBytes);
        var db = Read(b, size, keyBytes);
        foreach (var k in da.Keys.Concat(db.Keys).Distinct().Order())
        {
            var hasA = da.TryGetValue(k, out var ea);
            var hasB = db.TryGetValue(k, out var eb);
            if (hasA && hasB && ea!.AsSpan().SequenceEqual(eb))
            {
                continue;
            }
            var name = keyBytes == 8
                ? string.Create(CultureInfo.InvariantCulture, $"{label} 0x{(uint)k:x8}/0x{(uint)(k >> 32):x}")
                : string.Create(CultureInfo.InvariantCulture, $"{label} 0x{k:x8}");
            emit(kind, name, hasA ? Convert.ToHexStringLower(ea![keyBytes..]) : null, hasB ? Convert.ToHexStringLower(eb![keyBytes..]) : null);
        }
    }

    private static void Qevm(byte[] a, byte[] b, Action<string, string, string?, string?> emit)
    {
        if (!EmulatorBody.TryParse(a, out var ea) || !EmulatorBody.TryParse(b, out var eb))
        {
            return;
        }
        var pa = ea.Payload;
        var pb = eb.Payload;
        var sa = QevmImage.Walk(pa, 0, -1, 4096).Sections;
        var sb = QevmImage.Walk(pb, 0, -1, 4096).Sections;
        if (sa.Count == 0 && sb.Count == 0)
        {
            return;
        }
        var ka = sa.GroupBy(s => (s.Name, s.InstanceId)).ToDictionary(g => g.Key, g => g.First());
        var kb = sb.GroupBy(s => (s.Name, s.InstanceId)).ToDictionary(g => g.Key, g => g.First());
        foreach (var k in ka.Keys.Concat(kb.Keys).Distinct())
        {
            var hasA = ka.TryGetValue(k, out var x);
            var hasB = kb.TryGetValue(k, out var y);
            var name = string.Create(CultureInfo.InvariantCulture, $"'{k.Name}' instance {k.InstanceId}");
            if (!hasA || !hasB)
            {
                emit("qevm-section", name, hasA ? Len((int)x!.Size) : null, hasB ? Len((int)y!.Size) : null);
                continue;
            }
            if (x!.Size < 0 || y!.Size < 0)
            {
                continue;
            }
            var da = pa.Slice((int)x.Offset, (int)x.Size);
            var db = pb.Slice((int)y.Offset, (int)y.Size);
            if (!da.SequenceEqual(db))
            {
                emit("qevm-section", x.VersionId != y.VersionId ? name + " version" : name + " " + ByteRange(da, db, 0),
                    x.VersionId != y.VersionId ? x.VersionId.ToString(CultureInfo.InvariantCulture) : Len(da.Length),
                    x.VersionId != y.VersionId ? y.VersionId.ToString(CultureInfo.InvariantCulture) : Len(db.Length));
            }
        }
    }

    private static void Xenstore(byte[] a, byte[] b, Action<string, string, string?, string?> emit)
    {
        static Dictionary<string, string> Read(byte[] body)
        {
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            if (EmulatorBody.TryParse(body, out var e))
            {
                var r = new XenstorePairReader(e.Payload);
                while (r.TryNext(out var k, out var v))
                {
                    d[Encoding.UTF8.GetString(k)] = Encoding.UTF8.GetString(v);
                }
            }
            return d;
        }
        var da = Read(a);
        var db = Read(b);
        foreach (var k in da.Keys.Concat(db.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            da.TryGetValue(k, out var va);
            db.TryGetValue(k, out var vb);
            if (va != vb)
            {
                emit("xenstore", k, va, vb);
            }
        }
    }

    private static (long Different, long OnlyA, long OnlyB, long Same, long Ranges) ComparePages(Side a, Side b, List<PageRange> ranges, int maxRanges)
    {
        var pfns = new List<(ulong Pfn, byte Kind)>();
        long same = 0;
        foreach (var (pfn, digest) in a.Pages)
        {
            if (b.Pages.TryGetValue(pfn, out var other))
            {
                if (other == digest)
                {
                    same++;
                }
                else
                {
                    pfns.Add((pfn, 0));
                }
            }
            else
            {
                pfns.Add((pfn, 1));
            }
        }
        foreach (var pfn in b.Pages.Keys)
        {
            if (!a.Pages.ContainsKey(pfn))
            {
                pfns.Add((pfn, 2));
            }
        }
        pfns.Sort((x, y) => x.Pfn.CompareTo(y.Pfn));
        long diff = 0, onlyA = 0, onlyB = 0, count = 0;
        string[] kinds = ["differ", "only in A", "only in B"];
        for (var i = 0; i < pfns.Count;)
        {
            var j = i;
            while (j + 1 < pfns.Count && pfns[j + 1].Pfn == pfns[j].Pfn + 1 && pfns[j + 1].Kind == pfns[i].Kind)
            {
                j++;
            }
            var n = j - i + 1;
            switch (pfns[i].Kind)
            {
                case 0: diff += n; break;
                case 1: onlyA += n; break;
                default: onlyB += n; break;
            }
            count++;
            if (ranges.Count < maxRanges)
            {
                ranges.Add(new PageRange(pfns[i].Pfn, pfns[j].Pfn, kinds[pfns[i].Kind]));
            }
            i = j + 1;
        }
        return (diff, onlyA, onlyB, same, count);
    }

    private static List<DiffTypeRow> TypeRows(Side a, Side b) => [.. a.Types.Keys.Concat(b.Types.Keys).Distinct()
        .Select(k =>
        {
            a.Types.TryGetValue(k, out var ca);
            b.Types.TryGetValue(k, out var cb);
            return new DiffTypeRow(k.Layer, k.Type, ca.Count, cb.Count, ca.Bytes, cb.Bytes);
        })];

    private static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>A 128-bit digest (fast, not cryptographic): two multiply-rotate lanes over 8-byte words, then the tail.</summary>
    internal static UInt128 Digest(ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        ulong h1 = 0x9E37_79B9_7F4A_7C15ul ^ (ulong)data.Length, h2 = 0xC2B2_AE3D_27D4_EB4Ful;
        foreach (var w in words)
        {
            h1 = BitOperations.RotateLeft(h1 ^ (w * 0x87C3_7B91_1142_53D5ul), 31) * 0x4CF5_AD43_2745_937Ful;
            h2 = BitOperations.RotateLeft(h2 + w, 23) * 0x9E37_79B9_7F4A_7C15ul;
        }
        foreach (var t in data[(words.Length * 8)..])
        {
            h1 = BitOperations.RotateLeft(h1 ^ t, 7) * 0x4CF5_AD43_2745_937Ful;
            h2 = BitOperations.RotateLeft(h2 + t, 11) * 0x9E37_79B9_7F4A_7C15ul;
        }
        return new UInt128(h1, h2);
    }
}

/// <summary>A read-only view of at most <c>limit</c> bytes of a stream (it ends there); the inner stream stays open.</summary>
internal sealed class BoundedStream(Stream inner, long limit) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var left = limit - _read;
        if (left <= 0)
        {
            return 0;
        }
        var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, left)]);
        _read += n;
        return n;
    }
}
