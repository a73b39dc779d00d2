using Kaitai;
using StreamBench.Formats;
using StreamBench.Formats.KaitaiView;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Kaitai;

/// <summary>
/// The streaming <c>dump --kaitai</c> (KaitaiStreamingDump over a windowed KaitaiStream) prints exactly the tree the
/// eager path (KaitaiParsers.Parse + KaitaiTreePrinter) prints, from a file or a pipe, with any window, and rejects
/// what the eager parser rejects, naming offset, record and field.
/// </summary>
public sealed class KaitaiStreamingDumpTests
{
    public static IEnumerable<object[]> Streamable => Corpus.Streams
        .Where(s => KaitaiStreamingDump.CanStream(FormatOf(s), s.Dialect))
        .Select(s => new object[] { s.Name });

    private static OuterFormat FormatOf(CorpusStream s) =>
        s.Format != OuterFormat.Auto ? s.Format : XenStreamReader.DetectFormat(ByteSource.FromMemory(File.ReadAllBytes(s.Path)));

    private static string Eager(byte[] bytes, OuterFormat format, int maxItems) =>
        KaitaiTreePrinter.ToText(KaitaiParsers.Parse(bytes, format, StreamDialect.Upstream), maxItems);

    [Theory]
    [MemberData(nameof(Streamable))]
    public void The_streaming_tree_of_every_corpus_stream_is_the_eager_tree(string name)
    {
        var stream = Corpus.Get(name);
        var bytes = File.ReadAllBytes(stream.Path);
        var format = FormatOf(stream);
        string expected;
        try
        {
            expected = Eager(bytes, format, KaitaiTreePrinter.DefaultMaxItems);
        }
        catch (Exception e) when (e is EndOfStreamException or KaitaiStructError or ArgumentOutOfRangeException)
        {
            // A stream the eager parser rejects (a cut-off migration) is rejected by the streaming one too.
            using var file = File.OpenRead(stream.Path);
            Assert.Throws<StreamFormatException>(() => KaitaiStreamingDump.ToText(KaitaiStream.Windowed(file), format));
            return;
        }
        using (var file = new FileStream(stream.Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0))
        {
            Assert.Equal(expected, KaitaiStreamingDump.ToText(KaitaiStream.Windowed(file), format));
        }
        // Through a pipe, in odd-sized reads, with a window smaller than most records (large bodies bypass it).
        Assert.Equal(expected, KaitaiStreamingDump.ToText(KaitaiStream.Windowed(new TrickleStream(bytes), 4096), format));
        // Few items per list: the rest are read and counted ("... N more").
        Assert.Equal(Eager(bytes, format, 2), KaitaiStreamingDump.ToText(KaitaiStream.Windowed(new MemoryStream(bytes), 64), format, maxItems: 2));
    }

    public static TheoryData<string> Generated => new() { "libxc-hvm", "libxl-pv-remus", "xl-pvh" };

    [Theory]
    [MemberData(nameof(Generated))]
    public void The_streaming_tree_of_a_generated_stream_with_many_records_is_the_eager_tree(string kind)
    {
        var (options, format) = kind switch
        {
            "libxc-hvm" => (new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 300, BatchSize = 1 }, OuterFormat.Libxc),
            "libxl-pv-remus" => (new SyntheticStreamOptions { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Pv, Pages = 90, Checkpoints = 70, BatchSize = 3 }, OuterFormat.Libxl),
            _ => (new SyntheticStreamOptions { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Pvh, Pages = 200, BatchSize = 2 }, OuterFormat.Xl),
        };
        var bytes = SyntheticStreams.Generate(options);
        var expected = Eager(bytes, format, KaitaiTreePrinter.DefaultMaxItems);
        Assert.Contains("more", expected, StringComparison.Ordinal);
        Assert.Equal(expected, KaitaiStreamingDump.ToText(KaitaiStream.Windowed(new TrickleStream(bytes), 1 << 12), format));
    }

    [Fact]
    public void A_stream_cut_inside_a_page_body_names_the_offset_the_record_and_the_field()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 16, BatchSize = 4 });
        var cut = bytes.AsSpan(0, bytes.Length / 2).ToArray();
        var e = Assert.Throws<StreamFormatException>(() => KaitaiStreamingDump.ToText(KaitaiStream.Windowed(new TrickleStream(cut), 256), OuterFormat.Libxc));
        Assert.Equal(ErrorLayer.Libxc, e.Layer);
        Assert.True(e.IsTruncation);
        Assert.True(e.RecordIndex >= 0);
        Assert.NotNull(e.RecordType);
        Assert.True(e.Field is "body" or "padding" or "type" or "length", e.Message);
        Assert.True(e.Offset <= cut.Length && e.Offset > 24, e.Message);
        Assert.Contains("remain", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rejected_record_is_named_as_the_spec_and_plain_dump_name_it()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 16, BatchSize = 16 });
        var cut = bytes.AsSpan(0, bytes.Length - 4096).ToArray();
        var e = Assert.Throws<StreamFormatException>(() => KaitaiStreamingDump.ToText(KaitaiStream.Windowed(new MemoryStream(cut)), OuterFormat.Libxc));
        Assert.Equal("PAGE_DATA", e.RecordType);
        Assert.Equal("body", e.Field);
    }

    [Fact]
    public void A_cut_record_header_is_named_as_such()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Pv, Pages = 4 });
        // The image and domain headers (24 + 16 bytes), then 5 bytes of the first record header.
        var cut = bytes.AsSpan(0, 45).ToArray();
        var e = Assert.Throws<StreamFormatException>(() => KaitaiStreamingDump.ToText(KaitaiStream.Windowed(new MemoryStream(cut)), OuterFormat.Libxc));
        Assert.Equal("length", e.Field);
        Assert.Equal(0, e.RecordIndex);
        Assert.Equal(45, e.Offset);
    }
}
