using System.Text.Json;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Verification;
using StreamBench.Formats.Wire;

namespace StreamBench.Fuzz.Targets;

/// <summary>
/// <c>--verify-batch [--profile P] INPUT...</c>: verifies many files in one process (the in-process batch mode of
/// <c>streambench verify --json</c>) and prints one JSON object per file: the verdict, the error count and the first
/// errors' check ids. tools/fuzz/oracle-batch.py compares these verdicts with verify-stream-v2's over an AFL queue.
/// </summary>
internal static class OracleBatch
{
    public static int Run(VerificationProfile profile, IEnumerable<string> inputs)
    {
        var options = VerifierOptions.Create(profile);
        foreach (var file in Replay.Expand(inputs))
        {
            OracleLine line;
            try
            {
                var bytes = File.ReadAllBytes(file);
                var result = Verifier.Verify(bytes, options);
                var errors = result.Findings.Where(f => f.Severity == FindingSeverity.Error).Take(5).ToArray();
                var summary = result.Summary;
                var libxlCheckpoint = summary.Format is OuterFormat.Xl or OuterFormat.Libxl
                    && summary.CountOf(StreamLayer.Libxc, (uint)LibxcRecordType.Checkpoint) > 0;
                line = new OracleLine(file, result.IsValid, result.ErrorCount, [.. errors.Select(e => e.CheckId)],
                    errors.FirstOrDefault()?.ToString(), summary.Format.ToString(), libxlCheckpoint, null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                line = new OracleLine(file, false, 0, [], null, null, false, e.Message);
            }
            Console.WriteLine(JsonSerializer.Serialize(line, ReplayJson.Default.OracleLine));
        }
        return 0;
    }
}

internal sealed record OracleLine(string File, bool Valid, long Errors, string[] Checks, string? First, string? Format,
    bool LibxlCheckpoint, string? IoError);
