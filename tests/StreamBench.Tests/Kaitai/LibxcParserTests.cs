using Kaitai;
using StreamBench.Formats.Wire;
using Xunit;
using static StreamBench.Tests.Kaitai.StreamPieces;
using StreamBench.X86;
using K = Kaitai.LibxcStream;

namespace StreamBench.Tests.Kaitai;

/// <summary>The generated libxc parser (ksy/libxc_stream.ksy) decodes hand-built records of every type.</summary>
public class LibxcParserTests
{
    private static K.LibxcRecord ParseRecord(byte[] bytes)
    {
        var io = new KaitaiStream(bytes);
        var record = new K.LibxcRecord(io);
        Assert.True(io.IsEof, "the record parse consumed the padding");
        return record;
    }

    [Fact]
    public void Headers_decode_big_endian_image_header_and_little_endian_domain_header()
    {
        var bytes = Concat(ImageHeader(3), DomainHeader(DomainType.X86Hvm, 4, 17), Empty(LibxcRecordType.End));
        var stream = new K(new KaitaiStream(bytes));

        Assert.Equal(LibxcWire.Marker, stream.ImageHeader.Marker);
        Assert.Equal(LibxcWire.Id, stream.ImageHeader.Id);
        Assert.Equal(3u, stream.ImageHeader.Version);
        Assert.False(stream.ImageHeader.IsBigEndian);
        Assert.Equal(0, stream.ImageHeader.ReservedOptions);
        Assert.Equal(K.DomainType.X86Hvm, stream.DomainHeader.Type);
        Assert.Equal(LibxcWire.PageShift, stream.DomainHeader.PageShift);
        Assert.Equal(4u, stream.DomainHeader.XenMajor);
        Assert.Equal(17u, stream.DomainHeader.XenMinor);
        Assert.False(stream.DomainHeader.IsConvertedFromLegacy);
        var end = Assert.Single(stream.Records);
        Assert.Equal(K.LibxcRecordType.End, end.Type);
    }

    [Fact]
    public void Image_header_flags_the_endianness_bit_and_reserved_options()
    {
        var stream = new K(new KaitaiStream(Concat(ImageHeader(2, 0x0003), DomainHeader(DomainType.X86Pv, 0, 1), Empty(LibxcRecordType.End))));
        Assert.True(stream.ImageHeader.IsBigEndian);
        Assert.Equal(2, stream.ImageHeader.ReservedOptions);
        Assert.True(stream.DomainHeader.IsConvertedFromLegacy);
    }

    [Fact]
    public void A_legacy_image_is_rejected_by_the_all_ones_marker()
    {
        var legacy = new WireBytes().U64(5).Zeros(40).ToArray();
        var e = Assert.Throws<ValidationNotEqualError>(() => new K(new KaitaiStream(legacy)));
        Assert.Contains("/types/ihdr/seq/0", e.Message);
    }

    [Fact]
    public void PageData_splits_each_word_into_type_and_pfn_and_sizes_pages_by_the_data_carrying_types()
    {
        var words = new[]
        {
            Word(0x10, PageType.NoTab),
            Word(0x11, PageType.XTab),
            Word(0xF_FFFF_FFFF_FFFF, PageType.L1Tab), // the largest pfn: needs all 52 bits
            Word(0x12, PageType.Broken),
            Word(0x13, PageType.L2TabPinned),
            Word(0x14, PageType.XAlloc),
        };
        var record = ParseRecord(Record(LibxcRecordType.PageData, PageDataBody(words, [0xA1, 0xA2, 0xA3])));

        Assert.Equal(K.LibxcRecordType.PageData, record.Type);
        Assert.Equal((uint)(8 + (6 * 8) + (3 * 4096)), record.Length);
        var body = Assert.IsType<K.PageData>(record.Body);
        Assert.Equal(6u, body.Count);
        Assert.Equal(3, body.NumDataPages);
        Assert.Equal(
            [K.PageType.NoTab, K.PageType.XTab, K.PageType.L1Tab, K.PageType.Broken, K.PageType.L2TabPinned, K.PageType.XAlloc],
            body.Pfns.Select(p => p.Type));
        Assert.Equal([0x10ul, 0x11, 0xF_FFFF_FFFF_FFFF, 0x12, 0x13, 0x14], body.Pfns.Select(p => p.Pfn));
        Assert.Equal([true, false, true, false, true, false], body.Pfns.Select(p => p.HasData));
        Assert.All(body.Pfns, p => Assert.Equal(words[body.Pfns.IndexOf(p)], p.Raw));
        Assert.All(body.Pfns, p => Assert.Equal(0, p.Reserved));
        Assert.Equal(3, body.Pages.Count);
        Assert.Equal([0xA1, 0xA2, 0xA3], body.Pages.Select(p => p.Distinct().Single()));
    }

