using System.Buffers.Binary;
using StreamBench.Capture.Format;
using StreamBench.Capture.Recording;
using StreamBench.Capture.Tools;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;
using Xunit;

namespace StreamBench.Tests.Capture;

public sealed class ToolTests
{
    public static TheoryData<string> ScrubCases => new(Cases.Keys);

    private static readonly Dictionary<string, SyntheticStreamOptions> Cases = new()
    {
        ["xl-hvm"] = new() { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Hvm, Pages = 90, BatchSize = 16 },
        ["xl-migrate-pv"] = new() { Layer = SyntheticLayer.XlMigrateSender, Guest = SyntheticGuest.Pv, Pages = 70, Vcpus = 2 },
        ["libxc-xtab"] = new() { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 50, XtabEvery = 5, BatchSize = 7 },
        ["libxl-remus"] = new() { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Hvm, Pages = 40, Checkpoints = 3 },
        ["xl-debug"] = new() { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Pvh, Pages = 30, DebugVerify = true },
        ["postcopy"] = new() { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Hvm, Pages = 40, Dialect = StreamDialect.PostcopyRfc },
    };

    private static byte[] Scrub(byte[] stream, ScrubOptions options)
    {
        var output = new MemoryStream();
        StreamScrubber.ScrubStream(new MemoryStream(stream), output, options);
        return output.ToArray();
    }

    /// <summary>Every data page of every PAGE_DATA record: (offset, pfn).</summary>
    private static List<(long Offset, ulong Pfn)> DataPages(byte[] stream, StreamDialect dialect)
    {
        var pages = new List<(long, ulong)>();
        using var r = XenStreamReader.FromMemory(stream, new XenStreamReaderOptions { Dialect = dialect });
        while (r.Read())
        {
            var pageRecord = r.RecordType == (uint)LibxcRecordType.PageData || (dialect == StreamDialect.PostcopyRfc && r.RecordType == (uint)PostcopyRecordType.PostcopyPageData);
            if (r.Kind != StreamItemKind.Record || r.Layer != StreamLayer.Libxc || !pageRecord)
            {
                continue;
            }
            var body = r.GetBody();
            var count = BinaryPrimitives.ReadUInt32LittleEndian(body);
            var at = r.BodyOffset + 8 + (8 * count);
            for (var i = 0; i < count; i++)
            {
                var word = BinaryPrimitives.ReadUInt64LittleEndian(body[(8 + (8 * i))..]);
                if (PageWord.HasData(PageWord.TypeOf(word)))
                {
                    pages.Add((at, PageWord.PfnOf(word)));
                    at += LibxcWire.PageSize;
                }
            }
        }
        return pages;
    }

    [Theory]
    [MemberData(nameof(ScrubCases))]
    public void Scrubbed_streams_keep_their_structure_and_zero_pages_and_replace_every_other_page_with_the_pfn_pattern(string name)
    {
        var options = Cases[name];
        var stream = SyntheticStreams.Generate(options);
        var reader = new XenStreamReaderOptions { Dialect = options.Dialect };
        var scrubbed = Scrub(stream, new ScrubOptions { Seed = 42, Reader = reader });
        Assert.Equal(stream.Length, scrubbed.Length);
        Assert.Equal(CaptureTestSupport.Items(stream, reader), CaptureTestSupport.Items(scrubbed, reader));
        var pages = DataPages(stream, options.Dialect);
        Assert.NotEmpty(pages);
        var changed = new bool[stream.Length];
        var pattern = new byte[LibxcWire.PageSize];
        foreach (var (offset, pfn) in pages)
        {
            var before = stream.AsSpan((int)offset, LibxcWire.PageSize);
            var after = scrubbed.AsSpan((int)offset, LibxcWire.PageSize);
            if (!before.ContainsAnyExcept((byte)0))
            {
                Assert.False(after.ContainsAnyExcept((byte)0), "a zero page must stay zero");
                continue;
            }
            StreamScrubber.FillPattern(pattern, pfn, 42);
            Assert.True(after.SequenceEqual(pattern));
            changed.AsSpan((int)offset, LibxcWire.PageSize).Fill(true);
        }
        // Nothing outside page images changed.
        for (var i = 0; i < stream.Length; i++)
        {
            if (!changed[i])
            {
                Assert.Equal(stream[i], scrubbed[i]);
            }
        }
        // It still verifies when the verifier is in the build.
        var (present, valid, error) = CaptureTestSupport.VerifyIfPresent(scrubbed);
        if (present && options.Dialect == StreamDialect.Upstream)
        {
            var (_, originalValid, _) = CaptureTestSupport.VerifyIfPresent(stream);
            Assert.True(valid || !originalValid, error);
        }
    }

