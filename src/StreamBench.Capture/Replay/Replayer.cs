using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using StreamBench.Formats;
using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Replay;

/// <summary>How fast a replay sends.</summary>
public enum ReplayPace
{
    /// <summary>As fast as the target takes it.</summary>
    Full,
    /// <summary>Each chunk no earlier than it was recorded, relative to the previous one (waits for the peer shift the schedule).</summary>
    Recorded,
}

/// <summary>Replay settings.</summary>
public sealed record ReplayOptions
{
    /// <summary>Pace.</summary>
    public ReplayPace Pace { get; init; } = ReplayPace.Full;

    /// <summary>Sequencing against the peer.</summary>
    public ReplaySequencing Sequencing { get; init; } = ReplaySequencing.Auto;

    /// <summary>How long to wait for the peer at each gate.</summary>
    public TimeSpan PeerTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How long to wait for the target to finish after the last byte.</summary>
    public TimeSpan FinishTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Faults to inject.</summary>
    public FaultPlan Faults { get; init; } = new();

    /// <summary>Largest single write.</summary>
    public int MaxWrite { get; init; } = 1 << 20;
}

/// <summary>What a replay did.</summary>
public sealed record ReplayResult(
    long BytesSent,
    IReadOnlyList<SendStep> Steps,
    ReplayScript Script,
    string? Stopped,
    long PeerBytes,
    long? PeerDivergedAt,
    byte[] PeerReceived,
    byte? MigrateResult,
    ReplayTargetOutcome Target,
    TimeSpan Duration)
{
    /// <summary>Everything was sent, every gate was met and the target finished well.</summary>
    public bool Succeeded => Stopped is null && Target.Succeeded && (MigrateResult is null or 0);
}

