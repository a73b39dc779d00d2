using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using StreamBench.Capture.Format;
using StreamBench.Domain;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
using StreamBench.Engine.Save;
using StreamBench.Tests.Capture;
using StreamBench.Tests.Hostile;
using Xunit;

namespace StreamBench.Tests.Engine;

/// <summary>A [Fact] that needs mkfifo (Linux): skipped, with the reason, otherwise.</summary>
public sealed class FifoFactAttribute : FactAttribute
{
    /// <summary>Sets Skip when the machine cannot make FIFOs.</summary>
    public FifoFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/mkfifo") && !File.Exists("/bin/mkfifo"))
        {
            Skip = "needs Linux and mkfifo: the two processes talk over a pair of FIFOs";
        }
    }
}

/// <summary>
/// <c>save --postcopy|--colo --back-channel</c>, <c>restore --dialect postcopy-rfc|--colo --back-channel</c> and
/// <c>replay --to-engine</c> of a recorded post-copy session: the two sides as separate processes over two FIFOs (the
/// main stream and the back channel), or through files, as a user runs them.
/// </summary>
public sealed partial class EngineCliSequenceTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    [GeneratedRegex(@"checkpoint (\d+): .*digest at suspend: ([0-9a-f]{64})")]
    private static partial Regex PrimaryCheckpoint();

    [GeneratedRegex(@"checkpoint (\d+): digest ([0-9a-f]{64})")]
    private static partial Regex SecondaryCheckpoint();

    private static string LastLine(string text) => text.TrimEnd().Split('\n')[^1];

    private static void MakeFifo(string path)
    {
        using var p = Process.Start("mkfifo", [path]);
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(10)) && p.ExitCode == 0, "mkfifo " + path);
    }

    // Runs two CLI processes at the same time; both must finish.
    private static ((int Code, string Out, string Err) A, (int Code, string Out, string Err) B) RunPair(string[] a, string[] b)
    {
        using var pa = CaptureTestSupport.StartCli(a);
        using var pb = CaptureTestSupport.StartCli(b);
        pa.StandardInput.Close();
        pb.StandardInput.Close();
        var outA = pa.StandardOutput.ReadToEndAsync();
        var errA = pa.StandardError.ReadToEndAsync();
        var outB = pb.StandardOutput.ReadToEndAsync();
        var errB = pb.StandardError.ReadToEndAsync();
        bool done = pa.WaitForExit(Limit) & pb.WaitForExit(Limit);
        if (!done)
        {
            pa.Kill(entireProcessTree: true);
            pb.Kill(entireProcessTree: true);
            Assert.Fail($"streambench {string.Join(' ', a)} | {string.Join(' ', b)} did not finish within {Limit}");
        }

        return ((pa.ExitCode, outA.Result, errA.Result), (pb.ExitCode, outB.Result, errB.Result));
    }

    [Fact]
    public void A_postcopy_save_into_a_file_restores_as_a_destination_to_the_source_digest()
    {
        using var dir = new TempDir();
        string file = dir.File("postcopy.libxl");
        var (saveCode, saveOut, saveErr) = CaptureTestSupport.RunCli(null, "save", "--guest", "hvm", "--memory", "4M", "--format", "libxl",
            "--postcopy", "--max-iterations", "1", "--dirty-threshold", "1", "--workload", "hotset:256", "--back-channel", "/dev/null", "-o", file);
        string saved = Encoding.UTF8.GetString(saveOut);
        Assert.True(saveCode == 0, saved + saveErr);
        Assert.Contains("post-copy (RFC dialect)", saved, StringComparison.Ordinal);
        Assert.Contains("no POSTCOPY_COMPLETE", saved, StringComparison.Ordinal); // nobody answered: every page in the background
        string digest = LastLine(saved);
        Assert.Matches("^digest: [0-9a-f]{64}$", digest);

        // Read as upstream, the RFC records are unknown; as the RFC dialect it restores to the source's state.
        var (upstream, _, why) = CaptureTestSupport.RunCli(null, "restore", file, "--memory", "4M", "--guest", "hvm");
        Assert.Equal(1, upstream);
        Assert.Contains("offset", why, StringComparison.Ordinal);

        var (code, restoreOut, restoreErr) = CaptureTestSupport.RunCli(null, "restore", file, "--memory", "4M", "--guest", "hvm", "--dialect", "postcopy-rfc");
        string restored = Encoding.UTF8.GetString(restoreOut);
        Assert.True(code == 0, restored + restoreErr);
        Assert.Matches(@"post-copy: [1-9]\d* page\(s\) announced", restored);
        Assert.Equal(digest, LastLine(restored));
    }

    [FifoFact]
    public void Postcopy_save_and_restore_run_as_two_processes_over_two_fifos_with_faults_and_complete()
    {
        using var dir = new TempDir();
        string main = dir.File("main"), back = dir.File("back");
        MakeFifo(main);
        MakeFifo(back);
        var (save, restore) = RunPair(
            ["save", "--guest", "hvm", "--memory", "4M", "--format", "libxl", "--postcopy", "--max-iterations", "1", "--dirty-threshold", "1",
                "--workload", "hotset:256", "-o", main, "--back-channel", back],
            ["restore", main, "--memory", "4M", "--guest", "hvm", "--dialect", "postcopy-rfc", "--back-channel", back, "--touches", "256"]);
        Assert.True(save.Code == 0, save.Out + save.Err);
        Assert.True(restore.Code == 0, restore.Out + restore.Err);
        Assert.Contains("the destination confirmed (POSTCOPY_COMPLETE)", save.Out, StringComparison.Ordinal);
        Assert.Contains("POSTCOPY_COMPLETE sent", restore.Out, StringComparison.Ordinal);
        Assert.Matches(@"post-copy: [1-9]\d* page\(s\) announced, [1-9]\d* arrived after the transition; \d+ fault\(s\) sent", restore.Out);
        Assert.Matches(@"\d+ fault\(s\) received", save.Out);
    }

    [FifoFact]
    public void Colo_primary_and_secondary_run_as_two_processes_and_agree_on_every_checkpoint_digest()
    {
        using var dir = new TempDir();
        string main = dir.File("main"), back = dir.File("back");
        MakeFifo(main);
        MakeFifo(back);
        var (primary, secondary) = RunPair(
            ["save", "--guest", "hvm", "--memory", "4M", "--format", "libxl", "--colo", "--checkpoints", "3", "--workload", "hotset:64",
                "-o", main, "--back-channel", back],
            ["restore", main, "--memory", "4M", "--guest", "hvm", "--colo", "--back-channel", back, "--workload", "hotset:16"]);
        Assert.True(primary.Code == 0, primary.Out + primary.Err);
        Assert.True(secondary.Code == 0, secondary.Out + secondary.Err);
        var p = PrimaryCheckpoint().Matches(primary.Out).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        var s = SecondaryCheckpoint().Matches(secondary.Out).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        Assert.Equal(3, p.Count);
        Assert.Equal(p, s);
        Assert.Contains("COLO: 3 checkpoint(s) applied; failover:", secondary.Out, StringComparison.Ordinal);
        Assert.Contains("the primary stops: the secondary takes over", primary.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_recorded_postcopy_session_replays_into_the_engine_and_its_faults_are_the_recorded_back_channel()
    {
        using var dir = new TempDir();
        using GuestDomain source = EngineTestSupport.Build(GuestType.Hvm, mib: 4, vcpus: 1);
        PostcopyReport run = PostcopyRunner.Run(source, new PostcopyOptions
        {
            Format = SaveFormat.Libxl, Policy = new PrecopyPolicy(1, 1), Workload = new WorkloadOptions(WorkloadPattern.HotSet, 256, 1),
            GuestTouches = 256, GuestSeed = 3, Record = true,
        });
        run.Restore?.Domain.Discard();
        Assert.Equal(PostcopyOutcome.Completed, run.Outcome);
        string capture = dir.File("postcopy.cap");
        using (var w = CaptureWriter.Create(capture))
        {
            w.WriteData(CaptureDirection.SenderToReceiver, run.MainStream, 0);
            w.WriteData(CaptureDirection.ReceiverToSender, run.BackChannel, 1);
            w.WriteEvent(CaptureEventCode.DirectionEnd, CaptureDirection.SenderToReceiver, run.MainStream!.Length);
            w.WriteEvent(CaptureEventCode.DirectionEnd, CaptureDirection.ReceiverToSender, run.BackChannel!.Length);
            w.Complete();
        }

        var (code, _, err) = CaptureTestSupport.RunCli(null, "replay", capture, "--to-engine", "--dialect", "postcopy-rfc", "--memory", "4M",
            "--guest", "hvm", "--vcpus", "1", "--touches", "256", "--touch-seed", "3");
        Assert.True(code == 0, err);
        Assert.Contains("simulated restore engine as a post-copy destination", err, StringComparison.Ordinal);
        Assert.Contains($"peer sent {run.BackChannel.Length} bytes, as recorded", err, StringComparison.Ordinal);
        Assert.Contains($"{run.Destination.Faults} fault(s), POSTCOPY_COMPLETE sent", err, StringComparison.Ordinal);
        Assert.Contains("digest: " + run.DestinationDigest, err, StringComparison.Ordinal);

        // Another vCPU faults elsewhere: the replay says where the engine's back channel left the recorded one.
        var (other, _, diverged) = CaptureTestSupport.RunCli(null, "replay", capture, "--to-engine", "--dialect", "postcopy-rfc", "--memory", "4M",
            "--guest", "hvm", "--vcpus", "1", "--touches", "256", "--touch-seed", "4", "--sequence", "none");
        Assert.True(other == 0, diverged);
        Assert.Contains("simulated restore engine as a post-copy destination", diverged, StringComparison.Ordinal);
    }

    [Fact]
    public void A_recorded_colo_session_replays_into_the_engine_as_a_secondary()
    {
        using var dir = new TempDir();
        using GuestDomain source = EngineTestSupport.Build(GuestType.Hvm, mib: 4, vcpus: 1);
        ColoReport run = ColoRunner.Run(source, new ColoOptions
        {
            Transport = MigrationTransport.Pipe, Checkpoints = 2, Format = SaveFormat.Libxl,
            PrimaryWorkload = new WorkloadOptions(WorkloadPattern.HotSet, 32, 1), RecordMainStream = true, RecordBackChannel = true,
        });
        run.Secondary?.Domain.Discard();
        Assert.Equal(ColoOutcome.PrimaryStopped, run.Outcome);
        string capture = dir.File("colo.cap");
        using (var w = CaptureWriter.Create(capture))
        {
            w.WriteData(CaptureDirection.SenderToReceiver, run.MainStream, 0);
            w.WriteData(CaptureDirection.ReceiverToSender, run.BackChannel, 1);
            w.WriteEvent(CaptureEventCode.DirectionEnd, CaptureDirection.SenderToReceiver, run.MainStream!.Length);
            w.WriteEvent(CaptureEventCode.DirectionEnd, CaptureDirection.ReceiverToSender, run.BackChannel!.Length);
            w.Complete();
        }

        // The recorded secondary was idle, as the engine's secondary in a replay is: the same messages come back.
        var (code, _, err) = CaptureTestSupport.RunCli(null, "replay", capture, "--to-engine", "--colo", "--memory", "4M", "--guest", "hvm", "--vcpus", "1");
        Assert.True(code == 0, err);
        Assert.Contains("2 COLO checkpoint(s) applied", err, StringComparison.Ordinal);
        Assert.Contains($"peer sent {run.BackChannel.Length} bytes, as recorded", err, StringComparison.Ordinal);
        Assert.Contains("digest: " + run.Checkpoints[^1].PrimaryDigest, err, StringComparison.Ordinal);
    }
}

/// <summary>The sequence options' usage errors, in-process through the hostile suite's runner (it swaps the console).</summary>
[Collection("Console")]
public sealed class EngineCliSequenceUsageTests
{
    [Theory]
    [InlineData("save --guest hvm --memory 4M --postcopy -o /dev/null", "--back-channel")]
    [InlineData("save --guest hvm --memory 4M --postcopy --colo --checkpoints 1 --back-channel /dev/null -o /dev/null", "two different sequences")]
    [InlineData("save --guest hvm --memory 4M --back-channel /dev/null -o /dev/null", "--back-channel is for")]
    [InlineData("save --guest hvm --memory 4M --postcopy --stream-version 3 --back-channel /dev/null -o /dev/null", "stream v2")]
    [InlineData("restore /dev/null --colo", "--back-channel")]
    [InlineData("restore /dev/null --back-channel /dev/null", "--back-channel is for")]
    [InlineData("restore /dev/null --touches 5", "--touches")]
    [InlineData("restore /dev/null --dialect sideways", "unknown dialect")]
    [InlineData("replay /dev/null --touches 5", "--to-engine")]
    [InlineData("replay /dev/null --to-engine --colo --dialect postcopy-rfc", "two different sequences")]
    public void Misused_sequence_options_are_usage_errors_that_say_why(string args, string expected)
    {
        var (code, err) = HostileInputTests.Run(args.Split(' '));
        Assert.True(code == 2, $"exit {code}: {err}");
        Assert.Contains(expected, err, StringComparison.Ordinal);
    }
}
