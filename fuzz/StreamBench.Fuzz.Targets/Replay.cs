using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using StreamBench.Fuzzing;

namespace StreamBench.Fuzz.Targets;

/// <summary>
/// <c>--target NAME [--json] INPUT...</c>: runs each input once without AFL and classifies it as the fork server
/// would. With <c>--json</c>, one JSON object per line: file, outcome, exception type, message, the top frames of our
/// code, and the bucket key that triage deduplicates crashes by (exception type + the top frames in StreamBench.* and
/// Kaitai.*, method and line). Exit code 1 if any input failed.
/// </summary>
internal static class Replay
{
    /// <summary>Frames of our code kept in the bucket key.</summary>
    private const int KeyFrames = 3;

    public static int Run(FuzzTarget target, IEnumerable<string> inputs, bool json)
    {
        var options = target.Options();
        var failures = 0;
        var runs = 0;
        foreach (var file in Expand(inputs))
        {
            var bytes = File.ReadAllBytes(file);
            var result = Fuzzer.Execute(target.StreamAction, bytes, options);
            runs++;
            if (result.IsFailure)
            {
                failures++;
            }
            var frames = Frames(result.Exception);
            var key = BucketKey(result, frames);
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new ReplayLine(
                    file, target.Name, result.Outcome.ToString(), result.IsFailure, result.Exception?.GetType().FullName,
                    result.Exception?.Message, frames, key, result.IsFailure ? Hash(key) : null, result.AllocatedBytes, bytes.Length),
                    ReplayJson.Default.ReplayLine));
            }
            else
            {
                var verdict = result.Outcome switch
                {
                    FuzzOutcome.Ok => "ok",
                    FuzzOutcome.ExpectedException => "expected " + result.Exception!.GetType().Name + ": " + result.Exception.Message,
                    FuzzOutcome.AllocationBudgetExceeded => $"CRASH: allocation budget exceeded ({result.AllocatedBytes} bytes)",
                    _ => "CRASH: " + result.Exception,
                };
                Console.Error.WriteLine($"[{target.Name}] {file}: {bytes.Length} bytes, {result.AllocatedBytes} allocated: {verdict}");
                if (result.IsFailure)
                {
                    Console.Error.WriteLine($"[{target.Name}]   bucket {Hash(key)}: {key}");
                }
            }
        }
        if (!json && runs > 1)
        {
            Console.Error.WriteLine($"[{target.Name}] {runs} inputs, {failures} failed");
        }
        return failures > 0 ? 1 : 0;
    }

    public static IEnumerable<string> Expand(IEnumerable<string> inputs)
    {
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                foreach (var f in Directory.EnumerateFiles(input).Order(StringComparer.Ordinal))
                {
                    var name = Path.GetFileName(f);
                    if (!name.StartsWith('.') && name != "README.txt")
                    {
                        yield return f;
                    }
                }
            }
            else
            {
                yield return input;
            }
        }
    }

    /// <summary>The top frames of our code (StreamBench.* outside this host, and Kaitai.*), as "Type.Method:line".</summary>
    public static string[] Frames(Exception? e)
    {
        if (e is null)
        {
            return [];
        }
        var list = new List<string>();
        foreach (var frame in new StackTrace(e, fNeedFileInfo: true).GetFrames())
        {
            var method = frame.GetMethod();
            var type = method?.DeclaringType;
            var ns = type?.Namespace ?? "";
            if (type is null || !(ns.StartsWith("StreamBench.", StringComparison.Ordinal) || ns == "Kaitai")
                || ns.StartsWith("StreamBench.Fuzzing", StringComparison.Ordinal))
            {
                continue;
            }
            var line = frame.GetFileLineNumber();
            list.Add(string.Create(CultureInfo.InvariantCulture, $"{type.FullName}.{method!.Name}{(line > 0 ? ":" + line : "")}"));
            if (list.Count == 12)
            {
                break;
            }
        }
        return [.. list];
    }

    public static string BucketKey(FuzzResult result, string[] frames)
    {
        if (!result.IsFailure)
        {
            return "";
        }
        var kind = result.Outcome == FuzzOutcome.AllocationBudgetExceeded ? "allocation-budget" : result.Exception!.GetType().FullName!;
        // Library frames first; the host's own frames only when the failure is thrown there (a differential mismatch).
        var ours = frames.Where(f => !f.StartsWith("StreamBench.Fuzz.", StringComparison.Ordinal)).Take(KeyFrames).ToList();
        if (ours.Count == 0)
        {
            ours = [.. frames.Take(1)];
        }
        return kind + " @ " + string.Join(" < ", ours);
    }

    public static string Hash(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..10];
}

internal sealed record ReplayLine(string File, string Target, string Outcome, bool Failure, string? Exception, string? Message,
    string[] Frames, string Bucket, string? BucketId, long Allocated, int Length);

[System.Text.Json.Serialization.JsonSerializable(typeof(ReplayLine))]
[System.Text.Json.Serialization.JsonSerializable(typeof(OracleLine))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
internal sealed partial class ReplayJson : System.Text.Json.Serialization.JsonSerializerContext;