    [Fact]
    public void PageData_agrees_with_the_wire_helpers_on_every_page_type()
    {
        foreach (var type in Enum.GetValues<PageType>())
        {
            var hasData = PageWord.HasData(type);
            var body = PageDataBody([Word(7, type) | (0x5Aul << 52)], hasData ? [0x33] : []);
            var parsed = Assert.IsType<K.PageData>(ParseRecord(Record(LibxcRecordType.PageData, body)).Body);
            var word = Assert.Single(parsed.Pfns);
            Assert.Equal((int)type, (int)word.Type);
            Assert.Equal(hasData, word.HasData);
            Assert.Equal(PageWord.IsValidType(type), word.IsValidType);
            Assert.Equal(0x5A, word.Reserved);
            Assert.Equal(7ul, word.Pfn);
        }
    }

    [Fact]
    public void X86PvInfo_and_P2mFrames_decode()
    {
        var info = ParseRecord(Record(LibxcRecordType.X86PvInfo, new WireBytes().U8(8).U8(4).Zeros(6).ToArray()));
        var pvInfo = Assert.IsType<K.X86PvInfo>(info.Body);
        Assert.Equal(8, pvInfo.GuestWidth);
        Assert.Equal(4, pvInfo.PtLevels);
        Assert.Equal(new byte[6], pvInfo.Reserved);

        var frames = ParseRecord(Record(LibxcRecordType.X86PvP2mFrames, new WireBytes().U32(0).U32(1023).U64(0x1234).U64(0x5678).ToArray()));
        var p2m = Assert.IsType<K.X86PvP2mFrames>(frames.Body);
        Assert.Equal(0u, p2m.StartPfn);
        Assert.Equal(1023u, p2m.EndPfn);
        Assert.Equal([0x1234ul, 0x5678], p2m.P2mPfns);
    }

    [Fact]
    public void The_four_pv_vcpu_records_decode_their_headers_and_blobs()
    {
        var basicBlob = Enumerable.Range(0, LibxcBodySizes.VcpuGuestContext64).Select(i => (byte)i).ToArray();
        var basic = Assert.IsType<K.X86PvVcpuBasic>(ParseRecord(Record(LibxcRecordType.X86PvVcpuBasic, new WireBytes().U32(1).U32(0).Raw(basicBlob).ToArray())).Body);
        Assert.Equal(1u, basic.VcpuId);
        Assert.Equal(basicBlob, basic.Context);

        var extended = Assert.IsType<K.X86PvVcpuExtended>(ParseRecord(Record(LibxcRecordType.X86PvVcpuExtended, new WireBytes().U32(2).U32(0).Fill(0xEE, 128).ToArray())).Body);
        Assert.Equal(2u, extended.VcpuId);
        Assert.Equal(128, extended.Context.Length);

        var xsave = Assert.IsType<K.X86PvVcpuXsave>(ParseRecord(Record(LibxcRecordType.X86PvVcpuXsave, new WireBytes().U32(3).U32(0).U64(0x7).U64(0x207).Fill(0x11, 40).ToArray())).Body);
        Assert.Equal(3u, xsave.VcpuId);
        Assert.Equal(0x7ul, xsave.Xcr0);
        Assert.Equal(0x207ul, xsave.Xcr0Accum);
        Assert.Equal(40, xsave.Area.Length);

        // Errata: Xen 4.6-4.8 sent the header alone.
        var headerOnly = Assert.IsType<K.X86PvVcpuXsave>(ParseRecord(Record(LibxcRecordType.X86PvVcpuXsave, new WireBytes().U32(0).U32(0).ToArray())).Body);
        Assert.Null(headerOnly.Xcr0);
        Assert.Empty(headerOnly.Area);

        // Eight octets of blob are not enough for xcr0 and xcr0_accum: they stay in the area.
        var short8 = Assert.IsType<K.X86PvVcpuXsave>(ParseRecord(Record(LibxcRecordType.X86PvVcpuXsave, new WireBytes().U32(0).U32(0).U64(7).ToArray())).Body);
        Assert.Null(short8.Xcr0);
        Assert.Null(short8.Xcr0Accum);
        Assert.Equal(8, short8.Area.Length);

        var msrs = Assert.IsType<K.X86PvVcpuMsrs>(ParseRecord(Record(LibxcRecordType.X86PvVcpuMsrs, new WireBytes().U32(4).U32(0).U32(0xC0000080).U32(0).U64(0xD01).U32(0x10).U32(0).U64(99).ToArray())).Body);
        Assert.Equal(4u, msrs.VcpuId);
        Assert.Equal([0xC0000080u, 0x10u], msrs.Msrs.Select(m => m.Index));
        Assert.Equal([0xD01ul, 99ul], msrs.Msrs.Select(m => m.Value));
    }

