using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Kaitai;
using Xunit;

namespace StreamBench.Tests.Records;

/// <summary>
/// The record dictionaries agree with the ksy enums (every type, and its spec name as the ksy id in capitals), with the
/// wire enums, and with the specs' guest kinds (X86_PV_* and SHARED_INFO are PV records, HVM_* are HVM records).
/// </summary>
public sealed class RecordDictionaryTests
{
    private static List<string> Ksy(string file, string enumName) => KsyEnumReader.ReadFile(file)[enumName]
        .Select(v => $"0x{v.Value:x2} {v.Id.ToUpperInvariant()}")
        .ToList();

    private static List<string> Listed(IEnumerable<RecordDefinition> records) => records.Select(r => $"0x{r.Type:x2} {r.Name}").ToList();

    [Fact]
    public void Upstream_libxc_is_the_ksy_libxc_record_type()
    {
        Assert.Equal(Ksy("libxc_stream.ksy", "libxc_record_type"), Listed(RecordDictionary.LibxcUpstream.Records));
        Assert.All(RecordDictionary.LibxcUpstream.Records, r => Assert.Equal(StreamLayer.Libxc, r.Layer));
    }

    [Fact]
    public void Postcopy_rfc_libxc_is_upstream_v2_then_the_rfc_records()
    {
        var expected = Ksy("libxc_stream.ksy", "libxc_record_type").Take((int)LibxcRecordType.StaticDataEnd)
            .Concat(Ksy("postcopy_rfc.ksy", "postcopy_record_type"));
        Assert.Equal(expected, Listed(RecordDictionary.LibxcPostcopyRfc.Records));
    }

    [Fact]
    public void Libxl_dictionaries_are_the_ksy_libxl_record_types()
    {
        Assert.Equal(Ksy("libxl_stream.ksy", "libxl_record_type"), Listed(RecordDictionary.LibxlUpstream.Records));
        Assert.Equal(Ksy("libxl_stream.ksy", "libxl_record_type").Concat(Ksy("postcopy_rfc.ksy", "libxl_postcopy_record_type")),
            Listed(RecordDictionary.LibxlPostcopyRfc.Records));
        Assert.All(RecordDictionary.LibxlPostcopyRfc.Records, r => Assert.Equal(StreamLayer.Libxl, r.Layer));
    }

    [Fact]
    public void Guest_kinds_follow_the_spec_names()
    {
        foreach (var r in RecordDictionary.LibxcUpstream.Records.Concat(RecordDictionary.LibxcPostcopyRfc.Records))
        {
            var expected = r.Name.StartsWith("X86_PV_", StringComparison.Ordinal) || r.Name == "SHARED_INFO" ? GuestKinds.Pv
                : r.Name.StartsWith("HVM_", StringComparison.Ordinal) ? GuestKinds.Hvm | GuestKinds.Pvh
                : GuestKinds.Any;
            Assert.True(expected == r.Guests, $"{r.Name}: expected {expected}, found {r.Guests}");
            Assert.Equal(expected != GuestKinds.Any, r.IsGuestSpecific);
            Assert.Equal((expected & GuestKinds.Pv) != 0, r.IsCarriedBy(DomainType.X86Pv));
            Assert.Equal((expected & GuestKinds.Hvm) != 0, r.IsCarriedBy(DomainType.X86Hvm));
            Assert.False(r.IsOptional);
        }
    }

    [Fact]
    public void The_dialect_decides_what_0x10_to_0x12_mean()
    {
        Assert.Equal("STATIC_DATA_END", RecordDictionary.Libxc(StreamDialect.Upstream).Name(0x10));
        Assert.Equal("POSTCOPY_BEGIN", RecordDictionary.Libxc(StreamDialect.PostcopyRfc).Name(0x10));
        Assert.Equal(RecordBodyShape.MsrPolicy, RecordDictionary.LibxcUpstream.Find(0x12)!.Body);
        Assert.Equal(RecordBodyShape.PfnWords, RecordDictionary.LibxcPostcopyRfc.Find(0x12)!.Body);
        Assert.Null(RecordDictionary.LibxcUpstream.Find(0x13));
        Assert.Null(RecordDictionary.LibxlUpstream.Find(6));
        Assert.Equal("POSTCOPY_TRANSITION_END", RecordDictionary.LibxlPostcopyRfc.Name(6));
    }

    [Fact]
    public void Unknown_types_are_named_by_number_and_optional_bit()
    {
        Assert.Equal("UNKNOWN_0x00000013", RecordDictionary.LibxcUpstream.Name(0x13));
        Assert.Equal("UNKNOWN_OPTIONAL_0x80000001", RecordDictionary.LibxlUpstream.Name(0x8000_0001));
        Assert.False(RecordDictionary.LibxcUpstream.IsKnown(uint.MaxValue));
    }

    [Theory]
    [InlineData(StreamDialect.Upstream)]
    [InlineData(StreamDialect.PostcopyRfc)]
    public void The_back_channel_mixes_libxl_checkpoint_state_into_libxc(StreamDialect dialect)
    {
        var back = RecordDictionary.BackChannel(dialect);
        Assert.Equal(StreamLayer.Libxl, back.OwnerOf((uint)LibxlRecordType.CheckpointState));
        Assert.Equal("CHECKPOINT_STATE", back.Name((uint)LibxlRecordType.CheckpointState));
        Assert.Equal(StreamLayer.Libxc, back.OwnerOf((uint)LibxcRecordType.CheckpointDirtyPfnList));
        Assert.Equal(StreamLayer.Libxc, back.OwnerOf(0x4000));
        Assert.Equal(dialect == StreamDialect.PostcopyRfc ? "POSTCOPY_FAULT" : "UNKNOWN_0x00000015", back.Name((uint)PostcopyRecordType.PostcopyFault));
        // Nothing else travels on a back channel: type 2 is neither libxc's X86_PV_INFO nor libxl's EMULATOR_XENSTORE_DATA there.
        Assert.Equal("UNKNOWN_0x00000002", back.Name((uint)LibxcRecordType.X86PvInfo));
        Assert.Equal("UNKNOWN_0x00000000", back.Name(0));
        Assert.Equal(dialect == StreamDialect.PostcopyRfc ? 4 : 2, back.Records.Count);
    }

    [Fact]
    public void Pfn_word_records_are_the_page_data_layouts()
    {
        var withWords = RecordDictionary.LibxcPostcopyRfc.Records.Concat(RecordDictionary.LibxcUpstream.Records)
            .Where(r => r.HasPfnWords).Select(r => r.Name).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(["PAGE_DATA", "POSTCOPY_FAULT", "POSTCOPY_PAGE_DATA", "POSTCOPY_PFNS"], withWords);
    }
}
