using StreamBench.Formats.Records;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Streams;
using StreamBench.Tests.Verification;
using Xunit;

namespace StreamBench.Tests.Records;

public sealed class RecordDescriberTests
{
    private static string Line(IReadOnlyList<RecordField> fields) => string.Join(' ', fields);

    [Fact]
    public void PageData_is_described_from_its_header_and_pfn_words_only()
    {
        var words = Enumerable.Range(0, 1024).Select(i => ((ulong)i, i % 256 == 255 ? PageType.XTab : PageType.NoTab)).ToArray();
        var body = Bodies.PageData(words);
        var prefix = body.AsSpan(0, (int)PageDataBody.PrefixLength(1024));
        var fields = RecordDescriber.Describe(StreamLayer.Libxc, (uint)LibxcRecordType.PageData, StreamDialect.Upstream, prefix, body.Length);
        Assert.Equal("count=1024 data_pages=1020 first_pfn=0x0 last_pfn=0x3ff types=NOTAB:1020,XTAB:4", Line(fields));
    }

    [Fact]
    public void PrefixLength_asks_for_exactly_the_header_and_words()
    {
        var body = Bodies.PageData(1, 2, 3);
        Assert.Equal(32, RecordDescriber.PrefixLength(StreamLayer.Libxc, 1, StreamDialect.Upstream, body.Length, body.AsSpan(0, 8)));
        Assert.Equal(24, RecordDescriber.PrefixLength(StreamLayer.Libxc, 8, StreamDialect.Upstream, 24, default));
        Assert.Equal(RecordDescriber.MaxPrefix, RecordDescriber.PrefixLength(StreamLayer.Libxc, 9, StreamDialect.Upstream, 1L << 31, default));
    }

    [Fact]
    public void Records_are_described_with_their_spec_field_names()
    {
        static string D(uint type, byte[] body, StreamLayer layer = StreamLayer.Libxc, StreamDialect dialect = StreamDialect.Upstream, int max = 8)
            => Line(RecordDescriber.Describe(layer, type, dialect, body, body.Length, max));
        Assert.Equal("guest_width=8 pt_levels=4", D(2, Bodies.PvInfo()));
        Assert.Equal("start_pfn=0x0 end_pfn=0x3ff frames=2 p2m_pfns=0x2000,0x2001", D(3, Bodies.P2mFrames(0, 0x3FF)));
        Assert.Equal("vcpu_id=1 blob_bytes=5168", D(4, Bodies.Vcpu(1, 5168)));
        Assert.Equal("mode=0 khz=2400000 nsec=123456789 incarnation=1", D(8, Bodies.TscInfo()));
        Assert.Equal("count=2 params=STORE_PFN=0xfefff,CONSOLE_PFN=0xfeffe", D(0x0A, Bodies.HvmParams((1, 0xFEFFF), (17, 0xFEFFE))));
        Assert.Equal("count=2 params=STORE_PFN=0xfefff,…(+1)", D(0x0A, Bodies.HvmParams((1, 0xFEFFF), (17, 0xFEFFE)), max: 1));
        Assert.Equal("leaves=2 ids=0x0,0x1", D(0x11, Bodies.CpuidPolicy(2)));
        Assert.Equal("entries=1 msrs=0xce=0x2", D(0x12, Bodies.MsrPolicy(1)));
        Assert.Equal("bytes=4096", D(7, new byte[4096]));
        Assert.Equal("", D(0, []));
        Assert.Equal("length=8", D(0, new byte[8]));
        Assert.Equal("length=4", D(0x8000_0001, new byte[4]));
        Assert.Equal("emulator_id=2 (QemuUpstream) index=0 blob_bytes=64 format=QEVM", D(3, Bodies.Emulator(2, 0, Bodies.Qevm(64)), StreamLayer.Libxl));
        Assert.Equal("emulator_id=2 (QemuUpstream) index=0 pairs=2 keys=a=1,b=2", D(2, Bodies.Emulator(2, 0, Bodies.Xenstore("a", "1", "b", "2")), StreamLayer.Libxl));
        Assert.Equal("control_id=1 (SvmSuspended)", D(5, Bodies.U32(1), StreamLayer.BackChannel));
        Assert.Equal("count=2 pfns=0x9,0xa", D(0x0F, Bodies.PfnList(9, 10)[8..], StreamLayer.BackChannel));
        Assert.Equal("count=1 first_pfn=0x7 last_pfn=0x7 types=NOTAB:1", D(0x12, Bodies.PfnList(7), dialect: StreamDialect.PostcopyRfc));
        Assert.Equal("count=1 pfns=0x7", D(0x15, Bodies.PfnList(7), dialect: StreamDialect.PostcopyRfc));
        var hvm = D(9, Bodies.HvmContext(1));
        Assert.Contains("magic=0x54381286", hvm, StringComparison.Ordinal);
        Assert.Contains("save_types=HEADER:0,CPU:0,END:0", hvm, StringComparison.Ordinal);
        Assert.EndsWith("framing=ok", hvm, StringComparison.Ordinal);
    }

