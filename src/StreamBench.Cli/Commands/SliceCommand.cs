using System.CommandLine;
using System.Globalization;
using StreamBench.Capture.Format;
using StreamBench.Capture.Replay;
using StreamBench.Capture.Tools;
using StreamBench.Formats.Streams;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench slice</c>: extracts records or checkpoints into a stream that keeps its headers.</summary>
internal static class SliceCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "capture or stream file (- for standard input)" };
        var records = new Option<string?>("--records") { Description = "records A-B (0-based, inclusive; framed records only)" };
        var checkpoints = new Option<string?>("--checkpoints") { Description = "checkpoints A-B (0-based, inclusive; 0 is the first, live pass)" };
        var output = new Option<string>("--output", "-o") { Description = "output stream file, or - for stdout", Required = true };
        var direction = new Option<string>("--direction") { Description = "capture direction: s2r or r2s", DefaultValueFactory = _ => "s2r" };
        var exact = new Option<bool>("--exact") { Description = "keep only headers, layer transitions and the selection" };
        var dialect = new Option<string>("--dialect") { Description = "upstream or postcopy-rfc", DefaultValueFactory = _ => "upstream" };
        var cmd = new Command("slice", "Extract records or checkpoints into a stream that keeps its headers and what makes it parse.")
        {
            input, records, checkpoints, output, direction, exact, dialect,
        };
        cmd.SetAction(parse =>
        {
            var options = new SliceOptions
            {
                Records = parse.GetValue(records) is { } r ? ParseRange(r, "--records") : null,
                Checkpoints = parse.GetValue(checkpoints) is { } c ? ParseRange(c, "--checkpoints") : null,
                Exact = parse.GetValue(exact),
                Reader = new XenStreamReaderOptions { Dialect = CliNames.Dialects.Parse(parse.GetValue(dialect)) },
            };
            using var src = StreamInput.Open(parse.GetValue(input)!, CliNames.Directions.Parse(parse.GetValue(direction)));
            if (src.CaptureWarning is { } w)
            {
                Console.Error.WriteLine("streambench slice: warning: " + w);
            }
            using var dst = CliIo.OpenOutput(parse.GetValue(output)!);
            var result = StreamSlicer.Slice(src.Stream, dst, options);
            src.Complete();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"streambench slice: kept {result.ItemsOut} of {result.ItemsIn} items ({result.SelectedRecords} selected records, {result.ContextRecords} context records), {result.BytesOut} bytes"));
            if (result.StoppedAt is not null)
            {
                Console.Error.WriteLine("streambench slice: the input is malformed, stopped: " + result.StoppedAt);
                return ExitCodes.InvalidStream;
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>"A-B" or "A".</summary>
    internal static (long First, long Last) ParseRange(string text, string option)
    {
        var parts = text.Split('-', 2);
        var first = FaultPlan.ParseNumber(parts[0], option + " start");
        var last = parts.Length > 1 ? FaultPlan.ParseNumber(parts[1], option + " end") : first;
        return last < first ? throw new ArgumentException($"{option} {text}: the end comes before the start") : (first, last);
    }
}
