using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using StreamBench.Capture.Format;
using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Recording;

/// <summary>What a recorder run ended with.</summary>
public sealed record RecorderResult(RecordingSummary Summary, int ExitCode, bool Interrupted);

/// <summary>
/// The recorder's modes (docs/CAPTURE.md, "Recording"): a stream (file or pipe), a command's standard output, the
/// <c>xl migrate</c> pipe transport (sender's bytes on our stdin go to the child, the child's stdout comes back on
/// ours), and a TCP proxy. Every mode keeps both directions byte for byte and forwards them unchanged.
/// </summary>
public static class Recorder
{
    /// <summary>How long to wait for the s2r side to end once the other side is done.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);

    /// <summary>Records <paramref name="source"/> as s2r, copying it to <paramref name="passthrough"/> when given.</summary>
    public static RecorderResult RecordStream(CaptureWriter writer, CaptureMetadata metadata, RecordingOptions options,
        Stream source, Stream? passthrough, CancellationToken cancel, Func<int>? signal = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        using var session = new RecordingSession(writer, metadata, options);
        PipeTuning.Enlarge(source);
        var pump = session.StartPump(CaptureDirection.SenderToReceiver, source, passthrough);
        var interrupted = !WaitOrCancel(() => pump.Join(100), cancel);
        return Finish(session, interrupted, signal, 0);
    }

    /// <summary>
    /// Runs a command. In transport mode our standard input is forwarded to the command's (s2r) and its standard output
    /// to ours (r2s); otherwise its standard output is recorded as s2r (and copied to <paramref name="ourOutput"/> when
    /// <paramref name="passthrough"/>). The exit code is the command's.
    /// </summary>
    public static RecorderResult RecordCommand(CaptureWriter writer, CaptureMetadata metadata, RecordingOptions options,
        IReadOnlyList<string> command, bool transport, bool passthrough, Stream ourInput, Stream ourOutput, CancellationToken cancel,
        Func<int>? signal = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(ourInput);
        ArgumentNullException.ThrowIfNull(ourOutput);
        if (command.Count == 0)
        {
            throw new ArgumentException("no command to run");
        }
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = transport,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (var a in command.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }
        using var session = new RecordingSession(writer, metadata, options);
        using var child = Process.Start(psi) ?? throw new IOException($"could not start '{command[0]}'");
        var childOut = child.StandardOutput.BaseStream;
        PipeTuning.Enlarge(childOut);
        PipeTuning.Enlarge(0);
        PipeTuning.Enlarge(1);
        Thread outPump;
        if (transport)
        {
            var childIn = child.StandardInput.BaseStream;
            PipeTuning.Enlarge(childIn);
            session.StartPump(CaptureDirection.SenderToReceiver, ourInput, childIn, sourceEnded: () => CloseQuietly(childIn));
            outPump = session.StartPump(CaptureDirection.ReceiverToSender, childOut, ourOutput);
        }
        else
        {
            outPump = session.StartPump(CaptureDirection.SenderToReceiver, childOut, passthrough ? ourOutput : null);
        }
        var interrupted = !WaitOrCancel(() => child.WaitForExit(100), cancel);
        var code = 0;
        if (!interrupted)
        {
            child.WaitForExit();
            code = child.ExitCode;
            // Its stdout ends with it (unless a grandchild holds it open).
            outPump.Join(Grace);
            session.AddEvent(CaptureEventCode.ChildExited, null, code, string.Join(' ', command));
            session.WaitForPumps(Grace);
        }
        return Finish(session, interrupted, signal, code);
    }

