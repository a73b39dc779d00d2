using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using Xunit;

namespace StreamBench.Tests.Legacy;

public sealed class LegacyReaderTests
{
    private static readonly byte[] Zeros = new byte[LegacyLayout.PageSize];

    private static LegacyStreamReader Reader(byte[] bytes, LegacyWidth width = LegacyWidth.Auto, LegacyGuestType guest = LegacyGuestType.Auto,
        LegacySemantics semantics = LegacySemantics.XenConverter, LegacyQemuRecordHandling qemu = LegacyQemuRecordHandling.Auto)
        => LegacyStreamReader.FromMemory(bytes, new LegacyStreamReaderOptions { Width = width, GuestType = guest, Semantics = semantics, QemuRecord = qemu });

    /// <summary>Reads to the item of <paramref name="kind"/> (the first, or the one after <paramref name="skip"/> others).</summary>
    private static void MoveTo(LegacyStreamReader r, LegacyItemKind kind, int skip = 0)
    {
        while (r.Read())
        {
            if (r.Kind == kind && skip-- == 0)
            {
                return;
            }
        }
        Assert.Fail($"no {kind} item");
    }

    private static List<string> Kinds(LegacyStreamReader r)
    {
        var kinds = new List<string>();
        while (r.Read())
        {
            kinds.Add(r.Kind == LegacyItemKind.Chunk ? r.ItemName : r.Kind.ToString());
        }
        return kinds;
    }

    private static byte[] Hvm(LegacyWidth width, Action<LegacyStreamWriter> body) => LegacyRefusals.Build(width, w =>
    {
        w.WriteHeader(0x100);
        body(w);
        w.WriteEndOfBody();
        LegacyRefusals.HvmTail(w);
    });

