using System.Globalization;
using StreamBench.Formats.Streams;
using static StreamBench.Formats.Verification.StreamChecks;

namespace StreamBench.Formats.Verification;

/// <summary>
/// Rules about the stream as a whole: how it ends (END, truncation, failover of a checkpointed stream), bytes after
/// END, <c>xl migrate</c> messages, and inputs the verifier cannot frame (legacy images).
/// </summary>
internal sealed class StreamRules(VerificationContext ctx)
{
    private long _trailingOffset = -1;

    /// <summary>An <c>xl migrate</c> message.</summary>
    public void Message()
    {
        var r = ctx.Reader;
        ctx.Summary.MigrateMessages++;
        if (r.Message == MigrateMessage.Report)
        {
            var result = r.ReportResult;
            if (result != 0)
            {
                ctx.ReportAtItem(MigrateFailed, r.BodyLength - 1, "result",
                    string.Create(CultureInfo.InvariantCulture, $"expected unpause result 0 (success), found {result}"));
            }
        }
    }

    /// <summary>A chunk of bytes after END.</summary>
    public void Trailing()
    {
        if (_trailingOffset < 0)
        {
            _trailingOffset = ctx.Reader.Offset;
        }
        ctx.Summary.TrailingBytes += ctx.Reader.BodyLength;
    }

    /// <summary>A legacy image (or unrecognised input).</summary>
    public void LegacyImage() => ctx.Report(Legacy, null,
        "expected an xl header, a LibxlFmt header or a XENF image header, found none (a legacy image is verified only after convert-legacy-stream)");

    /// <summary>The reader reached the end of the input normally.</summary>
    public void Ended(StreamEnding ending)
    {
        var summary = ctx.Summary;
        summary.Ending = ending;
        summary.Length = ctx.InputLength;
        if (_trailingOffset >= 0)
        {
            var bytes = summary.TrailingBytes;
            var message = string.Create(CultureInfo.InvariantCulture, $"expected nothing after END but xl migrate messages, found {bytes} bytes");
            ctx.ReportAt(TrailingData, _trailingOffset, -1, "TRAILING_DATA", ErrorLayer.Stream, null, message);
            ctx.ReportAt(TrailingDataIgnored, _trailingOffset, -1, "TRAILING_DATA", ErrorLayer.Stream, null,
                string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes after END are ignored"));
        }
        if (ending is StreamEnding.MissingEnd or StreamEnding.Failover)
        {
            EndedEarly(truncatedAt: -1, null);
        }
        Checkpoints();
    }

    /// <summary>The reader threw: truncation or unframeable input.</summary>
    public void Threw(StreamFormatException e)
    {
        ctx.Summary.Length = ctx.InputLength;
        if (e.IsTruncation)
        {
            ctx.Summary.Truncated = true;
            EndedEarly(e.Offset, e);
        }
        else
        {
            ctx.ReportAt(Malformed, e.Offset, e.RecordIndex, e.RecordType, e.Layer, e.Field, "expected an item the reader can frame, found: " + e.Problem);
        }
        Checkpoints();
    }

    private void EndedEarly(long truncatedAt, StreamFormatException? e)
    {
        // xen: verify-stream-v2 calls any stream without END truncated. restore/strict: a checkpointed stream ends at
        // failover; it is fine once one checkpoint is complete (FORMATS.md 5.4).
        var failoverSemantics = ctx.Profile != VerificationProfile.Xen && ctx.IsCheckpointed;
        var summary = ctx.Summary;
        if (failoverSemantics)
        {
            summary.Checkpointed = true;
            summary.CheckpointIncomplete = ctx.CompleteCheckpoints == 0 || ctx.LastCheckpointEnd < summary.Length;
            summary.DiscardedBytes = CheckpointFailover.DiscardedBytes(ctx.CompleteCheckpoints, ctx.LastCheckpointEnd, summary.Length);
            var at = truncatedAt >= 0 ? truncatedAt : summary.Length;
            if (!CheckpointFailover.CanFailOver(ctx.CompleteCheckpoints))
            {
                ctx.ReportAt(FailoverBeforeCheckpoint, at, -1, null, ErrorLayer.Stream, null,
                    "expected at least one complete checkpoint before failover, found none (the receiver has no consistent state)");
            }
            else
            {
                ctx.ReportAt(Failover, ctx.LastCheckpointEnd, -1, null, ErrorLayer.Stream, null, string.Create(CultureInfo.InvariantCulture,
                    $"stream ends at failover after {ctx.CompleteCheckpoints} complete checkpoint(s); {summary.DiscardedBytes} bytes of an incomplete checkpoint are discarded"));
            }
            return;
        }
        if (e is not null)
        {
            ctx.ReportAt(Truncated, e.Offset, e.RecordIndex, e.RecordType, e.Layer, e.Field,
                "expected the rest of the item, found the end of the input (" + e.Problem + ")");
        }
        else
        {
            ctx.ReportAt(MissingEnd, summary.Length, -1, null, ErrorLayer.Stream, null,
                string.Create(CultureInfo.InvariantCulture, $"expected an END record, found the end of the input at offset {summary.Length}"));
        }
    }

    private void Checkpoints()
    {
        var summary = ctx.Summary;
        summary.CheckpointsComplete = ctx.CompleteCheckpoints;
        if (ctx.IsCheckpointed)
        {
            summary.Checkpointed = true;
        }
        else if (ctx.SawCheckpoint && ctx.Options.CheckpointMode == CheckpointMode.Auto)
        {
            // Auto decided "plain" only now (a libxl stream without a CHECKPOINT_END): report the CHECKPOINT late.
            ctx.ReportAt(LibxcChecks.CheckpointInPlainStream, ctx.FirstCheckpointOffset, ctx.FirstCheckpointIndex, "CHECKPOINT", ErrorLayer.Libxc, null,
                LibxcRules.PlainCheckpointMessage);
        }
    }
}
