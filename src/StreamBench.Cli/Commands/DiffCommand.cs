using System.CommandLine;
using StreamBench.Capture.Format;
using StreamBench.Report;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench diff</c>: every difference of two streams, decoded; exit 0 when equal, 1 when different.</summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var a = new Argument<string>("a") { Description = "stream file, .zst, capture, or - for standard input" };
        var b = new Argument<string>("b") { Description = "stream file, .zst, capture, or - for standard input" };
        var direction = new Option<string>("--direction") { Description = "capture direction: s2r or r2s", DefaultValueFactory = _ => "s2r" };
        var dialect = new Option<string>("--dialect") { Description = "upstream or postcopy-rfc", DefaultValueFactory = _ => "upstream" };
        var list = new Option<int>("--list-pfns") { Description = "how many differing page ranges to list", DefaultValueFactory = _ => 500 };
        var max = new Option<int>("--max-differences") { Description = "how many decoded differences to list (all are counted)", DefaultValueFactory = _ => 5000 };
        var maxBytes = new Option<long>("--max-bytes") { Description = "read at most this many bytes of each input (endless inputs stop here)", DefaultValueFactory = _ => 64L << 30 };
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout" };
        var cmd = new Command("diff", "Compare two streams by meaning: every differing header field, xl config key, record field, vCPU register, HVM save entry, HVM param, CPUID leaf, MSR, QEVM section and page range. Exit 0 if equal, 1 if not.")
        {
            a, b, direction, dialect, list, max, maxBytes, json,
        };
        cmd.SetAction(parse =>
        {
            try
            {
                var pa = parse.GetValue(a)!;
                var pb = parse.GetValue(b)!;
                if (pa == "-" && pb == "-")
                {
                    throw new ArgumentException("only one input can be standard input");
                }
                var dir = CliNames.Directions.Parse(parse.GetValue(direction));
                using var sa = ReportInputs.OpenForDiff(pa, dir);
                using var sb = ReportInputs.OpenForDiff(pb, dir);
                var options = new SemanticDiffOptions
                {
                    Reader = new Formats.Streams.XenStreamReaderOptions
                    {
                        Dialect = CliNames.Dialects.Parse(parse.GetValue(dialect)),
                        Format = Formats.Streams.OuterFormat.Auto,
                    },
                    MaxRanges = Math.Max(0, parse.GetValue(list)),
                    MaxEntries = Math.Max(0, parse.GetValue(max)),
                    MaxBytes = Math.Max(0, parse.GetValue(maxBytes)),
                };
                var r = SemanticDiff.Compare(sa.Source, sb.Source, sa.Description, sb.Description, options, sa.Format, sb.Format);
                if (parse.GetValue(json))
                {
                    using var stdout = Console.OpenStandardOutput();
                    DiffWriter.WriteJson(r, stdout);
                    stdout.WriteByte((byte)'\n');
                }
                else
                {
                    DiffWriter.WriteText(r, Console.Out);
                }
                return r.Equal ? ExitCodes.Ok : ExitCodes.InvalidStream;
            }
            catch (CaptureFormatException e)
            {
                // diff compares streams: a capture it cannot open is an input error (2), not an invalid stream.
                throw new IOException(e.Message, e);
            }
        });
        return cmd;
    }
}