    // ---- detection ---------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(LegacyWidth.Bits64, LegacyGuestType.Hvm)]
    [InlineData(LegacyWidth.Bits64, LegacyGuestType.Pv)]
    [InlineData(LegacyWidth.Bits32, LegacyGuestType.Hvm)]
    [InlineData(LegacyWidth.Bits32, LegacyGuestType.Pv)]
    public void Width_and_guest_type_are_detected_from_octets_4_to_15(LegacyWidth width, LegacyGuestType guest)
    {
        var bytes = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Width = width, Guest = guest, Pages = 4 });
        using var r = Reader(bytes);
        Assert.True(r.Read());
        Assert.Equal(LegacyItemKind.Header, r.Kind);
        Assert.Equal(width, r.Width);
        Assert.Equal(guest, r.GuestType);
        Assert.Equal(20ul, r.P2mSize);
        Assert.NotEmpty(r.DetectionReason);
    }

    [Fact]
    public void A_32_bit_HVM_image_starting_with_a_metadata_chunk_is_detected_by_its_negative_id()
    {
        var bytes = Hvm(LegacyWidth.Bits32, w => w.WriteTscInfo(new LegacyTscInfo(1, 2, 3, 4)));
        var d = LegacyFormatDetector.Detect(bytes);
        Assert.Equal((LegacyWidth.Bits32, LegacyGuestType.Hvm), (d.Width, d.GuestType));
        Assert.Contains("-7", d.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Forced_width_and_guest_type_override_detection()
    {
        var bytes = Hvm(LegacyWidth.Bits64, _ => { });
        Assert.Equal(LegacyGuestType.Pv, LegacyFormatDetector.Detect(bytes, LegacyWidth.Bits64, LegacyGuestType.Pv).GuestType);
        Assert.Equal(LegacyWidth.Bits32, LegacyFormatDetector.Detect(bytes, LegacyWidth.Bits32).Width);
        using var r = Reader(bytes, LegacyWidth.Bits64, LegacyGuestType.Hvm);
        Assert.True(r.Read());
        Assert.Equal("forced by the caller", r.DetectionReason);
    }

    // ---- header, extended info, p2m ----------------------------------------------------------------------------

    [Theory]
    [InlineData(LegacyWidth.Bits32, 4)]
    [InlineData(LegacyWidth.Bits64, 4)]
    [InlineData(LegacyWidth.Bits32, 8)]
    [InlineData(LegacyWidth.Bits64, 8)]
    public void PV_extended_info_gives_guest_width_levels_and_tail_shape(LegacyWidth width, int guestWidth)
    {
        var bytes = LegacySyntheticImage.Generate(new LegacySyntheticOptions
        {
            Width = width, Guest = LegacyGuestType.Pv, GuestWidth = guestWidth, Pages = 3000, XsaveSize = 40, ExtendedVcpuContext = true,
        });
        using var r = Reader(bytes);
        MoveTo(r, LegacyItemKind.ExtendedInfo);
        Assert.Equal((uint)(8 + (guestWidth == 8 ? 0x1430 : 0xAF0) + 8 + 8 + 4), r.ExtendedInfoLength);
        MoveTo(r, LegacyItemKind.ExtendedInfoBlock);
        Assert.Equal("vcpu", r.BlockName);
        Assert.Equal(guestWidth, r.GuestWidth);
        Assert.Equal(guestWidth == 8 ? 4 : 3, r.PtLevels);
        Assert.Equal(guestWidth == 8 ? 0x1430 : 0xAF0, r.BasicContextSize);
        MoveTo(r, LegacyItemKind.ExtendedInfoBlock);
        Assert.Equal("extv", r.BlockName);
        Assert.True(r.HasExtendedVcpuContext);
        MoveTo(r, LegacyItemKind.ExtendedInfoBlock);
        Assert.Equal("xcnt", r.BlockName);
        Assert.Equal(56u, r.XsaveLength);
        MoveTo(r, LegacyItemKind.P2mFrameList);
        var fpp = 4096 / guestWidth;
        Assert.Equal(((3016 - 1) / fpp) + 1, r.FrameCount);
        Assert.Equal(r.FrameCount * r.UlongSize, r.BodyLength);
        var frames = new ulong[r.FrameCount];
        Assert.Equal(frames.Length, r.ReadUlongs(frames));
        Assert.All(frames, f => Assert.InRange(f, 0x1000ul, 0x1000ul + 0xFFFFF));
    }

    [Fact]
    public void Unknown_extended_blocks_are_skipped_under_libxc_restore_semantics()
    {
        var bytes = LegacyRefusals.Build(LegacyWidth.Bits64, w =>
        {
            w.WriteHeader(16);
            w.WriteExtendedInfo(8 + 0x1430 + 8 + 3);
            w.WriteExtendedBlock("vcpu"u8, new byte[0x1430]);
            w.WriteExtendedBlock("zzzz"u8, new byte[3]);
            w.WriteUlongs([7]);
            w.WriteEndOfBody();
            w.WritePvUnmapped([]);
            w.WritePvVcpuBasic(new byte[0x1430]);
            w.WriteSharedInfo(new byte[4096]);
        });
        using var strict = Reader(bytes);
        var e = Assert.Throws<StreamFormatException>(() => Kinds(strict));
        Assert.Equal("id", e.Field);
        Assert.Equal(8 + 8 + 4 + 8 + 0x1430, e.Offset);
        using var lenient = Reader(bytes, semantics: LegacySemantics.LibxcRestore);
        Assert.Contains("SharedInfo", Kinds(lenient));
    }

    // ---- body chunks -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(LegacyWidth.Bits32)]
    [InlineData(LegacyWidth.Bits64)]
    public void A_page_batch_carries_pfn_words_and_the_pages_of_data_words(LegacyWidth width)
    {
        var pages = new byte[3 * LegacyLayout.PageSize];
        Random.Shared.NextBytes(pages);
        ulong[] words = [0x10, LegacyPfn.Make(0x11, 0xF), LegacyPfn.Make(0x12, 0x9), LegacyPfn.Make(0x13, 0xE), LegacyPfn.Make(0x14, 0xD), LegacyPfn.Make(0x15, 0x5)];
        var bytes = Hvm(width, w => w.WritePageBatch(words, pages));
        using var r = Reader(bytes);
        MoveTo(r, LegacyItemKind.PageBatch);
        Assert.Equal(words, r.PfnWords.ToArray());
        Assert.Equal(3, r.DataPageCount);
        Assert.Equal(3L * LegacyLayout.PageSize, r.BodyLength);
        Assert.Equal(pages, r.GetBody().ToArray());
        Assert.Contains("EndOfBody", Kinds(r));
    }

    [Fact]
    public void Pfn_words_map_to_v2_words_as_the_converter_does()
    {
        Assert.Equal(0x9000_0000_0000_0012ul, LegacyPfn.ToV2Word(LegacyPfn.Make(0x12, 0x9)));
        Assert.Equal(0xF000_0000_0000_0000ul, LegacyPfn.ToV2Word(LegacyLayout.XtabPfnZero));
        // A 64-bit toolstack's high bits are dropped, as in convert-legacy-stream.
        Assert.Equal(0x0000_0000_0000_0005ul, LegacyPfn.ToV2Word(0x1_0000_0005ul));
        Assert.True(LegacyPfn.HasData(LegacyPfn.Make(1, 0x8)));
        Assert.False(LegacyPfn.HasData(LegacyPfn.Make(1, 0xD)));
    }

    [Fact]
    public void Every_HVM_param_chunk_is_read_with_its_pad_and_value()
    {
        var ids = Enum.GetValues<LegacyChunkId>().Where(id => LegacyLayout.HvmParamOf(id) is not null).ToArray();
        Assert.Equal(11, ids.Length);
        var bytes = Hvm(LegacyWidth.Bits64, w =>
        {
            foreach (var id in ids)
            {
                w.WriteHvmParamChunk(id, 0x1000 + (ulong)(-(int)id), pad: 0xAB);
            }
        });
        using var r = Reader(bytes);
        foreach (var id in ids)
        {
            MoveTo(r, LegacyItemKind.Chunk);
            Assert.Equal(id, r.ChunkId);
            Assert.Equal(0x1000 + (ulong)(-(int)id), r.ChunkValue);
            Assert.Equal(0xABu, r.ChunkPad);
        }
    }

    [Fact]
    public void TSC_INFO_is_read_in_its_legacy_field_order()
    {
        var bytes = Hvm(LegacyWidth.Bits32, w => w.WriteTscInfo(new LegacyTscInfo(2, 0x1122334455667788, 2_400_000, 9)));
        using var r = Reader(bytes);
        MoveTo(r, LegacyItemKind.Chunk);
        Assert.Equal(LegacyChunkId.TscInfo, r.ChunkId);
        Assert.Equal(new LegacyTscInfo(2, 0x1122334455667788, 2_400_000, 9), r.Tsc);
    }

    [Fact]
    public void VCPU_INFO_chunks_append_for_the_converter_and_replace_for_the_restore()
    {
        var bytes = LegacyRefusals.Build(LegacyWidth.Bits64, w =>
        {
            LegacyRefusals.PvHead(w);
            w.WriteVcpuInfo([0, 2]);
            w.WriteVcpuInfo(70, [0b1, 0b10]);
            w.WriteEndOfBody();
        });
        using var converter = Reader(bytes);
        MoveTo(converter, LegacyItemKind.Chunk, 1);
        Assert.Equal(70, converter.MaxVcpuId);
        Assert.Equal([0b1ul, 0b10ul], converter.VcpuBitmap.ToArray());
        Assert.Equal([0, 2, 0, 65], converter.OnlineVcpus.ToArray());
        using var restore = Reader(bytes, semantics: LegacySemantics.LibxcRestore);
        Assert.True(restore.Read());
        Assert.Equal([0], restore.OnlineVcpus.ToArray());
        MoveTo(restore, LegacyItemKind.Chunk, 1);
        Assert.Equal([0, 65], restore.OnlineVcpus.ToArray());
    }

    [Fact]
    public void A_negative_max_vcpu_id_reads_no_bitmap_as_Pythons_floor_division_does()
    {
        var bytes = Hvm(LegacyWidth.Bits64, w =>
        {
            w.WriteChunkId((int)LegacyChunkId.VcpuInfo);
            w.WriteI32(-1);
            w.WriteTscInfo(default);
        });
        using var r = Reader(bytes);
        MoveTo(r, LegacyItemKind.Chunk);
        Assert.Equal(-1, r.MaxVcpuId);
        Assert.True(r.VcpuBitmap.IsEmpty);
        MoveTo(r, LegacyItemKind.Chunk);
        Assert.Equal(LegacyChunkId.TscInfo, r.ChunkId);
        using var restore = Reader(bytes, semantics: LegacySemantics.LibxcRestore);
        Assert.Equal("max_vcpu_id", Assert.Throws<StreamFormatException>(() => Kinds(restore)).Field);
    }

    [Fact]
    public void Marker_chunks_toolstack_and_compressed_data_are_items()
    {
        var bytes = Hvm(LegacyWidth.Bits64, w =>
        {
            w.WriteMarkerChunk(LegacyChunkId.EnableVerifyMode);
            w.WriteToolstack([1, 2, 3]);
            w.WriteCompressedData([0x80, 9]);
            w.WriteMarkerChunk(LegacyChunkId.EnableCompression);
            w.WriteMarkerChunk(LegacyChunkId.LastCheckpoint);
        });
        using var r = Reader(bytes);
        MoveTo(r, LegacyItemKind.Chunk);
        Assert.Equal(LegacyChunkId.EnableVerifyMode, r.ChunkId);
        MoveTo(r, LegacyItemKind.Toolstack);
        Assert.Equal([1, 2, 3], r.GetBody().ToArray());
        MoveTo(r, LegacyItemKind.CompressedData);
        Assert.Equal([0x80, 9], r.GetBody().ToArray());
        Assert.False(r.InCompressedBody);
        MoveTo(r, LegacyItemKind.Chunk);
        Assert.Equal(LegacyChunkId.EnableCompression, r.ChunkId);
        Assert.True(r.CompressionEnabled);
        MoveTo(r, LegacyItemKind.Chunk);
        Assert.True(r.LastCheckpointSeen);
        Assert.Equal("XC_SAVE_ID_LAST_CHECKPOINT", r.ItemName);
    }

    [Fact]
    public void TMEM_is_read_pool_by_pool_and_page_by_page()
    {
        var tmemPage = new byte[8192];
        tmemPage[5] = 42;
        var bytes = Hvm(LegacyWidth.Bits64, w =>
        {
            w.WriteTmemClientHeader(1, 16, 2, 3, 4);
            w.WriteTmemPool(0, 1 | (1u << 4), 2, 0xAA, 0xBB);
            w.WriteTmemPage(1, 2, 3, 4, tmemPage);
            w.WriteTmemPoolPagesEnd();
            w.WriteTmemPool(1, 1, 0, 0, 0);
            w.WriteTmemListEnd();
            w.WriteTmemExtraStart();
            w.WriteTmemInvalidation(1, 5, 6, 7, 8);
            w.WriteTmemListEnd();
        });
        using var r = Reader(bytes);
        var parts = new List<string>();
        while (r.Read() && r.Kind != LegacyItemKind.EndOfBody)
        {
            if (r.Kind is LegacyItemKind.Tmem or LegacyItemKind.TmemExtra)
            {
                parts.Add($"{r.Kind}:{r.Tmem.Part}");
                if (r.Tmem.Part == LegacyTmemPart.Page)
                {
                    Assert.Equal(8192, r.Tmem.PageSize);
                    Assert.Equal((1ul, 2ul, 3ul, 4u), (r.Tmem.Oid0, r.Tmem.Oid1, r.Tmem.Oid2, r.Tmem.Index));
                    Assert.Equal(tmemPage, r.GetBody().ToArray());
                }
                if (r.Tmem.Part == LegacyTmemPart.ClientHeader)
                {
                    Assert.Equal((1u, 16u, 2u, 3u, 4u), (r.Tmem.Version, r.Tmem.MaxPools, r.Tmem.ClientFlags, r.Tmem.Weight, r.Tmem.Cap));
                }
                if (r.Tmem.Part == LegacyTmemPart.Invalidation)
                {
                    Assert.Equal((1u, 5ul, 8u), (r.Tmem.PoolId, r.Tmem.Oid0, r.Tmem.Index));
                }
            }
        }
        Assert.Equal(
        [
            "Tmem:ClientHeader", "Tmem:Pool", "Tmem:Page", "Tmem:PoolPagesEnd", "Tmem:Pool", "Tmem:End",
            "TmemExtra:Invalidation", "TmemExtra:End",
        ], parts);
    }

    [Fact]
    public void A_TMEM_client_header_without_its_minus_one_names_the_field()
    {
        var bytes = Hvm(LegacyWidth.Bits64, w =>
        {
            w.WriteChunkId((int)LegacyChunkId.Tmem);
            w.WriteU32(1);
            w.WriteU32(1);
            w.WriteU32(0);
            w.WriteRaw(new byte[16]);
        });
        using var r = Reader(bytes);
        var e = Assert.Throws<StreamFormatException>(() => Kinds(r));
        Assert.Equal(("minusone", "XC_SAVE_ID_TMEM", 8 + 4 + 8L), (e.Field, e.RecordType, e.Offset));
    }

    // ---- tails -------------------------------------------------------------------------------------------------

    [Fact]
    public void The_PV_tail_has_unmapped_pfns_then_per_vcpu_contexts_then_shared_info()
    {
        var bytes = LegacySyntheticImage.Generate(new LegacySyntheticOptions
        {
            Guest = LegacyGuestType.Pv, Width = LegacyWidth.Bits32, Pages = 4, Vcpus = 2, UnmappedPfns = 3, XsaveSize = 24,
        });
        using var r = Reader(bytes);
        MoveTo(r, LegacyItemKind.PvUnmappedPfns);
        Assert.Equal(3u, r.UnmappedCount);
        var unmapped = new ulong[3];
        Assert.Equal(3, r.ReadUlongs(unmapped));
        Assert.Equal([19ul, 18ul, 17ul], unmapped);
        var tail = new List<string>();
        while (r.Read())
        {
            tail.Add(r.Kind is LegacyItemKind.SharedInfo ? "shinfo" : $"{r.Kind}:{r.VcpuId}:{r.BodyLength}");
            if (r.Kind == LegacyItemKind.PvVcpuXsave)
            {
                Assert.Equal(7ul, r.XsaveMask);
            }
        }
        Assert.Equal(
        [
            "PvVcpuBasic:0:5168", "PvVcpuExtended:0:128", "PvVcpuXsave:0:24",
            "PvVcpuBasic:1:5168", "PvVcpuExtended:1:128", "PvVcpuXsave:1:24", "shinfo",
        ], tail);
        Assert.Equal(StreamEnding.Complete, r.Ending);
        Assert.Equal(1, r.CompleteImages);
    }

    [Theory]
    [InlineData(LegacyQemuSignature.DeviceModelRecord0002)]
    [InlineData(LegacyQemuSignature.RemusDeviceModelState)]
    [InlineData(LegacyQemuSignature.QemuDeviceModelRecord)]
    public void The_HVM_tail_has_magic_pfns_context_and_a_QEMU_record(LegacyQemuSignature signature)
    {
        var bytes = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Pages = 2, QemuSignature = signature, QemuSize = 777, HvmContextSize = 99 });
        using var r = Reader(bytes);
        MoveTo(r, LegacyItemKind.HvmMagicPfns);
        Assert.Equal(new LegacyHvmMagicPfns(0xFEFF0, 0xFEFF1, 0xFEFFF), r.MagicPfns);
        MoveTo(r, LegacyItemKind.HvmContext);
        Assert.Equal(99, r.BodyLength);
        MoveTo(r, LegacyItemKind.QemuRecord);
        Assert.Equal(signature, r.QemuSignature);
        Assert.Equal(777, r.GetBody().Length);
        Assert.False(r.Read());
        Assert.False(r.HasTrailingData);
    }

    [Fact]
    public void A_QEMU_record_to_EOF_through_a_pipe_has_unknown_length_and_reads_to_the_end()
    {
        var bytes = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Pages = 2, QemuSignature = LegacyQemuSignature.QemuDeviceModelRecord, QemuSize = 50_000 });
        using var r = new LegacyStreamReader(ByteSource.FromStream(new Support.TrickleStream(bytes), bufferSize: 4096), ownsSource: true);
        MoveTo(r, LegacyItemKind.QemuRecord);
        Assert.Equal(-1, r.BodyLength);
        Assert.Equal(50_000, r.GetBody().Length);
        Assert.False(r.Read());
    }

    [Fact]
    public void Without_a_QEMU_record_the_image_ends_after_the_HVM_context_unless_it_is_required()
    {
        var bytes = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Pages = 2, QemuRecord = false });
        using var auto = Reader(bytes);
        Assert.DoesNotContain("QemuRecord", Kinds(auto));
        Assert.Equal(StreamEnding.Complete, auto.Ending);
        using var required = Reader(bytes, qemu: LegacyQemuRecordHandling.Require);
        var e = Assert.Throws<StreamFormatException>(() => Kinds(required));
        Assert.True(e.IsTruncation);
        Assert.Equal(("signature", bytes.Length), (e.Field, (int)e.Offset));
    }

    // ---- Remus -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(LegacyGuestType.Pv, false)]
    [InlineData(LegacyGuestType.Pv, true)]
    [InlineData(LegacyGuestType.Hvm, false)]
    [InlineData(LegacyGuestType.Hvm, true)]
    public void Remus_bodies_repeat_until_the_input_stops(LegacyGuestType guest, bool compression)
    {
        var bytes = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Guest = guest, Pages = 30, Checkpoints = 3, Compression = compression });
        using var r = Reader(bytes);
        var compressedBatches = 0;
        var compressedChunks = 0;
        while (r.Read())
        {
            if (r.Kind == LegacyItemKind.PageBatch && r.InCompressedBody)
            {
                compressedBatches++;
                Assert.Equal(0, r.BodyLength);
                Assert.True(r.CheckpointIndex > 0);
            }
            if (r.Kind == LegacyItemKind.CompressedData)
            {
                compressedChunks++;
            }
        }
        Assert.Equal(4, r.CompleteImages);
        Assert.Equal(3, r.CheckpointIndex);
        Assert.Equal(StreamEnding.Complete, r.Ending);
        Assert.Equal(compression, compressedBatches > 0);
        Assert.Equal(compression ? 6 : 0, compressedChunks);
    }

    [Fact]
    public void A_checkpoint_cut_short_is_a_failover_that_keeps_the_complete_images()
    {
        var full = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Guest = LegacyGuestType.Pv, Pages = 30, Checkpoints = 2 });
        var cut = full.AsSpan(0, full.Length - 5000).ToArray();
        using var r = Reader(cut);
        while (r.Read())
        {
        }
        Assert.Equal(StreamEnding.Failover, r.Ending);
        Assert.Equal(2, r.CompleteImages);
        Assert.True(r.DiscardedBytes > 0);
    }

    [Fact]
    public void Stop_after_first_image_leaves_checkpoints_as_trailing_data()
    {
        var bytes = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Pages = 10, Checkpoints = 2 });
        using var r = LegacyStreamReader.FromMemory(bytes, new LegacyStreamReaderOptions { StopAfterFirstImage = true });
        while (r.Read())
        {
        }
        Assert.Equal(1, r.CompleteImages);
        Assert.True(r.HasTrailingData);
    }

    [Fact]
    public void ENABLE_COMPRESSION_after_the_first_tail_does_not_switch_bodies_as_in_xc_domain_restore()
    {
        var bytes = LegacyRefusals.Build(LegacyWidth.Bits64, w =>
        {
            w.WriteHeader(16);
            w.WriteEndOfBody();
            LegacyRefusals.HvmTail(w);
            w.WriteMarkerChunk(LegacyChunkId.EnableCompression);
            w.WriteEndOfBody();
            LegacyRefusals.HvmTail(w);
            w.WritePageBatch([1], Zeros);
            w.WriteEndOfBody();
            LegacyRefusals.HvmTail(w);
        });
        using var r = Reader(bytes);
        MoveTo(r, LegacyItemKind.PageBatch);
        Assert.Equal(2, r.CheckpointIndex);
        Assert.False(r.InCompressedBody);
        Assert.Equal(LegacyLayout.PageSize, r.BodyLength);
    }

    // ---- errors ------------------------------------------------------------------------------------------------

    [Fact]
    public void Errors_name_the_layer_chunk_field_and_offset()
    {
        var bytes = Hvm(LegacyWidth.Bits64, w =>
        {
            w.WriteTscInfo(default);
            w.WriteChunkId(-99);
        });
        using var r = Reader(bytes);
        var e = Assert.Throws<StreamFormatException>(() => Kinds(r));
        Assert.Equal((ErrorLayer.Legacy, "CHUNK(-99)", "id", 8 + 24L), (e.Layer, e.RecordType, e.Field, e.Offset));
        Assert.Equal(2, e.RecordIndex);
        Assert.Contains("unrecognised chunk id -99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_online_vcpu_list_is_bounded()
    {
        var bytes = Hvm(LegacyWidth.Bits64, w =>
        {
            var all = Enumerable.Repeat(ulong.MaxValue, 64).ToArray();
            for (var i = 0; i < 3; i++)
            {
                w.WriteVcpuInfo(4095, all);
            }
        });
        using var r = LegacyStreamReader.FromMemory(bytes, new LegacyStreamReaderOptions { MaxOnlineVcpuEntries = 10000 });
        var e = Assert.Throws<StreamFormatException>(() => Kinds(r));
        Assert.Equal("bitmap", e.Field);
    }

    [Fact]
    public void Bodies_are_the_same_from_memory_a_pipe_and_a_mapped_file()
    {
        var bytes = LegacySyntheticImage.Generate(new LegacySyntheticOptions
        {
            Guest = LegacyGuestType.Pv, Pages = 2500, Vcpus = 3, XsaveSize = 100, OddPages = true, Checkpoints = 2, Compression = true,
        });
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, bytes);
            var fromMemory = Dump(LegacyStreamReader.FromMemory(bytes));
            Assert.Equal(fromMemory, Dump(new LegacyStreamReader(ByteSource.FromStream(new Support.TrickleStream(bytes, 3000), bufferSize: 4096), ownsSource: true)));
            Assert.Equal(fromMemory, Dump(LegacyStreamReader.Open(path)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static List<string> Dump(LegacyStreamReader r)
    {
        using (r)
        {
            var items = new List<string>();
            var buffer = new byte[1000];
            while (r.Read())
            {
                var hash = new HashCode();
                int n;
                while ((n = r.ReadBody(buffer)) > 0)
                {
                    hash.AddBytes(buffer.AsSpan(0, n));
                }
                items.Add($"{r.Offset}:{r.ItemName}:{r.BodyLength}:{hash.ToHashCode()}:{string.Join(',', r.Kind == LegacyItemKind.PageBatch ? r.PfnWords.ToArray() : [])}");
            }
            items.Add(r.Ending.ToString());
            return items;
        }
    }
}
