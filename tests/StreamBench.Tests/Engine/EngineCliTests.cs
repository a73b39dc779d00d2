using System.Text;
using System.Text.Json;
using StreamBench.Tests.Capture;
using Xunit;

namespace StreamBench.Tests.Engine;

/// <summary><c>streambench demo</c>, <c>save</c> and <c>restore</c> as a user runs them.</summary>
public sealed class EngineCliTests
{
    private static string LastLine(byte[] stdout) => Encoding.UTF8.GetString(stdout).TrimEnd().Split('\n')[^1];

    private static string LastLine(string text) => text.TrimEnd().Split('\n')[^1];

    [Fact]
    public void Save_then_restore_print_the_same_digest_line()
    {
        using var dir = new TempDir();
        string file = dir.File("pv.xl");
        var (saveCode, saveOut, saveErr) = CaptureTestSupport.RunCli(null, "save", "--guest", "pv", "--memory", "8M", "--vcpus", "2", "--live",
            "--workload", "uniform:40", "--seed", "3", "-o", file);
        Assert.True(saveCode == 0, saveErr);
        string digest = LastLine(saveOut);
        Assert.Matches("^digest: [0-9a-f]{64}$", digest);

        var (restoreCode, restoreOut, restoreErr) = CaptureTestSupport.RunCli(null, "restore", file);
        Assert.True(restoreCode == 0, restoreErr);
        Assert.Equal(digest, LastLine(restoreOut));
    }

    [Fact]
    public void Restore_json_is_one_object_with_the_digest_and_the_saved_again_file()
    {
        using var dir = new TempDir();
        string file = dir.File("pv.xl");
        string again = dir.File("again.xl");
        var (saveCode, saveOut, saveErr) = CaptureTestSupport.RunCli(null, "save", "--guest", "pv", "--memory", "8M", "--vcpus", "2", "-o", file);
        Assert.True(saveCode == 0, saveErr);
        string digest = LastLine(saveOut)["digest: ".Length..];

        var (code, stdout, stderr) = CaptureTestSupport.RunCli(null, "restore", file, "--save-to", again, "--json");
        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout); // the whole of stdout is one object
        var root = json.RootElement;
        Assert.Equal(file, root.GetProperty("input").GetString());
        Assert.Equal("xl", root.GetProperty("format").GetString());
        Assert.Equal("pv", root.GetProperty("guestType").GetString());
        Assert.True(root.GetProperty("records").GetInt64() > 0);
        Assert.True(root.GetProperty("dataPages").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("warnings").ValueKind);
        Assert.Equal(digest, root.GetProperty("digest").GetString());
        var saved = root.GetProperty("savedAgain");
        Assert.Equal(again, saved.GetProperty("path").GetString());
        Assert.Equal("xl", saved.GetProperty("format").GetString());
        Assert.Equal(new FileInfo(again).Length, saved.GetProperty("bytes").GetInt64());
        Assert.True(saved.GetProperty("records").GetInt64() > 0);

        // The text report says the same in its "saved again" line.
        var (textCode, text, textErr) = CaptureTestSupport.RunCli(null, "restore", file, "--save-to", again);
        Assert.True(textCode == 0, textErr);
        string kept = saved.GetProperty("inputConfig").GetBoolean() ? ", the input's config" : "";
        Assert.Contains($"saved again: {again} (xl{kept}): {saved.GetProperty("records").GetInt64()} records, {saved.GetProperty("bytes").GetInt64()} bytes", Encoding.UTF8.GetString(text), StringComparison.Ordinal);
        Assert.Equal($"digest: {digest}", LastLine(text));
    }

    [Fact]
    public void Restore_json_of_a_refused_stream_is_one_object_naming_offset_record_field_and_check()
    {
        using var dir = new TempDir();
        string file = dir.File("pv.xl");
        var (saveCode, _, saveErr) = CaptureTestSupport.RunCli(null, "save", "--guest", "pv", "--memory", "8M", "--vcpus", "1", "-o", file);
        Assert.True(saveCode == 0, saveErr);
        byte[] whole = File.ReadAllBytes(file);
        File.WriteAllBytes(file, whole.AsSpan(0, whole.Length - 4096).ToArray());

        var (code, stdout, stderr) = CaptureTestSupport.RunCli(null, "restore", file, "--json");
        Assert.Equal(1, code);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(file, root.GetProperty("input").GetString());
        Assert.False(root.GetProperty("ok").GetBoolean());
        var error = root.GetProperty("error");
        Assert.True(error.GetProperty("offset").GetInt64() > 0);
        Assert.False(string.IsNullOrEmpty(error.GetProperty("layer").GetString()));
        Assert.Contains(error.GetProperty("problem").GetString()!, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Save_to_stdout_reports_on_stderr_and_restore_reads_stdin()
    {
        var (saveCode, stream, saveErr) = CaptureTestSupport.RunCli(null, "save", "--guest", "pvh", "--memory", "6M", "--format", "libxc",
            "--stream-version", "2", "-o", "-");
        Assert.Equal(0, saveCode);
        string digest = LastLine(saveErr);
        Assert.Matches("^digest: [0-9a-f]{64}$", digest);

        var (code, restoreOut, restoreErr) = CaptureTestSupport.RunCli(stream, "restore", "-", "--guest", "pvh", "--memory", "6M");
        Assert.True(code == 0, restoreErr);
        Assert.Equal(digest, LastLine(restoreOut));

        var (noConfig, _, why) = CaptureTestSupport.RunCli(stream, "restore", "-");
        Assert.Equal(2, noConfig);
        Assert.Contains("--memory", why, StringComparison.Ordinal);
    }

    [Fact]
    public void Restore_of_a_broken_stream_exits_1_and_names_offset_record_and_check()
    {
        using var dir = new TempDir();
        string file = dir.File("hvm.bin");
        var (saveCode, _, saveErr) = CaptureTestSupport.RunCli(null, "save", "--guest", "hvm", "--memory", "4M", "--format", "libxl", "-o", file);
        Assert.True(saveCode == 0, saveErr);
        byte[] bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(bytes.Length - 200)]);

        var (code, _, err) = CaptureTestSupport.RunCli(null, "restore", file, "--memory", "4M");
        Assert.Equal(1, code);
        Assert.Contains("offset", err, StringComparison.Ordinal);
        Assert.Contains("[stream.", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Demo_migrates_verifies_and_proves_the_digests_equal()
    {
        var (code, stdout, stderr) = CaptureTestSupport.RunCli(null, "demo", "--memory", "16M", "--transport", "tcp", "--guest", "pv32");
        string text = Encoding.UTF8.GetString(stdout);
        Assert.True(code == 0, text + stderr);
        Assert.Contains("verify (strict, on the fly): VALID", text, StringComparison.Ordinal);
        Assert.Contains("downtime:", text, StringComparison.Ordinal);
        Assert.Contains("throughput:", text, StringComparison.Ordinal);
        Assert.Equal("digests equal", LastLine(text));
    }
}
