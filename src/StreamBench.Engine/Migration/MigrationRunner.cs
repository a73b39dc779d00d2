using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StreamBench.Domain;
using StreamBench.Domain.Digest;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats.Verification;

namespace StreamBench.Engine.Migration;

/// <summary>How the stream travels from the saving side to the restoring side.</summary>
public enum MigrationTransport
{
    /// <summary>An in-process pipe with a bounded buffer (<see cref="BoundedPipe"/>), the two ends on two threads.</summary>
    Pipe,

    /// <summary>A TCP connection over the loopback interface (127.0.0.1 only).</summary>
    Tcp,
}

/// <summary>Options for <see cref="MigrationRunner"/>.</summary>
public sealed record MigrationOptions
{
    /// <summary>The channel.</summary>
    public MigrationTransport Transport { get; init; } = MigrationTransport.Pipe;

    /// <summary>The saving side (live by default, as <c>xl migrate</c>).</summary>
    public SaveOptions Save { get; init; } = new() { Live = true };

    /// <summary>The restoring side; its domain is configured like the source unless it says otherwise.</summary>
    public RestoreOptions Restore { get; init; } = new();

    /// <summary>Verify the stream on the fly (the receiver's bytes are teed into <see cref="Verifier"/>).</summary>
    public bool VerifyStream { get; init; } = true;

    /// <summary>The profile for <see cref="VerifyStream"/>.</summary>
    public VerificationProfile VerifyProfile { get; init; } = VerificationProfile.Strict;

    /// <summary>Compute both domains' digests at the end.</summary>
    public bool CompareDigests { get; init; } = true;

    /// <summary>Bytes in flight in the pipe (and the verifier's tee).</summary>
    public int PipeCapacity { get; init; } = 1 << 20;
}

/// <summary>What a migration did and measured.</summary>
public sealed class MigrationReport
{
    internal MigrationReport(MigrationTransport transport, SaveResult save, RestoreResult restore, VerifyResult? verification,
        DomainDigest? source, DomainDigest? target)
    {
        Transport = transport;
        Save = save;
        Restore = restore;
        Verification = verification;
        SourceDigest = source;
        TargetDigest = target;
        Elapsed = Stopwatch.GetElapsedTime(save.StartTimestamp, restore.StreamCompleteTimestamp);
        Downtime = Stopwatch.GetElapsedTime(save.SuspendTimestamp, restore.StreamCompleteTimestamp);
    }

    /// <summary>The channel used.</summary>
    public MigrationTransport Transport { get; }

    /// <summary>The saving side.</summary>
    public SaveResult Save { get; }

    /// <summary>The restoring side; <see cref="RestoreResult.Domain"/> is the migrated domain (the caller owns it).</summary>
    public RestoreResult Restore { get; }

    /// <summary>The on-the-fly verification, if asked for.</summary>
    public VerifyResult? Verification { get; }

    /// <summary>The source's digest after the save (it is suspended: the state the stream carries).</summary>
    public DomainDigest? SourceDigest { get; }

    /// <summary>The restored domain's digest.</summary>
    public DomainDigest? TargetDigest { get; }

    /// <summary>True when both digests were computed and are equal.</summary>
    public bool DigestsEqual => SourceDigest is not null && SourceDigest == TargetDigest;

    /// <summary>Stream bytes sent.</summary>
    public long Bytes => Save.Bytes;

    /// <summary>From the start of the save to the end of the restore's stream_complete.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Bytes per second over <see cref="Elapsed"/>.</summary>
    public double Throughput => Bytes / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>Simulated downtime: from the guest's suspension (start of the final pass) to the end of stream_complete.</summary>
    public TimeSpan Downtime { get; }

    /// <summary>The migrated domain.</summary>
    public GuestDomain Target => Restore.Domain;
}

