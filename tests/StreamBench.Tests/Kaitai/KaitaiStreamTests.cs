using System.IO.Compression;
using Kaitai;
using Xunit;

namespace StreamBench.Tests.Kaitai;

/// <summary>The project's Kaitai runtime (src/StreamBench.Kaitai) behaves as kaitai-struct-compiler's C# output expects.</summary>
public class KaitaiStreamTests
{
    private static readonly byte[] Sample = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xF0, 0xFF, 0x80, 0x00];

    [Fact]
    public void Unsigned_reads_decode_both_byte_orders()
    {
        var le = new KaitaiStream(Sample);
        Assert.Equal(0x01, le.ReadU1());
        Assert.Equal(0x0302, le.ReadU2le());
        Assert.Equal(0x07060504u, le.ReadU4le());
        Assert.Equal(7, le.Pos);

        var be = new KaitaiStream(Sample);
        Assert.Equal(0x0102, be.ReadU2be());
        Assert.Equal(0x03040506u, be.ReadU4be());

        Assert.Equal(0x0807060504030201ul, new KaitaiStream(Sample).ReadU8le());
        Assert.Equal(0x0102030405060708ul, new KaitaiStream(Sample).ReadU8be());
    }

    [Fact]
    public void Signed_reads_sign_extend_in_both_byte_orders()
    {
        var io = new KaitaiStream(Sample);
        io.Seek(8);
        Assert.Equal(-16, io.ReadS1());
        Assert.Equal(-1, io.ReadS1());
        io.Seek(8);
        Assert.Equal(unchecked((short)0xFFF0), io.ReadS2le());
        io.Seek(8);
        Assert.Equal(unchecked((short)0xF0FF), io.ReadS2be());
        io.Seek(8);
        Assert.Equal(0x0080FFF0, io.ReadS4le());
        io.Seek(8);
        Assert.Equal(unchecked((int)0xF0FF8000), io.ReadS4be());

        var minus2 = new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
        Assert.Equal(-2L, new KaitaiStream(minus2).ReadS8le());
        Assert.Equal(unchecked((long)0xFEFFFFFFFFFFFFFFul), new KaitaiStream(minus2).ReadS8be());
    }

    [Fact]
    public void Float_reads_decode_both_byte_orders()
    {
        var bytes = new WireBytes()
            .Raw(BitConverter.GetBytes(1.5f))
            .Raw(BitConverter.GetBytes(-2.25).Reverse().ToArray())
            .ToArray();
        var io = new KaitaiStream(bytes);
        Assert.Equal(1.5f, io.ReadF4le());
        Assert.Equal(-2.25, io.ReadF8be());

        var io2 = new KaitaiStream(new WireBytes().Raw(BitConverter.GetBytes(3.0f).Reverse().ToArray()).Raw(BitConverter.GetBytes(0.5)).ToArray());
        Assert.Equal(3.0f, io2.ReadF4be());
        Assert.Equal(0.5, io2.ReadF8le());
    }

    [Fact]
    public void Reading_past_the_end_throws_EndOfStream_naming_the_position_and_leaves_the_position_unchanged()
    {
        var io = new KaitaiStream(Sample);
        io.Seek(10);
        var e = Assert.Throws<EndOfStreamException>(() => io.ReadU4le());
        Assert.Contains("position 10", e.Message);
        Assert.Contains("requested 4", e.Message);
        Assert.Contains("12", e.Message);
        Assert.Equal(10, io.Pos);

        Assert.Throws<EndOfStreamException>(() => io.ReadBytes(3));
        Assert.Equal(0x80, io.ReadU1());
        Assert.Equal(0x00, io.ReadU1());
        Assert.True(io.IsEof);
        Assert.Throws<EndOfStreamException>(() => io.ReadU1());
        Assert.Throws<EndOfStreamException>(() => io.ReadS8be());
        Assert.Throws<EndOfStreamException>(() => io.ReadF8le());
    }

    [Fact]
    public void ReadBytes_copies_exactly_the_requested_octets_and_rejects_impossible_counts()
    {
        var io = new KaitaiStream(Sample);
        var first = io.ReadBytes(3);
        Assert.Equal(new byte[] { 1, 2, 3 }, first);
        first[0] = 99;
        io.Seek(0);
        Assert.Equal(1, io.ReadU1());
        Assert.Empty(io.ReadBytes(0L));
        Assert.Equal(new byte[] { 2, 3 }, io.ReadBytes(2ul));
        Assert.Throws<ArgumentOutOfRangeException>(() => io.ReadBytes(-1L));
        Assert.Throws<ArgumentOutOfRangeException>(() => io.ReadBytes((ulong)int.MaxValue + 1));
        Assert.Equal(Sample[3..], io.ReadBytesFull());
        Assert.True(io.IsEof);
        Assert.Empty(io.ReadBytesFull());
    }

    [Fact]
    public void ReadBytesTerm_honours_include_consume_and_eos_error()
    {
        var data = "key\0value\0tail"u8.ToArray();

        var io = new KaitaiStream(data);
        Assert.Equal("key"u8.ToArray(), io.ReadBytesTerm(0, false, true, true));
        Assert.Equal(4, io.Pos);
        Assert.Equal("value\0"u8.ToArray(), io.ReadBytesTerm(0, true, true, true));
        Assert.Equal(10, io.Pos);

        var noConsume = new KaitaiStream(data);
        Assert.Equal("key"u8.ToArray(), noConsume.ReadBytesTerm(0, false, false, true));
        Assert.Equal(3, noConsume.Pos);
        Assert.Equal(0, noConsume.ReadU1());

        io.Seek(10);
        var e = Assert.Throws<EndOfStreamException>(() => io.ReadBytesTerm(0, false, true, true));
        Assert.Contains("terminator", e.Message);
        Assert.Contains("position 10", e.Message);
        Assert.Equal("tail"u8.ToArray(), io.ReadBytesTerm(0, false, true, false));
        Assert.True(io.IsEof);
    }

    [Fact]
    public void ReadBytesTermMulti_finds_only_aligned_terminators()
    {
        // UTF-16LE "A\u0100" then NUL: the 0x00,0x00 straddling the first two units must not match.
        var data = new byte[] { 0x41, 0x00, 0x00, 0x01, 0x00, 0x00, 0x42, 0x00 };
        var io = new KaitaiStream(data);
        Assert.Equal(new byte[] { 0x41, 0x00, 0x00, 0x01 }, io.ReadBytesTermMulti([0, 0], false, true, true));
        Assert.Equal(6, io.Pos);
        Assert.Throws<EndOfStreamException>(() => io.ReadBytesTermMulti([0, 0], false, true, true));
        Assert.Equal(new byte[] { 0x42, 0x00 }, io.ReadBytesTermMulti([0, 0], true, true, false));
    }

    [Fact]
    public void Bit_reads_follow_big_and_little_bit_endianness_and_align_on_byte_reads()
    {
        var be = new KaitaiStream([0b1011_0011, 0xAB]);
        Assert.Equal(0b101ul, be.ReadBitsIntBe(3));
        Assert.Equal(0b10011ul, be.ReadBitsIntBe(5));
        Assert.Equal(0xABul, be.ReadBitsIntBe(8));

        var le = new KaitaiStream([0b1011_0011, 0xAB]);
        Assert.Equal(0b011ul, le.ReadBitsIntLe(3));
        Assert.Equal(0b10110ul, le.ReadBitsIntLe(5));
        Assert.Equal(0xABul, le.ReadBitsIntLe(8));

        // A byte-aligned read drops the rest of a partly read byte.
        var mixed = new KaitaiStream([0xFF, 0x12]);
        Assert.Equal(1ul, mixed.ReadBitsIntBe(1));
        Assert.False(mixed.IsEof);
        Assert.Equal(0x12, mixed.ReadU1());
        Assert.True(mixed.IsEof);

        // 64-bit fields, and fields crossing bytes.
        var word = new WireBytes().U64(0xF123_4567_89AB_CDEFul).ToArray();
        Assert.Equal(0xF123_4567_89AB_CDEFul, new KaitaiStream(word).ReadBitsIntLe(64));
        var split = new KaitaiStream(word);
        Assert.Equal(0x09AB_CDEFul, split.ReadBitsIntLe(28));
        Assert.Equal(0x8ul, split.ReadBitsIntLe(4));
        Assert.Equal(0xF123_4567ul, split.ReadBitsIntLe(32));
        Assert.Equal(0xEFCD_AB89_6745_23F1ul, new KaitaiStream(word).ReadBitsIntBe(64));
        Assert.Throws<EndOfStreamException>(() => new KaitaiStream([1]).ReadBitsIntBe(9));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KaitaiStream(word).ReadBitsIntLe(65));
    }

    [Fact]
    public void Integer_and_float_reads_allocate_nothing()
    {
        var io = new KaitaiStream(new byte[128]);
        ReadAll(io); // JIT and tiering first

        var before = GC.GetAllocatedBytesForCurrentThread();
        ulong sink = 0;
        for (var i = 0; i < 10_000; i++)
        {
            sink += ReadAll(io);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0L, allocated);
        Assert.Equal(0ul, sink);
    }

    private static ulong ReadAll(KaitaiStream io)
    {
        io.Seek(0);
        ulong sum = io.ReadU1() + (ulong)io.ReadS1() + io.ReadU2le() + io.ReadU2be() + (ulong)io.ReadS2le() + (ulong)io.ReadS2be()
            + io.ReadU4le() + io.ReadU4be() + (ulong)io.ReadS4le() + (ulong)io.ReadS4be()
            + io.ReadU8le() + io.ReadU8be() + (ulong)io.ReadS8le() + (ulong)io.ReadS8be()
            + (ulong)io.ReadF4le() + (ulong)io.ReadF4be() + (ulong)io.ReadF8le() + (ulong)io.ReadF8be()
            + io.ReadBitsIntBe(3) + io.ReadBitsIntLe(13);
        return sum + (io.IsEof ? 1ul : 0ul) + (ulong)io.Pos - (ulong)io.Pos;
    }

    [Fact]
    public void Positioning_reports_pos_size_and_eof_and_rejects_negative_seeks()
    {
        var io = new KaitaiStream(new ReadOnlyMemory<byte>(Sample, 2, 4));
        Assert.Equal(4, io.Size);
        Assert.Equal(0, io.Pos);
        Assert.Equal(3, io.ReadU1());
        io.Seek(4);
        Assert.True(io.IsEof);
        io.Seek(100);
        Assert.True(io.IsEof);
        Assert.Throws<EndOfStreamException>(() => io.ReadU1());
        Assert.Empty(io.ReadBytes(0));
        Assert.Empty(io.ReadBytesFull());
        Assert.Empty(io.ReadBytesTerm(0, false, true, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => io.Seek(-1));
        Assert.Equal(Sample[2..6], io.ToByteArray());
    }

    [Fact]
    public void Stream_constructor_keeps_a_seekable_stream_position_and_reads_a_pipe_from_zero()
    {
        using var seekable = new MemoryStream(Sample);
        seekable.Position = 3;
        var io = new KaitaiStream(seekable);
        Assert.Equal(3, io.Pos);
        Assert.Equal(12, io.Size);
        Assert.Equal(0x04, io.ReadU1());
        Assert.Equal(3, seekable.Position);

        using var pipe = new NonSeekableStream(Sample);
        var piped = new KaitaiStream(pipe);
        Assert.Equal(0, piped.Pos);
        Assert.Equal(0x0807060504030201ul, piped.ReadU8le());
    }

    [Fact]
    public void File_constructor_reads_the_file()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, Sample);
            Assert.Equal(0x04030201u, new KaitaiStream(path).ReadU4le());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Static_helpers_match_the_ksy_semantics()
    {
        Assert.Equal(2, KaitaiStream.Mod(-1, 3));
        Assert.Equal(1L, KaitaiStream.Mod(7L, 3L));
        Assert.Equal(0, KaitaiStream.Mod(8 - KaitaiStream.Mod(16, 8), 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => KaitaiStream.Mod(1, 0));

        Assert.Equal(0, KaitaiStream.ByteArrayCompare([1, 2], [1, 2]));
        Assert.True(KaitaiStream.ByteArrayCompare([1, 2], [1, 3]) < 0);
        Assert.True(KaitaiStream.ByteArrayCompare([0xFF], [0x01]) > 0);
        Assert.True(KaitaiStream.ByteArrayCompare([1], [1, 0]) < 0);

        Assert.Equal(new byte[] { 1, 0, 2 }, KaitaiStream.BytesStripRight([1, 0, 2, 0, 0], 0));
        Assert.Equal(new byte[] { 1 }, KaitaiStream.BytesTerminate([1, 0, 2], 0, false));
        Assert.Equal(new byte[] { 1, 0 }, KaitaiStream.BytesTerminate([1, 0, 2], 0, true));
        Assert.Equal(new byte[] { 1, 2 }, KaitaiStream.BytesTerminate([1, 2], 0, true));
        Assert.Equal(new byte[] { 0x41, 0x00 }, KaitaiStream.BytesTerminateMulti([0x41, 0x00, 0x00, 0x00], [0, 0], false));

        Assert.Equal("cba", KaitaiStream.StringReverse("abc"));
    }

    [Fact]
    public void Process_helpers_xor_rotate_and_inflate()
    {
        var io = new KaitaiStream([]);
        Assert.Equal(new byte[] { 0x55 ^ 1, 0x55 ^ 2 }, io.ProcessXor([1, 2], 0x55));
        Assert.Equal(new byte[] { 1 ^ 0xA, 2 ^ 0xB, 3 ^ 0xA }, io.ProcessXor([1, 2, 3], [0xA, 0xB]));
        Assert.Equal(new byte[] { 0b0000_0011 }, io.ProcessRotateLeft([0b1000_0001], 1, 1));
        Assert.Equal(new byte[] { 0b1100_0000 }, io.ProcessRotateLeft([0b1000_0001], -1, 1));

        var payload = "Xen saved domain"u8.ToArray();
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(payload);
        }

        Assert.Equal(payload, io.ProcessZlib(compressed.ToArray()));
    }

    [Fact]
    public void Validation_errors_name_the_ksy_path_and_the_stream_position()
    {
        var io = new KaitaiStream(Sample);
        io.Seek(5);
        var notEqual = new ValidationNotEqualError(new byte[] { 0xAB }, new byte[] { 0x01, 0x02 }, io, "/seq/0");
        Assert.StartsWith("/seq/0: at pos 5: validation failed: not equal, expected [AB], but got [01 02]", notEqual.Message);
        Assert.Equal("/seq/0", notEqual.SrcPath);
        Assert.IsAssignableFrom<KaitaiStructError>(notEqual);

        Assert.Contains("expected 2, but got 3", new ValidationNotEqualError(2u, 3u, io, "/x").Message);
        Assert.Contains("min 1, but got 0", new ValidationLessThanError(1, 0, io, "/x").Message);
        Assert.Contains("max 5, but got 9", new ValidationGreaterThanError(5, 9u, io, "/x").Message);
        Assert.Contains("not any of the list, got 7", new ValidationNotAnyOfError(7, io, "/x").Message);
        Assert.Contains("not in the enum, got 7", new ValidationNotInEnumError(7, io, "/x").Message);
        Assert.Contains("not matching the expression, got [00]", new ValidationExprError(new byte[] { 0 }, io, "/x").Message);
    }

    private sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 5));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>The windowed KaitaiStream reads what the in-memory one reads, across window refills, from a file or a pipe.</summary>
