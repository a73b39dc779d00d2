using System.Globalization;
using StreamBench.Formats;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;
using StreamBench.X86;

namespace StreamBench.Report;

/// <summary>Limits of the analysis (the report's size does not grow with the stream beyond them).</summary>
public sealed record AnalyzerOptions
{
    /// <summary>Pieces of the record map before runs are merged more coarsely (at most twice this many in all).</summary>
    public int MaxSegments { get; init; } = 3000;

    /// <summary>List items per described record.</summary>
    public int MaxItems { get; init; } = 12;

    /// <summary>Back-channel messages and QEVM sections kept.</summary>
    public int MaxMessages { get; init; } = 2000;

    /// <summary>Post-copy progress points kept (evenly thinned).</summary>
    public int MaxProgressPoints { get; init; } = 400;
}

/// <summary>
/// One pass over a stream with <see cref="XenStreamReader"/>: the record map (page records merged into runs), the
/// memory passes, checkpoints, back-channel records, QEVM sections and post-copy figures. Page contents are never
/// read, only the pfn words; memory does not grow with the stream's length.
/// </summary>
public static class StreamAnalyzer
{
    private sealed class State(AnalyzerOptions options)
    {
        public AnalyzerOptions Options { get; } = options;
        public List<ReportSegment> Segments { get; } = [];
        public bool Coarsened { get; set; }
        public List<PassStats> Passes { get; } = [];
        public List<CheckpointStats> Checkpoints { get; } = [];
        public List<BackChannelMessage> Back { get; } = [];
        public List<QevmSection> Qevm { get; } = [];
        public List<string> EmulatorNotes { get; } = [];
        public List<(long Offset, long Cumulative)> Progress { get; } = [];
        public PassStats? Pass { get; set; }
        public ulong LastPfn { get; set; }
        public bool PassBoundary { get; set; }
        public PassKind NextKind { get; set; } = PassKind.Live;
        public int Checkpoint { get; set; }
        public long CheckpointStart { get; set; } = -1;
        public long CheckpointRecords { get; set; }
        public long CheckpointPages { get; set; }
        public bool SeenLibxl { get; set; }
        public bool Checkpointed { get; set; }
        public bool Postcopy { get; set; }
        public long PrecopyPages { get; set; }
        public long PostcopyRecords { get; set; }
        public long BackgroundPages { get; set; }
        public long Faults { get; set; }
        public long FaultPfns { get; set; }
        public int PvVcpus { get; set; }
        public int HvmCpus { get; set; }
        public bool HvmCounted { get; set; }
        public long End { get; set; }
    }

    /// <summary>Analyses what <paramref name="reader"/> yields; <paramref name="verification"/> is the verifier's result on the same bytes.</summary>
    public static StreamAnalysis Analyze(XenStreamReader reader, VerifyResult verification, string description, string? note = null, AnalyzerOptions? options = null) =>
        Analyze(reader, () => verification, description, note, options);

    /// <summary>
    /// Analyses what <paramref name="reader"/> yields while <paramref name="verify"/> runs on another thread over its
    /// own reader of the same bytes (two passes, in parallel: the report of a large stream takes the time of one).
    /// </summary>
    public static StreamAnalysis Analyze(XenStreamReader reader, Func<VerifyResult> verify, string description, string? note = null, AnalyzerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(verify);
        var verifying = Task.Run(verify);
        var s = new State(options ?? new AnalyzerOptions());
        string? error = null;
        try
        {
            while (reader.Read())
            {
                Item(s, reader);
                reader.FinishItem();
                s.End = reader.Offset + reader.ItemLength;
            }
        }
        catch (StreamFormatException e)
        {
            error = e.Message;
        }
        ClosePass(s);
        if (s.Checkpointed && s.CheckpointStart >= 0 && s.End > s.CheckpointStart)
        {
            s.Checkpoints.Add(new CheckpointStats(s.Checkpoint, s.CheckpointStart, s.End, s.CheckpointRecords, s.CheckpointPages, Complete: false));
        }
        var passes = LabelPasses(s.Passes);
        var verification = verifying.GetAwaiter().GetResult();
        return new StreamAnalysis
        {
            Description = description,
            InputNote = note,
            Verification = verification,
            Segments = s.Segments,
            SegmentsCoarsened = s.Coarsened,
            Passes = passes,
            Checkpoints = s.Checkpoints,
            BackChannel = s.Back,
            Qevm = s.Qevm,
            EmulatorNotes = s.EmulatorNotes,
            Postcopy = reader.Dialect == StreamDialect.PostcopyRfc
                ? new PostcopyStats(s.PrecopyPages, s.PostcopyRecords, s.BackgroundPages, s.Faults, s.FaultPfns, Thin(s.Progress, s.Options.MaxProgressPoints))
                : null,
            Vcpus = s.PvVcpus > 0 ? s.PvVcpus : s.HvmCpus > 0 ? s.HvmCpus : null,
            ReadError = error,
        };
    }