    [Fact]
    public void SharedInfo_TscInfo_Toolstack_and_DirtyPfnList_decode()
    {
        var shared = Assert.IsType<K.SharedInfo>(ParseRecord(Record(LibxcRecordType.SharedInfo, new WireBytes().Fill(0x5C, LibxcBodySizes.SharedInfo).ToArray())).Body);
        Assert.Equal(LibxcBodySizes.SharedInfo, shared.Page.Length);

        var tsc = Assert.IsType<K.X86TscInfo>(ParseRecord(Record(LibxcRecordType.X86TscInfo, new WireBytes().U32(2).U32(2_400_000).U64(123_456_789_012).U32(3).U32(0).ToArray())).Body);
        Assert.Equal(K.TscMode.NeverEmulate, tsc.Mode);
        Assert.Equal(2_400_000u, tsc.Khz);
        Assert.Equal(123_456_789_012ul, tsc.Nsec);
        Assert.Equal(3u, tsc.Incarnation);
        Assert.Equal(0u, tsc.Reserved);

        var toolstack = Assert.IsType<K.Toolstack>(ParseRecord(Record(LibxcRecordType.Toolstack, [1, 2, 3])).Body);
        Assert.Equal(new byte[] { 1, 2, 3 }, toolstack.Data);

        var dirty = Assert.IsType<K.CheckpointDirtyPfnList>(ParseRecord(Record(LibxcRecordType.CheckpointDirtyPfnList, new WireBytes().U64(5).U64(0x1_0000_0000).ToArray())).Body);
        Assert.Equal([5ul, 0x1_0000_0000], dirty.Pfns);
    }

    [Fact]
    public void HvmContext_decodes_the_save_records_including_the_header()
    {
        var blob = new WireBytes()
            .U16((ushort)HvmSaveType.Header).U16(0).U32(HvmSaveWire.HeaderBodySize)
            .U32(HvmSaveWire.FileMagic).U32(HvmSaveWire.FileVersion).U64(0xABCDEF).U32(0x000806EC).U32(2_000_000)
            .U16((ushort)HvmSaveType.Cpu).U16(0).U32(16).Fill(0xCC, 16)
            .U16((ushort)HvmSaveType.Lapic).U16(1).U32(16).U64(0xFEE00900).U32(0).U32(3)
            .U16((ushort)HvmSaveType.TscAdjust).U16(0).U32(8).U64(42)
            .U16((ushort)HvmSaveType.CpuMsr).U16(0).U32(24).U32(1).U32(0).U32(0x10).U32(0).U64(77)
            .U16((ushort)HvmSaveType.End).U16(0).U32(0)
            .ToArray();
        var ctx = Assert.IsType<K.HvmContext>(ParseRecord(Record(LibxcRecordType.HvmContext, blob)).Body);

        Assert.Equal(
            [K.HvmSaveCode.Header, K.HvmSaveCode.Cpu, K.HvmSaveCode.Lapic, K.HvmSaveCode.TscAdjust, K.HvmSaveCode.CpuMsr, K.HvmSaveCode.End],
            ctx.Records.Select(r => r.Typecode));
        var header = Assert.IsType<K.HvmSaveHeader>(ctx.Records[0].Data);
        Assert.Equal(HvmSaveWire.FileMagic, header.Magic);
        Assert.True(header.IsMagicValid);
        Assert.Equal(HvmSaveWire.FileVersion, header.Version);
        Assert.Equal(0xABCDEFul, header.Changeset);
        Assert.Equal(0x000806ECu, header.Cpuid);
        Assert.Equal(2_000_000u, header.GtscKhz);
        Assert.Equal(16, Assert.IsType<byte[]>(ctx.Records[1].Data).Length);
        var lapic = Assert.IsType<K.HvmHwLapic>(ctx.Records[2].Data);
        Assert.Equal(1, ctx.Records[2].Instance);
        Assert.Equal(0xFEE00900ul, lapic.ApicBaseMsr);
        Assert.Equal(3u, lapic.TimerDivisor);
        Assert.Equal(42ul, Assert.IsType<K.HvmTscAdjust>(ctx.Records[3].Data).TscAdjust);
        var msr = Assert.Single(Assert.IsType<K.HvmMsr>(ctx.Records[4].Data).Msrs);
        Assert.Equal((0x10u, 77ul), (msr.Index, msr.Value));
        Assert.Empty(ctx.Trailing);
    }

