using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Support;
using FsCheck.Xunit;
using Xunit;

namespace StreamBench.Tests.Streams;

[Properties(Arbitrary = [typeof(SyntheticArbitraries)])]
public sealed class ReaderWriterTests
{
    public static TheoryData<string> CaseNames => new(SyntheticCases.Named.Keys);

    private static byte[] Copy(ByteSource source, StreamDialect dialect)
    {
        using var output = new MemoryStream();
        using var reader = new XenStreamReader(source, new XenStreamReaderOptions { Dialect = dialect }, ownsSource: true);
        using var writer = new XenStreamWriter(output, leaveOpen: true);
        StreamCopier.Copy(reader, writer);
        return output.ToArray();
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Copying_through_reader_and_writer_is_byte_identical_from_memory(string name)
    {
        var options = SyntheticCases.Named[name];
        var bytes = SyntheticStreams.Generate(options);
        Assert.Equal(bytes, Copy(ByteSource.FromMemory(bytes), options.Dialect));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Copying_is_byte_identical_through_a_pipe_with_short_reads(string name)
    {
        var options = SyntheticCases.Named[name];
        var bytes = SyntheticStreams.Generate(options);
        Assert.Equal(bytes, Copy(ByteSource.FromStream(new TrickleStream(bytes), bufferSize: 4096), options.Dialect));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Copying_is_byte_identical_from_a_mapped_file(string name)
    {
        var options = SyntheticCases.Named[name];
        var bytes = SyntheticStreams.Generate(options);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, bytes);
            using var source = ByteSource.Open(path);
            Assert.IsType<MappedFileSource>(source);
            Assert.Equal(bytes, Copy(source, options.Dialect));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Property(MaxTest = 150)]
    public void Write_read_write_is_byte_identical_for_generated_streams_of_every_layer_and_dialect(SyntheticStreamOptions options)
    {
        var bytes = SyntheticStreams.Generate(options);
        var once = Copy(ByteSource.FromMemory(bytes), options.Dialect);
        Assert.Equal(bytes, once);
        Assert.Equal(once, Copy(ByteSource.FromStream(new TrickleStream(once, 777)), options.Dialect));
    }

    private static List<string> Items(byte[] bytes, StreamDialect dialect = StreamDialect.Upstream, OuterFormat format = OuterFormat.Auto)
    {
        var items = new List<string>();
        using var reader = XenStreamReader.FromMemory(bytes, new XenStreamReaderOptions { Dialect = dialect, Format = format });
        while (reader.Read())
        {
            items.Add(reader.Kind == StreamItemKind.Record
                ? $"{XenStreamReader.LayerName(reader.Layer)}:{reader.RecordTypeName}"
                : reader.RecordTypeName);
        }
        items.Add("ending:" + reader.Ending);
        return items;
    }

    [Fact]
    public void An_xl_save_file_nests_xl_then_libxl_then_libxc_and_returns_to_libxl_after_libxc_end()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Hvm, Pages = 3 });
        Assert.Equal(
        [
            "XL_HEADER", "LIBXL_HEADER", "libxl:LIBXC_CONTEXT", "IMAGE_HEADER", "DOMAIN_HEADER",
            "libxc:X86_CPUID_POLICY", "libxc:X86_MSR_POLICY", "libxc:STATIC_DATA_END", "libxc:PAGE_DATA",
            "libxc:X86_TSC_INFO", "libxc:HVM_CONTEXT", "libxc:HVM_PARAMS", "libxc:END",
            "libxl:EMULATOR_CONTEXT", "libxl:END", "ending:Complete",
        ], Items(bytes));
    }

    [Fact]
    public void A_checkpointed_libxl_stream_alternates_libxc_records_and_libxl_checkpoint_tails_without_new_headers()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions
        {
            Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Hvm, Pages = 2, Checkpoints = 2, DirtyPagesPerCheckpoint = 1, Version = 2,
        });
        Assert.Equal(
        [
            "LIBXL_HEADER", "libxl:LIBXC_CONTEXT", "IMAGE_HEADER", "DOMAIN_HEADER", "libxc:PAGE_DATA",
            "libxc:X86_TSC_INFO", "libxc:HVM_CONTEXT", "libxc:HVM_PARAMS", "libxc:CHECKPOINT",
            "libxl:EMULATOR_CONTEXT", "libxl:CHECKPOINT_END",
            "libxc:PAGE_DATA", "libxc:X86_TSC_INFO", "libxc:HVM_CONTEXT", "libxc:HVM_PARAMS", "libxc:CHECKPOINT",
            "libxl:EMULATOR_CONTEXT", "libxl:CHECKPOINT_END", "ending:Failover",
        ], Items(bytes));
    }

    [Fact]
    public void A_colo_stream_read_with_the_colo_option_takes_the_state_after_checkpoint_end_as_libxl()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions
        {
            Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Pvh, Pages = 1, Checkpoints = 2, DirtyPagesPerCheckpoint = 1, Version = 2, Colo = true,
        });
        using var reader = XenStreamReader.FromMemory(bytes, new XenStreamReaderOptions { Colo = true });
        var items = new List<string>();
        while (reader.Read())
        {
            items.Add(reader.Kind == StreamItemKind.Record ? $"{XenStreamReader.LayerName(reader.Layer)}:{reader.RecordTypeName}" : reader.RecordTypeName);
        }
        Assert.Equal(
        [
            "LIBXL_HEADER", "libxl:LIBXC_CONTEXT", "IMAGE_HEADER", "DOMAIN_HEADER", "libxc:PAGE_DATA",
            "libxc:X86_TSC_INFO", "libxc:HVM_CONTEXT", "libxc:HVM_PARAMS", "libxc:CHECKPOINT", "libxl:CHECKPOINT_END",
            "libxl:CHECKPOINT_STATE", "libxc:PAGE_DATA", "libxc:X86_TSC_INFO", "libxc:HVM_CONTEXT", "libxc:HVM_PARAMS",
            "libxc:CHECKPOINT", "libxl:CHECKPOINT_END", "libxl:CHECKPOINT_STATE",
        ], items);
        Assert.Equal(StreamEnding.Failover, reader.Ending);

        // Without the option the same bytes read as a libxc record of type 5: the option is never guessed.
        var plain = Items(bytes);
        Assert.Contains("libxc:X86_PV_VCPU_EXTENDED", plain);
    }

    [Fact]
    public void The_postcopy_dialect_hands_the_stream_to_libxl_at_transition_and_back_at_transition_end()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions
        {
            Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Hvm, Pages = 2, BatchSize = 1, Dialect = StreamDialect.PostcopyRfc,
        });
        Assert.Equal(
        [
            "LIBXL_HEADER", "libxl:LIBXC_CONTEXT", "IMAGE_HEADER", "DOMAIN_HEADER", "libxc:PAGE_DATA",
            "libxc:POSTCOPY_BEGIN", "libxc:X86_TSC_INFO", "libxc:HVM_CONTEXT", "libxc:HVM_PARAMS",
            "libxc:POSTCOPY_PFNS_BEGIN", "libxc:POSTCOPY_PFNS", "libxc:POSTCOPY_TRANSITION",
            "libxl:EMULATOR_CONTEXT", "libxl:POSTCOPY_TRANSITION_END", "libxc:POSTCOPY_PAGE_DATA", "libxc:END",
            "libxl:END", "ending:Complete",
        ], Items(bytes, StreamDialect.PostcopyRfc));
    }

    [Fact]
    public void The_same_postcopy_bytes_read_as_upstream_name_0x10_to_0x12_as_v3_records()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions
        {
            Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 2, BatchSize = 1, Dialect = StreamDialect.PostcopyRfc,
        });
        var upstream = Items(bytes);
        Assert.Contains("libxc:STATIC_DATA_END", upstream);
        Assert.Contains("libxc:UNKNOWN_0x00000013", upstream);
        Assert.DoesNotContain("libxc:POSTCOPY_BEGIN", upstream);
    }

    [Fact]
    public void The_migrate_sender_side_ends_with_the_permission_message()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.XlMigrateSender, Guest = SyntheticGuest.Pvh, Pages = 1 });
        var items = Items(bytes);
        Assert.Equal(["libxl:END", "MIGRATE_PERMISSION_TO_GO", "ending:Complete"], items.TakeLast(3));
    }

    [Fact]
    public void The_migrate_receiver_side_is_detected_and_its_report_result_is_read()
    {
        var bytes = SyntheticStreams.MigrateReceiverSide(result: 3);
        using var reader = XenStreamReader.FromMemory(bytes);
        var messages = new List<MigrateMessage>();
        byte result = 0xFF;
        while (reader.Read())
        {
            Assert.Equal(StreamItemKind.ProtocolMessage, reader.Kind);
            messages.Add(reader.Message);
            if (reader.Message == MigrateMessage.Report)
            {
                result = reader.ReportResult;
            }
        }
        Assert.Equal(OuterFormat.MigrateReceiver, reader.DetectedFormat);
        Assert.Equal([MigrateMessage.ReceiverBanner, MigrateMessage.ReceiverReady, MigrateMessage.Report], messages);
        Assert.Equal(3, result);
    }

    [Fact]
    public void Colo_back_channel_records_are_read_bare_and_attributed_to_their_layer()
    {
        var bytes = SyntheticStreams.ColoBackChannel(2);
        var items = Items(bytes, format: OuterFormat.BackChannel);
        Assert.Equal(
        [
            "back-channel:CHECKPOINT_STATE", "back-channel:CHECKPOINT_STATE", "back-channel:CHECKPOINT_STATE",
            "back-channel:CHECKPOINT_DIRTY_PFN_LIST", "back-channel:CHECKPOINT_STATE", "back-channel:CHECKPOINT_STATE",
            "back-channel:CHECKPOINT_STATE", "back-channel:CHECKPOINT_DIRTY_PFN_LIST", "ending:EndOfInput",
        ], items);
    }

    [Fact]
    public void The_postcopy_back_channel_names_faults_and_completion_in_the_rfc_dialect()
    {
        var items = Items(SyntheticStreams.PostcopyBackChannel(2), StreamDialect.PostcopyRfc, OuterFormat.BackChannel);
        Assert.Equal(["back-channel:POSTCOPY_FAULT", "back-channel:POSTCOPY_FAULT", "back-channel:POSTCOPY_COMPLETE", "ending:EndOfInput"], items);
    }

    [Theory]
    [InlineData("xl-pv", OuterFormat.Xl)]
    [InlineData("libxl-hvm", OuterFormat.Libxl)]
    [InlineData("libxc-hvm-v3", OuterFormat.Libxc)]
    public void The_outer_layer_is_detected_from_its_magic(string name, OuterFormat expected)
    {
        var bytes = SyntheticStreams.Generate(SyntheticCases.Named[name]);
        Assert.Equal(expected, XenStreamReader.DetectFormat(ByteSource.FromMemory(bytes)));
    }

    [Fact]
    public void Anything_else_is_detected_as_legacy()
    {
        var legacy = new byte[64];
        legacy[0] = 0x00;
        legacy[1] = 0x80;
        Assert.Equal(OuterFormat.Legacy, XenStreamReader.DetectFormat(ByteSource.FromMemory(legacy)));
        var items = Items(legacy);
        Assert.Equal(["LEGACY_IMAGE", "ending:EndOfInput"], items);
    }

    [Fact]
    public void A_stream_cut_at_any_byte_ends_cleanly_or_with_a_truncation_error_naming_an_in_range_offset()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Xl, Guest = SyntheticGuest.Pv, Pages = 3, BatchSize = 2 });
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            var prefix = bytes.AsMemory(0, cut);
            using var reader = XenStreamReader.FromMemory(prefix);
            try
            {
                while (reader.Read())
                {
                    reader.FinishItem();
                }
                Assert.NotEqual(StreamEnding.Complete, reader.Ending);
            }
            catch (StreamFormatException e)
            {
                Assert.True(e.IsTruncation, e.Message);
                Assert.InRange(e.Offset, 0, cut);
            }
        }
    }

    [Fact]
    public void A_truncated_record_error_names_offset_record_and_field()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 2 });
        // Cut in the middle of the first PAGE_DATA's pages.
        var pageDataAt = LibxcWire.ImageHeaderSize + LibxcWire.DomainHeaderSize;
        using (var reader = XenStreamReader.FromMemory(bytes))
        {
            while (reader.Read() && reader.RecordTypeName != "PAGE_DATA")
            {
            }
            pageDataAt = (int)reader.Offset;
        }
        var cut = bytes.AsMemory(0, pageDataAt + 100);
        using var r = XenStreamReader.FromMemory(cut);
        var e = Assert.Throws<StreamFormatException>(() =>
        {
            while (r.Read())
            {
            }
        });
        Assert.Equal(pageDataAt, e.Offset);
        Assert.Equal("PAGE_DATA", e.RecordType);
        Assert.Equal("body", e.Field);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_a_large_stream_through_a_pipe_allocates_a_bounded_amount()
    {
        var bytes = SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxl, Guest = SyntheticGuest.Hvm, Pages = 16384 });
        using var reader = new XenStreamReader(ByteSource.FromStream(new TrickleStream(bytes, 65536)), ownsSource: true);
        reader.Read();
        var before = GC.GetAllocatedBytesForCurrentThread();
        long records = 0;
        while (reader.Read())
        {
            records++;
            if (reader.RecordTypeName == "PAGE_DATA")
            {
                _ = reader.BodyPrefix(8 + (8 * 1024));
            }
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(records > 16);
        Assert.True(allocated < 256 * 1024, $"allocated {allocated} bytes for a {bytes.Length}-byte stream");
    }

    [Fact]
    public void GetBody_never_allocates_by_a_lying_length()
    {
        // A libxc record header that claims 3 GiB, followed by 16 bytes.
        using var ms = new MemoryStream();
        using (var w = new XenStreamWriter(ms, leaveOpen: true))
        {
            w.WriteImageHeader();
            w.WriteDomainHeader(DomainType.X86Hvm, 4, 17);
        }
        ms.Write([0x09, 0, 0, 0, 0, 0, 0, 0xC0]);
        ms.Write(new byte[16]);
        var bytes = ms.ToArray();
        using var reader = new XenStreamReader(ByteSource.FromStream(new TrickleStream(bytes)), ownsSource: true);
        reader.Read();
        reader.Read();
        reader.Read();
        Assert.Equal(0xC000_0000u, (uint)reader.BodyLength);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<StreamFormatException>(() => reader.GetBody());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Equal("body_length", e.Field);
    }
}