    private static void Item(State s, XenStreamReader r)
    {
        var layer = XenStreamReader.LayerName(r.Layer);
        if (r.Kind != StreamItemKind.Record)
        {
            IReadOnlyList<RecordField> f = r.Kind == StreamItemKind.LegacyImage || r.Kind == StreamItemKind.TrailingData
                ? [new RecordField("bytes", r.BodyLength.ToString(CultureInfo.InvariantCulture))]
                : RecordDescriber.Describe(r, s.Options.MaxItems);
            if (r.Kind == StreamItemKind.ProtocolMessage)
            {
                AddBack(s, new BackChannelMessage(r.Offset, r.RecordTypeName, f, -1));
            }
            AddSegment(s, new ReportSegment(r.Offset, r.ItemLength, layer, r.RecordTypeName, -1, -1, 1, s.Checkpoint, -1, f), mergeable: false);
            return;
        }
        if (s.CheckpointStart < 0)
        {
            s.CheckpointStart = r.Offset;
        }
        s.CheckpointRecords++;
        var owner = r.Layer == StreamLayer.BackChannel ? XenStreamReader.BackChannelOwner(r.RecordType, r.Dialect) : r.Layer;
        if (owner == StreamLayer.Libxl)
        {
            s.SeenLibxl = true;
        }
        var rfc = r.Dialect == StreamDialect.PostcopyRfc;
        var isPages = owner != StreamLayer.Libxl && r.Layer != StreamLayer.BackChannel
            && (r.RecordType == (uint)LibxcRecordType.PageData || (rfc && r.RecordType == (uint)PostcopyRecordType.PostcopyPageData));
        if (isPages)
        {
            PageRecord(s, r, layer);
            return;
        }
        var fields = RecordDescriber.Describe(r, s.Options.MaxItems);
        if (r.Layer == StreamLayer.BackChannel)
        {
            AddBack(s, new BackChannelMessage(r.Offset, r.RecordTypeName, fields, -1));
            if (rfc && r.RecordType == (uint)PostcopyRecordType.PostcopyFault)
            {
                s.Faults++;
                s.FaultPfns += PfnCount(r);
            }
        }
        else if (owner == StreamLayer.Libxl)
        {
            Libxl(s, r);
        }
        else
        {
            Libxc(s, r);
        }
        AddSegment(s, new ReportSegment(r.Offset, r.ItemLength, layer, r.RecordTypeName, r.RecordIndex, r.RecordIndex, 1, s.Checkpoint, -1, fields), mergeable: false);
        if (r.Layer != StreamLayer.BackChannel && IsCheckpointEnd(s, r, owner))
        {
            s.Checkpointed = true;
            var end = r.Offset + r.ItemLength;
            s.Checkpoints.Add(new CheckpointStats(s.Checkpoint, s.CheckpointStart, end, s.CheckpointRecords, s.CheckpointPages, Complete: true));
            s.Checkpoint++;
            s.CheckpointStart = end;
            s.CheckpointRecords = 0;
            s.CheckpointPages = 0;
        }
    }

