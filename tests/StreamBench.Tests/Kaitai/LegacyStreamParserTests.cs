using System.Text;
using Kaitai;
using StreamBench.Formats.Wire;
using Xunit;
using StreamBench.X86;
using Lg = Kaitai.LegacyStream;
using Xc = Kaitai.LibxcStream;

namespace StreamBench.Tests.Kaitai;

/// <summary>The generated legacy parser (ksy/legacy_stream.ksy) decodes hand-built pre-4.6 streams for both toolstack widths.</summary>
public class LegacyStreamParserTests
{
    private static WireBytes Chunk(LegacyChunkId id) => new WireBytes().S32((int)id);

    private static byte[] ExtendedInfo(int width, params (string Id, byte[] Data)[] blocks)
    {
        var body = new WireBytes();
        foreach (var (id, data) in blocks)
        {
            body.Ascii(id).U32((uint)data.Length).Raw(data);
        }

        var bodyBytes = body.ToArray();
        return new WireBytes().ULong(width, width == 32 ? LegacyWire.ExtendedInfoMarker32 : LegacyWire.ExtendedInfoMarker64)
            .U32((uint)bodyBytes.Length).Raw(bodyBytes).ToArray();
    }

    private static ulong LegacyWord(uint pfn, PageType type) => ((ulong)type << LegacyWire.TypeShift) | (pfn & LegacyWire.PfnMask);

    [Fact]
    public void A_64bit_pv_stream_decodes_header_chunks_and_tail()
    {
        var xsaveLength = 16u + 64u;
        var bytes = new WireBytes()
            .U64(5) // p2m_size
            .Raw(ExtendedInfo(64,
                ("vcpu", new byte[LegacyWire.VcpuBlockSize64]),
                ("extv", []),
                ("xcnt", new WireBytes().U32(xsaveLength).ToArray())))
            .U64(0xABC) // (5 - 1) / 512 + 1 = 1 p2m frame
            .Raw(Chunk(LegacyChunkId.VcpuInfo).S32(1).U64(0b11).ToArray())
            .S32(3).U64(LegacyWord(0, PageType.NoTab)).U64(0xF000_0000).U64(LegacyWord(2, PageType.L1Tab)).Fill(0x61, 4096).Fill(0x62, 4096)
            .Raw(Chunk(LegacyChunkId.TscInfo).U32(1).U64(777).U32(2_500_000).U32(4).ToArray())
            .Raw(Chunk(LegacyChunkId.EnableVerifyMode).ToArray())
            .Raw(Chunk(LegacyChunkId.LastCheckpoint).ToArray())
            .S32(0)
            // PV tail
            .U32(1).U64(0x77)
            .Fill(0xB0, (int)LegacyWire.VcpuBlockSize64).Fill(0xE0, LegacyWire.ExtendedVcpuContextSize).U64(0x7).U64(64).Fill(0x50, 64)
            .Fill(0xB1, (int)LegacyWire.VcpuBlockSize64).Fill(0xE1, LegacyWire.ExtendedVcpuContextSize).U64(0x7).U64(64).Fill(0x51, 64)
            .Fill(0x5C, 4096)
            .ToArray();

        var stream = new Lg(64, Lg.GuestType.Pv, new KaitaiStream(bytes));

        Assert.Equal(5ul, stream.P2mSize);
        var info = stream.ExtendedInfo;
        Assert.Equal(["vcpu", "extv", "xcnt"], info.BlockList.Blocks.Select(b => b.BlockId));
        Assert.All(info.BlockList.Blocks, b => Assert.True(b.IsKnown));
        Assert.Equal((int)LegacyWire.VcpuBlockSize64, info.VcpuContextSize);
        Assert.True(info.HasExtv);
        Assert.Equal((int)xsaveLength, info.XsaveLength);
        Assert.Equal(8, info.GuestWidth);
        Assert.Equal(4, info.PtLevels);
        Assert.Equal(8, stream.GuestWidth);
        Assert.Equal([0xABCul], stream.P2mFrameList);

        Assert.Equal([-2, 3, -7, -1, -9, 0], stream.Chunks.Select(c => c.ChunkId));
        Assert.Equal(Lg.LegacyChunkId.VcpuInfo, stream.Chunks[0].Kind);
        var vcpus = Assert.IsType<Lg.VcpuInfo>(stream.Chunks[0].Body);
        Assert.Equal(1, vcpus.MaxVcpuId);
        Assert.Equal(2, vcpus.OnlineCount);

        Assert.True(stream.Chunks[1].IsPageBatch);
        var batch = Assert.IsType<Lg.PageBatch>(stream.Chunks[1].Body);
        Assert.Equal([Xc.PageType.NoTab, Xc.PageType.XTab, Xc.PageType.L1Tab], batch.Pfns.Select(p => p.Type));
        Assert.Equal([0ul, 0, 2], batch.Pfns.Select(p => p.Pfn));
        Assert.Equal([false, true, false], batch.Pfns.Select(p => p.IsDroppedXtab));
        Assert.Equal(2, batch.NumDataPages);
        Assert.Equal([0x61, 0x62], batch.Pages.Select(p => p[0]));
        Assert.False(batch.ExceedsMaxBatch);

        var tsc = Assert.IsType<Lg.TscInfoChunk>(stream.Chunks[2].Body);
        Assert.Equal((Xc.TscMode.AlwaysEmulate, 777ul, 2_500_000u, 4u), (tsc.Mode, tsc.Nsec, tsc.Khz, tsc.Incarnation));
        Assert.IsType<Lg.NoPayload>(stream.Chunks[3].Body);
        Assert.Equal(2, stream.Chunks[^1].OnlineVcpusThrough);

        var tail = stream.PvTail;
        Assert.Equal(1u, tail.NrUnmapped);
        Assert.Equal([0x77ul], tail.Unmapped);
        Assert.Equal(2, tail.Vcpus.Count);
        Assert.Equal([0xB0, 0xB1], tail.Vcpus.Select(v => v.Basic[0]));
        Assert.All(tail.Vcpus, v => Assert.Equal((int)LegacyWire.VcpuBlockSize64, v.Basic.Length));
        Assert.Equal([0xE0, 0xE1], tail.Vcpus.Select(v => v.Extended[0]));
        Assert.All(tail.Vcpus, v => Assert.Equal((0x7ul, 64ul, 64), (v.Xsave.Mask, v.Xsave.Size, v.Xsave.Area.Length)));
        Assert.Equal(0x5C, tail.SharedInfo[4095]);
        Assert.Null(stream.HvmTail);
        Assert.Null(stream.Qemu);
    }

