using StreamBench.Domain;
using StreamBench.Engine.Restore;
using StreamBench.Engine.Save;
using StreamBench.Formats;
using StreamBench.Formats.Streams;
using StreamBench.Tests.Engine;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Streams;

/// <summary>
/// The read-ahead source (a reader thread filling buffers while the consumer works) must hand out exactly the bytes
/// and positions the plain buffered source does, whatever the read sizes, raise a read error only after every byte
/// read before it, and leave a restore's results and error messages unchanged.
/// </summary>
public sealed class ReadAheadByteSourceTests
{
    private static byte[] Pattern(int length)
    {
        var data = new byte[length];
        new Random(11).NextBytes(data);
        return data;
    }

    // Ensure/Peek/Advance, Read and Skip in a mixed, seeded order over small chunks and irregular reads: the bytes and
    // positions agree with the data everywhere, including across the stitch of two reads.
    [Theory]
    [InlineData(4096, 2, 1)]
    [InlineData(4096, 3, 2)]
    [InlineData(65536, 6, 3)]
    public void Hands_out_the_same_bytes_and_positions_as_the_input(int chunkSize, int chunks, int seed)
    {
        byte[] data = Pattern(700_000);
        using var source = new ReadAheadByteSource(new TrickleStream(data, maxChunk: 5000, seed: seed), ownsStream: true, chunkSize, chunks);
        var random = new Random(seed);
        long pos = 0;
        var buffer = new byte[3 * chunkSize];
        while (pos < data.Length)
        {
            Assert.Equal(pos, source.Position);
            int left = (int)Math.Min(int.MaxValue, data.Length - pos);
            switch (random.Next(3))
            {
                case 0:
                    int want = 1 + random.Next(chunkSize);
                    bool ok = source.Ensure(want);
                    Assert.Equal(want <= left, ok);
                    int n = Math.Min(want, left);
                    if (ok)
                    {
                        Assert.True(source.Peek(want).SequenceEqual(data.AsSpan((int)pos, want)), $"peek at {pos}");
                    }
                    else
                    {
                        Assert.Equal(left, source.Available);
                    }

                    source.Advance(n);
                    pos += n;
                    break;
                case 1:
                    int count = 1 + random.Next(buffer.Length);
                    int got = source.Read(buffer.AsSpan(0, count));
                    Assert.Equal(Math.Min(count, left), got);
                    Assert.True(buffer.AsSpan(0, got).SequenceEqual(data.AsSpan((int)pos, got)), $"read at {pos}");
                    pos += got;
                    break;
                default:
                    long skip = 1 + random.Next(2 * chunkSize);
                    Assert.Equal(Math.Min(skip, left), source.Skip(skip));
                    pos += Math.Min(skip, left);
                    break;
            }
        }

        Assert.Equal(data.Length, source.Position);
        Assert.True(source.AtEnd);
        Assert.Equal(0, source.Read(buffer));
    }

    // A failing read on the reader thread: the consumer first gets every byte read before it, then the error, as an
    // IOException, at the position where the bytes stop.
    [Fact]
    public void A_read_error_comes_after_every_byte_read_before_it()
    {
        byte[] data = Pattern(50_000);
        using var source = new ReadAheadByteSource(new FailingStream(data, failAfter: 30_000), ownsStream: true, chunkSize: 4096, chunks: 3);
        var buffer = new byte[30_000];
        Assert.Equal(30_000, source.Read(buffer));
        Assert.True(buffer.AsSpan().SequenceEqual(data.AsSpan(0, 30_000)));
        var e = Assert.Throws<IOException>(() => source.Ensure(1));
        Assert.Contains("the peer went away", e.Message, StringComparison.Ordinal);
        Assert.Equal(30_000, source.Position);
        Assert.Throws<IOException>(() => source.Read(buffer)); // and again: the error stays
    }