    [Fact]
    public void HvmParams_decode_index_and_value_pairs()
    {
        var body = new WireBytes().U32(3).U32(0)
            .U64((ulong)HvmParam.StorePfn).U64(0xFEFFF)
            .U64((ulong)HvmParam.IoreqServerPfn).U64(0xFEFF0)
            .U64(999).U64(1)
            .ToArray();
        var parameters = Assert.IsType<K.HvmParams>(ParseRecord(Record(LibxcRecordType.HvmParams, body)).Body);
        Assert.Equal(3u, parameters.Count);
        Assert.Equal([K.HvmParam.StorePfn, K.HvmParam.IoreqServerPfn, (K.HvmParam)999], parameters.Params.Select(p => p.Index));
        Assert.Equal([0xFEFFFul, 0xFEFF0, 1], parameters.Params.Select(p => p.Value));
    }

    [Fact]
    public void CpuidPolicy_and_MsrPolicy_decode_their_entries()
    {
        var cpuid = Assert.IsType<K.X86CpuidPolicy>(ParseRecord(Record(LibxcRecordType.X86CpuidPolicy, new WireBytes()
            .U32(0).U32(LibxcBodySizes.CpuidNoSubleaf).U32(0xD).U32(0x756E6547).U32(0x6C65746E).U32(0x49656E69)
            .U32(7).U32(0).U32(0).U32(1).U32(2).U32(3)
            .ToArray())).Body);
        Assert.Equal(2, cpuid.Leaves.Count);
        Assert.False(cpuid.Leaves[0].HasSubleaf);
        Assert.Equal(0x756E6547u, cpuid.Leaves[0].B);
        Assert.True(cpuid.Leaves[1].HasSubleaf);
        Assert.Equal((7u, 0u, 0u, 1u, 2u, 3u), (cpuid.Leaves[1].Leaf, cpuid.Leaves[1].Subleaf, cpuid.Leaves[1].A, cpuid.Leaves[1].B, cpuid.Leaves[1].C, cpuid.Leaves[1].D));

        var msr = Assert.IsType<K.X86MsrPolicy>(ParseRecord(Record(LibxcRecordType.X86MsrPolicy, new WireBytes().U32(0xCE).U32(0).U64(0x8000_0000).ToArray())).Body);
        var entry = Assert.Single(msr.Entries);
        Assert.Equal((0xCEu, 0u, 0x8000_0000ul), (entry.Idx, entry.Flags, entry.Val));

        // A CPUID policy that is not a multiple of 24 octets ends inside an entry.
        Assert.Throws<EndOfStreamException>(() => ParseRecord(Record(LibxcRecordType.X86CpuidPolicy, new byte[20])));
    }

    [Fact]
    public void Empty_and_unknown_records_keep_their_raw_body_and_padding()
    {
        foreach (var type in new[] { LibxcRecordType.End, LibxcRecordType.Verify, LibxcRecordType.Checkpoint, LibxcRecordType.StaticDataEnd })
        {
            var record = ParseRecord(Empty(type));
            Assert.Equal((int)type, (int)record.Type);
            Assert.Empty(Assert.IsType<byte[]>(record.Body));
            Assert.Empty(record.Padding);
        }

        var optional = ParseRecord(Record(0x8000_0001u, [9, 8, 7], padByte: 0xEE));
        Assert.True(optional.IsOptional);
        Assert.Equal(new byte[] { 9, 8, 7 }, Assert.IsType<byte[]>(optional.Body));
        Assert.Equal(new byte[] { 0xEE, 0xEE, 0xEE, 0xEE, 0xEE }, optional.Padding);
        Assert.False(ParseRecord(Record(0x13u, [])).IsOptional);
    }

    [Fact]
    public void A_record_cut_short_fails_with_an_end_of_stream_error()
    {
        var full = Record(LibxcRecordType.X86TscInfo, new byte[24]);
        Assert.Throws<EndOfStreamException>(() => new K.LibxcRecord(new KaitaiStream(full[..20])));
        Assert.Throws<EndOfStreamException>(() => new K.LibxcRecord(new KaitaiStream(Record(LibxcRecordType.X86PvInfo, new byte[5])[..^3])));
    }