    /// <summary>
    /// A transparent TCP proxy for one connection: accepts on <paramref name="listen"/>, connects to
    /// <paramref name="connect"/>, records client → server as s2r and server → client as r2s. Half-closes are passed on.
    /// </summary>
    public static RecorderResult RecordTcpProxy(CaptureWriter writer, CaptureMetadata metadata, RecordingOptions options,
        string listen, string connect, Action<int>? listening, CancellationToken cancel, Func<int>? signal = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var listener = new TcpListener(Endpoints.Resolve(listen));
        listener.Start(1);
        try
        {
            listening?.Invoke(((System.Net.IPEndPoint)listener.LocalEndpoint).Port);
            var acceptTask = listener.AcceptSocketAsync(cancel).AsTask();
            try
            {
                acceptTask.Wait(cancel);
            }
            catch (OperationCanceledException)
            {
                using var empty = new RecordingSession(writer, metadata, options);
                return Finish(empty, true, signal, 0);
            }
            using var client = acceptTask.Result;
            using var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
            Endpoints.Tune(client);
            Endpoints.Tune(server);
            server.Connect(Endpoints.Resolve(connect));
            using var clientStream = new NetworkStream(client, ownsSocket: false);
            using var serverStream = new NetworkStream(server, ownsSocket: false);
            using var session = new RecordingSession(writer, metadata, options);
            var up = session.StartPump(CaptureDirection.SenderToReceiver, clientStream, serverStream,
                sourceEnded: () => ShutdownQuietly(server), sinkFailed: () => ShutdownQuietly(client, SocketShutdown.Receive));
            var down = session.StartPump(CaptureDirection.ReceiverToSender, serverStream, clientStream,
                sourceEnded: () => ShutdownQuietly(client), sinkFailed: () => ShutdownQuietly(server, SocketShutdown.Receive));
            var interrupted = !WaitOrCancel(() => up.Join(100) && down.Join(100), cancel);
            return Finish(session, interrupted, signal, 0);
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>SIGINT's number, the signal assumed when the caller does not say which one stopped the recording.</summary>
    public const int SigInt = 2;

    private static RecorderResult Finish(RecordingSession session, bool interrupted, Func<int>? signal, int code)
    {
        if (interrupted)
        {
            var number = signal?.Invoke() ?? SigInt;
            session.AddEvent(CaptureEventCode.Signal, null, number, "interrupted");
            session.MarkIncomplete(string.Create(CultureInfo.InvariantCulture, $"stopped by signal {number}"));
            code = 128 + number; // as a shell reports a process killed by that signal
        }
        return new RecorderResult(session.Complete(), code, interrupted);
    }

    /// <summary>Polls <paramref name="done"/> until it is true (returns true) or <paramref name="cancel"/> fires (returns false).</summary>
    private static bool WaitOrCancel(Func<bool> done, CancellationToken cancel)
    {
        while (!done())
        {
            if (cancel.IsCancellationRequested)
            {
                return false;
            }
        }
        return true;
    }

    private static void CloseQuietly(Stream s)
    {
        try
        {
            s.Dispose();
        }
        catch (IOException)
        {
            // The child already closed its end.
        }
    }

    private static void ShutdownQuietly(Socket s, SocketShutdown how = SocketShutdown.Send)
    {
        try
        {
            s.Shutdown(how);
        }
        catch (SocketException)
        {
            // Already gone.
        }
        catch (ObjectDisposedException)
        {
            // Same.
        }
    }

    /// <summary>
    /// "streambench " and the informational version that <c>streambench --version</c> prints (every src assembly has the
    /// version of src/Directory.Build.props, and the same commit suffix).
    /// </summary>
    public static string ToolName { get; } = "streambench " + (typeof(Recorder).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "0");

    /// <summary>The metadata every recording starts with.</summary>
    public static CaptureMetadata StartMetadata(string source, string mode, string? xenVersion, IEnumerable<string> commandLine, IEnumerable<string>? child)
    {
        var m = new CaptureMetadata
        {
            [CaptureMetadata.Source] = source,
            [CaptureMetadata.Mode] = mode,
            [CaptureMetadata.CommandLine] = string.Join(' ', commandLine),
            [CaptureMetadata.Host] = Environment.MachineName,
            [CaptureMetadata.StartTime] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            [CaptureMetadata.Tool] = ToolName,
        };
        if (xenVersion is not null)
        {
            m[CaptureMetadata.XenVersion] = xenVersion;
        }
        if (child is not null)
        {
            m[CaptureMetadata.RecordedCommand] = string.Join(' ', child);
        }
        return m;
    }
}
