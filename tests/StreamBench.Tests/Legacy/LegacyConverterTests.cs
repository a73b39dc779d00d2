using FsCheck;
using FsCheck.Fluent;
using System.Buffers.Binary;
using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Support;
using FsCheck.Xunit;
using Xunit;

namespace StreamBench.Tests.Legacy;

[Properties(Arbitrary = [typeof(Arbitraries)])]
public sealed class LegacyConverterTests
{
    /// <summary>The seed of one random sparse-write case.</summary>
    public sealed record SparseCase(int Seed);

    /// <summary>What this class's properties draw from.</summary>
    public static class Arbitraries
    {
        /// <summary>Any positive seed.</summary>
        public static Arbitrary<SparseCase> SparseCases() => Arb.From(Gen.Choose(1, int.MaxValue).Select(s => new SparseCase(s)));
    }

    public static TheoryData<string> MatrixNames => new(LegacyCases.Matrix.Keys.Where((_, i) => i % 4 == 0));

    public static TheoryData<string> RefusalNames => new(LegacyRefusals.Cases.Keys);

    private static byte[] Convert(ByteSource source, LegacyConverterOptions options, out LegacyConversionResult result)
    {
        using (source)
        {
            using var ms = new MemoryStream();
            result = LegacyConverter.Convert(source, ms, options);
            return ms.ToArray();
        }
    }

    private static List<string> Records(byte[] v3, out XenStreamReader reader)
    {
        reader = XenStreamReader.FromMemory(v3);
        var records = new List<string>();
        while (reader.Read())
        {
            if (reader.Kind == StreamItemKind.Record)
            {
                records.Add(reader.RecordTypeName);
            }
        }
        return records;
    }

    [Theory]
    [MemberData(nameof(MatrixNames))]
    public void Detected_width_and_guest_type_convert_as_the_forced_ones(string name)
    {
        var c = LegacyCases.Matrix[name];
        var legacy = LegacySyntheticImage.Generate(c.Image);
        var forced = LegacyConverter.Convert(legacy, c.Converter);
        var detected = LegacyConverter.Convert(legacy, c.Converter with { Width = LegacyWidth.Auto, GuestType = LegacyGuestType.Auto });
        Assert.Equal(forced, detected);
    }

    [Theory]
    [MemberData(nameof(MatrixNames))]
    public void Conversion_is_the_same_from_memory_a_pipe_and_a_mapped_file(string name)
    {
        var c = LegacyCases.Matrix[name];
        var legacy = LegacySyntheticImage.Generate(c.Image);
        var fromMemory = LegacyConverter.Convert(legacy, c.Converter);
        Assert.Equal(fromMemory, Convert(ByteSource.FromStream(new TrickleStream(legacy, 5000), bufferSize: 4096), c.Converter, out _));
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, legacy);
            Assert.Equal(fromMemory, Convert(ByteSource.Open(path), c.Converter, out _));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_v3_stream_has_the_converters_record_order()
    {
        var image = new LegacySyntheticOptions { Guest = LegacyGuestType.Pv, Pages = 10, Vcpus = 2, XsaveSize = 16, Toolstack = true, BatchSize = 1024 };
        var v3 = LegacyConverter.Convert(LegacySyntheticImage.Generate(image), new LegacyConverterOptions { Format = LegacyOutputFormat.Libxl });
        var records = Records(v3, out var reader);
        using (reader)
        {
            Assert.Equal(
            [
                "LIBXC_CONTEXT", "X86_PV_INFO", "STATIC_DATA_END", "X86_PV_P2M_FRAMES", "PAGE_DATA", "X86_TSC_INFO", "PAGE_DATA",
                "X86_PV_VCPU_BASIC", "X86_PV_VCPU_EXTENDED", "X86_PV_VCPU_XSAVE", "X86_PV_VCPU_BASIC", "X86_PV_VCPU_EXTENDED", "X86_PV_VCPU_XSAVE",
                "SHARED_INFO", "END", "EMULATOR_XENSTORE_DATA", "END",
            ], records);
            Assert.Equal(StreamEnding.Complete, reader.Ending);
        }
    }

