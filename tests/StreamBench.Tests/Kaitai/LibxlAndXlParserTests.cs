using System.Text;
using Kaitai;
using StreamBench.Formats.Wire;
using Xunit;
using static StreamBench.Tests.Kaitai.StreamPieces;
using Xc = Kaitai.LibxcStream;
using Xl = Kaitai.LibxlStream;

namespace StreamBench.Tests.Kaitai;

/// <summary>The generated xl (ksy/xl_save_file.ksy) and libxl (ksy/libxl_stream.ksy) parsers decode hand-built streams.</summary>
public class LibxlAndXlParserTests
{
    private const string ConfigJson = "{\"c_info\":{\"type\":\"hvm\",\"name\":\"guest\"}}";

    private static byte[] EmulatorBody(EmulatorId id, uint index, byte[] payload) =>
        new WireBytes().U32((uint)id).U32(index).Raw(payload).ToArray();

    private static byte[] LibxcHvmStream() => Concat(
        ImageHeader(), DomainHeader(DomainType.X86Hvm),
        Empty(LibxcRecordType.StaticDataEnd),
        Record(LibxcRecordType.PageData, PageDataBody([Word(0x100, PageType.NoTab), Word(0x101, PageType.NoTab)], [0x10, 0x11])),
        Record(LibxcRecordType.X86TscInfo, new WireBytes().U32(0).U32(3_000_000).U64(5).U32(1).U32(0).ToArray()),
        Record(LibxcRecordType.HvmContext, new WireBytes().U16(0).U16(0).U32(0).ToArray()),
        Record(LibxcRecordType.HvmParams, new WireBytes().U32(1).U32(0).U64((ulong)HvmParam.StorePfn).U64(0xFEFFF).ToArray()),
        Empty(LibxcRecordType.End));

    [Fact]
    public void An_xl_save_file_decodes_the_header_the_config_the_libxl_and_libxc_layers_and_the_trailer()
    {
        var xenstore = Encoding.ASCII.GetBytes("physmap/f0000000/start_addr\0f0000000\0physmap/f0000000/name\0vga.vram\0");
        var qemu = Concat("QEVM"u8.ToArray(), new WireBytes().U32Be(3).Fill(0x42, 20).ToArray());
        var bytes = Concat(
            XlHeader(XlMandatoryFlags.Json | XlMandatoryFlags.StreamV2, Encoding.UTF8.GetBytes(ConfigJson + "\0")),
            LibxlHeader(),
            Empty(LibxlRecordType.LibxcContext),
            LibxcHvmStream(),
            Record(LibxlRecordType.EmulatorXenstoreData, EmulatorBody(EmulatorId.QemuUpstream, 0, xenstore)),
            Record(LibxlRecordType.EmulatorContext, EmulatorBody(EmulatorId.QemuUpstream, 0, qemu)),
            Empty(LibxlRecordType.End),
            XlMigrateProtocol.PermissionToGo.ToArray());

        var file = new XlSaveFile(new KaitaiStream(bytes));

        Assert.Equal(XlWire.Magic.ToArray(), file.Magic);
        Assert.True(file.IsLittleEndian);
        Assert.True(file.IsJson);
        Assert.True(file.IsStreamV2);
        Assert.Equal(0u, file.UnknownMandatoryFlags);
        Assert.Equal((uint)(ConfigJson.Length + 1), file.OptionalData.Config.Size);
        Assert.Equal(ConfigJson, file.OptionalData.Config.Text);
        Assert.Empty(file.OptionalData.Rest);
        Assert.Null(file.LegacyPayload);
        Assert.Equal(XlMigrateProtocol.PermissionToGo.ToArray(), file.Trailer);

        var libxl = file.Libxl;
        Assert.Equal(LibxlWire.Ident, libxl.Header.Ident);
        Assert.Equal(LibxlWire.Version, libxl.Header.Version);
        Assert.False(libxl.Header.IsBigEndian);
        Assert.False(libxl.Header.IsLegacy);
        Assert.Equal(
            [Xl.LibxlRecordType.LibxcContext, Xl.LibxlRecordType.EmulatorXenstoreData, Xl.LibxlRecordType.EmulatorContext, Xl.LibxlRecordType.End],
            libxl.Entries.Select(e => e.Record.Type));

        var libxc = libxl.Entries[0].Libxc;
        Assert.NotNull(libxc);
        Assert.Equal(Xc.DomainType.X86Hvm, libxc.DomainHeader.Type);
        Assert.Equal(
            [Xc.LibxcRecordType.StaticDataEnd, Xc.LibxcRecordType.PageData, Xc.LibxcRecordType.X86TscInfo, Xc.LibxcRecordType.HvmContext, Xc.LibxcRecordType.HvmParams, Xc.LibxcRecordType.End],
            libxc.Records.Select(r => r.Type));
        Assert.False(libxc.EndsWithCheckpoint);
        Assert.Equal(2, Assert.IsType<Xc.PageData>(libxc.Records[1].Body).NumDataPages);
        Assert.All(libxl.Entries.Skip(1), e => Assert.Null(e.Libxc));

        var xs = Assert.IsType<Xl.EmulatorXenstoreData>(libxl.Entries[1].Record.Body);
        Assert.Equal(Xl.EmulatorId.QemuUpstream, xs.Emulator.EmulatorId);
        Assert.Equal(0u, xs.Emulator.Index);
        Assert.Equal(["physmap/f0000000/start_addr", "physmap/f0000000/name"], xs.Pairs.Select(p => p.Key));
        Assert.Equal(["f0000000", "vga.vram"], xs.Pairs.Select(p => p.Value));

        var ctx = Assert.IsType<Xl.EmulatorContext>(libxl.Entries[2].Record.Body);
        Assert.Equal(Xl.EmulatorId.QemuUpstream, ctx.Emulator.EmulatorId);
        Assert.True(ctx.IsQemuSavevm);
        Assert.Equal(qemu, ctx.Blob);
        Assert.Equal(new byte[Framing.PaddingFor((uint)(8 + qemu.Length))], libxl.Entries[2].Record.Padding);
    }