    [Fact]
    public void Scrubbing_is_deterministic_per_seed_and_idempotent()
    {
        var stream = SyntheticStreams.Generate(Cases["xl-hvm"]);
        var a = Scrub(stream, new ScrubOptions { Seed = 1 });
        Assert.Equal(a, Scrub(stream, new ScrubOptions { Seed = 1 }));
        Assert.Equal(a, Scrub(a, new ScrubOptions { Seed = 1 }));
        Assert.NotEqual(a, Scrub(stream, new ScrubOptions { Seed = 2 }));
    }

    [Fact]
    public void Shared_info_is_kept_unless_asked()
    {
        var stream = SyntheticStreams.Generate(Cases["xl-migrate-pv"]);
        var kept = Scrub(stream, new ScrubOptions());
        var replaced = Scrub(stream, new ScrubOptions { SharedInfo = true });
        var diff = new MemoryStream();
        var d = StreamDiff.Compare(new MemoryStream(kept), new MemoryStream(replaced));
        Assert.False(d.Equal);
        Assert.Contains("SHARED_INFO", d.First!.ItemA, StringComparison.Ordinal);
    }

    [Fact]
    public void Scrubbing_a_capture_scrubs_s2r_keeps_r2s_timing_and_index_and_redacts_the_host()
    {
        using var dir = new TempDir();
        var sender = CaptureTestSupport.SenderStream(120);
        var receiver = SyntheticStreams.MigrateReceiverSide();
        var path = dir.File("in.cap");
        using (var writer = CaptureWriter.Create(path))
        {
            writer.WriteMetadata(Recorder.StartMetadata("test", "stream", null, ["secret-command"], ["ssh", "secret-host"]));
            writer.WriteData(CaptureDirection.ReceiverToSender, receiver.AsMemory(0, 55), 5);
            for (var at = 0; at < sender.Length; at += 100_003)
            {
                writer.WriteData(CaptureDirection.SenderToReceiver, sender.AsMemory(at, Math.Min(100_003, sender.Length - at)), 10 + at);
            }
            writer.WriteData(CaptureDirection.ReceiverToSender, receiver.AsMemory(55), 999_999_999);
            writer.WriteIndex(CaptureDirection.SenderToReceiver, [.. StreamIndexing.Build(new MemoryStream(sender)).Entries]);
            writer.Complete();
        }
        var result = StreamScrubber.ScrubCapture(path, dir.File("out.cap"), new ScrubOptions { Seed = 9 });
        Assert.True(result.PagesScrubbed > 0);
        using var a = CaptureFile.Open(path);
        using var b = CaptureFile.Open(dir.File("out.cap"));
        Assert.Equal(CaptureEndState.Complete, b.EndState);
        using var s2r = b.OpenDirection(CaptureDirection.SenderToReceiver);
        var scrubbed = new byte[s2r.Length];
        s2r.ReadExactly(scrubbed);
        Assert.Equal(Scrub(sender, new ScrubOptions { Seed = 9 }), scrubbed);
        using var r2s = b.OpenDirection(CaptureDirection.ReceiverToSender);
        var back = new byte[r2s.Length];
        r2s.ReadExactly(back);
        Assert.Equal(receiver, back);
        Assert.Equal(a.Extents(CaptureDirection.SenderToReceiver).Select(e => (e.Timestamp, e.Position, e.Length)),
            b.Extents(CaptureDirection.SenderToReceiver).Select(e => (e.Timestamp, e.Position, e.Length)));
        Assert.Equal(a.RecordedIndex(CaptureDirection.SenderToReceiver), b.RecordedIndex(CaptureDirection.SenderToReceiver));
        Assert.Equal("(scrubbed)", b.Metadata[CaptureMetadata.Host]);
        Assert.Equal("(scrubbed)", b.Metadata[CaptureMetadata.RecordedCommand]);
        Assert.NotNull(b.Metadata[CaptureMetadata.Scrubbed]);
        Assert.Equal(a.Header.StartUnixNanoseconds / 100, b.Header.StartUnixNanoseconds / 100);
    }

    private static byte[] Slice(byte[] stream, SliceOptions options)
    {
        var output = new MemoryStream();
        var r = StreamSlicer.Slice(new MemoryStream(stream), output, options);
        Assert.Null(r.StoppedAt);
        return output.ToArray();
    }

