using System.Text.Json;
using StreamBench.Domain;
using StreamBench.Engine.Restore;
using StreamBench.Formats;
using StreamBench.Formats.Verification;

namespace StreamBench.Cli.Commands;

/// <summary>The JSON shapes of <c>verify --json</c>, <c>inspect --json</c> and <c>restore --json</c>.</summary>
internal static class JsonReport
{
    public static void WriteVerify(Utf8JsonWriter w, string path, VerifierOptions options, VerifyResult result)
    {
        w.WriteStartObject();
        w.WriteString("input", path);
        w.WriteString("profile", result.Profile.ToString().ToLowerInvariant());
        w.WriteString("dialect", CliNames.Dialects.Name(options.Dialect));
        w.WriteBoolean("valid", result.IsValid);
        w.WriteNumber("errors", result.ErrorCount);
        w.WriteNumber("warnings", result.WarningCount);
        w.WriteNumber("infos", result.InfoCount);
        w.WriteNumber("findingsDropped", result.FindingsDropped);
        w.WriteStartArray("findings");
        foreach (var f in result.Findings)
        {
            WriteFinding(w, f);
        }
        w.WriteEndArray();
        w.WritePropertyName("summary");
        WriteSummary(w, result.Summary);
        w.WriteEndObject();
    }

    public static void WriteFinding(Utf8JsonWriter w, Finding f)
    {
        w.WriteStartObject();
        w.WriteString("severity", f.Severity.ToString().ToLowerInvariant());
        w.WriteNumber("offset", f.Offset);
        w.WriteNumber("record", f.RecordIndex);
        if (f.RecordType is not null)
        {
            w.WriteString("type", f.RecordType);
        }
        w.WriteString("layer", f.Layer.Name());
        if (f.Field is not null)
        {
            w.WriteString("field", f.Field);
        }
        w.WriteString("message", f.Message);
        w.WriteString("check", f.CheckId);
        w.WriteEndObject();
    }

