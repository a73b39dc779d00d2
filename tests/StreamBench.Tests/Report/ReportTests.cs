using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using StreamBench.Capture.Tools;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;
using StreamBench.Report;
using StreamBench.Tests.Capture;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Report;

/// <summary>The report library: figures against the verifier's summary, passes, checkpoints, QEVM sections, the semantic diff, campaigns.</summary>
public sealed class ReportTests
{
    private static string Html(ReportDocument doc)
    {
        var sw = new StringWriter();
        HtmlReport.Write(doc, sw);
        return sw.ToString();
    }

    private static StreamAnalysis Analyze(string path, ReportOptions? options = null) => ReportInputs.AnalyzeStream(path, options ?? new ReportOptions());

    [Fact]
    public void Report_of_a_synthetic_save_is_self_contained_and_shows_the_summary_figures()
    {
        using var dir = new TempDir();
        var file = dir.File("pv.bin");
        File.WriteAllBytes(file, SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Pv, Pages = 300 }));
        var a = Analyze(file);
        var html = Html(new ReportDocument { Title = "t", Streams = [a] });
        var s = a.Verification.Summary;
        Assert.True(a.Verification.IsValid);
        Assert.Contains($"data-figure=\"records\">{s.Records:N0}<", html, StringComparison.Ordinal);
        Assert.Equal(s.DataPages, a.Passes.Sum(p => p.DataPages));
        Assert.Equal(s.Records, a.Segments.Where(x => x.FirstRecord >= 0).Sum(x => x.Count));
        // Self-contained: nothing is fetched (the SVG namespace is a name, not a fetch).
        Assert.DoesNotContain("src=", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Equal(html.Split("http://").Length, html.Split("http://www.w3.org/2000/svg").Length);
        Assert.Contains("Content-Security-Policy", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_merges_page_runs_and_stays_bounded()
    {
        using var dir = new TempDir();
        var file = dir.File("big.bin");
        File.WriteAllBytes(file, SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Pages = 20000, BatchSize = 1 }));
        var a = Analyze(file, new ReportOptions { Analyzer = new AnalyzerOptions { MaxSegments = 100 } });
        Assert.True(a.Verification.Summary.PageDataRecords >= 20000);
        Assert.True(a.Segments.Count <= 200, $"{a.Segments.Count} pieces");
        Assert.Equal(a.Verification.Summary.Records, a.Segments.Where(x => x.FirstRecord >= 0).Sum(x => x.Count));
    }

    [Fact]
    public void Checkpointed_stream_gives_one_checkpoint_per_CHECKPOINT_END_and_the_discarded_tail()
    {
        var a = Analyze(Corpus.Get("synthetic/libxl-remus-failover.bin").Path);
        var s = a.Verification.Summary;
        Assert.True(s.Checkpointed);
        Assert.Equal(s.CheckpointsComplete, a.Checkpoints.Count(c => c.Complete));
        var html = Html(new ReportDocument { Title = "t", Streams = [a] });
        Assert.Contains("id=\"s0-checkpoints\"", html, StringComparison.Ordinal);
        if (s.CheckpointIncomplete)
        {
            Assert.Contains(a.Checkpoints, c => !c.Complete);
            Assert.Equal(s.DiscardedBytes, a.Checkpoints.Single(c => !c.Complete).Bytes);
        }
    }

    [Fact]
    public void Real_hvm_migration_passes_policy_and_qevm_sections()
    {
        var a = Analyze(Corpus.Get("real/migrate-hvm.s2r.zst").Path);
        Assert.True(a.Verification.IsValid);
        // Captured live migration of a 128 MiB HVM guest (docs/XENLAB.md): a full pass, live passes, a final pass.
        Assert.Equal(32764, a.Passes[0].DataPages);
        Assert.Equal(PassKind.Final, a.Passes[^1].Kind);
        Assert.All(a.Passes.Take(a.Passes.Count - 1), p => Assert.Equal(PassKind.Live, p.Kind));
        Assert.Equal(a.Verification.Summary.DataPages, a.Passes.Sum(p => p.DataPages));
        Assert.Equal(1, a.Vcpus);
        // QEVM: QEMU's sections, in order, covering the whole image (magic + version, sections, the EOF byte).
        Assert.Contains(a.Qevm, q => q.Name == "timer");
        Assert.Contains(a.Qevm, q => q.Name == "cpu_common");
        Assert.All(a.Qevm, q => Assert.True(q.Size > 0, q.Name));
        var payload = a.Verification.Summary.RecordCounts.Single(c => c.Name == "EMULATOR_CONTEXT").BodyBytes - LibxlWire.EmulatorSubHeaderSize;
        Assert.Equal(payload, 8 + a.Qevm.Sum(q => q.Size) + 1);
        var html = Html(new ReportDocument { Title = "t", Streams = [a] });
        Assert.Contains("data-figure=\"policy\"", html, StringComparison.Ordinal);
        foreach (var p in a.Passes)
        {
            Assert.Contains($"data-pages=\"{p.DataPages}\"", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Qevm_walk_uses_footers_when_present()
    {
        var image = new List<byte>();
        image.AddRange("QEVM"u8.ToArray());
        image.AddRange(new byte[] { 0, 0, 0, 3 });
        void Section(uint id, string name, int dataBytes)
        {
            image.Add(4);
            image.AddRange(BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness(id)));
            image.Add((byte)name.Length);
            image.AddRange(Encoding.ASCII.GetBytes(name));
            image.AddRange(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1 });
            image.AddRange(Enumerable.Repeat((byte)0x7E, dataBytes)); // data full of the footer byte, to mislead
            image.Add(0x7E);
            image.AddRange(BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness(id)));
        }
        Section(0, "timer", 17);
        Section(5, "apic", 40);
        image.Add(0);
        var r = QevmImage.Walk(image.ToArray(), 100, 7, 100);
        Assert.Null(r.Note);
        Assert.Equal(["timer", "apic"], r.Sections.Select(s => s.Name));
        Assert.Equal(1 + 4 + 1 + 5 + 8 + 17 + 5, r.Sections[0].Size);
        Assert.Equal(108, r.Sections[0].Offset);
        Assert.Equal(image.Count - 8 - 1, r.Sections.Sum(s => s.Size));
        Assert.NotNull(QevmImage.Walk("NOPE...."u8.ToArray(), 0, 0, 10).Note);
    }

    [Fact]
    public void Diff_of_two_real_saves_decodes_registers_entries_params_and_config_keys()
    {
        using var a = File.OpenRead(Corpus.Get("real/save-hvm.xl.zst").Path);
        using var b = File.OpenRead(Corpus.Get("real/save-pvh.xl.zst").Path);
        var r = SemanticDiff.Compare(a, b, "hvm", "pvh");
        Assert.False(r.Equal);
        Assert.Contains(r.Entries, e => e.Kind == "vcpu-register" && e.Name == "vCPU 0 rip");
        Assert.Contains(r.Entries, e => e.Kind == "vcpu-register" && e.Name == "vCPU 0 cr3");
        Assert.Contains(r.Entries, e => e.Kind == "hvm-entry" && e.Name.StartsWith("RTC[0]", StringComparison.Ordinal));
        Assert.Contains(r.Entries, e => e.Kind == "hvm-param");
        Assert.Contains(r.Entries, e => e.Kind == "xl-config" && e.Name == "c_info.type" && e.A == "\"hvm\"" && e.B == "\"pvh\"");
        Assert.True(r.PagesDifferent > 0);
        Assert.NotEmpty(r.PageRanges);
        Assert.True(r.Entries.Count > 1, "every difference, not only the first");
    }

    [Fact]
    public void Diff_finds_one_changed_page_and_one_changed_param()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Hvm, Pages = 64 });
        var changed = (byte[])bytes.Clone();
        long pageAt = -1, paramAt = -1;
        using (var reader = XenStreamReader.FromMemory(bytes))
        {
            while (reader.Read())
            {
                if (reader.Kind == StreamItemKind.Record && reader.Layer == StreamLayer.Libxc && reader.RecordType == (uint)LibxcRecordType.PageData && pageAt < 0)
                {
                    var count = BinaryPrimitives.ReadUInt32LittleEndian(reader.BodyPrefix(4));
                    pageAt = reader.BodyOffset + 8 + (count * 8L) + 100;
                }
                if (reader.Kind == StreamItemKind.Record && reader.Layer == StreamLayer.Libxc && reader.RecordType == (uint)LibxcRecordType.HvmParams)
                {
                    paramAt = reader.BodyOffset + 8 + 8; // the first entry's value
                }
                reader.FinishItem();
            }
        }
        Assert.True(pageAt > 0 && paramAt > 0);
        changed[pageAt] ^= 0xFF;
        changed[paramAt] ^= 0x01;
        var r = SemanticDiff.Compare(new MemoryStream(bytes), new MemoryStream(changed), "a", "b");
        Assert.Equal(1, r.PagesDifferent);
        Assert.Single(r.PageRanges);
        Assert.Equal(1ul, r.PageRanges[0].Count);
        var param = Assert.Single(r.Entries, e => e.Kind == "hvm-param");
        Assert.NotEqual(param.A, param.B);
        Assert.Equal(2, r.TotalDifferences);
        Assert.True(SemanticDiff.Compare(new MemoryStream(bytes), new MemoryStream(bytes), "a", "a").Equal);
    }

    [Fact]
    public void Diff_stops_on_endless_zeros()
    {
        using var zero = new FileStream("/dev/zero", FileMode.Open, FileAccess.Read);
        var b = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Xl, Pages = 16 });
        var r = SemanticDiff.Compare(zero, new MemoryStream(b), "zero", "b", new SemanticDiffOptions { MaxBytes = 64L << 20 });
        Assert.False(r.Equal);
        Assert.True(r.ItemsA <= 2, $"{r.ItemsA} items read from /dev/zero");
    }

    [Fact]
    public void Diff_cli_reads_stdin_and_prints_json()
    {
        using var dir = new TempDir();
        var a = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Pv, Pages = 32 });
        var b = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Pv, Pages = 40 });
        File.WriteAllBytes(dir.File("b.bin"), b);
        var (code, stdout, err) = CaptureTestSupport.RunCli(a, "diff", "-", dir.File("b.bin"), "--json");
        Assert.True(code == 1, err);
        using var doc = JsonDocument.Parse(stdout);
        Assert.False(doc.RootElement.GetProperty("equal").GetBoolean());
        Assert.Equal("standard input", doc.RootElement.GetProperty("a").GetString());
        Assert.True(doc.RootElement.GetProperty("pages").GetProperty("only_b").GetInt64() > 0);
        var (same, text, _) = CaptureTestSupport.RunCli(a, "diff", "-", "-");
        Assert.Equal(2, same);
        Assert.Empty(text);
    }

    [Fact]
    public void Capture_report_has_both_directions_and_the_arrival_profile()
    {
        using var dir = new TempDir();
        var s = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.XlMigrateSender, Pages = 200 });
        File.WriteAllBytes(dir.File("s.bin"), s);
        var (code, _, err) = CaptureTestSupport.RunCli(null, "record", "-i", dir.File("s.bin"), "-o", dir.File("s.cap"), "-q");
        Assert.True(code == 0, err);
        var (rc, _, rerr) = CaptureTestSupport.RunCli(null, "report", dir.File("s.cap"), "-o", dir.File("r.html"));
        Assert.True(rc == 0, rerr);
        var c = CaptureAnalyzer.Analyze(dir.File("s.cap"), new ReportOptions());
        Assert.Equal(s.Length, c.Profiles.Single(p => p.Direction == "s2r").Bins.Sum());
        Assert.Equal(s.Length, c.Sender.Verification.Summary.Length);
        var html = File.ReadAllText(dir.File("r.html"));
        Assert.Contains($"data-figure=\"bytes-s2r\">{s.Length:N0} bytes", html, StringComparison.Ordinal);
        Assert.Contains("data-figure=\"lost-bytes\">0", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Colo_capture_puts_checkpoints_and_back_channel_messages_on_one_timeline()
    {
        using var dir = new TempDir();
        var (backItems, _) = ColoCaptures.Write(dir.File("colo.cap"));
        var c = CaptureAnalyzer.Analyze(dir.File("colo.cap"), new ReportOptions());
        // The r2s direction is a COLO back channel, so the main stream is read as COLO (CHECKPOINT_NEW after each
        // CHECKPOINT_END) and is valid: a failover after its complete checkpoints.
        Assert.True(c.Sender.Verification.IsValid, string.Join("; ", c.Sender.Verification.Findings.Select(f => f.Message)));
        var cps = c.Sender.Checkpoints;
        Assert.True(cps.Count >= 2, $"{cps.Count} checkpoints");
        // Every checkpoint has arrival times, in order, and the back channel's messages all have theirs.
        Assert.All(cps, cp => Assert.True(cp.StartTimeNs > 0 && cp.EndTimeNs >= cp.StartTimeNs, cp.ToString()));
        Assert.True(cps.Zip(cps.Skip(1)).All(p => p.First.EndTimeNs <= p.Second.StartTimeNs));
        var back = Assert.IsType<StreamAnalysis>(c.Receiver).BackChannel;
        Assert.Equal(backItems, back.Count);
        Assert.All(back, m => Assert.True(m.TimeNs > 0));
        var html = Html(new ReportDocument { Title = "colo", Capture = c });
        Assert.Contains("-cptimeline", html, StringComparison.Ordinal);
        Assert.Contains("\"start_ns\":" + cps[0].StartTimeNs.ToString(System.Globalization.CultureInfo.InvariantCulture), html, StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_reads_a_legacy_image_as_the_stream_it_converts_to()
    {
        // Xen's converter's output of the same image: the same stream, record by record.
        var legacy = Corpus.Get("legacy/pv64-guest32-toolstack.legacy").Path;
        var (same, text, err) = CaptureTestSupport.RunCli(null, "diff", legacy, Corpus.Get("legacy/pv64-guest32-toolstack.libxl").Path);
        Assert.True(same == 0, Encoding.UTF8.GetString(text) + err);
        // Two different images: decoded differences (records, pages), never "compared as bytes".
        var (code, stdout, err2) = CaptureTestSupport.RunCli(null, "diff", legacy, Corpus.Get("legacy/pv32-guest64.legacy").Path, "--json");
        var json = Encoding.UTF8.GetString(stdout);
        Assert.True(code == 1, json + err2);
        Assert.DoesNotContain("compared as bytes", json, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(json);
        Assert.False(doc.RootElement.GetProperty("equal").GetBoolean());
        Assert.Contains("converted to v3", doc.RootElement.GetProperty("a").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Campaign_folder_gives_execs_edges_and_triage()
    {
        using var dir = new TempDir();
        var main = Path.Combine(dir.Path, "reader-libxc", "main");
        Directory.CreateDirectory(Path.Combine(main, "crashes"));
        File.WriteAllText(Path.Combine(main, "fuzzer_stats"), "execs_done        : 123456\nexecs_per_sec     : 2000.5\nedges_found       : 812\nstability         : 99.1%\n");
        File.WriteAllText(Path.Combine(main, "plot_data"),
            "# relative_time, cycles_done, cur_item, corpus_count, pending_total, pending_favs, map_size, saved_crashes, saved_hangs, max_depth, execs_per_sec, total_execs, edges_found\n" +
            "5, 0, 0, 10, 10, 1, 0.50%, 0, 0, 1, 1500.0, 7000, 300\n60, 1, 3, 40, 5, 0, 0.90%, 1, 0, 3, 2000.0, 120000, 812\n");
        File.WriteAllText(Path.Combine(main, "crashes", "id:000000,sig:06"), "x");
        Directory.CreateDirectory(Path.Combine(dir.Path, "reader-libxc", "triage"));
        File.WriteAllText(Path.Combine(dir.Path, "reader-libxc", "triage", "summary.tsv"), "bucket\toutcome\tinputs\nSystem.IndexOutOfRangeException @ X.Y:1\tUnexpectedException\t1\n");
        var cs = CampaignAnalyzer.Analyze(dir.Path);
        var c = Assert.Single(cs);
        Assert.Equal("reader-libxc", c.Target);
        var inst = Assert.Single(c.Instances);
        Assert.Equal([7000L, 120000L], inst.Points.Select(p => p.Execs));
        Assert.Equal([300L, 812L], inst.Points.Select(p => p.Edges));
        Assert.Equal(1, inst.CrashFiles);
        Assert.Single(c.Triage);
        var html = Html(new ReportDocument { Title = "f", Campaigns = cs });
        Assert.Contains("System.IndexOutOfRangeException @ X.Y:1", html, StringComparison.Ordinal);
        Assert.Contains(">123456<", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_of_a_truncated_stream_writes_the_page_and_exits_1()
    {
        using var dir = new TempDir();
        var s = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Xl, Pages = 64 });
        File.WriteAllBytes(dir.File("cut.bin"), s.AsSpan(0, s.Length / 2).ToArray());
        File.WriteAllBytes(dir.File("whole.bin"), s);

        var (code, _, err) = CaptureTestSupport.RunCli(null, "report", dir.File("cut.bin"), "-o", dir.File("cut.html"));
        Assert.True(code == 1, err);
        Assert.Contains("cut.bin", err, StringComparison.Ordinal);
        Assert.Contains("INVALID under the strict profile", err, StringComparison.Ordinal);
        Assert.Contains("data-verdict=\"INVALID\"", File.ReadAllText(dir.File("cut.html")), StringComparison.Ordinal);

        var (wholeCode, _, wholeErr) = CaptureTestSupport.RunCli(null, "report", dir.File("whole.bin"), "-o", dir.File("whole.html"));
        Assert.True(wholeCode == 0, wholeErr);
        Assert.Contains("data-verdict=\"valid\"", File.ReadAllText(dir.File("whole.html")), StringComparison.Ordinal);
    }

    [Fact]
    public void Report_cli_usage_errors_exit_2()
    {
        var (code, _, err) = CaptureTestSupport.RunCli(null, "report", "/nonexistent/x.bin", "-o", "/dev/null");
        Assert.Equal(2, code);
        Assert.Contains("x.bin", err, StringComparison.Ordinal);
    }
}