    private static bool IsCheckpointEnd(State s, XenStreamReader r, StreamLayer owner) => s.SeenLibxl
        ? owner == StreamLayer.Libxl && r.RecordType == (uint)LibxlRecordType.CheckpointEnd
        : owner == StreamLayer.Libxc && r.RecordType == (uint)LibxcRecordType.Checkpoint;

    private static void Libxc(State s, XenStreamReader r)
    {
        var rfc = r.Dialect == StreamDialect.PostcopyRfc;
        switch (r.RecordType)
        {
            case (uint)LibxcRecordType.Verify:
                Boundary(s, PassKind.Verify);
                break;
            case (uint)LibxcRecordType.Checkpoint:
                Boundary(s, PassKind.Checkpoint);
                break;
            case (uint)PostcopyRecordType.PostcopyTransition when rfc:
                s.Postcopy = true;
                Boundary(s, PassKind.Postcopy);
                break;
            case (uint)LibxcRecordType.X86PvVcpuBasic when s.Checkpoint == 0:
                s.PvVcpus++;
                break;
            case (uint)LibxcRecordType.HvmContext when !s.HvmCounted:
                s.HvmCounted = true;
                s.HvmCpus = CountHvmCpus(r);
                break;
        }
    }

    private static void Libxl(State s, XenStreamReader r)
    {
        if (r.RecordType != (uint)LibxlRecordType.EmulatorContext || s.Qevm.Count >= s.Options.MaxMessages)
        {
            return;
        }
        var body = r.GetBody();
        if (!EmulatorBody.TryParse(body, out var emu))
        {
            return;
        }
        var payloadOffset = r.BodyOffset + LibxlWire.EmulatorSubHeaderSize;
        var walk = QevmImage.Walk(emu.Payload, payloadOffset, r.RecordIndex, s.Options.MaxMessages - s.Qevm.Count);
        s.Qevm.AddRange(walk.Sections);
        if (walk.Note is not null)
        {
            s.EmulatorNotes.Add(string.Create(CultureInfo.InvariantCulture, $"record #{r.RecordIndex} at offset {r.Offset}: {walk.Note}"));
        }
    }

    private static int CountHvmCpus(XenStreamReader r)
    {
        var body = r.GetBody();
        var walker = new HvmContextWalker(body);
        var n = 0;
        while (walker.TryNext(out var d, out _))
        {
            if (d.Code == HvmSaveType.Cpu)
            {
                n++;
            }
        }
        return n;
    }

    private static long PfnCount(XenStreamReader r)
    {
        var head = r.BodyPrefix(8);
        return PageDataBody.TryParse(head, out var pd) ? pd.Count : 0;
    }

    private static void Boundary(State s, PassKind kind)
    {
        ClosePass(s);
        s.PassBoundary = true;
        s.NextKind = kind;
    }

