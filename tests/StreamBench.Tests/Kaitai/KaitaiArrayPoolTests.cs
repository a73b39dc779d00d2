using Kaitai;
using StreamBench.Tests.Support;
using Xunit;

namespace StreamBench.Tests.Kaitai;

/// <summary>
/// The runtime's array pool (KaitaiStream.UsePool), which the streaming <c>dump --kaitai</c> uses so that a printed
/// record's body and pages are read into again by the next records: exact lengths, only while a pool is in use, only
/// arrays of a page or more, bounded, and the bytes of a reused array are the new read's.
/// </summary>
public sealed class KaitaiArrayPoolTests
{
    private static byte[] Pattern(int length, byte seed) => Enumerable.Range(0, length).Select(i => (byte)(i * 7 + seed)).ToArray();

    [Fact]
    public void A_returned_array_is_read_into_again_with_the_new_bytes()
    {
        var pool = new KaitaiArrayPool();
        var input = Pattern(3 * 4096, 1);
        using (KaitaiStream.UsePool(pool))
        {
            var io = new KaitaiStream(input);
            var first = io.ReadBytes(4096);
            pool.Return(first);
            var second = io.ReadBytes(4096);
            Assert.Same(first, second);
            Assert.Equal(input.AsSpan(4096, 4096).ToArray(), second);
            Assert.Equal(1, pool.Reused);
            Assert.Equal(0, pool.HeldBytes);
            // Another length never gets it.
            pool.Return(second);
            Assert.Equal(4000, io.ReadBytes(4000).Length);
            Assert.Equal(4096, pool.HeldBytes);
        }
    }

    [Fact]
    public void Without_a_pool_in_use_or_for_short_reads_every_read_is_a_new_array()
    {
        var pool = new KaitaiArrayPool();
        var spare = new byte[4096];
        pool.Return(spare);
        var io = new KaitaiStream(Pattern(2 * 4096, 2));
        Assert.NotSame(spare, io.ReadBytes(4096)); // no UsePool
        using (KaitaiStream.UsePool(pool))
        {
            pool.Return(new byte[100]); // below MinLength: not kept
            Assert.Equal(4096, pool.HeldBytes);
            Assert.Equal(100, io.ReadBytes(100).Length);
            Assert.Equal(0, pool.Reused);
        }
    }

    [Fact]
    public void The_pool_keeps_no_more_than_its_bound()
    {
        var pool = new KaitaiArrayPool(maxBytes: 8192);
        pool.Return(new byte[4096]);
        pool.Return(new byte[4096]);
        pool.Return(new byte[4096]);
        Assert.Equal(8192, pool.HeldBytes);
    }

    [Fact]
    public void From_a_pipe_a_large_read_takes_only_an_array_returned_before_never_a_new_one_of_the_untrusted_length()
    {
        var input = Pattern(3 * 65536, 4);
        var pool = new KaitaiArrayPool();
        using (KaitaiStream.UsePool(pool))
        {
            var io = KaitaiStream.Windowed(new TrickleStream(input), 4096);
            var first = io.ReadBytes(65536); // grown as the pipe delivers, as without a pool
            Assert.Equal(0, pool.Reused);
            pool.Return(first);
            var second = io.ReadBytes(65536);
            Assert.Same(first, second);
            Assert.Equal(input.AsSpan(65536, 65536).ToArray(), second);
            // A length nobody returned is not allocated up front: a lying length meets the end of the pipe.
            Assert.Throws<EndOfStreamException>(() => io.ReadBytes(1 << 30));
            Assert.Equal(1, pool.Reused);
        }
    }

    [Fact]
    public void A_windowed_file_reads_a_body_larger_than_the_window_into_a_pooled_array()
    {
        var path = Path.GetTempFileName();
        try
        {
            var input = Pattern(3 * 65536, 3);
            File.WriteAllBytes(path, input);
            var pool = new KaitaiArrayPool();
            using var file = File.OpenRead(path);
            using (KaitaiStream.UsePool(pool))
            {
                var io = KaitaiStream.Windowed(file, 4096);
                var first = io.ReadBytes(65536);
                pool.Return(first);
                var second = io.ReadBytes(65536);
                Assert.Same(first, second);
                Assert.Equal(input.AsSpan(65536, 65536).ToArray(), second);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
