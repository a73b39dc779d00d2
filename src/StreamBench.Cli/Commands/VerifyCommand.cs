using System.CommandLine;
using System.Text.Json;
using StreamBench.Capture.Input;
using StreamBench.Formats.Verification;

namespace StreamBench.Cli.Commands;

/// <summary><c>streambench verify</c>: exit 0 for a valid stream, 1 for an invalid one, 2 for a usage or I/O error.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var io = new StreamOptions();
        var profile = new Option<string>("--profile", "-p")
        {
            Description = "xen (exactly verify-stream-v2's checks, without its bugs), restore (+ the C restore's), strict (+ ordering and consistency)",
            DefaultValueFactory = _ => "strict",
        };
        var checkpointed = new Option<string>("--checkpointed")
        {
            Description = "auto, yes (a Remus/COLO stream: CHECKPOINT allowed) or no (plain stream)",
            DefaultValueFactory = _ => "auto",
        };
        var json = new Option<bool>("--json") { Description = "one JSON document on stdout, for scripts" };
        var max = new Option<int>("--max-findings") { Description = "findings kept and printed", DefaultValueFactory = _ => 1000 };
        var command = new Command("verify", "Check a stream against a profile; findings name offset, record and field.");
        io.AddTo(command);
        command.Options.Add(profile);
        command.Options.Add(checkpointed);
        command.Options.Add(json);
        command.Options.Add(max);
        command.SetAction(parse =>
        {
            var options = new VerifierOptions
            {
                Profile = CliNames.Profiles.Parse(parse.GetValue(profile)),
                Reader = io.ReaderOptions(parse),
                CheckpointMode = CliNames.CheckpointModes.Parse(parse.GetValue(checkpointed)),
                MaxFindings = parse.GetValue(max),
            };
            var (path, result, legacyLength) = io.Verify(parse, options, "verify");
            if (parse.GetValue(json))
            {
                using var stdout = Console.OpenStandardOutput();
                using var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true });
                JsonReport.WriteVerify(writer, path, options, result);
            }
            else
            {
                WriteText(Console.Out, path, result, legacyLength);
            }
            return result.IsValid ? ExitCodes.Ok : ExitCodes.InvalidStream;
        });
        return command;
    }

    private static void WriteText(TextWriter output, string path, VerifyResult result, long? legacyLength)
    {
        foreach (var finding in result.Findings)
        {
            output.WriteLine(finding.ToString());
        }
        if (result.FindingsDropped > 0)
        {
            output.WriteLine($"... {result.FindingsDropped} more findings not shown");
        }
        if (DialectHints.For(result) is { } hint)
        {
            output.WriteLine("hint: " + hint);
        }
        var s = result.Summary;
        var verdict = result.IsValid ? "VALID" : "INVALID";
        output.WriteLine(
            $"{path}: {verdict} (profile {result.Profile.ToString().ToLowerInvariant()}): {result.ErrorCount} errors, {result.WarningCount} warnings, " +
            $"{s.Records} records, {s.DataPages} pages, " +
            (legacyLength is { } n ? $"{n} bytes (a legacy image; the v3 stream it converts to: {s.Length} bytes)" : $"{s.Length} bytes"));
    }
}