    public static void WriteSummary(Utf8JsonWriter w, StreamSummary s)
    {
        w.WriteStartObject();
        w.WriteString("format", s.Format.ToString().ToLowerInvariant());
        w.WriteStartArray("layers");
        foreach (var layer in s.Layers)
        {
            w.WriteStringValue(Formats.Streams.XenStreamReader.LayerName(layer));
        }
        w.WriteEndArray();
        if (s.LibxlVersion is { } lv)
        {
            w.WriteNumber("libxlVersion", lv);
        }
        if (s.ImageVersion is { } iv)
        {
            w.WriteNumber("libxcVersion", iv);
        }
        if (s.GuestType is { } gt)
        {
            w.WriteString("guestType", gt.ToString());
        }
        if (s.XenVersion is { } xv)
        {
            w.WriteString("xenVersion", xv);
        }
        w.WriteNumber("records", s.Records);
        w.WriteNumber("pageDataRecords", s.PageDataRecords);
        w.WriteNumber("pfnEntries", s.PfnEntries);
        w.WriteNumber("dataPages", s.DataPages);
        w.WriteBoolean("verifyMode", s.VerifyMode);
        w.WriteBoolean("checkpointed", s.Checkpointed);
        w.WriteNumber("checkpointsComplete", s.CheckpointsComplete);
        w.WriteBoolean("checkpointIncomplete", s.CheckpointIncomplete);
        w.WriteNumber("discardedBytes", s.DiscardedBytes);
        w.WriteNumber("trailingBytes", s.TrailingBytes);
        w.WriteNumber("migrateMessages", s.MigrateMessages);
        w.WriteString("ending", s.Ending.ToString());
        w.WriteBoolean("truncated", s.Truncated);
        w.WriteNumber("length", s.Length);
        w.WriteStartArray("recordCounts");
        foreach (var c in s.RecordCounts)
        {
            w.WriteStartObject();
            w.WriteString("layer", c.Layer);
            w.WriteNumber("type", c.Type);
            w.WriteString("name", c.Name);
            w.WriteNumber("count", c.Count);
            w.WriteNumber("bodyBytes", c.BodyBytes);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// <c>restore --json</c> when the input is refused: <c>{"input", "ok": false, "error": {...}}</c> with the offset,
    /// layer, record, field and check of the <see cref="StreamFormatException"/> (the text of the one-line error).
    /// </summary>
    public static void WriteRestoreRefusal(Utf8JsonWriter w, string path, StreamFormatException e)
    {
        w.WriteStartObject();
        w.WriteString("input", path);
        w.WriteBoolean("ok", false);
        w.WriteStartObject("error");
        w.WriteString("message", e.Message);
        w.WriteString("problem", e.Problem);
        w.WriteNumber("offset", e.Offset);
        w.WriteString("layer", e.Layer.Name());
        if (e.RecordIndex >= 0)
        {
            w.WriteNumber("recordIndex", e.RecordIndex);
        }

        w.WriteString("recordType", e.RecordType);
        w.WriteString("field", e.Field);
        w.WriteString("check", e.Check?.Id);
        w.WriteBoolean("truncated", e.IsTruncation);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary><c>restore --json</c>: the text report's facts as one object; <c>digest</c> is the text report's last line.</summary>
    public static void WriteRestore(Utf8JsonWriter w, string path, RestoreResult result, GuestDomain domain, ColoSecondary? secondary,
        SavedAgain? saved, string digest)
    {
        w.WriteStartObject();
        w.WriteString("input", path);
        w.WriteBoolean("ok", true);
        w.WriteString("format", result.Format.ToString().ToLowerInvariant());
        w.WriteNumber("streamVersion", result.StreamVersion);
        w.WriteString("xenVersion", $"{result.XenVersion.Major}.{result.XenVersion.Minor}");
        w.WriteString("guestType", domain.Type.ToName());
        if (result.Config is { } config)
        {
            w.WriteString("config", config.ToString());
        }
        w.WriteNumber("records", result.Records);
        w.WriteNumber("pageDataRecords", result.PageDataRecords);
        w.WriteNumber("pfns", result.Pfns);
        w.WriteNumber("dataPages", result.DataPages);
        w.WriteNumber("bytes", result.Bytes);
        w.WriteNumber("seconds", result.Elapsed.TotalSeconds);
        w.WriteNumber("residentPages", domain.MaterialisedPages);
        w.WriteNumber("populatedPages", domain.PopulatedCount);
        w.WriteBoolean("checkpointed", result.Checkpointed);
        if (result.Checkpointed)
        {
            w.WriteNumber("checkpointsApplied", result.CheckpointsApplied);
            w.WriteBoolean("failedOver", result.FailedOver);
            w.WriteNumber("discardedRecords", result.DiscardedRecords);
            w.WriteNumber("discardedBytes", result.DiscardedBytes);
        }
        if (secondary is not null)
        {
            w.WriteStartObject("colo");
            w.WriteStartArray("checkpoints");
            foreach (var c in secondary.Checkpoints)
            {
                w.WriteStartObject();
                w.WriteNumber("index", c.Index);
                w.WriteString("digest", c.Digest.ToString());
                w.WriteNumber("ownWrites", c.OwnWrites);
                w.WriteNumber("dirtyPfnsSent", c.DirtyPfnsSent);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (secondary.FailoverReason is { } reason)
            {
                w.WriteString("failover", reason);
            }
            w.WriteEndObject();
        }
        if (result.Postcopy is { } pc)
        {
            w.WriteStartObject("postcopy");
            w.WriteNumber("announced", pc.Announced);
            w.WriteNumber("arrived", pc.Arrived);
            w.WriteNumber("faults", pc.Faults);
            w.WriteNumber("refaults", pc.Refaults);
            w.WriteBoolean("completeSent", pc.CompleteSent);
            w.WriteEndObject();
        }
        w.WriteStartArray("warnings");
        foreach (var warning in result.Warnings)
        {
            w.WriteStringValue(warning);
        }
        w.WriteEndArray();
        if (result.VerifyMode)
        {
            w.WriteStartObject("verify");
            w.WriteNumber("pages", result.VerifiedPages);
            w.WriteNumber("mismatches", result.VerifyMismatchCount);
            w.WriteStartArray("mismatchPfns");
            foreach (var pfn in result.VerifyMismatches)
            {
                w.WriteNumberValue(pfn);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        if (saved is not null)
        {
            w.WriteStartObject("savedAgain");
            w.WriteString("path", saved.Path);
            w.WriteString("format", saved.Format);
            w.WriteBoolean("inputConfig", saved.InputConfig);
            w.WriteNumber("records", saved.Records);
            w.WriteNumber("bytes", saved.Bytes);
            w.WriteEndObject();
        }
        w.WriteString("digest", digest);
        w.WriteEndObject();
    }
}
