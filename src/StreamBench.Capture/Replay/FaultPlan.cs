using System.Globalization;
using StreamBench.Capture.Format;

namespace StreamBench.Capture.Replay;

/// <summary>One step of a replay: send source bytes [Start, End), after waiting <see cref="DelayMs"/>.</summary>
public readonly record struct SendStep(long Start, long End, int DelayMs);

/// <summary>
/// Fault injection for a replay (docs/CAPTURE.md, "Fault injection"). Record numbers count framed records only, from 0,
/// as <c>XenStreamReader.RecordIndex</c> does (headers and protocol messages are not records). Byte offsets are in the
/// source direction, except <see cref="CutAtByte"/>, which counts the bytes the target receives.
/// </summary>
public sealed record FaultPlan
{
    /// <summary>The target receives exactly this many bytes, then end of input.</summary>
    public long? CutAtByte { get; init; }

    /// <summary>Sending stops right before record N (records 0..N-1 and what precedes N are sent).</summary>
    public long? CutAtRecord { get; init; }

    /// <summary>Source bytes XORed with a value (every copy of the byte, when its record is duplicated).</summary>
    public IReadOnlyList<(long Offset, byte Xor)> Corruptions { get; init; } = [];

    /// <summary>Record N is sent after a pause of the given milliseconds.</summary>
    public IReadOnlyDictionary<long, int> Delays { get; init; } = new Dictionary<long, int>();

    /// <summary>Records sent twice in a row.</summary>
    public IReadOnlySet<long> Duplicates { get; init; } = new HashSet<long>();

    /// <summary>Records not sent.</summary>
    public IReadOnlySet<long> Drops { get; init; } = new HashSet<long>();

    /// <summary>Refuses faults that cannot apply to <paramref name="length"/> bytes (a corruption past the end).</summary>
    public void CheckWithin(long length)
    {
        foreach (var (offset, _) in Corruptions)
        {
            if (offset < 0 || offset >= length)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"--corrupt {offset}: the input has {length} bytes (offsets 0 to {length - 1})"));
            }
        }
    }

    /// <summary>Whether no fault is planned.</summary>
    public bool IsEmpty => CutAtByte is null && CutAtRecord is null && Corruptions.Count == 0 && Delays.Count == 0 && Duplicates.Count == 0 && Drops.Count == 0;

    /// <summary>Whether the plan needs record boundaries.</summary>
    public bool NeedsRecords => CutAtRecord is not null || Delays.Count > 0 || Duplicates.Count > 0 || Drops.Count > 0;

    /// <summary>Parses "OFFSET[:XORBYTE]" (decimal or 0x hex; the XOR byte defaults to 0xFF and may not be 0).</summary>
    public static (long Offset, byte Xor) ParseCorruption(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':');
        var offset = ParseNumber(parts[0], "offset");
        var xor = parts.Length > 1 ? ParseNumber(parts[1], "xor byte") : 0xFF;
        if (parts.Length > 2 || xor is < 1 or > 255 || offset < 0)
        {
            throw new ArgumentException($"--corrupt '{text}': use OFFSET[:XORBYTE] with XORBYTE 1..255");
        }
        return (offset, (byte)xor);
    }

    /// <summary>Parses "N:MS".</summary>
    public static (long Record, int Milliseconds) ParseDelay(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(':');
        if (parts.Length != 2)
        {
            throw new ArgumentException($"--delay-record '{text}': use RECORD:MILLISECONDS");
        }
        return (ParseNumber(parts[0], "record"), checked((int)ParseNumber(parts[1], "milliseconds")));
    }

    /// <summary>A decimal or 0x-prefixed hexadecimal number.</summary>
    public static long ParseNumber(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        var ok = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v)
            : long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        return ok ? v : throw new ArgumentException($"'{text}' is not a valid {what}");
    }

    /// <summary>The send steps over a source of <paramref name="length"/> bytes with the given item index.</summary>
    public IReadOnlyList<SendStep> Build(long length, IReadOnlyList<CaptureIndexEntry> index)
    {
        ArgumentNullException.ThrowIfNull(index);
        var steps = new List<SendStep>();
        if (!NeedsRecords)
        {
            steps.Add(new SendStep(0, length, 0));
            return steps;
        }
        var records = index.Where(e => e.IsRecord).ToList();
        foreach (var n in Drops.Concat(Duplicates).Concat(Delays.Keys).Concat(CutAtRecord is { } c ? [c] : []))
        {
            if (n < 0 || n >= records.Count)
            {
                throw new ArgumentException(records.Count == 0
                    ? string.Create(CultureInfo.InvariantCulture, $"record {n} is not in the stream: it has no records as far as it parses")
                    : string.Create(CultureInfo.InvariantCulture,
                        $"record {n} is not in the stream: it has {records.Count} record{(records.Count == 1 ? "" : "s")} ({(records.Count == 1 ? "0" : $"0..{records.Count - 1}")}) as far as it parses"));
            }
        }
        long cursor = 0;
        void Send(long start, long end, int delay = 0)
        {
            if (end <= start && delay == 0)
            {
                return;
            }
            if (delay == 0 && steps.Count > 0 && steps[^1].End == start)
            {
                steps[^1] = steps[^1] with { End = end };
                return;
            }
            steps.Add(new SendStep(start, end, delay));
        }
        for (var n = 0; n < records.Count; n++)
        {
            var r = records[n];
            if (CutAtRecord == n)
            {
                Send(cursor, r.Offset);
                return steps;
            }
            var delayed = Delays.TryGetValue(n, out var ms);
            if (!delayed && !Drops.Contains(n) && !Duplicates.Contains(n))
            {
                continue;
            }
            Send(cursor, r.Offset);
            if (Drops.Contains(n))
            {
                if (delayed)
                {
                    steps.Add(new SendStep(r.Offset, r.Offset, ms));
                }
            }
            else
            {
                if (delayed)
                {
                    steps.Add(new SendStep(r.Offset, r.End, ms));
                }
                else
                {
                    Send(r.Offset, r.End);
                }
                if (Duplicates.Contains(n))
                {
                    steps.Add(new SendStep(r.Offset, r.End, 0));
                }
            }
            cursor = r.End;
        }
        Send(cursor, length);
        return steps;
    }

    /// <summary>A one-line description, for reports.</summary>
    public override string ToString()
    {
        if (IsEmpty)
        {
            return "none";
        }
        var parts = new List<string>();
        if (CutAtByte is { } b)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"cut at byte {b}"));
        }
        if (CutAtRecord is { } r)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"cut at record {r}"));
        }
        parts.AddRange(Corruptions.Select(c => string.Create(CultureInfo.InvariantCulture, $"corrupt {c.Offset}^0x{c.Xor:x2}")));
        parts.AddRange(Delays.Select(d => string.Create(CultureInfo.InvariantCulture, $"delay record {d.Key} by {d.Value} ms")));
        parts.AddRange(Duplicates.Select(d => string.Create(CultureInfo.InvariantCulture, $"duplicate record {d}")));
        parts.AddRange(Drops.Select(d => string.Create(CultureInfo.InvariantCulture, $"drop record {d}")));
        return string.Join(", ", parts);
    }
}
