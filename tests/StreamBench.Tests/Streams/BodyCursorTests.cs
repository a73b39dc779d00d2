using StreamBench.Formats;
using StreamBench.Formats.Legacy;
using StreamBench.Formats.Streams;
using StreamBench.Formats.Synthesis;
using StreamBench.Formats.Wire;
using StreamBench.Tests.Legacy;
using Xunit;

namespace StreamBench.Tests.Streams;

/// <summary>The body cursor both readers share: one behaviour for short reads, buffering and truncation.</summary>
public sealed class BodyCursorTests
{
    /// <summary>A pipe at its worst: every read and skip hands out one byte, and the window is small.</summary>
    private sealed class OneByteAtATime(byte[] data) : ByteSource
    {
        private readonly MemoryByteSource _inner = new(data);

        public override long Position => _inner.Position;
        public override long? Length => null;
        public override int MaxWindow => 64;
        public override int Available => Math.Min(_inner.Available, MaxWindow);
        public override bool Ensure(int count) => count <= MaxWindow ? _inner.Ensure(count) : throw new ArgumentOutOfRangeException(nameof(count));
        public override ReadOnlySpan<byte> Peek(int count) => _inner.Peek(count);
        public override void Advance(int count) => _inner.Advance(count);
        public override long Skip(long count) => _inner.Skip(Math.Min(count, 1));
        public override int Read(Span<byte> destination) => _inner.Read(destination[..Math.Min(destination.Length, 1)]);
    }

    private static byte[] LibxcHvm() => SyntheticStreams.Generate(new SyntheticStreamOptions { Layer = SyntheticLayer.Libxc, Guest = SyntheticGuest.Hvm, Pages = 3 });

    private static byte[] LegacyPages(out byte[] pages)
    {
        var data = new byte[2 * LegacyLayout.PageSize];
        new Random(5).NextBytes(data);
        pages = data;
        return LegacyRefusals.Build(LegacyWidth.Bits64, w =>
        {
            w.WriteHeader(0x100);
            w.WritePageBatch([0x10, 0x11], data);
            w.WriteEndOfBody();
            LegacyRefusals.HvmTail(w);
        });
    }

