using System.Globalization;
using System.Text;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using StreamBench.X86;

namespace StreamBench.Formats.Records;

/// <summary>One decoded field of a record, for <c>streambench dump</c> (one line) and <c>--json</c>.</summary>
/// <param name="Name">The spec's field name (snake_case), or a derived quantity such as <c>data_pages</c>.</param>
/// <param name="Value">The value as text (numbers in decimal, pfns and addresses in 0x hex).</param>
public readonly record struct RecordField(string Name, string Value)
{
    /// <inheritdoc />
    public override string ToString() => Name + "=" + Value;
}

/// <summary>
/// Decodes record bodies into ordered (name, value) fields. Cheap enough to call for every record of a large stream:
/// it only needs a prefix of the body (for PAGE_DATA, the header and the pfn words; never the pages), and lists are
/// cut at <c>maxItems</c> entries.
/// </summary>
public static class RecordDescriber
{
    /// <summary>Default cap on listed items (pfns, params, leaves, key/value pairs, HVM save records).</summary>
    public const int DefaultMaxItems = 8;

    /// <summary>Bodies are described from at most this many leading bytes (the pfn words of any valid PAGE_DATA fit).</summary>
    public const int MaxPrefix = 1 << 20;

    /// <summary>The name of a page type as dump prints it.</summary>
    public static string PageTypeName(PageType type) => PageWord.TypeName(type);

    /// <summary>
    /// How many leading body bytes <see cref="Describe(StreamLayer, uint, StreamDialect, ReadOnlySpan{byte}, long, int)"/>
    /// needs. <paramref name="head"/> is the first up-to-8 body bytes (for PAGE_DATA-like records, the count).
    /// </summary>
    public static int PrefixLength(StreamLayer layer, uint type, StreamDialect dialect, long bodyLength, ReadOnlySpan<byte> head)
    {
        var cap = (int)Math.Min(bodyLength, MaxPrefix);
        if (HasPfnWords(layer, type, dialect) && PageDataBody.TryParse(head, out var pd))
        {
            return (int)Math.Min(cap, PageDataBody.PrefixLength(pd.Count));
        }
        return cap;
    }

