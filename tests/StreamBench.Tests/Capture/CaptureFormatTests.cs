using StreamBench.Capture.Format;
using StreamBench.Formats.Streams;
using Xunit;

namespace StreamBench.Tests.Capture;

public sealed class CaptureFormatTests
{
    /// <summary>A small capture: metadata, data of both directions, an index chunk, events and the footer.</summary>
    private static (byte[] Capture, byte[] S2r, byte[] R2s) Sample(bool complete = true)
    {
        var s2r = new byte[100_000];
        var r2s = new byte[300];
        new Random(2).NextBytes(s2r);
        new Random(3).NextBytes(r2s);
        var ms = new MemoryStream();
        using (var w = CaptureWriter.ToStream(ms, leaveOpen: true))
        {
            w.WriteMetadata(new CaptureMetadata { [CaptureMetadata.Source] = "test", [CaptureMetadata.XenVersion] = "4.17" });
            w.WriteData(CaptureDirection.ReceiverToSender, r2s.AsMemory(0, 100), 10);
            w.WriteData(CaptureDirection.SenderToReceiver, s2r.AsMemory(0, 60_000), 20);
            w.WriteIndex(CaptureDirection.SenderToReceiver, [new CaptureIndexEntry(0, 48, 0, StreamItemKind.XlHeader, StreamLayer.Xl)]);
            w.WriteData(CaptureDirection.SenderToReceiver, s2r.AsMemory(60_000), 30);
            w.WriteData(CaptureDirection.ReceiverToSender, r2s.AsMemory(100), 40);
            w.WriteEvent(CaptureEventCode.DirectionEnd, CaptureDirection.SenderToReceiver, s2r.Length);
            if (complete)
            {
                w.Complete();
            }
        }
        return (ms.ToArray(), s2r, r2s);
    }

    private static CaptureFile OpenBytes(TempDir dir, byte[] bytes, string name = "c.cap")
    {
        var path = dir.File(name);
        File.WriteAllBytes(path, bytes);
        return CaptureFile.Open(path);
    }

    [Fact]
    public void A_capture_reads_back_both_directions_metadata_index_events_and_footer()
    {
        using var dir = new TempDir();
        var (bytes, s2r, r2s) = Sample();
        using var c = OpenBytes(dir, bytes);
        Assert.Equal(CaptureEndState.Complete, c.EndState);
        Assert.Equal(0, c.LostBytes);
        Assert.Equal("4.17", c.Metadata[CaptureMetadata.XenVersion]);
        using (var s = c.OpenDirection(CaptureDirection.SenderToReceiver))
        {
            var got = new byte[s.Length];
            s.ReadExactly(got);
            Assert.Equal(s2r, got);
        }
        using (var s = c.OpenDirection(CaptureDirection.ReceiverToSender))
        {
            var got = new byte[s.Length];
            s.ReadExactly(got);
            Assert.Equal(r2s, got);
        }
        Assert.Equal([20L, 30L], c.Extents(CaptureDirection.SenderToReceiver).Select(e => e.Timestamp));
        Assert.Single(c.RecordedIndex(CaptureDirection.SenderToReceiver));
        Assert.True(c.HasEnded(CaptureDirection.SenderToReceiver));
        Assert.False(c.HasEnded(CaptureDirection.ReceiverToSender));
        Assert.Equal(s2r.Length, c.Footer!.Value.SenderBytes);
        Assert.Equal(r2s.Length, c.Footer!.Value.ReceiverBytes);
        Assert.Equal(CaptureFooter.SenderEnded, c.Footer!.Value.Flags);
    }

    [Fact]
    public void A_capture_cut_at_any_byte_reads_up_to_its_last_complete_chunk_and_reports_the_rest_as_lost()
    {
        using var dir = new TempDir();
        var (bytes, s2r, _) = Sample();
        // Chunk boundaries of the intact file.
        var ends = new List<long>();
        using (var reader = new CaptureReader(new MemoryStream(bytes)))
        {
            while (reader.ReadChunk())
            {
                ends.Add(reader.ValidLength);
            }
        }
        var cuts = new HashSet<int> { CaptureWireHeader, CaptureWireHeader + 1, bytes.Length - 1 };
        var random = new Random(4);
        while (cuts.Count < 60)
        {
            cuts.Add(random.Next(CaptureWireHeader, bytes.Length));
        }
        foreach (var end in ends)
        {
            cuts.Add((int)end);
            cuts.Add((int)end - 1);
        }
        foreach (var cut in cuts)
        {
            using var c = OpenBytes(dir, bytes[..cut], $"cut{cut}.cap");
            var lastWhole = ends.Where(e => e <= cut).DefaultIfEmpty(CaptureWireHeader).Max();
            Assert.Equal(lastWhole, c.ValidLength);
            Assert.Equal(cut - lastWhole, c.LostBytes);
            Assert.Equal(cut == bytes.Length ? CaptureEndState.Complete : cut == lastWhole ? CaptureEndState.Unfinished : CaptureEndState.Truncated, c.EndState);
            using var s = c.OpenDirection(CaptureDirection.SenderToReceiver);
            var got = new byte[s.Length];
            s.ReadExactly(got);
            Assert.Equal(s2r.AsSpan(0, got.Length).ToArray(), got);
        }
    }

