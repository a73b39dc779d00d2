using System.Diagnostics;
using StreamBench.Tests.Capture;
using Xunit;

namespace StreamBench.Tests.Hostile;

/// <summary>
/// Issue #12's back-channel outputs under the house rule "a failed restore or capture loses nothing that was already
/// safely written, and outputs appear only complete": a post-copy or COLO save's main stream and a restore's back
/// channel go through a temporary file renamed into place on success, as every other output does; only FIFOs, devices,
/// sockets and /dev/stdout are written in place.
/// </summary>
[Collection("Console")]
public sealed class HostileBackChannelTests
{
    private const string Kept = "an earlier, complete file\n";

    private static void AssertOnlyFiles(TempDir dir, params string[] names) =>
        Assert.Equal(names.Order(StringComparer.Ordinal), Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));

    private static string PostcopyStream(TempDir dir)
    {
        string file = dir.File("postcopy.libxl");
        var (code, err) = HostileInputTests.Run("save", "--guest", "hvm", "--memory", "4M", "--format", "libxl", "--postcopy", "--max-iterations", "1",
            "--workload", "hotset:256", "--back-channel", "/dev/null", "-o", file);
        Assert.True(code == 0, err);
        return file;
    }

    [Fact]
    public void A_colo_save_whose_secondary_breaks_the_handshake_exits_1_and_leaves_the_existing_output_untouched()
    {
        using var dir = new TempDir();
        string junk = dir.File("back.junk"), output = dir.File("primary.libxl");
        File.WriteAllBytes(junk, Enumerable.Range(0, 4096).Select(i => (byte)(i * 131 + 7)).ToArray());
        File.WriteAllText(output, Kept);

        var r = HostileInputTests.Run("save", "--guest", "hvm", "--memory", "4M", "--format", "libxl", "--colo", "--checkpoints", "2",
            "--back-channel", junk, "-o", output);

        HostileInputTests.AssertClean(r, "COLO save with a junk back channel");
        Assert.True(r.Code == 1, $"exit {r.Code}: {r.Err}");
        Assert.Contains("SVM_READY", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", r.Err, StringComparison.Ordinal);
        Assert.Equal(Kept, File.ReadAllText(output)); // the main stream had begun: it went to a temporary file, now deleted
        AssertOnlyFiles(dir, "back.junk", "primary.libxl");
    }

    [Fact]
    public void A_failed_postcopy_restore_leaves_no_partial_back_channel_and_does_not_clobber_an_existing_one()
    {
        using var dir = new TempDir();
        string stream = PostcopyStream(dir);
        byte[] whole = File.ReadAllBytes(stream);
        string cut = dir.File("cut.libxl"), back = dir.File("faults.bin");
        File.WriteAllBytes(cut, whole.AsSpan(0, whole.Length - 1000).ToArray()); // cut inside the post-copy phase
        File.WriteAllText(back, Kept);

        var r = HostileInputTests.Run("restore", cut, "--guest", "hvm", "--memory", "4M", "--dialect", "postcopy-rfc", "--back-channel", back,
            "--touches", "64");

        HostileInputTests.AssertClean(r, "restore of a cut post-copy stream");
        Assert.True(r.Code == 1, $"exit {r.Code}: {r.Err}");
        Assert.Equal(Kept, File.ReadAllText(back));
        AssertOnlyFiles(dir, "postcopy.libxl", "cut.libxl", "faults.bin");

        // Without an earlier file, a failed restore leaves none.
        File.Delete(back);
        var again = HostileInputTests.Run("restore", cut, "--guest", "hvm", "--memory", "4M", "--dialect", "postcopy-rfc", "--back-channel", back);
        Assert.True(again.Code == 1, $"exit {again.Code}: {again.Err}");
        AssertOnlyFiles(dir, "postcopy.libxl", "cut.libxl");
    }

    [Fact]
    public void A_failed_colo_restore_leaves_no_partial_back_channel()
    {
        using var dir = new TempDir();
        string junk = dir.File("junk.libxl"), back = dir.File("secondary.bin");
        File.WriteAllBytes(junk, Enumerable.Range(0, 4096).Select(i => (byte)(i * 31 + 1)).ToArray());
        File.WriteAllText(back, Kept);

        var r = HostileInputTests.Run("restore", junk, "--guest", "hvm", "--memory", "4M", "--format", "libxl", "--colo", "--back-channel", back);

        HostileInputTests.AssertClean(r, "COLO restore of junk");
        Assert.True(r.Code == 1, $"exit {r.Code}: {r.Err}");
        Assert.Equal(Kept, File.ReadAllText(back));
        AssertOnlyFiles(dir, "junk.libxl", "secondary.bin");
    }

    [Fact]
    public void A_successful_postcopy_restore_replaces_the_back_channel_file_whole()
    {
        using var dir = new TempDir();
        string stream = PostcopyStream(dir);
        string back = dir.File("faults.bin");
        File.WriteAllText(back, Kept);

        var r = HostileInputTests.Run("restore", stream, "--guest", "hvm", "--memory", "4M", "--dialect", "postcopy-rfc", "--back-channel", back);

        Assert.True(r.Code == 0, r.Err);
        byte[] written = File.ReadAllBytes(back);
        Assert.NotEqual(Kept, System.Text.Encoding.ASCII.GetString(written));
        Assert.True(written.Length >= 8 && written.Length % 8 == 0, $"{written.Length} bytes: the back channel is whole records");
        AssertOnlyFiles(dir, "postcopy.libxl", "faults.bin");
    }
}