public class WindowedKaitaiStreamTests
{
    private static byte[] Data(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 7 + (i >> 8))).ToArray();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Reads_across_the_window_match_the_in_memory_stream(bool seekable)
    {
        var data = Data(10_000);
        var w = KaitaiStream.Windowed(seekable ? new MemoryStream(data) : new StreamBench.Tests.Support.TrickleStream(data, 37), 64);
        var m = new KaitaiStream(data);
        Assert.Equal(m.ReadU4le(), w.ReadU4le());
        Assert.Equal(m.ReadBytes(61), w.ReadBytes(61));       // ends past the first window
        Assert.Equal(m.ReadU8be(), w.ReadU8be());
        Assert.Equal(m.ReadBytes(5000), w.ReadBytes(5000));   // larger than the window: straight from the source
        Assert.Equal(m.ReadU2le(), w.ReadU2le());
        Assert.Equal(m.ReadBitsIntBe(3), w.ReadBitsIntBe(3));
        Assert.Equal(m.ReadBytesTerm(0xFF, false, true, false), w.ReadBytesTerm(0xFF, false, true, false));
        Assert.Equal(m.Pos, w.Pos);
        Assert.False(w.IsEof);
        w.Seek(w.Pos + 100);
        m.Seek(m.Pos + 100);
        Assert.Equal(m.ReadBytesFull(), w.ReadBytesFull());
        Assert.True(w.IsEof);
        Assert.Equal(10_000, w.Size);
    }

    [Fact]
    public void Reading_past_the_end_of_a_pipe_names_the_position_and_the_size()
    {
        var w = KaitaiStream.Windowed(new StreamBench.Tests.Support.TrickleStream(Data(100), 9), 64);
        w.ReadBytes(90);
        var e = Assert.Throws<EndOfStreamException>(() => w.ReadU8le().ToString(System.Globalization.CultureInfo.InvariantCulture) + w.ReadU8le());
        Assert.Contains("position 98", e.Message, StringComparison.Ordinal);
        Assert.Contains("stream of 100 byte(s)", e.Message, StringComparison.Ordinal);
        // A long read of an untrusted length fails at the pipe's end without allocating the length.
        var big = KaitaiStream.Windowed(new StreamBench.Tests.Support.TrickleStream(Data(1000), 100), 64);
        Assert.Throws<EndOfStreamException>(() => big.ReadBytes(int.MaxValue));
    }

    [Fact]
    public void A_seekable_source_is_checked_against_its_length_before_a_long_read()
    {
        var w = KaitaiStream.Windowed(new MemoryStream(Data(1000)), 64);
        Assert.Equal(1000, w.Size);
        Assert.Throws<EndOfStreamException>(() => w.ReadBytes(2000));
        Assert.Equal(0, w.Pos);
        w.Seek(990);
        Assert.Equal(Data(1000)[990..], w.ReadBytesFull());
        w.Seek(10); // back, on a seekable source
        Assert.Equal(Data(1000)[10], w.ReadU1());
    }
}
