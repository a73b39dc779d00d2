using System.CommandLine;
using System.Globalization;
using StreamBench.Capture.Format;
using StreamBench.Capture.Input;
using StreamBench.Capture.Tools;
using StreamBench.Formats.Streams;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench scrub</c>: replaces guest page contents with a deterministic pattern, keeping the structure.</summary>
internal static class ScrubCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "capture or stream file (- for standard input)" };
        var output = new Option<string>("--output", "-o") { Description = "output: a capture for a capture, a stream for a stream (- for stdout)", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "mixed into the pattern" };
        var shared = new Option<bool>("--shared-info") { Description = "also replace the PV SHARED_INFO page" };
        var keep = new Option<bool>("--keep-metadata") { Description = "keep the capture's host and command-line metadata" };
        var dialect = new Option<string>("--dialect") { Description = "upstream or postcopy-rfc", DefaultValueFactory = _ => "upstream" };
        var cmd = new Command("scrub", "Replace guest memory contents with a deterministic pattern (per pfn and seed). Kept: every header, length and "
            + "record boundary, zero pages, PV page tables, the PV start_info page and p2m frames, and (unless --shared-info) SHARED_INFO; "
            + "so the output restores to the input's domain with each replaced page holding its pfn's pattern.")
        {
            input, output, seed, shared, keep, dialect,
        };
        cmd.SetAction(parse =>
        {
            var options = new ScrubOptions
            {
                Seed = parse.GetValue(seed),
                SharedInfo = parse.GetValue(shared),
                KeepMetadata = parse.GetValue(keep),
                Reader = new XenStreamReaderOptions { Dialect = CliNames.Dialects.Parse(parse.GetValue(dialect)) },
            };
            var inPath = parse.GetValue(input)!;
            var outPath = parse.GetValue(output)!;
            string? temp = null;
            try
            {
                ScrubResult result;
                if (CaptureFile.IsCapture(inPath))
                {
                    if (outPath == "-")
                    {
                        Console.Error.WriteLine("streambench scrub: a scrubbed capture must go to a file");
                        return ExitCodes.UsageOrIo;
                    }
                    result = StreamScrubber.ScrubCapture(inPath, outPath, options);
                }
                else
                {
                    bool direct;
                    using (var probe = StreamInputs.Open(inPath))
                    {
                        direct = inPath != "-" && probe.Container == InputContainer.None && !probe.IsLegacy;
                    }
                    if (!direct)
                    {
                        // The scrubber reads its input twice: spool the v3 stream (decompressed, converted from legacy,
                        // or read from standard input) first. StreamInput opens it through the input seam.
                        temp = Path.GetTempFileName();
                        using (var spool = File.Create(temp))
                        using (var v3 = StreamInput.Open(inPath))
                        {
                            try
                            {
                                v3.Stream.CopyTo(spool, 1 << 20);
                                v3.Complete();
                            }
                            catch (Formats.StreamFormatException e)
                            {
                                throw v3.Explain(e);
                            }
                        }
                        inPath = temp;
                    }
                    using var src = new FileStream(inPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
                    using var dst = CliIo.OpenOutput(outPath);
                    result = StreamScrubber.ScrubStream(src, dst, options);
                }
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"streambench scrub: {result.PagesScrubbed} pages replaced, {result.ZeroPagesKept} zero pages kept, {result.PageTablesKept} page-table pages kept, {result.StartInfoPagesKept} start_info pages kept, {result.P2mFramesKept} p2m frames kept, {result.SharedInfoPages} shared_info pages replaced; {result.Bytes} bytes"));
                foreach (var n in result.Notes)
                {
                    Console.Error.WriteLine("streambench scrub: note: " + n);
                }
                return ExitCodes.Ok;
            }
            finally
            {
                if (temp is not null)
                {
                    File.Delete(temp);
                }
            }
        });
        return cmd;
    }
}