    // A peer that sends a few bytes and then waits for an answer (a Remus or COLO checkpoint) must not be stalled: the
    // bytes of each read are handed over at once, not held back to fill a buffer. (This test hangs if they are not:
    // the pipe stays open; the wait below only turns a hang into a failure.)
    [Fact]
    public async Task Bytes_of_a_short_read_are_handed_over_while_the_writer_waits()
    {
        using var server = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
        using var client = new System.IO.Pipes.AnonymousPipeClientStream(System.IO.Pipes.PipeDirection.In, server.ClientSafePipeHandle);
        using var source = new ReadAheadByteSource(client, ownsStream: false, chunkSize: 65536, chunks: 2);
        server.Write([1, 2, 3, 4, 5]);
        server.Flush();
        var read = Task.Run(() => source.Ensure(5) && source.Peek(5).SequenceEqual(new byte[] { 1, 2, 3, 4, 5 }));
        Task first = await Task.WhenAny(read, Task.Delay(TimeSpan.FromMinutes(2)));
        Assert.True(first == read, "the consumer did not get the 5 bytes the writer sent");
        Assert.True(await read);
        source.Advance(5);
        server.Write([6]);
        server.Dispose(); // the end
        Assert.True(source.Ensure(1));
        Assert.Equal(6, source.Peek(1)[0]);
        source.Advance(1);
        Assert.True(source.AtEnd);
    }

    private static byte[] SaveHvm(out string digest)
    {
        using GuestDomain d = EngineTestSupport.Build(GuestType.Hvm, 8, 2, 3);
        digest = d.ComputeDigest().ToString();
        return EngineTestSupport.Save(d, new SaveOptions { Format = SaveFormat.Xl });
    }

    // A whole restore through the read-ahead source (irregular reads, small chunks) restores the same domain.
    [Fact]
    public void A_restore_through_the_read_ahead_source_restores_the_same_domain()
    {
        byte[] stream = SaveHvm(out string digest);
        using var source = new ReadAheadByteSource(new TrickleStream(stream, maxChunk: 70_000), ownsStream: true, chunkSize: 65536, chunks: 3);
        RestoreResult result = RestoreEngine.Restore(source);
        using GuestDomain restored = result.Domain;
        Assert.Equal(digest, restored.ComputeDigest().ToString());
        Assert.Equal(stream.Length, result.Bytes);
    }

    // A stream cut inside a PAGE_DATA body and inside a record header: the restore's error through the read-ahead
    // source is the one of the plain source, word for word (offset, record, field).
    [Theory]
    [InlineData(0.5)]
    [InlineData(0.8)]
    public void A_cut_stream_fails_with_the_same_error_through_the_read_ahead_source(double at)
    {
        byte[] stream = SaveHvm(out _);
        byte[] cut = stream.AsSpan(0, (int)(stream.Length * at)).ToArray();
        var plain = Assert.Throws<StreamFormatException>(() => RestoreEngine.Restore(ByteSource.FromStream(new TrickleStream(cut))));
        using var source = new ReadAheadByteSource(new TrickleStream(cut, maxChunk: 9000), ownsStream: true, chunkSize: 8192, chunks: 2);
        var ahead = Assert.Throws<StreamFormatException>(() => RestoreEngine.Restore(source));
        Assert.Equal(plain.Message, ahead.Message);
        Assert.True(ahead.IsTruncation);
        Assert.Equal(plain.Offset, ahead.Offset);
        Assert.Equal(plain.Field, ahead.Field);
    }

    /// <summary>Hands out <c>failAfter</c> bytes in small reads, then fails as a broken connection does.</summary>
    private sealed class FailingStream(byte[] data, int failAfter) : Stream
    {
        private int _pos;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _pos; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_pos >= failAfter)
            {
                throw new IOException("the peer went away");
            }

            int n = Math.Min(Math.Min(count, failAfter - _pos), 3000);
            data.AsSpan(_pos, n).CopyTo(buffer.AsSpan(offset));
            _pos += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