    [Fact]
    public void An_xl_file_without_STREAMv2_keeps_the_legacy_payload_raw()
    {
        var legacy = new byte[] { 1, 2, 3, 4, 5 };
        var file = new XlSaveFile(new KaitaiStream(Concat(XlHeader(XlMandatoryFlags.None, Encoding.UTF8.GetBytes("name='g'\n\0")), legacy)));
        Assert.False(file.IsStreamV2);
        Assert.False(file.IsJson);
        Assert.Equal("name='g'\n", file.OptionalData.Config.Text);
        Assert.Null(file.Libxl);
        Assert.Equal(legacy, file.LegacyPayload);
    }

    [Fact]
    public void An_xl_header_reports_unknown_mandatory_flags_and_a_big_endian_byte_order_probe()
    {
        var bytes = XlHeader(XlMandatoryFlags.StreamV2 | (XlMandatoryFlags)0x8000_0000u, []);
        new byte[] { 0x01, 0x02, 0x03, 0x04 }.CopyTo(bytes, XlWire.ByteOrderOffset); // written by a big-endian domain
        var file = new XlSaveFile(new KaitaiStream(Concat(bytes, LibxlHeader(), Empty(LibxlRecordType.End))));
        Assert.Equal(0x8000_0000u, file.UnknownMandatoryFlags);
        Assert.False(file.IsLittleEndian);
        Assert.Equal(0u, file.OptionalData.Config.Size);
        Assert.Equal(string.Empty, file.OptionalData.Config.Text);
    }

    [Fact]
    public void A_file_without_the_xl_magic_is_rejected()
    {
        var bytes = XlHeader(XlMandatoryFlags.StreamV2, []);
        bytes[30] = (byte)'X';
        var e = Assert.Throws<ValidationNotEqualError>(() => new XlSaveFile(new KaitaiStream(bytes)));
        Assert.Contains("/seq/0", e.Message);
    }

