using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;

namespace StreamBench.Capture.Replay;

/// <summary>Before sending the source byte at <see cref="Offset"/>, the peer must have sent <see cref="PeerBytes"/> bytes.</summary>
public readonly record struct ReplayGate(long Offset, long PeerBytes);

/// <summary>How a replay is sequenced against its peer.</summary>
public enum ReplaySequencing
{
    /// <summary>Recorded when the capture holds the peer's direction, else protocol, else none.</summary>
    Auto,
    /// <summary>From the capture's chunk order: what the peer had sent before each chunk was sent.</summary>
    Recorded,
    /// <summary>From the <c>xl migrate</c> protocol: banner before the stream, "ready" before the permission, the report last.</summary>
    Protocol,
    /// <summary>Send everything at once.</summary>
    None,
}

/// <summary>What the peer is expected to send, and when the sender must wait for it.</summary>
public sealed record ReplayScript(ReplaySequencing Mode, byte[] ExpectedPeer, IReadOnlyList<ReplayGate> Gates, long FinalPeerBytes)
{
    /// <summary>No sequencing.</summary>
    public static ReplayScript None { get; } = new(ReplaySequencing.None, [], [], 0);

    /// <summary>Builds the script for <paramref name="input"/> in <paramref name="mode"/>.</summary>
    public static ReplayScript Build(ReplayInput input, ReplaySequencing mode)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (mode == ReplaySequencing.Auto)
        {
            mode = input.PeerChunks is not null ? ReplaySequencing.Recorded : ReplaySequencing.Protocol;
        }
        return mode switch
        {
            ReplaySequencing.Recorded => Recorded(input),
            ReplaySequencing.Protocol => Protocol(input),
            _ => None,
        };
    }

    /// <summary>
    /// Chunk order in the capture is causal: the recorder queues a chunk before forwarding it, so a reply is always
    /// recorded after what it answers. Before each sent chunk, the peer must have sent what it had sent by then.
    /// </summary>
    private static ReplayScript Recorded(ReplayInput input)
    {
        if (input.PeerChunks is not { } peer || input.RecordedPeer is null)
        {
            return Protocol(input);
        }
        var gates = new List<ReplayGate>();
        int p = 0;
        long peerBytes = 0;
        foreach (var c in input.Chunks)
        {
            while (p < peer.Count && peer[p].Sequence < c.Sequence)
            {
                peerBytes = peer[p].End;
                p++;
            }
            if (peerBytes > (gates.Count == 0 ? 0 : gates[^1].PeerBytes))
            {
                gates.Add(new ReplayGate(c.Position, peerBytes));
            }
        }
        return new ReplayScript(ReplaySequencing.Recorded, input.RecordedPeer, gates, input.RecordedPeer.LongLength);
    }

    /// <summary>
    /// An s2r <c>xl migrate</c> stream (xl header … "domain is yours…"): wait for the banner, send the stream, wait for
    /// "domain received, ready to unpause", send the permission, then read the report. Anything else: no sequencing.
    /// </summary>
    private static ReplayScript Protocol(ReplayInput input)
    {
        if (input.Direction != Format.CaptureDirection.SenderToReceiver)
        {
            return None;
        }
        var index = input.Index;
        if (index.Count == 0 || index[0].Kind != StreamItemKind.XlHeader)
        {
            return None;
        }
        var permission = index.FirstOrDefault(e => e.Kind == StreamItemKind.ProtocolMessage && e.RecordType == (uint)MigrateMessage.PermissionToGo);
        if (permission.Length == 0)
        {
            return None;
        }
        var expected = SyntheticStreams.MigrateReceiverSide(withReadyAndReport: true, result: 0);
        var banner = SyntheticStreams.MigrateReceiverSide(withReadyAndReport: false).Length;
        var ready = banner + Formats.Wire.XlMigrateProtocol.ReceiverReady.Length;
        return new ReplayScript(ReplaySequencing.Protocol, expected, [new ReplayGate(0, banner), new ReplayGate(permission.Offset, ready)], expected.Length);
    }
}

/// <summary>Reads what the peer sends on its own thread, compares it with what it sent when recorded, and wakes the sender.</summary>
internal sealed class PeerMonitor : IDisposable
{
    private const int KeepAtMost = 64 << 20;
    private readonly object _gate = new();
    private readonly Stream _input;
    private readonly byte[] _expected;
    private readonly MemoryStream _kept = new();
    private readonly Thread _thread;
    private long _count;
    private bool _ended;

    public PeerMonitor(Stream input, byte[] expected)
    {
        _input = input;
        _expected = expected;
        _thread = new Thread(Run) { IsBackground = true, Name = "replay peer" };
        _thread.Start();
    }

    /// <summary>Offset of the first byte that differs from the expected peer bytes (or where the peer sent more), or null.</summary>
    public long? DivergedAt { get; private set; }

    /// <summary>Why reading stopped, if not at end of input.</summary>
    public string? ReadError { get; private set; }

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    public bool Ended
    {
        get
        {
            lock (_gate)
            {
                return _ended;
            }
        }
    }

    /// <summary>The first 64 MiB the peer sent.</summary>
    public byte[] Received
    {
        get
        {
            lock (_gate)
            {
                return _kept.ToArray();
            }
        }
    }

    /// <summary>Waits until the peer has sent <paramref name="bytes"/> bytes: true, or false when it ended or the time ran out.</summary>
    public bool WaitFor(long bytes, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (_count < bytes && !_ended)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    return false;
                }
                Monitor.Wait(_gate, left);
            }
            return _count >= bytes;
        }
    }

    /// <summary>Waits for the peer's end of output.</summary>
    public bool WaitForEnd(TimeSpan timeout) => _thread.Join(timeout);

    private void Run()
    {
        var buffer = new byte[64 << 10];
        try
        {
            int n;
            while ((n = _input.Read(buffer)) > 0)
            {
                lock (_gate)
                {
                    Compare(buffer.AsSpan(0, n));
                    if (_kept.Length < KeepAtMost)
                    {
                        _kept.Write(buffer, 0, (int)Math.Min(n, KeepAtMost - _kept.Length));
                    }
                    _count += n;
                    Monitor.PulseAll(_gate);
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            ReadError = e.Message;
        }
        finally
        {
            lock (_gate)
            {
                _ended = true;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void Compare(ReadOnlySpan<byte> got)
    {
        if (DivergedAt is not null)
        {
            return;
        }
        for (var i = 0; i < got.Length; i++)
        {
            var at = _count + i;
            if (at >= _expected.Length || _expected[at] != got[i])
            {
                DivergedAt = at;
                return;
            }
        }
    }

    public void Dispose()
    {
        _thread.Join(TimeSpan.FromSeconds(1));
        _kept.Dispose();
    }
}
