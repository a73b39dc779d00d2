using Kaitai;
using Xunit;
using Rfc = Kaitai.PostcopyRfc;
using Xc = Kaitai.LibxcStream;
using Xl = Kaitai.LibxlStream;

namespace StreamBench.Tests.Kaitai;

/// <summary>
/// The generated parsers read every stream of corpus/synthetic (written by the project's own writer) from the
/// first octet to the last, with the entry point its manifest line names.
/// </summary>
public class SyntheticCorpusTests
{
    private static byte[] Load(string name)
    {
        var dir = Path.Combine(Path.GetDirectoryName(KsyEnumReader.KsyDirectory())!, "corpus", "synthetic");
        return File.ReadAllBytes(Path.Combine(dir, name));
    }

    [Theory]
    [InlineData("libxc-hvm-v3.bin", 3u)]
    [InlineData("libxc-hvm-v2.bin", 2u)]
    [InlineData("libxc-pv64-v3.bin", 3u)]
    [InlineData("libxc-pv32-v3.bin", 3u)]
    [InlineData("libxc-xtab.bin", 3u)]
    public void Bare_libxc_streams_parse_to_their_END(string file, uint version)
    {
        var io = new KaitaiStream(Load(file));
        var stream = new Xc(io);
        Assert.Equal(version, stream.ImageHeader.Version);
        Assert.Equal(Xc.LibxcRecordType.End, stream.Records[^1].Type);
        Assert.True(io.IsEof);
        Assert.All(
            stream.Records.Where(r => r.Type == Xc.LibxcRecordType.PageData).Select(r => (Xc.PageData)r.Body),
            page => Assert.Equal(page.NumDataPages, page.Pages.Count));
    }

    [Fact]
    public void A_bare_remus_stream_parses_its_checkpoints_up_to_failover()
    {
        var io = new KaitaiStream(Load("libxc-remus-failover.bin"));
        var stream = new Xc(io);
        Assert.Equal(3, stream.Records.Count(r => r.Type == Xc.LibxcRecordType.Checkpoint));
        Assert.DoesNotContain(stream.Records, r => r.Type == Xc.LibxcRecordType.End);
        Assert.True(io.IsEof);
    }

    [Theory]
    [InlineData("libxl-hvm.bin")]
    [InlineData("libxl-pvh.bin")]
    [InlineData("libxl-remus-end.bin")]
    public void Libxl_streams_parse_to_their_END(string file)
    {
        var io = new KaitaiStream(Load(file));
        var stream = new Xl(io);
        Assert.Equal(Xl.LibxlRecordType.End, stream.Entries[^1].Record.Type);
        Assert.NotNull(stream.Entries[0].Libxc);
        Assert.True(io.IsEof);
    }

    [Fact]
    public void A_libxl_remus_stream_parses_every_checkpoint_up_to_failover()
    {
        var io = new KaitaiStream(Load("libxl-remus-failover.bin"));
        var stream = new Xl(io);
        Assert.Equal(3, stream.Entries.Count(e => e.Record.Type == Xl.LibxlRecordType.CheckpointEnd));
        Assert.Equal(Xl.LibxlRecordType.CheckpointEnd, stream.Entries[^1].Record.Type);
        Assert.True(io.IsEof);
    }

    [Fact]
    public void A_failover_inside_a_checkpoint_leaves_an_incomplete_last_segment()
    {
        var io = new KaitaiStream(Load("libxl-remus-partial.bin"));
        var stream = new Xl(io);
        var last = stream.Entries[^1];
        Assert.Equal(Xl.LibxlRecordType.CheckpointEnd, last.Record.Type);
        Assert.NotNull(last.LibxcCheckpoint);
        Assert.False(last.LibxcCheckpoint.EndsWithCheckpoint);
        Assert.True(io.IsEof);
    }

    [Theory]
    [InlineData("xl-pv.bin", false)]
    [InlineData("xl-hvm.bin", false)]
    [InlineData("xl-debug-verify.bin", false)]
    [InlineData("xl-migrate-s2r.bin", true)]
    public void Xl_files_parse_through_the_libxl_and_libxc_layers(string file, bool hasTrailer)
    {
        var io = new KaitaiStream(Load(file));
        var xl = new XlSaveFile(io);
        Assert.True(xl.IsStreamV2);
        Assert.Equal(Xl.LibxlRecordType.End, xl.Libxl.Entries[^1].Record.Type);
        Assert.Equal(Xc.LibxcRecordType.End, xl.Libxl.Entries[0].Libxc.Records[^1].Type);
        Assert.Equal(hasTrailer, xl.Trailer.Length > 0);
        Assert.True(io.IsEof);
    }

    [Fact]
    public void The_colo_back_channel_parses_record_by_record()
    {
        var io = new KaitaiStream(Load("colo-back-channel.bin"));
        var states = 0;
        var dirty = 0;
        while (!io.IsEof)
        {
            var start = io.Pos;
            var type = io.ReadU4le();
            io.Seek(start);
            if (type == (uint)Xl.LibxlRecordType.CheckpointState)
            {
                Assert.IsType<Xl.CheckpointState>(new Xl.LibxlRecord(io).Body);
                states++;
            }
            else
            {
                var record = new Xc.LibxcRecord(io);
                Assert.Equal(Xc.LibxcRecordType.CheckpointDirtyPfnList, record.Type);
                dirty++;
            }
        }

        Assert.True(states > 0);
        Assert.True(dirty > 0);
    }

    [Fact]
    public void Postcopy_rfc_streams_parse_with_the_rfc_dictionary()
    {
        var bareIo = new KaitaiStream(Load("libxc-postcopy.bin"));
        var bare = new Rfc.RfcLibxcStream(bareIo);
        Assert.Contains(bare.Records, r => r.RfcType == Rfc.PostcopyRecordType.PostcopyPfns);
        Assert.Equal(0u, bare.Records[^1].Type);
        Assert.True(bareIo.IsEof);

        var io = new KaitaiStream(Load("libxl-postcopy.bin"));
        var stream = new Rfc(io);
        Assert.Contains(stream.Entries, e => e.Record.RfcType == Rfc.LibxlPostcopyRecordType.PostcopyTransitionEnd && e.LibxcPostcopy is not null);
        Assert.Equal(0u, stream.Entries[^1].Record.Type);
        Assert.True(io.IsEof);

        var back = new KaitaiStream(Load("postcopy-back-channel.bin"));
        var records = new List<Rfc.RfcLibxcRecord>();
        while (!back.IsEof)
        {
            records.Add(new Rfc.RfcLibxcRecord(back));
        }

        Assert.Equal(Rfc.PostcopyRecordType.PostcopyComplete, records[^1].RfcType);
        Assert.All(records.SkipLast(1), r => Assert.IsType<Rfc.PostcopyFault>(r.Body));
    }
}
