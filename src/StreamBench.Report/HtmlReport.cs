using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using StreamBench.Formats;
using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;

namespace StreamBench.Report;

/// <summary>
/// Writes a <see cref="ReportDocument"/> as one self-contained HTML file: the figures as HTML tables (readable without
/// script), the plots and the record map drawn as SVG by the embedded script from an embedded JSON document. No
/// network, no external file.
/// </summary>
public static class HtmlReport
{
    /// <summary>Findings listed per stream.</summary>
    public const int MaxFindings = 500;

    /// <summary>Writes the report.</summary>
    public static void Write(ReportDocument doc, TextWriter o)
    {
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(o);
        var h = new Html(o);
        o.Write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        o.Write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        o.Write("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">");
        o.Write("<title>");
        h.Text(doc.Title);
        o.Write("</title><style>");
        o.Write(Asset("report.css"));
        o.Write("</style></head><body>\n");
        o.Write("<header><h1>");
        h.Text(doc.Title);
        o.Write("</h1><p class=\"sub\">streambench report · self-contained: no network, open it anywhere</p>");
        Nav(doc, o);
        o.Write("</header><main>\n");
        var data = new Utf8Data();
        data.W.WriteStartObject();
        if (doc.Diff is { } diffFirst)
        {
            DiffSection(h, diffFirst);
        }
        data.W.WriteStartArray("streams");
        for (var i = 0; i < doc.Streams.Count; i++)
        {
            var id = "s" + i.ToString(CultureInfo.InvariantCulture);
            StreamSections(h, doc.Streams[i], id, doc.Streams.Count > 1 ? (i == 0 ? "A: " : "B: ") : "");
            StreamData(data.W, doc.Streams[i], id, null);
        }
        if (doc.Capture is { } cap)
        {
            CaptureSections(h, cap);
            StreamSections(h, cap.Sender, "s0", "");
            StreamData(data.W, cap.Sender, "s0", cap);
            if (cap.Receiver is { } rx)
            {
                StreamSections(h, rx, "s1", "receiver → sender: ");
                StreamData(data.W, rx, "s1", null);
            }
        }
        data.W.WriteEndArray();
        if (doc.Capture is { } c2)
        {
            data.W.WritePropertyName("capture");
            CaptureData(data.W, c2);
        }
        if (doc.Diff is { } diff)
        {
            data.W.WritePropertyName("diff");
            DiffWriter.WriteJson(diff, data.W);
        }
        if (doc.Campaigns.Count > 0)
        {
            CampaignSections(h, doc.Campaigns);
            data.W.WritePropertyName("campaigns");
            CampaignData(data.W, doc.Campaigns);
        }
        data.W.WriteEndObject();
        data.W.Flush();
        o.Write("</main>\n<div id=\"detail\" class=\"detail\" hidden></div><div id=\"js-errors\" hidden></div>\n<script type=\"application/json\" id=\"report-data\">");
        o.Write(Encoding.UTF8.GetString(data.Buffer.WrittenSpan));
        o.Write("</script>\n<script>");
        o.Write(Asset("report.js"));
        o.Write("</script></body></html>\n");
    }

    private sealed class Utf8Data
    {
        public System.Buffers.ArrayBufferWriter<byte> Buffer { get; } = new(1 << 16);
        public Utf8JsonWriter W { get; }

        // The default encoder escapes <, >, & and quotes: the JSON is safe inside a script element.
        public Utf8Data() => W = new Utf8JsonWriter(Buffer);
    }

    private static string Asset(string name)
    {
        using var s = typeof(HtmlReport).Assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException("missing resource " + name);
        using var r = new StreamReader(s, Encoding.UTF8);
        return r.ReadToEnd();
    }

    private static void Nav(ReportDocument doc, TextWriter o)
    {
        var links = new List<(string, string)>();
        if (doc.Diff is not null)
        {
            links.Add(("diff", "Diff"));
        }
        if (doc.Capture is not null)
        {
            links.Add(("capture", "Capture"));
        }
        var streams = doc.Capture is { } c ? (c.Receiver is null ? [c.Sender] : new[] { c.Sender, c.Receiver }) : doc.Streams;
        for (var i = 0; i < streams.Count; i++)
        {
            var id = "s" + i.ToString(CultureInfo.InvariantCulture);
            var label = streams.Count > 1 ? (doc.Capture is null ? (i == 0 ? "A " : "B ") : (i == 0 ? "s2r " : "r2s ")) : "";
            links.Add((id + "-summary", label + "Summary"));
            links.Add((id + "-map", label + "Record map"));
            if (streams[i].Passes.Count > 0)
            {
                links.Add((id + "-passes", label + "Passes"));
            }
            if (streams[i].Checkpoints.Count > 0)
            {
                links.Add((id + "-checkpoints", label + "Checkpoints"));
            }
            if (streams[i].Qevm.Count > 0 || streams[i].EmulatorNotes.Count > 0)
            {
                links.Add((id + "-qevm", label + "Emulator"));
            }
        }
        if (doc.Campaigns.Count > 0)
        {
            links.Add(("fuzz", "Fuzz"));
        }
        o.Write("<nav>");
        foreach (var (id, label) in links)
        {
            o.Write("<a href=\"#" + id + "\">" + WebUtility.HtmlEncode(label) + "</a>");
        }
        o.Write("</nav>");
    }

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static string Hex(long v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    private static string Ms(long ns) => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e6:0.0} ms");

    /// <summary>The stream part of the report in reading order: each section the analysis may or may not have.</summary>
    private static void StreamSections(Html h, StreamAnalysis a, string id, string label)
    {
        SummarySection(h, a, id, label);
        MapSection(h, a, id, label);
        if (a.Passes.Count > 0)
        {
            PassSection(h, a, id, label);
        }
        if (a.Checkpoints.Count > 0)
        {
            CheckpointSection(h, a, id, label);
        }
        if (a.BackChannel.Count > 0)
        {
            BackChannelSection(h, a, id, label);
        }
        if (a.Postcopy is { } pc)
        {
            PostcopySection(h, pc, id, label);
        }
        if (a.Qevm.Count > 0 || a.EmulatorNotes.Count > 0)
        {
            QevmSection(h, a, id, label);
        }
    }

    private static void SummarySection(Html h, StreamAnalysis a, string id, string label)
    {
        var v = a.Verification;
        var s = v.Summary;
        h.Open("section", id + "-summary");
        h.H2(label + "Summary");
        h.P(a.Description, "input");
        if (a.InputNote is not null)
        {
            h.P(a.InputNote, "note");
        }
        var verdict = v.IsValid ? "valid" : "INVALID";
        h.Raw($"<div class=\"verdict {(v.IsValid ? "ok" : "bad")}\" data-verdict=\"{verdict}\">{verdict} under the strict profile: {N(v.ErrorCount)} errors, {N(v.WarningCount)} warnings</div>");
        h.Raw("<div class=\"cols\"><div><table class=\"kv\">");
        h.Row("length", N(s.Length) + " bytes (" + Size(s.Length) + ")");
        h.Row("layers", string.Join(" › ", s.Layers.Select(XenStreamReader.LayerName)) + " (format " + s.Format.ToString().ToLowerInvariant() + ", dialect " + (s.Dialect == Formats.Wire.StreamDialect.PostcopyRfc ? "postcopy-rfc" : "upstream") + ")");
        if (s.XlHeader is { } xl)
        {
            h.Row("xl header", $"flags {Hex((long)xl.MandatoryFlags)} ({xl.MandatoryFlags}), config {(s.XlConfigSize?.ToString(CultureInfo.InvariantCulture) ?? "?")} bytes");
        }
        if (s.LibxlVersion is { } lv)
        {
            h.Row("libxl", $"v{lv}, options {s.LibxlOptions}");
        }
        if (s.ImageVersion is { } iv)
        {
            h.Row("libxc", $"v{iv}");
        }
        if (s.GuestType is { } gt)
        {
            h.Row("guest type", gt.ToString());
        }
        if (s.XenVersion is { } xv)
        {
            h.Row("xen version", xv);
        }
        if (a.Vcpus is { } vc)
        {
            h.Row("vCPUs", vc.ToString(CultureInfo.InvariantCulture));
        }
        var first = a.Passes.Count > 0 ? a.Passes[0] : null;
        if (first is not null && first.PfnEntries > 0)
        {
            h.Row("memory", $"{N(first.DataPages)} pages with data in the first pass ({Size(first.DataPages * 4096)}); pfns {Hex((long)first.MinPfn)}..{Hex((long)first.MaxPfn)}");
        }
        h.Raw($"<tr><th>records</th><td data-figure=\"records\">{N(s.Records)}</td></tr>");
        h.Raw($"<tr><th>pages</th><td data-figure=\"pages\">{N(s.DataPages)} with data, {N(s.PfnEntries)} pfn entries in {N(s.PageDataRecords)} PAGE_DATA records{(s.VerifyMode ? " (VERIFY pass present)" : "")}</td></tr>");
        if (s.Checkpointed)
        {
            h.Row("checkpoints", $"{N(s.CheckpointsComplete)} complete" + (s.CheckpointIncomplete ? $", 1 incomplete ({N(s.DiscardedBytes)} bytes discarded at failover)" : ""));
        }
        if (s.MigrateMessages > 0)
        {
            h.Row("xl migrate", $"{s.MigrateMessages} protocol messages");
        }
        h.Row("ending", s.Ending + (s.Truncated ? " (truncated)" : ""));
        if (s.TrailingBytes > 0)
        {
            h.Row("trailing", N(s.TrailingBytes) + " bytes");
        }
        if (a.ReadError is not null)
        {
            h.Row("read error", a.ReadError);
        }
        h.Raw("</table></div><div>");
        CountsAndFindings(h, a, id);
        h.Close("section");
    }

    private static void CountsAndFindings(Html h, StreamAnalysis a, string id)
    {
        var v = a.Verification;
        var s = v.Summary;
        h.Raw("<h3>Records by type</h3><table class=\"grid\" data-table=\"counts\"><thead><tr><th>layer</th><th>type</th><th class=\"n\">records</th><th class=\"n\">body bytes</th></tr></thead><tbody>");
        foreach (var c in s.RecordCounts)
        {
            h.Raw($"<tr><td>{Enc(c.Layer)}</td><td><span class=\"sw\" data-type=\"{Enc(c.Name)}\"></span>{Enc(c.Name)}</td><td class=\"n\">{N(c.Count)}</td><td class=\"n\">{N(c.BodyBytes)}</td></tr>");
        }
        h.Raw("</tbody></table></div></div>");
        h.Raw($"<h3>Findings ({N(v.Findings.Count)}{(v.FindingsDropped > 0 ? $", {N(v.FindingsDropped)} more not kept by the verifier" : "")})</h3>");
        if (v.Findings.Count == 0)
        {
            h.P("No findings: every check of the strict profile passed.", "note");
        }
        else
        {
            h.Raw("<table class=\"grid findings\"><thead><tr><th>severity</th><th>offset</th><th>record</th><th>field</th><th>message</th><th>check</th></tr></thead><tbody>");
            foreach (var f in v.Findings.Take(MaxFindings))
            {
                var rec = f.RecordIndex >= 0
                    ? $"<a href=\"#{id}-map\" data-stream=\"{id}\" data-record=\"{f.RecordIndex}\" data-offset=\"{f.Offset}\">#{f.RecordIndex} {Enc(f.RecordType ?? "")}</a>"
                    : $"<a href=\"#{id}-map\" data-stream=\"{id}\" data-offset=\"{f.Offset}\">{Enc(f.Layer.Name())}</a>";
                h.Raw($"<tr class=\"{f.Severity.ToString().ToLowerInvariant()}\"><td>{f.Severity.ToString().ToLowerInvariant()}</td><td class=\"n\">{f.Offset} ({Hex(f.Offset)})</td><td>{rec}</td><td>{Enc(f.Field ?? "")}</td><td>{Enc(f.Message)}</td><td><code>{Enc(f.CheckId)}</code></td></tr>");
            }
            h.Raw("</tbody></table>");
            if (v.Findings.Count > MaxFindings)
            {
                h.P($"{N(v.Findings.Count - MaxFindings)} more findings: streambench verify lists them all.", "note");
            }
        }
    }

    private static void MapSection(Html h, StreamAnalysis a, string id, string label)
    {
        var s = a.Verification.Summary;
        h.Open("section", id + "-map");
        h.H2(label + "Record map");
        h.P($"The stream from offset 0 to {N(s.Length)}, left to right and row by row; each piece's width follows its size (at least a sliver, so small records stay visible). Consecutive page records of one pass are one piece, odd passes drawn lighter ({N(a.Segments.Count)} pieces for {N(s.Records)} records). Click a piece for its decoded fields and offset.", "note");
        if (a.SegmentsCoarsened)
        {
            h.P("This stream has more records than the map's budget: beyond it, consecutive records of one type are merged too.", "note");
        }
        h.Raw($"<div class=\"legend\" id=\"{id}-legend\"></div><div class=\"map\" id=\"{id}-mapsvg\" data-stream=\"{id}\"></div>");
        h.Close("section");
    }

    private static void BackChannelSection(Html h, StreamAnalysis a, string id, string label)
    {
        h.Open("section", id + "-back");
        h.H2(label + (a.Verification.Summary.Layers.Contains(StreamLayer.BackChannel) ? "Back-channel records" : "Protocol messages"));
        h.Raw("<table class=\"grid\"><thead><tr><th>offset</th><th>time</th><th>type</th><th>fields</th></tr></thead><tbody>");
        foreach (var m in a.BackChannel)
        {
            h.Raw($"<tr><td class=\"n\">{m.Offset}</td><td class=\"n\">{(m.TimeNs >= 0 ? Ms(m.TimeNs) : "")}</td><td>{Enc(m.Type)}</td><td>{Enc(string.Join(" ", m.Fields))}</td></tr>");
        }
        h.Raw("</tbody></table>");
        h.Close("section");
    }

    private static void PostcopySection(Html h, PostcopyStats pc, string id, string label)
    {
        h.Open("section", id + "-postcopy");
        h.H2(label + "Post-copy");
        h.Raw("<table class=\"kv\">");
        h.Row("pages before the transition", N(pc.PrecopyPages));
        h.Raw($"<tr><th>background pages (POSTCOPY_PAGE_DATA)</th><td data-figure=\"background-pages\">{N(pc.BackgroundPages)} in {N(pc.PostcopyRecords)} records</td></tr>");
        h.Raw($"<tr><th>faults (back channel)</th><td data-figure=\"faults\">{N(pc.Faults)} POSTCOPY_FAULT records, {N(pc.FaultPfns)} pfns</td></tr>");
        h.Raw("</table>");
        h.Raw($"<div class=\"plot\" id=\"{id}-postcopyplot\"></div>");
        h.Close("section");
    }

    private static void QevmSection(Html h, StreamAnalysis a, string id, string label)
    {
        h.Open("section", id + "-qevm");
        h.H2(label + "Emulator state (QEMU savevm in EMULATOR_CONTEXT)");
        h.P("Section names, instance and version ids as QEMU wrote them; a section's size runs from its header to its footer (QEMU's format carries no lengths: the footer is found by its 0x7E byte and section id).", "note");
        foreach (var n in a.EmulatorNotes)
        {
            h.P(n, "note");
        }
        if (a.Qevm.Count > 0)
        {
            h.Raw("<table class=\"grid\" data-table=\"qevm\"><thead><tr><th>record</th><th>offset</th><th>section</th><th class=\"n\">id</th><th>name</th><th class=\"n\">instance</th><th class=\"n\">version</th><th class=\"n\">bytes</th></tr></thead><tbody>");
            foreach (var q in a.Qevm)
            {
                h.Raw($"<tr><td>#{q.RecordIndex}</td><td class=\"n\">{q.Offset}</td><td>{Enc(q.SectionType)}</td><td class=\"n\">{q.SectionId}</td><td>{Enc(q.Name)}</td><td class=\"n\">{q.InstanceId}</td><td class=\"n\">{q.VersionId}</td><td class=\"n\">{(q.Size >= 0 ? N(q.Size) : "?")}</td></tr>");
            }
            h.Raw("</tbody></table>");
        }
        h.Close("section");
    }

    private static void PassSection(Html h, StreamAnalysis a, string id, string label)
    {
        h.Open("section", id + "-passes");
        h.H2(label + "Memory passes");
        h.P("A pass is a run of PAGE_DATA records whose pfns ascend (Xen walks the pfns in order each pass, xg_sr_save.c); a VERIFY record, a checkpoint or the post-copy transition starts a new one. In a live migration, pass n+1 sends the pages dirtied during pass n.", "note");
        var live = a.Passes.Where(p => p.Checkpoint == 0 && p.Kind is PassKind.Live).ToList();
        var final = a.Passes.FirstOrDefault(p => p.Checkpoint == 0 && p.Kind == PassKind.Final);
        if (final is not null)
        {
            var reason = live.Count >= 5
                ? $"{live.Count} live passes: the iteration cap of Xen's default policy (SPP_MAX_ITERATIONS = 5)"
                : final.DataPages < 50
                    ? $"after {live.Count} live pass{(live.Count == 1 ? "" : "es")} fewer than SPP_TARGET_DIRTY_COUNT = 50 pages were dirty (the final pass sends {N(final.DataPages)})"
                    : $"after {live.Count} live pass{(live.Count == 1 ? "" : "es")}; the final pass sends {N(final.DataPages)} pages (more than Xen's 50-page target: dirtied while the policy decided, or a policy other than Xen's default)";
            h.Raw($"<p class=\"policy\" data-figure=\"policy\">Where the policy stopped: pass {final.Index} is the final, stop-and-copy pass (offset {N(final.StartOffset)}); {Enc(reason)}. Xen's default (simple_precopy_policy, tools/libs/guest/xg_sr_save.c) stops when fewer than 50 pages are dirty or after 5 iterations.</p>");
        }
        h.Raw($"<div class=\"plot\" id=\"{id}-passplot\"></div>");
        h.Raw("<table class=\"grid\" data-table=\"passes\"><thead><tr><th class=\"n\">pass</th><th>kind</th><th class=\"n\">checkpoint</th><th class=\"n\">records</th><th class=\"n\">pfn entries</th><th class=\"n\">pages</th><th class=\"n\">bytes</th><th>pfns</th><th class=\"n\">offset</th></tr></thead><tbody>");
        foreach (var p in a.Passes)
        {
            h.Raw($"<tr data-pass=\"{p.Index}\"><td class=\"n\">{p.Index}</td><td>{KindName(p.Kind)}</td><td class=\"n\">{p.Checkpoint}</td><td class=\"n\">{N(p.Records)}</td><td class=\"n\">{N(p.PfnEntries)}</td><td class=\"n\" data-pages=\"{p.DataPages}\">{N(p.DataPages)}</td><td class=\"n\">{N(p.Bytes)}</td><td>{(p.PfnEntries > 0 ? Hex((long)p.MinPfn) + ".." + Hex((long)p.MaxPfn) : "-")}</td><td class=\"n\">{N(p.StartOffset)}</td></tr>");
        }
        h.Raw("</tbody></table>");
        h.Close("section");
    }

    internal static string KindName(PassKind k) => k switch
    {
        PassKind.Single => "single (not live)",
        PassKind.Live => "live",
        PassKind.Final => "final (suspended)",
        PassKind.Verify => "verify",
        PassKind.Checkpoint => "checkpoint",
        _ => "post-copy",
    };

    private static void CheckpointSection(Html h, StreamAnalysis a, string id, string label)
    {
        var s = a.Verification.Summary;
        h.Open("section", id + "-checkpoints");
        h.H2(label + "Checkpoints (Remus/COLO)");
        var failover = s.Ending == StreamEnding.Failover || s.CheckpointIncomplete;
        h.P($"{N(s.CheckpointsComplete)} complete checkpoints; checkpoint 0 carries the initial live migration. " +
            (failover ? $"The stream stops without END: failover. The receiver discards the incomplete last checkpoint ({N(s.DiscardedBytes)} bytes) and resumes from the last complete one." : "The stream ends with END."), "note");
        h.Raw($"<div class=\"plot\" id=\"{id}-cptimeline\"></div>");
        h.Raw($"<div class=\"plot\" id=\"{id}-cpplot\"></div>");
        h.Raw("<table class=\"grid\" data-table=\"checkpoints\"><thead><tr><th class=\"n\">checkpoint</th><th class=\"n\">offset</th><th class=\"n\">bytes</th><th class=\"n\">records</th><th class=\"n\">pages</th><th>state</th></tr></thead><tbody>");
        foreach (var c in a.Checkpoints)
        {
            h.Raw($"<tr class=\"{(c.Complete ? "" : "discarded")}\"><td class=\"n\">{c.Index}</td><td class=\"n\">{N(c.StartOffset)}</td><td class=\"n\">{N(c.Bytes)}</td><td class=\"n\">{N(c.Records)}</td><td class=\"n\">{N(c.DataPages)}</td><td>{(c.Complete ? "complete" : "incomplete: discarded at failover")}</td></tr>");
        }
        h.Raw("</tbody></table>");
        h.Close("section");
    }

    private static void CaptureSections(Html h, CaptureAnalysis c)
    {
        h.Open("section", "capture");
        h.H2("Capture");
        h.Raw("<table class=\"kv\">");
        h.Row("file", c.Path);
        h.Row("started", c.Start.ToString("u", CultureInfo.InvariantCulture));
        h.Row("duration", Ms(c.DurationNs));
        foreach (var p in c.Profiles)
        {
            h.Raw($"<tr><th>{p.Direction}</th><td data-figure=\"bytes-{p.Direction}\">{N(p.Bytes)} bytes in {N(p.Chunks)} chunks</td></tr>");
        }
        h.Row("end state", c.EndState);
        h.Raw($"<tr><th>lost bytes</th><td data-figure=\"lost-bytes\">{N(c.LostBytes)}{(c.Problem is null ? "" : " (" + Enc(c.Problem) + ")")}</td></tr>");
        if (c.DowntimeNs is { } d)
        {
            h.Raw($"<tr><th>downtime (estimate)</th><td data-figure=\"downtime\">{Ms(d)}: {Enc(c.DowntimeBasis ?? "")}</td></tr>");
        }
        foreach (var kv in c.Metadata)
        {
            h.Row("meta: " + kv.Key, kv.Value);
        }
        h.Raw("</table>");
        h.Raw("<h3>Arrival profile</h3><p class=\"note\">Throughput of each direction over the capture's time, from the chunks' arrival timestamps; events are marked.</p><div class=\"plot\" id=\"capplot\"></div>");
        h.Raw($"<h3>Events ({c.Events.Count})</h3>");
        if (c.Events.Count > 0)
        {
            h.Raw("<table class=\"grid\"><thead><tr><th class=\"n\">time</th><th>event</th><th>direction</th><th class=\"n\">value</th><th>text</th></tr></thead><tbody>");
            foreach (var e in c.Events)
            {
                h.Raw($"<tr><td class=\"n\">{Ms(e.TimeNs)}</td><td>{Enc(e.Code)}</td><td>{Enc(e.Direction ?? "")}</td><td class=\"n\">{e.Value}</td><td>{Enc(e.Text)}</td></tr>");
            }
            h.Raw("</tbody></table>");
        }
        h.Close("section");
    }

    private static void DiffSection(Html h, SemanticDiffResult d)
    {
        h.Open("section", "diff");
        h.H2("Semantic diff");
        h.Raw($"<div class=\"verdict {(d.Equal ? "ok" : "bad")}\" data-figure=\"differences\" data-count=\"{d.TotalDifferences}\">{(d.Equal ? "equal: every header, record and page is the same" : $"{N(d.TotalDifferences)} differences")}</div>");
        h.P($"A: {d.NameA} ({N(d.ItemsA)} items) · B: {d.NameB} ({N(d.ItemsB)} items). The k-th record of each type in A is compared with the k-th in B, decoded; guest memory is compared by pfn on the final image each stream leaves.", "note");
        foreach (var n in d.Notes)
        {
            h.P(n, "note");
        }
        if (d.ErrorA is not null)
        {
            h.P("A is malformed: " + d.ErrorA, "bad");
        }
        if (d.ErrorB is not null)
        {
            h.P("B is malformed: " + d.ErrorB, "bad");
        }
        if (d.Entries.Count > 0)
        {
            h.Raw("<table class=\"grid\" data-table=\"diff\"><thead><tr><th>where</th><th>kind</th><th>what</th><th>A</th><th>B</th><th>A record</th><th>B record</th></tr></thead><tbody>");
            foreach (var e in d.Entries)
            {
                h.Raw($"<tr><td>{Enc(e.Where)}</td><td>{Enc(e.Kind)}</td><td>{Enc(e.Name)}</td><td class=\"va\">{Enc(e.A ?? "(absent)")}</td><td class=\"vb\">{Enc(e.B ?? "(absent)")}</td>" +
                    $"<td>{(e.RecordA >= 0 ? $"<a href=\"#s0-map\" data-stream=\"s0\" data-record=\"{e.RecordA}\">#{e.RecordA}</a>" : "")}</td><td>{(e.RecordB >= 0 ? $"<a href=\"#s1-map\" data-stream=\"s1\" data-record=\"{e.RecordB}\">#{e.RecordB}</a>" : "")}</td></tr>");
            }
            h.Raw("</tbody></table>");
        }
        h.Raw($"<h3>Guest memory</h3><p data-figure=\"pages-diff\">{N(d.PagesSame)} pages the same, {N(d.PagesDifferent)} differ, {N(d.PagesOnlyA)} only in A, {N(d.PagesOnlyB)} only in B.</p><div class=\"plot\" id=\"diffpages\"></div>");
        if (d.PageRanges.Count > 0)
        {
            h.Raw("<table class=\"grid\"><thead><tr><th>pfns</th><th class=\"n\">pages</th><th>how</th></tr></thead><tbody>");
            foreach (var p in d.PageRanges)
            {
                h.Raw($"<tr><td>{Hex((long)p.First)}..{Hex((long)p.Last)}</td><td class=\"n\">{N((long)p.Count)}</td><td>{p.Kind}</td></tr>");
            }
            h.Raw("</tbody></table>");
            if (d.RangesNotListed > 0)
            {
                h.P($"{N(d.RangesNotListed)} more ranges not listed.", "note");
            }
        }
        h.Raw("<h3>Records by type</h3><table class=\"grid\"><thead><tr><th>layer</th><th>type</th><th class=\"n\">A</th><th class=\"n\">B</th><th class=\"n\">bytes A</th><th class=\"n\">bytes B</th></tr></thead><tbody>");
        foreach (var t in d.Types)
        {
            var cls = t.CountA != t.CountB || t.BytesA != t.BytesB ? " class=\"changed\"" : "";
            h.Raw($"<tr{cls}><td>{Enc(t.Layer)}</td><td>{Enc(t.Name)}</td><td class=\"n\">{N(t.CountA)}</td><td class=\"n\">{N(t.CountB)}</td><td class=\"n\">{N(t.BytesA)}</td><td class=\"n\">{N(t.BytesB)}</td></tr>");
        }
        h.Raw("</tbody></table>");
        h.Close("section");
    }

