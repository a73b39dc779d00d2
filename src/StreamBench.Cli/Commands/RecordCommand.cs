using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using StreamBench.Capture.Format;
using StreamBench.Capture.Recording;
using StreamBench.Formats.Streams;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench record</c>: records a stream or a migration session (both directions) into a capture.</summary>
internal static class RecordCommand
{
    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "The command's options and its action: each branch of the action is one usage rule of the recording modes (stream, command, transport, TCP proxy).")]
    public static Command Create()
    {
        var output = new Option<string>("--output", "-o") { Description = "capture file to write", Required = true };
        var input = new Option<string?>("--input", "-i") { Description = "record a stream file, or - for standard input (the default without a command)" };
        var transport = new Option<bool>("--transport") { Description = "xl migrate pipe transport: stdin goes to the command's stdin (s2r), its stdout to ours (r2s)" };
        var listen = new Option<string?>("--listen") { Description = "TCP proxy: accept one connection on HOST:PORT (client → server is s2r)" };
        var connect = new Option<string?>("--connect") { Description = "TCP proxy: forward it to HOST:PORT" };
        var passthrough = new Option<bool>("--passthrough") { Description = "also copy the recorded s2r bytes to standard output (stream and command modes)" };
        var source = new Option<string?>("--source") { Description = "describe the source in the metadata (default: the mode and its arguments)" };
        var xen = new Option<string?>("--xen-version") { Description = "Xen version to note in the metadata (the stream's own domain header is noted too)" };
        var noIndex = new Option<bool>("--no-index") { Description = "do not index record boundaries while recording" };
        var dialect = new Option<string>("--dialect") { Description = "upstream or postcopy-rfc (for the index)", DefaultValueFactory = _ => "upstream" };
        var back = new Option<string>("--r2s-format") { Description = "auto, migrate or back-channel (for the r2s index)", DefaultValueFactory = _ => "auto" };
        var fsync = new Option<int>("--fsync-interval") { Description = "fsync the capture at most every N ms (0: never; not needed for kill -9 safety)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no summary on standard error" };
        var command = new Argument<string[]>("command") { Description = "after --: the command to run", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("record", "Record a stream or a migration session (both directions) into a capture file.")
        {
            output, input, transport, listen, connect, passthrough, source, xen, noIndex, dialect, back, fsync, quiet, command,
        };
        cmd.SetAction(parse =>
        {
            var child = parse.GetValue(command) ?? [];
            var path = parse.GetValue(output)!;
            var listenAt = parse.GetValue(listen);
            var connectTo = parse.GetValue(connect);
            var isTransport = parse.GetValue(transport);
            var inputPath = parse.GetValue(input);
            if ((listenAt is null) != (connectTo is null))
            {
                throw new ArgumentException("--listen and --connect go together");
            }
            if (listenAt is not null && (child.Length > 0 || inputPath is not null || isTransport))
            {
                throw new ArgumentException("the TCP proxy takes no command and no --input");
            }
            if (isTransport && child.Length == 0)
            {
                throw new ArgumentException("--transport needs a command after --");
            }
            if (child.Length > 0 && inputPath is not null)
            {
                throw new ArgumentException("give either --input or a command, not both");
            }
            var options = new RecordingOptions
            {
                Index = !parse.GetValue(noIndex),
                SenderReader = new XenStreamReaderOptions { Dialect = CliNames.Dialects.Parse(parse.GetValue(dialect)) },
                ReceiverReader = CliNames.ReceiverIndexes.Parse(parse.GetValue(back)) switch
                {
                    ReceiverIndex.Migrate => new XenStreamReaderOptions { Format = OuterFormat.MigrateReceiver },
                    ReceiverIndex.BackChannel => new XenStreamReaderOptions { Format = OuterFormat.BackChannel, Dialect = CliNames.Dialects.Parse(parse.GetValue(dialect)) },
                    _ => null,
                },
                SyncInterval = parse.GetValue(fsync) > 0 ? TimeSpan.FromMilliseconds(parse.GetValue(fsync)) : null,
            };
            var (mode, described) = listenAt is not null ? ("tcp-proxy", $"tcp {listenAt} -> {connectTo}")
                : isTransport ? ("transport", "xl migrate transport: " + string.Join(' ', child))
                : child.Length > 0 ? ("command", "stdout of: " + string.Join(' ', child))
                : inputPath is null or "-" ? ("stream", "standard input") : ("stream", "file " + inputPath);
            var metadata = Recorder.StartMetadata(parse.GetValue(source) ?? described, mode, parse.GetValue(xen),
                Environment.GetCommandLineArgs(), child.Length > 0 ? child : null);

            using var cancel = new CancellationTokenSource();
            var signalNumber = Recorder.SigInt;
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
            void Interrupt(PosixSignalContext context)
            {
                context.Cancel = true;
                // PosixSignal values are negative placeholders: the real numbers are Linux's (SIGINT 2, SIGTERM 15).
                signalNumber = context.Signal == PosixSignal.SIGTERM ? SigTerm : Recorder.SigInt;
                cancel.Cancel();
            }
            int Signal() => signalNumber;

            CaptureWriter writer;
            try
            {
                writer = CaptureWriter.Create(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"streambench record: cannot create {path}: {e.Message}");
                return ExitCodes.UsageOrIo;
            }
            using (writer)
            {
                RecorderResult result;
                try
                {
                    if (listenAt is not null)
                    {
                        result = Recorder.RecordTcpProxy(writer, metadata, options, listenAt, connectTo!,
                            port => Console.Error.WriteLine($"streambench record: listening on port {port}"), cancel.Token, Signal);
                    }
                    else if (child.Length > 0)
                    {
                        // Only the transport needs our stdin: a plain command may run with it closed.
                        using var stdin = isTransport || !StandardInput.IsClosed() ? StandardInput.Open() : Stream.Null;
                        using var stdout = Console.OpenStandardOutput();
                        result = Recorder.RecordCommand(writer, metadata, options, child, isTransport, parse.GetValue(passthrough), stdin, stdout, cancel.Token, Signal);
                    }
                    else
                    {
                        using var src = inputPath is null or "-" ? StandardInput.Open()
                            : new FileStream(inputPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
                        using var stdout = parse.GetValue(passthrough) ? Console.OpenStandardOutput() : null;
                        result = Recorder.RecordStream(writer, metadata, options, src, stdout, cancel.Token, Signal);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception
                    or System.Net.Sockets.SocketException or ArgumentException)
                {
                    Console.Error.WriteLine($"streambench record: {e.Message}");
                    return ExitCodes.UsageOrIo;
                }
                var s = result.Summary;
                if (!parse.GetValue(quiet))
                {
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"streambench record: {path}: s2r {s.SenderBytes} bytes, r2s {s.ReceiverBytes} bytes, {s.Chunks} chunks ({s.CaptureBytes} bytes), index {s.SenderIndexEntries}+{s.ReceiverIndexEntries} items{(result.Interrupted ? ", interrupted" : "")}"));
                }
                foreach (var w in s.Warnings)
                {
                    Console.Error.WriteLine("streambench record: warning: " + w);
                }
                if (!s.IsComplete)
                {
                    // Forwarding went on (a migration must not fail because its recorder did), but the capture lacks data.
                    Console.Error.WriteLine($"streambench record: {path}: capture INCOMPLETE: {string.Join("; ", s.Incomplete)}");
                    return result.ExitCode != 0 ? result.ExitCode : ExitCodes.UsageOrIo;
                }
                return result.ExitCode;
            }
        });
        return cmd;
    }

    /// <summary>SIGTERM's number on Linux.</summary>
    private const int SigTerm = 15;
}