    private static void PageRecord(State s, XenStreamReader r, string layer)
    {
        var head = r.BodyPrefix(8);
        var want = RecordDescriber.PrefixLength(r.Layer, r.RecordType, r.Dialect, r.BodyLength, head);
        var body = r.BodyPrefix(Math.Min(want, r.Source.MaxWindow));
        long entries = 0, pages = 0;
        ulong first = 0, last = 0, min = ulong.MaxValue, max = 0;
        if (PageDataBody.TryParse(body, out var pd))
        {
            var n = pd.AvailableWords;
            entries = pd.Count;
            for (var i = 0; i < n; i++)
            {
                var word = pd.Word(i);
                var pfn = PageWord.PfnOf(word);
                if (i == 0)
                {
                    first = pfn;
                }
                last = pfn;
                min = Math.Min(min, pfn);
                max = Math.Max(max, pfn);
                if (PageWord.HasData(PageWord.TypeOf(word)))
                {
                    pages++;
                }
            }
        }
        var postcopyData = r.Dialect == StreamDialect.PostcopyRfc && r.RecordType == (uint)PostcopyRecordType.PostcopyPageData;
        if (postcopyData)
        {
            s.PostcopyRecords++;
            s.BackgroundPages += pages;
            s.Progress.Add((r.Offset, s.BackgroundPages));
            if (s.Progress.Count >= 4 * s.Options.MaxProgressPoints)
            {
                var kept = s.Progress.Where((_, i) => i % 2 == 1).ToList();
                s.Progress.Clear();
                s.Progress.AddRange(kept);
            }
        }
        else if (!s.Postcopy)
        {
            s.PrecopyPages += pages;
        }
        // A new pass: after a VERIFY/CHECKPOINT/transition, or when the pfns start again from below (each pass walks
        // the pfns in ascending order). Post-copy pages follow faults, so they stay in one pass.
        if (s.Pass is null || s.PassBoundary || (!postcopyData && entries > 0 && first <= s.LastPfn && s.Pass.PfnEntries > 0))
        {
            ClosePass(s);
            var kind = s.PassBoundary ? s.NextKind : s.Pass is null && s.Passes.Count == 0 ? PassKind.Live : NextLiveKind(s);
            if (postcopyData)
            {
                kind = PassKind.Postcopy;
            }
            s.Pass = new PassStats(s.Passes.Count, s.Checkpoint, kind, r.Offset, r.Offset, 0, 0, 0, 0, ulong.MaxValue, 0);
            s.PassBoundary = false;
        }
        var p = s.Pass;
        s.Pass = p with
        {
            EndOffset = r.Offset + r.ItemLength,
            Records = p.Records + 1,
            PfnEntries = p.PfnEntries + entries,
            DataPages = p.DataPages + pages,
            Bytes = p.Bytes + r.ItemLength,
            MinPfn = Math.Min(p.MinPfn, min),
            MaxPfn = Math.Max(p.MaxPfn, entries > 0 ? max : 0),
        };
        if (entries > 0)
        {
            s.LastPfn = last;
        }
        s.CheckpointPages += pages;
        var passIndex = s.Pass.Index;
        var seg = new ReportSegment(r.Offset, r.ItemLength, layer, r.RecordTypeName, r.RecordIndex, r.RecordIndex, 1, s.Checkpoint, passIndex,
        [
            new RecordField("pfn_entries", entries.ToString(CultureInfo.InvariantCulture)),
            new RecordField("data_pages", pages.ToString(CultureInfo.InvariantCulture)),
            new RecordField("pfns", entries == 0 ? "-" : Hex(min) + ".." + Hex(max)),
        ]);
        AddSegment(s, seg, mergeable: true);
    }

    private static PassKind NextLiveKind(State s) => s.Pass?.Kind switch
    {
        PassKind.Verify => PassKind.Verify,
        PassKind.Checkpoint => PassKind.Checkpoint,
        PassKind.Postcopy => PassKind.Postcopy,
        _ => PassKind.Live,
    };

    private static void ClosePass(State s)
    {
        if (s.Pass is { } p)
        {
            s.Passes.Add(p);
            s.Pass = null;
            s.LastPfn = 0;
        }
    }

    /// <summary>Within each run of live passes, the last is the final (suspended) pass; a lone pass is a non-live save.</summary>
    private static List<PassStats> LabelPasses(List<PassStats> passes)
    {
        var result = new List<PassStats>(passes.Count);
        for (var i = 0; i < passes.Count; i++)
        {
            var p = passes[i];
            if (p.Kind == PassKind.Live)
            {
                var runStart = i;
                while (runStart > 0 && passes[runStart - 1].Kind == PassKind.Live && passes[runStart - 1].Checkpoint == p.Checkpoint)
                {
                    runStart--;
                }
                var runEnd = i;
                while (runEnd + 1 < passes.Count && passes[runEnd + 1].Kind == PassKind.Live && passes[runEnd + 1].Checkpoint == p.Checkpoint)
                {
                    runEnd++;
                }
                if (runStart == runEnd)
                {
                    p = p with { Kind = PassKind.Single };
                }
                else if (i == runEnd)
                {
                    p = p with { Kind = PassKind.Final };
                }
            }
            result.Add(p);
        }
        return result;
    }

