using StreamBench.Capture.Format;
using StreamBench.Capture.Input;
using StreamBench.Capture.Recording;
using StreamBench.Capture.Replay;
using StreamBench.Cli;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Tests.Capture;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Hostile;

/// <summary>
/// Issue #11's leftovers (bug 11's smaller items and .zst replay), each as a regression test: capture --info validates
/// what the CRCs cannot (index entries, footer counts, event directions, metadata payloads), wording, a wrapped memory
/// size, the tool version a capture records, legacy input lengths, the post-copy dialect hint, report and diff on
/// /dev/zero, replay of .zst streams and captures.
/// </summary>
[Collection("Console")]
public sealed class HostileLeftoverTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private static string CorpusFile(string name) => Path.Combine(Corpus.Root, "corpus", name);

    /// <summary>Runs the CLI in-process: exit code, standard output and standard error.</summary>
    private static (int Code, string Out, string Err) RunOut(params string[] args)
    {
        var err = new StringWriter();
        var output = new StringWriter();
        var oldErr = Console.Error;
        var oldOut = Console.Out;
        Console.SetError(err);
        Console.SetOut(output);
        try
        {
            var task = Task.Run(() => Program.Run(args));
            Assert.True(task.Wait(Limit), "streambench " + string.Join(' ', args) + " did not finish within " + Limit);
            return (task.Result, output.ToString(), err.ToString());
        }
        finally
        {
            Console.SetError(oldErr);
            Console.SetOut(oldOut);
        }
    }

    private static void AssertClean((int Code, string Out, string Err) r, string what) => HostileInputTests.AssertClean((r.Code, r.Err), what);

    // ---------------------------------------------------------------- capture --info

    public static TheoryData<string> Damages => new() { "index-length", "index-offset", "footer-counts", "event-direction", "metadata-payload" };

    /// <summary>A capture whose chunks all carry good CRCs, with one kind of inconsistent content (or none).</summary>
    private static void WriteCapture(string path, string? damage)
    {
        var stream = File.ReadAllBytes(CorpusFile("synthetic/xl-hvm.bin"));
        var entries = StreamIndexing.Build(new MemoryStream(stream), null).Entries.ToArray();
        using var w = CaptureWriter.Create(path);
        w.WriteMetadata(new CaptureMetadata { [CaptureMetadata.Tool] = Recorder.ToolName });
        w.WriteData(CaptureDirection.SenderToReceiver, stream, 1000);
        w.WriteEvent(CaptureEventCode.DirectionEnd, CaptureDirection.SenderToReceiver, stream.Length);
        switch (damage)
        {
            case "index-length":
                entries[^1] = entries[^1] with { Length = 9_200_000_000_000_000_000 };
                break;
            case "index-offset":
                entries[0] = entries[0] with { Offset = -8 };
                break;
            case "event-direction":
                w.WriteChunk(CaptureChunkType.Event, 7, 0, 2000, new byte[CaptureWire.EventFixedSize]);
                break;
            case "metadata-payload":
                w.WriteChunk(CaptureChunkType.Metadata, CaptureWire.NoDirection, 0, 2000, new byte[] { 0xff, 0xff, 0x01 });
                break;
        }
        w.WriteIndex(CaptureDirection.SenderToReceiver, entries);
        if (damage == "footer-counts")
        {
            var lie = new CaptureFooter(stream.Length + 1, 5, 99, entries.Length + 3, 0, CaptureFooter.SenderEnded);
            w.WriteChunk(CaptureChunkType.Footer, CaptureWire.NoDirection, 0, 3000, lie.ToPayload());
        }
        else
        {
            w.Complete();
        }
    }

    [Fact]
    public void An_intact_capture_is_complete_and_export_info_exits_0()
    {
        using var dir = new TempDir();
        var path = dir.File("good.sbcap");
        WriteCapture(path, null);
        using (var capture = CaptureFile.Open(path))
        {
            Assert.Equal(CaptureEndState.Complete, capture.EndState);
            Assert.Empty(capture.Inconsistencies);
        }
        var r = RunOut("export", path, "--info");
        AssertClean(r, "export --info");
        Assert.Equal(0, r.Code);
        Assert.Contains("recording: complete", r.Out, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public void Export_info_reports_inconsistent_contents_as_damage_never_complete(string damage)
    {
        using var dir = new TempDir();
        var path = dir.File(damage + ".sbcap");
        WriteCapture(path, damage);
        using (var capture = CaptureFile.Open(path))
        {
            Assert.Equal(CaptureEndState.Inconsistent, capture.EndState);
            Assert.NotEmpty(capture.Inconsistencies);
        }
        var r = RunOut("export", path, "--info");
        AssertClean(r, "export --info " + damage);
        Assert.Equal(1, r.Code);
        Assert.Contains("state: Inconsistent", r.Out, StringComparison.Ordinal);
        Assert.Contains("inconsistent: ", r.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("recording: complete", r.Out, StringComparison.Ordinal);
        // Replay and the input seam treat it as damaged too.
        var replay = RunOut("replay", path, "-o", dir.File("out"));
        AssertClean(replay, "replay " + damage);
        Assert.Equal(1, replay.Code);
    }

    // ---------------------------------------------------------------- wording and numbers

    [Fact]
    public void A_record_number_in_a_stream_without_records_says_so_without_0_to_minus_1()
    {
        using var dir = new TempDir();
        var empty = dir.File("xl-header-only");
        File.WriteAllBytes(empty, File.ReadAllBytes(CorpusFile("synthetic/xl-hvm.bin"))[..32]);
        var r = RunOut("replay", empty, "-o", dir.File("out"), "--cut-at-record", "0");
        AssertClean(r, "replay --cut-at-record");
        Assert.Equal(2, r.Code);
        Assert.Contains("no records", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("0..-1", r.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("99999999G")]
    [InlineData("99999999999999999G")]
    [InlineData("18446744073709551615K")]
    public void A_huge_memory_size_is_a_usage_error_never_a_wrapped_number(string size)
    {
        using var dir = new TempDir();
        foreach (var args in new[]
        {
            new[] { "save", "--guest", "pv", "--memory", size, "-o", dir.File("s.xl") },
            ["restore", CorpusFile("synthetic/libxc-hvm-v3.bin"), "--guest", "hvm", "--memory", size],
        })
        {
            var r = RunOut(args);
            AssertClean(r, string.Join(' ', args));
            Assert.Equal(2, r.Code);
            Assert.Contains("larger than the simulation's limit", r.Err, StringComparison.Ordinal);
            Assert.DoesNotContain("too few", r.Err, StringComparison.Ordinal); // the builder never sees a wrapped size
            Assert.False(File.Exists(dir.File("s.xl")));
        }
    }

    [Fact]
    public void A_capture_records_the_tool_version_that_version_prints()
    {
        using var dir = new TempDir();
        var (code, stdout, _) = CaptureTestSupport.RunCli(null, "--version");
        Assert.Equal(0, code);
        var version = System.Text.Encoding.UTF8.GetString(stdout).Trim();
        Assert.Matches(@"^\d+\.\d+\.\d+", version);
        var record = CaptureTestSupport.RunCli(null, "record", "-i", CorpusFile("synthetic/xl-migrate-s2r.bin"), "-o", dir.File("c.sbcap"), "-q");
        Assert.Equal(0, record.Code);
        using var capture = CaptureFile.Open(dir.File("c.sbcap"));
        Assert.Equal("streambench " + version, capture.Metadata[CaptureMetadata.Tool]);
        Assert.Equal("streambench " + version, Recorder.ToolName);
    }

    [Fact]
    public void Legacy_verify_and_inspect_report_the_input_length_and_the_converted_length_labelled()
    {
        var path = CorpusFile("legacy/pv32-guest64.legacy");
        var length = new FileInfo(path).Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var verify = RunOut("verify", path);
        AssertClean(verify, "verify legacy");
        Assert.Contains($", {length} bytes (a legacy image; the v3 stream it converts to: ", verify.Out, StringComparison.Ordinal);
        var inspect = RunOut("inspect", path);
        AssertClean(inspect, "inspect legacy");
        Assert.Contains($"length:       {length} bytes (a legacy image)", inspect.Out, StringComparison.Ordinal);
        Assert.Contains("converted:    ", inspect.Out, StringComparison.Ordinal);
        // A v3 stream keeps the one length line.
        var plain = RunOut("inspect", CorpusFile("synthetic/xl-hvm.bin"));
        Assert.DoesNotContain("converted:", plain.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_postcopy_stream_read_as_upstream_suggests_the_dialect_option()
    {
        var path = CorpusFile("synthetic/libxl-postcopy.bin");
        var verify = RunOut("verify", path);
        AssertClean(verify, "verify");
        Assert.Equal(1, verify.Code);
        Assert.Contains("--dialect postcopy-rfc", verify.Out, StringComparison.Ordinal);
        var inspect = RunOut("inspect", path);
        Assert.Contains("--dialect postcopy-rfc", inspect.Out, StringComparison.Ordinal);
        var restore = RunOut("restore", path, "--guest", "hvm", "--memory", "8M");
        AssertClean(restore, "restore");
        Assert.Equal(1, restore.Code);
        Assert.Contains("--dialect postcopy-rfc", restore.Err, StringComparison.Ordinal);
        Assert.Single(restore.Err.Trim().Split('\n'));
        // Read with the right dialect, there is nothing to hint.
        var right = RunOut("verify", path, "--dialect", "postcopy-rfc");
        Assert.Equal(0, right.Code);
        Assert.DoesNotContain("hint:", right.Out, StringComparison.Ordinal);
        // An upstream stream with no such sign gets no hint.
        Assert.DoesNotContain("hint:", RunOut("verify", CorpusFile("synthetic/xl-hvm.bin")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_and_diff_finish_on_dev_zero()
    {
        using var dir = new TempDir();
        foreach (var args in new[]
        {
            new[] { "report", "/dev/zero", "-o", dir.File("r.html") },
            ["diff", CorpusFile("synthetic/xl-hvm.bin"), "/dev/zero"],
            ["diff", "/dev/zero", CorpusFile("synthetic/xl-hvm.bin")],
        })
        {
            var r = RunOut(args);
            AssertClean(r, string.Join(' ', args));
        }
        Assert.NotEqual(0, RunOut("diff", CorpusFile("synthetic/xl-hvm.bin"), "/dev/zero").Code);
    }

    // ---------------------------------------------------------------- replay of .zst

    /// <summary>Compresses in-process (ZstdSharp, the library the input seam decompresses with): no zstd binary needed.</summary>
    private static string Zstd(string input, string output)
    {
        using (var target = File.Create(output))
        using (var compress = new ZstdSharp.CompressionStream(target))
        {
            compress.Write(File.ReadAllBytes(input));
        }
        return output;
    }

    [Fact]
    public void Replay_decompresses_a_zst_stream_or_capture_and_deletes_the_temporary_copy()
    {
        using var dir = new TempDir();
        var stream = CorpusFile("synthetic/xl-migrate-s2r.bin");
        var zst = Zstd(stream, dir.File("s.img.zst"));
        var r = RunOut("replay", zst, "-o", dir.File("out.img"));
        AssertClean(r, "replay .zst");
        Assert.Equal(0, r.Code);
        Assert.Equal(File.ReadAllBytes(stream), File.ReadAllBytes(dir.File("out.img")));

        Assert.Equal(0, RunOut("record", "-i", stream, "-o", dir.File("c.sbcap"), "-q").Code);
        var capZst = Zstd(dir.File("c.sbcap"), dir.File("c.sbcap.zst"));
        var cut = RunOut("replay", capZst, "-o", dir.File("cut.img"), "--cut-at-record", "3");
        AssertClean(cut, "replay capture .zst");
        Assert.Equal(0, cut.Code);
        var direct = RunOut("replay", dir.File("c.sbcap"), "-o", dir.File("cut-direct.img"), "--cut-at-record", "3");
        Assert.Equal(File.ReadAllBytes(dir.File("cut-direct.img")), File.ReadAllBytes(dir.File("cut.img")));

        // The library: the copy lives in the folder given and goes away on Dispose.
        var tmp = dir.File("tmp");
        Directory.CreateDirectory(tmp);
        using (var input = ReplayInput.Open(capZst, CaptureDirection.SenderToReceiver, temporaryDirectory: tmp))
        {
            Assert.Single(Directory.GetFiles(tmp));
            Assert.Contains("c.sbcap.zst (decompressed)", input.Description, StringComparison.Ordinal);
        }
        Assert.Empty(Directory.GetFiles(tmp));

        // A truncated .zst is an invalid input naming the compressed offset; nothing is left behind.
        var whole = File.ReadAllBytes(zst);
        File.WriteAllBytes(dir.File("t.zst"), whole[..(whole.Length / 2)]);
        Assert.Throws<StreamFormatException>(() => ReplayInput.Open(dir.File("t.zst"), CaptureDirection.SenderToReceiver, temporaryDirectory: tmp).Dispose());
        Assert.Empty(Directory.GetFiles(tmp));
        var t = RunOut("replay", dir.File("t.zst"), "-o", dir.File("t.out"));
        AssertClean(t, "replay truncated .zst");
        Assert.Equal(1, t.Code);
        Assert.Contains("compressed file", t.Err, StringComparison.Ordinal);
    }

    [RootFact]
    public void Replay_of_a_zst_that_does_not_fit_the_temporary_folder_is_a_clean_io_error()
    {
        using var dir = new TempDir();
        using var tmpfs = SmallTmpfs.Mount(dir.File("full"));
        var mnt = tmpfs.Path;
        var zst = Zstd(CorpusFile("synthetic/libxc-xtab.bin"), dir.File("big.zst")); // 165,784 bytes decompressed
        var e = Assert.Throws<IOException>(() => ReplayInput.Open(zst, CaptureDirection.SenderToReceiver, temporaryDirectory: mnt).Dispose());
        Assert.Contains("cannot decompress", e.Message, StringComparison.Ordinal);
        Assert.Contains(mnt, e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(mnt));
    }
}