/// <summary>
/// Migrates a domain in-process, as <c>xl migrate</c> does between two hosts: the save engine on one thread writes
/// into the channel, the restore engine on another reads from it into a fresh domain configured like the source (a
/// PV target draws its frames from another host, so every mfn differs). The receiver's bytes can be verified on the fly
/// on a third thread, with bounded memory.
/// </summary>
public static class MigrationRunner
{
    /// <summary>Migrates <paramref name="source"/> (Ready); returns the report with the new domain.</summary>
    public static MigrationReport Run(GuestDomain source, MigrationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new MigrationOptions();
        RestoreOptions restoreOptions = options.Restore.Target is null && options.Restore.Config is null
            ? options.Restore with { Config = DomainConfig.FromDomain(source) }
            : options.Restore;

        (Stream send, Stream receive, IDisposable channel) = Open(options);
        using (channel)
        {
            BoundedPipe? tee = options.VerifyStream ? new BoundedPipe(options.PipeCapacity) : null;
            Task<VerifyResult>? verify = tee is null
                ? null
                : Task.Factory.StartNew(() =>
                {
                    using Stream reader = tee.Reader;
                    return Verifier.Verify(reader, VerifierOptions.Create(options.VerifyProfile));
                }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            Task<SaveResult> save = Task.Factory.StartNew(() =>
            {
                try
                {
                    return SaveEngine.Save(source, send, options.Save);
                }
                finally
                {
                    send.Dispose(); // end of stream for the receiver
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            RestoreResult restored;
            Stream input = tee is null ? receive : new TeeReadStream(receive, tee.Writer);
            try
            {
                restored = RestoreEngine.Restore(input, restoreOptions);
            }
            catch (Exception restoreError)
            {
                receive.Dispose(); // the sender's next write fails instead of blocking
                tee?.Writer.Dispose();
                try
                {
                    save.GetAwaiter().GetResult();
                }
                catch (Exception saveError) when (restoreError is Formats.StreamFormatException { IsTruncation: true })
                {
                    throw new InvalidOperationException($"the save side failed: {saveError.Message}", saveError);
                }
                catch (IOException)
                {
                    // broken pipe: expected once the receiver gave up
                }

                throw;
            }

            try
            {
                SaveResult saved = save.GetAwaiter().GetResult();
                tee?.Writer.Dispose();
                VerifyResult? verification = verify?.GetAwaiter().GetResult();
                DomainDigest? sourceDigest = options.CompareDigests ? source.ComputeDigest() : null;
                DomainDigest? targetDigest = options.CompareDigests ? restored.Domain.ComputeDigest() : null;
                return new MigrationReport(options.Transport, saved, restored, verification, sourceDigest, targetDigest);
            }
            catch
            {
                restored.Domain.Discard();
                throw;
            }
            finally
            {
                receive.Dispose();
            }
        }
    }

    private static (Stream Send, Stream Receive, IDisposable Channel) Open(MigrationOptions options)
    {
        if (options.Transport == MigrationTransport.Pipe)
        {
            var pipe = new BoundedPipe(options.PipeCapacity);
            return (pipe.Writer, pipe.Reader, new Disposables(pipe.Writer, pipe.Reader));
        }

        // Loopback only: the listener binds 127.0.0.1 on an ephemeral port and takes exactly one connection.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1);
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true, SendBufferSize = 1 << 20 };
            Task<TcpClient> accept = listener.AcceptTcpClientAsync();
            client.Connect(IPAddress.Loopback, port);
            TcpClient server = accept.GetAwaiter().GetResult();
            server.ReceiveBufferSize = 1 << 20;
            NetworkStream send = client.GetStream();
            NetworkStream receive = server.GetStream();
            return (new ShutdownOnDispose(send, client), receive, new Disposables(send, receive, client, server));
        }
        finally
        {
            listener.Stop();
        }
    }

    private sealed class Disposables(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable item in items)
            {
                item.Dispose();
            }
        }
    }

    // The sender's end of a TCP stream: disposing it sends FIN (shutdown) so the receiver sees the end of input.
    private sealed class ShutdownOnDispose(NetworkStream inner, TcpClient client) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                try
                {
                    client.Client.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                    // the receiver is gone already
                }
                catch (ObjectDisposedException)
                {
                    // closed already
                }
            }

            base.Dispose(disposing);
        }
    }
}
