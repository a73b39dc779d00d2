using System.Net;
using System.Net.Sockets;
using StreamBench.Domain;
using StreamBench.Domain.Digest;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Engine.Toolstack;
using StreamBench.Formats;

namespace StreamBench.Engine.Migration;

/// <summary>Options for <see cref="ColoRunner"/>.</summary>
public sealed record ColoOptions
{
    /// <summary>The bidirectional channel: one loopback TCP connection (both directions), or a pair of in-process pipes.</summary>
    public MigrationTransport Transport { get; init; } = MigrationTransport.Tcp;

    /// <summary>Checkpoints the primary takes before it stops (then the secondary takes over).</summary>
    public int Checkpoints { get; init; } = 5;

    /// <summary>The primary's guest workload (null: idle).</summary>
    public WorkloadOptions? PrimaryWorkload { get; init; }

    /// <summary>The secondary's guest workload, run after each resume (null: idle).</summary>
    public WorkloadOptions? SecondaryWorkload { get; init; }

    /// <summary>Workload ticks each side runs between checkpoints.</summary>
    public int TicksBetweenCheckpoints { get; init; } = 1;

    /// <summary>The first checkpoint is a live migration (as <c>xl remus --colo</c> starts).</summary>
    public bool Live { get; init; } = true;

    /// <summary>The main stream's outer layer (libxl or xl; COLO needs the libxl records).</summary>
    public SaveFormat Format { get; init; } = SaveFormat.Xl;

    /// <summary>Fault injection: the primary dies after this many main-stream bytes have been delivered (its channel closes).</summary>
    public long? PrimaryDiesAfterBytes { get; init; }

    /// <summary>Fault injection: the secondary dies after applying this many checkpoints (its channel closes).</summary>
    public int? SecondaryDiesAfterCheckpoints { get; init; }

    /// <summary>Keep a copy of the main stream (primary → secondary) in <see cref="ColoReport.MainStream"/>.</summary>
    public bool RecordMainStream { get; init; }

    /// <summary>Keep a copy of the back channel (secondary → primary) in <see cref="ColoReport.BackChannel"/>.</summary>
    public bool RecordBackChannel { get; init; }

    /// <summary>Bytes in flight per direction (pipe transport).</summary>
    public int PipeCapacity { get; init; } = 1 << 20;
}

/// <summary>What ended a COLO run.</summary>
public enum ColoOutcome
{
    /// <summary>The primary stopped after its checkpoints; the secondary took over (failover).</summary>
    PrimaryStopped,

    /// <summary>The primary died (its channel closed mid-way); the secondary failed over to its last complete checkpoint.</summary>
    PrimaryDied,

    /// <summary>The primary died before the first checkpoint was complete: the secondary has no consistent state.</summary>
    PrimaryDiedBeforeFirstCheckpoint,

    /// <summary>The secondary died; the primary went on alone.</summary>
    SecondaryDied,

    /// <summary>Something failed that is not a failover (a protocol or stream error); see the errors.</summary>
    Error,
}

/// <summary>One checkpoint of a COLO run, from both sides.</summary>
/// <param name="Index">1-based.</param>
/// <param name="PrimaryDigest">The primary's digest at suspend (the state the checkpoint carries).</param>
/// <param name="SecondaryDigest">The secondary's digest right after applying it (null if it never did).</param>
/// <param name="PfnsSent">pfns the primary sent in this checkpoint.</param>
/// <param name="PrimaryDirty">pages the primary's own run dirtied (its CLEAN).</param>
/// <param name="SecondaryDirty">pfns the secondary reported dirty (resent in this checkpoint).</param>
/// <param name="SecondaryOwnWrites">page writes the secondary's own run made after this checkpoint.</param>
public sealed record ColoCheckpointRow(int Index, DomainDigest PrimaryDigest, DomainDigest? SecondaryDigest, long PfnsSent,
    long PrimaryDirty, long SecondaryDirty, long SecondaryOwnWrites)
{
    /// <summary>Both digests known and equal.</summary>
    public bool DigestsEqual => SecondaryDigest is not null && SecondaryDigest == PrimaryDigest;
}

/// <summary>What a COLO run did.</summary>
public sealed class ColoReport
{
    internal ColoReport() { }