    private static void AddBack(State s, BackChannelMessage m)
    {
        if (s.Back.Count < s.Options.MaxMessages)
        {
            s.Back.Add(m);
        }
    }

    /// <summary>Adds a map piece; page runs merge while they stay in one pass; past the budget everything of one type merges.</summary>
    private static void AddSegment(State s, ReportSegment seg, bool mergeable)
    {
        var list = s.Segments;
        if (list.Count > 0)
        {
            var last = list[^1];
            var sameRun = last.Type == seg.Type && last.Layer == seg.Layer && last.FirstRecord >= 0 && seg.FirstRecord >= 0;
            var merge = (mergeable && sameRun && last.Pass == seg.Pass && last.Checkpoint == seg.Checkpoint)
                || (list.Count >= s.Options.MaxSegments && sameRun)
                || list.Count >= 2 * s.Options.MaxSegments;
            if (merge)
            {
                if (list.Count >= s.Options.MaxSegments && !(mergeable && sameRun))
                {
                    s.Coarsened = true;
                }
                list[^1] = Merge(last, seg);
                return;
            }
        }
        list.Add(seg);
    }

    private static ReportSegment Merge(ReportSegment a, ReportSegment b)
    {
        var type = a.Type == b.Type ? a.Type : "(mixed)";
        var count = a.Count + b.Count;
        var fields = new List<RecordField> { new("records", count.ToString(CultureInfo.InvariantCulture)) };
        if (a.Pass >= 0 && b.Pass >= 0 && a.Type == b.Type)
        {
            long entries = Sum(a, "pfn_entries") + Sum(b, "pfn_entries"), pages = Sum(a, "data_pages") + Sum(b, "data_pages");
            fields.Add(new RecordField("pfn_entries", entries.ToString(CultureInfo.InvariantCulture)));
            fields.Add(new RecordField("data_pages", pages.ToString(CultureInfo.InvariantCulture)));
            var ra = Field(a, "pfns");
            var rb = Field(b, "pfns");
            fields.Add(new RecordField("pfns", Span(ra, rb)));
        }
        var first = a.FirstRecord >= 0 ? a.FirstRecord : b.FirstRecord;
        return new ReportSegment(a.Offset, b.Offset + b.Length - a.Offset, a.Layer == b.Layer ? a.Layer : "mixed", type, first,
            Math.Max(a.LastRecord, b.LastRecord), count, a.Checkpoint, a.Pass == b.Pass ? a.Pass : -1, fields);
    }

    private static long Sum(ReportSegment s, string name) => long.TryParse(Field(s, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static string? Field(ReportSegment s, string name)
    {
        foreach (var f in s.Fields)
        {
            if (f.Name == name)
            {
                return f.Value;
            }
        }
        return null;
    }

    private static string Span(string? a, string? b)
    {
        static (ulong Lo, ulong Hi)? Parse(string? t)
        {
            if (t is null || !t.Contains("..", StringComparison.Ordinal))
            {
                return null;
            }
            var parts = t.Split("..");
            return (ulong.Parse(parts[0].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ulong.Parse(parts[1].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        var pa = Parse(a);
        var pb = Parse(b);
        if (pa is null)
        {
            return b ?? "-";
        }
        if (pb is null)
        {
            return a ?? "-";
        }
        return Hex(Math.Min(pa.Value.Lo, pb.Value.Lo)) + ".." + Hex(Math.Max(pa.Value.Hi, pb.Value.Hi));
    }

    private static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    private static List<(long, long)> Thin(List<(long Offset, long Cumulative)> points, int max)
    {
        if (points.Count <= max)
        {
            return [.. points];
        }
        var list = new List<(long, long)>(max);
        for (var i = 0; i < max; i++)
        {
            list.Add(points[(int)((long)i * (points.Count - 1) / (max - 1))]);
        }
        return list;
    }
}
