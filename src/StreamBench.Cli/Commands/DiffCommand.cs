using System.CommandLine;
using System.Globalization;
using StreamBench.Capture.Format;
using StreamBench.Capture.Tools;
using StreamBench.Formats.Streams;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench diff</c>: compares two streams record by record; exit 0 when equal, 1 when different.</summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var a = new Argument<string>("a") { Description = "capture or stream file" };
        var b = new Argument<string>("b") { Description = "capture or stream file" };
        var direction = new Option<string>("--direction") { Description = "capture direction: s2r or r2s", DefaultValueFactory = _ => "s2r" };
        var dialect = new Option<string>("--dialect") { Description = "upstream or postcopy-rfc", DefaultValueFactory = _ => "upstream" };
        var list = new Option<int>("--list-pfns") { Description = "how many differing pfns to list", DefaultValueFactory = _ => 10 };
        var cmd = new Command("diff", "Compare two streams record by record: first difference, per-type counts, page-level summary. Exit 0 if equal, 1 if not.")
        {
            a, b, direction, dialect, list,
        };
        cmd.SetAction(parse =>
        {
            try
            {
                var dir = CaptureDirections.Parse(parse.GetValue(direction));
                using var sa = StreamInput.Open(parse.GetValue(a)!, dir);
                using var sb = StreamInput.Open(parse.GetValue(b)!, dir);
                var format = dir == CaptureDirection.ReceiverToSender ? sa.Format : OuterFormat.Auto;
                var options = new DiffOptions
                {
                    Reader = new XenStreamReaderOptions { Dialect = CliParsing.ParseDialect(parse.GetValue(dialect)), Format = format },
                    ListPfns = parse.GetValue(list),
                };
                var r = StreamDiff.Compare(sa.Stream, sb.Stream, options);
                sa.Complete();
                sb.Complete();
                Print(r, sa.Description, sb.Description);
                // A malformed stream counts as different, even from an equally malformed one (docs/CAPTURE.md 4.3).
                return r.Equal && r.ErrorA is null && r.ErrorB is null ? ExitCodes.Ok : ExitCodes.InvalidStream;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                Console.Error.WriteLine("streambench diff: " + e.Message);
                return ExitCodes.UsageOrIo;
            }
        });
        return cmd;
    }

    private static void Print(DiffResult r, string a, string b)
    {
        var o = Console.Out;
        void Line(FormattableString s) => o.WriteLine(s.ToString(CultureInfo.InvariantCulture));
        Line($"A: {a} ({r.ItemsA} items)");
        Line($"B: {b} ({r.ItemsB} items)");
        if (r.First is { } f)
        {
            Line($"first difference at item #{f.ItemIndex}: {f.What}");
            Line($"  A: {f.ItemA}");
            Line($"  B: {f.ItemB}");
        }
        else
        {
            Line($"equal: every item is identical");
        }
        Line($"{"layer",-12} {"type",-28} {"count A",10} {"count B",10} {"bytes A",14} {"bytes B",14}");
        foreach (var t in r.Types)
        {
            var mark = t.CountA != t.CountB || t.BytesA != t.BytesB ? " *" : "";
            Line($"{t.Layer,-12} {t.Name,-28} {t.CountA,10} {t.CountB,10} {t.BytesA,14} {t.BytesB,14}{mark}");
        }
        var p = r.Pages;
        Line($"pages: sent {p.PagesSentA} / {p.PagesSentB}; pfns {p.PfnsA} / {p.PfnsB}; final images: {p.Same} same, {p.Different} different, {p.OnlyInA} only in A, {p.OnlyInB} only in B");
        if (p.DifferentPfns.Count > 0)
        {
            Line($"  differing pfns: {string.Join(", ", p.DifferentPfns.Select(x => "0x" + x.ToString("x", CultureInfo.InvariantCulture)))}{(p.Different > p.DifferentPfns.Count ? ", ..." : "")}");
        }
        if (r.ErrorA is not null)
        {
            Line($"A is malformed: {r.ErrorA}");
        }
        if (r.ErrorB is not null)
        {
            Line($"B is malformed: {r.ErrorB}");
        }
    }
}
