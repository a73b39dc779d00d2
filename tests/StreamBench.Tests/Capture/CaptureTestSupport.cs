using System.Diagnostics;
using System.IO.Pipes;
using System.Reflection;
using StreamBench.Capture.Replay;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;

namespace StreamBench.Tests.Capture;

/// <summary>A directory deleted at the end of a test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sb-capture-" + Guid.NewGuid().ToString("N")[..12]);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still hold a file for a moment.
        }
    }
}

/// <summary>Shared helpers: synthetic sessions, an in-process xl migrate peer, the CLI as a child process, the verifier if present.</summary>
public static class CaptureTestSupport
{
    /// <summary>An xl migrate sender stream: xl header … libxl END, then "domain is yours…".</summary>
    public static byte[] SenderStream(int pages = 200, SyntheticGuest guest = SyntheticGuest.Hvm, ulong seed = 3) =>
        SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.XlMigrateSender, Guest = guest, Pages = pages, BatchSize = 64, Seed = seed });

    /// <summary>The length of the sender stream without its final permission message.</summary>
    public static int StreamPart(byte[] sender) => sender.Length - XlMigrateProtocol.PermissionToGo.Length;

    /// <summary>
    /// Plays an <c>xl migrate</c> receiver on a pair of streams: banner, read the stream, "ready", read the permission,
    /// report 0. Returns what it read. Throws if the permission arrives before "ready" was sent.
    /// </summary>
    public static byte[] RunFakeReceiver(Stream fromSender, Stream toSender, int streamLength, TimeSpan bannerDelay = default)
    {
        if (bannerDelay > TimeSpan.Zero)
        {
            Thread.Sleep(bannerDelay);
        }
        toSender.Write(XlMigrateProtocol.ReceiverBanner);
        toSender.Flush();
        var got = new byte[streamLength + XlMigrateProtocol.PermissionToGo.Length];
        fromSender.ReadExactly(got.AsSpan(0, streamLength));
        toSender.Write(XlMigrateProtocol.ReceiverReady);
        toSender.Flush();
        fromSender.ReadExactly(got.AsSpan(streamLength));
        if (!got.AsSpan(streamLength).SequenceEqual(XlMigrateProtocol.PermissionToGo))
        {
            throw new InvalidDataException("the permission message was not where expected");
        }
        toSender.Write(XlMigrateProtocol.Report);
        toSender.WriteByte(0);
        toSender.Flush();
        return got;
    }

    /// <summary>Plays an <c>xl migrate</c> sender: wait for the banner, send the stream, wait for "ready", send the permission, read the report.</summary>
    public static byte[] RunFakeSender(Stream toReceiver, Stream fromReceiver, byte[] sender)
    {
        var received = new MemoryStream();
        var banner = new byte[XlMigrateProtocol.ReceiverBanner.Length];
        fromReceiver.ReadExactly(banner);
        received.Write(banner);
        var part = StreamPart(sender);
        for (var at = 0; at < part; at += 100_000)
        {
            toReceiver.Write(sender, at, Math.Min(100_000, part - at));
        }
        toReceiver.Flush();
        var ready = new byte[XlMigrateProtocol.ReceiverReady.Length];
        fromReceiver.ReadExactly(ready);
        received.Write(ready);
        toReceiver.Write(sender, part, sender.Length - part);
        toReceiver.Flush();
        toReceiver.Dispose();
        fromReceiver.CopyTo(received);
        return received.ToArray();
    }

    /// <summary>A one-way OS pipe: (write end, read end).</summary>
    public static (Stream Write, Stream Read) Pipe()
    {
        var server = new AnonymousPipeServerStream(PipeDirection.Out);
        var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
        return (server, client);
    }

    /// <summary>The fake receiver as a replay target (the replayer's "engine" seat).</summary>
    public sealed class FakeReceiverEngine(int streamLength, TimeSpan bannerDelay) : IRestoreEngineEndpoint
    {
        public string Description => "fake xl migrate receiver";

        public byte[]? Received { get; private set; }

        public ReplayTargetOutcome Restore(Stream input, Stream backChannel, CancellationToken cancel)
        {
            try
            {
                Received = RunFakeReceiver(input, backChannel, streamLength, bannerDelay);
                return new ReplayTargetOutcome(true, 0, "received");
            }
            catch (Exception e) when (e is IOException or EndOfStreamException or InvalidDataException)
            {
                return new ReplayTargetOutcome(false, null, e.Message);
            }
        }
    }

    /// <summary>The fake sender as a replay target: the replayer plays the receiver against it.</summary>
    public sealed class FakeSenderEngine(byte[] sender) : IRestoreEngineEndpoint
    {
        public string Description => "fake xl migrate sender";

        public byte[]? Received { get; private set; }

        public ReplayTargetOutcome Restore(Stream input, Stream backChannel, CancellationToken cancel)
        {
            try
            {
                Received = RunFakeSender(backChannel, input, sender);
                return new ReplayTargetOutcome(true, 0, "sent");
            }
            catch (Exception e) when (e is IOException or EndOfStreamException)
            {
                return new ReplayTargetOutcome(false, null, e.Message);
            }
        }
    }

    /// <summary>Reads a stream end to end with <see cref="XenStreamReader"/>; returns "layer:type" per item.</summary>
    public static List<string> Items(byte[] bytes, XenStreamReaderOptions? options = null)
    {
        var items = new List<string>();
        using var r = XenStreamReader.FromMemory(bytes, options);
        while (r.Read())
        {
            items.Add(XenStreamReader.LayerName(r.Layer) + ":" + r.RecordTypeName);
        }
        return items;
    }

    /// <summary>Runs StreamBench.Formats.Verification's verifier when the build has it: (present, valid, first error).</summary>
    public static (bool Present, bool Valid, string? FirstError) VerifyIfPresent(byte[] bytes)
    {
        var verifier = typeof(XenStreamReader).Assembly.GetType("StreamBench.Formats.Verification.Verifier");
        var method = verifier?.GetMethod("Verify", BindingFlags.Public | BindingFlags.Static, [typeof(ReadOnlyMemory<byte>), verifier.Assembly.GetType("StreamBench.Formats.Verification.VerifierOptions")!]);
        if (method is null)
        {
            return (false, true, null);
        }
        var result = method.Invoke(null, [new ReadOnlyMemory<byte>(bytes), null])!;
        var valid = (bool)result.GetType().GetProperty("IsValid")!.GetValue(result)!;
        var first = result.GetType().GetProperty("FirstError")!.GetValue(result)?.ToString();
        return (true, valid, first);
    }

    /// <summary>The CLI's entry assembly: the copy beside the tests, or src/StreamBench.Cli/bin/&lt;cfg&gt;/net10.0.</summary>
    public static string CliDll
    {
        get
        {
            var here = Path.Combine(AppContext.BaseDirectory, "streambench.dll");
            if (File.Exists(here) && File.Exists(Path.Combine(AppContext.BaseDirectory, "streambench.runtimeconfig.json")))
            {
                return here;
            }
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "StreamBench.sln")))
            {
                dir = dir.Parent;
            }
            var config = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            return Path.Combine(dir?.FullName ?? ".", "src", "StreamBench.Cli", "bin", config, "net10.0", "streambench.dll");
        }
    }

    /// <summary>Starts the CLI as a child process with redirected standard streams.</summary>
    public static Process StartCli(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi)!;
    }

    /// <summary>Runs the CLI to completion: exit code, stdout bytes, stderr text.</summary>
    public static (int Code, byte[] Stdout, string Stderr) RunCli(byte[]? stdin, params string[] args)
    {
        using var p = StartCli(args);
        var err = p.StandardError.ReadToEndAsync();
        var outBytes = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(outBytes);
        if (stdin is not null)
        {
            try
            {
                p.StandardInput.BaseStream.Write(stdin);
            }
            catch (IOException)
            {
                // The command stopped reading early; its exit code says why.
            }
        }
        p.StandardInput.Close();
        if (!p.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("streambench " + string.Join(' ', args) + " did not finish");
        }
        copy.Wait();
        return (p.ExitCode, outBytes.ToArray(), err.Result);
    }
}