    /// <summary>The channel.</summary>
    public MigrationTransport Transport { get; internal set; }

    /// <summary>Each checkpoint the primary completed (with the secondary's digest where it applied it).</summary>
    public IReadOnlyList<ColoCheckpointRow> Checkpoints { get; internal set; } = [];

    /// <summary>Checkpoints the secondary applied (complete ones).</summary>
    public int SecondaryCheckpointsApplied { get; internal set; }

    /// <summary>How the run ended.</summary>
    public ColoOutcome Outcome { get; internal set; }

    /// <summary>Why (the failover reason, or the error).</summary>
    public string Reason { get; internal set; } = "";

    /// <summary>The primary's save, if it returned.</summary>
    public SaveResult? Primary { get; internal set; }

    /// <summary>The secondary's restore, if it returned (its domain is the taken-over guest; the caller owns it).</summary>
    public RestoreResult? Secondary { get; internal set; }

    /// <summary>The primary's exception, if any.</summary>
    public Exception? PrimaryError { get; internal set; }

    /// <summary>The secondary's exception, if any.</summary>
    public Exception? SecondaryError { get; internal set; }

    /// <summary>The secondary's digest when it took over.</summary>
    public DomainDigest? SecondaryFailoverDigest { get; internal set; }

    /// <summary>The state the secondary's own run left after its last resume (what a failover must keep).</summary>
    public DomainDigest? SecondaryOwnStateDigest { get; internal set; }

    /// <summary>The primary's digest at the end (it went on alone, or it stopped).</summary>
    public DomainDigest? PrimaryFinalDigest { get; internal set; }

    /// <summary>Why the primary went on alone, if it did.</summary>
    public string? SecondaryLost { get; internal set; }

    /// <summary>Main-stream bytes delivered to the secondary.</summary>
    public long MainBytes { get; internal set; }

    /// <summary>Back-channel bytes the secondary wrote.</summary>
    public long BackBytes { get; internal set; }

    /// <summary>The main stream, when recorded.</summary>
    public byte[]? MainStream { get; internal set; }

    /// <summary>The back channel, when recorded.</summary>
    public byte[]? BackChannel { get; internal set; }

    /// <summary>Wall time of the run.</summary>
    public TimeSpan Elapsed { get; internal set; }

    /// <summary>Every checkpoint the secondary applied has the primary's digest (and it applied at least one).</summary>
    public bool AllAppliedDigestsEqual => SecondaryCheckpointsApplied > 0
        && Checkpoints.Take(SecondaryCheckpointsApplied).All(c => c.DigestsEqual);

    /// <summary>A failover kept the secondary's own state from its last complete checkpoint (no partial checkpoint applied).</summary>
    public bool FailoverKeptLastCheckpoint => SecondaryFailoverDigest is not null && SecondaryFailoverDigest == SecondaryOwnStateDigest;
}

/// <summary>
/// Runs a COLO pair in-process: the primary (<see cref="SaveEngine"/> with <see cref="ColoPrimary"/>) and the secondary
/// (<see cref="RestoreEngine"/> with <see cref="ColoSecondary"/>), each on its own thread, over one bidirectional
/// channel: the main stream primary → secondary, the back channel secondary → primary. Both guests run their seeded
/// workloads between checkpoints; the report compares the secondary's digest after each checkpoint with the
/// primary's at suspend, and says which side failed over and why.
/// </summary>
public static class ColoRunner
{
    /// <summary>Runs COLO for <paramref name="source"/> (a Ready HVM domain; it keeps running on the primary).</summary>
    public static ColoReport Run(GuestDomain source, ColoOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new ColoOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Checkpoints, 1);
        var report = new ColoReport { Transport = options.Transport };
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        using Channel channel = Channel.Open(options.Transport, options.PipeCapacity);
        MemoryStream? mainCopy = options.RecordMainStream ? new MemoryStream() : null;
        MemoryStream? backCopy = options.RecordBackChannel ? new MemoryStream() : null;
        var mainOut = new CountingStream(channel.PrimarySend, mainCopy, options.PrimaryDiesAfterBytes,
            n => new ColoPrimaryDiedException($"the primary died after {n} main-stream bytes (injected)"));
        var backOut = new CountingStream(channel.SecondarySend, backCopy, null, null);