    [Fact]
    public void A_pv_stream_with_every_record_type_parses_record_by_record_and_whole()
    {
        var records = new[]
        {
            Record(LibxcRecordType.X86PvInfo, new WireBytes().U8(8).U8(4).Zeros(6).ToArray()),
            Record(LibxcRecordType.X86CpuidPolicy, new byte[24]),
            Record(LibxcRecordType.X86MsrPolicy, new byte[16]),
            Empty(LibxcRecordType.StaticDataEnd),
            Record(LibxcRecordType.X86PvP2mFrames, new WireBytes().U32(0).U32(511).U64(0x99).ToArray()),
            Record(LibxcRecordType.PageData, PageDataBody([Word(0, PageType.NoTab), Word(1, PageType.L4TabPinned)], [1, 2])),
            Empty(LibxcRecordType.Verify),
            Record(LibxcRecordType.PageData, PageDataBody([Word(0, PageType.NoTab)], [1])),
            Record(LibxcRecordType.X86TscInfo, new byte[24]),
            Record(LibxcRecordType.SharedInfo, new byte[4096]),
            Record(LibxcRecordType.X86PvVcpuBasic, new WireBytes().U32(0).U32(0).Zeros(LibxcBodySizes.VcpuGuestContext64).ToArray()),
            Record(LibxcRecordType.X86PvVcpuExtended, new WireBytes().U32(0).U32(0).Zeros(128).ToArray()),
            Record(LibxcRecordType.X86PvVcpuXsave, new WireBytes().U32(0).U32(0).Zeros(16).ToArray()),
            Record(LibxcRecordType.X86PvVcpuMsrs, new WireBytes().U32(0).U32(0).Zeros(16).ToArray()),
            Record(LibxcRecordType.Toolstack, [0]),
            Record(LibxcRecordType.HvmParams, new WireBytes().U32(0).U32(0).ToArray()),
            Record(LibxcRecordType.HvmContext, new WireBytes().U16(0).U16(0).U32(0).ToArray()),
            Record(LibxcRecordType.CheckpointDirtyPfnList, new byte[8]),
            Empty(LibxcRecordType.Checkpoint),
            Empty(LibxcRecordType.End),
        };
        var bytes = Concat([ImageHeader(), DomainHeader(DomainType.X86Pv), .. records]);

        var stream = new K(new KaitaiStream(bytes));
        Assert.Equal(records.Length, stream.Records.Count);
        Assert.Equal(
            [LibxcRecordType.X86PvInfo, LibxcRecordType.X86CpuidPolicy, LibxcRecordType.X86MsrPolicy, LibxcRecordType.StaticDataEnd,
             LibxcRecordType.X86PvP2mFrames, LibxcRecordType.PageData, LibxcRecordType.Verify, LibxcRecordType.PageData,
             LibxcRecordType.X86TscInfo, LibxcRecordType.SharedInfo, LibxcRecordType.X86PvVcpuBasic, LibxcRecordType.X86PvVcpuExtended,
             LibxcRecordType.X86PvVcpuXsave, LibxcRecordType.X86PvVcpuMsrs, LibxcRecordType.Toolstack, LibxcRecordType.HvmParams,
             LibxcRecordType.HvmContext, LibxcRecordType.CheckpointDirtyPfnList, LibxcRecordType.Checkpoint, LibxcRecordType.End],
            stream.Records.Select(r => (LibxcRecordType)(uint)r.Type));

        // Record by record from the same offsets: the same types and lengths.
        var io = new KaitaiStream(bytes);
        io.Seek(LibxcWire.ImageHeaderSize + LibxcWire.DomainHeaderSize);
        foreach (var expected in stream.Records)
        {
            var one = new K.LibxcRecord(io);
            Assert.Equal((expected.Type, expected.Length), (one.Type, one.Length));
        }

        Assert.True(io.IsEof);
    }

    [Fact]
    public void A_bare_checkpointed_stream_runs_past_checkpoints_to_the_end_of_the_data()
    {
        var bytes = Concat(
            ImageHeader(), DomainHeader(DomainType.X86Hvm),
            Empty(LibxcRecordType.StaticDataEnd),
            Record(LibxcRecordType.PageData, PageDataBody([Word(3, PageType.NoTab)], [3])),
            Empty(LibxcRecordType.Checkpoint),
            Record(LibxcRecordType.PageData, PageDataBody([Word(4, PageType.NoTab)], [4])),
            Empty(LibxcRecordType.Checkpoint));
        var stream = new K(new KaitaiStream(bytes));
        Assert.Equal(5, stream.Records.Count);
        Assert.Equal(K.LibxcRecordType.Checkpoint, stream.Records[^1].Type);
    }
}