    [Fact]
    public void HVM_params_from_chunks_then_from_the_tail_then_the_context()
    {
        var image = new LegacySyntheticOptions { Pages = 4, TscInfo = false, BatchSize = 1024 };
        var v3 = LegacyConverter.Convert(LegacySyntheticImage.Generate(image), new LegacyConverterOptions());
        var records = Records(v3, out var reader);
        reader.Dispose();
        Assert.Equal(["STATIC_DATA_END", "PAGE_DATA", "PAGE_DATA", "HVM_PARAMS", "HVM_PARAMS", "HVM_CONTEXT", "END"], records);
        // The QEMU record follows END raw in libxc mode.
        Assert.Equal("DeviceModelRecord0002"u8.ToArray(), v3.AsSpan(v3.Length - image.QemuSize - 25, 21).ToArray());
    }

    [Fact]
    public void The_physmap_blob_becomes_xenstore_keys_without_the_64_bit_padding()
    {
        var image = new LegacySyntheticOptions { Pages = 1, Toolstack = true, PhysmapEntries = 2 };
        var v3 = LegacyConverter.Convert(LegacySyntheticImage.Generate(image), new LegacyConverterOptions { Format = LegacyOutputFormat.Libxl });
        using var reader = XenStreamReader.FromMemory(v3);
        while (reader.Read() && !(reader.Kind == StreamItemKind.Record && reader.Layer == StreamLayer.Libxl && reader.RecordType == (uint)LibxlRecordType.EmulatorXenstoreData))
        {
        }
        var body = reader.GetBody();
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(body));
        var text = System.Text.Encoding.ASCII.GetString(body[8..]);
        Assert.Equal(
            "physmap/f0000000/start_addr\0fc000000\0physmap/f0000000/size\0800000\0physmap/f0000000/name\0vga.vram\0"
            + "physmap/f1000000/start_addr\0fc100000\0physmap/f1000000/size\0400000\0physmap/f1000000/name\0rom1.bin\0", text);
    }

    private static readonly ulong[][] ExpectedBatches = [[0xA000_0000_0000_0005ul, 0xE000_0000_0000_0006ul], []];

    [Fact]
    public void XTAB_pfn_0_padding_is_dropped_and_types_move_to_bits_60_to_63()
    {
        var legacy = LegacyRefusals.Build(LegacyWidth.Bits32, w =>
        {
            w.WriteHeader(16);
            w.WritePageBatch([LegacyLayout.XtabPfnZero, LegacyPfn.Make(5, 0xA), LegacyLayout.XtabPfnZero, LegacyPfn.Make(6, 0xE)], new byte[LegacyLayout.PageSize]);
            w.WritePageBatch([LegacyLayout.XtabPfnZero], []);
            w.WriteEndOfBody();
            LegacyRefusals.HvmTail(w);
        });
        var v3 = LegacyConverter.Convert(legacy, new LegacyConverterOptions());
        using var reader = XenStreamReader.FromMemory(v3);
        var batches = new List<ulong[]>();
        while (reader.Read())
        {
            if (reader.Kind == StreamItemKind.Record && reader.RecordType == (uint)LibxcRecordType.PageData)
            {
                var body = reader.GetBody();
                var words = new ulong[BinaryPrimitives.ReadInt32LittleEndian(body)];
                for (var i = 0; i < words.Length; i++)
                {
                    words[i] = BinaryPrimitives.ReadUInt64LittleEndian(body[(8 + (8 * i))..]);
                }
                batches.Add(words);
            }
        }
        // An all-padding batch still becomes an (empty) PAGE_DATA record, as in Xen's converter.
        Assert.Equal(ExpectedBatches, batches);
    }

    public static TheoryData<string> EdgeNames => new(LegacyEdgeCases.Cases.Keys);

    [Theory]
    [MemberData(nameof(EdgeNames))]
    public void Odd_images_convert_to_streams_that_read_end_to_end(string name)
    {
        var c = LegacyEdgeCases.Cases[name];
        var v3 = Convert(ByteSource.FromMemory(c.Input), c.Options, out var result);
        Records(v3, out var reader);
        using (reader)
        {
            Assert.Equal(StreamEnding.Complete, reader.Ending);
            Assert.Equal(1, result.Images);
        }
    }

    [Theory]
    [MemberData(nameof(RefusalNames))]
    public void Unconvertible_input_fails_with_a_precise_error(string name)
    {
        var r = LegacyRefusals.Cases[name];
        var e = Assert.Throws<StreamFormatException>(() => LegacyConverter.Convert(r.Input, r.Options));
        Assert.Equal(r.Field, e.Field);
        Assert.InRange(e.Offset, 0, r.Input.Length);
        Assert.Contains(r.MessagePart, e.Message, StringComparison.Ordinal);
        Assert.NotNull(e.RecordType);
    }

    [Theory]
    [InlineData(LegacyGuestType.Pv, LegacyOutputFormat.Libxc)]
    [InlineData(LegacyGuestType.Pv, LegacyOutputFormat.Libxl)]
    [InlineData(LegacyGuestType.Hvm, LegacyOutputFormat.Libxc)]
    [InlineData(LegacyGuestType.Hvm, LegacyOutputFormat.Libxl)]
    public void Compressed_Remus_checkpoints_decode_to_the_same_stream_as_uncompressed_ones(LegacyGuestType guest, LegacyOutputFormat format)
    {
        var image = new LegacySyntheticOptions { Guest = guest, Pages = 300, BatchSize = 1024, OddPages = true, Checkpoints = 4, DirtyPagesPerCheckpoint = 90, Toolstack = true };
        var options = new LegacyConverterOptions { Format = format, Checkpoints = true };
        var plain = Convert(ByteSource.FromMemory(LegacySyntheticImage.Generate(image)), options, out var plainResult);
        var compressed = Convert(ByteSource.FromMemory(LegacySyntheticImage.Generate(image with { Compression = true })), options, out var result);
        Assert.Equal(plain, compressed);
        Assert.Equal(5, result.Images);
        Assert.True(result.DecompressedPages > 0);
        Assert.Equal(0, plainResult.DecompressedPages);
        var records = Records(compressed, out var reader);
        using (reader)
        {
            Assert.Equal(5, reader.CheckpointCount);
            Assert.Equal(StreamEnding.Failover, reader.Ending);
            Assert.DoesNotContain("END", records.Where(r => r != "CHECKPOINT_END"));
            if (format == LegacyOutputFormat.Libxl)
            {
                Assert.Equal(5, records.Count(r => r == "CHECKPOINT_END"));
                Assert.Equal(guest == LegacyGuestType.Hvm ? 5 : 0, records.Count(r => r == "EMULATOR_CONTEXT"));
            }
        }
    }

    [Fact]
    public void Without_checkpoints_only_the_first_image_is_converted_and_the_rest_ignored()
    {
        var image = new LegacySyntheticOptions { Pages = 50, Checkpoints = 2, Compression = true };
        var full = Convert(ByteSource.FromMemory(LegacySyntheticImage.Generate(image)), new LegacyConverterOptions(), out var result);
        Assert.Equal(1, result.Images);
        Assert.True(result.TrailingDataIgnored);
        var first = LegacyConverter.Convert(LegacySyntheticImage.Generate(image with { Checkpoints = 0, Compression = false, LastCheckpoint = false }), new LegacyConverterOptions());
        Assert.Equal(first, full);
    }

    [Fact]
    public void A_Remus_stream_cut_inside_a_checkpoint_converts_as_a_failover()
    {
        var legacy = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Guest = LegacyGuestType.Pv, Pages = 40, Checkpoints = 3, Compression = true });
        foreach (var cut in new[] { 1, 100, 3000, 4200, 7000 })
        {
            var bytes = legacy.AsSpan(0, legacy.Length - cut).ToArray();
            Convert(ByteSource.FromMemory(bytes), new LegacyConverterOptions { Checkpoints = true, Format = LegacyOutputFormat.Libxl }, out var result);
            Assert.True(result.Failover, $"cut {cut}");
            Assert.InRange(result.Images, 2, 3);
        }
    }

    [Theory]
    [InlineData(LegacyGuestType.Pv, LegacyOutputFormat.Libxl, false)]
    [InlineData(LegacyGuestType.Pv, LegacyOutputFormat.Libxc, true)]
    [InlineData(LegacyGuestType.Hvm, LegacyOutputFormat.Libxl, false)]
    [InlineData(LegacyGuestType.Hvm, LegacyOutputFormat.Libxc, false)]
    [InlineData(LegacyGuestType.Hvm, LegacyOutputFormat.Libxl, true)]
    public void A_failover_anywhere_in_a_later_checkpoint_ends_the_output_at_a_record_boundary(LegacyGuestType guest, LegacyOutputFormat format, bool lastCheckpoint)
    {
        var legacy = LegacySyntheticImage.Generate(new LegacySyntheticOptions
        {
            Guest = guest, Pages = 40, Checkpoints = 2, DirtyPagesPerCheckpoint = 30, LastCheckpoint = lastCheckpoint, QemuSize = 3000,
        });
        var options = new LegacyConverterOptions { Checkpoints = true, Format = format };
        var full = Convert(ByteSource.FromMemory(legacy), options, out _);
        var dropped = new HashSet<string>();
        var cuts = Enumerable.Range(1, 400).Concat(Enumerable.Range(4, 4000).Select(i => i * 53)).Where(c => c < legacy.Length).Distinct();
        var failovers = 0;
        foreach (var cut in cuts)
        {
            byte[] output;
            LegacyConversionResult result;
            try
            {
                output = Convert(ByteSource.FromMemory(legacy.AsMemory(0, legacy.Length - cut)), options, out result);
            }
            catch (StreamFormatException e) when (e.IsTruncation)
            {
                continue; // a cut inside the first image is an error, not a failover
            }
            if (!result.Failover)
            {
                continue; // a cut on a checkpoint boundary
            }
            failovers++;
            // The output is a prefix of the uncut conversion that ends on a record boundary: it frames to a failover.
            Assert.True(full.AsSpan().StartsWith(output), $"cut {cut}: not a prefix of the full conversion");
            var records = Records(output, out var reader);
            using (reader)
            {
                Assert.Equal(StreamEnding.Failover, reader.Ending);
            }
            Assert.NotEmpty(records);
            if (result.PartialItemDropped is { } item)
            {
                dropped.Add(item);
            }
        }
        Assert.True(failovers > 100, $"{failovers} failover cuts");
        Assert.Contains("PAGE_BATCH", dropped);
        if (guest == LegacyGuestType.Hvm)
        {
            Assert.Contains("HVM_TAIL_CONTEXT", dropped);
            if (format == LegacyOutputFormat.Libxl || lastCheckpoint)
            {
                Assert.Contains("QEMU_RECORD", dropped);
            }
        }
        else
        {
            Assert.Contains("PV_TAIL_SHARED_INFO", dropped);
        }
    }

    [Fact]
    public void The_failover_log_line_names_the_item_that_was_not_written()
    {
        var legacy = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Guest = LegacyGuestType.Pv, Pages = 40, Checkpoints = 2, DirtyPagesPerCheckpoint = 30 });
        var log = new StringWriter();
        using var source = ByteSource.FromMemory(legacy.AsMemory(0, legacy.Length - 5000));
        var result = LegacyConverter.Convert(source, Stream.Null, new LegacyConverterOptions { Checkpoints = true }, log);
        Assert.True(result.Failover);
        Assert.Equal("PV_TAIL_VCPU_BASIC", result.PartialItemDropped); // 5000 bytes before the end: inside vCPU 0's 5168-byte context
        Assert.Contains("its complete records end the output without CHECKPOINT (the PV_TAIL_VCPU_BASIC the input stops in was not written)", log.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(LegacyOutputFormat.Libxc)]
    [InlineData(LegacyOutputFormat.Libxl)]
    public void Zero_page_runs_become_holes_in_a_file_and_the_bytes_read_back_the_same(LegacyOutputFormat format)
    {
        // A legacy save of a simulated HVM guest: half its pages are zero, many in runs.
        using var domain = LegacySaveTests.Build(new LegacySaveTests.Scenario(StreamBench.Domain.GuestType.Hvm, 8, 1, 77, LegacyWidth.Bits64, 0));
        var image = LegacySaveTests.SaveLegacy(domain, LegacyWidth.Bits64, out _);
        var options = new LegacyConverterOptions { Format = format, SparseOutput = true };
        var expected = LegacyConverter.Convert(image, options);
        var dir = Directory.CreateTempSubdirectory("legacy-sparse-");
        try
        {
            var path = Path.Combine(dir.FullName, "out");
            LegacyConversionResult result;
            using (var source = ByteSource.FromMemory(image))
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write))
            {
                result = LegacyConverter.Convert(source, file, options);
            }
            Assert.True(result.HoleBytes >= 2 * 4096, $"{result.HoleBytes} bytes of holes");
            Assert.Equal(expected.Length, result.BytesWritten);
            Assert.Equal(expected, File.ReadAllBytes(path));

            // Without SparseOutput every byte is written.
            using (var source = ByteSource.FromMemory(image))
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write))
            {
                result = LegacyConverter.Convert(source, file, options with { SparseOutput = false });
            }
            Assert.Equal(0, result.HoleBytes);
            Assert.Equal(expected, File.ReadAllBytes(path));

            // A file that already holds bytes where the output goes is written densely: no stale byte survives.
            File.WriteAllBytes(path, Enumerable.Repeat((byte)0xAA, expected.Length + 100).ToArray());
            using (var source = ByteSource.FromMemory(image))
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                result = LegacyConverter.Convert(source, file, options);
            }
            Assert.Equal(0, result.HoleBytes);
            Assert.Equal(expected, File.ReadAllBytes(path).AsSpan(0, expected.Length).ToArray());

            // A pipe-like stream (not seekable) gets every byte.
            using var ms = new MemoryStream();
            using (var source = ByteSource.FromMemory(image))
            {
                result = LegacyConverter.Convert(source, ms, options);
            }
            Assert.Equal(0, result.HoleBytes);
            Assert.Equal(expected, ms.ToArray());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Property(MaxTest = 200)]
    public void Sparse_page_bodies_read_back_byte_for_byte_whatever_the_pattern_and_alignment(SparseCase c)
    {
        var dir = Directory.CreateTempSubdirectory("legacy-sparse-");
        try
        {
            var path = Path.Combine(dir.FullName, "out");
            var rng = new Random(c.Seed);
            var prefix = new byte[rng.Next(0, 9000)];
            rng.NextBytes(prefix);
            var pages = new byte[rng.Next(1, 40) * 4096];
            for (var p = 0; p < pages.Length / 4096; p++)
            {
                switch (rng.Next(4))
                {
                    case 0:
                        rng.NextBytes(pages.AsSpan(p * 4096, 4096)); // data
                        break;
                    case 1:
                        pages[(p * 4096) + rng.Next(64, 4096)] = (byte)rng.Next(1, 256); // zero head, data further on
                        break;
                    default:
                        break; // all zero
                }
            }
            long holes;
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write))
            using (var w = XenStreamWriter.ForFile(file, leaveOpen: true))
            {
                w.WriteRaw(prefix);
                w.BeginRecord(1, (uint)pages.Length);
                w.WritePageBody(pages);
                w.EndRecord();
                holes = w.HoleBytes;
            }
            var back = File.ReadAllBytes(path);
            Assert.Equal(prefix.Length + 8 + pages.Length, back.Length);
            Assert.Equal(prefix, back[..prefix.Length]);
            Assert.Equal(pages, back[(prefix.Length + 8)..]);
            Assert.InRange(holes, 0, pages.Length);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_hole_at_the_end_of_the_written_bytes_is_covered_by_the_file_length()
    {
        var dir = Directory.CreateTempSubdirectory("legacy-sparse-");
        try
        {
            var path = Path.Combine(dir.FullName, "out");
            var pages = new byte[6 * 4096];
            pages[5] = 1; // page 0 has data, pages 1..5 are zero
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write))
            using (var w = XenStreamWriter.ForFile(file, leaveOpen: true))
            {
                Assert.True(w.SparseZeroPages);
                w.BeginRecord(1, (uint)pages.Length);
                w.WritePageBody(pages);
                Assert.True(w.HoleBytes >= 4 * 4096);
                w.Flush(); // the record is still open: the file must already read back whole
                Assert.Equal(8 + pages.Length, new FileInfo(path).Length);
                w.EndRecord();
            }
            var back = File.ReadAllBytes(path);
            Assert.Equal(8 + pages.Length, back.Length);
            Assert.Equal(pages, back[8..]);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_checkpointed_libxc_conversion_drops_the_QEMU_records_it_cannot_carry()
    {
        var image = new LegacySyntheticOptions { Pages = 20, Checkpoints = 2 };
        Convert(ByteSource.FromMemory(LegacySyntheticImage.Generate(image)), new LegacyConverterOptions { Checkpoints = true }, out var result);
        Assert.Equal(3, result.QemuRecordsDropped);
    }

    [Fact]
    public void The_xl_header_is_copied_with_STREAMv2_set_for_libxl()
    {
        var legacy = LegacySyntheticImage.Generate(new LegacySyntheticOptions { Pages = 2 });
        var header = new byte[48 + 6];
        XlWire.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(32), XlWire.ByteOrderMarker);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(36), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(44), 6);
        "abcdef"u8.CopyTo(header.AsSpan(48));
        var input = header.Concat(legacy).ToArray();
        var libxc = LegacyConverter.Convert(input, new LegacyConverterOptions { XlHeader = true });
        Assert.Equal(header, libxc[..54]);
        Assert.Equal(LegacyConverter.Convert(legacy, new LegacyConverterOptions()), libxc[54..]);
        var libxl = LegacyConverter.Convert(input, new LegacyConverterOptions { XlHeader = true, Format = LegacyOutputFormat.Libxl });
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(libxl.AsSpan(36)));
        using var reader = XenStreamReader.FromMemory(libxl);
        while (reader.Read())
        {
        }
        Assert.Equal(OuterFormat.Xl, reader.DetectedFormat);
        Assert.Equal(StreamEnding.Complete, reader.Ending);
        var e = Assert.Throws<StreamFormatException>(() => LegacyConverter.Convert(legacy, new LegacyConverterOptions { XlHeader = true }));
        Assert.Equal((ErrorLayer.Xl, "magic"), (e.Layer, e.Field));
    }

    [Fact]
    public void A_QEMU_record_to_EOF_through_a_pipe_is_buffered_for_libxl()
    {
        var image = new LegacySyntheticOptions { Pages = 3, QemuSignature = LegacyQemuSignature.QemuDeviceModelRecord, QemuSize = 70_000 };
        var legacy = LegacySyntheticImage.Generate(image);
        var options = new LegacyConverterOptions { Format = LegacyOutputFormat.Libxl };
        var fromMemory = LegacyConverter.Convert(legacy, options);
        Assert.Equal(fromMemory, Convert(ByteSource.FromStream(new TrickleStream(legacy), bufferSize: 4096), options, out _));
        var records = Records(fromMemory, out var reader);
        reader.Dispose();
        Assert.Equal("EMULATOR_CONTEXT", records[^2]);
    }

    [Fact]
    public void Memory_use_does_not_grow_with_the_stream()
    {
        // 40 MiB of pages through a pipe: the converter's allocations stay far below the stream size.
        var image = new LegacySyntheticOptions { Pages = 10_000, BatchSize = 1024 };
        var legacy = LegacySyntheticImage.Generate(image);
        using var source = ByteSource.FromStream(new MemoryStream(legacy, writable: false), bufferSize: 1 << 20);
        var before = GC.GetAllocatedBytesForCurrentThread();
        LegacyConverter.Convert(source, Stream.Null, new LegacyConverterOptions());
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes converting {legacy.Length}");
    }
}