    [Fact]
    public void A_32bit_pv_stream_reads_ulongs_as_four_octets()
    {
        var bytes = new WireBytes()
            .U32(2000) // p2m_size
            .Raw(ExtendedInfo(32, ("vcpu", new byte[LegacyWire.VcpuBlockSize32])))
            .U32(0x100).U32(0x101) // (2000 - 1) / 1024 + 1 = 2 p2m frames
            .Raw(Chunk(LegacyChunkId.VcpuInfo).S32(0).U64(1).ToArray())
            .S32(1).U32((uint)LegacyWord(5, PageType.L3Tab)).Fill(0x33, 4096)
            .S32(0)
            .U32(2).U32(0x10).U32(0x11)
            .Fill(0xB0, (int)LegacyWire.VcpuBlockSize32)
            .Fill(0x5C, 4096)
            .ToArray();

        var stream = new Lg(32, Lg.GuestType.Pv, new KaitaiStream(bytes));

        Assert.Equal(2000ul, stream.P2mSize);
        Assert.Equal(4, stream.ExtendedInfo.GuestWidth);
        Assert.Equal(3, stream.ExtendedInfo.PtLevels);
        Assert.False(stream.ExtendedInfo.HasExtv);
        Assert.Equal(0, stream.ExtendedInfo.XsaveLength);
        Assert.Equal([0x100ul, 0x101], stream.P2mFrameList);
        var word = Assert.Single(Assert.IsType<Lg.PageBatch>(stream.Chunks[1].Body).Pfns);
        Assert.Equal((Xc.PageType.L3Tab, 5ul), (word.Type, word.Pfn));
        Assert.Null(word.High);
        Assert.Equal([0x10ul, 0x11], stream.PvTail.Unmapped);
        var vcpu = Assert.Single(stream.PvTail.Vcpus);
        Assert.Null(vcpu.Extended);
        Assert.Null(vcpu.Xsave);
        Assert.True(stream.M_Io.IsEof);
    }

