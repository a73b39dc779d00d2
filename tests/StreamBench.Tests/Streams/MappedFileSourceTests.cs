using StreamBench.Formats.Streams;
using Xunit;

namespace StreamBench.Tests.Streams;

public sealed class MappedFileSourceTests
{
    // Dense stretches are served from a pread window, sparse ones from the mapping: whichever serves a byte, Peek, Read
    // and Skip must see the file's bytes at the right offsets, across window edges and switches between the two.
    [Fact]
    public void Peek_read_and_skip_see_the_file_bytes_across_window_edges_and_mode_switches()
    {
        var bytes = new byte[(9 << 20) + 12345];
        new Random(15).NextBytes(bytes);
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, bytes);
            using var source = ByteSource.Open(path);
            Assert.IsType<MappedFileSource>(source);
            var random = new Random(7);
            long pos = 0;
            var buffer = new byte[700_000];
            while (pos < bytes.Length)
            {
                Assert.Equal(pos, source.Position);
                switch (random.Next(7))
                {
                    case 0 or 1: // a record header
                    {
                        int n = (int)Math.Min(16, bytes.Length - pos);
                        Assert.True(source.Ensure(n));
                        Assert.True(source.Peek(n).SequenceEqual(bytes.AsSpan((int)pos, n)), $"peek at {pos}");
                        source.Advance(n);
                        pos += n;
                        break;
                    }
                    case 2: // a page read
                    case 3: // a larger read, sometimes over the window's edge
                    {
                        int want = random.Next(2) == 0 ? 4096 : random.Next(1, buffer.Length);
                        int n = source.Read(buffer.AsSpan(0, want));
                        Assert.Equal((int)Math.Min(want, bytes.Length - pos), n);
                        Assert.True(buffer.AsSpan(0, n).SequenceEqual(bytes.AsSpan((int)pos, n)), $"read {want} at {pos}");
                        pos += n;
                        break;
                    }
                    case 4: // a skipped page
                        pos += source.Skip(4104);
                        break;
                    case 5: // a body read in place, larger than the pread window: from the mapping
                    {
                        int n = (int)Math.Min(random.Next(300_000, 600_000), bytes.Length - pos);
                        Assert.True(source.Ensure(n));
                        Assert.True(source.Peek(n).SequenceEqual(bytes.AsSpan((int)pos, n)), $"peek {n} at {pos}");
                        source.Advance(n);
                        pos += n;
                        break;
                    }
                    default: // a skipped batch: the stream turns sparse
                        pos += source.Skip(random.Next(1, 4 << 20));
                        break;
                }

                pos = Math.Min(pos, bytes.Length);
            }

            Assert.False(source.Ensure(1));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