    private static void CampaignSections(Html h, IReadOnlyList<FuzzCampaign> campaigns)
    {
        h.Open("section", "fuzz");
        h.H2("Fuzz campaigns");
        h.P("Per target: total executions and edges over time (afl-fuzz plot_data of every instance), findings and their triage (triage/summary.tsv, docs/FUZZING.md).", "note");
        var i = 0;
        foreach (var c in campaigns)
        {
            h.Raw($"<h3>{Enc(c.Target)}</h3>");
            if (c.Result is not null)
            {
                h.Raw($"<pre class=\"result\">{Enc(c.Result)}</pre>");
            }
            h.Raw("<table class=\"grid\" data-table=\"instances\"><thead><tr><th>instance</th><th class=\"n\">execs</th><th class=\"n\">execs/s</th><th class=\"n\">corpus</th><th class=\"n\">edges</th><th class=\"n\">crashes</th><th class=\"n\">hangs</th><th>stability</th><th class=\"n\">run time</th></tr></thead><tbody>");
            foreach (var inst in c.Instances)
            {
                string S(string k) => inst.Stats.TryGetValue(k, out var v) ? v : "";
                var last = inst.Points.Count > 0 ? inst.Points[^1] : default;
                var execs = S("execs_done") is { Length: > 0 } e ? e : last.Execs.ToString(CultureInfo.InvariantCulture);
                var edges = S("edges_found") is { Length: > 0 } ed ? ed : last.Edges.ToString(CultureInfo.InvariantCulture);
                h.Raw($"<tr><td>{Enc(inst.Name)}</td><td class=\"n\">{Enc(execs)}</td><td class=\"n\">{Enc(S("execs_per_sec"))}</td><td class=\"n\">{Enc(S("corpus_count") is { Length: > 0 } cc ? cc : S("paths_total"))}</td><td class=\"n\">{Enc(edges)}</td><td class=\"n\">{inst.CrashFiles}</td><td class=\"n\">{inst.HangFiles}</td><td>{Enc(S("stability"))}</td><td class=\"n\">{Enc(S("run_time"))}</td></tr>");
            }
            h.Raw("</tbody></table>");
            h.Raw($"<div class=\"plot\" id=\"fuzz{i}-execs\"></div><div class=\"plot\" id=\"fuzz{i}-edges\"></div>");
            h.Raw($"<h4>Findings and triage ({c.Triage.Count} buckets)</h4>");
            if (c.Triage.Count > 0)
            {
                h.Raw("<table class=\"grid\" data-table=\"triage\"><thead><tr>");
                foreach (var col in c.TriageColumns)
                {
                    h.Raw($"<th>{Enc(col)}</th>");
                }
                h.Raw("</tr></thead><tbody>");
                foreach (var row in c.Triage)
                {
                    h.Raw("<tr>");
                    foreach (var col in c.TriageColumns)
                    {
                        h.Raw($"<td>{Enc(row.Cells.TryGetValue(col, out var v) ? v : "")}</td>");
                    }
                    h.Raw("</tr>");
                }
                h.Raw("</tbody></table>");
            }
            else
            {
                var crashes = c.Instances.Sum(x => x.CrashFiles) + c.Instances.Sum(x => x.HangFiles);
                h.P(crashes == 0 ? "No crashes or hangs." : $"{crashes} crash/hang inputs, not triaged yet: streambench fuzz --triage {c.Path}", "note");
            }
            if (c.Unreproduced.Count > 0)
            {
                h.P($"Unreproduced: {string.Join(", ", c.Unreproduced.Take(20))}", "note");
            }
            i++;
        }
        h.Close("section");
    }