    private const int CaptureWireHeader = CaptureWire.FileHeaderSize;

    [Fact]
    public void A_flipped_bit_anywhere_in_a_chunk_is_caught_and_reading_stops_before_that_chunk()
    {
        using var dir = new TempDir();
        var (bytes, _, _) = Sample();
        var starts = new List<(long Start, long End)>();
        using (var reader = new CaptureReader(new MemoryStream(bytes)))
        {
            while (reader.ReadChunk())
            {
                starts.Add((reader.ChunkOffset, reader.ValidLength));
            }
        }
        var random = new Random(6);
        foreach (var (start, end) in starts)
        {
            foreach (var at in new[] { start, start + 5, start + 8, start + 20, end - 1, start + random.NextInt64(end - start) })
            {
                var damaged = (byte[])bytes.Clone();
                damaged[at] ^= (byte)(1 << random.Next(8));
                using var reader = new CaptureReader(new MemoryStream(damaged));
                while (reader.ReadChunk())
                {
                }
                Assert.Equal(CaptureEndState.Corrupt, reader.EndState == CaptureEndState.Truncated ? CaptureEndState.Corrupt : reader.EndState);
                Assert.Equal(start, reader.ValidLength);
                Assert.Equal(bytes.Length - start, reader.LostBytes);
            }
        }
    }

    [Fact]
    public void A_huge_declared_length_is_damage_not_an_allocation()
    {
        var (bytes, _, _) = Sample();
        var damaged = (byte[])bytes.Clone();
        // The first chunk's payload length field.
        BitConverter.GetBytes(int.MaxValue).CopyTo(damaged, CaptureWire.FileHeaderSize + CaptureWire.ChunkLengthOffset);
        using var reader = new CaptureReader(new MemoryStream(damaged));
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(reader.ReadChunk());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Equal(CaptureEndState.Corrupt, reader.EndState);
        Assert.Contains("limit", reader.Problem, StringComparison.Ordinal);

        // Within the cap but past the end of a non-seekable input: the buffer grows only with the bytes that arrive.
        var lying = bytes[..(CaptureWire.FileHeaderSize + CaptureWire.ChunkHeaderSize)];
        BitConverter.GetBytes(CaptureWire.MaxChunkPayload).CopyTo(lying, CaptureWire.FileHeaderSize + CaptureWire.ChunkLengthOffset);
        using var pipe = new CaptureReader(new Support.TrickleStream(lying));
        before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(pipe.ReadChunk());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Equal(CaptureEndState.Truncated, pipe.EndState);
    }

    [Fact]
    public void A_file_that_is_not_a_capture_is_refused_with_a_clear_message()
    {
        var e = Assert.Throws<CaptureFormatException>(() => new CaptureReader(new MemoryStream(new byte[64])));
        Assert.Contains("bad magic", e.Message, StringComparison.Ordinal);
        var (bytes, _, _) = Sample();
        bytes[CaptureWire.HeaderStartOffset] ^= 1;
        e = Assert.Throws<CaptureFormatException>(() => new CaptureReader(new MemoryStream(bytes)));
        Assert.Contains("CRC32C", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_capture_without_footer_is_unfinished_but_fully_readable()
    {
        using var dir = new TempDir();
        var (bytes, s2r, _) = Sample(complete: false);
        using var c = OpenBytes(dir, bytes);
        Assert.Equal(CaptureEndState.Unfinished, c.EndState);
        Assert.Equal(0, c.LostBytes);
        Assert.Null(c.Footer);
        Assert.Equal(s2r.Length, c.LengthOf(CaptureDirection.SenderToReceiver));
    }

    [Fact]
    public void Metadata_round_trips_and_rejects_lengths_past_the_payload()
    {
        var m = new CaptureMetadata { ["a"] = "1", ["host"] = "h\u00e9" };
        m["a"] = "2";
        var back = CaptureMetadata.Parse(m.ToPayload())!;
        Assert.Equal("2", back["a"]);
        Assert.Equal("h\u00e9", back["host"]);
        var payload = m.ToPayload();
        payload[^4] = 0xFF;
        Assert.Null(CaptureMetadata.Parse(payload.AsSpan(0, payload.Length - 1)));
    }
}
