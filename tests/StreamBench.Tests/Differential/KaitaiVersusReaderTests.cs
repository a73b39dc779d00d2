using Kaitai;
using StreamBench.Formats.KaitaiView;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Streams;
using StreamBench.Tests.Support;
using FsCheck.Xunit;
using Xunit;

namespace StreamBench.Tests.Differential;

/// <summary>
/// The generated Kaitai parsers and the hand-written reader must agree record by record: at every record boundary
/// the reader reports, the Kaitai record type parses the same type, length, body bytes and padding, and ends where
/// the reader's next item starts; and the whole-stream parsers accept what the reader reads to a clean end.
/// </summary>
[Properties(Arbitrary = [typeof(SyntheticArbitraries)])]
public sealed class KaitaiVersusReaderTests
{
    private readonly record struct ReaderRecord(long Offset, StreamLayer Owner, uint Type, long BodyLength, long ItemLength, byte[] Body, byte[] Padding);

    private static (List<ReaderRecord> Records, StreamEnding Ending, OuterFormat Format) ReadAll(byte[] bytes, XenStreamReaderOptions options)
    {
        var list = new List<ReaderRecord>();
        using var reader = XenStreamReader.FromMemory(bytes, options);
        while (reader.Read())
        {
            if (reader.Kind != StreamItemKind.Record)
            {
                continue;
            }
            var owner = reader.Layer == StreamLayer.BackChannel
                ? XenStreamReader.BackChannelOwner(reader.RecordType, reader.Dialect)
                : reader.Layer;
            var body = reader.GetBody().ToArray();
            var padding = reader.FinishItem().ToArray();
            list.Add(new ReaderRecord(reader.Offset, owner, reader.RecordType, reader.BodyLength, reader.ItemLength, body, padding));
        }
        return (list, reader.Ending, reader.DetectedFormat);
    }

    private static (uint Type, uint Length, byte[] Body, byte[] Padding, long End) ParseWithKaitai(byte[] bytes, ReaderRecord record, StreamDialect dialect)
    {
        var io = new KaitaiStream(bytes);
        io.Seek(record.Offset);
        var rfc = dialect == StreamDialect.PostcopyRfc;
        switch (record.Owner, rfc)
        {
            case (StreamLayer.Libxl, false):
            {
                var r = new LibxlStream.LibxlRecord(io);
                return ((uint)r.Type, r.Length, r.M_RawBody ?? (byte[])r.Body, r.Padding, io.Pos);
            }
            case (StreamLayer.Libxl, true):
            {
                var r = new PostcopyRfc.RfcLibxlRecord(io);
                return ((uint)r.Type, r.Length, r.M_RawBody ?? (byte[])r.Body, r.Padding, io.Pos);
            }
            case (_, false):
            {
                var r = new LibxcStream.LibxcRecord(io);
                return ((uint)r.Type, r.Length, r.M_RawBody ?? (byte[])r.Body, r.Padding, io.Pos);
            }
            default:
            {
                var r = new PostcopyRfc.RfcLibxcRecord(io);
                return (r.Type, r.Length, r.M_RawBody ?? (byte[])r.Body, r.Padding, io.Pos);
            }
        }
    }

    private static void AssertAgree(byte[] bytes, XenStreamReaderOptions options, string what)
    {
        var (records, ending, format) = ReadAll(bytes, options);
        foreach (var record in records)
        {
            var k = ParseWithKaitai(bytes, record, options.Dialect);
            var where = $"{what}: record at offset {record.Offset}";
            Assert.True(record.Type == k.Type, $"{where}: reader type 0x{record.Type:x}, Kaitai 0x{k.Type:x}");
            Assert.True(record.BodyLength == k.Length, $"{where}: reader length {record.BodyLength}, Kaitai {k.Length}");
            Assert.True(record.Offset + record.ItemLength == k.End, $"{where}: reader ends at {record.Offset + record.ItemLength}, Kaitai at {k.End}");
            Assert.True(record.Body.AsSpan().SequenceEqual(k.Body), $"{where}: bodies differ");
            Assert.True(record.Padding.AsSpan().SequenceEqual(k.Padding), $"{where}: padding differs");
        }
        if (format is OuterFormat.Xl or OuterFormat.Libxl or OuterFormat.Libxc && ending is StreamEnding.Complete or StreamEnding.Failover)
        {
            // The whole-stream parsers accept every stream the reader reads to a clean end.
            var tree = KaitaiParsers.Parse(bytes, format, options.Dialect);
            Assert.NotNull(tree);
        }
    }

    public static IEnumerable<object[]> CorpusStreams => Corpus.Names("synthetic").Concat(Corpus.Names("real"));

    [Theory]
    [MemberData(nameof(CorpusStreams))]
    public void Kaitai_and_the_fast_reader_agree_record_by_record_on_every_corpus_stream(string name)
    {
        var stream = Corpus.Get(name);
        AssertAgree(File.ReadAllBytes(stream.Path), stream.ReaderOptions, name);
    }

    [Property(MaxTest = 60)]
    public void Kaitai_and_the_fast_reader_agree_record_by_record_on_generated_streams(SyntheticStreamOptions options) =>
        AssertAgree(SyntheticStreams.Generate(options), new XenStreamReaderOptions { Dialect = options.Dialect }, options.ToString());

    [Fact]
    public void Kaitai_and_the_fast_reader_agree_on_back_channels()
    {
        AssertAgree(SyntheticStreams.ColoBackChannel(3), new XenStreamReaderOptions { Format = OuterFormat.BackChannel }, "colo");
        AssertAgree(SyntheticStreams.PostcopyBackChannel(3),
            new XenStreamReaderOptions { Format = OuterFormat.BackChannel, Dialect = StreamDialect.PostcopyRfc }, "postcopy");
    }
}