    /// <summary>Describes the reader's current item from a prefix of its body. Call it before the body is consumed.</summary>
    public static IReadOnlyList<RecordField> Describe(XenStreamReader reader, int maxItems = DefaultMaxItems)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var fields = new List<RecordField>();
        switch (reader.Kind)
        {
            case StreamItemKind.Record:
            {
                var head = reader.BodyPrefix(8);
                var want = PrefixLength(reader.Layer, reader.RecordType, reader.Dialect, reader.BodyLength, head);
                var body = reader.BodyPrefix(Math.Min(want, reader.Source.MaxWindow));
                return Describe(reader.Layer, reader.RecordType, reader.Dialect, body, reader.BodyLength, maxItems);
            }
            case StreamItemKind.XlHeader:
            {
                var h = reader.XlHeader!.Value;
                Add(fields, "byteorder", Hex(h.ByteOrder) + (h.BigEndian ? " (big-endian)" : ""));
                Add(fields, "mandatory_flags", Hex((uint)h.MandatoryFlags) + FlagNames(h.MandatoryFlags));
                Add(fields, "optional_flags", Hex(h.OptionalFlags));
                Add(fields, "optional_data_len", Dec(h.OptionalDataLength));
                var opt = reader.BodyPrefix((int)Math.Min(h.OptionalDataLength, Math.Min(MaxPrefix, reader.Source.MaxWindow)));
                if (opt.Length >= 4 && XlOptionalData.TryParse(opt, out var data))
                {
                    Add(fields, "config_size", Dec(data.ConfigSize));
                    Add(fields, "config_format", (h.MandatoryFlags & XlMandatoryFlags.Json) != 0 ? "json" : "xl.cfg");
                }
                return fields;
            }
            case StreamItemKind.LibxlHeader:
            {
                var h = reader.LibxlHeader!.Value;
                Add(fields, "ident", h.Ident == LibxlWire.Ident ? "LibxlFmt" : Hex(h.Ident));
                Add(fields, "version", Dec(h.Version));
                Add(fields, "options", Hex((uint)h.Options) + OptionNames(h.Options));
                return fields;
            }
            case StreamItemKind.LibxcImageHeader:
            {
                var h = reader.ImageHeader!.Value;
                Add(fields, "marker", Hex(h.Marker));
                Add(fields, "id", h.Id == LibxcWire.Id ? "XENF" : Hex(h.Id));
                Add(fields, "version", Dec(h.Version));
                Add(fields, "options", Hex(h.Options));
                Add(fields, "endianness", h.BigEndian ? "big" : "little");
                return fields;
            }
            case StreamItemKind.LibxcDomainHeader:
            {
                var h = reader.DomainHeader!.Value;
                Add(fields, "type", h.Type switch { DomainType.X86Pv => "x86_pv", DomainType.X86Hvm => "x86_hvm", _ => Hex((uint)h.Type) });
                Add(fields, "page_shift", Dec(h.PageShift));
                Add(fields, "xen_version", h.XenMajor == LibxcWire.LegacyConvertedMajor
                    ? string.Create(CultureInfo.InvariantCulture, $"legacy-converted (converter v{h.XenMinor})")
                    : string.Create(CultureInfo.InvariantCulture, $"{h.XenMajor}.{h.XenMinor}"));
                return fields;
            }
            case StreamItemKind.ProtocolMessage:
                Add(fields, "message", reader.Message.ToString());
                if (reader.Message == MigrateMessage.Report)
                {
                    Add(fields, "result", Dec(reader.ReportResult));
                }
                return fields;
            default:
                Add(fields, "bytes", Dec(reader.BodyLength));
                return fields;
        }
    }

    /// <summary>
    /// Describes a record body. <paramref name="body"/> may be a prefix of the body (<paramref name="bodyLength"/> is
    /// the real length); fields that need bytes beyond the prefix are left out or marked. The record dictionary of
    /// <paramref name="layer"/> and <paramref name="dialect"/> says which body shape the type has; a type it does not
    /// define, or a body its shape's decoder cannot read, is described by its length.
    /// </summary>
    public static IReadOnlyList<RecordField> Describe(StreamLayer layer, uint type, StreamDialect dialect, ReadOnlySpan<byte> body,
        long bodyLength, int maxItems = DefaultMaxItems)
    {
        var fields = new List<RecordField>();
        maxItems = Math.Max(0, maxItems);
        var definition = RecordDictionary.For(layer, dialect).Find(type);
        if (definition is null)
        {
            Add(fields, "length", Dec(bodyLength));
        }
        else if (!DescribeBody(fields, definition, body, bodyLength, maxItems) && bodyLength != 0)
        {
            Add(fields, "length", Dec(bodyLength));
        }
        return fields;
    }

    private static bool HasPfnWords(StreamLayer layer, uint type, StreamDialect dialect) =>
        RecordDictionary.For(layer, dialect).Find(type) is { HasPfnWords: true };

    /// <summary>One describer per body shape. False: the shape has no fields, or its decoder refused the body.</summary>
    private static bool DescribeBody(List<RecordField> f, RecordDefinition definition, ReadOnlySpan<byte> body, long length, int max) =>
        definition.Body switch
        {
            RecordBodyShape.PageData => PageData(f, body, length, max, withPages: true),
            RecordBodyShape.PfnWords => PageData(f, body, length, max, withPages: false),
            RecordBodyShape.PfnList => PfnList(f, body, max),
            RecordBodyShape.X86PvInfo => X86PvInfo(f, body),
            RecordBodyShape.P2mFrames => P2mFrames(f, body, length, max),
            RecordBodyShape.PvVcpu => PvVcpu(f, definition.Type, body, length, max),
            RecordBodyShape.Opaque => Bytes(f, length),
            RecordBodyShape.TscInfo => TscInfo(f, body),
            RecordBodyShape.HvmContext => HvmContext(f, body, length, max),
            RecordBodyShape.HvmParams => HvmParams(f, body, max),
            RecordBodyShape.CpuidPolicy => CpuidPolicy(f, body, length, max),
            RecordBodyShape.MsrPolicy => MsrPolicy(f, body, length, max),
            RecordBodyShape.DirtyPfnList => DirtyPfnList(f, body, length, max),
            RecordBodyShape.EmulatorXenstoreData => EmulatorXenstoreData(f, body, length, max),
            RecordBodyShape.EmulatorContext => EmulatorContext(f, body, length),
            RecordBodyShape.CheckpointState => CheckpointState(f, body, length),
            _ => false,
        };

    private static bool EmulatorXenstoreData(List<RecordField> f, ReadOnlySpan<byte> body, long length, int max)
    {
        if (!Emulator(f, body, length) || !EmulatorBody.TryParse(body, out var xs))
        {
            return true;
        }
        var reader = new XenstorePairReader(xs.Payload);
        var pairs = new StringBuilder();
        var n = 0;
        while (reader.TryNext(out var key, out var value))
        {
            if (n < max)
            {
                pairs.Append(n == 0 ? "" : ",").Append(Text(key)).Append('=').Append(Text(value));
            }
            n++;
        }
        Add(f, "pairs", Dec(n) + (body.Length < length ? "+" : ""));
        if (n > 0)
        {
            Add(f, "keys", pairs.ToString() + More(n, max));
        }
        return true;
    }

    private static bool EmulatorContext(List<RecordField> f, ReadOnlySpan<byte> body, long length)
    {
        if (!Emulator(f, body, length) || !EmulatorBody.TryParse(body, out var ctx))
        {
            return true;
        }
        Add(f, "blob_bytes", Dec(length - LibxlWire.EmulatorSubHeaderSize));
        Add(f, "format", ctx.PayloadIsQemuSavevm ? "QEVM" : "opaque");
        return true;
    }

    private static bool CheckpointState(List<RecordField> f, ReadOnlySpan<byte> body, long length)
    {
        if (CheckpointStateBody.TryParse(body, out var state))
        {
            Add(f, "control_id", Dec(state.ControlId) + (state.IsKnown ? " (" + ((CheckpointControlId)state.ControlId).ToString() + ")" : ""));
        }
        else
        {
            Add(f, "length", Dec(length));
        }
        return true;
    }

    private static bool Emulator(List<RecordField> f, ReadOnlySpan<byte> body, long length)
    {
        if (!EmulatorBody.TryParse(body, out var e))
        {
            Add(f, "length", Dec(length));
            return false;
        }
        Add(f, "emulator_id", Dec(e.EmulatorId) + (e.IsKnownEmulator ? " (" + ((EmulatorId)e.EmulatorId).ToString() + ")" : ""));
        Add(f, "index", Dec(e.Index));
        return true;
    }

    private static bool PfnList(List<RecordField> f, ReadOnlySpan<byte> body, int max)
    {
        if (!PfnListBody.TryParse(body, out var fault))
        {
            return false;
        }
        Add(f, "count", Dec(fault.Count));
        var pfns = new StringBuilder();
        var shown = Math.Min(fault.AvailableWords, max);
        for (var i = 0; i < shown; i++)
        {
            pfns.Append(i == 0 ? "" : ",").Append(Hex(fault.Word(i)));
        }
        if (fault.Count > 0)
        {
            Add(f, "pfns", pfns.ToString() + More(fault.Count, shown));
        }
        return true;
    }

    private static bool X86PvInfo(List<RecordField> f, ReadOnlySpan<byte> body)
    {
        if (!X86PvInfoBody.TryParse(body, out var info))
        {
            return false;
        }
        Add(f, "guest_width", Dec(info.GuestWidth));
        Add(f, "pt_levels", Dec(info.PtLevels));
        if (info.Reserved1 != 0 || info.Reserved2 != 0)
        {
            Add(f, "reserved", Hex(info.Reserved1) + ":" + Hex(info.Reserved2));
        }
        return true;
    }

    private static bool P2mFrames(List<RecordField> f, ReadOnlySpan<byte> body, long length, int max)
    {
        if (!P2mFramesBody.TryParse(body, out var p2m))
        {
            return false;
        }
        Add(f, "start_pfn", Hex(p2m.StartPfn));
        Add(f, "end_pfn", Hex(p2m.EndPfn));
        var frames = (length - LibxcBodySizes.P2mFramesHeader) / 8;
        Add(f, "frames", Dec(frames));
        var list = new StringBuilder();
        var shown = Math.Min(p2m.FrameCount, max);
        for (var i = 0; i < shown; i++)
        {
            list.Append(i == 0 ? "" : ",").Append(Hex(p2m.Frame(i)));
        }
        if (frames > 0 && shown > 0)
        {
            Add(f, "p2m_pfns", list.ToString() + More(frames, shown));
        }
        return true;
    }

    private static bool PvVcpu(List<RecordField> f, uint type, ReadOnlySpan<byte> body, long length, int max)
    {
        if (!PvVcpuBody.TryParse(body, out var vcpu))
        {
            return false;
        }
        Add(f, "vcpu_id", Dec(vcpu.VcpuId));
        Add(f, "blob_bytes", Dec(length - LibxcBodySizes.VcpuHeader));
        if (type == (uint)LibxcRecordType.X86PvVcpuXsave && vcpu.Blob.Length >= 16)
        {
            Add(f, "xcr0", Hex(vcpu.XsaveXcr0));
            Add(f, "xcr0_accum", Hex(vcpu.XsaveXcr0Accum));
        }
        if (type == (uint)LibxcRecordType.X86PvVcpuMsrs)
        {
            var n = (length - LibxcBodySizes.VcpuHeader) / LibxcBodySizes.VcpuMsr;
            Add(f, "msrs", Dec(n));
            var list = new StringBuilder();
            var shown = Math.Min(vcpu.MsrCount, max);
            for (var i = 0; i < shown; i++)
            {
                var m = vcpu.Msr(i);
                list.Append(i == 0 ? "" : ",").Append(Hex(m.Index)).Append('=').Append(Hex(m.Value));
            }
            if (shown > 0)
            {
                Add(f, "entries", list.ToString() + More(n, shown));
            }
        }
        if (vcpu.Reserved != 0)
        {
            Add(f, "reserved", Hex(vcpu.Reserved));
        }
        return true;
    }

    private static bool Bytes(List<RecordField> f, long length)
    {
        Add(f, "bytes", Dec(length));
        return true;
    }

    private static bool TscInfo(List<RecordField> f, ReadOnlySpan<byte> body)
    {
        if (!TscInfoBody.TryParse(body, out var tsc))
        {
            return false;
        }
        Add(f, "mode", Dec(tsc.Mode));
        Add(f, "khz", Dec(tsc.Khz));
        Add(f, "nsec", Dec(tsc.Nsec));
        Add(f, "incarnation", Dec(tsc.Incarnation));
        if (tsc.Reserved != 0)
        {
            Add(f, "reserved", Hex(tsc.Reserved));
        }
        return true;
    }

    private static bool HvmParams(List<RecordField> f, ReadOnlySpan<byte> body, int max)
    {
        if (!HvmParamsBody.TryParse(body, out var hp))
        {
            return false;
        }
        Add(f, "count", Dec(hp.Count));
        var list = new StringBuilder();
        var shown = Math.Min(hp.AvailableEntries, max);
        for (var i = 0; i < shown; i++)
        {
            var e = hp[i];
            list.Append(i == 0 ? "" : ",").Append(ParamName(e.Index)).Append('=').Append(Hex(e.Value));
        }
        if (shown > 0)
        {
            Add(f, "params", list.ToString() + More(hp.Count, shown));
        }
        if (hp.Reserved != 0)
        {
            Add(f, "reserved", Hex(hp.Reserved));
        }
        return true;
    }

    private static bool CpuidPolicy(List<RecordField> f, ReadOnlySpan<byte> body, long length, int max)
    {
        var cpuid = new CpuidPolicyBody(body);
        Add(f, "leaves", Dec(length / LibxcBodySizes.CpuidLeaf) + (length % LibxcBodySizes.CpuidLeaf != 0 ? "+" + Dec(length % LibxcBodySizes.CpuidLeaf) + "B" : ""));
        var list = new StringBuilder();
        var shown = Math.Min(cpuid.Count, max);
        for (var i = 0; i < shown; i++)
        {
            var l = cpuid[i];
            list.Append(i == 0 ? "" : ",").Append(Hex(l.Leaf));
            if (!l.HasNoSubleaf)
            {
                list.Append('.').Append(Hex(l.Subleaf));
            }
        }
        if (shown > 0)
        {
            Add(f, "ids", list.ToString() + More(length / LibxcBodySizes.CpuidLeaf, shown));
        }
        return true;
    }

    private static bool MsrPolicy(List<RecordField> f, ReadOnlySpan<byte> body, long length, int max)
    {
        var msr = new MsrPolicyBody(body);
        Add(f, "entries", Dec(length / LibxcBodySizes.MsrEntry) + (length % LibxcBodySizes.MsrEntry != 0 ? "+" + Dec(length % LibxcBodySizes.MsrEntry) + "B" : ""));
        var list = new StringBuilder();
        var shown = Math.Min(msr.Count, max);
        for (var i = 0; i < shown; i++)
        {
            var e = msr[i];
            list.Append(i == 0 ? "" : ",").Append(Hex(e.Index)).Append('=').Append(Hex(e.Value));
        }
        if (shown > 0)
        {
            Add(f, "msrs", list.ToString() + More(length / LibxcBodySizes.MsrEntry, shown));
        }
        return true;
    }

    private static bool DirtyPfnList(List<RecordField> f, ReadOnlySpan<byte> body, long length, int max)
    {
        var list = new DirtyPfnListBody(body);
        Add(f, "count", Dec(length / 8));
        var text = new StringBuilder();
        var shown = Math.Min(list.Count, max);
        for (var i = 0; i < shown; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(Hex(list[i]));
        }
        if (shown > 0)
        {
            Add(f, "pfns", text.ToString() + More(length / 8, shown));
        }
        return true;
    }

    private static bool PageData(List<RecordField> f, ReadOnlySpan<byte> body, long length, int max, bool withPages)
    {
        if (!PageDataBody.TryParse(body, out var pd))
        {
            Add(f, "length", Dec(length));
            return true;
        }
        var stats = pd.Scan();
        Add(f, "count", Dec(pd.Count));
        if (withPages)
        {
            Add(f, "data_pages", Dec(stats.DataPages));
        }
        if (stats.Words > 0)
        {
            Add(f, "first_pfn", Hex(pd.Pfn(0)));
            Add(f, "last_pfn", Hex(stats.LastPfn));
            var types = new StringBuilder();
            var listed = 0;
            for (var t = 0; t < 16; t++)
            {
                if (stats.Types[t] == 0)
                {
                    continue;
                }
                if (listed < Math.Max(max, 1))
                {
                    types.Append(listed == 0 ? "" : ",").Append(PageWord.TypeName((PageType)t)).Append(':').Append(Dec(stats.Types[t]));
                }
                listed++;
            }
            Add(f, "types", types.ToString());
        }
        if (stats.Words < pd.Count)
        {
            Add(f, "pfn_words", Dec(stats.Words) + "/" + Dec(pd.Count));
        }
        if (pd.Reserved != 0)
        {
            Add(f, "reserved", Hex(pd.Reserved));
        }
        if (stats.ReservedBitsSet != 0)
        {
            Add(f, "pfn_reserved_bits", Dec(stats.ReservedBitsSet));
        }
        if (stats.Words == pd.Count)
        {
            var expected = withPages ? PageDataBody.ExpectedLength(pd.Count, stats.DataPages) : PageDataBody.PrefixLength(pd.Count);
            if (expected != length)
            {
                Add(f, "length", Dec(length) + " (expected " + Dec(expected) + ")");
            }
        }
        return true;
    }

    private static bool HvmContext(List<RecordField> f, ReadOnlySpan<byte> body, long length, int max)
    {
        Add(f, "bytes", Dec(length));
        var walker = new HvmContextWalker(body);
        var list = new StringBuilder();
        var n = 0;
        while (walker.TryNext(out var d, out var data))
        {
            if (walker.Status == HvmSaveWalkStatus.DataOutOfBounds)
            {
                break;
            }
            if (d.Code == HvmSaveType.Header && HvmSaveHeader.TryRead(data, out var h))
            {
                Add(f, "magic", Hex(h.Magic));
                Add(f, "version", Dec(h.Version));
                Add(f, "cpuid", Hex(h.Cpuid));
                Add(f, "gtsc_khz", Dec(h.GtscKhz));
            }
            if (n < max)
            {
                list.Append(n == 0 ? "" : ",").Append(SaveCodeName(d.Typecode)).Append(':').Append(Dec(d.Instance));
            }
            n++;
        }
        Add(f, "save_records", Dec(n) + (body.Length < length ? "+" : ""));
        if (n > 0)
        {
            Add(f, "save_types", list.ToString() + More(n, Math.Min(n, max)));
        }
        var status = body.Length < length && walker.Status != HvmSaveWalkStatus.End ? "prefix" : walker.Status switch
        {
            HvmSaveWalkStatus.End => walker.TrailingBytes == 0 ? "ok" : "trailing " + Dec(walker.TrailingBytes) + "B",
            HvmSaveWalkStatus.MissingEnd => "no END",
            HvmSaveWalkStatus.DescriptorTruncated => "truncated descriptor",
            HvmSaveWalkStatus.DataOutOfBounds => "descriptor out of bounds",
            _ => "?",
        };
        Add(f, "framing", status);
        return true;
    }

    private static string SaveCodeName(ushort code) => Enum.IsDefined((HvmSaveType)code)
        ? ToSnakeUpper(((HvmSaveType)code).ToString())
        : Dec(code);

    private static string ParamName(ulong index) => Enum.IsDefined((HvmParam)index)
        ? ToSnakeUpper(((HvmParam)index).ToString())
        : Dec(index);

    private static string ToSnakeUpper(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (i > 0 && char.IsUpper(c) && !char.IsUpper(pascal[i - 1]))
            {
                sb.Append('_');
            }
            sb.Append(char.ToUpperInvariant(c));
        }
        return sb.ToString();
    }

    private static string FlagNames(XlMandatoryFlags flags)
    {
        var names = new List<string>();
        if ((flags & XlMandatoryFlags.Json) != 0)
        {
            names.Add("JSON");
        }
        if ((flags & XlMandatoryFlags.StreamV2) != 0)
        {
            names.Add("STREAMv2");
        }
        return names.Count == 0 ? "" : " (" + string.Join('|', names) + ")";
    }

    private static string OptionNames(LibxlOptions options)
    {
        var names = new List<string>();
        if ((options & LibxlOptions.BigEndian) != 0)
        {
            names.Add("BE");
        }
        if ((options & LibxlOptions.Legacy) != 0)
        {
            names.Add("LEGACY");
        }
        return names.Count == 0 ? "" : " (" + string.Join('|', names) + ")";
    }

    private static string More(long total, long shown) => total > shown
        ? string.Create(CultureInfo.InvariantCulture, $",…(+{total - shown})")
        : "";

    private static string Text(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and < 0x7F && b != (byte)',' && b != (byte)'=' && b != (byte)'\\')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
            }
        }
        return sb.ToString();
    }

    private static void Add(List<RecordField> f, string name, string value) => f.Add(new RecordField(name, value));

    private static string Dec(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Dec(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Hex(ulong value) => string.Create(CultureInfo.InvariantCulture, $"0x{value:x}");
}
