using System.Globalization;
using System.Text.Json;

namespace StreamBench.Report;

/// <summary>Prints a <see cref="SemanticDiffResult"/> as text (one difference per line) or as one JSON document.</summary>
public static class DiffWriter
{
    /// <summary>The text form <c>streambench diff</c> prints.</summary>
    public static void WriteText(SemanticDiffResult r, TextWriter o)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(o);
        void Line(FormattableString s) => o.WriteLine(s.ToString(CultureInfo.InvariantCulture));
        Line($"A: {r.NameA} ({r.ItemsA} items)");
        Line($"B: {r.NameB} ({r.ItemsB} items)");
        if (r.Equal)
        {
            Line($"equal: every header, record and page is the same");
        }
        else
        {
            Line($"{r.TotalDifferences} differences ({r.Entries.Count} decoded below; {r.PagesDifferent} pages differ, {r.PagesOnlyA} only in A, {r.PagesOnlyB} only in B)");
        }
        string? group = null;
        foreach (var e in r.Entries)
        {
            if (e.Where != group)
            {
                group = e.Where;
                Line($"{e.Where}{Where(e)}");
            }
            Line($"  {e.Kind,-14} {e.Name}: {e.A ?? "(absent)"} -> {e.B ?? "(absent)"}");
        }
        Line($"pages: {r.PagesSame} same, {r.PagesDifferent} differ, {r.PagesOnlyA} only in A, {r.PagesOnlyB} only in B");
        foreach (var p in r.PageRanges)
        {
            Line($"  pfn 0x{p.First:x}..0x{p.Last:x} ({p.Count} pages) {p.Kind}");
        }
        if (r.RangesNotListed > 0)
        {
            Line($"  ... {r.RangesNotListed} more ranges");
        }
        Line($"{"layer",-12} {"type",-28} {"count A",10} {"count B",10} {"bytes A",14} {"bytes B",14}");
        foreach (var t in r.Types)
        {
            var mark = t.CountA != t.CountB || t.BytesA != t.BytesB ? " *" : "";
            Line($"{t.Layer,-12} {t.Name,-28} {t.CountA,10} {t.CountB,10} {t.BytesA,14} {t.BytesB,14}{mark}");
        }
        if (r.ErrorA is not null)
        {
            Line($"A is malformed: {r.ErrorA}");
        }
        if (r.ErrorB is not null)
        {
            Line($"B is malformed: {r.ErrorB}");
        }
        foreach (var n in r.Notes)
        {
            Line($"note: {n}");
        }
    }

    private static string Where(DiffEntry e)
    {
        if (e.RecordA < 0 && e.RecordB < 0 && e.OffsetA < 0 && e.OffsetB < 0)
        {
            return "";
        }
        static string Side(long rec, long off) => rec >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"#{rec} @{off}")
            : off >= 0 ? string.Create(CultureInfo.InvariantCulture, $"@{off}") : "-";
        return string.Create(CultureInfo.InvariantCulture, $"  [A {Side(e.RecordA, e.OffsetA)}, B {Side(e.RecordB, e.OffsetB)}]");
    }

    /// <summary>One JSON document.</summary>
    public static void WriteJson(SemanticDiffResult r, Stream output, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(r);
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = indented });
        WriteJson(r, w);
    }

    /// <summary>The JSON object (also embedded in the HTML report).</summary>
    public static void WriteJson(SemanticDiffResult r, Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WriteString("a", r.NameA);
        w.WriteString("b", r.NameB);
        w.WriteBoolean("equal", r.Equal);
        w.WriteNumber("differences", r.TotalDifferences);
        w.WriteNumber("items_a", r.ItemsA);
        w.WriteNumber("items_b", r.ItemsB);
        w.WriteStartArray("entries");
        foreach (var e in r.Entries)
        {
            w.WriteStartObject();
            w.WriteString("kind", e.Kind);
            w.WriteString("where", e.Where);
            w.WriteString("name", e.Name);
            w.WriteString("a", e.A);
            w.WriteString("b", e.B);
            w.WriteNumber("record_a", e.RecordA);
            w.WriteNumber("record_b", e.RecordB);
            w.WriteNumber("offset_a", e.OffsetA);
            w.WriteNumber("offset_b", e.OffsetB);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("pages");
        w.WriteNumber("same", r.PagesSame);
        w.WriteNumber("different", r.PagesDifferent);
        w.WriteNumber("only_a", r.PagesOnlyA);
        w.WriteNumber("only_b", r.PagesOnlyB);
        w.WriteNumber("ranges_not_listed", r.RangesNotListed);
        w.WriteStartArray("ranges");
        foreach (var p in r.PageRanges)
        {
            w.WriteStartObject();
            w.WriteNumber("first", p.First);
            w.WriteNumber("last", p.Last);
            w.WriteNumber("count", p.Count);
            w.WriteString("kind", p.Kind);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartArray("types");
        foreach (var t in r.Types)
        {
            w.WriteStartObject();
            w.WriteString("layer", t.Layer);
            w.WriteString("type", t.Name);
            w.WriteNumber("count_a", t.CountA);
            w.WriteNumber("count_b", t.CountB);
            w.WriteNumber("bytes_a", t.BytesA);
            w.WriteNumber("bytes_b", t.BytesB);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("error_a", r.ErrorA);
        w.WriteString("error_b", r.ErrorB);
        w.WriteStartArray("notes");
        foreach (var n in r.Notes)
        {
            w.WriteStringValue(n);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