/// <summary>
/// Sends one direction of a capture to a target: at full speed or the recorded pace, through a fault plan, and
/// sequenced against what the peer sends (docs/CAPTURE.md, "Replaying").
/// </summary>
public static class Replayer
{
    /// <summary>Runs the replay to the end.</summary>
    [SuppressMessage("Maintainability", "CA1502:Avoid excessive complexity", Justification = "The replay loop: per step, the delay, the sequencing gates, the recorded pace, the corruptions and the cut, in the order a sender meets them; they share the loop's position and gate index.")]
    public static ReplayResult Run(ReplayInput input, IReplayTarget target, ReplayOptions? options = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        options ??= new ReplayOptions();
        var clock = Stopwatch.StartNew();
        var faults = options.Faults;
        var steps = faults.Build(input.Length, faults.NeedsRecords ? input.Index : []);
        var script = target.PeerInput is null ? ReplayScript.None : ReplayScript.Build(input, options.Sequencing);
        using var peer = target.PeerInput is null ? null : new PeerMonitor(target.PeerInput, script.ExpectedPeer);
        var corruptions = faults.Corruptions.OrderBy(c => c.Offset).ToArray();
        var buffer = new byte[options.MaxWrite];
        long sent = 0;
        string? stopped = null;
        var gate = 0;
        var pacedThrough = -1;
        long? lastRecorded = null;
        var due = clock.Elapsed;
        using (var data = input.OpenData())
        {
            foreach (var step in steps)
            {
                if (stopped is not null)
                {
                    break;
                }
                if (step.DelayMs > 0)
                {
                    Sleep(TimeSpan.FromMilliseconds(step.DelayMs), cancel);
                }
                var pos = step.Start;
                while (pos < step.End && stopped is null)
                {
                    cancel.ThrowIfCancellationRequested();
                    // Sequencing: every gate at or before this byte must be met.
                    while (gate < script.Gates.Count && script.Gates[gate].Offset <= pos)
                    {
                        if (peer is not null && !peer.WaitFor(script.Gates[gate].PeerBytes, options.PeerTimeout))
                        {
                            stopped = PeerShort(peer, script.Gates[gate].PeerBytes, pos, options.PeerTimeout);
                            break;
                        }
                        gate++;
                    }
                    if (stopped is not null)
                    {
                        break;
                    }
                    var chunk = ChunkAt(input.Chunks, pos);
                    var c = input.Chunks[chunk];
                    if (options.Pace == ReplayPace.Recorded && chunk > pacedThrough)
                    {
                        pacedThrough = chunk;
                        if (lastRecorded is { } prev)
                        {
                            due += TimeSpan.FromTicks(Math.Max(0, c.Timestamp - prev) / 100);
                            var wait = due - clock.Elapsed;
                            if (wait > TimeSpan.Zero)
                            {
                                Sleep(wait, cancel);
                            }
                            else
                            {
                                due = clock.Elapsed; // Late (the peer kept us): do not rush to catch up.
                            }
                        }
                        lastRecorded = c.Timestamp;
                    }
                    var end = Math.Min(Math.Min(step.End, c.End), pos + buffer.Length);
                    if (gate < script.Gates.Count && script.Gates[gate].Offset > pos)
                    {
                        end = Math.Min(end, script.Gates[gate].Offset);
                    }
                    if (faults.CutAtByte is { } cut)
                    {
                        end = Math.Min(end, pos + (cut - sent));
                    }
                    var n = (int)(end - pos);
                    if (n <= 0)
                    {
                        stopped = faults.CutAtByte is not null && sent >= faults.CutAtByte ? "cut" : null;
                        break;
                    }
                    data.Seek(pos, SeekOrigin.Begin);
                    data.ReadExactly(buffer.AsSpan(0, n));
                    foreach (var (offset, xor) in corruptions)
                    {
                        if (offset >= pos && offset < end)
                        {
                            buffer[offset - pos] ^= xor;
                        }
                    }
                    try
                    {
                        target.Output.Write(buffer, 0, n);
                    }
                    catch (Exception e) when (e is IOException or ObjectDisposedException)
                    {
                        stopped = string.Create(CultureInfo.InvariantCulture, $"the target stopped reading after {sent} bytes: {e.Message}");
                        break;
                    }
                    sent += n;
                    pos = end;
                }
            }
        }
        if (stopped is null && faults.CutAtByte is { } c2 && sent >= c2)
        {
            stopped = "cut";
        }
        try
        {
            target.Output.Flush();
        }
        catch (IOException)
        {
            // Reported below through the target's outcome.
        }
        // Gates after the last byte (the report after the permission) still apply, unless a fault cut the stream.
        var cutByFault = stopped == "cut" || faults.CutAtRecord is not null;
        target.CloseOutput();
        if (stopped is null && !cutByFault && peer is not null && script.FinalPeerBytes > 0 && !peer.WaitFor(script.FinalPeerBytes, options.PeerTimeout))
        {
            stopped = PeerShort(peer, script.FinalPeerBytes, sent, options.PeerTimeout);
        }
        peer?.WaitForEnd(TimeSpan.FromSeconds(10));
        var outcome = target.Finish(options.FinishTimeout);
        var received = peer?.Received ?? [];
        return new ReplayResult(sent, steps, script, stopped == "cut" ? null : stopped, peer?.Count ?? 0, peer?.DivergedAt,
            received, MigrateResultOf(received), outcome, clock.Elapsed);
    }

    private static string PeerShort(PeerMonitor peer, long want, long at, TimeSpan timeout) => peer.Ended
        ? string.Create(CultureInfo.InvariantCulture, $"the peer ended after {peer.Count} bytes; {want} were expected before byte {at} was sent")
        : string.Create(CultureInfo.InvariantCulture, $"the peer sent {peer.Count} of the {want} bytes expected before byte {at} within {timeout.TotalSeconds:0.#} s");

    private static int ChunkAt(IReadOnlyList<ReplayChunk> chunks, long pos)
    {
        int lo = 0, hi = chunks.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (chunks[mid].Position <= pos)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return lo;
    }

    private static void Sleep(TimeSpan wait, CancellationToken cancel)
    {
        if (cancel.WaitHandle.WaitOne(wait))
        {
            cancel.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The result byte of an <c>xl migrate</c> report in the peer's bytes, if there is one.</summary>
    public static byte? MigrateResultOf(byte[] peerBytes)
    {
        ArgumentNullException.ThrowIfNull(peerBytes);
        if (peerBytes.Length == 0)
        {
            return null;
        }
        try
        {
            using var r = XenStreamReader.FromMemory(peerBytes, new XenStreamReaderOptions { Format = OuterFormat.MigrateReceiver });
            while (r.Read())
            {
                if (r.Kind == StreamItemKind.ProtocolMessage && r.Message == MigrateMessage.Report)
                {
                    return r.ReportResult;
                }
            }
        }
        catch (StreamFormatException)
        {
            // Not the migrate protocol.
        }
        return null;
    }
}