    private static void StreamData(Utf8JsonWriter w, StreamAnalysis a, string id, CaptureAnalysis? capture)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteNumber("length", a.Verification.Summary.Length);
        w.WriteStartArray("segments");
        foreach (var s in a.Segments)
        {
            // Compact: [offset, length, layer, type, firstRecord, lastRecord, count, checkpoint, pass, "k=v\n..."]
            w.WriteStartArray();
            w.WriteNumberValue(s.Offset);
            w.WriteNumberValue(s.Length);
            w.WriteStringValue(s.Layer);
            w.WriteStringValue(s.Type);
            w.WriteNumberValue(s.FirstRecord);
            w.WriteNumberValue(s.LastRecord);
            w.WriteNumberValue(s.Count);
            w.WriteNumberValue(s.Checkpoint);
            w.WriteNumberValue(s.Pass);
            w.WriteStringValue(string.Join("\n", s.Fields.Select(f => f.Name + "=" + f.Value)));
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartArray("findings");
        foreach (var f in a.Verification.Findings.Take(MaxFindings))
        {
            w.WriteStartArray();
            w.WriteNumberValue(f.RecordIndex);
            w.WriteNumberValue(f.Offset);
            w.WriteStringValue(f.Severity.ToString().ToLowerInvariant());
            w.WriteStringValue(f.ToString());
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartArray("passes");
        foreach (var p in a.Passes)
        {
            w.WriteStartObject();
            w.WriteNumber("index", p.Index);
            w.WriteString("kind", KindName(p.Kind));
            w.WriteNumber("checkpoint", p.Checkpoint);
            w.WriteNumber("pages", p.DataPages);
            w.WriteNumber("entries", p.PfnEntries);
            w.WriteNumber("bytes", p.Bytes);
            w.WriteNumber("records", p.Records);
            w.WriteNumber("offset", p.StartOffset);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("checkpoints");
        foreach (var c in a.Checkpoints)
        {
            w.WriteStartObject();
            w.WriteNumber("index", c.Index);
            w.WriteNumber("offset", c.StartOffset);
            w.WriteNumber("bytes", c.Bytes);
            w.WriteNumber("pages", c.DataPages);
            w.WriteNumber("records", c.Records);
            w.WriteBoolean("complete", c.Complete);
            w.WriteNumber("start_ns", c.StartTimeNs);
            w.WriteNumber("end_ns", c.EndTimeNs);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("discarded", a.Verification.Summary.DiscardedBytes);
        w.WriteStartArray("back");
        var back = capture?.Receiver?.BackChannel ?? (a.Verification.Summary.Layers.Contains(StreamLayer.BackChannel) ? a.BackChannel : []);
        foreach (var m in back.Take(2000))
        {
            w.WriteStartArray();
            w.WriteNumberValue(m.Offset);
            w.WriteNumberValue(m.TimeNs);
            w.WriteStringValue(m.Type);
            w.WriteStringValue(string.Join(" ", m.Fields));
            w.WriteEndArray();
        }
        w.WriteEndArray();
        if (a.Postcopy is { } pc)
        {
            w.WriteStartObject("postcopy");
            w.WriteNumber("precopy", pc.PrecopyPages);
            w.WriteNumber("background", pc.BackgroundPages);
            w.WriteNumber("faults", pc.Faults);
            w.WriteStartArray("progress");
            foreach (var (off, cum) in pc.Progress)
            {
                w.WriteStartArray();
                w.WriteNumberValue(off);
                w.WriteNumberValue(cum);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void CaptureData(Utf8JsonWriter w, CaptureAnalysis c)
    {
        w.WriteStartObject();
        w.WriteNumber("duration", c.DurationNs);
        w.WriteNumber("bin", c.BinNs);
        w.WriteStartArray("profiles");
        foreach (var p in c.Profiles)
        {
            w.WriteStartObject();
            w.WriteString("direction", p.Direction);
            w.WriteStartArray("bins");
            foreach (var b in p.Bins)
            {
                w.WriteNumberValue(b);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("events");
        foreach (var e in c.Events)
        {
            w.WriteStartArray();
            w.WriteNumberValue(e.TimeNs);
            w.WriteStringValue(e.Code + (e.Text.Length > 0 ? ": " + e.Text : ""));
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void CampaignData(Utf8JsonWriter w, IReadOnlyList<FuzzCampaign> campaigns)
    {
        w.WriteStartArray();
        foreach (var c in campaigns)
        {
            w.WriteStartObject();
            w.WriteString("target", c.Target);
            w.WriteStartArray("instances");
            foreach (var i in c.Instances)
            {
                w.WriteStartObject();
                w.WriteString("name", i.Name);
                w.WriteStartArray("points");
                foreach (var p in i.Points)
                {
                    w.WriteStartArray();
                    w.WriteNumberValue(p.Seconds);
                    w.WriteNumberValue(p.Execs);
                    w.WriteNumberValue(p.Edges);
                    w.WriteEndArray();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static string Enc(string s) => WebUtility.HtmlEncode(s);

    private sealed class Html(TextWriter o)
    {
        public void Text(string s) => o.Write(WebUtility.HtmlEncode(s));

        public void Raw(string s) => o.Write(s);

        public void Open(string tag, string id) => o.Write($"<{tag} id=\"{id}\">\n");

        public void Close(string tag) => o.Write($"</{tag}>\n");

        public void H2(string s) => o.Write("<h2>" + WebUtility.HtmlEncode(s) + "</h2>\n");

        public void P(string s, string cls) => o.Write($"<p class=\"{cls}\">{WebUtility.HtmlEncode(s)}</p>\n");

        public void Row(string k, string v) => o.Write($"<tr><th>{WebUtility.HtmlEncode(k)}</th><td>{WebUtility.HtmlEncode(v)}</td></tr>\n");
    }
}
