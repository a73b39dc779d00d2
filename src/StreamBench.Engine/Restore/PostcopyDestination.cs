using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using StreamBench.Domain;
using StreamBench.Domain.Pages;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;

namespace StreamBench.Engine.Restore;

/// <summary>
/// The post-copy destination's side (the RFC dialect, FORMATS.md 9), handed to <see cref="RestoreEngine"/> through
/// <see cref="RestoreOptions.Postcopy"/>: the pfns announced in POSTCOPY_PFNS are populated but absent; the guest
/// resumes at the transition and its vCPU (<see cref="PostcopyGuest"/>) runs between records; a touch of an absent page
/// blocks the vCPU and sends POSTCOPY_FAULT on the back channel (once per pfn); the page's POSTCOPY_PAGE_DATA unblocks
/// it. When the last announced page has arrived the destination sends POSTCOPY_COMPLETE. Simulated time is counted in
/// pages received after the transition: a fault's latency is the number of pages that arrived until its own did.
/// Without a back channel (replaying a recorded stream) nothing is sent and the guest does not run.
/// </summary>
public sealed class PostcopyDestination : IDisposable
{
    private readonly XenStreamWriter? _writer;
    private readonly Func<GuestDomain, PostcopyGuest?>? _guestFactory;
    private PostcopyGuest? _guest;
    private readonly PfnBitmap _announced = new();
    private readonly PfnBitmap _absent = new();
    private readonly PfnBitmap _requested = new();
    private readonly Dictionary<ulong, long> _faultClock = [];
    private readonly List<long> _latencies = [];
    private ulong? _blockedOn;
    private bool _completeSent;

    /// <summary>
    /// Faults go into <paramref name="backChannel"/> (not disposed; null: a replay, nothing is sent); <paramref name="guest"/>
    /// is the vCPU that runs after the transition (null: the guest does not run).
    /// </summary>
    public PostcopyDestination(Stream? backChannel, PostcopyGuest? guest = null)
    {
        _writer = backChannel is null ? null : new XenStreamWriter(backChannel, leaveOpen: true, bufferSize: 1 << 12);
        _guest = guest;
    }

    /// <summary>
    /// As above, with the vCPU made at the transition from the restored domain (e.g. touches among its data pfns:
    /// <c>new PostcopyGuest(domain.DataPfns().ToList(), seed, touches)</c>, what <c>restore --touches</c> does).
    /// </summary>
    public PostcopyDestination(Stream? backChannel, Func<GuestDomain, PostcopyGuest?> guest)
        : this(backChannel, (PostcopyGuest?)null)
    {
        ArgumentNullException.ThrowIfNull(guest);
        _guestFactory = guest;
    }

    /// <summary>vCPU touches run after each record of the post-copy phase (the guest's speed relative to the link).</summary>
    public int TouchesPerRecord { get; init; } = 4;

    /// <summary>pfns announced in POSTCOPY_PFNS.</summary>
    public long Announced => _announced.Count;

    /// <summary>Announced pages that arrived.</summary>
    public long Arrived { get; private set; }

    /// <summary>POSTCOPY_FAULT records sent (one pfn each).</summary>
    public long Faults { get; private set; }

    /// <summary>Touches of a page already requested (in flight): not sent again.</summary>
    public long Refaults { get; private set; }

    /// <summary>Each fault's latency in pages received after it was sent (simulated time).</summary>
    public IReadOnlyList<long> FaultLatencies => _latencies;

    /// <summary>Pages received after the transition (the simulated clock).</summary>
    public long Clock { get; private set; }

    /// <summary>Whether the transition happened (the guest runs here).</summary>
    public bool Transitioned { get; private set; }

    /// <summary>Whether POSTCOPY_COMPLETE was sent.</summary>
    public bool CompleteSent => _completeSent;

    /// <summary>Timestamp of the transition (the guest resumed here).</summary>
    public long TransitionTimestamp { get; private set; }

    /// <summary>The vCPU, if one runs.</summary>
    public PostcopyGuest? Guest => _guest;

    /// <summary>pfns still absent.</summary>
    public long Outstanding => _absent.Count;

