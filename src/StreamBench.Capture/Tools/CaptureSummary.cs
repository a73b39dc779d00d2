using System.Globalization;
using System.Text;
using StreamBench.Capture.Format;
using StreamBench.Formats.Streams;

namespace StreamBench.Capture.Tools;

/// <summary>A readable account of a capture: header, metadata, both directions, index, events, damage.</summary>
public static class CaptureSummary
{
    /// <summary>Describes <paramref name="capture"/>.</summary>
    public static string Describe(CaptureFile capture)
    {
        ArgumentNullException.ThrowIfNull(capture);
        var sb = new StringBuilder();
        void Line(FormattableString s) => sb.AppendLine(s.ToString(CultureInfo.InvariantCulture));
        Line($"capture {capture.Path}: format {capture.Header.VersionMajor}.{capture.Header.VersionMinor}, started {capture.Header.StartTime:O}");
        Line($"  state: {capture.EndState}; {capture.ChunkCount} valid chunks, {capture.ValidLength} of {capture.FileLength} bytes; lost {capture.LostBytes} bytes");
        if (capture.Problem is not null)
        {
            Line($"  stopped {capture.Problem}");
        }
        foreach (var problem in capture.Inconsistencies)
        {
            Line($"  inconsistent: {problem}");
        }
        var incomplete = IncompleteReasons(capture);
        Line($"  recording: {(incomplete.Count == 0 ? "complete" : "INCOMPLETE: " + string.Join("; ", incomplete))}");
        foreach (var (k, v) in capture.Metadata.Pairs)
        {
            Line($"  {k}: {v}");
        }
        foreach (var d in new[] { CaptureDirection.SenderToReceiver, CaptureDirection.ReceiverToSender })
        {
            var extents = capture.Extents(d);
            var recorded = capture.RecordedIndex(d);
            var records = recorded.Count(e => e.IsRecord);
            var last = extents.Count == 0 ? 0 : extents[^1].Timestamp;
            Line($"  {CaptureDirections.Name(d)}: {capture.LengthOf(d)} bytes in {extents.Count} chunks, {(capture.HasEnded(d) ? "ended" : "not ended")}, last chunk at {last / 1e6:0.###} ms; index: {recorded.Count} items ({records} records) covering {(recorded.Count == 0 ? 0 : recorded[^1].End)} bytes");
        }
        foreach (var e in capture.Events)
        {
            var dir = e.Direction is { } x ? " " + CaptureDirections.Name(x) : "";
            Line($"  event at {e.Timestamp / 1e6:0.###} ms: {e.Code}{dir} value={e.Value}{(e.Text.Length > 0 ? " " + e.Text : "")}");
        }
        return sb.ToString();
    }

    /// <summary>
    /// Why the capture does not hold the whole session: the recorder's own note, forward or read errors, a signal, a
    /// missing footer or damage. Empty for a complete capture.
    /// </summary>
    public static IReadOnlyList<string> IncompleteReasons(CaptureFile capture)
    {
        ArgumentNullException.ThrowIfNull(capture);
        var reasons = new List<string>();
        if (capture.EndState != CaptureEndState.Complete)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"the file is {capture.EndState.ToString().ToLowerInvariant()}{(capture.LostBytes > 0 ? $", {capture.LostBytes} bytes lost" : "")}"));
        }
        else if (capture.Inconsistencies.Count > 0)
        {
            reasons.Add("the file is inconsistent");
        }
        var noted = capture.Events.Where(e => e.Code == CaptureEventCode.Note && e.Text.StartsWith(Recording.RecordingSession.IncompleteNote, StringComparison.Ordinal))
            .Select(e => e.Text).FirstOrDefault();
        if (noted is not null)
        {
            reasons.Add(noted[Recording.RecordingSession.IncompleteNote.Length..]);
        }
        else
        {
            foreach (var e in capture.Events)
            {
                var dir = e.Direction is { } d ? CaptureDirections.Name(d) + ": " : "";
                if (e.Code == CaptureEventCode.ForwardFailed)
                {
                    reasons.Add(string.Create(CultureInfo.InvariantCulture, $"{dir}forwarding failed after {e.Value} bytes"));
                }
                else if (e.Code == CaptureEventCode.Signal)
                {
                    reasons.Add(string.Create(CultureInfo.InvariantCulture, $"stopped by signal {e.Value}"));
                }
                else if (e.Code == CaptureEventCode.Note && e.Text.StartsWith("read error", StringComparison.Ordinal))
                {
                    reasons.Add(dir + e.Text);
                }
            }
        }
        return reasons;
    }

    /// <summary>One line per item of a direction's index (for <c>export --info --items</c>).</summary>
    public static string Items(IReadOnlyList<CaptureIndexEntry> index)
    {
        ArgumentNullException.ThrowIfNull(index);
        var sb = new StringBuilder();
        long record = 0;
        foreach (var e in index)
        {
            var name = e.Kind == StreamItemKind.Record ? "record #" + (record++).ToString(CultureInfo.InvariantCulture) + " type 0x" + e.RecordType.ToString("x", CultureInfo.InvariantCulture) : e.Kind.ToString();
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{e.Offset,12} {e.Length,10} {XenStreamReader.LayerName(e.Layer),-12} {name}"));
        }
        return sb.ToString();
    }
}
