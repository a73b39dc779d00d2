using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using StreamBench.Capture.Input;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench inspect</c>: a summary of layers, versions, guest, record counts, pages, checkpoints and trailing bytes.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var io = new StreamOptions();
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout, for scripts" };
        var command = new Command("inspect", "Summarise a stream: layers, versions, guest type, record counts, pages, checkpoints.");
        io.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var options = new VerifierOptions { Profile = VerificationProfile.Strict, Reader = io.ReaderOptions(parse) };
            var (path, result, legacyLength) = io.Verify(parse, options, "inspect");
            if (parse.GetValue(json))
            {
                using var stdout = Console.OpenStandardOutput();
                using var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true });
                writer.WriteStartObject();
                writer.WriteString("input", path);
                writer.WriteBoolean("valid", result.IsValid);
                writer.WriteNumber("errors", result.ErrorCount);
                if (legacyLength is { } n)
                {
                    writer.WriteNumber("legacy_input_length", n); // summary.length is the converted v3 stream's
                }
                writer.WritePropertyName("summary");
                JsonReport.WriteSummary(writer, result.Summary);
                writer.WriteEndObject();
            }
            else
            {
                Write(Console.Out, path, options, result, legacyLength);
            }
            // As verify: 0 for a valid stream, 1 for an invalid one (the summary above is printed either way).
            return result.IsValid ? ExitCodes.Ok : ExitCodes.InvalidStream;
        });
        return command;
    }

    internal static void Write(TextWriter o, string path, VerifierOptions options, VerifyResult result, long? legacyLength = null)
    {
        var s = result.Summary;
        var ci = CultureInfo.InvariantCulture;
        o.WriteLine($"input:        {path}");
        if (legacyLength is { } n)
        {
            o.WriteLine($"length:       {n.ToString(ci)} bytes (a legacy image)");
            o.WriteLine($"converted:    {s.Length.ToString(ci)} bytes (the v3 stream it converts to, which the rest describes)");
        }
        else
        {
            o.WriteLine($"length:       {s.Length.ToString(ci)} bytes");
        }
        o.WriteLine($"layers:       {string.Join(" > ", s.Layers.Select(XenStreamReader.LayerName))} (format {s.Format.ToString().ToLowerInvariant()}, dialect {CliNames.Dialects.Name(options.Dialect)})");
        if (s.XlHeader is { } xl)
        {
            o.WriteLine($"xl header:    flags 0x{((uint)xl.MandatoryFlags).ToString("x", ci)} ({xl.MandatoryFlags}), config {s.XlConfigSize?.ToString(ci) ?? "?"} bytes{(xl.BigEndian ? ", big-endian" : "")}");
        }
        if (s.LibxlVersion is { } lv)
        {
            o.WriteLine($"libxl:        v{lv.ToString(ci)}, options {s.LibxlOptions}");
        }
        if (s.ImageVersion is { } iv)
        {
            o.WriteLine($"libxc:        v{iv.ToString(ci)}{(s.ImageBigEndian == true ? ", big-endian flag set" : "")}");
        }
        if (s.GuestType is { } gt)
        {
            o.WriteLine($"guest type:   {gt}");
        }
        if (s.XenVersion is { } xv)
        {
            o.WriteLine($"xen version:  {xv}");
        }
        o.WriteLine($"records:      {s.Records.ToString(ci)}");
        foreach (var c in s.RecordCounts)
        {
            o.WriteLine($"  {c.Layer,-13} {c.Name,-28} {c.Count.ToString(ci),10} records {c.BodyBytes.ToString(ci),14} body bytes");
        }
        o.WriteLine($"pages:        {s.DataPages.ToString(ci)} with data, {s.PfnEntries.ToString(ci)} pfn entries in {s.PageDataRecords.ToString(ci)} PAGE_DATA records{(s.VerifyMode ? " (VERIFY pass present)" : "")}");
        if (s.Checkpointed)
        {
            o.WriteLine($"checkpoints:  {s.CheckpointsComplete.ToString(ci)} complete{(s.CheckpointIncomplete ? $", 1 incomplete ({s.DiscardedBytes.ToString(ci)} bytes discarded at failover)" : "")}");
        }
        if (s.MigrateMessages > 0)
        {
            o.WriteLine($"xl migrate:   {s.MigrateMessages.ToString(ci)} protocol messages");
        }
        o.WriteLine($"trailing:     {s.TrailingBytes.ToString(ci)} bytes");
        o.WriteLine($"ending:       {s.Ending}{(s.Truncated ? " (truncated)" : "")}");
        o.WriteLine($"verdict:      {(result.IsValid ? "valid" : "INVALID")} under strict: {result.ErrorCount.ToString(ci)} errors, {result.WarningCount.ToString(ci)} warnings (streambench verify lists them)");
        if (DialectHints.For(result) is { } hint)
        {
            o.WriteLine($"hint:         {hint}");
        }
    }
}