    [Fact]
    public void A_checkpointed_libxl_stream_alternates_libxc_and_libxl_records_until_failover()
    {
        var bytes = Concat(
            LibxlHeader(),
            Empty(LibxlRecordType.LibxcContext),
            ImageHeader(), DomainHeader(DomainType.X86Hvm),
            Empty(LibxcRecordType.StaticDataEnd),
            Record(LibxcRecordType.PageData, PageDataBody([Word(1, PageType.NoTab)], [1])),
            Record(LibxcRecordType.X86TscInfo, new byte[24]),
            Empty(LibxcRecordType.Checkpoint),
            Record(LibxlRecordType.EmulatorContext, EmulatorBody(EmulatorId.QemuUpstream, 0, "QEVM"u8.ToArray())),
            Empty(LibxlRecordType.CheckpointEnd),
            Record(LibxcRecordType.PageData, PageDataBody([Word(2, PageType.NoTab)], [2])),
            Empty(LibxcRecordType.Checkpoint),
            Empty(LibxlRecordType.CheckpointEnd));

        var stream = new Xl(new KaitaiStream(bytes));

        Assert.Equal(
            [Xl.LibxlRecordType.LibxcContext, Xl.LibxlRecordType.EmulatorContext, Xl.LibxlRecordType.CheckpointEnd, Xl.LibxlRecordType.CheckpointEnd],
            stream.Entries.Select(e => e.Record.Type));
        var first = stream.Entries[0].Libxc;
        Assert.NotNull(first.ImageHeader);
        Assert.True(first.EndsWithCheckpoint);
        Assert.Equal(4, first.Records.Count);

        var resumed = stream.Entries[2].LibxcCheckpoint;
        Assert.NotNull(resumed);
        Assert.Null(resumed.ImageHeader);
        Assert.Null(resumed.DomainHeader);
        Assert.Equal([Xc.LibxcRecordType.PageData, Xc.LibxcRecordType.Checkpoint], resumed.Records.Select(r => r.Type));
        Assert.Equal(2ul, Assert.IsType<Xc.PageData>(resumed.Records[0].Body).Pfns[0].Pfn);

        // The stream stopped at failover right after the second CHECKPOINT_END: nothing more to parse.
        Assert.Null(stream.Entries[3].LibxcCheckpoint);
    }

    [Fact]
    public void A_legacy_converted_libxl_header_sets_the_legacy_bit()
    {
        var stream = new Xl(new KaitaiStream(Concat(LibxlHeader(LibxlOptions.Legacy | (LibxlOptions)0x1_0000), Empty(LibxlRecordType.End))));
        Assert.True(stream.Header.IsLegacy);
        Assert.Equal(0x1_0000u, stream.Header.ReservedOptions);
        Assert.Equal(Xl.LibxlRecordType.End, Assert.Single(stream.Entries).Record.Type);
    }

    [Fact]
    public void Checkpoint_state_records_parse_on_their_own_as_on_the_colo_back_channel()
    {
        foreach (var id in Enum.GetValues<CheckpointControlId>())
        {
            var record = new Xl.LibxlRecord(new KaitaiStream(Record(LibxlRecordType.CheckpointState, new WireBytes().U32((uint)id).ToArray())));
            Assert.Equal(Xl.LibxlRecordType.CheckpointState, record.Type);
            Assert.Equal(4u, record.Length);
            Assert.Equal((int)id, (int)Assert.IsType<Xl.CheckpointState>(record.Body).ControlId);
            Assert.Equal(new byte[4], record.Padding);
        }

        // A zero-length CHECKPOINT_STATE (the C reader would dereference NULL) is an error here.
        Assert.Throws<EndOfStreamException>(() => new Xl.LibxlRecord(new KaitaiStream(Empty(LibxlRecordType.CheckpointState))));
    }

    [Fact]
    public void A_libxl_stream_missing_its_end_fails_inside_the_truncated_record()
    {
        var bytes = Concat(LibxlHeader(), Record(LibxlRecordType.EmulatorContext, EmulatorBody(EmulatorId.Unknown, 0, new byte[12])));
        Assert.Throws<EndOfStreamException>(() => new Xl(new KaitaiStream(bytes[..^6])));
    }
}