/// <summary>A [Fact] that needs mkfifo (Linux); skipped, with the reason, otherwise.</summary>
public sealed class FifoFactAttribute : FactAttribute
{
    /// <summary>Sets Skip when FIFOs cannot be made.</summary>
    public FifoFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !(File.Exists("/usr/bin/mkfifo") || File.Exists("/bin/mkfifo")))
        {
            Skip = "needs Linux and mkfifo(1) for named pipes between two processes";
        }
    }
}

/// <summary>
/// Save and restore as two processes over two FIFOs (the main stream one, the back channel the other): how an operator
/// runs post-copy and COLO between two processes. Both open the back channel first and the main stream second, and
/// neither reads before both are open; the other way round they waited for each other for ever. A timeout turns a
/// regression into a failure, never a hang.
/// </summary>
public sealed class TwoProcessFifoTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    private static void MakeFifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo") { ArgumentList = { path }, UseShellExecute = false })!;
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(30)) && p.ExitCode == 0, "mkfifo " + path);
    }

    private static string LastLine(string text) => text.TrimEnd().Split('\n')[^1];

    /// <summary>Runs both commands at once; each must exit 0 within the limit. Their standard outputs.</summary>
    private static (string Save, string Restore) RunPair(string[] save, string[] restore)
    {
        using var s = CaptureTestSupport.StartCli(save);
        using var r = CaptureTestSupport.StartCli(restore);
        s.StandardInput.Close();
        r.StandardInput.Close();
        var sOut = s.StandardOutput.ReadToEndAsync();
        var sErr = s.StandardError.ReadToEndAsync();
        var rOut = r.StandardOutput.ReadToEndAsync();
        var rErr = r.StandardError.ReadToEndAsync();
        bool done = s.WaitForExit(Limit) & r.WaitForExit(Limit);
        if (!done)
        {
            s.Kill(entireProcessTree: true);
            r.Kill(entireProcessTree: true);
            Assert.Fail($"save and restore over FIFOs did not finish within {Limit.TotalSeconds} s (deadlock?)");
        }

        Assert.True(s.ExitCode == 0, $"save exit {s.ExitCode}: {sErr.Result}{sOut.Result}");
        Assert.True(r.ExitCode == 0, $"restore exit {r.ExitCode}: {rErr.Result}{rOut.Result}");
        return (sOut.Result, rOut.Result);
    }

    /// <summary>A post-copy save and restore of a 4 MiB HVM guest as two processes over two FIFOs.</summary>
    private static (string Save, string Restore) RunPostcopyPair(params string[] restoreExtra)
    {
        using var dir = new TempDir();
        string main = dir.File("main"), back = dir.File("back");
        MakeFifo(main);
        MakeFifo(back);
        return RunPair(
            ["save", "--guest", "hvm", "--memory", "4M", "--format", "libxl", "--postcopy", "--max-iterations", "1", "--workload", "hotset:256",
                "--back-channel", back, "-o", main],
            ["restore", main, "--guest", "hvm", "--memory", "4M", "--dialect", "postcopy-rfc", "--back-channel", back, .. restoreExtra]);
    }

    [FifoFact]
    public void Postcopy_save_and_restore_as_two_processes_over_fifos_end_with_equal_digests()
    {
        var (save, restore) = RunPostcopyPair();

        Assert.Contains("the destination confirmed (POSTCOPY_COMPLETE)", save, StringComparison.Ordinal); // the back channel carried it
        Assert.Contains("POSTCOPY_COMPLETE sent", restore, StringComparison.Ordinal);
        Assert.Matches("^digest: [0-9a-f]{64}$", LastLine(save));
        Assert.Equal(LastLine(save), LastLine(restore));
    }

    [FifoFact]
    public void Postcopy_over_fifos_with_a_running_guest_completes()
    {
        var (save, restore) = RunPostcopyPair("--touches", "256");

        Assert.Contains("the destination confirmed (POSTCOPY_COMPLETE)", save, StringComparison.Ordinal);
        // Every announced page arrived once, whether on fault or in the background (how many faults depends on timing).
        Assert.Matches(@"post-copy: ([1-9]\d*) page\(s\) announced, \1 arrived after the transition; \d+ fault\(s\) sent", restore);
        Assert.Contains("POSTCOPY_COMPLETE sent", restore, StringComparison.Ordinal);
    }

    [FifoFact]
    public void Colo_primary_and_secondary_as_two_processes_over_fifos_agree_at_every_checkpoint()
    {
        using var dir = new TempDir();
        string main = dir.File("main"), back = dir.File("back");
        MakeFifo(main);
        MakeFifo(back);

        var (save, restore) = RunPair(
            ["save", "--guest", "hvm", "--memory", "4M", "--format", "libxl", "--colo", "--checkpoints", "3", "--back-channel", back, "-o", main],
            ["restore", main, "--guest", "hvm", "--memory", "4M", "--colo", "--back-channel", back]);

        Assert.Contains("the primary stops: the secondary takes over", save, StringComparison.Ordinal);
        Assert.Contains("COLO: 3 checkpoint(s) applied", restore, StringComparison.Ordinal);
        string[] primary = [.. save.Split('\n').Where(l => l.Contains("digest at suspend:", StringComparison.Ordinal)).Select(l => l.Trim()[^64..])];
        string[] secondary = [.. restore.Split('\n').Where(l => l.TrimStart().StartsWith("checkpoint ", StringComparison.Ordinal)).Select(l => l.Split("digest ")[1][..64])];
        Assert.Equal(3, primary.Length);
        Assert.Equal(primary, secondary);
        Assert.Equal(LastLine(save), LastLine(restore));
        Assert.DoesNotContain("-1 pfn(s)", restore, StringComparison.Ordinal); // the last checkpoint sends no dirty list: said so
        Assert.Contains("no dirty list", restore, StringComparison.Ordinal);
    }
}