    /// <summary>The absent pfns as ranges, e.g. "0x10-0x1f, 0x40" (at most <paramref name="max"/> ranges).</summary>
    public string AbsentRanges(int max = 16) => Ranges(_absent, max);

    internal bool IsAnnounced(ulong pfn) => _announced.Contains(pfn);

    internal bool IsAbsent(ulong pfn) => _absent.Contains(pfn);

    internal bool Announce(ulong pfn)
    {
        if (!_announced.Add(pfn))
        {
            return false;
        }

        _absent.Add(pfn);
        return true;
    }

    // POSTCOPY_TRANSITION (and libxl's TRANSITION_END): the guest resumes here.
    internal void Transition(GuestDomain domain)
    {
        Transitioned = true;
        TransitionTimestamp = Stopwatch.GetTimestamp();
        _guest ??= _guestFactory?.Invoke(domain);
        RunVcpu(domain);
        MaybeComplete();
    }

    internal void PageArrived(ulong pfn)
    {
        _absent.Remove(pfn);
        Arrived++;
        Clock++;
        if (_faultClock.Remove(pfn, out long sent))
        {
            _latencies.Add(Clock - sent);
        }
    }

    // After each POSTCOPY_PAGE_DATA: the vCPU runs (if it is not blocked), then COMPLETE once nothing is absent.
    internal void AfterRecord(GuestDomain domain)
    {
        RunVcpu(domain);
        MaybeComplete();
    }

    // The stream ended with every page here: the vCPU finishes its run.
    internal void Finish(GuestDomain domain)
    {
        if (_guest is not null && _absent.IsEmpty)
        {
            _guest.RunAll(domain);
        }
    }

    private void RunVcpu(GuestDomain domain)
    {
        if (_guest is null || _writer is null)
        {
            return;
        }

        if (_blockedOn is { } waiting && _absent.Contains(waiting))
        {
            return; // still blocked
        }

        _blockedOn = _guest.Run(domain, pfn => !_absent.Contains(pfn), TouchesPerRecord);
        if (_blockedOn is { } pfn)
        {
            if (_requested.Add(pfn))
            {
                SendFault(pfn);
            }
            else
            {
                Refaults++; // in flight already: not a second request
            }
        }
    }

    private void SendFault(ulong pfn)
    {
        Span<byte> body = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(body, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(body[8..], pfn);
        _writer!.WriteRecord((uint)PostcopyRecordType.PostcopyFault, body);
        _writer.Flush();
        Faults++;
        _faultClock[pfn] = Clock;
    }

    private void MaybeComplete()
    {
        if (_writer is null || _completeSent || !Transitioned || !_absent.IsEmpty)
        {
            return;
        }

        _writer.WriteRecord((uint)PostcopyRecordType.PostcopyComplete, default);
        _writer.Flush();
        _completeSent = true;
    }

    internal static string Ranges(PfnBitmap set, int max)
    {
        var text = new StringBuilder();
        int ranges = 0;
        ulong? first = null;
        ulong last = 0;
        foreach (ulong pfn in set.Enumerate())
        {
            if (first is not null && pfn == last + 1)
            {
                last = pfn;
                continue;
            }

            if (first is not null && !Append(text, first.Value, last, ref ranges, max))
            {
                return text.Append(", ...").ToString();
            }

            first = pfn;
            last = pfn;
        }

        if (first is not null)
        {
            Append(text, first.Value, last, ref ranges, max);
        }

        return text.ToString();
    }

    private static bool Append(StringBuilder text, ulong first, ulong last, ref int ranges, int max)
    {
        if (ranges == max)
        {
            return false;
        }

        if (ranges++ > 0)
        {
            text.Append(", ");
        }

        text.Append(first == last
            ? string.Create(CultureInfo.InvariantCulture, $"0x{first:x}")
            : string.Create(CultureInfo.InvariantCulture, $"0x{first:x}-0x{last:x}"));
        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            _writer?.Dispose();
        }
        catch (IOException)
        {
            // the source is gone
        }
        catch (ObjectDisposedException)
        {
            // closed already
        }
    }
}