    [Fact]
    public void Broken_bodies_are_described_without_throwing()
    {
        for (uint type = 0; type < 0x18; type++)
        {
            foreach (var size in new[] { 0, 1, 7, 8, 9, 23, 24, 40 })
            {
                var body = Enumerable.Range(0, size).Select(i => (byte)(0xF0 + i)).ToArray();
                foreach (var layer in new[] { StreamLayer.Libxc, StreamLayer.Libxl, StreamLayer.BackChannel })
                {
                    foreach (var dialect in new[] { StreamDialect.Upstream, StreamDialect.PostcopyRfc })
                    {
                        _ = RecordDescriber.Describe(layer, type, dialect, body, size + 1_000_000);
                        _ = RecordDescriber.Describe(layer, type, dialect, body, size);
                    }
                }
            }
        }
    }

    public static TheoryData<string> SyntheticNames => new(SyntheticCases.Named.Keys);

    [Theory]
    [MemberData(nameof(SyntheticNames))]
    public void Every_item_of_every_synthetic_stream_can_be_described_from_the_reader(string name)
    {
        var options = SyntheticCases.Named[name];
        var bytes = SyntheticStreams.Generate(options);
        using var reader = XenStreamReader.FromMemory(bytes, new XenStreamReaderOptions { Dialect = options.Dialect });
        var described = 0;
        while (reader.Read())
        {
            var fields = RecordDescriber.Describe(reader);
            Assert.NotNull(fields);
            if (reader.Kind == StreamItemKind.Record && reader.RecordType == (uint)LibxcRecordType.PageData && reader.Layer == StreamLayer.Libxc)
            {
                Assert.Equal("count", fields[0].Name);
            }
            described++;
        }
        Assert.True(described > 5);
    }

    [Fact]
    public void Headers_are_described()
    {
        var bytes = TestStream.Hvm().InLibxl().InXl().Build();
        using var reader = XenStreamReader.FromMemory(bytes);
        var lines = new List<string>();
        for (var i = 0; i < 4 && reader.Read(); i++)
        {
            if (reader.Kind != StreamItemKind.Record)
            {
                lines.Add(reader.RecordTypeName + " " + Line(RecordDescriber.Describe(reader)));
            }
        }
        Assert.Contains(lines, l => l.StartsWith("XL_HEADER byteorder=0x1020304 mandatory_flags=0x3 (JSON|STREAMv2)", StringComparison.Ordinal) && l.EndsWith("config_format=json", StringComparison.Ordinal));
        Assert.Contains("LIBXL_HEADER ident=LibxlFmt version=2 options=0x0", lines);
        Assert.Contains("IMAGE_HEADER marker=0xffffffffffffffff id=XENF version=3 options=0x0 endianness=little", lines);
    }
}
