using System.Globalization;
using StreamBench.Capture.Format;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;

namespace StreamBench.Report;

/// <summary>Bytes per time bin of one direction of a capture.</summary>
/// <param name="Direction">s2r or r2s.</param>
/// <param name="Bytes">Bytes of the direction.</param>
/// <param name="Chunks">Data chunks.</param>
/// <param name="Bins">Bytes that arrived in each bin.</param>
public sealed record ArrivalProfile(string Direction, long Bytes, long Chunks, IReadOnlyList<long> Bins);

/// <summary>A capture event for the report.</summary>
public sealed record CaptureEventRow(long TimeNs, string Code, string? Direction, long Value, string Text);

/// <summary>Everything the report shows about a capture.</summary>
public sealed class CaptureAnalysis
{
    /// <summary>The capture file.</summary>
    public required string Path { get; init; }

    /// <summary>Metadata pairs.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Metadata { get; init; }

    /// <summary>Wall clock at the start.</summary>
    public required DateTimeOffset Start { get; init; }

    /// <summary>Time of the last chunk (nanoseconds from the start).</summary>
    public required long DurationNs { get; init; }

    /// <summary>Width of one bin.</summary>
    public required long BinNs { get; init; }

    /// <summary>Both directions.</summary>
    public required IReadOnlyList<ArrivalProfile> Profiles { get; init; }

    /// <summary>Events.</summary>
    public required IReadOnlyList<CaptureEventRow> Events { get; init; }

    /// <summary>How the capture ended, lost bytes and the reader's problem.</summary>
    public required string EndState { get; init; }

    /// <summary>Bytes after the last valid chunk (a crash).</summary>
    public required long LostBytes { get; init; }

    /// <summary>Why the tail was lost, or null.</summary>
    public string? Problem { get; init; }

    /// <summary>The sender → receiver stream.</summary>
    public required StreamAnalysis Sender { get; init; }

    /// <summary>The receiver → sender direction (xl migrate messages, back-channel records), or null when empty.</summary>
    public StreamAnalysis? Receiver { get; init; }

    /// <summary>From the final pass's first byte to the receiver's unpause report (or the sender's last byte), when known.</summary>
    public long? DowntimeNs { get; init; }

    /// <summary>What <see cref="DowntimeNs"/> measures.</summary>
    public string? DowntimeBasis { get; init; }
}

/// <summary>Reads a capture for the report: arrival profile of both directions, events, lost bytes, and both streams.</summary>
public static class CaptureAnalyzer
{
    /// <summary>Time bins of the arrival profile.</summary>
    public const int Bins = 240;

    /// <summary>Analyses the capture at <paramref name="path"/>.</summary>
    public static CaptureAnalysis Analyze(string path, ReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var capture = CaptureFile.Open(path);
        var s2r = CaptureDirection.SenderToReceiver;
        var r2s = CaptureDirection.ReceiverToSender;
        long duration = 0;
        foreach (var d in new[] { s2r, r2s })
        {
            foreach (var e in capture.Extents(d))
            {
                duration = Math.Max(duration, e.Timestamp);
            }
        }
        foreach (var e in capture.Events)
        {
            duration = Math.Max(duration, e.Timestamp);
        }
        var bin = Math.Max(1, (duration + Bins - 1) / Bins);
        var profiles = new List<ArrivalProfile>();
        foreach (var d in new[] { s2r, r2s })
        {
            var bins = new long[Bins];
            var extents = capture.Extents(d);
            foreach (var e in extents)
            {
                bins[Math.Min(Bins - 1, (int)(e.Timestamp / bin))] += e.Length;
            }
            profiles.Add(new ArrivalProfile(CaptureDirections.Name(d), capture.LengthOf(d), extents.Count, bins));
        }
        var sender = AnalyzeDirection(capture, s2r, options);
        StreamAnalysis? receiver = capture.Has(r2s) ? AnalyzeDirection(capture, r2s, options) : null;
        long? downtime = null;
        string? basis = null;
        if (sender.FinalPassOffset >= 0)
        {
            var start = TimeAt(capture.Extents(s2r), sender.FinalPassOffset);
            var report = receiver?.BackChannel.FirstOrDefault(m => m.Type.Contains("Report", StringComparison.OrdinalIgnoreCase) || m.Type.Contains("REPORT", StringComparison.Ordinal));
            if (report is not null && report.TimeNs >= start)
            {
                downtime = report.TimeNs - start;
                basis = "from the first byte of the final (suspended) pass to the receiver's unpause report, by capture arrival times";
            }
            else if (capture.Extents(s2r).Count > 0)
            {
                downtime = capture.Extents(s2r)[^1].Timestamp - start;
                basis = "from the first byte of the final (suspended) pass to the sender's last byte, by capture arrival times (the stop-and-copy phase; the receiver's unpause is not in the capture)";
            }
        }
        if (downtime == 0)
        {
            basis += "; 0 means below the capture's resolution: both ends arrived in one chunk";
        }
        return new CaptureAnalysis
        {
            Path = path,
            Metadata = capture.Metadata.Pairs,
            Start = capture.Header.StartTime,
            DurationNs = duration,
            BinNs = bin,
            Profiles = profiles,
            Events = [.. capture.Events.Select(e => new CaptureEventRow(e.Timestamp, e.Code.ToString(), e.Direction is { } d ? CaptureDirections.Name(d) : null, e.Value, e.Text))],
            EndState = capture.EndState.ToString(),
            LostBytes = capture.LostBytes,
            Problem = capture.Problem,
            Sender = sender,
            Receiver = receiver,
            DowntimeNs = downtime,
            DowntimeBasis = basis,
        };
    }

