using Kaitai;
using StreamBench.Formats.Wire;
using Xunit;
using static StreamBench.Tests.Kaitai.StreamPieces;
using Rfc = Kaitai.PostcopyRfc;
using Xc = Kaitai.LibxcStream;

namespace StreamBench.Tests.Kaitai;

/// <summary>The generated post-copy RFC parser (ksy/postcopy_rfc.ksy) reads the RFC dialect with its own dictionary.</summary>
public class PostcopyRfcParserTests
{
    private static byte[] PfnList(PostcopyRecordType type, ulong[] words)
    {
        var body = new WireBytes().U32((uint)words.Length).U32(0);
        foreach (var w in words)
        {
            body.U64(w);
        }

        return Record((uint)type, body.ToArray());
    }

    private static byte[] Empty(PostcopyRecordType type) => Record((uint)type, []);

    [Fact]
    public void An_rfc_hvm_migration_hands_over_to_libxl_and_back_for_the_postcopy_memory_phase()
    {
        var bytes = Concat(
            LibxlHeader(),
            StreamPieces.Empty(LibxlRecordType.LibxcContext),
            ImageHeader(version: 2), DomainHeader(DomainType.X86Hvm, 4, 9),
            Record(LibxcRecordType.PageData, PageDataBody([Word(0x10, PageType.NoTab)], [0x10])),
            Empty(PostcopyRecordType.PostcopyBegin),
            Record(LibxcRecordType.X86TscInfo, new byte[24]),
            Record(LibxcRecordType.HvmContext, new WireBytes().U16(0).U16(0).U32(0).ToArray()),
            Record(LibxcRecordType.HvmParams, new WireBytes().U32(0).U32(0).ToArray()),
            Empty(PostcopyRecordType.PostcopyPfnsBegin),
            PfnList(PostcopyRecordType.PostcopyPfns, [Word(0x20, PageType.NoTab), Word(0x21, PageType.NoTab)]),
            Empty(PostcopyRecordType.PostcopyTransition),
            Record(LibxlRecordType.EmulatorContext, new WireBytes().U32((uint)EmulatorId.QemuUpstream).U32(0).Ascii("QEVM").ToArray()),
            Record((uint)LibxlPostcopyRecordType.PostcopyTransitionEnd, []),
            Record((uint)PostcopyRecordType.PostcopyPageData, PageDataBody([Word(0x21, PageType.NoTab)], [0x21])),
            Record((uint)PostcopyRecordType.PostcopyPageData, PageDataBody([Word(0x20, PageType.NoTab)], [0x20])),
            StreamPieces.Empty(LibxcRecordType.End),
            StreamPieces.Empty(LibxlRecordType.End));

        var stream = new Rfc(new KaitaiStream(bytes));

        Assert.Equal([1u, 3u, 6u, 0u], stream.Entries.Select(e => e.Record.Type));
        Assert.Equal(Rfc.LibxlPostcopyRecordType.PostcopyTransitionEnd, stream.Entries[2].Record.RfcType);
        Assert.True(stream.Entries[2].Record.IsRfcRecord);
        Assert.False(stream.Entries[1].Record.IsRfcRecord);
        Assert.IsType<LibxlStream.EmulatorContext>(stream.Entries[1].Record.Body);

        var precopy = stream.Entries[0].Libxc;
        Assert.Equal(2u, precopy.ImageHeader.Version);
        Assert.Equal([0x01u, 0x10, 0x08, 0x09, 0x0A, 0x11, 0x12, 0x13], precopy.Records.Select(r => r.Type));
        Assert.Equal(Rfc.PostcopyRecordType.PostcopyBegin, precopy.Records[1].RfcType);
        Assert.False(precopy.Records[0].IsRfcRecord);
        Assert.True(precopy.Records[1].IsRfcRecord);
        var announced = Assert.IsType<Rfc.PostcopyPfns>(precopy.Records[6].Body);
        Assert.Equal([0x20ul, 0x21], announced.Pfns.Select(p => p.Pfn));
        Assert.All(announced.Pfns, p => Assert.Equal(Xc.PageType.NoTab, p.Type));
        Assert.Equal(Rfc.PostcopyRecordType.PostcopyTransition, precopy.Records[^1].RfcType);

        var postcopy = stream.Entries[2].LibxcPostcopy;
        Assert.Null(postcopy.ImageHeader);
        Assert.Equal([0x14u, 0x14, 0x00], postcopy.Records.Select(r => r.Type));
        Assert.Equal(0x21, Assert.IsType<Xc.PageData>(postcopy.Records[0].Body).Pages[0][0]);
    }

    [Fact]
    public void The_back_channel_fault_and_complete_records_parse_on_their_own()
    {
        var faultBytes = new WireBytes().U32(2).U32(0).U64(0x20).U64(0x1_0000_0021).ToArray();
        var fault = new Rfc.RfcLibxcRecord(new KaitaiStream(Record((uint)PostcopyRecordType.PostcopyFault, faultBytes)));
        Assert.Equal(Rfc.PostcopyRecordType.PostcopyFault, fault.RfcType);
        var body = Assert.IsType<Rfc.PostcopyFault>(fault.Body);
        Assert.Equal(2u, body.Count);
        Assert.Equal([0x20ul, 0x1_0000_0021], body.Pfns);

        var complete = new Rfc.RfcLibxcRecord(new KaitaiStream(Empty(PostcopyRecordType.PostcopyComplete)));
        Assert.Equal(Rfc.PostcopyRecordType.PostcopyComplete, complete.RfcType);
        Assert.Empty(Assert.IsType<byte[]>(complete.Body));
    }

    [Fact]
    public void Type_0x12_is_postcopy_pfns_in_the_rfc_dialect_and_the_msr_policy_upstream()
    {
        var bytes = PfnList(PostcopyRecordType.PostcopyPfns, [Word(5, PageType.NoTab)]);

        var rfc = new Rfc.RfcLibxcRecord(new KaitaiStream(bytes));
        Assert.Equal(Rfc.PostcopyRecordType.PostcopyPfns, rfc.RfcType);
        Assert.Equal(5ul, Assert.Single(Assert.IsType<Rfc.PostcopyPfns>(rfc.Body).Pfns).Pfn);

        var upstream = new Xc.LibxcRecord(new KaitaiStream(bytes));
        Assert.Equal(Xc.LibxcRecordType.X86MsrPolicy, upstream.Type);
        Assert.Single(Assert.IsType<Xc.X86MsrPolicy>(upstream.Body).Entries);
    }

    [Fact]
    public void A_bare_rfc_libxc_stream_reads_to_its_end()
    {
        var bytes = Concat(
            ImageHeader(version: 2), DomainHeader(DomainType.X86Hvm),
            Empty(PostcopyRecordType.PostcopyBegin),
            StreamPieces.Empty(LibxcRecordType.End));
        var stream = new Rfc.RfcLibxcStream(new KaitaiStream(bytes));
        Assert.Equal([0x10u, 0x00], stream.Records.Select(r => r.Type));
    }
}
