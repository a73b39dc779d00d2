using System.Runtime.CompilerServices;
using Xunit.Sdk;

namespace StreamBench.Tests.Support;

/// <summary>
/// Snapshot assertions with Verify's conventions (Verify is not in this machine's NuGet): the approved text is
/// <c>Class.Method[_name].verified.txt</c> beside the test file; a mismatch writes <c>.received.txt</c> next to it and
/// fails with the command that accepts it. STREAMBENCH_ACCEPT=1 accepts every received file on the spot.
/// </summary>
public static class Snapshot
{
    /// <summary>Asserts that <paramref name="actual"/> equals the verified snapshot.</summary>
    public static void Match(string actual, string? name = null, [CallerFilePath] string file = "", [CallerMemberName] string method = "")
    {
        ArgumentNullException.ThrowIfNull(actual);
        var dir = Path.GetDirectoryName(file)!;
        var cls = Path.GetFileNameWithoutExtension(file);
        var stem = Path.Combine(dir, name is null ? $"{cls}.{method}" : $"{cls}.{method}_{Sanitize(name)}");
        var verified = stem + ".verified.txt";
        var received = stem + ".received.txt";
        actual = actual.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (File.Exists(verified) && File.ReadAllText(verified).Replace("\r\n", "\n", StringComparison.Ordinal) == actual)
        {
            if (File.Exists(received))
            {
                File.Delete(received);
            }
            return;
        }
        if (Environment.GetEnvironmentVariable("STREAMBENCH_ACCEPT") == "1")
        {
            File.WriteAllText(verified, actual);
            return;
        }
        File.WriteAllText(received, actual);
        throw new XunitException(
            $"Snapshot mismatch for {Path.GetFileName(verified)}.\n  diff: diff -u '{verified}' '{received}'\n  accept: mv '{received}' '{verified}'  (or rerun with STREAMBENCH_ACCEPT=1)");
    }

    private static string Sanitize(string name)
    {
        var chars = name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        return new string(chars);
    }
}