    [Fact]
    public void A_64bit_hvm_stream_decodes_param_chunks_toolstack_tail_and_qemu_record()
    {
        var physmapName = "vga.vram\0"u8.ToArray();
        var toolstack = new WireBytes().U32(LegacyWire.ToolstackBlobVersion).U32(1)
            .U64(0xF0000000).U64(0xF1000000).U64(0x800000).U32((uint)physmapName.Length).Raw(physmapName).Fill(0xDD, 4)
            .ToArray();
        var hvmContext = new WireBytes()
            .U16((ushort)HvmSaveType.Header).U16(0).U32(HvmSaveWire.HeaderBodySize)
            .U32(HvmSaveWire.FileMagic).U32(1).U64(0).U32(0).U32(1_000_000)
            .U16((ushort)HvmSaveType.End).U16(0).U32(0)
            .ToArray();
        var qemuState = Encoding.ASCII.GetBytes("QEVM\0\0\0\u0003qemu state");
        var bytes = new WireBytes()
            .U64(0x40000)
            .Raw(Chunk(LegacyChunkId.HvmIdentPt).U32(0).U64(0xFEFFD000).ToArray())
            .Raw(Chunk(LegacyChunkId.HvmConsolePfn).U32(0).U64(0xFEFFC).ToArray())
            .Raw(Chunk(LegacyChunkId.HvmNrIoreqServerPages).U32(0).U64(8).ToArray())
            .Raw(Chunk(LegacyChunkId.Toolstack).U32((uint)toolstack.Length).Raw(toolstack).ToArray())
            .Raw(Chunk(LegacyChunkId.CompressedData).U32(3).Raw([0x81, 0x02, 0x03]).ToArray())
            .S32(2).U64(LegacyWord(0x1000, PageType.NoTab)).U64(LegacyWord(0x1001, PageType.XAlloc)).Fill(0x77, 4096)
            .S32(0)
            .U64(0xFEFFF).U64(0xFEFFE).U64(0xFEFFD).U32((uint)hvmContext.Length).Raw(hvmContext)
            .Raw(LegacyWire.DeviceModelRecord0002).U32((uint)qemuState.Length).Raw(qemuState)
            .ToArray();

        var stream = new Lg(64, Lg.GuestType.Hvm, new KaitaiStream(bytes));

        Assert.Equal(0x40000ul, stream.P2mSize);
        Assert.Null(stream.ExtendedInfo);
        Assert.Null(stream.P2mFrameList);
        Assert.Null(stream.PvTail);
        Assert.Equal(
            [Lg.LegacyChunkId.HvmIdentPt, Lg.LegacyChunkId.HvmConsolePfn, Lg.LegacyChunkId.HvmNrIoreqServerPages, Lg.LegacyChunkId.Toolstack, Lg.LegacyChunkId.CompressedData],
            stream.Chunks.Take(5).Select(c => c.Kind));

        var ident = Assert.IsType<Lg.HvmParamChunk>(stream.Chunks[0].Body);
        Assert.Equal((Xc.HvmParam.IdentPt, 0xFEFFD000ul), (ident.Param, ident.Value));
        Assert.Equal(Xc.HvmParam.ConsolePfn, Assert.IsType<Lg.HvmParamChunk>(stream.Chunks[1].Body).Param);
        Assert.Equal(Xc.HvmParam.NrIoreqServerPages, Assert.IsType<Lg.HvmParamChunk>(stream.Chunks[2].Body).Param);

        var blob = Assert.IsType<Lg.ToolstackChunk>(stream.Chunks[3].Body).Blob;
        Assert.Equal(1u, blob.Version);
        var entry = Assert.Single(blob.Entries);
        Assert.Equal((0xF0000000ul, 0xF1000000ul, 0x800000ul), (entry.PhysOffset, entry.StartAddr, entry.Size));
        Assert.Equal("vga.vram", entry.Name);
        Assert.Equal(new byte[] { 0xDD, 0xDD, 0xDD, 0xDD }, entry.LeakedPadding);
        Assert.Empty(blob.Rest);

        var compressed = Assert.IsType<Lg.CompressedDataChunk>(stream.Chunks[4].Body);
        Assert.Equal(new byte[] { 0x81, 0x02, 0x03 }, compressed.Data);

        var batch = Assert.IsType<Lg.PageBatch>(stream.Chunks[5].Body);
        Assert.Equal([true, false], batch.Pfns.Select(p => p.HasData));
        Assert.Equal([0ul, 0ul], batch.Pfns.Select(p => p.High ?? 99));
        Assert.Single(batch.Pages);

        var tail = stream.HvmTail;
        Assert.Equal((0xFEFFFul, 0xFEFFEul, 0xFEFFDul), (tail.IoreqPfn, tail.BufioreqPfn, tail.StorePfn));
        Assert.Equal((uint)hvmContext.Length, tail.ContextLength);
        var header = Assert.IsType<Xc.HvmSaveHeader>(tail.Context.Records[0].Data);
        Assert.True(header.IsMagicValid);
        Assert.Equal(1_000_000u, header.GtscKhz);

        Assert.Equal("DeviceModelRecord0002", stream.Qemu.Signature);
        var qemu = Assert.IsType<Lg.QemuSizedState>(stream.Qemu.Body);
        Assert.Equal(qemuState, qemu.Data);
        Assert.True(stream.M_Io.IsEof);
    }