    private static StreamAnalysis AnalyzeDirection(CaptureFile capture, CaptureDirection d, ReportOptions options)
    {
        var reader = d == CaptureDirection.SenderToReceiver
            ? options.Reader with { Colo = options.Reader.Colo || IsColoBackChannel(capture) }
            : options.Reader with { Format = capture.DefaultReaderOptions(d).Format };
        var vopts = new VerifierOptions { Profile = VerificationProfile.Strict, Reader = reader };
        using var stream = capture.OpenDirection(d);
        using var r = new XenStreamReader(ByteSource.FromStream(stream), reader, ownsSource: true);
        var description = string.Create(CultureInfo.InvariantCulture, $"{capture.Path} ({CaptureDirections.Name(d)})");
        var a = StreamAnalyzer.Analyze(r, () =>
        {
            using var s = capture.OpenDirection(d);
            return Verifier.Verify(ByteSource.FromStream(s), vopts);
        }, description, null, options.Analyzer);
        var extents = capture.Extents(d);
        if ((a.BackChannel.Count == 0 && a.Checkpoints.Count == 0) || extents.Count == 0)
        {
            return a;
        }
        // Arrival times put the checkpoints of one direction and the back channel of the other on one timeline.
        var timed = a.BackChannel.Select(m => m with { TimeNs = TimeAt(extents, m.Offset) }).ToList();
        var checkpoints = a.Checkpoints
            .Select(c => c with { StartTimeNs = TimeAt(extents, c.StartOffset), EndTimeNs = TimeAt(extents, Math.Max(c.StartOffset, c.EndOffset - 1)) })
            .ToList();
        return new StreamAnalysis
        {
            Description = a.Description,
            InputNote = a.InputNote,
            Verification = a.Verification,
            Segments = a.Segments,
            SegmentsCoarsened = a.SegmentsCoarsened,
            Passes = a.Passes,
            Checkpoints = checkpoints,
            BackChannel = timed,
            Qevm = a.Qevm,
            EmulatorNotes = a.EmulatorNotes,
            Postcopy = a.Postcopy,
            Vcpus = a.Vcpus,
            ReadError = a.ReadError,
        };
    }

    /// <summary>
    /// The capture's r2s direction opens with a bare libxl CHECKPOINT_STATE record (type 5, a 4-byte control id): the
    /// back channel of a COLO secondary (libxl_colo_restore.c sends SVM_READY first). Then the s2r direction is a COLO
    /// main stream, whose CHECKPOINT_NEW records follow each CHECKPOINT_END (the reader's <c>Colo</c> option). This is
    /// evidence from the other direction, not a guess from record numbers: a post-copy back channel (the other bare
    /// one) never starts with type 5.
    /// </summary>
    internal static bool IsColoBackChannel(CaptureFile capture)
    {
        var r2s = CaptureDirection.ReceiverToSender;
        if (!capture.Has(r2s))
        {
            return false;
        }
        using var s = capture.OpenDirection(r2s);
        Span<byte> head = stackalloc byte[16];
        var n = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return n == head.Length
            && StreamIndexing.GuessBackFormat(head) == OuterFormat.BackChannel
            && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(head) == (uint)LibxlRecordType.CheckpointState
            && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(head[4..]) == 4;
    }

    /// <summary>Arrival time of the byte at <paramref name="position"/>: the timestamp of the chunk that holds it.</summary>
    internal static long TimeAt(IReadOnlyList<CaptureDataExtent> extents, long position)
    {
        int lo = 0, hi = extents.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (extents[mid].End <= position)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return extents.Count == 0 ? 0 : extents[lo].Timestamp;
    }
}
