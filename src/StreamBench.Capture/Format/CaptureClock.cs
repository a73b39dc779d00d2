using System.Diagnostics;

namespace StreamBench.Capture.Format;

/// <summary>The recording clock: monotonic nanoseconds since the start, and the wall clock at the start.</summary>
public sealed class CaptureClock
{
    private readonly long _startTicks = Stopwatch.GetTimestamp();

    /// <summary>Starts the clock now.</summary>
    public CaptureClock()
        : this(DateTimeOffset.UtcNow)
    {
    }

    /// <summary>Starts the clock now, stamping <paramref name="wallClockAtStart"/> as its origin.</summary>
    public CaptureClock(DateTimeOffset wallClockAtStart) => StartUnixNanoseconds = (wallClockAtStart.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    /// <summary>The wall clock at the start, nanoseconds since the Unix epoch (UTC).</summary>
    public long StartUnixNanoseconds { get; }

    /// <summary>Nanoseconds since the start.</summary>
    public long Now
    {
        get
        {
            var ticks = Stopwatch.GetTimestamp() - _startTicks;
            return (long)(ticks * (1_000_000_000.0 / Stopwatch.Frequency));
        }
    }
}