    [Fact]
    public void A_32bit_hvm_stream_with_a_qemu_traditional_record_reads_it_to_the_end()
    {
        var bytes = new WireBytes()
            .U32(0x100)
            .Raw(Chunk(LegacyChunkId.HvmVm86Tss).U32(0).U64(0xFEFFA000).ToArray())
            .S32(0)
            .U64(1).U64(2).U64(3).U32(8).U16(0).U16(0).U32(0)
            .Raw(LegacyWire.QemuDeviceModelRecord).Ascii("everything to EOF")
            .ToArray();

        var stream = new Lg(32, Lg.GuestType.Hvm, new KaitaiStream(bytes));

        Assert.Equal(0x100ul, stream.P2mSize);
        Assert.Equal(Xc.HvmParam.Vm86Tss, Assert.IsType<Lg.HvmParamChunk>(stream.Chunks[0].Body).Param);
        Assert.Equal(Xc.HvmSaveCode.End, Assert.Single(stream.HvmTail.Context.Records).Typecode);
        Assert.Equal("everything to EOF", Encoding.ASCII.GetString(Assert.IsType<Lg.QemuStateToEof>(stream.Qemu.Body).Data));
    }

    [Fact]
    public void Vcpu_info_counts_online_vcpus_across_all_64_bits_of_each_word()
    {
        var bytes = Chunk(LegacyChunkId.VcpuInfo).S32(127)
            .U64((1ul << 0) | (1ul << 33) | (1ul << 63))
            .U64((1ul << 0) | (1ul << 36))
            .ToArray();
        var chunk = new Lg.Chunk(64, 3, new KaitaiStream(bytes));
        var info = Assert.IsType<Lg.VcpuInfo>(chunk.Body);
        Assert.Equal(2, info.NumWords);
        Assert.Equal([3, 2], info.Bitmap.Select(w => w.Popcount));
        Assert.Equal(5, info.OnlineCount);
        Assert.Equal(3 + 5, chunk.OnlineVcpusThrough);
        Assert.False(info.ExceedsMaxVcpuId);

        var all = new Lg.VcpuBitmapWord(0, new KaitaiStream(new WireBytes().U64(ulong.MaxValue).ToArray()));
        Assert.Equal(64, all.Popcount);
    }

    [Fact]
    public void Chunks_the_converter_cannot_read_fail_with_a_validation_error()
    {
        foreach (var id in new[] { LegacyChunkId.Tmem, LegacyChunkId.TmemExtra, LegacyChunkId.EnableCompression, (LegacyChunkId)(-21) })
        {
            var e = Assert.Throws<ValidationExprError>(() => new Lg.Chunk(64, 0, new KaitaiStream(Chunk(id).Zeros(16).ToArray())));
            Assert.Contains("/types/unsupported_chunk/seq/0", e.Message);
        }
    }

    [Fact]
    public void The_parameters_must_be_a_known_width_and_guest_type()
    {
        var bytes = new WireBytes().U64(1).S32(0).Zeros(64).ToArray();
        Assert.Throws<ValidationExprError>(() => new Lg(48, Lg.GuestType.Hvm, new KaitaiStream(bytes)));
        Assert.Throws<ValidationExprError>(() => new Lg(64, (Lg.GuestType)7, new KaitaiStream(bytes)));
    }

    [Fact]
    public void A_bad_extended_info_marker_is_rejected()
    {
        var bytes = new WireBytes().U64(1).U64(0x1234).U32(0).ToArray();
        var e = Assert.Throws<ValidationExprError>(() => new Lg(64, Lg.GuestType.Pv, new KaitaiStream(bytes)));
        Assert.Contains("/types/pv_extended_info/seq/0", e.Message);
    }
}