        using var primary = new ColoPrimary(channel.PrimaryReceive) { TicksBetweenCheckpoints = options.TicksBetweenCheckpoints };
        using var secondary = new ColoSecondary(backOut,
            options.SecondaryWorkload is { } sw ? d => new Workload(d, sw) : null)
        {
            TicksBetweenCheckpoints = options.TicksBetweenCheckpoints,
            DieAfterCheckpoints = options.SecondaryDiesAfterCheckpoints,
        };

        var saveOptions = new SaveOptions
        {
            Live = options.Live,
            Format = options.Format,
            Checkpoints = options.Checkpoints,
            CheckpointEnding = CheckpointEnding.Failover,
            RecordCheckpointDigests = true,
            Colo = primary,
            Workload = options.PrimaryWorkload is { } pw ? new Workload(source, pw) : null,
        };
        saveOptions.Validate();
        var restoreOptions = new RestoreOptions { Config = DomainConfig.FromDomain(source), Colo = secondary };

        var outcome = EnginePair.Run(
            () => SaveEngine.Save(source, mainOut, saveOptions), channel.ClosePrimary, // the primary stopped or died: its ends close
            () => RestoreEngine.Restore(channel.SecondaryReceive, restoreOptions), channel.CloseSecondary);
        (report.Primary, report.PrimaryError, report.Secondary, report.SecondaryError) = outcome;

        report.MainBytes = mainOut.Delivered;
        report.BackBytes = backOut.Delivered;
        report.MainStream = mainCopy?.ToArray();
        report.BackChannel = backCopy?.ToArray();
        report.SecondaryCheckpointsApplied = secondary.Checkpoints.Count;
        report.SecondaryFailoverDigest = secondary.FailoverDigest;
        report.SecondaryOwnStateDigest = secondary.OwnStateDigest;
        report.SecondaryLost = primary.SecondaryLost;
        report.PrimaryFinalDigest = source.Lifecycle == DomainLifecycle.Ready ? source.ComputeDigest() : null;
        var rows = new List<ColoCheckpointRow>();
        for (int i = 0; i < primary.Checkpoints.Count; i++)
        {
            ColoPrimaryCheckpoint p = primary.Checkpoints[i];
            ColoSecondaryCheckpoint? s = i < secondary.Checkpoints.Count ? secondary.Checkpoints[i] : null;
            rows.Add(new ColoCheckpointRow(p.Index, p.Digest, s?.Digest, p.PfnsSent, p.PrimaryDirtyPfns, p.SecondaryDirtyPfns, s?.OwnWrites ?? 0));
        }

