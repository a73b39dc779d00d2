using StreamBench.Capture.Format;
using Xunit;

namespace StreamBench.Tests.Capture;

public sealed class Crc32CTests
{
    [Fact]
    public void Check_value_of_123456789_is_E3069283()
    {
        Assert.Equal(0xE306_9283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Hardware_and_interleaved_paths_agree_with_the_table_for_every_length_and_alignment()
    {
        var random = new Random(5);
        var data = new byte[3 * 4096 * 3 + 123];
        random.NextBytes(data);
        foreach (var length in new[] { 0, 1, 7, 8, 9, 63, 4095, 4096, 12287, 12288, 12289, 24576 + 13, 3 * 4096 * 3 })
        {
            for (var offset = 0; offset < 3; offset++)
            {
                var span = data.AsSpan(offset, Math.Min(length, data.Length - offset));
                Assert.Equal(~Crc32C.UpdateSoftware(~0u, span), Crc32C.Compute(span));
            }
        }
    }

    [Fact]
    public void Append_equals_compute_of_the_concatenation()
    {
        var random = new Random(9);
        var a = new byte[5000];
        var b = new byte[20000];
        random.NextBytes(a);
        random.NextBytes(b);
        Assert.Equal(Crc32C.Compute([.. a, .. b]), Crc32C.Append(Crc32C.Compute(a), b));
    }

    [Fact]
    public void Every_single_bit_flip_changes_the_crc()
    {
        var data = new byte[256];
        new Random(1).NextBytes(data);
        var crc = Crc32C.Compute(data);
        for (var bit = 0; bit < data.Length * 8; bit++)
        {
            data[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.NotEqual(crc, Crc32C.Compute(data));
            data[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }
}
