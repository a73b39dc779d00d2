using StreamBench.Capture.Format;
using StreamBench.Formats.Synthesis;
using Xunit;

namespace StreamBench.Tests.Capture;

/// <summary>The commands, run as the user runs them: <c>dotnet streambench.dll ...</c> in a child process.</summary>
public sealed class CliCaptureTests
{
    [Fact]
    public void Record_transport_forwards_both_ways_and_export_gives_back_both_directions()
    {
        using var dir = new TempDir();
        var stream = CaptureTestSupport.SenderStream(400);
        var cap = dir.File("t.cap");
        // `cat` as the receiver echoes s2r back as r2s.
        var (code, stdout, stderr) = CaptureTestSupport.RunCli(stream, "record", "--transport", "-o", cap, "--", "cat");
        Assert.True(code == 0, stderr);
        Assert.Equal(stream, stdout);
        var (e1, _, err1) = CaptureTestSupport.RunCli(null, "export", cap, "-o", dir.File("s2r.bin"));
        var (e2, _, err2) = CaptureTestSupport.RunCli(null, "export", cap, "--direction", "r2s", "-o", dir.File("r2s.bin"));
        Assert.True(e1 == 0, err1);
        Assert.True(e2 == 0, err2);
        Assert.Equal(stream, File.ReadAllBytes(dir.File("s2r.bin")));
        Assert.Equal(stream, File.ReadAllBytes(dir.File("r2s.bin")));
        using var c = CaptureFile.Open(cap);
        Assert.Equal("transport", c.Metadata[CaptureMetadata.Mode]);
        Assert.Contains(c.Events, e => e.Code == CaptureEventCode.ChildExited && e.Value == 0);
    }

    [Fact]
    public void Record_passes_on_the_child_exit_code()
    {
        using var dir = new TempDir();
        var (code, _, _) = CaptureTestSupport.RunCli([1, 2, 3], "record", "--transport", "-o", dir.File("x.cap"), "--", "sh", "-c", "cat >/dev/null; exit 7");
        Assert.Equal(7, code);
    }

    [Fact]
    public void Replay_to_a_command_and_diff_exit_codes()
    {
        using var dir = new TempDir();
        var stream = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Xl, Pages = 64 });
        var file = dir.File("s.bin");
        File.WriteAllBytes(file, stream);
        var (code, _, err) = CaptureTestSupport.RunCli(null, "replay", file, "--to-command", "cat > " + dir.File("got.bin"));
        Assert.True(code == 0, err);
        Assert.Equal(stream, File.ReadAllBytes(dir.File("got.bin")));
        var (same, text, _) = CaptureTestSupport.RunCli(null, "diff", file, dir.File("got.bin"));
        Assert.Equal(0, same);
        Assert.Contains("equal", System.Text.Encoding.UTF8.GetString(text), StringComparison.Ordinal);
        var (cutCode, _, cutErr) = CaptureTestSupport.RunCli(null, "replay", file, "--cut-at-record", "5", "-o", dir.File("cut.bin"));
        Assert.True(cutCode == 0, cutErr);
        var (differ, text2, _) = CaptureTestSupport.RunCli(null, "diff", file, dir.File("cut.bin"));
        Assert.Equal(1, differ);
        Assert.Contains("differences", System.Text.Encoding.UTF8.GetString(text2), StringComparison.Ordinal);
        var (bad, _, _) = CaptureTestSupport.RunCli(null, "diff", file, dir.File("missing.bin"));
        Assert.Equal(2, bad);
    }

    [Fact]
    public void A_recorder_killed_at_random_moments_leaves_a_capture_readable_up_to_its_last_complete_chunk()
    {
        using var dir = new TempDir();
        var stream = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Xl, Pages = 8192, BatchSize = 1024 });
        var random = new Random(11);
        for (var round = 0; round < 3; round++)
        {
            var cap = dir.File($"k{round}.cap");
            using var p = CaptureTestSupport.StartCli("record", "-i", "-", "-o", cap);
            _ = p.StandardError.ReadToEndAsync();
            var fed = 0;
            var killAt = random.Next(2_000_000, stream.Length - 1_000_000);
            try
            {
                while (fed < stream.Length)
                {
                    var n = Math.Min(random.Next(1_000, 300_000), stream.Length - fed);
                    p.StandardInput.BaseStream.Write(stream, fed, n);
                    p.StandardInput.BaseStream.Flush();
                    fed += n;
                    if (fed >= killAt)
                    {
                        Thread.Sleep(random.Next(0, 30));
                        p.Kill(); // SIGKILL
                        break;
                    }
                }
            }
            catch (IOException)
            {
                // The pipe broke: the kill raced the write.
            }
            p.WaitForExit();
            using var c = CaptureFile.Open(cap);
            Assert.NotEqual(CaptureEndState.Corrupt, c.EndState);
            Assert.NotEqual(CaptureEndState.Complete, c.EndState);
            Assert.Equal(c.FileLength, c.ValidLength + c.LostBytes);
            var length = c.LengthOf(CaptureDirection.SenderToReceiver);
            Assert.True(length <= fed);
            using var s = c.OpenDirection(CaptureDirection.SenderToReceiver);
            var got = new byte[length];
            s.ReadExactly(got);
            Assert.True(got.AsSpan().SequenceEqual(stream.AsSpan(0, (int)length)), $"round {round}: the recorded bytes are not a prefix of the stream");
            // The index, recorded or rebuilt, covers only whole items of that prefix.
            var index = c.IndexFor(CaptureDirection.SenderToReceiver);
            Assert.All(index, e => Assert.True(e.End <= length));
        }
    }
}