        report.Checkpoints = rows;
        Classify(report, secondary);
        report.Elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        return report;
    }

    private static void Classify(ColoReport report, ColoSecondary secondary)
    {
        if (report.SecondaryError is ColoSecondaryDiedException died)
        {
            report.Outcome = report.SecondaryLost is not null ? ColoOutcome.SecondaryDied : ColoOutcome.Error;
            report.Reason = report.SecondaryLost is not null
                ? $"{died.Message}; the primary went on alone: {report.SecondaryLost}"
                : $"{died.Message}; but the primary did not notice ({report.PrimaryError?.Message ?? "no error"})";
            return;
        }

        if (report.PrimaryError is ColoPrimaryDiedException primaryDied)
        {
            if (report.Secondary is { FailedOver: true })
            {
                report.Outcome = ColoOutcome.PrimaryDied;
                report.Reason = $"{primaryDied.Message}; the secondary failed over to checkpoint {report.SecondaryCheckpointsApplied}: {secondary.FailoverReason}";
            }
            else if (report.SecondaryError is StreamFormatException sfe && secondary.Checkpoints.Count == 0)
            {
                report.Outcome = ColoOutcome.PrimaryDiedBeforeFirstCheckpoint;
                report.Reason = $"{primaryDied.Message}; the secondary has no complete checkpoint: {sfe.Message}";
            }
            else
            {
                report.Outcome = ColoOutcome.Error;
                report.Reason = $"{primaryDied.Message}; secondary: {report.SecondaryError?.Message ?? "no failover"}";
            }

            return;
        }

        if (report.PrimaryError is null && report.SecondaryError is null && report.Secondary is { FailedOver: true })
        {
            report.Outcome = report.SecondaryLost is null ? ColoOutcome.PrimaryStopped : ColoOutcome.SecondaryDied;
            report.Reason = report.SecondaryLost ?? $"the primary stopped after {report.Checkpoints.Count} checkpoint(s); the secondary took over: {secondary.FailoverReason}";
            return;
        }

        report.Outcome = ColoOutcome.Error;
        report.Reason = $"primary: {report.PrimaryError?.Message ?? "ok"}; secondary: {report.SecondaryError?.Message ?? "ok"}";
    }

    // The two ends of a bidirectional channel: one TCP connection over 127.0.0.1, or two bounded pipes.
    internal sealed class Channel : IDisposable
    {
        private readonly List<IDisposable> _primary = [];
        private readonly List<IDisposable> _secondary = [];

        public Stream PrimarySend { get; private set; } = Stream.Null;

        public Stream PrimaryReceive { get; private set; } = Stream.Null;

        public Stream SecondarySend { get; private set; } = Stream.Null;

        public Stream SecondaryReceive { get; private set; } = Stream.Null;

        public static Channel Open(MigrationTransport transport, int pipeCapacity)
        {
            var c = new Channel();
            if (transport == MigrationTransport.Pipe)
            {
                var main = new BoundedPipe(pipeCapacity);
                var back = new BoundedPipe(pipeCapacity);
                c.PrimarySend = main.Writer;
                c.SecondaryReceive = main.Reader;
                c.SecondarySend = back.Writer;
                c.PrimaryReceive = back.Reader;
                c._primary.AddRange([main.Writer, back.Reader]);
                c._secondary.AddRange([back.Writer, main.Reader]);
                return c;
            }

            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start(1);
            try
            {
                int port = ((IPEndPoint)listener.LocalEndpoint).Port;
                var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
                Task<TcpClient> accept = listener.AcceptTcpClientAsync();
                client.Connect(IPAddress.Loopback, port);
                TcpClient server = accept.GetAwaiter().GetResult();
                server.NoDelay = true;
                NetworkStream p = client.GetStream();
                NetworkStream s = server.GetStream();
                c.PrimarySend = p;
                c.PrimaryReceive = p;
                c.SecondarySend = s;
                c.SecondaryReceive = s;
                c._primary.AddRange([p, client]);
                c._secondary.AddRange([s, server]);
                return c;
            }
            finally
            {
                listener.Stop();
            }
        }

        public void ClosePrimary() => Close(_primary);

        public void CloseSecondary() => Close(_secondary);

        private static void Close(List<IDisposable> ends)
        {
            lock (ends)
            {
                foreach (IDisposable end in ends)
                {
                    try
                    {
                        if (end is TcpClient tcp)
                        {
                            tcp.Client.Shutdown(SocketShutdown.Both);
                        }

                        end.Dispose();
                    }
                    catch (SocketException)
                    {
                        // the other side is gone already
                    }
                    catch (IOException)
                    {
                        // the other side is gone already
                    }
                    catch (ObjectDisposedException)
                    {
                        // closed already
                    }
                }
            }
        }

        public void Dispose()
        {
            ClosePrimary();
            CloseSecondary();
        }
    }

    // Counts (and optionally copies) what goes through; with a limit, the writer "dies" once it is reached.
    internal sealed class CountingStream(Stream inner, MemoryStream? copy, long? limit, Func<long, Exception>? onLimit) : Stream
    {
        public long Delivered { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int n = buffer.Length;
            bool dies = false;
            if (limit is { } l && Delivered + n >= l)
            {
                n = (int)(l - Delivered);
                dies = true;
            }

            if (n > 0)
            {
                inner.Write(buffer[..n]);
                copy?.Write(buffer[..n]);
                Delivered += n;
            }

            if (dies)
            {
                inner.Flush();
                throw onLimit?.Invoke(Delivered) ?? new IOException($"the link was cut after {Delivered} bytes");
            }
        }
    }
}

/// <summary>The COLO primary died (fault injection): its channel closes.</summary>
public sealed class ColoPrimaryDiedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ColoPrimaryDiedException() : base("the primary died") { }

    /// <summary>Creates the exception with a message.</summary>
    public ColoPrimaryDiedException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ColoPrimaryDiedException(string message, Exception innerException) : base(message, innerException) { }
}
