using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using StreamBench.Capture.Format;
using StreamBench.Capture.Recording;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench record</c>: records a stream or a migration session (both directions) into a capture.</summary>
internal static class RecordCommand
{
    public static Command Create()
    {
        var o = new Options();
        var cmd = new Command("record", "Record a stream or a migration session (both directions) into a capture file.")
        {
            o.Output, o.Input, o.Transport, o.Listen, o.Connect, o.Passthrough, o.Source, o.Xen, o.NoIndex, o.Dialect, o.Back, o.Fsync, o.Quiet, o.Command,
        };
        cmd.SetAction(parse => Run(parse, o));
        return cmd;
    }

    /// <summary>The command's options and arguments.</summary>
    private sealed class Options
    {
        public Option<string> Output { get; } = new("--output", "-o") { Description = "capture file to write", Required = true };
        public Option<string?> Input { get; } = new("--input", "-i") { Description = "record a stream file, or - for standard input (the default without a command)" };
        public Option<bool> Transport { get; } = new("--transport") { Description = "xl migrate pipe transport: stdin goes to the command's stdin (s2r), its stdout to ours (r2s)" };
        public Option<string?> Listen { get; } = new("--listen") { Description = "TCP proxy: accept one connection on HOST:PORT (client → server is s2r)" };
        public Option<string?> Connect { get; } = new("--connect") { Description = "TCP proxy: forward it to HOST:PORT" };
        public Option<bool> Passthrough { get; } = new("--passthrough") { Description = "also copy the recorded s2r bytes to standard output (stream and command modes)" };
        public Option<string?> Source { get; } = new("--source") { Description = "describe the source in the metadata (default: the mode and its arguments)" };
        public Option<string?> Xen { get; } = new("--xen-version") { Description = "Xen version to note in the metadata (the stream's own domain header is noted too)" };
        public Option<bool> NoIndex { get; } = new("--no-index") { Description = "do not index record boundaries while recording" };
        public Option<string> Dialect { get; } = new("--dialect") { Description = "upstream or postcopy-rfc (for the index)", DefaultValueFactory = _ => "upstream" };
        public Option<string> Back { get; } = new("--r2s-format") { Description = "auto, migrate or back-channel (for the r2s index)", DefaultValueFactory = _ => "auto" };
        public Option<int> Fsync { get; } = new("--fsync-interval") { Description = "fsync the capture at most every N ms (0: never; not needed for kill -9 safety)" };
        public Option<bool> Quiet { get; } = new("--quiet", "-q") { Description = "no summary on standard error" };
        public Argument<string[]> Command { get; } = new("command") { Description = "after --: the command to run", Arity = ArgumentArity.ZeroOrMore };
    }

    /// <summary>The usage rules of the recording modes (stream, command, transport, TCP proxy).</summary>
    private static void CheckMode(string[] child, string? listenAt, string? connectTo, bool isTransport, string? inputPath)
    {
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
    }

    private static RecordingOptions Recording(ParseResult parse, Options o)
    {
        StreamDialect dialect = CliNames.Dialects.Parse(parse.GetValue(o.Dialect));
        return new RecordingOptions
        {
            Index = !parse.GetValue(o.NoIndex),
            SenderReader = new XenStreamReaderOptions { Dialect = dialect },
            ReceiverReader = CliNames.ReceiverIndexes.Parse(parse.GetValue(o.Back)) switch
            {
                ReceiverIndex.Migrate => new XenStreamReaderOptions { Format = OuterFormat.MigrateReceiver },
                ReceiverIndex.BackChannel => new XenStreamReaderOptions { Format = OuterFormat.BackChannel, Dialect = dialect },
                _ => null,
            },
            SyncInterval = parse.GetValue(o.Fsync) > 0 ? TimeSpan.FromMilliseconds(parse.GetValue(o.Fsync)) : null,
        };
    }

    private static (string Mode, string Described) Mode(string[] child, string? listenAt, string? connectTo, bool isTransport, string? inputPath) =>
        listenAt is not null ? ("tcp-proxy", $"tcp {listenAt} -> {connectTo}")
        : isTransport ? ("transport", "xl migrate transport: " + string.Join(' ', child))
        : child.Length > 0 ? ("command", "stdout of: " + string.Join(' ', child))
        : inputPath is null or "-" ? ("stream", "standard input") : ("stream", "file " + inputPath);

    private static int Run(ParseResult parse, Options o)
    {
        var child = parse.GetValue(o.Command) ?? [];
        var path = parse.GetValue(o.Output)!;
        var listenAt = parse.GetValue(o.Listen);
        var connectTo = parse.GetValue(o.Connect);
        var isTransport = parse.GetValue(o.Transport);
        var inputPath = parse.GetValue(o.Input);
        CheckMode(child, listenAt, connectTo, isTransport, inputPath);
        var options = Recording(parse, o);
        var (mode, described) = Mode(child, listenAt, connectTo, isTransport, inputPath);
        var metadata = Recorder.StartMetadata(parse.GetValue(o.Source) ?? described, mode, parse.GetValue(o.Xen),
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

        // Refused before the capture is created: a closed standard input must not leave a header-only capture behind.
        var readsStdin = isTransport || (listenAt is null && child.Length == 0 && inputPath is null or "-");
        if (readsStdin && StandardInput.IsClosed())
        {
            Console.Error.WriteLine("streambench record: " + StandardInput.ClosedMessage);
            return ExitCodes.UsageOrIo;
        }

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
                    result = Recorder.RecordCommand(writer, metadata, options, child, isTransport, parse.GetValue(o.Passthrough), stdin, stdout, cancel.Token, Signal);
                }
                else
                {
                    using var src = inputPath is null or "-" ? StandardInput.Open()
                        : new FileStream(inputPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
                    using var stdout = parse.GetValue(o.Passthrough) ? Console.OpenStandardOutput() : null;
                    result = Recorder.RecordStream(writer, metadata, options, src, stdout, cancel.Token, Signal);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception
                or System.Net.Sockets.SocketException or ArgumentException)
            {
                Console.Error.WriteLine($"streambench record: {e.Message}");
                return ExitCodes.UsageOrIo;
            }
            return Summarise(path, result, parse.GetValue(o.Quiet));
        }
    }

    /// <summary>The summary on standard error; the exit code (2 for a capture that lacks data).</summary>
    private static int Summarise(string path, RecorderResult result, bool quiet)
    {
        var s = result.Summary;
        if (!quiet)
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

    /// <summary>SIGTERM's number on Linux.</summary>
    private const int SigTerm = 15;
}