    [Fact]
    public void Slicing_records_keeps_headers_context_and_exactly_the_selected_records()
    {
        var stream = SyntheticStreams.Generate(Cases["xl-hvm"]);
        var entries = StreamIndexing.Build(new MemoryStream(stream)).Entries;
        var records = entries.Where(e => e.IsRecord).ToList();
        var sliced = Slice(stream, new SliceOptions { Records = (6, 8) });
        var items = CaptureTestSupport.Items(sliced);
        Assert.Equal("xl:XL_HEADER", items[0]);
        Assert.Contains("libxl:LIBXL_HEADER", items);
        Assert.Contains("libxc:IMAGE_HEADER", items);
        Assert.Contains("libxc:STATIC_DATA_END", items);
        Assert.Equal("libxl:END", items[^1]);
        // Selected records are there byte for byte.
        foreach (var r in records.Skip(6).Take(3))
        {
            Assert.True(sliced.AsSpan().IndexOf(stream.AsSpan((int)r.Offset, (int)r.Length)) >= 0);
        }
        var pageRecords = items.Count(i => i == "libxc:PAGE_DATA");
        Assert.Equal(records.Skip(6).Take(3).Count(r => r.RecordType == (uint)LibxcRecordType.PageData && r.Layer == StreamLayer.Libxc), pageRecords);
        // It reads to a complete end.
        using var reader = XenStreamReader.FromMemory(sliced);
        while (reader.Read())
        {
        }
        Assert.Equal(StreamEnding.Complete, reader.Ending);
        // --exact drops the static data and the END records.
        var exact = CaptureTestSupport.Items(Slice(stream, new SliceOptions { Records = (6, 8), Exact = true }));
        Assert.DoesNotContain("libxc:STATIC_DATA_END", exact);
        Assert.DoesNotContain("libxl:END", exact);
        Assert.Contains("libxl:LIBXC_CONTEXT", exact);
    }

    [Fact]
    public void Slicing_checkpoints_keeps_whole_checkpoints_and_a_failover_ending()
    {
        var stream = SyntheticStreams.Generate(Cases["libxl-remus"]);
        var sliced = Slice(stream, new SliceOptions { Checkpoints = (1, 2) });
        using var reader = XenStreamReader.FromMemory(sliced);
        var checkpoints = 0;
        var pageData = 0;
        while (reader.Read())
        {
            if (reader.Kind == StreamItemKind.Record && reader.Layer == StreamLayer.Libxc && reader.RecordType == (uint)LibxcRecordType.Checkpoint)
            {
                checkpoints++;
            }
            if (reader.Kind == StreamItemKind.Record && reader.Layer == StreamLayer.Libxc && reader.RecordType == (uint)LibxcRecordType.PageData)
            {
                pageData++;
            }
        }
        Assert.Equal(2, checkpoints);
        Assert.Equal(StreamEnding.Failover, reader.Ending);
        Assert.True(pageData > 0);
        var all = Slice(stream, new SliceOptions { Checkpoints = (0, 99) });
        Assert.Equal(stream, all);
    }

    [Fact]
    public void Diff_of_equal_streams_is_equal_and_counts_every_type()
    {
        var stream = SyntheticStreams.Generate(Cases["xl-hvm"]);
        var d = StreamDiff.Compare(new MemoryStream(stream), new MemoryStream((byte[])stream.Clone()));
        Assert.True(d.Equal);
        Assert.Null(d.First);
        var pageData = d.Types.Single(t => t.Layer == "libxc" && t.Name == "PAGE_DATA");
        Assert.Equal(pageData.CountA, pageData.CountB);
        Assert.Equal(90, d.Pages.PfnsA);
        Assert.Equal(90, d.Pages.Same);
    }

    [Fact]
    public void Diff_names_the_first_differing_record_and_the_differing_pages()
    {
        var stream = SyntheticStreams.Generate(Cases["xl-hvm"]);
        var scrubbed = Scrub(stream, new ScrubOptions());
        var d = StreamDiff.Compare(new MemoryStream(stream), new MemoryStream(scrubbed));
        Assert.False(d.Equal);
        Assert.Contains("PAGE_DATA", d.First!.ItemA, StringComparison.Ordinal);
        Assert.Contains("in data page", d.First.What, StringComparison.Ordinal);
        var nonZero = DataPages(stream, StreamDialect.Upstream).Count(p => stream.AsSpan((int)p.Offset, LibxcWire.PageSize).ContainsAnyExcept((byte)0));
        Assert.Equal(nonZero, d.Pages.Different);
        Assert.Equal(90 - nonZero, d.Pages.Same);

        var cut = stream[..(stream.Length / 2)];
        var c = StreamDiff.Compare(new MemoryStream(stream), new MemoryStream(cut));
        Assert.False(c.Equal);
        Assert.NotNull(c.ErrorB);
        Assert.True(c.ItemsA > c.ItemsB);
    }
}
