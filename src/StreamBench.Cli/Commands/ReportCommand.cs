using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using StreamBench.Capture.Format;
using StreamBench.Report;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench report</c>: one self-contained HTML file for a stream, a capture, two streams (with their diff) or a fuzz campaign.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("inputs") { Description = "a stream (any layer, legacy, .zst, - for stdin), a capture, a fuzz campaign folder, or two streams to compare", Arity = new ArgumentArity(1, 2) };
        var output = new Option<string>("--output", "-o") { Description = "the HTML file to write (- for stdout)", DefaultValueFactory = _ => "report.html" };
        var format = new Option<string>("--format", "-f") { Description = "outer layer: auto, xl, libxl, libxc, legacy, back-channel, migrate-receiver", DefaultValueFactory = _ => "auto" };
        var dialect = new Option<string>("--dialect") { Description = "upstream or postcopy-rfc", DefaultValueFactory = _ => "upstream" };
        var colo = new Option<bool>("--colo") { Description = "a COLO primary stream (CHECKPOINT_STATE after each CHECKPOINT_END)" };
        var title = new Option<string?>("--title") { Description = "the page's title" };
        var cmd = new Command("report", "Write a self-contained HTML report: summary and findings, record map, passes, checkpoints, capture arrival profile, emulator state, a semantic diff of two inputs, or a fuzz campaign's progress.")
        {
            inputs, output, format, dialect, colo, title,
        };
        cmd.SetAction(parse =>
        {
            try
            {
                var options = new ReportOptions
                {
                    Reader = new Formats.Streams.XenStreamReaderOptions
                    {
                        Format = CliNames.Formats.Parse(parse.GetValue(format)),
                        Dialect = CliNames.Dialects.Parse(parse.GetValue(dialect)),
                        Colo = parse.GetValue(colo),
                    },
                    Title = parse.GetValue(title),
                };
                var clock = Stopwatch.StartNew();
                var doc = ReportBuilder.Build(parse.GetValue(inputs)!, options);
                var path = parse.GetValue(output)!;
                long bytes;
                using (var stream = CliIo.OpenOutput(path))
                using (var counter = new CountingStream(stream))
                {
                    using (var writer = new StreamWriter(counter, new UTF8Encoding(false), 1 << 16))
                    {
                        HtmlReport.Write(doc, writer);
                    }
                    bytes = counter.Written;
                }
                if (path != "-")
                {
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"report: wrote {path} ({bytes} bytes) in {clock.Elapsed.TotalSeconds:0.00} s"));
                }
                // The page is written either way (committed here, as exit 1 would discard it); an input the report
                // judged invalid makes the exit code say so.
                CliIo.CommitOutputs();
                var invalid = doc.InvalidStreams;
                foreach (var s in invalid)
                {
                    Console.Error.WriteLine($"report: {s}: INVALID under the strict profile (the report's summary lists the findings)");
                }
                return invalid.Count == 0 ? ExitCodes.Ok : ExitCodes.InvalidStream;
            }
            catch (CaptureFormatException e)
            {
                // a capture the report cannot open is an input error (2), as for diff
                throw new IOException(e.Message, e);
            }
        });
        return cmd;
    }

    /// <summary>Counts bytes on their way to the output.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Written += count;
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Written += buffer.Length;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Flush();
            }
            base.Dispose(disposing);
        }
    }
}
