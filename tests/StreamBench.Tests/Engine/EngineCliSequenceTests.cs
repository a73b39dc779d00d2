using System.Text;
using StreamBench.Capture.Format;
using StreamBench.Domain;
using StreamBench.Domain.Workloads;
using StreamBench.Engine.Migration;
using StreamBench.Engine.Save;
using StreamBench.Tests.Capture;
using StreamBench.Tests.Hostile;
using Xunit;

namespace StreamBench.Tests.Engine;

/// <summary>
/// <c>save --postcopy|--colo --back-channel</c>, <c>restore --dialect postcopy-rfc|--colo --back-channel</c> and
/// <c>replay --to-engine</c> of recorded post-copy and COLO sessions, through files, as a user runs them.
/// </summary>
public sealed class EngineCliSequenceTests
{
    private static string LastLine(string text) => text.TrimEnd().Split('\n')[^1];

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