    private static List<byte[]> XenBodies(ByteSource source, bool whole)
    {
        using var reader = new XenStreamReader(source, ownsSource: true);
        var bodies = new List<byte[]>();
        var piece = new byte[1000];
        while (reader.Read())
        {
            if (whole)
            {
                bodies.Add(reader.GetBody().ToArray());
                continue;
            }
            using var ms = new MemoryStream();
            int n;
            while ((n = reader.ReadBody(piece)) > 0)
            {
                Assert.Equal(Math.Min(piece.Length, reader.BodyLength - ms.Length), n); // never a short read
                ms.Write(piece, 0, n);
            }
            bodies.Add(ms.ToArray());
        }
        Assert.Equal(StreamEnding.Complete, reader.Ending);
        return bodies;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_pipe_delivering_a_body_one_byte_at_a_time_is_read_whole_by_the_xen_reader(bool whole)
    {
        var bytes = LibxcHvm();
        var expected = XenBodies(ByteSource.FromMemory(bytes), whole);
        var trickled = XenBodies(new OneByteAtATime(bytes), whole);
        Assert.Equal(expected, trickled);
        Assert.Contains(trickled, b => b.Length > 64); // some bodies do not fit the window: buffered, not in place
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_pipe_delivering_a_body_one_byte_at_a_time_is_read_whole_by_the_legacy_reader(bool whole)
    {
        var bytes = LegacyPages(out var pages);
        using var r = new LegacyStreamReader(new OneByteAtATime(bytes), ownsSource: true);
        while (r.Read() && r.Kind != LegacyItemKind.PageBatch)
        {
        }
        Assert.Equal(LegacyItemKind.PageBatch, r.Kind);
        byte[] got;
        if (whole)
        {
            got = r.GetBody().ToArray();
        }
        else
        {
            var buffer = new byte[3000];
            using var ms = new MemoryStream();
            int n;
            while ((n = r.ReadBody(buffer)) > 0)
            {
                Assert.Equal(Math.Min(buffer.Length, pages.Length - ms.Length), n);
                ms.Write(buffer, 0, n);
            }
            got = ms.ToArray();
        }
        Assert.Equal(pages, got);
        while (r.Read())
        {
        }
        Assert.Equal(StreamEnding.Complete, r.Ending);
    }

    [Fact]
    public void Skipping_through_a_pipe_that_skips_one_byte_at_a_time_is_not_truncation()
    {
        var bytes = LibxcHvm();
        using var reader = new XenStreamReader(new OneByteAtATime(bytes), ownsSource: true);
        var records = 0;
        while (reader.Read())
        {
            records++; // Read() skips each body itself
        }
        Assert.Equal(StreamEnding.Complete, reader.Ending);
        Assert.True(records > 4);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncation_inside_a_body_names_offset_record_and_field_in_the_xen_reader(bool pipe)
    {
        var bytes = LibxcHvm();
        long at = -1, bodyAt = -1;
        using (var reader = XenStreamReader.FromMemory(bytes))
        {
            while (reader.Read() && reader.RecordTypeName != "PAGE_DATA")
            {
            }
            (at, bodyAt) = (reader.Offset, reader.BodyOffset);
        }
        var cut = bytes[..(int)(bodyAt + 100)];
        using var r = new XenStreamReader(pipe ? new OneByteAtATime(cut) : ByteSource.FromMemory(cut), ownsSource: true);
        var e = Assert.Throws<StreamFormatException>(() =>
        {
            while (r.Read())
            {
                _ = r.GetBody();
            }
        });
        Assert.True(e.IsTruncation);
        Assert.Equal(at, e.Offset);
        Assert.Equal(ErrorLayer.Libxc, e.Layer);
        Assert.Equal("PAGE_DATA", e.RecordType);
        Assert.Equal("body", e.Field);
        Assert.Contains($"starting at offset {bodyAt} ran out at offset {bodyAt + 100} (100 bytes present)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncation_inside_a_body_names_offset_record_and_field_in_the_legacy_reader(bool pipe)
    {
        var bytes = LegacyPages(out _);
        long at = -1, bodyAt = -1, index = -1;
        using (var reader = LegacyStreamReader.FromMemory(bytes))
        {
            while (reader.Read() && reader.Kind != LegacyItemKind.PageBatch)
            {
            }
            (at, bodyAt, index) = (reader.Offset, reader.BodyOffset, reader.ItemIndex);
        }
        var cut = bytes[..(int)(bodyAt + 100)];
        using var r = new LegacyStreamReader(pipe ? new OneByteAtATime(cut) : ByteSource.FromMemory(cut), ownsSource: true);
        var e = Assert.Throws<StreamFormatException>(() =>
        {
            while (r.Read())
            {
                _ = r.GetBody();
            }
        });
        Assert.True(e.IsTruncation);
        Assert.Equal(at, e.Offset);
        Assert.Equal(ErrorLayer.Legacy, e.Layer);
        Assert.Equal(index, e.RecordIndex);
        Assert.Equal("PAGE_BATCH", e.RecordType);
        Assert.Equal("body", e.Field);
        Assert.Contains($"starting at offset {bodyAt} ran out at offset {bodyAt + 100} (100 bytes present)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_legacy_body_of_unknown_length_runs_to_the_end_without_truncation()
    {
        var bytes = LegacyRefusals.Build(LegacyWidth.Bits64, w =>
        {
            w.WriteHeader(16);
            w.WriteEndOfBody();
            w.WriteHvmTail(new LegacyHvmMagicPfns(1, 2, 3), new byte[40]);
            w.WriteQemuRecord(LegacyQemuSignature.QemuDeviceModelRecord, new byte[1000]);
        });
        using var r = new LegacyStreamReader(new OneByteAtATime(bytes), ownsSource: true);
        while (r.Read() && r.Kind != LegacyItemKind.QemuRecord)
        {
        }
        Assert.Equal(-1, r.BodyLength);
        Assert.Equal(1000, r.GetBody().Length);
        Assert.False(r.Read());
    }
}
