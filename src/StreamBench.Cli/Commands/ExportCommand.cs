using System.CommandLine;
using StreamBench.Capture.Format;
using StreamBench.Capture.Tools;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench export</c>: writes one direction of a capture as a plain stream file (or describes the capture).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("capture") { Description = "capture file" };
        var output = new Option<string?>("--output", "-o") { Description = "output stream file, or - for stdout" };
        var direction = new Option<string>("--direction") { Description = "s2r (default) or r2s", DefaultValueFactory = _ => "s2r" };
        var info = new Option<bool>("--info") { Description = "describe the capture (metadata, directions, index, events, damage) instead" };
        var items = new Option<bool>("--items") { Description = "with --info: list the direction's items (offset, length, layer, record)" };
        var cmd = new Command("export", "Write one direction of a capture as a plain stream file, or describe the capture with --info.")
        {
            input, output, direction, info, items,
        };
        cmd.SetAction(parse =>
        {
            var dir = CliNames.Directions.Parse(parse.GetValue(direction));
            using var capture = CaptureFile.Open(parse.GetValue(input)!);
            if (parse.GetValue(info))
            {
                Console.Out.Write(CaptureSummary.Describe(capture));
                if (parse.GetValue(items))
                {
                    Console.Out.Write(CaptureSummary.Items(capture.IndexFor(dir)));
                }
                return capture.LostBytes > 0 || capture.EndState is CaptureEndState.Corrupt or CaptureEndState.Inconsistent || capture.Inconsistencies.Count > 0
                    ? ExitCodes.InvalidStream : ExitCodes.Ok;
            }
            if (parse.GetValue(output) is not { } path)
            {
                throw new ArgumentException("give -o OUT (or --info)");
            }
            using (var src = capture.OpenDirection(dir))
            using (var dst = CliIo.OpenOutput(path))
            {
                src.CopyTo(dst, 1 << 20);
            }
            if (capture.LostBytes > 0 || capture.EndState != CaptureEndState.Complete)
            {
                Console.Error.WriteLine($"streambench export: warning: capture {capture.EndState}, {capture.LostBytes} bytes lost after the last valid chunk{(capture.Problem is null ? "" : " (" + capture.Problem + ")")}; exported the {capture.LengthOf(dir)} bytes before it");
            }
            if (!capture.HasEnded(dir))
            {
                Console.Error.WriteLine($"streambench export: warning: the recorder did not see the end of {CaptureDirections.Name(dir)}: the stream may be cut short");
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
